/* ML Program writer (see mil_write.h). Message and field numbers follow
 * proto/coreml.proto (MILSpec.*, Model, ModelDescription, FeatureType). */
#include "lower/mil_write.h"

#include <string.h>

void cml_milw_init(cml_milw *w) {
    memset(w, 0, sizeof *w);
    cml_lbuf_put(&w->weights, NULL, 64); /* header: count patched per blob */
    uint32_t version = 2;
    cml_lbuf_patch(&w->weights, 4, &version, 4);
}

void cml_milw_free(cml_milw *w) {
    cml_lbuf_free(&w->ops);
    cml_lbuf_free(&w->weights);
}

static size_t numel(const cml_milw_type *t) {
    size_t n = 1;
    for (int32_t i = 0; i < t->rank; i++) n *= (size_t)t->dims[i];
    return n;
}

static size_t elem_size(int dtype) {
    switch (dtype) {
    case CML_MILW_FP16: return 2;
    case CML_MILW_FP32: case CML_MILW_INT32: return 4;
    default: return 1;
    }
}

/* Bits per element of a packed sub-byte dtype; 0 for the others. */
static unsigned sub_bits(int dtype) {
    switch (dtype) {
    case CML_MILW_INT4: case CML_MILW_UINT4: return 4;
    case CML_MILW_UINT1: return 1;
    case CML_MILW_UINT2: return 2;
    case CML_MILW_UINT3: return 3;
    case CML_MILW_UINT6: return 6;
    default: return 0;
    }
}

/* weight.bin dtype code (MILBlob BlobDataType). */
static uint32_t blob_code(int dtype) {
    switch (dtype) {
    case CML_MILW_FP16: return 1;
    case CML_MILW_FP32: return 2;
    case CML_MILW_UINT8: return 3;
    case CML_MILW_INT8: return 4;
    case CML_MILW_INT4: return 8;
    case CML_MILW_UINT1: return 9;
    case CML_MILW_UINT2: return 10;
    case CML_MILW_UINT4: return 11;
    case CML_MILW_UINT3: return 12;
    case CML_MILW_UINT6: return 13;
    default: return 0;
    }
}

/* ValueType { tensorType = 1 { dataType = 1, rank = 2, dimensions = 3 } } as field. */
static void put_value_type(cml_lbuf *b, uint32_t field, const cml_milw_type *t) {
    size_t vt = cml_pb_begin(b, field);
    size_t tt = cml_pb_begin(b, 1);
    cml_pb_uint(b, 1, (uint64_t)t->dtype);
    if (t->rank) cml_pb_uint(b, 2, (uint64_t)t->rank);
    for (int32_t i = 0; i < t->rank; i++) {
        size_t d = cml_pb_begin(b, 3);
        size_t c = cml_pb_begin(b, 1);
        if (t->dims[i]) cml_pb_uint(b, 1, (uint64_t)t->dims[i]);
        cml_pb_end(b, c);
        cml_pb_end(b, d);
    }
    cml_pb_end(b, tt);
    cml_pb_end(b, vt);
}

static const cml_milw_type k_string = {CML_MILW_STRING, 0, {0}};

/* Value { type = 2, immediateValue = 3 { tensor = 1 { strings = 4 { values = 1 } } } } */
static void put_string_value(cml_lbuf *b, uint32_t field, const char *s) {
    size_t v = cml_pb_begin(b, field);
    put_value_type(b, 2, &k_string);
    size_t iv = cml_pb_begin(b, 3);
    size_t tv = cml_pb_begin(b, 1);
    size_t rs = cml_pb_begin(b, 4);
    cml_pb_string(b, 1, s);
    cml_pb_end(b, rs);
    cml_pb_end(b, tv);
    cml_pb_end(b, iv);
    cml_pb_end(b, v);
}

/* Operation.attributes / Program.attributes map entry: key -> Value. */
static void put_name_attr(cml_lbuf *b, uint32_t field, const char *key, const char *s) {
    size_t e = cml_pb_begin(b, field);
    cml_pb_string(b, 1, key);
    put_string_value(b, 2, s);
    cml_pb_end(b, e);
}

static void put_output(cml_lbuf *b, const char *name, const cml_milw_type *t) {
    size_t o = cml_pb_begin(b, 3);
    cml_pb_string(b, 1, name);
    put_value_type(b, 2, t);
    cml_pb_end(b, o);
}

/* TensorValue payload of an immediate: floats (1), ints (2), bools (3),
 * bytes (7, for fp16). */
static void put_tensor_payload(cml_lbuf *b, const cml_milw_type *t, const void *data) {
    size_t n = numel(t);
    const uint8_t *p = data;
    if (t->dtype == CML_MILW_FP32) {
        size_t r = cml_pb_begin(b, 1);
        cml_pb_bytes(b, 1, p, n * 4);
        cml_pb_end(b, r);
    } else if (t->dtype == CML_MILW_INT32 || t->dtype == CML_MILW_BOOL) {
        size_t r = cml_pb_begin(b, t->dtype == CML_MILW_INT32 ? 2 : 3);
        size_t pk = cml_pb_begin(b, 1);
        for (size_t i = 0; i < n; i++) {
            int32_t v = 0;
            if (t->dtype == CML_MILW_INT32) memcpy(&v, p + 4 * i, 4);
            else v = p[i] != 0;
            cml_pb_varint(b, (uint64_t)(int64_t)v);
        }
        cml_pb_end(b, pk);
        cml_pb_end(b, r);
    } else {
        size_t r = cml_pb_begin(b, 7);
        cml_pb_bytes(b, 1, p, n * elem_size(t->dtype));
        cml_pb_end(b, r);
    }
}

/* Appends a weight.bin record + payload; returns the record offset. */
static uint64_t put_blob(cml_milw *w, const cml_milw_type *t, const void *data) {
    cml_lbuf *wb = &w->weights;
    cml_lbuf_align(wb, 64);
    uint64_t rec = wb->size;
    unsigned bits = sub_bits(t->dtype);
    uint64_t nbytes = bits ? (numel(t) * bits + 7) / 8 /* packed, LSB first */
                           : numel(t) * elem_size(t->dtype);
    uint32_t code = blob_code(t->dtype);
    cml_lbuf_u32(wb, 0xDEADBEEFu);
    cml_lbuf_u32(wb, code);
    cml_lbuf_u64(wb, nbytes);
    cml_lbuf_u64(wb, rec + 64);
    cml_lbuf_put(wb, NULL, 40);
    cml_lbuf_put(wb, data, nbytes);
    w->nblobs++;
    cml_lbuf_patch(wb, 0, &w->nblobs, 4);
    return rec;
}

/* A tensor Value as field `field`: a weight.bin record for the sub-byte
 * dtypes (packed) and uint8, and for >= 10 elements of fp16, fp32 or int8;
 * else immediate. */
static void put_tensor_value(cml_milw *w, uint32_t field, const cml_milw_type *t,
                             const void *data) {
    cml_lbuf *b = &w->ops;
    bool blob = sub_bits(t->dtype) || t->dtype == CML_MILW_UINT8 ||
                (numel(t) >= 10 && (t->dtype == CML_MILW_FP16 || t->dtype == CML_MILW_FP32 ||
                                    t->dtype == CML_MILW_INT8));
    uint64_t rec = blob ? put_blob(w, t, data) : 0;
    size_t v = cml_pb_begin(b, field);
    put_value_type(b, 2, t);
    if (blob) {
        size_t bf = cml_pb_begin(b, 5);
        cml_pb_string(b, 1, "@model_path/weights/weight.bin");
        cml_pb_uint(b, 2, rec);
        cml_pb_end(b, bf);
    } else {
        size_t iv = cml_pb_begin(b, 3);
        size_t tv = cml_pb_begin(b, 1);
        put_tensor_payload(b, t, data);
        cml_pb_end(b, tv);
        cml_pb_end(b, iv);
    }
    cml_pb_end(b, v);
}

/* Operation.attributes entry key -> tensor Value. */
static void put_tensor_attr(cml_milw *w, const char *key, const cml_milw_type *t,
                            const void *data) {
    size_t e = cml_pb_begin(&w->ops, 5);
    cml_pb_string(&w->ops, 1, key);
    put_tensor_value(w, 2, t, data);
    cml_pb_end(&w->ops, e);
}

/* Operation.inputs entry key -> Argument { Binding { value } }: an operand
 * given inline, as coremltools writes iOS18 constexpr operands. */
static void put_tensor_input(cml_milw *w, const char *key, const cml_milw_type *t,
                             const void *data) {
    cml_lbuf *b = &w->ops;
    size_t e = cml_pb_begin(b, 2);
    cml_pb_string(b, 1, key);
    size_t a = cml_pb_begin(b, 2);
    size_t bd = cml_pb_begin(b, 1);
    put_tensor_value(w, 2, t, data);
    cml_pb_end(b, bd);
    cml_pb_end(b, a);
    cml_pb_end(b, e);
}

void cml_milw_lut_to_dense(cml_milw *w, const char *name, const cml_milw_type *t,
                           const cml_milw_type *it, const uint8_t *indices,
                           const cml_milw_type *lt, const void *lut) {
    cml_lbuf *b = &w->ops;
    size_t op = cml_pb_begin(b, 3);
    cml_pb_string(b, 1, "constexpr_lut_to_dense");
    put_tensor_input(w, "indices", it, indices);
    put_tensor_input(w, "lut", lt, lut);
    put_output(b, name, t);
    put_name_attr(b, 5, "name", name);
    cml_pb_end(b, op);
}

void cml_milw_blockwise_shift_scale(cml_milw *w, const char *name, const cml_milw_type *t,
                                    const uint8_t *q4, const cml_milw_type *st,
                                    const void *scale) {
    cml_lbuf *b = &w->ops;
    size_t op = cml_pb_begin(b, 3);
    cml_pb_string(b, 1, "constexpr_blockwise_shift_scale");
    cml_milw_type qt = *t;
    qt.dtype = CML_MILW_INT4;
    put_tensor_input(w, "data", &qt, q4);
    put_tensor_input(w, "scale", st, scale);
    put_output(b, name, t);
    put_name_attr(b, 5, "name", name);
    cml_pb_end(b, op);
}

void cml_milw_const_tensor(cml_milw *w, const char *name, const cml_milw_type *t,
                           const void *data) {
    cml_lbuf *b = &w->ops;
    size_t op = cml_pb_begin(b, 3);
    cml_pb_string(b, 1, "const");
    put_output(b, name, t);
    put_tensor_attr(w, "val", t, data);
    put_name_attr(b, 5, "name", name);
    cml_pb_end(b, op);
}

void cml_milw_affine_dequantize(cml_milw *w, const char *name, const cml_milw_type *t,
                                const int8_t *q, const int8_t *zp, const void *scale,
                                int32_t axis) {
    cml_lbuf *b = &w->ops;
    size_t op = cml_pb_begin(b, 3);
    cml_pb_string(b, 1, "constexpr_affine_dequantize");
    put_output(b, name, t);
    cml_milw_type qt = *t, vt = {t->dtype, 1, {t->dims[axis]}}, at = {CML_MILW_INT32, 0, {0}};
    qt.dtype = CML_MILW_INT8;
    put_tensor_attr(w, "quantized_data", &qt, q);
    vt.dtype = CML_MILW_INT8;
    put_tensor_attr(w, "zero_point", &vt, zp);
    vt.dtype = t->dtype;
    put_tensor_attr(w, "scale", &vt, scale);
    put_tensor_attr(w, "axis", &at, &axis);
    put_name_attr(b, 5, "name", name);
    cml_pb_end(b, op);
}

void cml_milw_const_int(cml_milw *w, const char *name, int32_t v) {
    cml_milw_type t = {CML_MILW_INT32, 0, {0}};
    cml_milw_const_tensor(w, name, &t, &v);
}

void cml_milw_const_ints(cml_milw *w, const char *name, const int32_t *v, uint32_t n) {
    cml_milw_type t = {CML_MILW_INT32, 1, {n}};
    cml_milw_const_tensor(w, name, &t, v);
}

void cml_milw_const_bool(cml_milw *w, const char *name, bool v) {
    cml_milw_type t = {CML_MILW_BOOL, 0, {0}};
    uint8_t x = v;
    cml_milw_const_tensor(w, name, &t, &x);
}

void cml_milw_const_string(cml_milw *w, const char *name, const char *s) {
    cml_lbuf *b = &w->ops;
    size_t op = cml_pb_begin(b, 3);
    cml_pb_string(b, 1, "const");
    put_output(b, name, &k_string);
    put_name_attr(b, 5, "val", s);
    put_name_attr(b, 5, "name", name);
    cml_pb_end(b, op);
}

void cml_milw_op(cml_milw *w, const char *type, const cml_milw_arg *args, unsigned nargs,
                 const char *out_name, const cml_milw_type *out, const char *name_attr) {
    cml_milw_op_n(w, type, args, nargs, &out_name, out, 1, name_attr);
}

void cml_milw_op_n(cml_milw *w, const char *type, const cml_milw_arg *args, unsigned nargs,
                   const char *const *out_names, const cml_milw_type *outs, unsigned nout,
                   const char *name_attr) {
    cml_lbuf *b = &w->ops;
    size_t op = cml_pb_begin(b, 3);
    cml_pb_string(b, 1, type);
    for (unsigned i = 0; i < nargs;) { /* consecutive args of one key: one variadic entry */
        size_t e = cml_pb_begin(b, 2);
        cml_pb_string(b, 1, args[i].key);
        size_t a = cml_pb_begin(b, 2);
        unsigned j = i;
        for (; j < nargs && !strcmp(args[j].key, args[i].key); j++) {
            size_t bd = cml_pb_begin(b, 1);
            cml_pb_string(b, 1, args[j].name);
            cml_pb_end(b, bd);
        }
        cml_pb_end(b, a);
        cml_pb_end(b, e);
        i = j;
    }
    for (unsigned i = 0; i < nout; i++) put_output(b, out_names[i], &outs[i]);
    put_name_attr(b, 5, "name", name_attr);
    cml_pb_end(b, op);
}

static uint64_t array_dtype(int dtype) {
    return dtype == CML_MILW_FP16 ? 65552u : dtype == CML_MILW_INT32 ? 131104u : 65568u;
}

/* FeatureDescription { name = 1, type = 3 { multiArrayType = 5 { shape = 1, dataType = 2 } } } */
static void put_feature(cml_lbuf *b, uint32_t field, const cml_milw_io *io) {
    size_t f = cml_pb_begin(b, field);
    cml_pb_string(b, 1, io->name);
    size_t ft = cml_pb_begin(b, 3);
    size_t ma = cml_pb_begin(b, 5);
    size_t sh = cml_pb_begin(b, 1);
    for (int32_t i = 0; i < io->type.rank; i++) cml_pb_varint(b, (uint64_t)io->type.dims[i]);
    cml_pb_end(b, sh);
    cml_pb_uint(b, 2, array_dtype(io->type.dtype));
    cml_pb_end(b, ma);
    cml_pb_end(b, ft);
    cml_pb_end(b, f);
}

static void put_user_meta(cml_lbuf *b, const char *key, const char *value) {
    size_t e = cml_pb_begin(b, 100);
    cml_pb_string(b, 1, key);
    cml_pb_string(b, 2, value);
    cml_pb_end(b, e);
}

static void put_description(cml_lbuf *b, const cml_milw_io *in, unsigned nin,
                            const cml_milw_io *outs, unsigned nout) {
    size_t d = cml_pb_begin(b, 2);
    for (unsigned i = 0; i < nin; i++) put_feature(b, 1, &in[i]);
    for (unsigned i = 0; i < nout; i++) put_feature(b, 10, &outs[i]);
    size_t m = cml_pb_begin(b, 100);
    put_user_meta(b, "com.github.apple.coremltools.source", "cml lower");
    put_user_meta(b, "com.github.apple.coremltools.source_dialect", "TorchExport::EDGE");
    put_user_meta(b, "com.github.apple.coremltools.version", "9.0");
    cml_pb_end(b, m);
    cml_pb_end(b, d);
}

/* Program.attributes["buildInfo"]: dictionary string -> string. */
static void put_build_info(cml_lbuf *b) {
    size_t e = cml_pb_begin(b, 4);
    cml_pb_string(b, 1, "buildInfo");
    size_t v = cml_pb_begin(b, 2);
    size_t vt = cml_pb_begin(b, 2);
    size_t dt = cml_pb_begin(b, 4);
    put_value_type(b, 1, &k_string);
    put_value_type(b, 2, &k_string);
    cml_pb_end(b, dt);
    cml_pb_end(b, vt);
    size_t iv = cml_pb_begin(b, 3);
    size_t dv = cml_pb_begin(b, 4);
    size_t kv = cml_pb_begin(b, 1);
    put_string_value(b, 1, "coremltools-version");
    put_string_value(b, 2, "9.0");
    cml_pb_end(b, kv);
    cml_pb_end(b, dv);
    cml_pb_end(b, iv);
    cml_pb_end(b, v);
    cml_pb_end(b, e);
}

static void put_function(const cml_milw *w, cml_lbuf *b, const char *opset,
                         const cml_milw_io *in, unsigned nin, const cml_milw_io *outs,
                         unsigned nout) {
    size_t fe = cml_pb_begin(b, 2);
    cml_pb_string(b, 1, "main");
    size_t f = cml_pb_begin(b, 2);
    for (unsigned i = 0; i < nin; i++) {
        size_t nv = cml_pb_begin(b, 1);
        cml_pb_string(b, 1, in[i].name);
        put_value_type(b, 2, &in[i].type);
        cml_pb_end(b, nv);
    }
    cml_pb_string(b, 2, opset);
    size_t be = cml_pb_begin(b, 3);
    cml_pb_string(b, 1, opset);
    size_t blk = cml_pb_begin(b, 2);
    for (unsigned i = 0; i < nout; i++) cml_pb_string(b, 2, outs[i].name);
    cml_lbuf_put(b, w->ops.data, w->ops.size);
    if (w->ops.failed) b->failed = true;
    cml_pb_end(b, blk);
    cml_pb_end(b, be);
    cml_pb_end(b, f);
    cml_pb_end(b, fe);
}

void cml_milw_model(const cml_milw *w, int spec_version, const char *opset,
                    const cml_milw_io *in, unsigned nin, const cml_milw_io *outs,
                    unsigned nout, cml_lbuf *out) {
    cml_pb_uint(out, 1, (uint64_t)spec_version);
    put_description(out, in, nin, outs, nout);
    size_t p = cml_pb_begin(out, 502);
    cml_pb_uint(out, 1, 1);
    put_function(w, out, opset, in, nin, outs, nout);
    put_build_info(out);
    cml_pb_end(out, p);
}
