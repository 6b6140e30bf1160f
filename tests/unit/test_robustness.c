/* Every fixture survives damage: truncation at 64 evenly spaced offsets and
 * 256 single-byte corruptions (fixed seed) must each give a clean error or a
 * completed run through the public API (open, method create, execute) —
 * never a crash, hang or sanitizer report. Runs under ASan+UBSan in CI. */
#include <stdlib.h>
#include <string.h>

#include "fixture_util.h"
#include "harness.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static int g_loaded, g_ran, g_rejected;

/* Loads and, when that works, runs once with zero inputs (at each input's
 * default shape). */
static void try_image(const uint8_t *bytes, size_t size) {
    cml_program *prog = NULL;
    char err[512];
    if (cml_program_open_memory(bytes, size, NULL, &prog, err, sizeof err) != CML_OK) {
        CHECK(strlen(err) > 0);
        g_rejected++;
        return;
    }
    cml_method_params params = {.struct_size = sizeof params, .num_threads = 1};
    for (size_t mi = 0; mi < cml_program_method_count(prog); mi++) {
        cml_method *m = NULL;
        if (cml_method_create(prog, cml_program_method_name(prog, mi), &params, &m) != CML_OK) {
            CHECK(strlen(cml_program_errmsg(prog)) > 0);
            g_rejected++;
            continue;
        }
        g_loaded++;
        int inputs_ok = 1;
        for (size_t i = 0; i < cml_method_input_count(m); i++) {
            cml_io_info info;
            cml_io_shape shape = {.struct_size = sizeof shape};
            if (cml_method_input_info(m, i, &info) != CML_OK ||
                cml_method_input_shape(m, i, &shape) != CML_OK) { inputs_ok = 0; break; }
            /* a flexible input runs at its default shape, not its bound */
            if (info.is_tensor && shape.rank == info.rank) info.sizes = shape.default_sizes;
            size_t n = 1;
            for (int32_t d = 0; d < info.rank; d++) n *= (size_t)info.sizes[d];
            size_t bytes_needed = n * cml_dtype_size(info.dtype);
            if (bytes_needed > (64u << 20)) { inputs_ok = 0; break; }
            void *buf = calloc(1, bytes_needed ? bytes_needed : 1);
            cml_tensor_view v = {info.dtype, info.rank, info.sizes, buf, bytes_needed};
            if (cml_method_set_input(m, i, &v) != CML_OK) inputs_ok = 0;
            free(buf);
        }
        if (inputs_ok && cml_method_execute(m) == CML_OK) g_ran++;
        cml_method_destroy(m);
    }
    cml_program_close(prog);
}

static void damage_case(const fixture_case *c) {
    char path[1400];
    snprintf(path, sizeof path, "%s/model.pte", c->dir);
    size_t size = 0;
    uint8_t *orig = (uint8_t *)fx_read_file(path, &size);
    if (!orig) return;
    uint8_t *copy = malloc(size ? size : 1);
    for (int i = 0; i < 64; i++) {
        size_t cut = size * (size_t)i / 64;
        memcpy(copy, orig, cut);
        try_image(copy, cut);
    }
    for (int i = 0; i < 256 && size; i++) {
        memcpy(copy, orig, size);
        size_t at = next_rand() % size;
        copy[at] ^= (uint8_t)(1u + next_rand() % 255u);
        try_image(copy, size);
    }
    free(copy);
    free(orig);
}

/* No arguments: every case; else only the cases named. */
static int selected(int argc, char **argv, const char *name) {
    for (int a = 1; a < argc; a++)
        if (strcmp(argv[a], name) == 0) return 1;
    return argc <= 1;
}

int main(int argc, char **argv) {
    fixture_case *cases;
    int n = fx_list_cases(&cases), done = 0;
    for (int i = 0; i < n; i++) {
        if (!cases[i].json || !fx_runnable(&cases[i])) continue;
        if (!selected(argc, argv, cases[i].name)) continue;
        damage_case(&cases[i]);
        done++;
    }
    printf("%d cases damaged: %d loads rejected, %d methods loaded, %d runs completed\n", done,
           g_rejected, g_loaded, g_ran);
    CHECK(done > 0);
    fx_free_cases(cases, n);
    TEST_MAIN_END();
}
