/* Quantized GEMV (cml_k_qgemv_f32) at every ISA level, with and without a
 * pool: bit-identical to decoding the weights naively and calling
 * cml_k_gemm_f32 at the same level (the contract: same summation order),
 * close to the scalar reference and to a double-precision sum. Layouts cover
 * the fast paths (group 32, int4 / uint4 / int8 / uint8, fp16 rounding on
 * and off, row blocks) and the generic ones (groups not a multiple of the
 * vector width, odd K so 4-bit rows start mid-byte, K tails). */
#include <string.h>

#include "core/fp16.h"
#include "core/threadpool.h"
#include "harness.h"
#include "kernels/kernels.h"
#include "test_kernels_common.h"

typedef struct qcase {
    size_t N, K;
    unsigned bits;
    bool is_signed, round, bias;
    size_t block_n, block_k;
} qcase;

static int32_t naive_q(const qcase *c, const uint8_t *q, size_t i) {
    if (c->bits == 8) return c->is_signed ? (int32_t)(int8_t)q[i] : (int32_t)q[i];
    int32_t v = (int32_t)((q[i / 2] >> (4 * (i % 2))) & 15);
    return c->is_signed && v >= 8 ? v - 16 : v;
}

/* Dense W[N, K] decoded element by element. */
static void naive_decode(const qcase *c, const uint8_t *q, const float *scale, float *w) {
    size_t nbk = c->K / c->block_k;
    for (size_t n = 0; n < c->N; n++)
        for (size_t k = 0; k < c->K; k++) {
            float s = scale[(n / c->block_n) * nbk + k / c->block_k];
            float v = s * (float)naive_q(c, q, n * c->K + k);
            w[n * c->K + k] = c->round ? cml_round_fp16(v) : v;
        }
}

static bool same_bits(const float *a, const float *b, size_t n, size_t *at) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) {
            *at = i;
            return false;
        }
    return true;
}

static void run_case(const qcase *c, cml_threadpool **pools, int npools) {
    size_t nq = c->bits == 4 ? (c->N * c->K + 1) / 2 : c->N * c->K;
    size_t ns = (c->N / c->block_n) * (c->K / c->block_k);
    uint8_t *q = malloc(nq + 1);
    float *scale = malloc((ns + 1) * sizeof *scale), *bias = malloc((c->N + 1) * sizeof *bias);
    float *x = malloc((c->K + 1) * sizeof *x), *w = malloc((c->N * c->K + 1) * sizeof *w);
    float *want = malloc((c->N + 1) * sizeof *want), *got = malloc((c->N + 1) * sizeof *got);
    float *scalar = malloc((c->N + 1) * sizeof *scalar);
    for (size_t i = 0; i < nq; i++) q[i] = (uint8_t)tk_int(0, 255);
    /* fp16 scales across magnitudes, so that s * q needs rounding (and some
     * results are fp16 subnormals) */
    for (size_t i = 0; i < ns; i++)
        scale[i] = cml_round_fp16(tk_uniform(0.5f, 2.0f) * (i % 5 == 4 ? 1e-6f : 0.01f));
    tk_fill(bias, c->N, -1.0f, 1.0f);
    tk_fill(x, c->K, -1.0f, 1.0f);
    naive_decode(c, q, scale, w);
    cml_qgemv_params p = {.N = c->N, .K = c->K, .q = q, .bits = c->bits, .is_signed = c->is_signed,
                          .scale = scale, .block_n = c->block_n, .block_k = c->block_k,
                          .round_fp16 = c->round, .bias = c->bias ? bias : NULL};
    tk_set_level(0);
    CHECK(cml_k_qgemv_supported(&p));
    cml_k_qgemv_f32(NULL, &p, x, scalar);
    for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
        tk_set_level(lvl);
        CHECK(cml_k_qgemv_supported(&p)); /* every level has a GEMV */
        cml_k_gemm_f32(NULL, 1, c->N, c->K, x, c->K, w, c->K, true, p.bias, want, c->N, false);
        for (int pi = 0; pi < npools; pi++) {
            for (size_t i = 0; i < c->N; i++) got[i] = -999.0f;
            cml_k_qgemv_f32(pools[pi], &p, x, got);
            size_t at = 0;
            CHECK_MSG(same_bits(got, want, c->N, &at),
                      "N %zu K %zu bits %u signed %d round %d blocks %zux%zu level %d pool %d: "
                      "y[%zu] = %.9g, decode + gemm gives %.9g",
                      c->N, c->K, c->bits, c->is_signed, c->round, c->block_n, c->block_k, lvl, pi,
                      at, (double)got[at], (double)want[at]);
            long bad = tk_first_mismatch(got, scalar, c->N, 1e-4f, 1e-4f);
            CHECK_MSG(bad < 0, "level %d vs scalar reference at %ld", lvl, bad);
        }
    }
    tk_levels_done();
    for (size_t n = 0; n < c->N; n++) { /* double-precision sum of the decoded weights */
        double s = c->bias ? bias[n] : 0.0;
        for (size_t k = 0; k < c->K; k++) s += (double)x[k] * w[n * c->K + k];
        CHECK_NEAR(scalar[n], s, 1e-4 * (1.0 + (double)c->K * 0.05));
    }
    free(q), free(scale), free(bias), free(x), free(w), free(want), free(got), free(scalar);
}

static void test_layouts(cml_threadpool **pools, int npools) {
    static const qcase cases[] = {
        /* fast paths: group 32 (any ISA width divides it) */
        {64, 256, 4, true, true, true, 1, 32},
        {37, 96, 4, true, true, false, 1, 32},   /* N not a multiple of 4 */
        {16, 64, 4, false, true, true, 1, 32},   /* uint4 */
        {12, 64, 4, true, false, true, 1, 32},   /* no fp16 rounding */
        {24, 128, 8, true, true, true, 1, 32},   /* int8 */
        {9, 64, 8, false, false, true, 1, 32},   /* uint8 */
        {8, 64, 4, true, true, true, 4, 64},     /* row blocks, one group per row block */
        {300, 768, 4, true, true, true, 1, 32},  /* several scalar kc blocks */
        {5, 48, 4, true, true, true, 1, 16},     /* fast on AVX2 and AVX-512 */
        {6, 48, 4, true, true, true, 1, 8},      /* fast on AVX2, generic on AVX-512 */
        /* generic paths */
        {7, 36, 4, true, true, true, 1, 12},     /* K tail */
        {5, 9, 4, true, true, true, 1, 3},       /* odd K: rows start mid-byte */
        {3, 600, 4, false, true, true, 3, 600},  /* one group per row, past one chunk */
        {4, 21, 8, true, true, true, 2, 7},
        {2, 1, 4, true, true, true, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i], pools, npools);
}

static void test_supported(void) {
    uint8_t q[8] = {0};
    float s[4] = {1, 1, 1, 1};
    cml_qgemv_params p = {.N = 2, .K = 8, .q = q, .bits = 4, .scale = s, .block_n = 1, .block_k = 4};
    tk_set_level(0); /* the scalar level always has a GEMV */
    CHECK(cml_k_qgemv_supported(&p));
    p.bits = 3;
    CHECK(!cml_k_qgemv_supported(&p));
    p.bits = 4, p.block_k = 3; /* does not divide K */
    CHECK(!cml_k_qgemv_supported(&p));
    p.block_k = 0;
    CHECK(!cml_k_qgemv_supported(&p));
    p.block_k = 4, p.block_n = 3;
    CHECK(!cml_k_qgemv_supported(&p));
    p.block_n = 1, p.scale = NULL;
    CHECK(!cml_k_qgemv_supported(&p));
    CHECK(!cml_k_qgemv_supported(NULL));
    tk_levels_done();
}

static void test_degenerate(void) {
    uint8_t q[1] = {0};
    float s[1] = {1}, bias[3] = {1.5f, -2.0f, 3.0f}, y[3] = {0, 0, 0}, x[1] = {0};
    cml_qgemv_params p = {.N = 3, .K = 0, .q = q, .bits = 8, .scale = s, .block_n = 1,
                          .block_k = 1, .bias = bias};
    cml_k_qgemv_f32(NULL, &p, x, y); /* K = 0: the bias */
    CHECK(y[0] == 1.5f && y[1] == -2.0f && y[2] == 3.0f);
    p.N = 0;
    y[0] = 7.0f;
    cml_k_qgemv_f32(NULL, &p, x, y); /* N = 0: nothing written */
    CHECK(y[0] == 7.0f);
}

int main(void) {
    printf("isa levels tested: %d (max %s)\n", tk_num_levels(),
           cml_isa_level_name(cml_cpu_max_isa_level()));
    tk_seed(20261207);
    cml_threadpool *p2 = NULL, *p3 = NULL;
    CHECK(cml_threadpool_create(2, NULL, &p2) == CML_OK);
    CHECK(cml_threadpool_create(3, NULL, &p3) == CML_OK);
    cml_threadpool *pools[] = {NULL, p2, p3};
    test_supported();
    test_degenerate();
    test_layouts(pools, 3);
    cml_threadpool_destroy(p2);
    cml_threadpool_destroy(p3);
    TEST_MAIN_END();
}
