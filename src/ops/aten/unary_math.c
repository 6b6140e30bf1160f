/*
 * Unary math ops with upstream's dtype rules (cml_ew_util.h):
 *
 *   acos acosh asin asinh atan atanh cosh sinh tan expm1 log10 log1p log2 .out
 *       (Tensor self, *, Tensor(a!) out): self any real/bool dtype, out any
 *       floating dtype; computed with the libm function in double for a
 *       double input, else in float.
 *   logit.out(Tensor self, float? eps=None, *, Tensor(a!) out): out floating,
 *       computed in out's precision (float for fp16/bf16 outputs, which
 *       upstream refuses at run time).
 *   isinf.out / isnan.out(Tensor self, *, Tensor(a!) out): out Bool.
 *   sign.out / trunc.out(Tensor self, *, Tensor(a!) out): out of self's dtype;
 *       sign also takes Bool (sign(NaN) = NaN), trunc is the identity on
 *       integers (upstream rounds them through float, losing int64 bits).
 *   _conj_physical.out(Tensor self, *, Tensor(a!) out): complex, same dtype.
 *   view_as_real_copy.out(Tensor self, *, Tensor(a!) out): complex self, out
 *       fp16/fp32/fp64 of shape self.shape + [2] (components converted).
 *   fill.Scalar_out(Tensor self, Scalar value, *, Tensor(a!) out) and
 *   fill.Tensor_out(Tensor self, Tensor value, *, Tensor(a!) out): out has
 *       self's dtype and shape, every element value (a Scalar that does not
 *       fit an integer dtype is an error, see scalar_to_elem; a Tensor value
 *       must hold one element and converts like a C cast).
 */
#include <math.h>
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/ew_util.h"

static cml_status un_read(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                          uint32_t want, cml_tensor **x, cml_tensor **out) {
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, want));
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, x));
    return cml_arg_tensor(ctx, op, args, nargs - 2, out);
}

/* ---- libm ops: real/bool -> floating ------------------------------------------ */

typedef struct uf_spec {
    const char *name;
    float (*f32)(float);
    double (*f64)(double);
} uf_spec;

static cml_dtype uf_compute(const cml_tensor *x) {
    return x->dtype == CML_DTYPE_FLOAT64 ? CML_DTYPE_FLOAT64 : CML_DTYPE_FLOAT32;
}

static cml_status uf_prepare(cml_kernel_ctx *ctx, const uf_spec *sp, cml_evalue **args,
                             uint32_t nargs, size_t *scratch_bytes) {
    cml_tensor *x, *out;
    CML_TRY(un_read(ctx, sp->name, args, nargs, 3, &x, &out));
    CML_TRY(cml_ew_require(ctx, sp->name, cml_aten_is_realhbbf16(x->dtype), "input", x->dtype));
    CML_TRY(cml_ew_require(ctx, sp->name, cml_aten_is_floating(out->dtype), "output", out->dtype));
    cml_dtype cdt = uf_compute(x);
    *scratch_bytes = cml_ew_stage_need(x, cdt, out) + cml_ew_result_need(out, cdt);
    return CML_OK;
}

static cml_status uf_run(cml_kernel_ctx *ctx, const uf_spec *sp, cml_evalue **args,
                         uint32_t nargs) {
    cml_tensor *x, *out;
    CML_TRY(un_read(ctx, sp->name, args, nargs, 3, &x, &out));
    CML_TRY(cml_aten_resize(ctx, sp->name, out, x->rank, x->sizes));
    size_t n = (size_t)cml_tensor_numel(out);
    if (n == 0) return CML_OK;
    cml_dtype cdt = uf_compute(x);
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const void *xp = cml_ew_stage(&s, x, cdt, out);
    void *yp = cml_ew_result(&s, out, cdt);
    if (!xp || !yp) return cml_aten_scratch_short(ctx, sp->name);
    if (cdt == CML_DTYPE_FLOAT64) {
        const double *a = xp;
        double *y = yp;
        for (size_t k = 0; k < n; k++) y[k] = sp->f64(a[k]);
    } else {
        const float *a = xp;
        float *y = yp;
        for (size_t k = 0; k < n; k++) y[k] = sp->f32(a[k]);
    }
    cml_ew_finish(out, yp, cdt);
    return CML_OK;
}

#define UF_OP(fn, NAME, F32, F64)                                                                \
    static const uf_spec fn##_spec = {NAME, F32, F64};                                           \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes) {                                             \
        return uf_prepare(ctx, &fn##_spec, args, nargs, scratch_bytes);                          \
    }                                                                                            \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                \
        return uf_run(ctx, &fn##_spec, args, nargs);                                             \
    }

UF_OP(cml_aten_acos_out,  "aten::acos.out",  acosf,  acos)
UF_OP(cml_aten_acosh_out, "aten::acosh.out", acoshf, acosh)
UF_OP(cml_aten_asin_out,  "aten::asin.out",  asinf,  asin)
UF_OP(cml_aten_asinh_out, "aten::asinh.out", asinhf, asinh)
UF_OP(cml_aten_atan_out,  "aten::atan.out",  atanf,  atan)
UF_OP(cml_aten_atanh_out, "aten::atanh.out", atanhf, atanh)
UF_OP(cml_aten_cosh_out,  "aten::cosh.out",  coshf,  cosh)
UF_OP(cml_aten_sinh_out,  "aten::sinh.out",  sinhf,  sinh)
UF_OP(cml_aten_tan_out,   "aten::tan.out",   tanf,   tan)
UF_OP(cml_aten_expm1_out, "aten::expm1.out", expm1f, expm1)
UF_OP(cml_aten_log10_out, "aten::log10.out", log10f, log10)
UF_OP(cml_aten_log1p_out, "aten::log1p.out", log1pf, log1p)
UF_OP(cml_aten_log2_out,  "aten::log2.out",  log2f,  log2)

/* ---- logit.out(Tensor self, float? eps=None, *, Tensor(a!) out) -------------------- */

static const char LOGIT[] = "aten::logit.out";

static cml_status logit_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                             cml_tensor **x, bool *has_eps, double *eps, cml_tensor **out) {
    CML_TRY(un_read(ctx, LOGIT, args, nargs, 4, x, out));
    *has_eps = !cml_arg_is_none(args, 1);
    *eps = 0.0;
    if (*has_eps) CML_TRY(cml_arg_double(ctx, LOGIT, args, 1, eps));
    return CML_OK;
}

static cml_dtype logit_compute(const cml_tensor *out) {
    return out->dtype == CML_DTYPE_FLOAT64 ? CML_DTYPE_FLOAT64 : CML_DTYPE_FLOAT32;
}

cml_status cml_aten_logit_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                  size_t *scratch_bytes) {
    cml_tensor *x, *out;
    bool has_eps;
    double eps;
    CML_TRY(logit_read(ctx, args, nargs, &x, &has_eps, &eps, &out));
    CML_TRY(cml_ew_require(ctx, LOGIT, cml_aten_is_realhbbf16(x->dtype), "input", x->dtype));
    CML_TRY(cml_ew_require(ctx, LOGIT, cml_aten_is_floating(out->dtype), "output", out->dtype));
    cml_dtype cdt = logit_compute(out);
    *scratch_bytes = cml_ew_stage_need(x, cdt, out) + cml_ew_result_need(out, cdt);
    return CML_OK;
}

static void logit_f64(const double *x, double *y, size_t n, bool has_eps, double eps) {
    for (size_t k = 0; k < n; k++) {
        double v = x[k];
        if (has_eps) v = v < eps ? eps : v > 1.0 - eps ? 1.0 - eps : v;
        y[k] = log(v / (1.0 - v));
    }
}

static void logit_f32(const float *x, float *y, size_t n, bool has_eps, double eps) {
    float lo = (float)eps, hi = (float)(1.0 - eps);
    for (size_t k = 0; k < n; k++) {
        float v = x[k];
        if (has_eps) v = (double)v < eps ? lo : (double)v > 1.0 - eps ? hi : v;
        y[k] = logf(v / (1.0f - v));
    }
}

cml_status cml_aten_logit_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *x, *out;
    bool has_eps;
    double eps;
    CML_TRY(logit_read(ctx, args, nargs, &x, &has_eps, &eps, &out));
    CML_TRY(cml_aten_resize(ctx, LOGIT, out, x->rank, x->sizes));
    size_t n = (size_t)cml_tensor_numel(out);
    if (n == 0) return CML_OK;
    cml_dtype cdt = logit_compute(out);
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const void *xp = cml_ew_stage(&s, x, cdt, out);
    void *yp = cml_ew_result(&s, out, cdt);
    if (!xp || !yp) return cml_aten_scratch_short(ctx, LOGIT);
    if (cdt == CML_DTYPE_FLOAT64) logit_f64(xp, yp, n, has_eps, eps);
    else logit_f32(xp, yp, n, has_eps, eps);
    cml_ew_finish(out, yp, cdt);
    return CML_OK;
}

/* ---- isinf.out / isnan.out: real/bool -> Bool --------------------------------------- */

static cml_status isx_prepare(cml_kernel_ctx *ctx, const char *op, cml_evalue **args,
                              uint32_t nargs, size_t *scratch_bytes) {
    cml_tensor *x, *out;
    CML_TRY(un_read(ctx, op, args, nargs, 3, &x, &out));
    CML_TRY(cml_ew_require(ctx, op, cml_aten_is_realhbbf16(x->dtype), "input", x->dtype));
    CML_TRY(cml_ew_require(ctx, op, out->dtype == CML_DTYPE_BOOL, "output (must be bool)", out->dtype));
    *scratch_bytes = cml_ew_stage_need(x, uf_compute(x), out);
    return CML_OK;
}

static cml_status isx_run(cml_kernel_ctx *ctx, const char *op, bool nan, cml_evalue **args,
                          uint32_t nargs) {
    cml_tensor *x, *out;
    CML_TRY(un_read(ctx, op, args, nargs, 3, &x, &out));
    CML_TRY(cml_aten_resize(ctx, op, out, x->rank, x->sizes));
    size_t n = (size_t)cml_tensor_numel(out);
    if (n == 0) return CML_OK;
    uint8_t *y = out->data;
    if (!cml_aten_is_floating(x->dtype)) { /* integers are always finite */
        memset(y, 0, n);
        return CML_OK;
    }
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    cml_dtype cdt = uf_compute(x);
    const void *xp = cml_ew_stage(&s, x, cdt, out);
    if (!xp) return cml_aten_scratch_short(ctx, op);
    if (cdt == CML_DTYPE_FLOAT64) {
        const double *a = xp;
        for (size_t k = 0; k < n; k++) y[k] = (uint8_t)(nan ? isnan(a[k]) != 0 : isinf(a[k]) != 0);
    } else {
        const float *a = xp;
        for (size_t k = 0; k < n; k++) y[k] = (uint8_t)(nan ? isnan(a[k]) != 0 : isinf(a[k]) != 0);
    }
    return CML_OK;
}

cml_status cml_aten_isinf_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                  size_t *scratch_bytes) {
    return isx_prepare(ctx, "aten::isinf.out", args, nargs, scratch_bytes);
}
cml_status cml_aten_isinf_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return isx_run(ctx, "aten::isinf.out", false, args, nargs);
}
cml_status cml_aten_isnan_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                  size_t *scratch_bytes) {
    return isx_prepare(ctx, "aten::isnan.out", args, nargs, scratch_bytes);
}
cml_status cml_aten_isnan_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return isx_run(ctx, "aten::isnan.out", true, args, nargs);
}

/* ---- sign.out / trunc.out: same dtype in and out --------------------------------------- */

static cml_status same_prepare(cml_kernel_ctx *ctx, const char *op, bool bool_ok,
                               cml_evalue **args, uint32_t nargs, size_t *scratch_bytes) {
    cml_tensor *x, *out;
    CML_TRY(un_read(ctx, op, args, nargs, 3, &x, &out));
    bool ok = cml_aten_is_realhbf16(x->dtype) || (bool_ok && x->dtype == CML_DTYPE_BOOL);
    CML_TRY(cml_ew_require(ctx, op, ok, "input", x->dtype));
    if (out->dtype != x->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "output dtype %s differs from input %s",
                         cml_dtype_name(out->dtype), cml_dtype_name(x->dtype));
    cml_dtype cdt = cml_ew_compute_dtype(x->dtype);
    *scratch_bytes = cml_ew_stage_need(x, cdt, out) + cml_ew_result_need(out, cdt);
    return CML_OK;
}

static void sign_trunc(bool sign, cml_dtype cdt, const void *xp, void *yp, size_t n) {
    if (cdt == CML_DTYPE_FLOAT64) {
        const double *a = xp;
        double *y = yp;
        for (size_t k = 0; k < n; k++)
            y[k] = !sign ? trunc(a[k]) : isnan(a[k]) ? a[k] : (double)((a[k] > 0) - (a[k] < 0));
    } else if (cdt == CML_DTYPE_FLOAT32) {
        const float *a = xp;
        float *y = yp;
        for (size_t k = 0; k < n; k++)
            y[k] = !sign ? truncf(a[k]) : isnan(a[k]) ? a[k] : (float)((a[k] > 0) - (a[k] < 0));
    } else {
        const int64_t *a = xp;
        int64_t *y = yp;
        for (size_t k = 0; k < n; k++) y[k] = !sign ? a[k] : (int64_t)((a[k] > 0) - (a[k] < 0));
    }
}

static cml_status same_run(cml_kernel_ctx *ctx, const char *op, bool sign, cml_evalue **args,
                           uint32_t nargs) {
    cml_tensor *x, *out;
    CML_TRY(un_read(ctx, op, args, nargs, 3, &x, &out));
    CML_TRY(cml_aten_resize(ctx, op, out, x->rank, x->sizes));
    size_t n = (size_t)cml_tensor_numel(out);
    if (n == 0) return CML_OK;
    cml_dtype cdt = cml_ew_compute_dtype(x->dtype);
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const void *xp = cml_ew_stage(&s, x, cdt, out);
    void *yp = cml_ew_result(&s, out, cdt);
    if (!xp || !yp) return cml_aten_scratch_short(ctx, op);
    sign_trunc(sign, cdt, xp, yp, n);
    cml_ew_finish(out, yp, cdt);
    return CML_OK;
}

cml_status cml_aten_sign_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                 size_t *scratch_bytes) {
    return same_prepare(ctx, "aten::sign.out", true, args, nargs, scratch_bytes);
}
cml_status cml_aten_sign_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return same_run(ctx, "aten::sign.out", true, args, nargs);
}
cml_status cml_aten_trunc_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                  size_t *scratch_bytes) {
    return same_prepare(ctx, "aten::trunc.out", false, args, nargs, scratch_bytes);
}
cml_status cml_aten_trunc_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return same_run(ctx, "aten::trunc.out", false, args, nargs);
}

/* ---- _conj_physical.out: negate the imaginary parts ------------------------------------ */

static const char CONJ[] = "aten::_conj_physical.out";

cml_status cml_aten_conj_physical_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                          size_t *scratch_bytes) {
    cml_tensor *x, *out;
    CML_TRY(un_read(ctx, CONJ, args, nargs, 3, &x, &out));
    CML_TRY(cml_ew_require(ctx, CONJ, cml_aten_is_complex(x->dtype), "input", x->dtype));
    if (out->dtype != x->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, CONJ, "output dtype %s differs from input %s",
                         cml_dtype_name(out->dtype), cml_dtype_name(x->dtype));
    if (!cml_aten_same_dim_order(x, out))
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, CONJ, "input and output dim orders differ");
    *scratch_bytes = 0;
    return CML_OK;
}

cml_status cml_aten_conj_physical_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *x, *out;
    CML_TRY(un_read(ctx, CONJ, args, nargs, 3, &x, &out));
    CML_TRY(cml_aten_resize(ctx, CONJ, out, x->rank, x->sizes));
    size_t n = (size_t)cml_tensor_numel(out), es = cml_dtype_size(out->dtype);
    if (n == 0) return CML_OK;
    if (out->data != x->data) memmove(out->data, x->data, n * es);
    /* Little-endian (real, imag) pairs: the imaginary part's sign bit is
     * the top bit of each element's last byte. */
    uint8_t *p = out->data;
    for (size_t k = 0; k < n; k++) p[k * es + es - 1] ^= 0x80u;
    return CML_OK;
}

/* ---- view_as_real_copy.out: complex [..] -> floating [.., 2] ------------------------------ */

static const char VREAL[] = "aten::view_as_real_copy.out";

static cml_dtype complex_part(cml_dtype dt) {
    return dt == CML_DTYPE_COMPLEX32 ? CML_DTYPE_FLOAT16
         : dt == CML_DTYPE_COMPLEX64 ? CML_DTYPE_FLOAT32 : CML_DTYPE_FLOAT64;
}

cml_status cml_aten_view_as_real_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                              uint32_t nargs, size_t *scratch_bytes) {
    cml_tensor *x, *out;
    CML_TRY(un_read(ctx, VREAL, args, nargs, 3, &x, &out));
    CML_TRY(cml_ew_require(ctx, VREAL, cml_aten_is_complex(x->dtype), "input", x->dtype));
    bool ok = out->dtype == CML_DTYPE_FLOAT16 || out->dtype == CML_DTYPE_FLOAT32 ||
              out->dtype == CML_DTYPE_FLOAT64;
    CML_TRY(cml_ew_require(ctx, VREAL, ok, "output", out->dtype));
    if (x->rank >= CML_MAX_DIMS)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, VREAL, "input rank %d leaves no room for the "
                         "last dim", x->rank);
    CML_TRY(cml_aten_check_contiguous(ctx, VREAL, x, "input"));
    CML_TRY(cml_aten_check_contiguous(ctx, VREAL, out, "output"));
    *scratch_bytes = 0;
    return CML_OK;
}

cml_status cml_aten_view_as_real_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *x, *out;
    CML_TRY(un_read(ctx, VREAL, args, nargs, 3, &x, &out));
    if (x->rank >= CML_MAX_DIMS)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, VREAL, "input rank %d too large", x->rank);
    int64_t sizes[CML_MAX_DIMS];
    memcpy(sizes, x->sizes, sizeof(int64_t) * (size_t)x->rank);
    sizes[x->rank] = 2;
    CML_TRY(cml_aten_resize(ctx, VREAL, out, x->rank + 1, sizes));
    size_t n = (size_t)cml_tensor_numel(out);
    if (n && !cml_k_convert(complex_part(x->dtype), x->data, out->dtype, out->data, n))
        return cml_aten_bad_dtype(ctx, VREAL, "output", out->dtype);
    return CML_OK;
}

/* ---- fill.Scalar_out / fill.Tensor_out -------------------------------------------------- */

static cml_status fill_read(cml_kernel_ctx *ctx, const char *op, cml_evalue **args,
                            uint32_t nargs, cml_tensor **x, cml_tensor **out) {
    CML_TRY(un_read(ctx, op, args, nargs, 4, x, out));
    CML_TRY(cml_ew_require(ctx, op, cml_aten_is_realhbbf16((*x)->dtype), "input", (*x)->dtype));
    if ((*out)->dtype != (*x)->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "output dtype %s differs from input %s",
                         cml_dtype_name((*out)->dtype), cml_dtype_name((*x)->dtype));
    return CML_OK;
}

/* The Scalar as one element of dt; false when it does not fit an integer
 * dtype (PyTorch's rule: an Int by range, uint8 also taking -255..-1 as
 * wrapping; a Double by range with no wrapping, NaN/inf refused). Floating
 * dtypes round (to inf beyond the range, as PyTorch's fill_ does; upstream's
 * portable kernel refuses those values). */
static bool scalar_to_elem(const cml_ew_scalar *s, cml_dtype dt, uint8_t *val) {
    if (dt == CML_DTYPE_BOOL) {
        val[0] = s->kind == EW_S_DOUBLE ? s->d != 0.0 : s->i != 0;
        return true;
    }
    if (cml_aten_is_floating(dt)) {
        double d = cml_ew_scalar_f64(s);
        return cml_k_convert(CML_DTYPE_FLOAT64, &d, dt, val, 1);
    }
    int bits = cml_ew_int_bits(dt);
    double lim = ldexp(1.0, dt == CML_DTYPE_UINT8 ? 8 : bits - 1); /* exact */
    int64_t v;
    if (s->kind == EW_S_DOUBLE) {
        double lo = dt == CML_DTYPE_UINT8 ? 0.0 : -lim;
        bool fits = s->d >= lo && (bits == 64 ? s->d < lim : s->d <= lim - 1.0); /* NaN fails */
        if (!fits) return false;
        v = (int64_t)s->d;
    } else {
        double lo = dt == CML_DTYPE_UINT8 ? 1.0 - lim : -lim;
        v = s->i;
        if (bits < 64 && ((double)v < lo || (double)v > lim - 1.0)) return false;
    }
    return cml_k_convert(CML_DTYPE_INT64, &v, dt, val, 1);
}

static void fill_elems(cml_tensor *out, const uint8_t *val) {
    size_t n = (size_t)cml_tensor_numel(out), es = cml_dtype_size(out->dtype);
    uint8_t *p = out->data;
    for (size_t k = 0; k < n; k++) memcpy(p + k * es, val, es);
}

static const char FILLS[] = "aten::fill.Scalar_out";
static const char FILLT[] = "aten::fill.Tensor_out";

cml_status cml_aten_fill_scalar_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                        size_t *scratch_bytes) {
    cml_tensor *x, *out;
    cml_ew_scalar v;
    CML_TRY(fill_read(ctx, FILLS, args, nargs, &x, &out));
    CML_TRY(cml_ew_arg_scalar(ctx, FILLS, args, 1, &v));
    *scratch_bytes = 0;
    return CML_OK;
}

cml_status cml_aten_fill_scalar_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *x, *out;
    cml_ew_scalar v;
    uint8_t val[16];
    CML_TRY(fill_read(ctx, FILLS, args, nargs, &x, &out));
    CML_TRY(cml_ew_arg_scalar(ctx, FILLS, args, 1, &v));
    if (!scalar_to_elem(&v, out->dtype, val))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, FILLS, "value %g does not fit %s",
                         cml_ew_scalar_f64(&v), cml_dtype_name(out->dtype));
    CML_TRY(cml_aten_resize(ctx, FILLS, out, x->rank, x->sizes));
    fill_elems(out, val);
    return CML_OK;
}

cml_status cml_aten_fill_tensor_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                        size_t *scratch_bytes) {
    cml_tensor *x, *out, *v;
    CML_TRY(fill_read(ctx, FILLT, args, nargs, &x, &out));
    CML_TRY(cml_arg_tensor(ctx, FILLT, args, 1, &v));
    CML_TRY(cml_ew_require(ctx, FILLT, cml_aten_is_realhbbf16(v->dtype), "value", v->dtype));
    *scratch_bytes = 0;
    return CML_OK;
}

cml_status cml_aten_fill_tensor_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *x, *out, *v;
    uint8_t val[16];
    CML_TRY(fill_read(ctx, FILLT, args, nargs, &x, &out));
    CML_TRY(cml_arg_tensor(ctx, FILLT, args, 1, &v));
    if (cml_tensor_numel(v) != 1)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, FILLT, "value must hold one element, has %lld",
                         (long long)cml_tensor_numel(v));
    if (!cml_k_convert(v->dtype, v->data, out->dtype, val, 1))
        return cml_aten_bad_dtype(ctx, FILLT, "value", v->dtype);
    CML_TRY(cml_aten_resize(ctx, FILLT, out, x->rank, x->sizes));
    fill_elems(out, val);
    return CML_OK;
}
