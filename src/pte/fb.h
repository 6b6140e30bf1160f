/*
 * Bounds-checked FlatBuffers primitives for the .pte reader.
 *
 * Every accessor verifies what it touches (offset in bounds, natural
 * alignment, vtable shape, string NUL, vector length without overflow) and
 * returns a status with a message naming the table path and field, e.g.
 * "ExecutionPlan[0].values[12] Tensor.sizes: vector of 4294967295 x 4 bytes
 * at 0x1f0 runs past the flatbuffer end (0x410)". Nothing here reads outside
 * [buf, buf + size).
 *
 * Positions are byte offsets from the start of the flatbuffer, which the
 * caller guarantees is 16-byte aligned in memory, so an offset that is
 * N-aligned is an N-aligned address. Multi-byte loads go through memcpy and
 * assume a little-endian host (checked at compile time in fb.c).
 *
 * Paths: error messages name where a table sits ("ExecutionPlan[0].values[12]")
 * through a chain of cml_fb_path frames that live on the caller's stack and
 * are only formatted when an error is reported.
 */
#ifndef CML_PTE_FB_H
#define CML_PTE_FB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/status.h"
#include "pte/pte.h"

/* Upstream flatbuffers::Verifier defaults. */
#define CML_FB_MAX_DEPTH 64
#define CML_FB_MAX_TABLES 1000000u

typedef struct cml_fb_path {
    const struct cml_fb_path *parent;
    const char *name;   /* "ExecutionPlan", "values", ... */
    int64_t index;      /* < 0: no index */
    uint32_t depth;     /* parent->depth + 1 (0 for the root) */
} cml_fb_path;

/* A frame for the element `index` of `name` under parent (index < 0: none). */
static inline cml_fb_path cml_fb_path_make(const cml_fb_path *parent, const char *name,
                                           int64_t index) {
    cml_fb_path p;
    p.parent = parent;
    p.name = name;
    p.index = index;
    p.depth = parent ? parent->depth + 1 : 1;
    return p;
}

typedef struct cml_fb {
    const uint8_t *buf;
    uint32_t size;        /* flatbuffer bytes: [0, size) */
    uint32_t ntables;     /* tables opened so far */
    uint32_t max_tables;  /* cap on ntables */
} cml_fb;

typedef struct cml_fb_table {
    uint32_t pos;         /* table start (the soffset) */
    uint32_t vt;          /* vtable start */
    uint16_t vt_size;
    uint16_t obj_size;
    const char *type;     /* schema table name, for messages */
    const cml_fb_path *path;
} cml_fb_table;

typedef struct cml_fb_vec {
    uint32_t pos;         /* first element (just after the u32 count) */
    uint32_t count;
    bool present;
} cml_fb_vec;

/* Formats a path ("ExecutionPlan[0].values[12]") into buf. */
void cml_fb_path_format(const cml_fb_path *path, char *buf, size_t size);

/* Records "<path> <type>.<field>: <message>" (path omitted when NULL). */
cml_status cml_fb_fail(cml_error *err, cml_status status, const cml_fb_path *path,
                       const char *type, const char *field, const char *fmt, ...)
    CML_PRINTF(6, 7);

/* Initializes the reader over [buf, buf + size). size must be < 2^31. */
void cml_fb_init(cml_fb *fb, const uint8_t *buf, uint32_t size);

/* Verifies the table at pos (alignment, soffset, vtable, object size) and
 * counts it against the table cap; the path frame's depth against the depth
 * cap. type and path are kept for messages. */
cml_status cml_fb_table_at(cml_fb *fb, uint64_t pos, const char *type, const cml_fb_path *path,
                           cml_fb_table *out, cml_error *err);

/* Field offset from the table start, or 0 when the field is absent. */
static inline uint16_t cml_fb_field_offset(const cml_fb *fb, const cml_fb_table *t, unsigned id) {
    uint32_t slot = 4u + 2u * id;
    if (slot + 2u > t->vt_size) return 0;
    uint16_t off;
    memcpy(&off, fb->buf + t->vt + slot, 2);
    return off;
}

/* Scalar fields: absent -> def. Verified inside the flatbuffer and
 * naturally aligned. */
cml_status cml_fb_u8(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                     uint8_t def, uint8_t *out, cml_error *err);
cml_status cml_fb_i8(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                     int8_t def, int8_t *out, cml_error *err);
cml_status cml_fb_bool(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                       bool def, bool *out, cml_error *err);
cml_status cml_fb_u32(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                      uint32_t def, uint32_t *out, cml_error *err);
cml_status cml_fb_i32(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                      int32_t def, int32_t *out, cml_error *err);
cml_status cml_fb_u64(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                      uint64_t def, uint64_t *out, cml_error *err);
cml_status cml_fb_i64(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                      int64_t def, int64_t *out, cml_error *err);
cml_status cml_fb_f64(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                      double def, double *out, cml_error *err);

/* Sub-table field. Absent: *present = false (or an error if required). The
 * child table's messages use child_path. */
cml_status cml_fb_table_field(cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                              bool required, const char *child_type,
                              const cml_fb_path *child_path, cml_fb_table *out, bool *present,
                              cml_error *err);

/* String field: verified in bounds and NUL-terminated. Absent: "" (len 0),
 * or an error if required. *present may be NULL. */
cml_status cml_fb_string(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                         bool required, cml_str *out, bool *present, cml_error *err);

/* Vector field with elem_size-byte elements whose data must be
 * align-aligned. Absent: count 0, present false (or an error if required). */
cml_status cml_fb_vector(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                         uint32_t elem_size, uint32_t align, bool required, cml_fb_vec *out,
                         cml_error *err);

/* Element i (< v->count) of a vector of tables, verified as a table. */
cml_status cml_fb_vec_table(cml_fb *fb, const cml_fb_vec *v, uint32_t i, const char *type,
                            const cml_fb_path *path, cml_fb_table *out, cml_error *err);

/* Union: the u8 type at type_id and the table at type_id + 1. Types above
 * max_type are errors; a table without a type is an error; a type without a
 * table is an error unless allow_missing_table is set (*present = false). */
cml_status cml_fb_union(cml_fb *fb, const cml_fb_table *t, unsigned type_id, const char *field,
                        uint8_t max_type, const char *const *type_names,
                        bool allow_missing_table, const cml_fb_path *child_path, uint8_t *type,
                        cml_fb_table *out, bool *present, cml_error *err);

/* Element loads from a verified vector (i < count; no further checks). */
static inline const uint8_t *cml_fb_ptr(const cml_fb *fb, uint32_t pos) { return fb->buf + pos; }
static inline uint8_t cml_fb_vec_u8(const cml_fb *fb, const cml_fb_vec *v, uint32_t i) {
    return fb->buf[v->pos + i];
}
static inline int32_t cml_fb_vec_i32(const cml_fb *fb, const cml_fb_vec *v, uint32_t i) {
    int32_t x;
    memcpy(&x, fb->buf + v->pos + 4u * (uint64_t)i, 4);
    return x;
}
static inline int64_t cml_fb_vec_i64(const cml_fb *fb, const cml_fb_vec *v, uint32_t i) {
    int64_t x;
    memcpy(&x, fb->buf + v->pos + 8u * (uint64_t)i, 8);
    return x;
}
static inline uint64_t cml_fb_vec_u64(const cml_fb *fb, const cml_fb_vec *v, uint32_t i) {
    uint64_t x;
    memcpy(&x, fb->buf + v->pos + 8u * (uint64_t)i, 8);
    return x;
}

#endif
