/*
 * 2-D pooling on NCHW (or unbatched CHW) inputs:
 *   avg_pool2d.out(Tensor self, int[2] kernel_size, int[2] stride=[], int[2] padding=0,
 *                  bool ceil_mode=False, bool count_include_pad=True,
 *                  int? divisor_override=None, *, Tensor(a!) out)
 *   max_pool2d_with_indices.out(Tensor self, int[2] kernel_size, int[2] stride=[],
 *                  int[2] padding=0, int[2] dilation=1, bool ceil_mode=False, *,
 *                  Tensor(a!) out, Tensor(b!) indices)   (+ a TensorList of both)
 *   _adaptive_avg_pool2d.out(Tensor self, SymInt[2] output_size, *, Tensor(a!) out)
 */
#include <math.h>
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

/* PyTorch's pooling_output_shape. */
static int64_t pool_out_size(int64_t in, int64_t k, int64_t pad, int64_t stride, int64_t dil,
                             bool ceil_mode) {
    int64_t num = in + 2 * pad - dil * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0);
    int64_t q = num / stride;
    if (num % stride != 0 && num < 0) q--; /* round toward -inf */
    int64_t out = q + 1;
    if (ceil_mode && (out - 1) * stride >= in + pad) out--;
    return out;
}

typedef struct pool_args {
    cml_tensor *x, *out, *indices;
    int64_t k[2], stride[2], pad[2], dil[2];
    bool ceil_mode, count_include_pad;
    bool has_div;
    int64_t divisor;
} pool_args;

static cml_status pool_check_geometry(cml_kernel_ctx *ctx, const char *op, const pool_args *a) {
    for (int d = 0; d < 2; d++) {
        if (a->k[d] < 1 || a->stride[d] < 1 || a->pad[d] < 0 || a->dil[d] < 1 ||
            a->k[d] > ATEN_MAX_GEOM || a->stride[d] > ATEN_MAX_GEOM || a->pad[d] > ATEN_MAX_GEOM ||
            a->dil[d] > ATEN_MAX_GEOM)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op,
                             "bad kernel %lld / stride %lld / padding %lld / dilation %lld",
                             (long long)a->k[d], (long long)a->stride[d], (long long)a->pad[d],
                             (long long)a->dil[d]);
        if (a->pad[d] * 2 > a->dil[d] * (a->k[d] - 1) + 1)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op,
                             "padding %lld must be at most half of the kernel size %lld",
                             (long long)a->pad[d], (long long)a->k[d]);
    }
    if (a->has_div && a->divisor == 0)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "divisor_override must be non-zero");
    return CML_OK;
}

static cml_status pool_params(cml_kernel_ctx *ctx, const char *op, const pool_args *a,
                              cml_pool2d_params *p, int64_t *osz) {
    const cml_tensor *x = a->x;
    CML_TRY(cml_aten_check_rank(ctx, op, x, "input", 3, 4));
    bool batched = x->rank == 4;
    memset(p, 0, sizeof *p);
    p->n = batched ? x->sizes[0] : 1;
    p->c = x->sizes[x->rank - 3];
    p->h_in = x->sizes[x->rank - 2];
    p->w_in = x->sizes[x->rank - 1];
    p->k_h = a->k[0];
    p->k_w = a->k[1];
    p->stride_h = a->stride[0];
    p->stride_w = a->stride[1];
    p->pad_top = a->pad[0];
    p->pad_left = a->pad[1];
    p->dilation_h = a->dil[0];
    p->dilation_w = a->dil[1];
    p->count_include_pad = a->count_include_pad;
    p->divisor_override = a->has_div ? a->divisor : 0;
    p->h_out = pool_out_size(p->h_in, p->k_h, p->pad_top, p->stride_h, p->dilation_h, a->ceil_mode);
    p->w_out = pool_out_size(p->w_in, p->k_w, p->pad_left, p->stride_w, p->dilation_w, a->ceil_mode);
    if (p->h_out <= 0 || p->w_out <= 0) {
        char b[160];
        return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "input %s is too small for the pooling window",
                         cml_shape_str(x->rank, x->sizes, b, sizeof b));
    }
    int32_t r = 0;
    if (batched) osz[r++] = p->n;
    osz[r++] = p->c;
    osz[r++] = p->h_out;
    osz[r++] = p->w_out;
    return CML_OK;
}

static cml_status pool_check_tensors(cml_kernel_ctx *ctx, const char *op, const pool_args *a) {
    CML_TRY(cml_aten_check_float(ctx, op, a->x, "input"));
    CML_TRY(cml_aten_check_float(ctx, op, a->out, "output"));
    CML_TRY(cml_aten_check_contiguous(ctx, op, a->x, "input"));
    CML_TRY(cml_aten_check_contiguous(ctx, op, a->out, "output"));
    CML_TRY(cml_aten_check_rank(ctx, op, a->x, "input", 3, 4));
    return cml_aten_check_rank(ctx, op, a->out, "output", a->x->rank, a->x->rank);
}

/* ---- avg_pool2d ----------------------------------------------------------------- */

static const char AVG[] = "aten::avg_pool2d.out";

static cml_status avg_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, pool_args *a) {
    if (nargs != 9) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, AVG, "expected 9 args, got %u", nargs);
    memset(a, 0, sizeof *a);
    CML_TRY(cml_arg_tensor(ctx, AVG, args, 0, &a->x));
    CML_TRY(cml_aten_arg_int_tuple(ctx, AVG, args, 1, 2, 0, a->k));
    CML_TRY(cml_aten_arg_int_tuple(ctx, AVG, args, 2, 2, 0, a->stride));
    if (a->stride[0] == 0 && a->stride[1] == 0) {
        a->stride[0] = a->k[0];
        a->stride[1] = a->k[1];
    }
    CML_TRY(cml_aten_arg_int_tuple(ctx, AVG, args, 3, 2, 0, a->pad));
    a->dil[0] = a->dil[1] = 1;
    CML_TRY(cml_arg_bool(ctx, AVG, args, 4, &a->ceil_mode));
    CML_TRY(cml_arg_bool(ctx, AVG, args, 5, &a->count_include_pad));
    CML_TRY(cml_aten_arg_opt_int(ctx, AVG, args, 6, &a->has_div, &a->divisor));
    CML_TRY(cml_arg_tensor(ctx, AVG, args, 7, &a->out));
    return pool_check_geometry(ctx, AVG, a);
}

cml_status cml_aten_avg_pool2d_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                       size_t *scratch_bytes) {
    pool_args a;
    CML_TRY(avg_read(ctx, args, nargs, &a));
    CML_TRY(pool_check_tensors(ctx, AVG, &a));
    *scratch_bytes = cml_aten_f32_need(a.x) + cml_aten_f32_need(a.out);
    return CML_OK;
}

cml_status cml_aten_avg_pool2d_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    pool_args a;
    CML_TRY(avg_read(ctx, args, nargs, &a));
    cml_pool2d_params p;
    int64_t osz[4];
    CML_TRY(pool_params(ctx, AVG, &a, &p, osz));
    CML_TRY(cml_aten_resize(ctx, AVG, a.out, a.x->rank, osz));
    if (cml_tensor_numel(a.out) == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const float *x = cml_aten_load_f32(&s, a.x);
    float *y = cml_aten_out_f32(&s, a.out);
    if (!x || !y) return cml_aten_scratch_short(ctx, AVG);
    cml_k_avgpool2d_f32(ctx->pool, &p, x, y);
    cml_aten_store_f32(a.out, y);
    return CML_OK;
}

/* ---- max_pool2d_with_indices ------------------------------------------------------ */

static const char MAXP[] = "aten::max_pool2d_with_indices.out";

static cml_status max_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, pool_args *a) {
    if (nargs != 9) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, MAXP, "expected 9 args, got %u", nargs);
    memset(a, 0, sizeof *a);
    CML_TRY(cml_arg_tensor(ctx, MAXP, args, 0, &a->x));
    CML_TRY(cml_aten_arg_int_tuple(ctx, MAXP, args, 1, 2, 0, a->k));
    CML_TRY(cml_aten_arg_int_tuple(ctx, MAXP, args, 2, 2, 0, a->stride));
    if (a->stride[0] == 0 && a->stride[1] == 0) {
        a->stride[0] = a->k[0];
        a->stride[1] = a->k[1];
    }
    CML_TRY(cml_aten_arg_int_tuple(ctx, MAXP, args, 3, 2, 0, a->pad));
    CML_TRY(cml_aten_arg_int_tuple(ctx, MAXP, args, 4, 2, 1, a->dil));
    CML_TRY(cml_arg_bool(ctx, MAXP, args, 5, &a->ceil_mode));
    CML_TRY(cml_arg_tensor(ctx, MAXP, args, 6, &a->out));
    CML_TRY(cml_arg_tensor(ctx, MAXP, args, 7, &a->indices));
    return pool_check_geometry(ctx, MAXP, a);
}

cml_status cml_aten_max_pool2d_with_indices_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                                    uint32_t nargs, size_t *scratch_bytes) {
    pool_args a;
    CML_TRY(max_read(ctx, args, nargs, &a));
    CML_TRY(pool_check_tensors(ctx, MAXP, &a));
    if (a.indices->dtype != CML_DTYPE_INT64) return cml_aten_bad_dtype(ctx, MAXP, "indices", a.indices->dtype);
    CML_TRY(cml_aten_check_contiguous(ctx, MAXP, a.indices, "indices"));
    *scratch_bytes = cml_aten_f32_need(a.x) + cml_aten_f32_need(a.out);
    return CML_OK;
}

typedef struct argmax_job {
    const cml_pool2d_params *p;
    const float *x;
    int64_t *idx;
} argmax_job;

/* Index (h * W + w within the plane) of each window's max, first occurrence,
 * NaN winning as in PyTorch. */
static void argmax_planes(void *ctx, size_t begin, size_t end) {
    const argmax_job *j = ctx;
    const cml_pool2d_params *p = j->p;
    for (size_t pl = begin; pl < end; pl++) {
        const float *x = j->x + pl * (size_t)(p->h_in * p->w_in);
        int64_t *o = j->idx + pl * (size_t)(p->h_out * p->w_out);
        for (int64_t oh = 0; oh < p->h_out; oh++) {
            for (int64_t ow = 0; ow < p->w_out; ow++) {
                int64_t best = -1;
                float bv = -INFINITY;
                for (int64_t kh = 0; kh < p->k_h; kh++) {
                    int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
                    if (ih < 0 || ih >= p->h_in) continue;
                    for (int64_t kw = 0; kw < p->k_w; kw++) {
                        int64_t iw = ow * p->stride_w - p->pad_left + kw * p->dilation_w;
                        if (iw < 0 || iw >= p->w_in) continue;
                        float v = x[ih * p->w_in + iw];
                        if (best < 0 || v > bv || (isnan(v) && !isnan(bv))) {
                            bv = v;
                            best = ih * p->w_in + iw;
                        }
                    }
                }
                if (best < 0) { /* no real input under the window: torch's start index */
                    int64_t ih = oh * p->stride_h - p->pad_top, iw = ow * p->stride_w - p->pad_left;
                    while (ih < 0) ih += p->dilation_h;
                    while (iw < 0) iw += p->dilation_w;
                    best = ih * p->w_in + iw;
                }
                *o++ = best;
            }
        }
    }
}

cml_status cml_aten_max_pool2d_with_indices_out_run(cml_kernel_ctx *ctx, cml_evalue **args,
                                                uint32_t nargs) {
    pool_args a;
    CML_TRY(max_read(ctx, args, nargs, &a));
    cml_pool2d_params p;
    int64_t osz[4];
    CML_TRY(pool_params(ctx, MAXP, &a, &p, osz));
    CML_TRY(cml_aten_resize(ctx, MAXP, a.out, a.x->rank, osz));
    CML_TRY(cml_aten_resize(ctx, MAXP, a.indices, a.x->rank, osz));
    if (cml_tensor_numel(a.out) == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const float *x = cml_aten_load_f32(&s, a.x);
    float *y = cml_aten_out_f32(&s, a.out);
    if (!x || !y) return cml_aten_scratch_short(ctx, MAXP);
    cml_k_maxpool2d_f32(ctx->pool, &p, x, y);
    cml_aten_store_f32(a.out, y);
    argmax_job job = {&p, x, a.indices->data};
    cml_parallel_for(ctx->pool, (size_t)(p.n * p.c), 1, argmax_planes, &job);
    return CML_OK;
}

/* ---- _adaptive_avg_pool2d ----------------------------------------------------------- */

static const char ADAPT[] = "aten::_adaptive_avg_pool2d.out";

static cml_status adapt_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                             cml_tensor **x, int64_t *osize, cml_tensor **out) {
    if (nargs != 4) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, ADAPT, "expected 4 args, got %u", nargs);
    CML_TRY(cml_arg_tensor(ctx, ADAPT, args, 0, x));
    CML_TRY(cml_aten_arg_int_tuple(ctx, ADAPT, args, 1, 2, 1, osize));
    CML_TRY(cml_arg_tensor(ctx, ADAPT, args, 2, out));
    if (osize[0] < 1 || osize[1] < 1)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, ADAPT, "output_size [%lld, %lld] must be positive",
                         (long long)osize[0], (long long)osize[1]);
    return CML_OK;
}

cml_status cml_aten_adaptive_avg_pool2d_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                                uint32_t nargs, size_t *scratch_bytes) {
    pool_args a;
    int64_t osize[2];
    memset(&a, 0, sizeof a);
    CML_TRY(adapt_read(ctx, args, nargs, &a.x, osize, &a.out));
    CML_TRY(pool_check_tensors(ctx, ADAPT, &a));
    *scratch_bytes = cml_aten_f32_need(a.x) + cml_aten_f32_need(a.out);
    return CML_OK;
}

cml_status cml_aten_adaptive_avg_pool2d_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *xt, *out;
    int64_t osize[2];
    CML_TRY(adapt_read(ctx, args, nargs, &xt, osize, &out));
    cml_pool2d_params p;
    memset(&p, 0, sizeof p);
    CML_TRY(cml_aten_check_rank(ctx, ADAPT, xt, "input", 3, 4));
    bool batched = xt->rank == 4;
    p.n = batched ? xt->sizes[0] : 1;
    p.c = xt->sizes[xt->rank - 3];
    p.h_in = xt->sizes[xt->rank - 2];
    p.w_in = xt->sizes[xt->rank - 1];
    p.h_out = osize[0];
    p.w_out = osize[1];
    if (p.h_in == 0 || p.w_in == 0)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, ADAPT, "empty spatial input");
    int64_t osz[4];
    int32_t r = 0;
    if (batched) osz[r++] = p.n;
    osz[r++] = p.c;
    osz[r++] = p.h_out;
    osz[r++] = p.w_out;
    CML_TRY(cml_aten_resize(ctx, ADAPT, out, xt->rank, osz));
    if (cml_tensor_numel(out) == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const float *x = cml_aten_load_f32(&s, xt);
    float *y = cml_aten_out_f32(&s, out);
    if (!x || !y) return cml_aten_scratch_short(ctx, ADAPT);
    cml_k_adaptive_avgpool2d_f32(&p, x, y);
    cml_aten_store_f32(out, y);
    return CML_OK;
}

/* ---- upsample_nearest2d.vec_out(Tensor input, SymInt[]? output_size, float[]? scale_factors,
 *                                 *, Tensor(a!) out)
 *      upsample_nearest2d.out(Tensor self, SymInt[2] output_size, float? scales_h=None,
 *                             float? scales_w=None, *, Tensor(a!) out)
 * NCHW, any dtype (a gather). Source index as torch's nearest: floor(dst * scale)
 * in float, scale = 1 / scale_factor when one is given, else in / out. */

static const char UPN_VEC[] = "aten::upsample_nearest2d.vec_out";
static const char UPN[] = "aten::upsample_nearest2d.out";

typedef struct upn_args {
    cml_tensor *x, *out;
    int64_t osize[2];
    bool has_osize;
    double scale[2]; /* 0 = none */
} upn_args;

static cml_status read_opt_double(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                                  double *out) {
    *out = 0.0;
    if (cml_arg_is_none(args, i)) return CML_OK;
    return cml_arg_double(ctx, op, args, i, out);
}

static cml_status upn_read(cml_kernel_ctx *ctx, bool vec, cml_evalue **args, uint32_t nargs,
                           upn_args *a) {
    const char *op = vec ? UPN_VEC : UPN;
    uint32_t want = vec ? 5 : 6;
    if (nargs != want) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "expected %u args, got %u", want, nargs);
    memset(a, 0, sizeof *a);
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &a->x));
    CML_TRY(cml_arg_tensor(ctx, op, args, nargs - 2, &a->out));
    CML_TRY(cml_aten_check_rank(ctx, op, a->x, "input", 4, 4));
    if (!cml_arg_is_none(args, 1)) {
        uint32_t n;
        CML_TRY(cml_arg_int_list(ctx, op, args, 1, a->osize, 2, &n));
        if (n != 2) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "output_size needs 2 values, has %u", n);
        a->has_osize = true;
    }
    if (vec) {
        const cml_evalue *v = args[2];
        if (v->kind == CML_VALUE_DOUBLE_LIST) {
            if (v->u.double_list.count != 2)
                return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "scale_factors needs 2 values");
            a->scale[0] = v->u.double_list.items[0];
            a->scale[1] = v->u.double_list.items[1];
        } else if (!cml_arg_is_none(args, 2)) {
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "arg 2: expected a float list or None");
        }
    } else {
        CML_TRY(read_opt_double(ctx, op, args, 2, &a->scale[0]));
        CML_TRY(read_opt_double(ctx, op, args, 3, &a->scale[1]));
    }
    if (!a->has_osize && !(a->scale[0] > 0 && a->scale[1] > 0))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "needs output_size or positive scale factors");
    for (int d = 0; d < 2; d++)
        if (!(a->scale[d] >= 0 && a->scale[d] <= 1e6))
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "scale factor %g out of range", a->scale[d]);
    return CML_OK;
}

static cml_status upn_prepare(cml_kernel_ctx *ctx, bool vec, cml_evalue **args, uint32_t nargs,
                              size_t *scratch_bytes) {
    upn_args a;
    const char *op = vec ? UPN_VEC : UPN;
    CML_TRY(upn_read(ctx, vec, args, nargs, &a));
    if (!cml_aten_is_known_dtype(a.x->dtype)) return cml_aten_bad_dtype(ctx, op, "input", a.x->dtype);
    if (a.out->dtype != a.x->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "output dtype differs from input");
    CML_TRY(cml_aten_check_contiguous(ctx, op, a.x, "input"));
    CML_TRY(cml_aten_check_contiguous(ctx, op, a.out, "output"));
    *scratch_bytes = 0;
    return CML_OK;
}

static int64_t nearest_src(int64_t o, int64_t in, int64_t out, double scale) {
    if (out == in) return o;
    if (out == 2 * in) return o >> 1;
    float sc = scale > 0 ? (float)(1.0 / scale) : (float)in / (float)out;
    int64_t s = (int64_t)floorf((float)o * sc);
    return s < in - 1 ? s : in - 1;
}

static cml_status upn_run(cml_kernel_ctx *ctx, bool vec, cml_evalue **args, uint32_t nargs) {
    upn_args a;
    const char *op = vec ? UPN_VEC : UPN;
    CML_TRY(upn_read(ctx, vec, args, nargs, &a));
    const cml_tensor *x = a.x;
    int64_t N = x->sizes[0], C = x->sizes[1], H = x->sizes[2], W = x->sizes[3];
    int64_t ho, wo;
    if (a.has_osize) {
        ho = a.osize[0];
        wo = a.osize[1];
    } else {
        ho = cml_aten_double_to_i64((double)H * a.scale[0]);
        wo = cml_aten_double_to_i64((double)W * a.scale[1]);
    }
    if (ho < 0 || wo < 0 || ((ho > 0 || wo > 0) && (H == 0 || W == 0)))
        return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "bad output size [%lld, %lld]", (long long)ho, (long long)wo);
    int64_t osz[4] = {N, C, ho, wo};
    CML_TRY(cml_aten_resize(ctx, op, a.out, 4, osz));
    if (cml_tensor_numel(a.out) == 0) return CML_OK;
    /* vec_out passes the scale factors only when output_size is absent */
    double sh = a.has_osize && vec ? 0.0 : a.scale[0], sw = a.has_osize && vec ? 0.0 : a.scale[1];
    size_t es = cml_dtype_size(x->dtype);
    const uint8_t *src = x->data;
    uint8_t *dst = a.out->data;
    for (int64_t pl = 0; pl < N * C; pl++) {
        const uint8_t *plane = src + (size_t)(pl * H * W) * es;
        for (int64_t oh = 0; oh < ho; oh++) {
            const uint8_t *row = plane + (size_t)(nearest_src(oh, H, ho, sh) * W) * es;
            for (int64_t ow = 0; ow < wo; ow++) {
                memcpy(dst, row + (size_t)nearest_src(ow, W, wo, sw) * es, es);
                dst += es;
            }
        }
    }
    return CML_OK;
}

cml_status cml_aten_upsample_nearest2d_vec_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                                   uint32_t nargs, size_t *scratch_bytes) {
    return upn_prepare(ctx, true, args, nargs, scratch_bytes);
}
cml_status cml_aten_upsample_nearest2d_vec_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return upn_run(ctx, true, args, nargs);
}
cml_status cml_aten_upsample_nearest2d_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                               size_t *scratch_bytes) {
    return upn_prepare(ctx, false, args, nargs, scratch_bytes);
}
cml_status cml_aten_upsample_nearest2d_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return upn_run(ctx, false, args, nargs);
}
