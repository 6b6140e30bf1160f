/* The CLI's log channel: library messages on stderr as "cml: ...", at the
 * level --quiet / --verbose choose (default: warnings and errors). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static cml_log_level g_level = CML_LOG_WARNING;

static void log_stderr(void *user, cml_log_level level, const char *message) {
    (void)user;
    fprintf(stderr, "cml: %s%s\n", level >= CML_LOG_ERROR ? "error: " : level == CML_LOG_WARNING ? "warning: " : "", message);
}

int cli_take_log_options(int argc, char **argv) {
    int out = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) g_level = CML_LOG_ERROR;
        else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) g_level = CML_LOG_DEBUG;
        else argv[out++] = argv[i];
    }
    return out;
}

const cml_program_params *cli_program_params(void) {
    static cml_program_params params;
    memset(&params, 0, sizeof params);
    params.struct_size = sizeof params;
    params.log = log_stderr;
    params.log_level = g_level;
    return &params;
}
