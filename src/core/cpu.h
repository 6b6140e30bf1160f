/* CPU feature detection (cpuid + xgetbv), done once per process.
 *
 * The kernel layer picks its per-ISA variants from cml_cpu_isa_level():
 *   CML_ISA_SCALAR  portable C only,
 *   CML_ISA_AVX2    AVX2 + FMA + F16C (the *_avx2.c / *_f16c.c files),
 *   CML_ISA_AVX512  AVX-512 F/BW/VL/DQ on top of that (the *_avx512.c files),
 *   CML_ISA_NEON    aarch64 Advanced SIMD with fp16 conversion (the *_neon.c
 *                   files; baseline on aarch64, so no detection is needed).
 * The x86 levels are ordered (each includes the ones below it); NEON exists
 * only on aarch64, where the levels are scalar and NEON.
 * CML_FORCE_SCALAR=1 in the environment (read once, at the first query)
 * forces CML_ISA_SCALAR. */
#ifndef CML_CORE_CPU_H
#define CML_CORE_CPU_H

#include <stdbool.h>

typedef struct cml_cpu_info {
    bool avx;      /* with OS support for YMM state */
    bool avx2;
    bool fma;
    bool f16c;
    bool avx512f;  /* with OS support for ZMM/opmask state */
    bool avx512bw;
    bool avx512vl;
    bool avx512dq;
    bool neon;     /* aarch64 Advanced SIMD (always there) */
} cml_cpu_info;

typedef enum cml_isa_level {
    CML_ISA_SCALAR = 0,
    CML_ISA_AVX2 = 1,
    CML_ISA_AVX512 = 2,
    CML_ISA_NEON = 3,
} cml_isa_level;

/* What the hardware and OS support (ignores CML_FORCE_SCALAR). Thread-safe. */
const cml_cpu_info *cml_cpu_features(void);

/* The level the kernels use: the best supported one, or CML_ISA_SCALAR when
 * CML_FORCE_SCALAR=1, or the testing override. Thread-safe and cheap. */
cml_isa_level cml_cpu_isa_level(void);

/* The best level the hardware supports (ignores the environment and the
 * override). */
cml_isa_level cml_cpu_max_isa_level(void);

/* Whether this machine and build can run the kernels of level. */
bool cml_cpu_isa_supported(cml_isa_level level);

/* Tests only: makes cml_cpu_isa_level() return the best supported level
 * <= level (min(level, max supported) on x86); a negative level restores the
 * default. Returns the level now in effect. Not to be called while kernels
 * run on other threads. */
cml_isa_level cml_cpu_override_for_testing(int level);

const char *cml_isa_level_name(cml_isa_level level);

#endif
