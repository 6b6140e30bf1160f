/*
 * The Core ML delegate's processed blob: an inmemoryfs image (data region,
 * then the index JSON reversed; shared/reference/coreml-delegate.md section
 * 5) of the directory coremltools + executorch's preprocess write:
 *
 *   lowered_module/
 *     debug_info.json
 *     metadata.json                  {"inputNames", "outputNames", "identifier"}
 *     model.mlpackage/
 *       Data/com.apple.CoreML/model.mlmodel
 *       Data/com.apple.CoreML/weights/weight.bin
 *       Manifest.json
 *       executorch_debug_handle_mapping.json
 *
 * Upstream's identifier and Manifest item ids are random uuid4s; here they
 * are derived from a hash of the model bytes, so output is deterministic.
 */
#ifndef CML_LOWER_PAYLOAD_WRITE_H
#define CML_LOWER_PAYLOAD_WRITE_H

#include "core/status.h"
#include "lower/lbuf.h"

typedef struct cml_payload_parts {
    const cml_lbuf *mlmodel;
    const cml_lbuf *weights;
    const char *const *input_names;
    unsigned ninputs;
    const char *const *output_names;
    unsigned noutputs;
    /* debug handles: op output name + MIL op type per converted op, with the
     * ExecuTorch debug handle (instruction index + 1) it came from. */
    const cml_lbuf *debug_map;     /* JSON object body for "mapping" */
    const cml_lbuf *debug_symbols; /* debug_info.json body pieces */
    const cml_lbuf *debug_handles;
} cml_payload_parts;

cml_status cml_payload_write(const cml_payload_parts *parts, cml_lbuf *out, cml_error *err);

#endif
