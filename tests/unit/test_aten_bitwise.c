/* Bitwise and/or/xor and shifts (bitwise.c): every integer/bool dtype pair
 * and Scalar kind against C references computed in the promoted type, shift
 * counts out of range, type promotion (uint8 with int8 is int16),
 * broadcasting and bad input. */
#include "test_aten_ew_util.h"

static tenv E;

static void reset(void) {
    tv_free(&E);
    tv_init(&E);
}

static const cml_dtype INTB[] = {CML_DTYPE_UINT8, CML_DTYPE_INT8, CML_DTYPE_INT16,
                                 CML_DTYPE_INT32, CML_DTYPE_INT64, CML_DTYPE_BOOL};

enum { OP_AND, OP_OR, OP_XOR, OP_SHL, OP_SHR };

static const char *tname(int op) {
    static const char *n[] = {"aten::bitwise_and.Tensor_out", "aten::bitwise_or.Tensor_out",
                              "aten::bitwise_xor.Tensor_out", "aten::bitwise_left_shift.Tensor_out",
                              "aten::bitwise_right_shift.Tensor_out"};
    return n[op];
}
static const char *sname(int op) {
    static const char *n[] = {"aten::bitwise_and.Scalar_out", "aten::bitwise_or.Scalar_out",
                              "aten::bitwise_xor.Scalar_out",
                              "aten::bitwise_left_shift.Tensor_Scalar_out",
                              "aten::bitwise_right_shift.Tensor_Scalar_out"};
    return n[op];
}

/* Shifts in the C type T (a C++ kernel's arithmetic), counts outside
 * [0, width) by PyTorch's rule. */
#define SHIFT_IN(T, a, b, left)                                                                  \
    do {                                                                                         \
        T x_ = (T)(a);                                                                           \
        int64_t w_ = (int64_t)sizeof(T) * 8, xs_ = (int64_t)x_;                                  \
        if ((b) < 0 || (b) >= w_) return (left) ? 0 : (xs_ < 0 ? -1 : 0);                       \
        if (left) return (T)((uint64_t)(int64_t)x_ << (b));                                      \
        return (T)(x_ >> (b));                                                                   \
    } while (0)

static int64_t ref_shift(cml_dtype c, int64_t a, int64_t b, bool left) {
    switch (c) {
    case CML_DTYPE_UINT8: SHIFT_IN(uint8_t, a, b, left);
    case CML_DTYPE_INT8: SHIFT_IN(int8_t, a, b, left);
    case CML_DTYPE_INT16: SHIFT_IN(int16_t, a, b, left);
    case CML_DTYPE_INT32: SHIFT_IN(int32_t, a, b, left);
    case CML_DTYPE_INT64: SHIFT_IN(int64_t, a, b, left);
    default: return left ? (a << b) != 0 : (a >> b) != 0; /* Bool: the int result made Bool */
    }
}

static int64_t ref_bits(int op, cml_dtype c, int64_t a, int64_t b) {
    switch (op) {
    case OP_AND: return a & b;
    case OP_OR: return a | b;
    case OP_XOR: return a ^ b;
    default: return ref_shift(c, a, b, op == OP_SHL);
    }
}

/* Shift counts: mostly in range, some negative or past the width. */
static void fill_counts(cml_tensor *t) {
    static const int64_t edge[] = {0, 1, 7, 8, 15, 16, 31, 32, 63, 64, -1, 100};
    int64_t lo, hi;
    cml_ew_int_range(t->dtype, &lo, &hi);
    for (int64_t k = 0; k < cml_tensor_numel(t); k++) {
        int64_t v = k < 12 ? edge[k] : tv_randint(0, 9);
        if (t->dtype == CML_DTYPE_BOOL) v = v & 1;
        if (v < lo || v > hi) v = tv_randint(0, 5);
        cml_ew_seti(t, k, v);
    }
}

static void test_tensor_pairs(void) {
    for (int op = 0; op < 5; op++)
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++) {
                reset();
                cml_dtype da = INTB[i], db = INTB[j], common = cml_ew_t_promote(da, db);
                /* Output: the common type, or a wider real type it casts to. */
                cml_dtype od = (i + j) % 4 == 1 ? CML_DTYPE_INT64 : (i + j) % 4 == 3 ? CML_DTYPE_FLOAT32 : common;
                cml_evalue *a = TS(&E, da, 3, 1, 4), *b = TS(&E, db, 3, 4);
                cml_evalue *y = cml_ew_tensor(&E, od, 1, S(36));
                cml_ew_fill(T(a), 1000.0, true);
                if (op >= OP_SHL) fill_counts(T(b));
                else cml_ew_fill(T(b), 1000.0, true);
                cml_status st = CALL(&E, tname(op), a, b, y, y);
                bool ok = st == CML_OK && tv_shape_is(T(y), 3, S(3, 3, 4));
                for (int64_t k = 0; ok && k < 36; k++) {
                    int64_t ia = (k / 12) * 4 + k % 4, ib = k % 12;
                    int64_t want = ref_bits(op, common, cml_ew_geti(T(a), ia), cml_ew_geti(T(b), ib));
                    want = cml_ew_t_wrap(common, want);
                    ok = od == CML_DTYPE_FLOAT32 ? cml_ew_getd(T(y), k) == (double)(float)want
                                                 : cml_ew_geti(T(y), k) == cml_ew_t_wrap(od, want);
                    if (!ok)
                        fprintf(stderr, "[%lld] %lld, %lld: got %lld want %lld\n", (long long)k,
                                (long long)cml_ew_geti(T(a), ia), (long long)cml_ew_geti(T(b), ib),
                                (long long)cml_ew_geti(T(y), k), (long long)want);
                }
                CHECK_MSG(ok, "%s %s,%s -> %s: %s", tname(op), cml_dtype_name(da), cml_dtype_name(db),
                          cml_dtype_name(od), E.err.msg);
            }
}

static void test_scalars(void) {
    for (int op = 0; op < 5; op++)
        for (int i = 0; i < 6; i++)
            for (int k = 0; k < 4; k++) {
                reset();
                cml_dtype da = INTB[i];
                static const int64_t sv[4] = {5, -3, 300, 1};
                bool sbool = k == 3;
                int64_t v = op >= OP_SHL && k == 2 ? 9 : sv[k];
                cml_evalue *s = sbool ? tv_bool(&E, true) : tv_int(&E, v);
                cml_dtype common = (!sbool && da == CML_DTYPE_BOOL) ? CML_DTYPE_INT64 : da;
                cml_evalue *a = TS(&E, da, 2, 5), *y = cml_ew_tensor(&E, common, 1, S(10));
                cml_ew_fill(T(a), 100.0, true);
                bool ok = CALL(&E, sname(op), a, s, y, y) == CML_OK;
                int64_t b = cml_ew_t_wrap(common, v); /* the Scalar cast to the common type */
                for (int64_t e = 0; ok && e < 10; e++)
                    ok = cml_ew_geti(T(y), e) == cml_ew_t_wrap(common, ref_bits(op, common, cml_ew_geti(T(a), e), b));
                CHECK_MSG(ok, "%s %s, scalar %lld: %s", sname(op), cml_dtype_name(da), (long long)v,
                          E.err.msg);
            }
}

/* Constants checked by hand against torch.bitwise_* semantics. */
static void test_constants(void) {
    reset();
    /* uint8 200 with int8 1 promotes to int16: 200 << 1 = 400, not 144. */
    cml_evalue *a = TS(&E, CML_DTYPE_UINT8, 1), *b = TS(&E, CML_DTYPE_INT8, 1);
    cml_evalue *y = TS(&E, CML_DTYPE_INT16, 1);
    ((uint8_t *)T(a)->data)[0] = 200;
    ((int8_t *)T(b)->data)[0] = 1;
    CHECK(CALL(&E, "aten::bitwise_left_shift.Tensor_out", a, b, y, y) == CML_OK && cml_ew_geti(T(y), 0) == 400);
    /* int8 1 << 7 = -128; int8 -128 << 1 = 0; int8 -128 >> 9 = -1; uint8 200 >> 9 = 0. */
    cml_evalue *i8 = TS(&E, CML_DTYPE_INT8, 2), *o8 = TS(&E, CML_DTYPE_INT8, 2);
    memcpy(T(i8)->data, (int8_t[]){1, -128}, 2);
    CHECK(CALL(&E, "aten::bitwise_left_shift.Tensor_Scalar_out", i8, tv_int(&E, 7), o8, o8) == CML_OK &&
          cml_ew_geti(T(o8), 0) == -128 && cml_ew_geti(T(o8), 1) == 0);
    CHECK(CALL(&E, "aten::bitwise_right_shift.Tensor_Scalar_out", i8, tv_int(&E, 9), o8, o8) == CML_OK &&
          cml_ew_geti(T(o8), 0) == 0 && cml_ew_geti(T(o8), 1) == -1);
    CHECK(CALL(&E, "aten::bitwise_right_shift.Tensor_Scalar_out", a, tv_int(&E, 9), a, a) == CML_OK &&
          cml_ew_geti(T(a), 0) == 0);
    /* int64: shifts by 63, 64 and -1. */
    cml_evalue *l = TS(&E, CML_DTYPE_INT64, 3), *c = TS(&E, CML_DTYPE_INT64, 3), *lo = TS(&E, CML_DTYPE_INT64, 3);
    memcpy(T(l)->data, (int64_t[]){1, -8, -8}, 24);
    memcpy(T(c)->data, (int64_t[]){63, 64, -1}, 24);
    CHECK(CALL(&E, "aten::bitwise_left_shift.Tensor_out", l, c, lo, lo) == CML_OK &&
          cml_ew_geti(T(lo), 0) == INT64_MIN && cml_ew_geti(T(lo), 1) == 0 && cml_ew_geti(T(lo), 2) == 0);
    CHECK(CALL(&E, "aten::bitwise_right_shift.Tensor_out", l, c, lo, lo) == CML_OK &&
          cml_ew_geti(T(lo), 0) == 0 && cml_ew_geti(T(lo), 1) == -1 && cml_ew_geti(T(lo), 2) == -1);
    /* Bool: and/or/xor stay Bool; with an Int Scalar the result is Long. */
    cml_evalue *bb = TS(&E, CML_DTYPE_BOOL, 4), *bo = TS(&E, CML_DTYPE_BOOL, 4), *bc = TS(&E, CML_DTYPE_BOOL, 4);
    memcpy(T(bb)->data, (uint8_t[]){0, 0, 1, 1}, 4);
    memcpy(T(bc)->data, (uint8_t[]){0, 1, 0, 1}, 4);
    CHECK(CALL(&E, "aten::bitwise_xor.Tensor_out", bb, bc, bo, bo) == CML_OK &&
          memcmp(T(bo)->data, (uint8_t[]){0, 1, 1, 0}, 4) == 0);
    cml_evalue *lo4 = TS(&E, CML_DTYPE_INT64, 4);
    CHECK(CALL(&E, "aten::bitwise_or.Scalar_out", bb, tv_int(&E, 6), lo4, lo4) == CML_OK &&
          cml_ew_geti(T(lo4), 0) == 6 && cml_ew_geti(T(lo4), 3) == 7);
}

static void test_bad(void) {
    reset();
    cml_evalue *f = TS(&E, CML_DTYPE_FLOAT32, 4), *i = TS(&E, CML_DTYPE_INT32, 4);
    cml_evalue *b = TS(&E, CML_DTYPE_BOOL, 4);
    const char *op = "aten::bitwise_and.Tensor_out";
    CHECK(PREP(&E, op, f, i, f, f) == CML_ERR_UNSUPPORTED && cml_ew_msg_names(&E, op) &&
          strstr(E.err.msg, "float32"));
    op = "aten::bitwise_or.Scalar_out";
    CHECK(PREP(&E, op, i, tv_double(&E, 1.5), f, f) == CML_ERR_UNSUPPORTED && cml_ew_msg_names(&E, op));
    op = "aten::bitwise_xor.Tensor_out";
    CHECK(PREP(&E, op, i, i, b, b) == CML_ERR_UNSUPPORTED && cml_ew_msg_names(&E, op)); /* int -> bool */
    cml_evalue *u16 = TS(&E, CML_DTYPE_UINT16, 4);
    op = "aten::bitwise_left_shift.Tensor_out";
    CHECK(PREP(&E, op, u16, i, i, i) == CML_ERR_UNSUPPORTED && cml_ew_msg_names(&E, op));
    CHECK(PREP(&E, op, i, i, i) == CML_ERR_INVALID_ARG && cml_ew_msg_names(&E, op)); /* arg count */
    cml_evalue *s5 = TS(&E, CML_DTYPE_INT32, 5);
    CHECK(CALL(&E, "aten::bitwise_and.Tensor_out", i, s5, i, i) == CML_ERR_SHAPE);
}

int main(void) {
    tv_init(&E);
    test_tensor_pairs();
    test_scalars();
    test_constants();
    test_bad();
    tv_free(&E);
    TEST_MAIN_END();
}
