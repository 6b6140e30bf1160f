/*
 * Element access by dtype for the portable ops that compute through double
 * (image sampling, padding, statistics, distances): one code path serves
 * every real dtype without staging copies in scratch.
 *
 *   cml_aten_num_get: element i of a buffer of dtype dt as double (bool 0/1).
 *   cml_aten_num_set: stores v into element i, converted like a C++ static_cast
 *                 from double (fp16/bf16 round to nearest even, float ->
 *                 integer truncates and saturates, NaN -> 0; bool is v != 0).
 *   cml_aten_num_get_i64: integer element exactly (float dtypes truncate).
 *
 * Dtype classes (upstream's ET_SWITCH sets) are in cml_aten_util.h.
 */
#ifndef CML_OPS_ATEN_NUM_H
#define CML_OPS_ATEN_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tensor.h"
#include "ops/aten/aten_util.h"

double cml_aten_num_get_any(cml_dtype dt, const void *base, size_t i);
void cml_aten_num_set_any(cml_dtype dt, void *base, size_t i, double v);
int64_t cml_aten_num_get_i64(cml_dtype dt, const void *base, size_t i);

/* float32 inline, the rest through the switch. */
static inline double cml_aten_num_get(cml_dtype dt, const void *base, size_t i) {
    if (dt == CML_DTYPE_FLOAT32) return ((const float *)base)[i];
    return cml_aten_num_get_any(dt, base, i);
}
static inline void cml_aten_num_set(cml_dtype dt, void *base, size_t i, double v) {
    if (dt == CML_DTYPE_FLOAT32) ((float *)base)[i] = (float)v;
    else cml_aten_num_set_any(dt, base, i, v);
}

#endif
