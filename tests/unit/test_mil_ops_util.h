/*
 * A one-node MIL graph built by hand, for op tests: values + one node,
 * then the op's infer(), output/scratch allocation (as the planner would),
 * and run(). Also naive reference helpers shared by the op tests.
 *
 *   tg t; tg_init(&t, "add", 18);
 *   tg_param(&t, "x", tg_f32(&t, "x", 2, (int64_t[]){2, 3}, data, false));
 *   tg_out(&t, 1);
 *   if (tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK) { ... tg_o(&t, 0) ... }
 *   tg_free(&t);
 */
#ifndef CML_TEST_MIL_OPS_UTIL_H
#define CML_TEST_MIL_OPS_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mil/mil.h"

#define TG_MAX_VALUES 64
#define TG_MAX_PARAMS 16

typedef struct tg {
    cml_mil_graph g;
    cml_mil_node node;
    cml_mil_param params[TG_MAX_PARAMS];
    cml_mil_vid pvids[TG_MAX_PARAMS][16];
    cml_mil_vid outs[8];
    cml_error err;
    cml_mil_ctx ctx;
    void *scratch;
    void *bufs[TG_MAX_VALUES];
    int nbufs;
} tg;

static inline void tg_init(tg *t, const char *type, int opset) {
    memset(t, 0, sizeof *t);
    t->g.opset = opset;
    t->g.values = calloc(TG_MAX_VALUES, sizeof(cml_mil_value));
    t->g.values_cap = TG_MAX_VALUES;
    t->node.type = type;
    t->node.name = "test_op";
    t->node.def = cml_mil_op_find(type);
    t->node.params = t->params;
    t->node.outputs = t->outs;
    t->ctx.g = &t->g;
    t->ctx.err = &t->err;
}

static inline void *tg_keep(tg *t, void *p) {
    if (t->nbufs < TG_MAX_VALUES) t->bufs[t->nbufs++] = p;
    return p;
}

/* A tensor value; data (numel * dtype size bytes) is copied. */
static inline cml_mil_vid tg_value(tg *t, const char *name, cml_dtype dt, bool fp16, int32_t rank,
                            const int64_t *shape, const void *data, bool is_const) {
    cml_mil_vid vid = t->g.nvalues++;
    cml_mil_value *v = &t->g.values[vid];
    v->name = name;
    v->kind = CML_MIL_KIND_TENSOR;
    v->dtype = dt;
    v->fp16 = fp16;
    v->rank = rank;
    int64_t n = 1;
    for (int32_t i = 0; i < rank; i++) {
        v->shape[i] = v->bound[i] = shape[i];
        n *= shape[i];
    }
    size_t bytes = (size_t)n * cml_dtype_size(dt);
    v->capacity = bytes;
    v->data = tg_keep(t, calloc(1, bytes ? bytes : 1));
    if (data && bytes) memcpy(v->data, data, bytes);
    v->is_const = is_const;
    v->def_node = -1;
    return vid;
}

static inline cml_mil_vid tg_f32(tg *t, const char *name, int32_t rank, const int64_t *shape,
                          const float *data, bool is_const) {
    return tg_value(t, name, CML_DTYPE_FLOAT32, false, rank, shape, data, is_const);
}

static inline cml_mil_vid tg_i32s(tg *t, const char *name, int n, const int32_t *vals) {
    int64_t s = n;
    return tg_value(t, name, CML_DTYPE_INT32, false, 1, &s, vals, true);
}

static inline cml_mil_vid tg_scalar_i(tg *t, const char *name, int32_t v) {
    return tg_value(t, name, CML_DTYPE_INT32, false, 0, NULL, &v, true);
}

static inline cml_mil_vid tg_scalar_f(tg *t, const char *name, float v) {
    return tg_value(t, name, CML_DTYPE_FLOAT32, false, 0, NULL, &v, true);
}

static inline cml_mil_vid tg_scalar_b(tg *t, const char *name, bool v) {
    uint8_t b = v;
    return tg_value(t, name, CML_DTYPE_BOOL, false, 0, NULL, &b, true);
}

static inline cml_mil_vid tg_bools(tg *t, const char *name, int n, const uint8_t *vals) {
    int64_t s = n;
    return tg_value(t, name, CML_DTYPE_BOOL, false, 1, &s, vals, true);
}

static inline cml_mil_vid tg_str(tg *t, const char *name, const char *s) {
    cml_mil_vid vid = t->g.nvalues++;
    cml_mil_value *v = &t->g.values[vid];
    v->name = name;
    v->kind = CML_MIL_KIND_STRING;
    v->str = s;
    v->is_const = true;
    v->def_node = -1;
    return vid;
}

/* Binds parameter `name` to one value (call again with the same name to
 * append a variadic binding). */
static inline void tg_param(tg *t, const char *name, cml_mil_vid vid) {
    for (uint32_t i = 0; i < t->node.nparams; i++)
        if (strcmp(t->params[i].name, name) == 0) {
            t->pvids[i][t->params[i].count++] = vid;
            return;
        }
    uint32_t i = t->node.nparams++;
    t->params[i].name = name;
    t->params[i].vids = t->pvids[i];
    t->pvids[i][0] = vid;
    t->params[i].count = 1;
}

/* Declares n outputs (untyped until infer). */
static inline void tg_out(tg *t, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        cml_mil_vid vid = t->g.nvalues++;
        t->g.values[vid].name = "out";
        t->g.values[vid].def_node = 0;
        t->outs[i] = vid;
    }
    t->node.noutputs = n;
}

static inline cml_mil_value *tg_v(tg *t, cml_mil_vid vid) { return &t->g.values[vid]; }
static inline cml_mil_value *tg_o(tg *t, uint32_t i) { return &t->g.values[t->outs[i]]; }
static inline float *tg_of(tg *t, uint32_t i) { return (float *)tg_o(t, i)->data; }

/* Runs infer and allocates outputs (capacity) and scratch. */
static inline cml_status tg_infer(tg *t) {
    if (!t->node.def) {
        fprintf(stderr, "op '%s' is not registered\n", t->node.type);
        return CML_ERR_NOT_FOUND;
    }
    t->ctx.compiling = true;
    cml_status st = t->node.def->infer(&t->ctx, &t->node);
    if (st != CML_OK) return st;
    for (uint32_t i = 0; i < t->node.noutputs; i++) {
        cml_mil_value *v = tg_o(t, i);
        v->data = tg_keep(t, calloc(1, v->capacity ? v->capacity : 1));
    }
    t->scratch = tg_keep(t, calloc(1, t->node.scratch ? t->node.scratch : 1));
    t->ctx.scratch = t->scratch;
    t->ctx.scratch_size = t->node.scratch;
    return CML_OK;
}

static inline cml_status tg_run(tg *t) {
    t->ctx.compiling = false;
    return t->node.def->run(&t->ctx, &t->node);
}

/* Shrinks an input's current shape (dynamic run below the bound). */
static inline void tg_reshape(tg *t, cml_mil_vid vid, int32_t rank, const int64_t *shape) {
    cml_mil_value *v = tg_v(t, vid);
    v->rank = rank;
    for (int32_t i = 0; i < rank; i++) v->shape[i] = shape[i];
}

static inline void tg_free(tg *t) {
    for (int i = 0; i < t->nbufs; i++) free(t->bufs[i]);
    for (uint32_t i = 0; i < t->g.nowned; i++) free(t->g.owned[i]);
    free(t->g.owned);
    free(t->g.values);
    memset(t, 0, sizeof *t);
}

/* ---- reference helpers ---------------------------------------------------- */

static uint32_t tg_rng_state = 12345u;
static inline float tg_randf(void) { /* uniform in [-1, 1) */
    tg_rng_state = tg_rng_state * 1664525u + 1013904223u;
    return (float)((tg_rng_state >> 8) & 0xFFFFFF) / 8388608.0f - 1.0f;
}
static inline int tg_randi(int lo, int hi) { /* [lo, hi] */
    tg_rng_state = tg_rng_state * 1664525u + 1013904223u;
    return lo + (int)((tg_rng_state >> 8) % (uint32_t)(hi - lo + 1));
}
static inline float *tg_rand_buf(int64_t n) {
    float *p = malloc(sizeof(float) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) p[i] = tg_randf();
    return p;
}

/* Max |a - b| relative to max(1, |b|). */
static inline double tg_maxerr(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        double s = fabs((double)b[i]) > 1 ? fabs((double)b[i]) : 1;
        if (isnan(a[i]) != isnan(b[i])) return INFINITY;
        if (!isnan(a[i]) && d / s > m) m = d / s;
    }
    return m;
}

static inline bool tg_shape_is(const cml_mil_value *v, int32_t rank, const int64_t *shape) {
    if (v->rank != rank) return false;
    for (int32_t i = 0; i < rank; i++)
        if (v->shape[i] != shape[i]) return false;
    return true;
}

/* Decomposes a flat index into a multi-index (row-major). */
static inline void tg_unravel(int64_t i, int32_t rank, const int64_t *shape, int64_t *idx) {
    for (int32_t d = rank - 1; d >= 0; d--) {
        idx[d] = shape[d] ? i % shape[d] : 0;
        i = shape[d] ? i / shape[d] : 0;
    }
}

/* Flat offset of a broadcast operand (rank ri, right-aligned) at output idx. */
static inline int64_t tg_bcast_off(int32_t ro, const int64_t *idx, int32_t ri, const int64_t *in) {
    int64_t off = 0;
    for (int32_t d = 0; d < ri; d++) {
        int64_t c = idx[ro - ri + d];
        off = off * in[d] + (in[d] == 1 ? 0 : c);
    }
    return off;
}

#endif
