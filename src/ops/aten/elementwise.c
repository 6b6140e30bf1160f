/*
 * Binary elementwise ops (add/sub/mul/div/pow/max/min/floor_divide and the
 * comparisons, Tensor and Scalar forms) and where.self_out.
 *
 * Broadcasting is NumPy's. The compute domain follows the output dtype:
 * a float output (fp32/fp16) computes in fp32 with every operand converted
 * (fp16, ints, bool); an integer output computes in int64 and requires
 * integer/bool operands. Comparisons compute in int64 when both operands are
 * integral, else fp32, and write any output dtype (normally bool).
 */
#include <math.h>
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

enum bin_kind {
    BK_ARITH,   /* add, sub, mul, maximum, minimum, pow, floor_divide */
    BK_TRUEDIV, /* div without rounding mode */
    BK_CMP,     /* eq/ne/lt/le/gt/ge */
};

enum { MODE_NONE, MODE_TRUNC, MODE_FLOOR };

typedef struct bin_spec {
    const char *name;
    cml_binary_op op;
    uint8_t kind;
    uint8_t self_scalar;  /* pow.Scalar_out */
    uint8_t other_scalar; /* *.Scalar_out */
    uint8_t has_alpha;    /* arg 2 is alpha */
    uint8_t has_mode;     /* arg 2 is rounding_mode */
    uint8_t rsub;         /* out = other - alpha * self */
    uint8_t nargs;
} bin_spec;

typedef struct operand {
    const cml_tensor *t; /* NULL for a Scalar */
    double d;
    int64_t i;
    bool is_int;
} operand;

static int32_t opd_rank(const operand *o) { return o->t ? o->t->rank : 0; }
static const int64_t *opd_sizes(const operand *o) { return o->t ? o->t->sizes : NULL; }
static bool opd_is_float(const operand *o) {
    return o->t ? !cml_aten_is_int_or_bool(o->t->dtype) : !o->is_int;
}

static cml_status read_operand(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                               bool scalar, operand *o) {
    memset(o, 0, sizeof *o);
    if (scalar) return cml_aten_arg_scalar(ctx, op, args, i, &o->d, &o->i, &o->is_int);
    cml_tensor *t;
    CML_TRY(cml_arg_tensor(ctx, op, args, i, &t));
    o->t = t;
    return CML_OK;
}

static cml_status check_operand_tensor(cml_kernel_ctx *ctx, const char *op, const operand *o,
                                       const char *what) {
    if (!o->t) return CML_OK;
    cml_dtype dt = o->t->dtype;
    if (!cml_aten_is_float(dt) && !cml_aten_is_int_or_bool(dt)) return cml_aten_bad_dtype(ctx, op, what, dt);
    return CML_OK; /* any dim order: operands are read through their strides */
}

typedef struct bin_args {
    operand x, y;
    double alpha_d;
    int64_t alpha_i;
    bool alpha_int;
    int mode;
    cml_tensor *out;
    cml_dtype domain; /* FLOAT32 or INT64 */
} bin_args;

static cml_status bin_read(cml_kernel_ctx *ctx, const bin_spec *sp, cml_evalue **args,
                           uint32_t nargs, bin_args *a) {
    const char *op = sp->name;
    if (nargs != sp->nargs)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "expected %u args, got %u", sp->nargs, nargs);
    CML_TRY(read_operand(ctx, op, args, 0, sp->self_scalar, &a->x));
    CML_TRY(read_operand(ctx, op, args, 1, sp->other_scalar, &a->y));
    a->alpha_d = 1.0;
    a->alpha_i = 1;
    a->alpha_int = true;
    a->mode = MODE_NONE;
    if (sp->has_alpha)
        CML_TRY(cml_aten_arg_scalar(ctx, op, args, 2, &a->alpha_d, &a->alpha_i, &a->alpha_int));
    if (sp->has_mode) {
        const char *s;
        uint32_t len;
        CML_TRY(cml_aten_arg_opt_str(ctx, op, args, 2, &s, &len));
        if (!s) a->mode = MODE_NONE;
        else if (len == 5 && memcmp(s, "trunc", 5) == 0) a->mode = MODE_TRUNC;
        else if (len == 5 && memcmp(s, "floor", 5) == 0) a->mode = MODE_FLOOR;
        else
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "unknown rounding_mode '%.*s'", (int)len, s);
    }
    CML_TRY(cml_arg_tensor(ctx, op, args, nargs - 2, &a->out));

    /* Domain. */
    bool any_float = opd_is_float(&a->x) || opd_is_float(&a->y);
    cml_dtype od = a->out->dtype;
    if (sp->kind == BK_CMP) {
        if (!cml_aten_is_float(od) && !cml_aten_is_int_or_bool(od)) return cml_aten_bad_dtype(ctx, op, "output", od);
        a->domain = any_float ? CML_DTYPE_FLOAT32 : CML_DTYPE_INT64;
        return CML_OK;
    }
    if (cml_aten_is_float(od)) {
        a->domain = CML_DTYPE_FLOAT32;
    } else if (cml_aten_is_int(od)) {
        if (any_float)
            return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op,
                             "a floating-point operand cannot produce an %s output",
                             cml_dtype_name(od));
        if (sp->kind == BK_TRUEDIV && a->mode == MODE_NONE)
            return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op,
                             "true division cannot produce an %s output", cml_dtype_name(od));
        if (sp->has_alpha && !a->alpha_int)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op,
                             "alpha must be integral for integer operands");
        a->domain = CML_DTYPE_INT64;
    } else {
        return cml_aten_bad_dtype(ctx, op, "output", od);
    }
    return CML_OK;
}

static bool alpha_is_one(const bin_args *a) {
    return a->alpha_int ? a->alpha_i == 1 : a->alpha_d == 1.0;
}

static cml_status bin_prepare(cml_kernel_ctx *ctx, const bin_spec *sp, cml_evalue **args,
                              uint32_t nargs, size_t *scratch_bytes) {
    bin_args a;
    CML_TRY(bin_read(ctx, sp, args, nargs, &a));
    CML_TRY(check_operand_tensor(ctx, sp->name, &a.x, "self"));
    CML_TRY(check_operand_tensor(ctx, sp->name, &a.y, "other"));
    size_t es = a.domain == CML_DTYPE_FLOAT32 ? sizeof(float) : sizeof(int64_t);
    size_t need = 0;
    const operand *scaled = sp->has_alpha && !alpha_is_one(&a) ? (sp->rsub ? &a.x : &a.y) : NULL;
    const operand *ops[2] = {&a.x, &a.y};
    for (int k = 0; k < 2; k++) {
        const cml_tensor *t = ops[k]->t;
        if (!t) continue;
        if (t->dtype != a.domain || ops[k] == scaled) need += cml_aten_align(cml_aten_bound_numel(t) * es);
    }
    if (a.out->dtype != a.domain) need += cml_aten_align(cml_aten_bound_numel(a.out) * es);
    *scratch_bytes = need;
    return CML_OK;
}

/* Loads an operand in the compute domain: pointer + broadcast strides. */
static cml_status load_operand(cml_kernel_ctx *ctx, const char *op, cml_aten_scratch *s, cml_dtype domain,
                               const operand *o, bool scale, double alpha_d, int64_t alpha_i,
                               int32_t rank, const int64_t *sizes, void *scalar_slot,
                               const void **ptr, int64_t *strides) {
    if (!o->t) {
        if (domain == CML_DTYPE_FLOAT32) {
            double v = o->is_int ? (double)o->i : o->d;
            *(float *)scalar_slot = (float)(scale ? v * alpha_d : v);
        } else {
            *(int64_t *)scalar_slot = scale ? (int64_t)((uint64_t)o->i * (uint64_t)alpha_i) : o->i;
        }
        for (int32_t d = 0; d < rank; d++) strides[d] = 0;
        *ptr = scalar_slot;
        return CML_OK;
    }
    cml_aten_tensor_bcast_strides(o->t, rank, sizes, strides);
    size_t n = (size_t)cml_tensor_numel(o->t);
    if (domain == CML_DTYPE_FLOAT32) {
        const float *p = cml_aten_load_f32(s, o->t);
        if (!p) return cml_aten_scratch_short(ctx, op);
        if (scale) {
            float *q = (p == o->t->data) ? cml_aten_scratch_alloc(s, n * sizeof(float)) : (float *)p;
            if (!q) return cml_aten_scratch_short(ctx, op);
            cml_k_unary_f32(CML_UN_LINEAR, p, q, n, (float)alpha_d, 0.0f);
            p = q;
        }
        *ptr = p;
    } else {
        const int64_t *p = cml_aten_load_i64(s, o->t);
        if (!p) return cml_aten_scratch_short(ctx, op);
        if (scale) {
            int64_t *q = (p == o->t->data) ? cml_aten_scratch_alloc(s, n * sizeof(int64_t)) : (int64_t *)p;
            if (!q) return cml_aten_scratch_short(ctx, op);
            for (size_t k = 0; k < n; k++) q[k] = (int64_t)((uint64_t)p[k] * (uint64_t)alpha_i);
            p = q;
        }
        *ptr = p;
    }
    return CML_OK;
}

static cml_status bin_run(cml_kernel_ctx *ctx, const bin_spec *sp, cml_evalue **args,
                          uint32_t nargs) {
    const char *op = sp->name;
    bin_args a;
    CML_TRY(bin_read(ctx, sp, args, nargs, &a));
    int32_t rank;
    int64_t sizes[CML_MAX_DIMS];
    CML_TRY(cml_aten_broadcast_shape(ctx, op, opd_rank(&a.x), opd_sizes(&a.x), opd_rank(&a.y),
                                 opd_sizes(&a.y), &rank, sizes));
    CML_TRY(cml_aten_resize(ctx, op, a.out, rank, sizes));
    size_t n = (size_t)cml_tensor_numel(a.out);
    if (n == 0) return CML_OK;

    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    bool scale = sp->has_alpha && !alpha_is_one(&a);
    union { float f; int64_t i; } xs, ys;
    const void *xp, *yp;
    int64_t xst[CML_MAX_DIMS], yst[CML_MAX_DIMS];
    CML_TRY(load_operand(ctx, op, &s, a.domain, &a.x, scale && sp->rsub, a.alpha_d, a.alpha_i, rank,
                         sizes, &xs, &xp, xst));
    CML_TRY(load_operand(ctx, op, &s, a.domain, &a.y, scale && !sp->rsub, a.alpha_d, a.alpha_i,
                         rank, sizes, &ys, &yp, yst));
    cml_binary_op bop = sp->op;
    if (sp->has_mode && a.mode == MODE_FLOOR) bop = CML_BIN_FLOOR_DIV;
    if (sp->rsub) { /* other - alpha * self */
        const void *tp = xp;
        xp = yp;
        yp = tp;
        int64_t tst[CML_MAX_DIMS];
        memcpy(tst, xst, sizeof tst);
        memcpy(xst, yst, sizeof tst);
        memcpy(yst, tst, sizeof tst);
    }

    /* Iterate in the output's memory order (it may be channels-last). */
    cml_aten_to_memory_order(a.out, rank, sizes, (int64_t *[]){xst, yst}, 2);

    if (a.domain == CML_DTYPE_FLOAT32) {
        float *o = a.out->dtype == CML_DTYPE_FLOAT32 ? (float *)a.out->data
                                                     : cml_aten_scratch_alloc(&s, n * sizeof(float));
        if (!o) return cml_aten_scratch_short(ctx, op);
        cml_k_binary_f32(bop, rank, sizes, xp, xst, yp, yst, o);
        if (sp->has_mode && a.mode == MODE_TRUNC)
            for (size_t k = 0; k < n; k++) o[k] = truncf(o[k]);
        if ((void *)o != a.out->data) cml_k_convert(CML_DTYPE_FLOAT32, o, a.out->dtype, a.out->data, n);
    } else {
        if (bop == CML_BIN_DIV || bop == CML_BIN_FLOOR_DIV || bop == CML_BIN_MOD) {
            const int64_t *q = yp;
            size_t yn = a.y.t ? (size_t)cml_tensor_numel(a.y.t) : 1;
            for (size_t k = 0; k < yn; k++)
                if (q[k] == 0)
                    return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "integer division by zero");
        }
        int64_t *o = a.out->dtype == CML_DTYPE_INT64 ? (int64_t *)a.out->data
                                                     : cml_aten_scratch_alloc(&s, n * sizeof(int64_t));
        if (!o) return cml_aten_scratch_short(ctx, op);
        cml_k_binary_i64(bop, rank, sizes, xp, xst, yp, yst, o);
        if ((void *)o != a.out->data) cml_k_convert(CML_DTYPE_INT64, o, a.out->dtype, a.out->data, n);
    }
    return CML_OK;
}

#define BIN_OP(fn, NAME, BOP, KIND, SELF_S, OTHER_S, ALPHA, MODE, RSUB, NARGS)                  \
    static const bin_spec fn##_spec = {NAME, BOP, KIND, SELF_S, OTHER_S, ALPHA, MODE, RSUB, NARGS}; \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes) {                                             \
        return bin_prepare(ctx, &fn##_spec, args, nargs, scratch_bytes);                         \
    }                                                                                            \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                \
        return bin_run(ctx, &fn##_spec, args, nargs);                                            \
    }

/*     function                name                         op              kind      ss os al md rs n */
BIN_OP(cml_aten_add_out,           "aten::add.out",             CML_BIN_ADD,    BK_ARITH, 0, 0, 1, 0, 0, 5)
BIN_OP(cml_aten_add_scalar_out,    "aten::add.Scalar_out",      CML_BIN_ADD,    BK_ARITH, 0, 1, 1, 0, 0, 5)
BIN_OP(cml_aten_sub_out,           "aten::sub.out",             CML_BIN_SUB,    BK_ARITH, 0, 0, 1, 0, 0, 5)
BIN_OP(cml_aten_sub_scalar_out,    "aten::sub.Scalar_out",      CML_BIN_SUB,    BK_ARITH, 0, 1, 1, 0, 0, 5)
BIN_OP(cml_aten_rsub_scalar_out,   "aten::rsub.Scalar_out",     CML_BIN_SUB,    BK_ARITH, 0, 1, 1, 0, 1, 5)
BIN_OP(cml_aten_mul_out,           "aten::mul.out",             CML_BIN_MUL,    BK_ARITH, 0, 0, 0, 0, 0, 4)
BIN_OP(cml_aten_mul_scalar_out,    "aten::mul.Scalar_out",      CML_BIN_MUL,    BK_ARITH, 0, 1, 0, 0, 0, 4)
BIN_OP(cml_aten_div_out,           "aten::div.out",             CML_BIN_DIV,    BK_TRUEDIV, 0, 0, 0, 0, 0, 4)
BIN_OP(cml_aten_div_out_mode,      "aten::div.out_mode",        CML_BIN_DIV,    BK_TRUEDIV, 0, 0, 0, 1, 0, 5)
BIN_OP(cml_aten_div_scalar_out,    "aten::div.Scalar_out",      CML_BIN_DIV,    BK_TRUEDIV, 0, 1, 0, 0, 0, 4)
BIN_OP(cml_aten_div_scalar_mode_out, "aten::div.Scalar_mode_out", CML_BIN_DIV,  BK_TRUEDIV, 0, 1, 0, 1, 0, 5)
BIN_OP(cml_aten_floor_divide_out,  "aten::floor_divide.out",    CML_BIN_FLOOR_DIV, BK_ARITH, 0, 0, 0, 0, 0, 4)
BIN_OP(cml_aten_maximum_out,       "aten::maximum.out",         CML_BIN_MAX,    BK_ARITH, 0, 0, 0, 0, 0, 4)
BIN_OP(cml_aten_minimum_out,       "aten::minimum.out",         CML_BIN_MIN,    BK_ARITH, 0, 0, 0, 0, 0, 4)
BIN_OP(cml_aten_pow_tensor_tensor_out, "aten::pow.Tensor_Tensor_out", CML_BIN_POW, BK_ARITH, 0, 0, 0, 0, 0, 4)
BIN_OP(cml_aten_pow_tensor_scalar_out, "aten::pow.Tensor_Scalar_out", CML_BIN_POW, BK_ARITH, 0, 1, 0, 0, 0, 4)
BIN_OP(cml_aten_pow_scalar_out,    "aten::pow.Scalar_out",      CML_BIN_POW,    BK_ARITH, 1, 0, 0, 0, 0, 4)
BIN_OP(cml_aten_eq_tensor_out,     "aten::eq.Tensor_out",       CML_BIN_EQ,     BK_CMP,   0, 0, 0, 0, 0, 4)
BIN_OP(cml_aten_eq_scalar_out,     "aten::eq.Scalar_out",       CML_BIN_EQ,     BK_CMP,   0, 1, 0, 0, 0, 4)
BIN_OP(cml_aten_ne_tensor_out,     "aten::ne.Tensor_out",       CML_BIN_NE,     BK_CMP,   0, 0, 0, 0, 0, 4)
BIN_OP(cml_aten_ne_scalar_out,     "aten::ne.Scalar_out",       CML_BIN_NE,     BK_CMP,   0, 1, 0, 0, 0, 4)
BIN_OP(cml_aten_lt_tensor_out,     "aten::lt.Tensor_out",       CML_BIN_LT,     BK_CMP,   0, 0, 0, 0, 0, 4)
BIN_OP(cml_aten_lt_scalar_out,     "aten::lt.Scalar_out",       CML_BIN_LT,     BK_CMP,   0, 1, 0, 0, 0, 4)
BIN_OP(cml_aten_le_tensor_out,     "aten::le.Tensor_out",       CML_BIN_LE,     BK_CMP,   0, 0, 0, 0, 0, 4)
BIN_OP(cml_aten_le_scalar_out,     "aten::le.Scalar_out",       CML_BIN_LE,     BK_CMP,   0, 1, 0, 0, 0, 4)
BIN_OP(cml_aten_gt_tensor_out,     "aten::gt.Tensor_out",       CML_BIN_GT,     BK_CMP,   0, 0, 0, 0, 0, 4)
BIN_OP(cml_aten_gt_scalar_out,     "aten::gt.Scalar_out",       CML_BIN_GT,     BK_CMP,   0, 1, 0, 0, 0, 4)
BIN_OP(cml_aten_ge_tensor_out,     "aten::ge.Tensor_out",       CML_BIN_GE,     BK_CMP,   0, 0, 0, 0, 0, 4)
BIN_OP(cml_aten_ge_scalar_out,     "aten::ge.Scalar_out",       CML_BIN_GE,     BK_CMP,   0, 1, 0, 0, 0, 4)

/* ---- where.self_out(Tensor condition, Tensor self, Tensor other, *, Tensor(a!) out) ---- */

static const char WHERE[] = "aten::where.self_out";

static cml_status where_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                             cml_tensor **c, cml_tensor **x, cml_tensor **y, cml_tensor **out) {
    if (nargs != 5) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, WHERE, "expected 5 args, got %u", nargs);
    CML_TRY(cml_arg_tensor(ctx, WHERE, args, 0, c));
    CML_TRY(cml_arg_tensor(ctx, WHERE, args, 1, x));
    CML_TRY(cml_arg_tensor(ctx, WHERE, args, 2, y));
    CML_TRY(cml_arg_tensor(ctx, WHERE, args, 3, out));
    return CML_OK;
}

cml_status cml_aten_where_self_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                       size_t *scratch_bytes) {
    cml_tensor *c, *x, *y, *out;
    CML_TRY(where_read(ctx, args, nargs, &c, &x, &y, &out));
    if (c->dtype != CML_DTYPE_BOOL && c->dtype != CML_DTYPE_UINT8)
        return cml_aten_bad_dtype(ctx, WHERE, "condition", c->dtype);
    const cml_tensor *ts[4] = {c, x, y, out};
    const char *names[4] = {"condition", "self", "other", "output"};
    for (int k = 0; k < 4; k++) {
        if (!cml_aten_is_float(ts[k]->dtype) && !cml_aten_is_int_or_bool(ts[k]->dtype))
            return cml_aten_bad_dtype(ctx, WHERE, names[k], ts[k]->dtype);
    }
    if (cml_aten_is_int_or_bool(out->dtype) && (cml_aten_is_float(x->dtype) || cml_aten_is_float(y->dtype)))
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, WHERE, "float operands with %s output",
                         cml_dtype_name(out->dtype));
    size_t es = cml_dtype_size(out->dtype), need = 0;
    if (x->dtype != out->dtype) need += cml_aten_align(cml_aten_bound_numel(x) * es);
    if (y->dtype != out->dtype) need += cml_aten_align(cml_aten_bound_numel(y) * es);
    *scratch_bytes = need;
    return CML_OK;
}

static const void *as_dtype(cml_aten_scratch *s, const cml_tensor *t, cml_dtype dt) {
    if (t->dtype == dt) return t->data;
    size_t n = (size_t)cml_tensor_numel(t);
    void *buf = cml_aten_scratch_alloc(s, n * cml_dtype_size(dt));
    if (!buf || (n && !cml_k_convert(t->dtype, t->data, dt, buf, n))) return NULL;
    return buf;
}

cml_status cml_aten_where_self_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *c, *x, *y, *out;
    CML_TRY(where_read(ctx, args, nargs, &c, &x, &y, &out));
    int32_t r1, rank;
    int64_t s1[CML_MAX_DIMS], sizes[CML_MAX_DIMS];
    CML_TRY(cml_aten_broadcast_shape(ctx, WHERE, c->rank, c->sizes, x->rank, x->sizes, &r1, s1));
    CML_TRY(cml_aten_broadcast_shape(ctx, WHERE, r1, s1, y->rank, y->sizes, &rank, sizes));
    CML_TRY(cml_aten_resize(ctx, WHERE, out, rank, sizes));
    size_t n = (size_t)cml_tensor_numel(out);
    if (n == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const uint8_t *xp = as_dtype(&s, x, out->dtype);
    const uint8_t *yp = as_dtype(&s, y, out->dtype);
    if (!xp || !yp) return cml_aten_scratch_short(ctx, WHERE);
    const uint8_t *cp = c->data;
    int64_t cs[CML_MAX_DIMS], xs[CML_MAX_DIMS], ys[CML_MAX_DIMS];
    cml_aten_tensor_bcast_strides(c, rank, sizes, cs);
    cml_aten_tensor_bcast_strides(x, rank, sizes, xs);
    cml_aten_tensor_bcast_strides(y, rank, sizes, ys);
    cml_aten_to_memory_order(out, rank, sizes, (int64_t *[]){cs, xs, ys}, 3);
    size_t es = cml_dtype_size(out->dtype);
    uint8_t *op = out->data;
    /* Odometer over all but the innermost dim. */
    int64_t idx[CML_MAX_DIMS] = {0};
    int64_t inner = rank ? sizes[rank - 1] : 1;
    int64_t ci = rank ? cs[rank - 1] : 0, xi = rank ? xs[rank - 1] : 0, yi = rank ? ys[rank - 1] : 0;
    int64_t co = 0, xo = 0, yo = 0;
    for (size_t done = 0; done < n; done += (size_t)inner) {
        for (int64_t k = 0; k < inner; k++) {
            const uint8_t *src = cp[co + k * ci] ? xp + (size_t)(xo + k * xi) * es
                                                 : yp + (size_t)(yo + k * yi) * es;
            memcpy(op, src, es);
            op += es;
        }
        for (int32_t d = rank - 2; d >= 0; d--) {
            idx[d]++;
            co += cs[d];
            xo += xs[d];
            yo += ys[d];
            if (idx[d] < sizes[d]) break;
            co -= cs[d] * sizes[d];
            xo -= xs[d] * sizes[d];
            yo -= ys[d] * sizes[d];
            idx[d] = 0;
        }
    }
    return CML_OK;
}

/* ---- logical_and/or/xor.out(Tensor self, Tensor other, *, Tensor(a!) out),
 *      logical_not.out(Tensor self, *, Tensor(a!) out) --------------------------------
 * Operands of any dtype are reduced to truth values (!= 0); the result is
 * written as 0/1 in the output dtype (normally bool). */

enum { LG_AND, LG_OR, LG_XOR, LG_NOT };

static cml_status logic_read(cml_kernel_ctx *ctx, const char *op, int kind, cml_evalue **args,
                             uint32_t nargs, cml_tensor **a, cml_tensor **b, cml_tensor **out) {
    uint32_t want = kind == LG_NOT ? 3 : 4;
    if (nargs != want)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "expected %u args, got %u", want, nargs);
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, a));
    *b = NULL;
    if (kind != LG_NOT) CML_TRY(cml_arg_tensor(ctx, op, args, 1, b));
    CML_TRY(cml_arg_tensor(ctx, op, args, nargs - 2, out));
    return CML_OK;
}

static cml_status logic_prepare(cml_kernel_ctx *ctx, const char *op, int kind, cml_evalue **args,
                                uint32_t nargs, size_t *scratch_bytes) {
    cml_tensor *a, *b, *out;
    CML_TRY(logic_read(ctx, op, kind, args, nargs, &a, &b, &out));
    const cml_tensor *ts[3] = {a, b, out};
    const char *names[3] = {"self", "other", "output"};
    size_t need = 0;
    for (int k = 0; k < 3; k++) {
        if (!ts[k]) continue;
        if (!cml_aten_is_float(ts[k]->dtype) && !cml_aten_is_int_or_bool(ts[k]->dtype))
            return cml_aten_bad_dtype(ctx, op, names[k], ts[k]->dtype);
        if (ts[k]->dtype != CML_DTYPE_BOOL) need += cml_aten_align(cml_aten_bound_numel(ts[k]));
    }
    if (kind == LG_NOT && !cml_aten_same_dim_order(a, out))
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "input and output dim orders differ");
    *scratch_bytes = need;
    return CML_OK;
}

static cml_status logic_run(cml_kernel_ctx *ctx, const char *op, int kind, cml_evalue **args,
                            uint32_t nargs) {
    cml_tensor *a, *b, *out;
    CML_TRY(logic_read(ctx, op, kind, args, nargs, &a, &b, &out));
    int32_t rank = a->rank;
    int64_t sizes[CML_MAX_DIMS];
    if (b) CML_TRY(cml_aten_broadcast_shape(ctx, op, a->rank, a->sizes, b->rank, b->sizes, &rank, sizes));
    else memcpy(sizes, a->sizes, sizeof sizes);
    CML_TRY(cml_aten_resize(ctx, op, out, rank, sizes));
    size_t n = (size_t)cml_tensor_numel(out);
    if (n == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const uint8_t *pa = as_dtype(&s, a, CML_DTYPE_BOOL);
    const uint8_t *pb = b ? as_dtype(&s, b, CML_DTYPE_BOOL) : NULL;
    uint8_t *po = out->dtype == CML_DTYPE_BOOL ? out->data : cml_aten_scratch_alloc(&s, n);
    if (!pa || (b && !pb) || !po) return cml_aten_scratch_short(ctx, op);
    if (!b) { /* same layout (checked at prepare) */
        for (size_t k = 0; k < n; k++) po[k] = !pa[k];
    } else {
        int64_t as[CML_MAX_DIMS], bs[CML_MAX_DIMS], idx[CML_MAX_DIMS] = {0};
        cml_aten_tensor_bcast_strides(a, rank, sizes, as);
        cml_aten_tensor_bcast_strides(b, rank, sizes, bs);
        cml_aten_to_memory_order(out, rank, sizes, (int64_t *[]){as, bs}, 2);
        int64_t inner = rank ? sizes[rank - 1] : 1;
        int64_t ai = rank ? as[rank - 1] : 0, bi = rank ? bs[rank - 1] : 0, ao = 0, bo = 0;
        uint8_t *w = po;
        for (size_t done = 0; done < n; done += (size_t)inner) {
            for (int64_t k = 0; k < inner; k++) {
                bool x = pa[ao + k * ai] != 0, y = pb[bo + k * bi] != 0;
                *w++ = (uint8_t)(kind == LG_AND ? (x && y) : kind == LG_OR ? (x || y) : (x != y));
            }
            for (int32_t d = rank - 2; d >= 0; d--) {
                idx[d]++;
                ao += as[d];
                bo += bs[d];
                if (idx[d] < sizes[d]) break;
                ao -= as[d] * sizes[d];
                bo -= bs[d] * sizes[d];
                idx[d] = 0;
            }
        }
    }
    if ((void *)po != out->data) cml_k_convert(CML_DTYPE_BOOL, po, out->dtype, out->data, n);
    return CML_OK;
}

#define LOGIC_OP(fn, NAME, KIND)                                                                 \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes) {                                             \
        return logic_prepare(ctx, NAME, KIND, args, nargs, scratch_bytes);                       \
    }                                                                                            \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                \
        return logic_run(ctx, NAME, KIND, args, nargs);                                          \
    }

LOGIC_OP(cml_aten_logical_and_out, "aten::logical_and.out", LG_AND)
LOGIC_OP(cml_aten_logical_or_out,  "aten::logical_or.out",  LG_OR)
LOGIC_OP(cml_aten_logical_xor_out, "aten::logical_xor.out", LG_XOR)
LOGIC_OP(cml_aten_logical_not_out, "aten::logical_not.out", LG_NOT)

/* ---- masked_fill.Scalar_out(Tensor self, Tensor mask, Scalar value, *, Tensor(a!) out) ---- */

static const char MFILL[] = "aten::masked_fill.Scalar_out";

static cml_status mfill_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **x,
                             cml_tensor **mask, double *d, int64_t *iv, bool *is_int,
                             cml_tensor **out) {
    if (nargs != 5) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, MFILL, "expected 5 args, got %u", nargs);
    CML_TRY(cml_arg_tensor(ctx, MFILL, args, 0, x));
    CML_TRY(cml_arg_tensor(ctx, MFILL, args, 1, mask));
    CML_TRY(cml_aten_arg_scalar(ctx, MFILL, args, 2, d, iv, is_int));
    CML_TRY(cml_arg_tensor(ctx, MFILL, args, 3, out));
    return CML_OK;
}

cml_status cml_aten_masked_fill_scalar_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                               size_t *scratch_bytes) {
    cml_tensor *x, *mask, *out;
    double d;
    int64_t iv;
    bool is_int;
    CML_TRY(mfill_read(ctx, args, nargs, &x, &mask, &d, &iv, &is_int, &out));
    if (mask->dtype != CML_DTYPE_BOOL && mask->dtype != CML_DTYPE_UINT8)
        return cml_aten_bad_dtype(ctx, MFILL, "mask", mask->dtype);
    if (!cml_aten_is_float(x->dtype) && !cml_aten_is_int_or_bool(x->dtype)) return cml_aten_bad_dtype(ctx, MFILL, "input", x->dtype);
    if (!cml_aten_is_float(out->dtype) && !cml_aten_is_int_or_bool(out->dtype))
        return cml_aten_bad_dtype(ctx, MFILL, "output", out->dtype);
    *scratch_bytes = x->dtype == out->dtype ? 0 : cml_aten_align(cml_aten_bound_numel(x) * cml_dtype_size(out->dtype));
    return CML_OK;
}

cml_status cml_aten_masked_fill_scalar_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *x, *mask, *out;
    double d;
    int64_t iv;
    bool is_int;
    CML_TRY(mfill_read(ctx, args, nargs, &x, &mask, &d, &iv, &is_int, &out));
    int32_t rank;
    int64_t sizes[CML_MAX_DIMS];
    CML_TRY(cml_aten_broadcast_shape(ctx, MFILL, x->rank, x->sizes, mask->rank, mask->sizes, &rank, sizes));
    CML_TRY(cml_aten_resize(ctx, MFILL, out, rank, sizes));
    size_t n = (size_t)cml_tensor_numel(out);
    if (n == 0) return CML_OK;
    uint8_t val[16];
    bool ok = (is_int || cml_aten_is_float(out->dtype))
                  ? (is_int ? cml_k_convert(CML_DTYPE_INT64, &iv, out->dtype, val, 1)
                            : cml_k_convert(CML_DTYPE_FLOAT64, &d, out->dtype, val, 1))
                  : false;
    if (!ok) { /* a float value into an integer output: saturating truncation */
        int64_t t = cml_aten_double_to_i64(d);
        if (!cml_k_convert(CML_DTYPE_INT64, &t, out->dtype, val, 1))
            return cml_aten_bad_dtype(ctx, MFILL, "output", out->dtype);
    }
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const uint8_t *xp = as_dtype(&s, x, out->dtype);
    if (!xp) return cml_aten_scratch_short(ctx, MFILL);
    const uint8_t *mp = mask->data;
    int64_t ms[CML_MAX_DIMS], xs[CML_MAX_DIMS], idx[CML_MAX_DIMS] = {0};
    cml_aten_tensor_bcast_strides(mask, rank, sizes, ms);
    cml_aten_tensor_bcast_strides(x, rank, sizes, xs);
    cml_aten_to_memory_order(out, rank, sizes, (int64_t *[]){ms, xs}, 2);
    size_t es = cml_dtype_size(out->dtype);
    uint8_t *op = out->data;
    int64_t inner = rank ? sizes[rank - 1] : 1;
    int64_t mi = rank ? ms[rank - 1] : 0, xi = rank ? xs[rank - 1] : 0, mo = 0, xo = 0;
    for (size_t done = 0; done < n; done += (size_t)inner) {
        for (int64_t k = 0; k < inner; k++) {
            memcpy(op, mp[mo + k * mi] ? val : xp + (size_t)(xo + k * xi) * es, es);
            op += es;
        }
        for (int32_t dd = rank - 2; dd >= 0; dd--) {
            idx[dd]++;
            mo += ms[dd];
            xo += xs[dd];
            if (idx[dd] < sizes[dd]) break;
            mo -= ms[dd] * sizes[dd];
            xo -= xs[dd] * sizes[dd];
            idx[dd] = 0;
        }
    }
    return CML_OK;
}

/* ---- bitwise_not.out(Tensor self, *, Tensor(a!) out): bool -> not, ints -> ~x --------- */

static const char BNOT[] = "aten::bitwise_not.out";

cml_status cml_aten_bitwise_not_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                        size_t *scratch_bytes) {
    cml_tensor *x, *out;
    if (nargs != 3) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, BNOT, "expected 3 args, got %u", nargs);
    CML_TRY(cml_arg_tensor(ctx, BNOT, args, 0, &x));
    CML_TRY(cml_arg_tensor(ctx, BNOT, args, 1, &out));
    if (!cml_aten_is_int_or_bool(x->dtype)) return cml_aten_bad_dtype(ctx, BNOT, "input", x->dtype);
    if (out->dtype != x->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, BNOT, "output dtype %s differs from input %s",
                         cml_dtype_name(out->dtype), cml_dtype_name(x->dtype));
    if (!cml_aten_same_dim_order(x, out))
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, BNOT, "input and output dim orders differ");
    *scratch_bytes = 0;
    return CML_OK;
}

cml_status cml_aten_bitwise_not_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *x, *out;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, BNOT, args, 0, &x));
    CML_TRY(cml_arg_tensor(ctx, BNOT, args, 1, &out));
    CML_TRY(cml_aten_resize(ctx, BNOT, out, x->rank, x->sizes));
    size_t n = (size_t)cml_tensor_numel(out);
    switch (x->dtype) {
    case CML_DTYPE_BOOL:
        for (size_t k = 0; k < n; k++) ((uint8_t *)out->data)[k] = !((const uint8_t *)x->data)[k];
        break;
    case CML_DTYPE_UINT8:
    case CML_DTYPE_INT8:
        for (size_t k = 0; k < n; k++) ((uint8_t *)out->data)[k] = (uint8_t)~((const uint8_t *)x->data)[k];
        break;
    case CML_DTYPE_INT16:
        for (size_t k = 0; k < n; k++) ((uint16_t *)out->data)[k] = (uint16_t)~((const uint16_t *)x->data)[k];
        break;
    case CML_DTYPE_INT32:
        for (size_t k = 0; k < n; k++) ((uint32_t *)out->data)[k] = ~((const uint32_t *)x->data)[k];
        break;
    default:
        for (size_t k = 0; k < n; k++) ((uint64_t *)out->data)[k] = ~((const uint64_t *)x->data)[k];
        break;
    }
    return CML_OK;
}
