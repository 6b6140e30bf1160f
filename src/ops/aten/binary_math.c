/*
 * Binary math ops with upstream's dtype rules (cml_ew_util.h), broadcasting:
 *
 *   atan2.out(Tensor self, Tensor other, *, Tensor(a!) out): floating out.
 *   fmod.Tensor_out / fmod.Scalar_out(Tensor self, Tensor|Scalar other, *,
 *       Tensor(a!) out): C fmod, the result takes the dividend's sign.
 *   remainder.Tensor_out / remainder.Scalar_out: Python's %, the result
 *       takes the divisor's sign (PyTorch's rule, for integers too).
 *   clamp.Tensor_out(Tensor self, Tensor? min=None, Tensor? max=None, *,
 *       Tensor(a!) out): max(self, min) then min(., max); NaN propagates.
 *
 * Integer fmod/remainder compute exactly in int64 and fail on a zero divisor
 * ("integer division by zero"); INT_MIN by -1 gives 0. Where upstream's
 * portable kernels differ from PyTorch this follows PyTorch (the programs'
 * reference): upstream's integer remainder truncates like C's % (the sign
 * of the dividend), and its integer fmod.Tensor computes in double with no
 * zero-divisor check.
 */
#include <math.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/ew_util.h"

/* ---- kernels --------------------------------------------------------------------- */

static void atan2_f32(const float *a, const float *b, size_t bs, float *o, size_t n) {
    for (size_t k = 0; k < n; k++) o[k] = atan2f(a[k], b[k * bs]);
}
static void atan2_f64(const double *a, const double *b, size_t bs, double *o, size_t n) {
    for (size_t k = 0; k < n; k++) o[k] = atan2(a[k], b[k * bs]);
}

static void fmod_f32(const float *a, const float *b, size_t bs, float *o, size_t n) {
    for (size_t k = 0; k < n; k++) o[k] = fmodf(a[k], b[k * bs]);
}
static void fmod_f64(const double *a, const double *b, size_t bs, double *o, size_t n) {
    for (size_t k = 0; k < n; k++) o[k] = fmod(a[k], b[k * bs]);
}
static bool fmod_i64(const int64_t *a, const int64_t *b, size_t bs, int64_t *o, size_t n,
                     cml_dtype common) {
    (void)common;
    for (size_t k = 0; k < n; k++) {
        int64_t d = b[k * bs];
        if (d == 0) return false;
        o[k] = d == -1 ? 0 : a[k] % d;
    }
    return true;
}

static void rem_f32(const float *a, const float *b, size_t bs, float *o, size_t n) {
    for (size_t k = 0; k < n; k++) {
        float d = b[k * bs], r = fmodf(a[k], d);
        o[k] = (r != 0 && ((r < 0) != (d < 0))) ? r + d : r;
    }
}
static void rem_f64(const double *a, const double *b, size_t bs, double *o, size_t n) {
    for (size_t k = 0; k < n; k++) {
        double d = b[k * bs], r = fmod(a[k], d);
        o[k] = (r != 0 && ((r < 0) != (d < 0))) ? r + d : r;
    }
}
static bool rem_i64(const int64_t *a, const int64_t *b, size_t bs, int64_t *o, size_t n,
                    cml_dtype common) {
    (void)common;
    for (size_t k = 0; k < n; k++) {
        int64_t d = b[k * bs];
        if (d == 0) return false;
        int64_t r = d == -1 ? 0 : a[k] % d;
        o[k] = (r != 0 && ((r < 0) != (d < 0))) ? r + d : r;
    }
    return true;
}

/*         function                        name                          scalar rule */
EW_BIN_OP(cml_aten_atan2_out,              "aten::atan2.out",              0, EW_RULE_FLOAT,
          atan2_f32, atan2_f64, NULL)
EW_BIN_OP(cml_aten_fmod_tensor_out,        "aten::fmod.Tensor_out",        0, EW_RULE_MOD,
          fmod_f32, fmod_f64, fmod_i64)
EW_BIN_OP(cml_aten_fmod_scalar_out,        "aten::fmod.Scalar_out",        1, EW_RULE_MOD,
          fmod_f32, fmod_f64, fmod_i64)
EW_BIN_OP(cml_aten_remainder_tensor_out,   "aten::remainder.Tensor_out",   0, EW_RULE_MOD,
          rem_f32, rem_f64, rem_i64)
EW_BIN_OP(cml_aten_remainder_scalar_out,   "aten::remainder.Scalar_out",   1, EW_RULE_MOD,
          rem_f32, rem_f64, rem_i64)

/* ---- clamp.Tensor_out(Tensor self, Tensor? min=None, Tensor? max=None, *, Tensor(a!) out) ---- */

static const char CLAMPT[] = "aten::clamp.Tensor_out";

typedef struct clamp_args {
    cml_tensor *x, *lo, *hi, *out; /* lo/hi NULL when None */
    cml_dtype common, cdt;
} clamp_args;

static cml_status clamp_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                             clamp_args *c) {
    CML_TRY(cml_aten_nargs_is(ctx, CLAMPT, nargs, 5));
    CML_TRY(cml_arg_tensor(ctx, CLAMPT, args, 0, &c->x));
    CML_TRY(cml_aten_arg_opt_tensor(ctx, CLAMPT, args, 1, &c->lo));
    CML_TRY(cml_aten_arg_opt_tensor(ctx, CLAMPT, args, 2, &c->hi));
    CML_TRY(cml_arg_tensor(ctx, CLAMPT, args, 3, &c->out));
    if (!c->lo && !c->hi)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, CLAMPT, "at least one of min and max is needed");
    const cml_tensor *ts[4] = {c->x, c->lo, c->hi, c->out};
    const char *names[4] = {"self", "min", "max", "output"};
    for (int k = 0; k < 4; k++)
        if (ts[k]) CML_TRY(cml_ew_require(ctx, CLAMPT, cml_aten_is_realhbbf16(ts[k]->dtype), names[k], ts[k]->dtype));
    c->common = c->x->dtype;
    if (c->lo) c->common = cml_ew_promote(c->common, c->lo->dtype);
    if (c->hi) c->common = cml_ew_promote(c->common, c->hi->dtype);
    if (!cml_ew_can_cast(c->common, c->out->dtype))
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, CLAMPT, "result type %s cannot be cast to output %s",
                         cml_dtype_name(c->common), cml_dtype_name(c->out->dtype));
    c->cdt = cml_ew_compute_dtype(c->common);
    return CML_OK;
}

cml_status cml_aten_clamp_tensor_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                         size_t *scratch_bytes) {
    clamp_args c;
    CML_TRY(clamp_read(ctx, args, nargs, &c));
    size_t need = cml_ew_stage_need(c.x, c.cdt, c.out) + cml_ew_result_need(c.out, c.cdt);
    if (c.lo) need += cml_ew_stage_need(c.lo, c.cdt, c.out);
    if (c.hi) need += cml_ew_stage_need(c.hi, c.cdt, c.out);
    *scratch_bytes = need;
    return CML_OK;
}

/* lo/hi NULL when absent. NaN in any operand propagates (upstream's
 * max_override/min_override). */
#define CLAMP_LOOP(T, ISNAN)                                                                     \
    for (size_t k = 0; k < n; k++) {                                                             \
        T v = x[k];                                                                              \
        if (lo && !ISNAN(v)) v = ISNAN(lo[k]) ? lo[k] : (lo[k] > v ? lo[k] : v);                \
        if (hi && !ISNAN(v)) v = ISNAN(hi[k]) ? hi[k] : (hi[k] < v ? hi[k] : v);                \
        o[k] = v;                                                                                \
    }
#define NO_NAN(v) ((void)(v), 0)

static void clamp_f32(const float *x, const float *lo, const float *hi, float *o, size_t n) {
    CLAMP_LOOP(float, isnan)
}
static void clamp_f64(const double *x, const double *lo, const double *hi, double *o, size_t n) {
    CLAMP_LOOP(double, isnan)
}
static void clamp_i64(const int64_t *x, const int64_t *lo, const int64_t *hi, int64_t *o, size_t n) {
    CLAMP_LOOP(int64_t, NO_NAN)
}

cml_status cml_aten_clamp_tensor_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    clamp_args c;
    CML_TRY(clamp_read(ctx, args, nargs, &c));
    const cml_tensor *ts[3] = {c.x, c.lo, c.hi};
    CML_TRY(cml_ew_broadcast_resize(ctx, CLAMPT, ts, 3, c.out));
    size_t n = (size_t)cml_tensor_numel(c.out);
    if (n == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const void *xp = cml_ew_stage(&s, c.x, c.cdt, c.out);
    const void *lp = c.lo ? cml_ew_stage(&s, c.lo, c.cdt, c.out) : NULL;
    const void *hp = c.hi ? cml_ew_stage(&s, c.hi, c.cdt, c.out) : NULL;
    void *op = cml_ew_result(&s, c.out, c.cdt);
    if (!xp || (c.lo && !lp) || (c.hi && !hp) || !op) return cml_aten_scratch_short(ctx, CLAMPT);
    if (c.cdt == CML_DTYPE_FLOAT32) clamp_f32(xp, lp, hp, op, n);
    else if (c.cdt == CML_DTYPE_FLOAT64) clamp_f64(xp, lp, hp, op, n);
    else clamp_i64(xp, lp, hp, op, n);
    cml_ew_finish(c.out, op, c.cdt);
    return CML_OK;
}
