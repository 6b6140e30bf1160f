#include "ops/aten/aten_num.h"

#include <string.h>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "ops/aten/aten_util.h"

double aten_num_get_any(cml_dtype dt, const void *base, size_t i) {
    switch (dt) {
    case CML_DTYPE_FLOAT32: return ((const float *)base)[i];
    case CML_DTYPE_FLOAT64: return ((const double *)base)[i];
    case CML_DTYPE_FLOAT16: return cml_fp16_to_fp32(((const uint16_t *)base)[i]);
    case CML_DTYPE_BFLOAT16: return cml_bf16_to_fp32(((const uint16_t *)base)[i]);
    case CML_DTYPE_UINT8: return ((const uint8_t *)base)[i];
    case CML_DTYPE_INT8: return ((const int8_t *)base)[i];
    case CML_DTYPE_INT16: return ((const int16_t *)base)[i];
    case CML_DTYPE_INT32: return ((const int32_t *)base)[i];
    case CML_DTYPE_INT64: return (double)((const int64_t *)base)[i];
    case CML_DTYPE_BOOL: return ((const uint8_t *)base)[i] != 0;
    default: return 0.0;
    }
}

int64_t aten_num_get_i64(cml_dtype dt, const void *base, size_t i) {
    switch (dt) {
    case CML_DTYPE_UINT8: return ((const uint8_t *)base)[i];
    case CML_DTYPE_INT8: return ((const int8_t *)base)[i];
    case CML_DTYPE_INT16: return ((const int16_t *)base)[i];
    case CML_DTYPE_INT32: return ((const int32_t *)base)[i];
    case CML_DTYPE_INT64: return ((const int64_t *)base)[i];
    case CML_DTYPE_BOOL: return ((const uint8_t *)base)[i] != 0;
    default: return aten_double_to_i64(aten_num_get_any(dt, base, i));
    }
}

void aten_num_set_any(cml_dtype dt, void *base, size_t i, double v) {
    switch (dt) {
    case CML_DTYPE_FLOAT32: ((float *)base)[i] = (float)v; return;
    case CML_DTYPE_FLOAT64: ((double *)base)[i] = v; return;
    case CML_DTYPE_FLOAT16:
    case CML_DTYPE_BFLOAT16:
        cml_k_convert(CML_DTYPE_FLOAT64, &v, dt, (uint16_t *)base + i, 1);
        return;
    case CML_DTYPE_BOOL: ((uint8_t *)base)[i] = v != 0.0; return;
    default: break;
    }
    int64_t x = aten_double_to_i64(v);
    switch (dt) {
    case CML_DTYPE_UINT8: ((uint8_t *)base)[i] = (uint8_t)x; return;
    case CML_DTYPE_INT8: ((int8_t *)base)[i] = (int8_t)x; return;
    case CML_DTYPE_INT16: ((int16_t *)base)[i] = (int16_t)x; return;
    case CML_DTYPE_INT32: ((int32_t *)base)[i] = (int32_t)x; return;
    case CML_DTYPE_INT64: ((int64_t *)base)[i] = x; return;
    default: return;
    }
}
