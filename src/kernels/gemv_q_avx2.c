/* Quantized GEMV rows, AVX2 + FMA + F16C (kinternal.h cml_qgemv_rows_avx2).
 *
 * Order: like gemm_avx2.c's small_t at M = 1 -- eight lane accumulators,
 * lane l summing k = l, l + 8, ... with one FMA per step (x * w), a masked
 * tail, then the same horizontal sum and the bias.
 *
 * Fast path (block_k a multiple of 8, so every 8-wide step lies in one scale
 * block): 8 rows at a time; each 8 weights are decoded in registers --
 * nibbles moved to the top of their lane and shifted back down (arithmetic
 * for int4), or bytes widened, converted, times the block's scale, and
 * rounded through fp16 with F16C when round_fp16. Other layouts decode a
 * chunk of the row with the scalar decoder and run the same accumulation. */
#include <immintrin.h>
#include <string.h>

#include "kernels/kinternal.h"

#define CHUNK 256 /* generic path: weights decoded per step (a multiple of 8) */
#define ROWS 8    /* rows per fast step: eight independent FMA chains, x loaded once */

static CML_ALWAYS_INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static CML_ALWAYS_INLINE __m256i tail_mask8(size_t n) {
    static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(const void *)(m + 8 - n));
}

/* Eight quantized values of a row (row: its first byte) from column k (a
 * multiple of 8) as fp32. */
static CML_ALWAYS_INLINE __m256 q8(const bool q4, const bool sgn, const uint8_t *row, size_t k) {
    __m256i v;
    if (q4) {
        uint32_t u;
        memcpy(&u, row + (k >> 1), 4);
        v = _mm256_sllv_epi32(_mm256_set1_epi32((int32_t)u),
                              _mm256_setr_epi32(28, 24, 20, 16, 12, 8, 4, 0));
        v = sgn ? _mm256_srai_epi32(v, 28) : _mm256_srli_epi32(v, 28);
    } else {
        __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)(row + k));
        v = sgn ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
    }
    return _mm256_cvtepi32_ps(v);
}

static CML_ALWAYS_INLINE __m256 round16(__m256 w) {
    return _mm256_cvtph_ps(_mm256_cvtps_ph(w, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

static CML_ALWAYS_INLINE void fast_rows(const int R, const bool q4, const bool sgn, const bool r16,
                                        const cml_qgemv_params *p, const float *x, size_t n,
                                        float *y) {
    const size_t K = p->K, bk = p->block_k, nb = K / bk;
    const float *srow[ROWS];
    const uint8_t *qrow[ROWS];
    __m256 acc[ROWS];
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
        srow[r] = p->scale + ((n + (size_t)r) / p->block_n) * nb;
        qrow[r] = p->q + (q4 ? (n + (size_t)r) * K / 2 : (n + (size_t)r) * K); /* K % 8 == 0 */
        acc[r] = _mm256_setzero_ps();
    }
    for (size_t b = 0; b < nb; b++) {
        __m256 s[ROWS];
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) s[r] = _mm256_set1_ps(srow[r][b]);
        for (size_t k = b * bk; k < (b + 1) * bk; k += 8) {
            __m256 xv = _mm256_loadu_ps(x + k);
            _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
                __m256 w = _mm256_mul_ps(s[r], q8(q4, sgn, qrow[r], k));
                if (r16) w = round16(w);
                acc[r] = _mm256_fmadd_ps(xv, w, acc[r]);
            }
        }
    }
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
        float v = hsum8(acc[r]);
        if (p->bias) v += p->bias[n + (size_t)r];
        y[n + (size_t)r] = v;
    }
}

/* One instantiation per (rows, 4-bit, signed, fp16 rounding). */
#define FAST(R, Q4, SG, RD)                                                                  \
    static void fast_##R##_##Q4##SG##RD(const cml_qgemv_params *p, const float *x, size_t n, \
                                        float *y) {                                          \
        fast_rows(R, Q4, SG, RD, p, x, n, y);                                                \
    }
#define FAST_R(R)                                                                            \
    FAST(R, 0, 0, 0) FAST(R, 0, 0, 1) FAST(R, 0, 1, 0) FAST(R, 0, 1, 1)                      \
    FAST(R, 1, 0, 0) FAST(R, 1, 0, 1) FAST(R, 1, 1, 0) FAST(R, 1, 1, 1)
FAST_R(1)
FAST_R(8)

typedef void (*fast_fn)(const cml_qgemv_params *, const float *, size_t, float *);
static const fast_fn kFast1[8] = {fast_1_000, fast_1_001, fast_1_010, fast_1_011,
                                  fast_1_100, fast_1_101, fast_1_110, fast_1_111};
static const fast_fn kFast8[8] = {fast_8_000, fast_8_001, fast_8_010, fast_8_011,
                                  fast_8_100, fast_8_101, fast_8_110, fast_8_111};

static void generic_row(const cml_qgemv_params *p, const float *x, size_t n, float *y) {
    float w[CHUNK] CML_ALIGNED(32);
    __m256 acc = _mm256_setzero_ps();
    for (size_t k0 = 0; k0 < p->K; k0 += CHUNK) {
        size_t len = cml_k_min(CHUNK, p->K - k0);
        cml_qgemv_decode_row(p, n, k0, len, w);
        size_t k = 0;
        for (; k + 8 <= len; k += 8)
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + k0 + k), _mm256_loadu_ps(w + k), acc);
        if (k < len) { /* only at the end of the row: CHUNK is a multiple of 8 */
            __m256i m = tail_mask8(len - k);
            acc = _mm256_fmadd_ps(_mm256_maskload_ps(x + k0 + k, m), _mm256_maskload_ps(w + k, m),
                                  acc);
        }
    }
    float v = hsum8(acc);
    if (p->bias) v += p->bias[n];
    y[n] = v;
}

void cml_qgemv_rows_avx2(const cml_qgemv_params *p, const float *x, size_t n0, size_t n1,
                         float *y) {
    size_t n = n0;
    if (p->block_k % 8 != 0) {
        for (; n < n1; n++) generic_row(p, x, n, y);
        return;
    }
    unsigned v = (p->bits == 4) << 2 | (unsigned)p->is_signed << 1 | (unsigned)p->round_fp16;
    for (; n + ROWS <= n1; n += ROWS) kFast8[v](p, x, n, y);
    for (; n < n1; n++) kFast1[v](p, x, n, y);
}
