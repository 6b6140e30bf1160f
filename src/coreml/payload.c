/* CoreMLBackend payload: CMJR -> inmemoryfs -> metadata + mlpackage; see
 * payload.h. */
#include "coreml/payload.h"

#include <string.h>

#include "core/alloc.h"

cml_status cml_coreml_payload_resolve(const cml_pte_program *program, const uint8_t *processed,
                                      size_t size, const cml_allocator *allocator,
                                      const uint8_t **image, size_t *image_size,
                                      cml_cmjr_ref *ref_out, cml_error *err) {
    if (ref_out) memset(ref_out, 0, sizeof *ref_out);
    if (!cml_cmjr_is_reference(processed, size)) {
        *image = processed;
        *image_size = size;
        return CML_OK;
    }
    cml_cmjr_ref ref;
    CML_TRY(cml_cmjr_parse(processed, size, allocator, &ref, err));
    size_t klen = strlen(ref.key);
    const cml_pte_named_data *nd = NULL;
    for (uint32_t i = 0; program && i < program->nnamed_data && !nd; i++) {
        const cml_pte_named_data *e = &program->named_data[i];
        if (e->key.len == klen && memcmp(e->key.ptr, ref.key, klen) == 0) nd = e;
    }
    if (!nd) {
        cml_status st = cml_fail(err, CML_ERR_CORRUPT, "CMJR reference: named data '%.200s' not "
                                 "found (the program has %u named data entries)", ref.key,
                                 program ? program->nnamed_data : 0);
        cml_cmjr_free(&ref);
        return st;
    }
    *image = nd->data;
    *image_size = nd->size;
    if (ref_out) *ref_out = ref;
    else cml_cmjr_free(&ref);
    return CML_OK;
}

static cml_status check_names(const char *const *names, uint32_t n, cml_pb_feature *const *feats,
                              size_t nfeats, const char *kind, const char *fn, cml_error *err) {
    if (n != nfeats)
        return cml_fail(err, CML_ERR_CORRUPT, "metadata.json lists %u %ss but model function "
                        "'%.100s' has %zu", n, kind, fn, nfeats);
    for (uint32_t i = 0; i < n; i++)
        if (!cml_mlmodel_find_feature(feats, nfeats, names[i]))
            return cml_fail(err, CML_ERR_CORRUPT, "metadata.json %s '%.100s' is not an %s of "
                            "model function '%.100s'", kind, names[i], kind, fn);
    return CML_OK;
}

static cml_status open_parts(cml_coreml_payload *p, const char *method,
                             const cml_allocator *allocator, cml_error *err) {
    CML_TRY(cml_imfs_parse(p->image, p->image_size, allocator, &p->fs, err));
    const cml_imfs_node *root = p->fs.root;
    if (cml_imfs_child(&p->fs, root, "model.mlmodelc", 14))
        return cml_fail(err, CML_ERR_UNSUPPORTED, "model.mlmodelc payloads (compiled on macOS) are "
                        "not supported; export with model_type=model");
    const cml_imfs_node *md = cml_imfs_child(&p->fs, root, "metadata.json", 13);
    if (!md || md->kind != CML_IMFS_FILE)
        return cml_fail(err, CML_ERR_CORRUPT, "payload '%.100s' has no metadata.json", root->name);
    CML_TRY(cml_coreml_metadata_parse(md->data, (size_t)md->size, allocator, &p->metadata, err));
    const char *key = method ? method : p->ref.function_name;
    p->io = cml_coreml_metadata_method(&p->metadata, key, err);
    if (!p->io) return err ? err->status : CML_ERR_NOT_FOUND;

    const cml_imfs_node *pkg = cml_imfs_child(&p->fs, root, "model.mlpackage", 15);
    if (!pkg || pkg->kind != CML_IMFS_DIR)
        return cml_fail(err, CML_ERR_CORRUPT, "payload '%.100s' has neither a model.mlpackage nor "
                        "a model.mlmodelc directory", root->name);
    CML_TRY(cml_mlpackage_open_imfs(&p->fs, pkg, allocator, &p->package, err));

    if (p->ref.function_name) p->function_name = p->ref.function_name;
    else if (p->metadata.multifunction) p->function_name = p->io->method;
    else p->function_name = cml_mlpackage_default_function(&p->package);
    p->function = cml_mlprogram_function(p->package.program, p->function_name);
    if (!p->function)
        return cml_fail(err, CML_ERR_CORRUPT, "model.mlpackage: the program has no function "
                        "'%.100s'", p->function_name);
    CML_TRY(cml_mlpackage_interface(&p->package, p->function_name, &p->interface, err));
    if (p->io->ninputs == 0 && p->package.spec_version < 9)
        return cml_fail(err, CML_ERR_CORRUPT, "metadata.json: 'inputNames' is empty, which needs "
                        "specificationVersion >= 9 (model has %d)", p->package.spec_version);
    CML_TRY(check_names(p->io->input_names, p->io->ninputs, p->interface.inputs,
                        p->interface.ninputs, "input", p->function_name, err));
    return check_names(p->io->output_names, p->io->noutputs, p->interface.outputs,
                       p->interface.noutputs, "output", p->function_name, err);
}

cml_status cml_coreml_payload_open(const cml_pte_program *program, const uint8_t *processed,
                                   size_t size, const char *method,
                                   const cml_allocator *allocator, cml_coreml_payload *out,
                                   cml_error *err) {
    cml_coreml_payload p;
    memset(&p, 0, sizeof p);
    cml_status st = cml_coreml_payload_resolve(program, processed, size, allocator, &p.image,
                                               &p.image_size, &p.ref, err);
    if (st != CML_OK) return st;
    p.is_reference = p.ref.key != NULL;
    st = open_parts(&p, method, allocator, err);
    if (st != CML_OK) {
        cml_coreml_payload_close(&p);
        return st;
    }
    *out = p;
    return CML_OK;
}

void cml_coreml_payload_close(cml_coreml_payload *p) {
    if (!p) return;
    cml_mlpackage_close(&p->package);
    cml_coreml_metadata_free(&p->metadata);
    cml_imfs_free(&p->fs);
    cml_cmjr_free(&p->ref);
    memset(p, 0, sizeof *p);
}
