/* Overflow-checked size arithmetic. Every size derived from file contents
 * goes through these; they return false on overflow. */
#ifndef CML_CORE_CHECKED_H
#define CML_CORE_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool cml_add_size(size_t a, size_t b, size_t *out) {
    return !__builtin_add_overflow(a, b, out);
}
static inline bool cml_mul_size(size_t a, size_t b, size_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool cml_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}
static inline bool cml_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool cml_mul_i64(int64_t a, int64_t b, int64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
/* True when [offset, offset + len) lies inside [0, total). */
static inline bool cml_range_ok(uint64_t offset, uint64_t len, uint64_t total) {
    return offset <= total && len <= total - offset;
}
static inline size_t cml_align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

#endif
