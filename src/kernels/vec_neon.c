/* aarch64 NEON instantiation of vec_impl.h, with the hardware fp16
 * conversions (FCVTL / FCVTN, baseline on aarch64). FCVTN rounds by the
 * FPCR mode, round to nearest even unless a caller changed it, which gives
 * the bits cml_fp32_to_fp16 gives (test_kernels_elementwise checks every
 * half and a sweep of floats). */
#include "kernels/vec_impl.h"

static CML_ALWAYS_INLINE float32x4_t h4_to_f4(const uint16_t *src) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src)));
}

static CML_ALWAYS_INLINE uint16x4_t f4_to_h4(float32x4_t v) {
    return vreinterpret_u16_f16(vcvt_f16_f32(v));
}

static void f16_to_f32_neon(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x8_t h = vld1q_u16(src + i);
        vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(h))));
        vst1q_f32(dst + i + 4, vcvt_high_f32_f16(vreinterpretq_f16_u16(h)));
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, h4_to_f4(src + i));
    if (i < n) {
        uint16_t t[4] = {0, 0, 0, 0};
        memcpy(t, src + i, (n - i) * sizeof(uint16_t));
        v_store_n(dst + i, h4_to_f4(t), n - i);
    }
}

static void f32_to_f16_neon(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float16x8_t h = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(src + i)), vld1q_f32(src + i + 4));
        vst1q_u16(dst + i, vreinterpretq_u16_f16(h));
    }
    for (; i + 4 <= n; i += 4) vst1_u16(dst + i, f4_to_h4(vld1q_f32(src + i)));
    if (i < n) {
        uint16_t t[4];
        vst1_u16(t, f4_to_h4(v_load_n(src + i, n - i)));
        memcpy(dst + i, t, (n - i) * sizeof(uint16_t));
    }
}

static void round_f16_neon(float *x, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vcvt_f32_f16(vcvt_f16_f32(vld1q_f32(x + i))));
    if (i < n) v_store_n(x + i, vcvt_f32_f16(vcvt_f16_f32(v_load_n(x + i, n - i))), n - i);
}

const cml_vec_kit cml_vec_kit_neon = {
    .binary = vec_binary_neon,
    .unary = vec_unary_neon,
    .softmax = vec_softmax_neon,
    .layer_norm_row = vec_layer_norm_row_neon,
    .f16_to_f32 = f16_to_f32_neon,
    .f32_to_f16 = f32_to_f16_neon,
    .round_f16 = round_f16_neon,
    .dw_plane = vec_dw_plane_neon,
    .scale_shift = vec_scale_shift_neon,
};
