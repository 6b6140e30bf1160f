/* Vectorized elementwise, softmax and layer-norm kernels, written once over
 * simd.h and compiled per ISA by vec_avx2.c and vec_avx512.c. */
#include <math.h>
#include <string.h>

#include "core/fp16.h"
#include "kernels/kinternal.h"
#include "kernels/simd.h"

/* ---- binary ---------------------------------------------------------------- */

static CML_ALWAYS_INLINE vf bin_apply(cml_binary_op op, vf a, vf b) {
    switch (op) {
    case CML_BIN_ADD: return v_add(a, b);
    case CML_BIN_SUB: return v_sub(a, b);
    case CML_BIN_MUL: return v_mul(a, b);
    case CML_BIN_DIV: return v_div(a, b);
    case CML_BIN_MAX: return v_sel(v_unord(a, b), v_add(a, b), v_max(a, b));
    case CML_BIN_MIN: return v_sel(v_unord(a, b), v_add(a, b), v_min(a, b));
    case CML_BIN_EQ: return v_mask_one(v_eq(a, b));
    case CML_BIN_NE: return v_mask_one(v_ne(a, b));
    case CML_BIN_GT: return v_mask_one(v_gt(a, b));
    case CML_BIN_GE: return v_mask_one(v_ge(a, b));
    case CML_BIN_LT: return v_mask_one(v_lt(a, b));
    case CML_BIN_LE: return v_mask_one(v_le(a, b));
    default: return a;
    }
}

static CML_ALWAYS_INLINE void bin_loop(const cml_binary_op op, size_t n, const float *a,
                                       size_t sa, const float *b, size_t sb, float *out) {
    size_t i = 0;
    if (sa && sb) {
        for (; i + VW <= n; i += VW) v_store(out + i, bin_apply(op, v_load(a + i), v_load(b + i)));
        if (i < n) v_store_n(out + i, bin_apply(op, v_load_n(a + i, n - i), v_load_n(b + i, n - i)), n - i);
    } else if (sa) {
        vf bv = v_set1(b[0]);
        for (; i + VW <= n; i += VW) v_store(out + i, bin_apply(op, v_load(a + i), bv));
        if (i < n) v_store_n(out + i, bin_apply(op, v_load_n(a + i, n - i), bv), n - i);
    } else if (sb) {
        vf av = v_set1(a[0]);
        for (; i + VW <= n; i += VW) v_store(out + i, bin_apply(op, av, v_load(b + i)));
        if (i < n) v_store_n(out + i, bin_apply(op, av, v_load_n(b + i, n - i)), n - i);
    } else {
        float r = cml_k_binary_scalar(op, a[0], b[0]);
        for (; i < n; i++) out[i] = r;
    }
}

static bool VSUF(vec_binary)(cml_binary_op op, size_t n, const float *a, size_t sa,
                             const float *b, size_t sb, float *out) {
    switch (op) {
#define CASE(OP) case OP: bin_loop(OP, n, a, sa, b, sb, out); return true;
    CASE(CML_BIN_ADD)
    CASE(CML_BIN_SUB)
    CASE(CML_BIN_MUL)
    CASE(CML_BIN_DIV)
    CASE(CML_BIN_MAX)
    CASE(CML_BIN_MIN)
    CASE(CML_BIN_EQ)
    CASE(CML_BIN_NE)
    CASE(CML_BIN_GT)
    CASE(CML_BIN_GE)
    CASE(CML_BIN_LT)
    CASE(CML_BIN_LE)
#undef CASE
    default: return false;
    }
}

/* ---- unary ----------------------------------------------------------------- */

static CML_ALWAYS_INLINE vf relu6_v(vf v) {
    vf r = v_sel(v_gt(v, v_set1(6.0f)), v_set1(6.0f), v);
    return v_sel(v_lt(v, v_zero()), v_zero(), r);
}

static CML_ALWAYS_INLINE vf un_apply(cml_unary_op op, vf v, vf alpha, vf beta) {
    switch (op) {
    case CML_UN_RELU: return v_sel(v_lt(v, v_zero()), v_zero(), v);
    case CML_UN_RELU6: return relu6_v(v);
    case CML_UN_SIGMOID: return v_sigmoid(v);
    case CML_UN_TANH: return v_tanh(v);
    case CML_UN_GELU_EXACT: return v_gelu_erf(v);
    case CML_UN_GELU_TANH: {
        /* 0.5 x (1 + tanh(u)) == x * sigmoid(2u) */
        vf u = v_mul(v_set1(0.79788456080286536f),
                     v_fmadd(v_mul(v_set1(0.044715f), v), v_mul(v, v), v));
        return v_mul(v, v_sigmoid(v_add(u, u)));
    }
    case CML_UN_GELU_SIGMOID:
        return v_div(v, v_add(v_set1(1.0f), v_exp(v_mul(v_set1(-1.702f), v))));
    case CML_UN_SILU: return v_div(v, v_add(v_set1(1.0f), v_exp(v_neg(v))));
    case CML_UN_HARDSIGMOID: return v_div(relu6_v(v_add(v, v_set1(3.0f))), v_set1(6.0f));
    case CML_UN_HARDSWISH: return v_div(v_mul(v, relu6_v(v_add(v, v_set1(3.0f)))), v_set1(6.0f));
    case CML_UN_EXP: return v_exp(v);
    case CML_UN_SQRT: return v_sqrt(v);
    case CML_UN_RSQRT: return v_div(v_set1(1.0f), v_sqrt(v));
    case CML_UN_ABS: return v_abs(v);
    case CML_UN_NEG: return v_neg(v);
    case CML_UN_FLOOR: return v_floor(v);
    case CML_UN_CEIL: return v_ceil(v);
    case CML_UN_ROUND_EVEN: return v_round(v);
    case CML_UN_SQUARE: return v_mul(v, v);
    case CML_UN_RECIPROCAL: return v_div(v_set1(1.0f), v);
    case CML_UN_SOFTSIGN: return v_div(v, v_add(v_set1(1.0f), v_abs(v)));
    case CML_UN_LEAKY_RELU: return v_sel(v_gt(v, v_zero()), v, v_mul(v, alpha));
    case CML_UN_CLAMP: {
        vf r = v_sel(v_gt(v, beta), beta, v);
        return v_sel(v_lt(v, alpha), alpha, r);
    }
    case CML_UN_LINEAR: return v_add(v_mul(alpha, v), beta);
    case CML_UN_THRESHOLD_RELU: return v_sel(v_ge(v, alpha), v, v_zero());
    default: return v;
    }
}

static CML_ALWAYS_INLINE void un_loop(const cml_unary_op op, const float *x, float *y, size_t n,
                                      float alpha, float beta) {
    vf av = v_set1(alpha), bv = v_set1(beta);
    size_t i = 0;
    for (; i + 2 * VW <= n; i += 2 * VW) {
        vf a = un_apply(op, v_load(x + i), av, bv);
        vf b = un_apply(op, v_load(x + i + VW), av, bv);
        v_store(y + i, a);
        v_store(y + i + VW, b);
    }
    for (; i + VW <= n; i += VW) v_store(y + i, un_apply(op, v_load(x + i), av, bv));
    if (i < n) v_store_n(y + i, un_apply(op, v_load_n(x + i, n - i), av, bv), n - i);
}

static bool VSUF(vec_unary)(cml_unary_op op, const float *x, float *y, size_t n, float alpha,
                            float beta) {
    switch (op) {
#define CASE(OP) case OP: un_loop(OP, x, y, n, alpha, beta); return true;
    CASE(CML_UN_RELU)
    CASE(CML_UN_RELU6)
    CASE(CML_UN_SIGMOID)
    CASE(CML_UN_TANH)
    CASE(CML_UN_GELU_EXACT)
    CASE(CML_UN_GELU_TANH)
    CASE(CML_UN_GELU_SIGMOID)
    CASE(CML_UN_SILU)
    CASE(CML_UN_HARDSIGMOID)
    CASE(CML_UN_HARDSWISH)
    CASE(CML_UN_EXP)
    CASE(CML_UN_SQRT)
    CASE(CML_UN_RSQRT)
    CASE(CML_UN_ABS)
    CASE(CML_UN_NEG)
    CASE(CML_UN_FLOOR)
    CASE(CML_UN_CEIL)
    CASE(CML_UN_ROUND_EVEN)
    CASE(CML_UN_SQUARE)
    CASE(CML_UN_RECIPROCAL)
    CASE(CML_UN_SOFTSIGN)
    CASE(CML_UN_LEAKY_RELU)
    CASE(CML_UN_CLAMP)
    CASE(CML_UN_LINEAR)
    CASE(CML_UN_THRESHOLD_RELU)
#undef CASE
    default: return false;
    }
}

/* ---- softmax ------------------------------------------------------------------- */

static void softmax_row(const float *x, float *y, size_t n, bool log) {
    vf mv = v_set1(-INFINITY);
    size_t i = 0;
    for (; i + VW <= n; i += VW) mv = v_max(v_load(x + i), mv);
    float m = v_hmax(mv);
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    vf mb = v_set1(m);
    vf s0 = v_zero(), s1 = v_zero();
    i = 0;
    for (; i + 2 * VW <= n; i += 2 * VW) {
        vf e0 = v_exp(v_sub(v_load(x + i), mb));
        vf e1 = v_exp(v_sub(v_load(x + i + VW), mb));
        if (!log) {
            v_store(y + i, e0);
            v_store(y + i + VW, e1);
        }
        s0 = v_add(s0, e0);
        s1 = v_add(s1, e1);
    }
    for (; i + VW <= n; i += VW) {
        vf e = v_exp(v_sub(v_load(x + i), mb));
        if (!log) v_store(y + i, e);
        s0 = v_add(s0, e);
    }
    if (i < n) {
        vf e = v_keep_n(v_exp(v_sub(v_load_n(x + i, n - i), mb)), n - i);
        if (!log) v_store_n(y + i, e, n - i);
        s1 = v_add(s1, e);
    }
    float sum = v_hsum(v_add(s0, s1));
    i = 0;
    if (log) {
        vf sub = v_set1(m + logf(sum));
        for (; i + VW <= n; i += VW) v_store(y + i, v_sub(v_load(x + i), sub));
        if (i < n) v_store_n(y + i, v_sub(v_load_n(x + i, n - i), sub), n - i);
    } else {
        vf r = v_set1(1.0f / sum);
        for (; i + VW <= n; i += VW) v_store(y + i, v_mul(v_load(y + i), r));
        if (i < n) v_store_n(y + i, v_mul(v_load_n(y + i, n - i), r), n - i);
    }
}

/* Softmax over the axis of [axis, inner] with inner > 1: VW columns at a time. */
static void softmax_cols(const float *x, float *y, size_t axis, size_t inner, bool log) {
    for (size_t j = 0; j < inner; j += VW) {
        size_t w = cml_k_min(VW, inner - j);
        vf m = v_set1(-INFINITY);
        for (size_t a = 0; a < axis; a++) m = v_max(v_load_n(x + a * inner + j, w), m);
        vf s = v_zero();
        for (size_t a = 0; a < axis; a++) {
            vf e = v_exp(v_sub(v_load_n(x + a * inner + j, w), m));
            if (!log) v_store_n(y + a * inner + j, e, w);
            s = v_add(s, e);
        }
        if (log) {
            float sb[VW], mb[VW];
            v_store(sb, s);
            v_store(mb, m);
            for (size_t l = 0; l < VW; l++) sb[l] = l < w ? mb[l] + logf(sb[l]) : 0.0f;
            vf sub = v_load(sb);
            for (size_t a = 0; a < axis; a++)
                v_store_n(y + a * inner + j, v_sub(v_load_n(x + a * inner + j, w), sub), w);
        } else {
            vf r = v_div(v_set1(1.0f), s);
            for (size_t a = 0; a < axis; a++)
                v_store_n(y + a * inner + j, v_mul(v_load_n(y + a * inner + j, w), r), w);
        }
    }
}

static void VSUF(vec_softmax)(const float *x, float *y, size_t axis, size_t inner, bool log) {
    if (inner == 1)
        softmax_row(x, y, axis, log);
    else
        softmax_cols(x, y, axis, inner, log);
}

/* ---- layer norm ------------------------------------------------------------------ */

static void VSUF(vec_layer_norm_row)(const float *x, float *y, size_t n, const float *gamma,
                                     const float *beta, float eps) {
    vf a0 = v_zero(), a1 = v_zero(), a2 = v_zero(), a3 = v_zero();
    size_t i = 0;
    for (; i + 4 * VW <= n; i += 4 * VW) {
        a0 = v_add(a0, v_load(x + i));
        a1 = v_add(a1, v_load(x + i + VW));
        a2 = v_add(a2, v_load(x + i + 2 * VW));
        a3 = v_add(a3, v_load(x + i + 3 * VW));
    }
    for (; i + VW <= n; i += VW) a0 = v_add(a0, v_load(x + i));
    if (i < n) a1 = v_add(a1, v_load_n(x + i, n - i));
    float mean = v_hsum(v_add(v_add(a0, a1), v_add(a2, a3))) / (float)n;
    vf mv = v_set1(mean);
    a0 = a1 = a2 = a3 = v_zero();
    i = 0;
    for (; i + 4 * VW <= n; i += 4 * VW) {
        vf d0 = v_sub(v_load(x + i), mv), d1 = v_sub(v_load(x + i + VW), mv);
        vf d2 = v_sub(v_load(x + i + 2 * VW), mv), d3 = v_sub(v_load(x + i + 3 * VW), mv);
        a0 = v_fmadd(d0, d0, a0);
        a1 = v_fmadd(d1, d1, a1);
        a2 = v_fmadd(d2, d2, a2);
        a3 = v_fmadd(d3, d3, a3);
    }
    for (; i + VW <= n; i += VW) {
        vf d = v_sub(v_load(x + i), mv);
        a0 = v_fmadd(d, d, a0);
    }
    if (i < n) {
        vf d = v_keep_n(v_sub(v_load_n(x + i, n - i), mv), n - i);
        a1 = v_fmadd(d, d, a1);
    }
    float var = v_hsum(v_add(v_add(a0, a1), v_add(a2, a3))) / (float)n;
    float rstd = 1.0f / sqrtf(var + eps);
    vf rv = v_set1(rstd);
    i = 0;
    for (; i < n; i += VW) {
        size_t w = cml_k_min(VW, n - i);
        vf d = v_mul(v_sub(v_load_n(x + i, w), mv), rv);
        if (gamma) d = v_mul(d, v_load_n(gamma + i, w));
        if (beta) d = v_add(d, v_load_n(beta + i, w));
        v_store_n(y + i, d, w);
    }
}

/* ---- depthwise conv plane ---------------------------------------------------------
 * Input rows are copied once into zero-padded stack rows (a small cache keyed
 * by row index), so that every output block reads full vectors; NB blocks of
 * VW outputs are computed together, each with two partial sums, to hide the
 * FMA latency. Planes whose padded rows do not fit fall back to masked loads. */

#define DW_MAX_TAPS 64
#define DW_SLOTS 8
#define DW_MAXW 1024

static CML_ALWAYS_INLINE void dw_blocks(const int NB, const int64_t sw, const float *const *rows,
                                        const float *const *wts, int nr, const int64_t *offs,
                                        int64_t KW, int64_t ow, int64_t WO, vf bv, float *row) {
    vf acc[4][2];
    for (int b = 0; b < NB; b++) {
        acc[b][0] = bv;
        acc[b][1] = v_zero();
    }
    for (int r = 0; r < nr; r++) {
        const int h = r & 1;
        for (int64_t kw = 0; kw < KW; kw++) {
            vf wv = v_set1(wts[r][kw]);
            const float *base = rows[r] + ow * sw + offs[kw];
            for (int b = 0; b < NB; b++) {
                vf v = sw == 1 ? v_load(base + b * VW) : v_load_even(base + 2 * b * VW);
                acc[b][h] = v_fmadd(wv, v, acc[b][h]);
            }
        }
    }
    for (int b = 0; b < NB; b++) {
        vf r = v_add(acc[b][0], acc[b][1]);
        int64_t o = ow + (int64_t)b * VW;
        if (o + VW <= WO)
            v_store(row + o, r);
        else if (o < WO)
            v_store_n(row + o, r, (size_t)(WO - o));
    }
}

#if defined(__AVX512F__)
/* Elements k .. k+15 of the concatenation a:b (k a constant after inlining). */
static CML_ALWAYS_INLINE __m512 z_shift(__m512 a, __m512 b, const int k) {
    __m512i ai = _mm512_castps_si512(a), bi = _mm512_castps_si512(b);
    switch (k) {
    case 1: return _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 1));
    case 2: return _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 2));
    case 3: return _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 3));
    case 4: return _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 4));
    default: return a;
    }
}

/* dw_blocks for KWC (3 or 5) consecutive taps (dilation 1): aligned loads of
 * the padded rows, the shifted taps built with VALIGND instead of unaligned
 * (cache-line splitting) loads; stride 2 splits even/odd columns first. */
static CML_ALWAYS_INLINE void dw_blocks_z(const int NB, const int KWC, const int64_t sw,
                                          const float *const *rows, const float *const *wts,
                                          int nr, int64_t ow, int64_t WO, vf bv, float *row) {
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odds = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    __m512 acc[4][2];
#pragma GCC unroll 4
    for (int b = 0; b < NB; b++) {
        acc[b][0] = bv;
        acc[b][1] = _mm512_setzero_ps();
    }
    for (int r = 0; r < nr; r++) {
        const int h = r & 1;
        const float *base = rows[r] + ow * sw; /* 64-byte aligned */
        __m512 wv[5];
#pragma GCC unroll 5
        for (int kw = 0; kw < KWC; kw++) wv[kw] = _mm512_set1_ps(wts[r][kw]);
        if (sw == 1) {
            __m512 v[5];
#pragma GCC unroll 5
            for (int b = 0; b <= NB; b++) v[b] = _mm512_load_ps(base + 16 * b);
#pragma GCC unroll 4
            for (int b = 0; b < NB; b++)
#pragma GCC unroll 5
                for (int kw = 0; kw < KWC; kw++)
                    acc[b][h] = _mm512_fmadd_ps(wv[kw], z_shift(v[b], v[b + 1], kw), acc[b][h]);
        } else {
            __m512 e[5], o[5];
#pragma GCC unroll 5
            for (int b = 0; b <= NB; b++) {
                __m512 lo = _mm512_load_ps(base + 32 * b), hi = _mm512_load_ps(base + 32 * b + 16);
                e[b] = _mm512_permutex2var_ps(lo, evens, hi);
                o[b] = _mm512_permutex2var_ps(lo, odds, hi);
            }
#pragma GCC unroll 4
            for (int b = 0; b < NB; b++)
#pragma GCC unroll 5
                for (int kw = 0; kw < KWC; kw++) {
                    __m512 t = (kw & 1) ? z_shift(o[b], o[b + 1], kw >> 1) : z_shift(e[b], e[b + 1], kw >> 1);
                    acc[b][h] = _mm512_fmadd_ps(wv[kw], t, acc[b][h]);
                }
        }
    }
#pragma GCC unroll 4
    for (int b = 0; b < NB; b++) {
        __m512 r = _mm512_add_ps(acc[b][0], acc[b][1]);
        int64_t o = ow + (int64_t)b * 16;
        if (o + 16 <= WO)
            _mm512_storeu_ps(row + o, r);
        else if (o < WO)
            v_store_n(row + o, r, (size_t)(WO - o));
    }
}

static CML_ALWAYS_INLINE void dw_row_z(const int KWC, const int64_t sw, const float *const *rows,
                                       const float *const *wts, int nr, int64_t WO, vf bv, float *row) {
    int64_t ow = 0;
    for (; ow + 64 <= WO; ow += 64) dw_blocks_z(4, KWC, sw, rows, wts, nr, ow, WO, bv, row);
    int64_t left = (WO - ow + 15) / 16;
    if (left == 1) dw_blocks_z(1, KWC, sw, rows, wts, nr, ow, WO, bv, row);
    else if (left == 2) dw_blocks_z(2, KWC, sw, rows, wts, nr, ow, WO, bv, row);
    else if (left == 3) dw_blocks_z(3, KWC, sw, rows, wts, nr, ow, WO, bv, row);
    else if (left == 4) dw_blocks_z(4, KWC, sw, rows, wts, nr, ow, WO, bv, row);
}
#endif

static CML_ALWAYS_INLINE void dw_row_padded(const int64_t sw, const float *const *rows,
                                            const float *const *wts, int nr, const int64_t *offs,
                                            int64_t KW, int64_t WO, vf bv, float *row) {
    int64_t ow = 0;
    for (; ow + 4 * VW <= WO; ow += 4 * VW) dw_blocks(4, sw, rows, wts, nr, offs, KW, ow, WO, bv, row);
    int64_t left = (WO - ow + VW - 1) / VW;
    if (left == 1) dw_blocks(1, sw, rows, wts, nr, offs, KW, ow, WO, bv, row);
    else if (left == 2) dw_blocks(2, sw, rows, wts, nr, offs, KW, ow, WO, bv, row);
    else if (left == 3) dw_blocks(3, sw, rows, wts, nr, offs, KW, ow, WO, bv, row);
    else if (left == 4) dw_blocks(4, sw, rows, wts, nr, offs, KW, ow, WO, bv, row);
}

/* Returns false when the plane does not fit the padded-row scheme. */
static CML_NOINLINE bool dw_plane_padded(const cml_conv2d_params *p, const float *x, const float *w, float bias,
                            float *y) {
    const int64_t H = p->h_in, W = p->w_in, HO = p->h_out, WO = p->w_out;
    const int64_t KH = p->k_h, KW = p->k_w, sw = p->stride_w, sh = p->stride_h;
    const int64_t dh = p->dilation_h > 0 ? p->dilation_h : 1, dw = p->dilation_w > 0 ? p->dilation_w : 1;
    const int64_t pl = p->pad_left;
    int64_t span = (KH - 1) * dh + 1, nslots = 1;
    while (nslots < span) nslots *= 2; /* rows in use at once map to distinct slots */
    if (nslots > DW_SLOTS || pl < 0 || pl > DW_MAXW) return false;
    /* Element range read, relative to input column 0: [-pl, right). */
    int64_t blocks = (WO + VW - 1) / VW;
    /* + one more vector (per stride) for the aligned VALIGND path */
    int64_t right = (blocks + 1) * VW * sw + (KW - 1) * dw - pl;
    if (right < W) right = W;
    int64_t len = pl + right;
    if (len > DW_MAXW) return false;
    float buf[DW_SLOTS][DW_MAXW] CML_ALIGNED(64);
    int64_t tag[DW_SLOTS];
    for (int i = 0; i < DW_SLOTS; i++) tag[i] = -1;
    int64_t offs[DW_MAX_TAPS];
    for (int64_t kw = 0; kw < KW; kw++) offs[kw] = kw * dw;
    const vf bv = v_set1(bias);
    for (int64_t oh = 0; oh < HO; oh++) {
        const float *rows[DW_MAX_TAPS];
        const float *wts[DW_MAX_TAPS];
        int nr = 0;
        for (int64_t kh = 0; kh < KH; kh++) {
            int64_t ih = oh * sh - p->pad_top + kh * dh;
            if (ih < 0 || ih >= H) continue;
            int64_t slot = ih & (nslots - 1);
            float *b = buf[slot];
            if (tag[slot] != ih) {
                for (int64_t i = 0; i < pl; i++) b[i] = 0.0f;
                memcpy(b + pl, x + ih * W, (size_t)W * sizeof(float));
                for (int64_t i = pl + W; i < len; i++) b[i] = 0.0f;
                tag[slot] = ih;
            }
            rows[nr] = b; /* element 0 is input column -pl */
            wts[nr] = w + kh * KW;
            nr++;
        }
        float *row = y + oh * WO;
        if (nr == 0) {
            for (int64_t ow = 0; ow < WO; ow++) row[ow] = bias;
            continue;
        }
#if defined(__AVX512F__)
        if (dw == 1 && KW == 3) {
            if (sw == 1) dw_row_z(3, 1, rows, wts, nr, WO, bv, row);
            else dw_row_z(3, 2, rows, wts, nr, WO, bv, row);
            continue;
        }
        if (dw == 1 && KW == 5) {
            if (sw == 1) dw_row_z(5, 1, rows, wts, nr, WO, bv, row);
            else dw_row_z(5, 2, rows, wts, nr, WO, bv, row);
            continue;
        }
#endif
        if (sw == 1)
            dw_row_padded(1, rows, wts, nr, offs, KW, WO, bv, row);
        else
            dw_row_padded(2, rows, wts, nr, offs, KW, WO, bv, row);
    }
    return true;
}

/* Small planes: the zero-padded plane is flattened and convolved as one 1-D
 * signal: grid output q = oh * Wq + ow reads xp[q + tap offset], and the
 * grid's junk columns (ow >= WO) are dropped when the outputs are copied out.
 * Stride 2 (both dims) first splits the padded plane into its four polyphase
 * planes (even/odd rows x even/odd columns), which turns it into a sum of
 * stride-1 convolutions over half-size planes. */
#define DW_FLAT_MAX 4096
#ifndef DW_FLAT_MAX_WO
#define DW_FLAT_MAX_WO 64
#endif

static CML_NOINLINE bool dw_plane_flat(const cml_conv2d_params *p, const float *x, const float *w, float bias,
                          float *y) {
    const int64_t H = p->h_in, W = p->w_in, HO = p->h_out, WO = p->w_out;
    const int64_t KH = p->k_h, KW = p->k_w, s = p->stride_w;
    const int64_t dh = p->dilation_h > 0 ? p->dilation_h : 1, dw = p->dilation_w > 0 ? p->dilation_w : 1;
    const int64_t pt = p->pad_top, pl = p->pad_left;
    if (p->stride_h != s || (s != 1 && s != 2) || pt < 0 || pl < 0 || KH * KW > DW_MAX_TAPS) return false;
    int64_t pb = (HO - 1) * s + (KH - 1) * dh + 1 - H - pt, pr = (WO - 1) * s + (KW - 1) * dw + 1 - W - pl;
    if (pb < 0) pb = 0;
    if (pr < 0) pr = 0;
    const int64_t Hp = pt + H + pb, Wp = pl + W + pr;
    const int64_t Hq = (Hp + s - 1) / s, Wq = (Wp + s - 1) / s; /* (polyphase) plane size */
    const int64_t ps = Hq * Wq, planes_len = ps * s * s;
    const int64_t nq = HO * Wq;
    const int64_t nq_r = (nq + 4 * VW - 1) / (4 * VW) * (4 * VW);
    int64_t offs[DW_MAX_TAPS];
    float wv[DW_MAX_TAPS];
    int64_t nt = 0, max_off = 0;
    for (int64_t kh = 0; kh < KH; kh++)
        for (int64_t kw = 0; kw < KW; kw++) {
            int64_t r = kh * dh, c = kw * dw;
            offs[nt] = s == 1 ? r * Wq + c : ((r & 1) * 2 + (c & 1)) * ps + (r >> 1) * Wq + (c >> 1);
            if (offs[nt] > max_off) max_off = offs[nt];
            wv[nt] = w[kh * KW + kw];
            nt++;
        }
    int64_t xlen = nq_r + max_off;
    if (xlen < planes_len) xlen = planes_len;
    if (xlen > DW_FLAT_MAX || nq_r > DW_FLAT_MAX) return false;
    float xp[DW_FLAT_MAX] CML_ALIGNED(64);
    float grid[DW_FLAT_MAX] CML_ALIGNED(64);
    memset(xp, 0, (size_t)xlen * sizeof(float));
    if (s == 1) {
        for (int64_t ih = 0; ih < H; ih++)
            memcpy(xp + (pt + ih) * Wq + pl, x + ih * W, (size_t)W * sizeof(float));
    } else {
        for (int64_t ih = 0; ih < H; ih++) {
            int64_t r = ih + pt;
            float *pe = xp + ((r & 1) * 2) * ps + (r >> 1) * Wq; /* even padded columns */
            float *po = pe + ps;                                 /* odd padded columns */
            const float *src = x + ih * W;
            /* padded column c = iw + pl goes to (c & 1 ? po : pe)[c >> 1] */
            int64_t e0 = pl & 1; /* first iw landing on an even column */
            float *de = pe + ((e0 + pl) >> 1);
            for (int64_t iw = e0, k = 0; iw < W; iw += 2, k++) de[k] = src[iw];
            float *dodd = po + ((1 - e0 + pl) >> 1);
            for (int64_t iw = 1 - e0, k = 0; iw < W; iw += 2, k++) dodd[k] = src[iw];
        }
    }
    const vf bv = v_set1(bias);
    for (int64_t q = 0; q < nq; q += 4 * VW) {
        vf a0 = bv, a1 = bv, a2 = bv, a3 = bv;
        const float *base = xp + q;
        for (int64_t t = 0; t < nt; t++) {
            vf wt = v_set1(wv[t]);
            const float *b = base + offs[t];
            a0 = v_fmadd(wt, v_load(b), a0);
            a1 = v_fmadd(wt, v_load(b + VW), a1);
            a2 = v_fmadd(wt, v_load(b + 2 * VW), a2);
            a3 = v_fmadd(wt, v_load(b + 3 * VW), a3);
        }
        v_store(grid + q, a0);
        v_store(grid + q + VW, a1);
        v_store(grid + q + 2 * VW, a2);
        v_store(grid + q + 3 * VW, a3);
    }
    for (int64_t oh = 0; oh < HO; oh++) memcpy(y + oh * WO, grid + oh * Wq, (size_t)WO * sizeof(float));
    return true;
}

static void VSUF(vec_dw_plane)(const cml_conv2d_params *p, const float *x, const float *w, float bias,
                               float *y) {
    const int64_t H = p->h_in, W = p->w_in, HO = p->h_out, WO = p->w_out;
    const int64_t KH = p->k_h, KW = p->k_w, sw = p->stride_w;
    const int64_t dh = p->dilation_h > 0 ? p->dilation_h : 1, dw = p->dilation_w > 0 ? p->dilation_w : 1;
    if ((sw != 1 && sw != 2) || KH * KW > DW_MAX_TAPS || KW > DW_MAX_TAPS) {
        cml_k_dw_plane_scalar(p, x, w, bias, y);
        return;
    }
    if (WO <= DW_FLAT_MAX_WO && dw_plane_flat(p, x, w, bias, y)) return;
    if (dw_plane_padded(p, x, w, bias, y)) return;
    const int64_t extra = sw == 2 ? 1 : 0; /* v_load_even reads one float past the last tap */
    /* Outputs whose every tap lies inside the row: [vlo, vhi). */
    int64_t vlo = p->pad_left > 0 ? (p->pad_left + sw - 1) / sw : 0;
    int64_t off_max = (KW - 1) * dw - p->pad_left;
    int64_t vhi = W - 1 - extra - off_max < 0 ? 0 : (W - 1 - extra - off_max) / sw + 1;
    if (vhi > WO) vhi = WO;
    if (vlo > vhi) vlo = vhi;
    int64_t offs[DW_MAX_TAPS];
    for (int64_t kw = 0; kw < KW; kw++) offs[kw] = kw * dw - p->pad_left;
    const vf bv = v_set1(bias);
    for (int64_t oh = 0; oh < HO; oh++) {
        float *row = y + oh * WO;
        const float *rows[DW_MAX_TAPS];
        const float *wts[DW_MAX_TAPS];
        int nr = 0;
        for (int64_t kh = 0; kh < KH; kh++) {
            int64_t ih = oh * p->stride_h - p->pad_top + kh * dh;
            if (ih < 0 || ih >= H) continue;
            rows[nr] = x + ih * W;
            wts[nr] = w + kh * KW;
            nr++;
        }
        int64_t ow = 0;
        for (; ow < WO; ow += VW) {
            if (ow >= vlo && ow + VW <= vhi) { /* every tap inside the row */
                vf acc = bv;
                if (nr == 3 && KW == 3) {
                    const float *i0 = rows[0] + ow * sw, *i1 = rows[1] + ow * sw, *i2 = rows[2] + ow * sw;
                    if (sw == 1) {
                        for (int64_t kw = 0; kw < 3; kw++) {
                            acc = v_fmadd(v_set1(wts[0][kw]), v_load(i0 + offs[kw]), acc);
                            acc = v_fmadd(v_set1(wts[1][kw]), v_load(i1 + offs[kw]), acc);
                            acc = v_fmadd(v_set1(wts[2][kw]), v_load(i2 + offs[kw]), acc);
                        }
                    } else {
                        for (int64_t kw = 0; kw < 3; kw++) {
                            acc = v_fmadd(v_set1(wts[0][kw]), v_load_even(i0 + offs[kw]), acc);
                            acc = v_fmadd(v_set1(wts[1][kw]), v_load_even(i1 + offs[kw]), acc);
                            acc = v_fmadd(v_set1(wts[2][kw]), v_load_even(i2 + offs[kw]), acc);
                        }
                    }
                    v_store(row + ow, acc);
                    continue;
                }
                if (sw == 1) {
                    for (int r = 0; r < nr; r++) {
                        const float *in = rows[r] + ow;
                        for (int64_t kw = 0; kw < KW; kw++)
                            acc = v_fmadd(v_set1(wts[r][kw]), v_load(in + offs[kw]), acc);
                    }
                } else {
                    for (int r = 0; r < nr; r++) {
                        const float *in = rows[r] + 2 * ow;
                        for (int64_t kw = 0; kw < KW; kw++)
                            acc = v_fmadd(v_set1(wts[r][kw]), v_load_even(in + offs[kw]), acc);
                    }
                }
                v_store(row + ow, acc);
                continue;
            }
            /* Border block: lane l of tap kw reads element (ow + l) * sw + off, valid
             * for lanes [lo, hi); the address is formed from integers because the
             * block may start before the row (those lanes are never read). */
            vf acc = bv;
            for (int64_t kw = 0; kw < KW; kw++) {
                int64_t e0 = ow * sw + offs[kw]; /* element of lane 0 */
                int64_t lo, hi;
                if (sw == 1) {
                    lo = e0 < 0 ? -e0 : 0;
                    hi = W - e0;
                } else {
                    lo = e0 < 0 ? (1 - e0) >> 1 : 0;
                    hi = W - e0 <= 0 ? 0 : (W - e0 + 1) >> 1;
                }
                if (hi > VW) hi = VW;
                if (hi <= lo) continue;
                for (int r = 0; r < nr; r++) {
                    const float *base = (const float *)(uintptr_t)((uintptr_t)rows[r] + (uintptr_t)(e0 * (int64_t)sizeof(float)));
                    vf v = sw == 1 ? v_load_range(base, lo, hi) : v_load_even_range(base, lo, hi);
                    acc = v_fmadd(v_set1(wts[r][kw]), v, acc);
                }
            }
            if (ow + VW <= WO)
                v_store(row + ow, acc);
            else
                v_store_n(row + ow, acc, (size_t)(WO - ow));
        }
    }
}

/* ---- misc ---------------------------------------------------------------------- */

static void VSUF(vec_scale_shift)(const float *x, float *y, size_t n, float m, float s, float t) {
    vf mv = v_set1(m), sv = v_set1(s), tv = v_set1(t);
    size_t i = 0;
    for (; i + VW <= n; i += VW) v_store(y + i, v_fmadd(v_sub(v_load(x + i), mv), sv, tv));
    if (i < n) v_store_n(y + i, v_fmadd(v_sub(v_load_n(x + i, n - i), mv), sv, tv), n - i);
}
