/* Graphviz output of `cml inspect --dot` (see dot.h). */
#include "dot.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "coreml/mlpackage.h"
#include "coreml/payload.h"

#define DOT_LABEL_MAX 60

typedef Cml__Coreml__MILSpec__Operation mil_op;

/* A quoted, escaped string (at most DOT_LABEL_MAX characters of s). */
static void put_str(FILE *f, const char *s) {
    size_t n = 0;
    for (; s && *s && n < DOT_LABEL_MAX; s++, n++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fputc('\\', f);
        fputc(c < 0x20 || c == 0x7f ? ' ' : c, f);
    }
    if (s && *s) fputs("...", f);
}

/* ---- MIL graphs ---- */

typedef struct mil_name {
    const char *name;
    int node;      /* op node number, or -1 - k for function input k */
    bool is_const; /* produced by a const op: not drawn */
} mil_name;

typedef struct mil_graph {
    const char *prefix; /* node id prefix, e.g. "p0_d1" */
    mil_name *names;
    size_t nnames, cap;
} mil_graph;

static int add_name(mil_graph *g, const char *name, int node, bool is_const) {
    if (g->nnames == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 64;
        mil_name *n = realloc(g->names, cap * sizeof *n);
        if (!n) return -1;
        g->names = n;
        g->cap = cap;
    }
    g->names[g->nnames++] = (mil_name){name ? name : "", node, is_const};
    return 0;
}

/* The latest producer of name, or NULL. */
static const mil_name *find_name(const mil_graph *g, const char *name) {
    for (size_t k = g->nnames; k-- > 0;)
        if (strcmp(g->names[k].name, name) == 0) return &g->names[k];
    return NULL;
}

static void put_node_id(FILE *f, const mil_graph *g, int node) {
    if (node >= 0) fprintf(f, "op_%s_%d", g->prefix, node);
    else fprintf(f, "mv_%s_in%d", g->prefix, -1 - node);
}

static void mil_op_node(FILE *f, const mil_graph *g, const mil_op *op, int node) {
    fprintf(f, "    op_%s_%d [shape=box, style=rounded, label=\"", g->prefix, node);
    put_str(f, op->type);
    if (op->n_outputs && op->outputs[0]) {
        fputs("\\n", f);
        put_str(f, op->outputs[0]->name);
        if (op->n_outputs > 1) fprintf(f, " (+%zu)", op->n_outputs - 1);
    }
    if (op->n_blocks) fprintf(f, "\\n(%zu nested block%s)", op->n_blocks, op->n_blocks == 1 ? "" : "s");
    fputs("\"];\n", f);
}

/* Edges from the producers of op's named arguments to op node `node`. */
static void mil_op_edges(FILE *f, const mil_graph *g, const mil_op *op, int node) {
    for (size_t i = 0; i < op->n_inputs; i++) {
        const Cml__Coreml__MILSpec__Argument *arg = op->inputs[i] ? op->inputs[i]->value : NULL;
        for (size_t b = 0; arg && b < arg->n_arguments; b++) {
            const Cml__Coreml__MILSpec__Argument__Binding *bd = arg->arguments[b];
            if (!bd || bd->binding_case != CML__COREML__MILSPEC__ARGUMENT__BINDING__BINDING_NAME)
                continue;
            const mil_name *src = find_name(g, bd->name ? bd->name : "");
            if (!src || src->is_const) continue;
            fputs("    ", f);
            put_node_id(f, g, src->node);
            fprintf(f, " -> op_%s_%d [label=\"", g->prefix, node);
            put_str(f, bd->name);
            fputs("\"];\n", f);
        }
    }
}

static bool is_const_op(const mil_op *op) {
    return op->type && strcmp(op->type, "const") == 0;
}

/* Ops of block: nodes, then the names they define, then their edges. */
static int mil_ops(FILE *f, mil_graph *g, const cml_pb_block *block) {
    int node = 0;
    for (size_t k = 0; k < block->n_operations; k++) {
        const mil_op *op = block->operations[k];
        if (!op) continue;
        bool c = is_const_op(op);
        if (!c) {
            mil_op_node(f, g, op, node);
            mil_op_edges(f, g, op, node);
        }
        for (size_t o = 0; o < op->n_outputs; o++)
            if (op->outputs[o] && add_name(g, op->outputs[o]->name, c ? 0 : node, c) != 0) return -1;
        node += !c;
    }
    return node;
}

static void mil_outputs(FILE *f, const mil_graph *g, const cml_pb_block *block) {
    for (size_t k = 0; k < block->n_outputs; k++) {
        fprintf(f, "    mv_%s_out%zu [shape=ellipse, style=dashed, label=\"", g->prefix, k);
        put_str(f, block->outputs[k]);
        fputs("\"];\n", f);
        const mil_name *src = find_name(g, block->outputs[k] ? block->outputs[k] : "");
        if (!src || src->is_const) continue;
        fputs("    ", f);
        put_node_id(f, g, src->node);
        fprintf(f, " -> mv_%s_out%zu;\n", g->prefix, k);
    }
}

/* The MIL graph of function fn (nodes and edges, no cluster). */
static int mil_graph_emit(FILE *f, const char *prefix, const cml_pb_function *fn) {
    const cml_pb_block *block = cml_mlprogram_block(fn);
    if (!block) return 0;
    mil_graph g = {prefix, NULL, 0, 0};
    int rc = 0;
    for (size_t k = 0; k < fn->n_inputs && rc == 0; k++) {
        const char *name = fn->inputs[k] ? fn->inputs[k]->name : "";
        fprintf(f, "    mv_%s_in%zu [shape=ellipse, style=dashed, label=\"", prefix, k);
        put_str(f, name);
        fputs("\"];\n", f);
        rc = add_name(&g, name, -1 - (int)k, false);
    }
    if (rc == 0 && mil_ops(f, &g, block) < 0) rc = -1;
    if (rc == 0) mil_outputs(f, &g, block);
    free(g.names);
    return rc;
}

/* ---- ExecuTorch plans ---- */

#define NO_WRITER INT64_MIN

typedef struct plan_ctx {
    FILE *f;
    const cml_pte_program *pte;
    const cml_pte_plan *plan;
    uint32_t index;              /* plan number */
    int64_t *writer;             /* per value: instruction number, -1 - k for input k */
    uint32_t *base;              /* per chain: number of its first instruction */
    cml_coreml_payload *payload; /* per delegate */
    bool *opened;                /* per delegate: payload opened */
} plan_ctx;

static void put_writer(const plan_ctx *x, int64_t w) {
    if (w >= 0) fprintf(x->f, "i_p%u_%lld", x->index, (long long)w);
    else fprintf(x->f, "io_p%u_in%lld", x->index, (long long)(-1 - w));
}

static void put_value(const plan_ctx *x, int64_t v) {
    const cml_pte_value *val = &x->plan->values[v];
    if (val->kind != CML_VALUE_TENSOR) {
        fprintf(x->f, "v%lld", (long long)v);
        return;
    }
    char shape[256];
    const cml_pte_tensor *t = val->u.tensor;
    fprintf(x->f, "v%lld: %s %s", (long long)v, cml_dtype_name(t->dtype),
            cli_shape_str(t->rank, t->sizes, shape, sizeof shape));
}

static void value_edge(const plan_ctx *x, int64_t v, const char *dst_fmt, int64_t dst) {
    if (x->writer[v] == NO_WRITER) return;
    fputs("  ", x->f);
    put_writer(x, x->writer[v]);
    fprintf(x->f, " -> ");
    fprintf(x->f, dst_fmt, x->index, (long long)dst);
    fputs(" [label=\"", x->f);
    put_value(x, v);
    fputs("\"];\n", x->f);
}

static bool is_tensor_var(const plan_ctx *x, int64_t v) {
    const cml_pte_value *val = &x->plan->values[v];
    return val->kind == CML_VALUE_TENSOR && !val->u.tensor->constant_data;
}

/* Whether argument j (value v) of in is written by it (see dot.h). */
static bool writes(const plan_ctx *x, const cml_pte_instruction *in, uint32_t j, int64_t v) {
    if (in->kind == CML_INSTR_DELEGATE_CALL && x->opened[in->a])
        return j >= x->payload[in->a].io->ninputs;
    return j + 1 == in->nargs || (is_tensor_var(x, v) && x->writer[v] == NO_WRITER);
}

/* Calls fn for argument j's value, or for each item of a tensor list. */
static void for_each_value(plan_ctx *x, int64_t arg, void (*fn)(plan_ctx *, int64_t, void *),
                           void *u) {
    const cml_pte_value *val = &x->plan->values[arg];
    if (val->kind != CML_VALUE_TENSOR_LIST && val->kind != CML_VALUE_OPT_TENSOR_LIST) {
        fn(x, arg, u);
        return;
    }
    for (uint32_t k = 0; k < val->u.tensor_list.count; k++)
        if (val->u.tensor_list.items[k] >= 0) fn(x, val->u.tensor_list.items[k], u);
}

typedef struct arg_visit {
    const cml_pte_instruction *in;
    uint32_t j;
    int64_t n; /* the instruction's number */
    bool write_pass;
} arg_visit;

static void visit_value(plan_ctx *x, int64_t v, void *u) {
    arg_visit *a = u;
    bool out = writes(x, a->in, a->j, v);
    if (a->write_pass && out) x->writer[v] = a->n;
    if (!a->write_pass && !out) {
        for (uint32_t k = 0; k < a->j; k++) /* one edge per value */
            if (a->in->args[k] == v) return;
        value_edge(x, v, "i_p%u_%lld", a->n);
    }
}

/* Edges into instruction n from what it reads, then its writes. */
static void instruction_edges(plan_ctx *x, const cml_pte_instruction *in, int64_t n, uint32_t c) {
    if (in->kind == CML_INSTR_MOVE_CALL) {
        value_edge(x, in->a, "i_p%u_%lld", n);
        x->writer[in->b] = n;
        return;
    }
    if (in->kind == CML_INSTR_FREE_CALL || in->kind == CML_INSTR_JUMP_FALSE_CALL) {
        value_edge(x, in->a, "i_p%u_%lld", n);
        if (in->kind == CML_INSTR_JUMP_FALSE_CALL)
            fprintf(x->f, "  i_p%u_%lld -> i_p%u_%lld [style=dotted, label=\"if false\"];\n",
                    x->index, (long long)n, x->index, (long long)(x->base[c] + (uint32_t)in->b));
        return;
    }
    arg_visit a = {in, 0, n, false};
    for (int pass = 0; pass < 2; pass++) {
        a.write_pass = pass == 1;
        for (a.j = 0; a.j < in->nargs; a.j++) for_each_value(x, in->args[a.j], visit_value, &a);
    }
}

static void put_cml_str(FILE *f, cml_str s) { put_str(f, s.ptr ? s.ptr : ""); }

static void instruction_node(const plan_ctx *x, const cml_pte_instruction *in, int64_t n,
                             uint32_t c) {
    FILE *f = x->f;
    fprintf(f, "  i_p%u_%lld [shape=box, label=\"#%lld ", x->index, (long long)n, (long long)n);
    switch (in->kind) {
    case CML_INSTR_KERNEL_CALL: {
        const cml_pte_operator *op = &x->plan->operators[in->a];
        put_cml_str(f, op->name);
        if (op->overload.len) {
            fputc('.', f);
            put_cml_str(f, op->overload);
        }
        break;
    }
    case CML_INSTR_DELEGATE_CALL:
        fprintf(f, "delegate %d: ", in->a);
        put_cml_str(f, x->plan->delegates[in->a].id);
        break;
    case CML_INSTR_MOVE_CALL: fprintf(f, "move v%d -> v%d", in->a, in->b); break;
    case CML_INSTR_JUMP_FALSE_CALL:
        fprintf(f, "jump to #%u if v%d is false", x->base[c] + (uint32_t)in->b, in->a);
        break;
    default: fprintf(f, "free v%d", in->a); break;
    }
    fprintf(f, "\"%s];\n", in->kind == CML_INSTR_DELEGATE_CALL ? ", style=bold" : "");
}

/* Instruction nodes: delegate calls of delegate d only (d >= 0), or every
 * other instruction (d < 0). Dashed edges from delegate calls to the inputs
 * of the delegate's MIL graph. */
static void instruction_nodes(const plan_ctx *x, int64_t d, const cml_pb_function *fn,
                              const char *prefix) {
    for (uint32_t c = 0; c < x->plan->nchains; c++) {
        const cml_pte_chain *ch = &x->plan->chains[c];
        for (uint32_t i = 0; i < ch->ninstructions; i++) {
            const cml_pte_instruction *in = &ch->instructions[i];
            bool call = in->kind == CML_INSTR_DELEGATE_CALL;
            if (d >= 0 ? !call || in->a != d : call) continue;
            int64_t n = x->base[c] + i;
            instruction_node(x, in, n, c);
            for (size_t k = 0; fn && k < fn->n_inputs; k++)
                fprintf(x->f, "  i_p%u_%lld -> mv_%s_in%zu [style=dashed, arrowhead=none];\n",
                        x->index, (long long)n, prefix, k);
        }
    }
}

static void delegate_cluster(plan_ctx *x, uint32_t d) {
    FILE *f = x->f;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "p%u_d%u", x->index, d);
    fprintf(f, " subgraph cluster_%s {\n  label=\"delegate %u: ", prefix, d);
    put_cml_str(f, x->plan->delegates[d].id);
    const cml_pb_function *fn = x->opened[d] ? x->payload[d].function : NULL;
    if (fn) {
        fputs(", function ", f);
        put_str(f, x->payload[d].function_name);
    } else if (x->plan->delegates[d].id.ptr &&
               strcmp(x->plan->delegates[d].id.ptr, CML_COREML_BACKEND_ID) == 0) {
        fputs(" (payload unreadable)", f);
    }
    fputs("\";\n  style=filled; fillcolor=\"#eef3fb\";\n", f);
    if (fn) mil_graph_emit(f, prefix, fn);
    instruction_nodes(x, d, fn, prefix);
    fputs(" }\n", f);
}

static void io_nodes(const plan_ctx *x) {
    for (uint32_t k = 0; k < x->plan->ninputs; k++) {
        fprintf(x->f, "  io_p%u_in%u [shape=ellipse, label=\"input %u\\n", x->index, k, k);
        put_value(x, x->plan->inputs[k]);
        fputs("\"];\n", x->f);
    }
    for (uint32_t k = 0; k < x->plan->noutputs; k++) {
        fprintf(x->f, "  io_p%u_out%u [shape=ellipse, label=\"output %u\\n", x->index, k, k);
        put_value(x, x->plan->outputs[k]);
        fputs("\"];\n", x->f);
    }
}

static void plan_edges(plan_ctx *x) {
    for (uint32_t c = 0; c < x->plan->nchains; c++) {
        const cml_pte_chain *ch = &x->plan->chains[c];
        for (uint32_t i = 0; i < ch->ninstructions; i++)
            instruction_edges(x, &ch->instructions[i], x->base[c] + i, c);
    }
    for (uint32_t k = 0; k < x->plan->noutputs; k++)
        value_edge(x, x->plan->outputs[k], "io_p%u_out%lld", k);
}

static void open_payloads(plan_ctx *x) {
    for (uint32_t d = 0; d < x->plan->ndelegates; d++) {
        const cml_pte_delegate *del = &x->plan->delegates[d];
        if (!del->id.ptr || strcmp(del->id.ptr, CML_COREML_BACKEND_ID) != 0) continue;
        cml_error err = {0};
        x->opened[d] = cml_coreml_payload_open(x->pte, del->data, del->size, x->plan->name.ptr,
                                               NULL, &x->payload[d], &err) == CML_OK;
    }
}

static void plan_emit(plan_ctx *x) {
    const cml_pte_plan *plan = x->plan;
    uint32_t total = 0;
    for (uint32_t c = 0; c < plan->nchains; c++) {
        x->base[c] = total;
        total += plan->chains[c].ninstructions;
    }
    for (uint32_t v = 0; v < plan->nvalues; v++) x->writer[v] = NO_WRITER;
    for (uint32_t k = 0; k < plan->ninputs; k++) x->writer[plan->inputs[k]] = -1 - (int64_t)k;
    open_payloads(x);
    fprintf(x->f, "subgraph cluster_p%u {\n  label=\"method ", x->index);
    put_cml_str(x->f, plan->name);
    fprintf(x->f, " (%u instruction%s)\";\n", total, total == 1 ? "" : "s");
    io_nodes(x);
    instruction_nodes(x, -1, NULL, NULL);
    for (uint32_t d = 0; d < plan->ndelegates; d++) delegate_cluster(x, d);
    plan_edges(x);
    fputs("}\n", x->f);
    for (uint32_t d = 0; d < plan->ndelegates; d++)
        if (x->opened[d]) cml_coreml_payload_close(&x->payload[d]);
}

static void plan_dot(FILE *f, const cml_pte_program *pte, uint32_t index) {
    const cml_pte_plan *plan = &pte->plans[index];
    plan_ctx x = {f, pte, plan, index, NULL, NULL, NULL, NULL};
    x.writer = malloc((plan->nvalues + 1) * sizeof *x.writer);
    x.base = malloc((plan->nchains + 1) * sizeof *x.base);
    x.payload = calloc(plan->ndelegates + 1, sizeof *x.payload);
    x.opened = calloc(plan->ndelegates + 1, sizeof *x.opened);
    if (x.writer && x.base && x.payload && x.opened) plan_emit(&x);
    else fprintf(f, "// method %u: out of memory\n", index);
    free(x.writer);
    free(x.base);
    free(x.payload);
    free(x.opened);
}

static void graph_begin(FILE *f) {
    fputs("digraph cml {\n"
          "rankdir=TB;\n"
          "node [fontname=\"Helvetica\", fontsize=10];\n"
          "edge [fontname=\"Helvetica\", fontsize=8];\n",
          f);
}

void cli_dot_pte(FILE *f, const cml_pte_program *pte) {
    graph_begin(f);
    for (uint32_t p = 0; p < pte->nplans; p++) plan_dot(f, pte, p);
    fputs("}\n", f);
}

int cli_dot_mlpackage(FILE *f, const char *path) {
    cml_mlpackage pkg;
    memset(&pkg, 0, sizeof pkg);
    cml_error err = {0};
    cml_status st = cml_mlpackage_open_dir(path, NULL, &pkg, &err);
    if (st != CML_OK) {
        cml_mlpackage_close(&pkg);
        return cli_error("inspect", "%s: %s: %s", path, cml_status_name(st), err.msg);
    }
    graph_begin(f);
    for (size_t k = 0; k < pkg.program->n_functions; k++) {
        const Cml__Coreml__MILSpec__Program__FunctionsEntry *e = pkg.program->functions[k];
        if (!e || !e->value) continue;
        char prefix[32];
        snprintf(prefix, sizeof prefix, "f%zu", k);
        fprintf(f, "subgraph cluster_%s {\n  label=\"function ", prefix);
        put_str(f, e->key);
        fputs("\";\n", f);
        mil_graph_emit(f, prefix, e->value);
        fputs("}\n", f);
    }
    fputs("}\n", f);
    cml_mlpackage_close(&pkg);
    return CLI_OK;
}
