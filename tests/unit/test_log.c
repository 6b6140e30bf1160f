/* Logging: the library writes nothing to stderr by itself; its messages go
 * to the caller's callback at or above the chosen level (default: warnings),
 * e.g. the "GPU/Neural Engine requested, running on CPU" notice (INFO) that a
 * Core ML delegate with compute_units=all gives at method creation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cml.h"
#include "harness.h"

typedef struct seen {
    int calls;
    cml_log_level level;
    char last[512];
} seen;

static void on_log(void *user, cml_log_level level, const char *message) {
    seen *s = user;
    s->calls++;
    s->level = level;
    snprintf(s->last, sizeof s->last, "%s", message);
}

static int create_with(cml_log_fn fn, seen *s, cml_log_level level) {
    cml_program_params pp = {.struct_size = sizeof pp, .log = fn, .log_user = s, .log_level = level};
    cml_program *prog = NULL;
    char err[256];
    if (cml_program_open_file(CML_FIXTURE_DIR "/mlp/model.pte", &pp, &prog, err, sizeof err) != CML_OK)
        return -1;
    cml_method *m = NULL;
    cml_status st = cml_method_create(prog, NULL, NULL, &m);
    cml_method_destroy(m);
    cml_program_close(prog);
    return st == CML_OK ? 0 : -1;
}

int main(void) {
    seen s = {0};
    CHECK(create_with(on_log, &s, CML_LOG_INFO) == 0);
    CHECK(s.calls == 1 && s.level == CML_LOG_INFO);
    CHECK_MSG(strcmp(s.last, "CoreMLBackend: compute_units=all requested; running on CPU (no "
                             "GPU/Neural Engine backend here)") == 0, "%s", s.last);
    memset(&s, 0, sizeof s);
    CHECK(create_with(on_log, &s, CML_LOG_DEFAULT) == 0); /* default: warnings and up */
    CHECK(s.calls == 0);
    /* No callback: nothing reaches stderr. */
    char path[] = "/tmp/cml_log_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    CHECK(create_with(NULL, NULL, CML_LOG_DEBUG) == 0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);
    CHECK_MSG(size == 0, "the library wrote %lld bytes to stderr", (long long)size);
    TEST_MAIN_END();
}
