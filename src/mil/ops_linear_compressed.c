/*
 * linear(x, weight, bias) whose weight is a deferred constexpr (compressed.h):
 * y = x * W^T + b with W [N, K] decoded tile by tile (`tile` rows, about
 * 128 KiB of fp32) into scratch by the constexpr's own range decoder
 * (constexpr_decode.h), each tile followed by the same cml_k_gemm_f32 call
 * linear makes, on output columns [n0, n0 + tile) (ldc = N). The decoded rows
 * are the values folding would have produced, bit for bit; every output
 * element is one K-long dot product whatever N the gemm sees, so results
 * match the materialize-then-linear path (test_mil_compressed checks this).
 *
 * A one-row x (decode steps of an LLM) with a blockwise int4 / int8 weight
 * skips the tiles: cml_k_qgemv_f32 decodes each weight in registers inside
 * the dot product, with each output summed in the same order as the gemm
 * (kernels.h), so results are the same bits.
 */
#include <string.h>

#include "kernels/kernels.h"
#include "mil/compressed.h"
#include "mil/constexpr_decode.h"
#include "mil/ops.h"

#define TILE_BYTES (128 * 1024)

static cml_status lc_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_compressed_attr *a = node->attr;
    if (!a || !cml_mil_compressed_deferred(a->src)) {
        /* the constexpr could not stay compressed: it was folded */
        node->def = &cml_mil_op_linear;
        node->attr = NULL;
        return cml_mil_op_linear.infer(ctx, node);
    }
    CML_TRY(cml_mil_op_linear.infer(ctx, node));
    node->attr = a;
    const cml_mil_value *w = cml_mil_in(ctx, node, "weight");
    int64_t n = w->bound[0], k = w->bound[1];
    int64_t tile = k > 0 ? (int64_t)(TILE_BYTES / sizeof(float)) / k : n;
    if (tile < 8) tile = 8;
    if (tile > n) tile = n;
    if (tile < 1) tile = 1;
    a->tile = tile;
    a->gemv = cml_constexpr_qgemv_params(ctx, a->src, &a->qgemv) && a->qgemv.N == (size_t)n &&
              a->qgemv.K == (size_t)k;
    node->scratch = (size_t)(tile * (k > 0 ? k : 1)) * sizeof(float);
    return CML_OK;
}

static cml_status lc_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const cml_mil_compressed_attr *a = node->attr;
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
    const float *bias = b ? b->data : NULL;
    float *o = out->data;
    if (din == 0) {
        for (int64_t i = 0; i < m * dout; i++) o[i] = bias ? bias[i % dout] : 0.0f;
        return CML_OK;
    }
    if (m == 1 && a->gemv) {
        cml_qgemv_params qp = a->qgemv;
        qp.bias = bias;
        cml_k_qgemv_f32(ctx->pool, &qp, x->data, o);
        return CML_OK;
    }
    void *scr = NULL;
    CML_TRY(cml_milop_scratch(ctx, node, &scr));
    float *wt = scr;
    for (int64_t n0 = 0; n0 < dout; n0 += a->tile) {
        int64_t nt = dout - n0 < a->tile ? dout - n0 : a->tile;
        cml_constexpr_decode_range(ctx, a->src, n0 * din, nt * din, wt);
        cml_k_gemm_f32(ctx->pool, (size_t)m, (size_t)nt, (size_t)din, x->data, (size_t)din, wt,
                       (size_t)din, true, bias ? bias + n0 : NULL, o + n0, (size_t)dout, false);
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_linear_compressed = {"linear", lc_infer, lc_run, false};
