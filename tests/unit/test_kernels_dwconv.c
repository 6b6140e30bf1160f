/* Depthwise 3x3 planes with the fused epilogue (kernels/dwconv.h), through
 * cml_k_conv2d_epi_f32 at every ISA level, with and without a pool:
 * - bit-identical to the vec kit's generic plane followed by the epilogue at
 *   the same level (the summation order is kept per plane shape);
 * - within fp32 rounding of a naive double reference (then clamped and, for
 *   fp16 outputs, within one fp16 step of it and exactly fp16-representable);
 * - no write outside the output (exact-size buffers, guard values; ASan). */
#include <stdlib.h>
#include <string.h>

#include "core/fp16.h"
#include "core/threadpool.h"
#include "harness.h"
#include "kernels/dwconv.h"
#include "kernels/kernels.h"
#include "kernels/kinternal.h"
#include "test_kernels_common.h"

static cml_threadpool *g_pool;

static void ref_dw(const cml_conv2d_params *p, const float *x, const float *w, const float *bias,
                   double *y, double *mag) {
    int64_t mult = p->c_out / p->groups;
    for (int64_t b = 0; b < p->n; b++)
        for (int64_t co = 0; co < p->c_out; co++)
            for (int64_t oh = 0; oh < p->h_out; oh++)
                for (int64_t ow = 0; ow < p->w_out; ow++) {
                    double s = bias ? bias[co] : 0.0, m = fabs(s);
                    for (int64_t kh = 0; kh < 3; kh++)
                        for (int64_t kw = 0; kw < 3; kw++) {
                            int64_t ih = oh * p->stride_h - p->pad_top + kh;
                            int64_t iw = ow * p->stride_w - p->pad_left + kw;
                            if (ih < 0 || ih >= p->h_in || iw < 0 || iw >= p->w_in) continue;
                            double t = (double)x[((b * p->c_in + co / mult) * p->h_in + ih) * p->w_in + iw] *
                                       w[co * 9 + kh * 3 + kw];
                            s += t;
                            m += fabs(t);
                        }
                    size_t i = (size_t)(((b * p->c_out + co) * p->h_out + oh) * p->w_out + ow);
                    y[i] = s;
                    mag[i] = m;
                }
}

/* The generic plane of the current level, then the epilogue. */
static void generic_dw(const cml_conv2d_params *p, const float *x, const float *w, const float *bias,
                       float *y, const cml_conv_epi *e) {
    const cml_vec_kit *kit = cml_k_vec_kit();
    int64_t mult = p->c_out / p->groups, HWo = p->h_out * p->w_out;
    for (int64_t b = 0; b < p->n; b++)
        for (int64_t co = 0; co < p->c_out; co++) {
            float *yp = y + (b * p->c_out + co) * HWo;
            kit->dw_plane(p, x + (b * p->c_in + co / mult) * p->h_in * p->w_in, w + co * 9,
                          bias ? bias[co] : 0.0f, yp);
            if (cml_cpu_isa_level() == CML_ISA_SCALAR)
                cml_k_conv_epi_scalar(e, yp, (size_t)HWo);
            else
                cml_k_conv_epi(e, yp, (size_t)HWo);
        }
}

static bool close_to_ref(float got, double ref, double mag, const cml_conv_epi *e) {
    double want = ref;
    if (e->clamp) want = fmin(fmax(want, e->lo), e->hi);
    double tol = 1e-6 * mag + 1e-7;
    if (e->round16) {
        if (cml_round_fp16(got) != got) return false;
        tol += fabs(want) * (1.0 / 1024.0) + 6.0e-8; /* one fp16 step (and subnormals) */
    }
    return fabs((double)got - want) <= tol;
}

/* Runs one shape at every level; returns the number of failures. */
static int check_dw(const cml_conv2d_params *p, const cml_conv_epi *e, bool use_bias) {
    size_t nx = (size_t)(p->n * p->c_in * p->h_in * p->w_in);
    size_t ny = (size_t)(p->n * p->c_out * p->h_out * p->w_out);
    float *x = malloc(nx * sizeof *x), *w = malloc((size_t)p->c_out * 9 * sizeof *w);
    float *bias = malloc((size_t)p->c_out * sizeof *bias);
    float *y = malloc((ny + 1) * sizeof *y), *g = malloc(ny * sizeof *g);
    double *ref = malloc(ny * sizeof *ref), *mag = malloc(ny * sizeof *mag);
    tk_fill(x, nx, -4.0f, 4.0f);
    tk_fill(w, (size_t)p->c_out * 9, -1.0f, 1.0f);
    tk_fill(bias, (size_t)p->c_out, -1.0f, 1.0f);
    const float *b = use_bias ? bias : NULL;
    ref_dw(p, x, w, b, ref, mag);
    int fails = 0;
    for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
        tk_set_level(lvl);
        generic_dw(p, x, w, b, g, e);
        for (int pi = 0; pi < 2; pi++) {
            for (size_t i = 0; i < ny; i++) y[i] = NAN;
            y[ny] = 1234.5f;
            cml_k_conv2d_epi_f32(pi ? g_pool : NULL, p, x, w, b, y, NULL, e->clamp ? e->lo : -INFINITY,
                                 e->clamp ? e->hi : INFINITY, e->round16);
            bool ok = y[ny] == 1234.5f && memcmp(y, g, ny * sizeof *y) == 0;
            for (size_t i = 0; ok && i < ny; i++) ok = close_to_ref(y[i], ref[i], mag[i], e);
            if (!ok && fails++ < 5)
                fprintf(stderr, "dw3 lvl %d pool %d: n%lld c%lld->%lld %lldx%lld -> %lldx%lld s%lld p%lld,%lld "
                        "clamp %d round16 %d\n", lvl, pi, (long long)p->n, (long long)p->c_in,
                        (long long)p->c_out, (long long)p->h_in, (long long)p->w_in, (long long)p->h_out,
                        (long long)p->w_out, (long long)p->stride_w, (long long)p->pad_top,
                        (long long)p->pad_left, e->clamp, e->round16);
        }
    }
    tk_levels_done();
    free(x), free(w), free(bias), free(y), free(g), free(ref), free(mag);
    return fails;
}

static void make_dw(cml_conv2d_params *p, int64_t n, int64_t c, int64_t mult, int64_t h, int64_t wd,
                    int64_t s, int64_t pt, int64_t pl, int64_t pb, int64_t pr) {
    memset(p, 0, sizeof *p);
    p->n = n, p->c_in = c, p->groups = c, p->c_out = c * mult;
    p->h_in = h, p->w_in = wd, p->k_h = p->k_w = 3;
    p->stride_h = p->stride_w = s, p->dilation_h = p->dilation_w = 1;
    p->pad_top = pt, p->pad_left = pl;
    p->h_out = h + pt + pb >= 3 ? (h + pt + pb - 3) / s + 1 : 0;
    p->w_out = wd + pl + pr >= 3 ? (wd + pl + pr - 3) / s + 1 : 0;
}

static const cml_conv_epi k_epis[] = {
    {.clamp = false, .round16 = false},
    {.clamp = true, .round16 = false, .lo = 0.0f, .hi = 6.0f},
    {.clamp = false, .round16 = true},
    {.clamp = true, .round16 = true, .lo = 0.0f, .hi = 6.0f},
    {.clamp = true, .round16 = true, .lo = -0.5f, .hi = INFINITY},
};

static void test_dw3_mobilenet_shapes(void) {
    tk_seed(91);
    /* MobileNetV2 at 224 and 96 input (reduced channel counts), pads 1 / (0, 1) */
    static const int64_t shapes[][3] = {{112, 1, 1}, {112, 2, 1}, {56, 1, 1}, {56, 2, 1}, {28, 2, 0},
                                        {14, 1, 1},  {14, 2, 1},  {7, 1, 1},  {48, 2, 1}, {6, 1, 1},
                                        {113, 2, 0}, {3, 1, 1},   {96, 1, 1}, {12, 2, 1}};
    int fails = 0, cases = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (size_t k = 0; k < sizeof k_epis / sizeof k_epis[0]; k++) {
            cml_conv2d_params p;
            int64_t h = shapes[i][0], s = shapes[i][1], pad = shapes[i][2];
            /* 19 channels: whole blocks of vector-width planes and a rest */
            make_dw(&p, 1, 19, 1, h, h, s, pad, pad, 1, 1);
            cases++;
            fails += check_dw(&p, &k_epis[k], k != 2) != 0;
        }
    CHECK_MSG(fails == 0, "%d of %d MobileNet-shaped depthwise cases failed", fails, cases);
}

static void test_dw3_random(void) {
    tk_seed(92);
    int fails = 0, cases = 0;
    for (int t = 0; t < 300; t++) {
        cml_conv2d_params p;
        int64_t s = tk_int(1, 2), h = tk_int(1, 40), wd = tk_int(1, 90);
        if (t % 10 == 0) wd = tk_int(100, 300); /* wide rows: the row-split order */
        make_dw(&p, tk_int(1, 2), t % 4 == 0 ? tk_int(8, 20) : tk_int(1, 4), tk_int(1, 2), h, wd, s,
                tk_int(0, 2), tk_int(0, 2), tk_int(0, 2), tk_int(0, 3));
        if (p.h_out <= 0 || p.w_out <= 0) continue;
        cases++;
        fails += check_dw(&p, &k_epis[t % 5], t % 3 != 0) != 0;
    }
    CHECK_MSG(fails == 0, "%d of %d random depthwise cases failed", fails, cases);
}

/* NaN passes the clamp; values past the fp16 range round to infinity. */
static void test_dw3_specials(void) {
    cml_conv2d_params p;
    make_dw(&p, 1, 1, 1, 9, 17, 1, 1, 1, 1, 1);
    float x[9 * 17], w[9], y[9 * 17 + 1];
    for (int i = 0; i < 9 * 17; i++) x[i] = 1.0f;
    for (int i = 0; i < 9; i++) w[i] = 0.0f;
    w[4] = 1.0f;
    x[20] = NAN;
    x[30] = 1.0e6f;
    x[40] = -3.0f;
    for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
        tk_set_level(lvl);
        y[9 * 17] = 7.0f;
        cml_k_conv2d_epi_f32(NULL, &p, x, w, NULL, y, NULL, 0.0f, INFINITY, true);
        CHECK(isnan(y[20]));
        CHECK(isinf(y[30]) && y[30] > 0);
        CHECK(y[40] == 0.0f);
        CHECK(y[0] == 1.0f && y[9 * 17] == 7.0f);
    }
    tk_levels_done();
}

/* ---- 3x3 with few input channels: bit-identical to the gemm over im2col ---- */

static void im2col3(const cml_conv2d_params *p, const float *x, float *col) {
    int64_t HWo = p->h_out * p->w_out;
    for (int64_t ci = 0; ci < p->c_in; ci++)
        for (int64_t t = 0; t < 9; t++)
            for (int64_t o = 0; o < HWo; o++) {
                int64_t ih = o / p->w_out * p->stride_h - p->pad_top + t / 3;
                int64_t iw = o % p->w_out * p->stride_w - p->pad_left + t % 3;
                bool in = ih >= 0 && ih < p->h_in && iw >= 0 && iw < p->w_in;
                col[(ci * 9 + t) * HWo + o] = in ? x[(ci * p->h_in + ih) * p->w_in + iw] : 0.0f;
            }
}

static int check_c3(const cml_conv2d_params *p, const cml_conv_epi *e, bool use_bias) {
    int64_t HWo = p->h_out * p->w_out, K = p->c_in * 9;
    size_t nx = (size_t)(p->n * p->c_in * p->h_in * p->w_in), ny = (size_t)(p->n * p->c_out * HWo);
    float *x = malloc(nx * sizeof *x), *w = malloc((size_t)(p->c_out * K) * sizeof *w);
    float *bias = malloc((size_t)p->c_out * sizeof *bias), *col = malloc((size_t)(K * HWo) * sizeof *col);
    float *y = malloc((ny + 1) * sizeof *y), *g = malloc(ny * sizeof *g);
    tk_fill(x, nx, -2.0f, 2.0f);
    tk_fill(w, (size_t)(p->c_out * K), -1.0f, 1.0f);
    tk_fill(bias, (size_t)p->c_out, -1.0f, 1.0f);
    const float *b = use_bias ? bias : NULL;
    float lo = e->clamp ? e->lo : -INFINITY, hi = e->clamp ? e->hi : INFINITY;
    int fails = 0;
    for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
        tk_set_level(lvl);
        for (int64_t i = 0; i < p->n; i++) {
            im2col3(p, x + i * p->c_in * p->h_in * p->w_in, col);
            cml_k_gemm_f32_rbias(NULL, (size_t)p->c_out, (size_t)HWo, (size_t)K, w, (size_t)K, col,
                                 (size_t)HWo, b, g + i * p->c_out * HWo, (size_t)HWo, e->clamp, lo, hi,
                                 false, NULL);
        }
        if (e->round16) cml_k_round_fp16(g, ny);
        for (int pi = 0; pi < 2; pi++) {
            for (size_t i = 0; i < ny; i++) y[i] = NAN;
            y[ny] = 99.0f;
            cml_k_conv2d_epi_f32(pi ? g_pool : NULL, p, x, w, b, y, NULL, lo, hi, e->round16);
            if ((y[ny] != 99.0f || memcmp(y, g, ny * sizeof *y) != 0) && fails++ < 5)
                fprintf(stderr, "c3 lvl %d pool %d: n%lld c%lld->%lld %lldx%lld s%lld p%lld,%lld\n", lvl, pi,
                        (long long)p->n, (long long)p->c_in, (long long)p->c_out, (long long)p->h_in,
                        (long long)p->w_in, (long long)p->stride_w, (long long)p->pad_top,
                        (long long)p->pad_left);
        }
    }
    tk_levels_done();
    free(x), free(w), free(bias), free(col), free(y), free(g);
    return fails;
}

static void test_c3(void) {
    tk_seed(93);
    int fails = 0, cases = 0;
    cml_conv2d_params p;
    make_dw(&p, 1, 3, 1, 224, 224, 2, 0, 0, 1, 1); /* MobileNetV2's first layer (pad 0, 1) */
    p.groups = 1, p.c_out = 32;
    fails += check_c3(&p, &k_epis[1], true) != 0, cases++;
    make_dw(&p, 1, 3, 1, 96, 96, 2, 0, 0, 1, 1);
    p.groups = 1, p.c_out = 16;
    fails += check_c3(&p, &k_epis[3], true) != 0, cases++;
    for (int t = 0; t < 60; t++) {
        int64_t s = tk_int(1, 2);
        /* (one input channel is the depthwise-style direct path) */
        make_dw(&p, tk_int(1, 2), tk_int(2, 4), 1, tk_int(1, 40), tk_int(1, 70), s, tk_int(0, 2),
                tk_int(0, 2), tk_int(0, 2), tk_int(0, 2));
        p.groups = 1, p.c_out = tk_int(1, 20);
        if (p.h_out <= 0 || p.w_out <= 0) continue;
        cases++;
        fails += check_c3(&p, &k_epis[t % 5], t % 3 != 0) != 0;
    }
    CHECK_MSG(fails == 0, "%d of %d few-channel 3x3 cases differ from the gemm", fails, cases);
}

int main(void) {
    CHECK(cml_threadpool_create(3, NULL, &g_pool) == CML_OK);
    test_dw3_mobilenet_shapes();
    test_dw3_random();
    test_dw3_specials();
    test_c3();
    cml_threadpool_destroy(g_pool);
    TEST_MAIN_END();
}
