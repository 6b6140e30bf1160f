/*
 * MIL element types (MILSpec.DataType) and their properties: bit width,
 * weight.bin dtype code, cml_dtype equivalent, name.
 *
 * Two numberings meet here and must never be mixed up:
 *   MIL DataType (the protobuf enum, e.g. FLOAT16 = 10, UINT3 = 39) and the
 *   weight.bin blob dtype code (BlobDataType, e.g. Float16 = 1, UInt3 = 12).
 * See shared/reference/coreml-model-format.md sections 3.4 and 6.3.
 */
#ifndef CML_COREML_TYPES_H
#define CML_COREML_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "cml.h"

/* Values equal MILSpec.DataType. */
typedef enum cml_mil_dtype {
    CML_MIL_UNUSED = 0,
    CML_MIL_BOOL = 1,
    CML_MIL_STRING = 2,
    CML_MIL_FLOAT16 = 10,
    CML_MIL_FLOAT32 = 11,
    CML_MIL_FLOAT64 = 12,
    CML_MIL_BFLOAT16 = 13,
    CML_MIL_INT8 = 21,
    CML_MIL_INT16 = 22,
    CML_MIL_INT32 = 23,
    CML_MIL_INT64 = 24,
    CML_MIL_INT4 = 25,
    CML_MIL_UINT8 = 31,
    CML_MIL_UINT16 = 32,
    CML_MIL_UINT32 = 33,
    CML_MIL_UINT64 = 34,
    CML_MIL_UINT4 = 35,
    CML_MIL_UINT2 = 36,
    CML_MIL_UINT1 = 37,
    CML_MIL_UINT6 = 38,
    CML_MIL_UINT3 = 39,
    CML_MIL_FLOAT8E4M3FN = 40,
    CML_MIL_FLOAT8E5M2 = 41,
} cml_mil_dtype;

/* weight.bin dtype codes (MILBlob BlobDataType; append-only upstream). */
typedef enum cml_blob_dtype {
    CML_BLOB_FLOAT16 = 1,
    CML_BLOB_FLOAT32 = 2,
    CML_BLOB_UINT8 = 3,
    CML_BLOB_INT8 = 4,
    CML_BLOB_BFLOAT16 = 5,
    CML_BLOB_INT16 = 6,
    CML_BLOB_UINT16 = 7,
    CML_BLOB_INT4 = 8,
    CML_BLOB_UINT1 = 9,
    CML_BLOB_UINT2 = 10,
    CML_BLOB_UINT4 = 11,
    CML_BLOB_UINT3 = 12,
    CML_BLOB_UINT6 = 13,
    CML_BLOB_INT32 = 14,
    CML_BLOB_UINT32 = 15,
    CML_BLOB_FLOAT8E4M3FN = 16,
    CML_BLOB_FLOAT8E5M2 = 17,
} cml_blob_dtype;

/** True for a value of the MILSpec.DataType enum other than UNUSED. */
bool cml_mil_dtype_valid(int32_t dtype);

/** Storage bits per element: 1,2,3,4,6 for the sub-byte types, 8 for BOOL
 *  (one byte per element in raw storage), 8..64 otherwise; 0 for STRING,
 *  UNUSED and unknown values. */
unsigned cml_mil_dtype_bits(int32_t dtype);

/** True for INT4 and UINT1/2/3/4/6 (bit-packed LSB-first, section 6.6). */
bool cml_mil_dtype_is_subbyte(int32_t dtype);

/** "fp16", "int4", "uint3", ... as in MIL text; "invalid" when unknown. */
const char *cml_mil_dtype_name(int32_t dtype);

/** weight.bin code for a MIL dtype, or 0 when the dtype cannot be stored in
 *  a blob (BOOL, STRING, FLOAT64, INT64, UINT64). */
uint32_t cml_mil_dtype_to_blob(int32_t dtype);

/** MIL dtype for a weight.bin code, or CML_MIL_UNUSED when unknown. */
cml_mil_dtype cml_blob_dtype_to_mil(uint32_t code);

/** Name of a weight.bin code ("Float16", "UInt3", ...) or "unknown". */
const char *cml_blob_dtype_name(uint32_t code);

/** The cml_dtype with the same storage, when there is one (fp16, fp32, fp64,
 *  bf16, int8..int64, uint8..uint64, bool). Returns false for sub-byte, fp8,
 *  string and unknown types. */
bool cml_mil_dtype_to_cml(int32_t dtype, cml_dtype *out);

#endif
