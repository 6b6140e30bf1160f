/*
 * Per-op converters of `cml lower` (the table is lower_ops.inc). Each
 * check_* decides, from the .pte alone, whether a call converts (dtypes,
 * constant arguments); each conv_* emits the MIL ops coremltools emits for
 * the same aten op.
 */
#include <stdio.h>
#include <string.h>

#include "lower/convert_ctx.h"
#include "lower/convert_ops.h"

#define WHY(msg) do { *why = (msg); return false; } while (0)

/* All input tensors float32, and the out tensor too. */
static bool float_args(const cml_pte_plan *p, const cml_pte_instruction *ins, const int *tensor_args,
                       unsigned n, const char **why) {
    for (unsigned i = 0; i < n; i++)
        if (!cml_cv_is_float_tensor(p, ins->args[tensor_args[i]])) WHY("operand is not a float32 tensor");
    return true;
}

bool cml_lower_check_addmm(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    static const int t[] = {0, 1, 2, 5};
    if (!float_args(p, ins, t, 4, why)) return false;
    if (!cml_cv_scalar_is_one(p, ins->args[3]) || !cml_cv_scalar_is_one(p, ins->args[4]))
        WHY("beta/alpha other than 1");
    if (cml_cv_tensor(p, ins->args[1])->rank != 2 || cml_cv_tensor(p, ins->args[2])->rank != 2)
        WHY("operands are not 2-D");
    return true;
}

static bool bias_fits_linear(const cml_pte_plan *p, int32_t bias, int32_t out) {
    const cml_pte_tensor *b = cml_cv_tensor(p, bias), *o = cml_cv_tensor(p, out);
    return b->constant_data && b->rank == 1 && b->sizes[0] == o->sizes[1];
}

/* addmm(bias, x, W^T) with W constant -> linear(x, W, bias) (what
 * coremltools emits for aten.linear); otherwise matmul + add. */
cml_status cml_lower_conv_addmm(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const int32_t *a = ins->args;
    cml_cv_val *w = &c->vals[a[2]];
    const char *x, *wt, *bias;
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, a[5]), &t);
    CML_TRY(cml_cv_use(c, a[1], &x));
    if (w->kind == CV_TCONST && bias_fits_linear(c->plan, a[0], a[5]) &&
        cml_cv_tensor(c->plan, w->src)->rank == 2 && w->perm[0] == 1 && !w->emitted) {
        CML_TRY(cml_cv_use_weight(c, w->src, &wt));
        CML_TRY(cml_cv_use(c, a[0], &bias));
        cml_milw_arg args[3] = {{"x", x}, {"weight", wt}, {"bias", bias}};
        const char *out = cml_cv_define(c, a[5], "aten::linear");
        char attr[32];
        snprintf(attr, sizeof attr, "linear_%u", c->nlinear++);
        cml_cv_op(c, "linear", args, 3, out, &t, c->opts->fp16 ? out : attr);
        return CML_OK;
    }
    CML_TRY(cml_cv_use(c, a[2], &wt));
    CML_TRY(cml_cv_use(c, a[0], &bias));
    char mm[128];
    snprintf(mm, sizeof mm, "%s_mm", cml_cv_define(c, a[5], "aten::addmm"));
    cml_milw_arg margs[2] = {{"x", x}, {"y", wt}};
    cml_cv_op(c, "matmul", margs, 2, mm, &t, mm);
    cml_milw_arg aargs[2] = {{"x", mm}, {"y", bias}};
    cml_cv_op(c, "add", aargs, 2, c->vals[a[5]].name, &t, c->vals[a[5]].name);
    return CML_OK;
}

bool cml_lower_check_permute_copy(const cml_pte_plan *p, const cml_pte_instruction *ins,
                               const char **why) {
    static const int t[] = {0, 2};
    int64_t dims[CML_MAX_DIMS];
    uint32_t n;
    if (!float_args(p, ins, t, 2, why)) return false;
    if (!cml_cv_int_list(p, ins->args[1], dims, CML_MAX_DIMS, &n) ||
        n != (uint32_t)cml_cv_tensor(p, ins->args[0])->rank)
        WHY("dims is not an int list of the input's rank");
    uint32_t seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        int64_t d = dims[i] < 0 ? dims[i] + n : dims[i];
        if (d < 0 || d >= (int64_t)n || (seen >> d) & 1u) WHY("dims is not a permutation");
        seen |= 1u << d;
    }
    return true;
}

/* A permutation of a constant is folded (constant elimination); else
 * transpose(x, perm). */
cml_status cml_lower_conv_permute_copy(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const int32_t *a = ins->args;
    int64_t dims[CML_MAX_DIMS];
    uint32_t n;
    cml_cv_int_list(c->plan, a[1], dims, CML_MAX_DIMS, &n);
    cml_cv_val *o = &c->vals[a[2]];
    if (c->vals[a[0]].kind == CV_CONST) {
        o->kind = CV_TCONST;
        o->src = a[0];
        for (uint32_t i = 0; i < n; i++) o->perm[i] = (int32_t)(dims[i] < 0 ? dims[i] + n : dims[i]);
        return CML_OK;
    }
    const char *x;
    CML_TRY(cml_cv_use(c, a[0], &x));
    int32_t perm[CML_MAX_DIMS];
    for (uint32_t i = 0; i < n; i++) perm[i] = (int32_t)(dims[i] < 0 ? dims[i] + n : dims[i]);
    const char *out = cml_cv_define(c, a[2], "aten::permute_copy");
    char pn[128];
    snprintf(pn, sizeof pn, "%s_perm_0", out);
    cml_milw_const_ints(&c->w, pn, perm, n);
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, a[2]), &t);
    cml_milw_arg args[2] = {{"x", x}, {"perm", pn}};
    cml_cv_op(c, "transpose", args, 2, out, &t, out);
    return CML_OK;
}

static cml_status unary(cml_cv_ctx *c, const cml_pte_instruction *ins, const char *aten,
                        const char *mil, int out_arg) {
    const char *x;
    CML_TRY(cml_cv_use(c, ins->args[0], &x));
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, ins->args[out_arg]), &t);
    const char *out = cml_cv_define(c, ins->args[out_arg], aten);
    cml_milw_arg args[1] = {{"x", x}};
    cml_cv_op(c, mil, args, 1, out, &t, out);
    return CML_OK;
}

bool cml_lower_check_relu(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    static const int t[] = {0, 1};
    return float_args(p, ins, t, 2, why);
}

cml_status cml_lower_conv_relu(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    return unary(c, ins, "aten::relu", "relu", 1);
}

bool cml_lower_check_softmax(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    static const int t[] = {0, 3};
    int64_t dim;
    if (!float_args(p, ins, t, 2, why)) return false;
    if (!cml_cv_int(p, ins->args[1], &dim)) WHY("dim is not an int");
    int32_t r = cml_cv_tensor(p, ins->args[0])->rank;
    if (dim < -r || dim >= (r ? r : 1)) WHY("dim out of range");
    return true;
}

cml_status cml_lower_conv_softmax(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const char *x;
    int64_t dim;
    cml_cv_int(c->plan, ins->args[1], &dim);
    CML_TRY(cml_cv_use(c, ins->args[0], &x));
    char axis[32];
    cml_cv_const_name(c, axis, sizeof axis);
    cml_milw_const_int(&c->w, axis, (int32_t)dim);
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, ins->args[3]), &t);
    const char *out = cml_cv_define(c, ins->args[3], "aten::_softmax");
    cml_milw_arg args[2] = {{"x", x}, {"axis", axis}};
    cml_cv_op(c, "softmax", args, 2, out, &t, out);
    return CML_OK;
}

static cml_status binary(cml_cv_ctx *c, const cml_pte_instruction *ins, const char *aten,
                         const char *mil, int out_arg) {
    const char *x, *y;
    CML_TRY(cml_cv_use(c, ins->args[0], &x));
    CML_TRY(cml_cv_use(c, ins->args[1], &y));
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, ins->args[out_arg]), &t);
    const char *out = cml_cv_define(c, ins->args[out_arg], aten);
    cml_milw_arg args[2] = {{"x", x}, {"y", y}};
    cml_cv_op(c, mil, args, 2, out, &t, out);
    return CML_OK;
}

bool cml_lower_check_add(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    static const int t[] = {0, 1, 3};
    if (!float_args(p, ins, t, 3, why)) return false;
    if (!cml_cv_scalar_is_one(p, ins->args[2])) WHY("alpha other than 1");
    return true;
}

cml_status cml_lower_conv_add(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    return binary(c, ins, "aten::add", "add", 3);
}

bool cml_lower_check_mul(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    static const int t[] = {0, 1, 2};
    return float_args(p, ins, t, 3, why);
}

cml_status cml_lower_conv_mul(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    return binary(c, ins, "aten::mul", "mul", 2);
}

const cml_cv_op_entry *cml_lower_find_op(const cml_pte_plan *plan, const cml_pte_instruction *ins) {
    if (ins->kind != CML_INSTR_KERNEL_CALL) return NULL;
    const cml_pte_operator *op = &plan->operators[ins->a];
    for (size_t i = 0; i < cml_lower_op_table_size; i++) {
        const cml_cv_op_entry *e = &cml_lower_op_table[i];
        if (op->name.len == strlen(e->name) && !memcmp(op->name.ptr, e->name, op->name.len) &&
            op->overload.len == strlen(e->overload) &&
            !memcmp(op->overload.ptr, e->overload, op->overload.len))
            return e;
    }
    return NULL;
}

/* Unary float ops that map one to one onto a MIL activation / math op. */
#define UNARY(stem, aten, mil)                                                             \
    bool cml_lower_check_##stem(const cml_pte_plan *p, const cml_pte_instruction *ins,     \
                                const char **why) {                                        \
        static const int t[] = {0, 1};                                                     \
        return float_args(p, ins, t, 2, why);                                              \
    }                                                                                      \
    cml_status cml_lower_conv_##stem(cml_cv_ctx *c, const cml_pte_instruction *ins) {      \
        return unary(c, ins, aten, mil, 1);                                                \
    }
UNARY(sigmoid, "aten::sigmoid", "sigmoid")
UNARY(tanh, "aten::tanh", "tanh")
UNARY(exp, "aten::exp", "exp")
#undef UNARY

bool cml_lower_check_sub(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    return cml_lower_check_add(p, ins, why);
}

cml_status cml_lower_conv_sub(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    return binary(c, ins, "aten::sub", "sub", 3);
}

bool cml_lower_check_div(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    return cml_lower_check_mul(p, ins, why);
}

cml_status cml_lower_conv_div(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    return binary(c, ins, "aten::div", "real_div", 2);
}

bool cml_lower_check_mm(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    static const int t[] = {0, 1, 2};
    if (!float_args(p, ins, t, 3, why)) return false;
    if (cml_cv_tensor(p, ins->args[0])->rank != 2 || cml_cv_tensor(p, ins->args[1])->rank != 2)
        WHY("operands are not 2-D");
    return true;
}

cml_status cml_lower_conv_mm(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    return binary(c, ins, "aten::mm", "matmul", 2);
}

const cml_cv_op_entry cml_lower_op_table[] = {
#define X(name, overload, nin, stem) {name, overload, nin, cml_lower_check_##stem, cml_lower_conv_##stem},
#include "lower/lower_ops.inc"
#undef X
};
const size_t cml_lower_op_table_size = sizeof cml_lower_op_table / sizeof cml_lower_op_table[0];
