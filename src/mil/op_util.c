/* Helpers for MIL op implementations: parameter lookup, compile-time
 * parameter reading, output declaration, resizing, graph-owned memory and
 * error messages. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/checked.h"
#include "core/fp16.h"
#include "core/tensor.h"
#include "kernels/kernels.h"
#include "mil/graph.h"
#include "mil/mil.h"

/* ------------------------------------------------------------ lookup */

const cml_mil_param *cml_mil_param_find(const cml_mil_node *node, const char *name) {
    if (!node || !name) return NULL;
    for (uint32_t i = 0; i < node->nparams; i++)
        if (strcmp(node->params[i].name, name) == 0) return &node->params[i];
    return NULL;
}

cml_mil_value *cml_mil_value_at(cml_mil_ctx *ctx, cml_mil_vid vid) {
    if (!ctx || !ctx->g || vid >= ctx->g->nvalues) return NULL;
    return &ctx->g->values[vid];
}

cml_mil_value *cml_mil_in(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name) {
    const cml_mil_param *p = cml_mil_param_find(node, name);
    if (!p || p->count == 0) return NULL;
    return cml_mil_value_at(ctx, p->vids[0]);
}

cml_mil_value *cml_mil_out(cml_mil_ctx *ctx, const cml_mil_node *node, uint32_t i) {
    if (!node || i >= node->noutputs) return NULL;
    return cml_mil_value_at(ctx, node->outputs[i]);
}

cml_status cml_mil_fail(cml_mil_ctx *ctx, const cml_mil_node *node, cml_status status,
                        const char *fmt, ...) {
    char msg[CML_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cml_error *err = ctx ? ctx->err : NULL;
    if (node)
        return cml_fail(err, status, "op '%s' (%s): %s", node->name ? node->name : "",
                        node->type ? node->type : "?", msg);
    return cml_fail(err, status, "%s", msg);
}

cml_status cml_mil_require(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                           cml_mil_value **out) {
    cml_mil_value *v = cml_mil_in(ctx, node, name);
    if (!v)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "missing required parameter '%s'", name);
    if (v->kind != CML_MIL_KIND_TENSOR)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "parameter '%s' must be a tensor", name);
    *out = v;
    return CML_OK;
}

/* ------------------------------------------------------ element access */

double cml_mil_get_f64(const cml_mil_value *v, int64_t i) {
    if (!v || !v->data || i < 0) return 0;
    const void *p = v->data;
    switch (v->dtype) {
    case CML_DTYPE_FLOAT32: return ((const float *)p)[i];
    case CML_DTYPE_FLOAT64: return ((const double *)p)[i];
    case CML_DTYPE_FLOAT16: return cml_fp16_to_fp32(((const uint16_t *)p)[i]);
    case CML_DTYPE_INT32: return ((const int32_t *)p)[i];
    case CML_DTYPE_INT64: return (double)((const int64_t *)p)[i];
    case CML_DTYPE_INT16: return ((const int16_t *)p)[i];
    case CML_DTYPE_UINT16: return ((const uint16_t *)p)[i];
    case CML_DTYPE_INT8: return ((const int8_t *)p)[i];
    case CML_DTYPE_UINT8:
    case CML_DTYPE_BOOL: return ((const uint8_t *)p)[i];
    case CML_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    case CML_DTYPE_UINT64: return (double)((const uint64_t *)p)[i];
    default: return 0;
    }
}

static int64_t saturate_i64(double d) {
    if (isnan(d)) return 0;
    if (d >= 9.2233720368547758e18) return INT64_MAX;
    if (d <= -9.2233720368547758e18) return INT64_MIN;
    return (int64_t)d;
}

int64_t cml_mil_get_i64(const cml_mil_value *v, int64_t i) {
    if (!v || !v->data || i < 0) return 0;
    switch (v->dtype) {
    case CML_DTYPE_INT64: return ((const int64_t *)v->data)[i];
    case CML_DTYPE_UINT64: {
        uint64_t u = ((const uint64_t *)v->data)[i];
        return u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
    }
    case CML_DTYPE_FLOAT32:
    case CML_DTYPE_FLOAT64:
    case CML_DTYPE_FLOAT16: return saturate_i64(cml_mil_get_f64(v, i));
    default: return (int64_t)cml_mil_get_f64(v, i);
    }
}

int64_t cml_mil_numel(const cml_mil_value *v) {
    int64_t n = 1;
    for (int32_t d = 0; d < v->rank; d++) n *= v->shape[d];
    return n;
}

int64_t cml_mil_bound_numel(const cml_mil_value *v) {
    int64_t n = 1;
    for (int32_t d = 0; d < v->rank; d++) n *= v->bound[d];
    return n;
}

size_t cml_mil_nbytes(const cml_mil_value *v) {
    if (v->kind != CML_MIL_KIND_TENSOR && v->kind != CML_MIL_KIND_STATE) return 0;
    return (size_t)cml_mil_numel(v) * cml_dtype_size(v->dtype);
}

/* ------------------------------------------------- compile-time params */

/* The const scalar bound to `name`, or NULL when it is absent and has a
 * default (the caller then uses it); absent without a default is an error. */
static cml_status const_scalar(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                               bool has_default, cml_mil_value **out) {
    cml_mil_value *v = cml_mil_in(ctx, node, name);
    *out = NULL;
    if (!v) {
        if (has_default) return CML_OK;
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "missing required parameter '%s'", name);
    }
    if (v->kind != CML_MIL_KIND_TENSOR)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "parameter '%s' must be a numeric scalar",
                            name);
    if (!v->is_const)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                            "parameter '%s' must be a compile-time constant", name);
    if (cml_mil_numel(v) != 1)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "parameter '%s' must be a scalar (has %lld elements)", name,
                            (long long)cml_mil_numel(v));
    *out = v;
    return CML_OK;
}

cml_status cml_mil_const_int(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                             bool has_default, int64_t def, int64_t *out) {
    cml_mil_value *v = NULL;
    CML_TRY(const_scalar(ctx, node, name, has_default, &v));
    *out = v ? cml_mil_get_i64(v, 0) : def;
    return CML_OK;
}

cml_status cml_mil_const_float(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                               bool has_default, double def, double *out) {
    cml_mil_value *v = NULL;
    CML_TRY(const_scalar(ctx, node, name, has_default, &v));
    *out = v ? cml_mil_get_f64(v, 0) : def;
    return CML_OK;
}

cml_status cml_mil_const_bool(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                              bool has_default, bool def, bool *out) {
    cml_mil_value *v = NULL;
    CML_TRY(const_scalar(ctx, node, name, has_default, &v));
    *out = v ? cml_mil_get_f64(v, 0) != 0 : def;
    return CML_OK;
}

cml_status cml_mil_const_string(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                                const char *def, const char **out) {
    cml_mil_value *v = cml_mil_in(ctx, node, name);
    if (!v) {
        *out = def;
        return CML_OK;
    }
    if (v->kind != CML_MIL_KIND_STRING || !v->str)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "parameter '%s' must be a string constant",
                            name);
    *out = v->str;
    return CML_OK;
}

static cml_status const_vector(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                               uint32_t max, cml_mil_value **out, uint32_t *count, bool *present) {
    cml_mil_value *v = cml_mil_in(ctx, node, name);
    *out = NULL;
    *count = 0;
    if (present) *present = v != NULL;
    if (!v) return CML_OK;
    if (v->kind != CML_MIL_KIND_TENSOR)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "parameter '%s' must be a numeric tensor",
                            name);
    if (!v->is_const)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                            "parameter '%s' must be a compile-time constant", name);
    if (v->rank > 1)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "parameter '%s' must be a scalar or a vector (rank %d)", name, v->rank);
    int64_t n = cml_mil_numel(v);
    if (n > (int64_t)max)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "parameter '%s' has %lld elements (at most %u accepted)", name,
                            (long long)n, max);
    *out = v;
    *count = (uint32_t)n;
    return CML_OK;
}

cml_status cml_mil_const_ints(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                              int64_t *out, uint32_t max, uint32_t *count, bool *present) {
    cml_mil_value *v = NULL;
    CML_TRY(const_vector(ctx, node, name, max, &v, count, present));
    for (uint32_t i = 0; v && i < *count; i++) out[i] = cml_mil_get_i64(v, i);
    return CML_OK;
}

cml_status cml_mil_const_floats(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                                float *out, uint32_t max, uint32_t *count, bool *present) {
    cml_mil_value *v = NULL;
    CML_TRY(const_vector(ctx, node, name, max, &v, count, present));
    for (uint32_t i = 0; v && i < *count; i++) out[i] = (float)cml_mil_get_f64(v, i);
    return CML_OK;
}

/* -------------------------------------------------------- outputs */

cml_status cml_mil_set_output(cml_mil_ctx *ctx, const cml_mil_node *node, uint32_t i,
                              cml_dtype dtype, bool fp16, int32_t rank, const int64_t *shape,
                              bool dynamic) {
    cml_mil_value *v = cml_mil_out(ctx, node, i);
    if (!v)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "output %u is not declared (%u outputs)", i,
                            node ? node->noutputs : 0);
    if (rank < 0 || rank > CML_MAX_DIMS || (rank > 0 && !shape))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "output %u: rank %d not supported", i,
                            rank);
    size_t esize = cml_dtype_size(dtype);
    if (esize == 0)
        return cml_mil_fail(ctx, node, CML_ERR_INTERNAL, "output %u: bad dtype %d", i, (int)dtype);
    size_t bytes = esize;
    for (int32_t d = 0; d < rank; d++) {
        if (shape[d] < 0)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "output %u: negative dimension %lld", i,
                                (long long)shape[d]);
        if (!cml_mul_size(bytes, (size_t)shape[d], &bytes) || bytes > ((size_t)1 << 46))
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "output %u: tensor too large", i);
    }
    v->kind = CML_MIL_KIND_TENSOR;
    v->dtype = dtype;
    v->fp16 = fp16 && dtype == CML_DTYPE_FLOAT32;
    v->rank = rank;
    for (int32_t d = 0; d < CML_MAX_DIMS; d++) {
        v->shape[d] = d < rank ? shape[d] : 0;
        v->bound[d] = v->shape[d];
    }
    v->dynamic = dynamic;
    v->capacity = bytes;
    return CML_OK;
}

cml_status cml_mil_resize(cml_mil_ctx *ctx, cml_mil_value *v, int32_t rank, const int64_t *shape) {
    cml_error *err = ctx ? ctx->err : NULL;
    if (rank < 0 || rank > CML_MAX_DIMS || (rank > 0 && !shape))
        return cml_fail(err, CML_ERR_SHAPE, "value '%s': bad rank %d", v->name, rank);
    size_t bytes = cml_dtype_size(v->dtype);
    for (int32_t d = 0; d < rank; d++) {
        if (shape[d] < 0 || !cml_mul_size(bytes, (size_t)shape[d], &bytes))
            return cml_fail(err, CML_ERR_SHAPE, "value '%s': bad dimension %lld", v->name,
                            (long long)shape[d]);
    }
    if (bytes > v->capacity) {
        char a[160], b[160];
        return cml_fail(err, CML_ERR_SHAPE,
                        "value '%s': shape %s (%zu bytes) exceeds its planned bound %s (%zu bytes)",
                        v->name, cml_shape_str(rank, shape, a, sizeof a), bytes,
                        cml_shape_str(v->rank, v->bound, b, sizeof b), v->capacity);
    }
    v->rank = rank;
    for (int32_t d = 0; d < rank; d++) v->shape[d] = shape[d];
    return CML_OK;
}

/* -------------------------------------------------------------- memory */

cml_status cml_mil_graph_own(cml_mil_graph *g, void *p) {
    if (!p) return CML_ERR_NOMEM;
    if (g->nowned == g->owned_cap) {
        uint32_t cap = g->owned_cap ? g->owned_cap * 2 : 64;
        void **list = cml_calloc(g->allocator, cap, sizeof *list);
        if (!list) {
            cml_free(g->allocator, p);
            return CML_ERR_NOMEM;
        }
        if (g->nowned) memcpy(list, g->owned, g->nowned * sizeof *list);
        cml_free(g->allocator, g->owned);
        g->owned = list;
        g->owned_cap = cap;
    }
    g->owned[g->nowned++] = p;
    return CML_OK;
}

void *cml_mil_alloc(cml_mil_ctx *ctx, size_t size) {
    if (!ctx || !ctx->g) return NULL;
    void *p = cml_calloc(ctx->g->allocator, 1, size ? size : 1);
    if (!p || cml_mil_graph_own(ctx->g, p) != CML_OK) {
        cml_fail(ctx->err, CML_ERR_NOMEM, "out of memory (%zu bytes)", size);
        return NULL;
    }
    return p;
}

void cml_mil_round_value(cml_mil_value *v) {
    if (v->fp16 && v->dtype == CML_DTYPE_FLOAT32 && v->data)
        cml_k_round_fp16((float *)v->data, (size_t)cml_mil_numel(v));
}
