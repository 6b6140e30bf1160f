/* gather.out, scatter.src_out, scatter.value_out, scatter_add.out: every
 * dtype and every dim (negative too) against naive 3-D loops, index smaller
 * than self/src, duplicates (scatter_add sums them), empty index, 0-D
 * tensors, and bad input (negative or too large index, rank mismatch, index
 * larger than self, non-int64 index). */
#include "test_aten_index_util.h"

#define D0 3
#define D1 4
#define D2 5

static const int64_t ISZ[3] = {2, 3, 4};

/* The self position index element (i, j, k) addresses along dim. */
static int64_t self_pos(int dim, const cml_tensor *ix, int i, int j, int k) {
    int64_t v = (int64_t)ti_get(ix, (i * ISZ[1] + j) * ISZ[2] + k);
    int64_t c[3] = {i, j, k};
    c[dim] = v;
    return (c[0] * D1 + c[1]) * D2 + c[2];
}

static void check_kind(tenv *e, cml_dtype dt, int dim, int kind) {
    static const char *names[] = {"aten::gather.out", "aten::scatter.src_out",
                                  "aten::scatter.value_out", "aten::scatter_add.out"};
    int64_t size[3] = {D0, D1, D2};
    cml_evalue *x = TS(e, dt, D0, D1, D2), *src = TS(e, dt, D0, D1, D2);
    cml_evalue *ix = TS(e, CML_DTYPE_INT64, 2, 3, 4);
    ti_fill(x);
    ti_fill(src);
    for (int i = 0; i < 24; i++) ti_set(T(ix), i, (double)tv_randint(0, size[dim] - 1));
    double ref[D0 * D1 * D2];
    int64_t n = kind == 0 ? 24 : D0 * D1 * D2;
    for (int i = 0; i < D0 * D1 * D2; i++) ref[i] = ti_get(T(x), i);
    double value = dt == CML_DTYPE_BOOL ? 1 : 3;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) {
                int64_t p = self_pos(dim, T(ix), i, j, k), q = (i * D1 + j) * D2 + k;
                int64_t flat = (i * 3 + j) * 4 + k;
                if (kind == 0) ref[flat] = ti_get(T(x), p);
                else if (kind == 1) ref[p] = ti_get(T(src), q);
                else if (kind == 2) ref[p] = value;
                else ref[p] = ti_add(dt, ref[p], ti_get(T(src), q));
            }
    cml_evalue *o = kind == 0 ? TS(e, dt, 2, 3, 4) : TS(e, dt, D0, D1, D2);
    cml_evalue *d = tv_int(e, dim == 2 ? -1 : dim);
    cml_evalue *a3 = kind == 0 ? tv_bool(e, false) : kind == 2 ? tv_int(e, (int64_t)value) : src;
    cml_status st = CALL(e, names[kind], x, d, ix, a3, o, o);
    CHECK_MSG(st == CML_OK, "%s %s: %s", names[kind], cml_dtype_name(dt), e->err.msg);
    CHECK_MSG(ti_equal(names[kind], T(o), ref, n), "dim %d", dim);
}

static void test_all(void) {
    static tenv e;
    for (int di = 0; di < N_ALL_DTYPES; di++)
        for (int dim = 0; dim < 3; dim++)
            for (int kind = 0; kind < 4; kind++) {
                tv_init(&e);
                check_kind(&e, k_all_dtypes[di], dim, kind);
                tv_free(&e);
            }
}

static void test_edges(void) {
    static tenv e;
    tv_init(&e);
    /* scatter_add duplicates: [1, 2, 3] to positions [0, 0, 2] of zeros(4) */
    cml_evalue *z = TS(&e, CML_DTYPE_FLOAT32, 4), *o = TS(&e, CML_DTYPE_FLOAT32, 4);
    cml_evalue *src = TS(&e, CML_DTYPE_FLOAT32, 3);
    ti_set_all(src, (double[]){1, 2, 3});
    CHECK(CALL(&e, "aten::scatter_add.out", z, tv_int(&e, 0), IDX(&e, 0, 0, 2), src, o, o) == CML_OK);
    CHECK(ti_equal("dup add", T(o), (double[]){3, 0, 3, 0}, 4));
    /* scatter.value_out with a double into float, scatter with last-wins */
    CHECK(CALL(&e, "aten::scatter.value_out", z, tv_int(&e, 0), IDX(&e, 3, 1), tv_double(&e, -1.5), o, o) == CML_OK);
    CHECK(ti_equal("value", T(o), (double[]){0, -1.5, 0, -1.5}, 4));
    CHECK(CALL(&e, "aten::scatter.src_out", z, tv_int(&e, 0), IDX(&e, 2, 2), src, o, o) == CML_OK);
    CHECK(ti_equal("last wins", T(o), (double[]){0, 0, 2, 0}, 4));
    /* empty index: out = self; gather of an empty index gives an empty out */
    cml_evalue *ie = TS(&e, CML_DTYPE_INT64, 0);
    ti_set_all(z, (double[]){5, 6, 7, 8});
    CHECK(CALL(&e, "aten::scatter.src_out", z, tv_int(&e, 0), ie, src, o, o) == CML_OK);
    CHECK(ti_equal("empty idx", T(o), (double[]){5, 6, 7, 8}, 4));
    cml_evalue *og = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 1, 4);
    CHECK(CALL(&e, "aten::gather.out", z, tv_int(&e, 0), ie, tv_bool(&e, false), og, og) == CML_OK);
    CHECK(cml_tensor_numel(T(og)) == 0);
    /* 0-D self and index */
    cml_evalue *s0 = tv_tensor(&e, CML_DTYPE_INT32, 0, S(0)), *i0 = tv_tensor(&e, CML_DTYPE_INT64, 0, S(0));
    cml_evalue *o0 = tv_tensor(&e, CML_DTYPE_INT32, 0, S(0));
    ((int32_t *)T(s0)->data)[0] = 42;
    CHECK(CALL(&e, "aten::gather.out", s0, tv_int(&e, -1), i0, tv_bool(&e, false), o0, o0) == CML_OK);
    CHECK(((int32_t *)T(o0)->data)[0] == 42);
    /* bad input */
    CHECK(CALL(&e, "aten::gather.out", z, tv_int(&e, 0), IDX(&e, 1, 4), tv_bool(&e, false), og, og) == CML_ERR_INVALID_ARG);
    CHECK(ti_msg_has(&e, "aten::gather.out", "index 4 is out of bounds for dim 0 of size 4"));
    ti_set_all(z, (double[]){5, 6, 7, 8});
    CHECK(CALL(&e, "aten::scatter_add.out", z, tv_int(&e, 0), IDX(&e, -1), src, z, z) == CML_ERR_INVALID_ARG);
    CHECK(ti_msg_has(&e, "aten::scatter_add.out", "index -1 is out of bounds"));
    CHECK(ti_equal("untouched", T(z), (double[]){5, 6, 7, 8}, 4));
    cml_evalue *m = TS(&e, CML_DTYPE_FLOAT32, 2, 2), *i2 = TS(&e, CML_DTYPE_INT64, 3, 1);
    cml_evalue *o2 = TS(&e, CML_DTYPE_FLOAT32, 2, 2), *og2 = TS(&e, CML_DTYPE_FLOAT32, 3, 1);
    CHECK(CALL(&e, "aten::gather.out", m, tv_int(&e, 1), i2, tv_bool(&e, false), og2, og2) == CML_ERR_SHAPE);
    CHECK(CALL(&e, "aten::scatter.src_out", m, tv_int(&e, 0), IDX(&e, 0), src, o2, o2) == CML_ERR_SHAPE);
    cml_evalue *i32 = ti_idx(&e, CML_DTYPE_INT32, 1, S(0));
    CHECK(CALL(&e, "aten::gather.out", z, tv_int(&e, 0), i32, tv_bool(&e, false), og, og) == CML_ERR_UNSUPPORTED);
    CHECK(CALL(&e, "aten::gather.out", z, tv_int(&e, 1), IDX(&e, 0), tv_bool(&e, false), og, og) == CML_ERR_INVALID_ARG);
    cml_evalue *si = TS(&e, CML_DTYPE_INT32, 4);
    CHECK(CALL(&e, "aten::scatter.src_out", z, tv_int(&e, 0), IDX(&e, 0), si, o, o) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

int main(void) {
    test_all();
    test_edges();
    TEST_MAIN_END();
}
