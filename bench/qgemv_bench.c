/* Quantized GEMV micro-benchmark (issue 9, LLM decode): a STREAM-style triad
 * for the machine's DRAM bandwidth, then cml_k_qgemv_f32 over the weights of
 * one decode step of bench/make_llm.py's model (12 x [qkv 2304x768, proj
 * 768x768, fc1 3072x768, fc2 768x3072] + lm_head 32000x768, int4, group 32,
 * fp16 rounding), per ISA level and thread count; prints ms per step and
 * the fraction of the triad bandwidth the int4 + fp16-scale bytes reach.
 * Not part of the build or the tests. Build from the repo root:
 *
 *   cmake --build build --target cml
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc bench/qgemv_bench.c \
 *       build/libcml.a -lm -lpthread -o build/qgemv_bench
 *   build/qgemv_bench [max_threads]
 *
 * Each figure is the best of several runs (the machine is shared). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cpu.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Best GB/s of a[i] = b[i] + s * c[i] over 64 MiB arrays (3 x 64 MiB moved,
 * as STREAM counts it; write-allocate traffic not counted). */
static double triad_gbs(int reps) {
    size_t n = (size_t)16 << 20;
    float *a = malloc(n * 4), *b = malloc(n * 4), *c = malloc(n * 4);
    for (size_t i = 0; i < n; i++) a[i] = 0.0f, b[i] = (float)i, c[i] = 1.0f;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        for (size_t i = 0; i < n; i++) a[i] = b[i] + 3.0f * c[i];
        double t = now_s() - t0;
        if (t < best) best = t;
    }
    volatile float sink = a[n / 2];
    (void)sink;
    free(a), free(b), free(c);
    return 3.0 * (double)n * 4.0 / best / 1e9;
}

typedef struct mat {
    size_t n, k;
    uint8_t *q;
    float *scale, *bias, *y;
} mat;

static void mat_init(mat *m, size_t n, size_t k, unsigned *s) {
    m->n = n, m->k = k;
    m->q = malloc(n * k / 2);
    m->scale = malloc(n * k / 32 * sizeof(float));
    m->bias = malloc(n * sizeof(float));
    m->y = malloc(n * sizeof(float));
    for (size_t i = 0; i < n * k / 2; i++) *s = *s * 1103515245u + 12345u, m->q[i] = (uint8_t)(*s >> 16);
    for (size_t i = 0; i < n * k / 32; i++) m->scale[i] = 0.01f + (float)(i % 7) * 0.001f;
    for (size_t i = 0; i < n; i++) m->bias[i] = 0.0f;
}

int main(int argc, char **argv) {
    int max_threads = argc > 1 ? atoi(argv[1]) : 2;
    double gbs = triad_gbs(10);
    printf("triad: %.2f GB/s (best of 10, 1 thread)\n", gbs);
    static const size_t shapes[5][2] = {{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}, {32000, 768}};
    mat mats[12 * 4 + 1];
    unsigned s = 1;
    size_t nm = 0, bytes = 0;
    for (int l = 0; l < 12; l++)
        for (int j = 0; j < 4; j++) mat_init(&mats[nm++], shapes[j][0], shapes[j][1], &s);
    mat_init(&mats[nm++], shapes[4][0], shapes[4][1], &s);
    for (size_t i = 0; i < nm; i++) bytes += mats[i].n * mats[i].k / 2 + mats[i].n * mats[i].k / 32 * 2;
    float x[3072];
    for (int i = 0; i < 3072; i++) x[i] = (float)(i % 13) * 0.1f - 0.6f;
    for (int lvl = 0; lvl <= (int)cml_cpu_max_isa_level(); lvl++) {
        cml_cpu_override_for_testing(lvl);
        for (int t = 1; t <= max_threads; t++) {
            cml_threadpool *pool = NULL;
            cml_threadpool_create(t, NULL, &pool);
            double best = 1e30;
            for (int r = 0; r < (lvl ? 15 : 2); r++) {
                double t0 = now_s();
                for (size_t i = 0; i < nm; i++) {
                    cml_qgemv_params p = {.N = mats[i].n, .K = mats[i].k, .q = mats[i].q, .bits = 4,
                                          .is_signed = true, .scale = mats[i].scale, .block_n = 1,
                                          .block_k = 32, .round_fp16 = true, .bias = mats[i].bias};
                    cml_k_qgemv_f32(pool, &p, x, mats[i].y);
                }
                double dt = now_s() - t0;
                if (dt < best) best = dt;
            }
            printf("%-7s threads %d: %.2f ms/step, %.2f GB/s of int4+fp16-scale bytes (%.0f%% of triad)\n",
                   cml_isa_level_name((cml_isa_level)lvl), t, best * 1e3, (double)bytes / best / 1e9,
                   100.0 * (double)bytes / best / 1e9 / gbs);
            cml_threadpool_destroy(pool);
        }
    }
    printf("weight bytes per step: %zu\n", bytes);
    return 0;
}
