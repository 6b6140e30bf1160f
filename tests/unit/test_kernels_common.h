/* Shared helpers for the kernel tests: a seeded RNG, ISA level iteration
 * and error measures. */
#ifndef CML_TEST_KERNELS_COMMON_H
#define CML_TEST_KERNELS_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/cpu.h"

static uint64_t tk_rng_state = 0x9e3779b97f4a7c15ull;

static inline void tk_seed(uint64_t s) { tk_rng_state = s ? s : 0x9e3779b97f4a7c15ull; }

static inline uint64_t tk_next(void) {
    uint64_t x = tk_rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    tk_rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* uniform in [lo, hi) */
static inline float tk_uniform(float lo, float hi) {
    return lo + (hi - lo) * (float)((double)(tk_next() >> 11) / 9007199254740992.0);
}

/* integer in [lo, hi] */
static inline int64_t tk_int(int64_t lo, int64_t hi) {
    return lo + (int64_t)(tk_next() % (uint64_t)(hi - lo + 1));
}

static inline void tk_fill(float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = tk_uniform(lo, hi);
}

/* The ISA levels this machine supports, scalar first: on x86 scalar .. the
 * best one, on aarch64 scalar and NEON. Tests loop lvl over [0, count) and
 * tk_set_level(lvl) selects the lvl-th of them; -1 restores the default. */
static inline int tk_supported_level(int idx) {
    int found = 0;
    for (int l = CML_ISA_SCALAR; l <= CML_ISA_NEON; l++)
        if (cml_cpu_isa_supported((cml_isa_level)l) && found++ == idx) return l;
    return -1;
}

static inline int tk_num_levels(void) {
    int n = 0;
    while (tk_supported_level(n) >= 0) n++;
    return n;
}

static inline void tk_set_level(int lvl) {
    (void)cml_cpu_override_for_testing(lvl < 0 ? -1 : tk_supported_level(lvl));
}

static inline void tk_levels_done(void) { cml_cpu_override_for_testing(-1); }

/* |a - b| <= atol + rtol * |b|, NaN matches NaN, inf matches the same inf. */
static inline int tk_close(float a, float b, float atol, float rtol) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b)) return a == b;
    return fabs((double)a - (double)b) <= atol + rtol * fabs((double)b);
}

/* Returns the index of the first mismatch or -1. */
static inline long tk_first_mismatch(const float *got, const float *want, size_t n, float atol, float rtol) {
    for (size_t i = 0; i < n; i++)
        if (!tk_close(got[i], want[i], atol, rtol)) return (long)i;
    return -1;
}

#endif
