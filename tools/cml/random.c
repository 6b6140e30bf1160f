/* Seeded random inputs, so `cml run` without --input is reproducible. */
#include <string.h>

#include "cli.h"
#include "core/fp16.h"

/* splitmix64: tiny, good enough for test inputs, identical on every host. */
uint64_t cli_rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1) with 24 random bits (exact in float32). */
static float rand_unit(uint64_t *state) {
    return (float)(cli_rng_next(state) >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

void cli_fill_random(cml_dtype dtype, void *data, size_t numel, uint64_t *state) {
    uint8_t *p = data;
    size_t es = cml_dtype_size(dtype);
    for (size_t i = 0; i < numel; i++, p += es) {
        float x = rand_unit(state);
        int64_t k = (int64_t)(cli_rng_next(state) % 10);
        switch (dtype) {
        case CML_DTYPE_FLOAT32: memcpy(p, &x, 4); break;
        case CML_DTYPE_FLOAT64: { double d = x; memcpy(p, &d, 8); break; }
        case CML_DTYPE_FLOAT16: { uint16_t h = cml_fp32_to_fp16(x); memcpy(p, &h, 2); break; }
        case CML_DTYPE_BFLOAT16: {
            uint32_t bits;
            memcpy(&bits, &x, 4);
            uint16_t h = (uint16_t)(bits >> 16); /* truncation: any bf16 in range will do */
            memcpy(p, &h, 2);
            break;
        }
        case CML_DTYPE_BOOL: *p = (uint8_t)(k & 1); break;
        default: {
            /* Integers (the host is little-endian): k in the low byte. */
            memset(p, 0, es);
            *p = (uint8_t)k;
            break;
        }
        }
    }
}
