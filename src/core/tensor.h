/* The runtime's tensor: dtype, shape, dim order and a data pointer into a
 * planned arena, a constant segment (read-only, mmapped) or caller memory.
 * capacity is the byte size reserved at data: a dynamic-bound tensor may be
 * resized to any shape whose byte size fits. */
#ifndef CML_CORE_TENSOR_H
#define CML_CORE_TENSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "cml.h"
#include "core/status.h"

enum cml_dynamism {
    CML_SHAPE_STATIC = 0,
    CML_SHAPE_DYNAMIC_BOUND = 1,
    CML_SHAPE_DYNAMIC_UNBOUND = 2,
};

typedef struct cml_tensor {
    cml_dtype dtype;
    int32_t rank;
    int64_t sizes[CML_MAX_DIMS];
    uint8_t dim_order[CML_MAX_DIMS]; /* outermost first; identity = contiguous */
    uint8_t dynamism;                /* enum cml_dynamism */
    bool is_const;                   /* data points into read-only model memory */
    void *data;
    size_t capacity;                 /* bytes usable at data */
} cml_tensor;

int64_t cml_tensor_numel(const cml_tensor *t);
size_t cml_tensor_nbytes(const cml_tensor *t);
/* True when dim_order is the identity (row-major). */
bool cml_tensor_is_contiguous(const cml_tensor *t);
/* Sets the shape. Fails with CML_ERR_SHAPE when the new byte size exceeds
 * capacity, or when a static tensor would change shape. */
cml_status cml_tensor_resize(cml_tensor *t, int32_t rank, const int64_t *sizes,
                             cml_error *err);
/* Row-major strides (in elements) of the logical shape under dim_order. */
void cml_tensor_strides(const cml_tensor *t, int64_t *strides);
/* Formats "[1, 3, 224, 224]" into buf. */
const char *cml_shape_str(int32_t rank, const int64_t *sizes, char *buf, size_t size);

#endif
