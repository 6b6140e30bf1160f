/* Method profiling (cml_method_profile_* in include/cml.h): event storage
 * sized once when enabled; execute.c and the backends fill it. */
#include "core/alloc.h"
#include "core/profile.h"
#include "exec/internal.h"

/* Upper bound on the capacity a caller may ask for (16M events, 1 GiB). */
#define CML_PROFILE_MAX_EVENTS (1u << 24)

const char *cml_profile_instr_name(const cml_method *m, const cml_exec_instr *in) {
    switch (in->kind) {
    case CML_INSTR_KERNEL_CALL: return in->op->name;
    case CML_INSTR_DELEGATE_CALL: return m->delegates[in->delegate].backend->id;
    case CML_INSTR_MOVE_CALL: return "move";
    case CML_INSTR_JUMP_FALSE_CALL: return "jump_false";
    case CML_INSTR_FREE_CALL: return "free";
    }
    return "instruction";
}

void cml_profile_reset(cml_method *m) {
    m->prof->n = 0;
    m->prof->dropped = 0;
}

/* Events one execute records when nothing repeats: every instruction, and
 * each delegate call's own ops. Lets every delegate prepare its per-op
 * data. */
static cml_status default_capacity(cml_method *m, uint64_t *out) {
    uint64_t n = 0;
    uint32_t *ops = cml_calloc(m->allocator, m->ndelegates ? m->ndelegates : 1, sizeof *ops);
    if (!ops) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory for profiling");
    cml_status st = CML_OK;
    for (uint32_t d = 0; d < m->ndelegates && st == CML_OK; d++) {
        const cml_backend *b = m->delegates[d].backend;
        if (b->profile_prepare) st = b->profile_prepare(m->delegates[d].handle, &ops[d]);
    }
    for (uint32_t c = 0; c < m->nchains && st == CML_OK; c++)
        for (uint32_t i = 0; i < m->chains[c].ninstrs; i++) {
            const cml_exec_instr *in = &m->chains[c].instrs[i];
            n += 1 + (in->kind == CML_INSTR_DELEGATE_CALL ? ops[in->delegate] : 0);
        }
    cml_free(m->allocator, ops);
    if (st != CML_OK) return cml_fail(&m->err, st, "cannot prepare the delegates for profiling");
    *out = n;
    return CML_OK;
}

cml_status cml_method_profile_enable(cml_method *m, size_t capacity) {
    if (!m) return CML_ERR_INVALID_ARG;
    if (capacity > CML_PROFILE_MAX_EVENTS)
        return cml_fail(&m->err, CML_ERR_INVALID_ARG, "profile capacity %zu is over %u events",
                        capacity, CML_PROFILE_MAX_EVENTS);
    uint64_t counted = 0; /* counting also prepares the delegates' op data */
    cml_status st = default_capacity(m, &counted);
    if (st != CML_OK) return st;
    uint64_t want = capacity ? capacity : counted;
    if (want > CML_PROFILE_MAX_EVENTS) want = CML_PROFILE_MAX_EVENTS;
    cml_method_profile_disable(m);
    cml_prof *p = cml_calloc(m->allocator, 1, sizeof *p);
    /* One slot past cap: the execute event always fits. */
    cml_profile_event *ev = p ? cml_calloc(m->allocator, want + 1, sizeof *ev) : NULL;
    if (!ev) {
        cml_free(m->allocator, p);
        return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory for %llu profile events",
                        (unsigned long long)want);
    }
    p->events = ev;
    p->cap = (uint32_t)want;
    m->prof = p;
    return CML_OK;
}

void cml_method_profile_disable(cml_method *m) {
    if (!m || !m->prof) return;
    cml_free(m->allocator, m->prof->events);
    cml_free(m->allocator, m->prof);
    m->prof = NULL;
}

size_t cml_method_profile_events(const cml_method *m, const cml_profile_event **events,
                                 uint64_t *dropped) {
    if (dropped) *dropped = 0;
    if (events) *events = NULL;
    if (!m || !m->prof) return 0;
    if (events) *events = m->prof->events;
    if (dropped) *dropped = m->prof->dropped;
    return m->prof->n;
}
