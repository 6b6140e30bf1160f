/*
 * Serializes the lowered program (see lower.h): extended header, Program
 * flatbuffer (fbw.c), then the segments as serialize_pte_binary lays them
 * out: segment 0 = constants (each padded to 16; offsets[0] = 0 reserved),
 * then one segment per delegate blob, each at a 128-aligned offset from
 * segment_base_offset = align(program_size, 128).
 */
#include <stdlib.h>
#include <string.h>

#include "lower/fbw.h"
#include "lower/pte_plan.h"

#define SEG_ALIGN 128u

typedef struct pw_ctx {
    cml_lbuf *b;
    const lw_plan *plans;
    uint32_t nplans;
    const cml_lower_options *opts;
    uint64_t *seg_off, *seg_size;
    uint32_t nsegs;
    const cml_lbuf *const_offsets;
} pw_ctx;

#define F_ABS {CML_FBW_ABSENT, 0}
#define F_OFF {CML_FBW_OFFSET, 0}

static void link_string(cml_lbuf *b, size_t slot, const char *s, size_t len) {
    cml_fbw_link(b, slot, cml_fbw_string(b, s, len));
}

static void link_i32s(cml_lbuf *b, size_t slot, const int32_t *v, uint32_t n) {
    cml_fbw_link(b, slot, cml_fbw_vector(b, v, n, 4, 4));
}

/* A vector of n table slots; returns the position of slot 0. */
static size_t table_vector(cml_lbuf *b, size_t slot, uint32_t n) {
    size_t v = cml_fbw_vector(b, NULL, n, 4, 4);
    cml_fbw_link(b, slot, v);
    return v + 4;
}

static void write_tensor(pw_ctx *c, const lw_plan *lp, uint32_t nv, size_t slot) {
    const cml_pte_tensor *t = lp->src->values[lp->new_to_old[nv]].u.tensor;
    bool planned = t->planned && !t->constant_data;
    cml_fbw_field f[9] = {{CML_FBW_U8, (uint8_t)t->dtype}, F_ABS, F_OFF, F_OFF,
                          {CML_FBW_U8, 0}, {CML_FBW_U32, lp->const_idx[nv]},
                          planned ? (cml_fbw_field)F_OFF : (cml_fbw_field)F_ABS,
                          {CML_FBW_U8, 0}, {CML_FBW_U8, t->dynamism}};
    size_t s[9];
    cml_fbw_link(c->b, slot, cml_fbw_table(c->b, f, 9, s));
    int32_t sizes[CML_MAX_DIMS];
    for (int32_t i = 0; i < t->rank; i++) sizes[i] = (int32_t)t->sizes[i];
    link_i32s(c->b, s[2], sizes, (uint32_t)t->rank);
    cml_fbw_link(c->b, s[3], cml_fbw_vector(c->b, t->dim_order, (uint32_t)t->rank, 1, 4));
    if (!planned) return;
    uint64_t off = lp->mem_offset[nv];
    cml_fbw_field a[3] = {{CML_FBW_U32, 1}, {CML_FBW_U32, (uint32_t)off}, {CML_FBW_U32, off >> 32}};
    cml_fbw_link(c->b, s[6], cml_fbw_table(c->b, a, 3, NULL));
}

static void write_value(pw_ctx *c, const lw_plan *lp, uint32_t nv, size_t slot) {
    const cml_pte_value *v = &lp->src->values[lp->new_to_old[nv]];
    cml_fbw_field f[2] = {{CML_FBW_U8, (uint8_t)v->kind}, F_OFF};
    size_t s[2], ps[1];
    cml_fbw_link(c->b, slot, cml_fbw_table(c->b, f, 2, s));
    cml_fbw_field p1 = F_ABS;
    switch (v->kind) {
    case CML_VALUE_TENSOR: write_tensor(c, lp, nv, s[1]); return;
    case CML_VALUE_NULL: cml_fbw_link(c->b, s[1], cml_fbw_table(c->b, NULL, 0, NULL)); return;
    case CML_VALUE_INT: p1 = (cml_fbw_field){CML_FBW_U64, (uint64_t)v->u.i}; break;
    case CML_VALUE_BOOL: p1 = (cml_fbw_field){CML_FBW_U8, v->u.b}; break;
    case CML_VALUE_DOUBLE: { uint64_t d; memcpy(&d, &v->u.d, 8); p1 = (cml_fbw_field){CML_FBW_U64, d}; break; }
    default: p1 = (cml_fbw_field)F_OFF; break;
    }
    cml_fbw_link(c->b, s[1], cml_fbw_table(c->b, &p1, 1, ps));
    if (p1.kind != CML_FBW_OFFSET) return;
    if (v->kind == CML_VALUE_STRING) { link_string(c->b, ps[0], v->u.s.ptr, v->u.s.len); return; }
    if (v->kind == CML_VALUE_INT_LIST) {
        size_t vp = cml_fbw_vector(c->b, NULL, v->u.int_list.count, 8, 8);
        for (uint32_t i = 0; i < v->u.int_list.count; i++) {
            int64_t x = lp->old_to_new[v->u.int_list.items[i]];
            cml_lbuf_patch(c->b, vp + 4 + 8 * i, &x, 8);
        }
        cml_fbw_link(c->b, ps[0], vp);
    } else if (v->kind == CML_VALUE_DOUBLE_LIST) {
        cml_fbw_link(c->b, ps[0], cml_fbw_vector(c->b, v->u.double_list.items, v->u.double_list.count, 8, 8));
    } else if (v->kind == CML_VALUE_BOOL_LIST) {
        cml_fbw_link(c->b, ps[0], cml_fbw_vector(c->b, v->u.bool_list.items, v->u.bool_list.count, 1, 4));
    } else {
        size_t vp = cml_fbw_vector(c->b, NULL, v->u.tensor_list.count, 4, 4);
        for (uint32_t i = 0; i < v->u.tensor_list.count; i++) {
            int32_t it = v->u.tensor_list.items[i];
            int32_t x = it < 0 ? -1 : lp->old_to_new[it];
            cml_lbuf_patch(c->b, vp + 4 + 4 * i, &x, 4);
        }
        cml_fbw_link(c->b, ps[0], vp);
    }
}

static void write_instr(pw_ctx *c, const lw_plan *lp, const lw_instr *in, size_t slot) {
    const cml_pte_instruction *s = in->src;
    uint8_t kind = s ? (uint8_t)s->kind : CML_INSTR_DELEGATE_CALL;
    cml_fbw_field f[2] = {{CML_FBW_U8, kind}, F_OFF};
    size_t fs[2], as[2];
    cml_fbw_link(c->b, slot, cml_fbw_table(c->b, f, 2, fs));
    int32_t args[2] = {0, 0};
    for (uint32_t k = 0; k < in->nargs && k < 2; k++) args[k] = lp->old_to_new[in->args[k]];
    if (kind == CML_INSTR_MOVE_CALL || kind == CML_INSTR_FREE_CALL) {
        cml_fbw_field a[2] = {{CML_FBW_U32, (uint32_t)args[0]},
                              kind == CML_INSTR_MOVE_CALL ? (cml_fbw_field){CML_FBW_U32, (uint32_t)args[1]} : (cml_fbw_field)F_ABS};
        cml_fbw_link(c->b, fs[1], cml_fbw_table(c->b, a, 2, NULL));
        return;
    }
    uint32_t first = kind == CML_INSTR_KERNEL_CALL ? lp->op_map[s->a] : in->delegate;
    cml_fbw_field a[2] = {{CML_FBW_U32, first}, F_OFF};
    cml_fbw_link(c->b, fs[1], cml_fbw_table(c->b, a, 2, as));
    size_t vp = cml_fbw_vector(c->b, NULL, in->nargs, 4, 4);
    for (uint32_t k = 0; k < in->nargs; k++) {
        int32_t x = lp->old_to_new[in->args[k]];
        cml_lbuf_patch(c->b, vp + 4 + 4 * k, &x, 4);
    }
    cml_fbw_link(c->b, as[1], vp);
}

static void write_spec(cml_lbuf *b, size_t slot, const char *key, const void *val, size_t len) {
    cml_fbw_field f[2] = {F_OFF, F_OFF};
    size_t s[2];
    cml_fbw_link(b, slot, cml_fbw_table(b, f, 2, s));
    link_string(b, s[0], key, strlen(key));
    cml_fbw_link(b, s[1], cml_fbw_vector(b, val, (uint32_t)len, 1, 4));
}

static void write_delegate(pw_ctx *c, const lw_delegate *d, size_t slot) {
    cml_fbw_field f[3] = {F_OFF, F_OFF, F_OFF};
    size_t s[3];
    cml_fbw_link(c->b, slot, cml_fbw_table(c->b, f, 3, s));
    const char *id = d->src ? d->src->id.ptr : "CoreMLBackend";
    link_string(c->b, s[0], id, strlen(id));
    cml_fbw_field r[2] = {{CML_FBW_U8, 1}, {CML_FBW_U32, d->segment}};
    cml_fbw_link(c->b, s[1], cml_fbw_table(c->b, r, 2, NULL));
    if (d->src) {
        size_t v = table_vector(c->b, s[2], d->src->nspecs);
        for (uint32_t i = 0; i < d->src->nspecs; i++)
            write_spec(c->b, v + 4 * i, d->src->specs[i].key.ptr, d->src->specs[i].value,
                       d->src->specs[i].value_len);
        return;
    }
    static const char *const tgt[] = {"", "6", "7", "8", "9"};
    int t = c->opts->min_target >= 15 ? c->opts->min_target - 14 : 0;
    const char *prec = c->opts->fp16 ? "float16" : "float32";
    size_t v = table_vector(c->b, s[2], 4);
    write_spec(c->b, v, "compute_units", c->opts->compute_units, strlen(c->opts->compute_units));
    write_spec(c->b, v + 4, "min_deployment_target", tgt[t], strlen(tgt[t]));
    write_spec(c->b, v + 8, "model_compute_precision", prec, strlen(prec));
    write_spec(c->b, v + 12, "model_type", "model", 5);
}

static void write_chain(pw_ctx *c, const lw_plan *lp, size_t slot) {
    cml_fbw_field f[3] = {F_OFF, F_OFF, F_OFF};
    size_t s[3];
    cml_fbw_link(c->b, slot, cml_fbw_table(c->b, f, 3, s));
    link_i32s(c->b, s[0], NULL, 0);
    link_i32s(c->b, s[1], NULL, 0);
    size_t v = table_vector(c->b, s[2], lp->ninstrs);
    for (uint32_t i = 0; i < lp->ninstrs; i++) write_instr(c, lp, &lp->instrs[i], v + 4 * i);
}

static void write_io(pw_ctx *c, const lw_plan *lp, size_t slot, const int32_t *idx, uint32_t n) {
    size_t vp = cml_fbw_vector(c->b, NULL, n, 4, 4);
    for (uint32_t i = 0; i < n; i++) {
        int32_t x = lp->old_to_new[idx[i]];
        cml_lbuf_patch(c->b, vp + 4 + 4 * i, &x, 4);
    }
    cml_fbw_link(c->b, slot, vp);
}

static void write_plan(pw_ctx *c, const lw_plan *lp, size_t slot) {
    const cml_pte_plan *p = lp->src;
    cml_fbw_field f[9] = {F_OFF, F_OFF, F_OFF, F_OFF, F_OFF, F_OFF, F_OFF, F_OFF, F_OFF};
    size_t s[9];
    cml_fbw_link(c->b, slot, cml_fbw_table(c->b, f, 9, s));
    link_string(c->b, s[0], p->name.ptr, p->name.len);
    cml_fbw_field m[2] = {F_OFF, F_OFF};
    size_t ms[2];
    cml_fbw_link(c->b, s[1], cml_fbw_table(c->b, m, 2, ms));
    link_string(c->b, ms[0], p->input_spec.ptr, p->input_spec.len);
    link_string(c->b, ms[1], p->output_spec.ptr, p->output_spec.len);
    size_t v = table_vector(c->b, s[2], lp->nvalues);
    for (uint32_t i = 0; i < lp->nvalues; i++) write_value(c, lp, i, v + 4 * i);
    write_io(c, lp, s[3], p->inputs, p->ninputs);
    write_io(c, lp, s[4], p->outputs, p->noutputs);
    v = table_vector(c->b, s[5], 1);
    write_chain(c, lp, v);
    v = table_vector(c->b, s[6], lp->noperators);
    for (uint32_t i = 0; i < p->noperators; i++) {
        if (lp->op_map[i] == UINT32_MAX) continue;
        cml_fbw_field o[2] = {F_OFF, F_OFF};
        size_t os[2];
        cml_fbw_link(c->b, v + 4 * lp->op_map[i], cml_fbw_table(c->b, o, 2, os));
        link_string(c->b, os[0], p->operators[i].name.ptr, p->operators[i].name.len);
        link_string(c->b, os[1], p->operators[i].overload.ptr, p->operators[i].overload.len);
    }
    v = table_vector(c->b, s[7], lp->ndelegates);
    for (uint32_t i = 0; i < lp->ndelegates; i++) write_delegate(c, &lp->delegates[i], v + 4 * i);
    int64_t sizes[2] = {0, (int64_t)lp->arena_size};
    cml_fbw_link(c->b, s[8], cml_fbw_vector(c->b, sizes, 2, 8, 8));
}

static void write_program(pw_ctx *c) {
    cml_fbw_field f[6] = {F_ABS, F_OFF, F_OFF, F_OFF, F_OFF, F_OFF};
    size_t s[6];
    size_t root = cml_fbw_table(c->b, f, 6, s);
    uint32_t r = (uint32_t)root;
    cml_lbuf_patch(c->b, 0, &r, 4);
    size_t v = table_vector(c->b, s[1], c->nplans);
    for (uint32_t i = 0; i < c->nplans; i++) write_plan(c, &c->plans[i], v + 4 * i);
    table_vector(c->b, s[2], 0);
    table_vector(c->b, s[3], 0);
    v = table_vector(c->b, s[4], c->nsegs);
    for (uint32_t i = 0; i < c->nsegs; i++) {
        cml_fbw_field d[2] = {{CML_FBW_U64, c->seg_off[i]}, {CML_FBW_U64, c->seg_size[i]}};
        cml_fbw_link(c->b, v + 4 * i, cml_fbw_table(c->b, d, 2, NULL));
    }
    cml_fbw_field so[2] = {{CML_FBW_U32, 0}, F_OFF};
    size_t ss[2];
    cml_fbw_link(c->b, s[5], cml_fbw_table(c->b, so, 2, ss));
    cml_fbw_link(c->b, ss[1], cml_fbw_vector(c->b, c->const_offsets->data,
                                             (uint32_t)(c->const_offsets->size / 8), 8, 8));
}

/* Segment 0: constants; then one per delegate blob (no dedup yet). */
static cml_status lay_out_segments(pw_ctx *c, lw_plan *plans, uint64_t nconst_bytes,
                                   cml_error *err) {
    uint32_t n = 1;
    for (uint32_t p = 0; p < c->nplans; p++) n += plans[p].ndelegates;
    c->seg_off = calloc(n, sizeof *c->seg_off);
    c->seg_size = calloc(n, sizeof *c->seg_size);
    if (!c->seg_off || !c->seg_size) return cml_fail(err, CML_ERR_NOMEM, "lower: out of memory");
    c->seg_size[0] = nconst_bytes;
    uint64_t end = nconst_bytes;
    c->nsegs = 1;
    for (uint32_t p = 0; p < c->nplans; p++)
        for (uint32_t d = 0; d < plans[p].ndelegates; d++) {
            uint64_t off = (end + SEG_ALIGN - 1) / SEG_ALIGN * SEG_ALIGN;
            c->seg_off[c->nsegs] = off;
            c->seg_size[c->nsegs] = plans[p].delegates[d].size;
            plans[p].delegates[d].segment = c->nsegs++;
            end = off + plans[p].delegates[d].size;
        }
    return CML_OK;
}

static void write_file(pw_ctx *c, const cml_lbuf *consts) {
    cml_lbuf *b = c->b;
    cml_lbuf_put(b, NULL, 4);
    cml_lbuf_str(b, "ET12");
    cml_lbuf_str(b, "eh00");
    cml_lbuf_u32(b, 32);
    cml_lbuf_put(b, NULL, 24);
    write_program(c);
    cml_lbuf_align(b, 16);
    uint64_t program_size = b->size;
    uint64_t base = (program_size + SEG_ALIGN - 1) / SEG_ALIGN * SEG_ALIGN;
    cml_lbuf_align(b, SEG_ALIGN);
    for (uint32_t i = 0; i < c->nsegs; i++) {
        while (b->size < base + c->seg_off[i] && !b->failed) cml_lbuf_put(b, NULL, 1);
        if (i == 0) { cml_lbuf_put(b, consts->data, consts->size); continue; }
        for (uint32_t p = 0; p < c->nplans; p++)
            for (uint32_t d = 0; d < c->plans[p].ndelegates; d++)
                if (c->plans[p].delegates[d].segment == i)
                    cml_lbuf_put(b, c->plans[p].delegates[d].data, c->plans[p].delegates[d].size);
    }
    uint64_t data_size = b->size - base;
    cml_lbuf_patch(b, 16, &program_size, 8);
    cml_lbuf_patch(b, 24, &base, 8);
    cml_lbuf_patch(b, 32, &data_size, 8);
}

cml_status cml_lower_write_pte(const cml_pte_program *prog, const cml_lower_plan_result *results,
                               const cml_lower_options *opts, cml_lbuf *out, cml_error *err) {
    lw_plan *plans = calloc(prog->nplans + 1, sizeof *plans);
    cml_lbuf consts = {0}, offs = {0};
    pw_ctx c = {out, plans, prog->nplans, opts, NULL, NULL, 0, &offs};
    uint32_t nconst = 1;
    cml_lbuf_u64(&offs, 0);
    cml_status st = plans ? CML_OK : cml_fail(err, CML_ERR_NOMEM, "lower: out of memory");
    for (uint32_t p = 0; st == CML_OK && p < prog->nplans; p++)
        st = cml_lw_plan_build(&prog->plans[p], &results[p], &plans[p], &consts, &offs, &nconst, err);
    if (st == CML_OK) st = lay_out_segments(&c, plans, consts.size, err);
    if (st == CML_OK) {
        write_file(&c, &consts);
        st = cml_lbuf_status(out, "the program", err);
        if (st == CML_OK) st = cml_lbuf_status(&consts, "constants", err);
        if (st == CML_OK) st = cml_lbuf_status(&offs, "constant offsets", err);
    }
    for (uint32_t p = 0; plans && p < prog->nplans; p++) cml_lw_plan_free(&plans[p]);
    free(plans);
    free(c.seg_off);
    free(c.seg_size);
    cml_lbuf_free(&consts);
    cml_lbuf_free(&offs);
    return st;
}
