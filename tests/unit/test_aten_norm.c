/* Batch norm (inference), layer norm and group norm (with their mean/rstd
 * outputs), softmax and log_softmax against naive references. */
#include "test_aten_util.h"

static void test_batch_norm(void) {
    for (int it = 0; it < 30; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int32_t rank = (int32_t)tv_randint(2, 5);
        int64_t sz[5];
        for (int32_t d = 0; d < rank; d++) sz[d] = tv_randint(1, 6);
        int64_t n = sz[0], c = sz[1], sp = 1;
        for (int32_t d = 2; d < rank; d++) sp *= sz[d];
        cml_dtype dt = it % 5 == 4 ? CML_DTYPE_FLOAT16 : CML_DTYPE_FLOAT32;
        cml_evalue *x = tv_tensor(&e, dt, rank, sz), *o = tv_tensor(&e, dt, rank, sz);
        cml_evalue *mean = tv_tensor(&e, dt, 1, S(c)), *var = tv_tensor(&e, dt, 1, S(c));
        bool has_w = it % 3 != 1, has_b = it % 3 != 2;
        cml_evalue *w = has_w ? tv_tensor(&e, dt, 1, S(c)) : tv_null(&e);
        cml_evalue *b = has_b ? tv_tensor(&e, dt, 1, S(c)) : tv_null(&e);
        tv_fill_rand(x);
        tv_fill_rand(mean);
        tv_fill_rand(var);
        for (int64_t i = 0; i < c; i++) {
            if (dt == CML_DTYPE_FLOAT32) F(var)[i] = fabsf(F(var)[i]) + 0.1f;
            else ((uint16_t *)T(var)->data)[i] = cml_fp32_to_fp16(fabsf((float)tv_get(T(var), i)) + 0.1f);
        }
        if (has_w) tv_fill_rand(w);
        if (has_b) tv_fill_rand(b);
        int64_t z = 0;
        cml_evalue *o1 = tv_tensor(&e, dt, 1, &z), *o2 = tv_tensor(&e, dt, 1, &z);
        cml_evalue *tl = tv_tensor_list(&e, 3, ARGS(o, o1, o2));
        double eps = 1e-5;
        cml_status st = CALL(&e, "aten::_native_batch_norm_legit_no_training.out", x, w, b, mean, var,
                             tv_double(&e, 0.1), tv_double(&e, eps), o, o1, o2, tl);
        CHECK_MSG(st == CML_OK, "%s", e.err.msg);
        int64_t total = n * c * sp;
        double *ref = malloc(sizeof(double) * (size_t)total);
        for (int64_t i = 0; i < total; i++) {
            int64_t ch = (i / sp) % c;
            double r = (tv_get(T(x), i) - tv_get(T(mean), ch)) / sqrt(tv_get(T(var), ch) + eps);
            if (has_w) r *= tv_get(T(w), ch);
            if (has_b) r += tv_get(T(b), ch);
            ref[i] = dt == CML_DTYPE_FLOAT16 ? cml_round_fp16((float)r) : r;
        }
        double tol = dt == CML_DTYPE_FLOAT16 ? 1e-2 : 1e-4;
        CHECK(tv_check_all("batch_norm", T(o), ref, total, tol, tol));
        CHECK(T(o1)->rank == 1 && T(o1)->sizes[0] == 0);
        free(ref);
        tv_free(&e);
    }
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4), *o = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4);
    cml_evalue *m = TS(&e, CML_DTYPE_FLOAT32, 4), *v = TS(&e, CML_DTYPE_FLOAT32, 4);
    int64_t z = 0;
    cml_evalue *o1 = tv_tensor(&e, CML_DTYPE_FLOAT32, 1, &z), *o2 = tv_tensor(&e, CML_DTYPE_FLOAT32, 1, &z);
    cml_evalue *tl = tv_tensor_list(&e, 3, ARGS(o, o1, o2));
    CHECK(CALL(&e, "aten::_native_batch_norm_legit_no_training.out", x, tv_null(&e), tv_null(&e), m, v,
               tv_double(&e, 0.1), tv_double(&e, 1e-5), o, o1, o2, tl) == CML_ERR_SHAPE);
    tv_free(&e);
}

static void test_layer_norm(void) {
    for (int it = 0; it < 30; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int32_t rank = (int32_t)tv_randint(1, 4);
        int64_t sz[4];
        for (int32_t d = 0; d < rank; d++) sz[d] = tv_randint(1, 9);
        int32_t nn = (int32_t)tv_randint(1, rank);
        int32_t axis = rank - nn;
        int64_t outer = 1, inner = 1;
        for (int32_t d = 0; d < rank; d++) {
            if (d < axis) outer *= sz[d];
            else inner *= sz[d];
        }
        cml_dtype dt = it % 5 == 4 ? CML_DTYPE_FLOAT16 : CML_DTYPE_FLOAT32;
        cml_evalue *x = tv_tensor(&e, dt, rank, sz), *o = tv_tensor(&e, dt, rank, sz);
        bool has_w = it % 3 != 1, has_b = it % 3 != 2;
        cml_evalue *w = has_w ? tv_tensor(&e, dt, nn, sz + axis) : tv_null(&e);
        cml_evalue *b = has_b ? tv_tensor(&e, dt, nn, sz + axis) : tv_null(&e);
        tv_fill_rand(x);
        if (has_w) tv_fill_rand(w);
        if (has_b) tv_fill_rand(b);
        int64_t ss[4];
        for (int32_t d = 0; d < rank; d++) ss[d] = d < axis ? sz[d] : 1;
        cml_evalue *om = tv_tensor(&e, dt, rank, ss), *orr = tv_tensor(&e, dt, rank, ss);
        cml_evalue *tl = tv_tensor_list(&e, 3, ARGS(o, om, orr));
        double eps = 1e-5;
        cml_status st = CALL(&e, "aten::native_layer_norm.out", x, tv_int_list(&e, (uint32_t)nn, sz + axis), w, b,
                             tv_double(&e, eps), o, om, orr, tl);
        CHECK_MSG(st == CML_OK, "%s", e.err.msg);
        double *ref = malloc(sizeof(double) * (size_t)(outer * inner));
        double *rm = malloc(sizeof(double) * (size_t)outer), *rr = malloc(sizeof(double) * (size_t)outer);
        for (int64_t r = 0; r < outer; r++) {
            double s = 0, v = 0;
            for (int64_t i = 0; i < inner; i++) s += tv_get(T(x), r * inner + i);
            double mu = s / (double)inner;
            for (int64_t i = 0; i < inner; i++) v += pow(tv_get(T(x), r * inner + i) - mu, 2);
            double rs = 1.0 / sqrt(v / (double)inner + eps);
            for (int64_t i = 0; i < inner; i++) {
                double y = (tv_get(T(x), r * inner + i) - mu) * rs;
                if (has_w) y *= tv_get(T(w), i);
                if (has_b) y += tv_get(T(b), i);
                ref[r * inner + i] = dt == CML_DTYPE_FLOAT16 ? cml_round_fp16((float)y) : y;
            }
            rm[r] = dt == CML_DTYPE_FLOAT16 ? cml_round_fp16((float)mu) : mu;
            rr[r] = dt == CML_DTYPE_FLOAT16 ? cml_round_fp16((float)rs) : rs;
        }
        double tol = dt == CML_DTYPE_FLOAT16 ? 1e-2 : 1e-4;
        CHECK(tv_check_all("layer_norm", T(o), ref, outer * inner, tol, tol));
        CHECK(tv_check_all("layer_norm mean", T(om), rm, outer, tol, tol));
        CHECK(tv_check_all("layer_norm rstd", T(orr), rr, outer, tol, 1e-2));
        free(ref);
        free(rm);
        free(rr);
        tv_free(&e);
    }
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *o = TS(&e, CML_DTYPE_FLOAT32, 2, 3);
    cml_evalue *om = TS(&e, CML_DTYPE_FLOAT32, 2, 1), *orr = TS(&e, CML_DTYPE_FLOAT32, 2, 1);
    cml_evalue *tl = tv_tensor_list(&e, 3, ARGS(o, om, orr));
    CHECK(CALL(&e, "aten::native_layer_norm.out", x, IL(&e, 4), tv_null(&e), tv_null(&e), tv_double(&e, 1e-5), o,
               om, orr, tl) == CML_ERR_SHAPE);
    CHECK(PREP(&e, "aten::native_layer_norm.out", x, IL(&e, 1, 2, 3), tv_null(&e), tv_null(&e),
               tv_double(&e, 1e-5), o, om, orr, tl) == CML_ERR_INVALID_ARG);
    tv_free(&e);
}

static void test_group_norm(void) {
    for (int it = 0; it < 20; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int64_t n = tv_randint(1, 3), G = tv_randint(1, 4), cg = tv_randint(1, 3), c = G * cg;
        int64_t h = tv_randint(1, 5), w_ = tv_randint(1, 5), sp = h * w_;
        cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, n, c, h, w_), *o = TS(&e, CML_DTYPE_FLOAT32, n, c, h, w_);
        cml_evalue *w = TS(&e, CML_DTYPE_FLOAT32, c), *b = TS(&e, CML_DTYPE_FLOAT32, c);
        cml_evalue *om = TS(&e, CML_DTYPE_FLOAT32, n, G), *orr = TS(&e, CML_DTYPE_FLOAT32, n, G);
        tv_fill_rand(x);
        tv_fill_rand(w);
        tv_fill_rand(b);
        cml_evalue *tl = tv_tensor_list(&e, 3, ARGS(o, om, orr));
        double eps = 1e-5;
        cml_status st = CALL(&e, "aten::native_group_norm.out", x, w, b, tv_int(&e, n), tv_int(&e, c),
                             tv_int(&e, sp), tv_int(&e, G), tv_double(&e, eps), o, om, orr, tl);
        CHECK_MSG(st == CML_OK, "%s", e.err.msg);
        double *ref = malloc(sizeof(double) * (size_t)(n * c * sp)), *rm = malloc(sizeof(double) * (size_t)(n * G));
        int64_t len = cg * sp;
        for (int64_t r = 0; r < n * G; r++) {
            double s = 0, v = 0;
            for (int64_t i = 0; i < len; i++) s += F(x)[r * len + i];
            double mu = s / (double)len;
            for (int64_t i = 0; i < len; i++) v += pow(F(x)[r * len + i] - mu, 2);
            double rs = 1.0 / sqrt(v / (double)len + eps);
            rm[r] = mu;
            for (int64_t i = 0; i < len; i++) {
                int64_t ch = (r % G) * cg + i / sp;
                ref[r * len + i] = (F(x)[r * len + i] - mu) * rs * F(w)[ch] + F(b)[ch];
            }
        }
        CHECK(tv_check_all("group_norm", T(o), ref, n * c * sp, 1e-4, 1e-4));
        CHECK(tv_check_all("group_norm mean", T(om), rm, n * G, 1e-5, 1e-5));
        free(ref);
        free(rm);
        tv_free(&e);
    }
}

static void test_softmax(void) {
    for (int it = 0; it < 40; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int32_t rank = (int32_t)tv_randint(1, 4);
        int64_t sz[4];
        for (int32_t d = 0; d < rank; d++) sz[d] = tv_randint(1, 9);
        int64_t dim = tv_randint(-rank, rank - 1);
        int32_t dd = (int32_t)(dim < 0 ? dim + rank : dim);
        bool log_ = it % 2;
        cml_dtype dt = it % 5 == 4 ? CML_DTYPE_FLOAT16 : CML_DTYPE_FLOAT32;
        cml_evalue *x = tv_tensor(&e, dt, rank, sz), *o = tv_tensor(&e, dt, rank, sz);
        tv_fill_rand(x);
        cml_status st = CALL(&e, log_ ? "aten::_log_softmax.out" : "aten::_softmax.out", x, tv_int(&e, dim),
                             tv_bool(&e, false), o, o);
        CHECK_MSG(st == CML_OK, "%s", e.err.msg);
        int64_t outer = 1, inner = 1, ax = sz[dd];
        for (int32_t d = 0; d < dd; d++) outer *= sz[d];
        for (int32_t d = dd + 1; d < rank; d++) inner *= sz[d];
        int64_t total = outer * ax * inner;
        double *ref = malloc(sizeof(double) * (size_t)total);
        for (int64_t a = 0; a < outer; a++)
            for (int64_t i = 0; i < inner; i++) {
                double m = -INFINITY, s = 0;
                for (int64_t k = 0; k < ax; k++) m = fmax(m, tv_get(T(x), (a * ax + k) * inner + i));
                for (int64_t k = 0; k < ax; k++) s += exp(tv_get(T(x), (a * ax + k) * inner + i) - m);
                for (int64_t k = 0; k < ax; k++) {
                    double v = tv_get(T(x), (a * ax + k) * inner + i) - m;
                    double r = log_ ? v - log(s) : exp(v) / s;
                    ref[(a * ax + k) * inner + i] = dt == CML_DTYPE_FLOAT16 ? cml_round_fp16((float)r) : r;
                }
            }
        double tol = dt == CML_DTYPE_FLOAT16 ? 3e-3 : 1e-5;
        CHECK(tv_check_all(log_ ? "log_softmax" : "softmax", T(o), ref, total, tol, tol));
        free(ref);
        tv_free(&e);
    }
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *o = TS(&e, CML_DTYPE_FLOAT32, 2, 3);
    CHECK(PREP(&e, "aten::_softmax.out", x, tv_int(&e, 2), tv_bool(&e, false), o, o) == CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, "aten::_softmax.out", x, tv_int(&e, 1), tv_bool(&e, true), o, o) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

int main(void) {
    test_batch_norm();
    test_layer_norm();
    test_group_norm();
    test_softmax();
    TEST_MAIN_END();
}
