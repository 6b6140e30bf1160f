/*
 * A CoreMLBackend delegate payload, resolved end to end: `processed` bytes
 * (or the named-data image a CMJR reference points at) -> inmemoryfs image ->
 * metadata.json + model.mlpackage -> decoded ML Program, with the function
 * and the delegate I/O lists for one ExecuTorch method selected and
 * cross-checked against the model description.
 *
 * A "model.mlmodelc" directory (compiled on macOS, model_type=compiled_model)
 * is detected first, as upstream does, and refused with CML_ERR_UNSUPPORTED.
 */
#ifndef CML_COREML_PAYLOAD_H
#define CML_COREML_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cml.h"
#include "core/status.h"
#include "coreml/inmemoryfs.h"
#include "coreml/metadata.h"
#include "coreml/mlpackage.h"
#include "pte/pte.h"

#define CML_COREML_BACKEND_ID "CoreMLBackend"

typedef struct cml_coreml_payload {
    bool is_reference;                  /* processed was a CMJR reference */
    cml_cmjr_ref ref;                   /* when is_reference */
    const uint8_t *image;               /* the inmemoryfs bytes */
    size_t image_size;
    cml_imfs fs;
    cml_coreml_metadata metadata;
    const cml_coreml_method_io *io;     /* delegate args: io->ninputs + io->noutputs */
    cml_mlpackage package;
    const char *function_name;          /* ML Program function to run */
    const cml_pb_function *function;
    cml_mlmodel_io interface;           /* description of that function */
} cml_coreml_payload;

/**
 * Resolves the image bytes of a delegate: processed itself, or, for a CMJR
 * reference, program->named_data[key] (program may be NULL only for
 * non-reference payloads). ref (may be NULL) receives the parsed reference
 * when there is one (free with cml_cmjr_free; zeroed otherwise).
 * @return CML_OK, CML_ERR_CORRUPT (bad reference, missing named data).
 */
cml_status cml_coreml_payload_resolve(const cml_pte_program *program, const uint8_t *processed,
                                      size_t size, const cml_allocator *allocator,
                                      const uint8_t **image, size_t *image_size,
                                      cml_cmjr_ref *ref, cml_error *err);

/**
 * Opens a delegate payload for ExecuTorch method `method` (NULL: the only
 * one). Function: the CMJR functionName, else the metadata method name for a
 * multifunction payload, else the model's default function. Checks that the
 * metadata input/output names are exactly the function's description
 * inputs/outputs (as sets, equal counts), and that inputNames is empty only
 * for spec >= 9.
 * Messages are prefixed with the part: "inmemoryfs index: ...",
 * "metadata.json: ...", "model.mlpackage/Manifest.json: ...".
 */
cml_status cml_coreml_payload_open(const cml_pte_program *program, const uint8_t *processed,
                                   size_t size, const char *method,
                                   const cml_allocator *allocator, cml_coreml_payload *out,
                                   cml_error *err);

/** Frees everything; safe on a zeroed struct. */
void cml_coreml_payload_close(cml_coreml_payload *payload);

#endif
