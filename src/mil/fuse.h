/* Operator fusion over a compiled graph (fuse.c). */
#ifndef CML_MIL_FUSE_H
#define CML_MIL_FUSE_H

#include "mil/mil.h"

/* Folds relu / relu6 / clip into the conv that feeds them, when the conv's
 * result has no other reader: the conv then writes the activation's output
 * with the clamp applied in its gemm epilogue, and the activation node is
 * skipped at run (marked folded). Runs after infer, before planning. */
void cml_mil_fuse_activations(cml_mil_graph *g);

/* Folds an `add` of a conv's result (no other reader; the add the next
 * live node) and another same-shape static tensor into the conv: the conv
 * gets parameter `residual` (the other operand, so the planner keeps it
 * alive) and writes the add's output with r16(r16(conv) + residual) in its
 * epilogue. Runs after cml_mil_fuse_activations, before planning; nothing
 * to reapply after a re-inference (the parameter stays). */
void cml_mil_fuse_residual(cml_mil_graph *g);

/* Applies the clamps of fused activations again after the convs' infer()
 * ran anew (replan.c): fusion state lives in the conv's attr. */
void cml_mil_fuse_reapply(cml_mil_graph *g);

#endif
