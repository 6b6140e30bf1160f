/*
 * Reflection and replication padding of the last 1, 2 or 3 dims:
 *   reflection_pad{1,2,3}d.out(Tensor self, SymInt[2n] padding, *, Tensor(a!) out)
 *   replication_pad{1,2,3}d.out(Tensor self, SymInt[2n] padding, *, Tensor(a!) out)
 *
 * padding lists (left, right) pairs starting at the last dim, as torch. The
 * input has rank n+1 or n+2 and any dtype (a copy by element size); out has
 * the input's dtype. As upstream: every padded size must be >= 0, and
 * reflection needs each pad < the padded dim's size. Negative pads crop.
 * Reflection mirrors without repeating the edge (i -> -i), replication
 * repeats the edge element. An index that still falls outside the input (an
 * empty dim padded by replication) fails at run instead of reading outside.
 */
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

typedef struct pad_spec {
    const char *name;
    int32_t n;       /* padded dims */
    bool reflect;
} pad_spec;

typedef struct pad_args {
    cml_tensor *x, *out;
    int64_t pad[6];  /* (left, right) for the last dim, then the one before, ... */
} pad_args;

static cml_status pad_read(cml_kernel_ctx *ctx, const pad_spec *sp, cml_evalue **args,
                           uint32_t nargs, pad_args *a) {
    const char *op = sp->name;
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, 4));
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &a->x));
    CML_TRY(cml_arg_tensor(ctx, op, args, 2, &a->out));
    uint32_t cnt = 0;
    CML_TRY(cml_arg_int_list(ctx, op, args, 1, a->pad, 6, &cnt));
    if (cnt != (uint32_t)(2 * sp->n))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "padding has %u values, expected %d", cnt,
                         2 * sp->n);
    CML_TRY(cml_aten_check_rank(ctx, op, a->x, "input", sp->n + 1, sp->n + 2));
    for (int32_t k = 0; k < sp->n; k++) {
        int64_t size = a->x->sizes[a->x->rank - 1 - k], l = a->pad[2 * k], r = a->pad[2 * k + 1];
        if (l < -ATEN_MAX_GEOM || l > ATEN_MAX_GEOM || r < -ATEN_MAX_GEOM || r > ATEN_MAX_GEOM)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "padding %lld, %lld out of range",
                             (long long)l, (long long)r);
        if (size + l + r < 0)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op,
                             "padding %lld, %lld gives a negative size for dim of size %lld",
                             (long long)l, (long long)r, (long long)size);
        if (sp->reflect && (l >= size || r >= size))
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op,
                             "reflection padding %lld, %lld must be < the dim size %lld",
                             (long long)l, (long long)r, (long long)size);
    }
    return CML_OK;
}

static cml_status pad_prepare(cml_kernel_ctx *ctx, const pad_spec *sp, cml_evalue **args,
                              uint32_t nargs, size_t *scratch_bytes) {
    pad_args a;
    CML_TRY(pad_read(ctx, sp, args, nargs, &a));
    CML_TRY(cml_aten_prep_copy(ctx, sp->name, a.x, a.out));
    CML_TRY(cml_aten_check_contiguous(ctx, sp->name, a.x, "input"));
    *scratch_bytes = 0;
    return CML_OK;
}

/* Source index of output index j along a dim of input size `size`, left pad `pad`. */
static int64_t pad_src(bool reflect, int64_t j, int64_t size, int64_t pad) {
    if (j < pad) return reflect ? pad - j : 0;
    if (j < size + pad) return j - pad;
    return reflect ? 2 * size + pad - j - 2 : size - 1;
}

/* The padded dims as 3 (depth, height, width), missing ones size 1, pad 0. */
static void pad_dims3(const pad_spec *sp, const pad_args *a, int64_t *in3, int64_t *out3,
                      int64_t *left3) {
    int32_t r = a->x->rank;
    for (int32_t k = 0; k < 3; k++) {
        bool has = k < sp->n;
        in3[2 - k] = has ? a->x->sizes[r - 1 - k] : 1;
        out3[2 - k] = has ? a->out->sizes[r - 1 - k] : 1;
        left3[2 - k] = has ? a->pad[2 * k] : 0;
    }
}

static cml_status pad_copy(cml_kernel_ctx *ctx, const pad_spec *sp, const pad_args *a) {
    int64_t in3[3], out3[3], l3[3];
    pad_dims3(sp, a, in3, out3, l3);
    size_t es = cml_dtype_size(a->x->dtype);
    int64_t outer = cml_aten_prod(a->x->sizes, 0, a->x->rank - sp->n);
    const uint8_t *src = a->x->data;
    uint8_t *dst = a->out->data;
    for (int64_t i = 0; i < outer; i++) {
        const uint8_t *s0 = src + (size_t)(i * in3[0] * in3[1] * in3[2]) * es;
        for (int64_t d = 0; d < out3[0]; d++) {
            int64_t sd = pad_src(sp->reflect, d, in3[0], l3[0]);
            for (int64_t h = 0; h < out3[1]; h++) {
                int64_t sh = pad_src(sp->reflect, h, in3[1], l3[1]);
                if (sd < 0 || sd >= in3[0] || sh < 0 || sh >= in3[1]) goto oob;
                const uint8_t *row = s0 + (size_t)((sd * in3[1] + sh) * in3[2]) * es;
                for (int64_t w = 0; w < out3[2]; w++) {
                    int64_t sw = pad_src(sp->reflect, w, in3[2], l3[2]);
                    if (sw < 0 || sw >= in3[2]) goto oob;
                    memcpy(dst, row + (size_t)sw * es, es);
                    dst += es;
                }
            }
        }
    }
    return CML_OK;
oob:
    return cml_aten_fail(ctx, CML_ERR_SHAPE, sp->name, "cannot pad an empty dimension");
}

static cml_status pad_run(cml_kernel_ctx *ctx, const pad_spec *sp, cml_evalue **args,
                          uint32_t nargs) {
    const char *op = sp->name;
    pad_args a;
    CML_TRY(pad_read(ctx, sp, args, nargs, &a));
    int32_t r = a.x->rank;
    int64_t osz[CML_MAX_DIMS];
    memcpy(osz, a.x->sizes, sizeof(int64_t) * (size_t)r);
    for (int32_t k = 0; k < sp->n; k++) osz[r - 1 - k] += a.pad[2 * k] + a.pad[2 * k + 1];
    CML_TRY(cml_aten_resize(ctx, op, a.out, r, osz));
    if (cml_tensor_numel(a.out) == 0) return CML_OK;
    return pad_copy(ctx, sp, &a);
}

#define PAD_OP(fn, NAME, N, REFLECT)                                                             \
    static const pad_spec fn##_spec = {NAME, N, REFLECT};                                        \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes) {                                             \
        return pad_prepare(ctx, &fn##_spec, args, nargs, scratch_bytes);                         \
    }                                                                                            \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                \
        return pad_run(ctx, &fn##_spec, args, nargs);                                            \
    }

PAD_OP(cml_aten_reflection_pad1d_out,  "aten::reflection_pad1d.out",  1, true)
PAD_OP(cml_aten_reflection_pad2d_out,  "aten::reflection_pad2d.out",  2, true)
PAD_OP(cml_aten_reflection_pad3d_out,  "aten::reflection_pad3d.out",  3, true)
PAD_OP(cml_aten_replication_pad1d_out, "aten::replication_pad1d.out", 1, false)
PAD_OP(cml_aten_replication_pad2d_out, "aten::replication_pad2d.out", 2, false)
PAD_OP(cml_aten_replication_pad3d_out, "aten::replication_pad3d.out", 3, false)
