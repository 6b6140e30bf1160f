/* inmemoryfs image of the lowered module (see payload_write.h). */
#include "lower/payload_write.h"

#include <stdbool.h>
#include <string.h>

typedef struct fs_node {
    const char *name;
    const uint8_t *data;       /* file bytes (NULL: directory) */
    size_t size;
    int children[6];           /* node indices, -1 terminated; alphabetical */
    uint64_t offset;
} fs_node;

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 0x100000001b3ull; }
    return h;
}

/* A uuid-shaped string from a hash (version nibble 4, variant 10xx). */
static void uuid_from(uint64_t a, uint64_t b, char out[37]) {
    uint8_t u[16];
    for (int i = 0; i < 8; i++) { u[i] = (uint8_t)(a >> (8 * i)); u[8 + i] = (uint8_t)(b >> (8 * i)); }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[k++] = '-';
        out[k++] = hex[u[i] >> 4];
        out[k++] = hex[u[i] & 15];
    }
    out[k] = 0;
}

static void names_json(cml_lbuf *b, const char *key, const char *const *names, unsigned n) {
    cml_lbuf_printf(b, "\"%s\": [", key);
    for (unsigned i = 0; i < n; i++) cml_lbuf_printf(b, "%s\"%s\"", i ? ", " : "", names[i]);
    cml_lbuf_str(b, "]");
}

static void manifest_json(cml_lbuf *b, const char *model_id, const char *weights_id) {
    cml_lbuf_printf(b,
        "{\n    \"fileFormatVersion\": \"1.0.0\",\n    \"itemInfoEntries\": {\n"
        "        \"%s\": {\n            \"author\": \"com.apple.CoreML\",\n"
        "            \"description\": \"CoreML Model Weights\",\n"
        "            \"name\": \"weights\",\n            \"path\": \"com.apple.CoreML/weights\"\n"
        "        },\n", weights_id);
    cml_lbuf_printf(b,
        "        \"%s\": {\n            \"author\": \"com.apple.CoreML\",\n"
        "            \"description\": \"CoreML Model Specification\",\n"
        "            \"name\": \"model.mlmodel\",\n"
        "            \"path\": \"com.apple.CoreML/model.mlmodel\"\n        }\n    },\n"
        "    \"rootModelIdentifier\": \"%s\"\n}", model_id, model_id);
}

/* Post-order: files get their offsets, data appended back to back. */
static void write_data(fs_node *nodes, int i, cml_lbuf *out) {
    for (int k = 0; k < 6 && nodes[i].children[k] >= 0; k++) write_data(nodes, nodes[i].children[k], out);
    if (nodes[i].children[0] < 0) {
        nodes[i].offset = out->size;
        cml_lbuf_put(out, nodes[i].data, nodes[i].size);
    }
}

static void index_json(const fs_node *nodes, int n, cml_lbuf *j) {
    cml_lbuf_str(j, "{\"nodes\":[");
    for (int i = 0; i < n; i++) {
        const fs_node *f = &nodes[i];
        bool dir = f->children[0] >= 0;
        cml_lbuf_printf(j, "%s{\"children\":{", i ? "," : "");
        for (int k = 0; k < 6 && f->children[k] >= 0; k++)
            cml_lbuf_printf(j, "%s\"%s\":%d", k ? "," : "", nodes[f->children[k]].name, f->children[k]);
        cml_lbuf_printf(j, "},\"dataRegion\":{\"offset\":%llu,\"size\":%llu},\"kind\":%d,"
                        "\"name\":\"%s\"}", dir ? 0ull : (unsigned long long)f->offset,
                        dir ? 0ull : (unsigned long long)f->size, dir ? 1 : 0, f->name);
    }
    cml_lbuf_str(j, "]}");
}

static void debug_info_json(const cml_payload_parts *p, cml_lbuf *b) {
    cml_lbuf_str(b, "{\"versionInfo\": \"9.0\", \"debugSymbolToOperationPath\": {");
    cml_lbuf_put(b, p->debug_symbols->data, p->debug_symbols->size);
    cml_lbuf_str(b, "}, \"debugSymbolToHandles\": {");
    cml_lbuf_put(b, p->debug_handles->data, p->debug_handles->size);
    cml_lbuf_str(b, "}}");
}

static void build_tree(fs_node *n, const cml_payload_parts *p, const cml_lbuf *meta,
                       const cml_lbuf *manifest, const cml_lbuf *dbg, const cml_lbuf *map) {
    /* post-order indices: 0 debug_info.json 1 metadata.json 2 model.mlmodel
     * 3 weight.bin 4 weights 5 com.apple.CoreML 6 Data 7 Manifest.json
     * 8 executorch_debug_handle_mapping.json 9 model.mlpackage 10 root */
    static const struct { const char *name; int ch[4]; } shape[11] = {
        {"debug_info.json", {-1}}, {"metadata.json", {-1}}, {"model.mlmodel", {-1}},
        {"weight.bin", {-1}}, {"weights", {3, -1}}, {"com.apple.CoreML", {2, 4, -1}},
        {"Data", {5, -1}}, {"Manifest.json", {-1}},
        {"executorch_debug_handle_mapping.json", {-1}}, {"model.mlpackage", {6, 7, 8, -1}},
        {"lowered_module", {0, 1, 9, -1}}};
    const cml_lbuf *files[11] = {dbg, meta, p->mlmodel, p->weights, NULL, NULL, NULL,
                                 manifest, map, NULL, NULL};
    for (int i = 0; i < 11; i++) {
        memset(n[i].children, 0xff, sizeof n[i].children);
        n[i].name = shape[i].name;
        for (int k = 0; k < 4 && shape[i].ch[k] >= 0; k++) n[i].children[k] = shape[i].ch[k];
        n[i].data = files[i] ? files[i]->data : NULL;
        n[i].size = files[i] ? files[i]->size : 0;
        n[i].offset = 0;
    }
}

cml_status cml_payload_write(const cml_payload_parts *p, cml_lbuf *out, cml_error *err) {
    uint64_t h = fnv1a(0xcbf29ce484222325ull, p->mlmodel->data, p->mlmodel->size);
    uint64_t h2 = fnv1a(h ^ 0x9e3779b97f4a7c15ull, p->weights->data, p->weights->size);
    char model_id[37], weights_id[37], ident[37];
    uuid_from(h, h2, model_id);
    uuid_from(h2, h * 31u + 7u, weights_id);
    uuid_from(h ^ h2, h2 * 131u + 3u, ident);
    cml_lbuf meta = {0}, manifest = {0}, dbg = {0}, map = {0}, json = {0};
    cml_lbuf_str(&meta, "{");
    names_json(&meta, "inputNames", p->input_names, p->ninputs);
    cml_lbuf_str(&meta, ", ");
    names_json(&meta, "outputNames", p->output_names, p->noutputs);
    cml_lbuf_printf(&meta, ", \"identifier\": \"executorch_%s\"}", ident);
    manifest_json(&manifest, model_id, weights_id);
    debug_info_json(p, &dbg);
    cml_lbuf_str(&map, "{\"version\": \"9.0\", \"mapping\": {");
    cml_lbuf_put(&map, p->debug_map->data, p->debug_map->size);
    cml_lbuf_str(&map, "}}");
    fs_node nodes[11];
    build_tree(nodes, p, &meta, &manifest, &dbg, &map);
    write_data(nodes, 10, out);
    index_json(nodes, 11, &json);
    for (size_t i = 0; !json.failed && i < json.size; i++) cml_lbuf_put(out, &json.data[json.size - 1 - i], 1);
    if (json.failed || meta.failed || manifest.failed || dbg.failed || map.failed) out->failed = true;
    cml_lbuf_free(&meta); cml_lbuf_free(&manifest); cml_lbuf_free(&dbg);
    cml_lbuf_free(&map); cml_lbuf_free(&json);
    return cml_lbuf_status(out, "the Core ML payload", err);
}
