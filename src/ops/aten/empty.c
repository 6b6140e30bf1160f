/*
 * Creation and host/device copy ops:
 *   empty.out(SymInt[] size, *, MemoryFormat? memory_format=None, Tensor(a!) out)
 *   dim_order_ops::_empty_dim_order.out(int[] size, *, int[]? dim_order=None, Tensor(a!) out)
 *   et_copy::_h2d_copy.out(Tensor self, *, Tensor(a!) out)
 *   et_copy::_d2h_copy.out(Tensor self, *, Tensor(a!) out)
 *
 * The empties only resize out (its contents stay unspecified, as upstream);
 * _empty_dim_order's dim_order, when given, must be contiguous or channels
 * last and equal to out's dim order (without it out must be contiguous).
 * cml runs every tensor in host memory, so the device copies are plain
 * copies: out takes self's shape, same dtype and dim order, byte for byte.
 */
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

static const char EMPTY[] = "aten::empty.out";
static const char EMPTY_DO[] = "dim_order_ops::_empty_dim_order.out";
static const char H2D[] = "et_copy::_h2d_copy.out";
static const char D2H[] = "et_copy::_d2h_copy.out";

static cml_status em_read(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                          int64_t *sizes, uint32_t *rank, cml_tensor **out) {
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, 4));
    CML_TRY(cml_arg_int_list(ctx, op, args, 0, sizes, CML_MAX_DIMS, rank));
    CML_TRY(cml_arg_tensor(ctx, op, args, 2, out));
    if (!cml_aten_is_known_dtype((*out)->dtype)) return cml_aten_bad_dtype(ctx, op, "output", (*out)->dtype);
    if (*rank != (uint32_t)(*out)->rank)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "size has %u dims, output has %d", *rank, (*out)->rank);
    return CML_OK;
}

/* dim_order (if any) is the identity or channels last (0, 2, .., 1) and
 * equals out's; without it out is contiguous. */
static cml_status em_check_order(cml_kernel_ctx *ctx, cml_evalue **args, const cml_tensor *out) {
    int64_t order[CML_MAX_DIMS];
    uint32_t n;
    if (cml_arg_is_none(args, 1)) return cml_aten_check_contiguous(ctx, EMPTY_DO, out, "output");
    CML_TRY(cml_arg_int_list(ctx, EMPTY_DO, args, 1, order, CML_MAX_DIMS, &n));
    if (n != (uint32_t)out->rank)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, EMPTY_DO, "dim_order has %u entries for rank %d", n, out->rank);
    bool contig = true, cl = n >= 3 && order[0] == 0 && order[n - 1] == 1;
    for (uint32_t i = 0; i < n; i++) {
        contig = contig && order[i] == (int64_t)i;
        if (i >= 1 && i + 1 < n) cl = cl && order[i] == (int64_t)i + 1;
        if (order[i] != out->dim_order[i])
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, EMPTY_DO, "dim_order differs from the output's");
    }
    if (!contig && !cl)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, EMPTY_DO, "dim_order is neither contiguous nor channels last");
    return CML_OK;
}

static cml_status em_prepare(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                             size_t *scratch_bytes) {
    int64_t sizes[CML_MAX_DIMS];
    uint32_t rank;
    cml_tensor *out;
    *scratch_bytes = 0;
    CML_TRY(em_read(ctx, op, args, nargs, sizes, &rank, &out));
    if (op == EMPTY_DO) return em_check_order(ctx, args, out);
    return CML_OK;
}

static cml_status em_run(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs) {
    int64_t sizes[CML_MAX_DIMS];
    uint32_t rank;
    cml_tensor *out;
    CML_TRY(em_read(ctx, op, args, nargs, sizes, &rank, &out));
    return cml_aten_resize(ctx, op, out, (int32_t)rank, sizes);
}

cml_status cml_aten_empty_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                  size_t *scratch_bytes) {
    return em_prepare(ctx, EMPTY, args, nargs, scratch_bytes);
}
cml_status cml_aten_empty_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return em_run(ctx, EMPTY, args, nargs);
}
cml_status cml_dim_order_empty_dim_order_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                                 uint32_t nargs, size_t *scratch_bytes) {
    return em_prepare(ctx, EMPTY_DO, args, nargs, scratch_bytes);
}
cml_status cml_dim_order_empty_dim_order_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return em_run(ctx, EMPTY_DO, args, nargs);
}

/* ---- device copies ---- */

static cml_status dc_read(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                          cml_tensor **self, cml_tensor **out) {
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, 3));
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, self));
    CML_TRY(cml_arg_tensor(ctx, op, args, 1, out));
    if (!cml_aten_is_known_dtype((*self)->dtype)) return cml_aten_bad_dtype(ctx, op, "input", (*self)->dtype);
    if ((*out)->dtype != (*self)->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "output dtype %s differs from input %s",
                         cml_dtype_name((*out)->dtype), cml_dtype_name((*self)->dtype));
    if ((*self)->rank != (*out)->rank ||
        memcmp((*self)->dim_order, (*out)->dim_order, (size_t)(*self)->rank))
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "output rank or dim order differs from the input's");
    return CML_OK;
}

static cml_status dc_prepare(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                             size_t *scratch_bytes) {
    cml_tensor *self, *out;
    *scratch_bytes = 0;
    return dc_read(ctx, op, args, nargs, &self, &out);
}

static cml_status dc_run(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    CML_TRY(dc_read(ctx, op, args, nargs, &self, &out));
    CML_TRY(cml_aten_resize(ctx, op, out, self->rank, self->sizes));
    size_t n = cml_tensor_nbytes(self);
    if (n && out->data != self->data) memmove(out->data, self->data, n);
    return CML_OK;
}

cml_status cml_et_copy_h2d_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                        size_t *scratch_bytes) {
    return dc_prepare(ctx, H2D, args, nargs, scratch_bytes);
}
cml_status cml_et_copy_h2d_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return dc_run(ctx, H2D, args, nargs);
}
cml_status cml_et_copy_d2h_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                        size_t *scratch_bytes) {
    return dc_prepare(ctx, D2H, args, nargs, scratch_bytes);
}
cml_status cml_et_copy_d2h_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return dc_run(ctx, D2H, args, nargs);
}
