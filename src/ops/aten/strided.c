/*
 * Ops that read or write a strided view of a tensor:
 *   select_scatter.out(Tensor self, Tensor src, int dim, SymInt index, *, Tensor(a!) out)
 *   slice_scatter.out(Tensor self, Tensor src, int dim=0, SymInt? start=None, SymInt? end=None,
 *                     SymInt step=1, *, Tensor(a!) out)
 *   narrow_copy.out(Tensor self, int dim, SymInt start, SymInt length, *, Tensor(a!) out)
 *   diagonal_copy.out(Tensor self, int offset=0, int dim1=0, int dim2=1, *, Tensor(a!) out)
 *   as_strided_copy.out(Tensor self, SymInt[] size, SymInt[] stride, SymInt? storage_offset=None,
 *                       *, Tensor(a!) out)
 *   unfold_copy.out(Tensor self, int dimension, int size, int step, *, Tensor(a!) out)
 *
 * Each builds a view (sizes, element strides, offset) that stays inside the
 * viewed tensor, checked against its shape, then copies through it: the
 * scatters copy self to out and write src (converted to self's dtype, as
 * upstream) into out's view; the others copy the view of self into a
 * contiguous out. Semantics follow torch: negative dims/indices count from
 * the end, slice bounds clamp, narrow's start may be negative, the diagonal
 * of an offset past the edge is empty, as_strided takes raw storage strides
 * (non-negative, the whole view within self's elements). dtypes: any
 * REALHBBF16 (diagonal/as_strided/narrow: any dtype, moved by size); unfold
 * may convert to out's dtype.
 */
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"
#include "ops/aten/elem.h"

typedef struct sv_view {
    int32_t rank;
    int64_t sizes[CML_MAX_DIMS], strides[CML_MAX_DIMS];
    int64_t offset;
} sv_view;

/* Copies view v of src into a contiguous dst (converting dtypes). */
static void sv_gather(const sv_view *v, const cml_tensor *src, cml_tensor *dst) {
    int64_t dst_st[CML_MAX_DIMS];
    cml_aten_contig_strides(v->rank, v->sizes, dst_st);
    if (cml_aten_prod(v->sizes, 0, v->rank) == 0) return;
    cml_aten_copy_block_cvt(src->dtype, dst->dtype, v->rank, v->sizes, cml_aten_elem_ptr(src, v->offset),
                        v->strides, dst->data, dst_st);
}

/* out = self, then src (contiguous over v's shape) into out's view v. */
static cml_status sv_scatter(cml_kernel_ctx *ctx, const char *op, const sv_view *v,
                             const cml_tensor *self, const cml_tensor *src, cml_tensor *out) {
    if (src->rank != v->rank || memcmp(src->sizes, v->sizes, sizeof(int64_t) * (size_t)v->rank)) {
        char b1[160], b2[160];
        return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "src has shape %s, expected %s",
                         cml_shape_str(src->rank, src->sizes, b1, sizeof b1),
                         cml_shape_str(v->rank, v->sizes, b2, sizeof b2));
    }
    CML_TRY(cml_aten_resize(ctx, op, out, self->rank, self->sizes));
    if (out->data != self->data && cml_tensor_nbytes(self))
        memmove(out->data, self->data, cml_tensor_nbytes(self));
    if (cml_aten_prod(v->sizes, 0, v->rank) == 0) return CML_OK;
    int64_t sst[CML_MAX_DIMS];
    cml_tensor_strides(src, sst);
    cml_aten_copy_block_cvt(src->dtype, out->dtype, v->rank, v->sizes, src->data, sst,
                        (uint8_t *)out->data + (size_t)v->offset * cml_dtype_size(out->dtype), v->strides);
    return CML_OK;
}

/* The identity view of t (contiguous strides of its shape). */
static void sv_whole(const cml_tensor *t, sv_view *v) {
    v->rank = t->rank;
    memcpy(v->sizes, t->sizes, sizeof v->sizes);
    cml_aten_contig_strides(t->rank, t->sizes, v->strides);
    v->offset = 0;
}

/* Drops dim d of a view. */
static void sv_drop(sv_view *v, int32_t d) {
    for (int32_t k = d; k + 1 < v->rank; k++) {
        v->sizes[k] = v->sizes[k + 1];
        v->strides[k] = v->strides[k + 1];
    }
    v->rank--;
}

/* Prepare checks shared by the scatters: out like self (contiguous), src of
 * a REALHBBF16 dtype. */
static cml_status sv_prep_scatter(cml_kernel_ctx *ctx, const char *op, const cml_tensor *self,
                                  const cml_tensor *src, const cml_tensor *out) {
    if (!cml_aten_elem_supported(self->dtype)) return cml_aten_bad_dtype(ctx, op, "input", self->dtype);
    if (!cml_aten_elem_supported(src->dtype)) return cml_aten_bad_dtype(ctx, op, "src", src->dtype);
    CML_TRY(cml_aten_prep_copy(ctx, op, self, out));
    CML_TRY(cml_aten_check_contiguous(ctx, op, self, "self"));
    return cml_aten_check_contiguous(ctx, op, src, "src");
}

/* ---- select_scatter ---- */

static const char SELSC[] = "aten::select_scatter.out";

static cml_status selsc_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **t,
                             int64_t *dim, int64_t *index) {
    CML_TRY(cml_aten_nargs_is(ctx, SELSC, nargs, 6));
    CML_TRY(cml_arg_tensor(ctx, SELSC, args, 0, &t[0]));
    CML_TRY(cml_arg_tensor(ctx, SELSC, args, 1, &t[1]));
    CML_TRY(cml_arg_int(ctx, SELSC, args, 2, dim));
    CML_TRY(cml_arg_int(ctx, SELSC, args, 3, index));
    CML_TRY(cml_arg_tensor(ctx, SELSC, args, 4, &t[2]));
    if (t[0]->rank == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, SELSC, "cannot select from a scalar");
    return CML_OK;
}

cml_status cml_aten_select_scatter_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                           size_t *scratch_bytes) {
    cml_tensor *t[3];
    int64_t dim, index;
    *scratch_bytes = 0;
    CML_TRY(selsc_read(ctx, args, nargs, t, &dim, &index));
    return sv_prep_scatter(ctx, SELSC, t[0], t[1], t[2]);
}

cml_status cml_aten_select_scatter_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *t[3];
    int64_t dim64, index;
    int32_t dim;
    sv_view v;
    CML_TRY(selsc_read(ctx, args, nargs, t, &dim64, &index));
    CML_TRY(cml_aten_norm_dim(ctx, SELSC, dim64, t[0]->rank, &dim));
    CML_TRY(cml_aten_norm_index(ctx, SELSC, index, t[0]->sizes[dim], dim, &index));
    sv_whole(t[0], &v);
    v.offset = index * v.strides[dim];
    sv_drop(&v, dim);
    return sv_scatter(ctx, SELSC, &v, t[0], t[1], t[2]);
}

/* ---- slice_scatter ---- */

static const char SLSC[] = "aten::slice_scatter.out";

cml_status cml_aten_slice_scatter_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                          size_t *scratch_bytes) {
    cml_tensor *self, *src, *out;
    *scratch_bytes = 0;
    CML_TRY(cml_aten_nargs_is(ctx, SLSC, nargs, 8));
    CML_TRY(cml_arg_tensor(ctx, SLSC, args, 0, &self));
    CML_TRY(cml_arg_tensor(ctx, SLSC, args, 1, &src));
    CML_TRY(cml_arg_tensor(ctx, SLSC, args, 6, &out));
    return sv_prep_scatter(ctx, SLSC, self, src, out);
}

/* torch's slice bounds: negative from the end, clamped to [0, size]. */
static int64_t sv_slice_len(int64_t size, int64_t *start, int64_t end, int64_t step) {
    if (*start < 0) *start = *start < -size ? 0 : *start + size;
    if (end < 0) end = end < -size ? 0 : end + size;
    if (*start > size) *start = size;
    if (end > size) end = size;
    return end > *start ? (end - *start - 1) / step + 1 : 0;
}

cml_status cml_aten_slice_scatter_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *src, *out;
    int64_t dim64, start, end, step;
    bool has_start, has_end;
    int32_t dim;
    sv_view v;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, SLSC, args, 0, &self));
    CML_TRY(cml_arg_tensor(ctx, SLSC, args, 1, &src));
    CML_TRY(cml_arg_int(ctx, SLSC, args, 2, &dim64));
    CML_TRY(cml_aten_arg_opt_int(ctx, SLSC, args, 3, &has_start, &start));
    CML_TRY(cml_aten_arg_opt_int(ctx, SLSC, args, 4, &has_end, &end));
    CML_TRY(cml_arg_int(ctx, SLSC, args, 5, &step));
    CML_TRY(cml_arg_tensor(ctx, SLSC, args, 6, &out));
    if (step < 1) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, SLSC, "step %lld must be positive", (long long)step);
    if (self->rank == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, SLSC, "cannot slice a scalar");
    CML_TRY(cml_aten_norm_dim(ctx, SLSC, dim64, self->rank, &dim));
    if (!has_start) start = 0;
    int64_t len = sv_slice_len(self->sizes[dim], &start, has_end ? end : INT64_MAX, step);
    sv_whole(self, &v);
    v.offset = len ? start * v.strides[dim] : 0;
    v.sizes[dim] = len;
    if (len > 1) v.strides[dim] *= step; /* (len - 1) * step < size */
    return sv_scatter(ctx, SLSC, &v, self, src, out);
}

/* ---- narrow_copy ---- */

static const char NARROW[] = "aten::narrow_copy.out";

static cml_status narrow_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **self,
                              cml_tensor **out, int64_t *p) {
    CML_TRY(cml_aten_nargs_is(ctx, NARROW, nargs, 6));
    CML_TRY(cml_arg_tensor(ctx, NARROW, args, 0, self));
    for (uint32_t i = 0; i < 3; i++) CML_TRY(cml_arg_int(ctx, NARROW, args, 1 + i, &p[i]));
    CML_TRY(cml_arg_tensor(ctx, NARROW, args, 4, out));
    if ((*self)->rank == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, NARROW, "cannot narrow a scalar");
    return CML_OK;
}

cml_status cml_aten_narrow_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                        size_t *scratch_bytes) {
    cml_tensor *self, *out;
    int64_t p[3];
    *scratch_bytes = 0;
    CML_TRY(narrow_read(ctx, args, nargs, &self, &out, p));
    return cml_aten_prep_copy(ctx, NARROW, self, out);
}

cml_status cml_aten_narrow_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    int64_t p[3]; /* dim, start, length */
    int32_t dim;
    sv_view v;
    CML_TRY(narrow_read(ctx, args, nargs, &self, &out, p));
    CML_TRY(cml_aten_norm_dim(ctx, NARROW, p[0], self->rank, &dim));
    int64_t size = self->sizes[dim], start = p[1], len = p[2];
    if (start < -size || start > size)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, NARROW, "start %lld out of range for dim %d of size %lld",
                         (long long)start, dim, (long long)size);
    if (start < 0) start += size;
    if (len < 0 || len > size - start)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, NARROW, "start %lld + length %lld exceeds dim %d of size %lld",
                         (long long)start, (long long)len, dim, (long long)size);
    cml_tensor_strides(self, v.strides);
    v.rank = self->rank;
    memcpy(v.sizes, self->sizes, sizeof v.sizes);
    v.sizes[dim] = len;
    v.offset = len ? start * v.strides[dim] : 0;
    CML_TRY(cml_aten_resize(ctx, NARROW, out, v.rank, v.sizes));
    sv_gather(&v, self, out);
    return CML_OK;
}

/* ---- diagonal_copy ---- */

static const char DIAG[] = "aten::diagonal_copy.out";

static cml_status diag_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **self,
                            cml_tensor **out, int64_t *p) {
    CML_TRY(cml_aten_nargs_is(ctx, DIAG, nargs, 6));
    CML_TRY(cml_arg_tensor(ctx, DIAG, args, 0, self));
    for (uint32_t i = 0; i < 3; i++) CML_TRY(cml_arg_int(ctx, DIAG, args, 1 + i, &p[i]));
    CML_TRY(cml_arg_tensor(ctx, DIAG, args, 4, out));
    if ((*self)->rank < 2) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, DIAG, "input must have rank >= 2, has %d", (*self)->rank);
    return CML_OK;
}

cml_status cml_aten_diagonal_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                          size_t *scratch_bytes) {
    cml_tensor *self, *out;
    int64_t p[3];
    *scratch_bytes = 0;
    CML_TRY(diag_read(ctx, args, nargs, &self, &out, p));
    return cml_aten_prep_copy(ctx, DIAG, self, out);
}

cml_status cml_aten_diagonal_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    int64_t p[3], st[CML_MAX_DIMS]; /* offset, dim1, dim2 */
    int32_t d1, d2;
    sv_view v;
    CML_TRY(diag_read(ctx, args, nargs, &self, &out, p));
    CML_TRY(cml_aten_norm_dim(ctx, DIAG, p[1], self->rank, &d1));
    CML_TRY(cml_aten_norm_dim(ctx, DIAG, p[2], self->rank, &d2));
    if (d1 == d2) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, DIAG, "dim1 and dim2 are both %d", d1);
    int64_t off = p[0], s1 = self->sizes[d1], s2 = self->sizes[d2], len;
    if (off >= 0) len = off >= s2 ? 0 : (s1 < s2 - off ? s1 : s2 - off);
    else len = off <= -s1 ? 0 : (s1 + off < s2 ? s1 + off : s2); /* then -off < s1: no overflow */
    cml_tensor_strides(self, st);
    v.rank = 0;
    for (int32_t d = 0; d < self->rank; d++) {
        if (d == d1 || d == d2) continue;
        v.sizes[v.rank] = self->sizes[d];
        v.strides[v.rank++] = st[d];
    }
    v.sizes[v.rank] = len;
    v.strides[v.rank++] = st[d1] + st[d2];
    v.offset = len == 0 ? 0 : off >= 0 ? off * st[d2] : -off * st[d1];
    CML_TRY(cml_aten_resize(ctx, DIAG, out, v.rank, v.sizes));
    sv_gather(&v, self, out);
    return CML_OK;
}

/* ---- as_strided_copy ---- */

static const char ASTR[] = "aten::as_strided_copy.out";

static cml_status astr_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **self,
                            cml_tensor **out, sv_view *v) {
    uint32_t nsz, nst;
    bool has_off;
    CML_TRY(cml_aten_nargs_is(ctx, ASTR, nargs, 6));
    CML_TRY(cml_arg_tensor(ctx, ASTR, args, 0, self));
    CML_TRY(cml_arg_int_list(ctx, ASTR, args, 1, v->sizes, CML_MAX_DIMS, &nsz));
    CML_TRY(cml_arg_int_list(ctx, ASTR, args, 2, v->strides, CML_MAX_DIMS, &nst));
    CML_TRY(cml_aten_arg_opt_int(ctx, ASTR, args, 3, &has_off, &v->offset));
    CML_TRY(cml_arg_tensor(ctx, ASTR, args, 4, out));
    if (nsz != nst)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, ASTR, "%u sizes but %u strides", nsz, nst);
    v->rank = (int32_t)nsz;
    return CML_OK;
}

cml_status cml_aten_as_strided_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                            size_t *scratch_bytes) {
    cml_tensor *self, *out;
    sv_view v;
    *scratch_bytes = 0;
    CML_TRY(astr_read(ctx, args, nargs, &self, &out, &v));
    return cml_aten_prep_copy(ctx, ASTR, self, out);
}

/* The view must stay within self's elements: offset + sum((size-1)*stride) < numel. */
static cml_status astr_check(cml_kernel_ctx *ctx, const sv_view *v, int64_t numel) {
    if (v->offset < 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, ASTR, "negative storage offset %lld", (long long)v->offset);
    int64_t last = v->offset, n = 1;
    for (int32_t d = 0; d < v->rank; d++) {
        if (v->sizes[d] < 0 || v->strides[d] < 0)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, ASTR, "negative size or stride at dim %d", d);
        n = v->sizes[d] ? n : 0;
    }
    if (n == 0) return CML_OK;
    for (int32_t d = 0; d < v->rank; d++) {
        int64_t t;
        if (__builtin_mul_overflow(v->sizes[d] - 1, v->strides[d], &t) || __builtin_add_overflow(last, t, &last))
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, ASTR, "view extent overflows");
    }
    if (last >= numel)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, ASTR, "view reaches element %lld of a tensor of %lld elements",
                         (long long)last, (long long)numel);
    return CML_OK;
}

cml_status cml_aten_as_strided_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    sv_view v;
    CML_TRY(astr_read(ctx, args, nargs, &self, &out, &v));
    CML_TRY(astr_check(ctx, &v, cml_tensor_numel(self)));
    CML_TRY(cml_aten_resize(ctx, ASTR, out, v.rank, v.sizes));
    sv_gather(&v, self, out);
    return CML_OK;
}

/* ---- unfold_copy ---- */

static const char UNFOLD[] = "aten::unfold_copy.out";

static cml_status unfold_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **self,
                              cml_tensor **out, int64_t *p) {
    CML_TRY(cml_aten_nargs_is(ctx, UNFOLD, nargs, 6));
    CML_TRY(cml_arg_tensor(ctx, UNFOLD, args, 0, self));
    for (uint32_t i = 0; i < 3; i++) CML_TRY(cml_arg_int(ctx, UNFOLD, args, 1 + i, &p[i]));
    CML_TRY(cml_arg_tensor(ctx, UNFOLD, args, 4, out));
    if (!cml_aten_elem_supported((*self)->dtype)) return cml_aten_bad_dtype(ctx, UNFOLD, "input", (*self)->dtype);
    if (!cml_aten_elem_supported((*out)->dtype)) return cml_aten_bad_dtype(ctx, UNFOLD, "output", (*out)->dtype);
    if ((*self)->rank >= CML_MAX_DIMS) return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, UNFOLD, "input rank too large");
    return cml_aten_check_contiguous(ctx, UNFOLD, *out, "output");
}

cml_status cml_aten_unfold_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                        size_t *scratch_bytes) {
    cml_tensor *self, *out;
    int64_t p[3];
    *scratch_bytes = 0;
    return unfold_read(ctx, args, nargs, &self, &out, p);
}

cml_status cml_aten_unfold_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    int64_t p[3], st[CML_MAX_DIMS]; /* dimension, size, step */
    int32_t dim;
    sv_view v;
    CML_TRY(unfold_read(ctx, args, nargs, &self, &out, p));
    CML_TRY(cml_aten_norm_dim(ctx, UNFOLD, p[0], self->rank, &dim));
    int64_t dsize = self->rank ? self->sizes[dim] : 1, size = p[1], step = p[2];
    if (size < 0 || size > dsize)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, UNFOLD, "size %lld out of range for dim %d of size %lld",
                         (long long)size, dim, (long long)dsize);
    if (step < 1) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, UNFOLD, "step %lld must be positive", (long long)step);
    cml_tensor_strides(self, st);
    v.rank = self->rank;
    memcpy(v.sizes, self->sizes, sizeof v.sizes);
    memcpy(v.strides, st, sizeof v.strides);
    v.offset = 0;
    if (self->rank == 0) {
        v.sizes[0] = size; /* a 0-D input unfolds to [size] */
        v.strides[0] = 0;
        v.rank = 1;
    } else {
        v.sizes[dim] = (dsize - size) / step + 1;
        if (v.sizes[dim] > 1) v.strides[dim] = st[dim] * step; /* (n - 1) * step <= dsize - size */
        v.sizes[v.rank] = size;
        v.strides[v.rank++] = st[dim];
    }
    CML_TRY(cml_aten_resize(ctx, UNFOLD, out, v.rank, v.sizes));
    sv_gather(&v, self, out);
    return CML_OK;
}
