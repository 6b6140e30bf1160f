/*
 * The operator registry: every portable kernel by its "name.overload" lookup
 * string, in one static table sorted by strcmp order (checked by
 * tests/unit/test_aten_registry.c) and searched by bisection.
 *
 * The entries come from ops_list.inc (one line per op).
 */
#include <string.h>

#include "exec/op.h"
#include "ops/aten/aten_ops.h"

#define CML_ATEN_OP(name, nargs, fn) {name, nargs, fn##_prepare, fn##_run},

static const cml_op k_ops[] = {
#include "ops/aten/ops_list.inc"
};

#undef CML_ATEN_OP

const cml_op *cml_op_find(const char *name, size_t len) {
    if (!name) return NULL;
    size_t lo = 0, hi = sizeof k_ops / sizeof k_ops[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *s = k_ops[mid].name;
        size_t slen = strlen(s);
        /* Byte order, a proper prefix first: the same order as strcmp. */
        int c = memcmp(s, name, slen < len ? slen : len);
        if (c == 0) c = slen < len ? -1 : slen > len ? 1 : 0;
        if (c == 0) return &k_ops[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const cml_op *cml_op_table(size_t *count) {
    if (count) *count = sizeof k_ops / sizeof k_ops[0];
    return k_ops;
}
