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

/* 16 elements of B at element off: floats, or fp16 bits widened (H = 1). */
static CML_ALWAYS_INLINE __m512 ld16(const int H, const void *B, size_t off) {
    if (H) return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)B + off)));
    return _mm512_loadu_ps((const float *)B + off);
}

/* The lanes of m of the 16 at off, zero elsewhere (masked: no read past them). */
static CML_ALWAYS_INLINE __m512 ld16m(const int H, const void *B, size_t off, __mmask16 m) {
    if (H) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)B + off));
    return _mm512_maskz_loadu_ps(m, (const float *)B + off);
}

static CML_ALWAYS_INLINE __m512 z_round16(__m512 v) { /* as cml_k_conv_epi_avx512 */
    return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

static CML_ALWAYS_INLINE __m512 z_epi(__m512 v, __m512 bias, const cml_gemm_epi *e, int i,
                                      __mmask16 m, const float *c, const float *r, __m512 lo,
                                      __m512 hi) {
    if (e->bias) v = _mm512_add_ps(v, bias);
    if (e->rbias) v = _mm512_add_ps(v, _mm512_set1_ps(e->rbias[i]));
    if (e->load_c) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, c));
    if (e->clamp) {
        v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, hi, _CMP_GT_OQ), v, hi);
        v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ), v, lo);
    }
    if (e->round16) v = z_round16(v);
    if (e->res) {
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, r));
        if (e->round16) v = z_round16(v);
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
            const float *r = e->res ? e->res + (size_t)i * ldc : NULL;
            _mm512_storeu_ps(c, z_epi(c0[i], bias0, e, i, 0xffff, c, r, lo, hi));
            _mm512_storeu_ps(c + 16,
                             z_epi(c1[i], bias1, e, i, 0xffff, c + 16, r ? r + 16 : r, lo, hi));
        }
    } else {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            float *c = C + (size_t)i * ldc;
            const float *r = e->res ? e->res + (size_t)i * ldc : NULL;
            _mm512_mask_storeu_ps(c, m0, z_epi(c0[i], bias0, e, i, m0, c, r, lo, hi));
            _mm512_mask_storeu_ps(c + 16, m1,
                                  z_epi(c1[i], bias1, e, i, m1, c + 16, r ? r + 16 : r, lo, hi));
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

static CML_ALWAYS_INLINE void pack_n_body(const int H, size_t kc, size_t nr, const void *B,
                                          size_t ldb, float *Bp) {
    if (nr == Z_NR) {
        for (size_t k = 0; k < kc; k++) {
            _mm512_store_ps(Bp + k * Z_NR, ld16(H, B, k * ldb));
            _mm512_store_ps(Bp + k * Z_NR + 16, ld16(H, B, k * ldb + 16));
        }
    } else {
        __mmask16 m0 = tail_mask16(nr), m1 = nr > 16 ? tail_mask16(nr - 16) : 0;
        for (size_t k = 0; k < kc; k++) {
            _mm512_store_ps(Bp + k * Z_NR, ld16m(H, B, k * ldb, m0));
            _mm512_store_ps(Bp + k * Z_NR + 16, ld16m(H, B, k * ldb + 16, m1));
        }
    }
}

static void pack_n_z(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    pack_n_body(0, kc, nr, B, ldb, Bp);
}
static void pack_n_z_h(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    pack_n_body(1, kc, nr, B, ldb, Bp);
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

static CML_ALWAYS_INLINE void pack_t_body(const int H, size_t kc, size_t nr, const void *B,
                                          size_t ldb, float *Bp) {
    if (nr != Z_NR) {
        cml_gemm_pack_t_impl(H, Z_NR, kc, nr, B, ldb, Bp);
        return;
    }
    size_t k = 0;
    for (; k + 16 <= kc; k += 16) {
        for (int h = 0; h < 2; h++) {
            __m512 r[16];
            size_t src = (size_t)h * 16 * ldb + k;
            for (int i = 0; i < 16; i++) r[i] = ld16(H, B, src + (size_t)i * ldb);
            transpose16(r);
            for (int i = 0; i < 16; i++) _mm512_store_ps(Bp + (k + (size_t)i) * Z_NR + h * 16, r[i]);
        }
    }
    if (k < kc) {
        size_t rem = kc - k;
        __mmask16 m = tail_mask16(rem);
        for (int h = 0; h < 2; h++) {
            __m512 r[16];
            size_t src = (size_t)h * 16 * ldb + k;
            for (int i = 0; i < 16; i++) r[i] = ld16m(H, B, src + (size_t)i * ldb, m);
            transpose16(r);
            for (size_t i = 0; i < rem; i++) _mm512_store_ps(Bp + (k + i) * Z_NR + h * 16, r[i]);
        }
    }
}

static void pack_t_z(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    pack_t_body(0, kc, nr, B, ldb, Bp);
}
static void pack_t_z_h(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    pack_t_body(1, kc, nr, B, ldb, Bp);
}

/* ---- small M, B[K,N]: rows <= 4, 64 columns per step ------------------------- */

static CML_ALWAYS_INLINE void small_n_tile(const int H, const int MR, size_t K, const float *A,
                                           size_t lda, const void *B, size_t ldb,
                                           const float *bias, float *C, size_t ldc, int load_c,
                                           size_t ncols) {
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
            __m512 bv[4];
            #pragma GCC unroll 16
            for (int v = 0; v < 4; v++) bv[v] = ld16(H, B, k * ldb + (size_t)v * 16);
            #pragma GCC unroll 16
            for (int i = 0; i < MR; i++) {
                __m512 a = _mm512_set1_ps(A[(size_t)i * lda + k]);
                #pragma GCC unroll 16
                for (int v = 0; v < 4; v++) acc[i][v] = _mm512_fmadd_ps(a, bv[v], acc[i][v]);
            }
        }
    } else {
        for (size_t k = 0; k < K; k++) {
            __m512 bv[4];
            #pragma GCC unroll 16
            for (int v = 0; v < 4; v++) bv[v] = ld16m(H, B, k * ldb + (size_t)v * 16, m[v]);
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

#define SMALL_N_ROWS(h, mr)                                                                \
    static void small_n_##h##_##mr(size_t K, const float *A, size_t lda, const void *B,       \
                                   size_t ldb, const float *bias, float *C, size_t ldc,       \
                                   int load_c, size_t ncols) {                                \
        small_n_tile(h, mr, K, A, lda, B, ldb, bias, C, ldc, load_c, ncols);                  \
    }
SMALL_N_ROWS(0, 1) SMALL_N_ROWS(0, 2) SMALL_N_ROWS(0, 3) SMALL_N_ROWS(0, 4)
SMALL_N_ROWS(1, 1) SMALL_N_ROWS(1, 2) SMALL_N_ROWS(1, 3) SMALL_N_ROWS(1, 4)

typedef void (*small_n_fn)(size_t, const float *, size_t, const void *, size_t, const float *,
                           float *, size_t, int, size_t);

static CML_ALWAYS_INLINE void small_n_cols(const int H, size_t M, size_t n, size_t K,
                                           const float *A, size_t lda, const void *B, size_t ldb,
                                           const float *bias, float *C, size_t ldc, int load_c) {
    static const small_n_fn fns[2][5] = {
        {NULL, small_n_0_1, small_n_0_2, small_n_0_3, small_n_0_4},
        {NULL, small_n_1_1, small_n_1_2, small_n_1_3, small_n_1_4},
    };
    for (size_t j = 0; j < n; j += 64) {
        size_t nc = cml_k_min(64, n - j);
        fns[H][M](K, A, lda, cml_gemm_b_off(H, B, j), ldb, bias ? bias + j : NULL, C + j, ldc,
                  load_c, nc);
    }
}

static void small_n_z(size_t M, size_t n, size_t K, const float *A, size_t lda, const void *B,
                      size_t ldb, const float *bias, float *C, size_t ldc, int load_c) {
    small_n_cols(0, M, n, K, A, lda, B, ldb, bias, C, ldc, load_c);
}
static void small_n_z_h(size_t M, size_t n, size_t K, const float *A, size_t lda, const void *B,
                        size_t ldb, const float *bias, float *C, size_t ldc, int load_c) {
    small_n_cols(1, M, n, K, A, lda, B, ldb, bias, C, ldc, load_c);
}

/* ---- small M, B[N,K]: dot products, 4 x 4 outputs per step -------------------- */

static CML_ALWAYS_INLINE void small_t_tile(const int H, const int MR, const int NC, size_t K,
                                           const float *A, size_t lda, const void *B, size_t ldb,
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
        for (int j = 0; j < NC; j++) b[j] = ld16(H, B, (size_t)j * ldb + k);
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
        for (int j = 0; j < NC; j++) b[j] = ld16m(H, B, (size_t)j * ldb + k, m);
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

#define SMALL_T(h, mr, nc)                                                                 \
    static void small_t_##h##_##mr##_##nc(size_t K, const float *A, size_t lda,               \
                                          const void *B, size_t ldb, const float *bias,       \
                                          float *C, size_t ldc, int load_c) {                 \
        small_t_tile(h, mr, nc, K, A, lda, B, ldb, bias, C, ldc, load_c);                     \
    }
#define SMALL_T_ROW(h, mr) SMALL_T(h, mr, 1) SMALL_T(h, mr, 2) SMALL_T(h, mr, 3) SMALL_T(h, mr, 4)
SMALL_T_ROW(0, 1) SMALL_T_ROW(0, 2) SMALL_T_ROW(0, 3) SMALL_T_ROW(0, 4)
SMALL_T_ROW(1, 1) SMALL_T_ROW(1, 2) SMALL_T_ROW(1, 3) SMALL_T_ROW(1, 4)

typedef void (*small_t_fn)(size_t, const float *, size_t, const void *, size_t, const float *,
                           float *, size_t, int);
#define SMALL_T_FNS(h, mr)                                                                 \
    {NULL, small_t_##h##_##mr##_1, small_t_##h##_##mr##_2, small_t_##h##_##mr##_3,         \
     small_t_##h##_##mr##_4}

static CML_ALWAYS_INLINE void small_t_cols(const int H, size_t M, size_t n, size_t K,
                                           const float *A, size_t lda, const void *B, size_t ldb,
                                           const float *bias, float *C, size_t ldc, int load_c) {
    static const small_t_fn fns[2][5][5] = {
        {{NULL, NULL, NULL, NULL, NULL}, SMALL_T_FNS(0, 1), SMALL_T_FNS(0, 2), SMALL_T_FNS(0, 3),
         SMALL_T_FNS(0, 4)},
        {{NULL, NULL, NULL, NULL, NULL}, SMALL_T_FNS(1, 1), SMALL_T_FNS(1, 2), SMALL_T_FNS(1, 3),
         SMALL_T_FNS(1, 4)},
    };
    for (size_t i = 0; i < M; i += 4) {
        size_t mr = cml_k_min(4, M - i);
        for (size_t j = 0; j < n; j += 4) {
            size_t nc = cml_k_min(4, n - j);
            fns[H][mr][nc](K, A + i * lda, lda, cml_gemm_b_off(H, B, j * ldb), ldb,
                           bias ? bias + j : NULL, C + i * ldc + j, ldc, load_c);
        }
    }
}

static void small_t_z(size_t M, size_t n, size_t K, const float *A, size_t lda, const void *B,
                      size_t ldb, const float *bias, float *C, size_t ldc, int load_c) {
    small_t_cols(0, M, n, K, A, lda, B, ldb, bias, C, ldc, load_c);
}
static void small_t_z_h(size_t M, size_t n, size_t K, const float *A, size_t lda, const void *B,
                        size_t ldb, const float *bias, float *C, size_t ldc, int load_c) {
    small_t_cols(1, M, n, K, A, lda, B, ldb, bias, C, ldc, load_c);
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
    .pack_n = {pack_n_z, pack_n_z_h},
    .pack_t = {pack_t_z, pack_t_z_h},
    .small_n = {small_n_z, small_n_z_h},
    .small_t = {small_t_z, small_t_z_h},
    .small_t_max_m = 8,
    .small_col_align = 64,
    .round16 = 1,
};
