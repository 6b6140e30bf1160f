/*
 * .pte reader robustness: every fixture model.pte parses (ET12, plans,
 * CoreMLBackend delegate iff case.json says "delegated": true), and
 * truncations and byte flips of fixtures and of built images give CML_OK or
 * a clean error, never a crash (run under ASan + UBSan in CI). Successful
 * parses are walked so that ASan checks every pointer the reader hands out.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pte/pte.h"
#include "pte_models.h"

/* ---- robustness -------------------------------------------------------- */

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static int g_parse_ok, g_parse_err;

/* Parses an exact-size, 16-aligned copy of the first n bytes. */
static void parse_copy(const uint8_t *src, size_t n) {
    uint8_t *c = NULL;
    if (posix_memalign((void **)&c, 16, n ? n : 1) != 0) return;
    memcpy(c, src, n);
    cml_pte_program p;
    cml_error e;
    cml_status st = parse(c, n, &p, &e);
    if (st == CML_OK) {
        g_parse_ok++;
        consume(&p);
    } else {
        g_parse_err++;
        CHECK_MSG(st == CML_ERR_CORRUPT || st == CML_ERR_UNSUPPORTED, "%s", e.msg);
        CHECK(e.msg[0] != '\0');
    }
    cml_pte_free(&p);
    free(c);
}

/* Flips bytes of an exact-size copy in place, parsing after each flip. */
static void flip_sweep(const uint8_t *src, size_t n, uint64_t region, int nflips) {
    uint8_t *c = NULL;
    if (n == 0 || posix_memalign((void **)&c, 16, n) != 0) return;
    memcpy(c, src, n);
    if (region == 0 || region > n) region = n;
    for (int i = 0; i < nflips; i++) {
        /* Most flips land in the flatbuffer, the rest anywhere. */
        size_t pos = (size_t)(rng_next() % (i % 4 == 3 ? n : region));
        uint8_t mask = (uint8_t)(rng_next() % 255 + 1);
        c[pos] ^= mask;
        cml_pte_program p;
        cml_error e;
        cml_status st = parse(c, n, &p, &e);
        if (st == CML_OK) {
            g_parse_ok++;
            consume(&p);
        } else {
            g_parse_err++;
            CHECK_MSG(st == CML_ERR_CORRUPT || st == CML_ERR_UNSUPPORTED, "%s", e.msg);
        }
        cml_pte_free(&p);
        c[pos] ^= mask;
    }
    free(c);
}

/* Exhaustive for small built images: every truncation, and every byte
 * xor'd with three masks. */
static void sweep_exhaustive(const uint8_t *d, size_t n) {
    for (size_t len = 0; len < n; len++)
        parse_copy(d, len);
    uint8_t *c = NULL;
    if (posix_memalign((void **)&c, 16, n) != 0) return;
    memcpy(c, d, n);
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    for (size_t pos = 0; pos < n; pos++)
        for (size_t k = 0; k < sizeof masks; k++) {
            c[pos] ^= masks[k];
            cml_pte_program p;
            cml_error e;
            cml_status st = parse(c, n, &p, &e);
            if (st == CML_OK) consume(&p);
            CHECK(st == CML_OK || st == CML_ERR_CORRUPT || st == CML_ERR_UNSUPPORTED);
            cml_pte_free(&p);
            c[pos] ^= masks[k];
        }
    free(c);
}

static void test_robustness_built(void) {
    add_model m;
    for (uint32_t h = 0; h <= 32; h += 8) {
        if (h == 8 || h == 16) continue;
        build_add_model(&m, h);
        size_t n = 0;
        uint8_t *d = finish_add_model(&m, &n);
        if (d) sweep_exhaustive(d, n);
        free(d);
        pb_free(m.b);
    }
    rich_model r;
    build_rich_model(&r, 32);
    size_t n = 0;
    uint8_t *d = pb_finish(r.b, r.root, &n);
    CHECK(d != NULL);
    if (d) sweep_exhaustive(d, n);
    free(d);
    pb_free(r.b);
}

/* ---- fixtures ----------------------------------------------------------- */

static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        posix_memalign((void **)&buf, 16, (size_t)n + 1) == 0) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = 0;
            *size = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_fixtures(void) {
    DIR *dir = opendir(CML_FIXTURE_DIR);
    if (!dir) {
        printf("no fixture directory; skipping fixture tests\n");
        return;
    }
    char *names[512];
    int count = 0;
    struct dirent *ent;
    while ((ent = readdir(dir)) && count < 512)
        if (ent->d_name[0] != '.') names[count++] = strdup(ent->d_name);
    closedir(dir);
    qsort(names, (size_t)count, sizeof names[0], cmp_str);
    int parsed = 0;
    for (int i = 0; i < count; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/model.pte", CML_FIXTURE_DIR, names[i]);
        size_t n = 0;
        uint8_t *d = read_file(path, &n);
        if (!d) continue;
        snprintf(path, sizeof path, "%s/%s/case.json", CML_FIXTURE_DIR, names[i]);
        size_t jn = 0;
        char *json = (char *)read_file(path, &jn);
        bool delegated = json && strstr(json, "\"delegated\": true") != NULL;

        CHECK_MSG(n >= 8 && memcmp(d + 4, "ET12", 4) == 0, "%s: no ET12", names[i]);
        cml_pte_program p;
        cml_error e;
        cml_status st = parse(d, n, &p, &e);
        CHECK_MSG(st == CML_OK, "%s: %s", names[i], e.msg);
        uint64_t region = n;
        if (st == CML_OK) {
            parsed++;
            region = p.program_size;
            CHECK_MSG(p.nplans >= 1, "%s: no plans", names[i]);
            CHECK_MSG(cml_pte_find_plan(&p, "forward") != NULL || p.nplans > 0, "%s", names[i]);
            int coreml = 0;
            for (uint32_t k = 0; k < p.nplans; k++) {
                CHECK_MSG(p.plans[k].nchains >= 1, "%s: plan %u has no chain", names[i], k);
                for (uint32_t j = 0; j < p.plans[k].ndelegates; j++)
                    if (str_eq(p.plans[k].delegates[j].id, "CoreMLBackend")) {
                        coreml++;
                        CHECK_MSG(p.plans[k].delegates[j].size > 0, "%s: empty delegate", names[i]);
                    }
            }
            CHECK_MSG(delegated == (coreml > 0), "%s: delegated=%d but %d CoreMLBackend delegates",
                      names[i], delegated, coreml);
            consume(&p);
        }
        cml_pte_free(&p);

        /* Robustness: 64 evenly spaced truncations, 256 byte flips. */
        for (int t = 0; t < 64; t++)
            parse_copy(d, (size_t)((uint64_t)n * (uint64_t)t / 64));
        flip_sweep(d, n, region, 256);
        free(json);
        free(d);
    }
    printf("fixtures: %d model.pte parsed\n", parsed);
    for (int i = 0; i < count; i++)
        free(names[i]);
}

int main(void) {
    test_robustness_built();
    test_fixtures();
    printf("robustness: %d parses ok, %d rejected\n", g_parse_ok, g_parse_err);
    TEST_MAIN_END();
}
