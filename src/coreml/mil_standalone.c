/*
 * Standalone .mlpackage programs: `cml run model.mlpackage`. The program is
 * the opened package; its methods are the ML Program's functions. A method
 * is the same executor the CoreMLBackend delegate uses, wrapped as one
 * DelegateCall over [inputs..., outputs...] whose values are method-owned
 * tensors sized for the shapes in use (flexible inputs start at their
 * default shape and grow on demand; cml_io_info reports the upper bounds). Inputs are converted to the
 * declared dtype as MLModel.predict does (float32 feeds fp16, int64 feeds
 * int32); outputs come out in the declared dtype; states start zeroed.
 */
#include <string.h>

#include "core/alloc.h"
#include "coreml/mil_backend.h"
#include "coreml/pbwire.h"
#include "exec/internal.h"
#include "exec/method_io.h"

typedef struct standalone_program {
    cml_mlpackage pkg;
    const char **names;     /* function names, program order */
    uint32_t nnames;
} standalone_program;

typedef struct standalone_method {
    int32_t *io;            /* value indices: inputs then outputs */
    const char **names;     /* input names then output names */
} standalone_method;

cml_status cml_mlpackage_program_open(cml_program *program, const char *path, cml_error *err) {
    const cml_allocator *a = program->allocator;
    standalone_program *sp = cml_calloc(a, 1, sizeof *sp);
    program->path = cml_strndup(a, path, strlen(path));
    if (!sp || !program->path) {
        cml_free(a, sp);
        return cml_fail(err, CML_ERR_NOMEM, "out of memory");
    }
    program->mlpackage = sp;
    cml_status st = cml_mlpackage_open_dir(path, a, &sp->pkg, err);
    if (st != CML_OK) {
        cml_error_prefix_path(err, path);
        return st;
    }
    const cml_pb_program *prog = sp->pkg.program;
    sp->names = cml_calloc(a, prog->n_functions ? prog->n_functions : 1, sizeof *sp->names);
    if (!sp->names) return cml_fail(err, CML_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < prog->n_functions; i++)
        if (prog->functions[i] && prog->functions[i]->key)
            sp->names[sp->nnames++] = prog->functions[i]->key;
    return CML_OK;
}

void cml_mlpackage_program_close(cml_program *program) {
    standalone_program *sp = program ? program->mlpackage : NULL;
    if (!sp) return;
    cml_mlpackage_close(&sp->pkg);
    cml_free(program->allocator, sp->names);
    cml_free(program->allocator, sp);
    program->mlpackage = NULL;
}

size_t cml_mlpackage_method_count(const cml_program *program) {
    const standalone_program *sp = program ? program->mlpackage : NULL;
    return sp ? sp->nnames : 0;
}

const char *cml_mlpackage_method_name(const cml_program *program, size_t index) {
    const standalone_program *sp = program ? program->mlpackage : NULL;
    return sp && index < sp->nnames ? sp->names[index] : NULL;
}

static void standalone_free(cml_method *m) {
    standalone_method *sm = m->mlpackage_state;
    if (!sm) return;
    cml_free(m->allocator, sm->io);
    cml_free(m->allocator, sm->names);
    cml_free(m->allocator, sm);
    m->mlpackage_state = NULL;
}

/* Bytes of a `rank`-dim tensor of dtype with the given sizes (bounded by
 * the graph's own checked capacities). */
static size_t tensor_bytes(cml_dtype dtype, int32_t rank, const int64_t *sizes) {
    size_t bytes = cml_dtype_size(dtype);
    for (int32_t k = 0; k < rank; k++) bytes *= (size_t)sizes[k];
    return bytes;
}

/* A method-owned I/O tensor sized for the shape planned now (the default
 * shape of a flexible input), not its upper bound: set_input and
 * prepare_shapes grow it when bigger shapes come. */
static cml_status make_tensor(cml_method *m, const cml_coreml_io_desc *d, cml_tensor *t) {
    t->dtype = d->dtype;
    t->rank = d->rank;
    for (int32_t k = 0; k < d->rank; k++) {
        t->sizes[k] = d->planned[k];
        t->dim_order[k] = (uint8_t)k;
    }
    t->dynamism = d->dynamic ? CML_SHAPE_DYNAMIC_BOUND : CML_SHAPE_STATIC;
    t->capacity = tensor_bytes(d->dtype, d->rank, d->planned);
    void *buf = cml_calloc(m->allocator, 1, t->capacity ? t->capacity : 1);
    if (!buf)
        return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory (%zu-byte tensor)", t->capacity);
    m->owned_buffers[m->nowned_buffers++] = buf;
    t->data = buf;
    return CML_OK;
}

/* before_execute: re-plans for new input shapes, then gives every output
 * room for its new bound. Nothing happens (or is allocated) when the
 * shapes are the planned ones. */
static cml_status prepare_shapes(cml_method *m) {
    void *h = m->delegates[0].handle;
    cml_exec_instr *in = &m->chains[0].instrs[0];
    CML_TRY(cml_coreml_prepare(h, in->args, in->nargs, &m->err));
    for (uint32_t i = 0; i < m->noutputs; i++) {
        cml_coreml_io_desc d;
        if (cml_coreml_io(h, true, i, &d) != CML_OK)
            return cml_fail(&m->err, CML_ERR_INTERNAL, "output %u is missing", i);
        CML_TRY(cml_method_reserve_tensor(m, &m->tensors[m->outputs[i]],
                                          tensor_bytes(d.dtype, d.rank, d.planned)));
    }
    return CML_OK;
}

/* cml_io_info reports the declared upper bounds, not the planned shapes. */
static cml_status record_bounds(cml_method *m, void *h) {
    m->input_bounds = cml_calloc(m->allocator, m->ninputs ? m->ninputs : 1, sizeof *m->input_bounds);
    m->output_bounds =
        cml_calloc(m->allocator, m->noutputs ? m->noutputs : 1, sizeof *m->output_bounds);
    if (!m->input_bounds || !m->output_bounds) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    for (uint32_t k = 0; k < m->ninputs + m->noutputs; k++) {
        bool output = k >= m->ninputs;
        uint32_t i = output ? k - m->ninputs : k;
        cml_coreml_io_desc d;
        if (cml_coreml_io(h, output, i, &d) != CML_OK)
            return cml_fail(&m->err, CML_ERR_INTERNAL, "I/O %u is missing", k);
        memcpy(output ? m->output_bounds[i] : m->input_bounds[i], d.bound,
               sizeof(int64_t) * (size_t)d.rank);
    }
    return CML_OK;
}

cml_status cml_mlpackage_method_setup(cml_method *m, const char *function,
                                      const cml_method_params *params) {
    standalone_program *sp = m->program->mlpackage;
    const cml_allocator *a = m->allocator;
    if (!sp) return cml_fail(&m->err, CML_ERR_STATE, "the package is not open");
    m->delegates = cml_calloc(a, 1, sizeof *m->delegates);
    if (!m->delegates) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    void *h = NULL;
    CML_TRY(cml_coreml_open_function(&sp->pkg, function, a,
                                     params ? params->compute_units : CML_COMPUTE_DEFAULT, m->pool,
                                     &m->program->log, m->program->memory_budget, &h, &m->err));
    cml_coreml_set_max_steps(h, params ? params->max_steps : 0);
    m->delegates[0].backend = &cml_coreml_backend;
    m->delegates[0].handle = h;
    m->ndelegates = 1;

    uint32_t nin = cml_coreml_input_count(h), nout = cml_coreml_output_count(h);
    uint32_t n = nin + nout;
    standalone_method *sm = cml_calloc(a, 1, sizeof *sm);
    if (!sm) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    m->mlpackage_state = sm;
    m->mlpackage_free = standalone_free;
    sm->io = cml_calloc(a, n ? n : 1, sizeof *sm->io);
    sm->names = cml_calloc(a, n ? n : 1, sizeof *sm->names);
    m->nvalues = n;
    m->values = cml_calloc(a, n ? n : 1, sizeof *m->values);
    m->tensors = cml_calloc(a, n ? n : 1, sizeof *m->tensors);
    m->owned_buffers = cml_calloc(a, n ? n : 1, sizeof *m->owned_buffers);
    m->chains = cml_calloc(a, 1, sizeof *m->chains);
    if (!sm->io || !sm->names || !m->values || !m->tensors || !m->owned_buffers || !m->chains)
        return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    m->nchains = 1;
    m->chains[0].instrs = cml_calloc(a, 1, sizeof *m->chains[0].instrs);
    if (!m->chains[0].instrs) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    m->chains[0].ninstrs = 1;
    cml_exec_instr *in = &m->chains[0].instrs[0];
    in->kind = CML_INSTR_DELEGATE_CALL;
    in->delegate = 0;
    in->args = cml_calloc(a, n ? n : 1, sizeof *in->args);
    if (!in->args) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    in->nargs = n;

    for (uint32_t k = 0; k < n; k++) {
        bool output = k >= nin;
        cml_coreml_io_desc d;
        if (cml_coreml_io(h, output, output ? k - nin : k, &d) != CML_OK)
            return cml_fail(&m->err, CML_ERR_INTERNAL, "I/O %u is missing", k);
        m->values[k].kind = CML_VALUE_TENSOR;
        m->values[k].u.t = &m->tensors[k];
        CML_TRY(make_tensor(m, &d, &m->tensors[k]));
        in->args[k] = &m->values[k];
        sm->io[k] = (int32_t)k;
        sm->names[k] = d.name;
    }
    m->inputs = sm->io;
    m->ninputs = nin;
    m->outputs = sm->io + nin;
    m->noutputs = nout;
    m->input_names = sm->names;
    m->output_names = sm->names + nin;
    m->convert_inputs = true;
    m->growable_inputs = true;
    m->before_execute = prepare_shapes;
    return record_bounds(m, h);
}

/* A bare model.mlmodel given where a .pte was expected: name what it is
 * (the protobuf's Model.Type field) instead of a FlatBuffers error. */
cml_status cml_mlmodel_file_hint(const uint8_t *data, size_t size, const char *path,
                                 cml_error *err) {
    if (size >= 8 && memcmp(data + 4, "ET", 2) == 0) return CML_OK; /* a .pte of some version */
    uint32_t field = cml_pb_find_field(data, size, 200, 3000);
    if (field == 502)
        return cml_fail(err, CML_ERR_UNSUPPORTED, "%s: a bare ML Program model.mlmodel; its "
                        "weights live beside it, so open the .mlpackage directory instead", path);
    const char *name = cml_mlmodel_type_name(field);
    if (name)
        return cml_fail(err, CML_ERR_UNSUPPORTED, "%s: a Core ML %s model (.mlmodel, Model field "
                        "%u), not an ML Program: cml runs ML Programs (.mlpackage) and .pte "
                        "programs; convert it with coremltools (convert_to=\"mlprogram\")",
                        path, name, field);
    return CML_OK;
}
