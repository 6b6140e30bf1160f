/* Picks the per-ISA kits from the level detected once in core/cpu.c. */
#include "kernels/kinternal.h"

const cml_gemm_kit *cml_k_gemm_kit(void) {
    switch (cml_cpu_isa_level()) {
    case CML_ISA_AVX512: return &cml_gemm_kit_avx512;
    case CML_ISA_AVX2: return &cml_gemm_kit_avx2;
    case CML_ISA_SCALAR: break;
    }
    return &cml_gemm_kit_scalar;
}

const cml_vec_kit *cml_k_vec_kit(void) {
    switch (cml_cpu_isa_level()) {
    case CML_ISA_AVX512: return &cml_vec_kit_avx512;
    case CML_ISA_AVX2: return &cml_vec_kit_avx2;
    case CML_ISA_SCALAR: break;
    }
    return &cml_vec_kit_scalar;
}
