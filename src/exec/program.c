/* Public program API: open a .pte (mapped or in memory) or an .mlpackage
 * directory, list methods. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "exec/internal.h"

static void copy_errbuf(char *errbuf, size_t size, const cml_error *err) {
    if (errbuf && size) snprintf(errbuf, size, "%s", err->msg);
}

static cml_status program_alloc(const cml_program_params *params, cml_program **out) {
    const cml_allocator *a = NULL;
    if (params && params->struct_size >= sizeof *params && params->allocator)
        a = params->allocator;
    cml_program *p = cml_calloc(a, 1, sizeof *p);
    if (!p) return CML_ERR_NOMEM;
    if (a) {
        p->allocator_copy = *a;
        p->allocator = &p->allocator_copy;
    }
    *out = p;
    return CML_OK;
}

/* Implemented by the Core ML layer; opens an .mlpackage directory. */
cml_status cml_mlpackage_program_open(cml_program *program, const char *path, cml_error *err);
void cml_mlpackage_program_close(cml_program *program);
size_t cml_mlpackage_method_count(const cml_program *program);
const char *cml_mlpackage_method_name(const cml_program *program, size_t index);

cml_status cml_program_open_file(const char *path, const cml_program_params *params,
                                 cml_program **out, char *errbuf, size_t errbuf_size) {
    cml_error err = {0};
    if (!out || !path) {
        cml_fail(&err, CML_ERR_INVALID_ARG, "path and out must not be NULL");
        copy_errbuf(errbuf, errbuf_size, &err);
        return CML_ERR_INVALID_ARG;
    }
    *out = NULL;
    cml_program *p = NULL;
    if (program_alloc(params, &p) != CML_OK) {
        cml_fail(&err, CML_ERR_NOMEM, "out of memory");
        copy_errbuf(errbuf, errbuf_size, &err);
        return CML_ERR_NOMEM;
    }
    cml_status st;
    if (cml_path_is_dir(path)) {
        p->kind = CML_PROGRAM_MLPACKAGE;
        st = cml_mlpackage_program_open(p, path, &err);
    } else {
        p->kind = CML_PROGRAM_PTE;
        st = cml_file_map(path, &p->file, &err);
        if (st == CML_OK)
            st = cml_pte_parse(p->file.data, p->file.size, p->allocator, &p->pte, &err);
        if (st != CML_OK) cml_error_prefix(&err, "%s: ", path);
    }
    if (st != CML_OK) {
        copy_errbuf(errbuf, errbuf_size, &err);
        cml_program_close(p);
        return st;
    }
    *out = p;
    return CML_OK;
}

cml_status cml_program_open_memory(const void *data, size_t size, const cml_program_params *params,
                                   cml_program **out, char *errbuf, size_t errbuf_size) {
    cml_error err = {0};
    if (!out || (!data && size)) {
        cml_fail(&err, CML_ERR_INVALID_ARG, "data and out must not be NULL");
        copy_errbuf(errbuf, errbuf_size, &err);
        return CML_ERR_INVALID_ARG;
    }
    *out = NULL;
    cml_program *p = NULL;
    if (program_alloc(params, &p) != CML_OK) {
        cml_fail(&err, CML_ERR_NOMEM, "out of memory");
        copy_errbuf(errbuf, errbuf_size, &err);
        return CML_ERR_NOMEM;
    }
    p->kind = CML_PROGRAM_PTE;
    const uint8_t *bytes = data;
    /* The flatbuffer's alignment rules are relative to its start, which
     * therefore has to be 16-aligned in memory. */
    if (((uintptr_t)bytes & 15u) != 0) {
        p->owned_copy = cml_malloc(p->allocator, size);
        if (!p->owned_copy) {
            cml_fail(&err, CML_ERR_NOMEM, "out of memory copying %zu bytes", size);
            copy_errbuf(errbuf, errbuf_size, &err);
            cml_program_close(p);
            return CML_ERR_NOMEM;
        }
        memcpy(p->owned_copy, bytes, size);
        bytes = p->owned_copy;
    }
    cml_status st = cml_pte_parse(bytes, size, p->allocator, &p->pte, &err);
    if (st != CML_OK) {
        copy_errbuf(errbuf, errbuf_size, &err);
        cml_program_close(p);
        return st;
    }
    *out = p;
    return CML_OK;
}

void cml_program_close(cml_program *program) {
    if (!program) return;
    if (program->kind == CML_PROGRAM_MLPACKAGE) cml_mlpackage_program_close(program);
    cml_pte_free(&program->pte);
    cml_file_unmap(&program->file);
    const cml_allocator *a = program->allocator;
    cml_free(a, program->owned_copy);
    cml_free(a, program->path);
    cml_free(a, program);
}

const char *cml_program_errmsg(const cml_program *program) {
    return program ? program->err.msg : "program is NULL";
}

size_t cml_program_method_count(const cml_program *program) {
    if (!program) return 0;
    if (program->kind == CML_PROGRAM_MLPACKAGE) return cml_mlpackage_method_count(program);
    return program->pte.nplans;
}

const char *cml_program_method_name(const cml_program *program, size_t index) {
    if (!program || index >= cml_program_method_count(program)) return NULL;
    if (program->kind == CML_PROGRAM_MLPACKAGE) return cml_mlpackage_method_name(program, index);
    return program->pte.plans[index].name.ptr;
}
