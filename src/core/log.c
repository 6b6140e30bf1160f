/* cml_log: formats into a stack buffer and calls the caller's callback. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

void cml_log(const cml_logger *lg, cml_log_level level, const char *fmt, ...) {
    if (!lg || !lg->fn) return;
    cml_log_level min = lg->min == CML_LOG_DEFAULT ? CML_LOG_WARNING : lg->min;
    if (level < min) return;
    char msg[CML_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lg->fn(lg->user, level, msg);
}
