/*
 * Shared helpers for the libFuzzer targets: deterministic pseudo-random
 * input data (the same fuzz input always runs with the same tensors) and a
 * sink that keeps reads from being optimized away.
 */
#ifndef CML_FUZZ_COMMON_H
#define CML_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cml.h"

static volatile uint8_t g_fuzz_sink;

/* Reads every byte of a region the library claims is valid. */
static inline void fuzz_touch(const void *p, size_t n) {
    const uint8_t *b = p;
    uint8_t x = 0;
    for (size_t i = 0; i < n; i++) x ^= b[i];
    g_fuzz_sink = x;
}

/* Reads the first and last byte of a region: enough for ASan to catch a
 * region that runs off its allocation, at no cost per byte. */
static inline void fuzz_touch_ends(const void *p, size_t n) {
    if (n == 0) return;
    const uint8_t *b = p;
    g_fuzz_sink = (uint8_t)(b[0] ^ b[n - 1]);
}

static inline uint64_t fuzz_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Fills n elements of dtype with small values: floats in [-2, 2), integers
 * in [0, 4) (valid indices for most gathers), booleans 0/1. */
static inline void fuzz_fill(cml_dtype dtype, void *data, size_t n, uint64_t *seed) {
    for (size_t i = 0; i < n; i++) {
        uint64_t r = fuzz_next(seed);
        int64_t iv = (int64_t)(r & 3);
        double fv = (double)(int64_t)(r >> 11 & 0xffff) / 16384.0 - 2.0;
        switch (dtype) {
        case CML_DTYPE_FLOAT32: { float f = (float)fv; memcpy((float *)data + i, &f, 4); break; }
        case CML_DTYPE_FLOAT64: memcpy((double *)data + i, &fv, 8); break;
        case CML_DTYPE_FLOAT16: { uint16_t h = (uint16_t)(0x3c00 | (r & 0x3ff)); /* [1, 2) */
                                  if (r & 0x400) h |= 0x8000;
                                  memcpy((uint16_t *)data + i, &h, 2); break; }
        case CML_DTYPE_INT64: memcpy((int64_t *)data + i, &iv, 8); break;
        case CML_DTYPE_INT32: { int32_t v = (int32_t)iv; memcpy((int32_t *)data + i, &v, 4); break; }
        case CML_DTYPE_INT16: { int16_t v = (int16_t)iv; memcpy((int16_t *)data + i, &v, 2); break; }
        case CML_DTYPE_BOOL: ((uint8_t *)data)[i] = (uint8_t)(r & 1); break;
        default: {
            size_t es = cml_dtype_size(dtype);
            memset((uint8_t *)data + i * es, (int)iv, es);
        }
        }
    }
}

#endif
