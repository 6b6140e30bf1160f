/* Method I/O names and lookups by name (cml_method_input_index /
 * cml_method_output_index). A .pte carries no I/O names of its own, so a
 * method input or output that is a Core ML delegate's input or output takes
 * that feature's name (what coremltools and Core ML call it), and any other
 * takes "input_<i>" / "output_<i>". */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "exec/method_io.h"

#define POSITIONAL_MAX 4096 /* more I/Os than this: positional names only */

/* The name delegate calls give method value `vi` as an input (outputs:
 * as an output), or NULL. */
static const char *delegate_name(const cml_method *m, int32_t vi, bool output) {
    for (uint32_t c = 0; c < m->nchains; c++)
        for (uint32_t i = 0; i < m->chains[c].ninstrs; i++) {
            const cml_exec_instr *in = &m->chains[c].instrs[i];
            if (in->kind != CML_INSTR_DELEGATE_CALL) continue;
            const cml_delegate_instance *d = &m->delegates[in->delegate];
            if (!d->backend->arg_name || !d->backend->input_count) continue;
            uint32_t nin = d->backend->input_count(d->handle);
            uint32_t k = output ? nin : 0, end = output ? in->nargs : nin;
            for (; k < end && k < in->nargs; k++)
                if (in->args[k] == &m->values[vi]) return d->backend->arg_name(d->handle, k);
        }
    return NULL;
}

static bool taken(const char *const *names, uint32_t n, const char *name) {
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return true;
    return false;
}

/* Fills names[0..n) for values ids[]: a delegate's name (it lives as long
 * as the method's delegate handles), else the positional one written to
 * its 24-byte slot of `text`. */
static void name_list(const cml_method *m, const int32_t *ids, uint32_t n, bool output,
                      const char **names, char (*text)[24]) {
    for (uint32_t i = 0; i < n; i++) {
        snprintf(text[i], sizeof text[i], "%s_%u", output ? "output" : "input", i);
        const char *d = n <= POSITIONAL_MAX ? delegate_name(m, ids[i], output) : NULL;
        names[i] = d && *d && !taken(names, i, d) ? d : text[i];
    }
}

cml_status cml_method_names_init(cml_method *m) {
    if (m->input_names || m->output_names) return CML_OK;
    size_t n = (size_t)m->ninputs + m->noutputs;
    size_t slot = sizeof(const char *) + 24;
    const char **names = cml_malloc(m->allocator, n ? n * slot : 1);
    if (!names) return cml_fail(&m->err, CML_ERR_NOMEM, "out of memory");
    char (*text)[24] = (char (*)[24])(void *)(names + n);
    name_list(m, m->inputs, m->ninputs, false, names, text);
    name_list(m, m->outputs, m->noutputs, true, names + m->ninputs, text + m->ninputs);
    m->io_names = names;
    m->input_names = names;
    m->output_names = names + m->ninputs;
    return CML_OK;
}

void cml_method_names_free(cml_method *m) {
    if (!m->io_names) return;
    cml_free(m->allocator, m->io_names);
    m->io_names = NULL;
    m->input_names = m->output_names = NULL;
}

static cml_status find(const cml_method *m, bool output, const char *name, size_t *index) {
    cml_error *err = (cml_error *)&m->err; /* the method's own buffer (method_io.c) */
    const char *fn = output ? "cml_method_output_index" : "cml_method_input_index";
    if (!name || !index) return cml_fail(err, CML_ERR_INVALID_ARG, "%s: NULL argument", fn);
    const char *const *names = output ? m->output_names : m->input_names;
    uint32_t n = output ? m->noutputs : m->ninputs;
    for (uint32_t i = 0; names && i < n; i++)
        if (strcmp(names[i], name) == 0) {
            *index = i;
            return CML_OK;
        }
    return cml_fail(err, CML_ERR_NOT_FOUND, "%s: no %s is named '%.100s'", fn,
                    output ? "output" : "input", name);
}

cml_status cml_method_input_index(const cml_method *m, const char *name, size_t *index) {
    return m ? find(m, false, name, index) : CML_ERR_INVALID_ARG;
}

cml_status cml_method_output_index(const cml_method *m, const char *name, size_t *index) {
    return m ? find(m, true, name, index) : CML_ERR_INVALID_ARG;
}
