/* Helpers shared by the MIL op implementations (declared in mil/ops.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mil/ops.h"

bool cml_milop_is_int(cml_dtype d) {
    switch (d) {
    case CML_DTYPE_INT8: case CML_DTYPE_UINT8: case CML_DTYPE_INT16: case CML_DTYPE_UINT16:
    case CML_DTYPE_INT32: case CML_DTYPE_UINT32: case CML_DTYPE_INT64: case CML_DTYPE_UINT64:
        return true;
    default: return false;
    }
}

int64_t cml_milop_get_int(const void *data, cml_dtype dt, int64_t i) {
    switch (dt) {
    case CML_DTYPE_INT8: return ((const int8_t *)data)[i];
    case CML_DTYPE_UINT8: return ((const uint8_t *)data)[i];
    case CML_DTYPE_BOOL: return ((const uint8_t *)data)[i] != 0;
    case CML_DTYPE_INT16: return ((const int16_t *)data)[i];
    case CML_DTYPE_UINT16: return ((const uint16_t *)data)[i];
    case CML_DTYPE_INT32: return ((const int32_t *)data)[i];
    case CML_DTYPE_UINT32: return ((const uint32_t *)data)[i];
    case CML_DTYPE_INT64: return ((const int64_t *)data)[i];
    case CML_DTYPE_UINT64: return (int64_t)((const uint64_t *)data)[i];
    case CML_DTYPE_FLOAT32: {
        float f = ((const float *)data)[i];
        if (!(f > -9.2e18f && f < 9.2e18f)) return f > 0 ? INT64_MAX : (f < 0 ? INT64_MIN : 0);
        return (int64_t)f;
    }
    default: return 0;
    }
}

double cml_milop_get_num(const void *data, cml_dtype dt, int64_t i) {
    if (dt == CML_DTYPE_FLOAT32) return ((const float *)data)[i];
    if (dt == CML_DTYPE_FLOAT64) return ((const double *)data)[i];
    return (double)cml_milop_get_int(data, dt, i);
}

void cml_milop_set_int(void *data, cml_dtype dt, int64_t i, int64_t v) {
    switch (dt) {
    case CML_DTYPE_INT8: ((int8_t *)data)[i] = (int8_t)v; break;
    case CML_DTYPE_UINT8: ((uint8_t *)data)[i] = (uint8_t)v; break;
    case CML_DTYPE_BOOL: ((uint8_t *)data)[i] = v != 0; break;
    case CML_DTYPE_INT16: ((int16_t *)data)[i] = (int16_t)v; break;
    case CML_DTYPE_UINT16: ((uint16_t *)data)[i] = (uint16_t)v; break;
    case CML_DTYPE_INT32: ((int32_t *)data)[i] = (int32_t)v; break;
    case CML_DTYPE_UINT32: ((uint32_t *)data)[i] = (uint32_t)v; break;
    case CML_DTYPE_INT64: ((int64_t *)data)[i] = v; break;
    case CML_DTYPE_UINT64: ((uint64_t *)data)[i] = (uint64_t)v; break;
    case CML_DTYPE_FLOAT32: ((float *)data)[i] = (float)v; break;
    default: break;
    }
}

void cml_milop_set_num(void *data, cml_dtype dt, int64_t i, double v) {
    if (dt == CML_DTYPE_FLOAT32) {
        ((float *)data)[i] = (float)v;
    } else if (dt == CML_DTYPE_BOOL) {
        ((uint8_t *)data)[i] = v != 0;
    } else {
        int64_t iv;
        if (isnan(v)) iv = 0;
        else if (v >= 9.2e18) iv = INT64_MAX;
        else if (v <= -9.2e18) iv = INT64_MIN;
        else iv = (int64_t)v;
        cml_milop_set_int(data, dt, i, iv);
    }
}

int64_t cml_milop_prod(const int64_t *shape, int32_t from, int32_t to) {
    int64_t p = 1;
    for (int32_t i = from; i < to; i++) p *= shape[i];
    return p;
}

void cml_milop_strides(int32_t rank, const int64_t *shape, int64_t *strides) {
    int64_t s = 1;
    for (int32_t i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i];
    }
}

bool cml_milop_broadcast(int32_t ra, const int64_t *a, int32_t rb, const int64_t *b,
                         int32_t *rank_out, int64_t *out) {
    int32_t r = ra > rb ? ra : rb;
    int64_t tmp[CML_MAX_DIMS];
    if (r > CML_MAX_DIMS) return false;
    for (int32_t i = 0; i < r; i++) {
        int32_t ia = i - (r - ra), ib = i - (r - rb);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        if (da == db || db == 1) tmp[i] = da;
        else if (da == 1) tmp[i] = db;
        else return false;
    }
    memcpy(out, tmp, sizeof(int64_t) * (size_t)r);
    *rank_out = r;
    return true;
}

void cml_milop_bcast_strides(int32_t ro, const int64_t *out, int32_t ri, const int64_t *in,
                             int64_t *strides) {
    int64_t s = 1;
    for (int32_t i = ro - 1; i >= 0; i--) {
        int32_t ii = i - (ro - ri);
        if (ii < 0) {
            strides[i] = 0;
            continue;
        }
        strides[i] = (in[ii] == 1 && out[i] != 1) ? 0 : s;
        s *= in[ii];
    }
}

bool cml_milop_axis(int64_t axis, int32_t rank, int32_t *out) {
    if (axis < -(int64_t)rank || axis >= rank) return false;
    *out = (int32_t)(axis < 0 ? axis + rank : axis);
    return true;
}

cml_status cml_milop_scratch(cml_mil_ctx *ctx, const cml_mil_node *node, void **out) {
    if (node->scratch == 0) {
        *out = ctx->scratch;
        return CML_OK;
    }
    if (!ctx->scratch || ctx->scratch_size < node->scratch)
        return cml_mil_fail(ctx, node, CML_ERR_INTERNAL, "needs %zu scratch bytes, got %zu",
                            node->scratch, ctx->scratch ? ctx->scratch_size : (size_t)0);
    *out = ctx->scratch;
    return CML_OK;
}

cml_status cml_milop_read_ints(cml_mil_ctx *ctx, const cml_mil_node *node, const char *pname,
                               const cml_mil_value *v, int64_t *out, uint32_t max,
                               uint32_t *count) {
    if (!v || v->kind != CML_MIL_KIND_TENSOR || !v->data ||
        !(cml_milop_is_int(v->dtype) || v->dtype == CML_DTYPE_BOOL) || v->rank > 1)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG,
                            "parameter '%s' must be an integer vector", pname);
    int64_t n = cml_mil_numel(v);
    if (n < 0 || n > (int64_t)max)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                            "parameter '%s' has %" PRId64 " entries (at most %u)", pname, n, max);
    for (int64_t i = 0; i < n; i++) out[i] = cml_milop_get_int(v->data, v->dtype, i);
    *count = (uint32_t)n;
    return CML_OK;
}

cml_status cml_milop_require_float(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                                   cml_mil_value **out) {
    cml_mil_value *v = NULL;
    CML_TRY(cml_mil_require(ctx, node, name, &v));
    if (v->kind != CML_MIL_KIND_TENSOR || !cml_milop_is_float(v->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                            "parameter '%s' must be fp16 or fp32, got %s", name,
                            cml_dtype_name(v->dtype));
    *out = v;
    return CML_OK;
}

cml_status cml_milop_opt_vector(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                                int64_t n, cml_mil_value **out) {
    cml_mil_value *v = cml_mil_in(ctx, node, name);
    *out = NULL;
    if (!v) return CML_OK;
    if (v->kind != CML_MIL_KIND_TENSOR || !cml_milop_is_float(v->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                            "parameter '%s' must be fp16 or fp32, got %s", name,
                            cml_dtype_name(v->dtype));
    if (cml_mil_bound_numel(v) != n)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                            "parameter '%s' has %" PRId64 " elements, expected %" PRId64, name,
                            cml_mil_bound_numel(v), n);
    *out = v;
    return CML_OK;
}

cml_status cml_milop_out_like(cml_mil_ctx *ctx, const cml_mil_node *node, uint32_t i,
                              const cml_mil_value *like, int32_t rank, const int64_t *shape,
                              bool dynamic) {
    return cml_mil_set_output(ctx, node, i, like->dtype, like->fp16, rank, shape,
                              dynamic || like->dynamic);
}

const char *cml_milop_shape_str(char *buf, size_t size, int32_t rank, const int64_t *shape) {
    size_t n = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    n += (size_t)snprintf(buf + n, size - n, "[");
    for (int32_t i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (n < size) snprintf(buf + n, size - n, "]");
    return buf;
}

cml_status cml_milop_pad_type_parse(cml_mil_ctx *ctx, const cml_mil_node *node, bool required,
                                    cml_milop_pad_type *out) {
    const char *s = NULL;
    CML_TRY(cml_mil_const_string(ctx, node, "pad_type", required ? NULL : "valid", &s));
    if (!s) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "missing parameter 'pad_type'");
    if (strcmp(s, "valid") == 0) *out = CML_MILOP_PAD_VALID;
    else if (strcmp(s, "same") == 0) *out = CML_MILOP_PAD_SAME;
    else if (strcmp(s, "same_lower") == 0) *out = CML_MILOP_PAD_SAME_LOWER;
    else if (strcmp(s, "custom") == 0) *out = CML_MILOP_PAD_CUSTOM;
    else return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unknown pad_type '%s'", s);
    return CML_OK;
}

bool cml_milop_window(cml_milop_pad_type pt, int64_t D, int64_t K, int64_t s, int64_t d,
                      int64_t custom_before, int64_t custom_after, bool ceil_mode, int64_t *out,
                      int64_t *before, int64_t *after) {
    int64_t keff = (K - 1) * d + 1, o, pb = 0, pa = 0;
    if (s <= 0 || d <= 0 || K <= 0) return false;
    if (pt == CML_MILOP_PAD_SAME || pt == CML_MILOP_PAD_SAME_LOWER) {
        o = (D + s - 1) / s;
        int64_t P = (o - 1) * s + keff - D;
        if (P < 0) P = 0;
        if (pt == CML_MILOP_PAD_SAME) {
            pb = P / 2;
            pa = P - pb;
        } else {
            pa = P / 2;
            pb = P - pa;
        }
    } else {
        if (pt == CML_MILOP_PAD_CUSTOM) {
            pb = custom_before;
            pa = custom_after;
        }
        int64_t span = D + pb + pa - keff;
        if (span < 0) return false;
        if (ceil_mode) {
            o = (span + s - 1) / s + 1;
            /* the last window must start inside the input or the leading pad */
            if (pb + pa > 0 && (o - 1) * s >= D + pb) o--;
        } else {
            o = span / s + 1;
        }
    }
    if (o <= 0) return false;
    *out = o;
    *before = pb;
    *after = pa;
    return true;
}

void cml_milop_walk(int32_t rank, const int64_t *shape, int nops, const int64_t *const *strides,
                    cml_milop_row_fn fn, void *ctx) {
    int64_t idx[CML_MAX_DIMS] = {0};
    int64_t offs[4] = {0}, inner[4] = {0};
    if (rank == 0) {
        fn(ctx, 1, offs, inner);
        return;
    }
    for (int32_t d = 0; d < rank; d++)
        if (shape[d] == 0) return;
    for (int k = 0; k < nops; k++) inner[k] = strides[k][rank - 1];
    int64_t n = shape[rank - 1];
    for (;;) {
        fn(ctx, n, offs, inner);
        int32_t d = rank - 2;
        for (; d >= 0; d--) {
            idx[d]++;
            for (int k = 0; k < nops; k++) offs[k] += strides[k][d];
            if (idx[d] < shape[d]) break;
            for (int k = 0; k < nops; k++) offs[k] -= strides[k][d] * shape[d];
            idx[d] = 0;
        }
        if (d < 0) return;
    }
}

/* ---- compile-time upper bounds of small integer vectors ------------------------ */

static const cml_mil_node *find_producer(cml_mil_ctx *ctx, const cml_mil_value *v) {
    const cml_mil_graph *g = ctx->g;
    if (!g || !g->values || v < g->values || v >= g->values + g->nvalues) return NULL;
    cml_mil_vid vid = (cml_mil_vid)(v - g->values);
    for (uint32_t i = 0; i < g->main.nnodes; i++) {
        const cml_mil_node *n = &g->main.nodes[i];
        for (uint32_t k = 0; k < n->noutputs; k++)
            if (n->outputs[k] == vid) return n->def ? n : NULL;
    }
    return NULL;
}

static bool int_vector(const cml_mil_value *v) {
    return v && v->kind == CML_MIL_KIND_TENSOR && v->rank <= 1 && cml_milop_is_int(v->dtype);
}

static bool bounds_rec(cml_mil_ctx *ctx, const cml_mil_value *v, int64_t *out, uint32_t max,
                       uint32_t *count, int depth) {
    if (depth > 24 || !int_vector(v)) return false;
    int64_t n = cml_mil_bound_numel(v);
    if (n < 0 || n > (int64_t)max) return false;
    if (cml_milop_known(v)) {
        for (int64_t i = 0; i < n; i++) out[i] = cml_milop_get_int(v->data, v->dtype, i);
        *count = (uint32_t)n;
        return true;
    }
    const cml_mil_node *p = find_producer(ctx, v);
    if (!p) return false;
    const char *t = p->def->type;
    const cml_mil_value *x = cml_mil_in(ctx, p, "x");
    if (strcmp(t, "shape") == 0) {
        if (!x || x->rank > (int32_t)max) return false;
        for (int32_t i = 0; i < x->rank; i++) out[i] = x->bound[i];
        *count = (uint32_t)x->rank;
        return true;
    }
    if (strcmp(t, "cast") == 0 || strcmp(t, "identity") == 0 || strcmp(t, "reshape") == 0 ||
        strcmp(t, "squeeze") == 0 || strcmp(t, "expand_dims") == 0)
        return bounds_rec(ctx, x, out, max, count, depth + 1);
    if (strcmp(t, "gather") == 0) {
        int64_t xb[CML_MAX_DIMS], axis = 0;
        uint32_t xn = 0;
        const cml_mil_value *ix = cml_mil_in(ctx, p, "indices");
        const cml_mil_value *av = cml_mil_in(ctx, p, "axis");
        if (av && cml_milop_known(av)) axis = cml_milop_get_int(av->data, av->dtype, 0);
        if (axis != 0 && axis != -1) return false;
        if (!bounds_rec(ctx, x, xb, CML_MAX_DIMS, &xn, depth + 1) || !cml_milop_known(ix) ||
            !int_vector(ix) || cml_mil_numel(ix) > (int64_t)max)
            return false;
        int64_t ni = cml_mil_numel(ix);
        for (int64_t i = 0; i < ni; i++) {
            int64_t k = cml_milop_get_int(ix->data, ix->dtype, i);
            if (k < 0) k += xn;
            if (k < 0 || k >= (int64_t)xn) return false;
            out[i] = xb[k];
        }
        *count = (uint32_t)ni;
        return true;
    }
    if (strcmp(t, "non_maximum_suppression") == 0 && p->noutputs == 4 &&
        &ctx->g->values[p->outputs[3]] == v) {
        /* iOS15 NMS box counts [n]: each at most max_boxes */
        const cml_mil_value *mb = cml_mil_in(ctx, p, "max_boxes");
        if (!cml_milop_known(mb)) return false;
        for (int64_t i = 0; i < n; i++) out[i] = cml_milop_get_int(mb->data, mb->dtype, 0);
        *count = (uint32_t)n;
        return true;
    }
    if (strcmp(t, "concat") == 0) {
        const cml_mil_param *vals = cml_mil_param_find(p, "values");
        uint32_t k = 0;
        for (uint32_t i = 0; vals && i < vals->count; i++) {
            uint32_t c = 0;
            if (!bounds_rec(ctx, cml_mil_value_at(ctx, vals->vids[i]), out + k, max - k, &c,
                            depth + 1))
                return false;
            k += c;
        }
        *count = k;
        return vals != NULL;
    }
    if (strcmp(t, "mul") == 0 || strcmp(t, "add") == 0 || strcmp(t, "maximum") == 0) {
        int64_t a[CML_MAX_DIMS], b[CML_MAX_DIMS];
        uint32_t na = 0, nb = 0;
        if (!bounds_rec(ctx, x, a, CML_MAX_DIMS, &na, depth + 1) ||
            !bounds_rec(ctx, cml_mil_in(ctx, p, "y"), b, CML_MAX_DIMS, &nb, depth + 1))
            return false;
        uint32_t nn = na > nb ? na : nb;
        if ((na != nn && na != 1) || (nb != nn && nb != 1) || nn > max) return false;
        for (uint32_t i = 0; i < nn; i++) {
            int64_t u = a[na == 1 ? 0 : i], w = b[nb == 1 ? 0 : i];
            if (u < 0 || w < 0 || u > ((int64_t)1 << 31) || w > ((int64_t)1 << 31)) return false;
            out[i] = t[0] == 'm' && t[1] == 'u' ? u * w : t[0] == 'a' ? u + w : (u > w ? u : w);
        }
        *count = nn;
        return true;
    }
    return false;
}

bool cml_milop_int_bounds(cml_mil_ctx *ctx, const cml_mil_value *v, int64_t *out, uint32_t max,
                          uint32_t *count) {
    return bounds_rec(ctx, v, out, max, count, 0);
}
