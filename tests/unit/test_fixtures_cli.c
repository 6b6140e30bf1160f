/* End to end through the CLI: every runnable fixture case goes through
 * `build/cml run` (one process per input set, with --call groups for
 * multi-call cases) and each output_<i>.npy must match expected_<i>.npy
 * within the case tolerance. Cases with expect_error must fail with that
 * text on stderr. Quantized cases are checked by the quantization suite.
 *
 * Usage: test_fixtures_cli [portable|delegated|all] [CASE...] */
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture_util.h"
#include "harness.h"
#include "npy.h"

static char g_tmp[512];

static int run_cmd(const char *cmd, char *out, size_t outsz) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t used = 0;
    int ch;
    while ((ch = fgetc(p)) != EOF)
        if (used + 1 < outsz) out[used++] = (char)ch;
    out[used] = 0;
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Appends " --input <dir>/input_<i><suffix>.npy" for i = 0.. while present. */
static int add_inputs(char *cmd, size_t size, const char *dir, const char *suffix) {
    int n = 0;
    for (;; n++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/input_%d%s.npy", dir, n, suffix);
        if (!fx_exists(path)) break;
        size_t used = strlen(cmd);
        snprintf(cmd + used, size - used, " --input '%s'", path);
    }
    return n;
}

/* Compares out_dir/output_<i>.npy with dir/expected_<i><suffix>.npy. */
static int compare_outputs(const fixture_case *c, const char *out_dir, const char *suffix) {
    double atol = fx_tol(c->json, "atol", 1e-5), rtol = fx_tol(c->json, "rtol", 1e-5);
    int ok = 1, n = 0;
    for (;; n++) {
        char exp_path[1400], got_path[1400], err[512];
        snprintf(exp_path, sizeof exp_path, "%s/expected_%d%s.npy", c->dir, n, suffix);
        if (!fx_exists(exp_path)) break;
        snprintf(got_path, sizeof got_path, "%s/output_%d.npy", out_dir, n);
        cml_npy exp = {0}, got = {0};
        if (cml_npy_read(exp_path, &exp, err, sizeof err) != 0 ||
            cml_npy_read(got_path, &got, err, sizeof err) != 0) {
            printf("  %s%s output %d: %s\n", c->name, suffix, n, err);
            ok = 0;
            continue;
        }
        int same_shape = exp.numel == got.numel;
        double max_err = 0;
        size_t bad = same_shape ? fx_compare(got.dtype, got.data, exp.dtype, exp.data, exp.numel,
                                             atol, rtol, &max_err)
                                : exp.numel;
        printf("  %s%s output %d: %zu elements, max abs err %.3g (atol %.g rtol %.g)%s\n", c->name,
               suffix, n, exp.numel, max_err, atol, rtol,
               !same_shape ? " SHAPE MISMATCH" : bad ? " MISMATCH" : "");
        if (!same_shape || bad) ok = 0;
        cml_npy_free(&exp);
        cml_npy_free(&got);
    }
    if (n == 0) {
        printf("  %s%s: no expected outputs\n", c->name, suffix);
        ok = 0;
    }
    return ok;
}

/* One `cml run` over a set of inputs; returns 1 on a match. */
static int run_set(const fixture_case *c, const char *method, const char *suffix) {
    static char cmd[16384], out[65536];
    char out_dir[1024];
    snprintf(out_dir, sizeof out_dir, "%s/%s%s", g_tmp, c->name, suffix);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && '%s' run '%s/model.pte' --output-dir '%s'", out_dir,
             CML_CLI_PATH, c->dir, out_dir);
    if (method) {
        size_t used = strlen(cmd);
        snprintf(cmd + used, sizeof cmd - used, " --method '%s'", method);
    }
    add_inputs(cmd, sizeof cmd, c->dir, suffix);
    size_t used = strlen(cmd);
    snprintf(cmd + used, sizeof cmd - used, " 2>&1");
    int rc = run_cmd(cmd, out, sizeof out);
    const char *expect_error = fx_str(c->json, "expect_error");
    if (expect_error) {
        int ok = rc != 0 && strstr(out, expect_error) != NULL;
        printf("  %s%s: expected error '%s': %s\n", c->name, suffix, expect_error,
               ok ? "reported" : "NOT reported");
        if (!ok) printf("%s\n", out);
        return ok;
    }
    if (rc != 0) {
        printf("  %s%s: cml run failed (%d):\n%s\n", c->name, suffix, rc, out);
        return 0;
    }
    return compare_outputs(c, out_dir, suffix);
}

/* Multi-call: all call groups in one process, so state carries over. */
static int run_calls(const fixture_case *c, const char *method) {
    static char cmd[16384], out[65536];
    char out_dir[1024];
    snprintf(out_dir, sizeof out_dir, "%s/%s.calls", g_tmp, c->name);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && '%s' run '%s/model.pte' --output-dir '%s'", out_dir,
             CML_CLI_PATH, c->dir, out_dir);
    if (method) {
        size_t used = strlen(cmd);
        snprintf(cmd + used, sizeof cmd - used, " --method '%s'", method);
    }
    int k;
    for (k = 1;; k++) {
        char suffix[32], probe[1400];
        snprintf(suffix, sizeof suffix, ".call%d", k);
        snprintf(probe, sizeof probe, "%s/expected_0%s.npy", c->dir, suffix);
        if (!fx_exists(probe)) break;
        if (k > 1) strcat(cmd, " --call");
        add_inputs(cmd, sizeof cmd, c->dir, suffix);
    }
    strcat(cmd, " 2>&1");
    int rc = run_cmd(cmd, out, sizeof out);
    if (rc != 0) {
        printf("  %s: cml run (calls) failed (%d):\n%s\n", c->name, rc, out);
        return 0;
    }
    int ok = 1;
    for (int i = 1; i < k; i++) {
        char suffix[32], dir[1100];
        snprintf(suffix, sizeof suffix, ".call%d", i);
        snprintf(dir, sizeof dir, "%s/call%d", out_dir, i);
        ok &= compare_outputs(c, k > 2 ? dir : out_dir, suffix);
    }
    return ok;
}

static int run_case(const fixture_case *c) {
    const char *method = fx_str(c->json, "method");
    if (method && strcmp(method, "forward") == 0) method = NULL;
    char probe[1400];
    int ok = 1, ran = 0;
    snprintf(probe, sizeof probe, "%s/expected_0.call1.npy", c->dir);
    if (fx_exists(probe)) {
        ok &= run_calls(c, method);
        ran = 1;
    }
    snprintf(probe, sizeof probe, "%s/expected_0.npy", c->dir);
    char in0[1400];
    snprintf(in0, sizeof in0, "%s/input_0.npy", c->dir);
    if (fx_exists(probe) || (fx_str(c->json, "expect_error") && fx_exists(in0))) {
        ok &= run_set(c, method, "");
        ran = 1;
    }
    for (int k = 1;; k++) {
        char suffix[32];
        snprintf(suffix, sizeof suffix, ".alt%d", k);
        snprintf(probe, sizeof probe, "%s/input_0%s.npy", c->dir, suffix);
        if (!fx_exists(probe)) break;
        ok &= run_set(c, method, suffix);
        ran = 1;
    }
    const cJSON *methods = cJSON_GetObjectItemCaseSensitive(c->json, "methods");
    const cJSON *m;
    cJSON_ArrayForEach(m, methods) {
        if (!cJSON_IsString(m)) continue;
        char suffix[300];
        snprintf(suffix, sizeof suffix, ".%s", m->valuestring);
        snprintf(probe, sizeof probe, "%s/expected_0%s.npy", c->dir, suffix);
        if (!fx_exists(probe)) continue;
        ok &= run_set(c, m->valuestring, suffix);
        ran = 1;
    }
    if (!ran) printf("  %s: nothing to run\n", c->name);
    return ok && ran;
}

int main(int argc, char **argv) {
    const char *scope = argc > 1 ? argv[1] : "portable";
    snprintf(g_tmp, sizeof g_tmp, "/tmp/cml-fixtures-%d", (int)getpid());
    fixture_case *cases;
    int n = fx_list_cases(&cases), considered = 0;
    for (int i = 0; i < n; i++) {
        const fixture_case *c = &cases[i];
        if (!c->json || !fx_runnable(c)) continue;
        if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c->json, "quantization"))) continue;
        int delegated = fx_bool(c->json, "delegated");
        if (strcmp(scope, "portable") == 0 && delegated) continue;
        if (strcmp(scope, "delegated") == 0 && !delegated) continue;
        if (argc > 2) {
            int wanted = 0;
            for (int a = 2; a < argc; a++) wanted |= strcmp(argv[a], c->name) == 0;
            if (!wanted) continue;
        }
        considered++;
        int ok = run_case(c);
        printf("%s %s\n", ok ? "PASS" : "FAIL", c->name);
        CHECK_MSG(ok, "fixture %s", c->name);
    }
    CHECK_MSG(considered > 0, "no %s fixture cases found", scope);
    fx_free_cases(cases, n);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    TEST_MAIN_END();
}
