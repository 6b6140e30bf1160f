/*
 * Unary elementwise ops and activations: relu, hardtanh, clamp, sigmoid,
 * tanh, gelu, silu, hardswish, hardsigmoid, leaky_relu, elu, exp, log, sqrt,
 * rsqrt, neg, abs, sin, cos, erf, floor, ceil, round, reciprocal.
 *
 * Float outputs compute in fp32 (fp16 and integer inputs are converted, fp16
 * outputs rounded on store). relu, neg, abs, clamp and hardtanh also accept
 * integer tensors with an integer output, computed in int64.
 */
#include <math.h>
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

enum un_params {
    UP_NONE,     /* (self, out) */
    UP_HARDTANH, /* (self, min_val, max_val, out) */
    UP_CLAMP,    /* (self, min?, max?, out) */
    UP_LEAKY,    /* (self, negative_slope, out) */
    UP_GELU,     /* (self, approximate, out) */
    UP_ELU,      /* (self, alpha, scale, input_scale, out) */
};

typedef struct un_spec {
    const char *name;
    cml_unary_op op;
    uint8_t params;
    uint8_t int_ok;
    uint8_t nargs;
} un_spec;

typedef struct un_args {
    cml_tensor *x, *out;
    cml_unary_op op;
    double alpha, beta;    /* kernel params (clamp: min, max) */
    bool has_min, has_max; /* clamp */
} un_args;

static cml_status un_read(cml_kernel_ctx *ctx, const un_spec *sp, cml_evalue **args, uint32_t nargs,
                          un_args *a) {
    const char *op = sp->name;
    if (nargs != sp->nargs)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "expected %u args, got %u", sp->nargs, nargs);
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &a->x));
    CML_TRY(cml_arg_tensor(ctx, op, args, nargs - 2, &a->out));
    a->op = sp->op;
    a->alpha = 0.0;
    a->beta = 0.0;
    a->has_min = a->has_max = true;
    switch (sp->params) {
    case UP_HARDTANH:
        CML_TRY(cml_arg_double(ctx, op, args, 1, &a->alpha));
        CML_TRY(cml_arg_double(ctx, op, args, 2, &a->beta));
        break;
    case UP_CLAMP:
        a->alpha = -INFINITY;
        a->beta = INFINITY;
        a->has_min = !cml_arg_is_none(args, 1);
        a->has_max = !cml_arg_is_none(args, 2);
        if (a->has_min) CML_TRY(cml_arg_double(ctx, op, args, 1, &a->alpha));
        if (a->has_max) CML_TRY(cml_arg_double(ctx, op, args, 2, &a->beta));
        break;
    case UP_LEAKY: CML_TRY(cml_arg_double(ctx, op, args, 1, &a->alpha)); break;
    case UP_GELU: {
        const char *s;
        uint32_t len;
        CML_TRY(cml_aten_arg_opt_str(ctx, op, args, 1, &s, &len));
        if (!s || (len == 4 && memcmp(s, "none", 4) == 0)) a->op = CML_UN_GELU_EXACT;
        else if (len == 4 && memcmp(s, "tanh", 4) == 0) a->op = CML_UN_GELU_TANH;
        else
            return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "approximate='%.*s' not supported",
                             (int)len, s);
        break;
    }
    case UP_ELU: {
        double scale, input_scale;
        CML_TRY(cml_arg_double(ctx, op, args, 1, &a->alpha));
        CML_TRY(cml_arg_double(ctx, op, args, 2, &scale));
        CML_TRY(cml_arg_double(ctx, op, args, 3, &input_scale));
        if (scale != 1.0 || input_scale != 1.0)
            return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op,
                             "scale=%g, input_scale=%g not supported (only 1)", scale, input_scale);
        break;
    }
    default: break;
    }
    return CML_OK;
}

static bool un_int_domain(const un_spec *sp, const un_args *a) {
    return sp->int_ok && cml_aten_is_int(a->out->dtype) && cml_aten_is_int(a->x->dtype);
}

static cml_status un_prepare(cml_kernel_ctx *ctx, const un_spec *sp, cml_evalue **args,
                             uint32_t nargs, size_t *scratch_bytes) {
    un_args a;
    CML_TRY(un_read(ctx, sp, args, nargs, &a));
    /* Elementwise over memory: any dim order, as long as both share it. */
    if ((!cml_tensor_is_contiguous(a.x) || !cml_tensor_is_contiguous(a.out)) &&
        !cml_aten_same_dim_order(a.x, a.out))
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, sp->name,
                         "input and output have different dim orders");
    if (un_int_domain(sp, &a)) {
        *scratch_bytes = cml_aten_i64_need(a.x) + cml_aten_i64_need(a.out);
        return CML_OK;
    }
    if (!cml_aten_is_float(a.out->dtype)) return cml_aten_bad_dtype(ctx, sp->name, "output", a.out->dtype);
    if (!cml_aten_is_float(a.x->dtype) && !cml_aten_is_int_or_bool(a.x->dtype))
        return cml_aten_bad_dtype(ctx, sp->name, "input", a.x->dtype);
    *scratch_bytes = cml_aten_f32_need(a.x) + cml_aten_f32_need(a.out);
    return CML_OK;
}

static cml_status un_run(cml_kernel_ctx *ctx, const un_spec *sp, cml_evalue **args,
                         uint32_t nargs) {
    const char *op = sp->name;
    un_args a;
    CML_TRY(un_read(ctx, sp, args, nargs, &a));
    CML_TRY(cml_aten_resize(ctx, op, a.out, a.x->rank, a.x->sizes));
    size_t n = (size_t)cml_tensor_numel(a.out);
    if (n == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    if (un_int_domain(sp, &a)) {
        const int64_t *x = cml_aten_load_i64(&s, a.x);
        int64_t *y = cml_aten_out_i64(&s, a.out);
        if (!x || !y) return cml_aten_scratch_short(ctx, op);
        int64_t lo = a.has_min ? cml_aten_double_to_i64(ceil(a.alpha)) : INT64_MIN;
        int64_t hi = a.has_max ? cml_aten_double_to_i64(floor(a.beta)) : INT64_MAX;
        for (size_t k = 0; k < n; k++) {
            int64_t v = x[k];
            switch (a.op) {
            case CML_UN_RELU: v = v > 0 ? v : 0; break;
            case CML_UN_NEG: v = (int64_t)(0 - (uint64_t)v); break;
            case CML_UN_ABS: v = v < 0 ? (int64_t)(0 - (uint64_t)v) : v; break;
            case CML_UN_CLAMP:
                v = v < lo ? lo : v;
                v = v > hi ? hi : v;
                break;
            default: break;
            }
            y[k] = v;
        }
        cml_aten_store_i64(a.out, y);
        return CML_OK;
    }
    const float *x = cml_aten_load_f32(&s, a.x);
    if (!x) return cml_aten_scratch_short(ctx, op);
    float *y;
    if (a.out->dtype == CML_DTYPE_FLOAT32) y = a.out->data;
    else if (x != a.x->data) y = (float *)x; /* reuse the staged input */
    else y = cml_aten_out_f32(&s, a.out);
    if (!y) return cml_aten_scratch_short(ctx, op);
    cml_k_unary_f32(a.op, x, y, n, (float)a.alpha, (float)a.beta);
    cml_aten_store_f32(a.out, y);
    return CML_OK;
}

#define UN_OP(fn, NAME, UOP, PARAMS, INT_OK, NARGS)                                                \
    static const un_spec fn##_spec = {NAME, UOP, PARAMS, INT_OK, NARGS};                           \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes) {                                             \
        return un_prepare(ctx, &fn##_spec, args, nargs, scratch_bytes);                          \
    }                                                                                            \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                \
        return un_run(ctx, &fn##_spec, args, nargs);                                             \
    }

UN_OP(cml_aten_relu_out,        "aten::relu.out",        CML_UN_RELU,        UP_NONE,     1, 3)
UN_OP(cml_aten_hardtanh_out,    "aten::hardtanh.out",    CML_UN_CLAMP,       UP_HARDTANH, 1, 5)
UN_OP(cml_aten_clamp_out,       "aten::clamp.out",       CML_UN_CLAMP,       UP_CLAMP,    1, 5)
UN_OP(cml_aten_sigmoid_out,     "aten::sigmoid.out",     CML_UN_SIGMOID,     UP_NONE,     0, 3)
UN_OP(cml_aten_tanh_out,        "aten::tanh.out",        CML_UN_TANH,        UP_NONE,     0, 3)
UN_OP(cml_aten_gelu_out,        "aten::gelu.out",        CML_UN_GELU_EXACT,  UP_GELU,     0, 4)
UN_OP(cml_aten_silu_out,        "aten::silu.out",        CML_UN_SILU,        UP_NONE,     0, 3)
UN_OP(cml_aten_hardswish_out,   "aten::hardswish.out",   CML_UN_HARDSWISH,   UP_NONE,     0, 3)
UN_OP(cml_aten_hardsigmoid_out, "aten::hardsigmoid.out", CML_UN_HARDSIGMOID, UP_NONE,     0, 3)
UN_OP(cml_aten_leaky_relu_out,  "aten::leaky_relu.out",  CML_UN_LEAKY_RELU,  UP_LEAKY,    0, 4)
UN_OP(cml_aten_elu_out,         "aten::elu.out",         CML_UN_ELU,         UP_ELU,      0, 6)
UN_OP(cml_aten_exp_out,         "aten::exp.out",         CML_UN_EXP,         UP_NONE,     0, 3)
UN_OP(cml_aten_log_out,         "aten::log.out",         CML_UN_LOG,         UP_NONE,     0, 3)
UN_OP(cml_aten_sqrt_out,        "aten::sqrt.out",        CML_UN_SQRT,        UP_NONE,     0, 3)
UN_OP(cml_aten_rsqrt_out,       "aten::rsqrt.out",       CML_UN_RSQRT,       UP_NONE,     0, 3)
UN_OP(cml_aten_neg_out,         "aten::neg.out",         CML_UN_NEG,         UP_NONE,     1, 3)
UN_OP(cml_aten_abs_out,         "aten::abs.out",         CML_UN_ABS,         UP_NONE,     1, 3)
UN_OP(cml_aten_sin_out,         "aten::sin.out",         CML_UN_SIN,         UP_NONE,     0, 3)
UN_OP(cml_aten_cos_out,         "aten::cos.out",         CML_UN_COS,         UP_NONE,     0, 3)
UN_OP(cml_aten_erf_out,         "aten::erf.out",         CML_UN_ERF,         UP_NONE,     0, 3)
UN_OP(cml_aten_floor_out,       "aten::floor.out",       CML_UN_FLOOR,       UP_NONE,     0, 3)
UN_OP(cml_aten_ceil_out,        "aten::ceil.out",        CML_UN_CEIL,        UP_NONE,     0, 3)
UN_OP(cml_aten_round_out,       "aten::round.out",       CML_UN_ROUND_EVEN,  UP_NONE,     0, 3)
UN_OP(cml_aten_reciprocal_out,  "aten::reciprocal.out",  CML_UN_RECIPROCAL,  UP_NONE,     0, 3)
