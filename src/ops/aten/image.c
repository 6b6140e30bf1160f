/*
 * Image resampling and rearrangement:
 *   pixel_shuffle.out(Tensor self, int upscale_factor, *, Tensor(a!) out)
 *   pixel_unshuffle.out(Tensor self, int downscale_factor, *, Tensor(a!) out)
 *   upsample_bilinear2d.vec_out(Tensor input, SymInt[]? output_size, bool align_corners,
 *                               float[]? scale_factors, *, Tensor(a!) out)
 *   _upsample_bilinear2d_aa.out(Tensor self, SymInt[2] output_size, bool align_corners,
 *                               float? scales_h=None, float? scales_w=None, *, Tensor(a!) out)
 *   grid_sampler_2d.out(Tensor input, Tensor grid, int interpolation_mode, int padding_mode,
 *                       bool align_corners, *, Tensor(a!) out)
 *
 * Pixel (un)shuffle moves elements of any dtype (rank >= 3, contiguous).
 * The resamplers accept upstream's REALHBF16 dtypes (float32/64, float16,
 * bfloat16, the integer types; out = input dtype) and compute in double with
 * torch's source-coordinate rules in float (upstream's `float` scales and
 * lambdas), storing with a C++-style cast (integers truncate). The upsample
 * ops read input and output through their strides, so NCHW and channels-last
 * (the two layouts upstream takes) both work when in and out agree.
 *
 * Where cml differs from upstream: integer inputs are interpolated in double
 * (upstream does integer grid arithmetic for grid_sampler_2d and truncates
 * each partial sum in the antialiased upsample); NaN grid coordinates follow
 * torch eager (upstream converts NaN to int64, which is undefined): they clamp
 * to 0 under border/reflection padding, give NaN for bilinear/bicubic with
 * zeros padding and 0 for nearest with zeros padding.
 */
#include <math.h>
#include <string.h>

#include "ops/aten/aten_num.h"
#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

/* ---- pixel_shuffle / pixel_unshuffle -------------------------------------- */

static const char PS[] = "aten::pixel_shuffle.out";
static const char PU[] = "aten::pixel_unshuffle.out";

static cml_status ps_read(cml_kernel_ctx *ctx, bool shuffle, cml_evalue **args, uint32_t nargs,
                          cml_tensor **x, cml_tensor **out, int64_t *f) {
    const char *op = shuffle ? PS : PU;
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, 4));
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, x));
    CML_TRY(cml_arg_int(ctx, op, args, 1, f));
    CML_TRY(cml_arg_tensor(ctx, op, args, 2, out));
    CML_TRY(cml_aten_check_rank(ctx, op, *x, "input", 3, CML_MAX_DIMS));
    if (*f <= 0 || *f >= 32768)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "factor %lld must be in [1, 32767]",
                         (long long)*f);
    const int64_t *s = (*x)->sizes + (*x)->rank - 3;
    if (shuffle && s[0] % (*f * *f) != 0)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op,
                         "channels %lld not divisible by upscale_factor^2 = %lld",
                         (long long)s[0], (long long)(*f * *f));
    if (!shuffle && (s[1] % *f != 0 || s[2] % *f != 0))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op,
                         "height %lld and width %lld must be divisible by %lld", (long long)s[1],
                         (long long)s[2], (long long)*f);
    if ((!shuffle && s[0] > INT64_MAX / (*f * *f)) ||
        (shuffle && (s[1] > INT64_MAX / *f || s[2] > INT64_MAX / *f)))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "factor %lld makes the output too large",
                         (long long)*f);
    return CML_OK;
}

static cml_status ps_prepare(cml_kernel_ctx *ctx, bool shuffle, cml_evalue **args, uint32_t nargs,
                             size_t *scratch_bytes) {
    cml_tensor *x, *out;
    int64_t f;
    CML_TRY(ps_read(ctx, shuffle, args, nargs, &x, &out, &f));
    CML_TRY(cml_aten_prep_copy(ctx, shuffle ? PS : PU, x, out));
    CML_TRY(cml_aten_check_contiguous(ctx, shuffle ? PS : PU, x, "input"));
    *scratch_bytes = 0;
    return CML_OK;
}

/* The shuffle is a 6-d permutation: input [N, c, S, S, H, W] read as output
 * [N, c, H, S, W, S] (unshuffle is the inverse, written the same way). */
static cml_status ps_run(cml_kernel_ctx *ctx, bool shuffle, cml_evalue **args, uint32_t nargs) {
    cml_tensor *x, *out;
    int64_t f;
    CML_TRY(ps_read(ctx, shuffle, args, nargs, &x, &out, &f));
    int32_t r = x->rank;
    int64_t osz[CML_MAX_DIMS];
    memcpy(osz, x->sizes, sizeof(int64_t) * (size_t)r);
    int64_t C = x->sizes[r - 3], H = x->sizes[r - 2], W = x->sizes[r - 1];
    osz[r - 3] = shuffle ? C / (f * f) : C * f * f;
    osz[r - 2] = shuffle ? H * f : H / f;
    osz[r - 1] = shuffle ? W * f : W / f;
    CML_TRY(cml_aten_resize(ctx, shuffle ? PS : PU, out, r, osz));
    if (cml_tensor_numel(out) == 0) return CML_OK;
    /* (n, c, h, s1, w, s2) over the large image; (n, c, s1, s2, h, w) over the small. */
    int64_t c = shuffle ? osz[r - 3] : C, h = shuffle ? H : osz[r - 2], w = shuffle ? W : osz[r - 1];
    int64_t sizes[6] = {cml_aten_prod(x->sizes, 0, r - 3), c, h, f, w, f};
    int64_t big[6] = {c * f * f * h * w, f * f * h * w, f * f * w, f * w, f, 1};
    int64_t small[6] = {c * f * f * h * w, f * f * h * w, w, f * h * w, 1, h * w};
    size_t es = cml_dtype_size(x->dtype);
    if (shuffle) cml_k_copy_strided(es, 6, sizes, x->data, small, out->data, big);
    else cml_k_copy_strided(es, 6, sizes, x->data, big, out->data, small);
    return CML_OK;
}

cml_status cml_aten_pixel_shuffle_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                          size_t *scratch_bytes) {
    return ps_prepare(ctx, true, args, nargs, scratch_bytes);
}
cml_status cml_aten_pixel_shuffle_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return ps_run(ctx, true, args, nargs);
}
cml_status cml_aten_pixel_unshuffle_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                            uint32_t nargs, size_t *scratch_bytes) {
    return ps_prepare(ctx, false, args, nargs, scratch_bytes);
}
cml_status cml_aten_pixel_unshuffle_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return ps_run(ctx, false, args, nargs);
}

/* ---- bilinear upsampling (plain and antialiased) --------------------------- */

static const char UB[] = "aten::upsample_bilinear2d.vec_out";
static const char UBAA[] = "aten::_upsample_bilinear2d_aa.out";

typedef struct ub_args {
    cml_tensor *x, *out;
    bool has_osize, align;
    int64_t osize[2];
    double scale[2]; /* scale factors (out / in); 0 = none */
} ub_args;

static cml_status ub_opt_double(cml_kernel_ctx *ctx, const char *op, cml_evalue **args,
                                uint32_t i, double *out) {
    *out = 0.0;
    if (cml_arg_is_none(args, i)) return CML_OK;
    return cml_arg_double(ctx, op, args, i, out);
}

/* vec_out: (input, output_size?, align_corners, scale_factors?, out, ret). */
static cml_status ub_read_vec(cml_kernel_ctx *ctx, cml_evalue **args, ub_args *a) {
    if (!cml_arg_is_none(args, 1)) {
        uint32_t n;
        CML_TRY(cml_arg_int_list(ctx, UB, args, 1, a->osize, 2, &n));
        if (n != 2)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, UB, "output_size needs 2 values, has %u", n);
        a->has_osize = true;
    }
    const cml_evalue *v = args[3];
    if (v->kind == CML_VALUE_DOUBLE_LIST) {
        if (v->u.double_list.count != 2)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, UB, "scale_factors needs 2 values, has %u",
                             v->u.double_list.count);
        a->scale[0] = v->u.double_list.items[0];
        a->scale[1] = v->u.double_list.items[1];
        if (!(a->scale[0] > 0 && a->scale[1] > 0))
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, UB, "scale factors must be positive");
    } else if (!cml_arg_is_none(args, 3)) {
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, UB, "arg 3: expected a float list or None");
    }
    if (a->has_osize == (a->scale[0] > 0))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, UB,
                         "exactly one of output_size and scale_factors must be given");
    return CML_OK;
}

/* aa: (self, output_size[2], align_corners, scales_h?, scales_w?, out, ret). */
static cml_status ub_read_aa(cml_kernel_ctx *ctx, cml_evalue **args, ub_args *a) {
    uint32_t n;
    CML_TRY(cml_arg_int_list(ctx, UBAA, args, 1, a->osize, 2, &n));
    if (n != 2)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, UBAA, "output_size needs 2 values, has %u", n);
    a->has_osize = true;
    CML_TRY(ub_opt_double(ctx, UBAA, args, 3, &a->scale[0]));
    CML_TRY(ub_opt_double(ctx, UBAA, args, 4, &a->scale[1]));
    if (!(a->scale[0] > 0 && a->scale[1] > 0)) a->scale[0] = a->scale[1] = 0.0; /* both or none */
    return CML_OK;
}

static cml_status ub_read(cml_kernel_ctx *ctx, bool aa, cml_evalue **args, uint32_t nargs,
                          ub_args *a) {
    const char *op = aa ? UBAA : UB;
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, aa ? 7 : 6));
    memset(a, 0, sizeof *a);
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &a->x));
    CML_TRY(cml_arg_tensor(ctx, op, args, nargs - 2, &a->out));
    CML_TRY(cml_arg_bool(ctx, op, args, 2, &a->align));
    CML_TRY(cml_aten_check_rank(ctx, op, a->x, "input", 4, 4));
    CML_TRY(aa ? ub_read_aa(ctx, args, a) : ub_read_vec(ctx, args, a));
    for (int d = 0; d < 2; d++) {
        if (a->has_osize && (a->osize[d] <= 0 || a->osize[d] > ATEN_MAX_GEOM))
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "output size %lld out of range",
                             (long long)a->osize[d]);
        if (!(a->scale[d] == 0 || (a->scale[d] >= 1e-6 && a->scale[d] <= 1e6)))
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "scale factor %g out of range", a->scale[d]);
    }
    return CML_OK;
}

/* NCHW or channels-last (0, 2, 3, 1), the same for in and out. */
static cml_status check_nchw_or_nhwc(cml_kernel_ctx *ctx, const char *op, const cml_tensor *x,
                                     const cml_tensor *out) {
    static const uint8_t nhwc[4] = {0, 2, 3, 1};
    if (!cml_tensor_is_contiguous(x) && memcmp(x->dim_order, nhwc, 4) != 0)
        return cml_aten_check_contiguous(ctx, op, x, "input");
    if (out->rank != 4 || memcmp(out->dim_order, x->dim_order, 4) != 0)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op,
                         "output must be rank 4 in the input's dim order");
    return CML_OK;
}

static cml_status ub_prepare(cml_kernel_ctx *ctx, bool aa, cml_evalue **args, uint32_t nargs,
                             size_t *scratch_bytes) {
    const char *op = aa ? UBAA : UB;
    ub_args a;
    CML_TRY(ub_read(ctx, aa, args, nargs, &a));
    if (!cml_aten_is_realhbf16(a.x->dtype)) return cml_aten_bad_dtype(ctx, op, "input", a.x->dtype);
    if (a.out->dtype != a.x->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "output dtype %s differs from input %s",
                         cml_dtype_name(a.out->dtype), cml_dtype_name(a.x->dtype));
    CML_TRY(check_nchw_or_nhwc(ctx, op, a.x, a.out));
    *scratch_bytes = 0;
    return CML_OK;
}

/* torch's area_pixel_compute_scale, as the float the kernels use. */
static float ub_ratio(int64_t in, int64_t out, bool align, double scale) {
    if (align) return out > 1 ? (float)((double)(in - 1) / (double)(out - 1)) : 0.0f;
    return scale > 0 ? (float)(1.0 / scale) : (float)((double)in / (double)out);
}

/* torch's compute_source_index_and_lambda (float arithmetic). */
static void ub_src(float ratio, int64_t o, int64_t in, int64_t out, bool align, int64_t *i0,
                   int64_t *i1, float *l0, float *l1) {
    if (in == out) {
        *i0 = *i1 = o;
        *l0 = 1.0f;
        *l1 = 0.0f;
        return;
    }
    float real = align ? ratio * (float)o : ratio * ((float)o + 0.5f) - 0.5f;
    if (!align && real < 0.0f) real = 0.0f;
    int64_t f = (int64_t)floorf(real);
    *i0 = f < in - 1 ? f : in - 1;
    float lam = real - (float)*i0;
    *l1 = lam < 0.0f ? 0.0f : lam > 1.0f ? 1.0f : lam;
    *i1 = *i0 + (*i0 < in - 1 ? 1 : 0);
    *l0 = 1.0f - *l1;
}

/* Output size from output_size or the scale factors (floor(in * scale)). */
static cml_status ub_out_shape(cml_kernel_ctx *ctx, const char *op, const ub_args *a,
                               int64_t *osz) {
    const cml_tensor *x = a->x;
    osz[0] = x->sizes[0];
    osz[1] = x->sizes[1];
    for (int d = 0; d < 2; d++)
        osz[2 + d] = a->has_osize ? a->osize[d]
                                  : cml_aten_double_to_i64((double)x->sizes[2 + d] * a->scale[d]);
    if (osz[2] <= 0 || osz[3] <= 0 || osz[2] > ATEN_MAX_GEOM || osz[3] > ATEN_MAX_GEOM ||
        x->sizes[2] <= 0 || x->sizes[3] <= 0)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "cannot resample [%lld, %lld] to [%lld, %lld]",
                         (long long)x->sizes[2], (long long)x->sizes[3], (long long)osz[2],
                         (long long)osz[3]);
    return CML_OK;
}

/* One bilinear output element (n, c, oh, ow). */
static void ub_one(const ub_args *a, const int64_t *ist, const int64_t *ost, const float *r,
                   int64_t n, int64_t c, int64_t oh, int64_t ow) {
    const cml_tensor *x = a->x;
    cml_dtype dt = x->dtype;
    int64_t H = x->sizes[2], W = x->sizes[3], h0, h1, w0, w1;
    float lh0, lh1, lw0, lw1;
    ub_src(r[0], oh, H, a->out->sizes[2], a->align, &h0, &h1, &lh0, &lh1);
    ub_src(r[1], ow, W, a->out->sizes[3], a->align, &w0, &w1, &lw0, &lw1);
    size_t b = (size_t)(n * ist[0] + c * ist[1]);
    double tl = cml_aten_num_get(dt, x->data, b + (size_t)(h0 * ist[2] + w0 * ist[3]));
    double tr = cml_aten_num_get(dt, x->data, b + (size_t)(h0 * ist[2] + w1 * ist[3]));
    double bl = cml_aten_num_get(dt, x->data, b + (size_t)(h1 * ist[2] + w0 * ist[3]));
    double br = cml_aten_num_get(dt, x->data, b + (size_t)(h1 * ist[2] + w1 * ist[3]));
    double top = tl * lw0 + tr * lw1, bot = bl * lw0 + br * lw1;
    size_t o = (size_t)(n * ost[0] + c * ost[1] + oh * ost[2] + ow * ost[3]);
    cml_aten_num_set(dt, a->out->data, o, top * lh0 + bot * lh1);
}

/* Walks the output in memory order (channels innermost for channels-last). */
static void ub_bilinear(const ub_args *a, const int64_t *ist, const int64_t *ost) {
    const cml_tensor *x = a->x;
    int64_t N = x->sizes[0], C = x->sizes[1], HO = a->out->sizes[2], WO = a->out->sizes[3];
    /* vec_out uses the scale factors only when output_size is absent */
    float r[2] = {ub_ratio(x->sizes[2], HO, a->align, a->scale[0]),
                  ub_ratio(x->sizes[3], WO, a->align, a->scale[1])};
    bool nhwc = ost[1] == 1 && C > 1;
    for (int64_t n = 0; n < N; n++) {
        if (nhwc) {
            for (int64_t oh = 0; oh < HO; oh++)
                for (int64_t ow = 0; ow < WO; ow++)
                    for (int64_t c = 0; c < C; c++) ub_one(a, ist, ost, r, n, c, oh, ow);
        } else {
            for (int64_t c = 0; c < C; c++)
                for (int64_t oh = 0; oh < HO; oh++)
                    for (int64_t ow = 0; ow < WO; ow++) ub_one(a, ist, ost, r, n, c, oh, ow);
        }
    }
}

/* One output index's antialiasing window (torch's triangle filter, float). */
typedef struct aa_win {
    int64_t lo, hi;       /* input range [lo, hi) */
    int64_t fallback;     /* >= 0: the single contributor */
    float center, invscale, total;
} aa_win;

static float aa_filter(float x) {
    x = fabsf(x);
    return x < 1.0f ? 1.0f - x : 0.0f;
}

static aa_win aa_window(int64_t o, float scale, int64_t in) {
    aa_win w;
    w.center = scale * ((float)o + 0.5f);
    float support = scale >= 1.0f ? scale : 1.0f;
    w.invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
    int64_t lo = (int64_t)(w.center - support + 0.5f), hi = (int64_t)(w.center + support + 0.5f);
    w.lo = lo > 0 ? lo : 0;
    w.hi = hi < in ? hi : in;
    w.fallback = -1;
    w.total = 0.0f;
    for (int64_t i = w.lo; i < w.hi; i++)
        w.total += aa_filter(((float)i - w.center + 0.5f) * w.invscale);
    if (w.hi <= w.lo || w.total <= 0.0f) {
        int64_t c = (int64_t)w.center;
        w.fallback = c < in - 1 ? (c > 0 ? c : 0) : in - 1;
        w.lo = w.fallback;
        w.hi = w.fallback + 1;
        w.total = 1.0f;
    }
    return w;
}

static float aa_weight(const aa_win *w, int64_t i) {
    if (w->fallback >= 0) return i == w->fallback ? 1.0f : 0.0f;
    return aa_filter(((float)i - w->center + 0.5f) * w->invscale) / w->total;
}

static void ub_aa(const ub_args *a, const int64_t *ist, const int64_t *ost) {
    const cml_tensor *x = a->x;
    cml_dtype dt = x->dtype;
    int64_t N = x->sizes[0], C = x->sizes[1], H = x->sizes[2], W = x->sizes[3];
    int64_t HO = a->out->sizes[2], WO = a->out->sizes[3];
    float rh = ub_ratio(H, HO, a->align, a->scale[0]), rw = ub_ratio(W, WO, a->align, a->scale[1]);
    for (int64_t oh = 0; oh < HO; oh++) {
        aa_win wh = aa_window(oh, rh, H);
        for (int64_t ow = 0; ow < WO; ow++) {
            aa_win ww = aa_window(ow, rw, W);
            for (int64_t n = 0; n < N; n++)
                for (int64_t c = 0; c < C; c++) {
                    size_t b = (size_t)(n * ist[0] + c * ist[1]);
                    double acc = 0.0;
                    for (int64_t ih = wh.lo; ih < wh.hi; ih++) {
                        float fh = aa_weight(&wh, ih);
                        for (int64_t iw = ww.lo; iw < ww.hi; iw++) {
                            double v =
                                cml_aten_num_get(dt, x->data, b + (size_t)(ih * ist[2] + iw * ist[3]));
                            acc += v * fh * aa_weight(&ww, iw);
                        }
                    }
                    size_t o = (size_t)(n * ost[0] + c * ost[1] + oh * ost[2] + ow * ost[3]);
                    cml_aten_num_set(dt, a->out->data, o, acc);
                }
        }
    }
}

static cml_status ub_run(cml_kernel_ctx *ctx, bool aa, cml_evalue **args, uint32_t nargs) {
    const char *op = aa ? UBAA : UB;
    ub_args a;
    CML_TRY(ub_read(ctx, aa, args, nargs, &a));
    int64_t osz[4], ist[4], ost[4];
    CML_TRY(ub_out_shape(ctx, op, &a, osz));
    CML_TRY(cml_aten_resize(ctx, op, a.out, 4, osz));
    cml_tensor_strides(a.x, ist);
    cml_tensor_strides(a.out, ost);
    if (aa) ub_aa(&a, ist, ost);
    else ub_bilinear(&a, ist, ost);
    return CML_OK;
}

cml_status cml_aten_upsample_bilinear2d_vec_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                                    uint32_t nargs, size_t *scratch_bytes) {
    return ub_prepare(ctx, false, args, nargs, scratch_bytes);
}
cml_status cml_aten_upsample_bilinear2d_vec_out_run(cml_kernel_ctx *ctx, cml_evalue **args,
                                                uint32_t nargs) {
    return ub_run(ctx, false, args, nargs);
}
cml_status cml_aten_upsample_bilinear2d_aa_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                                   uint32_t nargs, size_t *scratch_bytes) {
    return ub_prepare(ctx, true, args, nargs, scratch_bytes);
}
cml_status cml_aten_upsample_bilinear2d_aa_out_run(cml_kernel_ctx *ctx, cml_evalue **args,
                                               uint32_t nargs) {
    return ub_run(ctx, true, args, nargs);
}

/* ---- grid_sampler_2d ------------------------------------------------------- */

static const char GS[] = "aten::grid_sampler_2d.out";

enum { GS_BILINEAR = 0, GS_NEAREST = 1, GS_BICUBIC = 2 };
enum { GS_ZEROS = 0, GS_BORDER = 1, GS_REFLECTION = 2 };

typedef struct gs_args {
    cml_tensor *x, *grid, *out;
    int64_t mode, pad;
    bool align;
    bool single; /* coordinates rounded to float (every dtype but float64) */
} gs_args;

static cml_status gs_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, gs_args *a) {
    CML_TRY(cml_aten_nargs_is(ctx, GS, nargs, 7));
    CML_TRY(cml_arg_tensor(ctx, GS, args, 0, &a->x));
    CML_TRY(cml_arg_tensor(ctx, GS, args, 1, &a->grid));
    CML_TRY(cml_arg_int(ctx, GS, args, 2, &a->mode));
    CML_TRY(cml_arg_int(ctx, GS, args, 3, &a->pad));
    CML_TRY(cml_arg_bool(ctx, GS, args, 4, &a->align));
    CML_TRY(cml_arg_tensor(ctx, GS, args, 5, &a->out));
    CML_TRY(cml_aten_check_rank(ctx, GS, a->x, "input", 4, 4));
    CML_TRY(cml_aten_check_rank(ctx, GS, a->grid, "grid", 4, 4));
    if (a->mode < GS_BILINEAR || a->mode > GS_BICUBIC)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, GS, "interpolation_mode %lld not 0..2",
                         (long long)a->mode);
    if (a->pad < GS_ZEROS || a->pad > GS_REFLECTION)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, GS, "padding_mode %lld not 0..2", (long long)a->pad);
    if (a->grid->sizes[3] != 2 || a->grid->sizes[0] != a->x->sizes[0])
        return cml_aten_fail(
            ctx, CML_ERR_SHAPE, GS, "grid must be [N=%lld, H, W, 2], is [%lld, %lld, %lld, %lld]",
            (long long)a->x->sizes[0], (long long)a->grid->sizes[0], (long long)a->grid->sizes[1],
            (long long)a->grid->sizes[2], (long long)a->grid->sizes[3]);
    a->single = a->x->dtype != CML_DTYPE_FLOAT64;
    return CML_OK;
}

static cml_status gs_prepare_impl(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                  size_t *scratch_bytes) {
    gs_args a;
    CML_TRY(gs_read(ctx, args, nargs, &a));
    if (!cml_aten_is_realhbf16(a.x->dtype)) return cml_aten_bad_dtype(ctx, GS, "input", a.x->dtype);
    if (a.grid->dtype != a.x->dtype || a.out->dtype != a.x->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, GS,
                         "grid %s and output %s must have the input's dtype %s",
                         cml_dtype_name(a.grid->dtype), cml_dtype_name(a.out->dtype),
                         cml_dtype_name(a.x->dtype));
    CML_TRY(cml_aten_check_contiguous(ctx, GS, a.x, "input"));
    CML_TRY(cml_aten_check_contiguous(ctx, GS, a.grid, "grid"));
    CML_TRY(cml_aten_check_contiguous(ctx, GS, a.out, "output"));
    *scratch_bytes = 0;
    return CML_OK;
}

/* Clamp into [0, size - 1]; NaN goes to 0 as in torch's CPU kernel. */
static double gs_clip(double v, int64_t size) { return fmin((double)(size - 1), fmax(v, 0.0)); }

static double gs_reflect(double v, int64_t twice_lo, int64_t twice_hi) {
    if (twice_lo == twice_hi) return 0.0;
    double mn = (double)twice_lo / 2, span = (double)(twice_hi - twice_lo) / 2;
    v = fabs(v - mn);
    double extra = fmod(v, span);
    double flips = floor(v / span);
    return fmod(flips, 2.0) == 0.0 ? extra + mn : span - extra + mn;
}

static double gs_unnorm(const gs_args *a, double c, int64_t size) {
    double v = a->align ? ((c + 1) / 2) * (double)(size - 1) : ((c + 1) * (double)size - 1) / 2;
    return a->single ? (double)(float)v : v;
}

static double gs_source(const gs_args *a, double c, int64_t size) {
    double v = gs_unnorm(a, c, size);
    if (a->pad == GS_BORDER) {
        v = gs_clip(v, size);
    } else if (a->pad == GS_REFLECTION) {
        v = a->align ? gs_reflect(v, 0, 2 * (size - 1)) : gs_reflect(v, -1, 2 * size - 1);
        v = gs_clip(v, size);
    }
    return a->single ? (double)(float)v : v;
}

/* floor/round to an index; NaN and huge values map far outside any image. */
static int64_t gs_index(double v) {
    if (!(v > -1e15 && v < 1e15)) return INT64_MIN / 4;
    return (int64_t)v;
}

/* Input value at (iy, ix) of the plane at element offset b: zero outside for
 * the zeros padding, else the clamped (bilinear/nearest) or reflected
 * (bicubic) position. */
static double gs_at(const gs_args *a, size_t b, int64_t iy, int64_t ix, bool cubic) {
    int64_t H = a->x->sizes[2], W = a->x->sizes[3];
    if (a->pad == GS_ZEROS) {
        if (iy < 0 || iy >= H || ix < 0 || ix >= W) return 0.0;
    } else if (cubic && a->pad == GS_REFLECTION) {
        double ry = a->align ? gs_reflect((double)iy, 0, 2 * (H - 1))
                             : gs_reflect((double)iy, -1, 2 * H - 1);
        double rx = a->align ? gs_reflect((double)ix, 0, 2 * (W - 1))
                             : gs_reflect((double)ix, -1, 2 * W - 1);
        iy = gs_index(gs_clip(ry, H));
        ix = gs_index(gs_clip(rx, W));
    } else {
        iy = iy < 0 ? 0 : iy >= H ? H - 1 : iy;
        ix = ix < 0 ? 0 : ix >= W ? W - 1 : ix;
    }
    return cml_aten_num_get(a->x->dtype, a->x->data, b + (size_t)(iy * W + ix));
}

static double gs_bilinear(const gs_args *a, size_t b, double ix, double iy) {
    if (isnan(ix) || isnan(iy)) return NAN; /* only reachable with zeros padding */
    int64_t x0 = gs_index(floor(ix)), y0 = gs_index(floor(iy));
    double fx0 = (double)x0, fy0 = (double)y0;
    double nw = (fx0 + 1 - ix) * (fy0 + 1 - iy), ne = (ix - fx0) * (fy0 + 1 - iy);
    double sw = (fx0 + 1 - ix) * (iy - fy0), se = (ix - fx0) * (iy - fy0);
    double v = 0.0;
    /* zeros padding adds only in-bounds corners (gs_at returns 0 outside) */
    int64_t H = a->x->sizes[2], W = a->x->sizes[3];
    bool z = a->pad == GS_ZEROS;
    if (!z || (y0 >= 0 && y0 < H && x0 >= 0 && x0 < W)) v += gs_at(a, b, y0, x0, false) * nw;
    if (!z || (y0 >= 0 && y0 < H && x0 + 1 >= 0 && x0 + 1 < W))
        v += gs_at(a, b, y0, x0 + 1, false) * ne;
    if (!z || (y0 + 1 >= 0 && y0 + 1 < H && x0 >= 0 && x0 < W))
        v += gs_at(a, b, y0 + 1, x0, false) * sw;
    if (!z || (y0 + 1 >= 0 && y0 + 1 < H && x0 + 1 >= 0 && x0 + 1 < W))
        v += gs_at(a, b, y0 + 1, x0 + 1, false) * se;
    return v;
}

/* torch's cubic convolution (A = -0.75) through 4 samples at offset t. */
static double gs_cubic(const double *p, double t) {
    const double A = -0.75;
    double x1 = t, x2 = 1.0 - t;
    double c0 = ((A * (x1 + 1) - 5 * A) * (x1 + 1) + 8 * A) * (x1 + 1) - 4 * A;
    double c1 = ((A + 2) * x1 - (A + 3)) * x1 * x1 + 1;
    double c2 = ((A + 2) * x2 - (A + 3)) * x2 * x2 + 1;
    double c3 = ((A * (x2 + 1) - 5 * A) * (x2 + 1) + 8 * A) * (x2 + 1) - 4 * A;
    return p[0] * c0 + p[1] * c1 + p[2] * c2 + p[3] * c3;
}

static double gs_bicubic(const gs_args *a, size_t b, double gx, double gy) {
    double ix = gs_unnorm(a, gx, a->x->sizes[3]), iy = gs_unnorm(a, gy, a->x->sizes[2]);
    int64_t x0 = gs_index(floor(ix)), y0 = gs_index(floor(iy));
    double tx = ix - (double)x0, ty = iy - (double)y0, rows[4], p[4];
    for (int r = 0; r < 4; r++) {
        for (int k = 0; k < 4; k++) p[k] = gs_at(a, b, y0 - 1 + r, x0 - 1 + k, true);
        rows[r] = gs_cubic(p, tx);
    }
    return gs_cubic(rows, ty);
}

static double gs_sample(const gs_args *a, size_t b, double gx, double gy) {
    if (a->mode == GS_BICUBIC) return gs_bicubic(a, b, gx, gy);
    double ix = gs_source(a, gx, a->x->sizes[3]), iy = gs_source(a, gy, a->x->sizes[2]);
    if (a->mode == GS_BILINEAR) return gs_bilinear(a, b, ix, iy);
    return gs_at(a, b, gs_index(nearbyint(iy)), gs_index(nearbyint(ix)), false);
}

static cml_status gs_run_impl(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    gs_args a;
    CML_TRY(gs_read(ctx, args, nargs, &a));
    int64_t N = a.x->sizes[0], C = a.x->sizes[1], H = a.x->sizes[2], W = a.x->sizes[3];
    int64_t HO = a.grid->sizes[1], WO = a.grid->sizes[2];
    int64_t osz[4] = {N, C, HO, WO};
    CML_TRY(cml_aten_resize(ctx, GS, a.out, 4, osz));
    if (cml_tensor_numel(a.out) == 0) return CML_OK;
    if (H == 0 || W == 0)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, GS, "cannot sample an empty [%lld, %lld] image",
                         (long long)H, (long long)W);
    cml_dtype dt = a.x->dtype;
    size_t o = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++) {
            size_t b = (size_t)((n * C + c) * H * W);
            for (int64_t p = 0; p < HO * WO; p++) {
                size_t g = (size_t)((n * HO * WO + p) * 2);
                double gx = cml_aten_num_get(dt, a.grid->data, g),
                       gy = cml_aten_num_get(dt, a.grid->data, g + 1);
                cml_aten_num_set(dt, a.out->data, o++, gs_sample(&a, b, gx, gy));
            }
        }
    return CML_OK;
}

cml_status cml_aten_grid_sampler_2d_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                            size_t *scratch_bytes) {
    return gs_prepare_impl(ctx, args, nargs, scratch_bytes);
}
cml_status cml_aten_grid_sampler_2d_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return gs_run_impl(ctx, args, nargs);
}
