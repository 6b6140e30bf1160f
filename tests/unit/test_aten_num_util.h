/* Helpers for the tests of the ops that accept every real dtype: tensors
 * built from and read as doubles through the kernel layer's conversion, the
 * dtype lists, and per-dtype tolerances. */
#ifndef CML_TEST_ATEN_NUM_UTIL_H
#define CML_TEST_ATEN_NUM_UTIL_H

#include <math.h>

#include "kernels/kernels.h"
#include "test_aten_util.h"

static const cml_dtype TN_FLOATS[] = {CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT64, CML_DTYPE_FLOAT16,
                                      CML_DTYPE_BFLOAT16};
static const cml_dtype TN_INTS[] = {CML_DTYPE_UINT8, CML_DTYPE_INT8, CML_DTYPE_INT16,
                                    CML_DTYPE_INT32, CML_DTYPE_INT64};
#define TN_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static inline bool tn_is_float(cml_dtype dt) {
    return dt == CML_DTYPE_FLOAT32 || dt == CML_DTYPE_FLOAT64 || dt == CML_DTYPE_FLOAT16 ||
           dt == CML_DTYPE_BFLOAT16;
}

/* Element i as double, any dtype. */
static inline double tn_get(const cml_tensor *t, int64_t i) {
    double d = 0;
    size_t es = cml_dtype_size(t->dtype);
    cml_k_convert(t->dtype, (const uint8_t *)t->data + (size_t)i * es, CML_DTYPE_FLOAT64, &d, 1);
    return d;
}
static inline void tn_set(cml_tensor *t, int64_t i, double v) {
    size_t es = cml_dtype_size(t->dtype);
    cml_k_convert(CML_DTYPE_FLOAT64, &v, t->dtype, (uint8_t *)t->data + (size_t)i * es, 1);
}
/* A static tensor filled from vals (converted), or zeros when vals is NULL. */
static inline cml_evalue *tn_tensor(tenv *e, cml_dtype dt, int32_t rank, const int64_t *sizes,
                                    const double *vals) {
    cml_evalue *v = tv_tensor(e, dt, rank, sizes);
    if (vals) {
        int64_t n = cml_tensor_numel(T(v));
        for (int64_t i = 0; i < n; i++) tn_set(T(v), i, vals[i]);
    }
    return v;
}
/* An output with room for cap elements (dynamic bound), of the given rank. */
static inline cml_evalue *tn_out(tenv *e, cml_dtype dt, int32_t rank, int64_t cap) {
    return tv_dyn_out(e, dt, rank, cap);
}
/* The value a reference double becomes in dtype dt. */
static inline double tn_round(cml_dtype dt, double v) {
    uint8_t buf[8];
    double d = 0;
    cml_k_convert(CML_DTYPE_FLOAT64, &v, dt, buf, 1);
    cml_k_convert(dt, buf, CML_DTYPE_FLOAT64, &d, 1);
    return d;
}
/* Tolerance for values of magnitude ~1..10 computed in dtype dt. */
static inline double tn_tol(cml_dtype dt) {
    switch (dt) {
    case CML_DTYPE_FLOAT16: return 2e-2;
    case CML_DTYPE_BFLOAT16: return 8e-2;
    case CML_DTYPE_FLOAT32: return 2e-5;
    default: return 1e-6;
    }
}
/* Compares t (numel n) against ref; reports the first mismatch. */
static inline bool tn_check(const char *what, const cml_tensor *t, const double *ref, int64_t n,
                            double tol) {
    if (cml_tensor_numel(t) != n) {
        fprintf(stderr, "%s: numel %lld, expected %lld\n", what, (long long)cml_tensor_numel(t),
                (long long)n);
        return false;
    }
    for (int64_t i = 0; i < n; i++) {
        double got = tn_get(t, i);
        if (!tv_close(got, ref[i], tol, tol)) {
            fprintf(stderr, "%s (%s): [%lld] got %.9g expected %.9g\n", what,
                    cml_dtype_name(t->dtype), (long long)i, got, ref[i]);
            return false;
        }
    }
    return true;
}
/* A DoubleList value (items stored in the env's list storage). */
static inline cml_evalue *tn_double_list(tenv *e, uint32_t n, const double *vals) {
    cml_evalue *v = tv_new(e, CML_VALUE_DOUBLE_LIST);
    uint32_t i = (uint32_t)tv_index(e, v);
    double *store = (double *)e->lists[i];
    for (uint32_t k = 0; k < n; k++) store[k] = vals[k];
    v->u.double_list.items = store;
    v->u.double_list.count = n;
    return v;
}
/* The error message contains the op name. */
static inline bool tn_msg_names(const tenv *e, const char *op) { return strstr(e->err.msg, op) != NULL; }

#endif
