/* Resampling (upsample_*, resize_*, resize), recurrent ops (lstm, gru,
 * rnn) and quantize / dequantize against naive references. */
#include "test_mil_ops_util.h"

static cml_status go(tg *t, uint32_t nout) {
    tg_out(t, nout);
    cml_status st = tg_infer(t);
    if (st == CML_OK) st = tg_run(t);
    return st;
}

/* ---- resampling ------------------------------------------------------------------- */

static void test_resize_grid_examples(void) {
    /* x = [0, 1] along W, so the output is the sampling grid itself (coremltools' examples) */
    float x[2] = {0, 1};
    int64_t xs[4] = {1, 1, 1, 2};
    struct {
        const char *mode;
        int out;
        float want[6];
    } cases[] = {
        {"UNALIGN_CORNERS", 5, {0, 0.1f, 0.5f, 0.9f, 1}},
        {"STRICT_ALIGN_CORNERS", 5, {0, 0.25f, 0.5f, 0.75f, 1}},
        {"ALIGN_CORNERS", 5, {0, 0.25f, 0.5f, 0.75f, 1}},
        {"DEFAULT", 5, {0, 0.4f, 0.8f, 1, 1}},
        {"OFFSET_CORNERS", 5, {0.1f, 0.3f, 0.5f, 0.7f, 0.9f}},
        {"UNALIGN_CORNERS", 6, {0, 0, 1.0f / 3, 2.0f / 3, 1, 1}},
        {"DEFAULT", 6, {0, 1.0f / 3, 2.0f / 3, 1, 1, 1}},
        {"OFFSET_CORNERS", 6, {1.0f / 12, 0.25f, 5.0f / 12, 7.0f / 12, 0.75f, 11.0f / 12}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tg t;
        tg_init(&t, "resize_bilinear", 15);
        tg_param(&t, "x", tg_f32(&t, "x", 4, xs, x, false));
        tg_param(&t, "target_size_height", tg_scalar_i(&t, "h", 1));
        tg_param(&t, "target_size_width", tg_scalar_i(&t, "w", cases[k].out));
        tg_param(&t, "sampling_mode", tg_str(&t, "m", cases[k].mode));
        CHECK_MSG(go(&t, 1) == CML_OK, "%s", t.err.msg);
        for (int i = 0; i < cases[k].out; i++)
            CHECK_MSG(fabsf(tg_of(&t, 0)[i] - cases[k].want[i]) < 1e-5f, "%s out=%d [%d] = %g", cases[k].mode,
                      cases[k].out, i, tg_of(&t, 0)[i]);
        tg_free(&t);
    }
    /* ALIGN_CORNERS with one output samples the center */
    tg t;
    tg_init(&t, "resize_bilinear", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 4, xs, x, false));
    tg_param(&t, "target_size_height", tg_scalar_i(&t, "h", 1));
    tg_param(&t, "target_size_width", tg_scalar_i(&t, "w", 1));
    tg_param(&t, "sampling_mode", tg_str(&t, "m", "ALIGN_CORNERS"));
    CHECK(go(&t, 1) == CML_OK);
    CHECK_NEAR(tg_of(&t, 0)[0], 0.5, 1e-6);
    tg_free(&t);
}

static double bilin_ref(const float *p, int64_t H, int64_t W, double gy, double gx) {
    int64_t y0 = (int64_t)floor(gy), x0 = (int64_t)floor(gx);
    int64_t y1 = y0 + 1 < H ? y0 + 1 : H - 1, x1 = x0 + 1 < W ? x0 + 1 : W - 1;
    double fy = gy - y0, fx = gx - x0;
    double top = p[y0 * W + x0] * (1 - fx) + p[y0 * W + x1] * fx;
    double bot = p[y1 * W + x0] * (1 - fx) + p[y1 * W + x1] * fx;
    return top * (1 - fy) + bot * fy;
}

static void test_upsample(void) {
    /* nearest, integer scale: [1.5, 2.5, 3.5] x2 repeats */
    float x[3] = {1.5f, 2.5f, 3.5f};
    int64_t xs[3] = {1, 1, 3};
    tg t;
    tg_init(&t, "upsample_nearest_neighbor", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 3, xs, x, false));
    tg_param(&t, "scale_factor_height", tg_scalar_i(&t, "sh", 2));
    tg_param(&t, "scale_factor_width", tg_scalar_i(&t, "sw", 2));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 3, (int64_t[]){1, 2, 6}));
    float want[6] = {1.5f, 1.5f, 2.5f, 2.5f, 3.5f, 3.5f};
    for (int i = 0; i < 12; i++) CHECK(tg_of(&t, 0)[i] == want[i % 6]);
    tg_free(&t);
    /* bilinear, align_corners True / False, random sizes, fractional scale */
    for (int trial = 0; trial < 8; trial++) {
        bool ac = trial % 2;
        int64_t H = tg_randi(1, 5), W = tg_randi(2, 5), n = 2 * H * W;
        float sh = (float)tg_randi(1, 3) + (trial % 3 == 0 ? 0.5f : 0), sw = (float)tg_randi(1, 3);
        int64_t ys[4] = {1, 2, H, W};
        float *y = tg_rand_buf(n);
        tg_init(&t, "upsample_bilinear", 16);
        tg_param(&t, "x", tg_f32(&t, "x", 4, ys, y, false));
        tg_param(&t, "scale_factor_height", tg_scalar_f(&t, "sh", sh));
        tg_param(&t, "scale_factor_width", tg_scalar_f(&t, "sw", sw));
        tg_param(&t, "align_corners", tg_scalar_b(&t, "ac", ac));
        CHECK(go(&t, 1) == CML_OK);
        int64_t OH = (int64_t)floor(H * sh), OW = (int64_t)floor(W * sw);
        CHECK(tg_shape_is(tg_o(&t, 0), 4, (int64_t[]){1, 2, OH, OW}));
        int bad = 0;
        for (int64_t c = 0; c < 2; c++)
            for (int64_t i = 0; i < OH; i++)
                for (int64_t j = 0; j < OW; j++) {
                    double gy, gx;
                    if (ac) {
                        gy = OH > 1 ? i * (H - 1.0) / (OH - 1) : 0;
                        gx = OW > 1 ? j * (W - 1.0) / (OW - 1) : 0;
                    } else {
                        gy = fmin(fmax((i + 0.5) * H / OH - 0.5, 0), H - 1);
                        gx = fmin(fmax((j + 0.5) * W / OW - 0.5, 0), W - 1);
                    }
                    double want_v = bilin_ref(y + c * H * W, H, W, gy, gx);
                    if (fabs(tg_of(&t, 0)[(c * OH + i) * OW + j] - want_v) > 1e-5) bad++;
                }
        CHECK_MSG(bad == 0, "upsample_bilinear ac=%d: %d mismatches", ac, bad);
        tg_free(&t);
        free(y);
    }
    /* resize_nearest_neighbor and iOS17 resize (NEAREST / LINEAR, 0 keeps a dim) */
    float z[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int64_t zs[3] = {1, 2, 4};
    tg_init(&t, "resize_nearest_neighbor", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 3, zs, z, false));
    tg_param(&t, "target_size_height", tg_scalar_i(&t, "h", 4));
    tg_param(&t, "target_size_width", tg_scalar_i(&t, "w", 2));
    CHECK(go(&t, 1) == CML_OK);
    float wn[8] = {1, 3, 1, 3, 5, 7, 5, 7};
    for (int i = 0; i < 8; i++) CHECK(tg_of(&t, 0)[i] == wn[i]);
    tg_free(&t);
    tg_init(&t, "resize", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 3, zs, z, false));
    tg_param(&t, "shape", tg_i32s(&t, "s", 2, (int32_t[]){0, 2}));
    tg_param(&t, "resized_dims", tg_value(&t, "rd", CML_DTYPE_UINT32, false, 0, NULL, (uint32_t[]){2}, true));
    tg_param(&t, "interpolation_mode", tg_str(&t, "im", "NEAREST_NEIGHBOR"));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 3, (int64_t[]){1, 2, 2}));
    float wr[4] = {1, 3, 5, 7};
    for (int i = 0; i < 4; i++) CHECK(tg_of(&t, 0)[i] == wr[i]);
    tg_free(&t);
}

/* ---- recurrent ------------------------------------------------------------------------ */

static double sgm(double x) { return 1 / (1 + exp(-x)); }

static void test_lstm(void) {
    for (int trial = 0; trial < 12; trial++) {
        int dir = trial % 3; /* forward, reverse, bidirectional */
        int64_t S = tg_randi(1, 4), B = tg_randi(1, 3), I = tg_randi(1, 5), H = tg_randi(1, 4);
        int D = dir == 2 ? 2 : 1;
        bool seq = trial % 2, peep = trial % 4 == 1;
        float clip = trial % 5 == 0 ? 0.3f : 0;
        int64_t xs[3] = {S, B, I}, hs[2] = {B, D * H}, wih[2] = {4 * H, I}, whh[2] = {4 * H, H};
        int64_t bs = 4 * H, ps = 3 * H;
        float *x = tg_rand_buf(S * B * I), *h0 = tg_rand_buf(B * D * H), *c0 = tg_rand_buf(B * D * H);
        float *w[2][4];
        for (int d = 0; d < 2; d++) {
            w[d][0] = tg_rand_buf(4 * H * I), w[d][1] = tg_rand_buf(4 * H * H);
            w[d][2] = tg_rand_buf(4 * H), w[d][3] = tg_rand_buf(3 * H);
        }
        tg t;
        tg_init(&t, "lstm", 17);
        tg_param(&t, "x", tg_f32(&t, "x", 3, xs, x, false));
        tg_param(&t, "initial_h", tg_f32(&t, "h0", 2, hs, h0, false));
        tg_param(&t, "initial_c", tg_f32(&t, "c0", 2, hs, c0, false));
        tg_param(&t, "weight_ih", tg_f32(&t, "wih", 2, wih, w[0][0], true));
        tg_param(&t, "weight_hh", tg_f32(&t, "whh", 2, whh, w[0][1], true));
        tg_param(&t, "bias", tg_f32(&t, "b", 1, &bs, w[0][2], true));
        if (peep) tg_param(&t, "peephole", tg_f32(&t, "p", 1, &ps, w[0][3], true));
        if (D == 2) {
            tg_param(&t, "weight_ih_back", tg_f32(&t, "wihb", 2, wih, w[1][0], true));
            tg_param(&t, "weight_hh_back", tg_f32(&t, "whhb", 2, whh, w[1][1], true));
            tg_param(&t, "bias_back", tg_f32(&t, "bb", 1, &bs, w[1][2], true));
            if (peep) tg_param(&t, "peephole_back", tg_f32(&t, "pb", 1, &ps, w[1][3], true));
        }
        tg_param(&t, "direction", tg_str(&t, "dir", dir == 0 ? "forward" : dir == 1 ? "reverse" : "bidirectional"));
        tg_param(&t, "output_sequence", tg_scalar_b(&t, "seq", seq));
        if (clip > 0) tg_param(&t, "clip", tg_scalar_f(&t, "clip", clip));
        cml_status st = go(&t, 3);
        CHECK_MSG(st == CML_OK, "lstm: %s", t.err.msg);
        /* reference */
        int64_t OS = seq ? S : 1;
        double *out = calloc((size_t)(OS * B * D * H), sizeof(double));
        double *hf = calloc((size_t)(B * D * H), sizeof(double)), *cf = calloc((size_t)(B * D * H), sizeof(double));
        for (int d = 0; d < D; d++)
            for (int64_t b = 0; b < B; b++) {
                double h[8], c[8], g[32];
                for (int64_t j = 0; j < H; j++) h[j] = h0[b * D * H + d * H + j], c[j] = c0[b * D * H + d * H + j];
                bool back = d == 1 || dir == 1;
                for (int64_t k = 0; k < S; k++) {
                    int64_t tt = back ? S - 1 - k : k;
                    for (int64_t q = 0; q < 4 * H; q++) {
                        double acc = w[d][2][q];
                        for (int64_t i = 0; i < I; i++) acc += (double)w[d][0][q * I + i] * x[(tt * B + b) * I + i];
                        for (int64_t i = 0; i < H; i++) acc += (double)w[d][1][q * H + i] * h[i];
                        g[q] = acc;
                    }
                    const float *p = w[d][3];
                    for (int64_t j = 0; j < H; j++) {
                        double ig = sgm(g[j] + (peep ? p[j] * c[j] : 0));
                        double fg = sgm(g[H + j] + (peep ? p[H + j] * c[j] : 0));
                        double cg = tanh(g[3 * H + j]);
                        c[j] = fg * c[j] + ig * cg;
                        if (clip > 0) c[j] = fmin(fmax(c[j], -clip), clip);
                        double og = sgm(g[2 * H + j] + (peep ? p[2 * H + j] * c[j] : 0));
                        h[j] = og * tanh(c[j]);
                    }
                    int64_t pos = d == 1 ? tt : k;
                    if (seq)
                        for (int64_t j = 0; j < H; j++) out[(pos * B + b) * D * H + d * H + j] = h[j];
                }
                for (int64_t j = 0; j < H; j++) {
                    if (!seq) out[b * D * H + d * H + j] = h[j];
                    hf[b * D * H + d * H + j] = h[j], cf[b * D * H + d * H + j] = c[j];
                }
            }
        int bad = 0;
        for (int64_t i = 0; st == CML_OK && i < OS * B * D * H; i++)
            if (fabs(tg_of(&t, 0)[i] - out[i]) > 1e-5) bad++;
        for (int64_t i = 0; st == CML_OK && i < B * D * H; i++)
            if (fabs(tg_of(&t, 1)[i] - hf[i]) > 1e-5 || fabs(tg_of(&t, 2)[i] - cf[i]) > 1e-5) bad++;
        CHECK_MSG(bad == 0, "lstm dir=%d seq=%d peep=%d clip=%g: %d mismatches", dir, seq, peep, clip, bad);
        tg_free(&t);
        free(x), free(h0), free(c0), free(out), free(hf), free(cf);
        for (int d = 0; d < 2; d++)
            for (int q = 0; q < 4; q++) free(w[d][q]);
    }
}

static void test_gru_rnn(void) {
    for (int trial = 0; trial < 12; trial++) {
        bool is_rnn = trial % 3 == 2, reset_after = trial % 3 == 1, rev = trial % 2, seq = trial % 4 < 2;
        int64_t G = is_rnn ? 1 : 3;
        int64_t S = tg_randi(1, 4), B = tg_randi(1, 3), I = tg_randi(1, 5), H = tg_randi(1, 4);
        int64_t xs[3] = {S, B, I}, hs[2] = {B, H}, wih[2] = {G * H, I}, whh[2] = {G * H, H}, bs = G * H;
        float *x = tg_rand_buf(S * B * I), *h0 = tg_rand_buf(B * H), *wi = tg_rand_buf(G * H * I);
        float *wh = tg_rand_buf(G * H * H), *bh = tg_rand_buf(G * H), *bi = tg_rand_buf(G * H);
        tg t;
        tg_init(&t, is_rnn ? "rnn" : "gru", 18);
        tg_param(&t, "x", tg_f32(&t, "x", 3, xs, x, false));
        tg_param(&t, "initial_h", tg_f32(&t, "h0", 2, hs, h0, false));
        tg_param(&t, "weight_ih", tg_f32(&t, "wih", 2, wih, wi, true));
        tg_param(&t, "weight_hh", tg_f32(&t, "whh", 2, whh, wh, true));
        tg_param(&t, "bias", tg_f32(&t, "b", 1, &bs, bh, true));
        if (reset_after) {
            tg_param(&t, "reset_after", tg_scalar_b(&t, "ra", true));
            tg_param(&t, "input_bias", tg_f32(&t, "ib", 1, &bs, bi, true));
        }
        tg_param(&t, "direction", tg_str(&t, "dir", rev ? "reverse" : "forward"));
        tg_param(&t, "output_sequence", tg_scalar_b(&t, "seq", seq));
        cml_status st = go(&t, 2);
        CHECK_MSG(st == CML_OK, "%s: %s", is_rnn ? "rnn" : "gru", t.err.msg);
        int64_t OS = seq ? S : 1;
        double *out = calloc((size_t)(OS * B * H), sizeof(double)), *hf = calloc((size_t)(B * H), sizeof(double));
        for (int64_t b = 0; b < B; b++) {
            double h[8], xi[32], hh[32], rh[8];
            for (int64_t j = 0; j < H; j++) h[j] = h0[b * H + j];
            for (int64_t k = 0; k < S; k++) {
                int64_t tt = rev ? S - 1 - k : k;
                for (int64_t q = 0; q < G * H; q++) {
                    xi[q] = reset_after ? bi[q] : bh[q];
                    hh[q] = reset_after ? bh[q] : 0;
                    for (int64_t i = 0; i < I; i++) xi[q] += (double)wi[q * I + i] * x[(tt * B + b) * I + i];
                    for (int64_t i = 0; i < H; i++) hh[q] += (double)wh[q * H + i] * h[i];
                }
                if (is_rnn) {
                    for (int64_t j = 0; j < H; j++) h[j] = tanh(xi[j] + hh[j]);
                } else {
                    double r[8], z[8], o[8];
                    for (int64_t j = 0; j < H; j++) {
                        r[j] = sgm(xi[j] + hh[j]);
                        z[j] = sgm(xi[2 * H + j] + hh[2 * H + j]);
                        rh[j] = r[j] * h[j];
                    }
                    for (int64_t j = 0; j < H; j++) {
                        if (reset_after) {
                            o[j] = tanh(xi[H + j] + r[j] * hh[H + j]);
                        } else {
                            double acc = xi[H + j];
                            for (int64_t i = 0; i < H; i++) acc += (double)wh[(H + j) * H + i] * rh[i];
                            o[j] = tanh(acc);
                        }
                    }
                    for (int64_t j = 0; j < H; j++) h[j] = (1 - z[j]) * o[j] + z[j] * h[j];
                }
                if (seq)
                    for (int64_t j = 0; j < H; j++) out[(k * B + b) * H + j] = h[j];
            }
            for (int64_t j = 0; j < H; j++) {
                if (!seq) out[b * H + j] = h[j];
                hf[b * H + j] = h[j];
            }
        }
        int bad = 0;
        for (int64_t i = 0; st == CML_OK && i < OS * B * H; i++)
            if (fabs(tg_of(&t, 0)[i] - out[i]) > 1e-5) bad++;
        for (int64_t i = 0; st == CML_OK && i < B * H; i++)
            if (fabs(tg_of(&t, 1)[i] - hf[i]) > 1e-5) bad++;
        CHECK_MSG(bad == 0, "%s reset_after=%d rev=%d seq=%d: %d mismatches", is_rnn ? "rnn" : "gru",
                  reset_after, rev, seq, bad);
        tg_free(&t);
        free(x), free(h0), free(wi), free(wh), free(bh), free(bi), free(out), free(hf);
    }
}

/* ---- quantize / dequantize --------------------------------------------------------------- */

static void test_quant(void) {
    /* per-tensor int8: round half to even, clip */
    float x[8] = {0.25f, 0.75f, -0.25f, 1.25f, 100.0f, -100.0f, 0.5f, -0.75f};
    int64_t s8 = 8;
    tg t;
    tg_init(&t, "quantize", 17);
    tg_param(&t, "input", tg_f32(&t, "x", 1, &s8, x, false));
    tg_param(&t, "scale", tg_scalar_f(&t, "s", 0.5f));
    tg_param(&t, "zero_point", tg_value(&t, "z", CML_DTYPE_INT8, false, 0, NULL, (int8_t[]){3}, true));
    tg_param(&t, "output_dtype", tg_str(&t, "o", "int8"));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->dtype == CML_DTYPE_INT8);
    /* x / 0.5 = 0.5, 1.5, -0.5, 2.5, 200, -200, 1, -1.5 -> round-even 0, 2, -0, 2 ... + 3 */
    int8_t want[8] = {3, 5, 3, 5, 127, -128, 4, 1};
    for (int i = 0; i < 8; i++)
        CHECK_MSG(((int8_t *)tg_o(&t, 0)->data)[i] == want[i], "quantize[%d] = %d", i, ((int8_t *)tg_o(&t, 0)->data)[i]);
    tg_free(&t);
    /* uint8 without zero point */
    tg_init(&t, "quantize", 17);
    tg_param(&t, "input", tg_f32(&t, "x", 1, &s8, x, false));
    tg_param(&t, "scale", tg_scalar_f(&t, "s", 0.25f));
    tg_param(&t, "output_dtype", tg_str(&t, "o", "uint8"));
    CHECK(go(&t, 1) == CML_OK);
    uint8_t wu[8] = {1, 3, 0, 5, 255, 0, 2, 0};
    for (int i = 0; i < 8; i++) CHECK(((uint8_t *)tg_o(&t, 0)->data)[i] == wu[i]);
    tg_free(&t);
    /* per-axis dequantize: [2, 3] uint8, axis 1 */
    uint8_t q[6] = {0, 10, 255, 128, 7, 1};
    float sc[3] = {0.5f, 2.0f, -1.0f};
    uint8_t zp[3] = {128, 0, 1};
    int64_t s23[2] = {2, 3}, s3 = 3;
    tg_init(&t, "dequantize", 17);
    tg_param(&t, "input", tg_value(&t, "q", CML_DTYPE_UINT8, false, 2, s23, q, false));
    tg_param(&t, "scale", tg_f32(&t, "s", 1, &s3, sc, true));
    tg_param(&t, "zero_point", tg_value(&t, "z", CML_DTYPE_UINT8, false, 1, &s3, zp, true));
    tg_param(&t, "axis", tg_scalar_i(&t, "a", 1));
    CHECK(go(&t, 1) == CML_OK);
    for (int i = 0; i < 6; i++) CHECK_NEAR(tg_of(&t, 0)[i], ((float)q[i] - zp[i % 3]) * sc[i % 3], 1e-6);
    tg_free(&t);
    /* a vector scale without axis is rejected */
    tg_init(&t, "dequantize", 17);
    tg_param(&t, "input", tg_value(&t, "q", CML_DTYPE_UINT8, false, 2, s23, q, false));
    tg_param(&t, "scale", tg_f32(&t, "s", 1, &s3, sc, true));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_INVALID_ARG);
    tg_free(&t);
}

/* ---- crop, sliding_windows, reverse_sequence, space_to_batch / batch_to_space ---------- */

static void test_movement(void) {
    float x[40];
    for (int i = 0; i < 40; i++) x[i] = (float)i;
    tg t;
    /* crop [1, 1, 4, 5] by height (1, 2), width (0, 3) -> [1, 1, 1, 2] */
    int64_t cs[4] = {1, 1, 4, 5};
    tg_init(&t, "crop", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 4, cs, x, false));
    tg_param(&t, "crop_height", tg_i32s(&t, "ch", 2, (int32_t[]){1, 2}));
    tg_param(&t, "crop_width", tg_i32s(&t, "cw", 2, (int32_t[]){0, 3}));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 4, (int64_t[]){1, 1, 1, 2}));
    CHECK(tg_of(&t, 0)[0] == 5 && tg_of(&t, 0)[1] == 6);
    tg_free(&t);
    /* sliding_windows [2, 5], axis 1, size 3, stride 2 -> [2, 2, 3] */
    int64_t ss[2] = {2, 5};
    tg_init(&t, "sliding_windows", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 2, ss, x, false));
    tg_param(&t, "axis", tg_scalar_i(&t, "a", -1));
    tg_param(&t, "size", tg_scalar_i(&t, "s", 3));
    tg_param(&t, "stride", tg_scalar_i(&t, "st", 2));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 3, (int64_t[]){2, 2, 3}));
    float wsw[12] = {0, 1, 2, 2, 3, 4, 5, 6, 7, 7, 8, 9};
    for (int i = 0; i < 12; i++) CHECK(tg_of(&t, 0)[i] == wsw[i]);
    tg_free(&t);
    /* reverse_sequence [4, 3], seq axis 0, batch axis 1, lengths [1, 2, 4] */
    int64_t rs[2] = {4, 3}, l3 = 3;
    int32_t lens[3] = {1, 2, 4};
    tg_init(&t, "reverse_sequence", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 2, rs, x, false));
    tg_param(&t, "lengths", tg_value(&t, "l", CML_DTYPE_INT32, false, 1, &l3, lens, false));
    tg_param(&t, "seq_axis", tg_scalar_i(&t, "sa", 0));
    tg_param(&t, "batch_axis", tg_scalar_i(&t, "ba", 1));
    CHECK(go(&t, 1) == CML_OK);
    float wrs[12] = {0, 4, 11, 3, 1, 8, 6, 7, 5, 9, 10, 2};
    for (int i = 0; i < 12; i++) CHECK_MSG(tg_of(&t, 0)[i] == wrs[i], "reverse_sequence[%d] = %g", i, tg_of(&t, 0)[i]);
    tg_free(&t);
    /* space_to_batch [2, 1, 3, 4], block (2, 2), paddings ((1, 0), (0, 0)) -> [8, 1, 2, 2] */
    int64_t bs[4] = {2, 1, 3, 4};
    tg_init(&t, "space_to_batch", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 4, bs, x, false));
    tg_param(&t, "block_shape", tg_i32s(&t, "b", 2, (int32_t[]){2, 2}));
    int64_t p22[2] = {2, 2};
    tg_param(&t, "paddings", tg_value(&t, "p", CML_DTYPE_INT32, false, 2, p22, (int32_t[]){1, 0, 0, 0}, true));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 4, (int64_t[]){8, 1, 2, 2}));
    int bad = 0;
    for (int64_t ob = 0; ob < 8; ob++)
        for (int64_t h = 0; h < 2; h++)
            for (int64_t w = 0; w < 2; w++) {
                int64_t b = ob % 2, blk = ob / 2, ih = blk / 2, iw = blk % 2;
                int64_t sh = h * 2 + ih - 1, sw = w * 2 + iw;
                float want = sh >= 0 ? x[(b * 3 + sh) * 4 + sw] : 0;
                if (tg_of(&t, 0)[(ob * 2 + h) * 2 + w] != want) bad++;
            }
    CHECK(bad == 0);
    float sb[32];
    memcpy(sb, tg_of(&t, 0), sizeof sb);
    tg_free(&t);
    /* batch_to_space with the same crops undoes it */
    int64_t bb[4] = {8, 1, 2, 2};
    tg_init(&t, "batch_to_space", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 4, bb, sb, false));
    tg_param(&t, "block_shape", tg_i32s(&t, "b", 2, (int32_t[]){2, 2}));
    tg_param(&t, "crops", tg_value(&t, "c", CML_DTYPE_INT32, false, 2, p22, (int32_t[]){1, 0, 0, 0}, true));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 4, bs));
    CHECK(memcmp(tg_of(&t, 0), x, sizeof(float) * 24) == 0);
    tg_free(&t);
}

static void test_nms(void) {
    /* 4 boxes (x, y, w, h); box 1 overlaps box 0 heavily, box 3 is another class */
    float boxes[16] = {0, 0, 2, 2, 0.1f, 0, 2, 2, 5, 5, 1, 1, 0.05f, 0.05f, 2, 2};
    float scores[8] = {0.9f, 0.1f, 0.8f, 0.0f, 0.7f, 0.2f, 0.1f, 0.85f}; /* K = 2 */
    int64_t bs[3] = {1, 4, 4}, ss[3] = {1, 4, 2};
    for (int per_class = 0; per_class < 2; per_class++) {
        tg t;
        tg_init(&t, "non_maximum_suppression", 15);
        tg_param(&t, "boxes", tg_f32(&t, "b", 3, bs, boxes, false));
        tg_param(&t, "scores", tg_f32(&t, "s", 3, ss, scores, false));
        tg_param(&t, "iou_threshold", tg_scalar_f(&t, "iou", 0.5f));
        tg_param(&t, "score_threshold", tg_scalar_f(&t, "st", 0.15f));
        tg_param(&t, "max_boxes", tg_scalar_i(&t, "m", 3));
        tg_param(&t, "per_class_suppression", tg_scalar_b(&t, "pc", per_class));
        CHECK_MSG(go(&t, 4) == CML_OK, "%s", t.err.msg);
        const int32_t *idx = tg_o(&t, 2)->data, *cnt = tg_o(&t, 3)->data;
        /* ranking by best score: 0 (0.9), 3 (0.85), 1 (0.8), 2 (0.7) */
        if (per_class) {
            /* 3 is class 1 and survives next to 0; 1 overlaps 0 (same class) */
            CHECK(cnt[0] == 3 && idx[0] == 0 && idx[1] == 3 && idx[2] == 2);
        } else {
            CHECK(cnt[0] == 2 && idx[0] == 0 && idx[1] == 2 && idx[2] == -1);
        }
        CHECK(tg_of(&t, 0)[4 + 0] == boxes[(per_class ? 3 : 2) * 4]);
        CHECK(tg_of(&t, 1)[2] == scores[(per_class ? 3 : 2) * 2]);
        tg_free(&t);
    }
}

/* Naive NMS reference for one batch (boxes [B][4], scores [B][K]): rank by
 * best class score (stable), greedy IoU suppression; returns the kept ids. */
static float ref_iou(const float *a, const float *b) {
    float iw = fminf(a[0] + a[2] / 2, b[0] + b[2] / 2) - fmaxf(a[0] - a[2] / 2, b[0] - b[2] / 2);
    float ih = fminf(a[1] + a[3] / 2, b[1] + b[3] / 2) - fmaxf(a[1] - a[3] / 2, b[1] - b[3] / 2);
    if (iw <= 0 || ih <= 0) return 0;
    return iw * ih / (a[2] * a[3] + b[2] * b[3] - iw * ih);
}

static int ref_nms(const float *boxes, const float *scores, int B, int K, int M, float iou,
                   bool per_class, int *ids) {
    int order[64], cls[64], kept = 0;
    float best[64];
    for (int i = 0; i < B; i++) {
        cls[i] = 0;
        for (int k = 1; k < K; k++)
            if (scores[i * K + k] > scores[i * K + cls[i]]) cls[i] = k;
        best[i] = scores[i * K + cls[i]];
        order[i] = i;
    }
    for (int i = 1; i < B; i++) /* insertion sort: stable, descending */
        for (int j = i; j > 0 && best[order[j]] > best[order[j - 1]]; j--) {
            int tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    for (int q = 0; q < B && kept < M; q++) {
        int i = order[q];
        bool keep = true;
        for (int k = 0; k < kept; k++)
            if ((!per_class || cls[ids[k]] == cls[i]) && ref_iou(boxes + i * 4, boxes + ids[k] * 4) > iou)
                keep = false;
        if (keep) ids[kept++] = i;
    }
    return kept;
}

/* iOS17 form: boxes [n, 4, B], scores [n, K, B], no score threshold, three
 * outputs in the boxes-last layout, padded with 0 / index -1. */
static void test_nms_ios17(void) {
    enum { N = 2, B = 12, K = 3 };
    float boxes[N][B][4], scores[N][B][K], tb[N][4][B], ts[N][K][B];
    srand(7);
    for (int b = 0; b < N; b++)
        for (int i = 0; i < B; i++) {
            for (int c = 0; c < 4; c++) boxes[b][i][c] = c < 2 ? tg_randf() * 2 : 1.5f + tg_randf() * 0.5f;
            for (int k = 0; k < K; k++) scores[b][i][k] = tg_randf();
            for (int c = 0; c < 4; c++) tb[b][c][i] = boxes[b][i][c];
            for (int k = 0; k < K; k++) ts[b][k][i] = scores[b][i][k];
        }
    int maxes[2] = {4, 20};
    for (int m = 0; m < 2; m++)
        for (int per_class = 0; per_class < 2; per_class++) {
            int M = maxes[m];
            tg t;
            tg_init(&t, "non_maximum_suppression", 17);
            tg_param(&t, "boxes", tg_f32(&t, "b", 3, (int64_t[]){N, 4, B}, &tb[0][0][0], false));
            tg_param(&t, "scores", tg_f32(&t, "s", 3, (int64_t[]){N, K, B}, &ts[0][0][0], false));
            tg_param(&t, "iou_threshold", tg_scalar_f(&t, "iou", 0.3f));
            tg_param(&t, "max_boxes", tg_scalar_i(&t, "m", M));
            tg_param(&t, "per_class_suppression", tg_scalar_b(&t, "pc", per_class));
            cml_status st = go(&t, 3);
            CHECK_MSG(st == CML_OK, "%s", t.err.msg);
            if (st != CML_OK) {
                tg_free(&t);
                continue;
            }
            CHECK(tg_shape_is(tg_o(&t, 0), 3, (int64_t[]){N, 4, M}));
            CHECK(tg_shape_is(tg_o(&t, 1), 3, (int64_t[]){N, K, M}));
            CHECK(tg_shape_is(tg_o(&t, 2), 2, (int64_t[]){N, M}));
            const float *ob = tg_of(&t, 0), *os = tg_of(&t, 1);
            const int32_t *oi = tg_o(&t, 2)->data;
            for (int b = 0; b < N; b++) {
                int ids[64];
                int kept = ref_nms(&boxes[b][0][0], &scores[b][0][0], B, K, M, 0.3f, per_class, ids);
                CHECK(kept > 1 && (M < B || kept < B)); /* some boxes are suppressed */
                for (int q = 0; q < M; q++) {
                    int want = q < kept ? ids[q] : -1;
                    CHECK_MSG(oi[b * M + q] == want, "batch %d slot %d: %d vs %d", b, q, oi[b * M + q], want);
                    for (int c = 0; c < 4; c++)
                        CHECK(ob[(b * 4 + c) * M + q] == (want < 0 ? 0.0f : boxes[b][want][c]));
                    for (int k = 0; k < K; k++)
                        CHECK(os[(b * K + k) * M + q] == (want < 0 ? 0.0f : scores[b][want][k]));
                }
            }
            tg_free(&t);
        }
    /* bad input: iOS15 layout without score_threshold, and 4 outputs */
    for (int k = 0; k < 2; k++) {
        tg t;
        tg_init(&t, "non_maximum_suppression", 17);
        tg_param(&t, "boxes", tg_f32(&t, "b", 3, (int64_t[]){N, k ? 4 : B, k ? B : 4}, &tb[0][0][0], false));
        tg_param(&t, "scores", tg_f32(&t, "s", 3, (int64_t[]){N, k ? K : B, k ? B : K}, &ts[0][0][0], false));
        tg_param(&t, "iou_threshold", tg_scalar_f(&t, "iou", 0.3f));
        tg_param(&t, "max_boxes", tg_scalar_i(&t, "m", 3));
        tg_out(&t, k ? 4 : 3);
        cml_status st = tg_infer(&t);
        CHECK(st == (k ? CML_ERR_INVALID_ARG : CML_ERR_SHAPE));
        CHECK(strstr(t.err.msg, "test_op") != NULL);
        tg_free(&t);
    }
}

static void test_random(void) {
    const char *ops[3] = {"random_uniform", "random_normal", "random_bernoulli"};
    for (int k = 0; k < 3; k++) {
        for (int seeded = 0; seeded < 2; seeded++) {
            tg t;
            tg_init(&t, ops[k], 15);
            tg_param(&t, "shape", tg_i32s(&t, "s", 2, (int32_t[]){100, 100}));
            if (k == 0) {
                tg_param(&t, "low", tg_scalar_f(&t, "lo", -2));
                tg_param(&t, "high", tg_scalar_f(&t, "hi", 4));
            } else if (k == 1) {
                tg_param(&t, "mean", tg_scalar_f(&t, "m", 1));
                tg_param(&t, "stddev", tg_scalar_f(&t, "sd", 2));
            } else {
                tg_param(&t, "prob", tg_scalar_f(&t, "p", 0.25f));
            }
            if (seeded) tg_param(&t, "seed", tg_scalar_i(&t, "seed", 42));
            CHECK(t.node.def && t.node.def->no_fold);
            CHECK(go(&t, 1) == CML_OK);
            double sum = 0, sq = 0, mn = INFINITY, mx = -INFINITY;
            float first = tg_of(&t, 0)[0];
            for (int i = 0; i < 10000; i++) {
                double v = tg_of(&t, 0)[i];
                sum += v, sq += v * v, mn = fmin(mn, v), mx = fmax(mx, v);
            }
            double mean = sum / 10000, var = sq / 10000 - mean * mean;
            if (k == 0) CHECK(mn >= -2 && mx < 4 && fabs(mean - 1) < 0.1 && fabs(var - 3) < 0.2);
            if (k == 1) CHECK(fabs(mean - 1) < 0.1 && fabs(var - 4) < 0.3);
            if (k == 2) CHECK(fabs(mean - 0.25) < 0.02 && (mn == 0 && mx == 1));
            /* a seeded op repeats its draw on the next run; an unseeded one moves on */
            CHECK(tg_run(&t) == CML_OK);
            if (seeded) CHECK(tg_of(&t, 0)[0] == first);
            tg_free(&t);
        }
    }
    /* categorical: a near one-hot distribution always picks its class */
    float logits[6] = {-50, 10, -50, 10, -50, -50};
    int64_t ls[2] = {2, 3};
    tg t;
    tg_init(&t, "random_categorical", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 2, ls, logits, false));
    tg_param(&t, "size", tg_scalar_i(&t, "n", 5));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 2, (int64_t[]){2, 5}));
    for (int i = 0; i < 10; i++) CHECK(tg_of(&t, 0)[i] == (i < 5 ? 1 : 0));
    tg_free(&t);
}

int main(void) {
    test_movement();
    test_nms();
    test_nms_ios17();
    test_random();
    test_resize_grid_examples();
    test_upsample();
    test_lstm();
    test_gru_rnn();
    test_quant();
    TEST_MAIN_END();
}
