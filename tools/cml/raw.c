/* Raw binary input files and the input options shared by `cml run` and
 * `cml bench`: --cast, --raw, --shape [NAME=]D0,D1,..., --dtype [NAME=]T. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cast.h"
#include "cli.h"
#include "npy.h"

int cli_input_opts_init(cli_input_opts *o, int argc) {
    memset(o, 0, sizeof *o);
    o->shapes = calloc((size_t)argc + 1, sizeof *o->shapes);
    o->dtypes = calloc((size_t)argc + 1, sizeof *o->dtypes);
    return o->shapes && o->dtypes ? 0 : -1;
}

void cli_input_opts_free(cli_input_opts *o) {
    free(o->shapes);
    free(o->dtypes);
    memset(o, 0, sizeof *o);
}

/* "D0,D1,...": non-negative decimal sizes, at most CML_MAX_DIMS; "" is a
 * scalar (rank 0). */
static int parse_shape(const char *s, int32_t *rank, int64_t *sizes) {
    *rank = 0;
    if (!*s) return 0;
    for (;;) {
        if (*rank == CML_MAX_DIMS || *s < '0' || *s > '9') return -1;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno) return -1;
        sizes[(*rank)++] = v;
        if (*end == '\0') return 0;
        if (*end != ',') return -1;
        s = end + 1;
    }
}

/* The value part of a "[NAME=]VALUE" spec. */
static const char *spec_value(const char *spec) {
    const char *eq = strchr(spec, '=');
    return eq ? eq + 1 : spec;
}

/* Checks the value syntax of a --shape / --dtype spec. */
static int check_spec_value(const char *cmd, const char *opt, const char *spec) {
    int32_t rank;
    int64_t sizes[CML_MAX_DIMS];
    cml_dtype dt;
    if (strcmp(opt, "--shape") == 0 && parse_shape(spec_value(spec), &rank, sizes) != 0)
        return cli_usage_error(cmd, "--shape %s: expected [NAME=]D0,D1,... (up to %d "
                                    "non-negative sizes; empty for a scalar)", spec, CML_MAX_DIMS);
    if (strcmp(opt, "--dtype") == 0 && cli_parse_dtype(spec_value(spec), &dt) != 0)
        return cli_usage_error(cmd, "--dtype %s: expected [NAME=]TYPE, TYPE one of bool, int8, "
                                    "int16, int32, int64, uint8, uint16, uint32, uint64, "
                                    "float16, bfloat16, float32, float64", spec);
    return CLI_OK;
}

int cli_input_option(const char *cmd, int argc, char **argv, int *i, cli_input_opts *o) {
    const char *a = argv[*i], *v = NULL;
    if (strcmp(a, "--cast") == 0 || strcmp(a, "--raw") == 0) {
        if (a[2] == 'c') o->cast = true;
        else o->raw = true;
        (*i)++;
        return 1;
    }
    int r = cli_opt_value(cmd, argc, argv, i, "--shape", NULL, &v);
    if (r > 0) {
        o->shapes[o->nshapes++] = v;
        return check_spec_value(cmd, "--shape", v) == CLI_OK ? 1 : -1;
    }
    if (r == 0) r = cli_opt_value(cmd, argc, argv, i, "--dtype", NULL, &v);
    if (r > 0) {
        o->dtypes[o->ndtypes++] = v;
        return check_spec_value(cmd, "--dtype", v) == CLI_OK ? 1 : -1;
    }
    return r;
}

static int check_names(const char *cmd, const cml_method *method, const char *opt,
                       const char *const *specs, size_t n) {
    for (size_t k = 0; k < n; k++) {
        const char *eq = strchr(specs[k], '=');
        if (!eq) continue;
        char name[256];
        size_t len = (size_t)(eq - specs[k]);
        snprintf(name, sizeof name, "%.*s", (int)len, specs[k]);
        size_t index;
        if (len >= sizeof name || cml_method_input_index(method, name, &index) != CML_OK)
            return cli_usage_error(cmd, "%s %s: no input is named '%.*s'", opt, specs[k],
                                   (int)len, specs[k]);
    }
    return CLI_OK;
}

int cli_check_input_specs(const char *cmd, const cml_method *method, const cli_input_opts *o) {
    int rc = check_names(cmd, method, "--shape", o->shapes, o->nshapes);
    return rc == CLI_OK ? check_names(cmd, method, "--dtype", o->dtypes, o->ndtypes) : rc;
}

/* The spec for input name: "NAME=V" wins over a plain "V" (the last one
 * given); NULL when there is none. */
static const char *spec_for(const char *const *specs, size_t n, const char *name) {
    const char *plain = NULL;
    for (size_t k = 0; k < n; k++) {
        const char *eq = strchr(specs[k], '=');
        if (!eq) plain = specs[k];
        else if (strlen(name) == (size_t)(eq - specs[k]) && strncmp(specs[k], name, strlen(name)) == 0)
            return eq + 1;
    }
    return plain;
}

/* dtype and shape of raw input i: the --dtype / --shape given for it, else
 * the input's dtype and default shape. */
static int raw_layout(const char *cmd, const cml_method *method, size_t i,
                      const cli_input_opts *o, cml_npy *out) {
    cml_io_info info;
    cml_io_shape shape = {.struct_size = sizeof shape};
    cml_status st = cml_method_input_info(method, i, &info);
    if (st == CML_OK) st = cml_method_input_shape(method, i, &shape);
    if (st != CML_OK) return cli_error(cmd, "input %zu: %s", i, cml_status_name(st));
    const char *name = info.name ? info.name : "";
    const char *ds = spec_for(o->dtypes, o->ndtypes, name);
    const char *ss = spec_for(o->shapes, o->nshapes, name);
    out->dtype = info.dtype;
    if (ds) cli_parse_dtype(ds, &out->dtype); /* checked when parsed */
    if (ss) {
        parse_shape(ss, &out->rank, out->sizes);
    } else {
        out->rank = info.rank;
        const int64_t *sizes = info.is_tensor && shape.rank == info.rank ? shape.default_sizes
                                                                          : info.sizes;
        if (info.rank > 0) memcpy(out->sizes, sizes, (size_t)info.rank * sizeof *sizes);
    }
    size_t numel = 1, nbytes;
    for (int32_t d = 0; d < out->rank; d++)
        if (__builtin_mul_overflow(numel, (size_t)out->sizes[d], &numel))
            return cli_error(cmd, "input %zu: the shape is too large", i);
    if (__builtin_mul_overflow(numel, cml_dtype_size(out->dtype), &nbytes))
        return cli_error(cmd, "input %zu: the shape is too large", i);
    out->numel = numel;
    out->nbytes = nbytes;
    return CLI_OK;
}

int cli_read_raw(const char *cmd, const cml_method *method, size_t i, const char *path,
                 const cli_input_opts *o, cml_npy *out) {
    memset(out, 0, sizeof *out);
    int rc = raw_layout(cmd, method, i, o, out);
    if (rc != CLI_OK) return rc;
    FILE *f = fopen(path, "rb");
    if (!f) return cli_error(cmd, "input %zu: %s: %s", i, path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return cli_error(cmd, "input %zu: %s: not a regular file", i, path);
    }
    if ((uint64_t)st.st_size != out->nbytes) {
        fclose(f);
        char shape[256];
        /* the file does not fit the input: a usage error (cli.h) */
        return cli_usage_error(cmd, "input %zu: %s: a raw file of %lld bytes, but %s %s needs %zu bytes "
                              "(set --shape / --dtype)", i, path, (long long)st.st_size,
                         cml_dtype_name(out->dtype),
                         cli_shape_str(out->rank, out->sizes, shape, sizeof shape), out->nbytes);
    }
    out->data = malloc(out->nbytes ? out->nbytes : 1);
    bool ok = out->data && fread(out->data, 1, out->nbytes, f) == out->nbytes;
    fclose(f);
    if (!ok) {
        cml_npy_free(out);
        return cli_error(cmd, "input %zu: %s: read failed", i, path);
    }
    return CLI_OK;
}
