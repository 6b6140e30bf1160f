/* MILSpec.Value tensor decoding and sub-byte packing; see value.h. */
#include "coreml/value.h"

#include <math.h>
#include <string.h>

#include "core/checked.h"
#include "core/fp16.h"

typedef Cml__Coreml__MILSpec__TensorValue pb_tensor_value;

size_t cml_subbyte_nbytes(uint64_t n, unsigned bits) {
    uint64_t total;
    if (!cml_mul_u64(n, bits, &total) || total / 8 + 1 > SIZE_MAX) return SIZE_MAX;
    return (size_t)((total + 7) / 8);
}

void cml_subbyte_unpack_u8(const uint8_t *packed, uint64_t n, unsigned bits, uint8_t *dst) {
    for (uint64_t i = 0; i < n; i++) dst[i] = (uint8_t)cml_subbyte_get(packed, i, bits);
}

void cml_subbyte_unpack_i4(const uint8_t *packed, uint64_t n, int8_t *dst) {
    for (uint64_t i = 0; i < n; i++) {
        unsigned v = (packed[i >> 1] >> ((i & 1) * 4)) & 0xfu;
        dst[i] = (int8_t)(v & 8 ? (int)v - 16 : (int)v);
    }
}

void cml_subbyte_pack(const uint8_t *values, uint64_t n, unsigned bits, uint8_t *dst) {
    size_t nbytes = cml_subbyte_nbytes(n, bits);
    memset(dst, 0, nbytes);
    uint32_t mask = (1u << bits) - 1u;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t bit = i * bits;
        uint32_t v = ((uint32_t)values[i] & mask) << (bit & 7u);
        dst[bit >> 3] |= (uint8_t)v;
        if ((bit & 7u) + bits > 8) dst[(bit >> 3) + 1] |= (uint8_t)(v >> 8);
    }
}

/* ----------------------------------------------------------------- types */

cml_status cml_mlvalue_tensor_type(const cml_pb_tensor_type *type, cml_mil_dtype *dtype,
                                   int32_t *rank, int64_t shape[CML_MAX_DIMS], cml_error *err) {
    if (!cml_mil_dtype_valid(type->datatype))
        return cml_fail(err, CML_ERR_CORRUPT, "tensor type: unknown dataType %d",
                        (int)type->datatype);
    if (type->rank < -1 || type->rank > CML_MAX_DIMS)
        return cml_fail(err, type->rank > CML_MAX_DIMS ? CML_ERR_UNSUPPORTED : CML_ERR_CORRUPT,
                        "tensor type: rank %lld (supported: -1..%d)", (long long)type->rank,
                        CML_MAX_DIMS);
    size_t want = type->rank < 0 ? 0 : (size_t)type->rank;
    if (type->n_dimensions != want)
        return cml_fail(err, CML_ERR_CORRUPT, "tensor type: rank %lld but %zu dimensions",
                        (long long)type->rank, type->n_dimensions);
    for (size_t i = 0; i < want; i++) {
        const Cml__Coreml__MILSpec__Dimension *d = type->dimensions[i];
        if (d->dimension_case == CML__COREML__MILSPEC__DIMENSION__DIMENSION_CONSTANT) {
            uint64_t size = d->constant ? d->constant->size : 0;
            if (size > INT64_MAX)
                return cml_fail(err, CML_ERR_CORRUPT, "tensor type: dimension %zu is %llu", i,
                                (unsigned long long)size);
            shape[i] = (int64_t)size;
        } else if (d->dimension_case == CML__COREML__MILSPEC__DIMENSION__DIMENSION_UNKNOWN) {
            shape[i] = -1;
        } else {
            return cml_fail(err, CML_ERR_CORRUPT, "tensor type: dimension %zu is neither constant "
                            "nor unknown", i);
        }
    }
    *dtype = (cml_mil_dtype)type->datatype;
    *rank = (int32_t)type->rank;
    return CML_OK;
}

static const char *value_kind_name(const cml_pb_value *v) {
    if (!v->type) return "untyped";
    switch (v->type->type_case) {
    case CML__COREML__MILSPEC__VALUE_TYPE__TYPE_LIST_TYPE: return "a list";
    case CML__COREML__MILSPEC__VALUE_TYPE__TYPE_TUPLE_TYPE: return "a tuple";
    case CML__COREML__MILSPEC__VALUE_TYPE__TYPE_DICTIONARY_TYPE: return "a dictionary";
    case CML__COREML__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE: return "a state";
    default: return "without a type";
    }
}

/* ---------------------------------------------------------- immediates */

static bool ints_fit(const int32_t *v, size_t n, cml_mil_dtype dt, size_t *bad) {
    int64_t lo, hi;
    switch (dt) {
    case CML_MIL_INT8: lo = INT8_MIN; hi = INT8_MAX; break;
    case CML_MIL_UINT8: lo = 0; hi = UINT8_MAX; break;
    case CML_MIL_INT16: lo = INT16_MIN; hi = INT16_MAX; break;
    case CML_MIL_UINT16: lo = 0; hi = UINT16_MAX; break;
    case CML_MIL_UINT32: case CML_MIL_UINT64: lo = 0; hi = INT32_MAX; break;
    default: return true;
    }
    for (size_t i = 0; i < n; i++)
        if (v[i] < lo || v[i] > hi) {
            *bad = i;
            return false;
        }
    return true;
}

static cml_status decode_immediate(const pb_tensor_value *tv, cml_mlvalue *out, cml_error *err) {
    cml_mil_dtype dt = out->dtype;
    unsigned bits = cml_mil_dtype_bits(dt);
    const char *dn = cml_mil_dtype_name(dt);
    size_t n = 0;
    bool ok = false;
    switch (tv ? tv->value_case : CML__COREML__MILSPEC__TENSOR_VALUE__VALUE__NOT_SET) {
    case CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_FLOATS:
        ok = dt == CML_MIL_FLOAT32;
        out->storage = CML_MLVALUE_F32, out->bits = 32;
        n = tv->floats->n_values, out->data = tv->floats->values;
        break;
    case CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_DOUBLES:
        ok = dt == CML_MIL_FLOAT64;
        out->storage = CML_MLVALUE_F64, out->bits = 64;
        n = tv->doubles->n_values, out->data = tv->doubles->values;
        break;
    case CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_INTS: {
        ok = dt == CML_MIL_INT8 || dt == CML_MIL_UINT8 || dt == CML_MIL_INT16 ||
             dt == CML_MIL_UINT16 || dt == CML_MIL_INT32 || dt == CML_MIL_UINT32 ||
             dt == CML_MIL_INT64 || dt == CML_MIL_UINT64;
        out->storage = CML_MLVALUE_I32, out->bits = 32;
        n = tv->ints->n_values, out->data = tv->ints->values;
        size_t bad;
        if (ok && !ints_fit(tv->ints->values, n, dt, &bad))
            return cml_fail(err, CML_ERR_CORRUPT, "value: %s element %zu = %d is out of range", dn,
                            bad, (int)tv->ints->values[bad]);
        break;
    }
    case CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS:
        ok = dt == CML_MIL_INT64 || dt == CML_MIL_UINT64;
        out->storage = CML_MLVALUE_I64, out->bits = 64;
        n = tv->longints->n_values, out->data = tv->longints->values;
        break;
    case CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_BOOLS:
        ok = dt == CML_MIL_BOOL;
        out->storage = CML_MLVALUE_BOOL, out->bits = 8 * (unsigned)sizeof(protobuf_c_boolean);
        n = tv->bools->n_values, out->data = tv->bools->values;
        break;
    case CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_STRINGS:
        ok = dt == CML_MIL_STRING;
        out->storage = CML_MLVALUE_STRING, out->bits = 0;
        n = tv->strings->n_values, out->data = tv->strings->values;
        out->nbytes = n * sizeof(char *);
        break;
    case CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_BYTES: {
        ok = dt != CML_MIL_STRING;
        size_t len = tv->bytes->values.len;
        out->data = len ? tv->bytes->values.data : NULL;
        out->nbytes = len;
        out->bits = bits;
        if (!ok) break;
        size_t want = cml_subbyte_nbytes(out->numel, bits);
        if (len != want)
            return cml_fail(err, CML_ERR_CORRUPT, "value: %s bytes hold %zu bytes, the shape "
                            "needs %zu", dn, len, want);
        out->storage = bits < 8 ? CML_MLVALUE_PACKED : CML_MLVALUE_RAW;
        if (dt == CML_MIL_BOOL)
            for (size_t i = 0; i < len; i++)
                if (tv->bytes->values.data[i] > 1)
                    return cml_fail(err, CML_ERR_CORRUPT, "value: bool byte %zu is %u", i,
                                    tv->bytes->values.data[i]);
        return CML_OK;
    }
    default:
        if (out->numel == 0) { /* an empty tensor whose field was dropped */
            out->storage = bits < 8 && bits > 0 ? CML_MLVALUE_PACKED
                           : dt == CML_MIL_STRING ? CML_MLVALUE_STRING : CML_MLVALUE_RAW;
            out->bits = bits;
            return CML_OK;
        }
        return cml_fail(err, CML_ERR_CORRUPT, "value: %s tensor of %llu elements has no data",
                        dn, (unsigned long long)out->numel);
    }
    if (!ok)
        return cml_fail(err, CML_ERR_CORRUPT, "value: TensorValue field %d does not suit dtype %s",
                        (int)tv->value_case, dn);
    if ((uint64_t)n != out->numel)
        return cml_fail(err, CML_ERR_CORRUPT, "value: %s tensor has %zu elements, the shape needs "
                        "%llu", dn, n, (unsigned long long)out->numel);
    if (out->storage != CML_MLVALUE_STRING) out->nbytes = n * (out->bits / 8);
    if (n == 0) out->data = NULL;
    return CML_OK;
}

cml_status cml_mlvalue_decode(const cml_pb_value *value, cml_mlpackage *pkg, cml_mlvalue *out,
                              cml_error *err) {
    if (!value) return cml_fail(err, CML_ERR_CORRUPT, "value: missing");
    if (!value->type || value->type->type_case != CML__COREML__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE)
        return cml_fail(err, value->type && value->type->type_case ? CML_ERR_UNSUPPORTED
                                                                   : CML_ERR_CORRUPT,
                        "value is %s, expected a tensor", value_kind_name(value));
    cml_mlvalue v;
    memset(&v, 0, sizeof v);
    CML_TRY(cml_mlvalue_tensor_type(value->type->tensortype, &v.dtype, &v.rank, v.shape, err));
    if (v.rank < 0) return cml_fail(err, CML_ERR_CORRUPT, "value: tensor of unknown rank");
    uint64_t numel = 1;
    for (int32_t i = 0; i < v.rank; i++) {
        if (v.shape[i] < 0)
            return cml_fail(err, CML_ERR_CORRUPT, "value: dimension %d is unknown", (int)i);
        if (!cml_mul_u64(numel, (uint64_t)v.shape[i], &numel) || numel > ((uint64_t)1 << 62))
            return cml_fail(err, CML_ERR_CORRUPT, "value: element count overflows");
    }
    v.numel = numel;
    if (value->value_case == CML__COREML__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE) {
        const Cml__Coreml__MILSpec__Value__ImmediateValue *im = value->immediatevalue;
        if (im && im->value_case != CML__COREML__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR &&
            im->value_case != CML__COREML__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE__NOT_SET)
            return cml_fail(err, CML_ERR_CORRUPT, "value: tensor type with a non-tensor "
                            "immediate value (case %d)", (int)im->value_case);
        CML_TRY(decode_immediate(im ? im->tensor : NULL, &v, err));
    } else if (value->value_case == CML__COREML__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE) {
        const Cml__Coreml__MILSpec__Value__BlobFileValue *bf = value->blobfilevalue;
        if (!pkg)
            return cml_fail(err, CML_ERR_UNSUPPORTED, "value: blob file value '%.200s' without a "
                            "package to read it from", bf->filename);
        const cml_milblob *blob;
        CML_TRY(cml_mlpackage_blob(pkg, bf->filename, &blob, err));
        cml_milblob_record rec;
        CML_TRY(cml_milblob_lookup(blob, bf->offset, v.dtype, v.numel, &rec, err));
        v.bits = cml_mil_dtype_bits(v.dtype);
        v.storage = v.bits < 8 ? CML_MLVALUE_PACKED : CML_MLVALUE_RAW;
        v.data = rec.size ? rec.payload : NULL;
        v.nbytes = (size_t)rec.size;
        v.from_blob = true;
        v.blob_offset = bf->offset;
    } else {
        return cml_fail(err, CML_ERR_CORRUPT, "value: neither immediate nor blob file");
    }
    *out = v;
    return CML_OK;
}

/* ------------------------------------------------------------- access */

static uint64_t raw_u(const uint8_t *p, unsigned nbytes) {
    uint64_t v = 0;
    for (unsigned k = 0; k < nbytes; k++) v |= (uint64_t)p[k] << (8 * k);
    return v;
}

double cml_mlvalue_get_f64(const cml_mlvalue *v, uint64_t i) {
    if (!v->data || i >= v->numel) return 0.0;
    switch (v->storage) {
    case CML_MLVALUE_F32: return ((const float *)v->data)[i];
    case CML_MLVALUE_F64: return ((const double *)v->data)[i];
    case CML_MLVALUE_I32:
        return v->dtype == CML_MIL_UINT32 ? (double)(uint32_t)((const int32_t *)v->data)[i]
                                          : (double)((const int32_t *)v->data)[i];
    case CML_MLVALUE_I64:
        return v->dtype == CML_MIL_UINT64 ? (double)(uint64_t)((const int64_t *)v->data)[i]
                                          : (double)((const int64_t *)v->data)[i];
    case CML_MLVALUE_BOOL: return ((const protobuf_c_boolean *)v->data)[i] ? 1.0 : 0.0;
    case CML_MLVALUE_PACKED: {
        uint32_t u = cml_subbyte_get(v->data, i, v->bits);
        if (v->dtype == CML_MIL_INT4 && (u & 8)) return (double)((int)u - 16);
        return (double)u;
    }
    case CML_MLVALUE_RAW: {
        unsigned nb = v->bits / 8;
        uint64_t u = raw_u((const uint8_t *)v->data + i * nb, nb);
        switch (v->dtype) {
        case CML_MIL_FLOAT16: return cml_fp16_to_fp32((uint16_t)u);
        case CML_MIL_BFLOAT16: return cml_bf16_to_fp32((uint16_t)u);
        case CML_MIL_FLOAT32: { uint32_t b = (uint32_t)u; float f; memcpy(&f, &b, 4); return f; }
        case CML_MIL_FLOAT64: { double d; memcpy(&d, &u, 8); return d; }
        case CML_MIL_INT8: return (int8_t)u;
        case CML_MIL_INT16: return (int16_t)u;
        case CML_MIL_INT32: return (int32_t)u;
        case CML_MIL_INT64: return (double)(int64_t)u;
        default: return (double)u; /* unsigned, bool; fp8 not decoded */
        }
    }
    default: return 0.0;
    }
}

int64_t cml_mlvalue_get_i64(const cml_mlvalue *v, uint64_t i) {
    if (!v->data || i >= v->numel) return 0;
    if (v->storage == CML_MLVALUE_I64) return ((const int64_t *)v->data)[i];
    if (v->storage == CML_MLVALUE_I32)
        return v->dtype == CML_MIL_UINT32 ? (int64_t)(uint32_t)((const int32_t *)v->data)[i]
                                          : ((const int32_t *)v->data)[i];
    if (v->storage == CML_MLVALUE_RAW && v->dtype == CML_MIL_INT64)
        return (int64_t)raw_u((const uint8_t *)v->data + i * 8, 8);
    if (v->storage == CML_MLVALUE_RAW && v->dtype == CML_MIL_UINT64) {
        uint64_t u = raw_u((const uint8_t *)v->data + i * 8, 8);
        return u > INT64_MAX ? INT64_MAX : (int64_t)u;
    }
    double d = cml_mlvalue_get_f64(v, i);
    if (isnan(d)) return 0;
    if (d >= 9223372036854775807.0) return INT64_MAX;
    if (d <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)d;
}

const char *cml_mlvalue_get_str(const cml_mlvalue *v, uint64_t i) {
    if (v->storage != CML_MLVALUE_STRING || !v->data || i >= v->numel) return NULL;
    return ((char *const *)v->data)[i];
}
