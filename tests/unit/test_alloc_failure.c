/* Allocation failure is safe everywhere (tolerances are the cases' own): for five real fixtures (portable,
 * delegated fp32, fp16, stateful, quantized) the N-th allocation fails, for
 * every N over open, method create, set_input, execute and reading outputs
 * (evenly sampled where there are many). Each attempt must end in a clean
 * error or in correct outputs: no crash, and no leak (ASan's leak checker
 * runs this test in CI). A clean run after the sweep still matches the
 * PyTorch reference. */
#include <stdlib.h>
#include <string.h>

#include "fixture_util.h"
#include "harness.h"
#include "npy.h"

typedef struct failing_allocator {
    size_t count;   /* allocations so far */
    size_t fail_at; /* 1-based allocation that fails; 0 = none */
} failing_allocator;

static void *fa_alloc(void *ctx, size_t size, size_t align) {
    failing_allocator *f = ctx;
    if (++f->count == f->fail_at) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1) != 0)
        return NULL;
    return p;
}

static void fa_free(void *ctx, void *ptr) {
    (void)ctx;
    free(ptr);
}

typedef struct case_data {
    const char *name, *suffix;
    char path[1200];
    cml_npy in[4], want[4];
    size_t nin, nwant;
    double atol, rtol;
} case_data;

/* One whole run under fail_at. Returns 1 when every step succeeded and the
 * outputs match, 0 on a clean failure, -1 on wrong outputs. */
static int attempt(const case_data *cd, failing_allocator *fa) {
    cml_allocator a = {fa, fa_alloc, fa_free};
    cml_program_params pp = {.struct_size = sizeof pp, .allocator = &a};
    cml_program *prog = NULL;
    char err[512];
    if (cml_program_open_file(cd->path, &pp, &prog, err, sizeof err) != CML_OK) return 0;
    cml_method_params mp = {sizeof mp, 1, CML_COMPUTE_DEFAULT, 0};
    cml_method *m = NULL;
    int result = 0;
    if (cml_method_create(prog, NULL, &mp, &m) != CML_OK) goto done;
    for (size_t i = 0; i < cd->nin; i++) {
        const cml_npy *x = &cd->in[i];
        cml_tensor_view v = {x->dtype, x->rank, x->sizes, x->data, x->nbytes};
        if (cml_method_set_input(m, i, &v) != CML_OK) goto done;
    }
    if (cml_method_execute(m) != CML_OK) goto done;
    result = 1;
    for (size_t i = 0; i < cd->nwant; i++) {
        cml_tensor_view o;
        if (cml_method_output(m, i, &o) != CML_OK) {
            result = 0;
            goto done;
        }
        size_t n = o.nbytes / cml_dtype_size(o.dtype);
        double max_err = 0;
        if (n != cd->want[i].nbytes / cml_dtype_size(cd->want[i].dtype) ||
            fx_compare(o.dtype, o.data, cd->want[i].dtype, cd->want[i].data, n, cd->atol, cd->rtol,
                       &max_err) != 0)
            result = -1;
    }
done:
    cml_method_destroy(m);
    cml_program_close(prog);
    return result;
}

static size_t load_npys(const char *dir, const char *stem, const char *suffix, cml_npy *out) {
    size_t n = 0;
    for (; n < 4; n++) {
        char p[1400], err[256];
        snprintf(p, sizeof p, "%s/%s_%zu%s.npy", dir, stem, n, suffix);
        if (!fx_exists(p) || cml_npy_read(p, &out[n], err, sizeof err) != 0) break;
    }
    return n;
}

static void sweep(const char *name, const char *suffix, double atol, double rtol) {
    case_data cd = {.name = name, .suffix = suffix, .atol = atol, .rtol = rtol};
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/%s", CML_FIXTURE_DIR, name);
    snprintf(cd.path, sizeof cd.path, "%s/model.pte", dir);
    cd.nin = load_npys(dir, "input", suffix, cd.in);
    cd.nwant = load_npys(dir, "expected", suffix, cd.want);
    CHECK_MSG(cd.nin > 0 && cd.nwant > 0, "%s: fixture files", name);
    failing_allocator fa = {0, 0};
    CHECK_MSG(attempt(&cd, &fa) == 1, "%s: clean run", name);
    size_t total = fa.count, tried = 0, clean_fail = 0, wrong = 0;
    const size_t budget = 3000; /* attempts per fixture: all N when total is small */
    for (size_t k = 0; k < (total < budget ? total : budget); k++) {
        size_t n = total <= budget ? k + 1 : 1 + (size_t)((double)k * (double)(total - 1) / (budget - 1));
        failing_allocator f = {0, n};
        int r = attempt(&cd, &f);
        tried++;
        clean_fail += r == 0;
        wrong += r < 0;
    }
    CHECK_MSG(wrong == 0, "%s: %zu runs with a failed allocation gave wrong outputs", name, wrong);
    CHECK_MSG(clean_fail > 0, "%s: no injected failure was reported", name);
    fa.count = 0;
    CHECK_MSG(attempt(&cd, &fa) == 1 && fa.count == total, "%s: clean run after the sweep", name);
    printf("%s: %zu allocations, %zu failure points tried, %zu reported as errors\n", name, total,
           tried, clean_fail);
    for (size_t i = 0; i < cd.nin; i++) cml_npy_free(&cd.in[i]);
    for (size_t i = 0; i < cd.nwant; i++) cml_npy_free(&cd.want[i]);
}

int main(void) {
    sweep("portable_mlp", "", 1e-5, 1e-5);
    sweep("mlp", "", 1e-4, 1e-4);
    sweep("transformer_fp16", "", 2e-2, 1e-2);
    sweep("stateful_states", ".call1", 5e-3, 1e-4);
    sweep("mlp_int8_peraxis", "", 1e-4, 1e-4);
    sweep("cnn_pt2e_int8_weight_only", "", 5e-4, 2e-2); /* convs decoding at use */
    TEST_MAIN_END();
}
