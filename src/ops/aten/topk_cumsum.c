/*
 *   topk.values(Tensor self, SymInt k, int dim=-1, bool largest=True, bool sorted=True, *,
 *               Tensor(a!) values, Tensor(b!) indices)
 *   cumsum.out(Tensor self, int dim, *, ScalarType? dtype=None, Tensor(a!) out)
 *
 * topk picks the k largest (or smallest) elements along dim with their int64
 * indices, best first. NaN ranks above every number (first when largest,
 * last when smallest), as in torch. Equal values come out in the order
 * torch's (and upstream's) selection leaves them, reproduced step for step
 * (see "selection in torch's order"), as does the order of sorted=False.
 * values/indices take self's shape with dim of size k. Scratch: one int64
 * buffer of the dim's size.
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
    CML_TRY(cml_aten_nargs_is(ctx, TOPK, nargs, 8));
    CML_TRY(cml_arg_tensor(ctx, TOPK, args, 0, &a->self));
    CML_TRY(cml_arg_int(ctx, TOPK, args, 1, &a->k));
    CML_TRY(cml_arg_int(ctx, TOPK, args, 2, &dim));
    CML_TRY(cml_arg_bool(ctx, TOPK, args, 3, &a->largest));
    CML_TRY(cml_arg_bool(ctx, TOPK, args, 4, &a->sorted));
    CML_TRY(cml_arg_tensor(ctx, TOPK, args, 5, &a->values));
    CML_TRY(cml_arg_tensor(ctx, TOPK, args, 6, &a->indices));
    CML_TRY(cml_aten_norm_dim(ctx, TOPK, dim, a->self->rank, &a->dim));
    if (!cml_aten_elem_supported(a->self->dtype) || a->self->dtype == CML_DTYPE_BOOL)
        return cml_aten_bad_dtype(ctx, TOPK, "input", a->self->dtype);
    CML_TRY(cml_aten_prep_copy(ctx, TOPK, a->self, a->values));
    if (a->indices->dtype != CML_DTYPE_INT64) return cml_aten_bad_dtype(ctx, TOPK, "indices", a->indices->dtype);
    return cml_aten_check_contiguous(ctx, TOPK, a->indices, "indices");
}

cml_status cml_aten_topk_values_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                    size_t *scratch_bytes) {
    tk_args a;
    CML_TRY(tk_read(ctx, args, nargs, &a));
    *scratch_bytes = cml_aten_align(cml_aten_bound_numel(a.self) * sizeof(int64_t));
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
    if (cml_aten_is_floating(s->dt)) {
        double x = cml_aten_elem_get_f64(s->dt, a), y = cml_aten_elem_get_f64(s->dt, b);
        bool xn = x != x, yn = y != y;
        if (xn || yn) return s->largest ? (xn && !yn) : (!xn && yn);
        return s->largest ? x > y : x < y;
    }
    int64_t x = cml_aten_elem_get_i64(s->dt, a), y = cml_aten_elem_get_i64(s->dt, b);
    return s->largest ? x > y : x < y;
}

/* ---- selection in torch's order ----
 * torch (and ExecuTorch's portable kernel) select with the C++ library's
 * partial_sort when k * 64 <= n, else nth_element (then sort of the first
 * k - 1 when sorted), over (value, index) pairs in index order. The order of
 * equal values is whatever those algorithms leave, so they are reproduced
 * here step for step (the GNU libstdc++ versions: introselect, introsort with
 * median-of-three pivots, heap select, insertion sort for short ranges). */

#define TK_LESS(i, j) tk_before(s, q[i], q[j])

static void tk_swap(int64_t *q, int64_t i, int64_t j) {
    int64_t t = q[i];
    q[i] = q[j];
    q[j] = t;
}

/* Moves the median of q[a], q[b], q[c] to q[r]. */
static void tk_median_to_first(const tk_slice *s, int64_t *q, int64_t r, int64_t a, int64_t b, int64_t c) {
    if (TK_LESS(a, b)) {
        if (TK_LESS(b, c)) tk_swap(q, r, b);
        else if (TK_LESS(a, c)) tk_swap(q, r, c);
        else tk_swap(q, r, a);
    } else if (TK_LESS(a, c)) {
        tk_swap(q, r, a);
    } else if (TK_LESS(b, c)) {
        tk_swap(q, r, c);
    } else {
        tk_swap(q, r, b);
    }
}

/* Partitions [lo, hi) around q[lo] (moved there first); returns the cut. */
static int64_t tk_partition(const tk_slice *s, int64_t *q, int64_t lo, int64_t hi) {
    tk_median_to_first(s, q, lo, lo + 1, lo + (hi - lo) / 2, hi - 1);
    int64_t f = lo + 1, l = hi;
    for (;;) {
        while (TK_LESS(f, lo)) f++;
        l--;
        while (TK_LESS(lo, l)) l--;
        if (!(f < l)) return f;
        tk_swap(q, f, l);
        f++;
    }
}

/* Inserts q[i] into the sorted run before it; unguarded: an element that
 * does not rank after q[i] is known to lie before it. */
static void tk_linear_insert(const tk_slice *s, int64_t *q, int64_t i) {
    int64_t v = q[i];
    while (tk_before(s, v, q[i - 1])) {
        q[i] = q[i - 1];
        i--;
    }
    q[i] = v;
}

static void tk_insertion_sort(const tk_slice *s, int64_t *q, int64_t lo, int64_t hi) {
    for (int64_t i = lo + 1; i < hi; i++) {
        if (TK_LESS(i, lo)) {
            int64_t v = q[i];
            memmove(q + lo + 1, q + lo, sizeof(int64_t) * (size_t)(i - lo));
            q[lo] = v;
        } else {
            tk_linear_insert(s, q, i);
        }
    }
}

/* Heap over q[lo, lo + len) ordered by tk_before (its root ranks last). */
static void tk_adjust_heap(const tk_slice *s, int64_t *q, int64_t lo, int64_t hole, int64_t len, int64_t v) {
    int64_t top = hole, child = hole;
    while (child < (len - 1) / 2) {
        child = 2 * (child + 1);
        if (tk_before(s, q[lo + child], q[lo + child - 1])) child--;
        q[lo + hole] = q[lo + child];
        hole = child;
    }
    if ((len & 1) == 0 && child == (len - 2) / 2) {
        child = 2 * (child + 1);
        q[lo + hole] = q[lo + child - 1];
        hole = child - 1;
    }
    int64_t parent = (hole - 1) / 2;
    while (hole > top && tk_before(s, q[lo + parent], v)) {
        q[lo + hole] = q[lo + parent];
        hole = parent;
        parent = (hole - 1) / 2;
    }
    q[lo + hole] = v;
}

static void tk_pop_heap(const tk_slice *s, int64_t *q, int64_t lo, int64_t len, int64_t result) {
    int64_t v = q[result];
    q[result] = q[lo];
    tk_adjust_heap(s, q, lo, 0, len, v);
}

/* Leaves the (mid - lo) best of [lo, hi) in a heap at [lo, mid). */
static void tk_heap_select(const tk_slice *s, int64_t *q, int64_t lo, int64_t mid, int64_t hi) {
    int64_t len = mid - lo;
    if (len >= 2)
        for (int64_t parent = (len - 2) / 2;; parent--) {
            tk_adjust_heap(s, q, lo, parent, len, q[lo + parent]);
            if (parent == 0) break;
        }
    for (int64_t i = mid; i < hi; i++)
        if (TK_LESS(i, lo)) tk_pop_heap(s, q, lo, len, i);
}

static void tk_sort_heap(const tk_slice *s, int64_t *q, int64_t lo, int64_t hi) {
    while (hi - lo > 1) {
        hi--;
        tk_pop_heap(s, q, lo, hi - lo, hi);
    }
}

static int64_t tk_lg2x(int64_t n) {
    int64_t l = 0;
    while (n > 1) {
        n >>= 1;
        l++;
    }
    return 2 * l;
}

static void tk_introsort_loop(const tk_slice *s, int64_t *q, int64_t lo, int64_t hi, int64_t depth) {
    while (hi - lo > 16) {
        if (depth == 0) {
            tk_heap_select(s, q, lo, hi, hi);
            tk_sort_heap(s, q, lo, hi);
            return;
        }
        depth--;
        int64_t cut = tk_partition(s, q, lo, hi);
        tk_introsort_loop(s, q, cut, hi, depth);
        hi = cut;
    }
}

static void tk_std_sort(const tk_slice *s, int64_t *q, int64_t lo, int64_t hi) {
    if (hi - lo < 2) return;
    tk_introsort_loop(s, q, lo, hi, tk_lg2x(hi - lo));
    if (hi - lo > 16) {
        tk_insertion_sort(s, q, lo, lo + 16);
        for (int64_t i = lo + 16; i < hi; i++) tk_linear_insert(s, q, i);
    } else {
        tk_insertion_sort(s, q, lo, hi);
    }
}

static void tk_nth_element(const tk_slice *s, int64_t *q, int64_t nth, int64_t n) {
    int64_t lo = 0, hi = n, depth = tk_lg2x(n);
    if (nth >= n) return;
    while (hi - lo > 3) {
        if (depth == 0) {
            tk_heap_select(s, q, lo, nth + 1, hi);
            tk_swap(q, lo, nth);
            return;
        }
        depth--;
        int64_t cut = tk_partition(s, q, lo, hi);
        if (cut <= nth) lo = cut;
        else hi = cut;
    }
    tk_insertion_sort(s, q, lo, hi);
}

/* Orders q[0, n) (q[i] = i on entry) so that its first k are the top k. */
static void tk_select(const tk_slice *s, int64_t *q, int64_t n, int64_t k, bool sorted) {
    if (k * 64 <= n) {
        tk_heap_select(s, q, 0, k, n);
        tk_sort_heap(s, q, 0, k);
        return;
    }
    tk_nth_element(s, q, k - 1, n);
    if (sorted) tk_std_sort(s, q, 0, k - 1);
}

#undef TK_LESS

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
    cml_aten_contig_strides(x->rank, g->osz, g->ost);
}

/* Sorts one slice and writes its first k entries at output offset oo. */
static void tk_slice_run(const tk_args *a, const tk_geom *g, tk_slice *s, int64_t oo, int64_t *idx) {
    size_t es = cml_dtype_size(a->self->dtype);
    for (int64_t i = 0; i < g->n; i++) idx[i] = i;
    tk_select(s, idx, g->n, a->k, a->sorted);
    for (int64_t i = 0; i < a->k; i++) {
        int64_t o = oo + i * g->ost[a->dim];
        memcpy((uint8_t *)a->values->data + o * (int64_t)es, s->base + idx[i] * s->stride, es);
        ((int64_t *)a->indices->data)[o] = idx[i];
    }
}

cml_status cml_aten_topk_values_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    tk_args a;
    tk_geom g;
    CML_TRY(tk_read(ctx, args, nargs, &a));
    tk_geometry(&a, &g);
    if (a.k < 0 || a.k > g.n)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, TOPK, "k %lld out of range for dim %d of size %lld",
                         (long long)a.k, a.dim, (long long)g.n);
    int32_t orank = a.self->rank;
    CML_TRY(cml_aten_resize(ctx, TOPK, a.values, orank, orank ? g.osz : a.self->sizes));
    CML_TRY(cml_aten_resize(ctx, TOPK, a.indices, orank, orank ? g.osz : a.self->sizes));
    if (a.k == 0 || cml_tensor_numel(a.values) == 0) return CML_OK;
    cml_aten_scratch sc = cml_aten_scratch_of(ctx);
    int64_t *idx = cml_aten_scratch_alloc(&sc, (size_t)g.n * sizeof(int64_t));
    if (!idx) return cml_aten_scratch_short(ctx, TOPK);
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
        tk_slice_run(&a, &g, &s, oo, idx);
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
    CML_TRY(cml_aten_nargs_is(ctx, CUMSUM, nargs, 5));
    CML_TRY(cml_arg_tensor(ctx, CUMSUM, args, 0, self));
    CML_TRY(cml_arg_int(ctx, CUMSUM, args, 1, &d));
    CML_TRY(cml_arg_tensor(ctx, CUMSUM, args, 3, out));
    CML_TRY(cml_aten_norm_dim(ctx, CUMSUM, d, (*self)->rank, dim));
    if (!cml_aten_elem_supported((*self)->dtype)) return cml_aten_bad_dtype(ctx, CUMSUM, "input", (*self)->dtype);
    if (!cml_aten_elem_supported((*out)->dtype)) return cml_aten_bad_dtype(ctx, CUMSUM, "output", (*out)->dtype);
    if (!cml_arg_is_none(args, 2)) {
        int64_t dt;
        CML_TRY(cml_arg_int(ctx, CUMSUM, args, 2, &dt));
        if (dt != (int64_t)(*out)->dtype)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, CUMSUM, "dtype %lld does not match output %s",
                             (long long)dt, cml_dtype_name((*out)->dtype));
    }
    return cml_aten_check_contiguous(ctx, CUMSUM, *out, "output");
}

cml_status cml_aten_cumsum_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                   size_t *scratch_bytes) {
    cml_tensor *self, *out;
    int32_t dim;
    *scratch_bytes = 0;
    return cs_read(ctx, args, nargs, &self, &out, &dim);
}

cml_status cml_aten_cumsum_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    int32_t dim;
    CML_TRY(cs_read(ctx, args, nargs, &self, &out, &dim));
    CML_TRY(cml_aten_resize(ctx, CUMSUM, out, self->rank, self->sizes));
    int64_t n = cml_tensor_numel(self), st[CML_MAX_DIMS], ost[CML_MAX_DIMS], c[CML_MAX_DIMS] = {0};
    cml_tensor_strides(self, st);
    cml_aten_contig_strides(self->rank, self->sizes, ost);
    size_t es = cml_dtype_size(self->dtype), oes = cml_dtype_size(out->dtype);
    uint8_t *o = out->data;
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int32_t d = 0; d < self->rank; d++) off += c[d] * st[d];
        cml_aten_elem_convert(self->dtype, (const uint8_t *)self->data + off * (int64_t)es, out->dtype,
                          o + i * (int64_t)oes);
        if (self->rank && c[dim] > 0) cml_aten_elem_add(out->dtype, o + i * (int64_t)oes, o + (i - ost[dim]) * (int64_t)oes);
        for (int32_t d = self->rank - 1; d >= 0; d--) {
            if (++c[d] < self->sizes[d]) break;
            c[d] = 0;
        }
    }
    return CML_OK;
}
