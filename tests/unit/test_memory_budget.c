/* Resource claims are bounded before anything is allocated: a tiny .pte
 * whose planned tensors claim 2 GiB or 16 GiB is refused at method creation
 * by the default budget (max(512 MiB, 64 x file size)), quickly and without
 * touching the memory; an explicit cml_program_params.memory_budget admits
 * or refuses a claim either way; CML_PROGRAM_READ_FILE loads a copy; empty
 * programs get a clear message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cml.h"
#include "harness.h"
#include "pte_models.h"

/* The AddModel with its two planned tensors resized to [rows, 65536] fp32,
 * both at offset 0 of arena 1 (declared rows * 256 KiB bytes). */
static uint8_t *claim_model(int32_t rows, size_t *n) {
    add_model m;
    build_add_model(&m, 32);
    const int32_t sizes[2] = {rows, 65536};
    const uint8_t order[2] = {0, 1};
    for (int i = 1; i <= 2; i++) {
        pb_ref(m.tensor[i], 2, pb_vec_i32(m.b, 2, sizes));
        pb_ref(m.tensor[i], 3, pb_vec_u8(m.b, 2, order));
        pb_u32(m.alloc[i], 1, 0);
    }
    pb_ref(m.plan, 8, pb_vec_i64(m.b, 2, (const int64_t[]){0, (int64_t)rows * 65536 * 4}));
    uint8_t *d = pb_finish(m.b, m.root, n);
    pb_free(m.b);
    return d;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long max_rss_kib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Creates the method of a claim model under budget (0 = default); returns
 * the status and copies the message. */
static cml_status create(const uint8_t *d, size_t n, uint64_t budget, char *msg, size_t size) {
    cml_program_params pp = {.struct_size = sizeof pp, .memory_budget = budget};
    cml_program *prog = NULL;
    cml_status st = cml_program_open_memory(d, n, &pp, &prog, msg, size);
    if (st != CML_OK) return st;
    cml_method *m = NULL;
    st = cml_method_create(prog, NULL, NULL, &m);
    snprintf(msg, size, "%s", st == CML_OK ? "" : cml_program_errmsg(prog));
    cml_method_destroy(m);
    cml_program_close(prog);
    return st;
}

static void test_default_budget(void) {
    const int32_t rows[2] = {8192, 65536}; /* 2 GiB and 16 GiB tensors */
    const char *want[2] = {"planned memory of 2.0 GiB exceeds the memory budget of 512.0 MiB",
                           "planned memory of 16.0 GiB exceeds the memory budget of 512.0 MiB"};
    for (int i = 0; i < 2; i++) {
        size_t n = 0;
        uint8_t *d = claim_model(rows[i], &n);
        CHECK(d != NULL && n < 4096);
        char msg[512] = "";
        long rss0 = max_rss_kib();
        double t0 = now_s();
        cml_status st = create(d, n, 0, msg, sizeof msg);
        double dt = now_s() - t0;
        CHECK_MSG(st == CML_ERR_UNSUPPORTED, "status %d: %s", (int)st, msg);
        CHECK_MSG(strstr(msg, want[i]) && strstr(msg, "the largest claim is planned arena 1"),
                  "%s", msg);
        CHECK_MSG(dt < 1.0, "refusal took %.2f s", dt);
        CHECK_MSG(max_rss_kib() - rss0 < 100 * 1024, "peak RSS grew by %ld KiB",
                  max_rss_kib() - rss0);
        free(d);
    }
}

static void test_explicit_budget(void) {
    size_t n = 0;
    uint8_t *d = claim_model(16, &n); /* 4 MiB */
    char msg[512] = "";
    CHECK_MSG(create(d, n, 0, msg, sizeof msg) == CML_OK, "%s", msg);
    CHECK_MSG(create(d, n, (uint64_t)8 << 20, msg, sizeof msg) == CML_OK, "%s", msg);
    CHECK(create(d, n, (uint64_t)1 << 20, msg, sizeof msg) == CML_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(msg, "planned memory of 4.0 MiB exceeds the memory budget of 1.0 MiB") &&
                  strstr(msg, "cml_program_params.memory_budget"),
              "%s", msg);
    free(d);
}

/* A caller built against the first header (no budget field) gets defaults. */
static void test_old_struct_size(void) {
    size_t n = 0;
    uint8_t *d = claim_model(16, &n);
    cml_program_params pp = {.struct_size = (uint32_t)(sizeof(uint32_t) + sizeof(void *)),
                             .memory_budget = 1};
    cml_program *prog = NULL;
    char msg[256];
    CHECK(cml_program_open_memory(d, n, &pp, &prog, msg, sizeof msg) == CML_OK);
    cml_method *m = NULL;
    CHECK_MSG(prog && cml_method_create(prog, NULL, NULL, &m) == CML_OK, "%s",
              prog ? cml_program_errmsg(prog) : msg);
    cml_method_destroy(m);
    cml_program_close(prog);
    free(d);
}

static void test_read_file_and_empty(void) {
    size_t n = 0;
    uint8_t *d = claim_model(16, &n);
    char path[] = "/tmp/cml_budget_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, d, n) == (ssize_t)n);
    close(fd);
    cml_program_params pp = {.struct_size = sizeof pp, .flags = CML_PROGRAM_READ_FILE};
    cml_program *prog = NULL;
    char msg[512] = "";
    CHECK_MSG(cml_program_open_file(path, &pp, &prog, msg, sizeof msg) == CML_OK, "%s", msg);
    /* The program holds its own copy: the file may change underneath. */
    CHECK(truncate(path, 0) == 0);
    cml_method *m = NULL;
    CHECK(prog && cml_method_create(prog, NULL, NULL, &m) == CML_OK);
    cml_method_destroy(m);
    cml_program_close(prog);
    /* Empty: mapped and read alike, with the path once. */
    for (int k = 0; k < 2; k++) {
        pp.flags = k ? CML_PROGRAM_READ_FILE : 0;
        prog = NULL;
        CHECK(cml_program_open_file(path, &pp, &prog, msg, sizeof msg) == CML_ERR_CORRUPT);
        char want[128];
        snprintf(want, sizeof want, "%s: the file is empty", path);
        CHECK_MSG(strcmp(msg, want) == 0, "%s", msg);
    }
    CHECK(cml_program_open_memory("", 0, NULL, &prog, msg, sizeof msg) == CML_ERR_CORRUPT);
    CHECK_MSG(strcmp(msg, "the program is empty (0 bytes)") == 0, "%s", msg);
    /* A missing file names its path once. */
    unlink(path);
    CHECK(cml_program_open_file(path, NULL, &prog, msg, sizeof msg) == CML_ERR_IO);
    char want[128];
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    CHECK_MSG(strcmp(msg, want) == 0, "%s", msg);
    free(d);
}

int main(void) {
    test_default_budget();
    test_explicit_budget();
    test_old_struct_size();
    test_read_file_and_empty();
    TEST_MAIN_END();
}
