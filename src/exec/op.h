/*
 * The aten front end's kernel interface.
 *
 * A KernelCall's args are every schema argument in schema order followed by
 * the return value(s) (for out variants, the same value as `out`). Each
 * operator has:
 *   prepare: called once at method load with the args as planned (tensor
 *            shapes are the upper bounds, data may be unbound). Validates
 *            kinds, dtypes and ranks, and reports the scratch bytes run needs.
 *            Anything wrong here is a load error naming the op.
 *   run:     computes, resizing dynamic outputs within their capacity.
 *            Must not allocate; uses ctx->scratch (at least the prepared
 *            size, 64-byte aligned). Validates every argument shape and
 *            resizes its output (cml_aten_resize) before it writes any
 *            tensor data, so method creation can run it in check_only mode
 *            against the planned shapes (method_check.c).
 */
#ifndef CML_EXEC_OP_H
#define CML_EXEC_OP_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "core/threadpool.h"
#include "exec/evalue.h"

struct cml_prof;

typedef struct cml_kernel_ctx {
    cml_error *err;
    cml_threadpool *pool;
    cml_evalue *values;   /* the method's value table, for list items */
    uint32_t nvalues;
    void *scratch;
    size_t scratch_size;
    struct cml_prof *prof; /* profiling sink (core/profile.h); NULL: off */
    /* Load-time shape check (method_check.c): set, an op's run stops at its
     * first output resize, which then returns CML_SHAPES_CHECKED instead of
     * CML_OK once the new shape fits, so nothing past it runs. */
    bool check_only;
} cml_kernel_ctx;

/* What a run returns in check_only mode once its output shape is known to
 * fit: not an error, never seen outside method creation. */
#define CML_SHAPES_CHECKED ((cml_status)0x5e11)

typedef cml_status (*cml_op_prepare_fn)(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                        size_t *scratch_bytes);
typedef cml_status (*cml_op_run_fn)(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs);

typedef struct cml_op {
    const char *name;          /* "aten::add.out", "dim_order_ops::_clone_dim_order.out" */
    uint32_t nargs;            /* exact arg count including the return(s) */
    cml_op_prepare_fn prepare;
    cml_op_run_fn run;
} cml_op;

/* Looks up an operator by its full "name.overload" string (len bytes). */
const cml_op *cml_op_find(const char *name, size_t len);

/* Every registered operator, for `cml inspect` and tests. */
const cml_op *cml_op_table(size_t *count);

/* Argument helpers: read a value as the schema type, failing with a message
 * naming the op and argument position when the kind is wrong. */
cml_status cml_arg_tensor(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                          cml_tensor **out);
cml_status cml_arg_int(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                       int64_t *out);
cml_status cml_arg_double(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                          double *out);   /* accepts Int or Double (Scalar) */
cml_status cml_arg_bool(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                        bool *out);
/* IntList: copies up to max items into out; *count receives the length. */
cml_status cml_arg_int_list(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t i,
                            int64_t *out, uint32_t max, uint32_t *count);
bool cml_arg_is_none(cml_evalue **args, uint32_t i);

#endif
