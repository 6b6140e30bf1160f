/*
 * Delegate backends, keyed by BackendDelegate.id. The table is static
 * (no global registration state): see backend_registry.c.
 *
 * Contract (mirrors ExecuTorch's BackendInterface):
 *   is_available: whether this build/machine can run the backend.
 *   init:         parses and verifies `processed` (the delegate blob, which
 *                 stays valid for the program's lifetime), compiles it, and
 *                 returns a handle. All allocation happens here.
 *   execute:      args = delegate inputs then outputs (DelegateCall.args).
 *                 Writes the outputs, resizing dynamic ones. No allocation.
 *   reset_state:  zero-fills backend-owned state (may be NULL).
 *   describe:     one-line summary for `cml inspect` (may be NULL).
 *   destroy:      frees the handle (NULL-safe).
 *   input_count:  number of leading args that are inputs (may be NULL).
 *   input_shape:  ranges / enumerated / default shape of an input (may be NULL).
 *   arg_name:     the name the delegate gives DelegateCall arg `index`
 *                 (inputs, then outputs), or NULL (may be NULL).
 *   profile_prepare: called when profiling is enabled (may be NULL): sets
 *                 *nops to the number of events one execute of the
 *                 delegate records at most when nothing repeats, and may
 *                 allocate what per-op events need (debug handles).
 */
#ifndef CML_EXEC_BACKEND_H
#define CML_EXEC_BACKEND_H

#include <stdbool.h>
#include <stdio.h>

#include "core/log.h"
#include "exec/op.h"
#include "pte/pte.h"

typedef struct cml_backend_init_ctx {
    const cml_allocator *allocator;
    cml_error *err;
    const cml_pte_program *program;   /* for named data (multifunction payloads) */
    const char *method_name;
    cml_compute_units compute_units;  /* runtime override; DEFAULT = use the spec */
    uint32_t max_steps;               /* cml_method_params.max_steps (0: default) */
    cml_threadpool *pool;
    const cml_logger *log;            /* the program's log channel (may be NULL) */
    uint64_t memory_budget;           /* bytes the delegate may plan; 0: no limit */
} cml_backend_init_ctx;

/* The shapes a delegate input accepts (cml_io_shape's source). */
typedef struct cml_backend_input_shape {
    int32_t rank;
    int64_t min[CML_MAX_DIMS], max[CML_MAX_DIMS], def[CML_MAX_DIMS];
    size_t nenumerated;        /* > 0: only these shapes (written to `enumerated`) */
} cml_backend_input_shape;

typedef struct cml_backend {
    const char *id;
    bool (*is_available)(void);
    cml_status (*init)(const cml_backend_init_ctx *ctx, const uint8_t *processed, size_t size,
                       const cml_pte_compile_spec *specs, uint32_t nspecs, void **handle);
    cml_status (*execute)(void *handle, cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs);
    cml_status (*reset_state)(void *handle);
    void (*describe)(void *handle, FILE *out);
    void (*destroy)(void *handle);
    /* Optional: how many leading DelegateCall args are inputs (the rest are
     * outputs the backend writes). Lets method load tell which planned
     * tensors are written before anything reads them (method.c). */
    uint32_t (*input_count)(const void *handle);
    /* Optional: the accepted shapes of input `index` (< input_count). Up to
     * `cap` enumerated shapes are copied to enumerated (rank entries each);
     * out->nenumerated is their total, so a first call with cap 0 sizes the
     * buffer. */
    cml_status (*input_shape)(const void *handle, uint32_t index, cml_backend_input_shape *out,
                              int64_t *enumerated, size_t cap);
    /* Optional: the payload's own name for DelegateCall arg `index` (the
     * Core ML feature name), or NULL when it has none. Valid while the
     * handle lives. */
    const char *(*arg_name)(const void *handle, uint32_t index);
    cml_status (*profile_prepare)(void *handle, uint32_t *nops);
} cml_backend;

const cml_backend *cml_backend_find(const char *id, size_t len);

#endif
