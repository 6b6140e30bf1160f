/* The cml_arg_* helpers of exec/op.h: read a KernelCall argument as its
 * schema type, with a message naming the op and the argument position. */
#include <stdio.h>

#include "exec/op.h"

static const char *kind_name(cml_value_kind k) {
    switch (k) {
    case CML_VALUE_NONE: return "None";
    case CML_VALUE_NULL: return "Null";
    case CML_VALUE_INT: return "Int";
    case CML_VALUE_BOOL: return "Bool";
    case CML_VALUE_DOUBLE: return "Double";
    case CML_VALUE_TENSOR: return "Tensor";
    case CML_VALUE_STRING: return "String";
    case CML_VALUE_INT_LIST: return "IntList";
    case CML_VALUE_DOUBLE_LIST: return "DoubleList";
    case CML_VALUE_BOOL_LIST: return "BoolList";
    case CML_VALUE_TENSOR_LIST: return "TensorList";
    case CML_VALUE_OPT_TENSOR_LIST: return "OptionalTensorList";
    }
    return "unknown";
}

static cml_status wrong_kind(cml_kernel_ctx *ctx, const char *op, uint32_t i, const char *want,
                             const cml_evalue *v) {
    return cml_fail(ctx->err, CML_ERR_INVALID_ARG, "%s: arg %u: expected %s, got %s", op, i, want,
                    v ? kind_name(v->kind) : "nothing");
}

cml_status cml_arg_tensor(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                          cml_tensor **out) {
    const cml_evalue *v = args[i];
    if (!v || v->kind != CML_VALUE_TENSOR || !v->u.t) return wrong_kind(ctx, op, i, "Tensor", v);
    *out = v->u.t;
    return CML_OK;
}

cml_status cml_arg_int(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                       int64_t *out) {
    const cml_evalue *v = args[i];
    if (!v || v->kind != CML_VALUE_INT) return wrong_kind(ctx, op, i, "Int", v);
    *out = v->u.i;
    return CML_OK;
}

cml_status cml_arg_double(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                          double *out) {
    const cml_evalue *v = args[i];
    if (v && v->kind == CML_VALUE_DOUBLE) {
        *out = v->u.d;
        return CML_OK;
    }
    if (v && v->kind == CML_VALUE_INT) {
        *out = (double)v->u.i;
        return CML_OK;
    }
    if (v && v->kind == CML_VALUE_BOOL) {
        *out = v->u.b ? 1.0 : 0.0;
        return CML_OK;
    }
    return wrong_kind(ctx, op, i, "Double or Int", v);
}

cml_status cml_arg_bool(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                        bool *out) {
    const cml_evalue *v = args[i];
    if (!v || v->kind != CML_VALUE_BOOL) return wrong_kind(ctx, op, i, "Bool", v);
    *out = v->u.b;
    return CML_OK;
}

/* Copies min(length, max) items; *count is the list's full length, so a
 * caller sees (and rejects) a list longer than it can take. */
cml_status cml_arg_int_list(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                            int64_t *out, uint32_t max, uint32_t *count) {
    const cml_evalue *v = args[i];
    if (!v || v->kind != CML_VALUE_INT_LIST) return wrong_kind(ctx, op, i, "IntList", v);
    uint32_t n = v->u.int_list.count;
    for (uint32_t k = 0; k < n; k++) {
        int64_t idx = v->u.int_list.items[k];
        if (idx < 0 || (uint64_t)idx >= ctx->nvalues || !ctx->values)
            return cml_fail(ctx->err, CML_ERR_INVALID_ARG, "%s: arg %u: list item %u names value %lld, "
                            "out of range", op, i, k, (long long)idx);
        const cml_evalue *item = &ctx->values[idx];
        if (item->kind != CML_VALUE_INT)
            return cml_fail(ctx->err, CML_ERR_INVALID_ARG, "%s: arg %u: list item %u is %s, not Int",
                            op, i, k, kind_name(item->kind));
        if (k < max) out[k] = item->u.i;
    }
    *count = n;
    return CML_OK;
}

/* None: a Null value (Optional arguments). */
bool cml_arg_is_none(cml_evalue **args, uint32_t i) {
    const cml_evalue *v = args[i];
    return !v || v->kind == CML_VALUE_NULL || v->kind == CML_VALUE_NONE;
}
