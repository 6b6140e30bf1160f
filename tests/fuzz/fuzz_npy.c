/*
 * libFuzzer target: the .npy and .npz readers of the CLI (tools/cml/npy.c
 * through its memory entry point cml_npy_parse, and tools/cml/npz.c, the
 * zip central-directory parser and member extraction, compiled in here;
 * stored members only, as the target is built without zlib). A parsed
 * array must have a numel and nbytes consistent with its shape and dtype,
 * and that many readable data bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "npy.h"
#include "npz.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_array(cml_npy *a) {
    size_t numel = 1;
    for (int32_t d = 0; d < a->rank; d++) numel *= (size_t)a->sizes[d];
    if (numel != a->numel || a->nbytes != numel * cml_dtype_size(a->dtype) || !a->data)
        __builtin_trap();
    fuzz_touch(a->data, a->nbytes);
    cml_npy_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cml_npy a;
    char err[256];
    if (cml_npy_parse(data, size, &a, err, sizeof err) == 0) check_array(&a);
    cli_npz z;
    if (cli_npz_open(data, size, &z, err, sizeof err) != 0) return 0;
    for (size_t k = 0; k < z.count && k < 16; k++)
        if (cli_npz_read(data, size, &z.members[k], &a, err, sizeof err) == 0) check_array(&a);
    cli_npz_close(&z);
    return 0;
}
