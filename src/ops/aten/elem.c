#include "ops/aten/elem.h"

#include <string.h>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "ops/aten/aten_util.h"

bool cml_aten_elem_supported(cml_dtype dt) {
    switch (dt) {
    case CML_DTYPE_UINT8:
    case CML_DTYPE_INT8:
    case CML_DTYPE_INT16:
    case CML_DTYPE_INT32:
    case CML_DTYPE_INT64:
    case CML_DTYPE_FLOAT16:
    case CML_DTYPE_BFLOAT16:
    case CML_DTYPE_FLOAT32:
    case CML_DTYPE_FLOAT64:
    case CML_DTYPE_BOOL: return true;
    default: return false;
    }
}

uint16_t cml_aten_fp32_to_bf16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40u);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

double cml_aten_elem_get_f64(cml_dtype dt, const void *p) {
    switch (dt) {
    case CML_DTYPE_FLOAT32: { float v; memcpy(&v, p, 4); return v; }
    case CML_DTYPE_FLOAT64: { double v; memcpy(&v, p, 8); return v; }
    case CML_DTYPE_FLOAT16: { uint16_t h; memcpy(&h, p, 2); return cml_fp16_to_fp32(h); }
    case CML_DTYPE_BFLOAT16: { uint16_t h; memcpy(&h, p, 2); return cml_bf16_to_fp32(h); }
    default: return (double)cml_aten_elem_get_i64(dt, p);
    }
}

int64_t cml_aten_elem_get_i64(cml_dtype dt, const void *p) {
    switch (dt) {
    case CML_DTYPE_UINT8: return *(const uint8_t *)p;
    case CML_DTYPE_BOOL: return *(const uint8_t *)p != 0;
    case CML_DTYPE_INT8: return *(const int8_t *)p;
    case CML_DTYPE_INT16: { int16_t v; memcpy(&v, p, 2); return v; }
    case CML_DTYPE_INT32: { int32_t v; memcpy(&v, p, 4); return v; }
    case CML_DTYPE_INT64: { int64_t v; memcpy(&v, p, 8); return v; }
    default: return cml_aten_double_to_i64(cml_aten_elem_get_f64(dt, p));
    }
}

void cml_aten_elem_set_f64(cml_dtype dt, void *p, double v) {
    switch (dt) {
    case CML_DTYPE_FLOAT32: { float f = (float)v; memcpy(p, &f, 4); return; }
    case CML_DTYPE_FLOAT64: memcpy(p, &v, 8); return;
    case CML_DTYPE_FLOAT16:
    case CML_DTYPE_BFLOAT16: { /* one rounding, straight from double */
        uint16_t h;
        cml_k_convert(CML_DTYPE_FLOAT64, &v, dt, &h, 1);
        memcpy(p, &h, 2);
        return;
    }
    case CML_DTYPE_BOOL: *(uint8_t *)p = v != 0; return;
    default: cml_aten_elem_set_i64(dt, p, cml_aten_double_to_i64(v)); return;
    }
}

void cml_aten_elem_set_i64(cml_dtype dt, void *p, int64_t v) {
    switch (dt) {
    case CML_DTYPE_UINT8:
    case CML_DTYPE_INT8: *(uint8_t *)p = (uint8_t)((uint64_t)v & 0xffu); return;
    case CML_DTYPE_BOOL: *(uint8_t *)p = v != 0; return;
    case CML_DTYPE_INT16: { uint16_t u = (uint16_t)((uint64_t)v & 0xffffu); memcpy(p, &u, 2); return; }
    case CML_DTYPE_INT32: { uint32_t u = (uint32_t)((uint64_t)v & 0xffffffffu); memcpy(p, &u, 4); return; }
    case CML_DTYPE_INT64: memcpy(p, &v, 8); return;
    default: cml_aten_elem_set_f64(dt, p, (double)v); return;
    }
}

void cml_aten_elem_add(cml_dtype dt, void *dst, const void *src) {
    switch (dt) {
    case CML_DTYPE_FLOAT32: {
        float a, b;
        memcpy(&a, dst, 4);
        memcpy(&b, src, 4);
        a += b;
        memcpy(dst, &a, 4);
        return;
    }
    case CML_DTYPE_FLOAT64:
    case CML_DTYPE_FLOAT16:
    case CML_DTYPE_BFLOAT16:
        /* fp16/bf16: the fp32 sum of two halves rounds once to the result. */
        cml_aten_elem_set_f64(dt, dst, cml_aten_elem_get_f64(dt, dst) + cml_aten_elem_get_f64(dt, src));
        return;
    case CML_DTYPE_BOOL: *(uint8_t *)dst = (*(uint8_t *)dst | *(const uint8_t *)src) != 0; return;
    default: {
        uint64_t s = (uint64_t)cml_aten_elem_get_i64(dt, dst) + (uint64_t)cml_aten_elem_get_i64(dt, src);
        cml_aten_elem_set_i64(dt, dst, (int64_t)s);
        return;
    }
    }
}

bool cml_aten_elem_nonzero(cml_dtype dt, const void *p) {
    if (cml_aten_is_floating(dt)) return cml_aten_elem_get_f64(dt, p) != 0.0;
    return cml_aten_elem_get_i64(dt, p) != 0;
}

cml_status cml_aten_norm_index(cml_kernel_ctx *ctx, const char *op, int64_t v, int64_t size,
                           int32_t dim, int64_t *out) {
    if (v < -size || v >= size)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op,
                         "index %lld is out of bounds for dim %d of size %lld", (long long)v, dim,
                         (long long)size);
    *out = v < 0 ? v + size : v;
    return CML_OK;
}

void cml_aten_elem_convert(cml_dtype sd, const void *s, cml_dtype dd, void *d) {
    if (sd == dd) memcpy(d, s, cml_dtype_size(sd));
    else if (cml_aten_is_floating(sd)) cml_aten_elem_set_f64(dd, d, cml_aten_elem_get_f64(sd, s));
    else cml_aten_elem_set_i64(dd, d, cml_aten_elem_get_i64(sd, s));
}

void cml_aten_copy_block_cvt(cml_dtype sd, cml_dtype dd, int32_t rank, const int64_t *sizes,
                         const void *src, const int64_t *sst, void *dst, const int64_t *dst_st) {
    if (sd == dd) {
        cml_aten_copy_block(cml_dtype_size(sd), rank, sizes, src, sst, dst, dst_st);
        return;
    }
    int64_t n = cml_aten_prod(sizes, 0, rank), c[CML_MAX_DIMS] = {0};
    size_t ses = cml_dtype_size(sd), des = cml_dtype_size(dd);
    for (int64_t i = 0; i < n; i++) {
        int64_t so = 0, dof = 0;
        for (int32_t k = 0; k < rank; k++) {
            so += c[k] * sst[k];
            dof += c[k] * dst_st[k];
        }
        cml_aten_elem_convert(sd, (const uint8_t *)src + so * (int64_t)ses, dd,
                          (uint8_t *)dst + dof * (int64_t)des);
        for (int32_t k = rank - 1; k >= 0; k--) {
            if (++c[k] < sizes[k]) break;
            c[k] = 0;
        }
    }
}
