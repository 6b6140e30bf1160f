/*
 * libFuzzer target: a .pte end to end through the public API. Opens the
 * bytes as a program (memory budget 64 MiB so planned memory stays small:
 * under ASan every allocation's shadow is poisoned on malloc and free, and
 * flexible_batch's 256 MiB upper-bound arena made its executions 5x slower
 * than any other seed's; over budget, it exercises the refusal path),
 * and for each method (at most four): create, set every input to
 * deterministic data of its declared dtype and shape (the bound for dynamic
 * inputs), execute twice, read every output. Any step may fail with a
 * status; none may crash, leak or hit undefined behaviour.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cml.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_METHODS 4
#define MAX_INPUT_BYTES ((size_t)16 << 20)

static cml_status set_input(cml_method *m, size_t i, uint64_t *seed) {
    cml_io_info info;
    cml_status st = cml_method_input_info(m, i, &info);
    if (st != CML_OK) return st;
    /* The default shape (a flexible input's Core ML default), not the upper
     * bound: a batch range up to 4096 would make one run take seconds. */
    cml_io_shape shape = {.struct_size = sizeof shape};
    const int64_t *sizes = info.sizes;
    if (cml_method_input_shape(m, i, &shape) == CML_OK && shape.rank == info.rank)
        sizes = shape.default_sizes;
    size_t es = cml_dtype_size(info.dtype), n = 1;
    for (int32_t d = 0; d < info.rank; d++) {
        if (sizes[d] < 0 || (sizes[d] && n > MAX_INPUT_BYTES / (size_t)sizes[d]))
            return CML_ERR_UNSUPPORTED;
        n *= (size_t)sizes[d];
    }
    if (es == 0 || n > MAX_INPUT_BYTES / es) return CML_ERR_UNSUPPORTED;
    void *buf = malloc(n * es + 1);
    if (!buf) return CML_ERR_NOMEM;
    fuzz_fill(info.dtype, buf, n, seed);
    cml_tensor_view v = {info.dtype, info.rank, sizes, buf, n * es};
    st = cml_method_set_input(m, i, &v);
    free(buf);
    return st;
}

static void read_outputs(cml_method *m) {
    for (size_t i = 0; i < cml_method_output_count(m); i++) {
        cml_io_info info;
        cml_tensor_view v;
        if (cml_method_output_info(m, i, &info) != CML_OK) continue;
        if (cml_method_output(m, i, &v) != CML_OK) continue;
        fuzz_touch(v.data, v.nbytes);
        fuzz_touch(v.sizes, (size_t)v.rank * sizeof *v.sizes);
    }
}

static void run_method(cml_program *p, const char *name, uint64_t seed) {
    /* max_steps: a JumpFalseCall loop or while_loop that never ends (a valid
     * program) stops after a few thousand steps instead of spinning */
    cml_method_params mp = {sizeof mp, 1, CML_COMPUTE_CPU_ONLY, 4096};
    cml_method *m = NULL;
    if (cml_method_create(p, name, &mp, &m) != CML_OK) return;
    (void)cml_method_errmsg(m);
    for (size_t i = 0; i < cml_method_delegate_count(m); i++) {
        char buf[256];
        (void)cml_method_delegate_describe(m, i, buf, sizeof buf);
    }
    bool ok = true;
    for (size_t i = 0; ok && i < cml_method_input_count(m); i++)
        ok = set_input(m, i, &seed) == CML_OK;
    for (int call = 0; ok && call < 2; call++) {
        ok = cml_method_execute(m) == CML_OK;
        if (ok) read_outputs(m);
    }
    (void)cml_method_reset_state(m);
    cml_method_destroy(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A private copy: open_memory keeps pointers into the bytes, and a
     * 16-byte aligned buffer, as a mapping gives. */
    uint8_t *copy = aligned_alloc(16, (size + 16) & ~(size_t)15);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    cml_program_params pp = {.struct_size = sizeof pp, .memory_budget = (uint64_t)64 << 20};
    cml_program *p = NULL;
    char errbuf[256];
    if (cml_program_open_memory(copy, size, &pp, &p, errbuf, sizeof errbuf) == CML_OK) {
        size_t n = cml_program_method_count(p);
        for (size_t i = 0; i < n && i < MAX_METHODS; i++)
            run_method(p, cml_program_method_name(p, i), 0x9e3779b97f4a7c15ull ^ size ^ i);
        cml_program_close(p);
    }
    free(copy);
    return 0;
}
