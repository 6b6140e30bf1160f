/* index_put.out / index_put_: every dtype against a naive reference
 * (single index tensor, duplicates, negative indices, accumulate on/off),
 * the KV-cache pattern [None, None, pos], non-adjacent broadcasting index
 * tensors, bool masks and mixed mask+int lists (constants computed with
 * torch 2.13 eager, torch.ops.aten.index_put.default), empty inputs, and
 * bad input (out-of-range index, values that do not broadcast, bad dtypes). */
#include "test_aten_index_util.h"

static const char IPO[] = "aten::index_put.out";
static const char IPI[] = "aten::index_put_";

/* self [4, 6], index on dim 0 of length 7 (duplicates, negatives), values
 * [7, 6]; reference: rows written in order. */
static void test_rows_all_dtypes(void) {
    static tenv e;
    for (int di = 0; di < N_ALL_DTYPES; di++) {
        for (int acc = 0; acc < 2; acc++) {
            cml_dtype dt = k_all_dtypes[di];
            tv_init(&e);
            cml_evalue *x = TS(&e, dt, 4, 6), *vals = TS(&e, dt, 7, 6), *o = TS(&e, dt, 4, 6);
            ti_fill(x);
            ti_fill(vals);
            cml_evalue *ix = TS(&e, acc ? CML_DTYPE_INT32 : CML_DTYPE_INT64, 7);
            for (int k = 0; k < 7; k++) ti_set(T(ix), k, (double)tv_randint(-4, 3));
            double ref[24];
            for (int i = 0; i < 24; i++) ref[i] = ti_get(T(x), i);
            for (int k = 0; k < 7; k++) {
                int64_t r = (int64_t)ti_get(T(ix), k);
                if (r < 0) r += 4;
                for (int j = 0; j < 6; j++) {
                    double v = ti_get(T(vals), k * 6 + j);
                    ref[r * 6 + j] = acc ? ti_add(dt, ref[r * 6 + j], v) : v;
                }
            }
            cml_evalue *l = OPTL(&e, ix);
            CHECK(CALL(&e, IPO, x, l, vals, tv_bool(&e, acc), o, o) == CML_OK);
            CHECK(ti_equal("index_put rows", T(o), ref, 24));
            /* in place gives the same and writes into self */
            CHECK(CALL(&e, IPI, x, l, vals, tv_bool(&e, acc), x) == CML_OK);
            CHECK(ti_equal("index_put_ rows", T(x), ref, 24));
            tv_free(&e);
        }
    }
}

/* KV cache: cache [1, 2, 8, 4], indices [None, None, pos[3]], values
 * [1, 2, 3, 4]; every position on dim 2 is replaced. */
static void test_kv_cache(void) {
    static tenv e;
    tv_init(&e);
    cml_evalue *cache = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 8, 4), *vals = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 3, 4);
    ti_fill(cache);
    ti_fill(vals);
    double ref[64];
    for (int i = 0; i < 64; i++) ref[i] = ti_get(T(cache), i);
    const int64_t pos[3] = {5, 6, -1};
    for (int h = 0; h < 2; h++)
        for (int p = 0; p < 3; p++)
            for (int d = 0; d < 4; d++) ref[(h * 8 + (pos[p] + 8) % 8) * 4 + d] = ti_get(T(vals), (h * 3 + p) * 4 + d);
    cml_evalue *ix = IDX(&e, 5, 6, -1);
    CHECK(CALL(&e, IPI, cache, OPTL(&e, NULL, NULL, ix), vals, tv_bool(&e, false), cache) == CML_OK);
    CHECK(ti_equal("kv cache", T(cache), ref, 64));
    tv_free(&e);
}

/* Duplicates accumulate every contribution: [8, 0, 3, 0, 4]. */
static void test_duplicates(void) {
    static tenv e;
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 5), *o = TS(&e, CML_DTYPE_FLOAT32, 5);
    cml_evalue *v = TS(&e, CML_DTYPE_FLOAT32, 5);
    ti_set_all(v, (double[]){1, 2, 3, 4, 5});
    CHECK(CALL(&e, IPO, x, OPTL(&e, IDX(&e, 0, 0, 2, -1, 0)), v, tv_bool(&e, true), o, o) == CML_OK);
    CHECK(ti_equal("dup acc", T(o), (double[]){8, 0, 3, 0, 4}, 5));
    /* a scalar value broadcasts to every indexed element */
    cml_evalue *one = tv_tensor(&e, CML_DTYPE_FLOAT32, 0, S(0));
    F(one)[0] = 2.5f;
    CHECK(CALL(&e, IPO, x, OPTL(&e, IDX(&e, 1, 1, -2)), one, tv_bool(&e, true), o, o) == CML_OK);
    CHECK(ti_equal("scalar acc", T(o), (double[]){0, 5, 0, 2.5, 0}, 5));
    /* all-None list: out = self + values (broadcast) */
    cml_evalue *x2 = TS(&e, CML_DTYPE_INT32, 2, 2), *o2 = TS(&e, CML_DTYPE_INT32, 2, 2);
    cml_evalue *v2 = TS(&e, CML_DTYPE_INT32, 2);
    ti_set_all(x2, (double[]){1, 2, 3, 4});
    ti_set_all(v2, (double[]){10, 20});
    CHECK(CALL(&e, IPO, x2, OPTL(&e, NULL), v2, tv_bool(&e, true), o2, o2) == CML_OK);
    CHECK(ti_equal("all none", T(o2), (double[]){11, 22, 13, 24}, 4));
    /* 0-D self with an empty list: out = self + value */
    cml_evalue *s0 = tv_tensor(&e, CML_DTYPE_INT64, 0, S(0)), *o0 = tv_tensor(&e, CML_DTYPE_INT64, 0, S(0));
    cml_evalue *v0 = tv_tensor(&e, CML_DTYPE_INT64, 0, S(0));
    ti_set_all(s0, (double[]){40});
    ti_set_all(v0, (double[]){2});
    CHECK(CALL(&e, IPO, s0, ti_opt_list(&e, 0, NULL), v0, tv_bool(&e, true), o0, o0) == CML_OK);
    CHECK(ti_equal("0-D", T(o0), (double[]){42}, 1));
    tv_free(&e);
}

/* torch 2.13 eager constants (see the file comment). */
static void test_torch_cases(void) {
    static tenv e;
    tv_init(&e);
    /* A: non-adjacent [i0[2,1], None, i2[3]] -> x [2,3,3], values [3], accumulate */
    cml_evalue *s = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4), *o = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4);
    ti_iota(s);
    cml_evalue *i0 = TS(&e, CML_DTYPE_INT64, 2, 1);
    ti_set_all(i0, (double[]){0, -1});
    cml_evalue *v = TS(&e, CML_DTYPE_FLOAT32, 3);
    ti_set_all(v, (double[]){100, 200, 300});
    CHECK(CALL(&e, IPO, s, OPTL(&e, i0, NULL, IDX(&e, 1, 3, -2)), v, tv_bool(&e, true), o, o) == CML_OK);
    CHECK(ti_equal("torch A", T(o), (double[]){0, 101, 102, 103, 4, 205, 206, 207, 8, 309, 310, 311,
                                              12, 113, 114, 115, 16, 217, 218, 219, 20, 321, 322, 323}, 24));
    /* B: a 2-D bool mask over all dims, values [5] */
    cml_evalue *s2 = TS(&e, CML_DTYPE_INT64, 3, 4), *o2 = TS(&e, CML_DTYPE_INT64, 3, 4);
    ti_iota(s2);
    cml_evalue *m = TS(&e, CML_DTYPE_BOOL, 3, 4);
    ti_set_all(m, (double[]){1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1});
    cml_evalue *v2 = TS(&e, CML_DTYPE_INT64, 5);
    ti_set_all(v2, (double[]){-1, -2, -3, -4, -5});
    CHECK(CALL(&e, IPO, s2, OPTL(&e, m), v2, tv_bool(&e, false), o2, o2) == CML_OK);
    CHECK(ti_equal("torch B", T(o2), (double[]){-1, 1, 2, -2, 4, -3, -4, 7, 8, 9, 10, -5}, 12));
    /* B2: a 1-D mask on dim 0, values [2] broadcast over the rows */
    cml_evalue *s3 = TS(&e, CML_DTYPE_FLOAT32, 3, 2), *o3 = TS(&e, CML_DTYPE_FLOAT32, 3, 2);
    ti_iota(s3);
    cml_evalue *m3 = TS(&e, CML_DTYPE_BOOL, 3);
    ti_set_all(m3, (double[]){1, 0, 1});
    cml_evalue *v3 = TS(&e, CML_DTYPE_FLOAT32, 2);
    ti_set_all(v3, (double[]){7, 8});
    CHECK(CALL(&e, IPO, s3, OPTL(&e, m3), v3, tv_bool(&e, true), o3, o3) == CML_OK);
    CHECK(ti_equal("torch B2", T(o3), (double[]){7, 9, 2, 3, 11, 13}, 6));
    /* C: [None, idx[2,2]] (adjacent, in the middle), values [2,1,3] */
    cml_evalue *s4 = TS(&e, CML_DTYPE_FLOAT32, 2, 4, 3), *o4 = TS(&e, CML_DTYPE_FLOAT32, 2, 4, 3);
    ti_iota(s4);
    cml_evalue *ix4 = TS(&e, CML_DTYPE_INT32, 2, 2);
    ti_set_all(ix4, (double[]){1, -1, 0, 2});
    cml_evalue *v4 = TS(&e, CML_DTYPE_FLOAT32, 2, 1, 3);
    ti_set_all(v4, (double[]){10, 20, 30, 40, 50, 60});
    CHECK(CALL(&e, IPO, s4, OPTL(&e, NULL, ix4), v4, tv_bool(&e, false), o4, o4) == CML_OK);
    double c[24];
    for (int b = 0; b < 2; b++)
        for (int r = 0; r < 4; r++)
            for (int k = 0; k < 3; k++) c[(b * 4 + r) * 3 + k] = (r % 2 ? 10 : 40) + 10 * k;
    CHECK(ti_equal("torch C", T(o4), c, 24));
    /* D: [mask[2,3], idx[1]] with accumulate: 1003 at [0,0,3], 2011 at [0,2,3], 3019 at [1,1,3] */
    cml_evalue *s5 = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4), *o5 = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4);
    ti_iota(s5);
    cml_evalue *m5 = TS(&e, CML_DTYPE_BOOL, 2, 3);
    ti_set_all(m5, (double[]){1, 0, 1, 0, 1, 0});
    cml_evalue *v5 = TS(&e, CML_DTYPE_FLOAT32, 3);
    ti_set_all(v5, (double[]){1000, 2000, 3000});
    CHECK(CALL(&e, IPO, s5, OPTL(&e, m5, IDX(&e, -1)), v5, tv_bool(&e, true), o5, o5) == CML_OK);
    double d[24];
    for (int i = 0; i < 24; i++) d[i] = i;
    d[3] += 1000;
    d[11] += 2000;
    d[19] += 3000;
    CHECK(ti_equal("torch D", T(o5), d, 24));
    tv_free(&e);
}

static void test_empty_and_bad(void) {
    static tenv e;
    tv_init(&e);
    /* empty index: nothing written */
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 3, 2), *o = TS(&e, CML_DTYPE_FLOAT32, 3, 2);
    ti_iota(x);
    cml_evalue *ie = TS(&e, CML_DTYPE_INT64, 0), *ve = TS(&e, CML_DTYPE_FLOAT32, 0, 2);
    CHECK(CALL(&e, IPO, x, OPTL(&e, ie), ve, tv_bool(&e, false), o, o) == CML_OK);
    CHECK(ti_equal("empty idx", T(o), (double[]){0, 1, 2, 3, 4, 5}, 6));
    /* empty self */
    cml_evalue *x0 = TS(&e, CML_DTYPE_FLOAT32, 0, 2), *o0 = TS(&e, CML_DTYPE_FLOAT32, 0, 2);
    CHECK(CALL(&e, IPO, x0, OPTL(&e, ie), ve, tv_bool(&e, false), o0, o0) == CML_OK);
    /* out of range: error names the op, value and bound; self untouched */
    cml_evalue *v = TS(&e, CML_DTYPE_FLOAT32, 2, 2);
    ti_fill(v);
    CHECK(CALL(&e, IPI, x, OPTL(&e, IDX(&e, 0, 3)), v, tv_bool(&e, false), x) == CML_ERR_INVALID_ARG);
    CHECK(ti_msg_has(&e, "aten::index_put_", "index 3 is out of bounds for dim 0 of size 3"));
    CHECK(ti_equal("untouched", T(x), (double[]){0, 1, 2, 3, 4, 5}, 6));
    CHECK(CALL(&e, IPO, x, OPTL(&e, NULL, IDX(&e, 1, -3)), v, tv_bool(&e, true), o, o) == CML_ERR_INVALID_ARG);
    CHECK(ti_msg_has(&e, "aten::index_put.out", "index -3 is out of bounds for dim 1 of size 2"));
    /* values that do not broadcast */
    cml_evalue *v3 = TS(&e, CML_DTYPE_FLOAT32, 3);
    CHECK(CALL(&e, IPO, x, OPTL(&e, IDX(&e, 0, 1)), v3, tv_bool(&e, false), o, o) == CML_ERR_SHAPE);
    /* bad dtypes / arity */
    cml_evalue *fi = TS(&e, CML_DTYPE_FLOAT32, 2);
    CHECK(CALL(&e, IPO, x, OPTL(&e, fi), v, tv_bool(&e, false), o, o) == CML_ERR_UNSUPPORTED);
    cml_evalue *vi = TS(&e, CML_DTYPE_INT32, 2, 2);
    CHECK(CALL(&e, IPO, x, OPTL(&e, IDX(&e, 0, 1)), vi, tv_bool(&e, false), o, o) == CML_ERR_UNSUPPORTED);
    CHECK(CALL(&e, IPO, x, OPTL(&e, IDX(&e, 0), IDX(&e, 0), IDX(&e, 0)), v, tv_bool(&e, false), o, o) ==
          CML_ERR_INVALID_ARG);
    /* a mask whose shape differs from the dims it indexes */
    cml_evalue *mb = TS(&e, CML_DTYPE_BOOL, 2);
    CHECK(CALL(&e, IPO, x, OPTL(&e, mb), v, tv_bool(&e, false), o, o) == CML_ERR_SHAPE);
    tv_free(&e);
}

int main(void) {
    test_rows_all_dtypes();
    test_kv_cache();
    test_duplicates();
    test_torch_cases();
    test_empty_and_bad();
    TEST_MAIN_END();
}
