/*
 * Gradients of 2-D convolution and max pooling, upstream's supported subset:
 *   convolution_backward.out(Tensor grad_output, Tensor input, Tensor weight,
 *       SymInt[]? bias_sizes, SymInt[] stride, SymInt[] padding, SymInt[] dilation,
 *       bool transposed, SymInt[] output_padding, SymInt groups, bool[3] output_mask,
 *       *, Tensor(a!) out0, Tensor(b!) out1, Tensor(c!) out2)
 *   max_pool2d_with_indices_backward.grad_input(Tensor grad_output, Tensor self,
 *       int[2] kernel_size, int[2] stride, int[2] padding, int[2] dilation, bool ceil_mode,
 *       Tensor indices, *, Tensor(a!) grad_input)
 *
 * As upstream: convolution_backward handles only non-transposed 2-D
 * convolution (weight rank 4, input [N, C, H, W]); every tensor has the
 * input's dtype (float32/64, float16, bfloat16); grad_output must have the
 * forward output's shape. output_mask selects grad_input (shape of input),
 * grad_weight (shape of weight) and grad_bias ([C_out]; bias_sizes, when
 * given, must say so); unselected outputs are left untouched. Sums are
 * accumulated in the output dtype, as upstream.
 * max_pool2d backward scatters grad_output into a zeroed grad_input (the
 * input's shape, rank 3 or 4) at the flat per-plane positions in indices
 * (int64, grad_output's shape); -1 is skipped and any other index outside
 * the plane fails (upstream writes out of bounds, and leaves grad_input
 * unzeroed: cml zeroes it as torch does).
 * Everything contiguous.
 */
#include <string.h>

#include "ops/aten/aten_num.h"
#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

static const char CB[] = "aten::convolution_backward.out";
static const char MB[] = "aten::max_pool2d_with_indices_backward.grad_input";

static int64_t conv_out_size(int64_t in, int64_t k, int64_t pad, int64_t stride, int64_t dil) {
    int64_t num = in + 2 * pad - dil * (k - 1) - 1;
    return num < 0 ? 0 : num / stride + 1;
}

static cml_status geom_check(cml_kernel_ctx *ctx, const char *op, const int64_t *st,
                             const int64_t *pad, const int64_t *dil) {
    for (int d = 0; d < 2; d++)
        if (st[d] <= 0 || st[d] > ATEN_MAX_GEOM || pad[d] < 0 || pad[d] > ATEN_MAX_GEOM ||
            dil[d] <= 0 || dil[d] > ATEN_MAX_GEOM)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op,
                             "stride %lld, padding %lld, dilation %lld out of range",
                             (long long)st[d], (long long)pad[d], (long long)dil[d]);
    return CML_OK;
}

static bool same_shape4(const cml_tensor *t, const int64_t *sizes) {
    if (t->rank != 4) return false;
    for (int d = 0; d < 4; d++)
        if (t->sizes[d] != sizes[d]) return false;
    return true;
}

/* ---- convolution_backward ---------------------------------------------------- */

typedef struct cb_args {
    cml_tensor *go, *x, *w, *gi, *gw, *gb;
    int64_t st[2], pad[2], dil[2], groups;
    bool mask[3];
    bool has_bias_sizes;
    int64_t bias_size;
} cb_args;

static cml_status cb_read_mask(cml_kernel_ctx *ctx, cml_evalue **args, cb_args *a) {
    const cml_evalue *v = args[10];
    if (v->kind != CML_VALUE_BOOL_LIST || v->u.bool_list.count != 3)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, CB, "output_mask must be a list of 3 bools");
    for (int k = 0; k < 3; k++) a->mask[k] = v->u.bool_list.items[k] != 0;
    a->has_bias_sizes = !cml_arg_is_none(args, 3);
    if (a->has_bias_sizes) {
        uint32_t n;
        CML_TRY(cml_arg_int_list(ctx, CB, args, 3, &a->bias_size, 1, &n));
        if (n != 1) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, CB, "bias_sizes must have 1 value");
    }
    return CML_OK;
}

static cml_status cb_read_geom(cml_kernel_ctx *ctx, cml_evalue **args, cb_args *a) {
    bool transposed;
    CML_TRY(cml_arg_bool(ctx, CB, args, 7, &transposed));
    if (transposed)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, CB,
                         "transposed convolution backward not supported (as upstream)");
    CML_TRY(cml_aten_arg_int_tuple(ctx, CB, args, 4, 2, 1, a->st));
    CML_TRY(cml_aten_arg_int_tuple(ctx, CB, args, 5, 2, 0, a->pad));
    CML_TRY(cml_aten_arg_int_tuple(ctx, CB, args, 6, 2, 1, a->dil));
    CML_TRY(cml_arg_int(ctx, CB, args, 9, &a->groups));
    return geom_check(ctx, CB, a->st, a->pad, a->dil);
}

static cml_status cb_check_shapes(cml_kernel_ctx *ctx, const cb_args *a) {
    const cml_tensor *x = a->x, *w = a->w;
    int64_t C = x->sizes[1], OC = w->sizes[0], g = a->groups;
    for (int d = 2; d < 4; d++)
        if (w->sizes[d] > ATEN_MAX_GEOM || x->sizes[d] > ((int64_t)1 << 60))
            return cml_aten_fail(ctx, CML_ERR_SHAPE, CB, "kernel %lld or input %lld too large",
                             (long long)w->sizes[d], (long long)x->sizes[d]);
    if (g <= 0 || C % g != 0 || OC % g != 0 || w->sizes[1] != C / g)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, CB,
                         "groups %lld do not fit input channels %lld, weight [%lld, %lld]",
                         (long long)g, (long long)C, (long long)OC, (long long)w->sizes[1]);
    int64_t want[4] = {x->sizes[0], OC,
                       conv_out_size(x->sizes[2], w->sizes[2], a->pad[0], a->st[0], a->dil[0]),
                       conv_out_size(x->sizes[3], w->sizes[3], a->pad[1], a->st[1], a->dil[1])};
    if (w->sizes[2] <= 0 || w->sizes[3] <= 0 || want[2] <= 0 || want[3] <= 0 ||
        !same_shape4(a->go, want))
        return cml_aten_fail(ctx, CML_ERR_SHAPE, CB, "grad_output must be [%lld, %lld, %lld, %lld]",
                         (long long)want[0], (long long)want[1], (long long)want[2],
                         (long long)want[3]);
    if (a->has_bias_sizes && a->bias_size != OC)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, CB, "bias_sizes [%lld] is not [%lld]",
                         (long long)a->bias_size, (long long)OC);
    return CML_OK;
}

static cml_status cb_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cb_args *a) {
    CML_TRY(cml_aten_nargs_is(ctx, CB, nargs, 15));
    memset(a, 0, sizeof *a);
    CML_TRY(cml_arg_tensor(ctx, CB, args, 0, &a->go));
    CML_TRY(cml_arg_tensor(ctx, CB, args, 1, &a->x));
    CML_TRY(cml_arg_tensor(ctx, CB, args, 2, &a->w));
    CML_TRY(cml_arg_tensor(ctx, CB, args, 11, &a->gi));
    CML_TRY(cml_arg_tensor(ctx, CB, args, 12, &a->gw));
    CML_TRY(cml_arg_tensor(ctx, CB, args, 13, &a->gb));
    CML_TRY(cb_read_mask(ctx, args, a));
    CML_TRY(cb_read_geom(ctx, args, a));
    CML_TRY(cml_aten_check_rank(ctx, CB, a->w, "weight (2-D convolution only, as upstream)", 4, 4));
    CML_TRY(cml_aten_check_rank(ctx, CB, a->x, "input", 4, 4));
    return cb_check_shapes(ctx, a);
}

cml_status cml_aten_convolution_backward_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                                 uint32_t nargs, size_t *scratch_bytes) {
    cb_args a;
    CML_TRY(cb_read(ctx, args, nargs, &a));
    if (!cml_aten_is_floating(a.x->dtype)) return cml_aten_bad_dtype(ctx, CB, "input", a.x->dtype);
    const cml_tensor *ts[6] = {a.go, a.x, a.w, a.gi, a.gw, a.gb};
    static const char *const names[6] = {"grad_output", "input",       "weight",
                                         "grad_input",  "grad_weight", "grad_bias"};
    for (int k = 0; k < 6; k++) {
        if (k >= 3 && !a.mask[k - 3]) continue;
        if (ts[k]->dtype != a.x->dtype)
            return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, CB, "%s dtype %s differs from input %s",
                             names[k], cml_dtype_name(ts[k]->dtype), cml_dtype_name(a.x->dtype));
        CML_TRY(cml_aten_check_contiguous(ctx, CB, ts[k], names[k]));
    }
    *scratch_bytes = 0;
    return CML_OK;
}

/* Adds v into element i of t (in t's dtype, as upstream accumulates). */
static void acc_add(cml_tensor *t, size_t i, double v) {
    cml_aten_num_set(t->dtype, t->data, i, cml_aten_num_get(t->dtype, t->data, i) + v);
}

static void cb_zero(cml_tensor *t) {
    if (cml_tensor_numel(t)) memset(t->data, 0, cml_tensor_nbytes(t));
}

/* Every (output position, weight tap) pair that touches the input. */
static void cb_accumulate(const cb_args *a) {
    const cml_tensor *x = a->x, *w = a->w, *go = a->go;
    cml_dtype dt = x->dtype;
    int64_t N = x->sizes[0], C = x->sizes[1], H = x->sizes[2], W = x->sizes[3];
    int64_t OC = w->sizes[0], KH = w->sizes[2], KW = w->sizes[3], OH = go->sizes[2], OW = go->sizes[3];
    int64_t cpg = C / a->groups, opg = OC / a->groups;
    for (int64_t n = 0; n < N; n++)
        for (int64_t oc = 0; oc < OC; oc++)
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    size_t oi = (size_t)(((n * OC + oc) * OH + oh) * OW + ow);
                    double g = cml_aten_num_get(dt, go->data, oi);
                    if (a->mask[2]) acc_add(a->gb, (size_t)oc, g);
                    for (int64_t ic = 0; ic < cpg; ic++) {
                        int64_t c = (oc / opg) * cpg + ic;
                        for (int64_t kh = 0; kh < KH; kh++) {
                            int64_t ih = oh * a->st[0] - a->pad[0] + kh * a->dil[0];
                            if (ih < 0 || ih >= H) continue;
                            for (int64_t kw = 0; kw < KW; kw++) {
                                int64_t iw = ow * a->st[1] - a->pad[1] + kw * a->dil[1];
                                if (iw < 0 || iw >= W) continue;
                                size_t xi = (size_t)(((n * C + c) * H + ih) * W + iw);
                                size_t wi = (size_t)(((oc * cpg + ic) * KH + kh) * KW + kw);
                                if (a->mask[0]) acc_add(a->gi, xi, g * cml_aten_num_get(dt, w->data, wi));
                                if (a->mask[1]) acc_add(a->gw, wi, g * cml_aten_num_get(dt, x->data, xi));
                            }
                        }
                    }
                }
}

cml_status cml_aten_convolution_backward_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cb_args a;
    CML_TRY(cb_read(ctx, args, nargs, &a));
    if (a.mask[0]) CML_TRY(cml_aten_resize(ctx, CB, a.gi, 4, a.x->sizes));
    if (a.mask[1]) CML_TRY(cml_aten_resize(ctx, CB, a.gw, 4, a.w->sizes));
    if (a.mask[2]) CML_TRY(cml_aten_resize(ctx, CB, a.gb, 1, a.w->sizes));
    if (a.mask[0]) cb_zero(a.gi);
    if (a.mask[1]) cb_zero(a.gw);
    if (a.mask[2]) cb_zero(a.gb);
    cb_accumulate(&a);
    return CML_OK;
}

/* ---- max_pool2d_with_indices_backward ------------------------------------------ */

typedef struct mb_args {
    cml_tensor *go, *x, *idx, *gi;
} mb_args;

static cml_status mb_geom(cml_kernel_ctx *ctx, cml_evalue **args, const cml_tensor *x,
                          int64_t *oh, int64_t *ow) {
    int64_t k[2], st[2], pad[2], dil[2];
    bool ceil_mode;
    CML_TRY(cml_aten_arg_int_tuple(ctx, MB, args, 2, 2, 1, k));
    uint32_t ns;
    CML_TRY(cml_arg_int_list(ctx, MB, args, 3, st, 2, &ns));
    if (ns == 0) memcpy(st, k, sizeof st); /* stride defaults to the kernel */
    else CML_TRY(cml_aten_arg_int_tuple(ctx, MB, args, 3, 2, 1, st));
    CML_TRY(cml_aten_arg_int_tuple(ctx, MB, args, 4, 2, 0, pad));
    CML_TRY(cml_aten_arg_int_tuple(ctx, MB, args, 5, 2, 1, dil));
    CML_TRY(cml_arg_bool(ctx, MB, args, 6, &ceil_mode));
    CML_TRY(geom_check(ctx, MB, st, pad, dil));
    int64_t out[2];
    for (int d = 0; d < 2; d++) {
        if (k[d] <= 0 || k[d] > ATEN_MAX_GEOM || pad[d] > k[d] / 2)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, MB, "kernel %lld with padding %lld is invalid",
                             (long long)k[d], (long long)pad[d]);
        int64_t in = x->sizes[x->rank - 2 + d];
        if (in > ((int64_t)1 << 60))
            return cml_aten_fail(ctx, CML_ERR_SHAPE, MB, "input size %lld too large", (long long)in);
        int64_t num = in + 2 * pad[d] - dil[d] * (k[d] - 1) - 1 + (ceil_mode ? st[d] - 1 : 0);
        int64_t q = num / st[d];
        if (num % st[d] != 0 && num < 0) q--;
        out[d] = q + 1;
        if (ceil_mode && (out[d] - 1) * st[d] >= in + pad[d]) out[d]--;
    }
    *oh = out[0];
    *ow = out[1];
    return CML_OK;
}

static cml_status mb_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, mb_args *a) {
    CML_TRY(cml_aten_nargs_is(ctx, MB, nargs, 10));
    CML_TRY(cml_arg_tensor(ctx, MB, args, 0, &a->go));
    CML_TRY(cml_arg_tensor(ctx, MB, args, 1, &a->x));
    CML_TRY(cml_arg_tensor(ctx, MB, args, 7, &a->idx));
    CML_TRY(cml_arg_tensor(ctx, MB, args, 8, &a->gi));
    CML_TRY(cml_aten_check_rank(ctx, MB, a->x, "input", 3, 4));
    int64_t oh = 0, ow = 0;
    CML_TRY(mb_geom(ctx, args, a->x, &oh, &ow));
    int32_t r = a->x->rank;
    bool ok = a->go->rank == r && a->idx->rank == r && oh > 0 && ow > 0 &&
              a->go->sizes[r - 2] == oh && a->go->sizes[r - 1] == ow;
    for (int32_t d = 0; ok && d < r - 2; d++) ok = a->go->sizes[d] == a->x->sizes[d];
    for (int32_t d = 0; ok && d < r; d++) ok = a->idx->sizes[d] == a->go->sizes[d];
    if (!ok)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, MB,
                         "grad_output and indices must be the pooled shape (.., %lld, %lld)",
                         (long long)oh, (long long)ow);
    return CML_OK;
}

cml_status cml_aten_max_pool2d_with_indices_backward_grad_input_prepare(cml_kernel_ctx *ctx,
                                                                   cml_evalue **args,
                                                                   uint32_t nargs,
                                                                   size_t *scratch_bytes) {
    mb_args a;
    CML_TRY(mb_read(ctx, args, nargs, &a));
    if (!cml_aten_is_floating(a.x->dtype)) return cml_aten_bad_dtype(ctx, MB, "input", a.x->dtype);
    if (a.go->dtype != a.x->dtype || a.gi->dtype != a.x->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, MB,
                         "grad_output %s and grad_input %s must be %s", cml_dtype_name(a.go->dtype),
                         cml_dtype_name(a.gi->dtype), cml_dtype_name(a.x->dtype));
    if (a.idx->dtype != CML_DTYPE_INT64) return cml_aten_bad_dtype(ctx, MB, "indices", a.idx->dtype);
    CML_TRY(cml_aten_check_contiguous(ctx, MB, a.go, "grad_output"));
    CML_TRY(cml_aten_check_contiguous(ctx, MB, a.idx, "indices"));
    CML_TRY(cml_aten_check_contiguous(ctx, MB, a.gi, "grad_input"));
    *scratch_bytes = 0;
    return CML_OK;
}

cml_status cml_aten_max_pool2d_with_indices_backward_grad_input_run(cml_kernel_ctx *ctx,
                                                               cml_evalue **args, uint32_t nargs) {
    mb_args a;
    CML_TRY(mb_read(ctx, args, nargs, &a));
    int32_t r = a.x->rank;
    CML_TRY(cml_aten_resize(ctx, MB, a.gi, r, a.x->sizes));
    cb_zero(a.gi);
    int64_t planes = cml_aten_prod(a.x->sizes, 0, r - 2), in_plane = cml_aten_prod(a.x->sizes, r - 2, r);
    int64_t out_plane = cml_aten_prod(a.go->sizes, r - 2, r);
    const int64_t *idx = a.idx->data;
    for (int64_t p = 0; p < planes; p++)
        for (int64_t o = 0; o < out_plane; o++) {
            int64_t m = idx[p * out_plane + o];
            if (m == -1) continue;
            if (m < 0 || m >= in_plane)
                return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, MB,
                                 "index %lld outside the %lld-element plane", (long long)m,
                                 (long long)in_plane);
            acc_add(a.gi, (size_t)(p * in_plane + m),
                    cml_aten_num_get(a.go->dtype, a.go->data, (size_t)(p * out_plane + o)));
        }
    return CML_OK;
}
