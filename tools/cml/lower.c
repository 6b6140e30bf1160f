/* `cml lower`: a portable .pte -> the Core ML-delegated .pte that
 * to_edge_transform_and_lower(CoreMLPartitioner) writes (src/lower/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lower/convert_ops.h"
#include "lower/lower.h"

static const char lower_help[] =
    "usage: cml lower IN.pte -o OUT.pte [options]\n"
    "\n"
    "Partitions the portable program IN.pte (to_edge(...).to_executorch(), no\n"
    "delegates), converts each supported subgraph to a Core ML ML Program and\n"
    "writes OUT.pte with CoreMLBackend delegate calls in their place. Ops it\n"
    "cannot convert stay portable and are listed.\n"
    "\n"
    "options:\n"
    "  -o, --output OUT.pte             where to write (required)\n"
    "  --compute-precision fp16|fp32    ML Program precision (default fp16, as upstream)\n"
    "  --min-deployment-target iOS15..iOS18   spec version / opset (default: none = iOS15)\n"
    "  --compute-units all|cpu_only|cpu_and_gpu|cpu_and_ne   compile spec (default all)\n"
    "  --skip-ops aten::x[.overload],...     keep these ops portable\n"
    "  --quantize int8|int4             linear / conv weights to int8, one scale per output\n"
    "                                   channel (constexpr_affine_dequantize; iOS16 or later),\n"
    "                                   or to int4 (constexpr_blockwise_shift_scale; iOS18)\n"
    "  --block-size N                   int4: one scale per N inputs of a linear weight row\n"
    "                                   (default 32; 0: per output channel)\n"
    "  --palettize 1|2|3|4|6|8          linear / conv weights to a 2^N-entry lookup table from\n"
    "                                   k-means (constexpr_lut_to_dense; iOS18)\n"
    "  --group-size G                   palettize: one table per G output channels\n"
    "                                   (default 0: one per weight)\n"
    "  --weight-threshold N             compress only weights of >= N elements (default 2048)\n"
    "  --lower-full-graph               fail if any op stays portable\n"
    "  --relower                        accept an already delegated IN.pte\n"
    "  --list-ops                       print the aten ops it converts, and exit\n"
    "  -h, --help                       show this help\n";

static int write_out(const char *path, const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return cli_error("lower", "cannot create %s", path);
    size_t n = fwrite(data, 1, size, f);
    int bad = fclose(f) != 0 || n != size;
    return bad ? cli_error("lower", "cannot write %s", path) : CLI_OK;
}

static void print_report(const cml_lower_report *r, const char *out) {
    printf("lowered %u kernel call(s) into %u Core ML delegate(s); %u kept portable\n",
           r->nlowered, r->ndelegates, r->nportable);
    for (uint32_t i = 0; i < r->nunsupported && i < CML_LOWER_MAX_REPORT; i++)
        printf("  portable: %s\n", r->unsupported[i]);
    printf("wrote %s\n", out);
}

static int lower(const char *in, const char *out, const cml_lower_options *o) {
    cli_mapped file;
    int rc = cli_map_file("lower", in, &file);
    if (rc != CLI_OK) return rc;
    cml_error err = {0};
    cml_lower_report report;
    uint8_t *data = NULL;
    size_t size = 0;
    cml_status st = cml_lower_pte(file.data, file.size, o, &data, &size, &report, &err);
    cli_unmap_file(&file);
    if (st != CML_OK) return cli_error("lower", "%s: %s: %s", in, cml_status_name(st), err.msg);
    rc = write_out(out, data, size);
    free(data);
    if (rc == CLI_OK) print_report(&report, out);
    return rc;
}

static int parse_target(const char *v, int *out) {
    if (!strcmp(v, "none")) { *out = 0; return 0; }
    if (strncmp(v, "iOS", 3) || strlen(v) != 5 || v[3] != '1' || v[4] < '5' || v[4] > '8') return -1;
    *out = 10 + (v[4] - '0');
    return 0;
}

/* An unsigned 32-bit count option: 1 taken, 0 not this option, -1 usage
 * error (reported). */
static int u32_option(int argc, char **argv, int *i, const char *opt, const char *what,
                      uint32_t *out) {
    const char *v;
    int r = cli_opt_value("lower", argc, argv, i, opt, NULL, &v);
    if (r <= 0) return r;
    char *end = NULL;
    unsigned long n = strtoul(v, &end, 10);
    if (!*v || *end || v[0] == '-' || n > 0xffffffffUL)
        return cli_usage_error("lower", "%s takes a number of %s, not '%s'", opt, what, v), -1;
    *out = (uint32_t)n;
    return 1;
}

static int take_value(int argc, char **argv, int *i, const char *a, cml_lower_options *o,
                      const char **outp) {
    const char *v;
    int r;
    if ((r = cli_opt_value("lower", argc, argv, i, "--output", "-o", &v)) != 0) {
        if (r > 0) *outp = v;
        return r;
    }
    if ((r = cli_opt_value("lower", argc, argv, i, "--compute-precision", NULL, &v)) != 0) {
        if (r < 0) return r;
        if (strcmp(v, "fp16") && strcmp(v, "fp32")) return cli_usage_error("lower", "--compute-precision takes fp16 or fp32, not '%s'", v), -1;
        o->fp16 = !strcmp(v, "fp16");
        return 1;
    }
    if ((r = cli_opt_value("lower", argc, argv, i, "--min-deployment-target", NULL, &v)) != 0) {
        if (r < 0) return r;
        if (parse_target(v, &o->min_target)) return cli_usage_error("lower", "--min-deployment-target takes iOS15..iOS18, not '%s'", v), -1;
        return 1;
    }
    if ((r = cli_opt_value("lower", argc, argv, i, "--compute-units", NULL, &v)) != 0) {
        if (r > 0) o->compute_units = v;
        return r;
    }
    if ((r = cli_opt_value("lower", argc, argv, i, "--quantize", NULL, &v)) != 0) {
        if (r < 0) return r;
        if (strcmp(v, "int8") && strcmp(v, "int4")) return cli_usage_error("lower", "--quantize takes int8 or int4, not '%s'", v), -1;
        o->quantize_bits = v[3] - '0';
        return 1;
    }
    if ((r = cli_opt_value("lower", argc, argv, i, "--palettize", NULL, &v)) != 0) {
        if (r < 0) return r;
        if (strlen(v) != 1 || !strchr("123468", v[0])) return cli_usage_error("lower", "--palettize takes 1, 2, 3, 4, 6 or 8 (bits), not '%s'", v), -1;
        o->palettize_bits = v[0] - '0';
        return 1;
    }
    if ((r = u32_option(argc, argv, i, "--group-size", "output channels", &o->group_size)) != 0) return r;
    if ((r = u32_option(argc, argv, i, "--block-size", "elements", &o->block_size)) != 0) return r;
    if ((r = u32_option(argc, argv, i, "--weight-threshold", "elements", &o->weight_threshold)) != 0) return r;
    if ((r = cli_opt_value("lower", argc, argv, i, "--skip-ops", NULL, &v)) != 0) {
        if (r > 0) o->skip_ops = v;
        return r;
    }
    (void)a;
    return 0;
}

/* --palettize progress on a terminal: one line per weight, rewritten. */
static void progress(void *ctx, const char *weight, uint32_t done, uint32_t total) {
    (void)ctx;
    fprintf(stderr, "\rpalettizing %s: %u/%u groups%s", weight, done, total,
            done == total ? "\n" : "");
}

static int list_ops(void) {
    for (size_t i = 0; i < cml_lower_op_table_size; i++)
        printf("%s.%s\n", cml_lower_op_table[i].name, cml_lower_op_table[i].overload);
    return CLI_OK;
}

int cli_lower(int argc, char **argv) {
    cml_lower_options o = {.fp16 = true, .compute_units = "all", .weight_threshold = 2048,
                           .block_size = 32};
    if (isatty(2)) o.progress = progress; /* k-means of large weights takes a while */
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc;) {
        const char *a = argv[i];
        if (cli_is_help(a)) { fputs(lower_help, stdout); return CLI_OK; }
        if (!strcmp(a, "--list-ops")) return list_ops();
        int r = take_value(argc, argv, &i, a, &o, &out);
        if (r < 0) return CLI_ERR_USAGE;
        if (r > 0) continue;
        if (!strcmp(a, "--lower-full-graph")) { o.lower_full_graph = true; i++; }
        else if (!strcmp(a, "--relower")) { o.relower = true; i++; }
        else if (a[0] == '-' && a[1] != '\0') return cli_usage_error("lower", "unknown option '%s'", a);
        else if (in) return cli_usage_error("lower", "unexpected argument '%s'", a);
        else { in = a; i++; }
    }
    if (!in) return cli_usage_error("lower", "missing IN.pte");
    if (!out) return cli_usage_error("lower", "missing -o OUT.pte");
    return lower(in, out, &o);
}
