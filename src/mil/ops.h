/*
 * MIL op definitions (src/mil/ops_*.c) and the helpers they share
 * (src/mil/ops_common.c).
 *
 * Every op in mil/ops_list.inc is a `const cml_mil_op_def cml_mil_op_<type>`.
 * Conventions for the implementations:
 *   - infer() validates dtypes/ranks against the bound shapes, reads the
 *     compile-time parameters into node->attr and declares the outputs;
 *   - run() recomputes every output shape from the CURRENT input shapes
 *     (cml_mil_resize), never allocates, and takes temporary memory from
 *     ctx->scratch (node->scratch bytes, checked by cml_milop_scratch);
 *   - float math is fp32 on FLOAT32 storage; an output carries the fp16
 *     flag of its main input and the executor rounds it after the op.
 */
#ifndef CML_MIL_OPS_H
#define CML_MIL_OPS_H

#include "mil/mil.h"

/* ---- op definitions ------------------------------------------------------ */

#define CML_MIL_OP(t) extern const cml_mil_op_def cml_mil_op_##t;
#include "mil/ops_list.inc"
#undef CML_MIL_OP

/* ---- shared helpers (ops_common.c) ------------------------------------------ */

/* dtype classes: FLOAT32 storage (fp32 and fp16 values); integer storage
 * (signed/unsigned 8..64-bit); BOOL is neither. */
static inline bool cml_milop_is_float(cml_dtype d) { return d == CML_DTYPE_FLOAT32; }
bool cml_milop_is_int(cml_dtype d);

/* Element i of a tensor of any integer/bool/float dtype, as int64
 * (floats truncate toward zero) or as double. */
int64_t cml_milop_get_int(const void *data, cml_dtype dt, int64_t i);
double cml_milop_get_num(const void *data, cml_dtype dt, int64_t i);
/* Stores v into element i of an integer/bool/float tensor (wraps to the
 * width like a C cast; BOOL stores v != 0). */
void cml_milop_set_int(void *data, cml_dtype dt, int64_t i, int64_t v);
void cml_milop_set_num(void *data, cml_dtype dt, int64_t i, double v);

/* Product of shape[from..to). */
int64_t cml_milop_prod(const int64_t *shape, int32_t from, int32_t to);
/* Row-major strides (elements). */
void cml_milop_strides(int32_t rank, const int64_t *shape, int64_t *strides);
/* NumPy broadcast of two shapes; false when incompatible. */
bool cml_milop_broadcast(int32_t ra, const int64_t *a, int32_t rb, const int64_t *b,
                         int32_t *rank_out, int64_t *out);
/* Strides of an input of shape `in` (rank ri, right-aligned) read over an
 * output index space `out` (rank ro): 0 on broadcast dims. */
void cml_milop_bcast_strides(int32_t ro, const int64_t *out, int32_t ri, const int64_t *in,
                             int64_t *strides);
/* Normalizes a possibly negative axis against rank; false when out of range. */
bool cml_milop_axis(int64_t axis, int32_t rank, int32_t *out);

/* The scratch buffer of this node at run time (node->scratch bytes);
 * fails if the caller's scratch is smaller. */
cml_status cml_milop_scratch(cml_mil_ctx *ctx, const cml_mil_node *node, void **out);

/* An integer vector read at RUN time from a value that may or may not be
 * const (reshape.shape, slice begin/end, tile.reps, ...). Fails naming the
 * parameter when it is not an integer tensor of rank <= 1 or is longer than
 * max. */
cml_status cml_milop_read_ints(cml_mil_ctx *ctx, const cml_mil_node *node, const char *pname,
                               const cml_mil_value *v, int64_t *out, uint32_t max,
                               uint32_t *count);
/* Compile-time upper bounds of the elements of a small runtime integer
 * vector (reshape.shape, fill.shape, ...): exact for consts, and followed
 * through shape(x) (x's bound), gather, concat, cast, add/mul/maximum of
 * non-negative bounds, and the box counts of an iOS15 non_maximum_suppression
 * (max_boxes). A constant -1 stays -1. False when unknown. */
bool cml_milop_int_bounds(cml_mil_ctx *ctx, const cml_mil_value *v, int64_t *out, uint32_t max,
                          uint32_t *count);
/* Whether the value's data is available at compile time. */
static inline bool cml_milop_known(const cml_mil_value *v) { return v && v->is_const && v->data; }

/* Requires a FLOAT32 tensor input (fp16 or fp32). */
cml_status cml_milop_require_float(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                                   cml_mil_value **out);
/* Optional const float vector parameter of exactly n elements (gamma, beta,
 * bias...) whose data stays in the graph: returns NULL data when absent. A
 * non-const binding is returned as well (read at run time). */
cml_status cml_milop_opt_vector(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                                int64_t n, cml_mil_value **out);

/* Declares output i with the dtype/fp16 flag of `like` and the given shape;
 * dynamic when `like` is. */
cml_status cml_milop_out_like(cml_mil_ctx *ctx, const cml_mil_node *node, uint32_t i,
                              const cml_mil_value *like, int32_t rank, const int64_t *shape,
                              bool dynamic);

/* Human-readable shape for messages ("[1, 3, 224, 224]"); buf >= 24 * rank. */
const char *cml_milop_shape_str(char *buf, size_t size, int32_t rank, const int64_t *shape);

/* Padding per spatial dim for conv/pool pad types. */
typedef enum cml_milop_pad_type {
    CML_MILOP_PAD_VALID, CML_MILOP_PAD_SAME, CML_MILOP_PAD_SAME_LOWER, CML_MILOP_PAD_CUSTOM,
} cml_milop_pad_type;
cml_status cml_milop_pad_type_parse(cml_mil_ctx *ctx, const cml_mil_node *node, bool required,
                                    cml_milop_pad_type *out);
/* Output size and (before, after) padding of one spatial dim of a conv/pool
 * window: D input, K kernel, s stride, d dilation, custom pads; ceil_mode as
 * max_pool/avg_pool define it. Returns false when the output is empty. */
bool cml_milop_window(cml_milop_pad_type pt, int64_t D, int64_t K, int64_t s, int64_t d,
                      int64_t custom_before, int64_t custom_after, bool ceil_mode, int64_t *out,
                      int64_t *before, int64_t *after);

/* Generic N-d walk over `shape` with up to three stride sets: calls fn once
 * per innermost row with the element offsets of its first element. */
typedef void (*cml_milop_row_fn)(void *ctx, int64_t n, const int64_t *offs,
                                 const int64_t *inner_strides);
void cml_milop_walk(int32_t rank, const int64_t *shape, int nops, const int64_t *const *strides,
                    cml_milop_row_fn fn, void *ctx);

/* Packs the constant weights of linear ops into gemm panels once
 * (ops_linear.c; mil.h gemm_nr): a float or kept-fp16 rank-2 constant
 * whose every reader is the `weight` of an unfolded linear with a
 * static-shape x of more than CML_GEMM_SMALL_M_MAX rows (so the gemm's
 * summation order is the one it had unpacked). Runs after inference. */
cml_status cml_mil_prepack_linear(cml_mil_graph *g, cml_error *err);

#endif
