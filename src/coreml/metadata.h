/*
 * The two small JSON documents of a CoreMLBackend payload:
 *
 *   metadata.json (inside the inmemoryfs image), single method:
 *     {"inputNames": ["x", ...], "outputNames": ["y", ...],
 *      "identifier": "executorch_<uuid4>"}
 *   multifunction:
 *     {"identifier": "...", "methods": {"<method>": {"inputNames": [...],
 *      "outputNames": [...]}, ...}}
 *
 *   a CMJR reference (the whole `processed` bytes of a multi-method
 *   delegate): "CMJR" + {"version": 1, "key": "coreml_executorch_<uuid>",
 *   "functionName": "<method>"}; key names a Program.named_data entry
 *   holding the inmemoryfs image.
 *
 * See shared/reference/coreml-delegate.md sections 6.1 and 7.
 */
#ifndef CML_COREML_METADATA_H
#define CML_COREML_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cml.h"
#include "core/status.h"

/* The delegate I/O of one method: DelegateCall.args = inputs then outputs. */
typedef struct cml_coreml_method_io {
    const char *method;         /* methods key; NULL for a single-method payload */
    const char *const *input_names;
    uint32_t ninputs;           /* may be 0 (allowed by Core ML for spec >= 9) */
    const char *const *output_names;
    uint32_t noutputs;          /* >= 1 */
} cml_coreml_method_io;

typedef struct cml_coreml_metadata {
    const char *identifier;     /* non-empty; the natural cache key */
    bool multifunction;         /* "methods" present */
    cml_coreml_method_io *methods; /* single: exactly one entry (method NULL) */
    uint32_t nmethods;
    void *storage;
    const cml_allocator *allocator;
} cml_coreml_metadata;

/**
 * Parses metadata.json (len bytes, not NUL-terminated). Names must be
 * non-empty strings, unique within a list; outputNames non-empty.
 * @return CML_OK, CML_ERR_CORRUPT ("metadata.json: 'outputNames' is
 *         empty"), CML_ERR_NOMEM.
 */
cml_status cml_coreml_metadata_parse(const uint8_t *json, size_t len,
                                     const cml_allocator *allocator,
                                     cml_coreml_metadata *out, cml_error *err);

void cml_coreml_metadata_free(cml_coreml_metadata *md);

/**
 * The I/O lists for an ExecuTorch method: a single-method payload returns its
 * only entry whatever the name; a multifunction payload returns
 * methods[method] (NULL method: the only entry if there is exactly one).
 * @return NULL with CML_ERR_NOT_FOUND recorded in err (listing the methods)
 *         when absent.
 */
const cml_coreml_method_io *cml_coreml_metadata_method(const cml_coreml_metadata *md,
                                                       const char *method, cml_error *err);

/* ------------------------------------------------------------------ CMJR */

#define CML_CMJR_MAGIC "CMJR"
#define CML_CMJR_MAGIC_LEN 4

/** True when data starts with the 4 bytes "CMJR". */
bool cml_cmjr_is_reference(const uint8_t *data, size_t size);

typedef struct cml_cmjr_ref {
    int64_t version;            /* 1; 0 when absent */
    char *key;                  /* named-data key, non-empty */
    char *function_name;        /* NULL when absent */
    const cml_allocator *allocator;
} cml_cmjr_ref;

/**
 * Parses a CMJR reference (the magic included in data). key is required;
 * version, when present, must be 1 (else CML_ERR_UNSUPPORTED).
 * @return CML_OK, CML_ERR_CORRUPT ("CMJR reference: ..."), CML_ERR_NOMEM.
 */
cml_status cml_cmjr_parse(const uint8_t *data, size_t size, const cml_allocator *allocator,
                          cml_cmjr_ref *out, cml_error *err);

void cml_cmjr_free(cml_cmjr_ref *ref);

#endif
