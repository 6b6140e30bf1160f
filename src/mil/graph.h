/*
 * The ML Program executor's graph lifecycle (compile.c, plan.c, run.c):
 * MILSpec function -> compiled, planned cml_mil_graph -> runs.
 */
#ifndef CML_MIL_GRAPH_H
#define CML_MIL_GRAPH_H

#include "coreml.pb-c.h"

#include "coreml/mlpackage.h"
#include "mil/mil.h"

/* Opset number for a Function.opset string ("CoreML5" -> 15 ... "CoreML8"
 * -> 18, "CoreML9" -> 26); 0 when unknown. */
int cml_mil_opset_number(const char *opset);

/* Upper bounds for function inputs with flexible shapes (description
 * shapeRange / enumeratedShapes), by input name. Inputs not listed take
 * their declared MIL type; unknown dimensions there need a bound. */
typedef struct cml_mil_input_bound {
    const char *name;
    int32_t rank;
    int64_t bound[CML_MAX_DIMS];
    bool has_default;              /* plan the load-time arena for `def` */
    int64_t def[CML_MAX_DIMS];     /* default shape (rank entries, each <= bound) */
} cml_mil_input_bound;

/*
 * Compiles `function` (block = block_specializations[opset]) into g: values,
 * nodes, op inference at the upper bounds, constant folding, fp16 rounding of
 * folded results, then memory planning, arena and scratch allocation for the
 * default input shapes (bounds[].def, else the upper bounds), zeroed state
 * buffers.
 * pkg resolves blob values (may be NULL when there are none). On failure g
 * is freed and err names the op and location.
 */
cml_status cml_mil_compile(const Cml__Coreml__MILSpec__Function *function,
                           cml_mlpackage *pkg, const cml_mil_input_bound *bounds,
                           uint32_t nbounds, const cml_allocator *allocator, cml_mil_graph *g,
                           cml_error *err);

void cml_mil_graph_free(cml_mil_graph *g);

/* Looks up a function input / value by name; CML_MIL_NONE when absent. */
cml_mil_vid cml_mil_find_input(const cml_mil_graph *g, const char *name);

/* Runs the main block. Inputs must have been written (data and shape) by the
 * caller. No allocation. */
cml_status cml_mil_run(cml_mil_graph *g, cml_threadpool *pool, cml_error *err);

/* Zero-fills every state buffer. */
void cml_mil_reset_states(cml_mil_graph *g);

/* Memory planning (plan.c): assigns arena offsets to every value with
 * needs_buffer set for the current value bounds; sets arena_size and
 * scratch_size and grows the arena / scratch buffers when they are smaller
 * (never zero-filled). */
cml_status cml_mil_plan(cml_mil_graph *g, cml_error *err);

/* ---- flexible input shapes (replan.c) ----------------------------------- */

/* Sets function input vid's shape (and planning bound) to `shape`: rank
 * must match, each dimension must be within the input's upper bound (equal
 * for a static input). Takes effect at the next cml_mil_replan. */
cml_status cml_mil_set_input_shape(cml_mil_graph *g, cml_mil_vid vid, int32_t rank,
                                   const int64_t *shape, cml_error *err);

/* Shape propagation only: reruns infer() of every live op from the current
 * input bounds (no planning). */
cml_status cml_mil_reinfer(cml_mil_graph *g, cml_error *err);

/* cml_mil_reinfer + cml_mil_plan: the arena is planned for the input shapes
 * set with cml_mil_set_input_shape, growing only when needed. Allocates
 * (attrs, planning tables, a bigger arena): call only when shapes changed.
 * On failure the graph refuses to run until a re-plan succeeds. */
cml_status cml_mil_replan(cml_mil_graph *g, cml_error *err);

/* Graph-owned memory (op_util.c): p is freed with the graph. On failure p
 * is freed here. */
cml_status cml_mil_graph_own(cml_mil_graph *g, void *p);

/* Rounds a FLOAT32 value with the fp16 flag to fp16 precision, in place. */
void cml_mil_round_value(cml_mil_value *v);

#endif
