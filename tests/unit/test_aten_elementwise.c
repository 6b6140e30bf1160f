/* Binary elementwise ops and where: randomized broadcasting shapes, dtypes
 * (fp32, fp16, int64, int32, mixed), Scalar forms, alpha, rounding modes,
 * comparisons, dynamic outputs and argument rejection. */
#include <math.h>

#include "test_aten_util.h"

enum { R_ADD, R_SUB, R_MUL, R_DIV, R_FLOORDIV, R_TRUNCDIV, R_MAX, R_MIN, R_POW, R_EQ, R_NE, R_LT,
       R_LE, R_GT, R_GE };

static double ref_op(int op, double a, double b) {
    switch (op) {
    case R_ADD: return a + b;
    case R_SUB: return a - b;
    case R_MUL: return a * b;
    case R_DIV: return a / b;
    case R_FLOORDIV: return floor(a / b);
    case R_TRUNCDIV: return trunc(a / b);
    case R_MAX: return a > b ? a : b;
    case R_MIN: return a < b ? a : b;
    case R_POW: return pow(a, b);
    case R_EQ: return a == b;
    case R_NE: return a != b;
    case R_LT: return a < b;
    case R_LE: return a <= b;
    case R_GT: return a > b;
    case R_GE: return a >= b;
    }
    return NAN;
}

/* Element of t read with broadcasting at the out index. */
static double bget(const cml_tensor *t, int32_t orank, const int64_t *oidx) {
    int64_t flat = 0;
    for (int32_t d = 0; d < t->rank; d++) {
        int64_t i = oidx[d + orank - t->rank];
        if (t->sizes[d] == 1) i = 0;
        flat = flat * t->sizes[d] + i;
    }
    return tv_get(t, flat);
}

static void random_bcast_shapes(int32_t *orank, int64_t *osz, int32_t *ra, int64_t *sa, int32_t *rb,
                                int64_t *sb) {
    *orank = (int32_t)tv_randint(0, 4);
    for (int32_t d = 0; d < *orank; d++) osz[d] = tv_randint(1, 7);
    *ra = *orank - (int32_t)tv_randint(0, *orank > 0 ? 1 : 0);
    *rb = *orank - (int32_t)tv_randint(0, *orank);
    for (int32_t d = 0; d < *ra; d++) sa[d] = (tv_rand() % 3 == 0) ? 1 : osz[d + *orank - *ra];
    for (int32_t d = 0; d < *rb; d++) sb[d] = (tv_rand() % 3 == 0) ? 1 : osz[d + *orank - *rb];
    /* Leading dims neither operand has disappear. */
    int32_t mr = *ra > *rb ? *ra : *rb;
    if (mr < *orank) {
        memmove(osz, osz + (*orank - mr), sizeof(int64_t) * (size_t)mr);
        *orank = mr;
    }
    /* The broadcast result must be osz: fix dims where both became 1. */
    for (int32_t d = 0; d < *orank; d++) {
        int32_t da = d - (*orank - *ra), db = d - (*orank - *rb);
        int64_t a = da >= 0 ? sa[da] : 1, b = db >= 0 ? sb[db] : 1;
        if (a == 1 && b == 1 && osz[d] != 1) {
            if (da >= 0) sa[da] = osz[d];
            else if (db >= 0) sb[db] = osz[d];
            else osz[d] = 1;
        }
    }
}

typedef struct bcase {
    const char *name;
    int ref;
    bool alpha;
    bool mode; /* rounding mode arg */
    const char *mode_str;
    bool cmp;
} bcase;

static void run_binary_case(const bcase *c, cml_dtype da, cml_dtype db, cml_dtype dout, int iters) {
    for (int it = 0; it < iters; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int32_t orank, ra, rb;
        int64_t osz[CML_MAX_DIMS], sa[CML_MAX_DIMS], sb[CML_MAX_DIMS];
        random_bcast_shapes(&orank, osz, &ra, sa, &rb, sb);
        cml_evalue *a = tv_tensor(&e, da, ra, sa), *b = tv_tensor(&e, db, rb, sb);
        tv_fill_rand(a);
        tv_fill_rand(b);
        bool divlike = c->ref == R_DIV || c->ref == R_FLOORDIV || c->ref == R_TRUNCDIV;
        /* Keep divisors away from 0 and pow bases positive. */
        for (int64_t i = 0; i < cml_tensor_numel(T(b)); i++) {
            if (divlike && tv_get(T(b), i) == 0) {
                if (db == CML_DTYPE_INT64) ((int64_t *)T(b)->data)[i] = 3;
                else if (db == CML_DTYPE_INT32) ((int32_t *)T(b)->data)[i] = 3;
                else if (db == CML_DTYPE_FLOAT32) F(b)[i] = 0.5f;
            }
        }
        if (c->ref == R_POW) {
            for (int64_t i = 0; i < cml_tensor_numel(T(a)); i++)
                if (da == CML_DTYPE_FLOAT32) F(a)[i] = fabsf(F(a)[i]) + 0.1f;
        }
        if (c->cmp && cml_tensor_numel(T(a)) && cml_tensor_numel(T(b)) && da == db &&
            da == CML_DTYPE_FLOAT32) /* plant equal values */
            F(a)[0] = F(b)[0];
        cml_evalue *out = tv_dyn_out(&e, dout, orank ? orank : 0, 7 * 7 * 7 * 7);
        double alpha = (tv_rand() & 1) ? 1.0 : 2.0;
        cml_status st;
        if (c->alpha) {
            cml_evalue *al = (da == CML_DTYPE_INT64 || da == CML_DTYPE_INT32) ? tv_int(&e, (int64_t)alpha)
                                                                            : tv_double(&e, alpha);
            st = CALL(&e, c->name, a, b, al, out, out);
        } else if (c->mode) {
            cml_evalue *m = c->mode_str ? tv_str(&e, c->mode_str) : tv_null(&e);
            st = CALL(&e, c->name, a, b, m, out, out);
        } else {
            alpha = 1.0;
            st = CALL(&e, c->name, a, b, out, out);
        }
        CHECK_MSG(st == CML_OK, "%s: %s", c->name, e.err.msg);
        if (st != CML_OK) {
            tv_free(&e);
            continue;
        }
        { char b1[100], b2[100], b3[100], b4[100]; CHECK_MSG(tv_shape_is(T(out), orank, osz), "%s shape %s vs %s (a %s b %s)", c->name, cml_shape_str(T(out)->rank, T(out)->sizes, b1, 100), cml_shape_str(orank, osz, b2, 100), cml_shape_str(ra, sa, b3, 100), cml_shape_str(rb, sb, b4, 100)); }
        int64_t n = cml_tensor_numel(T(out));
        double *ref = malloc(sizeof(double) * (size_t)(n ? n : 1));
        for (int64_t i = 0; i < n; i++) {
            int64_t idx[CML_MAX_DIMS];
            tv_unravel(i, orank, osz, idx);
            double x = bget(T(a), orank, idx), y = bget(T(b), orank, idx);
            if (c->alpha) y *= alpha;
            double r = ref_op(c->ref, x, y);
            if (dout == CML_DTYPE_FLOAT16) r = cml_round_fp16((float)r);
            if (dout == CML_DTYPE_FLOAT32) r = (float)r;
            if (dout == CML_DTYPE_BOOL) r = r != 0;
            ref[i] = r;
        }
        double tol = dout == CML_DTYPE_FLOAT16 ? 2e-3 : 1e-5;
        char what[128];
        snprintf(what, sizeof what, "%s %s,%s->%s", c->name, cml_dtype_name(da), cml_dtype_name(db),
                 cml_dtype_name(dout));
        CHECK(tv_check_all(what, T(out), ref, n, tol, tol));
        free(ref);
        tv_free(&e);
    }
}

static void test_binary_random(void) {
    static const bcase cases[] = {
        {"aten::add.out", R_ADD, true, false, NULL, false},
        {"aten::sub.out", R_SUB, true, false, NULL, false},
        {"aten::mul.out", R_MUL, false, false, NULL, false},
        {"aten::div.out", R_DIV, false, false, NULL, false},
        {"aten::maximum.out", R_MAX, false, false, NULL, false},
        {"aten::minimum.out", R_MIN, false, false, NULL, false},
        {"aten::pow.Tensor_Tensor_out", R_POW, false, false, NULL, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_binary_case(&cases[i], CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT32, 40);
        run_binary_case(&cases[i], CML_DTYPE_FLOAT16, CML_DTYPE_FLOAT16, CML_DTYPE_FLOAT16, 15);
        if (cases[i].ref != R_POW)
            run_binary_case(&cases[i], CML_DTYPE_FLOAT32, CML_DTYPE_INT64, CML_DTYPE_FLOAT32, 10);
        if (cases[i].ref != R_DIV && cases[i].ref != R_POW) {
            run_binary_case(&cases[i], CML_DTYPE_INT64, CML_DTYPE_INT64, CML_DTYPE_INT64, 15);
            run_binary_case(&cases[i], CML_DTYPE_INT32, CML_DTYPE_INT32, CML_DTYPE_INT32, 10);
        }
    }
    static const bcase modes[] = {
        {"aten::div.out_mode", R_FLOORDIV, false, true, "floor", false},
        {"aten::div.out_mode", R_TRUNCDIV, false, true, "trunc", false},
        {"aten::div.out_mode", R_DIV, false, true, NULL, false},
        {"aten::floor_divide.out", R_FLOORDIV, false, false, NULL, false},
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        run_binary_case(&modes[i], CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT32, 20);
        if (modes[i].mode_str || modes[i].ref == R_FLOORDIV)
            run_binary_case(&modes[i], CML_DTYPE_INT64, CML_DTYPE_INT64, CML_DTYPE_INT64, 20);
    }
    static const bcase cmps[] = {
        {"aten::eq.Tensor_out", R_EQ, false, false, NULL, true},
        {"aten::ne.Tensor_out", R_NE, false, false, NULL, true},
        {"aten::lt.Tensor_out", R_LT, false, false, NULL, true},
        {"aten::le.Tensor_out", R_LE, false, false, NULL, true},
        {"aten::gt.Tensor_out", R_GT, false, false, NULL, true},
        {"aten::ge.Tensor_out", R_GE, false, false, NULL, true},
    };
    for (size_t i = 0; i < sizeof cmps / sizeof cmps[0]; i++) {
        run_binary_case(&cmps[i], CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT32, CML_DTYPE_BOOL, 15);
        run_binary_case(&cmps[i], CML_DTYPE_INT64, CML_DTYPE_INT64, CML_DTYPE_BOOL, 10);
        run_binary_case(&cmps[i], CML_DTYPE_FLOAT16, CML_DTYPE_INT32, CML_DTYPE_BOOL, 5);
    }
}

static void test_scalar_forms(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *o = TS(&e, CML_DTYPE_FLOAT32, 2, 3);
    for (int i = 0; i < 6; i++) F(x)[i] = (float)i - 2.5f;
    /* add.Scalar_out: x + 2 * 1.5 */
    CHECK(CALL(&e, "aten::add.Scalar_out", x, tv_double(&e, 1.5), tv_int(&e, 2), o, o) == CML_OK);
    for (int i = 0; i < 6; i++) CHECK_NEAR(F(o)[i], F(x)[i] + 3.0f, 1e-6);
    /* sub.Scalar_out with alpha 1 */
    CHECK(CALL(&e, "aten::sub.Scalar_out", x, tv_int(&e, 1), tv_int(&e, 1), o, o) == CML_OK);
    for (int i = 0; i < 6; i++) CHECK_NEAR(F(o)[i], F(x)[i] - 1.0f, 1e-6);
    /* rsub.Scalar_out: 10 - 2 * x */
    CHECK(CALL(&e, "aten::rsub.Scalar_out", x, tv_int(&e, 10), tv_int(&e, 2), o, o) == CML_OK);
    for (int i = 0; i < 6; i++) CHECK_NEAR(F(o)[i], 10.0f - 2.0f * F(x)[i], 1e-6);
    CHECK(CALL(&e, "aten::mul.Scalar_out", x, tv_double(&e, -0.5), o, o) == CML_OK);
    for (int i = 0; i < 6; i++) CHECK_NEAR(F(o)[i], -0.5f * F(x)[i], 1e-6);
    CHECK(CALL(&e, "aten::div.Scalar_out", x, tv_int(&e, 4), o, o) == CML_OK);
    for (int i = 0; i < 6; i++) CHECK_NEAR(F(o)[i], F(x)[i] / 4.0f, 1e-6);
    CHECK(CALL(&e, "aten::div.Scalar_mode_out", x, tv_int(&e, 2), tv_str(&e, "floor"), o, o) == CML_OK);
    for (int i = 0; i < 6; i++) CHECK_NEAR(F(o)[i], floorf(F(x)[i] / 2.0f), 1e-6);
    CHECK(CALL(&e, "aten::pow.Tensor_Scalar_out", x, tv_int(&e, 2), o, o) == CML_OK);
    for (int i = 0; i < 6; i++) CHECK_NEAR(F(o)[i], F(x)[i] * F(x)[i], 1e-5);
    CHECK(CALL(&e, "aten::pow.Scalar_out", tv_double(&e, 2.0), x, o, o) == CML_OK);
    for (int i = 0; i < 6; i++) CHECK_NEAR(F(o)[i], powf(2.0f, F(x)[i]), 1e-5);
    /* Comparison with a scalar into bool. */
    cml_evalue *ob = TS(&e, CML_DTYPE_BOOL, 2, 3);
    CHECK(CALL(&e, "aten::gt.Scalar_out", x, tv_double(&e, 0.0), ob, ob) == CML_OK);
    for (int i = 0; i < 6; i++) CHECK(((uint8_t *)T(ob)->data)[i] == (F(x)[i] > 0));
    CHECK(CALL(&e, "aten::eq.Scalar_out", x, tv_double(&e, -0.5), ob, ob) == CML_OK);
    for (int i = 0; i < 6; i++) CHECK(((uint8_t *)T(ob)->data)[i] == (F(x)[i] == -0.5f));
    /* int64 tensor + int scalar stays int. */
    cml_evalue *xi = TS(&e, CML_DTYPE_INT64, 4), *oi = TS(&e, CML_DTYPE_INT64, 4);
    int64_t *pi = T(xi)->data;
    pi[0] = 5;
    pi[1] = -7;
    pi[2] = 0;
    pi[3] = 1LL << 40;
    CHECK(CALL(&e, "aten::add.Scalar_out", xi, tv_int(&e, 3), tv_int(&e, 2), oi, oi) == CML_OK);
    int64_t *po = T(oi)->data;
    CHECK(po[0] == 11 && po[1] == -1 && po[2] == 6 && po[3] == (1LL << 40) + 6);
    /* int tensor with a float scalar into a float output. */
    cml_evalue *of = TS(&e, CML_DTYPE_FLOAT32, 4);
    CHECK(CALL(&e, "aten::mul.Scalar_out", xi, tv_double(&e, 0.5), of, of) == CML_OK);
    CHECK_NEAR(F(of)[0], 2.5, 1e-6);
    CHECK_NEAR(F(of)[1], -3.5, 1e-6);
    /* Integer floor / trunc division with negatives. */
    cml_evalue *d = TS(&e, CML_DTYPE_INT64, 4);
    int64_t *pd = T(d)->data;
    pd[0] = 2;
    pd[1] = 2;
    pd[2] = -3;
    pd[3] = 3;
    CHECK(CALL(&e, "aten::div.out_mode", xi, d, tv_str(&e, "floor"), oi, oi) == CML_OK);
    CHECK(po[0] == 2 && po[1] == -4 && po[2] == 0);
    CHECK(CALL(&e, "aten::div.out_mode", xi, d, tv_str(&e, "trunc"), oi, oi) == CML_OK);
    CHECK(po[0] == 2 && po[1] == -3 && po[2] == 0);
    /* Integer division by zero is an error, not a crash. */
    pd[2] = 0;
    CHECK(CALL(&e, "aten::div.out_mode", xi, d, tv_str(&e, "floor"), oi, oi) == CML_ERR_INVALID_ARG);
    CHECK(strstr(e.err.msg, "division by zero") != NULL);
    CHECK(CALL(&e, "aten::div.out_mode", xi, d, tv_str(&e, "round"), oi, oi) == CML_ERR_INVALID_ARG);
    /* True division of ints into an int output is rejected at prepare. */
    CHECK(PREP(&e, "aten::div.out", xi, d, oi, oi) == CML_ERR_UNSUPPORTED);
    /* fp16 scalar form rounds to fp16. */
    cml_evalue *h = TS(&e, CML_DTYPE_FLOAT16, 3), *ho = TS(&e, CML_DTYPE_FLOAT16, 3);
    uint16_t *ph = T(h)->data;
    ph[0] = cml_fp32_to_fp16(1.0f);
    ph[1] = cml_fp32_to_fp16(1000.0f);
    ph[2] = cml_fp32_to_fp16(-3.25f);
    CHECK(CALL(&e, "aten::add.Scalar_out", h, tv_double(&e, 0.1), tv_int(&e, 1), ho, ho) == CML_OK);
    uint16_t *pho = T(ho)->data;
    CHECK(pho[0] == cml_fp32_to_fp16(1.1f));
    CHECK(pho[1] == cml_fp32_to_fp16(1000.1f));
    CHECK(pho[2] == cml_fp32_to_fp16(-3.15f));
    tv_free(&e);
}

static void test_shapes_and_rejections(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    /* Dynamic output shrinks and grows within its bound. */
    cml_evalue *a = tv_tensor_cap(&e, CML_DTYPE_FLOAT32, 2, S(4, 5), 20, CML_SHAPE_DYNAMIC_BOUND);
    cml_evalue *b = TS(&e, CML_DTYPE_FLOAT32, 5);
    cml_evalue *o = tv_tensor_cap(&e, CML_DTYPE_FLOAT32, 2, S(4, 5), 20, CML_SHAPE_DYNAMIC_BOUND);
    tv_fill_rand(a);
    tv_fill_rand(b);
    cml_evalue *one = tv_int(&e, 1);
    T(a)->sizes[0] = 2;
    CHECK(CALL(&e, "aten::add.out", a, b, one, o, o) == CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(2, 5)));
    CHECK_NEAR(F(o)[7], F(a)[7] + F(b)[2], 1e-6);
    T(a)->sizes[0] = 4;
    CHECK(CALL(&e, "aten::add.out", a, b, one, o, o) == CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(4, 5)));
    /* Beyond the output bound: shape error. */
    cml_evalue *big = TS(&e, CML_DTYPE_FLOAT32, 6, 1);
    CHECK(CALL(&e, "aten::add.out", big, b, one, o, o) == CML_ERR_SHAPE);
    /* Static output of the wrong shape. */
    cml_evalue *so = TS(&e, CML_DTYPE_FLOAT32, 3, 5);
    CHECK(CALL(&e, "aten::add.out", a, b, one, so, so) == CML_ERR_SHAPE);
    /* Non-broadcastable shapes. */
    cml_evalue *c = TS(&e, CML_DTYPE_FLOAT32, 3);
    CHECK(CALL(&e, "aten::mul.out", a, c, o, o) == CML_ERR_SHAPE);
    CHECK(strstr(e.err.msg, "aten::mul.out") != NULL);
    /* float64 rejected at prepare, naming the op. */
    cml_evalue *f64 = TS(&e, CML_DTYPE_FLOAT64, 5);
    CHECK(PREP(&e, "aten::add.out", a, f64, one, o, o) == CML_ERR_UNSUPPORTED);
    CHECK(strstr(e.err.msg, "aten::add.out") && strstr(e.err.msg, "float64"));
    /* Non-contiguous input rejected. */
    cml_evalue *nc = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4, 5);
    T(nc)->dim_order[1] = 2;
    T(nc)->dim_order[2] = 3;
    T(nc)->dim_order[3] = 1;
    cml_evalue *o4 = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4, 5);
    CHECK(PREP(&e, "aten::relu.out", nc, o4, o4) == CML_ERR_UNSUPPORTED);
    CHECK(strstr(e.err.msg, "dim order") != NULL);
    cml_evalue *w4 = TS(&e, CML_DTYPE_FLOAT32, 3, 3, 1, 1);
    CHECK(PREP(&e, "aten::convolution.out", nc, w4, tv_null(&e), IL(&e, 1), IL(&e, 0), IL(&e, 1),
               tv_bool(&e, false), IL(&e, 0), one, o4, o4) == CML_ERR_UNSUPPORTED);
    CHECK(strstr(e.err.msg, "dim order") != NULL);
    /* Float operands into an int output. */
    cml_evalue *oi = TS(&e, CML_DTYPE_INT64, 5);
    CHECK(PREP(&e, "aten::add.out", b, b, one, oi, oi) == CML_ERR_UNSUPPORTED);
    /* Wrong argument kinds. */
    CHECK(PREP(&e, "aten::add.out", a, one, one, o, o) == CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, "aten::add.out", a, b, b, o, o) == CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, "aten::add.out", a, b, one, one, one) == CML_ERR_INVALID_ARG);
    /* Empty tensors produce empty outputs. */
    cml_evalue *z = tv_tensor_cap(&e, CML_DTYPE_FLOAT32, 2, S(0, 5), 20, CML_SHAPE_DYNAMIC_BOUND);
    CHECK(CALL(&e, "aten::add.out", z, b, one, o, o) == CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(0, 5)));
    tv_free(&e);
}

static void test_where(void) {
    for (int it = 0; it < 30; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int32_t orank, ra, rb;
        int64_t osz[CML_MAX_DIMS], sa[CML_MAX_DIMS], sb[CML_MAX_DIMS];
        random_bcast_shapes(&orank, osz, &ra, sa, &rb, sb);
        cml_dtype dt = it % 3 == 0 ? CML_DTYPE_INT64 : it % 3 == 1 ? CML_DTYPE_FLOAT32 : CML_DTYPE_FLOAT16;
        /* condition takes a's shape, self b's, other the full out shape */
        cml_evalue *c = tv_tensor(&e, CML_DTYPE_BOOL, ra, sa);
        cml_evalue *x = tv_tensor(&e, dt, rb, sb);
        cml_evalue *y = tv_tensor(&e, dt, orank, osz);
        cml_evalue *o = tv_dyn_out(&e, dt, orank, 7 * 7 * 7 * 7);
        tv_fill_rand(c);
        tv_fill_rand(x);
        tv_fill_rand(y);
        cml_status st = CALL(&e, "aten::where.self_out", c, x, y, o, o);
        CHECK_MSG(st == CML_OK, "%s", e.err.msg);
        CHECK(tv_shape_is(T(o), orank, osz));
        int64_t n = cml_tensor_numel(T(o));
        bool ok = true;
        for (int64_t i = 0; i < n && ok; i++) {
            int64_t idx[CML_MAX_DIMS];
            tv_unravel(i, orank, osz, idx);
            double want = bget(T(c), orank, idx) != 0 ? bget(T(x), orank, idx) : bget(T(y), orank, idx);
            ok = tv_get(T(o), i) == want;
        }
        CHECK(ok);
        tv_free(&e);
    }
    /* Mixed dtypes: int self, float other, float out. */
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *c = TS(&e, CML_DTYPE_BOOL, 3), *x = TS(&e, CML_DTYPE_INT64, 3),
               *y = TS(&e, CML_DTYPE_FLOAT32, 1), *o = TS(&e, CML_DTYPE_FLOAT32, 3);
    uint8_t *pc = T(c)->data;
    pc[0] = 1;
    pc[1] = 0;
    pc[2] = 1;
    ((int64_t *)T(x)->data)[0] = 4;
    ((int64_t *)T(x)->data)[2] = -2;
    F(y)[0] = 0.5f;
    CHECK(CALL(&e, "aten::where.self_out", c, x, y, o, o) == CML_OK);
    CHECK(F(o)[0] == 4.0f && F(o)[1] == 0.5f && F(o)[2] == -2.0f);
    cml_evalue *cf = TS(&e, CML_DTYPE_FLOAT32, 3);
    CHECK(PREP(&e, "aten::where.self_out", cf, x, y, o, o) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

/* Logical element of a tensor in any dim order. */
static double lget(const cml_tensor *t, const int64_t *idx) {
    int64_t st[CML_MAX_DIMS], off = 0;
    cml_tensor_strides(t, st);
    for (int32_t d = 0; d < t->rank; d++) off += idx[d] * st[d];
    return tv_get(t, off);
}

static void set_channels_last(cml_evalue *v) {
    cml_tensor *t = T(v);
    t->dim_order[0] = 0;
    t->dim_order[1] = 2;
    t->dim_order[2] = 3;
    t->dim_order[3] = 1;
}

/* Elementwise ops on channels-last tensors (as real exported graphs emit
 * them): any operand/output dim order, with broadcasting. */
static void test_dim_orders(void) {
    for (int it = 0; it < 8; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int64_t sz[4] = {2, 3, 4, 5};
        cml_evalue *a = tv_tensor(&e, CML_DTYPE_FLOAT32, 4, sz);
        cml_evalue *b = it % 2 ? TS(&e, CML_DTYPE_FLOAT32, 3, 1, 1) : tv_tensor(&e, CML_DTYPE_FLOAT32, 4, sz);
        cml_evalue *o = tv_tensor(&e, CML_DTYPE_FLOAT32, 4, sz);
        tv_fill_rand(a);
        tv_fill_rand(b);
        if (it & 2) set_channels_last(a);
        if ((it & 1) == 0 && (it & 4)) set_channels_last(b);
        if (it & 4) set_channels_last(o);
        CHECK_MSG(CALL(&e, "aten::sub.out", a, b, tv_int(&e, 1), o, o) == CML_OK, "%s", e.err.msg);
        cml_evalue *c = tv_tensor(&e, CML_DTYPE_BOOL, 4, sz), *w = tv_tensor(&e, CML_DTYPE_FLOAT32, 4, sz);
        tv_fill_rand(c);
        if (it & 1) set_channels_last(c);
        if (it & 4) set_channels_last(w);
        CHECK_MSG(CALL(&e, "aten::where.self_out", c, a, b, w, w) == CML_OK, "%s", e.err.msg);
        bool ok = true, okw = true;
        for (int64_t i = 0; i < 120; i++) {
            int64_t idx[4], bidx[4];
            tv_unravel(i, 4, sz, idx);
            memcpy(bidx, idx, sizeof idx);
            if (T(b)->rank == 3) {
                bidx[0] = idx[1];
                bidx[1] = bidx[2] = 0;
            }
            double want = lget(T(a), idx) - lget(T(b), bidx);
            ok = ok && fabs(lget(T(o), idx) - want) < 1e-6;
            double ww = lget(T(c), idx) != 0 ? lget(T(a), idx) : lget(T(b), bidx);
            okw = okw && lget(T(w), idx) == ww;
        }
        CHECK_MSG(ok, "sub dim-order case %d", it);
        CHECK_MSG(okw, "where dim-order case %d", it);
        /* unary ops need matching dim orders */
        cml_evalue *r = tv_tensor(&e, CML_DTYPE_FLOAT32, 4, sz);
        if (it & 2) set_channels_last(r);
        CHECK(CALL(&e, "aten::relu.out", a, r, r) == CML_OK);
        bool okr = true;
        for (int64_t i = 0; i < 120; i++) {
            int64_t idx[4];
            tv_unravel(i, 4, sz, idx);
            okr = okr && lget(T(r), idx) == fmax(lget(T(a), idx), 0.0);
        }
        CHECK(okr);
        tv_free(&e);
    }
}

static void test_logical(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *a = TS(&e, CML_DTYPE_BOOL, 2, 3), *b = TS(&e, CML_DTYPE_FLOAT32, 3), *o = TS(&e, CML_DTYPE_BOOL, 2, 3);
    uint8_t *pa = T(a)->data, *po = T(o)->data;
    uint8_t av[6] = {0, 1, 1, 0, 0, 1};
    memcpy(pa, av, 6);
    F(b)[0] = 0.0f;
    F(b)[1] = 2.5f;
    F(b)[2] = -1.0f;
    const char *names[3] = {"aten::logical_and.out", "aten::logical_or.out", "aten::logical_xor.out"};
    for (int k = 0; k < 3; k++) {
        CHECK(CALL(&e, names[k], a, b, o, o) == CML_OK);
        bool ok = true;
        for (int i = 0; i < 6; i++) {
            bool x = av[i], y = F(b)[i % 3] != 0;
            bool want = k == 0 ? (x && y) : k == 1 ? (x || y) : (x != y);
            ok = ok && po[i] == want;
        }
        CHECK_MSG(ok, "%s", names[k]);
    }
    cml_evalue *of = TS(&e, CML_DTYPE_FLOAT32, 2, 3);
    CHECK(CALL(&e, "aten::logical_not.out", a, of, of) == CML_OK);
    CHECK(F(of)[0] == 1.0f && F(of)[1] == 0.0f);
    cml_evalue *bad = TS(&e, CML_DTYPE_FLOAT32, 4);
    CHECK(CALL(&e, "aten::logical_and.out", a, bad, o, o) == CML_ERR_SHAPE);
    tv_free(&e);
}

int main(void) {
    test_logical();
    test_dim_orders();
    test_binary_random();
    test_scalar_forms();
    test_shapes_and_rejections();
    test_where();
    TEST_MAIN_END();
}
