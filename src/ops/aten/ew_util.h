/*
 * Typed elementwise helpers for the ops that follow upstream's dtype rules
 * exactly (unary_math.c, binary_math.c, bitwise.c): the dtype sets of the
 * portable kernels, PyTorch type promotion (tensor/tensor and tensor/Scalar),
 * Scalars that keep their kind (Bool, Int, Double), and the staging of
 * broadcast operands into a compute dtype.
 *
 * Compute dtypes are FLOAT32 (for fp16, bf16 and fp32 common types), FLOAT64
 * and INT64 (every integer type and bool; ops that depend on the width of
 * the common type, like shifts, wrap with cml_ew_wrap_int). A staged operand is
 * a contiguous array of numel(out) compute-dtype elements in the output's
 * memory order, so every op is a flat loop; the result is converted into
 * the output dtype (fp16/bf16 outputs round once, from the fp32/fp64 value).
 */
#ifndef CML_OPS_ATEN_EW_UTIL_H
#define CML_OPS_ATEN_EW_UTIL_H

#include "ops/aten/aten_util.h"

/* dtype sets: cml_aten_is_floating / _realhbf16 / _realhbbf16 / _complex in cml_aten_util.h */

/* ---- promotion ----------------------------------------------------------- */

typedef enum cml_ew_scalar_kind { EW_S_BOOL, EW_S_INT, EW_S_DOUBLE } cml_ew_scalar_kind;
typedef struct cml_ew_scalar {
    cml_ew_scalar_kind kind;
    int64_t i; /* Bool and Int */
    double d;  /* Double */
} cml_ew_scalar;

/* Reads a Scalar argument (Int, Double or Bool EValue). */
cml_status cml_ew_arg_scalar(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                         cml_ew_scalar *s);
double cml_ew_scalar_f64(const cml_ew_scalar *s);
/* Int/Bool as is; Double truncated toward zero, saturating (NaN -> 0). */
int64_t cml_ew_scalar_i64(const cml_ew_scalar *s);

/* torch.promote_types over REALHBBF16 (both arguments must be in it). */
cml_dtype cml_ew_promote(cml_dtype a, cml_dtype b);
/* Tensor dtype t combined with a Scalar: the tensor keeps its dtype when the
 * Scalar is of the same category (bool < integral < floating); a floating
 * Scalar with a non-floating tensor gives Float, an Int Scalar with a Bool
 * tensor gives Long. */
cml_dtype cml_ew_promote_scalar(cml_dtype t, const cml_ew_scalar *s);
/* torch.can_cast: no floating -> integral, no non-bool -> bool. */
bool cml_ew_can_cast(cml_dtype from, cml_dtype to);
/* The compute dtype of a common dtype: FLOAT32, FLOAT64 or INT64. */
cml_dtype cml_ew_compute_dtype(cml_dtype common);
/* v converted to the integer (or Bool) dtype dt and back: the low bits,
 * sign-extended for signed types; Bool gives v != 0. */
int64_t cml_ew_wrap_int(cml_dtype dt, int64_t v);
/* Width in bits of an integral dtype (Bool: 1). */
int cml_ew_int_bits(cml_dtype dt);

/* Fails with "<what> <dtype> not supported" unless ok. */
cml_status cml_ew_require(cml_kernel_ctx *ctx, const char *op, bool ok, const char *what,
                      cml_dtype dt);

/* ---- staging ---------------------------------------------------------------- */

/* NumPy broadcast of up to 3 tensors (NULL entries skipped); resizes out. */
cml_status cml_ew_broadcast_resize(cml_kernel_ctx *ctx, const char *op, const cml_tensor *const *ts,
                               int n, cml_tensor *out);
/* Upper bound of the scratch cml_ew_stage takes for t (planned shapes). */
size_t cml_ew_stage_need(const cml_tensor *t, cml_dtype cdt, const cml_tensor *out);
/* t's values in cdt, broadcast to out's (current) shape, numel(out)
 * contiguous elements in out's memory order: t's data itself when it
 * already is that, else scratch. NULL when scratch is short. */
const void *cml_ew_stage(cml_aten_scratch *s, const cml_tensor *t, cml_dtype cdt, const cml_tensor *out);
/* Result buffer of numel(out) cdt elements: out->data when out is cdt. */
size_t cml_ew_result_need(const cml_tensor *out, cml_dtype cdt);
void *cml_ew_result(cml_aten_scratch *s, cml_tensor *out, cml_dtype cdt);
/* Converts a result buffer into out (no-op when it is out->data). */
void cml_ew_finish(cml_tensor *out, const void *buf, cml_dtype cdt);

/* ---- binary ops: (Tensor self, Tensor|Scalar other, *, Tensor(a!) out) ---------- */

/* Kernels over n staged elements; b advances by bs per element (0 for a
 * Scalar other). The int64 kernel gets the common dtype (for widths) and
 * returns false on an integer division by zero. */
typedef struct cml_ew_bin_kernels {
    void (*f32)(const float *a, const float *b, size_t bs, float *o, size_t n);
    void (*f64)(const double *a, const double *b, size_t bs, double *o, size_t n);
    bool (*i64)(const int64_t *a, const int64_t *b, size_t bs, int64_t *o, size_t n,
                cml_dtype common);
} cml_ew_bin_kernels;

/* The dtype rule of a family of binary ops (upstream's):
 *   EW_RULE_FLOAT (atan2): real/bool operands, Float common type unless an
 *     operand is floating, floating output.
 *   EW_RULE_MOD (fmod, remainder): real/bool operands, common type by
 *     promotion and not Bool, castable to the output.
 *   EW_RULE_BITS (bitwise ops): integer/bool operands (a floating Scalar is
 *     refused), common type castable to the output. */
typedef enum cml_ew_bin_rule { EW_RULE_FLOAT, EW_RULE_MOD, EW_RULE_BITS } cml_ew_bin_rule;

typedef struct cml_ew_bin_spec {
    const char *name;
    uint8_t other_scalar;
    uint8_t rule; /* cml_ew_bin_rule */
    cml_ew_bin_kernels k;
} cml_ew_bin_spec;

cml_status cml_ew_bin_prepare(cml_kernel_ctx *ctx, const cml_ew_bin_spec *sp, cml_evalue **args,
                          uint32_t nargs, size_t *scratch_bytes);
cml_status cml_ew_bin_run(cml_kernel_ctx *ctx, const cml_ew_bin_spec *sp, cml_evalue **args,
                      uint32_t nargs);

/* Defines fn_prepare / fn_run of a binary op from its spec. */
#define EW_BIN_OP(fn, NAME, OTHER_SCALAR, RULE, F32, F64, I64)                                   \
    static const cml_ew_bin_spec fn##_spec = {NAME, OTHER_SCALAR, RULE, {F32, F64, I64}};            \
    cml_status fn##_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,              \
                            size_t *scratch_bytes) {                                             \
        return cml_ew_bin_prepare(ctx, &fn##_spec, args, nargs, scratch_bytes);                      \
    }                                                                                            \
    cml_status fn##_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {                \
        return cml_ew_bin_run(ctx, &fn##_spec, args, nargs);                                         \
    }

#endif
