/*
 * Ops whose result size depends on the data:
 *   masked_select.out(Tensor self, Tensor mask, *, Tensor(a!) out)
 *   masked_scatter.out(Tensor self, Tensor mask, Tensor source, *, Tensor(a!) out)
 *   nonzero.out(Tensor self, *, Tensor(a!) out)
 *   repeat_interleave.Tensor_out(Tensor repeats, *, SymInt? output_size=None, Tensor(a!) out)
 *
 * self and mask broadcast together (mask is bool); masked_select writes the
 * selected elements in row-major order of the broadcast shape to a 1-D out;
 * masked_scatter gives out the broadcast shape, taking consecutive source
 * elements where mask is true (it fails before writing when source is too
 * short). nonzero writes the int64 coordinates [n, rank] of the non-zero
 * elements (NaN counts as non-zero). repeat_interleave writes i repeats[i]
 * times (int32/int64, out of repeats' dtype; output_size must equal the sum).
 * Dynamic outputs are resized within their capacity; a result that does not
 * fit fails with CML_ERR_SHAPE naming the op. dtypes: any REALHBBF16.
 */
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"
#include "ops/aten/elem.h"

static const char MSEL[] = "aten::masked_select.out";
static const char MSCAT[] = "aten::masked_scatter.out";
static const char NONZERO[] = "aten::nonzero.out";
static const char REPI[] = "aten::repeat_interleave.Tensor_out";

/* Broadcast walk over self and mask. */
typedef struct mk_walk {
    int32_t rank;
    int64_t sizes[CML_MAX_DIMS], sst[CML_MAX_DIMS], mst[CML_MAX_DIMS];
    int64_t numel;
} mk_walk;

static cml_status mk_check(cml_kernel_ctx *ctx, const char *op, const cml_tensor *self,
                           const cml_tensor *mask, const cml_tensor *out) {
    if (!cml_aten_elem_supported(self->dtype)) return cml_aten_bad_dtype(ctx, op, "input", self->dtype);
    if (mask->dtype != CML_DTYPE_BOOL) return cml_aten_bad_dtype(ctx, op, "mask", mask->dtype);
    return cml_aten_prep_copy(ctx, op, self, out);
}

static cml_status mk_walk_init(cml_kernel_ctx *ctx, const char *op, const cml_tensor *self,
                               const cml_tensor *mask, mk_walk *w) {
    CML_TRY(cml_aten_broadcast_shape(ctx, op, self->rank, self->sizes, mask->rank, mask->sizes, &w->rank,
                                 w->sizes));
    cml_aten_tensor_bcast_strides(self, w->rank, w->sizes, w->sst);
    cml_aten_tensor_bcast_strides(mask, w->rank, w->sizes, w->mst);
    w->numel = cml_aten_prod(w->sizes, 0, w->rank);
    return CML_OK;
}

/* Number of true mask elements over the broadcast shape. */
static int64_t mk_count(const mk_walk *w, const cml_tensor *mask) {
    int64_t c[CML_MAX_DIMS] = {0}, n = 0;
    const uint8_t *m = mask->data;
    for (int64_t i = 0; i < w->numel; i++) {
        int64_t mo = 0;
        for (int32_t d = 0; d < w->rank; d++) mo += c[d] * w->mst[d];
        n += m[mo] != 0;
        for (int32_t d = w->rank - 1; d >= 0; d--) {
            if (++c[d] < w->sizes[d]) break;
            c[d] = 0;
        }
    }
    return n;
}

/* select (src == NULL): out[k++] = self where mask; scatter: out[i] = mask ?
 * src[k++] : self. */
static void mk_move(const mk_walk *w, const cml_tensor *self, const cml_tensor *mask,
                    const cml_tensor *src, cml_tensor *out) {
    int64_t c[CML_MAX_DIMS] = {0}, k = 0;
    size_t es = cml_dtype_size(self->dtype);
    const uint8_t *m = mask->data, *s = self->data, *x = src ? src->data : NULL;
    uint8_t *o = out->data;
    for (int64_t i = 0; i < w->numel; i++) {
        int64_t mo = 0, so = 0;
        for (int32_t d = 0; d < w->rank; d++) {
            mo += c[d] * w->mst[d];
            so += c[d] * w->sst[d];
        }
        if (!src && m[mo]) memcpy(o + (size_t)(k++) * es, s + (size_t)so * es, es);
        if (src) memcpy(o + (size_t)i * es, m[mo] ? x + (size_t)(k++) * es : s + (size_t)so * es, es);
        for (int32_t d = w->rank - 1; d >= 0; d--) {
            if (++c[d] < w->sizes[d]) break;
            c[d] = 0;
        }
    }
}

static cml_status msel_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **self,
                            cml_tensor **mask, cml_tensor **out) {
    CML_TRY(cml_aten_nargs_is(ctx, MSEL, nargs, 4));
    CML_TRY(cml_arg_tensor(ctx, MSEL, args, 0, self));
    CML_TRY(cml_arg_tensor(ctx, MSEL, args, 1, mask));
    return cml_arg_tensor(ctx, MSEL, args, 2, out);
}

cml_status cml_aten_masked_select_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                          size_t *scratch_bytes) {
    cml_tensor *self, *mask, *out;
    CML_TRY(msel_read(ctx, args, nargs, &self, &mask, &out));
    *scratch_bytes = 0;
    return mk_check(ctx, MSEL, self, mask, out);
}

cml_status cml_aten_masked_select_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *mask, *out;
    mk_walk w;
    CML_TRY(msel_read(ctx, args, nargs, &self, &mask, &out));
    CML_TRY(mk_walk_init(ctx, MSEL, self, mask, &w));
    int64_t n = mk_count(&w, mask);
    CML_TRY(cml_aten_resize(ctx, MSEL, out, 1, &n));
    mk_move(&w, self, mask, NULL, out);
    return CML_OK;
}

static cml_status mscat_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **t) {
    CML_TRY(cml_aten_nargs_is(ctx, MSCAT, nargs, 5));
    for (uint32_t i = 0; i < 4; i++) CML_TRY(cml_arg_tensor(ctx, MSCAT, args, i, &t[i]));
    return CML_OK;
}

cml_status cml_aten_masked_scatter_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                           size_t *scratch_bytes) {
    cml_tensor *t[4]; /* self, mask, source, out */
    CML_TRY(mscat_read(ctx, args, nargs, t));
    *scratch_bytes = 0;
    CML_TRY(mk_check(ctx, MSCAT, t[0], t[1], t[3]));
    if (t[2]->dtype != t[0]->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, MSCAT, "source dtype %s differs from self %s",
                         cml_dtype_name(t[2]->dtype), cml_dtype_name(t[0]->dtype));
    return CML_OK;
}

cml_status cml_aten_masked_scatter_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *t[4];
    mk_walk w;
    CML_TRY(mscat_read(ctx, args, nargs, t));
    CML_TRY(mk_walk_init(ctx, MSCAT, t[0], t[1], &w));
    /* The mask count is data: checked after the resize, which ends a
     * load-time check-only run (method_check.c), and before any write. */
    CML_TRY(cml_aten_resize(ctx, MSCAT, t[3], w.rank, w.sizes));
    int64_t n = mk_count(&w, t[1]);
    if (n > cml_tensor_numel(t[2]))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, MSCAT, "mask selects %lld elements, source has only %lld",
                         (long long)n, (long long)cml_tensor_numel(t[2]));
    mk_move(&w, t[0], t[1], t[2], t[3]);
    return CML_OK;
}

/* ---- nonzero ---- */

static cml_status nz_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **self,
                          cml_tensor **out) {
    CML_TRY(cml_aten_nargs_is(ctx, NONZERO, nargs, 3));
    CML_TRY(cml_arg_tensor(ctx, NONZERO, args, 0, self));
    return cml_arg_tensor(ctx, NONZERO, args, 1, out);
}

cml_status cml_aten_nonzero_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                    size_t *scratch_bytes) {
    cml_tensor *self, *out;
    CML_TRY(nz_read(ctx, args, nargs, &self, &out));
    *scratch_bytes = 0;
    if (!cml_aten_elem_supported(self->dtype)) return cml_aten_bad_dtype(ctx, NONZERO, "input", self->dtype);
    if (out->dtype != CML_DTYPE_INT64) return cml_aten_bad_dtype(ctx, NONZERO, "output", out->dtype);
    if (out->rank != 2) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, NONZERO, "output must be 2-D, is %d-D", out->rank);
    return CML_OK;
}

cml_status cml_aten_nonzero_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *self, *out;
    CML_TRY(nz_read(ctx, args, nargs, &self, &out));
    int64_t n = cml_tensor_numel(self), cnt = 0, st[CML_MAX_DIMS];
    size_t es = cml_dtype_size(self->dtype);
    cml_tensor_strides(self, st);
    int64_t c[CML_MAX_DIMS] = {0};
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) CML_TRY(cml_aten_resize(ctx, NONZERO, out, 2, (int64_t[]){cnt, self->rank}));
        int64_t k = 0, *o = out->data;
        for (int64_t i = 0; i < n; i++) {
            int64_t off = 0;
            for (int32_t d = 0; d < self->rank; d++) off += c[d] * st[d];
            if (cml_aten_elem_nonzero(self->dtype, (const uint8_t *)self->data + (size_t)off * es)) {
                if (pass == 1) memcpy(o + k * self->rank, c, sizeof(int64_t) * (size_t)self->rank);
                k++;
            }
            for (int32_t d = self->rank - 1; d >= 0; d--) {
                if (++c[d] < self->sizes[d]) break;
                c[d] = 0;
            }
        }
        cnt = k;
    }
    return CML_OK;
}

/* ---- repeat_interleave.Tensor_out ---- */

static cml_status ri_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, cml_tensor **rep,
                          cml_tensor **out, bool *has_size, int64_t *size) {
    CML_TRY(cml_aten_nargs_is(ctx, REPI, nargs, 4));
    CML_TRY(cml_arg_tensor(ctx, REPI, args, 0, rep));
    CML_TRY(cml_aten_arg_opt_int(ctx, REPI, args, 1, has_size, size));
    CML_TRY(cml_arg_tensor(ctx, REPI, args, 2, out));
    if ((*rep)->dtype != CML_DTYPE_INT64 && (*rep)->dtype != CML_DTYPE_INT32)
        return cml_aten_bad_dtype(ctx, REPI, "repeats", (*rep)->dtype);
    if ((*out)->dtype != (*rep)->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, REPI, "output dtype %s differs from repeats %s",
                         cml_dtype_name((*out)->dtype), cml_dtype_name((*rep)->dtype));
    if ((*rep)->rank != 1)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, REPI, "repeats must be 1-D, is %d-D", (*rep)->rank);
    return CML_OK;
}

cml_status cml_aten_repeat_interleave_tensor_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                                     uint32_t nargs, size_t *scratch_bytes) {
    cml_tensor *rep, *out;
    bool has;
    int64_t size;
    *scratch_bytes = 0;
    return ri_read(ctx, args, nargs, &rep, &out, &has, &size);
}

cml_status cml_aten_repeat_interleave_tensor_out_run(cml_kernel_ctx *ctx, cml_evalue **args,
                                                 uint32_t nargs) {
    cml_tensor *rep, *out;
    bool has;
    int64_t size, sum = 0, n;
    CML_TRY(ri_read(ctx, args, nargs, &rep, &out, &has, &size));
    /* At load (check-only, method_check.c) the repeats are not known: only
     * a given output_size fixes the shape. */
    if (ctx->check_only) return has ? cml_aten_resize(ctx, REPI, out, 1, &size) : CML_SHAPES_CHECKED;
    n = rep->sizes[0];
    for (int64_t i = 0; i < n; i++) {
        int64_t r = cml_aten_index_at(rep, i);
        if (r < 0)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, REPI, "repeats[%lld] = %lld is negative",
                             (long long)i, (long long)r);
        if (__builtin_add_overflow(sum, r, &sum))
            return cml_aten_fail(ctx, CML_ERR_SHAPE, REPI, "sum of repeats overflows");
    }
    if (has && size != sum)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, REPI, "output_size %lld differs from the sum of repeats %lld",
                         (long long)size, (long long)sum);
    CML_TRY(cml_aten_resize(ctx, REPI, out, 1, &sum));
    size_t es = cml_dtype_size(out->dtype);
    uint8_t *o = out->data;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = cml_aten_index_at(rep, i); j > 0; j--, o += es) cml_aten_elem_set_i64(out->dtype, o, i);
    return CML_OK;
}
