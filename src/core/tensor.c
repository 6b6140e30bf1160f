#include "core/tensor.h"

#include <stdio.h>
#include <string.h>

int64_t cml_tensor_numel(const cml_tensor *t) {
    int64_t n = 1;
    for (int32_t i = 0; i < t->rank; i++) n *= t->sizes[i];
    return n;
}

size_t cml_tensor_nbytes(const cml_tensor *t) {
    return (size_t)cml_tensor_numel(t) * cml_dtype_size(t->dtype);
}

bool cml_tensor_is_contiguous(const cml_tensor *t) {
    for (int32_t i = 0; i < t->rank; i++)
        if (t->dim_order[i] != i) return false;
    return true;
}

cml_status cml_tensor_resize(cml_tensor *t, int32_t rank, const int64_t *sizes,
                             cml_error *err) {
    if (rank < 0 || rank > CML_MAX_DIMS)
        return cml_fail(err, CML_ERR_SHAPE, "rank %d out of range", rank);
    int64_t numel = 1;
    for (int32_t i = 0; i < rank; i++) {
        if (sizes[i] < 0 || __builtin_mul_overflow(numel, sizes[i], &numel))
            return cml_fail(err, CML_ERR_SHAPE, "invalid size at dim %d", i);
    }
    bool same = rank == t->rank;
    for (int32_t i = 0; same && i < rank; i++) same = sizes[i] == t->sizes[i];
    if (same) return CML_OK;
    char a[128], b[128];
    if (t->dynamism == CML_SHAPE_STATIC)
        return cml_fail(err, CML_ERR_SHAPE, "cannot resize static tensor %s to %s",
                        cml_shape_str(t->rank, t->sizes, a, sizeof a),
                        cml_shape_str(rank, sizes, b, sizeof b));
    uint64_t bytes;
    if (__builtin_mul_overflow((uint64_t)numel, (uint64_t)cml_dtype_size(t->dtype), &bytes) ||
        bytes > t->capacity)
        return cml_fail(err, CML_ERR_SHAPE, "shape %s exceeds the tensor's bound %s",
                        cml_shape_str(rank, sizes, b, sizeof b),
                        cml_shape_str(t->rank, t->sizes, a, sizeof a));
    if (rank != t->rank)
        for (int32_t i = 0; i < rank; i++) t->dim_order[i] = (uint8_t)i;
    t->rank = rank;
    memcpy(t->sizes, sizes, (size_t)rank * sizeof *sizes);
    return CML_OK;
}

void cml_tensor_strides(const cml_tensor *t, int64_t *strides) {
    int64_t s = 1;
    for (int32_t i = t->rank - 1; i >= 0; i--) {
        int d = t->dim_order[i];
        strides[d] = s;
        s *= t->sizes[d];
    }
}

const char *cml_shape_str(int32_t rank, const int64_t *sizes, char *buf, size_t size) {
    size_t used = 0;
    int n = snprintf(buf, size, "[");
    used = n > 0 ? (size_t)n : 0;
    for (int32_t i = 0; i < rank && used < size; i++) {
        n = snprintf(buf + used, size - used, "%s%lld", i ? ", " : "", (long long)sizes[i]);
        if (n > 0) used += (size_t)n;
    }
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}
