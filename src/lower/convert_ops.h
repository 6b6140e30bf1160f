/* The op table (lower_ops.inc) as data: check + convert per aten op. */
#ifndef CML_LOWER_CONVERT_OPS_H
#define CML_LOWER_CONVERT_OPS_H

#include "lower/convert_ctx.h"

typedef struct cml_cv_op_entry {
    const char *name;
    const char *overload;
    uint32_t nin;    /* input args; then out (and the returned out) */
    /* May be called only with nargs verified (>= nin + 1) and every value
     * index in range (the .pte reader guarantees the latter). */
    bool (*check)(const cml_pte_plan *plan, const cml_pte_instruction *ins, const char **why);
    cml_status (*convert)(cml_cv_ctx *c, const cml_pte_instruction *ins);
} cml_cv_op_entry;

#define X(name, overload, nin, stem)                                                  \
    bool cml_lower_check_##stem(const cml_pte_plan *plan, const cml_pte_instruction *ins, \
                                const char **why);                                     \
    cml_status cml_lower_conv_##stem(cml_cv_ctx *c, const cml_pte_instruction *ins);
#include "lower/lower_ops.inc"
#undef X

extern const cml_cv_op_entry cml_lower_op_table[];
extern const size_t cml_lower_op_table_size;

/* The table entry for a kernel call, or NULL. */
const cml_cv_op_entry *cml_lower_find_op(const cml_pte_plan *plan, const cml_pte_instruction *ins);

#endif
