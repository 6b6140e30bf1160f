/*
 * Shape ops: reshape, reshape_like, transpose, expand_dims, squeeze,
 * flatten2d, shape, reverse, pixel_shuffle/unshuffle, depth_to_space,
 * space_to_depth. All dtypes (element size only matters).
 */
#include <string.h>

#include "kernels/kernels.h"
#include "mil/ops.h"

static size_t esize(const cml_mil_value *v) { return cml_dtype_size(v->dtype); }

static void copy_data(cml_mil_value *out, const cml_mil_value *x) {
    size_t n = (size_t)cml_mil_numel(x) * esize(x);
    if (n && out->data != x->data) memmove(out->data, x->data, n);
}

/* Copies x into out (contiguous) reading x through `src` strides over `sizes`. */
static void gather_copy(const cml_mil_value *x, int32_t rank, const int64_t *sizes,
                        const int64_t *src, int64_t src_off, cml_mil_value *out) {
    int64_t dst[CML_MAX_DIMS];
    if (cml_milop_prod(sizes, 0, rank) == 0) return;
    cml_milop_strides(rank, sizes, dst);
    cml_k_copy_strided(esize(x), rank, sizes, (const uint8_t *)x->data + src_off * (int64_t)esize(x),
                       src, out->data, dst);
}

/* ---- reshape(x, shape) -------------------------------------------------------- */

typedef struct reshape_attr {
    bool runtime;     /* shape read at run time */
    int32_t k;        /* output rank */
    int64_t spec[CML_MAX_DIMS];
    bool right_align; /* iOS17 0 semantics */
} reshape_attr;

/* Applies the 0 / -1 rules; false with a message index on failure. */
static bool reshape_solve(const reshape_attr *a, const int64_t *spec, int32_t k, int32_t xr,
                          const int64_t *xs, int64_t *out) {
    int64_t numel = cml_milop_prod(xs, 0, xr), known = 1;
    int32_t neg = -1;
    for (int32_t i = 0; i < k; i++) {
        int64_t d = spec[i];
        if (d == 0) {
            if (a->right_align) {
                int32_t j = xr - (k - i);
                d = j >= 0 ? xs[j] : 1;
            } else {
                if (k != xr) return false;
                d = xs[i];
            }
        }
        if (d == -1) {
            if (neg >= 0) return false;
            neg = i;
            out[i] = 1;
            continue;
        }
        if (d < 0) return false;
        out[i] = d;
        known *= d;
    }
    if (neg >= 0) {
        if (known == 0) return false;
        out[neg] = numel / known;
    }
    return cml_milop_prod(out, 0, k) == numel;
}

static cml_status reshape_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *s = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(cml_mil_require(ctx, node, "shape", &s));
    if (s->rank > 1 || !cml_milop_is_int(s->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "'shape' must be an integer vector");
    reshape_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    a->right_align = ctx->g && ctx->g->opset >= 17;
    int64_t k = cml_mil_bound_numel(s);
    if (k > CML_MAX_DIMS)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "output rank %lld", (long long)k);
    a->k = (int32_t)k;
    node->attr = a;
    int64_t shape[CML_MAX_DIMS];
    if (!cml_milop_known(s)) {
        /* Shape known only at run time. Per-dim upper bounds come from the
         * shape's producers when they can be followed (shape/gather/concat
         * of x's bounds and consts); -1 and unknowns are bounded by x's
         * element count. Without them the bound is [numel, 1, ...]. */
        a->runtime = true;
        int64_t nb = cml_mil_bound_numel(x), ub[CML_MAX_DIMS];
        uint32_t nub = 0;
        bool have = cml_milop_int_bounds(ctx, s, ub, CML_MAX_DIMS, &nub) && nub == (uint32_t)a->k;
        for (int32_t i = 0; i < a->k; i++) {
            int64_t d = have ? ub[i] : -2;
            if (have && d == 0) {
                int32_t j = a->right_align ? x->rank - (a->k - i) : (a->k == x->rank ? i : -1);
                d = j >= 0 ? x->bound[j] : 1;
            }
            if (d < 0 || d > nb) d = nb; /* -1 (inferred) or unknown */
            shape[i] = have ? d : (i == 0 ? nb : 1);
        }
        if (a->k == 0 && nb != 1)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "cannot reshape to a scalar");
        return cml_milop_out_like(ctx, node, 0, x, a->k, shape, a->k > 0);
    }
    for (int32_t i = 0; i < a->k; i++) a->spec[i] = cml_milop_get_int(s->data, s->dtype, i);
    if (!reshape_solve(a, a->spec, a->k, x->rank, x->bound, shape)) {
        char b1[400], b2[400];
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "cannot reshape %s to %s",
                            cml_milop_shape_str(b1, sizeof b1, x->rank, x->bound),
                            cml_milop_shape_str(b2, sizeof b2, a->k, a->spec));
    }
    return cml_milop_out_like(ctx, node, 0, x, a->k, shape, false);
}

static cml_status reshape_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const reshape_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int64_t spec[CML_MAX_DIMS], shape[CML_MAX_DIMS];
    const int64_t *sp = a->spec;
    if (a->runtime) {
        uint32_t k;
        CML_TRY(cml_milop_read_ints(ctx, node, "shape", cml_mil_in(ctx, node, "shape"), spec,
                                    CML_MAX_DIMS, &k));
        if ((int32_t)k != a->k)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'shape' has %u entries, expected %d", k,
                                a->k);
        sp = spec;
    }
    if (!reshape_solve(a, sp, a->k, x->rank, x->shape, shape)) {
        char b1[400], b2[400];
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "cannot reshape %s to %s",
                            cml_milop_shape_str(b1, sizeof b1, x->rank, x->shape),
                            cml_milop_shape_str(b2, sizeof b2, a->k, sp));
    }
    CML_TRY(cml_mil_resize(ctx, out, a->k, shape));
    copy_data(out, x);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_reshape = {"reshape", reshape_infer, reshape_run, false};

/* ---- reshape_like(x, ref_tensors, begins, ends, end_masks) -------------------- */

typedef struct rl_attr {
    uint32_t n;
    int64_t begins[CML_MAX_DIMS], ends[CML_MAX_DIMS];
    bool end_masks[CML_MAX_DIMS];
} rl_attr;

static bool rl_shape(cml_mil_ctx *ctx, const cml_mil_node *node, const rl_attr *a, bool bound,
                     int32_t *rank, int64_t *shape) {
    const cml_mil_param *p = cml_mil_param_find(node, "ref_tensors");
    int32_t k = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        const cml_mil_value *r = cml_mil_value_at(ctx, p->vids[i]);
        int64_t b = a->begins[i], e = a->end_masks[i] ? r->rank : a->ends[i];
        if (b < 0) b += r->rank;
        if (e < 0) e += r->rank;
        if (b < 0 || e > r->rank || b > e) return false;
        for (int64_t d = b; d < e; d++) {
            if (k == CML_MAX_DIMS) return false;
            shape[k++] = bound ? r->bound[d] : r->shape[d];
        }
    }
    *rank = k;
    return true;
}

static cml_status rl_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    const cml_mil_param *p = cml_mil_param_find(node, "ref_tensors");
    if (!p || p->count == 0 || p->count > CML_MAX_DIMS)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "'ref_tensors' must hold 1..16 tensors");
    rl_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    a->n = p->count;
    int64_t tmp[CML_MAX_DIMS];
    uint32_t c1, c2, c3;
    bool pr;
    CML_TRY(cml_mil_const_ints(ctx, node, "begins", a->begins, CML_MAX_DIMS, &c1, &pr));
    CML_TRY(cml_mil_const_ints(ctx, node, "ends", a->ends, CML_MAX_DIMS, &c2, &pr));
    CML_TRY(cml_mil_const_ints(ctx, node, "end_masks", tmp, CML_MAX_DIMS, &c3, &pr));
    if (c1 != a->n || c2 != a->n || c3 != a->n)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG,
                            "begins, ends and end_masks need one entry per ref tensor");
    bool dyn = x->dynamic;
    for (uint32_t i = 0; i < a->n; i++) {
        a->end_masks[i] = tmp[i] != 0;
        dyn = dyn || cml_mil_value_at(ctx, p->vids[i])->dynamic;
    }
    node->attr = a;
    int32_t rank;
    int64_t shape[CML_MAX_DIMS];
    if (!rl_shape(ctx, node, a, true, &rank, shape) ||
        cml_milop_prod(shape, 0, rank) != cml_mil_bound_numel(x))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "the reference shape does not match x");
    return cml_milop_out_like(ctx, node, 0, x, rank, shape, dyn);
}

static cml_status rl_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int32_t rank;
    int64_t shape[CML_MAX_DIMS];
    if (!rl_shape(ctx, node, node->attr, false, &rank, shape) ||
        cml_milop_prod(shape, 0, rank) != cml_mil_numel(x))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "the reference shape does not match x");
    CML_TRY(cml_mil_resize(ctx, out, rank, shape));
    copy_data(out, x);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_reshape_like = {"reshape_like", rl_infer, rl_run, false};

/* ---- transpose(x, perm) --------------------------------------------------------- */

static cml_status transpose_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    int64_t perm[CML_MAX_DIMS];
    uint32_t count = 0;
    bool present = false, seen[CML_MAX_DIMS] = {false};
    CML_TRY(cml_mil_const_ints(ctx, node, "perm", perm, CML_MAX_DIMS, &count, &present));
    if (!present || count != (uint32_t)x->rank)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "'perm' must have %d entries", x->rank);
    int32_t *p = cml_mil_alloc(ctx, sizeof(int32_t) * CML_MAX_DIMS);
    if (!p) return CML_ERR_NOMEM;
    int64_t shape[CML_MAX_DIMS];
    for (int32_t i = 0; i < x->rank; i++) {
        if (!cml_milop_axis(perm[i], x->rank, &p[i]) || seen[p[i]])
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "'perm' is not a permutation");
        seen[p[i]] = true;
        shape[i] = x->bound[p[i]];
    }
    node->attr = p;
    return cml_milop_out_like(ctx, node, 0, x, x->rank, shape, false);
}

static cml_status transpose_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const int32_t *p = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int64_t xs[CML_MAX_DIMS], shape[CML_MAX_DIMS], src[CML_MAX_DIMS];
    cml_milop_strides(x->rank, x->shape, xs);
    for (int32_t i = 0; i < x->rank; i++) {
        shape[i] = x->shape[p[i]];
        src[i] = xs[p[i]];
    }
    CML_TRY(cml_mil_resize(ctx, out, x->rank, shape));
    gather_copy(x, x->rank, shape, src, 0, out);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_transpose = {"transpose", transpose_infer, transpose_run, false};

/* ---- expand_dims / squeeze / flatten2d: data unchanged ------------------------------
 * attr: for each output dim, the input dim it copies (-1 = new 1), or for
 * flatten2d the split axis. */

typedef struct view_attr {
    int32_t rank;
    int32_t src[CML_MAX_DIMS];
} view_attr;

static cml_status view_finish(cml_mil_ctx *ctx, cml_mil_node *node, const cml_mil_value *x,
                              view_attr *a) {
    int64_t shape[CML_MAX_DIMS];
    for (int32_t i = 0; i < a->rank; i++) shape[i] = a->src[i] < 0 ? 1 : x->bound[a->src[i]];
    node->attr = a;
    return cml_milop_out_like(ctx, node, 0, x, a->rank, shape, false);
}

static cml_status expand_dims_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    int64_t axes[CML_MAX_DIMS];
    uint32_t count = 0;
    bool present = false, isnew[CML_MAX_DIMS] = {false};
    CML_TRY(cml_mil_const_ints(ctx, node, "axes", axes, CML_MAX_DIMS, &count, &present));
    int32_t orank = x->rank + (int32_t)count;
    if (!present || count == 0 || orank > CML_MAX_DIMS)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "bad 'axes'");
    for (uint32_t i = 0; i < count; i++) {
        int32_t ax;
        if (!cml_milop_axis(axes[i], orank, &ax) || isnew[ax])
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis %lld out of range or repeated",
                                (long long)axes[i]);
        isnew[ax] = true;
    }
    view_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    a->rank = orank;
    for (int32_t i = 0, k = 0; i < orank; i++) a->src[i] = isnew[i] ? -1 : k++;
    return view_finish(ctx, node, x, a);
}

static cml_status squeeze_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    int64_t axes[CML_MAX_DIMS];
    uint32_t count = 0;
    bool present = false, drop[CML_MAX_DIMS] = {false};
    CML_TRY(cml_mil_const_ints(ctx, node, "axes", axes, CML_MAX_DIMS, &count, &present));
    if (!present) {
        for (int32_t i = 0; i < x->rank; i++) drop[i] = x->bound[i] == 1;
    }
    for (uint32_t i = 0; i < count; i++) {
        int32_t ax;
        if (!cml_milop_axis(axes[i], x->rank, &ax))
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis %lld out of range",
                                (long long)axes[i]);
        /* PyTorch semantics: a listed axis whose size is not 1 is kept */
        drop[ax] = x->bound[ax] == 1;
    }
    view_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    a->rank = 0;
    for (int32_t i = 0; i < x->rank; i++)
        if (!drop[i]) a->src[a->rank++] = i;
    return view_finish(ctx, node, x, a);
}

static cml_status view_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const view_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int64_t shape[CML_MAX_DIMS];
    for (int32_t i = 0; i < a->rank; i++) shape[i] = a->src[i] < 0 ? 1 : x->shape[a->src[i]];
    if (cml_milop_prod(shape, 0, a->rank) != cml_mil_numel(x))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "a squeezed dimension is no longer 1");
    CML_TRY(cml_mil_resize(ctx, out, a->rank, shape));
    copy_data(out, x);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_expand_dims = {"expand_dims", expand_dims_infer, view_run, false};
const cml_mil_op_def cml_mil_op_squeeze = {"squeeze", squeeze_infer, view_run, false};

static void flatten_shape(int32_t axis, int32_t rank, const int64_t *in, int64_t *out) {
    out[0] = cml_milop_prod(in, 0, axis);
    out[1] = cml_milop_prod(in, axis, rank);
}

static cml_status flatten2d_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    int64_t axis;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(cml_mil_const_int(ctx, node, "axis", true, 1, &axis));
    if (axis < 0) axis += x->rank;
    if (axis < 0 || axis > x->rank)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis out of range");
    int32_t *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    *a = (int32_t)axis;
    node->attr = a;
    int64_t shape[2];
    flatten_shape(*a, x->rank, x->bound, shape);
    return cml_milop_out_like(ctx, node, 0, x, 2, shape, false);
}

static cml_status flatten2d_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int64_t shape[2];
    flatten_shape(*(const int32_t *)node->attr, x->rank, x->shape, shape);
    CML_TRY(cml_mil_resize(ctx, out, 2, shape));
    copy_data(out, x);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_flatten2d = {"flatten2d", flatten2d_infer, flatten2d_run, false};

/* ---- shape(x) -> int32 [rank] ------------------------------------------------------ */

static cml_status shape_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    int64_t n = x->rank;
    return cml_mil_set_output(ctx, node, 0, CML_DTYPE_INT32, false, 1, &n, false);
}

static cml_status shape_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int64_t n = x->rank;
    CML_TRY(cml_mil_resize(ctx, out, 1, &n));
    for (int32_t i = 0; i < x->rank; i++) ((int32_t *)out->data)[i] = (int32_t)x->shape[i];
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_shape = {"shape", shape_infer, shape_run, false};

/* ---- reverse(x, axes = all) ----------------------------------------------------------- */

static cml_status reverse_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    int64_t axes[CML_MAX_DIMS];
    uint32_t count = 0;
    bool present = false;
    bool *flip = cml_mil_alloc(ctx, sizeof(bool) * CML_MAX_DIMS);
    if (!flip) return CML_ERR_NOMEM;
    CML_TRY(cml_mil_const_ints(ctx, node, "axes", axes, CML_MAX_DIMS, &count, &present));
    if (!present)
        for (int32_t i = 0; i < x->rank; i++) flip[i] = true;
    for (uint32_t i = 0; i < count; i++) {
        int32_t ax;
        if (!cml_milop_axis(axes[i], x->rank, &ax))
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis %lld out of range",
                                (long long)axes[i]);
        flip[ax] = true;
    }
    node->attr = flip;
    return cml_milop_out_like(ctx, node, 0, x, x->rank, x->bound, false);
}

static cml_status reverse_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const bool *flip = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    CML_TRY(cml_mil_resize(ctx, out, x->rank, x->shape));
    int64_t st[CML_MAX_DIMS], off = 0;
    cml_milop_strides(x->rank, x->shape, st);
    for (int32_t i = 0; i < x->rank; i++)
        if (flip[i] && x->shape[i] > 0) {
            off += (x->shape[i] - 1) * st[i];
            st[i] = -st[i];
        }
    gather_copy(x, x->rank, x->shape, st, off, out);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_reverse = {"reverse", reverse_infer, reverse_run, false};

/* ---- pixel_shuffle / pixel_unshuffle / depth_to_space / space_to_depth ---------------
 * All are one 6-D strided copy. pixel_shuffle (CRD, torch):
 *   out[n, c, h*r+i, w*r+j] = x[n, c*r*r + i*r + j, h, w];
 * depth_to_space (DCR, TensorFlow): out[n, c, h*b+i, w*b+j] = x[n, (i*b+j)*C + c, h, w];
 * pixel_unshuffle and space_to_depth are their inverses. */

typedef enum px_kind { PX_SHUFFLE, PX_UNSHUFFLE, PX_D2S, PX_S2D } px_kind;

typedef struct px_attr {
    px_kind kind;
    int64_t r;
} px_attr;

static bool px_shape(const px_attr *a, const int64_t *in, int64_t *out) {
    int64_t r = a->r, rr = r * r;
    out[0] = in[0];
    if (a->kind == PX_SHUFFLE || a->kind == PX_D2S) {
        if (in[1] % rr) return false;
        out[1] = in[1] / rr, out[2] = in[2] * r, out[3] = in[3] * r;
    } else {
        if (in[2] % r || in[3] % r) return false;
        out[1] = in[1] * rr, out[2] = in[2] / r, out[3] = in[3] / r;
    }
    return true;
}

static cml_status px_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    const char *t = node->def->type;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    if (x->rank != 4) return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must have rank 4");
    px_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    const char *pname;
    if (strcmp(t, "pixel_shuffle") == 0) a->kind = PX_SHUFFLE, pname = "upscale_factor";
    else if (strcmp(t, "pixel_unshuffle") == 0) a->kind = PX_UNSHUFFLE, pname = "downscale_factor";
    else if (strcmp(t, "depth_to_space") == 0) a->kind = PX_D2S, pname = "block_size";
    else a->kind = PX_S2D, pname = "block_size";
    CML_TRY(cml_mil_const_int(ctx, node, pname, false, 0, &a->r));
    if (a->r < 1) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "'%s' must be >= 1", pname);
    node->attr = a;
    int64_t shape[4];
    if (!px_shape(a, x->bound, shape))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x's dims are not divisible by the factor");
    return cml_milop_out_like(ctx, node, 0, x, 4, shape, false);
}

static cml_status px_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const px_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int64_t o[4];
    if (!px_shape(a, x->shape, o))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x's dims are not divisible by the factor");
    CML_TRY(cml_mil_resize(ctx, out, 4, o));
    int64_t r = a->r, C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int64_t N = x->shape[0], sn = C * H * W;
    int64_t sz[6], st[6];
    switch (a->kind) {
    case PX_SHUFFLE: { /* out order (n, c, h, i, w, j) */
        int64_t co = o[1];
        int64_t s1[6] = {N, co, H, r, W, r}, s2[6] = {sn, r * r * H * W, W, r * H * W, 1, H * W};
        memcpy(sz, s1, sizeof sz), memcpy(st, s2, sizeof st);
        break;
    }
    case PX_D2S: {
        int64_t co = o[1];
        int64_t s1[6] = {N, co, H, r, W, r}, s2[6] = {sn, H * W, W, r * co * H * W, 1, co * H * W};
        memcpy(sz, s1, sizeof sz), memcpy(st, s2, sizeof st);
        break;
    }
    case PX_UNSHUFFLE: { /* out order (n, c, i, j, h, w) */
        int64_t ho = o[2], wo = o[3];
        int64_t s1[6] = {N, C, r, r, ho, wo}, s2[6] = {sn, H * W, W, 1, r * W, r};
        memcpy(sz, s1, sizeof sz), memcpy(st, s2, sizeof st);
        break;
    }
    case PX_S2D: { /* out channel (i*b + j)*C + c: order (n, i, j, c, h, w) */
        int64_t ho = o[2], wo = o[3];
        int64_t s1[6] = {N, r, r, C, ho, wo}, s2[6] = {sn, W, 1, H * W, r * W, r};
        memcpy(sz, s1, sizeof sz), memcpy(st, s2, sizeof st);
        break;
    }
    }
    gather_copy(x, 6, sz, st, 0, out);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_pixel_shuffle = {"pixel_shuffle", px_infer, px_run, false};
const cml_mil_op_def cml_mil_op_pixel_unshuffle = {"pixel_unshuffle", px_infer, px_run, false};
const cml_mil_op_def cml_mil_op_depth_to_space = {"depth_to_space", px_infer, px_run, false};
const cml_mil_op_def cml_mil_op_space_to_depth = {"space_to_depth", px_infer, px_run, false};
