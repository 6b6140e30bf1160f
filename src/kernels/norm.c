/* Softmax, layer/batch/group norm, and the scalar vector kit. */
#include <math.h>

#include "core/fp16.h"
#include "kernels/kinternal.h"

/* ---- scalar references ----------------------------------------------------------- */

void cml_k_softmax_scalar(const float *x, float *y, size_t axis, size_t inner, bool log) {
    for (size_t j = 0; j < inner; j++) {
        float m = -INFINITY;
        for (size_t a = 0; a < axis; a++) {
            float v = x[a * inner + j];
            m = v > m ? v : m;
        }
        double s = 0.0;
        for (size_t a = 0; a < axis; a++) s += (double)expf(x[a * inner + j] - m);
        if (log) {
            float lse = m + (float)logf((float)s);
            for (size_t a = 0; a < axis; a++) y[a * inner + j] = x[a * inner + j] - lse;
        } else {
            float r = (float)(1.0 / s);
            for (size_t a = 0; a < axis; a++) y[a * inner + j] = expf(x[a * inner + j] - m) * r;
        }
    }
}

static void moments(const float *x, size_t n, float *mean_out, float *var_out) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += x[i];
    double mean = s / (double)n;
    double v = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i] - mean;
        v += d * d;
    }
    *mean_out = (float)mean;
    *var_out = (float)(v / (double)n);
}

void cml_k_layer_norm_row_scalar(const float *x, float *y, size_t n, const float *gamma,
                                 const float *beta, float eps) {
    float mean, var;
    moments(x, n, &mean, &var);
    float rstd = 1.0f / sqrtf(var + eps);
    for (size_t i = 0; i < n; i++) {
        float v = (x[i] - mean) * rstd;
        if (gamma) v *= gamma[i];
        if (beta) v += beta[i];
        y[i] = v;
    }
}

static void f16_to_f32_scalar(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = cml_fp16_to_fp32(src[i]);
}
static void f32_to_f16_scalar(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = cml_fp32_to_fp16(src[i]);
}
static void round_f16_scalar(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = cml_round_fp16(x[i]);
}
static void scale_shift_scalar(const float *x, float *y, size_t n, float m, float s, float t) {
    for (size_t i = 0; i < n; i++) y[i] = (x[i] - m) * s + t;
}

const cml_vec_kit cml_vec_kit_scalar = {
    .binary = NULL,
    .unary = NULL,
    .softmax = cml_k_softmax_scalar,
    .layer_norm_row = cml_k_layer_norm_row_scalar,
    .f16_to_f32 = f16_to_f32_scalar,
    .f32_to_f16 = f32_to_f16_scalar,
    .round_f16 = round_f16_scalar,
    .dw_plane = cml_k_dw_plane_scalar,
    .scale_shift = scale_shift_scalar,
};

/* ---- public ------------------------------------------------------------------------ */

void cml_k_softmax_f32(const float *x, float *y, size_t outer, size_t axis, size_t inner,
                       bool log) {
    if (axis == 0 || inner == 0) return;
    const cml_vec_kit *kit = cml_k_vec_kit();
    size_t slice = axis * inner;
    for (size_t o = 0; o < outer; o++) kit->softmax(x + o * slice, y + o * slice, axis, inner, log);
}

void cml_k_layer_norm_f32(const float *x, float *y, size_t outer, size_t inner,
                          const float *gamma, const float *beta, float eps) {
    if (inner == 0) return;
    const cml_vec_kit *kit = cml_k_vec_kit();
    for (size_t o = 0; o < outer; o++)
        kit->layer_norm_row(x + o * inner, y + o * inner, inner, gamma, beta, eps);
}

void cml_k_batch_norm_f32(const float *x, float *y, size_t n, size_t c, size_t spatial,
                          const float *mean, const float *var, const float *gamma,
                          const float *beta, float eps) {
    const cml_vec_kit *kit = cml_k_vec_kit();
    for (size_t ch = 0; ch < c; ch++) {
        float invstd = 1.0f / sqrtf(var[ch] + eps);
        float s = gamma ? invstd * gamma[ch] : invstd;
        float t = beta ? beta[ch] : 0.0f;
        for (size_t b = 0; b < n; b++) {
            size_t off = (b * c + ch) * spatial;
            kit->scale_shift(x + off, y + off, spatial, mean[ch], s, t);
        }
    }
}

void cml_k_group_norm_f32(const float *x, float *y, size_t n, size_t c, size_t spatial,
                          size_t groups, const float *gamma, const float *beta, float eps) {
    if (groups == 0 || c % groups != 0) return;
    const cml_vec_kit *kit = cml_k_vec_kit();
    size_t cg = c / groups;
    for (size_t b = 0; b < n; b++) {
        for (size_t g = 0; g < groups; g++) {
            size_t off = (b * c + g * cg) * spatial;
            if (cg * spatial == 0) continue;
            float mean, var;
            moments(x + off, cg * spatial, &mean, &var);
            float rstd = 1.0f / sqrtf(var + eps);
            for (size_t k = 0; k < cg; k++) {
                size_t ch = g * cg + k;
                float s = gamma ? rstd * gamma[ch] : rstd;
                float t = beta ? beta[ch] : 0.0f;
                kit->scale_shift(x + off + k * spatial, y + off + k * spatial, spatial, mean, s, t);
            }
        }
    }
}
