/*
 * Matrix products: addmm, mm, bmm, linear. fp32 compute through
 * cml_k_gemm_f32; fp16 operands are staged to fp32 and the result rounded.
 */
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

static cml_status check_mat(cml_kernel_ctx *ctx, const char *op, const cml_tensor *t,
                            const char *what, int32_t lo, int32_t hi) {
    CML_TRY(cml_aten_check_float(ctx, op, t, what));
    CML_TRY(cml_aten_check_contiguous(ctx, op, t, what));
    return cml_aten_check_rank(ctx, op, t, what, lo, hi);
}

static cml_status shape_err(cml_kernel_ctx *ctx, const char *op, const cml_tensor *a,
                            const cml_tensor *b) {
    char x[160], y[160];
    return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "cannot multiply %s by %s",
                     cml_shape_str(a->rank, a->sizes, x, sizeof x),
                     cml_shape_str(b->rank, b->sizes, y, sizeof y));
}

/* Load-time shape check (a program that loads also executes): when both
 * operands are static, their inner dimensions must agree now. */
static bool both_static(const cml_tensor *a, const cml_tensor *b) {
    return a->dynamism == CML_SHAPE_STATIC && b->dynamism == CML_SHAPE_STATIC;
}

/* ---- addmm.out(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1, Scalar alpha=1,
 *               Tensor(a!) out) ---------------------------------------------------------- */

static const char ADDMM[] = "aten::addmm.out";

typedef struct addmm_args {
    cml_tensor *self, *m1, *m2, *out;
    double beta, alpha;
} addmm_args;

static cml_status addmm_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, addmm_args *a) {
    if (nargs != 7) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, ADDMM, "expected 7 args, got %u", nargs);
    CML_TRY(cml_arg_tensor(ctx, ADDMM, args, 0, &a->self));
    CML_TRY(cml_arg_tensor(ctx, ADDMM, args, 1, &a->m1));
    CML_TRY(cml_arg_tensor(ctx, ADDMM, args, 2, &a->m2));
    CML_TRY(cml_arg_double(ctx, ADDMM, args, 3, &a->beta));
    CML_TRY(cml_arg_double(ctx, ADDMM, args, 4, &a->alpha));
    CML_TRY(cml_arg_tensor(ctx, ADDMM, args, 5, &a->out));
    CML_TRY(cml_aten_check_rank(ctx, ADDMM, a->self, "self", 0, 2));
    CML_TRY(cml_aten_check_rank(ctx, ADDMM, a->m1, "mat1", 2, 2));
    return cml_aten_check_rank(ctx, ADDMM, a->m2, "mat2", 2, 2);
}

cml_status cml_aten_addmm_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                  size_t *scratch_bytes) {
    addmm_args a;
    CML_TRY(addmm_read(ctx, args, nargs, &a));
    CML_TRY(check_mat(ctx, ADDMM, a.self, "self", 0, 2));
    CML_TRY(check_mat(ctx, ADDMM, a.m1, "mat1", 2, 2));
    CML_TRY(check_mat(ctx, ADDMM, a.m2, "mat2", 2, 2));
    CML_TRY(check_mat(ctx, ADDMM, a.out, "output", 2, 2));
    if (both_static(a.m1, a.m2) && a.m2->sizes[0] != a.m1->sizes[1])
        return shape_err(ctx, ADDMM, a.m1, a.m2);
    size_t need = cml_aten_f32_need(a.self) + cml_aten_f32_need(a.m1) + cml_aten_f32_need(a.m2) +
                  cml_aten_f32_need(a.out);
    if (a.alpha != 1.0) need += cml_aten_align(cml_aten_bound_numel(a.out) * sizeof(float));
    *scratch_bytes = need;
    return CML_OK;
}

cml_status cml_aten_addmm_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    addmm_args a;
    CML_TRY(addmm_read(ctx, args, nargs, &a));
    int64_t M = a.m1->sizes[0], K = a.m1->sizes[1], N = a.m2->sizes[1];
    if (a.m2->sizes[0] != K) return shape_err(ctx, ADDMM, a.m1, a.m2);
    int64_t osz[2] = {M, N};
    int32_t br;
    int64_t bs[CML_MAX_DIMS];
    CML_TRY(cml_aten_broadcast_shape(ctx, ADDMM, a.self->rank, a.self->sizes, 2, osz, &br, bs));
    if (br != 2 || bs[0] != M || bs[1] != N) {
        char x[160];
        return cml_aten_fail(ctx, CML_ERR_SHAPE, ADDMM, "self %s does not broadcast to [%lld, %lld]",
                         cml_shape_str(a.self->rank, a.self->sizes, x, sizeof x), (long long)M,
                         (long long)N);
    }
    CML_TRY(cml_aten_resize(ctx, ADDMM, a.out, 2, osz));
    if (M == 0 || N == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const float *A = cml_aten_load_f32(&s, a.m1);
    const float *B = cml_aten_load_f32(&s, a.m2);
    const float *bias = cml_aten_load_f32(&s, a.self);
    float *C = cml_aten_out_f32(&s, a.out);
    if (!A || !B || !bias || !C) return cml_aten_scratch_short(ctx, ADDMM);
    size_t mn = (size_t)(M * N);
    bool row_bias = cml_tensor_numel(a.self) == N && (a.self->rank == 0 ? N == 1 : a.self->sizes[a.self->rank - 1] == N);
    if (K > 0 && a.alpha == 1.0 && a.beta == 1.0 && row_bias) {
        cml_k_gemm_f32(ctx->pool, (size_t)M, (size_t)N, (size_t)K, A, (size_t)K, B, (size_t)N, false,
                       bias, C, (size_t)N, false);
    } else {
        /* C = beta * self (broadcast), then += alpha * A @ B. */
        if (a.beta != 0.0) {
            int64_t st[2], dst[2] = {N, 1};
            cml_aten_broadcast_strides(a.self->rank, a.self->sizes, 2, osz, st);
            cml_k_copy_strided(sizeof(float), 2, osz, bias, st, C, dst);
            if (a.beta != 1.0) cml_k_unary_f32(CML_UN_LINEAR, C, C, mn, (float)a.beta, 0.0f);
        } else {
            memset(C, 0, mn * sizeof(float));
        }
        if (K > 0 && a.alpha != 0.0) {
            if (a.alpha == 1.0) {
                cml_k_gemm_f32(ctx->pool, (size_t)M, (size_t)N, (size_t)K, A, (size_t)K, B,
                               (size_t)N, false, NULL, C, (size_t)N, true);
            } else {
                float *T = cml_aten_scratch_alloc(&s, mn * sizeof(float));
                if (!T) return cml_aten_scratch_short(ctx, ADDMM);
                cml_k_gemm_f32(ctx->pool, (size_t)M, (size_t)N, (size_t)K, A, (size_t)K, B,
                               (size_t)N, false, NULL, T, (size_t)N, false);
                cml_k_unary_f32(CML_UN_LINEAR, T, T, mn, (float)a.alpha, 0.0f);
                int64_t one[2] = {N, 1};
                cml_k_binary_f32(CML_BIN_ADD, 2, osz, C, one, T, one, C);
            }
        }
    }
    cml_aten_store_f32(a.out, C);
    return CML_OK;
}

/* ---- mm.out(Tensor self, Tensor mat2, *, Tensor(a!) out) and bmm.out ---------------- */

static cml_status mm_common(cml_kernel_ctx *ctx, const char *op, bool batched, cml_evalue **args,
                            uint32_t nargs, size_t *scratch_bytes) {
    if (nargs != 4) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "expected 4 args, got %u", nargs);
    cml_tensor *a, *b, *out;
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &a));
    CML_TRY(cml_arg_tensor(ctx, op, args, 1, &b));
    CML_TRY(cml_arg_tensor(ctx, op, args, 2, &out));
    int32_t r = batched ? 3 : 2;
    CML_TRY(cml_aten_check_rank(ctx, op, a, "self", r, r));
    CML_TRY(cml_aten_check_rank(ctx, op, b, "mat2", r, r));
    if (scratch_bytes) {
        CML_TRY(check_mat(ctx, op, a, "self", r, r));
        CML_TRY(check_mat(ctx, op, b, "mat2", r, r));
        CML_TRY(check_mat(ctx, op, out, "output", r, r));
        if (both_static(a, b) &&
            (b->sizes[r - 2] != a->sizes[r - 1] || (batched && b->sizes[0] != a->sizes[0])))
            return shape_err(ctx, op, a, b);
        *scratch_bytes = cml_aten_f32_need(a) + cml_aten_f32_need(b) + cml_aten_f32_need(out);
        return CML_OK;
    }
    int64_t Bn = batched ? a->sizes[0] : 1;
    int64_t M = a->sizes[r - 2], K = a->sizes[r - 1], N = b->sizes[r - 1];
    if (b->sizes[r - 2] != K || (batched && b->sizes[0] != Bn)) return shape_err(ctx, op, a, b);
    int64_t osz[3];
    if (batched) {
        osz[0] = Bn;
        osz[1] = M;
        osz[2] = N;
    } else {
        osz[0] = M;
        osz[1] = N;
    }
    CML_TRY(cml_aten_resize(ctx, op, out, r, osz));
    if (Bn == 0 || M == 0 || N == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const float *A = cml_aten_load_f32(&s, a);
    const float *B = cml_aten_load_f32(&s, b);
    float *C = cml_aten_out_f32(&s, out);
    if (!A || !B || !C) return cml_aten_scratch_short(ctx, op);
    for (int64_t i = 0; i < Bn; i++) {
        float *Ci = C + i * M * N;
        if (K == 0) {
            memset(Ci, 0, (size_t)(M * N) * sizeof(float));
            continue;
        }
        cml_k_gemm_f32(ctx->pool, (size_t)M, (size_t)N, (size_t)K, A + i * M * K, (size_t)K,
                       B + i * K * N, (size_t)N, false, NULL, Ci, (size_t)N, false);
    }
    cml_aten_store_f32(out, C);
    return CML_OK;
}

cml_status cml_aten_mm_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                               size_t *scratch_bytes) {
    return mm_common(ctx, "aten::mm.out", false, args, nargs, scratch_bytes);
}
cml_status cml_aten_mm_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return mm_common(ctx, "aten::mm.out", false, args, nargs, NULL);
}
cml_status cml_aten_bmm_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                size_t *scratch_bytes) {
    return mm_common(ctx, "aten::bmm.out", true, args, nargs, scratch_bytes);
}
cml_status cml_aten_bmm_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return mm_common(ctx, "aten::bmm.out", true, args, nargs, NULL);
}

/* ---- linear.out(Tensor input, Tensor weight, Tensor? bias=None, *, Tensor(a!) out) ---- */

static const char LINEAR[] = "aten::linear.out";

static cml_status linear_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                              cml_tensor **x, cml_tensor **w, cml_tensor **bias, cml_tensor **out) {
    if (nargs != 5) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, LINEAR, "expected 5 args, got %u", nargs);
    CML_TRY(cml_arg_tensor(ctx, LINEAR, args, 0, x));
    CML_TRY(cml_arg_tensor(ctx, LINEAR, args, 1, w));
    CML_TRY(cml_aten_arg_opt_tensor(ctx, LINEAR, args, 2, bias));
    CML_TRY(cml_arg_tensor(ctx, LINEAR, args, 3, out));
    CML_TRY(cml_aten_check_rank(ctx, LINEAR, *x, "input", 1, CML_MAX_DIMS));
    CML_TRY(cml_aten_check_rank(ctx, LINEAR, *w, "weight", 2, 2));
    if (*bias) CML_TRY(cml_aten_check_rank(ctx, LINEAR, *bias, "bias", 0, 1));
    return CML_OK;
}

cml_status cml_aten_linear_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                   size_t *scratch_bytes) {
    cml_tensor *x, *w, *bias, *out;
    CML_TRY(linear_read(ctx, args, nargs, &x, &w, &bias, &out));
    CML_TRY(check_mat(ctx, LINEAR, x, "input", 1, CML_MAX_DIMS));
    CML_TRY(check_mat(ctx, LINEAR, w, "weight", 2, 2));
    CML_TRY(check_mat(ctx, LINEAR, out, "output", 1, CML_MAX_DIMS));
    if (both_static(x, w) && w->sizes[1] != x->sizes[x->rank - 1]) return shape_err(ctx, LINEAR, x, w);
    size_t need = cml_aten_f32_need(x) + cml_aten_f32_need(w) + cml_aten_f32_need(out);
    if (bias) {
        CML_TRY(check_mat(ctx, LINEAR, bias, "bias", 0, 1));
        need += cml_aten_f32_need(bias);
    }
    *scratch_bytes = need;
    return CML_OK;
}

cml_status cml_aten_linear_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *x, *w, *bias, *out;
    CML_TRY(linear_read(ctx, args, nargs, &x, &w, &bias, &out));
    int64_t K = x->sizes[x->rank - 1], N = w->sizes[0];
    if (w->sizes[1] != K) return shape_err(ctx, LINEAR, x, w);
    if (bias && cml_tensor_numel(bias) != N)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, LINEAR, "bias has %lld elements, expected %lld",
                         (long long)cml_tensor_numel(bias), (long long)N);
    int64_t osz[CML_MAX_DIMS];
    memcpy(osz, x->sizes, sizeof osz);
    osz[x->rank - 1] = N;
    CML_TRY(cml_aten_resize(ctx, LINEAR, out, x->rank, osz));
    int64_t M = cml_aten_prod(x->sizes, 0, x->rank - 1);
    if (M == 0 || N == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const float *A = cml_aten_load_f32(&s, x);
    const float *B = cml_aten_load_f32(&s, w);
    const float *b = bias ? cml_aten_load_f32(&s, bias) : NULL;
    float *C = cml_aten_out_f32(&s, out);
    if (!A || !B || (bias && !b) || !C) return cml_aten_scratch_short(ctx, LINEAR);
    if (K == 0) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * N + j] = b ? b[j] : 0.0f;
    } else {
        cml_k_gemm_f32(ctx->pool, (size_t)M, (size_t)N, (size_t)K, A, (size_t)K, B, (size_t)K, true,
                       b, C, (size_t)N, false);
    }
    cml_aten_store_f32(out, C);
    return CML_OK;
}
