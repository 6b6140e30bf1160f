/*
 * Tensor creation and ordering: fill, fill_like, range_1d, cumsum, topk,
 * argsort, non_zero, pad.
 *
 * topk and argsort use a stable merge sort per row, so ties keep the lower
 * index first in both directions (NumPy's default sort is not stable;
 * coremltools' reference leaves the tie order unspecified).
 */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "mil/ops.h"

static size_t esz(const cml_mil_value *v) { return cml_dtype_size(v->dtype); }

/* ---- fill(shape, value = 0) / fill_like(ref_tensor, value = 0) ------------------------ */

static cml_status fill_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    bool like = strcmp(node->def->type, "fill_like") == 0;
    cml_mil_value *val = cml_mil_in(ctx, node, "value");
    cml_dtype dt = val ? val->dtype : CML_DTYPE_FLOAT32;
    bool fp16 = val ? val->fp16 : false;
    if (val && (val->kind != CML_MIL_KIND_TENSOR || cml_mil_bound_numel(val) != 1 ||
                cml_dtype_size(dt) == 0 || cml_dtype_size(dt) > 8))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'value' must be a scalar");
    if (like) {
        cml_mil_value *ref = NULL;
        CML_TRY(cml_mil_require(ctx, node, "ref_tensor", &ref));
        return cml_mil_set_output(ctx, node, 0, dt, fp16, ref->rank, ref->bound, ref->dynamic);
    }
    cml_mil_value *s = NULL;
    CML_TRY(cml_mil_require(ctx, node, "shape", &s));
    int64_t shape[CML_MAX_DIMS];
    uint32_t n = 0;
    bool runtime = !cml_milop_known(s);
    if (runtime) {
        /* a runtime shape needs compile-time bounds (shape(x), gather, concat, ...) */
        if (!cml_milop_int_bounds(ctx, s, shape, CML_MAX_DIMS, &n))
            return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                                "'shape' is computed at run time and has no known bound");
    } else {
        CML_TRY(cml_milop_read_ints(ctx, node, "shape", s, shape, CML_MAX_DIMS, &n));
    }
    for (uint32_t i = 0; i < n; i++)
        if (shape[i] < 0) return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "negative dimension");
    return cml_mil_set_output(ctx, node, 0, dt, fp16, (int32_t)n, shape, runtime);
}

static cml_status fill_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    bool like = strcmp(node->def->type, "fill_like") == 0;
    cml_mil_value *val = cml_mil_in(ctx, node, "value"), *out = cml_mil_out(ctx, node, 0);
    int32_t rank;
    int64_t shape[CML_MAX_DIMS];
    if (like) {
        cml_mil_value *ref = cml_mil_in(ctx, node, "ref_tensor");
        rank = ref->rank;
        memcpy(shape, ref->shape, sizeof shape);
    } else {
        uint32_t n;
        CML_TRY(cml_milop_read_ints(ctx, node, "shape", cml_mil_in(ctx, node, "shape"), shape,
                                    CML_MAX_DIMS, &n));
        rank = (int32_t)n;
    }
    CML_TRY(cml_mil_resize(ctx, out, rank, shape));
    int64_t n = cml_mil_numel(out);
    size_t es = esz(out);
    uint8_t one[8] = {0};
    if (val) memcpy(one, val->data, es);
    uint8_t *o = out->data;
    for (int64_t i = 0; i < n; i++) memcpy(o + (size_t)i * es, one, es);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_fill = {"fill", fill_infer, fill_run, false};
const cml_mil_op_def cml_mil_op_fill_like = {"fill_like", fill_infer, fill_run, false};

/* ---- range_1d(end, start, step) -------------------------------------------------------- */

static bool range_len(const cml_mil_value *e, const cml_mil_value *s, const cml_mil_value *st,
                      int64_t *n) {
    double end = cml_milop_get_num(e->data, e->dtype, 0), start = cml_milop_get_num(s->data, s->dtype, 0);
    double step = cml_milop_get_num(st->data, st->dtype, 0);
    if (step == 0 || !isfinite(end) || !isfinite(start) || !isfinite(step)) return false;
    double len = ceil((end - start) / step);
    if (len < 0) len = 0;
    if (len > 1e12) return false;
    *n = (int64_t)len;
    return true;
}

/* Bound of a run-time range length: start and step const (step > 0) and
 * an integer end with a compile-time upper bound (e.g. gather(shape(x))). */
static bool range_bound(cml_mil_ctx *ctx, const cml_mil_value *e, const cml_mil_value *s,
                        const cml_mil_value *st, int64_t *n) {
    int64_t eb;
    uint32_t cnt = 0;
    if (!cml_milop_known(s) || !cml_milop_known(st) || !cml_milop_is_int(e->dtype) ||
        !cml_milop_int_bounds(ctx, e, &eb, 1, &cnt) || cnt != 1)
        return false;
    int64_t start = cml_milop_get_int(s->data, s->dtype, 0), step = cml_milop_get_int(st->data, st->dtype, 0);
    if (step <= 0 || eb < 0 || eb > ((int64_t)1 << 40) || start < -((int64_t)1 << 40)) return false;
    *n = eb > start ? (eb - start + step - 1) / step : 0;
    return true;
}

/* coremltools: start, end and step are scalars of one dtype. Const operands
 * give an exact length; run-time ones a dynamic output bounded at load
 * (range_bound), or a load error naming the op when no bound is knowable. */
static cml_status range_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *e = NULL, *s = NULL, *st = NULL;
    CML_TRY(cml_mil_require(ctx, node, "end", &e));
    CML_TRY(cml_mil_require(ctx, node, "start", &s));
    CML_TRY(cml_mil_require(ctx, node, "step", &st));
    const cml_mil_value *vs[3] = {e, s, st};
    for (int i = 0; i < 3; i++)
        if (vs[i]->kind != CML_MIL_KIND_TENSOR || cml_mil_bound_numel(vs[i]) != 1 ||
            vs[i]->rank > 1 || (!cml_milop_is_int(vs[i]->dtype) && !cml_milop_is_float(vs[i]->dtype)))
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                                "start, end and step must be numeric scalars");
    if (e->dtype != s->dtype || st->dtype != s->dtype)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                            "start, end and step must have the same dtype");
    int64_t n;
    if (cml_milop_known(e) && cml_milop_known(s) && cml_milop_known(st)) {
        if (!range_len(e, s, st, &n))
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "bad range");
        return cml_mil_set_output(ctx, node, 0, s->dtype, s->fp16, 1, &n, false);
    }
    if (!range_bound(ctx, e, s, st, &n))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                            "run-time range has no length bound known at load (needs const "
                            "start, const step > 0 and an integer end with a known bound)");
    return cml_mil_set_output(ctx, node, 0, s->dtype, s->fp16, 1, &n, true);
}

static cml_status range_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *e = cml_mil_in(ctx, node, "end"), *s = cml_mil_in(ctx, node, "start");
    cml_mil_value *st = cml_mil_in(ctx, node, "step"), *out = cml_mil_out(ctx, node, 0);
    int64_t n;
    if (!range_len(e, s, st, &n)) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "bad range");
    CML_TRY(cml_mil_resize(ctx, out, 1, &n));
    double start = cml_milop_get_num(s->data, s->dtype, 0), step = cml_milop_get_num(st->data, st->dtype, 0);
    for (int64_t i = 0; i < n; i++) cml_milop_set_num(out->data, out->dtype, i, start + (double)i * step);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_range_1d = {"range_1d", range_infer, range_run, false};

/* ---- cumsum(x, axis = 0, exclusive = False, reverse = False) --------------------------- */

typedef struct cumsum_attr {
    int32_t axis;
    bool exclusive, reverse;
} cumsum_attr;

static cml_status cumsum_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    if (!cml_milop_is_float(x->dtype) && !cml_milop_is_int(x->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unsupported dtype %s",
                            cml_dtype_name(x->dtype));
    cumsum_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    int64_t axis;
    CML_TRY(cml_mil_const_int(ctx, node, "axis", true, 0, &axis));
    CML_TRY(cml_mil_const_bool(ctx, node, "exclusive", true, false, &a->exclusive));
    CML_TRY(cml_mil_const_bool(ctx, node, "reverse", true, false, &a->reverse));
    if (!cml_milop_axis(axis, x->rank, &a->axis))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis out of range");
    node->attr = a;
    return cml_milop_out_like(ctx, node, 0, x, x->rank, x->bound, false);
}

static cml_status cumsum_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const cumsum_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    CML_TRY(cml_mil_resize(ctx, out, x->rank, x->shape));
    int64_t outer = cml_milop_prod(x->shape, 0, a->axis), A = x->shape[a->axis];
    int64_t inner = cml_milop_prod(x->shape, a->axis + 1, x->rank);
    bool fl = cml_milop_is_float(x->dtype);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            float facc = 0;
            int64_t iacc = 0;
            for (int64_t k = 0; k < A; k++) {
                int64_t j = a->reverse ? A - 1 - k : k;
                int64_t off = (o * A + j) * inner + i;
                if (fl) {
                    float v = ((const float *)x->data)[off];
                    if (!a->exclusive) facc += v;
                    ((float *)out->data)[off] = facc;
                    if (a->exclusive) facc += v;
                } else {
                    int64_t v = cml_milop_get_int(x->data, x->dtype, off);
                    if (!a->exclusive) iacc += v;
                    cml_milop_set_int(out->data, out->dtype, off, iacc);
                    if (a->exclusive) iacc += v;
                }
            }
        }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_cumsum = {"cumsum", cumsum_infer, cumsum_run, false};

/* ---- topk / argsort ---------------------------------------------------------------------- */

typedef struct sort_attr {
    int32_t axis;
    int64_t k;       /* topk; -1 = argsort (all) */
    bool ascending, sorted;
} sort_attr;

/* Stable merge sort of idx[0..n) by vals (ascending or descending). */
static void merge_sort(int64_t *idx, int64_t *tmp, const double *vals, int64_t n, bool asc) {
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                double a = vals[idx[i]], b = vals[idx[j]];
                /* NaN sorts last in both directions */
                bool take_j = asc ? (b < a || (isnan(a) && !isnan(b)))
                                  : (b > a || (isnan(a) && !isnan(b)));
                tmp[k++] = take_j ? idx[j++] : idx[i++];
            }
            while (i < mid) tmp[k++] = idx[i++];
            while (j < hi) tmp[k++] = idx[j++];
        }
        memcpy(idx, tmp, sizeof(int64_t) * (size_t)n);
    }
}

static cml_status sort_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    bool topk = strcmp(node->def->type, "topk") == 0;
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    if ((!cml_milop_is_float(x->dtype) && !cml_milop_is_int(x->dtype)) || x->rank < 1)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "x must be a numeric tensor of rank >= 1");
    sort_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    int64_t axis;
    CML_TRY(cml_mil_const_int(ctx, node, "axis", true, -1, &axis));
    CML_TRY(cml_mil_const_bool(ctx, node, "ascending", true, false, &a->ascending));
    if (!cml_milop_axis(axis, x->rank, &a->axis))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis out of range");
    int64_t A = x->bound[a->axis];
    a->k = -1;
    a->sorted = true;
    cml_dtype idt = CML_DTYPE_INT32;
    if (topk) {
        const char *odt;
        bool ret_idx;
        CML_TRY(cml_mil_const_int(ctx, node, "k", true, 1, &a->k));
        CML_TRY(cml_mil_const_bool(ctx, node, "sort", true, true, &a->sorted));
        CML_TRY(cml_mil_const_bool(ctx, node, "return_indices", true, true, &ret_idx));
        CML_TRY(cml_mil_const_string(ctx, node, "output_indices_dtype", "int32", &odt));
        if (strcmp(odt, "uint16") == 0) idt = CML_DTYPE_UINT16;
        else if (strcmp(odt, "int32") != 0)
            return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "output_indices_dtype '%s'", odt);
        if (a->k < 0) a->k += A + 1; /* k = -1: all */
        if (a->k < 0 || (a->k > A && !x->dynamic))
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "k=%lld for an axis of %lld",
                                (long long)a->k, (long long)A);
    }
    node->attr = a;
    node->scratch = (size_t)A * (sizeof(double) + 2 * sizeof(int64_t));
    int64_t shape[CML_MAX_DIMS];
    memcpy(shape, x->bound, sizeof shape);
    if (topk) {
        shape[a->axis] = a->k;
        CML_TRY(cml_milop_out_like(ctx, node, 0, x, x->rank, shape, false));
        if (node->noutputs > 1)
            CML_TRY(cml_mil_set_output(ctx, node, 1, idt, false, x->rank, shape, x->dynamic));
        return CML_OK;
    }
    return cml_mil_set_output(ctx, node, 0, idt, false, x->rank, shape, x->dynamic);
}

static cml_status sort_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const sort_attr *a = node->attr;
    bool topk = a->k >= 0;
    cml_mil_value *x = cml_mil_in(ctx, node, "x");
    cml_mil_value *vals = topk ? cml_mil_out(ctx, node, 0) : NULL;
    cml_mil_value *inds = topk ? (node->noutputs > 1 ? cml_mil_out(ctx, node, 1) : NULL)
                               : cml_mil_out(ctx, node, 0);
    int64_t A = x->shape[a->axis], K = topk ? a->k : A;
    if (K > A) return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "k=%lld > axis size %lld",
                                   (long long)K, (long long)A);
    int64_t shape[CML_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[a->axis] = K;
    if (vals) CML_TRY(cml_mil_resize(ctx, vals, x->rank, shape));
    if (inds) CML_TRY(cml_mil_resize(ctx, inds, x->rank, shape));
    void *scr = NULL;
    CML_TRY(cml_milop_scratch(ctx, node, &scr));
    double *v = scr;
    int64_t *idx = (int64_t *)(v + A), *tmp = idx + A;
    int64_t outer = cml_milop_prod(x->shape, 0, a->axis);
    int64_t inner = cml_milop_prod(x->shape, a->axis + 1, x->rank);
    size_t es = esz(x);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            for (int64_t j = 0; j < A; j++) {
                v[j] = cml_milop_get_num(x->data, x->dtype, (o * A + j) * inner + i);
                idx[j] = j;
            }
            merge_sort(idx, tmp, v, A, a->ascending);
            if (topk && !a->sorted) {
                /* unsorted top-k: keep the selected elements in index order */
                for (int64_t p = 1; p < K; p++)
                    for (int64_t q = p; q > 0 && idx[q - 1] > idx[q]; q--) {
                        int64_t t = idx[q];
                        idx[q] = idx[q - 1];
                        idx[q - 1] = t;
                    }
            }
            for (int64_t j = 0; j < K; j++) {
                int64_t off = (o * K + j) * inner + i;
                if (inds) cml_milop_set_int(inds->data, inds->dtype, off, idx[j]);
                if (vals)
                    memcpy((uint8_t *)vals->data + (size_t)off * es,
                           (const uint8_t *)x->data + (size_t)((o * A + idx[j]) * inner + i) * es, es);
            }
        }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_topk = {"topk", sort_infer, sort_run, false};
const cml_mil_op_def cml_mil_op_argsort = {"argsort", sort_infer, sort_run, false};

/* ---- non_zero(x) -> int32 [count, rank] (data-dependent) --------------------------------- */

static cml_status nz_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    int64_t shape[2] = {cml_mil_bound_numel(x), x->rank};
    return cml_mil_set_output(ctx, node, 0, CML_DTYPE_INT32, false, 2, shape, true);
}

static cml_status nz_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int64_t n = cml_mil_numel(x), count = 0;
    for (int64_t i = 0; i < n; i++) count += cml_milop_get_num(x->data, x->dtype, i) != 0;
    int64_t shape[2] = {count, x->rank};
    CML_TRY(cml_mil_resize(ctx, out, 2, shape));
    int32_t *o = out->data;
    for (int64_t i = 0, k = 0; i < n; i++) {
        if (cml_milop_get_num(x->data, x->dtype, i) == 0) continue;
        int64_t rem = i;
        for (int32_t d = x->rank - 1; d >= 0; d--) {
            o[k * x->rank + d] = (int32_t)(rem % x->shape[d]);
            rem /= x->shape[d];
        }
        k++;
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_non_zero = {"non_zero", nz_infer, nz_run, false};

/* ---- pad(x, pad, mode = constant, constant_val = 0) -------------------------------------
 * pad holds (before, after) pairs for the last len(pad)/2 dims. reflect
 * mirrors without repeating the edge (pad <= D - 1); replicate repeats it. */

typedef enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_REPLICATE } pad_mode;

typedef struct pad_attr {
    pad_mode mode;
    double value;
    int64_t before[CML_MAX_DIMS], after[CML_MAX_DIMS];
    bool runtime; /* pad read at run time (before/after unused) */
} pad_attr;

/* Reads the pad pairs into before/after (dims first..rank-1); fails on
 * odd counts, too many pairs or negative pads. */
static cml_status pad_pairs(cml_mil_ctx *ctx, const cml_mil_node *node, const int64_t *v,
                            uint32_t n, int32_t rank, int64_t *before, int64_t *after) {
    if (n % 2 || (int32_t)n / 2 > rank)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'pad' has %u entries for rank %d", n, rank);
    int32_t first = rank - (int32_t)n / 2;
    for (int32_t d = 0; d < rank; d++) {
        before[d] = d >= first ? v[2 * (d - first)] : 0;
        after[d] = d >= first ? v[2 * (d - first) + 1] : 0;
        if (before[d] < 0 || after[d] < 0)
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "negative pad at dim %d", d);
        if (before[d] > ((int64_t)1 << 40) || after[d] > ((int64_t)1 << 40))
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "pad too large at dim %d", d);
    }
    return CML_OK;
}

/* A const pad is read once; a run-time pad (coremltools: shape [2 * rank])
 * needs element bounds known at load and makes the output dynamic. */
static cml_status pad_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *p = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(cml_mil_require(ctx, node, "pad", &p));
    pad_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    memset(a, 0, sizeof *a);
    const char *mode;
    CML_TRY(cml_mil_const_string(ctx, node, "mode", "constant", &mode));
    CML_TRY(cml_mil_const_float(ctx, node, "constant_val", true, 0, &a->value));
    if (strcmp(mode, "constant") == 0) a->mode = PAD_CONSTANT;
    else if (strcmp(mode, "reflect") == 0) a->mode = PAD_REFLECT;
    else if (strcmp(mode, "replicate") == 0) a->mode = PAD_REPLICATE;
    else return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unknown pad mode '%s'", mode);
    int64_t v[2 * CML_MAX_DIMS], before[CML_MAX_DIMS], after[CML_MAX_DIMS];
    uint32_t n = 0;
    a->runtime = !cml_milop_known(p);
    if (!a->runtime) {
        CML_TRY(cml_milop_read_ints(ctx, node, "pad", p, v, 2 * CML_MAX_DIMS, &n));
    } else {
        if (p->rank != 1 || p->bound[0] != 2 * (int64_t)x->rank || !cml_milop_is_int(p->dtype))
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                                "run-time 'pad' must be an integer vector of %d entries",
                                2 * x->rank);
        if (!cml_milop_int_bounds(ctx, p, v, 2 * CML_MAX_DIMS, &n))
            return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                                "run-time 'pad' has no upper bound known at load");
    }
    CML_TRY(pad_pairs(ctx, node, v, n, x->rank, before, after));
    int64_t shape[CML_MAX_DIMS];
    for (int32_t d = 0; d < x->rank; d++) {
        if (!a->runtime) a->before[d] = before[d], a->after[d] = after[d];
        shape[d] = x->bound[d] + before[d] + after[d];
    }
    node->attr = a;
    return cml_milop_out_like(ctx, node, 0, x, x->rank, shape, a->runtime);
}

/* Source index of output coordinate o along a dim of size D, or -1 (constant). */
static int64_t pad_src(pad_mode m, int64_t o, int64_t before, int64_t D) {
    int64_t i = o - before;
    if (i >= 0 && i < D) return i;
    if (m == PAD_CONSTANT) return -1;
    if (m == PAD_REPLICATE) return i < 0 ? 0 : D - 1;
    if (D == 1) return 0;
    int64_t period = 2 * (D - 1);
    i = i % period;
    if (i < 0) i += period;
    return i < D ? i : period - i;
}

static cml_status pad_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const pad_attr *attr = node->attr;
    pad_attr rt;
    const pad_attr *a = attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int32_t r = x->rank;
    if (attr->runtime) {
        int64_t v[2 * CML_MAX_DIMS];
        uint32_t n;
        rt = *attr;
        CML_TRY(cml_milop_read_ints(ctx, node, "pad", cml_mil_in(ctx, node, "pad"), v,
                                    2 * CML_MAX_DIMS, &n));
        CML_TRY(pad_pairs(ctx, node, v, n, r, rt.before, rt.after));
        a = &rt;
    }
    int64_t shape[CML_MAX_DIMS], xs[CML_MAX_DIMS], idx[CML_MAX_DIMS] = {0};
    for (int32_t d = 0; d < r; d++) {
        shape[d] = x->shape[d] + a->before[d] + a->after[d];
        if (a->mode == PAD_REFLECT && (a->before[d] >= x->shape[d] || a->after[d] >= x->shape[d]) &&
            (a->before[d] || a->after[d]))
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "reflect pad must be < the dim (%lld)",
                                (long long)x->shape[d]);
        if (x->shape[d] == 0 && (a->before[d] || a->after[d]) && a->mode != PAD_CONSTANT)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "cannot %s-pad an empty dim",
                                a->mode == PAD_REFLECT ? "reflect" : "replicate");
    }
    CML_TRY(cml_mil_resize(ctx, out, r, shape));
    int64_t n = cml_mil_numel(out);
    if (n == 0) return CML_OK;
    cml_milop_strides(r, x->shape, xs);
    size_t es = esz(x);
    uint8_t cval[8] = {0};
    cml_milop_set_num(cval, x->dtype, 0, a->value);
    const uint8_t *src = x->data;
    uint8_t *dst = out->data;
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        bool constant = false;
        for (int32_t d = 0; d < r && !constant; d++) {
            int64_t s = pad_src(a->mode, idx[d], a->before[d], x->shape[d]);
            if (s < 0) constant = true;
            else off += s * xs[d];
        }
        memcpy(dst + (size_t)i * es, constant ? cval : src + (size_t)off * es, es);
        for (int32_t d = r - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) break;
            idx[d] = 0;
        }
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_pad = {"pad", pad_infer, pad_run, false};
