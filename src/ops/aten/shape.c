/*
 * View, copy and creation ops. Everything here moves elements by size
 * (any dtype) through cml_k_copy_strided; only _to_copy and the dim-order
 * copies convert dtypes (cml_k_convert).
 *
 * Inputs are read through their logical strides, so a non-contiguous
 * dim_order input is copied correctly; outputs must be contiguous except for
 * the dim-order copy ops, whose job is to produce another dim order.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

/* ---- helpers ----------------------------------------------------------------------- */

static cml_status read_dims(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                            int64_t *out, uint32_t *count) {
    CML_TRY(cml_arg_int_list(ctx, op, args, i, out, CML_MAX_DIMS, count));
    if (*count > CML_MAX_DIMS)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "arg %u: %u entries exceed the %d-dim limit",
                         i, *count, CML_MAX_DIMS);
    return CML_OK;
}

/* Copies t's elements in logical row-major order to dst (contiguous). */
static void copy_logical(const cml_tensor *t, void *dst) {
    size_t es = cml_dtype_size(t->dtype);
    if (cml_tensor_is_contiguous(t)) {
        size_t n = (size_t)cml_tensor_numel(t) * es;
        if (n && dst != t->data) memmove(dst, t->data, n);
        return;
    }
    int64_t sst[CML_MAX_DIMS], dst_st[CML_MAX_DIMS];
    cml_tensor_strides(t, sst);
    cml_aten_contig_strides(t->rank, t->sizes, dst_st);
    cml_aten_copy_block(es, t->rank, t->sizes, t->data, sst, dst, dst_st);
}

/* Writes one value of dtype dt from a scalar. */
static bool scalar_to(cml_dtype dt, double d, int64_t i, bool is_int, void *dst) {
    if (!is_int && cml_aten_is_int(dt)) { /* truncate like a C cast, but saturating */
        i = cml_aten_double_to_i64(d);
        is_int = true;
    }
    if (is_int) return cml_k_convert(CML_DTYPE_INT64, &i, dt, dst, 1);
    return cml_k_convert(CML_DTYPE_FLOAT64, &d, dt, dst, 1);
}

static void fill_bytes(void *dst, size_t n, size_t es, const void *elem) {
    if (!n) return;
    uint8_t *p = dst;
    memcpy(p, elem, es);
    size_t done = 1;
    while (done < n) {
        size_t m = done < n - done ? done : n - done;
        memcpy(p + done * es, p, m * es);
        done += m;
    }
}

static cml_status fill_tensor(cml_kernel_ctx *ctx, const char *op, cml_tensor *out, double d,
                              int64_t i, bool is_int) {
    uint8_t elem[16];
    if (!scalar_to(out->dtype, d, i, is_int, elem))
        return cml_aten_bad_dtype(ctx, op, "output", out->dtype);
    fill_bytes(out->data, (size_t)cml_tensor_numel(out), cml_dtype_size(out->dtype), elem);
    return CML_OK;
}

/* Resolves a size list with at most one -1 against numel. */
static cml_status infer_size(cml_kernel_ctx *ctx, const char *op, const int64_t *req, uint32_t n,
                             int64_t numel, int64_t *out) {
    int64_t known = 1;
    int32_t infer = -1;
    for (uint32_t k = 0; k < n; k++) {
        if (req[k] == -1) {
            if (infer >= 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "more than one -1 in size");
            infer = (int32_t)k;
        } else if (req[k] < 0) {
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "negative size %lld", (long long)req[k]);
        } else if (__builtin_mul_overflow(known, req[k], &known)) {
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "size overflows");
        }
        out[k] = req[k];
    }
    if (infer >= 0) {
        if (known == 0 || numel % known != 0)
            return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "cannot infer -1 for %lld elements",
                             (long long)numel);
        out[infer] = numel / known;
    } else if (known != numel) {
        char b[160];
        return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "size %s does not hold %lld elements",
                         cml_shape_str((int32_t)n, req, b, sizeof b), (long long)numel);
    }
    return CML_OK;
}

/* ---- view_copy.out(Tensor self, SymInt[] size, *, Tensor(a!) out) -------------------- */

static const char VIEW[] = "aten::view_copy.out";

cml_status cml_aten_view_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                      size_t *scratch_bytes) {
    cml_tensor *self, *out;
    CML_TRY(cml_aten_nargs_is(ctx, VIEW, nargs, 4));
    CML_TRY(cml_arg_tensor(ctx, VIEW, args, 0, &self));
    CML_TRY(cml_arg_tensor(ctx, VIEW, args, 2, &out));
    int64_t sz[CML_MAX_DIMS];
    uint32_t n;
    CML_TRY(read_dims(ctx, VIEW, args, 1, sz, &n));
    *scratch_bytes = 0;
    return cml_aten_prep_copy(ctx, VIEW, self, out);
}

cml_status cml_aten_view_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, VIEW, args, 0, &self));
    CML_TRY(cml_arg_tensor(ctx, VIEW, args, 2, &out));
    int64_t req[CML_MAX_DIMS], sz[CML_MAX_DIMS];
    uint32_t n;
    CML_TRY(read_dims(ctx, VIEW, args, 1, req, &n));
    CML_TRY(infer_size(ctx, VIEW, req, n, cml_tensor_numel(self), sz));
    CML_TRY(cml_aten_resize(ctx, VIEW, out, (int32_t)n, sz));
    copy_logical(self, out->data);
    return CML_OK;
}

/* ---- executorch_prim::et_view.default(Tensor self, int[] size) -> Tensor ------------
 * A true view: out shares self's memory. */

static const char ETVIEW[] = "executorch_prim::et_view.default";

cml_status cml_prim_et_view_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                size_t *scratch_bytes) {
    cml_tensor *self, *out;
    CML_TRY(cml_aten_nargs_is(ctx, ETVIEW, nargs, 3));
    CML_TRY(cml_arg_tensor(ctx, ETVIEW, args, 0, &self));
    CML_TRY(cml_arg_tensor(ctx, ETVIEW, args, 2, &out));
    int64_t sz[CML_MAX_DIMS];
    uint32_t n;
    CML_TRY(read_dims(ctx, ETVIEW, args, 1, sz, &n));
    if (out->dtype != self->dtype)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, ETVIEW, "output dtype %s differs from input %s",
                         cml_dtype_name(out->dtype), cml_dtype_name(self->dtype));
    CML_TRY(cml_aten_check_contiguous(ctx, ETVIEW, self, "input"));
    CML_TRY(cml_aten_check_contiguous(ctx, ETVIEW, out, "output"));
    *scratch_bytes = 0;
    return CML_OK;
}

cml_status cml_prim_et_view_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, ETVIEW, args, 0, &self));
    CML_TRY(cml_arg_tensor(ctx, ETVIEW, args, 2, &out));
    int64_t req[CML_MAX_DIMS], sz[CML_MAX_DIMS];
    uint32_t n;
    CML_TRY(read_dims(ctx, ETVIEW, args, 1, req, &n));
    CML_TRY(infer_size(ctx, ETVIEW, req, n, cml_tensor_numel(self), sz));
    out->data = self->data;
    out->capacity = self->capacity;
    out->is_const = self->is_const;
    return cml_aten_resize(ctx, ETVIEW, out, (int32_t)n, sz);
}

/* ---- permute_copy.out(Tensor self, int[] dims, *, Tensor(a!) out) --------------------- */

static const char PERM[] = "aten::permute_copy.out";

static cml_status perm_read(cml_kernel_ctx *ctx, cml_evalue **args, cml_tensor **self,
                            cml_tensor **out, int32_t *perm) {
    CML_TRY(cml_arg_tensor(ctx, PERM, args, 0, self));
    CML_TRY(cml_arg_tensor(ctx, PERM, args, 2, out));
    int64_t dims[CML_MAX_DIMS];
    uint32_t n;
    CML_TRY(read_dims(ctx, PERM, args, 1, dims, &n));
    int32_t rank = (*self)->rank;
    if ((int32_t)n != rank)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, PERM, "%u dims for rank %d", n, rank);
    bool seen[CML_MAX_DIMS] = {false};
    for (uint32_t k = 0; k < n; k++) {
        int32_t d;
        CML_TRY(cml_aten_norm_dim(ctx, PERM, dims[k], rank, &d));
        if (seen[d]) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, PERM, "dims is not a permutation");
        seen[d] = true;
        perm[k] = d;
    }
    return CML_OK;
}

cml_status cml_aten_permute_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                         size_t *scratch_bytes) {
    cml_tensor *self, *out;
    int32_t perm[CML_MAX_DIMS];
    CML_TRY(cml_aten_nargs_is(ctx, PERM, nargs, 4));
    CML_TRY(perm_read(ctx, args, &self, &out, perm));
    *scratch_bytes = 0;
    return cml_aten_prep_copy(ctx, PERM, self, out);
}

/* Copies self permuted by perm (out dim k = self dim perm[k]) into out. */
static cml_status permute_into(cml_kernel_ctx *ctx, const char *op, const cml_tensor *self,
                               cml_tensor *out, const int32_t *perm) {
    int64_t st[CML_MAX_DIMS], sz[CML_MAX_DIMS], pst[CML_MAX_DIMS], dst[CML_MAX_DIMS];
    cml_tensor_strides(self, st);
    for (int32_t k = 0; k < self->rank; k++) {
        sz[k] = self->sizes[perm[k]];
        pst[k] = st[perm[k]];
    }
    CML_TRY(cml_aten_resize(ctx, op, out, self->rank, sz));
    cml_aten_contig_strides(self->rank, sz, dst);
    cml_aten_copy_block(cml_dtype_size(self->dtype), self->rank, sz, self->data, pst, out->data, dst);
    return CML_OK;
}

cml_status cml_aten_permute_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    int32_t perm[CML_MAX_DIMS];
    (void)nargs;
    CML_TRY(perm_read(ctx, args, &self, &out, perm));
    return permute_into(ctx, PERM, self, out, perm);
}

/* ---- t_copy.out(Tensor self, *, Tensor(a!) out) ------------------------------------------ */

static const char TCOPY[] = "aten::t_copy.out";

cml_status cml_aten_t_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                   size_t *scratch_bytes) {
    cml_tensor *self, *out;
    CML_TRY(cml_aten_nargs_is(ctx, TCOPY, nargs, 3));
    CML_TRY(cml_arg_tensor(ctx, TCOPY, args, 0, &self));
    CML_TRY(cml_arg_tensor(ctx, TCOPY, args, 1, &out));
    CML_TRY(cml_aten_check_rank(ctx, TCOPY, self, "input", 0, 2));
    *scratch_bytes = 0;
    return cml_aten_prep_copy(ctx, TCOPY, self, out);
}

cml_status cml_aten_t_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, TCOPY, args, 0, &self));
    CML_TRY(cml_arg_tensor(ctx, TCOPY, args, 1, &out));
    CML_TRY(cml_aten_check_rank(ctx, TCOPY, self, "input", 0, 2));
    int32_t perm[2] = {1, 0};
    if (self->rank < 2) perm[0] = 0;
    return permute_into(ctx, TCOPY, self, out, perm);
}

/* ---- transpose_copy.int_out(Tensor self, int dim0, int dim1, *, Tensor(a!) out) ---------- */

static const char TRANS[] = "aten::transpose_copy.int_out";

static cml_status trans_read(cml_kernel_ctx *ctx, cml_evalue **args, cml_tensor **self,
                             cml_tensor **out, int32_t *perm) {
    int64_t d0, d1;
    int32_t a, b;
    CML_TRY(cml_arg_tensor(ctx, TRANS, args, 0, self));
    CML_TRY(cml_arg_int(ctx, TRANS, args, 1, &d0));
    CML_TRY(cml_arg_int(ctx, TRANS, args, 2, &d1));
    CML_TRY(cml_arg_tensor(ctx, TRANS, args, 3, out));
    CML_TRY(cml_aten_norm_dim(ctx, TRANS, d0, (*self)->rank, &a));
    CML_TRY(cml_aten_norm_dim(ctx, TRANS, d1, (*self)->rank, &b));
    for (int32_t k = 0; k < (*self)->rank; k++) perm[k] = k;
    if ((*self)->rank > 0) {
        perm[a] = b;
        perm[b] = a;
    }
    return CML_OK;
}

cml_status cml_aten_transpose_copy_int_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                               uint32_t nargs, size_t *scratch_bytes) {
    cml_tensor *self, *out;
    int32_t perm[CML_MAX_DIMS];
    CML_TRY(cml_aten_nargs_is(ctx, TRANS, nargs, 5));
    CML_TRY(trans_read(ctx, args, &self, &out, perm));
    *scratch_bytes = 0;
    return cml_aten_prep_copy(ctx, TRANS, self, out);
}

cml_status cml_aten_transpose_copy_int_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    int32_t perm[CML_MAX_DIMS];
    (void)nargs;
    CML_TRY(trans_read(ctx, args, &self, &out, perm));
    return permute_into(ctx, TRANS, self, out, perm);
}

/* ---- expand_copy.out(Tensor self, SymInt[] size, *, bool implicit=False, Tensor(a!) out) -- */

static const char EXPAND[] = "aten::expand_copy.out";

cml_status cml_aten_expand_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                        size_t *scratch_bytes) {
    cml_tensor *self, *out;
    bool implicit;
    int64_t sz[CML_MAX_DIMS];
    uint32_t n;
    CML_TRY(cml_aten_nargs_is(ctx, EXPAND, nargs, 5));
    CML_TRY(cml_arg_tensor(ctx, EXPAND, args, 0, &self));
    CML_TRY(read_dims(ctx, EXPAND, args, 1, sz, &n));
    CML_TRY(cml_arg_bool(ctx, EXPAND, args, 2, &implicit));
    CML_TRY(cml_arg_tensor(ctx, EXPAND, args, 3, &out));
    *scratch_bytes = 0;
    return cml_aten_prep_copy(ctx, EXPAND, self, out);
}

/* Broadcast-copies self to the shape (rank, sz) into out (contiguous). */
static cml_status broadcast_into(cml_kernel_ctx *ctx, const char *op, const cml_tensor *self,
                                 cml_tensor *out, int32_t rank, const int64_t *sz) {
    int64_t st[CML_MAX_DIMS], bst[CML_MAX_DIMS], dst[CML_MAX_DIMS];
    cml_tensor_strides(self, st);
    int32_t lead = rank - self->rank;
    for (int32_t d = 0; d < rank; d++) {
        int32_t sd = d - lead;
        bst[d] = (sd < 0 || self->sizes[sd] == 1) ? 0 : st[sd];
    }
    CML_TRY(cml_aten_resize(ctx, op, out, rank, sz));
    cml_aten_contig_strides(rank, sz, dst);
    cml_aten_copy_block(cml_dtype_size(self->dtype), rank, sz, self->data, bst, out->data, dst);
    return CML_OK;
}

cml_status cml_aten_expand_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    int64_t req[CML_MAX_DIMS], sz[CML_MAX_DIMS];
    uint32_t n;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, EXPAND, args, 0, &self));
    CML_TRY(read_dims(ctx, EXPAND, args, 1, req, &n));
    CML_TRY(cml_arg_tensor(ctx, EXPAND, args, 3, &out));
    int32_t rank = (int32_t)n;
    if (rank < self->rank)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, EXPAND, "cannot expand rank %d to rank %d", self->rank,
                         rank);
    int32_t lead = rank - self->rank;
    for (int32_t d = 0; d < rank; d++) {
        int32_t sd = d - lead;
        int64_t cur = sd >= 0 ? self->sizes[sd] : 1;
        if (req[d] == -1) {
            if (sd < 0)
                return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, EXPAND, "-1 not allowed for a new dim %d", d);
            sz[d] = cur;
        } else if (req[d] < 0 || (cur != 1 && req[d] != cur)) {
            char b1[160], b2[160];
            return cml_aten_fail(ctx, CML_ERR_SHAPE, EXPAND, "cannot expand %s to %s",
                             cml_shape_str(self->rank, self->sizes, b1, sizeof b1),
                             cml_shape_str(rank, req, b2, sizeof b2));
        } else {
            sz[d] = req[d];
        }
    }
    return broadcast_into(ctx, EXPAND, self, out, rank, sz);
}

/* ---- repeat.out(Tensor self, SymInt[] repeats, *, Tensor(a!) out) ------------------------- */

static const char REPEAT[] = "aten::repeat.out";

cml_status cml_aten_repeat_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                   size_t *scratch_bytes) {
    cml_tensor *self, *out;
    int64_t r[CML_MAX_DIMS];
    uint32_t n;
    CML_TRY(cml_aten_nargs_is(ctx, REPEAT, nargs, 4));
    CML_TRY(cml_arg_tensor(ctx, REPEAT, args, 0, &self));
    CML_TRY(read_dims(ctx, REPEAT, args, 1, r, &n));
    CML_TRY(cml_arg_tensor(ctx, REPEAT, args, 2, &out));
    if (n > CML_MAX_DIMS / 2)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, REPEAT, "%u repeats, at most %d supported", n,
                         CML_MAX_DIMS / 2);
    *scratch_bytes = 0;
    return cml_aten_prep_copy(ctx, REPEAT, self, out);
}

cml_status cml_aten_repeat_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    int64_t r[CML_MAX_DIMS];
    uint32_t n;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, REPEAT, args, 0, &self));
    CML_TRY(read_dims(ctx, REPEAT, args, 1, r, &n));
    CML_TRY(cml_arg_tensor(ctx, REPEAT, args, 2, &out));
    int32_t L = (int32_t)n;
    if (L < self->rank || L > CML_MAX_DIMS / 2)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, REPEAT, "%d repeats for rank %d", L, self->rank);
    int64_t st[CML_MAX_DIMS], osz[CML_MAX_DIMS], vsz[CML_MAX_DIMS], vst[CML_MAX_DIMS],
        dst[CML_MAX_DIMS];
    cml_tensor_strides(self, st);
    int32_t lead = L - self->rank;
    for (int32_t d = 0; d < L; d++) {
        int32_t sd = d - lead;
        int64_t s = sd >= 0 ? self->sizes[sd] : 1;
        if (r[d] < 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, REPEAT, "negative repeat");
        if (__builtin_mul_overflow(s, r[d], &osz[d]))
            return cml_aten_fail(ctx, CML_ERR_SHAPE, REPEAT, "repeated size overflows");
        vsz[2 * d] = r[d];
        vst[2 * d] = 0;
        vsz[2 * d + 1] = s;
        vst[2 * d + 1] = sd >= 0 ? st[sd] : 0;
    }
    CML_TRY(cml_aten_resize(ctx, REPEAT, out, L, osz));
    cml_aten_contig_strides(2 * L, vsz, dst);
    cml_aten_copy_block(cml_dtype_size(self->dtype), 2 * L, vsz, self->data, vst, out->data, dst);
    return CML_OK;
}

/* ---- cat.out(Tensor[] tensors, int dim=0, *, Tensor(a!) out) and stack.out -------------- */

#define MAX_LIST 1024

static const char CAT[] = "aten::cat.out";
static const char STACK[] = "aten::stack.out";

/* Legacy empty tensors ([0]) are skipped by cat. */
static bool cat_skip(const cml_tensor *t) { return t->rank == 1 && t->sizes[0] == 0; }

static cml_status list_prepare(cml_kernel_ctx *ctx, const char *op, cml_evalue **args,
                               uint32_t nargs) {
    cml_tensor *ts[MAX_LIST], *out;
    uint32_t n;
    int64_t dim;
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, 4));
    CML_TRY(cml_aten_arg_tensor_list(ctx, op, args, 0, ts, MAX_LIST, &n));
    CML_TRY(cml_arg_int(ctx, op, args, 1, &dim));
    CML_TRY(cml_arg_tensor(ctx, op, args, 2, &out));
    if (n == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "empty tensor list");
    for (uint32_t k = 0; k < n; k++) {
        if (op == CAT && cat_skip(ts[k])) continue;
        CML_TRY(cml_aten_prep_copy(ctx, op, ts[k], out));
    }
    return CML_OK;
}

cml_status cml_aten_cat_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                size_t *scratch_bytes) {
    *scratch_bytes = 0;
    return list_prepare(ctx, CAT, args, nargs);
}

cml_status cml_aten_cat_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *ts[MAX_LIST], *out;
    uint32_t n;
    int64_t dim64;
    (void)nargs;
    CML_TRY(cml_aten_arg_tensor_list(ctx, CAT, args, 0, ts, MAX_LIST, &n));
    CML_TRY(cml_arg_int(ctx, CAT, args, 1, &dim64));
    CML_TRY(cml_arg_tensor(ctx, CAT, args, 2, &out));
    const cml_tensor *ref = NULL;
    for (uint32_t k = 0; k < n && !ref; k++)
        if (!cat_skip(ts[k])) ref = ts[k];
    if (!ref) { /* all legacy-empty: the result is empty too */
        int64_t zero = 0;
        return cml_aten_resize(ctx, CAT, out, 1, &zero);
    }
    if (ref->rank == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, CAT, "cannot concatenate scalars");
    int32_t dim;
    CML_TRY(cml_aten_norm_dim(ctx, CAT, dim64, ref->rank, &dim));
    int64_t osz[CML_MAX_DIMS];
    memcpy(osz, ref->sizes, sizeof osz);
    osz[dim] = 0;
    for (uint32_t k = 0; k < n; k++) {
        const cml_tensor *t = ts[k];
        if (cat_skip(t)) continue;
        bool ok = t->rank == ref->rank;
        for (int32_t d = 0; ok && d < t->rank; d++) ok = d == dim || t->sizes[d] == ref->sizes[d];
        if (!ok) {
            char b1[160], b2[160];
            return cml_aten_fail(ctx, CML_ERR_SHAPE, CAT, "tensor %u %s does not match %s along dims other than %d",
                             k, cml_shape_str(t->rank, t->sizes, b1, sizeof b1),
                             cml_shape_str(ref->rank, ref->sizes, b2, sizeof b2), dim);
        }
        osz[dim] += t->sizes[dim];
    }
    CML_TRY(cml_aten_resize(ctx, CAT, out, ref->rank, osz));
    int64_t dst[CML_MAX_DIMS];
    cml_aten_contig_strides(ref->rank, osz, dst);
    size_t es = cml_dtype_size(out->dtype);
    int64_t off = 0;
    for (uint32_t k = 0; k < n; k++) {
        const cml_tensor *t = ts[k];
        if (cat_skip(t)) continue;
        int64_t sst[CML_MAX_DIMS];
        cml_tensor_strides(t, sst);
        cml_aten_copy_block(es, t->rank, t->sizes, t->data, sst, (uint8_t *)out->data + (size_t)(off * dst[dim]) * es,
                   dst);
        off += t->sizes[dim];
    }
    return CML_OK;
}

cml_status cml_aten_stack_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                  size_t *scratch_bytes) {
    *scratch_bytes = 0;
    return list_prepare(ctx, STACK, args, nargs);
}

cml_status cml_aten_stack_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *ts[MAX_LIST], *out;
    uint32_t n;
    int64_t dim64;
    (void)nargs;
    CML_TRY(cml_aten_arg_tensor_list(ctx, STACK, args, 0, ts, MAX_LIST, &n));
    CML_TRY(cml_arg_int(ctx, STACK, args, 1, &dim64));
    CML_TRY(cml_arg_tensor(ctx, STACK, args, 2, &out));
    const cml_tensor *ref = ts[0];
    if (ref->rank + 1 > CML_MAX_DIMS) return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, STACK, "rank too large");
    int32_t dim;
    CML_TRY(cml_aten_norm_dim(ctx, STACK, dim64, ref->rank + 1, &dim));
    for (uint32_t k = 1; k < n; k++) {
        bool ok = ts[k]->rank == ref->rank;
        for (int32_t d = 0; ok && d < ref->rank; d++) ok = ts[k]->sizes[d] == ref->sizes[d];
        if (!ok) return cml_aten_fail(ctx, CML_ERR_SHAPE, STACK, "tensor %u has a different shape", k);
    }
    int64_t osz[CML_MAX_DIMS], dst[CML_MAX_DIMS], sub[CML_MAX_DIMS];
    for (int32_t d = 0, s = 0; d <= ref->rank; d++) osz[d] = d == dim ? (int64_t)n : ref->sizes[s++];
    CML_TRY(cml_aten_resize(ctx, STACK, out, ref->rank + 1, osz));
    cml_aten_contig_strides(ref->rank + 1, osz, dst);
    for (int32_t d = 0, s = 0; d <= ref->rank; d++)
        if (d != dim) sub[s++] = dst[d];
    size_t es = cml_dtype_size(out->dtype);
    for (uint32_t k = 0; k < n; k++) {
        int64_t sst[CML_MAX_DIMS];
        cml_tensor_strides(ts[k], sst);
        cml_aten_copy_block(es, ref->rank, ref->sizes, ts[k]->data, sst,
                   (uint8_t *)out->data + (size_t)((int64_t)k * dst[dim]) * es, sub);
    }
    return CML_OK;
}

/* ---- slice_copy.Tensor_out(Tensor self, int dim=0, SymInt? start=None, SymInt? end=None,
 *                            SymInt step=1, *, Tensor(a!) out) -------------------------------- */

static const char SLICE[] = "aten::slice_copy.Tensor_out";

cml_status cml_aten_slice_copy_tensor_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                              uint32_t nargs, size_t *scratch_bytes) {
    cml_tensor *self, *out;
    int64_t dim, step, v;
    bool present;
    CML_TRY(cml_aten_nargs_is(ctx, SLICE, nargs, 7));
    CML_TRY(cml_arg_tensor(ctx, SLICE, args, 0, &self));
    CML_TRY(cml_arg_int(ctx, SLICE, args, 1, &dim));
    CML_TRY(cml_aten_arg_opt_int(ctx, SLICE, args, 2, &present, &v));
    CML_TRY(cml_aten_arg_opt_int(ctx, SLICE, args, 3, &present, &v));
    CML_TRY(cml_arg_int(ctx, SLICE, args, 4, &step));
    CML_TRY(cml_arg_tensor(ctx, SLICE, args, 5, &out));
    if (self->rank == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, SLICE, "cannot slice a scalar");
    *scratch_bytes = 0;
    return cml_aten_prep_copy(ctx, SLICE, self, out);
}

cml_status cml_aten_slice_copy_tensor_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    int64_t dim64, step, start, end;
    bool has_start, has_end;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, SLICE, args, 0, &self));
    CML_TRY(cml_arg_int(ctx, SLICE, args, 1, &dim64));
    CML_TRY(cml_aten_arg_opt_int(ctx, SLICE, args, 2, &has_start, &start));
    CML_TRY(cml_aten_arg_opt_int(ctx, SLICE, args, 3, &has_end, &end));
    CML_TRY(cml_arg_int(ctx, SLICE, args, 4, &step));
    CML_TRY(cml_arg_tensor(ctx, SLICE, args, 5, &out));
    if (step < 1) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, SLICE, "step %lld must be positive", (long long)step);
    if (self->rank == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, SLICE, "cannot slice a scalar");
    int32_t dim;
    CML_TRY(cml_aten_norm_dim(ctx, SLICE, dim64, self->rank, &dim));
    int64_t size = self->sizes[dim];
    if (!has_start) start = 0;
    if (!has_end) end = INT64_MAX;
    if (start < 0) start = start < -size ? 0 : start + size;
    if (end < 0) end = end < -size ? 0 : end + size;
    if (start > size) start = size;
    if (end > size) end = size;
    int64_t len = end > start ? (end - start - 1) / step + 1 : 0;
    int64_t st[CML_MAX_DIMS], sz[CML_MAX_DIMS], dst[CML_MAX_DIMS];
    cml_tensor_strides(self, st);
    memcpy(sz, self->sizes, sizeof sz);
    sz[dim] = len;
    int64_t off = start * st[dim];
    if (len > 1) st[dim] *= step; /* (len - 1) * step < size: no overflow */
    CML_TRY(cml_aten_resize(ctx, SLICE, out, self->rank, sz));
    cml_aten_contig_strides(self->rank, sz, dst);
    cml_aten_copy_block(cml_dtype_size(self->dtype), self->rank, sz, len ? cml_aten_elem_ptr(self, off) : self->data,
               st, out->data, dst);
    return CML_OK;
}

/* ---- select_copy.int_out(Tensor self, int dim, SymInt index, *, Tensor(a!) out) ------------ */

static const char SELECT[] = "aten::select_copy.int_out";

cml_status cml_aten_select_copy_int_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                            size_t *scratch_bytes) {
    cml_tensor *self, *out;
    int64_t v;
    CML_TRY(cml_aten_nargs_is(ctx, SELECT, nargs, 5));
    CML_TRY(cml_arg_tensor(ctx, SELECT, args, 0, &self));
    CML_TRY(cml_arg_int(ctx, SELECT, args, 1, &v));
    CML_TRY(cml_arg_int(ctx, SELECT, args, 2, &v));
    CML_TRY(cml_arg_tensor(ctx, SELECT, args, 3, &out));
    if (self->rank == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, SELECT, "cannot select from a scalar");
    *scratch_bytes = 0;
    return cml_aten_prep_copy(ctx, SELECT, self, out);
}

/* Copies self[..., index, ...] (along dim) into out, resized. */
static cml_status select_into(cml_kernel_ctx *ctx, const char *op, const cml_tensor *self,
                              int32_t dim, int64_t index, cml_tensor *out) {
    if (self->rank == 0 || dim >= self->rank)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "cannot select from a scalar");
    int64_t size = self->sizes[dim];
    if (index < -size || index >= size)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "index %lld out of range for size %lld",
                         (long long)index, (long long)size);
    if (index < 0) index += size;
    int64_t st[CML_MAX_DIMS], sz[CML_MAX_DIMS], sst[CML_MAX_DIMS], dst[CML_MAX_DIMS];
    cml_tensor_strides(self, st);
    int32_t r = 0;
    for (int32_t d = 0; d < self->rank; d++)
        if (d != dim) {
            sz[r] = self->sizes[d];
            sst[r++] = st[d];
        }
    CML_TRY(cml_aten_resize(ctx, op, out, r, sz));
    cml_aten_contig_strides(r, sz, dst);
    cml_aten_copy_block(cml_dtype_size(self->dtype), r, sz, cml_aten_elem_ptr(self, index * st[dim]), sst, out->data,
               dst);
    return CML_OK;
}

cml_status cml_aten_select_copy_int_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    int64_t dim64, index;
    int32_t dim;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, SELECT, args, 0, &self));
    CML_TRY(cml_arg_int(ctx, SELECT, args, 1, &dim64));
    CML_TRY(cml_arg_int(ctx, SELECT, args, 2, &index));
    CML_TRY(cml_arg_tensor(ctx, SELECT, args, 3, &out));
    CML_TRY(cml_aten_norm_dim(ctx, SELECT, dim64, self->rank, &dim));
    return select_into(ctx, SELECT, self, dim, index, out);
}

/* ---- unbind_copy.int_out(Tensor self, int dim=0, *, Tensor(a!)[] out) ------------------- */

static const char UNBIND[] = "aten::unbind_copy.int_out";

cml_status cml_aten_unbind_copy_int_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                            size_t *scratch_bytes) {
    cml_tensor *self, *outs[MAX_LIST];
    int64_t dim;
    uint32_t n;
    CML_TRY(cml_aten_nargs_is(ctx, UNBIND, nargs, 4));
    CML_TRY(cml_arg_tensor(ctx, UNBIND, args, 0, &self));
    CML_TRY(cml_arg_int(ctx, UNBIND, args, 1, &dim));
    CML_TRY(cml_aten_arg_tensor_list(ctx, UNBIND, args, 2, outs, MAX_LIST, &n));
    if (self->rank == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, UNBIND, "cannot unbind a scalar");
    for (uint32_t k = 0; k < n; k++) CML_TRY(cml_aten_prep_copy(ctx, UNBIND, self, outs[k]));
    *scratch_bytes = 0;
    return CML_OK;
}

cml_status cml_aten_unbind_copy_int_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *outs[MAX_LIST];
    int64_t dim64;
    uint32_t n;
    int32_t dim;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, UNBIND, args, 0, &self));
    CML_TRY(cml_arg_int(ctx, UNBIND, args, 1, &dim64));
    CML_TRY(cml_aten_arg_tensor_list(ctx, UNBIND, args, 2, outs, MAX_LIST, &n));
    if (self->rank == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, UNBIND, "cannot unbind a scalar");
    CML_TRY(cml_aten_norm_dim(ctx, UNBIND, dim64, self->rank, &dim));
    if ((int64_t)n != self->sizes[dim])
        return cml_aten_fail(ctx, CML_ERR_SHAPE, UNBIND, "%u outputs for a dim of size %lld", n,
                         (long long)self->sizes[dim]);
    for (uint32_t k = 0; k < n; k++) CML_TRY(select_into(ctx, UNBIND, self, dim, (int64_t)k, outs[k]));
    return CML_OK;
}

/* ---- split_with_sizes_copy.out(Tensor self, SymInt[] split_sizes, int dim=0, *, Tensor(a!)[] out)
 *      split_copy.Tensor_out(Tensor self, SymInt split_size, int dim=0, *, Tensor(a!)[] out) ---- */

static const char SPLITW[] = "aten::split_with_sizes_copy.out";
static const char SPLIT[] = "aten::split_copy.Tensor_out";

static cml_status split_prepare(cml_kernel_ctx *ctx, const char *op, bool with_sizes,
                                cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *outs[MAX_LIST];
    int64_t dim, v;
    uint32_t n;
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, 5));
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &self));
    if (with_sizes) {
        int64_t tmp[1];
        uint32_t cnt;
        CML_TRY(cml_arg_int_list(ctx, op, args, 1, tmp, 1, &cnt));
    } else {
        CML_TRY(cml_arg_int(ctx, op, args, 1, &v));
    }
    CML_TRY(cml_arg_int(ctx, op, args, 2, &dim));
    CML_TRY(cml_aten_arg_tensor_list(ctx, op, args, 3, outs, MAX_LIST, &n));
    if (self->rank == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "cannot split a scalar");
    for (uint32_t k = 0; k < n; k++) CML_TRY(cml_aten_prep_copy(ctx, op, self, outs[k]));
    return CML_OK;
}

/* Copies consecutive chunks of the given lengths along dim into outs. */
static cml_status split_into(cml_kernel_ctx *ctx, const char *op, const cml_tensor *self,
                             int32_t dim, const int64_t *lens, uint32_t n, cml_tensor **outs) {
    int64_t st[CML_MAX_DIMS], sz[CML_MAX_DIMS], dst[CML_MAX_DIMS];
    cml_tensor_strides(self, st);
    int64_t off = 0;
    for (uint32_t k = 0; k < n; k++) {
        memcpy(sz, self->sizes, sizeof sz);
        sz[dim] = lens[k];
        CML_TRY(cml_aten_resize(ctx, op, outs[k], self->rank, sz));
        cml_aten_contig_strides(self->rank, sz, dst);
        cml_aten_copy_block(cml_dtype_size(self->dtype), self->rank, sz,
                   lens[k] ? cml_aten_elem_ptr(self, off * st[dim]) : self->data, st, outs[k]->data, dst);
        off += lens[k];
    }
    return CML_OK;
}

cml_status cml_aten_split_with_sizes_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                                  uint32_t nargs, size_t *scratch_bytes) {
    *scratch_bytes = 0;
    return split_prepare(ctx, SPLITW, true, args, nargs);
}

cml_status cml_aten_split_with_sizes_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args,
                                              uint32_t nargs) {
    cml_tensor *self, *outs[MAX_LIST];
    int64_t dim64, lens[MAX_LIST];
    uint32_t n, nl;
    int32_t dim;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, SPLITW, args, 0, &self));
    CML_TRY(cml_arg_int_list(ctx, SPLITW, args, 1, lens, MAX_LIST, &nl));
    CML_TRY(cml_arg_int(ctx, SPLITW, args, 2, &dim64));
    CML_TRY(cml_aten_arg_tensor_list(ctx, SPLITW, args, 3, outs, MAX_LIST, &n));
    if (self->rank == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, SPLITW, "cannot split a scalar");
    CML_TRY(cml_aten_norm_dim(ctx, SPLITW, dim64, self->rank, &dim));
    if (nl != n)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, SPLITW, "%u split sizes for %u outputs", nl, n);
    int64_t total = 0;
    for (uint32_t k = 0; k < n; k++) {
        if (lens[k] < 0 || lens[k] > self->sizes[dim])
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, SPLITW, "bad split size %lld",
                             (long long)lens[k]);
        total += lens[k]; /* n <= MAX_LIST sizes each <= the dim: no overflow */
    }
    if (total != self->sizes[dim])
        return cml_aten_fail(ctx, CML_ERR_SHAPE, SPLITW, "split sizes sum to %lld, dim %d has %lld",
                         (long long)total, dim, (long long)self->sizes[dim]);
    return split_into(ctx, SPLITW, self, dim, lens, n, outs);
}

cml_status cml_aten_split_copy_tensor_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                              uint32_t nargs, size_t *scratch_bytes) {
    *scratch_bytes = 0;
    return split_prepare(ctx, SPLIT, false, args, nargs);
}

cml_status cml_aten_split_copy_tensor_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *outs[MAX_LIST];
    int64_t dim64, split, lens[MAX_LIST];
    uint32_t n;
    int32_t dim;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, SPLIT, args, 0, &self));
    CML_TRY(cml_arg_int(ctx, SPLIT, args, 1, &split));
    CML_TRY(cml_arg_int(ctx, SPLIT, args, 2, &dim64));
    CML_TRY(cml_aten_arg_tensor_list(ctx, SPLIT, args, 3, outs, MAX_LIST, &n));
    if (self->rank == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, SPLIT, "cannot split a scalar");
    CML_TRY(cml_aten_norm_dim(ctx, SPLIT, dim64, self->rank, &dim));
    int64_t size = self->sizes[dim];
    if (split < 0 || (split == 0 && size != 0))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, SPLIT, "bad split_size %lld", (long long)split);
    int64_t chunks = split ? (split >= size ? 1 : (size - 1) / split + 1) : 1;
    if (chunks == 0) chunks = 1;
    if (chunks != (int64_t)n)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, SPLIT, "%lld chunks for %u outputs", (long long)chunks, n);
    for (uint32_t k = 0; k < n; k++) {
        int64_t left = size - (int64_t)k * split; /* k < chunks: k * split < size */
        lens[k] = left < split ? (left > 0 ? left : 0) : split;
    }
    return split_into(ctx, SPLIT, self, dim, lens, n, outs);
}

/* ---- squeeze / unsqueeze ---------------------------------------------------------------- */

static const char SQZ_DIMS[] = "aten::squeeze_copy.dims_out";
static const char SQZ_DIM[] = "aten::squeeze_copy.dim_out";
static const char SQZ_ALL[] = "aten::squeeze_copy.out";
static const char UNSQZ[] = "aten::unsqueeze_copy.out";

/* kind: 0 = all size-1 dims, 1 = one dim (arg 1 Int), 2 = dim list (arg 1). */
static cml_status squeeze_common(cml_kernel_ctx *ctx, const char *op, int kind, cml_evalue **args,
                                 uint32_t nargs, size_t *scratch_bytes) {
    cml_tensor *self, *out;
    uint32_t want = kind == 0 ? 3 : 4;
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, want));
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &self));
    CML_TRY(cml_arg_tensor(ctx, op, args, want - 2, &out));
    bool mask[CML_MAX_DIMS] = {false};
    if (kind == 0) {
        for (int32_t d = 0; d < self->rank; d++) mask[d] = true;
    } else {
        int64_t dims[CML_MAX_DIMS];
        uint32_t n = 1;
        if (kind == 1) CML_TRY(cml_arg_int(ctx, op, args, 1, &dims[0]));
        else CML_TRY(read_dims(ctx, op, args, 1, dims, &n));
        for (uint32_t k = 0; k < n; k++) {
            int32_t d;
            CML_TRY(cml_aten_norm_dim(ctx, op, dims[k], self->rank, &d));
            if (self->rank) mask[d] = true;
        }
    }
    if (scratch_bytes) {
        *scratch_bytes = 0;
        return cml_aten_prep_copy(ctx, op, self, out);
    }
    int64_t sz[CML_MAX_DIMS];
    int32_t r = 0;
    for (int32_t d = 0; d < self->rank; d++)
        if (!(mask[d] && self->sizes[d] == 1)) sz[r++] = self->sizes[d];
    CML_TRY(cml_aten_resize(ctx, op, out, r, sz));
    copy_logical(self, out->data);
    return CML_OK;
}

cml_status cml_aten_squeeze_copy_dims_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                              uint32_t nargs, size_t *scratch_bytes) {
    return squeeze_common(ctx, SQZ_DIMS, 2, args, nargs, scratch_bytes);
}
cml_status cml_aten_squeeze_copy_dims_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return squeeze_common(ctx, SQZ_DIMS, 2, args, nargs, NULL);
}
cml_status cml_aten_squeeze_copy_dim_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                             uint32_t nargs, size_t *scratch_bytes) {
    return squeeze_common(ctx, SQZ_DIM, 1, args, nargs, scratch_bytes);
}
cml_status cml_aten_squeeze_copy_dim_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return squeeze_common(ctx, SQZ_DIM, 1, args, nargs, NULL);
}
cml_status cml_aten_squeeze_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                         size_t *scratch_bytes) {
    return squeeze_common(ctx, SQZ_ALL, 0, args, nargs, scratch_bytes);
}
cml_status cml_aten_squeeze_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return squeeze_common(ctx, SQZ_ALL, 0, args, nargs, NULL);
}

static cml_status unsqueeze_common(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                   size_t *scratch_bytes) {
    cml_tensor *self, *out;
    int64_t dim64;
    CML_TRY(cml_aten_nargs_is(ctx, UNSQZ, nargs, 4));
    CML_TRY(cml_arg_tensor(ctx, UNSQZ, args, 0, &self));
    CML_TRY(cml_arg_int(ctx, UNSQZ, args, 1, &dim64));
    CML_TRY(cml_arg_tensor(ctx, UNSQZ, args, 2, &out));
    if (self->rank >= CML_MAX_DIMS) return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, UNSQZ, "rank too large");
    int32_t dim;
    CML_TRY(cml_aten_norm_dim(ctx, UNSQZ, dim64, self->rank + 1, &dim));
    if (scratch_bytes) {
        *scratch_bytes = 0;
        return cml_aten_prep_copy(ctx, UNSQZ, self, out);
    }
    int64_t sz[CML_MAX_DIMS];
    for (int32_t d = 0, s = 0; d <= self->rank; d++) sz[d] = d == dim ? 1 : self->sizes[s++];
    CML_TRY(cml_aten_resize(ctx, UNSQZ, out, self->rank + 1, sz));
    copy_logical(self, out->data);
    return CML_OK;
}

cml_status cml_aten_unsqueeze_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                           size_t *scratch_bytes) {
    return unsqueeze_common(ctx, args, nargs, scratch_bytes);
}
cml_status cml_aten_unsqueeze_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return unsqueeze_common(ctx, args, nargs, NULL);
}

/* ---- clone / alias_copy / _to_copy and the dim-order copies ------------------------------ */

enum copy_kind {
    CK_CLONE,     /* clone.out(self, memory_format?, out) */
    CK_ALIAS,     /* alias_copy.out(self, out) */
    CK_TO_COPY,   /* _to_copy.out(self, non_blocking, memory_format?, out) */
    CK_DIM_ORDER, /* _to_dim_order_copy.out / _clone_dim_order.out(self, non_blocking, dim_order?, out) */
};

typedef struct copy_spec {
    const char *name;
    uint8_t kind;
    uint8_t convert; /* dtype may change */
    uint8_t nargs;
} copy_spec;

/* MemoryFormat as serialised: 0 contiguous, 1 preserve. */
static cml_status check_memory_format(cml_kernel_ctx *ctx, const char *op, cml_evalue **args,
                                      uint32_t i) {
    if (cml_arg_is_none(args, i)) return CML_OK;
    int64_t mf;
    CML_TRY(cml_arg_int(ctx, op, args, i, &mf));
    if (mf != 0 && mf != 1)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op,
                         "memory_format %lld not supported (contiguous or preserve only)", (long long)mf);
    return CML_OK;
}

static cml_status copy_read(cml_kernel_ctx *ctx, const copy_spec *sp, cml_evalue **args,
                            uint32_t nargs, cml_tensor **self, cml_tensor **out) {
    const char *op = sp->name;
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, sp->nargs));
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, self));
    CML_TRY(cml_arg_tensor(ctx, op, args, nargs - 2, out));
    bool nb;
    switch (sp->kind) {
    case CK_CLONE: CML_TRY(check_memory_format(ctx, op, args, 1)); break;
    case CK_TO_COPY:
        CML_TRY(cml_arg_bool(ctx, op, args, 1, &nb));
        CML_TRY(check_memory_format(ctx, op, args, 2));
        break;
    case CK_DIM_ORDER:
        CML_TRY(cml_arg_bool(ctx, op, args, 1, &nb));
        if (!cml_arg_is_none(args, 2)) {
            int64_t order[CML_MAX_DIMS];
            uint32_t n;
            CML_TRY(read_dims(ctx, op, args, 2, order, &n));
            bool ok = (int32_t)n == (*out)->rank;
            for (uint32_t k = 0; ok && k < n; k++) ok = order[k] == (int64_t)(*out)->dim_order[k];
            if (!ok)
                return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op,
                                 "dim_order argument does not match the output's dim order");
        }
        break;
    default: break;
    }
    return CML_OK;
}

static bool same_layout(const cml_tensor *a, const cml_tensor *b) {
    if (a->rank != b->rank) return false;
    for (int32_t d = 0; d < a->rank; d++)
        if (a->dim_order[d] != b->dim_order[d] && a->sizes[a->dim_order[d]] != 1) return false;
    return true;
}

static cml_status copy_prepare(cml_kernel_ctx *ctx, const copy_spec *sp, cml_evalue **args,
                               uint32_t nargs, size_t *scratch_bytes) {
    cml_tensor *self, *out;
    CML_TRY(copy_read(ctx, sp, args, nargs, &self, &out));
    const char *op = sp->name;
    *scratch_bytes = 0;
    if (!cml_aten_is_known_dtype(self->dtype)) return cml_aten_bad_dtype(ctx, op, "input", self->dtype);
    if (!cml_aten_is_known_dtype(out->dtype)) return cml_aten_bad_dtype(ctx, op, "output", out->dtype);
    if (sp->kind != CK_DIM_ORDER) CML_TRY(cml_aten_check_contiguous(ctx, op, out, "output"));
    if (self->dtype != out->dtype) {
        if (!sp->convert)
            return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "output dtype %s differs from input %s",
                             cml_dtype_name(out->dtype), cml_dtype_name(self->dtype));
        uint8_t probe_in[16] = {0}, probe_out[16];
        if (!cml_k_convert(self->dtype, probe_in, out->dtype, probe_out, 1))
            return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "conversion %s -> %s not supported",
                             cml_dtype_name(self->dtype), cml_dtype_name(out->dtype));
        if (!same_layout(self, out))
            *scratch_bytes = cml_aten_align(cml_aten_bound_numel(self) * cml_dtype_size(self->dtype));
    }
    return CML_OK;
}

static cml_status copy_run(cml_kernel_ctx *ctx, const copy_spec *sp, cml_evalue **args,
                           uint32_t nargs) {
    cml_tensor *self, *out;
    const char *op = sp->name;
    CML_TRY(copy_read(ctx, sp, args, nargs, &self, &out));
    CML_TRY(cml_aten_resize(ctx, op, out, self->rank, self->sizes));
    size_t n = (size_t)cml_tensor_numel(out);
    if (n == 0) return CML_OK;
    size_t es = cml_dtype_size(self->dtype);
    bool layout = same_layout(self, out);
    if (self->dtype == out->dtype) {
        if (layout) {
            if (out->data != self->data) memmove(out->data, self->data, n * es);
        } else {
            int64_t sst[CML_MAX_DIMS], dst[CML_MAX_DIMS];
            cml_tensor_strides(self, sst);
            cml_tensor_strides(out, dst);
            cml_aten_copy_block(es, self->rank, self->sizes, self->data, sst, out->data, dst);
        }
        return CML_OK;
    }
    const void *src = self->data;
    if (!layout) { /* re-lay out in the source dtype, then convert linearly */
        cml_aten_scratch s = cml_aten_scratch_of(ctx);
        void *buf = cml_aten_scratch_alloc(&s, n * es);
        if (!buf) return cml_aten_scratch_short(ctx, op);
        int64_t sst[CML_MAX_DIMS], dst[CML_MAX_DIMS];
        cml_tensor_strides(self, sst);
        cml_tensor_strides(out, dst);
        cml_aten_copy_block(es, self->rank, self->sizes, self->data, sst, buf, dst);
        src = buf;
    }
    if (!cml_k_convert(self->dtype, src, out->dtype, out->data, n))
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "conversion %s -> %s not supported",
                         cml_dtype_name(self->dtype), cml_dtype_name(out->dtype));
    return CML_OK;
}

#define COPY_OP(fn, NAME, KIND, CONVERT, NARGS)                                                  \
    static const copy_spec fn##_spec = {NAME, KIND, CONVERT, NARGS};                             \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes) {                                             \
        return copy_prepare(ctx, &fn##_spec, args, nargs, scratch_bytes);                        \
    }                                                                                            \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                \
        return copy_run(ctx, &fn##_spec, args, nargs);                                           \
    }

COPY_OP(cml_aten_clone_out,      "aten::clone.out",      CK_CLONE,   0, 4)
COPY_OP(cml_aten_alias_copy_out, "aten::alias_copy.out", CK_ALIAS,   0, 3)
COPY_OP(cml_aten_detach_copy_out, "aten::detach_copy.out", CK_ALIAS,  0, 3)
COPY_OP(cml_aten_lift_fresh_copy_out, "aten::lift_fresh_copy.out", CK_ALIAS, 0, 3)
COPY_OP(cml_aten_to_copy_out,    "aten::_to_copy.out",   CK_TO_COPY, 1, 5)
COPY_OP(cml_dim_order_to_dim_order_copy_out, "dim_order_ops::_to_dim_order_copy.out", CK_DIM_ORDER, 1, 5)
COPY_OP(cml_dim_order_clone_dim_order_out,   "dim_order_ops::_clone_dim_order.out",   CK_DIM_ORDER, 0, 5)

/* ---- constant_pad_nd.out(Tensor self, SymInt[] pad, Scalar value=0, *, Tensor(a!) out) ---- */

static const char PAD[] = "aten::constant_pad_nd.out";

cml_status cml_aten_constant_pad_nd_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                            size_t *scratch_bytes) {
    cml_tensor *self, *out;
    int64_t pad[CML_MAX_DIMS], iv;
    uint32_t n;
    double d;
    bool is_int;
    CML_TRY(cml_aten_nargs_is(ctx, PAD, nargs, 5));
    CML_TRY(cml_arg_tensor(ctx, PAD, args, 0, &self));
    CML_TRY(read_dims(ctx, PAD, args, 1, pad, &n));
    CML_TRY(cml_aten_arg_scalar(ctx, PAD, args, 2, &d, &iv, &is_int));
    CML_TRY(cml_arg_tensor(ctx, PAD, args, 3, &out));
    if (n % 2 != 0 || (int32_t)(n / 2) > self->rank)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, PAD, "pad has %u entries for rank %d", n, self->rank);
    *scratch_bytes = 0;
    return cml_aten_prep_copy(ctx, PAD, self, out);
}

cml_status cml_aten_constant_pad_nd_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    int64_t pad[CML_MAX_DIMS], iv;
    uint32_t n;
    double d;
    bool is_int;
    (void)nargs;
    CML_TRY(cml_arg_tensor(ctx, PAD, args, 0, &self));
    CML_TRY(read_dims(ctx, PAD, args, 1, pad, &n));
    CML_TRY(cml_aten_arg_scalar(ctx, PAD, args, 2, &d, &iv, &is_int));
    CML_TRY(cml_arg_tensor(ctx, PAD, args, 3, &out));
    if (n % 2 != 0 || (int32_t)(n / 2) > self->rank)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, PAD, "pad has %u entries for rank %d", n, self->rank);
    int32_t rank = self->rank;
    int64_t osz[CML_MAX_DIMS], sst[CML_MAX_DIMS], csz[CML_MAX_DIMS];
    int64_t src_off = 0;
    cml_tensor_strides(self, sst);
    bool empty = false;
    for (int32_t dd = 0; dd < rank; dd++) {
        int32_t from_last = rank - 1 - dd;
        int64_t l = 0, r = 0;
        if ((uint32_t)(2 * from_last + 1) < n) {
            l = pad[2 * from_last];
            r = pad[2 * from_last + 1];
        }
        if (l < -((int64_t)1 << 48) || l > ((int64_t)1 << 48) || r < -((int64_t)1 << 48) ||
            r > ((int64_t)1 << 48))
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, PAD, "padding %lld/%lld out of range",
                             (long long)l, (long long)r);
        osz[dd] = self->sizes[dd] + l + r;
        if (osz[dd] < 0)
            return cml_aten_fail(ctx, CML_ERR_SHAPE, PAD, "padding makes dim %d negative", dd);
        int64_t s0 = l < 0 ? -l : 0, d0 = l > 0 ? l : 0; /* first source / destination index */
        int64_t len = self->sizes[dd] - s0;
        if (len > osz[dd] - d0) len = osz[dd] - d0;
        if (len <= 0) {
            empty = true;
            len = 0;
        }
        csz[dd] = len;
        if (!empty) src_off += s0 * sst[dd]; /* s0 < size here */
    }
    CML_TRY(cml_aten_resize(ctx, PAD, out, rank, osz));
    CML_TRY(fill_tensor(ctx, PAD, out, d, iv, is_int));
    if (empty || cml_tensor_numel(out) == 0) return CML_OK;
    int64_t dst[CML_MAX_DIMS];
    cml_aten_contig_strides(rank, osz, dst);
    int64_t doff = 0;
    for (int32_t dd = 0; dd < rank; dd++) {
        int32_t from_last = rank - 1 - dd;
        int64_t l = (uint32_t)(2 * from_last + 1) < n ? pad[2 * from_last] : 0;
        doff += (l > 0 ? l : 0) * dst[dd];
    }
    size_t es = cml_dtype_size(out->dtype);
    cml_aten_copy_block(es, rank, csz, cml_aten_elem_ptr(self, src_off), sst, (uint8_t *)out->data + (size_t)doff * es,
               dst);
    return CML_OK;
}

/* ---- creation: full.out, full_like.out, zeros.out, ones.out, scalar_tensor.out ---------- */

static const char FULL[] = "aten::full.out";
static const char FULL_LIKE[] = "aten::full_like.out";
static const char ZEROS[] = "aten::zeros.out";
static const char ONES[] = "aten::ones.out";
static const char SCALAR_T[] = "aten::scalar_tensor.out";

/* kind: 0 full(size, value), 1 full_like(self, value, mf), 2 zeros(size), 3 ones(size),
 * 4 scalar_tensor(s). */
static cml_status create_common(cml_kernel_ctx *ctx, const char *op, int kind, cml_evalue **args,
                                uint32_t nargs, size_t *scratch_bytes) {
    static const uint8_t want[5] = {4, 5, 3, 3, 3};
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, want[kind]));
    cml_tensor *out, *like = NULL;
    CML_TRY(cml_arg_tensor(ctx, op, args, nargs - 2, &out));
    int64_t sz[CML_MAX_DIMS], iv = 0;
    uint32_t n = 0;
    double d = 0.0;
    bool is_int = true;
    switch (kind) {
    case 0:
        CML_TRY(read_dims(ctx, op, args, 0, sz, &n));
        CML_TRY(cml_aten_arg_scalar(ctx, op, args, 1, &d, &iv, &is_int));
        break;
    case 1:
        CML_TRY(cml_arg_tensor(ctx, op, args, 0, &like));
        CML_TRY(cml_aten_arg_scalar(ctx, op, args, 1, &d, &iv, &is_int));
        CML_TRY(check_memory_format(ctx, op, args, 2));
        break;
    case 2:
    case 3:
        CML_TRY(read_dims(ctx, op, args, 0, sz, &n));
        iv = kind == 3;
        d = (double)iv;
        break;
    default: CML_TRY(cml_aten_arg_scalar(ctx, op, args, 0, &d, &iv, &is_int)); break;
    }
    if (scratch_bytes) {
        *scratch_bytes = 0;
        if (!cml_aten_is_known_dtype(out->dtype)) return cml_aten_bad_dtype(ctx, op, "output", out->dtype);
        return cml_aten_check_contiguous(ctx, op, out, "output");
    }
    if (like) {
        n = (uint32_t)like->rank;
        memcpy(sz, like->sizes, sizeof sz);
    }
    for (uint32_t k = 0; k < n; k++)
        if (sz[k] < 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "negative size");
    CML_TRY(cml_aten_resize(ctx, op, out, (int32_t)n, sz));
    return fill_tensor(ctx, op, out, d, iv, is_int);
}

#define CREATE_OP(fn, NAME, KIND)                                                                \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes) {                                             \
        return create_common(ctx, NAME, KIND, args, nargs, scratch_bytes);                       \
    }                                                                                            \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                \
        return create_common(ctx, NAME, KIND, args, nargs, NULL);                                \
    }

CREATE_OP(cml_aten_full_out, FULL, 0)
CREATE_OP(cml_aten_full_like_out, FULL_LIKE, 1)
CREATE_OP(cml_aten_zeros_out, ZEROS, 2)
CREATE_OP(cml_aten_ones_out, ONES, 3)
CREATE_OP(cml_aten_scalar_tensor_out, SCALAR_T, 4)

/* ---- copy_(Tensor(a!) self, Tensor src, bool non_blocking=False) -> Tensor(a!)
 *      copy.out(Tensor self, Tensor src, bool non_blocking=False, *, Tensor(a!) out)
 * src is broadcast to the destination's shape and converted to its dtype.
 * copy_ writes self in place (mutable buffers); its return value is normally
 * self again, and is filled too when it is a different tensor. */

static const char COPY_[] = "aten::copy_";
static const char COPY_OUT[] = "aten::copy.out";

static cml_status copyx_read(cml_kernel_ctx *ctx, const char *op, uint32_t want, cml_evalue **args,
                             uint32_t nargs, cml_tensor **self, cml_tensor **src, cml_tensor **dst) {
    bool nb;
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, want));
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, self));
    CML_TRY(cml_arg_tensor(ctx, op, args, 1, src));
    CML_TRY(cml_arg_bool(ctx, op, args, 2, &nb));
    CML_TRY(cml_arg_tensor(ctx, op, args, nargs - 1, dst));
    return CML_OK;
}

static cml_status copyx_prepare(cml_kernel_ctx *ctx, const char *op, uint32_t want,
                                cml_evalue **args, uint32_t nargs, size_t *scratch_bytes) {
    cml_tensor *self, *src, *dst;
    CML_TRY(copyx_read(ctx, op, want, args, nargs, &self, &src, &dst));
    const cml_tensor *target = op == COPY_ ? self : dst;
    if (!cml_aten_is_known_dtype(src->dtype)) return cml_aten_bad_dtype(ctx, op, "source", src->dtype);
    CML_TRY(cml_aten_check_contiguous(ctx, op, self, "self"));
    CML_TRY(cml_aten_check_contiguous(ctx, op, dst, "output"));
    *scratch_bytes = 0;
    if (src->dtype != target->dtype) {
        uint8_t probe_in[16] = {0}, probe_out[16];
        if (!cml_k_convert(src->dtype, probe_in, target->dtype, probe_out, 1))
            return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "conversion %s -> %s not supported",
                             cml_dtype_name(src->dtype), cml_dtype_name(target->dtype));
        *scratch_bytes = cml_aten_align(cml_aten_bound_numel(target) * cml_dtype_size(src->dtype));
    }
    if (dst != self && dst->dtype != target->dtype)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "result dtype %s differs from self %s",
                         cml_dtype_name(dst->dtype), cml_dtype_name(target->dtype));
    return CML_OK;
}

/* dst (shape `like`) = broadcast(src), converting dtype through scratch. */
static cml_status copy_broadcast(cml_kernel_ctx *ctx, const char *op, const cml_tensor *src,
                                 cml_tensor *dst, int32_t rank, const int64_t *sizes) {
    if (src->rank > rank) {
        char b1[160], b2[160];
        return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "cannot broadcast %s to %s",
                         cml_shape_str(src->rank, src->sizes, b1, sizeof b1),
                         cml_shape_str(rank, sizes, b2, sizeof b2));
    }
    int32_t br;
    int64_t bs[CML_MAX_DIMS];
    CML_TRY(cml_aten_broadcast_shape(ctx, op, src->rank, src->sizes, rank, sizes, &br, bs));
    for (int32_t d = 0; d < rank; d++)
        if (bs[d] != sizes[d]) {
            char b1[160], b2[160];
            return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "cannot broadcast %s to %s",
                             cml_shape_str(src->rank, src->sizes, b1, sizeof b1),
                             cml_shape_str(rank, sizes, b2, sizeof b2));
        }
    CML_TRY(cml_aten_resize(ctx, op, dst, rank, sizes));
    size_t n = (size_t)cml_tensor_numel(dst);
    if (n == 0) return CML_OK;
    int64_t st[CML_MAX_DIMS], bst[CML_MAX_DIMS], dstr[CML_MAX_DIMS];
    cml_tensor_strides(src, st);
    for (int32_t d = 0; d < rank; d++) {
        int32_t sd = d - (rank - src->rank);
        bst[d] = (sd < 0 || src->sizes[sd] == 1) ? 0 : st[sd];
    }
    cml_aten_contig_strides(rank, sizes, dstr);
    size_t es = cml_dtype_size(src->dtype);
    if (src->dtype == dst->dtype) {
        if (src->data == dst->data) return CML_OK;
        cml_aten_copy_block(es, rank, sizes, src->data, bst, dst->data, dstr);
        return CML_OK;
    }
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    void *buf = cml_aten_scratch_alloc(&s, n * es);
    if (!buf) return cml_aten_scratch_short(ctx, op);
    cml_aten_copy_block(es, rank, sizes, src->data, bst, buf, dstr);
    cml_k_convert(src->dtype, buf, dst->dtype, dst->data, n);
    return CML_OK;
}

cml_status cml_aten_copy__prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                              size_t *scratch_bytes) {
    return copyx_prepare(ctx, COPY_, 4, args, nargs, scratch_bytes);
}

cml_status cml_aten_copy__run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *src, *ret;
    CML_TRY(copyx_read(ctx, COPY_, 4, args, nargs, &self, &src, &ret));
    int64_t sizes[CML_MAX_DIMS];
    memcpy(sizes, self->sizes, sizeof sizes);
    CML_TRY(copy_broadcast(ctx, COPY_, src, self, self->rank, sizes));
    if (ret != self) {
        CML_TRY(cml_aten_resize(ctx, COPY_, ret, self->rank, self->sizes));
        copy_logical(self, ret->data);
    }
    return CML_OK;
}

cml_status cml_aten_copy_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                 size_t *scratch_bytes) {
    return copyx_prepare(ctx, COPY_OUT, 5, args, nargs, scratch_bytes);
}

cml_status cml_aten_copy_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *src, *out;
    CML_TRY(copyx_read(ctx, COPY_OUT, 5, args, nargs, &self, &src, &out));
    return copy_broadcast(ctx, COPY_OUT, src, out, self->rank, self->sizes);
}

/* ---- arange.out(Scalar end, *, Tensor(a!) out)
 *      arange.start_out(Scalar start, Scalar end, Scalar step=1, *, Tensor(a!) out) ------- */

static const char ARANGE[] = "aten::arange.out";
static const char ARANGE_S[] = "aten::arange.start_out";

static cml_status arange_common(cml_kernel_ctx *ctx, const char *op, bool with_start,
                                cml_evalue **args, uint32_t nargs, size_t *scratch_bytes) {
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, with_start ? 5 : 3));
    double v[3] = {0.0, 0.0, 1.0};
    int64_t iv[3] = {0, 0, 1};
    bool isint[3] = {true, true, true};
    uint32_t first = with_start ? 0 : 1;
    for (uint32_t k = first; k < (with_start ? 3u : 2u); k++)
        CML_TRY(cml_aten_arg_scalar(ctx, op, args, k - first, &v[k], &iv[k], &isint[k]));
    cml_tensor *out;
    CML_TRY(cml_arg_tensor(ctx, op, args, nargs - 2, &out));
    if (scratch_bytes) {
        *scratch_bytes = 0;
        if (!cml_aten_is_float(out->dtype) && !cml_aten_is_int(out->dtype))
            return cml_aten_bad_dtype(ctx, op, "output", out->dtype);
        return cml_aten_check_rank(ctx, op, out, "output", 1, 1);
    }
    double start = v[0], end = v[1], step = v[2];
    if (step == 0.0 || isnan(step) || isnan(start) || isnan(end) ||
        (step > 0 && end < start) || (step < 0 && end > start))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "bad range start=%g end=%g step=%g", start,
                         end, step);
    int64_t n;
    if (isint[0] && isint[1] && isint[2]) {
        int64_t span, st = iv[2];
        if (__builtin_sub_overflow(iv[1], iv[0], &span) || st == INT64_MIN)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "range too long");
        uint64_t mag = st > 0 ? (uint64_t)span : (uint64_t)0 - (uint64_t)span;
        uint64_t ust = st > 0 ? (uint64_t)st : (uint64_t)0 - (uint64_t)st;
        uint64_t un = mag == 0 ? 0 : (mag - 1) / ust + 1;
        if (un > (uint64_t)INT64_MAX) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "range too long");
        n = (int64_t)un;
    } else {
        double c = ceil((end - start) / step);
        if (!(c >= 0 && c < 9.0e15)) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "range too long");
        n = (int64_t)c;
    }
    CML_TRY(cml_aten_resize(ctx, op, out, 1, &n));
    for (int64_t i = 0; i < n; i++) {
        uint8_t *dst = (uint8_t *)out->data + (size_t)i * cml_dtype_size(out->dtype);
        if (isint[0] && isint[1] && isint[2]) {
            int64_t x = iv[0] + i * iv[2];
            scalar_to(out->dtype, 0.0, x, true, dst);
        } else {
            scalar_to(out->dtype, start + (double)i * step, 0, false, dst);
        }
    }
    return CML_OK;
}

cml_status cml_aten_arange_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                   size_t *scratch_bytes) {
    return arange_common(ctx, ARANGE, false, args, nargs, scratch_bytes);
}
cml_status cml_aten_arange_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return arange_common(ctx, ARANGE, false, args, nargs, NULL);
}
cml_status cml_aten_arange_start_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                         size_t *scratch_bytes) {
    return arange_common(ctx, ARANGE_S, true, args, nargs, scratch_bytes);
}
cml_status cml_aten_arange_start_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return arange_common(ctx, ARANGE_S, true, args, nargs, NULL);
}
