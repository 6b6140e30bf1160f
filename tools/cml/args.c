/* Command-line parsing helpers and error printing shared by the subcommands. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void vprint(const char *cmd, const char *fmt, va_list ap) {
    fprintf(stderr, "cml %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprint(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'cml %s --help'.\n", cmd);
    return CLI_ERR_USAGE;
}

int cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprint(cmd, fmt, ap);
    va_end(ap);
    return CLI_ERR_RUNTIME;
}

bool cli_is_help(const char *arg) {
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                  const char *short_name, const char **value) {
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) == 0 && arg[n] == '=') {
        *value = arg + n + 1;
        (*i)++;
        return 1;
    }
    if (strcmp(arg, name) != 0 && !(short_name && strcmp(arg, short_name) == 0)) return 0;
    if (*i + 1 >= argc) {
        cli_usage_error(cmd, "option %s needs a value", arg);
        return -1;
    }
    *value = argv[*i + 1];
    *i += 2;
    return 1;
}

int cli_parse_i64(const char *cmd, const char *opt, const char *s, int64_t min, int64_t max,
                  int64_t *out) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        cli_usage_error(cmd, "%s expects an integer in [%lld, %lld], got '%s'", opt,
                        (long long)min, (long long)max, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_compute_units(const char *cmd, const char *s, cml_compute_units *out) {
    static const struct { const char *name; cml_compute_units cu; } units[] = {
        {"all", CML_COMPUTE_ALL},
        {"cpu_only", CML_COMPUTE_CPU_ONLY},
        {"cpu_and_gpu", CML_COMPUTE_CPU_AND_GPU},
        {"cpu_and_ne", CML_COMPUTE_CPU_AND_NE},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(s, units[i].name) == 0) {
            *out = units[i].cu;
            return 0;
        }
    }
    cli_usage_error(cmd, "--compute-units must be all, cpu_only, cpu_and_gpu or cpu_and_ne, got '%s'",
                    s);
    return -1;
}
