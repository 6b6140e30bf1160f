/*
 * The rewritten plan before serialization (pte_plan.c builds it,
 * pte_write.c writes it): new instruction list, kept values renumbered,
 * constants and memory plan redone.
 */
#ifndef CML_LOWER_PTE_PLAN_H
#define CML_LOWER_PTE_PLAN_H

#include "lower/lower.h"

typedef struct lw_instr {
    const cml_pte_instruction *src;  /* kept instruction, or NULL: new delegate call */
    uint32_t delegate;               /* new delegate index (delegate calls) */
    int32_t *args;                   /* new value indices (delegate call args, or remapped) */
    uint32_t nargs;
} lw_instr;

typedef struct lw_delegate {
    const uint8_t *data;             /* processed blob */
    size_t size;
    uint32_t segment;                /* segment index once laid out */
    const cml_pte_delegate *src;     /* kept delegate (--relower), or NULL: new Core ML */
} lw_delegate;

typedef struct lw_plan {
    const cml_pte_plan *src;
    lw_instr *instrs;
    uint32_t ninstrs;
    int32_t *old_to_new;             /* per source value; -1 dropped */
    int32_t *new_to_old;
    uint32_t nvalues;
    uint32_t *const_idx;             /* per new value: new data_buffer_idx (0: none) */
    uint64_t *mem_offset;            /* per new value: arena offset (planned only) */
    uint64_t arena_size;
    uint32_t *op_map;                /* per source operator: new index, UINT32_MAX dropped */
    uint32_t noperators;
    lw_delegate *delegates;
    uint32_t ndelegates;
} lw_plan;

/* Builds lp for plan with its groups/delegates; constants are appended to
 * *consts (16-padded, offsets pushed to const_offsets from *nconst). */
cml_status cml_lw_plan_build(const cml_pte_plan *plan, const cml_lower_plan_result *r,
                             lw_plan *lp, cml_lbuf *consts, cml_lbuf *const_offsets,
                             uint32_t *nconst, cml_error *err);
void cml_lw_plan_free(lw_plan *lp);

#endif
