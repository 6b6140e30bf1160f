/*
 * libFuzzer target: the .npy reader of the CLI (tools/cml/npy.c), through
 * its memory entry point (cml_npy_parse). A parsed array must have a
 * numel and nbytes consistent with its shape and dtype, and that many
 * readable data bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cml_npy a;
    char err[256];
    if (cml_npy_parse(data, size, &a, err, sizeof err) != 0) return 0;
    size_t numel = 1;
    for (int32_t d = 0; d < a.rank; d++) numel *= (size_t)a.sizes[d];
    if (numel != a.numel || a.nbytes != numel * cml_dtype_size(a.dtype) || !a.data)
        __builtin_trap();
    fuzz_touch(a.data, a.nbytes);
    cml_npy_free(&a);
    return 0;
}
