/*
 * random_bernoulli, random_uniform, random_normal (shape; prob / low, high /
 * mean, stddev; seed) and random_categorical (x logits or probs; size;
 * seed). Never constant-folded.
 *
 * Generator: splitmix64 per node. seed >= 0 reseeds on every run, so each
 * prediction draws the same values (reproducible across invocations);
 * seed = -1 (the default) continues one stream from a fixed start, so
 * consecutive predictions differ but a loaded model is deterministic.
 * Normal samples use Box-Muller. Outputs are fp32 (fp16 when the
 * distribution parameters or x are fp16); random_categorical returns the
 * sampled class indices in x's float type, as coremltools types it.
 */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "mil/ops.h"

#define RNG_DEFAULT_SEED 0x853c49e6748fea9bULL

typedef enum rnd_kind { R_BERNOULLI, R_UNIFORM, R_NORMAL, R_CATEGORICAL } rnd_kind;

typedef struct rnd_attr {
    rnd_kind kind;
    int64_t seed;      /* -1: one continuing stream */
    uint64_t state;    /* mutated by run() */
    double p0, p1;     /* prob | low, high | mean, stddev */
    int64_t size;      /* categorical samples */
    bool probs;        /* categorical: x holds probabilities */
} rnd_attr;

static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static double next_unit(uint64_t *s) { return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0); }

static cml_status rnd_shape(cml_mil_ctx *ctx, const cml_mil_node *node, bool runtime,
                            int64_t *shape, uint32_t *n) {
    cml_mil_value *s = cml_mil_in(ctx, node, "shape");
    if (!runtime) {
        if (!s) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "missing 'shape'");
        if (!cml_milop_known(s)) {
            if (!cml_milop_int_bounds(ctx, s, shape, CML_MAX_DIMS, n))
                return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                                    "'shape' is computed at run time and has no known bound");
            return CML_OK;
        }
    }
    CML_TRY(cml_milop_read_ints(ctx, node, "shape", s, shape, CML_MAX_DIMS, n));
    for (uint32_t i = 0; i < *n; i++)
        if (shape[i] < 0) return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "negative dimension");
    return CML_OK;
}

static bool param_fp16(cml_mil_ctx *ctx, const cml_mil_node *node, const char *a, const char *b) {
    cml_mil_value *va = a ? cml_mil_in(ctx, node, a) : NULL, *vb = b ? cml_mil_in(ctx, node, b) : NULL;
    return (va && va->fp16) || (vb && vb->fp16);
}

static cml_status rnd_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    const char *t = node->def->type;
    rnd_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    memset(a, 0, sizeof *a);
    CML_TRY(cml_mil_const_int(ctx, node, "seed", true, -1, &a->seed));
    a->state = a->seed >= 0 ? (uint64_t)a->seed : RNG_DEFAULT_SEED;
    node->attr = a;
    int64_t shape[CML_MAX_DIMS];
    uint32_t n = 0;
    bool fp16 = false;
    if (strcmp(t, "random_categorical") == 0) {
        cml_mil_value *x = NULL;
        const char *mode = NULL;
        CML_TRY(cml_milop_require_float(ctx, node, "x", &x));
        CML_TRY(cml_mil_const_string(ctx, node, "mode", "logits", &mode));
        CML_TRY(cml_mil_const_int(ctx, node, "size", true, 1, &a->size));
        if (x->rank < 1 || a->size < 0)
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "x must have rank >= 1, size >= 0");
        if (strcmp(mode, "probs") == 0) a->probs = true;
        else if (strcmp(mode, "logits") != 0)
            return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "mode '%s'", mode);
        a->kind = R_CATEGORICAL;
        memcpy(shape, x->bound, sizeof shape);
        shape[x->rank - 1] = a->size;
        node->scratch = (size_t)x->bound[x->rank - 1] * sizeof(double);
        return cml_milop_out_like(ctx, node, 0, x, x->rank, shape, false);
    }
    if (strcmp(t, "random_bernoulli") == 0) {
        a->kind = R_BERNOULLI;
        CML_TRY(cml_mil_const_float(ctx, node, "prob", true, 0.5, &a->p0));
        fp16 = param_fp16(ctx, node, "prob", NULL);
    } else if (strcmp(t, "random_uniform") == 0) {
        a->kind = R_UNIFORM;
        CML_TRY(cml_mil_const_float(ctx, node, "low", true, 0.0, &a->p0));
        CML_TRY(cml_mil_const_float(ctx, node, "high", true, 1.0, &a->p1));
        fp16 = param_fp16(ctx, node, "low", "high");
    } else {
        a->kind = R_NORMAL;
        CML_TRY(cml_mil_const_float(ctx, node, "mean", true, 0.0, &a->p0));
        CML_TRY(cml_mil_const_float(ctx, node, "stddev", true, 1.0, &a->p1));
        fp16 = param_fp16(ctx, node, "mean", "stddev");
    }
    CML_TRY(rnd_shape(ctx, node, false, shape, &n));
    bool dyn = !cml_milop_known(cml_mil_in(ctx, node, "shape"));
    return cml_mil_set_output(ctx, node, 0, CML_DTYPE_FLOAT32, fp16, (int32_t)n, shape, dyn);
}

static cml_status rnd_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    rnd_attr *a = node->attr;
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    if (a->seed >= 0) a->state = (uint64_t)a->seed;
    if (a->kind == R_CATEGORICAL) {
        cml_mil_value *x = cml_mil_in(ctx, node, "x");
        int64_t shape[CML_MAX_DIMS], K = x->shape[x->rank - 1];
        memcpy(shape, x->shape, sizeof shape);
        shape[x->rank - 1] = a->size;
        CML_TRY(cml_mil_resize(ctx, out, x->rank, shape));
        void *scr = NULL;
        CML_TRY(cml_milop_scratch(ctx, node, &scr));
        double *cdf = scr;
        int64_t rows = cml_milop_prod(x->shape, 0, x->rank - 1);
        const float *xd = x->data;
        float *od = out->data;
        for (int64_t r = 0; r < rows; r++) {
            const float *row = xd + r * K;
            double m = -INFINITY, acc = 0;
            if (!a->probs)
                for (int64_t k = 0; k < K; k++) m = row[k] > m ? row[k] : m;
            for (int64_t k = 0; k < K; k++) {
                double w = a->probs ? (row[k] > 0 ? row[k] : 0) : exp(row[k] - m);
                cdf[k] = (acc += w);
            }
            for (int64_t s = 0; s < a->size; s++) {
                double u = next_unit(&a->state) * acc;
                int64_t k = 0;
                while (k < K - 1 && cdf[k] <= u) k++;
                od[r * a->size + s] = (float)k;
            }
        }
        return CML_OK;
    }
    int64_t shape[CML_MAX_DIMS];
    uint32_t n = 0;
    CML_TRY(rnd_shape(ctx, node, true, shape, &n));
    CML_TRY(cml_mil_resize(ctx, out, (int32_t)n, shape));
    int64_t count = cml_mil_numel(out);
    float *od = out->data;
    for (int64_t i = 0; i < count; i++) {
        double u = next_unit(&a->state);
        switch (a->kind) {
        case R_BERNOULLI: od[i] = u < a->p0 ? 1.0f : 0.0f; break;
        case R_UNIFORM: od[i] = (float)(a->p0 + (a->p1 - a->p0) * u); break;
        default: {
            double u2 = next_unit(&a->state);
            double z = sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * u2);
            od[i] = (float)(a->p0 + a->p1 * z);
            break;
        }
        }
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_random_bernoulli = {"random_bernoulli", rnd_infer, rnd_run, true};
const cml_mil_op_def cml_mil_op_random_uniform = {"random_uniform", rnd_infer, rnd_run, true};
const cml_mil_op_def cml_mil_op_random_normal = {"random_normal", rnd_infer, rnd_run, true};
const cml_mil_op_def cml_mil_op_random_categorical = {"random_categorical", rnd_infer, rnd_run, true};
