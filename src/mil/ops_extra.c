/*
 * classify (iOS15) and the list ops (make_list, list_length, list_read,
 * list_write, list_gather, list_scatter).
 *
 * classify(probabilities, classes): in Core ML its outputs are the top
 * class label (string or int64) and a {label: probability} dictionary. The
 * IR has no run-time strings or dictionaries, so this executor supports
 * integer class labels given as a const integer tensor with one entry per
 * probability (probabilities is [K] or [1, K]):
 *   output 0: int64 scalar, classes[argmax(probabilities)] (the first of
 *             equal maxima);
 *   output 1: the probabilities tensor itself (the dictionary's values,
 *             in `classes` order).
 * String labels (or any inline list value, which the compiler keeps
 * without data) are rejected at load with CML_ERR_UNSUPPORTED.
 *
 * Lists: the IR has no run-time list values (a while_loop's loop variables
 * must be tensors and an op output is a tensor), so every list op is
 * rejected at load with one message (CML_ERR_UNSUPPORTED). Supporting them
 * needs a list value kind in mil.h (a fixed-capacity element buffer plus a
 * length, sized from make_list's init_length / elem_shape and the loop
 * bound) and compile.c accepting list-typed loop variables.
 */
#include <string.h>

#include "mil/ops.h"

/* ---- classify ---------------------------------------------------------------- */

static cml_status classify_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *p = NULL, *c = NULL;
    CML_TRY(cml_milop_require_float(ctx, node, "probabilities", &p));
    c = cml_mil_in(ctx, node, "classes");
    if (!c) return cml_mil_fail(ctx, node, CML_ERR_CORRUPT, "missing required parameter 'classes'");
    if (c->kind != CML_MIL_KIND_TENSOR || !cml_milop_is_int(c->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                            "'classes' must be a const integer tensor: string class labels "
                            "and inline list values are not supported (no run-time strings or "
                            "dictionaries)");
    if (!cml_milop_known(c))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "'classes' must be a constant");
    if (p->rank > 2 || (p->rank == 2 && p->bound[0] != 1))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'probabilities' must be [K] or [1, K]");
    int64_t K = p->rank == 0 ? 1 : p->bound[p->rank - 1];
    if (c->rank > 1 || cml_mil_numel(c) != K)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                            "'classes' has %lld entries for %lld probabilities",
                            (long long)cml_mil_numel(c), (long long)K);
    if (K < 1) return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "no classes");
    if (node->noutputs < 1 || node->noutputs > 2)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "expects 1 or 2 outputs, has %u",
                            node->noutputs);
    CML_TRY(cml_mil_set_output(ctx, node, 0, CML_DTYPE_INT64, false, 0, NULL, false));
    if (node->noutputs == 2) CML_TRY(cml_milop_out_like(ctx, node, 1, p, p->rank, p->bound, false));
    return CML_OK;
}

static cml_status classify_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    cml_mil_value *p = cml_mil_in(ctx, node, "probabilities"), *c = cml_mil_in(ctx, node, "classes");
    cml_mil_value *label = cml_mil_out(ctx, node, 0);
    int64_t K = cml_mil_numel(p);
    if (K != cml_mil_numel(c) || K < 1)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'probabilities' does not match 'classes'");
    CML_TRY(cml_mil_resize(ctx, label, 0, NULL));
    const float *pd = p->data;
    int64_t best = 0;
    for (int64_t i = 1; i < K; i++)
        if (pd[i] > pd[best] || (pd[best] != pd[best] && pd[i] == pd[i])) best = i;
    ((int64_t *)label->data)[0] = cml_milop_get_int(c->data, c->dtype, best);
    if (node->noutputs == 2) {
        cml_mil_value *probs = cml_mil_out(ctx, node, 1);
        CML_TRY(cml_mil_resize(ctx, probs, p->rank, p->shape));
        if (probs->data != p->data) memmove(probs->data, p->data, sizeof(float) * (size_t)K);
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_classify = {"classify", classify_infer, classify_run, false};

/* ---- lists (rejected) ----------------------------------------------------------- */

static cml_status list_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                        "list ops (make_list, list_length/read/write/gather/scatter) are not "
                        "supported: this executor has no run-time list values");
}

static cml_status list_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "list ops are not supported");
}

const cml_mil_op_def cml_mil_op_make_list = {"make_list", list_infer, list_run, true};
const cml_mil_op_def cml_mil_op_list_length = {"list_length", list_infer, list_run, true};
const cml_mil_op_def cml_mil_op_list_read = {"list_read", list_infer, list_run, true};
const cml_mil_op_def cml_mil_op_list_write = {"list_write", list_infer, list_run, true};
const cml_mil_op_def cml_mil_op_list_gather = {"list_gather", list_infer, list_run, true};
const cml_mil_op_def cml_mil_op_list_scatter = {"list_scatter", list_infer, list_run, true};
