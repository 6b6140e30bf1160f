/*
 * quantize / dequantize (iOS17): affine quantization with a scalar or a
 * per-axis (vector along `axis`) scale and zero point.
 *   quantize:   q = clip(round_half_even(x / scale) + zero_point) to int8/uint8
 *   dequantize: y = (q - zero_point) * scale, typed like scale
 */
#include <math.h>
#include <string.h>

#include "mil/ops.h"

typedef struct quant_attr {
    int32_t axis;     /* -1: scalar parameters */
    int64_t n;        /* parameter count (1 or the axis size) */
    const float *scale;
    const float *zp;  /* NULL: 0 */
    cml_dtype out;
} quant_attr;

static cml_status quant_params(cml_mil_ctx *ctx, cml_mil_node *node, const cml_mil_value *x,
                               quant_attr *a) {
    cml_mil_value *s = NULL;
    CML_TRY(cml_mil_require(ctx, node, "scale", &s));
    cml_mil_value *z = cml_mil_in(ctx, node, "zero_point");
    int64_t axis = 0;
    bool has_axis = cml_mil_in(ctx, node, "axis") != NULL;
    if (has_axis) CML_TRY(cml_mil_const_int(ctx, node, "axis", false, 0, &axis));
    a->n = cml_mil_bound_numel(s);
    a->axis = -1;
    if (s->rank >= 1 && a->n > 1) {
        if (!has_axis || !cml_milop_axis(axis, x->rank, &a->axis))
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "a vector scale needs a valid axis");
        if (x->bound[a->axis] != a->n)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                                "scale has %lld values for an axis of %lld", (long long)a->n,
                                (long long)x->bound[a->axis]);
    } else if (a->n != 1) {
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "scale must be a scalar or a vector");
    }
    if (z && cml_mil_bound_numel(z) != a->n)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "zero_point and scale differ in size");
    float *sc = cml_mil_alloc(ctx, sizeof(float) * (size_t)a->n);
    float *zp = z ? cml_mil_alloc(ctx, sizeof(float) * (size_t)a->n) : NULL;
    if (!sc || (z && !zp)) return CML_ERR_NOMEM;
    uint32_t c = 0;
    bool present = false;
    CML_TRY(cml_mil_const_floats(ctx, node, "scale", sc, (uint32_t)a->n, &c, &present));
    if (z) CML_TRY(cml_mil_const_floats(ctx, node, "zero_point", zp, (uint32_t)a->n, &c, &present));
    a->scale = sc;
    a->zp = zp;
    return CML_OK;
}

static cml_status quantize_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_milop_require_float(ctx, node, "input", &x));
    quant_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    const char *odt = NULL;
    CML_TRY(cml_mil_const_string(ctx, node, "output_dtype", NULL, &odt));
    if (!odt) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "missing 'output_dtype'");
    if (strcmp(odt, "int8") == 0) a->out = CML_DTYPE_INT8;
    else if (strcmp(odt, "uint8") == 0) a->out = CML_DTYPE_UINT8;
    else return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "output_dtype '%s'", odt);
    CML_TRY(quant_params(ctx, node, x, a));
    for (int64_t i = 0; i < a->n; i++)
        if (a->scale[i] == 0) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "zero scale");
    node->attr = a;
    return cml_mil_set_output(ctx, node, 0, a->out, false, x->rank, x->bound, x->dynamic);
}

static cml_status dequantize_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *s = NULL;
    CML_TRY(cml_mil_require(ctx, node, "input", &x));
    CML_TRY(cml_milop_require_float(ctx, node, "scale", &s));
    if (!cml_milop_is_int(x->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "input must be int8/uint8, got %s",
                            cml_dtype_name(x->dtype));
    quant_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    a->out = CML_DTYPE_FLOAT32;
    CML_TRY(quant_params(ctx, node, x, a));
    node->attr = a;
    return cml_mil_set_output(ctx, node, 0, CML_DTYPE_FLOAT32, s->fp16, x->rank, x->bound,
                              x->dynamic);
}

static cml_status quant_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const quant_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "input"), *out = cml_mil_out(ctx, node, 0);
    CML_TRY(cml_mil_resize(ctx, out, x->rank, x->shape));
    int64_t outer = 1, len = 1, inner = cml_mil_numel(x);
    if (a->axis >= 0) {
        if (x->shape[a->axis] != a->n)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "axis size changed");
        outer = cml_milop_prod(x->shape, 0, a->axis);
        len = a->n;
        inner = cml_milop_prod(x->shape, a->axis + 1, x->rank);
    }
    bool quant = a->out != CML_DTYPE_FLOAT32;
    float lo = a->out == CML_DTYPE_INT8 ? -128.0f : 0.0f, hi = a->out == CML_DTYPE_INT8 ? 127.0f : 255.0f;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < len; c++) {
            float s = a->scale[c], z = a->zp ? a->zp[c] : 0.0f;
            int64_t base = (o * len + c) * inner;
            if (quant) {
                const float *xd = (const float *)x->data + base;
                for (int64_t i = 0; i < inner; i++) {
                    float q = nearbyintf(xd[i] / s) + z;
                    q = isnan(q) ? 0.0f : q < lo ? lo : q > hi ? hi : q;
                    cml_milop_set_int(out->data, a->out, base + i, (int64_t)q);
                }
            } else {
                float *od = (float *)out->data + base;
                for (int64_t i = 0; i < inner; i++)
                    od[i] = ((float)cml_milop_get_int(x->data, x->dtype, base + i) - z) * s;
            }
        }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_quantize = {"quantize", quantize_infer, quant_run, false};
const cml_mil_op_def cml_mil_op_dequantize = {"dequantize", dequantize_infer, quant_run, false};
