/*
 * The ML Program executor's IR and op interface.
 *
 * A Core ML ML Program function is compiled ONCE at load into a cml_mil_graph:
 *   - every named MIL value becomes a cml_mil_value slot (vid) with a dtype,
 *     a rank, an upper-bound shape and a byte capacity;
 *   - every operation becomes a cml_mil_node bound to its op definition, with
 *     its named parameters resolved to value slots;
 *   - each op's infer() validates parameter types, fixes output types and
 *     bound shapes, reads compile-time parameters into node->attr, and sizes
 *     its scratch;
 *   - ops whose inputs are all constant are folded (run once at load);
 *   - non-constant values get offsets in one planned arena (by lifetime).
 * Execution then only calls run() for each node in order.
 *
 * Precision: fp16 values are stored as float32 holding fp16-representable
 * numbers; the executor rounds every fp16 output to fp16 after each op, which
 * gives the same results as fp16 storage with rounding at op boundaries (what
 * Core ML does), while letting one fp32 kernel layer serve both precisions.
 * fp16 constants stay fp16 (`half`) where every reader takes fp16 weights
 * (linear's weight, matmul's y, a 1-D / 2-D conv's weight: widened exactly
 * inside the gemm; gather's table: rows widened as they are copied) and are
 * widened once at load elsewhere. Boundary conversion (fp16 model I/O) uses
 * F16C where available.
 *
 * Storage dtypes: FLOAT32 (fp32 and fp16 values, `fp16` flag set for the
 * latter), INT32, INT64, BOOL (1 byte), INT8, UINT8, INT16, UINT16, UINT32.
 * STRING values exist only as constants (str).
 */
#ifndef CML_MIL_MIL_H
#define CML_MIL_MIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cml.h"
#include "core/status.h"
#include "core/threadpool.h"

typedef uint32_t cml_mil_vid;
#define CML_MIL_NONE UINT32_MAX

typedef enum cml_mil_kind {
    CML_MIL_KIND_TENSOR = 0,
    CML_MIL_KIND_STRING = 1, /* const string scalar (pad_type, mode, dtype, ...) */
    CML_MIL_KIND_STATE = 2,  /* a state function input: persistent buffer */
    CML_MIL_KIND_LIST = 3,   /* const list/tuple (rare; e.g. classify classes) */
} cml_mil_kind;

typedef struct cml_mil_value {
    const char *name;
    cml_mil_kind kind;
    cml_dtype dtype;               /* storage dtype (see above) */
    bool fp16;                     /* declared fp16: rounded after each op */
    int32_t rank;
    int64_t shape[CML_MAX_DIMS];   /* current shape; updated at run for dynamic values */
    int64_t bound[CML_MAX_DIMS];   /* upper bound used for planning */
    bool dynamic;                  /* shape known only at run time */
    bool is_const;                 /* data fixed at load (const op, folded, weights) */
    void *data;                    /* const data, state buffer, or arena + offset */
    size_t capacity;               /* bytes reserved at data */
    const char *str;               /* STRING kind: NUL-terminated */
    /* planner bookkeeping (compile.c / plan.c) */
    int32_t def_node;              /* index of the defining node in its block, -1 = input/const */
    int32_t last_use;              /* last node index reading it (in the outermost block) */
    bool needs_buffer;             /* gets arena space */
    size_t arena_offset;
    /* Sub-byte constants kept packed (compile.c): when packed_bits (1..7) is
     * set, data holds LSB-first packed elements of that width (capacity =
     * the packed bytes; dtype INT8 when packed_signed, i.e. int4, else
     * UINT8) and only constexpr_* parameters read it (ops_constexpr.c). */
    uint8_t packed_bits;
    bool packed_signed;
    /* fp16 constants kept as stored (compile.c): when half is set, data holds
     * IEEE fp16 bits (uint16_t, capacity = 2 bytes per element) while dtype
     * stays FLOAT32 with fp16 set; only linear's `weight`, matmul's `y`, a
     * 1-D / 2-D conv's `weight` and gather's `x` read such a value (any other
     * reader gets it widened at load). */
    bool half;
    /* Prepacked at load (ops_linear.c cml_mil_prepack_linear): when gemm_nr
     * is set, data holds the weight as cml_k_gemm_pack_b panels of that
     * width (fp16 bits when half, else float; shape/bound unchanged) and
     * only linear's `weight` reads it. */
    uint8_t gemm_nr;
} cml_mil_value;

/* One named operation parameter; variadic parameters (concat's `values`)
 * have count > 1. */
typedef struct cml_mil_param {
    const char *name;
    cml_mil_vid *vids;
    uint32_t count;
} cml_mil_param;

struct cml_mil_op_def;
struct cml_mil_block;

typedef struct cml_mil_node {
    const struct cml_mil_op_def *def;
    const char *type;              /* MIL op type, e.g. "conv" */
    const char *name;              /* attributes["name"], for messages ("" if absent) */
    cml_mil_param *params;
    uint32_t nparams;
    cml_mil_vid *outputs;
    uint32_t noutputs;
    struct cml_mil_block *blocks;  /* cond: 2, while_loop: cond + body */
    uint32_t nblocks;
    void *attr;                    /* op-specific compiled parameters (owned by the graph) */
    size_t scratch;                /* scratch bytes run() needs */
    bool folded;                   /* computed at load; skipped at run */
} cml_mil_node;

typedef struct cml_mil_block {
    cml_mil_vid *inputs;           /* nested blocks only (loop-carried values) */
    uint32_t ninputs;
    cml_mil_vid *outputs;
    uint32_t noutputs;
    cml_mil_node *nodes;
    uint32_t nnodes;
} cml_mil_block;

typedef struct cml_mil_graph {
    const cml_allocator *allocator;
    int opset;                     /* 15 (iOS15/CoreML5) .. 18 (iOS18/CoreML8), 26 for CoreML9 */
    cml_mil_value *values;
    uint32_t nvalues;
    uint32_t values_cap;
    cml_mil_block main;
    cml_mil_vid *inputs;           /* function inputs in declaration order (states included) */
    uint32_t ninputs;
    uint8_t *arena;                /* planned activations */
    size_t arena_size;
    void *scratch;                 /* max node scratch */
    size_t scratch_size;
    uint32_t max_loop_iterations;  /* per while_loop run; 0: CML_MIL_MAX_LOOP_ITERATIONS */
    uint64_t memory_budget;        /* 0: none; else arena + scratch may not grow past it
                                    * (set by the embedder after cml_mil_compile) */
    size_t const_file_bytes;       /* constant tensor bytes as stored in the model (compressed.h) */
    /* Everything else the graph owns (names, attrs, const buffers) is freed
     * through this list. */
    void **owned;
    uint32_t nowned, owned_cap;
    /* Flexible shapes (replan.c): the arena is planned for the input shapes
     * last bound, not for the upper bounds. arena_size / scratch_size are
     * what the current plan uses; arena_cap / scratch_cap what is
     * allocated (they only grow). input_limit / output_limit hold the
     * declared upper bounds of g->inputs and of main's outputs (the
     * values' own bound[] is the current plan's). owned[] entries from
     * owned_base on are the attrs of the last re-inference. */
    size_t arena_cap, scratch_cap;
    int64_t (*input_limit)[CML_MAX_DIMS];
    int64_t (*output_limit)[CML_MAX_DIMS];
    uint32_t owned_base;
    bool planned;                  /* false after a failed re-plan: run refuses */
    struct cml_prof *prof;         /* profiling sink for the next run (core/profile.h,
                                    * set by the embedder); NULL: off */
} cml_mil_graph;

/* Shared by compile (allocator set, pool may be NULL) and run (scratch set). */
typedef struct cml_mil_ctx {
    cml_mil_graph *g;
    cml_error *err;
    cml_threadpool *pool;
    void *scratch;
    size_t scratch_size;
    bool compiling;
    /* Set by a run() that already rounded every fp16 output to fp16 (in its
     * own epilogue); the executor then skips its rounding pass. */
    bool outputs_rounded;
    /* Profiling (run only): the sink, NULL when off, and the depth of the
     * block being run (1 = main). */
    struct cml_prof *prof;
    int32_t depth;
} cml_mil_ctx;

typedef struct cml_mil_op_def {
    const char *type;
    /* Compile time: validate, set outputs (cml_mil_set_output), fill
     * node->attr and node->scratch. Errors name the op and parameter. */
    cml_status (*infer)(cml_mil_ctx *ctx, cml_mil_node *node);
    /* Run time (also used for constant folding): compute outputs from the
     * current input shapes, resizing dynamic outputs with cml_mil_resize. */
    cml_status (*run)(cml_mil_ctx *ctx, const cml_mil_node *node);
    bool no_fold;                  /* never constant-fold (state ops, random) */
} cml_mil_op_def;

/* ---- op registry (mil/ops_registry.c) ---------------------------------- */

/* Ops are registered by listing them in src/mil/ops_list.inc: a line
 * `CML_MIL_OP(conv)` adds `extern const cml_mil_op_def cml_mil_op_conv` to the
 * static table (declare it in mil/ops.h as well). */
const cml_mil_op_def *cml_mil_op_find(const char *type);

/* ---- helpers for op implementations (mil/op_util.c) ---------------------- */

/* The value bound to parameter `name` (first binding), or NULL if absent. */
cml_mil_value *cml_mil_in(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name);
/* All bindings of a variadic parameter; *count = 0 when absent. */
const cml_mil_param *cml_mil_param_find(const cml_mil_node *node, const char *name);
cml_mil_value *cml_mil_value_at(cml_mil_ctx *ctx, cml_mil_vid vid);
cml_mil_value *cml_mil_out(cml_mil_ctx *ctx, const cml_mil_node *node, uint32_t i);

/* Required tensor input; fails naming the op and parameter when absent. */
cml_status cml_mil_require(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                           cml_mil_value **out);

/* Compile-time parameters: fail unless the bound value is const. When the
 * parameter is absent, the default is returned (has_default) or an error. */
cml_status cml_mil_const_int(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                             bool has_default, int64_t def, int64_t *out);
cml_status cml_mil_const_float(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                               bool has_default, double def, double *out);
cml_status cml_mil_const_bool(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                              bool has_default, bool def, bool *out);
/* Returns the string, or def (may be NULL) when absent. */
cml_status cml_mil_const_string(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                                const char *def, const char **out);
/* Integer vector (any int dtype, or a scalar as length 1). *count may be 0
 * for an empty vector; absent parameter -> *count = 0 and *present = false. */
cml_status cml_mil_const_ints(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                              int64_t *out, uint32_t max, uint32_t *count, bool *present);
/* Float vector/scalar read from any float or int dtype. */
cml_status cml_mil_const_floats(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                                float *out, uint32_t max, uint32_t *count, bool *present);

/* Compile time: declares output i. Bound = shape; capacity from the bound. */
cml_status cml_mil_set_output(cml_mil_ctx *ctx, const cml_mil_node *node, uint32_t i,
                              cml_dtype dtype, bool fp16, int32_t rank, const int64_t *shape,
                              bool dynamic);
/* Run time: sets a value's current shape; fails if it exceeds capacity. */
cml_status cml_mil_resize(cml_mil_ctx *ctx, cml_mil_value *v, int32_t rank, const int64_t *shape);

/* Graph-owned allocation for node->attr and the like (freed with the graph). */
void *cml_mil_alloc(cml_mil_ctx *ctx, size_t size);

/* Element count of the current / bound shape. */
int64_t cml_mil_numel(const cml_mil_value *v);
int64_t cml_mil_bound_numel(const cml_mil_value *v);

/* Reports an op error: "op 'conv_0' (conv): <message>". */
cml_status cml_mil_fail(cml_mil_ctx *ctx, const cml_mil_node *node, cml_status status,
                        const char *fmt, ...) CML_PRINTF(4, 5);

/* Runs a nested block (cond / while_loop bodies). */
cml_status cml_mil_run_block(cml_mil_ctx *ctx, const cml_mil_block *block);

/* ---- additions (helpers for ops and the executor) ------------------------ */

/* Every registered op (for `cml inspect` and tests). */
const cml_mil_op_def *const *cml_mil_op_table(size_t *count);

/* Element i of a tensor value as a double / int64, whatever its storage
 * dtype (floats truncate toward zero, saturating, for the int64 form). */
double cml_mil_get_f64(const cml_mil_value *v, int64_t i);
int64_t cml_mil_get_i64(const cml_mil_value *v, int64_t i);

/* Storage bytes of the value at its current shape. */
size_t cml_mil_nbytes(const cml_mil_value *v);

#endif
