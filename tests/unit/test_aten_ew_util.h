/* Helpers for the typed elementwise op tests (test_aten_math.c,
 * test_aten_bitwise.c): naive element access for every real dtype, edge
 * value fills, the reference type promotion written out as a table, and
 * naive rounding into an output dtype. Independent of the library's own
 * conversion code. */
#ifndef CML_TEST_ATEN_EW_UTIL_H
#define CML_TEST_ATEN_EW_UTIL_H

#include <float.h>
#include <math.h>

#include "test_aten_util.h"

static const cml_dtype EW_ALL[] = {CML_DTYPE_UINT8,   CML_DTYPE_INT8,    CML_DTYPE_INT16,
                                   CML_DTYPE_INT32,   CML_DTYPE_INT64,   CML_DTYPE_FLOAT16,
                                   CML_DTYPE_BFLOAT16, CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT64,
                                   CML_DTYPE_BOOL};
#define EW_NALL ((int)(sizeof EW_ALL / sizeof EW_ALL[0]))

static inline bool cml_ew_t_float(cml_dtype d) {
    return d == CML_DTYPE_FLOAT16 || d == CML_DTYPE_BFLOAT16 || d == CML_DTYPE_FLOAT32 ||
           d == CML_DTYPE_FLOAT64;
}
static inline bool cml_ew_t_int(cml_dtype d) {
    return d == CML_DTYPE_UINT8 || d == CML_DTYPE_INT8 || d == CML_DTYPE_INT16 ||
           d == CML_DTYPE_INT32 || d == CML_DTYPE_INT64;
}

static inline float cml_ew_bf16_to_f32(uint16_t h) {
    uint32_t b = (uint32_t)h << 16;
    float f;
    memcpy(&f, &b, 4);
    return f;
}
/* Round-to-nearest-even float -> bf16, NaN kept NaN. */
static inline uint16_t cml_ew_f32_to_bf16(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    if (isnan(f)) return (uint16_t)((b >> 16) | 0x40);
    b += 0x7fffu + ((b >> 16) & 1u);
    return (uint16_t)(b >> 16);
}

/* Element i as double / as int64 (integers and bool exact). */
static inline double cml_ew_getd(const cml_tensor *t, int64_t i) {
    const void *p = t->data;
    switch (t->dtype) {
    case CML_DTYPE_UINT8: case CML_DTYPE_BOOL: return ((const uint8_t *)p)[i];
    case CML_DTYPE_INT8: return ((const int8_t *)p)[i];
    case CML_DTYPE_INT16: return ((const int16_t *)p)[i];
    case CML_DTYPE_INT32: return ((const int32_t *)p)[i];
    case CML_DTYPE_INT64: return (double)((const int64_t *)p)[i];
    case CML_DTYPE_FLOAT16: return cml_fp16_to_fp32(((const uint16_t *)p)[i]);
    case CML_DTYPE_BFLOAT16: return cml_ew_bf16_to_f32(((const uint16_t *)p)[i]);
    case CML_DTYPE_FLOAT32: return ((const float *)p)[i];
    case CML_DTYPE_FLOAT64: return ((const double *)p)[i];
    default: return NAN;
    }
}
static inline int64_t cml_ew_geti(const cml_tensor *t, int64_t i) {
    const void *p = t->data;
    switch (t->dtype) {
    case CML_DTYPE_UINT8: case CML_DTYPE_BOOL: return ((const uint8_t *)p)[i];
    case CML_DTYPE_INT8: return ((const int8_t *)p)[i];
    case CML_DTYPE_INT16: return ((const int16_t *)p)[i];
    case CML_DTYPE_INT32: return ((const int32_t *)p)[i];
    case CML_DTYPE_INT64: return ((const int64_t *)p)[i];
    default: return (int64_t)cml_ew_getd(t, i);
    }
}

/* Stores a value representable in t's dtype (floats rounded to nearest). */
static inline void cml_ew_set(cml_tensor *t, int64_t i, double v) {
    void *p = t->data;
    switch (t->dtype) {
    case CML_DTYPE_UINT8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case CML_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case CML_DTYPE_INT8: ((int8_t *)p)[i] = (int8_t)v; break;
    case CML_DTYPE_INT16: ((int16_t *)p)[i] = (int16_t)v; break;
    case CML_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)v; break;
    case CML_DTYPE_INT64: ((int64_t *)p)[i] = (int64_t)v; break;
    case CML_DTYPE_FLOAT16: ((uint16_t *)p)[i] = cml_fp32_to_fp16((float)v); break;
    case CML_DTYPE_BFLOAT16: ((uint16_t *)p)[i] = cml_ew_f32_to_bf16((float)v); break;
    case CML_DTYPE_FLOAT32: ((float *)p)[i] = (float)v; break;
    case CML_DTYPE_FLOAT64: ((double *)p)[i] = v; break;
    default: break;
    }
}
static inline void cml_ew_seti(cml_tensor *t, int64_t i, int64_t v) {
    if (t->dtype == CML_DTYPE_INT64) ((int64_t *)t->data)[i] = v;
    else cml_ew_set(t, i, (double)v);
}

/* Smallest / largest value of an integer dtype. */
static inline void cml_ew_int_range(cml_dtype d, int64_t *lo, int64_t *hi) {
    switch (d) {
    case CML_DTYPE_UINT8: *lo = 0; *hi = 255; break;
    case CML_DTYPE_INT8: *lo = -128; *hi = 127; break;
    case CML_DTYPE_INT16: *lo = -32768; *hi = 32767; break;
    case CML_DTYPE_INT32: *lo = INT32_MIN; *hi = INT32_MAX; break;
    case CML_DTYPE_INT64: *lo = INT64_MIN; *hi = INT64_MAX; break;
    default: *lo = 0; *hi = 1; break;
    }
}

/* Fills t: the first elements are edge values of its dtype (0, +-1, the
 * extremes, inf/nan for floats), the rest random in [-span, span]. */
static inline void cml_ew_fill(cml_tensor *t, double span, bool edges) {
    int64_t n = cml_tensor_numel(t), lo, hi;
    cml_ew_int_range(t->dtype, &lo, &hi);
    double fe[] = {0.0, -0.0, 1.0, -1.0, 0.5, -2.5, INFINITY, -INFINITY, NAN, 1e-3, 60000.0, -7.0};
    int64_t ie[] = {0, 1, -1, lo, hi, lo + 1, hi - 1, 7, -7, 2};
    for (int64_t i = 0; i < n; i++) {
        if (t->dtype == CML_DTYPE_BOOL) {
            cml_ew_set(t, i, (double)(tv_rand() & 1));
        } else if (cml_ew_t_float(t->dtype)) {
            double v = tv_randf() * span;
            if (edges && i < (int64_t)(sizeof fe / sizeof fe[0])) v = fe[i];
            cml_ew_set(t, i, v);
        } else {
            int64_t v = (int64_t)(tv_randf() * span);
            if (edges && i < (int64_t)(sizeof ie / sizeof ie[0])) v = ie[i];
            if (v < lo) v = lo;
            if (v > hi) v = hi;
            cml_ew_seti(t, i, v);
        }
    }
}

/* v as the integer dtype d (C conversion: the low bits). */
static inline int64_t cml_ew_t_wrap(cml_dtype d, int64_t v) {
    switch (d) {
    case CML_DTYPE_UINT8: return (uint8_t)v;
    case CML_DTYPE_INT8: return (int8_t)v;
    case CML_DTYPE_INT16: return (int16_t)v;
    case CML_DTYPE_INT32: return (int32_t)v;
    case CML_DTYPE_BOOL: return v != 0;
    default: return v;
    }
}

/* torch.promote_types, written out by category and rank. */
static inline int cml_ew_t_rank(cml_dtype d) {
    switch (d) {
    case CML_DTYPE_BOOL: return 0;
    case CML_DTYPE_UINT8: return 1;
    case CML_DTYPE_INT8: return 2;
    case CML_DTYPE_INT16: return 3;
    case CML_DTYPE_INT32: return 4;
    case CML_DTYPE_INT64: return 5;
    case CML_DTYPE_FLOAT16: return 6;
    case CML_DTYPE_BFLOAT16: return 7;
    case CML_DTYPE_FLOAT32: return 8;
    default: return 9;
    }
}
static inline cml_dtype cml_ew_t_promote(cml_dtype a, cml_dtype b) {
    if (a == b) return a;
    if ((a == CML_DTYPE_UINT8 && b == CML_DTYPE_INT8) || (a == CML_DTYPE_INT8 && b == CML_DTYPE_UINT8))
        return CML_DTYPE_INT16;
    if ((a == CML_DTYPE_FLOAT16 && b == CML_DTYPE_BFLOAT16) ||
        (a == CML_DTYPE_BFLOAT16 && b == CML_DTYPE_FLOAT16))
        return CML_DTYPE_FLOAT32;
    return cml_ew_t_rank(a) > cml_ew_t_rank(b) ? a : b;
}

/* A compute-precision value rounded into dtype d, read back as double. */
static inline double cml_ew_round_to(cml_dtype d, double v) {
    switch (d) {
    case CML_DTYPE_FLOAT16: return cml_fp16_to_fp32(cml_fp32_to_fp16((float)v));
    case CML_DTYPE_BFLOAT16: return cml_ew_bf16_to_f32(cml_ew_f32_to_bf16((float)v));
    case CML_DTYPE_FLOAT32: return (float)v;
    default: return v;
    }
}

/* Equal as floats of dtype d: NaN matches NaN; fp16/bf16 within one unit
 * of the last place (double rounding from fp64 compute). */
static inline bool cml_ew_same_float(cml_dtype d, double got, double want) {
    if (isnan(got) || isnan(want)) return isnan(got) && isnan(want);
    if (isinf(got) || isinf(want)) return got == want;
    double tol = d == CML_DTYPE_FLOAT16 ? 1e-3 : d == CML_DTYPE_BFLOAT16 ? 8e-3
               : d == CML_DTYPE_FLOAT32 ? 2e-7 : 1e-15;
    return fabs(got - want) <= tol * fabs(want) + (d == CML_DTYPE_FLOAT16 ? 6e-8 : 1e-300);
}

/* A tensor of dtype d and the given shape, dynamic-bound for outputs. */
static inline cml_evalue *cml_ew_tensor(tenv *e, cml_dtype d, int32_t rank, const int64_t *sizes) {
    return tv_tensor_cap(e, d, rank, sizes, 0, CML_SHAPE_DYNAMIC_BOUND);
}

/* True when e's last error message names the op. */
static inline bool cml_ew_msg_names(const tenv *e, const char *op) {
    return strstr(e->err.msg, op) != NULL;
}

#endif
