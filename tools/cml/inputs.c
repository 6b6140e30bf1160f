/* Binding a method's inputs from .npy files or from seeded random values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "npy.h"

static int set_from_file(const char *cmd, cml_method *method, size_t i, const char *path) {
    cml_npy a;
    char err[512];
    if (cml_npy_read(path, &a, err, sizeof err) != 0)
        return cli_error(cmd, "input %zu: %s", i, err);
    cml_tensor_view v = {a.dtype, a.rank, a.sizes, a.data, a.nbytes};
    cml_status st = cml_method_set_input(method, i, &v);
    cml_npy_free(&a);
    if (st != CML_OK) {
        cli_error(cmd, "input %zu (%s): %s: %s", i, path, cml_status_name(st),
                  cml_method_errmsg(method));
        fprintf(stderr, "expected inputs:\n");
        cli_print_inputs(stderr, method);
        return CLI_ERR_RUNTIME;
    }
    return CLI_OK;
}

/* Random values at the input's default shape (a flexible input's default,
 * not its upper bound: cml_method_input_shape). */
static int set_random(const char *cmd, cml_method *method, size_t i, uint64_t *rng) {
    cml_io_info info;
    cml_io_shape shape = {.struct_size = sizeof shape};
    cml_status st = cml_method_input_info(method, i, &info);
    if (st == CML_OK) st = cml_method_input_shape(method, i, &shape);
    if (st != CML_OK) return cli_error(cmd, "input %zu: %s", i, cml_status_name(st));
    if (info.is_tensor && shape.rank == info.rank) info.sizes = shape.default_sizes;
    size_t numel = cli_numel(info.rank, info.sizes);
    size_t es = cml_dtype_size(info.dtype);
    if (es == 0) return cli_error(cmd, "input %zu has an invalid dtype", i);
    void *data = calloc(numel ? numel : 1, es);
    if (!data) return cli_error(cmd, "input %zu: out of memory", i);
    cli_fill_random(info.dtype, data, numel, rng);
    cml_tensor_view v = {info.dtype, info.rank, info.sizes, data, numel * es};
    st = cml_method_set_input(method, i, &v);
    free(data);
    if (st != CML_OK)
        return cli_error(cmd, "input %zu (random): %s: %s", i, cml_status_name(st),
                         cml_method_errmsg(method));
    return CLI_OK;
}

int cli_check_input_count(const char *cmd, const cml_method *method, size_t npaths,
                          size_t group) {
    size_t n = cml_method_input_count(method);
    if (npaths == 0 || npaths == n) return CLI_OK;
    char where[48] = "";
    if (group) snprintf(where, sizeof where, "call group %zu: ", group);
    fprintf(stderr, "cml %s: %sthe method takes %zu input%s, got %zu --input file%s\n", cmd, where,
            n, n == 1 ? "" : "s", npaths, npaths == 1 ? "" : "s");
    fprintf(stderr, "expected inputs:\n");
    cli_print_inputs(stderr, method);
    return CLI_ERR_USAGE;
}

/* The input named by the "NAME=" prefix of arg, or -1 when arg has no such
 * prefix (then it is a plain path, bound by position). */
static long named_input(const cml_method *method, const char *arg) {
    const char *eq = strchr(arg, '=');
    if (!eq) return -1;
    for (size_t i = 0; i < cml_method_input_count(method); i++) {
        cml_io_info info;
        if (cml_method_input_info(method, i, &info) != CML_OK || !info.name || !info.name[0])
            continue;
        if (strlen(info.name) == (size_t)(eq - arg) && strncmp(info.name, arg, (size_t)(eq - arg)) == 0)
            return (long)i;
    }
    return -1;
}

/* "NAME=..." where NAME is no input's name (and the whole argument is not
 * an existing file): a usage error listing the names there are. */
static int unknown_name(const char *cmd, const cml_method *method, const char *arg) {
    const char *eq = strchr(arg, '=');
    FILE *f = eq ? fopen(arg, "rb") : NULL;
    if (!eq || f) {
        if (f) fclose(f);
        return CLI_OK;
    }
    char names[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < cml_method_input_count(method) && used < sizeof names; i++) {
        cml_io_info info;
        if (cml_method_input_info(method, i, &info) != CML_OK || !info.name || !info.name[0])
            continue;
        int w = snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", info.name);
        if (w > 0) used += (size_t)w;
    }
    if (!names[0])
        return cli_usage_error(cmd, "--input %s: the inputs of this method have no names; give "
                                    "the files in input order", arg);
    return cli_usage_error(cmd, "--input %s: no input is named '%.*s' (the inputs are: %s)", arg,
                           (int)(eq - arg), arg, names);
}

/* Orders the --input arguments: "NAME=FILE.npy" goes to the input of that
 * name (standalone .mlpackage inputs are named); plain paths fill the
 * remaining inputs in order. */
static int order_inputs(const char *cmd, const cml_method *method, const char *const *paths,
                        size_t npaths, const char **ordered) {
    for (size_t k = 0; k < npaths; k++) {
        long i = named_input(method, paths[k]);
        if (i < 0) {
            int rc = unknown_name(cmd, method, paths[k]);
            if (rc != CLI_OK) return rc;
            continue;
        }
        if (ordered[i]) return cli_usage_error(cmd, "input '%.*s' is given twice",
                                               (int)(strchr(paths[k], '=') - paths[k]), paths[k]);
        ordered[i] = strchr(paths[k], '=') + 1;
    }
    size_t next = 0;
    for (size_t k = 0; k < npaths; k++) {
        if (named_input(method, paths[k]) >= 0) continue;
        while (next < npaths && ordered[next]) next++;
        if (next < npaths) ordered[next++] = paths[k];
    }
    return CLI_OK;
}

int cli_set_inputs(const char *cmd, cml_method *method, const char *const *paths, size_t npaths,
                   uint64_t *rng) {
    int rc = cli_check_input_count(cmd, method, npaths, 0);
    if (rc != CLI_OK) return rc;
    const char **ordered = calloc(npaths ? npaths : 1, sizeof *ordered);
    if (!ordered) return cli_error(cmd, "out of memory");
    rc = order_inputs(cmd, method, paths, npaths, ordered);
    for (size_t i = 0; rc == CLI_OK && i < cml_method_input_count(method); i++)
        rc = npaths ? set_from_file(cmd, method, i, ordered[i]) : set_random(cmd, method, i, rng);
    free(ordered);
    return rc;
}
