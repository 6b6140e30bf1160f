/* The instruction loop. No allocation: everything was resolved at load. */
#include <string.h>

#include "exec/internal.h"

/* Upstream caps a run at 10M instructions so a bad jump cannot spin forever. */
#define CML_MAX_STEPS 10000000u

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

static cml_status run_chain(cml_method *m, uint32_t c, cml_kernel_ctx *ctx) {
    const cml_exec_chain *chain = &m->chains[c];
    uint32_t pc = 0, steps = 0;
    while (pc < chain->ninstrs) {
        if (++steps > CML_MAX_STEPS)
            return cml_fail(&m->err, CML_ERR_STATE, "chain %u: more than %u steps", c, CML_MAX_STEPS);
        const cml_exec_instr *in = &chain->instrs[pc];
        cml_status st = CML_OK;
        switch (in->kind) {
        case CML_INSTR_KERNEL_CALL:
            st = in->op->run(ctx, in->args, in->nargs);
            if (st != CML_OK) {
                cml_error_prefix(&m->err, "chain %u instruction %u (%s): ", c, pc, in->op->name);
                return st;
            }
            break;
        case CML_INSTR_DELEGATE_CALL: {
            cml_delegate_instance *d = &m->delegates[in->delegate];
            st = d->backend->execute(d->handle, ctx, in->args, in->nargs);
            if (st != CML_OK) {
                cml_error_prefix(&m->err, "chain %u instruction %u (delegate %u, %s): ", c, pc,
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
                pc = (uint32_t)in->b;
                continue;
            }
            break;
        case CML_INSTR_FREE_CALL:
            /* Buffers are owned by the method for its lifetime. */
            break;
        }
        pc++;
    }
    return CML_OK;
}

cml_status cml_method_execute(cml_method *m) {
    if (!m) return CML_ERR_INVALID_ARG;
    for (uint32_t i = 0; i < m->ninputs; i++)
        if (!m->input_set[i])
            return cml_fail(&m->err, CML_ERR_STATE, "input %u has not been set", i);
    if (m->before_execute) CML_TRY(m->before_execute(m));
    cml_kernel_ctx ctx = {
        .err = &m->err,
        .pool = m->pool,
        .values = m->values,
        .nvalues = m->nvalues,
        .scratch = m->scratch,
        .scratch_size = m->scratch_size,
    };
    m->executed = false;
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
