/*
 * Compressed weights kept compressed at run: the marking pass, the deferred
 * constexpr def, releasing dead constant data after folding, and the weight
 * statistics for `cml inspect` (see compressed.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "mil/compressed.h"
#include "mil/constexpr_decode.h"
#include "mil/graph.h"
#include "mil/ops.h"

/* ------------------------------------------------------------ deferred */

static cml_status deferred_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    const cml_mil_op_def *orig = cml_mil_op_find(node->type);
    if (!orig) return cml_mil_fail(ctx, node, CML_ERR_INTERNAL, "no definition");
    CML_TRY(orig->infer(ctx, node)); /* validates the compressed data */
    if (!cml_constexpr_decodable(ctx, node)) {
        node->def = orig; /* folded as usual; its consumer goes back to its own def */
        return CML_OK;
    }
    node->folded = true; /* never runs: its consumer decodes it */
    return CML_OK;
}

static cml_status deferred_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    return cml_mil_fail(ctx, node, CML_ERR_INTERNAL, "a deferred constexpr is decoded by its consumer");
}

const cml_mil_op_def cml_mil_op_constexpr_deferred = {"constexpr_deferred", deferred_infer,
                                                      deferred_run, true};

bool cml_mil_compressed_deferred(const cml_mil_node *node) {
    return node && node->def == &cml_mil_op_constexpr_deferred;
}

/* -------------------------------------------------------------- at use
 * A compressed weight read by a conv, conv_transpose, matmul or einsum is
 * decoded at run, just before its consumer, into an arena buffer that lives
 * for that one step (plan.c): the node is moved to sit right before the
 * consumer, and the consumer reads an ordinary fp32 tensor (fp16-rounded
 * where the constexpr's output is fp16: the values folding would store). */

typedef struct at_use_job {
    cml_mil_ctx *ctx;
    const cml_mil_node *node;
    float *dst;
    int64_t n;
} at_use_job;

#define AT_USE_GRAIN 16384

static void at_use_chunks(void *arg, size_t begin, size_t end) {
    const at_use_job *j = arg;
    int64_t lo = (int64_t)begin * AT_USE_GRAIN, hi = (int64_t)end * AT_USE_GRAIN;
    if (hi > j->n) hi = j->n;
    if (hi > lo) cml_constexpr_decode_range(j->ctx, j->node, lo, hi - lo, j->dst + lo);
}

static cml_status at_use_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    const cml_mil_op_def *orig = cml_mil_op_find(node->type);
    if (!orig) return cml_mil_fail(ctx, node, CML_ERR_INTERNAL, "no definition");
    CML_TRY(orig->infer(ctx, node)); /* validates the compressed data */
    if (!cml_constexpr_decodable(ctx, node)) node->def = orig; /* folded as usual */
    return CML_OK;
}

static cml_status at_use_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    at_use_job j = {.ctx = ctx, .node = node, .dst = out->data, .n = cml_mil_numel(out)};
    size_t chunks = (size_t)((j.n + AT_USE_GRAIN - 1) / AT_USE_GRAIN);
    cml_parallel_for(ctx->pool, chunks, 1, at_use_chunks, &j);
    ctx->outputs_rounded = true; /* decode_range rounds fp16 outputs */
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_constexpr_at_use = {"constexpr_at_use", at_use_infer, at_use_run,
                                                    true};

/* ------------------------------------------------------------- marking */

typedef struct use_info {
    uint32_t count;
    cml_mil_node *node;      /* the last reader (NULL: a block output) */
    const cml_mil_param *param;
} use_info;

static void count_uses(cml_mil_block *blk, use_info *u, uint32_t nvalues) {
    for (uint32_t i = 0; i < blk->nnodes; i++) {
        cml_mil_node *node = &blk->nodes[i];
        for (uint32_t p = 0; p < node->nparams; p++)
            for (uint32_t k = 0; k < node->params[p].count; k++) {
                cml_mil_vid v = node->params[p].vids[k];
                if (v >= nvalues) continue;
                u[v].count++;
                u[v].node = node;
                u[v].param = &node->params[p];
            }
        for (uint32_t b = 0; b < node->nblocks; b++) count_uses(&node->blocks[b], u, nvalues);
    }
    for (uint32_t i = 0; i < blk->noutputs; i++)
        if (blk->outputs[i] < nvalues) {
            u[blk->outputs[i]].count++;
            u[blk->outputs[i]].node = NULL;
        }
}

static bool compressible_type(const char *type) {
    return strcmp(type, "constexpr_blockwise_shift_scale") == 0 ||
           strcmp(type, "constexpr_affine_dequantize") == 0 ||
           strcmp(type, "constexpr_lut_to_dense") == 0;
}

/* The consumer (node, parameter) a compressed weight can stay compressed for. */
static bool supported_consumer(const cml_mil_node *node, const cml_mil_param *p) {
    return node && node->def == &cml_mil_op_linear && p->count == 1 &&
           strcmp(p->name, "weight") == 0;
}

static bool at_use_consumer(const cml_mil_node *node) {
    return node && (node->def == &cml_mil_op_conv || node->def == &cml_mil_op_conv_transpose ||
                    node->def == &cml_mil_op_matmul || node->def == &cml_mil_op_einsum);
}

/* The index in blk of the single reader of node i's output when that reader
 * is an at-use consumer in the same block after it; -1 otherwise. */
static int64_t at_use_target(const cml_mil_block *blk, uint32_t i, const use_info *u) {
    const cml_mil_node *node = &blk->nodes[i];
    if (!node->def || node->folded || node->noutputs != 1 || node->nblocks ||
        !compressible_type(node->type))
        return -1;
    const use_info *use = &u[node->outputs[0]];
    if (use->count != 1 || !at_use_consumer(use->node)) return -1;
    if (use->node < blk->nodes || use->node >= blk->nodes + blk->nnodes) return -1;
    int64_t c = use->node - blk->nodes;
    return c > (int64_t)i ? c : -1;
}

/* Marks the at-use constexprs of blk (and its nested blocks) and moves each
 * to just before its consumer, keeping every other node's order. */
static cml_status at_use_block(cml_mil_graph *g, cml_mil_block *blk, const use_info *u,
                               cml_error *err) {
    for (uint32_t i = 0; i < blk->nnodes; i++)
        for (uint32_t b = 0; b < blk->nodes[i].nblocks; b++)
            CML_TRY(at_use_block(g, &blk->nodes[i].blocks[b], u, err));
    uint32_t n = blk->nnodes, moved = 0;
    if (!n) return CML_OK;
    /* target[i]: consumer index or -1; head[c] / next[i]: the constexprs
     * moving before c, in their original order */
    int64_t *target = cml_malloc(g->allocator, 3 * (size_t)n * sizeof *target);
    if (!target) return cml_fail(err, CML_ERR_NOMEM, "out of memory");
    int64_t *head = target + n, *next = head + n;
    for (uint32_t i = 0; i < n; i++) head[i] = -1;
    for (uint32_t k = n; k-- > 0;) {
        next[k] = -1;
        if ((target[k] = at_use_target(blk, k, u)) < 0) continue;
        next[k] = head[target[k]];
        head[target[k]] = k;
        moved++;
    }
    cml_mil_node *order = moved ? cml_malloc(g->allocator, n * sizeof *order) : NULL;
    if (moved && !order) {
        cml_free(g->allocator, target);
        return cml_fail(err, CML_ERR_NOMEM, "out of memory");
    }
    if (moved) {
        uint32_t w = 0;
        for (uint32_t c = 0; c < n; c++) {
            for (int64_t i = head[c]; i >= 0; i = next[i]) {
                order[w] = blk->nodes[i];
                order[w++].def = &cml_mil_op_constexpr_at_use;
            }
            if (target[c] < 0) order[w++] = blk->nodes[c];
        }
        memcpy(blk->nodes, order, n * sizeof *order);
    }
    cml_free(g->allocator, order);
    cml_free(g->allocator, target);
    return CML_OK;
}

static cml_status mark_block(cml_mil_graph *g, cml_mil_block *blk, const use_info *u,
                             cml_error *err) {
    for (uint32_t i = 0; i < blk->nnodes; i++) {
        cml_mil_node *node = &blk->nodes[i];
        for (uint32_t b = 0; b < node->nblocks; b++) CML_TRY(mark_block(g, &node->blocks[b], u, err));
        if (!node->def || node->folded || node->noutputs != 1 || !compressible_type(node->type))
            continue;
        const use_info *use = &u[node->outputs[0]];
        if (use->count != 1 || !supported_consumer(use->node, use->param)) continue;
        cml_mil_compressed_attr *a = cml_calloc(g->allocator, 1, sizeof *a);
        if (!a || cml_mil_graph_own(g, a) != CML_OK)
            return cml_fail(err, CML_ERR_NOMEM, "out of memory");
        a->src = node;
        use->node->attr = a;
        use->node->def = &cml_mil_op_linear_compressed;
        node->def = &cml_mil_op_constexpr_deferred;
    }
    return CML_OK;
}

static bool keep_compressed = true;

void cml_mil_compressed_enable_for_testing(bool on) { keep_compressed = on; }

cml_status cml_mil_compressed_mark(cml_mil_graph *g, cml_error *err) {
    if (!g->nvalues || !keep_compressed) return CML_OK;
    use_info *u = cml_calloc(g->allocator, g->nvalues, sizeof *u);
    if (!u) return cml_fail(err, CML_ERR_NOMEM, "out of memory for %u values", g->nvalues);
    count_uses(&g->main, u, g->nvalues);
    cml_status st = at_use_block(g, &g->main, u, err);
    if (st == CML_OK) { /* nodes moved: count again for the linear pass */
        memset(u, 0, g->nvalues * sizeof *u);
        count_uses(&g->main, u, g->nvalues);
        st = mark_block(g, &g->main, u, err);
    }
    cml_free(g->allocator, u);
    return st;
}

/* ------------------------------------------------------------- release */

/* live[v] = 1 when an op that runs (or a deferred constexpr, or a block
 * output) reads value v. */
static void mark_live(const cml_mil_block *blk, uint8_t *live, uint32_t nvalues) {
    for (uint32_t i = 0; i < blk->nnodes; i++) {
        const cml_mil_node *node = &blk->nodes[i];
        if (node->folded && !cml_mil_compressed_deferred(node)) continue;
        for (uint32_t p = 0; p < node->nparams; p++)
            for (uint32_t k = 0; k < node->params[p].count; k++)
                if (node->params[p].vids[k] < nvalues) live[node->params[p].vids[k]] = 1;
        for (uint32_t b = 0; b < node->nblocks; b++) mark_live(&node->blocks[b], live, nvalues);
    }
    for (uint32_t i = 0; i < blk->noutputs; i++)
        if (blk->outputs[i] < nvalues) live[blk->outputs[i]] = 1;
}

static uint8_t *live_values(const cml_mil_graph *g) {
    uint8_t *live = cml_calloc(g->allocator, g->nvalues ? g->nvalues : 1, 1);
    if (!live) return NULL;
    mark_live(&g->main, live, g->nvalues);
    for (uint32_t i = 0; i < g->ninputs; i++)
        if (g->inputs[i] < g->nvalues) live[g->inputs[i]] = 1;
    return live;
}

static int cmp_ptr(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

static bool folded_constexpr(const cml_mil_node *node) {
    return node->folded && !cml_mil_compressed_deferred(node) &&
           strncmp(node->type, "constexpr_", 10) == 0;
}

/* Candidates for release (live[v] |= 2): the parameters of folded constexpr
 * ops (the compressed data), and their dense outputs where a folded op read
 * them (e.g. a folded transpose in front of a conv). Other constants, read
 * by nothing, are left alone. */
static void mark_candidates(const cml_mil_graph *g, const cml_mil_block *blk, uint8_t *live,
                            int pass) {
    for (uint32_t i = 0; i < blk->nnodes; i++) {
        const cml_mil_node *node = &blk->nodes[i];
        for (uint32_t b = 0; b < node->nblocks; b++)
            mark_candidates(g, &node->blocks[b], live, pass);
        if (!node->folded || cml_mil_compressed_deferred(node)) continue;
        bool cx = folded_constexpr(node);
        if (pass == 0 && cx)
            for (uint32_t o = 0; o < node->noutputs; o++)
                if (node->outputs[o] < g->nvalues) live[node->outputs[o]] |= 4;
        for (uint32_t p = 0; p < node->nparams; p++)
            for (uint32_t k = 0; k < node->params[p].count; k++) {
                cml_mil_vid v = node->params[p].vids[k];
                if (v >= g->nvalues) continue;
                if ((pass == 0 && cx) || (pass == 1 && (live[v] & 4))) live[v] |= 2;
            }
    }
}

static bool dead_const(const cml_mil_value *v, const uint8_t *live, uint32_t vid) {
    return !(live[vid] & 1) && (live[vid] & 2) && v->kind == CML_MIL_KIND_TENSOR && v->is_const &&
           v->data;
}

void cml_mil_compressed_release(cml_mil_graph *g) {
    uint8_t *live = live_values(g);
    if (!live) return; /* nothing released; not an error */
    mark_candidates(g, &g->main, live, 0);
    mark_candidates(g, &g->main, live, 1);
    uint32_t ndead = 0, nlive = 0;
    for (uint32_t v = 0; v < g->nvalues; v++) {
        const cml_mil_value *val = &g->values[v];
        if (dead_const(val, live, v)) ndead++;
        else if (val->data) nlive++;
    }
    void **dead = ndead ? cml_malloc(g->allocator, ndead * sizeof *dead) : NULL;
    void **kept = nlive ? cml_malloc(g->allocator, nlive * sizeof *kept) : NULL;
    if ((ndead && !dead) || (nlive && !kept)) goto done;
    ndead = nlive = 0;
    for (uint32_t v = 0; v < g->nvalues; v++) {
        cml_mil_value *val = &g->values[v];
        if (dead_const(val, live, v)) {
            dead[ndead++] = val->data;
            val->data = NULL; /* owned: freed below; in the mapped file: dropped */
        } else if (val->data) {
            kept[nlive++] = val->data;
        }
    }
    if (!ndead) goto done;
    qsort(dead, ndead, sizeof *dead, cmp_ptr);
    if (nlive) qsort(kept, nlive, sizeof *kept, cmp_ptr);
    uint32_t w = 0;
    for (uint32_t i = 0; i < g->nowned; i++) {
        void *p = g->owned[i];
        if (bsearch(&p, dead, ndead, sizeof *dead, cmp_ptr) &&
            !(nlive && bsearch(&p, kept, nlive, sizeof *kept, cmp_ptr)))
            cml_free(g->allocator, p);
        else
            g->owned[w++] = p;
    }
    g->nowned = w;
done:
    cml_free(g->allocator, dead);
    cml_free(g->allocator, kept);
    cml_free(g->allocator, live);
}

/* ----------------------------------------------------------------- stats */

static void stats_block(const cml_mil_block *blk, cml_mil_weight_stats *s) {
    for (uint32_t i = 0; i < blk->nnodes; i++) {
        const cml_mil_node *node = &blk->nodes[i];
        if (node->def == &cml_mil_op_linear_compressed || node->def == &cml_mil_op_constexpr_at_use)
            s->compressed_ops++;
        if (folded_constexpr(node)) {
            if (!s->materialized) s->first_materialized = node;
            s->materialized++;
        }
        for (uint32_t b = 0; b < node->nblocks; b++) stats_block(&node->blocks[b], s);
    }
}

void cml_mil_weight_stats_get(const cml_mil_graph *g, cml_mil_weight_stats *out) {
    memset(out, 0, sizeof *out);
    out->file_bytes = g->const_file_bytes;
    stats_block(&g->main, out);
    uint8_t *live = live_values(g);
    if (!live) return;
    for (uint32_t v = 0; v < g->nvalues; v++) {
        const cml_mil_value *val = &g->values[v];
        if ((live[v] & 1) && val->kind == CML_MIL_KIND_TENSOR && val->is_const && val->data)
            out->resident_bytes += val->capacity;
    }
    cml_free(g->allocator, live);
}

static void list_materialized(const cml_mil_block *blk, FILE *out, uint32_t *listed) {
    for (uint32_t i = 0; i < blk->nnodes; i++) {
        const cml_mil_node *node = &blk->nodes[i];
        if (folded_constexpr(node)) {
            if (*listed < 3) fprintf(out, "%s'%s'", *listed ? ", " : ": ", node->name);
            ++*listed;
        }
        for (uint32_t b = 0; b < node->nblocks; b++) list_materialized(&node->blocks[b], out, listed);
    }
}

void cml_mil_describe_weights(const cml_mil_graph *g, FILE *out) {
    cml_mil_weight_stats s;
    cml_mil_weight_stats_get(g, &s);
    fprintf(out,
            "; weights: %zu bytes in the file, %zu bytes resident after load (%u ops read "
            "compressed weights, %u materialized",
            s.file_bytes, s.resident_bytes, s.compressed_ops, s.materialized);
    uint32_t listed = 0;
    list_materialized(&g->main, out, &listed);
    if (listed > 3) fprintf(out, ", +%u more", listed - 3);
    fputc(')', out);
}
