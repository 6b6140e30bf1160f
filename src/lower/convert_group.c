/* Drives one subgraph's conversion: I/O, casts, the ops, the payload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower/convert_ctx.h"
#include "lower/convert_ops.h"
#include "lower/payload_write.h"

void cml_lower_delegate_free(cml_lower_delegate *d) {
    cml_lbuf_free(&d->blob);
    free(d->inputs);
    free(d->outputs);
    memset(d, 0, sizeof *d);
}

bool cml_lower_op_supported(const cml_pte_plan *plan, const cml_pte_instruction *ins,
                            const char **why) {
    const cml_cv_op_entry *e = cml_lower_find_op(plan, ins);
    if (!e) { *why = "no converter"; return false; }
    if (ins->nargs < e->nin + 1) { *why = "wrong number of arguments"; return false; }
    return e->check(plan, ins, why);
}

/* Whether instruction ins reads value idx (directly or as a list item). */
static bool reads(const cml_pte_plan *p, const cml_pte_instruction *ins, int32_t idx) {
    if (ins->kind == CML_INSTR_MOVE_CALL) return ins->a == idx;
    if (ins->kind == CML_INSTR_JUMP_FALSE_CALL) return ins->a == idx;
    for (uint32_t i = 0; i < ins->nargs; i++) {
        int32_t a = ins->args[i];
        if (a == idx) return true;
        const cml_pte_value *v = &p->values[a];
        if (v->kind == CML_VALUE_TENSOR_LIST || v->kind == CML_VALUE_OPT_TENSOR_LIST)
            for (uint32_t k = 0; k < v->u.tensor_list.count; k++)
                if (v->u.tensor_list.items[k] == idx) return true;
    }
    return false;
}

static bool used_outside(const cml_pte_plan *p, const cml_lower_group *g, int32_t idx) {
    for (uint32_t i = 0; i < p->noutputs; i++) if (p->outputs[i] == idx) return true;
    const cml_pte_chain *ch = &p->chains[0];
    for (uint32_t i = 0; i < ch->ninstructions; i++)
        if ((i < g->first || i > g->last) && reads(p, &ch->instructions[i], idx)) return true;
    return false;
}

static bool push_unique(int32_t *list, uint32_t *n, int32_t v) {
    for (uint32_t i = 0; i < *n; i++) if (list[i] == v) return false;
    list[(*n)++] = v;
    return true;
}

/* Whether view idx, read at instruction i, shows a value the group produced. */
static bool view_of_produced(const cml_pte_plan *p, const bool *view, int32_t idx, uint32_t i,
                             const bool *produced) {
    int32_t s = view[idx] ? cml_lower_view_source(p, view, idx, i) : -1;
    return s >= 0 && produced[s];
}

/* Whether a view of produced value v is read after the group. */
static bool view_read_outside(const cml_pte_plan *p, const bool *view, const cml_lower_group *g,
                              int32_t v) {
    const cml_pte_chain *ch = &p->chains[0];
    for (uint32_t w = 0; w < p->nvalues; w++) {
        if (!view[w] || !cml_cv_same_storage(p, view, v, (int32_t)w)) continue;
        for (uint32_t o = 0; o < p->noutputs; o++)
            if (p->outputs[o] == (int32_t)w && cml_lower_view_source(p, view, (int32_t)w, ch->ninstructions) == v)
                return true;
        for (uint32_t j = g->last + 1; j < ch->ninstructions; j++)
            if (reads(p, &ch->instructions[j], (int32_t)w) &&
                cml_lower_view_source(p, view, (int32_t)w, j) == v)
                return true;
    }
    return false;
}

/* Group inputs / outputs (see convert.c's header). Arrays hold nvalues. */
static void group_io(const cml_pte_plan *p, const bool *view, const cml_lower_group *g, int32_t *in,
                     uint32_t *nin, int32_t *out, uint32_t *nout, bool *produced) {
    *nin = *nout = 0;
    for (uint32_t i = g->first; i <= g->last; i++) {
        const cml_pte_instruction *ins = &p->chains[0].instructions[i];
        const cml_cv_op_entry *e = cml_lower_find_op(p, ins);
        for (uint32_t k = 0; k < e->nin; k++) {
            int32_t a = ins->args[k];
            const cml_pte_tensor *t = cml_cv_tensor(p, a);
            if (t && !t->constant_data && !produced[a] && !view_of_produced(p, view, a, i, produced))
                push_unique(in, nin, a);
        }
        for (uint32_t k = e->nin; k < ins->nargs; k++) {
            const cml_pte_value *v = &p->values[ins->args[k]];
            produced[ins->args[k]] = true;
            if (v->kind == CML_VALUE_TENSOR_LIST) /* split: the items are the outputs */
                for (uint32_t j = 0; j < v->u.tensor_list.count; j++)
                    produced[v->u.tensor_list.items[j]] = true;
        }
    }
    for (uint32_t i = g->first; i <= g->last; i++) {
        const cml_pte_instruction *ins = &p->chains[0].instructions[i];
        const cml_cv_op_entry *e = cml_lower_find_op(p, ins);
        for (uint32_t k = e->nin; k < ins->nargs; k++) {
            const cml_pte_value *lv = &p->values[ins->args[k]];
            bool list = lv->kind == CML_VALUE_TENSOR_LIST;
            uint32_t n = list ? lv->u.tensor_list.count : 1;
            for (uint32_t j = 0; j < n; j++) {
                int32_t v = list ? lv->u.tensor_list.items[j] : ins->args[k];
                if (cml_cv_tensor(p, v) && (used_outside(p, g, v) || view_read_outside(p, view, g, v)))
                    push_unique(out, nout, v);
            }
        }
    }
}

static int spec_version(int target) { return target <= 15 ? 6 : target - 9; }

static void io_name(const cml_pte_plan *p, int32_t idx, char *buf, size_t size) {
    for (uint32_t i = 0; i < p->ninputs; i++)
        if (p->inputs[i] == idx) { snprintf(buf, size, "input_%u", i); return; }
    snprintf(buf, size, "value_%d", idx);
}

/* Declares the MIL inputs (casting them to fp16 when asked). */
static void define_inputs(cml_cv_ctx *c, const int32_t *in, uint32_t nin, cml_milw_io *io,
                          char (*nm)[96]) {
    for (uint32_t i = 0; i < nin; i++) {
        cml_cv_val *v = &c->vals[in[i]];
        io_name(c->plan, in[i], v->name, sizeof v->name);
        snprintf(nm[i], 96, "%s", v->name);
        io[i].name = nm[i];
        cml_cv_type_of(c, cml_cv_tensor(c->plan, in[i]), &io[i].type);
        io[i].type.dtype = CML_MILW_FP32;
        v->kind = CV_VAR;
        if (!c->opts->fp16) continue;
        char dt[128], attr[32];
        snprintf(dt, sizeof dt, "%s_to_fp16_dtype_0", v->name);
        cml_milw_const_string(&c->w, dt, "fp16");
        char src[96];
        snprintf(src, sizeof src, "%s", v->name);
        snprintf(v->name, sizeof v->name, "%.80s_to_fp16", src);
        snprintf(attr, sizeof attr, "cast_%u", c->ncast++);
        cml_milw_type t = io[i].type;
        t.dtype = CML_MILW_FP16;
        cml_milw_arg args[2] = {{"x", src}, {"dtype", dt}};
        cml_milw_op(&c->w, "cast", args, 2, v->name, &t, attr);
    }
}

/* The MIL outputs (cast back to fp32 when computing in fp16). */
static cml_status define_outputs(cml_cv_ctx *c, const int32_t *out, uint32_t nout, cml_milw_io *io,
                                 char (*nm)[96]) {
    for (uint32_t i = 0; i < nout; i++) {
        cml_cv_val *v = &c->vals[out[i]];
        if (v->kind != CV_VAR)
            return cml_fail(c->err, CML_ERR_UNSUPPORTED, "lower: value %d, a folded constant, "
                            "is read outside the subgraph (not supported yet)", out[i]);
        cml_cv_type_of(c, cml_cv_tensor(c->plan, out[i]), &io[i].type);
        io[i].type.dtype = CML_MILW_FP32;
        if (!c->opts->fp16) { snprintf(nm[i], 96, "%s", v->name); io[i].name = nm[i]; continue; }
        char dt[160], attr[32], final[96];
        size_t len = strlen(v->name) - strlen("_cast_fp16");
        snprintf(final, sizeof final, "%.*s", (int)len, v->name);
        snprintf(dt, sizeof dt, "%s_to_fp32_dtype_0", v->name);
        cml_milw_const_string(&c->w, dt, "fp32");
        snprintf(attr, sizeof attr, "cast_%u", c->ncast++);
        cml_milw_arg args[2] = {{"x", v->name}, {"dtype", dt}};
        cml_milw_op(&c->w, "cast", args, 2, final, &io[i].type, attr);
        snprintf(nm[i], 96, "%s", final);
        io[i].name = nm[i];
    }
    return CML_OK;
}

static cml_status convert_ops(cml_cv_ctx *c, const cml_lower_group *g) {
    c->last = g->last;
    for (uint32_t i = g->first; i <= g->last; i++) {
        const cml_pte_instruction *ins = &c->plan->chains[0].instructions[i];
        const cml_cv_op_entry *e = cml_lower_find_op(c->plan, ins);
        if (c->fused == i + 1) continue; /* folded into the previous op */
        c->cur = i;
        c->handle = i + 1;
        c->dbg_open = false;
        cml_status st = e->convert(c, ins);
        if (st != CML_OK) {
            cml_error_prefix(c->err, "%s.%s (instruction %u)", e->name, e->overload, i);
            return st;
        }
        if (c->dbg_open) cml_lbuf_str(&c->dbg_map, "]");
    }
    c->handle = 0;
    return CML_OK;
}

static const char *opset_of(int target) {
    static const char *const names[] = {"CoreML5", "CoreML6", "CoreML7", "CoreML8"};
    return names[spec_version(target) - 6];
}

static cml_status build_payload(cml_cv_ctx *c, const cml_milw_io *in, uint32_t nin,
                                 const cml_milw_io *out, uint32_t nout, cml_lbuf *blob) {
    cml_lbuf model = {0};
    cml_milw_model(&c->w, spec_version(c->opts->min_target), opset_of(c->opts->min_target), in,
                   nin, out, nout, &model);
    const char *inames[CML_LOWER_MAX_IO], *onames[CML_LOWER_MAX_IO];
    for (uint32_t i = 0; i < nin; i++) inames[i] = in[i].name;
    for (uint32_t i = 0; i < nout; i++) onames[i] = out[i].name;
    cml_payload_parts parts = {&model, &c->w.weights, inames, nin, onames, nout,
                               &c->dbg_map, &c->dbg_sym, &c->dbg_handles};
    cml_status st = cml_lbuf_status(&model, "model.mlmodel", c->err);
    if (st == CML_OK) st = cml_lbuf_status(&c->w.weights, "weight.bin", c->err);
    if (st == CML_OK && (c->w.ops.failed || c->dbg_map.failed || c->dbg_sym.failed ||
                         c->dbg_handles.failed))
        st = cml_fail(c->err, CML_ERR_NOMEM, "lower: out of memory writing the ML Program");
    if (st == CML_OK) st = cml_payload_write(&parts, blob, c->err);
    cml_lbuf_free(&model);
    return st;
}

static cml_status convert_body(cml_cv_ctx *c, const cml_lower_group *g, cml_lower_delegate *d) {
    cml_milw_io in[CML_LOWER_MAX_IO], out[CML_LOWER_MAX_IO];
    char inm[CML_LOWER_MAX_IO][96], onm[CML_LOWER_MAX_IO][96];
    if (d->ninputs > CML_LOWER_MAX_IO || d->noutputs > CML_LOWER_MAX_IO)
        return cml_fail(c->err, CML_ERR_UNSUPPORTED, "lower: subgraph with %u inputs and %u "
                        "outputs (at most %d each)", d->ninputs, d->noutputs, CML_LOWER_MAX_IO);
    if (d->noutputs == 0)
        return cml_fail(c->err, CML_ERR_UNSUPPORTED, "lower: subgraph has no outputs");
    define_inputs(c, d->inputs, d->ninputs, in, inm);
    CML_TRY(convert_ops(c, g));
    CML_TRY(define_outputs(c, d->outputs, d->noutputs, out, onm));
    return build_payload(c, in, d->ninputs, out, d->noutputs, &d->blob);
}

cml_status cml_lower_convert(const cml_pte_plan *plan, const cml_lower_group *g,
                             const cml_lower_options *opts, cml_lower_delegate *d,
                             cml_error *err) {
    memset(d, 0, sizeof *d);
    cml_cv_ctx c;
    memset(&c, 0, sizeof c);
    c.plan = plan;
    c.opts = opts;
    c.err = err;
    size_t nv = plan->nvalues ? plan->nvalues : 1;
    c.vals = calloc(nv, sizeof *c.vals);
    bool *produced = calloc(nv, 1), *view = calloc(nv, 1);
    c.view = view;
    d->inputs = calloc(nv, sizeof *d->inputs);
    d->outputs = calloc(nv, sizeof *d->outputs);
    cml_status st = CML_OK;
    if (!c.vals || !produced || !view || !d->inputs || !d->outputs) {
        st = cml_fail(err, CML_ERR_NOMEM, "lower: out of memory");
    } else {
        for (uint32_t i = 0; i < plan->nvalues; i++) {
            const cml_pte_tensor *t = cml_cv_tensor(plan, (int32_t)i);
            if (t && t->constant_data) c.vals[i].kind = CV_CONST;
        }
        cml_lower_find_views(plan, view);
        group_io(plan, view, g, d->inputs, &d->ninputs, d->outputs, &d->noutputs, produced);
        cml_milw_init(&c.w);
        st = convert_body(&c, g, d);
    }
    cml_milw_free(&c.w);
    cml_lbuf_free(&c.dbg_map); cml_lbuf_free(&c.dbg_sym); cml_lbuf_free(&c.dbg_handles);
    free(c.vals);
    free(produced);
    free(view);
    if (st != CML_OK) cml_lower_delegate_free(d);
    return st;
}
