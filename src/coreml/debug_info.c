/* debug_info.json -> per-op debug handles (debug_info.h). */
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "coreml/debug_info.h"

/* Whether key is "<output>:<type>". */
static bool symbol_is(const char *key, const char *output, const char *type) {
    size_t n = strlen(output);
    return strncmp(key, output, n) == 0 && key[n] == ':' && strcmp(key + n + 1, type) == 0;
}

/* The first integer of the handle list member matching the node, or -1. */
static int64_t handle_of(const cml_json *map, const char *output, const char *type) {
    for (const cml_json *m = map->child; m; m = m->next) {
        if (!m->key || !symbol_is(m->key, output, type)) continue;
        const cml_json *first = cml_json_is(m, CML_JSON_ARRAY) ? m->child : NULL;
        if (!cml_json_is(first, CML_JSON_NUMBER)) return -1;
        double v = first->num;
        return v >= 0 && v <= 2147483647.0 && v == (double)(int64_t)v ? (int64_t)v : -1;
    }
    return -1;
}

static void fill(const cml_json *map, const cml_mil_graph *g, int64_t *out) {
    for (uint32_t i = 0; i < g->main.nnodes; i++) {
        const cml_mil_node *node = &g->main.nodes[i];
        const char *output = node->noutputs ? g->values[node->outputs[0]].name : NULL;
        out[i] = map && output ? handle_of(map, output, node->type) : -1;
    }
}

cml_status cml_coreml_debug_handles(const cml_imfs *fs, const cml_mil_graph *g,
                                    const cml_allocator *allocator, int64_t **out,
                                    cml_error *err) {
    int64_t *h = cml_calloc(allocator, g->main.nnodes ? g->main.nnodes : 1, sizeof *h);
    if (!h) return cml_fail(err, CML_ERR_NOMEM, "out of memory for debug handles");
    const cml_imfs_node *file = fs && fs->root ? cml_imfs_lookup(fs, NULL, "debug_info.json") : NULL;
    cml_json_doc doc = {0};
    cml_error ignored = {0};
    const cml_json *map = NULL;
    if (file && file->kind == CML_IMFS_FILE &&
        cml_json_parse((const char *)file->data, (size_t)file->size, allocator, "debug_info.json",
                       &doc, &ignored) == CML_OK)
        map = cml_json_get(doc.root, "debugSymbolToHandles");
    if (!cml_json_is(map, CML_JSON_OBJECT)) map = NULL;
    fill(map, g, h);
    cml_json_free(&doc);
    if (ignored.status == CML_ERR_NOMEM) {
        cml_free(allocator, h);
        return cml_fail(err, CML_ERR_NOMEM, "out of memory for debug_info.json");
    }
    *out = h;
    return CML_OK;
}
