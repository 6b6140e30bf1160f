/* AVX2+FMA gemm kit: 6 x 16 register tiles over packed B panels, and the
 * unpacked small-M kernels. */
#include <immintrin.h>
#include <string.h>

#include "kernels/gemm_common.h"
#include "kernels/kinternal.h"

#define Y_MR 6
#define Y_NR 16

static const int32_t mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/* Lanes [0, n) set, n clamped to [0, 8]. */
static CML_ALWAYS_INLINE __m256i tail_mask8(size_t n) {
    if (n > 8) n = 8;
    return _mm256_loadu_si256((const __m256i *)(mask_table + 8 - n));
}

/* Lanes [0, n) clamped to 8. */
static CML_ALWAYS_INLINE size_t lanes8(size_t n) { return n > 8 ? 8 : n; }

/* 8 elements of B at element off: floats, or fp16 bits widened (H = 1). */
static CML_ALWAYS_INLINE __m256 ld8(const int H, const void *B, size_t off) {
    if (H) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)B + off)));
    return _mm256_loadu_ps((const float *)B + off);
}

/* Lanes [0, n) of the 8 at off, zero above (m = tail_mask8(n)); reads
 * nothing past them. */
static CML_ALWAYS_INLINE __m256 ld8m(const int H, const void *B, size_t off, size_t n,
                                    __m256i m) {
    if (H) {
        uint16_t t[8] = {0};
        memcpy(t, (const uint16_t *)B + off, lanes8(n) * sizeof(uint16_t));
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)t));
    }
    return _mm256_maskload_ps((const float *)B + off, m);
}

static CML_ALWAYS_INLINE __m256 y_round16(__m256 v) { /* as cml_k_conv_epi_avx2 */
    return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

static CML_ALWAYS_INLINE __m256 y_epi(__m256 v, __m256 bias, const cml_gemm_epi *e, int i,
                                      __m256i m, int full, const float *c, const float *r,
                                      __m256 lo, __m256 hi) {
    if (e->bias) v = _mm256_add_ps(v, bias);
    if (e->rbias) v = _mm256_add_ps(v, _mm256_set1_ps(e->rbias[i]));
    if (e->load_c) v = _mm256_add_ps(v, full ? _mm256_loadu_ps(c) : _mm256_maskload_ps(c, m));
    if (e->clamp) {
        v = _mm256_blendv_ps(v, hi, _mm256_cmp_ps(v, hi, _CMP_GT_OQ));
        v = _mm256_blendv_ps(v, lo, _mm256_cmp_ps(v, lo, _CMP_LT_OQ));
    }
    if (e->round16) v = y_round16(v);
    if (e->res) {
        v = _mm256_add_ps(v, full ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, m));
        if (e->round16) v = y_round16(v);
    }
    return v;
}

/* The tile for nr <= 8 (a panel's last columns): the left half only, the
 * same per-column sums as ukr_body. */
static CML_ALWAYS_INLINE void ukr_half(const int MR, size_t kc, const float *A, size_t lda,
                                       const float *Bp, float *C, size_t ldc, size_t nr,
                                       const cml_gemm_epi *e) {
    __m256 c0[Y_MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) c0[i] = _mm256_setzero_ps();
    const float *a = A;
    for (size_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(Bp);
        Bp += Y_NR;
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++)
            c0[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + (size_t)i * lda), b0, c0[i]);
        a++;
    }
    __m256i m0 = tail_mask8(nr);
    __m256 bias0 = e->bias ? _mm256_maskload_ps(e->bias, m0) : _mm256_setzero_ps();
    __m256 lo = _mm256_set1_ps(e->lo), hi = _mm256_set1_ps(e->hi);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        float *c = C + (size_t)i * ldc;
        const float *r = e->res ? e->res + (size_t)i * ldc : NULL;
        _mm256_maskstore_ps(c, m0, y_epi(c0[i], bias0, e, i, m0, 0, c, r, lo, hi));
    }
}

static CML_ALWAYS_INLINE void ukr_body(const int MR, size_t kc, const float *A, size_t lda,
                                       const float *Bp, float *C, size_t ldc, size_t nr,
                                       const cml_gemm_epi *e) {
    if (nr <= 8) {
        ukr_half(MR, kc, A, lda, Bp, C, ldc, nr, e);
        return;
    }
    __m256 c0[Y_MR], c1[Y_MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        c0[i] = _mm256_setzero_ps();
        c1[i] = _mm256_setzero_ps();
    }
    const float *a = A;
    for (size_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(Bp);
        __m256 b1 = _mm256_load_ps(Bp + 8);
        Bp += Y_NR;
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            __m256 ai = _mm256_broadcast_ss(a + (size_t)i * lda);
            c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
        }
        a++;
    }
    __m256i m0 = tail_mask8(nr), m1 = tail_mask8(nr > 8 ? nr - 8 : 0);
    __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
    if (e->bias) {
        bias0 = _mm256_maskload_ps(e->bias, m0);
        bias1 = _mm256_maskload_ps(e->bias + 8, m1);
    }
    __m256 lo = _mm256_set1_ps(e->lo), hi = _mm256_set1_ps(e->hi);
    if (nr == Y_NR) {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            float *c = C + (size_t)i * ldc;
            const float *r = e->res ? e->res + (size_t)i * ldc : NULL;
            _mm256_storeu_ps(c, y_epi(c0[i], bias0, e, i, m0, 1, c, r, lo, hi));
            _mm256_storeu_ps(c + 8, y_epi(c1[i], bias1, e, i, m1, 1, c + 8, r ? r + 8 : r, lo, hi));
        }
    } else {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            float *c = C + (size_t)i * ldc;
            const float *r = e->res ? e->res + (size_t)i * ldc : NULL;
            _mm256_maskstore_ps(c, m0, y_epi(c0[i], bias0, e, i, m0, 0, c, r, lo, hi));
            _mm256_maskstore_ps(c + 8, m1,
                                y_epi(c1[i], bias1, e, i, m1, 0, c + 8, r ? r + 8 : r, lo, hi));
        }
    }
}

#define Y_UKR(mr)                                                                        \
    static void ukr_y_##mr(size_t kc, const float *A, size_t lda, const float *Bp,       \
                           float *C, size_t ldc, size_t nr, const cml_gemm_epi *e) {     \
        ukr_body(mr, kc, A, lda, Bp, C, ldc, nr, e);                                     \
    }
Y_UKR(1)
Y_UKR(2)
Y_UKR(3)
Y_UKR(4)
Y_UKR(5)
Y_UKR(6)

static CML_ALWAYS_INLINE void pack_n_body(const int H, size_t kc, size_t nr, const void *B,
                                          size_t ldb, float *Bp) {
    if (nr == Y_NR) {
        for (size_t k = 0; k < kc; k++) {
            _mm256_store_ps(Bp + k * Y_NR, ld8(H, B, k * ldb));
            _mm256_store_ps(Bp + k * Y_NR + 8, ld8(H, B, k * ldb + 8));
        }
    } else {
        size_t n1 = nr > 8 ? nr - 8 : 0;
        __m256i m0 = tail_mask8(nr), m1 = tail_mask8(n1);
        for (size_t k = 0; k < kc; k++) {
            _mm256_store_ps(Bp + k * Y_NR, ld8m(H, B, k * ldb, nr, m0));
            _mm256_store_ps(Bp + k * Y_NR + 8, ld8m(H, B, k * ldb + 8, n1, m1));
        }
    }
}

static void pack_n_y(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    pack_n_body(0, kc, nr, B, ldb, Bp);
}
static void pack_n_y_h(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    pack_n_body(1, kc, nr, B, ldb, Bp);
}

static CML_ALWAYS_INLINE void transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

static CML_ALWAYS_INLINE void pack_t_body(const int H, size_t kc, size_t nr, const void *B,
                                          size_t ldb, float *Bp) {
    if (nr != Y_NR) {
        cml_gemm_pack_t_impl(H, Y_NR, kc, nr, B, ldb, Bp);
        return;
    }
    size_t k = 0;
    for (; k + 8 <= kc; k += 8) {
        for (int h = 0; h < 2; h++) {
            __m256 r[8];
            size_t src = (size_t)h * 8 * ldb + k;
            for (int i = 0; i < 8; i++) r[i] = ld8(H, B, src + (size_t)i * ldb);
            transpose8(r);
            for (int i = 0; i < 8; i++) _mm256_store_ps(Bp + (k + (size_t)i) * Y_NR + h * 8, r[i]);
        }
    }
    for (; k < kc; k++)
        for (size_t j = 0; j < Y_NR; j++) Bp[k * Y_NR + j] = cml_gemm_b_at(H, B, j * ldb + k);
}

static void pack_t_y(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    pack_t_body(0, kc, nr, B, ldb, Bp);
}
static void pack_t_y_h(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    pack_t_body(1, kc, nr, B, ldb, Bp);
}

/* ---- small M, B[K,N]: rows <= 4, 32 columns per step ------------------------- */

static CML_ALWAYS_INLINE void small_n_tile(const int H, const int MR, size_t K, const float *A,
                                           size_t lda, const void *B, size_t ldb,
                                           const float *bias, float *C, size_t ldc, int load_c,
                                           size_t ncols) {
    __m256i m[4];
    #pragma GCC unroll 16
    for (int v = 0; v < 4; v++) m[v] = tail_mask8(ncols > (size_t)v * 8 ? ncols - (size_t)v * 8 : 0);
    __m256 acc[4][4];
    #pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
        #pragma GCC unroll 16
        for (int v = 0; v < 4; v++) acc[i][v] = _mm256_setzero_ps();
    if (ncols == 32) {
        for (size_t k = 0; k < K; k++) {
            __m256 bv[4];
            #pragma GCC unroll 16
            for (int v = 0; v < 4; v++) bv[v] = ld8(H, B, k * ldb + (size_t)v * 8);
            #pragma GCC unroll 16
            for (int i = 0; i < MR; i++) {
                __m256 a = _mm256_broadcast_ss(A + (size_t)i * lda + k);
                #pragma GCC unroll 16
                for (int v = 0; v < 4; v++) acc[i][v] = _mm256_fmadd_ps(a, bv[v], acc[i][v]);
            }
        }
    } else {
        for (size_t k = 0; k < K; k++) {
            __m256 bv[4];
            #pragma GCC unroll 16
            for (int v = 0; v < 4; v++) {
                size_t nv = ncols > (size_t)v * 8 ? ncols - (size_t)v * 8 : 0;
                bv[v] = ld8m(H, B, k * ldb + (size_t)v * 8, nv, m[v]);
            }
            #pragma GCC unroll 16
            for (int i = 0; i < MR; i++) {
                __m256 a = _mm256_broadcast_ss(A + (size_t)i * lda + k);
                #pragma GCC unroll 16
                for (int v = 0; v < 4; v++) acc[i][v] = _mm256_fmadd_ps(a, bv[v], acc[i][v]);
            }
        }
    }
    #pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        float *c = C + (size_t)i * ldc;
        #pragma GCC unroll 16
        for (int v = 0; v < 4; v++) {
            __m256 r = acc[i][v];
            if (bias) r = _mm256_add_ps(r, _mm256_maskload_ps(bias + v * 8, m[v]));
            if (load_c) r = _mm256_add_ps(r, _mm256_maskload_ps(c + v * 8, m[v]));
            _mm256_maskstore_ps(c + v * 8, m[v], r);
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
    for (size_t j = 0; j < n; j += 32) {
        size_t nc = cml_k_min(32, n - j);
        fns[H][M](K, A, lda, cml_gemm_b_off(H, B, j), ldb, bias ? bias + j : NULL, C + j, ldc,
                  load_c, nc);
    }
}

static void small_n_y(size_t M, size_t n, size_t K, const float *A, size_t lda, const void *B,
                      size_t ldb, const float *bias, float *C, size_t ldc, int load_c) {
    small_n_cols(0, M, n, K, A, lda, B, ldb, bias, C, ldc, load_c);
}
static void small_n_y_h(size_t M, size_t n, size_t K, const float *A, size_t lda, const void *B,
                        size_t ldb, const float *bias, float *C, size_t ldc, int load_c) {
    small_n_cols(1, M, n, K, A, lda, B, ldb, bias, C, ldc, load_c);
}

/* ---- small M, B[N,K]: dot products, 4 x 4 outputs per step -------------------- */

static CML_ALWAYS_INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static CML_ALWAYS_INLINE void small_t_tile(const int H, const int MR, const int NC, size_t K,
                                           const float *A, size_t lda, const void *B, size_t ldb,
                                           const float *bias, float *C, size_t ldc,
                                           int load_c) {
    __m256 acc[4][4];
    #pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
        #pragma GCC unroll 16
        for (int j = 0; j < NC; j++) acc[i][j] = _mm256_setzero_ps();
    size_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 b[4];
        #pragma GCC unroll 16
        for (int j = 0; j < NC; j++) b[j] = ld8(H, B, (size_t)j * ldb + k);
        #pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            __m256 a = _mm256_loadu_ps(A + (size_t)i * lda + k);
            #pragma GCC unroll 16
            for (int j = 0; j < NC; j++) acc[i][j] = _mm256_fmadd_ps(a, b[j], acc[i][j]);
        }
    }
    if (k < K) {
        __m256i m = tail_mask8(K - k);
        __m256 b[4];
        #pragma GCC unroll 16
        for (int j = 0; j < NC; j++) b[j] = ld8m(H, B, (size_t)j * ldb + k, K - k, m);
        #pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            __m256 a = _mm256_maskload_ps(A + (size_t)i * lda + k, m);
            #pragma GCC unroll 16
            for (int j = 0; j < NC; j++) acc[i][j] = _mm256_fmadd_ps(a, b[j], acc[i][j]);
        }
    }
    #pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        float *c = C + (size_t)i * ldc;
        #pragma GCC unroll 16
        for (int j = 0; j < NC; j++) {
            float v = hsum8(acc[i][j]);
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

static void small_t_y(size_t M, size_t n, size_t K, const float *A, size_t lda, const void *B,
                      size_t ldb, const float *bias, float *C, size_t ldc, int load_c) {
    small_t_cols(0, M, n, K, A, lda, B, ldb, bias, C, ldc, load_c);
}
static void small_t_y_h(size_t M, size_t n, size_t K, const float *A, size_t lda, const void *B,
                        size_t ldb, const float *bias, float *C, size_t ldc, int load_c) {
    small_t_cols(1, M, n, K, A, lda, B, ldb, bias, C, ldc, load_c);
}

const cml_gemm_kit cml_gemm_kit_avx2 = {
    .mr = Y_MR,
    .nr = Y_NR,
    .kc = 256,
    .ukr = {NULL, ukr_y_1, ukr_y_2, ukr_y_3, ukr_y_4, ukr_y_5, ukr_y_6},
    .pack_n = {pack_n_y, pack_n_y_h},
    .pack_t = {pack_t_y, pack_t_y_h},
    .small_n = {small_n_y, small_n_y_h},
    .small_t = {small_t_y, small_t_y_h},
    .small_t_max_m = 8,
    .small_col_align = 32,
    .round16 = 1,
};
