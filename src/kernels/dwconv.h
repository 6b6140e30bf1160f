/* Depthwise 3x3 conv planes (internal to the kernel layer): one output plane
 * of a conv with one input channel per group, 3x3 taps, dilation 1, equal
 * strides 1 or 2, with the conv epilogue (clamp, fp16 rounding) applied as
 * the plane is stored. Results are bit-identical to the vec kit's dw_plane
 * followed by the epilogue (the same summation order per plane shape). The scalar reference is cml_k_dw_plane_scalar
 * followed by cml_k_conv_epi_scalar; the SIMD planes (dwconv_impl.h) sum the
 * nine taps in the same order, each as one fused multiply-add. */
#ifndef CML_KERNELS_DWCONV_H
#define CML_KERNELS_DWCONV_H

#include "kernels/kinternal.h"

/* What happens to a conv result on its way out: clamp to [lo, hi] when
 * clamp (NaN passes, as CML_UN_CLAMP), then rounding to the nearest fp16
 * value when round16. */
typedef struct cml_conv_epi {
    bool clamp, round16;
    float lo, hi;
} cml_conv_epi;

/* A depthwise conv's operands (planes are indexed b * c_out + co). */
typedef struct cml_dw3_job {
    const cml_conv2d_params *p;
    const float *x, *w, *bias; /* bias may be NULL */
    float *y;
    cml_conv_epi epi;
} cml_dw3_job;

/* Output planes [pl0, pl1): false (nothing written) when the geometry is
 * not handled; the caller then runs the generic plane and the epilogue. */
typedef bool (*cml_dw3_planes_fn)(const cml_dw3_job *j, size_t pl0, size_t pl1);

/* The planes function for the current ISA level; NULL at the scalar level. */
cml_dw3_planes_fn cml_k_dw3_planes(void);

/* Whether p has the shape cml_k_dw3_planes serves: 3x3, dilation 1, equal
 * strides 1 or 2, one input channel per group (it may still refuse planes
 * too wide for its buffers). */
bool cml_k_dw3_fits(const cml_conv2d_params *p);

/* ---- 3x3 convs with few input channels (conv3x3_impl.h) ----------------------
 * groups 1, c_in <= 4 (a first layer on RGB): every output computed from
 * padded (stride 2: polyphase) input bands in the order of the AVX2 /
 * AVX-512 gemm over im2col, so results are bit-identical to it. Work is
 * split into tasks = n * bands of cml_k_c3_band_rows output rows; a task
 * computes every output channel of its rows. */

#define CML_DW3_BUF 6144 /* floats of one band buffer */

bool cml_k_c3_fits(const cml_conv2d_params *p);
/* Output rows per task (0 when the rows are too wide for the buffers). */
int64_t cml_k_c3_band_rows(const cml_conv2d_params *p);
/* Tasks [t0, t1); false (nothing written) when not handled. */
typedef bool (*cml_c3_tasks_fn)(const cml_dw3_job *j, size_t t0, size_t t1);
/* NULL at the scalar level (the gemm's scalar order differs). */
cml_c3_tasks_fn cml_k_c3_tasks(void);
bool cml_k_c3_tasks_avx2(const cml_dw3_job *j, size_t t0, size_t t1);
bool cml_k_c3_tasks_avx512(const cml_dw3_job *j, size_t t0, size_t t1);

/* The epilogue over y[0, n), in place (scalar). */
void cml_k_conv_epi_scalar(const cml_conv_epi *e, float *y, size_t n);

/* The epilogue over y[0, n), in place, with the best ISA. */
void cml_k_conv_epi(const cml_conv_epi *e, float *y, size_t n);

bool cml_k_dw3_planes_avx2(const cml_dw3_job *j, size_t pl0, size_t pl1);
bool cml_k_dw3_planes_avx512(const cml_dw3_job *j, size_t pl0, size_t pl1);
void cml_k_conv_epi_avx2(const cml_conv_epi *e, float *y, size_t n);
void cml_k_conv_epi_avx512(const cml_conv_epi *e, float *y, size_t n);

#endif
