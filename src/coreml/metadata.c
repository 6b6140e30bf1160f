/* metadata.json and CMJR references (see metadata.h). Both are parsed with
 * core/json into a transient tree (on the caller's allocator), then copied
 * into one allocation. */
#include "coreml/metadata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/checked.h"
#include "core/json.h"

/* Parses len bytes of JSON (not NUL-terminated; trailing whitespace only)
 * that must be an object. */
static cml_status parse_json(const uint8_t *data, size_t len, const cml_allocator *a,
                             const char *what, cml_json_doc *doc, cml_error *err) {
    CML_TRY(cml_json_parse((const char *)data, len, a, what, doc, err));
    if (doc->root->type == CML_JSON_OBJECT) return CML_OK;
    cml_json_free(doc);
    return cml_fail(err, CML_ERR_CORRUPT, "%s: not a JSON object", what);
}

/* ------------------------------------------------------------ metadata */

/* Size accounting, then copying, share one walker: with out == NULL it
 * only validates and counts. */
typedef struct md_pool {
    uint8_t *base;   /* NULL while measuring */
    size_t pos;
    const cml_allocator *allocator;
} md_pool;

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sets *dup to a string that occurs twice among the array's strings (or the
 * object's keys), or NULL. Sorting keeps this O(n log n) on hostile input. */
static cml_status find_duplicate(const cml_json *container, bool keys, const cml_allocator *a,
                                 const char **dup, cml_error *err) {
    size_t n = 0;
    for (const cml_json *e = container->child; e; e = e->next) n++;
    *dup = NULL;
    if (n < 2) return CML_OK;
    const char **v = cml_calloc(a, n, sizeof *v);
    if (!v) return cml_fail(err, CML_ERR_NOMEM, "metadata.json: out of memory");
    size_t k = 0;
    for (const cml_json *e = container->child; e; e = e->next) v[k++] = keys ? e->key : e->str;
    qsort(v, n, sizeof *v, cmp_str);
    for (k = 1; k < n && !*dup; k++)
        if (strcmp(v[k - 1], v[k]) == 0) *dup = v[k];
    cml_free(a, v);
    return CML_OK;
}

static void *pool_take(md_pool *p, size_t n, size_t align) {
    p->pos = cml_align_up(p->pos, align);
    void *r = p->base ? p->base + p->pos : NULL;
    p->pos += n;
    return r;
}

static const char *pool_str(md_pool *p, const char *s) {
    size_t n = strlen(s) + 1;
    char *d = pool_take(p, n, 1);
    if (d) memcpy(d, s, n);
    return d;
}

static cml_status names_list(const cml_json *obj, const char *key, const char *where, bool required,
                             bool nonempty, md_pool *p, const char *const **out_names,
                             uint32_t *out_n, cml_error *err) {
    const cml_json *arr = cml_json_get(obj, key);
    if (!arr) {
        if (required)
            return cml_fail(err, CML_ERR_CORRUPT, "metadata.json: %s'%s' is missing", where, key);
        *out_names = NULL;
        *out_n = 0;
        return CML_OK;
    }
    if (!cml_json_is(arr, CML_JSON_ARRAY))
        return cml_fail(err, CML_ERR_CORRUPT, "metadata.json: %s'%s' is not an array", where, key);
    uint32_t n = 0;
    for (const cml_json *e = arr->child; e; e = e->next, n++) {
        if (!cml_json_is(e, CML_JSON_STRING) || e->str[0] == '\0')
            return cml_fail(err, CML_ERR_CORRUPT, "metadata.json: %s'%s'[%u] is not a non-empty "
                            "string", where, key, n);
    }
    const char *dup = NULL;
    if (!p->base) { /* check once, while measuring */
        cml_status st = find_duplicate(arr, false, p->allocator, &dup, err);
        if (st != CML_OK) return st;
        if (dup)
            return cml_fail(err, CML_ERR_CORRUPT, "metadata.json: %s'%s' lists '%.100s' twice",
                            where, key, dup);
    }
    if (n == 0 && nonempty)
        return cml_fail(err, CML_ERR_CORRUPT, "metadata.json: %s'%s' is empty", where, key);
    const char **names = pool_take(p, (size_t)n * sizeof(char *), sizeof(char *));
    uint32_t k = 0;
    for (const cml_json *e = arr->child; e; e = e->next, k++) {
        const char *s = pool_str(p, e->str);
        if (names) names[k] = s;
    }
    *out_names = names;
    *out_n = n;
    return CML_OK;
}

static cml_status method_io(const cml_json *obj, const char *method, md_pool *p,
                            cml_coreml_method_io *io, cml_error *err) {
    char where[160] = "";
    if (method) snprintf(where, sizeof where, "methods['%.100s'] ", method);
    io->method = method ? pool_str(p, method) : NULL;
    CML_TRY(names_list(obj, "inputNames", where, true, false, p, &io->input_names, &io->ninputs,
                       err));
    return names_list(obj, "outputNames", where, true, true, p, &io->output_names, &io->noutputs,
                      err);
}

static cml_status md_walk(const cml_json *json, md_pool *p, cml_coreml_metadata *md,
                          cml_error *err) {
    const cml_json *id = cml_json_get(json, "identifier");
    if (!cml_json_is(id, CML_JSON_STRING))
        return cml_fail(err, CML_ERR_CORRUPT, "metadata.json: 'identifier' is missing or not a "
                        "string");
    if (id->str[0] == '\0')
        return cml_fail(err, CML_ERR_CORRUPT, "metadata.json: 'identifier' is empty");
    md->identifier = pool_str(p, id->str);
    const cml_json *methods = cml_json_get(json, "methods");
    md->multifunction = methods != NULL;
    if (!methods) {
        md->nmethods = 1;
        cml_coreml_method_io tmp, *io = pool_take(p, sizeof *io, sizeof(void *));
        md->methods = io;
        return method_io(json, NULL, p, io ? io : &tmp, err);
    }
    if (!cml_json_is(methods, CML_JSON_OBJECT))
        return cml_fail(err, CML_ERR_CORRUPT, "metadata.json: 'methods' is not an object");
    uint32_t n = 0;
    for (const cml_json *m = methods->child; m; m = m->next) {
        if (!cml_json_is(m, CML_JSON_OBJECT))
            return cml_fail(err, CML_ERR_CORRUPT, "metadata.json: methods['%.100s'] is not an "
                            "object", m->key);
        n++;
    }
    if (!p->base) {
        const char *dup = NULL;
        CML_TRY(find_duplicate(methods, true, p->allocator, &dup, err));
        if (dup)
            return cml_fail(err, CML_ERR_CORRUPT, "metadata.json: method '%.100s' listed twice",
                            dup);
    }
    if (n == 0) return cml_fail(err, CML_ERR_CORRUPT, "metadata.json: 'methods' is empty");
    md->nmethods = n;
    cml_coreml_method_io *ios = pool_take(p, (size_t)n * sizeof *ios, sizeof(void *));
    uint32_t k = 0;
    for (const cml_json *m = methods->child; m; m = m->next, k++) {
        cml_coreml_method_io tmp;
        CML_TRY(method_io(m, m->key, p, ios ? &ios[k] : &tmp, err));
    }
    md->methods = ios;
    return CML_OK;
}

cml_status cml_coreml_metadata_parse(const uint8_t *json_bytes, size_t len,
                                     const cml_allocator *allocator, cml_coreml_metadata *out,
                                     cml_error *err) {
    cml_json_doc doc;
    CML_TRY(parse_json(json_bytes, len, allocator, "metadata.json", &doc, err));
    const cml_json *json = doc.root;
    cml_status st;
    cml_coreml_metadata md = {0};
    md_pool p = {NULL, 0, allocator};
    st = md_walk(json, &p, &md, err);
    if (st == CML_OK) {
        md_pool real = {cml_malloc(allocator, p.pos), 0, allocator};
        if (!real.base) {
            st = cml_fail(err, CML_ERR_NOMEM, "metadata.json: out of memory");
        } else {
            memset(&md, 0, sizeof md);
            st = md_walk(json, &real, &md, err);
            md.storage = real.base;
            md.allocator = allocator;
            if (st != CML_OK) cml_free(allocator, real.base);
        }
    }
    cml_json_free(&doc);
    if (st == CML_OK) *out = md;
    return st;
}

void cml_coreml_metadata_free(cml_coreml_metadata *md) {
    if (!md) return;
    cml_free(md->allocator, md->storage);
    memset(md, 0, sizeof *md);
}

const cml_coreml_method_io *cml_coreml_metadata_method(const cml_coreml_metadata *md,
                                                       const char *method, cml_error *err) {
    if (!md || !md->methods) {
        cml_fail(err, CML_ERR_INVALID_ARG, "metadata.json: not parsed");
        return NULL;
    }
    if (!md->multifunction || (!method && md->nmethods == 1)) return &md->methods[0];
    if (method)
        for (uint32_t i = 0; i < md->nmethods; i++)
            if (strcmp(md->methods[i].method, method) == 0) return &md->methods[i];
    char list[256] = "";
    size_t pos = 0;
    for (uint32_t i = 0; i < md->nmethods && pos < sizeof list; i++) {
        int w = snprintf(list + pos, sizeof list - pos, "%s'%s'", i ? ", " : "",
                         md->methods[i].method);
        if (w < 0) break;
        pos += (size_t)w;
    }
    cml_fail(err, CML_ERR_NOT_FOUND, "metadata.json: no entry for method '%.100s' in 'methods' "
             "(has %.300s)", method ? method : "(unnamed)", list);
    return NULL;
}

/* ---------------------------------------------------------------- CMJR */

bool cml_cmjr_is_reference(const uint8_t *data, size_t size) {
    return data && size >= CML_CMJR_MAGIC_LEN && memcmp(data, CML_CMJR_MAGIC, CML_CMJR_MAGIC_LEN) == 0;
}

cml_status cml_cmjr_parse(const uint8_t *data, size_t size, const cml_allocator *allocator,
                          cml_cmjr_ref *out, cml_error *err) {
    if (!cml_cmjr_is_reference(data, size))
        return cml_fail(err, CML_ERR_CORRUPT, "CMJR reference: missing \"CMJR\" magic");
    cml_json_doc doc;
    CML_TRY(parse_json(data + CML_CMJR_MAGIC_LEN, size - CML_CMJR_MAGIC_LEN, allocator,
                       "CMJR reference", &doc, err));
    const cml_json *json = doc.root;
    cml_status st = CML_OK;
    cml_cmjr_ref ref = {0};
    ref.allocator = allocator;
    const cml_json *version = cml_json_get(json, "version");
    const cml_json *key = cml_json_get(json, "key");
    const cml_json *fn = cml_json_get(json, "functionName");
    if (version) {
        if (!cml_json_is(version, CML_JSON_NUMBER) || version->num != 1.0) {
            st = cml_json_is(version, CML_JSON_NUMBER)
                     ? cml_fail(err, CML_ERR_UNSUPPORTED, "CMJR reference: version %g (only 1 is "
                                "supported)", version->num)
                     : cml_fail(err, CML_ERR_CORRUPT, "CMJR reference: 'version' is not a number");
            goto done;
        }
        ref.version = 1;
    }
    if (!cml_json_is(key, CML_JSON_STRING) || key->str[0] == '\0') {
        st = cml_fail(err, CML_ERR_CORRUPT, "CMJR reference: 'key' is missing or not a non-empty "
                      "string");
        goto done;
    }
    if (fn && !cml_json_is(fn, CML_JSON_STRING) && !cml_json_is(fn, CML_JSON_NULL)) {
        st = cml_fail(err, CML_ERR_CORRUPT, "CMJR reference: 'functionName' is not a string");
        goto done;
    }
    ref.key = cml_strndup(allocator, key->str, strlen(key->str));
    if (cml_json_is(fn, CML_JSON_STRING))
        ref.function_name = cml_strndup(allocator, fn->str, strlen(fn->str));
    if (!ref.key || (cml_json_is(fn, CML_JSON_STRING) && !ref.function_name)) {
        cml_cmjr_free(&ref);
        st = cml_fail(err, CML_ERR_NOMEM, "CMJR reference: out of memory");
    }
done:
    cml_json_free(&doc);
    if (st == CML_OK) *out = ref;
    return st;
}

void cml_cmjr_free(cml_cmjr_ref *ref) {
    if (!ref) return;
    cml_free(ref->allocator, ref->key);
    cml_free(ref->allocator, ref->function_name);
    memset(ref, 0, sizeof *ref);
}
