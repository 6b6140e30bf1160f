/* Method inputs and outputs (method_io.c). */
#ifndef CML_EXEC_METHOD_IO_H
#define CML_EXEC_METHOD_IO_H

#include "exec/internal.h"

/* Allocates the per-input bookkeeping and records each I/O's bound shape. */
cml_status cml_method_io_init(cml_method *m);

#endif
