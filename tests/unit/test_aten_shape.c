/* View/copy/creation ops: view (with -1), et_view, permute, t, transpose,
 * expand, repeat, cat (legacy empties), stack, slice (negative, clamped,
 * stepped), select, unbind, split, squeeze/unsqueeze, clone, _to_copy,
 * dim-order copies (channels-last both ways, with dtype change), pad,
 * full/zeros/ones/scalar_tensor, copy_, embedding; dynamic shapes and
 * rejection. */
#include "test_aten_util.h"

/* Fills with 0, 1, 2, ... in the tensor's dtype. */
static void iota(cml_evalue *v) {
    cml_tensor *t = T(v);
    int64_t n = cml_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case CML_DTYPE_FLOAT32: ((float *)t->data)[i] = (float)i; break;
        case CML_DTYPE_FLOAT16: ((uint16_t *)t->data)[i] = cml_fp32_to_fp16((float)i); break;
        case CML_DTYPE_INT64: ((int64_t *)t->data)[i] = i; break;
        case CML_DTYPE_INT32: ((int32_t *)t->data)[i] = (int32_t)i; break;
        case CML_DTYPE_UINT8:
        case CML_DTYPE_BOOL:
        case CML_DTYPE_INT8: ((uint8_t *)t->data)[i] = (uint8_t)i; break;
        default: break;
        }
    }
}

/* Element at a multi-index of a contiguous tensor. */
static double at(const cml_tensor *t, const int64_t *idx) {
    int64_t flat = 0;
    for (int32_t d = 0; d < t->rank; d++) flat = flat * t->sizes[d] + idx[d];
    return tv_get(t, flat);
}

static void test_views(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4);
    iota(x);
    cml_evalue *o = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 2, 24);
    CHECK(CALL(&e, "aten::view_copy.out", x, IL(&e, -1, 6), o, o) == CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(4, 6)));
    CHECK(F(o)[23] == 23.0f);
    CHECK(CALL(&e, "aten::view_copy.out", x, IL(&e, 5, -1), o, o) == CML_ERR_SHAPE);
    CHECK(CALL(&e, "aten::view_copy.out", x, IL(&e, -1, -1), o, o) == CML_ERR_INVALID_ARG);
    cml_evalue *o3 = TS(&e, CML_DTYPE_FLOAT32, 24);
    CHECK(CALL(&e, "aten::view_copy.out", x, IL(&e, 24), o3, o3) == CML_OK);
    CHECK(F(o3)[5] == 5.0f);
    /* view of a channels-last input copies in logical order */
    cml_evalue *cl = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 2, 3);
    T(cl)->dim_order[1] = 2;
    T(cl)->dim_order[2] = 3;
    T(cl)->dim_order[3] = 1; /* memory is [n, h, w, c] */
    for (int h = 0; h < 2; h++)
        for (int w = 0; w < 3; w++)
            for (int c = 0; c < 2; c++) F(cl)[(h * 3 + w) * 2 + c] = (float)(c * 100 + h * 10 + w);
    cml_evalue *ov = TS(&e, CML_DTYPE_FLOAT32, 12);
    CHECK(CALL(&e, "aten::view_copy.out", cl, IL(&e, 12), ov, ov) == CML_OK);
    CHECK(F(ov)[0] == 0.0f && F(ov)[1] == 1.0f && F(ov)[3] == 10.0f && F(ov)[6] == 100.0f);
    /* et_view shares memory */
    cml_evalue *ev = tv_tensor_cap(&e, CML_DTYPE_FLOAT32, 2, S(6, 4), 0, CML_SHAPE_DYNAMIC_BOUND);
    CHECK(CALL(&e, "executorch_prim::et_view.default", x, IL(&e, 6, -1), ev) == CML_OK);
    CHECK(T(ev)->data == T(x)->data && tv_shape_is(T(ev), 2, S(6, 4)));
    /* permute */
    cml_evalue *op = TS(&e, CML_DTYPE_FLOAT32, 4, 2, 3);
    CHECK(CALL(&e, "aten::permute_copy.out", x, IL(&e, 2, 0, -2), op, op) == CML_OK);
    bool ok = true;
    for (int64_t i = 0; i < 24; i++) {
        int64_t idx[3], src[3];
        tv_unravel(i, 3, T(op)->sizes, idx);
        src[0] = idx[1];
        src[1] = idx[2];
        src[2] = idx[0];
        ok = ok && F(op)[i] == at(T(x), src);
    }
    CHECK(ok);
    CHECK(PREP(&e, "aten::permute_copy.out", x, IL(&e, 0, 0, 1), op, op) == CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, "aten::permute_copy.out", x, IL(&e, 0, 1), op, op) == CML_ERR_INVALID_ARG);
    /* transpose and t */
    cml_evalue *ot = TS(&e, CML_DTYPE_FLOAT32, 4, 3, 2);
    CHECK(CALL(&e, "aten::transpose_copy.int_out", x, tv_int(&e, 0), tv_int(&e, -1), ot, ot) == CML_OK);
    CHECK(F(ot)[1] == 12.0f && F(ot)[2] == 4.0f);
    cml_evalue *m = TS(&e, CML_DTYPE_INT64, 2, 3), *mt = TS(&e, CML_DTYPE_INT64, 3, 2);
    iota(m);
    CHECK(CALL(&e, "aten::t_copy.out", m, mt, mt) == CML_OK);
    int64_t *pm = T(mt)->data;
    CHECK(pm[0] == 0 && pm[1] == 3 && pm[2] == 1 && pm[5] == 5);
    cml_evalue *v1 = TS(&e, CML_DTYPE_INT64, 3), *v1o = TS(&e, CML_DTYPE_INT64, 3);
    iota(v1);
    CHECK(CALL(&e, "aten::t_copy.out", v1, v1o, v1o) == CML_OK);
    CHECK(((int64_t *)T(v1o)->data)[2] == 2);
    /* dtype mismatch rejected for pure copies */
    cml_evalue *of16 = TS(&e, CML_DTYPE_FLOAT16, 4, 2, 3);
    CHECK(PREP(&e, "aten::permute_copy.out", x, IL(&e, 2, 0, 1), of16, of16) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

static void test_expand_repeat(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT16, 3, 1);
    iota(x);
    cml_evalue *o = TS(&e, CML_DTYPE_FLOAT16, 2, 3, 4);
    CHECK(CALL(&e, "aten::expand_copy.out", x, IL(&e, 2, -1, 4), tv_bool(&e, false), o, o) == CML_OK);
    bool ok = true;
    for (int64_t i = 0; i < 24; i++) ok = ok && tv_get(T(o), i) == (double)((i / 4) % 3);
    CHECK(ok);
    CHECK(CALL(&e, "aten::expand_copy.out", x, IL(&e, 2, 4, 4), tv_bool(&e, false), o, o) == CML_ERR_SHAPE);
    CHECK(CALL(&e, "aten::expand_copy.out", x, IL(&e, -1, 3, 4), tv_bool(&e, false), o, o) == CML_ERR_INVALID_ARG);
    /* repeat */
    cml_evalue *y = TS(&e, CML_DTYPE_INT32, 2, 2), *r = TS(&e, CML_DTYPE_INT32, 2, 4, 6);
    iota(y);
    CHECK(CALL(&e, "aten::repeat.out", y, IL(&e, 2, 2, 3), r, r) == CML_OK);
    ok = true;
    for (int64_t i = 0; i < 48; i++) {
        int64_t idx[3];
        tv_unravel(i, 3, S(2, 4, 6), idx);
        ok = ok && tv_get(T(r), i) == (double)((idx[1] % 2) * 2 + idx[2] % 2);
    }
    CHECK(ok);
    tv_free(&e);
}

static void test_cat_stack(void) {
    for (int it = 0; it < 20; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int32_t rank = (int32_t)tv_randint(1, 4);
        int32_t dim = (int32_t)tv_randint(0, rank - 1);
        int64_t base[4];
        for (int32_t d = 0; d < rank; d++) base[d] = tv_randint(1, 4);
        uint32_t n = (uint32_t)tv_randint(1, 4);
        cml_evalue *items[6];
        int64_t total = 0;
        for (uint32_t k = 0; k < n; k++) {
            int64_t s[4];
            memcpy(s, base, sizeof s);
            s[dim] = tv_randint(0, 3);
            total += s[dim];
            items[k] = tv_tensor(&e, CML_DTYPE_FLOAT32, rank, s);
            tv_fill_rand(items[k]);
        }
        int64_t z = 0;
        items[n] = tv_tensor(&e, CML_DTYPE_FLOAT32, 1, &z); /* legacy empty: skipped */
        int64_t os[4];
        memcpy(os, base, sizeof os);
        os[dim] = total;
        cml_evalue *o = tv_dyn_out(&e, CML_DTYPE_FLOAT32, rank, 4 * 4 * 4 * 16);
        cml_status st = CALL(&e, "aten::cat.out", tv_tensor_list(&e, n + 1, items), tv_int(&e, dim - rank), o, o);
        CHECK_MSG(st == CML_OK, "%s", e.err.msg);
        CHECK(tv_shape_is(T(o), rank, os));
        bool ok = true;
        for (int64_t i = 0; i < cml_tensor_numel(T(o)); i++) {
            int64_t idx[4];
            tv_unravel(i, rank, os, idx);
            int64_t p = idx[dim];
            uint32_t k = 0;
            while (p >= T(items[k])->sizes[dim]) p -= T(items[k++])->sizes[dim];
            idx[dim] = p;
            ok = ok && F(o)[i] == at(T(items[k]), idx);
        }
        CHECK(ok);
        /* stack along a random dim */
        cml_evalue *sitems[4];
        for (uint32_t k = 0; k < n; k++) {
            sitems[k] = tv_tensor(&e, CML_DTYPE_FLOAT32, rank, base);
            tv_fill_rand(sitems[k]);
        }
        int32_t sd = (int32_t)tv_randint(0, rank);
        int64_t ss[5];
        for (int32_t d = 0, s = 0; d <= rank; d++) ss[d] = d == sd ? (int64_t)n : base[s++];
        cml_evalue *so = tv_tensor(&e, CML_DTYPE_FLOAT32, rank + 1, ss);
        CHECK(CALL(&e, "aten::stack.out", tv_tensor_list(&e, n, sitems), tv_int(&e, sd), so, so) == CML_OK);
        ok = true;
        for (int64_t i = 0; i < cml_tensor_numel(T(so)); i++) {
            int64_t idx[5], sidx[4];
            tv_unravel(i, rank + 1, ss, idx);
            for (int32_t d = 0, s = 0; d <= rank; d++)
                if (d != sd) sidx[s++] = idx[d];
            ok = ok && F(so)[i] == at(T(sitems[idx[sd]]), sidx);
        }
        CHECK(ok);
        tv_free(&e);
    }
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *a = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *b = TS(&e, CML_DTYPE_FLOAT32, 3, 3),
               *o = TS(&e, CML_DTYPE_FLOAT32, 2, 6);
    CHECK(CALL(&e, "aten::cat.out", tv_tensor_list(&e, 2, ARGS(a, b)), tv_int(&e, 1), o, o) == CML_ERR_SHAPE);
    cml_evalue *c = TS(&e, CML_DTYPE_INT64, 2, 3);
    CHECK(PREP(&e, "aten::cat.out", tv_tensor_list(&e, 2, ARGS(a, c)), tv_int(&e, 1), o, o) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

static void test_slice_select_split(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_INT64, 3, 10);
    iota(x);
    cml_evalue *o = tv_dyn_out(&e, CML_DTYPE_INT64, 2, 30);
    int64_t *po = T(o)->data;
    /* x[:, 2:9:3] */
    CHECK(CALL(&e, "aten::slice_copy.Tensor_out", x, tv_int(&e, 1), tv_int(&e, 2), tv_int(&e, 9), tv_int(&e, 3), o, o) ==
          CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(3, 3)));
    CHECK(po[0] == 2 && po[1] == 5 && po[2] == 8 && po[3] == 12);
    /* x[:, -3:] with end None */
    CHECK(CALL(&e, "aten::slice_copy.Tensor_out", x, tv_int(&e, -1), tv_int(&e, -3), tv_null(&e), tv_int(&e, 1), o,
               o) == CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(3, 3)) && po[0] == 7 && po[8] == 29);
    /* end past the size clamps; INT64_MAX as upstream emits */
    CHECK(CALL(&e, "aten::slice_copy.Tensor_out", x, tv_int(&e, 0), tv_int(&e, 1), tv_int(&e, INT64_MAX),
               tv_int(&e, 1), o, o) == CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(2, 10)) && po[0] == 10);
    /* empty slice */
    CHECK(CALL(&e, "aten::slice_copy.Tensor_out", x, tv_int(&e, 1), tv_int(&e, 8), tv_int(&e, 2), tv_int(&e, 1), o,
               o) == CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(3, 0)));
    CHECK(CALL(&e, "aten::slice_copy.Tensor_out", x, tv_int(&e, 1), tv_int(&e, 0), tv_int(&e, 2), tv_int(&e, 0), o,
               o) == CML_ERR_INVALID_ARG);
    /* select */
    cml_evalue *s = TS(&e, CML_DTYPE_INT64, 3);
    CHECK(CALL(&e, "aten::select_copy.int_out", x, tv_int(&e, 1), tv_int(&e, -1), s, s) == CML_OK);
    CHECK(((int64_t *)T(s)->data)[0] == 9 && ((int64_t *)T(s)->data)[2] == 29);
    CHECK(CALL(&e, "aten::select_copy.int_out", x, tv_int(&e, 1), tv_int(&e, 10), s, s) == CML_ERR_INVALID_ARG);
    /* unbind */
    cml_evalue *u0 = TS(&e, CML_DTYPE_INT64, 10), *u1 = TS(&e, CML_DTYPE_INT64, 10), *u2 = TS(&e, CML_DTYPE_INT64, 10);
    cml_evalue *ul = tv_tensor_list(&e, 3, ARGS(u0, u1, u2));
    CHECK(CALL(&e, "aten::unbind_copy.int_out", x, tv_int(&e, 0), ul, ul) == CML_OK);
    CHECK(((int64_t *)T(u2)->data)[0] == 20);
    /* split_with_sizes */
    cml_evalue *p0 = TS(&e, CML_DTYPE_INT64, 3, 2), *p1 = TS(&e, CML_DTYPE_INT64, 3, 7), *p2 = TS(&e, CML_DTYPE_INT64, 3, 1);
    cml_evalue *pl = tv_tensor_list(&e, 3, ARGS(p0, p1, p2));
    CHECK(CALL(&e, "aten::split_with_sizes_copy.out", x, IL(&e, 2, 7, 1), tv_int(&e, 1), pl, pl) == CML_OK);
    CHECK(((int64_t *)T(p0)->data)[2] == 10 && ((int64_t *)T(p1)->data)[0] == 2 &&
          ((int64_t *)T(p2)->data)[2] == 29);
    CHECK(CALL(&e, "aten::split_with_sizes_copy.out", x, IL(&e, 2, 7, 2), tv_int(&e, 1), pl, pl) == CML_ERR_SHAPE);
    /* split_copy.Tensor: 10 = 4 + 4 + 2 */
    cml_evalue *q0 = TS(&e, CML_DTYPE_INT64, 3, 4), *q1 = TS(&e, CML_DTYPE_INT64, 3, 4), *q2 = TS(&e, CML_DTYPE_INT64, 3, 2);
    cml_evalue *ql = tv_tensor_list(&e, 3, ARGS(q0, q1, q2));
    CHECK(CALL(&e, "aten::split_copy.Tensor_out", x, tv_int(&e, 4), tv_int(&e, -1), ql, ql) == CML_OK);
    CHECK(((int64_t *)T(q1)->data)[0] == 4 && ((int64_t *)T(q2)->data)[5] == 29);
    tv_free(&e);
}

static void test_squeeze_unsqueeze(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 1, 3, 1, 2);
    iota(x);
    cml_evalue *o = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 3, 6);
    CHECK(CALL(&e, "aten::squeeze_copy.dims_out", x, IL(&e, 0, -2), o, o) == CML_OK);
    CHECK(tv_shape_is(T(o), 2, S(3, 2)) && F(o)[5] == 5.0f);
    cml_evalue *o2 = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 3, 6);
    /* squeezing a non-1 dim is a no-op for that dim */
    CHECK(CALL(&e, "aten::squeeze_copy.dims_out", x, IL(&e, 1, 2), o2, o2) == CML_OK);
    CHECK(tv_shape_is(T(o2), 3, S(1, 3, 2)));
    cml_evalue *o3 = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 3, 6);
    CHECK(CALL(&e, "aten::squeeze_copy.dim_out", x, tv_int(&e, 0), o3, o3) == CML_OK);
    CHECK(tv_shape_is(T(o3), 3, S(3, 1, 2)));
    cml_evalue *o4 = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 2, 6);
    CHECK(CALL(&e, "aten::squeeze_copy.out", x, o4, o4) == CML_OK);
    CHECK(tv_shape_is(T(o4), 2, S(3, 2)));
    cml_evalue *o5 = TS(&e, CML_DTYPE_FLOAT32, 1, 3, 1, 2, 1);
    CHECK(CALL(&e, "aten::unsqueeze_copy.out", x, tv_int(&e, -1), o5, o5) == CML_OK);
    CHECK(F(o5)[4] == 4.0f);
    cml_evalue *o6 = TS(&e, CML_DTYPE_FLOAT32, 1, 1, 3, 1, 2);
    CHECK(CALL(&e, "aten::unsqueeze_copy.out", x, tv_int(&e, 1), o6, o6) == CML_OK);
    CHECK(PREP(&e, "aten::unsqueeze_copy.out", x, tv_int(&e, 6), o6, o6) == CML_ERR_INVALID_ARG);
    tv_free(&e);
}

static void test_copies(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4, 5);
    tv_fill_rand(x);
    cml_evalue *o = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4, 5);
    CHECK(CALL(&e, "aten::clone.out", x, tv_null(&e), o, o) == CML_OK);
    CHECK(memcmp(T(o)->data, T(x)->data, 120 * 4) == 0);
    CHECK(PREP(&e, "aten::clone.out", x, tv_int(&e, 2), o, o) == CML_ERR_UNSUPPORTED);
    /* _to_copy fp32 -> fp16 rounds */
    cml_evalue *h = TS(&e, CML_DTYPE_FLOAT16, 2, 3, 4, 5);
    CHECK(CALL(&e, "aten::_to_copy.out", x, tv_bool(&e, false), tv_null(&e), h, h) == CML_OK);
    bool ok = true;
    for (int i = 0; i < 120; i++) ok = ok && ((uint16_t *)T(h)->data)[i] == cml_fp32_to_fp16(F(x)[i]);
    CHECK(ok);
    /* int64 -> float32 */
    cml_evalue *xi = TS(&e, CML_DTYPE_INT64, 4), *of = TS(&e, CML_DTYPE_FLOAT32, 4);
    iota(xi);
    CHECK(CALL(&e, "aten::_to_copy.out", xi, tv_bool(&e, false), tv_null(&e), of, of) == CML_OK);
    CHECK(F(of)[3] == 3.0f);
    /* contiguous -> channels last, same dtype, with an explicit dim_order */
    cml_evalue *cl = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4, 5);
    T(cl)->dim_order[1] = 2;
    T(cl)->dim_order[2] = 3;
    T(cl)->dim_order[3] = 1;
    CHECK(CALL(&e, "dim_order_ops::_to_dim_order_copy.out", x, tv_bool(&e, false), IL(&e, 0, 2, 3, 1), cl, cl) ==
          CML_OK);
    ok = true;
    for (int64_t n = 0; n < 2; n++)
        for (int64_t c = 0; c < 3; c++)
            for (int64_t hh = 0; hh < 4; hh++)
                for (int64_t w = 0; w < 5; w++)
                    ok = ok && F(cl)[((n * 4 + hh) * 5 + w) * 3 + c] == F(x)[((n * 3 + c) * 4 + hh) * 5 + w];
    CHECK(ok);
    /* and back, with a dtype change to fp16 */
    cml_evalue *back = TS(&e, CML_DTYPE_FLOAT16, 2, 3, 4, 5);
    CHECK(CALL(&e, "dim_order_ops::_to_dim_order_copy.out", cl, tv_bool(&e, false), tv_null(&e), back, back) ==
          CML_OK);
    ok = true;
    for (int i = 0; i < 120; i++) ok = ok && ((uint16_t *)T(back)->data)[i] == cml_fp32_to_fp16(F(x)[i]);
    CHECK(ok);
    /* _clone_dim_order to channels last */
    cml_evalue *cl2 = TS(&e, CML_DTYPE_FLOAT32, 2, 3, 4, 5);
    T(cl2)->dim_order[1] = 2;
    T(cl2)->dim_order[2] = 3;
    T(cl2)->dim_order[3] = 1;
    CHECK(CALL(&e, "dim_order_ops::_clone_dim_order.out", x, tv_bool(&e, false), IL(&e, 0, 2, 3, 1), cl2, cl2) ==
          CML_OK);
    CHECK(memcmp(T(cl2)->data, T(cl)->data, 120 * 4) == 0);
    /* dim_order argument disagreeing with the output */
    CHECK(PREP(&e, "dim_order_ops::_clone_dim_order.out", x, tv_bool(&e, false), IL(&e, 0, 1, 2, 3), cl2, cl2) ==
          CML_ERR_INVALID_ARG);
    /* clone cannot change dtype */
    CHECK(PREP(&e, "dim_order_ops::_clone_dim_order.out", x, tv_bool(&e, false), tv_null(&e), h, h) ==
          CML_ERR_UNSUPPORTED);
    /* copy_ broadcasts src into self in place */
    cml_evalue *self = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *src = TS(&e, CML_DTYPE_FLOAT32, 3);
    iota(src);
    CHECK(CALL(&e, "aten::copy_", self, src, tv_bool(&e, false), self) == CML_OK);
    CHECK(F(self)[0] == 0.0f && F(self)[4] == 1.0f && F(self)[5] == 2.0f);
    cml_evalue *srci = TS(&e, CML_DTYPE_INT64, 2, 3);
    iota(srci);
    cml_evalue *cout = TS(&e, CML_DTYPE_FLOAT32, 2, 3);
    CHECK(CALL(&e, "aten::copy.out", self, srci, tv_bool(&e, false), cout, cout) == CML_OK);
    CHECK(F(cout)[5] == 5.0f);
    CHECK(CALL(&e, "aten::copy_", src, self, tv_bool(&e, false), src) == CML_ERR_SHAPE);
    tv_free(&e);
}

static void test_pad_and_fill(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3);
    iota(x);
    /* pad last dim (1, 2), first dim (0, 1) */
    cml_evalue *o = TS(&e, CML_DTYPE_FLOAT32, 3, 6);
    CHECK(CALL(&e, "aten::constant_pad_nd.out", x, IL(&e, 1, 2, 0, 1), tv_double(&e, -1.5), o, o) == CML_OK);
    float want[18] = {-1.5f, 0, 1, 2, -1.5f, -1.5f, -1.5f, 3, 4, 5, -1.5f, -1.5f,
                      -1.5f, -1.5f, -1.5f, -1.5f, -1.5f, -1.5f};
    CHECK(memcmp(F(o), want, sizeof want) == 0);
    /* negative padding crops */
    cml_evalue *o2 = TS(&e, CML_DTYPE_FLOAT32, 2, 2);
    CHECK(CALL(&e, "aten::constant_pad_nd.out", x, IL(&e, -1, 0), tv_int(&e, 0), o2, o2) == CML_OK);
    CHECK(F(o2)[0] == 1.0f && F(o2)[1] == 2.0f && F(o2)[3] == 5.0f);
    CHECK(PREP(&e, "aten::constant_pad_nd.out", x, IL(&e, 1, 1, 1), tv_int(&e, 0), o2, o2) == CML_ERR_INVALID_ARG);
    /* full / zeros / ones / full_like / scalar_tensor */
    cml_evalue *f = tv_dyn_out(&e, CML_DTYPE_INT64, 2, 12);
    CHECK(CALL(&e, "aten::full.out", IL(&e, 3, 4), tv_int(&e, 7), f, f) == CML_OK);
    CHECK(tv_shape_is(T(f), 2, S(3, 4)) && ((int64_t *)T(f)->data)[11] == 7);
    cml_evalue *fb = TS(&e, CML_DTYPE_BOOL, 5);
    CHECK(CALL(&e, "aten::full.out", IL(&e, 5), tv_bool(&e, true), fb, fb) == CML_OK);
    CHECK(((uint8_t *)T(fb)->data)[4] == 1);
    cml_evalue *fh = TS(&e, CML_DTYPE_FLOAT16, 7);
    CHECK(CALL(&e, "aten::full_like.out", fh, tv_double(&e, 0.1), tv_null(&e), fh, fh) == CML_OK);
    CHECK(((uint16_t *)T(fh)->data)[6] == cml_fp32_to_fp16(0.1f));
    cml_evalue *z = TS(&e, CML_DTYPE_FLOAT32, 2, 2);
    F(z)[3] = 9;
    CHECK(CALL(&e, "aten::zeros.out", IL(&e, 2, 2), z, z) == CML_OK);
    CHECK(F(z)[3] == 0.0f);
    CHECK(CALL(&e, "aten::ones.out", IL(&e, 2, 2), z, z) == CML_OK);
    CHECK(F(z)[3] == 1.0f);
    cml_evalue *st = tv_tensor(&e, CML_DTYPE_FLOAT32, 0, NULL);
    CHECK(CALL(&e, "aten::scalar_tensor.out", tv_double(&e, 2.5), st, st) == CML_OK);
    CHECK(F(st)[0] == 2.5f);
    CHECK(CALL(&e, "aten::full.out", IL(&e, 3, 5), tv_int(&e, 7), f, f) == CML_ERR_SHAPE); /* over the bound */
    tv_free(&e);
}

static void test_embedding(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *w = TS(&e, CML_DTYPE_FLOAT32, 10, 4);
    iota(w);
    cml_evalue *ix = tv_tensor_cap(&e, CML_DTYPE_INT64, 2, S(2, 3), 0, CML_SHAPE_DYNAMIC_BOUND);
    int64_t *pi = T(ix)->data;
    int64_t vals[6] = {0, 9, 3, 3, 1, 0};
    memcpy(pi, vals, sizeof vals);
    cml_evalue *o = tv_tensor_cap(&e, CML_DTYPE_FLOAT32, 3, S(2, 3, 4), 0, CML_SHAPE_DYNAMIC_BOUND);
    cml_evalue *pad = tv_int(&e, -1), *f = tv_bool(&e, false);
    CHECK(CALL(&e, "aten::embedding.out", w, ix, pad, f, f, o, o) == CML_OK);
    bool ok = true;
    for (int k = 0; k < 6; k++)
        for (int d = 0; d < 4; d++) ok = ok && F(o)[k * 4 + d] == (float)(vals[k] * 4 + d);
    CHECK(ok);
    /* dynamic: fewer tokens */
    T(ix)->sizes[1] = 2;
    CHECK(CALL(&e, "aten::embedding.out", w, ix, pad, f, f, o, o) == CML_OK);
    CHECK(tv_shape_is(T(o), 3, S(2, 2, 4)));
    T(ix)->sizes[1] = 3;
    /* out of range indices fail cleanly */
    pi[4] = 10;
    CHECK(CALL(&e, "aten::embedding.out", w, ix, pad, f, f, o, o) == CML_ERR_INVALID_ARG);
    CHECK(strstr(e.err.msg, "out of range") != NULL);
    pi[4] = -1;
    CHECK(CALL(&e, "aten::embedding.out", w, ix, pad, f, f, o, o) == CML_ERR_INVALID_ARG);
    /* int32 indices */
    cml_evalue *ix32 = TS(&e, CML_DTYPE_INT32, 3);
    ((int32_t *)T(ix32)->data)[0] = 2;
    ((int32_t *)T(ix32)->data)[1] = 7;
    cml_evalue *o2 = TS(&e, CML_DTYPE_FLOAT32, 3, 4);
    CHECK(CALL(&e, "aten::embedding.out", w, ix32, pad, f, f, o2, o2) == CML_OK);
    CHECK(F(o2)[0] == 8.0f && F(o2)[4] == 28.0f && F(o2)[8] == 0.0f);
    /* float indices rejected */
    cml_evalue *ixf = TS(&e, CML_DTYPE_FLOAT32, 3);
    CHECK(PREP(&e, "aten::embedding.out", w, ixf, pad, f, f, o2, o2) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

static void test_arange(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *o = tv_dyn_out(&e, CML_DTYPE_INT64, 1, 16);
    int64_t *p = T(o)->data;
    CHECK(CALL(&e, "aten::arange.start_out", tv_int(&e, 2), tv_int(&e, 9), tv_int(&e, 3), o, o) == CML_OK);
    CHECK(T(o)->sizes[0] == 3 && p[0] == 2 && p[1] == 5 && p[2] == 8);
    CHECK(CALL(&e, "aten::arange.start_out", tv_int(&e, 5), tv_int(&e, -2), tv_int(&e, -2), o, o) == CML_OK);
    CHECK(T(o)->sizes[0] == 4 && p[3] == -1);
    CHECK(CALL(&e, "aten::arange.out", tv_int(&e, 7), o, o) == CML_OK);
    CHECK(T(o)->sizes[0] == 7 && p[6] == 6);
    cml_evalue *f = tv_dyn_out(&e, CML_DTYPE_FLOAT32, 1, 16);
    CHECK(CALL(&e, "aten::arange.start_out", tv_double(&e, 0.0), tv_double(&e, 1.0), tv_double(&e, 0.25), f, f) ==
          CML_OK);
    CHECK(T(f)->sizes[0] == 4 && F(f)[3] == 0.75f);
    CHECK(CALL(&e, "aten::arange.start_out", tv_int(&e, 0), tv_int(&e, 5), tv_int(&e, 0), o, o) == CML_ERR_INVALID_ARG);
    CHECK(CALL(&e, "aten::arange.out", tv_int(&e, 17), o, o) == CML_ERR_SHAPE); /* over the bound */
    tv_free(&e);
}

/* Optional tensor list: NULL entries become -1 (None). */
static cml_evalue *opt_list(tenv *e, uint32_t n, cml_evalue **items) {
    cml_evalue *v = tv_tensor_list(e, n, items);
    v->kind = CML_VALUE_OPT_TENSOR_LIST;
    int32_t *it = (int32_t *)v->u.tensor_list.items;
    for (uint32_t k = 0; k < n; k++)
        if (!items[k]) it[k] = -1;
    return v;
}

static void test_index(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 4, 3, 5);
    iota(x);
    cml_evalue *i = TS(&e, CML_DTYPE_INT64, 3), *j = TS(&e, CML_DTYPE_INT32, 3);
    int64_t *pi = T(i)->data;
    int32_t *pj = T(j)->data;
    pi[0] = 2;
    pi[1] = 0;
    pi[2] = -1;
    pj[0] = 1;
    pj[1] = 1;
    pj[2] = 4;
    /* x[:, i] (None first, adjacent) */
    cml_evalue *o1 = TS(&e, CML_DTYPE_FLOAT32, 4, 3, 5);
    CHECK(CALL(&e, "aten::index.Tensor_out", x, opt_list(&e, 2, ARGS(NULL, i)), o1, o1) == CML_OK);
    bool ok = true;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 5; c++) {
                int64_t src = pi[b] < 0 ? pi[b] + 3 : pi[b];
                ok = ok && F(o1)[(a * 3 + b) * 5 + c] == (float)((a * 3 + src) * 5 + c);
            }
    CHECK(ok);
    /* x[i, :, j] (non-adjacent: the broadcast dim goes first) */
    cml_evalue *o2 = TS(&e, CML_DTYPE_FLOAT32, 3, 3);
    CHECK(CALL(&e, "aten::index.Tensor_out", x, opt_list(&e, 3, ARGS(i, NULL, j)), o2, o2) == CML_OK);
    ok = true;
    for (int k = 0; k < 3; k++)
        for (int b = 0; b < 3; b++) {
            int64_t a = pi[k] < 0 ? pi[k] + 4 : pi[k];
            ok = ok && F(o2)[k * 3 + b] == (float)((a * 3 + b) * 5 + pj[k]);
        }
    CHECK(ok);
    /* out of range fails cleanly */
    pj[2] = 5;
    CHECK(CALL(&e, "aten::index.Tensor_out", x, opt_list(&e, 3, ARGS(i, NULL, j)), o2, o2) == CML_ERR_INVALID_ARG);
    /* bool masks are rejected at prepare */
    cml_evalue *m = TS(&e, CML_DTYPE_BOOL, 4);
    CHECK(PREP(&e, "aten::index.Tensor_out", x, opt_list(&e, 1, ARGS(m)), o2, o2) == CML_ERR_UNSUPPORTED);
    /* index_select along the last dim */
    pj[2] = 0;
    cml_evalue *o3 = TS(&e, CML_DTYPE_FLOAT32, 4, 3, 3);
    CHECK(CALL(&e, "aten::index_select.out", x, tv_int(&e, -1), j, o3, o3) == CML_OK);
    CHECK(F(o3)[0] == 1.0f && F(o3)[2] == 0.0f && F(o3)[3] == 6.0f);
    tv_free(&e);
}

static void test_misc_new(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    /* masked_fill with a broadcast mask and an int value into float */
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 2, 3), *m = TS(&e, CML_DTYPE_BOOL, 3), *o = TS(&e, CML_DTYPE_FLOAT32, 2, 3);
    iota(x);
    ((uint8_t *)T(m)->data)[1] = 1;
    CHECK(CALL(&e, "aten::masked_fill.Scalar_out", x, m, tv_int(&e, -7), o, o) == CML_OK);
    CHECK(F(o)[0] == 0.0f && F(o)[1] == -7.0f && F(o)[4] == -7.0f && F(o)[5] == 5.0f);
    /* bitwise_not: bool and int */
    cml_evalue *mo = TS(&e, CML_DTYPE_BOOL, 3);
    CHECK(CALL(&e, "aten::bitwise_not.out", m, mo, mo) == CML_OK);
    CHECK(((uint8_t *)T(mo)->data)[0] == 1 && ((uint8_t *)T(mo)->data)[1] == 0);
    cml_evalue *xi = TS(&e, CML_DTYPE_INT32, 2), *oi = TS(&e, CML_DTYPE_INT32, 2);
    ((int32_t *)T(xi)->data)[0] = 5;
    CHECK(CALL(&e, "aten::bitwise_not.out", xi, oi, oi) == CML_OK);
    CHECK(((int32_t *)T(oi)->data)[0] == -6 && ((int32_t *)T(oi)->data)[1] == -1);
    CHECK(PREP(&e, "aten::bitwise_not.out", x, o, o) == CML_ERR_UNSUPPORTED);
    /* item() */
    cml_evalue *one = TS(&e, CML_DTYPE_FLOAT16, 1), *r = tv_int(&e, 0);
    ((uint16_t *)T(one)->data)[0] = cml_fp32_to_fp16(2.5f);
    CHECK(CALL(&e, "aten::_local_scalar_dense", one, r) == CML_OK);
    CHECK(r->kind == CML_VALUE_DOUBLE && r->u.d == 2.5);
    cml_evalue *li = TS(&e, CML_DTYPE_INT64, 1, 1);
    ((int64_t *)T(li)->data)[0] = 42;
    CHECK(CALL(&e, "aten::_local_scalar_dense", li, r) == CML_OK);
    CHECK(r->kind == CML_VALUE_INT && r->u.i == 42);
    CHECK(CALL(&e, "aten::_local_scalar_dense", x, r) == CML_ERR_SHAPE);
    /* upsample nearest: size [3, 5] from [2, 2] (in/out scale), and scale factor 2 */
    cml_evalue *u = TS(&e, CML_DTYPE_INT64, 1, 1, 2, 2), *uo = tv_dyn_out(&e, CML_DTYPE_INT64, 4, 64);
    iota(u);
    CHECK(CALL(&e, "aten::upsample_nearest2d.vec_out", u, IL(&e, 3, 5), tv_null(&e), uo, uo) == CML_OK);
    CHECK(tv_shape_is(T(uo), 4, S(1, 1, 3, 5)));
    int64_t *pu = T(uo)->data;
    /* rows: floor(oh * 2/3) = 0,0,1; cols: floor(ow * 2/5) = 0,0,0,1,1 */
    int64_t want[15] = {0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 2, 2, 2, 3, 3};
    CHECK(memcmp(pu, want, sizeof want) == 0);
    CHECK(CALL(&e, "aten::upsample_nearest2d.out", u, IL(&e, 4, 4), tv_null(&e), tv_null(&e), uo, uo) == CML_OK);
    CHECK(tv_shape_is(T(uo), 4, S(1, 1, 4, 4)) && pu[5] == 0 && pu[15] == 3);
    tv_free(&e);
}

int main(void) {
    test_misc_new();
    test_index();
    test_arange();
    test_views();
    test_expand_repeat();
    test_cat_stack();
    test_slice_select_split();
    test_squeeze_unsqueeze();
    test_copies();
    test_pad_and_fill();
    test_embedding();
    TEST_MAIN_END();
}
