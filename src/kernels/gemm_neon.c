/* aarch64 NEON gemm kit: 8 x 12 register tiles over packed B panels (24
 * accumulators, three B vectors and one broadcast A value of the 32 vector
 * registers), and the unpacked small-M kernels. Same contract as the other
 * kits (kinternal.h); A is read in place, one LD1R per row and k. */
#include <arm_neon.h>

#include "kernels/gemm_common.h"
#include "kernels/kinternal.h"

#define N_MR 8
#define N_NR 12

/* Lanes [0, n) of p, the others 0 (n <= 4); reads only those lanes. */
static CML_ALWAYS_INLINE float32x4_t load_n4(const float *p, size_t n) {
    if (n >= 4) return vld1q_f32(p);
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(t, p, n * sizeof(float));
    return vld1q_f32(t);
}

static CML_ALWAYS_INLINE void store_n4(float *p, float32x4_t v, size_t n) {
    if (n >= 4) {
        vst1q_f32(p, v);
        return;
    }
    float t[4];
    vst1q_f32(t, v);
    memcpy(p, t, n * sizeof(float));
}

/* Column count of vector v (of 4 lanes) among nr columns. */
static CML_ALWAYS_INLINE size_t cols_of(size_t nr, int v) {
    size_t lo = (size_t)v * 4;
    return nr > lo ? cml_k_min(4, nr - lo) : 0;
}

static CML_ALWAYS_INLINE float32x4_t n_epi(float32x4_t v, float32x4_t bias, const cml_gemm_epi *e,
                                           int i, const float *c, size_t n) {
    if (e->bias) v = vaddq_f32(v, bias);
    if (e->rbias) v = vaddq_f32(v, vdupq_n_f32(e->rbias[i]));
    if (e->load_c) v = vaddq_f32(v, load_n4(c, n));
    if (e->clamp) { /* NaN passes */
        float32x4_t hi = vdupq_n_f32(e->hi), lo = vdupq_n_f32(e->lo);
        v = vbslq_f32(vcgtq_f32(v, hi), hi, v);
        v = vbslq_f32(vcltq_f32(v, lo), lo, v);
    }
    return v;
}

static CML_ALWAYS_INLINE void ukr_body(const int MR, size_t kc, const float *A, size_t lda,
                                       const float *Bp, float *C, size_t ldc, size_t nr,
                                       const cml_gemm_epi *e) {
    float32x4_t c0[N_MR], c1[N_MR], c2[N_MR];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) c0[i] = c1[i] = c2[i] = vdupq_n_f32(0.0f);
    const float *a = A;
    for (size_t k = 0; k < kc; k++) {
        float32x4_t b0 = vld1q_f32(Bp), b1 = vld1q_f32(Bp + 4), b2 = vld1q_f32(Bp + 8);
        Bp += N_NR;
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            float32x4_t ai = vld1q_dup_f32(a + (size_t)i * lda);
            c0[i] = vfmaq_f32(c0[i], ai, b0);
            c1[i] = vfmaq_f32(c1[i], ai, b1);
            c2[i] = vfmaq_f32(c2[i], ai, b2);
        }
        a++;
    }
    const size_t n0 = cols_of(nr, 0), n1 = cols_of(nr, 1), n2 = cols_of(nr, 2);
    float32x4_t bias0 = vdupq_n_f32(0.0f), bias1 = bias0, bias2 = bias0;
    if (e->bias) {
        bias0 = load_n4(e->bias, n0);
        bias1 = load_n4(e->bias + 4, n1);
        bias2 = load_n4(e->bias + 8, n2);
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        float *c = C + (size_t)i * ldc;
        if (n0) store_n4(c, n_epi(c0[i], bias0, e, i, c, n0), n0);
        if (n1) store_n4(c + 4, n_epi(c1[i], bias1, e, i, c + 4, n1), n1);
        if (n2) store_n4(c + 8, n_epi(c2[i], bias2, e, i, c + 8, n2), n2);
    }
}

#define N_UKR(mr)                                                                        \
    static void ukr_n_##mr(size_t kc, const float *A, size_t lda, const float *Bp,       \
                           float *C, size_t ldc, size_t nr, const cml_gemm_epi *e) {     \
        ukr_body(mr, kc, A, lda, Bp, C, ldc, nr, e);                                     \
    }
N_UKR(1)
N_UKR(2)
N_UKR(3)
N_UKR(4)
N_UKR(5)
N_UKR(6)
N_UKR(7)
N_UKR(8)

static void pack_n_neon(size_t kc, size_t nr, const void *Bv, size_t ldb, float *Bp) {
    const float *B = Bv;
    if (nr == N_NR) {
        for (size_t k = 0; k < kc; k++) {
            const float *s = B + k * ldb;
            float *d = Bp + k * N_NR;
            vst1q_f32(d, vld1q_f32(s));
            vst1q_f32(d + 4, vld1q_f32(s + 4));
            vst1q_f32(d + 8, vld1q_f32(s + 8));
        }
    } else {
        cml_gemm_pack_n_impl(0, N_NR, kc, nr, B, ldb, Bp);
    }
}

/* 4 x 4 transpose of rows r[0..3] in place. */
static CML_ALWAYS_INLINE void transpose4(float32x4_t r[4]) {
    float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
    float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
    r[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    r[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
}

static void pack_t_neon(size_t kc, size_t nr, const void *Bv, size_t ldb, float *Bp) {
    const float *B = Bv;
    if (nr != N_NR) {
        cml_gemm_pack_t_impl(0, N_NR, kc, nr, B, ldb, Bp);
        return;
    }
    size_t k = 0;
    for (; k + 4 <= kc; k += 4) {
        for (int h = 0; h < 3; h++) {
            const float *s = B + (size_t)h * 4 * ldb + k;
            float32x4_t r[4];
            for (int i = 0; i < 4; i++) r[i] = vld1q_f32(s + (size_t)i * ldb);
            transpose4(r);
            for (int i = 0; i < 4; i++) vst1q_f32(Bp + (k + (size_t)i) * N_NR + h * 4, r[i]);
        }
    }
    for (; k < kc; k++)
        for (size_t j = 0; j < N_NR; j++) Bp[k * N_NR + j] = B[j * ldb + k];
}

/* ---- small M, B[K,N]: rows <= 4, 16 columns per step ------------------------- */

static CML_ALWAYS_INLINE void small_n_tile(const int MR, size_t K, const float *A, size_t lda,
                                           const float *B, size_t ldb, const float *bias,
                                           float *C, size_t ldc, int load_c, size_t ncols) {
    size_t nv[4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++) nv[v] = cols_of(ncols, v);
    float32x4_t acc[4][4];
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) acc[i][v] = vdupq_n_f32(0.0f);
    for (size_t k = 0; k < K; k++) {
        const float *b = B + k * ldb;
        float32x4_t bv[4];
        if (ncols == 16) {
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++) bv[v] = vld1q_f32(b + v * 4);
        } else {
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++) bv[v] = nv[v] ? load_n4(b + v * 4, nv[v]) : vdupq_n_f32(0.0f);
        }
#pragma GCC unroll 4
        for (int i = 0; i < MR; i++) {
            float32x4_t a = vld1q_dup_f32(A + (size_t)i * lda + k);
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++) acc[i][v] = vfmaq_f32(acc[i][v], a, bv[v]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++) {
        float *c = C + (size_t)i * ldc;
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) {
            if (!nv[v]) continue;
            float32x4_t r = acc[i][v];
            if (bias) r = vaddq_f32(r, load_n4(bias + v * 4, nv[v]));
            if (load_c) r = vaddq_f32(r, load_n4(c + v * 4, nv[v]));
            store_n4(c + v * 4, r, nv[v]);
        }
    }
}

#define SMALL_N_ROWS(mr)                                                                   \
    static void small_n_##mr(size_t K, const float *A, size_t lda, const float *B,         \
                             size_t ldb, const float *bias, float *C, size_t ldc,          \
                             int load_c, size_t ncols) {                                   \
        small_n_tile(mr, K, A, lda, B, ldb, bias, C, ldc, load_c, ncols);                  \
    }
SMALL_N_ROWS(1)
SMALL_N_ROWS(2)
SMALL_N_ROWS(3)
SMALL_N_ROWS(4)

static void small_n_neon(size_t M, size_t n, size_t K, const float *A, size_t lda, const void *Bv,
                         size_t ldb, const float *bias, float *C, size_t ldc, int load_c) {
    const float *B = Bv;
    typedef void (*fn_t)(size_t, const float *, size_t, const float *, size_t, const float *,
                         float *, size_t, int, size_t);
    static const fn_t fns[5] = {NULL, small_n_1, small_n_2, small_n_3, small_n_4};
    for (size_t j = 0; j < n; j += 16) {
        size_t nc = cml_k_min(16, n - j);
        fns[M](K, A, lda, B + j, ldb, bias ? bias + j : NULL, C + j, ldc, load_c, nc);
    }
}

/* ---- small M, B[N,K]: dot products, 4 x 4 outputs per step -------------------- */

static CML_ALWAYS_INLINE void small_t_tile(const int MR, const int NC, size_t K, const float *A,
                                           size_t lda, const float *B, size_t ldb,
                                           const float *bias, float *C, size_t ldc,
                                           int load_c) {
    float32x4_t acc[4][4];
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int j = 0; j < NC; j++) acc[i][j] = vdupq_n_f32(0.0f);
    size_t k = 0;
    for (; k < K; k += 4) {
        size_t w = cml_k_min(4, K - k);
        float32x4_t b[4];
#pragma GCC unroll 4
        for (int j = 0; j < NC; j++) b[j] = load_n4(B + (size_t)j * ldb + k, w);
#pragma GCC unroll 4
        for (int i = 0; i < MR; i++) {
            float32x4_t a = load_n4(A + (size_t)i * lda + k, w);
#pragma GCC unroll 4
            for (int j = 0; j < NC; j++) acc[i][j] = vfmaq_f32(acc[i][j], a, b[j]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++) {
        float *c = C + (size_t)i * ldc;
#pragma GCC unroll 4
        for (int j = 0; j < NC; j++) {
            float v = vaddvq_f32(acc[i][j]);
            if (bias) v += bias[j];
            if (load_c) v += c[j];
            c[j] = v;
        }
    }
}

#define SMALL_T(mr, nc)                                                                    \
    static void small_t_##mr##_##nc(size_t K, const float *A, size_t lda, const float *B,  \
                                    size_t ldb, const float *bias, float *C, size_t ldc,   \
                                    int load_c) {                                          \
        small_t_tile(mr, nc, K, A, lda, B, ldb, bias, C, ldc, load_c);                     \
    }
SMALL_T(1, 1) SMALL_T(1, 2) SMALL_T(1, 3) SMALL_T(1, 4)
SMALL_T(2, 1) SMALL_T(2, 2) SMALL_T(2, 3) SMALL_T(2, 4)
SMALL_T(3, 1) SMALL_T(3, 2) SMALL_T(3, 3) SMALL_T(3, 4)
SMALL_T(4, 1) SMALL_T(4, 2) SMALL_T(4, 3) SMALL_T(4, 4)

static void small_t_neon(size_t M, size_t n, size_t K, const float *A, size_t lda, const void *Bv,
                         size_t ldb, const float *bias, float *C, size_t ldc, int load_c) {
    const float *B = Bv;
    typedef void (*fn_t)(size_t, const float *, size_t, const float *, size_t, const float *,
                         float *, size_t, int);
    static const fn_t fns[5][5] = {
        {NULL, NULL, NULL, NULL, NULL},
        {NULL, small_t_1_1, small_t_1_2, small_t_1_3, small_t_1_4},
        {NULL, small_t_2_1, small_t_2_2, small_t_2_3, small_t_2_4},
        {NULL, small_t_3_1, small_t_3_2, small_t_3_3, small_t_3_4},
        {NULL, small_t_4_1, small_t_4_2, small_t_4_3, small_t_4_4},
    };
    for (size_t i = 0; i < M; i += 4) {
        size_t mr = cml_k_min(4, M - i);
        for (size_t j = 0; j < n; j += 4) {
            size_t nc = cml_k_min(4, n - j);
            fns[mr][nc](K, A + i * lda, lda, B + j * ldb, ldb, bias ? bias + j : NULL,
                        C + i * ldc + j, ldc, load_c);
        }
    }
}

/* fp16 B (kept fp16 weights): packing only, widened as read; no fp16
 * small-M kernels yet, so cml_k_gemm_takes_f16() is false on NEON and
 * fp16 weights are widened at load there. */
static void pack_n_neon_h(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    cml_gemm_pack_n_impl(1, N_NR, kc, nr, B, ldb, Bp);
}
static void pack_t_neon_h(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    cml_gemm_pack_t_impl(1, N_NR, kc, nr, B, ldb, Bp);
}

const cml_gemm_kit cml_gemm_kit_neon = {
    .mr = N_MR,
    .nr = N_NR,
    .kc = 256,
    .ukr = {NULL, ukr_n_1, ukr_n_2, ukr_n_3, ukr_n_4, ukr_n_5, ukr_n_6, ukr_n_7, ukr_n_8},
    .pack_n = {pack_n_neon, pack_n_neon_h},
    .pack_t = {pack_t_neon, pack_t_neon_h},
    .small_n = {small_n_neon, NULL},
    .small_t = {small_t_neon, NULL},
    .small_t_max_m = 8,
    .small_col_align = 16,
};
