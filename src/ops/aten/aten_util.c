#include "ops/aten/aten_util.h"

#include "kernels/kernels.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

cml_status cml_aten_fail(cml_kernel_ctx *ctx, cml_status status, const char *op, const char *fmt, ...) {
    char msg[CML_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cml_fail(ctx ? ctx->err : NULL, status, "%s: %s", op, msg);
}

cml_status cml_aten_bad_dtype(cml_kernel_ctx *ctx, const char *op, const char *what, cml_dtype dt) {
    return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "%s %s not supported", cml_dtype_name(dt), what);
}

cml_status cml_aten_scratch_short(cml_kernel_ctx *ctx, const char *op) {
    return cml_aten_fail(ctx, CML_ERR_INTERNAL, op,
                     "scratch memory too small for this shape (prepared for a smaller bound)");
}

/* ---- arguments ------------------------------------------------------------ */

bool cml_aten_is_none_tensor(const cml_evalue *v) {
    if (!v) return true;
    if (v->kind == CML_VALUE_NULL || v->kind == CML_VALUE_NONE) return true;
    if (v->kind != CML_VALUE_TENSOR || !v->u.t) return false;
    const cml_tensor *t = v->u.t;
    return t->dtype == CML_DTYPE_UINT8 && t->rank == 1 && t->sizes[0] == 0;
}

cml_status cml_aten_arg_opt_tensor(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                               cml_tensor **out) {
    if (cml_aten_is_none_tensor(args[i])) {
        *out = NULL;
        return CML_OK;
    }
    return cml_arg_tensor(ctx, op, args, i, out);
}

cml_status cml_aten_arg_opt_int(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                            bool *present, int64_t *out) {
    if (cml_arg_is_none(args, i)) {
        *present = false;
        *out = 0;
        return CML_OK;
    }
    *present = true;
    return cml_arg_int(ctx, op, args, i, out);
}

cml_status cml_aten_arg_scalar(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                           double *d, int64_t *iv, bool *is_int) {
    const cml_evalue *v = args[i];
    switch (v->kind) {
    case CML_VALUE_INT:
        *iv = v->u.i;
        *d = (double)v->u.i;
        *is_int = true;
        return CML_OK;
    case CML_VALUE_BOOL:
        *iv = v->u.b ? 1 : 0;
        *d = (double)*iv;
        *is_int = true;
        return CML_OK;
    case CML_VALUE_DOUBLE:
        *d = v->u.d;
        *iv = (int64_t)0;
        *is_int = false;
        return CML_OK;
    default:
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "arg %u: expected a Scalar, got value kind %d",
                         i, (int)v->kind);
    }
}

cml_status cml_aten_arg_opt_str(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                            const char **s, uint32_t *len) {
    const cml_evalue *v = args[i];
    if (v->kind == CML_VALUE_NULL || v->kind == CML_VALUE_NONE) {
        *s = NULL;
        *len = 0;
        return CML_OK;
    }
    if (v->kind != CML_VALUE_STRING)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "arg %u: expected a string, got value kind %d",
                         i, (int)v->kind);
    *s = v->u.s.ptr ? v->u.s.ptr : "";
    *len = v->u.s.ptr ? v->u.s.len : 0;
    return CML_OK;
}

cml_status cml_aten_arg_tensor_list(cml_kernel_ctx *ctx, const char *op, cml_evalue **args,
                                uint32_t i, cml_tensor **out, uint32_t max, uint32_t *count) {
    const cml_evalue *v = args[i];
    if (v->kind != CML_VALUE_TENSOR_LIST && v->kind != CML_VALUE_OPT_TENSOR_LIST)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op,
                         "arg %u: expected a tensor list, got value kind %d", i, (int)v->kind);
    uint32_t n = v->u.tensor_list.count;
    if (n > max)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "arg %u: %u tensors, at most %u supported",
                         i, n, max);
    for (uint32_t k = 0; k < n; k++) {
        int32_t idx = v->u.tensor_list.items[k];
        if (idx < 0 || (uint32_t)idx >= ctx->nvalues || ctx->values[idx].kind != CML_VALUE_TENSOR ||
            !ctx->values[idx].u.t)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "arg %u item %u is not a tensor", i, k);
        out[k] = ctx->values[idx].u.t;
    }
    *count = n;
    return CML_OK;
}

cml_status cml_aten_arg_int_tuple(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                              uint32_t n, int64_t dflt, int64_t *out) {
    int64_t tmp[3];
    uint32_t count = 0;
    CML_TRY(cml_arg_int_list(ctx, op, args, i, tmp, 3, &count));
    if (count == 0) {
        for (uint32_t k = 0; k < n; k++) out[k] = dflt;
    } else if (count == 1) {
        for (uint32_t k = 0; k < n; k++) out[k] = tmp[0];
    } else if (count == n) {
        for (uint32_t k = 0; k < n; k++) out[k] = tmp[k];
    } else {
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "arg %u: expected 1 or %u ints, got %u", i,
                         n, count);
    }
    return CML_OK;
}

cml_status cml_aten_check_contiguous(cml_kernel_ctx *ctx, const char *op, const cml_tensor *t,
                                 const char *what) {
    if (cml_tensor_is_contiguous(t)) return CML_OK;
    char buf[80];
    size_t used = 0;
    for (int32_t d = 0; d < t->rank && used + 8 < sizeof buf; d++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%u", d ? "," : "",
                                 (unsigned)t->dim_order[d]);
    buf[used < sizeof buf ? used : sizeof buf - 1] = '\0';
    return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op,
                     "%s has non-contiguous dim order [%s]; only the dim-order copy ops accept it",
                     what, buf);
}

cml_status cml_aten_check_float(cml_kernel_ctx *ctx, const char *op, const cml_tensor *t,
                            const char *what) {
    if (cml_aten_is_float(t->dtype)) return CML_OK;
    return cml_aten_bad_dtype(ctx, op, what, t->dtype);
}

cml_status cml_aten_check_rank(cml_kernel_ctx *ctx, const char *op, const cml_tensor *t,
                           const char *what, int32_t lo, int32_t hi) {
    if (t->rank >= lo && t->rank <= hi) return CML_OK;
    if (lo == hi)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "%s must have rank %d, has %d", what, lo,
                         t->rank);
    return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "%s must have rank %d..%d, has %d", what, lo, hi,
                     t->rank);
}

cml_status cml_aten_norm_dim(cml_kernel_ctx *ctx, const char *op, int64_t dim, int32_t rank,
                         int32_t *out) {
    int64_t r = rank > 0 ? rank : 1;
    if (dim < -r || dim >= r)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "dim %lld out of range for rank %d",
                         (long long)dim, rank);
    *out = (int32_t)(dim < 0 ? dim + r : dim);
    return CML_OK;
}

/* ---- sizes ---------------------------------------------------------------- */

size_t cml_aten_bound_numel(const cml_tensor *t) {
    size_t es = cml_dtype_size(t->dtype);
    size_t by_cap = es ? t->capacity / es : 0;
    int64_t n = 1;
    for (int32_t d = 0; d < t->rank; d++) {
        if (t->sizes[d] < 0 || __builtin_mul_overflow(n, t->sizes[d], &n)) return by_cap;
    }
    return (size_t)n > by_cap ? (size_t)n : by_cap;
}

int64_t cml_aten_prod(const int64_t *sizes, int32_t lo, int32_t hi) {
    int64_t p = 1;
    for (int32_t d = lo; d < hi; d++) p *= sizes[d];
    return p;
}

cml_status cml_aten_resize(cml_kernel_ctx *ctx, const char *op, cml_tensor *out, int32_t rank,
                       const int64_t *sizes) {
    /* Even an empty shape must keep its strides representable ([0, 2^62, 8]
     * would overflow them), so the product of the non-zero dims must fit. */
    int64_t p = 1;
    for (int32_t d = 0; d < rank; d++) {
        if (sizes[d] < 0 || __builtin_mul_overflow(p, sizes[d] ? sizes[d] : 1, &p)) {
            char b[160];
            return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "output shape %s is out of range",
                             cml_shape_str(rank, sizes, b, sizeof b));
        }
    }
    cml_status st = cml_tensor_resize(out, rank, sizes, ctx->err);
    if (st != CML_OK) cml_error_prefix(ctx->err, "%s: output: ", op);
    return st == CML_OK && ctx->check_only ? CML_SHAPES_CHECKED : st;
}

void cml_aten_contig_strides(int32_t rank, const int64_t *sizes, int64_t *strides) {
    uint64_t s = 1; /* wraps instead of overflowing; only empty views get there */
    for (int32_t d = rank - 1; d >= 0; d--) {
        strides[d] = (int64_t)s;
        s *= (uint64_t)sizes[d];
    }
}

/* ---- scratch --------------------------------------------------------------- */

void *cml_aten_scratch_alloc(cml_aten_scratch *s, size_t bytes) {
    size_t start = cml_aten_align(s->used);
    if (!s->base || start > s->size || bytes > s->size - start) return NULL;
    s->used = start + bytes;
    return s->base + start;
}

const float *cml_aten_load_f32(cml_aten_scratch *s, const cml_tensor *t) {
    if (t->dtype == CML_DTYPE_FLOAT32) return (const float *)t->data;
    size_t n = (size_t)cml_tensor_numel(t);
    float *buf = cml_aten_scratch_alloc(s, n * sizeof(float));
    if (!buf) return NULL;
    if (n && !cml_k_convert(t->dtype, t->data, CML_DTYPE_FLOAT32, buf, n)) return NULL;
    return buf;
}

float *cml_aten_out_f32(cml_aten_scratch *s, cml_tensor *out) {
    if (out->dtype == CML_DTYPE_FLOAT32) return (float *)out->data;
    return cml_aten_scratch_alloc(s, (size_t)cml_tensor_numel(out) * sizeof(float));
}

void cml_aten_store_f32(cml_tensor *out, const float *buf) {
    if (out->dtype == CML_DTYPE_FLOAT32 || buf == out->data) return;
    size_t n = (size_t)cml_tensor_numel(out);
    if (n) cml_k_convert(CML_DTYPE_FLOAT32, buf, out->dtype, out->data, n);
}

const int64_t *cml_aten_load_i64(cml_aten_scratch *s, const cml_tensor *t) {
    if (t->dtype == CML_DTYPE_INT64) return (const int64_t *)t->data;
    size_t n = (size_t)cml_tensor_numel(t);
    int64_t *buf = cml_aten_scratch_alloc(s, n * sizeof(int64_t));
    if (!buf) return NULL;
    if (n && !cml_k_convert(t->dtype, t->data, CML_DTYPE_INT64, buf, n)) return NULL;
    return buf;
}

int64_t *cml_aten_out_i64(cml_aten_scratch *s, cml_tensor *out) {
    if (out->dtype == CML_DTYPE_INT64) return (int64_t *)out->data;
    return cml_aten_scratch_alloc(s, (size_t)cml_tensor_numel(out) * sizeof(int64_t));
}

void cml_aten_store_i64(cml_tensor *out, const int64_t *buf) {
    if (out->dtype == CML_DTYPE_INT64 || (const void *)buf == out->data) return;
    size_t n = (size_t)cml_tensor_numel(out);
    if (n) cml_k_convert(CML_DTYPE_INT64, buf, out->dtype, out->data, n);
}

/* ---- broadcasting ----------------------------------------------------------- */

cml_status cml_aten_broadcast_shape(cml_kernel_ctx *ctx, const char *op, int32_t ra, const int64_t *sa,
                                int32_t rb, const int64_t *sb, int32_t *rank, int64_t *sizes) {
    int32_t r = ra > rb ? ra : rb;
    for (int32_t d = 0; d < r; d++) {
        int32_t da = d - (r - ra), db = d - (r - rb);
        int64_t a = da >= 0 ? sa[da] : 1;
        int64_t b = db >= 0 ? sb[db] : 1;
        if (a == b || b == 1) {
            sizes[d] = a;
        } else if (a == 1) {
            sizes[d] = b;
        } else {
            char x[160], y[160];
            return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "shapes %s and %s do not broadcast",
                             cml_shape_str(ra, sa, x, sizeof x), cml_shape_str(rb, sb, y, sizeof y));
        }
    }
    *rank = r;
    return CML_OK;
}

void cml_aten_broadcast_strides(int32_t r, const int64_t *s, int32_t out_rank,
                            const int64_t *out_sizes, int64_t *strides) {
    int64_t st = 1;
    for (int32_t d = out_rank - 1; d >= 0; d--) {
        int32_t sd = d - (out_rank - r);
        if (sd < 0) {
            strides[d] = 0;
            continue;
        }
        (void)out_sizes;
        strides[d] = s[sd] == 1 ? 0 : st;
        st *= s[sd];
    }
}

void cml_aten_tensor_bcast_strides(const cml_tensor *t, int32_t rank, const int64_t *sizes,
                               int64_t *strides) {
    int64_t st[CML_MAX_DIMS];
    cml_tensor_strides(t, st);
    for (int32_t d = 0; d < rank; d++) {
        int32_t sd = d - (rank - t->rank);
        strides[d] = (sd < 0 || t->sizes[sd] == 1) ? 0 : st[sd];
    }
    (void)sizes;
}

void cml_aten_to_memory_order(const cml_tensor *out, int32_t rank, int64_t *sizes, int64_t **strides,
                          int n) {
    if (out->rank != rank || cml_tensor_is_contiguous(out)) return;
    int64_t tmp[CML_MAX_DIMS];
    for (int32_t d = 0; d < rank; d++) tmp[d] = sizes[out->dim_order[d]];
    memcpy(sizes, tmp, sizeof(int64_t) * (size_t)rank);
    for (int k = 0; k < n; k++) {
        for (int32_t d = 0; d < rank; d++) tmp[d] = strides[k][out->dim_order[d]];
        memcpy(strides[k], tmp, sizeof(int64_t) * (size_t)rank);
    }
}

bool cml_aten_same_dim_order(const cml_tensor *a, const cml_tensor *b) {
    if (a->rank != b->rank) return false;
    int64_t sa[CML_MAX_DIMS], sb[CML_MAX_DIMS];
    cml_tensor_strides(a, sa);
    cml_tensor_strides(b, sb);
    for (int32_t d = 0; d < a->rank; d++)
        if (a->sizes[d] != 1 && sa[d] != sb[d]) return false;
    return true;
}

/* ---- shared by the view/copy and indexing ops ---- */

cml_status cml_aten_nargs_is(cml_kernel_ctx *ctx, const char *op, uint32_t nargs, uint32_t want) {
    if (nargs == want) return CML_OK;
    return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "expected %u args, got %u", want, nargs);
}

/* Copies an N-d block (rank 0 allowed, empty skipped). */
void cml_aten_copy_block(size_t es, int32_t rank, const int64_t *sizes, const void *src,
                       const int64_t *sst, void *dst, const int64_t *dst_st) {
    for (int32_t d = 0; d < rank; d++)
        if (sizes[d] == 0) return; /* empty (checked before any product) */
    if (rank == 0) {
        memcpy(dst, src, es);
        return;
    }
    cml_k_copy_strided(es, rank, sizes, src, sst, dst, dst_st);
}

const uint8_t *cml_aten_elem_ptr(const cml_tensor *t, int64_t offset) {
    return (const uint8_t *)t->data + (size_t)offset * cml_dtype_size(t->dtype);
}

/* Common prepare for a (self, ..., out) copy: same dtype, contiguous out. */
cml_status cml_aten_prep_copy(cml_kernel_ctx *ctx, const char *op, const cml_tensor *self,
                            const cml_tensor *out) {
    if (!cml_aten_is_known_dtype(self->dtype)) return cml_aten_bad_dtype(ctx, op, "input", self->dtype);
    if (out->dtype != self->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "output dtype %s differs from input %s",
                         cml_dtype_name(out->dtype), cml_dtype_name(self->dtype));
    return cml_aten_check_contiguous(ctx, op, out, "output");
}
