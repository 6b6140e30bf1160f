/*
 * A tiny FlatBuffers writer for tests: describe tables, vectors and strings
 * as a tree of nodes, then pb_finish() lays them out front to back (each
 * parent before its children, so every uoffset points forward; each vtable
 * right before its table) and wraps the result as a .pte: root offset,
 * "ET12", an optional extended header (24 or 32 bytes), the flatbuffer
 * padded to 16, and data segments at a 128-aligned segment base.
 *
 * The layout is not byte-identical to the Python flatbuffers writer (which
 * builds back to front and shares vtables) but follows the same encoding
 * rules, so a reader that handles one handles the other. After pb_finish,
 * every node's pos (and every table field's pos) is known, which lets tests
 * corrupt precise bytes.
 *
 * Nodes form a tree: a node may be referenced once (a second reference would
 * need a backward offset). Memory is owned by the pb and freed by pb_free.
 */
#ifndef CML_TEST_PTE_BUILDER_H
#define CML_TEST_PTE_BUILDER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PB_MAX_FIELDS 16
#define PB_MAX_SEGMENTS 8

typedef enum { PB_TABLE, PB_VEC, PB_TVEC, PB_STR } pb_kind;

typedef struct pb_node pb_node;

typedef struct pb_field {
    uint8_t size; /* 0 = absent; 1/2/4/8 scalar bytes; 4 with ref = offset */
    uint8_t bytes[8];
    pb_node *ref; /* sub-table / vector / string */
    uint32_t pos; /* absolute position after pb_finish */
} pb_field;

struct pb_node {
    pb_kind kind;
    pb_node *next_alloc;
    /* PB_TABLE */
    pb_field fields[PB_MAX_FIELDS];
    /* PB_VEC / PB_STR: copied bytes; PB_TVEC: items */
    uint8_t *data;
    uint32_t count, elem, align;
    pb_node **items;
    /* layout results */
    bool emitted;
    uint32_t pos;    /* table start / vector or string length prefix */
    uint32_t vt_pos; /* PB_TABLE */
};

typedef struct pb_segment {
    const void *data;
    uint64_t size;
} pb_segment;

typedef struct pb {
    pb_node *nodes; /* allocation list */
    uint8_t *buf;
    size_t cap, len;
    bool failed;
    /* wrapping */
    uint32_t header_len; /* 0 (no extended header), 24 or 32 */
    pb_segment segments[PB_MAX_SEGMENTS];
    uint32_t nsegments;
    uint64_t seg_offsets[PB_MAX_SEGMENTS]; /* relative to the base, set by pb_finish */
    uint64_t program_size, segment_base, segment_data_size;
} pb;

static inline pb *pb_new(uint32_t header_len) {
    pb *b = calloc(1, sizeof *b);
    b->header_len = header_len;
    return b;
}

static inline void pb_free(pb *b) {
    if (!b) return;
    pb_node *n = b->nodes;
    while (n) {
        pb_node *next = n->next_alloc;
        free(n->data);
        free(n->items);
        free(n);
        n = next;
    }
    free(b->buf);
    free(b);
}

static inline pb_node *pb_alloc(pb *b, pb_kind kind) {
    pb_node *n = calloc(1, sizeof *n);
    n->kind = kind;
    n->next_alloc = b->nodes;
    b->nodes = n;
    return n;
}

/* ---- node constructors ------------------------------------------------- */

static inline pb_node *pb_table(pb *b) { return pb_alloc(b, PB_TABLE); }

static inline void pb_scalar(pb_node *t, int id, const void *v, uint8_t size) {
    t->fields[id].size = size;
    t->fields[id].ref = NULL;
    memcpy(t->fields[id].bytes, v, size);
}
static inline void pb_u8(pb_node *t, int id, uint8_t v) { pb_scalar(t, id, &v, 1); }
static inline void pb_i8(pb_node *t, int id, int8_t v) { pb_scalar(t, id, &v, 1); }
static inline void pb_u32(pb_node *t, int id, uint32_t v) { pb_scalar(t, id, &v, 4); }
static inline void pb_i32(pb_node *t, int id, int32_t v) { pb_scalar(t, id, &v, 4); }
static inline void pb_u64(pb_node *t, int id, uint64_t v) { pb_scalar(t, id, &v, 8); }
static inline void pb_i64(pb_node *t, int id, int64_t v) { pb_scalar(t, id, &v, 8); }
static inline void pb_f64(pb_node *t, int id, double v) { pb_scalar(t, id, &v, 8); }
static inline void pb_ref(pb_node *t, int id, pb_node *child) {
    t->fields[id].size = child ? 4 : 0;
    t->fields[id].ref = child;
}
static inline void pb_clear(pb_node *t, int id) {
    t->fields[id].size = 0;
    t->fields[id].ref = NULL;
}

static inline pb_node *pb_str(pb *b, const char *s) {
    pb_node *n = pb_alloc(b, PB_STR);
    n->count = (uint32_t)strlen(s);
    n->data = malloc(n->count + 1);
    memcpy(n->data, s, n->count + 1);
    return n;
}

/* Vector of count scalars of elem bytes; element data aligned to align. */
static inline pb_node *pb_vec(pb *b, const void *data, uint32_t count, uint32_t elem,
                              uint32_t align) {
    pb_node *n = pb_alloc(b, PB_VEC);
    n->count = count;
    n->elem = elem;
    n->align = align < 4 ? 4 : align;
    n->data = malloc((size_t)count * elem + 1);
    if (count) memcpy(n->data, data, (size_t)count * elem);
    return n;
}
static inline pb_node *pb_vec_i32(pb *b, uint32_t n, const int32_t *v) {
    return pb_vec(b, v, n, 4, 4);
}
static inline pb_node *pb_vec_i64(pb *b, uint32_t n, const int64_t *v) {
    return pb_vec(b, v, n, 8, 8);
}
static inline pb_node *pb_vec_u64(pb *b, uint32_t n, const uint64_t *v) {
    return pb_vec(b, v, n, 8, 8);
}
static inline pb_node *pb_vec_f64(pb *b, uint32_t n, const double *v) {
    return pb_vec(b, v, n, 8, 8);
}
static inline pb_node *pb_vec_u8(pb *b, uint32_t n, const uint8_t *v) {
    return pb_vec(b, v, n, 1, 1);
}
/* [u8] with 16-aligned element data (force_align: 16). */
static inline pb_node *pb_vec_u8_16(pb *b, uint32_t n, const void *v) {
    return pb_vec(b, v, n, 1, 16);
}

/* Vector of tables. */
static inline pb_node *pb_tvec(pb *b, uint32_t n, pb_node *const *items) {
    pb_node *v = pb_alloc(b, PB_TVEC);
    v->count = n;
    v->items = calloc(n ? n : 1, sizeof *v->items);
    for (uint32_t i = 0; i < n; i++)
        v->items[i] = items[i];
    return v;
}
static inline pb_node *pb_tvec_of(pb *b, uint32_t n, ...) {
    pb_node *items[64];
    va_list ap;
    va_start(ap, n);
    for (uint32_t i = 0; i < n && i < 64; i++)
        items[i] = va_arg(ap, pb_node *);
    va_end(ap);
    return pb_tvec(b, n, items);
}

/* Adds a data segment (bytes copied at pb_finish, so data must live until
 * then); returns its index. Its offset from the segment base is known at
 * once (b->seg_offsets[i]): 128-aligned after the previous one, except that
 * an empty segment shares the next offset, as upstream. */
static inline uint32_t pb_segment_add(pb *b, const void *data, uint64_t size) {
    uint32_t i = b->nsegments++;
    uint64_t prev_end = i ? b->seg_offsets[i - 1] + b->segments[i - 1].size : 0;
    b->segments[i].data = data;
    b->segments[i].size = size;
    b->seg_offsets[i] = size ? (prev_end + 127) / 128 * 128 : prev_end;
    return i;
}

/* ---- layout ------------------------------------------------------------ */

static inline void pb_reserve(pb *b, size_t n) {
    if (b->len + n <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
        cap *= 2;
    b->buf = realloc(b->buf, cap);
    memset(b->buf + b->cap, 0, cap - b->cap);
    b->cap = cap;
}
static inline void pb_pad_to(pb *b, size_t pos) {
    if (pos > b->len) {
        pb_reserve(b, pos - b->len);
        b->len = pos;
    }
}
static inline void pb_put(pb *b, size_t pos, const void *v, size_t n) {
    pb_pad_to(b, pos + n);
    memcpy(b->buf + pos, v, n);
}
static inline void pb_put_u32(pb *b, size_t pos, uint32_t v) { pb_put(b, pos, &v, 4); }
static inline size_t pb_align(size_t v, size_t a) { return (v + a - 1) / a * a; }

static uint32_t pb_emit(pb *b, pb_node *n);

static inline void pb_patch(pb *b, uint32_t slot, pb_node *child) {
    uint32_t cpos = pb_emit(b, child);
    if (cpos <= slot) {
        b->failed = true; /* shared node: would need a backward offset */
        return;
    }
    pb_put_u32(b, slot, cpos - slot);
}

static uint32_t pb_emit(pb *b, pb_node *n) {
    if (n->emitted) return n->pos;
    n->emitted = true;
    switch (n->kind) {
    case PB_STR: {
        size_t pos = pb_align(b->len, 4);
        pb_put_u32(b, pos, n->count);
        pb_put(b, pos + 4, n->data, n->count + 1);
        n->pos = (uint32_t)pos;
        return n->pos;
    }
    case PB_VEC: {
        size_t pos = pb_align(b->len, 4);
        while ((pos + 4) % n->align)
            pos += 4;
        pb_put_u32(b, pos, n->count);
        pb_pad_to(b, pos + 4 + (size_t)n->count * n->elem);
        if (n->count) memcpy(b->buf + pos + 4, n->data, (size_t)n->count * n->elem);
        n->pos = (uint32_t)pos;
        return n->pos;
    }
    case PB_TVEC: {
        size_t pos = pb_align(b->len, 4);
        pb_put_u32(b, pos, n->count);
        pb_pad_to(b, pos + 4 + 4 * (size_t)n->count);
        n->pos = (uint32_t)pos;
        for (uint32_t i = 0; i < n->count; i++)
            pb_patch(b, (uint32_t)(pos + 4 + 4 * i), n->items[i]);
        return n->pos;
    }
    case PB_TABLE: {
        int nf = 0;
        size_t table_align = 4;
        for (int i = 0; i < PB_MAX_FIELDS; i++)
            if (n->fields[i].size) {
                nf = i + 1;
                if (n->fields[i].size > table_align) table_align = n->fields[i].size;
            }
        /* Inline layout: largest fields first, each naturally aligned. */
        uint16_t offs[PB_MAX_FIELDS] = {0};
        size_t off = 4;
        for (int sz = 8; sz >= 1; sz /= 2)
            for (int i = 0; i < nf; i++)
                if (n->fields[i].size == sz) {
                    off = pb_align(off, (size_t)sz);
                    offs[i] = (uint16_t)off;
                    off += (size_t)sz;
                }
        size_t obj_size = pb_align(off, 4);
        uint16_t vt_size = (uint16_t)(4 + 2 * nf);
        /* The vtable sits right before the table (even, so 2-aligned). */
        size_t tpos = pb_align(b->len + vt_size, table_align);
        size_t vt = tpos - vt_size;
        uint16_t hdr[2] = {vt_size, (uint16_t)obj_size};
        pb_put(b, vt, hdr, 4);
        for (int i = 0; i < nf; i++)
            pb_put(b, vt + 4 + 2 * (size_t)i, &offs[i], 2);
        int32_t soff = (int32_t)(tpos - vt);
        pb_put(b, tpos, &soff, 4);
        pb_pad_to(b, tpos + obj_size);
        n->pos = (uint32_t)tpos;
        n->vt_pos = (uint32_t)vt;
        for (int i = 0; i < nf; i++) {
            pb_field *f = &n->fields[i];
            if (!f->size) continue;
            f->pos = (uint32_t)(tpos + offs[i]);
            if (!f->ref) pb_put(b, f->pos, f->bytes, f->size);
        }
        for (int i = 0; i < nf; i++)
            if (n->fields[i].ref) pb_patch(b, n->fields[i].pos, n->fields[i].ref);
        return n->pos;
    }
    }
    return 0;
}

/* Lays out the tree under root and wraps it as a .pte. Returns a 16-byte
 * aligned malloc'd copy of exactly *size bytes (free with free()), or NULL. */
static inline uint8_t *pb_finish(pb *b, pb_node *root, size_t *size) {
    b->len = 0;
    pb_pad_to(b, 8 + (size_t)b->header_len);
    memcpy(b->buf + 4, "ET12", 4);
    uint32_t rpos = pb_emit(b, root);
    pb_put_u32(b, 0, rpos);
    pb_pad_to(b, pb_align(b->len, 16));
    b->program_size = b->len;
    b->segment_base = 0;
    b->segment_data_size = 0;
    if (b->nsegments > 0) {
        uint64_t base = pb_align(b->program_size, 128), end = 0;
        for (uint32_t i = 0; i < b->nsegments; i++) {
            uint64_t off = b->seg_offsets[i];
            pb_pad_to(b, base + off + b->segments[i].size);
            if (b->segments[i].size)
                memcpy(b->buf + base + off, b->segments[i].data, b->segments[i].size);
            if (off + b->segments[i].size > end) end = off + b->segments[i].size;
        }
        b->segment_base = base;
        b->segment_data_size = end;
        pb_pad_to(b, base + end);
    }
    if (b->header_len) {
        memcpy(b->buf + 8, "eh00", 4);
        pb_put_u32(b, 12, b->header_len);
        pb_put(b, 16, &b->program_size, 8);
        pb_put(b, 24, &b->segment_base, 8);
        if (b->header_len >= 32) pb_put(b, 32, &b->segment_data_size, 8);
    }
    if (b->failed) return NULL;
    uint8_t *out = NULL;
    if (posix_memalign((void **)&out, 16, b->len ? b->len : 1) != 0) return NULL;
    memcpy(out, b->buf, b->len);
    *size = b->len;
    return out;
}

#endif
