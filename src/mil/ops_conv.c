/*
 * conv and conv_transpose for 1-D ([N, C, W], run as H = 1) and 2-D
 * ([N, C, H, W]) inputs on the kernel layer's NCHW convolutions, and 3-D
 * ([N, C, D, H, W]) inputs on its direct NCDHW path.
 *
 * Padding per spatial dim (cml_milop_window): valid; custom (pad =
 * [before_0, after_0, before_1, after_1]); same = floor(P/2) before, the
 * rest after; same_lower = the extra one before. Padding is recomputed at
 * run time from the current spatial size (dynamic shapes).
 */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "mil/conv_geom.h"
#include "mil/ops.h"

typedef struct conv_attr {
    cml_milop_conv_geom geom;
    bool has_output_shape;      /* conv_transpose */
    int64_t output_shape[5];    /* spatial dims at [2..] */
    float act_min, act_max;     /* clamp fused in by fuse.c (conv only) */
} conv_attr;

/* Common parameter parsing; x rank 3, 4 or 5. */
static cml_status conv_common(cml_mil_ctx *ctx, cml_mil_node *node, cml_mil_value **x_out,
                              cml_mil_value **w_out, conv_attr **attr_out) {
    cml_mil_value *x = NULL, *w = NULL;
    CML_TRY(cml_milop_require_float(ctx, node, "x", &x));
    CML_TRY(cml_milop_require_float(ctx, node, "weight", &w));
    if (x->rank < 3 || x->rank > 5)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must have rank 3, 4 or 5, has %d",
                            x->rank);
    if (w->rank != x->rank)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "weight must have rank %d, has %d", x->rank,
                            w->rank);
    conv_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    memset(a, 0, sizeof *a);
    a->act_min = -INFINITY;
    a->act_max = INFINITY;
    CML_TRY(cml_milop_conv_geom_read(ctx, node, x->rank - 2, &a->geom));
    node->attr = a;
    *x_out = x;
    *w_out = w;
    *attr_out = a;
    return CML_OK;
}

static cml_status check_bias(cml_mil_ctx *ctx, const cml_mil_node *node, int64_t c_out) {
    cml_mil_value *b = NULL;
    return cml_milop_opt_vector(ctx, node, "bias", c_out, &b);
}

/* ---- 3-D (rank-5) geometry --------------------------------------------------------- */

/* Forward conv: output size and leading pad per spatial dim; false when empty. */
static bool conv3_params(const cml_milop_conv_geom *g, const int64_t *xs, const int64_t *ws,
                         cml_conv3d_params *p) {
    p->n = xs[0], p->c_in = xs[1], p->c_out = ws[0], p->groups = g->groups;
    for (int32_t i = 0; i < 3; i++) {
        int64_t after;
        p->in[i] = xs[2 + i], p->k[i] = ws[2 + i];
        p->stride[i] = g->strides[i], p->dilation[i] = g->dilations[i];
        if (!cml_milop_window(g->pad_type, xs[2 + i], ws[2 + i], g->strides[i], g->dilations[i],
                              g->pad[2 * i], g->pad[2 * i + 1], false, &p->out[i],
                              &p->pad_before[i], &after))
            return false;
    }
    return true;
}

static void conv3_shape(const cml_conv3d_params *p, int64_t *shape) {
    shape[0] = p->n, shape[1] = p->c_out;
    for (int32_t i = 0; i < 3; i++) shape[2 + i] = p->out[i];
}

static cml_status conv3_declare(cml_mil_ctx *ctx, cml_mil_node *node, const conv_attr *a,
                                const cml_mil_value *x, const cml_mil_value *w) {
    cml_conv3d_params p;
    if (!conv3_params(&a->geom, x->bound, w->bound, &p))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "the kernel is larger than the padded input");
    int64_t shape[5];
    conv3_shape(&p, shape);
    return cml_milop_out_like(ctx, node, 0, x, 5, shape, false);
}

static cml_status conv3_run(cml_mil_ctx *ctx, const cml_mil_node *node, const conv_attr *a) {
    const cml_mil_value *x = cml_mil_in(ctx, node, "x"), *w = cml_mil_in(ctx, node, "weight");
    const cml_mil_value *b = cml_mil_in(ctx, node, "bias");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    cml_conv3d_params p;
    if (x->shape[1] != w->shape[1] * a->geom.groups || !conv3_params(&a->geom, x->shape, w->shape, &p))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "input shape does not fit the kernel");
    int64_t shape[5];
    conv3_shape(&p, shape);
    CML_TRY(cml_mil_resize(ctx, out, 5, shape));
    if (cml_mil_numel(out) == 0) return CML_OK;
    cml_k_conv3d_f32(ctx->pool, &p, x->data, w->data, b ? b->data : NULL, out->data, a->act_min,
                     a->act_max);
    return CML_OK;
}

static cml_status conv_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *w = NULL;
    conv_attr *a = NULL;
    CML_TRY(conv_common(ctx, node, &x, &w, &a));
    int64_t cin = x->bound[1], cout = w->bound[0];
    if (cin % a->geom.groups || cout % a->geom.groups || w->bound[1] * a->geom.groups != cin)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                            "x has %lld channels; weight [%lld, %lld, ...] with groups %lld",
                            (long long)cin, (long long)cout, (long long)w->bound[1],
                            (long long)a->geom.groups);
    CML_TRY(check_bias(ctx, node, cout));
    if (a->geom.sdims == 3) return conv3_declare(ctx, node, a, x, w);
    return cml_milop_conv_declare(ctx, node, &a->geom, x, w->bound, w->half);
}

static cml_status conv_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const conv_attr *a = node->attr;
    if (a->geom.sdims == 3) return conv3_run(ctx, node, a);
    const cml_mil_value *w = cml_mil_in(ctx, node, "weight");
    return cml_milop_conv_execute(ctx, node, &a->geom, cml_mil_in(ctx, node, "x"), w->shape,
                                  w->data, w->half, cml_mil_in(ctx, node, "bias"),
                                  cml_mil_in(ctx, node, "residual"), a->act_min, a->act_max);
}

const cml_mil_op_def cml_mil_op_conv = {"conv", conv_infer, conv_run, false};

bool cml_mil_conv_fuse_clamp(cml_mil_node *node, float lo, float hi) {
    if (node->def != &cml_mil_op_conv || !node->attr) return false;
    conv_attr *a = node->attr;
    a->act_min = lo > a->act_min ? lo : a->act_min;
    a->act_max = hi < a->act_max ? hi : a->act_max;
    return true;
}

/* ---- conv_transpose ---------------------------------------------------------------
 * weight [C_in, C_out/groups, *K]. Output size: output_shape when given,
 * else custom (D-1)s + Keff - pads, valid (D-1)s + Keff, same D*s. */

/* Output size and cropped leading pad of spatial dim i of a conv_transpose
 * with input size Di and kernel Ki; false when empty. */
static bool convt_dim(const conv_attr *a, int32_t i, int64_t Di, int64_t Ki, int64_t *out,
                      int64_t *before) {
    int64_t si = a->geom.strides[i], di = a->geom.dilations[i];
    int64_t keff = (Ki - 1) * di + 1, full = (Di - 1) * si + keff, oi;
    if (a->has_output_shape) {
        oi = a->output_shape[2 + i];
    } else if (a->geom.pad_type == CML_MILOP_PAD_SAME || a->geom.pad_type == CML_MILOP_PAD_SAME_LOWER) {
        oi = Di * si;
    } else if (a->geom.pad_type == CML_MILOP_PAD_CUSTOM) {
        oi = full - a->geom.pad[2 * i] - a->geom.pad[2 * i + 1];
    } else {
        oi = full;
    }
    if (a->geom.pad_type == CML_MILOP_PAD_CUSTOM) {
        *before = a->geom.pad[2 * i];
    } else if (a->geom.pad_type == CML_MILOP_PAD_VALID) {
        *before = 0;
    } else {
        int64_t P = full - oi;
        if (P < 0) P = 0;
        *before = a->geom.pad_type == CML_MILOP_PAD_SAME ? P / 2 : P - P / 2;
    }
    *out = oi;
    return oi > 0 && Di > 0;
}

static bool convt_params(const conv_attr *a, const int64_t *xs, const int64_t *ws,
                         cml_conv2d_params *p) {
    memset(p, 0, sizeof *p);
    p->n = xs[0];
    p->c_in = xs[1];
    p->c_out = ws[1] * a->geom.groups;
    p->groups = a->geom.groups;
    int64_t D[2] = {1, 1}, K[2] = {1, 1}, s[2] = {1, 1}, d[2] = {1, 1}, o[2] = {1, 1},
            pb[2] = {0, 0};
    int off = a->geom.sdims == 1 ? 1 : 0;
    for (int32_t i = 0; i < a->geom.sdims; i++) {
        int64_t Di = xs[2 + i], Ki = ws[2 + i];
        if (!convt_dim(a, i, Di, Ki, &o[i + off], &pb[i + off])) return false;
        D[i + off] = Di, K[i + off] = Ki;
        s[i + off] = a->geom.strides[i], d[i + off] = a->geom.dilations[i];
    }
    p->h_in = D[0], p->w_in = D[1], p->k_h = K[0], p->k_w = K[1];
    p->stride_h = s[0], p->stride_w = s[1], p->dilation_h = d[0], p->dilation_w = d[1];
    p->h_out = o[0], p->w_out = o[1], p->pad_top = pb[0], p->pad_left = pb[1];
    return true;
}

static bool convt3_params(const conv_attr *a, const int64_t *xs, const int64_t *ws,
                          cml_conv3d_params *p) {
    p->n = xs[0], p->c_in = xs[1], p->c_out = ws[1] * a->geom.groups, p->groups = a->geom.groups;
    for (int32_t i = 0; i < 3; i++) {
        p->in[i] = xs[2 + i], p->k[i] = ws[2 + i];
        p->stride[i] = a->geom.strides[i], p->dilation[i] = a->geom.dilations[i];
        if (!convt_dim(a, i, xs[2 + i], ws[2 + i], &p->out[i], &p->pad_before[i])) return false;
    }
    return true;
}

static cml_status convt3_run(cml_mil_ctx *ctx, const cml_mil_node *node, const conv_attr *a) {
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *w = cml_mil_in(ctx, node, "weight");
    cml_mil_value *b = cml_mil_in(ctx, node, "bias"), *out = cml_mil_out(ctx, node, 0);
    cml_conv3d_params p;
    if (x->shape[1] != w->shape[0] || !convt3_params(a, x->shape, w->shape, &p))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "input shape does not fit the kernel");
    int64_t shape[5];
    conv3_shape(&p, shape);
    CML_TRY(cml_mil_resize(ctx, out, 5, shape));
    if (cml_mil_numel(out) == 0) return CML_OK;
    cml_k_conv_transpose3d_f32(ctx->pool, &p, x->data, w->data, b ? b->data : NULL, out->data);
    return CML_OK;
}

static cml_status convt_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *w = NULL;
    conv_attr *a = NULL;
    CML_TRY(conv_common(ctx, node, &x, &w, &a));
    int64_t cin = x->bound[1], cout = w->bound[1] * a->geom.groups;
    if (w->bound[0] != cin || cin % a->geom.groups)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                            "x has %lld channels; weight [%lld, %lld, ...] with groups %lld",
                            (long long)cin, (long long)w->bound[0], (long long)w->bound[1],
                            (long long)a->geom.groups);
    CML_TRY(check_bias(ctx, node, cout));
    uint32_t count = 0;
    bool present = false;
    int64_t os[CML_MAX_DIMS];
    CML_TRY(cml_mil_const_ints(ctx, node, "output_shape", os, CML_MAX_DIMS, &count, &present));
    if (present) {
        if (count != (uint32_t)x->rank || os[1] != cout)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                                "output_shape must be [N, %lld, spatial...]", (long long)cout);
        a->has_output_shape = true;
        memcpy(a->output_shape, os, sizeof(int64_t) * (size_t)x->rank);
    }
    if (a->geom.sdims == 3) {
        cml_conv3d_params p3;
        int64_t shape[5];
        if (!convt3_params(a, x->bound, w->bound, &p3))
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "empty conv_transpose output");
        conv3_shape(&p3, shape);
        return cml_milop_out_like(ctx, node, 0, x, 5, shape, false);
    }
    cml_conv2d_params p;
    if (!convt_params(a, x->bound, w->bound, &p))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "empty conv_transpose output");
    node->scratch = cml_k_conv_transpose2d_scratch_size(&p);
    int64_t shape[4];
    cml_milop_conv_out_shape(&a->geom, &p, shape);
    return cml_milop_out_like(ctx, node, 0, x, x->rank, shape, false);
}

static cml_status convt_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const conv_attr *a = node->attr;
    if (a->geom.sdims == 3) return convt3_run(ctx, node, a);
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *w = cml_mil_in(ctx, node, "weight");
    cml_mil_value *b = cml_mil_in(ctx, node, "bias"), *out = cml_mil_out(ctx, node, 0);
    cml_conv2d_params p;
    if (x->shape[1] != w->shape[0] || !convt_params(a, x->shape, w->shape, &p))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "input shape does not fit the kernel");
    int64_t shape[4];
    cml_milop_conv_out_shape(&a->geom, &p, shape);
    CML_TRY(cml_mil_resize(ctx, out, x->rank, shape));
    if (cml_mil_numel(out) == 0) return CML_OK;
    void *scratch = NULL;
    CML_TRY(cml_milop_scratch(ctx, node, &scratch));
    if (cml_k_conv_transpose2d_scratch_size(&p) > node->scratch)
        return cml_mil_fail(ctx, node, CML_ERR_INTERNAL, "scratch too small for this input");
    cml_k_conv_transpose2d_f32(ctx->pool, &p, x->data, w->data, b ? b->data : NULL, out->data,
                               scratch);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_conv_transpose = {"conv_transpose", convt_infer, convt_run, false};
