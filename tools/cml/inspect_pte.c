/* The .pte-level facts for `cml inspect`: header, segments, named data and,
 * per execution plan, planned memory, operator histogram and delegates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"

static cJSON *str_json(cml_str s) {
    /* Flatbuffer strings may hold NULs; cJSON wants a C string, so cut there. */
    return cJSON_CreateString(s.ptr ? s.ptr : "");
}

static void add_u64(cJSON *o, const char *key, uint64_t v) {
    cJSON_AddNumberToObject(o, key, (double)v);
}

static bool printable(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != '\t' && p[i] != '\n') return false;
    return true;
}

/* Bytes as text when printable, else {"hex": "..."} (at most 64 bytes shown). */
static void add_bytes(cJSON *o, const uint8_t *p, size_t n) {
    if (printable(p, n)) {
        char *s = malloc(n + 1);
        if (!s) return;
        memcpy(s, p, n);
        s[n] = '\0';
        cJSON_AddStringToObject(o, "value", s);
        free(s);
        return;
    }
    size_t shown = n < 64 ? n : 64;
    char hex[64 * 2 + 4];
    for (size_t i = 0; i < shown; i++) snprintf(hex + 2 * i, 3, "%02x", p[i]);
    if (shown < n) strcpy(hex + 2 * shown, "...");
    cJSON_AddStringToObject(o, "hex", hex);
    add_u64(o, "size", n);
}

static cJSON *header_json(const cml_pte_program *p) {
    cJSON *h = cJSON_CreateObject();
    cJSON_AddBoolToObject(h, "extended_header", p->has_extended_header);
    add_u64(h, "header_length", p->header_length);
    add_u64(h, "program_size", p->program_size);
    add_u64(h, "segment_base_offset", p->segment_base_offset);
    add_u64(h, "segment_data_size", p->segment_data_size);
    add_u64(h, "version", p->version);
    return h;
}

static cJSON *segments_json(const cml_pte_program *p) {
    cJSON *a = cJSON_CreateArray();
    for (uint32_t i = 0; i < p->nsegments; i++) {
        cJSON *s = cJSON_CreateObject();
        add_u64(s, "index", i);
        add_u64(s, "offset", p->segments[i].offset);
        add_u64(s, "size", p->segments[i].size);
        cJSON_AddItemToArray(a, s);
    }
    return a;
}

static cJSON *named_data_json(const cml_pte_program *p) {
    cJSON *a = cJSON_CreateArray();
    for (uint32_t i = 0; i < p->nnamed_data; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddItemToObject(s, "key", str_json(p->named_data[i].key));
        add_u64(s, "segment", p->named_data[i].segment_index);
        add_u64(s, "size", p->named_data[i].size);
        cJSON_AddItemToArray(a, s);
    }
    return a;
}

static cJSON *planned_memory_json(const cml_pte_plan *plan) {
    cJSON *m = cJSON_CreateObject();
    cJSON *arenas = cJSON_AddArrayToObject(m, "arenas");
    uint64_t total = 0;
    /* Entry 0 is reserved; arena ids (memory_id) are 1-based. */
    for (uint32_t i = 1; i < plan->nbuffer_sizes; i++) {
        cJSON *a = cJSON_CreateObject();
        add_u64(a, "id", i);
        add_u64(a, "size", (uint64_t)plan->buffer_sizes[i]);
        cJSON_AddItemToArray(arenas, a);
        total += (uint64_t)plan->buffer_sizes[i];
    }
    add_u64(m, "total", total);
    return m;
}

static cJSON *instructions_json(const cml_pte_plan *plan) {
    uint64_t count[6] = {0};
    for (uint32_t c = 0; c < plan->nchains; c++)
        for (uint32_t i = 0; i < plan->chains[c].ninstructions; i++) {
            unsigned k = (unsigned)plan->chains[c].instructions[i].kind;
            if (k < 6) count[k]++;
        }
    cJSON *o = cJSON_CreateObject();
    add_u64(o, "kernel_calls", count[CML_INSTR_KERNEL_CALL]);
    add_u64(o, "delegate_calls", count[CML_INSTR_DELEGATE_CALL]);
    add_u64(o, "moves", count[CML_INSTR_MOVE_CALL]);
    add_u64(o, "jumps", count[CML_INSTR_JUMP_FALSE_CALL]);
    add_u64(o, "frees", count[CML_INSTR_FREE_CALL]);
    return o;
}

typedef struct op_count {
    char name[256];
    uint64_t calls;
} op_count;

static int cmp_ops(const void *a, const void *b) {
    const op_count *x = a, *y = b;
    if (x->calls != y->calls) return x->calls < y->calls ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* KernelCalls per operator "name.overload", most called first. */
static cJSON *operators_json(const cml_pte_plan *plan) {
    cJSON *a = cJSON_CreateArray();
    if (plan->noperators == 0) return a;
    op_count *ops = calloc(plan->noperators, sizeof *ops);
    if (!ops) return a;
    for (uint32_t i = 0; i < plan->noperators; i++) {
        const cml_pte_operator *op = &plan->operators[i];
        snprintf(ops[i].name, sizeof ops[i].name, "%s%s%s", op->name.ptr ? op->name.ptr : "",
                 op->overload.len ? "." : "", op->overload.len ? op->overload.ptr : "");
    }
    for (uint32_t c = 0; c < plan->nchains; c++)
        for (uint32_t i = 0; i < plan->chains[c].ninstructions; i++) {
            const cml_pte_instruction *in = &plan->chains[c].instructions[i];
            if (in->kind == CML_INSTR_KERNEL_CALL) ops[in->a].calls++;
        }
    /* The operator table may list a name twice; merge by name. */
    qsort(ops, plan->noperators, sizeof *ops, cmp_ops);
    for (uint32_t i = 0; i < plan->noperators; i++) {
        if (ops[i].calls == 0) continue;
        for (uint32_t j = i + 1; j < plan->noperators; j++)
            if (ops[j].calls && strcmp(ops[i].name, ops[j].name) == 0) {
                ops[i].calls += ops[j].calls;
                ops[j].calls = 0;
            }
    }
    qsort(ops, plan->noperators, sizeof *ops, cmp_ops);
    for (uint32_t i = 0; i < plan->noperators && ops[i].calls; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", ops[i].name);
        add_u64(o, "calls", ops[i].calls);
        cJSON_AddItemToArray(a, o);
    }
    free(ops);
    return a;
}

static cJSON *delegate_json(const cml_pte_program *p, const cml_pte_plan *plan, uint32_t d) {
    const cml_pte_delegate *del = &plan->delegates[d];
    cJSON *o = cJSON_CreateObject();
    add_u64(o, "index", d);
    cJSON_AddItemToObject(o, "id", str_json(del->id));
    uint64_t calls = 0;
    for (uint32_t c = 0; c < plan->nchains; c++)
        for (uint32_t i = 0; i < plan->chains[c].ninstructions; i++) {
            const cml_pte_instruction *in = &plan->chains[c].instructions[i];
            if (in->kind == CML_INSTR_DELEGATE_CALL && (uint32_t)in->a == d) calls++;
        }
    add_u64(o, "calls", calls);
    cJSON *pl = cJSON_AddObjectToObject(o, "payload");
    cJSON_AddStringToObject(pl, "location", del->location == CML_DATA_SEGMENT ? "segment" : "inline");
    add_u64(pl, "index", del->index);
    add_u64(pl, "size", del->size);
    /* Multi-method Core ML exports point into named data with "CMJR" + JSON. */
    if (del->size >= 4 && del->data && memcmp(del->data, "CMJR", 4) == 0) {
        cJSON *ref = cJSON_AddObjectToObject(pl, "named_data_reference");
        add_bytes(ref, del->data + 4, del->size - 4);
    }
    cJSON *specs = cJSON_AddArrayToObject(o, "compile_specs");
    for (uint32_t s = 0; s < del->nspecs; s++) {
        cJSON *sp = cJSON_CreateObject();
        cJSON_AddItemToObject(sp, "key", str_json(del->specs[s].key));
        add_bytes(sp, del->specs[s].value, del->specs[s].value_len);
        cJSON_AddItemToArray(specs, sp);
    }
    cli_inspect_coreml_delegate(o, p, plan, d);
    return o;
}

static cJSON *plan_json(const cml_pte_program *p, const cml_pte_plan *plan) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "name", str_json(plan->name));
    add_u64(o, "values", plan->nvalues);
    add_u64(o, "inputs", plan->ninputs);
    add_u64(o, "outputs", plan->noutputs);
    add_u64(o, "chains", plan->nchains);
    cJSON_AddItemToObject(o, "instructions", instructions_json(plan));
    cJSON_AddItemToObject(o, "planned_memory", planned_memory_json(plan));
    cJSON_AddItemToObject(o, "operators", operators_json(plan));
    cJSON *dels = cJSON_AddArrayToObject(o, "delegates");
    for (uint32_t d = 0; d < plan->ndelegates; d++) cJSON_AddItemToArray(dels, delegate_json(p, plan, d));
    return o;
}

cJSON *cli_inspect_pte(const cml_pte_program *p, size_t file_size) {
    cJSON *o = cJSON_CreateObject();
    add_u64(o, "file_size", file_size);
    cJSON_AddItemToObject(o, "header", header_json(p));
    cJSON_AddItemToObject(o, "segments", segments_json(p));
    cJSON_AddItemToObject(o, "named_data", named_data_json(p));
    cJSON *c = cJSON_AddObjectToObject(o, "constants");
    cJSON_AddStringToObject(c, "storage", p->uses_constant_buffer ? "inline constant_buffer"
                                                                  : "constant segment");
    add_u64(c, "slots", p->nconstants);
    add_u64(o, "mutable_data_offsets", p->nmutable_offsets);
    cJSON *plans = cJSON_AddArrayToObject(o, "plans");
    for (uint32_t i = 0; i < p->nplans; i++) cJSON_AddItemToArray(plans, plan_json(p, &p->plans[i]));
    return o;
}
