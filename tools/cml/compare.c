/* numpy.allclose-style comparison of two arrays of any real dtype. */
#include "compare.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/fp16.h"

bool cli_compare_dtype_ok(cml_dtype t) {
    switch (t) {
    case CML_DTYPE_COMPLEX32:
    case CML_DTYPE_COMPLEX64:
    case CML_DTYPE_COMPLEX128: return false;
    default: return cml_dtype_size(t) != 0;
    }
}

double cli_value_as_double(cml_dtype t, const void *data, size_t i) {
    switch (t) {
    case CML_DTYPE_FLOAT32: return ((const float *)data)[i];
    case CML_DTYPE_FLOAT64: return ((const double *)data)[i];
    case CML_DTYPE_FLOAT16: return cml_fp16_to_fp32(((const uint16_t *)data)[i]);
    case CML_DTYPE_BFLOAT16: return cml_bf16_to_fp32(((const uint16_t *)data)[i]);
    case CML_DTYPE_INT8: return ((const int8_t *)data)[i];
    case CML_DTYPE_INT16: return ((const int16_t *)data)[i];
    case CML_DTYPE_INT32: return ((const int32_t *)data)[i];
    case CML_DTYPE_INT64: return (double)((const int64_t *)data)[i];
    case CML_DTYPE_UINT8: return ((const uint8_t *)data)[i];
    case CML_DTYPE_UINT16: return ((const uint16_t *)data)[i];
    case CML_DTYPE_UINT32: return ((const uint32_t *)data)[i];
    case CML_DTYPE_UINT64: return (double)((const uint64_t *)data)[i];
    case CML_DTYPE_BOOL: return ((const uint8_t *)data)[i] != 0;
    default: return NAN;
    }
}

/* One element: updates r; NaN and infinities as numpy.isclose(equal_nan=True). */
static void compare_one(double x, double y, double rtol, double atol, size_t i,
                        cli_cmp_result *r) {
    if (isnan(x) || isnan(y)) {
        if (!(isnan(x) && isnan(y))) {
            r->mismatches++;
            r->nan_mismatches++;
        }
        return;
    }
    bool inf = isinf(x) || isinf(y);
    double e = inf ? (x == y ? 0.0 : INFINITY) : fabs(x - y);
    if (e > r->max_abs) {
        r->max_abs = e;
        r->worst = i;
    }
    if (y != 0 && !isinf(y) && e / fabs(y) > r->max_rel) r->max_rel = e / fabs(y);
    bool ok = inf ? x == y : e <= atol + rtol * fabs(y);
    if (!ok) r->mismatches++;
}

void cli_compare_arrays(cml_dtype ta, const void *a, cml_dtype tb, const void *b, size_t n,
                        double rtol, double atol, cli_cmp_result *r) {
    memset(r, 0, sizeof *r);
    r->numel = n;
    for (size_t i = 0; i < n; i++)
        compare_one(cli_value_as_double(ta, a, i), cli_value_as_double(tb, b, i), rtol, atol, i, r);
}
