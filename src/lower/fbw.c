/* Minimal FlatBuffers writer (see fbw.h). Little-endian host assumed, as
 * in src/pte/fb.c. */
#include "lower/fbw.h"

#include <string.h>

static size_t field_size(cml_fbw_kind k) {
    switch (k) {
    case CML_FBW_U8: return 1;
    case CML_FBW_U32: case CML_FBW_OFFSET: return 4;
    case CML_FBW_U64: return 8;
    default: return 0;
    }
}

static void put_u16(cml_lbuf *b, uint16_t v) { cml_lbuf_put(b, &v, 2); }

size_t cml_fbw_table(cml_lbuf *b, const cml_fbw_field *fields, unsigned n, size_t *slots) {
    uint16_t off[CML_FBW_MAX_FIELDS] = {0};
    size_t obj = 4;
    if (n > CML_FBW_MAX_FIELDS) { b->failed = true; return 0; }
    for (unsigned i = 0; i < n; i++) {
        size_t sz = field_size(fields[i].kind);
        if (!sz) continue;
        obj = (obj + sz - 1) / sz * sz;
        off[i] = (uint16_t)obj;
        obj += sz;
    }
    obj = (obj + 3) / 4 * 4;
    unsigned nv = n;
    while (nv > 0 && off[nv - 1] == 0) nv--;
    size_t vt_size = 4 + 2 * (size_t)nv;
    cml_lbuf_align(b, 2);
    size_t vt = b->size;
    put_u16(b, (uint16_t)vt_size);
    put_u16(b, (uint16_t)obj);
    for (unsigned i = 0; i < nv; i++) put_u16(b, off[i]);
    cml_lbuf_align(b, 8);
    size_t t = b->size;
    int32_t so = (int32_t)(t - vt);
    cml_lbuf_put(b, NULL, obj);
    cml_lbuf_patch(b, t, &so, 4);
    for (unsigned i = 0; i < n; i++) {
        if (slots) slots[i] = 0;
        size_t sz = field_size(fields[i].kind);
        if (!sz) continue;
        if (fields[i].kind == CML_FBW_OFFSET) { if (slots) slots[i] = t + off[i]; continue; }
        uint64_t v = fields[i].value;
        cml_lbuf_patch(b, t + off[i], &v, sz); /* little-endian: low bytes first */
    }
    return t;
}

void cml_fbw_link(cml_lbuf *b, size_t slot, size_t target) {
    if (target <= slot || target - slot > UINT32_MAX) { b->failed = true; return; }
    uint32_t rel = (uint32_t)(target - slot);
    cml_lbuf_patch(b, slot, &rel, 4);
}

size_t cml_fbw_string(cml_lbuf *b, const char *s, size_t len) {
    cml_lbuf_align(b, 4);
    size_t pos = b->size;
    cml_lbuf_u32(b, (uint32_t)len);
    cml_lbuf_put(b, s, len);
    cml_lbuf_put(b, NULL, 1);
    return pos;
}

size_t cml_fbw_vector(cml_lbuf *b, const void *data, uint32_t count, size_t elem_size,
                      size_t align) {
    if (align < 4) align = 4;
    cml_lbuf_align(b, 4);
    while ((b->size + 4) % align) cml_lbuf_put(b, NULL, 4);
    size_t pos = b->size;
    cml_lbuf_u32(b, count);
    cml_lbuf_put(b, data, (size_t)count * elem_size);
    return pos;
}
