/*
 * Compressed-weight constexpr ops (shared/reference/mil-ops.md section 12):
 *
 *   constexpr_affine_dequantize          (iOS16)  scale * (q - zero_point) along axis
 *   constexpr_cast                       (iOS16)  fp16 <-> fp32 copy
 *   constexpr_lut_to_dense               (iOS16)  packed uint8 indices + shape, 1-D LUT
 *                                        (iOS18)  uintN indices, per-block (vector) LUTs
 *   constexpr_sparse_to_dense            (iOS16)  packed bit mask + shape
 *                                        (iOS18)  uint1 mask of the output shape
 *   constexpr_blockwise_shift_scale      (iOS18)  scale[p/block] * (data[p] - offset[p/block])
 *   constexpr_lut_to_sparse              (iOS18)  two outputs: mask, LUT values of the non-zeros
 *   constexpr_sparse_blockwise_shift_scale (iOS18) two outputs: mask, dequantized non-zeros
 *
 * Every parameter is a compile-time constant (iOS16/17: attributes, which
 * compile.c binds as parameters; iOS18: inputs, possibly other constexpr
 * outputs). Sub-byte iOS18 values (int4, uint1..uint6) arrive PACKED
 * (mil.h packed_bits: compile.c keeps them LSB-first packed, in place in the
 * mapped weight file, when only these parameters read them: bss data/offset,
 * affine quantized_data/zero_point, lut indices, lut_to_sparse
 * indices_nonzero_data, sparse bss nonzero_data/offset) and are read packed
 * here (packed_at / packed_run; storage dtype INT8 for int4, sign-extended,
 * UINT8 otherwise); other sub-byte parameters (masks) arrive unpacked, one
 * byte per element. The iOS16 packed forms are unpacked here. infer()
 * validates everything (shapes that tile, packed sizes, LUT index ranges,
 * mask popcounts) so that a malformed model fails at load with
 * CML_ERR_CORRUPT naming the op; run() only decompresses and is executed
 * once, by constant folding (or, through cml_constexpr_decode_range, by the
 * compressed linear at run).
 *
 * Output dtype = the scale / LUT / data dtype (fp16 -> FLOAT32 storage with
 * the fp16 flag; the folder rounds it). Arithmetic follows the coremltools
 * value_inference reference:
 *   affine_dequantize: fp32 scale * (fp32(q) - fp32(zp)), one rounding to
 *                      the scale dtype;
 *   blockwise_shift_scale: data converted to the scale dtype, (data - offset)
 *                      rounded to fp16 when the scale is fp16, then * scale.
 */
#include <string.h>

#include "core/fp16.h"
#include "coreml/value.h"
#include "kernels/kernels.h"
#include "mil/constexpr_decode.h"
#include "mil/ops.h"

/* ------------------------------------------------------------- helpers */

/* A required compile-time tensor parameter. */
static cml_status req_const(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                            cml_mil_value **out) {
    CML_TRY(cml_mil_require(ctx, node, name, out));
    if (!cml_milop_known(*out))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "parameter '%s' must be a constant", name);
    return CML_OK;
}

static cml_status opt_const(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                            cml_mil_value **out) {
    *out = cml_mil_in(ctx, node, name);
    if (!*out) return CML_OK;
    if ((*out)->kind != CML_MIL_KIND_TENSOR || !cml_milop_known(*out))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "parameter '%s' must be a constant tensor",
                            name);
    return CML_OK;
}

static bool is_small_int(cml_dtype d) { return d == CML_DTYPE_INT8 || d == CML_DTYPE_UINT8; }

/* Value dtypes a constexpr op can produce: floats, int8/uint8. */
static bool is_payload(cml_dtype d) { return d == CML_DTYPE_FLOAT32 || is_small_int(d); }

static void next_index(int32_t rank, const int64_t *shape, int64_t *idx) {
    for (int32_t d = rank - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) return;
        idx[d] = 0;
    }
}

/* Multi-index of flat element i of shape. */
static void unravel(int32_t rank, const int64_t *shape, int64_t i, int64_t *idx) {
    for (int32_t d = rank - 1; d >= 0; d--) {
        idx[d] = shape[d] ? i % shape[d] : 0;
        i = shape[d] ? i / shape[d] : 0;
    }
}

/* Copies element si of src to element di of dst (same storage dtype). */
static inline void copy_elem(void *dst, int64_t di, const void *src, int64_t si, size_t esize) {
    if (esize == 4) ((float *)dst)[di] = ((const float *)src)[si];
    else ((uint8_t *)dst)[di] = ((const uint8_t *)src)[si];
}

/* ------------------------------------------------- packed parameters */

/* Element i of a packed sub-byte value (int4 sign-extended). */
static inline int32_t packed_at(const cml_mil_value *v, int64_t i) {
    uint32_t u = cml_subbyte_get(v->data, (uint64_t)i, v->packed_bits);
    if (!v->packed_signed) return (int32_t)u;
    uint32_t sign = 1u << (v->packed_bits - 1);
    return (int32_t)(u ^ sign) - (int32_t)sign;
}

/* Element i of a numeric constexpr parameter, packed or not. */
static inline double num_at(const cml_mil_value *v, int64_t i) {
    return v->packed_bits ? (double)packed_at(v, i) : cml_milop_get_num(v->data, v->dtype, i);
}

/* LUT index i (UINT8 storage, packed or one byte each). */
static inline uint32_t index_at(const uint8_t *ind, unsigned bits, int64_t i) {
    return bits ? cml_subbyte_get(ind, (uint64_t)i, bits) : ind[i];
}

#define RUN_CHUNK 256

/* Elements [start, start + n) (n <= RUN_CHUNK) of a packed parameter v as
 * int8 (every packed value fits: int4 -8..7, uint1..uint6 0..63): 4-bit two
 * per byte; other widths a group at a time (G = 8 / gcd(bits, 8) elements
 * in B = bits * G / 8 <= 3 whole bytes: 1-bit 8 in 1, 2-bit 4 in 1, 3-bit 8
 * in 3, 6-bit 4 in 3), the unaligned head and tail one by one; int4 then
 * sign-extended. Reads only the bytes holding elements of the range. */
static void packed_run(const cml_mil_value *v, int64_t start, int64_t n, int8_t *dst) {
    const uint8_t *p = v->data;
    unsigned bits = v->packed_bits;
    int64_t i = start, end = start + n;
    int8_t *d = dst;
    if (bits == 4) {
        if ((i & 1) && i < end) *d++ = (int8_t)(p[i >> 1] >> 4), i++;
        int64_t pairs = (end - i) / 2;
        const uint8_t *b = p + (i >> 1);
        for (int64_t k = 0; k < pairs; k++) {
            d[2 * k] = (int8_t)(b[k] & 15u);
            d[2 * k + 1] = (int8_t)(b[k] >> 4);
        }
        d += 2 * pairs;
        i += 2 * pairs;
    } else {
        unsigned g = bits == 3 ? 8 : bits == 6 ? 4 : 8 / bits;
        unsigned gb = bits * g / 8;
        uint32_t mask = (1u << bits) - 1u;
        if (bits * g == 8 * gb) {
            for (; i < end && i % (int64_t)g; i++)
                *d++ = (int8_t)cml_subbyte_get(p, (uint64_t)i, bits);
            for (const uint8_t *b = p + (i / (int64_t)g) * gb; i + (int64_t)g <= end;
                 i += g, b += gb) {
                uint32_t w = b[0];
                if (gb == 3) w |= (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16;
                for (unsigned j = 0; j < g; j++) *d++ = (int8_t)((w >> (j * bits)) & mask);
            }
        }
    }
    for (; i < end; i++) *d++ = (int8_t)cml_subbyte_get(p, (uint64_t)i, bits);
    if (v->packed_signed) {
        int sign = 1 << (bits - 1);
        for (int64_t j = 0; j < n; j++) dst[j] = (int8_t)((dst[j] ^ sign) - sign);
    }
}

static int64_t popcount_bytes(const uint8_t *m, int64_t n) {
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++) c += m[i] != 0;
    return c;
}

/* Output shape from the iOS16 `shape` parameter (uint32/int32 vector). */
static cml_status read_shape(cml_mil_ctx *ctx, const cml_mil_node *node, int32_t *rank,
                             int64_t *shape, int64_t *numel) {
    uint32_t count = 0;
    bool present = false;
    CML_TRY(cml_mil_const_ints(ctx, node, "shape", shape, CML_MAX_DIMS, &count, &present));
    if (!present) return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "missing parameter 'shape'");
    int64_t n = 1;
    for (uint32_t d = 0; d < count; d++) {
        if (shape[d] < 0 || (shape[d] && n > ((int64_t)1 << 46) / shape[d]))
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "bad 'shape' dimension %lld",
                                (long long)shape[d]);
        n *= shape[d];
    }
    *rank = (int32_t)count;
    *numel = n;
    return CML_OK;
}

/* Per-dimension block sizes of a blockwise parameter `p` over `shape`:
 * same rank, each dimension divides. */
static cml_status block_sizes(cml_mil_ctx *ctx, const cml_mil_node *node, const char *pname,
                              const cml_mil_value *p, int32_t rank, const int64_t *shape,
                              int32_t prank, int64_t *block) {
    char a[24 * CML_MAX_DIMS], b[24 * CML_MAX_DIMS];
    if (prank != rank)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'%s' has rank %d, the data has rank %d",
                            pname, prank, rank);
    for (int32_t d = 0; d < rank; d++)
        if (p->shape[d] <= 0 || shape[d] % p->shape[d] != 0)
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                                "'%s' shape %s does not tile the data shape %s (dimension %d)",
                                pname, cml_milop_shape_str(a, sizeof a, prank, p->shape),
                                cml_milop_shape_str(b, sizeof b, rank, shape), d);
        else block[d] = shape[d] / p->shape[d];
    return CML_OK;
}

/* Declares a payload-typed output like `like` (dtype and fp16 flag). */
static cml_status out_like(cml_mil_ctx *ctx, const cml_mil_node *node, uint32_t i,
                           const cml_mil_value *like, int32_t rank, const int64_t *shape) {
    if (i >= node->noutputs)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "expected %u outputs, found %u", i + 1,
                            node->noutputs);
    return cml_mil_set_output(ctx, node, i, like->dtype, like->fp16, rank, shape, false);
}

static cml_status check_mask(cml_mil_ctx *ctx, const cml_mil_node *node, const char *pname,
                             const cml_mil_value *m) {
    if (!is_small_int(m->dtype) && m->dtype != CML_DTYPE_BOOL)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'%s' must be a uint1 mask, got %s", pname,
                            cml_dtype_name(m->dtype));
    const uint8_t *p = m->data;
    int64_t n = cml_mil_numel(m);
    for (int64_t i = 0; i < n; i++)
        if (p[i] > 1)
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'%s' element %lld is %u, not 0/1",
                                pname, (long long)i, p[i]);
    return CML_OK;
}

/* ------------------------------------------------ blockwise shift/scale */

typedef struct bss_attr {
    int32_t rank;
    int64_t block[CML_MAX_DIMS];
    bool round16;    /* round (data - offset) to fp16 (fp16 scale, int/fp16 offset) */
} bss_attr;

/* Validates scale/offset against a data shape (rank, shape) of dtype ddt. */
static cml_status bss_check(cml_mil_ctx *ctx, cml_mil_node *node, cml_dtype ddt, int32_t rank,
                            const int64_t *shape, const char *dname, bss_attr *a) {
    cml_mil_value *scale = NULL, *offset = NULL;
    CML_TRY(req_const(ctx, node, "scale", &scale));
    CML_TRY(opt_const(ctx, node, "offset", &offset));
    if (!cml_milop_is_float(scale->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'scale' must be fp16/fp32, got %s",
                            cml_dtype_name(scale->dtype));
    if (!is_payload(ddt))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "'%s' must be int4/uint4/int8/uint8/fp16/fp32, got %s", dname,
                            cml_dtype_name(ddt));
    CML_TRY(block_sizes(ctx, node, "scale", scale, rank, shape, scale->rank, a->block));
    if (offset) {
        if (!is_payload(offset->dtype))
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'offset' dtype %s",
                                cml_dtype_name(offset->dtype));
        if (offset->rank != scale->rank ||
            memcmp(offset->shape, scale->shape, sizeof(int64_t) * (size_t)scale->rank) != 0)
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'offset' and 'scale' shapes differ");
    }
    a->rank = rank;
    a->round16 = scale->fp16 && (!offset || !cml_milop_is_float(offset->dtype) || offset->fp16);
    return CML_OK;
}

/* Dequantizes element p (multi-index idx) whose stored value is x. */
static inline float bss_value(const bss_attr *a, const cml_mil_value *scale,
                              const cml_mil_value *offset, const int64_t *idx, float x) {
    int64_t b = 0;
    for (int32_t d = 0; d < a->rank; d++) b = b * scale->shape[d] + idx[d] / a->block[d];
    float s = ((const float *)scale->data)[b];
    if (offset) {
        x -= (float)num_at(offset, b);
        if (a->round16) x = cml_round_fp16(x);
    }
    return s * x;
}

static cml_status bss_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *data = NULL;
    CML_TRY(req_const(ctx, node, "data", &data));
    bss_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    CML_TRY(bss_check(ctx, node, data->dtype, data->rank, data->shape, "data", a));
    node->attr = a;
    return out_like(ctx, node, 0, cml_mil_in(ctx, node, "scale"), data->rank, data->shape);
}

/* Elements [start, start + count) of the dequantized output (folding and
 * the compressed-weight ops both come through here). */
static void bss_range(const bss_attr *a, const cml_mil_value *data, const cml_mil_value *scale,
                      const cml_mil_value *offset, int64_t start, int64_t count, float *o) {
    /* Fast path: 2-D integer data and offset (weights [N, K]). (q - offset)
     * is an integer of magnitude <= 510, exact in fp16, so the generic
     * path's fp16 roundings of it are identities; same float operations. */
    if (a->rank == 2 && is_small_int(data->dtype) && (!offset || is_small_int(offset->dtype)) &&
        data->shape[1] > 0) {
        int64_t k = data->shape[1], s1 = scale->shape[1];
        const float *sc = scale->data;
        bool d8 = data->dtype == CML_DTYPE_INT8, o8 = offset && offset->dtype == CML_DTYPE_INT8;
        for (int64_t i = start; i < start + count;) {
            int64_t r = i / k, c = i % k, b = (r / a->block[0]) * s1 + c / a->block[1];
            int64_t end = (c / a->block[1] + 1) * a->block[1] + r * k; /* end of this block in the row */
            if (end > start + count) end = start + count;
            float sv = sc[b];
            float ov = !offset ? 0.0f
                       : offset->packed_bits ? (float)packed_at(offset, b)
                       : o8 ? (float)((const int8_t *)offset->data)[b]
                            : (float)((const uint8_t *)offset->data)[b];
            if (data->packed_bits) { /* int4 / uintN unpacked a chunk at a time */
                int8_t q[RUN_CHUNK];
                while (i < end) {
                    int64_t m = end - i < RUN_CHUNK ? end - i : RUN_CHUNK;
                    packed_run(data, i, m, q);
                    if (offset) for (int64_t j = 0; j < m; j++) *o++ = sv * ((float)q[j] - ov);
                    else for (int64_t j = 0; j < m; j++) *o++ = sv * (float)q[j];
                    i += m;
                }
            } else if (d8) {
                const int8_t *q = (const int8_t *)data->data;
                if (offset) for (; i < end; i++) *o++ = sv * ((float)q[i] - ov);
                else for (; i < end; i++) *o++ = sv * (float)q[i];
            } else {
                const uint8_t *q = (const uint8_t *)data->data;
                if (offset) for (; i < end; i++) *o++ = sv * ((float)q[i] - ov);
                else for (; i < end; i++) *o++ = sv * (float)q[i];
            }
        }
        return;
    }
    int64_t idx[CML_MAX_DIMS] = {0};
    unravel(a->rank, data->shape, start, idx);
    for (int64_t i = 0; i < count; i++, next_index(a->rank, data->shape, idx)) {
        float x = (float)num_at(data, start + i);
        if (a->round16) x = cml_round_fp16(x);
        o[i] = bss_value(a, scale, offset, idx, x);
    }
}

static cml_status bss_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const bss_attr *a = node->attr;
    const cml_mil_value *data = cml_mil_in(ctx, node, "data"), *scale = cml_mil_in(ctx, node, "scale"),
                        *offset = cml_mil_in(ctx, node, "offset");
    bss_range(a, data, scale, offset, 0, cml_mil_numel(data), cml_mil_out(ctx, node, 0)->data);
    return CML_OK;
}

/* ---------------------------------------------------- affine dequantize */

typedef struct affine_attr {
    int64_t outer, len, inner; /* data viewed as [outer, len, inner], len = axis size */
    bool per_axis_scale, per_axis_zp;
} affine_attr;

static cml_status affine_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *q = NULL, *zp = NULL, *scale = NULL;
    CML_TRY(req_const(ctx, node, "quantized_data", &q));
    CML_TRY(req_const(ctx, node, "zero_point", &zp));
    CML_TRY(req_const(ctx, node, "scale", &scale));
    if (!is_small_int(q->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'quantized_data' must be int8/uint8, got %s",
                            cml_dtype_name(q->dtype));
    if (!cml_milop_is_float(scale->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'scale' must be fp16/fp32, got %s",
                            cml_dtype_name(scale->dtype));
    if (!is_payload(zp->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'zero_point' dtype %s",
                            cml_dtype_name(zp->dtype));
    int64_t axis64 = 0;
    CML_TRY(cml_mil_const_int(ctx, node, "axis", true, 0, &axis64));
    int32_t axis = 0;
    if (q->rank > 0 && !cml_milop_axis(axis64, q->rank, &axis))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "axis %lld is out of range for rank %d",
                            (long long)axis64, q->rank);
    affine_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    a->len = q->rank > 0 ? q->shape[axis] : 1;
    a->outer = q->rank > 0 ? cml_milop_prod(q->shape, 0, axis) : 1;
    a->inner = q->rank > 0 ? cml_milop_prod(q->shape, axis + 1, q->rank) : 1;
    int64_t ns = cml_mil_numel(scale), nz = cml_mil_numel(zp);
    if (ns != 1 && ns != a->len)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "'scale' has %lld values; expected 1 or %lld (axis %d)", (long long)ns,
                            (long long)a->len, axis);
    if (nz != 1 && nz != a->len)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "'zero_point' has %lld values; expected 1 or %lld (axis %d)",
                            (long long)nz, (long long)a->len, axis);
    a->per_axis_scale = ns != 1;
    a->per_axis_zp = nz != 1;
    node->attr = a;
    return out_like(ctx, node, 0, scale, q->rank, q->shape);
}

/* Elements [start, start + count) of scale * (q - zero_point). */
static void affine_range(const affine_attr *a, const cml_mil_value *q, const cml_mil_value *zp,
                         const cml_mil_value *scale, int64_t start, int64_t count, float *o) {
    const float *sc = scale->data;
    if (a->inner > 1) { /* runs of `inner` elements share c: same operations, hoisted */
        for (int64_t k = start; k < start + count;) {
            int64_t c = (k / a->inner) % a->len, end = (k / a->inner + 1) * a->inner;
            if (end > start + count) end = start + count;
            float s = sc[a->per_axis_scale ? c : 0];
            float z = (float)num_at(zp, a->per_axis_zp ? c : 0);
            if (q->packed_bits) {
                int8_t qv[RUN_CHUNK];
                while (k < end) {
                    int64_t m = end - k < RUN_CHUNK ? end - k : RUN_CHUNK;
                    packed_run(q, k, m, qv);
                    for (int64_t j = 0; j < m; j++) *o++ = s * ((float)qv[j] - z);
                    k += m;
                }
            } else if (q->dtype == CML_DTYPE_INT8)
                for (const int8_t *qd = q->data; k < end; k++) *o++ = s * ((float)qd[k] - z);
            else
                for (const uint8_t *qd = q->data; k < end; k++) *o++ = s * ((float)qd[k] - z);
        }
        return;
    }
    for (int64_t k = start; k < start + count; k++) {
        int64_t c = (k / a->inner) % a->len;
        float s = sc[a->per_axis_scale ? c : 0];
        float z = (float)num_at(zp, a->per_axis_zp ? c : 0);
        float qv = q->packed_bits ? (float)packed_at(q, k)
                                  : (float)cml_milop_get_int(q->data, q->dtype, k);
        *o++ = s * (qv - z);
    }
}

static cml_status affine_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const affine_attr *a = node->attr;
    const cml_mil_value *q = cml_mil_in(ctx, node, "quantized_data"),
                        *zp = cml_mil_in(ctx, node, "zero_point"),
                        *scale = cml_mil_in(ctx, node, "scale");
    affine_range(a, q, zp, scale, 0, a->outer * a->len * a->inner,
                 cml_mil_out(ctx, node, 0)->data);
    return CML_OK;
}

/* ----------------------------------------------------------------- cast */

static cml_status cast_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *src = NULL;
    CML_TRY(req_const(ctx, node, "source_val", &src));
    if (!cml_milop_is_float(src->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'source_val' must be fp16/fp32, got %s",
                            cml_dtype_name(src->dtype));
    const char *dt = NULL;
    CML_TRY(cml_mil_const_string(ctx, node, "output_dtype", NULL, &dt));
    bool fp16;
    if (dt && strcmp(dt, "fp32") == 0) fp16 = false;
    else if (dt && strcmp(dt, "fp16") == 0) fp16 = true;
    else
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "output_dtype '%s'", dt ? dt : "(none)");
    if (node->noutputs < 1) return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "no output");
    return cml_mil_set_output(ctx, node, 0, CML_DTYPE_FLOAT32, fp16, src->rank, src->shape, false);
}

static cml_status cast_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const cml_mil_value *src = cml_mil_in(ctx, node, "source_val");
    memcpy(cml_mil_out(ctx, node, 0)->data, src->data, cml_mil_nbytes(src));
    return CML_OK;
}

/* ---------------------------------------------------------- lut_to_dense */

/* iOS18 LUT geometry: lut [g_0..g_{K-1}, P, V] over an index space of rank K. */
typedef struct lut_attr {
    bool ios16;
    unsigned bits;                 /* iOS16: bits per packed index */
    int32_t rank;                  /* K */
    int64_t ishape[CML_MAX_DIMS];  /* index space shape */
    int64_t block[CML_MAX_DIMS];   /* index dims per LUT group */
    int64_t palettes, vsize;       /* P, V */
    int32_t vaxis;                 /* -1 when V == 1 */
    int64_t ostride[CML_MAX_DIMS]; /* output strides */
} lut_attr;

/* Validates an iOS18 LUT against an index space (rank, shape). */
static cml_status lut_check(cml_mil_ctx *ctx, cml_mil_node *node, const cml_mil_value *lut,
                            int32_t rank, const int64_t *ishape, lut_attr *a, int32_t *orank,
                            int64_t *oshape) {
    if (!is_payload(lut->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'lut' must be int8/uint8/fp16/fp32, got %s",
                            cml_dtype_name(lut->dtype));
    if (lut->rank != rank + 2)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "'lut' has rank %d; expected the indices' rank %d + 2", lut->rank, rank);
    CML_TRY(block_sizes(ctx, node, "lut", lut, rank, ishape, rank, a->block));
    a->rank = rank;
    memcpy(a->ishape, ishape, sizeof(int64_t) * (size_t)rank);
    a->palettes = lut->shape[rank];
    a->vsize = lut->shape[rank + 1];
    if (a->palettes < 1 || a->palettes > 256 || a->vsize < 1)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'lut' has %lld entries of size %lld",
                            (long long)a->palettes, (long long)a->vsize);
    a->vaxis = -1;
    *orank = rank;
    memcpy(oshape, ishape, sizeof(int64_t) * (size_t)rank);
    if (a->vsize > 1) {
        int64_t va = 0;
        if (!cml_mil_in(ctx, node, "vector_axis"))
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                                "a vector LUT (size %lld) needs 'vector_axis'", (long long)a->vsize);
        CML_TRY(cml_mil_const_int(ctx, node, "vector_axis", false, 0, &va));
        if (!cml_milop_axis(va, rank, &a->vaxis))
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "vector_axis %lld is out of range",
                                (long long)va);
        oshape[a->vaxis] *= a->vsize;
    }
    cml_milop_strides(rank, oshape, a->ostride);
    return CML_OK;
}

/* Index value range check (iOS18: one byte per index). */
static cml_status check_indices(cml_mil_ctx *ctx, const cml_mil_node *node, const char *pname,
                                const cml_mil_value *ind, int64_t palettes) {
    if (ind->dtype != CML_DTYPE_UINT8)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'%s' must be uint1..uint8, got %s", pname,
                            cml_dtype_name(ind->dtype));
    const uint8_t *p = ind->data;
    int64_t n = cml_mil_numel(ind);
    if (ind->packed_bits && ((int64_t)1 << ind->packed_bits) <= palettes) return CML_OK;
    for (int64_t i = 0; i < n; i++) {
        uint32_t x = index_at(p, ind->packed_bits, i);
        if (x >= (uint64_t)palettes)
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                                "'%s' element %lld is %u, out of range for a LUT of %lld entries",
                                pname, (long long)i, x, (long long)palettes);
    }
    return CML_OK;
}

/* Expands dense indices (over a->ishape; `bits`-bit packed, or one byte each
 * when bits is 0) through the LUT into dst (dense output layout,
 * a->ostride). */
static void lut_expand(const lut_attr *a, const uint8_t *ind, unsigned bits,
                       const cml_mil_value *lut, void *dst) {
    size_t esize = cml_dtype_size(lut->dtype);
    int64_t n = cml_milop_prod(a->ishape, 0, a->rank), idx[CML_MAX_DIMS] = {0};
    int64_t table = a->palettes * a->vsize;
    for (int64_t i = 0; i < n; i++, next_index(a->rank, a->ishape, idx)) {
        int64_t t = 0, o = 0;
        for (int32_t d = 0; d < a->rank; d++) {
            t = t * lut->shape[d] + idx[d] / a->block[d];
            o += (d == a->vaxis ? idx[d] * a->vsize : idx[d]) * a->ostride[d];
        }
        int64_t src = t * table + (int64_t)index_at(ind, bits, i) * a->vsize;
        if (a->vsize == 1) {
            copy_elem(dst, o, lut->data, src, esize);
        } else {
            int64_t vs = a->ostride[a->vaxis];
            for (int64_t v = 0; v < a->vsize; v++) copy_elem(dst, o + v * vs, lut->data, src + v, esize);
        }
    }
}

static cml_status lut_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *ind = NULL, *lut = NULL;
    CML_TRY(req_const(ctx, node, "indices", &ind));
    CML_TRY(req_const(ctx, node, "lut", &lut));
    lut_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    node->attr = a;
    int32_t orank = 0;
    int64_t oshape[CML_MAX_DIMS] = {0};
    if (cml_mil_in(ctx, node, "shape")) { /* iOS16: packed indices, 1-D LUT */
        a->ios16 = true;
        int64_t numel = 0;
        CML_TRY(read_shape(ctx, node, &orank, oshape, &numel));
        if (!is_payload(lut->dtype))
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                                "'lut' must be int8/uint8/fp16/fp32, got %s",
                                cml_dtype_name(lut->dtype));
        int64_t entries = cml_mil_numel(lut);
        unsigned bits = 0;
        while (bits <= 8 && ((int64_t)1 << bits) < entries) bits++;
        if (lut->rank != 1 || bits < 1 || bits > 8 || ((int64_t)1 << bits) != entries)
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                                "'lut' must be a vector of 2, 4, ..., 256 entries, has %lld",
                                (long long)entries);
        if (!is_small_int(ind->dtype) || ind->rank != 1)
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'indices' must be a uint8 vector");
        int64_t want = (numel * bits + 7) / 8;
        if (cml_mil_numel(ind) != want)
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                                "'indices' has %lld bytes; %lld %u-bit indices need %lld",
                                (long long)cml_mil_numel(ind), (long long)numel, bits,
                                (long long)want);
        a->bits = bits;
        return out_like(ctx, node, 0, lut, orank, oshape);
    }
    CML_TRY(lut_check(ctx, node, lut, ind->rank, ind->shape, a, &orank, oshape));
    CML_TRY(check_indices(ctx, node, "indices", ind, a->palettes));
    return out_like(ctx, node, 0, lut, orank, oshape);
}

static cml_status lut_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const lut_attr *a = node->attr;
    const cml_mil_value *ind = cml_mil_in(ctx, node, "indices"), *lut = cml_mil_in(ctx, node, "lut");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    if (a->ios16) {
        size_t esize = cml_dtype_size(lut->dtype);
        int64_t n = cml_mil_numel(out);
        for (int64_t i = 0; i < n; i++)
            copy_elem(out->data, i, lut->data, cml_subbyte_get(ind->data, (uint64_t)i, a->bits),
                      esize);
        return CML_OK;
    }
    lut_expand(a, ind->data, ind->packed_bits, lut, out->data);
    return CML_OK;
}

/* -------------------------------------------------------- sparse_to_dense */

typedef struct sparse_attr {
    bool ios16;   /* mask bit-packed */
} sparse_attr;

static inline bool mask_bit(const cml_mil_value *mask, bool packed, int64_t i) {
    const uint8_t *m = mask->data;
    return packed ? (m[i >> 3] >> (i & 7)) & 1u : m[i] != 0;
}

static cml_status sparse_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *nz = NULL, *mask = NULL;
    CML_TRY(req_const(ctx, node, "nonzero_data", &nz));
    CML_TRY(req_const(ctx, node, "mask", &mask));
    if (!is_payload(nz->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'nonzero_data' dtype %s",
                            cml_dtype_name(nz->dtype));
    sparse_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    node->attr = a;
    int32_t rank = mask->rank;
    int64_t shape[CML_MAX_DIMS] = {0}, numel = cml_mil_numel(mask), ones = 0;
    memcpy(shape, mask->shape, sizeof shape);
    if (cml_mil_in(ctx, node, "shape")) {
        a->ios16 = true;
        CML_TRY(read_shape(ctx, node, &rank, shape, &numel));
        if (!is_small_int(mask->dtype) || mask->rank != 1 ||
            cml_mil_numel(mask) != (numel + 7) / 8)
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                                "'mask' must be %lld bytes of bits for %lld elements, has %lld",
                                (long long)((numel + 7) / 8), (long long)numel,
                                (long long)cml_mil_numel(mask));
        for (int64_t i = 0; i < numel; i++) ones += mask_bit(mask, true, i);
    } else {
        CML_TRY(check_mask(ctx, node, "mask", mask));
        ones = popcount_bytes(mask->data, numel);
    }
    if (ones != cml_mil_numel(nz))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "'mask' has %lld set bits but 'nonzero_data' has %lld values",
                            (long long)ones, (long long)cml_mil_numel(nz));
    return out_like(ctx, node, 0, nz, rank, shape);
}

static cml_status sparse_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const sparse_attr *a = node->attr;
    const cml_mil_value *nz = cml_mil_in(ctx, node, "nonzero_data"),
                        *mask = cml_mil_in(ctx, node, "mask");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    size_t esize = cml_dtype_size(nz->dtype);
    int64_t n = cml_mil_numel(out), k = 0;
    memset(out->data, 0, (size_t)n * esize);
    for (int64_t i = 0; i < n; i++)
        if (mask_bit(mask, a->ios16, i)) copy_elem(out->data, i, nz->data, k++, esize);
    return CML_OK;
}

/* ---------------------------------------------------------- lut_to_sparse */

static cml_status lut_sparse_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *mask = NULL, *ind = NULL, *lut = NULL;
    CML_TRY(req_const(ctx, node, "indices_mask", &mask));
    CML_TRY(req_const(ctx, node, "indices_nonzero_data", &ind));
    CML_TRY(req_const(ctx, node, "lut", &lut));
    CML_TRY(check_mask(ctx, node, "indices_mask", mask));
    lut_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    node->attr = a;
    int32_t orank = 0;
    int64_t oshape[CML_MAX_DIMS] = {0};
    CML_TRY(lut_check(ctx, node, lut, mask->rank, mask->shape, a, &orank, oshape));
    CML_TRY(check_indices(ctx, node, "indices_nonzero_data", ind, a->palettes));
    int64_t ones = popcount_bytes(mask->data, cml_mil_numel(mask));
    if (ind->rank != 1 || ones != cml_mil_numel(ind))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "'indices_mask' has %lld set bits but 'indices_nonzero_data' has %lld "
                            "values",
                            (long long)ones, (long long)cml_mil_numel(ind));
    int64_t dn = ones * a->vsize;
    CML_TRY(cml_mil_set_output(ctx, node, 0, CML_DTYPE_UINT8, false, orank, oshape, false));
    CML_TRY(out_like(ctx, node, 1, lut, 1, &dn));
    /* scratch: dense indices, then the dense decompressed tensor */
    int64_t numel = cml_mil_numel(mask);
    node->scratch = (size_t)numel + (size_t)(numel * a->vsize) * cml_dtype_size(lut->dtype) + 8;
    return CML_OK;
}

static cml_status lut_sparse_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const lut_attr *a = node->attr;
    const cml_mil_value *mask = cml_mil_in(ctx, node, "indices_mask"),
                        *ind = cml_mil_in(ctx, node, "indices_nonzero_data"),
                        *lut = cml_mil_in(ctx, node, "lut");
    cml_mil_value *omask = cml_mil_out(ctx, node, 0), *onz = cml_mil_out(ctx, node, 1);
    void *scratch = NULL;
    CML_TRY(cml_milop_scratch(ctx, node, &scratch));
    int64_t n = cml_mil_numel(mask), on = n * a->vsize;
    size_t esize = cml_dtype_size(lut->dtype);
    uint8_t *dense_ind = scratch;
    uint8_t *dense = dense_ind + ((n + 7) & ~(int64_t)7);
    const uint8_t *m = mask->data;
    for (int64_t i = 0, k = 0; i < n; i++)
        dense_ind[i] = m[i] ? (uint8_t)index_at(ind->data, ind->packed_bits, k++) : 0;
    lut_expand(a, dense_ind, 0, lut, dense);
    /* the output mask: the index mask repeated along vector_axis */
    uint8_t *om = omask->data;
    int64_t idx[CML_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++, next_index(a->rank, a->ishape, idx)) {
        int64_t o = 0;
        for (int32_t d = 0; d < a->rank; d++)
            o += (d == a->vaxis ? idx[d] * a->vsize : idx[d]) * a->ostride[d];
        for (int64_t v = 0; v < a->vsize; v++)
            om[o + (a->vaxis >= 0 ? v * a->ostride[a->vaxis] : 0)] = m[i];
    }
    for (int64_t i = 0, k = 0; i < on; i++)
        if (om[i]) copy_elem(onz->data, k++, dense, i, esize);
    return CML_OK;
}

/* ------------------------------------------- sparse_blockwise_shift_scale */

static cml_status sbss_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *mask = NULL, *nz = NULL;
    CML_TRY(req_const(ctx, node, "data_mask", &mask));
    CML_TRY(req_const(ctx, node, "nonzero_data", &nz));
    CML_TRY(check_mask(ctx, node, "data_mask", mask));
    bss_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    node->attr = a;
    CML_TRY(bss_check(ctx, node, nz->dtype, mask->rank, mask->shape, "nonzero_data", a));
    int64_t ones = popcount_bytes(mask->data, cml_mil_numel(mask));
    if (nz->rank != 1 || ones != cml_mil_numel(nz))
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "'data_mask' has %lld set bits but 'nonzero_data' has %lld values",
                            (long long)ones, (long long)cml_mil_numel(nz));
    CML_TRY(cml_mil_set_output(ctx, node, 0, CML_DTYPE_UINT8, false, mask->rank, mask->shape,
                               false));
    return out_like(ctx, node, 1, cml_mil_in(ctx, node, "scale"), 1, &ones);
}

static cml_status sbss_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const bss_attr *a = node->attr;
    const cml_mil_value *mask = cml_mil_in(ctx, node, "data_mask"),
                        *nz = cml_mil_in(ctx, node, "nonzero_data"),
                        *scale = cml_mil_in(ctx, node, "scale"),
                        *offset = cml_mil_in(ctx, node, "offset");
    cml_mil_value *omask = cml_mil_out(ctx, node, 0);
    float *o = cml_mil_out(ctx, node, 1)->data;
    int64_t n = cml_mil_numel(mask), idx[CML_MAX_DIMS] = {0};
    const uint8_t *m = mask->data;
    memcpy(omask->data, m, (size_t)n);
    for (int64_t i = 0, k = 0; i < n; i++, next_index(a->rank, mask->shape, idx)) {
        if (!m[i]) continue;
        float x = (float)num_at(nz, k);
        if (a->round16) x = cml_round_fp16(x);
        o[k++] = bss_value(a, scale, offset, idx, x);
    }
    return CML_OK;
}

/* ------------------------------------------- range decoding (constexpr_decode.h) */

/* iOS18 lut_to_dense, output elements [start, start + count) of a float LUT,
 * computed in output space (the inverse of lut_expand's mapping). */
static void lut18_range(const lut_attr *a, const cml_mil_value *indv, const cml_mil_value *lut,
                        const int64_t *oshape, int64_t start, int64_t count, float *o) {
    const float *table = lut->data;
    const uint8_t *ind = indv->data;
    unsigned bits = indv->packed_bits;
    int64_t entries = a->palettes * a->vsize, idx[CML_MAX_DIMS] = {0};
    if (a->rank == 2 && a->vsize == 1 && oshape[1] > 0) { /* scalar LUTs over [N, K] */
        int64_t k = oshape[1];
        for (int64_t i = start; i < start + count;) {
            int64_t r = i / k, c = i % k;
            int64_t end = (c / a->block[1] + 1) * a->block[1] + r * k;
            if (end > start + count) end = start + count;
            const float *t = table + ((r / a->block[0]) * lut->shape[1] + c / a->block[1]) * entries;
            if (bits) { /* packed indices, a chunk at a time */
                int8_t q[RUN_CHUNK];
                while (i < end) {
                    int64_t m = end - i < RUN_CHUNK ? end - i : RUN_CHUNK;
                    packed_run(indv, i, m, q);
                    for (int64_t j = 0; j < m; j++) *o++ = t[(uint8_t)q[j]];
                    i += m;
                }
            } else {
                for (; i < end; i++) *o++ = t[ind[i]];
            }
        }
        return;
    }
    unravel(a->rank, oshape, start, idx);
    for (int64_t i = 0; i < count; i++, next_index(a->rank, oshape, idx)) {
        int64_t t = 0, flat = 0, v = 0;
        for (int32_t d = 0; d < a->rank; d++) {
            int64_t id = idx[d];
            if (d == a->vaxis) {
                v = id % a->vsize;
                id /= a->vsize;
            }
            t = t * lut->shape[d] + id / a->block[d];
            flat = flat * a->ishape[d] + id;
        }
        o[i] = table[t * entries + (int64_t)index_at(ind, bits, flat) * a->vsize + v];
    }
}

bool cml_constexpr_decodable(cml_mil_ctx *ctx, const cml_mil_node *node) {
    if (!node->attr || node->noutputs != 1) return false;
    const cml_mil_value *out = cml_mil_out(ctx, node, 0);
    if (out->kind != CML_MIL_KIND_TENSOR || out->dtype != CML_DTYPE_FLOAT32) return false;
    return strcmp(node->type, "constexpr_blockwise_shift_scale") == 0 ||
           strcmp(node->type, "constexpr_affine_dequantize") == 0 ||
           strcmp(node->type, "constexpr_lut_to_dense") == 0;
}

void cml_constexpr_decode_range(cml_mil_ctx *ctx, const cml_mil_node *node, int64_t start,
                                int64_t count, float *dst) {
    const cml_mil_value *out = cml_mil_out(ctx, node, 0);
    if (strcmp(node->type, "constexpr_blockwise_shift_scale") == 0) {
        bss_range(node->attr, cml_mil_in(ctx, node, "data"), cml_mil_in(ctx, node, "scale"),
                  cml_mil_in(ctx, node, "offset"), start, count, dst);
    } else if (strcmp(node->type, "constexpr_affine_dequantize") == 0) {
        affine_range(node->attr, cml_mil_in(ctx, node, "quantized_data"),
                     cml_mil_in(ctx, node, "zero_point"), cml_mil_in(ctx, node, "scale"), start,
                     count, dst);
    } else {
        const lut_attr *a = node->attr;
        const cml_mil_value *ind = cml_mil_in(ctx, node, "indices"),
                            *lut = cml_mil_in(ctx, node, "lut");
        if (a->ios16) {
            const float *table = lut->data;
            for (int64_t i = 0; i < count; i++)
                dst[i] = table[cml_subbyte_get(ind->data, (uint64_t)(start + i), a->bits)];
        } else {
            lut18_range(a, ind, lut, out->shape, start, count, dst);
        }
    }
    if (out->fp16) cml_k_round_fp16(dst, (size_t)count);
}

bool cml_constexpr_qgemv_params(cml_mil_ctx *ctx, const cml_mil_node *node,
                                cml_qgemv_params *p) {
    if (!cml_constexpr_decodable(ctx, node) ||
        strcmp(node->type, "constexpr_blockwise_shift_scale") != 0 ||
        cml_mil_in(ctx, node, "offset"))
        return false;
    const bss_attr *a = node->attr;
    const cml_mil_value *data = cml_mil_in(ctx, node, "data"), *scale = cml_mil_in(ctx, node, "scale");
    const cml_mil_value *out = cml_mil_out(ctx, node, 0);
    if (a->rank != 2 || !data || !scale || scale->dtype != CML_DTYPE_FLOAT32) return false;
    unsigned bits = data->packed_bits;
    if (!(bits == 4 || (bits == 0 && is_small_int(data->dtype)))) return false;
    *p = (cml_qgemv_params){
        .N = (size_t)data->shape[0],
        .K = (size_t)data->shape[1],
        .q = data->data,
        .bits = bits ? bits : 8,
        .is_signed = bits ? data->packed_signed : data->dtype == CML_DTYPE_INT8,
        .scale = scale->data,
        .block_n = (size_t)a->block[0],
        .block_k = (size_t)a->block[1],
        .round_fp16 = out->fp16,
    };
    return cml_k_qgemv_supported(p);
}

/* --------------------------------------------------------------- registry */

const cml_mil_op_def cml_mil_op_constexpr_affine_dequantize = {
    "constexpr_affine_dequantize", affine_infer, affine_run, false};
const cml_mil_op_def cml_mil_op_constexpr_cast = {"constexpr_cast", cast_infer, cast_run, false};
const cml_mil_op_def cml_mil_op_constexpr_lut_to_dense = {"constexpr_lut_to_dense", lut_infer,
                                                          lut_run, false};
const cml_mil_op_def cml_mil_op_constexpr_sparse_to_dense = {"constexpr_sparse_to_dense",
                                                             sparse_infer, sparse_run, false};
const cml_mil_op_def cml_mil_op_constexpr_blockwise_shift_scale = {
    "constexpr_blockwise_shift_scale", bss_infer, bss_run, false};
const cml_mil_op_def cml_mil_op_constexpr_lut_to_sparse = {"constexpr_lut_to_sparse",
                                                           lut_sparse_infer, lut_sparse_run, false};
const cml_mil_op_def cml_mil_op_constexpr_sparse_blockwise_shift_scale = {
    "constexpr_sparse_blockwise_shift_scale", sbss_infer, sbss_run, false};
