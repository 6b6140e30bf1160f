/*
 * Converters for the bool ops of a decomposed attention's all-masked-row
 * guard (eq.Scalar, logical_not, any, where.self; full_like is in
 * convert_shape.c beside full). Their bool tensors never cross a subgraph
 * boundary: the partitioner keeps a call portable when one would
 * (partition.c), since Core ML I/O has no bool.
 */
#include <stdio.h>
#include <string.h>

#include "lower/convert_ctx.h"
#include "lower/convert_ops.h"

#define WHY(msg) do { *why = (msg); return false; } while (0)

/* A bool tensor of rank >= 1, contiguous, static (as cml_cv_is_float_tensor). */
static bool is_bool(const cml_pte_plan *p, int32_t idx) {
    const cml_pte_tensor *t = cml_cv_tensor(p, idx);
    if (!t || t->dtype != CML_DTYPE_BOOL || t->dynamism != 0 || t->external || t->rank < 1 ||
        t->constant_data)
        return false;
    for (int32_t i = 0; i < t->rank; i++)
        if (t->dim_order[i] != i || t->sizes[i] <= 0) return false;
    return true;
}

static void bool_type(const cml_pte_plan *p, int32_t idx, cml_milw_type *t) {
    const cml_pte_tensor *x = cml_cv_tensor(p, idx);
    memset(t, 0, sizeof *t);
    t->dtype = CML_MILW_BOOL;
    t->rank = x->rank;
    for (int32_t i = 0; i < x->rank; i++) t->dims[i] = x->sizes[i];
}

/* ---- eq.Scalar(self, other) -> equal(x, const) ---------------------------- */

bool cml_lower_check_eq_scalar(const cml_pte_plan *p, const cml_pte_instruction *ins,
                               const char **why) {
    double v;
    if (!cml_cv_is_float_tensor(p, ins->args[0])) WHY("self is not a float32 tensor");
    if (!is_bool(p, ins->args[2])) WHY("out is not a bool tensor");
    if (!cml_cv_scalar(p, ins->args[1], &v)) WHY("other is not a scalar");
    return true;
}

cml_status cml_lower_conv_eq_scalar(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const char *x;
    double v = 0;
    cml_cv_scalar(c->plan, ins->args[1], &v);
    CML_TRY(cml_cv_use(c, ins->args[0], &x));
    char y[32];
    cml_cv_const_name(c, y, sizeof y);
    cml_cv_const_float(c, y, v);
    cml_milw_type t;
    bool_type(c->plan, ins->args[2], &t);
    const char *out = cml_cv_define(c, ins->args[2], "aten::eq");
    cml_milw_arg args[2] = {{"x", x}, {"y", y}};
    cml_cv_op(c, "equal", args, 2, out, &t, out);
    return CML_OK;
}

/* ---- logical_not(self) ------------------------------------------------------ */

bool cml_lower_check_logical_not(const cml_pte_plan *p, const cml_pte_instruction *ins,
                                 const char **why) {
    if (!is_bool(p, ins->args[0]) || !is_bool(p, ins->args[1])) WHY("operand is not a bool tensor");
    return true;
}

cml_status cml_lower_conv_logical_not(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const char *x;
    CML_TRY(cml_cv_use(c, ins->args[0], &x));
    cml_milw_type t;
    bool_type(c->plan, ins->args[1], &t);
    const char *out = cml_cv_define(c, ins->args[1], "aten::logical_not");
    cml_milw_arg args[1] = {{"x", x}};
    cml_cv_op(c, "logical_not", args, 1, out, &t, out);
    return CML_OK;
}

/* ---- any.dim(self, dim, keepdim) -> cast, reduce_max, cast back ------------ */

bool cml_lower_check_any(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    int64_t dim;
    if (!is_bool(p, ins->args[0]) || !is_bool(p, ins->args[3])) WHY("operand is not a bool tensor");
    if (!cml_cv_int(p, ins->args[1], &dim)) WHY("dim is not an int");
    int32_t r = cml_cv_tensor(p, ins->args[0])->rank;
    if (dim < -r || dim >= r) WHY("dim out of range");
    if (p->values[ins->args[2]].kind != CML_VALUE_BOOL) WHY("keepdim is not a bool");
    return true;
}

cml_status cml_lower_conv_any(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const int32_t *a = ins->args;
    const char *x;
    int64_t dim = 0;
    cml_cv_int(c->plan, a[1], &dim);
    bool keep = c->plan->values[a[2]].u.b;
    CML_TRY(cml_cv_use(c, a[0], &x));
    const char *out = cml_cv_define(c, a[3], "aten::any");
    const char *fdt = c->opts->fp16 ? "fp16" : "fp32";
    char n[4][128], cast_in[160], max[160];
    for (int i = 0; i < 4; i++) cml_cv_const_name(c, n[i], sizeof n[i]);
    snprintf(cast_in, sizeof cast_in, "%s_cast", out);
    snprintf(max, sizeof max, "%s_max", out);
    cml_milw_type in_t, red_t, out_t;
    bool_type(c->plan, a[0], &in_t);
    in_t.dtype = c->opts->fp16 ? CML_MILW_FP16 : CML_MILW_FP32;
    bool_type(c->plan, a[3], &out_t);
    red_t = out_t;
    red_t.dtype = in_t.dtype;
    cml_milw_const_string(&c->w, n[0], fdt);
    cml_milw_arg c1[2] = {{"x", x}, {"dtype", n[0]}};
    cml_cv_op(c, "cast", c1, 2, cast_in, &in_t, cast_in);
    int32_t axis = (int32_t)dim;
    cml_milw_const_ints(&c->w, n[1], &axis, 1);
    cml_milw_const_bool(&c->w, n[2], keep);
    cml_milw_arg r[3] = {{"x", cast_in}, {"axes", n[1]}, {"keep_dims", n[2]}};
    cml_cv_op(c, "reduce_max", r, 3, max, &red_t, max);
    cml_milw_const_string(&c->w, n[3], "bool");
    cml_milw_arg c2[2] = {{"x", max}, {"dtype", n[3]}};
    cml_cv_op(c, "cast", c2, 2, out, &out_t, out);
    return CML_OK;
}

/* ---- where.self(condition, self, other) -> select(cond, a, b) ----------------- */

bool cml_lower_check_where(const cml_pte_plan *p, const cml_pte_instruction *ins,
                           const char **why) {
    const int32_t *a = ins->args;
    if (!is_bool(p, a[0])) WHY("condition is not a bool tensor");
    if (!cml_cv_is_float_tensor(p, a[1]) || !cml_cv_is_float_tensor(p, a[2]) ||
        !cml_cv_is_float_tensor(p, a[3]))
        WHY("operand is not a float32 tensor");
    return true;
}

cml_status cml_lower_conv_where(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const int32_t *a = ins->args;
    const char *cond, *x, *y;
    CML_TRY(cml_cv_use(c, a[0], &cond));
    CML_TRY(cml_cv_use(c, a[1], &x));
    CML_TRY(cml_cv_use(c, a[2], &y));
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, a[3]), &t);
    const char *out = cml_cv_define(c, a[3], "aten::where");
    cml_milw_arg args[3] = {{"cond", cond}, {"a", x}, {"b", y}};
    cml_cv_op(c, "select", args, 3, out, &t, out);
    return CML_OK;
}
