/* AVX2+FMA (and F16C) instantiation of vec_impl.h. */
#include "kernels/vec_impl.h"

static void f16_to_f32_avx2(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(src + i))));
    for (; i < n; i++) dst[i] = cml_fp16_to_fp32(src[i]);
}

static void f32_to_f16_avx2(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(void *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++) dst[i] = cml_fp32_to_fp16(src[i]);
}

static void round_f16_avx2(float *x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + i),
                                                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
    for (; i < n; i++) x[i] = cml_round_fp16(x[i]);
}

const cml_vec_kit cml_vec_kit_avx2 = {
    .binary = vec_binary_avx2,
    .unary = vec_unary_avx2,
    .softmax = vec_softmax_avx2,
    .layer_norm_row = vec_layer_norm_row_avx2,
    .f16_to_f32 = f16_to_f32_avx2,
    .f32_to_f16 = f32_to_f16_avx2,
    .round_f16 = round_f16_avx2,
    .dw_plane = vec_dw_plane_avx2,
    .scale_shift = vec_scale_shift_avx2,
};
