/*
 * Flexible input shapes (graph.h: cml_mil_set_input_shape, cml_mil_reinfer,
 * cml_mil_replan).
 *
 * A function input with a shape range or enumerated shapes is compiled once
 * at its upper bounds (every op is validated there), but memory is planned
 * for the shapes actually bound: setting new input shapes re-runs every live
 * op's infer() from those shapes (shape propagation: output bounds, scratch
 * sizes), then plan.c places the values again, growing the arena only when
 * the new plan needs more. Folded ops and constants are untouched.
 *
 * infer() is rerun on nodes that already went through load-time passes, so
 * the two passes that edit nodes after inference are replayed: the
 * compressed-linear rewrite keeps its own attr (its infer preserves it) and
 * the conv + activation fusion is reapplied (fuse.h). The attrs the previous
 * re-inference allocated are freed once the new ones are in place, so
 * alternating shapes do not accumulate memory.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/checked.h"
#include "mil/fuse.h"
#include "mil/graph.h"

extern const cml_mil_op_def cml_mil_op_while_loop;

static int32_t input_index(const cml_mil_graph *g, cml_mil_vid vid) {
    for (uint32_t i = 0; i < g->ninputs; i++)
        if (g->inputs[i] == vid) return (int32_t)i;
    return -1;
}

cml_status cml_mil_set_input_shape(cml_mil_graph *g, cml_mil_vid vid, int32_t rank,
                                   const int64_t *shape, cml_error *err) {
    int32_t i = input_index(g, vid);
    if (i < 0 || g->values[vid].kind != CML_MIL_KIND_TENSOR)
        return cml_fail(err, CML_ERR_INVALID_ARG, "value %u is not a tensor function input", vid);
    cml_mil_value *v = &g->values[vid];
    if (rank != v->rank || (rank > 0 && !shape))
        return cml_fail(err, CML_ERR_SHAPE, "input '%s': rank %d, the model takes rank %d",
                        v->name, rank, v->rank);
    const int64_t *limit = g->input_limit ? g->input_limit[i] : v->bound;
    size_t bytes = cml_dtype_size(v->dtype);
    for (int32_t d = 0; d < rank; d++) {
        bool ok = shape[d] >= 0 && (v->dynamic ? shape[d] <= limit[d] : shape[d] == limit[d]);
        if (!ok || !cml_mul_size(bytes, (size_t)shape[d], &bytes))
            return cml_fail(err, CML_ERR_SHAPE, "input '%s': dimension %d is %lld, the bound is %lld",
                            v->name, d, (long long)shape[d], (long long)limit[d]);
    }
    for (int32_t d = 0; d < rank; d++) v->shape[d] = v->bound[d] = shape[d];
    v->capacity = bytes;
    return CML_OK;
}

static cml_status reinfer_block(cml_mil_graph *g, cml_mil_block *blk, cml_error *err);

/* Loop variables type the body's inputs, as at load (compile.c); other
 * block inputs keep their declared type. */
static void retype_block_inputs(cml_mil_graph *g, const cml_mil_node *node, cml_mil_block *blk) {
    const cml_mil_param *vars =
        node->def == &cml_mil_op_while_loop ? cml_mil_param_find(node, "loop_vars") : NULL;
    for (uint32_t i = 0; i < blk->ninputs; i++) {
        cml_mil_value *v = &g->values[blk->inputs[i]];
        if (!vars || i >= vars->count) {
            memcpy(v->shape, v->bound, sizeof v->shape);
            continue;
        }
        const cml_mil_value *src = &g->values[vars->vids[i]];
        v->rank = src->rank;
        memcpy(v->shape, src->bound, sizeof v->shape);
        memcpy(v->bound, src->bound, sizeof v->bound);
        v->dynamic = src->dynamic;
        v->capacity = src->capacity;
    }
}

static cml_status reinfer_block(cml_mil_graph *g, cml_mil_block *blk, cml_error *err) {
    for (uint32_t i = 0; i < blk->nnodes; i++) {
        cml_mil_node *node = &blk->nodes[i];
        if (node->folded) continue;
        for (uint32_t b = 0; b < node->nblocks; b++) {
            retype_block_inputs(g, node, &node->blocks[b]);
            CML_TRY(reinfer_block(g, &node->blocks[b], err));
        }
        cml_mil_ctx ctx = {.g = g, .err = err, .compiling = true};
        cml_status st = node->def->infer(&ctx, node);
        if (st != CML_OK) {
            if (!strstr(err ? err->msg : "", node->type))
                cml_error_prefix(err, "op '%s' (%s): ", node->name, node->type);
            return st;
        }
    }
    return CML_OK;
}

cml_status cml_mil_reinfer(cml_mil_graph *g, cml_error *err) {
    uint32_t mark = g->nowned;
    CML_TRY(reinfer_block(g, &g->main, err));
    cml_mil_fuse_reapply(g);
    /* The previous re-inference's attrs [owned_base, mark) are unreferenced
     * now: every live node holds one allocated after mark. */
    for (uint32_t i = g->owned_base; i < mark; i++) cml_free(g->allocator, g->owned[i]);
    uint32_t fresh = g->nowned - mark;
    memmove(g->owned + g->owned_base, g->owned + mark, fresh * sizeof *g->owned);
    g->nowned = g->owned_base + fresh;
    return CML_OK;
}

cml_status cml_mil_replan(cml_mil_graph *g, cml_error *err) {
    g->planned = false;
    CML_TRY(cml_mil_reinfer(g, err));
    return cml_mil_plan(g, err);
}
