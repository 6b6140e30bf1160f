/* 3-D (rank-5, NCDHW) conv, conv_transpose, max/avg/l2 pooling against
 * naive references: random shapes, groups, strides, dilations, every pad
 * type, bias, ceil_mode and exclude_padding_from_average; plus bad input. */
#include "test_mil_ops_util.h"

/* ops_conv.c: folds a clamp into a conv (what fuse.c does for relu / clip) */
bool cml_mil_conv_fuse_clamp(cml_mil_node *node, float lo, float hi);

/* per-dim (out, before, after) of a forward window as the MIL spec defines it */
static void ref_window(const char *pt, int64_t D, int64_t K, int64_t s, int64_t d, int64_t pb,
                       int64_t pa, bool ceil_mode, int64_t *out, int64_t *before, int64_t *after) {
    int64_t keff = (K - 1) * d + 1;
    if (!strcmp(pt, "same") || !strcmp(pt, "same_lower")) {
        *out = (D + s - 1) / s;
        int64_t P = (*out - 1) * s + keff - D;
        if (P < 0) P = 0;
        *before = !strcmp(pt, "same") ? P / 2 : P - P / 2;
        *after = P - *before;
        return;
    }
    if (!strcmp(pt, "valid")) pb = pa = 0;
    if (ceil_mode) {
        *out = (D + pb + pa - keff + s - 1) / s + 1;
        if (pb + pa > 0 && (*out - 1) * s >= D + pb) (*out)--;
    } else {
        *out = (D + pb + pa - keff) / s + 1;
    }
    *before = pb;
    *after = pa;
}

static const char *const PTS[4] = {"valid", "same", "same_lower", "custom"};

typedef struct geo {
    int64_t D[3], K[3], S[3], L[3], P[6];
    const char *pt;
} geo;

static void random_geo(geo *g, int64_t kmax, bool dilate) {
    g->pt = PTS[tg_randi(0, 3)];
    for (int i = 0; i < 3; i++) {
        g->K[i] = tg_randi(1, (int)kmax);
        g->S[i] = tg_randi(1, 2);
        g->L[i] = dilate ? tg_randi(1, 2) : 1;
        g->P[2 * i] = tg_randi(0, 1);
        g->P[2 * i + 1] = tg_randi(0, 2);
        g->D[i] = (g->K[i] - 1) * g->L[i] + 1 + tg_randi(0, 3);
    }
}

static void geo_params(tg *t, const geo *g, bool pool) {
    int32_t k[3], s[3], l[3], p[6];
    for (int i = 0; i < 3; i++) k[i] = (int32_t)g->K[i], s[i] = (int32_t)g->S[i], l[i] = (int32_t)g->L[i];
    for (int i = 0; i < 6; i++) p[i] = (int32_t)g->P[i];
    if (pool) tg_param(t, "kernel_sizes", tg_i32s(t, "k", 3, k));
    tg_param(t, "strides", tg_i32s(t, "s", 3, s));
    if (!pool) tg_param(t, "dilations", tg_i32s(t, "l", 3, l));
    tg_param(t, "pad", tg_i32s(t, "p", 6, p));
    tg_param(t, "pad_type", tg_str(t, "pt", g->pt));
}

static int64_t idx5(const int64_t *s, int64_t a, int64_t b, int64_t c, int64_t d, int64_t e) {
    return (((a * s[1] + b) * s[2] + c) * s[3] + d) * s[4] + e;
}

static void test_conv3d(void) {
    for (int trial = 0; trial < 40; trial++) {
        geo g;
        random_geo(&g, 3, true);
        int64_t groups = tg_randi(1, 2), cin = groups * tg_randi(1, 2), cout = groups * tg_randi(1, 3);
        int64_t xs[5] = {tg_randi(1, 2), cin, g.D[0], g.D[1], g.D[2]};
        int64_t ws[5] = {cout, cin / groups, g.K[0], g.K[1], g.K[2]};
        int64_t nx = xs[0] * cin * g.D[0] * g.D[1] * g.D[2], nw = cout * (cin / groups) * g.K[0] * g.K[1] * g.K[2];
        float *x = tg_rand_buf(nx), *w = tg_rand_buf(nw), *b = tg_rand_buf(cout);
        bool bias = trial % 2;
        tg t;
        tg_init(&t, "conv", 17);
        tg_param(&t, "x", tg_f32(&t, "x", 5, xs, x, false));
        tg_param(&t, "weight", tg_f32(&t, "w", 5, ws, w, true));
        if (bias) tg_param(&t, "bias", tg_f32(&t, "b", 1, &cout, b, true));
        geo_params(&t, &g, false);
        tg_param(&t, "groups", tg_scalar_i(&t, "g", (int32_t)groups));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        bool relu = trial % 4 == 3; /* a fused relu (fuse.c) clamps in the 3-D kernel too */
        if (st == CML_OK && relu) CHECK(cml_mil_conv_fuse_clamp(&t.node, 0.0f, INFINITY));
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "conv3d: %s", t.err.msg);
        int64_t O[3], B[3], A[3];
        for (int i = 0; i < 3; i++)
            ref_window(g.pt, g.D[i], g.K[i], g.S[i], g.L[i], g.P[2 * i], g.P[2 * i + 1], false, &O[i], &B[i], &A[i]);
        int64_t os[5] = {xs[0], cout, O[0], O[1], O[2]};
        CHECK(st == CML_OK && tg_shape_is(tg_o(&t, 0), 5, os));
        int bad = 0;
        for (int64_t n = 0; st == CML_OK && n < xs[0]; n++)
            for (int64_t co = 0; co < cout; co++)
                for (int64_t od = 0; od < O[0]; od++)
                    for (int64_t oh = 0; oh < O[1]; oh++)
                        for (int64_t ow = 0; ow < O[2]; ow++) {
                            double acc = bias ? b[co] : 0;
                            int64_t cig = cin / groups, g0 = co / (cout / groups) * cig;
                            for (int64_t c = 0; c < cig; c++)
                                for (int64_t kd = 0; kd < g.K[0]; kd++)
                                    for (int64_t kh = 0; kh < g.K[1]; kh++)
                                        for (int64_t kw = 0; kw < g.K[2]; kw++) {
                                            int64_t id = od * g.S[0] - B[0] + kd * g.L[0];
                                            int64_t ih = oh * g.S[1] - B[1] + kh * g.L[1];
                                            int64_t iw = ow * g.S[2] - B[2] + kw * g.L[2];
                                            if (id < 0 || id >= g.D[0] || ih < 0 || ih >= g.D[1] || iw < 0 || iw >= g.D[2])
                                                continue;
                                            acc += (double)x[idx5(xs, n, g0 + c, id, ih, iw)] *
                                                   w[idx5(ws, co, c, kd, kh, kw)];
                                        }
                            if (relu && acc < 0) acc = 0;
                            if (fabs(tg_of(&t, 0)[idx5(os, n, co, od, oh, ow)] - acc) > 1e-4) bad++;
                        }
        CHECK_MSG(bad == 0, "conv3d trial %d (%s): %d mismatches", trial, g.pt, bad);
        tg_free(&t);
        free(x), free(w), free(b);
    }
}

/* conv_transpose: full output (D-1)s + Keff by scatter, then cropped by the
 * leading pad; out size per pad type as in the MIL spec. */
static void test_conv_transpose3d(void) {
    for (int trial = 0; trial < 30; trial++) {
        geo g;
        random_geo(&g, 3, true);
        if (!strcmp(g.pt, "same_lower")) g.pt = "valid";
        int64_t groups = tg_randi(1, 2), cin = groups * tg_randi(1, 2), cog = tg_randi(1, 2);
        int64_t cout = cog * groups;
        int64_t xs[5] = {tg_randi(1, 2), cin, tg_randi(1, 3), tg_randi(1, 3), tg_randi(1, 3)};
        int64_t ws[5] = {cin, cog, g.K[0], g.K[1], g.K[2]};
        int64_t nx = xs[0] * cin * xs[2] * xs[3] * xs[4], nw = cin * cog * g.K[0] * g.K[1] * g.K[2];
        float *x = tg_rand_buf(nx), *w = tg_rand_buf(nw), *b = tg_rand_buf(cout);
        int64_t O[3], B[3];
        for (int i = 0; i < 3; i++) {
            int64_t full = (xs[2 + i] - 1) * g.S[i] + (g.K[i] - 1) * g.L[i] + 1;
            if (!strcmp(g.pt, "same")) {
                O[i] = xs[2 + i] * g.S[i];
                int64_t P = full - O[i] > 0 ? full - O[i] : 0;
                B[i] = P / 2;
            } else if (!strcmp(g.pt, "custom")) {
                O[i] = full - g.P[2 * i] - g.P[2 * i + 1];
                B[i] = g.P[2 * i];
            } else {
                O[i] = full, B[i] = 0;
            }
        }
        if (O[0] < 1 || O[1] < 1 || O[2] < 1) {
            free(x), free(w), free(b);
            continue;
        }
        tg t;
        tg_init(&t, "conv_transpose", 17);
        tg_param(&t, "x", tg_f32(&t, "x", 5, xs, x, false));
        tg_param(&t, "weight", tg_f32(&t, "w", 5, ws, w, true));
        tg_param(&t, "bias", tg_f32(&t, "b", 1, &cout, b, true));
        geo_params(&t, &g, false);
        tg_param(&t, "groups", tg_scalar_i(&t, "g", (int32_t)groups));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "conv_transpose3d: %s", t.err.msg);
        int64_t os[5] = {xs[0], cout, O[0], O[1], O[2]};
        CHECK(st == CML_OK && tg_shape_is(tg_o(&t, 0), 5, os));
        int64_t no = xs[0] * cout * O[0] * O[1] * O[2];
        double *ref = calloc((size_t)no, sizeof(double));
        for (int64_t i = 0; i < no; i++) ref[i] = b[i / (O[0] * O[1] * O[2]) % cout];
        for (int64_t n = 0; n < xs[0]; n++)
            for (int64_t ci = 0; ci < cin; ci++)
                for (int64_t id = 0; id < xs[2]; id++)
                    for (int64_t ih = 0; ih < xs[3]; ih++)
                        for (int64_t iw = 0; iw < xs[4]; iw++)
                            for (int64_t c = 0; c < cog; c++)
                                for (int64_t kd = 0; kd < g.K[0]; kd++)
                                    for (int64_t kh = 0; kh < g.K[1]; kh++)
                                        for (int64_t kw = 0; kw < g.K[2]; kw++) {
                                            int64_t od = id * g.S[0] + kd * g.L[0] - B[0];
                                            int64_t oh = ih * g.S[1] + kh * g.L[1] - B[1];
                                            int64_t ow = iw * g.S[2] + kw * g.L[2] - B[2];
                                            if (od < 0 || od >= O[0] || oh < 0 || oh >= O[1] || ow < 0 || ow >= O[2])
                                                continue;
                                            int64_t co = ci / (cin / groups) * cog + c;
                                            ref[idx5(os, n, co, od, oh, ow)] +=
                                                (double)x[idx5(xs, n, ci, id, ih, iw)] * w[idx5(ws, ci, c, kd, kh, kw)];
                                        }
        int bad = 0;
        for (int64_t i = 0; st == CML_OK && i < no; i++)
            if (fabs(tg_of(&t, 0)[i] - ref[i]) > 1e-4) bad++;
        CHECK_MSG(bad == 0, "conv_transpose3d trial %d (%s): %d mismatches", trial, g.pt, bad);
        free(ref);
        tg_free(&t);
        free(x), free(w), free(b);
    }
}

static void test_pool3d(void) {
    static const char *const ops[3] = {"max_pool", "avg_pool", "l2_pool"};
    for (int trial = 0; trial < 60; trial++) {
        const char *op = ops[trial % 3];
        geo g;
        random_geo(&g, 3, false);
        bool ceil_mode = tg_randi(0, 1), exclude = tg_randi(0, 1);
        if (!strcmp(g.pt, "same") || !strcmp(g.pt, "same_lower")) ceil_mode = false;
        int64_t xs[5] = {2, 2, g.D[0], g.D[1], g.D[2]};
        int64_t nx = 4 * g.D[0] * g.D[1] * g.D[2];
        float *x = tg_rand_buf(nx);
        tg t;
        tg_init(&t, op, 17);
        tg_param(&t, "x", tg_f32(&t, "x", 5, xs, x, false));
        geo_params(&t, &g, true);
        tg_param(&t, "ceil_mode", tg_scalar_b(&t, "c", ceil_mode));
        if (trial % 3 == 1) tg_param(&t, "exclude_padding_from_average", tg_scalar_b(&t, "e", exclude));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "%s 3d: %s", op, t.err.msg);
        int64_t O[3], B[3], A[3];
        for (int i = 0; i < 3; i++)
            ref_window(g.pt, g.D[i], g.K[i], g.S[i], 1, g.P[2 * i], g.P[2 * i + 1], ceil_mode, &O[i], &B[i], &A[i]);
        int64_t os[5] = {2, 2, O[0], O[1], O[2]};
        CHECK(st == CML_OK && tg_shape_is(tg_o(&t, 0), 5, os));
        int bad = 0;
        for (int64_t nc = 0; st == CML_OK && nc < 4; nc++)
            for (int64_t od = 0; od < O[0]; od++)
                for (int64_t oh = 0; oh < O[1]; oh++)
                    for (int64_t ow = 0; ow < O[2]; ow++) {
                        double mx = -INFINITY, sum = 0, sq = 0;
                        int64_t cnt = 0, cnt_pad = 0, o[3] = {od, oh, ow};
                        for (int64_t kd = 0; kd < g.K[0]; kd++)
                            for (int64_t kh = 0; kh < g.K[1]; kh++)
                                for (int64_t kw = 0; kw < g.K[2]; kw++) {
                                    int64_t k[3] = {kd, kh, kw}, i3[3];
                                    bool in = true, in_pad = true;
                                    for (int d = 0; d < 3; d++) {
                                        i3[d] = o[d] * g.S[d] - B[d] + k[d];
                                        in = in && i3[d] >= 0 && i3[d] < g.D[d];
                                        in_pad = in_pad && i3[d] >= -B[d] && i3[d] < g.D[d] + A[d];
                                    }
                                    cnt_pad += in_pad;
                                    if (!in) continue;
                                    double v = x[((nc * g.D[0] + i3[0]) * g.D[1] + i3[1]) * g.D[2] + i3[2]];
                                    mx = fmax(mx, v), sum += v, sq += v * v, cnt++;
                                }
                        bool avg_ex = trial % 3 == 1 && exclude;
                        int64_t div = avg_ex ? cnt : cnt_pad;
                        double want = trial % 3 == 0 ? mx : trial % 3 == 2 ? sqrt(sq) : div ? sum / (double)div : 0;
                        double got = tg_of(&t, 0)[(((nc * O[0]) + od) * O[1] + oh) * O[2] + ow];
                        if (isinf(want) && got == want) continue;
                        if (!(fabs(got - want) <= 1e-5 * (1 + fabs(want)))) bad++;
                    }
        CHECK_MSG(bad == 0, "%s 3d trial %d (%s ceil %d excl %d): %d mismatches", op, trial, g.pt,
                  ceil_mode, exclude, bad);
        tg_free(&t);
        free(x);
    }
}

static void test_bad_input(void) {
    float z[64] = {0};
    int64_t x5[5] = {1, 2, 3, 3, 3};
    /* weight channels do not match x; kernel larger than the input; wrong pad length */
    tg t;
    tg_init(&t, "conv", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 5, x5, z, false));
    tg_param(&t, "weight", tg_f32(&t, "w", 5, (int64_t[]){1, 3, 1, 1, 1}, z, true));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE && strstr(t.err.msg, "test_op"));
    tg_free(&t);
    tg_init(&t, "conv", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 5, x5, z, false));
    tg_param(&t, "weight", tg_f32(&t, "w", 5, (int64_t[]){1, 2, 4, 1, 1}, z, true));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    tg_free(&t);
    tg_init(&t, "max_pool", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 5, x5, z, false));
    tg_param(&t, "kernel_sizes", tg_i32s(&t, "k", 2, (int32_t[]){2, 2}));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_INVALID_ARG);
    tg_free(&t);
    tg_init(&t, "avg_pool", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 5, x5, z, false));
    tg_param(&t, "kernel_sizes", tg_i32s(&t, "k", 3, (int32_t[]){4, 1, 1}));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    tg_free(&t);
    /* rank 6 stays refused */
    int64_t x6[6] = {1, 1, 1, 1, 1, 1};
    tg_init(&t, "l2_pool", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 6, x6, z, false));
    tg_param(&t, "kernel_sizes", tg_i32s(&t, "k", 4, (int32_t[]){1, 1, 1, 1}));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    tg_free(&t);
}

int main(void) {
    srand(3);
    test_conv3d();
    test_conv_transpose3d();
    test_pool3d();
    test_bad_input();
    TEST_MAIN_END();
}
