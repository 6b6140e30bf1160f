/*
 * The optional debug_info.json of a Core ML delegate payload (written by the
 * upstream AOT step when coremltools produced a debug-handle mapping): it
 * maps each ML Program operation, named by its debug symbol
 * "<first output name>:<op type>", to the ExecuTorch debug handles of the
 * graph nodes it came from. cml uses it only for profiling events.
 */
#ifndef CML_COREML_DEBUG_INFO_H
#define CML_COREML_DEBUG_INFO_H

#include <stdint.h>

#include "cml.h"
#include "core/status.h"
#include "coreml/inmemoryfs.h"
#include "mil/mil.h"

/**
 * One debug handle per node of g's main block (the first one listed for the
 * node's symbol, -1 when none), into *out (g->main.nnodes entries, freed
 * with allocator). fs may be NULL. A payload without debug_info.json, or
 * with one that is not the expected JSON, gives all -1: this data is never
 * an error. Fails only with CML_ERR_NOMEM.
 */
cml_status cml_coreml_debug_handles(const cml_imfs *fs, const cml_mil_graph *g,
                                    const cml_allocator *allocator, int64_t **out,
                                    cml_error *err);

#endif
