/*
 * reduce_* over a set of axes (absent = all) with keep_dims, and
 * reduce_argmax / reduce_argmin over one axis.
 *
 * Reduced dims that form one contiguous block go straight to the kernel's
 * [outer, axis, inner] view; otherwise x is permuted (kept dims first,
 * reduced dims last) into scratch. int32 reductions (sum, mean, prod, max,
 * min, ...) use an int64 accumulator loop.
 */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "mil/ops.h"

typedef struct red_desc {
    const char *type;
    cml_reduce_op op;
} red_desc;

static const red_desc kReduce[] = {
    {"reduce_sum", CML_RED_SUM},           {"reduce_mean", CML_RED_MEAN},
    {"reduce_prod", CML_RED_PROD},         {"reduce_max", CML_RED_MAX},
    {"reduce_min", CML_RED_MIN},           {"reduce_l1_norm", CML_RED_L1},
    {"reduce_l2_norm", CML_RED_L2},        {"reduce_log_sum", CML_RED_LOG_SUM},
    {"reduce_log_sum_exp", CML_RED_LOG_SUM_EXP}, {"reduce_sum_square", CML_RED_SUM_SQUARE},
};

typedef struct red_attr {
    cml_reduce_op op;
    bool reduced[CML_MAX_DIMS];
    bool keep_dims;
    bool contiguous; /* reduced dims are one block [lo, hi) */
    int32_t lo, hi;
    bool is_int;
} red_attr;

static void red_shape(const red_attr *a, int32_t rank, const int64_t *in, int32_t *orank,
                      int64_t *out) {
    int32_t k = 0;
    for (int32_t i = 0; i < rank; i++) {
        if (!a->reduced[i]) out[k++] = in[i];
        else if (a->keep_dims) out[k++] = 1;
    }
    *orank = k;
}

static cml_status reduce_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    const red_desc *d = NULL;
    for (size_t i = 0; i < sizeof kReduce / sizeof kReduce[0]; i++)
        if (strcmp(kReduce[i].type, node->def->type) == 0) d = &kReduce[i];
    if (!d) return cml_mil_fail(ctx, node, CML_ERR_INTERNAL, "unknown reduction");
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    bool is_int = cml_milop_is_int(x->dtype) || x->dtype == CML_DTYPE_BOOL;
    if (!cml_milop_is_float(x->dtype) && !is_int)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unsupported dtype %s",
                            cml_dtype_name(x->dtype));
    red_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    memset(a, 0, sizeof *a);
    a->op = d->op;
    a->is_int = is_int;
    int64_t axes[CML_MAX_DIMS];
    uint32_t count = 0;
    bool present = false;
    CML_TRY(cml_mil_const_ints(ctx, node, "axes", axes, CML_MAX_DIMS, &count, &present));
    CML_TRY(cml_mil_const_bool(ctx, node, "keep_dims", true, false, &a->keep_dims));
    if (!present)
        for (int32_t i = 0; i < x->rank; i++) a->reduced[i] = true;
    for (uint32_t i = 0; i < count; i++) {
        int32_t ax;
        if (!cml_milop_axis(axes[i], x->rank, &ax))
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis %lld out of range for rank %d",
                                (long long)axes[i], x->rank);
        a->reduced[ax] = true;
    }
    a->lo = -1;
    a->contiguous = true;
    for (int32_t i = 0; i < x->rank; i++)
        if (a->reduced[i]) {
            if (a->lo < 0) a->lo = i;
            else if (!a->reduced[i - 1]) a->contiguous = false;
            a->hi = i + 1;
        }
    if (a->lo < 0) a->lo = a->hi = 0;
    node->attr = a;
    if (is_int || !a->contiguous)
        node->scratch = (size_t)cml_mil_bound_numel(x) * cml_dtype_size(x->dtype);
    int32_t orank;
    int64_t shape[CML_MAX_DIMS];
    red_shape(a, x->rank, x->bound, &orank, shape);
    return cml_milop_out_like(ctx, node, 0, x, orank, shape, false);
}

static int64_t int_reduce(cml_reduce_op op, const void *data, cml_dtype dt, int64_t off, int64_t n) {
    int64_t acc = 0;
    switch (op) {
    case CML_RED_PROD: acc = 1; break;
    case CML_RED_MAX: acc = n ? cml_milop_get_int(data, dt, off) : INT64_MIN; break;
    case CML_RED_MIN: acc = n ? cml_milop_get_int(data, dt, off) : INT64_MAX; break;
    default: break;
    }
    double dacc = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t v = cml_milop_get_int(data, dt, off + i);
        switch (op) {
        case CML_RED_SUM: case CML_RED_MEAN: acc += v; break;
        case CML_RED_PROD: acc *= v; break;
        case CML_RED_MAX: acc = v > acc ? v : acc; break;
        case CML_RED_MIN: acc = v < acc ? v : acc; break;
        case CML_RED_L1: acc += v < 0 ? -v : v; break;
        case CML_RED_SUM_SQUARE: acc += v * v; break;
        default: dacc += (double)v * (double)v; break;
        }
    }
    if (op == CML_RED_MEAN) return n ? acc / n : 0;
    if (op == CML_RED_L2) return (int64_t)sqrt(dacc);
    return acc;
}

static cml_status reduce_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const red_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int32_t r = x->rank, orank;
    int64_t oshape[CML_MAX_DIMS];
    red_shape(a, r, x->shape, &orank, oshape);
    CML_TRY(cml_mil_resize(ctx, out, orank, oshape));
    int64_t n = cml_mil_numel(x), kept = 1, red = 1;
    for (int32_t i = 0; i < r; i++) {
        if (a->reduced[i]) red *= x->shape[i];
        else kept *= x->shape[i];
    }
    if (kept == 0) return CML_OK;
    const void *src = x->data;
    size_t outer, len, inner;
    if (a->contiguous && !a->is_int) {
        outer = (size_t)cml_milop_prod(x->shape, 0, a->lo);
        len = (size_t)red;
        inner = (size_t)cml_milop_prod(x->shape, a->hi, r);
    } else {
        /* permute: kept dims first, reduced dims last */
        void *scr = NULL;
        CML_TRY(cml_milop_scratch(ctx, node, &scr));
        int64_t xs[CML_MAX_DIMS], ps[CML_MAX_DIMS], ss[CML_MAX_DIMS], ds[CML_MAX_DIMS];
        int32_t k = 0;
        cml_milop_strides(r, x->shape, xs);
        for (int pass = 0; pass < 2; pass++)
            for (int32_t i = 0; i < r; i++)
                if (a->reduced[i] == (pass == 1)) {
                    ps[k] = x->shape[i];
                    ss[k++] = xs[i];
                }
        cml_milop_strides(r, ps, ds);
        if (n > 0) cml_k_copy_strided(cml_dtype_size(x->dtype), r, ps, x->data, ss, scr, ds);
        src = scr;
        outer = (size_t)kept;
        len = (size_t)red;
        inner = 1;
    }
    if (a->is_int) {
        for (size_t o = 0; o < outer; o++)
            cml_milop_set_int(out->data, out->dtype, (int64_t)o,
                              int_reduce(a->op, src, x->dtype, (int64_t)(o * len), (int64_t)len));
        return CML_OK;
    }
    cml_k_reduce_f32(a->op, src, out->data, outer, len, inner);
    return CML_OK;
}

#define REDUCE_OP(t) const cml_mil_op_def cml_mil_op_##t = {#t, reduce_infer, reduce_run, false};
REDUCE_OP(reduce_sum)
REDUCE_OP(reduce_mean)
REDUCE_OP(reduce_prod)
REDUCE_OP(reduce_max)
REDUCE_OP(reduce_min)
REDUCE_OP(reduce_l1_norm)
REDUCE_OP(reduce_l2_norm)
REDUCE_OP(reduce_log_sum)
REDUCE_OP(reduce_log_sum_exp)
REDUCE_OP(reduce_sum_square)

/* ---- reduce_argmax / reduce_argmin(x, axis = -1, keep_dims, output_dtype) ---- */

typedef struct arg_attr {
    bool is_max, keep_dims;
    int32_t axis;
} arg_attr;

static void arg_shape(const arg_attr *a, int32_t rank, const int64_t *in, int32_t *orank,
                      int64_t *out) {
    int32_t k = 0;
    for (int32_t i = 0; i < rank; i++) {
        if (i != a->axis) out[k++] = in[i];
        else if (a->keep_dims) out[k++] = 1;
    }
    *orank = k;
}

static cml_status arg_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    bool fl = cml_milop_is_float(x->dtype);
    if (!fl && !cml_milop_is_int(x->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unsupported dtype %s",
                            cml_dtype_name(x->dtype));
    if (x->rank < 1) return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must have rank >= 1");
    arg_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    int64_t axis;
    const char *odt;
    a->is_max = strcmp(node->def->type, "reduce_argmax") == 0;
    CML_TRY(cml_mil_const_int(ctx, node, "axis", true, -1, &axis));
    CML_TRY(cml_mil_const_bool(ctx, node, "keep_dims", true, false, &a->keep_dims));
    CML_TRY(cml_mil_const_string(ctx, node, "output_dtype", "int32", &odt));
    if (!cml_milop_axis(axis, x->rank, &a->axis))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis %lld out of range",
                            (long long)axis);
    cml_dtype dt;
    if (strcmp(odt, "int32") == 0) dt = CML_DTYPE_INT32;
    else if (strcmp(odt, "uint16") == 0) dt = CML_DTYPE_UINT16;
    else return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "output_dtype '%s'", odt);
    node->attr = a;
    int32_t orank;
    int64_t shape[CML_MAX_DIMS];
    arg_shape(a, x->rank, x->bound, &orank, shape);
    node->scratch = (size_t)cml_milop_prod(shape, 0, orank) * sizeof(int64_t);
    if (!fl) node->scratch += (size_t)cml_mil_bound_numel(x) * sizeof(float);
    return cml_mil_set_output(ctx, node, 0, dt, false, orank, shape, x->dynamic);
}

static cml_status arg_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const arg_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int32_t orank;
    int64_t shape[CML_MAX_DIMS];
    arg_shape(a, x->rank, x->shape, &orank, shape);
    CML_TRY(cml_mil_resize(ctx, out, orank, shape));
    int64_t on = cml_mil_numel(out), n = cml_mil_numel(x);
    if (on == 0) return CML_OK;
    if (x->shape[a->axis] == 0)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "cannot take the arg of an empty axis");
    void *scr = NULL;
    CML_TRY(cml_milop_scratch(ctx, node, &scr));
    int64_t *idx = scr;
    const float *src = x->data;
    if (!cml_milop_is_float(x->dtype)) {
        float *f = (float *)(idx + on);
        for (int64_t i = 0; i < n; i++) f[i] = (float)cml_milop_get_int(x->data, x->dtype, i);
        src = f;
    }
    cml_k_argreduce_f32(a->is_max, src, idx, (size_t)cml_milop_prod(x->shape, 0, a->axis),
                        (size_t)x->shape[a->axis],
                        (size_t)cml_milop_prod(x->shape, a->axis + 1, x->rank));
    for (int64_t i = 0; i < on; i++) cml_milop_set_int(out->data, out->dtype, i, idx[i]);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_reduce_argmax = {"reduce_argmax", arg_infer, arg_run, false};
const cml_mil_op_def cml_mil_op_reduce_argmin = {"reduce_argmin", arg_infer, arg_run, false};
