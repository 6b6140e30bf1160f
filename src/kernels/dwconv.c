/* Depthwise 3x3 planes: ISA selection and the scalar epilogue (the planes
 * themselves are in dwconv_impl.h; contract in dwconv.h). */
#include "kernels/dwconv.h"

#include "core/fp16.h"

#if defined(__x86_64__) || defined(__i386__)
#define CML_HAVE_X86_KITS 1
#else
#define CML_HAVE_X86_KITS 0
#endif

bool cml_k_dw3_fits(const cml_conv2d_params *p) {
    int64_t dh = p->dilation_h > 0 ? p->dilation_h : 1, dw = p->dilation_w > 0 ? p->dilation_w : 1;
    return p->groups > 0 && p->c_in == p->groups && p->c_out % p->groups == 0 && p->k_h == 3 &&
           p->k_w == 3 && dh == 1 && dw == 1 && p->stride_h == p->stride_w &&
           (p->stride_w == 1 || p->stride_w == 2) && p->pad_top >= 0 && p->pad_left >= 0 &&
           p->h_in > 0 && p->w_in > 0 && p->h_out > 0 && p->w_out > 0;
}

cml_dw3_planes_fn cml_k_dw3_planes(void) {
#if CML_HAVE_X86_KITS
    switch (cml_cpu_isa_level()) {
    case CML_ISA_AVX512: return cml_k_dw3_planes_avx512;
    case CML_ISA_AVX2: return cml_k_dw3_planes_avx2;
    case CML_ISA_SCALAR: break;
    case CML_ISA_NEON: break;
    }
#endif
    return NULL;
}

bool cml_k_c3_fits(const cml_conv2d_params *p) {
    int64_t dh = p->dilation_h > 0 ? p->dilation_h : 1, dw = p->dilation_w > 0 ? p->dilation_w : 1;
    return p->groups == 1 && p->c_in >= 1 && p->c_in <= 4 && p->k_h == 3 && p->k_w == 3 &&
           dh == 1 && dw == 1 && p->stride_h == p->stride_w && (p->stride_w == 1 || p->stride_w == 2) &&
           p->pad_top >= 0 && p->pad_left >= 0 && p->h_in > 0 && p->w_in > 0 && p->h_out > 0 &&
           p->w_out > 0;
}

/* Band rows that fit both ISAs' buffers (sized with the widest vector, 16):
 * c_in padded / polyphase bands plus read slack, and a 6-channel grid. */
int64_t cml_k_c3_band_rows(const cml_conv2d_params *p) {
    const int64_t VWMAX = 16, s = p->stride_w;
    const int64_t Wq = s == 1 ? p->w_out + 2 : p->w_out + 1;
    int64_t best = 0;
    for (int64_t n = 1; n <= p->h_out && n <= 64; n++) {
        int64_t band = s == 1 ? (n + 2) * Wq + VWMAX : 4 * ((n + 1) * Wq + VWMAX) + VWMAX;
        int64_t nq = (n * Wq + 2 * VWMAX - 1) / (2 * VWMAX) * (2 * VWMAX);
        if (p->c_in * (band + 2 * VWMAX) > CML_DW3_BUF || 6 * nq > CML_DW3_BUF) break;
        best = n;
    }
    return best;
}

cml_c3_tasks_fn cml_k_c3_tasks(void) {
#if CML_HAVE_X86_KITS
    switch (cml_cpu_isa_level()) {
    case CML_ISA_AVX512: return cml_k_c3_tasks_avx512;
    case CML_ISA_AVX2: return cml_k_c3_tasks_avx2;
    case CML_ISA_SCALAR: break;
    case CML_ISA_NEON: break;
    }
#endif
    return NULL;
}

void cml_k_conv_epi_scalar(const cml_conv_epi *e, float *y, size_t n) {
    if (e->clamp)
        for (size_t i = 0; i < n; i++) {
            float v = y[i];
            float r = v > e->hi ? e->hi : v;
            y[i] = v < e->lo ? e->lo : r; /* NaN passes */
        }
    if (e->round16)
        for (size_t i = 0; i < n; i++) y[i] = cml_round_fp16(y[i]);
}

void cml_k_conv_epi(const cml_conv_epi *e, float *y, size_t n) {
#if CML_HAVE_X86_KITS
    switch (cml_cpu_isa_level()) {
    case CML_ISA_AVX512: cml_k_conv_epi_avx512(e, y, n); return;
    case CML_ISA_AVX2: cml_k_conv_epi_avx2(e, y, n); return;
    case CML_ISA_SCALAR: break;
    case CML_ISA_NEON: break;
    }
#endif
    cml_k_conv_epi_scalar(e, y, n);
}
