/* any / var / var_mean / prod / max.dim / min.dim / max.unary / min.unary
 * against naive double references over random shapes and dim subsets, every
 * dtype upstream accepts, NaN propagation, empty reductions, a transposed
 * (non-contiguous dim order) input, and rejection at prepare. */
#include "test_aten_num_util.h"

static const cml_dtype ALL_DTS[] = {CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT64, CML_DTYPE_FLOAT16,
                                    CML_DTYPE_BFLOAT16, CML_DTYPE_UINT8, CML_DTYPE_INT8,
                                    CML_DTYPE_INT16, CML_DTYPE_INT32, CML_DTYPE_INT64,
                                    CML_DTYPE_BOOL};

typedef struct shape {
    int32_t rank;
    int64_t sz[5];
    bool mask[5];
    int64_t dims[5];
    uint32_t nd;
    int64_t numel, osz[5], onumel;
    int32_t orank;
} shape;

/* Random shape with a random non-empty dim subset (or all when all_dims). */
static void rand_shape(shape *s, bool keep, int max_nd) {
    memset(s, 0, sizeof *s);
    s->rank = (int32_t)tv_randint(1, 4);
    s->numel = 1;
    for (int32_t d = 0; d < s->rank; d++) {
        s->sz[d] = tv_randint(1, 5);
        s->numel *= s->sz[d];
    }
    for (int32_t d = 0; d < s->rank && (int)s->nd < max_nd; d++)
        if (tv_rand() % 2) {
            s->mask[d] = true;
            s->dims[s->nd++] = (tv_rand() % 2) ? d : d - s->rank;
        }
    if (s->nd == 0) {
        int32_t d = (int32_t)tv_randint(0, s->rank - 1);
        s->mask[d] = true;
        s->dims[s->nd++] = d;
    }
    s->onumel = 1;
    for (int32_t d = 0; d < s->rank; d++) {
        if (!s->mask[d]) s->osz[s->orank++] = s->sz[d];
        else if (keep) s->osz[s->orank++] = 1;
        if (!s->mask[d]) s->onumel *= s->sz[d];
    }
}
/* Output index of input flat index i. */
static int64_t out_index(const shape *s, int64_t i) {
    int64_t idx[5], o = 0;
    tv_unravel(i, s->rank, s->sz, idx);
    for (int32_t d = 0; d < s->rank; d++)
        if (!s->mask[d]) o = o * s->sz[d] + idx[d];
    return o;
}
static double rand_val(cml_dtype dt) {
    if (dt == CML_DTYPE_BOOL) return (double)(tv_rand() % 2);
    if (dt == CML_DTYPE_UINT8) return (double)(tv_rand() % 6);
    if (tn_is_float(dt))
        return (tv_rand() % 4 == 0) ? 0.0 : (double)tv_randf() * 4;
    return (double)tv_randint(-3, 3);
}

static void test_any(void) {
    for (int it = 0; it < 120; it++) {
        static tenv e;
        tv_init(&e);
        cml_dtype dt = ALL_DTS[it % TN_COUNT(ALL_DTS)];
        cml_dtype od = it % 3 ? CML_DTYPE_BOOL : CML_DTYPE_UINT8;
        bool keep = (it / 3) % 2;
        int form = it % 4; /* 0 dims_out, 1 any.out, 2 all_out, 3 dims_out None */
        shape s;
        rand_shape(&s, keep, form == 1 ? 1 : 5);
        if (form >= 2) {
            for (int32_t d = 0; d < s.rank; d++) s.mask[d] = true;
            s.onumel = 1;
            s.orank = 0;
            for (int32_t d = 0; d < s.rank && keep && form == 3; d++) s.osz[s.orank++] = 1;
        }
        double xv[625], ref[625] = {0};
        for (int64_t i = 0; i < s.numel; i++) {
            xv[i] = tv_rand() % 5 == 0 ? (it % 7 == 0 && tn_is_float(dt) ? NAN : 1.0) : 0.0;
            if (xv[i] != 0.0) ref[out_index(&s, i)] = 1.0;
        }
        if (form >= 2) {
            ref[0] = 0;
            for (int64_t i = 0; i < s.numel; i++) ref[0] = ref[0] || xv[i] != 0.0;
        }
        cml_evalue *x = tn_tensor(&e, dt, s.rank, s.sz, xv), *o = tn_out(&e, od, 5, 625);
        cml_status st;
        if (form == 0) st = CALL(&e, "aten::any.dims_out", x, tv_int_list(&e, s.nd, s.dims), tv_bool(&e, keep), o, o);
        else if (form == 1) st = CALL(&e, "aten::any.out", x, tv_int(&e, s.dims[0]), tv_bool(&e, keep), o, o);
        else if (form == 2) st = CALL(&e, "aten::any.all_out", x, o, o);
        else st = CALL(&e, "aten::any.dims_out", x, tv_null(&e), tv_bool(&e, keep), o, o);
        CHECK_MSG(st == CML_OK, "%s", e.err.msg);
        CHECK_MSG(tv_shape_is(T(o), s.orank, s.osz), "any shape form %d", form);
        CHECK_MSG(tn_check("any", T(o), ref, s.onumel, 0), "form %d it %d", form, it);
        tv_free(&e);
    }
    /* dims_out with [] is an elementwise cast; any.out over an empty dim is false */
    static tenv e;
    tv_init(&e);
    cml_evalue *x = tn_tensor(&e, CML_DTYPE_INT32, 2, S(2, 2), (double[]){0, 3, -1, 0});
    cml_evalue *o = tn_out(&e, CML_DTYPE_BOOL, 2, 4);
    CHECK(CALL(&e, "aten::any.dims_out", x, tv_int_list(&e, 0, NULL), tv_bool(&e, false), o, o) == CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(2, 2)) && tn_check("any []", T(o), (double[]){0, 1, 1, 0}, 4, 0));
    cml_evalue *z = tv_tensor(&e, CML_DTYPE_FLOAT32, 2, S(3, 0));
    CHECK(CALL(&e, "aten::any.out", z, tv_int(&e, 1), tv_bool(&e, false), o, o) == CML_OK);
    CHECK(tn_check("any empty", T(o), (double[]){0, 0, 0}, 3, 0));
    tv_free(&e);
}

/* form 0: var.out, 1: var.correction_out, 2: var_mean.correction_out */
static void test_var(void) {
    for (int it = 0; it < 120; it++) {
        static tenv e;
        tv_init(&e);
        cml_dtype dt = TN_FLOATS[it % 4], od = TN_FLOATS[(it / 4) % 4];
        bool keep = it % 2;
        int form = it % 3;
        shape s;
        rand_shape(&s, keep, 5);
        double xv[625], sum[625] = {0}, sum2[625] = {0}, cnt = (double)(s.numel / s.onumel);
        for (int64_t i = 0; i < s.numel; i++) {
            xv[i] = tn_round(dt, (double)tv_randf() * 3 + 1);
            sum[out_index(&s, i)] += xv[i];
        }
        for (int64_t i = 0; i < s.numel; i++) {
            double dv = xv[i] - sum[out_index(&s, i)] / cnt;
            sum2[out_index(&s, i)] += dv * dv;
        }
        double corr = form == 0 ? (it % 4 < 2 ? 1 : 0) : (double)(it % 5) * 0.5;
        double var[625], mean[625];
        for (int64_t o = 0; o < s.onumel; o++) {
            double den = cnt - corr;
            var[o] = den > 0 ? sum2[o] / den : NAN;
            mean[o] = den > 0 ? sum[o] / cnt : NAN;
        }
        cml_evalue *x = tn_tensor(&e, dt, s.rank, s.sz, xv), *o = tn_out(&e, od, 5, 625);
        cml_evalue *m = tn_out(&e, od, 5, 625);
        cml_evalue *dl = it % 7 == 0 ? tv_null(&e) : tv_int_list(&e, s.nd, s.dims);
        if (it % 7 == 0) { /* None: every dim */
            double all = 0, all2 = 0;
            for (int64_t i = 0; i < s.numel; i++) all += xv[i];
            for (int64_t i = 0; i < s.numel; i++) all2 += (xv[i] - all / (double)s.numel) * (xv[i] - all / (double)s.numel);
            double den = (double)s.numel - corr;
            var[0] = den > 0 ? all2 / den : NAN;
            mean[0] = den > 0 ? all / (double)s.numel : NAN;
            s.onumel = 1;
            s.orank = 0;
            for (int32_t d = 0; d < s.rank && keep; d++) s.osz[s.orank++] = 1;
        }
        cml_evalue *cv = corr == floor(corr) ? tv_int(&e, (int64_t)corr) : tv_double(&e, corr);
        if (form == 1 && corr == 1) cv = tv_null(&e); /* default correction */
        cml_status st;
        if (form == 0) st = CALL(&e, "aten::var.out", x, dl, tv_bool(&e, corr == 1), tv_bool(&e, keep), o, o);
        else if (form == 1) st = CALL(&e, "aten::var.correction_out", x, dl, cv, tv_bool(&e, keep), o, o);
        else st = CALL(&e, "aten::var_mean.correction_out", x, dl, cv, tv_bool(&e, keep), o, m,
                       tv_tensor_list(&e, 2, ARGS(o, m)));
        CHECK_MSG(st == CML_OK, "%s", e.err.msg);
        CHECK(tv_shape_is(T(o), s.orank, s.osz));
        double tol = tn_tol(od) * 2;
        CHECK_MSG(tn_check("var", T(o), var, s.onumel, tol), "it %d form %d", it, form);
        if (form == 2) CHECK_MSG(tn_check("var_mean mean", T(m), mean, s.onumel, tol), "it %d", it);
        tv_free(&e);
    }
}

static void test_prod(void) {
    for (int it = 0; it < 100; it++) {
        static tenv e;
        tv_init(&e);
        cml_dtype dt = ALL_DTS[it % TN_COUNT(ALL_DTS)];
        bool keep = it % 2, all = it % 3 == 0;
        shape s;
        rand_shape(&s, keep, 1);
        if (all) {
            s.onumel = 1;
            s.orank = 0;
        }
        bool isf = tn_is_float(dt);
        cml_dtype od = all ? (isf ? dt : CML_DTYPE_INT64) : (it % 4 == 1 ? CML_DTYPE_FLOAT32 : dt);
        double xv[625], ref[625];
        for (int64_t o = 0; o < 625; o++) ref[o] = 1;
        for (int64_t i = 0; i < s.numel; i++) {
            xv[i] = isf ? tn_round(dt, 0.5 + (double)(tv_rand() % 100) / 100) : rand_val(dt);
            ref[all ? 0 : out_index(&s, i)] *= xv[i];
        }
        for (int64_t o = 0; o < s.onumel; o++) ref[o] = tn_round(od, ref[o]);
        cml_evalue *x = tn_tensor(&e, dt, s.rank, s.sz, xv), *o = tn_out(&e, od, 5, 625);
        cml_evalue *dtype = it % 5 == 0 ? tv_int(&e, od) : tv_null(&e);
        cml_status st = all ? CALL(&e, "aten::prod.out", x, dtype, o, o)
                            : CALL(&e, "aten::prod.int_out", x, tv_int(&e, s.dims[0]), tv_bool(&e, keep), dtype, o, o);
        CHECK_MSG(st == CML_OK, "%s", e.err.msg);
        CHECK(tv_shape_is(T(o), s.orank, s.osz));
        CHECK_MSG(tn_check("prod", T(o), ref, s.onumel, isf ? tn_tol(dt) * 4 : 0), "it %d %s", it, cml_dtype_name(dt));
        tv_free(&e);
    }
    static tenv e;
    tv_init(&e);
    /* int32 products wrap in 32 bits (2^16 * 2^16 = 2^32 -> 0; * 3 more) */
    cml_evalue *x = tn_tensor(&e, CML_DTYPE_INT32, 2, S(2, 2), (double[]){65536, 65536, 65536, 3});
    cml_evalue *o = tn_out(&e, CML_DTYPE_INT32, 1, 2);
    CHECK(CALL(&e, "aten::prod.int_out", x, tv_int(&e, 1), tv_bool(&e, false), tv_null(&e), o, o) == CML_OK);
    CHECK(((int32_t *)T(o)->data)[0] == 0 && ((int32_t *)T(o)->data)[1] == 196608);
    /* empty product is 1 */
    cml_evalue *z = tv_tensor(&e, CML_DTYPE_FLOAT32, 2, S(2, 0));
    cml_evalue *oz = tn_out(&e, CML_DTYPE_FLOAT32, 1, 2);
    CHECK(CALL(&e, "aten::prod.int_out", z, tv_int(&e, 1), tv_bool(&e, false), tv_null(&e), oz, oz) == CML_OK);
    CHECK(F(oz)[0] == 1.0f && F(oz)[1] == 1.0f);
    /* int64 exactness beyond 2^53 */
    cml_evalue *xl = tv_tensor(&e, CML_DTYPE_INT64, 1, S(2)), *ol = tv_tensor(&e, CML_DTYPE_INT64, 0, NULL);
    ((int64_t *)T(xl)->data)[0] = ((int64_t)1 << 53) + 1;
    ((int64_t *)T(xl)->data)[1] = 3;
    CHECK(CALL(&e, "aten::prod.out", xl, tv_null(&e), ol, ol) == CML_OK);
    CHECK(((int64_t *)T(ol)->data)[0] == 3 * (((int64_t)1 << 53) + 1));
    tv_free(&e);
}

static void test_max_min_dim(void) {
    for (int it = 0; it < 120; it++) {
        static tenv e;
        tv_init(&e);
        cml_dtype dt = ALL_DTS[it % TN_COUNT(ALL_DTS)];
        bool keep = it % 2, is_max = (it / 2) % 2;
        shape s;
        rand_shape(&s, keep, 1);
        double xv[625], best[625];
        int64_t bi[625], pos[625] = {0};
        for (int64_t i = 0; i < s.numel; i++) {
            xv[i] = tn_round(dt, rand_val(dt));
            if (tn_is_float(dt) && it % 5 == 0 && tv_rand() % 6 == 0) xv[i] = NAN;
        }
        for (int64_t i = 0; i < s.numel; i++) {
            int64_t o = out_index(&s, i), k = pos[o]++;
            bool take = k == 0 || (!isnan(best[o]) && (isnan(xv[i]) || (is_max ? xv[i] > best[o] : xv[i] < best[o])));
            if (take) {
                best[o] = xv[i];
                bi[o] = k;
            }
        }
        cml_evalue *x = tn_tensor(&e, dt, s.rank, s.sz, xv), *v = tn_out(&e, dt, 5, 625);
        cml_evalue *ix = tn_out(&e, CML_DTYPE_INT64, 5, 625);
        const char *name = is_max ? "aten::max.dim_max" : "aten::min.dim_min";
        CHECK_MSG(CALL(&e, name, x, tv_int(&e, s.dims[0]), tv_bool(&e, keep), v, ix,
                       tv_tensor_list(&e, 2, ARGS(v, ix))) == CML_OK, "%s", e.err.msg);
        CHECK(tv_shape_is(T(v), s.orank, s.osz) && tv_shape_is(T(ix), s.orank, s.osz));
        double bid[625];
        for (int64_t o = 0; o < s.onumel; o++) bid[o] = (double)bi[o];
        CHECK_MSG(tn_check(name, T(v), best, s.onumel, 0), "it %d", it);
        CHECK_MSG(tn_check(name, T(ix), bid, s.onumel, 0), "it %d", it);
        tv_free(&e);
    }
}

static void test_unary(void) {
    static tenv e;
    tv_init(&e);
    for (int k = 0; k < TN_COUNT(ALL_DTS); k++) {
        cml_dtype dt = ALL_DTS[k];
        cml_evalue *x = tn_tensor(&e, dt, 2, S(2, 3), (double[]){1, 0, 3, 2, 1, 0});
        cml_evalue *o = tv_tensor(&e, dt, 0, NULL), *o2 = tv_tensor(&e, dt, 0, NULL);
        CHECK(CALL(&e, "aten::max.unary_out", x, o, o) == CML_OK && tn_get(T(o), 0) == (dt == CML_DTYPE_BOOL ? 1 : 3));
        CHECK(CALL(&e, "aten::min.unary_out", x, o2, o2) == CML_OK && tn_get(T(o2), 0) == 0);
    }
    /* NaN wins; int -> float out; int64 exact */
    cml_evalue *x = tn_tensor(&e, CML_DTYPE_FLOAT32, 1, S(4), (double[]){1, NAN, 5, -2});
    cml_evalue *o = tv_tensor(&e, CML_DTYPE_FLOAT32, 0, NULL);
    CHECK(CALL(&e, "aten::max.unary_out", x, o, o) == CML_OK && isnan(F(o)[0]));
    CHECK(CALL(&e, "aten::min.unary_out", x, o, o) == CML_OK && isnan(F(o)[0]));
    cml_evalue *xi = tn_tensor(&e, CML_DTYPE_INT32, 1, S(3), (double[]){-7, 4, 2});
    CHECK(CALL(&e, "aten::min.unary_out", xi, o, o) == CML_OK && F(o)[0] == -7.0f);
    cml_evalue *xl = tv_tensor(&e, CML_DTYPE_INT64, 1, S(2)), *ol = tv_tensor(&e, CML_DTYPE_INT64, 0, NULL);
    ((int64_t *)T(xl)->data)[0] = ((int64_t)1 << 60) + 1;
    ((int64_t *)T(xl)->data)[1] = ((int64_t)1 << 60);
    CHECK(CALL(&e, "aten::max.unary_out", xl, ol, ol) == CML_OK && ((int64_t *)T(ol)->data)[0] == ((int64_t)1 << 60) + 1);
    CHECK(CALL(&e, "aten::min.unary_out", xl, ol, ol) == CML_OK && ((int64_t *)T(ol)->data)[0] == ((int64_t)1 << 60));
    /* empty: -inf for max, +inf for min, integer bounds */
    cml_evalue *z = tv_tensor(&e, CML_DTYPE_FLOAT32, 1, S(0));
    CHECK(CALL(&e, "aten::max.unary_out", z, o, o) == CML_OK && isinf(F(o)[0]) && F(o)[0] < 0);
    CHECK(CALL(&e, "aten::min.unary_out", z, o, o) == CML_OK && isinf(F(o)[0]) && F(o)[0] > 0);
    cml_evalue *zi = tv_tensor(&e, CML_DTYPE_INT8, 1, S(0)), *oi = tv_tensor(&e, CML_DTYPE_INT8, 0, NULL);
    CHECK(CALL(&e, "aten::max.unary_out", zi, oi, oi) == CML_OK && ((int8_t *)T(oi)->data)[0] == INT8_MIN);
    /* float -> int and int -> bool are not casts upstream allows */
    CHECK(PREP(&e, "aten::max.unary_out", x, oi, oi) == CML_ERR_UNSUPPORTED);
    CHECK(tn_msg_names(&e, "aten::max.unary_out"));
    cml_evalue *ob = tv_tensor(&e, CML_DTYPE_BOOL, 0, NULL);
    CHECK(PREP(&e, "aten::min.unary_out", xi, ob, ob) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

/* A transposed input (dim order [1, 0]) is read through its strides. */
static void test_strided_input(void) {
    static tenv e;
    tv_init(&e);
    cml_evalue *x = tv_tensor(&e, CML_DTYPE_FLOAT32, 2, S(2, 3));
    T(x)->dim_order[0] = 1;
    T(x)->dim_order[1] = 0;
    /* logical [[1, 2, 3], [4, 6, 8]] stored column-major */
    float mem[6] = {1, 4, 2, 6, 3, 8};
    memcpy(F(x), mem, sizeof mem);
    cml_evalue *o = tn_out(&e, CML_DTYPE_FLOAT32, 1, 2), *m = tn_out(&e, CML_DTYPE_FLOAT32, 1, 2);
    CHECK(CALL(&e, "aten::var_mean.correction_out", x, IL(&e, 1), tv_null(&e), tv_bool(&e, false), o, m,
               tv_tensor_list(&e, 2, ARGS(o, m))) == CML_OK);
    CHECK(tn_check("var T", T(o), (double[]){1, 4}, 2, 1e-6) && tn_check("mean T", T(m), (double[]){2, 6}, 2, 1e-6));
    cml_evalue *v = tn_out(&e, CML_DTYPE_FLOAT32, 1, 3), *ix = tn_out(&e, CML_DTYPE_INT64, 1, 3);
    CHECK(CALL(&e, "aten::max.dim_max", x, tv_int(&e, 0), tv_bool(&e, false), v, ix, tv_tensor_list(&e, 2, ARGS(v, ix))) == CML_OK);
    CHECK(tn_check("max T", T(v), (double[]){4, 6, 8}, 3, 0) && tn_check("argmax T", T(ix), (double[]){1, 1, 1}, 3, 0));
    tv_free(&e);
}

/* Rank-0 inputs: dim 0 / -1 reduce nothing; NaN propagates through var. */
static void test_scalar_inputs(void) {
    static tenv e;
    tv_init(&e);
    cml_evalue *x = tv_tensor(&e, CML_DTYPE_FLOAT32, 0, NULL);
    F(x)[0] = -2.5f;
    cml_evalue *v = tv_tensor(&e, CML_DTYPE_FLOAT32, 0, NULL), *ix = tv_tensor(&e, CML_DTYPE_INT64, 0, NULL);
    CHECK(CALL(&e, "aten::max.dim_max", x, tv_int(&e, -1), tv_bool(&e, true), v, ix, tv_tensor_list(&e, 2, ARGS(v, ix))) ==
          CML_OK);
    CHECK(T(v)->rank == 0 && F(v)[0] == -2.5f && ((int64_t *)T(ix)->data)[0] == 0);
    cml_evalue *b = tv_tensor(&e, CML_DTYPE_BOOL, 0, NULL);
    CHECK(CALL(&e, "aten::any.out", x, tv_int(&e, 0), tv_bool(&e, false), b, b) == CML_OK && ((uint8_t *)T(b)->data)[0] == 1);
    CHECK(PREP(&e, "aten::any.out", x, tv_int(&e, 1), tv_bool(&e, false), b, b) == CML_ERR_INVALID_ARG);
    cml_evalue *xn = tn_tensor(&e, CML_DTYPE_FLOAT16, 1, S(3), (double[]){1, NAN, 2});
    CHECK(CALL(&e, "aten::var.correction_out", xn, tv_null(&e), tv_null(&e), tv_bool(&e, false), v, v) == CML_OK);
    CHECK(isnan(F(v)[0]));
    tv_free(&e);
}

static void test_reject(void) {
    static tenv e;
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *o = tn_out(&e, CML_DTYPE_FLOAT32, 2, 8);
    cml_evalue *xi = TS(&e, CML_DTYPE_INT32, 2, 3), *oi = tn_out(&e, CML_DTYPE_INT32, 2, 8);
    cml_evalue *ol = tn_out(&e, CML_DTYPE_INT64, 2, 8);
    CHECK(PREP(&e, "aten::any.out", x, tv_int(&e, 0), tv_bool(&e, false), o, o) == CML_ERR_UNSUPPORTED);
    CHECK(tn_msg_names(&e, "aten::any.out"));
    CHECK(PREP(&e, "aten::any.dims_out", x, IL(&e, 0, 0), tv_bool(&e, false), o, o) == CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, "aten::any.out", x, tv_int(&e, 2), tv_bool(&e, false), o, o) == CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, "aten::var.out", xi, IL(&e, 1), tv_bool(&e, true), tv_bool(&e, false), o, o) == CML_ERR_UNSUPPORTED);
    CHECK(tn_msg_names(&e, "aten::var.out"));
    CHECK(PREP(&e, "aten::var.correction_out", x, IL(&e, 1), tv_null(&e), tv_bool(&e, false), oi, oi) == CML_ERR_UNSUPPORTED);
    cml_evalue *oh = tn_out(&e, CML_DTYPE_FLOAT16, 2, 8);
    CHECK(PREP(&e, "aten::var_mean.correction_out", x, IL(&e, 1), tv_null(&e), tv_bool(&e, false), o, oh,
               tv_tensor_list(&e, 2, ARGS(o, oh))) == CML_ERR_UNSUPPORTED);
    /* prod.out: integer input needs an int64 out unless dtype says otherwise */
    CHECK(PREP(&e, "aten::prod.out", xi, tv_null(&e), oi, oi) == CML_ERR_INVALID_ARG);
    CHECK(tn_msg_names(&e, "aten::prod.out"));
    CHECK(PREP(&e, "aten::prod.out", xi, tv_null(&e), ol, ol) == CML_OK);
    CHECK(PREP(&e, "aten::prod.out", xi, tv_int(&e, CML_DTYPE_INT32), oi, oi) == CML_OK);
    CHECK(PREP(&e, "aten::prod.int_out", xi, tv_int(&e, 0), tv_bool(&e, false), tv_int(&e, CML_DTYPE_INT64), oi, oi) ==
          CML_ERR_INVALID_ARG);
    /* max.dim: values dtype, int64 indices, empty dim */
    CHECK(PREP(&e, "aten::max.dim_max", x, tv_int(&e, 1), tv_bool(&e, false), oi, ol, tv_tensor_list(&e, 2, ARGS(oi, ol))) ==
          CML_ERR_UNSUPPORTED);
    CHECK(tn_msg_names(&e, "aten::max.dim_max"));
    CHECK(PREP(&e, "aten::min.dim_min", x, tv_int(&e, 1), tv_bool(&e, false), o, oi, tv_tensor_list(&e, 2, ARGS(o, oi))) ==
          CML_ERR_UNSUPPORTED);
    cml_evalue *z = tv_tensor(&e, CML_DTYPE_FLOAT32, 2, S(2, 0));
    CHECK(PREP(&e, "aten::min.dim_min", z, tv_int(&e, 1), tv_bool(&e, false), o, ol, tv_tensor_list(&e, 2, ARGS(o, ol))) ==
          CML_ERR_SHAPE);
    tv_free(&e);
}

int main(void) {
    test_any();
    test_var();
    test_prod();
    test_max_min_dim();
    test_unary();
    test_strided_input();
    test_scalar_inputs();
    test_reject();
    TEST_MAIN_END();
}
