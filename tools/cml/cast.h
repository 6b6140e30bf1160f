/*
 * Element-type conversion for `cml run --cast` / `cml bench --cast`, and
 * dtype names on the command line.
 *
 * Castable dtypes: bool, int8/16/32/64, uint8/16/32/64, float16, bfloat16,
 * float32, float64 (not the complex types). Semantics, per element:
 *   - to float32 / float64: a C cast (round to nearest even); integers that
 *     do not fit exactly round once, as (float)x does.
 *   - to float16 / bfloat16: one round to nearest even from the exact source
 *     value (no double rounding through float32); overflow gives +-inf, NaN
 *     stays NaN.
 *   - float -> integer: truncates toward zero; values beyond the type's
 *     range saturate to its min / max; NaN gives 0.
 *   - integer -> integer: a C cast, i.e. the low bits (wraps modulo 2^N, as
 *     NumPy's astype does).
 *   - to bool: nonzero (and NaN) -> 1, zero -> 0. From bool: 0 / 1.
 */
#ifndef CML_TOOLS_CAST_H
#define CML_TOOLS_CAST_H

#include <stdbool.h>
#include <stddef.h>

#include "cml.h"

/* Whether cli_cast converts from / to dtype. */
bool cli_dtype_castable(cml_dtype dtype);

/* Converts numel elements at src (dtype from) into dst (dtype to); src and
 * dst must not overlap. Returns 0, or -1 when either dtype is not castable
 * (nothing written). */
int cli_cast(cml_dtype to, void *dst, cml_dtype from, const void *src, size_t numel);

/* Parses a castable dtype name as cml_dtype_name spells it ("float32",
 * "uint8", "bool", ...). Returns 0, or -1 for an unknown name. */
int cli_parse_dtype(const char *name, cml_dtype *out);

#endif
