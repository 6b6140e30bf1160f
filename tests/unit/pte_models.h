/* Shared by the .pte reader tests: ExecuTorch schema helpers on top of the
 * test FlatBuffers writer, parse helpers, a walk that touches every decoded
 * pointer (for ASan), and two model builders: the AddModel layout of
 * pte-format.md section 8 and a "rich" model with every value kind,
 * mutable data, named data and INLINE / SEGMENT delegates. */
#ifndef CML_TEST_PTE_MODELS_H
#define CML_TEST_PTE_MODELS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pte/pte.h"
#include "pte_builder.h"

/* ---- ExecuTorch schema helpers (field ids from pte-format.md) --------- */

enum {
    T_NULL = 1,
    T_INT,
    T_BOOL,
    T_DOUBLE,
    T_TENSOR,
    T_STRING,
    T_INT_LIST,
    T_DOUBLE_LIST,
    T_BOOL_LIST,
    T_TENSOR_LIST,
    T_OPT_TENSOR_LIST
};
enum { I_KERNEL = 1, I_DELEGATE, I_MOVE, I_JUMP_FALSE, I_FREE };
enum { ST_FLOAT = 6, ST_LONG = 4, ST_BOOL = 11 };

static inline pb_node *et_evalue(pb *b, uint8_t type, pb_node *payload) {
    pb_node *e = pb_table(b);
    pb_u8(e, 0, type);
    pb_ref(e, 1, payload);
    return e;
}
static inline pb_node *et_int(pb *b, int64_t v) {
    pb_node *t = pb_table(b);
    pb_i64(t, 0, v);
    return et_evalue(b, T_INT, t);
}
static inline pb_node *et_alloc(pb *b, uint32_t memory_id, uint64_t offset) {
    pb_node *a = pb_table(b);
    pb_u32(a, 0, memory_id);
    pb_u32(a, 1, (uint32_t)offset);
    if (offset >> 32) pb_u32(a, 2, (uint32_t)(offset >> 32));
    return a;
}
/* Tensor table; memory_id 0 = no allocation_info. */
static inline pb_node *et_tensor(pb *b, int8_t dtype, uint32_t rank, const int32_t *sizes,
                                 const uint8_t *order, uint32_t dbi, uint32_t memory_id,
                                 uint64_t offset) {
    pb_node *t = pb_table(b);
    pb_i8(t, 0, dtype);
    pb_ref(t, 2, pb_vec_i32(b, rank, sizes));
    pb_ref(t, 3, pb_vec_u8(b, rank, order));
    if (dbi) pb_u32(t, 5, dbi);
    if (memory_id) pb_ref(t, 6, et_alloc(b, memory_id, offset));
    return t;
}
static inline pb_node *et_instr(pb *b, uint8_t type, pb_node *args) {
    pb_node *i = pb_table(b);
    pb_u8(i, 0, type);
    pb_ref(i, 1, args);
    return i;
}
static inline pb_node *et_call(pb *b, uint8_t type, int32_t index, uint32_t nargs,
                               const int32_t *args) {
    pb_node *k = pb_table(b);
    if (index) pb_i32(k, 0, index); /* 0 is the default: omitted, as upstream */
    pb_ref(k, 1, pb_vec_i32(b, nargs, args));
    return et_instr(b, type, k);
}
static inline pb_node *et_chain(pb *b, pb_node *instructions) {
    pb_node *c = pb_table(b);
    pb_ref(c, 0, pb_vec_i32(b, 0, NULL));
    pb_ref(c, 1, pb_vec_i32(b, 0, NULL));
    pb_ref(c, 2, instructions);
    return c;
}
static inline pb_node *et_operator(pb *b, const char *name, const char *overload) {
    pb_node *o = pb_table(b);
    pb_ref(o, 0, pb_str(b, name));
    pb_ref(o, 1, pb_str(b, overload));
    return o;
}
static inline pb_node *et_segment(pb *b, uint64_t offset, uint64_t size) {
    pb_node *s = pb_table(b);
    if (offset) pb_u64(s, 0, offset);
    pb_u64(s, 1, size);
    return s;
}
static inline pb_node *et_subsegment(pb *b, uint32_t segment, uint32_t n, const uint64_t *offsets) {
    pb_node *s = pb_table(b);
    if (segment) pb_u32(s, 0, segment);
    pb_ref(s, 1, pb_vec_u64(b, n, offsets));
    return s;
}
static inline pb_node *et_meta(pb *b, const char *in, const char *out) {
    pb_node *m = pb_table(b);
    pb_ref(m, 0, pb_str(b, in));
    pb_ref(m, 1, pb_str(b, out));
    return m;
}

/* ---- parse helpers ----------------------------------------------------- */

typedef struct count_alloc {
    int allocs, frees;
} count_alloc;
static inline void *ca_alloc(void *ctx, size_t size, size_t align) {
    ((count_alloc *)ctx)->allocs++;
    void *p = NULL;
    return posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) ? NULL : p;
}
static inline void ca_free(void *ctx, void *p) {
    if (p) ((count_alloc *)ctx)->frees++;
    free(p);
}

static inline cml_status parse(const uint8_t *d, size_t n, cml_pte_program *p, cml_error *e) {
    memset(e, 0, sizeof *e);
    return cml_pte_parse(d, n, NULL, p, e);
}

static inline void expect_fail_(const uint8_t *d, size_t n, cml_status want, const char *substr,
                                const char *what, int line) {
    cml_pte_program p;
    cml_error e;
    cml_status st = parse(d, n, &p, &e);
    if (getenv("PTE_VERBOSE")) printf("%-32s %-12s %s\n", what, cml_status_name(st), e.msg);
    CHECK_MSG(st == want, "line %d %s: status %s, want %s (%s)", line, what, cml_status_name(st),
              cml_status_name(want), e.msg);
    CHECK_MSG(st == CML_OK || strstr(e.msg, substr) != NULL, "line %d %s: message '%s' lacks '%s'",
              line, what, e.msg, substr);
    CHECK(st != CML_OK || p.storage != NULL);
    if (st != CML_OK)
        CHECK_MSG(p.plans == NULL && p.storage == NULL, "line %d: out not cleared", line);
    cml_pte_free(&p);
}
#define expect_fail(d, n, want, substr, what) expect_fail_(d, n, want, substr, what, __LINE__)

static inline bool str_eq(cml_str s, const char *z) {
    return s.len == strlen(z) && memcmp(s.ptr, z, s.len) == 0 && s.ptr[s.len] == '\0';
}

static inline void put32(uint8_t *d, size_t pos, uint32_t v) { memcpy(d + pos, &v, 4); }
static inline void put64(uint8_t *d, size_t pos, uint64_t v) { memcpy(d + pos, &v, 8); }
static inline uint64_t get64(const uint8_t *d, size_t pos) {
    uint64_t v;
    memcpy(&v, d + pos, 8);
    return v;
}

/* Touches the first and last byte of every range the decoded program points
 * at, so ASan flags any pointer the verifier let through out of bounds. */
static volatile unsigned g_sink;
static inline void touch(const void *p, size_t n) {
    if (!p || n == 0) return;
    g_sink += ((const uint8_t *)p)[0] + ((const uint8_t *)p)[n - 1];
}
static inline void consume(const cml_pte_program *p) {
    for (uint32_t i = 0; i < p->nsegments; i++)
        touch(p->segments[i].data, p->segments[i].size);
    for (uint32_t i = 0; i < p->nnamed_data; i++) {
        touch(p->named_data[i].key.ptr, p->named_data[i].key.len + 1);
        touch(p->named_data[i].data, p->named_data[i].size);
    }
    for (uint32_t pi = 0; pi < p->nplans; pi++) {
        const cml_pte_plan *pl = &p->plans[pi];
        touch(pl->name.ptr, pl->name.len + 1);
        touch(pl->input_spec.ptr, pl->input_spec.len + 1);
        touch(pl->output_spec.ptr, pl->output_spec.len + 1);
        touch(pl->inputs, pl->ninputs * 4u);
        touch(pl->outputs, pl->noutputs * 4u);
        touch(pl->buffer_sizes, pl->nbuffer_sizes * 8u);
        for (uint32_t i = 0; i < pl->ninputs; i++)
            g_sink += pl->values[pl->inputs[i]].kind;
        for (uint32_t i = 0; i < pl->noperators; i++) {
            touch(pl->operators[i].name.ptr, pl->operators[i].name.len + 1);
            touch(pl->operators[i].overload.ptr, pl->operators[i].overload.len + 1);
        }
        for (uint32_t i = 0; i < pl->ndelegates; i++) {
            const cml_pte_delegate *d = &pl->delegates[i];
            touch(d->id.ptr, d->id.len + 1);
            touch(d->data, d->size);
            for (uint32_t s = 0; s < d->nspecs; s++) {
                touch(d->specs[s].key.ptr, d->specs[s].key.len + 1);
                touch(d->specs[s].value, d->specs[s].value_len);
            }
        }
        for (uint32_t i = 0; i < pl->nvalues; i++) {
            const cml_pte_value *v = &pl->values[i];
            switch (v->kind) {
            case CML_VALUE_STRING: touch(v->u.s.ptr, v->u.s.len + 1); break;
            case CML_VALUE_TENSOR:
                touch(v->u.tensor->constant_data, v->u.tensor->nbytes);
                touch(v->u.tensor->initial_data, v->u.tensor->nbytes);
                touch(v->u.tensor->fqn.ptr, v->u.tensor->fqn.len + 1);
                break;
            case CML_VALUE_INT_LIST:
                for (uint32_t j = 0; j < v->u.int_list.count; j++)
                    g_sink += pl->values[v->u.int_list.items[j]].kind;
                break;
            case CML_VALUE_DOUBLE_LIST:
                touch(v->u.double_list.items, v->u.double_list.count * 8u);
                break;
            case CML_VALUE_BOOL_LIST: touch(v->u.bool_list.items, v->u.bool_list.count); break;
            case CML_VALUE_TENSOR_LIST:
            case CML_VALUE_OPT_TENSOR_LIST:
                for (uint32_t j = 0; j < v->u.tensor_list.count; j++)
                    if (v->u.tensor_list.items[j] >= 0)
                        g_sink += pl->values[v->u.tensor_list.items[j]].kind;
                break;
            default: break;
            }
        }
        for (uint32_t c = 0; c < pl->nchains; c++)
            for (uint32_t k = 0; k < pl->chains[c].ninstructions; k++) {
                const cml_pte_instruction *in = &pl->chains[c].instructions[k];
                for (uint32_t j = 0; j < in->nargs; j++)
                    g_sink += pl->values[in->args[j]].kind;
            }
    }
}

/* ---- the AddModel layout (reference section 8) --------------------------- */

typedef struct add_model {
    pb *b;
    pb_node *root, *plan, *name, *values, *ev[4], *tensor[4], *alloc[4], *order[4], *sizes[4];
    pb_node *instr, *kcall, *args, *buffer_sizes, *segments, *const_seg, *chain;
} add_model;

static const float kOne = 1.0f;

/* forward(x: float[3]) = x + c, c a rank-0 float constant 1.0 at constant
 * segment offset 0; one 32-byte arena. */
static inline void build_add_model(add_model *m, uint32_t header_len) {
    memset(m, 0, sizeof *m);
    pb *b = m->b = pb_new(header_len);
    pb_segment_add(b, &kOne, 4);

    static const int32_t s3[] = {3};
    static const uint8_t o1[] = {0};
    m->tensor[0] = et_tensor(b, ST_FLOAT, 0, NULL, NULL, 1, 0, 0);
    m->tensor[1] = et_tensor(b, ST_FLOAT, 1, s3, o1, 0, 1, 16);
    m->tensor[2] = et_tensor(b, ST_FLOAT, 1, s3, o1, 0, 1, 0);
    for (int i = 0; i < 3; i++) {
        m->sizes[i] = m->tensor[i]->fields[2].ref;
        m->order[i] = m->tensor[i]->fields[3].ref;
        m->alloc[i] = m->tensor[i]->fields[6].ref;
        m->ev[i] = et_evalue(b, T_TENSOR, m->tensor[i]);
    }
    m->ev[3] = et_int(b, 1);
    m->values = pb_tvec(b, 4, m->ev);

    static const int32_t args[] = {1, 0, 3, 2, 2};
    m->instr = et_call(b, I_KERNEL, 0, 5, args);
    m->kcall = m->instr->fields[1].ref;
    m->args = m->kcall->fields[1].ref;
    m->chain = et_chain(b, pb_tvec_of(b, 1, m->instr));

    m->plan = pb_table(b);
    m->name = pb_str(b, "forward");
    pb_ref(m->plan, 0, m->name);
    pb_ref(m->plan, 1, et_meta(b, "[1, {\"type\": \"builtins.tuple\"}]", "[1, {\"type\": null}]"));
    pb_ref(m->plan, 2, m->values);
    pb_ref(m->plan, 3, pb_vec_i32(b, 1, (const int32_t[]){1}));
    pb_ref(m->plan, 4, pb_vec_i32(b, 1, (const int32_t[]){2}));
    pb_ref(m->plan, 5, pb_tvec_of(b, 1, m->chain));
    pb_ref(m->plan, 6, pb_tvec_of(b, 1, et_operator(b, "aten::add", "out")));
    pb_ref(m->plan, 7, pb_tvec(b, 0, NULL));
    m->buffer_sizes = pb_vec_i64(b, 2, (const int64_t[]){0, 32});
    pb_ref(m->plan, 8, m->buffer_sizes);

    /* Program: version absent; empty constant_buffer / backend_delegate_data. */
    m->root = pb_table(b);
    pb_ref(m->root, 1, pb_tvec_of(b, 1, m->plan));
    pb_ref(m->root, 2, pb_tvec(b, 0, NULL));
    pb_ref(m->root, 3, pb_tvec(b, 0, NULL));
    m->segments = pb_tvec_of(b, 1, et_segment(b, 0, 4));
    pb_ref(m->root, 4, m->segments);
    m->const_seg = et_subsegment(b, 0, 2, (const uint64_t[]){0, 0});
    pb_ref(m->root, 5, m->const_seg);
}

static inline uint8_t *finish_add_model(add_model *m, size_t *size) {
    uint8_t *d = pb_finish(m->b, m->root, size);
    CHECK(d != NULL);
    return d;
}

/* Planned mutable buffer with initial state in mutable_data_segments[0],
 * plus named data, INLINE and SEGMENT delegates and every value kind. */
static const uint8_t kInitial[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t kBlob[40] = "segment delegate blob 0123456789abcdef";
static const uint8_t kNamed[24] = "named data payload bytes";

typedef struct rich_model {
    pb *b;
    pb_node *root, *plan, *values, *ev[20], *mutable_tensor, *deleg[2], *proc[2], *intlist, *tlist,
        *otlist, *jump, *free_call, *move, *dcall;
    uint32_t nvalues;
} rich_model;

static inline void build_rich_model(rich_model *m, uint32_t header_len) {
    memset(m, 0, sizeof *m);
    pb *b = m->b = pb_new(header_len);
    pb_segment_add(b, NULL, 0);               /* 0: constants (empty) */
    pb_segment_add(b, kInitial, 16);          /* 1: mutable data */
    pb_segment_add(b, kBlob, sizeof kBlob);   /* 2: delegate blob */
    pb_segment_add(b, kNamed, sizeof kNamed); /* 3: named data */

    static const int32_t s4[] = {4}, s23[] = {2, 3}, s0[] = {0};
    static const uint8_t o0[] = {0}, o10[] = {1, 0};
    uint32_t k = 0;
    pb_node **ev = m->ev;
    /* 0: mutable state float[4], planned at arena 1 offset 0, initial data 1 */
    m->mutable_tensor = et_tensor(b, ST_FLOAT, 1, s4, o0, 1, 1, 0);
    pb_node *x = pb_table(b);
    pb_ref(x, 1, pb_str(b, "cache.k"));
    pb_ref(m->mutable_tensor, 9, x);
    ev[k++] = et_evalue(b, T_TENSOR, m->mutable_tensor);
    /* 1: dynamic-bound int64 [2, 3] channels-last-ish dim order, arena 2 */
    pb_node *t1 = et_tensor(b, ST_LONG, 2, s23, o10, 0, 2, 64);
    pb_i8(t1, 8, 1);
    ev[k++] = et_evalue(b, T_TENSOR, t1);
    /* 2: external constant by name */
    pb_node *t2 = et_tensor(b, ST_FLOAT, 1, s4, o0, 0, 0, 0);
    pb_node *x2 = pb_table(b);
    pb_ref(x2, 1, pb_str(b, "linear.weight"));
    pb_i8(x2, 2, 1);
    pb_ref(t2, 9, x2);
    ev[k++] = et_evalue(b, T_TENSOR, t2);
    /* 3: Null (with an empty table), 4: Null without a table */
    ev[k++] = et_evalue(b, T_NULL, pb_table(b));
    ev[k++] = et_evalue(b, T_NULL, NULL);
    /* 5: Bool true, 6: Double, 7: String */
    pb_node *bt = pb_table(b);
    pb_u8(bt, 0, 1);
    ev[k++] = et_evalue(b, T_BOOL, bt);
    pb_node *dt = pb_table(b);
    pb_f64(dt, 0, 2.5);
    ev[k++] = et_evalue(b, T_DOUBLE, dt);
    pb_node *st = pb_table(b);
    pb_ref(st, 0, pb_str(b, "mean"));
    ev[k++] = et_evalue(b, T_STRING, st);
    /* 8, 9: Ints; 10: IntList [8, 9] */
    ev[k++] = et_int(b, -7);
    ev[k++] = et_int(b, 1LL << 40);
    m->intlist = pb_table(b);
    pb_ref(m->intlist, 0, pb_vec_i64(b, 2, (const int64_t[]){8, 9}));
    ev[k++] = et_evalue(b, T_INT_LIST, m->intlist);
    /* 11: DoubleList, 12: BoolList */
    pb_node *dl = pb_table(b);
    pb_ref(dl, 0, pb_vec_f64(b, 3, (const double[]){0.5, -1, 3}));
    ev[k++] = et_evalue(b, T_DOUBLE_LIST, dl);
    pb_node *bl = pb_table(b);
    pb_ref(bl, 0, pb_vec_u8(b, 2, (const uint8_t[]){1, 0}));
    ev[k++] = et_evalue(b, T_BOOL_LIST, bl);
    /* 13: TensorList [0, 1]; 14: OptionalTensorList [0, -1, 3] */
    m->tlist = pb_table(b);
    pb_ref(m->tlist, 0, pb_vec_i32(b, 2, (const int32_t[]){0, 1}));
    ev[k++] = et_evalue(b, T_TENSOR_LIST, m->tlist);
    m->otlist = pb_table(b);
    pb_ref(m->otlist, 0, pb_vec_i32(b, 3, (const int32_t[]){0, -1, 3}));
    ev[k++] = et_evalue(b, T_OPT_TENSOR_LIST, m->otlist);
    /* 15: empty BYTE tensor (None for a Tensor arg), unplanned */
    ev[k++] = et_evalue(b, T_TENSOR, et_tensor(b, 0, 1, s0, o0, 0, 0, 0));
    m->nvalues = k;
    m->values = pb_tvec(b, k, ev);

    /* Instructions: DelegateCall 0 (INLINE), DelegateCall 1 (SEGMENT),
     * MoveCall 8 -> 9, JumpFalse on 5 to 0, FreeCall 15. */
    pb_node *instrs[5];
    instrs[0] = et_call(b, I_DELEGATE, 0, 2, (const int32_t[]){0, 1});
    m->dcall = instrs[0]->fields[1].ref;
    instrs[1] = et_call(b, I_DELEGATE, 1, 1, (const int32_t[]){2});
    m->move = pb_table(b);
    pb_i32(m->move, 0, 8);
    pb_i32(m->move, 1, 9);
    instrs[2] = et_instr(b, I_MOVE, m->move);
    m->jump = pb_table(b);
    pb_i32(m->jump, 0, 5);
    pb_i32(m->jump, 1, 0);
    instrs[3] = et_instr(b, I_JUMP_FALSE, m->jump);
    m->free_call = pb_table(b);
    pb_i32(m->free_call, 0, 15);
    instrs[4] = et_instr(b, I_FREE, m->free_call);

    for (int i = 0; i < 2; i++) {
        m->deleg[i] = pb_table(b);
        m->proc[i] = pb_table(b);
        pb_i8(m->proc[i], 0, (int8_t)i); /* 0 INLINE, 1 SEGMENT */
        pb_u32(m->proc[i], 1, i == 0 ? 0 : 2);
        pb_ref(m->deleg[i], 0, pb_str(b, i == 0 ? "CoreMLBackend" : "XnnpackBackend"));
        pb_ref(m->deleg[i], 1, m->proc[i]);
    }
    pb_node *spec = pb_table(b);
    pb_ref(spec, 0, pb_str(b, "compute_units"));
    pb_ref(spec, 1, pb_vec_u8(b, 3, (const uint8_t *)"all"));
    pb_ref(m->deleg[0], 2, pb_tvec_of(b, 1, spec));

    m->plan = pb_table(b);
    pb_ref(m->plan, 0, pb_str(b, "forward"));
    pb_ref(m->plan, 2, m->values);
    pb_ref(m->plan, 3, pb_vec_i32(b, 2, (const int32_t[]){0, 8}));
    pb_ref(m->plan, 4, pb_vec_i32(b, 1, (const int32_t[]){1}));
    pb_ref(m->plan, 5, pb_tvec_of(b, 1, et_chain(b, pb_tvec(b, 5, instrs))));
    pb_ref(m->plan, 6, pb_tvec(b, 0, NULL));
    pb_ref(m->plan, 7, pb_tvec(b, 2, m->deleg));
    pb_ref(m->plan, 8, pb_vec_i64(b, 3, (const int64_t[]){0, 16, 128}));

    /* A second, trivial method. */
    pb_node *plan2 = pb_table(b);
    pb_ref(plan2, 0, pb_str(b, "get_dim"));
    pb_ref(plan2, 2, pb_tvec_of(b, 1, et_int(b, 64)));
    pb_ref(plan2, 3, pb_vec_i32(b, 0, NULL));
    pb_ref(plan2, 4, pb_vec_i32(b, 1, (const int32_t[]){0}));
    pb_ref(plan2, 5, pb_tvec_of(b, 1, et_chain(b, pb_tvec(b, 0, NULL))));
    pb_ref(plan2, 8, pb_vec_i64(b, 1, (const int64_t[]){0}));

    pb_node *inl = pb_table(b);
    pb_ref(inl, 0, pb_vec_u8_16(b, 6, "inline"));
    pb_node *nd = pb_table(b);
    pb_ref(nd, 0, pb_str(b, "shared_weights"));
    pb_u32(nd, 1, 3);

    m->root = pb_table(b);
    pb_ref(m->root, 1, pb_tvec_of(b, 2, m->plan, plan2));
    pb_ref(m->root, 3, pb_tvec_of(b, 1, inl));
    pb_node *segs[4];
    for (uint32_t i = 0; i < 4; i++)
        segs[i] = et_segment(b, b->seg_offsets[i], b->segments[i].size);
    pb_ref(m->root, 4, pb_tvec(b, 4, segs));
    pb_ref(m->root, 5, et_subsegment(b, 0, 1, (const uint64_t[]){0}));
    pb_ref(m->root, 6, pb_tvec_of(b, 1, et_subsegment(b, 1, 2, (const uint64_t[]){0, 0})));
    pb_ref(m->root, 7, pb_tvec_of(b, 1, nd));
}

#endif
