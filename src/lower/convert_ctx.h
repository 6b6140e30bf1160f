/*
 * State of one subgraph's conversion (convert.c, convert_ops.c): the MIL
 * name each ExecuTorch value has become, name counters, and the debug-handle
 * records.
 */
#ifndef CML_LOWER_CONVERT_CTX_H
#define CML_LOWER_CONVERT_CTX_H

#include "lower/lower.h"
#include "lower/mil_write.h"

enum { CV_NONE = 0, CV_VAR, CV_CONST, CV_TCONST };

typedef struct cml_cv_val {
    int kind;             /* CV_*: VAR = a MIL value; CONST = a .pte constant,
                           * emitted on first use; TCONST = a permutation of
                           * the constant `src`, folded on first use */
    char name[96];        /* MIL name once defined / emitted */
    bool emitted;
    int32_t src;
    int32_t perm[CML_MAX_DIMS];
} cml_cv_val;

typedef struct cml_cv_ctx {
    const cml_pte_plan *plan;
    const cml_lower_options *opts;
    cml_milw w;
    cml_cv_val *vals;                 /* per plan value */
    const bool *view;             /* per plan value: cml_lower_find_views */
    uint32_t nconst, ncast, nlinear;
    cml_lbuf dbg_map, dbg_sym, dbg_handles;
    uint32_t handle;              /* current instruction index + 1 */
    uint32_t cur, last;           /* current / last instruction of the group */
    uint32_t fused;               /* instruction index + 1 an op folded in (0: none) */
    bool dbg_open;
    cml_error *err;
} cml_cv_ctx;

/* Helpers shared by the op converters. */
const cml_pte_tensor *cml_cv_tensor(const cml_pte_plan *plan, int32_t idx);
bool cml_cv_is_float_tensor(const cml_pte_plan *plan, int32_t idx);
/* An Int, Double or Bool scalar value as a double. */
bool cml_cv_scalar(const cml_pte_plan *plan, int32_t idx, double *v);
bool cml_cv_scalar_is_one(const cml_pte_plan *plan, int32_t idx);
bool cml_cv_int(const cml_pte_plan *plan, int32_t idx, int64_t *v);
/* Resolves an IntList argument (items are value indices). */
bool cml_cv_int_list(const cml_pte_plan *plan, int32_t idx, int64_t *out, uint32_t max, uint32_t *n);
void cml_cv_type_of(const cml_cv_ctx *c, const cml_pte_tensor *t, cml_milw_type *out);
/* The MIL name of operand value idx, emitting a const if needed. */
cml_status cml_cv_use(cml_cv_ctx *c, int32_t idx, const char **name);
/* Names value idx as the output of an op derived from aten op `op`
 * ("aten::relu" -> "aten_relu_default[_N][_cast_fp16]"); returns the name. */
const char *cml_cv_define(cml_cv_ctx *c, int32_t idx, const char *op);
/* A fresh "const_N" name in buf. */
const char *cml_cv_const_name(cml_cv_ctx *c, char *buf, size_t size);
/* Whether any instruction of chain 0 other than self reads value idx, or it
 * is a plan output. */
bool cml_cv_read_elsewhere(const cml_pte_plan *plan, int32_t idx, const cml_pte_instruction *self);
/* Whether a and b are distinct planned tensors on the same storage (same
 * arena, offset and size): a memory-planned view (flatten, reshape) that the
 * portable program computes with no instruction; one of them must be a
 * view (cml_lower_find_views). */
bool cml_cv_same_storage(const cml_pte_plan *plan, const bool *view, int32_t a, int32_t b);
/* A float scalar const (fp16 when computing in fp16). */
void cml_cv_const_float(cml_cv_ctx *c, const char *name, double v);
/* The MIL name of the weight operand idx of a linear or conv: cml_cv_use,
 * but a constant emitted here goes through cml_cv_const_weight. */
cml_status cml_cv_use_weight(cml_cv_ctx *c, int32_t idx, const char **name);
/* A linear / conv weight (output channels on axis 0): with --quantize int8
 * and at least weight_threshold elements, constexpr_affine_dequantize of
 * int8 data with a scale per output channel (max|w| / 127, zero point 0);
 * otherwise (or when a row is not finite) cml_cv_const_floats. */
cml_status cml_cv_const_weight(cml_cv_ctx *c, const char *name, int32_t rank, const int64_t *dims,
                               const float *data);
/* A float32 constant of the given shape from data (numel floats), stored
 * as fp16 when computing in fp16. */
cml_status cml_cv_const_floats(cml_cv_ctx *c, const char *name, int32_t rank, const int64_t *dims,
                               const float *data);
/* An op with nout outputs (debug record under the first). */
void cml_cv_op_n(cml_cv_ctx *c, const char *type, const cml_milw_arg *args, unsigned nargs,
                 const char *const *out_names, const cml_milw_type *ts, unsigned nout,
                 const char *name_attr);
/* Emits an op (and its debug-handle record). */
void cml_cv_op(cml_cv_ctx *c, const char *type, const cml_milw_arg *args, unsigned nargs,
           const char *out_name, const cml_milw_type *t, const char *name_attr);

#endif
