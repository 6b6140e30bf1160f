/*
 * Element reordering ops:
 *   flip.out(Tensor self, int[] dims, *, Tensor(a!) out)
 *   roll.out(Tensor self, SymInt[1] shifts, int[1] dims=[], *, Tensor(a!) out)
 *   tril.out(Tensor self, int diagonal=0, *, Tensor(a!) out)
 *
 * flip reverses the listed dims (negative allowed, each at most once). roll
 * shifts elements along each listed dim (shifts and dims pair up; with no
 * dims, one shift applies to the row-major flattening); shifts of any size
 * or sign wrap. tril keeps the elements on and below the given diagonal of
 * the last two dims (col - row <= diagonal) and zeroes the rest. Each output
 * element is read from the input through its strides (any dim order); out
 * is contiguous. dtypes: any REALHBBF16, out the same.
 */
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"
#include "ops/aten/elem.h"

static const char FLIP[] = "aten::flip.out";
static const char ROLL[] = "aten::roll.out";
static const char TRIL[] = "aten::tril.out";

typedef struct ro_args {
    const char *op;
    cml_tensor *self, *out;
    int64_t a[CML_MAX_DIMS], b[CML_MAX_DIMS]; /* flip: dims; roll: shifts, dims; tril: diagonal */
    uint32_t na, nb;
} ro_args;

static cml_status ro_read(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                          ro_args *r) {
    uint32_t want = op == ROLL ? 5 : 4, oi = want - 2;
    memset(r, 0, sizeof *r);
    r->op = op;
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, want));
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &r->self));
    CML_TRY(cml_arg_tensor(ctx, op, args, oi, &r->out));
    if (op == TRIL) {
        r->na = 1;
        CML_TRY(cml_arg_int(ctx, op, args, 1, &r->a[0]));
    } else {
        CML_TRY(cml_arg_int_list(ctx, op, args, 1, r->a, CML_MAX_DIMS, &r->na));
    }
    if (op == ROLL) CML_TRY(cml_arg_int_list(ctx, op, args, 2, r->b, CML_MAX_DIMS, &r->nb));
    if (!cml_aten_elem_supported(r->self->dtype)) return cml_aten_bad_dtype(ctx, op, "input", r->self->dtype);
    return cml_aten_prep_copy(ctx, op, r->self, r->out);
}

/* Source coordinate of output coordinate c, per op. */
typedef struct ro_map {
    bool flip[CML_MAX_DIMS];
    int64_t shift[CML_MAX_DIMS]; /* roll: normalised into [0, size) */
    int64_t flat_shift;          /* roll with no dims: shift of the flattening, or -1 */
} ro_map;

static cml_status ro_flip_map(cml_kernel_ctx *ctx, const ro_args *r, ro_map *m) {
    for (uint32_t k = 0; k < r->na; k++) {
        int32_t d;
        CML_TRY(cml_aten_norm_dim(ctx, FLIP, r->a[k], r->self->rank, &d));
        if (r->self->rank == 0) continue;
        if (m->flip[d]) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, FLIP, "dim %d appears twice", d);
        m->flip[d] = true;
    }
    return CML_OK;
}

static int64_t ro_mod(int64_t s, int64_t n) {
    if (n == 0) return 0;
    int64_t m = s % n;
    return m < 0 ? m + n : m;
}

static cml_status ro_roll_map(cml_kernel_ctx *ctx, const ro_args *r, ro_map *m) {
    if (r->nb == 0) {
        if (r->na != 1) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, ROLL, "without dims, give exactly one shift");
        m->flat_shift = ro_mod(r->a[0], cml_tensor_numel(r->self));
        return CML_OK;
    }
    if (r->na != r->nb)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, ROLL, "%u shifts for %u dims", r->na, r->nb);
    for (uint32_t k = 0; k < r->nb; k++) {
        int32_t d;
        CML_TRY(cml_aten_norm_dim(ctx, ROLL, r->b[k], r->self->rank, &d));
        if (r->self->rank == 0) continue;
        m->shift[d] = ro_mod(m->shift[d] + ro_mod(r->a[k], r->self->sizes[d]), r->self->sizes[d]);
    }
    return CML_OK;
}

/* Input offset for output coordinate c (flat index i). */
static int64_t ro_src(const ro_args *r, const ro_map *m, const int64_t *st, const int64_t *c, int64_t i) {
    const cml_tensor *t = r->self;
    int64_t off = 0;
    if (m->flat_shift >= 0) {
        int64_t n = cml_tensor_numel(t), rem = ro_mod(i - m->flat_shift, n);
        for (int32_t d = t->rank - 1; d >= 0; d--) {
            off += (rem % t->sizes[d]) * st[d];
            rem /= t->sizes[d];
        }
        return off;
    }
    for (int32_t d = 0; d < t->rank; d++) {
        int64_t s = c[d];
        if (m->flip[d]) s = t->sizes[d] - 1 - s;
        else if (m->shift[d]) s = ro_mod(s - m->shift[d], t->sizes[d]);
        off += s * st[d];
    }
    return off;
}

static void ro_move(const ro_args *r, const ro_map *m) {
    const cml_tensor *t = r->self;
    int64_t st[CML_MAX_DIMS], c[CML_MAX_DIMS] = {0}, n = cml_tensor_numel(t);
    size_t es = cml_dtype_size(t->dtype);
    cml_tensor_strides(t, st);
    const uint8_t *src = t->data;
    uint8_t *dst = r->out->data;
    int32_t rk = t->rank;
    for (int64_t i = 0; i < n; i++) {
        bool zero = false;
        if (r->op == TRIL) zero = c[rk - 1] - c[rk - 2] > r->a[0];
        if (zero) memset(dst + (size_t)i * es, 0, es);
        else memcpy(dst + (size_t)i * es, src + (size_t)ro_src(r, m, st, c, i) * es, es);
        for (int32_t d = rk - 1; d >= 0; d--) {
            if (++c[d] < t->sizes[d]) break;
            c[d] = 0;
        }
    }
}

static cml_status ro_prepare(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                             size_t *scratch_bytes) {
    ro_args r;
    *scratch_bytes = 0;
    CML_TRY(ro_read(ctx, op, args, nargs, &r));
    if (op == TRIL && r.self->rank < 2)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "input must have rank >= 2, has %d", r.self->rank);
    return CML_OK;
}

static cml_status ro_run(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs) {
    ro_args r;
    ro_map m;
    memset(&m, 0, sizeof m);
    m.flat_shift = -1;
    CML_TRY(ro_read(ctx, op, args, nargs, &r));
    if (op == FLIP) CML_TRY(ro_flip_map(ctx, &r, &m));
    if (op == ROLL) CML_TRY(ro_roll_map(ctx, &r, &m));
    if (op == TRIL && r.self->rank < 2)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "input must have rank >= 2, has %d", r.self->rank);
    CML_TRY(cml_aten_resize(ctx, op, r.out, r.self->rank, r.self->sizes));
    if (r.out->data == r.self->data && op != TRIL)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "output aliases the input");
    ro_move(&r, &m);
    return CML_OK;
}

#define RO_OP(fn, name)                                                                           \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,               \
                            size_t *scratch_bytes) {                                              \
        return ro_prepare(ctx, name, args, nargs, scratch_bytes);                                 \
    }                                                                                             \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                 \
        return ro_run(ctx, name, args, nargs);                                                    \
    }

RO_OP(cml_aten_flip_out, FLIP)
RO_OP(cml_aten_roll_out, ROLL)
RO_OP(cml_aten_tril_out, TRIL)
