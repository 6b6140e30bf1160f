/*
 * One subgraph -> ML Program -> Core ML payload (see lower.h). The group's
 * inputs are the non-constant tensors it reads but does not produce (in
 * first-use order); its outputs are the tensors it produces that a later
 * instruction or the plan's outputs read (in production order). Constants
 * become MIL consts (take_over_constant_data). With fp16 precision, float
 * inputs are cast to fp16 at the start and outputs back to fp32 at the end,
 * consts are stored as fp16, and op outputs are suffixed "_cast_fp16", as
 * coremltools does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fp16.h"
#include "lower/convert_ctx.h"
#include "lower/convert_ops.h"
#include "lower/payload_write.h"

const cml_pte_tensor *cml_cv_tensor(const cml_pte_plan *plan, int32_t idx) {
    if (idx < 0 || (uint32_t)idx >= plan->nvalues) return NULL;
    const cml_pte_value *v = &plan->values[idx];
    return v->kind == CML_VALUE_TENSOR ? v->u.tensor : NULL;
}

bool cml_cv_is_float_tensor(const cml_pte_plan *plan, int32_t idx) {
    const cml_pte_tensor *t = cml_cv_tensor(plan, idx);
    /* rank 0 is refused: a Core ML function input or feature needs rank >= 1
     * (coremltools' milproto loader rejects scalar function inputs). */
    if (!t || t->dtype != CML_DTYPE_FLOAT32 || t->dynamism != 0 || t->external || t->rank < 1)
        return false;
    for (int32_t i = 0; i < t->rank; i++)
        if (t->dim_order[i] != i || t->sizes[i] <= 0) return false;
    return true;
}

bool cml_cv_int(const cml_pte_plan *plan, int32_t idx, int64_t *v) {
    if (idx < 0 || (uint32_t)idx >= plan->nvalues || plan->values[idx].kind != CML_VALUE_INT)
        return false;
    *v = plan->values[idx].u.i;
    return true;
}

bool cml_cv_scalar(const cml_pte_plan *plan, int32_t idx, double *v) {
    if (idx < 0 || (uint32_t)idx >= plan->nvalues) return false;
    const cml_pte_value *s = &plan->values[idx];
    if (s->kind == CML_VALUE_INT) *v = (double)s->u.i;
    else if (s->kind == CML_VALUE_DOUBLE) *v = s->u.d;
    else if (s->kind == CML_VALUE_BOOL) *v = s->u.b;
    else return false;
    return true;
}

bool cml_cv_scalar_is_one(const cml_pte_plan *plan, int32_t idx) {
    if (idx < 0 || (uint32_t)idx >= plan->nvalues) return false;
    const cml_pte_value *v = &plan->values[idx];
    return (v->kind == CML_VALUE_INT && v->u.i == 1) ||
           (v->kind == CML_VALUE_DOUBLE && v->u.d == 1.0);
}

bool cml_cv_int_list(const cml_pte_plan *plan, int32_t idx, int64_t *out, uint32_t max, uint32_t *n) {
    if (idx < 0 || (uint32_t)idx >= plan->nvalues || plan->values[idx].kind != CML_VALUE_INT_LIST)
        return false;
    const cml_pte_value *v = &plan->values[idx];
    if (v->u.int_list.count > max) return false;
    for (uint32_t i = 0; i < v->u.int_list.count; i++)
        if (!cml_cv_int(plan, (int32_t)v->u.int_list.items[i], &out[i])) return false;
    *n = v->u.int_list.count;
    return true;
}

void cml_cv_type_of(const cml_cv_ctx *c, const cml_pte_tensor *t, cml_milw_type *out) {
    memset(out, 0, sizeof *out);
    out->dtype = c->opts->fp16 ? CML_MILW_FP16 : CML_MILW_FP32;
    out->rank = t->rank;
    for (int32_t i = 0; i < t->rank; i++) out->dims[i] = t->sizes[i];
}

const char *cml_cv_const_name(cml_cv_ctx *c, char *buf, size_t size) {
    snprintf(buf, size, "const_%u", c->nconst++);
    return buf;
}

/* The float32 elements of constant t permuted by perm (NULL: as stored), in
 * row-major order of the permuted dims (written to dims); malloc'd. */
static float *const_floats(const cml_pte_tensor *t, const int32_t *perm, int64_t *dims) {
    size_t n = t->nbytes / 4;
    int64_t in_strides[CML_MAX_DIMS];
    int64_t s = 1;
    for (int32_t i = t->rank - 1; i >= 0; i--) { in_strides[i] = s; s *= t->sizes[i]; }
    for (int32_t i = 0; i < t->rank; i++) dims[i] = t->sizes[perm ? perm[i] : i];
    float *buf = malloc(n ? n * 4 : 4);
    if (!buf) return NULL;
    for (size_t o = 0; o < n; o++) {
        size_t rem = o, src = 0;
        for (int32_t i = t->rank - 1; i >= 0; i--) {
            size_t d = rem % (size_t)dims[i];
            rem /= (size_t)dims[i];
            src += d * (size_t)in_strides[perm ? perm[i] : i];
        }
        memcpy(&buf[o], t->constant_data + 4 * src, 4);
    }
    return buf;
}

/* Emits constant t (permuted by perm when given) as a MIL const, or as a
 * quantized weight when `weight` (cml_cv_const_weight). */
static cml_status emit_const(cml_cv_ctx *c, const cml_pte_tensor *t, const int32_t *perm,
                             const char *name, bool weight) {
    int64_t dims[CML_MAX_DIMS];
    float *data = const_floats(t, perm, dims);
    if (!data) return cml_fail(c->err, CML_ERR_NOMEM, "lower: out of memory for const %s", name);
    cml_status st = weight ? cml_cv_const_weight(c, name, t->rank, dims, data)
                           : cml_cv_const_floats(c, name, t->rank, dims, data);
    free(data);
    return st;
}

bool cml_cv_read_elsewhere(const cml_pte_plan *plan, int32_t idx, const cml_pte_instruction *self) {
    for (uint32_t i = 0; i < plan->noutputs; i++) if (plan->outputs[i] == idx) return true;
    const cml_pte_chain *ch = &plan->chains[0];
    for (uint32_t i = 0; i < ch->ninstructions; i++) {
        const cml_pte_instruction *ins = &ch->instructions[i];
        if (ins == self) continue;
        for (uint32_t k = 0; k < ins->nargs; k++) if (ins->args[k] == idx) return true;
    }
    return false;
}

static void mark_written(const cml_pte_plan *p, int32_t idx, bool *view) {
    const cml_pte_value *v = &p->values[idx];
    view[idx] = false;
    if (v->kind == CML_VALUE_TENSOR_LIST || v->kind == CML_VALUE_OPT_TENSOR_LIST)
        for (uint32_t k = 0; k < v->u.tensor_list.count; k++)
            if (v->u.tensor_list.items[k] >= 0) view[v->u.tensor_list.items[k]] = false;
}

void cml_lower_find_views(const cml_pte_plan *p, bool *view) {
    for (uint32_t i = 0; i < p->nvalues; i++) {
        const cml_pte_tensor *t = cml_cv_tensor(p, (int32_t)i);
        view[i] = t && t->planned && !t->constant_data && t->nbytes > 0;
    }
    for (uint32_t i = 0; i < p->ninputs; i++) view[p->inputs[i]] = false;
    const cml_pte_chain *ch = p->nchains ? &p->chains[0] : NULL;
    for (uint32_t i = 0; ch && i < ch->ninstructions; i++) {
        const cml_pte_instruction *ins = &ch->instructions[i];
        if (ins->kind == CML_INSTR_KERNEL_CALL && ins->nargs)
            mark_written(p, ins->args[ins->nargs - 1], view);
        if (ins->kind == CML_INSTR_DELEGATE_CALL)
            for (uint32_t k = 0; k < ins->nargs; k++) mark_written(p, ins->args[k], view);
        if (ins->kind == CML_INSTR_MOVE_CALL) mark_written(p, ins->b, view);
    }
}

/* Whether instruction ins writes value w (see cml_lower_find_views). */
static bool writes(const cml_pte_plan *p, const cml_pte_instruction *ins, int32_t w) {
    if (ins->kind == CML_INSTR_MOVE_CALL) return ins->b == w;
    if (ins->kind == CML_INSTR_DELEGATE_CALL) {
        for (uint32_t k = 0; k < ins->nargs; k++) if (ins->args[k] == w) return true;
        return false;
    }
    if (ins->kind != CML_INSTR_KERNEL_CALL || !ins->nargs) return false;
    int32_t last = ins->args[ins->nargs - 1];
    const cml_pte_value *lv = &p->values[last];
    if (last == w) return true;
    if (lv->kind == CML_VALUE_TENSOR_LIST)
        for (uint32_t k = 0; k < lv->u.tensor_list.count; k++)
            if (lv->u.tensor_list.items[k] == w) return true;
    return false;
}

int32_t cml_lower_view_source(const cml_pte_plan *p, const bool *view, int32_t v, uint32_t before) {
    const cml_pte_chain *ch = &p->chains[0];
    if (before > ch->ninstructions) before = ch->ninstructions;
    for (uint32_t i = before; i-- > 0;) {
        const cml_pte_instruction *ins = &ch->instructions[i];
        for (uint32_t k = 0; k < ins->nargs; k++) {
            int32_t w = ins->args[k];
            if (w != v && !view[w] && cml_cv_same_storage(p, view, v, w) && writes(p, ins, w)) return w;
            const cml_pte_value *lv = &p->values[w];
            if (k + 1 == ins->nargs && lv->kind == CML_VALUE_TENSOR_LIST)
                for (uint32_t j = 0; j < lv->u.tensor_list.count; j++) {
                    int32_t it = lv->u.tensor_list.items[j];
                    if (it != v && !view[it] && cml_cv_same_storage(p, view, v, it)) return it;
                }
        }
    }
    for (uint32_t i = 0; i < p->ninputs; i++)
        if (cml_cv_same_storage(p, view, v, p->inputs[i])) return p->inputs[i];
    return -1;
}

bool cml_cv_same_storage(const cml_pte_plan *plan, const bool *view, int32_t a, int32_t b) {
    const cml_pte_tensor *x = cml_cv_tensor(plan, a), *y = cml_cv_tensor(plan, b);
    return a != b && (view[a] || view[b]) && x && y && x->planned && y->planned && !x->constant_data &&
           !y->constant_data && x->memory_id == y->memory_id &&
           x->memory_offset == y->memory_offset && x->nbytes == y->nbytes && x->nbytes > 0;
}

void cml_cv_const_float(cml_cv_ctx *c, const char *name, double v) {
    cml_milw_type t = {c->opts->fp16 ? CML_MILW_FP16 : CML_MILW_FP32, 0, {0}};
    float f = (float)v;
    uint16_t h = cml_fp32_to_fp16(f);
    cml_milw_const_tensor(&c->w, name, &t, c->opts->fp16 ? (const void *)&h : (const void *)&f);
}

cml_status cml_cv_const_floats(cml_cv_ctx *c, const char *name, int32_t rank, const int64_t *dims,
                               const float *data) {
    cml_milw_type t = {c->opts->fp16 ? CML_MILW_FP16 : CML_MILW_FP32, rank, {0}};
    size_t n = 1;
    for (int32_t i = 0; i < rank; i++) { t.dims[i] = dims[i]; n *= (size_t)dims[i]; }
    if (!c->opts->fp16) { cml_milw_const_tensor(&c->w, name, &t, data); return CML_OK; }
    uint16_t *h = malloc(n ? n * 2 : 2);
    if (!h) return cml_fail(c->err, CML_ERR_NOMEM, "lower: out of memory for const %s", name);
    for (size_t i = 0; i < n; i++) h[i] = cml_fp32_to_fp16(data[i]);
    cml_milw_const_tensor(&c->w, name, &t, h);
    free(h);
    return CML_OK;
}

/* A view of a value the subgraph computed: reshape, as coremltools emits
 * for aten.view_copy. */
static cml_status use_view(cml_cv_ctx *c, int32_t idx, const char **name) {
    int32_t s = c->view[idx] ? cml_lower_view_source(c->plan, c->view, idx, c->cur) : -1;
    if (s >= 0 && c->vals[s].kind == CV_VAR) {
        const cml_pte_tensor *t = cml_cv_tensor(c->plan, idx);
        int32_t shape[CML_MAX_DIMS];
        for (int32_t i = 0; i < t->rank; i++) shape[i] = (int32_t)t->sizes[i];
        char sn[32], src[96];
        snprintf(src, sizeof src, "%s", c->vals[s].name);
        cml_cv_const_name(c, sn, sizeof sn);
        cml_milw_const_ints(&c->w, sn, shape, (uint32_t)t->rank);
        cml_milw_type ty;
        cml_cv_type_of(c, t, &ty);
        const char *out = cml_cv_define(c, idx, "aten::view_copy");
        cml_milw_arg args[2] = {{"x", src}, {"shape", sn}};
        cml_cv_op(c, "reshape", args, 2, out, &ty, out);
        *name = out;
        return CML_OK;
    }
    return cml_fail(c->err, CML_ERR_INTERNAL, "lower: value %d read before it is defined", idx);
}

static cml_status use_value(cml_cv_ctx *c, int32_t idx, bool weight, const char **name) {
    cml_cv_val *v = &c->vals[idx];
    if (v->kind == CV_VAR) { *name = v->name; return CML_OK; }
    if (v->kind == CV_NONE) return use_view(c, idx, name);
    if (!v->emitted) {
        const cml_pte_tensor *t = cml_cv_tensor(c->plan, v->kind == CV_TCONST ? v->src : idx);
        snprintf(v->name, sizeof v->name, "p_value_%d%s", idx, c->opts->fp16 ? "_to_fp16" : "");
        CML_TRY(emit_const(c, t, v->kind == CV_TCONST ? v->perm : NULL, v->name, weight));
        v->emitted = true;
    }
    *name = v->name;
    return CML_OK;
}

cml_status cml_cv_use(cml_cv_ctx *c, int32_t idx, const char **name) {
    return use_value(c, idx, false, name);
}

cml_status cml_cv_use_weight(cml_cv_ctx *c, int32_t idx, const char **name) {
    return use_value(c, idx, true, name);
}

const char *cml_cv_define(cml_cv_ctx *c, int32_t idx, const char *op) {
    char base[80];
    const char *s = strncmp(op, "aten::", 6) ? op : op + 6;
    snprintf(base, sizeof base, "aten_%s_default", s);
    unsigned n = 0;
    for (uint32_t i = 0; i < c->plan->nvalues; i++) {
        const char *nm = c->vals[i].name;
        if (c->vals[i].kind == CV_VAR && !strncmp(nm, base, strlen(base)) &&
            (nm[strlen(base)] == 0 || nm[strlen(base)] == '_')) n++;
    }
    cml_cv_val *v = &c->vals[idx];
    v->kind = CV_VAR;
    char num[16] = "";
    if (n) snprintf(num, sizeof num, "_%u", n);
    snprintf(v->name, sizeof v->name, "%s%s%s", base, num, c->opts->fp16 ? "_cast_fp16" : "");
    return v->name;
}

static void dbg_path(cml_lbuf *b, const char *type, const char *out) {
    cml_lbuf_printf(b, "[{\"Type\": \"Program\"}, {\"Type\": \"Function\", \"Name\": \"main\"}, "
                    "{\"Type\": \"Block\"}, {\"Type\": \"Operation\", \"Operator\": \"%s\", "
                    "\"Output\": \"%s\"}]", type, out);
}

void cml_cv_op(cml_cv_ctx *c, const char *type, const cml_milw_arg *args, unsigned nargs,
           const char *out_name, const cml_milw_type *t, const char *name_attr) {
    cml_cv_op_n(c, type, args, nargs, &out_name, t, 1, name_attr);
}

void cml_cv_op_n(cml_cv_ctx *c, const char *type, const cml_milw_arg *args, unsigned nargs,
                 const char *const *out_names, const cml_milw_type *ts, unsigned nout,
                 const char *name_attr) {
    const char *out_name = out_names[0]; /* debug records key an op by its first output */
    cml_milw_op_n(&c->w, type, args, nargs, out_names, ts, nout, name_attr);
    if (!c->handle) return;
    if (!c->dbg_open) cml_lbuf_printf(&c->dbg_map, "%s\"%u\": [", c->dbg_map.size ? ", " : "", c->handle);
    else cml_lbuf_str(&c->dbg_map, ", ");
    c->dbg_open = true;
    dbg_path(&c->dbg_map, type, out_name);
    cml_lbuf_printf(&c->dbg_sym, "%s\"%s:%s\": ", c->dbg_sym.size ? ", " : "", out_name, type);
    dbg_path(&c->dbg_sym, type, out_name);
    cml_lbuf_printf(&c->dbg_handles, "%s\"%s:%s\": [%u]", c->dbg_handles.size ? ", " : "",
                    out_name, type, c->handle);
}
