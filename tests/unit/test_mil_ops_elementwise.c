/* MIL elementwise binary ops (broadcasting, int32, comparisons, logical)
 * and select, against naive references. */
#include "test_mil_ops_util.h"

static double ref_bin(const char *op, double a, double b) {
    if (!strcmp(op, "add")) return a + b;
    if (!strcmp(op, "sub")) return a - b;
    if (!strcmp(op, "mul")) return a * b;
    if (!strcmp(op, "real_div")) return a / b;
    if (!strcmp(op, "floor_div")) return floor(a / b);
    if (!strcmp(op, "mod")) return a - floor(a / b) * b;
    if (!strcmp(op, "pow")) return pow(a, b);
    if (!strcmp(op, "maximum")) return a > b ? a : b;
    if (!strcmp(op, "minimum")) return a < b ? a : b;
    if (!strcmp(op, "equal")) return a == b;
    if (!strcmp(op, "not_equal")) return a != b;
    if (!strcmp(op, "greater")) return a > b;
    if (!strcmp(op, "greater_equal")) return a >= b;
    if (!strcmp(op, "less")) return a < b;
    if (!strcmp(op, "less_equal")) return a <= b;
    return NAN;
}

static bool is_cmp(const char *op) {
    return !strcmp(op, "equal") || !strcmp(op, "not_equal") || !strncmp(op, "greater", 7) ||
           !strncmp(op, "less", 4);
}

/* Random broadcast-compatible shapes for x and y. */
static void rand_shapes(int32_t *ro, int64_t *so, int32_t *ra, int64_t *sa, int32_t *rb, int64_t *sb) {
    *ro = tg_randi(0, 4);
    for (int32_t i = 0; i < *ro; i++) so[i] = tg_randi(1, 5);
    *ra = tg_randi(0, *ro);
    *rb = tg_randi(0, *ro);
    if (tg_randi(0, 1)) *ra = *ro; else *rb = *ro;
    for (int32_t i = 0; i < *ra; i++) sa[i] = tg_randi(0, 2) ? so[*ro - *ra + i] : 1;
    for (int32_t i = 0; i < *rb; i++) sb[i] = tg_randi(0, 2) ? so[*ro - *rb + i] : 1;
    /* make the output shape the true broadcast */
    for (int32_t i = 0; i < *ro; i++) {
        int64_t da = i >= *ro - *ra ? sa[i - (*ro - *ra)] : 1, db = i >= *ro - *rb ? sb[i - (*ro - *rb)] : 1;
        so[i] = da > db ? da : db;
    }
}

static void test_binary_float(void) {
    static const char *ops[] = {"add", "sub", "mul", "real_div", "floor_div", "mod", "pow",
                                "maximum", "minimum", "equal", "not_equal", "greater",
                                "greater_equal", "less", "less_equal"};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
        for (int trial = 0; trial < 12; trial++) {
            int32_t ro, ra, rb;
            int64_t so[4], sa[4], sb[4];
            rand_shapes(&ro, so, &ra, sa, &rb, sb);
            int64_t na = 1, nb = 1, no = 1;
            for (int32_t i = 0; i < ra; i++) na *= sa[i];
            for (int32_t i = 0; i < rb; i++) nb *= sb[i];
            for (int32_t i = 0; i < ro; i++) no *= so[i];
            float *a = tg_rand_buf(na), *b = tg_rand_buf(nb);
            for (int64_t i = 0; i < na; i++) a[i] = roundf(a[i] * 8) / 2; /* ties for compares */
            for (int64_t i = 0; i < nb; i++) {
                b[i] = roundf(b[i] * 8) / 2;
                if (b[i] == 0) b[i] = 1.5f;
            }
            if (!strcmp(ops[k], "pow"))
                for (int64_t i = 0; i < na; i++) a[i] = fabsf(a[i]) + 0.5f;
            tg t;
            tg_init(&t, ops[k], 18);
            tg_param(&t, "x", tg_f32(&t, "x", ra, sa, a, false));
            tg_param(&t, "y", tg_f32(&t, "y", rb, sb, b, false));
            tg_out(&t, 1);
            cml_status st = tg_infer(&t);
            CHECK_MSG(st == CML_OK, "%s infer: %s", ops[k], t.err.msg);
            if (st == CML_OK) st = tg_run(&t);
            CHECK_MSG(st == CML_OK, "%s run: %s", ops[k], t.err.msg);
            if (st == CML_OK) {
                cml_mil_value *o = tg_o(&t, 0);
                CHECK(tg_shape_is(o, ro, so));
                CHECK(o->dtype == (is_cmp(ops[k]) ? CML_DTYPE_BOOL : CML_DTYPE_FLOAT32));
                int bad = 0;
                for (int64_t i = 0; i < no; i++) {
                    int64_t idx[4];
                    tg_unravel(i, ro, so, idx);
                    double r = ref_bin(ops[k], a[tg_bcast_off(ro, idx, ra, sa)],
                                       b[tg_bcast_off(ro, idx, rb, sb)]);
                    double got = is_cmp(ops[k]) ? ((uint8_t *)o->data)[i] : tg_of(&t, 0)[i];
                    if (fabs(got - r) > 1e-5 * (1 + fabs(r))) bad++;
                }
                CHECK_MSG(bad == 0, "%s: %d mismatches", ops[k], bad);
            }
            tg_free(&t);
            free(a);
            free(b);
        }
}

static void test_binary_int(void) {
    /* floor_div / mod sign rules, int32 broadcasting */
    int32_t x[6] = {7, -7, 7, -7, 0, 5}, y[2] = {2, -2};
    int64_t sx[2] = {3, 2}, sy[1] = {2};
    struct {
        const char *op;
        int32_t want[6];
    } cases[] = {
        {"floor_div", {3, 3, 3, 3, 0, -3}},   /* 7//2, -7//-2, 7//2, -7//-2, 0//2, 5//-2 */
        {"mod", {1, -1, 1, -1, 0, -1}},       /* python % */
        {"add", {9, -9, 9, -9, 2, 3}},
        {"mul", {14, 14, 14, 14, 0, -10}},
        {"maximum", {7, -2, 7, -2, 2, 5}},
        {"pow", {49, 0, 49, 0, 0, 0}},        /* int pow with negative exponent truncates */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tg t;
        tg_init(&t, cases[k].op, 18);
        tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_INT32, false, 2, sx, x, false));
        tg_param(&t, "y", tg_value(&t, "y", CML_DTYPE_INT32, false, 1, sy, y, false));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "%s: %s", cases[k].op, t.err.msg);
        if (st == CML_OK) {
            CHECK(tg_o(&t, 0)->dtype == CML_DTYPE_INT32);
            const int32_t *o = tg_o(&t, 0)->data;
            for (int i = 0; i < 6; i++)
                if (strcmp(cases[k].op, "pow") || i % 2 == 0)
                    CHECK_MSG(o[i] == cases[k].want[i], "%s[%d]: %d vs %d", cases[k].op, i, o[i],
                              cases[k].want[i]);
        }
        tg_free(&t);
    }
    /* float floor_div / mod signs */
    float fx[4] = {7.5f, -7.5f, 7.5f, -7.5f}, fy[4] = {2, 2, -2, -2};
    int64_t s4 = 4;
    float want_fd[4] = {3, -4, -4, 3}, want_mod[4] = {1.5f, 0.5f, -0.5f, -1.5f};
    for (int m = 0; m < 2; m++) {
        tg t;
        tg_init(&t, m ? "mod" : "floor_div", 18);
        tg_param(&t, "x", tg_f32(&t, "x", 1, &s4, fx, false));
        tg_param(&t, "y", tg_f32(&t, "y", 1, &s4, fy, false));
        tg_out(&t, 1);
        CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
        for (int i = 0; i < 4; i++) CHECK_NEAR(tg_of(&t, 0)[i], m ? want_mod[i] : want_fd[i], 1e-6);
        tg_free(&t);
    }
    /* int comparisons -> bool; integer division by zero is a clean error */
    {
        tg t;
        tg_init(&t, "less", 18);
        tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_INT32, false, 2, sx, x, false));
        tg_param(&t, "y", tg_value(&t, "y", CML_DTYPE_INT32, false, 1, sy, y, false));
        tg_out(&t, 1);
        CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
        const uint8_t *o = tg_o(&t, 0)->data;
        uint8_t want[6] = {0, 1, 0, 1, 1, 0};
        for (int i = 0; i < 6; i++) CHECK(o[i] == want[i]);
        tg_free(&t);
        int32_t zero[2] = {0, 1};
        tg_init(&t, "floor_div", 18);
        tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_INT32, false, 2, sx, x, false));
        tg_param(&t, "y", tg_value(&t, "y", CML_DTYPE_INT32, false, 1, sy, zero, false));
        tg_out(&t, 1);
        CHECK(tg_infer(&t) == CML_OK);
        CHECK(tg_run(&t) != CML_OK);
        tg_free(&t);
    }
    /* int16 + int32 (guarded gather indices) */
    {
        int16_t a[3] = {-1, 2, -3};
        int32_t b[1] = {10};
        int64_t s3 = 3, s1 = 1;
        tg t;
        tg_init(&t, "add", 18);
        tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_INT16, false, 1, &s3, a, false));
        tg_param(&t, "y", tg_value(&t, "y", CML_DTYPE_INT32, false, 1, &s1, b, true));
        tg_out(&t, 1);
        CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
        CHECK(tg_o(&t, 0)->dtype == CML_DTYPE_INT32);
        CHECK(((int32_t *)tg_o(&t, 0)->data)[2] == 7);
        tg_free(&t);
    }
}

static void test_logical(void) {
    uint8_t a[4] = {0, 0, 1, 1}, b[4] = {0, 1, 0, 1};
    int64_t s = 4;
    const char *ops[] = {"logical_and", "logical_or", "logical_xor"};
    uint8_t want[3][4] = {{0, 0, 0, 1}, {0, 1, 1, 1}, {0, 1, 1, 0}};
    for (int k = 0; k < 3; k++) {
        tg t;
        tg_init(&t, ops[k], 15);
        tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_BOOL, false, 1, &s, a, false));
        tg_param(&t, "y", tg_value(&t, "y", CML_DTYPE_BOOL, false, 1, &s, b, false));
        tg_out(&t, 1);
        CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
        for (int i = 0; i < 4; i++) CHECK(((uint8_t *)tg_o(&t, 0)->data)[i] == want[k][i]);
        tg_free(&t);
    }
    tg t;
    tg_init(&t, "logical_not", 15);
    tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_BOOL, false, 1, &s, a, false));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_OK && tg_run(&t) == CML_OK);
    for (int i = 0; i < 4; i++) CHECK(((uint8_t *)tg_o(&t, 0)->data)[i] == !a[i]);
    tg_free(&t);
    /* a float input to a logical op is rejected at load */
    float f[4] = {0};
    tg_init(&t, "logical_and", 15);
    tg_param(&t, "x", tg_f32(&t, "x", 1, &s, f, false));
    tg_param(&t, "y", tg_f32(&t, "y", 1, &s, f, false));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) != CML_OK);
    tg_free(&t);
}

static void test_select(void) {
    for (int trial = 0; trial < 20; trial++) {
        int32_t ro, ra, rb;
        int64_t so[4], sa[4], sb[4], sc[4];
        rand_shapes(&ro, so, &ra, sa, &rb, sb);
        int32_t rc = tg_randi(0, ro);
        for (int32_t i = 0; i < rc; i++) sc[i] = tg_randi(0, 1) ? so[ro - rc + i] : 1;
        int64_t na = 1, nb = 1, nc = 1, no = 1;
        for (int32_t i = 0; i < ra; i++) na *= sa[i];
        for (int32_t i = 0; i < rb; i++) nb *= sb[i];
        for (int32_t i = 0; i < rc; i++) nc *= sc[i];
        for (int32_t i = 0; i < ro; i++) no *= so[i];
        float *a = tg_rand_buf(na), *b = tg_rand_buf(nb);
        uint8_t *c = malloc((size_t)nc);
        for (int64_t i = 0; i < nc; i++) c[i] = (uint8_t)tg_randi(0, 1);
        tg t;
        tg_init(&t, "select", 18);
        tg_param(&t, "cond", tg_value(&t, "c", CML_DTYPE_BOOL, false, rc, sc, c, false));
        tg_param(&t, "a", tg_f32(&t, "a", ra, sa, a, false));
        tg_param(&t, "b", tg_f32(&t, "b", rb, sb, b, false));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "select: %s", t.err.msg);
        if (st == CML_OK) {
            /* output is the broadcast of all three */
            int bad = 0;
            cml_mil_value *o = tg_o(&t, 0);
            int64_t n = 1;
            for (int32_t i = 0; i < o->rank; i++) n *= o->shape[i];
            for (int64_t i = 0; i < n; i++) {
                int64_t idx[4];
                tg_unravel(i, o->rank, o->shape, idx);
                float want = c[tg_bcast_off(o->rank, idx, rc, sc)] ? a[tg_bcast_off(o->rank, idx, ra, sa)]
                                                                   : b[tg_bcast_off(o->rank, idx, rb, sb)];
                if (tg_of(&t, 0)[i] != want) bad++;
            }
            CHECK(bad == 0);
            (void)no;
        }
        tg_free(&t);
        free(a), free(b), free(c);
    }
}

static void test_broadcast_errors_and_dynamic(void) {
    float a[6] = {0}, b[6] = {0};
    int64_t s23[2] = {2, 3}, s4[1] = {4};
    tg t;
    tg_init(&t, "add", 18);
    tg_param(&t, "x", tg_f32(&t, "x", 2, s23, a, false));
    tg_param(&t, "y", tg_f32(&t, "y", 1, s4, b, false));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    CHECK(strstr(t.err.msg, "broadcast") != NULL);
    tg_free(&t);
    /* dynamic x: run with a smaller batch than the bound */
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[2] = {10, 20};
    int64_t s42[2] = {4, 2}, s2[1] = {2}, s22[2] = {2, 2};
    tg_init(&t, "add", 18);
    cml_mil_vid vx = tg_f32(&t, "x", 2, s42, x, false);
    tg_v(&t, vx)->dynamic = true;
    tg_param(&t, "x", vx);
    tg_param(&t, "y", tg_f32(&t, "y", 1, s2, y, true));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_OK);
    CHECK(tg_o(&t, 0)->dynamic);
    tg_reshape(&t, vx, 2, s22);
    CHECK(tg_run(&t) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 2, s22));
    CHECK(tg_of(&t, 0)[3] == 24);
    tg_free(&t);
}

int main(void) {
    test_binary_float();
    test_binary_int();
    test_logical();
    test_select();
    test_broadcast_errors_and_dynamic();
    TEST_MAIN_END();
}
