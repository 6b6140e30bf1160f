/*
 * Partition: which kernel calls of chain 0 go to Core ML. A call is taken
 * when its op is in the table (lower_ops.inc), not named by --skip-ops, and
 * its check accepts it. Taken calls are grouped into maximal runs of
 * consecutive instructions: the chain is topologically ordered, so a run
 * can never need a value computed by an instruction outside it that itself
 * reads the run's outputs (no cycle through an unsupported op). Upstream's
 * partitioner may also merge non-adjacent runs when no path goes through a
 * skipped op; that is not done yet.
 */
#include <stdio.h>
#include <string.h>

#include "lower/lower.h"

/* Whether op (name, overload) is named in the comma list skip, as
 * "aten::x" or "aten::x.overload". */
static bool skipped(const char *skip, const cml_pte_operator *op) {
    if (!skip) return false;
    const char *s = skip;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == op->name.len && !memcmp(s, op->name.ptr, len)) return true;
        if (len == op->name.len + 1 + op->overload.len && !memcmp(s, op->name.ptr, op->name.len) &&
            s[op->name.len] == '.' && !memcmp(s + op->name.len + 1, op->overload.ptr, op->overload.len))
            return true;
        s += len + (e ? 1 : 0);
    }
    return false;
}

static void report_op(cml_lower_report *r, const cml_pte_operator *op, const char *why) {
    char line[64];
    snprintf(line, sizeof line, "%.30s.%.8s: %s", op->name.ptr, op->overload.ptr, why);
    for (uint32_t i = 0; i < r->nunsupported && i < CML_LOWER_MAX_REPORT; i++)
        if (!strcmp(r->unsupported[i], line)) return;
    if (r->nunsupported < CML_LOWER_MAX_REPORT) memcpy(r->unsupported[r->nunsupported], line, 64);
    r->nunsupported++;
}

cml_status cml_lower_partition(const cml_pte_plan *plan, const cml_lower_options *opts,
                               cml_lower_group *groups, uint32_t *ngroups,
                               cml_lower_report *report, cml_error *err) {
    *ngroups = 0;
    if (plan->nchains != 1)
        return cml_fail(err, CML_ERR_UNSUPPORTED, "lower: plan '%s' has %u chains (1 supported)",
                        plan->name.ptr, plan->nchains);
    const cml_pte_chain *ch = &plan->chains[0];
    bool open = false;
    for (uint32_t i = 0; i < ch->ninstructions; i++) {
        const cml_pte_instruction *ins = &ch->instructions[i];
        const char *why = "not a kernel call";
        bool ok = false;
        if (ins->kind == CML_INSTR_KERNEL_CALL) {
            const cml_pte_operator *op = &plan->operators[ins->a];
            ok = !skipped(opts->skip_ops, op) && cml_lower_op_supported(plan, ins, &why);
            if (!ok && skipped(opts->skip_ops, op)) why = "skipped (--skip-ops)";
            if (!ok) report_op(report, op, why);
            report->nportable += !ok;
            report->nlowered += ok;
        }
        if (ok && !open) groups[(*ngroups)++] = (cml_lower_group){i, i};
        if (ok) groups[*ngroups - 1].last = i;
        open = ok;
    }
    return CML_OK;
}
