#include "core/cpu.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define CML_X86 1
#endif

static cml_cpu_info g_info;
static cml_isa_level g_max_level = CML_ISA_SCALAR;
static cml_isa_level g_default_level = CML_ISA_SCALAR;
static atomic_int g_level = CML_ISA_SCALAR;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

#ifdef CML_X86
static unsigned long long xgetbv0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

static void detect(void) {
    memset(&g_info, 0, sizeof g_info);
#ifdef CML_X86
    unsigned int eax, ebx, ecx, edx;
    unsigned int max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf >= 1 && __get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        bool osxsave = (ecx >> 27) & 1u;
        bool avx = (ecx >> 28) & 1u;
        bool fma = (ecx >> 12) & 1u;
        bool f16c = (ecx >> 29) & 1u;
        unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
        bool ymm_ok = (xcr0 & 0x6u) == 0x6u;            /* SSE + AVX state */
        bool zmm_ok = ymm_ok && (xcr0 & 0xe0u) == 0xe0u; /* opmask + ZMM state */
        g_info.avx = avx && ymm_ok;
        g_info.fma = fma && g_info.avx;
        g_info.f16c = f16c && g_info.avx;
        if (max_leaf >= 7) {
            __cpuid_count(7, 0, eax, ebx, ecx, edx);
            g_info.avx2 = g_info.avx && ((ebx >> 5) & 1u);
            if (zmm_ok) {
                g_info.avx512f = (ebx >> 16) & 1u;
                g_info.avx512dq = (ebx >> 17) & 1u;
                g_info.avx512bw = (ebx >> 30) & 1u;
                g_info.avx512vl = (ebx >> 31) & 1u;
            }
        }
    }
#endif
#if defined(__aarch64__)
    g_info.neon = true; /* Advanced SIMD and FCVTL/FCVTN are baseline */
    g_max_level = CML_ISA_NEON;
#endif
    if (g_info.avx2 && g_info.fma && g_info.f16c) {
        g_max_level = CML_ISA_AVX2;
        if (g_info.avx512f && g_info.avx512bw && g_info.avx512vl && g_info.avx512dq)
            g_max_level = CML_ISA_AVX512;
    }
    const char *force = getenv("CML_FORCE_SCALAR");
    bool forced = force && force[0] && strcmp(force, "0") != 0;
    g_default_level = forced ? CML_ISA_SCALAR : g_max_level;
    atomic_store_explicit(&g_level, (int)g_default_level, memory_order_release);
}

const cml_cpu_info *cml_cpu_features(void) {
    pthread_once(&g_once, detect);
    return &g_info;
}

cml_isa_level cml_cpu_isa_level(void) {
    pthread_once(&g_once, detect);
    return (cml_isa_level)atomic_load_explicit(&g_level, memory_order_relaxed);
}

cml_isa_level cml_cpu_max_isa_level(void) {
    pthread_once(&g_once, detect);
    return g_max_level;
}

bool cml_cpu_isa_supported(cml_isa_level level) {
    pthread_once(&g_once, detect);
    if (level == CML_ISA_SCALAR || level == g_max_level) return true;
    return level != CML_ISA_NEON && g_max_level != CML_ISA_NEON && level < g_max_level;
}

cml_isa_level cml_cpu_override_for_testing(int level) {
    pthread_once(&g_once, detect);
    cml_isa_level l = g_default_level;
    if (level >= 0) {
        l = level < (int)g_max_level ? (cml_isa_level)level : g_max_level;
        while (l > CML_ISA_SCALAR && !cml_cpu_isa_supported(l)) l = (cml_isa_level)(l - 1);
    }
    atomic_store_explicit(&g_level, (int)l, memory_order_release);
    return l;
}

const char *cml_isa_level_name(cml_isa_level level) {
    switch (level) {
    case CML_ISA_SCALAR: return "scalar";
    case CML_ISA_AVX2: return "avx2";
    case CML_ISA_AVX512: return "avx512";
    case CML_ISA_NEON: return "neon";
    }
    return "unknown";
}
