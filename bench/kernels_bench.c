/* Kernel micro-benchmark: gemm and conv2d GFLOP/s per ISA level and thread
 * count. Not part of the build or the tests. Build from the repo root:
 *
 *   cmake -S . -B build && cmake --build build --target cml
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc bench/kernels_bench.c \
 *       build/libcml.a $(pkg-config --libs libprotobuf-c libcjson) -lm -lpthread \
 *       -o build/kernels_bench
 *   build/kernels_bench [max_threads]
 *
 * Each figure is the best of several timed batches (after warm-up). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/cpu.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static float *rand_buf(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    unsigned s = 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        p[i] = (float)((s >> 9) & 0xffff) / 65536.0f - 0.5f;
    }
    return p;
}

typedef void (*run_fn)(void *ctx, cml_threadpool *pool);

/* Best seconds per call over 7 batches of calls adding up to ~0.1 s each. */
static double time_best(run_fn fn, void *ctx, cml_threadpool *pool) {
    fn(ctx, pool);
    double t0 = now_s();
    fn(ctx, pool);
    double one = now_s() - t0;
    int reps = one > 0 ? (int)(0.1 / one) : 1000;
    if (reps < 1) reps = 1;
    if (reps > 100000) reps = 100000;
    double best = 1e30;
    for (int b = 0; b < 7; b++) {
        t0 = now_s();
        for (int r = 0; r < reps; r++) fn(ctx, pool);
        double t = (now_s() - t0) / reps;
        if (t < best) best = t;
    }
    return best;
}

typedef struct gemm_case {
    size_t M, N, K;
    bool trans_b;
    float *A, *B, *C, *bias;
} gemm_case;

static void run_gemm(void *ctx, cml_threadpool *pool) {
    gemm_case *g = ctx;
    cml_k_gemm_f32(pool, g->M, g->N, g->K, g->A, g->K, g->B, g->trans_b ? g->K : g->N, g->trans_b,
                   g->bias, g->C, g->N, false);
}

typedef struct conv_case {
    cml_conv2d_params p;
    float *x, *w, *b, *y;
    void *scratch;
} conv_case;

static void run_conv(void *ctx, cml_threadpool *pool) {
    conv_case *c = ctx;
    cml_k_conv2d_f32(pool, &c->p, c->x, c->w, c->b, c->y, c->scratch);
}

int main(int argc, char **argv) {
    int max_threads = argc > 1 ? atoi(argv[1]) : 2;
    static const gemm_case gemms[] = {
        {256, 256, 256, false, 0, 0, 0, 0}, {256, 256, 256, true, 0, 0, 0, 0},
        {1, 1000, 1280, true, 0, 0, 0, 0},  {1, 1000, 1280, false, 0, 0, 0, 0},
        {512, 512, 512, false, 0, 0, 0, 0}, {64, 3136, 576, false, 0, 0, 0, 0},
        {32, 768, 768, true, 0, 0, 0, 0},   {128, 3072, 768, true, 0, 0, 0, 0},
    };
    static const cml_conv2d_params convs[] = {
        /* n cin h w cout ho wo kh kw sh sw pt pl dh dw groups */
        {1, 3, 224, 224, 32, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1},      /* stem */
        {1, 96, 112, 112, 96, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1, 96},      /* depthwise s2 */
        {1, 144, 56, 56, 144, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 144},     /* depthwise s1 */
        {1, 32, 112, 112, 32, 112, 112, 3, 3, 1, 1, 1, 1, 1, 1, 32},    /* depthwise 112 */
        {1, 32, 112, 112, 16, 112, 112, 1, 1, 1, 1, 0, 0, 1, 1, 1},     /* pointwise 112 */
        {1, 16, 112, 112, 96, 112, 112, 1, 1, 1, 1, 0, 0, 1, 1, 1},     /* expand 112 */
        {1, 24, 56, 56, 144, 56, 56, 1, 1, 1, 1, 0, 0, 1, 1, 1},        /* expand 56 */
        {1, 144, 56, 56, 24, 56, 56, 1, 1, 1, 1, 0, 0, 1, 1, 1},        /* pointwise */
        {1, 384, 14, 14, 64, 14, 14, 1, 1, 1, 1, 0, 0, 1, 1, 1},        /* project 14 */
        {1, 64, 14, 14, 384, 14, 14, 1, 1, 1, 1, 0, 0, 1, 1, 1},        /* expand 14 */
        {1, 320, 7, 7, 1280, 7, 7, 1, 1, 1, 1, 0, 0, 1, 1, 1},          /* last pointwise */
        {1, 64, 56, 56, 64, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1},         /* resnet 3x3 */
        {1, 1, 1, 4096, 1024, 1, 897, 1, 512, 1, 4, 0, 0, 1, 1, 1},     /* audio 1-D, 512 taps */
    };
    cml_threadpool *pools[8] = {0};
    for (int t = 2; t <= max_threads && t < 8; t++) cml_threadpool_create(t, NULL, &pools[t]);
    for (int lvl = 0; lvl <= (int)cml_cpu_max_isa_level(); lvl++) {
        cml_cpu_override_for_testing(lvl);
        const char *ln = cml_isa_level_name(cml_cpu_isa_level());
        for (size_t i = 0; i < sizeof gemms / sizeof gemms[0]; i++) {
            gemm_case g = gemms[i];
            g.A = rand_buf(g.M * g.K);
            g.B = rand_buf(g.N * g.K);
            g.C = rand_buf(g.M * g.N);
            g.bias = rand_buf(g.N);
            double flops = 2.0 * (double)g.M * (double)g.N * (double)g.K;
            printf("%-7s gemm %4zux%4zux%4zu %s", ln, g.M, g.N, g.K, g.trans_b ? "B^T" : "B  ");
            for (int t = 1; t <= max_threads && t < 8; t++) {
                double s = time_best(run_gemm, &g, t == 1 ? NULL : pools[t]);
                printf("  %dT %7.1f GFLOP/s", t, flops / s * 1e-9);
            }
            printf("\n");
            free(g.A), free(g.B), free(g.C), free(g.bias);
        }
        for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) {
            conv_case c;
            c.p = convs[i];
            const cml_conv2d_params *p = &c.p;
            size_t cin_g = (size_t)(p->c_in / p->groups);
            c.x = rand_buf((size_t)(p->n * p->c_in * p->h_in * p->w_in));
            c.w = rand_buf((size_t)p->c_out * cin_g * (size_t)(p->k_h * p->k_w));
            c.b = rand_buf((size_t)p->c_out);
            c.y = rand_buf((size_t)(p->n * p->c_out * p->h_out * p->w_out));
            size_t ss = cml_k_conv2d_scratch_size(p);
            c.scratch = ss ? malloc(ss) : NULL;
            double flops = 2.0 * (double)(p->n * p->c_out * p->h_out * p->w_out) * (double)cin_g *
                           (double)(p->k_h * p->k_w);
            printf("%-7s conv %3lldx%3lldx%4lld -> %4lld k%lldx%lld s%lld g%-4lld", ln,
                   (long long)p->c_in, (long long)p->h_in, (long long)p->w_in, (long long)p->c_out,
                   (long long)p->k_h, (long long)p->k_w, (long long)p->stride_w, (long long)p->groups);
            for (int t = 1; t <= max_threads && t < 8; t++) {
                double s = time_best(run_conv, &c, t == 1 ? NULL : pools[t]);
                printf("  %dT %7.1f GFLOP/s (%7.1f us)", t, flops / s * 1e-9, s * 1e6);
            }
            printf("\n");
            free(c.x), free(c.w), free(c.b), free(c.y), free(c.scratch);
        }
    }
    for (int t = 2; t < 8; t++) cml_threadpool_destroy(pools[t]);
    return 0;
}
