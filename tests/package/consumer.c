/* Runs a model through the installed library and header only. */
#include <stdio.h>
#include <stdlib.h>

#include <cml.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    printf("consumer: cml %s\n", cml_version());
    char err[512];
    cml_program *prog = NULL;
    if (cml_program_open_file(argv[1], NULL, &prog, err, sizeof err) != CML_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    cml_method *m = NULL;
    if (cml_method_create(prog, NULL, NULL, &m) != CML_OK) {
        fprintf(stderr, "%s\n", cml_program_errmsg(prog));
        cml_program_close(prog);
        return 1;
    }
    int rc = 0;
    for (size_t i = 0; i < cml_method_input_count(m) && rc == 0; i++) {
        cml_io_info info;
        cml_method_input_info(m, i, &info);
        size_t n = 1;
        for (int32_t d = 0; d < info.rank; d++) n *= (size_t)info.sizes[d];
        void *buf = calloc(n ? n : 1, cml_dtype_size(info.dtype));
        cml_tensor_view v = {info.dtype, info.rank, info.sizes, buf, n * cml_dtype_size(info.dtype)};
        if (cml_method_set_input(m, i, &v) != CML_OK) rc = 1;
        free(buf);
    }
    if (rc == 0 && cml_method_execute(m) != CML_OK) rc = 1;
    cml_tensor_view out;
    if (rc == 0 && cml_method_output(m, 0, &out) == CML_OK)
        printf("consumer: output 0 is %s, rank %d\n", cml_dtype_name(out.dtype), out.rank);
    else
        fprintf(stderr, "%s\n", cml_method_errmsg(m));
    cml_method_destroy(m);
    cml_program_close(prog);
    return rc;
}
