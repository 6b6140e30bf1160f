/* conv -> relu / relu6 / clip fusion.
 *
 * Why it is exact: the clamp is applied to the same fp32 conv result the
 * separate op would read. For fp16 values the executor rounds each op's
 * result to fp16; rounding r is monotonic and idempotent, so
 * r(clamp(r(x))) == r(clamp(x)) for any bounds, and the fused result equals
 * the unfused one bit for bit. It saves one pass over every activation of a
 * CNN (about 7% of MobileNetV2's time). */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "mil/fuse.h"
#include "mil/graph.h"
#include "mil/ops.h"

bool cml_mil_conv_fuse_clamp(cml_mil_node *node, float lo, float hi);

/* Number of parameter bindings and block outputs that read vid. */
static uint32_t count_reads(const cml_mil_block *blk, cml_mil_vid vid) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < blk->noutputs; i++) n += blk->outputs[i] == vid;
    for (uint32_t i = 0; i < blk->nnodes; i++) {
        const cml_mil_node *node = &blk->nodes[i];
        if (node->folded) continue;
        for (uint32_t p = 0; p < node->nparams; p++)
            for (uint32_t k = 0; k < node->params[p].count; k++) n += node->params[p].vids[k] == vid;
        for (uint32_t b = 0; b < node->nblocks; b++) n += count_reads(&node->blocks[b], vid);
    }
    return n;
}

/* The clamp bounds an activation node applies, if it is a fusable one. */
static bool clamp_bounds(cml_mil_graph *g, const cml_mil_node *act, float *lo, float *hi) {
    cml_mil_ctx ctx = {.g = g, .compiling = true};
    if (strcmp(act->type, "relu") == 0) {
        *lo = 0.0f;
        *hi = INFINITY;
        return true;
    }
    if (strcmp(act->type, "relu6") == 0) {
        *lo = 0.0f;
        *hi = 6.0f;
        return true;
    }
    if (strcmp(act->type, "clip") == 0) {
        cml_error err = {0};
        ctx.err = &err;
        double a, b;
        if (cml_mil_const_float(&ctx, act, "alpha", false, 0, &a) != CML_OK ||
            cml_mil_const_float(&ctx, act, "beta", false, 0, &b) != CML_OK || !(a <= b))
            return false;
        *lo = (float)a;
        *hi = (float)b;
        return true;
    }
    return false;
}

void cml_mil_fuse_activations(cml_mil_graph *g) {
    cml_mil_block *blk = &g->main;
    for (uint32_t i = 0; i + 1 < blk->nnodes; i++) {
        cml_mil_node *conv = &blk->nodes[i];
        if (conv->folded || strcmp(conv->type, "conv") != 0 || conv->noutputs != 1) continue;
        cml_mil_vid mid = conv->outputs[0];
        /* The reader must be the next live node, an activation of mid. */
        uint32_t j = i + 1;
        while (j < blk->nnodes && blk->nodes[j].folded) j++;
        if (j >= blk->nnodes) continue;
        cml_mil_node *act = &blk->nodes[j];
        cml_mil_value *x = act->noutputs == 1 ? cml_mil_value_at(&(cml_mil_ctx){.g = g}, mid) : NULL;
        const cml_mil_param *xp = cml_mil_param_find(act, "x");
        float lo, hi;
        if (!x || !xp || xp->count != 1 || xp->vids[0] != mid || !clamp_bounds(g, act, &lo, &hi))
            continue;
        cml_mil_value *y = &g->values[act->outputs[0]];
        if (count_reads(blk, mid) != 1 || y->dtype != x->dtype || y->fp16 != x->fp16 ||
            y->capacity < x->capacity)
            continue;
        if (!cml_mil_conv_fuse_clamp(conv, lo, hi)) continue;
        conv->outputs[0] = act->outputs[0];
        act->folded = true;     /* skipped at run and by the planner */
        x->needs_buffer = false; /* nothing writes or reads it any more */
    }
}

/* ---- conv -> add (residual) ------------------------------------------------------
 * Why it is exact: the add reads the conv's result as stored (rounded to
 * fp16 in an fp16 program) and the other operand r, and its own result is
 * rounded again; the fused epilogue computes r16(r16(conv) + r) in that
 * order with the same fp32 add (commutative), so the result is bit for bit
 * the unfused one. Only same-shape static operands: no broadcasting. */

/* Whether a and b are static tensors of one shape, storage dtype and fp16 flag. */
static bool same_static(const cml_mil_value *a, const cml_mil_value *b) {
    if (a->kind != CML_MIL_KIND_TENSOR || b->kind != CML_MIL_KIND_TENSOR || a->dynamic ||
        b->dynamic || a->dtype != CML_DTYPE_FLOAT32 || b->dtype != a->dtype ||
        a->fp16 != b->fp16 || a->rank != b->rank)
        return false;
    for (int32_t d = 0; d < a->rank; d++)
        if (a->bound[d] != b->bound[d]) return false;
    return true;
}

/* The residual operand of add node `add` when it adds mid to another
 * same-shape value, else CML_MIL_NONE. */
static cml_mil_vid residual_of(const cml_mil_graph *g, const cml_mil_node *add, cml_mil_vid mid) {
    if (strcmp(add->type, "add") != 0 || add->noutputs != 1 || add->nparams != 2) return CML_MIL_NONE;
    const cml_mil_param *x = cml_mil_param_find(add, "x"), *y = cml_mil_param_find(add, "y");
    if (!x || !y || x->count != 1 || y->count != 1) return CML_MIL_NONE;
    cml_mil_vid r = x->vids[0] == mid ? y->vids[0] : y->vids[0] == mid ? x->vids[0] : CML_MIL_NONE;
    if (r == CML_MIL_NONE || r == mid || r >= g->nvalues) return CML_MIL_NONE;
    const cml_mil_value *m = &g->values[mid], *rv = &g->values[r], *out = &g->values[add->outputs[0]];
    if (rv->is_const || !same_static(m, rv) || !same_static(m, out) || out->capacity < m->capacity)
        return CML_MIL_NONE;
    return r;
}

/* Appends parameter `residual` = r to conv (a graph-owned copy of its params). */
static bool add_residual_param(cml_mil_graph *g, cml_mil_node *conv, cml_mil_vid r) {
    size_t n = conv->nparams + 1u;
    cml_mil_param *ps = cml_malloc(g->allocator, n * sizeof *ps + sizeof(cml_mil_vid));
    if (!ps || cml_mil_graph_own(g, ps) != CML_OK) return false; /* own frees ps on failure */
    cml_mil_vid *vid = (cml_mil_vid *)(ps + n);
    *vid = r;
    if (conv->nparams) memcpy(ps, conv->params, conv->nparams * sizeof *ps);
    ps[n - 1] = (cml_mil_param){.name = "residual", .vids = vid, .count = 1};
    conv->params = ps;
    conv->nparams = (uint32_t)n;
    return true;
}

void cml_mil_fuse_residual(cml_mil_graph *g) {
    cml_mil_block *blk = &g->main;
    for (uint32_t i = 0; i + 1 < blk->nnodes; i++) {
        cml_mil_node *conv = &blk->nodes[i];
        if (conv->folded || strcmp(conv->type, "conv") != 0 || conv->noutputs != 1 ||
            cml_mil_param_find(conv, "residual"))
            continue;
        cml_mil_vid mid = conv->outputs[0];
        if (g->values[mid].rank < 3 || g->values[mid].rank > 4) continue; /* 1-D / 2-D only */
        /* the add must be the next live node; a conv with a fused activation
         * (a folded node defining mid) is left alone, so that
         * cml_mil_fuse_reapply still finds its activation */
        uint32_t j = i + 1;
        bool fused_act = false;
        for (; j < blk->nnodes && blk->nodes[j].folded; j++)
            fused_act |= blk->nodes[j].noutputs == 1 && blk->nodes[j].outputs[0] == mid;
        if (j >= blk->nnodes || fused_act) continue;
        cml_mil_node *add = &blk->nodes[j];
        cml_mil_vid r = residual_of(g, add, mid);
        if (r == CML_MIL_NONE || count_reads(blk, mid) != 1) continue;
        if (!add_residual_param(g, conv, r)) return; /* out of memory: stay unfused */
        conv->outputs[0] = add->outputs[0];
        add->folded = true;                     /* skipped at run and by the planner */
        g->values[mid].needs_buffer = false;     /* nothing writes or reads it any more */
    }
}

/* After a re-inference (replan.c) every conv has a fresh attr without its
 * clamp. A fused pair is recognisable by the conv writing the (folded)
 * activation's output, so the clamp is applied again from the activation. */
void cml_mil_fuse_reapply(cml_mil_graph *g) {
    cml_mil_block *blk = &g->main;
    for (uint32_t i = 0; i < blk->nnodes; i++) {
        cml_mil_node *conv = &blk->nodes[i];
        if (conv->folded || strcmp(conv->type, "conv") != 0 || conv->noutputs != 1) continue;
        /* the activation was the next live node, so only folded ones follow */
        for (uint32_t j = i + 1; j < blk->nnodes && blk->nodes[j].folded; j++) {
            const cml_mil_node *act = &blk->nodes[j];
            float lo, hi;
            if (act->noutputs == 1 && act->outputs[0] == conv->outputs[0] &&
                clamp_bounds(g, act, &lo, &hi)) {
                cml_mil_conv_fuse_clamp(conv, lo, hi);
                break;
            }
        }
    }
}
