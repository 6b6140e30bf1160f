/*
 * Scalar access to single elements of any dtype the portable indexing and
 * scatter ops accept (upstream's REALHBBF16 set: uint8, int8, int16, int32,
 * int64, fp16, bf16, fp32, fp64, bool), for ops that move or combine
 * elements one at a time with the dtype's own arithmetic.
 *
 * Conversions never invoke undefined behaviour: doubles saturate into
 * integers (NaN -> 0) and integers wrap to the narrower width.
 */
#ifndef CML_OPS_ATEN_ELEM_H
#define CML_OPS_ATEN_ELEM_H

#include <stdbool.h>
#include <stdint.h>

#include "cml.h"
#include "core/status.h"
#include "exec/op.h"

/* True for the REALHBBF16 dtypes. */
bool cml_aten_elem_supported(cml_dtype dt);

double cml_aten_elem_get_f64(cml_dtype dt, const void *p);
int64_t cml_aten_elem_get_i64(cml_dtype dt, const void *p); /* floats truncate, saturating */
void cml_aten_elem_set_f64(cml_dtype dt, void *p, double v);
void cml_aten_elem_set_i64(cml_dtype dt, void *p, int64_t v);
/* *dst += *src in the dtype's arithmetic (fp16/bf16 round once per add, as
 * upstream's Half/BFloat16 do; integers wrap; bool is logical or). */
void cml_aten_elem_add(cml_dtype dt, void *dst, const void *src);
/* True when the element is not zero (NaN counts as non-zero). */
bool cml_aten_elem_nonzero(cml_dtype dt, const void *p);
/* fp32 -> bf16, round to nearest even, NaN kept quiet. */
uint16_t cml_aten_fp32_to_bf16(float f);

/* *d = (dd)*s with C-cast semantics made safe: floats truncate toward zero
 * and saturate into integers, integers wrap, anything non-zero is true. */
void cml_aten_elem_convert(cml_dtype sd, const void *s, cml_dtype dd, void *d);
/* cml_aten_copy_block with a dtype conversion (a plain copy when sd == dd). */
void cml_aten_copy_block_cvt(cml_dtype sd, cml_dtype dd, int32_t rank, const int64_t *sizes,
                         const void *src, const int64_t *sst, void *dst, const int64_t *dst_st);

/* Normalises index v (negative counts from the end) into [0, size), or fails
 * with "<op>: index V is out of bounds for dim D of size N". */
cml_status cml_aten_norm_index(cml_kernel_ctx *ctx, const char *op, int64_t v, int64_t size,
                           int32_t dim, int64_t *out);
/* Reads an index tensor's element i (int64 or int32, memory order). */
static inline int64_t cml_aten_index_at(const cml_tensor *t, int64_t i) {
    return t->dtype == CML_DTYPE_INT64 ? ((const int64_t *)t->data)[i]
                                       : (int64_t)((const int32_t *)t->data)[i];
}

#endif
