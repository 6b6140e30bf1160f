/*
 * libFuzzer target: model.mlmodel (CoreML.Specification.Model protobuf) and
 * the MIL compiler. The input is
 *   u32 LE n | n bytes of model.mlmodel | the rest: weights/weight.bin
 * (an input shorter than 4 bytes, or whose n runs past the end, is all
 * model.mlmodel with an empty weight.bin). The harness places the two files
 * in a fixed in-memory package with a valid Manifest.json, opens it as a
 * delegate payload's package is opened, and compiles the default function
 * (type inference, constant folding, weight lookups, memory plan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coreml/inmemoryfs.h"
#include "coreml/mil_backend.h"
#include "coreml/mlpackage.h"
#include "exec/backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char k_manifest[] =
    "{\"fileFormatVersion\":\"1.0.0\",\"rootModelIdentifier\":\"m\",\"itemInfoEntries\":"
    "{\"m\":{\"author\":\"com.apple.CoreML\",\"description\":\"CoreML Model Specification\","
    "\"name\":\"model.mlmodel\",\"path\":\"com.apple.CoreML/model.mlmodel\"}}}";

enum { N_MANIFEST, N_MODEL, N_WEIGHT, N_WEIGHTS, N_COREML, N_DATA, N_ROOT, N_COUNT };

static void set_node(cml_imfs_node *n, uint32_t index, const char *name, uint32_t parent,
                     const uint8_t *data, size_t size) {
    memset(n, 0, sizeof *n);
    n->name = name;
    n->name_len = strlen(name);
    n->kind = data ? CML_IMFS_FILE : CML_IMFS_DIR;
    n->index = index;
    n->parent = parent;
    n->data = data;
    n->size = size;
}

/* The package tree: model.mlpackage/{Data/com.apple.CoreML/{model.mlmodel,
 * weights/weight.bin}, Manifest.json}; children sorted bytewise. */
static void build_tree(cml_imfs_node *nodes, const uint8_t *model, size_t model_size,
                       const uint8_t *weight, size_t weight_size) {
    static const uint32_t weights_kids[] = {N_WEIGHT};
    static const uint32_t coreml_kids[] = {N_MODEL, N_WEIGHTS};
    static const uint32_t data_kids[] = {N_COREML};
    static const uint32_t root_kids[] = {N_DATA, N_MANIFEST};
    set_node(&nodes[N_MANIFEST], N_MANIFEST, "Manifest.json", N_ROOT, (const uint8_t *)k_manifest,
             sizeof k_manifest - 1);
    set_node(&nodes[N_MODEL], N_MODEL, "model.mlmodel", N_COREML, model, model_size);
    set_node(&nodes[N_WEIGHT], N_WEIGHT, "weight.bin", N_WEIGHTS, weight, weight_size);
    set_node(&nodes[N_WEIGHTS], N_WEIGHTS, "weights", N_COREML, NULL, 0);
    set_node(&nodes[N_COREML], N_COREML, "com.apple.CoreML", N_DATA, NULL, 0);
    set_node(&nodes[N_DATA], N_DATA, "Data", N_ROOT, NULL, 0);
    set_node(&nodes[N_ROOT], N_ROOT, "model.mlpackage", CML_IMFS_NO_PARENT, NULL, 0);
    nodes[N_WEIGHTS].children = weights_kids, nodes[N_WEIGHTS].nchildren = 1;
    nodes[N_COREML].children = coreml_kids, nodes[N_COREML].nchildren = 2;
    nodes[N_DATA].children = data_kids, nodes[N_DATA].nchildren = 1;
    nodes[N_ROOT].children = root_kids, nodes[N_ROOT].nchildren = 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t model_size = size, off = 0;
    if (size >= 4) {
        uint32_t n = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
                     (uint32_t)data[3] << 24;
        if (n <= size - 4) model_size = n, off = 4;
    }
    /* Private copies sized exactly, so reads past either file are caught. */
    uint8_t *model = malloc(model_size + 1);
    size_t weight_size = off ? size - 4 - model_size : 0;
    uint8_t *weight = malloc(weight_size + 1);
    if (!model || !weight) goto done;
    memcpy(model, data + off, model_size);
    if (weight_size) memcpy(weight, data + 4 + model_size, weight_size);
    cml_imfs_node nodes[N_COUNT];
    build_tree(nodes, model, model_size, weight, weight_size);
    cml_imfs fs = {.nodes = nodes, .nnodes = N_COUNT, .root = &nodes[N_ROOT]};
    cml_error err = {0};
    cml_mlpackage pkg;
    if (cml_mlpackage_open_imfs(&fs, &nodes[N_ROOT], NULL, &pkg, &err) == CML_OK) {
        void *h = NULL;
        if (cml_coreml_open_function(&pkg, NULL, NULL, CML_COMPUTE_CPU_ONLY, NULL, NULL,
                                     (uint64_t)256 << 20, &h, &err) ==
            CML_OK)
            cml_coreml_backend.destroy(h);
        cml_mlpackage_close(&pkg);
    }
done:
    free(model);
    free(weight);
    return 0;
}
