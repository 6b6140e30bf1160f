/*
 * Bitwise ops with upstream's dtype rules (cml_ew_util.h, EW_RULE_BITS),
 * broadcasting:
 *
 *   bitwise_and / bitwise_or / bitwise_xor .Tensor_out / .Scalar_out
 *   bitwise_left_shift / bitwise_right_shift .Tensor_out / .Tensor_Scalar_out
 *       (Tensor self, Tensor|Scalar other, *, Tensor(a!) out)
 *
 * Operands are integers or Bool; the common type (promotion) is computed
 * in and cast to out (any real or Bool dtype it can cast to). Shifts work
 * in the common type's width with PyTorch's rule for counts outside
 * [0, width): a left shift gives 0, a right shift fills with the sign.
 * On Bool, x << y is x and x >> y is x && !y (the C++ integer result, made
 * Bool).
 */
#include "ops/aten/aten_ops.h"
#include "ops/aten/ew_util.h"

static bool and_i64(const int64_t *a, const int64_t *b, size_t bs, int64_t *o, size_t n,
                    cml_dtype common) {
    (void)common;
    for (size_t k = 0; k < n; k++) o[k] = a[k] & b[k * bs];
    return true;
}
static bool or_i64(const int64_t *a, const int64_t *b, size_t bs, int64_t *o, size_t n,
                   cml_dtype common) {
    (void)common;
    for (size_t k = 0; k < n; k++) o[k] = a[k] | b[k * bs];
    return true;
}
static bool xor_i64(const int64_t *a, const int64_t *b, size_t bs, int64_t *o, size_t n,
                    cml_dtype common) {
    (void)common;
    for (size_t k = 0; k < n; k++) o[k] = a[k] ^ b[k * bs];
    return true;
}

static bool lshift_i64(const int64_t *a, const int64_t *b, size_t bs, int64_t *o, size_t n,
                       cml_dtype common) {
    int64_t bits = cml_ew_int_bits(common);
    for (size_t k = 0; k < n; k++) {
        int64_t c = b[k * bs];
        if (common == CML_DTYPE_BOOL) o[k] = a[k];
        else if (c < 0 || c >= bits) o[k] = 0;
        else o[k] = cml_ew_wrap_int(common, (int64_t)((uint64_t)a[k] << c));
    }
    return true;
}

static bool rshift_i64(const int64_t *a, const int64_t *b, size_t bs, int64_t *o, size_t n,
                       cml_dtype common) {
    int64_t bits = cml_ew_int_bits(common);
    for (size_t k = 0; k < n; k++) {
        int64_t c = b[k * bs];
        if (common == CML_DTYPE_BOOL) o[k] = c ? 0 : a[k];
        else if (c < 0 || c >= bits) o[k] = a[k] < 0 ? -1 : 0;
        else o[k] = a[k] >> c; /* values are sign-extended: arithmetic shift */
    }
    return true;
}

EW_BIN_OP(cml_aten_bitwise_and_tensor_out, "aten::bitwise_and.Tensor_out", 0, EW_RULE_BITS,
          NULL, NULL, and_i64)
EW_BIN_OP(cml_aten_bitwise_and_scalar_out, "aten::bitwise_and.Scalar_out", 1, EW_RULE_BITS,
          NULL, NULL, and_i64)
EW_BIN_OP(cml_aten_bitwise_or_tensor_out,  "aten::bitwise_or.Tensor_out",  0, EW_RULE_BITS,
          NULL, NULL, or_i64)
EW_BIN_OP(cml_aten_bitwise_or_scalar_out,  "aten::bitwise_or.Scalar_out",  1, EW_RULE_BITS,
          NULL, NULL, or_i64)
EW_BIN_OP(cml_aten_bitwise_xor_tensor_out, "aten::bitwise_xor.Tensor_out", 0, EW_RULE_BITS,
          NULL, NULL, xor_i64)
EW_BIN_OP(cml_aten_bitwise_xor_scalar_out, "aten::bitwise_xor.Scalar_out", 1, EW_RULE_BITS,
          NULL, NULL, xor_i64)
EW_BIN_OP(cml_aten_bitwise_left_shift_tensor_out, "aten::bitwise_left_shift.Tensor_out", 0,
          EW_RULE_BITS, NULL, NULL, lshift_i64)
EW_BIN_OP(cml_aten_bitwise_left_shift_tensor_scalar_out, "aten::bitwise_left_shift.Tensor_Scalar_out",
          1, EW_RULE_BITS, NULL, NULL, lshift_i64)
EW_BIN_OP(cml_aten_bitwise_right_shift_tensor_out, "aten::bitwise_right_shift.Tensor_out", 0,
          EW_RULE_BITS, NULL, NULL, rshift_i64)
EW_BIN_OP(cml_aten_bitwise_right_shift_tensor_scalar_out,
          "aten::bitwise_right_shift.Tensor_Scalar_out", 1, EW_RULE_BITS, NULL, NULL, rshift_i64)
