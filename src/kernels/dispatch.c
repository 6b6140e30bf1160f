/* Picks the per-ISA kits from the level detected once in core/cpu.c. The
 * x86 kits exist only in x86 builds (CMake compiles the *_avx2.c /
 * *_avx512.c files there alone), the NEON kits only in aarch64 builds (the
 * *_neon.c files); elsewhere the level is always scalar. */
#include "kernels/kinternal.h"

#if defined(__x86_64__) || defined(__i386__)
#define CML_HAVE_X86_KITS 1
#else
#define CML_HAVE_X86_KITS 0
#endif
#if defined(__aarch64__)
#define CML_HAVE_NEON_KITS 1
#else
#define CML_HAVE_NEON_KITS 0
#endif

const cml_gemm_kit *cml_k_gemm_kit(void) {
#if CML_HAVE_X86_KITS
    switch (cml_cpu_isa_level()) {
    case CML_ISA_AVX512: return &cml_gemm_kit_avx512;
    case CML_ISA_AVX2: return &cml_gemm_kit_avx2;
    case CML_ISA_SCALAR: break;
    case CML_ISA_NEON: break;
    }
#endif
#if CML_HAVE_NEON_KITS
    if (cml_cpu_isa_level() == CML_ISA_NEON) return &cml_gemm_kit_neon;
#endif
    return &cml_gemm_kit_scalar;
}

const cml_vec_kit *cml_k_vec_kit(void) {
#if CML_HAVE_X86_KITS
    switch (cml_cpu_isa_level()) {
    case CML_ISA_AVX512: return &cml_vec_kit_avx512;
    case CML_ISA_AVX2: return &cml_vec_kit_avx2;
    case CML_ISA_SCALAR: break;
    case CML_ISA_NEON: break;
    }
#endif
#if CML_HAVE_NEON_KITS
    if (cml_cpu_isa_level() == CML_ISA_NEON) return &cml_vec_kit_neon;
#endif
    return &cml_vec_kit_scalar;
}

cml_qgemv_rows_fn cml_k_qgemv_rows(void) {
#if CML_HAVE_X86_KITS
    switch (cml_cpu_isa_level()) {
    case CML_ISA_AVX512: return cml_qgemv_rows_avx512;
    case CML_ISA_AVX2: return cml_qgemv_rows_avx2;
    case CML_ISA_SCALAR: break;
    case CML_ISA_NEON: break;
    }
#endif
#if CML_HAVE_NEON_KITS
    if (cml_cpu_isa_level() == CML_ISA_NEON) return cml_qgemv_rows_neon;
#endif
    return cml_qgemv_rows_scalar;
}
