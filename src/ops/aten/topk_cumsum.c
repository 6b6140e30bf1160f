/*
 *   topk.values(Tensor self, SymInt k, int dim=-1, bool largest=True, bool sorted=True, *,
 *               Tensor(a!) values, Tensor(b!) indices)
 *   cumsum.out(Tensor self, int dim, *, ScalarType? dtype=None, Tensor(a!) out)
 *
 * topk picks the k largest (or smallest) elements along dim with their int64
 * indices, best first. NaN ranks above every number (first when largest,
 * last when smallest), as in torch. Equal values keep ascending index order
 * (a stable sort); torch leaves the order of ties to its sort algorithm, so
 * only tie order may differ from it. `sorted=False` returns the same sorted
 * order, which is one of the orders it allows. values/indices take self's
 * shape with dim of size k. Scratch: two int64 buffers of the dim's size.
 *
 * cumsum: out[.., i, ..] = sum of self[.., 0..i, ..] computed in out's dtype
 * (each input converted, then added with out's arithmetic, as upstream);
 * dtype, when given, must be out's dtype. dtypes: self and out any
 * REALHBBF16 (topk: not bool).
 */
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"
#include "ops/aten/elem.h"

static const char TOPK[] = "aten::topk.values";
static const char CUMSUM[] = "aten::cumsum.out";

typedef struct tk_args {
    cml_tensor *self, *values, *indices;
    int64_t k;
    int32_t dim;
    bool largest, sorted;
} tk_args;

static cml_status tk_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, tk_args *a) {
    int64_t dim;
    CML_TRY(aten_nargs_is(ctx, TOPK, nargs, 8));
    CML_TRY(cml_arg_tensor(ctx, TOPK, args, 0, &a->self));
    CML_TRY(cml_arg_int(ctx, TOPK, args, 1, &a->k));
    CML_TRY(cml_arg_int(ctx, TOPK, args, 2, &dim));
    CML_TRY(cml_arg_bool(ctx, TOPK, args, 3, &a->largest));
    CML_TRY(cml_arg_bool(ctx, TOPK, args, 4, &a->sorted));
    CML_TRY(cml_arg_tensor(ctx, TOPK, args, 5, &a->values));
    CML_TRY(cml_arg_tensor(ctx, TOPK, args, 6, &a->indices));
    CML_TRY(aten_norm_dim(ctx, TOPK, dim, a->self->rank, &a->dim));
    if (!aten_elem_supported(a->self->dtype) || a->self->dtype == CML_DTYPE_BOOL)
        return aten_bad_dtype(ctx, TOPK, "input", a->self->dtype);
    CML_TRY(aten_prep_copy(ctx, TOPK, a->self, a->values));
    if (a->indices->dtype != CML_DTYPE_INT64) return aten_bad_dtype(ctx, TOPK, "indices", a->indices->dtype);
    return aten_check_contiguous(ctx, TOPK, a->indices, "indices");
}

cml_status aten_topk_values_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                    size_t *scratch_bytes) {
    tk_args a;
    CML_TRY(tk_read(ctx, args, nargs, &a));
    *scratch_bytes = 2 * aten_align(aten_bound_numel(a.self) * sizeof(int64_t));
    return CML_OK;
}

/* Ranking of one slice: elements at base + i * stride of self. */
typedef struct tk_slice {
    cml_dtype dt;
    const uint8_t *base;
    int64_t stride; /* bytes */
    bool largest;
} tk_slice;

/* True when element i ranks strictly before element j (ties: neither). */
static bool tk_before(const tk_slice *s, int64_t i, int64_t j) {
    const uint8_t *a = s->base + i * s->stride, *b = s->base + j * s->stride;
    if (aten_elem_is_floating(s->dt)) {
        double x = aten_elem_get_f64(s->dt, a), y = aten_elem_get_f64(s->dt, b);
        bool xn = x != x, yn = y != y;
        if (xn || yn) return s->largest ? (xn && !yn) : (!xn && yn);
        return s->largest ? x > y : x < y;
    }
    int64_t x = aten_elem_get_i64(s->dt, a), y = aten_elem_get_i64(s->dt, b);
    return s->largest ? x > y : x < y;
}

/* Stable bottom-up merge sort of idx[0, n) by tk_before. */
static void tk_sort(const tk_slice *s, int64_t *idx, int64_t *tmp, int64_t n) {
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = tk_before(s, idx[j], idx[i]) ? idx[j++] : idx[i++];
            while (i < mid) tmp[k++] = idx[i++];
            while (j < hi) tmp[k++] = idx[j++];
        }
        memcpy(idx, tmp, sizeof(int64_t) * (size_t)n);
    }
}

/* Geometry of the slices along dim: input strides, output shape/strides. */
typedef struct tk_geom {
    int32_t rank; /* 0-D reads as [1] */
    int64_t n;    /* slice length */
    int64_t st[CML_MAX_DIMS], osz[CML_MAX_DIMS], ost[CML_MAX_DIMS];
} tk_geom;

static void tk_geometry(const tk_args *a, tk_geom *g) {
    const cml_tensor *x = a->self;
    g->rank = x->rank ? x->rank : 1;
    g->n = x->rank ? x->sizes[a->dim] : 1;
    if (x->rank == 0) {
        g->st[0] = g->ost[0] = g->osz[0] = 1;
        return;
    }
    memcpy(g->osz, x->sizes, sizeof g->osz);
    g->osz[a->dim] = a->k;
    cml_tensor_strides(x, g->st);
    aten_contig_strides(x->rank, g->osz, g->ost);
}

/* Sorts one slice and writes its first k entries at output offset oo. */
static void tk_slice_run(const tk_args *a, const tk_geom *g, tk_slice *s, int64_t oo, int64_t *idx,
                         int64_t *tmp) {
    size_t es = cml_dtype_size(a->self->dtype);
    for (int64_t i = 0; i < g->n; i++) idx[i] = i;
    tk_sort(s, idx, tmp, g->n);
    for (int64_t i = 0; i < a->k; i++) {
        int64_t o = oo + i * g->ost[a->dim];
        memcpy((uint8_t *)a->values->data + o * (int64_t)es, s->base + idx[i] * s->stride, es);
        ((int64_t *)a->indices->data)[o] = idx[i];
    }
}

cml_status aten_topk_values_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    tk_args a;
    tk_geom g;
    CML_TRY(tk_read(ctx, args, nargs, &a));
    tk_geometry(&a, &g);
    if (a.k < 0 || a.k > g.n)
        return aten_fail(ctx, CML_ERR_INVALID_ARG, TOPK, "k %lld out of range for dim %d of size %lld",
                         (long long)a.k, a.dim, (long long)g.n);
    int32_t orank = a.self->rank;
    CML_TRY(aten_resize(ctx, TOPK, a.values, orank, orank ? g.osz : a.self->sizes));
    CML_TRY(aten_resize(ctx, TOPK, a.indices, orank, orank ? g.osz : a.self->sizes));
    if (a.k == 0 || cml_tensor_numel(a.values) == 0) return CML_OK;
    aten_scratch sc = aten_scratch_of(ctx);
    int64_t *idx = aten_scratch_alloc(&sc, (size_t)g.n * sizeof(int64_t));
    int64_t *tmp = aten_scratch_alloc(&sc, (size_t)g.n * sizeof(int64_t));
    if (!idx || !tmp) return aten_scratch_short(ctx, TOPK);
    size_t es = cml_dtype_size(a.self->dtype);
    int64_t c[CML_MAX_DIMS] = {0}, slices = cml_tensor_numel(a.values) / a.k;
    tk_slice s = {a.self->dtype, NULL, g.st[a.dim] * (int64_t)es, a.largest};
    for (int64_t q = 0; q < slices; q++) {
        int64_t io = 0, oo = 0;
        for (int32_t d = 0; d < g.rank; d++) {
            io += c[d] * g.st[d];
            oo += c[d] * g.ost[d];
        }
        s.base = (const uint8_t *)a.self->data + io * (int64_t)es;
        tk_slice_run(&a, &g, &s, oo, idx, tmp);
        for (int32_t d = g.rank - 1; d >= 0; d--) {
            if (d == a.dim) continue;
            if (++c[d] < g.osz[d]) break;
            c[d] = 0;
        }
    }
    return CML_OK;
}

/* ---- cumsum ---- */

static cml_status cs_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **self,
                          cml_tensor **out, int32_t *dim) {
    int64_t d;
    CML_TRY(aten_nargs_is(ctx, CUMSUM, nargs, 5));
    CML_TRY(cml_arg_tensor(ctx, CUMSUM, args, 0, self));
    CML_TRY(cml_arg_int(ctx, CUMSUM, args, 1, &d));
    CML_TRY(cml_arg_tensor(ctx, CUMSUM, args, 3, out));
    CML_TRY(aten_norm_dim(ctx, CUMSUM, d, (*self)->rank, dim));
    if (!aten_elem_supported((*self)->dtype)) return aten_bad_dtype(ctx, CUMSUM, "input", (*self)->dtype);
    if (!aten_elem_supported((*out)->dtype)) return aten_bad_dtype(ctx, CUMSUM, "output", (*out)->dtype);
    if (!cml_arg_is_none(args, 2)) {
        int64_t dt;
        CML_TRY(cml_arg_int(ctx, CUMSUM, args, 2, &dt));
        if (dt != (int64_t)(*out)->dtype)
            return aten_fail(ctx, CML_ERR_INVALID_ARG, CUMSUM, "dtype %lld does not match output %s",
                             (long long)dt, cml_dtype_name((*out)->dtype));
    }
    return aten_check_contiguous(ctx, CUMSUM, *out, "output");
}

cml_status aten_cumsum_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                   size_t *scratch_bytes) {
    cml_tensor *self, *out;
    int32_t dim;
    *scratch_bytes = 0;
    return cs_read(ctx, args, nargs, &self, &out, &dim);
}

cml_status aten_cumsum_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    int32_t dim;
    CML_TRY(cs_read(ctx, args, nargs, &self, &out, &dim));
    CML_TRY(aten_resize(ctx, CUMSUM, out, self->rank, self->sizes));
    int64_t n = cml_tensor_numel(self), st[CML_MAX_DIMS], ost[CML_MAX_DIMS], c[CML_MAX_DIMS] = {0};
    cml_tensor_strides(self, st);
    aten_contig_strides(self->rank, self->sizes, ost);
    size_t es = cml_dtype_size(self->dtype), oes = cml_dtype_size(out->dtype);
    uint8_t *o = out->data;
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int32_t d = 0; d < self->rank; d++) off += c[d] * st[d];
        aten_elem_convert(self->dtype, (const uint8_t *)self->data + off * (int64_t)es, out->dtype,
                          o + i * (int64_t)oes);
        if (self->rank && c[dim] > 0) aten_elem_add(out->dtype, o + i * (int64_t)oes, o + (i - ost[dim]) * (int64_t)oes);
        for (int32_t d = self->rank - 1; d >= 0; d--) {
            if (++c[d] < self->sizes[d]) break;
            c[d] = 0;
        }
    }
    return CML_OK;
}
