/* Test-only helpers for the Core ML container tests: an inmemoryfs writer
 * (post-order, like upstream's flatten_directory_contents, with knobs for
 * gaps, trailing NULs and shuffled child keys), a weight.bin writer, and
 * small file utilities. Not part of the library. */
#ifndef CML_TEST_COREML_UTIL_H
#define CML_TEST_COREML_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ byte buffer */

typedef struct tbuf {
    uint8_t *p;
    size_t n, cap;
} tbuf;

static inline void tbuf_put(tbuf *b, const void *data, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        b->p = realloc(b->p, cap);
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = 0;
}

static inline void tbuf_zeros(tbuf *b, size_t n) {
    for (size_t i = 0; i < n; i++) tbuf_put(b, "", 1);
}

static inline void tbuf_str(tbuf *b, const char *s) { tbuf_put(b, s, strlen(s)); }

static inline void tbuf_printf(tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static inline void tbuf_printf(tbuf *b, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    tbuf_put(b, tmp, (size_t)n);
}

/* ------------------------------------------------------- inmemoryfs writer */

#define TNODE_MAX_CHILDREN 8

typedef struct tnode {
    const char *name;
    int kind; /* 0 file, 1 dir */
    const void *data;
    size_t size;
    struct tnode *children[TNODE_MAX_CHILDREN]; /* post-order visit order */
    int nchildren;
    /* filled by flatten */
    int index;
    size_t offset;
} tnode;

static inline tnode tfile(const char *name, const void *data, size_t size) {
    tnode n = {0};
    n.name = name;
    n.kind = 0;
    n.data = data;
    n.size = size;
    return n;
}

static inline tnode tdir(const char *name) {
    tnode n = {0};
    n.name = name;
    n.kind = 1;
    return n;
}

static inline void tadd(tnode *dir, tnode *child) { dir->children[dir->nchildren++] = child; }

typedef struct flat_opts {
    size_t gap;           /* zero bytes before each file's data */
    size_t trailing_nuls; /* NULs after the reversed index */
    bool reverse_keys;    /* children keys in reverse-sorted order (else sorted) */
} flat_opts;

typedef struct flat_state {
    tbuf data;
    tnode *order[256];
    int n;
    const flat_opts *o;
} flat_state;

static inline void flat_visit(flat_state *s, tnode *t) {
    for (int i = 0; i < t->nchildren; i++) flat_visit(s, t->children[i]);
    if (t->kind == 0) {
        tbuf_zeros(&s->data, s->o->gap);
        t->offset = s->data.n;
        tbuf_put(&s->data, t->data, t->size);
    } else {
        t->offset = 0;
    }
    t->index = s->n;
    s->order[s->n++] = t;
}

static inline int tnode_name_cmp(const void *a, const void *b) {
    return strcmp((*(tnode *const *)a)->name, (*(tnode *const *)b)->name);
}

/* Index JSON as nlohmann dumps it: compact, keys sorted. */
static inline void flat_json(flat_state *s, tbuf *j) {
    tbuf_str(j, "{\"nodes\":[");
    for (int i = 0; i < s->n; i++) {
        tnode *t = s->order[i];
        tnode *sorted[TNODE_MAX_CHILDREN];
        memcpy(sorted, t->children, sizeof sorted);
        qsort(sorted, (size_t)t->nchildren, sizeof sorted[0], tnode_name_cmp);
        tbuf_str(j, i ? ",{\"children\":{" : "{\"children\":{");
        for (int k = 0; k < t->nchildren; k++) {
            tnode *c = sorted[s->o->reverse_keys ? t->nchildren - 1 - k : k];
            tbuf_printf(j, "%s\"%s\":%d", k ? "," : "", c->name, c->index);
        }
        tbuf_printf(j, "},\"dataRegion\":{\"offset\":%zu,\"size\":%zu},\"kind\":%d,\"name\":\"%s\"}",
                    t->kind ? 0 : t->offset, t->kind ? 0 : t->size, t->kind, t->name);
    }
    tbuf_str(j, "]}");
}

/* Appends reverse(json) and trailing NULs to data. */
static inline void append_reversed(tbuf *out, const char *json, size_t len, size_t nuls) {
    for (size_t i = len; i-- > 0;) tbuf_put(out, &json[i], 1);
    tbuf_zeros(out, nuls);
}

/* Flattens root; returns a malloc'ed image (free()). */
static inline uint8_t *tflatten(tnode *root, const flat_opts *o, size_t *size) {
    static const flat_opts defaults = {0, 0, false};
    flat_state s;
    memset(&s, 0, sizeof s);
    s.o = o ? o : &defaults;
    flat_visit(&s, root);
    tbuf j = {0};
    flat_json(&s, &j);
    append_reversed(&s.data, (const char *)j.p, j.n, s.o->trailing_nuls);
    free(j.p);
    *size = s.data.n;
    return s.data.p;
}

/* An image from raw data bytes plus a hand-written index. */
static inline uint8_t *timage(const void *data, size_t n, const char *json, size_t nuls, size_t *size) {
    tbuf b = {0};
    tbuf_put(&b, data, n);
    append_reversed(&b, json, strlen(json), nuls);
    *size = b.n;
    return b.p;
}

/* --------------------------------------------------------- weight.bin writer */

static inline void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline void wb_init(tbuf *b) {
    uint8_t h[64] = {0};
    put_u32(h + 4, 2);
    tbuf_put(b, h, 64);
}

/* Appends a blob as StorageWriter does; returns the record offset. */
static inline uint64_t wb_add(tbuf *b, uint32_t code, const void *payload, uint64_t size, uint64_t pad) {
    size_t meta = (b->n + 63) & ~(size_t)63;
    tbuf_zeros(b, meta - b->n);
    uint8_t r[64] = {0};
    put_u32(r, 0xDEADBEEFu);
    put_u32(r + 4, code);
    put_u64(r + 8, size);
    put_u64(r + 16, meta + 64);
    put_u64(r + 24, pad);
    tbuf_put(b, r, 64);
    tbuf_put(b, payload, (size_t)size);
    uint32_t count = (uint32_t)b->p[0] | (uint32_t)b->p[1] << 8;
    put_u32(b->p, count + 1);
    return meta;
}

/* ------------------------------------------------------------ files */

static inline bool write_all(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static inline uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    tbuf b = {0};
    uint8_t tmp[65536];
    size_t r;
    while ((r = fread(tmp, 1, sizeof tmp, f)) > 0) tbuf_put(&b, tmp, r);
    fclose(f);
    if (!b.p) tbuf_put(&b, "", 0);
    *n = b.n;
    return b.p;
}

#endif
