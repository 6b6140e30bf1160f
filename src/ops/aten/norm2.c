/*
 * Batch normalization with batch statistics:
 *   _native_batch_norm_legit.out(Tensor input, Tensor? weight, Tensor? bias,
 *       Tensor(a!) running_mean, Tensor(b!) running_var, bool training, float momentum,
 *       float eps, *, Tensor(c!) out, Tensor(d!) save_mean, Tensor(e!) save_invstd)
 *   _native_batch_norm_legit.no_stats_out(Tensor input, Tensor? weight, Tensor? bias,
 *       bool training, float momentum, float eps, *, Tensor(a!) out,
 *       Tensor(b!) save_mean, Tensor(c!) save_invstd)
 *
 * Input [N, C, ...] (rank >= 2, contiguous); every tensor has the input's
 * dtype (float32/64, float16, bfloat16); weight, bias and the running stats
 * are [C]. Statistics are computed in double, two passes.
 * - legit, training=false: normalizes with the running stats (as upstream);
 *   save_mean and save_invstd are resized to [0] (as torch).
 * - legit, training=true: torch's training form (upstream's portable kernel
 *   rejects it): per-channel batch mean and biased variance normalize the
 *   input, save_mean/save_invstd get them ([C]), and the running stats are
 *   updated in place: r = (1 - momentum) * r + momentum * s, with the
 *   unbiased batch variance for running_var. Running stats given as None
 *   (the emitter's empty tensor) are left alone.
 * - no_stats: always batch statistics (training is ignored, as upstream).
 * out = (x - mean) * invstd * weight + bias, invstd = 1 / sqrt(var + eps).
 */
#include <math.h>
#include <string.h>

#include "ops/aten/aten_num.h"
#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

static const char BNL[] = "aten::_native_batch_norm_legit.out";
static const char BNS[] = "aten::_native_batch_norm_legit.no_stats_out";

typedef struct bn_args {
    cml_tensor *x, *w, *b, *rm, *rv, *out, *mean, *invstd;
    bool training;
    double momentum, eps;
} bn_args;

static cml_status bn_read(cml_kernel_ctx *ctx, bool stats, cml_evalue **args, uint32_t nargs,
                          bn_args *a) {
    const char *op = stats ? BNL : BNS;
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, stats ? 12 : 10));
    memset(a, 0, sizeof *a);
    uint32_t k = stats ? 5 : 3; /* index of `training` */
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &a->x));
    CML_TRY(cml_aten_arg_opt_tensor(ctx, op, args, 1, &a->w));
    CML_TRY(cml_aten_arg_opt_tensor(ctx, op, args, 2, &a->b));
    if (stats) {
        CML_TRY(cml_aten_arg_opt_tensor(ctx, op, args, 3, &a->rm));
        CML_TRY(cml_aten_arg_opt_tensor(ctx, op, args, 4, &a->rv));
    }
    CML_TRY(cml_arg_bool(ctx, op, args, k, &a->training));
    CML_TRY(cml_arg_double(ctx, op, args, k + 1, &a->momentum));
    CML_TRY(cml_arg_double(ctx, op, args, k + 2, &a->eps));
    CML_TRY(cml_arg_tensor(ctx, op, args, k + 3, &a->out));
    CML_TRY(cml_arg_tensor(ctx, op, args, k + 4, &a->mean));
    CML_TRY(cml_arg_tensor(ctx, op, args, k + 5, &a->invstd));
    if (!stats) a->training = true;
    CML_TRY(cml_aten_check_rank(ctx, op, a->x, "input", 2, CML_MAX_DIMS));
    if (!a->training && (!a->rm || !a->rv))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "training=false needs the running stats");
    return CML_OK;
}

static cml_status bn_check_param(cml_kernel_ctx *ctx, const char *op, const cml_tensor *p,
                                 const char *what, const cml_tensor *x) {
    if (!p) return CML_OK;
    if (p->dtype != x->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "%s dtype %s differs from input %s", what,
                         cml_dtype_name(p->dtype), cml_dtype_name(x->dtype));
    if (p->rank != 1 || p->sizes[0] != x->sizes[1])
        return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "%s must be [%lld] (the channels)", what,
                         (long long)x->sizes[1]);
    return cml_aten_check_contiguous(ctx, op, p, what);
}

static cml_status bn_prepare(cml_kernel_ctx *ctx, bool stats, cml_evalue **args, uint32_t nargs,
                             size_t *scratch_bytes) {
    const char *op = stats ? BNL : BNS;
    bn_args a;
    CML_TRY(bn_read(ctx, stats, args, nargs, &a));
    if (!cml_aten_is_floating(a.x->dtype)) return cml_aten_bad_dtype(ctx, op, "input", a.x->dtype);
    CML_TRY(cml_aten_check_contiguous(ctx, op, a.x, "input"));
    CML_TRY(bn_check_param(ctx, op, a.w, "weight", a.x));
    CML_TRY(bn_check_param(ctx, op, a.b, "bias", a.x));
    CML_TRY(bn_check_param(ctx, op, a.rm, "running_mean", a.x));
    CML_TRY(bn_check_param(ctx, op, a.rv, "running_var", a.x));
    const cml_tensor *outs[3] = {a.out, a.mean, a.invstd};
    for (int k = 0; k < 3; k++) {
        if (outs[k]->dtype != a.x->dtype)
            return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op,
                             "output %d dtype %s differs from input %s", k,
                             cml_dtype_name(outs[k]->dtype), cml_dtype_name(a.x->dtype));
        CML_TRY(cml_aten_check_contiguous(ctx, op, outs[k], "output"));
    }
    if ((a.rm && a.rm->is_const) || (a.rv && a.rv->is_const))
        if (a.training)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "running stats to update are read-only");
    *scratch_bytes = 0;
    return CML_OK;
}

static double bn_param(const cml_tensor *p, int64_t c, double dflt) {
    return p ? cml_aten_num_get(p->dtype, p->data, (size_t)c) : dflt;
}

/* Batch mean and biased variance of channel c over N and the inner dims. */
static void bn_stats(const bn_args *a, int64_t c, int64_t inner, double *mean, double *var) {
    const cml_tensor *x = a->x;
    int64_t N = x->sizes[0], C = x->sizes[1], n = N * inner;
    double s = 0.0, s2 = 0.0;
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < inner; j++)
            s += cml_aten_num_get(x->dtype, x->data, (size_t)((i * C + c) * inner + j));
    *mean = n ? s / (double)n : NAN;
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < inner; j++) {
            double d = cml_aten_num_get(x->dtype, x->data, (size_t)((i * C + c) * inner + j)) - *mean;
            s2 += d * d;
        }
    *var = n ? s2 / (double)n : NAN;
}

static void bn_channel(const bn_args *a, int64_t c, int64_t inner, double mean, double invstd) {
    const cml_tensor *x = a->x;
    int64_t N = x->sizes[0], C = x->sizes[1];
    double w = bn_param(a->w, c, 1.0), b = bn_param(a->b, c, 0.0);
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < inner; j++) {
            size_t k = (size_t)((i * C + c) * inner + j);
            cml_aten_num_set(x->dtype, a->out->data, k,
                         (cml_aten_num_get(x->dtype, x->data, k) - mean) * invstd * w + b);
        }
}

static void bn_update(const bn_args *a, int64_t c, int64_t n, double mean, double var) {
    double m = a->momentum;
    if (a->rm)
        cml_aten_num_set(a->rm->dtype, a->rm->data, (size_t)c,
                     (1 - m) * bn_param(a->rm, c, 0) + m * mean);
    if (a->rv) {
        double unbiased = var * (double)n / (double)(n - 1);
        cml_aten_num_set(a->rv->dtype, a->rv->data, (size_t)c,
                     (1 - m) * bn_param(a->rv, c, 0) + m * unbiased);
    }
}

static cml_status bn_run(cml_kernel_ctx *ctx, bool stats, cml_evalue **args, uint32_t nargs) {
    const char *op = stats ? BNL : BNS;
    bn_args a;
    CML_TRY(bn_read(ctx, stats, args, nargs, &a));
    int64_t C = a.x->sizes[1], inner = cml_aten_prod(a.x->sizes, 2, a.x->rank);
    int64_t csz = a.training ? C : 0;
    CML_TRY(cml_aten_resize(ctx, op, a.out, a.x->rank, a.x->sizes));
    CML_TRY(cml_aten_resize(ctx, op, a.mean, 1, &csz));
    CML_TRY(cml_aten_resize(ctx, op, a.invstd, 1, &csz));
    for (int64_t c = 0; c < C; c++) {
        double mean, var;
        if (a.training) bn_stats(&a, c, inner, &mean, &var);
        else {
            mean = bn_param(a.rm, c, 0);
            var = bn_param(a.rv, c, 1);
        }
        double invstd = 1.0 / sqrt(var + a.eps);
        bn_channel(&a, c, inner, mean, invstd);
        if (!a.training) continue;
        cml_aten_num_set(a.mean->dtype, a.mean->data, (size_t)c, mean);
        cml_aten_num_set(a.invstd->dtype, a.invstd->data, (size_t)c, invstd);
        bn_update(&a, c, a.x->sizes[0] * inner, mean, var);
    }
    return CML_OK;
}

cml_status cml_aten_native_batch_norm_legit_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                                    uint32_t nargs, size_t *scratch_bytes) {
    return bn_prepare(ctx, true, args, nargs, scratch_bytes);
}
cml_status cml_aten_native_batch_norm_legit_out_run(cml_kernel_ctx *ctx, cml_evalue **args,
                                                uint32_t nargs) {
    return bn_run(ctx, true, args, nargs);
}
cml_status cml_aten_native_batch_norm_legit_no_stats_out_prepare(cml_kernel_ctx *ctx,
                                                             cml_evalue **args, uint32_t nargs,
                                                             size_t *scratch_bytes) {
    return bn_prepare(ctx, false, args, nargs, scratch_bytes);
}
cml_status cml_aten_native_batch_norm_legit_no_stats_out_run(cml_kernel_ctx *ctx, cml_evalue **args,
                                                         uint32_t nargs) {
    return bn_run(ctx, false, args, nargs);
}
