/*
 * The kernel layer: pure math on pointers and sizes, shared by both front
 * ends (aten ops for non-delegated code in src/ops/aten, MIL ops for Core ML
 * in src/mil). Kernels never allocate, never fail on data, and take any
 * scratch memory from the caller (sized by the matching *_scratch_size).
 *
 * Layouts: row-major; images are NCHW. Strides are in elements. All float
 * kernels compute in fp32; fp16 programs convert at op boundaries with
 * cml_k_convert and round with cml_k_round_fp16.
 *
 * Each hot kernel has a scalar reference and per-ISA variants (AVX2+FMA,
 * AVX-512) chosen once at run time (cml_cpu_features); CML_FORCE_SCALAR=1 in
 * the environment forces the scalar path (used by the kernel tests).
 */
#ifndef CML_KERNELS_KERNELS_H
#define CML_KERNELS_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cml.h"
#include "core/threadpool.h"

/* ---- dtype conversion ------------------------------------------------- */

/* Converts n elements between any two dtypes of cml_dtype (float <-> int
 * truncates toward zero like a C cast; to BOOL is != 0; fp16/bf16 round to
 * nearest even). Complex dtypes only copy to themselves. Returns false for
 * an unsupported pair. */
bool cml_k_convert(cml_dtype src_type, const void *src, cml_dtype dst_type, void *dst, size_t n);
/* Rounds every element to the nearest fp16 value, in place. */
void cml_k_round_fp16(float *x, size_t n);

/* ---- elementwise -------------------------------------------------------- */

typedef enum cml_binary_op {
    CML_BIN_ADD, CML_BIN_SUB, CML_BIN_MUL, CML_BIN_DIV, CML_BIN_FLOOR_DIV, CML_BIN_MOD,
    CML_BIN_POW, CML_BIN_MAX, CML_BIN_MIN,
    /* comparisons write 1.0f / 0.0f in the float kernel */
    CML_BIN_EQ, CML_BIN_NE, CML_BIN_GT, CML_BIN_GE, CML_BIN_LT, CML_BIN_LE,
} cml_binary_op;

/* out[i] = a[i] op b[i] over an N-d index space of out_sizes (rank <= 16),
 * where a/b are addressed through their strides (0 on broadcast dims).
 * Fast paths for same-shape contiguous and scalar operands. */
void cml_k_binary_f32(cml_binary_op op, int32_t rank, const int64_t *out_sizes,
                      const float *a, const int64_t *a_strides,
                      const float *b, const int64_t *b_strides, float *out);
/* Same for int32 and int64 (DIV is floor division is NOT applied: DIV truncates). */
void cml_k_binary_i64(cml_binary_op op, int32_t rank, const int64_t *out_sizes,
                      const int64_t *a, const int64_t *a_strides,
                      const int64_t *b, const int64_t *b_strides, int64_t *out);

/* Extension: the int32 variant (same semantics as cml_k_binary_i64). Both
 * wrap on overflow; integer DIV / FLOOR_DIV / MOD by zero give 0 (no trap),
 * FLOOR_DIV / MOD follow Python (the remainder takes the divisor's sign). */
void cml_k_binary_i32(cml_binary_op op, int32_t rank, const int64_t *out_sizes,
                      const int32_t *a, const int64_t *a_strides,
                      const int32_t *b, const int64_t *b_strides, int32_t *out);

typedef enum cml_unary_op {
    CML_UN_RELU, CML_UN_RELU6, CML_UN_SIGMOID, CML_UN_TANH, CML_UN_GELU_EXACT,
    CML_UN_GELU_TANH, CML_UN_GELU_SIGMOID, CML_UN_SILU, CML_UN_HARDSIGMOID, CML_UN_HARDSWISH,
    CML_UN_EXP, CML_UN_LOG, CML_UN_SQRT, CML_UN_RSQRT, CML_UN_ABS, CML_UN_NEG, CML_UN_SIN,
    CML_UN_COS, CML_UN_TAN, CML_UN_ERF, CML_UN_FLOOR, CML_UN_CEIL, CML_UN_ROUND_EVEN,
    CML_UN_SIGN, CML_UN_SQUARE, CML_UN_RECIPROCAL, CML_UN_SOFTPLUS, CML_UN_SOFTSIGN,
    CML_UN_ELU,          /* alpha */
    CML_UN_LEAKY_RELU,   /* alpha */
    CML_UN_CLAMP,        /* alpha = min, beta = max (hardtanh, clip) */
    CML_UN_LINEAR,       /* alpha * x + beta */
    CML_UN_ASIN, CML_UN_ACOS, CML_UN_ATAN, CML_UN_SINH, CML_UN_COSH, CML_UN_ATANH,
    CML_UN_EXP2, CML_UN_THRESHOLD_RELU, /* x >= alpha ? x : 0 */
} cml_unary_op;

/* y[i] = f(x[i]); in place allowed (x == y). */
void cml_k_unary_f32(cml_unary_op op, const float *x, float *y, size_t n, float alpha, float beta);

/* ---- strided copy --------------------------------------------------------- */

/* Copies an N-d block of elem_size-byte elements: dst[idx] = src[idx] where
 * both are addressed by their own strides (elements) over sizes. Used for
 * permute, slice, expand, cat, dim-order changes. */
void cml_k_copy_strided(size_t elem_size, int32_t rank, const int64_t *sizes,
                        const void *src, const int64_t *src_strides,
                        void *dst, const int64_t *dst_strides);

/* ---- matrix multiply ----------------------------------------------------- */

/* C[M,N] = A[M,K] * op(B) (+ bias[N] if non-NULL) (+ C if accumulate).
 * op(B) = B[K,N] (ldb >= N) or, when trans_b, B[N,K] (ldb >= K). */
void cml_k_gemm_f32(cml_threadpool *pool, size_t M, size_t N, size_t K,
                    const float *A, size_t lda, const float *B, size_t ldb, bool trans_b,
                    const float *bias, float *C, size_t ldc, bool accumulate);
/* Whether the kernels in use (this ISA level) take fp16 B in every path:
 * callers keep fp16 weights as fp16 only then, and widen them at load
 * otherwise, so results do not depend on the choice. */
bool cml_k_gemm_takes_f16(void);

/* Extension: cml_k_gemm_f32 with B held as IEEE fp16 bits (an fp16 weight
 * kept as stored). Each element is widened exactly as it is packed or read
 * and the sums run in the same order, so the result is bit-identical to
 * cml_k_gemm_f32 on B widened to float. */
void cml_k_gemm_f32_f16b(cml_threadpool *pool, size_t M, size_t N, size_t K, const float *A,
                         size_t lda, const uint16_t *B, size_t ldb, bool trans_b,
                         const float *bias, float *C, size_t ldc, bool accumulate);

/* Prepacked B (a constant weight packed once at load): op(B) [K, N] stored
 * as ceil(N / nr) panels of K x nr elements (panel p holds columns
 * p*nr .. p*nr+nr-1, row-major over k, zero-padded past N), as float or as
 * fp16 bits. nr is the packing kit's register-tile width
 * (cml_k_gemm_packed_nr()); a pack made for another nr still computes
 * correctly, only slower. The sums run in the order of cml_k_gemm_f32's
 * packed path, so the result equals cml_k_gemm_f32 on the same (widened)
 * values whenever that call would not take its small-M path, i.e. M >
 * CML_GEMM_SMALL_M_MAX. */
#define CML_GEMM_SMALL_M_MAX 8
size_t cml_k_gemm_packed_nr(void);
/* Bytes of a pack of N x K (op(B) columns x depth) with element size esize (4 or 2). */
size_t cml_k_gemm_packed_size(size_t N, size_t K, size_t nr, size_t esize);
/* Packs op(B) (B[N, K] with ldb when trans_b, else B[K, N]) from floats
 * (b_f16 false) or fp16 bits into dst, keeping the element type. */
void cml_k_gemm_pack_b(size_t N, size_t K, const void *B, size_t ldb, bool trans_b, bool b_f16,
                       size_t nr, void *dst);
/* The same pack made in place over B[N, K] (trans_b, ldb == K), for N a
 * multiple of nr (then the pack has B's size): each panel is copied to tmp
 * (nr * K elements) and packed back where it was. */
void cml_k_gemm_pack_b_inplace(size_t N, size_t K, void *B, bool b_f16, size_t nr, void *tmp);
/* C[M,N] = A[M,K] * packed op(B) (+ bias[N]) (+ C if accumulate). */
void cml_k_gemm_f32_packed(cml_threadpool *pool, size_t M, size_t N, size_t K, const float *A,
                           size_t lda, const void *packed, size_t nr, bool packed_f16,
                           const float *bias, float *C, size_t ldc, bool accumulate);

/* ---- quantized matrix-vector product (gemv_q.c) -------------------------
 * y[n] = sum_k x[k] * w(n, k) (+ bias[n]) for n < N, with W [N, K] held as
 * blockwise-quantized integers and decoded on the fly:
 *   w(n, k) = scale[(n / block_n) * (K / block_k) + k / block_k] * q(n, k),
 * rounded to fp16 when round_fp16 -- exactly the values the MIL op
 * constexpr_blockwise_shift_scale (no offset) decodes. q is row-major
 * (element i = n * K + k): bits 4 packs two per byte, element i in byte
 * i / 2, the low nibble first; bits 8 is one byte each. is_signed reads
 * two's complement (int4 / int8), else unsigned.
 * Each output is accumulated in the order cml_k_gemm_f32 (M = 1, trans_b)
 * uses at the same ISA level, so the result is bit-identical to decoding W
 * to fp32 and calling cml_k_gemm_f32. Rows are split over the pool. */
typedef struct cml_qgemv_params {
    size_t N, K;
    const uint8_t *q;
    unsigned bits;              /* 4 or 8 */
    bool is_signed;
    const float *scale;         /* [N / block_n, K / block_k] */
    size_t block_n, block_k;    /* > 0, dividing N and K */
    bool round_fp16;
    const float *bias;          /* [N] or NULL */
} cml_qgemv_params;

/* true when p describes a supported layout (bits, blocks dividing N and K). */
bool cml_k_qgemv_supported(const cml_qgemv_params *p);
void cml_k_qgemv_f32(cml_threadpool *pool, const cml_qgemv_params *p, const float *x, float *y);

/* ---- convolution (NCHW, 1-D convs use H = 1) -------------------------- */

typedef struct cml_conv2d_params {
    int64_t n, c_in, h_in, w_in;
    int64_t c_out, h_out, w_out;
    int64_t k_h, k_w;
    int64_t stride_h, stride_w;
    int64_t pad_top, pad_left;     /* bottom/right follow from the output size */
    int64_t dilation_h, dilation_w;
    int64_t groups;
} cml_conv2d_params;

/* y = conv(x, w[c_out, c_in/groups, k_h, k_w]) + bias (bias may be NULL).
 * Zero padding. Depthwise (groups == c_in == c_out) has its own fast path. */
size_t cml_k_conv2d_scratch_size(const cml_conv2d_params *p);
void cml_k_conv2d_f32(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                      const float *w, const float *bias, float *y, void *scratch);

/* Extension: conv2d followed by y = min(max(y, act_min), act_max) in the
 * same pass (relu: 0, INFINITY; relu6 / hardtanh: 0, 6); NaN passes as in
 * CML_UN_CLAMP. cml_k_conv2d_f32 is this with -INFINITY, INFINITY. */
void cml_k_conv2d_act_f32(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                          const float *w, const float *bias, float *y, void *scratch,
                          float act_min, float act_max);

/* Extension: cml_k_conv2d_act_f32, then, when round16, every output rounded
 * to the nearest fp16 value (an fp16 program's op boundary). Depthwise
 * planes apply clamp and rounding as they store; the gemm paths round in a
 * pass split over the pool. */
void cml_k_conv2d_epi_f32(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                          const float *w, const float *bias, float *y, void *scratch,
                          float act_min, float act_max, bool round16);

/* Extension: cml_k_conv2d_epi_f32 with the weight held as IEEE fp16 bits (a
 * constant kept as stored), bit-identical to that call on the widened
 * weight. Scratch: cml_k_conv2d_w16_scratch_size (>= the float call's). */
size_t cml_k_conv2d_w16_scratch_size(const cml_conv2d_params *p);
void cml_k_conv2d_w16_epi_f32(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                              const uint16_t *w, const float *bias, float *y, void *scratch,
                              float act_min, float act_max, bool round16);

/* Extension: the conv of cml_k_conv2d_epi_f32 (w floats) or
 * cml_k_conv2d_w16_epi_f32 (w16: fp16 bits; that call's scratch size),
 * then a residual add fused in: y = r(y + residual), r the fp16 rounding
 * when round16 (so y is r(r(conv) + residual), an fp16 program's add after
 * its conv). residual has y's shape and must not overlap y. */
void cml_k_conv2d_res_f32(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                          const void *w, bool w16, const float *bias, const float *residual,
                          float *y, void *scratch, float act_min, float act_max, bool round16);

/* Transposed conv, weight [c_in, c_out/groups, k_h, k_w]; h_out/w_out given
 * (pads are the cropped amounts at the top/left). */
size_t cml_k_conv_transpose2d_scratch_size(const cml_conv2d_params *p);
void cml_k_conv_transpose2d_f32(cml_threadpool *pool, const cml_conv2d_params *p,
                                const float *x, const float *w, const float *bias, float *y,
                                void *scratch);

/* ---- 3-D convolution and pooling (NCDHW) --------------------------------------
 * A direct (naive but cache-aware) path for rank-5 tensors, parallel over
 * output planes; the 2-D paths above are the fast ones. Spatial dims are
 * indexed 0..2 = D, H, W. */

typedef struct cml_conv3d_params {
    int64_t n, c_in, c_out, groups;
    int64_t in[3], out[3], k[3], stride[3], dilation[3];
    int64_t pad_before[3];   /* conv: zero pad before; transpose: cropped amount */
} cml_conv3d_params;

/* y = clamp(conv(x, w[c_out, c_in/groups, kD, kH, kW]) + bias, act_min,
 * act_max) with zero padding (bias may be NULL). No scratch. */
void cml_k_conv3d_f32(cml_threadpool *pool, const cml_conv3d_params *p, const float *x,
                      const float *w, const float *bias, float *y, float act_min, float act_max);
/* Transposed conv, weight [c_in, c_out/groups, kD, kH, kW]; out[] given and
 * pad_before[] cropped from the full output. No scratch. */
void cml_k_conv_transpose3d_f32(cml_threadpool *pool, const cml_conv3d_params *p, const float *x,
                                const float *w, const float *bias, float *y);

typedef enum cml_pool3d_kind { CML_POOL3D_MAX, CML_POOL3D_AVG, CML_POOL3D_L2 } cml_pool3d_kind;

typedef struct cml_pool3d_params {
    int64_t n, c, in[3], out[3], k[3], stride[3], pad_before[3], pad_after[3];
    bool count_include_pad; /* avg: divide by the window clipped to the padded input */
} cml_pool3d_params;

/* Max ignores padded cells (an all-padding window gives -inf); avg divides
 * by the window clipped to [-pad_before, in + pad_after) when
 * count_include_pad, else to the real input (0 when empty); l2 is
 * sqrt(sum of squares) over the real cells. */
void cml_k_pool3d_f32(cml_threadpool *pool, const cml_pool3d_params *p, cml_pool3d_kind kind,
                      const float *x, float *y);

/* ---- pooling (NCHW) -------------------------------------------------------- */

typedef struct cml_pool2d_params {
    int64_t n, c, h_in, w_in, h_out, w_out;
    int64_t k_h, k_w, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
    bool count_include_pad;   /* avg only */
    int64_t divisor_override; /* avg only; 0 = none */
} cml_pool2d_params;

/* Max pool ignores padded positions; avg pool divides by the window size
 * clipped to the padded input (count_include_pad) or to the real input. */
void cml_k_maxpool2d_f32(cml_threadpool *pool, const cml_pool2d_params *p, const float *x, float *y);
void cml_k_avgpool2d_f32(cml_threadpool *pool, const cml_pool2d_params *p, const float *x, float *y);
/* Extension: avg pool with an explicit end of the padded extent for
 * count_include_pad (windows are clipped to [-pad_top, h_in + pad_bottom) and
 * [-pad_left, w_in + pad_right)); cml_k_avgpool2d_f32 uses pad_bottom =
 * pad_top and pad_right = pad_left, as torch does (also in ceil mode). */
void cml_k_avgpool2d_ex_f32(cml_threadpool *pool, const cml_pool2d_params *p, int64_t pad_bottom,
                            int64_t pad_right, const float *x, float *y);
/* Adaptive average pooling to (h_out, w_out), as torch does. */
void cml_k_adaptive_avgpool2d_f32(const cml_pool2d_params *p, const float *x, float *y);

/* ---- normalization and softmax ---------------------------------------------
 * Tensors are viewed as [outer, axis, inner]. */

void cml_k_softmax_f32(const float *x, float *y, size_t outer, size_t axis, size_t inner, bool log);
/* Normalizes over the last `inner` elements of each of `outer` rows;
 * gamma/beta have `inner` elements or are NULL. */
void cml_k_layer_norm_f32(const float *x, float *y, size_t outer, size_t inner,
                          const float *gamma, const float *beta, float eps);
/* Inference batch norm over [n, c, spatial]: y = (x - mean) / sqrt(var + eps) * gamma + beta;
 * any of gamma/beta may be NULL. */
void cml_k_batch_norm_f32(const float *x, float *y, size_t n, size_t c, size_t spatial,
                          const float *mean, const float *var, const float *gamma,
                          const float *beta, float eps);
/* Group norm over [n, c, spatial] with `groups` groups (instance norm: groups = c). */
void cml_k_group_norm_f32(const float *x, float *y, size_t n, size_t c, size_t spatial,
                          size_t groups, const float *gamma, const float *beta, float eps);

/* ---- reductions: [outer, axis, inner] -> [outer, inner] ---------------- */

typedef enum cml_reduce_op {
    CML_RED_SUM, CML_RED_MEAN, CML_RED_MAX, CML_RED_MIN, CML_RED_PROD,
    CML_RED_SUM_SQUARE, CML_RED_L1, CML_RED_L2, CML_RED_LOG_SUM, CML_RED_LOG_SUM_EXP,
} cml_reduce_op;
void cml_k_reduce_f32(cml_reduce_op op, const float *x, float *y, size_t outer, size_t axis,
                      size_t inner);
/* Index of the max/min along the axis (first occurrence), as int64. */
void cml_k_argreduce_f32(bool is_max, const float *x, int64_t *y, size_t outer, size_t axis,
                         size_t inner);

/* ---- gather ------------------------------------------------------------------- */

/* out[i, :] = table[idx[i], :] for rows of row_bytes; indices are verified by
 * the caller (this kernel does not check them). */
void cml_k_gather_rows(const void *table, size_t row_bytes, const int64_t *idx, size_t n, void *out);

#endif
