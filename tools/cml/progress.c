/* A progress line on stderr, only on a terminal. */
#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "cli.h"

#define CLI_PROGRESS_MS 100.0

void cli_progress_start(cli_progress *p) {
    *p = (cli_progress){.on = isatty(STDERR_FILENO) == 1, .last_ms = cli_now_ms()};
}

void cli_progress_update(cli_progress *p, const char *phase, int64_t done, int64_t total) {
    if (!p->on) return;
    double now = cli_now_ms();
    if (p->drawn && done != total && now - p->last_ms < CLI_PROGRESS_MS) return;
    int w = fprintf(stderr, "\rcml bench: %s %lld/%lld", phase, (long long)done, (long long)total);
    if (w > 0 && w < p->width) fprintf(stderr, "%*s", p->width - w, ""); /* erase a longer line */
    fflush(stderr);
    p->width = w > 0 ? w : p->width;
    p->drawn = true;
    p->last_ms = now;
}

void cli_progress_end(cli_progress *p) {
    if (!p->on || !p->drawn) return;
    fprintf(stderr, "\r%*s\r", p->width, "");
    fflush(stderr);
    p->drawn = false;
}
