/* flip.out, roll.out, tril.out: every dtype against naive loops over a
 * [3, 4, 5] tensor (negative dims, repeated/negative/large shifts, the
 * flattened roll, diagonals of both signs), a channels-last input, 0-D and
 * empty inputs, and bad input (repeated flip dim, dim out of range, shift and
 * dim counts that differ, rank < 2 for tril). */
#include "test_aten_index_util.h"

static int64_t md(int64_t a, int64_t n) { return ((a % n) + n) % n; }

static void test_all_dtypes(void) {
    static tenv e;
    for (int di = 0; di < N_ALL_DTYPES; di++) {
        cml_dtype dt = k_all_dtypes[di];
        tv_init(&e);
        cml_evalue *x = TS(&e, dt, 3, 4, 5), *o = TS(&e, dt, 3, 4, 5);
        ti_fill(x);
        double ref[60];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 5; k++) ref[(i * 4 + j) * 5 + k] = ti_get(T(x), ((2 - i) * 4 + j) * 5 + 4 - k);
        CHECK(CALL(&e, "aten::flip.out", x, IL(&e, 0, -1), o, o) == CML_OK);
        CHECK(ti_equal("flip", T(o), ref, 60));
        /* roll shifts (-1, 7, 2) on dims (0, 2, 0): dim 0 by 1, dim 2 by 2 */
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 5; k++)
                    ref[(i * 4 + j) * 5 + k] = ti_get(T(x), (md(i - 1, 3) * 4 + j) * 5 + md(k - 2, 5));
        CHECK(CALL(&e, "aten::roll.out", x, IL(&e, -1, 7, 2), IL(&e, 0, 2, 0), o, o) == CML_OK);
        CHECK(ti_equal("roll", T(o), ref, 60));
        for (int f = 0; f < 60; f++) ref[f] = ti_get(T(x), md(f + 13, 60));
        CHECK(CALL(&e, "aten::roll.out", x, IL(&e, -13), tv_int_list(&e, 0, NULL), o, o) == CML_OK);
        CHECK(ti_equal("roll flat", T(o), ref, 60));
        for (int diag = -2; diag <= 2; diag += 2) {
            for (int f = 0; f < 60; f++) ref[f] = (f % 5) - ((f / 5) % 4) <= diag ? ti_get(T(x), f) : 0;
            CHECK(CALL(&e, "aten::tril.out", x, tv_int(&e, diag), o, o) == CML_OK);
            CHECK_MSG(ti_equal("tril", T(o), ref, 60), "diagonal %d", diag);
        }
        tv_free(&e);
    }
}

static void test_edges(void) {
    static tenv e;
    tv_init(&e);
    /* channels-last input [1, 2, 2, 2] (memory n, h, w, c): flip dim 1 (c) */
    cml_evalue *cl = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 2, 2), *o = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 2, 2);
    T(cl)->dim_order[1] = 2;
    T(cl)->dim_order[2] = 3;
    T(cl)->dim_order[3] = 1;
    for (int h = 0; h < 2; h++)
        for (int w = 0; w < 2; w++)
            for (int c = 0; c < 2; c++) F(cl)[(h * 2 + w) * 2 + c] = (float)(c * 100 + h * 10 + w);
    CHECK(CALL(&e, "aten::flip.out", cl, IL(&e, 1), o, o) == CML_OK);
    CHECK(ti_equal("flip cl", T(o), (double[]){100, 101, 110, 111, 0, 1, 10, 11}, 8));
    /* 0-D and empty */
    cml_evalue *s0 = tv_tensor(&e, CML_DTYPE_INT32, 0, S(0)), *o0 = tv_tensor(&e, CML_DTYPE_INT32, 0, S(0));
    ((int32_t *)T(s0)->data)[0] = 9;
    CHECK(CALL(&e, "aten::flip.out", s0, IL(&e, 0), o0, o0) == CML_OK && ((int32_t *)T(o0)->data)[0] == 9);
    CHECK(CALL(&e, "aten::roll.out", s0, IL(&e, 3), tv_int_list(&e, 0, NULL), o0, o0) == CML_OK && ((int32_t *)T(o0)->data)[0] == 9);
    cml_evalue *em = TS(&e, CML_DTYPE_FLOAT32, 0, 3), *oe = TS(&e, CML_DTYPE_FLOAT32, 0, 3);
    CHECK(CALL(&e, "aten::roll.out", em, IL(&e, 1), IL(&e, 0), oe, oe) == CML_OK);
    CHECK(CALL(&e, "aten::roll.out", em, IL(&e, 1), tv_int_list(&e, 0, NULL), oe, oe) == CML_OK);
    CHECK(CALL(&e, "aten::tril.out", em, tv_int(&e, 0), oe, oe) == CML_OK);
    /* bad input */
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *ox = TS(&e, CML_DTYPE_FLOAT32, 2, 3);
    CHECK(CALL(&e, "aten::flip.out", x, IL(&e, 0, -2), ox, ox) == CML_ERR_INVALID_ARG);
    CHECK(ti_msg_has(&e, "aten::flip.out", "appears twice"));
    CHECK(CALL(&e, "aten::flip.out", x, IL(&e, 2), ox, ox) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&e, "aten::roll.out", x, IL(&e, 1, 2), IL(&e, 0), ox, ox) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&e, "aten::roll.out", x, IL(&e, 1, 2), tv_int_list(&e, 0, NULL), ox, ox) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&e, "aten::roll.out", x, IL(&e, 1), IL(&e, -3), ox, ox) == CML_ERR_INVALID_ARG);
    cml_evalue *v = TS(&e, CML_DTYPE_FLOAT32, 3), *ov = TS(&e, CML_DTYPE_FLOAT32, 3);
    CHECK(CALL(&e, "aten::tril.out", v, tv_int(&e, 0), ov, ov) == CML_ERR_INVALID_ARG);
    cml_evalue *oi = TS(&e, CML_DTYPE_INT32, 2, 3);
    CHECK(CALL(&e, "aten::flip.out", x, IL(&e, 0), oi, oi) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

int main(void) {
    test_all_dtypes();
    test_edges();
    TEST_MAIN_END();
}
