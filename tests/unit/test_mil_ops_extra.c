/* conv_quantized against a naive dequantize + direct convolution; classify
 * (int64 labels; string labels rejected); list ops rejected at load. */
#include "test_mil_ops_util.h"

static cml_status go(tg *t, uint32_t nout) {
    tg_out(t, nout);
    cml_status st = tg_infer(t);
    if (st == CML_OK) st = tg_run(t);
    return st;
}

/* direct conv, 2-D (1-D as H = 1), custom pads */
static void ref_conv(const float *x, const float *w, const float *b, float *y, int64_t N,
                     int64_t Ci, int64_t H, int64_t W, int64_t Co, int64_t KH, int64_t KW,
                     int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t pt, int64_t pl,
                     int64_t OH, int64_t OW, int64_t G) {
    int64_t cig = Ci / G, cog = Co / G;
    for (int64_t n = 0; n < N; n++)
        for (int64_t co = 0; co < Co; co++)
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    double acc = b ? b[co] : 0;
                    int64_t g = co / cog;
                    for (int64_t ci = 0; ci < cig; ci++)
                        for (int64_t kh = 0; kh < KH; kh++)
                            for (int64_t kw = 0; kw < KW; kw++) {
                                int64_t ih = oh * sh - pt + kh * dh, iw = ow * sw - pl + kw * dw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                acc += (double)x[((n * Ci + g * cig + ci) * H + ih) * W + iw] *
                                       w[((co * cig + ci) * KH + kh) * KW + kw];
                            }
                    y[((n * Co + co) * OH + oh) * OW + ow] = (float)acc;
                }
}

static void test_conv_quantized(void) {
    for (int trial = 0; trial < 16; trial++) {
        bool lut = trial % 2, one_d = trial % 4 == 3, per_ch = trial % 3 != 0;
        int64_t nbits = lut ? tg_randi(1, 8) : 8, levels = (int64_t)1 << nbits;
        int64_t G = tg_randi(1, 2), N = tg_randi(1, 2), Ci = G * tg_randi(1, 3),
                Co = G * tg_randi(1, 3);
        int64_t H = one_d ? 1 : tg_randi(3, 6), W = tg_randi(3, 6);
        int64_t KH = one_d ? 1 : tg_randi(1, 3), KW = tg_randi(1, 3);
        int64_t sh = one_d ? 1 : tg_randi(1, 2), sw = tg_randi(1, 2), dh = 1, dw = tg_randi(1, 2);
        int64_t pt = one_d ? 0 : tg_randi(0, 1), pb = one_d ? 0 : tg_randi(0, 1), pl = tg_randi(0, 1),
                pr = tg_randi(0, 1);
        int64_t OH = (H + pt + pb - (KH - 1) * dh - 1) / sh + 1;
        int64_t OW = (W + pl + pr - (KW - 1) * dw - 1) / sw + 1;
        if (OH < 1 || OW < 1) continue;
        int64_t nw = Co * (Ci / G) * KH * KW;
        uint8_t *wq = malloc((size_t)nw);
        float *wf = malloc(sizeof(float) * (size_t)nw);
        float *x = tg_rand_buf(N * Ci * H * W), *bias = tg_rand_buf(Co);
        float *scale = tg_rand_buf(lut ? levels : Co), *qbias = tg_rand_buf(Co);
        for (int64_t i = 0; i < nw; i++) {
            wq[i] = (uint8_t)tg_randi(0, (int)levels - 1);
            int64_t oc = i / (nw / Co);
            wf[i] = lut ? scale[wq[i]]
                        : (float)((double)wq[i] * scale[per_ch ? oc : 0] + qbias[per_ch ? oc : 0]);
        }
        tg t;
        tg_init(&t, "conv_quantized", 15);
        int64_t xs4[4] = {N, Ci, H, W}, ws4[4] = {Co, Ci / G, KH, KW};
        int64_t xs3[3] = {N, Ci, W}, ws3[3] = {Co, Ci / G, KW};
        tg_param(&t, "x", tg_f32(&t, "x", one_d ? 3 : 4, one_d ? xs3 : xs4, x, false));
        tg_param(&t, "weight", tg_value(&t, "w", CML_DTYPE_UINT8, false, one_d ? 3 : 4,
                                        one_d ? ws3 : ws4, wq, true));
        tg_param(&t, "bias", tg_f32(&t, "b", 1, &Co, bias, true));
        tg_param(&t, "quantization_type", tg_str(&t, "qt", lut ? "lut" : "linear"));
        tg_param(&t, "nbits", tg_scalar_i(&t, "nb", (int32_t)nbits));
        int64_t ns = lut ? levels : (per_ch ? Co : 1);
        tg_param(&t, "quant_scale", tg_f32(&t, "qs", 1, &ns, scale, true));
        int64_t nqb = per_ch ? Co : 1;
        tg_param(&t, "quant_bias", tg_f32(&t, "qb", 1, &nqb, qbias, true));
        if (one_d) {
            tg_param(&t, "strides", tg_i32s(&t, "s", 1, (int32_t[]){(int32_t)sw}));
            tg_param(&t, "dilations", tg_i32s(&t, "d", 1, (int32_t[]){(int32_t)dw}));
            tg_param(&t, "pad", tg_i32s(&t, "p", 2, (int32_t[]){(int32_t)pl, (int32_t)pr}));
        } else {
            tg_param(&t, "strides", tg_i32s(&t, "s", 2, (int32_t[]){(int32_t)sh, (int32_t)sw}));
            tg_param(&t, "dilations", tg_i32s(&t, "d", 2, (int32_t[]){(int32_t)dh, (int32_t)dw}));
            tg_param(&t, "pad", tg_i32s(&t, "p", 4,
                                        (int32_t[]){(int32_t)pt, (int32_t)pb, (int32_t)pl, (int32_t)pr}));
        }
        tg_param(&t, "pad_type", tg_str(&t, "pt", "custom"));
        tg_param(&t, "groups", tg_scalar_i(&t, "g", (int32_t)G));
        CHECK_MSG(go(&t, 1) == CML_OK, "%s", t.err.msg);
        float *want = malloc(sizeof(float) * (size_t)(N * Co * OH * OW));
        ref_conv(x, wf, bias, want, N, Ci, H, W, Co, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, G);
        if (one_d) CHECK(tg_shape_is(tg_o(&t, 0), 3, (int64_t[]){N, Co, OW}));
        else CHECK(tg_shape_is(tg_o(&t, 0), 4, (int64_t[]){N, Co, OH, OW}));
        double err = tg_maxerr(tg_of(&t, 0), want, N * Co * OH * OW);
        CHECK_MSG(err < 1e-4, "conv_quantized trial %d (lut=%d): err %g", trial, lut, err);
        tg_free(&t);
        free(wq), free(wf), free(x), free(bias), free(scale), free(qbias), free(want);
    }
    /* bad parameters: unknown type, index past the table, nbits range */
    float x[4] = {1, 2, 3, 4}, lut2[2] = {0.5f, -1};
    uint8_t wq[1] = {3};
    int64_t two = 2;
    const char *qts[3] = {"affine", "lut", "lut"};
    int32_t nbs[3] = {8, 1, 9};
    cml_status want_st[3] = {CML_ERR_UNSUPPORTED, CML_ERR_INVALID_ARG, CML_ERR_INVALID_ARG};
    for (int k = 0; k < 3; k++) {
        tg t;
        tg_init(&t, "conv_quantized", 15);
        tg_param(&t, "x", tg_f32(&t, "x", 4, (int64_t[]){1, 1, 2, 2}, x, false));
        tg_param(&t, "weight", tg_value(&t, "w", CML_DTYPE_UINT8, false, 4, (int64_t[]){1, 1, 1, 1}, wq, true));
        tg_param(&t, "quantization_type", tg_str(&t, "qt", qts[k]));
        tg_param(&t, "nbits", tg_scalar_i(&t, "nb", nbs[k]));
        tg_param(&t, "quant_scale", tg_f32(&t, "qs", 1, &two, lut2, true));
        tg_param(&t, "quant_bias", tg_scalar_f(&t, "qb", 0));
        CHECK_MSG(go(&t, 1) == want_st[k], "case %d: %s", k, t.err.msg);
        CHECK(strstr(t.err.msg, "test_op") != NULL);
        tg_free(&t);
    }
}

static void test_classify(void) {
    float p[4] = {0.1f, 0.5f, 0.3f, 0.1f};
    int64_t labels[4] = {10, 20, 30, 40}, K = 4;
    tg t;
    tg_init(&t, "classify", 15);
    tg_param(&t, "probabilities", tg_f32(&t, "p", 2, (int64_t[]){1, 4}, p, false));
    tg_param(&t, "classes", tg_value(&t, "c", CML_DTYPE_INT64, false, 1, &K, labels, true));
    CHECK_MSG(go(&t, 2) == CML_OK, "%s", t.err.msg);
    CHECK(tg_o(&t, 0)->dtype == CML_DTYPE_INT64 && tg_o(&t, 0)->rank == 0);
    CHECK(((int64_t *)tg_o(&t, 0)->data)[0] == 20);
    CHECK(tg_shape_is(tg_o(&t, 1), 2, (int64_t[]){1, 4}));
    for (int i = 0; i < 4; i++) CHECK(tg_of(&t, 1)[i] == p[i]);
    /* new probabilities at run */
    float *pin = tg_v(&t, t.params[0].vids[0])->data;
    pin[3] = 0.9f;
    CHECK(tg_run(&t) == CML_OK);
    CHECK(((int64_t *)tg_o(&t, 0)->data)[0] == 40);
    tg_free(&t);
    /* random: argmax reference */
    for (int trial = 0; trial < 10; trial++) {
        int64_t n = tg_randi(1, 9);
        float *pr = tg_rand_buf(n);
        int32_t cls[9];
        for (int i = 0; i < n; i++) cls[i] = 100 + 3 * i;
        int64_t best = 0;
        for (int64_t i = 1; i < n; i++)
            if (pr[i] > pr[best]) best = i;
        tg_init(&t, "classify", 15);
        tg_param(&t, "probabilities", tg_f32(&t, "p", 1, &n, pr, false));
        tg_param(&t, "classes", tg_value(&t, "c", CML_DTYPE_INT32, false, 1, &n, cls, true));
        CHECK_MSG(go(&t, 2) == CML_OK, "%s", t.err.msg);
        CHECK(((int64_t *)tg_o(&t, 0)->data)[0] == cls[best]);
        tg_free(&t);
        free(pr);
    }
    /* string labels: rejected at load */
    tg_init(&t, "classify", 15);
    tg_param(&t, "probabilities", tg_f32(&t, "p", 1, &K, p, false));
    tg_param(&t, "classes", tg_str(&t, "c", "cat"));
    CHECK(go(&t, 2) == CML_ERR_UNSUPPORTED);
    CHECK(strstr(t.err.msg, "test_op") && strstr(t.err.msg, "string"));
    tg_free(&t);
    /* an inline list value (kept without data by the compiler) */
    tg_init(&t, "classify", 15);
    tg_param(&t, "probabilities", tg_f32(&t, "p", 1, &K, p, false));
    cml_mil_vid lv = tg_str(&t, "c", "");
    tg_v(&t, lv)->kind = CML_MIL_KIND_LIST;
    tg_param(&t, "classes", lv);
    CHECK(go(&t, 2) == CML_ERR_UNSUPPORTED);
    tg_free(&t);
    /* count mismatch */
    tg_init(&t, "classify", 15);
    int64_t three = 3;
    tg_param(&t, "probabilities", tg_f32(&t, "p", 1, &K, p, false));
    tg_param(&t, "classes", tg_value(&t, "c", CML_DTYPE_INT64, false, 1, &three, labels, true));
    CHECK(go(&t, 2) == CML_ERR_SHAPE);
    tg_free(&t);
}

static void test_lists_rejected(void) {
    const char *ops[6] = {"make_list", "list_length", "list_read", "list_write", "list_gather",
                          "list_scatter"};
    for (int k = 0; k < 6; k++) {
        tg t;
        tg_init(&t, ops[k], 15);
        CHECK_MSG(t.node.def != NULL, "%s is not registered", ops[k]);
        tg_param(&t, "init_length", tg_scalar_i(&t, "n", 2));
        CHECK(go(&t, 1) == CML_ERR_UNSUPPORTED);
        CHECK(strstr(t.err.msg, "test_op") && strstr(t.err.msg, "list"));
        tg_free(&t);
    }
}

int main(void) {
    test_conv_quantized();
    test_classify();
    test_lists_rejected();
    TEST_MAIN_END();
}
