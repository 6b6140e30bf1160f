/* Every delegated fixture (tests/fixtures/<case>/model.pte, made by the real
 * executorch + coremltools toolchain): parse the .pte, open each
 * CoreMLBackend payload for its method, decode model.mlmodel, decode every
 * MIL value of every function (blob values through weight.bin), compare
 * with case.json, extract like extract_coreml_models.py, reopen the
 * extracted .mlpackage from disk, and - when CML_COREML_REF_DIR names the
 * output of tests/coreml_unflatten_ref.py - compare the extraction byte for
 * byte with upstream's unflatten. */
#include <cJSON.h>
#include <dirent.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/status.h"
#include "coreml/extract.h"
#include "coreml/payload.h"
#include "coreml/value.h"
#include "harness.h"
#include "pte/pte.h"
#include "test_coreml_util.h"

#ifndef CML_FIXTURE_DIR
#define CML_FIXTURE_DIR "tests/fixtures"
#endif

typedef struct value_stats {
    unsigned values, blobs, skipped;
    uint64_t blob_bytes;
} value_stats;

static void decode_values_in_block(const cml_pb_block *b, cml_mlpackage *pkg, value_stats *s,
                                   const char *where);

static void decode_value(const cml_pb_value *v, cml_mlpackage *pkg, value_stats *s,
                         const char *where, const char *name) {
    cml_mlvalue out;
    cml_error err = {0};
    cml_status st = cml_mlvalue_decode(v, pkg, &out, &err);
    if (st == CML_ERR_UNSUPPORTED && v->type &&
        v->type->type_case != CML__COREML__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE) {
        s->skipped++; /* lists, tuples, dictionaries: decoded element-wise by callers */
        if (v->value_case == CML__COREML__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE &&
            v->immediatevalue->value_case ==
                CML__COREML__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_LIST)
            for (size_t i = 0; i < v->immediatevalue->list->n_values; i++)
                decode_value(v->immediatevalue->list->values[i], pkg, s, where, name);
        return;
    }
    CHECK_MSG(st == CML_OK, "%s %s: %s", where, name, err.msg);
    if (st != CML_OK) return;
    s->values++;
    if (out.from_blob) {
        s->blobs++;
        s->blob_bytes += out.nbytes;
    }
    /* Touch the first and last element (ASan checks the bounds). */
    if (out.numel > 0 && out.storage != CML_MLVALUE_STRING) {
        volatile double a = cml_mlvalue_get_f64(&out, 0), z = cml_mlvalue_get_f64(&out, out.numel - 1);
        (void)a, (void)z;
    }
}

static void decode_values_in_op(const Cml__Coreml__MILSpec__Operation *op,
                                cml_mlpackage *pkg, value_stats *s, const char *where) {
    for (size_t i = 0; i < op->n_attributes; i++)
        decode_value(op->attributes[i]->value, pkg, s, where, op->attributes[i]->key);
    for (size_t i = 0; i < op->n_inputs; i++) {
        const Cml__Coreml__MILSpec__Argument *a = op->inputs[i]->value;
        for (size_t k = 0; a && k < a->n_arguments; k++)
            if (a->arguments[k]->binding_case ==
                CML__COREML__MILSPEC__ARGUMENT__BINDING__BINDING_VALUE)
                decode_value(a->arguments[k]->value, pkg, s, where, op->inputs[i]->key);
    }
    for (size_t i = 0; i < op->n_blocks; i++) decode_values_in_block(op->blocks[i], pkg, s, where);
}

static void decode_values_in_block(const cml_pb_block *b, cml_mlpackage *pkg, value_stats *s,
                                   const char *where) {
    for (size_t i = 0; i < b->n_operations; i++) decode_values_in_op(b->operations[i], pkg, s, where);
}

static value_stats decode_all(cml_mlpackage *pkg, const char *where) {
    value_stats s = {0};
    for (size_t f = 0; f < pkg->program->n_functions; f++)
        decode_values_in_block(cml_mlprogram_block(pkg->program->functions[f]->value), pkg, &s, where);
    return s;
}

/* ------------------------------------------------------------ helpers */

static uint8_t *load_aligned(const char *path, size_t *n) {
    size_t sz;
    uint8_t *raw = read_all(path, &sz);
    if (!raw) return NULL;
    uint8_t *al = cml_malloc(NULL, sz);
    memcpy(al, raw, sz);
    free(raw);
    *n = sz;
    return al;
}

static cJSON *load_json(const char *path) {
    size_t n;
    uint8_t *t = read_all(path, &n);
    if (!t) return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)t, n);
    free(t);
    return j;
}

typedef struct collect_ctx {
    char files[64][512];
    int n;
} collect_ctx;

static cml_status collect_files(void *vctx, const cml_imfs *fs, const cml_imfs_node *node,
                                const char *path, cml_error *err) {
    (void)fs, (void)err;
    collect_ctx *c = vctx;
    const char *slash = strchr(path, '/'); /* drop the root name */
    if (node->kind == CML_IMFS_FILE && slash && c->n < 64)
        snprintf(c->files[c->n++], sizeof c->files[0], "%s", slash + 1);
    return CML_OK;
}

/* Recursively compares two trees; returns the number of files compared or -1. */
static int compare_trees(const char *a, const char *b, char *why, size_t whylen) {
    DIR *d = opendir(a);
    if (!d) {
        snprintf(why, whylen, "cannot open %s", a);
        return -1;
    }
    int files = 0, nb = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && files >= 0) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char pa[1024], pb[1024];
        snprintf(pa, sizeof pa, "%s/%s", a, e->d_name);
        snprintf(pb, sizeof pb, "%s/%s", b, e->d_name);
        struct stat sa, sb;
        if (stat(pa, &sa) != 0 || stat(pb, &sb) != 0 || S_ISDIR(sa.st_mode) != S_ISDIR(sb.st_mode)) {
            snprintf(why, whylen, "%s missing or of another kind in %s", e->d_name, b);
            files = -1;
        } else if (S_ISDIR(sa.st_mode)) {
            int k = compare_trees(pa, pb, why, whylen);
            files = k < 0 ? -1 : files + k;
        } else {
            size_t na, nbb;
            uint8_t *da = read_all(pa, &na), *db = read_all(pb, &nbb);
            if (!da || !db || na != nbb || memcmp(da, db, na) != 0) {
                snprintf(why, whylen, "%s differs", pa);
                files = -1;
            } else {
                files++;
            }
            free(da);
            free(db);
        }
    }
    closedir(d);
    if (files < 0) return -1;
    /* Same entry count both ways. */
    int na = 0;
    d = opendir(a);
    while ((e = readdir(d)) != NULL) na++;
    closedir(d);
    d = opendir(b);
    while (d && (e = readdir(d)) != NULL) nb++;
    if (d) closedir(d);
    if (na != nb) {
        snprintf(why, whylen, "%s and %s hold different entries", a, b);
        return -1;
    }
    return files;
}

static int rm_cb(const char *p, const struct stat *s, int f, struct FTW *w) {
    (void)s, (void)f, (void)w;
    return remove(p);
}

/* Checks one payload against case.json's coreml_models entry. */
static void check_payload(const char *cs, const cml_pte_program *prog, const cml_pte_plan *plan,
                          const cml_pte_delegate *d, const cJSON *model_json) {
    char where[256];
    snprintf(where, sizeof where, "%s/%s", cs, plan->name.ptr);
    cml_coreml_payload p;
    cml_error err = {0};
    cml_status st = cml_coreml_payload_open(prog, d->data, d->size, plan->name.ptr, NULL, &p, &err);
    CHECK_MSG(st == CML_OK, "%s: %s", where, err.msg);
    if (st != CML_OK) return;
    CHECK_MSG(p.package.spec_version >= 6, "%s: spec %d", where, p.package.spec_version);
    if (!p.metadata.multifunction)
        CHECK_MSG(cml_mlprogram_function(p.package.program, "main") != NULL, "%s: no main", where);
    CHECK(p.function != NULL && cml_mlprogram_block(p.function) != NULL);
    CHECK(p.io->ninputs + p.io->noutputs > 0);
    if (model_json) {
        const cJSON *spec = cJSON_GetObjectItem(model_json, "specification_version");
        CHECK_MSG(cJSON_IsNumber(spec) && spec->valueint == p.package.spec_version, "%s", where);
        const cJSON *root = cJSON_GetObjectItem(model_json, "root_name");
        CHECK_MSG(cJSON_IsString(root) && strcmp(root->valuestring, p.fs.root->name) == 0,
                  "%s: root %s", where, p.fs.root->name);
        const cJSON *md = cJSON_GetObjectItem(model_json, "metadata");
        const cJSON *id = cJSON_GetObjectItem(md, "identifier");
        CHECK(cJSON_IsString(id) && strcmp(id->valuestring, p.metadata.identifier) == 0);
        collect_ctx c;
        memset(&c, 0, sizeof c);
        CHECK(cml_imfs_walk(&p.fs, NULL, collect_files, &c, &err) == CML_OK);
        const cJSON *files = cJSON_GetObjectItem(model_json, "files");
        CHECK_MSG(cJSON_GetArraySize(files) == c.n, "%s: %d files vs %d", where,
                  cJSON_GetArraySize(files), c.n);
        const cJSON *f;
        cJSON_ArrayForEach(f, files) {
            bool found = false;
            for (int i = 0; i < c.n; i++) found |= strcmp(c.files[i], f->valuestring) == 0;
            CHECK_MSG(found, "%s: %s not in the payload", where, f->valuestring);
        }
        /* Interface names and order as the converter recorded them. */
        const cJSON *fns = cJSON_GetObjectItem(model_json, "functions");
        const cJSON *desc = fns ? cJSON_GetObjectItem(fns, p.function_name) : model_json;
        const cJSON *ins = cJSON_GetObjectItem(desc, "inputs");
        CHECK_MSG((size_t)cJSON_GetArraySize(ins) == p.interface.ninputs, "%s", where);
        int k = 0;
        cJSON_ArrayForEach(f, ins) {
            if ((size_t)k < p.interface.ninputs)
                CHECK(strcmp(cJSON_GetObjectItem(f, "name")->valuestring,
                             p.interface.inputs[k]->name) == 0);
            k++;
        }
        const cJSON *states = cJSON_GetObjectItem(desc, "states");
        CHECK_MSG((size_t)cJSON_GetArraySize(states) == p.interface.nstates, "%s: states", where);
    }
    value_stats s = decode_all(&p.package, where);
    const cJSON *wb = model_json ? cJSON_GetObjectItem(model_json, "weight_bin_bytes") : NULL;
    if (cJSON_IsNumber(wb) && wb->valuedouble > 0) CHECK_MSG(s.blobs > 0, "%s: no blob values", where);
    if (cJSON_IsNumber(wb) && wb->valuedouble == 0) CHECK_MSG(s.blobs == 0, "%s", where);
    printf("  %-40s spec %d fn %-8s %u values (%u blob, %llu bytes), %u non-tensor\n", where,
           p.package.spec_version, p.function_name, s.values, s.blobs,
           (unsigned long long)s.blob_bytes, s.skipped);
    cml_coreml_payload_close(&p);
}

/* Reopens every extracted model.mlpackage from disk. */
static int reopen_extracted(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (strcmp(e->d_name, "model.mlpackage") == 0) {
            cml_mlpackage pkg;
            cml_error err = {0};
            cml_status st = cml_mlpackage_open_dir(path, NULL, &pkg, &err);
            CHECK_MSG(st == CML_OK, "%s", err.msg);
            if (st == CML_OK) {
                value_stats s = decode_all(&pkg, path);
                (void)s;
                cml_mlpackage_close(&pkg);
                n++;
            }
        } else {
            struct stat st;
            if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) n += reopen_extracted(path);
        }
    }
    closedir(d);
    return n;
}

static void run_case(const char *cs, const char *tmp, int *ncases) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/case.json", CML_FIXTURE_DIR, cs);
    cJSON *cj = load_json(path);
    if (!cj) return;
    /* upstream-fails cases have no model.pte (the toolchain could not write one) */
    const cJSON *status = cJSON_GetObjectItem(cj, "status");
    if (!cJSON_IsTrue(cJSON_GetObjectItem(cj, "delegated")) ||
        (cJSON_IsString(status) && strcmp(status->valuestring, "upstream-fails") == 0)) {
        cJSON_Delete(cj);
        return;
    }
    snprintf(path, sizeof path, "%s/%s/model.pte", CML_FIXTURE_DIR, cs);
    size_t n;
    uint8_t *data = load_aligned(path, &n);
    CHECK_MSG(data != NULL, "%s", path);
    if (!data) {
        cJSON_Delete(cj);
        return;
    }
    (*ncases)++;
    cml_pte_program prog;
    cml_error err = {0};
    cml_status st = cml_pte_parse(data, n, NULL, &prog, &err);
    CHECK_MSG(st == CML_OK, "%s: %s", path, err.msg);
    if (st == CML_OK) {
        const cJSON *pte = cJSON_GetObjectItem(cj, "pte");
        const cJSON *models = cJSON_GetObjectItem(pte, "coreml_models");
        const cJSON *methods = cJSON_GetObjectItem(pte, "methods");
        int ncoreml = 0;
        for (uint32_t pi = 0; pi < prog.nplans; pi++) {
            const cml_pte_plan *plan = &prog.plans[pi];
            const cJSON *mj = cJSON_GetObjectItem(methods, plan->name.ptr);
            const cJSON *dels = cJSON_GetObjectItem(mj, "delegates");
            for (uint32_t di = 0; di < plan->ndelegates; di++) {
                const cml_pte_delegate *d = &plan->delegates[di];
                if (d->id.len != 13 || memcmp(d->id.ptr, "CoreMLBackend", 13) != 0) continue;
                ncoreml++;
                const cJSON *dj = cJSON_GetArrayItem(dels, (int)di);
                const cJSON *idx = cJSON_GetObjectItem(dj, "coreml_model_index");
                const cJSON *mjson = cJSON_IsNumber(idx) ? cJSON_GetArrayItem(models, idx->valueint)
                                                         : NULL;
                CHECK_MSG(mjson != NULL, "%s: no coreml_models entry for %s delegate %u", cs,
                          plan->name.ptr, di);
                check_payload(cs, &prog, plan, d, mjson);
            }
        }
        CHECK_MSG(ncoreml > 0, "%s: delegated but no CoreMLBackend delegate", cs);

        /* Extraction, then reopen from disk, then compare with upstream's. */
        char out[1024];
        snprintf(out, sizeof out, "%s/%s", tmp, cs);
        char logbuf[4096] = "";
        FILE *log = fmemopen(logbuf, sizeof logbuf, "w");
        st = cml_coreml_extract(&prog, out, log, &err);
        fclose(log);
        CHECK_MSG(st == CML_OK, "%s extract: %s", cs, err.msg);
        CHECK(strstr(logbuf, "Core ML models are extracted and saved to path = ") != NULL);
        int reopened = reopen_extracted(out);
        CHECK_MSG(reopened == cJSON_GetArraySize(models), "%s: reopened %d packages", cs, reopened);
        const char *ref = getenv("CML_COREML_REF_DIR");
        if (ref && *ref) {
            char refdir[1024], why[1200] = "";
            snprintf(refdir, sizeof refdir, "%s/%s", ref, cs);
            int files = compare_trees(out, refdir, why, sizeof why);
            CHECK_MSG(files > 0, "%s: extraction differs from upstream unflatten: %s", cs, why);
            if (files > 0) printf("  %-40s extraction byte-identical to upstream (%d files)\n", cs, files);
        }
        cml_pte_free(&prog);
    }
    cml_free(NULL, data);
    cJSON_Delete(cj);
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
    DIR *d = opendir(CML_FIXTURE_DIR);
    if (!d) {
        printf("no fixtures at %s; skipped\n", CML_FIXTURE_DIR);
        TEST_MAIN_END();
    }
    char *names[256];
    int nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && nn < 256)
        if (e->d_name[0] != '.') names[nn++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)nn, sizeof names[0], cmp_names);
    char tmp[] = "/tmp/cml_coreml_fx_XXXXXX";
    if (!mkdtemp(tmp)) return 2;
    int ncases = 0;
    for (int i = 0; i < nn; i++) {
        run_case(names[i], tmp, &ncases);
        free(names[i]);
    }
    nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    printf("%d delegated fixtures\n", ncases);
    TEST_MAIN_END();
}
