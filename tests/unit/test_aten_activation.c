/* Unary ops and activations against libm references: fp32 and fp16
 * (convert-compute-round), odd sizes, int paths for relu/neg/abs/clamp,
 * parameters (hardtanh, clamp with None, leaky_relu, gelu approximate). */
#include <math.h>

#include "test_aten_util.h"

typedef double (*ref_fn)(double x, double p0, double p1);

static double r_relu(double x, double a, double b) { (void)a; (void)b; return x > 0 ? x : 0; }
static double r_clamp(double x, double a, double b) { return x < a ? a : x > b ? b : x; }
static double r_sigmoid(double x, double a, double b) { (void)a; (void)b; return 1.0 / (1.0 + exp(-x)); }
static double r_tanh(double x, double a, double b) { (void)a; (void)b; return tanh(x); }
static double r_gelu(double x, double a, double b) { (void)a; (void)b; return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }
static double r_gelu_tanh(double x, double a, double b) {
    (void)a;
    (void)b;
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}
static double r_silu(double x, double a, double b) { (void)a; (void)b; return x / (1.0 + exp(-x)); }
static double r_hardsigmoid(double x, double a, double b) { (void)a; (void)b; return r_clamp(x / 6.0 + 0.5, 0, 1); }
static double r_hardswish(double x, double a, double b) { return x * r_hardsigmoid(x, a, b); }
static double r_leaky(double x, double a, double b) { (void)b; return x >= 0 ? x : a * x; }
static double r_elu(double x, double a, double b) { (void)b; return x > 0 ? x : a * (exp(x) - 1.0); }
static double r_exp(double x, double a, double b) { (void)a; (void)b; return exp(x); }
static double r_log(double x, double a, double b) { (void)a; (void)b; return log(fabs(x) + 0.01); }
static double r_sqrt(double x, double a, double b) { (void)a; (void)b; return sqrt(fabs(x) + 0.01); }
static double r_rsqrt(double x, double a, double b) { (void)a; (void)b; return 1.0 / sqrt(fabs(x) + 0.01); }
static double r_neg(double x, double a, double b) { (void)a; (void)b; return -x; }
static double r_abs(double x, double a, double b) { (void)a; (void)b; return fabs(x); }
static double r_sin(double x, double a, double b) { (void)a; (void)b; return sin(x); }
static double r_cos(double x, double a, double b) { (void)a; (void)b; return cos(x); }
static double r_erf(double x, double a, double b) { (void)a; (void)b; return erf(x); }
static double r_floor(double x, double a, double b) { (void)a; (void)b; return floor(x); }
static double r_ceil(double x, double a, double b) { (void)a; (void)b; return ceil(x); }
static double r_round(double x, double a, double b) { (void)a; (void)b; return nearbyint(x); }
static double r_recip(double x, double a, double b) { (void)a; (void)b; return 1.0 / x; }

enum { P_NONE, P_HARDTANH, P_CLAMP, P_LEAKY, P_GELU, P_ELU };

typedef struct ucase {
    const char *name;
    ref_fn ref;
    int params;
    bool positive; /* feed |x| + 0.01 (log, sqrt, rsqrt) */
    const char *gelu;
} ucase;

static void run_unary(const ucase *c, cml_dtype dt, int64_t n, double scale) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = tv_tensor(&e, dt, 2, S(1, n));
    cml_evalue *o = tv_dyn_out(&e, dt, 2, n + 5);
    for (int64_t i = 0; i < n; i++) {
        float v = tv_randf() * (float)scale;
        if (c->positive) v = fabsf(v) + 0.01f;
        if (c->ref == r_recip && fabsf(v) < 0.05f) v = 0.5f;
        if (dt == CML_DTYPE_FLOAT32) F(x)[i] = v;
        else ((uint16_t *)T(x)->data)[i] = cml_fp32_to_fp16(v);
    }
    double p0 = 0, p1 = 0;
    cml_status st = CML_ERR_INTERNAL;
    switch (c->params) {
    case P_NONE: st = CALL(&e, c->name, x, o, o); break;
    case P_HARDTANH:
        p0 = -1.5;
        p1 = 2.0;
        st = CALL(&e, c->name, x, tv_double(&e, p0), tv_int(&e, 2), o, o);
        break;
    case P_CLAMP:
        p0 = -INFINITY;
        p1 = 0.25;
        st = CALL(&e, c->name, x, tv_null(&e), tv_double(&e, p1), o, o);
        break;
    case P_LEAKY:
        p0 = 0.2;
        st = CALL(&e, c->name, x, tv_double(&e, p0), o, o);
        break;
    case P_GELU: st = CALL(&e, c->name, x, tv_str(&e, c->gelu), o, o); break;
    case P_ELU:
        p0 = 0.7;
        st = CALL(&e, c->name, x, tv_double(&e, p0), tv_int(&e, 1), tv_int(&e, 1), o, o);
        break;
    }
    CHECK_MSG(st == CML_OK, "%s: %s", c->name, e.err.msg);
    CHECK(tv_shape_is(T(o), 2, S(1, n)));
    double *ref = malloc(sizeof(double) * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        double xv = tv_get(T(x), i), r;
        if (c->positive) /* inputs are already positive: apply the plain function */
            r = c->ref == r_log ? log(xv) : c->ref == r_sqrt ? sqrt(xv) : 1.0 / sqrt(xv);
        else
            r = c->ref(xv, p0, p1);
        ref[i] = dt == CML_DTYPE_FLOAT16 ? cml_round_fp16((float)r) : r;
    }
    double tol = dt == CML_DTYPE_FLOAT16 ? 2e-3 : 2e-5;
    char what[96];
    snprintf(what, sizeof what, "%s %s n=%lld", c->name, cml_dtype_name(dt), (long long)n);
    CHECK(tv_check_all(what, T(o), ref, n, tol, tol));
    free(ref);
    tv_free(&e);
}

static void test_unary_all(void) {
    static const ucase cases[] = {
        {"aten::relu.out", r_relu, P_NONE, false, NULL},
        {"aten::hardtanh.out", r_clamp, P_HARDTANH, false, NULL},
        {"aten::clamp.out", r_clamp, P_CLAMP, false, NULL},
        {"aten::sigmoid.out", r_sigmoid, P_NONE, false, NULL},
        {"aten::tanh.out", r_tanh, P_NONE, false, NULL},
        {"aten::gelu.out", r_gelu, P_GELU, false, "none"},
        {"aten::gelu.out", r_gelu_tanh, P_GELU, false, "tanh"},
        {"aten::silu.out", r_silu, P_NONE, false, NULL},
        {"aten::hardswish.out", r_hardswish, P_NONE, false, NULL},
        {"aten::hardsigmoid.out", r_hardsigmoid, P_NONE, false, NULL},
        {"aten::leaky_relu.out", r_leaky, P_LEAKY, false, NULL},
        {"aten::elu.out", r_elu, P_ELU, false, NULL},
        {"aten::exp.out", r_exp, P_NONE, false, NULL},
        {"aten::log.out", r_log, P_NONE, true, NULL},
        {"aten::sqrt.out", r_sqrt, P_NONE, true, NULL},
        {"aten::rsqrt.out", r_rsqrt, P_NONE, true, NULL},
        {"aten::neg.out", r_neg, P_NONE, false, NULL},
        {"aten::abs.out", r_abs, P_NONE, false, NULL},
        {"aten::sin.out", r_sin, P_NONE, false, NULL},
        {"aten::cos.out", r_cos, P_NONE, false, NULL},
        {"aten::erf.out", r_erf, P_NONE, false, NULL},
        {"aten::floor.out", r_floor, P_NONE, false, NULL},
        {"aten::ceil.out", r_ceil, P_NONE, false, NULL},
        {"aten::round.out", r_round, P_NONE, false, NULL},
        {"aten::reciprocal.out", r_recip, P_NONE, false, NULL},
    };
    static const int64_t sizes[] = {1, 7, 16, 33, 1000};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            run_unary(&cases[i], CML_DTYPE_FLOAT32, sizes[k], 4.0);
            run_unary(&cases[i], CML_DTYPE_FLOAT16, sizes[k], 4.0);
        }
}

static void test_unary_misc(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    /* int paths */
    cml_evalue *xi = TS(&e, CML_DTYPE_INT64, 5), *oi = TS(&e, CML_DTYPE_INT64, 5);
    int64_t *p = T(xi)->data, *q = T(oi)->data;
    int64_t vals[5] = {-5, -1, 0, 3, 1LL << 50};
    memcpy(p, vals, sizeof vals);
    CHECK(CALL(&e, "aten::relu.out", xi, oi, oi) == CML_OK);
    CHECK(q[0] == 0 && q[1] == 0 && q[2] == 0 && q[3] == 3 && q[4] == (1LL << 50));
    CHECK(CALL(&e, "aten::neg.out", xi, oi, oi) == CML_OK);
    CHECK(q[0] == 5 && q[3] == -3);
    CHECK(CALL(&e, "aten::abs.out", xi, oi, oi) == CML_OK);
    CHECK(q[0] == 5 && q[1] == 1 && q[4] == (1LL << 50));
    CHECK(CALL(&e, "aten::clamp.out", xi, tv_int(&e, -2), tv_null(&e), oi, oi) == CML_OK);
    CHECK(q[0] == -2 && q[1] == -1 && q[4] == (1LL << 50));
    cml_evalue *x32 = TS(&e, CML_DTYPE_INT32, 2), *o32 = TS(&e, CML_DTYPE_INT32, 2);
    ((int32_t *)T(x32)->data)[0] = -9;
    ((int32_t *)T(x32)->data)[1] = 9;
    CHECK(CALL(&e, "aten::hardtanh.out", x32, tv_int(&e, 0), tv_int(&e, 6), o32, o32) == CML_OK);
    CHECK(((int32_t *)T(o32)->data)[0] == 0 && ((int32_t *)T(o32)->data)[1] == 6);
    /* sigmoid of an int tensor produces float */
    cml_evalue *of = TS(&e, CML_DTYPE_FLOAT32, 5);
    CHECK(CALL(&e, "aten::sigmoid.out", xi, of, of) == CML_OK);
    CHECK_NEAR(F(of)[2], 0.5, 1e-6);
    /* sigmoid into an int output is rejected */
    CHECK(PREP(&e, "aten::sigmoid.out", xi, oi, oi) == CML_ERR_UNSUPPORTED);
    /* bad gelu mode, elu with scale */
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 4), *o = TS(&e, CML_DTYPE_FLOAT32, 4);
    CHECK(PREP(&e, "aten::gelu.out", x, tv_str(&e, "fast"), o, o) == CML_ERR_UNSUPPORTED);
    CHECK(strstr(e.err.msg, "aten::gelu.out") != NULL);
    CHECK(PREP(&e, "aten::elu.out", x, tv_int(&e, 1), tv_double(&e, 2.0), tv_int(&e, 1), o, o) ==
          CML_ERR_UNSUPPORTED);
    /* float64 rejected */
    cml_evalue *xd = TS(&e, CML_DTYPE_FLOAT64, 4), *od = TS(&e, CML_DTYPE_FLOAT64, 4);
    CHECK(PREP(&e, "aten::tanh.out", xd, od, od) == CML_ERR_UNSUPPORTED);
    CHECK(strstr(e.err.msg, "float64") != NULL);
    /* static output shape mismatch */
    cml_evalue *o3 = TS(&e, CML_DTYPE_FLOAT32, 3);
    CHECK(CALL(&e, "aten::relu.out", x, o3, o3) == CML_ERR_SHAPE);
    /* fp32 input into fp16 output (convert on store) */
    cml_evalue *oh = TS(&e, CML_DTYPE_FLOAT16, 4);
    F(x)[0] = 1.0f / 3.0f;
    CHECK(CALL(&e, "aten::relu.out", x, oh, oh) == CML_OK);
    CHECK(((uint16_t *)T(oh)->data)[0] == cml_fp32_to_fp16(1.0f / 3.0f));
    /* rank-0 tensors */
    cml_evalue *s0 = tv_tensor(&e, CML_DTYPE_FLOAT32, 0, NULL), *s1 = tv_tensor(&e, CML_DTYPE_FLOAT32, 0, NULL);
    F(s0)[0] = -2.0f;
    CHECK(CALL(&e, "aten::abs.out", s0, s1, s1) == CML_OK);
    CHECK(F(s1)[0] == 2.0f && T(s1)->rank == 0);
    tv_free(&e);
}

int main(void) {
    test_unary_all();
    test_unary_misc();
    TEST_MAIN_END();
}
