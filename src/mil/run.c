/* Execution: runs the nodes of a block in order, rounding every fp16 output
 * to fp16 after its op. Nested blocks (cond, while_loop) come through
 * cml_mil_run_block from the control-flow ops. No allocation. */
#include <string.h>

#include "mil/graph.h"

cml_status cml_mil_run_block(cml_mil_ctx *ctx, const cml_mil_block *block) {
    cml_mil_graph *g = ctx->g;
    for (uint32_t i = 0; i < block->nnodes; i++) {
        const cml_mil_node *node = &block->nodes[i];
        if (node->folded) continue;
        ctx->outputs_rounded = false;
        cml_status st = node->def->run(ctx, node);
        if (st != CML_OK) {
            if (ctx->err && ctx->err->msg[0] && !strstr(ctx->err->msg, node->type))
                cml_error_prefix(ctx->err, "op '%s' (%s): ", node->name, node->type);
            return st;
        }
        if (ctx->outputs_rounded) continue;
        for (uint32_t k = 0; k < node->noutputs; k++) cml_mil_round_value(&g->values[node->outputs[k]]);
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
    };
    return cml_mil_run_block(&ctx, &g->main);
}
