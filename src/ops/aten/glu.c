/*
 * glu.out(Tensor self, int dim=-1, *, Tensor(a!) out)
 *
 * Gated linear unit: the input is split in two halves a, b along dim (whose
 * size must be even) and out = a * sigmoid(b), with dim halved. Input and
 * output take any of float32/64, float16, bfloat16 (not necessarily the
 * same, as upstream); computed in double. Both must be contiguous.
 */
#include <math.h>
#include <string.h>

#include "ops/aten/aten_num.h"
#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

static const char GLU[] = "aten::glu.out";

static cml_status glu_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **x,
                           cml_tensor **out, int32_t *dim) {
    CML_TRY(cml_aten_nargs_is(ctx, GLU, nargs, 4));
    CML_TRY(cml_arg_tensor(ctx, GLU, args, 0, x));
    CML_TRY(cml_arg_tensor(ctx, GLU, args, 2, out));
    int64_t d;
    CML_TRY(cml_arg_int(ctx, GLU, args, 1, &d));
    CML_TRY(cml_aten_check_rank(ctx, GLU, *x, "input", 1, CML_MAX_DIMS));
    CML_TRY(cml_aten_norm_dim(ctx, GLU, d, (*x)->rank, dim));
    if ((*x)->sizes[*dim] % 2 != 0)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, GLU, "dim %d has odd size %lld", *dim,
                         (long long)(*x)->sizes[*dim]);
    return CML_OK;
}

cml_status cml_aten_glu_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                size_t *scratch_bytes) {
    cml_tensor *x, *out;
    int32_t dim;
    CML_TRY(glu_read(ctx, args, nargs, &x, &out, &dim));
    if (!cml_aten_is_floating(x->dtype)) return cml_aten_bad_dtype(ctx, GLU, "input", x->dtype);
    if (!cml_aten_is_floating(out->dtype)) return cml_aten_bad_dtype(ctx, GLU, "output", out->dtype);
    CML_TRY(cml_aten_check_contiguous(ctx, GLU, x, "input"));
    CML_TRY(cml_aten_check_contiguous(ctx, GLU, out, "output"));
    *scratch_bytes = 0;
    return CML_OK;
}

cml_status cml_aten_glu_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *x, *out;
    int32_t dim;
    CML_TRY(glu_read(ctx, args, nargs, &x, &out, &dim));
    int64_t osz[CML_MAX_DIMS];
    memcpy(osz, x->sizes, sizeof(int64_t) * (size_t)x->rank);
    osz[dim] /= 2;
    CML_TRY(cml_aten_resize(ctx, GLU, out, x->rank, osz));
    int64_t outer = cml_aten_prod(x->sizes, 0, dim), half = osz[dim] * cml_aten_prod(x->sizes, dim + 1, x->rank);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < half; i++) {
            double a = cml_aten_num_get(x->dtype, x->data, (size_t)(o * 2 * half + i));
            double b = cml_aten_num_get(x->dtype, x->data, (size_t)(o * 2 * half + half + i));
            cml_aten_num_set(out->dtype, out->data, (size_t)(o * half + i), a * (1.0 / (1.0 + exp(-b))));
        }
    return CML_OK;
}
