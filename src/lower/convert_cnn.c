/*
 * Converters for the CNN ops of `cml lower` (table: lower_ops.inc):
 * convolution -> conv, _native_batch_norm_legit_no_training -> batch_norm,
 * hardtanh -> relu6 / clip, max_pool2d_with_indices -> max_pool,
 * avg_pool2d -> avg_pool. Operand consts are named as coremltools names
 * them ("<out>_pad_type_0", "<out>_strides_0", ...). A batch norm right
 * after a convolution, on its only reader, is folded into the conv's weight
 * and bias, as coremltools' fuse_conv_batchnorm pass does: the conv then
 * carries the batch norm's output name.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower/convert_ctx.h"
#include "lower/convert_ops.h"

#define WHY(msg) do { *why = (msg); return false; } while (0)

static bool scalar(const cml_pte_plan *p, int32_t idx, double *v) {
    if (idx < 0 || (uint32_t)idx >= p->nvalues) return false;
    const cml_pte_value *x = &p->values[idx];
    if (x->kind == CML_VALUE_INT) { *v = (double)x->u.i; return true; }
    if (x->kind == CML_VALUE_DOUBLE) { *v = x->u.d; return true; }
    return false;
}

static bool is_bool(const cml_pte_plan *p, int32_t idx, bool *v) {
    if (idx < 0 || (uint32_t)idx >= p->nvalues || p->values[idx].kind != CML_VALUE_BOOL) return false;
    *v = p->values[idx].u.b;
    return true;
}

static bool is_const(const cml_pte_plan *p, int32_t idx) {
    const cml_pte_tensor *t = cml_cv_tensor(p, idx);
    return t && t->constant_data && cml_cv_is_float_tensor(p, idx);
}

/* A 2-element int list (or 1 element, repeated), values in [lo, 2^20]. */
static bool pair(const cml_pte_plan *p, int32_t idx, int64_t lo, int32_t out[2]) {
    int64_t v[CML_MAX_DIMS];
    uint32_t n;
    if (!cml_cv_int_list(p, idx, v, CML_MAX_DIMS, &n) || n < 1 || n > 2) return false;
    if (n == 1) v[1] = v[0];
    for (int i = 0; i < 2; i++) {
        if (v[i] < lo || v[i] > (1 << 20)) return false;
        out[i] = (int32_t)v[i];
    }
    return true;
}

static void named(char *buf, size_t size, const char *out, const char *what) {
    snprintf(buf, size, "%.90s_%s_0", out, what);
}

bool cml_lower_check_convolution(const cml_pte_plan *p, const cml_pte_instruction *ins,
                              const char **why) {
    const int32_t *a = ins->args;
    int32_t s[2], pd[2], d[2];
    int64_t groups;
    bool transposed;
    if (!cml_cv_is_float_tensor(p, a[0]) || !cml_cv_is_float_tensor(p, a[9]))
        WHY("operand is not a float32 tensor");
    if (cml_cv_tensor(p, a[0])->rank != 4) WHY("not a 2-D convolution");
    if (!is_const(p, a[1])) WHY("weight is not a constant");
    if (p->values[a[2]].kind != CML_VALUE_NULL && !is_const(p, a[2])) WHY("bias is not a constant");
    if (!pair(p, a[3], 1, s) || !pair(p, a[4], 0, pd) || !pair(p, a[5], 1, d))
        WHY("stride/padding/dilation are not int pairs");
    if (!is_bool(p, a[6], &transposed) || transposed) WHY("transposed convolution");
    if (!cml_cv_int(p, a[8], &groups) || groups < 1) WHY("groups is not a positive int");
    return true;
}

/* The batch norm instruction to fold into the conv at c->cur, or NULL. */
static const cml_pte_instruction *fusable_bn(const cml_cv_ctx *c, int32_t conv_out) {
    const cml_pte_plan *p = c->plan;
    const cml_pte_chain *ch = &p->chains[0];
    if (c->cur + 1 > c->last) return NULL;
    const cml_pte_instruction *bn = &ch->instructions[c->cur + 1];
    const cml_cv_op_entry *e = cml_lower_find_op(p, bn);
    if (!e || strcmp(e->name, "aten::_native_batch_norm_legit_no_training") || bn->args[0] != conv_out)
        return NULL;
    for (uint32_t i = 0; i < p->noutputs; i++) if (p->outputs[i] == conv_out) return NULL;
    for (uint32_t i = 0; i < ch->ninstructions; i++) {
        if (i == c->cur || i == c->cur + 1) continue;
        for (uint32_t k = 0; k < ch->instructions[i].nargs; k++)
            if (ch->instructions[i].args[k] == conv_out) return NULL;
    }
    for (uint32_t v = 0; v < p->nvalues; v++)
        if (cml_cv_same_storage(p, c->view, conv_out, (int32_t)v)) return NULL;
    return bn;
}

static float fval(const cml_pte_plan *p, int32_t idx, int64_t i) {
    float f;
    memcpy(&f, cml_cv_tensor(p, idx)->constant_data + 4 * i, 4);
    return f;
}

/* w' = w * s, b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps), per
 * output channel, in float32 (as numpy does in coremltools). */
static cml_status fold_bn(cml_cv_ctx *c, const int32_t *a, const cml_pte_instruction *bn,
                          char *wn, char *bn_name, size_t size) {
    const cml_pte_plan *p = c->plan;
    const cml_pte_tensor *w = cml_cv_tensor(p, a[1]);
    const int32_t *b = bn->args;
    int64_t cout = w->sizes[0], per = (int64_t)(w->nbytes / 4) / (cout ? cout : 1);
    if (cml_cv_tensor(p, b[1])->sizes[0] != cout)
        return cml_fail(c->err, CML_ERR_UNSUPPORTED, "lower: batch norm of %lld channels after a "
                        "conv of %lld", (long long)cml_cv_tensor(p, b[1])->sizes[0], (long long)cout);
    double eps = 0;
    const cml_pte_value *ev = &p->values[b[6]];
    eps = ev->kind == CML_VALUE_DOUBLE ? ev->u.d : (double)ev->u.i;
    float *nw = malloc((size_t)(w->nbytes ? w->nbytes : 4)), *nb = malloc((size_t)cout * 4 + 4);
    cml_status st = CML_OK;
    if (!nw || !nb) st = cml_fail(c->err, CML_ERR_NOMEM, "lower: out of memory folding a batch norm");
    for (int64_t o = 0; st == CML_OK && o < cout; o++) {
        float s = fval(p, b[1], o) / sqrtf(fval(p, b[4], o) + (float)eps);
        float bias = p->values[a[2]].kind == CML_VALUE_NULL ? 0.0f : fval(p, a[2], o);
        nb[o] = (bias - fval(p, b[3], o)) * s + fval(p, b[2], o);
        for (int64_t k = 0; k < per; k++) nw[o * per + k] = fval(p, a[1], o * per + k) * s;
    }
    if (st == CML_OK) st = cml_cv_const_weight(c, cml_cv_const_name(c, wn, size), w->rank, w->sizes, nw);
    if (st == CML_OK) st = cml_cv_const_floats(c, cml_cv_const_name(c, bn_name, size), 1, &cout, nb);
    free(nw);
    free(nb);
    return st;
}

/* Operand consts of a conv named after base; returns the arg count. */
static unsigned conv_consts(cml_cv_ctx *c, const int32_t *a, const char *base,
                            char (*n)[128]) {
    int32_t s[2] = {1, 1}, pd[2] = {0, 0}, d[2] = {1, 1}, pad4[4];
    int64_t groups = 1;
    pair(c->plan, a[3], 1, s);
    pair(c->plan, a[4], 0, pd);
    pair(c->plan, a[5], 1, d);
    cml_cv_int(c->plan, a[8], &groups);
    static const char *const what[5] = {"pad_type", "pad", "strides", "dilations", "groups"};
    for (int i = 0; i < 5; i++) named(n[i], 128, base, what[i]);
    cml_milw_const_string(&c->w, n[0], pd[0] || pd[1] ? "custom" : "valid");
    pad4[0] = pad4[1] = pd[0];
    pad4[2] = pad4[3] = pd[1];
    cml_milw_const_ints(&c->w, n[1], pad4, 4);
    cml_milw_const_ints(&c->w, n[2], s, 2);
    cml_milw_const_ints(&c->w, n[3], d, 2);
    cml_milw_const_int(&c->w, n[4], (int32_t)groups);
    return 5;
}

cml_status cml_lower_conv_convolution(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const int32_t *a = ins->args;
    const char *x, *w, *b = NULL;
    char base[96], n[5][128], fw[32], fb[32];
    const cml_pte_instruction *bn = fusable_bn(c, a[9]);
    CML_TRY(cml_cv_use(c, a[0], &x));
    snprintf(base, sizeof base, "%s", cml_cv_define(c, a[9], "aten::convolution"));
    conv_consts(c, a, base, n);
    if (bn) {
        CML_TRY(fold_bn(c, a, bn, fw, fb, sizeof fw));
        w = fw;
        b = fb;
        snprintf(base, sizeof base, "%s",
                 cml_cv_define(c, bn->args[7], "aten::_native_batch_norm_legit_no_training"));
        c->fused = c->cur + 2;
    } else {
        CML_TRY(cml_cv_use_weight(c, a[1], &w));
        if (c->plan->values[a[2]].kind != CML_VALUE_NULL) CML_TRY(cml_cv_use(c, a[2], &b));
    }
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, a[9]), &t);
    cml_milw_arg args[8] = {{"x", x}, {"weight", w}, {"strides", n[2]}, {"pad_type", n[0]},
                            {"pad", n[1]}, {"dilations", n[3]}, {"groups", n[4]}, {"bias", b}};
    cml_cv_op(c, "conv", args, b ? 8 : 7, base, &t, base);
    return CML_OK;
}

/* (input, weight, bias, running_mean, running_var, momentum, eps) ->
 * out, save_mean, save_invstd (unused by anything else). */
bool cml_lower_check_batch_norm(const cml_pte_plan *p, const cml_pte_instruction *ins,
                             const char **why) {
    const int32_t *a = ins->args;
    double eps = 0;
    if (ins->nargs < 10) WHY("wrong number of arguments");
    if (!cml_cv_is_float_tensor(p, a[0]) || !cml_cv_is_float_tensor(p, a[7]))
        WHY("operand is not a float32 tensor");
    for (int i = 1; i <= 4; i++)
        if (!is_const(p, a[i]) || cml_cv_tensor(p, a[i])->rank != 1) WHY("weight/bias/stats are not 1-D constants");
    if (!scalar(p, a[6], &eps)) WHY("eps is not a number");
    if (cml_cv_read_elsewhere(p, a[8], ins) || cml_cv_read_elsewhere(p, a[9], ins))
        WHY("save_mean / save_invstd are used");
    return true;
}

cml_status cml_lower_conv_batch_norm(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const int32_t *a = ins->args;
    const char *x, *g, *b, *m, *v;
    double eps = 0;
    scalar(c->plan, a[6], &eps);
    CML_TRY(cml_cv_use(c, a[0], &x));
    CML_TRY(cml_cv_use(c, a[3], &m));
    CML_TRY(cml_cv_use(c, a[4], &v));
    CML_TRY(cml_cv_use(c, a[1], &g));
    CML_TRY(cml_cv_use(c, a[2], &b));
    char base[96], en[128];
    snprintf(base, sizeof base, "%s", cml_cv_define(c, a[7], "aten::_native_batch_norm_legit_no_training"));
    named(en, sizeof en, base, "epsilon");
    cml_cv_const_float(c, en, eps);
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, a[7]), &t);
    cml_milw_arg args[6] = {{"x", x}, {"mean", m}, {"variance", v}, {"gamma", g}, {"beta", b},
                            {"epsilon", en}};
    cml_cv_op(c, "batch_norm", args, 6, base, &t, base);
    return CML_OK;
}

bool cml_lower_check_hardtanh(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    double lo = 0, hi = 0;
    if (!cml_cv_is_float_tensor(p, ins->args[0]) || !cml_cv_is_float_tensor(p, ins->args[3]))
        WHY("operand is not a float32 tensor");
    if (!scalar(p, ins->args[1], &lo) || !scalar(p, ins->args[2], &hi) || !(lo <= hi))
        WHY("min_val/max_val are not numbers with min <= max");
    return true;
}

cml_status cml_lower_conv_hardtanh(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    const int32_t *a = ins->args;
    double lo = 0, hi = 0;
    scalar(c->plan, a[1], &lo);
    scalar(c->plan, a[2], &hi);
    const char *x;
    CML_TRY(cml_cv_use(c, a[0], &x));
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, a[3]), &t);
    if (lo == 0 && hi == 6) {
        const char *out = cml_cv_define(c, a[3], "aten::relu6");
        cml_milw_arg args[1] = {{"x", x}};
        cml_cv_op(c, "relu6", args, 1, out, &t, out);
        return CML_OK;
    }
    char base[96], an[128], bn[128];
    snprintf(base, sizeof base, "%s", cml_cv_define(c, a[3], "aten::hardtanh"));
    named(an, sizeof an, base, "alpha");
    named(bn, sizeof bn, base, "beta");
    cml_cv_const_float(c, an, lo);
    cml_cv_const_float(c, bn, hi);
    cml_milw_arg args[3] = {{"x", x}, {"alpha", an}, {"beta", bn}};
    cml_cv_op(c, "clip", args, 3, base, &t, base);
    return CML_OK;
}

/* kernel, stride (empty = kernel), padding of a pool. */
static bool pool_geom(const cml_pte_plan *p, const int32_t *a, int32_t k[2], int32_t s[2],
                      int32_t pd[2]) {
    if (!pair(p, a[1], 1, k) || !pair(p, a[3], 0, pd)) return false;
    const cml_pte_value *sv = &p->values[a[2]];
    if (sv->kind == CML_VALUE_INT_LIST && sv->u.int_list.count == 0) { s[0] = k[0]; s[1] = k[1]; return true; }
    return pair(p, a[2], 1, s);
}

bool cml_lower_check_max_pool(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    const int32_t *a = ins->args;
    int32_t k[2], s[2], pd[2], d[2];
    bool ceil = false;
    if (ins->nargs < 8) WHY("wrong number of arguments");
    if (!cml_cv_is_float_tensor(p, a[0]) || !cml_cv_is_float_tensor(p, a[6]) ||
        cml_cv_tensor(p, a[0])->rank != 4)
        WHY("operand is not a 4-D float32 tensor");
    if (!pool_geom(p, a, k, s, pd) || !pair(p, a[4], 1, d) || d[0] != 1 || d[1] != 1)
        WHY("kernel/stride/padding/dilation unsupported");
    if (!is_bool(p, a[5], &ceil)) WHY("ceil_mode is not a bool");
    if (cml_cv_read_elsewhere(p, a[7], ins)) WHY("indices are used");
    return true;
}

static cml_status pool(cml_cv_ctx *c, const int32_t *a, const char *aten, const char *mil,
                       int32_t out_arg, bool ceil, int exclude_pad) {
    int32_t k[2] = {1, 1}, s[2] = {1, 1}, pd[2] = {0, 0}, pad4[4];
    pool_geom(c->plan, a, k, s, pd);
    const char *x;
    CML_TRY(cml_cv_use(c, a[0], &x));
    char kn[32], sn[32], base[96], pt[128], pn[128], cn[128], en[128];
    cml_cv_const_name(c, kn, sizeof kn);
    cml_milw_const_ints(&c->w, kn, k, 2);
    cml_cv_const_name(c, sn, sizeof sn);
    cml_milw_const_ints(&c->w, sn, s, 2);
    snprintf(base, sizeof base, "%s", cml_cv_define(c, a[out_arg], aten));
    named(pt, sizeof pt, base, "pad_type");
    named(pn, sizeof pn, base, "pad");
    named(cn, sizeof cn, base, "ceil_mode");
    named(en, sizeof en, base, "exclude_padding_from_average");
    cml_milw_const_string(&c->w, pt, "custom");
    if (exclude_pad >= 0) cml_milw_const_bool(&c->w, en, exclude_pad);
    pad4[0] = pad4[1] = pd[0];
    pad4[2] = pad4[3] = pd[1];
    cml_milw_const_ints(&c->w, pn, pad4, 4);
    cml_milw_const_bool(&c->w, cn, ceil);
    cml_milw_type t;
    cml_cv_type_of(c, cml_cv_tensor(c->plan, a[out_arg]), &t);
    cml_milw_arg args[7] = {{"x", x}, {"kernel_sizes", kn}, {"strides", sn}, {"pad_type", pt},
                            {"pad", pn}, {"ceil_mode", cn}, {"exclude_padding_from_average", en}};
    cml_cv_op(c, mil, args, exclude_pad >= 0 ? 7 : 6, base, &t, base);
    return CML_OK;
}

cml_status cml_lower_conv_max_pool(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    bool ceil = false;
    is_bool(c->plan, ins->args[5], &ceil);
    return pool(c, ins->args, "aten::max_pool2d", "max_pool", 6, ceil, -1);
}

bool cml_lower_check_avg_pool(const cml_pte_plan *p, const cml_pte_instruction *ins, const char **why) {
    const int32_t *a = ins->args;
    int32_t k[2], s[2], pd[2];
    bool ceil = false, incl = false;
    if (!cml_cv_is_float_tensor(p, a[0]) || !cml_cv_is_float_tensor(p, a[7]) ||
        cml_cv_tensor(p, a[0])->rank != 4)
        WHY("operand is not a 4-D float32 tensor");
    if (!pool_geom(p, a, k, s, pd)) WHY("kernel/stride/padding unsupported");
    if (!is_bool(p, a[4], &ceil) || !is_bool(p, a[5], &incl)) WHY("ceil_mode/count_include_pad are not bools");
    if (p->values[a[6]].kind != CML_VALUE_NULL) WHY("divisor_override");
    return true;
}

cml_status cml_lower_conv_avg_pool(cml_cv_ctx *c, const cml_pte_instruction *ins) {
    bool ceil = false, incl = false;
    is_bool(c->plan, ins->args[4], &ceil);
    is_bool(c->plan, ins->args[5], &incl);
    return pool(c, ins->args, "aten::avg_pool2d", "avg_pool", 7, ceil, !incl);
}

