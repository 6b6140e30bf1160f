/* End to end through the CLI: every runnable fixture case goes through
 * `build/cml run` (one process per input set, with --call groups for
 * multi-call cases) and each output_<i>.npy must match expected_<i>.npy
 * within the case tolerance. Cases with expect_error must fail with that
 * text on stderr.
 *
 * The "quantized" scope covers the cases with a non-null "quantization"
 * (issue 5); the others leave them out. A case whose case.json records an
 * "upstream_issue" (a converter bug that makes the file compute something
 * else than PyTorch did) must still run, and its mismatch is reported as
 * XFAIL (XPASS if it ever matches).
 *
 * The "standalone" scope extracts the single Core ML package of every fully
 * delegated case (`cml extract`) and runs the .mlpackage directory itself
 * with the same inputs: the package must reproduce the program's outputs.
 *
 * Usage: test_fixtures_cli [portable|delegated|standalone|quantized|all] [CASE...] */
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture_util.h"
#include "harness.h"
#include "npy.h"

static char g_tmp[512];
static int g_run_failed; /* a `cml run` of the current case failed to complete */
static char g_model[1400]; /* the model path passed to `cml run` */
/* Standalone packages have named inputs: they are then passed as NAME=FILE
 * in reverse order, so binding by name is exercised too. */
static char g_input_names[16][128];
static int g_ninput_names;
static int g_perm[16]; /* package input k takes file input_<g_perm[k]> */

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
    }
    int by_name = g_ninput_names == n;
    for (int k = 0; k < n; k++) {
        int i = by_name ? n - 1 - k : k;
        char path[1400];
        snprintf(path, sizeof path, "%s/input_%d%s.npy", dir, by_name ? g_perm[i] : i, suffix);
        size_t used = strlen(cmd);
        if (by_name)
            snprintf(cmd + used, size - used, " --input '%s=%s'", g_input_names[i], path);
        else
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
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && '%s' run '%s' --output-dir '%s'", out_dir,
             CML_CLI_PATH, g_model, out_dir);
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
        g_run_failed = 1;
        return 0;
    }
    return compare_outputs(c, out_dir, suffix);
}

/* Multi-call: all call groups in one process, so state carries over. */
static int run_calls(const fixture_case *c, const char *method) {
    static char cmd[16384], out[65536];
    char out_dir[1024];
    snprintf(out_dir, sizeof out_dir, "%s/%s.calls", g_tmp, c->name);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && '%s' run '%s' --output-dir '%s'", out_dir,
             CML_CLI_PATH, g_model, out_dir);
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
        g_run_failed = 1;
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

/* For the standalone scope: extracts the case's Core ML payloads and points
 * g_model at the package when there is exactly one and the program is that
 * delegate alone (no portable ops around it, weights inside, no
 * multifunction). Returns 0 when the case does not qualify. */
static int use_extracted_package(const fixture_case *c) {
    if (!fx_bool(c->json, "delegated") || fx_str(c->json, "expect_error")) return 0;
    static char cmd[4096], out[8192];
    snprintf(cmd, sizeof cmd, "'%s' inspect --json '%s/model.pte' 2>/dev/null", CML_CLI_PATH, c->dir);
    if (run_cmd(cmd, out, sizeof out) != 0) return 0;
    /* Fully delegated: one method, one delegate call, no kernel calls. */
    cJSON *doc = cJSON_Parse(out);
    const cJSON *plans = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "pte"), "plans");
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(plans, 0), "instructions");
    const cJSON *kc = cJSON_GetObjectItemCaseSensitive(ins, "kernel_calls");
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(ins, "delegate_calls");
    int whole = cJSON_GetArraySize(plans) == 1 && cJSON_IsNumber(kc) && kc->valueint == 0 &&
                cJSON_IsNumber(dc) && dc->valueint == 1;
    cJSON_Delete(doc);
    if (!whole) return 0;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/%s.extract", g_tmp, c->name);
    snprintf(cmd, sizeof cmd,
             "'%s' extract '%s/model.pte' -o '%s' >/dev/null && find '%s' -name model.mlpackage -type d",
             CML_CLI_PATH, c->dir, dir, dir);
    if (run_cmd(cmd, out, sizeof out) != 0) return 0;
    char *nl = strchr(out, '\n');
    if (!nl || strchr(nl + 1, '\n')) return 0; /* not exactly one package */
    *nl = 0;
    snprintf(g_model, sizeof g_model, "%.1300s", out);
    /* The package must take exactly the program's inputs (with
     * take_over_constant_data=False it also takes the weights). */
    snprintf(cmd, sizeof cmd, "'%s' inspect --json '%s' 2>/dev/null", CML_CLI_PATH, g_model);
    if (run_cmd(cmd, out, sizeof out) != 0) return 0;
    doc = cJSON_Parse(out);
    const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "methods"), 0);
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(m0, "inputs"), *in;
    int package_inputs = cJSON_GetArraySize(inputs);
    g_ninput_names = 0;
    cJSON_ArrayForEach(in, inputs) {
        const char *name = fx_str(in, "name");
        if (g_ninput_names < 16 && name)
            snprintf(g_input_names[g_ninput_names++], sizeof g_input_names[0], "%s", name);
    }
    cJSON_Delete(doc);
    char pte_path[1400];
    snprintf(pte_path, sizeof pte_path, "%s/model.pte", c->dir);
    if (fx_delegate_input_order(pte_path, g_perm, 16) != g_ninput_names)
        for (int k = 0; k < 16; k++) g_perm[k] = k;
    int program_inputs = 0;
    for (;; program_inputs++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/input_%d.npy", c->dir, program_inputs);
        if (!fx_exists(path)) {
            snprintf(path, sizeof path, "%s/input_%d.call1.npy", c->dir, program_inputs);
            if (!fx_exists(path)) break;
        }
    }
    return package_inputs == program_inputs;
}

int main(int argc, char **argv) {
    const char *scope = argc > 1 ? argv[1] : "portable";
    snprintf(g_tmp, sizeof g_tmp, "/tmp/cml-fixtures-%d", (int)getpid());
    fixture_case *cases;
    int n = fx_list_cases(&cases), considered = 0;
    for (int i = 0; i < n; i++) {
        const fixture_case *c = &cases[i];
        if (!c->json || !fx_runnable(c)) continue;
        int quantized = !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c->json, "quantization"));
        if (quantized != (strcmp(scope, "quantized") == 0) && strcmp(scope, "all") != 0) continue;
        int delegated = fx_bool(c->json, "delegated");
        if (strcmp(scope, "portable") == 0 && delegated) continue;
        if (strcmp(scope, "delegated") == 0 && !delegated) continue;
        snprintf(g_model, sizeof g_model, "%s/model.pte", c->dir);
        g_ninput_names = 0;
        if (strcmp(scope, "standalone") == 0 && !use_extracted_package(c)) continue;
        if (argc > 2) {
            int wanted = 0;
            for (int a = 2; a < argc; a++) wanted |= strcmp(argv[a], c->name) == 0;
            if (!wanted) continue;
        }
        considered++;
        g_run_failed = 0;
        int ok = run_case(c);
        const char *upstream_issue = fx_str(c->json, "upstream_issue");
        if (upstream_issue) {
            printf("%s %s (known upstream conversion bug: %s)\n", ok ? "XPASS" : "XFAIL", c->name,
                   upstream_issue);
            CHECK_MSG(!g_run_failed, "fixture %s must still run", c->name);
            continue;
        }
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
