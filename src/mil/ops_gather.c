/*
 * gather (axis, batch_dims), gather_along_axis, gather_nd (batch_dims),
 * scatter, scatter_along_axis, scatter_nd (modes update/add/sub/mul/div/
 * max/min), one_hot.
 *
 * Indices may be any integer dtype (int32; int16/uint16 from fp16 programs;
 * int8/uint8 at iOS17). Negative indices count from the end at every
 * opset (legal up to iOS16, guarded by coremltools from iOS17, so
 * accepting them costs nothing). Every index is checked at run time; an
 * out-of-range index fails the op with a message naming it.
 */
#include <string.h>

#include "kernels/kernels.h"
#include "mil/ops.h"

static size_t esz(const cml_mil_value *v) { return cml_dtype_size(v->dtype); }

static cml_status index_check(cml_mil_ctx *ctx, const cml_mil_node *node, const cml_mil_value *ix,
                              int64_t pos, int64_t dim, int64_t *out) {
    int64_t v = cml_milop_get_int(ix->data, ix->dtype, pos);
    int64_t w = v < 0 ? v + dim : v;
    if (w < 0 || w >= dim)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG,
                            "index %lld (at position %lld) is out of range for a dimension of %lld",
                            (long long)v, (long long)pos, (long long)dim);
    *out = w;
    return CML_OK;
}

static cml_status require_indices(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                                  cml_mil_value **out) {
    CML_TRY(cml_mil_require(ctx, node, name, out));
    if (!cml_milop_is_int((*out)->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "'%s' must be integer, got %s", name,
                            cml_dtype_name((*out)->dtype));
    return CML_OK;
}

/* ---- gather(x, indices, axis = 0, batch_dims = 0) --------------------------------- */

typedef struct gather_attr {
    int32_t axis, batch_dims;
} gather_attr;

static bool gather_shape(const gather_attr *a, const cml_mil_value *x, const int64_t *xs,
                         const cml_mil_value *ix, const int64_t *is, int32_t *rank, int64_t *out) {
    int32_t k = 0;
    for (int32_t i = 0; i < a->batch_dims; i++)
        if (xs[i] != is[i]) return false;
    for (int32_t i = 0; i < a->axis; i++) out[k++] = xs[i];
    for (int32_t i = a->batch_dims; i < ix->rank; i++) out[k++] = is[i];
    for (int32_t i = a->axis + 1; i < x->rank; i++) out[k++] = xs[i];
    *rank = k;
    return k <= CML_MAX_DIMS;
}

static cml_status gather_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *ix = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(require_indices(ctx, node, "indices", &ix));
    gather_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    int64_t axis, bd;
    CML_TRY(cml_mil_const_int(ctx, node, "axis", true, 0, &axis));
    CML_TRY(cml_mil_const_int(ctx, node, "batch_dims", true, 0, &bd));
    if (!cml_milop_axis(axis, x->rank, &a->axis))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis %lld out of range",
                            (long long)axis);
    if (bd < 0) bd += ix->rank;
    if (bd < 0 || bd > ix->rank || bd > a->axis)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "bad batch_dims %lld", (long long)bd);
    a->batch_dims = (int32_t)bd;
    node->attr = a;
    int32_t rank;
    int64_t shape[CML_MAX_DIMS];
    if (!gather_shape(a, x, x->bound, ix, ix->bound, &rank, shape))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "batch dims of x and indices differ");
    return cml_milop_out_like(ctx, node, 0, x, rank, shape, ix->dynamic);
}

static cml_status gather_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const gather_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *ix = cml_mil_in(ctx, node, "indices");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    int32_t rank;
    int64_t shape[CML_MAX_DIMS];
    if (!gather_shape(a, x, x->shape, ix, ix->shape, &rank, shape))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "batch dims of x and indices differ");
    CML_TRY(cml_mil_resize(ctx, out, rank, shape));
    int64_t B = cml_milop_prod(x->shape, 0, a->batch_dims);
    int64_t P = cml_milop_prod(x->shape, a->batch_dims, a->axis);
    int64_t A = x->shape[a->axis], R = cml_milop_prod(x->shape, a->axis + 1, x->rank);
    int64_t Ni = cml_milop_prod(ix->shape, a->batch_dims, ix->rank);
    size_t row = (size_t)R * esz(x);
    /* validate every index first: the output stays untouched on error */
    for (int64_t i = 0, n = B * Ni; i < n; i++) {
        int64_t w = 0;
        CML_TRY(index_check(ctx, node, ix, i, A, &w));
    }
    const uint8_t *xd = x->data;
    uint8_t *od = out->data;
    /* a table kept as fp16 bits (mil.h half) is widened row by row */
    size_t src_row = x->half ? (size_t)R * sizeof(uint16_t) : row;
    for (int64_t b = 0; b < B; b++)
        for (int64_t p = 0; p < P; p++)
            for (int64_t i = 0; i < Ni; i++) {
                int64_t w = cml_milop_get_int(ix->data, ix->dtype, b * Ni + i);
                if (w < 0) w += A;
                uint8_t *dst = od + (size_t)(((b * P + p) * Ni + i)) * row;
                const uint8_t *src = xd + (size_t)(((b * P + p) * A + w)) * src_row;
                if (x->half)
                    cml_k_convert(CML_DTYPE_FLOAT16, src, CML_DTYPE_FLOAT32, dst, (size_t)R);
                else
                    memcpy(dst, src, row);
            }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_gather = {"gather", gather_infer, gather_run, false};

/* ---- gather_along_axis(x, indices, axis = 0) / scatter_along_axis ---------------------
 * out[p..., i, q...] = x[p..., indices[p..., i, q...], q...]; indices may be
 * smaller than x on the other dims (torch.gather). */

static cml_status along_axis(cml_mil_ctx *ctx, const cml_mil_node *node, const cml_mil_value *x,
                             const cml_mil_value *ix, int64_t *axis_out) {
    int64_t axis;
    int32_t ax;
    CML_TRY(cml_mil_const_int(ctx, node, "axis", true, 0, &axis));
    if (!cml_milop_axis(axis, x->rank, &ax) || ix->rank != x->rank)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG,
                            "indices must have x's rank and axis must be in range");
    *axis_out = ax;
    return CML_OK;
}

static cml_status gaa_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *ix = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(require_indices(ctx, node, "indices", &ix));
    int64_t *ax = cml_mil_alloc(ctx, sizeof *ax);
    if (!ax) return CML_ERR_NOMEM;
    CML_TRY(along_axis(ctx, node, x, ix, ax));
    node->attr = ax;
    return cml_milop_out_like(ctx, node, 0, x, ix->rank, ix->bound, ix->dynamic);
}

/* Offset into x (shape xs) of the element addressed by indices position pos;
 * idx_w is the already-normalized index. */
static int64_t along_offset(int32_t rank, const int64_t *is, const int64_t *xst, int32_t ax,
                            int64_t pos, int64_t idx_w) {
    int64_t off = 0;
    for (int32_t d = rank - 1; d >= 0; d--) {
        int64_t c = pos % is[d];
        pos /= is[d];
        off += (d == ax ? idx_w : c) * xst[d];
    }
    return off;
}

static bool fits(int32_t rank, const int64_t *is, const int64_t *xs, int32_t ax) {
    for (int32_t d = 0; d < rank; d++)
        if (d != ax && is[d] > xs[d]) return false;
    return true;
}

static cml_status gaa_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    int32_t ax = (int32_t)*(const int64_t *)node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *ix = cml_mil_in(ctx, node, "indices");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    if (!fits(x->rank, ix->shape, x->shape, ax))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "indices are larger than x");
    CML_TRY(cml_mil_resize(ctx, out, ix->rank, ix->shape));
    int64_t n = cml_mil_numel(ix), xst[CML_MAX_DIMS], w = 0;
    cml_milop_strides(x->rank, x->shape, xst);
    for (int64_t i = 0; i < n; i++) CML_TRY(index_check(ctx, node, ix, i, x->shape[ax], &w));
    size_t es = esz(x);
    for (int64_t i = 0; i < n; i++) {
        int64_t v = cml_milop_get_int(ix->data, ix->dtype, i);
        if (v < 0) v += x->shape[ax];
        int64_t off = along_offset(x->rank, ix->shape, xst, ax, i, v);
        memcpy((uint8_t *)out->data + (size_t)i * es, (const uint8_t *)x->data + (size_t)off * es, es);
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_gather_along_axis = {"gather_along_axis", gaa_infer, gaa_run, false};

/* ---- gather_nd(x, indices[..., k], batch_dims = 0) --------------------------------- */

static bool gnd_shape(int32_t bd, const cml_mil_value *x, const int64_t *xs, const cml_mil_value *ix,
                      const int64_t *is, int32_t *rank, int64_t *out) {
    if (ix->rank < 1) return false;
    int64_t k = is[ix->rank - 1];
    if (bd + k > x->rank || bd > ix->rank - 1) return false;
    for (int32_t i = 0; i < bd; i++)
        if (xs[i] != is[i]) return false;
    int32_t r = 0;
    for (int32_t i = 0; i < ix->rank - 1; i++) out[r++] = is[i];
    for (int32_t i = bd + (int32_t)k; i < x->rank; i++) out[r++] = xs[i];
    *rank = r;
    return r <= CML_MAX_DIMS;
}

static cml_status gnd_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *ix = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(require_indices(ctx, node, "indices", &ix));
    int64_t bd;
    CML_TRY(cml_mil_const_int(ctx, node, "batch_dims", true, 0, &bd));
    if (bd < 0 || bd >= CML_MAX_DIMS)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "bad batch_dims");
    int32_t *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    *a = (int32_t)bd;
    node->attr = a;
    int32_t rank;
    int64_t shape[CML_MAX_DIMS];
    if (!gnd_shape(*a, x, x->bound, ix, ix->bound, &rank, shape))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "indices do not fit x");
    return cml_milop_out_like(ctx, node, 0, x, rank, shape, ix->dynamic);
}

static cml_status gnd_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    int32_t bd = *(const int32_t *)node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *ix = cml_mil_in(ctx, node, "indices");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    int32_t rank;
    int64_t shape[CML_MAX_DIMS];
    if (!gnd_shape(bd, x, x->shape, ix, ix->shape, &rank, shape))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "indices do not fit x");
    CML_TRY(cml_mil_resize(ctx, out, rank, shape));
    int32_t k = (int32_t)ix->shape[ix->rank - 1];
    int64_t B = cml_milop_prod(x->shape, 0, bd);
    int64_t M = cml_milop_prod(ix->shape, bd, ix->rank - 1);
    int64_t R = cml_milop_prod(x->shape, bd + k, x->rank);
    int64_t xb = cml_milop_prod(x->shape, bd, x->rank);
    int64_t st[CML_MAX_DIMS];
    cml_milop_strides(k, x->shape + bd, st);
    size_t row = (size_t)R * esz(x);
    for (int pass = 0; pass < 2; pass++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t m = 0; m < M; m++) {
                int64_t off = 0;
                for (int32_t j = 0; j < k; j++) {
                    int64_t w = 0;
                    CML_TRY(index_check(ctx, node, ix, (b * M + m) * k + j, x->shape[bd + j], &w));
                    off += w * st[j];
                }
                if (pass == 1)
                    memcpy((uint8_t *)out->data + (size_t)(b * M + m) * row,
                           (const uint8_t *)x->data + (size_t)(b * xb + off * R) * esz(x), row);
            }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_gather_nd = {"gather_nd", gnd_infer, gnd_run, false};

/* ---- scatter family ------------------------------------------------------------------ */

typedef enum sc_mode { SC_UPDATE, SC_ADD, SC_SUB, SC_MUL, SC_DIV, SC_MAX, SC_MIN } sc_mode;

typedef struct sc_attr {
    sc_mode mode;
    int32_t axis;
} sc_attr;

static cml_status sc_common(cml_mil_ctx *ctx, cml_mil_node *node, cml_mil_value **d,
                            cml_mil_value **ix, cml_mil_value **u, sc_attr **out) {
    CML_TRY(cml_mil_require(ctx, node, "data", d));
    CML_TRY(require_indices(ctx, node, "indices", ix));
    CML_TRY(cml_mil_require(ctx, node, "updates", u));
    if (esz(*u) != esz(*d) || cml_milop_is_float((*u)->dtype) != cml_milop_is_float((*d)->dtype) ||
        (*d)->dtype == CML_DTYPE_BOOL)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "updates must have data's dtype");
    sc_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    const char *m;
    CML_TRY(cml_mil_const_string(ctx, node, "mode", "add", &m));
    static const char *const names[] = {"update", "add", "sub", "mul", "div", "max", "min"};
    int found = -1;
    for (int i = 0; i < 7; i++)
        if (strcmp(m, names[i]) == 0) found = i;
    if (found < 0) return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unknown mode '%s'", m);
    a->mode = (sc_mode)found;
    *out = a;
    node->attr = a;
    return CML_OK;
}

/* out[o] = out[o] (mode) upd[u] */
static void sc_apply(sc_mode mode, cml_mil_value *out, int64_t o, const cml_mil_value *upd, int64_t u) {
    if (cml_milop_is_float(out->dtype)) {
        float *p = (float *)out->data + o, v = ((const float *)upd->data)[u];
        switch (mode) {
        case SC_UPDATE: *p = v; break;
        case SC_ADD: *p += v; break;
        case SC_SUB: *p -= v; break;
        case SC_MUL: *p *= v; break;
        case SC_DIV: *p /= v; break;
        case SC_MAX: *p = v > *p ? v : *p; break;
        case SC_MIN: *p = v < *p ? v : *p; break;
        }
        return;
    }
    int64_t cur = cml_milop_get_int(out->data, out->dtype, o);
    int64_t v = cml_milop_get_int(upd->data, upd->dtype, u), r = v;
    switch (mode) {
    case SC_UPDATE: r = v; break;
    case SC_ADD: r = cur + v; break;
    case SC_SUB: r = cur - v; break;
    case SC_MUL: r = cur * v; break;
    case SC_DIV: r = v ? cur / v : 0; break;
    case SC_MAX: r = v > cur ? v : cur; break;
    case SC_MIN: r = v < cur ? v : cur; break;
    }
    cml_milop_set_int(out->data, out->dtype, o, r);
}

static cml_status sc_copy_data(cml_mil_ctx *ctx, cml_mil_value *out, const cml_mil_value *d) {
    CML_TRY(cml_mil_resize(ctx, out, d->rank, d->shape));
    size_t n = (size_t)cml_mil_numel(d) * esz(d);
    if (n && out->data != d->data) memcpy(out->data, d->data, n);
    return CML_OK;
}

/* scatter: updates = data[:axis] + indices.shape + data[axis+1:] */
static cml_status scatter_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *d = NULL, *ix = NULL, *u = NULL;
    sc_attr *a = NULL;
    CML_TRY(sc_common(ctx, node, &d, &ix, &u, &a));
    int64_t axis;
    CML_TRY(cml_mil_const_int(ctx, node, "axis", true, 0, &axis));
    if (!cml_milop_axis(axis, d->rank, &a->axis))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis out of range");
    if (cml_mil_bound_numel(u) != cml_milop_prod(d->bound, 0, a->axis) * cml_mil_bound_numel(ix) *
                                      cml_milop_prod(d->bound, a->axis + 1, d->rank))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "updates do not match data and indices");
    return cml_milop_out_like(ctx, node, 0, d, d->rank, d->bound, false);
}

static cml_status scatter_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const sc_attr *a = node->attr;
    cml_mil_value *d = cml_mil_in(ctx, node, "data"), *ix = cml_mil_in(ctx, node, "indices");
    cml_mil_value *u = cml_mil_in(ctx, node, "updates"), *out = cml_mil_out(ctx, node, 0);
    int64_t P = cml_milop_prod(d->shape, 0, a->axis), A = d->shape[a->axis];
    int64_t R = cml_milop_prod(d->shape, a->axis + 1, d->rank), C = cml_mil_numel(ix), w = 0;
    if (cml_mil_numel(u) != P * C * R)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "updates do not match data and indices");
    for (int64_t i = 0; i < C; i++) CML_TRY(index_check(ctx, node, ix, i, A, &w));
    CML_TRY(sc_copy_data(ctx, out, d));
    for (int64_t p = 0; p < P; p++)
        for (int64_t i = 0; i < C; i++) {
            CML_TRY(index_check(ctx, node, ix, i, A, &w));
            for (int64_t r = 0; r < R; r++)
                sc_apply(a->mode, out, (p * A + w) * R + r, u, (p * C + i) * R + r);
        }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_scatter = {"scatter", scatter_infer, scatter_run, false};

static cml_status saa_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *d = NULL, *ix = NULL, *u = NULL;
    sc_attr *a = NULL;
    int64_t ax = 0;
    CML_TRY(sc_common(ctx, node, &d, &ix, &u, &a));
    CML_TRY(along_axis(ctx, node, d, ix, &ax));
    a->axis = (int32_t)ax;
    if (cml_mil_bound_numel(u) != cml_mil_bound_numel(ix))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "updates must have the indices' shape");
    return cml_milop_out_like(ctx, node, 0, d, d->rank, d->bound, false);
}

static cml_status saa_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const sc_attr *a = node->attr;
    cml_mil_value *d = cml_mil_in(ctx, node, "data"), *ix = cml_mil_in(ctx, node, "indices");
    cml_mil_value *u = cml_mil_in(ctx, node, "updates"), *out = cml_mil_out(ctx, node, 0);
    int64_t n = cml_mil_numel(ix), st[CML_MAX_DIMS], w = 0;
    if (cml_mil_numel(u) != n || !fits(d->rank, ix->shape, d->shape, a->axis))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "indices/updates do not fit data");
    for (int64_t i = 0; i < n; i++) CML_TRY(index_check(ctx, node, ix, i, d->shape[a->axis], &w));
    CML_TRY(sc_copy_data(ctx, out, d));
    cml_milop_strides(d->rank, d->shape, st);
    for (int64_t i = 0; i < n; i++) {
        CML_TRY(index_check(ctx, node, ix, i, d->shape[a->axis], &w));
        sc_apply(a->mode, out, along_offset(d->rank, ix->shape, st, a->axis, i, w), u, i);
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_scatter_along_axis = {"scatter_along_axis", saa_infer, saa_run, false};

/* scatter_nd: indices [..., k], updates = indices.shape[:-1] + data.shape[k:] */
static cml_status snd_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *d = NULL, *ix = NULL, *u = NULL;
    sc_attr *a = NULL;
    CML_TRY(sc_common(ctx, node, &d, &ix, &u, &a));
    if (ix->rank < 1 || ix->bound[ix->rank - 1] > d->rank)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "indices' last dim must be <= data's rank");
    return cml_milop_out_like(ctx, node, 0, d, d->rank, d->bound, false);
}

static cml_status snd_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const sc_attr *a = node->attr;
    cml_mil_value *d = cml_mil_in(ctx, node, "data"), *ix = cml_mil_in(ctx, node, "indices");
    cml_mil_value *u = cml_mil_in(ctx, node, "updates"), *out = cml_mil_out(ctx, node, 0);
    int32_t k = (int32_t)ix->shape[ix->rank - 1];
    if (k > d->rank) return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "indices do not fit data");
    int64_t M = cml_milop_prod(ix->shape, 0, ix->rank - 1), R = cml_milop_prod(d->shape, k, d->rank);
    int64_t st[CML_MAX_DIMS], w = 0;
    if (cml_mil_numel(u) != M * R)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "updates do not match indices and data");
    for (int64_t i = 0; i < M * k; i++) CML_TRY(index_check(ctx, node, ix, i, d->shape[i % k], &w));
    CML_TRY(sc_copy_data(ctx, out, d));
    cml_milop_strides(k, d->shape, st);
    for (int64_t m = 0; m < M; m++) {
        int64_t off = 0;
        for (int32_t j = 0; j < k; j++) {
            CML_TRY(index_check(ctx, node, ix, m * k + j, d->shape[j], &w));
            off += w * st[j];
        }
        for (int64_t r = 0; r < R; r++) sc_apply(a->mode, out, off * R + r, u, m * R + r);
    }
    (void)a;
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_scatter_nd = {"scatter_nd", snd_infer, snd_run, false};

/* ---- one_hot(indices, one_hot_vector_size, axis = -1, on_value = 1, off_value = 0) ---- */

typedef struct oh_attr {
    int32_t axis;
    int64_t depth;
    double on, off;
} oh_attr;

static cml_status oh_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *ix = NULL;
    CML_TRY(require_indices(ctx, node, "indices", &ix));
    oh_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    int64_t axis;
    CML_TRY(cml_mil_const_int(ctx, node, "one_hot_vector_size", false, 0, &a->depth));
    CML_TRY(cml_mil_const_int(ctx, node, "axis", true, -1, &axis));
    CML_TRY(cml_mil_const_float(ctx, node, "on_value", true, 1, &a->on));
    CML_TRY(cml_mil_const_float(ctx, node, "off_value", true, 0, &a->off));
    if (a->depth < 0 || ix->rank + 1 > CML_MAX_DIMS || !cml_milop_axis(axis, ix->rank + 1, &a->axis))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "bad one_hot_vector_size or axis");
    node->attr = a;
    cml_mil_value *on = cml_mil_in(ctx, node, "on_value");
    cml_dtype dt = on ? on->dtype : CML_DTYPE_INT32;
    bool fp16 = on ? on->fp16 : false;
    int64_t shape[CML_MAX_DIMS];
    for (int32_t i = 0, k = 0; i <= ix->rank; i++) shape[i] = i == a->axis ? a->depth : ix->bound[k++];
    return cml_mil_set_output(ctx, node, 0, dt, fp16, ix->rank + 1, shape, ix->dynamic);
}

static cml_status oh_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const oh_attr *a = node->attr;
    cml_mil_value *ix = cml_mil_in(ctx, node, "indices"), *out = cml_mil_out(ctx, node, 0);
    int64_t shape[CML_MAX_DIMS];
    for (int32_t i = 0, k = 0; i <= ix->rank; i++) shape[i] = i == a->axis ? a->depth : ix->shape[k++];
    CML_TRY(cml_mil_resize(ctx, out, ix->rank + 1, shape));
    int64_t outer = cml_milop_prod(ix->shape, 0, a->axis), inner = cml_milop_prod(ix->shape, a->axis, ix->rank);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t d = 0; d < a->depth; d++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t v = cml_milop_get_int(ix->data, ix->dtype, o * inner + i);
                if (v < 0) v += a->depth;
                cml_milop_set_num(out->data, out->dtype, (o * a->depth + d) * inner + i,
                                  v == d ? a->on : a->off);
            }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_one_hot = {"one_hot", oh_infer, oh_run, false};
