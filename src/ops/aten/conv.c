/*
 * convolution.out(Tensor input, Tensor weight, Tensor? bias, SymInt[] stride,
 *                 SymInt[] padding, SymInt[] dilation, bool transposed,
 *                 SymInt[] output_padding, SymInt groups, *, Tensor(a!) out)
 *
 * 1-D (NCL) and 2-D (NCHW), regular and transposed, any groups (depthwise
 * included). 1-D runs as 2-D with H = 1. fp32 compute; fp16 staged.
 */
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

static const char CONV[] = "aten::convolution.out";

typedef struct conv_args {
    cml_tensor *x, *w, *bias, *out;
    int64_t stride[2], pad[2], dil[2], opad[2], groups;
    bool transposed;
    int32_t nd;
} conv_args;

static cml_status conv_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, conv_args *a) {
    if (nargs != 11) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, CONV, "expected 11 args, got %u", nargs);
    CML_TRY(cml_arg_tensor(ctx, CONV, args, 0, &a->x));
    CML_TRY(cml_arg_tensor(ctx, CONV, args, 1, &a->w));
    CML_TRY(cml_aten_arg_opt_tensor(ctx, CONV, args, 2, &a->bias));
    CML_TRY(cml_arg_bool(ctx, CONV, args, 6, &a->transposed));
    CML_TRY(cml_arg_int(ctx, CONV, args, 8, &a->groups));
    CML_TRY(cml_arg_tensor(ctx, CONV, args, 9, &a->out));
    if (a->x->rank != 3 && a->x->rank != 4)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, CONV,
                         "input rank %d not supported (1-D NCL or 2-D NCHW only)", a->x->rank);
    a->nd = a->x->rank - 2;
    uint32_t nd = (uint32_t)a->nd;
    CML_TRY(cml_aten_arg_int_tuple(ctx, CONV, args, 3, nd, 1, a->stride));
    CML_TRY(cml_aten_arg_int_tuple(ctx, CONV, args, 4, nd, 0, a->pad));
    CML_TRY(cml_aten_arg_int_tuple(ctx, CONV, args, 5, nd, 1, a->dil));
    CML_TRY(cml_aten_arg_int_tuple(ctx, CONV, args, 7, nd, 0, a->opad));
    for (uint32_t d = 0; d < nd; d++) {
        if (a->stride[d] < 1 || a->dil[d] < 1 || a->pad[d] < 0 || a->opad[d] < 0 ||
            a->stride[d] > ATEN_MAX_GEOM || a->dil[d] > ATEN_MAX_GEOM ||
            a->pad[d] > ATEN_MAX_GEOM || a->opad[d] > ATEN_MAX_GEOM)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, CONV,
                             "bad stride %lld / padding %lld / dilation %lld / output_padding %lld",
                             (long long)a->stride[d], (long long)a->pad[d], (long long)a->dil[d],
                             (long long)a->opad[d]);
        if (a->transposed && a->opad[d] >= a->stride[d] && a->opad[d] >= a->dil[d])
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, CONV,
                             "output_padding %lld must be smaller than stride or dilation",
                             (long long)a->opad[d]);
    }
    if (a->groups < 1)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, CONV, "groups %lld < 1", (long long)a->groups);
    return CML_OK;
}

/* Fills the kernel parameters from the current shapes; fails on mismatch. */
static cml_status conv_params(cml_kernel_ctx *ctx, const conv_args *a, cml_conv2d_params *p,
                              int64_t *osz) {
    const cml_tensor *x = a->x, *w = a->w;
    if (w->rank != x->rank) {
        return cml_aten_fail(ctx, CML_ERR_SHAPE, CONV, "weight rank %d does not match input rank %d",
                         w->rank, x->rank);
    }
    bool two = a->nd == 2;
    memset(p, 0, sizeof *p);
    p->n = x->sizes[0];
    p->c_in = x->sizes[1];
    p->h_in = two ? x->sizes[2] : 1;
    p->w_in = x->sizes[x->rank - 1];
    p->k_h = two ? w->sizes[2] : 1;
    p->k_w = w->sizes[w->rank - 1];
    p->stride_h = two ? a->stride[0] : 1;
    p->stride_w = a->stride[a->nd - 1];
    p->pad_top = two ? a->pad[0] : 0;
    p->pad_left = a->pad[a->nd - 1];
    p->dilation_h = two ? a->dil[0] : 1;
    p->dilation_w = a->dil[a->nd - 1];
    p->groups = a->groups;
    int64_t g = a->groups;
    if (p->k_h > ATEN_MAX_GEOM || p->k_w > ATEN_MAX_GEOM || p->h_in > ((int64_t)1 << 40) ||
        p->w_in > ((int64_t)1 << 40))
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, CONV, "kernel or input size out of range");
    if (g > p->c_in || p->c_in % g != 0)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, CONV, "%lld input channels not divisible by groups %lld",
                         (long long)p->c_in, (long long)g);
    if (!a->transposed) {
        p->c_out = w->sizes[0];
        int64_t wcin;
        if (__builtin_mul_overflow(w->sizes[1], g, &wcin) || wcin != p->c_in || p->c_out % g != 0)
            return cml_aten_fail(ctx, CML_ERR_SHAPE, CONV,
                             "weight [%lld, %lld, ...] does not fit %lld input channels with %lld groups",
                             (long long)w->sizes[0], (long long)w->sizes[1], (long long)p->c_in,
                             (long long)g);
        p->h_out = (p->h_in + 2 * p->pad_top - p->dilation_h * (p->k_h - 1) - 1) / p->stride_h + 1;
        p->w_out = (p->w_in + 2 * p->pad_left - p->dilation_w * (p->k_w - 1) - 1) / p->stride_w + 1;
        if (p->h_in + 2 * p->pad_top - p->dilation_h * (p->k_h - 1) - 1 < 0 ||
            p->w_in + 2 * p->pad_left - p->dilation_w * (p->k_w - 1) - 1 < 0)
            p->h_out = p->w_out = 0;
    } else {
        if (w->sizes[0] != p->c_in)
            return cml_aten_fail(ctx, CML_ERR_SHAPE, CONV,
                             "transposed weight has %lld input channels, input has %lld",
                             (long long)w->sizes[0], (long long)p->c_in);
        if (__builtin_mul_overflow(w->sizes[1], g, &p->c_out))
            return cml_aten_fail(ctx, CML_ERR_SHAPE, CONV, "output channel count overflows");
        int64_t oph = two ? a->opad[0] : 0, opw = a->opad[a->nd - 1];
        p->h_out = (p->h_in - 1) * p->stride_h - 2 * p->pad_top + p->dilation_h * (p->k_h - 1) + oph + 1;
        p->w_out = (p->w_in - 1) * p->stride_w - 2 * p->pad_left + p->dilation_w * (p->k_w - 1) + opw + 1;
    }
    if (p->h_out <= 0 || p->w_out <= 0 || p->k_h <= 0 || p->k_w <= 0 || p->k_h > ATEN_MAX_GEOM ||
        p->k_w > ATEN_MAX_GEOM) {
        char b[160];
        return cml_aten_fail(ctx, CML_ERR_SHAPE, CONV, "input %s gives an empty output",
                         cml_shape_str(x->rank, x->sizes, b, sizeof b));
    }
    if (a->bias && cml_tensor_numel(a->bias) != p->c_out)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, CONV, "bias has %lld elements, expected %lld",
                         (long long)cml_tensor_numel(a->bias), (long long)p->c_out);
    osz[0] = p->n;
    osz[1] = p->c_out;
    if (two) {
        osz[2] = p->h_out;
        osz[3] = p->w_out;
    } else {
        osz[2] = p->w_out;
    }
    return CML_OK;
}

static size_t conv_kernel_scratch(const conv_args *a, const cml_conv2d_params *p) {
    return a->transposed ? cml_k_conv_transpose2d_scratch_size(p) : cml_k_conv2d_scratch_size(p);
}

cml_status cml_aten_convolution_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                        size_t *scratch_bytes) {
    conv_args a;
    CML_TRY(conv_read(ctx, args, nargs, &a));
    const cml_tensor *ts[4] = {a.x, a.w, a.bias, a.out};
    const char *names[4] = {"input", "weight", "bias", "output"};
    for (int k = 0; k < 4; k++) {
        if (!ts[k]) continue;
        CML_TRY(cml_aten_check_float(ctx, CONV, ts[k], names[k]));
        CML_TRY(cml_aten_check_contiguous(ctx, CONV, ts[k], names[k]));
    }
    CML_TRY(cml_aten_check_rank(ctx, CONV, a.out, "output", a.x->rank, a.x->rank));
    cml_conv2d_params p;
    int64_t osz[4];
    CML_TRY(conv_params(ctx, &a, &p, osz));
    size_t need = cml_aten_f32_need(a.x) + cml_aten_f32_need(a.w) + cml_aten_f32_need(a.out) +
                  (a.bias ? cml_aten_f32_need(a.bias) : 0) + cml_aten_align(conv_kernel_scratch(&a, &p));
    *scratch_bytes = need;
    return CML_OK;
}

cml_status cml_aten_convolution_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    conv_args a;
    CML_TRY(conv_read(ctx, args, nargs, &a));
    cml_conv2d_params p;
    int64_t osz[4];
    CML_TRY(conv_params(ctx, &a, &p, osz));
    CML_TRY(cml_aten_resize(ctx, CONV, a.out, a.x->rank, osz));
    if (p.n == 0 || p.c_out == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const float *x = cml_aten_load_f32(&s, a.x);
    const float *w = cml_aten_load_f32(&s, a.w);
    const float *b = a.bias ? cml_aten_load_f32(&s, a.bias) : NULL;
    float *y = cml_aten_out_f32(&s, a.out);
    size_t ks = conv_kernel_scratch(&a, &p);
    void *kscratch = ks ? cml_aten_scratch_alloc(&s, ks) : NULL;
    if (!x || !w || (a.bias && !b) || !y || (ks && !kscratch)) return cml_aten_scratch_short(ctx, CONV);
    if (p.c_in == 0) {
        for (int64_t i = 0; i < p.n * p.c_out; i++)
            for (int64_t j = 0; j < p.h_out * p.w_out; j++)
                y[i * p.h_out * p.w_out + j] = b ? b[i % p.c_out] : 0.0f;
    } else if (a.transposed) {
        cml_k_conv_transpose2d_f32(ctx->pool, &p, x, w, b, y, kscratch);
    } else {
        cml_k_conv2d_f32(ctx->pool, &p, x, w, b, y, kscratch);
    }
    cml_aten_store_f32(a.out, y);
    return CML_OK;
}
