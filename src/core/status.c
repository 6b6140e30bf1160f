#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *cml_status_name(cml_status status) {
    switch (status) {
#define CML_X_CASE(name, text) case name: return text;
        CML_STATUS_MAP(CML_X_CASE)
#undef CML_X_CASE
    }
    return "unknown status";
}

cml_status cml_fail(cml_error *err, cml_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void cml_error_prefix(cml_error *err, const char *fmt, ...) {
    if (!err) return;
    char prefix[CML_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Join by hand: the result is truncated to the message size on purpose. */
    char joined[CML_ERRMSG_SIZE];
    size_t plen = strnlen(prefix, sizeof joined - 1);
    size_t mlen = strnlen(err->msg, sizeof joined - 1 - plen);
    memcpy(joined, prefix, plen);
    memcpy(joined + plen, err->msg, mlen);
    joined[plen + mlen] = '\0';
    memcpy(err->msg, joined, sizeof joined);
}

void cml_error_clear(cml_error *err) {
    if (!err) return;
    err->status = CML_OK;
    err->msg[0] = '\0';
}

void cml_error_prefix_path(cml_error *err, const char *path) {
    if (!err || !path) return;
    size_t n = strlen(path);
    if (strncmp(err->msg, path, n) == 0) return; /* the message names it already */
    cml_error_prefix(err, "%.300s: ", path);
}
