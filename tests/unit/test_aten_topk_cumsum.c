/* topk.values and cumsum.out: every dtype against naive references (topk:
 * repeated selection of the best remaining element, values exact and indices
 * pointing at equal elements; cumsum: running sums in exact double
 * arithmetic), every dim, largest and smallest; torch 2.13 eager constants
 * for the order of ties (every selection path), NaN ranking and int8
 * wrap-around; dtype conversion, 0-D/empty inputs and bad input. */
#include "test_aten_index_util.h"

static const char TK[] = "aten::topk.values";

/* Naive top-k of slice x[base + i * stride], i < n. */
static void naive_topk(const cml_tensor *x, int64_t base, int64_t stride, int64_t n, int64_t k,
                       bool largest, double *vals, int64_t *idx) {
    bool used[64] = {false};
    for (int64_t r = 0; r < k; r++) {
        int64_t best = -1;
        for (int64_t i = 0; i < n; i++) {
            if (used[i]) continue;
            double v = ti_get(x, base + i * stride);
            if (best < 0) { best = i; continue; }
            double b = ti_get(x, base + best * stride);
            bool better = isnan(v) ? (largest && !isnan(b)) : isnan(b) ? !largest : largest ? v > b : v < b;
            if (better) best = i;
        }
        used[best] = true;
        vals[r] = ti_get(x, base + best * stride);
        idx[r] = best;
    }
}

static void test_topk_all(void) {
    static tenv e;
    for (int di = 0; di < N_ALL_DTYPES; di++) {
        cml_dtype dt = k_all_dtypes[di];
        if (dt == CML_DTYPE_BOOL) continue;
        for (int dim = 0; dim < 3; dim++)
            for (int largest = 0; largest < 2; largest++) {
                tv_init(&e);
                int64_t sz[3] = {3, 6, 5}, k = dim == 1 ? 4 : 2;
                cml_evalue *x = TS(&e, dt, 3, 6, 5);
                ti_fill(x);
                int64_t osz[3] = {3, 6, 5};
                osz[dim] = k;
                cml_evalue *v = tv_dyn_out(&e, dt, 3, 90), *ix = tv_dyn_out(&e, CML_DTYPE_INT64, 3, 90);
                CHECK(CALL(&e, TK, x, tv_int(&e, k), tv_int(&e, dim - 3), tv_bool(&e, largest),
                           tv_bool(&e, true), v, ix, v) == CML_OK);
                CHECK(tv_shape_is(T(v), 3, osz) && tv_shape_is(T(ix), 3, osz));
                int64_t xst[3] = {30, 5, 1}, ost[3] = {osz[1] * osz[2], osz[2], 1};
                bool ok = true;
                for (int64_t a = 0; a < 3 * 6 * 5 && ok; a++) {
                    int64_t c[3] = {a / 30, (a / 5) % 6, a % 5};
                    if (c[dim] != 0) continue;
                    double rv[8];
                    int64_t ri[8];
                    naive_topk(T(x), c[0] * 30 + c[1] * 5 + c[2], xst[dim], sz[dim], k, largest, rv, ri);
                    (void)ri; /* tie order is torch's, checked against torch below */
                    bool seen[8] = {false};
                    for (int64_t r = 0; r < k && ok; r++) {
                        int64_t o = c[0] * ost[0] + c[1] * ost[1] + c[2] * ost[2] + r * ost[dim];
                        int64_t j = (int64_t)ti_get(T(ix), o);
                        ok = ti_get(T(v), o) == rv[r] && j >= 0 && j < sz[dim] && !seen[j] &&
                             ti_get(T(x), c[0] * 30 + c[1] * 5 + c[2] + j * xst[dim]) == rv[r];
                        if (ok) seen[j] = true;
                    }
                }
                CHECK_MSG(ok, "topk %s dim %d largest %d", cml_dtype_name(dt), dim, largest);
                tv_free(&e);
            }
    }
}

static void test_topk_edges(void) {
    static tenv e;
    tv_init(&e);
    /* torch.topk(x, 3, dim=1) = values [[nan, 3, 3], [5, 4, 4]], indices
     * [[5, 1, 7], [3, 5, 4]] (ties in torch's order, not index order) */
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 8);
    ti_set_all(x, (double[]){1, 3, 2, 3, 1, NAN, 2, 3, 0, -1, -1, 5, 4, 4, -2, 0});
    cml_evalue *v = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *ix = TS(&e, CML_DTYPE_INT64, 2, 3);
    CHECK(CALL(&e, TK, x, tv_int(&e, 3), tv_int(&e, 1), tv_bool(&e, true), tv_bool(&e, true), v, ix, v) == CML_OK);
    CHECK(ti_equal("topk nan", T(v), (double[]){NAN, 3, 3, 5, 4, 4}, 6));
    CHECK(ti_equal("topk nan idx", T(ix), (double[]){5, 1, 7, 3, 5, 4}, 6));
    CHECK(CALL(&e, TK, x, tv_int(&e, 3), tv_int(&e, -1), tv_bool(&e, false), tv_bool(&e, false), v, ix, v) == CML_OK);
    /* torch, sorted=False: the order nth_element leaves */
    CHECK(ti_equal("topk small", T(v), (double[]){1, 1, 2, -1, -2, -1}, 6));
    CHECK(ti_equal("topk small idx", T(ix), (double[]){0, 4, 2, 2, 6, 1}, 6));
    /* k = 0, 0-D input, k out of range, bad dtypes */
    cml_evalue *v0 = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 2, 6), *i0 = tv_dyn_out(&e, CML_DTYPE_INT64, 2, 6);
    CHECK(CALL(&e, TK, x, tv_int(&e, 0), tv_int(&e, 1), tv_bool(&e, true), tv_bool(&e, true), v0, i0, v0) == CML_OK);
    CHECK(tv_shape_is(T(v0), 2, S(2, 0)));
    cml_evalue *s0 = tv_tensor(&e, CML_DTYPE_FLOAT32, 0, S(0)), *vs = tv_tensor(&e, CML_DTYPE_FLOAT32, 0, S(0));
    cml_evalue *is = tv_tensor(&e, CML_DTYPE_INT64, 0, S(0));
    F(s0)[0] = 4;
    CHECK(CALL(&e, TK, s0, tv_int(&e, 1), tv_int(&e, -1), tv_bool(&e, true), tv_bool(&e, true), vs, is, vs) == CML_OK);
    CHECK(F(vs)[0] == 4 && ((int64_t *)T(is)->data)[0] == 0);
    CHECK(CALL(&e, TK, x, tv_int(&e, 9), tv_int(&e, 1), tv_bool(&e, true), tv_bool(&e, true), v0, i0, v0) == CML_ERR_INVALID_ARG);
    CHECK(ti_msg_has(&e, TK, "k 9 out of range for dim 1 of size 8"));
    cml_evalue *i32 = TS(&e, CML_DTYPE_INT32, 2, 3);
    CHECK(CALL(&e, TK, x, tv_int(&e, 3), tv_int(&e, 1), tv_bool(&e, true), tv_bool(&e, true), v, i32, v) == CML_ERR_UNSUPPORTED);
    cml_evalue *b = TS(&e, CML_DTYPE_BOOL, 4), *vb = TS(&e, CML_DTYPE_BOOL, 2), *ib = TS(&e, CML_DTYPE_INT64, 2);
    CHECK(CALL(&e, TK, b, tv_int(&e, 2), tv_int(&e, 0), tv_bool(&e, true), tv_bool(&e, true), vb, ib, vb) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

/* Tie order of torch 2.13 eager on data with many ties, value i of row =
 * ((i * a + b) % 101) % m: the partial-sort path (k * 64 <= n), the
 * nth_element + introsort path (k - 1 > 16) and sorted=False. */
static void test_topk_torch_ties(void) {
    static tenv e;
    static const struct {
        int64_t n, k, a, b, m;
        bool largest, sorted;
        int64_t idx[40];
    } cases[] = {
        {200, 3, 37, 11, 5, true, true, {14, 11, 8}},
        {100, 40, 13, 5, 4, false, true,
         {72, 7, 8, 90, 86, 85, 95, 12, 3, 81, 99, 17, 76, 30, 40, 44, 49, 35, 53, 54,
          31, 21, 58, 26, 63, 67, 50, 82, 59, 73, 78, 77, 68, 91, 0, 45, 96, 41, 87, 55}},
        {100, 40, 29, 3, 6, true, false,
         {72, 47, 39, 38, 55, 56, 30, 64, 22, 81, 14, 13, 7, 99, 89, 40, 98, 97, 48, 49,
          5, 32, 31, 6, 57, 65, 92, 84, 15, 82, 23, 91, 90, 73, 75, 74, 67, 83, 58, 0}},
        {30, 7, 7, 1, 3, true, true, {21, 10, 13, 18, 27, 29, 15}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tv_init(&e);
        cml_evalue *x = tv_tensor(&e, CML_DTYPE_FLOAT32, 1, &cases[c].n);
        for (int64_t i = 0; i < cases[c].n; i++) F(x)[i] = (float)(((i * cases[c].a + cases[c].b) % 101) % cases[c].m);
        cml_evalue *v = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 1, 64), *ix = tv_dyn_out(&e, CML_DTYPE_INT64, 1, 64);
        CHECK(CALL(&e, TK, x, tv_int(&e, cases[c].k), tv_int(&e, 0), tv_bool(&e, cases[c].largest),
                   tv_bool(&e, cases[c].sorted), v, ix, v) == CML_OK);
        double ref[40];
        for (int64_t i = 0; i < cases[c].k; i++) ref[i] = (double)cases[c].idx[i];
        CHECK_MSG(ti_equal("topk torch ties", T(ix), ref, cases[c].k), "case %zu", c);
        tv_free(&e);
    }
}

static void test_cumsum(void) {
    static tenv e;
    for (int di = 0; di < N_ALL_DTYPES; di++)
        for (int dim = 0; dim < 3; dim++) {
            cml_dtype dt = k_all_dtypes[di];
            /* out: same dtype, or float64/int64 (exact for the small values used) */
            cml_dtype odt = dim == 0 ? dt : dim == 1 ? CML_DTYPE_FLOAT64 : CML_DTYPE_INT64;
            tv_init(&e);
            cml_evalue *x = TS(&e, dt, 2, 3, 4), *o = TS(&e, odt, 2, 3, 4);
            ti_fill(x);
            int64_t st[3] = {12, 4, 1};
            double ref[24];
            for (int i = 0; i < 24; i++) {
                int64_t c = (i / st[dim]) % (dim == 0 ? 2 : dim == 1 ? 3 : 4);
                double v = ti_get(T(x), i);
                if (odt == CML_DTYPE_INT64) v = trunc(v);
                ref[i] = c ? ti_add(odt, ref[i - st[dim]], v) : v;
            }
            cml_evalue *dtv = dim == 0 ? tv_null(&e) : tv_int(&e, odt);
            CHECK(CALL(&e, "aten::cumsum.out", x, tv_int(&e, dim - 3), dtv, o, o) == CML_OK);
            CHECK_MSG(ti_equal("cumsum", T(o), ref, 24), "dim %d", dim);
            tv_free(&e);
        }
    tv_init(&e);
    /* torch: cumsum(int8 [100,100,100], dtype=int8) = [100, -56, 44];
     * cumsum(bool [T,F,T], dtype=int32) = [1, 1, 2] */
    cml_evalue *x = TS(&e, CML_DTYPE_INT8, 3), *o = TS(&e, CML_DTYPE_INT8, 3), *o64 = TS(&e, CML_DTYPE_INT64, 3);
    ti_set_all(x, (double[]){100, 100, 100});
    CHECK(CALL(&e, "aten::cumsum.out", x, tv_int(&e, 0), tv_int(&e, CML_DTYPE_INT8), o, o) == CML_OK);
    CHECK(ti_equal("cumsum int8", T(o), (double[]){100, -56, 44}, 3));
    CHECK(CALL(&e, "aten::cumsum.out", x, tv_int(&e, 0), tv_null(&e), o64, o64) == CML_OK);
    CHECK(ti_equal("cumsum int8->64", T(o64), (double[]){100, 200, 300}, 3));
    cml_evalue *b = TS(&e, CML_DTYPE_BOOL, 3), *o32 = TS(&e, CML_DTYPE_INT32, 3);
    ti_set_all(b, (double[]){1, 0, 1});
    CHECK(CALL(&e, "aten::cumsum.out", b, tv_int(&e, 0), tv_int(&e, CML_DTYPE_INT32), o32, o32) == CML_OK);
    CHECK(ti_equal("cumsum bool", T(o32), (double[]){1, 1, 2}, 3));
    /* 0-D, empty, bad dim, dtype that does not match out */
    cml_evalue *s0 = tv_tensor(&e, CML_DTYPE_FLOAT32, 0, S(0)), *os0 = tv_tensor(&e, CML_DTYPE_FLOAT32, 0, S(0));
    F(s0)[0] = 2.5f;
    CHECK(CALL(&e, "aten::cumsum.out", s0, tv_int(&e, -1), tv_null(&e), os0, os0) == CML_OK && F(os0)[0] == 2.5f);
    cml_evalue *em = TS(&e, CML_DTYPE_FLOAT32, 0, 2), *oem = TS(&e, CML_DTYPE_FLOAT32, 0, 2);
    CHECK(CALL(&e, "aten::cumsum.out", em, tv_int(&e, 1), tv_null(&e), oem, oem) == CML_OK);
    CHECK(CALL(&e, "aten::cumsum.out", x, tv_int(&e, 1), tv_null(&e), o, o) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&e, "aten::cumsum.out", x, tv_int(&e, 0), tv_int(&e, CML_DTYPE_FLOAT32), o, o) == CML_ERR_INVALID_ARG);
    tv_free(&e);
}

int main(void) {
    test_topk_all();
    test_topk_edges();
    test_topk_torch_ties();
    test_cumsum();
    TEST_MAIN_END();
}
