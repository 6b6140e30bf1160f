/* The ML Program compiler, planner and executor on small programs built in
 * the test: const decoding, unsupported-op reporting, constant folding,
 * fp16 rounding, memory planning, states, cond and while_loop. */
#include <string.h>

#include "core/fp16.h"
#include "harness.h"
#include "kernels/kernels.h"
#include "mil/graph.h"
#include "unit/mil_builder.h"

enum { F16 = 10, F32 = 11, I32 = 23, I16 = 22, U16 = 32, I8 = 21, BOOLT = 1 };

static const int64_t D2[] = {2}, D3[] = {3}, D4[] = {4};

static cml_mil_value *find(cml_mil_graph *g, const char *name) {
    for (uint32_t i = 0; i < g->nvalues; i++)
        if (strcmp(g->values[i].name, name) == 0) return &g->values[i];
    return NULL;
}

static cml_status compile(mb_function *fn, cml_mil_graph *g, cml_error *err) {
    return cml_mil_compile(fn, NULL, NULL, 0, NULL, g, err);
}

static void add_string_const(mb_block *b, const char *name, const char *s) {
    mb_const(b, name, mb_val_str(s));
}

/* out = op(x) with a single parameter x. */
static mb_op *unary(mb_block *b, const char *type, const char *x, const char *out, mb_vtype *t) {
    mb_op *op = mb_op_new(b, type, out);
    mb_in(op, "x", x);
    mb_out(op, out, t);
    return op;
}

static mb_op *cast(mb_block *b, const char *x, const char *dtype_const, const char *out, int dt,
                   int rank, const int64_t *dims) {
    mb_op *op = mb_op_new(b, "cast", out);
    mb_in(op, "x", x);
    mb_in(op, "dtype", dtype_const);
    mb_out(op, out, mb_tensor_type(dt, rank, dims));
    return op;
}

static void test_consts(void) {
    mb_block *b = mb_block_new();
    const float f[] = {1.0f, 2.5f, -3.0f};
    mb_const(b, "c_f32", mb_val_floats(1, D3, f, 3));
    const uint16_t h[] = {cml_fp32_to_fp16(1.5f), cml_fp32_to_fp16(0.1f)};
    mb_const(b, "c_f16", mb_val_bytes(F16, 1, D2, h, sizeof h));
    const int32_t i32[] = {7, -8};
    mb_const(b, "c_i32", mb_val_ints(I32, 1, D2, i32, 2));
    const int32_t i16[] = {-5, 300};
    mb_const(b, "c_i16", mb_val_ints(I16, 1, D2, i16, 2));
    const int32_t u16[] = {65535, 1};
    mb_const(b, "c_u16", mb_val_ints(U16, 1, D2, u16, 2));
    const int8_t i8[] = {-128, 127, 3, 0};
    mb_const(b, "c_i8", mb_val_bytes(I8, 1, D4, i8, 4));
    add_string_const(b, "c_str", "valid");
    mb_const(b, "c_bool", mb_val_bool(1));
    mb_block_out(b, "c_f32");
    mb_function *fn = mb_function_new("CoreML5", b);
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = compile(fn, &g, &err);
    CHECK_MSG(st == CML_OK, "%s", err.msg);
    if (st != CML_OK) return;
    CHECK(g.opset == 15);
    cml_mil_value *v = find(&g, "c_f32");
    CHECK(v && v->is_const && v->dtype == CML_DTYPE_FLOAT32 && !v->fp16 && v->rank == 1 &&
          v->shape[0] == 3 && ((float *)v->data)[1] == 2.5f);
    v = find(&g, "c_f16");
    CHECK(v && v->is_const && v->dtype == CML_DTYPE_FLOAT32 && v->fp16);
    CHECK(v && ((float *)v->data)[0] == 1.5f &&
          ((float *)v->data)[1] == cml_fp16_to_fp32(cml_fp32_to_fp16(0.1f)));
    v = find(&g, "c_i32");
    CHECK(v && v->dtype == CML_DTYPE_INT32 && ((int32_t *)v->data)[1] == -8);
    v = find(&g, "c_i16");
    CHECK(v && v->dtype == CML_DTYPE_INT16 && ((int16_t *)v->data)[0] == -5 &&
          ((int16_t *)v->data)[1] == 300);
    v = find(&g, "c_u16");
    CHECK(v && v->dtype == CML_DTYPE_UINT16 && ((uint16_t *)v->data)[0] == 65535);
    v = find(&g, "c_i8");
    CHECK(v && v->dtype == CML_DTYPE_INT8 && ((int8_t *)v->data)[0] == -128 &&
          cml_mil_get_i64(v, 1) == 127);
    v = find(&g, "c_str");
    CHECK(v && v->kind == CML_MIL_KIND_STRING && v->is_const && strcmp(v->str, "valid") == 0);
    v = find(&g, "c_bool");
    CHECK(v && v->dtype == CML_DTYPE_BOOL && v->rank == 0 && ((uint8_t *)v->data)[0] == 1);
    CHECK(g.main.nnodes == 8 && g.main.nodes[0].folded);
    cml_mil_graph_free(&g);
}

static void test_unsupported(void) {
    mb_block *b = mb_block_new();
    mb_vtype *t = mb_tensor_type(F32, 1, D2);
    unary(b, "identity", "x", "a", t);
    unary(b, "frobnicate", "a", "b", t);
    unary(b, "wobble", "b", "c", t);
    unary(b, "frobnicate", "c", "d", t);
    mb_block_out(b, "d");
    mb_function *fn = mb_function_new("CoreML6", b);
    mb_fn_in(fn, "x", t);
    cml_mil_graph g;
    cml_error err = {0};
    CHECK(compile(fn, &g, &err) == CML_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(err.msg, "op 'b' (type frobnicate) at main block op #1 is not supported"),
              "%s", err.msg);
    CHECK_MSG(strstr(err.msg, "op 'c' (type wobble) at main block op #2 is not supported"), "%s",
              err.msg);
    CHECK_MSG(!strstr(err.msg, "op #3"), "%s", err.msg); /* each type named once */
    CHECK_MSG(strstr(err.msg, "3 unsupported ops of 2 types"), "%s", err.msg);

    /* an undefined value name is a corrupt program */
    mb_block *b2 = mb_block_new();
    unary(b2, "identity", "nope", "a", t);
    mb_block_out(b2, "a");
    mb_function *fn2 = mb_function_new("CoreML5", b2);
    CHECK(compile(fn2, &g, &err) == CML_ERR_CORRUPT);
    CHECK_MSG(strstr(err.msg, "undefined value 'nope'"), "%s", err.msg);

    /* unknown opset */
    mb_block *b3 = mb_block_new();
    mb_const(b3, "k", mb_val_floats(1, D2, (const float[]){1, 2}, 2));
    mb_block_out(b3, "k");
    CHECK(compile(mb_function_new("CoreML99", b3), &g, &err) == CML_ERR_UNSUPPORTED);
}

static void test_fold_and_fp16(void) {
    mb_block *b = mb_block_new();
    add_string_const(b, "fp16_s", "fp16");
    add_string_const(b, "fp32_s", "fp32");
    const float c[] = {1.0001f, 2.0f, 70000.0f};
    mb_const(b, "c", mb_val_floats(1, D3, c, 3));
    cast(b, "c", "fp16_s", "c16", F16, 1, D3);     /* folded */
    cast(b, "c16", "fp32_s", "c32", F32, 1, D3);   /* folded too */
    cast(b, "x", "fp16_s", "x16", F16, 1, D3);     /* runs */
    unary(b, "identity", "x16", "y16", mb_tensor_type(F16, 1, D3));
    mb_op *op = mb_op_new(b, "cast", "out");         /* dtype bound inline */
    mb_in(op, "x", "y16");
    mb_in_val(op, "dtype", mb_val_str("fp32"));
    mb_out(op, "out", mb_tensor_type(F32, 1, D3));
    mb_block_out(b, "out");
    mb_block_out(b, "c32");
    mb_function *fn = mb_function_new("CoreML5", b);
    mb_fn_in(fn, "x", mb_tensor_type(F32, 1, D3));
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = compile(fn, &g, &err);
    CHECK_MSG(st == CML_OK, "%s", err.msg);
    if (st != CML_OK) return;
    cml_mil_value *c16 = find(&g, "c16"), *c32 = find(&g, "c32"), *x16 = find(&g, "x16");
    CHECK(c16 && c16->is_const && c16->fp16 && !c16->needs_buffer);
    CHECK(c16 && ((float *)c16->data)[0] == cml_round_fp16(1.0001f) &&
          ((float *)c16->data)[0] != 1.0001f && ((float *)c16->data)[2] == INFINITY);
    CHECK(c32 && c32->is_const && !c32->fp16 && ((float *)c32->data)[0] == cml_round_fp16(1.0001f));
    CHECK(x16 && !x16->is_const && x16->fp16 && x16->needs_buffer);
    CHECK(g.main.nodes[3].folded && g.main.nodes[4].folded && !g.main.nodes[5].folded);

    cml_mil_value *x = &g.values[g.inputs[0]];
    const float xin[] = {1.0001f, -0.1f, 3.0f};
    memcpy(x->data, xin, sizeof xin);
    CHECK(cml_mil_run(&g, NULL, &err) == CML_OK);
    const float *out = find(&g, "out")->data;
    for (int i = 0; i < 3; i++) CHECK_NEAR(out[i], cml_round_fp16(xin[i]), 0);
    CHECK(out[0] != xin[0]);
    cml_mil_graph_free(&g);
}

/* fp16 weights (mil.h half, gemm_nr): a constant only linear weights read
 * stays fp16 (packed when x has more than 8 static rows), one another op
 * reads too or nobody reads is widened; results match a double reference
 * on the fp16 values. */
static mb_op *linear(mb_block *b, const char *x, const char *w, const char *out, int64_t m,
                     int64_t n) {
    mb_op *op = mb_op_new(b, "linear", out);
    mb_in(op, "x", x);
    mb_in(op, "weight", w);
    mb_out(op, out, mb_tensor_type(F16, 2, (const int64_t[]){m, n}));
    return op;
}

static void test_fp16_weights(void) {
    enum { M = 10, K = 4, N = 3, M2 = 2 };
    uint16_t wh[N * K];
    for (int i = 0; i < N * K; i++) wh[i] = cml_fp32_to_fp16(0.25f * (float)(i - 5) + 0.1f);
    const int64_t WS[] = {N, K};
    mb_block *b = mb_block_new();
    add_string_const(b, "fp16_s", "fp16");
    mb_const(b, "w_lin", mb_val_bytes(F16, 2, WS, wh, sizeof wh));
    mb_const(b, "w_small", mb_val_bytes(F16, 2, WS, wh, sizeof wh));
    mb_const(b, "w_both", mb_val_bytes(F16, 2, WS, wh, sizeof wh));
    mb_const(b, "w_unread", mb_val_bytes(F16, 2, WS, wh, sizeof wh));
    cast(b, "x", "fp16_s", "x16", F16, 2, (const int64_t[]){M, K});
    cast(b, "x2", "fp16_s", "x216", F16, 2, (const int64_t[]){M2, K});
    linear(b, "x16", "w_lin", "y", M, N);
    linear(b, "x216", "w_small", "y2", M2, N);
    linear(b, "x16", "w_both", "y3", M, N);
    unary(b, "identity", "w_both", "w_copy", mb_tensor_type(F16, 2, WS));
    mb_block_out(b, "y");
    mb_block_out(b, "y2");
    mb_block_out(b, "y3");
    mb_block_out(b, "w_copy");
    mb_function *fn = mb_function_new("CoreML5", b);
    mb_fn_in(fn, "x", mb_tensor_type(F32, 2, (const int64_t[]){M, K}));
    mb_fn_in(fn, "x2", mb_tensor_type(F32, 2, (const int64_t[]){M2, K}));
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = compile(fn, &g, &err);
    CHECK_MSG(st == CML_OK, "%s", err.msg);
    if (st != CML_OK) return;
    cml_mil_value *wl = find(&g, "w_lin"), *ws = find(&g, "w_small"), *wb = find(&g, "w_both");
    cml_mil_value *wu = find(&g, "w_unread");
    if (cml_k_gemm_takes_f16()) {
        CHECK(wl && wl->half && wl->gemm_nr > 0 && wl->fp16 && wl->dtype == CML_DTYPE_FLOAT32);
        CHECK(ws && ws->half && !ws->gemm_nr && ws->capacity == sizeof wh &&
              memcmp(ws->data, wh, sizeof wh) == 0);
    } else { /* kernels without fp16 B (NEON): widened at load like any fp16 constant */
        CHECK(wl && !wl->half && wl->gemm_nr > 0 && wl->fp16);
        CHECK(ws && !ws->half && ws->capacity == sizeof wh * 2 &&
              ((float *)ws->data)[3] == cml_fp16_to_fp32(wh[3]));
    }
    CHECK(wb && !wb->half && !wb->gemm_nr && wb->capacity == N * K * sizeof(float) &&
          ((float *)wb->data)[7] == cml_fp16_to_fp32(wh[7]));
    CHECK(wu && !wu->half && ((float *)wu->data)[1] == cml_fp16_to_fp32(wh[1]));
    float xin[M * K];
    for (int i = 0; i < M * K; i++) xin[i] = cml_fp16_to_fp32(cml_fp32_to_fp16(0.3f * (float)(i % 7) - 1.0f));
    memcpy(g.values[g.inputs[0]].data, xin, sizeof xin);
    memcpy(g.values[g.inputs[1]].data, xin, sizeof(float) * M2 * K);
    CHECK(cml_mil_run(&g, NULL, &err) == CML_OK);
    const char *outs[] = {"y", "y2", "y3"};
    for (int o = 0; o < 3; o++) {
        const float *y = find(&g, outs[o])->data;
        int bad = 0;
        for (int i = 0; i < (o == 1 ? M2 : M); i++)
            for (int j = 0; j < N; j++) {
                double acc = 0;
                for (int k = 0; k < K; k++) acc += (double)xin[i * K + k] * cml_fp16_to_fp32(wh[j * K + k]);
                if (y[i * N + j] != cml_round_fp16((float)acc)) bad++;
            }
        CHECK_MSG(bad == 0, "%s: %d values differ from the rounded reference", outs[o], bad);
    }
    cml_mil_graph_free(&g);
}

/* fp16 conv weights: a 2-D conv's weight stays fp16 (ops_conv.c through
 * cml_k_conv2d_w16_epi_f32), a 3-D conv's is widened; the 1x1 conv's result
 * matches a double reference on the fp16 values, rounded to fp16. */
static mb_op *conv(mb_block *b, const char *x, const char *w, const char *out, int rank,
                   const int64_t *dims) {
    mb_op *op = mb_op_new(b, "conv", out);
    mb_in(op, "x", x);
    mb_in(op, "weight", w);
    mb_out(op, out, mb_tensor_type(F16, rank, dims));
    return op;
}

static void test_fp16_conv_weights(void) {
    enum { CI = 16, CO = 12, HW = 9 };
    uint16_t wh[CO * CI], w3h[2];
    for (int i = 0; i < CO * CI; i++) wh[i] = cml_fp32_to_fp16(0.03f * (float)(i % 23 - 11) + 0.01f);
    w3h[0] = cml_fp32_to_fp16(0.5f), w3h[1] = cml_fp32_to_fp16(-1.25f);
    mb_block *b = mb_block_new();
    add_string_const(b, "fp16_s", "fp16");
    mb_const(b, "w2", mb_val_bytes(F16, 4, (const int64_t[]){CO, CI, 1, 1}, wh, sizeof wh));
    mb_const(b, "w3", mb_val_bytes(F16, 5, (const int64_t[]){2, 1, 1, 1, 1}, w3h, sizeof w3h));
    cast(b, "x", "fp16_s", "x16", F16, 4, (const int64_t[]){1, CI, 3, 3});
    cast(b, "v", "fp16_s", "v16", F16, 5, (const int64_t[]){1, 1, 2, 2, 2});
    conv(b, "x16", "w2", "y", 4, (const int64_t[]){1, CO, 3, 3});
    conv(b, "v16", "w3", "y3", 5, (const int64_t[]){1, 2, 2, 2, 2});
    mb_block_out(b, "y");
    mb_block_out(b, "y3");
    mb_function *fn = mb_function_new("CoreML5", b);
    mb_fn_in(fn, "x", mb_tensor_type(F32, 4, (const int64_t[]){1, CI, 3, 3}));
    mb_fn_in(fn, "v", mb_tensor_type(F32, 5, (const int64_t[]){1, 1, 2, 2, 2}));
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = compile(fn, &g, &err);
    CHECK_MSG(st == CML_OK, "%s", err.msg);
    if (st != CML_OK) return;
    cml_mil_value *w2 = find(&g, "w2"), *w3 = find(&g, "w3");
    CHECK(w2 && w2->half == cml_k_gemm_takes_f16());
    CHECK(w2 && (!w2->half || (w2->capacity == sizeof wh && memcmp(w2->data, wh, sizeof wh) == 0)));
    CHECK(w3 && !w3->half && ((float *)w3->data)[1] == -1.25f);
    float xin[CI * HW], vin[8];
    for (int i = 0; i < CI * HW; i++) xin[i] = cml_round_fp16(0.37f * (float)(i % 13) - 2.0f);
    for (int i = 0; i < 8; i++) vin[i] = (float)i;
    memcpy(g.values[g.inputs[0]].data, xin, sizeof xin);
    memcpy(g.values[g.inputs[1]].data, vin, sizeof vin);
    CHECK(cml_mil_run(&g, NULL, &err) == CML_OK);
    const float *y = find(&g, "y")->data, *y3 = find(&g, "y3")->data;
    int bad = 0;
    for (int o = 0; o < CO; o++)
        for (int j = 0; j < HW; j++) {
            double acc = 0;
            for (int c = 0; c < CI; c++) acc += (double)xin[c * HW + j] * cml_fp16_to_fp32(wh[o * CI + c]);
            if (y[o * HW + j] != cml_round_fp16((float)acc)) bad++;
        }
    CHECK_MSG(bad == 0, "%d conv values differ from the rounded reference", bad);
    CHECK(y3[3] == 1.5f && y3[8 + 3] == -3.75f);
    cml_mil_graph_free(&g);
}

static mb_op *add2(mb_block *b, const char *x, const char *y, const char *out, mb_vtype *t) {
    mb_op *op = mb_op_new(b, "add", out);
    mb_in(op, "x", x);
    mb_in(op, "y", y);
    mb_out(op, out, t);
    return op;
}

static int check_plan(const cml_mil_graph *g, size_t *sum);

/* conv -> add fusion (fuse.h cml_mil_fuse_residual) in an fp16 program:
 * add(conv(x), x) is folded into the conv (parameter `residual`), an add of
 * a conv result that another op also reads is not; the fused result equals
 * r16(r16(conv) + x) from a double reference, and the plan keeps the
 * residual apart from the output. */
static void test_residual_fusion(void) {
    enum { C = 16, HW = 9 };
    const int64_t XS[] = {1, C, 3, 3};
    uint16_t wh[C * C];
    for (int i = 0; i < C * C; i++) wh[i] = cml_fp32_to_fp16(0.05f * (float)(i % 19 - 9) + 0.02f);
    mb_block *b = mb_block_new();
    add_string_const(b, "fp16_s", "fp16");
    mb_const(b, "w", mb_val_bytes(F16, 4, (const int64_t[]){C, C, 1, 1}, wh, sizeof wh));
    cast(b, "x", "fp16_s", "x16", F16, 4, XS);
    conv(b, "x16", "w", "c1", 4, XS);
    add2(b, "c1", "x16", "s1", mb_tensor_type(F16, 4, XS));  /* fused */
    conv(b, "s1", "w", "c2", 4, XS);
    add2(b, "s1", "c2", "s2", mb_tensor_type(F16, 4, XS));   /* c2 read twice: kept */
    add2(b, "s2", "c2", "s3", mb_tensor_type(F16, 4, XS));
    mb_block_out(b, "s1");
    mb_block_out(b, "s3");
    mb_function *fn = mb_function_new("CoreML5", b);
    mb_fn_in(fn, "x", mb_tensor_type(F32, 4, XS));
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = compile(fn, &g, &err);
    CHECK_MSG(st == CML_OK, "%s", err.msg);
    if (st != CML_OK) return;
    int folded_adds = 0, residual_convs = 0;
    for (uint32_t i = 0; i < g.main.nnodes; i++) {
        const cml_mil_node *n = &g.main.nodes[i];
        folded_adds += n->folded && strcmp(n->type, "add") == 0;
        residual_convs += strcmp(n->type, "conv") == 0 && cml_mil_param_find(n, "residual");
    }
    CHECK(folded_adds == 1 && residual_convs == 1);
    size_t sum = 0;
    CHECK(check_plan(&g, &sum) == 0);
    float xin[C * HW];
    for (int i = 0; i < C * HW; i++) xin[i] = cml_round_fp16(0.41f * (float)(i % 11) - 2.0f);
    memcpy(g.values[g.inputs[0]].data, xin, sizeof xin);
    CHECK(cml_mil_run(&g, NULL, &err) == CML_OK);
    const float *s1 = find(&g, "s1")->data;
    int bad = 0;
    for (int o = 0; o < C; o++)
        for (int j = 0; j < HW; j++) {
            double acc = 0;
            for (int c = 0; c < C; c++) acc += (double)xin[c * HW + j] * cml_fp16_to_fp32(wh[o * C + c]);
            float want = cml_round_fp16(cml_round_fp16((float)acc) + xin[o * HW + j]);
            if (s1[o * HW + j] != want) bad++;
        }
    CHECK_MSG(bad == 0, "%d fused residual values differ from the reference", bad);
    cml_mil_graph_free(&g);
}

/* No two values whose lifetimes overlap share arena bytes. */
static int check_plan(const cml_mil_graph *g, size_t *sum) {
    int bad = 0;
    *sum = 0;
    for (uint32_t i = 0; i < g->nvalues; i++) {
        const cml_mil_value *a = &g->values[i];
        if (!a->needs_buffer || a->is_const) continue;
        *sum += a->capacity;
        if (a->arena_offset % 64) bad++;
        if ((uint8_t *)a->data != g->arena + a->arena_offset) bad++;
        if (a->arena_offset + a->capacity > g->arena_size) bad++;
        for (uint32_t k = i + 1; k < g->nvalues; k++) {
            const cml_mil_value *c = &g->values[k];
            if (!c->needs_buffer || c->is_const || !a->capacity || !c->capacity) continue;
            bool live = a->def_node <= c->last_use && c->def_node <= a->last_use;
            bool mem = a->arena_offset < c->arena_offset + c->capacity &&
                       c->arena_offset < a->arena_offset + a->capacity;
            if (live && mem) {
                fprintf(stderr, "overlap: %s [%d,%d]@%zu+%zu and %s [%d,%d]@%zu+%zu\n", a->name,
                        a->def_node, a->last_use, a->arena_offset, a->capacity, c->name,
                        c->def_node, c->last_use, c->arena_offset, c->capacity);
                bad++;
            }
        }
    }
    return bad;
}

static void test_plan(void) {
    mb_block *b = mb_block_new();
    static const int64_t big[] = {1000}, small[] = {10};
    mb_vtype *tb = mb_tensor_type(F32, 1, big), *ts = mb_tensor_type(F32, 1, small);
    add_string_const(b, "fp16_s", "fp16");
    /* a chain with a long-lived branch: a -> b -> c -> d, a also read at the end */
    unary(b, "identity", "x", "a", tb);
    unary(b, "identity", "a", "b1", tb);
    unary(b, "identity", "b1", "c1", tb);
    unary(b, "identity", "c1", "d1", tb);
    unary(b, "identity", "d1", "e1", tb);
    unary(b, "identity", "s", "s1", ts);
    unary(b, "identity", "s1", "s2", ts);
    cast(b, "e1", "fp16_s", "h", F16, 1, big);
    unary(b, "identity", "a", "z", tb);
    mb_block_out(b, "z");
    mb_block_out(b, "h");
    mb_block_out(b, "s2");
    mb_function *fn = mb_function_new("CoreML5", b);
    mb_fn_in(fn, "x", tb);
    mb_fn_in(fn, "s", ts);
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = compile(fn, &g, &err);
    CHECK_MSG(st == CML_OK, "%s", err.msg);
    if (st != CML_OK) return;
    size_t sum = 0;
    CHECK(check_plan(&g, &sum) == 0);
    CHECK_MSG(g.arena_size < sum, "arena %zu, values %zu", g.arena_size, sum);
    /* outputs live to the end; inputs from the start */
    CHECK(find(&g, "z")->last_use == (int32_t)g.main.nnodes);
    CHECK(find(&g, "x")->def_node == -1);
    /* and the program still computes the right thing */
    float *x = g.values[g.inputs[0]].data;
    for (int i = 0; i < 1000; i++) x[i] = (float)i + 0.25f;
    CHECK(cml_mil_run(&g, NULL, &err) == CML_OK);
    const float *z = find(&g, "z")->data, *h = find(&g, "h")->data;
    int wrong = 0;
    for (int i = 0; i < 1000; i++)
        wrong += z[i] != (float)i + 0.25f || h[i] != cml_round_fp16((float)i + 0.25f);
    CHECK(wrong == 0);
    cml_mil_graph_free(&g);
}

static void test_states(void) {
    mb_block *b = mb_block_new();
    add_string_const(b, "fp16_s", "fp16");
    mb_op *r = mb_op_new(b, "read_state", "prev");
    mb_in(r, "input", "acc");
    mb_out(r, "prev", mb_tensor_type(F16, 1, D2));
    cast(b, "x", "fp16_s", "x16", F16, 1, D2);
    mb_op *w = mb_op_new(b, "write_state", "acc_write_state");
    mb_in(w, "input", "acc");
    mb_in(w, "data", "x16");
    mb_block_out(b, "prev");
    mb_function *fn = mb_function_new("CoreML8", b);
    mb_fn_in(fn, "x", mb_tensor_type(F32, 1, D2));
    mb_fn_in(fn, "acc", mb_state_type(mb_tensor_type(F16, 1, D2)));
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = compile(fn, &g, &err);
    CHECK_MSG(st == CML_OK, "%s", err.msg);
    if (st != CML_OK) return;
    cml_mil_value *acc = find(&g, "acc");
    CHECK(acc && acc->kind == CML_MIL_KIND_STATE && acc->fp16 && !acc->needs_buffer);
    float *x = g.values[g.inputs[0]].data;
    const float *prev = find(&g, "prev")->data;
    x[0] = 1.0001f;
    x[1] = 2.0f;
    CHECK(cml_mil_run(&g, NULL, &err) == CML_OK);
    CHECK(prev[0] == 0 && prev[1] == 0); /* states start zeroed */
    x[0] = 5.0f;
    CHECK(cml_mil_run(&g, NULL, &err) == CML_OK);
    CHECK(prev[0] == cml_round_fp16(1.0001f) && prev[1] == 2.0f); /* persisted */
    cml_mil_reset_states(&g);
    CHECK(cml_mil_run(&g, NULL, &err) == CML_OK);
    CHECK(prev[0] == 0 && prev[1] == 0);
    cml_mil_graph_free(&g);
}

static void test_cond(void) {
    mb_vtype *t = mb_tensor_type(F32, 1, D2);
    mb_block *yes = mb_block_new(), *no = mb_block_new();
    unary(yes, "identity", "a", "ya", t);
    mb_block_out(yes, "ya");
    unary(no, "identity", "b", "nb", t);
    mb_block_out(no, "nb");
    mb_block *b = mb_block_new();
    mb_op *c = mb_op_new(b, "cond", "r");
    mb_in(c, "pred", "p");
    mb_op_block(c, yes);
    mb_op_block(c, no);
    mb_out(c, "r", t);
    mb_block_out(b, "r");
    mb_function *fn = mb_function_new("CoreML5", b);
    mb_fn_in(fn, "p", mb_tensor_type(BOOLT, 0, NULL));
    mb_fn_in(fn, "a", t);
    mb_fn_in(fn, "b", t);
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = compile(fn, &g, &err);
    CHECK_MSG(st == CML_OK, "%s", err.msg);
    if (st != CML_OK) return;
    size_t sum;
    CHECK(check_plan(&g, &sum) == 0);
    uint8_t *p = find(&g, "p")->data;
    float *a = find(&g, "a")->data, *bb = find(&g, "b")->data;
    a[0] = 1, a[1] = 2, bb[0] = 3, bb[1] = 4;
    const float *r = find(&g, "r")->data;
    *p = 1;
    CHECK(cml_mil_run(&g, NULL, &err) == CML_OK && r[0] == 1 && r[1] == 2);
    *p = 0;
    CHECK(cml_mil_run(&g, NULL, &err) == CML_OK && r[0] == 3 && r[1] == 4);
    cml_mil_graph_free(&g);
}

/* while i < 5: i += 1; acc = acc + acc   (needs the add and less ops) */
static void test_while_loop(void) {
    if (!cml_mil_op_find("add") || !cml_mil_op_find("less")) {
        printf("SKIP while_loop arithmetic: add/less are not registered yet\n");
        return;
    }
    mb_function *fn = mb_while_loop_program();
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = compile(fn, &g, &err);
    CHECK_MSG(st == CML_OK, "%s", err.msg);
    if (st != CML_OK) return;
    size_t sum;
    CHECK(check_plan(&g, &sum) == 0);
    float *x = find(&g, "x")->data;
    x[0] = 1.5f, x[1] = -2.0f;
    st = cml_mil_run(&g, NULL, &err);
    CHECK_MSG(st == CML_OK, "%s", err.msg);
    const float *acc = find(&g, "acc_final")->data;
    CHECK(acc[0] == 48.0f && acc[1] == -64.0f);
    CHECK(cml_mil_get_i64(find(&g, "i_final"), 0) == 5);
    cml_mil_graph_free(&g);
}

int main(void) {
    test_consts();
    test_unsupported();
    test_fold_and_fp16();
    test_fp16_weights();
    test_fp16_conv_weights();
    test_residual_fusion();
    test_plan();
    test_states();
    test_cond();
    test_while_loop();
    mb_free_all();
    TEST_MAIN_END();
}
