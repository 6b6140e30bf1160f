/* Softmax, normalization and reduction kernel tests against double
 * references, every ISA level. */
#include <string.h>

#include "harness.h"
#include "kernels/kernels.h"
#include "test_kernels_common.h"

static size_t rand_dim(void) {
    static const size_t d[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 64, 65, 100, 129};
    return d[tk_next() % (sizeof d / sizeof d[0])];
}

static void test_softmax(void) {
    tk_seed(21);
    int failures = 0;
    for (int t = 0; t < 150; t++) {
        size_t outer = tk_int(1, 3), axis = rand_dim(), inner = tk_int(0, 2) ? 1 : rand_dim();
        size_t n = outer * axis * inner;
        float *x = malloc(n * sizeof *x), *y = malloc((n + 1) * sizeof *y);
        float scale = t % 5 == 0 ? 40.0f : 4.0f;
        tk_fill(x, n, -scale, scale);
        if (t % 7 == 0) x[0] = -INFINITY;
        for (int lg = 0; lg < 2; lg++) {
            for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
                tk_set_level(lvl);
                y[n] = 99.0f;
                cml_k_softmax_f32(x, y, outer, axis, inner, lg);
                if (y[n] != 99.0f) failures++;
                for (size_t o = 0; o < outer; o++) {
                    for (size_t j = 0; j < inner; j++) {
                        const float *xs = x + o * axis * inner + j;
                        double m = -INFINITY, s = 0;
                        for (size_t a = 0; a < axis; a++) m = fmax(m, xs[a * inner]);
                        for (size_t a = 0; a < axis; a++) s += exp(xs[a * inner] - m);
                        for (size_t a = 0; a < axis; a++) {
                            double want = lg ? xs[a * inner] - m - log(s) : exp(xs[a * inner] - m) / s;
                            float got = y[o * axis * inner + a * inner + j];
                            bool ok = lg ? tk_close(got, (float)want, 2e-6f * (1 + (float)fabs(m)), 1e-6f)
                                          : tk_close(got, (float)want, 1e-12f, 4e-6f);
                            if (!ok) {
                                if (failures < 10)
                                    fprintf(stderr, "softmax log=%d lvl=%d o=%zu a=%zu j=%zu [%zu,%zu,%zu]: %g want %g\n",
                                            lg, lvl, o, a, j, outer, axis, inner, got, want);
                                failures++;
                            }
                        }
                    }
                }
            }
        }
        free(x);
        free(y);
    }
    tk_set_level(-1);
    CHECK_MSG(failures == 0, "%d softmax mismatches", failures);
}

static void test_layer_norm(void) {
    tk_seed(22);
    int failures = 0;
    for (int t = 0; t < 120; t++) {
        size_t outer = tk_int(1, 4), inner = rand_dim();
        if (t % 10 == 0) inner = 768;
        size_t n = outer * inner;
        float *x = malloc(n * sizeof *x), *y = malloc((n + 1) * sizeof *y);
        float *g = malloc(inner * sizeof *g), *b = malloc(inner * sizeof *b);
        float offset = t % 3 == 0 ? 100.0f : 0.0f;
        tk_fill(x, n, offset - 3.0f, offset + 3.0f);
        tk_fill(g, inner, 0.5f, 1.5f);
        tk_fill(b, inner, -1.0f, 1.0f);
        int mode = t % 4; /* gamma/beta presence */
        const float *gp = mode & 1 ? g : NULL, *bp = mode & 2 ? b : NULL;
        for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
            tk_set_level(lvl);
            y[n] = 5.0f;
            cml_k_layer_norm_f32(x, y, outer, inner, gp, bp, 1e-5f);
            if (y[n] != 5.0f) failures++;
            for (size_t o = 0; o < outer; o++) {
                const float *xs = x + o * inner;
                double m = 0, v = 0;
                for (size_t i = 0; i < inner; i++) m += xs[i];
                m /= (double)inner;
                for (size_t i = 0; i < inner; i++) v += (xs[i] - m) * (xs[i] - m);
                v /= (double)inner;
                for (size_t i = 0; i < inner; i++) {
                    double want = (xs[i] - m) / sqrt(v + 1e-5);
                    if (gp) want *= gp[i];
                    if (bp) want += bp[i];
                    /* catastrophic cancellation with a large offset: scale the tolerance */
                    float atol = 2e-5f * (1.0f + fabsf(offset) / 3.0f);
                    if (!tk_close(y[o * inner + i], (float)want, atol, 1e-5f)) {
                        if (failures < 10)
                            fprintf(stderr, "layer_norm lvl %d [%zu,%zu] i=%zu: %g want %g\n", lvl,
                                    outer, inner, i, y[o * inner + i], want);
                        failures++;
                    }
                }
            }
        }
        free(x), free(y), free(g), free(b);
    }
    tk_set_level(-1);
    CHECK_MSG(failures == 0, "%d layer_norm mismatches", failures);
}

static void test_batch_group_norm(void) {
    tk_seed(23);
    int failures = 0;
    for (int t = 0; t < 80; t++) {
        size_t n = tk_int(1, 2), groups = tk_int(1, 4), cg = tk_int(1, 4), c = groups * cg;
        size_t sp = rand_dim();
        size_t len = n * c * sp;
        float *x = malloc(len * sizeof *x), *y = malloc((len + 1) * sizeof *y);
        float mean[16], var[16], g[16], b[16];
        tk_fill(x, len, -2.0f, 3.0f);
        tk_fill(mean, c, -1.0f, 1.0f);
        tk_fill(var, c, 0.1f, 2.0f);
        tk_fill(g, c, 0.5f, 1.5f);
        tk_fill(b, c, -1.0f, 1.0f);
        const float *gp = t & 1 ? g : NULL, *bp = t & 2 ? b : NULL;
        for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
            tk_set_level(lvl);
            y[len] = 3.0f;
            cml_k_batch_norm_f32(x, y, n, c, sp, mean, var, gp, bp, 1e-5f);
            for (size_t i = 0; i < len; i++) {
                size_t ch = (i / sp) % c;
                double want = (x[i] - mean[ch]) / sqrt(var[ch] + 1e-5);
                if (gp) want *= gp[ch];
                if (bp) want += bp[ch];
                if (!tk_close(y[i], (float)want, 2e-6f, 2e-6f)) failures++;
            }
            cml_k_group_norm_f32(x, y, n, c, sp, groups, gp, bp, 1e-5f);
            for (size_t bi = 0; bi < n; bi++) {
                for (size_t gi = 0; gi < groups; gi++) {
                    const float *xs = x + (bi * c + gi * cg) * sp;
                    double m = 0, v = 0;
                    size_t cnt = cg * sp;
                    for (size_t i = 0; i < cnt; i++) m += xs[i];
                    m /= (double)cnt;
                    for (size_t i = 0; i < cnt; i++) v += (xs[i] - m) * (xs[i] - m);
                    v /= (double)cnt;
                    for (size_t i = 0; i < cnt; i++) {
                        size_t ch = gi * cg + i / sp;
                        double want = (xs[i] - m) / sqrt(v + 1e-5);
                        if (gp) want *= gp[ch];
                        if (bp) want += bp[ch];
                        float got = y[(bi * c + gi * cg) * sp + i];
                        if (!tk_close(got, (float)want, 4e-6f, 4e-6f)) {
                            if (failures < 10) fprintf(stderr, "group_norm: %g want %g\n", got, want);
                            failures++;
                        }
                    }
                }
            }
            if (y[len] != 3.0f) failures++;
        }
        free(x), free(y);
    }
    tk_set_level(-1);
    CHECK_MSG(failures == 0, "%d batch/group norm mismatches", failures);
}

static void test_reduce(void) {
    tk_seed(24);
    int failures = 0;
    for (int t = 0; t < 100; t++) {
        size_t outer = tk_int(1, 3), axis = rand_dim(), inner = tk_int(0, 1) ? 1 : rand_dim();
        if (t == 5) inner = 300; /* more than one column chunk */
        size_t n = outer * axis * inner;
        float *x = malloc(n * sizeof *x), *y = malloc((outer * inner + 1) * sizeof *y);
        int64_t *yi = malloc(outer * inner * sizeof *yi);
        bool ints = t % 3 == 0; /* ties for argmax */
        for (size_t i = 0; i < n; i++) x[i] = ints ? (float)tk_int(-3, 3) : tk_uniform(0.1f, 2.0f) * (tk_int(0, 1) ? 1 : -1);
        for (int op = CML_RED_SUM; op <= CML_RED_LOG_SUM_EXP; op++) {
            if (op == CML_RED_LOG_SUM) /* positive inputs */
                for (size_t i = 0; i < n; i++) x[i] = fabsf(x[i]) + 0.5f;
            y[outer * inner] = 8.0f;
            cml_k_reduce_f32((cml_reduce_op)op, x, y, outer, axis, inner);
            if (y[outer * inner] != 8.0f) failures++;
            for (size_t o = 0; o < outer; o++) {
                for (size_t j = 0; j < inner; j++) {
                    const float *xs = x + o * axis * inner + j;
                    double acc = op == CML_RED_MAX ? -INFINITY : op == CML_RED_MIN ? INFINITY : op == CML_RED_PROD ? 1 : 0;
                    double m = -INFINITY;
                    for (size_t a = 0; a < axis; a++) m = fmax(m, xs[a * inner]);
                    for (size_t a = 0; a < axis; a++) {
                        double v = xs[a * inner];
                        switch (op) {
                        case CML_RED_MAX: acc = fmax(acc, v); break;
                        case CML_RED_MIN: acc = fmin(acc, v); break;
                        case CML_RED_PROD: acc *= v; break;
                        case CML_RED_SUM_SQUARE:
                        case CML_RED_L2: acc += v * v; break;
                        case CML_RED_L1: acc += fabs(v); break;
                        case CML_RED_LOG_SUM_EXP: acc += exp(v - m); break;
                        default: acc += v; break;
                        }
                    }
                    if (op == CML_RED_MEAN) acc /= (double)axis;
                    if (op == CML_RED_L2) acc = sqrt(acc);
                    if (op == CML_RED_LOG_SUM) acc = log(acc);
                    if (op == CML_RED_LOG_SUM_EXP) acc = m + log(acc);
                    float got = y[o * inner + j];
                    if (!tk_close(got, (float)acc, 1e-5f, 2e-6f)) {
                        if (failures < 10) fprintf(stderr, "reduce op %d: %g want %g\n", op, got, acc);
                        failures++;
                    }
                }
            }
        }
        for (int is_max = 0; is_max < 2; is_max++) {
            cml_k_argreduce_f32(is_max, x, yi, outer, axis, inner);
            for (size_t o = 0; o < outer; o++) {
                for (size_t j = 0; j < inner; j++) {
                    const float *xs = x + o * axis * inner + j;
                    size_t best = 0;
                    for (size_t a = 1; a < axis; a++)
                        if (is_max ? xs[a * inner] > xs[best * inner] : xs[a * inner] < xs[best * inner]) best = a;
                    if (yi[o * inner + j] != (int64_t)best) failures++;
                }
            }
        }
        free(x), free(y), free(yi);
    }
    CHECK_MSG(failures == 0, "%d reduce mismatches", failures);
    /* NaN handling */
    float xn[5] = {1.0f, NAN, 3.0f, NAN, -1.0f};
    float r;
    int64_t ri;
    cml_k_reduce_f32(CML_RED_MAX, xn, &r, 1, 5, 1);
    CHECK(isnan(r));
    cml_k_reduce_f32(CML_RED_MIN, xn, &r, 1, 5, 1);
    CHECK(isnan(r));
    cml_k_argreduce_f32(true, xn, &ri, 1, 5, 1);
    CHECK(ri == 1);
    cml_k_argreduce_f32(false, xn, &ri, 1, 5, 1);
    CHECK(ri == 1);
    float xi[3] = {-INFINITY, -INFINITY, -INFINITY};
    cml_k_reduce_f32(CML_RED_LOG_SUM_EXP, xi, &r, 1, 3, 1);
    CHECK(isinf(r) && r < 0);
    float xl[2] = {1000.0f, 1000.0f};
    cml_k_reduce_f32(CML_RED_LOG_SUM_EXP, xl, &r, 1, 2, 1);
    CHECK_NEAR(r, 1000.0f + logf(2.0f), 1e-3);
    /* softmax is stable for large inputs */
    float sx[3] = {1000.0f, 1000.0f, -1000.0f}, sy[3];
    cml_k_softmax_f32(sx, sy, 1, 3, 1, false);
    CHECK_NEAR(sy[0], 0.5, 1e-6);
    CHECK_NEAR(sy[2], 0.0, 1e-30);
}

int main(void) {
    test_softmax();
    test_layer_norm();
    test_batch_group_norm();
    test_reduce();
    TEST_MAIN_END();
}
