/* Packing helpers shared by the gemm kits; included by each per-ISA file so
 * that the compiler vectorizes them with that file's flags. H (a constant)
 * selects the element type of B: 0 = float, 1 = IEEE fp16 bits (uint16_t),
 * widened exactly to float as it is read. */
#ifndef CML_KERNELS_GEMM_COMMON_H
#define CML_KERNELS_GEMM_COMMON_H

#include <string.h>

#include "core/fp16.h"
#include "kernels/kinternal.h"

/* Element `off` of B (float or fp16 per H) as a float. */
static CML_ALWAYS_INLINE float cml_gemm_b_at(const int H, const void *B, size_t off) {
    return H ? cml_fp16_to_fp32(((const uint16_t *)B)[off]) : ((const float *)B)[off];
}

/* B advanced by off elements. */
static CML_ALWAYS_INLINE const void *cml_gemm_b_off(const int H, const void *B, size_t off) {
    return (const char *)B + off * (H ? sizeof(uint16_t) : sizeof(float));
}

static CML_ALWAYS_INLINE void cml_gemm_pack_n_impl(const int H, const size_t NR, size_t kc,
                                                   size_t nr, const void *CML_RESTRICT B,
                                                   size_t ldb, float *CML_RESTRICT Bp) {
    for (size_t k = 0; k < kc; k++) {
        float *dst = Bp + k * NR;
        size_t j = 0;
        for (; j < nr; j++) dst[j] = cml_gemm_b_at(H, B, k * ldb + j);
        for (; j < NR; j++) dst[j] = 0.0f;
    }
}

static CML_ALWAYS_INLINE void cml_gemm_pack_t_impl(const int H, const size_t NR, size_t kc,
                                                   size_t nr, const void *CML_RESTRICT B,
                                                   size_t ldb, float *CML_RESTRICT Bp) {
    size_t j = 0;
    for (; j + 4 <= nr; j += 4) {
        float *dst = Bp + j;
        for (size_t k = 0; k < kc; k++) {
            dst[k * NR + 0] = cml_gemm_b_at(H, B, j * ldb + k);
            dst[k * NR + 1] = cml_gemm_b_at(H, B, (j + 1) * ldb + k);
            dst[k * NR + 2] = cml_gemm_b_at(H, B, (j + 2) * ldb + k);
            dst[k * NR + 3] = cml_gemm_b_at(H, B, (j + 3) * ldb + k);
        }
    }
    for (; j < nr; j++)
        for (size_t k = 0; k < kc; k++) Bp[k * NR + j] = cml_gemm_b_at(H, B, j * ldb + k);
    if (nr < NR) {
        for (size_t k = 0; k < kc; k++)
            for (size_t jj = nr; jj < NR; jj++) Bp[k * NR + jj] = 0.0f;
    }
}

#endif
