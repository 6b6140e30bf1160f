/* Run-time values of a method. Scalars are mutable (sym-int ops write them);
 * tensors point at method-owned cml_tensor structs; lists hold value
 * indices into the same values array, resolved when read. */
#ifndef CML_EXEC_EVALUE_H
#define CML_EXEC_EVALUE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/tensor.h"
#include "pte/pte.h"

typedef struct cml_evalue {
    cml_value_kind kind;
    union {
        int64_t i;
        bool b;
        double d;
        cml_str s;
        cml_tensor *t;
        struct { const int64_t *items; uint32_t count; } int_list;      /* value indices */
        struct { const double *items; uint32_t count; } double_list;
        struct { const uint8_t *items; uint32_t count; } bool_list;
        struct { const int32_t *items; uint32_t count; } tensor_list;   /* value indices, -1 = None */
    } u;
} cml_evalue;

#endif
