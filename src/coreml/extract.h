/*
 * `cml extract`: write every Core ML payload of a .pte to disk, as
 * executorch's examples/apple/coreml/scripts/extract_coreml_models.py does
 * (shared/reference/coreml-delegate.md section 11):
 *
 *   for each CoreMLBackend delegate of every plan, in order:
 *     CMJR reference -> named_data[key]; skipped if key already written;
 *                       directory name = key
 *     otherwise      -> the bytes; directory name = "model_<n>"
 *     n starts at 1 and counts every payload written (references included)
 *   OUT/<name> is removed if present, recreated, and the image unflattened
 *   into OUT/<name>/<root name>/...  (e.g. OUT/model_1/lowered_module/
 *   model.mlpackage/Data/com.apple.CoreML/model.mlmodel); the file bytes
 *   are written exactly as stored.
 *
 * Log lines match the script: "Core ML models are extracted and saved to
 * path = OUT/<name>" per payload, or "The model isn't delegated to Core ML."
 * Unlike the script, a bad reference or image is an error, not a warning.
 */
#ifndef CML_COREML_EXTRACT_H
#define CML_COREML_EXTRACT_H

#include <stdio.h>

#include "cml.h"
#include "core/status.h"
#include "coreml/inmemoryfs.h"
#include "pte/pte.h"

/**
 * Extracts all Core ML payloads of prog into out_dir (created with mkdir -p
 * semantics). log may be NULL.
 * @return CML_OK (also when there is nothing to extract), CML_ERR_CORRUPT,
 *         CML_ERR_IO (with the path), CML_ERR_NOMEM.
 */
cml_status cml_coreml_extract(const cml_pte_program *prog, const char *out_dir, FILE *log,
                              cml_error *err);

/**
 * Writes the tree of fs into dir/<root name>/..., as upstream
 * unflatten_directory_contents(bytes, dir). dir must exist. Names were
 * validated at parse time (no '/', '.', '..'); existing files are replaced.
 */
cml_status cml_imfs_unflatten(const cml_imfs *fs, const char *dir, cml_error *err);

/** mkdir -p with mode 0777 (umask applies). */
cml_status cml_mkdir_p(const char *path, cml_error *err);

#endif
