/*
 * Reductions over every real dtype (upstream's REALHBBF16 / FLOATHBF16 sets):
 *   any.all_out(Tensor self, *, Tensor(a!) out)
 *   any.dims_out(Tensor self, int[]? dim=None, bool keepdim=False, *, Tensor(a!) out)
 *   any.out(Tensor self, int dim, bool keepdim=False, *, Tensor(a!) out)
 *   var.out(Tensor self, int[1]? dim, bool unbiased=True, bool keepdim=False, *, Tensor(a!) out)
 *   var.correction_out(Tensor self, int[1]? dim=None, *, Scalar? correction=None,
 *                      bool keepdim=False, Tensor(a!) out)
 *   var_mean.correction_out(Tensor self, int[1]? dim=None, *, Scalar? correction=None,
 *                           bool keepdim=False, Tensor(a!) out0, Tensor(b!) out1)
 *   prod.out(Tensor self, *, ScalarType? dtype=None, Tensor(a!) out)
 *   prod.int_out(Tensor self, int dim, bool keepdim=False, *, ScalarType? dtype=None,
 *                Tensor(a!) out)
 *   max.dim_max / min.dim_min(Tensor self, int dim, bool keepdim=False, *,
 *                             Tensor(a!) values, Tensor(b!) indices)
 *   max.unary_out / min.unary_out(Tensor self, *, Tensor(a!) out)
 *
 * Semantics as upstream's portable kernels:
 * - any: out is bool or uint8; a value counts when != 0 (NaN counts).
 *   any.dims_out with an empty dim list is an elementwise cast (no
 *   reduction); None reduces every dim. Empty reductions give false.
 * - var / var_mean: float dtypes in and out (any mix); two passes (mean,
 *   then squared deviations) in double; divisor N - correction (unbiased:
 *   N - 1); a divisor <= 0 or N = 0 gives NaN. None or [] reduces every dim.
 * - prod: out dtype = dtype when given; else int64 for integer/bool inputs
 *   and the input dtype for floats (prod.int_out takes any out dtype, as
 *   upstream). Integer products wrap in the out type's width; an empty
 *   product is 1.
 * - max/min.dim: values have the input dtype, indices int64; the first NaN
 *   wins and stays, otherwise the first extreme (ties -> lowest index); the
 *   reduced dim must not be empty. unary: out may be any dtype the input
 *   casts to (no float -> integer, nothing but bool -> bool); the first NaN
 *   wins; an empty input gives -inf (lowest integer, false) for max and
 *   +inf (highest integer, true) for min, as upstream.
 * Inputs are read through their strides (any dim order); outputs must be
 * contiguous.
 */
#include <math.h>
#include <string.h>

#include "ops/aten/aten_num.h"
#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

/* ---- the reduction plan: kept dims outside, reduced dims inside ------------ */

typedef struct rd_plan {
    int32_t nk, nr;
    int64_t ksz[CML_MAX_DIMS], kst[CML_MAX_DIMS];
    int64_t rsz[CML_MAX_DIMS], rst[CML_MAX_DIMS];
    int64_t outer, count; /* output elements, elements per output */
} rd_plan;

static void rd_plan_init(rd_plan *p, const cml_tensor *x, const bool *mask) {
    int64_t st[CML_MAX_DIMS];
    cml_tensor_strides(x, st);
    memset(p, 0, sizeof *p);
    p->outer = p->count = 1;
    for (int32_t d = 0; d < x->rank; d++) {
        if (mask[d]) {
            p->rsz[p->nr] = x->sizes[d];
            p->rst[p->nr++] = st[d];
            p->count *= x->sizes[d];
        } else {
            p->ksz[p->nk] = x->sizes[d];
            p->kst[p->nk++] = st[d];
            p->outer *= x->sizes[d];
        }
    }
}

/* Element offset of flat index i over (sizes, strides) of n dims. */
static int64_t rd_offset(int32_t n, const int64_t *sz, const int64_t *st, int64_t i) {
    int64_t off = 0;
    for (int32_t d = n - 1; d >= 0; d--) {
        off += (i % sz[d]) * st[d];
        i /= sz[d];
    }
    return off;
}
static size_t rd_at(const rd_plan *p, int64_t o, int64_t r) {
    return (size_t)(rd_offset(p->nk, p->ksz, p->kst, o) + rd_offset(p->nr, p->rsz, p->rst, r));
}

/* Output shape: kept dims, reduced ones as 1 with keepdim. */
static int32_t rd_out_shape(const cml_tensor *x, const bool *mask, bool keepdim, int64_t *osz) {
    int32_t r = 0;
    for (int32_t d = 0; d < x->rank; d++) {
        if (!mask[d]) osz[r++] = x->sizes[d];
        else if (keepdim) osz[r++] = 1;
    }
    return r;
}

/* Dim list (None or [] = every dim when empty_all) into a mask. */
static cml_status rd_dims(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                          const cml_tensor *x, bool empty_all, bool *mask, bool *identity) {
    memset(mask, 0, sizeof(bool) * CML_MAX_DIMS);
    *identity = false;
    int64_t dims[CML_MAX_DIMS];
    uint32_t n = 0;
    if (!cml_arg_is_none(args, i)) {
        CML_TRY(cml_arg_int_list(ctx, op, args, i, dims, CML_MAX_DIMS, &n));
        if (n > CML_MAX_DIMS) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "%u dims listed", n);
        if (n == 0 && !empty_all) {
            *identity = true;
            return CML_OK;
        }
    }
    if (n == 0) {
        for (int32_t d = 0; d < x->rank; d++) mask[d] = true;
        return CML_OK;
    }
    for (uint32_t k = 0; k < n; k++) {
        int32_t d;
        CML_TRY(cml_aten_norm_dim(ctx, op, dims[k], x->rank, &d));
        if (x->rank == 0) continue;
        if (mask[d]) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "dim %d listed twice", d);
        mask[d] = true;
    }
    return CML_OK;
}

/* A single dim into a mask (rank 0 accepts 0 and -1 and reduces nothing). */
static cml_status rd_dim1(cml_kernel_ctx *ctx, const char *op, int64_t dim, const cml_tensor *x,
                          bool *mask) {
    memset(mask, 0, sizeof(bool) * CML_MAX_DIMS);
    int32_t d;
    CML_TRY(cml_aten_norm_dim(ctx, op, dim, x->rank, &d));
    if (x->rank > 0) mask[d] = true;
    return CML_OK;
}

static cml_status rd_resize(cml_kernel_ctx *ctx, const char *op, const cml_tensor *x,
                            const bool *mask, bool keepdim, cml_tensor *out) {
    int64_t osz[CML_MAX_DIMS];
    int32_t r = rd_out_shape(x, mask, keepdim, osz);
    return cml_aten_resize(ctx, op, out, r, osz);
}

static cml_status rd_check_in(cml_kernel_ctx *ctx, const char *op, const cml_tensor *x, bool floats) {
    if (floats ? cml_aten_is_floating(x->dtype) : cml_aten_is_realhbbf16(x->dtype)) return CML_OK;
    return cml_aten_bad_dtype(ctx, op, "input", x->dtype);
}

/* ---- any ------------------------------------------------------------------- */

enum { ANY_ALL, ANY_DIMS, ANY_DIM };

typedef struct any_args {
    cml_tensor *x, *out;
    bool mask[CML_MAX_DIMS];
    bool keepdim;
} any_args;

static cml_status any_read(cml_kernel_ctx *ctx, const char *op, int form, cml_evalue **args,
                           uint32_t nargs, any_args *a) {
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, form == ANY_ALL ? 3 : 5));
    memset(a, 0, sizeof *a);
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &a->x));
    CML_TRY(cml_arg_tensor(ctx, op, args, nargs - 2, &a->out));
    if (form == ANY_ALL) {
        for (int32_t d = 0; d < a->x->rank; d++) a->mask[d] = true;
        return CML_OK;
    }
    CML_TRY(cml_arg_bool(ctx, op, args, 2, &a->keepdim));
    if (form == ANY_DIMS) {
        bool identity;
        return rd_dims(ctx, op, args, 1, a->x, false, a->mask, &identity);
    }
    int64_t dim;
    CML_TRY(cml_arg_int(ctx, op, args, 1, &dim));
    return rd_dim1(ctx, op, dim, a->x, a->mask);
}

static cml_status any_prepare(cml_kernel_ctx *ctx, const char *op, int form, cml_evalue **args,
                              uint32_t nargs, size_t *scratch_bytes) {
    any_args a;
    CML_TRY(any_read(ctx, op, form, args, nargs, &a));
    CML_TRY(rd_check_in(ctx, op, a.x, false));
    if (a.out->dtype != CML_DTYPE_BOOL && a.out->dtype != CML_DTYPE_UINT8)
        return cml_aten_bad_dtype(ctx, op, "output (bool or uint8 only)", a.out->dtype);
    CML_TRY(cml_aten_check_contiguous(ctx, op, a.out, "output"));
    *scratch_bytes = 0;
    return CML_OK;
}

static cml_status any_run(cml_kernel_ctx *ctx, const char *op, int form, cml_evalue **args,
                          uint32_t nargs) {
    any_args a;
    CML_TRY(any_read(ctx, op, form, args, nargs, &a));
    CML_TRY(rd_resize(ctx, op, a.x, a.mask, a.keepdim, a.out));
    rd_plan p;
    rd_plan_init(&p, a.x, a.mask);
    uint8_t *y = a.out->data;
    for (int64_t o = 0; o < p.outer; o++) {
        bool any = false;
        for (int64_t r = 0; r < p.count && !any; r++)
            any = cml_aten_num_get(a.x->dtype, a.x->data, rd_at(&p, o, r)) != 0.0;
        y[o] = any;
    }
    return CML_OK;
}

#define ANY_OP(fn, NAME, FORM)                                                                   \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes) {                                             \
        return any_prepare(ctx, NAME, FORM, args, nargs, scratch_bytes);                         \
    }                                                                                            \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                \
        return any_run(ctx, NAME, FORM, args, nargs);                                            \
    }

ANY_OP(cml_aten_any_all_out,  "aten::any.all_out",  ANY_ALL)
ANY_OP(cml_aten_any_dims_out, "aten::any.dims_out", ANY_DIMS)
ANY_OP(cml_aten_any_out,      "aten::any.out",      ANY_DIM)

/* ---- var / var_mean ---------------------------------------------------------- */

enum { VAR_UNBIASED, VAR_CORRECTION, VAR_MEAN };

typedef struct var_args {
    cml_tensor *x, *var, *mean; /* mean: var_mean only */
    bool mask[CML_MAX_DIMS];
    bool keepdim;
    double correction;
} var_args;

static cml_status var_read(cml_kernel_ctx *ctx, const char *op, int form, cml_evalue **args,
                           uint32_t nargs, var_args *a) {
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, form == VAR_MEAN ? 7 : 6));
    memset(a, 0, sizeof *a);
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &a->x));
    CML_TRY(cml_arg_tensor(ctx, op, args, 4, &a->var));
    if (form == VAR_MEAN) CML_TRY(cml_arg_tensor(ctx, op, args, 5, &a->mean));
    CML_TRY(cml_arg_bool(ctx, op, args, 3, &a->keepdim));
    bool identity;
    CML_TRY(rd_dims(ctx, op, args, 1, a->x, true, a->mask, &identity));
    if (form == VAR_UNBIASED) {
        bool unbiased;
        CML_TRY(cml_arg_bool(ctx, op, args, 2, &unbiased));
        a->correction = unbiased ? 1.0 : 0.0;
    } else if (cml_arg_is_none(args, 2)) {
        a->correction = 1.0;
    } else {
        int64_t iv;
        bool is_int;
        CML_TRY(cml_aten_arg_scalar(ctx, op, args, 2, &a->correction, &iv, &is_int));
    }
    return CML_OK;
}

static cml_status var_prepare(cml_kernel_ctx *ctx, const char *op, int form, cml_evalue **args,
                              uint32_t nargs, size_t *scratch_bytes) {
    var_args a;
    CML_TRY(var_read(ctx, op, form, args, nargs, &a));
    CML_TRY(rd_check_in(ctx, op, a.x, true));
    if (!cml_aten_is_floating(a.var->dtype)) return cml_aten_bad_dtype(ctx, op, "output", a.var->dtype);
    CML_TRY(cml_aten_check_contiguous(ctx, op, a.var, "output"));
    if (a.mean) {
        if (a.mean->dtype != a.var->dtype)
            return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "mean output %s differs from var output %s",
                             cml_dtype_name(a.mean->dtype), cml_dtype_name(a.var->dtype));
        CML_TRY(cml_aten_check_contiguous(ctx, op, a.mean, "mean output"));
    }
    *scratch_bytes = 0;
    return CML_OK;
}

static cml_status var_run(cml_kernel_ctx *ctx, const char *op, int form, cml_evalue **args,
                          uint32_t nargs) {
    var_args a;
    CML_TRY(var_read(ctx, op, form, args, nargs, &a));
    CML_TRY(rd_resize(ctx, op, a.x, a.mask, a.keepdim, a.var));
    if (a.mean) CML_TRY(rd_resize(ctx, op, a.x, a.mask, a.keepdim, a.mean));
    rd_plan p;
    rd_plan_init(&p, a.x, a.mask);
    double denom = (double)p.count - a.correction;
    cml_dtype dt = a.x->dtype;
    for (int64_t o = 0; o < p.outer; o++) {
        double sum = 0.0, sum2 = 0.0;
        for (int64_t r = 0; r < p.count; r++) sum += cml_aten_num_get(dt, a.x->data, rd_at(&p, o, r));
        double mean = sum / (double)p.count;
        for (int64_t r = 0; r < p.count; r++) {
            double dv = cml_aten_num_get(dt, a.x->data, rd_at(&p, o, r)) - mean;
            sum2 += dv * dv;
        }
        bool bad = p.count == 0 || !(denom > 0);
        cml_aten_num_set(a.var->dtype, a.var->data, (size_t)o, bad ? NAN : sum2 / denom);
        if (a.mean) cml_aten_num_set(a.mean->dtype, a.mean->data, (size_t)o, bad ? NAN : mean);
    }
    return CML_OK;
}

#define VAR_OP(fn, NAME, FORM)                                                                   \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes) {                                             \
        return var_prepare(ctx, NAME, FORM, args, nargs, scratch_bytes);                         \
    }                                                                                            \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                \
        return var_run(ctx, NAME, FORM, args, nargs);                                            \
    }

VAR_OP(cml_aten_var_out,                   "aten::var.out",                   VAR_UNBIASED)
VAR_OP(cml_aten_var_correction_out,        "aten::var.correction_out",        VAR_CORRECTION)
VAR_OP(cml_aten_var_mean_correction_out,   "aten::var_mean.correction_out",   VAR_MEAN)

/* ---- prod ------------------------------------------------------------------- */

typedef struct prod_args {
    cml_tensor *x, *out;
    bool mask[CML_MAX_DIMS];
    bool keepdim, has_dtype;
    int64_t dtype;
} prod_args;

static cml_status prod_read(cml_kernel_ctx *ctx, const char *op, bool all, cml_evalue **args,
                            uint32_t nargs, prod_args *a) {
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, all ? 4 : 6));
    memset(a, 0, sizeof *a);
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &a->x));
    CML_TRY(cml_arg_tensor(ctx, op, args, nargs - 2, &a->out));
    CML_TRY(cml_aten_arg_opt_int(ctx, op, args, nargs - 3, &a->has_dtype, &a->dtype));
    if (all) {
        for (int32_t d = 0; d < a->x->rank; d++) a->mask[d] = true;
        return CML_OK;
    }
    int64_t dim;
    CML_TRY(cml_arg_int(ctx, op, args, 1, &dim));
    CML_TRY(cml_arg_bool(ctx, op, args, 2, &a->keepdim));
    return rd_dim1(ctx, op, dim, a->x, a->mask);
}

static cml_status prod_prepare(cml_kernel_ctx *ctx, const char *op, bool all, cml_evalue **args,
                               uint32_t nargs, size_t *scratch_bytes) {
    prod_args a;
    CML_TRY(prod_read(ctx, op, all, args, nargs, &a));
    CML_TRY(rd_check_in(ctx, op, a.x, false));
    cml_dtype od = a.out->dtype;
    if (!cml_aten_is_realhbbf16(od)) return cml_aten_bad_dtype(ctx, op, "output", od);
    if (a.has_dtype && a.dtype != (int64_t)od)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "dtype %lld does not match output %s",
                         (long long)a.dtype, cml_dtype_name(od));
    if (all && !a.has_dtype) {
        cml_dtype want = cml_aten_is_floating(a.x->dtype) ? a.x->dtype : CML_DTYPE_INT64;
        if (od != want)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "output must be %s for %s input, is %s",
                             cml_dtype_name(want), cml_dtype_name(a.x->dtype), cml_dtype_name(od));
    }
    CML_TRY(cml_aten_check_contiguous(ctx, op, a.out, "output"));
    *scratch_bytes = 0;
    return CML_OK;
}

static cml_status prod_run(cml_kernel_ctx *ctx, const char *op, bool all, cml_evalue **args,
                           uint32_t nargs) {
    prod_args a;
    CML_TRY(prod_read(ctx, op, all, args, nargs, &a));
    CML_TRY(rd_resize(ctx, op, a.x, a.mask, a.keepdim, a.out));
    rd_plan p;
    rd_plan_init(&p, a.x, a.mask);
    cml_dtype dt = a.x->dtype, od = a.out->dtype;
    for (int64_t o = 0; o < p.outer; o++) {
        if (cml_aten_is_int(od)) {
            /* wraps modulo 2^64, then to the out width: the out type's own wrap */
            uint64_t acc = 1;
            for (int64_t r = 0; r < p.count; r++)
                acc *= (uint64_t)cml_aten_num_get_i64(dt, a.x->data, rd_at(&p, o, r));
            int64_t v;
            memcpy(&v, &acc, sizeof v);
            cml_k_convert(CML_DTYPE_INT64, &v, od,
                          (uint8_t *)a.out->data + (size_t)o * cml_dtype_size(od), 1);
        } else {
            double acc = 1.0;
            for (int64_t r = 0; r < p.count; r++) acc *= cml_aten_num_get(dt, a.x->data, rd_at(&p, o, r));
            cml_aten_num_set(od, a.out->data, (size_t)o, acc);
        }
    }
    return CML_OK;
}

cml_status cml_aten_prod_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                 size_t *scratch_bytes) {
    return prod_prepare(ctx, "aten::prod.out", true, args, nargs, scratch_bytes);
}
cml_status cml_aten_prod_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return prod_run(ctx, "aten::prod.out", true, args, nargs);
}
cml_status cml_aten_prod_int_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                     size_t *scratch_bytes) {
    return prod_prepare(ctx, "aten::prod.int_out", false, args, nargs, scratch_bytes);
}
cml_status cml_aten_prod_int_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return prod_run(ctx, "aten::prod.int_out", false, args, nargs);
}

/* ---- max / min ---------------------------------------------------------------- */

/* Whether element i beats the current best (NaN first, then strict order). */
static bool mm_better(cml_dtype dt, const void *x, size_t i, size_t best, bool is_max) {
    if (cml_aten_is_floating(dt)) {
        double v = cml_aten_num_get(dt, x, i), b = cml_aten_num_get(dt, x, best);
        if (isnan(b)) return false;
        if (isnan(v)) return true;
        return is_max ? v > b : v < b;
    }
    int64_t v = cml_aten_num_get_i64(dt, x, i), b = cml_aten_num_get_i64(dt, x, best);
    return is_max ? v > b : v < b;
}

typedef struct mm_args {
    cml_tensor *x, *val, *idx;
    bool mask[CML_MAX_DIMS];
    bool keepdim;
} mm_args;

static cml_status mm_read(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                          mm_args *a) {
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, 6));
    memset(a, 0, sizeof *a);
    int64_t dim;
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &a->x));
    CML_TRY(cml_arg_int(ctx, op, args, 1, &dim));
    CML_TRY(cml_arg_bool(ctx, op, args, 2, &a->keepdim));
    CML_TRY(cml_arg_tensor(ctx, op, args, 3, &a->val));
    CML_TRY(cml_arg_tensor(ctx, op, args, 4, &a->idx));
    CML_TRY(rd_dim1(ctx, op, dim, a->x, a->mask));
    int32_t d = a->x->rank > 0 ? (int32_t)(dim < 0 ? dim + a->x->rank : dim) : 0;
    if (a->x->rank > 0 && a->x->sizes[d] == 0)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "cannot reduce over the empty dim %d", d);
    return CML_OK;
}

static cml_status mm_prepare(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                             size_t *scratch_bytes) {
    mm_args a;
    CML_TRY(mm_read(ctx, op, args, nargs, &a));
    CML_TRY(rd_check_in(ctx, op, a.x, false));
    if (a.val->dtype != a.x->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "values output %s differs from input %s",
                         cml_dtype_name(a.val->dtype), cml_dtype_name(a.x->dtype));
    if (a.idx->dtype != CML_DTYPE_INT64) return cml_aten_bad_dtype(ctx, op, "indices output", a.idx->dtype);
    CML_TRY(cml_aten_check_contiguous(ctx, op, a.val, "values output"));
    CML_TRY(cml_aten_check_contiguous(ctx, op, a.idx, "indices output"));
    *scratch_bytes = 0;
    return CML_OK;
}

static cml_status mm_run(cml_kernel_ctx *ctx, const char *op, bool is_max, cml_evalue **args,
                         uint32_t nargs) {
    mm_args a;
    CML_TRY(mm_read(ctx, op, args, nargs, &a));
    CML_TRY(rd_resize(ctx, op, a.x, a.mask, a.keepdim, a.val));
    CML_TRY(rd_resize(ctx, op, a.x, a.mask, a.keepdim, a.idx));
    rd_plan p;
    rd_plan_init(&p, a.x, a.mask);
    size_t es = cml_dtype_size(a.x->dtype);
    for (int64_t o = 0; o < p.outer; o++) {
        int64_t best = 0;
        for (int64_t r = 1; r < p.count; r++)
            if (mm_better(a.x->dtype, a.x->data, rd_at(&p, o, r), rd_at(&p, o, best), is_max)) best = r;
        memcpy((uint8_t *)a.val->data + (size_t)o * es,
               cml_aten_elem_ptr(a.x, (int64_t)rd_at(&p, o, best)), es);
        ((int64_t *)a.idx->data)[o] = best;
    }
    return CML_OK;
}

cml_status cml_aten_max_dim_max_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                    size_t *scratch_bytes) {
    return mm_prepare(ctx, "aten::max.dim_max", args, nargs, scratch_bytes);
}
cml_status cml_aten_max_dim_max_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return mm_run(ctx, "aten::max.dim_max", true, args, nargs);
}
cml_status cml_aten_min_dim_min_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                    size_t *scratch_bytes) {
    return mm_prepare(ctx, "aten::min.dim_min", args, nargs, scratch_bytes);
}
cml_status cml_aten_min_dim_min_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return mm_run(ctx, "aten::min.dim_min", false, args, nargs);
}

/* unary: (self, out, ret) */
static cml_status mu_read(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                          cml_tensor **x, cml_tensor **out) {
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, 3));
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, x));
    return cml_arg_tensor(ctx, op, args, 1, out);
}

static cml_status mu_prepare(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                             size_t *scratch_bytes) {
    cml_tensor *x, *out;
    CML_TRY(mu_read(ctx, op, args, nargs, &x, &out));
    CML_TRY(rd_check_in(ctx, op, x, false));
    if (!cml_aten_is_realhbbf16(out->dtype)) return cml_aten_bad_dtype(ctx, op, "output", out->dtype);
    bool xf = cml_aten_is_floating(x->dtype), of = cml_aten_is_floating(out->dtype);
    if ((xf && !of) || (out->dtype == CML_DTYPE_BOOL && x->dtype != CML_DTYPE_BOOL))
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "%s input cannot be cast to %s output",
                         cml_dtype_name(x->dtype), cml_dtype_name(out->dtype));
    *scratch_bytes = 0;
    return CML_OK;
}

/* The empty input's result: the out type's lowest (max) or highest (min) value. */
static void mu_bound(cml_tensor *out, bool is_max) {
    static const double f_lo = -INFINITY, f_hi = INFINITY;
    if (cml_aten_is_floating(out->dtype)) {
        cml_aten_num_set(out->dtype, out->data, 0, is_max ? f_lo : f_hi);
        return;
    }
    int64_t lo, hi;
    switch (out->dtype) {
    case CML_DTYPE_UINT8: lo = 0; hi = UINT8_MAX; break;
    case CML_DTYPE_INT8: lo = INT8_MIN; hi = INT8_MAX; break;
    case CML_DTYPE_INT16: lo = INT16_MIN; hi = INT16_MAX; break;
    case CML_DTYPE_INT32: lo = INT32_MIN; hi = INT32_MAX; break;
    case CML_DTYPE_BOOL: lo = 0; hi = 1; break;
    default: lo = INT64_MIN; hi = INT64_MAX; break;
    }
    int64_t v = is_max ? lo : hi;
    cml_k_convert(CML_DTYPE_INT64, &v, out->dtype, out->data, 1);
}

static cml_status mu_run(cml_kernel_ctx *ctx, const char *op, bool is_max, cml_evalue **args,
                         uint32_t nargs) {
    cml_tensor *x, *out;
    CML_TRY(mu_read(ctx, op, args, nargs, &x, &out));
    int64_t scalar_shape[1] = {0};
    CML_TRY(cml_aten_resize(ctx, op, out, 0, scalar_shape));
    int64_t n = cml_tensor_numel(x);
    if (n == 0) {
        mu_bound(out, is_max);
        return CML_OK;
    }
    bool all[CML_MAX_DIMS];
    for (int32_t d = 0; d < CML_MAX_DIMS; d++) all[d] = true;
    rd_plan p;
    rd_plan_init(&p, x, all);
    size_t best = rd_at(&p, 0, 0);
    for (int64_t r = 1; r < n; r++) {
        size_t i = rd_at(&p, 0, r);
        if (mm_better(x->dtype, x->data, i, best, is_max)) best = i;
    }
    cml_k_convert(x->dtype, cml_aten_elem_ptr(x, (int64_t)best), out->dtype, out->data, 1);
    return CML_OK;
}

cml_status cml_aten_max_unary_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                      size_t *scratch_bytes) {
    return mu_prepare(ctx, "aten::max.unary_out", args, nargs, scratch_bytes);
}
cml_status cml_aten_max_unary_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return mu_run(ctx, "aten::max.unary_out", true, args, nargs);
}
cml_status cml_aten_min_unary_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                      size_t *scratch_bytes) {
    return mu_prepare(ctx, "aten::min.unary_out", args, nargs, scratch_bytes);
}
cml_status cml_aten_min_unary_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return mu_run(ctx, "aten::min.unary_out", false, args, nargs);
}
