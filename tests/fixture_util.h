/* Helpers shared by the fixture-driven tests: enumerate tests/fixtures/<case>/,
 * load case.json, and compare outputs with the case tolerance. Header-only so
 * each test binary stays a single translation unit plus the npy reader. */
#ifndef CML_TEST_FIXTURE_UTIL_H
#define CML_TEST_FIXTURE_UTIL_H

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cml.h"
#include "core/fp16.h"
#include "pte/pte.h"

typedef struct fixture_case {
    char name[256];
    char dir[1024];
    cJSON *json;   /* case.json, owned */
} fixture_case;

static inline char *fx_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) { buf[n] = 0; if (size) *size = (size_t)n; }
    return buf;
}

static inline int fx_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static int fx_cmp_names(const void *a, const void *b) {
    return strcmp(((const fixture_case *)a)->name, ((const fixture_case *)b)->name);
}

/* Lists every case directory (sorted); returns the count, cases in *out. */
static inline int fx_list_cases(fixture_case **out) {
    DIR *d = opendir(CML_FIXTURE_DIR);
    int n = 0, cap = 0;
    fixture_case *cases = NULL;
    if (!d) { *out = NULL; return 0; }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s/case.json", CML_FIXTURE_DIR, e->d_name);
        char *text = fx_read_file(path, NULL);
        if (!text) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            cases = realloc(cases, (size_t)cap * sizeof *cases);
        }
        fixture_case *c = &cases[n++];
        snprintf(c->name, sizeof c->name, "%s", e->d_name);
        snprintf(c->dir, sizeof c->dir, "%s/%s", CML_FIXTURE_DIR, e->d_name);
        c->json = cJSON_Parse(text);
        free(text);
    }
    closedir(d);
    if (n) qsort(cases, (size_t)n, sizeof *cases, fx_cmp_names);
    *out = cases;
    return n;
}

static inline void fx_free_cases(fixture_case *cases, int n) {
    for (int i = 0; i < n; i++) cJSON_Delete(cases[i].json);
    free(cases);
}

static inline const char *fx_str(const cJSON *j, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static inline int fx_bool(const cJSON *j, const char *key) {
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, key));
}

static inline double fx_tol(const cJSON *j, const char *key, double def) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "tolerance");
    const cJSON *v = t ? cJSON_GetObjectItemCaseSensitive(t, key) : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* A case the runtime is expected to run: not an upstream failure. */
static inline int fx_runnable(const fixture_case *c) {
    const char *status = fx_str(c->json, "status");
    return !(status && strcmp(status, "upstream-fails") == 0);
}

static inline double fx_as_double(cml_dtype t, const void *p, size_t i) {
    switch (t) {
    case CML_DTYPE_FLOAT32: return ((const float *)p)[i];
    case CML_DTYPE_FLOAT64: return ((const double *)p)[i];
    case CML_DTYPE_FLOAT16: return cml_fp16_to_fp32(((const uint16_t *)p)[i]);
    case CML_DTYPE_INT64: return (double)((const int64_t *)p)[i];
    case CML_DTYPE_INT32: return ((const int32_t *)p)[i];
    case CML_DTYPE_INT16: return ((const int16_t *)p)[i];
    case CML_DTYPE_INT8: return ((const int8_t *)p)[i];
    case CML_DTYPE_UINT8:
    case CML_DTYPE_BOOL: return ((const uint8_t *)p)[i];
    default: return NAN;
    }
}

/* Compares n elements: |a - b| <= atol + rtol * |b|. Returns the number of
 * violations and the max abs error. NaN must match NaN. */
static inline size_t fx_compare(cml_dtype ta, const void *a, cml_dtype tb, const void *b, size_t n,
                                double atol, double rtol, double *max_err) {
    size_t bad = 0;
    *max_err = 0;
    for (size_t i = 0; i < n; i++) {
        double x = fx_as_double(ta, a, i), y = fx_as_double(tb, b, i);
        if (isnan(x) || isnan(y)) {
            if (!(isnan(x) && isnan(y))) bad++;
            continue;
        }
        double e = fabs(x - y);
        if (e > *max_err) *max_err = e;
        if (e > atol + rtol * fabs(y)) bad++;
    }
    return bad;
}

/* For a single-method program whose first delegate call takes every method
 * input: perm[k] = the method input feeding delegate input k (an extracted
 * package's inputs follow the delegate's argument order, which need not be
 * the method's). Returns the input count, 0 when the program is not of that
 * form (or unreadable). */
static inline int fx_delegate_input_order(const char *pte_path, int *perm, int max) {
    size_t n = 0;
    char *file = fx_read_file(pte_path, &n);
    if (!file) return 0;
    uint8_t *data = aligned_alloc(64, (n + 63) / 64 * 64);
    if (!data) {
        free(file);
        return 0;
    }
    memcpy(data, file, n);
    free(file);
    cml_pte_program pte;
    cml_error err = {0};
    int count = 0;
    bool parsed = cml_pte_parse(data, n, NULL, &pte, &err) == CML_OK;
    if (parsed && pte.nplans == 1 && (int)pte.plans[0].ninputs <= max) {
        const cml_pte_plan *plan = &pte.plans[0];
        const cml_pte_chain *ch = &plan->chains[0];
        for (uint32_t i = 0; i < ch->ninstructions && !count; i++) {
            const cml_pte_instruction *in = &ch->instructions[i];
            if (in->kind != CML_INSTR_DELEGATE_CALL || in->nargs < plan->ninputs) continue;
            int k = 0;
            for (; k < (int)plan->ninputs; k++) {
                perm[k] = -1;
                for (uint32_t j = 0; j < plan->ninputs; j++)
                    if (plan->inputs[j] == in->args[k]) perm[k] = (int)j;
                if (perm[k] < 0) break;
            }
            count = k == (int)plan->ninputs ? k : -1;
        }
    }
    if (parsed) cml_pte_free(&pte);
    free(data);
    return count > 0 ? count : 0;
}

/* Weight counts summed over the method's Core ML delegates, from the
 * delegate description (`cml inspect`'s "; weights: F bytes in the file, R
 * bytes resident after load (C ops read compressed weights, M
 * materialized"): out = {resident, compressed, materialized}. 0 when a
 * description lacks them. */
static inline int fx_weight_counts(const cml_method *m, unsigned long long out[3]) {
    out[0] = out[1] = out[2] = 0;
    for (size_t d = 0; d < cml_method_delegate_count(m); d++) {
        char line[2048] = "";
        if (cml_method_delegate_describe(m, d, line, sizeof line) != CML_OK) return 0;
        const char *w = strstr(line, "; weights: ");
        unsigned long long f = 0, res = 0, c = 0, mat = 0;
        if (!w || sscanf(w, "; weights: %llu bytes in the file, %llu bytes resident after load "
                            "(%llu ops read compressed weights, %llu materialized",
                         &f, &res, &c, &mat) != 4)
            return 0;
        out[0] += res, out[1] += c, out[2] += mat;
    }
    return 1;
}

#endif
