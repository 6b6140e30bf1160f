/* Binary and unary elementwise kernels: scalar references, the N-d
 * broadcasting driver, and dispatch to the per-ISA row kernels. */
#include <math.h>
#include <string.h>

#include "kernels/kinternal.h"

/* ---- scalar references -------------------------------------------------------- */

static float floor_div_f32(float a, float b) {
    /* torch's div_floor_floating: Python semantics, exact near integers. */
    if (b == 0.0f) return a / b;
    float mod = fmodf(a, b);
    float div = (a - mod) / b;
    if (mod != 0.0f && ((b < 0.0f) != (mod < 0.0f))) div -= 1.0f;
    float floordiv;
    if (div != 0.0f) {
        floordiv = floorf(div);
        if (div - floordiv > 0.5f) floordiv += 1.0f;
    } else {
        floordiv = copysignf(0.0f, a / b);
    }
    return floordiv;
}

static float mod_f32(float a, float b) {
    /* Python / torch.remainder: the result takes the sign of the divisor. */
    float mod = fmodf(a, b);
    if (mod != 0.0f && ((b < 0.0f) != (mod < 0.0f))) mod += b;
    return mod;
}

float cml_k_binary_scalar(cml_binary_op op, float a, float b) {
    switch (op) {
    case CML_BIN_ADD: return a + b;
    case CML_BIN_SUB: return a - b;
    case CML_BIN_MUL: return a * b;
    case CML_BIN_DIV: return a / b;
    case CML_BIN_FLOOR_DIV: return floor_div_f32(a, b);
    case CML_BIN_MOD: return mod_f32(a, b);
    case CML_BIN_POW: return powf(a, b);
    case CML_BIN_MAX: return (isnan(a) || isnan(b)) ? a + b : (a > b ? a : b);
    case CML_BIN_MIN: return (isnan(a) || isnan(b)) ? a + b : (a < b ? a : b);
    case CML_BIN_EQ: return a == b ? 1.0f : 0.0f;
    case CML_BIN_NE: return a != b ? 1.0f : 0.0f;
    case CML_BIN_GT: return a > b ? 1.0f : 0.0f;
    case CML_BIN_GE: return a >= b ? 1.0f : 0.0f;
    case CML_BIN_LT: return a < b ? 1.0f : 0.0f;
    case CML_BIN_LE: return a <= b ? 1.0f : 0.0f;
    }
    return 0.0f;
}

static float relu6f(float v) { return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v); }

float cml_k_unary_scalar(cml_unary_op op, float v, float alpha, float beta) {
    switch (op) {
    case CML_UN_RELU: return v < 0.0f ? 0.0f : v;
    case CML_UN_RELU6: return relu6f(v);
    case CML_UN_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case CML_UN_TANH: return tanhf(v);
    case CML_UN_GELU_EXACT: return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    case CML_UN_GELU_TANH: {
        float inner = 0.79788456080286536f * (v + 0.044715f * v * v * v);
        return 0.5f * v * (1.0f + tanhf(inner));
    }
    case CML_UN_GELU_SIGMOID: return v / (1.0f + expf(-1.702f * v));
    case CML_UN_SILU: return v / (1.0f + expf(-v));
    case CML_UN_HARDSIGMOID: return relu6f(v + 3.0f) / 6.0f;
    case CML_UN_HARDSWISH: return v * relu6f(v + 3.0f) / 6.0f;
    case CML_UN_EXP: return expf(v);
    case CML_UN_LOG: return logf(v);
    case CML_UN_SQRT: return sqrtf(v);
    case CML_UN_RSQRT: return 1.0f / sqrtf(v);
    case CML_UN_ABS: return fabsf(v);
    case CML_UN_NEG: return -v;
    case CML_UN_SIN: return sinf(v);
    case CML_UN_COS: return cosf(v);
    case CML_UN_TAN: return tanf(v);
    case CML_UN_ERF: return erff(v);
    case CML_UN_FLOOR: return floorf(v);
    case CML_UN_CEIL: return ceilf(v);
    case CML_UN_ROUND_EVEN: return nearbyintf(v);
    case CML_UN_SIGN: return isnan(v) ? v : (float)((0.0f < v) - (v < 0.0f));
    case CML_UN_SQUARE: return v * v;
    case CML_UN_RECIPROCAL: return 1.0f / v;
    case CML_UN_SOFTPLUS: return v > 20.0f ? v : log1pf(expf(v));
    case CML_UN_SOFTSIGN: return v / (1.0f + fabsf(v));
    case CML_UN_ELU: return v > 0.0f ? v : alpha * expm1f(v);
    case CML_UN_LEAKY_RELU: return v > 0.0f ? v : v * alpha;
    case CML_UN_CLAMP: return v < alpha ? alpha : (v > beta ? beta : v);
    case CML_UN_LINEAR: return alpha * v + beta;
    case CML_UN_ASIN: return asinf(v);
    case CML_UN_ACOS: return acosf(v);
    case CML_UN_ATAN: return atanf(v);
    case CML_UN_SINH: return sinhf(v);
    case CML_UN_COSH: return coshf(v);
    case CML_UN_ATANH: return atanhf(v);
    case CML_UN_EXP2: return exp2f(v);
    case CML_UN_THRESHOLD_RELU: return v >= alpha ? v : 0.0f;
    }
    return v;
}

void cml_k_unary_f32(cml_unary_op op, const float *x, float *y, size_t n, float alpha,
                     float beta) {
    const cml_vec_kit *kit = cml_k_vec_kit();
    if (kit->unary && kit->unary(op, x, y, n, alpha, beta)) return;
    for (size_t i = 0; i < n; i++) y[i] = cml_k_unary_scalar(op, x[i], alpha, beta);
}

/* ---- N-d iteration ---------------------------------------------------------------- */

typedef struct nd_shape {
    int rank;
    int64_t sizes[CML_MAX_DIMS];
    int64_t sa[CML_MAX_DIMS], sb[CML_MAX_DIMS], so[CML_MAX_DIMS];
} nd_shape;

/* Drops size-1 dims and merges dims that are contiguous for every operand.
 * Returns false when the index space is empty. A rank-0 input becomes rank 1
 * of size 1. so == NULL means a contiguous output. */
static bool nd_coalesce(int32_t rank, const int64_t *sizes, const int64_t *sa,
                        const int64_t *sb, const int64_t *so, nd_shape *s) {
    if (rank < 0) rank = 0;
    if (rank > CML_MAX_DIMS) rank = CML_MAX_DIMS;
    int64_t out_stride[CML_MAX_DIMS];
    int64_t acc = 1;
    for (int d = rank - 1; d >= 0; d--) {
        if (sizes[d] <= 0) return false;
        out_stride[d] = so ? so[d] : acc;
        acc *= sizes[d];
    }
    int r = 0;
    for (int d = 0; d < rank; d++) {
        if (sizes[d] == 1) continue;
        int64_t a = sa ? sa[d] : 0, b = sb ? sb[d] : 0, o = out_stride[d];
        if (r > 0) {
            int p = r - 1;
            if (s->sa[p] == a * sizes[d] && s->sb[p] == b * sizes[d] && s->so[p] == o * sizes[d]) {
                s->sizes[p] *= sizes[d];
                s->sa[p] = a;
                s->sb[p] = b;
                s->so[p] = o;
                continue;
            }
        }
        s->sizes[r] = sizes[d];
        s->sa[r] = a;
        s->sb[r] = b;
        s->so[r] = o;
        r++;
    }
    if (r == 0) {
        s->sizes[0] = 1;
        s->sa[0] = s->sb[0] = 0;
        s->so[0] = 1;
        r = 1;
    }
    s->rank = r;
    return true;
}

/* Calls body(offset_a, offset_b, offset_o) for every index of the outer
 * rank-1 dims, in row-major order. */
#define ND_FOR_OUTER(s, body)                                                             \
    do {                                                                                  \
        int64_t idx_[CML_MAX_DIMS] = {0};                                                 \
        int64_t oa_ = 0, ob_ = 0, oo_ = 0;                                                \
        int outer_ = (s)->rank - 1;                                                       \
        for (;;) {                                                                        \
            body(oa_, ob_, oo_);                                                          \
            int d_ = outer_ - 1;                                                          \
            for (; d_ >= 0; d_--) {                                                       \
                idx_[d_]++;                                                               \
                oa_ += (s)->sa[d_];                                                       \
                ob_ += (s)->sb[d_];                                                       \
                oo_ += (s)->so[d_];                                                       \
                if (idx_[d_] < (s)->sizes[d_]) break;                                     \
                oa_ -= (s)->sa[d_] * (s)->sizes[d_];                                      \
                ob_ -= (s)->sb[d_] * (s)->sizes[d_];                                      \
                oo_ -= (s)->so[d_] * (s)->sizes[d_];                                      \
                idx_[d_] = 0;                                                             \
            }                                                                             \
            if (d_ < 0) break;                                                            \
        }                                                                                 \
    } while (0)

/* ---- float binary ------------------------------------------------------------------- */

static void binary_row_f32(const cml_vec_kit *kit, cml_binary_op op, size_t n, const float *a,
                           int64_t sa, const float *b, int64_t sb, float *out, int64_t so) {
    if (so == 1 && (sa == 0 || sa == 1) && (sb == 0 || sb == 1) && kit->binary &&
        kit->binary(op, n, a, (size_t)sa, b, (size_t)sb, out))
        return;
#define BIN_LOOP(expr)                                                                    \
    for (size_t i = 0; i < n; i++) {                                                      \
        float x = a[(ptrdiff_t)i * sa], y = b[(ptrdiff_t)i * sb];                         \
        out[(ptrdiff_t)i * so] = (expr);                                                  \
    }                                                                                     \
    break;
    switch (op) {
    case CML_BIN_ADD: BIN_LOOP(x + y)
    case CML_BIN_SUB: BIN_LOOP(x - y)
    case CML_BIN_MUL: BIN_LOOP(x * y)
    case CML_BIN_DIV: BIN_LOOP(x / y)
    default: BIN_LOOP(cml_k_binary_scalar(op, x, y))
    }
#undef BIN_LOOP
}

void cml_k_binary_f32(cml_binary_op op, int32_t rank, const int64_t *out_sizes, const float *a,
                      const int64_t *a_strides, const float *b, const int64_t *b_strides,
                      float *out) {
    nd_shape s;
    if (!nd_coalesce(rank, out_sizes, a_strides, b_strides, NULL, &s)) return;
    const cml_vec_kit *kit = cml_k_vec_kit();
    int last = s.rank - 1;
    size_t n = (size_t)s.sizes[last];
    int64_t sa = s.sa[last], sb = s.sb[last], so = s.so[last];
#define ROW(oa, ob, oo) binary_row_f32(kit, op, n, a + (oa), sa, b + (ob), sb, out + (oo), so)
    ND_FOR_OUTER(&s, ROW);
#undef ROW
}

/* ---- integer binary ----------------------------------------------------------------- */

#define DEFINE_INT_BINARY(T, UT, TMIN, NAME)                                              \
    static T NAME##_scalar(cml_binary_op op, T a, T b) {                                  \
        switch (op) {                                                                     \
        case CML_BIN_ADD: return (T)((UT)a + (UT)b);                                      \
        case CML_BIN_SUB: return (T)((UT)a - (UT)b);                                      \
        case CML_BIN_MUL: return (T)((UT)a * (UT)b);                                      \
        case CML_BIN_DIV:                                                                 \
            if (b == 0) return 0;                                                         \
            if (b == -1) return (T)(0 - (UT)a);                                           \
            return a / b;                                                                 \
        case CML_BIN_FLOOR_DIV: {                                                         \
            if (b == 0) return 0;                                                         \
            if (b == -1) return (T)(0 - (UT)a);                                           \
            T q = a / b, r = a % b;                                                       \
            if (r != 0 && ((r < 0) != (b < 0))) q--;                                      \
            return q;                                                                     \
        }                                                                                 \
        case CML_BIN_MOD: {                                                               \
            if (b == 0 || b == -1) return 0;                                              \
            T r = a % b;                                                                  \
            if (r != 0 && ((r < 0) != (b < 0))) r += b;                                   \
            return r;                                                                     \
        }                                                                                 \
        case CML_BIN_POW: {                                                               \
            if (b < 0) return a == 1 ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0);            \
            UT result = 1, base = (UT)a;                                                  \
            for (T e = b; e > 0; e >>= 1) {                                               \
                if (e & 1) result *= base;                                                \
                base *= base;                                                             \
            }                                                                             \
            return (T)result;                                                             \
        }                                                                                 \
        case CML_BIN_MAX: return a > b ? a : b;                                           \
        case CML_BIN_MIN: return a < b ? a : b;                                           \
        case CML_BIN_EQ: return a == b;                                                   \
        case CML_BIN_NE: return a != b;                                                   \
        case CML_BIN_GT: return a > b;                                                    \
        case CML_BIN_GE: return a >= b;                                                   \
        case CML_BIN_LT: return a < b;                                                    \
        case CML_BIN_LE: return a <= b;                                                   \
        }                                                                                 \
        (void)(TMIN);                                                                     \
        return 0;                                                                         \
    }                                                                                     \
    static void NAME##_row(cml_binary_op op, size_t n, const T *a, int64_t sa, const T *b,\
                           int64_t sb, T *out, int64_t so) {                              \
        switch (op) {                                                                     \
        case CML_BIN_ADD:                                                                 \
            for (size_t i = 0; i < n; i++)                                                \
                out[(ptrdiff_t)i * so] =                                                  \
                    (T)((UT)a[(ptrdiff_t)i * sa] + (UT)b[(ptrdiff_t)i * sb]);             \
            break;                                                                        \
        case CML_BIN_MUL:                                                                 \
            for (size_t i = 0; i < n; i++)                                                \
                out[(ptrdiff_t)i * so] =                                                  \
                    (T)((UT)a[(ptrdiff_t)i * sa] * (UT)b[(ptrdiff_t)i * sb]);             \
            break;                                                                        \
        default:                                                                          \
            for (size_t i = 0; i < n; i++)                                                \
                out[(ptrdiff_t)i * so] =                                                  \
                    NAME##_scalar(op, a[(ptrdiff_t)i * sa], b[(ptrdiff_t)i * sb]);        \
            break;                                                                        \
        }                                                                                 \
    }

DEFINE_INT_BINARY(int64_t, uint64_t, INT64_MIN, bin_i64)
DEFINE_INT_BINARY(int32_t, uint32_t, INT32_MIN, bin_i32)

void cml_k_binary_i64(cml_binary_op op, int32_t rank, const int64_t *out_sizes, const int64_t *a,
                      const int64_t *a_strides, const int64_t *b, const int64_t *b_strides,
                      int64_t *out) {
    nd_shape s;
    if (!nd_coalesce(rank, out_sizes, a_strides, b_strides, NULL, &s)) return;
    int last = s.rank - 1;
    size_t n = (size_t)s.sizes[last];
    int64_t sa = s.sa[last], sb = s.sb[last], so = s.so[last];
#define ROW(oa, ob, oo) bin_i64_row(op, n, a + (oa), sa, b + (ob), sb, out + (oo), so)
    ND_FOR_OUTER(&s, ROW);
#undef ROW
}

void cml_k_binary_i32(cml_binary_op op, int32_t rank, const int64_t *out_sizes, const int32_t *a,
                      const int64_t *a_strides, const int32_t *b, const int64_t *b_strides,
                      int32_t *out) {
    nd_shape s;
    if (!nd_coalesce(rank, out_sizes, a_strides, b_strides, NULL, &s)) return;
    int last = s.rank - 1;
    size_t n = (size_t)s.sizes[last];
    int64_t sa = s.sa[last], sb = s.sb[last], so = s.so[last];
#define ROW(oa, ob, oo) bin_i32_row(op, n, a + (oa), sa, b + (ob), sb, out + (oo), so)
    ND_FOR_OUTER(&s, ROW);
#undef ROW
}

/* ---- strided copy ------------------------------------------------------------------ */

static void copy_row(size_t elem, size_t n, const unsigned char *src, int64_t ss,
                     unsigned char *dst, int64_t ds) {
    if (ss == 1 && ds == 1) {
        memcpy(dst, src, n * elem);
        return;
    }
#define COPY_T(T)                                                                         \
    {                                                                                     \
        const T *s_ = (const T *)(const void *)src;                                       \
        T *d_ = (T *)(void *)dst;                                                         \
        for (size_t i = 0; i < n; i++) d_[(ptrdiff_t)i * ds] = s_[(ptrdiff_t)i * ss];     \
        return;                                                                           \
    }
    switch (elem) {
    case 1: COPY_T(uint8_t)
    case 2: COPY_T(uint16_t)
    case 4: COPY_T(uint32_t)
    case 8: COPY_T(uint64_t)
    default: break;
    }
#undef COPY_T
    for (size_t i = 0; i < n; i++)
        memcpy(dst + (ptrdiff_t)i * ds * (ptrdiff_t)elem, src + (ptrdiff_t)i * ss * (ptrdiff_t)elem,
               elem);
}

void cml_k_copy_strided(size_t elem_size, int32_t rank, const int64_t *sizes, const void *src,
                        const int64_t *src_strides, void *dst, const int64_t *dst_strides) {
    nd_shape s;
    if (elem_size == 0) return;
    if (!nd_coalesce(rank, sizes, src_strides, NULL, dst_strides, &s)) return;
    const unsigned char *sp = src;
    unsigned char *dp = dst;
    int last = s.rank - 1;
    size_t n = (size_t)s.sizes[last];
    int64_t ss = s.sa[last], ds = s.so[last];
    ptrdiff_t es = (ptrdiff_t)elem_size;
#define ROW(oa, ob, oo)                                                                   \
    do {                                                                                  \
        (void)(ob);                                                                       \
        copy_row(elem_size, n, sp + (ptrdiff_t)(oa) * es, ss, dp + (ptrdiff_t)(oo) * es, ds); \
    } while (0)
    ND_FOR_OUTER(&s, ROW);
#undef ROW
}

void cml_k_gather_rows(const void *table, size_t row_bytes, const int64_t *idx, size_t n,
                       void *out) {
    const unsigned char *t = table;
    unsigned char *o = out;
    for (size_t i = 0; i < n; i++) memcpy(o + i * row_bytes, t + (size_t)idx[i] * row_bytes, row_bytes);
}
