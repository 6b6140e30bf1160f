/*
 * _softmax.out(Tensor self, int dim, bool half_to_float, *, Tensor(a!) out)
 * _log_softmax.out(Tensor self, int dim, bool half_to_float, *, Tensor(a!) out)
 * fp32 compute over the [outer, axis, inner] view; fp16 staged and rounded.
 */
#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

static cml_status sm_read(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                          cml_tensor **x, int32_t *dim, cml_tensor **out) {
    if (nargs != 5) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "expected 5 args, got %u", nargs);
    int64_t d;
    bool half_to_float;
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, x));
    CML_TRY(cml_arg_int(ctx, op, args, 1, &d));
    CML_TRY(cml_arg_bool(ctx, op, args, 2, &half_to_float));
    CML_TRY(cml_arg_tensor(ctx, op, args, 3, out));
    if (half_to_float)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "half_to_float=True not supported");
    return cml_aten_norm_dim(ctx, op, d, (*x)->rank, dim);
}

static cml_status sm_prepare(cml_kernel_ctx *ctx, const char *op, cml_evalue **args,
                             uint32_t nargs, size_t *scratch_bytes) {
    cml_tensor *x, *out;
    int32_t dim;
    CML_TRY(sm_read(ctx, op, args, nargs, &x, &dim, &out));
    CML_TRY(cml_aten_check_float(ctx, op, x, "input"));
    CML_TRY(cml_aten_check_float(ctx, op, out, "output"));
    CML_TRY(cml_aten_check_contiguous(ctx, op, x, "input"));
    CML_TRY(cml_aten_check_contiguous(ctx, op, out, "output"));
    *scratch_bytes = cml_aten_f32_need(x) + cml_aten_f32_need(out);
    return CML_OK;
}

static cml_status sm_run(cml_kernel_ctx *ctx, const char *op, bool log, cml_evalue **args,
                         uint32_t nargs) {
    cml_tensor *xt, *out;
    int32_t dim;
    CML_TRY(sm_read(ctx, op, args, nargs, &xt, &dim, &out));
    CML_TRY(cml_aten_resize(ctx, op, out, xt->rank, xt->sizes));
    if (cml_tensor_numel(out) == 0) return CML_OK;
    int64_t outer = xt->rank ? cml_aten_prod(xt->sizes, 0, dim) : 1;
    int64_t axis = xt->rank ? xt->sizes[dim] : 1;
    int64_t inner = xt->rank ? cml_aten_prod(xt->sizes, dim + 1, xt->rank) : 1;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const float *x = cml_aten_load_f32(&s, xt);
    float *y = cml_aten_out_f32(&s, out);
    if (!x || !y) return cml_aten_scratch_short(ctx, op);
    cml_k_softmax_f32(x, y, (size_t)outer, (size_t)axis, (size_t)inner, log);
    cml_aten_store_f32(out, y);
    return CML_OK;
}

static const char SM[] = "aten::_softmax.out";
static const char LSM[] = "aten::_log_softmax.out";

cml_status cml_aten_softmax_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                    size_t *scratch_bytes) {
    return sm_prepare(ctx, SM, args, nargs, scratch_bytes);
}
cml_status cml_aten_softmax_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return sm_run(ctx, SM, false, args, nargs);
}
cml_status cml_aten_log_softmax_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                        size_t *scratch_bytes) {
    return sm_prepare(ctx, LSM, args, nargs, scratch_bytes);
}
cml_status cml_aten_log_softmax_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return sm_run(ctx, LSM, true, args, nargs);
}
