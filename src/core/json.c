/* Strict JSON reader over the caller's allocator; see json.h. */
#include "core/json.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* ---- arena ---------------------------------------------------------------- */

typedef struct json_block {
    struct json_block *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} json_block;

#define JSON_BLOCK_MIN 4096

static void *arena_alloc(cml_json_doc *doc, size_t n) {
    n = (n + 15) & ~(size_t)15;
    json_block *b = doc->blocks;
    if (!b || b->size - b->used < n) {
        size_t size = n > JSON_BLOCK_MIN ? n : JSON_BLOCK_MIN;
        if (size > SIZE_MAX - sizeof *b) return NULL;
        json_block *nb = cml_malloc(doc->allocator, sizeof *nb + size);
        if (!nb) return NULL;
        nb->next = b;
        nb->used = 0;
        nb->size = size;
        doc->blocks = b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

void cml_json_free(cml_json_doc *doc) {
    if (!doc) return;
    for (json_block *b = doc->blocks, *next; b; b = next) {
        next = b->next;
        cml_free(doc->allocator, b);
    }
    doc->blocks = NULL;
    doc->root = NULL;
}

/* ---- parser --------------------------------------------------------------- */

typedef struct json_parser {
    const char *s;
    size_t n, pos;
    const char *what;
    cml_error *err;
    cml_json_doc *doc;
    cml_status status; /* CORRUPT or NOMEM once failed */
} json_parser;

static bool fail(json_parser *p, const char *fmt, ...) CML_PRINTF(2, 3);
static bool fail(json_parser *p, const char *fmt, ...) {
    char reason[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    p->status = cml_fail(p->err, CML_ERR_CORRUPT, "%s: invalid JSON at byte %zu of %zu: %s",
                         p->what, p->pos, p->n, reason);
    return false;
}

static bool oom(json_parser *p) {
    p->status = cml_fail(p->err, CML_ERR_NOMEM, "%s: out of memory parsing JSON", p->what);
    return false;
}

static void skip_ws(json_parser *p) {
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                             p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static bool literal(json_parser *p, const char *word) {
    size_t len = strlen(word);
    if (p->n - p->pos < len || memcmp(p->s + p->pos, word, len) != 0)
        return fail(p, "unexpected character '%c'", p->s[p->pos]);
    p->pos += len;
    return true;
}

static int hex4(const char *s) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A \u escape at p->pos (just past the 'u'), joining surrogate pairs. */
static bool unicode_escape(json_parser *p, uint32_t *cp) {
    int hi = p->n - p->pos >= 4 ? hex4(p->s + p->pos) : -1;
    if (hi < 0) return fail(p, "bad \\u escape");
    p->pos += 4;
    if (hi >= 0xdc00 && hi <= 0xdfff) return fail(p, "lone low surrogate");
    if (hi < 0xd800 || hi > 0xdbff) {
        if (hi == 0) return fail(p, "NUL character in a string");
        *cp = (uint32_t)hi;
        return true;
    }
    int lo = p->n - p->pos >= 6 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u'
                 ? hex4(p->s + p->pos + 2) : -1;
    if (lo < 0xdc00 || lo > 0xdfff) return fail(p, "unpaired high surrogate");
    p->pos += 6;
    *cp = 0x10000 + (((uint32_t)hi - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
    return true;
}

static bool escape(json_parser *p, char *out, size_t *w) {
    char c = p->s[p->pos++];
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = c ? strchr(from, c) : NULL;
    if (k) {
        out[(*w)++] = to[k - from];
        return true;
    }
    if (c != 'u') return fail(p, "bad escape '\\%c'", c);
    uint32_t cp = 0;
    if (!unicode_escape(p, &cp)) return false;
    *w += put_utf8(out + *w, cp);
    return true;
}

/* A string at p->pos (the opening quote). The unescaped text is never longer
 * than the raw text, which sizes the copy. */
static bool string(json_parser *p, const char **str, size_t *len) {
    size_t start = ++p->pos, end = start;
    while (end < p->n && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->n) return fail(p, "unterminated string");
    char *out = arena_alloc(p->doc, end - start + 1);
    if (!out) return oom(p);
    size_t w = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) return fail(p, "control character 0x%02x in a string", c);
        if (c == '\\') {
            p->pos++;
            if (!escape(p, out, &w)) return false;
        } else {
            out[w++] = (char)c;
            p->pos++;
        }
    }
    p->pos = end + 1;
    out[w] = '\0';
    *str = out;
    *len = w;
    return true;
}

static size_t digits(json_parser *p) {
    size_t k = 0;
    while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++, k++;
    return k;
}

static bool number(json_parser *p, double *out) {
    size_t start = p->pos;
    if (p->s[p->pos] == '-') p->pos++;
    size_t lead = p->pos;
    if (digits(p) == 0) return fail(p, "expected a digit");
    if (p->s[lead] == '0' && p->pos - lead > 1) return fail(p, "leading zero");
    if (p->pos < p->n && p->s[p->pos] == '.') {
        p->pos++;
        if (digits(p) == 0) return fail(p, "expected a digit after '.'");
    }
    if (p->pos < p->n && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->n && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        if (digits(p) == 0) return fail(p, "expected a digit in the exponent");
    }
    char buf[64];
    size_t len = p->pos - start;
    if (len >= sizeof buf) return fail(p, "number longer than %zu characters", sizeof buf - 1);
    memcpy(buf, p->s + start, len);
    buf[len] = '\0';
    const char *dp = localeconv()->decimal_point; /* strtod follows the locale */
    char *dot = strchr(buf, '.');
    if (dot && dp && dp[0] && !dp[1]) *dot = dp[0];
    *out = strtod(buf, NULL);
    return true;
}

static bool value(json_parser *p, cml_json *v, int depth);

/* Elements of an array or members of an object, after the opening bracket. */
static bool container(json_parser *p, cml_json *v, bool object, int depth) {
    if (depth >= CML_JSON_MAX_DEPTH) return fail(p, "nesting deeper than %d", CML_JSON_MAX_DEPTH);
    char close = object ? '}' : ']';
    p->pos++;
    skip_ws(p);
    cml_json **tail = &v->child;
    if (p->pos < p->n && p->s[p->pos] == close) {
        p->pos++;
        return true;
    }
    for (;;) {
        cml_json *item = arena_alloc(p->doc, sizeof *item);
        if (!item) return oom(p);
        memset(item, 0, sizeof *item);
        skip_ws(p);
        if (object) {
            size_t klen;
            if (p->pos >= p->n || p->s[p->pos] != '"') return fail(p, "expected a member name");
            if (!string(p, &item->key, &klen)) return false;
            skip_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != ':') return fail(p, "expected ':'");
            p->pos++;
        }
        if (!value(p, item, depth + 1)) return false;
        *tail = item;
        tail = &item->next;
        v->count++;
        skip_ws(p);
        if (p->pos < p->n && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->n && p->s[p->pos] == close) {
            p->pos++;
            return true;
        }
        return fail(p, "expected ',' or '%c'", close);
    }
}

static bool value(json_parser *p, cml_json *v, int depth) {
    skip_ws(p);
    if (p->pos >= p->n) return fail(p, "unexpected end of input");
    char c = p->s[p->pos];
    switch (c) {
    case '{': v->type = CML_JSON_OBJECT; return container(p, v, true, depth);
    case '[': v->type = CML_JSON_ARRAY; return container(p, v, false, depth);
    case '"': v->type = CML_JSON_STRING; return string(p, &v->str, &v->len);
    case 't': v->type = CML_JSON_BOOL; v->boolean = true; return literal(p, "true");
    case 'f': v->type = CML_JSON_BOOL; return literal(p, "false");
    case 'n': v->type = CML_JSON_NULL; return literal(p, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            v->type = CML_JSON_NUMBER;
            return number(p, &v->num);
        }
        return fail(p, "unexpected character 0x%02x", (unsigned char)c);
    }
}

cml_status cml_json_parse(const char *text, size_t len, const cml_allocator *allocator,
                          const char *what, cml_json_doc *doc, cml_error *err) {
    memset(doc, 0, sizeof *doc);
    doc->allocator = allocator;
    json_parser p = {text, len, 0, what ? what : "JSON", err, doc, CML_OK};
    if (!text && len) return cml_fail(err, CML_ERR_INVALID_ARG, "%s: NULL text", p.what);
    cml_json *root = arena_alloc(doc, sizeof *root);
    bool ok = root != NULL;
    if (!ok) oom(&p);
    if (ok) {
        memset(root, 0, sizeof *root);
        ok = value(&p, root, 0);
    }
    if (ok) {
        skip_ws(&p);
        if (p.pos != len) ok = fail(&p, "trailing characters after the value");
    }
    if (!ok) {
        cml_json_free(doc);
        return p.status;
    }
    doc->root = root;
    return CML_OK;
}

const cml_json *cml_json_get(const cml_json *obj, const char *key) {
    if (!cml_json_is(obj, CML_JSON_OBJECT) || !key) return NULL;
    for (const cml_json *m = obj->child; m; m = m->next)
        if (strcmp(m->key, key) == 0) return m;
    return NULL;
}
