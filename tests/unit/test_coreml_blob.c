/* weight.bin (blob storage v2), sub-byte packing and immediate MIL values,
 * against coreml-model-format.md sections 3.4 and 6. */
#include <string.h>

#include "core/fp16.h"
#include "core/status.h"
#include "coreml/milblob.h"
#include "coreml/types.h"
#include "coreml/value.h"
#include "harness.h"
#include "test_coreml_util.h"

/* The iOS18 file of section 6.8: six blobs, 800 bytes. */
static tbuf make_ios18_blob(void) {
    tbuf b = {0};
    wb_init(&b);
    uint8_t int4[48] = {0x74, 0x8d};  /* 4, 7, -3, -8, then zeros: [16,6] */
    uint8_t scale[64] = {0};
    uint8_t nz[26] = {0};
    uint8_t mask[3] = {0x4a, 0, 0};   /* [4,6] bits */
    uint8_t lut[8] = {0xf2, 0x00};    /* [4,5] 3-bit: 2, 6, 3, ... */
    uint8_t bias[32] = {0};
    CHECK(wb_add(&b, CML_BLOB_INT4, int4, 48, 0) == 64);
    CHECK(wb_add(&b, CML_BLOB_FLOAT16, scale, 64, 0) == 192);
    CHECK(wb_add(&b, CML_BLOB_FLOAT16, nz, 26, 0) == 320);
    CHECK(wb_add(&b, CML_BLOB_UINT1, mask, 3, 0) == 448);
    CHECK(wb_add(&b, CML_BLOB_UINT3, lut, 8, 4) == 576);
    CHECK(wb_add(&b, CML_BLOB_FLOAT16, bias, 32, 0) == 704);
    CHECK(b.n == 800);
    return b;
}

static void expect_lookup_fail(const tbuf *b, uint64_t off, int32_t dt, uint64_t count,
                               cml_status want, const char *part) {
    cml_milblob blob;
    cml_error err = {0};
    cml_milblob_record rec;
    cml_status st = cml_milblob_open(b->p, b->n, NULL, &blob, &err);
    if (st == CML_OK) st = cml_milblob_lookup(&blob, off, dt, count, &rec, &err);
    CHECK_MSG(st == want, "offset %llu: status %d (%s)", (unsigned long long)off, st, err.msg);
    CHECK_MSG(strstr(err.msg, part) != NULL, "message '%s' lacks '%s'", err.msg, part);
}

static void test_milblob(void) {
    tbuf b = make_ios18_blob();
    cml_milblob blob;
    cml_error err = {0};
    CHECK(cml_milblob_open(b.p, b.n, "weight.bin", &blob, &err) == CML_OK);
    CHECK(blob.count == 6);
    cml_milblob_record r;
    CHECK_MSG(cml_milblob_lookup(&blob, 64, CML_MIL_INT4, 96, &r, &err) == CML_OK, "%s", err.msg);
    CHECK(r.payload_offset == 128 && r.size == 48 && r.count == 96 && r.payload == b.p + 128);
    int8_t i4[4];
    cml_subbyte_unpack_i4(r.payload, 4, i4);
    CHECK(i4[0] == 4 && i4[1] == 7 && i4[2] == -3 && i4[3] == -8);
    CHECK(cml_milblob_lookup(&blob, 448, CML_MIL_UINT1, 24, &r, &err) == CML_OK);
    uint8_t u1[8];
    cml_subbyte_unpack_u8(r.payload, 8, 1, u1);
    CHECK(memcmp(u1, (uint8_t[]){0, 1, 0, 1, 0, 0, 1, 0}, 8) == 0);
    CHECK(cml_milblob_lookup(&blob, 576, CML_MIL_UINT3, 20, &r, &err) == CML_OK);
    CHECK(r.padding_bits == 4 && r.count == 20 && r.mil_dtype == CML_MIL_UINT3);
    uint8_t u3[3];
    cml_subbyte_unpack_u8(r.payload, 3, 3, u3);
    CHECK(u3[0] == 2 && u3[1] == 6 && u3[2] == 3);
    CHECK(cml_milblob_lookup(&blob, 320, CML_MIL_FLOAT16, 13, &r, &err) == CML_OK);
    CHECK(cml_milblob_lookup(&blob, 704, CML_MIL_FLOAT16, CML_MILBLOB_ANY_COUNT, &r, &err) == CML_OK);
    CHECK(r.count == 16);
    /* Walking all records. */
    uint64_t off = 64;
    for (uint32_t i = 0; i < blob.count; i++) {
        CHECK(cml_milblob_record_at(&blob, off, &r, &err) == CML_OK);
        off = cml_milblob_next_offset(&r);
    }
    CHECK(off == 832);

    expect_lookup_fail(&b, 192, CML_MIL_FLOAT32, CML_MILBLOB_ANY_COUNT, CML_ERR_CORRUPT,
                       "weight.bin record at offset 192: dtype Float16 (code 1) does not match "
                       "the value's fp32 (expects code 2)");
    expect_lookup_fail(&b, 192, CML_MIL_FLOAT16, 33, CML_ERR_CORRUPT,
                       "holds 32 elements, the value's shape needs 33");
    expect_lookup_fail(&b, 800, CML_MIL_FLOAT16, 1, CML_ERR_CORRUPT, "outside the file's records");
    expect_lookup_fail(&b, 760, CML_MIL_FLOAT16, 1, CML_ERR_CORRUPT, "outside the file's records");
    expect_lookup_fail(&b, 0, CML_MIL_FLOAT16, 1, CML_ERR_CORRUPT, "outside the file's records");
    expect_lookup_fail(&b, 128, CML_MIL_INT4, 1, CML_ERR_CORRUPT,
                       "weight.bin record at offset 128: bad sentinel 0x00008d74");
    expect_lookup_fail(&b, 64, CML_MIL_BOOL, 1, CML_ERR_CORRUPT, "a bool value cannot be stored");
    expect_lookup_fail(&b, 64, CML_MIL_INT64, 1, CML_ERR_CORRUPT, "cannot be stored");

    tbuf c = {0};
    tbuf_put(&c, b.p, b.n);
    memset(c.p + 576, 0, 4);
    expect_lookup_fail(&c, 576, CML_MIL_UINT3, 20, CML_ERR_CORRUPT,
                       "weight.bin record at offset 576: bad sentinel 0x00000000");
    memcpy(c.p, b.p, b.n);
    put_u64(c.p + 704 + 16, 790); /* payload 32 bytes at 790 runs past 800 */
    expect_lookup_fail(&c, 704, CML_MIL_FLOAT16, 16, CML_ERR_CORRUPT,
                       "payload [offset 790, size 32] outside the file (800 bytes)");
    memcpy(c.p, b.p, b.n);
    put_u64(c.p + 704 + 16, 16); /* payload inside the file header */
    expect_lookup_fail(&c, 704, CML_MIL_FLOAT16, 16, CML_ERR_CORRUPT, "outside the file");
    memcpy(c.p, b.p, b.n);
    put_u64(c.p + 704 + 16, 720); /* overlaps its own record */
    expect_lookup_fail(&c, 704, CML_MIL_FLOAT16, 16, CML_ERR_CORRUPT, "overlaps the record");
    memcpy(c.p, b.p, b.n);
    put_u64(c.p + 704 + 8, UINT64_MAX - 10);
    expect_lookup_fail(&c, 704, CML_MIL_FLOAT16, CML_MILBLOB_ANY_COUNT, CML_ERR_CORRUPT, "");
    memcpy(c.p, b.p, b.n);
    put_u64(c.p + 704 + 8, 31); /* odd size for fp16 */
    expect_lookup_fail(&c, 704, CML_MIL_FLOAT16, CML_MILBLOB_ANY_COUNT, CML_ERR_CORRUPT,
                       "size 31 is not a multiple of 2");
    memcpy(c.p, b.p, b.n);
    put_u64(c.p + 704 + 24, 8); /* padding on a byte type */
    expect_lookup_fail(&c, 704, CML_MIL_FLOAT16, 16, CML_ERR_CORRUPT, "padding of 8 bits");
    memcpy(c.p, b.p, b.n);
    put_u64(c.p + 576 + 24, 8); /* sub-byte padding must be < 8 */
    expect_lookup_fail(&c, 576, CML_MIL_UINT3, CML_MILBLOB_ANY_COUNT, CML_ERR_CORRUPT,
                       "invalid padding of 8 bits for UInt3");
    memcpy(c.p, b.p, b.n);
    put_u64(c.p + 576 + 24, 3); /* 61 bits is not a whole number of 3-bit elements */
    expect_lookup_fail(&c, 576, CML_MIL_UINT3, CML_MILBLOB_ANY_COUNT, CML_ERR_CORRUPT,
                       "not a whole number of 3-bit elements");
    memcpy(c.p, b.p, b.n);
    put_u64(c.p + 64 + 24, 2); /* int4: padding must be a multiple of 4 */
    expect_lookup_fail(&c, 64, CML_MIL_INT4, CML_MILBLOB_ANY_COUNT, CML_ERR_CORRUPT,
                       "invalid padding of 2 bits for Int4");
    memcpy(c.p, b.p, b.n);
    put_u32(c.p + 64 + 4, 99);
    expect_lookup_fail(&c, 64, CML_MIL_INT4, CML_MILBLOB_ANY_COUNT, CML_ERR_UNSUPPORTED,
                       "unknown dtype code 99");
    memcpy(c.p, b.p, b.n);
    put_u32(c.p + 4, 1);
    expect_lookup_fail(&c, 64, CML_MIL_INT4, 96, CML_ERR_UNSUPPORTED, "storage version 1");
    memcpy(c.p, b.p, b.n);
    put_u32(c.p, 1000);
    expect_lookup_fail(&c, 64, CML_MIL_INT4, 96, CML_ERR_CORRUPT, "header claims 1000 blobs");
    tbuf small = {0};
    tbuf_put(&small, b.p, 63);
    expect_lookup_fail(&small, 64, CML_MIL_INT4, 96, CML_ERR_CORRUPT, "shorter than the 64-byte header");
    /* Any truncation is rejected cleanly by lookups at every record. */
    for (size_t len = 0; len < b.n; len += 7) {
        cml_milblob t;
        if (cml_milblob_open(b.p, len, NULL, &t, &err) != CML_OK) continue;
        for (uint64_t o = 64; o < 800; o += 128)
            if (cml_milblob_record_at(&t, o, &r, &err) == CML_OK)
                CHECK(r.payload_offset + r.size <= len);
    }
    free(small.p);
    free(c.p);
    free(b.p);
}

static void test_types(void) {
    CHECK(cml_mil_dtype_to_blob(CML_MIL_FLOAT16) == 1 && cml_mil_dtype_to_blob(CML_MIL_UINT3) == 12);
    CHECK(cml_mil_dtype_to_blob(CML_MIL_UINT4) == 11 && cml_mil_dtype_to_blob(CML_MIL_INT32) == 14);
    CHECK(cml_mil_dtype_to_blob(CML_MIL_FLOAT8E5M2) == 17 && cml_mil_dtype_to_blob(CML_MIL_INT64) == 0);
    for (uint32_t code = 1; code <= 17; code++) {
        cml_mil_dtype m = cml_blob_dtype_to_mil(code);
        CHECK_MSG(m != CML_MIL_UNUSED && cml_mil_dtype_to_blob(m) == code, "code %u", code);
    }
    CHECK(cml_blob_dtype_to_mil(0) == CML_MIL_UNUSED && cml_blob_dtype_to_mil(18) == CML_MIL_UNUSED);
    CHECK(cml_mil_dtype_bits(CML_MIL_UINT6) == 6 && cml_mil_dtype_bits(CML_MIL_BOOL) == 8);
    CHECK(cml_mil_dtype_bits(CML_MIL_STRING) == 0 && cml_mil_dtype_bits(3) == 0);
    CHECK(cml_mil_dtype_is_subbyte(CML_MIL_INT4) && !cml_mil_dtype_is_subbyte(CML_MIL_INT8));
    CHECK(strcmp(cml_mil_dtype_name(CML_MIL_FLOAT16), "fp16") == 0);
    CHECK(strcmp(cml_blob_dtype_name(12), "UInt3") == 0);
    cml_dtype d;
    CHECK(cml_mil_dtype_to_cml(CML_MIL_FLOAT16, &d) && d == CML_DTYPE_FLOAT16);
    CHECK(cml_mil_dtype_to_cml(CML_MIL_UINT16, &d) && d == CML_DTYPE_UINT16);
    CHECK(!cml_mil_dtype_to_cml(CML_MIL_INT4, &d) && !cml_mil_dtype_to_cml(CML_MIL_STRING, &d));
    CHECK(!cml_mil_dtype_valid(0) && !cml_mil_dtype_valid(26) && cml_mil_dtype_valid(41));
}

static void test_subbyte(void) {
    uint8_t out[8];
    int8_t v4[4] = {4, 7, -3, -8};
    cml_subbyte_pack((const uint8_t *)v4, 4, 4, out);
    CHECK(out[0] == 0x74 && out[1] == 0x8d);
    cml_subbyte_pack((const uint8_t[]){0, 1, 0, 1, 0, 0, 1, 0}, 8, 1, out);
    CHECK(out[0] == 0x4a);
    cml_subbyte_pack((const uint8_t[]){2, 6, 3}, 3, 3, out);
    CHECK(out[0] == 0xf2 && out[1] == 0x00);
    cml_subbyte_pack((const uint8_t[]){2, 6, 7}, 3, 3, out); /* 7 straddles: bit 2 -> next byte */
    CHECK(out[0] == 0xf2 && out[1] == 0x01);
    CHECK(cml_subbyte_nbytes(20, 3) == 8 && cml_subbyte_nbytes(0, 4) == 0);
    CHECK(cml_subbyte_nbytes(UINT64_MAX, 3) == SIZE_MAX);
    /* Round trips of every width, odd counts, including straddling 3/6-bit values. */
    static const unsigned widths[] = {1, 2, 3, 4, 6, 8};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        unsigned bits = widths[w];
        uint8_t vals[37], packed[40], back[37];
        for (int i = 0; i < 37; i++) vals[i] = (uint8_t)((i * 7 + 3) & ((1u << bits) - 1u));
        memset(packed, 0xee, sizeof packed);
        cml_subbyte_pack(vals, 37, bits, packed);
        size_t nb = cml_subbyte_nbytes(37, bits);
        CHECK(packed[nb] == 0xee);                                   /* no overrun */
        if ((37 * bits) % 8) CHECK((packed[nb - 1] >> ((37 * bits) % 8)) == 0); /* zero pad */
        cml_subbyte_unpack_u8(packed, 37, bits, back);
        CHECK_MSG(memcmp(vals, back, 37) == 0, "width %u", bits);
    }
    int8_t s[16], sb[16];
    uint8_t p[8];
    for (int i = 0; i < 16; i++) s[i] = (int8_t)(i - 8);
    cml_subbyte_pack((const uint8_t *)s, 16, 4, p);
    cml_subbyte_unpack_i4(p, 16, sb);
    CHECK(memcmp(s, sb, 16) == 0);
}

/* ------------------------------------------------------- immediate values */

typedef struct tval {
    Cml__Coreml__MILSpec__Dimension__ConstantDimension cd[CML_MAX_DIMS + 1];
    Cml__Coreml__MILSpec__Dimension dim[CML_MAX_DIMS + 1];
    Cml__Coreml__MILSpec__Dimension *dimp[CML_MAX_DIMS + 1];
    Cml__Coreml__MILSpec__TensorType tt;
    Cml__Coreml__MILSpec__ValueType vt;
    Cml__Coreml__MILSpec__TensorValue tv;
    Cml__Coreml__MILSpec__TensorValue__RepeatedFloats f;
    Cml__Coreml__MILSpec__TensorValue__RepeatedDoubles d;
    Cml__Coreml__MILSpec__TensorValue__RepeatedInts i;
    Cml__Coreml__MILSpec__TensorValue__RepeatedLongInts l;
    Cml__Coreml__MILSpec__TensorValue__RepeatedBools b;
    Cml__Coreml__MILSpec__TensorValue__RepeatedStrings s;
    Cml__Coreml__MILSpec__TensorValue__RepeatedBytes by;
    Cml__Coreml__MILSpec__Value__ImmediateValue iv;
    Cml__Coreml__MILSpec__Value v;
} tval;

static cml_pb_value *tval_init(tval *t, int dtype, int rank, const int64_t *shape) {
    memset(t, 0, sizeof *t);
    for (int k = 0; k < rank; k++) {
        t->cd[k] = (Cml__Coreml__MILSpec__Dimension__ConstantDimension)
            CML__COREML__MILSPEC__DIMENSION__CONSTANT_DIMENSION__INIT;
        t->cd[k].size = (uint64_t)shape[k];
        t->dim[k] = (Cml__Coreml__MILSpec__Dimension)CML__COREML__MILSPEC__DIMENSION__INIT;
        t->dim[k].dimension_case = CML__COREML__MILSPEC__DIMENSION__DIMENSION_CONSTANT;
        t->dim[k].constant = &t->cd[k];
        t->dimp[k] = &t->dim[k];
    }
    t->tt = (Cml__Coreml__MILSpec__TensorType)CML__COREML__MILSPEC__TENSOR_TYPE__INIT;
    t->tt.datatype = (Cml__Coreml__MILSpec__DataType)dtype;
    t->tt.rank = rank;
    t->tt.n_dimensions = (size_t)rank;
    t->tt.dimensions = t->dimp;
    t->vt = (Cml__Coreml__MILSpec__ValueType)CML__COREML__MILSPEC__VALUE_TYPE__INIT;
    t->vt.type_case = CML__COREML__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE;
    t->vt.tensortype = &t->tt;
    t->tv = (Cml__Coreml__MILSpec__TensorValue)CML__COREML__MILSPEC__TENSOR_VALUE__INIT;
    t->iv = (Cml__Coreml__MILSpec__Value__ImmediateValue)
        CML__COREML__MILSPEC__VALUE__IMMEDIATE_VALUE__INIT;
    t->iv.value_case = CML__COREML__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR;
    t->iv.tensor = &t->tv;
    t->v = (Cml__Coreml__MILSpec__Value)CML__COREML__MILSPEC__VALUE__INIT;
    t->v.type = &t->vt;
    t->v.value_case = CML__COREML__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE;
    t->v.immediatevalue = &t->iv;
    return &t->v;
}


static void set_bytes(tval *t, const void *data, size_t n) {
    t->tv.value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_BYTES;
    t->tv.bytes = &t->by;
    t->by.values.data = (uint8_t *)data;
    t->by.values.len = n;
}

static void expect_value_fail(cml_pb_value *v, cml_status want, const char *part) {
    cml_mlvalue out;
    cml_error err = {0};
    cml_status st = cml_mlvalue_decode(v, NULL, &out, &err);
    CHECK_MSG(st == want, "status %d (%s)", st, err.msg);
    CHECK_MSG(strstr(err.msg, part) != NULL, "message '%s' lacks '%s'", err.msg, part);
}

static void test_values(void) {
    tval t;
    cml_mlvalue out;
    cml_error err = {0};
    /* fp16 bytes [2,2] */
    uint16_t h[4] = {cml_fp32_to_fp16(1.0f), cml_fp32_to_fp16(-2.5f), cml_fp32_to_fp16(0.5f), 0};
    cml_pb_value *v = tval_init(&t, CML_MIL_FLOAT16, 2, (int64_t[]){2, 2});
    set_bytes(&t, h, sizeof h);
    CHECK_MSG(cml_mlvalue_decode(v, NULL, &out, &err) == CML_OK, "%s", err.msg);
    CHECK(out.dtype == CML_MIL_FLOAT16 && out.rank == 2 && out.numel == 4 &&
          out.storage == CML_MLVALUE_RAW && out.bits == 16 && out.nbytes == 8 && !out.from_blob);
    CHECK(cml_mlvalue_get_f64(&out, 1) == -2.5 && cml_mlvalue_get_f64(&out, 2) == 0.5);
    CHECK(cml_mlvalue_get_i64(&out, 1) == -2);
    set_bytes(&t, h, 6);
    expect_value_fail(v, CML_ERR_CORRUPT, "fp16 bytes hold 6 bytes, the shape needs 8");

    /* floats scalar */
    float fl[1] = {3.25f};
    v = tval_init(&t, CML_MIL_FLOAT32, 0, NULL);
    t.tv.value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_FLOATS;
    t.tv.floats = &t.f;
    t.f.n_values = 1;
    t.f.values = fl;
    CHECK(cml_mlvalue_decode(v, NULL, &out, &err) == CML_OK);
    CHECK(out.rank == 0 && out.numel == 1 && out.storage == CML_MLVALUE_F32 &&
          cml_mlvalue_get_f64(&out, 0) == 3.25 && out.data == fl);
    t.f.n_values = 0;
    expect_value_fail(v, CML_ERR_CORRUPT, "fp32 tensor has 0 elements, the shape needs 1");
    t.tt.datatype = (Cml__Coreml__MILSpec__DataType)CML_MIL_FLOAT16;
    t.f.n_values = 1;
    expect_value_fail(v, CML_ERR_CORRUPT, "TensorValue field 1 does not suit dtype fp16");

    /* ints for int32/int16/uint8 with range checks */
    int32_t iv[3] = {-5, 300, 7};
    v = tval_init(&t, CML_MIL_INT32, 1, (int64_t[]){3});
    t.tv.value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_INTS;
    t.tv.ints = &t.i;
    t.i.n_values = 3;
    t.i.values = iv;
    CHECK(cml_mlvalue_decode(v, NULL, &out, &err) == CML_OK);
    CHECK(out.storage == CML_MLVALUE_I32 && cml_mlvalue_get_i64(&out, 0) == -5 &&
          cml_mlvalue_get_i64(&out, 1) == 300);
    t.tt.datatype = (Cml__Coreml__MILSpec__DataType)CML_MIL_INT16;
    CHECK(cml_mlvalue_decode(v, NULL, &out, &err) == CML_OK);
    t.tt.datatype = (Cml__Coreml__MILSpec__DataType)CML_MIL_INT8;
    expect_value_fail(v, CML_ERR_CORRUPT, "int8 element 1 = 300 is out of range");
    t.tt.datatype = (Cml__Coreml__MILSpec__DataType)CML_MIL_UINT16;
    expect_value_fail(v, CML_ERR_CORRUPT, "uint16 element 0 = -5 is out of range");
    t.tt.datatype = (Cml__Coreml__MILSpec__DataType)CML_MIL_BOOL;
    expect_value_fail(v, CML_ERR_CORRUPT, "does not suit dtype bool");

    /* longInts, doubles, bools, strings */
    int64_t lv[2] = {INT64_MIN, 42};
    v = tval_init(&t, CML_MIL_INT64, 1, (int64_t[]){2});
    t.tv.value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_LONG_INTS;
    t.tv.longints = &t.l;
    t.l.n_values = 2;
    t.l.values = lv;
    CHECK(cml_mlvalue_decode(v, NULL, &out, &err) == CML_OK);
    CHECK(out.storage == CML_MLVALUE_I64 && cml_mlvalue_get_i64(&out, 0) == INT64_MIN &&
          cml_mlvalue_get_i64(&out, 1) == 42 && cml_mlvalue_get_i64(&out, 2) == 0);
    double dv[2] = {1e300, -0.125};
    v = tval_init(&t, CML_MIL_FLOAT64, 1, (int64_t[]){2});
    t.tv.value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_DOUBLES;
    t.tv.doubles = &t.d;
    t.d.n_values = 2;
    t.d.values = dv;
    CHECK(cml_mlvalue_decode(v, NULL, &out, &err) == CML_OK);
    CHECK(out.storage == CML_MLVALUE_F64 && cml_mlvalue_get_f64(&out, 1) == -0.125 &&
          cml_mlvalue_get_i64(&out, 0) == INT64_MAX);
    protobuf_c_boolean bv[3] = {1, 0, 1};
    v = tval_init(&t, CML_MIL_BOOL, 1, (int64_t[]){3});
    t.tv.value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_BOOLS;
    t.tv.bools = &t.b;
    t.b.n_values = 3;
    t.b.values = bv;
    CHECK(cml_mlvalue_decode(v, NULL, &out, &err) == CML_OK);
    CHECK(out.storage == CML_MLVALUE_BOOL && cml_mlvalue_get_i64(&out, 2) == 1 &&
          cml_mlvalue_get_i64(&out, 1) == 0);
    char *sv[2] = {"valid", "same"};
    v = tval_init(&t, CML_MIL_STRING, 1, (int64_t[]){2});
    t.tv.value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_STRINGS;
    t.tv.strings = &t.s;
    t.s.n_values = 2;
    t.s.values = sv;
    CHECK(cml_mlvalue_decode(v, NULL, &out, &err) == CML_OK);
    CHECK(out.storage == CML_MLVALUE_STRING && strcmp(cml_mlvalue_get_str(&out, 1), "same") == 0);
    CHECK(cml_mlvalue_get_str(&out, 2) == NULL && cml_mlvalue_get_f64(&out, 0) == 0.0);
    set_bytes(&t, "ab", 2);
    expect_value_fail(v, CML_ERR_CORRUPT, "does not suit dtype string");

    /* sub-byte bytes: int4 [2,2] and uint3 [5] */
    uint8_t p4[2] = {0x74, 0x8d};
    v = tval_init(&t, CML_MIL_INT4, 2, (int64_t[]){2, 2});
    set_bytes(&t, p4, 2);
    CHECK(cml_mlvalue_decode(v, NULL, &out, &err) == CML_OK);
    CHECK(out.storage == CML_MLVALUE_PACKED && out.bits == 4 && out.nbytes == 2);
    CHECK(cml_mlvalue_get_f64(&out, 2) == -3 && cml_mlvalue_get_i64(&out, 3) == -8 &&
          cml_mlvalue_get_i64(&out, 1) == 7);
    uint8_t p3[2] = {0xf2, 0x01}; /* 2, 6, 7, 0, 0 */
    v = tval_init(&t, CML_MIL_UINT3, 1, (int64_t[]){5});
    set_bytes(&t, p3, 2);
    CHECK(cml_mlvalue_decode(v, NULL, &out, &err) == CML_OK);
    CHECK(cml_mlvalue_get_i64(&out, 0) == 2 && cml_mlvalue_get_i64(&out, 1) == 6 &&
          cml_mlvalue_get_i64(&out, 2) == 7 && cml_mlvalue_get_i64(&out, 4) == 0);
    t.dim[0].constant->size = 6; /* 18 bits need 3 bytes */
    expect_value_fail(v, CML_ERR_CORRUPT, "uint3 bytes hold 2 bytes, the shape needs 3");
    /* bool bytes: only 0/1 */
    v = tval_init(&t, CML_MIL_BOOL, 1, (int64_t[]){2});
    set_bytes(&t, "\x01\x02", 2);
    expect_value_fail(v, CML_ERR_CORRUPT, "bool byte 1 is 2");

    /* empty tensor with and without its field */
    v = tval_init(&t, CML_MIL_FLOAT32, 2, (int64_t[]){0, 5});
    CHECK(cml_mlvalue_decode(v, NULL, &out, &err) == CML_OK && out.numel == 0);
    t.iv.value_case = CML__COREML__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE__NOT_SET;
    CHECK(cml_mlvalue_decode(v, NULL, &out, &err) == CML_OK && out.numel == 0 && !out.data);

    /* shapes: overflow, unknown dims, rank mismatch, rank > 16, bad dtype */
    v = tval_init(&t, CML_MIL_FLOAT32, 3, (int64_t[]){1LL << 40, 1LL << 40, 2});
    expect_value_fail(v, CML_ERR_CORRUPT, "element count overflows");
    v = tval_init(&t, CML_MIL_FLOAT32, 1, (int64_t[]){3});
    t.dim[0].dimension_case = CML__COREML__MILSPEC__DIMENSION__DIMENSION_UNKNOWN;
    expect_value_fail(v, CML_ERR_CORRUPT, "dimension 0 is unknown");
    t.dim[0].dimension_case = CML__COREML__MILSPEC__DIMENSION__DIMENSION__NOT_SET;
    expect_value_fail(v, CML_ERR_CORRUPT, "neither constant nor unknown");
    v = tval_init(&t, CML_MIL_FLOAT32, 1, (int64_t[]){3});
    t.tt.rank = 2;
    expect_value_fail(v, CML_ERR_CORRUPT, "rank 2 but 1 dimensions");
    t.tt.rank = -1;
    expect_value_fail(v, CML_ERR_CORRUPT, "rank -1 but 1 dimensions");
    t.tt.rank = 17;
    expect_value_fail(v, CML_ERR_UNSUPPORTED, "rank 17");
    t.tt.rank = 1;
    t.tt.datatype = (Cml__Coreml__MILSpec__DataType)3;
    expect_value_fail(v, CML_ERR_CORRUPT, "unknown dataType 3");
    t.tt.datatype = (Cml__Coreml__MILSpec__DataType)CML_MIL_FLOAT32;
    t.cd[0].size = UINT64_MAX;
    expect_value_fail(v, CML_ERR_CORRUPT, "dimension 0 is 18446744073709551615");
    /* not a tensor / no type / no value / blob without a package */
    v = tval_init(&t, CML_MIL_FLOAT32, 0, NULL);
    t.vt.type_case = CML__COREML__MILSPEC__VALUE_TYPE__TYPE_LIST_TYPE;
    expect_value_fail(v, CML_ERR_UNSUPPORTED, "value is a list, expected a tensor");
    t.v.type = NULL;
    expect_value_fail(v, CML_ERR_CORRUPT, "value is untyped");
    v = tval_init(&t, CML_MIL_FLOAT32, 0, NULL);
    t.v.value_case = CML__COREML__MILSPEC__VALUE__VALUE__NOT_SET;
    expect_value_fail(v, CML_ERR_CORRUPT, "neither immediate nor blob");
    Cml__Coreml__MILSpec__Value__BlobFileValue bf =
        CML__COREML__MILSPEC__VALUE__BLOB_FILE_VALUE__INIT;
    bf.filename = "@model_path/weights/weight.bin";
    bf.offset = 64;
    t.v.value_case = CML__COREML__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE;
    t.v.blobfilevalue = &bf;
    expect_value_fail(v, CML_ERR_UNSUPPORTED, "without a package");
    t.v.value_case = CML__COREML__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE;
    t.iv.value_case = CML__COREML__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_LIST;
    expect_value_fail(v, CML_ERR_CORRUPT, "non-tensor immediate value");
    CHECK(cml_mlvalue_decode(NULL, NULL, &out, &err) == CML_ERR_CORRUPT);
}

int main(void) {
    test_types();
    test_milblob();
    test_subbyte();
    test_values();
    TEST_MAIN_END();
}
