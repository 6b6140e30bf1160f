/* core/json: the strict JSON reader under metadata.json, CMJR references,
 * inmemoryfs indexes and Manifest.json. Values, escapes, numbers, every
 * grammar error with its position, the nesting bound, and allocation through
 * the caller's allocator (every allocation failure is clean). */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "harness.h"

static cml_status parse(const char *text, cml_json_doc *doc, cml_error *err) {
    return cml_json_parse(text, strlen(text), NULL, "doc", doc, err);
}

static void expect_bad(const char *text, const char *want) {
    cml_json_doc doc;
    cml_error err = {0};
    cml_status st = parse(text, &doc, &err);
    CHECK_MSG(st == CML_ERR_CORRUPT, "'%s' parsed", text);
    CHECK_MSG(strstr(err.msg, want) != NULL, "'%s': '%s' lacks '%s'", text, err.msg, want);
    CHECK(doc.root == NULL && doc.blocks == NULL);
}

static void test_values(void) {
    const char *text = " {\"a\": [1, -2.5e2, 0.125, true, false, null], \"s\": \"x\\\"\\\\\\/\\b\\f\\n\\r\\t"
                       "\\u00e9\\ud83d\\ude00\", \"o\": {}, \"e\": [], \"a\": 7}\r\n";
    cml_json_doc doc;
    cml_error err = {0};
    CHECK_MSG(parse(text, &doc, &err) == CML_OK, "%s", err.msg);
    const cml_json *r = doc.root;
    CHECK(cml_json_is(r, CML_JSON_OBJECT) && r->count == 5);
    const cml_json *a = cml_json_get(r, "a"); /* the first of two "a" members */
    CHECK(cml_json_is(a, CML_JSON_ARRAY) && a->count == 6);
    const cml_json *e = a->child;
    CHECK(cml_json_is(e, CML_JSON_NUMBER) && e->num == 1.0);
    e = e->next;
    CHECK(e->num == -250.0);
    e = e->next;
    CHECK(e->num == 0.125);
    e = e->next;
    CHECK(cml_json_is(e, CML_JSON_BOOL) && e->boolean);
    e = e->next;
    CHECK(cml_json_is(e, CML_JSON_BOOL) && !e->boolean);
    e = e->next;
    CHECK(cml_json_is(e, CML_JSON_NULL) && e->next == NULL);
    const cml_json *s = cml_json_get(r, "s");
    const char want[] = "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80";
    CHECK(cml_json_is(s, CML_JSON_STRING) && s->len == sizeof want - 1 && strcmp(s->str, want) == 0);
    CHECK(cml_json_get(r, "o")->count == 0 && cml_json_get(r, "e")->type == CML_JSON_ARRAY);
    CHECK(cml_json_get(r, "missing") == NULL && cml_json_get(a, "a") == NULL);
    CHECK(cml_json_get(NULL, "a") == NULL);
    cml_json_free(&doc);
    cml_json_free(&doc); /* idempotent */
    /* Exact integers up to 2^53, and a scalar root. */
    CHECK(parse("9007199254740992", &doc, &err) == CML_OK && doc.root->num == 9007199254740992.0);
    cml_json_free(&doc);
    /* Not NUL-terminated: only len bytes are read. */
    CHECK(cml_json_parse("[1]]]]", 3, NULL, "doc", &doc, &err) == CML_OK && doc.root->count == 1);
    cml_json_free(&doc);
}

static void test_errors(void) {
    expect_bad("", "doc: invalid JSON at byte 0 of 0: unexpected end of input");
    expect_bad("{\"a\" 1}", "at byte 5 of 7: expected ':'");
    expect_bad("{\"a\": 1,}", "expected a member name");
    expect_bad("[1 2]", "expected ',' or ']'");
    expect_bad("[1,]", "unexpected character 0x5d");
    expect_bad("{} x", "at byte 3 of 4: trailing characters after the value");
    expect_bad("\"abc", "unterminated string");
    expect_bad("\"a\\q\"", "bad escape '\\q'");
    expect_bad("\"\\u12\"", "bad \\u escape");
    expect_bad("\"\\ud800\"", "unpaired high surrogate");
    expect_bad("\"\\udc00\"", "lone low surrogate");
    expect_bad("\"\\u0000\"", "NUL character in a string");
    expect_bad("\"a\tb\"", "control character 0x09 in a string");
    expect_bad("01", "leading zero");
    expect_bad("-", "expected a digit");
    expect_bad("1.", "expected a digit after '.'");
    expect_bad("1e+", "expected a digit in the exponent");
    expect_bad("tru", "unexpected character 't'");
    expect_bad("nul1", "unexpected character 'n'");
    char longnum[80];
    memset(longnum, '1', sizeof longnum - 1);
    longnum[sizeof longnum - 1] = 0;
    expect_bad(longnum, "number longer than 63 characters");
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 99);
    deep[199] = 0;
    expect_bad(deep, "nesting deeper than 64");
    /* 64 levels are fine. */
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = 0;
    cml_json_doc doc;
    cml_error err = {0};
    CHECK_MSG(parse(deep, &doc, &err) == CML_OK, "%s", err.msg);
    cml_json_free(&doc);
}

typedef struct counting {
    size_t n, fail_at, live;
} counting;

static void *c_alloc(void *ctx, size_t size, size_t align) {
    counting *c = ctx;
    if (++c->n == c->fail_at) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1)) return NULL;
    c->live++;
    return p;
}

static void c_free(void *ctx, void *p) {
    counting *c = ctx;
    if (p) c->live--;
    free(p);
}

/* Every allocation goes through the caller's allocator; each failure point
 * gives CML_ERR_NOMEM and leaves nothing allocated. */
static void test_allocator(void) {
    char text[20000];
    size_t pos = 0;
    pos += (size_t)snprintf(text + pos, sizeof text - pos, "[");
    for (int i = 0; i < 600; i++)
        pos += (size_t)snprintf(text + pos, sizeof text - pos, "%s{\"k%d\": \"v%d\"}", i ? "," : "", i, i);
    snprintf(text + pos, sizeof text - pos, "]");
    counting c = {0, 0, 0};
    cml_allocator a = {&c, c_alloc, c_free};
    cml_json_doc doc;
    cml_error err = {0};
    CHECK(cml_json_parse(text, strlen(text), &a, "doc", &doc, &err) == CML_OK);
    CHECK(doc.root->count == 600 && c.live > 1);
    cml_json_free(&doc);
    CHECK(c.live == 0);
    size_t total = c.n;
    for (size_t k = 1; k <= total; k++) {
        counting f = {0, k, 0};
        cml_allocator fa = {&f, c_alloc, c_free};
        cml_status st = cml_json_parse(text, strlen(text), &fa, "doc", &doc, &err);
        CHECK_MSG(st == CML_ERR_NOMEM && f.live == 0 && strstr(err.msg, "doc: out of memory"),
                  "fail at %zu: %d live %zu", k, (int)st, f.live);
    }
}

int main(void) {
    test_values();
    test_errors();
    test_allocator();
    TEST_MAIN_END();
}
