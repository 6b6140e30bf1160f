/*
 * Load-time shape check: a program that loads also executes, as far as the
 * shapes in its plan can tell.
 *
 * Every kernel's run validates its argument shapes and resizes its output
 * (cml_aten_resize) before it touches tensor data. At method creation each
 * chain's kernel calls are run in order in check_only mode, against the
 * planned tensors: a run stops at its output resize (CML_SHAPES_CHECKED),
 * so the output takes the shape execute would give it and the next kernel
 * sees it. An argument mismatch (shapes that do not broadcast, a cat over
 * unequal dims, a conv weight with the wrong channel count, a view of the
 * wrong numel) or an output that cannot take its shape fails method
 * creation with the chain, instruction, op and reason.
 *
 * Only what the plan fixes is checked. A kernel call takes part when every
 * tensor argument is static-shaped (a dynamic tensor's planned shape is
 * just a bound, and data-dependent output shapes are always dynamic) and
 * no scalar argument is one that a kernel computes at run (sym ints,
 * _local_scalar_dense): the others are skipped, as are delegate calls.
 * A chain is checked up to its first jump (the condition is run-time data).
 * Afterwards the values, tensor structs and mutable buffers' initial data
 * are put back as they were, so the check leaves no trace.
 */
#include <string.h>

#include "core/alloc.h"
#include "exec/internal.h"

static bool is_static_tensor(const cml_method *m, int64_t v) {
    if (v < 0 || (uint64_t)v >= m->nvalues) return true; /* None; prepare checked the rest */
    const cml_evalue *e = &m->values[v];
    return e->kind != CML_VALUE_TENSOR || e->u.t->dynamism == CML_SHAPE_STATIC;
}

/* Whether a value's contents are fixed by the plan: a static tensor (or a
 * list of them), a scalar or list no kernel writes. */
static bool is_planned(const cml_method *m, const uint8_t *computed, int32_t v) {
    if (v < 0 || (uint32_t)v >= m->nvalues) return true;
    const cml_evalue *e = &m->values[v];
    switch (e->kind) {
    case CML_VALUE_TENSOR: return is_static_tensor(m, v);
    case CML_VALUE_TENSOR_LIST:
    case CML_VALUE_OPT_TENSOR_LIST:
        for (uint32_t k = 0; k < e->u.tensor_list.count; k++) {
            int32_t item;
            memcpy(&item, &e->u.tensor_list.items[k], sizeof item);
            if (!is_static_tensor(m, item)) return false;
        }
        return true;
    case CML_VALUE_INT_LIST:
        for (uint32_t k = 0; k < e->u.int_list.count; k++) {
            int64_t item; /* the items may sit unaligned in the file */
            memcpy(&item, &e->u.int_list.items[k], sizeof item);
            if (item >= 0 && (uint64_t)item < m->nvalues && computed[item]) return false;
        }
        return !computed[v];
    default: return !computed[v];
    }
}

/* Marks every value a kernel call or move writes at run, other than tensor
 * data: a kernel's return (its last argument) and a move's destination. */
static void mark_computed(const cml_method *m, const cml_pte_plan *plan, uint8_t *computed) {
    for (uint32_t c = 0; c < plan->nchains; c++)
        for (uint32_t i = 0; i < plan->chains[c].ninstructions; i++) {
            const cml_pte_instruction *in = &plan->chains[c].instructions[i];
            int32_t v = -1;
            if (in->kind == CML_INSTR_KERNEL_CALL && in->nargs) v = in->args[in->nargs - 1];
            if (in->kind == CML_INSTR_MOVE_CALL) v = in->b;
            if (v >= 0 && (uint32_t)v < m->nvalues && m->values[v].kind != CML_VALUE_TENSOR)
                computed[v] = 1;
        }
}

static bool takes_part(const cml_method *m, const uint8_t *computed, const cml_pte_instruction *src) {
    for (uint32_t k = 0; k < src->nargs; k++)
        if (!is_planned(m, computed, src->args[k])) return false;
    return true;
}

static cml_status check_chain(cml_method *m, uint32_t c, const uint8_t *computed,
                              cml_kernel_ctx *ctx) {
    const cml_pte_chain *src = &m->plan->chains[c];
    const cml_exec_chain *chain = &m->chains[c];
    for (uint32_t i = 0; i < chain->ninstrs; i++) {
        const cml_exec_instr *in = &chain->instrs[i];
        if (in->kind == CML_INSTR_JUMP_FALSE_CALL) return CML_OK;
        if (in->kind != CML_INSTR_KERNEL_CALL || !takes_part(m, computed, &src->instructions[i]))
            continue;
        cml_status st = in->op->run(ctx, in->args, in->nargs);
        if (st != CML_OK && st != CML_SHAPES_CHECKED) {
            cml_error_prefix(&m->err, "chain %u instruction %u (%s): ", c, i, in->op->name);
            return st;
        }
    }
    return CML_OK;
}

/* Puts back what the check may have changed: every value and tensor
 * struct, and the initial contents of mutable buffers. */
static void restore(cml_method *m, const cml_evalue *values, const cml_tensor *tensors) {
    memcpy(m->values, values, m->nvalues * sizeof *values);
    memcpy(m->tensors, tensors, m->nvalues * sizeof *tensors);
    for (uint32_t i = 0; i < m->plan->nvalues; i++) {
        const cml_pte_value *v = &m->plan->values[i];
        if (v->kind == CML_VALUE_TENSOR && v->u.tensor->initial_data && !v->u.tensor->constant_data)
            memcpy(m->tensors[i].data, v->u.tensor->initial_data, v->u.tensor->nbytes);
    }
}

cml_status cml_method_check_shapes(cml_method *m) {
    size_t n = m->nvalues ? m->nvalues : 1;
    uint8_t *computed = cml_calloc(m->allocator, n, 1);
    cml_evalue *values = cml_malloc(m->allocator, n * sizeof *values);
    cml_tensor *tensors = cml_malloc(m->allocator, n * sizeof *tensors);
    cml_status st = CML_OK;
    if (!computed || !values || !tensors) {
        st = cml_fail(&m->err, CML_ERR_NOMEM, "out of memory for the load-time shape check");
        goto done;
    }
    memcpy(values, m->values, m->nvalues * sizeof *values);
    memcpy(tensors, m->tensors, m->nvalues * sizeof *tensors);
    mark_computed(m, m->plan, computed);
    cml_kernel_ctx ctx = {.err = &m->err, .pool = m->pool, .values = m->values,
                          .nvalues = m->nvalues, .scratch = m->scratch,
                          .scratch_size = m->scratch_size, .check_only = true};
    for (uint32_t c = 0; c < m->nchains && st == CML_OK; c++)
        st = check_chain(m, c, computed, &ctx);
    restore(m, values, tensors);
    if (st == CML_OK) cml_error_clear(&m->err);
done:
    cml_free(m->allocator, computed);
    cml_free(m->allocator, values);
    cml_free(m->allocator, tensors);
    return st;
}
