/* executorch_prim scalar ops and aten::sym_* : Python semantics for ints
 * and doubles, results written into the out value, rejection. */
#include "test_aten_util.h"

static cml_evalue *run2(tenv *e, const char *op, cml_evalue *a, cml_evalue *b) {
    cml_evalue *o = tv_int(e, 0);
    cml_status st = CALL(e, op, a, b, o);
    CHECK_MSG(st == CML_OK, "%s: %s", op, e->err.msg);
    return o;
}

/* floordiv.int / mod.int (Python's floor rules), et_copy_index.tensor. */
static void test_int_overloads_and_copy_index(tenv *e) {
    static const int64_t a[] = {7, -7, 7, -7, 0, INT64_MAX, INT64_MIN + 1};
    static const int64_t b[] = {2, 2, -2, -2, 5, 7, -1};
    for (int k = 0; k < 7; k++) {
        cml_evalue *q = tv_int(e, 0), *r = tv_int(e, 0);
        CHECK(CALL(e, "executorch_prim::floordiv.int", tv_int(e, a[k]), tv_int(e, b[k]), q) == CML_OK);
        CHECK(CALL(e, "executorch_prim::mod.int", tv_int(e, a[k]), tv_int(e, b[k]), r) == CML_OK);
        /* Python: a == b * (a // b) + a % b, with a % b of b's sign (or 0). */
        long double fq = floorl((long double)a[k] / (long double)b[k]);
        CHECK_MSG(q->kind == CML_VALUE_INT && q->u.i == (int64_t)fq, "%lld // %lld = %lld",
                  (long long)a[k], (long long)b[k], (long long)q->u.i);
        CHECK_MSG(r->kind == CML_VALUE_INT && (r->u.i == 0 || (r->u.i < 0) == (b[k] < 0)) &&
                      (uint64_t)b[k] * (uint64_t)q->u.i + (uint64_t)r->u.i == (uint64_t)a[k],
                  "%lld %% %lld = %lld", (long long)a[k], (long long)b[k], (long long)r->u.i);
    }
    cml_evalue *o = tv_int(e, 0);
    CHECK(CALL(e, "executorch_prim::floordiv.int", tv_int(e, -7), tv_int(e, 2), o) == CML_OK && o->u.i == -4);
    CHECK(CALL(e, "executorch_prim::mod.int", tv_int(e, -7), tv_int(e, 3), o) == CML_OK && o->u.i == 2);
    CHECK(CALL(e, "executorch_prim::mod.int", tv_int(e, 1), tv_int(e, 0), o) == CML_ERR_INVALID_ARG &&
          strstr(e->err.msg, "executorch_prim::mod.int"));
    CHECK(CALL(e, "executorch_prim::floordiv.int", tv_int(e, INT64_MIN), tv_int(e, -1), o) == CML_ERR_INVALID_ARG);
    CHECK(PREP(e, "executorch_prim::floordiv.int", tv_double(e, 1.0), tv_int(e, 2), o) == CML_ERR_INVALID_ARG &&
          strstr(e->err.msg, "executorch_prim::floordiv.int"));
    CHECK(PREP(e, "executorch_prim::mod.int", tv_int(e, 1), tv_bool(e, true), o) == CML_ERR_INVALID_ARG);

    /* et_copy_index: rows appended one per index into a dynamic-bound [<=4, 3]. */
    const char *op = "executorch_prim::et_copy_index.tensor";
    cml_evalue *to = tv_tensor_cap(e, CML_DTYPE_INT32, 2, S(4, 3), 12, CML_SHAPE_DYNAMIC_BOUND);
    cml_evalue *from = TS(e, CML_DTYPE_INT32, 3);
    for (int64_t i = 0; i < 4; i++) {
        for (int k = 0; k < 3; k++) ((int32_t *)T(from)->data)[k] = (int32_t)(10 * i + k);
        CHECK(CALL(e, op, to, from, tv_int(e, i)) == CML_OK && tv_shape_is(T(to), 2, S(i + 1, 3)));
    }
    bool ok = true;
    for (int k = 0; k < 12; k++) ok = ok && ((int32_t *)T(to)->data)[k] == (int32_t)(10 * (k / 3) + k % 3);
    CHECK(ok);
    /* Past the capacity, a negative index, a row shape or dtype mismatch. */
    CHECK(CALL(e, op, to, from, tv_int(e, 4)) == CML_ERR_SHAPE && strstr(e->err.msg, op));
    CHECK(CALL(e, op, to, from, tv_int(e, -1)) == CML_ERR_INVALID_ARG);
    cml_evalue *from4 = TS(e, CML_DTYPE_INT32, 4);
    CHECK(CALL(e, op, to, from4, tv_int(e, 0)) == CML_ERR_SHAPE);
    cml_evalue *fromf = TS(e, CML_DTYPE_FLOAT32, 3);
    CHECK(PREP(e, op, to, fromf, tv_int(e, 0)) == CML_ERR_UNSUPPORTED && strstr(e->err.msg, op));
    cml_evalue *from2 = TS(e, CML_DTYPE_INT32, 1, 3);
    CHECK(PREP(e, op, to, from2, tv_int(e, 0)) == CML_ERR_INVALID_ARG);
    /* A static copy_to accepts only the index that keeps its shape. */
    cml_evalue *st = TS(e, CML_DTYPE_INT32, 1, 3);
    CHECK(CALL(e, op, st, from, tv_int(e, 0)) == CML_OK && ((int32_t *)T(st)->data)[2] == 32);
    CHECK(CALL(e, op, st, from, tv_int(e, 1)) == CML_ERR_SHAPE);
}

int main(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *o;
    o = run2(&e, "executorch_prim::add.Scalar", tv_int(&e, 3), tv_int(&e, 4));
    CHECK(o->kind == CML_VALUE_INT && o->u.i == 7);
    o = run2(&e, "executorch_prim::add.Scalar", tv_int(&e, 3), tv_double(&e, 0.5));
    CHECK(o->kind == CML_VALUE_DOUBLE && o->u.d == 3.5);
    o = run2(&e, "executorch_prim::sub.Scalar", tv_int(&e, 3), tv_int(&e, 5));
    CHECK(o->kind == CML_VALUE_INT && o->u.i == -2);
    o = run2(&e, "executorch_prim::mul.Scalar", tv_int(&e, -3), tv_int(&e, 5));
    CHECK(o->u.i == -15);
    o = run2(&e, "executorch_prim::floordiv.Scalar", tv_int(&e, -7), tv_int(&e, 2));
    CHECK(o->kind == CML_VALUE_INT && o->u.i == -4);
    o = run2(&e, "executorch_prim::floordiv.Scalar", tv_int(&e, 7), tv_int(&e, 2));
    CHECK(o->u.i == 3);
    o = run2(&e, "executorch_prim::mod.Scalar", tv_int(&e, -7), tv_int(&e, 3));
    CHECK(o->u.i == 2);
    o = run2(&e, "executorch_prim::truediv.Scalar", tv_int(&e, 7), tv_int(&e, 2));
    CHECK(o->kind == CML_VALUE_DOUBLE && o->u.d == 3.5);
    o = run2(&e, "executorch_prim::gt.Scalar", tv_int(&e, 7), tv_int(&e, 2));
    CHECK(o->kind == CML_VALUE_BOOL && o->u.b);
    o = run2(&e, "executorch_prim::le.Scalar", tv_int(&e, 7), tv_double(&e, 2.0));
    CHECK(o->kind == CML_VALUE_BOOL && !o->u.b);
    o = run2(&e, "executorch_prim::eq.Scalar", tv_int(&e, 2), tv_double(&e, 2.0));
    CHECK(o->u.b);
    o = run2(&e, "executorch_prim::sym_max.Scalar", tv_int(&e, 2), tv_int(&e, 9));
    CHECK(o->u.i == 9);
    o = run2(&e, "executorch_prim::sym_min.Scalar", tv_int(&e, 2), tv_int(&e, 9));
    CHECK(o->u.i == 2);
    cml_evalue *o1 = tv_int(&e, 0);
    CHECK(CALL(&e, "executorch_prim::neg.Scalar", tv_int(&e, 4), o1) == CML_OK && o1->u.i == -4);
    CHECK(CALL(&e, "executorch_prim::ceil.Scalar", tv_double(&e, 2.1), o1) == CML_OK && o1->kind == CML_VALUE_INT &&
          o1->u.i == 3);
    CHECK(CALL(&e, "executorch_prim::trunc.Scalar", tv_double(&e, -2.7), o1) == CML_OK && o1->u.i == -2);
    CHECK(CALL(&e, "executorch_prim::round.Scalar", tv_double(&e, 2.5), o1) == CML_OK && o1->u.i == 2);
    CHECK(CALL(&e, "executorch_prim::sym_float.Scalar", tv_int(&e, 3), o1) == CML_OK &&
          o1->kind == CML_VALUE_DOUBLE && o1->u.d == 3.0);
    CHECK(CALL(&e, "executorch_prim::sym_not.Scalar", tv_bool(&e, false), o1) == CML_OK && o1->u.b);
    cml_evalue *o2 = tv_int(&e, 0);
    CHECK(CALL(&e, "executorch_prim::sym_ite.Scalar", tv_bool(&e, true), tv_int(&e, 5), tv_int(&e, 6), o2) == CML_OK &&
          o2->u.i == 5);
    /* errors */
    cml_evalue *o3 = tv_int(&e, 0);
    CHECK(CALL(&e, "executorch_prim::floordiv.Scalar", tv_int(&e, 1), tv_int(&e, 0), o3) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&e, "executorch_prim::mul.Scalar", tv_int(&e, INT64_MAX), tv_int(&e, 2), o3) == CML_ERR_INVALID_ARG);
    cml_evalue *t = TS(&e, CML_DTYPE_FLOAT32, 2, 7, 3);
    CHECK(PREP(&e, "executorch_prim::add.Scalar", t, tv_int(&e, 1), o3) == CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, "executorch_prim::add.Scalar", tv_int(&e, 1), tv_int(&e, 1), t) == CML_ERR_INVALID_ARG);
    /* sym_size / sym_numel / sym_stride read the current shape */
    cml_evalue *s = tv_int(&e, 0);
    CHECK(CALL(&e, "aten::sym_size.int", t, tv_int(&e, -2), s) == CML_OK && s->u.i == 7);
    T(t)->sizes[1] = 5;
    CHECK(CALL(&e, "aten::sym_size.int", t, tv_int(&e, 1), s) == CML_OK && s->u.i == 5);
    CHECK(CALL(&e, "aten::sym_numel", t, s) == CML_OK && s->u.i == 30);
    CHECK(CALL(&e, "aten::sym_stride.int", t, tv_int(&e, 0), s) == CML_OK && s->u.i == 15);
    CHECK(CALL(&e, "aten::sym_size.int", t, tv_int(&e, 3), s) == CML_ERR_INVALID_ARG);
    /* an IntList item written by a sym op is seen by a later op */
    cml_evalue *list = IL(&e, 0, 3);
    cml_evalue *item = &e.v[list->u.int_list.items[0]];
    CHECK(CALL(&e, "aten::sym_size.int", t, tv_int(&e, 0), item) == CML_OK);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *vo = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 2, 6);
    CHECK(CALL(&e, "aten::view_copy.out", x, list, vo, vo) == CML_OK);
    CHECK(tv_shape_is(T(vo), 2, S(2, 3)));
    test_int_overloads_and_copy_index(&e);
    tv_free(&e);
    TEST_MAIN_END();
}
