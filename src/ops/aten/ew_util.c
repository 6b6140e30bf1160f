/* Typed elementwise helpers: dtype sets, promotion, Scalars, staging (cml_ew_util.h). */
#include "ops/aten/ew_util.h"

#include <string.h>

/* ---- dtype sets ------------------------------------------------------------ */

/* ---- Scalars ---------------------------------------------------------------- */

cml_status cml_ew_arg_scalar(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                         cml_ew_scalar *s) {
    const cml_evalue *v = args[i];
    memset(s, 0, sizeof *s);
    switch (v ? v->kind : CML_VALUE_NULL) {
    case CML_VALUE_BOOL:
        s->kind = EW_S_BOOL;
        s->i = v->u.b ? 1 : 0;
        return CML_OK;
    case CML_VALUE_INT:
        s->kind = EW_S_INT;
        s->i = v->u.i;
        return CML_OK;
    case CML_VALUE_DOUBLE:
        s->kind = EW_S_DOUBLE;
        s->d = v->u.d;
        return CML_OK;
    default:
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "arg %u: expected a Scalar, got value kind %d",
                         i, v ? (int)v->kind : -1);
    }
}

double cml_ew_scalar_f64(const cml_ew_scalar *s) { return s->kind == EW_S_DOUBLE ? s->d : (double)s->i; }

int64_t cml_ew_scalar_i64(const cml_ew_scalar *s) {
    return s->kind == EW_S_DOUBLE ? cml_aten_double_to_i64(s->d) : s->i;
}

/* ---- promotion ---------------------------------------------------------------- */

cml_dtype cml_ew_promote(cml_dtype a, cml_dtype b) {
    if (a == b) return a;
    if (a == CML_DTYPE_BOOL) return b;
    if (b == CML_DTYPE_BOOL) return a;
    bool fa = cml_aten_is_floating(a), fb = cml_aten_is_floating(b);
    if (fa != fb) return fa ? a : b;
    if (fa) /* two different float types: Double wins, any other pair meets in Float */
        return (a == CML_DTYPE_FLOAT64 || b == CML_DTYPE_FLOAT64) ? CML_DTYPE_FLOAT64
                                                                   : CML_DTYPE_FLOAT32;
    if (a == CML_DTYPE_UINT8 || b == CML_DTYPE_UINT8) { /* unsigned with signed */
        cml_dtype other = a == CML_DTYPE_UINT8 ? b : a;
        return other == CML_DTYPE_INT8 ? CML_DTYPE_INT16 : other;
    }
    return cml_dtype_size(a) > cml_dtype_size(b) ? a : b;
}

cml_dtype cml_ew_promote_scalar(cml_dtype t, const cml_ew_scalar *s) {
    switch (s->kind) {
    case EW_S_DOUBLE: return cml_aten_is_floating(t) ? t : CML_DTYPE_FLOAT32;
    case EW_S_INT: return t == CML_DTYPE_BOOL ? CML_DTYPE_INT64 : t;
    default: return t;
    }
}

bool cml_ew_can_cast(cml_dtype from, cml_dtype to) {
    if (cml_aten_is_floating(from) && cml_aten_is_int(to)) return false;
    return !(from != CML_DTYPE_BOOL && to == CML_DTYPE_BOOL);
}

cml_dtype cml_ew_compute_dtype(cml_dtype common) {
    if (common == CML_DTYPE_FLOAT64) return CML_DTYPE_FLOAT64;
    return cml_aten_is_floating(common) ? CML_DTYPE_FLOAT32 : CML_DTYPE_INT64;
}

int64_t cml_ew_wrap_int(cml_dtype dt, int64_t v) {
    switch (dt) {
    case CML_DTYPE_BOOL: return v != 0;
    case CML_DTYPE_UINT8: return (uint8_t)v;
    case CML_DTYPE_INT8: return (int8_t)v;
    case CML_DTYPE_INT16: return (int16_t)v;
    case CML_DTYPE_INT32: return (int32_t)v;
    default: return v;
    }
}

int cml_ew_int_bits(cml_dtype dt) {
    return dt == CML_DTYPE_BOOL ? 1 : (int)cml_dtype_size(dt) * 8;
}

cml_status cml_ew_require(cml_kernel_ctx *ctx, const char *op, bool ok, const char *what,
                      cml_dtype dt) {
    return ok ? CML_OK : cml_aten_bad_dtype(ctx, op, what, dt);
}

/* ---- staging ------------------------------------------------------------------ */

cml_status cml_ew_broadcast_resize(cml_kernel_ctx *ctx, const char *op, const cml_tensor *const *ts,
                               int n, cml_tensor *out) {
    int32_t rank = 0;
    int64_t sizes[CML_MAX_DIMS] = {0};
    for (int k = 0; k < n; k++) {
        if (!ts[k]) continue;
        int64_t prev[CML_MAX_DIMS];
        memcpy(prev, sizes, sizeof prev);
        CML_TRY(cml_aten_broadcast_shape(ctx, op, rank, prev, ts[k]->rank, ts[k]->sizes, &rank, sizes));
    }
    return cml_aten_resize(ctx, op, out, rank, sizes);
}

size_t cml_ew_stage_need(const cml_tensor *t, cml_dtype cdt, const cml_tensor *out) {
    size_t cs = cml_dtype_size(cdt);
    size_t need = cml_aten_align(cml_aten_bound_numel(out) * cs);
    if (t->dtype != cdt) need += cml_aten_align(cml_aten_bound_numel(t) * cs);
    return need;
}

static bool same_shape(const cml_tensor *a, const cml_tensor *b) {
    if (a->rank != b->rank) return false;
    for (int32_t d = 0; d < a->rank; d++)
        if (a->sizes[d] != b->sizes[d]) return false;
    return true;
}

const void *cml_ew_stage(cml_aten_scratch *s, const cml_tensor *t, cml_dtype cdt, const cml_tensor *out) {
    size_t cs = cml_dtype_size(cdt);
    const void *src = t->data;
    if (t->dtype != cdt) {
        size_t tn = (size_t)cml_tensor_numel(t);
        void *buf = cml_aten_scratch_alloc(s, tn * cs);
        if (!buf || (tn && !cml_k_convert(t->dtype, t->data, cdt, buf, tn))) return NULL;
        src = buf;
    }
    if (same_shape(t, out) && cml_aten_same_dim_order(t, out)) return src;
    int32_t rank = out->rank;
    int64_t sizes[CML_MAX_DIMS], st[CML_MAX_DIMS], dst[CML_MAX_DIMS];
    memcpy(sizes, out->sizes, sizeof sizes);
    cml_aten_tensor_bcast_strides(t, rank, sizes, st);
    cml_aten_to_memory_order(out, rank, sizes, (int64_t *[]){st}, 1);
    cml_aten_contig_strides(rank, sizes, dst);
    void *e = cml_aten_scratch_alloc(s, (size_t)cml_tensor_numel(out) * cs);
    if (!e) return NULL;
    cml_aten_copy_block(cs, rank, sizes, src, st, e, dst);
    return e;
}

size_t cml_ew_result_need(const cml_tensor *out, cml_dtype cdt) {
    return out->dtype == cdt ? 0 : cml_aten_align(cml_aten_bound_numel(out) * cml_dtype_size(cdt));
}

void *cml_ew_result(cml_aten_scratch *s, cml_tensor *out, cml_dtype cdt) {
    if (out->dtype == cdt) return out->data;
    return cml_aten_scratch_alloc(s, (size_t)cml_tensor_numel(out) * cml_dtype_size(cdt));
}

void cml_ew_finish(cml_tensor *out, const void *buf, cml_dtype cdt) {
    size_t n = (size_t)cml_tensor_numel(out);
    if (buf != out->data && n) cml_k_convert(cdt, buf, out->dtype, out->data, n);
}

/* ---- binary ops ------------------------------------------------------------------ */

typedef struct bin_args {
    cml_tensor *a, *b, *out; /* b NULL for a Scalar other */
    cml_ew_scalar s;
    cml_dtype common, cdt;
} bin_args;

static cml_dtype float_common(cml_dtype a, cml_dtype b) {
    if (cml_aten_is_floating(a) && cml_aten_is_floating(b)) return cml_ew_promote(a, b);
    if (cml_aten_is_floating(a)) return a;
    return cml_aten_is_floating(b) ? b : CML_DTYPE_FLOAT32;
}

static cml_status bin_out_rule(cml_kernel_ctx *ctx, const cml_ew_bin_spec *sp, const bin_args *x) {
    const char *op = sp->name;
    cml_dtype od = x->out->dtype;
    if (sp->rule == EW_RULE_FLOAT)
        return cml_ew_require(ctx, op, cml_aten_is_floating(od), "output", od);
    if (sp->rule == EW_RULE_MOD && x->common == CML_DTYPE_BOOL)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "bool operands not supported");
    if (sp->rule == EW_RULE_BITS && !cml_aten_is_int_or_bool(x->common))
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "floating-point operands not supported");
    CML_TRY(cml_ew_require(ctx, op, cml_aten_is_realhbbf16(od), "output", od));
    if (!cml_ew_can_cast(x->common, od))
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "result type %s cannot be cast to output %s",
                         cml_dtype_name(x->common), cml_dtype_name(od));
    return CML_OK;
}

static cml_status bin_read(cml_kernel_ctx *ctx, const cml_ew_bin_spec *sp, cml_evalue **args,
                           uint32_t nargs, bin_args *x) {
    const char *op = sp->name;
    memset(x, 0, sizeof *x);
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, 4));
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, &x->a));
    if (sp->other_scalar) CML_TRY(cml_ew_arg_scalar(ctx, op, args, 1, &x->s));
    else CML_TRY(cml_arg_tensor(ctx, op, args, 1, &x->b));
    CML_TRY(cml_arg_tensor(ctx, op, args, 2, &x->out));
    bool (*in_set)(cml_dtype) = sp->rule == EW_RULE_BITS ? cml_aten_is_int_or_bool : cml_aten_is_realhbbf16;
    CML_TRY(cml_ew_require(ctx, op, in_set(x->a->dtype), "self", x->a->dtype));
    if (x->b) CML_TRY(cml_ew_require(ctx, op, in_set(x->b->dtype), "other", x->b->dtype));
    if (sp->rule == EW_RULE_FLOAT) {
        cml_dtype bd = x->b ? x->b->dtype
                     : x->s.kind == EW_S_DOUBLE ? CML_DTYPE_FLOAT32 : CML_DTYPE_INT64;
        x->common = float_common(x->a->dtype, bd);
    } else {
        x->common = x->b ? cml_ew_promote(x->a->dtype, x->b->dtype) : cml_ew_promote_scalar(x->a->dtype, &x->s);
    }
    CML_TRY(bin_out_rule(ctx, sp, x));
    x->cdt = cml_ew_compute_dtype(x->common);
    return CML_OK;
}

cml_status cml_ew_bin_prepare(cml_kernel_ctx *ctx, const cml_ew_bin_spec *sp, cml_evalue **args,
                          uint32_t nargs, size_t *scratch_bytes) {
    bin_args x;
    CML_TRY(bin_read(ctx, sp, args, nargs, &x));
    size_t need = cml_ew_stage_need(x.a, x.cdt, x.out) + cml_ew_result_need(x.out, x.cdt);
    if (x.b) need += cml_ew_stage_need(x.b, x.cdt, x.out);
    *scratch_bytes = need;
    return CML_OK;
}

/* The Scalar other as one compute-dtype element. */
static void bin_scalar_slot(const bin_args *x, void *slot) {
    if (x->cdt == CML_DTYPE_FLOAT32) *(float *)slot = (float)cml_ew_scalar_f64(&x->s);
    else if (x->cdt == CML_DTYPE_FLOAT64) *(double *)slot = cml_ew_scalar_f64(&x->s);
    else *(int64_t *)slot = cml_ew_wrap_int(x->common, cml_ew_scalar_i64(&x->s));
}

cml_status cml_ew_bin_run(cml_kernel_ctx *ctx, const cml_ew_bin_spec *sp, cml_evalue **args,
                      uint32_t nargs) {
    const char *op = sp->name;
    bin_args x;
    CML_TRY(bin_read(ctx, sp, args, nargs, &x));
    const cml_tensor *ts[2] = {x.a, x.b};
    CML_TRY(cml_ew_broadcast_resize(ctx, op, ts, 2, x.out));
    size_t n = (size_t)cml_tensor_numel(x.out);
    if (n == 0) return CML_OK;
    cml_aten_scratch s = cml_aten_scratch_of(ctx);
    union { float f; double d; int64_t i; } slot;
    const void *ap = cml_ew_stage(&s, x.a, x.cdt, x.out);
    const void *bp = x.b ? cml_ew_stage(&s, x.b, x.cdt, x.out) : &slot;
    void *res = cml_ew_result(&s, x.out, x.cdt);
    if (!ap || !bp || !res) return cml_aten_scratch_short(ctx, op);
    if (!x.b) bin_scalar_slot(&x, &slot);
    size_t bs = x.b ? 1 : 0;
    if (x.cdt == CML_DTYPE_FLOAT32) {
        sp->k.f32(ap, bp, bs, res, n);
    } else if (x.cdt == CML_DTYPE_FLOAT64) {
        sp->k.f64(ap, bp, bs, res, n);
    } else if (!sp->k.i64(ap, bp, bs, res, n, x.common)) {
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "integer division by zero");
    }
    cml_ew_finish(x.out, res, x.cdt);
    return CML_OK;
}
