/* dtype conversion between every pair of cml_dtype, and fp16 rounding.
 *
 * float -> integer truncates toward zero like a C cast on x86-64, without
 * undefined behaviour: NaN and out-of-range values give the "integer
 * indefinite" value (INT32_MIN / INT64_MIN) for 32/64-bit targets, and the
 * 8/16-bit targets take the low bits of the int32 conversion (as compilers
 * emit for static_cast). To BOOL is != 0. fp16/bf16 round to nearest even,
 * with float64 sources rounded once (via round-to-odd to float). */
#include <math.h>
#include <string.h>

#include "core/fp16.h"
#include "kernels/kinternal.h"

static uint16_t f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    uint32_t lsb = (x >> 16) & 1u;
    x += 0x7fffu + lsb;
    return (uint16_t)(x >> 16);
}

/* double -> float rounding toward zero, with the last bit set when inexact
 * (round-to-odd), so that a second rounding to fewer bits is correct. */
static float f64_to_f32_odd(double d) {
    float f = (float)d;
    if (isnan(d) || isinf(d) || (double)f == d) return f;
    if (isinf(f)) return f; /* beyond float range: inf for fp16 and bf16 alike */
    if (fabs((double)f) > fabs(d)) f = nextafterf(f, 0.0f);
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    b |= 1u;
    memcpy(&f, &b, sizeof f);
    return f;
}

static int32_t f64_to_i32(double v) {
    if (!(v > -2147483649.0 && v < 2147483648.0)) return INT32_MIN;
    return (int32_t)v;
}

static int64_t f64_to_i64(double v) {
    if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) return INT64_MIN;
    return (int64_t)v;
}

static uint64_t f64_to_u64(double v) {
    if (v >= 9223372036854775808.0) {
        if (!(v < 18446744073709551616.0)) return 0x8000000000000000u;
        return (uint64_t)(v - 9223372036854775808.0) + 0x8000000000000000u;
    }
    return (uint64_t)f64_to_i64(v);
}

typedef enum { K_F, K_I, K_U } num_kind;
typedef struct num {
    num_kind kind;
    double f;
    int64_t i;
    uint64_t u;
} num;

static num load_num(cml_dtype t, const unsigned char *p) {
    num r = {K_F, 0.0, 0, 0};
    switch (t) {
    case CML_DTYPE_FLOAT32: { float v; memcpy(&v, p, 4); r.f = v; break; }
    case CML_DTYPE_FLOAT64: memcpy(&r.f, p, 8); break;
    case CML_DTYPE_FLOAT16: { uint16_t h; memcpy(&h, p, 2); r.f = cml_fp16_to_fp32(h); break; }
    case CML_DTYPE_BFLOAT16: { uint16_t h; memcpy(&h, p, 2); r.f = cml_bf16_to_fp32(h); break; }
    case CML_DTYPE_INT8: { int8_t v; memcpy(&v, p, 1); r.kind = K_I; r.i = v; break; }
    case CML_DTYPE_INT16: { int16_t v; memcpy(&v, p, 2); r.kind = K_I; r.i = v; break; }
    case CML_DTYPE_INT32: { int32_t v; memcpy(&v, p, 4); r.kind = K_I; r.i = v; break; }
    case CML_DTYPE_INT64: { int64_t v; memcpy(&v, p, 8); r.kind = K_I; r.i = v; break; }
    case CML_DTYPE_UINT8: r.kind = K_U; r.u = p[0]; break;
    case CML_DTYPE_BOOL: r.kind = K_U; r.u = p[0] != 0; break;
    case CML_DTYPE_UINT16: { uint16_t v; memcpy(&v, p, 2); r.kind = K_U; r.u = v; break; }
    case CML_DTYPE_UINT32: { uint32_t v; memcpy(&v, p, 4); r.kind = K_U; r.u = v; break; }
    case CML_DTYPE_UINT64: { uint64_t v; memcpy(&v, p, 8); r.kind = K_U; r.u = v; break; }
    case CML_DTYPE_COMPLEX32:
    case CML_DTYPE_COMPLEX64:
    case CML_DTYPE_COMPLEX128: break; /* refused by cml_k_convert */
    }
    return r;
}

static double num_as_f64(num v) {
    return v.kind == K_F ? v.f : v.kind == K_I ? (double)v.i : (double)v.u;
}

/* Integer bits of v, two's complement; floats converted as described above
 * for a 32- (narrow) or 64-bit target. */
static uint64_t num_as_bits(num v, bool narrow, bool target_unsigned64) {
    if (v.kind == K_I) return (uint64_t)v.i;
    if (v.kind == K_U) return v.u;
    if (narrow) return (uint64_t)(int64_t)f64_to_i32(v.f);
    return target_unsigned64 ? f64_to_u64(v.f) : (uint64_t)f64_to_i64(v.f);
}

static void store_num(cml_dtype t, unsigned char *p, num v) {
    switch (t) {
    case CML_DTYPE_FLOAT32: {
        float f = v.kind == K_F ? (float)v.f : v.kind == K_I ? (float)v.i : (float)v.u;
        memcpy(p, &f, 4);
        break;
    }
    case CML_DTYPE_FLOAT64: { double d = num_as_f64(v); memcpy(p, &d, 8); break; }
    case CML_DTYPE_FLOAT16: {
        uint16_t h = cml_fp32_to_fp16(f64_to_f32_odd(num_as_f64(v)));
        memcpy(p, &h, 2);
        break;
    }
    case CML_DTYPE_BFLOAT16: {
        uint16_t h = f32_to_bf16(f64_to_f32_odd(num_as_f64(v)));
        memcpy(p, &h, 2);
        break;
    }
    case CML_DTYPE_BOOL:
        p[0] = v.kind == K_F ? (v.f != 0.0) : v.kind == K_I ? (v.i != 0) : (v.u != 0);
        break;
    case CML_DTYPE_INT8:
    case CML_DTYPE_UINT8: p[0] = (unsigned char)num_as_bits(v, true, false); break;
    case CML_DTYPE_INT16:
    case CML_DTYPE_UINT16: { uint16_t x = (uint16_t)num_as_bits(v, true, false); memcpy(p, &x, 2); break; }
    case CML_DTYPE_INT32: { uint32_t x = (uint32_t)num_as_bits(v, true, false); memcpy(p, &x, 4); break; }
    case CML_DTYPE_UINT32: { uint32_t x = (uint32_t)num_as_bits(v, false, false); memcpy(p, &x, 4); break; }
    case CML_DTYPE_INT64: { uint64_t x = num_as_bits(v, false, false); memcpy(p, &x, 8); break; }
    case CML_DTYPE_UINT64: { uint64_t x = num_as_bits(v, false, true); memcpy(p, &x, 8); break; }
    case CML_DTYPE_COMPLEX32:
    case CML_DTYPE_COMPLEX64:
    case CML_DTYPE_COMPLEX128: break; /* refused by cml_k_convert */
    }
}

static bool is_complex(cml_dtype t) {
    return t == CML_DTYPE_COMPLEX32 || t == CML_DTYPE_COMPLEX64 || t == CML_DTYPE_COMPLEX128;
}

static bool fast_convert(cml_dtype st, const void *src, cml_dtype dt, void *dst, size_t n) {
    const cml_vec_kit *kit = cml_k_vec_kit();
    if (st == CML_DTYPE_FLOAT16 && dt == CML_DTYPE_FLOAT32) {
        kit->f16_to_f32(src, dst, n);
        return true;
    }
    if (st == CML_DTYPE_FLOAT32 && dt == CML_DTYPE_FLOAT16) {
        kit->f32_to_f16(src, dst, n);
        return true;
    }
    if (st == CML_DTYPE_BFLOAT16 && dt == CML_DTYPE_FLOAT32) {
        const uint16_t *s = src;
        uint32_t *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = (uint32_t)s[i] << 16;
        return true;
    }
    if (st == CML_DTYPE_FLOAT32 && dt == CML_DTYPE_BFLOAT16) {
        const float *s = src;
        uint16_t *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = f32_to_bf16(s[i]);
        return true;
    }
#define FAST(ST, STYPE, DT, DTYPE, EXPR)                                                   \
    if (st == ST && dt == DT) {                                                           \
        const STYPE *s = src;                                                             \
        DTYPE *d = dst;                                                                   \
        for (size_t i = 0; i < n; i++) {                                                  \
            STYPE v = s[i];                                                               \
            d[i] = (EXPR);                                                                \
        }                                                                                 \
        return true;                                                                      \
    }
    FAST(CML_DTYPE_INT32, int32_t, CML_DTYPE_FLOAT32, float, (float)v)
    FAST(CML_DTYPE_INT64, int64_t, CML_DTYPE_FLOAT32, float, (float)v)
    FAST(CML_DTYPE_UINT8, uint8_t, CML_DTYPE_FLOAT32, float, (float)v)
    FAST(CML_DTYPE_BOOL, uint8_t, CML_DTYPE_FLOAT32, float, v ? 1.0f : 0.0f)
    FAST(CML_DTYPE_INT32, int32_t, CML_DTYPE_INT64, int64_t, (int64_t)v)
    FAST(CML_DTYPE_INT64, int64_t, CML_DTYPE_INT32, int32_t, (int32_t)(uint32_t)(uint64_t)v)
    FAST(CML_DTYPE_FLOAT32, float, CML_DTYPE_FLOAT64, double, (double)v)
    FAST(CML_DTYPE_FLOAT64, double, CML_DTYPE_FLOAT32, float, (float)v)
    FAST(CML_DTYPE_FLOAT32, float, CML_DTYPE_INT32, int32_t, f64_to_i32(v))
    FAST(CML_DTYPE_FLOAT32, float, CML_DTYPE_INT64, int64_t, f64_to_i64(v))
    FAST(CML_DTYPE_FLOAT32, float, CML_DTYPE_BOOL, uint8_t, v != 0.0f)
#undef FAST
    return false;
}

bool cml_k_convert(cml_dtype src_type, const void *src, cml_dtype dst_type, void *dst, size_t n) {
    size_t ss = cml_dtype_size(src_type), ds = cml_dtype_size(dst_type);
    if (ss == 0 || ds == 0) return false;
    if (n == 0) return true;
    if (src_type == dst_type) {
        if (src_type == CML_DTYPE_BOOL) {
            const unsigned char *s = src;
            unsigned char *d = dst;
            for (size_t i = 0; i < n; i++) d[i] = s[i] != 0;
        } else if (src != dst) {
            memmove(dst, src, n * ss);
        }
        return true;
    }
    if (is_complex(src_type) || is_complex(dst_type)) return false; /* only moved as is */
    if (fast_convert(src_type, src, dst_type, dst, n)) return true;
    const unsigned char *s = src;
    unsigned char *d = dst;
    for (size_t i = 0; i < n; i++) store_num(dst_type, d + i * ds, load_num(src_type, s + i * ss));
    return true;
}

void cml_k_round_fp16(float *x, size_t n) { cml_k_vec_kit()->round_f16(x, n); }
