/*
 * libFuzzer target: a Core ML delegate payload (the processed bytes of a
 * CoreMLBackend delegate): inmemoryfs image, metadata.json, the embedded
 * model.mlpackage (Manifest.json, model.mlmodel) and then the MIL compiler
 * over the chosen function with its weight.bin, as backend init does.
 * The metadata JSON and the inmemoryfs index are also parsed directly, so
 * the parsers see mutations that the container would reject early.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coreml/inmemoryfs.h"
#include "coreml/metadata.h"
#include "coreml/mil_backend.h"
#include "coreml/payload.h"
#include "exec/backend.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cml_status visit(void *ctx, const cml_imfs *fs, const cml_imfs_node *node,
                        const char *path, cml_error *err) {
    (void)ctx, (void)fs, (void)err;
    fuzz_touch(path, strlen(path));
    if (node->kind == CML_IMFS_FILE) fuzz_touch(node->data, (size_t)node->size);
    return CML_OK;
}

static void direct_parsers(const uint8_t *data, size_t size) {
    cml_error err = {0};
    cml_imfs fs;
    if (cml_imfs_parse(data, size, NULL, &fs, &err) == CML_OK) {
        (void)cml_imfs_walk(&fs, NULL, visit, NULL, &err);
        cml_imfs_free(&fs);
    }
    cml_coreml_metadata md;
    if (cml_coreml_metadata_parse(data, size, NULL, &md, &err) == CML_OK) {
        for (uint32_t i = 0; i < md.nmethods; i++)
            (void)cml_coreml_metadata_method(&md, md.methods[i].method, &err);
        cml_coreml_metadata_free(&md);
    }
    cml_cmjr_ref ref;
    if (cml_cmjr_parse(data, size, NULL, &ref, &err) == CML_OK) cml_cmjr_free(&ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size + 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    direct_parsers(copy, size);
    cml_error err = {0};
    cml_coreml_payload p;
    if (cml_coreml_payload_open(NULL, copy, size, NULL, NULL, &p, &err) == CML_OK) {
        void *h = NULL;
        if (cml_coreml_open_function(&p.package, p.function_name, NULL, CML_COMPUTE_CPU_ONLY,
                                     NULL, NULL, (uint64_t)256 << 20, &h, &err) == CML_OK)
            cml_coreml_backend.destroy(h);
        cml_coreml_payload_close(&p);
    }
    free(copy);
    return 0;
}
