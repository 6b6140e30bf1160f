/* Output file names from model output names (`cml run --output-names`). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define CLI_NAME_MAX 120 /* characters kept from a name */

static bool safe_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

const char *cli_safe_file_name(const char *name, size_t index, char *buf, size_t size) {
    size_t n = 0;
    bool any = false;
    for (const char *p = name ? name : ""; *p && n < CLI_NAME_MAX && n + 1 < size; p++) {
        char c = safe_char(*p) ? *p : '_';
        if (n == 0 && c == '.') c = '_'; /* no hidden files, no "." or ".." */
        buf[n++] = c;
        any |= c != '_';
    }
    buf[n] = '\0';
    if (!any) snprintf(buf, size, "output_%zu", index);
    return buf;
}
