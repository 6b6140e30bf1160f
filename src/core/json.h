/*
 * A small strict JSON reader (RFC 8259) for the model files' JSON parts:
 * metadata.json, CMJR references, inmemoryfs indexes and Manifest.json.
 *
 * Contract:
 *   - Input is len bytes, not necessarily NUL-terminated, and untrusted.
 *   - Every allocation goes through the caller's allocator (one arena in
 *     blocks, freed by cml_json_free), so parsing honours cml_allocator and
 *     touches no global state (unlike cJSON's global hooks).
 *   - Nesting is bounded (CML_JSON_MAX_DEPTH); strings are unescaped to UTF-8
 *     (surrogate pairs joined; lone surrogates and embedded NULs rejected);
 *     numbers follow the JSON grammar and are held as double.
 *   - Only whitespace may follow the value.
 *   - Failures: CML_ERR_CORRUPT "<what>: invalid JSON at byte N of M: reason",
 *     CML_ERR_NOMEM.
 */
#ifndef CML_CORE_JSON_H
#define CML_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cml.h"
#include "core/status.h"

#define CML_JSON_MAX_DEPTH 64

typedef enum cml_json_type {
    CML_JSON_NULL,
    CML_JSON_BOOL,
    CML_JSON_NUMBER,
    CML_JSON_STRING,
    CML_JSON_ARRAY,
    CML_JSON_OBJECT,
} cml_json_type;

typedef struct cml_json {
    cml_json_type type;
    struct cml_json *next;   /* next element or member of the parent */
    struct cml_json *child;  /* first element or member (ARRAY, OBJECT) */
    uint32_t count;          /* number of elements or members */
    const char *key;         /* member name inside an OBJECT (NUL-terminated) */
    const char *str;         /* STRING value (NUL-terminated) */
    size_t len;              /* STRING length in bytes */
    double num;              /* NUMBER */
    bool boolean;            /* BOOL */
} cml_json;

typedef struct cml_json_doc {
    cml_json *root;
    void *blocks;            /* arena blocks (internal) */
    const cml_allocator *allocator;
} cml_json_doc;

/* Parses text[0, len). what names the document in messages. On failure doc
 * is left empty (cml_json_free on it is a no-op). */
cml_status cml_json_parse(const char *text, size_t len, const cml_allocator *allocator,
                          const char *what, cml_json_doc *doc, cml_error *err);
void cml_json_free(cml_json_doc *doc);

/* The member named key of an OBJECT (case-sensitive, first match), or NULL
 * (also when obj is NULL or not an object). */
const cml_json *cml_json_get(const cml_json *obj, const char *key);

static inline bool cml_json_is(const cml_json *j, cml_json_type type) {
    return j && j->type == type;
}

#endif
