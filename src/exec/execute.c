/* The instruction loop. No allocation: everything was resolved at load. */
#include <string.h>

#include "core/profile.h"
#include "exec/internal.h"

/* The unprofiled and the profiled loop share one instruction body. */
#if defined(__GNUC__)
#define CML_EXEC_INLINE inline __attribute__((always_inline))
#else
#define CML_EXEC_INLINE inline
#endif

/* Upstream caps a run at 10M instructions so a bad jump cannot spin forever. */

static bool condition_holds(const cml_evalue *v) {
    if (v->kind == CML_VALUE_BOOL) return v->u.b;
    if (v->kind == CML_VALUE_INT) return v->u.i != 0;
    if (v->kind == CML_VALUE_TENSOR && v->u.t->dtype == CML_DTYPE_BOOL) {
        const uint8_t *p = v->u.t->data;
        int64_t n = cml_tensor_numel(v->u.t);
        for (int64_t i = 0; i < n; i++)
            if (!p[i]) return false;
        return true;
    }
    return false;
}

/* Runs instruction *pc of chain c and advances *pc (a taken jump sets it). */
static CML_EXEC_INLINE cml_status step(cml_method *m, uint32_t c, uint32_t *pc,
                                       cml_kernel_ctx *ctx) {
    const cml_exec_instr *in = &m->chains[c].instrs[*pc];
    cml_status st = CML_OK;
    switch (in->kind) {
    case CML_INSTR_KERNEL_CALL:
        st = in->op->run(ctx, in->args, in->nargs);
        if (st != CML_OK) {
            cml_error_prefix(&m->err, "chain %u instruction %u (%s): ", c, *pc, in->op->name);
            return st;
        }
        break;
    case CML_INSTR_DELEGATE_CALL: {
        cml_delegate_instance *d = &m->delegates[in->delegate];
        st = d->backend->execute(d->handle, ctx, in->args, in->nargs);
        if (st != CML_OK) {
            cml_error_prefix(&m->err, "chain %u instruction %u (delegate %u, %s): ", c, *pc,
                             in->delegate, d->backend->id);
            return st;
        }
        break;
    }
    case CML_INSTR_MOVE_CALL:
        m->values[in->b] = m->values[in->a];
        break;
    case CML_INSTR_JUMP_FALSE_CALL:
        if (!condition_holds(&m->values[in->a])) {
            *pc = (uint32_t)in->b;
            return CML_OK;
        }
        break;
    case CML_INSTR_FREE_CALL:
        /* Buffers are owned by the method for its lifetime. */
        break;
    }
    (*pc)++;
    return CML_OK;
}

static cml_status too_many_steps(cml_method *m, uint32_t c) {
    return cml_fail(&m->err, CML_ERR_STATE,
                    "chain %u: more than %u steps (cml_method_params.max_steps)", c, m->max_steps);
}

static cml_status run_chain(cml_method *m, uint32_t c, cml_kernel_ctx *ctx) {
    const cml_exec_chain *chain = &m->chains[c];
    uint32_t pc = 0, steps = 0;
    while (pc < chain->ninstrs) {
        if (++steps > m->max_steps) return too_many_steps(m, c);
        CML_TRY(step(m, c, &pc, ctx));
    }
    return CML_OK;
}

/* run_chain with an event per instruction (cml_method_profile_enable). */
static cml_status run_chain_profiled(cml_method *m, uint32_t c, cml_kernel_ctx *ctx) {
    const cml_exec_chain *chain = &m->chains[c];
    cml_prof *p = m->prof;
    uint32_t pc = 0, steps = 0;
    while (pc < chain->ninstrs) {
        if (++steps > m->max_steps) return too_many_steps(m, c);
        const cml_exec_instr *in = &chain->instrs[pc];
        int32_t at = (int32_t)pc, delegate = -1;
        if (in->kind == CML_INSTR_DELEGATE_CALL) delegate = (int32_t)in->delegate;
        p->chain = (int32_t)c;
        p->instruction = at;
        p->delegate = delegate;
        uint64_t t0 = cml_prof_now();
        CML_TRY(step(m, c, &pc, ctx));
        uint64_t t1 = cml_prof_now();
        cml_profile_event *e = cml_prof_slot(p);
        if (!e) continue;
        *e = (cml_profile_event){
            .kind = delegate >= 0 ? CML_PROFILE_DELEGATE : CML_PROFILE_INSTRUCTION,
            .name = cml_profile_instr_name(m, in),
            .chain = (int32_t)c, .instruction = at, .delegate = delegate,
            .depth = 0, .debug_handle = -1, .start_ns = t0, .end_ns = t1,
        };
    }
    return CML_OK;
}

static cml_status execute_profiled(cml_method *m, cml_kernel_ctx *ctx) {
    cml_prof *p = m->prof;
    uint64_t t0 = cml_prof_now();
    for (uint32_t c = 0; c < m->nchains; c++) CML_TRY(run_chain_profiled(m, c, ctx));
    uint64_t t1 = cml_prof_now();
    /* profile.c keeps one slot past cap for this event. */
    p->events[p->n++] = (cml_profile_event){.kind = CML_PROFILE_EXECUTE, .name = "execute", .chain = -1,
                                 .instruction = -1, .delegate = -1, .depth = -1,
                                 .debug_handle = -1, .start_ns = t0, .end_ns = t1};
    m->executed = true;
    return CML_OK;
}

cml_status cml_method_execute(cml_method *m) {
    if (!m) return CML_ERR_INVALID_ARG;
    for (uint32_t i = 0; i < m->ninputs; i++)
        if (!m->input_set[i])
            return cml_fail(&m->err, CML_ERR_STATE, "input %u has not been set", i);
    if (m->prof) cml_profile_reset(m);
    if (m->before_execute) CML_TRY(m->before_execute(m));
    cml_kernel_ctx ctx = {
        .err = &m->err,
        .pool = m->pool,
        .values = m->values,
        .nvalues = m->nvalues,
        .scratch = m->scratch,
        .scratch_size = m->scratch_size,
        .prof = m->prof,
    };
    m->executed = false;
    if (m->prof) return execute_profiled(m, &ctx);
    for (uint32_t c = 0; c < m->nchains; c++) CML_TRY(run_chain(m, c, &ctx));
    m->executed = true;
    return CML_OK;
}

cml_status cml_method_reset_state(cml_method *m) {
    if (!m) return CML_ERR_INVALID_ARG;
    /* Program-owned mutable buffers go back to their initial contents. */
    if (m->plan) {
        for (uint32_t i = 0; i < m->plan->nvalues; i++) {
            const cml_pte_value *v = &m->plan->values[i];
            if (v->kind == CML_VALUE_TENSOR && v->u.tensor->initial_data)
                memcpy(m->tensors[i].data, v->u.tensor->initial_data, v->u.tensor->nbytes);
        }
    }
    for (uint32_t i = 0; i < m->ndelegates; i++) {
        const cml_backend *b = m->delegates[i].backend;
        if (b && b->reset_state) CML_TRY(b->reset_state(m->delegates[i].handle));
    }
    return CML_OK;
}
