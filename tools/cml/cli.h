/*
 * Shared pieces of the cml command-line tool: subcommand entry points,
 * argument parsing, model loading and tensor printing helpers.
 *
 * Exit codes: 0 success, 1 runtime error (bad model, I/O, execution
 * failure, an unreadable or corrupt input file), 2 usage error (bad command
 * line, or inputs that do not fit the model's signature: wrong count, name,
 * dtype without --cast, shape, raw file size), 3 `run --compare` found an
 * output that differs from its expected array (everything else succeeded).
 * Every error goes to stderr as "cml <cmd>: message".
 */
#ifndef CML_TOOLS_CLI_H
#define CML_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cml.h"
#include "core/status.h" /* CML_PRINTF */

enum { CLI_OK = 0, CLI_ERR_RUNTIME = 1, CLI_ERR_USAGE = 2, CLI_MISMATCH = 3 };

/* Subcommands: argv[0] is the subcommand name. */
int cli_run(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_extract(int argc, char **argv);
int cli_lower(int argc, char **argv);

/* --quiet / -q and --verbose / -v, taken out of argv anywhere on the line;
 * returns the new argc. cli_program_params() carries the resulting log
 * callback for cml_program_open_file. */
int cli_take_log_options(int argc, char **argv);
const cml_program_params *cli_program_params(void);

/* ---- errors (args.c) ---- */

/* Prints "cml CMD: message" plus a --help hint; returns CLI_ERR_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CML_PRINTF(2, 3);
/* Prints "cml CMD: message"; returns CLI_ERR_RUNTIME. */
int cli_error(const char *cmd, const char *fmt, ...) CML_PRINTF(2, 3);

/* ---- argument parsing (args.c) ---- */

/*
 * Matches argv[*i] against an option that takes a value, spelled
 * "--name VALUE" or "--name=VALUE" (short: "-x VALUE"). On a match sets
 * *value, advances *i past what was consumed and returns 1; returns 0 when
 * argv[*i] is a different option, -1 (after printing a usage error) when the
 * value is missing.
 */
int cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                  const char *short_name, const char **value);
/* Parses a whole decimal integer in [min, max]; prints a usage error naming
 * opt and returns -1 on failure. */
int cli_parse_i64(const char *cmd, const char *opt, const char *s, int64_t min, int64_t max,
                  int64_t *out);
/* all | cpu_only | cpu_and_gpu | cpu_and_ne; -1 with a usage error otherwise. */
int cli_parse_compute_units(const char *cmd, const char *s, cml_compute_units *out);
bool cli_is_help(const char *arg);

/* ---- model loading (model.c) ---- */

typedef struct cli_model {
    cml_program *program;
    cml_method *method;
    double open_ms;   /* cml_program_open_file */
    double create_ms; /* cml_method_create */
} cli_model;

/* Opens path and creates method (NULL: the default). Prints the library's
 * message on failure and returns CLI_ERR_RUNTIME. */
int cli_model_open(const char *cmd, const char *path, const char *method,
                   const cml_method_params *params, cli_model *out);
void cli_model_close(cli_model *m);
/* Prints "  input 0 'name': float32 [1, 3]" lines for every input. */
void cli_print_inputs(FILE *f, const cml_method *method);
double cli_now_ms(void);

/* ---- inputs (inputs.c, raw.c) ---- */

/* How --input files are read (`cml run --help` documents the options). */
typedef struct cli_input_opts {
    bool cast;           /* --cast: convert a file's dtype to the input's */
    bool raw;            /* --raw: every --input file is raw binary */
    const char **shapes; /* --shape values, "[NAME=]D0,D1,..." */
    size_t nshapes;
    const char **dtypes; /* --dtype values, "[NAME=]TYPE" */
    size_t ndtypes;
} cli_input_opts;

/* The input-file options and their description, shared by the --help of
 * `cml run` and `cml bench`. */
#define CLI_INPUT_OPTIONS_HELP                                                          \
    "  --cast                 convert each input file to its input's dtype (any of\n"   \
    "                         bool, int8..int64, uint8..uint64, float16, bfloat16,\n"   \
    "                         float32, float64); without it a dtype mismatch is an\n"  \
    "                         error\n"                                                  \
    "  --raw                  read every --input file as raw binary data\n"           \
    "  --shape [NAME=]D0,D1,...\n"                                                     \
    "                         shape of raw input NAME, or (no NAME=) of every raw\n"   \
    "                         input (default: the input's default shape; \"\" is a\n"   \
    "                         scalar)\n"                                                \
    "  --dtype [NAME=]TYPE    element type of raw input NAME, or of every raw input\n" \
    "                         (default: the input's dtype; another needs --cast)\n"
#define CLI_INPUT_FILES_HELP                                                            \
    "\n"                                                                                \
    "input files:\n"                                                                    \
    "  FILE.npy   one array (little-endian, C order).\n"                                \
    "  FILE.npz   several arrays (np.savez; np.savez_compressed when built with\n"      \
    "             zlib): member \"x.npy\" goes to the input named x (`cml inspect`\n"    \
    "             lists the names), np.savez's positional arr_0, arr_1, ... go by\n"   \
    "             position; one .npz may supply every input, or mix with other\n"      \
    "             --input files. NAME=FILE.npz takes member NAME (or the only one).\n" \
    "  other      raw binary (also any file with --raw): little-endian elements of\n"  \
    "             --dtype, shaped by --shape; the file size must be exactly the\n"    \
    "             element count times the element size. A file without the .npy\n"   \
    "             or .npz extension that starts with the .npy magic is read as .npy.\n" \
    "  --cast semantics: C casts. float -> integer truncates toward zero and\n"         \
    "  saturates values out of the integer's range (NaN -> 0); integer -> integer\n"  \
    "  keeps the low bits (wraps); to float16 / bfloat16 rounds to nearest even\n"     \
    "  (overflow -> inf); nonzero -> bool true.\n"

/* Room for argc options of each kind; -1 when out of memory. */
int cli_input_opts_init(cli_input_opts *o, int argc);
void cli_input_opts_free(cli_input_opts *o);
/* Takes --cast, --raw, --shape V or --dtype V at argv[*i] (advancing *i):
 * 1 when it did, 0 when argv[*i] is another option, -1 after a usage error
 * (missing or malformed value). */
int cli_input_option(const char *cmd, int argc, char **argv, int *i, cli_input_opts *o);
/* Usage error unless every NAME= of --shape / --dtype names an input. */
int cli_check_input_specs(const char *cmd, const cml_method *method, const cli_input_opts *o);

/*
 * Checks that the --input arguments args[0..nargs) (.npz archives count one
 * per member) supply each input of method exactly once, by name or by
 * position, without reading array data. A usage error lists the expected
 * inputs; nargs 0 (random inputs) is fine. group (1-based) names a --call
 * group in messages; 0 for none.
 */
int cli_check_inputs(const char *cmd, const cml_method *method, const char *const *args,
                     size_t nargs, const cli_input_opts *o, size_t group);
/* Reads the files args[0..nargs) as cli_check_inputs places them and sets
 * each input (converting dtypes under o->cast), or, when nargs is 0, fills
 * every input with random values from *rng at its default shape. */
int cli_set_inputs(const char *cmd, cml_method *method, const char *const *args, size_t nargs,
                   const cli_input_opts *o, uint64_t *rng);

struct cml_npy;
/* Reads path as raw little-endian elements of input i: dtype and shape from
 * o (NAME= specs first, then plain ones), else the input's dtype and
 * default shape. The file size must equal numel * element size. */
int cli_read_raw(const char *cmd, const cml_method *method, size_t i, const char *path,
                 const cli_input_opts *o, struct cml_npy *out);

/* ---- outputs (outputs.c) ---- */

typedef struct cli_emit_opts {
    bool by_name;  /* write DIR/<output name>.npy (cli_safe_file_name) */
    bool quiet;    /* print nothing on stdout (`run --json`) */
    char **paths;  /* when not NULL: receives each written path (malloc'd;
                      the caller frees them), NULL where none was written */
} cli_emit_opts;

/* Prints each output's dtype, shape and first values; when dir is not NULL
 * also creates dir and writes dir/output_<i>.npy (or, with o->by_name,
 * dir/<name>.npy). o may be NULL (defaults). */
int cli_emit_outputs(const char *cmd, const cml_method *method, const char *dir,
                     const cli_emit_opts *o);
/* A file name (no extension) from an output name: characters other than
 * [A-Za-z0-9._-] become '_', a leading '.' too, at most 120 kept;
 * "output_<index>" when nothing but '_' would remain. Writes buf. */
const char *cli_safe_file_name(const char *name, size_t index, char *buf, size_t size);

/* ---- random values (random.c) ---- */

uint64_t cli_rng_next(uint64_t *state);
/* Floats uniform in [-1, 1), integers in [0, 10), bools 0/1. */
void cli_fill_random(cml_dtype dtype, void *data, size_t numel, uint64_t *state);

/* ---- formatting (format.c) ---- */

/* "[2, 3]" ("[]" for rank 0) into buf. */
const char *cli_shape_str(int32_t rank, const int64_t *sizes, char *buf, size_t size);
/* The shapes an input accepts: "[1..4096, 1024]" (a range per dimension) or
 * "{[1, 3, 64, 64] | [1, 3, 96, 128]}" (enumerated shapes). */
const char *cli_io_shape_str(const cml_io_shape *shape, char *buf, size_t size);
/* Whether the input accepts more than one shape. */
bool cli_io_shape_flexible(const cml_io_shape *shape);
/* Prints "[v0, v1, ...]": at most max values, "..." when there are more. */
void cli_print_values(FILE *f, const cml_tensor_view *view, size_t max);
size_t cli_numel(int32_t rank, const int64_t *sizes);

/* ---- files (files.c) ---- */

/* mkdir -p; prints an error and returns CLI_ERR_RUNTIME on failure. */
int cli_mkdirs(const char *cmd, const char *path);
bool cli_is_dir(const char *path);

typedef struct cli_mapped {
    const uint8_t *data; /* page-aligned (cml_pte_parse wants 16) */
    size_t size;
} cli_mapped;
int cli_map_file(const char *cmd, const char *path, cli_mapped *out);
void cli_unmap_file(cli_mapped *m);

#endif
