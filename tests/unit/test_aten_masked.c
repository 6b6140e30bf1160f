/* masked_select.out, masked_scatter.out, nonzero.out,
 * repeat_interleave.Tensor_out: every dtype against naive loops, broadcasting
 * self/mask (constants from torch 2.13 eager), NaN counted as non-zero, 0-D
 * and empty inputs, dynamic outputs resized within capacity, and clean
 * failures when a result does not fit or input is bad. */
#include "test_aten_index_util.h"

static void test_masked_all_dtypes(void) {
    static tenv e;
    for (int di = 0; di < N_ALL_DTYPES; di++) {
        cml_dtype dt = k_all_dtypes[di];
        tv_init(&e);
        cml_evalue *x = TS(&e, dt, 3, 5), *m = TS(&e, CML_DTYPE_BOOL, 3, 5), *src = TS(&e, dt, 15);
        ti_fill(x);
        ti_fill(src);
        for (int i = 0; i < 15; i++) ti_set(T(m), i, (tv_rand() % 3) == 0);
        double sel[15], sc[15];
        int n = 0;
        for (int i = 0; i < 15; i++) {
            sc[i] = ti_get(T(x), i);
            if (ti_get(T(m), i)) {
                sel[n] = ti_get(T(x), i);
                sc[i] = ti_get(T(src), n++);
            }
        }
        cml_evalue *os = tv_dyn_out(&e, dt, 1, 15), *oc = TS(&e, dt, 3, 5);
        CHECK(CALL(&e, "aten::masked_select.out", x, m, os, os) == CML_OK);
        CHECK(ti_equal("masked_select", T(os), sel, n));
        CHECK(CALL(&e, "aten::masked_scatter.out", x, m, src, oc, oc) == CML_OK);
        CHECK(ti_equal("masked_scatter", T(oc), sc, 15));
        /* nonzero of x [3, 5]: row-major coordinates */
        double nz[30];
        int k = 0;
        for (int i = 0; i < 15; i++)
            if (ti_get(T(x), i) != 0) {
                nz[2 * k] = i / 5;
                nz[2 * k + 1] = i % 5;
                k++;
            }
        cml_evalue *on = tv_tensor_cap(&e, CML_DTYPE_INT64, 2, S(15, 2), 30, CML_SHAPE_DYNAMIC_BOUND);
        CHECK(CALL(&e, "aten::nonzero.out", x, on, on) == CML_OK);
        CHECK(tv_shape_is(T(on), 2, S(k, 2)));
        CHECK(ti_equal("nonzero", T(on), nz, 2 * k));
        tv_free(&e);
    }
}

static void test_masked_edges(void) {
    static tenv e;
    tv_init(&e);
    /* torch: masked_select(arange(6).reshape(2,3), [T,F,T]) = [0, 2, 3, 5] */
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *m = TS(&e, CML_DTYPE_BOOL, 3);
    ti_iota(x);
    ti_set_all(m, (double[]){1, 0, 1});
    cml_evalue *os = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 1, 6);
    CHECK(CALL(&e, "aten::masked_select.out", x, m, os, os) == CML_OK);
    CHECK(ti_equal("bcast select", T(os), (double[]){0, 2, 3, 5}, 4));
    /* torch: ones(2,1).masked_scatter(mask[2,3], [10,20,30,40]) */
    cml_evalue *one = TS(&e, CML_DTYPE_FLOAT32, 2, 1), *m2 = TS(&e, CML_DTYPE_BOOL, 2, 3);
    ti_set_all(one, (double[]){1, 1});
    ti_set_all(m2, (double[]){1, 0, 1, 0, 1, 0});
    cml_evalue *src = TS(&e, CML_DTYPE_FLOAT32, 4), *oc = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 2, 6);
    ti_set_all(src, (double[]){10, 20, 30, 40});
    CHECK(CALL(&e, "aten::masked_scatter.out", one, m2, src, oc, oc) == CML_OK);
    CHECK(tv_shape_is(T(oc), 2, S(2, 3)));
    CHECK(ti_equal("bcast scatter", T(oc), (double[]){10, 1, 20, 1, 30, 1}, 6));
    /* source too short: error before writing */
    cml_evalue *src2 = TS(&e, CML_DTYPE_FLOAT32, 2);
    CHECK(CALL(&e, "aten::masked_scatter.out", one, m2, src2, oc, oc) == CML_ERR_INVALID_ARG);
    CHECK(ti_msg_has(&e, "aten::masked_scatter.out", "selects 3 elements, source has only 2"));
    /* result larger than the output's capacity */
    cml_evalue *small = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 1, 3);
    CHECK(CALL(&e, "aten::masked_select.out", x, m, small, small) == CML_ERR_SHAPE);
    CHECK(ti_msg_has(&e, "aten::masked_select.out", NULL));
    /* non-bool mask, shapes that do not broadcast */
    cml_evalue *mu = TS(&e, CML_DTYPE_UINT8, 3), *m4 = TS(&e, CML_DTYPE_BOOL, 4);
    CHECK(CALL(&e, "aten::masked_select.out", x, mu, os, os) == CML_ERR_UNSUPPORTED);
    CHECK(CALL(&e, "aten::masked_select.out", x, m4, os, os) == CML_ERR_SHAPE);
    /* nonzero: NaN counts; a 0-D input gives [n, 0]; too small a capacity fails */
    cml_evalue *f = TS(&e, CML_DTYPE_FLOAT32, 2, 2);
    ti_set_all(f, (double[]){0, 1, NAN, 0});
    cml_evalue *on = tv_tensor_cap(&e, CML_DTYPE_INT64, 2, S(4, 2), 8, CML_SHAPE_DYNAMIC_BOUND);
    CHECK(CALL(&e, "aten::nonzero.out", f, on, on) == CML_OK);
    CHECK(ti_equal("nonzero nan", T(on), (double[]){0, 1, 1, 0}, 4)); /* torch */
    cml_evalue *s0 = tv_tensor(&e, CML_DTYPE_INT32, 0, S(0));
    ((int32_t *)T(s0)->data)[0] = 7;
    CHECK(CALL(&e, "aten::nonzero.out", s0, on, on) == CML_OK);
    CHECK(tv_shape_is(T(on), 2, S(1, 0)));
    cml_evalue *on1 = tv_tensor_cap(&e, CML_DTYPE_INT64, 2, S(1, 2), 2, CML_SHAPE_DYNAMIC_BOUND);
    CHECK(CALL(&e, "aten::nonzero.out", f, on1, on1) == CML_ERR_SHAPE);
    cml_evalue *onf = TS(&e, CML_DTYPE_INT32, 4, 2);
    CHECK(CALL(&e, "aten::nonzero.out", f, onf, onf) == CML_ERR_UNSUPPORTED);
    /* empty input */
    cml_evalue *fe = TS(&e, CML_DTYPE_FLOAT32, 0, 3);
    CHECK(CALL(&e, "aten::nonzero.out", fe, on, on) == CML_OK);
    CHECK(tv_shape_is(T(on), 2, S(0, 2)));
    tv_free(&e);
}

static void test_repeat_interleave(void) {
    static tenv e;
    tv_init(&e);
    for (int t = 0; t < 2; t++) {
        cml_dtype dt = t ? CML_DTYPE_INT32 : CML_DTYPE_INT64;
        cml_evalue *r = ti_idx(&e, dt, 4, S(2, 0, 1, 3));
        cml_evalue *o = tv_dyn_out(&e, dt, 1, 10);
        CHECK(CALL(&e, "aten::repeat_interleave.Tensor_out", r, tv_null(&e), o, o) == CML_OK);
        CHECK(ti_equal("repeat_interleave", T(o), (double[]){0, 0, 2, 3, 3, 3}, 6));
        CHECK(CALL(&e, "aten::repeat_interleave.Tensor_out", r, tv_int(&e, 6), o, o) == CML_OK);
        CHECK(CALL(&e, "aten::repeat_interleave.Tensor_out", r, tv_int(&e, 5), o, o) == CML_ERR_INVALID_ARG);
        cml_evalue *small = tv_dyn_out(&e, dt, 1, 5);
        CHECK(CALL(&e, "aten::repeat_interleave.Tensor_out", r, tv_null(&e), small, small) == CML_ERR_SHAPE);
        cml_evalue *neg = ti_idx(&e, dt, 2, S(1, -1));
        CHECK(CALL(&e, "aten::repeat_interleave.Tensor_out", neg, tv_null(&e), o, o) == CML_ERR_INVALID_ARG);
        CHECK(ti_msg_has(&e, "aten::repeat_interleave.Tensor_out", "repeats[1] = -1 is negative"));
    }
    /* random against a naive loop */
    cml_evalue *r = TS(&e, CML_DTYPE_INT64, 20), *o = tv_dyn_out(&e, CML_DTYPE_INT64, 1, 100);
    double ref[100];
    int n = 0;
    for (int i = 0; i < 20; i++) {
        int64_t c = tv_randint(0, 4);
        ti_set(T(r), i, (double)c);
        for (int j = 0; j < c; j++) ref[n++] = i;
    }
    CHECK(CALL(&e, "aten::repeat_interleave.Tensor_out", r, tv_null(&e), o, o) == CML_OK);
    CHECK(ti_equal("repeat_interleave random", T(o), ref, n));
    cml_evalue *o32 = tv_dyn_out(&e, CML_DTYPE_INT32, 1, 100);
    CHECK(CALL(&e, "aten::repeat_interleave.Tensor_out", r, tv_null(&e), o32, o32) == CML_ERR_UNSUPPORTED);
    cml_evalue *r2 = TS(&e, CML_DTYPE_INT64, 2, 2);
    CHECK(CALL(&e, "aten::repeat_interleave.Tensor_out", r2, tv_null(&e), o, o) == CML_ERR_INVALID_ARG);
    tv_free(&e);
}

int main(void) {
    test_masked_all_dtypes();
    test_masked_edges();
    test_repeat_interleave();
    TEST_MAIN_END();
}
