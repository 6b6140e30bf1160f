/* .mlpackage access (directory or inmemoryfs subtree), Manifest.json
 * resolution and model.mlmodel decoding; see mlpackage.h. */
#include "coreml/mlpackage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/checked.h"
#include "coreml/pbwire.h"

static const uint8_t k_empty[1] = {0};

/* ------------------------------------------------------------ allocator */

/* protobuf-c allocates every message, string and repeated field of the
 * decoded model separately: thousands of small blocks for a real network.
 * They all live exactly as long as the package, so they come from a bump
 * arena (chunks of 64 KiB doubling to 4 MiB, or one chunk for a bigger
 * block) and pb_free is a no-op; cml_mlpackage_close frees the chunks. */
typedef struct pb_chunk {
    struct pb_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} pb_chunk;

typedef struct pb_ctx {
    const cml_allocator *allocator;
    pb_chunk **head;               /* the package's chunk list */
    bool failed;
} pb_ctx;

static void *pb_alloc(void *data, size_t size) {
    pb_ctx *ctx = data;
    size = (size + 15) & ~(size_t)15;
    pb_chunk *c = *ctx->head;
    if (!c || c->cap - c->used < size) {
        size_t cap = c ? (c->cap < ((size_t)4 << 20) ? c->cap * 2 : c->cap) : (size_t)64 << 10;
        if (cap < size) cap = size;
        if (cap > SIZE_MAX - sizeof(pb_chunk)) return ctx->failed = true, NULL;
        pb_chunk *n = cml_malloc(ctx->allocator, sizeof(pb_chunk) + cap);
        if (!n) return ctx->failed = true, NULL;
        n->used = 0;
        n->cap = cap;
        n->next = c;
        *ctx->head = c = n;
    }
    void *p = c->data + c->used;
    c->used += size;
    return p;
}

static void pb_free(void *data, void *ptr) {
    (void)data;
    (void)ptr; /* released with the arena */
}

static void pb_arena_free(const cml_allocator *allocator, pb_chunk *c) {
    while (c) {
        pb_chunk *next = c->next;
        cml_free(allocator, c);
        c = next;
    }
}

/* ---------------------------------------------------------------- files */

/* Normalizes a relative path into buf: empty and "." components dropped;
 * ".." or an absolute path refused. */
static bool normalize(const char *path, char *buf, size_t cap) {
    if (path[0] == '/') return false;
    size_t out = 0;
    const char *p = path;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.') return false;
        if (len > 0 && !(len == 1 && p[0] == '.')) {
            if (out + (out > 0) + len + 1 > cap) return false;
            if (out > 0) buf[out++] = '/';
            memmove(buf + out, p, len);
            out += len;
        }
        p += len;
        if (*p == '/') p++;
    }
    buf[out] = '\0';
    return out > 0;
}

#define PKG_MAX_PATH 4096

static cml_status disk_path(const cml_mlpackage *pkg, const char *rel, char *buf, cml_error *err) {
    int n = snprintf(buf, PKG_MAX_PATH, "%s/%s", pkg->dir, rel);
    if (n < 0 || n >= PKG_MAX_PATH)
        return cml_fail(err, CML_ERR_INVALID_ARG, "path too long: %.200s/%.200s", pkg->dir, rel);
    return CML_OK;
}

/* Whether rel exists; *is_dir tells which kind. */
static bool pkg_exists(const cml_mlpackage *pkg, const char *rel, bool *is_dir) {
    char norm[PKG_MAX_PATH];
    if (!normalize(rel, norm, sizeof norm)) return false;
    if (pkg->source == CML_MLPACKAGE_IMFS) {
        const cml_imfs_node *n = cml_imfs_lookup(&pkg->fs, pkg->node, norm);
        if (n) *is_dir = n->kind == CML_IMFS_DIR;
        return n != NULL;
    }
    char full[PKG_MAX_PATH];
    struct stat st;
    if (disk_path(pkg, norm, full, NULL) != CML_OK || stat(full, &st) != 0) return false;
    *is_dir = S_ISDIR(st.st_mode);
    return S_ISDIR(st.st_mode) || S_ISREG(st.st_mode);
}

static cml_status open_file(cml_mlpackage *pkg, const char *relpath, cml_mlpackage_file **out,
                            cml_error *err) {
    char norm[PKG_MAX_PATH];
    if (!normalize(relpath, norm, sizeof norm))
        return cml_fail(err, CML_ERR_CORRUPT, "invalid package path '%.200s' (absolute, empty or "
                        "with '..')", relpath);
    for (uint32_t i = 0; i < pkg->nfiles; i++)
        if (strcmp(pkg->files[i].relpath, norm) == 0) {
            *out = &pkg->files[i];
            return CML_OK;
        }
    if (pkg->nfiles == CML_MLPACKAGE_MAX_FILES)
        return cml_fail(err, CML_ERR_UNSUPPORTED, "%s: more than %d package files opened", norm,
                        CML_MLPACKAGE_MAX_FILES);
    cml_mlpackage_file f = {0};
    if (pkg->source == CML_MLPACKAGE_IMFS) {
        const cml_imfs_node *n = cml_imfs_lookup(&pkg->fs, pkg->node, norm);
        if (!n || n->kind != CML_IMFS_FILE)
            return cml_fail(err, CML_ERR_NOT_FOUND, "%s/%s: %s", pkg->node->name, norm,
                            n ? "is a directory" : "no such file in the payload");
        f.data = n->data;
        f.size = (size_t)n->size;
    } else {
        char full[PKG_MAX_PATH];
        CML_TRY(disk_path(pkg, norm, full, err));
        CML_TRY(cml_file_map_lookup(full, &f.map, err));
        f.size = f.map.size;
        f.data = f.map.data ? f.map.data : k_empty;
    }
    f.relpath = cml_strndup(pkg->allocator, norm, strlen(norm));
    if (!f.relpath) {
        cml_file_unmap(&f.map);
        return cml_fail(err, CML_ERR_NOMEM, "out of memory");
    }
    pkg->files[pkg->nfiles] = f;
    *out = &pkg->files[pkg->nfiles++];
    return CML_OK;
}

cml_status cml_mlpackage_read(cml_mlpackage *pkg, const char *relpath, const uint8_t **data,
                              size_t *size, cml_error *err) {
    cml_mlpackage_file *f;
    CML_TRY(open_file(pkg, relpath, &f, err));
    *data = f->data;
    *size = f->size;
    return CML_OK;
}

cml_status cml_mlpackage_blob(cml_mlpackage *pkg, const char *file_name,
                              const cml_milblob **out, cml_error *err) {
    static const char prefix[] = "@model_path/";
    if (!file_name || strncmp(file_name, prefix, sizeof prefix - 1) != 0)
        return cml_fail(err, CML_ERR_CORRUPT, "blob file name '%.200s' does not start with "
                        "'@model_path/'", file_name ? file_name : "");
    char rel[PKG_MAX_PATH];
    int n = snprintf(rel, sizeof rel, "%s/%s", pkg->model_dir, file_name + sizeof prefix - 1);
    if (n < 0 || (size_t)n >= sizeof rel)
        return cml_fail(err, CML_ERR_CORRUPT, "blob file name '%.200s' too long", file_name);
    cml_mlpackage_file *f;
    cml_status st = open_file(pkg, rel, &f, err);
    if (st != CML_OK) {
        cml_error_prefix(err, "blob file '%.200s': ", file_name);
        return st;
    }
    if (!f->is_blob) {
        const char *base = strrchr(f->relpath, '/');
        CML_TRY(cml_milblob_open(f->data, f->size, base ? base + 1 : f->relpath, &f->blob, err));
        f->is_blob = true;
    }
    *out = &f->blob;
    return CML_OK;
}

/* ------------------------------------------------------------- manifest */

static bool parse_version(const char *s, unsigned v[3]) {
    for (int i = 0; i < 3; i++) {
        if (*s < '0' || *s > '9') return false;
        unsigned long x = 0;
        while (*s >= '0' && *s <= '9') {
            x = x * 10 + (unsigned long)(*s++ - '0');
            if (x > 100000) return false;
        }
        v[i] = (unsigned)x;
        if (i < 2 && *s++ != '.') return false;
    }
    return *s == '\0';
}

static const char *item_string(const cml_json *item, const char *key) {
    const cml_json *v = cml_json_get(item, key);
    return cml_json_is(v, CML_JSON_STRING) ? v->str : NULL;
}

/* Manifest.json -> pkg->model_relpath / model_dir. */
static cml_status read_manifest(cml_mlpackage *pkg, cml_error *err) {
    const uint8_t *data;
    size_t size;
    cml_status st = cml_mlpackage_read(pkg, "Manifest.json", &data, &size, err);
    if (st != CML_OK) return st;
    cml_json_doc doc;
    CML_TRY(cml_json_parse((const char *)data, size, pkg->allocator, "Manifest.json", &doc, err));
    const cml_json *json = doc.root;
    if (!cml_json_is(json, CML_JSON_OBJECT)) {
        cml_json_free(&doc);
        return cml_fail(err, CML_ERR_CORRUPT, "Manifest.json: not a JSON object");
    }
    const char *version = item_string(json, "fileFormatVersion");
    const char *root_id = item_string(json, "rootModelIdentifier");
    const cml_json *entries = cml_json_get(json, "itemInfoEntries");
    const cml_json *item = cml_json_is(entries, CML_JSON_OBJECT) && root_id
                            ? cml_json_get(entries, root_id)
                            : NULL;
    const char *path = item ? item_string(item, "path") : NULL;
    unsigned v[3];
    char rel[PKG_MAX_PATH];
    if (!version || !parse_version(version, v)) {
        st = cml_fail(err, CML_ERR_CORRUPT, "Manifest.json: 'fileFormatVersion' is missing or not "
                      "\"major.minor.patch\"");
    } else if (v[0] > 1 || (v[0] == 1 && (v[1] > 0 || v[2] > 0))) {
        st = cml_fail(err, CML_ERR_UNSUPPORTED, "Manifest.json: fileFormatVersion %s is newer "
                      "than 1.0.0", version);
    } else if (!root_id) {
        st = cml_fail(err, CML_ERR_CORRUPT, "Manifest.json: 'rootModelIdentifier' is missing");
    } else if (!cml_json_is(item, CML_JSON_OBJECT)) {
        st = cml_fail(err, CML_ERR_CORRUPT, "Manifest.json: rootModelIdentifier '%.100s' has no "
                      "entry in 'itemInfoEntries'", root_id);
    } else if (!path || !item_string(item, "name") || !item_string(item, "author") ||
               !item_string(item, "description")) {
        st = cml_fail(err, CML_ERR_CORRUPT, "Manifest.json: item '%.100s' lacks one of 'path', "
                      "'name', 'author', 'description'", root_id);
    } else if (snprintf(rel, sizeof rel, "Data/%s", path) >= (int)sizeof rel ||
               !normalize(rel, rel, sizeof rel) || strcmp(rel, "Data") == 0) {
        st = cml_fail(err, CML_ERR_CORRUPT, "Manifest.json: item '%.100s' has an invalid path "
                      "'%.200s'", root_id, path);
    } else {
        bool is_dir = false;
        if (!pkg_exists(pkg, rel, &is_dir) || is_dir) {
            st = cml_fail(err, CML_ERR_CORRUPT, "Manifest.json: root model item path '%.200s' "
                          "(%s) is %s", path, rel, is_dir ? "a directory" : "missing");
        } else {
            const char *slash = strrchr(rel, '/'); /* rel starts with "Data/" */
            pkg->model_relpath = cml_strndup(pkg->allocator, rel, strlen(rel));
            pkg->model_dir = cml_strndup(pkg->allocator, rel, (size_t)(slash - rel));
            if (!pkg->model_relpath || !pkg->model_dir)
                st = cml_fail(err, CML_ERR_NOMEM, "Manifest.json: out of memory");
        }
    }
    cml_json_free(&doc);
    return st;
}

/* ------------------------------------------------------------- decoding */

static const struct { uint32_t number; const char *name; } k_model_types[] = {
    {200, "pipelineClassifier"}, {201, "pipelineRegressor"}, {202, "pipeline"},
    {300, "glmRegressor"}, {301, "supportVectorRegressor"}, {302, "treeEnsembleRegressor"},
    {303, "neuralNetworkRegressor"}, {304, "bayesianProbitRegressor"}, {400, "glmClassifier"},
    {401, "supportVectorClassifier"}, {402, "treeEnsembleClassifier"},
    {403, "neuralNetworkClassifier"}, {404, "kNearestNeighborsClassifier"},
    {500, "neuralNetwork"}, {501, "itemSimilarityRecommender"}, {555, "customModel"},
    {556, "linkedModel"}, {560, "classConfidenceThresholding"}, {600, "oneHotEncoder"},
    {601, "imputer"}, {602, "featureVectorizer"}, {603, "dictVectorizer"}, {604, "scaler"},
    {606, "categoricalMapping"}, {607, "normalizer"}, {609, "arrayFeatureExtractor"},
    {610, "nonMaximumSuppression"}, {900, "identity"}, {2000, "textClassifier"},
    {2001, "wordTagger"}, {2002, "visionFeaturePrint"}, {2003, "soundAnalysisPreprocessing"},
    {2004, "gazetteer"}, {2005, "wordEmbedding"}, {2006, "audioFeaturePrint"},
    {3000, "serializedModel"},
};

const char *cml_mlmodel_type_name(uint32_t number) {
    for (size_t i = 0; i < sizeof k_model_types / sizeof k_model_types[0]; i++)
        if (k_model_types[i].number == number) return k_model_types[i].name;
    return NULL;
}

static int cmp_key(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static cml_status check_functions(cml_mlpackage *pkg, cml_error *err) {
    const cml_pb_program *prog = pkg->program;
    size_t n = prog->n_functions;
    if (n == 0) return cml_fail(err, CML_ERR_CORRUPT, "model.mlmodel: the program has no functions");
    const char **keys = cml_calloc(pkg->allocator, n, sizeof *keys);
    if (!keys) return cml_fail(err, CML_ERR_NOMEM, "model.mlmodel: out of memory");
    cml_status st = CML_OK;
    for (size_t i = 0; i < n && st == CML_OK; i++) {
        const Cml__Coreml__MILSpec__Program__FunctionsEntry *e = prog->functions[i];
        const cml_pb_function *f = e->value;
        keys[i] = e->key;
        if (e->key[0] == '\0' || !f) {
            st = cml_fail(err, CML_ERR_CORRUPT, "model.mlmodel: program function %zu has %s", i,
                          f ? "an empty name" : "no body");
        } else if (f->opset[0] == '\0') {
            st = cml_fail(err, CML_ERR_CORRUPT, "model.mlmodel: function '%.100s' has no opset",
                          e->key);
        } else if (!cml_mlprogram_block(f)) {
            st = cml_fail(err, CML_ERR_CORRUPT, "model.mlmodel: function '%.100s' has no block "
                          "for its opset '%.50s'", e->key, f->opset);
        }
    }
    if (st == CML_OK) {
        qsort(keys, n, sizeof *keys, cmp_key);
        for (size_t i = 1; i < n && st == CML_OK; i++)
            if (strcmp(keys[i - 1], keys[i]) == 0)
                st = cml_fail(err, CML_ERR_CORRUPT, "model.mlmodel: function '%.100s' defined "
                              "twice", keys[i]);
    }
    cml_free(pkg->allocator, keys);
    CML_TRY(st);

    const Cml__Coreml__ModelDescription *d = pkg->model->description;
    if (!d || d->n_functions == 0) {
        if (!cml_mlprogram_function(prog, "main"))
            return cml_fail(err, CML_ERR_CORRUPT, "model.mlmodel: no function 'main' (and the "
                            "description lists no functions)");
        return CML_OK;
    }
    bool default_found = false;
    for (size_t i = 0; i < d->n_functions; i++) {
        const Cml__Coreml__FunctionDescription *fd = d->functions[i];
        if (!cml_mlprogram_function(prog, fd->name))
            return cml_fail(err, CML_ERR_CORRUPT, "model.mlmodel: description function "
                            "'%.100s' is not in the program", fd->name);
        if (strcmp(fd->name, d->defaultfunctionname) == 0) default_found = true;
    }
    if (!default_found)
        return cml_fail(err, CML_ERR_CORRUPT, "model.mlmodel: defaultFunctionName '%.100s' is not "
                        "a described function", d->defaultfunctionname);
    return CML_OK;
}

static cml_status decode_model(cml_mlpackage *pkg, cml_error *err) {
    cml_mlpackage_file *f;
    CML_TRY(open_file(pkg, pkg->model_relpath, &f, err));
    pkg->model_bytes = f->data;
    pkg->model_size = f->size;
    CML_TRY(cml_pb_check(&cml__coreml__model__descriptor, f->data, f->size,
                         CML_MLPACKAGE_MAX_PB_DEPTH, "model.mlmodel", err));
    pb_ctx ctx = {pkg->allocator, (pb_chunk **)&pkg->pb_arena, false};
    ProtobufCAllocator pba = {pb_alloc, pb_free, &ctx};
    pkg->model = cml__coreml__model__unpack(&pba, f->size, f->data);
    if (!pkg->model) {
        if (ctx.failed)
            return cml_fail(err, CML_ERR_NOMEM, "model.mlmodel: out of memory decoding %zu bytes",
                            f->size);
        return cml_fail(err, CML_ERR_CORRUPT, "model.mlmodel: protobuf decoding failed (%zu "
                        "bytes; a field does not match its declared type)", f->size);
    }
    pkg->spec_version = pkg->model->specificationversion;
    if (pkg->model->type_case != CML__COREML__MODEL__TYPE_ML_PROGRAM ||
        !pkg->model->mlprogram) {
        uint32_t other = cml_pb_find_field(f->data, f->size, 200, 3000);
        const char *name = cml_mlmodel_type_name(other);
        if (name)
            return cml_fail(err, CML_ERR_UNSUPPORTED, "model.mlmodel: a %s model (field %u), not "
                            "an ML Program (mlProgram, field 502)", name, other);
        return cml_fail(err, CML_ERR_CORRUPT, "model.mlmodel: no mlProgram (field 502)");
    }
    if (pkg->spec_version < 6)
        return cml_fail(err, CML_ERR_CORRUPT, "model.mlmodel: specificationVersion %d < 6 (ML "
                        "Programs need 6 or later)", pkg->spec_version);
    pkg->program = pkg->model->mlprogram;
    return check_functions(pkg, err);
}

static cml_status finish_open(cml_mlpackage *pkg, cml_mlpackage *out, cml_error *err) {
    cml_status st = read_manifest(pkg, err);
    if (st == CML_OK) st = decode_model(pkg, err);
    if (st != CML_OK) {
        cml_mlpackage_close(pkg);
        return st;
    }
    *out = *pkg;
    return CML_OK;
}

static cml_status begin_open(cml_mlpackage *pkg, const cml_allocator *allocator, cml_error *err) {
    pkg->allocator = allocator;
    pkg->files = cml_calloc(allocator, CML_MLPACKAGE_MAX_FILES, sizeof *pkg->files);
    if (!pkg->files) return cml_fail(err, CML_ERR_NOMEM, "mlpackage: out of memory");
    return CML_OK;
}

cml_status cml_mlpackage_open_dir(const char *path, const cml_allocator *allocator,
                                  cml_mlpackage *out, cml_error *err) {
    cml_mlpackage pkg = {0};
    pkg.source = CML_MLPACKAGE_DIR;
    struct stat st;
    if (!path || stat(path, &st) != 0)
        return cml_fail(err, CML_ERR_IO, "%s: %s", path ? path : "(null)", strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cml_fail(err, CML_ERR_INVALID_ARG, "%s: not a directory (an .mlpackage is a "
                        "directory)", path);
    CML_TRY(begin_open(&pkg, allocator, err));
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    pkg.dir = cml_strndup(allocator, path, len);
    if (!pkg.dir) {
        cml_mlpackage_close(&pkg);
        return cml_fail(err, CML_ERR_NOMEM, "mlpackage: out of memory");
    }
    bool is_dir;
    if (!pkg_exists(&pkg, "Manifest.json", &is_dir) &&
        (pkg_exists(&pkg, "coremldata.bin", &is_dir) || pkg_exists(&pkg, "model.mil", &is_dir))) {
        cml_mlpackage_close(&pkg);
        return cml_fail(err, CML_ERR_UNSUPPORTED, "%s: a compiled .mlmodelc bundle (made by "
                        "Apple's compiler on macOS) is not supported; use the .mlpackage", path);
    }
    cml_status s = finish_open(&pkg, out, err);
    if (s != CML_OK) cml_error_prefix_path(err, path);
    return s;
}

cml_status cml_mlpackage_open_imfs(const cml_imfs *fs, const cml_imfs_node *node,
                                   const cml_allocator *allocator, cml_mlpackage *out,
                                   cml_error *err) {
    if (!fs || !node || node->kind != CML_IMFS_DIR)
        return cml_fail(err, CML_ERR_INVALID_ARG, "mlpackage: not a directory node");
    cml_mlpackage pkg = {0};
    pkg.source = CML_MLPACKAGE_IMFS;
    pkg.fs = *fs;
    pkg.node = node;
    CML_TRY(begin_open(&pkg, allocator, err));
    cml_status s = finish_open(&pkg, out, err);
    if (s != CML_OK) cml_error_prefix(err, "%.100s/", node->name);
    return s;
}

void cml_mlpackage_close(cml_mlpackage *pkg) {
    if (!pkg) return;
    pb_arena_free(pkg->allocator, pkg->pb_arena); /* the decoded model */
    pkg->pb_arena = NULL;
    pkg->model = NULL;
    for (uint32_t i = 0; pkg->files && i < pkg->nfiles; i++) {
        cml_file_unmap(&pkg->files[i].map);
        cml_free(pkg->allocator, pkg->files[i].relpath);
    }
    cml_free(pkg->allocator, pkg->files);
    cml_free(pkg->allocator, pkg->dir);
    cml_free(pkg->allocator, pkg->model_relpath);
    cml_free(pkg->allocator, pkg->model_dir);
    memset(pkg, 0, sizeof *pkg);
}

/* ------------------------------------------------------ program helpers */

const cml_pb_function *cml_mlprogram_function(const cml_pb_program *program, const char *name) {
    if (!program || !name) return NULL;
    for (size_t i = 0; i < program->n_functions; i++)
        if (strcmp(program->functions[i]->key, name) == 0) return program->functions[i]->value;
    return NULL;
}

const cml_pb_block *cml_mlprogram_block(const cml_pb_function *function) {
    if (!function) return NULL;
    for (size_t i = 0; i < function->n_block_specializations; i++) {
        const Cml__Coreml__MILSpec__Function__BlockSpecializationsEntry *e =
            function->block_specializations[i];
        if (strcmp(e->key, function->opset) == 0) return e->value;
    }
    return NULL;
}

const char *cml_mlpackage_default_function(const cml_mlpackage *pkg) {
    const Cml__Coreml__ModelDescription *d = pkg->model ? pkg->model->description : NULL;
    if (d && d->n_functions > 0) return d->defaultfunctionname;
    return "main";
}

static cml_status check_features(cml_pb_feature *const *list, size_t n, const char *fn,
                                 const char *kind, cml_error *err) {
    for (size_t i = 0; i < n; i++) {
        if (!list[i] || list[i]->name[0] == '\0')
            return cml_fail(err, CML_ERR_CORRUPT, "model.mlmodel: function '%.100s' %s %zu has "
                            "no name", fn, kind, i);
        if (!list[i]->type || list[i]->type->type_case == CML__COREML__FEATURE_TYPE__TYPE__NOT_SET)
            return cml_fail(err, CML_ERR_CORRUPT, "model.mlmodel: function '%.100s' %s '%.100s' "
                            "has no type", fn, kind, list[i]->name);
    }
    return CML_OK;
}

cml_status cml_mlpackage_interface(const cml_mlpackage *pkg, const char *name,
                                   cml_mlmodel_io *out, cml_error *err) {
    const Cml__Coreml__ModelDescription *d = pkg->model ? pkg->model->description : NULL;
    cml_mlmodel_io io = {0};
    if (!name) name = cml_mlpackage_default_function(pkg);
    io.function = name;
    if (d && d->n_functions > 0) {
        const Cml__Coreml__FunctionDescription *fd = NULL;
        for (size_t i = 0; i < d->n_functions && !fd; i++)
            if (strcmp(d->functions[i]->name, name) == 0) fd = d->functions[i];
        if (!fd)
            return cml_fail(err, CML_ERR_NOT_FOUND, "model.mlmodel: no function '%.100s' in the "
                            "model description", name);
        io.function = fd->name;
        io.inputs = fd->input;
        io.ninputs = fd->n_input;
        io.outputs = fd->output;
        io.noutputs = fd->n_output;
        io.states = fd->state;
        io.nstates = fd->n_state;
    } else {
        if (strcmp(name, "main") != 0)
            return cml_fail(err, CML_ERR_NOT_FOUND, "model.mlmodel: no function '%.100s' (the "
                            "model has only 'main')", name);
        io.function = "main";
        if (d) {
            io.inputs = d->input;
            io.ninputs = d->n_input;
            io.outputs = d->output;
            io.noutputs = d->n_output;
            io.states = d->state;
            io.nstates = d->n_state;
        }
    }
    CML_TRY(check_features(io.inputs, io.ninputs, io.function, "input", err));
    CML_TRY(check_features(io.outputs, io.noutputs, io.function, "output", err));
    CML_TRY(check_features(io.states, io.nstates, io.function, "state", err));
    *out = io;
    return CML_OK;
}

const cml_pb_feature *cml_mlmodel_find_feature(cml_pb_feature *const *list, size_t n,
                                               const char *name) {
    for (size_t i = 0; i < n; i++)
        if (list[i] && strcmp(list[i]->name, name) == 0) return list[i];
    return NULL;
}
