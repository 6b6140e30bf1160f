/*
 * Gather/scatter along one dim:
 *   gather.out(Tensor self, int dim, Tensor index, *, bool sparse_grad=False, Tensor(a!) out)
 *   scatter.src_out(Tensor self, int dim, Tensor index, Tensor src, *, Tensor(a!) out)
 *   scatter.value_out(Tensor self, int dim, Tensor index, Scalar value, *, Tensor(a!) out)
 *   scatter_add.out(Tensor self, int dim, Tensor index, Tensor src, *, Tensor(a!) out)
 *
 * For every position p of index: gather reads self at p with p[dim] replaced
 * by index[p] (out has index's shape); the scatters copy self to out, then
 * write src[p] (or value) to out at that place, in index's row-major order
 * (scatter_add accumulates duplicates, scatter keeps the last).
 * As upstream: index is int64 with the rank of self (0-D counts as 1-D),
 * index.size(d) <= self.size(d) for d != dim (and <= src.size(d) for every
 * d), and every index value must lie in [0, self.size(dim)) (negative values
 * are errors, as in torch). All values are checked before anything is
 * written. dtypes: self/src/out any REALHBBF16 dtype, all equal.
 */
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"
#include "ops/aten/elem.h"

typedef enum { SG_GATHER, SG_SCATTER_SRC, SG_SCATTER_VALUE, SG_SCATTER_ADD } sg_kind;

static const char *const SG_NAMES[] = {"aten::gather.out", "aten::scatter.src_out",
                                       "aten::scatter.value_out", "aten::scatter_add.out"};

typedef struct sg_args {
    sg_kind kind;
    const char *op;
    cml_tensor *self, *index, *src, *out;
    int32_t dim;
    uint8_t value[8]; /* scatter.value_out: the Scalar in self's dtype */
} sg_args;

/* Rank and sizes with 0-D read as [1]. */
static int32_t sg_rank(const cml_tensor *t) { return t->rank ? t->rank : 1; }
static int64_t sg_size(const cml_tensor *t, int32_t d) { return t->rank ? t->sizes[d] : 1; }

static cml_status sg_read_value(cml_kernel_ctx *ctx, cml_evalue **args, sg_args *a) {
    double d;
    int64_t iv;
    bool is_int;
    CML_TRY(cml_aten_arg_scalar(ctx, a->op, args, 3, &d, &iv, &is_int));
    if (is_int) cml_aten_elem_set_i64(a->self->dtype, a->value, iv);
    else cml_aten_elem_set_f64(a->self->dtype, a->value, d);
    return CML_OK;
}

static cml_status sg_read(cml_kernel_ctx *ctx, sg_kind kind, cml_evalue **args, uint32_t nargs,
                          sg_args *a) {
    int64_t dim;
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->op = SG_NAMES[kind];
    CML_TRY(cml_aten_nargs_is(ctx, a->op, nargs, 6));
    CML_TRY(cml_arg_tensor(ctx, a->op, args, 0, &a->self));
    CML_TRY(cml_arg_int(ctx, a->op, args, 1, &dim));
    CML_TRY(cml_arg_tensor(ctx, a->op, args, 2, &a->index));
    CML_TRY(cml_arg_tensor(ctx, a->op, args, 4, &a->out));
    CML_TRY(cml_aten_norm_dim(ctx, a->op, dim, a->self->rank, &a->dim));
    if (!cml_aten_elem_supported(a->self->dtype)) return cml_aten_bad_dtype(ctx, a->op, "input", a->self->dtype);
    if (kind == SG_SCATTER_SRC || kind == SG_SCATTER_ADD) CML_TRY(cml_arg_tensor(ctx, a->op, args, 3, &a->src));
    if (kind == SG_SCATTER_VALUE) CML_TRY(sg_read_value(ctx, args, a));
    return CML_OK;
}

/* Dtypes and layouts (prepare). */
static cml_status sg_check_types(cml_kernel_ctx *ctx, const sg_args *a) {
    if (a->index->dtype != CML_DTYPE_INT64)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, a->op, "index must be int64, is %s",
                         cml_dtype_name(a->index->dtype));
    CML_TRY(cml_aten_prep_copy(ctx, a->op, a->self, a->out));
    if (a->src && a->src->dtype != a->self->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, a->op, "src dtype %s differs from self %s",
                         cml_dtype_name(a->src->dtype), cml_dtype_name(a->self->dtype));
    if (a->kind != SG_GATHER) CML_TRY(cml_aten_check_contiguous(ctx, a->op, a->self, "self"));
    return CML_OK;
}

/* Shapes (run: shapes may change). */
static cml_status sg_check_shapes(cml_kernel_ctx *ctx, const sg_args *a) {
    if (cml_tensor_numel(a->index) == 0) return CML_OK;
    int32_t r = sg_rank(a->self);
    if (sg_rank(a->index) != r || (a->src && sg_rank(a->src) != r))
        return cml_aten_fail(ctx, CML_ERR_SHAPE, a->op, "self, index%s must have the same rank",
                         a->src ? " and src" : "");
    for (int32_t d = 0; d < r; d++) {
        int64_t n = sg_size(a->index, d);
        if (d != a->dim && n > sg_size(a->self, d))
            return cml_aten_fail(ctx, CML_ERR_SHAPE, a->op, "index size %lld exceeds self size %lld at dim %d",
                             (long long)n, (long long)sg_size(a->self, d), d);
        if (a->src && n > sg_size(a->src, d))
            return cml_aten_fail(ctx, CML_ERR_SHAPE, a->op, "index size %lld exceeds src size %lld at dim %d",
                             (long long)n, (long long)sg_size(a->src, d), d);
    }
    return CML_OK;
}

static cml_status sg_check_values(cml_kernel_ctx *ctx, const sg_args *a) {
    const int64_t *ix = a->index->data;
    int64_t n = cml_tensor_numel(a->index), size = sg_size(a->self, a->dim);
    for (int64_t i = 0; i < n; i++)
        if (ix[i] < 0 || ix[i] >= size)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, a->op,
                             "index %lld is out of bounds for dim %d of size %lld", (long long)ix[i],
                             a->dim, (long long)size);
    return CML_OK;
}

static void sg_strides(const cml_tensor *t, int64_t *st) {
    if (t->rank) cml_tensor_strides(t, st);
    else st[0] = 1;
}

/* Walks index in row-major order, moving one element per position. */
static void sg_walk(const sg_args *a) {
    int32_t r = sg_rank(a->self);
    int64_t sst[CML_MAX_DIMS], ist[CML_MAX_DIMS], xst[CML_MAX_DIMS], ost[CML_MAX_DIMS];
    int64_t isz[CML_MAX_DIMS], c[CML_MAX_DIMS] = {0};
    sg_strides(a->self, sst);
    sg_strides(a->index, ist);
    if (a->src) sg_strides(a->src, xst);
    cml_aten_contig_strides(r, a->index->rank ? a->index->sizes : (int64_t[]){1}, ost);
    for (int32_t d = 0; d < r; d++) isz[d] = sg_size(a->index, d);
    size_t es = cml_dtype_size(a->self->dtype);
    const uint8_t *self = a->self->data, *src = a->src ? a->src->data : NULL;
    uint8_t *out = a->out->data;
    int64_t n = cml_tensor_numel(a->index);
    for (int64_t i = 0; i < n; i++) {
        int64_t io = 0, so = 0, xo = 0, oo = 0;
        for (int32_t d = 0; d < r; d++) {
            io += c[d] * ist[d];
            xo += c[d] * (a->src ? xst[d] : 0);
            oo += c[d] * ost[d];
            if (d != a->dim) so += c[d] * sst[d];
        }
        so += ((const int64_t *)a->index->data)[io] * sst[a->dim];
        switch (a->kind) {
        case SG_GATHER: memcpy(out + oo * (int64_t)es, self + so * (int64_t)es, es); break;
        case SG_SCATTER_SRC: memcpy(out + so * (int64_t)es, src + xo * (int64_t)es, es); break;
        case SG_SCATTER_VALUE: memcpy(out + so * (int64_t)es, a->value, es); break;
        case SG_SCATTER_ADD: cml_aten_elem_add(a->self->dtype, out + so * (int64_t)es, src + xo * (int64_t)es); break;
        }
        for (int32_t d = r - 1; d >= 0; d--) {
            if (++c[d] < isz[d]) break;
            c[d] = 0;
        }
    }
}

static cml_status sg_prepare(cml_kernel_ctx *ctx, sg_kind kind, cml_evalue **args, uint32_t nargs,
                             size_t *scratch_bytes) {
    sg_args a;
    CML_TRY(sg_read(ctx, kind, args, nargs, &a));
    *scratch_bytes = 0;
    return sg_check_types(ctx, &a);
}

static cml_status sg_run(cml_kernel_ctx *ctx, sg_kind kind, cml_evalue **args, uint32_t nargs) {
    sg_args a;
    CML_TRY(sg_read(ctx, kind, args, nargs, &a));
    CML_TRY(sg_check_shapes(ctx, &a));
    /* Index values after the resize, which ends a load-time check-only run
     * (method_check.c) before any data is read; still before any write. */
    if (kind == SG_GATHER) {
        CML_TRY(cml_aten_resize(ctx, a.op, a.out, a.index->rank, a.index->sizes));
        CML_TRY(sg_check_values(ctx, &a));
    } else {
        CML_TRY(cml_aten_resize(ctx, a.op, a.out, a.self->rank, a.self->sizes));
        CML_TRY(sg_check_values(ctx, &a));
        if (a.out->data != a.self->data && cml_tensor_nbytes(a.self))
            memmove(a.out->data, a.self->data, cml_tensor_nbytes(a.self));
    }
    if (cml_tensor_numel(a.self) == 0) return CML_OK;
    sg_walk(&a);
    return CML_OK;
}

#define SG_OP(fn, kind)                                                                           \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,               \
                            size_t *scratch_bytes) {                                              \
        return sg_prepare(ctx, kind, args, nargs, scratch_bytes);                                 \
    }                                                                                             \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                 \
        return sg_run(ctx, kind, args, nargs);                                                    \
    }

SG_OP(cml_aten_gather_out, SG_GATHER)
SG_OP(cml_aten_scatter_src_out, SG_SCATTER_SRC)
SG_OP(cml_aten_scatter_value_out, SG_SCATTER_VALUE)
SG_OP(cml_aten_scatter_add_out, SG_SCATTER_ADD)
