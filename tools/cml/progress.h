/*
 * A one-line progress indicator on stderr, for long loops (`cml bench`):
 * shown only when stderr is a terminal (isatty), redrawn at most every
 * 100 ms, erased at the end, so piped or redirected output never sees it.
 */
#ifndef CML_TOOLS_PROGRESS_H
#define CML_TOOLS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cli_progress {
    bool on;        /* stderr is a terminal */
    bool drawn;     /* something is on the line */
    double last_ms; /* when it was last drawn */
    int width;      /* characters last drawn */
} cli_progress;

void cli_progress_start(cli_progress *p);
/* "cml bench: <phase> <done>/<total>"; done == total always draws. */
void cli_progress_update(cli_progress *p, const char *phase, int64_t done, int64_t total);
/* Erases the line. */
void cli_progress_end(cli_progress *p);

#endif
