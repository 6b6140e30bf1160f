/* cml command-line tool: dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} cli_command;

static const cli_command commands[] = {
    {"run", cli_run, "run a method on .npy inputs (or random ones), print and save outputs"},
    {"inspect", cli_inspect, "show methods, inputs/outputs, operators, delegates, segments"},
    {"bench", cli_bench, "measure load time, latency (median/p90/min) and peak RSS"},
    {"extract", cli_extract, "write the Core ML payloads of a .pte as .mlpackage directories"},
    {"lower", cli_lower, "convert a portable .pte into a Core ML-delegated one"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_help(FILE *f) {
    fprintf(f, "usage: cml <command> [options]\n"
               "       cml <command> --help\n"
               "       cml --version\n"
               "       (any command: --quiet / -q shows only errors, --verbose / -v every\n"
               "        library message; the default shows warnings and errors)\n"
               "\n"
               "Runs ExecuTorch programs (.pte, including Core ML delegates) and Core ML\n"
               "ML Programs (.mlpackage directories) on the CPU.\n"
               "\n"
               "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexit status: 0 ok, 1 runtime error, 2 usage error (including inputs that do\n"
               "not fit the method), 3 `run --compare` found a mismatch\n");
}

int main(int argc, char **argv) {
    argc = cli_take_log_options(argc, argv);
    if (argc < 2) {
        print_help(stderr);
        return CLI_ERR_USAGE;
    }
    const char *cmd = argv[1];
    if (cli_is_help(cmd) || strcmp(cmd, "help") == 0) {
        print_help(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "version") == 0) {
        printf("cml %d.%d.%d\n", CML_VERSION_MAJOR, CML_VERSION_MINOR, CML_VERSION_PATCH);
        return CLI_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "cml: unknown command '%s'\nTry 'cml --help'.\n", cmd);
    return CLI_ERR_USAGE;
}
