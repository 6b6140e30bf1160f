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

int cli_emit_outputs(const char *cmd, const cml_method *method, const char *dir) {
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
        cml_io_info info;
        const char *name = "";
        if (cml_method_output_info(method, i, &info) == CML_OK && info.name) name = info.name;
        char shape[256];
        printf("output %zu%s%s%s: %s %s ", i, name[0] ? " '" : "", name, name[0] ? "'" : "",
               cml_dtype_name(v.dtype), cli_shape_str(v.rank, v.sizes, shape, sizeof shape));
        cli_print_values(stdout, &v, CLI_SHOW_VALUES);
        putchar('\n');
        if (dir) {
            char path[4096];
            snprintf(path, sizeof path, "%s/output_%zu.npy", dir, i);
            int rc = write_one(cmd, path, &v);
            if (rc != CLI_OK) return rc;
            printf("  saved %s\n", path);
        }
    }
    fflush(stdout);
    return CLI_OK;
}
