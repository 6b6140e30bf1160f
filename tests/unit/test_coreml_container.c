/* inmemoryfs, metadata.json and CMJR: the worked example of
 * coreml-delegate.md section 5.5, writer variants, and corrupt inputs. */
#include <string.h>

#include "core/status.h"
#include "coreml/inmemoryfs.h"
#include "coreml/metadata.h"
#include "harness.h"
#include "test_coreml_util.h"

static const char k_meta[] =
    "{\"inputNames\": [\"x\"], \"outputNames\": [\"y\"], \"identifier\": \"executorch_abc\"}";
static const char k_manifest[] = "{\"fileFormatVersion\":\"1.0.0\"}";

/* lm/{metadata.json, model.mlpackage/{Manifest.json, Data/com.apple.CoreML/
 * {model.mlmodel, weights/weight.bin}}} in upstream's hash-map visit order. */
typedef struct example {
    tnode root, meta, pkg, manifest, data, apple, model, weights, wbin;
} example;

static void example_init(example *e) {
    e->root = tdir("lm");
    e->meta = tfile("metadata.json", k_meta, strlen(k_meta));
    e->pkg = tdir("model.mlpackage");
    e->manifest = tfile("Manifest.json", k_manifest, strlen(k_manifest));
    e->data = tdir("Data");
    e->apple = tdir("com.apple.CoreML");
    e->model = tfile("model.mlmodel", "MODELSPEC", 9);
    e->weights = tdir("weights");
    e->wbin = tfile("weight.bin", "WEIGHTS!!", 9);
    tadd(&e->weights, &e->wbin);
    tadd(&e->apple, &e->weights);
    tadd(&e->apple, &e->model);
    tadd(&e->data, &e->apple);
    tadd(&e->pkg, &e->data);
    tadd(&e->pkg, &e->manifest);
    tadd(&e->root, &e->meta);
    tadd(&e->root, &e->pkg);
}

typedef struct expect_node {
    const char *name;
    int kind;
    uint64_t offset, size;
    const char *children; /* "name:index,..." in name order */
} expect_node;

static const expect_node k_nodes[] = {
    {"metadata.json", 0, 0, 75, ""},
    {"weight.bin", 0, 75, 9, ""},
    {"weights", 1, 0, 0, "weight.bin:1"},
    {"model.mlmodel", 0, 84, 9, ""},
    {"com.apple.CoreML", 1, 0, 0, "model.mlmodel:3,weights:2"},
    {"Data", 1, 0, 0, "com.apple.CoreML:4"},
    {"Manifest.json", 0, 93, 29, ""},
    {"model.mlpackage", 1, 0, 0, "Data:5,Manifest.json:6"},
    {"lm", 1, 0, 0, "metadata.json:0,model.mlpackage:7"},
};

static void children_str(const cml_imfs *fs, const cml_imfs_node *n, char *buf, size_t cap) {
    size_t pos = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < n->nchildren; i++) {
        const cml_imfs_node *c = &fs->nodes[n->children[i]];
        pos += (size_t)snprintf(buf + pos, cap - pos, "%s%s:%u", i ? "," : "", c->name, c->index);
    }
}

static void check_example(const uint8_t *img, size_t size, bool exact_offsets) {
    cml_imfs fs;
    cml_error err = {0};
    cml_status st = cml_imfs_parse(img, size, NULL, &fs, &err);
    CHECK_MSG(st == CML_OK, "%s", err.msg);
    if (st != CML_OK) return;
    CHECK(fs.nnodes == 9);
    CHECK(fs.root == &fs.nodes[8]);
    for (uint32_t i = 0; i < 9 && i < fs.nnodes; i++) {
        const cml_imfs_node *n = &fs.nodes[i];
        char kids[256];
        children_str(&fs, n, kids, sizeof kids);
        CHECK_MSG(strcmp(n->name, k_nodes[i].name) == 0, "node %u name %s", i, n->name);
        CHECK((int)n->kind == k_nodes[i].kind);
        CHECK_MSG(strcmp(kids, k_nodes[i].children) == 0, "node %u children %s", i, kids);
        if (n->kind == CML_IMFS_FILE) {
            CHECK(n->size == k_nodes[i].size);
            if (exact_offsets) CHECK(n->offset == k_nodes[i].offset);
        }
        CHECK(n->parent == (i == 8 ? CML_IMFS_NO_PARENT : fs.nodes[n->parent].index));
    }
    const cml_imfs_node *m =
        cml_imfs_lookup(&fs, NULL, "model.mlpackage/Data/com.apple.CoreML/model.mlmodel");
    CHECK(m && m->size == 9 && memcmp(m->data, "MODELSPEC", 9) == 0);
    m = cml_imfs_lookup(&fs, NULL, "/model.mlpackage//Data/com.apple.CoreML/weights/weight.bin");
    CHECK(m && memcmp(m->data, "WEIGHTS!!", 9) == 0);
    m = cml_imfs_lookup(&fs, NULL, "metadata.json");
    CHECK(m && m->size == strlen(k_meta) && memcmp(m->data, k_meta, m->size) == 0);
    const cml_imfs_node *pkg = cml_imfs_lookup(&fs, NULL, "model.mlpackage");
    CHECK(pkg && pkg->kind == CML_IMFS_DIR);
    m = cml_imfs_lookup(&fs, pkg, "Manifest.json");
    CHECK(m && memcmp(m->data, k_manifest, m->size) == 0);
    CHECK(cml_imfs_lookup(&fs, NULL, "") == fs.root);
    CHECK(cml_imfs_lookup(&fs, NULL, "model.mlpackage/Data/missing") == NULL);
    CHECK(cml_imfs_lookup(&fs, NULL, "metadata.json/x") == NULL);
    CHECK(cml_imfs_lookup(&fs, NULL, "model.mlmodelc") == NULL);
    CHECK(cml_imfs_child(&fs, fs.root, "metadata.jso", 12) == NULL);
    cml_imfs_free(&fs);
    cml_imfs_free(&fs); /* idempotent */
}

typedef struct walk_log {
    tbuf text;
    int stop_after;
    int seen;
} walk_log;

static cml_status log_visit(void *ctx, const cml_imfs *fs, const cml_imfs_node *node,
                            const char *path, cml_error *err) {
    (void)fs;
    walk_log *w = ctx;
    tbuf_printf(&w->text, "%s%s\n", path, node->kind == CML_IMFS_DIR ? "/" : "");
    if (++w->seen == w->stop_after) return cml_fail(err, CML_ERR_IO, "stop");
    return CML_OK;
}

static void test_example(void) {
    example e;
    example_init(&e);
    size_t size;
    uint8_t *img = tflatten(&e.root, NULL, &size);
    /* The documented image: 122 bytes of files, 865 bytes of reversed JSON. */
    CHECK_MSG(size == 987, "size %zu", size);
    CHECK(img[size - 1] == '{');
    static const char head[] = "{\"nodes\":[{\"children\":{},\"dataRegion\":{\"offset\":0,\"size\":75},"
                               "\"kind\":0,\"name\":\"metadata.json\"}";
    bool head_ok = true;
    for (size_t i = 0; i < sizeof head - 1; i++) head_ok &= img[size - 1 - i] == (uint8_t)head[i];
    CHECK(head_ok);
    static const char tail[] = "}]}\"ml\":\"eman\",1:\"dnik\",}0:\"ezis\",0:\"tesffo\"{:\"noigeRatad\"";
    CHECK(memcmp(img + 0x7a, tail, sizeof tail - 1) == 0);
    check_example(img, size, true);

    cml_imfs fs;
    cml_error err = {0};
    CHECK(cml_imfs_parse(img, size, NULL, &fs, &err) == CML_OK);
    walk_log w = {{0}, -1, 0};
    CHECK(cml_imfs_walk(&fs, NULL, log_visit, &w, &err) == CML_OK);
    CHECK_MSG(strcmp((char *)w.text.p,
                     "lm/\nlm/metadata.json\nlm/model.mlpackage/\nlm/model.mlpackage/Data/\n"
                     "lm/model.mlpackage/Data/com.apple.CoreML/\n"
                     "lm/model.mlpackage/Data/com.apple.CoreML/model.mlmodel\n"
                     "lm/model.mlpackage/Data/com.apple.CoreML/weights/\n"
                     "lm/model.mlpackage/Data/com.apple.CoreML/weights/weight.bin\n"
                     "lm/model.mlpackage/Manifest.json\n") == 0,
              "%s", (char *)w.text.p);
    free(w.text.p);
    walk_log w2 = {{0}, 3, 0};
    CHECK(cml_imfs_walk(&fs, cml_imfs_lookup(&fs, NULL, "model.mlpackage"), log_visit, &w2,
                        &err) == CML_ERR_IO);
    CHECK(w2.seen == 3 && strncmp((char *)w2.text.p, "model.mlpackage/\n", 17) == 0);
    free(w2.text.p);
    cml_imfs_free(&fs);
    free(img);
}

static void test_writer_variants(void) {
    example e;
    example_init(&e);
    /* Gaps between files, trailing NULs (large-model path), keys out of order. */
    flat_opts o = {7, 4096, true};
    size_t size;
    uint8_t *img = tflatten(&e.root, &o, &size);
    check_example(img, size, false);
    free(img);
    /* Trailing whitespace is skipped like NULs (upstream does). */
    o = (flat_opts){0, 0, false};
    img = tflatten(&e.root, &o, &size);
    uint8_t *img2 = malloc(size + 3);
    memcpy(img2, img, size);
    memcpy(img2 + size, "\n \0", 3);
    check_example(img2, size + 3, true);
    free(img2);
    free(img);
    /* Root with only a file; a name containing an escaped quote is fine
     * for our forward scanner. */
    tnode root = tdir("r"), f = tfile("a\\\"b", "xyz", 3);
    tadd(&root, &f);
    img = tflatten(&root, NULL, &size);
    cml_imfs fs;
    cml_error err = {0};
    CHECK_MSG(cml_imfs_parse(img, size, NULL, &fs, &err) == CML_OK, "%s", err.msg);
    CHECK(fs.nnodes == 2 && strcmp(fs.nodes[0].name, "a\"b") == 0);
    cml_imfs_free(&fs);
    free(img);
    /* Empty root directory. */
    tnode lone = tdir("empty");
    img = tflatten(&lone, NULL, &size);
    CHECK(cml_imfs_parse(img, size, NULL, &fs, &err) == CML_OK);
    CHECK(fs.nnodes == 1 && fs.root->nchildren == 0);
    cml_imfs_free(&fs);
    free(img);
}

static void expect_bad(const char *data, const char *json, size_t nuls, cml_status want,
                       const char *msg_part) {
    size_t size;
    uint8_t *img = timage(data, strlen(data), json, nuls, &size);
    cml_imfs fs;
    memset(&fs, 0xab, sizeof fs);
    cml_error err = {0};
    cml_status st = cml_imfs_parse(img, size, NULL, &fs, &err);
    CHECK_MSG(st == want, "status %d for %s", st, json);
    CHECK_MSG(strstr(err.msg, msg_part) != NULL, "message '%s' lacks '%s'", err.msg, msg_part);
    if (st == CML_OK) cml_imfs_free(&fs);
    free(img);
}

#define F(i, name, off, sz) "{\"kind\":0,\"name\":\"" name "\",\"dataRegion\":{\"offset\":" #off ",\"size\":" #sz "}}"

static void test_corrupt(void) {
    const cml_status C = CML_ERR_CORRUPT;
    expect_bad("abc", "{\"nodes\":[" F(0, "a", 0, 3) ",{\"kind\":1,\"name\":\"r\",\"children\":{\"a\":0}}]}",
               0, CML_OK, "");
    /* The brief's example: child index >= parent index. */
    expect_bad("abc", "{\"nodes\":[" F(0, "a", 0, 1) ",{\"kind\":1,\"name\":\"d\",\"children\":{\"r\":2}},"
               "{\"kind\":1,\"name\":\"r\",\"children\":{\"d\":1}}]}", 0, C,
               "node 1 child 'r' index 2 >= parent index 1");
    expect_bad("abc", "{\"nodes\":[{\"kind\":1,\"name\":\"r\",\"children\":{\"r\":0}}]}", 0, C,
               "index 0 >= parent index 0");
    expect_bad("abc", "{\"nodes\":[" F(0, "a", 1, 3) ",{\"kind\":1,\"name\":\"r\",\"children\":{\"a\":0}}]}",
               0, C, "node 0 'a' region [offset 1, size 3] lies outside the data part (3 bytes)");
    expect_bad("abc", "{\"nodes\":[" F(0, "a", 18446744073709551615, 3) ",{\"kind\":1,\"name\":\"r\"}]}",
               0, C, "no valid 'dataRegion'");
    expect_bad("abc", "{\"nodes\":[" F(0, "a", 0.5, 1) ",{\"kind\":1,\"name\":\"r\"}]}", 0, C,
               "no valid 'dataRegion'");
    expect_bad("abc", "{\"nodes\":[" F(0, "a", -1, 1) ",{\"kind\":1,\"name\":\"r\"}]}", 0, C,
               "no valid 'dataRegion'");
    /* A region reaching into the index itself is refused (data part only). */
    expect_bad("abc", "{\"nodes\":[" F(0, "a", 0, 4) ",{\"kind\":1,\"name\":\"r\",\"children\":{\"a\":0}}]}",
               0, C, "outside the data part");
    expect_bad("abc", "{\"nodes\":[" F(0, "a", 0, 1) "," F(1, "b", 1, 1) ","
               "{\"kind\":1,\"name\":\"d\",\"children\":{\"a\":0}},"
               "{\"kind\":1,\"name\":\"r\",\"children\":{\"d\":2,\"a\":0}}]}", 0, C,
               "node 0 'a' is reachable twice (children of nodes 2 and 3)");
    expect_bad("abc", "{\"nodes\":[" F(0, "a", 0, 1) "," F(1, "a", 1, 1) ","
               "{\"kind\":1,\"name\":\"r\",\"children\":{\"a\":0,\"a\":1}}]}", 0, C,
               "node 2 has two children named 'a'");
    expect_bad("abc", "{\"nodes\":[" F(0, "a/b", 0, 1) ",{\"kind\":1,\"name\":\"r\",\"children\":{\"a/b\":0}}]}",
               0, C, "node 0 has an unsafe name 'a/b'");
    expect_bad("abc", "{\"nodes\":[" F(0, "..", 0, 1) ",{\"kind\":1,\"name\":\"r\",\"children\":{\"..\":0}}]}",
               0, C, "unsafe name '..'");
    expect_bad("abc", "{\"nodes\":[" F(0, "", 0, 1) ",{\"kind\":1,\"name\":\"r\",\"children\":{\"\":0}}]}",
               0, C, "unsafe name ''");
    expect_bad("abc", "{\"nodes\":[{\"kind\":1,\"name\":\"..\"}]}", 0, C, "unsafe name '..'");
    expect_bad("abc", "{\"nodes\":[{\"kind\":1,\"name\":\".\"}]}", 0, C, "unsafe name '.'");
    expect_bad("abc", "{\"nodes\":[" F(0, "a", 0, 1) ",{\"kind\":1,\"name\":\"r\",\"children\":{\"b\":0}}]}",
               0, C, "child key 'b' refers to node 0 named 'a'");
    expect_bad("abc", "{\"nodes\":[" F(0, "a", 0, 1) "]}", 0, C, "(the root) is not a directory");
    expect_bad("abc", "{\"nodes\":[]}", 0, C, "'nodes' is empty");
    expect_bad("abc", "{\"nodez\":[]}", 0, C, "no 'nodes' array");
    expect_bad("abc", "{\"nodes\":[{\"kind\":2,\"name\":\"r\"}]}", 0, C, "no valid 'kind'");
    expect_bad("abc", "{\"nodes\":[{\"kind\":1}]}", 0, C, "node 0 has no string 'name'");
    expect_bad("abc", "{\"nodes\":[7]}", 0, C, "node 0 is not an object");
    expect_bad("abc", "{\"nodes\":[{\"kind\":1,\"name\":\"r\",\"children\":[]}]}", 0, C,
               "'children' is not an object");
    expect_bad("abc", "{\"nodes\":[{\"kind\":1,\"name\":\"r\",\"children\":{\"a\":\"0\"}}]}", 0, C,
               "child 'a' has no valid index");
    expect_bad("abc", "{\"nodes\":[{\"kind\":0,\"name\":\"f\",\"children\":{\"a\":0},"
               "\"dataRegion\":{\"offset\":0,\"size\":0}},{\"kind\":1,\"name\":\"r\"}]}", 0, C,
               "is a file but has children");
    expect_bad("abc", "{\"nodes\":[{\"kind\":1 \"name\":\"r\"}]}", 0, C, "invalid JSON");
    /* Only the last balanced object is the index; what precedes it is data. */
    expect_bad("abc", "{\"nodes\":[{\"kind\":1,\"name\":\"r\"}]}{\"a\":1}", 0, CML_OK, "");
    expect_bad("abc", "{\"nodes\":[{\"kind\":1,\"name\":\"r\"}]", 0, C, "unterminated");
    expect_bad("abc", "{\"nodes\":[{\"kind\":1,\"name\":\"r}\"}]", 0, C, "unterminated");
    expect_bad("abc", "[1]", 0, C, "missing '{'");
    expect_bad("", "", 16, C, "missing (payload of 16 bytes");
    expect_bad("", "", 0, C, "missing (payload of 0 bytes");
    /* Truncation of a real image at every length never crashes. */
    example e;
    example_init(&e);
    size_t size;
    uint8_t *img = tflatten(&e.root, NULL, &size);
    int ok = 0;
    for (size_t len = 0; len < size; len++) {
        uint8_t *cut = malloc(len + 1);
        memcpy(cut, img, len);
        cml_imfs fs;
        cml_error err = {0};
        if (cml_imfs_parse(cut, len, NULL, &fs, &err) == CML_OK) {
            ok++;
            cml_imfs_free(&fs);
        }
        free(cut);
    }
    CHECK(ok == 0);
    /* Byte flips in the index: never a crash, and never a bad region. */
    for (size_t pos = 122; pos < size; pos++) {
        uint8_t *flip = malloc(size);
        memcpy(flip, img, size);
        flip[pos] ^= 0x5a;
        cml_imfs fs;
        cml_error err = {0};
        if (cml_imfs_parse(flip, size, NULL, &fs, &err) == CML_OK) {
            for (uint32_t i = 0; i < fs.nnodes; i++)
                if (fs.nodes[i].kind == CML_IMFS_FILE)
                    CHECK(fs.nodes[i].offset + fs.nodes[i].size <= fs.data_size);
            cml_imfs_free(&fs);
        }
        free(flip);
    }
    free(img);
}

/* ------------------------------------------------------------ metadata */

static void md_ok(const char *json, cml_coreml_metadata *md) {
    cml_error err = {0};
    cml_status st = cml_coreml_metadata_parse((const uint8_t *)json, strlen(json), NULL, md, &err);
    CHECK_MSG(st == CML_OK, "%s: %s", json, err.msg);
}

static void md_bad(const char *json, cml_status want, const char *part) {
    cml_coreml_metadata md;
    cml_error err = {0};
    cml_status st = cml_coreml_metadata_parse((const uint8_t *)json, strlen(json), NULL, &md, &err);
    CHECK_MSG(st == want, "%s: status %d", json, st);
    CHECK_MSG(strstr(err.msg, part) != NULL, "message '%s' lacks '%s'", err.msg, part);
    if (st == CML_OK) cml_coreml_metadata_free(&md);
}

static void test_metadata(void) {
    cml_coreml_metadata md;
    cml_error err = {0};
    md_ok(k_meta, &md);
    CHECK(strcmp(md.identifier, "executorch_abc") == 0);
    CHECK(!md.multifunction && md.nmethods == 1);
    const cml_coreml_method_io *io = cml_coreml_metadata_method(&md, "forward", &err);
    CHECK(io && io->method == NULL && io->ninputs == 1 && io->noutputs == 1);
    CHECK(io && strcmp(io->input_names[0], "x") == 0 && strcmp(io->output_names[0], "y") == 0);
    cml_coreml_metadata_free(&md);
    cml_coreml_metadata_free(&md);

    md_ok("{\"inputNames\": [], \"outputNames\": [\"a\", \"b\", \"c\"], \"identifier\": \"i\"}  \n", &md);
    io = cml_coreml_metadata_method(&md, NULL, &err);
    CHECK(io && io->ninputs == 0 && io->noutputs == 3 && strcmp(io->output_names[2], "c") == 0);
    cml_coreml_metadata_free(&md);

    md_ok("{\"identifier\": \"executorch_m\", \"methods\": {\"forward\": {\"inputNames\": [\"x\"], "
          "\"outputNames\": [\"y\"]}, \"prefill\": {\"inputNames\": [\"t\", \"p\"], \"outputNames\": "
          "[\"l\"]}}}", &md);
    CHECK(md.multifunction && md.nmethods == 2);
    io = cml_coreml_metadata_method(&md, "prefill", &err);
    CHECK(io && strcmp(io->method, "prefill") == 0 && io->ninputs == 2 &&
          strcmp(io->input_names[1], "p") == 0);
    CHECK(cml_coreml_metadata_method(&md, "decode", &err) == NULL);
    CHECK(err.status == CML_ERR_NOT_FOUND && strstr(err.msg, "'forward', 'prefill'"));
    CHECK(cml_coreml_metadata_method(&md, NULL, &err) == NULL);
    cml_coreml_metadata_free(&md);

    const cml_status C = CML_ERR_CORRUPT;
    md_bad("{\"inputNames\": [\"x\"], \"outputNames\": [], \"identifier\": \"i\"}", C,
           "metadata.json: 'outputNames' is empty");
    md_bad("{\"inputNames\": [\"x\"], \"identifier\": \"i\"}", C, "'outputNames' is missing");
    md_bad("{\"outputNames\": [\"x\"], \"identifier\": \"i\"}", C, "'inputNames' is missing");
    md_bad("{\"inputNames\": [\"x\"], \"outputNames\": [\"y\"], \"identifier\": \"\"}", C,
           "'identifier' is empty");
    md_bad("{\"inputNames\": [\"x\"], \"outputNames\": [\"y\"]}", C, "'identifier' is missing");
    md_bad("{\"inputNames\": [\"x\", 3], \"outputNames\": [\"y\"], \"identifier\": \"i\"}", C,
           "'inputNames'[1] is not a non-empty string");
    md_bad("{\"inputNames\": [\"x\", \"\"], \"outputNames\": [\"y\"], \"identifier\": \"i\"}", C,
           "'inputNames'[1]");
    md_bad("{\"inputNames\": [\"x\", \"x\"], \"outputNames\": [\"y\"], \"identifier\": \"i\"}", C,
           "'inputNames' lists 'x' twice");
    md_bad("{\"inputNames\": \"x\", \"outputNames\": [\"y\"], \"identifier\": \"i\"}", C,
           "'inputNames' is not an array");
    md_bad("{\"identifier\": \"i\", \"methods\": {}}", C, "'methods' is empty");
    md_bad("{\"identifier\": \"i\", \"methods\": []}", C, "'methods' is not an object");
    md_bad("{\"identifier\": \"i\", \"methods\": {\"f\": {\"inputNames\": [], \"outputNames\": []}}}",
           C, "methods['f'] 'outputNames' is empty");
    md_bad("{\"identifier\": \"i\", \"methods\": {\"f\": 1}}", C, "methods['f'] is not an object");
    md_bad("{\"identifier\": \"i\", \"methods\": {\"f\": {\"inputNames\": [], \"outputNames\": [\"y\"]},"
           " \"f\": {\"inputNames\": [], \"outputNames\": [\"y\"]}}}", C, "method 'f' listed twice");
    md_bad("{\"inputNames\": [\"x\"], \"outputNames\": [\"y\"], \"identifier\": \"i\"", C,
           "invalid JSON");
    md_bad("{\"inputNames\": [\"x\"], \"outputNames\": [\"y\"], \"identifier\": \"i\"} x", C,
           "metadata.json: invalid JSON at byte 63 of 64: trailing characters after the value");
    md_bad("[]", C, "not a JSON object");
    md_bad("", C, "invalid JSON");
}

static void cmjr_bad(const char *text, cml_status want, const char *part) {
    cml_cmjr_ref ref;
    cml_error err = {0};
    cml_status st = cml_cmjr_parse((const uint8_t *)text, strlen(text), NULL, &ref, &err);
    CHECK_MSG(st == want, "%s: status %d", text, st);
    CHECK_MSG(strstr(err.msg, part) != NULL, "message '%s' lacks '%s'", err.msg, part);
    if (st == CML_OK) cml_cmjr_free(&ref);
}

static void test_cmjr(void) {
    const char *text = "CMJR{\"version\": 1, \"key\": \"coreml_executorch_123\", \"functionName\": "
                       "\"prefill\"}";
    CHECK(cml_cmjr_is_reference((const uint8_t *)text, strlen(text)));
    CHECK(!cml_cmjr_is_reference((const uint8_t *)"CMJ", 3));
    CHECK(!cml_cmjr_is_reference((const uint8_t *)"{CMJR", 5));
    cml_cmjr_ref ref;
    cml_error err = {0};
    CHECK(cml_cmjr_parse((const uint8_t *)text, strlen(text), NULL, &ref, &err) == CML_OK);
    CHECK(ref.version == 1 && strcmp(ref.key, "coreml_executorch_123") == 0 &&
          strcmp(ref.function_name, "prefill") == 0);
    cml_cmjr_free(&ref);
    cml_cmjr_free(&ref);
    text = "CMJR{\"key\": \"k\"}";
    CHECK(cml_cmjr_parse((const uint8_t *)text, strlen(text), NULL, &ref, &err) == CML_OK);
    CHECK(ref.version == 0 && ref.function_name == NULL);
    cml_cmjr_free(&ref);
    cmjr_bad("CMJR{\"version\": 1}", CML_ERR_CORRUPT, "CMJR reference: 'key' is missing");
    cmjr_bad("CMJR{\"version\": 1, \"key\": \"\"}", CML_ERR_CORRUPT, "'key' is missing");
    cmjr_bad("CMJR{\"version\": 1, \"key\": 5}", CML_ERR_CORRUPT, "'key' is missing");
    cmjr_bad("CMJR{\"version\": 2, \"key\": \"k\"}", CML_ERR_UNSUPPORTED, "version 2");
    cmjr_bad("CMJR{\"version\": \"1\", \"key\": \"k\"}", CML_ERR_CORRUPT, "'version' is not a number");
    cmjr_bad("CMJR{\"key\": \"k\", \"functionName\": 3}", CML_ERR_CORRUPT, "'functionName'");
    cmjr_bad("CMJR{\"key\": \"k\"", CML_ERR_CORRUPT, "CMJR reference: invalid JSON");
    cmjr_bad("CMJR", CML_ERR_CORRUPT, "invalid JSON");
    cmjr_bad("CMJX{}", CML_ERR_CORRUPT, "magic");
}

int main(void) {
    test_example();
    test_writer_variants();
    test_corrupt();
    test_metadata();
    test_cmjr();
    TEST_MAIN_END();
}
