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

/* Gives method-owned tensor t (its data one of m->owned_buffers) room for
 * `bytes`: a bigger buffer replaces a smaller one, contents not kept. */
cml_status cml_method_reserve_tensor(cml_method *m, cml_tensor *t, size_t bytes);

#endif
