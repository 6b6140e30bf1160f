/*
 * Minimal FlatBuffers writer for the .pte writer (pte_write.c).
 *
 * Objects are written front to back into a cml_lbuf whose byte 0 is the
 * start of the flatbuffer (positions are absolute, so alignment relative to
 * the buffer start is alignment in the file). A table is written as its
 * vtable followed by the table itself (soffset > 0); a field that refers to
 * a child (string, vector, table) is written as a zero uoffset whose slot
 * position the caller patches (cml_fbw_link) once the child, which always
 * comes later in the buffer, is written. Output depends only on the calls
 * made, so it is deterministic.
 */
#ifndef CML_LOWER_FBW_H
#define CML_LOWER_FBW_H

#include <stddef.h>
#include <stdint.h>

#include "lower/lbuf.h"

#define CML_FBW_MAX_FIELDS 16

typedef enum cml_fbw_kind {
    CML_FBW_ABSENT = 0,
    CML_FBW_U8,     /* also i8, bool */
    CML_FBW_U32,    /* also i32 */
    CML_FBW_U64,    /* also i64, f64 bits */
    CML_FBW_OFFSET, /* uoffset to a child; slot returned in cml_fbw_table's slots */
} cml_fbw_kind;

typedef struct cml_fbw_field {
    cml_fbw_kind kind;
    uint64_t value;
} cml_fbw_field;

/* Writes a table of n (<= CML_FBW_MAX_FIELDS) fields, field i at id i.
 * slots[i] receives the position of OFFSET field i (0 for others).
 * Returns the table position. */
size_t cml_fbw_table(cml_lbuf *b, const cml_fbw_field *fields, unsigned n, size_t *slots);
/* Makes the uoffset at slot point at target (target > slot). */
void cml_fbw_link(cml_lbuf *b, size_t slot, size_t target);
/* Writes a string; returns its position (the length word). */
size_t cml_fbw_string(cml_lbuf *b, const char *s, size_t len);
/* Writes a vector of count elements of elem_size bytes (little-endian
 * copies of data; NULL: zeros) whose element data is align-aligned.
 * Returns its position (the count word). */
size_t cml_fbw_vector(cml_lbuf *b, const void *data, uint32_t count, size_t elem_size,
                      size_t align);

#endif
