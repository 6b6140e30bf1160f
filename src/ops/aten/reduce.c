/*
 * Reductions over a set of dims:
 *   mean.out(Tensor self, int[1]? dim, bool keepdim=False, *, ScalarType? dtype=None, Tensor(a!) out)
 *   sum.IntList_out(Tensor self, int[1]? dim, bool keepdim=False, *, ScalarType? dtype=None, Tensor(a!) out)
 *   mean.dtype_out(Tensor self, *, ScalarType? dtype=None, Tensor(a!) out)
 *   amax.out / amin.out(Tensor self, int[1] dim=[], bool keepdim=False, *, Tensor(a!) out)
 *   argmax.out / argmin.out(Tensor self, int? dim=None, bool keepdim=False, *, Tensor(a!) out)
 *
 * The reduced dims are mapped onto the kernel's [outer, axis, inner] view
 * directly when they are adjacent (size-1 dims ignored); otherwise the input
 * is first permuted (kept dims, then reduced dims) into scratch.
 *
 * sum takes any real or Bool input (as upstream): a float output sums in
 * fp32, an integer or Bool output in int64 (see red_int_sum).
 */
#include <math.h>
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

enum red_form {
    RF_DIMS_DTYPE, /* (self, dim?, keepdim, dtype?, out) */
    RF_ALL_DTYPE,  /* (self, dtype?, out) */
    RF_DIMS,       /* (self, dim[], keepdim, out) */
    RF_ARG,        /* (self, dim?, keepdim, out) -> int64 */
};

typedef struct red_spec {
    const char *name;
    cml_reduce_op op;
    uint8_t form;
    uint8_t arg_max; /* RF_ARG: argmax (1) or argmin (0) */
    uint8_t nargs;
} red_spec;

typedef struct red_args {
    cml_tensor *x, *out;
    bool mask[CML_MAX_DIMS]; /* reduced dims */
    bool keepdim;
    bool flatten;            /* RF_ARG with dim=None */
} red_args;

static cml_status red_read(cml_kernel_ctx *ctx, const red_spec *sp, cml_evalue **args,
                           uint32_t nargs, red_args *a) {
    const char *op = sp->name;
    if (nargs != sp->nargs)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "expected %u args, got %u", sp->nargs, nargs);
    memset(a, 0, sizeof *a);
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &a->x));
    CML_TRY(cml_arg_tensor(ctx, op, args, nargs - 2, &a->out));
    int32_t rank = a->x->rank;
    int64_t dims[CML_MAX_DIMS];
    uint32_t ndims = 0;
    bool all = false;
    switch (sp->form) {
    case RF_ALL_DTYPE: all = true; break;
    case RF_DIMS_DTYPE:
    case RF_DIMS:
        if (cml_arg_is_none(args, 1)) {
            all = true;
        } else {
            CML_TRY(cml_arg_int_list(ctx, op, args, 1, dims, CML_MAX_DIMS, &ndims));
            if (ndims > CML_MAX_DIMS)
                return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "%u dims listed", ndims);
            all = ndims == 0;
        }
        CML_TRY(cml_arg_bool(ctx, op, args, 2, &a->keepdim));
        break;
    case RF_ARG: {
        bool present;
        int64_t d;
        CML_TRY(cml_aten_arg_opt_int(ctx, op, args, 1, &present, &d));
        CML_TRY(cml_arg_bool(ctx, op, args, 2, &a->keepdim));
        if (present) {
            dims[0] = d;
            ndims = 1;
        } else {
            all = true;
            a->flatten = true;
        }
        break;
    }
    default: break;
    }
    if (sp->form == RF_DIMS_DTYPE || sp->form == RF_ALL_DTYPE) {
        uint32_t di = sp->form == RF_DIMS_DTYPE ? 3 : 1;
        if (!cml_arg_is_none(args, di)) {
            int64_t dt;
            CML_TRY(cml_arg_int(ctx, op, args, di, &dt));
            if ((cml_dtype)dt != a->out->dtype)
                return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "dtype %s does not match output %s",
                                 cml_dtype_name((cml_dtype)dt), cml_dtype_name(a->out->dtype));
        }
    }
    if (all) {
        for (int32_t d = 0; d < rank; d++) a->mask[d] = true;
    } else {
        for (uint32_t k = 0; k < ndims; k++) {
            int32_t d;
            CML_TRY(cml_aten_norm_dim(ctx, op, dims[k], rank, &d));
            if (rank == 0) continue;
            if (a->mask[d])
                return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "dim %d listed twice", d);
            a->mask[d] = true;
        }
    }
    return CML_OK;
}

/* Output shape for the current input shape. */
static int32_t red_out_shape(const red_args *a, int64_t *osz) {
    int32_t r = 0;
    if (a->flatten && !a->keepdim) return 0;
    for (int32_t d = 0; d < a->x->rank; d++) {
        if (!a->mask[d]) osz[r++] = a->x->sizes[d];
        else if (a->keepdim) osz[r++] = 1;
    }
    return r;
}

/* Whether the reduced dims (ignoring size-1 dims) are adjacent; fills the view. */
static bool red_view(const red_args *a, int64_t *outer, int64_t *axis, int64_t *inner) {
    const cml_tensor *x = a->x;
    int32_t lo = -1, hi = -1;
    for (int32_t d = 0; d < x->rank; d++) {
        if (a->mask[d] && x->sizes[d] != 1) {
            if (lo < 0) lo = d;
            hi = d;
        }
    }
    if (lo < 0) {
        *outer = cml_tensor_numel(x);
        *axis = 1;
        *inner = 1;
        return true;
    }
    for (int32_t d = lo; d <= hi; d++)
        if (!a->mask[d] && x->sizes[d] != 1) return false;
    *outer = cml_aten_prod(x->sizes, 0, lo);
    *axis = cml_aten_prod(x->sizes, lo, hi + 1);
    *inner = cml_aten_prod(x->sizes, hi + 1, x->rank);
    return true;
}

/* sum with an integer or Bool output accumulates in int64 (wrapping like
 * the output type; a Bool output is "any element non-zero"). */
static bool red_int_sum(const red_spec *sp, const red_args *a) {
    return sp->op == CML_RED_SUM && cml_aten_is_int_or_bool(a->out->dtype);
}

static cml_status red_prepare(cml_kernel_ctx *ctx, const red_spec *sp, cml_evalue **args,
                              uint32_t nargs, size_t *scratch_bytes) {
    red_args a;
    CML_TRY(red_read(ctx, sp, args, nargs, &a));
    if (sp->op == CML_RED_SUM) { /* any real or Bool input and output, as upstream */
        if (!cml_aten_is_float(a.x->dtype) && !cml_aten_is_int_or_bool(a.x->dtype))
            return cml_aten_bad_dtype(ctx, sp->name, "input", a.x->dtype);
    } else {
        CML_TRY(cml_aten_check_float(ctx, sp->name, a.x, "input"));
    }
    CML_TRY(cml_aten_check_contiguous(ctx, sp->name, a.x, "input"));
    CML_TRY(cml_aten_check_contiguous(ctx, sp->name, a.out, "output"));
    if (sp->form == RF_ARG) {
        if (a.out->dtype != CML_DTYPE_INT64) return cml_aten_bad_dtype(ctx, sp->name, "output", a.out->dtype);
    } else if (!red_int_sum(sp, &a)) {
        CML_TRY(cml_aten_check_float(ctx, sp->name, a.out, "output"));
    }
    bool ints = red_int_sum(sp, &a);
    size_t es = ints ? sizeof(int64_t) : sizeof(float);
    size_t need = ints ? cml_aten_align(cml_aten_bound_numel(a.x) * es) + cml_aten_i64_need(a.out)
                       : cml_aten_f32_need(a.x) + (sp->form == RF_ARG ? 0 : cml_aten_f32_need(a.out));
    int64_t o, ax, in;
    if (!a.flatten && !red_view(&a, &o, &ax, &in)) need += cml_aten_align(cml_aten_bound_numel(a.x) * es);
    *scratch_bytes = need;
    return CML_OK;
}

/* Views the (staged, es-byte) input x as [outer, axis, inner], permuting it
 * into scratch (kept dims, then reduced dims) when the reduced dims are not
 * adjacent. */
static cml_status red_layout(cml_kernel_ctx *ctx, const char *op, const red_args *a,
                             cml_aten_scratch *s, size_t es, const void **x, int64_t *outer,
                             int64_t *axis, int64_t *inner) {
    if (a->flatten) {
        *outer = 1;
        *axis = cml_tensor_numel(a->x);
        *inner = 1;
        return CML_OK;
    }
    if (red_view(a, outer, axis, inner)) return CML_OK;
    const cml_tensor *t = a->x;
    int64_t st[CML_MAX_DIMS], psz[CML_MAX_DIMS], pst[CML_MAX_DIMS], dst[CML_MAX_DIMS];
    cml_aten_contig_strides(t->rank, t->sizes, st);
    int32_t r = 0;
    *outer = 1;
    *axis = 1;
    for (int pass = 0; pass < 2; pass++) /* kept dims, then reduced dims */
        for (int32_t d = 0; d < t->rank; d++)
            if (a->mask[d] == (pass == 1)) {
                psz[r] = t->sizes[d];
                pst[r++] = st[d];
                *(pass ? axis : outer) *= t->sizes[d];
            }
    *inner = 1;
    void *buf = cml_aten_scratch_alloc(s, (size_t)(*outer * *axis) * es);
    if (!buf) return cml_aten_scratch_short(ctx, op);
    cml_aten_contig_strides(r, psz, dst);
    cml_k_copy_strided(es, r, psz, *x, pst, buf, dst);
    *x = buf;
    return CML_OK;
}

static cml_status red_sum_int(cml_kernel_ctx *ctx, const char *op, const red_args *a,
                              cml_aten_scratch *s) {
    size_t xn = (size_t)cml_tensor_numel(a->x);
    int64_t *xs = cml_aten_scratch_alloc(s, xn * sizeof(int64_t));
    if (!xs) return cml_aten_scratch_short(ctx, op);
    if (xn) cml_k_convert(a->x->dtype, a->x->data, CML_DTYPE_INT64, xs, xn);
    if (a->out->dtype == CML_DTYPE_BOOL)
        for (size_t k = 0; k < xn; k++) xs[k] = xs[k] != 0;
    const void *xv = xs;
    int64_t outer, axis, inner;
    CML_TRY(red_layout(ctx, op, a, s, sizeof(int64_t), &xv, &outer, &axis, &inner));
    int64_t *y = cml_aten_out_i64(s, a->out);
    if (!y) return cml_aten_scratch_short(ctx, op);
    const int64_t *x = xv;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            uint64_t acc = 0; /* wraps */
            for (int64_t k = 0; k < axis; k++) acc += (uint64_t)x[(o * axis + k) * inner + i];
            y[o * inner + i] = (int64_t)acc;
        }
    cml_aten_store_i64(a->out, y);
    return CML_OK;
}

static cml_status red_run(cml_kernel_ctx *ctx, const red_spec *sp, cml_evalue **args,
                          uint32_t nargs) {
    const char *op = sp->name;
    red_args a;
    CML_TRY(red_read(ctx, sp, args, nargs, &a));
    int64_t osz[CML_MAX_DIMS];
    int32_t orank = red_out_shape(&a, osz);
    CML_TRY(cml_aten_resize(ctx, op, a.out, orank, osz));
    size_t on = (size_t)cml_tensor_numel(a.out);
    if (on == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    if (red_int_sum(sp, &a)) return red_sum_int(ctx, op, &a, &s);
    const void *xv = cml_aten_load_f32(&s, a.x);
    if (!xv) return cml_aten_scratch_short(ctx, op);
    int64_t outer, axis, inner;
    CML_TRY(red_layout(ctx, op, &a, &s, sizeof(float), &xv, &outer, &axis, &inner));
    const float *x = xv;
    if (sp->form == RF_ARG) {
        if (axis == 0)
            return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "cannot reduce over an empty dimension");
        cml_k_argreduce_f32(sp->arg_max != 0, x, a.out->data, (size_t)outer, (size_t)axis,
                            (size_t)inner);
        return CML_OK;
    }
    float *y = cml_aten_out_f32(&s, a.out);
    if (!y) return cml_aten_scratch_short(ctx, op);
    if (axis == 0) {
        if (sp->op == CML_RED_MAX || sp->op == CML_RED_MIN)
            return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "cannot reduce over an empty dimension");
        float v = sp->op == CML_RED_MEAN ? NAN : 0.0f;
        for (size_t k = 0; k < on; k++) y[k] = v;
    } else {
        cml_k_reduce_f32(sp->op, x, y, (size_t)outer, (size_t)axis, (size_t)inner);
    }
    cml_aten_store_f32(a.out, y);
    return CML_OK;
}

#define RED_OP(fn, NAME, ROP, FORM, ARGMAX, NARGS)                                               \
    static const red_spec fn##_spec = {NAME, ROP, FORM, ARGMAX, NARGS};                          \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes) {                                             \
        return red_prepare(ctx, &fn##_spec, args, nargs, scratch_bytes);                         \
    }                                                                                            \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                \
        return red_run(ctx, &fn##_spec, args, nargs);                                            \
    }

RED_OP(cml_aten_mean_out,         "aten::mean.out",         CML_RED_MEAN, RF_DIMS_DTYPE, 0, 6)
RED_OP(cml_aten_mean_dtype_out,   "aten::mean.dtype_out",   CML_RED_MEAN, RF_ALL_DTYPE,  0, 4)
RED_OP(cml_aten_sum_intlist_out,  "aten::sum.IntList_out",  CML_RED_SUM,  RF_DIMS_DTYPE, 0, 6)
RED_OP(cml_aten_amax_out,         "aten::amax.out",         CML_RED_MAX,  RF_DIMS,       0, 5)
RED_OP(cml_aten_amin_out,         "aten::amin.out",         CML_RED_MIN,  RF_DIMS,       0, 5)
RED_OP(cml_aten_argmax_out,       "aten::argmax.out",       CML_RED_MAX,  RF_ARG,        1, 5)
RED_OP(cml_aten_argmin_out,       "aten::argmin.out",       CML_RED_MIN,  RF_ARG,        0, 5)
