/* A thin vector abstraction over AVX-512 (16 lanes), AVX2+FMA (8 lanes) and
 * aarch64 NEON (4 lanes) for the kernels written once in vec_impl.h. Include
 * only from *_avx2.c or *_avx512.c files (compiled with the matching -m
 * flags) or from *_neon.c files (aarch64 builds). */
#ifndef CML_KERNELS_SIMD_H
#define CML_KERNELS_SIMD_H

#if defined(__aarch64__)
#include <arm_neon.h>
#else
#include <immintrin.h>
#endif
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kinternal.h"

#if defined(__AVX512F__)

#define VW 16
#define VSUF(name) name##_avx512
typedef __m512 vf;
typedef __m512i vi;
typedef __mmask16 vm;

static CML_ALWAYS_INLINE vf v_load(const float *p) { return _mm512_loadu_ps(p); }
static CML_ALWAYS_INLINE void v_store(float *p, vf v) { _mm512_storeu_ps(p, v); }
static CML_ALWAYS_INLINE vf v_load_n(const float *p, size_t n) {
    return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p);
}
static CML_ALWAYS_INLINE void v_store_n(float *p, vf v, size_t n) {
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), v);
}
/* lanes >= n zeroed */
static CML_ALWAYS_INLINE vf v_keep_n(vf v, size_t n) {
    return _mm512_maskz_mov_ps((__mmask16)((1u << n) - 1u), v);
}
static CML_ALWAYS_INLINE vf v_set1(float x) { return _mm512_set1_ps(x); }
static CML_ALWAYS_INLINE vf v_zero(void) { return _mm512_setzero_ps(); }
static CML_ALWAYS_INLINE vf v_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static CML_ALWAYS_INLINE vf v_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static CML_ALWAYS_INLINE vf v_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static CML_ALWAYS_INLINE vf v_div(vf a, vf b) { return _mm512_div_ps(a, b); }
static CML_ALWAYS_INLINE vf v_fmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static CML_ALWAYS_INLINE vf v_fnmadd(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }
/* a > b ? a : b (b when unordered), like MAXPS */
static CML_ALWAYS_INLINE vf v_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static CML_ALWAYS_INLINE vf v_min(vf a, vf b) { return _mm512_min_ps(a, b); }
static CML_ALWAYS_INLINE vf v_sqrt(vf a) { return _mm512_sqrt_ps(a); }
static CML_ALWAYS_INLINE vf v_floor(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
static CML_ALWAYS_INLINE vf v_ceil(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
static CML_ALWAYS_INLINE vf v_round(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static CML_ALWAYS_INLINE vf v_and(vf a, vf b) { return _mm512_and_ps(a, b); }
static CML_ALWAYS_INLINE vf v_andnot(vf a, vf b) { return _mm512_andnot_ps(a, b); } /* ~a & b */
static CML_ALWAYS_INLINE vf v_or(vf a, vf b) { return _mm512_or_ps(a, b); }
static CML_ALWAYS_INLINE vf v_xor(vf a, vf b) { return _mm512_xor_ps(a, b); }
static CML_ALWAYS_INLINE vm v_lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
static CML_ALWAYS_INLINE vm v_le(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
static CML_ALWAYS_INLINE vm v_gt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
static CML_ALWAYS_INLINE vm v_ge(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
static CML_ALWAYS_INLINE vm v_eq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
static CML_ALWAYS_INLINE vm v_ne(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_NEQ_UQ); }
static CML_ALWAYS_INLINE vm v_unord(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q); }
/* m ? t : f */
static CML_ALWAYS_INLINE vf v_sel(vm m, vf t, vf f) { return _mm512_mask_blend_ps(m, f, t); }
static CML_ALWAYS_INLINE vf v_mask_one(vm m) { return _mm512_maskz_mov_ps(m, _mm512_set1_ps(1.0f)); }
static CML_ALWAYS_INLINE vi v_cvt_i(vf a) { return _mm512_cvtps_epi32(a); } /* nearest */
static CML_ALWAYS_INLINE vi vi_add(vi a, vi b) { return _mm512_add_epi32(a, b); }
static CML_ALWAYS_INLINE vi vi_sub(vi a, vi b) { return _mm512_sub_epi32(a, b); }
static CML_ALWAYS_INLINE vi vi_set1(int32_t x) { return _mm512_set1_epi32(x); }
static CML_ALWAYS_INLINE vi vi_srai1(vi a) { return _mm512_srai_epi32(a, 1); }
static CML_ALWAYS_INLINE vi vi_slli23(vi a) { return _mm512_slli_epi32(a, 23); }
static CML_ALWAYS_INLINE vf vi_as_f(vi a) { return _mm512_castsi512_ps(a); }
static CML_ALWAYS_INLINE __mmask16 v_range_mask_(int64_t lo, int64_t hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}
/* Lanes l in [lo, hi) get p[l], the others 0; only those lanes are read. */
static CML_ALWAYS_INLINE vf v_load_range(const float *p, int64_t lo, int64_t hi) {
    return _mm512_maskz_loadu_ps(v_range_mask_(lo, hi), p);
}
/* Lanes l in [lo, hi) get p[2l], the others 0; only those elements are read. */
static CML_ALWAYS_INLINE vf v_load_even_range(const float *p, int64_t lo, int64_t hi) {
    const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    __m512 a = _mm512_maskz_loadu_ps(v_range_mask_(2 * lo, 2 * hi - 1), p);
    __m512 b = _mm512_maskz_loadu_ps(v_range_mask_(2 * lo - 16, 2 * hi - 1 - 16), p + 16);
    return _mm512_permutex2var_ps(a, idx, b);
}
/* p[0], p[2], ..., p[2*VW-2] (reads 2*VW floats) */
static CML_ALWAYS_INLINE vf v_load_even(const float *p) {
    const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), idx, _mm512_loadu_ps(p + 16));
}
static CML_ALWAYS_INLINE float v_hsum(vf a) { return _mm512_reduce_add_ps(a); }
static CML_ALWAYS_INLINE float v_hmax(vf a) { return _mm512_reduce_max_ps(a); }
/* Quantized weights (gemv_q_impl.h): VW 4-bit values from VW / 2 bytes
 * (low nibble first) or VW bytes, sign-extended when sgn, as float; and a
 * round trip through IEEE fp16 (round to nearest even). */
static CML_ALWAYS_INLINE vf v_load_q4(const uint8_t *p, bool sgn) {
    __m128i raw = _mm_loadl_epi64((const __m128i *)(const void *)p);
    __m128i lo = _mm_and_si128(raw, _mm_set1_epi8(15));
    __m128i hi = _mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(15));
    __m128i b = _mm_unpacklo_epi8(lo, hi);
    if (sgn) return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
                 _mm_sub_epi8(_mm_xor_si128(b, _mm_set1_epi8(8)), _mm_set1_epi8(8))));
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b));
}
static CML_ALWAYS_INLINE vf v_load_q8(const uint8_t *p, bool sgn) {
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
    return _mm512_cvtepi32_ps(sgn ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b));
}
static CML_ALWAYS_INLINE vf v_round_f16(vf v) {
    return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

#elif defined(__AVX2__)

#define VW 8
#define VSUF(name) name##_avx2
typedef __m256 vf;
typedef __m256i vi;
typedef __m256 vm;

static const int32_t cml_simd_mask_table_[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                 0,  0,  0,  0,  0,  0,  0,  0};
static CML_ALWAYS_INLINE __m256i v_tail_mask(size_t n) {
    return _mm256_loadu_si256((const __m256i *)(const void *)(cml_simd_mask_table_ + 8 - n));
}
static CML_ALWAYS_INLINE vf v_load(const float *p) { return _mm256_loadu_ps(p); }
static CML_ALWAYS_INLINE void v_store(float *p, vf v) { _mm256_storeu_ps(p, v); }
static CML_ALWAYS_INLINE vf v_load_n(const float *p, size_t n) { return _mm256_maskload_ps(p, v_tail_mask(n)); }
static CML_ALWAYS_INLINE void v_store_n(float *p, vf v, size_t n) { _mm256_maskstore_ps(p, v_tail_mask(n), v); }
static CML_ALWAYS_INLINE vf v_keep_n(vf v, size_t n) {
    return _mm256_and_ps(v, _mm256_castsi256_ps(v_tail_mask(n)));
}
static CML_ALWAYS_INLINE vf v_set1(float x) { return _mm256_set1_ps(x); }
static CML_ALWAYS_INLINE vf v_zero(void) { return _mm256_setzero_ps(); }
static CML_ALWAYS_INLINE vf v_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static CML_ALWAYS_INLINE vf v_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static CML_ALWAYS_INLINE vf v_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static CML_ALWAYS_INLINE vf v_div(vf a, vf b) { return _mm256_div_ps(a, b); }
static CML_ALWAYS_INLINE vf v_fmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static CML_ALWAYS_INLINE vf v_fnmadd(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }
static CML_ALWAYS_INLINE vf v_max(vf a, vf b) { return _mm256_max_ps(a, b); }
static CML_ALWAYS_INLINE vf v_min(vf a, vf b) { return _mm256_min_ps(a, b); }
static CML_ALWAYS_INLINE vf v_sqrt(vf a) { return _mm256_sqrt_ps(a); }
static CML_ALWAYS_INLINE vf v_floor(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
static CML_ALWAYS_INLINE vf v_ceil(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
static CML_ALWAYS_INLINE vf v_round(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static CML_ALWAYS_INLINE vf v_and(vf a, vf b) { return _mm256_and_ps(a, b); }
static CML_ALWAYS_INLINE vf v_andnot(vf a, vf b) { return _mm256_andnot_ps(a, b); }
static CML_ALWAYS_INLINE vf v_or(vf a, vf b) { return _mm256_or_ps(a, b); }
static CML_ALWAYS_INLINE vf v_xor(vf a, vf b) { return _mm256_xor_ps(a, b); }
static CML_ALWAYS_INLINE vm v_lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
static CML_ALWAYS_INLINE vm v_le(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
static CML_ALWAYS_INLINE vm v_gt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
static CML_ALWAYS_INLINE vm v_ge(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
static CML_ALWAYS_INLINE vm v_eq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
static CML_ALWAYS_INLINE vm v_ne(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_NEQ_UQ); }
static CML_ALWAYS_INLINE vm v_unord(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_UNORD_Q); }
static CML_ALWAYS_INLINE vf v_sel(vm m, vf t, vf f) { return _mm256_blendv_ps(f, t, m); }
static CML_ALWAYS_INLINE vf v_mask_one(vm m) { return _mm256_and_ps(m, _mm256_set1_ps(1.0f)); }
static CML_ALWAYS_INLINE vi v_cvt_i(vf a) { return _mm256_cvtps_epi32(a); }
static CML_ALWAYS_INLINE vi vi_add(vi a, vi b) { return _mm256_add_epi32(a, b); }
static CML_ALWAYS_INLINE vi vi_sub(vi a, vi b) { return _mm256_sub_epi32(a, b); }
static CML_ALWAYS_INLINE vi vi_set1(int32_t x) { return _mm256_set1_epi32(x); }
static CML_ALWAYS_INLINE vi vi_srai1(vi a) { return _mm256_srai_epi32(a, 1); }
static CML_ALWAYS_INLINE vi vi_slli23(vi a) { return _mm256_slli_epi32(a, 23); }
static CML_ALWAYS_INLINE vf vi_as_f(vi a) { return _mm256_castsi256_ps(a); }
static CML_ALWAYS_INLINE __m256i v_range_mask_(int64_t lo, int64_t hi) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int32_t l = lo < -1 ? -1 : (lo > 8 ? 8 : (int32_t)lo);
    int32_t h = hi < 0 ? 0 : (hi > 8 ? 8 : (int32_t)hi);
    __m256i ge = _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(l - 1));
    __m256i lt = _mm256_cmpgt_epi32(_mm256_set1_epi32(h), idx);
    return _mm256_and_si256(ge, lt);
}
static CML_ALWAYS_INLINE vf v_load_range(const float *p, int64_t lo, int64_t hi) {
    return _mm256_maskload_ps(p, v_range_mask_(lo, hi));
}
static CML_ALWAYS_INLINE vf v_load_even_range(const float *p, int64_t lo, int64_t hi) {
    __m256 a = _mm256_maskload_ps(p, v_range_mask_(2 * lo, 2 * hi - 1));
    __m256 b = _mm256_maskload_ps(p + 8, v_range_mask_(2 * lo - 8, 2 * hi - 1 - 8));
    __m256 s = _mm256_shuffle_ps(a, b, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xd8));
}
static CML_ALWAYS_INLINE vf v_load_even(const float *p) {
    __m256 s = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xd8));
}
static CML_ALWAYS_INLINE float v_hsum(vf v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
static CML_ALWAYS_INLINE float v_hmax(vf v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
/* Quantized weights (gemv_q_impl.h): VW 4-bit values from VW / 2 bytes
 * (low nibble first) or VW bytes, sign-extended when sgn, as float; and a
 * round trip through IEEE fp16 (round to nearest even). */
static CML_ALWAYS_INLINE vf v_load_q4(const uint8_t *p, bool sgn) {
    uint32_t u;
    memcpy(&u, p, 4);
    /* each nibble moved to the top of its lane, then shifted back down */
    __m256i v = _mm256_sllv_epi32(_mm256_set1_epi32((int32_t)u),
                                  _mm256_setr_epi32(28, 24, 20, 16, 12, 8, 4, 0));
    return _mm256_cvtepi32_ps(sgn ? _mm256_srai_epi32(v, 28) : _mm256_srli_epi32(v, 28));
}
static CML_ALWAYS_INLINE vf v_load_q8(const uint8_t *p, bool sgn) {
    __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)p);
    return _mm256_cvtepi32_ps(sgn ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b));
}
static CML_ALWAYS_INLINE vf v_round_f16(vf v) {
    return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

#elif defined(__aarch64__) && defined(__ARM_NEON)

/* NEON is baseline on aarch64. Comparisons, min/max and selects reproduce
 * the x86 semantics the kernels were written against (MAXPS: a > b ? a : b,
 * the second operand when unordered); partial loads and stores go through a
 * stack copy so that only the n (or [lo, hi)) lanes are touched. */
#define VW 4
#define VSUF(name) name##_neon
typedef float32x4_t vf;
typedef int32x4_t vi;
typedef uint32x4_t vm;

static const uint32_t cml_simd_mask_table_[8] = {~0u, ~0u, ~0u, ~0u, 0, 0, 0, 0};
static CML_ALWAYS_INLINE uint32x4_t v_tail_mask(size_t n) { return vld1q_u32(cml_simd_mask_table_ + 4 - n); }
static CML_ALWAYS_INLINE vf v_load(const float *p) { return vld1q_f32(p); }
static CML_ALWAYS_INLINE void v_store(float *p, vf v) { vst1q_f32(p, v); }
static CML_ALWAYS_INLINE vf v_load_n(const float *p, size_t n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(t, p, n * sizeof(float));
    return vld1q_f32(t);
}
static CML_ALWAYS_INLINE void v_store_n(float *p, vf v, size_t n) {
    float t[4];
    vst1q_f32(t, v);
    memcpy(p, t, n * sizeof(float));
}
static CML_ALWAYS_INLINE vf v_keep_n(vf v, size_t n) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), v_tail_mask(n)));
}
static CML_ALWAYS_INLINE vf v_set1(float x) { return vdupq_n_f32(x); }
static CML_ALWAYS_INLINE vf v_zero(void) { return vdupq_n_f32(0.0f); }
static CML_ALWAYS_INLINE vf v_add(vf a, vf b) { return vaddq_f32(a, b); }
static CML_ALWAYS_INLINE vf v_sub(vf a, vf b) { return vsubq_f32(a, b); }
static CML_ALWAYS_INLINE vf v_mul(vf a, vf b) { return vmulq_f32(a, b); }
static CML_ALWAYS_INLINE vf v_div(vf a, vf b) { return vdivq_f32(a, b); }
static CML_ALWAYS_INLINE vf v_fmadd(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }  /* a*b + c */
static CML_ALWAYS_INLINE vf v_fnmadd(vf a, vf b, vf c) { return vfmsq_f32(c, a, b); } /* c - a*b */
static CML_ALWAYS_INLINE vf v_max(vf a, vf b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
static CML_ALWAYS_INLINE vf v_min(vf a, vf b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
static CML_ALWAYS_INLINE vf v_sqrt(vf a) { return vsqrtq_f32(a); }
static CML_ALWAYS_INLINE vf v_floor(vf a) { return vrndmq_f32(a); }
static CML_ALWAYS_INLINE vf v_ceil(vf a) { return vrndpq_f32(a); }
static CML_ALWAYS_INLINE vf v_round(vf a) { return vrndnq_f32(a); } /* ties to even */
static CML_ALWAYS_INLINE vf v_and(vf a, vf b) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}
static CML_ALWAYS_INLINE vf v_andnot(vf a, vf b) { /* ~a & b */
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(b), vreinterpretq_u32_f32(a)));
}
static CML_ALWAYS_INLINE vf v_or(vf a, vf b) {
    return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}
static CML_ALWAYS_INLINE vf v_xor(vf a, vf b) {
    return vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}
/* Ordered comparisons (false when either is NaN); v_ne and v_unord are true then. */
static CML_ALWAYS_INLINE vm v_lt(vf a, vf b) { return vcltq_f32(a, b); }
static CML_ALWAYS_INLINE vm v_le(vf a, vf b) { return vcleq_f32(a, b); }
static CML_ALWAYS_INLINE vm v_gt(vf a, vf b) { return vcgtq_f32(a, b); }
static CML_ALWAYS_INLINE vm v_ge(vf a, vf b) { return vcgeq_f32(a, b); }
static CML_ALWAYS_INLINE vm v_eq(vf a, vf b) { return vceqq_f32(a, b); }
static CML_ALWAYS_INLINE vm v_ne(vf a, vf b) { return vmvnq_u32(vceqq_f32(a, b)); }
static CML_ALWAYS_INLINE vm v_unord(vf a, vf b) {
    return vmvnq_u32(vandq_u32(vceqq_f32(a, a), vceqq_f32(b, b)));
}
static CML_ALWAYS_INLINE vf v_sel(vm m, vf t, vf f) { return vbslq_f32(m, t, f); }
static CML_ALWAYS_INLINE vf v_mask_one(vm m) {
    return vreinterpretq_f32_u32(vandq_u32(m, vreinterpretq_u32_f32(vdupq_n_f32(1.0f))));
}
static CML_ALWAYS_INLINE vi v_cvt_i(vf a) { return vcvtnq_s32_f32(a); } /* nearest, ties even */
static CML_ALWAYS_INLINE vi vi_add(vi a, vi b) { return vaddq_s32(a, b); }
static CML_ALWAYS_INLINE vi vi_sub(vi a, vi b) { return vsubq_s32(a, b); }
static CML_ALWAYS_INLINE vi vi_set1(int32_t x) { return vdupq_n_s32(x); }
static CML_ALWAYS_INLINE vi vi_srai1(vi a) { return vshrq_n_s32(a, 1); }
static CML_ALWAYS_INLINE vi vi_slli23(vi a) { return vshlq_n_s32(a, 23); }
static CML_ALWAYS_INLINE vf vi_as_f(vi a) { return vreinterpretq_f32_s32(a); }
/* Lanes l in [lo, hi) get p[l], the others 0; only those lanes are read
 * (p may point outside the array: the address of a lane is formed only
 * for the lanes read). */
static CML_ALWAYS_INLINE vf v_load_range(const float *p, int64_t lo, int64_t hi) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int64_t l = lo < 0 ? 0 : lo; l < hi && l < 4; l++)
        t[l] = *(const float *)(uintptr_t)((uintptr_t)p + (uintptr_t)(l * (int64_t)sizeof(float)));
    return vld1q_f32(t);
}
/* Lanes l in [lo, hi) get p[2l], the others 0; only those elements are read. */
static CML_ALWAYS_INLINE vf v_load_even_range(const float *p, int64_t lo, int64_t hi) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int64_t l = lo < 0 ? 0 : lo; l < hi && l < 4; l++)
        t[l] = *(const float *)(uintptr_t)((uintptr_t)p + (uintptr_t)(2 * l * (int64_t)sizeof(float)));
    return vld1q_f32(t);
}
/* p[0], p[2], p[4], p[6] (reads 2*VW floats) */
static CML_ALWAYS_INLINE vf v_load_even(const float *p) { return vld2q_f32(p).val[0]; }
static CML_ALWAYS_INLINE float v_hsum(vf a) { return vaddvq_f32(a); }
static CML_ALWAYS_INLINE float v_hmax(vf a) {
    float32x2_t m = vget_low_f32(v_max(a, vextq_f32(a, a, 2)));
    float x = vget_lane_f32(m, 0), y = vget_lane_f32(m, 1);
    return x > y ? x : y;
}
/* Quantized weights (gemv_q_impl.h): VW 4-bit values from VW / 2 bytes
 * (low nibble first) or VW bytes, sign-extended when sgn, as float; and a
 * round trip through IEEE fp16 (round to nearest even). */
static CML_ALWAYS_INLINE vf v_load_q4(const uint8_t *p, bool sgn) {
    uint16_t u;
    memcpy(&u, p, 2);
    /* each nibble moved to the top of its lane, then shifted back down */
    static const int32_t up[4] = {28, 24, 20, 16};
    int32x4_t v = vshlq_s32(vdupq_n_s32((int32_t)u), vld1q_s32(up));
    if (sgn) return vcvtq_f32_s32(vshrq_n_s32(v, 28));
    return vcvtq_f32_u32(vshrq_n_u32(vreinterpretq_u32_s32(v), 28));
}
static CML_ALWAYS_INLINE vf v_load_q8(const uint8_t *p, bool sgn) {
    uint32_t u;
    memcpy(&u, p, 4);
    uint8x8_t b = vreinterpret_u8_u32(vdup_n_u32(u));
    if (sgn)
        return vcvtq_f32_s32(vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_u8(b)))));
    return vcvtq_f32_u32(vmovl_u16(vget_low_u16(vmovl_u8(b))));
}
static CML_ALWAYS_INLINE vf v_round_f16(vf v) { return vcvt_f32_f16(vcvt_f16_f32(v)); }

#else
#error "simd.h needs AVX2 or AVX-512 flags, or an aarch64 target"
#endif

/* ---- shared math ---------------------------------------------------------- */

static CML_ALWAYS_INLINE vf v_abs(vf a) { return v_andnot(v_set1(-0.0f), a); }
static CML_ALWAYS_INLINE vf v_neg(vf a) { return v_xor(v_set1(-0.0f), a); }

/* exp(x), about 1 ulp (Cephes expf polynomial, Cody-Waite reduction), with
 * overflow to inf, gradual underflow to subnormals and 0, NaN propagated. */
static CML_ALWAYS_INLINE vf v_exp(vf x) {
    x = v_min(v_set1(88.8f), x); /* NaN stays (MINPS returns the 2nd operand) */
    x = v_max(v_set1(-104.0f), x);
    vf n = v_round(v_mul(x, v_set1(1.44269504088896341f)));
    vf r = v_fnmadd(n, v_set1(0.693359375f), x);
    r = v_fnmadd(n, v_set1(-2.12194440e-4f), r);
    vf p = v_set1(1.9875691500e-4f);
    p = v_fmadd(p, r, v_set1(1.3981999507e-3f));
    p = v_fmadd(p, r, v_set1(8.3334519073e-3f));
    p = v_fmadd(p, r, v_set1(4.1665795894e-2f));
    p = v_fmadd(p, r, v_set1(1.6666665459e-1f));
    p = v_fmadd(p, r, v_set1(5.0000001201e-1f));
    p = v_fmadd(p, v_mul(r, r), r);
    p = v_add(p, v_set1(1.0f));
    /* 2^n as two factors so that n in [-150, 128] stays representable. */
    vi ni = v_cvt_i(n);
    vi n1 = vi_srai1(ni);
    vi n2 = vi_sub(ni, n1);
    vf s1 = vi_as_f(vi_slli23(vi_add(n1, vi_set1(127))));
    vf s2 = vi_as_f(vi_slli23(vi_add(n2, vi_set1(127))));
    return v_mul(v_mul(p, s1), s2);
}

/* 1 / (1 + exp(-x)) */
static CML_ALWAYS_INLINE vf v_sigmoid(vf x) {
    return v_div(v_set1(1.0f), v_add(v_set1(1.0f), v_exp(v_neg(x))));
}

/* tanh(x): odd polynomial below 0.625 (Cephes tanhf), 1 - 2 / (exp(2|x|) + 1) above. */
static CML_ALWAYS_INLINE vf v_tanh(vf x) {
    vf ax = v_abs(x);
    vf z = v_mul(x, x);
    vf p = v_set1(-5.70498872745e-3f);
    p = v_fmadd(p, z, v_set1(2.06390887954e-2f));
    p = v_fmadd(p, z, v_set1(-5.37397155531e-2f));
    p = v_fmadd(p, z, v_set1(1.33314422036e-1f));
    p = v_fmadd(p, z, v_set1(-3.33332819422e-1f));
    vf small = v_fmadd(v_mul(p, z), x, x);
    vf e = v_exp(v_add(ax, ax));
    vf large = v_sub(v_set1(1.0f), v_div(v_set1(2.0f), v_add(e, v_set1(1.0f))));
    large = v_or(large, v_and(x, v_set1(-0.0f))); /* sign of x */
    return v_sel(v_lt(ax, v_set1(0.625f)), small, large);
}

/* 0.5 * x * (1 + erf(x / sqrt(2))) == 0.5 * x * erfc(-x / sqrt(2)), with erfc
 * from the Chebyshev fit of Numerical Recipes' erfcc (fractional error below
 * 1.2e-7 for every z >= 0); for x < 0 the erfc form avoids the cancellation
 * of 1 + erf. */
static CML_ALWAYS_INLINE vf v_gelu_erf(vf x) {
    vf z = v_mul(v_abs(x), v_set1(0.70710678118654752f));
    vf t = v_div(v_set1(1.0f), v_fmadd(z, v_set1(0.5f), v_set1(1.0f)));
    vf p = v_set1(0.17087277f);
    p = v_fmadd(p, t, v_set1(-0.82215223f));
    p = v_fmadd(p, t, v_set1(1.48851587f));
    p = v_fmadd(p, t, v_set1(-1.13520398f));
    p = v_fmadd(p, t, v_set1(0.27886807f));
    p = v_fmadd(p, t, v_set1(-0.18628806f));
    p = v_fmadd(p, t, v_set1(0.09678418f));
    p = v_fmadd(p, t, v_set1(0.37409196f));
    p = v_fmadd(p, t, v_set1(1.00002368f));
    p = v_fmadd(p, t, v_set1(-1.26551223f));
    vf q = v_mul(t, v_exp(v_fnmadd(z, z, p))); /* erfc(z) */
    vf s = v_sel(v_ge(x, v_zero()), v_sub(v_set1(2.0f), q), q);
    return v_mul(v_mul(v_set1(0.5f), x), s);
}

#endif
