/*
 * Scalar ops the emitter uses for symbolic sizes (executorch_prim::*.Scalar,
 * floordiv.int, mod.int, aten::sym_size.int, aten::sym_numel,
 * aten::sym_stride.int). Arguments are (a[, b[, c]], out): the result
 * overwrites the out EValue with an Int, Double or Bool, following Python's
 * rules (int op int stays int). Also executorch_prim::et_copy_index.tensor,
 * the map loop's row copy, and aten::_local_scalar_dense.
 */
#include <math.h>
#include <string.h>

#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

enum cml_prim_kind {
    PK_ADD, PK_SUB, PK_MUL, PK_FLOORDIV, PK_TRUEDIV, PK_MOD, PK_EQ, PK_GT, PK_LT, PK_GE, PK_LE,
    PK_MAX, PK_MIN, PK_NEG, PK_FLOAT, PK_INT, PK_CEIL, PK_ROUND, PK_TRUNC, PK_NOT, PK_ITE,
};

typedef struct cml_prim_spec {
    const char *name;
    uint8_t kind;
    uint8_t nargs;
    uint8_t ints_only; /* the *.int overloads: every operand an Int */
} cml_prim_spec;

static bool is_scalar_kind(const cml_evalue *v) {
    return v && (v->kind == CML_VALUE_INT || v->kind == CML_VALUE_DOUBLE || v->kind == CML_VALUE_BOOL);
}

static double as_double(const cml_evalue *v) {
    return v->kind == CML_VALUE_DOUBLE ? v->u.d : v->kind == CML_VALUE_INT ? (double)v->u.i : (v->u.b ? 1.0 : 0.0);
}
static int64_t as_int(const cml_evalue *v) {
    return v->kind == CML_VALUE_INT ? v->u.i : v->kind == CML_VALUE_BOOL ? (int64_t)v->u.b : (int64_t)v->u.d;
}
static bool is_integral(const cml_evalue *v) { return v->kind != CML_VALUE_DOUBLE; }

static void set_int(cml_evalue *o, int64_t v) {
    o->kind = CML_VALUE_INT;
    o->u.i = v;
}
static void set_double(cml_evalue *o, double v) {
    o->kind = CML_VALUE_DOUBLE;
    o->u.d = v;
}
static void set_bool(cml_evalue *o, bool v) {
    o->kind = CML_VALUE_BOOL;
    o->u.b = v;
}

static cml_status cml_prim_check(cml_kernel_ctx *ctx, const cml_prim_spec *sp, cml_evalue **args,
                             uint32_t nargs) {
    if (nargs != sp->nargs)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, sp->name, "expected %u args, got %u", sp->nargs, nargs);
    for (uint32_t i = 0; i < nargs; i++)
        if (!is_scalar_kind(args[i]))
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, sp->name, "arg %u is not a scalar (kind %d)", i,
                             args[i] ? (int)args[i]->kind : -1);
    for (uint32_t i = 0; sp->ints_only && i + 1 < nargs; i++)
        if (args[i]->kind != CML_VALUE_INT)
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, sp->name, "arg %u is not an int (kind %d)", i,
                             (int)args[i]->kind);
    return CML_OK;
}

static cml_status cml_prim_prepare(cml_kernel_ctx *ctx, const cml_prim_spec *sp, cml_evalue **args,
                               uint32_t nargs, size_t *scratch_bytes) {
    *scratch_bytes = 0;
    return cml_prim_check(ctx, sp, args, nargs);
}

static int64_t floordiv_i(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}
static int64_t mod_i(int64_t a, int64_t b) {
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}

static cml_status cml_prim_run(cml_kernel_ctx *ctx, const cml_prim_spec *sp, cml_evalue **args,
                           uint32_t nargs) {
    CML_TRY(cml_prim_check(ctx, sp, args, nargs));
    const cml_evalue *a = args[0], *b = nargs > 2 ? args[1] : NULL;
    cml_evalue *o = args[nargs - 1];
    bool ints = is_integral(a) && (!b || is_integral(b));
    switch (sp->kind) {
    case PK_ADD:
    case PK_SUB:
    case PK_MUL:
    case PK_MAX:
    case PK_MIN:
        if (ints) {
            int64_t x = as_int(a), y = as_int(b), r;
            bool ovf = false;
            switch (sp->kind) {
            case PK_ADD: ovf = __builtin_add_overflow(x, y, &r); break;
            case PK_SUB: ovf = __builtin_sub_overflow(x, y, &r); break;
            case PK_MUL: ovf = __builtin_mul_overflow(x, y, &r); break;
            case PK_MAX: r = x > y ? x : y; break;
            default: r = x < y ? x : y; break;
            }
            if (ovf) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, sp->name, "integer overflow");
            set_int(o, r);
        } else {
            double x = as_double(a), y = as_double(b), r;
            switch (sp->kind) {
            case PK_ADD: r = x + y; break;
            case PK_SUB: r = x - y; break;
            case PK_MUL: r = x * y; break;
            case PK_MAX: r = fmax(x, y); break;
            default: r = fmin(x, y); break;
            }
            set_double(o, r);
        }
        return CML_OK;
    case PK_FLOORDIV:
    case PK_MOD:
        if (ints) {
            int64_t x = as_int(a), y = as_int(b);
            if (y == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, sp->name, "division by zero");
            if (x == INT64_MIN && y == -1)
                return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, sp->name, "integer overflow");
            set_int(o, sp->kind == PK_FLOORDIV ? floordiv_i(x, y) : mod_i(x, y));
        } else {
            double x = as_double(a), y = as_double(b);
            if (y == 0.0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, sp->name, "division by zero");
            if (sp->kind == PK_FLOORDIV) {
                set_double(o, floor(x / y));
            } else {
                double r = fmod(x, y);
                if (r != 0.0 && ((r < 0) != (y < 0))) r += y;
                set_double(o, r);
            }
        }
        return CML_OK;
    case PK_TRUEDIV: {
        double y = as_double(b);
        if (y == 0.0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, sp->name, "division by zero");
        set_double(o, as_double(a) / y);
        return CML_OK;
    }
    case PK_EQ:
    case PK_GT:
    case PK_LT:
    case PK_GE:
    case PK_LE: {
        int c;
        if (ints) {
            int64_t x = as_int(a), y = as_int(b);
            c = x < y ? -1 : x > y ? 1 : 0;
        } else {
            double x = as_double(a), y = as_double(b);
            if (isnan(x) || isnan(y)) {
                set_bool(o, false);
                return CML_OK;
            }
            c = x < y ? -1 : x > y ? 1 : 0;
        }
        bool r = sp->kind == PK_EQ ? c == 0 : sp->kind == PK_GT ? c > 0 : sp->kind == PK_LT ? c < 0
               : sp->kind == PK_GE ? c >= 0 : c <= 0;
        set_bool(o, r);
        return CML_OK;
    }
    case PK_NEG:
        if (ints) {
            int64_t x = as_int(a);
            if (x == INT64_MIN) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, sp->name, "integer overflow");
            set_int(o, -x);
        } else {
            set_double(o, -as_double(a));
        }
        return CML_OK;
    case PK_FLOAT: set_double(o, as_double(a)); return CML_OK;
    case PK_INT:
    case PK_CEIL:
    case PK_ROUND:
    case PK_TRUNC: {
        if (ints) {
            set_int(o, as_int(a));
            return CML_OK;
        }
        double x = as_double(a);
        double r = sp->kind == PK_CEIL ? ceil(x) : sp->kind == PK_ROUND ? nearbyint(x) : trunc(x);
        if (!(r >= -9.2233720368547758e18 && r < 9.2233720368547758e18))
            return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, sp->name, "%g does not fit an int", x);
        set_int(o, (int64_t)r);
        return CML_OK;
    }
    case PK_NOT: set_bool(o, as_double(a) == 0.0); return CML_OK;
    case PK_ITE: {
        const cml_evalue *pick = as_double(args[0]) != 0.0 ? args[1] : args[2];
        *o = *pick;
        return CML_OK;
    }
    default: return cml_aten_fail(ctx, CML_ERR_INTERNAL, sp->name, "unknown prim op");
    }
}

#define PRIM_OP(fn, NAME, KIND, NARGS)                                                           \
    static const cml_prim_spec fn##_spec = {NAME, KIND, NARGS, 0};                                   \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes) {                                             \
        return cml_prim_prepare(ctx, &fn##_spec, args, nargs, scratch_bytes);                        \
    }                                                                                            \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                \
        return cml_prim_run(ctx, &fn##_spec, args, nargs);                                           \
    }

PRIM_OP(cml_prim_add_scalar,      "executorch_prim::add.Scalar",       PK_ADD,      3)
PRIM_OP(cml_prim_sub_scalar,      "executorch_prim::sub.Scalar",       PK_SUB,      3)
PRIM_OP(cml_prim_mul_scalar,      "executorch_prim::mul.Scalar",       PK_MUL,      3)
PRIM_OP(cml_prim_floordiv_scalar, "executorch_prim::floordiv.Scalar",  PK_FLOORDIV, 3)
PRIM_OP(cml_prim_truediv_scalar,  "executorch_prim::truediv.Scalar",   PK_TRUEDIV,  3)
PRIM_OP(cml_prim_mod_scalar,      "executorch_prim::mod.Scalar",       PK_MOD,      3)
PRIM_OP(cml_prim_eq_scalar,       "executorch_prim::eq.Scalar",        PK_EQ,       3)
PRIM_OP(cml_prim_gt_scalar,       "executorch_prim::gt.Scalar",        PK_GT,       3)
PRIM_OP(cml_prim_lt_scalar,       "executorch_prim::lt.Scalar",        PK_LT,       3)
PRIM_OP(cml_prim_ge_scalar,       "executorch_prim::ge.Scalar",        PK_GE,       3)
PRIM_OP(cml_prim_le_scalar,       "executorch_prim::le.Scalar",        PK_LE,       3)
PRIM_OP(cml_prim_sym_max_scalar,  "executorch_prim::sym_max.Scalar",   PK_MAX,      3)
PRIM_OP(cml_prim_sym_min_scalar,  "executorch_prim::sym_min.Scalar",   PK_MIN,      3)
PRIM_OP(cml_prim_neg_scalar,      "executorch_prim::neg.Scalar",       PK_NEG,      2)
PRIM_OP(cml_prim_sym_float_scalar, "executorch_prim::sym_float.Scalar", PK_FLOAT,   2)
PRIM_OP(cml_prim_sym_int_scalar,  "executorch_prim::sym_int.Scalar",   PK_INT,      2)
PRIM_OP(cml_prim_ceil_scalar,     "executorch_prim::ceil.Scalar",      PK_CEIL,     2)
PRIM_OP(cml_prim_round_scalar,    "executorch_prim::round.Scalar",     PK_ROUND,    2)
PRIM_OP(cml_prim_trunc_scalar,    "executorch_prim::trunc.Scalar",     PK_TRUNC,    2)
PRIM_OP(cml_prim_sym_not_scalar,  "executorch_prim::sym_not.Scalar",   PK_NOT,      2)
PRIM_OP(cml_prim_sym_ite_scalar,  "executorch_prim::sym_ite.Scalar",   PK_ITE,      4)

/* floordiv.int(int a, int b) -> int and mod.int(int a, int b) -> int: the
 * Int-only overloads, with Python's floor rules like the .Scalar forms
 * (upstream's runtime truncates in C; the two agree on non-negative sizes). */
#define PRIM_OP_INT(fn, NAME, KIND)                                                              \
    static const cml_prim_spec fn##_spec = {NAME, KIND, 3, 1};                                       \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes) {                                             \
        return cml_prim_prepare(ctx, &fn##_spec, args, nargs, scratch_bytes);                        \
    }                                                                                            \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                \
        return cml_prim_run(ctx, &fn##_spec, args, nargs);                                           \
    }

PRIM_OP_INT(cml_prim_floordiv_int, "executorch_prim::floordiv.int", PK_FLOORDIV)
PRIM_OP_INT(cml_prim_mod_int,      "executorch_prim::mod.int",      PK_MOD)

/* ---- executorch_prim::et_copy_index.tensor(Tensor copy_to, Tensor copy_from, int index) ----
 * The emitter's map-loop step: copy_to is resized to [index + 1, *copy_from.shape]
 * (it grows one row per iteration, within its capacity) and copy_from is
 * copied into row index. */

static const char ETCOPY[] = "executorch_prim::et_copy_index.tensor";

static cml_status etcopy_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                              cml_tensor **to, cml_tensor **from) {
    CML_TRY(cml_aten_nargs_is(ctx, ETCOPY, nargs, 3));
    CML_TRY(cml_arg_tensor(ctx, ETCOPY, args, 0, to));
    CML_TRY(cml_arg_tensor(ctx, ETCOPY, args, 1, from));
    if ((*to)->dtype != (*from)->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, ETCOPY, "copy_to %s and copy_from %s differ in dtype",
                         cml_dtype_name((*to)->dtype), cml_dtype_name((*from)->dtype));
    if ((*to)->rank != (*from)->rank + 1)
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, ETCOPY,
                         "copy_to rank %d must be copy_from rank %d plus 1", (*to)->rank,
                         (*from)->rank);
    return CML_OK;
}

cml_status cml_prim_et_copy_index_tensor_prepare(cml_kernel_ctx *ctx, cml_evalue **args,
                                             uint32_t nargs, size_t *scratch_bytes) {
    cml_tensor *to, *from;
    int64_t index;
    *scratch_bytes = 0;
    CML_TRY(etcopy_read(ctx, args, nargs, &to, &from));
    CML_TRY(cml_arg_int(ctx, ETCOPY, args, 2, &index));
    if (!cml_aten_is_known_dtype(to->dtype)) return cml_aten_bad_dtype(ctx, ETCOPY, "input", to->dtype);
    CML_TRY(cml_aten_check_contiguous(ctx, ETCOPY, to, "copy_to"));
    return cml_aten_check_contiguous(ctx, ETCOPY, from, "copy_from");
}

cml_status cml_prim_et_copy_index_tensor_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *to, *from;
    int64_t index;
    CML_TRY(etcopy_read(ctx, args, nargs, &to, &from));
    CML_TRY(cml_arg_int(ctx, ETCOPY, args, 2, &index));
    if (index < 0 || index >= ((int64_t)1 << 40))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, ETCOPY, "index %lld out of range", (long long)index);
    int64_t sizes[CML_MAX_DIMS];
    sizes[0] = index + 1;
    for (int32_t d = 0; d < from->rank; d++) {
        if (to->sizes[d + 1] != from->sizes[d])
            return cml_aten_fail(ctx, CML_ERR_SHAPE, ETCOPY, "copy_to dim %d is %lld, copy_from dim %d is %lld",
                             d + 1, (long long)to->sizes[d + 1], d, (long long)from->sizes[d]);
        sizes[d + 1] = from->sizes[d];
    }
    CML_TRY(cml_aten_resize(ctx, ETCOPY, to, to->rank, sizes));
    size_t row = cml_tensor_nbytes(from);
    if (row == 0) return CML_OK;
    /* After the resize, to holds (index + 1) rows of row bytes within its capacity. */
    memcpy((uint8_t *)to->data + (size_t)index * row, from->data, row);
    return CML_OK;
}

/* ---- aten::sym_size.int(Tensor self, int dim) -> SymInt, sym_stride.int, sym_numel ------ */

static cml_status sym_read(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                           uint32_t want, cml_tensor **t, cml_evalue **out) {
    if (nargs != want) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "expected %u args, got %u", want, nargs);
    CML_TRY(cml_arg_tensor(ctx, op, args, 0, t));
    *out = args[nargs - 1];
    if (!is_scalar_kind(*out))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "result value is not a scalar");
    return CML_OK;
}

static cml_status sym_dim(cml_kernel_ctx *ctx, const char *op, bool stride, cml_evalue **args,
                          uint32_t nargs, bool run) {
    cml_tensor *t = NULL;
    cml_evalue *out = NULL;
    int64_t d64;
    int32_t d;
    CML_TRY(sym_read(ctx, op, args, nargs, 3, &t, &out));
    CML_TRY(cml_arg_int(ctx, op, args, 1, &d64));
    if (t->rank == 0) return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, op, "tensor has no dims");
    CML_TRY(cml_aten_norm_dim(ctx, op, d64, t->rank, &d));
    if (!run) return CML_OK;
    if (stride) {
        int64_t st[CML_MAX_DIMS];
        cml_tensor_strides(t, st);
        set_int(out, st[d]);
    } else {
        set_int(out, t->sizes[d]);
    }
    return CML_OK;
}

cml_status cml_aten_sym_size_int_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                     size_t *scratch_bytes) {
    *scratch_bytes = 0;
    return sym_dim(ctx, "aten::sym_size.int", false, args, nargs, false);
}
cml_status cml_aten_sym_size_int_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return sym_dim(ctx, "aten::sym_size.int", false, args, nargs, true);
}
cml_status cml_aten_sym_stride_int_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                       size_t *scratch_bytes) {
    *scratch_bytes = 0;
    return sym_dim(ctx, "aten::sym_stride.int", true, args, nargs, false);
}
cml_status cml_aten_sym_stride_int_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return sym_dim(ctx, "aten::sym_stride.int", true, args, nargs, true);
}

cml_status cml_aten_sym_numel_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                  size_t *scratch_bytes) {
    cml_tensor *t = NULL;
    cml_evalue *out = NULL;
    *scratch_bytes = 0;
    return sym_read(ctx, "aten::sym_numel", args, nargs, 2, &t, &out);
}
cml_status cml_aten_sym_numel_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *t = NULL;
    cml_evalue *out = NULL;
    CML_TRY(sym_read(ctx, "aten::sym_numel", args, nargs, 2, &t, &out));
    set_int(out, cml_tensor_numel(t));
    return CML_OK;
}

/* ---- aten::_local_scalar_dense(Tensor self) -> Scalar (tensor.item()) ------------------ */

static const char ITEM[] = "aten::_local_scalar_dense";

cml_status cml_aten_local_scalar_dense_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                           size_t *scratch_bytes) {
    cml_tensor *t = NULL;
    cml_evalue *out = NULL;
    *scratch_bytes = 0;
    CML_TRY(sym_read(ctx, ITEM, args, nargs, 2, &t, &out));
    if (!cml_aten_is_float(t->dtype) && !cml_aten_is_int_or_bool(t->dtype))
        return cml_aten_bad_dtype(ctx, ITEM, "input", t->dtype);
    return CML_OK;
}

cml_status cml_aten_local_scalar_dense_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    cml_tensor *t = NULL;
    cml_evalue *out = NULL;
    CML_TRY(sym_read(ctx, ITEM, args, nargs, 2, &t, &out));
    if (cml_tensor_numel(t) != 1)
        return cml_aten_fail(ctx, CML_ERR_SHAPE, ITEM, "tensor has %lld elements, not 1",
                         (long long)cml_tensor_numel(t));
    if (t->dtype == CML_DTYPE_BOOL) {
        set_bool(out, *(const uint8_t *)t->data != 0);
    } else if (cml_aten_is_int(t->dtype)) {
        int64_t v = 0;
        cml_k_convert(t->dtype, t->data, CML_DTYPE_INT64, &v, 1);
        set_int(out, v);
    } else {
        float f = 0.0f;
        cml_k_convert(t->dtype, t->data, CML_DTYPE_FLOAT32, &f, 1);
        set_double(out, (double)f);
    }
    return CML_OK;
}
