/* Core MIL ops: const, cast, identity, read_state, write_state, cond and
 * while_loop. */
#include <string.h>

#include "kernels/kernels.h"
#include "mil/graph.h"
#include "mil/mil.h"

/* Upper limit on while_loop iterations, so a corrupt model cannot spin. */
#define CML_MIL_MAX_LOOP_ITERATIONS 100000000ll

/* Copies src (data and current shape) into dst; dtypes must match. */
static cml_status copy_value(cml_mil_ctx *ctx, const cml_mil_node *node, cml_mil_value *dst,
                             const cml_mil_value *src) {
    if (dst == src) return CML_OK;
    if (dst->dtype != src->dtype)
        return cml_mil_fail(ctx, node, CML_ERR_INTERNAL, "copy between %s and %s values",
                            cml_dtype_name(src->dtype), cml_dtype_name(dst->dtype));
    CML_TRY(cml_mil_resize(ctx, dst, src->rank, src->shape));
    size_t n = cml_mil_nbytes(src);
    if (n) memmove(dst->data, src->data, n);
    return CML_OK;
}

/* ------------------------------------------------------------------ const */

/* const values are decoded by the compiler (attributes["val"]); the node is
 * folded and never runs. */
static cml_status const_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    (void)ctx;
    (void)node;
    return CML_OK;
}

static cml_status const_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    (void)ctx;
    (void)node;
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_const = {"const", const_infer, const_run, false};

/* ------------------------------------------------------------------- cast */

typedef struct cast_dtype {
    const char *name;
    cml_dtype dtype;
    bool fp16;
} cast_dtype;

static const cast_dtype kCastTypes[] = {
    {"fp16", CML_DTYPE_FLOAT32, true},   {"fp32", CML_DTYPE_FLOAT32, false},
    {"fp64", CML_DTYPE_FLOAT32, false},  {"int32", CML_DTYPE_INT32, false},
    {"int64", CML_DTYPE_INT32, false},   {"bool", CML_DTYPE_BOOL, false},
    {"int8", CML_DTYPE_INT8, false},     {"uint8", CML_DTYPE_UINT8, false},
    {"int16", CML_DTYPE_INT16, false},   {"uint16", CML_DTYPE_UINT16, false},
    {"uint32", CML_DTYPE_UINT32, false},
};

static cml_status cast_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    const char *dtype = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(cml_mil_const_string(ctx, node, "dtype", NULL, &dtype));
    if (!dtype)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "missing required parameter 'dtype'");
    for (size_t i = 0; i < sizeof kCastTypes / sizeof kCastTypes[0]; i++) {
        if (strcmp(kCastTypes[i].name, dtype) != 0) continue;
        return cml_mil_set_output(ctx, node, 0, kCastTypes[i].dtype, kCastTypes[i].fp16, x->rank,
                                  x->bound, x->dynamic);
    }
    return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "cast to dtype '%s' is not supported",
                        dtype);
}

static cml_status cast_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *x = cml_mil_in(ctx, node, "x");
    cml_mil_value *y = cml_mil_out(ctx, node, 0);
    CML_TRY(cml_mil_resize(ctx, y, x->rank, x->shape));
    size_t n = (size_t)cml_mil_numel(x);
    if (n == 0) return CML_OK;
    if (x->dtype == y->dtype) {
        memmove(y->data, x->data, n * cml_dtype_size(x->dtype));
        return CML_OK; /* fp16 rounding, when the output is fp16, follows in the executor */
    }
    if (!cml_k_convert(x->dtype, x->data, y->dtype, y->data, n))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "cannot convert %s to %s",
                            cml_dtype_name(x->dtype), cml_dtype_name(y->dtype));
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_cast = {"cast", cast_infer, cast_run, false};

/* --------------------------------------------------------------- identity */

static cml_status identity_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    return cml_mil_set_output(ctx, node, 0, x->dtype, x->fp16, x->rank, x->bound, x->dynamic);
}

static cml_status identity_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    return copy_value(ctx, node, cml_mil_out(ctx, node, 0), cml_mil_in(ctx, node, "x"));
}

const cml_mil_op_def cml_mil_op_identity = {"identity", identity_infer, identity_run, false};

/* ----------------------------------------------------------------- states */

static cml_status state_param(cml_mil_ctx *ctx, const cml_mil_node *node, cml_mil_value **out) {
    cml_mil_value *s = cml_mil_in(ctx, node, "input");
    if (!s) return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "missing required parameter 'input'");
    if (s->kind != CML_MIL_KIND_STATE)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "parameter 'input' must be a state (function input of StateType)");
    *out = s;
    return CML_OK;
}

static cml_status read_state_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *s = NULL;
    CML_TRY(state_param(ctx, node, &s));
    if (node->noutputs != 1)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "expected 1 output, got %u",
                            node->noutputs);
    return cml_mil_set_output(ctx, node, 0, s->dtype, s->fp16, s->rank, s->bound, false);
}

static cml_status read_state_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *s = cml_mil_in(ctx, node, "input");
    cml_mil_value *y = cml_mil_out(ctx, node, 0);
    CML_TRY(cml_mil_resize(ctx, y, s->rank, s->shape));
    size_t n = cml_mil_nbytes(s);
    if (n) memcpy(y->data, s->data, n);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_read_state = {"read_state", read_state_infer, read_state_run,
                                              true};

static cml_status write_state_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *s = NULL, *data = NULL;
    CML_TRY(state_param(ctx, node, &s));
    CML_TRY(cml_mil_require(ctx, node, "data", &data));
    if (data->dtype != s->dtype || data->rank != s->rank)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "'data' (%s, rank %d) does not match the state '%s' (%s, rank %d)",
                            cml_dtype_name(data->dtype), data->rank, s->name,
                            cml_dtype_name(s->dtype), s->rank);
    for (int32_t d = 0; d < s->rank; d++)
        if (data->bound[d] != s->shape[d] && !data->dynamic)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                                "'data' dimension %d is %lld, the state's is %lld", d,
                                (long long)data->bound[d], (long long)s->shape[d]);
    for (uint32_t i = 0; i < node->noutputs; i++)
        CML_TRY(cml_mil_set_output(ctx, node, i, s->dtype, s->fp16, s->rank, s->shape, false));
    return CML_OK;
}

static cml_status write_state_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *s = cml_mil_in(ctx, node, "input");
    cml_mil_value *data = cml_mil_in(ctx, node, "data");
    if (cml_mil_numel(data) != cml_mil_numel(s))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'data' has %lld elements, the state %lld",
                            (long long)cml_mil_numel(data), (long long)cml_mil_numel(s));
    size_t n = cml_mil_nbytes(s);
    if (n) memmove(s->data, data->data, n);
    for (uint32_t i = 0; i < node->noutputs; i++)
        CML_TRY(copy_value(ctx, node, cml_mil_out(ctx, node, i), s));
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_write_state = {"write_state", write_state_infer, write_state_run,
                                               true};

/* ------------------------------------------------------------------- cond */

/* Output i of a control-flow op takes the type of the blocks' output i,
 * bounded by the elementwise maximum over the blocks. */
static cml_status flow_outputs(cml_mil_ctx *ctx, cml_mil_node *node, uint32_t first_block) {
    for (uint32_t b = first_block; b < node->nblocks; b++)
        if (node->blocks[b].noutputs != node->noutputs)
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                                "block %u returns %u values; the op has %u outputs", b,
                                node->blocks[b].noutputs, node->noutputs);
    for (uint32_t i = 0; i < node->noutputs; i++) {
        const cml_mil_value *ref = cml_mil_value_at(ctx, node->blocks[first_block].outputs[i]);
        if (!ref || ref->kind != CML_MIL_KIND_TENSOR)
            return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                                "block output %u must be a tensor", i);
        int64_t bound[CML_MAX_DIMS];
        bool dynamic = ref->dynamic;
        memcpy(bound, ref->bound, sizeof bound);
        for (uint32_t b = first_block + 1; b < node->nblocks; b++) {
            const cml_mil_value *o = cml_mil_value_at(ctx, node->blocks[b].outputs[i]);
            if (!o || o->kind != CML_MIL_KIND_TENSOR || o->dtype != ref->dtype ||
                o->rank != ref->rank)
                return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                                    "output %u has different types in the two blocks", i);
            for (int32_t d = 0; d < ref->rank; d++) {
                if (o->bound[d] != bound[d]) dynamic = true;
                if (o->bound[d] > bound[d]) bound[d] = o->bound[d];
            }
            dynamic = dynamic || o->dynamic;
        }
        CML_TRY(cml_mil_set_output(ctx, node, i, ref->dtype, ref->fp16, ref->rank, bound,
                                   dynamic));
    }
    return CML_OK;
}

static cml_status cond_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *pred = NULL;
    CML_TRY(cml_mil_require(ctx, node, "pred", &pred));
    if (cml_mil_bound_numel(pred) != 1)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "'pred' must be a scalar");
    if (node->nblocks != 2)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "expected 2 blocks, got %u",
                            node->nblocks);
    return flow_outputs(ctx, node, 0);
}

static cml_status copy_outputs(cml_mil_ctx *ctx, const cml_mil_node *node,
                               const cml_mil_block *block) {
    for (uint32_t i = 0; i < node->noutputs; i++)
        CML_TRY(copy_value(ctx, node, cml_mil_out(ctx, node, i),
                           cml_mil_value_at(ctx, block->outputs[i])));
    return CML_OK;
}

static cml_status cond_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *pred = cml_mil_in(ctx, node, "pred");
    const cml_mil_block *block = &node->blocks[cml_mil_get_f64(pred, 0) != 0 ? 0 : 1];
    CML_TRY(cml_mil_run_block(ctx, block));
    return copy_outputs(ctx, node, block);
}

const cml_mil_op_def cml_mil_op_cond = {"cond", cond_infer, cond_run, true};

/* ------------------------------------------------------------- while_loop */

/* Block inputs are typed by the compiler from loop_vars (same bounds). */
static cml_status while_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    const cml_mil_param *vars = cml_mil_param_find(node, "loop_vars");
    if (!vars || vars->count == 0)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "missing required parameter 'loop_vars'");
    if (node->nblocks != 2)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "expected 2 blocks (condition, body), got %u", node->nblocks);
    const cml_mil_block *cnd = &node->blocks[0], *body = &node->blocks[1];
    if (cnd->ninputs != vars->count || body->ninputs != vars->count ||
        body->noutputs != vars->count || node->noutputs != vars->count)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "%u loop_vars, but the condition takes %u, the body takes %u and "
                            "returns %u, and the op has %u outputs",
                            vars->count, cnd->ninputs, body->ninputs, body->noutputs,
                            node->noutputs);
    if (cnd->noutputs != 1)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "the condition block must return 1 value");
    const cml_mil_value *p = cml_mil_value_at(ctx, cnd->outputs[0]);
    if (!p || p->kind != CML_MIL_KIND_TENSOR || cml_mil_bound_numel(p) != 1)
        return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                            "the condition block must return a scalar");
    for (uint32_t i = 0; i < vars->count; i++) {
        const cml_mil_value *v = cml_mil_value_at(ctx, vars->vids[i]);
        const cml_mil_value *o = cml_mil_value_at(ctx, body->outputs[i]);
        if (!v || !o || v->kind != CML_MIL_KIND_TENSOR || o->kind != CML_MIL_KIND_TENSOR ||
            v->dtype != o->dtype || v->rank != o->rank)
            return cml_mil_fail(ctx, node, CML_ERR_CORRUPT,
                                "loop variable %u changes type in the body", i);
        bool dynamic = v->dynamic || o->dynamic;
        for (int32_t d = 0; d < v->rank; d++) {
            if (o->bound[d] > v->bound[d])
                return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                                    "loop variable %u grows across iterations (dimension %d: "
                                    "%lld -> %lld); cml needs a static bound",
                                    i, d, (long long)v->bound[d], (long long)o->bound[d]);
            if (o->bound[d] != v->bound[d]) dynamic = true;
        }
        CML_TRY(cml_mil_set_output(ctx, node, i, v->dtype, v->fp16, v->rank, v->bound, dynamic));
    }
    return CML_OK;
}

static cml_status while_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const cml_mil_param *vars = cml_mil_param_find(node, "loop_vars");
    const cml_mil_block *cnd = &node->blocks[0], *body = &node->blocks[1];
    for (uint32_t i = 0; i < vars->count; i++)
        CML_TRY(copy_value(ctx, node, cml_mil_out(ctx, node, i),
                           cml_mil_value_at(ctx, vars->vids[i])));
    long long max = ctx->g->max_loop_iterations ? (long long)ctx->g->max_loop_iterations
                                                : CML_MIL_MAX_LOOP_ITERATIONS;
    for (long long iter = 0;; iter++) { /* iter: body runs so far */
        for (uint32_t i = 0; i < vars->count; i++)
            CML_TRY(copy_value(ctx, node, cml_mil_value_at(ctx, cnd->inputs[i]),
                               cml_mil_out(ctx, node, i)));
        CML_TRY(cml_mil_run_block(ctx, cnd));
        if (cml_mil_get_f64(cml_mil_value_at(ctx, cnd->outputs[0]), 0) == 0) break;
        if (iter >= max)
            return cml_mil_fail(ctx, node, CML_ERR_STATE,
                                "more than %lld iterations (cml_method_params.max_steps)", max);
        for (uint32_t i = 0; i < vars->count; i++)
            CML_TRY(copy_value(ctx, node, cml_mil_value_at(ctx, body->inputs[i]),
                               cml_mil_out(ctx, node, i)));
        CML_TRY(cml_mil_run_block(ctx, body));
        CML_TRY(copy_outputs(ctx, node, body));
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_while_loop = {"while_loop", while_infer, while_run, true};
