/*
 * The reporting options of `cml run`: --compare (with --rtol / --atol),
 * --output-names and --json. run.c parses them through
 * cli_run_extra_option, calls cli_run_extra_prepare once the method is
 * loaded, cli_run_extra_after_call after each execute (in place of
 * cli_emit_outputs) and cli_run_extra_finish at the end.
 */
#ifndef CML_TOOLS_RUN_EXTRA_H
#define CML_TOOLS_RUN_EXTRA_H

#include <cjson/cJSON.h>

#include "cli.h"

typedef struct cli_run_extra {
    const char *compare; /* --compare DIR | FILE[,FILE...] */
    double rtol, atol;   /* --rtol / --atol (numpy.allclose's defaults) */
    bool by_name;        /* --output-names */
    bool json;           /* --json */
    /* set by cli_run_extra_prepare */
    char **expected;     /* [group * noutputs + i]: the expected file */
    size_t noutputs, ngroups, nfailed, ncompared;
    cJSON *doc, *calls;  /* the --json summary */
} cli_run_extra;

#define CLI_RUN_EXTRA_HELP                                                              \
    "  --compare DIR|FILE[,FILE...]\n"                                                  \
    "                         compare each output with an expected .npy: DIR holds\n"  \
    "                         expected_<i>.npy per output i (as tests/fixtures/*;\n"    \
    "                         expected_<i>.call<k>.npy for call group k and\n"          \
    "                         expected_<i>.<method>.npy are preferred when present),\n"\
    "                         or one file per output (with --call groups: one per\n"  \
    "                         output of every group in order, or one per output for\n"\
    "                         all groups). Prints per output the max abs and\n"        \
    "                         max relative error and PASS / FAIL; exit status 3 when\n" \
    "                         any output fails. An element passes, as in\n"            \
    "                         numpy.allclose, when |out - expected| <= atol + rtol *\n" \
    "                         |expected|; NaN equals NaN only, an infinity itself\n"   \
    "                         only; every dtype is compared as double. The relative\n" \
    "                         error skips elements whose expected value is 0\n"        \
    "  --rtol R               relative tolerance (default 1e-05, numpy's)\n"           \
    "  --atol A               absolute tolerance (default 1e-08, numpy's)\n"           \
    "  --output-names         name the files in --output-dir after the model's\n"      \
    "                         output names (DIR/<name>.npy; characters other than\n"   \
    "                         A-Z a-z 0-9 . _ - become _) instead of output_<i>.npy\n"  \
    "  --json                 print only a JSON summary on stdout: model, method,\n"   \
    "                         inputs, per call the inputs given, execute time and\n"   \
    "                         outputs (name, dtype, shape, file, comparison)\n"

void cli_run_extra_init(cli_run_extra *x);
void cli_run_extra_free(cli_run_extra *x);

/* Takes --compare V, --rtol V, --atol V, --output-names or --json at
 * argv[*i]: 1 when it did (advancing *i), 0 for another option, -1 after a
 * usage error. */
int cli_run_extra_option(int argc, char **argv, int *i, cli_run_extra *x);

/* Resolves the expected files for ngroups call groups of method (usage
 * error for a file count that does not fit, runtime error for a missing
 * file) and starts the JSON summary. method_name: --method, or NULL. */
int cli_run_extra_prepare(cli_run_extra *x, const char *model, const char *method_name,
                          const cli_model *m, size_t ngroups);

/* After execute number k (0-based) of ngroups: prints / saves the outputs
 * (into out_dir when not NULL), compares them, records the call; args are
 * the group's --input arguments. */
int cli_run_extra_after_call(cli_run_extra *x, const cml_method *method, const char *out_dir,
                             size_t k, const char *const *args, size_t nargs, double exec_ms);

/* Ends the run: prints the comparison verdict or the JSON summary. Returns
 * rc when it is not CLI_OK, else CLI_MISMATCH when an output failed its
 * comparison, else CLI_OK. */
int cli_run_extra_finish(cli_run_extra *x, int rc);

#endif
