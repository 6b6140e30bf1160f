/*
 * Growable byte buffer used by every writer of `cml lower` (flatbuffer,
 * protobuf, weight.bin, inmemoryfs, JSON). Allocation failure is sticky:
 * after the first failed growth every append is a no-op and `failed` stays
 * set, so writers check once at the end (cml_lbuf_status).
 *
 * The protobuf helpers write the wire format directly: a nested message is
 * opened with cml_pb_begin (which remembers where its body starts) and
 * closed with cml_pb_end, which inserts the minimal varint length in front
 * of the body. Field order is the caller's, so output is deterministic.
 */
#ifndef CML_LOWER_LBUF_H
#define CML_LOWER_LBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct cml_lbuf {
    uint8_t *data;
    size_t size;
    size_t cap;
    bool failed;
} cml_lbuf;

void cml_lbuf_free(cml_lbuf *b);
/* Appends n bytes (src NULL: zeros). */
void cml_lbuf_put(cml_lbuf *b, const void *src, size_t n);
void cml_lbuf_str(cml_lbuf *b, const char *s);
void cml_lbuf_printf(cml_lbuf *b, const char *fmt, ...) CML_PRINTF(2, 3);
/* Zero-pads to a multiple of align (a power of two). */
void cml_lbuf_align(cml_lbuf *b, size_t align);
void cml_lbuf_u32(cml_lbuf *b, uint32_t v);
void cml_lbuf_u64(cml_lbuf *b, uint64_t v);
/* Overwrites bytes at pos (pos + n <= size). */
void cml_lbuf_patch(cml_lbuf *b, size_t pos, const void *src, size_t n);
/* CML_OK, or CML_ERR_NOMEM naming what was being written. */
cml_status cml_lbuf_status(const cml_lbuf *b, const char *what, cml_error *err);

/* Protobuf wire writing. */
void cml_pb_varint(cml_lbuf *b, uint64_t v);
void cml_pb_tag(cml_lbuf *b, uint32_t field, uint32_t wire);
void cml_pb_uint(cml_lbuf *b, uint32_t field, uint64_t v);   /* varint field */
void cml_pb_bytes(cml_lbuf *b, uint32_t field, const void *p, size_t n);
void cml_pb_string(cml_lbuf *b, uint32_t field, const char *s);
/* Opens a length-delimited sub-message; returns the body start for cml_pb_end. */
size_t cml_pb_begin(cml_lbuf *b, uint32_t field);
void cml_pb_end(cml_lbuf *b, size_t body_start);

#endif
