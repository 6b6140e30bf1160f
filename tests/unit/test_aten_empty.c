/* empty.out, _empty_dim_order.out (resize only; dim-order checks) and the
 * et_copy host/device copies (byte copies on cml's host-only runtime): every
 * dtype, dynamic resize within capacity, and bad input. */
#include "test_aten_index_util.h"

static void test_empty(void) {
    static tenv e;
    tv_init(&e);
    cml_evalue *o = tv_tensor_cap(&e, CML_DTYPE_FLOAT32, 2, S(4, 4), 16, CML_SHAPE_DYNAMIC_BOUND);
    CHECK(CALL(&e, "aten::empty.out", IL(&e, 2, 3), tv_null(&e), o, o) == CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(2, 3)));
    CHECK(CALL(&e, "aten::empty.out", IL(&e, 5, 4), tv_null(&e), o, o) == CML_ERR_SHAPE);
    CHECK(ti_msg_has(&e, "aten::empty.out", NULL));
    CHECK(CALL(&e, "aten::empty.out", IL(&e, 5), tv_null(&e), o, o) == CML_ERR_SHAPE);
    CHECK(CALL(&e, "aten::empty.out", IL(&e, 0, 7), tv_null(&e), o, o) == CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(0, 7)));
    static const char DO[] = "dim_order_ops::_empty_dim_order.out";
    cml_evalue *c = tv_tensor_cap(&e, CML_DTYPE_FLOAT16, 4, S(1, 2, 3, 4), 24, CML_SHAPE_DYNAMIC_BOUND);
    CHECK(CALL(&e, DO, IL(&e, 1, 2, 2, 2), tv_null(&e), c, c) == CML_OK);
    CHECK(tv_shape_is(T(c), 4, S(1, 2, 2, 2)));
    CHECK(CALL(&e, DO, IL(&e, 1, 2, 2, 2), IL(&e, 0, 1, 2, 3), c, c) == CML_OK);
    /* channels last: out must carry that dim order */
    CHECK(CALL(&e, DO, IL(&e, 1, 2, 2, 2), IL(&e, 0, 2, 3, 1), c, c) == CML_ERR_INVALID_ARG);
    T(c)->dim_order[1] = 2;
    T(c)->dim_order[2] = 3;
    T(c)->dim_order[3] = 1;
    CHECK(CALL(&e, DO, IL(&e, 1, 3, 2, 2), IL(&e, 0, 2, 3, 1), c, c) == CML_OK);
    CHECK(tv_shape_is(T(c), 4, S(1, 3, 2, 2)));
    CHECK(CALL(&e, DO, IL(&e, 1, 3, 2, 2), tv_null(&e), c, c) == CML_ERR_UNSUPPORTED);
    CHECK(CALL(&e, DO, IL(&e, 1, 3, 2, 2), IL(&e, 0, 2, 3), c, c) == CML_ERR_INVALID_ARG);
    tv_free(&e);
}

static void test_device_copies(void) {
    static tenv e;
    static const char *ops[] = {"et_copy::_h2d_copy.out", "et_copy::_d2h_copy.out"};
    for (int di = 0; di < N_ALL_DTYPES; di++)
        for (int k = 0; k < 2; k++) {
            cml_dtype dt = k_all_dtypes[di];
            tv_init(&e);
            cml_evalue *x = TS(&e, dt, 2, 3), *o = tv_dyn_out(&e, dt, 2, 6);
            ti_fill(x);
            double ref[6];
            for (int i = 0; i < 6; i++) ref[i] = ti_get(T(x), i);
            CHECK(CALL(&e, ops[k], x, o, o) == CML_OK);
            CHECK(tv_shape_is(T(o), 2, S(2, 3)) && ti_equal(ops[k], T(o), ref, 6));
            tv_free(&e);
        }
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *oi = TS(&e, CML_DTYPE_INT32, 2, 3);
    CHECK(CALL(&e, ops[0], x, oi, oi) == CML_ERR_UNSUPPORTED);
    cml_evalue *small = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 2, 4);
    CHECK(CALL(&e, ops[1], x, small, small) == CML_ERR_SHAPE);
    cml_evalue *r1 = TS(&e, CML_DTYPE_FLOAT32, 6);
    CHECK(CALL(&e, ops[1], x, r1, r1) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

int main(void) {
    test_empty();
    test_device_copies();
    TEST_MAIN_END();
}
