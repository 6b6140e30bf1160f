/* Reductions over the middle axis of [outer, axis, inner]. Sums accumulate in
 * double; max/min propagate NaN like torch. */
#include <math.h>

#include "kernels/kinternal.h"

static double red_init(cml_reduce_op op) {
    switch (op) {
    case CML_RED_MAX: return -INFINITY;
    case CML_RED_MIN: return INFINITY;
    case CML_RED_PROD: return 1.0;
    default: return 0.0;
    }
}

static CML_ALWAYS_INLINE double red_step(cml_reduce_op op, double acc, float v) {
    switch (op) {
    case CML_RED_SUM:
    case CML_RED_MEAN:
    case CML_RED_LOG_SUM: return acc + v;
    case CML_RED_MAX: return (v > acc || isnan(v)) && !isnan(acc) ? v : acc;
    case CML_RED_MIN: return (v < acc || isnan(v)) && !isnan(acc) ? v : acc;
    case CML_RED_PROD: return acc * v;
    case CML_RED_SUM_SQUARE:
    case CML_RED_L2: return acc + (double)v * v;
    case CML_RED_L1: return acc + fabs((double)v);
    case CML_RED_LOG_SUM_EXP: return acc; /* handled separately */
    }
    return acc;
}

static float red_final(cml_reduce_op op, double acc, size_t axis) {
    switch (op) {
    case CML_RED_MEAN: return (float)(acc / (double)axis);
    case CML_RED_L2: return (float)sqrt(acc);
    case CML_RED_LOG_SUM: return logf((float)acc);
    default: return (float)acc;
    }
}

#define RED_CHUNK 256

void cml_k_reduce_f32(cml_reduce_op op, const float *x, float *y, size_t outer, size_t axis,
                      size_t inner) {
    if (inner == 0) return;
    if (op == CML_RED_LOG_SUM_EXP) {
        for (size_t o = 0; o < outer; o++) {
            const float *xs = x + o * axis * inner;
            for (size_t j = 0; j < inner; j++) {
                float m = -INFINITY;
                bool nan = false;
                for (size_t a = 0; a < axis; a++) {
                    float v = xs[a * inner + j];
                    if (isnan(v)) nan = true;
                    m = v > m ? v : m;
                }
                float r;
                if (nan) {
                    r = NAN;
                } else if (isinf(m)) {
                    r = m; /* all -inf, or +inf present */
                } else {
                    double s = 0.0;
                    for (size_t a = 0; a < axis; a++) s += (double)expf(xs[a * inner + j] - m);
                    r = m + logf((float)s);
                }
                y[o * inner + j] = r;
            }
        }
        return;
    }
    if (inner == 1) {
        for (size_t o = 0; o < outer; o++) {
            const float *xs = x + o * axis;
            double acc = red_init(op);
            for (size_t a = 0; a < axis; a++) acc = red_step(op, acc, xs[a]);
            y[o] = red_final(op, acc, axis);
        }
        return;
    }
    /* Walk the axis with contiguous inner runs, RED_CHUNK columns at a time. */
    double acc[RED_CHUNK];
    for (size_t o = 0; o < outer; o++) {
        const float *xs = x + o * axis * inner;
        for (size_t j0 = 0; j0 < inner; j0 += RED_CHUNK) {
            size_t w = cml_k_min(RED_CHUNK, inner - j0);
            double init = red_init(op);
            for (size_t j = 0; j < w; j++) acc[j] = init;
            for (size_t a = 0; a < axis; a++) {
                const float *row = xs + a * inner + j0;
                switch (op) {
                case CML_RED_SUM:
                case CML_RED_MEAN:
                case CML_RED_LOG_SUM:
                    for (size_t j = 0; j < w; j++) acc[j] += row[j];
                    break;
                default:
                    for (size_t j = 0; j < w; j++) acc[j] = red_step(op, acc[j], row[j]);
                    break;
                }
            }
            for (size_t j = 0; j < w; j++) y[o * inner + j0 + j] = red_final(op, acc[j], axis);
        }
    }
}

void cml_k_argreduce_f32(bool is_max, const float *x, int64_t *y, size_t outer, size_t axis,
                         size_t inner) {
    for (size_t o = 0; o < outer; o++) {
        const float *xs = x + o * axis * inner;
        for (size_t j = 0; j < inner; j++) {
            int64_t best_i = 0;
            float best = axis ? xs[j] : 0.0f;
            if (!isnan(best)) {
                for (size_t a = 1; a < axis; a++) {
                    float v = xs[a * inner + j];
                    if (isnan(v)) { /* NaN wins, first one */
                        best_i = (int64_t)a;
                        break;
                    }
                    if (is_max ? v > best : v < best) {
                        best = v;
                        best_i = (int64_t)a;
                    }
                }
            }
            y[o * inner + j] = best_i;
        }
    }
}
