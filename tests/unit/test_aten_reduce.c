/* mean/sum/amax/amin over random dim subsets (adjacent or not, negative,
 * None, empty list), keepdim, fp16; argmax/argmin; rejection. */
#include "test_aten_util.h"

enum { RS_SUM, RS_MEAN, RS_MAX, RS_MIN };

static void run_reduce(int kind, int it) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    int32_t rank = (int32_t)tv_randint(1, 5);
    int64_t sz[5];
    for (int32_t d = 0; d < rank; d++) sz[d] = tv_randint(1, 6);
    bool mask[5] = {false};
    int64_t dims[5];
    uint32_t nd = 0;
    int form = it % 5; /* 0-2: random subset, 3: None, 4: empty list */
    if (form < 3) {
        for (int32_t d = 0; d < rank; d++)
            if (tv_rand() % 2) {
                mask[d] = true;
                dims[nd++] = (tv_rand() % 2) ? d : d - rank;
            }
        if (nd == 0) {
            mask[0] = true;
            dims[nd++] = 0;
        }
    } else {
        for (int32_t d = 0; d < rank; d++) mask[d] = true;
    }
    bool keep = it % 2;
    int64_t osz[5];
    int32_t orank = 0;
    for (int32_t d = 0; d < rank; d++) {
        if (!mask[d]) osz[orank++] = sz[d];
        else if (keep) osz[orank++] = 1;
    }
    cml_dtype dt = it % 7 == 6 ? CML_DTYPE_FLOAT16 : CML_DTYPE_FLOAT32;
    cml_evalue *x = tv_tensor(&e, dt, rank, sz);
    cml_evalue *o = tv_dyn_out(&e, dt, orank, 6 * 6 * 6 * 6 * 6);
    tv_fill_rand(x);
    cml_evalue *dl = form < 3 ? tv_int_list(&e, nd, dims) : form == 3 ? tv_null(&e) : tv_int_list(&e, 0, NULL);
    cml_status st;
    const char *name;
    if (kind == RS_SUM || kind == RS_MEAN) {
        name = kind == RS_SUM ? "aten::sum.IntList_out" : "aten::mean.out";
        cml_evalue *dtype = it % 3 == 0 ? tv_int(&e, dt) : tv_null(&e);
        st = CALL(&e, name, x, dl, tv_bool(&e, keep), dtype, o, o);
    } else {
        name = kind == RS_MAX ? "aten::amax.out" : "aten::amin.out";
        if (form == 3) dl = tv_int_list(&e, 0, NULL);
        st = CALL(&e, name, x, dl, tv_bool(&e, keep), o, o);
    }
    CHECK_MSG(st == CML_OK, "%s: %s", name, e.err.msg);
    CHECK_MSG(tv_shape_is(T(o), orank, osz), "%s shape", name);
    int64_t on = 1;
    for (int32_t d = 0; d < orank; d++) on *= osz[d];
    double *acc = malloc(sizeof(double) * (size_t)on);
    int64_t *cnt = calloc((size_t)on, sizeof(int64_t));
    for (int64_t i = 0; i < on; i++) acc[i] = kind == RS_MAX ? -INFINITY : kind == RS_MIN ? INFINITY : 0;
    int64_t n = cml_tensor_numel(T(x));
    for (int64_t i = 0; i < n; i++) {
        int64_t idx[5];
        tv_unravel(i, rank, sz, idx);
        int64_t oi = 0;
        for (int32_t d = 0; d < rank; d++)
            if (!mask[d]) oi = oi * sz[d] + idx[d];
        double v = tv_get(T(x), i);
        if (kind == RS_MAX) acc[oi] = fmax(acc[oi], v);
        else if (kind == RS_MIN) acc[oi] = fmin(acc[oi], v);
        else acc[oi] += v;
        cnt[oi]++;
    }
    for (int64_t i = 0; i < on; i++) {
        if (kind == RS_MEAN) acc[i] /= (double)cnt[i];
        if (dt == CML_DTYPE_FLOAT16) acc[i] = cml_round_fp16((float)acc[i]);
    }
    double tol = dt == CML_DTYPE_FLOAT16 ? 1e-2 : 1e-5;
    CHECK(tv_check_all(name, T(o), acc, on, tol, tol));
    free(acc);
    free(cnt);
    tv_free(&e);
}

static void test_arg(void) {
    for (int it = 0; it < 30; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int32_t rank = (int32_t)tv_randint(1, 4);
        int64_t sz[4];
        for (int32_t d = 0; d < rank; d++) sz[d] = tv_randint(1, 6);
        bool is_max = it % 2, keep = (it / 2) % 2, none = it % 5 == 0;
        int32_t dim = (int32_t)tv_randint(0, rank - 1);
        cml_evalue *x = tv_tensor(&e, CML_DTYPE_FLOAT32, rank, sz);
        tv_fill_rand(x);
        int64_t n = cml_tensor_numel(T(x));
        for (int64_t i = 0; i < n; i++) F(x)[i] = (float)(int)(F(x)[i] * 3); /* ties */
        cml_evalue *o = tv_dyn_out(&e, CML_DTYPE_INT64, rank, n);
        cml_status st = CALL(&e, is_max ? "aten::argmax.out" : "aten::argmin.out", x,
                             none ? tv_null(&e) : tv_int(&e, dim), tv_bool(&e, keep), o, o);
        CHECK_MSG(st == CML_OK, "%s", e.err.msg);
        if (none) {
            CHECK(T(o)->rank == (keep ? rank : 0));
            int64_t best = 0;
            for (int64_t i = 1; i < n; i++)
                if (is_max ? F(x)[i] > F(x)[best] : F(x)[i] < F(x)[best]) best = i;
            CHECK(((int64_t *)T(o)->data)[0] == best);
        } else {
            int64_t outer = 1, inner = 1;
            for (int32_t d = 0; d < dim; d++) outer *= sz[d];
            for (int32_t d = dim + 1; d < rank; d++) inner *= sz[d];
            CHECK(T(o)->rank == (keep ? rank : rank - 1));
            bool ok = true;
            for (int64_t a = 0; a < outer; a++)
                for (int64_t i = 0; i < inner; i++) {
                    int64_t best = 0;
                    for (int64_t k = 1; k < sz[dim]; k++) {
                        float v = F(x)[(a * sz[dim] + k) * inner + i], b = F(x)[(a * sz[dim] + best) * inner + i];
                        if (is_max ? v > b : v < b) best = k;
                    }
                    ok = ok && ((int64_t *)T(o)->data)[a * inner + i] == best;
                }
            CHECK(ok);
        }
        tv_free(&e);
    }
}

static void test_reduce_args(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *o = TS(&e, CML_DTYPE_FLOAT32, 2);
    CHECK(PREP(&e, "aten::mean.out", x, IL(&e, 2), tv_bool(&e, false), tv_null(&e), o, o) == CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, "aten::mean.out", x, IL(&e, 1, -1), tv_bool(&e, false), tv_null(&e), o, o) ==
          CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, "aten::mean.out", x, IL(&e, 1), tv_bool(&e, false), tv_int(&e, CML_DTYPE_FLOAT16), o, o) ==
          CML_ERR_INVALID_ARG);
    cml_evalue *xi = TS(&e, CML_DTYPE_INT64, 2, 3), *oi = TS(&e, CML_DTYPE_INT64, 2);
    /* mean has no integer kernel (sum does: test_aten_sum_int.c) */
    CHECK(PREP(&e, "aten::mean.out", xi, IL(&e, 1), tv_bool(&e, false), tv_null(&e), oi, oi) ==
          CML_ERR_UNSUPPORTED);
    /* mean.dtype_out reduces everything */
    cml_evalue *s = tv_tensor(&e, CML_DTYPE_FLOAT32, 0, NULL);
    for (int i = 0; i < 6; i++) F(x)[i] = (float)i;
    CHECK(CALL(&e, "aten::mean.dtype_out", x, tv_null(&e), s, s) == CML_OK);
    CHECK_NEAR(F(s)[0], 2.5, 1e-6);
    /* empty reduction: sum is 0, mean is NaN, amax fails */
    cml_evalue *z = tv_tensor_cap(&e, CML_DTYPE_FLOAT32, 2, S(2, 0), 4, CML_SHAPE_DYNAMIC_BOUND);
    CHECK(CALL(&e, "aten::sum.IntList_out", z, IL(&e, 1), tv_bool(&e, false), tv_null(&e), o, o) == CML_OK);
    CHECK(F(o)[0] == 0.0f && F(o)[1] == 0.0f);
    CHECK(CALL(&e, "aten::mean.out", z, IL(&e, 1), tv_bool(&e, false), tv_null(&e), o, o) == CML_OK);
    CHECK(isnan(F(o)[0]));
    CHECK(CALL(&e, "aten::amax.out", z, IL(&e, 1), tv_bool(&e, false), o, o) == CML_ERR_SHAPE);
    tv_free(&e);
}

int main(void) {
    for (int it = 0; it < 60; it++) {
        run_reduce(RS_SUM, it);
        run_reduce(RS_MEAN, it);
        run_reduce(RS_MAX, it);
        run_reduce(RS_MIN, it);
    }
    test_arg();
    test_reduce_args();
    TEST_MAIN_END();
}
