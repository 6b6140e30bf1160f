/* Starting the cml CLI from a test: run `cml ARGS` through the shell in a
 * directory, capture stdout and stderr into cli_out / cli_err, return the
 * exit status. Header-only, shared by the tests/unit/test_cli_*.c files. */
#ifndef CML_TEST_CLI_UTIL_H
#define CML_TEST_CLI_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char cli_out[65536], cli_err[65536];

/* The whole file (at most size - 1 bytes) into buf; "" when unreadable. */
static inline void cli_slurp(const char *path, char *buf, size_t size) {
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) return;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs `cml ARGS` with dir as the working directory (stdin /dev/null);
 * the exit status, -1 when it did not exit normally. */
static inline int cli_run_in(const char *dir, const char *args) {
    char cmd[8192], path[1200];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >'%s/.cli_out' 2>'%s/.cli_err' </dev/null", dir,
             CML_CLI_PATH, args, dir, dir);
    int rc = system(cmd);
    snprintf(path, sizeof path, "%s/.cli_out", dir);
    cli_slurp(path, cli_out, sizeof cli_out);
    snprintf(path, sizeof path, "%s/.cli_err", dir);
    cli_slurp(path, cli_err, sizeof cli_err);
    return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Removes a test's temporary directory. */
static inline void cli_rmtree(const char *dir) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

#endif
