/* Image sampling ops (resample, affine, crop_resize) against naive
 * references: bilinear as a sum of tent weights over every (padded) pixel. */
#include "test_mil_ops_util.h"

static cml_status go(tg *t, uint32_t nout) {
    tg_out(t, nout);
    cml_status st = tg_infer(t);
    if (st == CML_OK) st = tg_run(t);
    return st;
}

/* padded pixel per mode: 0 constant, 1 border, 2 reflection, 3 symmetric */
static bool ref_index(int mode, int64_t i, int64_t S, int64_t *out) {
    if (i >= 0 && i < S) {
        *out = i;
        return true;
    }
    if (mode == 0) return false;
    if (mode == 1) {
        *out = i < 0 ? 0 : S - 1;
        return true;
    }
    /* walk step by step, bouncing off the edges */
    int64_t p = 0, dir = 1, steps = i;
    if (i < 0) {
        dir = -1;
        steps = -i;
    }
    for (int64_t k = 0; k < steps; k++) {
        int64_t nx = p + dir;
        if (nx < 0 || nx >= S) {
            dir = -dir;
            nx = mode == 2 ? p + dir : p; /* reflection skips the edge, symmetric repeats it */
            if (S == 1) nx = 0;
        }
        p = nx;
    }
    *out = p;
    return true;
}

static double ref_sample(const float *p, int64_t H, int64_t W, double py, double px, int mode,
                         float padv, bool nearest) {
    if (nearest) {
        int64_t y = (int64_t)floor(py + 0.5), x = (int64_t)floor(px + 0.5), yy, xx;
        if (!ref_index(mode, y, H, &yy) || !ref_index(mode, x, W, &xx)) return padv;
        return p[yy * W + xx];
    }
    double acc = 0;
    for (int64_t y = (int64_t)floor(py) - 1; y <= (int64_t)floor(py) + 2; y++)
        for (int64_t x = (int64_t)floor(px) - 1; x <= (int64_t)floor(px) + 2; x++) {
            double wgt = fmax(0, 1 - fabs(py - (double)y)) * fmax(0, 1 - fabs(px - (double)x));
            if (wgt == 0) continue;
            int64_t yy, xx;
            double v = ref_index(mode, y, H, &yy) && ref_index(mode, x, W, &xx) ? p[yy * W + xx]
                                                                                 : padv;
            acc += wgt * v;
        }
    return acc;
}

static void test_pad_examples(void) {
    /* coremltools' 1-D examples, |1 2 3| padded by 3 on each side */
    float x[3] = {1, 2, 3};
    const char *modes[3] = {"border", "reflection", "symmetric"};
    float want[3][9] = {{1, 1, 1, 1, 2, 3, 3, 3, 3},
                        {2, 3, 2, 1, 2, 3, 2, 1, 2},
                        {3, 2, 1, 1, 2, 3, 3, 2, 1}};
    for (int m = 0; m < 3; m++) {
        tg t;
        tg_init(&t, "resample", 15);
        tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){1, 1, 1, 3}, x, false));
        float coords[18];
        for (int i = 0; i < 9; i++) coords[2 * i] = (float)(i - 3), coords[2 * i + 1] = 0;
        tg_param(&t, "coordinates", tg_f32(&t, "c", 4, (int64_t[]){1, 1, 9, 2}, coords, false));
        tg_param(&t, "sampling_mode", tg_str(&t, "sm", "nearest"));
        tg_param(&t, "padding_mode", tg_str(&t, "pm", modes[m]));
        tg_param(&t, "padding_value", tg_scalar_f(&t, "pv", 0));
        tg_param(&t, "coordinates_mode", tg_str(&t, "cm", "unnormalized"));
        tg_param(&t, "align_corners", tg_scalar_b(&t, "ac", false));
        CHECK_MSG(go(&t, 1) == CML_OK, "%s", t.err.msg);
        CHECK(tg_shape_is(tg_o(&t, 0), 4, (int64_t[]){1, 1, 1, 9}));
        for (int i = 0; i < 9; i++)
            CHECK_MSG(tg_of(&t, 0)[i] == want[m][i], "%s [%d] = %g", modes[m], i, tg_of(&t, 0)[i]);
        tg_free(&t);
    }
}

static double ref_to_pixel(int cm, bool ac, double c, int64_t S) {
    if (cm == 0) return c;
    if (cm == 1) return ac ? (c + 1) / 2 * (S - 1) : ((c + 1) * S - 1) / 2;
    return ac ? c * (S - 1) : c * S - 0.5;
}

static void test_resample_random(void) {
    const char *pms[4] = {"constant", "border", "reflection", "symmetric"};
    const char *cms[3] = {"unnormalized", "normalized_minus_one_to_one", "normalized_zero_to_one"};
    for (int trial = 0; trial < 48; trial++) {
        int pm = trial % 4, cm = (trial / 4) % 3;
        bool ac = (trial / 12) % 2, nearest = trial >= 24;
        int64_t B = tg_randi(1, 2), C = tg_randi(1, 3), H = tg_randi(1, 5), W = tg_randi(1, 5);
        int64_t OH = tg_randi(1, 4), OW = tg_randi(1, 4);
        float *x = tg_rand_buf(B * C * H * W), *c = tg_rand_buf(B * OH * OW * 2);
        /* spread coordinates well past the image */
        for (int64_t i = 0; i < B * OH * OW * 2; i++)
            c[i] = cm == 0 ? c[i] * (float)(W + H) : c[i] * 1.8f;
        tg t;
        tg_init(&t, "resample", trial % 3 == 0 ? 17 : 16);
        tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){B, C, H, W}, x, false));
        tg_param(&t, "coordinates", tg_f32(&t, "c", 4, (int64_t[]){B, OH, OW, 2}, c, false));
        tg_param(&t, "sampling_mode", tg_str(&t, "sm", nearest ? "nearest" : "bilinear"));
        tg_param(&t, "padding_mode", tg_str(&t, "pm", pms[pm]));
        tg_param(&t, "padding_value", tg_scalar_f(&t, "pv", 0.25f));
        tg_param(&t, "coordinates_mode", tg_str(&t, "cm", cms[cm]));
        tg_param(&t, "align_corners", tg_scalar_b(&t, "ac", ac));
        CHECK_MSG(go(&t, 1) == CML_OK, "%s", t.err.msg);
        CHECK(tg_shape_is(tg_o(&t, 0), 4, (int64_t[]){B, C, OH, OW}));
        int bad = 0;
        for (int64_t b = 0; b < B; b++)
            for (int64_t ch = 0; ch < C; ch++)
                for (int64_t i = 0; i < OH; i++)
                    for (int64_t j = 0; j < OW; j++) {
                        const float *cc = c + ((b * OH + i) * OW + j) * 2;
                        double px = ref_to_pixel(cm, ac, cc[0], W), py = ref_to_pixel(cm, ac, cc[1], H);
                        double want = ref_sample(x + (b * C + ch) * H * W, H, W, py, px, pm, 0.25f,
                                                 nearest);
                        double got = tg_of(&t, 0)[((b * C + ch) * OH + i) * OW + j];
                        if (fabs(got - want) > 1e-5) bad++;
                    }
        CHECK_MSG(bad == 0, "resample trial %d (%s, %s, ac=%d, nearest=%d): %d mismatches", trial,
                  pms[pm], cms[cm], ac, nearest, bad);
        tg_free(&t);
        free(x);
        free(c);
    }
    /* integer coordinates (iOS17), unnormalized, hit pixels exactly */
    float x[6] = {1, 2, 3, 4, 5, 6};
    int32_t ci[4] = {2, 1, 0, 0};
    tg t;
    tg_init(&t, "resample", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){1, 1, 2, 3}, x, false));
    tg_param(&t, "coordinates", tg_value(&t, "c", CML_DTYPE_INT32, false, 4, (int64_t[]){1, 1, 2, 2}, ci, false));
    tg_param(&t, "coordinates_mode", tg_str(&t, "cm", "unnormalized"));
    CHECK_MSG(go(&t, 1) == CML_OK, "%s", t.err.msg);
    CHECK(tg_of(&t, 0)[0] == 6 && tg_of(&t, 0)[1] == 1);
    tg_free(&t);
    /* bad parameters are clean errors naming the op */
    tg_init(&t, "resample", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){1, 1, 2, 3}, x, false));
    tg_param(&t, "coordinates", tg_value(&t, "c", CML_DTYPE_INT32, false, 4, (int64_t[]){1, 1, 2, 2}, ci, false));
    tg_param(&t, "padding_mode", tg_str(&t, "pm", "wrap"));
    CHECK(go(&t, 1) == CML_ERR_UNSUPPORTED);
    CHECK(strstr(t.err.msg, "test_op") && strstr(t.err.msg, "padding_mode"));
    tg_free(&t);
    tg_init(&t, "resample", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){1, 1, 2, 3}, x, false));
    tg_param(&t, "coordinates", tg_f32(&t, "c", 4, (int64_t[]){1, 1, 2, 3}, x, false));
    CHECK(go(&t, 1) == CML_ERR_SHAPE);
    tg_free(&t);
}

static double ref_from_pixel(int cm, bool ac, double p, int64_t S) {
    if (cm == 0) return p;
    if (cm == 1) return ac ? (S > 1 ? 2 * p / (S - 1) - 1 : 0) : (2 * p + 1) / S - 1;
    return ac ? (S > 1 ? p / (S - 1) : 0) : (p + 0.5) / S;
}

static void test_affine(void) {
    /* identity transform with align_corners and the same size returns x */
    float x[12];
    for (int i = 0; i < 12; i++) x[i] = (float)i;
    float ident[6] = {1, 0, 0, 0, 1, 0};
    tg t;
    tg_init(&t, "affine", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){1, 2, 2, 3}, x, false));
    tg_param(&t, "transform_matrix", tg_f32(&t, "m", 2, (int64_t[]){1, 6}, ident, false));
    tg_param(&t, "output_height", tg_scalar_i(&t, "oh", 2));
    tg_param(&t, "output_width", tg_scalar_i(&t, "ow", 3));
    tg_param(&t, "sampling_mode", tg_str(&t, "sm", "bilinear"));
    tg_param(&t, "padding_mode", tg_str(&t, "pm", "constant"));
    tg_param(&t, "padding_value", tg_scalar_f(&t, "pv", 0));
    tg_param(&t, "coordinates_mode", tg_str(&t, "cm", "normalized_minus_one_to_one"));
    tg_param(&t, "align_corners", tg_scalar_b(&t, "ac", true));
    CHECK_MSG(go(&t, 1) == CML_OK, "%s", t.err.msg);
    for (int i = 0; i < 12; i++) CHECK_NEAR(tg_of(&t, 0)[i], x[i], 1e-5);
    tg_free(&t);
    /* horizontal flip: a0 = -1 */
    float flip[6] = {-1, 0, 0, 0, 1, 0};
    tg_init(&t, "affine", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){1, 2, 2, 3}, x, false));
    tg_param(&t, "transform_matrix", tg_f32(&t, "m", 2, (int64_t[]){1, 6}, flip, false));
    tg_param(&t, "output_height", tg_scalar_i(&t, "oh", 2));
    tg_param(&t, "output_width", tg_scalar_i(&t, "ow", 3));
    CHECK_MSG(go(&t, 1) == CML_OK, "%s", t.err.msg);
    for (int i = 0; i < 12; i++) CHECK_NEAR(tg_of(&t, 0)[i], x[(i / 3) * 3 + 2 - i % 3], 1e-5);
    tg_free(&t);
    /* random matrices, per-batch, all coordinate modes vs the reference */
    const char *cms[3] = {"unnormalized", "normalized_minus_one_to_one", "normalized_zero_to_one"};
    for (int trial = 0; trial < 12; trial++) {
        int cm = trial % 3;
        bool ac = trial % 2;
        int64_t B = 2, C = 2, H = tg_randi(1, 5), W = tg_randi(1, 5), OH = tg_randi(1, 5),
                OW = tg_randi(1, 5);
        float *xi = tg_rand_buf(B * C * H * W), *m = tg_rand_buf(B * 6);
        tg_init(&t, "affine", 15);
        tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){B, C, H, W}, xi, false));
        tg_param(&t, "transform_matrix", tg_f32(&t, "m", 2, (int64_t[]){B, 6}, m, false));
        tg_param(&t, "output_height", tg_scalar_i(&t, "oh", (int32_t)OH));
        tg_param(&t, "output_width", tg_scalar_i(&t, "ow", (int32_t)OW));
        tg_param(&t, "coordinates_mode", tg_str(&t, "cm", cms[cm]));
        tg_param(&t, "align_corners", tg_scalar_b(&t, "ac", ac));
        CHECK_MSG(go(&t, 1) == CML_OK, "%s", t.err.msg);
        int bad = 0;
        for (int64_t b = 0; b < B; b++)
            for (int64_t ch = 0; ch < C; ch++)
                for (int64_t i = 0; i < OH; i++)
                    for (int64_t j = 0; j < OW; j++) {
                        const float *a = m + b * 6;
                        double xc = ref_from_pixel(cm, ac, (double)j, OW);
                        double yc = ref_from_pixel(cm, ac, (double)i, OH);
                        double xs = a[0] * xc + a[1] * yc + a[2], ys = a[3] * xc + a[4] * yc + a[5];
                        double want = ref_sample(xi + (b * C + ch) * H * W, H, W,
                                                 ref_to_pixel(cm, ac, ys, H),
                                                 ref_to_pixel(cm, ac, xs, W), 0, 0, false);
                        if (fabs(tg_of(&t, 0)[((b * C + ch) * OH + i) * OW + j] - want) > 1e-5) bad++;
                    }
        CHECK_MSG(bad == 0, "affine trial %d: %d mismatches", trial, bad);
        tg_free(&t);
        free(xi);
        free(m);
    }
    /* wrong matrix width */
    tg_init(&t, "affine", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){1, 2, 2, 3}, x, false));
    tg_param(&t, "transform_matrix", tg_f32(&t, "m", 2, (int64_t[]){1, 5}, ident, false));
    tg_param(&t, "output_height", tg_scalar_i(&t, "oh", 2));
    tg_param(&t, "output_width", tg_scalar_i(&t, "ow", 3));
    CHECK(go(&t, 1) == CML_ERR_SHAPE);
    tg_free(&t);
}

/* crop_resize reference: linspace-style grid over each box */
static double ref_grid(int mode, int64_t i, double L, int64_t N) {
    double X = L + 1, g;
    switch (mode) {
    case 0: g = N > 1 ? i * L / (N - 1) : 0; break;                  /* STRICT_ALIGN */
    case 1: g = N > 1 ? i * L / (N - 1) : L / 2; break;              /* ALIGN */
    case 2: g = N > 1 ? i * (X - X / N) / (N - 1) : 0; break;        /* DEFAULT */
    case 3: g = 0.5 * fmax(1, L) / N + i * fmax(1, L) / N; break;    /* OFFSET */
    default: g = i * X / N + 0.5 * X / N - 0.5; break;               /* UNALIGN */
    }
    return fmin(L, fmax(0, g));
}

static void test_crop_resize(void) {
    const char *sms[5] = {"STRICT_ALIGN_CORNERS", "ALIGN_CORNERS", "DEFAULT", "OFFSET_CORNERS",
                          "UNALIGN_CORNERS"};
    const char *bms[4] = {"CORNERS_HEIGHT_FIRST", "CORNERS_WIDTH_FIRST", "CENTER_SIZE_HEIGHT_FIRST",
                          "CENTER_SIZE_WIDTH_FIRST"};
    for (int trial = 0; trial < 40; trial++) {
        int sm = trial % 5, bm = (trial / 5) % 4;
        bool norm = trial % 3 == 0, v17 = trial >= 20;
        int64_t B = tg_randi(1, 2), C = tg_randi(1, 2), H = tg_randi(2, 6), W = tg_randi(2, 6);
        int64_t N = tg_randi(1, 3), TH = tg_randi(1, 4), TW = tg_randi(1, 4);
        float *x = tg_rand_buf(B * C * H * W);
        float boxes[12], hw[12];
        int32_t bidx[3];
        for (int64_t n = 0; n < N; n++) {
            /* corners (h0, w0, h1, w1), some past the image */
            double h0 = tg_randf() * (H - 1) * 0.8, h1 = h0 + (tg_randf() + 1.2) * (H - 1) * 0.5;
            double w0 = tg_randf() * (W - 1) * 0.8, w1 = w0 + (tg_randf() + 1.2) * (W - 1) * 0.5;
            if (norm) h0 /= H - 1, h1 /= H - 1, w0 /= W - 1, w1 /= W - 1;
            hw[n * 4 + 0] = (float)h0, hw[n * 4 + 1] = (float)w0, hw[n * 4 + 2] = (float)h1,
            hw[n * 4 + 3] = (float)w1;
            float *o = boxes + n * 4;
            switch (bm) {
            case 0: o[0] = (float)h0, o[1] = (float)w0, o[2] = (float)h1, o[3] = (float)w1; break;
            case 1: o[0] = (float)w0, o[1] = (float)h0, o[2] = (float)w1, o[3] = (float)h1; break;
            case 2:
                o[0] = (float)((h0 + h1) / 2), o[1] = (float)((w0 + w1) / 2);
                o[2] = (float)(h1 - h0), o[3] = (float)(w1 - w0);
                break;
            default:
                o[0] = (float)((w0 + w1) / 2), o[1] = (float)((h0 + h1) / 2);
                o[2] = (float)(w1 - w0), o[3] = (float)(h1 - h0);
            }
            /* reference uses exactly what the op will decode */
            if (bm >= 2) {
                double hc = bm == 2 ? o[0] : o[1], wc = bm == 2 ? o[1] : o[0];
                double bh = bm == 2 ? o[2] : o[3], bw = bm == 2 ? o[3] : o[2];
                hw[n * 4 + 0] = (float)(hc - bh / 2), hw[n * 4 + 2] = (float)(hc + bh / 2);
                hw[n * 4 + 1] = (float)(wc - bw / 2), hw[n * 4 + 3] = (float)(wc + bw / 2);
            }
            bidx[n] = tg_randi(0, (int)B - 1);
        }
        tg t;
        tg_init(&t, "crop_resize", v17 ? 17 : 16);
        tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){B, C, H, W}, x, false));
        if (v17) {
            tg_param(&t, "boxes", tg_f32(&t, "b", 2, (int64_t[]){N, 4}, boxes, false));
            tg_param(&t, "box_indices", tg_value(&t, "bi", CML_DTYPE_INT32, false, 1, &N, bidx, false));
        } else {
            tg_param(&t, "roi", tg_f32(&t, "r", 5, (int64_t[]){N, 1, 4, 1, 1}, boxes, false));
        }
        tg_param(&t, "target_height", tg_scalar_i(&t, "th", (int32_t)TH));
        tg_param(&t, "target_width", tg_scalar_i(&t, "tw", (int32_t)TW));
        tg_param(&t, "normalized_coordinates", tg_scalar_b(&t, "nc", norm));
        tg_param(&t, "spatial_scale", tg_scalar_f(&t, "ss", 1));
        tg_param(&t, "box_coordinate_mode", tg_str(&t, "bm", bms[bm]));
        tg_param(&t, "sampling_mode", tg_str(&t, "sm", sms[sm]));
        tg_param(&t, "pad_value", tg_scalar_f(&t, "pv", -2));
        CHECK_MSG(go(&t, 1) == CML_OK, "%s", t.err.msg);
        int64_t NB = v17 ? 1 : B;
        if (v17) CHECK(tg_shape_is(tg_o(&t, 0), 4, (int64_t[]){N, C, TH, TW}));
        else CHECK(tg_shape_is(tg_o(&t, 0), 5, (int64_t[]){N, B, C, TH, TW}));
        int bad = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t bb = 0; bb < NB; bb++) {
                int64_t b = v17 ? bidx[n] : bb;
                double h0 = hw[n * 4], w0 = hw[n * 4 + 1], h1 = hw[n * 4 + 2], w1 = hw[n * 4 + 3];
                if (norm) h0 *= H - 1, h1 *= H - 1, w0 *= W - 1, w1 *= W - 1;
                for (int64_t ch = 0; ch < C; ch++)
                    for (int64_t i = 0; i < TH; i++)
                        for (int64_t j = 0; j < TW; j++) {
                            double py = h0 + ref_grid(sm, i, h1 - h0, TH);
                            double px = w0 + ref_grid(sm, j, w1 - w0, TW);
                            double want = py < 0 || py > H - 1 || px < 0 || px > W - 1
                                              ? -2
                                              : ref_sample(x + (b * C + ch) * H * W, H, W, py, px,
                                                           1, 0, false);
                            double got =
                                tg_of(&t, 0)[(((n * NB + bb) * C + ch) * TH + i) * TW + j];
                            if (fabs(got - want) > 1e-4) bad++;
                        }
            }
        CHECK_MSG(bad == 0, "crop_resize trial %d (%s, %s, norm=%d, v17=%d): %d mismatches", trial,
                  sms[sm], bms[bm], norm, v17, bad);
        tg_free(&t);
        free(x);
    }
    /* 5-entry roi (batch index), spatial_scale 0.5 */
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)i;
    float roi[5] = {0, 0, 0, 6, 6}; /* scaled to [0, 3] x [0, 3] */
    tg t;
    tg_init(&t, "crop_resize", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){1, 1, 4, 4}, x, false));
    tg_param(&t, "roi", tg_f32(&t, "r", 5, (int64_t[]){1, 1, 5, 1, 1}, roi, false));
    tg_param(&t, "target_height", tg_scalar_i(&t, "th", 2));
    tg_param(&t, "target_width", tg_scalar_i(&t, "tw", 2));
    tg_param(&t, "spatial_scale", tg_scalar_f(&t, "ss", 0.5f));
    tg_param(&t, "sampling_mode", tg_str(&t, "sm", "STRICT_ALIGN_CORNERS"));
    CHECK_MSG(go(&t, 1) == CML_OK, "%s", t.err.msg);
    CHECK(tg_shape_is(tg_o(&t, 0), 5, (int64_t[]){1, 1, 1, 2, 2}));
    float want[4] = {0, 3, 12, 15};
    for (int i = 0; i < 4; i++) CHECK_NEAR(tg_of(&t, 0)[i], want[i], 1e-5);
    tg_free(&t);
    /* out-of-range box index at run, bad mode at load */
    int32_t bad_idx[1] = {3};
    int64_t one = 1;
    tg_init(&t, "crop_resize", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){1, 1, 4, 4}, x, false));
    tg_param(&t, "boxes", tg_f32(&t, "b", 2, (int64_t[]){1, 4}, roi, false));
    tg_param(&t, "box_indices", tg_value(&t, "bi", CML_DTYPE_INT32, false, 1, &one, bad_idx, false));
    CHECK(go(&t, 1) == CML_ERR_INVALID_ARG);
    CHECK(strstr(t.err.msg, "test_op") != NULL);
    tg_free(&t);
    tg_init(&t, "crop_resize", 16);
    tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){1, 1, 4, 4}, x, false));
    tg_param(&t, "roi", tg_f32(&t, "r", 5, (int64_t[]){1, 1, 4, 1, 1}, roi, false));
    tg_param(&t, "box_coordinate_mode", tg_str(&t, "bm", "CORNERS"));
    CHECK(go(&t, 1) == CML_ERR_UNSUPPORTED);
    tg_free(&t);
}

int main(void) {
    test_pad_examples();
    test_resample_random();
    test_affine();
    test_crop_resize();
    TEST_MAIN_END();
}
