/* Compressed weights on the real quantized fixtures (issue 9: "compressed
 * weights stay compressed wherever they feed a matmul-like op").
 *
 * Each case is loaded twice: as the runtime loads it (constexpr weights
 * read compressed: tiled / GEMV for linear, decoded just before the op for
 * conv, conv_transpose, matmul and einsum; mil/compressed.h), and with
 * cml_mil_compressed_enable_for_testing(false), which folds every constexpr
 * to a dense constant at load (the reference path). Checked per case:
 *   - the runtime load materializes no constexpr weight and reads at least
 *     one compressed weight; the reference load materializes at least one;
 *   - the runtime load keeps fewer resident weight bytes than the reference;
 *   - the fixture's inputs give bit-identical outputs on both loads.
 * The delegate description (`cml inspect`'s line) carries the counts. */
#include <stdlib.h>
#include <string.h>

#include "fixture_util.h"
#include "harness.h"
#include "mil/compressed.h"
#include "npy.h"

#define MAX_OUT 8

typedef struct run_result {
    size_t nout;
    size_t bytes[MAX_OUT];
    void *data[MAX_OUT];
    unsigned long long compressed, materialized, resident;
} run_result;

static void result_free(run_result *r) {
    for (size_t i = 0; i < r->nout; i++) free(r->data[i]);
    memset(r, 0, sizeof *r);
}

static int weight_counts(cml_method *m, run_result *r) {
    unsigned long long w[3];
    int ok = fx_weight_counts(m, w);
    CHECK_MSG(ok, "no weight counts in the delegate description");
    r->resident = w[0], r->compressed = w[1], r->materialized = w[2];
    return ok;
}

static int set_inputs(cml_method *m, const char *dir) {
    for (size_t i = 0; i < cml_method_input_count(m); i++) {
        char path[1400], err[256];
        snprintf(path, sizeof path, "%s/input_%zu.npy", dir, i);
        cml_npy npy = {0};
        if (cml_npy_read(path, &npy, err, sizeof err) != 0) {
            CHECK_MSG(0, "%s: %s", path, err);
            return 0;
        }
        cml_tensor_view v = {npy.dtype, npy.rank, npy.sizes, npy.data, npy.nbytes};
        cml_status st = cml_method_set_input(m, i, &v);
        cml_npy_free(&npy);
        if (st != CML_OK) {
            CHECK_MSG(0, "%s: %s", path, cml_method_errmsg(m));
            return 0;
        }
    }
    return 1;
}

static int copy_outputs(cml_method *m, run_result *r) {
    r->nout = cml_method_output_count(m);
    if (r->nout > MAX_OUT) r->nout = MAX_OUT;
    for (size_t i = 0; i < r->nout; i++) {
        cml_tensor_view v;
        if (cml_method_output(m, i, &v) != CML_OK) return 0;
        r->bytes[i] = v.nbytes;
        r->data[i] = malloc(v.nbytes ? v.nbytes : 1);
        if (!r->data[i]) return 0;
        memcpy(r->data[i], v.data, v.nbytes);
    }
    return 1;
}

/* Loads and runs the case once; 1 on success with r filled. */
static int load_and_run(const char *dir, run_result *r) {
    char path[1400], err[512] = "";
    snprintf(path, sizeof path, "%s/model.pte", dir);
    cml_program *p = NULL;
    cml_program_params pp = {.struct_size = sizeof pp};
    if (cml_program_open_file(path, &pp, &p, err, sizeof err) != CML_OK) {
        CHECK_MSG(0, "open %s: %s", path, err);
        return 0;
    }
    cml_method_params mp = {sizeof mp, 2, CML_COMPUTE_DEFAULT, 0};
    cml_method *m = NULL;
    int ok = 0;
    if (cml_method_create(p, NULL, &mp, &m) != CML_OK) {
        CHECK_MSG(0, "method %s: %s", path, cml_program_errmsg(p));
    } else if (weight_counts(m, r) && set_inputs(m, dir)) {
        cml_status st = cml_method_execute(m);
        CHECK_MSG(st == CML_OK, "%s: %s", path, cml_method_errmsg(m));
        ok = st == CML_OK && copy_outputs(m, r);
    }
    cml_method_destroy(m);
    cml_program_close(p);
    return ok;
}

static void check_case(const char *name) {
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", CML_FIXTURE_DIR, name);
    run_result kept = {0}, dense = {0};
    cml_mil_compressed_enable_for_testing(true);
    int ok = load_and_run(dir, &kept);
    cml_mil_compressed_enable_for_testing(false);
    ok = load_and_run(dir, &dense) && ok;
    cml_mil_compressed_enable_for_testing(true);
    if (ok) {
        CHECK_MSG(kept.materialized == 0, "%s: %llu constexpr weights materialized", name,
                  kept.materialized);
        CHECK_MSG(kept.compressed >= 1, "%s: no op reads a compressed weight", name);
        CHECK_MSG(dense.materialized >= 1 && dense.compressed == 0,
                  "%s: the dense reference load kept compressed weights", name);
        CHECK_MSG(kept.resident < dense.resident, "%s: %llu resident bytes, dense %llu", name,
                  kept.resident, dense.resident);
        CHECK_MSG(kept.nout == dense.nout && kept.nout > 0, "%s: output counts", name);
        for (size_t i = 0; i < kept.nout && i < dense.nout; i++)
            CHECK_MSG(kept.bytes[i] == dense.bytes[i] &&
                          memcmp(kept.data[i], dense.data[i], kept.bytes[i]) == 0,
                      "%s: output %zu differs from the dense reference", name, i);
        printf("%-32s %llu ops read compressed weights; resident %llu bytes (dense %llu)\n",
               name, kept.compressed, kept.resident, dense.resident);
    }
    result_free(&kept);
    result_free(&dense);
}

int main(void) {
    /* conv: cnn_pt2e_int8_weight_only (int8 per-channel constexpr_affine_
     * dequantize feeding three convs); linear: the torchao cases. */
    static const char *const cases[] = {
        "cnn_pt2e_int8_weight_only",   "mlp_int4_pergroup32",
        "mlp_int8_peraxis",            "transformer_int4_pergroup32",
        "transformer_int8_peraxis",    "transformer_palettize_uint3",
        "transformer_palettize_uint4", "mobilenet_v2_palettize_uint3",
        "mobilenet_v2_palettize_uint4",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(cases[i]);
    TEST_MAIN_END();
}
