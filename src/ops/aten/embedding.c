/*
 * embedding.out(Tensor weight, Tensor indices, SymInt padding_idx=-1,
 *               bool scale_grad_by_freq=False, bool sparse=False, *, Tensor(a!) out)
 *
 * out = weight[indices] with out shape indices.shape + [D]. Indices are
 * int64 or int32 and are checked against the table at run time (a bad index
 * is a clean error, never an out-of-bounds read). padding_idx and the
 * gradient flags only matter for training and are ignored.
 */
#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

static const char EMB[] = "aten::embedding.out";

static cml_status emb_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **w,
                           cml_tensor **idx, cml_tensor **out) {
    if (nargs != 7) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, EMB, "expected 7 args, got %u", nargs);
    int64_t pad;
    bool b;
    CML_TRY(cml_arg_tensor(ctx, EMB, args, 0, w));
    CML_TRY(cml_arg_tensor(ctx, EMB, args, 1, idx));
    CML_TRY(cml_arg_int(ctx, EMB, args, 2, &pad));
    CML_TRY(cml_arg_bool(ctx, EMB, args, 3, &b));
    CML_TRY(cml_arg_bool(ctx, EMB, args, 4, &b));
    CML_TRY(cml_arg_tensor(ctx, EMB, args, 5, out));
    CML_TRY(cml_aten_check_rank(ctx, EMB, *w, "weight", 2, 2));
    if ((*idx)->rank + 1 > CML_MAX_DIMS)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, EMB, "indices rank %d too large", (*idx)->rank);
    return CML_OK;
}

cml_status cml_aten_embedding_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                      size_t *scratch_bytes) {
    cml_tensor *w, *idx, *out;
    CML_TRY(emb_read(ctx, args, nargs, &w, &idx, &out));
    CML_TRY(cml_aten_check_rank(ctx, EMB, w, "weight", 2, 2));
    if (!cml_aten_is_known_dtype(w->dtype)) return cml_aten_bad_dtype(ctx, EMB, "weight", w->dtype);
    if (idx->dtype != CML_DTYPE_INT64 && idx->dtype != CML_DTYPE_INT32)
        return cml_aten_bad_dtype(ctx, EMB, "indices", idx->dtype);
    if (out->dtype != w->dtype)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, EMB, "output dtype %s differs from weight %s",
                         cml_dtype_name(out->dtype), cml_dtype_name(w->dtype));
    if (idx->rank + 1 > CML_MAX_DIMS)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, EMB, "indices rank %d too large", idx->rank);
    CML_TRY(cml_aten_check_contiguous(ctx, EMB, w, "weight"));
    CML_TRY(cml_aten_check_contiguous(ctx, EMB, idx, "indices"));
    CML_TRY(cml_aten_check_contiguous(ctx, EMB, out, "output"));
    *scratch_bytes = cml_aten_i64_need(idx);
    return CML_OK;
}

cml_status cml_aten_embedding_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *w, *idx, *out;
    CML_TRY(emb_read(ctx, args, nargs, &w, &idx, &out));
    int64_t V = w->sizes[0], D = w->sizes[1];
    int64_t osz[CML_MAX_DIMS];
    for (int32_t d = 0; d < idx->rank; d++) osz[d] = idx->sizes[d];
    osz[idx->rank] = D;
    CML_TRY(cml_aten_resize(ctx, EMB, out, idx->rank + 1, osz));
    size_t n = (size_t)cml_tensor_numel(idx);
    if (n == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const int64_t *ix = cml_aten_load_i64(&s, idx);
    if (!ix) return cml_aten_scratch_short(ctx, EMB);
    for (size_t k = 0; k < n; k++)
        if (ix[k] < 0 || ix[k] >= V)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, EMB,
                             "index %lld at position %zu is out of range for %lld embeddings",
                             (long long)ix[k], k, (long long)V);
    if (D == 0) return CML_OK;
    cml_k_gather_rows(w->data, (size_t)D * cml_dtype_size(w->dtype), ix, n, out->data);
    return CML_OK;
}
