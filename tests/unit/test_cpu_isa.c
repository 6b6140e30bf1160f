/* ISA levels: which ones this build and machine support (scalar always;
 * AVX2 / AVX-512 on x86 as detected; NEON on aarch64 and nowhere else), the
 * testing override (best supported level <= the one asked for), and
 * cml_version() naming the level in use. */
#include <stdio.h>
#include <string.h>

#include "cml.h"
#include "core/cpu.h"
#include "harness.h"

/* cml_version() ends with " (<name of the level in use>)". */
static int version_names(cml_isa_level level) {
    char want[32];
    snprintf(want, sizeof want, " (%s)", cml_isa_level_name(level));
    const char *v = cml_version();
    size_t n = strlen(v), w = strlen(want);
    return n > w && strcmp(v + n - w, want) == 0;
}

static void test_supported_levels(void) {
    cml_isa_level max = cml_cpu_max_isa_level();
    CHECK(cml_cpu_isa_supported(CML_ISA_SCALAR));
    CHECK(cml_cpu_isa_supported(max));
#if defined(__aarch64__)
    CHECK(max == CML_ISA_NEON);
    CHECK(cml_cpu_features()->neon);
    CHECK(!cml_cpu_isa_supported(CML_ISA_AVX2));
    CHECK(!cml_cpu_isa_supported(CML_ISA_AVX512));
#else
    CHECK(max != CML_ISA_NEON);
    CHECK(!cml_cpu_isa_supported(CML_ISA_NEON));
    CHECK(!cml_cpu_features()->neon);
#endif
#if defined(__x86_64__) || defined(__i386__)
    CHECK(cml_cpu_isa_supported(CML_ISA_AVX2) == (max >= CML_ISA_AVX2));
    CHECK(cml_cpu_isa_supported(CML_ISA_AVX512) == (max == CML_ISA_AVX512));
#endif
    CHECK(strcmp(cml_isa_level_name(CML_ISA_NEON), "neon") == 0);
    CHECK(strcmp(cml_isa_level_name(CML_ISA_SCALAR), "scalar") == 0);
}

static void test_override_and_version(void) {
    for (int l = CML_ISA_SCALAR; l <= CML_ISA_NEON; l++) {
        cml_isa_level got = cml_cpu_override_for_testing(l);
        CHECK(cml_cpu_isa_level() == got);
        CHECK(cml_cpu_isa_supported(got));
        CHECK((int)got <= l || got == CML_ISA_SCALAR);
        if (cml_cpu_isa_supported((cml_isa_level)l)) CHECK_MSG(got == (cml_isa_level)l, "level %d", l);
        CHECK_MSG(version_names(got), "version '%s' at level %d", cml_version(), (int)got);
    }
    /* Unsupported levels fall back to a supported one below them. */
#if defined(__aarch64__)
    CHECK(cml_cpu_override_for_testing(CML_ISA_AVX512) == CML_ISA_SCALAR);
#else
    CHECK(cml_cpu_override_for_testing(CML_ISA_NEON) == cml_cpu_max_isa_level());
#endif
    cml_isa_level def = cml_cpu_override_for_testing(-1);
    CHECK(def == cml_cpu_isa_level());
    CHECK(version_names(def));
}

int main(void) {
    test_supported_levels();
    test_override_and_version();
    printf("isa level in use: %s (%s)\n", cml_isa_level_name(cml_cpu_isa_level()), cml_version());
    TEST_MAIN_END();
}
