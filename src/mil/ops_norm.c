/*
 * Normalization: layer_norm (any set of axes), batch_norm, instance_norm,
 * l2_norm, local_response_norm. Variances are biased (divide by N).
 *
 * layer_norm over axes that are not the trailing dims permutes x so that
 * the normalized dims come last (in increasing order, which is gamma's
 * layout), normalizes, and permutes back, through scratch.
 */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "mil/ops.h"

static cml_status get_eps(cml_mil_ctx *ctx, const cml_mil_node *node, double def, float *out) {
    double e;
    CML_TRY(cml_mil_const_float(ctx, node, "epsilon", true, def, &e));
    *out = (float)e;
    return CML_OK;
}

static const float *opt_data(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name) {
    cml_mil_value *v = cml_mil_in(ctx, node, name);
    return v ? v->data : NULL;
}

/* ---- layer_norm(x, axes, gamma, beta, epsilon) --------------------------------- */

typedef struct ln_attr {
    float eps;
    int32_t naxes;
    bool is_axis[CML_MAX_DIMS];
    bool trailing; /* axes == the last naxes dims */
} ln_attr;

static cml_status ln_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *g = NULL, *b = NULL;
    CML_TRY(cml_milop_require_float(ctx, node, "x", &x));
    ln_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    memset(a, 0, sizeof *a);
    int64_t axes[CML_MAX_DIMS];
    uint32_t count = 0;
    bool present = false;
    CML_TRY(cml_mil_const_ints(ctx, node, "axes", axes, CML_MAX_DIMS, &count, &present));
    if (!present) {
        count = (uint32_t)x->rank;
        for (int32_t i = 0; i < x->rank; i++) axes[i] = i;
    }
    for (uint32_t i = 0; i < count; i++) {
        int32_t ax;
        if (!cml_milop_axis(axes[i], x->rank, &ax))
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "axis %lld out of range",
                                (long long)axes[i]);
        a->is_axis[ax] = true;
    }
    int64_t inner = 1;
    for (int32_t i = 0; i < x->rank; i++)
        if (a->is_axis[i]) {
            a->naxes++;
            inner *= x->bound[i];
        }
    a->trailing = true;
    for (int32_t i = 0; i < x->rank; i++)
        if (a->is_axis[i] != (i >= x->rank - a->naxes)) a->trailing = false;
    CML_TRY(get_eps(ctx, node, 1e-5, &a->eps));
    CML_TRY(cml_milop_opt_vector(ctx, node, "gamma", inner, &g));
    CML_TRY(cml_milop_opt_vector(ctx, node, "beta", inner, &b));
    node->attr = a;
    if (!a->trailing) node->scratch = 2 * (size_t)cml_mil_bound_numel(x) * sizeof(float);
    return cml_milop_out_like(ctx, node, 0, x, x->rank, x->bound, false);
}

/* Layer norm over trailing rows, the rows split over the pool. */
typedef struct ln_job {
    const float *x, *g, *b;
    float *y;
    size_t inner;
    float eps;
} ln_job;

static void ln_task(void *ctx, size_t begin, size_t end) {
    const ln_job *j = ctx;
    cml_k_layer_norm_f32(j->x + begin * j->inner, j->y + begin * j->inner, end - begin, j->inner,
                         j->g, j->b, j->eps);
}

static void ln_pool(cml_threadpool *pool, const float *x, float *y, size_t outer, size_t inner,
                    const float *g, const float *b, float eps) {
    ln_job j = {x, g, b, y, inner, eps};
    cml_parallel_for(pool, outer, (16384 + inner - 1) / inner, ln_task, &j);
}

static cml_status ln_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const ln_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    const float *g = opt_data(ctx, node, "gamma"), *b = opt_data(ctx, node, "beta");
    CML_TRY(cml_mil_resize(ctx, out, x->rank, x->shape));
    int32_t r = x->rank;
    int64_t inner = 1;
    for (int32_t i = 0; i < r; i++)
        if (a->is_axis[i]) inner *= x->shape[i];
    int64_t n = cml_mil_numel(x);
    if (n == 0) return CML_OK;
    cml_mil_value *gv = cml_mil_in(ctx, node, "gamma"), *bv = cml_mil_in(ctx, node, "beta");
    if ((gv && cml_mil_numel(gv) != inner) || (bv && cml_mil_numel(bv) != inner))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "gamma/beta do not match the normalized size");
    size_t outer = (size_t)(n / inner);
    if (a->trailing) {
        ln_pool(ctx->pool, x->data, out->data, outer, (size_t)inner, g, b, a->eps);
        return CML_OK;
    }
    void *scr = NULL;
    CML_TRY(cml_milop_scratch(ctx, node, &scr));
    float *t1 = scr, *t2 = t1 + n;
    int64_t xs[CML_MAX_DIMS], ps[CML_MAX_DIMS], pst[CML_MAX_DIMS], src[CML_MAX_DIMS];
    int32_t perm[CML_MAX_DIMS], k = 0;
    cml_milop_strides(r, x->shape, xs);
    for (int32_t i = 0; i < r; i++)
        if (!a->is_axis[i]) perm[k++] = i;
    for (int32_t i = 0; i < r; i++)
        if (a->is_axis[i]) perm[k++] = i;
    for (int32_t i = 0; i < r; i++) {
        ps[i] = x->shape[perm[i]];
        src[i] = xs[perm[i]];
    }
    cml_milop_strides(r, ps, pst);
    /* gather into the permuted layout, normalize, scatter back */
    cml_k_copy_strided(sizeof(float), r, ps, x->data, src, t1, pst);
    cml_k_layer_norm_f32(t1, t2, outer, (size_t)inner, g, b, a->eps);
    cml_k_copy_strided(sizeof(float), r, ps, t2, pst, out->data, src);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_layer_norm = {"layer_norm", ln_infer, ln_run, false};

/* ---- batch_norm / instance_norm ---------------------------------------------- */

static cml_status bn_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *v = NULL;
    bool inst = node->def->type[0] == 'i';
    CML_TRY(cml_milop_require_float(ctx, node, "x", &x));
    if (x->rank < (inst ? 3 : 2))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must have rank >= %d, has %d",
                            inst ? 3 : 2, x->rank);
    int64_t c = x->bound[1];
    if (!inst) {
        CML_TRY(cml_milop_opt_vector(ctx, node, "mean", c, &v));
        if (!v) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "missing parameter 'mean'");
        CML_TRY(cml_milop_opt_vector(ctx, node, "variance", c, &v));
        if (!v) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "missing parameter 'variance'");
    }
    CML_TRY(cml_milop_opt_vector(ctx, node, "gamma", c, &v));
    CML_TRY(cml_milop_opt_vector(ctx, node, "beta", c, &v));
    float *eps = cml_mil_alloc(ctx, sizeof *eps);
    if (!eps) return CML_ERR_NOMEM;
    CML_TRY(get_eps(ctx, node, 1e-5, eps));
    node->attr = eps;
    return cml_milop_out_like(ctx, node, 0, x, x->rank, x->bound, false);
}

static cml_status bn_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    float eps = *(const float *)node->attr;
    bool inst = node->def->type[0] == 'i';
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    CML_TRY(cml_mil_resize(ctx, out, x->rank, x->shape));
    size_t n = (size_t)x->shape[0], c = (size_t)x->shape[1];
    size_t sp = (size_t)cml_milop_prod(x->shape, 2, x->rank);
    if (n * c * sp == 0) return CML_OK;
    static const char *const names[] = {"gamma", "beta", "mean", "variance"};
    for (int i = 0; i < 4; i++) {
        cml_mil_value *pv = cml_mil_in(ctx, node, names[i]);
        if (pv && cml_mil_numel(pv) != (int64_t)c)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'%s' does not match %zu channels",
                                names[i], c);
    }
    const float *g = opt_data(ctx, node, "gamma"), *b = opt_data(ctx, node, "beta");
    if (inst)
        cml_k_group_norm_f32(x->data, out->data, n, c, sp, c, g, b, eps);
    else
        cml_k_batch_norm_f32(x->data, out->data, n, c, sp, opt_data(ctx, node, "mean"),
                             opt_data(ctx, node, "variance"), g, b, eps);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_batch_norm = {"batch_norm", bn_infer, bn_run, false};
const cml_mil_op_def cml_mil_op_instance_norm = {"instance_norm", bn_infer, bn_run, false};

/* ---- l2_norm(x, epsilon): x / sqrt(sum(x^2) + eps) over the last 3 dims ---------- */

static cml_status l2_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_milop_require_float(ctx, node, "x", &x));
    float *eps = cml_mil_alloc(ctx, sizeof *eps);
    if (!eps) return CML_ERR_NOMEM;
    CML_TRY(get_eps(ctx, node, 1e-6, eps));
    node->attr = eps;
    int32_t bd = x->rank > 3 ? x->rank - 3 : 0;
    node->scratch = (size_t)cml_milop_prod(x->bound, 0, bd) * sizeof(float);
    return cml_milop_out_like(ctx, node, 0, x, x->rank, x->bound, false);
}

static cml_status l2_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    float eps = *(const float *)node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    CML_TRY(cml_mil_resize(ctx, out, x->rank, x->shape));
    int32_t bd = x->rank > 3 ? x->rank - 3 : 0;
    int64_t outer = cml_milop_prod(x->shape, 0, bd), inner = cml_milop_prod(x->shape, bd, x->rank);
    if (outer * inner == 0) return CML_OK;
    void *scr = NULL;
    CML_TRY(cml_milop_scratch(ctx, node, &scr));
    float *ss = scr;
    const float *xd = x->data;
    float *od = out->data;
    cml_k_reduce_f32(CML_RED_SUM_SQUARE, xd, ss, (size_t)outer, (size_t)inner, 1);
    for (int64_t o = 0; o < outer; o++) {
        float scale = 1.0f / sqrtf(ss[o] + eps);
        cml_k_unary_f32(CML_UN_LINEAR, xd + o * inner, od + o * inner, (size_t)inner, scale, 0);
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_l2_norm = {"l2_norm", l2_infer, l2_run, false};

/* ---- local_response_norm(x, size, alpha, beta, k) -----------------------------
 * y_c = x_c / (k + alpha / size * sum_{j in window(c)} x_j^2)^beta, window
 * [c - size/2, c + (size-1)/2] clipped to the channels (torch's
 * LocalResponseNorm; symmetric for odd sizes). */

typedef struct lrn_attr {
    int64_t size;
    float alpha, beta, k;
} lrn_attr;

static cml_status lrn_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_milop_require_float(ctx, node, "x", &x));
    if (x->rank < 2)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must have rank >= 2");
    lrn_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    double al, be, k;
    CML_TRY(cml_mil_const_int(ctx, node, "size", false, 0, &a->size));
    CML_TRY(cml_mil_const_float(ctx, node, "alpha", true, 1e-4, &al));
    CML_TRY(cml_mil_const_float(ctx, node, "beta", true, 0.75, &be));
    CML_TRY(cml_mil_const_float(ctx, node, "k", true, 1.0, &k));
    if (a->size < 1) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "size must be >= 1");
    a->alpha = (float)al, a->beta = (float)be, a->k = (float)k;
    node->attr = a;
    return cml_milop_out_like(ctx, node, 0, x, x->rank, x->bound, false);
}

static cml_status lrn_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const lrn_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    CML_TRY(cml_mil_resize(ctx, out, x->rank, x->shape));
    int64_t n = x->shape[0], c = x->shape[1], sp = cml_milop_prod(x->shape, 2, x->rank);
    const float *xd = x->data;
    float *od = out->data;
    float scale = a->alpha / (float)a->size;
    for (int64_t in = 0; in < n; in++)
        for (int64_t ic = 0; ic < c; ic++) {
            int64_t lo = ic - a->size / 2, hi = ic + (a->size - 1) / 2;
            if (lo < 0) lo = 0;
            if (hi > c - 1) hi = c - 1;
            const float *xc = xd + (in * c + ic) * sp;
            float *oc = od + (in * c + ic) * sp;
            for (int64_t s = 0; s < sp; s++) {
                float sum = 0;
                for (int64_t j = lo; j <= hi; j++) {
                    float v = xd[(in * c + j) * sp + s];
                    sum += v * v;
                }
                oc[s] = xc[s] / powf(a->k + scale * sum, a->beta);
            }
        }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_local_response_norm = {"local_response_norm", lrn_infer, lrn_run,
                                                       false};
