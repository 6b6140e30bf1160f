/* rand.out / randn.out: shape, range and distribution moments (mean,
 * variance, normal tail fraction) per float dtype, distinct draws between
 * runs; native_dropout.out: eval copies with an all-true mask, training keeps
 * about 1 - p and scales kept values by 1 / (1 - p) (torch semantics), p = 0
 * and p = 1; rejection. Exact values are not checked (see random.c). */
#include "test_aten_num_util.h"

static void test_rand(void) {
    for (int k = 0; k < TN_COUNT(TN_FLOATS); k++)
        for (int normal = 0; normal < 2; normal++) {
            static tenv e;
            tv_init(&e);
            cml_dtype dt = TN_FLOATS[k];
            const char *name = normal ? "aten::randn.out" : "aten::rand.out";
            cml_evalue *o = tn_out(&e, dt, 3, 40000);
            CHECK_MSG(CALL(&e, name, IL(&e, 100, 20, 20), o, o) == CML_OK, "%s", e.err.msg);
            CHECK(tv_shape_is(T(o), 3, S(100, 20, 20)));
            double s = 0, s2 = 0, tail = 0, lo = 1e9, hi = -1e9;
            for (int64_t i = 0; i < 40000; i++) {
                double v = tn_get(T(o), i);
                s += v;
                s2 += v * v;
                tail += fabs(v) > 1.96;
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
            double mean = s / 40000, var = s2 / 40000 - mean * mean;
            if (normal) {
                CHECK_MSG(fabs(mean) < 0.03 && fabs(var - 1) < 0.04, "%s %s mean %g var %g", name, cml_dtype_name(dt), mean, var);
                CHECK_MSG(fabs(tail / 40000 - 0.05) < 0.01, "tail %g", tail / 40000);
            } else {
                CHECK_MSG(fabs(mean - 0.5) < 0.01 && fabs(var - 1.0 / 12) < 0.005, "%s mean %g var %g", cml_dtype_name(dt), mean, var);
                CHECK(lo >= 0 && hi < 1 && lo < 0.01 && hi > 0.99);
            }
            /* a second run draws different numbers */
            cml_evalue *o2 = tn_out(&e, dt, 1, 16);
            CHECK(CALL(&e, name, IL(&e, 16), o2, o2) == CML_OK);
            int same = 0;
            for (int64_t i = 0; i < 16; i++) same += tn_get(T(o2), i) == tn_get(T(o), i);
            CHECK(same < 8);
            tv_free(&e);
        }
    static tenv e;
    tv_init(&e);
    cml_evalue *oi = tn_out(&e, CML_DTYPE_INT32, 1, 4), *o = tn_out(&e, CML_DTYPE_FLOAT32, 1, 4);
    CHECK(PREP(&e, "aten::rand.out", IL(&e, 4), oi, oi) == CML_ERR_UNSUPPORTED);
    CHECK(tn_msg_names(&e, "aten::rand.out"));
    CHECK(CALL(&e, "aten::randn.out", IL(&e, 5), o, o) == CML_ERR_SHAPE);
    CHECK(CALL(&e, "aten::randn.out", IL(&e, 0), o, o) == CML_OK && cml_tensor_numel(T(o)) == 0);
    tv_free(&e);
}

static void test_dropout(void) {
    const double ps[] = {0.0, 0.3, 0.8, 1.0};
    for (int k = 0; k < TN_COUNT(TN_FLOATS); k++)
        for (int pi = 0; pi < 4; pi++)
            for (int train = 0; train < 3; train++) { /* false, true, None */
                static tenv e;
                tv_init(&e);
                cml_dtype dt = TN_FLOATS[k];
                double p = ps[pi];
                int64_t n = 4000;
                double *x = malloc(sizeof(double) * (size_t)n);
                for (int64_t i = 0; i < n; i++) x[i] = tn_round(dt, 1 + (double)(i % 7));
                cml_evalue *xv = tn_tensor(&e, dt, 2, S(40, 100), x), *o = tn_out(&e, dt, 2, n);
                cml_evalue *m = tn_out(&e, CML_DTYPE_BOOL, 2, n);
                cml_evalue *tr = train == 2 ? tv_null(&e) : tv_bool(&e, train);
                CHECK_MSG(CALL(&e, "aten::native_dropout.out", xv, tv_double(&e, p), tr, o, m,
                               tv_tensor_list(&e, 2, ARGS(o, m))) == CML_OK, "%s", e.err.msg);
                CHECK(tv_shape_is(T(o), 2, S(40, 100)) && tv_shape_is(T(m), 2, S(40, 100)));
                bool training = train != 0 && p != 0;
                int64_t kept = 0;
                bool ok = true;
                for (int64_t i = 0; i < n; i++) {
                    bool mk = ((uint8_t *)T(m)->data)[i] != 0;
                    kept += mk;
                    double want = !training ? x[i] : mk ? tn_round(dt, x[i] / (1 - p)) : 0.0;
                    ok = ok && tv_close(tn_get(T(o), i), want, tn_tol(dt) * 8, tn_tol(dt) * 2);
                }
                CHECK_MSG(ok, "dropout values %s p %g train %d", cml_dtype_name(dt), p, train);
                double frac = (double)kept / (double)n, want = training ? 1 - p : 1.0;
                CHECK_MSG(fabs(frac - want) < 0.03, "kept %g want %g", frac, want);
                free(x);
                tv_free(&e);
            }
    static tenv e;
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 4), *o = TS(&e, CML_DTYPE_FLOAT32, 4), *m = TS(&e, CML_DTYPE_BOOL, 4);
    cml_evalue *l = tv_tensor_list(&e, 2, ARGS(o, m));
    CHECK(PREP(&e, "aten::native_dropout.out", x, tv_double(&e, 1.5), tv_bool(&e, true), o, m, l) == CML_ERR_INVALID_ARG);
    CHECK(tn_msg_names(&e, "aten::native_dropout.out"));
    cml_evalue *mu = TS(&e, CML_DTYPE_UINT8, 4);
    CHECK(PREP(&e, "aten::native_dropout.out", x, tv_double(&e, 0.5), tv_bool(&e, true), o, mu, l) == CML_ERR_UNSUPPORTED);
    /* integer input: eval copies, training is rejected */
    cml_evalue *xi = TS(&e, CML_DTYPE_INT32, 4), *oi = TS(&e, CML_DTYPE_INT32, 4);
    CHECK(PREP(&e, "aten::native_dropout.out", xi, tv_double(&e, 0.5), tv_bool(&e, true), oi, m, l) == CML_ERR_UNSUPPORTED);
    for (int i = 0; i < 4; i++) ((int32_t *)T(xi)->data)[i] = 7 * i;
    CHECK(CALL(&e, "aten::native_dropout.out", xi, tv_double(&e, 0.5), tv_bool(&e, false), oi, m, l) == CML_OK);
    CHECK(((int32_t *)T(oi)->data)[3] == 21 && ((uint8_t *)T(m)->data)[2] == 1);
    tv_free(&e);
}

int main(void) {
    test_rand();
    test_dropout();
    TEST_MAIN_END();
}
