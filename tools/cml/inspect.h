/*
 * `cml inspect` builds one cJSON document describing the model; --json
 * prints it as is and the text renderer prints the same content, so the two
 * outputs can never disagree.
 *
 * Document layout:
 *   {"model", "format": "pte" | "mlpackage",
 *    "methods": [{"name", "load_error"?, "inputs": [io], "outputs": [io]}],
 *    "pte"?: {"file_size", "header": {...}, "segments": [...], "named_data": [...],
 *             "constants": {...}, "plans": [{"name", "values", "inputs", "outputs",
 *             "instructions": {...}, "planned_memory": {...}, "operators": [...],
 *             "delegates": [...]}]}}
 *   "coreml"? (an .mlpackage): see cli_inspect_mlpackage; delegates of
 *   CoreMLBackend carry "settings" and "coreml" (cli_inspect_coreml_delegate).
 *   io: {"index", "name", "dtype", "shape", "kind"?: "int" | "double" | "bool" | ...,
 *        "dynamic"?: true}
 */
#ifndef CML_TOOLS_INSPECT_H
#define CML_TOOLS_INSPECT_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "cml.h"
#include "pte/pte.h"

/* The "methods" array from the public API. Methods that fail to load get a
 * "load_error"; for a .pte (pte != NULL) their I/O then comes from the plan. */
/* A shape as a JSON array of sizes; one method input or output as
 * {index, name, dtype, shape[, kind: "scalar"]} (inspect --json, run --json). */
cJSON *cli_shape_json(int32_t rank, const int64_t *sizes);
cJSON *cli_io_json(size_t index, const cml_io_info *info);

cJSON *cli_inspect_methods(cml_program *program, const cml_pte_program *pte);

/* The "pte" object: header, segments, named data, and per plan the planned
 * arenas, operator histogram and delegates. */
cJSON *cli_inspect_pte(const cml_pte_program *pte, size_t file_size);

/* The I/O description of a plan value (used when a method does not load). */
cJSON *cli_inspect_plan_io(const cml_pte_plan *plan, const int32_t *indices, uint32_t n);

void cli_inspect_print_text(FILE *f, const cJSON *doc);

/* inspect_coreml.c. For a CoreMLBackend delegate d of plan, adds to o:
 * "settings": [{"key", "text", "set"}] (the compile specs the backend reads,
 * unset ones in words) and "coreml": {"function", "specification_version",
 * "identifier", "metadata": {"author", "short_description", "version",
 * "license", "user_defined": {...}}} (or {"error"}). Other backends: nothing. */
void cli_inspect_coreml_delegate(cJSON *o, const cml_pte_program *pte, const cml_pte_plan *plan,
                                 uint32_t d);
/* The "coreml" object of a standalone .mlpackage directory. */
cJSON *cli_inspect_mlpackage(const char *path);
/* Prints a "coreml" object as text, each line starting with indent. */
void cli_inspect_print_coreml(FILE *f, const cJSON *coreml, const char *indent);

#endif
