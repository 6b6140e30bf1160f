/* Zero-copy I/O (cml_method_bind_input / cml_method_bind_output) against
 * the copying calls on real fixtures: the same bytes come out, execute
 * reads the caller's input buffer as it is at each call, writes the bound
 * output buffer, and the bindings end as documented. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cml.h"
#include "harness.h"
#include "npy.h"

static cml_method *open_method(const char *path, cml_program **prog) {
    char err[256];
    cml_method *m = NULL;
    *prog = NULL;
    if (cml_program_open_file(path, NULL, prog, err, sizeof err) != CML_OK) return NULL;
    if (cml_method_create(*prog, NULL, NULL, &m) != CML_OK) {
        cml_program_close(*prog);
        *prog = NULL;
    }
    return m;
}

/* Output 0 of a copying run on x (n floats, shape rank/sizes) into out. */
static void copy_run(cml_method *m, const float *x, int32_t rank, const int64_t *sizes, size_t n,
                     float *out, size_t nout) {
    cml_tensor_view v = {CML_DTYPE_FLOAT32, rank, sizes, (void *)x, n * 4};
    cml_tensor_view o;
    CHECK(cml_method_set_input(m, 0, &v) == CML_OK);
    CHECK(cml_method_execute(m) == CML_OK);
    CHECK(cml_method_output(m, 0, &o) == CML_OK && o.nbytes == nout * 4);
    memcpy(out, o.data, nout * 4);
}

static void test_mlp(void) {
    cml_program *prog;
    cml_method *m = open_method(CML_FIXTURE_DIR "/mlp/model.pte", &prog);
    CHECK(m != NULL);
    if (!m) return;
    cml_npy in, exp;
    CHECK(cml_npy_read(CML_FIXTURE_DIR "/mlp/input_0.npy", &in, NULL, 0) == 0);
    CHECK(cml_npy_read(CML_FIXTURE_DIR "/mlp/expected_0.npy", &exp, NULL, 0) == 0);
    size_t n = in.numel, nout = exp.numel;
    float *x = malloc(n * 4), *y = calloc(nout, 4), *ref = malloc(nout * 4);
    memcpy(x, in.data, n * 4);
    copy_run(m, x, in.rank, in.sizes, n, ref, nout);

    cml_tensor_view v = {CML_DTYPE_FLOAT32, in.rank, in.sizes, x, n * 4};
    CHECK(cml_method_bind_input(m, 0, &v) == CML_OK);
    CHECK(cml_method_bind_output(m, 0, y, nout * 4) == CML_OK);
    CHECK(cml_method_execute(m) == CML_OK);
    cml_tensor_view o;
    CHECK(cml_method_output(m, 0, &o) == CML_OK && o.data == (void *)y);
    CHECK(memcmp(y, ref, nout * 4) == 0);
    double err = 0;
    for (size_t i = 0; i < nout; i++) err = fmax(err, fabs(y[i] - ((float *)exp.data)[i]));
    CHECK_MSG(err < 1e-4, "max abs err vs eager %g", err);

    /* The bound input is read at each execute: change it in place. */
    for (size_t i = 0; i < n; i++) x[i] = x[i] * 0.5f + 0.25f;
    float *ref2 = malloc(nout * 4);
    CHECK(cml_method_execute(m) == CML_OK);
    memcpy(ref2, y, nout * 4);
    CHECK(memcmp(ref2, ref, nout * 4) != 0);
    /* the copying path on the same data agrees (binding ended by set_input,
     * output unbound) */
    CHECK(cml_method_bind_output(m, 0, NULL, 0) == CML_OK);
    float *cmp = malloc(nout * 4);
    copy_run(m, x, in.rank, in.sizes, n, cmp, nout);
    CHECK(memcmp(cmp, ref2, nout * 4) == 0);
    CHECK(cml_method_output(m, 0, &o) == CML_OK && o.data != (void *)y);
    /* after set_input the caller's buffer is no longer read */
    for (size_t i = 0; i < n; i++) x[i] = 100.0f;
    CHECK(cml_method_execute(m) == CML_OK);
    CHECK(cml_method_output(m, 0, &o) == CML_OK && memcmp(o.data, cmp, nout * 4) == 0);
    free(cmp);
    free(ref2);
    free(x);
    free(y);
    free(ref);
    cml_npy_free(&in);
    cml_npy_free(&exp);
    cml_method_destroy(m);
    cml_program_close(prog);
}

static void test_errors(void) {
    cml_program *prog;
    cml_method *m = open_method(CML_FIXTURE_DIR "/mlp/model.pte", &prog);
    CHECK(m != NULL);
    if (!m) return;
    cml_io_info info;
    CHECK(cml_method_input_info(m, 0, &info) == CML_OK);
    size_t n = 1;
    for (int32_t d = 0; d < info.rank; d++) n *= (size_t)info.sizes[d];
    float *buf = calloc(n + 1, 4);
    double *dbl = calloc(n, 8);
    cml_tensor_view v = {CML_DTYPE_FLOAT64, info.rank, info.sizes, dbl, n * 8};
    CHECK(cml_method_bind_input(m, 0, &v) == CML_ERR_INVALID_ARG);
    CHECK(strstr(cml_method_errmsg(m), "expected float32, got float64") != NULL);
    v = (cml_tensor_view){CML_DTYPE_FLOAT32, info.rank, info.sizes, (char *)buf + 2, n * 4};
    CHECK(cml_method_bind_input(m, 0, &v) == CML_ERR_INVALID_ARG);
    CHECK(strstr(cml_method_errmsg(m), "not aligned") != NULL);
    v = (cml_tensor_view){CML_DTYPE_FLOAT32, info.rank, info.sizes, buf, n * 4 - 4};
    CHECK(cml_method_bind_input(m, 0, &v) == CML_ERR_INVALID_ARG);
    CHECK(strstr(cml_method_errmsg(m), "data bytes") != NULL);
    int64_t bad[CML_MAX_DIMS];
    memcpy(bad, info.sizes, sizeof(int64_t) * (size_t)info.rank);
    bad[0] += 1;
    v = (cml_tensor_view){CML_DTYPE_FLOAT32, info.rank, bad, buf, (n + 1) * 4 * 2};
    CHECK(cml_method_bind_input(m, 0, &v) == CML_ERR_SHAPE);
    /* a failed bind leaves the input unset */
    CHECK(cml_method_execute(m) == CML_ERR_STATE);
    CHECK(cml_method_bind_input(m, 1, &v) == CML_ERR_INVALID_ARG);
    CHECK(cml_method_bind_input(NULL, 0, &v) == CML_ERR_INVALID_ARG);
    CHECK(cml_method_bind_output(m, 0, buf, 4) == CML_ERR_INVALID_ARG);
    CHECK(strstr(cml_method_errmsg(m), "upper bound") != NULL);
    CHECK(cml_method_bind_output(m, 3, buf, 4) == CML_ERR_INVALID_ARG);
    free(buf);
    free(dbl);
    cml_method_destroy(m);
    cml_program_close(prog);
}

/* A dynamic batch: bound at batch 3, then batch 5 from the same buffer;
 * the output buffer holds the upper bound. */
static void test_flexible(void) {
    cml_program *prog;
    cml_method *m = open_method(CML_FIXTURE_DIR "/flexible_batch/model.pte", &prog);
    CHECK(m != NULL);
    if (!m) return;
    cml_io_info oi;
    CHECK(cml_method_output_info(m, 0, &oi) == CML_OK && oi.rank == 2);
    size_t cap = (size_t)oi.sizes[0] * (size_t)oi.sizes[1];
    float *x = malloc(5 * 3 * 32 * 32 * 4), *y = malloc(cap * 4), *ref = malloc(5 * 4 * 4);
    for (size_t i = 0; i < 5 * 3 * 32 * 32; i++) x[i] = (float)((i * 7919) % 101) / 50.0f - 1.0f;
    int64_t s3[4] = {3, 3, 32, 32}, s5[4] = {5, 3, 32, 32};
    CHECK(cml_method_bind_output(m, 0, y, cap * 4 - 4) == CML_ERR_INVALID_ARG);
    CHECK(cml_method_bind_output(m, 0, y, cap * 4) == CML_OK);
    for (int k = 0; k < 2; k++) {
        const int64_t *s = k ? s5 : s3;
        size_t b = (size_t)s[0];
        cml_tensor_view v = {CML_DTYPE_FLOAT32, 4, s, x, b * 3 * 32 * 32 * 4};
        CHECK(cml_method_bind_input(m, 0, &v) == CML_OK);
        CHECK(cml_method_execute(m) == CML_OK);
        cml_tensor_view o;
        CHECK(cml_method_output(m, 0, &o) == CML_OK);
        CHECK(o.data == (void *)y && o.rank == 2 && o.sizes[0] == (int64_t)b && o.sizes[1] == 4);
        memcpy(ref, y, b * 4 * 4);
        /* the copying path agrees byte for byte */
        CHECK(cml_method_bind_output(m, 0, NULL, 0) == CML_OK);
        CHECK(cml_method_set_input(m, 0, &v) == CML_OK);
        CHECK(cml_method_execute(m) == CML_OK);
        CHECK(cml_method_output(m, 0, &o) == CML_OK && memcmp(o.data, ref, b * 16) == 0);
        CHECK(cml_method_bind_output(m, 0, y, cap * 4) == CML_OK);
    }
    free(x);
    free(y);
    free(ref);
    cml_method_destroy(m);
    cml_program_close(prog);
}

int main(void) {
    test_mlp();
    test_errors();
    test_flexible();
    TEST_MAIN_END();
}
