/*
 * The CoreMLBackend delegate (mil_backend.c) and the entry points the
 * standalone .mlpackage front end (mil_standalone.c) shares with it: one
 * executor handle = a compiled ML Program function plus its I/O binding.
 */
#ifndef CML_COREML_MIL_BACKEND_H
#define CML_COREML_MIL_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "cml.h"
#include "core/status.h"
#include "core/threadpool.h"
#include "coreml/mlpackage.h"
#include "exec/backend.h"
#include "mil/mil.h"

extern const cml_backend cml_coreml_backend;

/* One model input or output as the caller sees it. */
typedef struct cml_coreml_io_desc {
    const char *name;
    cml_dtype dtype;           /* description dtype: FLOAT16 for fp16 arrays */
    int32_t rank;
    const int64_t *bound;      /* declared upper bounds (rank entries) */
    const int64_t *planned;    /* the shape memory is planned for now: the default
                                  shape until other input shapes are bound */
    bool dynamic;              /* range or enumerated shapes */
} cml_coreml_io_desc;

/**
 * Creates an executor handle for function `function` (NULL: the default) of
 * an open package, with the description inputs and outputs in order (the
 * package must outlive the handle). units is the resolved compute units
 * (CML_COMPUTE_DEFAULT = all). budget bounds the activation arena and
 * scratch (0: none). Free with cml_coreml_backend.destroy.
 */
cml_status cml_coreml_open_function(cml_mlpackage *pkg, const char *function,
                                    const cml_allocator *allocator, cml_compute_units units,
                                    cml_threadpool *pool, const cml_logger *log, uint64_t budget,
                                    void **handle, cml_error *err);

/* Iterations one while_loop run may take (cml_method_params.max_steps; 0:
 * the default). */
void cml_coreml_set_max_steps(void *handle, uint32_t max_steps);

uint32_t cml_coreml_input_count(const void *handle);
uint32_t cml_coreml_output_count(const void *handle);
cml_status cml_coreml_io(const void *handle, bool output, uint32_t index, cml_coreml_io_desc *out);

/* Re-plans memory when the input shapes in args (delegate inputs first)
 * differ from the planned ones, as execute does first; afterwards
 * cml_coreml_io's `planned` gives the output bounds for those shapes.
 * Allocates only when shapes changed. */
cml_status cml_coreml_prepare(void *handle, cml_evalue **args, uint32_t nargs, cml_error *err);

/* The compiled graph (tests, inspect). */
const cml_mil_graph *cml_coreml_graph(const void *handle);

/* Compute-unit names as in the compile spec ("all", "cpu_only", ...). */
const char *cml_coreml_units_name(cml_compute_units units);

#endif
