/* Internal to the kernel layer: the per-ISA dispatch table and helpers
 * shared by the kernel files. */
#ifndef CML_KERNELS_KINTERNAL_H
#define CML_KERNELS_KINTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cpu.h"
#include "kernels/kernels.h"

#if defined(__GNUC__)
/* Forced inlining specializes the per-op loops. Only when optimizing: at -O0
 * (and under ASan, which gives every inlined local its own slot) the
 * unspecialized copies of the op switch made multi-megabyte stack frames. */
#if defined(__OPTIMIZE__)
#define CML_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define CML_ALWAYS_INLINE inline
#endif
#define CML_ALIGNED(n) __attribute__((aligned(n)))
#define CML_NOINLINE __attribute__((noinline))
#define CML_RESTRICT __restrict__
#else
#define CML_ALWAYS_INLINE inline
#define CML_ALIGNED(n)
#define CML_NOINLINE
#define CML_RESTRICT
#endif

/* ---- gemm ---------------------------------------------------------------
 * The driver (gemm.c) blocks C into MR x NR register tiles over packed
 * KC x NR panels of op(B) (a stack buffer, zero-padded to NR columns) and
 * reads A in place. */

#define CML_GEMM_MAX_MR 16
#define CML_GEMM_MAX_NR 32
#define CML_GEMM_MAX_KC 512

/* What a register tile does on its way to C: C = acc (+ bias[j]) (+ rbias[i])
 * (+ C if load_c), then clamped to [lo, hi] when clamp (NaN passes), then
 * rounded to the nearest fp16 value when round16; then, when res is set,
 * res[i * ldc + j] is added and the sum rounded again when round16 (a
 * residual add fused in). round16 and res are only set for kits with
 * round16 (the same rounding as cml_k_conv_epi at that level). */
typedef struct cml_gemm_epi {
    const float *bias;  /* per column, at the tile's first column, or NULL */
    const float *rbias; /* per row, at the tile's first row, or NULL */
    int load_c;
    int clamp;
    float lo, hi;
    int round16;
    const float *res; /* residual at the tile's origin (leading dimension ldc), or NULL */
} cml_gemm_epi;

/* C[0:mr, 0:nr] = epilogue(A[0:mr, 0:kc] * Bp[0:kc, 0:NR]).
 * mr is fixed per function (ukr[mr]); nr <= NR columns are stored. */
typedef void (*cml_gemm_ukr_fn)(size_t kc, const float *A, size_t lda, const float *Bp,
                                float *C, size_t ldc, size_t nr, const cml_gemm_epi *e);
/* Packs rows [0,kc) x columns [0,nr) of op(B) into Bp[kc][NR], zeroing
 * columns nr..NR-1. B points at op(B)[0][0] of the panel: B[k*ldb + j] when
 * not transposed, B[j*ldb + k] when transposed. B holds floats, or fp16 bits
 * (uint16_t) for the [1] entries of a kit's tables (widened exactly). */
typedef void (*cml_gemm_pack_fn)(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp);
/* Unpacked small-M kernels over columns [0, n) of C, all M (<= 4 for
 * small_nt) rows: C = A * op(B) (+ bias) (+ C if load_c); B as for pack. */
typedef void (*cml_gemm_small_fn)(size_t M, size_t n, size_t K, const float *A, size_t lda,
                                  const void *B, size_t ldb, const float *bias, float *C,
                                  size_t ldc, int load_c);

/* Tables indexed [0] for float B, [1] for fp16 B; both sum in the same
 * order, so fp16 B gives the results of float B holding the widened values. */
typedef struct cml_gemm_kit {
    int mr, nr, kc;
    cml_gemm_ukr_fn ukr[CML_GEMM_MAX_MR + 1];
    cml_gemm_pack_fn pack_n[2], pack_t[2];
    cml_gemm_small_fn small_n[2]; /* B[K,N]; M <= 4 */
    cml_gemm_small_fn small_t[2]; /* B[N,K]; any M, dot products along K */
    size_t small_t_max_m;         /* use small_t when M <= this */
    size_t small_col_align;       /* column split granularity for small_* */
    int round16;                  /* ukr applies cml_gemm_epi round16 and res (else the driver) */
} cml_gemm_kit;

/* Packs rows [k0, k0+kc) x columns [j0, j0+nr) of a virtual op(B) into
 * Bp[kc][NR], zeroing columns nr..NR-1 (e.g. im2col on the fly). */
typedef void (*cml_gemm_bpack_fn)(void *ctx, size_t k0, size_t kc, size_t j0, size_t nr, float *Bp,
                                  size_t NR);
/* cml_k_gemm_f32 with op(B) produced panel by panel by bpack, a per-row
 * bias (rbias[M], may be NULL), an optional clamp of the result and, when
 * round16, each result rounded to the nearest fp16 value after the clamp
 * (as cml_k_conv_epi does at the same ISA level); then, when res is not
 * NULL, C += res (res [M, N] with leading dimension ldc, not overlapping
 * C), rounded again when round16: a residual add fused in. */
void cml_k_gemm_f32_bpack(cml_threadpool *pool, size_t M, size_t N, size_t K, const float *A,
                          size_t lda, cml_gemm_bpack_fn bpack, void *bpack_ctx, const float *rbias,
                          float *C, size_t ldc, bool clamp, float lo, float hi,
                          bool round16, const float *res);
/* Plain op(B) with a per-row bias, an optional clamp and fp16 rounding (no
 * column bias). */
void cml_k_gemm_f32_rbias(cml_threadpool *pool, size_t M, size_t N, size_t K, const float *A,
                          size_t lda, const float *B, size_t ldb, const float *rbias, float *C,
                          size_t ldc, bool clamp, float lo, float hi, bool round16,
                          const float *res);

/* The two above with A (a conv weight, say) held as fp16 bits: each register
 * tile's rows are widened exactly into a stack buffer before the
 * microkernel runs, so the result is bit-identical to the float-A call on
 * the widened values whenever that call takes the packed path, i.e. always
 * for bpack, and for rbias unless rbias == NULL, !clamp and M <= 4 (the
 * float call then runs its small-M kernel; this one never does). */
void cml_k_gemm_f16a_bpack(cml_threadpool *pool, size_t M, size_t N, size_t K, const uint16_t *A,
                           size_t lda, cml_gemm_bpack_fn bpack, void *bpack_ctx, const float *rbias,
                           float *C, size_t ldc, bool clamp, float lo, float hi,
                           bool round16, const float *res);
void cml_k_gemm_f16a_rbias(cml_threadpool *pool, size_t M, size_t N, size_t K, const uint16_t *A,
                           size_t lda, const float *B, size_t ldb, const float *rbias, float *C,
                           size_t ldc, bool clamp, float lo, float hi, bool round16,
                          const float *res);

extern const cml_gemm_kit cml_gemm_kit_scalar;
extern const cml_gemm_kit cml_gemm_kit_avx2;
extern const cml_gemm_kit cml_gemm_kit_avx512;
extern const cml_gemm_kit cml_gemm_kit_neon; /* aarch64 builds only */

/* ---- vectorized elementwise, per ISA -------------------------------------
 * Each returns false when it does not handle the op (the caller then runs
 * the scalar reference). */

typedef struct cml_vec_kit {
    /* out[i] = a[i*sa] op b[i*sb] for i < n; sa, sb in {0, 1}. */
    bool (*binary)(cml_binary_op op, size_t n, const float *a, size_t sa, const float *b,
                   size_t sb, float *out);
    bool (*unary)(cml_unary_op op, const float *x, float *y, size_t n, float alpha,
                  float beta);
    /* Softmax over the axis of one outer slice [axis, inner]. */
    void (*softmax)(const float *x, float *y, size_t axis, size_t inner, bool log);
    /* One layer-norm row. */
    void (*layer_norm_row)(const float *x, float *y, size_t n, const float *gamma,
                           const float *beta, float eps);
    void (*f16_to_f32)(const uint16_t *src, float *dst, size_t n);
    void (*f32_to_f16)(const float *src, uint16_t *dst, size_t n);
    void (*round_f16)(float *x, size_t n);
    /* One output plane of a conv with one input channel per group (depthwise):
     * x is the input plane, w the k_h x k_w taps. */
    void (*dw_plane)(const cml_conv2d_params *p, const float *x, const float *w, float bias,
                     float *y);
    /* y[i] = (x[i] - m) * s + t */
    void (*scale_shift)(const float *x, float *y, size_t n, float m, float s, float t);
} cml_vec_kit;

extern const cml_vec_kit cml_vec_kit_scalar;
extern const cml_vec_kit cml_vec_kit_avx2;
extern const cml_vec_kit cml_vec_kit_avx512;
extern const cml_vec_kit cml_vec_kit_neon; /* aarch64 builds only */

const cml_gemm_kit *cml_k_gemm_kit(void);
const cml_vec_kit *cml_k_vec_kit(void);

/* Scalar references used by the vector paths for tails and special ops. */
float cml_k_unary_scalar(cml_unary_op op, float x, float alpha, float beta);
float cml_k_binary_scalar(cml_binary_op op, float a, float b);
void cml_k_softmax_scalar(const float *x, float *y, size_t axis, size_t inner, bool log);
void cml_k_dw_plane_scalar(const cml_conv2d_params *p, const float *x, const float *w, float bias,
                           float *y);
void cml_k_layer_norm_row_scalar(const float *x, float *y, size_t n, const float *gamma,
                                 const float *beta, float eps);

/* ---- quantized gemv (gemv_q*.c) -----------------------------------------
 * Per-ISA row kernels: y[n] for rows [n0, n1) of cml_k_qgemv_f32, each
 * accumulated in the order of that ISA's gemm kit at M = 1 (scalar: K in
 * kit.kc blocks, each summed sequentially then added to the running result;
 * AVX2 / AVX-512 / NEON: 8 / 16 / 4 lane accumulators over K, masked tail,
 * the small_t horizontal sum, then the bias: gemv_q_impl.h). */
typedef void (*cml_qgemv_rows_fn)(const cml_qgemv_params *p, const float *x, size_t n0,
                                  size_t n1, float *y);
void cml_qgemv_rows_scalar(const cml_qgemv_params *p, const float *x, size_t n0, size_t n1,
                           float *y);
void cml_qgemv_rows_avx2(const cml_qgemv_params *p, const float *x, size_t n0, size_t n1,
                         float *y);
void cml_qgemv_rows_avx512(const cml_qgemv_params *p, const float *x, size_t n0, size_t n1,
                           float *y);
void cml_qgemv_rows_neon(const cml_qgemv_params *p, const float *x, size_t n0, size_t n1,
                         float *y);
cml_qgemv_rows_fn cml_k_qgemv_rows(void);
/* Decoded weights w(n, k0 .. k0 + count) into dst (the scalar decoder the
 * generic paths share). */
void cml_qgemv_decode_row(const cml_qgemv_params *p, size_t n, size_t k0, size_t count,
                          float *dst);

/* Splits [0, n) of an index space over the pool when the work is worth it. */
static inline size_t cml_k_min(size_t a, size_t b) { return a < b ? a : b; }
static inline size_t cml_k_max(size_t a, size_t b) { return a > b ? a : b; }

#endif
