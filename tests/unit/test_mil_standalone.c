/* Standalone .mlpackage programs through the public API, on packages
 * written by the test: enumerated shapes (and the rejection message),
 * shape ranges with output resizing, fp16 model I/O fed float32, states
 * persisting across executions and reset, and the describe line. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cml.h"
#include "core/fp16.h"
#include "harness.h"
#include "unit/mil_builder.h"

#define AT_FLOAT32 CML__COREML__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT32
#define AT_FLOAT16 CML__COREML__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT16

enum { F16 = 10, F32 = 11 };

static char g_tmp[256];

static void rm_rf(const char *path) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", path);
}

static cml_method *open_method(const char *dir, cml_program **prog) {
    char errbuf[512] = "";
    *prog = NULL;
    if (cml_program_open_file(dir, NULL, prog, errbuf, sizeof errbuf) != CML_OK) {
        fprintf(stderr, "open %s: %s\n", dir, errbuf);
        return NULL;
    }
    cml_method *m = NULL;
    if (cml_method_create(*prog, NULL, NULL, &m) != CML_OK) {
        fprintf(stderr, "method: %s\n", cml_program_errmsg(*prog));
        return NULL;
    }
    return m;
}

/* y = identity(x); x has unknown dims bounded by the description. */
static void write_identity(const char *dir, int enumerated) {
    static const int64_t unk3[] = {-1, -1, 10};
    mb_block *b = mb_block_new();
    mb_op *op = mb_op_new(b, "identity", "y");
    mb_in(op, "x", "x");
    mb_out(op, "y", mb_tensor_type(F32, 3, unk3));
    mb_block_out(b, "y");
    mb_function *fn = mb_function_new("CoreML8", b);
    mb_fn_in(fn, "x", mb_tensor_type(F32, 3, unk3));
    static const int64_t def[] = {1, 5, 10}, shapes[] = {1, 5, 10, 4, 6, 10};
    static const int64_t lo[] = {1, 2, 10}, hi[] = {3, 7, 10};
    mb_feature *in = mb_feature_array("x", AT_FLOAT32, 3, def);
    if (enumerated) mb_feature_enum(in, 2, 3, shapes);
    else mb_feature_range(in, 3, lo, hi);
    mb_feature *out = mb_feature_array("y", AT_FLOAT32, 0, NULL);
    CHECK(mb_write_package(dir, 9, fn, &in, 1, &out, 1, NULL, 0) == 0);
}

static cml_status run_shape(cml_method *m, const int64_t *shape, float *buf) {
    int64_t n = shape[0] * shape[1] * shape[2];
    for (int64_t i = 0; i < n; i++) buf[i] = (float)i;
    cml_tensor_view in = {CML_DTYPE_FLOAT32, 3, shape, buf, (size_t)n * sizeof(float)};
    cml_status st = cml_method_set_input(m, 0, &in);
    if (st != CML_OK) return st;
    return cml_method_execute(m);
}

static void test_enumerated(void) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/enum.mlpackage", g_tmp);
    write_identity(dir, 1);
    cml_program *p;
    cml_method *m = open_method(dir, &p);
    CHECK(m != NULL);
    if (!m) {
        cml_program_close(p);
        return;
    }
    cml_io_info info;
    CHECK(cml_method_input_info(m, 0, &info) == CML_OK && info.rank == 3 && info.sizes[0] == 4 &&
          info.sizes[1] == 6 && strcmp(info.name, "x") == 0);
    float buf[4 * 6 * 10];
    static const int64_t ok1[] = {1, 5, 10}, ok2[] = {4, 6, 10}, bad[] = {2, 5, 10};
    CHECK(run_shape(m, ok2, buf) == CML_OK);
    cml_tensor_view out;
    CHECK(cml_method_output(m, 0, &out) == CML_OK && out.rank == 3 && out.sizes[0] == 4 &&
          ((float *)out.data)[239] == 239.0f);
    CHECK(run_shape(m, ok1, buf) == CML_OK);
    CHECK(cml_method_output(m, 0, &out) == CML_OK && out.sizes[0] == 1 && out.sizes[1] == 5);
    CHECK(run_shape(m, bad, buf) == CML_ERR_SHAPE);
    CHECK_MSG(strstr(cml_method_errmsg(m), "input 'x' shape [2, 5, 10] is not one of the "
                                           "enumerated shapes [1, 5, 10], [4, 6, 10]"),
              "%s", cml_method_errmsg(m));
    cml_method_destroy(m);
    /* the runtime override of the compute units shows in the description */
    cml_method_params params = {sizeof params, 1, CML_COMPUTE_CPU_ONLY, 0};
    m = NULL;
    CHECK(cml_method_create(p, NULL, &params, &m) == CML_OK);
    char line[512] = "";
    CHECK(m && cml_method_delegate_describe(m, 0, line, sizeof line) == CML_OK);
    CHECK_MSG(strstr(line, "compute_units=cpu_only; running on CPU"), "%s", line);
    cml_method_destroy(m);
    cml_program_close(p);
}

static void test_range(void) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/range.mlpackage", g_tmp);
    write_identity(dir, 0);
    cml_program *p;
    cml_method *m = open_method(dir, &p);
    CHECK(m != NULL);
    if (!m) {
        cml_program_close(p);
        return;
    }
    CHECK(cml_program_method_count(p) == 1 && strcmp(cml_program_method_name(p, 0), "main") == 0);
    float buf[3 * 7 * 10];
    static const int64_t a[] = {2, 3, 10}, b[] = {3, 7, 10}, low[] = {1, 1, 10};
    CHECK(run_shape(m, a, buf) == CML_OK);
    cml_tensor_view out;
    CHECK(cml_method_output(m, 0, &out) == CML_OK && out.sizes[0] == 2 && out.sizes[1] == 3 &&
          out.nbytes == 60 * sizeof(float) && ((float *)out.data)[59] == 59.0f);
    CHECK(run_shape(m, b, buf) == CML_OK);
    CHECK(cml_method_output(m, 0, &out) == CML_OK && out.sizes[1] == 7);
    CHECK(run_shape(m, low, buf) == CML_ERR_SHAPE); /* dim 1 below its lower bound */
    CHECK_MSG(strstr(cml_method_errmsg(m), "dimension 1 must be in [2, 7]"), "%s",
              cml_method_errmsg(m));
    cml_method_destroy(m);
    cml_program_close(p);
}

/* fp16 I/O, and a state: out = previous state; state = x. */
static void test_fp16_state(void) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/state.mlpackage", g_tmp);
    static const int64_t d3[] = {3};
    mb_block *b = mb_block_new();
    mb_op *r = mb_op_new(b, "read_state", "read_state_0");
    mb_in(r, "input", "acc");
    mb_out(r, "prev", mb_tensor_type(F16, 1, d3));
    mb_op *w = mb_op_new(b, "write_state", "acc_write_state");
    mb_in(w, "input", "acc");
    mb_in(w, "data", "x");
    mb_block_out(b, "prev");
    mb_function *fn = mb_function_new("CoreML8", b);
    mb_fn_in(fn, "x", mb_tensor_type(F16, 1, d3));
    mb_fn_in(fn, "acc", mb_state_type(mb_tensor_type(F16, 1, d3)));
    mb_feature *in = mb_feature_array("x", AT_FLOAT16, 1, d3);
    mb_feature *out = mb_feature_array("prev", AT_FLOAT16, 1, d3);
    mb_feature *st = mb_feature_array("acc", AT_FLOAT16, 1, d3);
    st->type->type_case = CML__COREML__FEATURE_TYPE__TYPE_STATE_TYPE;
    Cml__Coreml__ArrayFeatureType *arr = st->type->multiarraytype;
    st->type->statetype = MB_NEW(Cml__Coreml__StateFeatureType,
                                 CML__COREML__STATE_FEATURE_TYPE__INIT);
    st->type->statetype->type_case = CML__COREML__STATE_FEATURE_TYPE__TYPE_ARRAY_TYPE;
    st->type->statetype->arraytype = arr;
    CHECK(mb_write_package(dir, 9, fn, &in, 1, &out, 1, &st, 1) == 0);

    cml_program *p;
    cml_method *m = open_method(dir, &p);
    CHECK(m != NULL);
    if (!m) {
        cml_program_close(p);
        return;
    }
    cml_io_info info;
    CHECK(cml_method_input_info(m, 0, &info) == CML_OK && info.dtype == CML_DTYPE_FLOAT16);
    CHECK(cml_method_output_info(m, 0, &info) == CML_OK && info.dtype == CML_DTYPE_FLOAT16);
    float x[3] = {1.0001f, -2.5f, 1e-3f};
    cml_tensor_view in_view = {CML_DTYPE_FLOAT32, 1, d3, x, sizeof x};
    cml_tensor_view o;
    CHECK(cml_method_set_input(m, 0, &in_view) == CML_OK); /* float32 feeds fp16 */
    CHECK(cml_method_execute(m) == CML_OK);
    CHECK(cml_method_output(m, 0, &o) == CML_OK && o.dtype == CML_DTYPE_FLOAT16);
    const uint16_t *h = o.data;
    CHECK(h[0] == 0 && h[1] == 0 && h[2] == 0); /* zero-filled state */
    CHECK(cml_method_execute(m) == CML_OK);
    CHECK(cml_method_output(m, 0, &o) == CML_OK);
    h = o.data;
    CHECK(h[0] == cml_fp32_to_fp16(1.0001f) && h[1] == cml_fp32_to_fp16(-2.5f) &&
          h[2] == cml_fp32_to_fp16(1e-3f));
    CHECK(cml_method_reset_state(m) == CML_OK);
    CHECK(cml_method_execute(m) == CML_OK);
    CHECK(cml_method_output(m, 0, &o) == CML_OK && ((const uint16_t *)o.data)[0] == 0);
    CHECK(cml_method_delegate_count(m) == 1);
    char line[512];
    CHECK(cml_method_delegate_describe(m, 0, line, sizeof line) == CML_OK);
    CHECK_MSG(strstr(line, "running on CPU") && strstr(line, "1 states"), "%s", line);
    cml_method_destroy(m);
    cml_program_close(p);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/cml_mil_standalone_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_enumerated();
    test_range();
    test_fp16_state();
    rm_rf(g_tmp);
    mb_free_all();
    TEST_MAIN_END();
}
