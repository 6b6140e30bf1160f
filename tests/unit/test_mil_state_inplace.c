/* In-place state updates (mil/state_inplace.h) on the KV-cache program
 * coremltools emits for a stateful LLM (fp16 state, fp16 update):
 *
 *   kc = read_state(k); kn = slice_update(kc, x, begin = (0, 0, p, 0),
 *   end = (1, 2, p + 1, 4)); write_state(k, kn); k2 = read_state(k);
 *   y = mul(k2, 2)
 *
 * Checks that the rewrite happens (the state ops folded, kc / kn / k2 views
 * of the state buffer, no arena space for them), that several steps give
 * the naive reference cache and output, and that each condition of the
 * rewrite is honoured: an extra reader of kc or of kn, a write of k while
 * k2 is still read, a block output, an fp32 update of an fp16 state. */
#include "core/fp16.h"
#include "mil/graph.h"
#include "mil/state_inplace.h"
#include "test_mil_ops_util.h"
#include "unit/mil_builder.h"

enum { I32 = 23, F16 = 10, F32 = 11 };
enum { V_PLAIN, V_KC_READER, V_KN_READER, V_WRITE_BETWEEN, V_K2_OUTPUT, V_FP32_UPDATE };

static const int64_t kCache[4] = {1, 2, 5, 4}, kStep[4] = {1, 2, 1, 4};

static void scalar_const(mb_block *b, const char *name, int32_t v) {
    mb_const(b, name, mb_val_ints(I32, 0, NULL, &v, 1));
}

static void bounds(mb_block *b) {
    scalar_const(b, "zero", 0);
    scalar_const(b, "one_s", 1);
    scalar_const(b, "two_s", 2);
    scalar_const(b, "four_s", 4);
    scalar_const(b, "axis0", 0);
    mb_op *op = mb_op_new(b, "squeeze", "p");
    mb_in(op, "x", "pos");
    mb_out(op, "p", mb_tensor_type(I32, 0, NULL));
    op = mb_op_new(b, "add", "p1");
    mb_in(op, "x", "p");
    mb_in(op, "y", "one_s");
    mb_out(op, "p1", mb_tensor_type(I32, 0, NULL));
    const char *begin[4] = {"zero", "zero", "p", "zero"}, *end[4] = {"one_s", "two_s", "p1", "four_s"};
    for (int k = 0; k < 2; k++) {
        const char *name = k ? "end" : "begin";
        op = mb_op_new(b, "concat", name);
        for (int i = 0; i < 4; i++) mb_in(op, "values", k ? end[i] : begin[i]);
        mb_in(op, "axis", "axis0");
        mb_out(op, name, mb_tensor_type(I32, 1, (int64_t[]){4}));
    }
}

static void unary(mb_block *b, const char *type, const char *out, const char *x, int dt) {
    mb_op *op = mb_op_new(b, type, out);
    mb_in(op, "x", x);
    if (strcmp(type, "mul") == 0) mb_in(op, "y", "two");
    mb_out(op, out, mb_tensor_type(dt, 4, kCache));
}

static mb_function *program(int variant) {
    int sdt = F16, xdt = variant == V_FP32_UPDATE ? F32 : F16;
    mb_block *b = mb_block_new();
    bounds(b);
    mb_const(b, "two", mb_val_bytes(F16, 0, NULL, (uint16_t[]){0x4000}, 2));
    mb_op *op = mb_op_new(b, "read_state", "kc");
    mb_in(op, "input", "k");
    mb_out(op, "kc", mb_tensor_type(sdt, 4, kCache));
    if (variant == V_KC_READER) unary(b, "identity", "kc_copy", "kc", sdt);
    op = mb_op_new(b, "slice_update", "kn");
    mb_in(op, "x", "kc");
    mb_in(op, "update", "x");
    mb_in(op, "begin", "begin");
    mb_in(op, "end", "end");
    mb_out(op, "kn", mb_tensor_type(sdt, 4, kCache));
    if (variant == V_KN_READER) unary(b, "identity", "kn_copy", "kn", sdt);
    op = mb_op_new(b, "write_state", "kw");
    mb_in(op, "input", "k");
    mb_in(op, "data", "kn");
    op = mb_op_new(b, "read_state", "k2");
    mb_in(op, "input", "k");
    mb_out(op, "k2", mb_tensor_type(sdt, 4, kCache));
    if (variant == V_WRITE_BETWEEN) { /* k doubled while k2 (the old k) is still to be read */
        unary(b, "mul", "k2x2", "k2", sdt);
        op = mb_op_new(b, "write_state", "kw2");
        mb_in(op, "input", "k");
        mb_in(op, "data", "k2x2");
    }
    unary(b, "mul", "y", "k2", sdt);
    mb_block_out(b, "y");
    if (variant == V_KC_READER) mb_block_out(b, "kc_copy");
    if (variant == V_KN_READER) mb_block_out(b, "kn_copy");
    if (variant == V_K2_OUTPUT) mb_block_out(b, "k2");
    mb_function *fn = mb_function_new("CoreML8", b);
    mb_fn_in(fn, "x", mb_tensor_type(xdt, 4, kStep));
    mb_fn_in(fn, "pos", mb_tensor_type(I32, 1, (int64_t[]){1}));
    mb_fn_in(fn, "k", mb_state_type(mb_tensor_type(sdt, 4, kCache)));
    return fn;
}

static const cml_mil_node *node_named(const cml_mil_graph *g, const char *name) {
    for (uint32_t i = 0; i < g->main.nnodes; i++)
        if (strcmp(g->main.nodes[i].name, name) == 0) return &g->main.nodes[i];
    return NULL;
}

static const cml_mil_value *value_named(const cml_mil_graph *g, const char *name) {
    for (uint32_t i = 0; i < g->nvalues; i++)
        if (g->values[i].name && strcmp(g->values[i].name, name) == 0) return &g->values[i];
    return NULL;
}

/* Rewrites expected per variant: fused update (kn a view, the write folded)
 * and aliased reads (kc, k2 views). */
static void check_rewrites(const cml_mil_graph *g, int variant) {
    const void *state = g->values[cml_mil_find_input(g, "k")].data;
    bool fused = variant == V_PLAIN || variant == V_WRITE_BETWEEN || variant == V_K2_OUTPUT;
    bool aliased = variant != V_WRITE_BETWEEN && variant != V_K2_OUTPUT;
    const cml_mil_value *kn = value_named(g, "kn"), *k2 = value_named(g, "k2");
    /* kc is a view either way: fused, or a read whose readers all run
     * before write_state */
    CHECK_MSG(node_named(g, "kc")->folded && value_named(g, "kc")->data == state,
              "variant %d: kc view", variant);
    CHECK_MSG(node_named(g, "kw")->folded == fused, "variant %d: update fused %d", variant, fused);
    CHECK_MSG((kn->data == state) == fused && kn->needs_buffer == !fused, "variant %d: kn view",
              variant);
    CHECK_MSG(kn->fp16 == !fused, "variant %d: the in-place update is not re-rounded", variant);
    CHECK_MSG((node_named(g, "kn")->def == &cml_mil_op_slice_update_state) == fused,
              "variant %d: in-place slice_update", variant);
    CHECK_MSG(node_named(g, "k2")->folded == aliased && (k2->data == state) == aliased,
              "variant %d: k2 aliased %d", variant, aliased);
}

/* Three steps against the naive cache (and y = 2 * cache, or 2 * the cache
 * before the doubling write for V_WRITE_BETWEEN). */
static void run_steps(cml_mil_graph *g, int variant) {
    cml_error err = {0};
    cml_mil_value *x = &g->values[cml_mil_find_input(g, "x")];
    cml_mil_value *pos = &g->values[cml_mil_find_input(g, "pos")];
    const cml_mil_value *k = &g->values[cml_mil_find_input(g, "k")];
    const cml_mil_value *y = value_named(g, "y");
    int32_t steps[3] = {0, 3, 1};
    float want[2 * 5 * 4] = {0};
    for (int s = 0; s < 3; s++) {
        for (int i = 0; i < 8; i++) /* fp16-exact, except 0.1 for the fp32 update */
            ((float *)x->data)[i] = (float)(s * 16 + i + 1) + (variant == V_FP32_UPDATE ? 0.1f : 0);
        for (int h = 0; h < 2; h++)
            for (int d = 0; d < 4; d++)
                want[(h * 5 + steps[s]) * 4 + d] = cml_round_fp16(((float *)x->data)[h * 4 + d]);
        *(int32_t *)pos->data = steps[s];
        cml_status st = cml_mil_run(g, NULL, &err);
        CHECK_MSG(st == CML_OK, "variant %d step %d: %s", variant, s, err.msg);
        bool ok = st == CML_OK;
        for (int i = 0; ok && i < 40; i++) {
            float c = variant == V_WRITE_BETWEEN ? 2 * want[i] : want[i];
            ok = ((const float *)y->data)[i] == 2 * want[i] && ((const float *)k->data)[i] == c;
        }
        CHECK_MSG(ok, "variant %d step %d: cache or output differs from the reference", variant, s);
        if (variant == V_WRITE_BETWEEN) memcpy(k->data, want, sizeof want); /* undo the doubling */
    }
}

static void test_variant(int variant) {
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = cml_mil_compile(program(variant), NULL, NULL, 0, NULL, &g, &err);
    CHECK_MSG(st == CML_OK, "variant %d: %s", variant, err.msg);
    if (st == CML_OK) {
        check_rewrites(&g, variant);
        run_steps(&g, variant);
        /* re-planning (new input shapes) re-infers the live ops: the rewrite
         * stays in force */
        st = cml_mil_replan(&g, &err);
        CHECK_MSG(st == CML_OK, "variant %d: replan: %s", variant, err.msg);
        check_rewrites(&g, variant);
        cml_mil_reset_states(&g);
        run_steps(&g, variant);
        cml_mil_graph_free(&g);
    }
    mb_free_all();
}

int main(void) {
    for (int v = V_PLAIN; v <= V_FP32_UPDATE; v++) test_variant(v);
    TEST_MAIN_END();
}
