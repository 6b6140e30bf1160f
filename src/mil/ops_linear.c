/*
 * linear, matmul (transpose_x/y, NumPy batch broadcasting and 1-D rules)
 * and einsum (its two supported forms), on cml_k_gemm_f32. int32 matmul /
 * linear use a plain integer loop (rare: shape arithmetic).
 */
#include <string.h>

#include "core/alloc.h"
#include "kernels/kernels.h"
#include "mil/graph.h"
#include "mil/ops.h"

/* ---- linear(x, weight, bias) ------------------------------------------------ */

static cml_status linear_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *w = NULL, *b = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(cml_mil_require(ctx, node, "weight", &w));
    bool fl = cml_milop_is_float(x->dtype);
    if (!(fl || x->dtype == CML_DTYPE_INT32) || cml_milop_is_float(w->dtype) != fl)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unsupported dtypes x=%s weight=%s",
                            cml_dtype_name(x->dtype), cml_dtype_name(w->dtype));
    if (x->rank < 1 || w->rank != 2)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must have rank >= 1 and weight rank 2");
    int64_t din = x->bound[x->rank - 1], dout = w->bound[0];
    if (w->bound[1] != din)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                            "x's last dim %lld does not match weight [%lld, %lld]",
                            (long long)din, (long long)w->bound[0], (long long)w->bound[1]);
    b = cml_mil_in(ctx, node, "bias");
    if (b && (b->kind != CML_MIL_KIND_TENSOR || cml_mil_bound_numel(b) != dout ||
              cml_milop_is_float(b->dtype) != fl))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "bias must have %lld elements of x's type",
                            (long long)dout);
    int64_t shape[CML_MAX_DIMS];
    memcpy(shape, x->bound, sizeof(int64_t) * (size_t)x->rank);
    shape[x->rank - 1] = dout;
    return cml_milop_out_like(ctx, node, 0, x, x->rank, shape, false);
}

static void int_matmul(int64_t M, int64_t N, int64_t K, const cml_mil_value *xa, int64_t xoff,
                       int64_t xrs, int64_t xcs, const cml_mil_value *ya, int64_t yoff,
                       int64_t yrs, int64_t ycs, const cml_mil_value *bias, cml_mil_value *o,
                       int64_t ooff) {
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            int64_t acc = bias ? cml_milop_get_int(bias->data, bias->dtype, n) : 0;
            for (int64_t k = 0; k < K; k++)
                acc += cml_milop_get_int(xa->data, xa->dtype, xoff + m * xrs + k * xcs) *
                       cml_milop_get_int(ya->data, ya->dtype, yoff + k * yrs + n * ycs);
            cml_milop_set_int(o->data, o->dtype, ooff + m * N + n, acc);
        }
}

static cml_status linear_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *w = cml_mil_in(ctx, node, "weight");
    cml_mil_value *b = cml_mil_in(ctx, node, "bias"), *out = cml_mil_out(ctx, node, 0);
    int64_t din = w->shape[1], dout = w->shape[0];
    if (x->rank < 1 || x->shape[x->rank - 1] != din)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x's last dim does not match weight");
    int64_t shape[CML_MAX_DIMS];
    memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->rank);
    shape[x->rank - 1] = dout;
    CML_TRY(cml_mil_resize(ctx, out, x->rank, shape));
    int64_t m = cml_milop_prod(x->shape, 0, x->rank - 1);
    if (m == 0 || dout == 0) return CML_OK;
    if (!cml_milop_is_float(x->dtype)) {
        int_matmul(m, dout, din, x, 0, din, 1, w, 0, 1, din, b, out, 0);
        return CML_OK;
    }
    if (din == 0) {
        float *o = out->data;
        for (int64_t i = 0; i < m * dout; i++) o[i] = b ? ((const float *)b->data)[i % dout] : 0.0f;
        return CML_OK;
    }
    if (w->gemm_nr) /* prepacked at load (mil.h) */
        cml_k_gemm_f32_packed(ctx->pool, (size_t)m, (size_t)dout, (size_t)din, x->data,
                              (size_t)din, w->data, w->gemm_nr, w->half, b ? b->data : NULL,
                              out->data, (size_t)dout, false);
    else if (w->half) /* an fp16 weight kept as stored (mil.h): widened inside the gemm */
        cml_k_gemm_f32_f16b(ctx->pool, (size_t)m, (size_t)dout, (size_t)din, x->data, (size_t)din,
                            w->data, (size_t)din, true, b ? b->data : NULL, out->data,
                            (size_t)dout, false);
    else
        cml_k_gemm_f32(ctx->pool, (size_t)m, (size_t)dout, (size_t)din, x->data, (size_t)din,
                       w->data, (size_t)din, true, b ? b->data : NULL, out->data, (size_t)dout,
                       false);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_linear = {"linear", linear_infer, linear_run, false};

/* ---- prepacked linear weights (ops.h cml_mil_prepack_linear) -------------------- */

/* Whether node's param p reading a weight allows packing it. */
static bool packable_reader(const cml_mil_graph *g, const cml_mil_node *node, const char *p) {
    if (node->def != &cml_mil_op_linear || node->folded || strcmp(p, "weight") != 0) return false;
    const cml_mil_param *xp = cml_mil_param_find(node, "x");
    if (!xp || xp->count != 1 || xp->vids[0] >= g->nvalues) return false;
    const cml_mil_value *x = &g->values[xp->vids[0]];
    if (x->dynamic || x->rank < 1 || !cml_milop_is_float(x->dtype)) return false;
    return cml_milop_prod(x->bound, 0, x->rank - 1) > CML_GEMM_SMALL_M_MAX;
}

/* bad[v] = 1 for values some other reader (or a block output) reads;
 * seen[v] = 1 for values some packable reader reads. */
static void mark_weight_readers(const cml_mil_graph *g, const cml_mil_block *blk, uint8_t *bad,
                                uint8_t *seen) {
    for (uint32_t i = 0; i < blk->nnodes; i++) {
        const cml_mil_node *node = &blk->nodes[i];
        for (uint32_t p = 0; p < node->nparams; p++)
            for (uint32_t k = 0; k < node->params[p].count; k++) {
                cml_mil_vid v = node->params[p].vids[k];
                if (v >= g->nvalues) continue;
                if (packable_reader(g, node, node->params[p].name)) seen[v] = 1;
                else bad[v] = 1;
            }
        for (uint32_t b = 0; b < node->nblocks; b++)
            mark_weight_readers(g, &node->blocks[b], bad, seen);
    }
    for (uint32_t i = 0; i < blk->noutputs; i++)
        if (blk->outputs[i] < g->nvalues) bad[blk->outputs[i]] = 1;
}

/* Replaces v's data by its packed panels: in place when the graph owns a
 * buffer of the pack's size (N a multiple of nr, 64-byte aligned as graph
 * allocations are), else in a new buffer (mapped-file data is dropped; an
 * old graph-owned buffer is freed and its owned[] slot reused). */
static cml_status pack_weight(cml_mil_graph *g, cml_mil_value *v, cml_error *err) {
    size_t N = (size_t)v->bound[0], K = (size_t)v->bound[1], nr = cml_k_gemm_packed_nr();
    size_t es = v->half ? sizeof(uint16_t) : sizeof(float);
    size_t bytes = cml_k_gemm_packed_size(N, K, nr, es);
    if (bytes == SIZE_MAX) return cml_fail(err, CML_ERR_NOMEM, "weight '%s' is too large", v->name);
    uint32_t slot = 0;
    while (slot < g->nowned && g->owned[slot] != v->data) slot++;
    bool owned = slot < g->nowned;
    if (owned && N % nr == 0 && ((uintptr_t)v->data % 64) == 0) {
        void *tmp = cml_malloc(g->allocator, nr * K * es);
        if (!tmp) return cml_fail(err, CML_ERR_NOMEM, "out of memory packing weight '%s'", v->name);
        cml_k_gemm_pack_b_inplace(N, K, v->data, v->half, nr, tmp);
        cml_free(g->allocator, tmp);
    } else {
        void *packed = cml_malloc(g->allocator, bytes);
        if (!packed)
            return cml_fail(err, CML_ERR_NOMEM, "out of memory packing weight '%s'", v->name);
        cml_k_gemm_pack_b(N, K, v->data, K, true, v->half, nr, packed);
        if (owned) {
            cml_free(g->allocator, g->owned[slot]);
            g->owned[slot] = packed;
        } else if (cml_mil_graph_own(g, packed) != CML_OK) {
            cml_free(g->allocator, packed);
            return cml_fail(err, CML_ERR_NOMEM, "out of memory");
        }
        v->data = packed;
    }
    v->capacity = bytes;
    v->gemm_nr = (uint8_t)nr;
    return CML_OK;
}

cml_status cml_mil_prepack_linear(cml_mil_graph *g, cml_error *err) {
    uint8_t *bad = cml_calloc(g->allocator, g->nvalues ? g->nvalues : 1, 2);
    if (!bad) return cml_fail(err, CML_ERR_NOMEM, "out of memory");
    uint8_t *seen = bad + g->nvalues;
    mark_weight_readers(g, &g->main, bad, seen);
    cml_status st = CML_OK;
    for (uint32_t i = 0; i < g->nvalues && st == CML_OK; i++) {
        cml_mil_value *v = &g->values[i];
        if (!seen[i] || bad[i] || !v->is_const || v->kind != CML_MIL_KIND_TENSOR || !v->data ||
            v->rank != 2 || v->dtype != CML_DTYPE_FLOAT32 || v->packed_bits || v->gemm_nr ||
            v->bound[0] <= 0 || v->bound[1] <= 0)
            continue;
        st = pack_weight(g, v, err);
    }
    cml_free(g->allocator, bad);
    return st;
}

/* ---- matmul(x, y, transpose_x, transpose_y) ------------------------------------ */

typedef struct mm_attr {
    bool tx, ty;
} mm_attr;

typedef struct mm_shape {
    int32_t brank;
    int64_t batch[CML_MAX_DIMS];
    int64_t xb[CML_MAX_DIMS], yb[CML_MAX_DIMS]; /* batch strides in matrices */
    int64_t M, N, K;
    int32_t orank;
    int64_t out[CML_MAX_DIMS];
} mm_shape;

/* Shapes for x[..., a, b] and y[..., c, d] per the MIL/NumPy matmul rules. */
static bool mm_shapes(const mm_attr *a, int32_t xr, const int64_t *xs_in, int32_t yr,
                      const int64_t *ys_in, mm_shape *s) {
    int64_t xs[CML_MAX_DIMS + 1], ys[CML_MAX_DIMS + 1];
    int32_t xrr = xr, yrr = yr;
    if (xr < 1 || yr < 1) return false;
    if (xr == 1) {
        xs[0] = 1;
        xs[1] = xs_in[0];
        xrr = 2;
    } else {
        memcpy(xs, xs_in, sizeof(int64_t) * (size_t)xr);
    }
    if (yr == 1) {
        ys[0] = ys_in[0];
        ys[1] = 1;
        yrr = 2;
    } else {
        memcpy(ys, ys_in, sizeof(int64_t) * (size_t)yr);
    }
    bool tx = a->tx && xr > 1, ty = a->ty && yr > 1;
    s->M = tx ? xs[xrr - 1] : xs[xrr - 2];
    s->K = tx ? xs[xrr - 2] : xs[xrr - 1];
    int64_t ky = ty ? ys[yrr - 1] : ys[yrr - 2];
    s->N = ty ? ys[yrr - 2] : ys[yrr - 1];
    if (ky != s->K) return false;
    if (!cml_milop_broadcast(xrr - 2, xs, yrr - 2, ys, &s->brank, s->batch)) return false;
    cml_milop_bcast_strides(s->brank, s->batch, xrr - 2, xs, s->xb);
    cml_milop_bcast_strides(s->brank, s->batch, yrr - 2, ys, s->yb);
    s->orank = 0;
    for (int32_t i = 0; i < s->brank; i++) s->out[s->orank++] = s->batch[i];
    if (xr > 1) s->out[s->orank++] = s->M;
    if (yr > 1) s->out[s->orank++] = s->N;
    return s->orank <= CML_MAX_DIMS;
}

static cml_status matmul_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *y = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(cml_mil_require(ctx, node, "y", &y));
    bool fl = cml_milop_is_float(x->dtype);
    if (!(fl || cml_milop_is_int(x->dtype)) || cml_milop_is_float(y->dtype) != fl ||
        !(fl || cml_milop_is_int(y->dtype)))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unsupported dtypes x=%s y=%s",
                            cml_dtype_name(x->dtype), cml_dtype_name(y->dtype));
    mm_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    CML_TRY(cml_mil_const_bool(ctx, node, "transpose_x", true, false, &a->tx));
    CML_TRY(cml_mil_const_bool(ctx, node, "transpose_y", true, false, &a->ty));
    node->attr = a;
    mm_shape s;
    if (!mm_shapes(a, x->rank, x->bound, y->rank, y->bound, &s)) {
        char b1[400], b2[400];
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x %s and y %s do not multiply",
                            cml_milop_shape_str(b1, sizeof b1, x->rank, x->bound),
                            cml_milop_shape_str(b2, sizeof b2, y->rank, y->bound));
    }
    if (fl && a->tx && x->rank > 1) node->scratch = (size_t)(s.M * s.K) * sizeof(float);
    bool fp16 = (x->is_const && !y->is_const) ? y->fp16 : x->fp16;
    return cml_mil_set_output(ctx, node, 0, fl ? CML_DTYPE_FLOAT32 : x->dtype, fl && fp16,
                              s.orank, s.out, x->dynamic || y->dynamic);
}

/* One float gemm of matmul; y may be an fp16 constant kept as stored (mil.h
 * half), offset yo in elements. */
static void mm_gemm(cml_threadpool *pool, const cml_mil_value *y, size_t M, size_t N, size_t K,
                    const float *A, size_t yo, bool ty, float *C) {
    size_t ldb = ty ? K : N;
    if (y->half)
        cml_k_gemm_f32_f16b(pool, M, N, K, A, K, (const uint16_t *)y->data + yo, ldb, ty, NULL, C,
                            N, false);
    else
        cml_k_gemm_f32(pool, M, N, K, A, K, (const float *)y->data + yo, ldb, ty, NULL, C, N,
                       false);
}

/* Batched float matmul without transpose_x: batches split over the pool,
 * one single-threaded gemm each (attention heads: many small gemms). */
typedef struct mm_batch_job {
    const mm_shape *s;
    const cml_mil_value *y;
    const float *xd;
    float *od;
    bool ty;
} mm_batch_job;

static void mm_batch_task(void *ctx, size_t begin, size_t end) {
    const mm_batch_job *j = ctx;
    const mm_shape *s = j->s;
    for (size_t b = begin; b < end; b++) {
        int64_t xo = 0, yo = 0, rest = (int64_t)b;
        for (int32_t i = s->brank - 1; i >= 0; i--) {
            int64_t idx = rest % s->batch[i];
            rest /= s->batch[i];
            xo += idx * s->xb[i];
            yo += idx * s->yb[i];
        }
        mm_gemm(NULL, j->y, (size_t)s->M, (size_t)s->N, (size_t)s->K,
                j->xd + xo * s->M * s->K, (size_t)(yo * s->K * s->N), j->ty,
                j->od + (int64_t)b * s->M * s->N);
    }
}

static cml_status matmul_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const mm_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *y = cml_mil_in(ctx, node, "y");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    mm_shape s;
    if (!mm_shapes(a, x->rank, x->shape, y->rank, y->shape, &s))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x and y do not multiply");
    CML_TRY(cml_mil_resize(ctx, out, s.orank, s.out));
    bool tx = a->tx && x->rank > 1, ty = a->ty && y->rank > 1;
    int64_t nbatch = cml_milop_prod(s.batch, 0, s.brank);
    int64_t M = s.M, N = s.N, K = s.K;
    if (nbatch == 0 || M == 0 || N == 0) return CML_OK;
    bool fl = cml_milop_is_float(x->dtype);
    float *tmp = NULL;
    if (fl && tx) {
        void *scr = NULL;
        CML_TRY(cml_milop_scratch(ctx, node, &scr));
        tmp = scr;
    }
    const float *xd = x->data;
    float *od = out->data;
    /* y shared by every batch and x contiguous: one gemm with M * nbatch rows */
    bool y_shared = true;
    for (int32_t i = 0; i < s.brank; i++) y_shared = y_shared && s.yb[i] == 0;
    if (fl && !tx && y_shared && K > 0) {
        int64_t xbatch = 1;
        for (int32_t i = 0; i < s.brank; i++) xbatch *= s.xb[i] ? s.batch[i] : 1;
        if (xbatch == nbatch) {
            /* x has every batch dim (none broadcast), so its matrices are contiguous */
            mm_gemm(ctx->pool, y, (size_t)(M * nbatch), (size_t)N, (size_t)K, xd, 0, ty, od);
            return CML_OK;
        }
    }
    if (fl && !tx && K > 0 && nbatch > 1 && cml_threadpool_size(ctx->pool) > 1) {
        mm_batch_job job = {.s = &s, .y = y, .xd = xd, .od = od, .ty = ty};
        cml_parallel_for(ctx->pool, (size_t)nbatch, 1, mm_batch_task, &job);
        return CML_OK;
    }
    int64_t idx[CML_MAX_DIMS] = {0};
    for (int64_t b = 0; b < nbatch; b++) {
        int64_t xo = 0, yo = 0;
        for (int32_t i = 0; i < s.brank; i++) {
            xo += idx[i] * s.xb[i];
            yo += idx[i] * s.yb[i];
        }
        xo *= M * K;
        yo *= K * N;
        int64_t oo = b * M * N;
        if (!fl) {
            int_matmul(M, N, K, x, xo, tx ? 1 : K, tx ? M : 1, y, yo, ty ? 1 : N, ty ? K : 1, NULL,
                       out, oo);
        } else if (K == 0) {
            memset(od + oo, 0, sizeof(float) * (size_t)(M * N));
        } else {
            const float *A = xd + xo;
            if (tx) {
                int64_t sz[2] = {M, K}, ss[2] = {1, M}, ds[2] = {K, 1};
                cml_k_copy_strided(sizeof(float), 2, sz, A, ss, tmp, ds);
                A = tmp;
            }
            mm_gemm(ctx->pool, y, (size_t)M, (size_t)N, (size_t)K, A, (size_t)yo, ty, od + oo);
        }
        for (int32_t i = s.brank - 1; i >= 0; i--) {
            if (++idx[i] < s.batch[i]) break;
            idx[i] = 0;
        }
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_matmul = {"matmul", matmul_infer, matmul_run, false};

/* ---- einsum(values = (a, b), equation) ------------------------------------------
 * Rank 4 "nchw,nwhu->nchu" (n and h broadcast) or rank 3 "chw,whr->chr"
 * (h broadcasts), up to relabeling: per (n, h), out[c, u] = a[c, :] . b[:, u]. */

static bool einsum_parse(const char *eq, int *rank) {
    char t[3][8];
    int n[3] = {0, 0, 0}, part = 0;
    for (const char *p = eq; *p; p++) {
        if (*p == ' ') continue;
        if (*p == ',') {
            if (part != 0) return false;
            part = 1;
        } else if (*p == '-' && p[1] == '>') {
            if (part != 1) return false;
            part = 2;
            p++;
        } else {
            if (n[part] >= 7) return false;
            t[part][n[part]++] = *p;
        }
    }
    if (part != 2 || n[0] != n[1] || n[0] != n[2] || (n[0] != 3 && n[0] != 4)) return false;
    /* map letters to indices in order of first appearance, as coremltools does */
    char seen[16];
    int ns = 0, v[3][8];
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < n[k]; i++) {
            int j = 0;
            while (j < ns && seen[j] != t[k][i]) j++;
            if (j == ns) {
                if (ns == 16) return false;
                seen[ns++] = t[k][i];
            }
            v[k][i] = j;
        }
    static const int r4[3][4] = {{0, 1, 2, 3}, {0, 3, 2, 4}, {0, 1, 2, 4}};
    static const int r3[3][3] = {{0, 1, 2}, {2, 1, 3}, {0, 1, 3}};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < n[0]; i++)
            if (v[k][i] != (n[0] == 4 ? r4[k][i] : r3[k][i])) return false;
    *rank = n[0];
    return true;
}

/* Normalized [N, C, H, W] x [N, W, H, U] view (rank 3 gets N = 1). */
static bool einsum_dims(const cml_mil_value *a, const cml_mil_value *b, bool bound, int64_t da[4],
                        int64_t db[4], int64_t *n, int64_t *h) {
    const int64_t *sa = bound ? a->bound : a->shape, *sb = bound ? b->bound : b->shape;
    int off = a->rank == 3 ? 1 : 0;
    da[0] = db[0] = 1;
    for (int i = 0; i < a->rank; i++) {
        da[i + off] = sa[i];
        db[i + off] = sb[i];
    }
    if (da[3] != db[1]) return false;
    if (da[0] != db[0] && da[0] != 1 && db[0] != 1) return false;
    if (da[2] != db[2] && da[2] != 1 && db[2] != 1) return false;
    *n = da[0] > db[0] ? da[0] : db[0];
    *h = da[2] > db[2] ? da[2] : db[2];
    return true;
}

static cml_status einsum_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    const cml_mil_param *p = cml_mil_param_find(node, "values");
    const char *eq;
    int rank;
    if (!p || p->count != 2)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "'values' must hold 2 tensors");
    CML_TRY(cml_mil_const_string(ctx, node, "equation", NULL, &eq));
    if (!eq || !einsum_parse(eq, &rank))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unsupported einsum equation '%s'",
                            eq ? eq : "");
    cml_mil_value *a = cml_mil_value_at(ctx, p->vids[0]), *b = cml_mil_value_at(ctx, p->vids[1]);
    if (!cml_milop_is_float(a->dtype) || !cml_milop_is_float(b->dtype) || a->rank != rank ||
        b->rank != rank)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                            "einsum needs two fp16/fp32 tensors of rank %d", rank);
    int64_t da[4] = {0}, db[4] = {0}, n = 0, h = 0;
    if (!einsum_dims(a, b, true, da, db, &n, &h))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "einsum operand shapes are incompatible");
    int64_t shape[4] = {n, da[1], h, db[3]};
    return cml_milop_out_like(ctx, node, 0, a, rank, rank == 4 ? shape : shape + 1,
                              b->dynamic);
}

static cml_status einsum_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const cml_mil_param *p = cml_mil_param_find(node, "values");
    cml_mil_value *a = cml_mil_value_at(ctx, p->vids[0]), *b = cml_mil_value_at(ctx, p->vids[1]);
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    int64_t da[4] = {0}, db[4] = {0}, n = 0, h = 0;
    if (!einsum_dims(a, b, false, da, db, &n, &h))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "einsum operand shapes are incompatible");
    int64_t C = da[1], W = da[3], U = db[3];
    int64_t shape[4] = {n, C, h, U};
    CML_TRY(cml_mil_resize(ctx, out, a->rank, a->rank == 4 ? shape : shape + 1));
    const float *ad = a->data, *bd = b->data;
    float *od = out->data;
    for (int64_t in = 0; in < n; in++)
        for (int64_t ih = 0; ih < h; ih++) {
            int64_t an = da[0] == 1 ? 0 : in, ah = da[2] == 1 ? 0 : ih;
            int64_t bn = db[0] == 1 ? 0 : in, bh = db[2] == 1 ? 0 : ih;
            const float *A = ad + (an * C * da[2] + ah) * W;      /* a[n, :, h, :], rows C */
            const float *B = bd + (bn * W * db[2] + bh) * U;      /* b[n, :, h, :], rows W */
            float *O = od + (in * C * h + ih) * U;                /* out[n, :, h, :] */
            if (C == 0 || U == 0) continue;
            if (W == 0) {
                for (int64_t c = 0; c < C; c++) memset(O + c * h * U, 0, sizeof(float) * (size_t)U);
                continue;
            }
            cml_k_gemm_f32(ctx->pool, (size_t)C, (size_t)U, (size_t)W, A, (size_t)(da[2] * W), B,
                           (size_t)(db[2] * U), false, NULL, O, (size_t)(h * U), false);
        }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_einsum = {"einsum", einsum_infer, einsum_run, false};
