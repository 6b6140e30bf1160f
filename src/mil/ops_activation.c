/*
 * Activations and elementwise unary ops, softmax.
 *
 * Most float ops are a short pipeline of cml_k_unary_f32 steps (x -> out,
 * then in place): log(x + eps) = LINEAR(1, eps) then LOG, scaled_tanh =
 * LINEAR(beta) then TANH then LINEAR(alpha), and so on. Per-channel ops
 * (prelu, softplus_parametric) apply the steps per [n, c] plane. abs, sign,
 * square, exp2 and threshold also take int32 (integer loop).
 *
 * Default epsilons of log (1e-45), rsqrt (1e-12) and inverse (1e-4) are
 * typed like x in coremltools, so for fp16 x they are the fp16 roundings
 * (0, 0 and ~1.0001e-4). coremltools always writes them anyway.
 */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "mil/ops.h"

#define MAX_STEPS 3

typedef struct un_step {
    cml_unary_op op;
    float alpha, beta;
} un_step;

typedef enum un_special {
    UN_PLAIN,       /* steps over the whole tensor */
    UN_PER_CHANNEL, /* prelu / softplus_parametric: alpha[c], beta[c] */
    UN_NOT,         /* logical_not */
} un_special;

typedef enum un_int { INT_NONE, INT_ABS, INT_SIGN, INT_SQUARE, INT_EXP2, INT_THRESHOLD } un_int;

typedef struct un_attr {
    un_special special;
    un_step steps[MAX_STEPS];
    int nsteps;
    un_int int_op;
    bool is_int;
    int64_t int_alpha;
    const float *ch_alpha, *ch_beta; /* per-channel params (graph-owned copies) */
    int64_t channels;
    bool parametric;                 /* softplus_parametric (else prelu) */
} un_attr;

typedef struct un_desc {
    const char *type;
    cml_unary_op op;
    un_int int_op;
} un_desc;

/* Ops that are a single kernel call without parameters. */
static const un_desc kPlain[] = {
    {"relu", CML_UN_RELU, INT_NONE},        {"relu6", CML_UN_RELU6, INT_NONE},
    {"sigmoid", CML_UN_SIGMOID, INT_NONE},  {"tanh", CML_UN_TANH, INT_NONE},
    {"silu", CML_UN_SILU, INT_NONE},        {"softplus", CML_UN_SOFTPLUS, INT_NONE},
    {"softsign", CML_UN_SOFTSIGN, INT_NONE}, {"sqrt", CML_UN_SQRT, INT_NONE},
    {"exp", CML_UN_EXP, INT_NONE},          {"erf", CML_UN_ERF, INT_NONE},
    {"sin", CML_UN_SIN, INT_NONE},          {"cos", CML_UN_COS, INT_NONE},
    {"tan", CML_UN_TAN, INT_NONE},          {"asin", CML_UN_ASIN, INT_NONE},
    {"acos", CML_UN_ACOS, INT_NONE},        {"atan", CML_UN_ATAN, INT_NONE},
    {"atanh", CML_UN_ATANH, INT_NONE},      {"sinh", CML_UN_SINH, INT_NONE},
    {"cosh", CML_UN_COSH, INT_NONE},        {"floor", CML_UN_FLOOR, INT_NONE},
    {"ceil", CML_UN_CEIL, INT_NONE},        {"round", CML_UN_ROUND_EVEN, INT_NONE},
    {"abs", CML_UN_ABS, INT_ABS},           {"sign", CML_UN_SIGN, INT_SIGN},
    {"square", CML_UN_SQUARE, INT_SQUARE},  {"exp2", CML_UN_EXP2, INT_EXP2},
};

static void add_step(un_attr *a, cml_unary_op op, float alpha, float beta) {
    if (a->nsteps < MAX_STEPS) a->steps[a->nsteps++] = (un_step){op, alpha, beta};
}

static cml_status get_f(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                        bool has_def, double def, float *out) {
    double v;
    CML_TRY(cml_mil_const_float(ctx, node, name, has_def, def, &v));
    *out = (float)v;
    return CML_OK;
}

/* Default epsilon typed like x (fp16 rounding for fp16 x). */
static cml_status get_eps(cml_mil_ctx *ctx, const cml_mil_node *node, const cml_mil_value *x,
                          double def, float *out) {
    if (cml_mil_in(ctx, node, "epsilon")) return get_f(ctx, node, "epsilon", false, 0, out);
    float e = (float)def;
    if (x->fp16) cml_k_round_fp16(&e, 1);
    *out = e;
    return CML_OK;
}

static cml_status channel_params(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                                 int64_t c, const float **out) {
    float *buf = cml_mil_alloc(ctx, sizeof(float) * (size_t)(c > 0 ? c : 1));
    uint32_t count = 0;
    bool present = false;
    if (!buf) return CML_ERR_NOMEM;
    CML_TRY(cml_mil_const_floats(ctx, node, name, buf, (uint32_t)c, &count, &present));
    if (!present) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "missing parameter '%s'", name);
    if (count == 1 && c > 1) {
        for (int64_t i = 1; i < c; i++) buf[i] = buf[0];
    } else if ((int64_t)count != c) {
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'%s' has %u values for %lld channels",
                            name, count, (long long)c);
    }
    *out = buf;
    return CML_OK;
}

static cml_status unary_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    const char *t = node->def->type;
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    if (x->kind != CML_MIL_KIND_TENSOR)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "x must be a tensor");
    un_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    memset(a, 0, sizeof *a);
    node->attr = a;
    bool is_float = cml_milop_is_float(x->dtype);
    cml_dtype odt = x->dtype;

    if (strcmp(t, "logical_not") == 0) {
        if (x->dtype != CML_DTYPE_BOOL)
            return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "x must be bool, got %s",
                                cml_dtype_name(x->dtype));
        a->special = UN_NOT;
        return cml_mil_set_output(ctx, node, 0, CML_DTYPE_BOOL, false, x->rank, x->bound,
                                  x->dynamic);
    }
    for (size_t i = 0; i < sizeof kPlain / sizeof kPlain[0]; i++)
        if (strcmp(kPlain[i].type, t) == 0) {
            add_step(a, kPlain[i].op, 0, 0);
            a->int_op = kPlain[i].int_op;
        }
    if (a->nsteps) {
        /* done */
    } else if (strcmp(t, "gelu") == 0) {
        const char *mode;
        CML_TRY(cml_mil_const_string(ctx, node, "mode", "EXACT", &mode));
        if (strcmp(mode, "EXACT") == 0) add_step(a, CML_UN_GELU_EXACT, 0, 0);
        else if (strcmp(mode, "TANH_APPROXIMATION") == 0) add_step(a, CML_UN_GELU_TANH, 0, 0);
        else if (strcmp(mode, "SIGMOID_APPROXIMATION") == 0)
            add_step(a, CML_UN_GELU_SIGMOID, 0, 0);
        else return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unknown gelu mode '%s'", mode);
    } else if (strcmp(t, "elu") == 0) {
        float al;
        CML_TRY(get_f(ctx, node, "alpha", true, 1.0, &al));
        add_step(a, CML_UN_ELU, al, 0);
    } else if (strcmp(t, "leaky_relu") == 0) {
        float al;
        CML_TRY(get_f(ctx, node, "alpha", true, 0.01, &al));
        add_step(a, CML_UN_LEAKY_RELU, al, 0);
    } else if (strcmp(t, "thresholded_relu") == 0) {
        float al;
        CML_TRY(get_f(ctx, node, "alpha", true, 1.0, &al));
        add_step(a, CML_UN_THRESHOLD_RELU, al, 0);
    } else if (strcmp(t, "clamped_relu") == 0) {
        float al, be;
        CML_TRY(get_f(ctx, node, "alpha", true, 0.0, &al));
        CML_TRY(get_f(ctx, node, "beta", true, 6.0, &be));
        add_step(a, CML_UN_LEAKY_RELU, al, 0);
        add_step(a, CML_UN_CLAMP, -INFINITY, be);
    } else if (strcmp(t, "linear_activation") == 0) {
        float al, be;
        CML_TRY(get_f(ctx, node, "alpha", false, 0, &al));
        CML_TRY(get_f(ctx, node, "beta", true, 0.0, &be));
        add_step(a, CML_UN_LINEAR, al, be);
    } else if (strcmp(t, "scaled_tanh") == 0) {
        float al, be;
        CML_TRY(get_f(ctx, node, "alpha", true, 1.0, &al));
        CML_TRY(get_f(ctx, node, "beta", true, 1.0, &be));
        add_step(a, CML_UN_LINEAR, be, 0);
        add_step(a, CML_UN_TANH, 0, 0);
        add_step(a, CML_UN_LINEAR, al, 0);
    } else if (strcmp(t, "sigmoid_hard") == 0) {
        float al, be;
        CML_TRY(get_f(ctx, node, "alpha", true, 0.2, &al));
        CML_TRY(get_f(ctx, node, "beta", true, 0.5, &be));
        add_step(a, CML_UN_LINEAR, al, be);
        add_step(a, CML_UN_CLAMP, 0.0f, 1.0f);
    } else if (strcmp(t, "clip") == 0) {
        float al, be;
        CML_TRY(get_f(ctx, node, "alpha", false, 0, &al));
        CML_TRY(get_f(ctx, node, "beta", false, 0, &be));
        add_step(a, CML_UN_CLAMP, al, be);
    } else if (strcmp(t, "threshold") == 0) {
        double al;
        CML_TRY(cml_mil_const_float(ctx, node, "alpha", false, 0, &al));
        add_step(a, CML_UN_CLAMP, (float)al, INFINITY);
        a->int_op = INT_THRESHOLD;
        a->int_alpha = (int64_t)al;
    } else if (strcmp(t, "log") == 0 || strcmp(t, "rsqrt") == 0 || strcmp(t, "inverse") == 0) {
        bool is_log = t[0] == 'l', is_rsqrt = t[0] == 'r';
        float eps;
        CML_TRY(get_eps(ctx, node, x, is_log ? 1e-45 : is_rsqrt ? 1e-12 : 1e-4, &eps));
        if (eps != 0.0f) add_step(a, CML_UN_LINEAR, 1.0f, eps);
        add_step(a, is_log ? CML_UN_LOG : is_rsqrt ? CML_UN_RSQRT : CML_UN_RECIPROCAL, 0, 0);
    } else if (strcmp(t, "prelu") == 0 || strcmp(t, "softplus_parametric") == 0) {
        if (x->rank < 2)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must have rank >= 2 (channel axis 1)");
        a->special = UN_PER_CHANNEL;
        a->channels = x->bound[1];
        a->parametric = t[0] == 's';
        CML_TRY(channel_params(ctx, node, "alpha", a->channels, &a->ch_alpha));
        if (a->parametric) CML_TRY(channel_params(ctx, node, "beta", a->channels, &a->ch_beta));
    } else {
        return cml_mil_fail(ctx, node, CML_ERR_INTERNAL, "unknown unary op");
    }

    if (!is_float) {
        if (!cml_milop_is_int(x->dtype) || a->int_op == INT_NONE || a->special != UN_PLAIN)
            return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "x must be fp16 or fp32, got %s",
                                cml_dtype_name(x->dtype));
        a->is_int = true;
    }
    return cml_mil_set_output(ctx, node, 0, odt, x->fp16, x->rank, x->bound, x->dynamic);
}

static void apply_steps(const un_attr *a, const float *x, float *y, size_t n) {
    for (int s = 0; s < a->nsteps; s++)
        cml_k_unary_f32(a->steps[s].op, s == 0 ? x : y, y, n, a->steps[s].alpha, a->steps[s].beta);
}

/* Elementwise steps over [0, n) split over the pool in blocks of UN_BLOCK
 * elements: every block but the last is whole, so the vector kernels see the
 * same tail as one call would and the results do not depend on the split. */
#define UN_BLOCK 4096

typedef struct un_job {
    const un_attr *a;
    const float *x;
    float *y;
    size_t n;
} un_job;

static void un_task(void *ctx, size_t begin, size_t end) {
    const un_job *j = ctx;
    size_t b = begin * UN_BLOCK, e = end * UN_BLOCK < j->n ? end * UN_BLOCK : j->n;
    apply_steps(j->a, j->x + b, j->y + b, e - b);
}

static void apply_steps_pool(cml_threadpool *pool, const un_attr *a, const float *x, float *y,
                             size_t n) {
    un_job j = {a, x, y, n};
    cml_parallel_for(pool, (n + UN_BLOCK - 1) / UN_BLOCK, 2, un_task, &j);
}

static int64_t int_unary(un_int op, int64_t v, int64_t alpha) {
    switch (op) {
    case INT_ABS: return v < 0 ? -v : v;
    case INT_SIGN: return (v > 0) - (v < 0);
    case INT_SQUARE: return v * v;
    case INT_EXP2: return v < 0 ? 0 : v >= 63 ? 0 : (int64_t)1 << v;
    case INT_THRESHOLD: return v < alpha ? alpha : v;
    default: return v;
    }
}

static cml_status unary_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const un_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    CML_TRY(cml_mil_resize(ctx, out, x->rank, x->shape));
    int64_t n = cml_mil_numel(x);
    if (a->special == UN_NOT) {
        const uint8_t *xi = x->data;
        uint8_t *o = out->data;
        for (int64_t i = 0; i < n; i++) o[i] = !xi[i];
        return CML_OK;
    }
    if (a->is_int) {
        for (int64_t i = 0; i < n; i++)
            cml_milop_set_int(out->data, out->dtype, i,
                              int_unary(a->int_op, cml_milop_get_int(x->data, x->dtype, i),
                                        a->int_alpha));
        return CML_OK;
    }
    if (a->special == UN_PLAIN) {
        apply_steps_pool(ctx->pool, a, x->data, out->data, (size_t)n);
        return CML_OK;
    }
    /* per channel over [outer, C, inner] */
    int64_t c = x->shape[1], outer = x->shape[0], inner = cml_milop_prod(x->shape, 2, x->rank);
    if (c != a->channels)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x has %lld channels, alpha %lld",
                            (long long)c, (long long)a->channels);
    const float *xs = x->data;
    float *ys = out->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t ch = 0; ch < c; ch++) {
            size_t off = (size_t)((o * c + ch) * inner);
            if (a->parametric) {
                cml_k_unary_f32(CML_UN_LINEAR, xs + off, ys + off, (size_t)inner, a->ch_beta[ch], 0);
                cml_k_unary_f32(CML_UN_SOFTPLUS, ys + off, ys + off, (size_t)inner, 0, 0);
                cml_k_unary_f32(CML_UN_LINEAR, ys + off, ys + off, (size_t)inner, a->ch_alpha[ch], 0);
            } else {
                /* prelu: x > 0 ? x : alpha * x (leaky relu with a per-channel slope) */
                cml_k_unary_f32(CML_UN_LEAKY_RELU, xs + off, ys + off, (size_t)inner,
                                a->ch_alpha[ch], 0);
            }
        }
    return CML_OK;
}

#define UNARY_OP(t) const cml_mil_op_def cml_mil_op_##t = {#t, unary_infer, unary_run, false};
UNARY_OP(relu)
UNARY_OP(relu6)
UNARY_OP(sigmoid)
UNARY_OP(tanh)
UNARY_OP(silu)
UNARY_OP(softplus)
UNARY_OP(softsign)
UNARY_OP(sqrt)
UNARY_OP(exp)
UNARY_OP(erf)
UNARY_OP(sin)
UNARY_OP(cos)
UNARY_OP(tan)
UNARY_OP(asin)
UNARY_OP(acos)
UNARY_OP(atan)
UNARY_OP(atanh)
UNARY_OP(sinh)
UNARY_OP(cosh)
UNARY_OP(floor)
UNARY_OP(ceil)
UNARY_OP(round)
UNARY_OP(abs)
UNARY_OP(sign)
UNARY_OP(square)
UNARY_OP(exp2)
UNARY_OP(gelu)
UNARY_OP(elu)
UNARY_OP(leaky_relu)
UNARY_OP(thresholded_relu)
UNARY_OP(clamped_relu)
UNARY_OP(linear_activation)
UNARY_OP(scaled_tanh)
UNARY_OP(sigmoid_hard)
UNARY_OP(clip)
UNARY_OP(threshold)
UNARY_OP(log)
UNARY_OP(rsqrt)
UNARY_OP(inverse)
UNARY_OP(prelu)
UNARY_OP(softplus_parametric)
UNARY_OP(logical_not)

/* ---- softmax(x, axis = -1) ----------------------------------------------------- */

static cml_status softmax_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    int64_t axis;
    int32_t ax;
    CML_TRY(cml_milop_require_float(ctx, node, "x", &x));
    CML_TRY(cml_mil_const_int(ctx, node, "axis", true, -1, &axis));
    int32_t r = x->rank == 0 ? 1 : x->rank;
    if (!cml_milop_axis(axis, r, &ax))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis %lld out of range for rank %d",
                            (long long)axis, x->rank);
    int32_t *attr = cml_mil_alloc(ctx, sizeof *attr);
    if (!attr) return CML_ERR_NOMEM;
    *attr = ax;
    node->attr = attr;
    return cml_milop_out_like(ctx, node, 0, x, x->rank, x->bound, false);
}

/* Softmax over [outer, len, inner] with the outer slices split over the
 * pool (each slice is independent). */
typedef struct sm_job {
    const float *x;
    float *y;
    size_t len, inner;
} sm_job;

static void sm_task(void *ctx, size_t begin, size_t end) {
    const sm_job *j = ctx;
    size_t step = j->len * j->inner;
    cml_k_softmax_f32(j->x + begin * step, j->y + begin * step, end - begin, j->len, j->inner,
                      false);
}

static void softmax_pool(cml_threadpool *pool, const float *x, float *y, size_t outer, size_t len,
                         size_t inner) {
    sm_job j = {x, y, len, inner};
    size_t grain = (16384 + len * inner - 1) / (len * inner);
    cml_parallel_for(pool, outer, grain, sm_task, &j);
}

static cml_status softmax_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    int32_t ax = *(const int32_t *)node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    CML_TRY(cml_mil_resize(ctx, out, x->rank, x->shape));
    if (x->rank == 0) {
        *(float *)out->data = 1.0f;
        return CML_OK;
    }
    size_t outer = (size_t)cml_milop_prod(x->shape, 0, ax);
    size_t len = (size_t)x->shape[ax];
    size_t inner = (size_t)cml_milop_prod(x->shape, ax + 1, x->rank);
    if (outer * len * inner == 0) return CML_OK;
    softmax_pool(ctx->pool, x->data, out->data, outer, len, inner);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_softmax = {"softmax", softmax_infer, softmax_run, false};
