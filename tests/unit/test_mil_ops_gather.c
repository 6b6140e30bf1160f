/* gather (axis, batch_dims, negative and 16-bit indices, out-of-range
 * errors), gather_along_axis, gather_nd, scatter*, one_hot, fill,
 * fill_like, range_1d, cumsum, topk, argsort, non_zero. */
#include "test_mil_ops_util.h"

static float *iota(int64_t n) {
    float *p = malloc(sizeof(float) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) p[i] = (float)i;
    return p;
}

static cml_status go(tg *t, uint32_t nout) {
    tg_out(t, nout);
    cml_status st = tg_infer(t);
    if (st == CML_OK) st = tg_run(t);
    return st;
}

static void test_gather(void) {
    /* x [3, 4, 5]; every axis; int32 / int16 / uint16 indices; negatives */
    int64_t xs[3] = {3, 4, 5};
    float *x = iota(60);
    for (int axis = -3; axis < 3; axis++) {
        int ax = axis < 0 ? axis + 3 : axis;
        int64_t D = xs[ax];
        for (int kind = 0; kind < 3; kind++) {
            int64_t is[2] = {2, 3};
            int32_t i32[6];
            int16_t i16[6];
            uint16_t u16[6];
            for (int i = 0; i < 6; i++) {
                i32[i] = tg_randi((int)(kind == 2 ? 0 : -D), (int)D - 1);
                i16[i] = (int16_t)i32[i], u16[i] = (uint16_t)i32[i];
            }
            cml_dtype dt = kind == 0 ? CML_DTYPE_INT32 : kind == 1 ? CML_DTYPE_INT16 : CML_DTYPE_UINT16;
            const void *id = kind == 0 ? (const void *)i32 : kind == 1 ? (const void *)i16 : (const void *)u16;
            tg t;
            tg_init(&t, "gather", 16);
            tg_param(&t, "x", tg_f32(&t, "x", 3, xs, x, false));
            tg_param(&t, "indices", tg_value(&t, "i", dt, false, 2, is, id, false));
            tg_param(&t, "axis", tg_scalar_i(&t, "axis", axis));
            cml_status st = go(&t, 1);
            CHECK_MSG(st == CML_OK, "gather: %s", t.err.msg);
            int64_t os[4];
            int32_t k = 0;
            for (int i = 0; i < ax; i++) os[k++] = xs[i];
            os[k++] = 2, os[k++] = 3;
            for (int i = ax + 1; i < 3; i++) os[k++] = xs[i];
            CHECK(tg_shape_is(tg_o(&t, 0), 4, os));
            int bad = 0;
            for (int64_t i = 0; st == CML_OK && i < 6 * 60 / D; i++) {
                int64_t oi[4], xi[3];
                tg_unravel(i, 4, os, oi);
                for (int d = 0, j = 0; d < 3; d++) {
                    if (d == ax) {
                        int64_t v = i32[oi[j] * 3 + oi[j + 1]];
                        xi[d] = v < 0 ? v + D : v;
                        j += 2;
                    } else {
                        xi[d] = oi[j++];
                    }
                }
                if (tg_of(&t, 0)[i] != x[(xi[0] * 4 + xi[1]) * 5 + xi[2]]) bad++;
            }
            CHECK_MSG(bad == 0, "gather axis %d kind %d", axis, kind);
            tg_free(&t);
        }
    }
    /* batch_dims = 1: x [3, 4, 5], indices [3, 2], axis 1 -> [3, 2, 5] */
    int32_t bi[6] = {0, 3, 1, -1, 2, 2};
    int64_t bs[2] = {3, 2};
    tg t;
    tg_init(&t, "gather", 16);
    tg_param(&t, "x", tg_f32(&t, "x", 3, xs, x, false));
    tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_INT32, false, 2, bs, bi, false));
    tg_param(&t, "axis", tg_scalar_i(&t, "axis", 1));
    tg_param(&t, "batch_dims", tg_scalar_i(&t, "bd", 1));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 3, (int64_t[]){3, 2, 5}));
    int bad = 0;
    for (int64_t b = 0; b < 3; b++)
        for (int64_t j = 0; j < 2; j++)
            for (int64_t c = 0; c < 5; c++) {
                int64_t v = bi[b * 2 + j] < 0 ? bi[b * 2 + j] + 4 : bi[b * 2 + j];
                if (tg_of(&t, 0)[(b * 2 + j) * 5 + c] != x[(b * 4 + v) * 5 + c]) bad++;
            }
    CHECK(bad == 0);
    tg_free(&t);
    /* embedding-style: out-of-range index fails at run with a clean message */
    int32_t oob[3] = {0, 4, 1};
    int64_t s3 = 3, es[2] = {4, 5};
    tg_init(&t, "gather", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 2, es, x, true));
    tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_INT32, false, 1, &s3, oob, false));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_OK);
    CHECK(tg_run(&t) == CML_ERR_INVALID_ARG);
    CHECK(strstr(t.err.msg, "index 4") != NULL);
    tg_free(&t);
    oob[1] = -5;
    tg_init(&t, "gather", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 2, es, x, true));
    tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_INT32, false, 1, &s3, oob, false));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_ERR_INVALID_ARG);
    tg_free(&t);
    free(x);
}

static void test_gather_along_nd(void) {
    int64_t xs[2] = {3, 4};
    float *x = iota(12);
    /* torch.gather(x, 1, idx) with idx [3, 2] */
    int32_t idx[6] = {0, 3, -1, 1, 2, 2};
    int64_t is[2] = {3, 2};
    tg t;
    tg_init(&t, "gather_along_axis", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 2, xs, x, false));
    tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_INT32, false, 2, is, idx, false));
    tg_param(&t, "axis", tg_scalar_i(&t, "axis", -1));
    CHECK(go(&t, 1) == CML_OK);
    float want[6] = {0, 3, 7, 5, 10, 10};
    for (int i = 0; i < 6; i++) CHECK(tg_of(&t, 0)[i] == want[i]);
    tg_free(&t);
    /* gather_nd: indices [2, 2] -> scalars; [2, 1] -> rows */
    int32_t nd[4] = {2, 1, 0, -1};
    int64_t ns[2] = {2, 2};
    tg_init(&t, "gather_nd", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 2, xs, x, false));
    tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_INT32, false, 2, ns, nd, false));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 1, (int64_t[]){2}));
    CHECK(tg_of(&t, 0)[0] == 9 && tg_of(&t, 0)[1] == 3);
    tg_free(&t);
    int32_t rows[2] = {2, 0};
    int64_t rs[2] = {2, 1};
    tg_init(&t, "gather_nd", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 2, xs, x, false));
    tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_INT32, false, 2, rs, rows, false));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 2, (int64_t[]){2, 4}));
    CHECK(tg_of(&t, 0)[0] == 8 && tg_of(&t, 0)[7] == 3);
    tg_free(&t);
    /* batch_dims = 1: x [3, 4], indices [3, 1] -> [3] */
    int32_t bn[3] = {1, 2, 3};
    int64_t bns[2] = {3, 1};
    tg_init(&t, "gather_nd", 16);
    tg_param(&t, "x", tg_f32(&t, "x", 2, xs, x, false));
    tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_INT32, false, 2, bns, bn, false));
    tg_param(&t, "batch_dims", tg_scalar_i(&t, "bd", 1));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_of(&t, 0)[0] == 1 && tg_of(&t, 0)[1] == 6 && tg_of(&t, 0)[2] == 11);
    tg_free(&t);
    free(x);
}

static void test_scatter(void) {
    int64_t ds[2] = {2, 3};
    float data[6] = {1, 2, 3, 4, 5, 6};
    /* the coremltools docstring example: indices [1, 0], updates, mode add -> [[9,11,13],[9,11,13]] */
    float upd[6] = {5, 6, 7, 8, 9, 10};
    int32_t idx[2] = {1, 0};
    int64_t s2 = 2;
    tg t;
    tg_init(&t, "scatter", 15);
    tg_param(&t, "data", tg_f32(&t, "d", 2, ds, data, false));
    tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_INT32, false, 1, &s2, idx, false));
    tg_param(&t, "updates", tg_f32(&t, "u", 2, ds, upd, false));
    tg_param(&t, "mode", tg_str(&t, "m", "add"));
    CHECK(go(&t, 1) == CML_OK);
    float want[6] = {9, 11, 13, 9, 11, 13};
    for (int i = 0; i < 6; i++) CHECK(tg_of(&t, 0)[i] == want[i]);
    tg_free(&t);
    /* modes over scatter_along_axis (axis 1) */
    const char *modes[] = {"update", "add", "sub", "mul", "div", "max", "min"};
    int32_t ai[6] = {2, 0, 2, 1, 1, -1};
    float au[6] = {10, 20, 30, 40, 50, 60};
    for (int m = 0; m < 7; m++) {
        tg_init(&t, "scatter_along_axis", 15);
        tg_param(&t, "data", tg_f32(&t, "d", 2, ds, data, false));
        tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_INT32, false, 2, ds, ai, false));
        tg_param(&t, "updates", tg_f32(&t, "u", 2, ds, au, false));
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", 1));
        tg_param(&t, "mode", tg_str(&t, "m", modes[m]));
        CHECK(go(&t, 1) == CML_OK);
        double ref[6];
        for (int i = 0; i < 6; i++) ref[i] = data[i];
        for (int i = 0; i < 6; i++) {
            int r = i / 3, c = ai[i] < 0 ? ai[i] + 3 : ai[i];
            double *p = &ref[r * 3 + c], v = au[i];
            switch (m) {
            case 0: *p = v; break;
            case 1: *p += v; break;
            case 2: *p -= v; break;
            case 3: *p *= v; break;
            case 4: *p /= v; break;
            case 5: *p = fmax(*p, v); break;
            default: *p = fmin(*p, v); break;
            }
        }
        for (int i = 0; i < 6; i++) CHECK_NEAR(tg_of(&t, 0)[i], ref[i], 1e-5);
        tg_free(&t);
    }
    /* scatter_nd: rows of data [2, 3] */
    int32_t nd[2] = {1, 1};
    int64_t ns[2] = {2, 1};
    tg_init(&t, "scatter_nd", 15);
    tg_param(&t, "data", tg_f32(&t, "d", 2, ds, data, false));
    tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_INT32, false, 2, ns, nd, false));
    tg_param(&t, "updates", tg_f32(&t, "u", 2, ds, upd, false));
    CHECK(go(&t, 1) == CML_OK); /* default mode add */
    float wnd[6] = {1, 2, 3, 4 + 5 + 8, 5 + 6 + 9, 6 + 7 + 10};
    for (int i = 0; i < 6; i++) CHECK(tg_of(&t, 0)[i] == wnd[i]);
    tg_free(&t);
    /* out of range index */
    idx[0] = 2;
    tg_init(&t, "scatter", 15);
    tg_param(&t, "data", tg_f32(&t, "d", 2, ds, data, false));
    tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_INT32, false, 1, &s2, idx, false));
    tg_param(&t, "updates", tg_f32(&t, "u", 2, ds, upd, false));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_ERR_INVALID_ARG);
    tg_free(&t);
}

static void test_one_hot_fill_range(void) {
    int32_t ind[3] = {0, 2, -1};
    int64_t s3 = 3;
    tg t;
    tg_init(&t, "one_hot", 15);
    tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_INT32, false, 1, &s3, ind, false));
    tg_param(&t, "one_hot_vector_size", tg_scalar_i(&t, "n", 4));
    tg_param(&t, "axis", tg_scalar_i(&t, "axis", 0));
    tg_param(&t, "on_value", tg_scalar_f(&t, "on", 5));
    tg_param(&t, "off_value", tg_scalar_f(&t, "off", -1));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 2, (int64_t[]){4, 3}));
    float want[12] = {5, -1, -1, -1, -1, -1, -1, 5, -1, -1, -1, 5};
    for (int i = 0; i < 12; i++) CHECK(tg_of(&t, 0)[i] == want[i]);
    tg_free(&t);
    /* fill / fill_like */
    tg_init(&t, "fill", 15);
    tg_param(&t, "shape", tg_i32s(&t, "s", 2, (int32_t[]){2, 3}));
    tg_param(&t, "value", tg_scalar_f(&t, "v", 1.5f));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 2, (int64_t[]){2, 3}) && tg_of(&t, 0)[5] == 1.5f);
    tg_free(&t);
    tg_init(&t, "fill", 15);
    tg_param(&t, "shape", tg_i32s(&t, "s", 2, (int32_t[]){2, 2}));
    tg_param(&t, "value", tg_scalar_b(&t, "v", true));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->dtype == CML_DTYPE_BOOL && ((uint8_t *)tg_o(&t, 0)->data)[3] == 1);
    tg_free(&t);
    float r[6] = {0};
    int64_t rs[2] = {3, 2};
    tg_init(&t, "fill_like", 16);
    tg_param(&t, "ref_tensor", tg_f32(&t, "r", 2, rs, r, false));
    tg_param(&t, "value", tg_scalar_i(&t, "v", 7));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->dtype == CML_DTYPE_INT32 && ((int32_t *)tg_o(&t, 0)->data)[5] == 7);
    tg_free(&t);
    /* range_1d: float and int, negative step */
    tg_init(&t, "range_1d", 15);
    tg_param(&t, "end", tg_scalar_f(&t, "e", 2.0f));
    tg_param(&t, "start", tg_scalar_f(&t, "s", 0.5f));
    tg_param(&t, "step", tg_scalar_f(&t, "st", 0.5f));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->shape[0] == 3 && tg_of(&t, 0)[2] == 1.5f);
    tg_free(&t);
    tg_init(&t, "range_1d", 15);
    tg_param(&t, "end", tg_scalar_i(&t, "e", -3));
    tg_param(&t, "start", tg_scalar_i(&t, "s", 4));
    tg_param(&t, "step", tg_scalar_i(&t, "st", -2));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->shape[0] == 4 && ((int32_t *)tg_o(&t, 0)->data)[3] == -2);
    tg_free(&t);
}

static void test_cumsum(void) {
    int64_t xs[2] = {2, 3};
    float x[6] = {1, 2, 3, 4, 5, 6};
    struct {
        int axis;
        bool ex, rev;
        float want[6];
    } cs[] = {
        {1, false, false, {1, 3, 6, 4, 9, 15}},
        {-1, true, false, {0, 1, 3, 0, 4, 9}},
        {1, false, true, {6, 5, 3, 15, 11, 6}},
        {1, true, true, {5, 3, 0, 11, 6, 0}},
        {0, false, false, {1, 2, 3, 5, 7, 9}},
    };
    for (int k = 0; k < 5; k++) {
        tg t;
        tg_init(&t, "cumsum", 15);
        tg_param(&t, "x", tg_f32(&t, "x", 2, xs, x, false));
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", cs[k].axis));
        tg_param(&t, "exclusive", tg_scalar_b(&t, "ex", cs[k].ex));
        tg_param(&t, "reverse", tg_scalar_b(&t, "rev", cs[k].rev));
        CHECK(go(&t, 1) == CML_OK);
        for (int i = 0; i < 6; i++) CHECK_MSG(tg_of(&t, 0)[i] == cs[k].want[i], "cumsum %d [%d]", k, i);
        tg_free(&t);
    }
}

static void test_sort(void) {
    int64_t xs[2] = {2, 5};
    float x[10] = {3, 1, 4, 1, 5, -2, 7, 7, 0, -2};
    /* argsort descending (default) and ascending; ties keep index order */
    int32_t want_desc[10] = {4, 2, 0, 1, 3, 1, 2, 3, 0, 4};
    int32_t want_asc[10] = {1, 3, 0, 2, 4, 0, 4, 3, 1, 2};
    for (int asc = 0; asc < 2; asc++) {
        tg t;
        tg_init(&t, "argsort", 15);
        tg_param(&t, "x", tg_f32(&t, "x", 2, xs, x, false));
        tg_param(&t, "ascending", tg_scalar_b(&t, "a", asc));
        CHECK(go(&t, 1) == CML_OK);
        CHECK(tg_o(&t, 0)->dtype == CML_DTYPE_INT32);
        for (int i = 0; i < 10; i++)
            CHECK_MSG(((int32_t *)tg_o(&t, 0)->data)[i] == (asc ? want_asc : want_desc)[i], "argsort asc=%d [%d]", asc, i);
        tg_free(&t);
    }
    /* topk k=2 along axis 1, and along axis 0 ascending */
    tg t;
    tg_init(&t, "topk", 16);
    tg_param(&t, "x", tg_f32(&t, "x", 2, xs, x, false));
    tg_param(&t, "k", tg_scalar_i(&t, "k", 2));
    CHECK(go(&t, 2) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 2, (int64_t[]){2, 2}));
    float wv[4] = {5, 4, 7, 7};
    int32_t wi[4] = {4, 2, 1, 2};
    for (int i = 0; i < 4; i++) {
        CHECK(tg_of(&t, 0)[i] == wv[i]);
        CHECK(((int32_t *)tg_o(&t, 1)->data)[i] == wi[i]);
    }
    tg_free(&t);
    tg_init(&t, "topk", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 2, xs, x, false));
    tg_param(&t, "k", tg_scalar_i(&t, "k", 1));
    tg_param(&t, "axis", tg_scalar_i(&t, "axis", 0));
    tg_param(&t, "ascending", tg_scalar_b(&t, "a", true));
    tg_param(&t, "output_indices_dtype", tg_str(&t, "odt", "uint16"));
    CHECK(go(&t, 2) == CML_OK);
    CHECK(tg_o(&t, 1)->dtype == CML_DTYPE_UINT16);
    float wv0[5] = {-2, 1, 4, 0, -2};
    for (int i = 0; i < 5; i++) CHECK(tg_of(&t, 0)[i] == wv0[i]);
    tg_free(&t);
    /* k larger than the axis */
    tg_init(&t, "topk", 16);
    tg_param(&t, "x", tg_f32(&t, "x", 2, xs, x, false));
    tg_param(&t, "k", tg_scalar_i(&t, "k", 6));
    tg_out(&t, 2);
    CHECK(tg_infer(&t) == CML_ERR_INVALID_ARG);
    tg_free(&t);
    /* non_zero */
    tg_init(&t, "non_zero", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 2, xs, x, false));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 2, (int64_t[]){9, 2}));
    CHECK(((int32_t *)tg_o(&t, 0)->data)[16] == 1 && ((int32_t *)tg_o(&t, 0)->data)[17] == 4);
    tg_free(&t);
}

int main(void) {
    test_gather();
    test_gather_along_nd();
    test_scatter();
    test_one_hot_fill_range();
    test_cumsum();
    test_sort();
    TEST_MAIN_END();
}
