/*
 * Normalization:
 *   _native_batch_norm_legit_no_training.out(Tensor input, Tensor? weight, Tensor? bias,
 *       Tensor running_mean, Tensor running_var, float momentum, float eps, *,
 *       Tensor(a!) out0, Tensor(b!) out1, Tensor(c!) out2)          (+ TensorList)
 *   native_layer_norm.out(Tensor input, SymInt[] normalized_shape, Tensor? weight,
 *       Tensor? bias, float eps, *, Tensor(a!) out0, Tensor(b!) out1, Tensor(c!) out2)
 *   native_group_norm.out(Tensor input, Tensor? weight, Tensor? bias, SymInt N, SymInt C,
 *       SymInt HxW, int group, float eps, *, Tensor(a!) out0, Tensor(b!) out1, Tensor(c!) out2)
 *
 * Batch norm's out1/out2 are empty ([0]) in inference, as upstream. Layer and
 * group norm also return the per-row mean and 1/sqrt(var + eps).
 */
#include <math.h>
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

/* Mean and reciprocal std of each of `rows` rows of `len` values (two-pass, double). */
static void row_stats(const float *x, size_t rows, size_t len, double eps, float *mean, float *rstd) {
    for (size_t r = 0; r < rows; r++) {
        const float *p = x + r * len;
        double s = 0.0;
        for (size_t i = 0; i < len; i++) s += p[i];
        double m = len ? s / (double)len : 0.0;
        double v = 0.0;
        for (size_t i = 0; i < len; i++) v += ((double)p[i] - m) * ((double)p[i] - m);
        v = len ? v / (double)len : 0.0;
        mean[r] = (float)m;
        rstd[r] = (float)(1.0 / sqrt(v + eps));
    }
}

static cml_status check_stat_tensor(cml_kernel_ctx *ctx, const char *op, const cml_tensor *t,
                                    const char *what) {
    CML_TRY(cml_aten_check_float(ctx, op, t, what));
    return cml_aten_check_contiguous(ctx, op, t, what);
}

/* Optional per-channel parameter: must hold exactly c elements. */
static cml_status check_param_size(cml_kernel_ctx *ctx, const char *op, const cml_tensor *t,
                                   const char *what, int64_t c) {
    if (t && cml_tensor_numel(t) != c)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "%s has %lld elements, expected %lld", what,
                         (long long)cml_tensor_numel(t), (long long)c);
    return CML_OK;
}

/* ---- batch norm (inference) ------------------------------------------------------------ */

static const char BN[] = "aten::_native_batch_norm_legit_no_training.out";

typedef struct bn_args {
    cml_tensor *x, *w, *b, *mean, *var, *out0, *out1, *out2;
    double eps;
} bn_args;

static cml_status bn_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, bn_args *a) {
    if (nargs != 11) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, BN, "expected 11 args, got %u", nargs);
    double momentum;
    CML_TRY(cml_arg_tensor(ctx, BN, args, 0, &a->x));
    CML_TRY(cml_aten_arg_opt_tensor(ctx, BN, args, 1, &a->w));
    CML_TRY(cml_aten_arg_opt_tensor(ctx, BN, args, 2, &a->b));
    CML_TRY(cml_arg_tensor(ctx, BN, args, 3, &a->mean));
    CML_TRY(cml_arg_tensor(ctx, BN, args, 4, &a->var));
    CML_TRY(cml_arg_double(ctx, BN, args, 5, &momentum));
    CML_TRY(cml_arg_double(ctx, BN, args, 6, &a->eps));
    CML_TRY(cml_arg_tensor(ctx, BN, args, 7, &a->out0));
    CML_TRY(cml_arg_tensor(ctx, BN, args, 8, &a->out1));
    CML_TRY(cml_arg_tensor(ctx, BN, args, 9, &a->out2));
    return cml_aten_check_rank(ctx, BN, a->x, "input", 2, CML_MAX_DIMS);
}

cml_status cml_aten_native_batch_norm_legit_no_training_out_prepare(cml_kernel_ctx *ctx,
                                                                 cml_evalue **args, uint32_t nargs,
                                                                 size_t *scratch_bytes) {
    bn_args a;
    CML_TRY(bn_read(ctx, args, nargs, &a));
    CML_TRY(check_stat_tensor(ctx, BN, a.x, "input"));
    CML_TRY(cml_aten_check_rank(ctx, BN, a.x, "input", 2, CML_MAX_DIMS));
    CML_TRY(check_stat_tensor(ctx, BN, a.out0, "output"));
    CML_TRY(check_stat_tensor(ctx, BN, a.mean, "running_mean"));
    CML_TRY(check_stat_tensor(ctx, BN, a.var, "running_var"));
    size_t need = cml_aten_f32_need(a.x) + cml_aten_f32_need(a.out0) + cml_aten_f32_need(a.mean) +
                  cml_aten_f32_need(a.var);
    if (a.w) {
        CML_TRY(check_stat_tensor(ctx, BN, a.w, "weight"));
        need += cml_aten_f32_need(a.w);
    }
    if (a.b) {
        CML_TRY(check_stat_tensor(ctx, BN, a.b, "bias"));
        need += cml_aten_f32_need(a.b);
    }
    *scratch_bytes = need;
    return CML_OK;
}

cml_status cml_aten_native_batch_norm_legit_no_training_out_run(cml_kernel_ctx *ctx, cml_evalue **args,
                                                             uint32_t nargs) {
    bn_args a;
    CML_TRY(bn_read(ctx, args, nargs, &a));
    int64_t n = a.x->sizes[0], c = a.x->sizes[1], sp = cml_aten_prod(a.x->sizes, 2, a.x->rank);
    CML_TRY(check_param_size(ctx, BN, a.mean, "running_mean", c));
    CML_TRY(check_param_size(ctx, BN, a.var, "running_var", c));
    CML_TRY(check_param_size(ctx, BN, a.w, "weight", c));
    CML_TRY(check_param_size(ctx, BN, a.b, "bias", c));
    CML_TRY(cml_aten_resize(ctx, BN, a.out0, a.x->rank, a.x->sizes));
    int64_t zero = 0;
    CML_TRY(cml_aten_resize(ctx, BN, a.out1, 1, &zero));
    CML_TRY(cml_aten_resize(ctx, BN, a.out2, 1, &zero));
    if (cml_tensor_numel(a.out0) == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const float *x = cml_aten_load_f32(&s, a.x);
    const float *mean = cml_aten_load_f32(&s, a.mean);
    const float *var = cml_aten_load_f32(&s, a.var);
    const float *w = a.w ? cml_aten_load_f32(&s, a.w) : NULL;
    const float *b = a.b ? cml_aten_load_f32(&s, a.b) : NULL;
    float *y = cml_aten_out_f32(&s, a.out0);
    if (!x || !mean || !var || (a.w && !w) || (a.b && !b) || !y) return cml_aten_scratch_short(ctx, BN);
    cml_k_batch_norm_f32(x, y, (size_t)n, (size_t)c, (size_t)sp, mean, var, w, b, (float)a.eps);
    cml_aten_store_f32(a.out0, y);
    return CML_OK;
}

/* Writes per-row stats into a stats output (fp32 or fp16), resized to shape. */
static cml_status store_stats(cml_kernel_ctx *ctx, const char *op, cml_tensor *t, int32_t rank,
                              const int64_t *shape, const float *vals) {
    CML_TRY(cml_aten_resize(ctx, op, t, rank, shape));
    size_t n = (size_t)cml_tensor_numel(t);
    if (n) cml_k_convert(CML_DTYPE_FLOAT32, vals, t->dtype, t->data, n);
    return CML_OK;
}

/* ---- layer norm ----------------------------------------------------------------------- */

static const char LN[] = "aten::native_layer_norm.out";

typedef struct ln_args {
    cml_tensor *x, *w, *b, *out0, *out1, *out2;
    int64_t ns[CML_MAX_DIMS];
    uint32_t nns;
    double eps;
} ln_args;

static cml_status ln_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, ln_args *a) {
    if (nargs != 9) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, LN, "expected 9 args, got %u", nargs);
    CML_TRY(cml_arg_tensor(ctx, LN, args, 0, &a->x));
    CML_TRY(cml_arg_int_list(ctx, LN, args, 1, a->ns, CML_MAX_DIMS, &a->nns));
    CML_TRY(cml_aten_arg_opt_tensor(ctx, LN, args, 2, &a->w));
    CML_TRY(cml_aten_arg_opt_tensor(ctx, LN, args, 3, &a->b));
    CML_TRY(cml_arg_double(ctx, LN, args, 4, &a->eps));
    CML_TRY(cml_arg_tensor(ctx, LN, args, 5, &a->out0));
    CML_TRY(cml_arg_tensor(ctx, LN, args, 6, &a->out1));
    CML_TRY(cml_arg_tensor(ctx, LN, args, 7, &a->out2));
    if (a->nns < 1 || a->nns > (uint32_t)a->x->rank)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, LN,
                         "normalized_shape has %u dims for an input of rank %d", a->nns, a->x->rank);
    return CML_OK;
}

cml_status cml_aten_native_layer_norm_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                              uint32_t nargs, size_t *scratch_bytes) {
    ln_args a;
    CML_TRY(ln_read(ctx, args, nargs, &a));
    CML_TRY(check_stat_tensor(ctx, LN, a.x, "input"));
    CML_TRY(check_stat_tensor(ctx, LN, a.out0, "output"));
    CML_TRY(check_stat_tensor(ctx, LN, a.out1, "mean output"));
    CML_TRY(check_stat_tensor(ctx, LN, a.out2, "rstd output"));
    size_t rows = cml_aten_bound_numel(a.out1) > cml_aten_bound_numel(a.out2) ? cml_aten_bound_numel(a.out1)
                                                                      : cml_aten_bound_numel(a.out2);
    size_t need = cml_aten_f32_need(a.x) + cml_aten_f32_need(a.out0) +
                  2 * cml_aten_align(rows * sizeof(float));
    if (a.w) {
        CML_TRY(check_stat_tensor(ctx, LN, a.w, "weight"));
        need += cml_aten_f32_need(a.w);
    }
    if (a.b) {
        CML_TRY(check_stat_tensor(ctx, LN, a.b, "bias"));
        need += cml_aten_f32_need(a.b);
    }
    *scratch_bytes = need;
    return CML_OK;
}

cml_status cml_aten_native_layer_norm_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    ln_args a;
    CML_TRY(ln_read(ctx, args, nargs, &a));
    int32_t axis = a.x->rank - (int32_t)a.nns;
    for (uint32_t i = 0; i < a.nns; i++) {
        if (a.x->sizes[axis + (int32_t)i] != a.ns[i]) {
            char b1[160], b2[160];
            return cml_aten_fail(ctx, CML_ERR_SHAPE, LN, "input %s does not end in normalized_shape %s",
                             cml_shape_str(a.x->rank, a.x->sizes, b1, sizeof b1),
                             cml_shape_str((int32_t)a.nns, a.ns, b2, sizeof b2));
        }
    }
    int64_t outer = cml_aten_prod(a.x->sizes, 0, axis), inner = cml_aten_prod(a.x->sizes, axis, a.x->rank);
    CML_TRY(check_param_size(ctx, LN, a.w, "weight", inner));
    CML_TRY(check_param_size(ctx, LN, a.b, "bias", inner));
    CML_TRY(cml_aten_resize(ctx, LN, a.out0, a.x->rank, a.x->sizes));
    int64_t sshape[CML_MAX_DIMS];
    for (int32_t d = 0; d < a.x->rank; d++) sshape[d] = d < axis ? a.x->sizes[d] : 1;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const float *x = cml_aten_load_f32(&s, a.x);
    const float *w = a.w ? cml_aten_load_f32(&s, a.w) : NULL;
    const float *b = a.b ? cml_aten_load_f32(&s, a.b) : NULL;
    float *y = cml_aten_out_f32(&s, a.out0);
    float *mean = cml_aten_scratch_alloc(&s, (size_t)outer * sizeof(float));
    float *rstd = cml_aten_scratch_alloc(&s, (size_t)outer * sizeof(float));
    if (!x || (a.w && !w) || (a.b && !b) || !y || (outer && (!mean || !rstd)))
        return cml_aten_scratch_short(ctx, LN);
    if (outer && inner) {
        cml_k_layer_norm_f32(x, y, (size_t)outer, (size_t)inner, w, b, (float)a.eps);
        cml_aten_store_f32(a.out0, y);
    }
    if (outer) row_stats(x, (size_t)outer, (size_t)inner, a.eps, mean, rstd);
    CML_TRY(store_stats(ctx, LN, a.out1, a.x->rank, sshape, mean));
    CML_TRY(store_stats(ctx, LN, a.out2, a.x->rank, sshape, rstd));
    return CML_OK;
}

/* ---- group norm ------------------------------------------------------------------------ */

static const char GN[] = "aten::native_group_norm.out";

typedef struct gn_args {
    cml_tensor *x, *w, *b, *out0, *out1, *out2;
    int64_t n, c, hxw, group;
    double eps;
} gn_args;

static cml_status gn_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, gn_args *a) {
    if (nargs != 12) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, GN, "expected 12 args, got %u", nargs);
    CML_TRY(cml_arg_tensor(ctx, GN, args, 0, &a->x));
    CML_TRY(cml_aten_arg_opt_tensor(ctx, GN, args, 1, &a->w));
    CML_TRY(cml_aten_arg_opt_tensor(ctx, GN, args, 2, &a->b));
    CML_TRY(cml_arg_int(ctx, GN, args, 3, &a->n));
    CML_TRY(cml_arg_int(ctx, GN, args, 4, &a->c));
    CML_TRY(cml_arg_int(ctx, GN, args, 5, &a->hxw));
    CML_TRY(cml_arg_int(ctx, GN, args, 6, &a->group));
    CML_TRY(cml_arg_double(ctx, GN, args, 7, &a->eps));
    CML_TRY(cml_arg_tensor(ctx, GN, args, 8, &a->out0));
    CML_TRY(cml_arg_tensor(ctx, GN, args, 9, &a->out1));
    CML_TRY(cml_arg_tensor(ctx, GN, args, 10, &a->out2));
    return cml_aten_check_rank(ctx, GN, a->x, "input", 2, CML_MAX_DIMS);
}

cml_status cml_aten_native_group_norm_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                              uint32_t nargs, size_t *scratch_bytes) {
    gn_args a;
    CML_TRY(gn_read(ctx, args, nargs, &a));
    CML_TRY(check_stat_tensor(ctx, GN, a.x, "input"));
    CML_TRY(cml_aten_check_rank(ctx, GN, a.x, "input", 2, CML_MAX_DIMS));
    CML_TRY(check_stat_tensor(ctx, GN, a.out0, "output"));
    CML_TRY(check_stat_tensor(ctx, GN, a.out1, "mean output"));
    CML_TRY(check_stat_tensor(ctx, GN, a.out2, "rstd output"));
    size_t rows = cml_aten_bound_numel(a.out1) > cml_aten_bound_numel(a.out2) ? cml_aten_bound_numel(a.out1)
                                                                      : cml_aten_bound_numel(a.out2);
    size_t need = cml_aten_f32_need(a.x) + cml_aten_f32_need(a.out0) + 2 * cml_aten_align(rows * sizeof(float));
    if (a.w) {
        CML_TRY(check_stat_tensor(ctx, GN, a.w, "weight"));
        need += cml_aten_f32_need(a.w);
    }
    if (a.b) {
        CML_TRY(check_stat_tensor(ctx, GN, a.b, "bias"));
        need += cml_aten_f32_need(a.b);
    }
    *scratch_bytes = need;
    return CML_OK;
}

cml_status cml_aten_native_group_norm_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    gn_args a;
    CML_TRY(gn_read(ctx, args, nargs, &a));
    int64_t n = a.x->sizes[0], c = a.x->sizes[1], sp = cml_aten_prod(a.x->sizes, 2, a.x->rank);
    if (a.group < 1 || c % a.group != 0)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, GN, "%lld channels not divisible into %lld groups",
                         (long long)c, (long long)a.group);
    if (a.n != n || a.c != c || a.hxw != sp)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, GN, "N=%lld C=%lld HxW=%lld do not match the input",
                         (long long)a.n, (long long)a.c, (long long)a.hxw);
    CML_TRY(check_param_size(ctx, GN, a.w, "weight", c));
    CML_TRY(check_param_size(ctx, GN, a.b, "bias", c));
    CML_TRY(cml_aten_resize(ctx, GN, a.out0, a.x->rank, a.x->sizes));
    size_t rows = (size_t)(n * a.group), len = (size_t)(c / a.group * sp);
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const float *x = cml_aten_load_f32(&s, a.x);
    const float *w = a.w ? cml_aten_load_f32(&s, a.w) : NULL;
    const float *b = a.b ? cml_aten_load_f32(&s, a.b) : NULL;
    float *y = cml_aten_out_f32(&s, a.out0);
    float *mean = cml_aten_scratch_alloc(&s, rows * sizeof(float));
    float *rstd = cml_aten_scratch_alloc(&s, rows * sizeof(float));
    if (!x || (a.w && !w) || (a.b && !b) || !y || (rows && (!mean || !rstd)))
        return cml_aten_scratch_short(ctx, GN);
    if (cml_tensor_numel(a.out0)) {
        cml_k_group_norm_f32(x, y, (size_t)n, (size_t)c, (size_t)sp, (size_t)a.group, w, b,
                             (float)a.eps);
        cml_aten_store_f32(a.out0, y);
    }
    if (rows) row_stats(x, rows, len, a.eps, mean, rstd);
    int64_t sshape[2] = {n, a.group};
    CML_TRY(store_stats(ctx, GN, a.out1, 2, sshape, mean));
    CML_TRY(store_stats(ctx, GN, a.out2, 2, sshape, rstd));
    return CML_OK;
}
