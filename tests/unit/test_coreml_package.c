/* .mlpackage (directory and inmemoryfs), model.mlmodel decoding, blob
 * values, delegate payloads (single, multifunction/CMJR, .mlmodelc) and
 * extraction, on synthetic models packed with protobuf-c. */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fp16.h"
#include "core/status.h"
#include "coreml/extract.h"
#include "coreml/mlpackage.h"
#include "coreml/payload.h"
#include "coreml/value.h"
#include "harness.h"
#include "test_coreml_model.h"
#include "test_coreml_util.h"

/* ------------------------------------------------------- package files */

static const char k_manifest[] =
    "{\n    \"fileFormatVersion\": \"1.0.0\",\n    \"itemInfoEntries\": {\n"
    "        \"5e56ca10-7d73-486d-b42a-b24cbd442bf6\": {\n"
    "            \"author\": \"com.apple.CoreML\",\n"
    "            \"description\": \"CoreML Model Specification\",\n"
    "            \"name\": \"model.mlmodel\",\n"
    "            \"path\": \"com.apple.CoreML/model.mlmodel\"\n        },\n"
    "        \"f081cf24-68e2-46ee-bf6f-b45348364de6\": {\n"
    "            \"author\": \"com.apple.CoreML\",\n"
    "            \"description\": \"CoreML Model Weights\",\n"
    "            \"name\": \"weights\",\n"
    "            \"path\": \"com.apple.CoreML/weights\"\n        }\n    },\n"
    "    \"rootModelIdentifier\": \"5e56ca10-7d73-486d-b42a-b24cbd442bf6\"\n}\n";

static const char k_meta[] =
    "{\"inputNames\": [\"x\"], \"outputNames\": [\"y\"], \"identifier\": \"executorch_t\"}";
static const char k_meta_mf[] =
    "{\"identifier\": \"executorch_mf\", \"methods\": {\"main\": {\"inputNames\": [\"x\"], "
    "\"outputNames\": [\"y\"]}, \"second\": {\"inputNames\": [\"x\"], \"outputNames\": [\"y\"]}}}";

static tbuf make_weights(void) {
    tbuf b = {0};
    wb_init(&b);
    uint16_t w[16];
    for (int i = 0; i < 16; i++) w[i] = cml_fp32_to_fp16((float)i - 8.0f);
    CHECK(wb_add(&b, CML_BLOB_FLOAT16, w, sizeof w, 0) == 64);
    return b;
}

/* A package tree: model.mlpackage/{Manifest.json, Data/com.apple.CoreML/
 * {model.mlmodel, weights/weight.bin}} under a payload root. */
typedef struct payload_t {
    tnode root, meta, pkg, manifest, data, apple, model, weights, wbin, mlmodelc;
    uint8_t *model_bytes;
    size_t model_size;
    tbuf wb;
    uint8_t *image;
    size_t image_size;
} payload_t;

static void payload_build(payload_t *p, const model_opts *o, const char *meta,
                          const char *manifest, bool with_mlmodelc) {
    memset(p, 0, sizeof *p);
    p->model_bytes = build_model(o, &p->model_size);
    p->wb = make_weights();
    p->root = tdir("lowered_module");
    p->meta = tfile("metadata.json", meta, strlen(meta));
    p->pkg = tdir("model.mlpackage");
    p->manifest = tfile("Manifest.json", manifest, strlen(manifest));
    p->data = tdir("Data");
    p->apple = tdir("com.apple.CoreML");
    p->model = tfile("model.mlmodel", p->model_bytes, p->model_size);
    p->weights = tdir("weights");
    p->wbin = tfile("weight.bin", p->wb.p, p->wb.n);
    p->mlmodelc = tdir("model.mlmodelc");
    tadd(&p->weights, &p->wbin);
    tadd(&p->apple, &p->model);
    tadd(&p->apple, &p->weights);
    tadd(&p->data, &p->apple);
    tadd(&p->pkg, &p->manifest);
    tadd(&p->pkg, &p->data);
    tadd(&p->root, &p->meta);
    tadd(&p->root, &p->pkg);
    if (with_mlmodelc) tadd(&p->root, &p->mlmodelc);
    p->image = tflatten(&p->root, NULL, &p->image_size);
}

static void payload_free(payload_t *p) {
    free(p->model_bytes);
    free(p->wb.p);
    free(p->image);
}

static char g_tmp[256];

static void mkdirs(const char *rel) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_tmp, rel);
    cml_error err = {0};
    CHECK(cml_mkdir_p(path, &err) == CML_OK);
}

static void put_file(const char *rel, const void *data, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_tmp, rel);
    CHECK(write_all(path, data, n));
}

/* Writes pkgname/{Manifest.json, Data/...}; returns the package path. */
static const char *disk_package(const char *pkgname, const uint8_t *model, size_t msize,
                                const tbuf *wb, const char *manifest) {
    static char path[512];
    char rel[256];
    snprintf(rel, sizeof rel, "%s/Data/com.apple.CoreML/weights", pkgname);
    mkdirs(rel);
    snprintf(rel, sizeof rel, "%s/Manifest.json", pkgname);
    if (manifest) put_file(rel, manifest, strlen(manifest));
    snprintf(rel, sizeof rel, "%s/Data/com.apple.CoreML/model.mlmodel", pkgname);
    put_file(rel, model, msize);
    snprintf(rel, sizeof rel, "%s/Data/com.apple.CoreML/weights/weight.bin", pkgname);
    if (wb) put_file(rel, wb->p, wb->n);
    snprintf(path, sizeof path, "%s/%s", g_tmp, pkgname);
    return path;
}

/* Checks the decoded linear model: ops, const values through the blob. */
static void check_linear(cml_mlpackage *pkg, const char *fn_name) {
    cml_error err = {0};
    const cml_pb_function *fn = cml_mlprogram_function(pkg->program, fn_name);
    CHECK(fn != NULL);
    if (!fn) return;
    const cml_pb_block *block = cml_mlprogram_block(fn);
    CHECK(block && block->n_operations == 3 && strcmp(block->operations[2]->type, "linear") == 0);
    if (!block) return;
    const Cml__Coreml__MILSpec__Operation *w = block->operations[0];
    CHECK(strcmp(w->type, "const") == 0 && w->n_attributes == 2);
    cml_mlvalue v;
    CHECK_MSG(cml_mlvalue_decode(w->attributes[1]->value, pkg, &v, &err) == CML_OK, "%s", err.msg);
    CHECK(v.from_blob && v.blob_offset == 64 && v.dtype == CML_MIL_FLOAT16 && v.numel == 16 &&
          v.storage == CML_MLVALUE_RAW && v.nbytes == 32);
    CHECK(cml_mlvalue_get_f64(&v, 0) == -8.0 && cml_mlvalue_get_f64(&v, 15) == 7.0);
    CHECK(cml_mlvalue_decode(w->attributes[0]->value, pkg, &v, &err) == CML_OK);
    CHECK(v.storage == CML_MLVALUE_STRING && strcmp(cml_mlvalue_get_str(&v, 0), "w") == 0);
    const Cml__Coreml__MILSpec__Operation *b = block->operations[1];
    CHECK(cml_mlvalue_decode(b->attributes[1]->value, pkg, &v, &err) == CML_OK);
    CHECK(!v.from_blob && v.numel == 4 && cml_mlvalue_get_f64(&v, 3) == 1.5);
    cml_mlmodel_io io;
    CHECK_MSG(cml_mlpackage_interface(pkg, fn_name, &io, &err) == CML_OK, "%s", err.msg);
    CHECK(io.ninputs == 1 && io.noutputs == 1 && io.nstates == 0 &&
          strcmp(io.inputs[0]->name, "x") == 0 && strcmp(io.function, fn_name) == 0);
    CHECK(cml_mlmodel_find_feature(io.outputs, io.noutputs, "y") != NULL);
    CHECK(cml_mlmodel_find_feature(io.outputs, io.noutputs, "z") == NULL);
}

static void expect_open_dir_fail(const char *path, cml_status want, const char *part) {
    cml_mlpackage pkg;
    cml_error err = {0};
    cml_status st = cml_mlpackage_open_dir(path, NULL, &pkg, &err);
    CHECK_MSG(st == want, "%s: status %d (%s)", path, st, err.msg);
    CHECK_MSG(strstr(err.msg, part) != NULL, "message '%s' lacks '%s'", err.msg, part);
    if (st == CML_OK) cml_mlpackage_close(&pkg);
}

static void test_dir_package(void) {
    model_opts o = {7, false, 64, NULL};
    size_t msize;
    uint8_t *model = build_model(&o, &msize);
    tbuf wb = make_weights();
    const char *path = disk_package("m.mlpackage", model, msize, &wb, k_manifest);
    cml_mlpackage pkg;
    cml_error err = {0};
    CHECK_MSG(cml_mlpackage_open_dir(path, NULL, &pkg, &err) == CML_OK, "%s", err.msg);
    CHECK(pkg.source == CML_MLPACKAGE_DIR && pkg.spec_version == 7);
    CHECK(strcmp(pkg.model_relpath, "Data/com.apple.CoreML/model.mlmodel") == 0);
    CHECK(strcmp(pkg.model_dir, "Data/com.apple.CoreML") == 0);
    CHECK(pkg.model_size == msize && memcmp(pkg.model_bytes, model, msize) == 0);
    CHECK(strcmp(cml_mlpackage_default_function(&pkg), "main") == 0);
    check_linear(&pkg, "main");
    const uint8_t *d;
    size_t n;
    CHECK(cml_mlpackage_read(&pkg, "Data/com.apple.CoreML/weights/weight.bin", &d, &n, &err) == CML_OK);
    CHECK(n == wb.n && memcmp(d, wb.p, n) == 0);
    CHECK(cml_mlpackage_read(&pkg, "Data/../Manifest.json", &d, &n, &err) == CML_ERR_CORRUPT);
    CHECK(cml_mlpackage_read(&pkg, "/etc/passwd", &d, &n, &err) == CML_ERR_CORRUPT);
    CHECK(cml_mlpackage_read(&pkg, "Data/none", &d, &n, &err) == CML_ERR_NOT_FOUND);
    CHECK(cml_mlpackage_read(&pkg, "Data", &d, &n, &err) == CML_ERR_IO);
    const cml_milblob *blob;
    CHECK(cml_mlpackage_blob(&pkg, "weights/weight.bin", &blob, &err) == CML_ERR_CORRUPT);
    CHECK(strstr(err.msg, "does not start with '@model_path/'"));
    CHECK(cml_mlpackage_blob(&pkg, "@model_path/../../Manifest.json", &blob, &err) == CML_ERR_CORRUPT);
    CHECK(cml_mlpackage_blob(&pkg, "@model_path/weights/missing.bin", &blob, &err) == CML_ERR_NOT_FOUND);
    CHECK(strstr(err.msg, "blob file '@model_path/weights/missing.bin': "));
    cml_mlmodel_io io;
    CHECK(cml_mlpackage_interface(&pkg, "second", &io, &err) == CML_ERR_NOT_FOUND);
    cml_mlpackage moved = pkg; /* the struct is movable */
    check_linear(&moved, "main");
    cml_mlpackage_close(&moved);

    /* Trailing slash, a missing weights file is tolerated until a blob is read. */
    char p2[600];
    snprintf(p2, sizeof p2, "%s/", disk_package("nw.mlpackage", model, msize, NULL, k_manifest));
    CHECK(cml_mlpackage_open_dir(p2, NULL, &pkg, &err) == CML_OK);
    const Cml__Coreml__MILSpec__Operation *w = cml_mlprogram_block(
        cml_mlprogram_function(pkg.program, "main"))->operations[0];
    cml_mlvalue v;
    CHECK(cml_mlvalue_decode(w->attributes[1]->value, &pkg, &v, &err) == CML_ERR_NOT_FOUND);
    cml_mlpackage_close(&pkg);

    /* Corrupt blob reference: value decoding names the record. */
    tbuf bad = {0};
    tbuf_put(&bad, wb.p, wb.n);
    memset(bad.p + 64, 0, 4);
    path = disk_package("bs.mlpackage", model, msize, &bad, k_manifest);
    CHECK(cml_mlpackage_open_dir(path, NULL, &pkg, &err) == CML_OK);
    w = cml_mlprogram_block(cml_mlprogram_function(pkg.program, "main"))->operations[0];
    CHECK(cml_mlvalue_decode(w->attributes[1]->value, &pkg, &v, &err) == CML_ERR_CORRUPT);
    CHECK_MSG(strstr(err.msg, "weight.bin record at offset 64: bad sentinel 0x00000000"), "%s", err.msg);
    cml_mlpackage_close(&pkg);
    free(bad.p);

    /* Manifest problems. */
    expect_open_dir_fail(disk_package("nm.mlpackage", model, msize, &wb, NULL), CML_ERR_NOT_FOUND,
                         "Manifest.json");
    const char *m2 = "{\"fileFormatVersion\": \"2.0.0\", \"itemInfoEntries\": {}, \"rootModelIdentifier\": \"a\"}";
    expect_open_dir_fail(disk_package("v2.mlpackage", model, msize, &wb, m2), CML_ERR_UNSUPPORTED,
                         "Manifest.json: fileFormatVersion 2.0.0 is newer than 1.0.0");
    m2 = "{\"fileFormatVersion\": \"1.0\", \"itemInfoEntries\": {}, \"rootModelIdentifier\": \"a\"}";
    expect_open_dir_fail(disk_package("v3.mlpackage", model, msize, &wb, m2), CML_ERR_CORRUPT,
                         "'fileFormatVersion' is missing or not");
    m2 = "{\"fileFormatVersion\": \"1.0.0\", \"itemInfoEntries\": {}}";
    expect_open_dir_fail(disk_package("r1.mlpackage", model, msize, &wb, m2), CML_ERR_CORRUPT,
                         "'rootModelIdentifier' is missing");
    m2 = "{\"fileFormatVersion\": \"1.0.0\", \"itemInfoEntries\": {}, \"rootModelIdentifier\": \"a\"}";
    expect_open_dir_fail(disk_package("r2.mlpackage", model, msize, &wb, m2), CML_ERR_CORRUPT,
                         "rootModelIdentifier 'a' has no entry");
    m2 = "{\"fileFormatVersion\": \"1.0.0\", \"rootModelIdentifier\": \"a\", \"itemInfoEntries\": "
         "{\"a\": {\"path\": \"../../x\", \"name\": \"n\", \"author\": \"x\", \"description\": \"d\"}}}";
    expect_open_dir_fail(disk_package("r3.mlpackage", model, msize, &wb, m2), CML_ERR_CORRUPT,
                         "has an invalid path '../../x'");
    m2 = "{\"fileFormatVersion\": \"1.0.0\", \"rootModelIdentifier\": \"a\", \"itemInfoEntries\": "
         "{\"a\": {\"path\": \"com.apple.CoreML/model.mlmodel\", \"name\": \"n\"}}}";
    expect_open_dir_fail(disk_package("r4.mlpackage", model, msize, &wb, m2), CML_ERR_CORRUPT,
                         "lacks one of");
    m2 = "{\"fileFormatVersion\": \"1.0.0\", \"rootModelIdentifier\": \"a\", \"itemInfoEntries\": "
         "{\"a\": {\"path\": \"com.apple.CoreML/weights\", \"name\": \"n\", \"author\": \"x\", "
         "\"description\": \"d\"}}}";
    expect_open_dir_fail(disk_package("r5.mlpackage", model, msize, &wb, m2), CML_ERR_CORRUPT,
                         "is a directory");
    m2 = "{\"fileFormatVersion\": \"1.0.0\", \"rootModelIdentifier\": \"a\", \"itemInfoEntries\": "
         "{\"a\": {\"path\": \"com.apple.CoreML/nothing\", \"name\": \"n\", \"author\": \"x\", "
         "\"description\": \"d\"}}}";
    expect_open_dir_fail(disk_package("r6.mlpackage", model, msize, &wb, m2), CML_ERR_CORRUPT,
                         "is missing");
    expect_open_dir_fail(disk_package("r7.mlpackage", model, msize, &wb, "{\"a\""), CML_ERR_CORRUPT,
                         "Manifest.json: invalid JSON at byte 4 of 4: expected ':'");
    expect_open_dir_fail(disk_package("r8.mlpackage", model, msize, &wb, "[1]"), CML_ERR_CORRUPT,
                         "Manifest.json: not a JSON object");
    /* Other writers' layouts resolve through the manifest (Chromium-style). */
    mkdirs("cr.mlpackage/Data/weights");
    put_file("cr.mlpackage/Data/model.mlmodel", model, msize);
    put_file("cr.mlpackage/Data/weights/weight.bin", wb.p, wb.n);
    m2 = "{\"fileFormatVersion\": \"1.0.0\", \"rootModelIdentifier\": \"a\", \"itemInfoEntries\": "
         "{\"a\": {\"path\": \"model.mlmodel\", \"name\": \"model.mlmodel\", \"author\": \"Chromium\", "
         "\"description\": \"d\"}}}";
    put_file("cr.mlpackage/Manifest.json", m2, strlen(m2));
    snprintf(p2, sizeof p2, "%s/cr.mlpackage", g_tmp);
    CHECK(cml_mlpackage_open_dir(p2, NULL, &pkg, &err) == CML_OK);
    CHECK(strcmp(pkg.model_dir, "Data") == 0);
    check_linear(&pkg, "main");
    cml_mlpackage_close(&pkg);
    /* A compiled bundle, a file, a missing path. */
    mkdirs("x.mlmodelc");
    put_file("x.mlmodelc/coremldata.bin", "x", 1);
    snprintf(p2, sizeof p2, "%s/x.mlmodelc", g_tmp);
    expect_open_dir_fail(p2, CML_ERR_UNSUPPORTED, "compiled .mlmodelc bundle");
    snprintf(p2, sizeof p2, "%s/x.mlmodelc/coremldata.bin", g_tmp);
    expect_open_dir_fail(p2, CML_ERR_INVALID_ARG, "not a directory");
    snprintf(p2, sizeof p2, "%s/nothing", g_tmp);
    expect_open_dir_fail(p2, CML_ERR_IO, "nothing");
    free(wb.p);
    free(model);
}

static void expect_model_fail(const uint8_t *model, size_t msize, cml_status want, const char *part) {
    static int k = 0;
    char name[64];
    snprintf(name, sizeof name, "bad%d.mlpackage", k++);
    expect_open_dir_fail(disk_package(name, model, msize, NULL, k_manifest), want, part);
}

static size_t put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

/* tag + length + body, in front of body (body at buf + pos .. end). */
static size_t wrap(uint8_t *buf, size_t start, size_t end, uint32_t field) {
    uint8_t hdr[20];
    size_t h = put_varint(hdr, (uint64_t)field << 3 | 2);
    h += put_varint(hdr + h, end - start);
    memcpy(buf + start - h, hdr, h);
    return start - h;
}

static void test_corrupt_models(void) {
    model_opts o = {7, false, 64, NULL};
    size_t msize;
    uint8_t *model = build_model(&o, &msize);
    o.spec = 5;
    size_t s5;
    uint8_t *m5 = build_model(&o, &s5);
    expect_model_fail(m5, s5, CML_ERR_CORRUPT, "model.mlmodel: specificationVersion 5 < 6");
    free(m5);
    o.spec = 7;
    o.opset_key = "CoreML7";
    uint8_t *mk = build_model(&o, &s5);
    expect_model_fail(mk, s5, CML_ERR_CORRUPT, "function 'main' has no block for its opset 'CoreML6'");
    free(mk);
    /* Truncations: never a crash; the decoder or a later check rejects. */
    for (size_t len = 0; len < msize; len += 3) {
        cml_mlpackage pkg;
        cml_error err = {0};
        const char *path = disk_package("trunc.mlpackage", model, len, NULL, k_manifest);
        if (cml_mlpackage_open_dir(path, NULL, &pkg, &err) == CML_OK) cml_mlpackage_close(&pkg);
        else CHECK(err.status == CML_ERR_CORRUPT || err.status == CML_ERR_UNSUPPORTED);
    }
    expect_model_fail(model, 0, CML_ERR_CORRUPT, "no mlProgram");
    expect_model_fail(model, msize - 1, CML_ERR_CORRUPT, "model.mlmodel");
    /* A NeuralNetwork model: field 500 instead of 502. */
    uint8_t nn[] = {0x08, 0x04, 0xa2, 0x1f, 0x00}; /* spec 4; field 500 (tag 4002) empty */
    expect_model_fail(nn, sizeof nn, CML_ERR_UNSUPPORTED,
                      "a neuralNetwork model (field 500), not an ML Program");
    uint8_t badwire[] = {0x08, 0x07, 0x0b}; /* wire type 3 (group) */
    expect_model_fail(badwire, sizeof badwire, CML_ERR_CORRUPT, "unsupported wire type 3");
    uint8_t badlen[] = {0x12, 0x50, 0x00};
    expect_model_fail(badlen, sizeof badlen, CML_ERR_CORRUPT, "length runs past");
    /* Nesting bomb: ValueType.listType -> ListType.type -> ... under a
     * program attribute, 3000 levels: refused before protobuf-c recurses. */
    size_t cap = 64 * 1024;
    uint8_t *buf = calloc(1, cap);
    size_t end = cap, start = cap;
    for (int i = 0; i < 3000; i++) {
        start = wrap(buf, start, end, 1); /* ListType.type = ValueType */
        start = wrap(buf, start, end, 2); /* ValueType.listType = ListType */
    }
    start = wrap(buf, start, end, 2);   /* Value.type */
    start = wrap(buf, start, end, 2);   /* AttributesEntry.value */
    start = wrap(buf, start, end, 4);   /* Program.attributes */
    start = wrap(buf, start, end, 502); /* Model.mlProgram */
    buf[--start] = 7;
    buf[--start] = 0x08;                /* specificationVersion 7 */
    expect_model_fail(buf + start, end - start, CML_ERR_CORRUPT,
                      "model.mlmodel: messages nested deeper than 100 levels");
    free(buf);
    /* A wire-type mismatch inside a known field (op type as varint). */
    uint8_t *u = malloc(msize);
    memcpy(u, model, msize);
    uint8_t *hit = memmem(u, msize, "linear", 6);
    CHECK(hit != NULL);
    if (hit) hit[-2] = 0x08; /* tag field 1 wire type 0; the length byte becomes the varint */
    expect_model_fail(u, msize, CML_ERR_CORRUPT, "model.mlmodel: ");
    uint8_t mismatch[] = {0x08, 0x07, 0x10, 0x01}; /* description (a message) as a varint */
    expect_model_fail(mismatch, sizeof mismatch, CML_ERR_CORRUPT,
                      "model.mlmodel: protobuf decoding failed (4 bytes");
    free(u);
    free(model);
}

static void expect_payload_fail(const cml_pte_program *prog, const uint8_t *data, size_t n,
                                const char *method, cml_status want, const char *part) {
    cml_coreml_payload p;
    cml_error err = {0};
    cml_status st = cml_coreml_payload_open(prog, data, n, method, NULL, &p, &err);
    CHECK_MSG(st == want, "status %d (%s)", st, err.msg);
    CHECK_MSG(strstr(err.msg, part) != NULL, "message '%s' lacks '%s'", err.msg, part);
    if (st == CML_OK) cml_coreml_payload_close(&p);
}

static void test_payload(void) {
    model_opts o = {7, false, 64, NULL};
    payload_t pl;
    payload_build(&pl, &o, k_meta, k_manifest, false);
    cml_coreml_payload p;
    cml_error err = {0};
    CHECK_MSG(cml_coreml_payload_open(NULL, pl.image, pl.image_size, "forward", NULL, &p, &err) ==
                  CML_OK, "%s", err.msg);
    CHECK(!p.is_reference && p.image == pl.image && p.fs.nnodes == 9);
    CHECK(strcmp(p.metadata.identifier, "executorch_t") == 0);
    CHECK(p.io->ninputs == 1 && p.io->noutputs == 1);
    CHECK(strcmp(p.function_name, "main") == 0 && p.function != NULL);
    CHECK(p.interface.ninputs == 1 && p.package.source == CML_MLPACKAGE_IMFS);
    cml_coreml_payload moved = p;
    check_linear(&moved.package, "main");
    cml_coreml_payload_close(&moved);
    cml_coreml_payload_close(&moved);
    payload_free(&pl);

    /* .mlmodelc is checked first. */
    payload_build(&pl, &o, k_meta, k_manifest, true);
    expect_payload_fail(NULL, pl.image, pl.image_size, NULL, CML_ERR_UNSUPPORTED,
                        "model.mlmodelc payloads (compiled on macOS) are not supported; export "
                        "with model_type=model");
    payload_free(&pl);
    /* metadata / model mismatches */
    payload_build(&pl, &o, "{\"inputNames\": [\"z\"], \"outputNames\": [\"y\"], \"identifier\": \"i\"}",
                  k_manifest, false);
    expect_payload_fail(NULL, pl.image, pl.image_size, NULL, CML_ERR_CORRUPT,
                        "metadata.json input 'z' is not an input of model function 'main'");
    payload_free(&pl);
    payload_build(&pl, &o, "{\"inputNames\": [\"x\"], \"outputNames\": [\"y\", \"q\"], \"identifier\": \"i\"}",
                  k_manifest, false);
    expect_payload_fail(NULL, pl.image, pl.image_size, NULL, CML_ERR_CORRUPT,
                        "metadata.json lists 2 outputs but model function 'main' has 1");
    payload_free(&pl);
    payload_build(&pl, &o, "{\"inputNames\": [], \"outputNames\": [\"y\"], \"identifier\": \"i\"}",
                  k_manifest, false);
    expect_payload_fail(NULL, pl.image, pl.image_size, NULL, CML_ERR_CORRUPT,
                        "'inputNames' is empty, which needs specificationVersion >= 9 (model has 7)");
    payload_free(&pl);
    payload_build(&pl, &o, "{\"inputNames\": [\"x\"], \"outputNames\": [], \"identifier\": \"i\"}",
                  k_manifest, false);
    expect_payload_fail(NULL, pl.image, pl.image_size, NULL, CML_ERR_CORRUPT,
                        "metadata.json: 'outputNames' is empty");
    payload_free(&pl);
    payload_build(&pl, &o, k_meta, "{}", false);
    expect_payload_fail(NULL, pl.image, pl.image_size, NULL, CML_ERR_CORRUPT,
                        "model.mlpackage/Manifest.json: 'fileFormatVersion'");
    payload_free(&pl);
    /* Missing parts. */
    tnode root = tdir("lowered_module"), meta = tfile("metadata.json", k_meta, strlen(k_meta));
    tadd(&root, &meta);
    size_t n;
    uint8_t *img = tflatten(&root, NULL, &n);
    expect_payload_fail(NULL, img, n, NULL, CML_ERR_CORRUPT,
                        "payload 'lowered_module' has neither a model.mlpackage nor a model.mlmodelc");
    free(img);
    tnode root2 = tdir("lowered_module"), pk = tdir("model.mlpackage");
    tadd(&root2, &pk);
    img = tflatten(&root2, NULL, &n);
    expect_payload_fail(NULL, img, n, NULL, CML_ERR_CORRUPT,
                        "payload 'lowered_module' has no metadata.json");
    free(img);
    expect_payload_fail(NULL, (const uint8_t *)"garbage", 7, NULL, CML_ERR_CORRUPT,
                        "inmemoryfs index: missing '{'");
    expect_payload_fail(NULL, (const uint8_t *)"CMJR{\"key\": \"k\"}", 16, NULL, CML_ERR_CORRUPT,
                        "CMJR reference: named data 'k' not found");
}

/* A fake verified program: one plan "forward" with the given delegates. */
typedef struct fake_prog {
    cml_pte_program prog;
    cml_pte_plan plans[2];
    cml_pte_delegate dels[8];
    cml_pte_named_data nd[2];
} fake_prog;

static void fake_delegate(cml_pte_delegate *d, const char *id, const void *data, size_t n) {
    memset(d, 0, sizeof *d);
    d->id.ptr = id;
    d->id.len = (uint32_t)strlen(id);
    d->data = data;
    d->size = n;
}

static void test_multifunction(void) {
    model_opts o = {9, true, 64, NULL};
    payload_t pl;
    payload_build(&pl, &o, k_meta_mf, k_manifest, false);
    static const char ref_main[] = "CMJR{\"version\": 1, \"key\": \"coreml_executorch_mf\", "
                                   "\"functionName\": \"main\"}";
    static const char ref_second[] = "CMJR{\"version\": 1, \"key\": \"coreml_executorch_mf\", "
                                     "\"functionName\": \"second\"}";
    fake_prog fp;
    memset(&fp, 0, sizeof fp);
    fp.nd[0].key = (cml_str){"coreml_executorch_mf", 20};
    fp.nd[0].data = pl.image;
    fp.nd[0].size = pl.image_size;
    fp.prog.named_data = fp.nd;
    fp.prog.nnamed_data = 1;
    cml_coreml_payload p;
    cml_error err = {0};
    CHECK_MSG(cml_coreml_payload_open(&fp.prog, (const uint8_t *)ref_second, strlen(ref_second),
                                      "second", NULL, &p, &err) == CML_OK, "%s", err.msg);
    CHECK(p.is_reference && strcmp(p.ref.key, "coreml_executorch_mf") == 0);
    CHECK(p.image == pl.image && p.metadata.multifunction);
    CHECK(strcmp(p.function_name, "second") == 0 && strcmp(p.io->method, "second") == 0);
    CHECK(strcmp(p.interface.function, "second") == 0);
    CHECK(strcmp(cml_mlpackage_default_function(&p.package), "main") == 0);
    check_linear(&p.package, "second");
    check_linear(&p.package, "main");
    cml_coreml_payload_close(&p);
    /* functionName alone selects the method when none is given. */
    CHECK(cml_coreml_payload_open(&fp.prog, (const uint8_t *)ref_main, strlen(ref_main), NULL,
                                  NULL, &p, &err) == CML_OK);
    CHECK(strcmp(p.function_name, "main") == 0 && strcmp(p.io->method, "main") == 0);
    cml_coreml_payload_close(&p);
    expect_payload_fail(&fp.prog, (const uint8_t *)ref_main, strlen(ref_main), "decode",
                        CML_ERR_NOT_FOUND, "no entry for method 'decode'");
    static const char ref_bad[] = "CMJR{\"key\": \"coreml_executorch_mf\", \"functionName\": \"third\"}";
    expect_payload_fail(&fp.prog, (const uint8_t *)ref_bad, strlen(ref_bad), "main",
                        CML_ERR_CORRUPT, "the program has no function 'third'");
    static const char ref_missing[] = "CMJR{\"key\": \"coreml_executorch_zz\"}";
    expect_payload_fail(&fp.prog, (const uint8_t *)ref_missing, strlen(ref_missing), "main",
                        CML_ERR_CORRUPT, "named data 'coreml_executorch_zz' not found (the "
                        "program has 1 named data entries)");
    payload_free(&pl);
}

/* ------------------------------------------------------------ extraction */

static bool same_file(const char *rel, const void *data, size_t n) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", g_tmp, rel);
    size_t got;
    uint8_t *buf = read_all(path, &got);
    bool ok = buf && got == n && memcmp(buf, data, n) == 0;
    free(buf);
    return ok;
}

static void test_extract(void) {
    model_opts o = {7, false, 64, NULL};
    payload_t a, mf;
    payload_build(&a, &o, k_meta, k_manifest, false);
    model_opts o9 = {9, true, 64, NULL};
    payload_build(&mf, &o9, k_meta_mf, k_manifest, false);
    static const char ref_main[] = "CMJR{\"version\": 1, \"key\": \"coreml_executorch_mf\", "
                                   "\"functionName\": \"main\"}";
    static const char ref_second[] = "CMJR{\"version\": 1, \"key\": \"coreml_executorch_mf\", "
                                     "\"functionName\": \"second\"}";
    fake_prog fp;
    memset(&fp, 0, sizeof fp);
    fake_delegate(&fp.dels[0], "CoreMLBackend", a.image, a.image_size);
    fake_delegate(&fp.dels[1], "XnnpackBackend", "x", 1);
    fake_delegate(&fp.dels[2], "CoreMLBackend", ref_main, strlen(ref_main));
    fake_delegate(&fp.dels[3], "CoreMLBackend", ref_second, strlen(ref_second));
    fake_delegate(&fp.dels[4], "CoreMLBackend", a.image, a.image_size);
    fp.plans[0].name = (cml_str){"forward", 7};
    fp.plans[0].delegates = fp.dels;
    fp.plans[0].ndelegates = 5;
    fp.prog.plans = fp.plans;
    fp.prog.nplans = 1;
    fp.nd[0].key = (cml_str){"coreml_executorch_mf", 20};
    fp.nd[0].data = mf.image;
    fp.nd[0].size = mf.image_size;
    fp.prog.named_data = fp.nd;
    fp.prog.nnamed_data = 1;

    char out[600];
    snprintf(out, sizeof out, "%s/ex/deep/", g_tmp);
    mkdirs("ex/deep/model_1/stale"); /* replaced, as the script does */
    put_file("ex/deep/model_1/stale/old.txt", "old", 3);
    char logbuf[2048] = "";
    FILE *log = fmemopen(logbuf, sizeof logbuf, "w");
    cml_error err = {0};
    CHECK_MSG(cml_coreml_extract(&fp.prog, out, log, &err) == CML_OK, "%s", err.msg);
    fclose(log);
    char want[2048];
    snprintf(want, sizeof want,
             "Core ML models are extracted and saved to path = %s/ex/deep/model_1\n"
             "Core ML models are extracted and saved to path = %s/ex/deep/coreml_executorch_mf\n"
             "Core ML models are extracted and saved to path = %s/ex/deep/model_3\n",
             g_tmp, g_tmp, g_tmp);
    CHECK_MSG(strcmp(logbuf, want) == 0, "%s", logbuf);
    const char *pre = "ex/deep/model_1/lowered_module/";
    char rel[600];
    snprintf(rel, sizeof rel, "%smetadata.json", pre);
    CHECK(same_file(rel, k_meta, strlen(k_meta)));
    snprintf(rel, sizeof rel, "%smodel.mlpackage/Manifest.json", pre);
    CHECK(same_file(rel, k_manifest, strlen(k_manifest)));
    snprintf(rel, sizeof rel, "%smodel.mlpackage/Data/com.apple.CoreML/model.mlmodel", pre);
    CHECK(same_file(rel, a.model_bytes, a.model_size));
    snprintf(rel, sizeof rel, "%smodel.mlpackage/Data/com.apple.CoreML/weights/weight.bin", pre);
    CHECK(same_file(rel, a.wb.p, a.wb.n));
    CHECK(same_file("ex/deep/model_3/lowered_module/metadata.json", k_meta, strlen(k_meta)));
    CHECK(same_file("ex/deep/coreml_executorch_mf/lowered_module/metadata.json", k_meta_mf,
                    strlen(k_meta_mf)));
    struct stat st;
    snprintf(rel, sizeof rel, "%s/ex/deep/model_1/stale", g_tmp);
    CHECK(stat(rel, &st) != 0);
    snprintf(rel, sizeof rel, "%s/ex/deep/model_2", g_tmp);
    CHECK(stat(rel, &st) != 0);
    /* The extracted package opens standalone. */
    cml_mlpackage pkg;
    snprintf(rel, sizeof rel, "%s/ex/deep/model_1/lowered_module/model.mlpackage", g_tmp);
    CHECK(cml_mlpackage_open_dir(rel, NULL, &pkg, &err) == CML_OK);
    check_linear(&pkg, "main");
    cml_mlpackage_close(&pkg);

    /* Nothing delegated. */
    fp.plans[0].delegates = &fp.dels[1];
    fp.plans[0].ndelegates = 1;
    memset(logbuf, 0, sizeof logbuf);
    log = fmemopen(logbuf, sizeof logbuf, "w");
    CHECK(cml_coreml_extract(&fp.prog, out, log, &err) == CML_OK);
    fclose(log);
    CHECK(strcmp(logbuf, "The model isn't delegated to Core ML.\n") == 0);
    /* Unsafe key, missing key, corrupt image. */
    static const char ref_evil[] = "CMJR{\"key\": \"..\"}";
    fp.nd[1].key = (cml_str){"..", 2};
    fp.nd[1].data = mf.image;
    fp.nd[1].size = mf.image_size;
    fp.prog.nnamed_data = 2;
    fake_delegate(&fp.dels[5], "CoreMLBackend", ref_evil, strlen(ref_evil));
    fp.plans[0].delegates = &fp.dels[5];
    CHECK(cml_coreml_extract(&fp.prog, out, NULL, &err) == CML_ERR_CORRUPT);
    CHECK_MSG(strstr(err.msg, "plan 'forward' delegate 0: CMJR reference: key '..' is not a safe "
                     "directory name"), "%s", err.msg);
    fake_delegate(&fp.dels[5], "CoreMLBackend", "garbage}", 8);
    CHECK(cml_coreml_extract(&fp.prog, out, NULL, &err) == CML_ERR_CORRUPT);
    CHECK(strstr(err.msg, "inmemoryfs index"));
    put_file("ex/file", "x", 1);
    snprintf(rel, sizeof rel, "%s/ex/file/sub", g_tmp);
    fp.plans[0].delegates = fp.dels;
    CHECK(cml_coreml_extract(&fp.prog, rel, NULL, &err) == CML_ERR_IO);
    payload_free(&a);
    payload_free(&mf);
}

static int rm_cb(const char *p, const struct stat *s, int f, struct FTW *w) {
    (void)s, (void)f, (void)w;
    return remove(p);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/cml_coreml_pkg_XXXXXX");
    if (!mkdtemp(g_tmp)) return 2;
    test_dir_package();
    test_corrupt_models();
    test_payload();
    test_multifunction();
    test_extract();
    nftw(g_tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    TEST_MAIN_END();
}
