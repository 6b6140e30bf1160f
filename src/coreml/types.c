#include "coreml/types.h"

#include <stddef.h>

/* One row per MIL DataType: bits of storage, weight.bin code, cml dtype
 * (-1 = none), name. Indexed through find(); the enum is sparse. */
typedef struct mil_dtype_info {
    int32_t mil;
    unsigned bits;
    uint32_t blob;
    int cml; /* cml_dtype or -1 */
    const char *name;
} mil_dtype_info;

static const mil_dtype_info k_types[] = {
    {CML_MIL_BOOL, 8, 0, CML_DTYPE_BOOL, "bool"},
    {CML_MIL_STRING, 0, 0, -1, "string"},
    {CML_MIL_FLOAT16, 16, CML_BLOB_FLOAT16, CML_DTYPE_FLOAT16, "fp16"},
    {CML_MIL_FLOAT32, 32, CML_BLOB_FLOAT32, CML_DTYPE_FLOAT32, "fp32"},
    {CML_MIL_FLOAT64, 64, 0, CML_DTYPE_FLOAT64, "fp64"},
    {CML_MIL_BFLOAT16, 16, CML_BLOB_BFLOAT16, CML_DTYPE_BFLOAT16, "bf16"},
    {CML_MIL_INT8, 8, CML_BLOB_INT8, CML_DTYPE_INT8, "int8"},
    {CML_MIL_INT16, 16, CML_BLOB_INT16, CML_DTYPE_INT16, "int16"},
    {CML_MIL_INT32, 32, CML_BLOB_INT32, CML_DTYPE_INT32, "int32"},
    {CML_MIL_INT64, 64, 0, CML_DTYPE_INT64, "int64"},
    {CML_MIL_INT4, 4, CML_BLOB_INT4, -1, "int4"},
    {CML_MIL_UINT8, 8, CML_BLOB_UINT8, CML_DTYPE_UINT8, "uint8"},
    {CML_MIL_UINT16, 16, CML_BLOB_UINT16, CML_DTYPE_UINT16, "uint16"},
    {CML_MIL_UINT32, 32, CML_BLOB_UINT32, CML_DTYPE_UINT32, "uint32"},
    {CML_MIL_UINT64, 64, 0, CML_DTYPE_UINT64, "uint64"},
    {CML_MIL_UINT4, 4, CML_BLOB_UINT4, -1, "uint4"},
    {CML_MIL_UINT2, 2, CML_BLOB_UINT2, -1, "uint2"},
    {CML_MIL_UINT1, 1, CML_BLOB_UINT1, -1, "uint1"},
    {CML_MIL_UINT6, 6, CML_BLOB_UINT6, -1, "uint6"},
    {CML_MIL_UINT3, 3, CML_BLOB_UINT3, -1, "uint3"},
    {CML_MIL_FLOAT8E4M3FN, 8, CML_BLOB_FLOAT8E4M3FN, -1, "fp8e4m3fn"},
    {CML_MIL_FLOAT8E5M2, 8, CML_BLOB_FLOAT8E5M2, -1, "fp8e5m2"},
};

static const char *const k_blob_names[] = {
    NULL,      "Float16", "Float32", "UInt8", "Int8",  "BFloat16", "Int16",
    "UInt16",  "Int4",    "UInt1",   "UInt2", "UInt4", "UInt3",    "UInt6",
    "Int32",   "UInt32",  "Float8E4M3FN", "Float8E5M2",
};

static const mil_dtype_info *find(int32_t dtype) {
    for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++)
        if (k_types[i].mil == dtype) return &k_types[i];
    return NULL;
}

bool cml_mil_dtype_valid(int32_t dtype) { return find(dtype) != NULL; }

unsigned cml_mil_dtype_bits(int32_t dtype) {
    const mil_dtype_info *t = find(dtype);
    return t ? t->bits : 0;
}

bool cml_mil_dtype_is_subbyte(int32_t dtype) {
    const mil_dtype_info *t = find(dtype);
    return t && t->bits > 0 && t->bits < 8;
}

const char *cml_mil_dtype_name(int32_t dtype) {
    const mil_dtype_info *t = find(dtype);
    return t ? t->name : "invalid";
}

uint32_t cml_mil_dtype_to_blob(int32_t dtype) {
    const mil_dtype_info *t = find(dtype);
    return t ? t->blob : 0;
}

cml_mil_dtype cml_blob_dtype_to_mil(uint32_t code) {
    if (code == 0) return CML_MIL_UNUSED;
    for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++)
        if (k_types[i].blob == code) return (cml_mil_dtype)k_types[i].mil;
    return CML_MIL_UNUSED;
}

const char *cml_blob_dtype_name(uint32_t code) {
    if (code == 0 || code >= sizeof k_blob_names / sizeof k_blob_names[0]) return "unknown";
    return k_blob_names[code];
}

bool cml_mil_dtype_to_cml(int32_t dtype, cml_dtype *out) {
    const mil_dtype_info *t = find(dtype);
    if (!t || t->cml < 0) return false;
    *out = (cml_dtype)t->cml;
    return true;
}
