/* Element-type conversion (see cast.h for the semantics). Every element
 * goes through one exact intermediate (a signed or unsigned 64-bit integer
 * or a double: each castable dtype fits one of them exactly) and is then
 * rounded once into the target type. */
#include "cast.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/fp16.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cast.c stores integers as their low bytes (little-endian)"
#endif

typedef enum { K_BOOL, K_INT, K_UINT, K_F16, K_BF16, K_F32, K_F64 } kind;

typedef struct type_info {
    cml_dtype dtype;
    kind k;
    int bits;
} type_info;

static const type_info types[] = {
    {CML_DTYPE_BOOL, K_BOOL, 8},      {CML_DTYPE_INT8, K_INT, 8},
    {CML_DTYPE_INT16, K_INT, 16},     {CML_DTYPE_INT32, K_INT, 32},
    {CML_DTYPE_INT64, K_INT, 64},     {CML_DTYPE_UINT8, K_UINT, 8},
    {CML_DTYPE_UINT16, K_UINT, 16},   {CML_DTYPE_UINT32, K_UINT, 32},
    {CML_DTYPE_UINT64, K_UINT, 64},   {CML_DTYPE_FLOAT16, K_F16, 16},
    {CML_DTYPE_BFLOAT16, K_BF16, 16}, {CML_DTYPE_FLOAT32, K_F32, 32},
    {CML_DTYPE_FLOAT64, K_F64, 64},
};
#define NTYPES (sizeof types / sizeof types[0])

static const type_info *find(cml_dtype dtype) {
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].dtype == dtype) return &types[i];
    return NULL;
}

bool cli_dtype_castable(cml_dtype dtype) { return find(dtype) != NULL; }

int cli_parse_dtype(const char *name, cml_dtype *out) {
    for (size_t i = 0; i < NTYPES; i++) {
        if (strcmp(name, cml_dtype_name(types[i].dtype)) == 0) {
            *out = types[i].dtype;
            return 0;
        }
    }
    return -1;
}

/* The exact value of one element: an integer (signed or not) or a double. */
typedef struct wide {
    enum { W_INT, W_UINT, W_FLOAT } w;
    int64_t i;
    uint64_t u;
    double d;
} wide;

static wide load(const type_info *t, const uint8_t *p) {
    wide v = {W_UINT, 0, 0, 0};
    uint64_t raw = 0;
    memcpy(&raw, p, (size_t)t->bits / 8);
    switch (t->k) {
    case K_BOOL: v.u = raw != 0; break;
    case K_UINT: v.u = raw; break;
    case K_INT: /* sign-extend the low bits */
        v.w = W_INT;
        v.i = t->bits == 64 ? (int64_t)raw
                            : (int64_t)(raw << (64 - t->bits)) >> (64 - t->bits);
        break;
    case K_F16: v.w = W_FLOAT; v.d = cml_fp16_to_fp32((uint16_t)raw); break;
    case K_BF16: v.w = W_FLOAT; v.d = cml_bf16_to_fp32((uint16_t)raw); break;
    case K_F32: {
        float f;
        memcpy(&f, p, sizeof f);
        v.w = W_FLOAT;
        v.d = f;
        break;
    }
    case K_F64: v.w = W_FLOAT; memcpy(&v.d, p, sizeof v.d); break;
    }
    return v;
}

/* Round to odd into float32: the truncated value with its last bit set
 * when inexact. A later round to nearest even into a format at least two
 * bits narrower (float16: 11, bfloat16: 8 bits of 24) then equals rounding
 * the exact value once. */
static float odd_from_u64(uint64_t m) {
    if (m < (1u << 24)) return (float)m;
    int shift = 64 - __builtin_clzll(m) - 24;
    uint64_t t = m >> shift;
    if (m & ((UINT64_C(1) << shift) - 1)) t |= 1;
    return ldexpf((float)t, shift); /* t < 2^24: exact */
}

static float odd_from_double(double d) {
    float f = (float)d;
    if (isnan(d) || isinf(f) || (double)f == d) return f;
    if (fabs((double)f) > fabs(d)) f = nextafterf(f, 0.0f); /* toward zero */
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    b |= 1;
    memcpy(&f, &b, sizeof f);
    return f;
}

static float odd_float(wide v) {
    if (v.w == W_FLOAT) return odd_from_double(v.d);
    if (v.w == W_UINT) return odd_from_u64(v.u);
    return v.i < 0 ? -odd_from_u64(0 - (uint64_t)v.i) : odd_from_u64((uint64_t)v.i);
}

static uint16_t bf16_from_fp32(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

/* float -> integer of `bits` bits: truncate, saturate, NaN -> 0. Returns
 * the two's-complement bit pattern. */
static uint64_t sat_int(double d, int bits, bool is_signed) {
    if (isnan(d)) return 0;
    d = trunc(d);
    if (is_signed) {
        double lim = ldexp(1.0, bits - 1); /* exact; 2^(bits-1) */
        if (d >= lim) return (UINT64_C(1) << (bits - 1)) - 1;
        if (d <= -lim) return (uint64_t)-(int64_t)((UINT64_C(1) << (bits - 1)) - 1) - 1;
        return (uint64_t)(int64_t)d;
    }
    if (d <= 0) return 0;
    if (d >= ldexp(1.0, bits)) return bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    return (uint64_t)d;
}

static uint64_t int_bits(wide v, const type_info *t) {
    if (v.w == W_FLOAT) return sat_int(v.d, t->bits, t->k == K_INT);
    return v.w == W_INT ? (uint64_t)v.i : v.u; /* low bits: a C cast */
}

static void store(const type_info *t, uint8_t *p, wide v) {
    uint64_t raw;
    switch (t->k) {
    case K_BOOL: raw = v.w == W_FLOAT ? v.d != 0 : v.w == W_INT ? v.i != 0 : v.u != 0; break;
    case K_INT:
    case K_UINT: raw = int_bits(v, t); break;
    case K_F16: raw = cml_fp32_to_fp16(odd_float(v)); break;
    case K_BF16: raw = bf16_from_fp32(odd_float(v)); break;
    case K_F32: {
        float f = v.w == W_FLOAT ? (float)v.d : v.w == W_INT ? (float)v.i : (float)v.u;
        memcpy(p, &f, sizeof f);
        return;
    }
    case K_F64: {
        double d = v.w == W_FLOAT ? v.d : v.w == W_INT ? (double)v.i : (double)v.u;
        memcpy(p, &d, sizeof d);
        return;
    }
    }
    memcpy(p, &raw, (size_t)t->bits / 8);
}

int cli_cast(cml_dtype to, void *dst, cml_dtype from, const void *src, size_t numel) {
    const type_info *tt = find(to), *ft = find(from);
    if (!tt || !ft) return -1;
    size_t ts = (size_t)tt->bits / 8, fs = (size_t)ft->bits / 8;
    for (size_t i = 0; i < numel; i++)
        store(tt, (uint8_t *)dst + i * ts, load(ft, (const uint8_t *)src + i * fs));
    return 0;
}
