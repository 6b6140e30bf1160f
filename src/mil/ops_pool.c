/*
 * max_pool, avg_pool, l2_pool over 1-D ([N, C, W], run as H = 1) and 2-D
 * inputs on the kernel layer's 2-D pools, and 3-D ([N, C, D, H, W]) on its
 * direct NCDHW path. Output size and padding come from cml_milop_window (valid, same,
 * same_lower, custom; ceil_mode as coremltools' spatial_dimensions_out_shape).
 * Max pool ignores padded cells; avg pool counts them unless
 * exclude_padding_from_average; l2_pool = sqrt(sum of squares in the window)
 * (sum pooling of x^2 through the avg kernel with divisor 1).
 * coremltools' ceil_mode rule only drops a trailing window when there is
 * padding, so with stride > kernel a last window can lie wholly past the
 * input: max pool then yields -inf there, avg / l2 pool 0.
 */
#include <string.h>

#include "kernels/kernels.h"
#include "mil/ops.h"

typedef enum pool_kind { POOL_MAX, POOL_AVG, POOL_L2 } pool_kind;

typedef struct pool_attr {
    pool_kind kind;
    int32_t sdims;
    cml_milop_pad_type pad_type;
    int64_t kernel[3], strides[3], pad[6];
    bool ceil_mode, exclude_pad;
} pool_attr;

static bool pool_params(const pool_attr *a, const int64_t *xs, cml_pool2d_params *p) {
    memset(p, 0, sizeof *p);
    p->n = xs[0];
    p->c = xs[1];
    int64_t D[2] = {1, 1}, K[2] = {1, 1}, s[2] = {1, 1}, o[2] = {1, 1}, pb[2] = {0, 0};
    int off = a->sdims == 1 ? 1 : 0;
    for (int32_t i = 0; i < a->sdims; i++) {
        int64_t after;
        D[i + off] = xs[2 + i];
        K[i + off] = a->kernel[i];
        s[i + off] = a->strides[i];
        if (!cml_milop_window(a->pad_type, xs[2 + i], a->kernel[i], a->strides[i], 1,
                              a->pad[2 * i], a->pad[2 * i + 1], a->ceil_mode, &o[i + off],
                              &pb[i + off], &after))
            return false;
    }
    p->h_in = D[0], p->w_in = D[1], p->k_h = K[0], p->k_w = K[1];
    p->stride_h = s[0], p->stride_w = s[1], p->dilation_h = 1, p->dilation_w = 1;
    p->h_out = o[0], p->w_out = o[1], p->pad_top = pb[0], p->pad_left = pb[1];
    p->count_include_pad = !a->exclude_pad;
    return true;
}

static void pool_out_shape(const pool_attr *a, const cml_pool2d_params *p, int64_t *shape) {
    shape[0] = p->n;
    shape[1] = p->c;
    if (a->sdims == 1) {
        shape[2] = p->w_out;
    } else {
        shape[2] = p->h_out;
        shape[3] = p->w_out;
    }
}

/* 3-D: window geometry per spatial dim; false when a window does not fit. */
static bool pool3_params(const pool_attr *a, const int64_t *xs, cml_pool3d_params *p) {
    p->n = xs[0], p->c = xs[1];
    p->count_include_pad = !a->exclude_pad;
    for (int32_t i = 0; i < 3; i++) {
        p->in[i] = xs[2 + i], p->k[i] = a->kernel[i], p->stride[i] = a->strides[i];
        if (!cml_milop_window(a->pad_type, xs[2 + i], a->kernel[i], a->strides[i], 1,
                              a->pad[2 * i], a->pad[2 * i + 1], a->ceil_mode, &p->out[i],
                              &p->pad_before[i], &p->pad_after[i]))
            return false;
    }
    return true;
}

static void pool3_shape(const cml_pool3d_params *p, int64_t *shape) {
    shape[0] = p->n, shape[1] = p->c;
    for (int32_t i = 0; i < 3; i++) shape[2 + i] = p->out[i];
}

static cml_status pool3_declare(cml_mil_ctx *ctx, cml_mil_node *node, const pool_attr *a,
                                const cml_mil_value *x) {
    cml_pool3d_params p;
    if (!pool3_params(a, x->bound, &p))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "the window is larger than the padded input");
    int64_t shape[5];
    pool3_shape(&p, shape);
    return cml_milop_out_like(ctx, node, 0, x, 5, shape, false);
}

static cml_status pool3_run(cml_mil_ctx *ctx, const cml_mil_node *node, const pool_attr *a,
                            const cml_mil_value *x, cml_mil_value *out) {
    cml_pool3d_params p;
    if (!pool3_params(a, x->shape, &p))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "the window is larger than the padded input");
    int64_t shape[5];
    pool3_shape(&p, shape);
    CML_TRY(cml_mil_resize(ctx, out, 5, shape));
    if (cml_mil_numel(out) == 0) return CML_OK;
    cml_pool3d_kind k = a->kind == POOL_MAX ? CML_POOL3D_MAX
                        : a->kind == POOL_AVG ? CML_POOL3D_AVG : CML_POOL3D_L2;
    cml_k_pool3d_f32(ctx->pool, &p, k, x->data, out->data);
    return CML_OK;
}

static cml_status read_n(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name, int32_t n,
                         bool required, int64_t def, int64_t *out) {
    int64_t v[8];
    uint32_t count = 0;
    bool present = false;
    CML_TRY(cml_mil_const_ints(ctx, node, name, v, 8, &count, &present));
    for (int32_t i = 0; i < n; i++) out[i] = def;
    if (!present) {
        if (required)
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "missing parameter '%s'", name);
        return CML_OK;
    }
    if (count != (uint32_t)n)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "'%s' must have %d entries, has %u",
                            name, n, count);
    for (int32_t i = 0; i < n; i++) out[i] = v[i];
    return CML_OK;
}

static cml_status pool_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_milop_require_float(ctx, node, "x", &x));
    if (x->rank < 3 || x->rank > 5)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must have rank 3, 4 or 5, has %d",
                            x->rank);
    pool_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    memset(a, 0, sizeof *a);
    const char *t = node->def->type;
    a->kind = t[0] == 'm' ? POOL_MAX : t[0] == 'a' ? POOL_AVG : POOL_L2;
    a->sdims = x->rank - 2;
    CML_TRY(cml_milop_pad_type_parse(ctx, node, false, &a->pad_type));
    CML_TRY(read_n(ctx, node, "kernel_sizes", a->sdims, true, 1, a->kernel));
    CML_TRY(read_n(ctx, node, "strides", a->sdims, false, 1, a->strides));
    CML_TRY(read_n(ctx, node, "pad", 2 * a->sdims, false, 0, a->pad));
    CML_TRY(cml_mil_const_bool(ctx, node, "ceil_mode", true, false, &a->ceil_mode));
    if (a->kind == POOL_AVG)
        CML_TRY(cml_mil_const_bool(ctx, node, "exclude_padding_from_average", true, false,
                                   &a->exclude_pad));
    if (a->pad_type != CML_MILOP_PAD_CUSTOM) memset(a->pad, 0, sizeof a->pad);
    if (a->ceil_mode && (a->pad_type == CML_MILOP_PAD_SAME || a->pad_type == CML_MILOP_PAD_SAME_LOWER))
        a->ceil_mode = false; /* ceil_mode does not apply to same padding */
    for (int32_t i = 0; i < a->sdims; i++)
        if (a->kernel[i] < 1 || a->strides[i] < 1 || a->pad[2 * i] < 0 || a->pad[2 * i + 1] < 0)
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG,
                                "kernel_sizes and strides must be >= 1 and pads >= 0");
    node->attr = a;
    if (a->sdims == 3) return pool3_declare(ctx, node, a, x);
    cml_pool2d_params p;
    if (!pool_params(a, x->bound, &p))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "the window is larger than the padded input");
    if (a->kind == POOL_L2) node->scratch = (size_t)cml_mil_bound_numel(x) * sizeof(float);
    int64_t shape[4];
    pool_out_shape(a, &p, shape);
    return cml_milop_out_like(ctx, node, 0, x, x->rank, shape, false);
}

static cml_status pool_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const pool_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    if (a->sdims == 3) return pool3_run(ctx, node, a, x, out);
    cml_pool2d_params p;
    if (!pool_params(a, x->shape, &p))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "the window is larger than the padded input");
    int64_t shape[4];
    pool_out_shape(a, &p, shape);
    CML_TRY(cml_mil_resize(ctx, out, x->rank, shape));
    if (cml_mil_numel(out) == 0) return CML_OK;
    switch (a->kind) {
    case POOL_MAX: cml_k_maxpool2d_f32(ctx->pool, &p, x->data, out->data); break;
    case POOL_AVG: cml_k_avgpool2d_f32(ctx->pool, &p, x->data, out->data); break;
    case POOL_L2: {
        void *scratch = NULL;
        CML_TRY(cml_milop_scratch(ctx, node, &scratch));
        size_t n = (size_t)cml_mil_numel(x);
        cml_k_unary_f32(CML_UN_SQUARE, x->data, scratch, n, 0, 0);
        p.count_include_pad = true;
        p.divisor_override = 1;
        cml_k_avgpool2d_f32(ctx->pool, &p, scratch, out->data);
        cml_k_unary_f32(CML_UN_SQRT, out->data, out->data, (size_t)cml_mil_numel(out), 0, 0);
        break;
    }
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_max_pool = {"max_pool", pool_infer, pool_run, false};
const cml_mil_op_def cml_mil_op_avg_pool = {"avg_pool", pool_infer, pool_run, false};
const cml_mil_op_def cml_mil_op_l2_pool = {"l2_pool", pool_infer, pool_run, false};
