/*
 * .pte reader tests: upstream layouts rebuilt with a small FlatBuffers test
 * writer (pte_builder.h) and decoded field by field, and one negative test
 * per verification rule (structure and semantics). Fixtures and robustness
 * sweeps are in test_pte_robustness.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cml.h"
#include "harness.h"
#include "pte/pte.h"
#include "pte_models.h"

static void check_add_model_decoded(const cml_pte_program *p, const uint8_t *d) {
    CHECK(p->version == 0);
    CHECK(p->nplans == 1);
    CHECK(p->nsegments == 1);
    CHECK(p->segments[0].offset == 0 && p->segments[0].size == 4);
    CHECK(p->segments[0].data == d + p->segment_base_offset);
    CHECK(!p->uses_constant_buffer && p->nconstants == 2);
    CHECK(p->nnamed_data == 0 && p->nmutable_offsets == 0);
    const cml_pte_plan *pl = cml_pte_find_plan(p, "forward");
    CHECK(pl == &p->plans[0]);
    CHECK(cml_pte_find_plan(p, "forwar") == NULL);
    if (!pl) return;
    CHECK(str_eq(pl->name, "forward"));
    CHECK(strstr(pl->input_spec.ptr, "builtins.tuple") != NULL);
    CHECK(pl->nvalues == 4);
    CHECK(pl->ninputs == 1 && pl->inputs[0] == 1);
    CHECK(pl->noutputs == 1 && pl->outputs[0] == 2);
    CHECK(pl->noperators == 1 && str_eq(pl->operators[0].name, "aten::add") &&
          str_eq(pl->operators[0].overload, "out"));
    CHECK(pl->ndelegates == 0);
    CHECK(pl->nbuffer_sizes == 2 && pl->buffer_sizes[0] == 0 && pl->buffer_sizes[1] == 32);

    const cml_pte_value *v = pl->values;
    for (int i = 0; i < 3; i++)
        CHECK(v[i].kind == CML_VALUE_TENSOR);
    CHECK(v[3].kind == CML_VALUE_INT && v[3].u.i == 1);

    const cml_pte_tensor *c = v[0].u.tensor;
    CHECK(c->dtype == CML_DTYPE_FLOAT32 && c->rank == 0 && c->nbytes == 4);
    CHECK(c->data_buffer_idx == 1 && !c->planned && c->initial_data == NULL && !c->external);
    CHECK(c->constant_data == p->segments[0].data);
    if (c->constant_data) {
        float f;
        memcpy(&f, c->constant_data, 4);
        CHECK(f == 1.0f);
    }
    const cml_pte_tensor *x = v[1].u.tensor, *y = v[2].u.tensor;
    CHECK(x->rank == 1 && x->sizes[0] == 3 && x->dim_order[0] == 0 && x->nbytes == 12);
    CHECK(x->planned && x->memory_id == 1 && x->memory_offset == 16 && x->constant_data == NULL);
    CHECK(y->planned && y->memory_id == 1 && y->memory_offset == 0);
    CHECK(x->dynamism == 0 && x->fqn.len == 0);

    CHECK(pl->nchains == 1 && pl->chains[0].ninstructions == 1);
    const cml_pte_instruction *in = &pl->chains[0].instructions[0];
    CHECK(in->kind == CML_INSTR_KERNEL_CALL && in->a == 0 && in->nargs == 5);
    static const int32_t want[] = {1, 0, 3, 2, 2};
    CHECK(in->nargs == 5 && memcmp(in->args, want, sizeof want) == 0);
}

static void test_add_model_32(void) {
    add_model m;
    build_add_model(&m, 32);
    size_t n = 0;
    uint8_t *d = finish_add_model(&m, &n);
    if (!d) return;
    /* Header bytes as in the section 8 hex dump: "ET12" "eh00" length 32,
     * then program_size, segment_base_offset = align_up(program_size, 128),
     * segment_data_size = 4; the segment holds 00 00 80 3f. */
    CHECK(memcmp(d + 4, "ET12eh00\x20\x00\x00\x00", 12) == 0);
    uint64_t psize = get64(d, 16), base = get64(d, 24);
    CHECK(psize % 16 == 0 && base == (psize + 127) / 128 * 128);
    CHECK(get64(d, 32) == 4);
    CHECK(n == base + 4 && memcmp(d + base, "\x00\x00\x80\x3f", 4) == 0);

    cml_pte_program p;
    cml_error e;
    cml_status st = parse(d, n, &p, &e);
    CHECK_MSG(st == CML_OK, "%s", e.msg);
    if (st == CML_OK) {
        CHECK(p.has_extended_header && p.header_length == 32);
        CHECK(p.program_size == psize && p.segment_base_offset == base && p.segment_data_size == 4);
        check_add_model_decoded(&p, d);
        consume(&p);
    }
    cml_pte_free(&p);
    CHECK(p.storage == NULL && p.nplans == 0);
    cml_pte_free(&p); /* safe twice */

    /* Everything decoded lives in one allocation from the caller's allocator. */
    count_alloc ca = {0, 0};
    cml_allocator al = {&ca, ca_alloc, ca_free};
    st = cml_pte_parse(d, n, &al, &p, &e);
    CHECK(st == CML_OK && ca.allocs == 1 && ca.frees == 0);
    cml_pte_free(&p);
    CHECK(ca.frees == 1);
    free(d);
    pb_free(m.b);
}

static void test_header_24(void) {
    add_model m;
    build_add_model(&m, 24);
    size_t n = 0;
    uint8_t *d = finish_add_model(&m, &n);
    if (!d) return;
    CHECK(memcmp(d + 8, "eh00\x18\x00\x00\x00", 8) == 0);
    cml_pte_program p;
    cml_error e;
    cml_status st = parse(d, n, &p, &e);
    CHECK_MSG(st == CML_OK, "%s", e.msg);
    if (st == CML_OK) {
        CHECK(p.has_extended_header && p.header_length == 24);
        CHECK(p.segment_data_size == 0); /* not in a 24-byte header */
        CHECK(p.segment_base_offset == get64(d, 24));
        check_add_model_decoded(&p, d);
    }
    cml_pte_free(&p);
    free(d);
    pb_free(m.b);
}

/* add.pte style: no extended header, forward(a: float[1], b: float[1]),
 * segments [DataSegment{0, 0}], constant_segment {0, [0]}, legacy treespecs. */
static void test_add_pte_headerless(void) {
    pb *b = pb_new(0);
    static const int32_t s1[] = {1};
    static const uint8_t o1[] = {0};
    pb_node *ev[4];
    for (int i = 0; i < 3; i++)
        ev[i] = et_evalue(b, T_TENSOR, et_tensor(b, ST_FLOAT, 1, s1, o1, 0, 1, 16u * (uint32_t)i));
    ev[3] = et_int(b, 1);
    pb_node *plan = pb_table(b);
    pb_ref(plan, 0, pb_str(b, "forward"));
    pb_ref(plan, 1, et_meta(b, "T2#1#1($,$)", "$"));
    pb_ref(plan, 2, pb_tvec(b, 4, ev));
    pb_ref(plan, 3, pb_vec_i32(b, 2, (const int32_t[]){0, 1}));
    pb_ref(plan, 4, pb_vec_i32(b, 1, (const int32_t[]){2}));
    pb_ref(plan, 5,
           pb_tvec_of(b, 1,
                      et_chain(b, pb_tvec_of(b, 1,
                                             et_call(b, I_KERNEL, 0, 5,
                                                     (const int32_t[]){0, 1, 3, 2, 2})))));
    pb_ref(plan, 6, pb_tvec_of(b, 1, et_operator(b, "aten::add", "out")));
    pb_ref(plan, 7, pb_tvec(b, 0, NULL));
    pb_ref(plan, 8, pb_vec_i64(b, 2, (const int64_t[]){0, 48}));
    pb_node *root = pb_table(b);
    /* A different field order than AddModel: segments first. */
    pb_ref(root, 4, pb_tvec_of(b, 1, et_segment(b, 0, 0)));
    pb_ref(root, 5, et_subsegment(b, 0, 1, (const uint64_t[]){0}));
    pb_ref(root, 1, pb_tvec_of(b, 1, plan));
    size_t n = 0;
    uint8_t *d = pb_finish(b, root, &n);
    CHECK(d != NULL);
    if (!d) {
        pb_free(b);
        return;
    }
    CHECK(memcmp(d + 8, "eh00", 4) != 0);
    cml_pte_program p;
    cml_error e;
    cml_status st = parse(d, n, &p, &e);
    CHECK_MSG(st == CML_OK, "%s", e.msg);
    if (st == CML_OK) {
        CHECK(!p.has_extended_header && p.header_length == 0);
        CHECK(p.program_size == n && p.segment_base_offset == 0);
        CHECK(p.nsegments == 1 && p.segments[0].size == 0);
        CHECK(p.nconstants == 1 && !p.uses_constant_buffer);
        const cml_pte_plan *pl = &p.plans[0];
        CHECK(str_eq(pl->input_spec, "T2#1#1($,$)") && str_eq(pl->output_spec, "$"));
        CHECK(pl->ninputs == 2 && pl->inputs[0] == 0 && pl->inputs[1] == 1);
        CHECK(pl->nbuffer_sizes == 2 && pl->buffer_sizes[1] == 48);
        for (int i = 0; i < 3; i++)
            CHECK(pl->values[i].u.tensor->memory_offset == 16u * (unsigned)i &&
                  pl->values[i].u.tensor->nbytes == 4);
        static const int32_t want[] = {0, 1, 3, 2, 2};
        CHECK(memcmp(pl->chains[0].instructions[0].args, want, sizeof want) == 0);
    }
    cml_pte_free(&p);
    free(d);
    pb_free(b);
}

/* Deprecated inline constant_buffer (ModuleLinear-no-constant-segment
 * style): constants in Buffer.storage, 16-aligned, entry 0 reserved. */
static void test_constant_buffer(void) {
    pb *b = pb_new(0);
    static const float w[4] = {3, 3, 3, 3}, bias[4] = {2, 2, 2, 2};
    static const int32_t s22[] = {2, 2};
    static const uint8_t o01[] = {0, 1};
    pb_node *bufs[3];
    for (int i = 0; i < 3; i++)
        bufs[i] = pb_table(b);
    pb_ref(bufs[0], 0, pb_vec_u8_16(b, 0, NULL));
    pb_ref(bufs[1], 0, pb_vec_u8_16(b, 16, w));
    pb_ref(bufs[2], 0, pb_vec_u8_16(b, 16, bias));
    pb_node *ev[4] = {
        et_evalue(b, T_TENSOR, et_tensor(b, ST_FLOAT, 2, s22, o01, 1, 0, 0)),
        et_evalue(b, T_TENSOR, et_tensor(b, ST_FLOAT, 2, s22, o01, 2, 0, 0)),
        et_evalue(b, T_TENSOR, et_tensor(b, ST_FLOAT, 2, s22, o01, 0, 1, 0)),
        et_int(b, 1),
    };
    pb_node *plan = pb_table(b);
    pb_ref(plan, 0, pb_str(b, "forward"));
    pb_ref(plan, 2, pb_tvec(b, 4, ev));
    pb_ref(plan, 3, pb_vec_i32(b, 1, (const int32_t[]){2}));
    pb_ref(plan, 4, pb_vec_i32(b, 1, (const int32_t[]){2}));
    pb_ref(plan, 5,
           pb_tvec_of(b, 1,
                      et_chain(b, pb_tvec_of(b, 1,
                                             et_call(b, I_KERNEL, 0, 5,
                                                     (const int32_t[]){0, 1, 3, 2, 2})))));
    pb_ref(plan, 6, pb_tvec_of(b, 1, et_operator(b, "aten::add", "out")));
    pb_ref(plan, 8, pb_vec_i64(b, 2, (const int64_t[]){0, 16}));
    pb_node *root = pb_table(b);
    pb_ref(root, 1, pb_tvec_of(b, 1, plan));
    pb_node *cbuf = pb_tvec(b, 3, bufs);
    pb_ref(root, 2, cbuf);
    size_t n = 0;
    uint8_t *d = pb_finish(b, root, &n);
    CHECK(d != NULL);
    cml_pte_program p;
    cml_error e;
    cml_status st = parse(d, n, &p, &e);
    CHECK_MSG(st == CML_OK, "%s", e.msg);
    if (st == CML_OK) {
        CHECK(p.uses_constant_buffer && p.nconstants == 3 && p.nsegments == 0);
        const cml_pte_tensor *t0 = p.plans[0].values[0].u.tensor,
                             *t1 = p.plans[0].values[1].u.tensor;
        CHECK(t0->constant_data == d + bufs[1]->fields[0].ref->pos + 4);
        CHECK(t0->constant_data && memcmp(t0->constant_data, w, 16) == 0);
        CHECK(t1->constant_data && memcmp(t1->constant_data, bias, 16) == 0);
        CHECK((uintptr_t)t0->constant_data % 16 == 0);
        consume(&p);
    }
    cml_pte_free(&p);

    /* Too small a buffer for the tensor. */
    put32(d, bufs[2]->fields[0].ref->pos, 12);
    expect_fail(d, n, CML_ERR_CORRUPT, "constant_buffer[2] holds 12 bytes, tensor needs 16",
                "short constant buffer");
    free(d);
    pb_free(b);
}

static void test_rich_model(void) {
    rich_model m;
    build_rich_model(&m, 32);
    size_t n = 0;
    uint8_t *d = pb_finish(m.b, m.root, &n);
    CHECK(d != NULL);
    if (!d) {
        pb_free(m.b);
        return;
    }
    cml_pte_program p;
    cml_error e;
    cml_status st = parse(d, n, &p, &e);
    CHECK_MSG(st == CML_OK, "%s", e.msg);
    if (st != CML_OK) {
        free(d);
        pb_free(m.b);
        return;
    }
    consume(&p);
    const uint8_t *base = d + p.segment_base_offset;
    CHECK(p.nsegments == 4 && p.nmutable_offsets == 2);
    CHECK(p.segments[3].data == base + m.b->seg_offsets[3]);
    /* named data */
    CHECK(p.nnamed_data == 1);
    const cml_pte_named_data *nd = cml_pte_find_named_data(&p, "shared_weights", 14);
    CHECK(nd != NULL && nd->segment_index == 3 && nd->size == sizeof kNamed);
    CHECK(nd && memcmp(nd->data, kNamed, sizeof kNamed) == 0);
    CHECK(cml_pte_find_named_data(&p, "shared_weight", 13) == NULL);
    CHECK(cml_pte_find_named_data(&p, "shared_weights!", 15) == NULL);
    /* plans */
    CHECK(p.nplans == 2);
    const cml_pte_plan *g = cml_pte_find_plan(&p, "get_dim");
    CHECK(g && g->nvalues == 1 && g->values[0].u.i == 64 && g->chains[0].ninstructions == 0);
    const cml_pte_plan *pl = cml_pte_find_plan(&p, "forward");
    CHECK(pl != NULL);
    if (!pl) goto done;
    const cml_pte_value *v = pl->values;
    CHECK(pl->nvalues == m.nvalues);
    /* mutable initial state */
    const cml_pte_tensor *mt = v[0].u.tensor;
    CHECK(mt->planned && mt->data_buffer_idx == 1 && mt->constant_data == NULL);
    CHECK(mt->initial_data == base + m.b->seg_offsets[1]);
    CHECK(mt->initial_data && memcmp(mt->initial_data, kInitial, 16) == 0);
    CHECK(str_eq(mt->fqn, "cache.k") && !mt->external);
    const cml_pte_tensor *t1 = v[1].u.tensor;
    CHECK(t1->dtype == CML_DTYPE_INT64 && t1->dynamism == 1 && t1->rank == 2);
    CHECK(t1->dim_order[0] == 1 && t1->dim_order[1] == 0 && t1->nbytes == 48);
    CHECK(t1->memory_id == 2 && t1->memory_offset == 64);
    const cml_pte_tensor *t2 = v[2].u.tensor;
    CHECK(t2->external && str_eq(t2->fqn, "linear.weight") && !t2->planned && !t2->constant_data);
    CHECK(v[3].kind == CML_VALUE_NULL && v[4].kind == CML_VALUE_NULL);
    CHECK(v[5].kind == CML_VALUE_BOOL && v[5].u.b);
    CHECK(v[6].kind == CML_VALUE_DOUBLE && v[6].u.d == 2.5);
    CHECK(v[7].kind == CML_VALUE_STRING && str_eq(v[7].u.s, "mean"));
    CHECK(v[8].u.i == -7 && v[9].u.i == (1LL << 40));
    CHECK(v[10].kind == CML_VALUE_INT_LIST && v[10].u.int_list.count == 2 &&
          v[10].u.int_list.items[0] == 8 && v[10].u.int_list.items[1] == 9);
    CHECK((uintptr_t)v[10].u.int_list.items % 8 == 0);
    CHECK(v[11].kind == CML_VALUE_DOUBLE_LIST && v[11].u.double_list.count == 3 &&
          v[11].u.double_list.items[1] == -1.0);
    CHECK(v[12].kind == CML_VALUE_BOOL_LIST && v[12].u.bool_list.count == 2 &&
          v[12].u.bool_list.items[0] == 1);
    CHECK(v[13].kind == CML_VALUE_TENSOR_LIST && v[13].u.tensor_list.count == 2);
    CHECK(v[14].kind == CML_VALUE_OPT_TENSOR_LIST && v[14].u.tensor_list.items[1] == -1);
    CHECK(v[15].kind == CML_VALUE_TENSOR && v[15].u.tensor->nbytes == 0 &&
          v[15].u.tensor->dtype == CML_DTYPE_UINT8 && v[15].u.tensor->sizes[0] == 0);
    /* delegates */
    CHECK(pl->ndelegates == 2);
    if (pl->ndelegates == 2) {
        const cml_pte_delegate *d0 = &pl->delegates[0], *d1 = &pl->delegates[1];
        CHECK(str_eq(d0->id, "CoreMLBackend") && d0->location == CML_DATA_INLINE && d0->index == 0);
        CHECK(d0->size == 6 && memcmp(d0->data, "inline", 6) == 0);
        CHECK(d0->nspecs == 1 && str_eq(d0->specs[0].key, "compute_units") &&
              d0->specs[0].value_len == 3 && memcmp(d0->specs[0].value, "all", 3) == 0);
        CHECK(str_eq(d1->id, "XnnpackBackend") && d1->location == CML_DATA_SEGMENT &&
              d1->index == 2 && d1->size == sizeof kBlob && d1->nspecs == 0);
        CHECK(d1->data == base + m.b->seg_offsets[2]);
    }
    /* instructions */
    const cml_pte_chain *c = &pl->chains[0];
    CHECK(c->ninstructions == 5);
    if (c->ninstructions == 5) {
        CHECK(c->instructions[0].kind == CML_INSTR_DELEGATE_CALL && c->instructions[0].a == 0 &&
              c->instructions[0].nargs == 2);
        CHECK(c->instructions[1].kind == CML_INSTR_DELEGATE_CALL && c->instructions[1].a == 1);
        CHECK(c->instructions[2].kind == CML_INSTR_MOVE_CALL && c->instructions[2].a == 8 &&
              c->instructions[2].b == 9);
        CHECK(c->instructions[3].kind == CML_INSTR_JUMP_FALSE_CALL && c->instructions[3].a == 5 &&
              c->instructions[3].b == 0);
        CHECK(c->instructions[4].kind == CML_INSTR_FREE_CALL && c->instructions[4].a == 15);
    }
done:
    cml_pte_free(&p);
    free(d);
    pb_free(m.b);
}

/* ---- negative tests ---------------------------------------------------- */

/* Builds the AddModel with a tweak applied to the tree, and expects it to
 * fail with status/message. */
typedef void (*tweak_fn)(add_model *m);
static void expect_tweak_(tweak_fn tweak, uint32_t header_len, cml_status want, const char *substr,
                          const char *what, int line) {
    add_model m;
    build_add_model(&m, header_len);
    tweak(&m);
    size_t n = 0;
    uint8_t *d = pb_finish(m.b, m.root, &n);
    CHECK_MSG(d != NULL, "line %d: build failed", line);
    if (d) expect_fail_(d, n, want, substr, what, line);
    free(d);
    pb_free(m.b);
}
#define expect_tweak(tweak, want, substr) expect_tweak_(tweak, 32, want, substr, #tweak, __LINE__)

static void tw_bad_scalar_type(add_model *m) { pb_i8(m->tensor[1], 0, 18); /* BITS1x8: not in the schema */ }
static void tw_negative_scalar_type(add_model *m) { pb_i8(m->tensor[1], 0, -1); }
static void tw_qint8(add_model *m) { pb_i8(m->tensor[1], 0, 12); }
static void tw_float8(add_model *m) { pb_i8(m->tensor[1], 0, 23); }
static void tw_dim_order_dup(add_model *m) {
    static const int32_t s[] = {3, 1};
    static const uint8_t o[] = {0, 0};
    pb_ref(m->tensor[1], 2, pb_vec_i32(m->b, 2, s));
    pb_ref(m->tensor[1], 3, pb_vec_u8(m->b, 2, o));
}
static void tw_dim_order_range(add_model *m) {
    pb_ref(m->tensor[1], 3, pb_vec_u8(m->b, 1, (const uint8_t[]){1}));
}
static void tw_dim_order_len(add_model *m) {
    pb_ref(m->tensor[1], 3, pb_vec_u8(m->b, 2, (const uint8_t[]){0, 1}));
}
static void tw_rank17(add_model *m) {
    int32_t s[17];
    uint8_t o[17];
    for (int i = 0; i < 17; i++)
        s[i] = 1, o[i] = (uint8_t)i;
    pb_ref(m->tensor[1], 2, pb_vec_i32(m->b, 17, s));
    pb_ref(m->tensor[1], 3, pb_vec_u8(m->b, 17, o));
}
static void tw_negative_size(add_model *m) {
    pb_ref(m->tensor[1], 2, pb_vec_i32(m->b, 1, (const int32_t[]){-3}));
}
static void tw_numel_overflow(add_model *m) {
    int32_t s[16];
    uint8_t o[16];
    for (int i = 0; i < 16; i++)
        s[i] = 0x7fffffff, o[i] = (uint8_t)i;
    pb_ref(m->tensor[0], 2, pb_vec_i32(m->b, 16, s));
    pb_ref(m->tensor[0], 3, pb_vec_u8(m->b, 16, o));
}
static void tw_storage_offset(add_model *m) { pb_i32(m->tensor[1], 1, 4); }
static void tw_dynamism(add_model *m) { pb_i8(m->tensor[1], 8, 3); }
static void tw_past_arena(add_model *m) { pb_u32(m->alloc[1], 1, 24); /* 24 + 12 > 32 */ }
static void tw_huge_offset(add_model *m) {
    pb_u32(m->alloc[1], 1, 0xfffffff0u);
    pb_u32(m->alloc[1], 2, 0xffffffffu);
}
static void tw_memory_id0(add_model *m) { pb_u32(m->alloc[1], 0, 0); }
static void tw_memory_id2(add_model *m) { pb_u32(m->alloc[1], 0, 2); }
static void tw_negative_buffer(add_model *m) {
    pb_ref(m->plan, 8, pb_vec_i64(m->b, 2, (const int64_t[]){0, -32}));
}
static void tw_arg_range(add_model *m) {
    pb_ref(m->kcall, 1, pb_vec_i32(m->b, 5, (const int32_t[]){1, 0, 3, 2, 4}));
}
static void tw_arg_negative(add_model *m) {
    pb_ref(m->kcall, 1, pb_vec_i32(m->b, 5, (const int32_t[]){1, 0, -1, 2, 2}));
}
static void tw_input_range(add_model *m) {
    pb_ref(m->plan, 3, pb_vec_i32(m->b, 1, (const int32_t[]){7}));
}
static void tw_output_range(add_model *m) {
    pb_ref(m->plan, 4, pb_vec_i32(m->b, 1, (const int32_t[]){-2}));
}
static void tw_op_index(add_model *m) { pb_i32(m->kcall, 0, 1); }
static void tw_bad_value_union(add_model *m) { pb_u8(m->ev[3], 0, 12); }
static void tw_bad_instr_union(add_model *m) { pb_u8(m->instr, 0, 6); }
static void tw_value_none(add_model *m) {
    pb_u8(m->ev[3], 0, 0);
    pb_clear(m->ev[3], 1);
}
static void tw_none_with_table(add_model *m) { pb_u8(m->ev[3], 0, 0); }
static void tw_union_missing(add_model *m) { pb_clear(m->ev[3], 1); }
static void tw_instr_missing(add_model *m) { pb_clear(m->instr, 1); }
static void tw_const_idx(add_model *m) { pb_u32(m->tensor[0], 5, 2); }
static void tw_const_past_segment(add_model *m) {
    pb_ref(m->root, 5, et_subsegment(m->b, 0, 2, (const uint64_t[]){0, 2}));
}
static void tw_const_segment_index(add_model *m) {
    pb_ref(m->root, 5, et_subsegment(m->b, 1, 2, (const uint64_t[]){0, 0}));
}
static void tw_const_misaligned(add_model *m) {
    static const float two[2] = {1, 2};
    m->b->segments[0].data = two;
    m->b->segments[0].size = 8;
    pb_ref(m->root, 4, pb_tvec_of(m->b, 1, et_segment(m->b, 0, 8)));
    pb_ref(m->root, 5, et_subsegment(m->b, 0, 2, (const uint64_t[]){0, 2}));
}
static void tw_segment_past_file(add_model *m) {
    pb_ref(m->root, 4, pb_tvec_of(m->b, 1, et_segment(m->b, 0, 5)));
}
static void tw_segment_offset_overflow(add_model *m) {
    pb_ref(m->root, 4, pb_tvec_of(m->b, 1, et_segment(m->b, UINT64_MAX - 2, 4)));
}
static void tw_mutable_missing(add_model *m) { pb_u32(m->tensor[1], 5, 1); }
static void tw_no_plans(add_model *m) { pb_clear(m->root, 1); }
static void tw_no_name(add_model *m) { pb_clear(m->plan, 0); }
static void set_operator(add_model *m, pb_node *name, const char *overload) {
    pb_node *o = pb_table(m->b);
    pb_ref(o, 0, name);
    pb_ref(o, 1, pb_str(m->b, overload));
    pb_ref(m->plan, 6, pb_tvec_of(m->b, 1, o));
}
static void tw_op_empty(add_model *m) { set_operator(m, pb_str(m->b, ""), "out"); }
static void tw_op_nul(add_model *m) { /* the name is one NUL byte */
    pb_node *n = pb_str(m->b, "x");
    ((char *)n->data)[0] = 0;
    set_operator(m, n, "");
}
static void tw_op_control(add_model *m) { set_operator(m, pb_str(m->b, "aten::a\tdd"), "out"); }
static void tw_op_long(add_model *m) {
    char name[300];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = 0;
    set_operator(m, pb_str(m->b, name), "out");
}
static void tw_overload_space(add_model *m) { set_operator(m, pb_str(m->b, "aten::add"), "o ut"); }
static void tw_no_chains(add_model *m) { pb_ref(m->plan, 5, pb_tvec(m->b, 0, NULL)); }
static void tw_int_list_kind(add_model *m) {
    pb_node *l = pb_table(m->b);
    pb_ref(l, 0, pb_vec_i64(m->b, 2, (const int64_t[]){3, 1}));
    pb_ref(m->ev[3], 1, l);
    pb_u8(m->ev[3], 0, T_INT_LIST);
}
static void tw_int_list_range(add_model *m) {
    pb_node *l = pb_table(m->b);
    pb_ref(l, 0, pb_vec_i64(m->b, 1, (const int64_t[]){1LL << 33}));
    pb_ref(m->ev[3], 1, l);
    pb_u8(m->ev[3], 0, T_INT_LIST);
}
static void tw_tensor_list_kind(add_model *m) {
    pb_node *l = pb_table(m->b);
    pb_ref(l, 0, pb_vec_i32(m->b, 2, (const int32_t[]){1, 3}));
    pb_ref(m->ev[3], 1, l);
    pb_u8(m->ev[3], 0, T_TENSOR_LIST);
}
static void tw_tensor_list_none(add_model *m) {
    pb_node *l = pb_table(m->b);
    pb_ref(l, 0, pb_vec_i32(m->b, 1, (const int32_t[]){-1}));
    pb_ref(m->ev[3], 1, l);
    pb_u8(m->ev[3], 0, T_TENSOR_LIST);
}
static void tw_opt_tensor_list_kind(add_model *m) {
    pb_node *l = pb_table(m->b);
    pb_ref(l, 0, pb_vec_i32(m->b, 2, (const int32_t[]){-1, 3}));
    pb_ref(m->ev[3], 1, l);
    pb_u8(m->ev[3], 0, T_OPT_TENSOR_LIST);
}
static void tw_jump_dest(add_model *m) {
    pb_node *j = pb_table(m->b);
    pb_i32(j, 0, 0);
    pb_i32(j, 1, 1);
    pb_ref(m->instr, 1, j);
    pb_u8(m->instr, 0, I_JUMP_FALSE);
}
static void tw_jump_cond_kind(add_model *m) {
    pb_node *j = pb_table(m->b);
    pb_i32(j, 0, 3);
    pb_ref(m->instr, 1, j);
    pb_u8(m->instr, 0, I_JUMP_FALSE);
}
static void tw_move_range(add_model *m) {
    pb_node *j = pb_table(m->b);
    pb_i32(j, 0, 0);
    pb_i32(j, 1, 4);
    pb_ref(m->instr, 1, j);
    pb_u8(m->instr, 0, I_MOVE);
}
static void tw_free_kind(add_model *m) {
    pb_node *j = pb_table(m->b);
    pb_i32(j, 0, 3);
    pb_ref(m->instr, 1, j);
    pb_u8(m->instr, 0, I_FREE);
}
static void tw_delegate_index(add_model *m) { pb_u8(m->instr, 0, I_DELEGATE); }
static void add_delegate(add_model *m, int8_t location, uint32_t index) {
    pb_node *d = pb_table(m->b), *r = pb_table(m->b);
    pb_i8(r, 0, location);
    pb_u32(r, 1, index);
    pb_ref(d, 0, pb_str(m->b, "CoreMLBackend"));
    pb_ref(d, 1, r);
    pb_ref(m->plan, 7, pb_tvec_of(m->b, 1, d));
}
static void tw_delegate_inline_range(add_model *m) { add_delegate(m, 0, 0); }
static void tw_delegate_segment_range(add_model *m) { add_delegate(m, 1, 1); }
static void tw_delegate_location(add_model *m) { add_delegate(m, 2, 0); }
static void tw_delegate_ok(add_model *m) { add_delegate(m, 1, 0); }
static void tw_named_segment(add_model *m) {
    pb_node *nd = pb_table(m->b);
    pb_ref(nd, 0, pb_str(m->b, "k"));
    pb_u32(nd, 1, 1);
    pb_ref(m->root, 7, pb_tvec_of(m->b, 1, nd));
}
static void tw_both_constant_kinds(add_model *m) {
    pb_node *buf = pb_table(m->b);
    pb_ref(buf, 0, pb_vec_u8_16(m->b, 4, &kOne));
    pb_ref(m->root, 2, pb_tvec_of(m->b, 1, buf));
}
static void tw_external_unnamed(add_model *m) {
    pb_node *x = pb_table(m->b);
    pb_i8(x, 2, 1);
    pb_ref(m->tensor[1], 9, x);
}
static void tw_location(add_model *m) {
    pb_node *x = pb_table(m->b);
    pb_i8(x, 2, 5);
    pb_ref(m->tensor[1], 9, x);
}

static void test_semantic_errors(void) {
    const cml_status C = CML_ERR_CORRUPT;
    expect_tweak(tw_bad_scalar_type, C, "values[1] Tensor.scalar_type: invalid ScalarType 18");
    expect_tweak(tw_negative_scalar_type, C, "invalid ScalarType -1");
    expect_tweak(tw_qint8, CML_ERR_UNSUPPORTED, "ScalarType QINT8 (12) is not supported");
    expect_tweak(tw_float8, CML_ERR_UNSUPPORTED, "FLOAT8E5M2 (23)");
    expect_tweak(tw_dim_order_dup, C,
                 "ExecutionPlan[0].values[1] Tensor.dim_order: not a permutation");
    expect_tweak(tw_dim_order_range, C, "Tensor.dim_order: not a permutation");
    expect_tweak(tw_dim_order_len, C, "Tensor.dim_order: 2 entries but sizes has 1");
    expect_tweak(tw_rank17, C, "Tensor.sizes: 17 dims (max 16)");
    expect_tweak(tw_negative_size, C, "Tensor.sizes: sizes[0] = -3 < 0");
    expect_tweak(tw_numel_overflow, C, "values[0] Tensor.sizes: numel x element size overflows");
    expect_tweak(tw_storage_offset, C, "Tensor.storage_offset: 4 (must be 0)");
    expect_tweak(tw_dynamism, C, "Tensor.shape_dynamism: invalid TensorShapeDynamism 3");
    expect_tweak(tw_past_arena, C,
                 "ExecutionPlan[0].values[1].allocation_info AllocationDetails.memory_offset_low: "
                 "tensor [24, +12 bytes) lies outside arena 1 (32 bytes)");
    expect_tweak(tw_huge_offset, C, "lies outside arena 1");
    expect_tweak(tw_memory_id0, C, "AllocationDetails.memory_id: 0 out of range [1, 1]");
    expect_tweak(tw_memory_id2, C, "AllocationDetails.memory_id: 2 out of range");
    expect_tweak(tw_negative_buffer, C, "ExecutionPlan.non_const_buffer_sizes: [1] = -32 < 0");
    expect_tweak(tw_arg_range, C,
                 "ExecutionPlan[0].chains[0].instructions[0] KernelCall.args: [4] = 4 out of "
                 "range (4 values)");
    expect_tweak(tw_arg_negative, C, "KernelCall.args: [2] = -1 out of range");
    expect_tweak(tw_input_range, C, "ExecutionPlan[0] ExecutionPlan.inputs: [0] = 7 out of range");
    expect_tweak(tw_output_range, C, "ExecutionPlan.outputs: [0] = -2 out of range");
    expect_tweak(tw_op_index, C, "KernelCall.op_index: 1 out of range (1 operators)");
    expect_tweak(tw_bad_value_union, C,
                 "values[3] EValue.val_type: unknown union type 12 (max 11)");
    expect_tweak(tw_bad_instr_union, C, "Instruction.instr_args_type: unknown union type 6");
    expect_tweak(tw_value_none, C, "EValue.val_type: NONE is not a valid value");
    expect_tweak(tw_none_with_table, C, "EValue.val: union has a value but type NONE");
    expect_tweak(tw_union_missing, C, "EValue.val: union of type Int has no value");
    expect_tweak(tw_instr_missing, C,
                 "Instruction.instr_args: union of type KernelCall has no value");
    expect_tweak(
        tw_const_idx, C,
        "values[0] Tensor.data_buffer_idx: 2 out of range (constant_segment has 2 offsets)");
    expect_tweak(tw_const_past_segment, C,
                 "constant 1 [offset 2, +4 bytes) exceeds constant segment 0 (4 bytes)");
    expect_tweak(tw_const_segment_index, C,
                 "constant_segment SubsegmentOffsets.segment_index: 1 out of range (1 segments)");
    expect_tweak(tw_const_misaligned, CML_ERR_UNSUPPORTED, "is not 4-byte aligned");
    expect_tweak(tw_segment_past_file, C, "segments[0] DataSegment.offset: segment [base");
    expect_tweak(tw_segment_offset_overflow, C, "runs past the file end");
    expect_tweak(tw_mutable_missing, C,
                 "values[1] Tensor.data_buffer_idx: 1 out of range (mutable_data_segments[0] has 0 "
                 "offsets)");
    expect_tweak(tw_no_plans, C, "Program.execution_plan: required field is missing");
    expect_tweak(tw_no_name, C, "ExecutionPlan[0] ExecutionPlan.name: required field is missing");
    expect_tweak(tw_no_chains, C, "ExecutionPlan.chains: no chains");
    expect_tweak(tw_op_empty, C, "ExecutionPlan[0].operators[0] Operator.name: empty operator name");
    expect_tweak(tw_op_nul, C,
                 "operators[0] Operator.name: byte 0 is 0x00, not a printable character");
    expect_tweak(tw_op_control, C, "Operator.name: byte 7 is 0x09, not a printable character");
    expect_tweak(tw_op_long, C, "Operator.name: 299 bytes (max 200)");
    expect_tweak(tw_overload_space, C, "Operator.overload: byte 1 is 0x20");
    expect_tweak(tw_int_list_kind, C,
                 "values[3] IntList.items: items[0] = value 3 is IntList, expected Int");
    expect_tweak(tw_int_list_range, C,
                 "IntList.items: items[0] = 8589934592 out of range (4 values)");
    expect_tweak(tw_tensor_list_kind, C,
                 "TensorList.items: items[1] = value 3 is TensorList, expected Tensor");
    expect_tweak(tw_tensor_list_none, C, "TensorList.items: items[0] = -1 out of range");
    expect_tweak(tw_opt_tensor_list_kind, C, "expected Tensor or Null");
    expect_tweak(tw_jump_dest, C,
                 "JumpFalseCall.destination_instruction: 1 out of range (1 instructions)");
    expect_tweak(tw_jump_cond_kind, C,
                 "JumpFalseCall.cond_value_index: value 3 is Int, expected Bool or Tensor");
    expect_tweak(tw_move_range, C, "MoveCall.move_to: value = 4 out of range (4 values)");
    expect_tweak(tw_free_kind, C, "FreeCall.value_index: value 3 is Int, expected Tensor");
    expect_tweak(tw_delegate_index, C, "DelegateCall.delegate_index: 0 out of range (0 delegates)");
    expect_tweak(tw_delegate_inline_range, C,
                 "delegates[0].processed BackendDelegateDataReference.index: INLINE index 0 out of "
                 "range (0 backend_delegate_data entries)");
    expect_tweak(tw_delegate_segment_range, C, "SEGMENT index 1 out of range (1 segments)");
    expect_tweak(tw_delegate_location, C,
                 "BackendDelegateDataReference.location: invalid DataLocation 2");
    expect_tweak(tw_delegate_ok, CML_OK, "");
    expect_tweak(tw_named_segment, C,
                 "named_data[0] NamedData.segment_index: 1 out of range (1 segments)");
    expect_tweak(tw_both_constant_kinds, C, "Program.constant_buffer: 1 deprecated inline buffers");
    expect_tweak(
        tw_external_unnamed, C,
        "extra_tensor_info ExtraTensorInfo.fully_qualified_name: external tensor without a name");
    expect_tweak(tw_location, C, "ExtraTensorInfo.location: invalid TensorDataLocation 5");
}

/* Missing operators are counted and named exactly, also when one name is a
 * substring of another (the report once de-duplicated by substring, so an
 * unresolved operator reached prepare). */
static void test_missing_operators(void) {
    add_model m;
    build_add_model(&m, 32);
    static const int32_t args[] = {1, 0, 3, 2, 2};
    pb_node *ops[2] = {et_operator(m.b, "foobar::x", "out"), et_operator(m.b, "bar::x", "out")};
    pb_node *instrs[2] = {et_call(m.b, I_KERNEL, 0, 5, args), et_call(m.b, I_KERNEL, 1, 5, args)};
    pb_ref(m.plan, 6, pb_tvec(m.b, 2, ops));
    pb_ref(m.plan, 5, pb_tvec_of(m.b, 1, et_chain(m.b, pb_tvec(m.b, 2, instrs))));
    size_t n = 0;
    uint8_t *d = pb_finish(m.b, m.root, &n);
    cml_program *prog = NULL;
    char err[256];
    CHECK(d && cml_program_open_memory(d, n, NULL, &prog, err, sizeof err) == CML_OK);
    cml_method *meth = NULL;
    CHECK(prog && cml_method_create(prog, NULL, NULL, &meth) == CML_ERR_UNSUPPORTED);
    CHECK(meth == NULL);
    const char *msg = prog ? cml_program_errmsg(prog) : "";
    CHECK_MSG(strstr(msg, "2 operators are not implemented: foobar::x.out, bar::x.out") != NULL,
              "%s", msg);
    cml_program_close(prog);
    free(d);
    pb_free(m.b);
}

/* Byte-level corruption of a finished AddModel image. */
static void test_structural_errors(void) {
    add_model m;
    build_add_model(&m, 32);
    size_t n = 0;
    uint8_t *orig = finish_add_model(&m, &n);
    if (!orig) {
        pb_free(m.b);
        return;
    }
    uint8_t *d = NULL;
    if (posix_memalign((void **)&d, 16, n) != 0) return;
    const cml_status C = CML_ERR_CORRUPT;
#define RESET() memcpy(d, orig, n)

    RESET();
    memcpy(d + 4, "ABCD", 4);
    expect_fail(d, n, C, "identifier 'ABCD' is not ET12", "identifier");
    RESET();
    memcpy(d + 4, "ET11", 4);
    expect_fail(d, n, C, "incompatible ExecuTorch program version", "old identifier");
    RESET();
    d[5] = 0;
    expect_fail(d, n, C, "identifier 45 00 31 32 is not ET12", "binary identifier");

    /* Truncated headers. */
    RESET();
    expect_fail(d, 0, C, "too short", "empty file");
    expect_fail(d, 7, C, "file is 7 bytes, too short", "7 bytes");
    expect_fail(d, 14, C, "truncated inside the header", "14 bytes");
    expect_fail(d, 20, C, "header_length 32 runs past the file end", "20 bytes");
    expect_fail(d, 40, C, "program_size", "40 bytes");
    expect_fail(d, n - 1, C, "segment_data_size 4 exceeds the file size", "last byte cut");
    put32(d, 12, 16);
    expect_fail(d, n, C, "header_length 16 < 24", "short header length");

    RESET();
    put64(d, 16, n + 1);
    expect_fail(d, n, C, "program_size", "program_size > file size");
    RESET();
    put64(d, 16, 20);
    expect_fail(d, n, C, "smaller than the header", "program_size < header");
    RESET();
    put64(d, 24, 64);
    expect_fail(d, n, C, "segment_base_offset 64 outside", "segment base inside the program");
    RESET();
    put64(d, 32, UINT64_MAX);
    expect_fail(d, n, C, "exceeds the file size", "segment data size overflow");
    RESET();
    put64(d, 24, 0);
    expect_fail(d, n, C, "segment_data_size 4 without a segment_base_offset", "no base");
    RESET();
    put64(d, 24, 0);
    put64(d, 32, 0);
    expect_fail(d, n, C,
                "segments[0] DataSegment.size: 4 bytes of segment data but the file has no",
                "segment without base");

    /* Root offset. */
    RESET();
    put32(d, 0, (uint32_t)n);
    expect_fail(d, n, C, "root table offset", "root past end");
    RESET();
    put32(d, 0, 4);
    expect_fail(d, n, C, "root table offset 0x4", "root inside header");
    RESET();
    put32(d, 0, m.root->pos + 2);
    expect_fail(d, n, C, "Program: table at", "misaligned root");

    /* Vtables. */
    RESET();
    put32(d, m.plan->pos, (uint32_t) - (int32_t)(n * 2));
    expect_fail(d, n, C, "ExecutionPlan[0] ExecutionPlan: vtable at", "vtable past end");
    RESET();
    put32(d, m.plan->pos, (uint32_t)(m.plan->pos + 8));
    expect_fail(d, n, C, "ExecutionPlan: vtable at", "vtable before start");
    RESET();
    put32(d, m.plan->pos, (uint32_t)(m.plan->pos - m.plan->vt_pos + 1));
    expect_fail(d, n, C, "is misaligned", "odd vtable");
    RESET();
    d[m.plan->vt_pos] = 3;
    d[m.plan->vt_pos + 1] = 0;
    expect_fail(d, n, C, "vtable at", "vtable size 3");
    RESET();
    d[m.plan->vt_pos] = 2;
    expect_fail(d, n, C, "bad size 2", "vtable size 2");
    RESET();
    d[m.plan->vt_pos] = 0xfe;
    d[m.plan->vt_pos + 1] = 0xff;
    expect_fail(d, n, C, "bad size 65534", "vtable size huge");
    RESET();
    d[m.plan->vt_pos + 2] = 0xff;
    d[m.plan->vt_pos + 3] = 0xff;
    expect_fail(d, n, C, "object size 65535 runs past", "object size huge");
    /* A field offset pointing past the end / misaligned. */
    RESET();
    d[m.plan->vt_pos + 4 + 2 * 8] = 0xfc;
    d[m.plan->vt_pos + 4 + 2 * 8 + 1] = 0xff;
    expect_fail(d, n, C, "ExecutionPlan.non_const_buffer_sizes: field at", "field past end");
    RESET();
    d[m.tensor[1]->vt_pos + 4]++;   /* scalar_type: i8, any alignment */
    d[m.alloc[1]->vt_pos + 4] += 1; /* memory_id: u32 now misaligned */
    expect_fail(d, n, C, "AllocationDetails.memory_id: field at", "misaligned u32 field");

    /* uoffsets. */
    RESET();
    put32(d, m.plan->fields[0].pos, 0);
    expect_fail(d, n, C, "ExecutionPlan.name: offset 0x0", "zero offset");
    RESET();
    put32(d, m.plan->fields[0].pos, (uint32_t)n);
    expect_fail(d, n, C, "ExecutionPlan.name: offset", "offset past end");
    RESET();
    put32(d, m.plan->fields[0].pos, 0x80000000u);
    expect_fail(d, n, C, "points outside", "negative offset");
    RESET();
    put32(d, m.plan->fields[0].pos, m.name->pos - m.plan->fields[0].pos + 1);
    expect_fail(d, n, C, "ExecutionPlan.name: string at", "misaligned string");

    /* Strings. */
    RESET();
    d[m.name->pos + 4 + 7] = 'X';
    expect_fail(d, n, C, "ExecutionPlan[0] ExecutionPlan.name: string at", "string without NUL");
    expect_fail(d, n, C, "is not NUL-terminated", "string without NUL (message)");
    RESET();
    put32(d, m.name->pos, 0xfffffff0u);
    expect_fail(d, n, C, "ExecutionPlan.name: string of 4294967280 bytes", "string length");

    /* Vectors. */
    RESET();
    put32(d, m.args->pos, 0x40000001u); /* * 4 wraps a 32-bit size */
    expect_fail(d, n, C, "KernelCall.args: vector of 1073741825 x 4 bytes",
                "vector count overflow");
    RESET();
    put32(d, m.args->pos, 0xffffffffu);
    expect_fail(d, n, C, "runs past the flatbuffer end", "vector count max");
    RESET();
    put32(d, m.values->pos, 0x7fffffffu);
    expect_fail(d, n, C, "ExecutionPlan.values: vector of 2147483647 x 4 bytes",
                "tables vector count");
    /* i64 vector data must be 8-aligned: shift the buffer_sizes offset by 4
     * onto a copy of the vector written 4 bytes later is not needed; pointing
     * the field 4 bytes later lands on a misaligned "vector". */
    RESET();
    {
        uint32_t fpos = m.plan->fields[8].pos;
        uint32_t vpos = m.buffer_sizes->pos;
        /* Build a fake 1-element vector at vpos + 4 (count overwrites old
         * element 0's low half, which is 0 anyway). */
        put32(d, vpos + 4, 1);
        put32(d, fpos, vpos + 4 - fpos);
        expect_fail(d, n, C, "non_const_buffer_sizes: vector data at", "misaligned i64 vector");
    }
    /* Vector-of-tables element offsets. */
    RESET();
    put32(d, m.values->pos + 4 + 4 * 2, 0);
    expect_fail(d, n, C, "ExecutionPlan[0].values[2] EValue: offset 0x0", "zero element offset");
    RESET();
    put32(d, m.values->pos + 4 + 4 * 2, (uint32_t)n);
    expect_fail(d, n, C, "values[2] EValue: offset", "element past end");

    /* Not 16-byte aligned in memory. */
    {
        uint8_t *u = malloc(n + 1);
        memcpy(u + 1, orig, n);
        cml_pte_program p;
        cml_error e;
        CHECK(parse(u + 1, n, &p, &e) == CML_ERR_INVALID_ARG && strstr(e.msg, "16-byte aligned"));
        free(u);
        CHECK(parse(NULL, 0, &p, &e) == CML_ERR_INVALID_ARG);
        CHECK(cml_pte_parse(orig, n, NULL, NULL, &e) == CML_ERR_INVALID_ARG);
        /* err may be NULL */
        CHECK(cml_pte_parse(orig, 3, NULL, &p, NULL) == CML_ERR_CORRUPT);
    }
#undef RESET
    free(d);
    free(orig);
    pb_free(m.b);
}

/* Shared tables. FlatBuffers allows several offsets to one table; a file
 * can use that to make the decoded program grow much faster than the file
 * (K plans x V values all pointing at one plan / one value). The reader
 * caps the tables it visits by the file size, so this fails cleanly. A
 * little sharing is still accepted. */
static void test_shared_tables(void) {
    for (int big = 0; big < 2; big++) {
        const uint32_t K = big ? 400 : 3, V = big ? 400 : 6;
        add_model m;
        build_add_model(&m, 32);
        pb *b = m.b;
        pb_node *plans[400], *vals[400];
        plans[0] = m.plan;
        for (uint32_t i = 1; i < K; i++)
            plans[i] = pb_table(b);
        for (uint32_t i = 0; i < V; i++)
            vals[i] = i < 4 ? m.ev[i] : pb_table(b);
        pb_node *pv = pb_tvec(b, K, plans);
        pb_node *vv = pb_tvec(b, V, vals);
        pb_ref(m.root, 1, pv);
        pb_ref(m.plan, 2, vv);
        size_t n = 0;
        uint8_t *d = pb_finish(b, m.root, &n);
        CHECK(d != NULL);
        if (!d) {
            pb_free(b);
            continue;
        }
        /* Point every plan slot at plan 0 and value slots 4.. at value 1. */
        for (uint32_t i = 1; i < K; i++)
            put32(d, pv->pos + 4 + 4 * i, m.plan->pos - (pv->pos + 4 + 4 * i));
        for (uint32_t i = 4; i < V; i++)
            put32(d, vv->pos + 4 + 4 * i, m.ev[1]->pos - (vv->pos + 4 + 4 * i));
        cml_pte_program p;
        cml_error e;
        cml_status st = parse(d, n, &p, &e);
        if (big) {
            CHECK_MSG(st == CML_ERR_CORRUPT && strstr(e.msg, "more than"), "%s", e.msg);
        } else {
            CHECK_MSG(st == CML_OK, "%s", e.msg);
            if (st == CML_OK) {
                CHECK(p.nplans == K && p.plans[2].nvalues == V);
                CHECK(p.plans[2].values[5].kind == CML_VALUE_TENSOR &&
                      p.plans[2].values[5].u.tensor->memory_offset == 16);
                consume(&p);
            }
        }
        cml_pte_free(&p);
        free(d);
        pb_free(b);
    }
}

int main(void) {
    test_missing_operators();
    test_add_model_32();
    test_header_24();
    test_add_pte_headerless();
    test_constant_buffer();
    test_rich_model();
    test_semantic_errors();
    test_structural_errors();
    test_shared_tables();
    TEST_MAIN_END();
}
