#include "cml.h"

size_t cml_dtype_size(cml_dtype dtype) {
    switch (dtype) {
    case CML_DTYPE_UINT8:
    case CML_DTYPE_INT8:
    case CML_DTYPE_BOOL: return 1;
    case CML_DTYPE_INT16:
    case CML_DTYPE_FLOAT16:
    case CML_DTYPE_BFLOAT16:
    case CML_DTYPE_UINT16: return 2;
    case CML_DTYPE_INT32:
    case CML_DTYPE_FLOAT32:
    case CML_DTYPE_UINT32:
    case CML_DTYPE_COMPLEX32: return 4;
    case CML_DTYPE_INT64:
    case CML_DTYPE_FLOAT64:
    case CML_DTYPE_UINT64:
    case CML_DTYPE_COMPLEX64: return 8;
    case CML_DTYPE_COMPLEX128: return 16;
    }
    return 0;
}

const char *cml_dtype_name(cml_dtype dtype) {
    switch (dtype) {
    case CML_DTYPE_UINT8: return "uint8";
    case CML_DTYPE_INT8: return "int8";
    case CML_DTYPE_INT16: return "int16";
    case CML_DTYPE_INT32: return "int32";
    case CML_DTYPE_INT64: return "int64";
    case CML_DTYPE_FLOAT16: return "float16";
    case CML_DTYPE_FLOAT32: return "float32";
    case CML_DTYPE_FLOAT64: return "float64";
    case CML_DTYPE_COMPLEX32: return "complex32";
    case CML_DTYPE_COMPLEX64: return "complex64";
    case CML_DTYPE_COMPLEX128: return "complex128";
    case CML_DTYPE_BOOL: return "bool";
    case CML_DTYPE_BFLOAT16: return "bfloat16";
    case CML_DTYPE_UINT16: return "uint16";
    case CML_DTYPE_UINT32: return "uint32";
    case CML_DTYPE_UINT64: return "uint64";
    }
    return "invalid";
}
