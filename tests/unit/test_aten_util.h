/* Helpers for the aten operator tests: a hand-built value table (the
 * KernelCall args point into it, IntList items are indices into it), random
 * data, fp16 conversion, and a prepare+run driver with aligned scratch. */
#ifndef CML_TEST_ATEN_UTIL_H
#define CML_TEST_ATEN_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fp16.h"
#include "exec/op.h"
#include "harness.h"

#define TV_MAX 512

typedef struct tenv {
    cml_evalue v[TV_MAX];
    cml_tensor t[TV_MAX];
    int64_t lists[TV_MAX][CML_MAX_DIMS * 4]; /* int list / tensor list item storage */
    int32_t tlists[TV_MAX][64];
    void *bufs[TV_MAX];
    uint32_t n;
    cml_error err;
} tenv;

/* Thread pool handed to ops (NULL = inline); tests may set it. */
static cml_threadpool *tv_pool = NULL;

static uint64_t tv_rng_state = 0x9e3779b97f4a7c15ull;
static inline uint32_t tv_rand(void) {
    tv_rng_state ^= tv_rng_state << 13;
    tv_rng_state ^= tv_rng_state >> 7;
    tv_rng_state ^= tv_rng_state << 17;
    return (uint32_t)(tv_rng_state >> 11);
}
/* Uniform in [lo, hi]. */
static inline int64_t tv_randint(int64_t lo, int64_t hi) {
    return lo + (int64_t)(tv_rand() % (uint32_t)(hi - lo + 1));
}
static inline float tv_randf(void) { return (float)(tv_rand() % 2000001) / 1000000.0f - 1.0f; }

static inline void tv_init(tenv *e) { memset(e, 0, sizeof *e); }
static inline void tv_free(tenv *e) {
    for (uint32_t i = 0; i < e->n; i++) free(e->bufs[i]);
    memset(e, 0, sizeof *e);
}

static inline cml_evalue *tv_new(tenv *e, cml_value_kind k) {
    if (e->n >= TV_MAX) {
        fprintf(stderr, "tenv full\n");
        exit(2);
    }
    cml_evalue *v = &e->v[e->n++];
    memset(v, 0, sizeof *v);
    v->kind = k;
    return v;
}
static inline int32_t tv_index(tenv *e, const cml_evalue *v) { return (int32_t)(v - e->v); }

/* A tensor of the given shape with capacity for cap_numel elements (0 =
 * exactly the shape), zero-filled. */
static inline cml_evalue *tv_tensor_cap(tenv *e, cml_dtype dt, int32_t rank, const int64_t *sizes,
                                        int64_t cap_numel, uint8_t dynamism) {
    cml_evalue *v = tv_new(e, CML_VALUE_TENSOR);
    uint32_t i = (uint32_t)tv_index(e, v);
    cml_tensor *t = &e->t[i];
    memset(t, 0, sizeof *t);
    t->dtype = dt;
    t->rank = rank;
    int64_t n = 1;
    for (int32_t d = 0; d < rank; d++) {
        t->sizes[d] = sizes[d];
        t->dim_order[d] = (uint8_t)d;
        n *= sizes[d];
    }
    if (cap_numel < n) cap_numel = n;
    t->dynamism = dynamism;
    t->capacity = (size_t)cap_numel * cml_dtype_size(dt);
    e->bufs[i] = calloc(1, t->capacity + 64);
    t->data = e->bufs[i];
    v->u.t = t;
    return v;
}
static inline cml_evalue *tv_tensor(tenv *e, cml_dtype dt, int32_t rank, const int64_t *sizes) {
    return tv_tensor_cap(e, dt, rank, sizes, 0, CML_SHAPE_STATIC);
}
/* An output bound (dynamic) of capacity cap elements, shape [cap] initially. */
static inline cml_evalue *tv_dyn_out(tenv *e, cml_dtype dt, int32_t rank, int64_t cap) {
    int64_t sizes[CML_MAX_DIMS];
    for (int32_t d = 0; d < rank; d++) sizes[d] = d == 0 ? cap : 1;
    return tv_tensor_cap(e, dt, rank, sizes, cap, CML_SHAPE_DYNAMIC_BOUND);
}
static inline cml_tensor *T(cml_evalue *v) { return v->u.t; }

static inline cml_evalue *tv_int(tenv *e, int64_t x) {
    cml_evalue *v = tv_new(e, CML_VALUE_INT);
    v->u.i = x;
    return v;
}
static inline cml_evalue *tv_double(tenv *e, double x) {
    cml_evalue *v = tv_new(e, CML_VALUE_DOUBLE);
    v->u.d = x;
    return v;
}
static inline cml_evalue *tv_bool(tenv *e, bool x) {
    cml_evalue *v = tv_new(e, CML_VALUE_BOOL);
    v->u.b = x;
    return v;
}
static inline cml_evalue *tv_null(tenv *e) { return tv_new(e, CML_VALUE_NULL); }
/* The emitter's None for a plain Tensor argument. */
static inline cml_evalue *tv_none_tensor(tenv *e) {
    int64_t z = 0;
    return tv_tensor(e, CML_DTYPE_UINT8, 1, &z);
}
static inline cml_evalue *tv_str(tenv *e, const char *s) {
    cml_evalue *v = tv_new(e, CML_VALUE_STRING);
    v->u.s.ptr = s;
    v->u.s.len = (uint32_t)strlen(s);
    return v;
}
static inline cml_evalue *tv_int_list(tenv *e, uint32_t n, const int64_t *vals) {
    int32_t idx[CML_MAX_DIMS * 4];
    for (uint32_t k = 0; k < n; k++) idx[k] = tv_index(e, tv_int(e, vals[k]));
    cml_evalue *v = tv_new(e, CML_VALUE_INT_LIST);
    uint32_t i = (uint32_t)tv_index(e, v);
    for (uint32_t k = 0; k < n; k++) e->lists[i][k] = idx[k];
    v->u.int_list.items = e->lists[i];
    v->u.int_list.count = n;
    return v;
}
/* IL(e, 1, 2, 3): an IntList; S(1, 2): a sizes array literal. */
#define IL(e, ...)                                                                          \
    tv_int_list(e, (uint32_t)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),         \
                (int64_t[]){__VA_ARGS__})
#define S(...) ((int64_t[]){__VA_ARGS__})
#define RANK(...) ((int32_t)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
/* A static tensor of the given shape: TS(e, dtype, 2, 3). */
#define TS(e, dt, ...) tv_tensor(e, dt, RANK(__VA_ARGS__), S(__VA_ARGS__))
static inline cml_evalue *tv_tensor_list(tenv *e, uint32_t n, cml_evalue **items) {
    cml_evalue *v = tv_new(e, CML_VALUE_TENSOR_LIST);
    uint32_t i = (uint32_t)tv_index(e, v);
    for (uint32_t k = 0; k < n; k++) e->tlists[i][k] = tv_index(e, items[k]);
    v->u.tensor_list.items = e->tlists[i];
    v->u.tensor_list.count = n;
    return v;
}

/* Fill helpers. */
static inline void tv_fill_rand(cml_evalue *v) {
    cml_tensor *t = v->u.t;
    int64_t n = cml_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case CML_DTYPE_FLOAT32: ((float *)t->data)[i] = tv_randf(); break;
        case CML_DTYPE_FLOAT16: ((uint16_t *)t->data)[i] = cml_fp32_to_fp16(tv_randf()); break;
        case CML_DTYPE_INT64: ((int64_t *)t->data)[i] = tv_randint(-50, 50); break;
        case CML_DTYPE_INT32: ((int32_t *)t->data)[i] = (int32_t)tv_randint(-50, 50); break;
        case CML_DTYPE_BOOL: ((uint8_t *)t->data)[i] = (uint8_t)(tv_rand() & 1); break;
        case CML_DTYPE_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)tv_rand(); break;
        default: break;
        }
    }
}
/* Element i as double, any supported dtype. */
static inline double tv_get(const cml_tensor *t, int64_t i) {
    switch (t->dtype) {
    case CML_DTYPE_FLOAT32: return ((const float *)t->data)[i];
    case CML_DTYPE_FLOAT16: return cml_fp16_to_fp32(((const uint16_t *)t->data)[i]);
    case CML_DTYPE_INT64: return (double)((const int64_t *)t->data)[i];
    case CML_DTYPE_INT32: return ((const int32_t *)t->data)[i];
    case CML_DTYPE_BOOL:
    case CML_DTYPE_UINT8: return ((const uint8_t *)t->data)[i];
    default: return NAN;
    }
}
static inline float *F(cml_evalue *v) { return (float *)v->u.t->data; }

/* Bytes of tensor i of the table (0 for non-tensors and data-less ones). */
static inline size_t tv_tensor_bytes(const tenv *e, uint32_t i) {
    if (e->v[i].kind != CML_VALUE_TENSOR || !e->v[i].u.t->data) return 0;
    const cml_tensor *t = e->v[i].u.t;
    return t->capacity ? t->capacity : cml_tensor_nbytes(t);
}

static char tv_check_msg[CML_ERRMSG_SIZE]; /* the last check-only message */
#define TV_POISON 0x7f /* int64 indices far out of range, huge floats */

/* Runs op in check_only mode, as method creation does (method_check.c),
 * with every tensor's data replaced by TV_POISON bytes: at load, inputs
 * hold no data yet. Asserts that the run wrote no tensor data; then puts
 * back every value, tensor struct and byte. Returns the check-only status. */
static inline cml_status tv_check_only(tenv *e, cml_kernel_ctx *ctx, const cml_op *op,
                                       cml_evalue **args, uint32_t nargs) {
    static cml_evalue v[TV_MAX];
    static cml_tensor t[TV_MAX];
    static void *saved[TV_MAX];
    memcpy(v, e->v, sizeof v);
    memcpy(t, e->t, sizeof t);
    for (uint32_t i = 0; i < e->n; i++) {
        size_t nb = tv_tensor_bytes(e, i);
        saved[i] = nb ? malloc(nb) : NULL;
        if (nb) memcpy(saved[i], e->v[i].u.t->data, nb);
    }
    for (uint32_t i = 0; i < e->n; i++)
        if (saved[i]) memset(e->v[i].u.t->data, TV_POISON, tv_tensor_bytes(e, i));
    ctx->check_only = true;
    cml_status st = op->run(ctx, args, nargs);
    ctx->check_only = false;
    memcpy(e->v, v, sizeof v);
    memcpy(e->t, t, sizeof t);
    bool wrote = false;
    for (uint32_t i = 0; i < e->n; i++) {
        if (!saved[i]) continue;
        const uint8_t *d = e->v[i].u.t->data;
        for (size_t k = 0; k < tv_tensor_bytes(e, i); k++) wrote |= d[k] != TV_POISON;
    }
    for (uint32_t i = 0; i < e->n; i++) /* in reverse: an alias gets its owner's bytes */
        if (saved[e->n - 1 - i]) {
            memcpy(e->v[e->n - 1 - i].u.t->data, saved[e->n - 1 - i], tv_tensor_bytes(e, e->n - 1 - i));
            free(saved[e->n - 1 - i]);
        }
    if (wrote) {
        fprintf(stderr, "%s: the check-only run wrote tensor data\n", op->name);
        CHECK(0);
    }
    snprintf(tv_check_msg, sizeof tv_check_msg, "%s", e->err.msg);
    cml_error_clear(&e->err);
    return st;
}

/* Runs prepare + run; returns the status of whichever failed first. */
static inline cml_status tv_call(tenv *e, const char *name, cml_evalue **args, uint32_t nargs) {
    const cml_op *op = cml_op_find(name, strlen(name));
    if (!op) {
        fprintf(stderr, "op %s not registered\n", name);
        return CML_ERR_NOT_FOUND;
    }
    if (op->nargs != nargs) {
        fprintf(stderr, "op %s: nargs %u, registry says %u\n", name, nargs, op->nargs);
        return CML_ERR_INVALID_ARG;
    }
    cml_error_clear(&e->err);
    cml_kernel_ctx ctx = {.err = &e->err, .pool = tv_pool, .values = e->v, .nvalues = e->n};
    size_t need = 0;
    cml_status st = op->prepare(&ctx, args, nargs, &need);
    if (st != CML_OK) return st;
    void *scratch = NULL;
    if (need) {
        scratch = aligned_alloc(64, (need + 63) & ~(size_t)63);
        memset(scratch, 0xA5, need); /* poison */
    }
    ctx.scratch = scratch;
    ctx.scratch_size = need;
    cml_status checked = tv_check_only(e, &ctx, op, args, nargs);
    st = op->run(&ctx, args, nargs);
    free(scratch);
    /* The check-only run is a prefix of the real one, blind to data: an
     * error it reports, the real run reports too (maybe an earlier one). */
    if (checked != CML_OK && checked != CML_SHAPES_CHECKED && st == CML_OK) {
        fprintf(stderr, "%s: check-only run failed with %d (%s), the real run with %d\n", op->name,
                (int)checked, tv_check_msg, (int)st);
        CHECK(0);
    }
    return st;
}
/* Only prepare. */
static inline cml_status tv_prepare(tenv *e, const char *name, cml_evalue **args, uint32_t nargs) {
    const cml_op *op = cml_op_find(name, strlen(name));
    if (!op) return CML_ERR_NOT_FOUND;
    cml_error_clear(&e->err);
    cml_kernel_ctx ctx = {.err = &e->err, .values = e->v, .nvalues = e->n};
    size_t need = 0;
    return op->prepare(&ctx, args, nargs, &need);
}

#define ARGS(...) ((cml_evalue *[]){__VA_ARGS__})
#define NARGS(...) ((uint32_t)(sizeof((cml_evalue *[]){__VA_ARGS__}) / sizeof(cml_evalue *)))
#define CALL(e, name, ...) tv_call(e, name, ARGS(__VA_ARGS__), NARGS(__VA_ARGS__))
#define PREP(e, name, ...) tv_prepare(e, name, ARGS(__VA_ARGS__), NARGS(__VA_ARGS__))

/* Relative+absolute closeness. */
static inline bool tv_close(double a, double b, double atol, double rtol) {
    if (isnan(a) && isnan(b)) return true;
    if (isinf(a) || isinf(b)) return a == b;
    return fabs(a - b) <= atol + rtol * fabs(b);
}

/* Compares a tensor against doubles; reports the first mismatch. */
static inline bool tv_check_all(const char *what, const cml_tensor *t, const double *ref, int64_t n,
                                double atol, double rtol) {
    if (cml_tensor_numel(t) != n) {
        fprintf(stderr, "%s: numel %lld, expected %lld\n", what, (long long)cml_tensor_numel(t),
                (long long)n);
        return false;
    }
    for (int64_t i = 0; i < n; i++) {
        double got = tv_get(t, i);
        if (!tv_close(got, ref[i], atol, rtol)) {
            fprintf(stderr, "%s: [%lld] got %.8g expected %.8g\n", what, (long long)i, got, ref[i]);
            return false;
        }
    }
    return true;
}

static inline bool tv_shape_is(const cml_tensor *t, int32_t rank, const int64_t *sizes) {
    if (t->rank != rank) return false;
    for (int32_t d = 0; d < rank; d++)
        if (t->sizes[d] != sizes[d]) return false;
    return true;
}

/* Row-major unravel of flat index i over sizes. */
static inline void tv_unravel(int64_t i, int32_t rank, const int64_t *sizes, int64_t *idx) {
    for (int32_t d = rank - 1; d >= 0; d--) {
        idx[d] = sizes[d] ? i % sizes[d] : 0;
        i = sizes[d] ? i / sizes[d] : 0;
    }
}

#endif
