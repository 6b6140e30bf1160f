#include "mil/conv_geom.h"

#include <string.h>

static cml_status read_spatial(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                               int32_t n, int64_t def, int64_t *out) {
    int64_t v[8];
    uint32_t count = 0;
    bool present = false;
    CML_TRY(cml_mil_const_ints(ctx, node, name, v, 8, &count, &present));
    for (int32_t i = 0; i < n; i++) out[i] = def;
    if (!present) return CML_OK;
    if (count != (uint32_t)n)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "'%s' must have %d entries, has %u",
                            name, n, count);
    for (int32_t i = 0; i < n; i++) out[i] = v[i];
    return CML_OK;
}

cml_status cml_milop_conv_geom_read(cml_mil_ctx *ctx, const cml_mil_node *node, int32_t sdims,
                                    cml_milop_conv_geom *g) {
    memset(g, 0, sizeof *g);
    g->sdims = sdims;
    CML_TRY(cml_milop_pad_type_parse(ctx, node, false, &g->pad_type));
    CML_TRY(read_spatial(ctx, node, "strides", sdims, 1, g->strides));
    CML_TRY(read_spatial(ctx, node, "dilations", sdims, 1, g->dilations));
    CML_TRY(read_spatial(ctx, node, "pad", 2 * sdims, 0, g->pad));
    CML_TRY(cml_mil_const_int(ctx, node, "groups", true, 1, &g->groups));
    for (int32_t i = 0; i < sdims; i++)
        if (g->strides[i] < 1 || g->dilations[i] < 1 || g->pad[2 * i] < 0 || g->pad[2 * i + 1] < 0)
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG,
                                "strides and dilations must be >= 1 and pads >= 0");
    if (g->groups < 1) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "groups must be >= 1");
    if (g->pad_type != CML_MILOP_PAD_CUSTOM) memset(g->pad, 0, sizeof g->pad);
    return CML_OK;
}

bool cml_milop_conv_params(const cml_milop_conv_geom *g, const int64_t *xs, const int64_t *ws,
                           cml_conv2d_params *p) {
    memset(p, 0, sizeof *p);
    p->n = xs[0];
    p->c_in = xs[1];
    p->c_out = ws[0];
    p->groups = g->groups;
    int64_t D[2] = {1, 1}, K[2] = {1, 1}, s[2] = {1, 1}, d[2] = {1, 1}, o[2] = {1, 1},
            pb[2] = {0, 0};
    int off = g->sdims == 1 ? 1 : 0;
    for (int32_t i = 0; i < g->sdims; i++) {
        int64_t after;
        D[i + off] = xs[2 + i];
        K[i + off] = ws[2 + i];
        s[i + off] = g->strides[i];
        d[i + off] = g->dilations[i];
        if (!cml_milop_window(g->pad_type, xs[2 + i], ws[2 + i], g->strides[i], g->dilations[i],
                              g->pad[2 * i], g->pad[2 * i + 1], false, &o[i + off], &pb[i + off],
                              &after))
            return false;
    }
    p->h_in = D[0], p->w_in = D[1], p->k_h = K[0], p->k_w = K[1];
    p->stride_h = s[0], p->stride_w = s[1], p->dilation_h = d[0], p->dilation_w = d[1];
    p->h_out = o[0], p->w_out = o[1], p->pad_top = pb[0], p->pad_left = pb[1];
    return true;
}

void cml_milop_conv_out_shape(const cml_milop_conv_geom *g, const cml_conv2d_params *p,
                              int64_t *shape) {
    shape[0] = p->n;
    shape[1] = p->c_out;
    if (g->sdims == 1) {
        shape[2] = p->w_out;
    } else {
        shape[2] = p->h_out;
        shape[3] = p->w_out;
    }
}

cml_status cml_milop_conv_declare(cml_mil_ctx *ctx, cml_mil_node *node,
                                  const cml_milop_conv_geom *g, const cml_mil_value *x,
                                  const int64_t *ws, bool w16) {
    cml_conv2d_params p;
    if (!cml_milop_conv_params(g, x->bound, ws, &p))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "the kernel is larger than the padded input");
    node->scratch = w16 ? cml_k_conv2d_w16_scratch_size(&p) : cml_k_conv2d_scratch_size(&p);
    int64_t shape[4];
    cml_milop_conv_out_shape(g, &p, shape);
    return cml_milop_out_like(ctx, node, 0, x, x->rank, shape, false);
}

cml_status cml_milop_conv_execute(cml_mil_ctx *ctx, const cml_mil_node *node,
                                  const cml_milop_conv_geom *g, const cml_mil_value *x,
                                  const int64_t *ws, const void *w, bool w16,
                                  const cml_mil_value *bias, const cml_mil_value *res,
                                  float act_min, float act_max) {
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    cml_conv2d_params p;
    if (x->shape[1] != ws[1] * g->groups || !cml_milop_conv_params(g, x->shape, ws, &p))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "input shape does not fit the kernel");
    int64_t shape[4];
    cml_milop_conv_out_shape(g, &p, shape);
    CML_TRY(cml_mil_resize(ctx, out, x->rank, shape));
    if (cml_mil_numel(out) == 0) return CML_OK;
    void *scratch = NULL;
    CML_TRY(cml_milop_scratch(ctx, node, &scratch));
    size_t need = w16 ? cml_k_conv2d_w16_scratch_size(&p) : cml_k_conv2d_scratch_size(&p);
    if (need > node->scratch)
        return cml_mil_fail(ctx, node, CML_ERR_INTERNAL, "scratch too small for this input");
    bool round16 = out->fp16 && out->dtype == CML_DTYPE_FLOAT32;
    const float *b = bias ? bias->data : NULL;
    if (res) {
        if (res->rank != out->rank ||
            memcmp(res->shape, out->shape, sizeof(int64_t) * (size_t)out->rank) != 0)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                                "the fused residual add's operand no longer has the conv's shape");
        cml_k_conv2d_res_f32(ctx->pool, &p, x->data, w, w16, b, res->data, out->data, scratch,
                             act_min, act_max, round16);
    } else if (w16)
        cml_k_conv2d_w16_epi_f32(ctx->pool, &p, x->data, w, b, out->data, scratch, act_min,
                                 act_max, round16);
    else
        cml_k_conv2d_epi_f32(ctx->pool, &p, x->data, w, b, out->data, scratch, act_min, act_max,
                             round16);
    ctx->outputs_rounded = true; /* the only output, rounded when fp16 */
    return CML_OK;
}
