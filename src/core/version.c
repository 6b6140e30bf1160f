/* cml_version(): the build's version with the ISA level the kernels use. */
#include "cml.h"
#include "core/cpu.h"

#ifndef CML_VERSION_STRING
#define CML_VERSION_STRING "unknown"
#endif

const char *cml_version(void) {
    switch (cml_cpu_isa_level()) {
    case CML_ISA_AVX512: return CML_VERSION_STRING " (avx512)";
    case CML_ISA_AVX2: return CML_VERSION_STRING " (avx2)";
    case CML_ISA_NEON: return CML_VERSION_STRING " (neon)";
    default: return CML_VERSION_STRING " (scalar)";
    }
}
