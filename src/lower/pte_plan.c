/* Rewrites one plan for `cml lower` (see pte_plan.h). */
#include <stdlib.h>
#include <string.h>

#include "lower/pte_plan.h"

#define LW_ALIGN 16u

void cml_lw_plan_free(lw_plan *lp) {
    for (uint32_t i = 0; lp->instrs && i < lp->ninstrs; i++) free(lp->instrs[i].args);
    free(lp->instrs);
    free(lp->old_to_new);
    free(lp->new_to_old);
    free(lp->const_idx);
    free(lp->mem_offset);
    free(lp->op_map);
    free(lp->delegates);
    memset(lp, 0, sizeof *lp);
}

static void keep(const cml_pte_plan *p, int32_t *mark, int32_t idx) {
    if (idx < 0 || (uint32_t)idx >= p->nvalues || mark[idx]) return;
    mark[idx] = 1;
    const cml_pte_value *v = &p->values[idx];
    if (v->kind == CML_VALUE_INT_LIST)
        for (uint32_t k = 0; k < v->u.int_list.count; k++) keep(p, mark, (int32_t)v->u.int_list.items[k]);
    if (v->kind == CML_VALUE_TENSOR_LIST || v->kind == CML_VALUE_OPT_TENSOR_LIST)
        for (uint32_t k = 0; k < v->u.tensor_list.count; k++) keep(p, mark, v->u.tensor_list.items[k]);
}

/* New instruction list: each group becomes one delegate call. */
static cml_status build_instrs(const cml_pte_plan *p, const cml_lower_plan_result *r, lw_plan *lp,
                               cml_error *err) {
    const cml_pte_chain *ch = &p->chains[0];
    lp->instrs = calloc(ch->ninstructions + 1, sizeof *lp->instrs);
    lp->delegates = calloc(p->ndelegates + r->ngroups + 1, sizeof *lp->delegates);
    if (!lp->instrs || !lp->delegates) return cml_fail(err, CML_ERR_NOMEM, "lower: out of memory");
    for (uint32_t d = 0; d < p->ndelegates; d++) {
        lp->delegates[d].src = &p->delegates[d];
        lp->delegates[d].data = p->delegates[d].data;
        lp->delegates[d].size = p->delegates[d].size;
    }
    lp->ndelegates = p->ndelegates;
    uint32_t g = 0;
    for (uint32_t i = 0; i < ch->ninstructions; i++) {
        lw_instr *ni = &lp->instrs[lp->ninstrs++];
        if (g < r->ngroups && r->groups[g].first == i) {
            const cml_lower_delegate *d = &r->delegates[g];
            ni->delegate = lp->ndelegates;
            lp->delegates[lp->ndelegates++] = (lw_delegate){d->blob.data, d->blob.size, 0, NULL};
            ni->nargs = d->ninputs + d->noutputs;
            ni->args = malloc(ni->nargs * sizeof *ni->args);
            if (!ni->args) return cml_fail(err, CML_ERR_NOMEM, "lower: out of memory");
            memcpy(ni->args, d->inputs, d->ninputs * sizeof *ni->args);
            memcpy(ni->args + d->ninputs, d->outputs, d->noutputs * sizeof *ni->args);
            i = r->groups[g++].last;
            continue;
        }
        const cml_pte_instruction *s = &ch->instructions[i];
        if (s->kind == CML_INSTR_JUMP_FALSE_CALL)
            return cml_fail(err, CML_ERR_UNSUPPORTED, "lower: plan '%s' has jumps (not supported yet)",
                            p->name.ptr);
        ni->src = s;
        ni->delegate = s->kind == CML_INSTR_DELEGATE_CALL ? (uint32_t)s->a : 0;
        ni->nargs = s->nargs;
        ni->args = malloc((s->nargs + 2) * sizeof *ni->args);
        if (!ni->args) return cml_fail(err, CML_ERR_NOMEM, "lower: out of memory");
        if (s->nargs) memcpy(ni->args, s->args, s->nargs * sizeof *ni->args);
        if (s->kind == CML_INSTR_MOVE_CALL) { ni->args[0] = s->a; ni->args[1] = s->b; ni->nargs = 2; }
        if (s->kind == CML_INSTR_FREE_CALL) { ni->args[0] = s->a; ni->nargs = 1; }
    }
    return CML_OK;
}

static cml_status renumber(const cml_pte_plan *p, lw_plan *lp, cml_error *err) {
    size_t nv = p->nvalues ? p->nvalues : 1;
    int32_t *mark = calloc(nv, sizeof *mark);
    lp->old_to_new = malloc(nv * sizeof *lp->old_to_new);
    lp->new_to_old = malloc(nv * sizeof *lp->new_to_old);
    if (!mark || !lp->old_to_new || !lp->new_to_old) {
        free(mark);
        return cml_fail(err, CML_ERR_NOMEM, "lower: out of memory");
    }
    for (uint32_t i = 0; i < p->ninputs; i++) keep(p, mark, p->inputs[i]);
    for (uint32_t i = 0; i < p->noutputs; i++) keep(p, mark, p->outputs[i]);
    for (uint32_t i = 0; i < lp->ninstrs; i++)
        for (uint32_t k = 0; k < lp->instrs[i].nargs; k++) keep(p, mark, lp->instrs[i].args[k]);
    lp->nvalues = 0;
    for (uint32_t i = 0; i < p->nvalues; i++) {
        lp->old_to_new[i] = mark[i] ? (int32_t)lp->nvalues : -1;
        if (mark[i]) lp->new_to_old[lp->nvalues++] = (int32_t)i;
    }
    free(mark);
    return CML_OK;
}

static cml_status map_operators(const cml_pte_plan *p, lw_plan *lp, cml_error *err) {
    lp->op_map = malloc((p->noperators + 1) * sizeof *lp->op_map);
    if (!lp->op_map) return cml_fail(err, CML_ERR_NOMEM, "lower: out of memory");
    for (uint32_t i = 0; i < p->noperators; i++) lp->op_map[i] = UINT32_MAX;
    for (uint32_t i = 0; i < lp->ninstrs; i++) {
        const cml_pte_instruction *s = lp->instrs[i].src;
        if (s && s->kind == CML_INSTR_KERNEL_CALL && lp->op_map[s->a] == UINT32_MAX)
            lp->op_map[s->a] = 0;
    }
    lp->noperators = 0;
    for (uint32_t i = 0; i < p->noperators; i++)
        if (lp->op_map[i] != UINT32_MAX) lp->op_map[i] = lp->noperators++;
    return CML_OK;
}

static const cml_pte_tensor *new_tensor(const lw_plan *lp, uint32_t nv) {
    const cml_pte_value *v = &lp->src->values[lp->new_to_old[nv]];
    return v->kind == CML_VALUE_TENSOR ? v->u.tensor : NULL;
}

static void lay_out_constants(lw_plan *lp, cml_lbuf *consts, cml_lbuf *offs, uint32_t *nconst) {
    for (uint32_t i = 0; i < lp->nvalues; i++) {
        const cml_pte_tensor *t = new_tensor(lp, i);
        if (!t || !t->constant_data) continue;
        cml_lbuf_align(consts, LW_ALIGN);
        cml_lbuf_u64(offs, consts->size);
        cml_lbuf_put(consts, t->constant_data, t->nbytes);
        lp->const_idx[i] = (*nconst)++;
    }
}

static bool written_by(const cml_pte_plan *p, const cml_pte_instruction *ins, int32_t a) {
    if (ins->kind == CML_INSTR_DELEGATE_CALL) return true;
    if (ins->kind == CML_INSTR_MOVE_CALL) return ins->b == a;
    if (ins->kind != CML_INSTR_KERNEL_CALL || !ins->nargs) return false;
    int32_t last = ins->args[ins->nargs - 1];
    if (last == a) return true;
    const cml_pte_value *lv = &p->values[last];
    if (lv->kind == CML_VALUE_TENSOR_LIST)
        for (uint32_t k = 0; k < lv->u.tensor_list.count; k++)
            if (lv->u.tensor_list.items[k] == a) return true;
    return false;
}

/* state[v]: planned tensor v of the source plan carries state between
 * executions (a mutable buffer such as a KV cache): its first use in the
 * chain reads it. Such tensors live for the whole execution. */
static bool find_state(const cml_pte_plan *p, bool *state) {
    uint8_t *mark = calloc(p->nvalues + 1, 1);
    if (!mark) return false;
    for (uint32_t i = 0; i < p->ninputs; i++) mark[p->inputs[i]] = 1;
    const cml_pte_chain *ch = &p->chains[0];
    for (uint32_t i = 0; i < ch->ninstructions; i++) {
        const cml_pte_instruction *ins = &ch->instructions[i];
        for (uint32_t k = 0; k < ins->nargs; k++) {
            int32_t a = ins->args[k];
            const cml_pte_tensor *t = p->values[a].kind == CML_VALUE_TENSOR ? p->values[a].u.tensor : NULL;
            if (mark[a] || !t || !t->planned || t->constant_data) continue;
            mark[a] = 1;
            if (!written_by(p, ins, a)) state[a] = true;
        }
    }
    free(mark);
    return true;
}

/* Lifetime [first, last] of new value v over the new instructions (-1 and
 * ninstrs for plan inputs / outputs). */
static void lifetime(const lw_plan *lp, uint32_t v, int64_t *first, int64_t *last) {
    const cml_pte_plan *p = lp->src;
    int32_t old = lp->new_to_old[v];
    *first = INT64_MAX;
    *last = -2;
    for (uint32_t i = 0; i < p->ninputs; i++) if (p->inputs[i] == old) *first = -1;
    for (uint32_t i = 0; i < p->noutputs; i++) if (p->outputs[i] == old) *last = lp->ninstrs;
    for (uint32_t i = 0; i < lp->ninstrs; i++)
        for (uint32_t k = 0; k < lp->instrs[i].nargs; k++) {
            int32_t a = lp->instrs[i].args[k];
            const cml_pte_value *av = &p->values[a];
            bool hit = a == old;
            if (av->kind == CML_VALUE_TENSOR_LIST || av->kind == CML_VALUE_OPT_TENSOR_LIST)
                for (uint32_t j = 0; j < av->u.tensor_list.count; j++) hit |= av->u.tensor_list.items[j] == old;
            if (!hit) continue;
            if (*first > (int64_t)i) *first = i;
            if (*last < (int64_t)i) *last = i;
        }
    if (*first == INT64_MAX) *first = *last < -1 ? -1 : *last;
    if (*last < *first) *last = *first;
}

/* First instruction of the source chain that reads or writes value v
 * (ninstructions when none). */
static uint32_t first_use_src(const cml_pte_plan *p, int32_t v) {
    const cml_pte_chain *ch = &p->chains[0];
    for (uint32_t i = 0; i < ch->ninstructions; i++)
        for (uint32_t k = 0; k < ch->instructions[i].nargs; k++)
            if (ch->instructions[i].args[k] == v) return i;
    return ch->ninstructions;
}

/* A memory-planned view shares the storage of the tensor it shows (its
 * source) again: the source is placed with the union of both lifetimes,
 * the view takes its offset. */
static void merge_views(const lw_plan *lp, const bool *view, const bool *state, uint32_t *rep,
                        int64_t *lo, int64_t *hi) {
    for (uint32_t i = 0; i < lp->nvalues; i++) {
        const cml_pte_tensor *t = new_tensor(lp, i);
        rep[i] = i;
        if (!t || !t->planned || t->constant_data) continue;
        lifetime(lp, i, &lo[i], &hi[i]);
        if (state[lp->new_to_old[i]]) { lo[i] = -1; hi[i] = lp->ninstrs; }
    }
    for (uint32_t i = 0; i < lp->nvalues; i++) {
        int32_t old = lp->new_to_old[i];
        if (rep[i] != i || !view[old]) continue;
        int32_t src = cml_lower_view_source(lp->src, view, old, first_use_src(lp->src, old));
        int32_t j = src >= 0 ? lp->old_to_new[src] : -1;
        if (j < 0 || rep[j] != (uint32_t)j) continue;
        rep[i] = (uint32_t)j;
        if (lo[i] < lo[j]) lo[j] = lo[i];
        if (hi[i] > hi[j]) hi[j] = hi[i];
    }
}

static uint64_t padded(const lw_plan *lp, uint32_t v) {
    return (new_tensor(lp, v)->nbytes + LW_ALIGN - 1) / LW_ALIGN * LW_ALIGN;
}

/* First fit at the lowest offset clear of every placed, overlapping-lifetime value. */
static uint64_t first_fit(const lw_plan *lp, const uint32_t *order, uint32_t a, const int64_t *lo,
                          const int64_t *hi) {
    uint32_t v = order[a];
    uint64_t size = padded(lp, v), off = 0;
    for (bool moved = true; moved;) {
        moved = false;
        for (uint32_t b = 0; b < a; b++) {
            uint32_t u = order[b];
            bool live = lo[u] <= hi[v] && lo[v] <= hi[u];
            if (live && off < lp->mem_offset[u] + padded(lp, u) && lp->mem_offset[u] < off + size) {
                off = lp->mem_offset[u] + padded(lp, u);
                moved = true;
            }
        }
    }
    return off;
}

/* Greedy first fit, largest first (ties: lower index), 16-aligned. */
static cml_status plan_memory(lw_plan *lp, cml_error *err) {
    size_t n1 = lp->nvalues + 1;
    uint32_t n = 0, *order = malloc(n1 * sizeof *order), *rep = malloc(n1 * sizeof *rep);
    int64_t *lo = malloc(n1 * sizeof *lo), *hi = malloc(n1 * sizeof *hi);
    bool *view = calloc(lp->src->nvalues + 1, 1), *state = calloc(lp->src->nvalues + 1, 1);
    cml_status st = CML_OK;
    if (!order || !rep || !lo || !hi || !view || !state || !find_state(lp->src, state)) {
        st = cml_fail(err, CML_ERR_NOMEM, "lower: out of memory");
        goto done;
    }
    cml_lower_find_views(lp->src, view);
    merge_views(lp, view, state, rep, lo, hi);
    for (uint32_t i = 0; i < lp->nvalues; i++) {
        const cml_pte_tensor *t = new_tensor(lp, i);
        if (!t || !t->planned || t->constant_data || rep[i] != i) continue;
        uint32_t j = n++;
        while (j > 0 && new_tensor(lp, order[j - 1])->nbytes < t->nbytes) { order[j] = order[j - 1]; j--; }
        order[j] = i;
    }
    lp->arena_size = 0;
    for (uint32_t a = 0; a < n; a++) {
        uint32_t v = order[a];
        lp->mem_offset[v] = first_fit(lp, order, a, lo, hi);
        if (lp->mem_offset[v] + padded(lp, v) > lp->arena_size)
            lp->arena_size = lp->mem_offset[v] + padded(lp, v);
    }
    for (uint32_t i = 0; i < lp->nvalues; i++) lp->mem_offset[i] = lp->mem_offset[rep[i]];
done:
    free(order); free(rep); free(lo); free(hi); free(view); free(state);
    return st;
}

cml_status cml_lw_plan_build(const cml_pte_plan *plan, const cml_lower_plan_result *r,
                             lw_plan *lp, cml_lbuf *consts, cml_lbuf *const_offsets,
                             uint32_t *nconst, cml_error *err) {
    memset(lp, 0, sizeof *lp);
    lp->src = plan;
    CML_TRY(build_instrs(plan, r, lp, err));
    CML_TRY(renumber(plan, lp, err));
    CML_TRY(map_operators(plan, lp, err));
    lp->const_idx = calloc(lp->nvalues + 1, sizeof *lp->const_idx);
    lp->mem_offset = calloc(lp->nvalues + 1, sizeof *lp->mem_offset);
    if (!lp->const_idx || !lp->mem_offset) return cml_fail(err, CML_ERR_NOMEM, "lower: out of memory");
    lay_out_constants(lp, consts, const_offsets, nconst);
    return plan_memory(lp, err);
}
