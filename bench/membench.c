/* cml_membench: this machine's measured DRAM bandwidth and peak fp32 FLOP/s,
 * the two ceilings `make bench` (bench/peers.py) compares the runtimes with.
 *
 *   cml_membench [--threads 1,2] [--mib 256] [--runs 7] [--json]
 *
 * Triad (STREAM's kernel): a[i] = b[i] + s * c[i] over three double arrays of
 * MIB MiB each (default 256, far larger than any L3), split into contiguous
 * chunks, one per thread. Bandwidth counts 3 * 8 bytes per element (two reads,
 * one write; STREAM's convention: no write-allocate traffic counted). Each
 * figure is the best of RUNS runs, after one untimed pass that also faults
 * the pages in.
 *
 * Peak FLOP/s: every thread runs a loop of fused multiply-adds on 12
 * independent vector accumulators (enough to cover FMA latency x ports on
 * current x86 cores), with the widest ISA the CPU has, chosen at run time
 * with __builtin_cpu_supports: AVX-512F, else AVX2+FMA, else a scalar
 * multiply-add loop (2 flops per element, not fused). Only the ISA functions
 * carry target attributes; the file is built with baseline flags. Best of
 * RUNS runs of ~0.1 s each; one FMA counts as 2 flops.
 *
 * Not part of the library or the tests. Exit status 0, or 2 on bad
 * arguments / allocation failure. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#define MB_X86 1
#include <immintrin.h>
#else
#define MB_X86 0
#endif

#define MB_MAX_THREADS 64
#define MB_ACC 12

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- triad */

typedef struct triad_job {
    double *a;
    const double *b, *c;
    size_t n;
} triad_job;

static void *triad_worker(void *p) {
    triad_job *j = p;
    const double s = 3.0;
    for (size_t i = 0; i < j->n; i++) j->a[i] = j->b[i] + s * j->c[i];
    return NULL;
}

/* Runs fn on nt jobs, one thread each (the caller's thread runs job 0);
 * returns the wall seconds, or a negative value if a thread failed to start. */
static double run_threads(void *(*fn)(void *), void *jobs, size_t job_size, int nt) {
    pthread_t th[MB_MAX_THREADS];
    char *base = jobs;
    double t0 = now_s();
    int started = 1;
    for (; started < nt; started++)
        if (pthread_create(&th[started], NULL, fn, base + (size_t)started * job_size) != 0) break;
    fn(base);
    for (int i = 1; i < started; i++) pthread_join(th[i], NULL);
    double t = now_s() - t0;
    return started == nt ? t : -1.0;
}

/* Best triad bandwidth in GB/s (1e9 bytes/s) on nt threads. */
static double triad_gbs(double *a, const double *b, const double *c, size_t n, int nt, int runs) {
    triad_job jobs[MB_MAX_THREADS];
    size_t chunk = n / (size_t)nt;
    for (int t = 0; t < nt; t++) {
        size_t lo = (size_t)t * chunk, hi = t == nt - 1 ? n : lo + chunk;
        jobs[t] = (triad_job){a + lo, b + lo, c + lo, hi - lo};
    }
    double best = -1.0;
    for (int r = 0; r <= runs; r++) { /* run 0 is untimed */
        double s = run_threads(triad_worker, jobs, sizeof jobs[0], nt);
        if (s <= 0) return -1.0;
        if (r > 0 && (best < 0 || s < best)) best = s;
    }
    return 3.0 * sizeof(double) * (double)n / best / 1e9;
}

/* ---------------------------------------------------------------- flops */

typedef struct flop_job {
    long iters;
    float sink;
} flop_job;

/* Each kernel runs `iters` rounds of MB_ACC multiply-adds on its vectors and
 * returns a value depending on all of them (so no work is dead). */
static float fma_scalar(long iters) {
    float acc[MB_ACC];
    for (int k = 0; k < MB_ACC; k++) acc[k] = (float)k * 0.001f;
    const float m = 0.9999999f, add = 1e-7f;
    for (long i = 0; i < iters; i++)
        for (int k = 0; k < MB_ACC; k++) acc[k] = acc[k] * m + add;
    float s = 0;
    for (int k = 0; k < MB_ACC; k++) s += acc[k];
    return s;
}

#if MB_X86
#define MB_FMA_BODY(VT, SET1, FMA, ADDV, WIDTH)                                      \
    VT acc[MB_ACC];                                                                  \
    for (int k = 0; k < MB_ACC; k++) acc[k] = SET1((float)k * 0.001f);               \
    const VT m = SET1(0.9999999f), add = SET1(1e-7f);                                \
    for (long i = 0; i < iters; i++)                                                 \
        for (int k = 0; k < MB_ACC; k++) acc[k] = FMA(acc[k], m, add);              \
    for (int k = 1; k < MB_ACC; k++) acc[0] = ADDV(acc[0], acc[k]);                  \
    float lanes[WIDTH];                                                              \
    memcpy(lanes, &acc[0], sizeof lanes);                                            \
    return lanes[0] + lanes[WIDTH - 1];

__attribute__((target("avx2,fma"))) static float fma_avx2(long iters) {
    MB_FMA_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8)
}

__attribute__((target("avx512f"))) static float fma_avx512(long iters) {
    MB_FMA_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16)
}
#endif

typedef struct isa_kernel {
    const char *name;
    float (*fn)(long);
    int lanes, flops_per_lane; /* per accumulator per iteration */
} isa_kernel;

static isa_kernel pick_isa(void) {
#if MB_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return (isa_kernel){"avx512f", fma_avx512, 16, 2};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return (isa_kernel){"avx2+fma", fma_avx2, 8, 2};
#endif
    return (isa_kernel){"scalar", fma_scalar, 1, 2};
}

static isa_kernel g_isa;

static void *flop_worker(void *p) {
    flop_job *j = p;
    j->sink = g_isa.fn(j->iters);
    return NULL;
}

/* Best GFLOP/s on nt threads: ~0.1 s per run after calibrating iters. */
static double peak_gflops(int nt, int runs, float *sink) {
    flop_job jobs[MB_MAX_THREADS];
    long iters = 1 << 16;
    for (;;) { /* calibrate on one thread */
        double t0 = now_s();
        *sink += g_isa.fn(iters);
        if (now_s() - t0 > 0.02 || iters > (1L << 40)) break;
        iters *= 2;
    }
    iters *= 5;
    double best = -1.0;
    for (int r = 0; r < runs; r++) {
        for (int t = 0; t < nt; t++) jobs[t] = (flop_job){iters, 0};
        double s = run_threads(flop_worker, jobs, sizeof jobs[0], nt);
        if (s <= 0) return -1.0;
        for (int t = 0; t < nt; t++) *sink += jobs[t].sink;
        if (best < 0 || s < best) best = s;
    }
    double flops = (double)nt * (double)iters * MB_ACC * g_isa.lanes * g_isa.flops_per_lane;
    return flops / best / 1e9;
}

/* ---------------------------------------------------------------- main */

typedef struct mb_opts {
    int threads[MB_MAX_THREADS], nthreads;
    long mib;
    int runs, json;
} mb_opts;

static int parse_threads(const char *s, mb_opts *o) {
    o->nthreads = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > MB_MAX_THREADS || o->nthreads == MB_MAX_THREADS) return -1;
        o->threads[o->nthreads++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return o->nthreads ? 0 : -1;
}

static int parse_args(int argc, char **argv, mb_opts *o) {
    *o = (mb_opts){.threads = {1, 2}, .nthreads = 2, .mib = 256, .runs = 7};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (!v) return -1;
        i++;
        if (strcmp(a, "--threads") == 0) {
            if (parse_threads(v, o) != 0) return -1;
        } else if (strcmp(a, "--mib") == 0) {
            o->mib = strtol(v, &end, 10);
            if (*end || o->mib < 1 || o->mib > 65536) return -1;
        } else if (strcmp(a, "--runs") == 0) {
            o->runs = (int)strtol(v, &end, 10);
            if (*end || o->runs < 1 || o->runs > 1000) return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

static double *alloc_fill(size_t n, double v) {
    double *p = malloc(n * sizeof *p);
    if (p)
        for (size_t i = 0; i < n; i++) p[i] = v;
    return p;
}

static void report(const mb_opts *o, const double *gbs, const double *gfl, size_t n, float sink) {
    if (!o->json) {
        printf("triad: 3 x %ld MiB double arrays, best of %d runs; peak: %s FMA loop\n", o->mib,
               o->runs, g_isa.name);
        for (int t = 0; t < o->nthreads; t++)
            printf("threads %d: triad %.2f GB/s, peak fp32 %.1f GFLOP/s\n", o->threads[t], gbs[t], gfl[t]);
        return;
    }
    printf("{\"triad_array_mib\": %ld, \"triad_elements\": %zu, \"runs\": %d, \"isa\": \"%s\", "
           "\"sink\": %g, \"threads\": [", o->mib, n, o->runs, g_isa.name, (double)sink);
    for (int t = 0; t < o->nthreads; t++)
        printf("%s{\"threads\": %d, \"triad_gbs\": %.3f, \"peak_gflops\": %.2f}", t ? ", " : "",
               o->threads[t], gbs[t], gfl[t]);
    printf("]}\n");
}

int main(int argc, char **argv) {
    mb_opts o;
    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: cml_membench [--threads 1,2] [--mib 256] [--runs 7] [--json]\n");
        return 2;
    }
    size_t n = (size_t)o.mib * 1024 * 1024 / sizeof(double);
    double *a = alloc_fill(n, 0.0), *b = alloc_fill(n, 1.0), *c = alloc_fill(n, 2.0);
    if (!a || !b || !c) {
        fprintf(stderr, "cml_membench: cannot allocate 3 x %ld MiB\n", o.mib);
        return 2;
    }
    g_isa = pick_isa();
    double gbs[MB_MAX_THREADS], gfl[MB_MAX_THREADS];
    float sink = 0;
    for (int t = 0; t < o.nthreads; t++) {
        gbs[t] = triad_gbs(a, b, c, n, o.threads[t], o.runs);
        gfl[t] = peak_gflops(o.threads[t], o.runs, &sink);
    }
    sink += (float)a[n / 2];
    report(&o, gbs, gfl, n, sink);
    free(a);
    free(b);
    free(c);
    return 0;
}
