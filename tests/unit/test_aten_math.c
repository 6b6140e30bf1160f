/* Unary and binary math ops with upstream dtype rules (unary_math.c,
 * binary_math.c): every input/output dtype pair against naive libm
 * references over edge values and random data, broadcasting, and bad input
 * rejected with a message naming the op. */
#include "test_aten_ew_util.h"

static tenv E;

static void reset(void) {
    tv_free(&E);
    tv_init(&E);
}

static const cml_dtype FLOATS[] = {CML_DTYPE_FLOAT16, CML_DTYPE_BFLOAT16, CML_DTYPE_FLOAT32,
                                   CML_DTYPE_FLOAT64};

/* ---- unary libm ops -------------------------------------------------------------- */

typedef struct ufn {
    const char *op;
    float (*f32)(float);
    double (*f64)(double);
} ufn;

static const ufn UF[] = {
    {"aten::acos.out", acosf, acos},   {"aten::acosh.out", acoshf, acosh},
    {"aten::asin.out", asinf, asin},   {"aten::asinh.out", asinhf, asinh},
    {"aten::atan.out", atanf, atan},   {"aten::atanh.out", atanhf, atanh},
    {"aten::cosh.out", coshf, cosh},   {"aten::sinh.out", sinhf, sinh},
    {"aten::tan.out", tanf, tan},      {"aten::expm1.out", expm1f, expm1},
    {"aten::log10.out", log10f, log10}, {"aten::log1p.out", log1pf, log1p},
    {"aten::log2.out", log2f, log2},
};

static void test_unary_float(void) {
    for (size_t f = 0; f < sizeof UF / sizeof UF[0]; f++)
        for (int i = 0; i < EW_NALL; i++)
            for (int o = 0; o < 4; o++) {
                reset();
                cml_dtype in = EW_ALL[i], od = FLOATS[o];
                cml_evalue *x = TS(&E, in, 3, 5);
                cml_evalue *y = cml_ew_tensor(&E, od, 2, S(3, 5));
                cml_ew_fill(T(x), 3.0, true);
                cml_status st = CALL(&E, UF[f].op, x, y, y);
                bool ok = st == CML_OK && tv_shape_is(T(y), 2, S(3, 5));
                for (int64_t k = 0; ok && k < 15; k++) {
                    double v = cml_ew_getd(T(x), k);
                    double want = in == CML_DTYPE_FLOAT64 ? UF[f].f64(v) : (double)UF[f].f32((float)v);
                    ok = cml_ew_same_float(od, cml_ew_getd(T(y), k), cml_ew_round_to(od, want));
                    if (!ok)
                        fprintf(stderr, "%s %s->%s [%lld] x=%g got %g want %g\n", UF[f].op,
                                cml_dtype_name(in), cml_dtype_name(od), (long long)k, v,
                                cml_ew_getd(T(y), k), want);
                }
                CHECK_MSG(ok, "%s %s -> %s: %s", UF[f].op, cml_dtype_name(in), cml_dtype_name(od),
                          E.err.msg);
            }
    /* Bad: integer output, uint16 input. */
    reset();
    cml_evalue *x = TS(&E, CML_DTYPE_FLOAT32, 4), *y = TS(&E, CML_DTYPE_INT32, 4);
    CHECK(PREP(&E, "aten::acos.out", x, y, y) == CML_ERR_UNSUPPORTED && cml_ew_msg_names(&E, "aten::acos.out"));
    x = TS(&E, CML_DTYPE_UINT16, 4);
    y = TS(&E, CML_DTYPE_FLOAT32, 4);
    CHECK(PREP(&E, "aten::log2.out", x, y, y) == CML_ERR_UNSUPPORTED && cml_ew_msg_names(&E, "aten::log2.out"));
}

/* ---- isinf / isnan / sign / trunc / logit ----------------------------------------------- */

static void test_predicates(void) {
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < EW_NALL; i++) {
            reset();
            const char *op = p ? "aten::isnan.out" : "aten::isinf.out";
            cml_evalue *x = TS(&E, EW_ALL[i], 16), *y = cml_ew_tensor(&E, CML_DTYPE_BOOL, 1, S(16));
            cml_ew_fill(T(x), 100.0, true);
            bool ok = CALL(&E, op, x, y, y) == CML_OK;
            for (int64_t k = 0; ok && k < 16; k++) {
                double v = cml_ew_getd(T(x), k);
                bool want = cml_ew_t_float(EW_ALL[i]) && (p ? isnan(v) : isinf(v));
                ok = ((const uint8_t *)T(y)->data)[k] == (uint8_t)want;
            }
            CHECK_MSG(ok, "%s %s: %s", op, cml_dtype_name(EW_ALL[i]), E.err.msg);
        }
    reset();
    cml_evalue *x = TS(&E, CML_DTYPE_FLOAT32, 4), *y = TS(&E, CML_DTYPE_FLOAT32, 4);
    CHECK(PREP(&E, "aten::isnan.out", x, y, y) == CML_ERR_UNSUPPORTED && cml_ew_msg_names(&E, "aten::isnan.out"));
}

static void test_sign_trunc(void) {
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < EW_NALL; i++) {
            reset();
            cml_dtype d = EW_ALL[i];
            const char *op = s ? "aten::sign.out" : "aten::trunc.out";
            cml_evalue *x = TS(&E, d, 2, 8), *y = cml_ew_tensor(&E, d, 2, S(2, 8));
            cml_ew_fill(T(x), 50.0, true);
            cml_status st = CALL(&E, op, x, y, y);
            if (!s && d == CML_DTYPE_BOOL) { /* trunc has no Bool kernel upstream */
                CHECK(st == CML_ERR_UNSUPPORTED && cml_ew_msg_names(&E, op));
                continue;
            }
            bool ok = st == CML_OK;
            for (int64_t k = 0; ok && k < 16; k++) {
                if (cml_ew_t_float(d)) {
                    double v = cml_ew_getd(T(x), k);
                    double want = s ? (isnan(v) ? v : (double)((v > 0) - (v < 0))) : trunc(v);
                    ok = cml_ew_same_float(d, cml_ew_getd(T(y), k), want);
                } else {
                    int64_t v = cml_ew_geti(T(x), k);
                    ok = cml_ew_geti(T(y), k) == (s ? (v > 0) - (v < 0) : v);
                }
            }
            CHECK_MSG(ok, "%s %s: %s", op, cml_dtype_name(d), E.err.msg);
        }
    reset();
    cml_evalue *x = TS(&E, CML_DTYPE_FLOAT32, 4), *y = TS(&E, CML_DTYPE_FLOAT16, 4);
    CHECK(PREP(&E, "aten::sign.out", x, y, y) == CML_ERR_UNSUPPORTED && cml_ew_msg_names(&E, "aten::sign.out"));
}

static void test_logit(void) {
    const cml_dtype ins[] = {CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT64, CML_DTYPE_FLOAT16, CML_DTYPE_INT32,
                             CML_DTYPE_BOOL};
    for (int i = 0; i < 5; i++)
        for (int o = 0; o < 4; o++)
            for (int ep = 0; ep < 2; ep++) {
                reset();
                cml_dtype od = FLOATS[o];
                cml_evalue *x = TS(&E, ins[i], 12), *y = cml_ew_tensor(&E, od, 1, S(12));
                cml_ew_fill(T(x), 1.0, true);
                for (int64_t k = 0; k < 6 && cml_ew_t_float(ins[i]); k++) cml_ew_set(T(x), k, 0.1 * (double)k + 0.05);
                double eps = 0.25;
                cml_evalue *ev = ep ? tv_double(&E, eps) : tv_null(&E);
                bool ok = CALL(&E, "aten::logit.out", x, ev, y, y) == CML_OK;
                for (int64_t k = 0; ok && k < 12; k++) {
                    double v = cml_ew_getd(T(x), k), want;
                    if (od == CML_DTYPE_FLOAT64) {
                        if (ep) v = v < eps ? eps : v > 1 - eps ? 1 - eps : v;
                        want = log(v / (1 - v));
                    } else {
                        float fv = (float)v;
                        if (ep) fv = fv < eps ? (float)eps : fv > 1 - eps ? (float)(1 - eps) : fv;
                        want = logf(fv / (1.0f - fv));
                    }
                    ok = cml_ew_same_float(od, cml_ew_getd(T(y), k), cml_ew_round_to(od, want));
                }
                CHECK_MSG(ok, "logit %s -> %s eps=%d: %s", cml_dtype_name(ins[i]), cml_dtype_name(od),
                          ep, E.err.msg);
            }
    reset();
    cml_evalue *x = TS(&E, CML_DTYPE_FLOAT32, 4), *y = TS(&E, CML_DTYPE_INT64, 4);
    CHECK(PREP(&E, "aten::logit.out", x, tv_null(&E), y, y) == CML_ERR_UNSUPPORTED &&
          cml_ew_msg_names(&E, "aten::logit.out"));
}

/* ---- complex: _conj_physical, view_as_real_copy ---------------------------------------- */

static void test_complex(void) {
    reset();
    /* complex64 [2, 2]: (1, 2), (-3, -0), (nan, inf), (0, 5) */
    float c64[8] = {1, 2, -3, -0.0f, NAN, INFINITY, 0, 5};
    cml_evalue *x = TS(&E, CML_DTYPE_COMPLEX64, 2, 2), *y = cml_ew_tensor(&E, CML_DTYPE_COMPLEX64, 2, S(2, 2));
    memcpy(T(x)->data, c64, sizeof c64);
    CHECK(CALL(&E, "aten::_conj_physical.out", x, y, y) == CML_OK);
    const float *r = T(y)->data;
    CHECK(r[0] == 1 && r[1] == -2 && r[2] == -3 && r[3] == 0 && !signbit(r[3]) && isnan(r[4]) &&
          r[5] == -INFINITY && r[6] == 0 && r[7] == -5);
    /* complex128 and complex32 */
    double c128[4] = {1.5, -2.25, 3, 4};
    x = TS(&E, CML_DTYPE_COMPLEX128, 2);
    y = TS(&E, CML_DTYPE_COMPLEX128, 2);
    memcpy(T(x)->data, c128, sizeof c128);
    CHECK(CALL(&E, "aten::_conj_physical.out", x, y, y) == CML_OK);
    const double *rd = T(y)->data;
    CHECK(rd[0] == 1.5 && rd[1] == 2.25 && rd[2] == 3 && rd[3] == -4);
    uint16_t c32[4] = {cml_fp32_to_fp16(1.5f), cml_fp32_to_fp16(-2.0f), cml_fp32_to_fp16(0.5f),
                       cml_fp32_to_fp16(0.25f)};
    x = TS(&E, CML_DTYPE_COMPLEX32, 2);
    y = TS(&E, CML_DTYPE_COMPLEX32, 2);
    memcpy(T(x)->data, c32, sizeof c32);
    CHECK(CALL(&E, "aten::_conj_physical.out", x, y, y) == CML_OK);
    const uint16_t *rh = T(y)->data;
    CHECK(cml_fp16_to_fp32(rh[0]) == 1.5f && cml_fp16_to_fp32(rh[1]) == 2.0f &&
          cml_fp16_to_fp32(rh[2]) == 0.5f && cml_fp16_to_fp32(rh[3]) == -0.25f);
    /* view_as_real_copy: complex64 [2, 2] -> float32 [2, 2, 2], same values. */
    x = TS(&E, CML_DTYPE_COMPLEX64, 2, 2);
    memcpy(T(x)->data, c64, sizeof c64);
    y = tv_tensor_cap(&E, CML_DTYPE_FLOAT32, 3, S(1, 1, 2), 8, CML_SHAPE_DYNAMIC_BOUND);
    CHECK(CALL(&E, "aten::view_as_real_copy.out", x, y, y) == CML_OK);
    CHECK(tv_shape_is(T(y), 3, S(2, 2, 2)));
    CHECK(memcmp(T(y)->data, c64, sizeof c64) == 0);
    /* complex128 -> float32 (converted), complex32 -> float16 */
    x = TS(&E, CML_DTYPE_COMPLEX128, 2);
    memcpy(T(x)->data, (double[]){0.1, -1e300, 3, 4}, 32);
    y = TS(&E, CML_DTYPE_FLOAT32, 2, 2);
    CHECK(CALL(&E, "aten::view_as_real_copy.out", x, y, y) == CML_OK);
    CHECK(F(y)[0] == 0.1f && F(y)[1] == -INFINITY && F(y)[2] == 3 && F(y)[3] == 4);
    x = TS(&E, CML_DTYPE_COMPLEX32, 2);
    memcpy(T(x)->data, c32, sizeof c32);
    y = TS(&E, CML_DTYPE_FLOAT16, 2, 2);
    CHECK(CALL(&E, "aten::view_as_real_copy.out", x, y, y) == CML_OK);
    CHECK(memcmp(T(y)->data, c32, sizeof c32) == 0);
    /* Bad: real input, bf16 output, dtype change in conj. */
    x = TS(&E, CML_DTYPE_FLOAT32, 2);
    y = TS(&E, CML_DTYPE_FLOAT32, 2, 2);
    CHECK(PREP(&E, "aten::view_as_real_copy.out", x, y, y) == CML_ERR_UNSUPPORTED &&
          cml_ew_msg_names(&E, "aten::view_as_real_copy.out"));
    x = TS(&E, CML_DTYPE_COMPLEX64, 2);
    y = TS(&E, CML_DTYPE_BFLOAT16, 2, 2);
    CHECK(PREP(&E, "aten::view_as_real_copy.out", x, y, y) == CML_ERR_UNSUPPORTED);
    y = TS(&E, CML_DTYPE_COMPLEX128, 2);
    CHECK(PREP(&E, "aten::_conj_physical.out", x, y, y) == CML_ERR_UNSUPPORTED &&
          cml_ew_msg_names(&E, "aten::_conj_physical.out"));
    x = TS(&E, CML_DTYPE_FLOAT32, 2);
    y = TS(&E, CML_DTYPE_FLOAT32, 2);
    CHECK(PREP(&E, "aten::_conj_physical.out", x, y, y) == CML_ERR_UNSUPPORTED);
}

/* ---- fill ------------------------------------------------------------------------------- */

static void test_fill(void) {
    for (int i = 0; i < EW_NALL; i++)
        for (int k = 0; k < 3; k++) {
            reset();
            cml_dtype d = EW_ALL[i];
            cml_evalue *x = TS(&E, d, 2, 3), *y = cml_ew_tensor(&E, d, 1, S(6));
            cml_evalue *v = k == 0 ? tv_int(&E, 5) : k == 1 ? tv_double(&E, -2.5) : tv_bool(&E, true);
            double want = k == 0 ? 5 : k == 1 ? -2.5 : 1;
            if (d == CML_DTYPE_BOOL) want = want != 0;
            else if (!cml_ew_t_float(d)) want = trunc(want);
            cml_status st = CALL(&E, "aten::fill.Scalar_out", x, v, y, y);
            if (d == CML_DTYPE_UINT8 && k == 1) { /* torch: a negative Double does not fit uint8 */
                CHECK(st == CML_ERR_INVALID_ARG && cml_ew_msg_names(&E, "aten::fill.Scalar_out"));
                continue;
            }
            bool ok = st == CML_OK && tv_shape_is(T(y), 2, S(2, 3));
            for (int64_t j = 0; ok && j < 6; j++) ok = cml_ew_getd(T(y), j) == want;
            CHECK_MSG(ok, "fill.Scalar %s kind %d: %s", cml_dtype_name(d), k, E.err.msg);
        }
    reset();
    cml_evalue *x = TS(&E, CML_DTYPE_INT8, 3), *y = TS(&E, CML_DTYPE_INT8, 3);
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_int(&E, 300), y, y) == CML_ERR_INVALID_ARG &&
          cml_ew_msg_names(&E, "aten::fill.Scalar_out"));
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_int(&E, -128), y, y) == CML_OK &&
          cml_ew_geti(T(y), 2) == -128);
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_double(&E, NAN), y, y) == CML_ERR_INVALID_ARG);
    /* Doubles fit by range, without wrapping (torch: 127.5 and -128.9 do not fit int8). */
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_double(&E, 127.5), y, y) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_double(&E, -128.9), y, y) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_double(&E, -127.9), y, y) == CML_OK && cml_ew_geti(T(y), 0) == -127);
    /* uint8: an Int from -255 wraps (torch: fill_(-255) gives 1), -256 does not fit. */
    x = TS(&E, CML_DTYPE_UINT8, 3);
    y = TS(&E, CML_DTYPE_UINT8, 3);
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_int(&E, -255), y, y) == CML_OK && cml_ew_geti(T(y), 1) == 1);
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_int(&E, -256), y, y) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_double(&E, -0.5), y, y) == CML_ERR_INVALID_ARG);
    /* fp16 rounds, to inf beyond its range (torch: 65519 -> 65504, 1e6 -> inf). */
    x = TS(&E, CML_DTYPE_FLOAT16, 3);
    y = TS(&E, CML_DTYPE_FLOAT16, 3);
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_double(&E, 65519.0), y, y) == CML_OK &&
          cml_ew_getd(T(y), 0) == 65504.0);
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_double(&E, 1e6), y, y) == CML_OK &&
          cml_ew_getd(T(y), 2) == INFINITY);
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_double(&E, -INFINITY), y, y) == CML_OK &&
          cml_ew_getd(T(y), 1) == -INFINITY);
    x = TS(&E, CML_DTYPE_INT64, 3);
    y = TS(&E, CML_DTYPE_INT64, 3);
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_int(&E, INT64_MIN), y, y) == CML_OK &&
          cml_ew_geti(T(y), 0) == INT64_MIN);
    CHECK(CALL(&E, "aten::fill.Scalar_out", x, tv_double(&E, 9.3e18), y, y) == CML_ERR_INVALID_ARG);
    y = TS(&E, CML_DTYPE_INT32, 3);
    CHECK(PREP(&E, "aten::fill.Scalar_out", x, tv_int(&E, 1), y, y) == CML_ERR_UNSUPPORTED &&
          cml_ew_msg_names(&E, "aten::fill.Scalar_out"));
    /* fill.Tensor_out: value converts like a C cast. */
    cml_evalue *v = TS(&E, CML_DTYPE_FLOAT64, 1);
    ((double *)T(v)->data)[0] = -3.7;
    x = TS(&E, CML_DTYPE_INT32, 2, 2);
    y = cml_ew_tensor(&E, CML_DTYPE_INT32, 1, S(4));
    CHECK(CALL(&E, "aten::fill.Tensor_out", x, v, y, y) == CML_OK && tv_shape_is(T(y), 2, S(2, 2)) &&
          cml_ew_geti(T(y), 3) == -3);
    x = TS(&E, CML_DTYPE_BFLOAT16, 3);
    y = TS(&E, CML_DTYPE_BFLOAT16, 3);
    CHECK(CALL(&E, "aten::fill.Tensor_out", x, v, y, y) == CML_OK &&
          cml_ew_getd(T(y), 0) == cml_ew_round_to(CML_DTYPE_BFLOAT16, -3.7));
    v = TS(&E, CML_DTYPE_FLOAT64, 2);
    CHECK(CALL(&E, "aten::fill.Tensor_out", x, v, y, y) == CML_ERR_SHAPE &&
          cml_ew_msg_names(&E, "aten::fill.Tensor_out"));
}

/* ---- binary: atan2, fmod, remainder ------------------------------------------------------- */

enum { B_ATAN2, B_FMOD, B_REM };

/* Reference on values already in the compute precision. */
static double ref_bin_f(int op, bool f64, double a, double b) {
    if (!f64) {
        float x = (float)a, y = (float)b, r;
        if (op == B_ATAN2) return atan2f(x, y);
        r = fmodf(x, y);
        if (op == B_REM && r != 0 && ((r < 0) != (y < 0))) r += y;
        return r;
    }
    if (op == B_ATAN2) return atan2(a, b);
    double r = fmod(a, b);
    if (op == B_REM && r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
static int64_t ref_bin_i(int op, int64_t a, int64_t b) {
    if (b == -1) return 0;
    int64_t r = a % b;
    if (op == B_REM && r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}

static const char *bin_name(int op, bool scalar) {
    static const char *n[3][2] = {{"aten::atan2.out", NULL},
                                  {"aten::fmod.Tensor_out", "aten::fmod.Scalar_out"},
                                  {"aten::remainder.Tensor_out", "aten::remainder.Scalar_out"}};
    return n[op][scalar];
}

/* Checks out [2, 3, 4] = op(a [2, 3, 1], b [3, 4]) (b NULL: the Scalar sv). */
static bool check_bin(int op, const cml_tensor *a, const cml_tensor *b, double sv, bool sv_int,
                      cml_dtype common, const cml_tensor *out) {
    bool fl = cml_ew_t_float(common), f64 = common == CML_DTYPE_FLOAT64;
    for (int64_t k = 0; k < 24; k++) {
        int64_t ia = k / 4, ib = k % 12;
        double want;
        if (fl) {
            double bv = b ? cml_ew_getd(b, ib) : sv;
            want = cml_ew_round_to(out->dtype, ref_bin_f(op, f64, cml_ew_getd(a, ia), bv));
        } else {
            int64_t bv = b ? cml_ew_geti(b, ib) : (int64_t)sv;
            int64_t r = ref_bin_i(op, cml_ew_geti(a, ia), bv);
            if (!cml_ew_t_float(out->dtype)) {
                if (cml_ew_geti(out, k) != r) return false;
                continue;
            }
            want = cml_ew_round_to(out->dtype, (double)r);
        }
        (void)sv_int;
        if (!cml_ew_same_float(cml_ew_t_float(out->dtype) ? out->dtype : CML_DTYPE_FLOAT64, cml_ew_getd(out, k), want)) {
            fprintf(stderr, "[%lld] got %g want %g\n", (long long)k, cml_ew_getd(out, k), want);
            return false;
        }
    }
    return true;
}

static cml_dtype atan2_common(cml_dtype a, cml_dtype b) {
    if (cml_ew_t_float(a) && cml_ew_t_float(b)) return cml_ew_t_promote(a, b);
    if (cml_ew_t_float(a)) return a;
    return cml_ew_t_float(b) ? b : CML_DTYPE_FLOAT32;
}

/* Divisors: no zero for integer common types. */
static void nonzero(cml_tensor *t) {
    for (int64_t k = 0; k < cml_tensor_numel(t); k++)
        if (cml_ew_getd(t, k) == 0) cml_ew_set(t, k, 3);
}

static void test_binary_tensor(void) {
    for (int op = 0; op < 3; op++)
        for (int i = 0; i < EW_NALL; i++)
            for (int j = 0; j < EW_NALL; j++) {
                reset();
                cml_dtype da = EW_ALL[i], db = EW_ALL[j];
                cml_dtype common = op == B_ATAN2 ? atan2_common(da, db) : cml_ew_t_promote(da, db);
                cml_dtype od = common;
                if (op != B_ATAN2 && cml_ew_t_int(common) && (i + j) % 3 == 0) od = CML_DTYPE_FLOAT32;
                cml_evalue *a = TS(&E, da, 2, 3, 1), *b = TS(&E, db, 3, 4);
                cml_evalue *y = cml_ew_tensor(&E, od, 1, S(24));
                cml_ew_fill(T(a), 20.0, true);
                cml_ew_fill(T(b), 9.0, (i + j) % 2 == 0);
                if (!cml_ew_t_float(common)) nonzero(T(b));
                cml_status st = CALL(&E, bin_name(op, false), a, b, y, y);
                if (common == CML_DTYPE_BOOL && op != B_ATAN2) {
                    CHECK(st == CML_ERR_UNSUPPORTED && cml_ew_msg_names(&E, bin_name(op, false)));
                    continue;
                }
                bool ok = st == CML_OK && tv_shape_is(T(y), 3, S(2, 3, 4)) &&
                          check_bin(op, T(a), T(b), 0, false, common, T(y));
                CHECK_MSG(ok, "%s %s,%s -> %s: %s", bin_name(op, false), cml_dtype_name(da),
                          cml_dtype_name(db), cml_dtype_name(od), E.err.msg);
            }
}

static void test_binary_scalar(void) {
    for (int op = 1; op < 3; op++)
        for (int i = 0; i < EW_NALL; i++)
            for (int k = 0; k < 4; k++) {
                reset();
                cml_dtype da = EW_ALL[i];
                static const double svals[4] = {3, -4, 2.5, -0.75};
                bool sint = k < 2;
                cml_evalue *sv = sint ? tv_int(&E, (int64_t)svals[k]) : tv_double(&E, svals[k]);
                cml_dtype common = sint ? (da == CML_DTYPE_BOOL ? CML_DTYPE_INT64 : da)
                                        : (cml_ew_t_float(da) ? da : CML_DTYPE_FLOAT32);
                cml_evalue *a = TS(&E, da, 2, 3, 1), *y = cml_ew_tensor(&E, common, 1, S(6));
                cml_ew_fill(T(a), 30.0, true);
                cml_status st = CALL(&E, bin_name(op, true), a, sv, y, y);
                bool ok = st == CML_OK && tv_shape_is(T(y), 3, S(2, 3, 1));
                /* check_bin reads a [2,3,1] broadcast to [2,3,4]; compare the 6 directly. */
                for (int64_t e = 0; ok && e < 6; e++) {
                    if (cml_ew_t_float(common)) {
                        double w = cml_ew_round_to(common, ref_bin_f(op, common == CML_DTYPE_FLOAT64,
                                                                 cml_ew_getd(T(a), e), svals[k]));
                        ok = cml_ew_same_float(common, cml_ew_getd(T(y), e), w);
                    } else {
                        int64_t b = cml_ew_t_wrap(common, (int64_t)svals[k]); /* Scalar cast to common */
                        ok = cml_ew_geti(T(y), e) == ref_bin_i(op, cml_ew_geti(T(a), e), b);
                    }
                }
                CHECK_MSG(ok, "%s %s, scalar %g: %s", bin_name(op, true), cml_dtype_name(da),
                          svals[k], E.err.msg);
            }
}

static void test_binary_edges(void) {
    reset();
    /* Sign rules (values from torch.fmod / torch.remainder). */
    cml_evalue *a = TS(&E, CML_DTYPE_INT32, 4), *b = TS(&E, CML_DTYPE_INT32, 4);
    cml_evalue *y = TS(&E, CML_DTYPE_INT32, 4);
    int32_t av[4] = {-7, 7, -7, 7}, bv[4] = {3, -3, -3, 3};
    memcpy(T(a)->data, av, 16);
    memcpy(T(b)->data, bv, 16);
    CHECK(CALL(&E, "aten::fmod.Tensor_out", a, b, y, y) == CML_OK);
    CHECK(cml_ew_geti(T(y), 0) == -1 && cml_ew_geti(T(y), 1) == 1 && cml_ew_geti(T(y), 2) == -1 && cml_ew_geti(T(y), 3) == 1);
    CHECK(CALL(&E, "aten::remainder.Tensor_out", a, b, y, y) == CML_OK);
    CHECK(cml_ew_geti(T(y), 0) == 2 && cml_ew_geti(T(y), 1) == -2 && cml_ew_geti(T(y), 2) == -1 && cml_ew_geti(T(y), 3) == 1);
    cml_evalue *fa = TS(&E, CML_DTYPE_FLOAT32, 3), *fy = TS(&E, CML_DTYPE_FLOAT32, 3);
    memcpy(T(fa)->data, (float[]){-5.5f, 5.5f, -0.0f}, 12);
    CHECK(CALL(&E, "aten::remainder.Scalar_out", fa, tv_double(&E, 2.0), fy, fy) == CML_OK);
    CHECK(F(fy)[0] == 0.5f && F(fy)[1] == 1.5f && F(fy)[2] == 0.0f);
    CHECK(CALL(&E, "aten::fmod.Scalar_out", fa, tv_double(&E, 0.0), fy, fy) == CML_OK && isnan(F(fy)[0]));
    /* INT64_MIN by -1 is 0, not a trap. */
    cml_evalue *la = TS(&E, CML_DTYPE_INT64, 1), *ly = TS(&E, CML_DTYPE_INT64, 1);
    ((int64_t *)T(la)->data)[0] = INT64_MIN;
    CHECK(CALL(&E, "aten::remainder.Scalar_out", la, tv_int(&E, -1), ly, ly) == CML_OK && cml_ew_geti(T(ly), 0) == 0);
    CHECK(CALL(&E, "aten::fmod.Scalar_out", la, tv_int(&E, -1), ly, ly) == CML_OK && cml_ew_geti(T(ly), 0) == 0);
    /* Integer division by zero fails at run, naming the op. */
    ((int32_t *)T(b)->data)[2] = 0;
    CHECK(CALL(&E, "aten::fmod.Tensor_out", a, b, y, y) == CML_ERR_INVALID_ARG &&
          cml_ew_msg_names(&E, "aten::fmod.Tensor_out") && strstr(E.err.msg, "division by zero"));
    CHECK(CALL(&E, "aten::remainder.Tensor_out", a, b, y, y) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&E, "aten::remainder.Scalar_out", a, tv_bool(&E, false), y, y) == CML_ERR_INVALID_ARG &&
          cml_ew_msg_names(&E, "aten::remainder.Scalar_out"));
    /* Bad dtype combos at prepare: float common into an int output, bool
     * operands, a complex operand, a float output for atan2 only. */
    CHECK(PREP(&E, "aten::fmod.Tensor_out", fa, a, y, y) == CML_ERR_UNSUPPORTED &&
          cml_ew_msg_names(&E, "aten::fmod.Tensor_out"));
    CHECK(PREP(&E, "aten::remainder.Scalar_out", a, tv_double(&E, 1.5), y, y) == CML_ERR_UNSUPPORTED);
    cml_evalue *bb = TS(&E, CML_DTYPE_BOOL, 4);
    CHECK(PREP(&E, "aten::fmod.Tensor_out", bb, bb, bb, bb) == CML_ERR_UNSUPPORTED);
    cml_evalue *cx = TS(&E, CML_DTYPE_COMPLEX64, 4);
    CHECK(PREP(&E, "aten::atan2.out", cx, fa, fy, fy) == CML_ERR_UNSUPPORTED &&
          cml_ew_msg_names(&E, "aten::atan2.out"));
    CHECK(PREP(&E, "aten::atan2.out", a, a, y, y) == CML_ERR_UNSUPPORTED);
    /* Incompatible broadcast at run. */
    cml_evalue *s5 = TS(&E, CML_DTYPE_FLOAT32, 5);
    CHECK(CALL(&E, "aten::atan2.out", fa, s5, fy, fy) == CML_ERR_SHAPE);
}

/* atan2 into a channels-last output: results land at their strided place. */
static void test_channels_last(void) {
    reset();
    cml_evalue *a = TS(&E, CML_DTYPE_FLOAT32, 1, 3, 2, 2), *b = TS(&E, CML_DTYPE_FLOAT32, 3, 1, 1);
    cml_evalue *y = TS(&E, CML_DTYPE_FLOAT32, 1, 3, 2, 2);
    memcpy(T(y)->dim_order, (uint8_t[]){0, 2, 3, 1}, 4);
    cml_ew_fill(T(a), 2.0, false);
    cml_ew_fill(T(b), 2.0, false);
    CHECK(CALL(&E, "aten::atan2.out", a, b, y, y) == CML_OK);
    bool ok = true;
    for (int c = 0; c < 3; c++)
        for (int hw = 0; hw < 4; hw++) {
            float want = atan2f(F(a)[c * 4 + hw], F(b)[c]);
            ok = ok && F(y)[hw * 3 + c] == want;
        }
    CHECK(ok);
}

/* ---- clamp.Tensor_out ------------------------------------------------------------------------ */

static double clamp_ref(double v, const double *lo, const double *hi) {
    if (lo && !isnan(v)) v = isnan(*lo) ? *lo : (*lo > v ? *lo : v);
    if (hi && !isnan(v)) v = isnan(*hi) ? *hi : (*hi < v ? *hi : v);
    return v;
}

static void test_clamp_tensor(void) {
    for (int i = 0; i < EW_NALL; i++)
        for (int j = 0; j < EW_NALL; j++) {
            reset();
            cml_dtype dx = EW_ALL[i], dl = EW_ALL[j], dh = EW_ALL[(i + j) % EW_NALL];
            int which = (i + j) % 3; /* 0: both, 1: min only, 2: max only */
            cml_evalue *x = TS(&E, dx, 2, 3), *lo = TS(&E, dl, 3), *hi = TS(&E, dh, 2, 1);
            cml_ew_fill(T(x), 40.0, true);
            cml_ew_fill(T(lo), 20.0, j % 2 == 0);
            cml_ew_fill(T(hi), 20.0, false);
            cml_dtype common = dx;
            if (which != 2) common = cml_ew_t_promote(common, dl);
            if (which != 1) common = cml_ew_t_promote(common, dh);
            cml_evalue *y = cml_ew_tensor(&E, common, 1, S(6));
            cml_evalue *lov = which == 2 ? tv_null(&E) : lo, *hiv = which == 1 ? tv_none_tensor(&E) : hi;
            bool ok = CALL(&E, "aten::clamp.Tensor_out", x, lov, hiv, y, y) == CML_OK &&
                      tv_shape_is(T(y), 2, S(2, 3));
            bool fl = cml_ew_t_float(common);
            for (int64_t k = 0; ok && k < 6; k++) {
                /* Operands in the common type first (exact for integers). */
                double v = cml_ew_round_to(common, cml_ew_getd(T(x), k));
                double l = cml_ew_round_to(common, cml_ew_getd(T(lo), k % 3));
                double h = cml_ew_round_to(common, cml_ew_getd(T(hi), k / 3));
                if (!fl) {
                    int64_t iv = cml_ew_geti(T(x), k), il = cml_ew_geti(T(lo), k % 3), ih = cml_ew_geti(T(hi), k / 3);
                    if (which != 2 && il > iv) iv = il;
                    if (which != 1 && ih < iv) iv = ih;
                    ok = cml_ew_geti(T(y), k) == iv;
                } else {
                    double w = clamp_ref(v, which != 2 ? &l : NULL, which != 1 ? &h : NULL);
                    ok = cml_ew_same_float(common, cml_ew_getd(T(y), k), w);
                }
            }
            CHECK_MSG(ok, "clamp.Tensor %s,%s,%s which %d: %s", cml_dtype_name(dx), cml_dtype_name(dl),
                      cml_dtype_name(dh), which, E.err.msg);
        }
    reset();
    cml_evalue *x = TS(&E, CML_DTYPE_FLOAT32, 3), *y = TS(&E, CML_DTYPE_INT32, 3);
    CHECK(PREP(&E, "aten::clamp.Tensor_out", x, x, x, y, y) == CML_ERR_UNSUPPORTED &&
          cml_ew_msg_names(&E, "aten::clamp.Tensor_out"));
    y = TS(&E, CML_DTYPE_FLOAT32, 3);
    CHECK(PREP(&E, "aten::clamp.Tensor_out", x, tv_null(&E), tv_null(&E), y, y) == CML_ERR_INVALID_ARG);
}

int main(void) {
    tv_init(&E);
    test_unary_float();
    test_predicates();
    test_sign_trunc();
    test_logit();
    test_complex();
    test_fill();
    test_binary_tensor();
    test_binary_scalar();
    test_binary_edges();
    test_channels_last();
    test_clamp_tensor();
    tv_free(&E);
    TEST_MAIN_END();
}
