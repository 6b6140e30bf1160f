/*
 * conv_quantized (iOS15): conv whose const weight is quantized.
 *
 *   quantization_type "linear": W = Wq * quant_scale + quant_bias, where
 *     quant_scale / quant_bias are scalars or one value per output channel
 *     ([C_out], or any shape with C_out elements);
 *   quantization_type "lut": W = quant_scale[Wq], quant_scale being the
 *     2^nbits-entry lookup table (as the NeuralNetwork spec's
 *     lookupTableQuantization); quant_bias is accepted and ignored.
 * nbits (default 8) must be in [1, 8] and every Wq < 2^nbits. Wq is uint8
 * (int8 accepted), one element per weight. The weight is dequantized ONCE
 * at load into a graph-owned fp32 buffer; run() is the kernel layer's
 * cml_k_conv2d_f32 on it. 1-D ([N, C, W]) and 2-D inputs; 3-D is rejected.
 * Padding and the other conv parameters follow `conv` (ops_conv.c).
 */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "mil/conv_geom.h"
#include "mil/ops.h"

typedef struct cq_attr {
    cml_milop_conv_geom geom;
    int64_t wshape[4];
    float *w;      /* dequantized weight [C_out, C_in/groups, k...] */
} cq_attr;

/* Reads a const float tensor (scale / bias / lut); fails unless const. */
static cml_status const_floats(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                               cml_mil_value **out) {
    cml_mil_value *v = NULL;
    CML_TRY(cml_mil_require(ctx, node, name, &v));
    if (v->kind != CML_MIL_KIND_TENSOR ||
        !(cml_milop_is_float(v->dtype) || cml_milop_is_int(v->dtype)))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "'%s' must be a float tensor", name);
    if (!cml_milop_known(v))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "'%s' must be a constant", name);
    *out = v;
    return CML_OK;
}

static cml_status cq_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *w = NULL, *qs = NULL, *qb = NULL;
    CML_TRY(cml_milop_require_float(ctx, node, "x", &x));
    CML_TRY(cml_mil_require(ctx, node, "weight", &w));
    if (x->rank == 5)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "3-D convolution is not supported");
    if (x->rank != 3 && x->rank != 4)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must have rank 3 or 4, has %d", x->rank);
    if (w->kind != CML_MIL_KIND_TENSOR ||
        (w->dtype != CML_DTYPE_UINT8 && w->dtype != CML_DTYPE_INT8))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "'weight' must be uint8, got %s",
                            w->kind == CML_MIL_KIND_TENSOR ? cml_dtype_name(w->dtype) : "a non-tensor");
    if (!cml_milop_known(w))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "'weight' must be a constant");
    if (w->rank != x->rank)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "weight must have rank %d, has %d", x->rank,
                            w->rank);
    cq_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    memset(a, 0, sizeof *a);
    memcpy(a->wshape, w->bound, sizeof(int64_t) * (size_t)w->rank);
    CML_TRY(cml_milop_conv_geom_read(ctx, node, x->rank - 2, &a->geom));
    int64_t cin = x->bound[1], cout = w->bound[0];
    if (cin % a->geom.groups || cout % a->geom.groups || w->bound[1] * a->geom.groups != cin)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                            "x has %lld channels; weight [%lld, %lld, ...] with groups %lld",
                            (long long)cin, (long long)cout, (long long)w->bound[1],
                            (long long)a->geom.groups);
    cml_mil_value *bias = NULL;
    CML_TRY(cml_milop_opt_vector(ctx, node, "bias", cout, &bias));

    /* quantization parameters */
    const char *qt = NULL;
    int64_t nbits = 8;
    CML_TRY(cml_mil_const_string(ctx, node, "quantization_type", NULL, &qt));
    if (!qt)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "missing parameter 'quantization_type'");
    bool lut = strcmp(qt, "lut") == 0;
    if (!lut && strcmp(qt, "linear") != 0)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                            "quantization_type '%s' (linear or lut)", qt);
    CML_TRY(cml_mil_const_int(ctx, node, "nbits", true, 8, &nbits));
    if (nbits < 1 || nbits > 8)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "nbits %lld is not in [1, 8]",
                            (long long)nbits);
    CML_TRY(const_floats(ctx, node, "quant_scale", &qs));
    if (!lut || cml_mil_in(ctx, node, "quant_bias")) CML_TRY(const_floats(ctx, node, "quant_bias", &qb));
    int64_t ns = cml_mil_numel(qs), nb = qb ? cml_mil_numel(qb) : 0;
    int64_t levels = (int64_t)1 << nbits;
    if (lut && ns != levels)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                            "lut 'quant_scale' has %lld entries, expected 2^nbits = %lld",
                            (long long)ns, (long long)levels);
    if (!lut && ((ns != 1 && ns != cout) || (nb != 1 && nb != cout)))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                            "'quant_scale' / 'quant_bias' must have 1 or C_out = %lld elements",
                            (long long)cout);

    /* dequantize once */
    int64_t n = cml_mil_bound_numel(w), per = cout > 0 ? n / cout : 0;
    a->w = cml_mil_alloc(ctx, sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!a->w) return CML_ERR_NOMEM;
    for (int64_t i = 0; i < n; i++) {
        int64_t q = cml_milop_get_int(w->data, w->dtype, i);
        if (w->dtype == CML_DTYPE_INT8 && lut) q &= 0xFF;
        if (lut && (q < 0 || q >= levels))
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG,
                                "weight index %lld is outside the %lld-entry table", (long long)q,
                                (long long)levels);
        if (!lut && w->dtype == CML_DTYPE_UINT8 && q >= levels)
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG,
                                "weight value %lld does not fit in nbits = %lld", (long long)q,
                                (long long)nbits);
        if (lut) {
            a->w[i] = (float)cml_milop_get_num(qs->data, qs->dtype, q);
        } else {
            int64_t oc = per > 0 ? i / per : 0;
            double sc = cml_milop_get_num(qs->data, qs->dtype, ns == 1 ? 0 : oc);
            double bi = cml_milop_get_num(qb->data, qb->dtype, nb == 1 ? 0 : oc);
            a->w[i] = (float)((double)q * sc + bi);
        }
    }
    node->attr = a;
    return cml_milop_conv_declare(ctx, node, &a->geom, x, a->wshape, false);
}

static cml_status cq_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const cq_attr *a = node->attr;
    return cml_milop_conv_execute(ctx, node, &a->geom, cml_mil_in(ctx, node, "x"), a->wshape, a->w,
                                  false, cml_mil_in(ctx, node, "bias"), NULL, -INFINITY,
                                  INFINITY);
}

const cml_mil_op_def cml_mil_op_conv_quantized = {"conv_quantized", cq_infer, cq_run, false};
