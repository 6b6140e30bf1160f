/* layer_norm (any axes), batch_norm, instance_norm, l2_norm,
 * local_response_norm, and the reduce_* / reduce_arg* ops against naive
 * references. */
#include "test_mil_ops_util.h"

/* Reference normalization over the dims flagged in `red` (biased variance). */
static void ref_norm(const float *x, double *y, int32_t r, const int64_t *shape, const bool *red,
                     const float *g, const float *b, double eps) {
    int64_t n = 1;
    for (int32_t i = 0; i < r; i++) n *= shape[i];
    int64_t idx[8], idx2[8];
    for (int64_t i = 0; i < n; i++) {
        tg_unravel(i, r, shape, idx);
        double sum = 0, sq = 0;
        int64_t cnt = 0;
        for (int64_t j = 0; j < n; j++) {
            tg_unravel(j, r, shape, idx2);
            bool same = true;
            for (int32_t d = 0; d < r; d++)
                if (!red[d] && idx[d] != idx2[d]) same = false;
            if (!same) continue;
            sum += x[j], cnt++;
        }
        double mean = sum / (double)cnt;
        for (int64_t j = 0; j < n; j++) {
            tg_unravel(j, r, shape, idx2);
            bool same = true;
            for (int32_t d = 0; d < r; d++)
                if (!red[d] && idx[d] != idx2[d]) same = false;
            if (same) sq += (x[j] - mean) * (x[j] - mean);
        }
        /* gamma/beta index: the normalized dims in increasing order */
        int64_t gi = 0;
        for (int32_t d = 0; d < r; d++)
            if (red[d]) gi = gi * shape[d] + idx[d];
        double v = (x[i] - mean) / sqrt(sq / (double)cnt + eps);
        y[i] = v * (g ? g[gi] : 1) + (b ? b[gi] : 0);
    }
}

static void test_layer_norm(void) {
    for (int trial = 0; trial < 30; trial++) {
        int32_t r = tg_randi(1, 4);
        int64_t shape[4], n = 1;
        for (int32_t i = 0; i < r; i++) n *= (shape[i] = tg_randi(1, 5));
        bool red[4] = {false, false, false, false};
        int32_t axes[4], na = 0;
        bool all = trial % 7 == 0;
        for (int32_t i = 0; i < r; i++)
            if (all || tg_randi(0, 1) || (i == r - 1 && na == 0)) {
                red[i] = true;
                /* random sign and order */
                axes[na++] = tg_randi(0, 1) ? i : i - r;
            }
        for (int32_t i = na - 1; i > 0; i--) { /* shuffle */
            int32_t j = tg_randi(0, i), tmp = axes[i];
            axes[i] = axes[j], axes[j] = tmp;
        }
        int64_t inner = 1;
        for (int32_t i = 0; i < r; i++)
            if (red[i]) inner *= shape[i];
        float *x = tg_rand_buf(n), *g = tg_rand_buf(inner), *b = tg_rand_buf(inner);
        bool affine = trial % 2;
        tg t;
        tg_init(&t, "layer_norm", 17);
        tg_param(&t, "x", tg_f32(&t, "x", r, shape, x, false));
        if (!all) tg_param(&t, "axes", tg_i32s(&t, "axes", na, axes));
        if (affine) {
            tg_param(&t, "gamma", tg_f32(&t, "g", 1, &inner, g, true));
            tg_param(&t, "beta", tg_f32(&t, "b", 1, &inner, b, true));
        }
        tg_param(&t, "epsilon", tg_scalar_f(&t, "eps", 1e-3f));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "layer_norm: %s", t.err.msg);
        double *ref = malloc(sizeof(double) * (size_t)n);
        ref_norm(x, ref, r, shape, red, affine ? g : NULL, affine ? b : NULL, 1e-3);
        int bad = 0;
        for (int64_t i = 0; st == CML_OK && i < n; i++)
            if (fabs(tg_of(&t, 0)[i] - ref[i]) > 1e-4 * (1 + fabs(ref[i]))) bad++;
        CHECK_MSG(bad == 0, "layer_norm rank %d naxes %d: %d mismatches", r, na, bad);
        tg_free(&t);
        free(ref), free(x), free(g), free(b);
    }
}

static void test_batch_instance_norm(void) {
    for (int k = 0; k < 6; k++) {
        bool inst = k % 2;
        int32_t r = 3 + (k / 2) % 2;
        int64_t shape[4] = {2, 3, tg_randi(1, 4), tg_randi(1, 4)}, n = 1, C = 3;
        for (int32_t i = 0; i < r; i++) n *= shape[i];
        float *x = tg_rand_buf(n), mean[3], var[3], g[3], b[3];
        for (int i = 0; i < 3; i++)
            mean[i] = tg_randf(), var[i] = tg_randf() + 1.5f, g[i] = tg_randf(), b[i] = tg_randf();
        bool affine = k < 4;
        tg t;
        tg_init(&t, inst ? "instance_norm" : "batch_norm", 15);
        tg_param(&t, "x", tg_f32(&t, "x", r, shape, x, false));
        if (!inst) {
            tg_param(&t, "mean", tg_f32(&t, "m", 1, &C, mean, true));
            tg_param(&t, "variance", tg_f32(&t, "v", 1, &C, var, true));
        }
        if (affine) {
            tg_param(&t, "gamma", tg_f32(&t, "g", 1, &C, g, true));
            tg_param(&t, "beta", tg_f32(&t, "b", 1, &C, b, true));
        }
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "%s: %s", inst ? "instance_norm" : "batch_norm", t.err.msg);
        int64_t sp = n / (2 * C);
        double *ref = malloc(sizeof(double) * (size_t)n);
        if (inst) {
            bool red[4] = {false, false, true, true};
            /* per-channel affine on top of the (n, c) normalization */
            ref_norm(x, ref, r, shape, red, NULL, NULL, 1e-5);
            for (int64_t i = 0; i < n && affine; i++) {
                int64_t c = (i / sp) % C;
                ref[i] = ref[i] * g[c] + b[c];
            }
        } else {
            for (int64_t i = 0; i < n; i++) {
                int64_t c = (i / sp) % C;
                ref[i] = (x[i] - mean[c]) / sqrt(var[c] + 1e-5);
                if (affine) ref[i] = ref[i] * g[c] + b[c];
            }
        }
        int bad = 0;
        for (int64_t i = 0; st == CML_OK && i < n; i++)
            if (fabs(tg_of(&t, 0)[i] - ref[i]) > 1e-4 * (1 + fabs(ref[i]))) bad++;
        CHECK_MSG(bad == 0, "%s: %d mismatches", inst ? "instance_norm" : "batch_norm", bad);
        tg_free(&t);
        free(ref), free(x);
    }
}

static void test_l2_lrn(void) {
    for (int r = 3; r <= 4; r++) {
        int64_t shape[4] = {2, 3, 4, 5}, n = 1;
        for (int32_t i = 0; i < r; i++) n *= shape[i];
        float *x = tg_rand_buf(n);
        tg t;
        tg_init(&t, "l2_norm", 15);
        tg_param(&t, "x", tg_f32(&t, "x", r, shape, x, false));
        tg_param(&t, "epsilon", tg_scalar_f(&t, "e", 1e-2f));
        tg_out(&t, 1);
        CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
        int64_t inner = 1;
        for (int32_t i = r - 3; i < r; i++) inner *= shape[i];
        int bad = 0;
        for (int64_t o = 0; o < n / inner; o++) {
            double ss = 0;
            for (int64_t i = 0; i < inner; i++) ss += (double)x[o * inner + i] * x[o * inner + i];
            for (int64_t i = 0; i < inner; i++)
                if (fabs(tg_of(&t, 0)[o * inner + i] - x[o * inner + i] / sqrt(ss + 1e-2)) > 1e-5) bad++;
        }
        CHECK(bad == 0);
        tg_free(&t);
        free(x);
    }
    /* LRN, odd and even sizes */
    for (int size = 2; size <= 3; size++) {
        int64_t shape[4] = {1, 5, 2, 3}, n = 30;
        float *x = tg_rand_buf(n);
        tg t;
        tg_init(&t, "local_response_norm", 15);
        tg_param(&t, "x", tg_f32(&t, "x", 4, shape, x, false));
        tg_param(&t, "size", tg_scalar_i(&t, "s", size));
        tg_param(&t, "alpha", tg_scalar_f(&t, "a", 0.5f));
        tg_param(&t, "beta", tg_scalar_f(&t, "b", 0.75f));
        tg_param(&t, "k", tg_scalar_f(&t, "k", 2.0f));
        tg_out(&t, 1);
        CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
        int bad = 0;
        for (int64_t c = 0; c < 5; c++)
            for (int64_t s = 0; s < 6; s++) {
                double sum = 0;
                for (int64_t j = c - size / 2; j <= c + (size - 1) / 2; j++)
                    if (j >= 0 && j < 5) sum += (double)x[j * 6 + s] * x[j * 6 + s];
                double want = x[c * 6 + s] / pow(2.0 + 0.5 / size * sum, 0.75);
                if (fabs(tg_of(&t, 0)[c * 6 + s] - want) > 1e-5) bad++;
            }
        CHECK(bad == 0);
        tg_free(&t);
        free(x);
    }
}

/* ---- reductions ----------------------------------------------------------------- */

static double ref_reduce(const char *op, const double *v, int64_t n) {
    double acc = 0, m = -INFINITY;
    if (!strcmp(op, "reduce_prod")) acc = 1;
    if (!strcmp(op, "reduce_min")) m = INFINITY;
    for (int64_t i = 0; i < n; i++) {
        if (!strcmp(op, "reduce_sum") || !strcmp(op, "reduce_mean") || !strcmp(op, "reduce_log_sum")) acc += v[i];
        else if (!strcmp(op, "reduce_prod")) acc *= v[i];
        else if (!strcmp(op, "reduce_max")) m = fmax(m, v[i]);
        else if (!strcmp(op, "reduce_min")) m = fmin(m, v[i]);
        else if (!strcmp(op, "reduce_l1_norm")) acc += fabs(v[i]);
        else if (!strcmp(op, "reduce_l2_norm") || !strcmp(op, "reduce_sum_square")) acc += v[i] * v[i];
        else if (!strcmp(op, "reduce_log_sum_exp")) m = fmax(m, v[i]);
    }
    if (!strcmp(op, "reduce_log_sum_exp")) {
        for (int64_t i = 0; i < n; i++) acc += exp(v[i] - m);
        return m + log(acc);
    }
    if (!strcmp(op, "reduce_max") || !strcmp(op, "reduce_min")) return m;
    if (!strcmp(op, "reduce_mean")) return acc / (double)n;
    if (!strcmp(op, "reduce_l2_norm")) return sqrt(acc);
    if (!strcmp(op, "reduce_log_sum")) return log(acc);
    return acc;
}

static void test_reduce(void) {
    static const char *ops[] = {"reduce_sum", "reduce_mean", "reduce_prod", "reduce_max",
                                "reduce_min", "reduce_l1_norm", "reduce_l2_norm", "reduce_log_sum",
                                "reduce_log_sum_exp", "reduce_sum_square"};
    for (int trial = 0; trial < 60; trial++) {
        const char *op = ops[trial % 10];
        int32_t r = tg_randi(1, 4);
        int64_t shape[4], n = 1;
        for (int32_t i = 0; i < r; i++) n *= (shape[i] = tg_randi(1, 4));
        bool red[4] = {false, false, false, false}, keep = tg_randi(0, 1), none = trial % 9 == 0;
        int32_t axes[4], na = 0;
        for (int32_t i = 0; i < r; i++)
            if (none || tg_randi(0, 1)) red[i] = true, axes[na++] = tg_randi(0, 1) ? i : i - r;
        float *x = tg_rand_buf(n);
        if (!strcmp(op, "reduce_log_sum"))
            for (int64_t i = 0; i < n; i++) x[i] = fabsf(x[i]) + 0.1f;
        tg t;
        tg_init(&t, op, 15);
        tg_param(&t, "x", tg_f32(&t, "x", r, shape, x, false));
        if (!none) tg_param(&t, "axes", tg_i32s(&t, "axes", na, axes));
        tg_param(&t, "keep_dims", tg_scalar_b(&t, "k", keep));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "%s: %s", op, t.err.msg);
        if (st != CML_OK) goto next;
        int64_t os[4], on = 1;
        int32_t orank = 0;
        for (int32_t i = 0; i < r; i++) {
            if (!red[i]) os[orank++] = shape[i];
            else if (keep) os[orank++] = 1;
        }
        for (int32_t i = 0; i < orank; i++) on *= os[i];
        CHECK_MSG(tg_shape_is(tg_o(&t, 0), orank, os), "%s out shape", op);
        /* gather each output's group and reduce */
        double *vals = malloc(sizeof(double) * (size_t)n);
        int bad = 0;
        for (int64_t o = 0; o < on; o++) {
            int64_t cnt = 0;
            for (int64_t i = 0; i < n; i++) {
                int64_t idx[4], k = 0, flat = 0;
                tg_unravel(i, r, shape, idx);
                for (int32_t d = 0; d < r; d++)
                    if (!red[d]) flat = flat * shape[d] + idx[d], k++;
                if (flat == o) vals[cnt++] = x[i];
            }
            double want = ref_reduce(op, vals, cnt), got = tg_of(&t, 0)[o];
            if (fabs(got - want) > 2e-5 * (1 + fabs(want))) bad++;
        }
        CHECK_MSG(bad == 0, "%s rank %d: %d mismatches", op, r, bad);
        free(vals);
    next:
        tg_free(&t);
        free(x);
    }
    /* int32 reductions */
    int32_t xi[6] = {1, -2, 3, 4, 5, -6};
    int64_t s23[2] = {2, 3};
    struct {
        const char *op;
        int32_t want[2];
    } ic[] = {{"reduce_sum", {2, 3}}, {"reduce_prod", {-6, -120}}, {"reduce_max", {3, 5}},
              {"reduce_min", {-2, -6}}, {"reduce_mean", {0, 1}}};
    for (size_t k = 0; k < sizeof ic / sizeof ic[0]; k++) {
        tg t;
        tg_init(&t, ic[k].op, 15);
        tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_INT32, false, 2, s23, xi, false));
        tg_param(&t, "axes", tg_i32s(&t, "axes", 1, (int32_t[]){-1}));
        tg_out(&t, 1);
        CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
        CHECK(tg_o(&t, 0)->dtype == CML_DTYPE_INT32);
        for (int i = 0; i < 2; i++)
            CHECK_MSG(((int32_t *)tg_o(&t, 0)->data)[i] == ic[k].want[i], "%s[%d] = %d", ic[k].op, i,
                      ((int32_t *)tg_o(&t, 0)->data)[i]);
        tg_free(&t);
    }
    /* all dims without keep_dims -> rank-0 */
    tg t;
    tg_init(&t, "reduce_sum", 15);
    tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_INT32, false, 2, s23, xi, false));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
    CHECK(tg_o(&t, 0)->rank == 0 && ((int32_t *)tg_o(&t, 0)->data)[0] == 5);
    tg_free(&t);
}

static void test_argreduce(void) {
    for (int trial = 0; trial < 20; trial++) {
        bool is_max = trial % 2, keep = trial % 3 == 0;
        int32_t r = tg_randi(1, 3);
        int64_t shape[3], n = 1;
        for (int32_t i = 0; i < r; i++) n *= (shape[i] = tg_randi(1, 5));
        int32_t axis = tg_randi(-r, r - 1), ax = axis < 0 ? axis + r : axis;
        float *x = tg_rand_buf(n);
        for (int64_t i = 0; i < n; i++) x[i] = roundf(x[i] * 2); /* ties: first wins */
        tg t;
        tg_init(&t, is_max ? "reduce_argmax" : "reduce_argmin", 17);
        tg_param(&t, "x", tg_f32(&t, "x", r, shape, x, false));
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", axis));
        tg_param(&t, "keep_dims", tg_scalar_b(&t, "k", keep));
        if (trial % 4 == 1) tg_param(&t, "output_dtype", tg_str(&t, "odt", "uint16"));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "argreduce: %s", t.err.msg);
        cml_mil_value *o = tg_o(&t, 0);
        CHECK(o->dtype == (trial % 4 == 1 ? CML_DTYPE_UINT16 : CML_DTYPE_INT32));
        CHECK(o->rank == (keep ? r : r - 1));
        int64_t outer = 1, inner = 1, len = shape[ax];
        for (int32_t i = 0; i < ax; i++) outer *= shape[i];
        for (int32_t i = ax + 1; i < r; i++) inner *= shape[i];
        int bad = 0;
        for (int64_t a = 0; st == CML_OK && a < outer; a++)
            for (int64_t b = 0; b < inner; b++) {
                int64_t best = 0;
                for (int64_t k = 1; k < len; k++) {
                    float v = x[(a * len + k) * inner + b], bv = x[(a * len + best) * inner + b];
                    if (is_max ? v > bv : v < bv) best = k;
                }
                int64_t got = o->dtype == CML_DTYPE_UINT16 ? ((uint16_t *)o->data)[a * inner + b]
                                                           : ((int32_t *)o->data)[a * inner + b];
                if (got != best) bad++;
            }
        CHECK(bad == 0);
        tg_free(&t);
        free(x);
    }
}

int main(void) {
    test_layer_norm();
    test_batch_instance_norm();
    test_l2_lrn();
    test_reduce();
    test_argreduce();
    TEST_MAIN_END();
}
