/*
 * scaled_dot_product_attention (iOS18):
 *   out = softmax(Q K^T / sqrt(E) + mask) V
 * query [B..., L, E], key [B..., S, E], value [B..., S, EV] (same batch
 * dims, rank >= 3); attn_mask (optional) broadcastable to [B..., L, S]:
 * bool (False = masked out, i.e. -inf) or float (added to the scores).
 *
 * Fully masked rows: when every score of a query row is -inf, the softmax
 * is undefined (0/0). cml defines the output row as zeros (no NaN), like
 * PyTorch's fused CPU kernels; the row contributes nothing.
 *
 * Per batch: scores [L, S] in scratch (gemm, Q x K^T), scale + mask,
 * softmax over rows, then P x V into the output (gemm).
 */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "mil/ops.h"

static bool same_batch(const cml_mil_value *a, const cml_mil_value *b, bool bound) {
    const int64_t *sa = bound ? a->bound : a->shape, *sb = bound ? b->bound : b->shape;
    for (int32_t i = 0; i < a->rank - 2; i++)
        if (sa[i] != sb[i]) return false;
    return true;
}

static cml_status sdpa_check(cml_mil_ctx *ctx, const cml_mil_node *node, const cml_mil_value *q,
                             const cml_mil_value *k, const cml_mil_value *v,
                             const cml_mil_value *m, bool bound) {
    const int64_t *qs = bound ? q->bound : q->shape, *ks = bound ? k->bound : k->shape;
    const int64_t *vs = bound ? v->bound : v->shape;
    int32_t r = q->rank;
    if (k->rank != r || v->rank != r || r < 3)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "query, key, value need one rank >= 3");
    if (!same_batch(q, k, bound) || !same_batch(q, v, bound))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "query, key, value batch dims differ");
    if (qs[r - 1] != ks[r - 1] || ks[r - 2] != vs[r - 2])
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                            "query/key embedding or key/value sequence lengths differ");
    if (m) {
        const int64_t *ms = bound ? m->bound : m->shape;
        int64_t full[CML_MAX_DIMS], tmp[CML_MAX_DIMS];
        int32_t rt;
        memcpy(full, qs, sizeof(int64_t) * (size_t)r);
        full[r - 1] = ks[r - 2];
        if (m->rank > r || !cml_milop_broadcast(r, full, m->rank, ms, &rt, tmp) ||
            memcmp(tmp, full, sizeof(int64_t) * (size_t)r) != 0)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                                "attn_mask does not broadcast to [batch..., L, S]");
    }
    return CML_OK;
}

static cml_status sdpa_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *q = NULL, *k = NULL, *v = NULL;
    CML_TRY(cml_milop_require_float(ctx, node, "query", &q));
    CML_TRY(cml_milop_require_float(ctx, node, "key", &k));
    CML_TRY(cml_milop_require_float(ctx, node, "value", &v));
    cml_mil_value *m = cml_mil_in(ctx, node, "attn_mask");
    if (m && (m->kind != CML_MIL_KIND_TENSOR ||
              (m->dtype != CML_DTYPE_BOOL && !cml_milop_is_float(m->dtype))))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "attn_mask must be bool or float");
    CML_TRY(sdpa_check(ctx, node, q, k, v, m, true));
    int32_t r = q->rank;
    int64_t L = q->bound[r - 2], S = k->bound[r - 2];
    node->scratch = (size_t)(L * S) * sizeof(float) + (size_t)L;
    int64_t shape[CML_MAX_DIMS];
    memcpy(shape, q->bound, sizeof shape);
    shape[r - 1] = v->bound[r - 1];
    return cml_milop_out_like(ctx, node, 0, q, r, shape,
                              k->dynamic || v->dynamic || (m && m->dynamic));
}

static cml_status sdpa_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *q = cml_mil_in(ctx, node, "query"), *k = cml_mil_in(ctx, node, "key");
    cml_mil_value *v = cml_mil_in(ctx, node, "value"), *m = cml_mil_in(ctx, node, "attn_mask");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    CML_TRY(sdpa_check(ctx, node, q, k, v, m, false));
    int32_t r = q->rank;
    int64_t L = q->shape[r - 2], E = q->shape[r - 1], S = k->shape[r - 2], EV = v->shape[r - 1];
    int64_t shape[CML_MAX_DIMS];
    memcpy(shape, q->shape, sizeof shape);
    shape[r - 1] = EV;
    CML_TRY(cml_mil_resize(ctx, out, r, shape));
    int64_t nb = cml_milop_prod(q->shape, 0, r - 2);
    if (nb * L * EV == 0) return CML_OK;
    void *scr = NULL;
    CML_TRY(cml_milop_scratch(ctx, node, &scr));
    if ((size_t)(L * S) * sizeof(float) + (size_t)L > node->scratch)
        return cml_mil_fail(ctx, node, CML_ERR_INTERNAL, "scratch too small");
    float *P = scr;
    uint8_t *dead = (uint8_t *)(P + L * S);
    /* mask strides over the full [batch..., L, S] index space */
    int64_t full[CML_MAX_DIMS], mst[CML_MAX_DIMS] = {0};
    memcpy(full, q->shape, sizeof(int64_t) * (size_t)r);
    full[r - 1] = S;
    if (m) cml_milop_bcast_strides(r, full, m->rank, m->shape, mst);
    const float *qd = q->data, *kd = k->data, *vd = v->data;
    float *od = out->data;
    float scale = E > 0 ? 1.0f / sqrtf((float)E) : 1.0f;
    int64_t bidx[CML_MAX_DIMS] = {0};
    for (int64_t b = 0; b < nb; b++) {
        if (S == 0) {
            memset(od + b * L * EV, 0, sizeof(float) * (size_t)(L * EV));
            continue;
        }
        if (E > 0) {
            cml_k_gemm_f32(ctx->pool, (size_t)L, (size_t)S, (size_t)E, qd + b * L * E, (size_t)E,
                           kd + b * S * E, (size_t)E, true, NULL, P, (size_t)S, false);
            cml_k_unary_f32(CML_UN_LINEAR, P, P, (size_t)(L * S), scale, 0);
        } else {
            memset(P, 0, sizeof(float) * (size_t)(L * S));
        }
        if (m) {
            int64_t moff = 0;
            for (int32_t d = 0; d < r - 2; d++) moff += bidx[d] * mst[d];
            for (int64_t l = 0; l < L; l++)
                for (int64_t s = 0; s < S; s++) {
                    int64_t o = moff + l * mst[r - 2] + s * mst[r - 1];
                    float *p = &P[l * S + s];
                    if (m->dtype == CML_DTYPE_BOOL) {
                        if (!((const uint8_t *)m->data)[o]) *p = -INFINITY;
                    } else {
                        *p += ((const float *)m->data)[o];
                    }
                }
        }
        for (int64_t l = 0; l < L; l++) {
            bool all = true;
            for (int64_t s = 0; s < S && all; s++) all = P[l * S + s] == -INFINITY;
            dead[l] = all;
        }
        cml_k_softmax_f32(P, P, (size_t)L, (size_t)S, 1, false);
        for (int64_t l = 0; l < L; l++)
            if (dead[l]) memset(P + l * S, 0, sizeof(float) * (size_t)S);
        cml_k_gemm_f32(ctx->pool, (size_t)L, (size_t)EV, (size_t)S, P, (size_t)S, vd + b * S * EV,
                       (size_t)EV, false, NULL, od + b * L * EV, (size_t)EV, false);
        for (int32_t d = r - 3; d >= 0; d--) {
            if (++bidx[d] < q->shape[d]) break;
            bidx[d] = 0;
        }
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_scaled_dot_product_attention = {
    "scaled_dot_product_attention", sdpa_infer, sdpa_run, false};
