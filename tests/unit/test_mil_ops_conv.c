/* conv / conv_transpose (1-D, 2-D, pad types, groups, dilations, strides)
 * and max/avg/l2 pooling (ceil_mode, exclude_padding_from_average) against
 * naive references. */
#include "test_mil_ops_util.h"

typedef struct conv_cfg {
    int sd;                  /* spatial dims */
    int64_t n, cin, cout, groups;
    int64_t D[2], K[2], s[2], d[2], pad[4];
    const char *pad_type;
} conv_cfg;

/* per-dim (out, before) as the MIL spec defines them */
static void ref_window(const char *pt, int64_t D, int64_t K, int64_t s, int64_t d, int64_t pb,
                       int64_t pa, int64_t *out, int64_t *before) {
    int64_t keff = (K - 1) * d + 1;
    if (!strcmp(pt, "same") || !strcmp(pt, "same_lower")) {
        *out = (D + s - 1) / s;
        int64_t P = (*out - 1) * s + keff - D;
        if (P < 0) P = 0;
        *before = !strcmp(pt, "same") ? P / 2 : P - P / 2;
    } else {
        if (!strcmp(pt, "valid")) pb = pa = 0;
        *out = (D + pb + pa - keff) / s + 1;
        *before = pb;
    }
}

static void run_conv_case(const conv_cfg *c, bool with_bias) {
    int sd = c->sd;
    int64_t xs[4] = {c->n, c->cin, c->D[0], c->D[1]};
    int64_t ws[4] = {c->cout, c->cin / c->groups, c->K[0], c->K[1]};
    int64_t nx = c->n * c->cin * c->D[0] * (sd == 2 ? c->D[1] : 1);
    int64_t nw = c->cout * (c->cin / c->groups) * c->K[0] * (sd == 2 ? c->K[1] : 1);
    float *x = tg_rand_buf(nx), *w = tg_rand_buf(nw), *b = tg_rand_buf(c->cout);
    int32_t st32[2] = {(int32_t)c->s[0], (int32_t)c->s[1]}, dl32[2] = {(int32_t)c->d[0], (int32_t)c->d[1]};
    int32_t pad32[4] = {(int32_t)c->pad[0], (int32_t)c->pad[1], (int32_t)c->pad[2], (int32_t)c->pad[3]};
    tg t;
    tg_init(&t, "conv", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 2 + sd, xs, x, false));
    tg_param(&t, "weight", tg_f32(&t, "w", 2 + sd, ws, w, true));
    if (with_bias) tg_param(&t, "bias", tg_f32(&t, "b", 1, &c->cout, b, true));
    tg_param(&t, "strides", tg_i32s(&t, "s", sd, st32));
    tg_param(&t, "dilations", tg_i32s(&t, "d", sd, dl32));
    tg_param(&t, "pad", tg_i32s(&t, "p", 2 * sd, pad32));
    tg_param(&t, "pad_type", tg_str(&t, "pt", c->pad_type));
    tg_param(&t, "groups", tg_scalar_i(&t, "g", (int32_t)c->groups));
    tg_out(&t, 1);
    cml_status st = tg_infer(&t);
    if (st == CML_OK) st = tg_run(&t);
    CHECK_MSG(st == CML_OK, "conv: %s", t.err.msg);
    if (st == CML_OK) {
        int64_t O[2] = {1, 1}, B[2] = {0, 0};
        for (int i = 0; i < sd; i++)
            ref_window(c->pad_type, c->D[i], c->K[i], c->s[i], c->d[i], c->pad[2 * i], c->pad[2 * i + 1], &O[i], &B[i]);
        int64_t os[4] = {c->n, c->cout, O[0], O[1]};
        CHECK(tg_shape_is(tg_o(&t, 0), 2 + sd, os));
        int64_t H = sd == 2 ? c->D[0] : 1, W = sd == 2 ? c->D[1] : c->D[0];
        int64_t KH = sd == 2 ? c->K[0] : 1, KW = sd == 2 ? c->K[1] : c->K[0];
        int64_t OH = sd == 2 ? O[0] : 1, OW = sd == 2 ? O[1] : O[0];
        int64_t SH = sd == 2 ? c->s[0] : 1, SW = sd == 2 ? c->s[1] : c->s[0];
        int64_t DH = sd == 2 ? c->d[0] : 1, DW = sd == 2 ? c->d[1] : c->d[0];
        int64_t PT = sd == 2 ? B[0] : 0, PL = sd == 2 ? B[1] : B[0];
        int64_t cpg = c->cin / c->groups, opg = c->cout / c->groups;
        int bad = 0;
        for (int64_t n = 0; n < c->n; n++)
            for (int64_t oc = 0; oc < c->cout; oc++)
                for (int64_t oh = 0; oh < OH; oh++)
                    for (int64_t ow = 0; ow < OW; ow++) {
                        double acc = with_bias ? b[oc] : 0;
                        int64_t g = oc / opg;
                        for (int64_t ic = 0; ic < cpg; ic++)
                            for (int64_t kh = 0; kh < KH; kh++)
                                for (int64_t kw = 0; kw < KW; kw++) {
                                    int64_t ih = oh * SH + kh * DH - PT, iw = ow * SW + kw * DW - PL;
                                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                    acc += (double)x[((n * c->cin + g * cpg + ic) * H + ih) * W + iw] *
                                           w[((oc * cpg + ic) * KH + kh) * KW + kw];
                                }
                        double got = tg_of(&t, 0)[((n * c->cout + oc) * OH + oh) * OW + ow];
                        if (fabs(got - acc) > 1e-4 * (1 + fabs(acc))) bad++;
                    }
        CHECK_MSG(bad == 0,
                  "conv %dD %s n=%lld cin=%lld cout=%lld groups=%lld D=%lldx%lld K=%lldx%lld "
                  "s=%lldx%lld d=%lldx%lld: %d mismatches",
                  sd, c->pad_type, (long long)c->n, (long long)c->cin, (long long)c->cout,
                  (long long)c->groups, (long long)c->D[0], (long long)c->D[1], (long long)c->K[0],
                  (long long)c->K[1], (long long)c->s[0], (long long)c->s[1], (long long)c->d[0],
                  (long long)c->d[1], bad);
    }
    tg_free(&t);
    free(x), free(w), free(b);
}

static void test_conv(void) {
    static const char *pts[] = {"valid", "same", "same_lower", "custom"};
    for (int trial = 0; trial < 48; trial++) {
        conv_cfg c;
        memset(&c, 0, sizeof c);
        c.sd = tg_randi(1, 2);
        c.groups = tg_randi(0, 2) == 0 ? tg_randi(1, 3) : 1;
        bool depthwise = trial % 5 == 0;
        c.n = tg_randi(1, 2);
        c.cin = c.groups * tg_randi(1, 3);
        c.cout = c.groups * tg_randi(1, 3);
        if (depthwise) c.groups = c.cin = c.cout = tg_randi(2, 6);
        c.pad_type = pts[trial % 4];
        for (int i = 0; i < 2; i++) {
            c.K[i] = tg_randi(1, 4);
            c.s[i] = tg_randi(1, 3);
            c.d[i] = tg_randi(1, 2);
            c.pad[2 * i] = tg_randi(0, 2);
            c.pad[2 * i + 1] = tg_randi(0, 2);
            c.D[i] = (c.K[i] - 1) * c.d[i] + 1 + tg_randi(0, 6);
        }
        run_conv_case(&c, trial % 3 != 0);
    }
    /* the spec's example: D = 4, K = 2, s = 1 -> same pads (0, 1), same_lower (1, 0) */
    float x[4] = {1, 2, 3, 4}, w[2] = {10, 1};
    int64_t xs[3] = {1, 1, 4}, ws[3] = {1, 1, 2};
    float want_same[4] = {12, 23, 34, 40}, want_lower[4] = {1, 12, 23, 34};
    for (int k = 0; k < 2; k++) {
        tg t;
        tg_init(&t, "conv", 16);
        tg_param(&t, "x", tg_f32(&t, "x", 3, xs, x, false));
        tg_param(&t, "weight", tg_f32(&t, "w", 3, ws, w, true));
        tg_param(&t, "pad_type", tg_str(&t, "pt", k ? "same_lower" : "same"));
        tg_out(&t, 1);
        CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
        for (int i = 0; i < 4; i++) CHECK_NEAR(tg_of(&t, 0)[i], k ? want_lower[i] : want_same[i], 1e-5);
        tg_free(&t);
    }
    /* a weight rank that does not match x (3-D x) and bad groups are clean errors */
    float z[64] = {0};
    int64_t x5[5] = {1, 1, 2, 2, 2}, x4[4] = {1, 3, 4, 4}, w4[4] = {2, 1, 1, 1};
    tg t;
    tg_init(&t, "conv", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 5, x5, z, false));
    tg_param(&t, "weight", tg_f32(&t, "w", 4, w4, z, true));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    tg_free(&t);
    tg_init(&t, "conv", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 4, x4, z, false));
    tg_param(&t, "weight", tg_f32(&t, "w", 4, w4, z, true));
    tg_param(&t, "groups", tg_scalar_i(&t, "g", 2));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    tg_free(&t);
}

static void test_conv_transpose(void) {
    for (int trial = 0; trial < 24; trial++) {
        int sd = tg_randi(1, 2);
        int64_t groups = tg_randi(1, 2), n = tg_randi(1, 2);
        int64_t cin = groups * tg_randi(1, 3), cout = groups * tg_randi(1, 3);
        int64_t D[2] = {tg_randi(1, 5), tg_randi(1, 5)}, K[2] = {tg_randi(1, 3), tg_randi(1, 3)};
        int64_t S[2] = {tg_randi(1, 3), tg_randi(1, 3)}, DL[2] = {tg_randi(1, 2), tg_randi(1, 2)};
        int64_t P[4] = {0, 0, 0, 0};
        bool custom = trial % 2;
        for (int i = 0; i < 2 * sd && custom; i++) P[i] = tg_randi(0, 1);
        for (int i = 0; i < sd; i++) /* keep the output non-empty */
            if ((D[i] - 1) * S[i] + (K[i] - 1) * DL[i] + 1 - P[2 * i] - P[2 * i + 1] < 1) D[i] += 2;
        int64_t xs[4] = {n, cin, D[0], D[1]}, ws[4] = {cin, cout / groups, K[0], K[1]};
        int64_t nx = n * cin * D[0] * (sd == 2 ? D[1] : 1), nw = cin * (cout / groups) * K[0] * (sd == 2 ? K[1] : 1);
        float *x = tg_rand_buf(nx), *w = tg_rand_buf(nw), *b = tg_rand_buf(cout);
        int32_t s32[2] = {(int32_t)S[0], (int32_t)S[1]}, d32[2] = {(int32_t)DL[0], (int32_t)DL[1]};
        int32_t p32[4] = {(int32_t)P[0], (int32_t)P[1], (int32_t)P[2], (int32_t)P[3]};
        tg t;
        tg_init(&t, "conv_transpose", 17);
        tg_param(&t, "x", tg_f32(&t, "x", 2 + sd, xs, x, false));
        tg_param(&t, "weight", tg_f32(&t, "w", 2 + sd, ws, w, true));
        tg_param(&t, "bias", tg_f32(&t, "b", 1, &cout, b, true));
        tg_param(&t, "strides", tg_i32s(&t, "s", sd, s32));
        tg_param(&t, "dilations", tg_i32s(&t, "d", sd, d32));
        tg_param(&t, "pad", tg_i32s(&t, "p", 2 * sd, p32));
        tg_param(&t, "pad_type", tg_str(&t, "pt", custom ? "custom" : "valid"));
        tg_param(&t, "groups", tg_scalar_i(&t, "g", (int32_t)groups));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "conv_transpose: %s", t.err.msg);
        if (st == CML_OK) {
            int64_t H = sd == 2 ? D[0] : 1, W = sd == 2 ? D[1] : D[0];
            int64_t KH = sd == 2 ? K[0] : 1, KW = sd == 2 ? K[1] : K[0];
            int64_t SH = sd == 2 ? S[0] : 1, SW = sd == 2 ? S[1] : S[0];
            int64_t DH = sd == 2 ? DL[0] : 1, DW = sd == 2 ? DL[1] : DL[0];
            int64_t PT = sd == 2 ? P[0] : 0, PB = sd == 2 ? P[1] : 0;
            int64_t PL = sd == 2 ? P[2] : P[0], PR = sd == 2 ? P[3] : P[1];
            int64_t OH = (H - 1) * SH + (KH - 1) * DH + 1 - PT - PB, OW = (W - 1) * SW + (KW - 1) * DW + 1 - PL - PR;
            int64_t on = n * cout * OH * OW, cpg = cin / groups, opg = cout / groups;
            double *ref = calloc((size_t)on, sizeof(double));
            for (int64_t in = 0; in < n; in++)
                for (int64_t oc = 0; oc < cout; oc++)
                    for (int64_t i = 0; i < OH * OW; i++) ref[(in * cout + oc) * OH * OW + i] = b[oc];
            for (int64_t in = 0; in < n; in++)
                for (int64_t ic = 0; ic < cin; ic++)
                    for (int64_t ih = 0; ih < H; ih++)
                        for (int64_t iw = 0; iw < W; iw++)
                            for (int64_t co = 0; co < opg; co++)
                                for (int64_t kh = 0; kh < KH; kh++)
                                    for (int64_t kw = 0; kw < KW; kw++) {
                                        int64_t oh = ih * SH + kh * DH - PT, ow = iw * SW + kw * DW - PL;
                                        if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                                        int64_t oc = (ic / cpg) * opg + co;
                                        ref[((in * cout + oc) * OH + oh) * OW + ow] +=
                                            (double)x[((in * cin + ic) * H + ih) * W + iw] *
                                            w[((ic * opg + co) * KH + kh) * KW + kw];
                                    }
            CHECK(cml_mil_numel(tg_o(&t, 0)) == on);
            int bad = 0;
            for (int64_t i = 0; i < on; i++)
                if (fabs(tg_of(&t, 0)[i] - ref[i]) > 1e-4 * (1 + fabs(ref[i]))) bad++;
            CHECK_MSG(bad == 0, "conv_transpose %dD: %d mismatches", sd, bad);
            free(ref);
        }
        tg_free(&t);
        free(x), free(w), free(b);
    }
}

/* ---- pooling ---------------------------------------------------------------- */

static void run_pool_case(const char *op, int sd, const int64_t *D, const int64_t *K,
                          const int64_t *S, const int64_t *P, const char *pt, bool ceil_mode,
                          bool exclude) {
    int64_t N = 2, C = 3, xs[4] = {N, C, D[0], D[1]};
    int64_t H = sd == 2 ? D[0] : 1, W = sd == 2 ? D[1] : D[0], nx = N * C * H * W;
    float *x = tg_rand_buf(nx);
    int32_t k32[2] = {(int32_t)K[0], (int32_t)K[1]}, s32[2] = {(int32_t)S[0], (int32_t)S[1]};
    int32_t p32[4] = {(int32_t)P[0], (int32_t)P[1], (int32_t)P[2], (int32_t)P[3]};
    tg t;
    tg_init(&t, op, 16);
    tg_param(&t, "x", tg_f32(&t, "x", 2 + sd, xs, x, false));
    tg_param(&t, "kernel_sizes", tg_i32s(&t, "k", sd, k32));
    tg_param(&t, "strides", tg_i32s(&t, "s", sd, s32));
    tg_param(&t, "pad", tg_i32s(&t, "p", 2 * sd, p32));
    tg_param(&t, "pad_type", tg_str(&t, "pt", pt));
    tg_param(&t, "ceil_mode", tg_scalar_b(&t, "c", ceil_mode));
    if (!strcmp(op, "avg_pool")) tg_param(&t, "exclude_padding_from_average", tg_scalar_b(&t, "e", exclude));
    tg_out(&t, 1);
    cml_status st = tg_infer(&t);
    if (st == CML_OK) st = tg_run(&t);
    CHECK_MSG(st == CML_OK, "%s: %s", op, t.err.msg);
    if (st == CML_OK) {
        int64_t O[2] = {1, 1}, B[2] = {0, 0}, PA[2] = {0, 0};
        for (int i = 0; i < sd; i++) {
            int64_t pb = !strcmp(pt, "custom") ? P[2 * i] : 0, pa = !strcmp(pt, "custom") ? P[2 * i + 1] : 0;
            if (ceil_mode && strcmp(pt, "same")) {
                O[i] = (D[i] + pb + pa - K[i] + S[i] - 1) / S[i] + 1;
                if (pb + pa > 0 && (O[i] - 1) * S[i] >= D[i] + pb) O[i]--;
                B[i] = pb;
                PA[i] = pa;
            } else {
                ref_window(pt, D[i], K[i], S[i], 1, pb, pa, &O[i], &B[i]);
                PA[i] = (O[i] - 1) * S[i] + K[i] - D[i] - B[i];
            }
        }
        int64_t OH = sd == 2 ? O[0] : 1, OW = sd == 2 ? O[1] : O[0];
        int64_t KH = sd == 2 ? K[0] : 1, KW = sd == 2 ? K[1] : K[0];
        int64_t SH = sd == 2 ? S[0] : 1, SW = sd == 2 ? S[1] : S[0];
        int64_t PT = sd == 2 ? B[0] : 0, PL = sd == 2 ? B[1] : B[0];
        int64_t PBt = sd == 2 ? PA[0] : 0, PR = sd == 2 ? PA[1] : PA[0];
        int64_t os[4] = {N, C, O[0], O[1]};
        CHECK_MSG(tg_shape_is(tg_o(&t, 0), 2 + sd, os), "%s %s ceil=%d out shape", op, pt, ceil_mode);
        int bad = 0;
        for (int64_t nc = 0; nc < N * C && tg_shape_is(tg_o(&t, 0), 2 + sd, os); nc++)
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    double mx = -INFINITY, sum = 0, sq = 0;
                    int64_t cnt = 0, cnt_pad = 0;
                    for (int64_t kh = 0; kh < KH; kh++)
                        for (int64_t kw = 0; kw < KW; kw++) {
                            int64_t ih = oh * SH + kh - PT, iw = ow * SW + kw - PL;
                            /* window clipped to the padded input counts for the average */
                            if (ih >= -PT && ih < H + PBt && iw >= -PL && iw < W + PR) cnt_pad++;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                            double v = x[(nc * H + ih) * W + iw];
                            mx = fmax(mx, v), sum += v, sq += v * v, cnt++;
                        }
                    double want = !strcmp(op, "max_pool") ? mx
                                  : !strcmp(op, "l2_pool") ? sqrt(sq)
                                  : (exclude ? cnt : cnt_pad) ? sum / (double)(exclude ? cnt : cnt_pad) : 0;
                    double got = tg_of(&t, 0)[(nc * OH + oh) * OW + ow];
                    /* a window wholly past the input (ceil_mode, stride > kernel, no pad):
                     * max pool gives -inf, avg pool 0 */
                    if (isinf(want) && got == want) continue;
                    if (!(fabs(got - want) <= 1e-5 * (1 + fabs(want)))) bad++;
                }
        CHECK_MSG(bad == 0, "%s %dD %s ceil=%d excl=%d D=%lldx%lld K=%lldx%lld S=%lldx%lld P=%lld,%lld: %d mismatches", op, sd, pt, ceil_mode, exclude, (long long)D[0], (long long)D[1], (long long)K[0], (long long)K[1], (long long)S[0], (long long)S[1], (long long)P[0], (long long)P[2], bad);
    }
    tg_free(&t);
    free(x);
}

static void test_pool(void) {
    static const char *ops[] = {"max_pool", "avg_pool", "l2_pool"};
    static const char *pts[] = {"valid", "same", "same_lower", "custom"};
    for (int trial = 0; trial < 60; trial++) {
        int sd = tg_randi(1, 2);
        int64_t K[2] = {tg_randi(1, 3), tg_randi(1, 3)}, S[2] = {tg_randi(1, 3), tg_randi(1, 3)};
        int64_t D[2] = {K[0] + tg_randi(0, 5), K[1] + tg_randi(0, 5)}, P[4] = {0, 0, 0, 0};
        const char *pt = pts[trial % 4];
        bool ceil_mode = trial % 3 == 0 && strcmp(pt, "same") && strcmp(pt, "same_lower");
        for (int i = 0; i < 2; i++) {
            /* symmetric pads below the kernel size (torch's rule) */
            int64_t p = tg_randi(0, (int)(K[i] / 2));
            P[2 * i] = P[2 * i + 1] = p;
        }
        run_pool_case(ops[trial % 3], sd, D, K, S, P, pt, ceil_mode, trial % 2);
    }
    /* ceil_mode example: D = 5, K = 2, s = 2 -> 3 outputs (the last window is partial) */
    int64_t D[2] = {5, 5}, K[2] = {2, 2}, S[2] = {2, 2}, P0[4] = {0, 0, 0, 0}, P1[4] = {1, 1, 1, 1};
    run_pool_case("max_pool", 2, D, K, S, P0, "valid", true, false);
    run_pool_case("avg_pool", 2, D, K, S, P0, "custom", true, false);
    run_pool_case("avg_pool", 2, D, K, S, P1, "custom", true, true);
    run_pool_case("avg_pool", 2, D, K, S, P1, "custom", true, false);
    /* D = 4, K = 2, s = 2, pad 1: ceil gives 3 (not 4: the last window would start in the pad) */
    int64_t D4[2] = {4, 4};
    run_pool_case("max_pool", 2, D4, K, S, P1, "custom", true, false);
}

int main(void) {
    test_conv();
    test_conv_transpose();
    test_pool();
    TEST_MAIN_END();
}
