/* Helpers shared by the indexing/scatter op tests: typed element access for
 * every REALHBBF16 dtype (independent of the library's own accessors), exact
 * small-value fills, optional tensor lists and error-message checks. */
#ifndef CML_TEST_ATEN_INDEX_UTIL_H
#define CML_TEST_ATEN_INDEX_UTIL_H

#include "test_aten_util.h"

static const cml_dtype k_all_dtypes[] = {
    CML_DTYPE_UINT8, CML_DTYPE_INT8,     CML_DTYPE_INT16,   CML_DTYPE_INT32, CML_DTYPE_INT64,
    CML_DTYPE_FLOAT16, CML_DTYPE_BFLOAT16, CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT64, CML_DTYPE_BOOL,
};
#define N_ALL_DTYPES ((int)(sizeof k_all_dtypes / sizeof k_all_dtypes[0]))

/* Element i as double (bf16/fp16 decoded by bit manipulation). */
static inline double ti_get(const cml_tensor *t, int64_t i) {
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case CML_DTYPE_UINT8: return p[i];
    case CML_DTYPE_BOOL: return p[i] != 0;
    case CML_DTYPE_INT8: return ((const int8_t *)p)[i];
    case CML_DTYPE_INT16: return ((const int16_t *)p)[i];
    case CML_DTYPE_INT32: return ((const int32_t *)p)[i];
    case CML_DTYPE_INT64: return (double)((const int64_t *)p)[i];
    case CML_DTYPE_FLOAT16: return cml_fp16_to_fp32(((const uint16_t *)p)[i]);
    case CML_DTYPE_BFLOAT16: {
        uint32_t b = (uint32_t)((const uint16_t *)p)[i] << 16;
        float f;
        memcpy(&f, &b, 4);
        return f;
    }
    case CML_DTYPE_FLOAT32: return ((const float *)p)[i];
    case CML_DTYPE_FLOAT64: return ((const double *)p)[i];
    default: return NAN;
    }
}
/* Stores v, which the tests keep exactly representable in the dtype. */
static inline void ti_set(cml_tensor *t, int64_t i, double v) {
    uint8_t *p = t->data;
    switch (t->dtype) {
    case CML_DTYPE_UINT8: p[i] = (uint8_t)v; break;
    case CML_DTYPE_BOOL: p[i] = v != 0; break;
    case CML_DTYPE_INT8: ((int8_t *)p)[i] = (int8_t)v; break;
    case CML_DTYPE_INT16: ((int16_t *)p)[i] = (int16_t)v; break;
    case CML_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)v; break;
    case CML_DTYPE_INT64: ((int64_t *)p)[i] = (int64_t)v; break;
    case CML_DTYPE_FLOAT16: ((uint16_t *)p)[i] = cml_fp32_to_fp16((float)v); break;
    case CML_DTYPE_BFLOAT16: {
        float f = (float)v;
        uint32_t b;
        memcpy(&b, &f, 4);
        ((uint16_t *)p)[i] = (uint16_t)(b >> 16); /* exact for the small values used */
        break;
    }
    case CML_DTYPE_FLOAT32: ((float *)p)[i] = (float)v; break;
    case CML_DTYPE_FLOAT64: ((double *)p)[i] = v; break;
    default: break;
    }
}
/* A random value exact in every dtype (bool: 0/1; unsigned: 0..20;
 * floats: multiples of 1/4 in [-5, 5]; ints: -10..10). */
static inline double ti_rand_val(cml_dtype dt) {
    if (dt == CML_DTYPE_BOOL) return (double)(tv_rand() & 1);
    if (dt == CML_DTYPE_UINT8) return (double)tv_randint(0, 20);
    if (dt == CML_DTYPE_FLOAT16 || dt == CML_DTYPE_BFLOAT16 || dt == CML_DTYPE_FLOAT32 ||
        dt == CML_DTYPE_FLOAT64)
        return (double)tv_randint(-20, 20) / 4.0;
    return (double)tv_randint(-10, 10);
}
static inline void ti_fill(cml_evalue *v) {
    int64_t n = cml_tensor_numel(T(v));
    for (int64_t i = 0; i < n; i++) ti_set(T(v), i, ti_rand_val(T(v)->dtype));
}
static inline void ti_iota(cml_evalue *v) {
    int64_t n = cml_tensor_numel(T(v));
    for (int64_t i = 0; i < n; i++) ti_set(T(v), i, (double)i);
}
static inline void ti_set_all(cml_evalue *v, const double *vals) {
    int64_t n = cml_tensor_numel(T(v));
    for (int64_t i = 0; i < n; i++) ti_set(T(v), i, vals[i]);
}
/* Adds in the test's exact double arithmetic (bool: or). */
static inline double ti_add(cml_dtype dt, double a, double b) {
    if (dt == CML_DTYPE_BOOL) return (a != 0 || b != 0) ? 1 : 0;
    return a + b;
}
/* A Tensor?[] list; NULL items are None (-1). */
static inline cml_evalue *ti_opt_list(tenv *e, uint32_t n, cml_evalue **items) {
    cml_evalue *v = tv_new(e, CML_VALUE_OPT_TENSOR_LIST);
    uint32_t i = (uint32_t)tv_index(e, v);
    for (uint32_t k = 0; k < n; k++) e->tlists[i][k] = items[k] ? tv_index(e, items[k]) : -1;
    v->u.tensor_list.items = e->tlists[i];
    v->u.tensor_list.count = n;
    return v;
}
#define OPTL(e, ...) ti_opt_list(e, NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))
/* An int64 tensor of the given values, shape [n]. */
static inline cml_evalue *ti_idx(tenv *e, cml_dtype dt, uint32_t n, const int64_t *vals) {
    cml_evalue *v = tv_tensor(e, dt, 1, S((int64_t)n));
    for (uint32_t k = 0; k < n; k++) ti_set(T(v), k, (double)vals[k]);
    return v;
}
#define IDX(e, ...) ti_idx(e, CML_DTYPE_INT64, (uint32_t)RANK(__VA_ARGS__), S(__VA_ARGS__))
/* True when every element equals ref exactly. */
static inline bool ti_equal(const char *what, const cml_tensor *t, const double *ref, int64_t n) {
    if (cml_tensor_numel(t) != n) {
        fprintf(stderr, "%s: numel %lld, expected %lld\n", what, (long long)cml_tensor_numel(t),
                (long long)n);
        return false;
    }
    for (int64_t i = 0; i < n; i++)
        if (!(ti_get(t, i) == ref[i] || (isnan(ti_get(t, i)) && isnan(ref[i])))) {
            fprintf(stderr, "%s (%s): [%lld] got %.8g expected %.8g\n", what,
                    cml_dtype_name(t->dtype), (long long)i, ti_get(t, i), ref[i]);
            return false;
        }
    return true;
}
/* The last error message contains every given fragment. */
static inline bool ti_msg_has(const tenv *e, const char *a, const char *b) {
    bool ok = strstr(e->err.msg, a) && (!b || strstr(e->err.msg, b));
    if (!ok) fprintf(stderr, "message was: %s\n", e->err.msg);
    return ok;
}

#endif
