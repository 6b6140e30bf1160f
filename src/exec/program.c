/* Public program API: open a .pte (mapped or in memory) or an .mlpackage
 * directory, list methods. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "exec/internal.h"
#include "platform/file.h"

static void copy_errbuf(char *errbuf, size_t size, const cml_error *err) {
    if (errbuf && size) snprintf(errbuf, size, "%s", err->msg);
}

static cml_status program_alloc(const cml_program_params *params, cml_program **out) {
    const cml_allocator *a = NULL;
    if (CML_PARAMS_HAVE(params, cml_program_params, allocator)) a = params->allocator;
    cml_program *p = cml_calloc(a, 1, sizeof *p);
    if (!p) return CML_ERR_NOMEM;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        cml_free(a, p);
        return CML_ERR_NOMEM;
    }
    if (a) {
        p->allocator_copy = *a;
        p->allocator = &p->allocator_copy;
    }
    if (CML_PARAMS_HAVE(params, cml_program_params, memory_budget))
        p->memory_budget = params->memory_budget;
    if (CML_PARAMS_HAVE(params, cml_program_params, flags)) p->flags = params->flags;
    if (CML_PARAMS_HAVE(params, cml_program_params, log_level)) {
        p->log.fn = params->log;
        p->log.user = params->log_user;
        p->log.min = params->log_level;
    }
    *out = p;
    return CML_OK;
}

/* The default memory budget: max(512 MiB, 64 x the file's bytes), capped by
 * physical memory; an explicit budget stands as given. */
static void resolve_budget(cml_program *p, uint64_t file_bytes) {
    if (p->memory_budget) return;
    uint64_t b = file_bytes > UINT64_MAX / 64 ? UINT64_MAX : file_bytes * 64;
    if (b < ((uint64_t)512 << 20)) b = (uint64_t)512 << 20;
    uint64_t phys = cml_platform_memory_bytes();
    if (phys && b > phys) b = phys;
    p->memory_budget = b;
}

/* Maps the file, or reads it into memory with CML_PROGRAM_READ_FILE. */
static cml_status load_pte_file(cml_program *p, const char *path, const uint8_t **data,
                                size_t *size, cml_error *err) {
    if (p->flags & CML_PROGRAM_READ_FILE) {
        CML_TRY(cml_file_read(path, p->allocator, &p->owned_copy, size, err));
        *data = p->owned_copy;
    } else {
        CML_TRY(cml_file_map(path, &p->file, err));
        *data = p->file.data;
        *size = p->file.size;
    }
    if (*size == 0) return cml_fail(err, CML_ERR_CORRUPT, "%s: the file is empty", path);
    return CML_OK;
}

/* Implemented by the Core ML layer; opens an .mlpackage directory. */
cml_status cml_mlpackage_program_open(cml_program *program, const char *path, cml_error *err);
void cml_mlpackage_program_close(cml_program *program);
cml_status cml_mlmodel_file_hint(const uint8_t *data, size_t size, const char *path,
                                 cml_error *err);
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
        resolve_budget(p, UINT64_MAX); /* weights are not counted: physical memory */
    } else {
        p->kind = CML_PROGRAM_PTE;
        const uint8_t *data = NULL;
        size_t size = 0;
        st = load_pte_file(p, path, &data, &size, &err); /* messages name the path */
        if (st == CML_OK) st = cml_mlmodel_file_hint(data, size, path, &err);
        if (st == CML_OK) {
            st = cml_pte_parse(data, size, p->allocator, &p->pte, &err);
            if (st != CML_OK) cml_error_prefix_path(&err, path);
            resolve_budget(p, size);
        }
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
    cml_status st = size ? cml_pte_parse(bytes, size, p->allocator, &p->pte, &err)
                         : cml_fail(&err, CML_ERR_CORRUPT, "the program is empty (0 bytes)");
    resolve_budget(p, size);
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
    pthread_mutex_destroy(&program->lock);
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
