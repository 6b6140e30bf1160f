/*
 * Shared helpers for the portable aten operators (src/ops/aten): error
 * messages that name the op, optional-tensor arguments, a bump allocator
 * over the kernel scratch, fp32 staging for fp16/int operands, broadcasting
 * and dimension normalisation.
 *
 * Every op validates kinds/dtypes/ranks in prepare and recomputes shapes in
 * run (IntList items and SymInts change at run time). Scratch sizes returned
 * by prepare are upper bounds computed from the tensors' capacities; run
 * draws from ctx->scratch through cml_aten_scratch and fails cleanly (never
 * allocates) when a request does not fit.
 */
#ifndef CML_OPS_ATEN_UTIL_H
#define CML_OPS_ATEN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "core/tensor.h"
#include "exec/op.h"
#include "kernels/kernels.h"

#define ATEN_ALIGN 64

/* ---- errors --------------------------------------------------------------- */

/* Fails with "<op>: <message>". */
cml_status cml_aten_fail(cml_kernel_ctx *ctx, cml_status status, const char *op, const char *fmt, ...)
    CML_PRINTF(4, 5);
/* Standard messages. */
cml_status cml_aten_bad_dtype(cml_kernel_ctx *ctx, const char *op, const char *what, cml_dtype dt);
cml_status cml_aten_scratch_short(cml_kernel_ctx *ctx, const char *op);

/* ---- dtype classes -------------------------------------------------------- */

static inline bool cml_aten_is_float(cml_dtype dt) {
    return dt == CML_DTYPE_FLOAT32 || dt == CML_DTYPE_FLOAT16;
}
/* Integer types the ops compute on (through int64). */
static inline bool cml_aten_is_int(cml_dtype dt) {
    return dt == CML_DTYPE_INT64 || dt == CML_DTYPE_INT32 || dt == CML_DTYPE_INT16 ||
           dt == CML_DTYPE_INT8 || dt == CML_DTYPE_UINT8;
}
static inline bool cml_aten_is_int_or_bool(cml_dtype dt) {
    return cml_aten_is_int(dt) || dt == CML_DTYPE_BOOL;
}
/* Upstream's dtype classes (ET_SWITCH_* names): every float type, real
 * (integers and floats), real plus bool, complex. */
static inline bool cml_aten_is_floating(cml_dtype dt) {
    return dt == CML_DTYPE_FLOAT16 || dt == CML_DTYPE_BFLOAT16 || dt == CML_DTYPE_FLOAT32 ||
           dt == CML_DTYPE_FLOAT64;
}
static inline bool cml_aten_is_realhbf16(cml_dtype dt) { return cml_aten_is_int(dt) || cml_aten_is_floating(dt); }
static inline bool cml_aten_is_realhbbf16(cml_dtype dt) {
    return cml_aten_is_realhbf16(dt) || dt == CML_DTYPE_BOOL;
}
static inline bool cml_aten_is_complex(cml_dtype dt) {
    return dt == CML_DTYPE_COMPLEX32 || dt == CML_DTYPE_COMPLEX64 || dt == CML_DTYPE_COMPLEX128;
}
/* Any dtype a copy/view op can move by element size. */
static inline bool cml_aten_is_known_dtype(cml_dtype dt) { return cml_dtype_size(dt) != 0; }

/* ---- arguments ------------------------------------------------------------ */

/* The emitter's None for a plain Tensor argument: an empty BYTE tensor. */
bool cml_aten_is_none_tensor(const cml_evalue *v);
/* Optional tensor: *out = NULL for Null or the empty BYTE tensor. */
cml_status cml_aten_arg_opt_tensor(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                               cml_tensor **out);
/* Optional int: *present false for Null. */
cml_status cml_aten_arg_opt_int(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                            bool *present, int64_t *out);
/* Scalar (Int/Double/Bool) with its "is integral" flag. */
cml_status cml_aten_arg_scalar(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                           double *d, int64_t *iv, bool *is_int);
/* Optional string: *s = NULL, *len = 0 for Null. */
cml_status cml_aten_arg_opt_str(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                            const char **s, uint32_t *len);
/* TensorList items resolved through ctx->values (max items, -1 rejected). */
cml_status cml_aten_arg_tensor_list(cml_kernel_ctx *ctx, const char *op, cml_evalue **args,
                                uint32_t i, cml_tensor **out, uint32_t max, uint32_t *count);
/* An IntList of 1 or `n` items (n <= 3), expanded to n; empty -> dflt. */
cml_status cml_aten_arg_int_tuple(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                              uint32_t n, int64_t dflt, int64_t *out);

/* Argument validation shared by prepare functions. */
cml_status cml_aten_check_contiguous(cml_kernel_ctx *ctx, const char *op, const cml_tensor *t,
                                 const char *what);
/* f32/f16 (and optionally int/bool, converted to f32). */
cml_status cml_aten_check_float(cml_kernel_ctx *ctx, const char *op, const cml_tensor *t,
                            const char *what);
cml_status cml_aten_check_rank(cml_kernel_ctx *ctx, const char *op, const cml_tensor *t,
                           const char *what, int32_t lo, int32_t hi);

/* Normalises dim into [0, rank) (rank 0 accepts -1 and 0, returning 0). */
cml_status cml_aten_norm_dim(cml_kernel_ctx *ctx, const char *op, int64_t dim, int32_t rank,
                         int32_t *out);

/* Saturating double -> int64 (NaN -> 0): no undefined conversions. */
static inline int64_t cml_aten_double_to_i64(double v) {
    if (v != v) return 0;
    if (v >= 9.2233720368547758e18) return INT64_MAX;
    if (v <= -9.2233720368547758e18) return INT64_MIN;
    return (int64_t)v;
}
/* Geometry parameters (stride, padding, dilation, kernel) from the program
 * are bounded so that size arithmetic cannot overflow. */
#define ATEN_MAX_GEOM ((int64_t)1 << 24)

/* ---- sizes ---------------------------------------------------------------- */

/* Upper bound on the element count a tensor can hold (its capacity, or the
 * planned shape if larger). */
size_t cml_aten_bound_numel(const cml_tensor *t);
static inline size_t cml_aten_align(size_t n) { return (n + ATEN_ALIGN - 1) & ~(size_t)(ATEN_ALIGN - 1); }
/* Scratch bytes to stage a tensor as fp32 (0 when it is fp32 already). */
static inline size_t cml_aten_f32_need(const cml_tensor *t) {
    return t->dtype == CML_DTYPE_FLOAT32 ? 0 : cml_aten_align(cml_aten_bound_numel(t) * sizeof(float));
}
/* Product of sizes[lo, hi). */
int64_t cml_aten_prod(const int64_t *sizes, int32_t lo, int32_t hi);
/* Resizes out, prefixing the op name on failure. In ctx->check_only mode a
 * resize that succeeds returns CML_SHAPES_CHECKED, which callers propagate
 * like an error, so a load-time check stops before any data is touched. */
cml_status cml_aten_resize(cml_kernel_ctx *ctx, const char *op, cml_tensor *out, int32_t rank,
                       const int64_t *sizes);
/* Contiguous row-major strides of a shape. */
void cml_aten_contig_strides(int32_t rank, const int64_t *sizes, int64_t *strides);

/* ---- scratch --------------------------------------------------------------- */

typedef struct cml_aten_scratch {
    uint8_t *base;
    size_t size;
    size_t used;
} cml_aten_scratch;

static inline cml_aten_scratch cml_aten_scratch_of(const cml_kernel_ctx *ctx) {
    cml_aten_scratch s = {(uint8_t *)ctx->scratch, ctx->scratch ? ctx->scratch_size : 0, 0};
    return s;
}
/* 64-byte aligned block, or NULL when it does not fit. */
void *cml_aten_scratch_alloc(cml_aten_scratch *s, size_t bytes);

/* fp32 view of a tensor's data: the data itself when fp32, else converted
 * into scratch. NULL when scratch is short or the dtype cannot convert. */
const float *cml_aten_load_f32(cml_aten_scratch *s, const cml_tensor *t);
/* Destination for an fp32 result destined for out: out->data when fp32, else
 * scratch; finish with cml_aten_store_f32 (converts/rounds into out). */
float *cml_aten_out_f32(cml_aten_scratch *s, cml_tensor *out);
void cml_aten_store_f32(cml_tensor *out, const float *buf);
/* Same pair for int64 compute. */
const int64_t *cml_aten_load_i64(cml_aten_scratch *s, const cml_tensor *t);
int64_t *cml_aten_out_i64(cml_aten_scratch *s, cml_tensor *out);
void cml_aten_store_i64(cml_tensor *out, const int64_t *buf);
static inline size_t cml_aten_i64_need(const cml_tensor *t) {
    return t->dtype == CML_DTYPE_INT64 ? 0 : cml_aten_align(cml_aten_bound_numel(t) * sizeof(int64_t));
}

/* ---- broadcasting ----------------------------------------------------------- */

/* NumPy broadcast of two shapes; fails (CML_ERR_SHAPE) when incompatible. */
cml_status cml_aten_broadcast_shape(cml_kernel_ctx *ctx, const char *op, int32_t ra, const int64_t *sa,
                                int32_t rb, const int64_t *sb, int32_t *rank, int64_t *sizes);
/* Strides (elements) that read a contiguous tensor of shape (r, s) as the
 * out shape (out_rank, out_sizes), 0 on broadcast dims. */
void cml_aten_broadcast_strides(int32_t r, const int64_t *s, int32_t out_rank,
                            const int64_t *out_sizes, int64_t *strides);

/* Strides (elements) that read t, in any dim order, as the broadcast shape
 * (rank, sizes): the tensor's own strides, 0 on broadcast dims. */
void cml_aten_tensor_bcast_strides(const cml_tensor *t, int32_t rank, const int64_t *sizes,
                               int64_t *strides);
/* Permutes sizes and each of the n stride arrays into out's memory order
 * (outermost first), so that out is contiguous in the permuted space. No-op
 * for a contiguous out. */
void cml_aten_to_memory_order(const cml_tensor *out, int32_t rank, int64_t *sizes, int64_t **strides,
                          int n);
/* True when two tensors of equal rank lay their elements out identically. */
bool cml_aten_same_dim_order(const cml_tensor *a, const cml_tensor *b);

/* ---- the op functions, one pair per operator (registry.c) --------------------- */

#define ATEN_OP_DECL(fn)                                                                         \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes);                                              \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs);

/* Fails unless the op got exactly `want` args. */
cml_status cml_aten_nargs_is(cml_kernel_ctx *ctx, const char *op, uint32_t nargs, uint32_t want);
/* Copies an N-d block of es-byte elements by strides (rank 0 allowed, empty skipped). */
void cml_aten_copy_block(size_t es, int32_t rank, const int64_t *sizes, const void *src,
                     const int64_t *sst, void *dst, const int64_t *dst_st);
/* Address of element `offset` (in elements) of t. */
const uint8_t *cml_aten_elem_ptr(const cml_tensor *t, int64_t offset);
/* Common prepare for a (self, ..., out) copy: same dtype, contiguous out. */
cml_status cml_aten_prep_copy(cml_kernel_ctx *ctx, const char *op, const cml_tensor *self,
                          const cml_tensor *out);

#endif
