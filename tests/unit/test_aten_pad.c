/* reflection_pad{1,2,3}d / replication_pad{1,2,3}d against a naive reference
 * (mirror without repeating the edge / clamp to the edge) over every dtype,
 * both input ranks, random and negative (cropping) pads; rejection. */
#include "test_aten_num_util.h"

static const cml_dtype PAD_DTS[] = {CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT64, CML_DTYPE_FLOAT16,
                                    CML_DTYPE_BFLOAT16, CML_DTYPE_UINT8, CML_DTYPE_INT8,
                                    CML_DTYPE_INT16, CML_DTYPE_INT32, CML_DTYPE_INT64,
                                    CML_DTYPE_BOOL};

static int64_t ref_src(bool reflect, int64_t j, int64_t size, int64_t pad) {
    int64_t i = j - pad;
    if (reflect) {
        if (i < 0) i = -i;
        if (i >= size) i = 2 * (size - 1) - i;
        return i;
    }
    return i < 0 ? 0 : i >= size ? size - 1 : i;
}

static void run_pad(int n, bool reflect, int it) {
    static tenv e;
    tv_init(&e);
    cml_dtype dt = PAD_DTS[it % TN_COUNT(PAD_DTS)];
    int32_t rank = n + 1 + (int32_t)(it % 2);
    int64_t sz[5] = {0}, osz[5], pad[6];
    for (int32_t d = 0; d < rank; d++) sz[d] = tv_randint(1, 5);
    memcpy(osz, sz, sizeof sz);
    for (int k = 0; k < n; k++) {
        int64_t size = sz[rank - 1 - k];
        for (int s = 0; s < 2; s++) {
            int64_t lo = -size / 2, hi = reflect ? size - 1 : 4;
            pad[2 * k + s] = tv_randint(lo, hi);
        }
        osz[rank - 1 - k] += pad[2 * k] + pad[2 * k + 1];
    }
    int64_t numel = 1, onumel = 1;
    for (int32_t d = 0; d < rank; d++) {
        numel *= sz[d];
        onumel *= osz[d];
    }
    double *xv = malloc(sizeof(double) * (size_t)numel), *ref = malloc(sizeof(double) * (size_t)(onumel + 1));
    for (int64_t i = 0; i < numel; i++) xv[i] = dt == CML_DTYPE_BOOL ? (double)(i % 3 == 1) : (double)(i % 120) - (dt == CML_DTYPE_UINT8 ? 0 : 60);
    for (int64_t o = 0; o < onumel; o++) {
        int64_t idx[5];
        tv_unravel(o, rank, osz, idx);
        for (int k = 0; k < n; k++) {
            int32_t d = rank - 1 - k;
            idx[d] = ref_src(reflect, idx[d], sz[d], pad[2 * k]);
        }
        int64_t src = 0;
        for (int32_t d = 0; d < rank; d++) src = src * sz[d] + idx[d];
        ref[o] = xv[src];
    }
    cml_evalue *x = tn_tensor(&e, dt, rank, sz, xv);
    cml_evalue *o = tn_out(&e, dt, rank, onumel + 1);
    char name[64];
    snprintf(name, sizeof name, "aten::%s_pad%dd.out", reflect ? "reflection" : "replication", n);
    cml_status st = CALL(&e, name, x, tv_int_list(&e, (uint32_t)(2 * n), pad), o, o);
    CHECK_MSG(st == CML_OK, "%s: %s", name, e.err.msg);
    CHECK_MSG(tv_shape_is(T(o), rank, osz), "%s shape", name);
    CHECK_MSG(tn_check(name, T(o), ref, onumel, 0), "it %d", it);
    free(xv);
    free(ref);
    tv_free(&e);
}

/* A torch-checked case: F.pad(arange(5), (3, 2), 'reflect') and 'replicate'. */
static void test_pad_known(void) {
    static tenv e;
    tv_init(&e);
    cml_evalue *x = tn_tensor(&e, CML_DTYPE_FLOAT32, 2, S(1, 5), (double[]){0, 1, 2, 3, 4});
    cml_evalue *o = tn_out(&e, CML_DTYPE_FLOAT32, 2, 16);
    CHECK(CALL(&e, "aten::reflection_pad1d.out", x, IL(&e, 3, 2), o, o) == CML_OK);
    CHECK(tn_check("reflect", T(o), (double[]){3, 2, 1, 0, 1, 2, 3, 4, 3, 2}, 10, 0));
    CHECK(CALL(&e, "aten::replication_pad1d.out", x, IL(&e, 3, 2), o, o) == CML_OK);
    CHECK(tn_check("replicate", T(o), (double[]){0, 0, 0, 0, 1, 2, 3, 4, 4, 4}, 10, 0));
    /* cropping on both sides */
    CHECK(CALL(&e, "aten::replication_pad1d.out", x, IL(&e, -1, -2), o, o) == CML_OK);
    CHECK(tn_check("crop", T(o), (double[]){1, 2}, 2, 0));
    tv_free(&e);
}

static void test_pad_reject(void) {
    static tenv e;
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4), *o = tn_out(&e, CML_DTYPE_FLOAT32, 3, 256);
    const char *r2 = "aten::reflection_pad2d.out";
    /* pad must be < the dim size for reflection */
    CHECK(PREP(&e, r2, x, IL(&e, 4, 0, 0, 0), o, o) == CML_ERR_INVALID_ARG);
    CHECK(tn_msg_names(&e, r2));
    CHECK(PREP(&e, r2, x, IL(&e, 0, 0, 0, 3), o, o) == CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, r2, x, IL(&e, 1, 1, 1), o, o) == CML_ERR_INVALID_ARG);
    /* negative size */
    CHECK(PREP(&e, "aten::replication_pad1d.out", x, IL(&e, -3, -2), o, o) == CML_ERR_INVALID_ARG);
    /* rank: 2d needs rank 3 or 4 */
    cml_evalue *x2 = TS(&e, CML_DTYPE_FLOAT32, 3, 4);
    CHECK(PREP(&e, "aten::replication_pad2d.out", x2, IL(&e, 1, 1, 1, 1), o, o) == CML_ERR_INVALID_ARG);
    CHECK(tn_msg_names(&e, "aten::replication_pad2d.out"));
    cml_evalue *x6 = TS(&e, CML_DTYPE_FLOAT32, 1, 1, 1, 2, 3, 4);
    CHECK(PREP(&e, "aten::replication_pad3d.out", x6, IL(&e, 1, 1, 1, 1, 1, 1), o, o) == CML_ERR_INVALID_ARG);
    /* dtype mismatch */
    cml_evalue *oi = tn_out(&e, CML_DTYPE_INT32, 3, 256);
    CHECK(PREP(&e, "aten::replication_pad1d.out", x, IL(&e, 1, 1), oi, oi) == CML_ERR_UNSUPPORTED);
    /* replication of an empty dim into a non-empty one fails at run */
    cml_evalue *xe = tv_tensor(&e, CML_DTYPE_FLOAT32, 2, S(2, 0));
    CHECK(CALL(&e, "aten::replication_pad1d.out", xe, IL(&e, 1, 1), o, o) == CML_ERR_SHAPE);
    /* output too small */
    cml_evalue *os = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4);
    CHECK(CALL(&e, "aten::replication_pad1d.out", x, IL(&e, 1, 1), os, os) == CML_ERR_SHAPE);
    tv_free(&e);
}

int main(void) {
    for (int it = 0; it < 40; it++)
        for (int n = 1; n <= 3; n++) {
            run_pad(n, true, it);
            run_pad(n, false, it);
        }
    test_pad_known();
    test_pad_reject();
    TEST_MAIN_END();
}
