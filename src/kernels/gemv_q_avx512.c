/* Quantized GEMV rows, AVX-512 (kinternal.h cml_qgemv_rows_avx512).
 *
 * Order: like gemm_avx512.c's small_t at M = 1 -- sixteen lane accumulators,
 * one FMA per step (x * w), a masked tail, _mm512_reduce_add_ps, then the
 * bias.
 *
 * Fast path (block_k a multiple of 16): 4 rows at a time; each 16 weights
 * are decoded in registers -- 8 bytes split into low / high nibbles and
 * interleaved back into element order (int4 sign-extended), or 16 bytes
 * widened, converted, times the block's scale, rounded through fp16 when
 * round_fp16. Other layouts decode a chunk of the row with the scalar
 * decoder and run the same accumulation. */
#include <immintrin.h>

#include "kernels/kinternal.h"

#define CHUNK 256 /* generic path: weights decoded per step (a multiple of 16) */

static CML_ALWAYS_INLINE __mmask16 tail_mask16(size_t n) { return (__mmask16)((1u << n) - 1u); }

/* Sixteen quantized values starting at element i (i a multiple of 16). */
static CML_ALWAYS_INLINE __m512 q16(const bool q4, const bool sgn, const uint8_t *q, size_t i) {
    __m128i b;
    if (q4) {
        __m128i raw = _mm_loadl_epi64((const __m128i *)(const void *)(q + (i >> 1)));
        __m128i lo = _mm_and_si128(raw, _mm_set1_epi8(15));
        __m128i hi = _mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(15));
        b = _mm_unpacklo_epi8(lo, hi);
        if (sgn) b = _mm_sub_epi8(_mm_xor_si128(b, _mm_set1_epi8(8)), _mm_set1_epi8(8));
    } else {
        b = _mm_loadu_si128((const __m128i *)(const void *)(q + i));
    }
    __m512i v = sgn ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
    return _mm512_cvtepi32_ps(v);
}

static CML_ALWAYS_INLINE __m512 round16(__m512 w) {
    return _mm512_cvtph_ps(_mm512_cvtps_ph(w, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

static CML_ALWAYS_INLINE void fast_rows(const int R, const bool q4, const bool sgn, const bool r16,
                                        const cml_qgemv_params *p, const float *x, size_t n,
                                        float *y) {
    const size_t K = p->K, bk = p->block_k, nb = K / bk;
    const float *srow[4];
    __m512 acc[4];
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
        srow[r] = p->scale + ((n + (size_t)r) / p->block_n) * nb;
        acc[r] = _mm512_setzero_ps();
    }
    for (size_t b = 0; b < nb; b++) {
        __m512 s[4];
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) s[r] = _mm512_set1_ps(srow[r][b]);
        for (size_t k = b * bk; k < (b + 1) * bk; k += 16) {
            __m512 xv = _mm512_loadu_ps(x + k);
            _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
                __m512 w = _mm512_mul_ps(s[r], q16(q4, sgn, p->q, (n + (size_t)r) * K + k));
                if (r16) w = round16(w);
                acc[r] = _mm512_fmadd_ps(xv, w, acc[r]);
            }
        }
    }
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
        float v = _mm512_reduce_add_ps(acc[r]);
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
FAST_R(4)

typedef void (*fast_fn)(const cml_qgemv_params *, const float *, size_t, float *);
static const fast_fn kFast1[8] = {fast_1_000, fast_1_001, fast_1_010, fast_1_011,
                                  fast_1_100, fast_1_101, fast_1_110, fast_1_111};
static const fast_fn kFast4[8] = {fast_4_000, fast_4_001, fast_4_010, fast_4_011,
                                  fast_4_100, fast_4_101, fast_4_110, fast_4_111};

static void generic_row(const cml_qgemv_params *p, const float *x, size_t n, float *y) {
    float w[CHUNK] CML_ALIGNED(64);
    __m512 acc = _mm512_setzero_ps();
    for (size_t k0 = 0; k0 < p->K; k0 += CHUNK) {
        size_t len = cml_k_min(CHUNK, p->K - k0);
        cml_qgemv_decode_row(p, n, k0, len, w);
        size_t k = 0;
        for (; k + 16 <= len; k += 16)
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(x + k0 + k), _mm512_loadu_ps(w + k), acc);
        if (k < len) { /* only at the end of the row: CHUNK is a multiple of 16 */
            __mmask16 m = tail_mask16(len - k);
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + k0 + k),
                                  _mm512_maskz_loadu_ps(m, w + k), acc);
        }
    }
    float v = _mm512_reduce_add_ps(acc);
    if (p->bias) v += p->bias[n];
    y[n] = v;
}

void cml_qgemv_rows_avx512(const cml_qgemv_params *p, const float *x, size_t n0, size_t n1,
                         float *y) {
    size_t n = n0;
    if (p->block_k % 16 != 0) {
        for (; n < n1; n++) generic_row(p, x, n, y);
        return;
    }
    unsigned v = (p->bits == 4) << 2 | (unsigned)p->is_signed << 1 | (unsigned)p->round_fp16;
    for (; n + 4 <= n1; n += 4) kFast4[v](p, x, n, y);
    for (; n < n1; n++) kFast1[v](p, x, n, y);
}
