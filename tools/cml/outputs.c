/* Printing a method's outputs and saving them as .npy files. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/fp16.h"
#include "npy.h"

#define CLI_SHOW_VALUES 8

/* .npy has no bfloat16; widen to float32 rather than drop the output. */
static int write_bf16_as_f32(const char *cmd, const char *path, const cml_tensor_view *v) {
    size_t n = cli_numel(v->rank, v->sizes);
    float *f = malloc(n ? n * sizeof *f : 1);
    if (!f) return cli_error(cmd, "%s: out of memory", path);
    const uint16_t *h = v->data;
    for (size_t i = 0; i < n; i++) f[i] = cml_bf16_to_fp32(h[i]);
    char err[512];
    int rc = cml_npy_write(path, CML_DTYPE_FLOAT32, v->rank, v->sizes, f, err, sizeof err);
    free(f);
    if (rc != 0) return cli_error(cmd, "%s", err);
    fprintf(stderr, "cml %s: note: %s is bfloat16, saved as float32\n", cmd, path);
    return CLI_OK;
}

static int write_one(const char *cmd, const char *path, const cml_tensor_view *v) {
    if (v->nbytes < cli_numel(v->rank, v->sizes) * cml_dtype_size(v->dtype))
        return cli_error(cmd, "%s: output view holds fewer bytes than its shape", path);
    if (v->dtype == CML_DTYPE_BFLOAT16) return write_bf16_as_f32(cmd, path, v);
    char err[512];
    if (cml_npy_write(path, v->dtype, v->rank, v->sizes, v->data, err, sizeof err) != 0)
        return cli_error(cmd, "%s", err);
    return CLI_OK;
}

/* path = dir/<file name of output i>.npy; with by_name, a name that an
 * earlier output already took (after sanitizing) gets "_<i>" appended. */
static void output_path(const cml_method *method, const char *dir, size_t i, bool by_name,
                        char *path, size_t size) {
    if (!by_name) {
        snprintf(path, size, "%s/output_%zu.npy", dir, i);
        return;
    }
    char mine[160], other[160];
    cml_io_info info;
    const char *name = cml_method_output_info(method, i, &info) == CML_OK ? info.name : NULL;
    cli_safe_file_name(name, i, mine, sizeof mine);
    for (size_t k = 0; k < i; k++) {
        const char *n = cml_method_output_info(method, k, &info) == CML_OK ? info.name : NULL;
        if (strcmp(cli_safe_file_name(n, k, other, sizeof other), mine) == 0) {
            snprintf(path, size, "%s/%s_%zu.npy", dir, mine, i);
            return;
        }
    }
    snprintf(path, size, "%s/%s.npy", dir, mine);
}

static void print_output(size_t i, const cml_method *method, const cml_tensor_view *v) {
    cml_io_info info;
    const char *name = "";
    if (cml_method_output_info(method, i, &info) == CML_OK && info.name) name = info.name;
    char shape[256];
    printf("output %zu%s%s%s: %s %s ", i, name[0] ? " '" : "", name, name[0] ? "'" : "",
           cml_dtype_name(v->dtype), cli_shape_str(v->rank, v->sizes, shape, sizeof shape));
    cli_print_values(stdout, v, CLI_SHOW_VALUES);
    putchar('\n');
}

int cli_emit_outputs(const char *cmd, const cml_method *method, const char *dir,
                     const cli_emit_opts *o) {
    static const cli_emit_opts defaults = {0};
    if (!o) o = &defaults;
    size_t n = cml_method_output_count(method);
    if (dir) {
        int rc = cli_mkdirs(cmd, dir);
        if (rc != CLI_OK) return rc;
    }
    for (size_t i = 0; i < n; i++) {
        cml_tensor_view v;
        cml_status st = cml_method_output(method, i, &v);
        if (st != CML_OK)
            return cli_error(cmd, "output %zu: %s: %s", i, cml_status_name(st),
                             cml_method_errmsg(method));
        if (!o->quiet) print_output(i, method, &v);
        if (!dir) continue;
        char path[4096];
        output_path(method, dir, i, o->by_name, path, sizeof path);
        int rc = write_one(cmd, path, &v);
        if (rc != CLI_OK) return rc;
        if (!o->quiet) printf("  saved %s\n", path);
        if (o->paths && !(o->paths[i] = strdup(path))) return cli_error(cmd, "out of memory");
    }
    fflush(stdout);
    return CLI_OK;
}
