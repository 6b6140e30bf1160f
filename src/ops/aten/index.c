/*
 * Indexing ops: index.Tensor_out (integer index tensors, adjacent or not)
 * and index_select.out. Every index is checked against its dimension at run
 * time, since index values are data.
 */
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

/* ---- index.Tensor_out(Tensor self, Tensor?[] indices, *, Tensor(a!) out)
 *      index_select.out(Tensor self, int dim, Tensor index, *, Tensor(a!) out) -----------
 * Advanced indexing with int64/int32 index tensors (bool masks, whose result
 * size depends on the data, are not supported). The indexed dims are
 * replaced by the broadcast shape B of the index tensors: in place when they
 * are adjacent, else B goes first (NumPy's rule). Every index is checked. */

static const char INDEX[] = "aten::index.Tensor_out";
static const char INDEX_SEL[] = "aten::index_select.out";

typedef struct index_plan {
    const cml_tensor *idx[CML_MAX_DIMS]; /* per self dim, NULL = not indexed */
    int32_t rank_b;
    int64_t b_sizes[CML_MAX_DIMS];
} index_plan;

static cml_status index_read_list(cml_kernel_ctx *ctx, cml_evalue **args, const cml_tensor *self,
                                  index_plan *p) {
    const cml_evalue *v = args[1];
    if (v->kind != CML_VALUE_OPT_TENSOR_LIST && v->kind != CML_VALUE_TENSOR_LIST)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, INDEX, "arg 1: expected a list of optional tensors");
    uint32_t n = v->u.tensor_list.count;
    if (n > (uint32_t)self->rank || n > CML_MAX_DIMS)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, INDEX, "%u indices for a tensor of rank %d", n,
                         self->rank);
    memset(p, 0, sizeof *p);
    for (uint32_t k = 0; k < n; k++) {
        int32_t vi = v->u.tensor_list.items[k];
        if (vi < 0) continue;
        if ((uint32_t)vi >= ctx->nvalues)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, INDEX, "index %u names value %d, out of range", k, vi);
        const cml_evalue *iv = &ctx->values[vi];
        if (iv->kind == CML_VALUE_NULL) continue;
        if (iv->kind != CML_VALUE_TENSOR || !iv->u.t)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, INDEX, "index %u is not a tensor", k);
        p->idx[k] = iv->u.t;
    }
    return CML_OK;
}

static cml_status index_check_tensors(cml_kernel_ctx *ctx, const char *op, const cml_tensor *self,
                                      const index_plan *p, const cml_tensor *out, size_t *need) {
    CML_TRY(cml_aten_prep_copy(ctx, op, self, out));
    *need = 0;
    bool any = false;
    for (int32_t d = 0; d < self->rank; d++) {
        const cml_tensor *t = p->idx[d];
        if (!t) continue;
        any = true;
        if (t->dtype != CML_DTYPE_INT64 && t->dtype != CML_DTYPE_INT32)
            return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "%s indices not supported (int64/int32 only)",
                             cml_dtype_name(t->dtype));
        *need += cml_aten_i64_need(t);
    }
    if (!any) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "no index tensor given");
    return CML_OK;
}

/* Computes B and runs the gather. */
static cml_status index_run_plan(cml_kernel_ctx *ctx, const char *op, const cml_tensor *self,
                                 index_plan *p, cml_tensor *out) {
    int32_t r = self->rank, first = -1, last = -1;
    p->rank_b = 0;
    for (int32_t d = 0; d < r; d++) {
        const cml_tensor *t = p->idx[d];
        if (!t) continue;
        if (first < 0) first = d;
        last = d;
        int32_t nr;
        int64_t ns[CML_MAX_DIMS];
        CML_TRY(cml_aten_broadcast_shape(ctx, op, p->rank_b, p->b_sizes, t->rank, t->sizes, &nr, ns));
        p->rank_b = nr;
        memcpy(p->b_sizes, ns, sizeof ns);
    }
    bool adjacent = true;
    for (int32_t d = first; d <= last; d++) adjacent = adjacent && p->idx[d];
    /* out = [A][B][C]: A = dims before the indexed block (adjacent case only). */
    int32_t na = 0, nc = 0;
    int64_t a_sz[CML_MAX_DIMS], a_st[CML_MAX_DIMS], c_sz[CML_MAX_DIMS], c_st[CML_MAX_DIMS];
    int64_t st[CML_MAX_DIMS];
    cml_tensor_strides(self, st);
    for (int32_t d = 0; d < r; d++) {
        if (p->idx[d]) continue;
        if (adjacent && d < first) {
            a_sz[na] = self->sizes[d];
            a_st[na++] = st[d];
        } else {
            c_sz[nc] = self->sizes[d];
            c_st[nc++] = st[d];
        }
    }
    int32_t orank = na + p->rank_b + nc;
    if (orank > CML_MAX_DIMS) return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "result rank too large");
    int64_t osz[CML_MAX_DIMS];
    memcpy(osz, a_sz, sizeof(int64_t) * (size_t)na);
    memcpy(osz + na, p->b_sizes, sizeof(int64_t) * (size_t)p->rank_b);
    memcpy(osz + na + p->rank_b, c_sz, sizeof(int64_t) * (size_t)nc);
    CML_TRY(cml_aten_resize(ctx, op, out, orank, osz));
    if (cml_tensor_numel(out) == 0) return CML_OK;

    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    const int64_t *ip[CML_MAX_DIMS] = {NULL};
    int64_t ist[CML_MAX_DIMS][CML_MAX_DIMS];
    for (int32_t d = 0; d < r; d++) {
        if (!p->idx[d]) continue;
        ip[d] = cml_aten_load_i64(&s, p->idx[d]);
        if (!ip[d]) return cml_aten_scratch_short(ctx, op);
        cml_aten_tensor_bcast_strides(p->idx[d], p->rank_b, p->b_sizes, ist[d]);
    }
    /* Destination strides: A dims, then (B flattened), then C contiguous. */
    int64_t nb = cml_aten_prod(p->b_sizes, 0, p->rank_b), cn = cml_aten_prod(c_sz, 0, nc);
    int64_t ost[CML_MAX_DIMS], blk_sz[CML_MAX_DIMS], blk_sst[CML_MAX_DIMS], blk_dst[CML_MAX_DIMS];
    cml_aten_contig_strides(orank, osz, ost);
    int32_t nblk = 0;
    for (int32_t k = 0; k < na; k++) {
        blk_sz[nblk] = a_sz[k];
        blk_sst[nblk] = a_st[k];
        blk_dst[nblk++] = ost[k];
    }
    for (int32_t k = 0; k < nc; k++) {
        blk_sz[nblk] = c_sz[k];
        blk_sst[nblk] = c_st[k];
        blk_dst[nblk++] = ost[na + p->rank_b + k];
    }
    size_t es = cml_dtype_size(self->dtype);
    int64_t bidx[CML_MAX_DIMS] = {0};
    for (int64_t b = 0; b < nb; b++) {
        int64_t off = 0;
        for (int32_t d = 0; d < r; d++) {
            if (!ip[d]) continue;
            int64_t io = 0;
            for (int32_t k = 0; k < p->rank_b; k++) io += bidx[k] * ist[d][k];
            int64_t v = ip[d][io], size = self->sizes[d];
            if (v < -size || v >= size)
                return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "index %lld out of range for dim %d of size %lld",
                                 (long long)v, d, (long long)size);
            off += (v < 0 ? v + size : v) * st[d];
        }
        uint8_t *dst = (uint8_t *)out->data + (size_t)(b * cn) * es;
        cml_aten_copy_block(es, nblk, blk_sz, cml_aten_elem_ptr(self, off), blk_sst, dst, blk_dst);
        for (int32_t k = p->rank_b - 1; k >= 0; k--) {
            if (++bidx[k] < p->b_sizes[k]) break;
            bidx[k] = 0;
        }
    }
    return CML_OK;
}

cml_status cml_aten_index_tensor_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                         size_t *scratch_bytes) {
    cml_tensor *self, *out;
    index_plan p;
    CML_TRY(cml_aten_nargs_is(ctx, INDEX, nargs, 4));
    CML_TRY(cml_arg_tensor(ctx, INDEX, args, 0, &self));
    CML_TRY(cml_arg_tensor(ctx, INDEX, args, 2, &out));
    CML_TRY(index_read_list(ctx, args, self, &p));
    return index_check_tensors(ctx, INDEX, self, &p, out, scratch_bytes);
}

cml_status cml_aten_index_tensor_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    index_plan p;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, INDEX, args, 0, &self));
    CML_TRY(cml_arg_tensor(ctx, INDEX, args, 2, &out));
    CML_TRY(index_read_list(ctx, args, self, &p));
    return index_run_plan(ctx, INDEX, self, &p, out);
}

static cml_status index_select_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                    cml_tensor **self, cml_tensor **out, index_plan *p) {
    int64_t dim64;
    int32_t dim;
    cml_tensor *index;
    CML_TRY(cml_aten_nargs_is(ctx, INDEX_SEL, nargs, 5));
    CML_TRY(cml_arg_tensor(ctx, INDEX_SEL, args, 0, self));
    CML_TRY(cml_arg_int(ctx, INDEX_SEL, args, 1, &dim64));
    CML_TRY(cml_arg_tensor(ctx, INDEX_SEL, args, 2, &index));
    CML_TRY(cml_arg_tensor(ctx, INDEX_SEL, args, 3, out));
    if ((*self)->rank == 0) return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, INDEX_SEL, "scalar input");
    CML_TRY(cml_aten_norm_dim(ctx, INDEX_SEL, dim64, (*self)->rank, &dim));
    if (index->rank > 1)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, INDEX_SEL, "index must be 0-D or 1-D, is %d-D", index->rank);
    memset(p, 0, sizeof *p);
    p->idx[dim] = index;
    return CML_OK;
}

cml_status cml_aten_index_select_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                         size_t *scratch_bytes) {
    cml_tensor *self, *out;
    index_plan p;
    CML_TRY(index_select_read(ctx, args, nargs, &self, &out, &p));
    return index_check_tensors(ctx, INDEX_SEL, self, &p, out, scratch_bytes);
}

cml_status cml_aten_index_select_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    index_plan p;
    CML_TRY(index_select_read(ctx, args, nargs, &self, &out, &p));
    /* A 0-D index still yields a size-1 dim. */
    int64_t one = 1;
    for (int32_t d = 0; d < self->rank; d++)
        if (p.idx[d] && p.idx[d]->rank == 0) {
            cml_tensor view = *p.idx[d];
            view.rank = 1;
            view.sizes[0] = one;
            view.dim_order[0] = 0;
            p.idx[d] = &view;
            return index_run_plan(ctx, INDEX_SEL, self, &p, out);
        }
    return index_run_plan(ctx, INDEX_SEL, self, &p, out);
}
