/* Every delegated (Core ML) fixture through the public API: open the .pte,
 * set input_<i><suffix>.npy, execute, compare every output with
 * expected_<i><suffix>.npy (|a - b| <= atol + rtol * |b|), for the plain
 * set, the .alt<k> shape variants, the .call<k> multi-call groups (one
 * method, so state carries over), per-method sets (case.json "methods") and
 * expect_error cases. Then the .mlpackage inside each single-model case is
 * extracted and run standalone on the same sets.
 *
 * Usage: test_fixtures_delegated [CASE...] */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coreml/extract.h"
#include "exec/internal.h"
#include "fixture_util.h"
#include "harness.h"
#include "npy.h"

static char g_tmp[512];

typedef struct target {
    const char *label;     /* "pte" or "standalone" */
    char path[2048];
    int perm[CML_MAX_DIMS]; /* standalone: model input k takes file input_<perm[k]> */
    int nperm;              /* 0: identity */
} target;

static cml_method *open_method(const target *t, const fixture_case *c, const char *method,
                               cml_program **prog, char *msg, size_t msgsz) {
    *prog = NULL;
    if (cml_program_open_file(t->path, NULL, prog, msg, msgsz) != CML_OK) return NULL;
    cml_method *m = NULL;
    if (cml_method_create(*prog, method, NULL, &m) != CML_OK) {
        snprintf(msg, msgsz, "%s", cml_program_errmsg(*prog));
        return NULL;
    }
    (void)c;
    return m;
}

/* Sets input_<i><suffix>.npy (through the target's input permutation);
 * returns the count, or -1 (message in msg). */
static int set_inputs(const target *t, cml_method *m, const char *dir, const char *suffix,
                      char *msg, size_t msgsz) {
    int n = 0;
    for (;; n++) {
        char path[1400], err[512];
        if (t->nperm && n >= t->nperm) break;
        snprintf(path, sizeof path, "%s/input_%d%s.npy", dir, t->nperm ? t->perm[n] : n, suffix);
        if (!fx_exists(path)) break;
        cml_npy npy = {0};
        if (cml_npy_read(path, &npy, err, sizeof err) != 0) {
            snprintf(msg, msgsz, "%s", err);
            return -1;
        }
        cml_tensor_view v = {npy.dtype, npy.rank, npy.sizes, npy.data, npy.nbytes};
        cml_status st = cml_method_set_input(m, (size_t)n, &v);
        cml_npy_free(&npy);
        if (st != CML_OK) {
            snprintf(msg, msgsz, "input %d: %s", n, cml_method_errmsg(m));
            return -1;
        }
    }
    return n;
}

static int compare(const fixture_case *c, const target *t, cml_method *m, const char *suffix) {
    double atol = fx_tol(c->json, "atol", 1e-5), rtol = fx_tol(c->json, "rtol", 1e-5);
    int ok = 1, n = 0;
    for (;; n++) {
        char path[1400], err[512];
        snprintf(path, sizeof path, "%s/expected_%d%s.npy", c->dir, n, suffix);
        if (!fx_exists(path)) break;
        cml_npy exp = {0};
        cml_tensor_view got;
        if (cml_npy_read(path, &exp, err, sizeof err) != 0) {
            printf("  %s%s [%s] output %d: %s\n", c->name, suffix, t->label, n, err);
            ok = 0;
            continue;
        }
        if (cml_method_output(m, (size_t)n, &got) != CML_OK) {
            printf("  %s%s [%s] output %d: not available\n", c->name, suffix, t->label, n);
            cml_npy_free(&exp);
            ok = 0;
            continue;
        }
        size_t numel = 1;
        for (int32_t d = 0; d < got.rank; d++) numel *= (size_t)got.sizes[d];
        int same = numel == exp.numel;
        for (int32_t d = 0; same && got.rank == exp.rank && d < got.rank; d++)
            same = got.sizes[d] == exp.sizes[d];
        double max_err = 0;
        size_t bad = same ? fx_compare(got.dtype, got.data, exp.dtype, exp.data, exp.numel, atol,
                                       rtol, &max_err)
                          : exp.numel;
        printf("  %s%s [%s] output %d: %zu elements, max abs err %.3g (atol %g rtol %g)%s\n",
               c->name, suffix, t->label, n, exp.numel, max_err, atol, rtol,
               !same ? " SHAPE MISMATCH" : bad ? " MISMATCH" : "");
        if (!same || bad) ok = 0;
        cml_npy_free(&exp);
    }
    if (n == 0) {
        printf("  %s%s: no expected outputs\n", c->name, suffix);
        ok = 0;
    }
    return ok;
}

/* One input set in a fresh method. */
static int run_set(const fixture_case *c, const target *t, const char *method, const char *suffix) {
    char msg[1024] = "";
    cml_program *p = NULL;
    cml_method *m = open_method(t, c, method, &p, msg, sizeof msg);
    const char *expect = fx_str(c->json, "expect_error");
    int ok = 0;
    if (m && set_inputs(t, m, c->dir, suffix, msg, sizeof msg) >= 0) {
        if (cml_method_execute(m) != CML_OK) snprintf(msg, sizeof msg, "%s", cml_method_errmsg(m));
        else if (!expect) ok = compare(c, t, m, suffix);
        else snprintf(msg, sizeof msg, "(no error)");
    }
    if (expect) {
        ok = strstr(msg, expect) != NULL;
        printf("  %s%s [%s]: expected error '%s': %s: %s\n", c->name, suffix, t->label, expect,
               ok ? "reported" : "NOT reported", msg);
    } else if (msg[0]) {
        printf("  %s%s [%s]: %s\n", c->name, suffix, t->label, msg);
    }
    cml_method_destroy(m);
    cml_program_close(p);
    return ok;
}

/* .call<k> groups through one method. */
static int run_calls(const fixture_case *c, const target *t, const char *method) {
    char msg[1024] = "";
    cml_program *p = NULL;
    cml_method *m = open_method(t, c, method, &p, msg, sizeof msg);
    int ok = m != NULL;
    for (int k = 1; ok; k++) {
        char suffix[32], probe[1400];
        snprintf(suffix, sizeof suffix, ".call%d", k);
        snprintf(probe, sizeof probe, "%s/expected_0%s.npy", c->dir, suffix);
        if (!fx_exists(probe)) break;
        if (set_inputs(t, m, c->dir, suffix, msg, sizeof msg) < 0) ok = 0;
        else if (cml_method_execute(m) != CML_OK) {
            snprintf(msg, sizeof msg, "%s", cml_method_errmsg(m));
            ok = 0;
        } else {
            ok &= compare(c, t, m, suffix);
        }
    }
    if (msg[0]) printf("  %s.calls [%s]: %s\n", c->name, t->label, msg);
    cml_method_destroy(m);
    cml_program_close(p);
    return ok;
}

static int run_target(const fixture_case *c, const target *t) {
    /* a standalone package runs its default function unless a set names one */
    const char *method = strcmp(t->label, "standalone") ? fx_str(c->json, "method") : NULL;
    char probe[1400], in0[1400];
    int ok = 1, ran = 0;
    snprintf(probe, sizeof probe, "%s/expected_0.call1.npy", c->dir);
    if (fx_exists(probe)) {
        ok &= run_calls(c, t, method);
        ran = 1;
    }
    snprintf(probe, sizeof probe, "%s/expected_0.npy", c->dir);
    snprintf(in0, sizeof in0, "%s/input_0.npy", c->dir);
    if (fx_exists(probe) || (fx_str(c->json, "expect_error") && fx_exists(in0))) {
        ok &= run_set(c, t, method, "");
        ran = 1;
    }
    for (int k = 1;; k++) {
        char suffix[32];
        snprintf(suffix, sizeof suffix, ".alt%d", k);
        snprintf(probe, sizeof probe, "%s/input_0%s.npy", c->dir, suffix);
        if (!fx_exists(probe)) break;
        ok &= run_set(c, t, method, suffix);
        ran = 1;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(c->json, "methods")) {
        if (!cJSON_IsString(m)) continue;
        char suffix[300];
        snprintf(suffix, sizeof suffix, ".%s", m->valuestring);
        snprintf(probe, sizeof probe, "%s/expected_0%s.npy", c->dir, suffix);
        if (!fx_exists(probe)) continue;
        ok &= run_set(c, t, m->valuestring, suffix);
        ran = 1;
    }
    if (!ran) printf("  %s: nothing to run\n", c->name);
    return ok && ran;
}

/* The package of a case whose single Core ML model takes exactly the
 * methods' inputs (so the fixture inputs feed it directly). */
static int standalone_target(const fixture_case *c, target *t) {
    const cJSON *pte = cJSON_GetObjectItemCaseSensitive(c->json, "pte");
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(pte, "coreml_models");
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(pte, "named_data_keys");
    if (cJSON_GetArraySize(models) != 1 || cJSON_GetArraySize(keys) > 1) return 0;
    const cJSON *model = cJSON_GetArrayItem(models, 0), *meth;
    cJSON_ArrayForEach(meth, cJSON_GetObjectItemCaseSensitive(pte, "methods")) {
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(meth, "kernel_calls")) != 0 ||
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(meth, "delegates")) != 1)
            return 0;
        int nin = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(meth, "inputs"));
        const cJSON *io = cJSON_GetObjectItemCaseSensitive(model, "inputs");
        if (!io) { /* multifunction: the function named like the method */
            const cJSON *fns = cJSON_GetObjectItemCaseSensitive(model, "functions");
            io = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(fns, meth->string),
                                                  "inputs");
        }
        if (cJSON_GetArraySize(io) != nin) return 0;
    }
    const char *root = fx_str(model, "root_name");
    if (!root) return 0;
    char src[1400], dir[1024], errbuf[512];
    snprintf(src, sizeof src, "%s/model.pte", c->dir);
    snprintf(dir, sizeof dir, "%s/%s", g_tmp, c->name);
    cml_program *p = NULL;
    if (cml_program_open_file(src, NULL, &p, errbuf, sizeof errbuf) != CML_OK) return 0;
    cml_error err = {0};
    cml_status st = cml_coreml_extract(&p->pte, dir, NULL, &err);
    cml_program_close(p);
    if (st != CML_OK) {
        printf("  %s: extract failed: %s\n", c->name, err.msg);
        return 0;
    }
    t->label = "standalone";
    t->nperm = fx_delegate_input_order(src, t->perm, CML_MAX_DIMS);
    const cJSON *key = cJSON_GetArrayItem(keys, 0);
    snprintf(t->path, sizeof t->path, "%s/%s/%s/model.mlpackage", dir,
             cJSON_IsString(key) ? key->valuestring : "model_1", root);
    return 1;
}

int main(int argc, char **argv) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/cml-delegated-%d", (int)getpid());
    fixture_case *cases;
    int n = fx_list_cases(&cases), considered = 0, passed = 0;
    for (int i = 0; i < n; i++) {
        const fixture_case *c = &cases[i];
        if (!c->json || !fx_runnable(c) || !fx_bool(c->json, "delegated")) continue;
        if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c->json, "quantization"))) continue;
        if (argc > 1) {
            int wanted = 0;
            for (int a = 1; a < argc; a++) wanted |= strcmp(argv[a], c->name) == 0;
            if (!wanted) continue;
        }
        considered++;
        target t = {.label = "pte"};
        snprintf(t.path, sizeof t.path, "%s/model.pte", c->dir);
        int ok = run_target(c, &t);
        target s;
        if (ok && standalone_target(c, &s)) ok &= run_target(c, &s);
        printf("%s %s\n", ok ? "PASS" : "FAIL", c->name);
        passed += ok;
        CHECK_MSG(ok, "fixture %s", c->name);
    }
    printf("%d of %d delegated fixture cases pass\n", passed, considered);
    CHECK_MSG(considered > 0, "no delegated fixture cases found");
    fx_free_cases(cases, n);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    TEST_MAIN_END();
}
