/* Indexed element access for the nn/image/reduction ops: a thin layer over
 * the one element reader/writer (elem.h). */
#include "ops/aten/aten_num.h"

#include "ops/aten/elem.h"

static const void *at(cml_dtype dt, const void *base, size_t i) {
    return (const char *)base + i * cml_dtype_size(dt);
}

double cml_aten_num_get_any(cml_dtype dt, const void *base, size_t i) {
    return cml_aten_elem_supported(dt) ? cml_aten_elem_get_f64(dt, at(dt, base, i)) : 0.0;
}

int64_t cml_aten_num_get_i64(cml_dtype dt, const void *base, size_t i) {
    return cml_aten_elem_supported(dt) ? cml_aten_elem_get_i64(dt, at(dt, base, i)) : 0;
}

void cml_aten_num_set_any(cml_dtype dt, void *base, size_t i, double v) {
    if (cml_aten_elem_supported(dt)) cml_aten_elem_set_f64(dt, (void *)at(dt, base, i), v);
}
