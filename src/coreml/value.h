/*
 * Decoding MILSpec.Value tensors (const values, op attributes, iOS18
 * constexpr parameters) into one small tagged view, plus the sub-byte
 * packing helpers (shared/reference/coreml-model-format.md sections 3.4,
 * 6.5 and 6.6).
 *
 * Nothing is copied: data points into the decoded protobuf (immediate
 * values) or into the blob file (blobFileValue). Validation: the value type
 * is a tensor of a known dtype, with constant dimensions, rank <= 16 and
 * == the dimension count; the element count (overflow-checked) matches the
 * payload exactly; the TensorValue field suits the dtype (table below);
 * integers in `ints` fit the dtype; blob records pass cml_milblob_lookup.
 *
 *   dtype                      accepted fields         storage
 *   FLOAT32                    floats | bytes          F32 | RAW
 *   FLOAT64                    doubles | bytes         F64 | RAW
 *   FLOAT16, BFLOAT16, FP8     bytes                   RAW
 *   INT8, UINT8, INT16,        ints | bytes            I32 | RAW
 *   UINT16, INT32, UINT32
 *   INT64, UINT64              longInts | ints | bytes I64 | I32 | RAW
 *   BOOL                       bools | bytes           BOOL | RAW (1 byte each)
 *   INT4, UINT1/2/3/4/6        bytes                   PACKED
 *   STRING                     strings                 STRING
 *   (blob)                     fp16/bf16/fp32/int8..32/uint8..32/fp8: RAW;
 *                              sub-byte: PACKED
 */
#ifndef CML_COREML_VALUE_H
#define CML_COREML_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coreml.pb-c.h"

#include "cml.h"
#include "core/status.h"
#include "coreml/mlpackage.h"
#include "coreml/types.h"

typedef Cml__Coreml__MILSpec__Value cml_pb_value;
typedef Cml__Coreml__MILSpec__TensorType cml_pb_tensor_type;

typedef enum cml_mlvalue_storage {
    CML_MLVALUE_RAW = 1,   /* the dtype's little-endian layout, bits/8 bytes per
                              element (BOOL: one byte, 0/1); maybe unaligned */
    CML_MLVALUE_PACKED,    /* sub-byte, LSB-first, ceil(numel*bits/8) bytes */
    CML_MLVALUE_F32,       /* const float *  (TensorValue.floats) */
    CML_MLVALUE_F64,       /* const double * (doubles) */
    CML_MLVALUE_I32,       /* const int32_t * (ints; range-checked for the dtype) */
    CML_MLVALUE_I64,       /* const int64_t * (longInts; UINT64 reinterprets) */
    CML_MLVALUE_BOOL,      /* const protobuf_c_boolean * (bools) */
    CML_MLVALUE_STRING,    /* char *const * (strings), numel entries */
} cml_mlvalue_storage;

typedef struct cml_mlvalue {
    cml_mil_dtype dtype;
    int32_t rank;                    /* 0 = scalar */
    int64_t shape[CML_MAX_DIMS];
    uint64_t numel;                  /* product of shape (1 for a scalar) */
    cml_mlvalue_storage storage;
    unsigned bits;                   /* bits per stored element (PACKED: 1..6) */
    const void *data;                /* NULL only when numel == 0 */
    size_t nbytes;                   /* bytes at data (STRING: numel pointers) */
    bool from_blob;
    uint64_t blob_offset;            /* record offset when from_blob */
} cml_mlvalue;

/**
 * Decodes a TensorType: dtype, rank and shape, unknown dimensions as -1.
 * Fails (CML_ERR_CORRUPT) on rank < -1, rank > 16, rank != dimension count,
 * unknown dtype or a dimension > INT64_MAX; rank -1 (unknown) is returned
 * as is, with no dimensions.
 */
cml_status cml_mlvalue_tensor_type(const cml_pb_tensor_type *type, cml_mil_dtype *dtype,
                                   int32_t *rank, int64_t shape[CML_MAX_DIMS], cml_error *err);

/**
 * Decodes a tensor Value (immediate or blob). pkg resolves blob file names;
 * NULL makes blob values an error. Lists, tuples and dictionaries are
 * CML_ERR_UNSUPPORTED ("value is a list, expected a tensor"); callers
 * decode their element Values one by one.
 */
cml_status cml_mlvalue_decode(const cml_pb_value *value, cml_mlpackage *pkg, cml_mlvalue *out,
                              cml_error *err);

/** Element i as a double (numeric dtypes of any storage; fp16/bf16 RAW
 *  converted; sub-byte unpacked, int4 sign-extended). 0 for STRING. */
double cml_mlvalue_get_f64(const cml_mlvalue *v, uint64_t i);

/** Element i as an int64 (floats truncated toward zero, saturated). */
int64_t cml_mlvalue_get_i64(const cml_mlvalue *v, uint64_t i);

/** String element i, or NULL when not STRING. */
const char *cml_mlvalue_get_str(const cml_mlvalue *v, uint64_t i);

/* --------------------------------------------------- sub-byte packing */

/** Bytes needed for n elements of `bits` bits; SIZE_MAX on overflow. */
size_t cml_subbyte_nbytes(uint64_t n, unsigned bits);

/** Raw unsigned value of element i (bits in 1..8). */
static inline uint32_t cml_subbyte_get(const uint8_t *packed, uint64_t i, unsigned bits) {
    uint64_t bit = i * bits;
    uint32_t v = packed[bit >> 3];
    unsigned shift = (unsigned)(bit & 7u);
    if (shift + bits > 8) v |= (uint32_t)packed[(bit >> 3) + 1] << 8;
    return (v >> shift) & ((1u << bits) - 1u);
}

/** Unpacks n unsigned elements of `bits` bits (1..8) into bytes. */
void cml_subbyte_unpack_u8(const uint8_t *packed, uint64_t n, unsigned bits, uint8_t *dst);

/** Unpacks n INT4 elements, sign-extended to int8. */
void cml_subbyte_unpack_i4(const uint8_t *packed, uint64_t n, int8_t *dst);

/** Packs n values (only their low `bits` bits are used) LSB-first into
 *  cml_subbyte_nbytes(n, bits) bytes at dst; unused high bits are zero. */
void cml_subbyte_pack(const uint8_t *values, uint64_t n, unsigned bits, uint8_t *dst);

#endif
