/*
 * Slicing and joining: slice_by_index, slice_by_size, slice_update, concat
 * (+ interleave), split, stack, tile, pad, band_part. All dtypes unless
 * noted; data moves through cml_k_copy_strided.
 *
 * slice_by_index follows Python slicing per dim (negative wrap, clamping,
 * negative strides); begin_mask / end_mask act as an omitted start / stop;
 * squeeze_mask takes the element at begin and drops the dim. begin and end
 * may be runtime tensors (the output is then dynamic, bounded by x).
 */
#include <string.h>

#include "kernels/kernels.h"
#include "mil/ops.h"
#include "mil/state_inplace.h"

static size_t esz(const cml_mil_value *v) { return cml_dtype_size(v->dtype); }

/* ---- slicing core ------------------------------------------------------------------ */

typedef struct slice_attr {
    int32_t rank;
    bool begin_mask[CML_MAX_DIMS], end_mask[CML_MAX_DIMS], squeeze[CML_MAX_DIMS];
    int64_t stride[CML_MAX_DIMS];
    bool by_size; /* slice_by_size: "end" is a size (-1 = to the end) */
} slice_attr;

typedef struct slice_plan {
    int64_t start[CML_MAX_DIMS], len[CML_MAX_DIMS], step[CML_MAX_DIMS];
} slice_plan;

/* Python slice(begin, end, step).indices(D) and its length. */
static bool slice_dim(int64_t D, int64_t b, int64_t e, int64_t s, bool bm, bool em, bool sq,
                      int64_t *start, int64_t *len) {
    if (sq) {
        if (b < 0) b += D;
        if (b < 0 || b >= D) return false;
        *start = b;
        *len = 1;
        return true;
    }
    if (s == 0) return false;
    if (s > 0) {
        if (bm) b = 0;
        else if (b < 0) b = b + D < 0 ? 0 : b + D;
        else if (b > D) b = D;
        if (em) e = D;
        else if (e < 0) e = e + D < 0 ? 0 : e + D;
        else if (e > D) e = D;
        *start = b;
        *len = e > b ? (e - b + s - 1) / s : 0;
    } else {
        if (bm) b = D - 1;
        else if (b < 0) b = b + D < -1 ? -1 : b + D;
        else if (b > D - 1) b = D - 1;
        if (em) e = -1;
        else if (e < 0) e = e + D < -1 ? -1 : e + D;
        else if (e > D - 1) e = D - 1;
        *start = b;
        *len = b > e ? (b - e + (-s) - 1) / (-s) : 0;
    }
    return true;
}

static bool slice_solve(const slice_attr *a, const int64_t *xs, const int64_t *begin,
                        const int64_t *end, slice_plan *p) {
    for (int32_t i = 0; i < a->rank; i++) {
        if (a->by_size) {
            int64_t b = begin[i], sz = end[i];
            if (b < 0) b += xs[i];
            if (sz == -1) sz = xs[i] - b;
            if (b < 0 || sz < 0 || b + sz > xs[i]) return false;
            p->start[i] = b, p->len[i] = sz, p->step[i] = 1;
            continue;
        }
        p->step[i] = a->stride[i];
        if (!slice_dim(xs[i], begin[i], end[i], a->stride[i], a->begin_mask[i], a->end_mask[i],
                       a->squeeze[i], &p->start[i], &p->len[i]))
            return false;
    }
    return true;
}

static void slice_out_shape(const slice_attr *a, const slice_plan *p, int32_t *rank, int64_t *s) {
    int32_t k = 0;
    for (int32_t i = 0; i < a->rank; i++)
        if (!a->squeeze[i]) s[k++] = p->len[i];
    *rank = k;
}

/* Strides/offset of the slice region inside a tensor of shape xs. */
static int64_t slice_view(const slice_attr *a, const slice_plan *p, const int64_t *xs,
                          int64_t *strides) {
    int64_t st[CML_MAX_DIMS], off = 0;
    cml_milop_strides(a->rank, xs, st);
    for (int32_t i = 0; i < a->rank; i++) {
        off += p->start[i] * st[i];
        strides[i] = st[i] * p->step[i];
    }
    return off;
}

static cml_status read_vec(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                           int32_t rank, int64_t *out) {
    uint32_t n;
    cml_mil_value *v = cml_mil_in(ctx, node, name);
    CML_TRY(cml_milop_read_ints(ctx, node, name, v, out, CML_MAX_DIMS, &n));
    if ((int32_t)n != rank)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'%s' has %u entries, x has rank %d", name, n,
                            rank);
    return CML_OK;
}

static cml_status read_mask(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                            int32_t rank, bool *out) {
    int64_t v[CML_MAX_DIMS];
    uint32_t n = 0;
    bool present = false;
    CML_TRY(cml_mil_const_ints(ctx, node, name, v, CML_MAX_DIMS, &n, &present));
    if (present && (int32_t)n != rank)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'%s' must have %d entries", name, rank);
    for (int32_t i = 0; i < rank; i++) out[i] = present && v[i] != 0;
    return CML_OK;
}

/* Parses the slice parameters shared by slice_by_index / slice_update and
 * computes the bound of the sliced region. */
static cml_status slice_setup(cml_mil_ctx *ctx, cml_mil_node *node, const cml_mil_value *x,
                              bool by_size, slice_attr **out, int32_t *orank, int64_t *oshape,
                              bool *dynamic) {
    slice_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    memset(a, 0, sizeof *a);
    a->rank = x->rank;
    a->by_size = by_size;
    const char *ename = by_size ? "size" : "end";
    cml_mil_value *b = NULL, *e = NULL;
    CML_TRY(cml_mil_require(ctx, node, "begin", &b));
    CML_TRY(cml_mil_require(ctx, node, ename, &e));
    if (!by_size) {
        int64_t st[CML_MAX_DIMS];
        uint32_t n = 0;
        bool present = false;
        CML_TRY(cml_mil_const_ints(ctx, node, "stride", st, CML_MAX_DIMS, &n, &present));
        if (present && (int32_t)n != x->rank)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'stride' must have %d entries", x->rank);
        for (int32_t i = 0; i < x->rank; i++) {
            a->stride[i] = present ? st[i] : 1;
            if (a->stride[i] == 0)
                return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "stride 0 at dim %d", i);
        }
        CML_TRY(read_mask(ctx, node, "begin_mask", x->rank, a->begin_mask));
        CML_TRY(read_mask(ctx, node, "end_mask", x->rank, a->end_mask));
        CML_TRY(read_mask(ctx, node, "squeeze_mask", x->rank, a->squeeze));
    }
    *out = a;
    slice_plan p;
    if (cml_milop_known(b) && cml_milop_known(e)) {
        int64_t bv[CML_MAX_DIMS], ev[CML_MAX_DIMS];
        CML_TRY(read_vec(ctx, node, "begin", x->rank, bv));
        CML_TRY(read_vec(ctx, node, ename, x->rank, ev));
        if (!slice_solve(a, x->bound, bv, ev, &p))
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "slice out of range");
        *dynamic = x->dynamic;
    } else {
        /* runtime begin/end: each dim is at most ceil(D / |stride|) */
        if (cml_mil_bound_numel(b) != x->rank || cml_mil_bound_numel(e) != x->rank)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "begin and %s must have %d entries",
                                ename, x->rank);
        for (int32_t i = 0; i < x->rank; i++) {
            int64_t s = by_size ? 1 : (a->stride[i] < 0 ? -a->stride[i] : a->stride[i]);
            p.len[i] = a->squeeze[i] ? 1 : (x->bound[i] + s - 1) / s;
        }
        *dynamic = true;
    }
    slice_out_shape(a, &p, orank, oshape);
    return CML_OK;
}

static cml_status slice_plan_run(cml_mil_ctx *ctx, const cml_mil_node *node, const slice_attr *a,
                                 const cml_mil_value *x, slice_plan *p) {
    int64_t bv[CML_MAX_DIMS], ev[CML_MAX_DIMS];
    CML_TRY(read_vec(ctx, node, "begin", a->rank, bv));
    CML_TRY(read_vec(ctx, node, a->by_size ? "size" : "end", a->rank, ev));
    if (!slice_solve(a, x->shape, bv, ev, p))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "slice out of range");
    return CML_OK;
}

static cml_status slice_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    slice_attr *a = NULL;
    int32_t orank;
    int64_t shape[CML_MAX_DIMS];
    bool dyn;
    bool by_size = strcmp(node->def->type, "slice_by_size") == 0;
    CML_TRY(slice_setup(ctx, node, x, by_size, &a, &orank, shape, &dyn));
    node->attr = a;
    return cml_milop_out_like(ctx, node, 0, x, orank, shape, dyn);
}

static cml_status slice_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const slice_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    slice_plan p;
    CML_TRY(slice_plan_run(ctx, node, a, x, &p));
    int32_t orank;
    int64_t shape[CML_MAX_DIMS], src[CML_MAX_DIMS], dst[CML_MAX_DIMS];
    slice_out_shape(a, &p, &orank, shape);
    CML_TRY(cml_mil_resize(ctx, out, orank, shape));
    int64_t off = slice_view(a, &p, x->shape, src);
    if (cml_milop_prod(p.len, 0, a->rank) == 0) return CML_OK;
    cml_milop_strides(a->rank, p.len, dst);
    cml_k_copy_strided(esz(x), a->rank, p.len, (const uint8_t *)x->data + off * (int64_t)esz(x),
                       src, out->data, dst);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_slice_by_index = {"slice_by_index", slice_infer, slice_run, false};
const cml_mil_op_def cml_mil_op_slice_by_size = {"slice_by_size", slice_infer, slice_run, false};

/* ---- slice_update(x, update, begin, end, stride, masks) ------------------------------ */

static cml_status su_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *u = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(cml_mil_require(ctx, node, "update", &u));
    if (esz(u) != esz(x) || cml_milop_is_float(u->dtype) != cml_milop_is_float(x->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "update must have x's dtype");
    if (u->rank == 0)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "rank-0 'update' is not supported");
    slice_attr *a = NULL;
    int32_t orank;
    int64_t shape[CML_MAX_DIMS];
    bool dyn;
    CML_TRY(slice_setup(ctx, node, x, false, &a, &orank, shape, &dyn));
    node->attr = a;
    /* a const slice of a static x has a known shape: update must match it */
    bool fixed = !dyn && !u->dynamic;
    if (fixed && (orank != u->rank || memcmp(shape, u->bound, sizeof(int64_t) * (size_t)orank))) {
        char want[256], got[256];
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'update' has shape %s, the slice is %s",
                            cml_milop_shape_str(got, sizeof got, u->rank, u->bound),
                            cml_milop_shape_str(want, sizeof want, orank, shape));
    }
    return cml_milop_out_like(ctx, node, 0, x, x->rank, x->bound, false);
}

static cml_status su_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const slice_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *u = cml_mil_in(ctx, node, "update");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    slice_plan p;
    CML_TRY(slice_plan_run(ctx, node, a, x, &p));
    if (cml_milop_prod(p.len, 0, a->rank) != cml_mil_numel(u))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "update does not match the slice shape");
    CML_TRY(cml_mil_resize(ctx, out, x->rank, x->shape));
    size_t n = (size_t)cml_mil_numel(x) * esz(x);
    if (n && out->data != x->data) memcpy(out->data, x->data, n);
    if (cml_mil_numel(u) == 0) return CML_OK;
    int64_t dst[CML_MAX_DIMS], src[CML_MAX_DIMS];
    int64_t off = slice_view(a, &p, x->shape, dst);
    cml_milop_strides(a->rank, p.len, src);
    cml_k_copy_strided(esz(x), a->rank, p.len, u->data, src,
                       (uint8_t *)out->data + off * (int64_t)esz(x), dst);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_slice_update = {"slice_update", su_infer, su_run, false};

/* The in-place form (state_inplace.h): x and the output are views of the
 * state's buffer, so su_run skips the copy and writes only the slice; the
 * output is declared fp32 so the executor does not re-round the whole state
 * (its values are fp16 already, and so is the update). */
static cml_status su_state_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    CML_TRY(su_infer(ctx, node));
    cml_mil_out(ctx, node, 0)->fp16 = false;
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_slice_update_state = {"slice_update", su_state_infer, su_run,
                                                      true};

/* ---- concat(values, axis, interleave) ------------------------------------------------ */

typedef struct concat_attr {
    int32_t axis;
    bool interleave;
    bool scalars; /* rank-0 values: each counts as a [1] (coremltools), output rank 1 */
} concat_attr;

/* Rank and shape of value v as concat sees it: rank-0 values are [1]. */
static int32_t concat_view(const concat_attr *a, const cml_mil_value *v, bool bound,
                           int64_t *shape) {
    if (a->scalars) {
        shape[0] = 1;
        return 1;
    }
    memcpy(shape, bound ? v->bound : v->shape, sizeof(int64_t) * (size_t)v->rank);
    return v->rank;
}

/* Validates value i against value 0 (rank, dtype, non-axis dims). */
static cml_status concat_check(cml_mil_ctx *ctx, const cml_mil_node *node, const concat_attr *a,
                               uint32_t i, const cml_mil_value *v0, const cml_mil_value *v) {
    if (v->kind != CML_MIL_KIND_TENSOR || esz(v) != esz(v0) ||
        cml_milop_is_float(v->dtype) != cml_milop_is_float(v0->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "value %u has another dtype", i);
    if (v->rank != v0->rank)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "value %u has rank %d, value 0 has rank %d",
                            i, v->rank, v0->rank);
    for (int32_t d = 0; d < v0->rank; d++)
        if (d != a->axis && v->bound[d] != v0->bound[d] && !v->dynamic && !v0->dynamic)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "value %u differs in dim %d", i, d);
    if (a->interleave && v->bound[a->axis] != v0->bound[a->axis] && !a->scalars)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "interleave needs equal shapes");
    return CML_OK;
}

/* coremltools: all values share one rank; rank-0 values concatenate into a
 * rank-1 tensor of one element per value (the axis is not checked then). */
static cml_status concat_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    const cml_mil_param *p = cml_mil_param_find(node, "values");
    if (!p || p->count == 0)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "'values' is empty");
    concat_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    memset(a, 0, sizeof *a);
    int64_t axis;
    CML_TRY(cml_mil_const_int(ctx, node, "axis", false, 0, &axis));
    CML_TRY(cml_mil_const_bool(ctx, node, "interleave", true, false, &a->interleave));
    const cml_mil_value *v0 = cml_mil_value_at(ctx, p->vids[0]);
    a->scalars = v0->kind == CML_MIL_KIND_TENSOR && v0->rank == 0;
    if (!a->scalars && !cml_milop_axis(axis, v0->rank, &a->axis))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis %lld out of range for rank %d",
                            (long long)axis, v0->rank);
    int64_t shape[CML_MAX_DIMS];
    int32_t rank = concat_view(a, v0, true, shape);
    shape[a->axis] = 0;
    bool dyn = false, fp16 = true, all_const = true;
    for (uint32_t i = 0; i < p->count; i++) {
        const cml_mil_value *v = cml_mil_value_at(ctx, p->vids[i]);
        CML_TRY(concat_check(ctx, node, a, i, v0, v));
        shape[a->axis] += a->scalars ? 1 : v->bound[a->axis];
        dyn = dyn || v->dynamic;
        if (!v->is_const) fp16 = fp16 && v->fp16;
        all_const = all_const && v->is_const;
    }
    node->attr = a;
    if (all_const) fp16 = v0->fp16;
    return cml_mil_set_output(ctx, node, 0, v0->dtype, fp16, rank, shape, dyn);
}

static cml_status concat_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const concat_attr *a = node->attr;
    const cml_mil_param *p = cml_mil_param_find(node, "values");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    const cml_mil_value *v0 = cml_mil_value_at(ctx, p->vids[0]);
    int32_t ax = a->axis;
    int64_t shape[CML_MAX_DIMS], s0[CML_MAX_DIMS], vs[CML_MAX_DIMS];
    int32_t r = concat_view(a, v0, false, s0);
    memcpy(shape, s0, sizeof(int64_t) * (size_t)r);
    shape[ax] = 0;
    for (uint32_t i = 0; i < p->count; i++) {
        concat_view(a, cml_mil_value_at(ctx, p->vids[i]), false, vs);
        for (int32_t d = 0; d < r; d++)
            if (d != ax && vs[d] != s0[d])
                return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "value %u differs in dim %d", i, d);
        if (a->interleave && vs[ax] != s0[ax])
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "interleave needs equal shapes");
        shape[ax] += vs[ax];
    }
    CML_TRY(cml_mil_resize(ctx, out, r, shape));
    int64_t ost[CML_MAX_DIMS], dst[CML_MAX_DIMS], src[CML_MAX_DIMS];
    cml_milop_strides(r, shape, ost);
    size_t es = esz(out);
    int64_t off = 0;
    for (uint32_t i = 0; i < p->count; i++) {
        const cml_mil_value *v = cml_mil_value_at(ctx, p->vids[i]);
        memcpy(dst, ost, sizeof(int64_t) * (size_t)r);
        int64_t base = off * ost[ax];
        if (a->interleave) {
            /* output[k::n] along axis = values[k] */
            dst[ax] = ost[ax] * (int64_t)p->count;
            base = (int64_t)i * ost[ax];
        }
        concat_view(a, v, false, vs);
        cml_milop_strides(r, vs, src);
        if (cml_mil_numel(v) > 0)
            cml_k_copy_strided(es, r, vs, v->data, src, (uint8_t *)out->data + base * (int64_t)es,
                               dst);
        off += vs[ax];
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_concat = {"concat", concat_infer, concat_run, false};

/* ---- split(x, num_splits | split_sizes, axis) ---------------------------------------- */

typedef struct split_attr {
    int32_t axis;
    bool even; /* num_splits: equal parts of the current size */
    int64_t sizes[];
} split_attr;

static cml_status split_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    uint32_t n = node->noutputs;
    split_attr *a = cml_mil_alloc(ctx, sizeof *a + sizeof(int64_t) * (n ? n : 1));
    if (!a) return CML_ERR_NOMEM;
    int64_t axis, ns = 0;
    CML_TRY(cml_mil_const_int(ctx, node, "axis", false, 0, &axis));
    if (!cml_milop_axis(axis, x->rank, &a->axis))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis %lld out of range",
                            (long long)axis);
    int64_t D = x->bound[a->axis];
    uint32_t count = 0;
    bool has_sizes = false;
    if (cml_mil_in(ctx, node, "split_sizes")) {
        int64_t *tmp = cml_mil_alloc(ctx, sizeof(int64_t) * (n + 1));
        if (!tmp) return CML_ERR_NOMEM;
        CML_TRY(cml_mil_const_ints(ctx, node, "split_sizes", tmp, n + 1, &count, &has_sizes));
        if (count != n)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "split_sizes has %u entries for %u outputs",
                                count, n);
        int64_t sum = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (tmp[i] < 0) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "negative split size");
            a->sizes[i] = tmp[i];
            sum += tmp[i];
        }
        if (sum != D && !x->dynamic)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "split sizes sum to %lld, dim is %lld",
                                (long long)sum, (long long)D);
    } else {
        CML_TRY(cml_mil_const_int(ctx, node, "num_splits", false, 0, &ns));
        if (ns != (int64_t)n || ns < 1 || D % ns)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                                "num_splits %lld does not split dim %lld into %u outputs",
                                (long long)ns, (long long)D, n);
        a->even = true;
        for (uint32_t i = 0; i < n; i++) a->sizes[i] = D / ns;
    }
    node->attr = a;
    for (uint32_t i = 0; i < n; i++) {
        int64_t shape[CML_MAX_DIMS];
        memcpy(shape, x->bound, sizeof shape);
        shape[a->axis] = a->sizes[i];
        CML_TRY(cml_milop_out_like(ctx, node, i, x, x->rank, shape, false));
    }
    return CML_OK;
}

static cml_status split_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const split_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x");
    uint32_t n = node->noutputs;
    int32_t r = x->rank, ax = a->axis;
    int64_t D = x->shape[ax], sum = 0;
    if (a->even && D % (int64_t)n)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "dim %lld does not split into %u parts",
                            (long long)D, n);
    for (uint32_t i = 0; i < n; i++) sum += a->even ? D / (int64_t)n : a->sizes[i];
    if (sum != D)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "split sizes do not add up to %lld",
                            (long long)D);
    int64_t xst[CML_MAX_DIMS], dst[CML_MAX_DIMS], off = 0;
    cml_milop_strides(r, x->shape, xst);
    size_t es = esz(x);
    for (uint32_t i = 0; i < n; i++) {
        cml_mil_value *out = cml_mil_out(ctx, node, i);
        int64_t shape[CML_MAX_DIMS];
        memcpy(shape, x->shape, sizeof(int64_t) * (size_t)r);
        shape[ax] = a->even ? D / (int64_t)n : a->sizes[i];
        CML_TRY(cml_mil_resize(ctx, out, r, shape));
        cml_milop_strides(r, shape, dst);
        if (cml_milop_prod(shape, 0, r) > 0)
            cml_k_copy_strided(es, r, shape, (const uint8_t *)x->data + off * xst[ax] * (int64_t)es,
                               xst, out->data, dst);
        off += shape[ax];
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_split = {"split", split_infer, split_run, false};

/* ---- stack(values, axis) ------------------------------------------------------------- */

static cml_status stack_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    const cml_mil_param *p = cml_mil_param_find(node, "values");
    if (!p || p->count == 0)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "'values' is empty");
    const cml_mil_value *v0 = cml_mil_value_at(ctx, p->vids[0]);
    int64_t axis;
    int32_t *ax = cml_mil_alloc(ctx, sizeof *ax);
    if (!ax) return CML_ERR_NOMEM;
    CML_TRY(cml_mil_const_int(ctx, node, "axis", false, 0, &axis));
    if (v0->rank + 1 > CML_MAX_DIMS || !cml_milop_axis(axis, v0->rank + 1, ax))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis %lld out of range",
                            (long long)axis);
    bool dyn = false;
    for (uint32_t i = 0; i < p->count; i++) {
        const cml_mil_value *v = cml_mil_value_at(ctx, p->vids[i]);
        if (v->kind != CML_MIL_KIND_TENSOR || esz(v) == 0 || v->rank != v0->rank ||
            esz(v) != esz(v0) || memcmp(v->bound, v0->bound, sizeof(int64_t) * (size_t)v0->rank) != 0)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "values must have equal shapes");
        dyn = dyn || v->dynamic;
    }
    node->attr = ax;
    int64_t shape[CML_MAX_DIMS];
    for (int32_t i = 0, k = 0; i <= v0->rank; i++) shape[i] = i == *ax ? (int64_t)p->count : v0->bound[k++];
    return cml_milop_out_like(ctx, node, 0, v0, v0->rank + 1, shape, dyn);
}

static cml_status stack_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    int32_t ax = *(const int32_t *)node->attr;
    const cml_mil_param *p = cml_mil_param_find(node, "values");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    const cml_mil_value *v0 = cml_mil_value_at(ctx, p->vids[0]);
    int32_t r = v0->rank;
    int64_t shape[CML_MAX_DIMS], ost[CML_MAX_DIMS], dst[CML_MAX_DIMS], src[CML_MAX_DIMS];
    for (int32_t i = 0, k = 0; i <= r; i++) shape[i] = i == ax ? (int64_t)p->count : v0->shape[k++];
    CML_TRY(cml_mil_resize(ctx, out, r + 1, shape));
    cml_milop_strides(r + 1, shape, ost);
    for (int32_t i = 0, k = 0; i <= r; i++)
        if (i != ax) dst[k++] = ost[i];
    size_t es = esz(out);
    for (uint32_t i = 0; i < p->count; i++) {
        const cml_mil_value *v = cml_mil_value_at(ctx, p->vids[i]);
        if (memcmp(v->shape, v0->shape, sizeof(int64_t) * (size_t)r) != 0)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "values must have equal shapes");
        cml_milop_strides(r, v->shape, src);
        if (cml_mil_numel(v) > 0)
            cml_k_copy_strided(es, r, v->shape, v->data, src,
                               (uint8_t *)out->data + (int64_t)i * ost[ax] * (int64_t)es, dst);
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_stack = {"stack", stack_infer, stack_run, false};

/* ---- tile(x, reps) -------------------------------------------------------------------
 * One copy over the 2r-dim view [rep_0, d_0, rep_1, d_1, ...] (rank <= 8). */

static cml_status tile_reps(cml_mil_ctx *ctx, const cml_mil_node *node, int32_t rank,
                            int64_t *reps) {
    uint32_t n;
    CML_TRY(cml_milop_read_ints(ctx, node, "reps", cml_mil_in(ctx, node, "reps"), reps,
                                CML_MAX_DIMS, &n));
    if ((int32_t)n != rank)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'reps' has %u entries, x has rank %d", n,
                            rank);
    for (int32_t i = 0; i < rank; i++)
        if (reps[i] < 0) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "negative reps");
    return CML_OK;
}

/* reps: const (each > 0, as coremltools requires) or a run-time vector
 * whose element bounds are known at load (cml_milop_int_bounds); the output
 * is then dynamic, bounded by x's bound times the reps bound. */
static cml_status tile_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *r = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(cml_mil_require(ctx, node, "reps", &r));
    if (x->rank == 0)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must have rank >= 1 (got a scalar)");
    if (x->rank > CML_MAX_DIMS / 2)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "tile of rank %d (at most 8)", x->rank);
    int64_t reps[CML_MAX_DIMS], shape[CML_MAX_DIMS];
    bool dyn = x->dynamic;
    if (cml_milop_known(r)) {
        CML_TRY(tile_reps(ctx, node, x->rank, reps));
        for (int32_t i = 0; i < x->rank; i++)
            if (reps[i] <= 0)
                return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "reps[%d] = %lld is not > 0",
                                    i, (long long)reps[i]);
    } else {
        uint32_t n = 0;
        if (!cml_milop_int_bounds(ctx, r, reps, CML_MAX_DIMS, &n))
            return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                                "run-time 'reps' has no upper bound known at load");
        if ((int32_t)n != x->rank)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'reps' has %u entries, x has rank %d",
                                n, x->rank);
        for (int32_t i = 0; i < x->rank; i++)
            if (reps[i] < 0)
                return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                                    "run-time reps[%d] has no upper bound known at load", i);
        dyn = true;
    }
    for (int32_t i = 0; i < x->rank; i++) {
        if (x->bound[i] && reps[i] > INT64_MAX / 8 / x->bound[i])
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "tiled dim %d is too large", i);
        shape[i] = x->bound[i] * reps[i];
    }
    return cml_milop_out_like(ctx, node, 0, x, x->rank, shape, dyn);
}

static cml_status tile_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int32_t r = x->rank;
    int64_t reps[CML_MAX_DIMS], shape[CML_MAX_DIMS], xs[CML_MAX_DIMS], os[CML_MAX_DIMS];
    CML_TRY(tile_reps(ctx, node, r, reps));
    for (int32_t i = 0; i < r; i++) {
        if (x->shape[i] && reps[i] > out->bound[i] / x->shape[i])
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                                "reps[%d] = %lld exceeds the bound planned at load (%lld)", i,
                                (long long)reps[i], (long long)(out->bound[i] / x->shape[i]));
        shape[i] = x->shape[i] * reps[i];
    }
    CML_TRY(cml_mil_resize(ctx, out, r, shape));
    if (cml_milop_prod(shape, 0, r) == 0) return CML_OK;
    cml_milop_strides(r, x->shape, xs);
    cml_milop_strides(r, shape, os);
    int64_t sz[CML_MAX_DIMS], src[CML_MAX_DIMS], dst[CML_MAX_DIMS];
    for (int32_t i = 0; i < r; i++) {
        sz[2 * i] = reps[i], sz[2 * i + 1] = x->shape[i];
        src[2 * i] = 0, src[2 * i + 1] = xs[i];
        dst[2 * i] = x->shape[i] * os[i], dst[2 * i + 1] = os[i];
    }
    cml_k_copy_strided(esz(x), 2 * r, sz, x->data, src, out->data, dst);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_tile = {"tile", tile_infer, tile_run, false};

/* ---- band_part(x, lower = -1, upper = -1) --------------------------------------------- */

static cml_status band_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    if (x->rank < 2) return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must have rank >= 2");
    if (esz(x) == 0) return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "bad dtype");
    return cml_milop_out_like(ctx, node, 0, x, x->rank, x->bound, false);
}

static cml_status band_scalar(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                              int64_t *out) {
    cml_mil_value *v = cml_mil_in(ctx, node, name);
    uint32_t n;
    *out = -1;
    if (!v) return CML_OK;
    CML_TRY(cml_milop_read_ints(ctx, node, name, v, out, 1, &n));
    if (n != 1) return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'%s' must be a scalar", name);
    return CML_OK;
}

static cml_status band_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int64_t lower, upper;
    CML_TRY(band_scalar(ctx, node, "lower", &lower));
    CML_TRY(band_scalar(ctx, node, "upper", &upper));
    CML_TRY(cml_mil_resize(ctx, out, x->rank, x->shape));
    int64_t M = x->shape[x->rank - 2], N = x->shape[x->rank - 1];
    int64_t batch = cml_milop_prod(x->shape, 0, x->rank - 2);
    size_t es = esz(x);
    const uint8_t *src = x->data;
    uint8_t *dst = out->data;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                size_t off = (size_t)((b * M + i) * N + j) * es;
                bool keep = (lower < 0 || i - j <= lower) && (upper < 0 || j - i <= upper);
                if (keep) memmove(dst + off, src + off, es);
                else memset(dst + off, 0, es);
            }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_band_part = {"band_part", band_infer, band_run, false};
