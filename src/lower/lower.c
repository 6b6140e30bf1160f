/* cml_lower_pte: parse, partition, convert, write (see lower.h). */
#include <stdlib.h>
#include <string.h>

#include "lower/lower.h"

static cml_status check_options(const cml_lower_options *o, cml_error *err) {
    static const char *const units[] = {"all", "cpu_only", "cpu_and_gpu", "cpu_and_ne"};
    bool ok = false;
    for (int i = 0; i < 4; i++) ok |= o->compute_units && !strcmp(o->compute_units, units[i]);
    if (!ok) return cml_fail(err, CML_ERR_INVALID_ARG, "lower: compute units '%s' (expected all, "
                             "cpu_only, cpu_and_gpu or cpu_and_ne)",
                             o->compute_units ? o->compute_units : "(null)");
    if (o->min_target != 0 && (o->min_target < 15 || o->min_target > 18))
        return cml_fail(err, CML_ERR_INVALID_ARG, "lower: deployment target iOS%d (iOS15..iOS18)",
                        o->min_target);
    if (o->quantize_bits != 0 && o->quantize_bits != 4 && o->quantize_bits != 8)
        return cml_fail(err, CML_ERR_INVALID_ARG, "lower: quantize to %d bits (4 or 8)",
                        o->quantize_bits);
    int pb = o->palettize_bits;
    if (pb < 0 || pb > 8 || pb == 5 || pb == 7)
        return cml_fail(err, CML_ERR_INVALID_ARG, "lower: palettize to %d bits (1, 2, 3, 4, 6 "
                        "or 8)", pb);
    if (pb && o->quantize_bits)
        return cml_fail(err, CML_ERR_INVALID_ARG, "lower: --palettize and --quantize exclude "
                        "each other");
    if (pb && o->min_target < 18)
        return cml_fail(err, CML_ERR_INVALID_ARG, "lower: --palettize writes the iOS18 "
                        "constexpr_lut_to_dense, which needs --min-deployment-target iOS18");
    if (o->quantize_bits == 8 && o->min_target < 16)
        return cml_fail(err, CML_ERR_INVALID_ARG, "lower: --quantize int8 writes "
                        "constexpr_affine_dequantize, which needs --min-deployment-target iOS16 "
                        "or later");
    if (o->quantize_bits == 4 && o->min_target < 18)
        return cml_fail(err, CML_ERR_INVALID_ARG, "lower: --quantize int4 writes "
                        "constexpr_blockwise_shift_scale, which needs --min-deployment-target "
                        "iOS18");
    return CML_OK;
}

/* Program features the lowering does not handle yet. */
static cml_status check_program(const cml_pte_program *prog, const cml_lower_options *o,
                                cml_error *err) {
    if (prog->nnamed_data || prog->nmutable_offsets > 1)
        return cml_fail(err, CML_ERR_UNSUPPORTED, "lower: programs with named data or mutable "
                        "buffer initial state are not supported yet");
    for (uint32_t p = 0; p < prog->nplans; p++) {
        const cml_pte_plan *pl = &prog->plans[p];
        if (pl->ndelegates && !o->relower)
            return cml_fail(err, CML_ERR_UNSUPPORTED, "lower: plan '%s' already has %u delegate(s) "
                            "(%s); pass --relower to lower what remains", pl->name.ptr,
                            pl->ndelegates, pl->delegates[0].id.ptr);
        for (uint32_t v = 0; v < pl->nvalues; v++) {
            const cml_pte_value *val = &pl->values[v];
            if (val->kind == CML_VALUE_TENSOR && val->u.tensor->external)
                return cml_fail(err, CML_ERR_UNSUPPORTED, "lower: plan '%s' value %u: external "
                                "(.ptd) tensor data is not supported yet", pl->name.ptr, v);
            if (val->kind == CML_VALUE_TENSOR && val->u.tensor->initial_data)
                return cml_fail(err, CML_ERR_UNSUPPORTED, "lower: plan '%s' value %u: mutable "
                                "buffers are not supported yet", pl->name.ptr, v);
        }
    }
    return CML_OK;
}

static cml_status full_graph_error(const cml_lower_report *r, cml_error *err) {
    char list[400] = "";
    size_t len = 0;
    for (uint32_t i = 0; i < r->nunsupported && i < CML_LOWER_MAX_REPORT && len < 300; i++) {
        size_t n = strlen(r->unsupported[i]);
        if (len + n + 3 >= sizeof list) break;
        memcpy(list + len, i ? "; " : "", i ? 2 : 0);
        len += i ? 2 : 0;
        memcpy(list + len, r->unsupported[i], n + 1);
        len += n;
    }
    return cml_fail(err, CML_ERR_UNSUPPORTED, "lower: --lower-full-graph: %u op(s) cannot be "
                    "lowered to Core ML: %s", r->nunsupported, list);
}

static void free_results(cml_lower_plan_result *res, uint32_t n) {
    for (uint32_t p = 0; res && p < n; p++) {
        for (uint32_t g = 0; res[p].delegates && g < res[p].ngroups; g++)
            cml_lower_delegate_free(&res[p].delegates[g]);
        free(res[p].delegates);
        free(res[p].groups);
    }
    free(res);
}

static cml_status lower_plans(const cml_pte_program *prog, const cml_lower_options *opts,
                              cml_lower_plan_result *res, cml_lower_report *report,
                              cml_error *err) {
    for (uint32_t p = 0; p < prog->nplans; p++) {
        const cml_pte_plan *pl = &prog->plans[p];
        uint32_t n = pl->nchains ? pl->chains[0].ninstructions : 0;
        res[p].groups = calloc(n + 1, sizeof *res[p].groups);
        res[p].delegates = calloc(n + 1, sizeof *res[p].delegates);
        if (!res[p].groups || !res[p].delegates)
            return cml_fail(err, CML_ERR_NOMEM, "lower: out of memory");
        CML_TRY(cml_lower_partition(pl, opts, res[p].groups, &res[p].ngroups, report, err));
    }
    if (opts->lower_full_graph && report->nportable) return full_graph_error(report, err);
    for (uint32_t p = 0; p < prog->nplans; p++)
        for (uint32_t g = 0; g < res[p].ngroups; g++) {
            CML_TRY(cml_lower_convert(&prog->plans[p], &res[p].groups[g], opts,
                                      &res[p].delegates[g], err));
            report->ndelegates++;
        }
    return CML_OK;
}

cml_status cml_lower_pte(const uint8_t *in, size_t size, const cml_lower_options *opts,
                         uint8_t **out, size_t *out_size, cml_lower_report *report,
                         cml_error *err) {
    if (!in || !opts || !out || !out_size || !report)
        return cml_fail(err, CML_ERR_INVALID_ARG, "lower: NULL argument");
    memset(report, 0, sizeof *report);
    CML_TRY(check_options(opts, err));
    cml_pte_program prog;
    CML_TRY(cml_pte_parse(in, size, NULL, &prog, err));
    cml_lower_plan_result *res = calloc(prog.nplans + 1, sizeof *res);
    cml_lbuf buf = {0};
    cml_status st = res ? check_program(&prog, opts, err)
                        : cml_fail(err, CML_ERR_NOMEM, "lower: out of memory");
    if (st == CML_OK) st = lower_plans(&prog, opts, res, report, err);
    if (st == CML_OK) st = cml_lower_write_pte(&prog, res, opts, &buf, err);
    free_results(res, prog.nplans);
    cml_pte_free(&prog);
    if (st != CML_OK) { cml_lbuf_free(&buf); return st; }
    *out = buf.data;
    *out_size = buf.size;
    return CML_OK;
}
