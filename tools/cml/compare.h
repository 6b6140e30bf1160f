/*
 * Element-wise comparison of an output with an expected array, as
 * numpy.allclose(actual, expected, rtol, atol, equal_nan=True) decides it:
 * element i passes when |a - b| <= atol + rtol * |b| (b: the expected
 * value), when both are NaN, or when both are the same infinity. Every
 * dtype is read as double (bool as 0/1, float16/bfloat16 widened exactly;
 * int64/uint64 beyond 2^53 round to the nearest double).
 */
#ifndef CML_TOOLS_COMPARE_H
#define CML_TOOLS_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "cml.h"

/* numpy.allclose's defaults. */
#define CLI_COMPARE_RTOL 1e-5
#define CLI_COMPARE_ATOL 1e-8

typedef struct cli_cmp_result {
    size_t numel;
    size_t mismatches;     /* elements that fail the test, NaN ones included */
    size_t nan_mismatches; /* of those: NaN on one side only */
    double max_abs;        /* max |a - b| over elements where neither is NaN */
    double max_rel;        /* max |a - b| / |b| over those with b != 0 */
    size_t worst;          /* index of the max |a - b| (0 when none) */
} cli_cmp_result;

/* Element i of an array of dtype t as a double (NaN for complex types). */
double cli_value_as_double(cml_dtype t, const void *data, size_t i);
/* Whether cli_value_as_double reads dtype t (every real dtype and bool). */
bool cli_compare_dtype_ok(cml_dtype t);

/* Compares n elements of a (dtype ta: the output) with b (dtype tb: the
 * expected values). */
void cli_compare_arrays(cml_dtype ta, const void *a, cml_dtype tb, const void *b, size_t n,
                        double rtol, double atol, cli_cmp_result *r);

#endif
