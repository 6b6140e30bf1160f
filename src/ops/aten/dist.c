/*
 * Pairwise distances:
 *   _cdist_forward.out(Tensor x1, Tensor x2, float p, int? compute_mode, *, Tensor(a!) out)
 *   _pdist_forward.out(Tensor self, float p=2, *, Tensor(a!) out)
 *
 * cdist: x1 [..., P, M], x2 [..., R, M] (rank >= 2, batch dims broadcast)
 * -> out [batch..., P, R]; pdist: [N, M] -> the upper triangle, [N(N-1)/2]
 * in row order. The p-norm of |a - b|: p = 0 counts non-zero differences,
 * p = inf takes the largest, else (sum |d|^p)^(1/p); p must be >= 0 and
 * compute_mode, when given, 0..2 (it only picks an algorithm upstream).
 * float32/64, float16, bfloat16, every tensor the same dtype, contiguous;
 * computed in double. A NaN difference makes the distance NaN for every p
 * (torch's pdist; torch's cdist and upstream drop it for p = inf). M = 0
 * gives zeros.
 */
#include <math.h>
#include <string.h>

#include "ops/aten/aten_num.h"
#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

static const char CD[] = "aten::_cdist_forward.out";
static const char PD[] = "aten::_pdist_forward.out";

/* The p-norm of the difference of rows a and b (m elements each). */
static double dist_row(cml_dtype dt, const void *x1, size_t a, const void *x2, size_t b, int64_t m,
                       double p) {
    double acc = 0.0;
    for (int64_t k = 0; k < m; k++) {
        double d = fabs(cml_aten_num_get(dt, x1, a + (size_t)k) - cml_aten_num_get(dt, x2, b + (size_t)k));
        if (isnan(d)) return d;
        if (p == 0.0) acc += d != 0.0;
        else if (p == 1.0) acc += d;
        else if (p == 2.0) acc += d * d;
        else if (isinf(p)) acc = d > acc ? d : acc;
        else acc += pow(d, p);
    }
    if (p == 2.0) return sqrt(acc);
    if (p == 0.0 || p == 1.0 || isinf(p)) return acc;
    return pow(acc, 1.0 / p);
}

static cml_status dist_check(cml_kernel_ctx *ctx, const char *op, const cml_tensor *t,
                             const cml_tensor *x, const char *what) {
    if (t->dtype != x->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "%s dtype %s differs from %s", what,
                         cml_dtype_name(t->dtype), cml_dtype_name(x->dtype));
    return cml_aten_check_contiguous(ctx, op, t, what);
}

/* ---- cdist ----------------------------------------------------------------- */

typedef struct cd_args {
    cml_tensor *x1, *x2, *out;
    double p;
} cd_args;

static cml_status cd_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cd_args *a) {
    CML_TRY(cml_aten_nargs_is(ctx, CD, nargs, 6));
    CML_TRY(cml_arg_tensor(ctx, CD, args, 0, &a->x1));
    CML_TRY(cml_arg_tensor(ctx, CD, args, 1, &a->x2));
    CML_TRY(cml_arg_double(ctx, CD, args, 2, &a->p));
    bool has_mode;
    int64_t mode;
    CML_TRY(cml_aten_arg_opt_int(ctx, CD, args, 3, &has_mode, &mode));
    CML_TRY(cml_arg_tensor(ctx, CD, args, 4, &a->out));
    CML_TRY(cml_aten_check_rank(ctx, CD, a->x1, "x1", 2, CML_MAX_DIMS));
    CML_TRY(cml_aten_check_rank(ctx, CD, a->x2, "x2", 2, CML_MAX_DIMS));
    if (!(a->p >= 0)) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, CD, "p = %g must be >= 0", a->p);
    if (has_mode && (mode < 0 || mode > 2))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, CD, "compute_mode %lld not 0..2", (long long)mode);
    if (a->x1->sizes[a->x1->rank - 1] != a->x2->sizes[a->x2->rank - 1])
        return cml_aten_fail(ctx, CML_ERR_SHAPE, CD, "x1 and x2 rows differ in size (%lld vs %lld)",
                         (long long)a->x1->sizes[a->x1->rank - 1],
                         (long long)a->x2->sizes[a->x2->rank - 1]);
    return CML_OK;
}

cml_status cml_aten_cdist_forward_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                          size_t *scratch_bytes) {
    cd_args a;
    CML_TRY(cd_read(ctx, args, nargs, &a));
    if (!cml_aten_is_floating(a.x1->dtype)) return cml_aten_bad_dtype(ctx, CD, "x1", a.x1->dtype);
    CML_TRY(dist_check(ctx, CD, a.x1, a.x1, "x1"));
    CML_TRY(dist_check(ctx, CD, a.x2, a.x1, "x2"));
    CML_TRY(dist_check(ctx, CD, a.out, a.x1, "output"));
    int32_t br;
    int64_t bsz[CML_MAX_DIMS];
    CML_TRY(cml_aten_broadcast_shape(ctx, CD, a.x1->rank - 2, a.x1->sizes, a.x2->rank - 2, a.x2->sizes,
                                 &br, bsz));
    *scratch_bytes = 0;
    return CML_OK;
}

cml_status cml_aten_cdist_forward_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cd_args a;
    CML_TRY(cd_read(ctx, args, nargs, &a));
    const cml_tensor *x1 = a.x1, *x2 = a.x2;
    int32_t br;
    int64_t osz[CML_MAX_DIMS], s1[CML_MAX_DIMS], s2[CML_MAX_DIMS];
    CML_TRY(cml_aten_broadcast_shape(ctx, CD, x1->rank - 2, x1->sizes, x2->rank - 2, x2->sizes, &br, osz));
    int64_t P = x1->sizes[x1->rank - 2], R = x2->sizes[x2->rank - 2], M = x1->sizes[x1->rank - 1];
    osz[br] = P;
    osz[br + 1] = R;
    CML_TRY(cml_aten_resize(ctx, CD, a.out, br + 2, osz));
    if (cml_tensor_numel(a.out) == 0) return CML_OK;
    /* batch strides in units of whole [P, M] / [R, M] matrices, 0 where broadcast */
    cml_aten_broadcast_strides(x1->rank - 2, x1->sizes, br, osz, s1);
    cml_aten_broadcast_strides(x2->rank - 2, x2->sizes, br, osz, s2);
    int64_t batches = cml_aten_prod(osz, 0, br);
    size_t o = 0;
    for (int64_t bi = 0; bi < batches; bi++) {
        int64_t b1 = 0, b2 = 0, rem = bi;
        for (int32_t d = br - 1; d >= 0; d--) {
            b1 += (rem % osz[d]) * s1[d];
            b2 += (rem % osz[d]) * s2[d];
            rem /= osz[d];
        }
        for (int64_t i = 0; i < P; i++)
            for (int64_t j = 0; j < R; j++) {
                double v = dist_row(x1->dtype, x1->data, (size_t)((b1 * P + i) * M), x2->data,
                                    (size_t)((b2 * R + j) * M), M, a.p);
                cml_aten_num_set(a.out->dtype, a.out->data, o++, v);
            }
    }
    return CML_OK;
}

/* ---- pdist ------------------------------------------------------------------- */

static cml_status pd_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **x,
                          cml_tensor **out, double *p) {
    CML_TRY(cml_aten_nargs_is(ctx, PD, nargs, 4));
    CML_TRY(cml_arg_tensor(ctx, PD, args, 0, x));
    CML_TRY(cml_arg_double(ctx, PD, args, 1, p));
    CML_TRY(cml_arg_tensor(ctx, PD, args, 2, out));
    CML_TRY(cml_aten_check_rank(ctx, PD, *x, "input", 2, 2));
    if (!(*p >= 0)) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, PD, "p = %g must be >= 0", *p);
    if ((*x)->sizes[0] > ((int64_t)1 << 31))
        return cml_aten_fail(ctx, CML_ERR_SHAPE, PD, "%lld rows is too many", (long long)(*x)->sizes[0]);
    return CML_OK;
}

cml_status cml_aten_pdist_forward_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                          size_t *scratch_bytes) {
    cml_tensor *x, *out;
    double p;
    CML_TRY(pd_read(ctx, args, nargs, &x, &out, &p));
    if (!cml_aten_is_floating(x->dtype)) return cml_aten_bad_dtype(ctx, PD, "input", x->dtype);
    CML_TRY(dist_check(ctx, PD, x, x, "input"));
    CML_TRY(dist_check(ctx, PD, out, x, "output"));
    *scratch_bytes = 0;
    return CML_OK;
}

cml_status cml_aten_pdist_forward_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *x, *out;
    double p;
    CML_TRY(pd_read(ctx, args, nargs, &x, &out, &p));
    int64_t n = x->sizes[0], m = x->sizes[1];
    int64_t on = n > 1 ? n * (n - 1) / 2 : 0;
    CML_TRY(cml_aten_resize(ctx, PD, out, 1, &on));
    size_t o = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++)
            cml_aten_num_set(out->dtype, out->data, o++,
                         dist_row(x->dtype, x->data, (size_t)(i * m), x->data, (size_t)(j * m), m, p));
    return CML_OK;
}
