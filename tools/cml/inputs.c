/*
 * Binding a method's inputs from files (.npy, .npz members, raw binary) or
 * from seeded random values.
 *
 * Each --input argument becomes one or more sources (an .npz gives one per
 * member). A source is bound to an input by name ("NAME=FILE", or an .npz
 * member whose key is an input's name) or by position (plain files, and
 * np.savez's positional members "arr_0", "arr_1", ...): named sources claim
 * their inputs first, positional ones fill the rest in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cast.h"
#include "cli.h"
#include "npy.h"
#include "npz.h"

enum { SRC_NPY, SRC_NPZ, SRC_RAW };

typedef struct source {
    const char *arg;  /* the --input argument, for messages */
    const char *path; /* the file */
    int kind;
    long member;      /* SRC_NPZ: index in the archive */
    long input;       /* the input it binds to; -1 until placed */
} source;

typedef struct plan {
    source *src;
    size_t n, cap;
    size_t nnpz;      /* how many arguments were .npz archives */
    long *of_input;   /* per input: index in src, or -1 */
} plan;

static void plan_free(plan *p) {
    free(p->src);
    free(p->of_input);
    memset(p, 0, sizeof *p);
}

static int push(const char *cmd, plan *p, source s) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        source *n = realloc(p->src, cap * sizeof *n);
        if (!n) return cli_error(cmd, "out of memory");
        p->src = n;
        p->cap = cap;
    }
    p->src[p->n++] = s;
    return CLI_OK;
}

static const char *input_name(const cml_method *method, size_t i) {
    cml_io_info info;
    if (cml_method_input_info(method, i, &info) != CML_OK || !info.name) return "";
    return info.name;
}

/* "x, y, z": the input names, for messages. */
static const char *input_names(const cml_method *method, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cml_method_input_count(method) && used < size; i++) {
        const char *name = input_name(method, i);
        if (!name[0]) continue;
        int w = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", name);
        if (w > 0) used += (size_t)w;
    }
    return buf;
}

/* The input called name[0..len), or -1. */
static long input_by_name(const cml_method *method, const char *name, size_t len) {
    for (size_t i = 0; i < cml_method_input_count(method); i++) {
        const char *n = input_name(method, i);
        if (n[0] && strlen(n) == len && strncmp(n, name, len) == 0) return (long)i;
    }
    return -1;
}

/* The input named by the "NAME=" prefix of arg, or -1 when arg has no such
 * prefix (then it is a plain path, bound by position). */
static long named_input(const cml_method *method, const char *arg) {
    const char *eq = strchr(arg, '=');
    return eq ? input_by_name(method, arg, (size_t)(eq - arg)) : -1;
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
    char names[512];
    if (!input_names(method, names, sizeof names)[0])
        return cli_usage_error(cmd, "--input %s: the inputs of this method have no names; give "
                                    "the files in input order", arg);
    return cli_usage_error(cmd, "--input %s: no input is named '%.*s' (the inputs are: %s)", arg,
                           (int)(eq - arg), arg, names);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* .npz and .npy by extension; any other file is raw unless it starts with
 * the .npy magic. A file that cannot be read goes to the .npy reader,
 * whose message says why. */
static int file_kind(const char *path, bool raw) {
    if (raw) return SRC_RAW;
    if (ends_with(path, ".npz")) return SRC_NPZ;
    if (ends_with(path, ".npy")) return SRC_NPY;
    FILE *f = fopen(path, "rb");
    if (!f) return SRC_NPY;
    unsigned char magic[6];
    size_t got = fread(magic, 1, sizeof magic, f);
    int readable = !ferror(f);
    fclose(f);
    if (!readable) return SRC_NPY;
    return got == sizeof magic && memcmp(magic, "\x93NUMPY", 6) == 0 ? SRC_NPY : SRC_RAW;
}

/* np.savez's name for its k-th positional array. */
static bool positional_key(const char *key) {
    if (strncmp(key, "arr_", 4) != 0 || !key[4]) return false;
    for (const char *p = key + 4; *p; p++)
        if (*p < '0' || *p > '9') return false;
    return true;
}

/* Where member m of arg goes: its input (by key), -1 for positional, or a
 * usage error (*rc set). */
static long member_input(const char *cmd, const cml_method *method, const char *arg,
                         const char *key, int *rc) {
    long i = input_by_name(method, key, strlen(key));
    if (i >= 0 || positional_key(key)) return i;
    char names[512];
    *rc = cli_usage_error(cmd, "--input %s: member '%s.npy' matches no input (the inputs are: "
                               "%s; np.savez's positional arr_0, arr_1, ... go by position)",
                          arg, key, input_names(method, names, sizeof names));
    return -1;
}

/* "NAME=FILE.npz": the member called NAME, else the only member. */
static int add_named_member(const char *cmd, const cml_method *method, const char *arg,
                            const char *path, long named, const cli_npz *z, plan *p) {
    long k = cli_npz_find(z, input_name(method, (size_t)named));
    if (k < 0 && z->count == 1) k = 0;
    if (k < 0)
        return cli_usage_error(cmd, "--input %s: the archive has %zu members and none is named "
                                    "'%s.npy'", arg, z->count, input_name(method, (size_t)named));
    return push(cmd, p, (source){arg, path, SRC_NPZ, k, named});
}

static int add_npz(const char *cmd, const cml_method *method, const char *arg, const char *path,
                   long named, plan *p) {
    cli_mapped map;
    int rc = cli_map_file(cmd, path, &map);
    if (rc != CLI_OK) return rc;
    cli_npz z;
    char err[512];
    if (cli_npz_open(map.data, map.size, &z, err, sizeof err) != 0) {
        cli_unmap_file(&map);
        return cli_error(cmd, "%s: %s", path, err);
    }
    p->nnpz++;
    if (named >= 0) {
        rc = add_named_member(cmd, method, arg, path, named, &z, p);
    } else {
        for (size_t k = 0; k < z.count && rc == CLI_OK; k++) {
            long i = member_input(cmd, method, arg, z.members[k].name, &rc);
            if (rc == CLI_OK) rc = push(cmd, p, (source){arg, path, SRC_NPZ, (long)k, i});
        }
    }
    cli_npz_close(&z);
    cli_unmap_file(&map);
    return rc;
}

static int add_arg(const char *cmd, const cml_method *method, const char *arg,
                   const cli_input_opts *o, plan *p) {
    long named = named_input(method, arg);
    const char *path = arg;
    if (named >= 0) {
        path = strchr(arg, '=') + 1;
    } else {
        int rc = unknown_name(cmd, method, arg);
        if (rc != CLI_OK) return rc;
    }
    int kind = file_kind(path, o->raw);
    if (kind == SRC_NPZ) return add_npz(cmd, method, arg, path, named, p);
    return push(cmd, p, (source){arg, path, kind, -1, named});
}

static int count_error(const char *cmd, const cml_method *method, const plan *p, size_t nargs,
                       size_t group) {
    size_t n = cml_method_input_count(method);
    char where[48] = "";
    if (group) snprintf(where, sizeof where, "call group %zu: ", group);
    if (p->nnpz)
        fprintf(stderr, "cml %s: %sthe method takes %zu input%s, got %zu array%s from %zu --input "
                        "file%s\n", cmd, where, n, n == 1 ? "" : "s", p->n, p->n == 1 ? "" : "s",
                nargs, nargs == 1 ? "" : "s");
    else
        fprintf(stderr, "cml %s: %sthe method takes %zu input%s, got %zu --input file%s\n", cmd,
                where, n, n == 1 ? "" : "s", nargs, nargs == 1 ? "" : "s");
    fprintf(stderr, "expected inputs:\n");
    cli_print_inputs(stderr, method);
    return CLI_ERR_USAGE;
}

/* Named sources claim their inputs (an input named twice is a usage
 * error); positional ones fill the rest in order. Sources beyond the input
 * count stay unplaced: the caller then reports the count. */
static int place(const char *cmd, const cml_method *method, plan *p) {
    size_t n = cml_method_input_count(method);
    p->of_input = malloc((n ? n : 1) * sizeof *p->of_input);
    if (!p->of_input) return cli_error(cmd, "out of memory");
    for (size_t i = 0; i < n; i++) p->of_input[i] = -1;
    for (size_t k = 0; k < p->n; k++) {
        long i = p->src[k].input;
        if (i < 0) continue;
        if (p->of_input[i] >= 0)
            return cli_usage_error(cmd, "input '%s' is given twice (%s and %s)",
                                   input_name(method, (size_t)i), p->src[p->of_input[i]].arg,
                                   p->src[k].arg);
        p->of_input[i] = (long)k;
    }
    size_t next = 0;
    for (size_t k = 0; k < p->n; k++) {
        if (p->src[k].input >= 0) continue;
        while (next < n && p->of_input[next] >= 0) next++;
        if (next < n) {
            p->of_input[next] = (long)k;
            p->src[k].input = (long)next++;
        }
    }
    return CLI_OK;
}

/* Builds and places the sources of one group of --input arguments. */
static int make_plan(const char *cmd, const cml_method *method, const char *const *args,
                     size_t nargs, const cli_input_opts *o, size_t group, plan *p) {
    memset(p, 0, sizeof *p);
    int rc = CLI_OK;
    for (size_t k = 0; k < nargs && rc == CLI_OK; k++) rc = add_arg(cmd, method, args[k], o, p);
    if (rc == CLI_OK) rc = place(cmd, method, p);
    if (rc == CLI_OK && p->n != cml_method_input_count(method))
        rc = count_error(cmd, method, p, nargs, group);
    if (rc != CLI_OK) plan_free(p);
    return rc;
}

int cli_check_inputs(const char *cmd, const cml_method *method, const char *const *args,
                     size_t nargs, const cli_input_opts *o, size_t group) {
    if (nargs == 0) return CLI_OK;
    int rc = cli_check_input_specs(cmd, method, o);
    plan p;
    if (rc == CLI_OK) rc = make_plan(cmd, method, args, nargs, o, group, &p);
    if (rc == CLI_OK) plan_free(&p);
    return rc;
}

/* ---- reading and binding ---- */

static int load_npz_member(const char *cmd, const source *s, cml_npy *a) {
    cli_mapped map;
    int rc = cli_map_file(cmd, s->path, &map);
    if (rc != CLI_OK) return rc;
    cli_npz z;
    char err[512] = "the archive changed while cml was reading it";
    if (cli_npz_open(map.data, map.size, &z, err, sizeof err) != 0 ||
        (size_t)s->member >= z.count) {
        cli_npz_close(&z);
        cli_unmap_file(&map);
        return cli_error(cmd, "%s: %s", s->path, err);
    }
    if (cli_npz_read(map.data, map.size, &z.members[s->member], a, err, sizeof err) != 0)
        rc = cli_error(cmd, "input %ld: %s: %s", s->input, s->path, err);
    cli_npz_close(&z);
    cli_unmap_file(&map);
    return rc;
}

static int load(const char *cmd, cml_method *method, const source *s, const cli_input_opts *o,
                cml_npy *a) {
    char err[512];
    if (s->kind == SRC_NPZ) return load_npz_member(cmd, s, a);
    if (s->kind == SRC_RAW) return cli_read_raw(cmd, method, (size_t)s->input, s->path, o, a);
    if (cml_npy_read(s->path, a, err, sizeof err) != 0)
        return cli_error(cmd, "input %ld: %s", s->input, err);
    return CLI_OK;
}

/* "input 0 'x' (data.npz member 'x.npy')" into buf. */
static const char *describe(const cml_method *method, const source *s, char *buf, size_t size) {
    const char *name = input_name(method, (size_t)s->input);
    snprintf(buf, size, "input %ld%s%s%s (%s)", s->input, name[0] ? " '" : "", name,
             name[0] ? "'" : "", s->arg);
    return buf;
}

/* Converts a to dtype in place (--cast). */
static int cast_to(const char *cmd, const char *what, cml_npy *a, cml_dtype dtype) {
    if (!cli_dtype_castable(dtype) || !cli_dtype_castable(a->dtype))
        return cli_usage_error(cmd, "%s: cannot cast %s to %s", what, cml_dtype_name(a->dtype),
                         cml_dtype_name(dtype));
    size_t es = cml_dtype_size(dtype), nbytes;
    if (__builtin_mul_overflow(a->numel, es, &nbytes)) return cli_error(cmd, "%s: too large", what);
    void *data = malloc(nbytes ? nbytes : 1);
    if (!data) return cli_error(cmd, "%s: out of memory", what);
    cli_cast(dtype, data, a->dtype, a->data, a->numel);
    free(a->data);
    a->data = data;
    a->dtype = dtype;
    a->nbytes = nbytes;
    return CLI_OK;
}

static int bind(const char *cmd, cml_method *method, const source *s, const cli_input_opts *o,
                cml_npy *a) {
    char what[512];
    describe(method, s, what, sizeof what);
    size_t i = (size_t)s->input;
    cml_io_info info;
    if (cml_method_input_info(method, i, &info) != CML_OK)
        return cli_error(cmd, "%s: no such input", what);
    if (o->cast && a->dtype != info.dtype) {
        int rc = cast_to(cmd, what, a, info.dtype);
        if (rc != CLI_OK) return rc;
    }
    cml_tensor_view v = {a->dtype, a->rank, a->sizes, a->data, a->nbytes};
    cml_status st = cml_method_set_input(method, i, &v);
    if (st == CML_OK) return CLI_OK;
    /* An array that does not fit the input is a usage error (exit 2, cli.h);
     * anything else (out of memory) a runtime one. */
    bool misfit = st == CML_ERR_SHAPE || st == CML_ERR_INVALID_ARG;
    if (a->dtype != info.dtype)
        cli_error(cmd, "%s: the file holds %s, the input takes %s; add --cast to convert", what,
                  cml_dtype_name(a->dtype), cml_dtype_name(info.dtype));
    else
        cli_error(cmd, "%s: %s: %s", what, cml_status_name(st), cml_method_errmsg(method));
    fprintf(stderr, "expected inputs:\n");
    cli_print_inputs(stderr, method);
    return misfit ? CLI_ERR_USAGE : CLI_ERR_RUNTIME;
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

int cli_set_inputs(const char *cmd, cml_method *method, const char *const *args, size_t nargs,
                   const cli_input_opts *o, uint64_t *rng) {
    size_t n = cml_method_input_count(method);
    if (nargs == 0) {
        for (size_t i = 0; i < n; i++) {
            int rc = set_random(cmd, method, i, rng);
            if (rc != CLI_OK) return rc;
        }
        return CLI_OK;
    }
    int rc = cli_check_input_specs(cmd, method, o);
    plan p;
    if (rc == CLI_OK) rc = make_plan(cmd, method, args, nargs, o, 0, &p);
    if (rc != CLI_OK) return rc;
    for (size_t i = 0; rc == CLI_OK && i < n; i++) {
        const source *s = &p.src[p.of_input[i]];
        cml_npy a;
        memset(&a, 0, sizeof a);
        rc = load(cmd, method, s, o, &a);
        if (rc == CLI_OK) rc = bind(cmd, method, s, o, &a);
        cml_npy_free(&a);
    }
    plan_free(&p);
    return rc;
}
