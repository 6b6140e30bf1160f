/* Packing helpers shared by the gemm kits; included by each per-ISA file so
 * that the compiler vectorizes them with that file's flags. */
#ifndef CML_KERNELS_GEMM_COMMON_H
#define CML_KERNELS_GEMM_COMMON_H

#include <string.h>

#include "kernels/kinternal.h"

static CML_ALWAYS_INLINE void cml_gemm_pack_n_impl(const size_t NR, size_t kc, size_t nr,
                                                   const float *CML_RESTRICT B, size_t ldb,
                                                   float *CML_RESTRICT Bp) {
    if (nr == NR) {
        for (size_t k = 0; k < kc; k++) {
            const float *src = B + k * ldb;
            float *dst = Bp + k * NR;
            for (size_t j = 0; j < NR; j++) dst[j] = src[j];
        }
    } else {
        for (size_t k = 0; k < kc; k++) {
            const float *src = B + k * ldb;
            float *dst = Bp + k * NR;
            size_t j = 0;
            for (; j < nr; j++) dst[j] = src[j];
            for (; j < NR; j++) dst[j] = 0.0f;
        }
    }
}

static CML_ALWAYS_INLINE void cml_gemm_pack_t_impl(const size_t NR, size_t kc, size_t nr,
                                                   const float *CML_RESTRICT B, size_t ldb,
                                                   float *CML_RESTRICT Bp) {
    size_t j = 0;
    for (; j + 4 <= nr; j += 4) {
        const float *s0 = B + j * ldb, *s1 = s0 + ldb, *s2 = s1 + ldb, *s3 = s2 + ldb;
        float *dst = Bp + j;
        for (size_t k = 0; k < kc; k++) {
            dst[k * NR + 0] = s0[k];
            dst[k * NR + 1] = s1[k];
            dst[k * NR + 2] = s2[k];
            dst[k * NR + 3] = s3[k];
        }
    }
    for (; j < nr; j++) {
        const float *s = B + j * ldb;
        for (size_t k = 0; k < kc; k++) Bp[k * NR + j] = s[k];
    }
    if (nr < NR) {
        for (size_t k = 0; k < kc; k++)
            for (size_t jj = nr; jj < NR; jj++) Bp[k * NR + jj] = 0.0f;
    }
}

#endif
