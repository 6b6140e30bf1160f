/* Rank-0 (scalar) operands, as coremltools' type inference allows them:
 * concat / stack of scalars, gather with scalar indices, reshape to and
 * from rank 0, expand_dims / squeeze, reductions to a scalar, fill with
 * an empty shape, cast, elementwise and select on scalars, slice_by_index
 * with squeeze_mask, shape of a scalar; and the refusals coremltools makes
 * (mixed ranks in concat, tile of a scalar, rank-0 slice_update update). */
#include "mil/graph.h"
#include "test_mil_ops_util.h"
#include "unit/mil_builder.h"

static cml_mil_vid scalar_i32(tg *t, const char *name, int32_t v, bool is_const) {
    return tg_value(t, name, CML_DTYPE_INT32, false, 0, NULL, &v, is_const);
}

static cml_status go(tg *t, uint32_t nout) {
    tg_out(t, nout);
    cml_status st = tg_infer(t);
    if (st == CML_OK) st = tg_run(t);
    return st;
}

static bool i32_is(const cml_mil_value *v, int n, const int32_t *want) {
    if (v->dtype != CML_DTYPE_INT32 || cml_mil_numel(v) != n) return false;
    return n == 0 || memcmp(v->data, want, sizeof(int32_t) * (size_t)n) == 0;
}

static void test_concat(void) {
    /* concat((0, 0, pos, 0), axis) with rank-0 values -> rank 1, length 4;
     * axis 0 and -1 are both accepted for scalars */
    for (int k = 0; k < 2; k++) {
        tg t;
        tg_init(&t, "concat", 18);
        tg_param(&t, "values", scalar_i32(&t, "a", 0, true));
        tg_param(&t, "values", scalar_i32(&t, "b", 0, true));
        tg_param(&t, "values", scalar_i32(&t, "pos", 7, false));
        tg_param(&t, "values", scalar_i32(&t, "c", 0, true));
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", k ? -1 : 0));
        cml_status st = go(&t, 1);
        CHECK_MSG(st == CML_OK, "concat scalars: %s", t.err.msg);
        int64_t four = 4;
        CHECK(tg_shape_is(tg_o(&t, 0), 1, &four));
        CHECK(st == CML_OK && i32_is(tg_o(&t, 0), 4, (int32_t[]){0, 0, 7, 0}));
        tg_free(&t);
    }
    /* float scalars */
    tg t;
    tg_init(&t, "concat", 15);
    tg_param(&t, "values", tg_scalar_f(&t, "a", 1.5f));
    tg_param(&t, "values", tg_f32(&t, "b", 0, NULL, (float[]){-2.0f}, false));
    tg_param(&t, "axis", tg_scalar_i(&t, "axis", 0));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->rank == 1 && tg_o(&t, 0)->shape[0] == 2);
    CHECK(tg_of(&t, 0)[0] == 1.5f && tg_of(&t, 0)[1] == -2.0f);
    tg_free(&t);
    /* mixed ranks (scalar + [1]) are refused, as coremltools does */
    tg_init(&t, "concat", 18);
    tg_param(&t, "values", scalar_i32(&t, "a", 1, false));
    tg_param(&t, "values", tg_i32s(&t, "b", 1, (int32_t[]){2}));
    tg_param(&t, "axis", tg_scalar_i(&t, "axis", 0));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    CHECK(strstr(t.err.msg, "test_op") != NULL);
    tg_free(&t);
    /* coremltools does not check the axis of rank-0 values */
    tg_init(&t, "concat", 18);
    tg_param(&t, "values", scalar_i32(&t, "a", 1, false));
    tg_param(&t, "values", scalar_i32(&t, "b", 2, false));
    tg_param(&t, "axis", tg_scalar_i(&t, "axis", 1));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(i32_is(tg_o(&t, 0), 2, (int32_t[]){1, 2}));
    tg_free(&t);
    /* rank-1 values keep the axis check */
    tg_init(&t, "concat", 18);
    tg_param(&t, "values", tg_i32s(&t, "a", 1, (int32_t[]){1}));
    tg_param(&t, "values", tg_i32s(&t, "b", 1, (int32_t[]){2}));
    tg_param(&t, "axis", tg_scalar_i(&t, "axis", 1));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_INVALID_ARG);
    tg_free(&t);
}

static void test_stack(void) {
    tg t;
    tg_init(&t, "stack", 18);
    tg_param(&t, "values", scalar_i32(&t, "a", 3, false));
    tg_param(&t, "values", scalar_i32(&t, "b", -4, true));
    tg_param(&t, "axis", tg_scalar_i(&t, "axis", 0));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->rank == 1 && i32_is(tg_o(&t, 0), 2, (int32_t[]){3, -4}));
    tg_free(&t);
}

static void test_gather(void) {
    float x[12];
    for (int i = 0; i < 12; i++) x[i] = (float)i;
    /* x [4, 3], scalar index 2 on axis 0 -> [3]; on axis 1 -> [4] */
    for (int axis = 0; axis < 2; axis++) {
        tg t;
        tg_init(&t, "gather", 17);
        tg_param(&t, "x", tg_f32(&t, "x", 2, (int64_t[]){4, 3}, x, false));
        tg_param(&t, "indices", scalar_i32(&t, "i", -2, false));
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", axis));
        cml_status st = go(&t, 1);
        CHECK_MSG(st == CML_OK, "gather scalar index: %s", t.err.msg);
        int64_t want = axis ? 4 : 3;
        CHECK(tg_shape_is(tg_o(&t, 0), 1, &want));
        for (int64_t i = 0; st == CML_OK && i < want; i++)
            CHECK(tg_of(&t, 0)[i] == (axis ? x[i * 3 + 1] : x[2 * 3 + i]));
        tg_free(&t);
    }
    /* x [4], scalar index -> rank 0; out of range at run -> clean error */
    tg t;
    tg_init(&t, "gather", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 1, (int64_t[]){4}, x, false));
    cml_mil_vid iv = scalar_i32(&t, "i", 3, false);
    tg_param(&t, "indices", iv);
    tg_param(&t, "axis", tg_scalar_i(&t, "axis", 0));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->rank == 0 && tg_of(&t, 0)[0] == 3.0f);
    *(int32_t *)tg_v(&t, iv)->data = 4;
    CHECK(tg_run(&t) == CML_ERR_INVALID_ARG || tg_run(&t) == CML_ERR_SHAPE);
    tg_free(&t);
}

static void test_reshape_expand_squeeze(void) {
    /* scalar -> [1, 1] */
    tg t;
    tg_init(&t, "reshape", 18);
    tg_param(&t, "x", tg_f32(&t, "x", 0, NULL, (float[]){5.0f}, false));
    tg_param(&t, "shape", tg_i32s(&t, "s", 2, (int32_t[]){1, 1}));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->rank == 2 && tg_of(&t, 0)[0] == 5.0f);
    tg_free(&t);
    /* [1] -> shape [] -> rank 0 */
    tg_init(&t, "reshape", 18);
    tg_param(&t, "x", tg_f32(&t, "x", 1, (int64_t[]){1}, (float[]){6.0f}, false));
    tg_param(&t, "shape", tg_value(&t, "s", CML_DTYPE_INT32, false, 1, (int64_t[]){0}, NULL, true));
    cml_status st = go(&t, 1);
    CHECK_MSG(st == CML_OK, "reshape to scalar: %s", t.err.msg);
    CHECK(tg_o(&t, 0)->rank == 0 && st == CML_OK && tg_of(&t, 0)[0] == 6.0f);
    tg_free(&t);
    /* expand_dims(scalar, [0, -1]) -> [1, 1] */
    tg_init(&t, "expand_dims", 18);
    tg_param(&t, "x", scalar_i32(&t, "x", 9, false));
    tg_param(&t, "axes", tg_i32s(&t, "axes", 2, (int32_t[]){0, -1}));
    CHECK(go(&t, 1) == CML_OK);
    int64_t one1[2] = {1, 1};
    CHECK(tg_shape_is(tg_o(&t, 0), 2, one1) && i32_is(tg_o(&t, 0), 1, (int32_t[]){9}));
    tg_free(&t);
    /* squeeze [1, 1] (no axes) and [1] (axes [0]) -> rank 0 */
    for (int k = 0; k < 2; k++) {
        tg_init(&t, "squeeze", 18);
        tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_INT32, false, 2 - k, one1, (int32_t[]){11}, false));
        if (k) tg_param(&t, "axes", tg_i32s(&t, "axes", 1, (int32_t[]){-1}));
        CHECK(go(&t, 1) == CML_OK);
        CHECK(tg_o(&t, 0)->rank == 0 && i32_is(tg_o(&t, 0), 1, (int32_t[]){11}));
        tg_free(&t);
    }
}

static void test_reduce_fill_cast(void) {
    /* reduce_sum([3], axes [0]) -> rank 0; reduce_max(scalar) -> scalar */
    tg t;
    tg_init(&t, "reduce_sum", 18);
    tg_param(&t, "x", tg_f32(&t, "x", 1, (int64_t[]){3}, (float[]){1, 2, 4}, false));
    tg_param(&t, "axes", tg_i32s(&t, "axes", 1, (int32_t[]){0}));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->rank == 0 && tg_of(&t, 0)[0] == 7.0f);
    tg_free(&t);
    tg_init(&t, "reduce_max", 18);
    tg_param(&t, "x", tg_f32(&t, "x", 0, NULL, (float[]){-3}, false));
    cml_status st = go(&t, 1);
    CHECK_MSG(st == CML_OK, "reduce of a scalar: %s", t.err.msg);
    CHECK(st == CML_OK && tg_o(&t, 0)->rank == 0 && tg_of(&t, 0)[0] == -3.0f);
    tg_free(&t);
    /* fill(shape = [], value) -> rank 0 */
    tg_init(&t, "fill", 18);
    tg_param(&t, "shape", tg_value(&t, "s", CML_DTYPE_INT32, false, 1, (int64_t[]){0}, NULL, true));
    tg_param(&t, "value", tg_scalar_f(&t, "v", 2.5f));
    st = go(&t, 1);
    CHECK_MSG(st == CML_OK, "fill scalar: %s", t.err.msg);
    CHECK(st == CML_OK && tg_o(&t, 0)->rank == 0 && tg_of(&t, 0)[0] == 2.5f);
    tg_free(&t);
    /* cast(scalar fp32 -> int32) truncates */
    tg_init(&t, "cast", 18);
    tg_param(&t, "x", tg_f32(&t, "x", 0, NULL, (float[]){-2.75f}, false));
    tg_param(&t, "dtype", tg_str(&t, "d", "int32"));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->rank == 0 && i32_is(tg_o(&t, 0), 1, (int32_t[]){-2}));
    tg_free(&t);
}

static void test_elementwise_select(void) {
    /* scalar + scalar -> scalar; scalar * [3] -> [3] */
    tg t;
    tg_init(&t, "add", 18);
    tg_param(&t, "x", scalar_i32(&t, "a", 5, false));
    tg_param(&t, "y", scalar_i32(&t, "b", -7, false));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->rank == 0 && i32_is(tg_o(&t, 0), 1, (int32_t[]){-2}));
    tg_free(&t);
    tg_init(&t, "mul", 18);
    tg_param(&t, "x", tg_f32(&t, "a", 0, NULL, (float[]){2}, false));
    tg_param(&t, "y", tg_f32(&t, "b", 1, (int64_t[]){3}, (float[]){1, 2, 3}, false));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->rank == 1 && tg_of(&t, 0)[2] == 6.0f);
    tg_free(&t);
    /* select(scalar cond, scalar a, [2] b) */
    tg_init(&t, "select", 18);
    uint8_t c = 1;
    tg_param(&t, "cond", tg_value(&t, "c", CML_DTYPE_BOOL, false, 0, NULL, &c, false));
    tg_param(&t, "a", tg_f32(&t, "a", 0, NULL, (float[]){4}, false));
    tg_param(&t, "b", tg_f32(&t, "b", 1, (int64_t[]){2}, (float[]){8, 9}, false));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->rank == 1 && tg_of(&t, 0)[0] == 4.0f && tg_of(&t, 0)[1] == 4.0f);
    tg_free(&t);
}

static void test_slice_shape(void) {
    /* slice_by_index([5], begin [3], end [4], squeeze_mask [1]) -> rank 0 */
    tg t;
    tg_init(&t, "slice_by_index", 18);
    tg_param(&t, "x", tg_f32(&t, "x", 1, (int64_t[]){5}, (float[]){0, 1, 2, 3, 4}, false));
    tg_param(&t, "begin", tg_i32s(&t, "b", 1, (int32_t[]){3}));
    tg_param(&t, "end", tg_i32s(&t, "e", 1, (int32_t[]){4}));
    tg_param(&t, "squeeze_mask", tg_bools(&t, "sq", 1, (uint8_t[]){1}));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->rank == 0 && tg_of(&t, 0)[0] == 3.0f);
    tg_free(&t);
    /* shape(scalar) -> int32 [0] */
    tg_init(&t, "shape", 18);
    tg_param(&t, "x", tg_f32(&t, "x", 0, NULL, (float[]){1}, false));
    cml_status st = go(&t, 1);
    CHECK_MSG(st == CML_OK, "shape of scalar: %s", t.err.msg);
    CHECK(tg_o(&t, 0)->rank == 1 && tg_o(&t, 0)->shape[0] == 0);
    tg_free(&t);
}

static void test_refusals(void) {
    /* tile of a scalar: coremltools needs len(reps) == rank >= 1 */
    tg t;
    tg_init(&t, "tile", 18);
    tg_param(&t, "x", tg_f32(&t, "x", 0, NULL, (float[]){1}, false));
    tg_param(&t, "reps", tg_value(&t, "r", CML_DTYPE_INT32, false, 1, (int64_t[]){0}, NULL, true));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) != CML_OK);
    tg_free(&t);
    /* tile: coremltools refuses reps <= 0 */
    tg_init(&t, "tile", 18);
    tg_param(&t, "x", tg_f32(&t, "x", 1, (int64_t[]){2}, (float[]){1, 2}, false));
    tg_param(&t, "reps", tg_i32s(&t, "r", 1, (int32_t[]){0}));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_INVALID_ARG && strstr(t.err.msg, "reps"));
    tg_free(&t);
    /* range_1d: start, end and step must share a dtype; scalars only */
    for (int k = 0; k < 2; k++) {
        tg_init(&t, "range_1d", 18);
        if (k) tg_param(&t, "end", tg_i32s(&t, "e", 2, (int32_t[]){4, 5}));
        else tg_param(&t, "end", tg_scalar_f(&t, "e", 4));
        tg_param(&t, "start", tg_scalar_i(&t, "s", 0));
        tg_param(&t, "step", tg_scalar_i(&t, "st", 1));
        tg_out(&t, 1);
        CHECK(tg_infer(&t) == (k ? CML_ERR_SHAPE : CML_ERR_UNSUPPORTED));
        tg_free(&t);
    }
    /* slice_update with a rank-0 update is refused at compile time */
    tg_init(&t, "slice_update", 18);
    tg_param(&t, "x", tg_f32(&t, "x", 1, (int64_t[]){4}, NULL, false));
    tg_param(&t, "update", tg_f32(&t, "u", 0, NULL, (float[]){1}, false));
    tg_param(&t, "begin", tg_i32s(&t, "b", 1, (int32_t[]){1}));
    tg_param(&t, "end", tg_i32s(&t, "e", 1, (int32_t[]){2}));
    tg_param(&t, "squeeze_mask", tg_bools(&t, "sq", 1, (uint8_t[]){1}));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    CHECK(strstr(t.err.msg, "update") != NULL);
    tg_free(&t);
    /* slice_update whose update does not match the const slice shape */
    tg_init(&t, "slice_update", 18);
    tg_param(&t, "x", tg_f32(&t, "x", 2, (int64_t[]){4, 3}, NULL, false));
    tg_param(&t, "update", tg_f32(&t, "u", 2, (int64_t[]){1, 2}, NULL, false));
    tg_param(&t, "begin", tg_i32s(&t, "b", 2, (int32_t[]){1, 0}));
    tg_param(&t, "end", tg_i32s(&t, "e", 2, (int32_t[]){2, 3}));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    tg_free(&t);
}

/* The KV-cache write coremltools emits for a stateful LLM:
 *   p = squeeze(pos); begin = concat((0, 0, p, 0)); end = concat((1, 2, p + 1, 4))
 *   cache = slice_update(read_state(k), x, begin, end); write_state(k, cache)
 * with rank-0 concat values. Runs three steps and checks the cache. */
static void add_scalar_const(mb_block *b, const char *name, int32_t v) {
    mb_const(b, name, mb_val_ints(23, 0, NULL, &v, 1));
}

static mb_function *kv_program(void) {
    enum { I32 = 23, F32 = 11 };
    static const int64_t cache[4] = {1, 2, 5, 4}, step[4] = {1, 2, 1, 4}, one[1] = {1};
    mb_block *b = mb_block_new();
    add_scalar_const(b, "zero", 0);
    add_scalar_const(b, "one_s", 1);
    add_scalar_const(b, "two_s", 2);
    add_scalar_const(b, "four_s", 4);
    add_scalar_const(b, "axis0", 0);
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
    op = mb_op_new(b, "read_state", "kc");
    mb_in(op, "input", "k");
    mb_out(op, "kc", mb_tensor_type(F32, 4, cache));
    op = mb_op_new(b, "slice_update", "kn");
    mb_in(op, "x", "kc");
    mb_in(op, "update", "x");
    mb_in(op, "begin", "begin");
    mb_in(op, "end", "end");
    mb_out(op, "kn", mb_tensor_type(F32, 4, cache));
    op = mb_op_new(b, "write_state", "kw");
    mb_in(op, "input", "k");
    mb_in(op, "data", "kn");
    /* the attention read: kr = kn[:, :, :p + 1, :] (dynamic, bounded by the cache) */
    mb_const(b, "zeros4", mb_val_ints(I32, 1, (int64_t[]){4}, (int32_t[]){0, 0, 0, 0}, 4));
    op = mb_op_new(b, "slice_by_index", "kr");
    mb_in(op, "x", "kn");
    mb_in(op, "begin", "zeros4");
    mb_in(op, "end", "end");
    mb_out(op, "kr", mb_tensor_type(F32, 4, (int64_t[]){1, 2, -1, 4}));
    mb_block_out(b, "kn");
    mb_block_out(b, "kr");
    mb_function *fn = mb_function_new("CoreML8", b);
    mb_fn_in(fn, "x", mb_tensor_type(F32, 4, step));
    mb_fn_in(fn, "pos", mb_tensor_type(I32, 1, one));
    mb_fn_in(fn, "k", mb_state_type(mb_tensor_type(F32, 4, cache)));
    return fn;
}

static void test_kv_cache_program(void) {
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = cml_mil_compile(kv_program(), NULL, NULL, 0, NULL, &g, &err);
    CHECK_MSG(st == CML_OK, "kv program: %s", err.msg);
    if (st != CML_OK) {
        mb_free_all();
        return;
    }
    cml_mil_value *x = &g.values[cml_mil_find_input(&g, "x")];
    cml_mil_value *pos = &g.values[cml_mil_find_input(&g, "pos")];
    const cml_mil_value *kn = &g.values[g.main.outputs[0]];
    int32_t steps[3] = {0, 3, 1};
    float want[2 * 5 * 4] = {0};
    for (int s = 0; s < 3; s++) {
        for (int i = 0; i < 8; i++) ((float *)x->data)[i] = (float)(s * 100 + i + 1);
        for (int h = 0; h < 2; h++) /* naive reference: cache[0, h, p, :] = x[0, h, 0, :] */
            for (int d = 0; d < 4; d++) want[(h * 5 + steps[s]) * 4 + d] = (float)(s * 100 + h * 4 + d + 1);
        *(int32_t *)pos->data = steps[s];
        st = cml_mil_run(&g, NULL, &err);
        CHECK_MSG(st == CML_OK, "kv step %d: %s", s, err.msg);
        CHECK(st == CML_OK && kn->rank == 4 && memcmp(kn->data, want, sizeof want) == 0);
        const cml_mil_value *kr = &g.values[g.main.outputs[1]];
        CHECK(st == CML_OK && kr->rank == 4 && kr->shape[2] == steps[s] + 1);
        for (int h = 0; st == CML_OK && h < 2; h++) /* naive: the first p + 1 rows of each head */
            CHECK(memcmp((const float *)kr->data + h * (steps[s] + 1) * 4, want + h * 5 * 4,
                         sizeof(float) * (size_t)(steps[s] + 1) * 4) == 0);
    }
    /* a position past the cache is a clean run-time error */
    *(int32_t *)pos->data = 5;
    CHECK(cml_mil_run(&g, NULL, &err) == CML_ERR_SHAPE);
    CHECK(strstr(err.msg, "kn") != NULL);
    cml_mil_graph_free(&g);
    mb_free_all();
}

/* More ops whose coremltools type inference produces or takes rank 0:
 * gather_nd to scalars, one_hot of a scalar index, reduce_argmax to a
 * scalar, transpose / fill_like of a scalar, matmul of two vectors. */
static void test_more_ops(void) {
    float x6[6] = {0, 1, 2, 3, 4, 5};
    tg t;
    /* gather_nd(x [2, 3], indices [2]) -> rank 0 */
    tg_init(&t, "gather_nd", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 2, (int64_t[]){2, 3}, x6, false));
    tg_param(&t, "indices", tg_i32s(&t, "i", 2, (int32_t[]){1, 2}));
    cml_status st = go(&t, 1);
    CHECK_MSG(st == CML_OK, "gather_nd: %s", t.err.msg);
    CHECK(st == CML_OK && tg_o(&t, 0)->rank == 0 && tg_of(&t, 0)[0] == 5.0f);
    tg_free(&t);
    /* one_hot(scalar 2, size 4) -> [4] */
    tg_init(&t, "one_hot", 17);
    tg_param(&t, "indices", scalar_i32(&t, "i", 2, false));
    tg_param(&t, "one_hot_vector_size", tg_scalar_i(&t, "n", 4));
    st = go(&t, 1);
    CHECK_MSG(st == CML_OK, "one_hot: %s", t.err.msg);
    CHECK(st == CML_OK && tg_o(&t, 0)->rank == 1 && tg_o(&t, 0)->shape[0] == 4);
    CHECK(st == CML_OK && cml_mil_get_f64(tg_o(&t, 0), 2) == 1 && cml_mil_get_f64(tg_o(&t, 0), 1) == 0);
    tg_free(&t);
    /* reduce_argmax([4], axis 0) -> rank-0 int32 */
    tg_init(&t, "reduce_argmax", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 1, (int64_t[]){4}, (float[]){1, 9, 3, 2}, false));
    tg_param(&t, "axis", tg_scalar_i(&t, "a", 0));
    st = go(&t, 1);
    CHECK_MSG(st == CML_OK, "reduce_argmax: %s", t.err.msg);
    CHECK(st == CML_OK && tg_o(&t, 0)->rank == 0 && cml_mil_get_i64(tg_o(&t, 0), 0) == 1);
    tg_free(&t);
    /* transpose(scalar, perm []) -> scalar */
    tg_init(&t, "transpose", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 0, NULL, (float[]){4}, false));
    tg_param(&t, "perm", tg_value(&t, "p", CML_DTYPE_INT32, false, 1, (int64_t[]){0}, NULL, true));
    st = go(&t, 1);
    CHECK_MSG(st == CML_OK, "transpose: %s", t.err.msg);
    CHECK(st == CML_OK && tg_o(&t, 0)->rank == 0 && tg_of(&t, 0)[0] == 4.0f);
    tg_free(&t);
    /* fill_like(scalar ref) -> scalar */
    tg_init(&t, "fill_like", 17);
    tg_param(&t, "ref_tensor", tg_f32(&t, "r", 0, NULL, (float[]){4}, false));
    tg_param(&t, "value", tg_scalar_f(&t, "v", 1.5f));
    st = go(&t, 1);
    CHECK(st == CML_OK && tg_o(&t, 0)->rank == 0 && tg_of(&t, 0)[0] == 1.5f);
    tg_free(&t);
    /* matmul([3], [3]) -> rank 0 (numpy promotion, both dims dropped) */
    tg_init(&t, "matmul", 17);
    tg_param(&t, "x", tg_f32(&t, "x", 1, (int64_t[]){3}, (float[]){1, 2, 3}, false));
    tg_param(&t, "y", tg_f32(&t, "y", 1, (int64_t[]){3}, (float[]){4, 5, 6}, false));
    st = go(&t, 1);
    CHECK_MSG(st == CML_OK, "matmul: %s", t.err.msg);
    CHECK(st == CML_OK && tg_o(&t, 0)->rank == 0 && tg_of(&t, 0)[0] == 32.0f);
    tg_free(&t);
}

int main(void) {
    test_more_ops();
    test_kv_cache_program();
    test_concat();
    test_stack();
    test_gather();
    test_reshape_expand_squeeze();
    test_reduce_fill_cast();
    test_elementwise_select();
    test_slice_shape();
    test_refusals();
    TEST_MAIN_END();
}
