/* Elementwise kernel tests: binary (float, int64, int32) with broadcasting
 * and strides, unary ops against double references, dtype conversion,
 * fp16 rounding, strided copy and gather. Every ISA level. */
#include <float.h>
#include <string.h>

#include "core/fp16.h"
#include "harness.h"
#include "kernels/kernels.h"
#include "test_kernels_common.h"

/* ---- N-d helpers -------------------------------------------------------------- */

typedef struct shape {
    int rank;
    int64_t out[8];
    int64_t a_size[8], b_size[8];
    int64_t a_str[8], b_str[8]; /* element strides into a/b buffers (0 on broadcast) */
    size_t a_len, b_len, out_len;
} shape;

/* Random layout: each operand dim is out[d] or 1 (broadcast), stored under a
 * random dim permutation with a random extra gap. */
static void make_layout(int rank, const int64_t *out, int64_t *sz, int64_t *str, size_t *len,
                        bool allow_bcast) {
    int perm[8];
    for (int d = 0; d < rank; d++) {
        sz[d] = (allow_bcast && tk_int(0, 3) == 0) ? 1 : out[d];
        perm[d] = d;
    }
    if (tk_int(0, 1)) {
        for (int d = rank - 1; d > 0; d--) {
            int j = (int)tk_int(0, d);
            int t = perm[d];
            perm[d] = perm[j];
            perm[j] = t;
        }
    }
    int64_t s = 1 + (tk_int(0, 3) == 0 ? tk_int(1, 2) : 0) - 1;
    s = 1;
    int64_t gap = tk_int(0, 4) == 0 ? 2 : 1; /* non-unit innermost stride */
    s = gap;
    for (int i = rank - 1; i >= 0; i--) {
        int d = perm[i];
        str[d] = s;
        s *= sz[d];
    }
    for (int d = 0; d < rank; d++)
        if (sz[d] == 1 && out[d] != 1) str[d] = 0;
    *len = (size_t)s;
}

static void make_shape(shape *sh, int rank, bool bcast) {
    sh->rank = rank;
    sh->out_len = 1;
    for (int d = 0; d < rank; d++) {
        sh->out[d] = tk_int(1, rank >= 4 ? 4 : 9);
        if (d == rank - 1 && tk_int(0, 2) == 0) sh->out[d] = tk_int(20, 70);
        sh->out_len *= (size_t)sh->out[d];
    }
    make_layout(rank, sh->out, sh->a_size, sh->a_str, &sh->a_len, bcast);
    make_layout(rank, sh->out, sh->b_size, sh->b_str, &sh->b_len, bcast);
}

/* Offset of flat output index i in an operand. */
static size_t offset_of(const shape *sh, const int64_t *str, size_t i) {
    size_t off = 0;
    for (int d = sh->rank - 1; d >= 0; d--) {
        int64_t idx = (int64_t)(i % (size_t)sh->out[d]);
        i /= (size_t)sh->out[d];
        off += (size_t)(idx * str[d]);
    }
    return off;
}

/* ---- float binary ------------------------------------------------------------- */

static double ref_binary(cml_binary_op op, float fa, float fb) {
    double a = fa, b = fb;
    switch (op) {
    case CML_BIN_ADD: return (float)(a + b);
    case CML_BIN_SUB: return (float)(a - b);
    case CML_BIN_MUL: return (float)(a * b);
    case CML_BIN_DIV: return (float)(a / b);
    case CML_BIN_FLOOR_DIV: return b == 0 ? a / b : floor(a / b);
    case CML_BIN_MOD: {
        if (b == 0) return NAN;
        double r = fmod(a, b);
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        return (float)r;
    }
    case CML_BIN_POW: return pow(a, b);
    case CML_BIN_MAX: return (isnan(a) || isnan(b)) ? NAN : (a > b ? a : b);
    case CML_BIN_MIN: return (isnan(a) || isnan(b)) ? NAN : (a < b ? a : b);
    case CML_BIN_EQ: return a == b;
    case CML_BIN_NE: return a != b;
    case CML_BIN_GT: return a > b;
    case CML_BIN_GE: return a >= b;
    case CML_BIN_LT: return a < b;
    case CML_BIN_LE: return a <= b;
    }
    return 0;
}

static float rand_operand(void) {
    int64_t r = tk_int(0, 40);
    if (r == 0) return 0.0f;
    if (r == 1) return NAN;
    if (r == 2) return INFINITY;
    if (r == 3) return -INFINITY;
    if (r < 12) return (float)tk_int(-6, 6); /* ties and exact multiples */
    return tk_uniform(-5.0f, 5.0f);
}

static void test_binary_f32(void) {
    tk_seed(7);
    int failures = 0;
    for (int t = 0; t < 300; t++) {
        shape sh;
        int rank = (int)tk_int(0, 5);
        make_shape(&sh, rank, tk_int(0, 3) != 0);
        if (tk_int(0, 5) == 0 && rank > 0) { /* scalar b */
            for (int d = 0; d < rank; d++) sh.b_str[d] = 0;
            sh.b_len = 1;
        }
        float *a = malloc(sh.a_len * sizeof *a), *b = malloc(sh.b_len * sizeof *b);
        float *out = malloc((sh.out_len + 1) * sizeof *out);
        for (size_t i = 0; i < sh.a_len; i++) a[i] = rand_operand();
        for (size_t i = 0; i < sh.b_len; i++) b[i] = rand_operand();
        for (int op = CML_BIN_ADD; op <= CML_BIN_LE; op++) {
            for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
                tk_set_level(lvl);
                out[sh.out_len] = 777.0f;
                cml_k_binary_f32((cml_binary_op)op, rank, sh.out, a, sh.a_str, b, sh.b_str, out);
                if (out[sh.out_len] != 777.0f) failures++;
                for (size_t i = 0; i < sh.out_len; i++) {
                    float x = a[offset_of(&sh, sh.a_str, i)], y = b[offset_of(&sh, sh.b_str, i)];
                    double want = ref_binary((cml_binary_op)op, x, y);
                    float rtol = (op == CML_BIN_POW || op == CML_BIN_MOD) ? 2e-6f : 0.0f;
                    if (op == CML_BIN_FLOOR_DIV && isinf(y) && !isnan(x)) continue; /* torch-specific */
                    if (op == CML_BIN_FLOOR_DIV && isinf(x) && y != 0.0f) want = NAN; /* as torch */
                    if (!tk_close(out[i], (float)want, 0.0f, rtol)) {
                        if (failures < 10)
                            fprintf(stderr, "binary op %d lvl %d: %g op %g = %g, want %g\n", op, lvl,
                                    x, y, out[i], want);
                        failures++;
                    }
                }
            }
        }
        free(a);
        free(b);
        free(out);
    }
    tk_set_level(-1);
    CHECK_MSG(failures == 0, "%d float binary mismatches", failures);
    /* Python floor division / modulo signs */
    int64_t one = 1, zero_stride = 0;
    (void)zero_stride;
    float a = -7.0f, b = 2.0f, r;
    cml_k_binary_f32(CML_BIN_FLOOR_DIV, 1, &one, &a, &one, &b, &one, &r);
    CHECK(r == -4.0f);
    cml_k_binary_f32(CML_BIN_MOD, 1, &one, &a, &one, &b, &one, &r);
    CHECK(r == 1.0f);
    a = 7.0f;
    b = -2.0f;
    cml_k_binary_f32(CML_BIN_MOD, 1, &one, &a, &one, &b, &one, &r);
    CHECK(r == -1.0f);
    cml_k_binary_f32(CML_BIN_FLOOR_DIV, 1, &one, &a, &one, &b, &one, &r);
    CHECK(r == -4.0f);
    /* rank 0 */
    a = 3.0f;
    b = 4.0f;
    cml_k_binary_f32(CML_BIN_MUL, 0, NULL, &a, NULL, &b, NULL, &r);
    CHECK(r == 12.0f);
}

/* ---- integer binary ------------------------------------------------------------ */

static int64_t ref_int(cml_binary_op op, int64_t a, int64_t b, int bits) {
    __int128 A = a, B = b, r = 0;
    switch (op) {
    case CML_BIN_ADD: r = A + B; break;
    case CML_BIN_SUB: r = A - B; break;
    case CML_BIN_MUL: r = A * B; break;
    case CML_BIN_DIV: r = B == 0 ? 0 : A / B; break;
    case CML_BIN_FLOOR_DIV:
        if (B == 0) {
            r = 0;
        } else {
            r = A / B;
            if ((A % B != 0) && ((A < 0) != (B < 0))) r--;
        }
        break;
    case CML_BIN_MOD:
        if (B == 0) {
            r = 0;
        } else {
            r = A % B;
            if (r != 0 && ((r < 0) != (B < 0))) r += B;
        }
        break;
    case CML_BIN_POW: {
        if (b < 0) {
            r = a == 1 ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0);
        } else {
            uint64_t res = 1;
            for (int64_t e = 0; e < b; e++) res *= (uint64_t)a;
            r = (__int128)(int64_t)res;
            if (bits == 32) r = (int32_t)(uint32_t)res;
        }
        break;
    }
    case CML_BIN_MAX: r = A > B ? A : B; break;
    case CML_BIN_MIN: r = A < B ? A : B; break;
    case CML_BIN_EQ: r = A == B; break;
    case CML_BIN_NE: r = A != B; break;
    case CML_BIN_GT: r = A > B; break;
    case CML_BIN_GE: r = A >= B; break;
    case CML_BIN_LT: r = A < B; break;
    case CML_BIN_LE: r = A <= B; break;
    }
    /* wrap to the width */
    if (bits == 32) return (int32_t)(uint32_t)(unsigned __int128)r;
    return (int64_t)(uint64_t)(unsigned __int128)r;
}

static int64_t rand_int(int bits) {
    int64_t r = tk_int(0, 30);
    if (r == 0) return 0;
    if (r == 1) return bits == 32 ? INT32_MIN : INT64_MIN;
    if (r == 2) return -1;
    if (r == 3) return bits == 32 ? INT32_MAX : INT64_MAX;
    if (r < 8) return tk_int(-3, 3);
    return tk_int(-1000, 1000);
}

static void test_binary_int(void) {
    tk_seed(8);
    int failures = 0;
    for (int t = 0; t < 150; t++) {
        shape sh;
        int rank = (int)tk_int(0, 4);
        make_shape(&sh, rank, true);
        int64_t *a = malloc(sh.a_len * 8), *b = malloc(sh.b_len * 8), *o = malloc(sh.out_len * 8);
        int32_t *a32 = malloc(sh.a_len * 4), *b32 = malloc(sh.b_len * 4), *o32 = malloc(sh.out_len * 4);
        for (size_t i = 0; i < sh.a_len; i++) {
            a[i] = rand_int(64);
            a32[i] = (int32_t)rand_int(32);
        }
        for (size_t i = 0; i < sh.b_len; i++) {
            b[i] = rand_int(64);
            b32[i] = (int32_t)rand_int(32);
            if (tk_int(0, 3) == 0) { /* small exponents for POW */
                b[i] = tk_int(-2, 5);
                b32[i] = (int32_t)b[i];
            }
        }
        for (int op = CML_BIN_ADD; op <= CML_BIN_LE; op++) {
            cml_k_binary_i64((cml_binary_op)op, rank, sh.out, a, sh.a_str, b, sh.b_str, o);
            cml_k_binary_i32((cml_binary_op)op, rank, sh.out, a32, sh.a_str, b32, sh.b_str, o32);
            for (size_t i = 0; i < sh.out_len; i++) {
                size_t ia = offset_of(&sh, sh.a_str, i), ib = offset_of(&sh, sh.b_str, i);
                if (op == CML_BIN_POW && (b[ib] > 64 || b32[ib] > 64)) continue;
                int64_t w = ref_int((cml_binary_op)op, a[ia], b[ib], 64);
                int64_t w32 = ref_int((cml_binary_op)op, a32[ia], b32[ib], 32);
                if (o[i] != w || o32[i] != (int32_t)w32) {
                    if (failures < 10)
                        fprintf(stderr, "int op %d: %lld,%lld -> %lld want %lld | %d,%d -> %d want %d\n",
                                op, (long long)a[ia], (long long)b[ib], (long long)o[i],
                                (long long)w, a32[ia], b32[ib], o32[i], (int)w32);
                    failures++;
                }
            }
        }
        free(a), free(b), free(o), free(a32), free(b32), free(o32);
    }
    CHECK_MSG(failures == 0, "%d int binary mismatches", failures);
}

/* ---- unary --------------------------------------------------------------------------- */

static double relu6d(double v) { return v < 0 ? 0 : (v > 6 ? 6 : v); }

static double ref_unary(cml_unary_op op, double v, double al, double be) {
    switch (op) {
    case CML_UN_RELU: return v < 0 ? 0 : v;
    case CML_UN_RELU6: return relu6d(v);
    case CML_UN_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case CML_UN_TANH: return tanh(v);
    case CML_UN_GELU_EXACT: return 0.5 * v * erfc(-v / sqrt(2.0));
    case CML_UN_GELU_TANH: return 0.5 * v * (1.0 + tanh(sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
    case CML_UN_GELU_SIGMOID: return v / (1.0 + exp(-1.702 * v));
    case CML_UN_SILU: return v / (1.0 + exp(-v));
    case CML_UN_HARDSIGMOID: return relu6d(v + 3) / 6;
    case CML_UN_HARDSWISH: return (float)((float)v * (float)relu6d((float)v + 3.0f)) / 6.0f;
    case CML_UN_EXP: return exp(v);
    case CML_UN_LOG: return log(v);
    case CML_UN_SQRT: return sqrt(v);
    case CML_UN_RSQRT: return 1.0 / sqrt(v);
    case CML_UN_ABS: return fabs(v);
    case CML_UN_NEG: return -v;
    case CML_UN_SIN: return sin(v);
    case CML_UN_COS: return cos(v);
    case CML_UN_TAN: return tan(v);
    case CML_UN_ERF: return erf(v);
    case CML_UN_FLOOR: return floor(v);
    case CML_UN_CEIL: return ceil(v);
    case CML_UN_ROUND_EVEN: return nearbyint(v);
    case CML_UN_SIGN: return isnan(v) ? v : (v > 0) - (v < 0);
    case CML_UN_SQUARE: return v * v;
    case CML_UN_RECIPROCAL: return 1.0 / v;
    case CML_UN_SOFTPLUS: return v > 20 ? v : log1p(exp(v));
    case CML_UN_SOFTSIGN: return v / (1 + fabs(v));
    case CML_UN_ELU: return v > 0 ? v : al * expm1(v);
    case CML_UN_LEAKY_RELU: return v > 0 ? v : v * al;
    case CML_UN_CLAMP: return v < al ? al : (v > be ? be : v);
    case CML_UN_LINEAR: return al * v + be;
    case CML_UN_ASIN: return asin(v);
    case CML_UN_ACOS: return acos(v);
    case CML_UN_ATAN: return atan(v);
    case CML_UN_SINH: return sinh(v);
    case CML_UN_COSH: return cosh(v);
    case CML_UN_ATANH: return atanh(v);
    case CML_UN_EXP2: return exp2(v);
    case CML_UN_THRESHOLD_RELU: return v >= al ? v : 0;
    }
    return 0;
}

static void test_unary(void) {
    tk_seed(9);
    enum { N = 4099 };
    static float x[N], y[N + 1], y2[N + 1];
    static const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e-30f, 1e-40f,
                                     -1e-40f, 88.0f, 88.7f, 88.73f, 89.0f, 100.0f, -87.0f, -87.4f,
                                     -100.0f, -103.0f, -104.0f, -110.0f, 0.625f, -0.625f, 0.6249f,
                                     0.6251f, 9.0f, -9.0f, 20.0f, 20.5f, -3.0f, 3.0f, 6.0f, -6.0f,
                                     0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 1e6f, -1e6f, 3.4e38f, -3.4e38f};
    size_t ns = sizeof specials / sizeof specials[0];
    int failures = 0;
    for (int op = CML_UN_RELU; op <= CML_UN_THRESHOLD_RELU; op++) {
        float al = 0.5f, be = 0.0f;
        if (op == CML_UN_ELU) al = 1.3f;
        if (op == CML_UN_LEAKY_RELU) al = 0.01f;
        if (op == CML_UN_CLAMP) { al = -1.5f; be = 2.25f; }
        if (op == CML_UN_LINEAR) { al = 1.5f; be = -0.25f; }
        if (op == CML_UN_THRESHOLD_RELU) al = 0.3f;
        float range = 8.0f;
        if (op == CML_UN_ASIN || op == CML_UN_ACOS || op == CML_UN_ATANH) range = 1.0f;
        if (op == CML_UN_EXP || op == CML_UN_SIGMOID || op == CML_UN_SILU) range = 100.0f;
        for (size_t i = 0; i < N; i++) {
            if (i < ns) x[i] = specials[i];
            else if (i % 3 == 0) x[i] = tk_uniform(-range, range);
            else if (i % 3 == 1) x[i] = tk_uniform(-1.0f, 1.0f);
            else x[i] = tk_uniform(-range, range) * 0.05f;
        }
        for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
            tk_set_level(lvl);
            for (size_t n = 0; n < 40; n++) { /* tails */
                y[n] = 555.0f;
                cml_k_unary_f32((cml_unary_op)op, x + ns, y, n, al, be);
                if (y[n] != 555.0f) failures++;
            }
            y[N] = 555.0f;
            cml_k_unary_f32((cml_unary_op)op, x, y, N, al, be);
            if (y[N] != 555.0f) failures++;
            memcpy(y2, x, sizeof x); /* in place */
            cml_k_unary_f32((cml_unary_op)op, y2, y2, N, al, be);
            for (size_t i = 0; i < N; i++) {
                double want = ref_unary((cml_unary_op)op, x[i], al, be);
                float atol = 1e-36f, rtol = 2e-6f;
                if (op == CML_UN_GELU_EXACT || op == CML_UN_GELU_TANH)
                    atol = 4e-7f * fmaxf(1.0f, fabsf(x[i]));
                if (op == CML_UN_LINEAR) atol = 1.2e-7f * (fabsf(al * x[i]) + fabsf(be));
                if (op == CML_UN_TAN || op == CML_UN_SINH || op == CML_UN_COSH) rtol = 1e-5f;
                if ((op == CML_UN_SIN || op == CML_UN_COS || op == CML_UN_TAN) && fabsf(x[i]) > 1e5f)
                    continue; /* argument reduction of huge values */
                if ((float)want == 0.0f && fabs(want) > 0) want = 0.0; /* below float range */
                bool ok = tk_close(y[i], (float)want, atol, rtol) || (isinf((float)want) && y[i] == (float)want);
                if (!ok && isinf((float)want) != isinf(y[i]) && fabs(want) > 3.4e38) ok = false;
                if (!ok || !(y2[i] == y[i] || (isnan(y2[i]) && isnan(y[i])))) {
                    if (failures < 20)
                        fprintf(stderr, "unary op %d lvl %d x=%.9g: got %.9g want %.9g (in place %.9g)\n",
                                op, lvl, x[i], y[i], want, y2[i]);
                    failures++;
                }
            }
        }
    }
    tk_set_level(-1);
    CHECK_MSG(failures == 0, "%d unary mismatches", failures);
}

/* ---- conversion ------------------------------------------------------------------------ */

static const cml_dtype all_types[] = {
    CML_DTYPE_UINT8, CML_DTYPE_INT8, CML_DTYPE_INT16, CML_DTYPE_INT32, CML_DTYPE_INT64,
    CML_DTYPE_FLOAT16, CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT64, CML_DTYPE_BOOL, CML_DTYPE_BFLOAT16,
    CML_DTYPE_UINT16, CML_DTYPE_UINT32, CML_DTYPE_UINT64,
};
#define NTYPES (sizeof all_types / sizeof all_types[0])

static bool is_float_t(cml_dtype t) {
    return t == CML_DTYPE_FLOAT16 || t == CML_DTYPE_FLOAT32 || t == CML_DTYPE_FLOAT64 ||
           t == CML_DTYPE_BFLOAT16;
}

/* Range [lo, hi] of exactly representable integers for a type. */
static void int_range(cml_dtype t, double *lo, double *hi) {
    switch (t) {
    case CML_DTYPE_UINT8: *lo = 0; *hi = 255; break;
    case CML_DTYPE_INT8: *lo = -128; *hi = 127; break;
    case CML_DTYPE_INT16: *lo = -32768; *hi = 32767; break;
    case CML_DTYPE_INT32: *lo = -2147483648.0; *hi = 2147483647.0; break;
    case CML_DTYPE_INT64: *lo = -9223372036854775808.0; *hi = 9223372036854774784.0; break;
    case CML_DTYPE_UINT16: *lo = 0; *hi = 65535; break;
    case CML_DTYPE_UINT32: *lo = 0; *hi = 4294967295.0; break;
    case CML_DTYPE_UINT64: *lo = 0; *hi = 18446744073709549568.0; break;
    case CML_DTYPE_BOOL: *lo = 0; *hi = 1; break;
    default: *lo = -INFINITY; *hi = INFINITY; break;
    }
}

/* Stores a value known to be representable in t. */
static void put(cml_dtype t, void *p, double v) {
    switch (t) {
    case CML_DTYPE_UINT8: *(uint8_t *)p = (uint8_t)v; break;
    case CML_DTYPE_INT8: *(int8_t *)p = (int8_t)v; break;
    case CML_DTYPE_INT16: *(int16_t *)p = (int16_t)v; break;
    case CML_DTYPE_INT32: *(int32_t *)p = (int32_t)v; break;
    case CML_DTYPE_INT64: *(int64_t *)p = (int64_t)v; break;
    case CML_DTYPE_UINT16: *(uint16_t *)p = (uint16_t)v; break;
    case CML_DTYPE_UINT32: *(uint32_t *)p = (uint32_t)v; break;
    case CML_DTYPE_UINT64: *(uint64_t *)p = (uint64_t)v; break;
    case CML_DTYPE_BOOL: *(uint8_t *)p = v != 0; break;
    case CML_DTYPE_FLOAT32: *(float *)p = (float)v; break;
    case CML_DTYPE_FLOAT64: *(double *)p = v; break;
    case CML_DTYPE_FLOAT16: *(uint16_t *)p = cml_fp32_to_fp16((float)v); break;
    case CML_DTYPE_BFLOAT16: { float f = (float)v; uint32_t b; memcpy(&b, &f, 4); *(uint16_t *)p = (uint16_t)(b >> 16); break; }
    default: break; /* complex: not a conversion type */
    }
}

static double get(cml_dtype t, const void *p) {
    switch (t) {
    case CML_DTYPE_UINT8: return *(const uint8_t *)p;
    case CML_DTYPE_INT8: return *(const int8_t *)p;
    case CML_DTYPE_INT16: return *(const int16_t *)p;
    case CML_DTYPE_INT32: return *(const int32_t *)p;
    case CML_DTYPE_INT64: return (double)*(const int64_t *)p;
    case CML_DTYPE_UINT16: return *(const uint16_t *)p;
    case CML_DTYPE_UINT32: return *(const uint32_t *)p;
    case CML_DTYPE_UINT64: return (double)*(const uint64_t *)p;
    case CML_DTYPE_BOOL: return *(const uint8_t *)p;
    case CML_DTYPE_FLOAT32: return *(const float *)p;
    case CML_DTYPE_FLOAT64: return *(const double *)p;
    case CML_DTYPE_FLOAT16: return cml_fp16_to_fp32(*(const uint16_t *)p);
    case CML_DTYPE_BFLOAT16: return cml_bf16_to_fp32(*(const uint16_t *)p);
    default: break; /* complex: not a conversion type */
    }
    return 0;
}

/* Values exactly representable in bfloat16 (and so in every float type) or
 * small integers, so the expected result is unambiguous. */
static const double conv_values[] = {0, 1, -1, 2, 3, -3, 7, 100, -100, 127, -128, 128, 255, 256,
                                     -129, 1000, -1000, 0.5, -0.5, 1.5, -1.5, 2.75, -2.75, 0.125,
                                     65280, -32768, 32512, 8589934592.0, -8589934592.0,
                                     1.7014118346046923e38, -1.7014118346046923e38};

static void test_convert(void) {
    int failures = 0;
    size_t nv = sizeof conv_values / sizeof conv_values[0];
    for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
        tk_set_level(lvl);
        for (size_t si = 0; si < NTYPES; si++) {
            for (size_t di = 0; di < NTYPES; di++) {
                cml_dtype st = all_types[si], dt = all_types[di];
                double slo, shi, dlo, dhi;
                int_range(st, &slo, &shi);
                int_range(dt, &dlo, &dhi);
                unsigned char src[64 * 8], dst[64 * 8 + 8];
                double vals[64];
                size_t n = 0;
                for (size_t k = 0; k < nv; k++) {
                    double v = conv_values[k];
                    if (!is_float_t(st) && (v != floor(v) || v < slo || v > shi)) continue;
                    if (st == CML_DTYPE_FLOAT16 && fabs(v) > 65504) continue;
                    double expect = v;
                    if (!is_float_t(dt)) {
                        expect = dt == CML_DTYPE_BOOL ? (v != 0) : trunc(v);
                        if (expect < dlo || expect > dhi) continue; /* out of range: tested separately */
                    }
                    vals[n] = v;
                    put(st, src + n * cml_dtype_size(st), v);
                    n++;
                }
                memset(dst, 0xab, sizeof dst);
                CHECK(cml_k_convert(st, src, dt, dst, n));
                if (dst[n * cml_dtype_size(dt)] != 0xab) failures++;
                for (size_t k = 0; k < n; k++) {
                    double v = vals[k], want;
                    if (dt == CML_DTYPE_BOOL) want = v != 0;
                    else if (!is_float_t(dt)) want = trunc(v);
                    else if (dt == CML_DTYPE_FLOAT16) want = cml_fp16_to_fp32(cml_fp32_to_fp16((float)v));
                    else if (dt == CML_DTYPE_FLOAT32 || dt == CML_DTYPE_BFLOAT16) want = (float)v;
                    else want = v;
                    double got = get(dt, dst + k * cml_dtype_size(dt));
                    if (got != want) {
                        if (failures < 10)
                            fprintf(stderr, "convert %d -> %d lvl %d: %g -> %g, want %g\n", st, dt,
                                    lvl, v, got, want);
                        failures++;
                    }
                }
            }
        }
    }
    tk_set_level(-1);
    CHECK_MSG(failures == 0, "%d conversion mismatches", failures);
    CHECK(!cml_k_convert((cml_dtype)99, NULL, CML_DTYPE_FLOAT32, NULL, 0));
    CHECK(!cml_k_convert(CML_DTYPE_FLOAT32, NULL, (cml_dtype)42, NULL, 0));

    /* specific semantics */
    float f[6] = {-1.0f, 300.0f, NAN, 2.9f, -2.9f, 3e9f};
    uint8_t u8[6];
    int32_t i32[6];
    int64_t i64[6];
    uint8_t bl[6];
    cml_k_convert(CML_DTYPE_FLOAT32, f, CML_DTYPE_UINT8, u8, 6);
    CHECK(u8[0] == 255 && u8[1] == 44 && u8[3] == 2 && u8[4] == 254);
    cml_k_convert(CML_DTYPE_FLOAT32, f, CML_DTYPE_INT32, i32, 6);
    CHECK(i32[2] == INT32_MIN && i32[3] == 2 && i32[4] == -2 && i32[5] == INT32_MIN);
    cml_k_convert(CML_DTYPE_FLOAT32, f, CML_DTYPE_INT64, i64, 6);
    CHECK(i64[2] == INT64_MIN && i64[5] == 3000000000LL);
    cml_k_convert(CML_DTYPE_FLOAT32, f, CML_DTYPE_BOOL, bl, 6);
    CHECK(bl[0] == 1 && bl[2] == 1);
    uint8_t bsrc[3] = {0, 1, 7}, bdst[3];
    cml_k_convert(CML_DTYPE_BOOL, bsrc, CML_DTYPE_BOOL, bdst, 3);
    CHECK(bdst[0] == 0 && bdst[1] == 1 && bdst[2] == 1);
    int64_t big = (1LL << 53) + 1, bigout = 0;
    cml_k_convert(CML_DTYPE_INT64, &big, CML_DTYPE_INT64, &bigout, 1);
    CHECK(bigout == big);
    uint64_t ubig = 18446744073709551615ull;
    int64_t ubig_s = 0;
    cml_k_convert(CML_DTYPE_UINT64, &ubig, CML_DTYPE_INT64, &ubig_s, 1);
    CHECK(ubig_s == -1);
    /* float64 -> fp16 rounds once: 1 + 2^-11 + 2^-40 is above the halfway point */
    double d = 1.0 + ldexp(1.0, -11) + ldexp(1.0, -40);
    uint16_t h = 0;
    cml_k_convert(CML_DTYPE_FLOAT64, &d, CML_DTYPE_FLOAT16, &h, 1);
    CHECK(h == 0x3c01);
    /* bf16 round to nearest even */
    float fb[3] = {1.0f + ldexpf(1.0f, -8), 1.0f + 3 * ldexpf(1.0f, -8), NAN};
    uint16_t b16[3];
    cml_k_convert(CML_DTYPE_FLOAT32, fb, CML_DTYPE_BFLOAT16, b16, 3);
    CHECK(b16[0] == 0x3f80 && b16[1] == 0x3f82 && (b16[2] & 0x7fc0) == 0x7fc0);

    /* fp16 <-> fp32: every half, and a sweep of floats, at every level vs the scalar reference */
    static uint16_t halves[65536], hout[65536];
    static float fl[65536];
    for (uint32_t i = 0; i < 65536; i++) halves[i] = (uint16_t)i;
    int bad = 0;
    for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
        tk_set_level(lvl);
        for (size_t off = 0; off < 3; off++) {
            cml_k_convert(CML_DTYPE_FLOAT16, halves + off, CML_DTYPE_FLOAT32, fl + off, 65536 - off);
            for (uint32_t i = (uint32_t)off; i < 65536; i++) {
                float w = cml_fp16_to_fp32((uint16_t)i);
                if (memcmp(&w, &fl[i], 4) != 0 && !(isnan(w) && isnan(fl[i]))) bad++;
            }
        }
        for (uint64_t base = 0; base < 0x100000000ull; base += 65536ull * 977) {
            for (uint32_t i = 0; i < 65536; i++) {
                uint32_t bits = (uint32_t)(base + (uint64_t)i * 977u * 13u);
                memcpy(&fl[i], &bits, 4);
            }
            cml_k_convert(CML_DTYPE_FLOAT32, fl, CML_DTYPE_FLOAT16, hout, 65533);
            for (uint32_t i = 0; i < 65533; i++) {
                uint16_t w = cml_fp32_to_fp16(fl[i]);
                if (w != hout[i] && !(isnan(fl[i]) && (hout[i] & 0x7c00) == 0x7c00 && (hout[i] & 0x3ff)))
                    bad++;
            }
            float r[1001];
            memcpy(r, fl, sizeof r);
            cml_k_round_fp16(r, 1001);
            for (uint32_t i = 0; i < 1001; i++) {
                float w = cml_round_fp16(fl[i]);
                if (memcmp(&w, &r[i], 4) != 0 && !(isnan(w) && isnan(r[i]))) bad++;
            }
        }
    }
    tk_set_level(-1);
    CHECK_MSG(bad == 0, "%d fp16 conversion mismatches", bad);
}

/* ---- strided copy and gather ------------------------------------------------------------- */

static void test_copy_strided(void) {
    tk_seed(11);
    int failures = 0;
    size_t elems[] = {1, 2, 4, 8, 3, 12};
    for (int t = 0; t < 200; t++) {
        shape sh;
        int rank = (int)tk_int(0, 6);
        make_shape(&sh, rank, false);
        size_t es = elems[t % 6];
        unsigned char *src = malloc(sh.a_len * es), *dst = malloc(sh.b_len * es + es);
        for (size_t i = 0; i < sh.a_len * es; i++) src[i] = (unsigned char)tk_next();
        memset(dst, 0xcd, sh.b_len * es + es);
        cml_k_copy_strided(es, rank, sh.out, src, sh.a_str, dst, sh.b_str);
        for (size_t i = 0; i < sh.out_len; i++) {
            size_t ia = offset_of(&sh, sh.a_str, i), ib = offset_of(&sh, sh.b_str, i);
            if (memcmp(src + ia * es, dst + ib * es, es) != 0) failures++;
        }
        if (dst[sh.b_len * es] != 0xcd) failures++;
        free(src);
        free(dst);
    }
    CHECK_MSG(failures == 0, "%d strided copy mismatches", failures);

    float table[5][3];
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 3; j++) table[i][j] = (float)(i * 10 + j);
    int64_t idx[4] = {4, 0, 4, 2};
    float out[4][3];
    cml_k_gather_rows(table, sizeof table[0], idx, 4, out);
    CHECK(out[0][0] == 40 && out[1][2] == 2 && out[2][1] == 41 && out[3][0] == 20);
}

int main(void) {
    test_binary_f32();
    test_binary_int();
    test_unary();
    test_convert();
    test_copy_strided();
    TEST_MAIN_END();
}
