/*
 * Converters for the shape ops of an unrolled recurrent network
 * (portable_lstm): full (and full_like), squeeze / unsqueeze, slice,
 * select and cat. All shapes are static, so squeeze / unsqueeze / select's
 * drop of a dim are a `reshape` to the out tensor's shape. Same contract as
 * convert_ops.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower/convert_ctx.h"
#include "lower/convert_ops.h"

#define WHY(msg) do { *why = (msg); return false; } while (0)

/* out = reshape(x, out's shape), x the MIL name of value `in`. */
static cml_status reshape_to(cml_cv_ctx *c, const char *x, int32_t out_idx, const char *aten) {
    const cml_pte_tensor *t = cml_cv_tensor(c->plan, out_idx);
    int32_t shape[CML_MAX_DIMS];
    for (int32_t i = 0; i < t->rank; i++) shape[i] = (int32_t)t->sizes[i];
    char sn[32], src[128];
    snprintf(src, sizeof src, "%s", x);
    cml_cv_const_name(c, sn, sizeof sn);
    cml_milw_const_ints(&c->w, sn, shape, (uint32_t)t->rank);
    cml_milw_type ty;
    cml_cv_type_of(c, t, &ty);
    const char *out = cml_cv_define(c, out_idx, aten);
    cml_milw_arg args[2] = {{"x", src}, {"shape", sn}};
    cml_cv_op(c, "reshape", args, 2, out, &ty, out);
    return CML_OK;
}

static bool same_numel(const cml_pte_plan *p, int32_t a, int32_t b) {
    return cml_cv_tensor(p, a)->nbytes == cml_cv_tensor(p, b)->nbytes;
}

/* ---- full(size, fill_value) / full_like(self, fill_value, memory_format)
 * -> a const of the out tensor's shape filled with fill_value (args[1]) ---- */

static bool check_fill(const cml_pte_plan *p, const cml_pte_instruction *ins, int out_arg,
                       const char **why) {
    double v;
    if (!cml_cv_is_float_tensor(p, ins->args[out_arg])) WHY("out is not a float32 tensor");
    if (!cml_cv_scalar(p, ins->args[1], &v)) WHY("fill_value is not a scalar");
    return true;
}

static cml_status conv_fill(cml_cv_ctx *c, const cml_pte_instruction *ins, int out_arg,
                            const char *aten) {
    double v = 0;
    cml_cv_scalar(c->plan, ins->args[1], &v);
    const cml_pte_tensor *t = cml_cv_tensor(c->plan, ins->args[out_arg]);
    size_t n = t->nbytes / 4;
    float *data = malloc(n ? n * sizeof *data : sizeof *data);
    if (!data) return cml_fail(c->err, CML_ERR_NOMEM, "lower: out of memory for %s", aten);
    for (size_t i = 0; i < n; i++) data[i] = (float)v;
    const char *out = cml_cv_define(c, ins->args[out_arg], aten);
    cml_status st = cml_cv_const_floats(c, out, t->rank, t->sizes, data);
    free(data);
    return st;
}

bool cml_lower_check_full(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    return check_fill(p, ins, 2, why);
}

cml_status cml_lower_conv_full(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    return conv_fill(c, ins, 2, "aten::full");
}

bool cml_lower_check_full_like(const cml_pte_plan *p, const cml_pte_instruction *ins,
                               const char **why) {
    return check_fill(p, ins, 3, why);
}

cml_status cml_lower_conv_full_like(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    return conv_fill(c, ins, 3, "aten::full_like");
}

/* ---- squeeze_copy.dims(self, dims) / unsqueeze_copy(self, dim) -> reshape ---- */

bool cml_lower_check_squeeze(const cml_pte_plan *p, const cml_pte_instruction *ins,
                             const char **why) {
    if (!cml_cv_is_float_tensor(p, ins->args[0]) || !cml_cv_is_float_tensor(p, ins->args[2]) ||
        !same_numel(p, ins->args[0], ins->args[2]))
        WHY("operand is not a float32 tensor of rank >= 1");
    return true;
}

cml_status cml_lower_conv_squeeze(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const char *x;
    CML_TRY(cml_cv_use(c, ins->args[0], &x));
    return reshape_to(c, x, ins->args[2], "aten::squeeze");
}

bool cml_lower_check_unsqueeze(const cml_pte_plan *p, const cml_pte_instruction *ins,
                               const char **why) {
    return cml_lower_check_squeeze(p, ins, why);
}

cml_status cml_lower_conv_unsqueeze(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const char *x;
    CML_TRY(cml_cv_use(c, ins->args[0], &x));
    return reshape_to(c, x, ins->args[2], "aten::unsqueeze");
}

/* ---- slice_copy.Tensor(self, dim, start, end, step) / select_copy.int(self,
 * dim, index) -> slice_by_index (+ reshape for select) ------------------------ */

/* [begin, end) with stride along dim of x (rank r), the rest whole; false
 * when the numbers do not make the out tensor's shape. */
static bool slice_range(const cml_pte_plan *p, const int32_t *a, bool select, int64_t *b,
                        int64_t *e, int64_t *s, int64_t *dim) {
    const cml_pte_tensor *x = cml_cv_tensor(p, a[0]);
    int64_t r = x->rank, lo = 0, hi, st = 1;
    if (!cml_cv_int(p, a[1], dim) || *dim < -r || *dim >= r) return false;
    if (*dim < 0) *dim += r;
    int64_t n = x->sizes[*dim];
    if (select) {
        if (!cml_cv_int(p, a[2], &lo)) return false;
        if (lo < 0) lo += n;
        hi = lo + 1;
    } else {
        hi = n;
        if (p->values[a[2]].kind != CML_VALUE_NULL && !cml_cv_int(p, a[2], &lo)) return false;
        if (p->values[a[3]].kind != CML_VALUE_NULL && !cml_cv_int(p, a[3], &hi)) return false;
        if (!cml_cv_int(p, a[4], &st) || st < 1) return false;
        if (lo < 0) lo += n;
        if (hi < 0) hi += n;
        lo = lo < 0 ? 0 : lo > n ? n : lo;
        hi = hi < lo ? lo : hi > n ? n : hi;
    }
    if (lo < 0 || hi > n || lo >= hi) return false;
    for (int64_t i = 0; i < r; i++) b[i] = 0, e[i] = x->sizes[i], s[i] = 1;
    b[*dim] = lo, e[*dim] = hi, s[*dim] = st;
    return true;
}

static bool check_slice_like(const cml_pte_plan *p, const cml_pte_instruction *ins, bool select,
                             int out_arg, const char **why) {
    int64_t b[CML_MAX_DIMS], e[CML_MAX_DIMS], s[CML_MAX_DIMS], dim;
    if (!cml_cv_is_float_tensor(p, ins->args[0]) || !cml_cv_is_float_tensor(p, ins->args[out_arg]))
        WHY("operand is not a float32 tensor of rank >= 1");
    if (!slice_range(p, ins->args, select, b, e, s, &dim)) WHY("dim / start / end / step");
    const cml_pte_tensor *o = cml_cv_tensor(p, ins->args[out_arg]);
    int64_t want = (e[dim] - b[dim] + s[dim] - 1) / s[dim], numel = 1;
    for (int32_t i = 0; i < o->rank; i++) numel *= o->sizes[i];
    int64_t got = 1;
    const cml_pte_tensor *x = cml_cv_tensor(p, ins->args[0]);
    for (int32_t i = 0; i < x->rank; i++) got *= i == dim ? want : x->sizes[i];
    if (got != numel) WHY("the range does not make the out tensor");
    return true;
}

static cml_status conv_slice_like(cml_cv_ctx *c, const cml_pte_instruction *ins, bool select,
                                  int out_arg, const char *aten) {
    int64_t b[CML_MAX_DIMS], e[CML_MAX_DIMS], s[CML_MAX_DIMS], dim;
    slice_range(c->plan, ins->args, select, b, e, s, &dim);
    const cml_pte_tensor *x = cml_cv_tensor(c->plan, ins->args[0]);
    const char *xn;
    CML_TRY(cml_cv_use(c, ins->args[0], &xn));
    int32_t b32[CML_MAX_DIMS], e32[CML_MAX_DIMS], s32[CML_MAX_DIMS];
    cml_milw_type t;
    cml_cv_type_of(c, x, &t);
    for (int32_t i = 0; i < x->rank; i++) {
        b32[i] = (int32_t)b[i], e32[i] = (int32_t)e[i], s32[i] = (int32_t)s[i];
        t.dims[i] = (e[i] - b[i] + s[i] - 1) / s[i];
    }
    char n[3][32], name[128];
    for (int i = 0; i < 3; i++) cml_cv_const_name(c, n[i], sizeof n[i]);
    cml_milw_const_ints(&c->w, n[0], b32, (uint32_t)x->rank);
    cml_milw_const_ints(&c->w, n[1], e32, (uint32_t)x->rank);
    cml_milw_const_ints(&c->w, n[2], s32, (uint32_t)x->rank);
    cml_milw_arg args[4] = {{"x", xn}, {"begin", n[0]}, {"end", n[1]}, {"stride", n[2]}};
    if (!select) {
        const char *out = cml_cv_define(c, ins->args[out_arg], aten);
        cml_cv_op(c, "slice_by_index", args, 4, out, &t, out);
        return CML_OK;
    }
    snprintf(name, sizeof name, "%s_slice_%u", xn, c->nconst);
    cml_cv_op(c, "slice_by_index", args, 4, name, &t, name);
    return reshape_to(c, name, ins->args[out_arg], aten);
}

bool cml_lower_check_slice(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    return check_slice_like(p, ins, false, 5, why);
}

cml_status cml_lower_conv_slice(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    return conv_slice_like(c, ins, false, 5, "aten::slice_copy");
}

bool cml_lower_check_select(const cml_pte_plan *p, const cml_pte_instruction *ins,
                            const char **why) {
    return check_slice_like(p, ins, true, 3, why);
}

cml_status cml_lower_conv_select(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    return conv_slice_like(c, ins, true, 3, "aten::select_copy");
}

/* ---- cat(tensors, dim) -> concat(values, axis, interleave false) ------------ */

#define CAT_MAX 64

bool cml_lower_check_cat(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    const cml_pte_value *l = &p->values[ins->args[0]];
    int64_t dim;
    if (l->kind != CML_VALUE_TENSOR_LIST || l->u.tensor_list.count < 1 ||
        l->u.tensor_list.count > CAT_MAX)
        WHY("tensors is not a list of 1..64 tensors");
    if (!cml_cv_is_float_tensor(p, ins->args[2])) WHY("out is not a float32 tensor");
    int32_t r = cml_cv_tensor(p, ins->args[2])->rank;
    for (uint32_t i = 0; i < l->u.tensor_list.count; i++) {
        int32_t it = l->u.tensor_list.items[i];
        if (!cml_cv_is_float_tensor(p, it) || cml_cv_tensor(p, it)->rank != r)
            WHY("an item is not a float32 tensor of the out rank");
    }
    if (!cml_cv_int(p, ins->args[1], &dim) || dim < -r || dim >= r) WHY("dim out of range");
    return true;
}

cml_status cml_lower_conv_cat(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const cml_pte_value *l = &c->plan->values[ins->args[0]];
    int64_t dim = 0;
    cml_cv_int(c->plan, ins->args[1], &dim);
    uint32_t n = l->u.tensor_list.count;
    cml_milw_arg args[CAT_MAX + 2];
    char names[CAT_MAX][96];
    for (uint32_t i = 0; i < n; i++) {
        const char *v;
        CML_TRY(cml_cv_use(c, l->u.tensor_list.items[i], &v));
        snprintf(names[i], sizeof names[i], "%s", v);
        args[i] = (cml_milw_arg){"values", names[i]};
    }
    char an[32], il[32];
    cml_cv_const_name(c, an, sizeof an);
    cml_milw_const_int(&c->w, an, (int32_t)dim);
    cml_cv_const_name(c, il, sizeof il);
    cml_milw_const_bool(&c->w, il, false);
    args[n] = (cml_milw_arg){"axis", an};
    args[n + 1] = (cml_milw_arg){"interleave", il};
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, ins->args[2]), &t);
    const char *out = cml_cv_define(c, ins->args[2], "aten::cat");
    cml_cv_op(c, "concat", args, n + 2, out, &t, out);
    return CML_OK;
}
