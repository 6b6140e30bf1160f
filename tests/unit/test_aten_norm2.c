/* _native_batch_norm_legit.out (eval with running stats; training with batch
 * stats and running-stat update) and .no_stats_out against a naive double
 * reference over the float dtypes, optional weight/bias, rank 2..4; glu.out
 * against a*sigmoid(b) over every dim and dtype pair; rejection.
 *
 * The training-form update rule (unbiased variance into running_var, biased
 * into save_invstd; save stats empty in eval) was checked against PyTorch
 * 2.13 eager torch.ops.aten._native_batch_norm_legit. */
#include "test_aten_num_util.h"

typedef struct bn_ref {
    double out[256], mean[8], invstd[8], rm[8], rv[8];
} bn_ref;

static void bn_reference(const double *x, int64_t N, int64_t C, int64_t inner, const double *w,
                         const double *b, bool training, double mom, double eps, bn_ref *r) {
    for (int64_t c = 0; c < C; c++) {
        double mean = r->rm[c], var = r->rv[c];
        if (training) {
            double s = 0, s2 = 0, n = (double)(N * inner);
            for (int64_t i = 0; i < N; i++)
                for (int64_t j = 0; j < inner; j++) s += x[(i * C + c) * inner + j];
            mean = s / n;
            for (int64_t i = 0; i < N; i++)
                for (int64_t j = 0; j < inner; j++) s2 += pow(x[(i * C + c) * inner + j] - mean, 2);
            var = s2 / n;
            r->rm[c] = (1 - mom) * r->rm[c] + mom * mean;
            r->rv[c] = (1 - mom) * r->rv[c] + mom * s2 / (n - 1);
        }
        r->mean[c] = mean;
        r->invstd[c] = 1 / sqrt(var + eps);
        for (int64_t i = 0; i < N; i++)
            for (int64_t j = 0; j < inner; j++) {
                int64_t k = (i * C + c) * inner + j;
                r->out[k] = (x[k] - mean) * r->invstd[c] * (w ? w[c] : 1) + (b ? b[c] : 0);
            }
    }
}

static void run_bn(int it) {
    static tenv e;
    tv_init(&e);
    cml_dtype dt = TN_FLOATS[it % 4];
    int form = it % 3; /* 0 legit eval, 1 legit training, 2 no_stats */
    bool has_w = it % 2, has_b = (it / 2) % 2;
    int32_t rank = (int32_t)tv_randint(2, 4);
    int64_t sz[4] = {tv_randint(1, 3), tv_randint(1, 4), 1, 1};
    for (int32_t d = 2; d < rank; d++) sz[d] = tv_randint(1, 4);
    int64_t N = sz[0], C = sz[1], inner = sz[2] * sz[3], n = N * C * inner;
    if (form != 0 && N * inner < 2) sz[0] = N = 2;
    n = N * C * inner;
    double x[256], w[8], b[8];
    bn_ref r;
    for (int64_t i = 0; i < n; i++) x[i] = tn_round(dt, tv_randf() * 2 + 0.5);
    for (int64_t c = 0; c < C; c++) {
        w[c] = tn_round(dt, tv_randf() + 1.5);
        b[c] = tn_round(dt, tv_randf());
        r.rm[c] = tn_round(dt, tv_randf() * 0.5);
        r.rv[c] = tn_round(dt, tv_randf() * 0.5 + 1);
    }
    cml_evalue *xv = tn_tensor(&e, dt, rank, sz, x);
    cml_evalue *wv = has_w ? tn_tensor(&e, dt, 1, &C, w) : tv_none_tensor(&e);
    cml_evalue *bv = has_b ? tn_tensor(&e, dt, 1, &C, b) : tv_null(&e);
    cml_evalue *rm = tn_tensor(&e, dt, 1, &C, r.rm), *rv = tn_tensor(&e, dt, 1, &C, r.rv);
    cml_evalue *o = tn_out(&e, dt, rank, 256), *sm = tn_out(&e, dt, 1, 8), *si = tn_out(&e, dt, 1, 8);
    cml_evalue *lst = tv_tensor_list(&e, 3, ARGS(o, sm, si));
    double mom = 0.1 + 0.2 * (it % 3), eps = 1e-5;
    bn_reference(x, N, C, inner, has_w ? w : NULL, has_b ? b : NULL, form != 0, mom, eps, &r);
    cml_status st;
    if (form < 2)
        st = CALL(&e, "aten::_native_batch_norm_legit.out", xv, wv, bv, rm, rv, tv_bool(&e, form == 1),
                  tv_double(&e, mom), tv_double(&e, eps), o, sm, si, lst);
    else
        st = CALL(&e, "aten::_native_batch_norm_legit.no_stats_out", xv, wv, bv, tv_bool(&e, it % 2),
                  tv_double(&e, mom), tv_double(&e, eps), o, sm, si, lst);
    CHECK_MSG(st == CML_OK, "%s", e.err.msg);
    double tol = tn_tol(dt) * 4;
    CHECK(tv_shape_is(T(o), rank, sz));
    CHECK_MSG(tn_check("bn out", T(o), r.out, n, tol), "it %d form %d", it, form);
    if (form == 0) {
        CHECK(tv_shape_is(T(sm), 1, S(0)) && tv_shape_is(T(si), 1, S(0)));
    } else {
        CHECK(tn_check("bn mean", T(sm), r.mean, C, tol) && tn_check("bn invstd", T(si), r.invstd, C, tol));
    }
    if (form == 1) CHECK(tn_check("bn rm", T(rm), r.rm, C, tol) && tn_check("bn rv", T(rv), r.rv, C, tol));
    tv_free(&e);
}

static void test_bn_reject(void) {
    static tenv e;
    tv_init(&e);
    const char *bl = "aten::_native_batch_norm_legit.out", *bs = "aten::_native_batch_norm_legit.no_stats_out";
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4), *c3 = TS(&e, CML_DTYPE_FLOAT32, 3), *c4 = TS(&e, CML_DTYPE_FLOAT32, 4);
    cml_evalue *o = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4), *sm = TS(&e, CML_DTYPE_FLOAT32, 3), *si = TS(&e, CML_DTYPE_FLOAT32, 3);
    cml_evalue *lst = tv_tensor_list(&e, 3, ARGS(o, sm, si));
    cml_evalue *m = tv_double(&e, 0.1), *eps = tv_double(&e, 1e-5);
    CHECK(PREP(&e, bl, x, c4, tv_null(&e), c3, c3, tv_bool(&e, false), m, eps, o, sm, si, lst) == CML_ERR_SHAPE);
    CHECK(tn_msg_names(&e, bl));
    CHECK(PREP(&e, bl, x, tv_null(&e), tv_null(&e), tv_none_tensor(&e), c3, tv_bool(&e, false), m, eps, o, sm, si, lst) ==
          CML_ERR_INVALID_ARG);
    cml_evalue *xi = TS(&e, CML_DTYPE_INT32, 2, 3, 4), *ci = TS(&e, CML_DTYPE_INT32, 3);
    CHECK(PREP(&e, bs, xi, tv_null(&e), tv_null(&e), tv_bool(&e, true), m, eps, xi, ci, ci, lst) == CML_ERR_UNSUPPORTED);
    CHECK(tn_msg_names(&e, bs));
    cml_evalue *ch = TS(&e, CML_DTYPE_FLOAT16, 3);
    CHECK(PREP(&e, bs, x, ch, tv_null(&e), tv_bool(&e, true), m, eps, o, sm, si, lst) == CML_ERR_UNSUPPORTED);
    cml_evalue *x1 = TS(&e, CML_DTYPE_FLOAT32, 3);
    CHECK(PREP(&e, bs, x1, tv_null(&e), tv_null(&e), tv_bool(&e, true), m, eps, o, sm, si, lst) == CML_ERR_INVALID_ARG);
    tv_free(&e);
}

static void test_glu(void) {
    for (int it = 0; it < 48; it++) {
        static tenv e;
        tv_init(&e);
        cml_dtype dt = TN_FLOATS[it % 4], od = TN_FLOATS[(it / 4) % 4];
        int32_t rank = (int32_t)tv_randint(1, 4);
        int64_t sz[4], osz[4], numel = 1;
        for (int32_t d = 0; d < rank; d++) sz[d] = tv_randint(1, 4);
        int32_t dim = (int32_t)tv_randint(0, rank - 1);
        sz[dim] = 2 * tv_randint(1, 3);
        for (int32_t d = 0; d < rank; d++) numel *= sz[d];
        memcpy(osz, sz, sizeof sz);
        osz[dim] /= 2;
        double x[512], ref[256];
        for (int64_t i = 0; i < numel; i++) x[i] = tn_round(dt, tv_randf() * 4);
        int64_t outer = 1, inner = 1;
        for (int32_t d = 0; d < dim; d++) outer *= sz[d];
        for (int32_t d = dim + 1; d < rank; d++) inner *= sz[d];
        int64_t h = osz[dim];
        for (int64_t o = 0; o < outer; o++)
            for (int64_t k = 0; k < h; k++)
                for (int64_t i = 0; i < inner; i++) {
                    double a = x[(o * 2 * h + k) * inner + i], b = x[(o * 2 * h + h + k) * inner + i];
                    ref[(o * h + k) * inner + i] = a / (1 + exp(-b));
                }
        cml_evalue *xv = tn_tensor(&e, dt, rank, sz, x), *ov = tn_out(&e, od, rank, 256);
        CHECK_MSG(CALL(&e, "aten::glu.out", xv, tv_int(&e, it % 2 ? dim : dim - rank), ov, ov) == CML_OK, "%s", e.err.msg);
        CHECK(tv_shape_is(T(ov), rank, osz));
        CHECK_MSG(tn_check("glu", T(ov), ref, numel / 2, tn_tol(od) * 2), "it %d", it);
        tv_free(&e);
    }
    static tenv e;
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 3, 4), *o = tn_out(&e, CML_DTYPE_FLOAT32, 2, 12);
    CHECK(PREP(&e, "aten::glu.out", x, tv_int(&e, 0), o, o) == CML_ERR_INVALID_ARG);
    CHECK(tn_msg_names(&e, "aten::glu.out"));
    CHECK(PREP(&e, "aten::glu.out", x, tv_int(&e, 2), o, o) == CML_ERR_INVALID_ARG);
    cml_evalue *xi = TS(&e, CML_DTYPE_INT32, 3, 4), *oi = tn_out(&e, CML_DTYPE_INT32, 2, 12);
    CHECK(PREP(&e, "aten::glu.out", xi, tv_int(&e, 1), o, o) == CML_ERR_UNSUPPORTED);
    CHECK(PREP(&e, "aten::glu.out", x, tv_int(&e, 1), oi, oi) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

int main(void) {
    for (int it = 0; it < 72; it++) run_bn(it);
    test_bn_reject();
    test_glu();
    TEST_MAIN_END();
}
