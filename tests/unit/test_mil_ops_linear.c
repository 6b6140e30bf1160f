/* linear, matmul (transpose flags, batch broadcasting, 1-D rules, int32)
 * and einsum against naive references. */
#include "core/fp16.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "mil/ops.h"
#include "test_mil_ops_util.h"

static cml_threadpool *test_pool;

static void test_linear(void) {
    for (int trial = 0; trial < 10; trial++) {
        int32_t r = tg_randi(1, 3);
        int64_t xs[3], din = tg_randi(1, 40), dout = tg_randi(1, 33), m = 1;
        for (int32_t i = 0; i < r - 1; i++) m *= (xs[i] = tg_randi(1, 5));
        xs[r - 1] = din;
        int64_t ws[2] = {dout, din};
        float *x = tg_rand_buf(m * din), *w = tg_rand_buf(dout * din), *b = tg_rand_buf(dout);
        bool with_bias = trial % 3 != 0;
        tg t;
        tg_init(&t, "linear", 15);
        tg_param(&t, "x", tg_f32(&t, "x", r, xs, x, false));
        tg_param(&t, "weight", tg_f32(&t, "w", 2, ws, w, true));
        if (with_bias) tg_param(&t, "bias", tg_f32(&t, "b", 1, &dout, b, true));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "linear: %s", t.err.msg);
        int64_t os[3];
        memcpy(os, xs, sizeof os);
        os[r - 1] = dout;
        CHECK(tg_shape_is(tg_o(&t, 0), r, os));
        int bad = 0;
        for (int64_t i = 0; st == CML_OK && i < m; i++)
            for (int64_t j = 0; j < dout; j++) {
                double acc = with_bias ? b[j] : 0;
                for (int64_t k = 0; k < din; k++) acc += (double)x[i * din + k] * w[j * din + k];
                if (fabs(tg_of(&t, 0)[i * dout + j] - acc) > 1e-4 * (1 + fabs(acc))) bad++;
            }
        CHECK_MSG(bad == 0, "linear: %d mismatches", bad);
        tg_free(&t);
        free(x), free(w), free(b);
    }
    /* shape mismatch is caught at load */
    float z[12] = {0};
    int64_t xs[2] = {2, 3}, ws[2] = {2, 4};
    tg t;
    tg_init(&t, "linear", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 2, xs, z, false));
    tg_param(&t, "weight", tg_f32(&t, "w", 2, ws, z, true));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    tg_free(&t);
}

/* element (i, j) of op(A) where A is a [.., R, C] matrix at base */
static double mat_at(const float *base, int64_t R, int64_t C, bool tr, int64_t i, int64_t j) {
    (void)R;
    return tr ? base[j * C + i] : base[i * C + j];
}

static void test_matmul(void) {
    for (int trial = 0; trial < 40; trial++) {
        bool tx = tg_randi(0, 1), ty = tg_randi(0, 1);
        int64_t M = tg_randi(1, 9), N = tg_randi(1, 9), K = tg_randi(1, 17);
        int32_t xr = tg_randi(1, 4), yr = tg_randi(1, 4);
        if (xr == 1) tx = false, M = 1;
        if (yr == 1) ty = false, N = 1;
        /* batch dims with broadcasting */
        int32_t br = (xr > yr ? xr : yr) - 2;
        if (br < 0) br = 0;
        int64_t batch[2];
        for (int32_t i = 0; i < br; i++) batch[i] = tg_randi(1, 3);
        int64_t xs[4], ys[4];
        int32_t xb = xr - 2 > 0 ? xr - 2 : 0, yb = yr - 2 > 0 ? yr - 2 : 0;
        for (int32_t i = 0; i < xb; i++) xs[i] = tg_randi(0, 2) ? batch[br - xb + i] : 1;
        for (int32_t i = 0; i < yb; i++) ys[i] = tg_randi(0, 2) ? batch[br - yb + i] : 1;
        for (int32_t i = 0; i < br; i++) {
            int64_t a = i >= br - xb ? xs[i - (br - xb)] : 1, b = i >= br - yb ? ys[i - (br - yb)] : 1;
            batch[i] = a > b ? a : b;
        }
        if (xr == 1) xs[0] = K;
        else xs[xr - 2] = tx ? K : M, xs[xr - 1] = tx ? M : K;
        if (yr == 1) ys[0] = K;
        else ys[yr - 2] = ty ? N : K, ys[yr - 1] = ty ? K : N;
        int64_t nx = 1, ny = 1;
        for (int32_t i = 0; i < xr; i++) nx *= xs[i];
        for (int32_t i = 0; i < yr; i++) ny *= ys[i];
        float *x = tg_rand_buf(nx), *y = tg_rand_buf(ny);
        tg t;
        tg_init(&t, "matmul", 15);
        t.ctx.pool = test_pool; /* batches split over a pool on the second pass */
        tg_param(&t, "x", tg_f32(&t, "x", xr, xs, x, false));
        tg_param(&t, "y", tg_f32(&t, "y", yr, ys, y, trial % 2));
        tg_param(&t, "transpose_x", tg_scalar_b(&t, "tx", tx));
        tg_param(&t, "transpose_y", tg_scalar_b(&t, "ty", ty));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "matmul: %s", t.err.msg);
        if (st != CML_OK) {
            tg_free(&t);
            free(x), free(y);
            continue;
        }
        int64_t os[4];
        int32_t orank = 0;
        for (int32_t i = 0; i < br; i++) os[orank++] = batch[i];
        if (xr > 1) os[orank++] = M;
        if (yr > 1) os[orank++] = N;
        CHECK_MSG(tg_shape_is(tg_o(&t, 0), orank, os), "matmul out rank %d", tg_o(&t, 0)->rank);
        int64_t nb = 1;
        for (int32_t i = 0; i < br; i++) nb *= batch[i];
        int bad = 0;
        for (int64_t b = 0; b < nb; b++) {
            int64_t idx[2] = {0, 0}, xo = 0, yo = 0;
            tg_unravel(b, br, batch, idx);
            xo = tg_bcast_off(br, idx, xb, xs) * M * K;
            yo = tg_bcast_off(br, idx, yb, ys) * K * N;
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    double acc = 0;
                    for (int64_t k = 0; k < K; k++)
                        acc += mat_at(x + xo, tx ? K : M, tx ? M : K, tx, i, k) *
                               mat_at(y + yo, ty ? N : K, ty ? K : N, ty, k, j);
                    if (fabs(tg_of(&t, 0)[(b * M + i) * N + j] - acc) > 1e-4 * (1 + fabs(acc))) bad++;
                }
        }
        CHECK_MSG(bad == 0, "matmul xr=%d yr=%d tx=%d ty=%d: %d mismatches", xr, yr, tx, ty, bad);
        tg_free(&t);
        free(x), free(y);
    }
    /* int32 matmul, 1-D . 1-D -> scalar */
    int32_t a[3] = {1, 2, 3}, b[3] = {4, -5, 6};
    int64_t s3 = 3;
    tg t;
    tg_init(&t, "matmul", 15);
    tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_INT32, false, 1, &s3, a, false));
    tg_param(&t, "y", tg_value(&t, "y", CML_DTYPE_INT32, false, 1, &s3, b, false));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
    CHECK(tg_o(&t, 0)->rank == 0 && ((int32_t *)tg_o(&t, 0)->data)[0] == 12);
    tg_free(&t);
    /* incompatible K */
    float z[12] = {0};
    int64_t xs[2] = {2, 3}, ys[2] = {4, 2};
    tg_init(&t, "matmul", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 2, xs, z, false));
    tg_param(&t, "y", tg_f32(&t, "y", 2, ys, z, false));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    tg_free(&t);
}

static void test_einsum(void) {
    const char *eqs[] = {"nchw,nwhu->nchu", "abcd,adce->abce", "chw,whr->chr", "xyz,zyw->xyw"};
    for (int k = 0; k < 4; k++) {
        bool r4 = k < 2;
        int64_t N = 2, C = 3, H = 4, W = 5, U = 6;
        int64_t bN = r4 && k == 1 ? 1 : N, aH = k == 1 ? 1 : H; /* broadcasting n / h */
        int64_t as4[4] = {N, C, aH, W}, bs4[4] = {bN, W, H, U};
        int64_t as3[3] = {C, aH, W}, bs3[3] = {W, H, U};
        int64_t na = r4 ? N * C * aH * W : C * aH * W, nb = r4 ? bN * W * H * U : W * H * U;
        float *a = tg_rand_buf(na), *b = tg_rand_buf(nb);
        tg t;
        tg_init(&t, "einsum", 15);
        tg_param(&t, "values", tg_f32(&t, "a", r4 ? 4 : 3, r4 ? as4 : as3, a, false));
        tg_param(&t, "values", tg_f32(&t, "b", r4 ? 4 : 3, r4 ? bs4 : bs3, b, false));
        tg_param(&t, "equation", tg_str(&t, "eq", eqs[k]));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "einsum %s: %s", eqs[k], t.err.msg);
        int64_t nn = r4 ? N : 1, bad = 0;
        for (int64_t n = 0; st == CML_OK && n < nn; n++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t h = 0; h < H; h++)
                    for (int64_t u = 0; u < U; u++) {
                        double acc = 0;
                        for (int64_t w = 0; w < W; w++) {
                            int64_t ai = ((n * C + c) * aH + (aH == 1 ? 0 : h)) * W + w;
                            int64_t bi = (((bN == 1 ? 0 : n) * W + w) * H + h) * U + u;
                            acc += (double)a[ai] * b[bi];
                        }
                        if (fabs(tg_of(&t, 0)[((n * C + c) * H + h) * U + u] - acc) > 1e-4) bad++;
                    }
        CHECK_MSG(bad == 0, "einsum %s: %lld mismatches", eqs[k], (long long)bad);
        tg_free(&t);
        free(a), free(b);
    }
    float z[64] = {0};
    int64_t s3[3] = {2, 2, 2};
    tg t;
    tg_init(&t, "einsum", 15);
    tg_param(&t, "values", tg_f32(&t, "a", 3, s3, z, false));
    tg_param(&t, "values", tg_f32(&t, "b", 3, s3, z, false));
    tg_param(&t, "equation", tg_str(&t, "eq", "abc,cbd->abd "));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_OK);
    tg_free(&t);
    tg_init(&t, "einsum", 15);
    tg_param(&t, "values", tg_f32(&t, "a", 3, s3, z, false));
    tg_param(&t, "values", tg_f32(&t, "b", 3, s3, z, false));
    tg_param(&t, "equation", tg_str(&t, "eq", "abc,bcd->abd"));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_UNSUPPORTED);
    tg_free(&t);
}

/* ---- fp16 weights kept as fp16 (mil.h half) and prepacked weights (gemm_nr) ----
 * Each variant must give exactly the bytes of the same op on float weights
 * holding the widened values. */

enum { W_FLOAT, W_HALF, W_PACKED_FLOAT, W_PACKED_HALF };

/* linear (or matmul with y = the weight, transpose_y) over x[m, din]; w as
 * fp16 bits; variant picks the weight's storage. Returns the run status;
 * out gets m * dout floats; *packed whether prepacking packed the weight. */
static cml_status fp16w_run(const char *op, int variant, int64_t m, int64_t din, int64_t dout,
                            const float *x, const uint16_t *wh, const float *b, float *out,
                            bool *packed) {
    int64_t xs[2] = {m, din}, ws[2] = {dout, din};
    float *wf = malloc(sizeof(float) * (size_t)(din * dout));
    for (int64_t i = 0; i < din * dout; i++) wf[i] = cml_fp16_to_fp32(wh[i]);
    tg t;
    tg_init(&t, op, 15);
    bool lin = strcmp(op, "linear") == 0;
    tg_param(&t, "x", tg_f32(&t, "x", 2, xs, x, false));
    cml_mil_vid wv = tg_f32(&t, "w", 2, ws, wf, true);
    tg_param(&t, lin ? "weight" : "y", wv);
    if (lin) tg_param(&t, "bias", tg_f32(&t, "b", 1, &dout, b, true));
    else tg_param(&t, "transpose_y", tg_scalar_b(&t, "ty", true));
    tg_out(&t, 1);
    cml_mil_value *w = tg_v(&t, wv);
    w->fp16 = true;
    if (variant == W_HALF || variant == W_PACKED_HALF) {
        memcpy(w->data, wh, sizeof(uint16_t) * (size_t)(din * dout));
        w->half = true;
        w->capacity = sizeof(uint16_t) * (size_t)(din * dout);
    }
    cml_status st = tg_infer(&t);
    if (st == CML_OK && variant >= W_PACKED_FLOAT) {
        t.g.main.nodes = &t.node;
        t.g.main.nnodes = 1;
        st = cml_mil_prepack_linear(&t.g, &t.err);
    }
    *packed = w->gemm_nr != 0;
    if (st == CML_OK) st = tg_run(&t);
    if (st == CML_OK) memcpy(out, tg_of(&t, 0), sizeof(float) * (size_t)(m * dout));
    tg_free(&t);
    free(wf);
    return st;
}

static void test_fp16_weights(void) {
    static const int64_t ms[] = {1, 4, 8, 9, 20, 130};
    const int64_t din = 37, dout = 45;
    uint16_t *wh = malloc(sizeof(uint16_t) * (size_t)(din * dout));
    for (int64_t i = 0; i < din * dout; i++) wh[i] = cml_fp32_to_fp16(tg_randf());
    wh[0] = 0x8000u;  /* -0 */
    wh[1] = 0x0001u;  /* smallest subnormal */
    float *b = tg_rand_buf(dout);
    for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++) {
        int64_t m = ms[mi];
        float *x = tg_rand_buf(m * din);
        float *ref = malloc(sizeof(float) * (size_t)(m * dout));
        float *got = malloc(sizeof(float) * (size_t)(m * dout));
        for (int o = 0; o < 2; o++) {
            const char *op = o ? "matmul" : "linear";
            bool packed = false;
            CHECK(fp16w_run(op, W_FLOAT, m, din, dout, x, wh, b, ref, &packed) == CML_OK);
            for (int v = W_HALF; v <= W_PACKED_HALF; v++) {
                /* kernels without fp16 B (NEON) never get half weights (compile.c) */
                if ((v == W_HALF || v == W_PACKED_HALF) && !cml_k_gemm_takes_f16()) continue;
                cml_status st = fp16w_run(op, v, m, din, dout, x, wh, b, got, &packed);
                CHECK_MSG(st == CML_OK && memcmp(ref, got, sizeof(float) * (size_t)(m * dout)) == 0,
                          "%s m=%lld variant %d differs from float weights", op, (long long)m, v);
                /* only linear over more than CML_GEMM_SMALL_M_MAX static rows is packed */
                bool want = o == 0 && v >= W_PACKED_FLOAT && m > CML_GEMM_SMALL_M_MAX;
                CHECK_MSG(packed == want, "%s m=%lld variant %d packed=%d", op, (long long)m, v,
                          packed);
            }
            /* against a double reference too (the float path is checked above) */
            int bad = 0;
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < dout; j++) {
                    double acc = o ? 0 : b[j];
                    for (int64_t k = 0; k < din; k++)
                        acc += (double)x[i * din + k] * cml_fp16_to_fp32(wh[j * din + k]);
                    if (fabs(ref[i * dout + j] - acc) > 1e-4 * (1 + fabs(acc))) bad++;
                }
            CHECK_MSG(bad == 0, "%s m=%lld: %d mismatches against the reference", op,
                      (long long)m, bad);
        }
        free(x), free(ref), free(got);
    }
    free(wh), free(b);
}

int main(void) {
    test_linear();
    test_matmul();
    CHECK(cml_threadpool_create(2, NULL, &test_pool) == CML_OK);
    test_matmul();
    cml_threadpool_destroy(test_pool);
    test_pool = NULL;
    test_einsum();
    test_fp16_weights();
    TEST_MAIN_END();
}
