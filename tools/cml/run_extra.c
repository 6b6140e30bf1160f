/* `cml run --compare / --rtol / --atol / --output-names / --json`. */
#include "run_extra.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compare.h"
#include "inspect.h"
#include "npy.h"

void cli_run_extra_init(cli_run_extra *x) {
    memset(x, 0, sizeof *x);
    x->rtol = CLI_COMPARE_RTOL;
    x->atol = CLI_COMPARE_ATOL;
}

void cli_run_extra_free(cli_run_extra *x) {
    if (x->expected)
        for (size_t i = 0; i < x->ngroups * x->noutputs; i++) free(x->expected[i]);
    free(x->expected);
    cJSON_Delete(x->doc);
    x->expected = NULL;
    x->doc = NULL;
}

static int parse_tol(const char *opt, const char *v, double *out) {
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !(d >= 0) || isinf(d))
        return cli_usage_error("run", "%s expects a number >= 0, got '%s'", opt, v);
    *out = d;
    return CLI_OK;
}

int cli_run_extra_option(int argc, char **argv, int *i, cli_run_extra *x) {
    const char *a = argv[*i], *v = NULL;
    int r;
    if (strcmp(a, "--output-names") == 0 || strcmp(a, "--json") == 0) {
        if (a[2] == 'j') x->json = true;
        else x->by_name = true;
        (*i)++;
        return 1;
    }
    if ((r = cli_opt_value("run", argc, argv, i, "--compare", NULL, &v)) != 0) {
        if (r > 0 && !v[0]) r = (cli_usage_error("run", "--compare needs a directory or files"), -1);
        if (r > 0) x->compare = v;
        return r;
    }
    if ((r = cli_opt_value("run", argc, argv, i, "--rtol", NULL, &v)) != 0)
        return r < 0 || parse_tol("--rtol", v, &x->rtol) != CLI_OK ? -1 : 1;
    if ((r = cli_opt_value("run", argc, argv, i, "--atol", NULL, &v)) != 0)
        return r < 0 || parse_tol("--atol", v, &x->atol) != CLI_OK ? -1 : 1;
    return 0;
}

/* ---- finding the expected files ---- */

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir/expected_<i><suffix>.npy for the first suffix that exists: .call<k>
 * (several groups), .<method>, then none. NULL when none does. */
static char *find_expected(const char *dir, size_t i, size_t k, size_t ngroups,
                           const char *method) {
    char path[4096], suffix[3][300] = {"", "", ""};
    if (ngroups > 1) snprintf(suffix[0], sizeof suffix[0], ".call%zu", k + 1);
    if (method) snprintf(suffix[1], sizeof suffix[1], ".%s", method);
    for (int s = 0; s < 3; s++) {
        if (s < 2 && !suffix[s][0]) continue;
        snprintf(path, sizeof path, "%s/expected_%zu%s.npy", dir, i, suffix[s]);
        if (is_file(path)) return strdup(path);
    }
    return NULL;
}

static int expected_from_dir(cli_run_extra *x, const char *method) {
    const char *dir = x->compare;
    for (size_t k = 0; k < x->ngroups; k++)
        for (size_t i = 0; i < x->noutputs; i++) {
            char *p = find_expected(dir, i, k, x->ngroups, method);
            if (!p)
                return cli_error("run", "--compare %s: no expected_%zu.npy for output %zu", dir, i,
                                 i);
            x->expected[k * x->noutputs + i] = p;
        }
    char *extra = find_expected(dir, x->noutputs, x->ngroups - 1, x->ngroups, method);
    if (extra) {
        int rc = cli_usage_error("run", "--compare %s: %s exists, but the method has %zu output%s",
                                 dir, extra, x->noutputs, x->noutputs == 1 ? "" : "s");
        free(extra);
        return rc;
    }
    return CLI_OK;
}

static int expected_from_list(cli_run_extra *x) {
    size_t n = 1;
    for (const char *p = x->compare; *p; p++) n += *p == ',';
    if (n != x->noutputs && n != x->noutputs * x->ngroups)
        return cli_usage_error("run", "--compare lists %zu file%s, the method has %zu output%s%s",
                               n, n == 1 ? "" : "s", x->noutputs, x->noutputs == 1 ? "" : "s",
                               x->ngroups > 1 ? " (per call group)" : "");
    const char *p = x->compare;
    for (size_t j = 0; j < x->ngroups * x->noutputs; j++) {
        if (!*p) p = x->compare; /* the same files for every group */
        size_t len = strcspn(p, ",");
        char *path = strndup(p, len);
        if (!path) return cli_error("run", "out of memory");
        x->expected[j] = path;
        p += len + (p[len] == ',');
        if (!is_file(path)) return cli_error("run", "--compare: cannot open %s", path);
    }
    return CLI_OK;
}

/* ---- the JSON summary ---- */

/* The method's name: --method, else forward, else the only one. */
static const char *method_name(const cml_program *p, const char *given) {
    if (given) return given;
    size_t n = cml_program_method_count(p);
    for (size_t i = 0; i < n; i++)
        if (strcmp(cml_program_method_name(p, i), "forward") == 0) return "forward";
    return n ? cml_program_method_name(p, 0) : "";
}

static void start_json(cli_run_extra *x, const char *model, const char *method,
                       const cli_model *m) {
    x->doc = cJSON_CreateObject();
    cJSON_AddStringToObject(x->doc, "model", model);
    cJSON_AddStringToObject(x->doc, "method", method);
    cJSON_AddNumberToObject(x->doc, "open_ms", m->open_ms);
    cJSON_AddNumberToObject(x->doc, "method_create_ms", m->create_ms);
    cJSON *in = cJSON_AddArrayToObject(x->doc, "inputs");
    cml_io_info info;
    for (size_t i = 0; i < cml_method_input_count(m->method); i++)
        if (cml_method_input_info(m->method, i, &info) == CML_OK)
            cJSON_AddItemToArray(in, cli_io_json(i, &info));
    cJSON *out = cJSON_AddArrayToObject(x->doc, "outputs");
    for (size_t i = 0; i < cml_method_output_count(m->method); i++)
        if (cml_method_output_info(m->method, i, &info) == CML_OK)
            cJSON_AddItemToArray(out, cli_io_json(i, &info));
    x->calls = cJSON_AddArrayToObject(x->doc, "calls");
}

int cli_run_extra_prepare(cli_run_extra *x, const char *model, const char *method_name_given,
                          const cli_model *m, size_t ngroups) {
    const char *method = method_name(m->program, method_name_given);
    x->noutputs = cml_method_output_count(m->method);
    x->ngroups = ngroups;
    if (x->json) start_json(x, model, method, m);
    if (!x->compare) return CLI_OK;
    x->expected = calloc(ngroups * x->noutputs + 1, sizeof *x->expected);
    if (!x->expected) return cli_error("run", "out of memory");
    struct stat st;
    if (stat(x->compare, &st) == 0 && S_ISDIR(st.st_mode)) return expected_from_dir(x, method);
    return expected_from_list(x);
}

/* ---- comparing ---- */

static bool same_shape(const cml_tensor_view *v, const cml_npy *e) {
    if (v->rank != e->rank) return false;
    for (int32_t d = 0; d < v->rank; d++)
        if (v->sizes[d] != e->sizes[d]) return false;
    return true;
}

static void print_verdict(const char *what, const cli_run_extra *x, const cli_cmp_result *r) {
    printf("compare %s: max abs error %.6g, max rel error %.6g; %zu of %zu element%s outside "
           "atol %g + rtol %g * |expected|",
           what, r->max_abs, r->max_rel, r->mismatches, r->numel, r->numel == 1 ? "" : "s",
           x->atol, x->rtol);
    if (r->nan_mismatches) printf(" (%zu NaN on one side only)", r->nan_mismatches);
    printf(": %s\n", r->mismatches ? "FAIL" : "PASS");
}

static cJSON *result_json(const char *path, const cli_cmp_result *r, const char *error) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "expected", path);
    if (error) {
        cJSON_AddStringToObject(c, "error", error);
    } else {
        cJSON_AddNumberToObject(c, "max_abs_error", r->max_abs);
        cJSON_AddNumberToObject(c, "max_rel_error", r->max_rel);
        cJSON_AddNumberToObject(c, "elements", (double)r->numel);
        cJSON_AddNumberToObject(c, "mismatches", (double)r->mismatches);
        cJSON_AddNumberToObject(c, "nan_mismatches", (double)r->nan_mismatches);
    }
    cJSON_AddBoolToObject(c, "pass", !error && r->mismatches == 0);
    return c;
}

/* Compares output i with path; prints (unless --json) and returns the
 * result object. A shape or dtype that cannot be compared fails. */
static cJSON *compare_output(cli_run_extra *x, const cml_tensor_view *v, const char *what,
                             const char *path, bool *pass) {
    cml_npy e;
    char err[600] = "";
    cli_cmp_result r = {0};
    if (cml_npy_read(path, &e, err, sizeof err) != 0) {
        /* err says why */
    } else if (!same_shape(v, &e)) {
        char a[256], b[256];
        snprintf(err, sizeof err, "shape %s, expected %s", cli_shape_str(v->rank, v->sizes, a, sizeof a),
                 cli_shape_str(e.rank, e.sizes, b, sizeof b));
    } else if (!cli_compare_dtype_ok(v->dtype)) {
        snprintf(err, sizeof err, "%s outputs cannot be compared", cml_dtype_name(v->dtype));
    } else {
        cli_compare_arrays(v->dtype, v->data, e.dtype, e.data, e.numel, x->rtol, x->atol, &r);
    }
    cml_npy_free(&e);
    *pass = !err[0] && r.mismatches == 0;
    if (!x->json) {
        if (err[0]) printf("compare %s: %s: FAIL\n", what, err);
        else print_verdict(what, x, &r);
    }
    return result_json(path, &r, err[0] ? err : NULL);
}

/* "output 0 'y' (call 2) with DIR/expected_0.npy" into buf. */
static const char *describe(const cml_method *method, size_t i, size_t k, size_t ngroups,
                            const char *path, char *buf, size_t size) {
    cml_io_info info;
    const char *name = cml_method_output_info(method, i, &info) == CML_OK && info.name ? info.name : "";
    char call[32] = "";
    if (ngroups > 1) snprintf(call, sizeof call, " (call %zu)", k + 1);
    snprintf(buf, size, "output %zu%s%s%s%s with %s", i, name[0] ? " '" : "", name,
             name[0] ? "'" : "", call, path);
    return buf;
}

static cJSON *output_json(const cml_method *method, size_t i, const char *file) {
    cml_tensor_view v;
    cml_io_info info;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", (double)i);
    if (cml_method_output_info(method, i, &info) == CML_OK)
        cJSON_AddStringToObject(o, "name", info.name ? info.name : "");
    if (cml_method_output(method, i, &v) == CML_OK) {
        cJSON_AddStringToObject(o, "dtype", cml_dtype_name(v.dtype));
        cJSON_AddItemToObject(o, "shape", cli_shape_json(v.rank, v.sizes));
    }
    if (file) cJSON_AddStringToObject(o, "file", file);
    return o;
}

static cJSON *call_json(size_t k, const char *const *args, size_t nargs, double exec_ms) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "call", (double)(k + 1));
    if (nargs == 0) {
        cJSON_AddStringToObject(c, "inputs", "random");
    } else {
        cJSON *a = cJSON_AddArrayToObject(c, "inputs");
        for (size_t j = 0; j < nargs; j++) cJSON_AddItemToArray(a, cJSON_CreateString(args[j]));
    }
    cJSON_AddNumberToObject(c, "execute_ms", exec_ms);
    return c;
}

/* Compares every output of call k; adds the results to outs (JSON). */
static void compare_call(cli_run_extra *x, const cml_method *method, size_t k, cJSON *outs) {
    for (size_t i = 0; i < x->noutputs; i++) {
        const char *path = x->expected[k * x->noutputs + i];
        cml_tensor_view v;
        char what[4600];
        describe(method, i, k, x->ngroups, path, what, sizeof what);
        bool pass = false;
        cJSON *r;
        if (cml_method_output(method, i, &v) != CML_OK) r = result_json(path, NULL, "no output");
        else r = compare_output(x, &v, what, path, &pass);
        x->ncompared++;
        x->nfailed += !pass;
        cJSON *o = cJSON_GetArrayItem(outs, (int)i);
        if (o) cJSON_AddItemToObject(o, "compare", r);
        else cJSON_Delete(r);
    }
}

int cli_run_extra_after_call(cli_run_extra *x, const cml_method *method, const char *out_dir,
                             size_t k, const char *const *args, size_t nargs, double exec_ms) {
    char **paths = calloc(x->noutputs + 1, sizeof *paths);
    if (!paths) return cli_error("run", "out of memory");
    cli_emit_opts eo = {x->by_name, x->json, paths};
    int rc = cli_emit_outputs("run", method, out_dir, &eo);
    cJSON *outs = cJSON_CreateArray();
    for (size_t i = 0; i < x->noutputs; i++) {
        cJSON_AddItemToArray(outs, output_json(method, i, paths[i]));
        free(paths[i]);
    }
    free(paths);
    if (rc == CLI_OK && x->expected) compare_call(x, method, k, outs);
    if (x->doc) {
        cJSON *c = call_json(k, args, nargs, exec_ms);
        cJSON_AddItemToObject(c, "outputs", outs);
        cJSON_AddItemToArray(x->calls, c);
    } else {
        cJSON_Delete(outs);
    }
    fflush(stdout);
    return rc;
}

int cli_run_extra_finish(cli_run_extra *x, int rc) {
    if (rc != CLI_OK) return rc;
    bool failed = x->nfailed > 0;
    if (x->expected && !x->json)
        printf("compare: %s (%zu of %zu output%s within atol %g + rtol %g * |expected|)\n",
               failed ? "FAIL" : "PASS", x->ncompared - x->nfailed, x->ncompared,
               x->ncompared == 1 ? "" : "s", x->atol, x->rtol);
    if (x->doc) {
        if (x->expected) {
            cJSON *c = cJSON_AddObjectToObject(x->doc, "compare");
            cJSON_AddNumberToObject(c, "rtol", x->rtol);
            cJSON_AddNumberToObject(c, "atol", x->atol);
            cJSON_AddNumberToObject(c, "outputs_compared", (double)x->ncompared);
            cJSON_AddNumberToObject(c, "outputs_failed", (double)x->nfailed);
            cJSON_AddBoolToObject(c, "pass", !failed);
        }
        char *s = cJSON_Print(x->doc);
        if (!s) return cli_error("run", "out of memory");
        puts(s);
        cJSON_free(s);
    }
    fflush(stdout);
    return failed ? CLI_MISMATCH : CLI_OK;
}
