/* AVX-512 gemm kit: MR x 32 register tiles over packed B panels, and the
 * unpacked small-M kernels. */
#include <immintrin.h>

#include "kernels/gemm_common.h"
#include "kernels/kinternal.h"

#ifndef Z_MR
#define Z_MR 8
#endif
#define Z_NR 32

static CML_ALWAYS_INLINE __mmask16 tail_mask16(size_t n) {
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

static CML_ALWAYS_INLINE __m512 z_epi(__m512 v, __m512 bias, const cml_gemm_epi *e, int i,
                                      __mmask16 m, const float *c, __m512 lo, __m512 hi) {
    if (e->bias) v = _mm512_add_ps(v, bias);
    if (e->rbias) v = _mm512_add_ps(v, _mm512_set1_ps(e->rbias[i]));
    if (e->load_c) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, c));
    if (e->clamp) {
        v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, hi, _CMP_GT_OQ), v, hi);
        v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ), v, lo);
    }
    return v;
}

static CML_ALWAYS_INLINE void ukr_body(const int MR, size_t kc, const float *A, size_t lda,
                                       const float *Bp, float *C, size_t ldc, size_t nr,
                                       const cml_gemm_epi *e) {
    __m512 c0[Z_MR], c1[Z_MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        c0[i] = _mm512_setzero_ps();
        c1[i] = _mm512_setzero_ps();
    }
    const float *a = A;
    for (size_t k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(Bp);
        __m512 b1 = _mm512_load_ps(Bp + 16);
        Bp += Z_NR;
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(a[(size_t)i * lda]);
            c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
        }
        a++;
    }
    __mmask16 m0 = tail_mask16(nr), m1 = nr > 16 ? tail_mask16(nr - 16) : 0;
    __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
    if (e->bias) {
        bias0 = _mm512_maskz_loadu_ps(m0, e->bias);
        bias1 = _mm512_maskz_loadu_ps(m1, e->bias + 16);
    }
    __m512 lo = _mm512_set1_ps(e->lo), hi = _mm512_set1_ps(e->hi);
    if (nr == Z_NR) {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            float *c = C + (size_t)i * ldc;
            _mm512_storeu_ps(c, z_epi(c0[i], bias0, e, i, 0xffff, c, lo, hi));
            _mm512_storeu_ps(c + 16, z_epi(c1[i], bias1, e, i, 0xffff, c + 16, lo, hi));
        }
    } else {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            float *c = C + (size_t)i * ldc;
            _mm512_mask_storeu_ps(c, m0, z_epi(c0[i], bias0, e, i, m0, c, lo, hi));
            _mm512_mask_storeu_ps(c + 16, m1, z_epi(c1[i], bias1, e, i, m1, c + 16, lo, hi));
        }
    }
}

#define Z_UKR(mr)                                                                        \
    static void ukr_z_##mr(size_t kc, const float *A, size_t lda, const float *Bp,       \
                           float *C, size_t ldc, size_t nr, const cml_gemm_epi *e) {     \
        ukr_body(mr, kc, A, lda, Bp, C, ldc, nr, e);                                     \
    }
Z_UKR(1)
Z_UKR(2)
Z_UKR(3)
Z_UKR(4)
Z_UKR(5)
Z_UKR(6)
Z_UKR(7)
Z_UKR(8)
#if Z_MR > 8
Z_UKR(9)
Z_UKR(10)
Z_UKR(11)
Z_UKR(12)
#endif
#if Z_MR > 12
Z_UKR(13)
Z_UKR(14)
#endif

static void pack_n_z(size_t kc, size_t nr, const float *B, size_t ldb, float *Bp) {
    if (nr == Z_NR) {
        for (size_t k = 0; k < kc; k++) {
            _mm512_store_ps(Bp + k * Z_NR, _mm512_loadu_ps(B + k * ldb));
            _mm512_store_ps(Bp + k * Z_NR + 16, _mm512_loadu_ps(B + k * ldb + 16));
        }
    } else {
        __mmask16 m0 = tail_mask16(nr), m1 = nr > 16 ? tail_mask16(nr - 16) : 0;
        for (size_t k = 0; k < kc; k++) {
            _mm512_store_ps(Bp + k * Z_NR, _mm512_maskz_loadu_ps(m0, B + k * ldb));
            _mm512_store_ps(Bp + k * Z_NR + 16, _mm512_maskz_loadu_ps(m1, B + k * ldb + 16));
        }
    }
}

/* 16x16 transpose of rows r[0..15] (16 floats each) into columns. */
static CML_ALWAYS_INLINE void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
    /* r[4q + s] now holds, per 128-bit lane L, column 4L + s of rows 4q..4q+3. */
    for (int s = 0; s < 4; s++) {
        __m512 a = r[s], b = r[4 + s], c = r[8 + s], d = r[12 + s];
        __m512 ab_lo = _mm512_shuffle_f32x4(a, b, 0x44); /* a.L0 a.L1 b.L0 b.L1 */
        __m512 ab_hi = _mm512_shuffle_f32x4(a, b, 0xee); /* a.L2 a.L3 b.L2 b.L3 */
        __m512 cd_lo = _mm512_shuffle_f32x4(c, d, 0x44);
        __m512 cd_hi = _mm512_shuffle_f32x4(c, d, 0xee);
        t[s] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0x88);      /* L0 of a,b,c,d: column s */
        t[4 + s] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0xdd);  /* L1: column 4 + s */
        t[8 + s] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0x88);  /* L2: column 8 + s */
        t[12 + s] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0xdd); /* L3: column 12 + s */
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

static void pack_t_z(size_t kc, size_t nr, const float *B, size_t ldb, float *Bp) {
    if (nr != Z_NR) {
        cml_gemm_pack_t_impl(Z_NR, kc, nr, B, ldb, Bp);
        return;
    }
    size_t k = 0;
    for (; k + 16 <= kc; k += 16) {
        for (int h = 0; h < 2; h++) {
            __m512 r[16];
            const float *src = B + (size_t)h * 16 * ldb + k;
            for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + (size_t)i * ldb);
            transpose16(r);
            for (int i = 0; i < 16; i++) _mm512_store_ps(Bp + (k + (size_t)i) * Z_NR + h * 16, r[i]);
        }
    }
    if (k < kc) {
        size_t rem = kc - k;
        __mmask16 m = tail_mask16(rem);
        for (int h = 0; h < 2; h++) {
            __m512 r[16];
            const float *src = B + (size_t)h * 16 * ldb + k;
            for (int i = 0; i < 16; i++) r[i] = _mm512_maskz_loadu_ps(m, src + (size_t)i * ldb);
            transpose16(r);
            for (size_t i = 0; i < rem; i++) _mm512_store_ps(Bp + (k + i) * Z_NR + h * 16, r[i]);
        }
    }
}

/* ---- small M, B[K,N]: rows <= 4, 64 columns per step ------------------------- */

static CML_ALWAYS_INLINE void small_n_tile(const int MR, size_t K, const float *A, size_t lda,
                                           const float *B, size_t ldb, const float *bias,
                                           float *C, size_t ldc, int load_c, size_t ncols) {
    __mmask16 m[4];
    #pragma GCC unroll 16
    for (int v = 0; v < 4; v++)
        m[v] = ncols > (size_t)v * 16 ? tail_mask16(ncols - (size_t)v * 16) : 0;
    __m512 acc[4][4];
    #pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
        #pragma GCC unroll 16
        for (int v = 0; v < 4; v++) acc[i][v] = _mm512_setzero_ps();
    if (ncols == 64) {
        for (size_t k = 0; k < K; k++) {
            const float *b = B + k * ldb;
            __m512 bv[4];
            #pragma GCC unroll 16
            for (int v = 0; v < 4; v++) bv[v] = _mm512_loadu_ps(b + v * 16);
            #pragma GCC unroll 16
            for (int i = 0; i < MR; i++) {
                __m512 a = _mm512_set1_ps(A[(size_t)i * lda + k]);
                #pragma GCC unroll 16
                for (int v = 0; v < 4; v++) acc[i][v] = _mm512_fmadd_ps(a, bv[v], acc[i][v]);
            }
        }
    } else {
        for (size_t k = 0; k < K; k++) {
            const float *b = B + k * ldb;
            __m512 bv[4];
            #pragma GCC unroll 16
            for (int v = 0; v < 4; v++) bv[v] = _mm512_maskz_loadu_ps(m[v], b + v * 16);
            #pragma GCC unroll 16
            for (int i = 0; i < MR; i++) {
                __m512 a = _mm512_set1_ps(A[(size_t)i * lda + k]);
                #pragma GCC unroll 16
                for (int v = 0; v < 4; v++) acc[i][v] = _mm512_fmadd_ps(a, bv[v], acc[i][v]);
            }
        }
    }
    #pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        float *c = C + (size_t)i * ldc;
        #pragma GCC unroll 16
        for (int v = 0; v < 4; v++) {
            __m512 r = acc[i][v];
            if (bias) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(m[v], bias + v * 16));
            if (load_c) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(m[v], c + v * 16));
            _mm512_mask_storeu_ps(c + v * 16, m[v], r);
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

static void small_n_z(size_t M, size_t n, size_t K, const float *A, size_t lda, const float *B,
                      size_t ldb, const float *bias, float *C, size_t ldc, int load_c) {
    typedef void (*fn_t)(size_t, const float *, size_t, const float *, size_t, const float *,
                         float *, size_t, int, size_t);
    static const fn_t fns[5] = {NULL, small_n_1, small_n_2, small_n_3, small_n_4};
    for (size_t j = 0; j < n; j += 64) {
        size_t nc = cml_k_min(64, n - j);
        fns[M](K, A, lda, B + j, ldb, bias ? bias + j : NULL, C + j, ldc, load_c, nc);
    }
}

/* ---- small M, B[N,K]: dot products, 4 x 4 outputs per step -------------------- */

static CML_ALWAYS_INLINE void small_t_tile(const int MR, const int NC, size_t K, const float *A,
                                           size_t lda, const float *B, size_t ldb,
                                           const float *bias, float *C, size_t ldc,
                                           int load_c) {
    __m512 acc[4][4];
    #pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
        #pragma GCC unroll 16
        for (int j = 0; j < NC; j++) acc[i][j] = _mm512_setzero_ps();
    size_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 b[4];
        #pragma GCC unroll 16
        for (int j = 0; j < NC; j++) b[j] = _mm512_loadu_ps(B + (size_t)j * ldb + k);
        #pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            __m512 a = _mm512_loadu_ps(A + (size_t)i * lda + k);
            #pragma GCC unroll 16
            for (int j = 0; j < NC; j++) acc[i][j] = _mm512_fmadd_ps(a, b[j], acc[i][j]);
        }
    }
    if (k < K) {
        __mmask16 m = tail_mask16(K - k);
        __m512 b[4];
        #pragma GCC unroll 16
        for (int j = 0; j < NC; j++) b[j] = _mm512_maskz_loadu_ps(m, B + (size_t)j * ldb + k);
        #pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            __m512 a = _mm512_maskz_loadu_ps(m, A + (size_t)i * lda + k);
            #pragma GCC unroll 16
            for (int j = 0; j < NC; j++) acc[i][j] = _mm512_fmadd_ps(a, b[j], acc[i][j]);
        }
    }
    #pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        float *c = C + (size_t)i * ldc;
        #pragma GCC unroll 16
        for (int j = 0; j < NC; j++) {
            float v = _mm512_reduce_add_ps(acc[i][j]);
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

static void small_t_z(size_t M, size_t n, size_t K, const float *A, size_t lda, const float *B,
                      size_t ldb, const float *bias, float *C, size_t ldc, int load_c) {
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

const cml_gemm_kit cml_gemm_kit_avx512 = {
    .mr = Z_MR,
    .nr = Z_NR,
    .kc = 256,
    .ukr = {NULL, ukr_z_1, ukr_z_2, ukr_z_3, ukr_z_4, ukr_z_5, ukr_z_6, ukr_z_7, ukr_z_8,
#if Z_MR > 8
            ukr_z_9, ukr_z_10, ukr_z_11, ukr_z_12,
#endif
#if Z_MR > 12
            ukr_z_13, ukr_z_14,
#endif
    },
    .pack_n = pack_n_z,
    .pack_t = pack_t_z,
    .small_n = small_n_z,
    .small_t = small_t_z,
    .small_t_max_m = 8,
    .small_col_align = 64,
};
