/* Binding inputs, reading outputs and describing both. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "exec/method_io.h"
#include "kernels/kernels.h"

static cml_status init_input_shapes(cml_method *m);

cml_status cml_method_io_init(cml_method *m) {
    bool preset = m->input_bounds && m->output_bounds;
    m->input_set = cml_calloc(m->allocator, m->ninputs ? m->ninputs : 1, 1);
    if (!preset) {
        m->input_bounds =
            cml_calloc(m->allocator, m->ninputs ? m->ninputs : 1, sizeof *m->input_bounds);
        m->output_bounds =
            cml_calloc(m->allocator, m->noutputs ? m->noutputs : 1, sizeof *m->output_bounds);
    }
    if (!m->input_set || !m->input_bounds || !m->output_bounds)
        return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < m->ninputs; i++) {
        const cml_evalue *v = &m->values[m->inputs[i]];
        if (v->kind == CML_VALUE_TENSOR) {
            if (!preset) memcpy(m->input_bounds[i], v->u.t->sizes, sizeof m->input_bounds[i]);
        } else if (v->kind != CML_VALUE_INT && v->kind != CML_VALUE_DOUBLE &&
                 v->kind != CML_VALUE_BOOL && v->kind != CML_VALUE_NULL)
            return cml_fail(&m->err, CML_ERR_UNSUPPORTED,
                            "input %u is a value of kind %d, which cml cannot bind", i, v->kind);
        /* None inputs need nothing from the caller. */
        if (v->kind == CML_VALUE_NULL) m->input_set[i] = 1;
    }
    m->output_stage = cml_calloc(m->allocator, m->noutputs ? m->noutputs : 1, sizeof(void *));
    if (!m->output_stage) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < m->noutputs; i++) {
        const cml_evalue *v = &m->values[m->outputs[i]];
        if (v->kind != CML_VALUE_TENSOR) continue;
        if (!preset) memcpy(m->output_bounds[i], v->u.t->sizes, sizeof m->output_bounds[i]);
        /* Outputs in a non-default dim order are handed out row-major. */
        if (!cml_tensor_is_contiguous(v->u.t)) {
            m->output_stage[i] = cml_malloc(m->allocator, v->u.t->capacity ? v->u.t->capacity : 1);
            if (!m->output_stage[i]) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
        }
    }
    return init_input_shapes(m);
}

/* The delegate instance and input position of the first DelegateCall that
 * takes method value vi as an input; false when none does. */
static bool delegate_input(const cml_method *m, int32_t vi, const cml_delegate_instance **out,
                           uint32_t *pos) {
    for (uint32_t c = 0; c < m->nchains; c++)
        for (uint32_t i = 0; i < m->chains[c].ninstrs; i++) {
            const cml_exec_instr *in = &m->chains[c].instrs[i];
            if (in->kind != CML_INSTR_DELEGATE_CALL) continue;
            const cml_delegate_instance *d = &m->delegates[in->delegate];
            uint32_t nin = d->backend->input_count ? d->backend->input_count(d->handle) : 0;
            for (uint32_t k = 0; k < nin && k < in->nargs; k++)
                if (in->args[k] == &m->values[vi]) {
                    *out = d;
                    *pos = k;
                    return true;
                }
        }
    return false;
}

/* Ranges / enumerated / default shapes from the delegate input the method
 * input feeds, when its upper bounds are the input's own (same layout). */
static cml_status shape_from_delegate(cml_method *m, uint32_t i, cml_input_shape_store *st) {
    const cml_delegate_instance *d = NULL;
    uint32_t pos = 0;
    if (!delegate_input(m, m->inputs[i], &d, &pos) || !d->backend->input_shape) return CML_OK;
    cml_backend_input_shape bs;
    if (d->backend->input_shape(d->handle, pos, &bs, NULL, 0) != CML_OK || bs.rank != st->rank ||
        memcmp(bs.max, st->max, sizeof(int64_t) * (size_t)st->rank) != 0)
        return CML_OK;
    memcpy(st->min, bs.min, sizeof st->min);
    memcpy(st->def, bs.def, sizeof st->def);
    if (!bs.nenumerated || !st->rank) return CML_OK;
    st->enumerated = cml_calloc(m->allocator, bs.nenumerated, sizeof(int64_t) * (size_t)st->rank);
    if (!st->enumerated) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    size_t n = bs.nenumerated;
    if (d->backend->input_shape(d->handle, pos, &bs, st->enumerated, n) == CML_OK &&
        bs.nenumerated == n)
        st->nenumerated = n;
    return CML_OK;
}

/* Copies between row-major data and a tensor laid out by its dim order. */
static void copy_dim_order(const cml_tensor *t, const void *src, void *dst, bool to_tensor) {
    int64_t ts[CML_MAX_DIMS], rs[CML_MAX_DIMS], s = 1;
    cml_tensor_strides(t, ts);
    for (int32_t d = t->rank - 1; d >= 0; d--) {
        rs[d] = s;
        s *= t->sizes[d];
    }
    cml_k_copy_strided(cml_dtype_size(t->dtype), t->rank, t->sizes, src, to_tensor ? rs : ts, dst,
                       to_tensor ? ts : rs);
}

/* cml_method_input_shape's data: a static input accepts its shape, a
 * dynamic one 0 .. its bound (ExecuTorch records no lower bounds), unless
 * the Core ML delegate it feeds says more. */
static cml_status init_input_shapes(cml_method *m) {
    m->input_shapes = cml_calloc(m->allocator, m->ninputs ? m->ninputs : 1, sizeof *m->input_shapes);
    if (!m->input_shapes) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < m->ninputs; i++) {
        cml_input_shape_store *st = &m->input_shapes[i];
        const cml_evalue *v = &m->values[m->inputs[i]];
        if (v->kind != CML_VALUE_TENSOR) continue;
        const cml_tensor *t = v->u.t;
        st->rank = t->rank;
        memcpy(st->max, m->input_bounds[i], sizeof st->max);
        memcpy(st->def, st->max, sizeof st->def);
        for (int32_t d = 0; d < t->rank; d++)
            st->min[d] = t->dynamism == CML_SHAPE_STATIC ? st->max[d] : 0;
        CML_TRY(shape_from_delegate(m, i, st));
    }
    return CML_OK;
}

/* Argument checks of the query calls, which take a const handle: a failure
 * still leaves its message on the method (its error buffer belongs to the
 * method, which one thread uses at a time). */
static cml_status check_query(const cml_method *m, const char *fn, bool args_ok, size_t index,
                              size_t count, const char *what) {
    cml_error *err = (cml_error *)&m->err;
    if (!args_ok) return cml_fail(err, CML_ERR_INVALID_ARG, "%s: NULL argument", fn);
    if (index >= count)
        return cml_fail(err, CML_ERR_INVALID_ARG, "%s: %s index %zu out of range (%zu %ss)", fn,
                        what, index, count, what);
    return CML_OK;
}

cml_status cml_method_input_shape(const cml_method *m, size_t index, cml_io_shape *shape) {
    if (!m) return CML_ERR_INVALID_ARG;
    CML_TRY(check_query(m, "cml_method_input_shape", shape && m->input_shapes, index, m->ninputs,
                        "input"));
    if (shape->struct_size < sizeof *shape) /* older layouts: none yet */
        return cml_fail((cml_error *)&m->err, CML_ERR_INVALID_ARG, "cml_method_input_shape: "
                        "struct_size %u, expected %zu", shape->struct_size, sizeof *shape);
    const cml_input_shape_store *st = &m->input_shapes[index];
    shape->rank = st->rank;
    shape->min = st->min;
    shape->max = st->max;
    shape->default_sizes = st->def;
    shape->nenumerated = st->nenumerated;
    shape->enumerated = st->enumerated;
    return CML_OK;
}

void cml_method_io_free(cml_method *m) {
    for (uint32_t i = 0; m->input_shapes && i < m->ninputs; i++)
        cml_free(m->allocator, m->input_shapes[i].enumerated);
    cml_free(m->allocator, m->input_shapes);
    m->input_shapes = NULL;
}

size_t cml_method_input_count(const cml_method *m) { return m ? m->ninputs : 0; }
size_t cml_method_output_count(const cml_method *m) { return m ? m->noutputs : 0; }

static void describe_value(const cml_evalue *v, const int64_t *bounds, cml_io_info *info) {
    info->is_tensor = v->kind == CML_VALUE_TENSOR;
    if (info->is_tensor) {
        info->dtype = v->u.t->dtype;
        info->rank = v->u.t->rank;
        info->sizes = bounds;
        return;
    }
    info->rank = 0;
    info->sizes = bounds;
    info->dtype = v->kind == CML_VALUE_DOUBLE ? CML_DTYPE_FLOAT64
                : v->kind == CML_VALUE_BOOL   ? CML_DTYPE_BOOL
                                              : CML_DTYPE_INT64;
}

cml_status cml_method_input_info(const cml_method *m, size_t index, cml_io_info *info) {
    if (!m) return CML_ERR_INVALID_ARG;
    CML_TRY(check_query(m, "cml_method_input_info", info, index, m->ninputs, "input"));
    describe_value(&m->values[m->inputs[index]], m->input_bounds[index], info);
    info->name = m->input_names ? m->input_names[index] : "";
    return CML_OK;
}

cml_status cml_method_output_info(const cml_method *m, size_t index, cml_io_info *info) {
    if (!m) return CML_ERR_INVALID_ARG;
    CML_TRY(check_query(m, "cml_method_output_info", info, index, m->noutputs, "output"));
    describe_value(&m->values[m->outputs[index]], m->output_bounds[index], info);
    info->name = m->output_names ? m->output_names[index] : "";
    return CML_OK;
}

static cml_status set_scalar(cml_method *m, size_t index, cml_evalue *v, const cml_tensor_view *in) {
    if (in->rank > 1 || (in->rank == 1 && in->sizes[0] != 1))
        return cml_fail(&m->err, CML_ERR_SHAPE, "input %zu is a scalar; got a rank-%d tensor",
                        index, in->rank);
    double d = 0;
    if (!in->data || !cml_k_convert(in->dtype, in->data, CML_DTYPE_FLOAT64, &d, 1))
        return cml_fail(&m->err, CML_ERR_INVALID_ARG, "input %zu: cannot read a %s scalar", index,
                        cml_dtype_name(in->dtype));
    if (v->kind == CML_VALUE_INT) v->u.i = (int64_t)d;
    else if (v->kind == CML_VALUE_DOUBLE) v->u.d = d;
    else v->u.b = d != 0;
    return CML_OK;
}

cml_status cml_method_fit_input(cml_method *m, size_t index, const cml_tensor_view *in,
                                bool reserve, int64_t *numel_out) {
    cml_tensor *t = m->values[m->inputs[index]].u.t;
    /* Dynamic inputs may shrink within their bound; rank-0 values may come
     * as [1] and vice versa, as Core ML presents rank-0 as [1]. */
    int64_t numel = 1; /* -1 when a size is negative or the product overflows */
    for (int32_t d = 0; d < in->rank && numel >= 0; d++)
        numel = in->sizes[d] < 0 || (in->sizes[d] && numel > INT64_MAX / in->sizes[d])
                    ? -1 : numel * in->sizes[d];
    bool scalar_alias = (t->rank == 0 && numel == 1 && in->rank <= 1);
    if (!scalar_alias) {
        cml_error sub = {0};
        bool rank_ok = in->rank == t->rank;
        bool bounds_ok = rank_ok;
        for (int32_t d = 0; bounds_ok && d < in->rank; d++)
            bounds_ok = in->sizes[d] >= 0 && in->sizes[d] <= m->input_bounds[index][d] &&
                        (t->dynamism != CML_SHAPE_STATIC || in->sizes[d] == m->input_bounds[index][d]);
        if (bounds_ok && reserve && m->growable_inputs) /* within the bounds: numel * 16 cannot overflow */
            CML_TRY(cml_method_reserve_tensor(m, t, (size_t)numel * cml_dtype_size(t->dtype)));
        if (!bounds_ok || cml_tensor_resize(t, in->rank, in->sizes, &sub) != CML_OK) {
            char want[160], got[160];
            cml_shape_str(t->rank, m->input_bounds[index], want, sizeof want);
            cml_shape_str(in->rank, in->sizes, got, sizeof got);
            return cml_fail(&m->err, CML_ERR_SHAPE, "input %zu: shape %s does not fit %s%s", index,
                            got, t->dynamism == CML_SHAPE_STATIC ? "the declared shape " : "the bound ",
                            want);
        }
    }
    *numel_out = numel;
    return CML_OK;
}

cml_status cml_method_check_input_arg(cml_method *m, size_t index, const cml_tensor_view *in) {
    if (!m || !in) return CML_ERR_INVALID_ARG;
    if (index >= m->ninputs)
        return cml_fail(&m->err, CML_ERR_INVALID_ARG, "input index %zu out of range (%u inputs)",
                        index, m->ninputs);
    if (in->rank < 0 || in->rank > CML_MAX_DIMS || (in->rank && !in->sizes))
        return cml_fail(&m->err, CML_ERR_INVALID_ARG, "input %zu: bad rank %d", index, in->rank);
    return CML_OK;
}

cml_status cml_method_set_input(cml_method *m, size_t index, const cml_tensor_view *in) {
    CML_TRY(cml_method_check_input_arg(m, index, in));
    cml_evalue *v = &m->values[m->inputs[index]];
    if (v->kind != CML_VALUE_TENSOR) {
        CML_TRY(set_scalar(m, index, v, in));
        m->input_set[index] = 1;
        return CML_OK;
    }
    cml_method_unbind_input(m, index); /* a copy ends a zero-copy binding */
    cml_tensor *t = v->u.t;
    bool convert = m->convert_inputs && in->dtype != t->dtype;
    if (in->dtype != t->dtype && !convert)
        return cml_fail(&m->err, CML_ERR_INVALID_ARG, "input %zu: expected %s, got %s", index,
                        cml_dtype_name(t->dtype), cml_dtype_name(in->dtype));
    int64_t numel = 0;
    CML_TRY(cml_method_fit_input(m, index, in, true, &numel));
    size_t need = (size_t)numel * cml_dtype_size(in->dtype);
    if (!in->data || in->nbytes < need)
        return cml_fail(&m->err, CML_ERR_INVALID_ARG, "input %zu: %zu data bytes for %zu needed",
                        index, in->nbytes, need);
    if (convert && !cml_tensor_is_contiguous(t))
        return cml_fail(&m->err, CML_ERR_UNSUPPORTED, "input %zu: converting into a tensor with a "
                        "non-default dim order is not supported", index);
    if (convert) {
        if (!cml_k_convert(in->dtype, in->data, t->dtype, t->data, (size_t)numel))
            return cml_fail(&m->err, CML_ERR_INVALID_ARG, "input %zu: cannot convert %s to %s",
                            index, cml_dtype_name(in->dtype), cml_dtype_name(t->dtype));
    } else if (!cml_tensor_is_contiguous(t)) {
        copy_dim_order(t, in->data, t->data, true);
    } else {
        memcpy(t->data, in->data, need);
    }
    m->input_set[index] = 1;
    return CML_OK;
}

cml_status cml_method_reserve_tensor(cml_method *m, cml_tensor *t, size_t bytes) {
    if (bytes <= t->capacity) return CML_OK;
    if (cml_method_bound_capacity(m, t))
        return cml_fail(&m->err, CML_ERR_SHAPE, "a bound output buffer holds %zu bytes; this "
                        "execute needs %zu", t->capacity, bytes);
    uint32_t k = 0;
    while (k < m->nowned_buffers && m->owned_buffers[k] != t->data) k++;
    if (k == m->nowned_buffers)
        return cml_fail(&m->err, CML_ERR_INTERNAL, "tensor buffer is not owned by the method");
    void *buf = cml_malloc(m->allocator, bytes);
    if (!buf) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory (%zu-byte tensor)", bytes);
    cml_free(m->allocator, t->data);
    m->owned_buffers[k] = buf;
    t->data = buf;
    t->capacity = bytes;
    return CML_OK;
}

cml_status cml_method_output(const cml_method *m, size_t index, cml_tensor_view *view) {
    if (!m) return CML_ERR_INVALID_ARG;
    CML_TRY(check_query(m, "cml_method_output", view, index, m->noutputs, "output"));
    if (!m->executed)
        return cml_fail((cml_error *)&m->err, CML_ERR_STATE, "cml_method_output: no outputs: the "
                        "method has not executed successfully since it was created or an output "
                        "was bound");
    cml_evalue *v = &m->values[m->outputs[index]];
    switch (v->kind) {
    case CML_VALUE_TENSOR:
        view->dtype = v->u.t->dtype;
        view->rank = v->u.t->rank;
        view->sizes = v->u.t->sizes;
        view->data = v->u.t->data;
        view->nbytes = cml_tensor_nbytes(v->u.t);
        if (m->output_stage[index]) { /* non-default dim order: row-major copy */
            copy_dim_order(v->u.t, v->u.t->data, m->output_stage[index], false);
            view->data = m->output_stage[index];
        }
        return CML_OK;
    case CML_VALUE_INT:
        *view = (cml_tensor_view){CML_DTYPE_INT64, 0, NULL, &v->u.i, sizeof v->u.i};
        return CML_OK;
    case CML_VALUE_DOUBLE:
        *view = (cml_tensor_view){CML_DTYPE_FLOAT64, 0, NULL, &v->u.d, sizeof v->u.d};
        return CML_OK;
    case CML_VALUE_BOOL:
        *view = (cml_tensor_view){CML_DTYPE_BOOL, 0, NULL, &v->u.b, sizeof v->u.b};
        return CML_OK;
    default:
        return CML_ERR_UNSUPPORTED;
    }
}

size_t cml_method_delegate_count(const cml_method *m) { return m ? m->ndelegates : 0; }

cml_status cml_method_delegate_describe(const cml_method *m, size_t index, char *buf, size_t size) {
    if (!m) return CML_ERR_INVALID_ARG;
    CML_TRY(check_query(m, "cml_method_delegate_describe", buf && size, index, m->ndelegates,
                        "delegate"));
    const cml_delegate_instance *d = &m->delegates[index];
    /* Backends describe themselves to a stream; a memory stream keeps the
     * backend interface simple. */
    FILE *f = fmemopen(buf, size, "w");
    if (!f) return CML_ERR_NOMEM;
    if (d->backend->describe)
        d->backend->describe(d->handle, f);
    else
        fputs(d->backend->id, f);
    fclose(f);
    buf[size - 1] = '\0';
    return CML_OK;
}
