/* Opening a program and one of its methods, with the library's messages. */
#include <string.h>
#include <time.h>

#include "cli.h"

double cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void print_methods(const cml_program *p) {
    size_t n = cml_program_method_count(p);
    fprintf(stderr, "available methods:");
    for (size_t i = 0; i < n; i++) fprintf(stderr, " %s", cml_program_method_name(p, i));
    fputc('\n', stderr);
}

int cli_model_open(const char *cmd, const char *path, const char *method,
                   const cml_method_params *params, cli_model *out) {
    memset(out, 0, sizeof *out);
    char err[1024] = "";
    double t0 = cli_now_ms();
    cml_status st = cml_program_open_file(path, cli_program_params(), &out->program, err, sizeof err);
    double t1 = cli_now_ms();
    if (st != CML_OK) {
        /* The library usually names the path already; do not say it twice. */
        if (strstr(err, path)) return cli_error(cmd, "%s: %s", cml_status_name(st), err);
        return cli_error(cmd, "%s: %s: %s", path, cml_status_name(st), err);
    }
    st = cml_method_create(out->program, method, params, &out->method);
    double t2 = cli_now_ms();
    if (st != CML_OK) {
        /* The method handle does not survive a failed create; the program
         * carries the message. */
        if (method)
            cli_error(cmd, "cannot load method '%s' (%s): %s", method, cml_status_name(st),
                      cml_program_errmsg(out->program));
        else
            cli_error(cmd, "cannot load the default method (%s): %s", cml_status_name(st),
                      cml_program_errmsg(out->program));
        if (st == CML_ERR_NOT_FOUND) print_methods(out->program);
        cli_model_close(out);
        return CLI_ERR_RUNTIME;
    }
    out->open_ms = t1 - t0;
    out->create_ms = t2 - t1;
    return CLI_OK;
}

void cli_model_close(cli_model *m) {
    cml_method_destroy(m->method);
    cml_program_close(m->program);
    memset(m, 0, sizeof *m);
}

void cli_print_inputs(FILE *f, const cml_method *method) {
    size_t n = cml_method_input_count(method);
    for (size_t i = 0; i < n; i++) {
        cml_io_info info;
        if (cml_method_input_info(method, i, &info) != CML_OK) continue;
        const char *name = info.name ? info.name : "";
        char shape[256];
        fprintf(f, "  input %zu%s%s%s: %s %s%s\n", i, name[0] ? " '" : "", name,
                name[0] ? "'" : "", cml_dtype_name(info.dtype),
                cli_shape_str(info.rank, info.sizes, shape, sizeof shape),
                info.is_tensor ? "" : " (scalar)");
    }
}
