/*
 * Elementwise binary ops with NumPy broadcasting (add ... less_equal,
 * logical_and/or/xor) and select.
 *
 * Float tensors (fp16/fp32, FLOAT32 storage) go straight to
 * cml_k_binary_f32; integer and bool tensors are widened to int64 in scratch
 * and use cml_k_binary_i64 (MIL integer tensors are small shape-like data).
 * Comparisons produce BOOL; logical ops take BOOL.
 */
#include <string.h>

#include "kernels/kernels.h"
#include "mil/ops.h"

typedef enum bin_kind { BIN_ARITH, BIN_COMPARE, BIN_LOGICAL } bin_kind;
typedef enum bin_logic { LOGIC_NONE, LOGIC_AND, LOGIC_OR, LOGIC_XOR } bin_logic;

typedef struct bin_desc {
    const char *type;
    cml_binary_op op;
    bin_kind kind;
    bin_logic logic;
} bin_desc;

static const bin_desc kBinOps[] = {
    {"add", CML_BIN_ADD, BIN_ARITH, LOGIC_NONE},
    {"sub", CML_BIN_SUB, BIN_ARITH, LOGIC_NONE},
    {"mul", CML_BIN_MUL, BIN_ARITH, LOGIC_NONE},
    {"real_div", CML_BIN_DIV, BIN_ARITH, LOGIC_NONE},
    {"floor_div", CML_BIN_FLOOR_DIV, BIN_ARITH, LOGIC_NONE},
    {"mod", CML_BIN_MOD, BIN_ARITH, LOGIC_NONE},
    {"pow", CML_BIN_POW, BIN_ARITH, LOGIC_NONE},
    {"maximum", CML_BIN_MAX, BIN_ARITH, LOGIC_NONE},
    {"minimum", CML_BIN_MIN, BIN_ARITH, LOGIC_NONE},
    {"equal", CML_BIN_EQ, BIN_COMPARE, LOGIC_NONE},
    {"not_equal", CML_BIN_NE, BIN_COMPARE, LOGIC_NONE},
    {"greater", CML_BIN_GT, BIN_COMPARE, LOGIC_NONE},
    {"greater_equal", CML_BIN_GE, BIN_COMPARE, LOGIC_NONE},
    {"less", CML_BIN_LT, BIN_COMPARE, LOGIC_NONE},
    {"less_equal", CML_BIN_LE, BIN_COMPARE, LOGIC_NONE},
    /* logical ops on 0/1: and = min, or = max, xor = not_equal */
    {"logical_and", CML_BIN_MIN, BIN_LOGICAL, LOGIC_AND},
    {"logical_or", CML_BIN_MAX, BIN_LOGICAL, LOGIC_OR},
    {"logical_xor", CML_BIN_NE, BIN_LOGICAL, LOGIC_XOR},
};

typedef struct bin_attr {
    bin_desc desc;
    bool is_float;
} bin_attr;

static bool int_like(cml_dtype d) { return cml_milop_is_int(d) || d == CML_DTYPE_BOOL; }

static cml_status binary_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    const bin_desc *desc = NULL;
    for (size_t i = 0; i < sizeof kBinOps / sizeof kBinOps[0]; i++)
        if (strcmp(kBinOps[i].type, node->def->type) == 0) desc = &kBinOps[i];
    if (!desc) return cml_mil_fail(ctx, node, CML_ERR_INTERNAL, "unknown binary op");
    cml_mil_value *x = NULL, *y = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(cml_mil_require(ctx, node, "y", &y));
    if (x->kind != CML_MIL_KIND_TENSOR || y->kind != CML_MIL_KIND_TENSOR)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "x and y must be tensors");
    bool fx = cml_milop_is_float(x->dtype), fy = cml_milop_is_float(y->dtype);
    if (fx != fy || (!fx && (!int_like(x->dtype) || !int_like(y->dtype))))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unsupported dtypes x=%s y=%s",
                            cml_dtype_name(x->dtype), cml_dtype_name(y->dtype));
    if (desc->kind == BIN_LOGICAL && (x->dtype != CML_DTYPE_BOOL || y->dtype != CML_DTYPE_BOOL))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "x and y must be bool");
    int32_t rank;
    int64_t shape[CML_MAX_DIMS];
    if (!cml_milop_broadcast(x->rank, x->bound, y->rank, y->bound, &rank, shape)) {
        char a[400], b[400];
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "cannot broadcast x %s with y %s",
                            cml_milop_shape_str(a, sizeof a, x->rank, x->bound),
                            cml_milop_shape_str(b, sizeof b, y->rank, y->bound));
    }
    bin_attr *attr = cml_mil_alloc(ctx, sizeof *attr);
    if (!attr) return CML_ERR_NOMEM;
    attr->desc = *desc;
    attr->is_float = fx;
    node->attr = attr;

    int64_t n = cml_milop_prod(shape, 0, rank);
    bool dyn = x->dynamic || y->dynamic;
    if (fx) {
        /* mixed fp16/fp32 (a const of the other precision): the non-const wins */
        bool fp16 = (x->is_const && !y->is_const) ? y->fp16 : x->fp16;
        if (desc->kind == BIN_COMPARE) {
            node->scratch = (size_t)n * sizeof(float);
            return cml_mil_set_output(ctx, node, 0, CML_DTYPE_BOOL, false, rank, shape, dyn);
        }
        return cml_mil_set_output(ctx, node, 0, CML_DTYPE_FLOAT32, fp16, rank, shape, dyn);
    }
    node->scratch = (size_t)(cml_mil_bound_numel(x) + cml_mil_bound_numel(y) + n) * sizeof(int64_t);
    cml_dtype odt = x->dtype;
    if (cml_dtype_size(y->dtype) > cml_dtype_size(x->dtype)) odt = y->dtype;
    if (desc->kind != BIN_ARITH) odt = CML_DTYPE_BOOL;
    return cml_mil_set_output(ctx, node, 0, odt, false, rank, shape, dyn);
}

static cml_status binary_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const bin_attr *attr = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *y = cml_mil_in(ctx, node, "y");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    int32_t rank;
    int64_t shape[CML_MAX_DIMS], sx[CML_MAX_DIMS], sy[CML_MAX_DIMS];
    if (!cml_milop_broadcast(x->rank, x->shape, y->rank, y->shape, &rank, shape))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x and y do not broadcast");
    CML_TRY(cml_mil_resize(ctx, out, rank, shape));
    cml_milop_bcast_strides(rank, shape, x->rank, x->shape, sx);
    cml_milop_bcast_strides(rank, shape, y->rank, y->shape, sy);
    int64_t n = cml_milop_prod(shape, 0, rank);
    void *scratch = NULL;
    CML_TRY(cml_milop_scratch(ctx, node, &scratch));

    if (attr->is_float) {
        if (attr->desc.kind != BIN_COMPARE) {
            cml_k_binary_f32(attr->desc.op, rank, shape, x->data, sx, y->data, sy, out->data);
            return CML_OK;
        }
        float *tmp = scratch;
        cml_k_binary_f32(attr->desc.op, rank, shape, x->data, sx, y->data, sy, tmp);
        uint8_t *o = out->data;
        for (int64_t i = 0; i < n; i++) o[i] = tmp[i] != 0.0f;
        return CML_OK;
    }
    int64_t nx = cml_mil_numel(x), ny = cml_mil_numel(y);
    int64_t *a = scratch, *b = a + nx, *o = b + ny;
    for (int64_t i = 0; i < nx; i++) a[i] = cml_milop_get_int(x->data, x->dtype, i);
    for (int64_t i = 0; i < ny; i++) b[i] = cml_milop_get_int(y->data, y->dtype, i);
    if (attr->desc.op == CML_BIN_DIV || attr->desc.op == CML_BIN_FLOOR_DIV ||
        attr->desc.op == CML_BIN_MOD) {
        for (int64_t i = 0; i < ny; i++)
            if (b[i] == 0)
                return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "integer division by zero");
    }
    cml_k_binary_i64(attr->desc.op, rank, shape, a, sx, b, sy, o);
    for (int64_t i = 0; i < n; i++) cml_milop_set_int(out->data, out->dtype, i, o[i]);
    return CML_OK;
}

#define BINARY_OP(t) \
    const cml_mil_op_def cml_mil_op_##t = {#t, binary_infer, binary_run, false};
BINARY_OP(add)
BINARY_OP(sub)
BINARY_OP(mul)
BINARY_OP(real_div)
BINARY_OP(floor_div)
BINARY_OP(mod)
BINARY_OP(pow)
BINARY_OP(maximum)
BINARY_OP(minimum)
BINARY_OP(equal)
BINARY_OP(not_equal)
BINARY_OP(greater)
BINARY_OP(greater_equal)
BINARY_OP(less)
BINARY_OP(less_equal)
BINARY_OP(logical_and)
BINARY_OP(logical_or)
BINARY_OP(logical_xor)

/* ---- select(cond, a, b) ------------------------------------------------------ */

typedef struct select_walk {
    const uint8_t *cond; /* BOOL */
    const void *cond_any; /* other dtype, read generically */
    cml_dtype cond_dtype;
    const uint8_t *a, *b;
    uint8_t *out;
    size_t esize;
    int64_t out_off;
} select_walk;

static void select_row(void *vctx, int64_t n, const int64_t *offs, const int64_t *inner) {
    select_walk *w = vctx;
    size_t es = w->esize;
    for (int64_t i = 0; i < n; i++) {
        int64_t oc = offs[0] + i * inner[0];
        bool c = w->cond ? w->cond[oc] != 0 : cml_milop_get_num(w->cond_any, w->cond_dtype, oc) != 0;
        const uint8_t *src = c ? w->a + (size_t)(offs[1] + i * inner[1]) * es
                               : w->b + (size_t)(offs[2] + i * inner[2]) * es;
        memcpy(w->out + (size_t)(w->out_off + i) * es, src, es);
    }
    w->out_off += n;
}

static cml_status select_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *c = NULL, *a = NULL, *b = NULL;
    CML_TRY(cml_mil_require(ctx, node, "cond", &c));
    CML_TRY(cml_mil_require(ctx, node, "a", &a));
    CML_TRY(cml_mil_require(ctx, node, "b", &b));
    if (cml_dtype_size(a->dtype) != cml_dtype_size(b->dtype) ||
        cml_milop_is_float(a->dtype) != cml_milop_is_float(b->dtype) ||
        cml_dtype_size(a->dtype) == 0 || cml_dtype_size(c->dtype) == 0)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unsupported dtypes a=%s b=%s",
                            cml_dtype_name(a->dtype), cml_dtype_name(b->dtype));
    int32_t r1, r2;
    int64_t s1[CML_MAX_DIMS], s2[CML_MAX_DIMS];
    if (!cml_milop_broadcast(c->rank, c->bound, a->rank, a->bound, &r1, s1) ||
        !cml_milop_broadcast(r1, s1, b->rank, b->bound, &r2, s2))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "cond, a and b do not broadcast");
    bool fp16 = (a->is_const && !b->is_const) ? b->fp16 : a->fp16;
    return cml_mil_set_output(ctx, node, 0, a->dtype, fp16, r2, s2,
                              c->dynamic || a->dynamic || b->dynamic);
}

static cml_status select_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *c = cml_mil_in(ctx, node, "cond"), *a = cml_mil_in(ctx, node, "a"),
                  *b = cml_mil_in(ctx, node, "b"), *out = cml_mil_out(ctx, node, 0);
    int32_t r1, r;
    int64_t s1[CML_MAX_DIMS], shape[CML_MAX_DIMS];
    if (!cml_milop_broadcast(c->rank, c->shape, a->rank, a->shape, &r1, s1) ||
        !cml_milop_broadcast(r1, s1, b->rank, b->shape, &r, shape))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "cond, a and b do not broadcast");
    CML_TRY(cml_mil_resize(ctx, out, r, shape));
    int64_t sc[CML_MAX_DIMS], sa[CML_MAX_DIMS], sb[CML_MAX_DIMS];
    cml_milop_bcast_strides(r, shape, c->rank, c->shape, sc);
    cml_milop_bcast_strides(r, shape, a->rank, a->shape, sa);
    cml_milop_bcast_strides(r, shape, b->rank, b->shape, sb);
    select_walk w = {
        .cond = c->dtype == CML_DTYPE_BOOL ? c->data : NULL,
        .cond_any = c->data,
        .cond_dtype = c->dtype,
        .a = a->data,
        .b = b->data,
        .out = out->data,
        .esize = cml_dtype_size(out->dtype),
    };
    const int64_t *strides[3] = {sc, sa, sb};
    cml_milop_walk(r, shape, 3, strides, select_row, &w);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_select = {"select", select_infer, select_run, false};
