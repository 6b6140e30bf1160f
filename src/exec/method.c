/* Method load: turns a verified plan into ready-to-run state. Every
 * allocation of a method happens here (values, arenas, unplanned buffers,
 * resolved instructions, delegate handles, scratch), so execute needs none. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "exec/internal.h"
#include "exec/method_io.h"

static cml_status track_buffer(cml_method *m, size_t nbytes, void **out) {
    void *buf = cml_calloc(m->allocator, 1, nbytes ? nbytes : 1);
    if (!buf) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory (%zu-byte tensor)", nbytes);
    m->owned_buffers[m->nowned_buffers++] = buf;
    *out = buf;
    return CML_OK;
}

static cml_status init_tensor(cml_method *m, uint32_t index, const cml_pte_tensor *src,
                              cml_tensor *t) {
    t->dtype = src->dtype;
    t->rank = src->rank;
    for (int32_t d = 0; d < src->rank; d++) {
        t->sizes[d] = src->sizes[d];
        t->dim_order[d] = src->dim_order[d];
    }
    t->dynamism = src->dynamism;
    t->capacity = src->nbytes;
    if (src->external)
        return cml_fail(&m->err, CML_ERR_UNSUPPORTED,
                        "value %u: tensor '%.*s' lives in an external .ptd data file, which cml "
                        "does not load", index, (int)src->fqn.len, src->fqn.ptr ? src->fqn.ptr : "");
    if (src->constant_data) {
        /* Constants are used in place from the mapped file. */
        t->data = (void *)src->constant_data;
        t->is_const = true;
        return CML_OK;
    }
    if (src->planned) {
        t->data = m->arenas[src->memory_id - 1] + src->memory_offset;
        if (src->initial_data) memcpy(t->data, src->initial_data, src->nbytes);
        return CML_OK;
    }
    return track_buffer(m, src->nbytes, &t->data);
}

static const char *human_bytes(uint64_t n, char *buf, size_t size) {
    static const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) v /= 1024, u++;
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

/* Refuses planned memory over the program's budget before any of it is
 * allocated, naming the largest claim: an arena (extent[i] bytes) or an
 * unplanned tensor. */
static cml_status check_budget(cml_method *m, const size_t *extent) {
    const cml_pte_plan *plan = m->plan;
    uint64_t budget = m->program->memory_budget, total = 0, biggest = 0;
    char what[96] = "";
    for (uint32_t i = 0; i < m->narenas; i++) {
        total += extent[i];
        if (extent[i] > biggest) {
            biggest = extent[i];
            snprintf(what, sizeof what, "planned arena %u", i + 1);
        }
    }
    for (uint32_t i = 0; i < plan->nvalues; i++) {
        const cml_pte_value *v = &plan->values[i];
        if (v->kind != CML_VALUE_TENSOR) continue;
        const cml_pte_tensor *t = v->u.tensor;
        if (t->planned || t->constant_data || t->external) continue;
        total += t->nbytes;
        if (t->nbytes > biggest) {
            biggest = t->nbytes;
            snprintf(what, sizeof what, "unplanned tensor (value %u)", i);
        }
    }
    if (total <= budget) return CML_OK;
    char b1[32], b2[32], b3[32];
    return cml_fail(&m->err, CML_ERR_UNSUPPORTED,
                    "planned memory of %s exceeds the memory budget of %s; the largest claim is "
                    "%s, %s (raise cml_program_params.memory_budget to allow it)",
                    human_bytes(total, b1, sizeof b1), human_bytes(budget, b2, sizeof b2), what,
                    human_bytes(biggest, b3, sizeof b3));
}

static cml_status init_values(cml_method *m) {
    const cml_pte_plan *plan = m->plan;
    m->nvalues = plan->nvalues;
    m->values = cml_calloc(m->allocator, plan->nvalues ? plan->nvalues : 1, sizeof *m->values);
    m->tensors = cml_calloc(m->allocator, plan->nvalues ? plan->nvalues : 1, sizeof *m->tensors);
    m->owned_buffers = cml_calloc(m->allocator, plan->nvalues ? plan->nvalues : 1, sizeof(void *));
    if (!m->values || !m->tensors || !m->owned_buffers)
        return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory for %u values", plan->nvalues);

    m->narenas = plan->nbuffer_sizes > 0 ? plan->nbuffer_sizes - 1 : 0;
    m->arenas = cml_calloc(m->allocator, m->narenas ? m->narenas : 1, sizeof *m->arenas);
    if (!m->arenas) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    /* Each arena is allocated to the extent its tensors actually use: the
     * declared size is only an upper bound the reader checked them against,
     * and a damaged file must not make us reserve memory nothing uses.
     * Arenas are not zero-filled (as in ExecuTorch, whose planned memory is
     * whatever the caller hands in): mutable buffers get their initial data
     * below, inputs are set by the caller, tensors read before anything
     * writes them are zeroed one by one (zero_read_first), everything else
     * is written by its producer before it is read. Untouched pages of an
     * upper-bound plan (dynamic shapes) then cost no resident memory. */
    size_t *extent = cml_calloc(m->allocator, m->narenas ? m->narenas : 1, sizeof *extent);
    if (!extent) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < plan->nvalues; i++) {
        const cml_pte_value *v = &plan->values[i];
        if (v->kind != CML_VALUE_TENSOR || !v->u.tensor->planned) continue;
        const cml_pte_tensor *t = v->u.tensor;
        size_t end = (size_t)t->memory_offset + t->nbytes;
        if (end > extent[t->memory_id - 1]) extent[t->memory_id - 1] = end;
    }
    cml_status budget_st = check_budget(m, extent);
    if (budget_st != CML_OK) {
        cml_free(m->allocator, extent);
        return budget_st;
    }
    for (uint32_t i = 0; i < m->narenas; i++) {
        size_t size = extent[i];
        m->arenas[i] = cml_malloc(m->allocator, size ? size : 1);
        if (!m->arenas[i]) {
            cml_free(m->allocator, extent);
            return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory for planned arena %u (%zu bytes)",
                            i, size);
        }
    }
    cml_free(m->allocator, extent);

    for (uint32_t i = 0; i < plan->nvalues; i++) {
        const cml_pte_value *src = &plan->values[i];
        cml_evalue *v = &m->values[i];
        v->kind = src->kind;
        switch (src->kind) {
        case CML_VALUE_TENSOR:
            v->u.t = &m->tensors[i];
            CML_TRY(init_tensor(m, i, src->u.tensor, v->u.t));
            break;
        case CML_VALUE_INT: v->u.i = src->u.i; break;
        case CML_VALUE_BOOL: v->u.b = src->u.b; break;
        case CML_VALUE_DOUBLE: v->u.d = src->u.d; break;
        case CML_VALUE_STRING: v->u.s = src->u.s; break;
        case CML_VALUE_INT_LIST:
            v->u.int_list.items = src->u.int_list.items;
            v->u.int_list.count = src->u.int_list.count;
            break;
        case CML_VALUE_DOUBLE_LIST:
            v->u.double_list.items = src->u.double_list.items;
            v->u.double_list.count = src->u.double_list.count;
            break;
        case CML_VALUE_BOOL_LIST:
            v->u.bool_list.items = src->u.bool_list.items;
            v->u.bool_list.count = src->u.bool_list.count;
            break;
        case CML_VALUE_TENSOR_LIST:
        case CML_VALUE_OPT_TENSOR_LIST:
            v->u.tensor_list.items = src->u.tensor_list.items;
            v->u.tensor_list.count = src->u.tensor_list.count;
            break;
        default: break; /* NULL */
        }
    }
    return CML_OK;
}

static cml_status init_delegates(cml_method *m, const cml_method_params *params) {
    const cml_pte_plan *plan = m->plan;
    m->ndelegates = plan->ndelegates;
    m->delegates = cml_calloc(m->allocator, plan->ndelegates ? plan->ndelegates : 1,
                              sizeof *m->delegates);
    if (!m->delegates) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < plan->ndelegates; i++) {
        const cml_pte_delegate *d = &plan->delegates[i];
        const cml_backend *b = cml_backend_find(d->id.ptr, d->id.len);
        if (!b || (b->is_available && !b->is_available()))
            return cml_fail(&m->err, CML_ERR_NOT_FOUND,
                            "delegate %u: backend '%.*s' is not registered in this build", i,
                            (int)d->id.len, d->id.ptr);
        cml_backend_init_ctx ctx = {
            .allocator = m->allocator,
            .err = &m->err,
            .program = &m->program->pte,
            .method_name = plan->name.ptr,
            .compute_units = params ? params->compute_units : CML_COMPUTE_DEFAULT,
            .max_steps = params ? params->max_steps : 0,
            .pool = m->pool,
            .log = &m->program->log,
            .memory_budget = m->program->memory_budget,
        };
        cml_status st = b->init(&ctx, d->data, d->size, d->specs, d->nspecs, &m->delegates[i].handle);
        if (st != CML_OK) {
            cml_error_prefix(&m->err, "delegate %u (%.*s): ", i, (int)d->id.len, d->id.ptr);
            return st;
        }
        m->delegates[i].backend = b;
    }
    return CML_OK;
}

/* Builds "aten::add.out" from an Operator entry. */
static void operator_name(const cml_pte_operator *op, char *buf, size_t size) {
    if (op->overload.len)
        snprintf(buf, size, "%.*s.%.*s", (int)op->name.len, op->name.ptr, (int)op->overload.len,
                 op->overload.ptr);
    else
        snprintf(buf, size, "%.*s", (int)op->name.len, op->name.ptr);
}

static cml_status resolve_args(cml_method *m, const int32_t *idx, uint32_t n, cml_evalue ***out) {
    cml_evalue **args = cml_calloc(m->allocator, n ? n : 1, sizeof *args);
    if (!args) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) args[i] = &m->values[idx[i]];
    *out = args;
    return CML_OK;
}

static bool same_operator(const cml_pte_operator *a, const cml_pte_operator *b) {
    return a->name.len == b->name.len && a->overload.len == b->overload.len &&
           memcmp(a->name.ptr, b->name.ptr, a->name.len) == 0 &&
           memcmp(a->overload.ptr, b->overload.ptr, a->overload.len) == 0;
}

/* Whether a kernel call before chain c instruction i names the same
 * operator (so a missing one is reported once, counted exactly). Only run
 * for missing operators. */
static bool reported_before(const cml_pte_plan *plan, uint32_t c, uint32_t i) {
    const cml_pte_operator *op = &plan->operators[plan->chains[c].instructions[i].a];
    for (uint32_t cc = 0; cc <= c; cc++) {
        const cml_pte_chain *ch = &plan->chains[cc];
        for (uint32_t k = 0; k < (cc == c ? i : ch->ninstructions); k++) {
            const cml_pte_instruction *in = &ch->instructions[k];
            if (in->kind == CML_INSTR_KERNEL_CALL && same_operator(&plan->operators[in->a], op))
                return true;
        }
    }
    return false;
}

/* Resolves every instruction; collects all missing operators into one
 * message, as users fix them all at once. */
static cml_status init_chains(cml_method *m) {
    const cml_pte_plan *plan = m->plan;
    m->nchains = plan->nchains;
    m->chains = cml_calloc(m->allocator, plan->nchains ? plan->nchains : 1, sizeof *m->chains);
    if (!m->chains) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");

    char missing[CML_ERRMSG_SIZE] = "";
    size_t nmissing = 0;
    for (uint32_t c = 0; c < plan->nchains; c++) {
        const cml_pte_chain *src = &plan->chains[c];
        cml_exec_chain *dst = &m->chains[c];
        dst->instrs = cml_calloc(m->allocator, src->ninstructions ? src->ninstructions : 1,
                                 sizeof *dst->instrs);
        if (!dst->instrs) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
        dst->ninstrs = src->ninstructions; /* only once instrs exists: destroy walks it */
        for (uint32_t i = 0; i < src->ninstructions; i++) {
            const cml_pte_instruction *in = &src->instructions[i];
            cml_exec_instr *out = &dst->instrs[i];
            out->kind = in->kind;
            out->a = in->a;
            out->b = in->b;
            if (in->kind == CML_INSTR_KERNEL_CALL) {
                char name[256];
                operator_name(&plan->operators[in->a], name, sizeof name);
                out->op = cml_op_find(name, strlen(name));
                if (!out->op) {
                    if (!reported_before(plan, c, i)) {
                        size_t used = strlen(missing);
                        snprintf(missing + used, sizeof missing - used, "%s%s", nmissing ? ", " : "",
                                 name);
                        nmissing++;
                    }
                    continue;
                }
                if (out->op->nargs && in->nargs != out->op->nargs)
                    return cml_fail(&m->err, CML_ERR_CORRUPT,
                                    "chain %u instruction %u: %s takes %u args, the program passes %u",
                                    c, i, name, out->op->nargs, in->nargs);
                CML_TRY(resolve_args(m, in->args, in->nargs, &out->args));
                out->nargs = in->nargs;
            } else if (in->kind == CML_INSTR_DELEGATE_CALL) {
                out->delegate = (uint32_t)in->a;
                CML_TRY(resolve_args(m, in->args, in->nargs, &out->args));
                out->nargs = in->nargs;
            }
        }
    }
    if (nmissing)
        return cml_fail(&m->err, CML_ERR_UNSUPPORTED, "%zu operator%s not implemented: %s", nmissing,
                        nmissing == 1 ? " is" : "s are", missing);
    return CML_OK;
}

/* Marks value v used; zeroes it when its first use reads it. */
static void first_use(cml_method *m, uint8_t *seen, int32_t v, bool writes) {
    if (v < 0 || (uint32_t)v >= m->nvalues || seen[v]) return;
    seen[v] = 1;
    const cml_pte_value *src = &m->plan->values[v];
    if (writes || src->kind != CML_VALUE_TENSOR) return;
    const cml_pte_tensor *t = src->u.tensor;
    if (t->planned && !t->initial_data && t->nbytes) memset(m->tensors[v].data, 0, t->nbytes);
}

/* An in-place kernel ("aten::add_.Tensor") reads the tensor it returns. */
static bool in_place(const cml_pte_plan *plan, const cml_pte_instruction *in) {
    const cml_pte_operator *op = &plan->operators[in->a];
    return op->name.len && op->name.ptr[op->name.len - 1] == '_';
}

/* Planned arenas are not zero-filled (init_values). Where semantics need
 * zeros is a planned tensor read before anything writes it: a mutable
 * buffer without initial data (ExecuTorch's Module hands in zeroed planned
 * memory, and programs rely on it). Walking the chains in order, a
 * tensor's first use is a write when it is a kernel call's last argument
 * (the out / return value) of a kernel that is not in-place, or a delegate
 * output; method inputs are the caller's. Every other planned tensor
 * without initial data gets its own bytes zeroed, once, here. */
static cml_status zero_read_first(cml_method *m) {
    const cml_pte_plan *plan = m->plan;
    uint8_t *seen = cml_calloc(m->allocator, m->nvalues ? m->nvalues : 1, 1);
    if (!seen) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < m->ninputs; i++) first_use(m, seen, m->inputs[i], true);
    for (uint32_t c = 0; c < plan->nchains; c++)
        for (uint32_t i = 0; i < plan->chains[c].ninstructions; i++) {
            const cml_pte_instruction *in = &plan->chains[c].instructions[i];
            if (in->kind != CML_INSTR_KERNEL_CALL && in->kind != CML_INSTR_DELEGATE_CALL) continue;
            uint32_t nread = in->nargs;
            if (in->kind == CML_INSTR_KERNEL_CALL && in->nargs && !in_place(plan, in))
                nread = in->nargs - 1;
            if (in->kind == CML_INSTR_DELEGATE_CALL) {
                const cml_delegate_instance *d = &m->delegates[in->a];
                nread = d->backend->input_count ? d->backend->input_count(d->handle) : in->nargs;
            }
            if (in->kind == CML_INSTR_KERNEL_CALL && nread < in->nargs)
                first_use(m, seen, in->args[in->nargs - 1], true);
            for (uint32_t k = 0; k < in->nargs; k++)
                first_use(m, seen, in->args[k], k >= nread);
        }
    cml_free(m->allocator, seen);
    return CML_OK;
}

/* Runs every kernel's prepare once: validates args and sizes the shared
 * scratch buffer. */
static cml_status prepare_kernels(cml_method *m) {
    size_t scratch = 0;
    cml_kernel_ctx ctx = {.err = &m->err, .pool = m->pool, .values = m->values, .nvalues = m->nvalues};
    for (uint32_t c = 0; c < m->nchains; c++) {
        for (uint32_t i = 0; i < m->chains[c].ninstrs; i++) {
            cml_exec_instr *in = &m->chains[c].instrs[i];
            if (in->kind != CML_INSTR_KERNEL_CALL || !in->op->prepare) continue;
            size_t need = 0;
            cml_status st = in->op->prepare(&ctx, in->args, in->nargs, &need);
            if (st != CML_OK) {
                cml_error_prefix(&m->err, "chain %u instruction %u (%s): ", c, i, in->op->name);
                return st;
            }
            if (need > scratch) scratch = need;
        }
    }
    m->scratch_size = scratch;
    if (scratch) {
        m->scratch = cml_malloc(m->allocator, scratch);
        if (!m->scratch)
            return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory for %zu bytes of scratch", scratch);
    }
    return CML_OK;
}

static const cml_pte_plan *choose_plan(const cml_pte_program *pte, const char *name) {
    if (name) return cml_pte_find_plan(pte, name);
    const cml_pte_plan *fwd = cml_pte_find_plan(pte, "forward");
    if (fwd) return fwd;
    return pte->nplans ? &pte->plans[0] : NULL;
}

cml_status cml_method_create(cml_program *program, const char *name,
                             const cml_method_params *params, cml_method **out) {
    if (!program || !out) return CML_ERR_INVALID_ARG;
    *out = NULL;
    cml_method_params p = {sizeof p, 0, CML_COMPUTE_DEFAULT, 0};
    if (params && params->struct_size >= offsetof(cml_method_params, max_steps))
        memcpy(&p, params, params->struct_size < sizeof p ? params->struct_size : sizeof p);
    params = &p;
    cml_method *m = cml_calloc(program->allocator, 1, sizeof *m);
    if (!m) {
        pthread_mutex_lock(&program->lock);
        cml_fail(&program->err, CML_ERR_NOMEM, "out of memory");
        pthread_mutex_unlock(&program->lock);
        return CML_ERR_NOMEM;
    }
    m->program = program;
    m->allocator = program->allocator;
    atomic_fetch_add(&program->live_methods, 1); /* cml_method_destroy balances it */

    m->max_steps = params->max_steps ? params->max_steps : CML_DEFAULT_MAX_STEPS;
    cml_status st = cml_threadpool_create(params->num_threads, m->allocator, &m->pool);
    if (st != CML_OK) {
        cml_fail(&m->err, st, "cannot start the thread pool");
        goto fail;
    }
    if (program->kind == CML_PROGRAM_MLPACKAGE) {
        /* The package maps its files on first use: one setup at a time. */
        pthread_mutex_lock(&program->lock);
        st = cml_mlpackage_method_setup(m, name, params);
        pthread_mutex_unlock(&program->lock);
        if (st != CML_OK || (st = prepare_kernels(m)) != CML_OK) goto fail;
    } else {
        m->plan = choose_plan(&program->pte, name);
        if (!m->plan) {
            st = cml_fail(&m->err, CML_ERR_NOT_FOUND, "no method named '%s'",
                          name ? name : "forward");
            goto fail;
        }
        m->inputs = m->plan->inputs;
        m->ninputs = m->plan->ninputs;
        m->outputs = m->plan->outputs;
        m->noutputs = m->plan->noutputs;
        /* The shape check runs the kernels against the planned tensors, so
         * it comes before the zeroing it could otherwise undo. */
        if ((st = init_values(m)) != CML_OK || (st = init_delegates(m, params)) != CML_OK ||
            (st = init_chains(m)) != CML_OK || (st = prepare_kernels(m)) != CML_OK ||
            (st = cml_method_check_shapes(m)) != CML_OK || (st = zero_read_first(m)) != CML_OK)
            goto fail;
    }
    if ((st = cml_method_io_init(m)) != CML_OK ||
        (st = cml_method_names_init(m)) != CML_OK || (st = cml_method_bind_init(m)) != CML_OK)
        goto fail;
    *out = m;
    return CML_OK;
fail:
    /* The program carries the message, as the method handle dies here. */
    pthread_mutex_lock(&program->lock);
    program->err = m->err;
    program->err.status = st;
    pthread_mutex_unlock(&program->lock);
    cml_method_destroy(m);
    return st;
}

void cml_method_destroy(cml_method *m) {
    if (!m) return;
    const cml_allocator *a = m->allocator;
    cml_method_profile_disable(m);
    for (uint32_t i = 0; m->delegates && i < m->ndelegates; i++)
        if (m->delegates[i].backend && m->delegates[i].backend->destroy)
            m->delegates[i].backend->destroy(m->delegates[i].handle);
    cml_free(a, m->delegates);
    for (uint32_t c = 0; m->chains && c < m->nchains; c++) {
        for (uint32_t i = 0; i < m->chains[c].ninstrs; i++) cml_free(a, m->chains[c].instrs[i].args);
        cml_free(a, m->chains[c].instrs);
    }
    cml_free(a, m->chains);
    for (uint32_t i = 0; i < m->nowned_buffers; i++) cml_free(a, m->owned_buffers[i]);
    cml_free(a, m->owned_buffers);
    for (uint32_t i = 0; m->arenas && i < m->narenas; i++) cml_free(a, m->arenas[i]);
    cml_free(a, m->arenas);
    cml_free(a, m->values);
    cml_free(a, m->tensors);
    cml_free(a, m->scratch);
    cml_free(a, m->input_set);
    cml_method_io_free(m);
    cml_method_names_free(m);
    cml_method_bind_free(m);
    cml_free(a, m->input_bounds);
    cml_free(a, m->output_bounds);
    for (uint32_t i = 0; m->output_stage && i < m->noutputs; i++) cml_free(a, m->output_stage[i]);
    cml_free(a, m->output_stage);
    if (m->mlpackage_free) m->mlpackage_free(m);
    cml_threadpool_destroy(m->pool);
    if (m->program) atomic_fetch_sub(&m->program->live_methods, 1);
    cml_free(a, m);
}

const char *cml_method_errmsg(const cml_method *m) { return m ? m->err.msg : "method is NULL"; }
