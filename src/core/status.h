/* Error reporting shared by every layer: a status plus a message naming
 * where (file section, op, value) and why. */
#ifndef CML_CORE_STATUS_H
#define CML_CORE_STATUS_H

#include "cml.h"

#define CML_ERRMSG_SIZE 512

typedef struct cml_error {
    cml_status status;
    char msg[CML_ERRMSG_SIZE];
} cml_error;

#if defined(__GNUC__)
#define CML_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define CML_PRINTF(fmt_idx, arg_idx)
#endif

/* Records status and message in err (which may be NULL) and returns status,
 * so callers write `return cml_fail(err, CML_ERR_CORRUPT, "...", ...);`. */
cml_status cml_fail(cml_error *err, cml_status status, const char *fmt, ...)
    CML_PRINTF(3, 4);

/* Prepends "context: " to an existing message (used when an error crosses a
 * layer, e.g. "delegate 0 (CoreMLBackend): " + the backend's message). */
void cml_error_prefix(cml_error *err, const char *fmt, ...) CML_PRINTF(2, 3);
/* Prefixes "path: " unless the message already starts with path (so no
 * message names a file twice). */
void cml_error_prefix_path(cml_error *err, const char *path);

void cml_error_clear(cml_error *err);

#define CML_TRY(expr)                                                        \
    do {                                                                     \
        cml_status cml_try_status_ = (expr);                                 \
        if (cml_try_status_ != CML_OK) return cml_try_status_;               \
    } while (0)

#endif
