/*
 * Writes an ML Program the way coremltools' milproto exporter lays it out:
 * one function "main", one block, ops in order, every const as a `const`
 * op with "val" and "name" attributes; tensor consts of >= 10 elements and
 * a blob-capable dtype (fp16/fp32/int8/uint8) go to weight.bin (blob
 * storage v2: 64-byte header, 64-byte records, payloads 64-aligned), smaller
 * ones are immediate values. Field numbers: proto/coreml.proto.
 */
#ifndef CML_LOWER_MIL_WRITE_H
#define CML_LOWER_MIL_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "cml.h"
#include "lower/lbuf.h"

/* MIL DataType values used here. */
enum {
    CML_MILW_BOOL = 1, CML_MILW_STRING = 2, CML_MILW_FP16 = 10, CML_MILW_FP32 = 11,
    CML_MILW_INT8 = 21, CML_MILW_INT32 = 23, CML_MILW_INT4 = 25, CML_MILW_UINT8 = 31,
    CML_MILW_UINT4 = 35, CML_MILW_UINT2 = 36, CML_MILW_UINT1 = 37, CML_MILW_UINT6 = 38,
    CML_MILW_UINT3 = 39,
};

typedef struct cml_milw_type {
    int dtype;                     /* CML_MILW_* */
    int32_t rank;
    int64_t dims[CML_MAX_DIMS];
} cml_milw_type;

typedef struct cml_milw_arg {
    const char *key;               /* operand name: "x", "weight", ... */
    const char *name;              /* the value bound to it */
} cml_milw_arg;

typedef struct cml_milw {
    cml_lbuf ops;                  /* Block.operations, serialized */
    cml_lbuf weights;              /* weight.bin */
    uint32_t nblobs;
} cml_milw;

void cml_milw_init(cml_milw *w);
void cml_milw_free(cml_milw *w);

/* A tensor const of t's type; data holds numel elements of the MIL dtype
 * (fp16 as bits). */
void cml_milw_const_tensor(cml_milw *w, const char *name, const cml_milw_type *t,
                           const void *data);
void cml_milw_const_int(cml_milw *w, const char *name, int32_t v);          /* rank 0 */
void cml_milw_const_ints(cml_milw *w, const char *name, const int32_t *v, uint32_t n);
void cml_milw_const_bool(cml_milw *w, const char *name, bool v);
void cml_milw_const_string(cml_milw *w, const char *name, const char *s);

/* constexpr_affine_dequantize (iOS16+), as coremltools' linear_quantize_weights
 * writes it: out = scale[c] * (quantized_data - zero_point[c]) along `axis`
 * (c its index), every operand an attribute. q holds numel(t) int8; zp and
 * scale one per index of axis (scale in t's dtype: fp32, or fp16 bits). */
void cml_milw_affine_dequantize(cml_milw *w, const char *name, const cml_milw_type *t,
                                const int8_t *q, const int8_t *zp, const void *scale,
                                int32_t axis);

/* constexpr_blockwise_shift_scale (iOS18), operands inline as coremltools
 * writes them: out = scale * data, scale of type st broadcast over blocks
 * (st->dims[i] divides t->dims[i]). q4 holds numel(t) int4 values packed
 * two per byte, the first in the low nibble; scale in st's dtype (fp32, or
 * fp16 bits). */
void cml_milw_blockwise_shift_scale(cml_milw *w, const char *name, const cml_milw_type *t,
                                    const uint8_t *q4, const cml_milw_type *st,
                                    const void *scale);

/* constexpr_lut_to_dense (iOS18 form), operands inline: indices of type it
 * (UINT1..UINT8 of t's shape, packed LSB first as MILBlob stores them) and
 * lut of type lt ([t->dims[0] / G, 1, ..., 2^bits, 1]: one table per group
 * of G rows) in t's dtype (fp32, or fp16 bits). */
void cml_milw_lut_to_dense(cml_milw *w, const char *name, const cml_milw_type *t,
                           const cml_milw_type *it, const uint8_t *indices,
                           const cml_milw_type *lt, const void *lut);

/* An op with named-argument inputs (consecutive args with the same key form
 * one variadic operand: concat's values) and one tensor output; name_attr is
 * its "name" attribute (coremltools: the output name, or "<type>_<n>"). */
void cml_milw_op(cml_milw *w, const char *type, const cml_milw_arg *args, unsigned nargs,
                 const char *out_name, const cml_milw_type *out, const char *name_attr);

/* The same with nout outputs (split). */
void cml_milw_op_n(cml_milw *w, const char *type, const cml_milw_arg *args, unsigned nargs,
                   const char *const *out_names, const cml_milw_type *outs, unsigned nout,
                   const char *name_attr);

/* Model I/O feature. */
typedef struct cml_milw_io {
    const char *name;
    cml_milw_type type;            /* fp32/fp16/int32 multiarray */
} cml_milw_io;

/* Serializes the Model (spec_version, description with I/O and the
 * coremltools-style user metadata, the program with function "main" of
 * opset opset and its block) into out. */
void cml_milw_model(const cml_milw *w, int spec_version, const char *opset,
                    const cml_milw_io *in, unsigned nin, const cml_milw_io *outs,
                    unsigned nout, cml_lbuf *out);

#endif
