/* Read-only file mapping: the loader for model bytes. Weights are used in
 * place from the mapping, never copied. */
#ifndef CML_PLATFORM_FILE_H
#define CML_PLATFORM_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cml.h"
#include "core/status.h"

typedef struct cml_mapped_file {
    const uint8_t *data; /* page-aligned; NULL for an empty file */
    size_t size;
} cml_mapped_file;

/* Maps path read-only. Empty files map to {NULL, 0}. */
cml_status cml_file_map(const char *path, cml_mapped_file *out, cml_error *err);
/* cml_file_map, except that a path that does not exist gives
 * CML_ERR_NOT_FOUND instead of CML_ERR_IO (for files looked up by name,
 * such as those inside an .mlpackage). */
cml_status cml_file_map_lookup(const char *path, cml_mapped_file *out, cml_error *err);
void cml_file_unmap(cml_mapped_file *file);
bool cml_path_is_dir(const char *path);

/* Reads a regular file into a buffer from allocator (64-byte aligned; NULL
 * with *size 0 for an empty file); the caller frees it with cml_free. */
cml_status cml_file_read(const char *path, const cml_allocator *allocator, void **data,
                         size_t *size, cml_error *err);

/* Advises the kernel to back the 2 MiB-aligned interior of [p, p + size)
 * with huge pages (fewer page faults when a large block is first written).
 * Advisory only: a no-op where unsupported or for blocks under 4 MiB. */
void cml_platform_advise_huge(void *p, size_t size);

/* Physical memory of the machine in bytes, or 0 when unknown. */
uint64_t cml_platform_memory_bytes(void);

#endif
