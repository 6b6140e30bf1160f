/* scaled_dot_product_attention (bool / float masks, broadcasting masks,
 * fully masked rows) against a naive reference. */
#include "test_mil_ops_util.h"

static void ref_sdpa(const float *q, const float *k, const float *v, int64_t nb, int64_t L,
                     int64_t S, int64_t E, int64_t EV, int mask_kind, const void *mask,
                     const int64_t *mst, double *out) {
    double *sc = malloc(sizeof(double) * (size_t)S);
    for (int64_t b = 0; b < nb; b++)
        for (int64_t l = 0; l < L; l++) {
            double m = -INFINITY;
            for (int64_t s = 0; s < S; s++) {
                double acc = 0;
                for (int64_t e = 0; e < E; e++) acc += (double)q[(b * L + l) * E + e] * k[(b * S + s) * E + e];
                acc /= sqrt((double)E);
                int64_t mo = b * mst[0] + l * mst[1] + s * mst[2];
                if (mask_kind == 1 && !((const uint8_t *)mask)[mo]) acc = -INFINITY;
                if (mask_kind == 2) acc += ((const float *)mask)[mo];
                sc[s] = acc;
                m = fmax(m, acc);
            }
            double sum = 0;
            for (int64_t s = 0; s < S; s++) sum += (sc[s] = (m == -INFINITY ? 0 : exp(sc[s] - m)));
            for (int64_t e = 0; e < EV; e++) {
                double acc = 0;
                for (int64_t s = 0; s < S && sum > 0; s++) acc += sc[s] / sum * v[(b * S + s) * EV + e];
                out[(b * L + l) * EV + e] = acc; /* fully masked row: 0 */
            }
        }
    free(sc);
}

static void test_sdpa(void) {
    for (int trial = 0; trial < 24; trial++) {
        int32_t r = tg_randi(3, 4);
        int64_t B0 = tg_randi(1, 2), B1 = r == 4 ? tg_randi(1, 3) : 1;
        int64_t L = tg_randi(1, 7), S = tg_randi(1, 9), E = tg_randi(1, 16), EV = tg_randi(1, 12);
        int64_t nb = B0 * B1;
        int64_t qs[4], ks[4], vs[4];
        if (r == 4) {
            int64_t a[4] = {B0, B1, L, E}, b[4] = {B0, B1, S, E}, c[4] = {B0, B1, S, EV};
            memcpy(qs, a, sizeof a), memcpy(ks, b, sizeof b), memcpy(vs, c, sizeof c);
        } else {
            int64_t a[3] = {B0, L, E}, b[3] = {B0, S, E}, c[3] = {B0, S, EV};
            memcpy(qs, a, sizeof a), memcpy(ks, b, sizeof b), memcpy(vs, c, sizeof c);
        }
        float *q = tg_rand_buf(nb * L * E), *k = tg_rand_buf(nb * S * E), *v = tg_rand_buf(nb * S * EV);
        int mask_kind = trial % 3; /* 0 none, 1 bool, 2 float */
        /* mask shape: [L, S] broadcast over batch, or full [batch..., L, S] */
        bool full = trial % 2;
        int64_t ms[4];
        int32_t mr;
        if (full) {
            memcpy(ms, qs, sizeof ms);
            ms[r - 1] = S;
            mr = r;
        } else {
            ms[0] = L, ms[1] = S;
            mr = 2;
        }
        int64_t mn = 1;
        for (int32_t i = 0; i < mr; i++) mn *= ms[i];
        uint8_t *bm = malloc((size_t)mn);
        float *fm = tg_rand_buf(mn);
        for (int64_t i = 0; i < mn; i++) bm[i] = tg_randi(0, 3) != 0;
        if (mask_kind == 1 && L > 0) /* one fully masked row */
            for (int64_t s = 0; s < S; s++) bm[s] = 0;
        int64_t mst[3] = {full ? L * S : 0, S, 1};
        tg t;
        tg_init(&t, "scaled_dot_product_attention", 18);
        tg_param(&t, "query", tg_f32(&t, "q", r, qs, q, false));
        tg_param(&t, "key", tg_f32(&t, "k", r, ks, k, false));
        tg_param(&t, "value", tg_f32(&t, "v", r, vs, v, false));
        if (mask_kind == 1) tg_param(&t, "attn_mask", tg_value(&t, "m", CML_DTYPE_BOOL, false, mr, ms, bm, false));
        if (mask_kind == 2) tg_param(&t, "attn_mask", tg_f32(&t, "m", mr, ms, fm, false));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "sdpa: %s", t.err.msg);
        int64_t os[4];
        memcpy(os, qs, sizeof os);
        os[r - 1] = EV;
        CHECK(tg_shape_is(tg_o(&t, 0), r, os));
        double *ref = malloc(sizeof(double) * (size_t)(nb * L * EV));
        ref_sdpa(q, k, v, nb, L, S, E, EV, mask_kind, mask_kind == 1 ? (void *)bm : (void *)fm, mst, ref);
        int bad = 0;
        for (int64_t i = 0; st == CML_OK && i < nb * L * EV; i++) {
            float got = tg_of(&t, 0)[i];
            if (isnan(got) || fabs(got - ref[i]) > 1e-5 * (1 + fabs(ref[i]))) bad++;
        }
        CHECK_MSG(bad == 0, "sdpa rank %d mask %d full %d: %d mismatches", r, mask_kind, full, bad);
        tg_free(&t);
        free(q), free(k), free(v), free(bm), free(fm), free(ref);
    }
    /* mismatched key/value sequence lengths are rejected at load */
    float z[64] = {0};
    int64_t qs[3] = {1, 2, 4}, ks[3] = {1, 3, 4}, vs[3] = {1, 2, 4};
    tg t;
    tg_init(&t, "scaled_dot_product_attention", 18);
    tg_param(&t, "query", tg_f32(&t, "q", 3, qs, z, false));
    tg_param(&t, "key", tg_f32(&t, "k", 3, ks, z, false));
    tg_param(&t, "value", tg_f32(&t, "v", 3, vs, z, false));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    tg_free(&t);
}

int main(void) {
    test_sdpa();
    TEST_MAIN_END();
}
