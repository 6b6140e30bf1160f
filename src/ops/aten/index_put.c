/*
 * index_put.out(Tensor self, Tensor?[] indices, Tensor values, bool accumulate=False, *,
 *               Tensor(a!) out)
 * index_put_(Tensor(a!) self, Tensor?[] indices, Tensor values, bool accumulate=False)
 *
 * out = self, then out[indices] = values (or += with accumulate). The
 * indices list holds, per leading dim of self: None (the whole dim), an
 * int64/int32 index tensor (one dim; negative counts from the end), or a
 * bool/uint8 mask (as many dims as its rank, sizes equal to those dims; it
 * stands for the coordinates of its true elements). The index tensors and
 * masks (as 1-D lists of their true positions) broadcast together to B.
 * The indexed view x = self[indices] has shape [before][B][after] when the
 * indexed dims form one block, else [B][the other dims] (NumPy's rule), and
 * values broadcasts to x. Writes go in x's row-major order, so duplicate
 * indices accumulate every contribution, or keep the last without
 * accumulate. Every index is checked before it addresses memory.
 *
 * dtypes: self/values/out any of uint8, int8, int16, int32, int64, fp16,
 * bf16, fp32, fp64, bool (equal); self and out contiguous. index_put_ is
 * the same op writing into self (it accepts every case the out variant does,
 * a superset of upstream's single-index in-place special case).
 */
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"
#include "ops/aten/elem.h"

static const char IPUT[] = "aten::index_put.out";
static const char IPUT_[] = "aten::index_put_";

typedef struct ip_entry {
    const cml_tensor *t;
    int32_t dim0;  /* first self dim it indexes */
    int32_t ndims; /* 1, or the mask's rank */
    bool mask;
} ip_entry;

typedef struct ip_args {
    cml_tensor *self, *values, *out;
    bool accumulate;
    ip_entry e[CML_MAX_DIMS];
    int32_t n;        /* non-None entries */
    int32_t consumed; /* self dims the list covers */
    bool adjacent;    /* the entries form one block of dims */
} ip_args;

static bool ip_is_mask(const cml_tensor *t) {
    return t->dtype == CML_DTYPE_BOOL || t->dtype == CML_DTYPE_UINT8;
}

static cml_status ip_add_entry(cml_kernel_ctx *ctx, const char *op, ip_args *a, const cml_tensor *t,
                               uint32_t k) {
    if (!ip_is_mask(t) && t->dtype != CML_DTYPE_INT64 && t->dtype != CML_DTYPE_INT32)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op,
                         "index %u: %s indices not supported (int64, int32, bool or uint8)", k,
                         cml_dtype_name(t->dtype));
    int32_t nd = ip_is_mask(t) ? t->rank : 1;
    if (ip_is_mask(t) && t->rank == 0)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "index %u: 0-D mask not supported", k);
    if (a->consumed + nd > a->self->rank)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "too many indices for a tensor of rank %d",
                         a->self->rank);
    if (ip_is_mask(t)) {
        CML_TRY(cml_aten_check_contiguous(ctx, op, t, "mask index"));
        for (int32_t j = 0; j < nd; j++)
            if (t->sizes[j] != a->self->sizes[a->consumed + j])
                return cml_aten_fail(ctx, CML_ERR_SHAPE, op,
                                 "mask index %u dim %d has size %lld, self dim %d has %lld", k, j,
                                 (long long)t->sizes[j], a->consumed + j,
                                 (long long)a->self->sizes[a->consumed + j]);
    }
    ip_entry *en = &a->e[a->n++];
    en->t = t;
    en->dim0 = a->consumed;
    en->ndims = nd;
    en->mask = ip_is_mask(t);
    a->consumed += nd;
    return CML_OK;
}

/* Item k of the indices list: *iv = NULL for None (-1 or a Null value). */
static cml_status ip_item(cml_kernel_ctx *ctx, const char *op, const cml_evalue *v, uint32_t k,
                          const cml_evalue **iv) {
    int32_t vi = v->u.tensor_list.items[k];
    *iv = NULL;
    if (vi < 0) return CML_OK;
    if ((uint32_t)vi >= ctx->nvalues)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "index %u names value %d, out of range", k, vi);
    const cml_evalue *e = &ctx->values[vi];
    if (e->kind == CML_VALUE_NULL || e->kind == CML_VALUE_NONE) return CML_OK;
    if (e->kind != CML_VALUE_TENSOR || !e->u.t)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "index %u is not a tensor", k);
    *iv = e;
    return CML_OK;
}

/* Reads the indices list (None = -1 item or a Null value). */
static cml_status ip_read_list(cml_kernel_ctx *ctx, const char *op, const cml_evalue *v, ip_args *a) {
    if (v->kind != CML_VALUE_OPT_TENSOR_LIST && v->kind != CML_VALUE_TENSOR_LIST)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "arg 1: expected a list of optional tensors");
    uint32_t n = v->u.tensor_list.count;
    if (n > (uint32_t)(a->self->rank > 0 ? a->self->rank : 0))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "%u indices for a tensor of rank %d", n,
                         a->self->rank);
    int32_t blocks = 0;
    bool prev = false;
    for (uint32_t k = 0; k < n; k++) {
        const cml_evalue *iv;
        CML_TRY(ip_item(ctx, op, v, k, &iv));
        if (!iv) {
            if (a->consumed + 1 > a->self->rank)
                return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "too many indices");
            a->consumed++;
            prev = false;
            continue;
        }
        CML_TRY(ip_add_entry(ctx, op, a, iv->u.t, k));
        if (!prev) blocks++;
        prev = true;
    }
    a->adjacent = blocks <= 1;
    return CML_OK;
}

static cml_status ip_read(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                          ip_args *a) {
    bool inplace = op == IPUT_;
    memset(a, 0, sizeof *a);
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, inplace ? 5 : 6));
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &a->self));
    CML_TRY(cml_arg_tensor(ctx, op, args, 2, &a->values));
    CML_TRY(cml_arg_bool(ctx, op, args, 3, &a->accumulate));
    CML_TRY(cml_arg_tensor(ctx, op, args, inplace ? 0 : 4, &a->out));
    return ip_read_list(ctx, op, args[1], a);
}

static cml_status ip_prepare(cml_kernel_ctx *ctx, const char *op, cml_evalue **args,
                             uint32_t nargs, size_t *scratch_bytes) {
    ip_args a;
    CML_TRY(ip_read(ctx, op, args, nargs, &a));
    if (!cml_aten_elem_supported(a.self->dtype)) return cml_aten_bad_dtype(ctx, op, "input", a.self->dtype);
    if (a.values->dtype != a.self->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "values dtype %s differs from self %s",
                         cml_dtype_name(a.values->dtype), cml_dtype_name(a.self->dtype));
    CML_TRY(cml_aten_prep_copy(ctx, op, a.self, a.out));
    CML_TRY(cml_aten_check_contiguous(ctx, op, a.self, "self"));
    if (op == IPUT_ && a.self->is_const)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "self is a read-only constant");
    size_t need = 0;
    for (int32_t k = 0; k < a.n; k++) /* mask offsets, or int32 indices widened */
        if (a.e[k].mask || a.e[k].t->dtype != CML_DTYPE_INT64)
            need += cml_aten_align(cml_aten_bound_numel(a.e[k].t) * sizeof(int64_t));
    *scratch_bytes = need;
    return CML_OK;
}

/* Run-time state: per entry, its int64 data (indices, or for a mask the
 * self offset of each true element) and its strides over B. */
typedef struct ip_state {
    const int64_t *data[CML_MAX_DIMS];
    int64_t len[CML_MAX_DIMS]; /* mask: true count */
    int64_t bst[CML_MAX_DIMS][CML_MAX_DIMS];
    int32_t rank_b;
    int64_t b_sizes[CML_MAX_DIMS];
    int32_t xrank;
    int64_t x_sizes[CML_MAX_DIMS];
    int32_t xmap[CML_MAX_DIMS]; /* self dim, or -1 for the B block */
    int32_t bpos;               /* first x dim of B */
    int64_t st[CML_MAX_DIMS];   /* self strides */
} ip_state;

/* Lists the self offsets of a mask's true elements. */
static int64_t ip_mask_offsets(const cml_tensor *m, int32_t dim0, const int64_t *st, int64_t *dst) {
    int64_t n = cml_tensor_numel(m), cnt = 0;
    const uint8_t *p = m->data;
    for (int64_t i = 0; i < n; i++) {
        if (!p[i]) continue;
        int64_t rem = i, off = 0;
        for (int32_t j = m->rank - 1; j >= 0; j--) {
            off += (rem % m->sizes[j]) * st[dim0 + j];
            rem /= m->sizes[j];
        }
        dst[cnt++] = off;
    }
    return cnt;
}

/* Checks every index before anything is written (in place, a failure leaves
 * self untouched). */
static cml_status ip_check_all(cml_kernel_ctx *ctx, const char *op, const int64_t *idx, int64_t n,
                               const cml_tensor *self, int32_t d) {
    int64_t v;
    for (int64_t i = 0; i < n; i++) CML_TRY(cml_aten_norm_index(ctx, op, idx[i], self->sizes[d], d, &v));
    return CML_OK;
}

static cml_status ip_load(cml_kernel_ctx *ctx, const char *op, const ip_args *a, ip_state *s) {
    cml_aten_scratch sc = cml_aten_scratch_of(ctx);
    cml_tensor_strides(a->self, s->st);
    s->rank_b = 0;
    for (int32_t k = 0; k < a->n; k++) {
        const ip_entry *en = &a->e[k];
        int32_t r = en->t->rank;
        const int64_t *sz = en->t->sizes;
        if (en->mask) {
            int64_t *buf = cml_aten_scratch_alloc(&sc, (size_t)cml_tensor_numel(en->t) * sizeof(int64_t));
            if (!buf) return cml_aten_scratch_short(ctx, op);
            s->len[k] = ip_mask_offsets(en->t, en->dim0, s->st, buf);
            s->data[k] = buf;
            r = 1;
            sz = &s->len[k];
        } else {
            s->data[k] = cml_aten_load_i64(&sc, en->t);
            if (!s->data[k]) return cml_aten_scratch_short(ctx, op);
            CML_TRY(ip_check_all(ctx, op, s->data[k], cml_tensor_numel(en->t), a->self, en->dim0));
        }
        int64_t ns[CML_MAX_DIMS];
        int32_t nr;
        CML_TRY(cml_aten_broadcast_shape(ctx, op, s->rank_b, s->b_sizes, r, sz, &nr, ns));
        s->rank_b = nr;
        memcpy(s->b_sizes, ns, sizeof ns);
    }
    return CML_OK;
}

/* Strides of each entry over B, and x's shape. */
static cml_status ip_shape_x(cml_kernel_ctx *ctx, const char *op, const ip_args *a, ip_state *s) {
    for (int32_t k = 0; k < a->n; k++) {
        if (a->e[k].mask) cml_aten_broadcast_strides(1, &s->len[k], s->rank_b, s->b_sizes, s->bst[k]);
        else cml_aten_tensor_bcast_strides(a->e[k].t, s->rank_b, s->b_sizes, s->bst[k]);
    }
    bool covered[CML_MAX_DIMS] = {false};
    for (int32_t k = 0; k < a->n; k++)
        for (int32_t j = 0; j < a->e[k].ndims; j++) covered[a->e[k].dim0 + j] = true;
    int32_t first = a->n ? a->e[0].dim0 : a->self->rank;
    int32_t r = 0;
    s->bpos = a->adjacent ? first : 0;
    for (int32_t d = 0; d < a->self->rank; d++) {
        if (covered[d]) continue;
        if (r == s->bpos) r += s->rank_b; /* leave room for B */
        if (r >= CML_MAX_DIMS) return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "indexed rank too large");
        s->xmap[r] = d;
        s->x_sizes[r++] = a->self->sizes[d];
    }
    if (r <= s->bpos) r = s->bpos + s->rank_b;
    if (r > CML_MAX_DIMS) return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "indexed rank too large");
    for (int32_t k = 0; k < s->rank_b; k++) {
        s->xmap[s->bpos + k] = -1;
        s->x_sizes[s->bpos + k] = s->b_sizes[k];
    }
    s->xrank = r;
    return CML_OK;
}

/* values must broadcast to x. */
static cml_status ip_check_values(cml_kernel_ctx *ctx, const char *op, const cml_tensor *v,
                                  const ip_state *s) {
    bool ok = v->rank <= s->xrank;
    for (int32_t d = 0; ok && d < v->rank; d++) {
        int64_t vs = v->sizes[d], xs = s->x_sizes[s->xrank - v->rank + d];
        ok = vs == xs || vs == 1;
    }
    if (ok) return CML_OK;
    char b1[160], b2[160];
    return cml_aten_fail(ctx, CML_ERR_SHAPE, op, "values of shape %s do not broadcast to the indexed shape %s",
                     cml_shape_str(v->rank, v->sizes, b1, sizeof b1),
                     cml_shape_str(s->xrank, s->x_sizes, b2, sizeof b2));
}

/* Self offset of the B position given by x coordinates. */
static cml_status ip_b_offset(cml_kernel_ctx *ctx, const char *op, const ip_args *a,
                              const ip_state *s, const int64_t *xc, int64_t *off) {
    for (int32_t k = 0; k < a->n; k++) {
        int64_t bo = 0;
        for (int32_t j = 0; j < s->rank_b; j++) bo += xc[s->bpos + j] * s->bst[k][j];
        if (a->e[k].mask) {
            *off += s->data[k][bo];
            continue;
        }
        int32_t d = a->e[k].dim0;
        int64_t v;
        CML_TRY(cml_aten_norm_index(ctx, op, s->data[k][bo], a->self->sizes[d], d, &v));
        *off += v * s->st[d];
    }
    return CML_OK;
}

/* Writes one run of n elements along x's innermost dim. */
static void ip_write_run(const ip_args *a, uint8_t *dst, int64_t dst_st, const uint8_t *src,
                         int64_t src_st, int64_t n) {
    cml_dtype dt = a->self->dtype;
    size_t es = cml_dtype_size(dt);
    if (!a->accumulate && dst_st == 1 && src_st == 1) {
        memmove(dst, src, (size_t)n * es); /* values may alias self */
        return;
    }
    for (int64_t j = 0; j < n; j++) {
        uint8_t *d = dst + j * dst_st * (int64_t)es;
        const uint8_t *v = src + j * src_st * (int64_t)es;
        if (a->accumulate) cml_aten_elem_add(dt, d, v);
        else memmove(d, v, es);
    }
}

/* Walks x in row-major order; when x's innermost dim is a plain self dim it
 * is written as one run per outer position. */
static cml_status ip_scatter(cml_kernel_ctx *ctx, const char *op, const ip_args *a, const ip_state *s) {
    int64_t vst[CML_MAX_DIMS], xc[CML_MAX_DIMS] = {0};
    cml_aten_tensor_bcast_strides(a->values, s->xrank, s->x_sizes, vst);
    int32_t last = s->xrank - 1;
    bool inner = last >= 0 && s->xmap[last] >= 0;
    int32_t orank = inner ? last : s->xrank;
    int64_t run = inner ? s->x_sizes[last] : 1, outer = cml_aten_prod(s->x_sizes, 0, orank);
    int64_t run_sst = inner ? s->st[s->xmap[last]] : 1, run_vst = inner ? vst[last] : 1;
    size_t es = cml_dtype_size(a->self->dtype);
    uint8_t *out = a->out->data;
    const uint8_t *vals = a->values->data;
    for (int64_t i = 0; i < outer && run > 0; i++) {
        int64_t off = 0, voff = 0;
        for (int32_t d = 0; d < orank; d++) {
            voff += xc[d] * vst[d];
            if (s->xmap[d] >= 0) off += xc[d] * s->st[s->xmap[d]];
        }
        CML_TRY(ip_b_offset(ctx, op, a, s, xc, &off));
        ip_write_run(a, out + off * (int64_t)es, run_sst, vals + voff * (int64_t)es, run_vst, run);
        for (int32_t d = orank - 1; d >= 0; d--) {
            if (++xc[d] < s->x_sizes[d]) break;
            xc[d] = 0;
        }
    }
    return CML_OK;
}

/* The check-only run (method_check.c) reads no index data: the values
 * shape against the indexed shape when the index shapes fix it (no mask),
 * then out's shape. */
static cml_status ip_check_shapes(cml_kernel_ctx *ctx, const char *op, const ip_args *a,
                                  ip_state *s) {
    bool mask = false;
    s->rank_b = 0;
    for (int32_t k = 0; k < a->n; k++) {
        const cml_tensor *t = a->e[k].t;
        int64_t ns[CML_MAX_DIMS];
        int32_t nr;
        mask = mask || a->e[k].mask;
        if (a->e[k].mask) continue;
        CML_TRY(cml_aten_broadcast_shape(ctx, op, s->rank_b, s->b_sizes, t->rank, t->sizes, &nr, ns));
        s->rank_b = nr;
        memcpy(s->b_sizes, ns, sizeof ns);
    }
    if (!mask) {
        CML_TRY(ip_shape_x(ctx, op, a, s));
        CML_TRY(ip_check_values(ctx, op, a->values, s));
    }
    if (a->out == a->self) return CML_SHAPES_CHECKED; /* in place: nothing to resize */
    return cml_aten_resize(ctx, op, a->out, a->self->rank, a->self->sizes);
}

static cml_status ip_run(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs) {
    ip_args a;
    ip_state s;
    CML_TRY(ip_read(ctx, op, args, nargs, &a));
    if (ctx->check_only) return ip_check_shapes(ctx, op, &a, &s);
    CML_TRY(ip_load(ctx, op, &a, &s));
    CML_TRY(ip_shape_x(ctx, op, &a, &s));
    CML_TRY(ip_check_values(ctx, op, a.values, &s));
    if (a.out != a.self) {
        CML_TRY(cml_aten_resize(ctx, op, a.out, a.self->rank, a.self->sizes));
        if (a.out->data != a.self->data && cml_tensor_nbytes(a.self))
            memmove(a.out->data, a.self->data, cml_tensor_nbytes(a.self));
    }
    if (cml_tensor_numel(a.self) == 0) return CML_OK;
    return ip_scatter(ctx, op, &a, &s);
}

cml_status cml_aten_index_put_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                      size_t *scratch_bytes) {
    return ip_prepare(ctx, IPUT, args, nargs, scratch_bytes);
}
cml_status cml_aten_index_put_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return ip_run(ctx, IPUT, args, nargs);
}
cml_status cml_aten_index_put__prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                   size_t *scratch_bytes) {
    return ip_prepare(ctx, IPUT_, args, nargs, scratch_bytes);
}
cml_status cml_aten_index_put__run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return ip_run(ctx, IPUT_, args, nargs);
}
