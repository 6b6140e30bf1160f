/*
 * Partition: which kernel calls of chain 0 go to Core ML. A call is taken
 * when its op is in the table (lower_ops.inc), not named by --skip-ops, and
 * its check accepts it. Taken calls are grouped into maximal runs of
 * consecutive instructions: the chain is topologically ordered, so a run
 * can never need a value computed by an instruction outside it that itself
 * reads the run's outputs (no cycle through an unsupported op). Upstream's
 * partitioner may also merge non-adjacent runs when no path goes through a
 * skipped op; that is not done yet. A call whose tensor inputs are all
 * constants (folded by the converter, as coremltools' constant elimination
 * does) stays portable when a portable call reads its result.
 */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "lower/convert_ops.h"
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
    char line[160];
    snprintf(line, sizeof line, "%.60s.%.16s: %.70s", op->name.ptr, op->overload.ptr, why);
    for (uint32_t i = 0; i < r->nunsupported && i < CML_LOWER_MAX_REPORT; i++)
        if (!strcmp(r->unsupported[i], line)) return;
    if (r->nunsupported < CML_LOWER_MAX_REPORT) memcpy(r->unsupported[r->nunsupported], line, sizeof line);
    r->nunsupported++;
}

/* Whether every tensor input of taken call ins is a constant. */
static bool const_only(const cml_pte_plan *p, const cml_pte_instruction *ins) {
    const cml_cv_op_entry *e = cml_lower_find_op(p, ins);
    for (uint32_t k = 0; k < e->nin; k++) {
        const cml_pte_tensor *t = cml_cv_tensor(p, ins->args[k]);
        if (t && !t->constant_data) return false;
    }
    return true;
}

static bool read_by_portable(const cml_pte_plan *p, const bool *taken, uint32_t i) {
    const cml_pte_chain *ch = &p->chains[0];
    const cml_pte_instruction *ins = &ch->instructions[i];
    const cml_cv_op_entry *e = cml_lower_find_op(p, ins);
    for (uint32_t k = e->nin; k < ins->nargs; k++) {
        for (uint32_t o = 0; o < p->noutputs; o++) if (p->outputs[o] == ins->args[k]) return true;
        for (uint32_t j = 0; j < ch->ninstructions; j++) {
            if (j == i || taken[j]) continue;
            const cml_pte_instruction *r = &ch->instructions[j];
            for (uint32_t a = 0; a < r->nargs; a++) if (r->args[a] == ins->args[k]) return true;
        }
    }
    return false;
}

/* Whether taken call i has a non-float tensor (bool, int) that would cross
 * a subgraph boundary, which Core ML I/O cannot carry: a plan input or
 * output, or referenced by another call that is portable or separated from
 * i by a portable instruction. */
static bool nonfloat_escapes(const cml_pte_plan *p, const bool *taken, uint32_t i) {
    const cml_pte_chain *ch = &p->chains[0];
    const cml_pte_instruction *ins = &ch->instructions[i];
    for (uint32_t k = 0; k < ins->nargs; k++) {
        int32_t v = ins->args[k];
        const cml_pte_tensor *t = cml_cv_tensor(p, v);
        if (!t || t->dtype == CML_DTYPE_FLOAT32 || t->constant_data) continue;
        for (uint32_t o = 0; o < p->noutputs; o++) if (p->outputs[o] == v) return true;
        for (uint32_t o = 0; o < p->ninputs; o++) if (p->inputs[o] == v) return true;
        for (uint32_t j = 0; j < ch->ninstructions; j++) {
            const cml_pte_instruction *r = &ch->instructions[j];
            bool refs = false;
            for (uint32_t a = 0; j != i && a < r->nargs; a++) refs |= r->args[a] == v;
            if (!refs) continue;
            if (!taken[j]) return true;
            for (uint32_t m = (j < i ? j : i) + 1; m < (j < i ? i : j); m++)
                if (!taken[m]) return true;
        }
    }
    return false;
}

static void mark(const cml_pte_plan *plan, const cml_lower_options *opts, bool *taken,
                 cml_lower_report *report) {
    const cml_pte_chain *ch = &plan->chains[0];
    for (uint32_t i = 0; i < ch->ninstructions; i++) {
        const cml_pte_instruction *ins = &ch->instructions[i];
        if (ins->kind != CML_INSTR_KERNEL_CALL) continue;
        const cml_pte_operator *op = &plan->operators[ins->a];
        const char *why = "skipped (--skip-ops)";
        taken[i] = !skipped(opts->skip_ops, op) && cml_lower_op_supported(plan, ins, &why);
        if (!taken[i]) report_op(report, op, why);
    }
    for (uint32_t i = ch->ninstructions; i-- > 0;)
        if (taken[i] && const_only(plan, &ch->instructions[i]) && read_by_portable(plan, taken, i)) {
            taken[i] = false;
            report_op(report, &plan->operators[ch->instructions[i].a], "constant-only, read by a portable op");
        }
    for (bool changed = true; changed;) { /* each call kept portable may strand another */
        changed = false;
        for (uint32_t i = 0; i < ch->ninstructions; i++)
            if (taken[i] && nonfloat_escapes(plan, taken, i)) {
                taken[i] = false;
                changed = true;
                report_op(report, &plan->operators[ch->instructions[i].a],
                          "a bool / integer tensor would cross a subgraph boundary");
            }
    }
}

cml_status cml_lower_partition(const cml_pte_plan *plan, const cml_lower_options *opts,
                               cml_lower_group *groups, uint32_t *ngroups,
                               cml_lower_report *report, cml_error *err) {
    *ngroups = 0;
    if (plan->nchains != 1)
        return cml_fail(err, CML_ERR_UNSUPPORTED, "lower: plan '%s' has %u chains (1 supported)",
                        plan->name.ptr, plan->nchains);
    const cml_pte_chain *ch = &plan->chains[0];
    bool *taken = calloc(ch->ninstructions + 1, 1);
    if (!taken) return cml_fail(err, CML_ERR_NOMEM, "lower: out of memory");
    mark(plan, opts, taken, report);
    bool open = false;
    for (uint32_t i = 0; i < ch->ninstructions; i++) {
        if (ch->instructions[i].kind == CML_INSTR_KERNEL_CALL) {
            report->nportable += !taken[i];
            report->nlowered += taken[i];
        }
        if (taken[i] && !open) groups[(*ngroups)++] = (cml_lower_group){i, i};
        if (taken[i]) groups[*ngroups - 1].last = i;
        open = taken[i];
    }
    free(taken);
    return CML_OK;
}
