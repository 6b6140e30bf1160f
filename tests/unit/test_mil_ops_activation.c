/* MIL activations, elementwise unary ops and softmax against naive
 * references (epsilons of log/rsqrt/inverse, round half to even, gelu
 * modes, per-channel prelu / softplus_parametric, int32 unary). */
#include "test_mil_ops_util.h"

typedef struct un_case {
    const char *op;
    float alpha, beta;
    int nparams; /* 0, 1 (alpha), 2 (alpha, beta) */
    const char *mode;
} un_case;

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

static double ref_un(const un_case *c, double x) {
    const char *op = c->op;
    double a = c->alpha, b = c->beta;
    if (!strcmp(op, "relu")) return x > 0 ? x : 0;
    if (!strcmp(op, "relu6")) return x < 0 ? 0 : x > 6 ? 6 : x;
    if (!strcmp(op, "sigmoid")) return sigm(x);
    if (!strcmp(op, "tanh")) return tanh(x);
    if (!strcmp(op, "silu")) return x * sigm(x);
    if (!strcmp(op, "softplus")) return log1p(exp(x));
    if (!strcmp(op, "softsign")) return x / (1 + fabs(x));
    if (!strcmp(op, "sqrt")) return sqrt(x);
    if (!strcmp(op, "exp")) return exp(x);
    if (!strcmp(op, "exp2")) return exp2(x);
    if (!strcmp(op, "erf")) return erf(x);
    if (!strcmp(op, "sin")) return sin(x);
    if (!strcmp(op, "cos")) return cos(x);
    if (!strcmp(op, "tan")) return tan(x);
    if (!strcmp(op, "asin")) return asin(x);
    if (!strcmp(op, "acos")) return acos(x);
    if (!strcmp(op, "atan")) return atan(x);
    if (!strcmp(op, "atanh")) return atanh(x);
    if (!strcmp(op, "sinh")) return sinh(x);
    if (!strcmp(op, "cosh")) return cosh(x);
    if (!strcmp(op, "floor")) return floor(x);
    if (!strcmp(op, "ceil")) return ceil(x);
    if (!strcmp(op, "round")) return nearbyint(x);
    if (!strcmp(op, "abs")) return fabs(x);
    if (!strcmp(op, "sign")) return (x > 0) - (x < 0);
    if (!strcmp(op, "square")) return x * x;
    if (!strcmp(op, "gelu")) {
        if (!c->mode || !strcmp(c->mode, "EXACT")) return 0.5 * x * (1 + erf(x / sqrt(2.0)));
        if (!strcmp(c->mode, "TANH_APPROXIMATION"))
            return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
        return x * sigm(1.702 * x);
    }
    if (!strcmp(op, "elu")) return x > 0 ? x : a * (exp(x) - 1);
    if (!strcmp(op, "leaky_relu")) return x >= 0 ? x : a * x;
    if (!strcmp(op, "thresholded_relu")) return x >= a ? x : 0;
    if (!strcmp(op, "clamped_relu")) return x >= 0 ? fmin(b, x) : fmin(b, a * x);
    if (!strcmp(op, "linear_activation")) return a * x + b;
    if (!strcmp(op, "scaled_tanh")) return a * tanh(b * x);
    if (!strcmp(op, "sigmoid_hard")) return fmin(fmax(a * x + b, 0), 1);
    if (!strcmp(op, "clip")) return fmin(fmax(x, a), b);
    if (!strcmp(op, "threshold")) return fmax(x, a);
    if (!strcmp(op, "log")) return log(x + a);
    if (!strcmp(op, "rsqrt")) return 1 / sqrt(x + a);
    if (!strcmp(op, "inverse")) return 1 / (x + a);
    return NAN;
}

/* input domain per op */
static float domain(const char *op, float r) {
    if (!strcmp(op, "sqrt") || !strcmp(op, "log") || !strcmp(op, "rsqrt")) return fabsf(r) * 4 + 0.01f;
    if (!strcmp(op, "asin") || !strcmp(op, "acos") || !strcmp(op, "atanh")) return r * 0.95f;
    if (!strcmp(op, "round")) return roundf(r * 8) / 2; /* many .5 ties */
    if (!strcmp(op, "inverse")) return r >= 0 ? r + 0.5f : r - 0.5f;
    return r * 4;
}

static void test_unary_float(void) {
    static const un_case cases[] = {
        {"relu", 0, 0, 0, NULL}, {"relu6", 0, 0, 0, NULL}, {"sigmoid", 0, 0, 0, NULL},
        {"tanh", 0, 0, 0, NULL}, {"silu", 0, 0, 0, NULL}, {"softplus", 0, 0, 0, NULL},
        {"softsign", 0, 0, 0, NULL}, {"sqrt", 0, 0, 0, NULL}, {"exp", 0, 0, 0, NULL},
        {"exp2", 0, 0, 0, NULL}, {"erf", 0, 0, 0, NULL}, {"sin", 0, 0, 0, NULL},
        {"cos", 0, 0, 0, NULL}, {"tan", 0, 0, 0, NULL}, {"asin", 0, 0, 0, NULL},
        {"acos", 0, 0, 0, NULL}, {"atan", 0, 0, 0, NULL}, {"atanh", 0, 0, 0, NULL},
        {"sinh", 0, 0, 0, NULL}, {"cosh", 0, 0, 0, NULL}, {"floor", 0, 0, 0, NULL},
        {"ceil", 0, 0, 0, NULL}, {"round", 0, 0, 0, NULL}, {"abs", 0, 0, 0, NULL},
        {"sign", 0, 0, 0, NULL}, {"square", 0, 0, 0, NULL},
        {"gelu", 0, 0, 0, NULL}, {"gelu", 0, 0, 0, "EXACT"}, {"gelu", 0, 0, 0, "TANH_APPROXIMATION"},
        {"gelu", 0, 0, 0, "SIGMOID_APPROXIMATION"},
        {"elu", 0.7f, 0, 1, NULL}, {"leaky_relu", 0.1f, 0, 1, NULL},
        {"thresholded_relu", 0.5f, 0, 1, NULL}, {"clamped_relu", 0.2f, 3.0f, 2, NULL},
        {"linear_activation", 1.5f, -0.25f, 2, NULL}, {"scaled_tanh", 2.0f, 0.5f, 2, NULL},
        {"sigmoid_hard", 1.0f / 6, 0.5f, 2, NULL}, {"clip", -0.5f, 1.25f, 2, NULL},
        {"threshold", 0.3f, 0, 1, NULL},
        /* explicit epsilons */
        {"log", 0.5f, 0, 1, NULL}, {"rsqrt", 0.25f, 0, 1, NULL}, {"inverse", 0.125f, 0, 1, NULL},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const un_case *c = &cases[k];
        int64_t shape[3] = {tg_randi(1, 3), tg_randi(1, 7), tg_randi(1, 9)}, n = shape[0] * shape[1] * shape[2];
        float *x = tg_rand_buf(n);
        for (int64_t i = 0; i < n; i++) x[i] = domain(c->op, x[i]);
        tg t;
        tg_init(&t, c->op, 17);
        tg_param(&t, "x", tg_f32(&t, "x", 3, shape, x, false));
        bool eps = !strcmp(c->op, "log") || !strcmp(c->op, "rsqrt") || !strcmp(c->op, "inverse");
        if (c->nparams >= 1) tg_param(&t, eps ? "epsilon" : "alpha", tg_scalar_f(&t, "a", c->alpha));
        if (c->nparams >= 2) tg_param(&t, "beta", tg_scalar_f(&t, "b", c->beta));
        if (c->mode) tg_param(&t, "mode", tg_str(&t, "mode", c->mode));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "%s: %s", c->op, t.err.msg);
        if (st == CML_OK) {
            CHECK(tg_shape_is(tg_o(&t, 0), 3, shape));
            int bad = 0;
            for (int64_t i = 0; i < n; i++) {
                double r = ref_un(c, x[i]), got = tg_of(&t, 0)[i];
                if (!(fabs(got - r) <= 2e-5 * (1 + fabs(r)))) {
                    if (bad < 3) fprintf(stderr, "  %s(%g) = %g, want %g\n", c->op, x[i], got, r);
                    bad++;
                }
            }
            CHECK_MSG(bad == 0, "%s%s%s: %d mismatches", c->op, c->mode ? " " : "",
                      c->mode ? c->mode : "", bad);
        }
        tg_free(&t);
        free(x);
    }
}

static void test_default_epsilons(void) {
    /* log(0) with the default 1e-45 (fp32) is finite; fp16 x: eps rounds to 0 -> -inf */
    float x[3] = {0.0f, 1.0f, 4.0f};
    int64_t s = 3;
    struct {
        const char *op;
        bool fp16;
        double want0;
    } cases[] = {
        {"log", false, log(1.4e-45)}, {"log", true, -INFINITY},
        {"rsqrt", false, 1e6},        {"rsqrt", true, INFINITY},
        {"inverse", false, 1e4},      {"inverse", true, 1.0 / 1.0001659393310547e-4},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tg t;
        tg_init(&t, cases[k].op, 15);
        tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_FLOAT32, cases[k].fp16, 1, &s, x, false));
        tg_out(&t, 1);
        CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
        double got = tg_of(&t, 0)[0], want = cases[k].want0;
        if (isinf(want)) CHECK_MSG(isinf(got) && (got > 0) == (want > 0), "%s fp16=%d: %g", cases[k].op, cases[k].fp16, got);
        else CHECK_MSG(fabs(got - want) <= 1e-3 * fabs(want), "%s fp16=%d: %g vs %g", cases[k].op, cases[k].fp16, got, want);
        CHECK(tg_o(&t, 0)->fp16 == cases[k].fp16);
        tg_free(&t);
    }
}

static void test_round_half_even(void) {
    float x[8] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4f, -2.6f};
    float want[8] = {0, 2, 2, -0.0f, -2, -2, 2, -3};
    int64_t s = 8;
    tg t;
    tg_init(&t, "round", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 1, &s, x, false));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
    for (int i = 0; i < 8; i++) CHECK_MSG(tg_of(&t, 0)[i] == want[i], "round(%g) = %g", x[i], tg_of(&t, 0)[i]);
    tg_free(&t);
}

static void test_per_channel(void) {
    int64_t shape[4] = {2, 3, 2, 5}, n = 60, cs = 3;
    float *x = tg_rand_buf(n);
    float alpha[3] = {0.1f, -0.5f, 2.0f}, beta[3] = {1.0f, 0.5f, 3.0f};
    for (int which = 0; which < 2; which++) {
        tg t;
        tg_init(&t, which ? "softplus_parametric" : "prelu", 17);
        tg_param(&t, "x", tg_f32(&t, "x", 4, shape, x, false));
        tg_param(&t, "alpha", tg_f32(&t, "alpha", 1, &cs, alpha, true));
        if (which) tg_param(&t, "beta", tg_f32(&t, "beta", 1, &cs, beta, true));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "%s", t.err.msg);
        int bad = 0;
        for (int64_t i = 0; st == CML_OK && i < n; i++) {
            int64_t c = (i / 10) % 3;
            double r = which ? alpha[c] * log1p(exp(beta[c] * x[i])) : (x[i] > 0 ? x[i] : alpha[c] * x[i]);
            if (fabs(tg_of(&t, 0)[i] - r) > 1e-5) bad++;
        }
        CHECK(bad == 0);
        tg_free(&t);
    }
    free(x);
}

static void test_unary_int(void) {
    int32_t x[6] = {-3, -1, 0, 1, 2, 5};
    int64_t s = 6;
    struct {
        const char *op;
        int32_t want[6];
    } cases[] = {
        {"abs", {3, 1, 0, 1, 2, 5}},
        {"sign", {-1, -1, 0, 1, 1, 1}},
        {"square", {9, 1, 0, 1, 4, 25}},
        {"exp2", {0, 0, 1, 2, 4, 32}},
        {"threshold", {1, 1, 1, 1, 2, 5}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tg t;
        tg_init(&t, cases[k].op, 15);
        tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_INT32, false, 1, &s, x, false));
        if (!strcmp(cases[k].op, "threshold")) tg_param(&t, "alpha", tg_scalar_i(&t, "a", 1));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "%s: %s", cases[k].op, t.err.msg);
        for (int i = 0; st == CML_OK && i < 6; i++)
            CHECK_MSG(((int32_t *)tg_o(&t, 0)->data)[i] == cases[k].want[i], "%s[%d]", cases[k].op, i);
        tg_free(&t);
    }
    /* int input to a float-only op is rejected at load */
    tg t;
    tg_init(&t, "sigmoid", 15);
    tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_INT32, false, 1, &s, x, false));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_UNSUPPORTED);
    tg_free(&t);
}

static void test_softmax(void) {
    for (int trial = 0; trial < 12; trial++) {
        int32_t r = tg_randi(1, 4);
        int64_t shape[4], n = 1;
        for (int32_t i = 0; i < r; i++) n *= (shape[i] = tg_randi(1, 6));
        int32_t axis = tg_randi(-r, r - 1), ax = axis < 0 ? axis + r : axis;
        float *x = tg_rand_buf(n);
        for (int64_t i = 0; i < n; i++) x[i] *= 10;
        tg t;
        tg_init(&t, "softmax", 15);
        tg_param(&t, "x", tg_f32(&t, "x", r, shape, x, false));
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", axis));
        tg_out(&t, 1);
        CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
        int64_t outer = 1, inner = 1, len = shape[ax];
        for (int32_t i = 0; i < ax; i++) outer *= shape[i];
        for (int32_t i = ax + 1; i < r; i++) inner *= shape[i];
        int bad = 0;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t in = 0; in < inner; in++) {
                double m = -INFINITY, sum = 0;
                for (int64_t k = 0; k < len; k++) m = fmax(m, x[(o * len + k) * inner + in]);
                for (int64_t k = 0; k < len; k++) sum += exp(x[(o * len + k) * inner + in] - m);
                for (int64_t k = 0; k < len; k++) {
                    int64_t i = (o * len + k) * inner + in;
                    if (fabs(tg_of(&t, 0)[i] - exp(x[i] - m) / sum) > 1e-6) bad++;
                }
            }
        CHECK(bad == 0);
        tg_free(&t);
        free(x);
    }
}

static void test_bad_params(void) {
    float x[2] = {0};
    int64_t s = 2;
    tg t;
    tg_init(&t, "gelu", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 1, &s, x, false));
    tg_param(&t, "mode", tg_str(&t, "mode", "CUBIC"));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_UNSUPPORTED);
    CHECK(strstr(t.err.msg, "CUBIC") != NULL);
    tg_free(&t);
    tg_init(&t, "clip", 15); /* alpha/beta are required */
    tg_param(&t, "x", tg_f32(&t, "x", 1, &s, x, false));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) != CML_OK);
    tg_free(&t);
    tg_init(&t, "softmax", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 1, &s, x, false));
    tg_param(&t, "axis", tg_scalar_i(&t, "axis", 3));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_INVALID_ARG);
    tg_free(&t);
}

int main(void) {
    test_unary_float();
    test_default_epsilons();
    test_round_half_even();
    test_per_channel();
    test_unary_int();
    test_softmax();
    test_bad_params();
    TEST_MAIN_END();
}
