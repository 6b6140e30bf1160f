/*
 * `cml run --profile / --trace FILE / --etdump FILE` (profile.c, etdump.c):
 * turns the library's profiling on (cml_method_profile_enable), copies the
 * events of every execute, then prints a per-op table, writes a Chrome trace
 * (Perfetto / chrome://tracing) and an ExecuTorch ETDump.
 */
#ifndef CML_TOOLS_PROFILE_H
#define CML_TOOLS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cml.h"

#define CLI_PROFILE_OPTIONS_HELP                                                        \
    "  --profile              time every instruction, delegate call and Core ML op\n"   \
    "                         and print a table (count, total, mean, share of the\n"    \
    "                         execute time), summed over all --call executions\n"       \
    "  --trace FILE.json      write the same events as a Chrome trace (open it in\n"    \
    "                         Perfetto or chrome://tracing)\n"                          \
    "  --etdump FILE.etdp     write them as an ExecuTorch ETDump, one run per\n"       \
    "                         execution, for the devtools Inspector\n"

typedef struct cli_prof_run {
    cml_profile_event *events;  /* copies; names point into the method */
    size_t n;
    uint64_t dropped;
} cli_prof_run;

typedef struct cli_profile {
    bool table;                 /* --profile */
    const char *trace_path;     /* --trace FILE */
    const char *etdump_path;    /* --etdump FILE */
    cli_prof_run *runs;         /* one per execute */
    size_t nruns, cap;
} cli_profile;

/* Takes --profile, --trace FILE or --etdump FILE at argv[*i] (advancing
 * *i): 1 when it did, 0 for another option, -1 after a usage error. */
int cli_profile_option(const char *cmd, int argc, char **argv, int *i, cli_profile *p);
bool cli_profile_wanted(const cli_profile *p);
/* Enables profiling on method when any of the options was given. */
int cli_profile_begin(const char *cmd, cli_profile *p, cml_method *method);
/* Copies the events of the execute that just ran. */
int cli_profile_collect(const char *cmd, cli_profile *p, const cml_method *method);
/* Prints the table and writes the files that were asked for. */
int cli_profile_finish(const char *cmd, const cli_profile *p);
void cli_profile_free(cli_profile *p);

/* The table (stdout) and the Chrome trace: profile.c. */
void cli_profile_print(FILE *f, const cli_profile *p);
int cli_profile_write_trace(const char *cmd, const cli_profile *p, const char *path);

/* ETDump (etdump.c): one RunData "Execute" per run, with the events the
 * ExecuTorch runtime would log: OPERATOR_CALL and native_call_<op> per
 * kernel call, DELEGATE_CALL, per Core ML op a delegate event keyed by its
 * debug symbol "<output>:<op type>", and Method::execute. The whole file
 * is returned in *out (malloc'd). */
int cli_etdump_build(const cli_profile *p, uint8_t **out, size_t *size);
int cli_profile_write_etdump(const char *cmd, const cli_profile *p, const char *path);

#endif
