/* aten::sum.IntList_out over integer and Bool inputs (upstream accepts any
 * real or Bool dtype): Bool -> int64 counts (the KV-cache mask pattern),
 * integer outputs wrap like the output type, a Bool output is "any",
 * integer input to a float output, non-adjacent dims, keepdim, dtype arg. */
#include "test_aten_ew_util.h"

static tenv E;

/* Naive sum of x [2, 3, 4] over the dims in mask, as int64 (wrapping). */
static void ref_sum(const cml_tensor *x, const bool *mask, bool as_bool, int64_t *out, double *fsum,
                    double *fabs_sum, int64_t *n) {
    int64_t osz[3];
    for (int d = 0; d < 3; d++) osz[d] = mask[d] ? 1 : x->sizes[d];
    *n = osz[0] * osz[1] * osz[2];
    for (int64_t k = 0; k < *n; k++) out[k] = 0, fsum[k] = 0, fabs_sum[k] = 0;
    for (int64_t i = 0; i < 24; i++) {
        int64_t idx[3];
        tv_unravel(i, 3, x->sizes, idx);
        int64_t o = 0;
        for (int d = 0; d < 3; d++) o = o * osz[d] + (mask[d] ? 0 : idx[d]);
        int64_t v = cml_ew_geti(x, i);
        if (as_bool) v = v != 0;
        out[o] = (int64_t)((uint64_t)out[o] + (uint64_t)v);
        fsum[o] += (double)(float)v; /* each element converted to float, as the kernel does */
        fabs_sum[o] += fabs((double)v);
    }
}

static void test_dtypes(void) {
    static const cml_dtype ins[] = {CML_DTYPE_BOOL, CML_DTYPE_UINT8, CML_DTYPE_INT8, CML_DTYPE_INT16,
                                    CML_DTYPE_INT32, CML_DTYPE_INT64};
    static const cml_dtype outs[] = {CML_DTYPE_INT64, CML_DTYPE_INT32, CML_DTYPE_INT8, CML_DTYPE_BOOL,
                                     CML_DTYPE_FLOAT32};
    static const bool masks[4][3] = {{0, 0, 1}, {1, 0, 1}, {1, 1, 1}, {0, 1, 0}};
    for (int i = 0; i < 6; i++)
        for (int o = 0; o < 5; o++)
            for (int m = 0; m < 4; m++) {
                tv_free(&E);
                tv_init(&E);
                cml_evalue *x = TS(&E, ins[i], 2, 3, 4);
                cml_ew_fill(T(x), 120.0, true);
                int64_t dims[3];
                uint32_t nd = 0;
                for (int d = 0; d < 3; d++)
                    if (masks[m][d]) dims[nd++] = d - (m == 1 ? 3 : 0); /* negative dims too */
                cml_evalue *dl = tv_int_list(&E, nd, dims);
                cml_evalue *y = cml_ew_tensor(&E, outs[o], 3, S(2, 3, 4));
                cml_evalue *dt = m == 3 ? tv_int(&E, outs[o]) : tv_null(&E);
                cml_status st = CALL(&E, "aten::sum.IntList_out", x, dl, tv_bool(&E, true), dt, y, y);
                int64_t want[24], n;
                double fwant[24], fmag[24];
                ref_sum(T(x), masks[m], outs[o] == CML_DTYPE_BOOL, want, fwant, fmag, &n);
                bool ok = st == CML_OK && cml_tensor_numel(T(y)) == n && T(y)->rank == 3;
                for (int64_t k = 0; ok && k < n; k++) {
                    if (outs[o] == CML_DTYPE_FLOAT32) /* int input converted, summed in fp32 */
                        ok = fabs(cml_ew_getd(T(y), k) - fwant[k]) <= 1e-6 * fmag[k] + 1e-3;
                    else
                        ok = cml_ew_geti(T(y), k) == cml_ew_t_wrap(outs[o], want[k]);
                }
                CHECK_MSG(ok, "sum %s -> %s mask %d: %s", cml_dtype_name(ins[i]), cml_dtype_name(outs[o]), m,
                          E.err.msg);
            }
}

static void test_mask_count(void) {
    /* The KV-cache pattern: a bool mask [1, 8] summed over the last dim -> int64 [1]. */
    tv_free(&E);
    tv_init(&E);
    cml_evalue *mask = TS(&E, CML_DTYPE_BOOL, 1, 8), *y = TS(&E, CML_DTYPE_INT64, 1);
    memcpy(T(mask)->data, (uint8_t[]){1, 1, 1, 0, 0, 1, 0, 0}, 8);
    CHECK(CALL(&E, "aten::sum.IntList_out", mask, IL(&E, -1), tv_bool(&E, false), tv_null(&E), y, y) == CML_OK);
    CHECK(((int64_t *)T(y)->data)[0] == 4);
    /* int8 wraps: 100 + 100 = -56 */
    cml_evalue *x8 = TS(&E, CML_DTYPE_INT8, 2), *y8 = tv_tensor(&E, CML_DTYPE_INT8, 0, NULL);
    memcpy(T(x8)->data, (int8_t[]){100, 100}, 2);
    CHECK(CALL(&E, "aten::sum.IntList_out", x8, tv_null(&E), tv_bool(&E, false), tv_null(&E), y8, y8) == CML_OK);
    CHECK(((int8_t *)T(y8)->data)[0] == -56);
    /* Bool output is "any": -1 + 1 is still true. */
    cml_evalue *xi = TS(&E, CML_DTYPE_INT32, 2), *yb = tv_tensor(&E, CML_DTYPE_BOOL, 0, NULL);
    memcpy(T(xi)->data, (int32_t[]){-1, 1}, 8);
    CHECK(CALL(&E, "aten::sum.IntList_out", xi, IL(&E, 0), tv_bool(&E, false), tv_null(&E), yb, yb) == CML_OK);
    CHECK(((uint8_t *)T(yb)->data)[0] == 1);
    /* Still refused: uint16 input, a dtype argument that is not the output's. */
    cml_evalue *u = TS(&E, CML_DTYPE_UINT16, 2), *yo = tv_tensor(&E, CML_DTYPE_INT64, 0, NULL);
    CHECK(PREP(&E, "aten::sum.IntList_out", u, IL(&E, 0), tv_bool(&E, false), tv_null(&E), yo, yo) ==
              CML_ERR_UNSUPPORTED &&
          strstr(E.err.msg, "aten::sum.IntList_out"));
    CHECK(PREP(&E, "aten::sum.IntList_out", mask, IL(&E, 0), tv_bool(&E, false), tv_int(&E, CML_DTYPE_INT32),
               yo, yo) == CML_ERR_INVALID_ARG);
}

int main(void) {
    tv_init(&E);
    test_dtypes();
    test_mask_count();
    tv_free(&E);
    TEST_MAIN_END();
}
