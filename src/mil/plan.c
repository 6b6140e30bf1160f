/*
 * Memory planning: every value with needs_buffer (non-const op outputs,
 * nested block inputs, function inputs) gets an offset in one arena.
 *
 * Lifetimes are measured in main-block steps: function inputs are born at
 * step 0, main node i runs at step i + 1, and everything inside a nested
 * block of main node i (its values, and the outer values it reads) lives
 * for that whole step. Main block outputs live to the end. An op's inputs
 * and outputs overlap at its step, so no op ever works in place.
 *
 * Placement: biggest first; each buffer takes the lowest 64-byte aligned
 * offset that does not collide with an already placed buffer whose lifetime
 * overlaps (first fit). Afterwards value->def_node / last_use hold the
 * first / last step minus one (-1 = function input).
 *
 * Called at load (for the default input shapes) and again by
 * cml_mil_replan (replan.c) when the bound input shapes change: the arena
 * and scratch grow when the new plan needs more and are otherwise reused,
 * so repeated shapes cost nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/checked.h"
#include "mil/graph.h"

#define PLAN_ALIGN 64

typedef struct plan_item {
    cml_mil_vid vid;
    int64_t born, dies;
    size_t size, offset;
} plan_item;

typedef struct lifetimes {
    const cml_mil_graph *g;
    int64_t *born, *dies;
    size_t max_scratch;
} lifetimes;

static void define(lifetimes *lt, cml_mil_vid v, int64_t t) {
    if (lt->born[v] < 0 || t < lt->born[v]) lt->born[v] = t;
    if (lt->dies[v] < t) lt->dies[v] = t;
}

static void use(lifetimes *lt, cml_mil_vid v, int64_t t) {
    if (lt->dies[v] < t) lt->dies[v] = t;
}

/* fixed >= 0: every node of this (nested) block counts as step `fixed`. */
static void walk(lifetimes *lt, const cml_mil_block *blk, int64_t fixed) {
    for (uint32_t i = 0; i < blk->nnodes; i++) {
        const cml_mil_node *node = &blk->nodes[i];
        if (node->folded) continue;
        int64_t t = fixed >= 0 ? fixed : (int64_t)i + 1;
        if (node->scratch > lt->max_scratch) lt->max_scratch = node->scratch;
        for (uint32_t p = 0; p < node->nparams; p++)
            for (uint32_t k = 0; k < node->params[p].count; k++) use(lt, node->params[p].vids[k], t);
        for (uint32_t b = 0; b < node->nblocks; b++) {
            const cml_mil_block *sub = &node->blocks[b];
            for (uint32_t k = 0; k < sub->ninputs; k++) define(lt, sub->inputs[k], t);
            walk(lt, sub, t);
            for (uint32_t k = 0; k < sub->noutputs; k++) use(lt, sub->outputs[k], t);
        }
        for (uint32_t k = 0; k < node->noutputs; k++) define(lt, node->outputs[k], t);
    }
}

static int by_size_desc(const void *a, const void *b) {
    const plan_item *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    if (x->born != y->born) return x->born < y->born ? -1 : 1;
    return x->vid < y->vid ? -1 : (x->vid > y->vid);
}

static int by_offset(const void *a, const void *b) {
    const plan_item *x = *(plan_item *const *)a, *y = *(plan_item *const *)b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return 0;
}

/* Makes *buf hold at least `need` bytes: a bigger buffer replaces a smaller
 * one (contents are not kept: the plan places everything afresh), a big
 * enough one stays. Never zero-filled: every arena value is written by its
 * producer (or by the caller, for function inputs) before it is read, so
 * zeroing would only commit pages of an upper-bound plan nothing uses. */
static cml_status reserve(const cml_allocator *a, void **buf, size_t *cap, size_t need,
                          const char *what, cml_error *err) {
    if (*buf && *cap >= need) return CML_OK;
    size_t size = need > PLAN_ALIGN ? need : PLAN_ALIGN;
    void *p = cml_malloc(a, size);
    if (!p) return cml_fail(err, CML_ERR_NOMEM, "out of memory for a %zu-byte %s", need, what);
    cml_free(a, *buf);
    *buf = p;
    *cap = size;
    return CML_OK;
}

/* Lifetimes of every value, in main-block steps (see the top comment). */
static void measure(lifetimes *lt, size_t n) {
    const cml_mil_graph *g = lt->g;
    for (size_t i = 0; i < n; i++) lt->born[i] = lt->dies[i] = -1;
    for (uint32_t i = 0; i < g->ninputs; i++) define(lt, g->inputs[i], 0);
    walk(lt, &g->main, -1);
    int64_t end = (int64_t)g->main.nnodes + 1;
    for (uint32_t i = 0; i < g->main.noutputs; i++) use(lt, g->main.outputs[i], end);
}

/* One item per value that needs arena space, biggest first. */
static cml_status collect(const cml_mil_graph *g, lifetimes *lt, plan_item *items,
                          uint32_t *nitems, cml_error *err) {
    uint32_t k = 0;
    for (uint32_t v = 0; v < g->nvalues; v++) {
        const cml_mil_value *val = &g->values[v];
        if (!val->needs_buffer || val->is_const || val->kind != CML_MIL_KIND_TENSOR) continue;
        if (lt->born[v] < 0) lt->born[v] = lt->dies[v] < 0 ? 0 : lt->dies[v]; /* dead code */
        if (lt->dies[v] < lt->born[v]) lt->dies[v] = lt->born[v];
        if (val->capacity > SIZE_MAX - PLAN_ALIGN)
            return cml_fail(err, CML_ERR_NOMEM, "value '%s' is too large", val->name);
        items[k++] = (plan_item){.vid = v, .born = lt->born[v], .dies = lt->dies[v],
                                 .size = cml_align_up(val->capacity, PLAN_ALIGN)};
    }
    qsort(items, k, sizeof *items, by_size_desc);
    *nitems = k;
    return CML_OK;
}

/* First fit by size; returns the arena size in *arena. */
static cml_status place(plan_item *items, uint32_t nitems, plan_item **live, size_t *arena,
                        cml_error *err) {
    *arena = 0;
    for (uint32_t i = 0; i < nitems; i++) {
        plan_item *it = &items[i];
        uint32_t nlive = 0;
        for (uint32_t k = 0; k < i; k++)
            if (items[k].born <= it->dies && it->born <= items[k].dies && items[k].size)
                live[nlive++] = &items[k];
        qsort(live, nlive, sizeof *live, by_offset);
        size_t off = 0;
        for (uint32_t k = 0; k < nlive; k++) {
            if (off + it->size <= live[k]->offset) break;
            size_t end_k = live[k]->offset + live[k]->size;
            if (end_k > off) off = end_k;
        }
        it->offset = off;
        if (!cml_add_size(off, it->size, &off)) return cml_fail(err, CML_ERR_NOMEM, "arena too large");
        if (off > *arena) *arena = off;
    }
    return CML_OK;
}

/* Grows the arena / scratch as needed and points every placed value at its
 * offset. */
static cml_status bind_values(cml_mil_graph *g, const lifetimes *lt, const plan_item *items,
                       uint32_t nitems, size_t arena, cml_error *err) {
    g->arena_size = arena;
    g->scratch_size = lt->max_scratch;
    if (g->memory_budget && (arena > g->memory_budget ||
                             lt->max_scratch > g->memory_budget - arena))
        return cml_fail(err, CML_ERR_UNSUPPORTED, "activation arena of %zu bytes and %zu bytes of "
                        "scratch exceed the memory budget of %llu bytes for these input shapes",
                        arena, lt->max_scratch, (unsigned long long)g->memory_budget);
    void *arena_buf = g->arena;
    cml_status st = reserve(g->allocator, &arena_buf, &g->arena_cap, arena, "activation arena", err);
    g->arena = arena_buf;
    if (st == CML_OK)
        st = reserve(g->allocator, &g->scratch, &g->scratch_cap, g->scratch_size, "scratch", err);
    if (st != CML_OK) return st;
    for (uint32_t i = 0; i < nitems; i++) {
        cml_mil_value *v = &g->values[items[i].vid];
        v->arena_offset = items[i].offset;
        v->data = g->arena + items[i].offset;
    }
    for (uint32_t v = 0; v < g->nvalues; v++) {
        g->values[v].def_node = lt->born[v] < 0 ? -1 : (int32_t)(lt->born[v] - 1);
        g->values[v].last_use = lt->dies[v] < 0 ? -1 : (int32_t)(lt->dies[v] - 1);
    }
    g->planned = true;
    return CML_OK;
}

cml_status cml_mil_plan(cml_mil_graph *g, cml_error *err) {
    const cml_allocator *a = g->allocator;
    size_t n = g->nvalues ? g->nvalues : 1;
    lifetimes lt = {.g = g};
    lt.born = cml_malloc(a, n * sizeof *lt.born);
    lt.dies = cml_malloc(a, n * sizeof *lt.dies);
    plan_item *items = cml_calloc(a, n, sizeof *items);
    plan_item **live = cml_calloc(a, n, sizeof *live);
    cml_status st = CML_OK;
    if (!lt.born || !lt.dies || !items || !live) {
        st = cml_fail(err, CML_ERR_NOMEM, "out of memory planning %u values", g->nvalues);
        goto done;
    }
    g->planned = false;
    measure(&lt, n);
    uint32_t nitems = 0;
    size_t arena = 0;
    if ((st = collect(g, &lt, items, &nitems, err)) == CML_OK &&
        (st = place(items, nitems, live, &arena, err)) == CML_OK)
        st = bind_values(g, &lt, items, nitems, arena, err);
done:
    cml_free(a, lt.born);
    cml_free(a, lt.dies);
    cml_free(a, items);
    cml_free(a, live);
    return st;
}
