/* select_scatter, slice_scatter, narrow_copy, diagonal_copy, as_strided_copy,
 * unfold_copy: every dtype against naive loops over [3, 4, 5] tensors,
 * negative dims/indices/starts, src of another dtype (converted), empty
 * results, torch 2.13 eager constants for diagonal/unfold/narrow corner
 * cases, and bad input (index out of range, view past the end, wrong src
 * shape). */
#include "test_aten_index_util.h"

static int64_t flat3(int64_t i, int64_t j, int64_t k) { return (i * 4 + j) * 5 + k; }

static void test_select_slice_scatter(void) {
    static tenv e;
    for (int di = 0; di < N_ALL_DTYPES; di++) {
        cml_dtype dt = k_all_dtypes[di];
        /* src of another dtype every other round (converted to self's) */
        cml_dtype sdt = di % 2 ? CML_DTYPE_INT32 : dt;
        tv_init(&e);
        cml_evalue *x = TS(&e, dt, 3, 4, 5), *o = TS(&e, dt, 3, 4, 5);
        ti_fill(x);
        /* select_scatter dim 1 (as -2), index -1 -> 3 */
        cml_evalue *src = TS(&e, sdt, 3, 5);
        for (int i = 0; i < 15; i++) ti_set(T(src), i, dt == CML_DTYPE_BOOL ? (i % 2) : (double)(i % 7));
        double ref[60];
        for (int i = 0; i < 60; i++) ref[i] = ti_get(T(x), i);
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 5; k++) ref[flat3(i, 3, k)] = ti_get(T(src), i * 5 + k);
        CHECK(CALL(&e, "aten::select_scatter.out", x, src, tv_int(&e, -2), tv_int(&e, -1), o, o) == CML_OK);
        CHECK(ti_equal("select_scatter", T(o), ref, 60));
        /* slice_scatter dim 2, start -4 (1), end None, step 2 -> k = 1, 3 */
        cml_evalue *src2 = TS(&e, dt, 3, 4, 2);
        ti_fill(src2);
        for (int i = 0; i < 60; i++) ref[i] = ti_get(T(x), i);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 2; k++) ref[flat3(i, j, 1 + 2 * k)] = ti_get(T(src2), (i * 4 + j) * 2 + k);
        CHECK(CALL(&e, "aten::slice_scatter.out", x, src2, tv_int(&e, 2), tv_int(&e, -4), tv_null(&e),
                   tv_int(&e, 2), o, o) == CML_OK);
        CHECK(ti_equal("slice_scatter", T(o), ref, 60));
        tv_free(&e);
    }
}

static void test_views_all_dtypes(void) {
    static tenv e;
    for (int di = 0; di < N_ALL_DTYPES; di++) {
        cml_dtype dt = k_all_dtypes[di];
        tv_init(&e);
        cml_evalue *x = TS(&e, dt, 3, 4, 5);
        ti_fill(x);
        /* narrow dim 1 start -3 length 2 -> j = 1, 2 */
        cml_evalue *o = tv_dyn_out(&e, dt, 3, 60);
        double ref[60];
        int n = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 1; j < 3; j++)
                for (int k = 0; k < 5; k++) ref[n++] = ti_get(T(x), flat3(i, j, k));
        CHECK(CALL(&e, "aten::narrow_copy.out", x, tv_int(&e, 1), tv_int(&e, -3), tv_int(&e, 2), o, o) == CML_OK);
        CHECK(tv_shape_is(T(o), 3, S(3, 2, 5)) && ti_equal("narrow", T(o), ref, 30));
        /* diagonal offset 1 over dims (0, 2): [4, 3], element (j, t) = x[t, j, t + 1] */
        n = 0;
        for (int j = 0; j < 4; j++)
            for (int t = 0; t < 3; t++) ref[n++] = ti_get(T(x), flat3(t, j, t + 1));
        CHECK(CALL(&e, "aten::diagonal_copy.out", x, tv_int(&e, 1), tv_int(&e, 0), tv_int(&e, -1), o, o) == CML_OK);
        CHECK(tv_shape_is(T(o), 2, S(4, 3)) && ti_equal("diagonal", T(o), ref, 12));
        /* as_strided [3, 2] strides [7, 2] offset 5 */
        n = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++) ref[n++] = ti_get(T(x), 5 + 7 * i + 2 * j);
        CHECK(CALL(&e, "aten::as_strided_copy.out", x, IL(&e, 3, 2), IL(&e, 7, 2), tv_int(&e, 5), o, o) == CML_OK);
        CHECK(tv_shape_is(T(o), 2, S(3, 2)) && ti_equal("as_strided", T(o), ref, 6));
        /* unfold dim 2 size 2 step 2: [3, 4, 2, 2], into an fp32 out */
        cml_evalue *of = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 4, 60);
        n = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                for (int w = 0; w < 2; w++)
                    for (int s = 0; s < 2; s++) ref[n++] = ti_get(T(x), flat3(i, j, 2 * w + s));
        CHECK(CALL(&e, "aten::unfold_copy.out", x, tv_int(&e, -1), tv_int(&e, 2), tv_int(&e, 2), of, of) == CML_OK);
        CHECK(tv_shape_is(T(of), 4, S(3, 4, 2, 2)) && ti_equal("unfold", T(of), ref, 48));
        tv_free(&e);
    }
}

/* torch 2.13 eager constants. */
static void test_torch_cases(void) {
    static tenv e;
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_INT64, 3, 4, 5);
    ti_iota(x);
    cml_evalue *o = tv_dyn_out(&e, CML_DTYPE_INT64, 2, 60);
    /* arange(60).reshape(3,4,5).diagonal(offset=-1, dim1=2, dim2=0) */
    CHECK(CALL(&e, "aten::diagonal_copy.out", x, tv_int(&e, -1), tv_int(&e, 2), tv_int(&e, 0), o, o) == CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(4, 3)));
    CHECK(ti_equal("diag -1", T(o), (double[]){1, 22, 43, 6, 27, 48, 11, 32, 53, 16, 37, 58}, 12));
    CHECK(CALL(&e, "aten::diagonal_copy.out", x, tv_int(&e, 2), tv_int(&e, 1), tv_int(&e, 2), o, o) == CML_OK);
    CHECK(ti_equal("diag 2", T(o), (double[]){2, 8, 14, 22, 28, 34, 42, 48, 54}, 9));
    CHECK(CALL(&e, "aten::diagonal_copy.out", x, tv_int(&e, 7), tv_int(&e, 1), tv_int(&e, 2), o, o) == CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(3, 0)));
    /* arange(7.).unfold(0, 3, 2); tensor(5.).unfold(0, 1, 1) = [5.] */
    cml_evalue *a = TS(&e, CML_DTYPE_FLOAT32, 7), *ou = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 2, 9);
    ti_iota(a);
    CHECK(CALL(&e, "aten::unfold_copy.out", a, tv_int(&e, 0), tv_int(&e, 3), tv_int(&e, 2), ou, ou) == CML_OK);
    CHECK(tv_shape_is(T(ou), 2, S(3, 3)) && ti_equal("unfold", T(ou), (double[]){0, 1, 2, 2, 3, 4, 4, 5, 6}, 9));
    cml_evalue *s0 = tv_tensor(&e, CML_DTYPE_FLOAT32, 0, S(0)), *o1 = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 1, 1);
    F(s0)[0] = 5;
    CHECK(CALL(&e, "aten::unfold_copy.out", s0, tv_int(&e, 0), tv_int(&e, 1), tv_int(&e, 1), o1, o1) == CML_OK);
    CHECK(tv_shape_is(T(o1), 1, S(1)) && F(o1)[0] == 5);
    /* arange(6).narrow(0, -2, 2) = [4, 5] */
    cml_evalue *b = TS(&e, CML_DTYPE_INT64, 6), *on = tv_dyn_out(&e, CML_DTYPE_INT64, 1, 6);
    ti_iota(b);
    CHECK(CALL(&e, "aten::narrow_copy.out", b, tv_int(&e, 0), tv_int(&e, -2), tv_int(&e, 2), on, on) == CML_OK);
    CHECK(ti_equal("narrow", T(on), (double[]){4, 5}, 2));
    tv_free(&e);
}

static void test_bad_input(void) {
    static tenv e;
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 3, 4), *o = TS(&e, CML_DTYPE_FLOAT32, 3, 4);
    cml_evalue *src = TS(&e, CML_DTYPE_FLOAT32, 4), *od = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 2, 12);
    CHECK(CALL(&e, "aten::select_scatter.out", x, src, tv_int(&e, 0), tv_int(&e, 3), o, o) == CML_ERR_INVALID_ARG);
    CHECK(ti_msg_has(&e, "aten::select_scatter.out", "index 3 is out of bounds for dim 0 of size 3"));
    CHECK(CALL(&e, "aten::select_scatter.out", x, src, tv_int(&e, 1), tv_int(&e, 0), o, o) == CML_ERR_SHAPE);
    CHECK(CALL(&e, "aten::select_scatter.out", x, src, tv_int(&e, 2), tv_int(&e, 0), o, o) == CML_ERR_INVALID_ARG);
    cml_evalue *s2 = TS(&e, CML_DTYPE_FLOAT32, 3, 3);
    CHECK(CALL(&e, "aten::slice_scatter.out", x, s2, tv_int(&e, 1), tv_int(&e, 0), tv_int(&e, 4), tv_int(&e, 2), o, o) == CML_ERR_SHAPE);
    CHECK(CALL(&e, "aten::slice_scatter.out", x, s2, tv_int(&e, 1), tv_int(&e, 0), tv_int(&e, 4), tv_int(&e, 0), o, o) == CML_ERR_INVALID_ARG);
    /* an empty slice takes an empty src */
    cml_evalue *s0 = TS(&e, CML_DTYPE_FLOAT32, 3, 0);
    ti_iota(x);
    CHECK(CALL(&e, "aten::slice_scatter.out", x, s0, tv_int(&e, 1), tv_int(&e, 9), tv_null(&e), tv_int(&e, 1), o, o) == CML_OK);
    CHECK(ti_get(T(o), 11) == 11);
    CHECK(CALL(&e, "aten::narrow_copy.out", x, tv_int(&e, 1), tv_int(&e, 3), tv_int(&e, 2), od, od) == CML_ERR_INVALID_ARG);
    CHECK(ti_msg_has(&e, "aten::narrow_copy.out", "exceeds dim 1 of size 4"));
    CHECK(CALL(&e, "aten::narrow_copy.out", x, tv_int(&e, 1), tv_int(&e, -5), tv_int(&e, 1), od, od) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&e, "aten::diagonal_copy.out", x, tv_int(&e, 0), tv_int(&e, 1), tv_int(&e, -1), od, od) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&e, "aten::as_strided_copy.out", x, IL(&e, 3, 2), IL(&e, 4, 1), tv_int(&e, 3), od, od) == CML_ERR_INVALID_ARG);
    CHECK(ti_msg_has(&e, "aten::as_strided_copy.out", "reaches element 12 of a tensor of 12 elements"));
    CHECK(CALL(&e, "aten::as_strided_copy.out", x, IL(&e, 3, 2), IL(&e, -4, 1), tv_null(&e), od, od) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&e, "aten::as_strided_copy.out", x, IL(&e, 3), IL(&e, 4, 1), tv_null(&e), od, od) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&e, "aten::as_strided_copy.out", x, IL(&e, 0, 5), IL(&e, 100, 100), tv_null(&e), od, od) == CML_OK);
    CHECK(cml_tensor_numel(T(od)) == 0);
    CHECK(CALL(&e, "aten::unfold_copy.out", x, tv_int(&e, 1), tv_int(&e, 5), tv_int(&e, 1), od, od) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&e, "aten::unfold_copy.out", x, tv_int(&e, 1), tv_int(&e, 2), tv_int(&e, 0), od, od) == CML_ERR_INVALID_ARG);
    cml_evalue *oi = TS(&e, CML_DTYPE_INT32, 3, 4);
    CHECK(CALL(&e, "aten::narrow_copy.out", x, tv_int(&e, 1), tv_int(&e, 0), tv_int(&e, 4), oi, oi) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

int main(void) {
    test_select_slice_scatter();
    test_views_all_dtypes();
    test_torch_cases();
    test_bad_input();
    TEST_MAIN_END();
}
