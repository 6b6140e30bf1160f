/* Read-only file mapping: the loader for model bytes. Weights are used in
 * place from the mapping, never copied. */
#ifndef CML_PLATFORM_FILE_H
#define CML_PLATFORM_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct cml_mapped_file {
    const uint8_t *data; /* page-aligned; NULL for an empty file */
    size_t size;
} cml_mapped_file;

/* Maps path read-only. Empty files map to {NULL, 0}. */
cml_status cml_file_map(const char *path, cml_mapped_file *out, cml_error *err);
void cml_file_unmap(cml_mapped_file *file);
bool cml_path_is_dir(const char *path);

#endif
