/* Method inputs and outputs (method_io.c). */
#ifndef CML_EXEC_METHOD_IO_H
#define CML_EXEC_METHOD_IO_H

#include "exec/internal.h"

/* Allocates the per-input bookkeeping and records each I/O's bound shape
 * (unless the method's setup filled input_bounds / output_bounds already). */
cml_status cml_method_io_init(cml_method *m);

/* Frees what cml_method_io_init allocated for cml_method_input_shape. */
void cml_method_io_free(cml_method *m);

/* Names for a .pte method's inputs and outputs (method_names.c): the Core
 * ML feature name of the delegate input / output the value is, else
 * "input_<i>" / "output_<i>"; a name already taken falls back to the
 * positional one. No-op when the setup named them (.mlpackage). */
cml_status cml_method_names_init(cml_method *m);
void cml_method_names_free(cml_method *m);

/* Zero-copy bindings (method_bind.c). init allocates the per-I/O records;
 * unbind_input / unbind_output put the method's own buffer back (no-op
 * when not bound); bound_capacity is a bound tensor's caller capacity, or
 * 0 when t is not bound. */
cml_status cml_method_bind_init(cml_method *m);
void cml_method_bind_free(cml_method *m);
void cml_method_unbind_input(cml_method *m, size_t index);
size_t cml_method_bound_capacity(const cml_method *m, const cml_tensor *t);

/* The argument checks shared by set_input and bind_input: non-NULL, index
 * in range, a sane rank (messages on the method). */
cml_status cml_method_check_input_arg(cml_method *m, size_t index, const cml_tensor_view *in);

/* The shape checks of cml_method_set_input: resizes input `index`'s tensor
 * to in's shape (within its bounds; rank-0 vs [1] aliasing); for a
 * growable input with `reserve`, grows its buffer. *numel receives the
 * element count. */
cml_status cml_method_fit_input(cml_method *m, size_t index, const cml_tensor_view *in,
                                bool reserve, int64_t *numel);

/* Gives method-owned tensor t (its data one of m->owned_buffers) room for
 * `bytes`: a bigger buffer replaces a smaller one, contents not kept. */
cml_status cml_method_reserve_tensor(cml_method *m, cml_tensor *t, size_t bytes);

#endif
