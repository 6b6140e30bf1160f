/* gemm and thread pool tests: every ISA level, with and without a pool,
 * against a double-precision reference over randomized shapes and tails. */
#include <stdatomic.h>
#include <string.h>

#include "core/fp16.h"
#include "core/threadpool.h"
#include "harness.h"
#include "kernels/kernels.h"
#include "kernels/kinternal.h"
#include "test_kernels_common.h"

#define SENTINEL 12345.0f

typedef struct gcase {
    size_t M, N, K, lda, ldb, ldc;
    bool trans_b, has_bias, accumulate;
} gcase;

static void ref_gemm(const gcase *c, const float *A, const float *B, const float *bias,
                     const float *C0, double *ref, double *absref) {
    for (size_t i = 0; i < c->M; i++) {
        for (size_t j = 0; j < c->N; j++) {
            double s = 0.0, as = 0.0;
            for (size_t k = 0; k < c->K; k++) {
                double b = c->trans_b ? B[j * c->ldb + k] : B[k * c->ldb + j];
                s += (double)A[i * c->lda + k] * b;
                as += fabs((double)A[i * c->lda + k] * b);
            }
            if (c->has_bias) {
                s += bias[j];
                as += fabs(bias[j]);
            }
            if (c->accumulate) {
                s += C0[i * c->ldc + j];
                as += fabs(C0[i * c->ldc + j]);
            }
            ref[i * c->N + j] = s;
            absref[i * c->N + j] = as;
        }
    }
}

static int run_case(const gcase *c, cml_threadpool **pools, int npools) {
    size_t a_n = c->M * c->lda;
    size_t b_rows = c->trans_b ? c->N : c->K;
    size_t b_n = b_rows * c->ldb;
    size_t c_n = c->M * c->ldc;
    float *A = malloc((a_n + 1) * sizeof *A), *B = malloc((b_n + 1) * sizeof *B);
    float *bias = malloc((c->N + 1) * sizeof *bias);
    float *C0 = malloc((c_n + 1) * sizeof *C0), *C = malloc((c_n + 1) * sizeof *C);
    double *ref = malloc((c->M * c->N + 1) * sizeof *ref), *absref = malloc((c->M * c->N + 1) * sizeof *absref);
    tk_fill(A, a_n, -1.0f, 1.0f);
    tk_fill(B, b_n, -1.0f, 1.0f);
    tk_fill(bias, c->N, -1.0f, 1.0f);
    for (size_t i = 0; i < c->M; i++)
        for (size_t j = 0; j < c->ldc; j++)
            C0[i * c->ldc + j] = j < c->N ? tk_uniform(-1.0f, 1.0f) : SENTINEL;
    ref_gemm(c, A, B, bias, C0, ref, absref);
    int failures = 0;
    for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
        tk_set_level(lvl);
        for (int pi = 0; pi < npools; pi++) {
            memcpy(C, C0, c_n * sizeof *C);
            cml_k_gemm_f32(pools[pi], c->M, c->N, c->K, A, c->lda, B, c->ldb, c->trans_b,
                           c->has_bias ? bias : NULL, C, c->ldc, c->accumulate);
            double gamma = (double)(c->K + 4) * 1.2e-7;
            for (size_t i = 0; i < c->M && !failures; i++) {
                for (size_t j = 0; j < c->ldc; j++) {
                    float got = C[i * c->ldc + j];
                    bool ok;
                    if (j >= c->N) {
                        ok = got == SENTINEL;
                    } else {
                        double want = ref[i * c->N + j];
                        ok = fabs(got - want) <= gamma * absref[i * c->N + j] + 1e-6;
                    }
                    if (!ok) {
                        fprintf(stderr,
                                "gemm mismatch lvl=%d pool=%d M=%zu N=%zu K=%zu lda=%zu ldb=%zu "
                                "ldc=%zu tb=%d bias=%d acc=%d at (%zu,%zu): got %g want %g\n",
                                lvl, pi, c->M, c->N, c->K, c->lda, c->ldb, c->ldc, c->trans_b,
                                c->has_bias, c->accumulate, i, j, got,
                                j < c->N ? ref[i * c->N + j] : SENTINEL);
                        failures++;
                        break;
                    }
                }
            }
        }
    }
    tk_set_level(-1);
    free(A);
    free(B);
    free(bias);
    free(C0);
    free(C);
    free(ref);
    free(absref);
    return failures;
}

static const size_t dims[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 24, 25, 31, 32,
                              33, 47, 48, 49, 63, 64, 65, 97, 100};
static const size_t kdims[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 255, 256, 257, 300, 513};

static size_t pick(const size_t *v, size_t n) { return v[tk_next() % n]; }

static void test_gemm_random(cml_threadpool **pools, int npools) {
    tk_seed(42);
    const int ncases = 220;
    int failed_cases = 0;
    for (int t = 0; t < ncases; t++) {
        gcase c;
        c.M = pick(dims, sizeof dims / sizeof dims[0]);
        c.N = pick(dims, sizeof dims / sizeof dims[0]);
        c.K = pick(kdims, sizeof kdims / sizeof kdims[0]);
        if (c.K > 256 && c.M * c.N > 2500) c.K = 64; /* keep the reference cheap */
        c.trans_b = tk_next() & 1;
        c.has_bias = tk_next() & 1;
        c.accumulate = (tk_next() % 3) == 0;
        c.lda = c.K + (tk_next() & 1 ? (size_t)tk_int(1, 5) : 0);
        c.ldb = (c.trans_b ? c.K : c.N) + (tk_next() & 1 ? (size_t)tk_int(1, 5) : 0);
        c.ldc = c.N + (tk_next() & 1 ? (size_t)tk_int(1, 5) : 0);
        if (run_case(&c, pools, npools)) failed_cases++;
    }
    CHECK_MSG(failed_cases == 0, "%d of %d random gemm cases failed", failed_cases, ncases);
}

static void test_gemm_shapes(cml_threadpool **pools, int npools) {
    /* Shapes that hit specific paths: gemv-like, small-M trans_b, big panels. */
    static const gcase cases[] = {
        {1, 1000, 1280, 1280, 1280, 1000, true, true, false},
        {1, 1000, 1280, 1280, 1000, 1000, false, true, false},
        {4, 333, 129, 129, 129, 333, true, false, true},
        {8, 77, 200, 200, 200, 77, true, true, false},
        {9, 77, 200, 200, 200, 77, true, true, false},
        {3, 130, 70, 70, 130, 130, false, false, false},
        {5, 130, 70, 70, 130, 130, false, true, true},
        {130, 49, 320, 320, 49, 49, false, true, false},
        {64, 200, 27, 27, 200, 200, false, false, false},
        {200, 3, 40, 40, 40, 3, true, true, true},
        {1, 1, 1, 1, 1, 1, false, false, false},
        {1, 1, 1, 1, 1, 1, true, true, true},
        {2, 3, 0, 1, 3, 3, false, true, true},
        {97, 95, 530, 530, 530, 95, true, true, false},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (run_case(&cases[i], pools, npools)) failed++;
    CHECK_MSG(failed == 0, "%d fixed-shape gemm cases failed", failed);
}

/* ---- fp16 B -------------------------------------------------------------------------
 * cml_k_gemm_f32_f16b must equal, bit for bit, cml_k_gemm_f32 on B widened to
 * float (scalar reference conversion), at every ISA level and pool: the same
 * summation order on the same values. B holds random fp16 bit patterns
 * (normals, subnormals, signed zeros; no inf/NaN). */

static uint16_t rand_half(void) {
    uint16_t h = (uint16_t)(tk_next() & 0xffffu);
    if (((h >> 10) & 0x1f) == 0x1f) h &= 0xbfffu; /* inf/NaN exponent -> a normal */
    if (((h >> 10) & 0x1f) > 16) h = (uint16_t)((h & 0x83ffu) | (14u << 10)); /* |x| < 2 */
    return h;
}

static int run_f16b_case(const gcase *c, cml_threadpool **pools, int npools) {
    size_t b_n = (c->trans_b ? c->N : c->K) * c->ldb, a_n = c->M * c->lda, c_n = c->M * c->ldc;
    float *A = malloc((a_n + 1) * sizeof *A), *Bf = malloc((b_n + 1) * sizeof *Bf);
    uint16_t *Bh = malloc((b_n + 1) * sizeof *Bh);
    float *bias = malloc((c->N + 1) * sizeof *bias), *C0 = malloc((c_n + 1) * sizeof *C0);
    float *Cw = malloc((c_n + 1) * sizeof *Cw), *Ch = malloc((c_n + 1) * sizeof *Ch);
    tk_fill(A, a_n, -1.0f, 1.0f);
    tk_fill(bias, c->N, -1.0f, 1.0f);
    tk_fill(C0, c_n, -1.0f, 1.0f);
    for (size_t i = 0; i < b_n; i++) {
        Bh[i] = rand_half();
        Bf[i] = cml_fp16_to_fp32(Bh[i]);
    }
    int failures = 0;
    for (int lvl = 0; lvl < tk_num_levels() && !failures; lvl++) {
        tk_set_level(lvl);
        if (!cml_k_gemm_takes_f16()) continue; /* fp16 weights are widened at load there */
        for (int pi = 0; pi < npools && !failures; pi++) {
            memcpy(Cw, C0, c_n * sizeof *Cw);
            memcpy(Ch, C0, c_n * sizeof *Ch);
            const float *bp = c->has_bias ? bias : NULL;
            cml_k_gemm_f32(pools[pi], c->M, c->N, c->K, A, c->lda, Bf, c->ldb, c->trans_b, bp, Cw,
                           c->ldc, c->accumulate);
            cml_k_gemm_f32_f16b(pools[pi], c->M, c->N, c->K, A, c->lda, Bh, c->ldb, c->trans_b,
                                bp, Ch, c->ldc, c->accumulate);
            if (memcmp(Cw, Ch, c_n * sizeof *Cw) != 0) {
                fprintf(stderr, "f16b mismatch lvl=%d pool=%d M=%zu N=%zu K=%zu tb=%d\n", lvl, pi,
                        c->M, c->N, c->K, c->trans_b);
                failures++;
            }
        }
    }
    tk_set_level(-1);
    free(A), free(Bf), free(Bh), free(bias), free(C0), free(Cw), free(Ch);
    return failures;
}

static void test_gemm_f16b(cml_threadpool **pools, int npools) {
    static const gcase fixed[] = {
        {1, 1000, 1280, 1280, 1280, 1000, true, true, false},
        {1, 1000, 1280, 1280, 1000, 1000, false, true, false},
        {8, 77, 200, 200, 200, 77, true, true, false},
        {3, 130, 70, 70, 130, 130, false, false, true},
        {128, 96, 300, 300, 300, 96, true, true, false},
        {33, 50, 19, 19, 53, 50, false, true, true},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (run_f16b_case(&fixed[i], pools, npools)) failed++;
    tk_seed(7);
    for (int t = 0; t < 120; t++) {
        gcase c;
        c.M = pick(dims, sizeof dims / sizeof dims[0]);
        c.N = pick(dims, sizeof dims / sizeof dims[0]);
        c.K = pick(kdims, sizeof kdims / sizeof kdims[0]);
        c.trans_b = tk_next() & 1;
        c.has_bias = tk_next() & 1;
        c.accumulate = (tk_next() % 3) == 0;
        c.lda = c.K + (tk_next() & 1 ? (size_t)tk_int(1, 5) : 0);
        c.ldb = (c.trans_b ? c.K : c.N) + (tk_next() & 1 ? (size_t)tk_int(1, 5) : 0);
        c.ldc = c.N + (tk_next() & 1 ? (size_t)tk_int(1, 5) : 0);
        if (run_f16b_case(&c, pools, npools)) failed++;
    }
    CHECK_MSG(failed == 0, "%d fp16-B gemm cases differ from the widened-B gemm", failed);
}

/* ---- prepacked B -----------------------------------------------------------------------
 * cml_k_gemm_f32_packed must equal cml_k_gemm_f32 bit for bit for M >
 * CML_GEMM_SMALL_M_MAX (same packed-path sums), for float and fp16 packs,
 * packs made at the running level's nr and at every other level's nr. */

static int n_inplace;

static int run_packed_case(const gcase *c, bool f16, cml_threadpool **pools, int npools) {
    size_t b_n = (c->trans_b ? c->N : c->K) * c->ldb, a_n = c->M * c->lda, c_n = c->M * c->ldc;
    float *A = malloc((a_n + 1) * sizeof *A), *Bf = malloc((b_n + 1) * sizeof *Bf);
    uint16_t *Bh = malloc((b_n + 1) * sizeof *Bh);
    float *bias = malloc((c->N + 1) * sizeof *bias), *C0 = malloc((c_n + 1) * sizeof *C0);
    float *Cw = malloc((c_n + 1) * sizeof *Cw), *Cp = malloc((c_n + 1) * sizeof *Cp);
    tk_fill(A, a_n, -1.0f, 1.0f);
    tk_fill(bias, c->N, -1.0f, 1.0f);
    tk_fill(C0, c_n, -1.0f, 1.0f);
    for (size_t i = 0; i < b_n; i++) {
        Bh[i] = rand_half();
        Bf[i] = f16 ? cml_fp16_to_fp32(Bh[i]) : tk_uniform(-1.0f, 1.0f);
    }
    int failures = 0;
    for (int pack_lvl = 0; pack_lvl < tk_num_levels() && !failures; pack_lvl++) {
        tk_set_level(pack_lvl);
        size_t nr = cml_k_gemm_packed_nr();
        size_t bytes = cml_k_gemm_packed_size(c->N, c->K, nr, f16 ? 2 : 4);
        void *packed = aligned_alloc(64, (bytes + 63) / 64 * 64);
        cml_k_gemm_pack_b(c->N, c->K, f16 ? (const void *)Bh : (const void *)Bf, c->ldb,
                          c->trans_b, f16, nr, packed);
        if (c->trans_b && c->ldb == c->K && c->N % nr == 0) { /* in place gives the same bytes */
            size_t es = f16 ? 2 : 4;
            /* odd address: the pack must not assume alignment */
            char *buf = malloc(bytes + 4), *inplace = buf + 4, *tmp = malloc(nr * c->K * es);
            memcpy(inplace, f16 ? (const void *)Bh : (const void *)Bf, bytes);
            cml_k_gemm_pack_b_inplace(c->N, c->K, inplace, f16, nr, tmp);
            if (memcmp(inplace, packed, bytes) != 0) failures++;
            n_inplace++;
            free(buf), free(tmp);
        }
        for (int lvl = 0; lvl < tk_num_levels() && !failures; lvl++) {
            tk_set_level(lvl);
            for (int pi = 0; pi < npools && !failures; pi++) {
                memcpy(Cw, C0, c_n * sizeof *Cw);
                memcpy(Cp, C0, c_n * sizeof *Cp);
                const float *bp = c->has_bias ? bias : NULL;
                cml_k_gemm_f32(pools[pi], c->M, c->N, c->K, A, c->lda, Bf, c->ldb, c->trans_b, bp,
                               Cw, c->ldc, c->accumulate);
                cml_k_gemm_f32_packed(pools[pi], c->M, c->N, c->K, A, c->lda, packed, nr, f16, bp,
                                      Cp, c->ldc, c->accumulate);
                if (memcmp(Cw, Cp, c_n * sizeof *Cw) != 0) {
                    fprintf(stderr, "packed mismatch f16=%d pack_lvl=%d lvl=%d pool=%d M=%zu N=%zu "
                            "K=%zu tb=%d\n", f16, pack_lvl, lvl, pi, c->M, c->N, c->K, c->trans_b);
                    failures++;
                }
            }
        }
        free(packed);
    }
    tk_set_level(-1);
    free(A), free(Bf), free(Bh), free(bias), free(C0), free(Cw), free(Cp);
    return failures;
}

static void test_gemm_packed(cml_threadpool **pools, int npools) {
    static const gcase fixed[] = {
        {128, 96, 300, 300, 300, 96, true, true, false},
        {9, 77, 200, 200, 200, 77, true, true, false},
        {33, 50, 19, 19, 53, 50, false, true, true},
        {20, 40, 513, 513, 513, 40, true, false, true},
        {12, 64, 70, 70, 70, 64, true, true, false},
        {10, 32, 33, 33, 33, 32, true, false, false},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        for (int h = 0; h < 2; h++)
            if (run_packed_case(&fixed[i], h, pools, npools)) failed++;
    tk_seed(11);
    for (int t = 0; t < 60; t++) {
        gcase c;
        c.M = CML_GEMM_SMALL_M_MAX + 1 + pick(dims, sizeof dims / sizeof dims[0]);
        c.N = pick(dims, sizeof dims / sizeof dims[0]);
        c.K = pick(kdims, sizeof kdims / sizeof kdims[0]);
        c.trans_b = tk_next() & 1;
        c.has_bias = tk_next() & 1;
        c.accumulate = (tk_next() % 3) == 0;
        c.lda = c.K + (tk_next() & 1 ? (size_t)tk_int(1, 5) : 0);
        c.ldb = (c.trans_b ? c.K : c.N) + (tk_next() & 1 ? (size_t)tk_int(1, 5) : 0);
        c.ldc = c.N + (tk_next() & 1 ? (size_t)tk_int(1, 5) : 0);
        if (run_packed_case(&c, t & 1, pools, npools)) failed++;
    }
    CHECK_MSG(failed == 0, "%d prepacked gemm cases differ from the unpacked gemm", failed);
    CHECK_MSG(n_inplace > 0, "no in-place pack was compared");
    /* the prepacked path matches the unpacked one only above every kit's small-M limit */
    for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
        tk_set_level(lvl);
        CHECK(cml_k_gemm_kit()->small_t_max_m <= CML_GEMM_SMALL_M_MAX);
    }
    tk_set_level(-1);
    CHECK(cml_k_gemm_packed_size(SIZE_MAX / 2, 3, 16, 4) == SIZE_MAX);
    CHECK(cml_k_gemm_packed_size(17, 3, 16, 2) == 32 * 3 * 2);
}

/* ---- fp16 A (kinternal.h cml_k_gemm_f16a_*) ------------------------------------------
 * Equal, bit for bit, to the float-A calls on the widened values: rbias
 * variant (with a row bias, and with clamp) and bpack variant (a plain
 * B[K, N] panel packer standing in for im2col). */

typedef struct bp_ctx {
    const float *B;
    size_t ldb;
} bp_ctx;

static void bp_pack(void *ctx, size_t k0, size_t kc, size_t j0, size_t nr, float *Bp, size_t NR) {
    const bp_ctx *b = ctx;
    for (size_t k = 0; k < kc; k++)
        for (size_t j = 0; j < NR; j++) Bp[k * NR + j] = j < nr ? b->B[(k0 + k) * b->ldb + j0 + j] : 0.0f;
}

static void test_gemm_f16a(cml_threadpool **pools, int npools) {
    static const size_t shapes[][3] = {{5, 40, 70}, {16, 33, 300}, {64, 100, 27}, {7, 17, 513},
                                       {1, 9, 8}, {13, 1, 1}};
    int failed = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], lda = K + 3;
        uint16_t *Ah = malloc(M * lda * sizeof *Ah);
        float *Af = malloc(M * lda * sizeof *Af), *B = malloc(K * N * sizeof *B);
        float *rb = malloc(M * sizeof *rb), *Cw = malloc(M * N * sizeof *Cw), *Ch = malloc(M * N * sizeof *Ch);
        for (size_t i = 0; i < M * lda; i++) Af[i] = cml_fp16_to_fp32(Ah[i] = rand_half());
        tk_fill(B, K * N, -1.0f, 1.0f);
        tk_fill(rb, M, -1.0f, 1.0f);
        bp_ctx bc = {B, N};
        for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
            tk_set_level(lvl);
            for (int pi = 0; pi < npools; pi++)
                for (int v = 0; v < 3; v++) {
                    bool clamp = v == 2;
                    if (v == 0) {
                        cml_k_gemm_f32_bpack(pools[pi], M, N, K, Af, lda, bp_pack, &bc, rb, Cw, N,
                                             false, 0, 0, false, NULL);
                        cml_k_gemm_f16a_bpack(pools[pi], M, N, K, Ah, lda, bp_pack, &bc, rb, Ch, N,
                                              false, 0, 0, false, NULL);
                    } else {
                        cml_k_gemm_f32_rbias(pools[pi], M, N, K, Af, lda, B, N, rb, Cw, N, clamp,
                                             -0.5f, 0.5f, false, NULL);
                        cml_k_gemm_f16a_rbias(pools[pi], M, N, K, Ah, lda, B, N, rb, Ch, N, clamp,
                                              -0.5f, 0.5f, false, NULL);
                    }
                    if (memcmp(Cw, Ch, M * N * sizeof *Cw) != 0) {
                        fprintf(stderr, "f16a mismatch lvl=%d pool=%d v=%d M=%zu N=%zu K=%zu\n", lvl,
                                pi, v, M, N, K);
                        failed++;
                    }
                }
        }
        tk_set_level(-1);
        free(Ah), free(Af), free(B), free(rb), free(Cw), free(Ch);
    }
    CHECK_MSG(failed == 0, "%d fp16-A gemm calls differ from the float-A gemm", failed);
}

/* The fused epilogue of the conv gemms -- fp16 rounding (round16) and a
 * residual add (res) -- equals the unfused call's results finished
 * afterwards (rounded with cml_round_fp16, res added, rounded again), bit
 * for bit, at every level, for float and fp16 A, the packed, bpack and
 * small-M paths (no row bias, no clamp, M <= 4), with and without clamp,
 * and K == 0. */
static void g16_call(cml_threadpool *pool, size_t M, size_t N, size_t K, const void *A, size_t lda,
                     const float *B, const float *rb, float *C, int v, bool r16, const float *res,
                     bool half) {
    bp_ctx bc = {B, N};
    const float *r = v == 1 ? NULL : rb;
    bool clamp = v == 2;
    if (v == 3 && half)
        cml_k_gemm_f16a_bpack(pool, M, N, K, (const uint16_t *)A, lda, bp_pack, &bc, r, C, N, true,
                              -0.5f, 0.5f, r16, res);
    else if (v == 3)
        cml_k_gemm_f32_bpack(pool, M, N, K, (const float *)A, lda, bp_pack, &bc, r, C, N, true,
                             -0.5f, 0.5f, r16, res);
    else if (half)
        cml_k_gemm_f16a_rbias(pool, M, N, K, (const uint16_t *)A, lda, B, N, r, C, N, clamp, -0.5f,
                              0.5f, r16, res);
    else
        cml_k_gemm_f32_rbias(pool, M, N, K, (const float *)A, lda, B, N, r, C, N, clamp, -0.5f,
                             0.5f, r16, res);
}

/* One fused call against the unfused one finished by hand; 0 when equal. */
static int g16_case(cml_threadpool *pool, size_t M, size_t N, size_t K, const void *A, size_t lda,
                    const float *B, const float *rb, const float *R, float *Cw, float *Cr, int v,
                    int mode, bool half) {
    bool r16 = mode != 2;
    const float *res = mode ? R : NULL;
    g16_call(pool, M, N, K, A, lda, B, rb, Cw, v, false, NULL, half);
    for (size_t i = 0; i < M * N; i++) {
        float x = r16 ? cml_round_fp16(Cw[i]) : Cw[i];
        if (res) x = r16 ? cml_round_fp16(x + res[i]) : x + res[i];
        Cw[i] = x;
    }
    g16_call(pool, M, N, K, A, lda, B, rb, Cr, v, r16, res, half);
    return memcmp(Cw, Cr, M * N * sizeof *Cw) != 0;
}

static void test_gemm_round16(cml_threadpool **pools, int npools) {
    static const size_t shapes[][3] = {{5, 40, 70}, {16, 33, 300}, {64, 100, 27}, {3, 17, 513},
                                       {1, 9, 8}, {13, 1, 1}, {4, 70, 5}, {6, 10, 0}};
    int failed = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], lda = K + 3;
        uint16_t *Ah = malloc(M * lda * sizeof *Ah);
        float *Af = malloc(M * lda * sizeof *Af), *B = malloc((K * N + 1) * sizeof *B);
        float *rb = malloc(M * sizeof *rb), *Cw = malloc(M * N * sizeof *Cw), *Cr = malloc(M * N * sizeof *Cr);
        float *R = malloc(M * N * sizeof *R);
        for (size_t i = 0; i < M * lda; i++) Af[i] = cml_fp16_to_fp32(Ah[i] = rand_half());
        tk_fill(B, K * N, -4.0f, 4.0f);
        tk_fill(rb, M, -1.0f, 1.0f);
        tk_fill(R, M * N, -3.0f, 3.0f);
        for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
            tk_set_level(lvl);
            for (int pi = 0; pi < npools; pi++)
                for (int v = 0; v < 8; v++)
                    for (int mode = 0; mode < 3; mode++) { /* round16; + res; res only */
                        bool half = v >= 4;
                        const void *A = half ? (const void *)Ah : (const void *)Af;
                        if (g16_case(pools[pi], M, N, K, A, lda, B, rb, R, Cw, Cr, v % 4, mode, half)) {
                            fprintf(stderr, "fused epilogue mismatch lvl=%d pool=%d v=%d mode=%d M=%zu N=%zu K=%zu\n",
                                    lvl, pi, v, mode, M, N, K);
                            failed++;
                        }
                    }
        }
        tk_set_level(-1);
        free(Ah), free(Af), free(B), free(rb), free(Cw), free(Cr), free(R);
    }
    CHECK_MSG(failed == 0, "%d gemms with a fused epilogue differ from finishing after", failed);
}

/* ---- thread pool --------------------------------------------------------------------- */

typedef struct count_ctx {
    atomic_int *hits;
    atomic_int calls;
    size_t grain;
    atomic_int bad_chunk;
    cml_threadpool *pool;
    atomic_int nested_total;
} count_ctx;

static void count_fn(void *ctx, size_t begin, size_t end) {
    count_ctx *c = ctx;
    atomic_fetch_add(&c->calls, 1);
    if (end <= begin) atomic_store(&c->bad_chunk, 1);
    for (size_t i = begin; i < end; i++) atomic_fetch_add(&c->hits[i], 1);
}

static void nested_inner(void *ctx, size_t begin, size_t end) {
    count_ctx *c = ctx;
    atomic_fetch_add(&c->nested_total, (int)(end - begin));
}

static void nested_outer(void *ctx, size_t begin, size_t end) {
    count_ctx *c = ctx;
    for (size_t i = begin; i < end; i++) cml_parallel_for(c->pool, 10, 1, nested_inner, c);
}

static void test_threadpool(void) {
    int sizes[] = {1, 2, 3, 0};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        cml_threadpool *pool = NULL;
        CHECK(cml_threadpool_create(sizes[si], NULL, &pool) == CML_OK && pool);
        if (!pool) continue;
        if (sizes[si] > 0) CHECK(cml_threadpool_size(pool) == sizes[si]);
        size_t ns[] = {0, 1, 2, 7, 64, 1000, 4097};
        size_t grains[] = {1, 3, 100, 5000};
        int bad = 0;
        for (int rep = 0; rep < 20; rep++) {
            for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
                for (size_t g = 0; g < sizeof grains / sizeof grains[0]; g++) {
                    size_t n = ns[a];
                    count_ctx c;
                    c.hits = calloc(n + 1, sizeof *c.hits);
                    atomic_init(&c.calls, 0);
                    atomic_init(&c.bad_chunk, 0);
                    c.grain = grains[g];
                    cml_parallel_for(pool, n, grains[g], count_fn, &c);
                    for (size_t i = 0; i < n; i++)
                        if (atomic_load(&c.hits[i]) != 1) bad++;
                    if (atomic_load(&c.bad_chunk)) bad++;
                    free(c.hits);
                }
            }
        }
        CHECK_MSG(bad == 0, "pool size %d: %d bad indices", sizes[si], bad);
        /* nested parallel_for runs inline */
        count_ctx c;
        c.pool = pool;
        atomic_init(&c.nested_total, 0);
        cml_parallel_for(pool, 37, 1, nested_outer, &c);
        CHECK(atomic_load(&c.nested_total) == 370);
        cml_threadpool_destroy(pool);
    }
    /* NULL pool runs inline */
    count_ctx c;
    c.hits = calloc(10, sizeof *c.hits);
    atomic_init(&c.calls, 0);
    atomic_init(&c.bad_chunk, 0);
    cml_parallel_for(NULL, 10, 1, count_fn, &c);
    CHECK(atomic_load(&c.calls) == 1);
    free(c.hits);
    CHECK(cml_threadpool_size(NULL) == 1);
    cml_threadpool_destroy(NULL);
}

int main(void) {
    printf("isa levels tested: %d (max %s)\n", tk_num_levels(),
           cml_isa_level_name(cml_cpu_max_isa_level()));
    test_threadpool();
    cml_threadpool *p2 = NULL, *p3 = NULL;
    CHECK(cml_threadpool_create(2, NULL, &p2) == CML_OK);
    CHECK(cml_threadpool_create(3, NULL, &p3) == CML_OK);
    cml_threadpool *pools[] = {NULL, p2, p3};
    test_gemm_shapes(pools, 3);
    test_gemm_random(pools, 3);
    test_gemm_f16b(pools, 3);
    test_gemm_packed(pools, 3);
    test_gemm_f16a(pools, 3);
    test_gemm_round16(pools, 3);
    cml_threadpool_destroy(p2);
    cml_threadpool_destroy(p3);
    TEST_MAIN_END();
}
