/* Zero-copy I/O: cml_method_bind_input / cml_method_bind_output point a
 * method input's or output's tensor at the caller's buffer, so execute reads
 * the input from it and writes the output into it with no copy. The
 * method's own buffer is kept and put back when the binding ends. */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "exec/method_io.h"

cml_status cml_method_bind_init(cml_method *m) {
    m->in_bind = cml_calloc(m->allocator, m->ninputs ? m->ninputs : 1, sizeof *m->in_bind);
    m->out_bind = cml_calloc(m->allocator, m->noutputs ? m->noutputs : 1, sizeof *m->out_bind);
    if (!m->in_bind || !m->out_bind) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    return CML_OK;
}

void cml_method_bind_free(cml_method *m) {
    cml_free(m->allocator, m->in_bind);
    cml_free(m->allocator, m->out_bind);
    m->in_bind = m->out_bind = NULL;
}

static void unbind(cml_binding *b, cml_tensor *t) {
    if (!b->data) return;
    t->data = b->data;
    t->capacity = b->capacity;
    b->data = NULL;
}

static void bind(cml_binding *b, cml_tensor *t, void *data, size_t nbytes) {
    b->data = t->data;
    b->capacity = t->capacity;
    t->data = data;
    t->capacity = nbytes;
}

void cml_method_unbind_input(cml_method *m, size_t index) {
    if (m->in_bind && index < m->ninputs)
        unbind(&m->in_bind[index], m->values[m->inputs[index]].u.t);
}

size_t cml_method_bound_capacity(const cml_method *m, const cml_tensor *t) {
    for (uint32_t i = 0; m->out_bind && i < m->noutputs; i++)
        if (m->out_bind[i].data && m->values[m->outputs[i]].u.t == t) return t->capacity;
    for (uint32_t i = 0; m->in_bind && i < m->ninputs; i++)
        if (m->in_bind[i].data && m->values[m->inputs[i]].u.t == t) return t->capacity;
    return 0;
}

/* What every binding needs: a row-major tensor value and a buffer aligned
 * for its element type. */
static cml_status check_target(cml_method *m, const char *what, size_t index, const cml_evalue *v,
                               const void *data) {
    if (v->kind != CML_VALUE_TENSOR)
        return cml_fail(&m->err, CML_ERR_INVALID_ARG, "%s %zu is a scalar, not a tensor: it "
                        "cannot be bound", what, index);
    const cml_tensor *t = v->u.t;
    if (!cml_tensor_is_contiguous(t))
        return cml_fail(&m->err, CML_ERR_UNSUPPORTED, "%s %zu has a non-default dim order: "
                        "bind needs row-major layout (use the copying calls)", what, index);
    size_t es = cml_dtype_size(t->dtype);
    if (!data || (es && (uintptr_t)data % es))
        return cml_fail(&m->err, CML_ERR_INVALID_ARG, "%s %zu: buffer %p is not aligned to its "
                        "%zu-byte elements", what, index, data, es);
    return CML_OK;
}

cml_status cml_method_bind_input(cml_method *m, size_t index, const cml_tensor_view *in) {
    CML_TRY(cml_method_check_input_arg(m, index, in));
    cml_evalue *v = &m->values[m->inputs[index]];
    CML_TRY(check_target(m, "input", index, v, in->data));
    cml_tensor *t = v->u.t;
    if (in->dtype != t->dtype)
        return cml_fail(&m->err, CML_ERR_INVALID_ARG, "input %zu: expected %s, got %s (bind does "
                        "not convert; cml_method_set_input does where the format allows)", index,
                        cml_dtype_name(t->dtype), cml_dtype_name(in->dtype));
    cml_method_unbind_input(m, index);
    bind(&m->in_bind[index], t, in->data, in->nbytes);
    int64_t numel = 0;
    cml_status st = cml_method_fit_input(m, index, in, false, &numel);
    size_t need = st == CML_OK ? (size_t)numel * cml_dtype_size(t->dtype) : 0;
    if (st == CML_OK && in->nbytes < need)
        st = cml_fail(&m->err, CML_ERR_INVALID_ARG, "input %zu: %zu data bytes for %zu needed",
                      index, in->nbytes, need);
    if (st != CML_OK) {
        cml_method_unbind_input(m, index);
        return st;
    }
    m->input_set[index] = 1;
    return CML_OK;
}

/* An output the method computes into planned or method-owned memory, and
 * only once among the outputs: not an input, a constant or a repeat. */
static cml_status check_output_value(cml_method *m, size_t index) {
    int32_t vi = m->outputs[index];
    const char *why = m->values[vi].kind == CML_VALUE_TENSOR && m->values[vi].u.t->is_const
                          ? "is a constant of the program" : NULL;
    for (uint32_t i = 0; !why && i < m->ninputs; i++)
        if (m->inputs[i] == vi) why = "is also a method input";
    for (uint32_t i = 0; !why && i < m->noutputs; i++)
        if (i != index && m->outputs[i] == vi) why = "is also another output";
    if (why)
        return cml_fail(&m->err, CML_ERR_UNSUPPORTED, "output %zu %s: it cannot be bound",
                        index, why);
    return CML_OK;
}

cml_status cml_method_bind_output(cml_method *m, size_t index, void *data, size_t nbytes) {
    if (!m) return CML_ERR_INVALID_ARG;
    if (index >= m->noutputs)
        return cml_fail(&m->err, CML_ERR_INVALID_ARG, "output index %zu out of range (%u outputs)",
                        index, m->noutputs);
    cml_evalue *v = &m->values[m->outputs[index]];
    if (v->kind == CML_VALUE_TENSOR) unbind(&m->out_bind[index], v->u.t);
    if (!data) return CML_OK; /* unbound */
    CML_TRY(check_target(m, "output", index, v, data));
    CML_TRY(check_output_value(m, index));
    cml_tensor *t = v->u.t;
    if (nbytes < t->capacity)
        return cml_fail(&m->err, CML_ERR_INVALID_ARG, "output %zu: the buffer holds %zu bytes; "
                        "the output needs %zu (its upper bound)", index, nbytes, t->capacity);
    bind(&m->out_bind[index], t, data, nbytes);
    m->executed = false; /* views of the old buffer are stale */
    return CML_OK;
}
