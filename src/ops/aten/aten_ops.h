/* Prepare/run functions of every portable operator (one pair per op), declared
 * from ops_list.inc, the list registry.c builds its table from. */
#ifndef CML_OPS_ATEN_OPS_H
#define CML_OPS_ATEN_OPS_H

#include "ops/aten/aten_util.h"

#define CML_ATEN_OP(name, nargs, fn) ATEN_OP_DECL(fn)
#include "ops/aten/ops_list.inc"
#undef CML_ATEN_OP

#endif
