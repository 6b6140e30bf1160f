/*
 * NumPy .npy reader and writer for the cml CLI and tests.
 *
 * Supported: format versions 1.0, 2.0 and 3.0; C order; little-endian
 * ('<', or '|' which NumPy writes for one-byte types); the dtypes
 *   <f2 <f4 <f8  |i1 <i2 <i4 <i8  |u1 <u2 <u4 <u8  |b1
 * mapped to the matching cml_dtype; rank 0 to CML_MAX_DIMS.
 * Everything else (big-endian, fortran_order True, object, structured,
 * string or complex dtypes, a malformed header, a data size that does not
 * match the shape) is rejected with a message.
 *
 * The file is untrusted: header parsing is bounds-checked and the
 * shape -> byte count arithmetic is overflow-checked before anything is
 * allocated.
 */
#ifndef CML_TOOLS_NPY_H
#define CML_TOOLS_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "cml.h"

typedef struct cml_npy {
    cml_dtype dtype;
    int32_t rank;
    int64_t sizes[CML_MAX_DIMS];
    size_t numel;   /* product of sizes (1 for rank 0) */
    size_t nbytes;  /* numel * element size */
    void *data;     /* malloc'd, nbytes long (never NULL after success) */
} cml_npy;

/**
 * Reads path into out. Returns 0 on success; on failure returns -1, leaves
 * out zeroed and writes "path: reason" into err (errsz bytes; err may be
 * NULL).
 */
int cml_npy_read(const char *path, cml_npy *out, char *err, size_t errsz);

/** As cml_npy_read, from len bytes in memory (data is copied). */
int cml_npy_parse(const void *buf, size_t len, cml_npy *out, char *err, size_t errsz);

/**
 * Writes a C-order little-endian array as a version 1.0 file (2.0 if the
 * header would not fit, which cannot happen at rank <= 16). data holds
 * numel * element-size bytes; it may be NULL when numel is 0. Returns 0 on
 * success, -1 with a message in err on failure (unsupported dtype, bad
 * shape, I/O error).
 */
int cml_npy_write(const char *path, cml_dtype dtype, int32_t rank, const int64_t *sizes,
                  const void *data, char *err, size_t errsz);

/** Frees out->data and zeroes out. Safe on a zeroed struct. */
void cml_npy_free(cml_npy *npy);

/** The .npy descr for dtype ("<f4"), or NULL if .npy cannot hold it. */
const char *cml_npy_descr(cml_dtype dtype);

#endif
