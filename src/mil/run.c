/* Execution: runs the nodes of a block in order, rounding every fp16 output
 * to fp16 after its op. Nested blocks (cond, while_loop) come through
 * cml_mil_run_block from the control-flow ops. No allocation. With a
 * profiling sink (ctx->prof) each op also records an event; the check is
 * made once per block. */
#include <string.h>

#include "core/profile.h"
#include "mil/graph.h"

#if defined(__GNUC__)
#define CML_MIL_RUN_INLINE inline __attribute__((always_inline))
#else
#define CML_MIL_RUN_INLINE inline
#endif

static CML_MIL_RUN_INLINE cml_status run_node(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_graph *g = ctx->g;
    ctx->outputs_rounded = false;
    cml_status st = node->def->run(ctx, node);
    if (st != CML_OK) {
        if (ctx->err && ctx->err->msg[0] && !strstr(ctx->err->msg, node->type))
            cml_error_prefix(ctx->err, "op '%s' (%s): ", node->name, node->type);
        return st;
    }
    if (ctx->outputs_rounded) return CML_OK;
    for (uint32_t k = 0; k < node->noutputs; k++) cml_mil_round_value(&g->values[node->outputs[k]]);
    return CML_OK;
}

/* The event of node i of a block run at depth `depth`. */
static void record(cml_mil_ctx *ctx, const cml_mil_node *node, uint32_t i, uint64_t t0,
                   uint64_t t1) {
    cml_prof *p = ctx->prof;
    cml_profile_event *e = cml_prof_slot(p);
    if (!e) return;
    int64_t handle = -1;
    if (ctx->depth == 1 && p->op_handles && i < p->nop_handles) handle = p->op_handles[i];
    *e = (cml_profile_event){
        .kind = CML_PROFILE_MIL_OP, .name = node->type,
        .output = node->noutputs ? ctx->g->values[node->outputs[0]].name : "",
        .chain = p->chain, .instruction = p->instruction, .delegate = p->delegate,
        .depth = ctx->depth, .debug_handle = handle, .start_ns = t0, .end_ns = t1,
    };
    if (!e->output) e->output = "";
}

static cml_status run_block_profiled(cml_mil_ctx *ctx, const cml_mil_block *block) {
    ctx->depth++;
    cml_status st = CML_OK;
    for (uint32_t i = 0; i < block->nnodes && st == CML_OK; i++) {
        const cml_mil_node *node = &block->nodes[i];
        if (node->folded) continue;
        uint64_t t0 = cml_prof_now();
        st = run_node(ctx, node);
        if (st == CML_OK) record(ctx, node, i, t0, cml_prof_now());
    }
    ctx->depth--;
    return st;
}

cml_status cml_mil_run_block(cml_mil_ctx *ctx, const cml_mil_block *block) {
    if (ctx->prof) return run_block_profiled(ctx, block);
    for (uint32_t i = 0; i < block->nnodes; i++) {
        const cml_mil_node *node = &block->nodes[i];
        if (node->folded) continue;
        CML_TRY(run_node(ctx, node));
    }
    return CML_OK;
}

cml_status cml_mil_run(cml_mil_graph *g, cml_threadpool *pool, cml_error *err) {
    if (!g->planned)
        return cml_fail(err, CML_ERR_STATE, "the last re-plan for new input shapes failed");
    cml_mil_ctx ctx = {
        .g = g,
        .err = err,
        .pool = pool,
        .scratch = g->scratch,
        .scratch_size = g->scratch_size,
        .compiling = false,
        .prof = g->prof,
    };
    return cml_mil_run_block(&ctx, &g->main);
}
