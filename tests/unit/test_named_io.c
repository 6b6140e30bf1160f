/* Named method I/O (cml_method_input_index / cml_method_output_index):
 * .pte inputs and outputs take the Core ML feature names of the delegate
 * inputs / outputs they are, others positional names; .mlpackage methods
 * keep their description's names. Runs the mlp fixture through a name
 * lookup and compares it with its PyTorch eager expected output. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cml.h"
#include "harness.h"
#include "npy.h"

static cml_method *open_method(const char *path, cml_program **prog) {
    *prog = NULL;
    cml_method *m = NULL;
    char err[256];
    if (cml_program_open_file(path, NULL, prog, err, sizeof err) != CML_OK) return NULL;
    if (cml_method_create(*prog, NULL, NULL, &m) != CML_OK) {
        cml_program_close(*prog);
        *prog = NULL;
    }
    return m;
}

static const char *in_name(const cml_method *m, size_t i) {
    cml_io_info info;
    return cml_method_input_info(m, i, &info) == CML_OK ? info.name : NULL;
}

static const char *out_name(const cml_method *m, size_t i) {
    cml_io_info info;
    return cml_method_output_info(m, i, &info) == CML_OK ? info.name : NULL;
}

/* mlp: one Core ML delegate whose input is 'x'; run it by name. */
static void test_delegate_names(void) {
    cml_program *prog;
    cml_method *m = open_method(CML_FIXTURE_DIR "/mlp/model.pte", &prog);
    CHECK(m != NULL);
    if (!m) return;
    CHECK_MSG(strcmp(in_name(m, 0), "x") == 0, "%s", in_name(m, 0));
    CHECK_MSG(strcmp(out_name(m, 0), "aten_softmax_int") == 0, "%s", out_name(m, 0));
    size_t idx = 99;
    CHECK(cml_method_input_index(m, "x", &idx) == CML_OK && idx == 0);
    CHECK(cml_method_output_index(m, "aten_softmax_int", &idx) == CML_OK && idx == 0);
    CHECK(cml_method_input_index(m, "nosuch", &idx) == CML_ERR_NOT_FOUND);
    CHECK_MSG(strcmp(cml_method_errmsg(m), "cml_method_input_index: no input is named 'nosuch'") == 0,
              "%s", cml_method_errmsg(m));
    CHECK(cml_method_input_index(m, "input_0", &idx) == CML_ERR_NOT_FOUND);
    CHECK(cml_method_input_index(m, NULL, &idx) == CML_ERR_INVALID_ARG);
    CHECK(strstr(cml_method_errmsg(m), "NULL argument") != NULL);
    cml_io_info info;
    CHECK(cml_method_output_info(m, 5, &info) == CML_ERR_INVALID_ARG);
    CHECK_MSG(strstr(cml_method_errmsg(m), "output index 5 out of range (1 outputs)") != NULL, "%s",
              cml_method_errmsg(m));
    cml_tensor_view early;
    CHECK(cml_method_output(m, 0, &early) == CML_ERR_STATE);
    CHECK(strstr(cml_method_errmsg(m), "has not executed") != NULL);
    CHECK(cml_method_input_index(m, "x", NULL) == CML_ERR_INVALID_ARG);
    CHECK(cml_method_output_index(NULL, "x", &idx) == CML_ERR_INVALID_ARG);

    cml_npy in, exp;
    CHECK(cml_npy_read(CML_FIXTURE_DIR "/mlp/input_0.npy", &in, NULL, 0) == 0);
    CHECK(cml_npy_read(CML_FIXTURE_DIR "/mlp/expected_0.npy", &exp, NULL, 0) == 0);
    cml_tensor_view v = {.dtype = in.dtype, .rank = in.rank, .sizes = in.sizes, .data = in.data,
                         .nbytes = in.nbytes};
    CHECK(cml_method_input_index(m, "x", &idx) == CML_OK);
    CHECK(cml_method_set_input(m, idx, &v) == CML_OK);
    CHECK(cml_method_execute(m) == CML_OK);
    cml_tensor_view out;
    CHECK(cml_method_output_index(m, "aten_softmax_int", &idx) == CML_OK);
    CHECK(cml_method_output(m, idx, &out) == CML_OK);
    double err = 0;
    for (size_t i = 0; i < exp.numel && i < out.nbytes / 4; i++)
        err = fmax(err, fabs(((const float *)out.data)[i] - ((const float *)exp.data)[i]));
    CHECK_MSG(err < 1e-4, "max abs err %g", err);
    cml_npy_free(&in);
    cml_npy_free(&exp);
    cml_method_destroy(m);
    cml_program_close(prog);
}

/* llm_kv_portable: portable ops only, so every name is positional. */
static void test_positional_names(void) {
    cml_program *prog;
    cml_method *m = open_method(CML_FIXTURE_DIR "/llm_kv_portable/model.pte", &prog);
    CHECK(m != NULL);
    if (!m) return;
    CHECK(cml_method_input_count(m) == 2);
    CHECK(strcmp(in_name(m, 0), "input_0") == 0 && strcmp(in_name(m, 1), "input_1") == 0);
    CHECK(strcmp(out_name(m, 0), "output_0") == 0);
    size_t idx = 0;
    CHECK(cml_method_input_index(m, "input_1", &idx) == CML_OK && idx == 1);
    CHECK(cml_method_output_index(m, "output_0", &idx) == CML_OK && idx == 0);
    CHECK(cml_method_output_index(m, "output_1", &idx) == CML_ERR_NOT_FOUND);
    cml_method_destroy(m);
    cml_program_close(prog);
}

/* Several delegates: method inputs fed to the first delegate take its
 * names ('tokens', 'input_pos'), all distinct. */
static void test_partitioned_names(void) {
    cml_program *prog;
    cml_method *m = open_method(CML_FIXTURE_DIR "/llm_kv_index_put_portable_part/model.pte", &prog);
    CHECK(m != NULL);
    if (!m) return;
    CHECK_MSG(strcmp(in_name(m, 0), "tokens") == 0, "%s", in_name(m, 0));
    CHECK_MSG(strcmp(in_name(m, 1), "input_pos") == 0, "%s", in_name(m, 1));
    size_t idx = 0;
    CHECK(cml_method_input_index(m, "input_pos", &idx) == CML_OK && idx == 1);
    cml_method_destroy(m);
    cml_program_close(prog);
}

int main(void) {
    test_delegate_names();
    test_positional_names();
    test_partitioned_names();
    TEST_MAIN_END();
}
