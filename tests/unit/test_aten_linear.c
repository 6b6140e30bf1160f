/* addmm, mm, bmm, linear against naive matrix products: random odd sizes,
 * bias shapes, beta/alpha, fp16, dynamic M, shape and dtype rejection. */
#include "test_aten_util.h"

static void ref_mm(const cml_tensor *a, const cml_tensor *b, int64_t B, int64_t M, int64_t K,
                   int64_t N, bool trans_b, double *out) {
    for (int64_t z = 0; z < B; z++)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0;
                for (int64_t k = 0; k < K; k++) {
                    double bv = trans_b ? tv_get(b, j * K + k) : tv_get(b, z * K * N + k * N + j);
                    s += tv_get(a, z * M * K + i * K + k) * bv;
                }
                out[z * M * N + i * N + j] = s;
            }
}

static void test_addmm(void) {
    for (int it = 0; it < 40; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int64_t M = tv_randint(1, 17), K = tv_randint(1, 40), N = tv_randint(1, 19);
        cml_dtype dt = it % 4 == 3 ? CML_DTYPE_FLOAT16 : CML_DTYPE_FLOAT32;
        int bias_kind = it % 4; /* 0: [N], 1: [1, N], 2: [M, N], 3: [M, 1] */
        cml_evalue *bias = bias_kind == 0 ? tv_tensor(&e, dt, 1, S(N))
                         : bias_kind == 1 ? tv_tensor(&e, dt, 2, S(1, N))
                         : bias_kind == 2 ? tv_tensor(&e, dt, 2, S(M, N))
                                          : tv_tensor(&e, dt, 2, S(M, 1));
        cml_evalue *a = tv_tensor(&e, dt, 2, S(M, K)), *b = tv_tensor(&e, dt, 2, S(K, N));
        cml_evalue *o = tv_tensor(&e, dt, 2, S(M, N));
        tv_fill_rand(bias);
        tv_fill_rand(a);
        tv_fill_rand(b);
        double beta = (it / 4) % 3 == 0 ? 1.0 : (it / 4) % 3 == 1 ? 0.5 : 0.0;
        double alpha = (it / 12) % 2 == 0 ? 1.0 : -2.0;
        CHECK_MSG(CALL(&e, "aten::addmm.out", bias, a, b, tv_double(&e, beta), tv_double(&e, alpha), o, o) ==
                      CML_OK, "%s", e.err.msg);
        double *ref = malloc(sizeof(double) * (size_t)(M * N));
        ref_mm(T(a), T(b), 1, M, K, N, false, ref);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                int64_t bi = bias_kind == 0 || bias_kind == 1 ? j : bias_kind == 2 ? i * N + j : i;
                double r = alpha * ref[i * N + j] + (beta != 0 ? beta * tv_get(T(bias), bi) : 0);
                ref[i * N + j] = dt == CML_DTYPE_FLOAT16 ? cml_round_fp16((float)r) : r;
            }
        double tol = dt == CML_DTYPE_FLOAT16 ? 1e-2 : 1e-4;
        CHECK(tv_check_all("addmm", T(o), ref, M * N, tol, tol));
        free(ref);
        tv_free(&e);
    }
    /* beta = 0 ignores NaN in self */
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *bias = TS(&e, CML_DTYPE_FLOAT32, 2), *a = TS(&e, CML_DTYPE_FLOAT32, 1, 3),
               *b = TS(&e, CML_DTYPE_FLOAT32, 3, 2), *o = TS(&e, CML_DTYPE_FLOAT32, 1, 2);
    F(bias)[0] = NAN;
    F(bias)[1] = NAN;
    for (int i = 0; i < 3; i++) F(a)[i] = 1.0f;
    for (int i = 0; i < 6; i++) F(b)[i] = (float)i;
    CHECK(CALL(&e, "aten::addmm.out", bias, a, b, tv_int(&e, 0), tv_int(&e, 1), o, o) == CML_OK);
    CHECK(F(o)[0] == 6.0f && F(o)[1] == 9.0f);
    /* shape mismatch */
    cml_evalue *b2 = TS(&e, CML_DTYPE_FLOAT32, 4, 2);
    CHECK(CALL(&e, "aten::addmm.out", bias, a, b2, tv_int(&e, 1), tv_int(&e, 1), o, o) == CML_ERR_SHAPE);
    /* ... already at load (prepare) for static operands */
    CHECK(PREP(&e, "aten::addmm.out", bias, a, b2, tv_int(&e, 1), tv_int(&e, 1), o, o) == CML_ERR_SHAPE);
    CHECK(strstr(e.err.msg, "cannot multiply [1, 3] by [4, 2]") != NULL);
    /* bias that does not broadcast */
    cml_evalue *bias3 = TS(&e, CML_DTYPE_FLOAT32, 3);
    CHECK(CALL(&e, "aten::addmm.out", bias3, a, b, tv_int(&e, 1), tv_int(&e, 1), o, o) == CML_ERR_SHAPE);
    /* rank and dtype rejection at prepare */
    cml_evalue *a3 = TS(&e, CML_DTYPE_FLOAT32, 1, 1, 3);
    CHECK(PREP(&e, "aten::addmm.out", bias, a3, b, tv_int(&e, 1), tv_int(&e, 1), o, o) == CML_ERR_INVALID_ARG);
    cml_evalue *ai = TS(&e, CML_DTYPE_INT64, 1, 3);
    CHECK(PREP(&e, "aten::addmm.out", bias, ai, b, tv_int(&e, 1), tv_int(&e, 1), o, o) == CML_ERR_UNSUPPORTED);
    CHECK(strstr(e.err.msg, "aten::addmm.out: int64") != NULL);
    tv_free(&e);
}

static void test_mm_bmm(void) {
    for (int it = 0; it < 30; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        bool batched = it % 2;
        int64_t B = batched ? tv_randint(1, 4) : 1;
        int64_t M = tv_randint(1, 13), K = tv_randint(1, 35), N = tv_randint(1, 21);
        cml_dtype dt = it % 5 == 4 ? CML_DTYPE_FLOAT16 : CML_DTYPE_FLOAT32;
        cml_evalue *a, *b, *o;
        if (batched) {
            a = tv_tensor(&e, dt, 3, S(B, M, K));
            b = tv_tensor(&e, dt, 3, S(B, K, N));
            o = tv_dyn_out(&e, dt, 3, B * M * N);
        } else {
            a = tv_tensor(&e, dt, 2, S(M, K));
            b = tv_tensor(&e, dt, 2, S(K, N));
            o = tv_dyn_out(&e, dt, 2, M * N);
        }
        tv_fill_rand(a);
        tv_fill_rand(b);
        CHECK_MSG(CALL(&e, batched ? "aten::bmm.out" : "aten::mm.out", a, b, o, o) == CML_OK, "%s", e.err.msg);
        double *ref = malloc(sizeof(double) * (size_t)(B * M * N));
        ref_mm(T(a), T(b), B, M, K, N, false, ref);
        if (dt == CML_DTYPE_FLOAT16)
            for (int64_t i = 0; i < B * M * N; i++) ref[i] = cml_round_fp16((float)ref[i]);
        double tol = dt == CML_DTYPE_FLOAT16 ? 1e-2 : 1e-4;
        CHECK(tv_check_all(batched ? "bmm" : "mm", T(o), ref, B * M * N, tol, tol));
        if (batched) CHECK(tv_shape_is(T(o), 3, S(B, M, N)));
        else CHECK(tv_shape_is(T(o), 2, S(M, N)));
        free(ref);
        tv_free(&e);
    }
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *a = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4), *b = TS(&e, CML_DTYPE_FLOAT32, 3, 4, 5),
               *o = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 5);
    CHECK(CALL(&e, "aten::bmm.out", a, b, o, o) == CML_ERR_SHAPE);
    CHECK(PREP(&e, "aten::bmm.out", a, b, o, o) == CML_ERR_SHAPE); /* at load */
    CHECK(PREP(&e, "aten::mm.out", a, b, o, o) == CML_ERR_INVALID_ARG);
    cml_evalue *m1 = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *m2 = TS(&e, CML_DTYPE_FLOAT32, 4, 5),
               *mo = TS(&e, CML_DTYPE_FLOAT32, 2, 5);
    CHECK(PREP(&e, "aten::mm.out", m1, m2, mo, mo) == CML_ERR_SHAPE);
    CHECK(PREP(&e, "aten::linear.out", m1, m2, tv_none_tensor(&e), mo, mo) == CML_ERR_SHAPE);
    tv_free(&e);
}

static void test_linear(void) {
    for (int it = 0; it < 30; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int32_t rank = (int32_t)tv_randint(1, 4);
        int64_t xs[4];
        for (int32_t d = 0; d < rank; d++) xs[d] = tv_randint(1, 5);
        int64_t K = tv_randint(1, 40), N = tv_randint(1, 17);
        xs[rank - 1] = K;
        cml_dtype dt = it % 5 == 4 ? CML_DTYPE_FLOAT16 : CML_DTYPE_FLOAT32;
        cml_evalue *x = tv_tensor(&e, dt, rank, xs), *w = tv_tensor(&e, dt, 2, S(N, K));
        int bk = it % 3; /* bias: tensor, Null, empty BYTE tensor */
        cml_evalue *bias = bk == 0 ? tv_tensor(&e, dt, 1, S(N)) : bk == 1 ? tv_null(&e) : tv_none_tensor(&e);
        int64_t M = 1;
        for (int32_t d = 0; d < rank - 1; d++) M *= xs[d];
        cml_evalue *o = tv_dyn_out(&e, dt, rank, M * N);
        tv_fill_rand(x);
        tv_fill_rand(w);
        if (bk == 0) tv_fill_rand(bias);
        CHECK_MSG(CALL(&e, "aten::linear.out", x, w, bias, o, o) == CML_OK, "%s", e.err.msg);
        int64_t os[4];
        memcpy(os, xs, sizeof os);
        os[rank - 1] = N;
        CHECK(tv_shape_is(T(o), rank, os));
        double *ref = malloc(sizeof(double) * (size_t)(M * N));
        ref_mm(T(x), T(w), 1, M, K, N, true, ref);
        for (int64_t i = 0; i < M * N; i++) {
            double r = ref[i] + (bk == 0 ? tv_get(T(bias), i % N) : 0);
            ref[i] = dt == CML_DTYPE_FLOAT16 ? cml_round_fp16((float)r) : r;
        }
        double tol = dt == CML_DTYPE_FLOAT16 ? 1e-2 : 1e-4;
        CHECK(tv_check_all("linear", T(o), ref, M * N, tol, tol));
        free(ref);
        tv_free(&e);
    }
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *w = TS(&e, CML_DTYPE_FLOAT32, 4, 5),
               *o = TS(&e, CML_DTYPE_FLOAT32, 2, 4);
    CHECK(CALL(&e, "aten::linear.out", x, w, tv_null(&e), o, o) == CML_ERR_SHAPE);
    tv_free(&e);
}

int main(void) {
    test_addmm();
    /* again on a thread pool */
    CHECK(cml_threadpool_create(4, NULL, &tv_pool) == CML_OK);
    test_addmm();
    test_mm_bmm();
    test_linear();
    cml_threadpool_destroy(tv_pool);
    tv_pool = NULL;
    TEST_MAIN_END();
}
