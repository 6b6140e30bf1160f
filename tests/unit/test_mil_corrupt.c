/* Damaged ML Programs must fail cleanly (a status and a message), never
 * crash: the packages inside a few fixtures are extracted, then their
 * model.mlmodel (and weight.bin) get byte flips and truncations, and each
 * variant is opened, loaded and run on zero inputs. Meant for ASan/UBSan. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coreml/extract.h"
#include "exec/internal.h"
#include "fixture_util.h"
#include "harness.h"

static char g_tmp[256];
static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void) {
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(g_rng >> 33);
}

static int write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int rc = fwrite(data, 1, n, f) == n ? 0 : -1;
    fclose(f);
    return rc;
}

/* Opens, loads and runs once; returns 1 when everything succeeded. */
static int try_package(const char *dir, int *clean) {
    char errbuf[512] = "";
    cml_program *p = NULL;
    *clean = 1;
    if (cml_program_open_file(dir, NULL, &p, errbuf, sizeof errbuf) != CML_OK) {
        *clean = errbuf[0] != 0;
        return 0;
    }
    cml_method *m = NULL;
    if (cml_method_create(p, NULL, NULL, &m) != CML_OK) {
        *clean = cml_program_errmsg(p)[0] != 0;
        cml_program_close(p);
        return 0;
    }
    int ok = 1;
    static uint8_t zeros[1 << 20];
    for (size_t i = 0; i < cml_method_input_count(m) && ok; i++) {
        cml_io_info info;
        if (cml_method_input_info(m, i, &info) != CML_OK) { ok = 0; break; }
        size_t n = cml_dtype_size(info.dtype);
        for (int32_t d = 0; d < info.rank; d++) n *= (size_t)info.sizes[d];
        if (n > sizeof zeros) { ok = 0; break; }
        cml_tensor_view v = {info.dtype, info.rank, info.sizes, zeros, n};
        ok = cml_method_set_input(m, i, &v) == CML_OK;
    }
    if (ok && cml_method_execute(m) != CML_OK) {
        *clean = cml_method_errmsg(m)[0] != 0;
        ok = 0;
    }
    cml_method_destroy(m);
    cml_program_close(p);
    return ok;
}

static void damage(const char *case_name, int iterations) {
    char src[1024], dir[512], errbuf[512];
    snprintf(src, sizeof src, "%s/%s/model.pte", CML_FIXTURE_DIR, case_name);
    snprintf(dir, sizeof dir, "%s/%s", g_tmp, case_name);
    cml_program *p = NULL;
    if (cml_program_open_file(src, NULL, &p, errbuf, sizeof errbuf) != CML_OK) {
        printf("SKIP %s: %s\n", case_name, errbuf);
        return;
    }
    cml_error err = {0};
    cml_status st = cml_coreml_extract(&p->pte, dir, NULL, &err);
    cml_program_close(p);
    CHECK_MSG(st == CML_OK, "%s", err.msg);
    if (st != CML_OK) return;
    char pkg[1024], model[1200], weights[1200];
    snprintf(pkg, sizeof pkg, "%s/model_1/lowered_module/model.mlpackage", dir);
    snprintf(model, sizeof model, "%s/Data/com.apple.CoreML/model.mlmodel", pkg);
    snprintf(weights, sizeof weights, "%s/Data/com.apple.CoreML/weights/weight.bin", pkg);
    size_t msize = 0, wsize = 0;
    uint8_t *orig = (uint8_t *)fx_read_file(model, &msize);
    uint8_t *worig = (uint8_t *)fx_read_file(weights, &wsize);
    int clean = 1;
    CHECK_MSG(orig && try_package(pkg, &clean), "%s: the intact package must run", case_name);
    uint8_t *buf = malloc(msize + 1);
    int failures = 0, unclean = 0;
    for (int it = 0; orig && buf && it < iterations; it++) {
        memcpy(buf, orig, msize);
        size_t n = msize;
        if (it % 5 == 4) {
            n = rnd() % msize;
        } else {
            int flips = 1 + (int)(rnd() % 4);
            for (int k = 0; k < flips; k++) buf[rnd() % msize] ^= (uint8_t)(1u << (rnd() % 8));
        }
        write_file(model, buf, n);
        failures += !try_package(pkg, &clean);
        unclean += !clean;
    }
    if (orig) write_file(model, orig, msize);
    for (int it = 0; worig && wsize > 64 && it < iterations / 4; it++) {
        uint8_t *wb = malloc(wsize);
        memcpy(wb, worig, wsize);
        size_t n = wsize;
        if (it % 3 == 2) n = rnd() % wsize;
        else wb[rnd() % wsize] ^= (uint8_t)(1u << (rnd() % 8));
        write_file(weights, wb, n);
        failures += !try_package(pkg, &clean);
        unclean += !clean;
        free(wb);
    }
    printf("%s: %d damaged variants rejected cleanly\n", case_name, failures);
    CHECK_MSG(unclean == 0, "%s: %d failures without a message", case_name, unclean);
    free(buf);
    free(orig);
    free(worig);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/cml_mil_corrupt_XXXXXX");
    if (!mkdtemp(g_tmp)) return 1;
    static const char *cases[] = {"add_mul_fp16", "stateful_states", "dynamic_shapes",
                                  "enumerated_shapes", "transformer_fp16", "embedding_int64"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) damage(cases[i], getenv("CML_CORRUPT_ITERS") ? atoi(getenv("CML_CORRUPT_ITERS")) : 120);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", g_tmp);
    TEST_MAIN_END();
}
