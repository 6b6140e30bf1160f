#include "pte/fb.h"

#include <stdarg.h>
#include <stdio.h>

/* The .pte format is little-endian and the reader loads multi-byte values
 * with memcpy and hands out pointers to i32/i64/f64 vectors inside the file;
 * both are only correct on a little-endian host. */
#if !defined(__BYTE_ORDER__) || !defined(__ORDER_LITTLE_ENDIAN__) || \
    __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cml's .pte reader requires a little-endian host"
#endif
_Static_assert(sizeof(double) == 8 && sizeof(int64_t) == 8, "64-bit double and int64 required");

static uint16_t rd16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
static uint32_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static size_t path_format(const cml_fb_path *p, char *buf, size_t size) {
    if (!p) return 0;
    size_t n = path_format(p->parent, buf, size);
    if (n >= size) return n;
    int w;
    const char *dot = n > 0 ? "." : "";
    if (p->index >= 0)
        w = snprintf(buf + n, size - n, "%s%s[%lld]", dot, p->name, (long long)p->index);
    else
        w = snprintf(buf + n, size - n, "%s%s", dot, p->name);
    if (w < 0) return n;
    return n + (size_t)w;
}

void cml_fb_path_format(const cml_fb_path *path, char *buf, size_t size) {
    if (!buf || size == 0) return;
    buf[0] = '\0';
    path_format(path, buf, size);
    buf[size - 1] = '\0';
}

cml_status cml_fb_fail(cml_error *err, cml_status status, const cml_fb_path *path,
                       const char *type, const char *field, const char *fmt, ...) {
    if (!err) return status;
    char where[256];
    cml_fb_path_format(path, where, sizeof where);
    char what[CML_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *sep = where[0] ? " " : "";
    if (field && field[0])
        return cml_fail(err, status, "%.250s%s%.60s.%.60s: %.400s", where, sep, type ? type : "?",
                        field, what);
    return cml_fail(err, status, "%.250s%s%.60s: %.400s", where, sep, type ? type : "?", what);
}

void cml_fb_init(cml_fb *fb, const uint8_t *buf, uint32_t size) {
    fb->buf = buf;
    fb->size = size;
    fb->ntables = 0;
    /* Every distinct table needs at least 4 bytes, so a file that does not
     * share tables has at most size / 4 of them; sharing beyond that could
     * only blow up the decoded size. */
    uint32_t by_size = size / 4u + 16u;
    fb->max_tables = by_size < CML_FB_MAX_TABLES ? by_size : CML_FB_MAX_TABLES;
}

cml_status cml_fb_table_at(cml_fb *fb, uint64_t pos, const char *type, const cml_fb_path *path,
                           cml_fb_table *out, cml_error *err) {
    const cml_status C = CML_ERR_CORRUPT;
    if (path && path->depth > CML_FB_MAX_DEPTH)
        return cml_fb_fail(err, C, path, type, NULL, "nesting deeper than %d", CML_FB_MAX_DEPTH);
    if (fb->ntables >= fb->max_tables)
        return cml_fb_fail(err, C, path, type, NULL, "more than %u tables", fb->max_tables);
    fb->ntables++;
    if (pos % 4 != 0 || pos > fb->size || fb->size - pos < 4)
        return cml_fb_fail(err, C, path, type, NULL,
                           "table at 0x%llx is misaligned or outside the flatbuffer (0x%x bytes)",
                           (unsigned long long)pos, fb->size);
    int32_t soff;
    memcpy(&soff, fb->buf + pos, 4);
    int64_t vt = (int64_t)pos - (int64_t)soff;
    if (vt < 0 || vt % 2 != 0 || (uint64_t)vt > fb->size || fb->size - (uint64_t)vt < 4)
        return cml_fb_fail(err, C, path, type, NULL,
                           "vtable at %lld (table 0x%llx, soffset %d) is misaligned or outside "
                           "the flatbuffer",
                           (long long)vt, (unsigned long long)pos, soff);
    uint16_t vt_size = rd16(fb->buf + vt);
    uint16_t obj_size = rd16(fb->buf + vt + 2);
    if (vt_size < 4 || vt_size % 2 != 0 || (uint64_t)vt + vt_size > fb->size)
        return cml_fb_fail(err, C, path, type, NULL,
                           "vtable at 0x%llx has bad size %u (needs >= 4, even, in bounds)",
                           (long long)vt, vt_size);
    if (pos + obj_size > fb->size)
        return cml_fb_fail(err, C, path, type, NULL,
                           "table at 0x%llx: object size %u runs past the flatbuffer end",
                           (unsigned long long)pos, obj_size);
    out->pos = (uint32_t)pos;
    out->vt = (uint32_t)vt;
    out->vt_size = vt_size;
    out->obj_size = obj_size;
    out->type = type;
    out->path = path;
    return CML_OK;
}

/* Locates a present field of width bytes; *found = false when absent. */
static cml_status field_pos(const cml_fb *fb, const cml_fb_table *t, unsigned id,
                            const char *field, uint32_t width, uint32_t *pos, bool *found,
                            cml_error *err) {
    uint16_t off = cml_fb_field_offset(fb, t, id);
    *found = off != 0;
    if (!off) return CML_OK;
    /* Only the buffer bounds count, as in flatbuffers::Verifier: upstream
     * writers share vtables whose object_size does not cover every field
     * (AddModel's DataSegment.size lies past its vtable's object_size 8). */
    uint64_t p = (uint64_t)t->pos + off;
    if (p + width > fb->size)
        return cml_fb_fail(err, CML_ERR_CORRUPT, t->path, t->type, field,
                           "field at 0x%llx (+%u bytes) runs past the flatbuffer end (0x%x)",
                           (unsigned long long)p, width, fb->size);
    if (p % width != 0)
        return cml_fb_fail(err, CML_ERR_CORRUPT, t->path, t->type, field,
                           "field at 0x%llx is not %u-byte aligned", (unsigned long long)p,
                           width);
    *pos = (uint32_t)p;
    return CML_OK;
}

#define CML_FB_SCALAR(fn, T)                                                                  \
    cml_status fn(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,    \
                  T def, T *out, cml_error *err) {                                             \
        uint32_t pos = 0;                                                                      \
        bool found;                                                                            \
        CML_TRY(field_pos(fb, t, id, field, (uint32_t)sizeof(T), &pos, &found, err));          \
        if (!found) {                                                                          \
            *out = def;                                                                        \
            return CML_OK;                                                                     \
        }                                                                                      \
        memcpy(out, fb->buf + pos, sizeof(T));                                                 \
        return CML_OK;                                                                         \
    }

CML_FB_SCALAR(cml_fb_u8, uint8_t)
CML_FB_SCALAR(cml_fb_i8, int8_t)
CML_FB_SCALAR(cml_fb_u32, uint32_t)
CML_FB_SCALAR(cml_fb_i32, int32_t)
CML_FB_SCALAR(cml_fb_u64, uint64_t)
CML_FB_SCALAR(cml_fb_i64, int64_t)
CML_FB_SCALAR(cml_fb_f64, double)

cml_status cml_fb_bool(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                       bool def, bool *out, cml_error *err) {
    uint8_t v;
    CML_TRY(cml_fb_u8(fb, t, id, field, def ? 1 : 0, &v, err));
    *out = v != 0;
    return CML_OK;
}

/* Follows the uoffset field; *target = absolute position. */
static cml_status offset_field(const cml_fb *fb, const cml_fb_table *t, unsigned id,
                               const char *field, uint32_t *target, bool *found, cml_error *err) {
    uint32_t pos = 0;
    CML_TRY(field_pos(fb, t, id, field, 4, &pos, found, err));
    if (!*found) return CML_OK;
    uint32_t off = rd32(fb->buf + pos);
    uint64_t tgt = (uint64_t)pos + off;
    if (off == 0 || off > 0x7fffffffu || tgt >= fb->size)
        return cml_fb_fail(err, CML_ERR_CORRUPT, t->path, t->type, field,
                           "offset 0x%x at 0x%x is zero or points outside the flatbuffer "
                           "(0x%x bytes)",
                           off,
                           pos, fb->size);
    *target = (uint32_t)tgt;
    return CML_OK;
}

static cml_status missing(const cml_fb_table *t, const char *field, cml_error *err) {
    return cml_fb_fail(err, CML_ERR_CORRUPT, t->path, t->type, field, "required field is missing");
}

cml_status cml_fb_table_field(cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                              bool required, const char *child_type,
                              const cml_fb_path *child_path, cml_fb_table *out, bool *present,
                              cml_error *err) {
    uint32_t target = 0;
    bool found;
    *present = false;
    CML_TRY(offset_field(fb, t, id, field, &target, &found, err));
    if (!found) return required ? missing(t, field, err) : CML_OK;
    CML_TRY(cml_fb_table_at(fb, target, child_type, child_path, out, err));
    *present = true;
    return CML_OK;
}

cml_status cml_fb_string(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                         bool required, cml_str *out, bool *present, cml_error *err) {
    uint32_t pos = 0;
    bool found;
    out->ptr = "";
    out->len = 0;
    if (present) *present = false;
    CML_TRY(offset_field(fb, t, id, field, &pos, &found, err));
    if (!found) return required ? missing(t, field, err) : CML_OK;
    if (pos % 4 != 0 || fb->size - pos < 4)
        return cml_fb_fail(err, CML_ERR_CORRUPT, t->path, t->type, field,
                           "string at 0x%x is misaligned or truncated", pos);
    uint32_t len = rd32(fb->buf + pos);
    /* pos + 4 + len + 1 <= size, in 64-bit arithmetic */
    if ((uint64_t)pos + 4u + len + 1u > fb->size)
        return cml_fb_fail(err, CML_ERR_CORRUPT, t->path, t->type, field,
                           "string of %u bytes at 0x%x runs past the flatbuffer end (0x%x)", len,
                           pos, fb->size);
    if (fb->buf[pos + 4u + len] != 0)
        return cml_fb_fail(err, CML_ERR_CORRUPT, t->path, t->type, field,
                           "string at 0x%x is not NUL-terminated", pos);
    out->ptr = (const char *)fb->buf + pos + 4;
    out->len = len;
    if (present) *present = true;
    return CML_OK;
}

cml_status cml_fb_vector(const cml_fb *fb, const cml_fb_table *t, unsigned id, const char *field,
                         uint32_t elem_size, uint32_t align, bool required, cml_fb_vec *out,
                         cml_error *err) {
    uint32_t pos = 0;
    bool found;
    out->pos = 0;
    out->count = 0;
    out->present = false;
    CML_TRY(offset_field(fb, t, id, field, &pos, &found, err));
    if (!found) return required ? missing(t, field, err) : CML_OK;
    if (pos % 4 != 0 || fb->size - pos < 4)
        return cml_fb_fail(err, CML_ERR_CORRUPT, t->path, t->type, field,
                           "vector at 0x%x is misaligned or truncated", pos);
    uint32_t count = rd32(fb->buf + pos);
    uint64_t bytes = (uint64_t)count * elem_size; /* < 2^32 * 2^32: no overflow */
    if (bytes > (uint64_t)fb->size - pos - 4u)
        return cml_fb_fail(err, CML_ERR_CORRUPT, t->path, t->type, field,
                           "vector of %u x %u bytes at 0x%x runs past the flatbuffer end (0x%x)",
                           count, elem_size, pos, fb->size);
    if (align > 1 && (pos + 4u) % align != 0)
        return cml_fb_fail(err, CML_ERR_CORRUPT, t->path, t->type, field,
                           "vector data at 0x%x is not %u-byte aligned", pos + 4u, align);
    out->pos = pos + 4u;
    out->count = count;
    out->present = true;
    return CML_OK;
}

cml_status cml_fb_vec_table(cml_fb *fb, const cml_fb_vec *v, uint32_t i, const char *type,
                            const cml_fb_path *path, cml_fb_table *out, cml_error *err) {
    uint32_t slot = v->pos + 4u * i; /* in bounds: the vector was verified with 4-byte elems */
    uint32_t off = rd32(fb->buf + slot);
    uint64_t tgt = (uint64_t)slot + off;
    if (off == 0 || off > 0x7fffffffu || tgt >= fb->size)
        return cml_fb_fail(err, CML_ERR_CORRUPT, path, type, NULL,
                           "offset 0x%x at 0x%x is zero or points outside the flatbuffer "
                           "(0x%x bytes)",
                           off,
                           slot, fb->size);
    return cml_fb_table_at(fb, tgt, type, path, out, err);
}

cml_status cml_fb_union(cml_fb *fb, const cml_fb_table *t, unsigned type_id, const char *field,
                        uint8_t max_type, const char *const *type_names,
                        bool allow_missing_table, const cml_fb_path *child_path, uint8_t *type,
                        cml_fb_table *out, bool *present, cml_error *err) {
    char type_field[64];
    snprintf(type_field, sizeof type_field, "%s_type", field);
    *present = false;
    CML_TRY(cml_fb_u8(fb, t, type_id, type_field, 0, type, err));
    if (*type > max_type)
        return cml_fb_fail(err, CML_ERR_CORRUPT, t->path, t->type, type_field,
                           "unknown union type %u (max %u)", *type, max_type);
    uint32_t target = 0;
    bool found;
    CML_TRY(offset_field(fb, t, type_id + 1, field, &target, &found, err));
    if (*type == 0) {
        if (found)
            return cml_fb_fail(err, CML_ERR_CORRUPT, t->path, t->type, field,
                               "union has a value but type NONE");
        return CML_OK;
    }
    const char *name = type_names ? type_names[*type] : "?";
    if (!found) {
        if (allow_missing_table) return CML_OK;
        return cml_fb_fail(err, CML_ERR_CORRUPT, t->path, t->type, field,
                           "union of type %s has no value", name);
    }
    CML_TRY(cml_fb_table_at(fb, target, name, child_path, out, err));
    *present = true;
    return CML_OK;
}
