/*
 * Converters for the ops a decomposed transformer block leaves in a
 * portable program (portable_transformer): bmm, mul by a scalar, gelu,
 * layer norm, expand, clone and split. Same contract as convert_ops.c: check_*
 * from the .pte alone, conv_* emits the MIL ops coremltools emits.
 */
#include <stdio.h>
#include <string.h>

#include "lower/convert_ctx.h"
#include "lower/convert_ops.h"

#define WHY(msg) do { *why = (msg); return false; } while (0)

static bool is_float(const cml_pte_plan *p, int32_t idx) { return cml_cv_is_float_tensor(p, idx); }

static bool is_null(const cml_pte_plan *p, int32_t idx) {
    return p->values[idx].kind == CML_VALUE_NULL;
}

static bool const_float_tensor(const cml_pte_plan *p, int32_t idx) {
    const cml_pte_tensor *t = cml_cv_tensor(p, idx);
    return t && t->constant_data && is_float(p, idx);
}

/* out = op(x, y) on two MIL names, typed like value `like`. */
static void emit2(cml_cv_ctx *c, const char *mil, const char *k0, const char *x, const char *k1,
                  const char *y, int32_t out_idx, const char *aten) {
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, out_idx), &t);
    const char *out = cml_cv_define(c, out_idx, aten);
    cml_milw_arg args[2] = {{k0, x}, {k1, y}};
    cml_cv_op(c, mil, args, 2, out, &t, out);
}

/* ---- bmm(self, mat2) -> matmul ------------------------------------------ */

bool cml_lower_check_bmm(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    const int32_t *a = ins->args;
    if (!is_float(p, a[0]) || !is_float(p, a[1]) || !is_float(p, a[2]))
        WHY("operand is not a float32 tensor");
    if (cml_cv_tensor(p, a[0])->rank != 3 || cml_cv_tensor(p, a[1])->rank != 3)
        WHY("operands are not 3-D");
    return true;
}

cml_status cml_lower_conv_bmm(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const char *x, *y;
    CML_TRY(cml_cv_use(c, ins->args[0], &x));
    CML_TRY(cml_cv_use(c, ins->args[1], &y));
    emit2(c, "matmul", "x", x, "y", y, ins->args[2], "aten::bmm");
    return CML_OK;
}

/* ---- mul.Scalar(self, other) -> mul(x, const) ------------------------------ */

bool cml_lower_check_mul_scalar(const cml_pte_plan *p, const cml_pte_instruction *ins,
                                const char **why) {
    double v;
    if (!is_float(p, ins->args[0]) || !is_float(p, ins->args[2]))
        WHY("operand is not a float32 tensor");
    if (!cml_cv_scalar(p, ins->args[1], &v)) WHY("other is not an int or double scalar");
    return true;
}

cml_status cml_lower_conv_mul_scalar(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const char *x;
    double v = 0;
    cml_cv_scalar(c->plan, ins->args[1], &v);
    CML_TRY(cml_cv_use(c, ins->args[0], &x));
    char y[32];
    cml_cv_const_name(c, y, sizeof y);
    cml_cv_const_float(c, y, v);
    emit2(c, "mul", "x", x, "y", y, ins->args[2], "aten::mul");
    return CML_OK;
}

/* ---- gelu(self, approximate) -> gelu(x, mode) ------------------------------- */

static const char *gelu_mode(const cml_pte_plan *p, int32_t idx) {
    const cml_pte_value *v = &p->values[idx];
    if (v->kind != CML_VALUE_STRING) return NULL;
    if (v->u.s.len == 4 && !memcmp(v->u.s.ptr, "none", 4)) return "EXACT";
    if (v->u.s.len == 4 && !memcmp(v->u.s.ptr, "tanh", 4)) return "TANH_APPROXIMATION";
    return NULL;
}

bool cml_lower_check_gelu(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    if (!is_float(p, ins->args[0]) || !is_float(p, ins->args[2]))
        WHY("operand is not a float32 tensor");
    if (!gelu_mode(p, ins->args[1])) WHY("approximate is not 'none' or 'tanh'");
    return true;
}

cml_status cml_lower_conv_gelu(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const char *x;
    CML_TRY(cml_cv_use(c, ins->args[0], &x));
    char mode[32];
    cml_cv_const_name(c, mode, sizeof mode);
    cml_milw_const_string(&c->w, mode, gelu_mode(c->plan, ins->args[1]));
    emit2(c, "gelu", "x", x, "mode", mode, ins->args[2], "aten::gelu");
    return CML_OK;
}

/* ---- _clone_dim_order(self, non_blocking, dim_order) -> identity ----------- */

bool cml_lower_check_clone_dim_order(const cml_pte_plan *p, const cml_pte_instruction *ins,
                                     const char **why) {
    const int32_t *a = ins->args;
    if (!is_float(p, a[0]) || !is_float(p, a[3])) WHY("operand is not a float32 tensor");
    if (!is_null(p, a[2])) {
        int64_t d[CML_MAX_DIMS];
        uint32_t n;
        if (!cml_cv_int_list(p, a[2], d, CML_MAX_DIMS, &n)) WHY("dim_order is not an int list");
        for (uint32_t i = 0; i < n; i++)
            if (d[i] != (int64_t)i) WHY("dim_order is not contiguous");
    }
    const cml_pte_tensor *in = cml_cv_tensor(p, a[0]), *out = cml_cv_tensor(p, a[3]);
    if (in->rank != out->rank || memcmp(in->sizes, out->sizes, sizeof(int64_t) * (size_t)in->rank))
        WHY("shapes differ");
    return true;
}

cml_status cml_lower_conv_clone_dim_order(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const char *x;
    CML_TRY(cml_cv_use(c, ins->args[0], &x));
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, ins->args[3]), &t);
    const char *out = cml_cv_define(c, ins->args[3], "aten::clone");
    cml_milw_arg args[1] = {{"x", x}};
    cml_cv_op(c, "identity", args, 1, out, &t, out);
    return CML_OK;
}

/* ---- expand_copy(self, size, implicit) -> [reshape] + tile -------------------- */

bool cml_lower_check_expand(const cml_pte_plan *p, const cml_pte_instruction *ins,
                            const char **why) {
    const int32_t *a = ins->args;
    if (!is_float(p, a[0]) || !is_float(p, a[3])) WHY("operand is not a float32 tensor");
    const cml_pte_tensor *in = cml_cv_tensor(p, a[0]), *out = cml_cv_tensor(p, a[3]);
    if (in->rank > out->rank || out->rank < 1) WHY("expand to a lower rank");
    int32_t lead = out->rank - in->rank;
    for (int32_t i = 0; i < in->rank; i++)
        if (in->sizes[i] != 1 && in->sizes[i] != out->sizes[lead + i])
            WHY("a non-1 dimension changes size");
    return true;
}

cml_status cml_lower_conv_expand(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const int32_t *a = ins->args;
    const cml_pte_tensor *in = cml_cv_tensor(c->plan, a[0]), *out = cml_cv_tensor(c->plan, a[3]);
    const char *x;
    CML_TRY(cml_cv_use(c, a[0], &x));
    int32_t lead = out->rank - in->rank, reps[CML_MAX_DIMS], shape[CML_MAX_DIMS];
    for (int32_t i = 0; i < out->rank; i++) {
        int64_t d = i < lead ? 1 : in->sizes[i - lead];
        shape[i] = (int32_t)d;
        reps[i] = (int32_t)(d == 1 ? out->sizes[i] : 1);
    }
    const char *base = cml_cv_define(c, a[3], "aten::expand_copy");
    char name[96], src[128], cn[32];
    snprintf(name, sizeof name, "%s", base);
    snprintf(src, sizeof src, "%s", x);
    if (lead) { /* new leading dims of size 1 first */
        cml_milw_type rt = {c->opts->fp16 ? CML_MILW_FP16 : CML_MILW_FP32, out->rank, {0}};
        for (int32_t i = 0; i < out->rank; i++) rt.dims[i] = shape[i];
        cml_cv_const_name(c, cn, sizeof cn);
        cml_milw_const_ints(&c->w, cn, shape, (uint32_t)out->rank);
        snprintf(src, sizeof src, "%s_reshape", name);
        cml_milw_arg rargs[2] = {{"x", x}, {"shape", cn}};
        cml_cv_op(c, "reshape", rargs, 2, src, &rt, src);
    }
    cml_cv_const_name(c, cn, sizeof cn);
    cml_milw_const_ints(&c->w, cn, reps, (uint32_t)out->rank);
    cml_milw_type t;
    cml_cv_type_of(c, out, &t);
    cml_milw_arg args[2] = {{"x", src}, {"reps", cn}};
    cml_cv_op(c, "tile", args, 2, name, &t, name);
    return CML_OK;
}

/* ---- native_layer_norm(input, normalized_shape, weight, bias, eps) ------------
 * -> layer_norm(x, axes, gamma, beta, epsilon); the mean / rstd outputs must
 * be unused. */

bool cml_lower_check_layer_norm(const cml_pte_plan *p, const cml_pte_instruction *ins,
                                const char **why) {
    const int32_t *a = ins->args;
    int64_t shape[CML_MAX_DIMS];
    uint32_t n;
    double eps;
    if (ins->nargs < 8) WHY("wrong number of arguments");
    if (!is_float(p, a[0]) || !is_float(p, a[5])) WHY("operand is not a float32 tensor");
    const cml_pte_tensor *x = cml_cv_tensor(p, a[0]);
    if (!cml_cv_int_list(p, a[1], shape, CML_MAX_DIMS, &n) || n < 1 || (int32_t)n > x->rank)
        WHY("normalized_shape is not an int list of at most the input's rank");
    for (uint32_t i = 0; i < n; i++)
        if (shape[i] != x->sizes[x->rank - (int32_t)n + (int32_t)i])
            WHY("normalized_shape is not the input's trailing shape");
    for (int k = 2; k <= 3; k++) {
        if (is_null(p, a[k])) continue;
        const cml_pte_tensor *t = cml_cv_tensor(p, a[k]);
        if (!const_float_tensor(p, a[k]) || t->rank != (int32_t)n ||
            memcmp(t->sizes, shape, sizeof(int64_t) * n))
            WHY("weight / bias is not a constant of normalized_shape");
    }
    if (!cml_cv_scalar(p, a[4], &eps)) WHY("eps is not a scalar");
    for (int k = 6; k <= 7; k++)
        if (cml_cv_read_elsewhere(p, a[k], ins)) WHY("mean / rstd are used");
    return true;
}

cml_status cml_lower_conv_layer_norm(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const int32_t *a = ins->args;
    const char *x, *gamma = NULL, *beta = NULL;
    int64_t shape[CML_MAX_DIMS];
    uint32_t n = 0;
    double eps = 0;
    cml_cv_int_list(c->plan, a[1], shape, CML_MAX_DIMS, &n);
    cml_cv_scalar(c->plan, a[4], &eps);
    CML_TRY(cml_cv_use(c, a[0], &x));
    if (!is_null(c->plan, a[2])) CML_TRY(cml_cv_use(c, a[2], &gamma));
    if (!is_null(c->plan, a[3])) CML_TRY(cml_cv_use(c, a[3], &beta));
    const char *out = cml_cv_define(c, a[5], "aten::layer_norm");
    char axes[160], epsn[160];
    snprintf(axes, sizeof axes, "%s_axes_0", out);
    snprintf(epsn, sizeof epsn, "%s_epsilon_0", out);
    int32_t ax[CML_MAX_DIMS];
    for (uint32_t i = 0; i < n; i++) ax[i] = -(int32_t)(n - i);
    cml_milw_const_ints(&c->w, axes, ax, n);
    cml_cv_const_float(c, epsn, eps);
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, a[5]), &t);
    cml_milw_arg args[5] = {{"x", x}, {"axes", axes}, {"epsilon", epsn}, {"gamma", gamma},
                            {"beta", beta}};
    unsigned nargs = 3;
    if (gamma) args[nargs++] = (cml_milw_arg){"gamma", gamma};
    if (beta) args[nargs++] = (cml_milw_arg){"beta", beta};
    cml_cv_op(c, "layer_norm", args, nargs, out, &t, out);
    return CML_OK;
}

/* ---- split_with_sizes_copy(self, split_sizes, dim) -> split ------------------
 * The out argument is a TensorList; its items become the op's outputs. */

#define SPLIT_MAX 16

bool cml_lower_check_split(const cml_pte_plan *p, const cml_pte_instruction *ins,
                           const char **why) {
    const int32_t *a = ins->args;
    int64_t sizes[SPLIT_MAX], dim;
    uint32_t n;
    if (!is_float(p, a[0])) WHY("self is not a float32 tensor");
    const cml_pte_tensor *x = cml_cv_tensor(p, a[0]);
    if (!cml_cv_int_list(p, a[1], sizes, SPLIT_MAX, &n) || n < 1)
        WHY("split_sizes is not an int list (at most 16)");
    if (!cml_cv_int(p, a[2], &dim) || dim < -x->rank || dim >= x->rank) WHY("dim out of range");
    if (dim < 0) dim += x->rank;
    const cml_pte_value *out = &p->values[a[3]];
    if (out->kind != CML_VALUE_TENSOR_LIST || out->u.tensor_list.count != n)
        WHY("out is not a list of one tensor per split");
    int64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        int32_t it = out->u.tensor_list.items[i];
        const cml_pte_tensor *t = cml_cv_tensor(p, it);
        if (sizes[i] < 1 || !is_float(p, it) || t->rank != x->rank || t->sizes[dim] != sizes[i])
            WHY("an output does not have its split's shape");
        sum += sizes[i];
    }
    if (sum != x->sizes[dim]) WHY("split_sizes do not add up to the dim");
    return true;
}

cml_status cml_lower_conv_split(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const int32_t *a = ins->args;
    int64_t sizes[SPLIT_MAX], dim = 0;
    uint32_t n = 0;
    cml_cv_int_list(c->plan, a[1], sizes, SPLIT_MAX, &n);
    cml_cv_int(c->plan, a[2], &dim);
    const char *x;
    CML_TRY(cml_cv_use(c, a[0], &x));
    const cml_pte_value *out = &c->plan->values[a[3]];
    char sn[32], an[32], names[SPLIT_MAX][96];
    const char *np[SPLIT_MAX];
    cml_milw_type ts[SPLIT_MAX];
    int32_t s32[SPLIT_MAX];
    for (uint32_t i = 0; i < n; i++) {
        int32_t it = out->u.tensor_list.items[i];
        s32[i] = (int32_t)sizes[i];
        cml_cv_type_of(c, cml_cv_tensor(c->plan, it), &ts[i]);
        snprintf(names[i], sizeof names[i], "%s", cml_cv_define(c, it, "aten::split_with_sizes"));
        np[i] = names[i];
    }
    cml_cv_const_name(c, sn, sizeof sn);
    cml_milw_const_ints(&c->w, sn, s32, n);
    cml_cv_const_name(c, an, sizeof an);
    cml_milw_const_int(&c->w, an, (int32_t)dim);
    cml_milw_arg args[3] = {{"x", x}, {"split_sizes", sn}, {"axis", an}};
    cml_cv_op_n(c, "split", args, 3, np, ts, n, names[0]);
    return CML_OK;
}
