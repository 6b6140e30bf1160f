/* The static table of MIL op definitions, built from mil/ops_list.inc. No
 * registration at run time: an op is linked in because it is listed. */
#include <string.h>

#include "mil/mil.h"

#define CML_MIL_OP(t) extern const cml_mil_op_def cml_mil_op_##t;
#include "mil/ops_list.inc"
#undef CML_MIL_OP

static const cml_mil_op_def *const kMilOps[] = {
#define CML_MIL_OP(t) &cml_mil_op_##t,
#include "mil/ops_list.inc"
#undef CML_MIL_OP
};

const cml_mil_op_def *cml_mil_op_find(const char *type) {
    if (!type) return NULL;
    for (size_t i = 0; i < sizeof kMilOps / sizeof kMilOps[0]; i++)
        if (strcmp(kMilOps[i]->type, type) == 0) return kMilOps[i];
    return NULL;
}

const cml_mil_op_def *const *cml_mil_op_table(size_t *count) {
    if (count) *count = sizeof kMilOps / sizeof kMilOps[0];
    return kMilOps;
}
