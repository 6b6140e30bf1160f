/* The library's log channel: messages go to the caller's callback
 * (cml_program_params.log) at or above its threshold, and nowhere else. */
#ifndef CML_CORE_LOG_H
#define CML_CORE_LOG_H

#include "cml.h"
#include "core/status.h"

typedef struct cml_logger {
    cml_log_fn fn;       /* NULL: drop everything */
    void *user;
    cml_log_level min;   /* DEFAULT means WARNING */
} cml_logger;

/* Formats and delivers one message when lg has a callback and level is at
 * or above its threshold. lg may be NULL. */
void cml_log(const cml_logger *lg, cml_log_level level, const char *fmt, ...) CML_PRINTF(3, 4);

#endif
