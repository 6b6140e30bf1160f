/* Growable byte buffer and protobuf wire helpers (see lbuf.h). */
#include "lower/lbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cml_lbuf_free(cml_lbuf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

static bool lbuf_reserve(cml_lbuf *b, size_t n) {
    if (b->failed) return false;
    if (n > SIZE_MAX / 2 - b->size) { b->failed = true; return false; }
    if (b->size + n <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->size + n) cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) { b->failed = true; return false; }
    b->data = p;
    b->cap = cap;
    return true;
}

void cml_lbuf_put(cml_lbuf *b, const void *src, size_t n) {
    if (n == 0 || !lbuf_reserve(b, n)) return;
    if (src) memcpy(b->data + b->size, src, n);
    else memset(b->data + b->size, 0, n);
    b->size += n;
}

void cml_lbuf_str(cml_lbuf *b, const char *s) { cml_lbuf_put(b, s, strlen(s)); }

void cml_lbuf_printf(cml_lbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) { b->failed = true; return; }
    cml_lbuf_put(b, tmp, (size_t)n);
}

void cml_lbuf_align(cml_lbuf *b, size_t align) {
    size_t pad = (align - b->size % align) % align;
    cml_lbuf_put(b, NULL, pad);
}

void cml_lbuf_u32(cml_lbuf *b, uint32_t v) {
    uint8_t t[4];
    for (int i = 0; i < 4; i++) t[i] = (uint8_t)(v >> (8 * i));
    cml_lbuf_put(b, t, 4);
}

void cml_lbuf_u64(cml_lbuf *b, uint64_t v) {
    uint8_t t[8];
    for (int i = 0; i < 8; i++) t[i] = (uint8_t)(v >> (8 * i));
    cml_lbuf_put(b, t, 8);
}

void cml_lbuf_patch(cml_lbuf *b, size_t pos, const void *src, size_t n) {
    if (b->failed || pos > b->size || n > b->size - pos) return;
    memcpy(b->data + pos, src, n);
}

cml_status cml_lbuf_status(const cml_lbuf *b, const char *what, cml_error *err) {
    if (!b->failed) return CML_OK;
    return cml_fail(err, CML_ERR_NOMEM, "lower: out of memory writing %s", what);
}

static size_t varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

static void varint_at(uint8_t *p, uint64_t v) {
    while (v >= 0x80) { *p++ = (uint8_t)(v | 0x80); v >>= 7; }
    *p = (uint8_t)v;
}

void cml_pb_varint(cml_lbuf *b, uint64_t v) {
    uint8_t t[10];
    size_t n = varint_len(v);
    varint_at(t, v);
    cml_lbuf_put(b, t, n);
}

void cml_pb_tag(cml_lbuf *b, uint32_t field, uint32_t wire) {
    cml_pb_varint(b, ((uint64_t)field << 3) | wire);
}

void cml_pb_uint(cml_lbuf *b, uint32_t field, uint64_t v) {
    cml_pb_tag(b, field, 0);
    cml_pb_varint(b, v);
}

void cml_pb_bytes(cml_lbuf *b, uint32_t field, const void *p, size_t n) {
    cml_pb_tag(b, field, 2);
    cml_pb_varint(b, n);
    cml_lbuf_put(b, p, n);
}

void cml_pb_string(cml_lbuf *b, uint32_t field, const char *s) {
    cml_pb_bytes(b, field, s, strlen(s));
}

size_t cml_pb_begin(cml_lbuf *b, uint32_t field) {
    cml_pb_tag(b, field, 2);
    return b->size;
}

void cml_pb_end(cml_lbuf *b, size_t body_start) {
    if (b->failed || body_start > b->size) return;
    size_t len = b->size - body_start;
    size_t n = varint_len(len);
    if (!lbuf_reserve(b, n)) return;
    memmove(b->data + body_start + n, b->data + body_start, len);
    varint_at(b->data + body_start, len);
    b->size += n;
}
