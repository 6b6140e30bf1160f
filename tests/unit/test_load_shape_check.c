/* Every kernel's argument shapes are checked at load, so a program that
 * loads also executes (method_check.c). Each case builds a one-kernel .pte
 * whose operands are planned tensors (all static unless said otherwise):
 * the consistent variant loads and computes the right numbers, the
 * inconsistent one fails at cml_method_create with a message naming the
 * chain, instruction, op and reason. Beyond the matmul family (checked in
 * prepare): an add whose operands do not broadcast, a cat over unequal
 * dims, a convolution whose weight has the wrong channel count, a view of
 * the wrong numel, a static output of the wrong shape, and a shape error
 * that only shows after an earlier kernel's output shape (propagation). A
 * dynamic operand is checked at run instead, as its planned shape is only a
 * bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cml.h"
#include "harness.h"
#include "pte_models.h"

#define MAXV 32

typedef struct prog {
    pb *b;
    pb_node *ev[MAXV];
    int32_t n;
    uint64_t arena;       /* bytes used in arena 1 */
    pb_node *instrs[4];
    int32_t ninstrs;
    pb_node *ops[4];
} prog;

static void prog_init(prog *p) {
    memset(p, 0, sizeof *p);
    p->b = pb_new(32);
    pb_segment_add(p->b, &kOne, 4); /* an unused constant segment, as in the AddModel */
}

static int32_t add_value(prog *p, pb_node *ev) {
    CHECK(p->n < MAXV);
    p->ev[p->n] = ev;
    return p->n++;
}

/* A planned fp32 tensor in arena 1; dyn = shape_dynamism (0 static). */
static int32_t tensor_dyn(prog *p, uint32_t rank, const int32_t *sizes, uint8_t dyn) {
    static const uint8_t order[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    uint64_t numel = 1;
    for (uint32_t d = 0; d < rank; d++) numel *= (uint64_t)sizes[d];
    pb_node *t = et_tensor(p->b, ST_FLOAT, rank, sizes, order, 0, 1, p->arena);
    if (dyn) pb_u8(t, 8, dyn);
    p->arena += (numel * 4 + 63) / 64 * 64;
    return add_value(p, et_evalue(p->b, T_TENSOR, t));
}
static int32_t tensor(prog *p, uint32_t rank, const int32_t *sizes) {
    return tensor_dyn(p, rank, sizes, 0);
}
#define T(p, ...) tensor(p, sizeof((int32_t[]){__VA_ARGS__}) / 4, (const int32_t[]){__VA_ARGS__})

static int32_t int_val(prog *p, int64_t v) { return add_value(p, et_int(p->b, v)); }

static int32_t bool_val(prog *p, bool v) {
    pb_node *t = pb_table(p->b);
    pb_u8(t, 0, v);
    return add_value(p, et_evalue(p->b, T_BOOL, t));
}

static int32_t none_val(prog *p) { return add_value(p, et_evalue(p->b, T_NULL, NULL)); }

/* An IntList of constants: each item its own Int value. */
static int32_t int_list(prog *p, uint32_t n, const int64_t *items) {
    int64_t idx[8];
    for (uint32_t i = 0; i < n; i++) idx[i] = int_val(p, items[i]);
    pb_node *t = pb_table(p->b);
    pb_ref(t, 0, pb_vec_i64(p->b, n, idx));
    return add_value(p, et_evalue(p->b, T_INT_LIST, t));
}
#define IL(p, ...) int_list(p, sizeof((int64_t[]){__VA_ARGS__}) / 8, (const int64_t[]){__VA_ARGS__})

static int32_t tensor_list(prog *p, uint32_t n, const int32_t *items) {
    pb_node *t = pb_table(p->b);
    pb_ref(t, 0, pb_vec_i32(p->b, n, items));
    return add_value(p, et_evalue(p->b, T_TENSOR_LIST, t));
}

/* Appends a kernel call of op "name"."overload" (one operator per call). */
static void call(prog *p, const char *name, const char *overload, uint32_t nargs,
                 const int32_t *args) {
    CHECK(p->ninstrs < 4);
    p->ops[p->ninstrs] = et_operator(p->b, name, overload);
    p->instrs[p->ninstrs] = et_call(p->b, I_KERNEL, p->ninstrs, nargs, args);
    p->ninstrs++;
}

/* forward(inputs...) -> output: the .pte bytes. */
static uint8_t *finish(prog *p, uint32_t ninputs, const int32_t *inputs, int32_t output,
                       size_t *size) {
    pb *b = p->b;
    pb_node *plan = pb_table(b);
    pb_ref(plan, 0, pb_str(b, "forward"));
    pb_ref(plan, 1, et_meta(b, "[1, {\"type\": \"builtins.tuple\"}]", "[1, {\"type\": null}]"));
    pb_ref(plan, 2, pb_tvec(b, (uint32_t)p->n, p->ev));
    pb_ref(plan, 3, pb_vec_i32(b, ninputs, inputs));
    pb_ref(plan, 4, pb_vec_i32(b, 1, &output));
    pb_ref(plan, 5, pb_tvec_of(b, 1, et_chain(b, pb_tvec(b, (uint32_t)p->ninstrs, p->instrs))));
    pb_ref(plan, 6, pb_tvec(b, (uint32_t)p->ninstrs, p->ops));
    pb_ref(plan, 7, pb_tvec(b, 0, NULL));
    pb_ref(plan, 8, pb_vec_i64(b, 2, (const int64_t[]){0, (int64_t)(p->arena ? p->arena : 64)}));
    pb_node *root = pb_table(b);
    pb_ref(root, 1, pb_tvec_of(b, 1, plan));
    pb_ref(root, 2, pb_tvec(b, 0, NULL));
    pb_ref(root, 3, pb_tvec(b, 0, NULL));
    pb_ref(root, 4, pb_tvec_of(b, 1, et_segment(b, 0, 4)));
    pb_ref(root, 5, et_subsegment(b, 0, 2, (const uint64_t[]){0, 0}));
    uint8_t *d = pb_finish(b, root, size);
    CHECK(d != NULL);
    pb_free(b);
    return d;
}

typedef struct loaded {
    uint8_t *bytes;
    cml_program *prog;
    cml_method *m;
    cml_status st;
    char msg[512];
} loaded;

/* Opens and creates forward; on failure msg holds the program's message. */
static void load(loaded *l, uint8_t *bytes, size_t size) {
    memset(l, 0, sizeof *l);
    l->bytes = bytes;
    l->st = cml_program_open_memory(bytes, size, NULL, &l->prog, l->msg, sizeof l->msg);
    if (l->st != CML_OK) return;
    l->st = cml_method_create(l->prog, NULL, NULL, &l->m);
    if (l->st != CML_OK) snprintf(l->msg, sizeof l->msg, "%s", cml_program_errmsg(l->prog));
}

static void unload(loaded *l) {
    cml_method_destroy(l->m);
    cml_program_close(l->prog);
    free(l->bytes);
}

/* Asserts a load failure whose message holds every one of the strings. */
static void expect_load_error(uint8_t *bytes, size_t size, cml_status want, const char *a,
                              const char *b, const char *c) {
    loaded l;
    load(&l, bytes, size);
    CHECK_MSG(l.st == want, "status %d, want %d: %s", (int)l.st, (int)want, l.msg);
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (parts[i]) CHECK_MSG(strstr(l.msg, parts[i]) != NULL, "'%s' not in: %s", parts[i], l.msg);
    unload(&l);
}

static void set_f32(cml_method *m, size_t i, int32_t rank, const int64_t *sizes, const float *d,
                    size_t n) {
    cml_tensor_view v = {CML_DTYPE_FLOAT32, rank, sizes, (void *)d, n * 4};
    CHECK_MSG(cml_method_set_input(m, i, &v) == CML_OK, "%s", cml_method_errmsg(m));
}

static const float *run_output(cml_method *m, size_t want_numel) {
    CHECK_MSG(cml_method_execute(m) == CML_OK, "%s", cml_method_errmsg(m));
    cml_tensor_view v;
    CHECK(cml_method_output(m, 0, &v) == CML_OK);
    CHECK(v.nbytes == want_numel * 4);
    return v.data;
}

/* ---- add.out: self [2, 3] + other [b] * alpha -------------------------------- */

static uint8_t *add_prog(int32_t b_len, const int32_t *out_sizes, size_t *size) {
    prog p;
    prog_init(&p);
    int32_t x = T(&p, 2, 3), y = tensor(&p, 1, &b_len), alpha = int_val(&p, 1);
    int32_t out = tensor(&p, 2, out_sizes);
    call(&p, "aten::add", "out", 5, (const int32_t[]){x, y, alpha, out, out});
    return finish(&p, 2, (const int32_t[]){x, y}, out, size);
}

static void test_add(void) {
    size_t n;
    loaded l;
    uint8_t *d0 = add_prog(3, (const int32_t[]){2, 3}, &n);
    load(&l, d0, n);
    CHECK_MSG(l.st == CML_OK, "%s", l.msg);
    if (l.st == CML_OK) {
        const float x[6] = {1, 2, 3, 4, 5, 6}, y[3] = {10, 20, 30};
        set_f32(l.m, 0, 2, (const int64_t[]){2, 3}, x, 6);
        set_f32(l.m, 1, 1, (const int64_t[]){3}, y, 3);
        const float *o = run_output(l.m, 6);
        for (int i = 0; i < 6; i++) CHECK_NEAR(o[i], x[i] + y[i % 3], 0);
    }
    unload(&l);
    /* [2, 3] + [4] does not broadcast */
    uint8_t *d = add_prog(4, (const int32_t[]){2, 3}, &n);
    expect_load_error(d, n, CML_ERR_SHAPE, "chain 0 instruction 0 (aten::add.out)", "[2, 3]", "[4]");
    /* a static out of the wrong shape: execute could not resize it */
    d = add_prog(3, (const int32_t[]){3, 2}, &n);
    expect_load_error(d, n, CML_ERR_SHAPE, "chain 0 instruction 0 (aten::add.out)",
                      "cannot resize static tensor [3, 2] to [2, 3]", NULL);
}

/* ---- cat.out: [2, 3] and [2, c] along dim ------------------------------------ */

static uint8_t *cat_prog(int32_t c, int64_t dim, const int32_t *out_sizes, size_t *size) {
    prog p;
    prog_init(&p);
    int32_t a = T(&p, 2, 3), b = T(&p, 2, c);
    int32_t list = tensor_list(&p, 2, (const int32_t[]){a, b}), d = int_val(&p, dim);
    int32_t out = tensor(&p, 2, out_sizes);
    call(&p, "aten::cat", "out", 4, (const int32_t[]){list, d, out, out});
    return finish(&p, 2, (const int32_t[]){a, b}, out, size);
}

static void test_cat(void) {
    size_t n;
    loaded l;
    uint8_t *d0 = cat_prog(4, 1, (const int32_t[]){2, 7}, &n);
    load(&l, d0, n);
    CHECK_MSG(l.st == CML_OK, "%s", l.msg);
    if (l.st == CML_OK) {
        float a[6], b[8], want[14];
        for (int i = 0; i < 6; i++) a[i] = (float)i;
        for (int i = 0; i < 8; i++) b[i] = (float)(100 + i);
        for (int r = 0; r < 2; r++)
            for (int k = 0; k < 7; k++) want[r * 7 + k] = k < 3 ? a[r * 3 + k] : b[r * 4 + k - 3];
        set_f32(l.m, 0, 2, (const int64_t[]){2, 3}, a, 6);
        set_f32(l.m, 1, 2, (const int64_t[]){2, 4}, b, 8);
        const float *o = run_output(l.m, 14);
        for (int i = 0; i < 14; i++) CHECK_NEAR(o[i], want[i], 0);
    }
    unload(&l);
    /* along dim 0, dim 1 differs (3 vs 4) */
    uint8_t *d = cat_prog(4, 0, (const int32_t[]){4, 3}, &n);
    expect_load_error(d, n, CML_ERR_SHAPE, "chain 0 instruction 0 (aten::cat.out)", NULL, NULL);
}

/* ---- convolution.out: input [1, 3, 4, 4], weight [2, cin, 3, 3] -------------- */

static uint8_t *conv_prog(int32_t cin, size_t *size) {
    prog p;
    prog_init(&p);
    int32_t x = T(&p, 1, 3, 4, 4), w = T(&p, 2, cin, 3, 3), bias = none_val(&p);
    int32_t stride = IL(&p, 1, 1), pad = IL(&p, 0, 0), dil = IL(&p, 1, 1);
    int32_t transposed = bool_val(&p, false), opad = IL(&p, 0, 0), groups = int_val(&p, 1);
    int32_t out = T(&p, 1, 2, 2, 2);
    call(&p, "aten::convolution", "out", 11,
         (const int32_t[]){x, w, bias, stride, pad, dil, transposed, opad, groups, out, out});
    return finish(&p, 2, (const int32_t[]){x, w}, out, size);
}

static void test_conv(void) {
    size_t n;
    loaded l;
    uint8_t *d0 = conv_prog(3, &n);
    load(&l, d0, n);
    CHECK_MSG(l.st == CML_OK, "%s", l.msg);
    if (l.st == CML_OK) {
        float x[48], w[54], want[8] = {0};
        for (int i = 0; i < 48; i++) x[i] = (float)(i % 7) - 3;
        for (int i = 0; i < 54; i++) w[i] = (float)(i % 5) * 0.5f - 1;
        for (int o = 0; o < 2; o++) /* naive reference */
            for (int oy = 0; oy < 2; oy++)
                for (int ox = 0; ox < 2; ox++)
                    for (int c = 0; c < 3; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++)
                                want[(o * 2 + oy) * 2 + ox] += x[(c * 4 + oy + ky) * 4 + ox + kx] *
                                                               w[((o * 3 + c) * 3 + ky) * 3 + kx];
        set_f32(l.m, 0, 4, (const int64_t[]){1, 3, 4, 4}, x, 48);
        set_f32(l.m, 1, 4, (const int64_t[]){2, 3, 3, 3}, w, 54);
        const float *o = run_output(l.m, 8);
        for (int i = 0; i < 8; i++) CHECK_NEAR(o[i], want[i], 1e-4);
    }
    unload(&l);
    uint8_t *d = conv_prog(2, &n); /* 2 weight channels for a 3-channel input */
    expect_load_error(d, n, CML_ERR_SHAPE, "chain 0 instruction 0 (aten::convolution.out)", NULL,
                      NULL);
}

/* ---- view_copy.out: [2, 3] viewed as size -------------------------------------- */

static uint8_t *view_prog(int64_t r, int64_t c, size_t *size) {
    prog p;
    prog_init(&p);
    int32_t x = T(&p, 2, 3), sz = IL(&p, r, c);
    int32_t out = tensor(&p, 2, (const int32_t[]){(int32_t)(r < 0 ? 6 / c : r), (int32_t)c});
    call(&p, "aten::view_copy", "out", 4, (const int32_t[]){x, sz, out, out});
    return finish(&p, 1, (const int32_t[]){x}, out, size);
}

static void test_view(void) {
    size_t n;
    loaded l;
    uint8_t *d0 = view_prog(-1, 2, &n);
    load(&l, d0, n); /* [-1, 2] -> [3, 2] */
    CHECK_MSG(l.st == CML_OK, "%s", l.msg);
    if (l.st == CML_OK) {
        const float x[6] = {1, 2, 3, 4, 5, 6};
        set_f32(l.m, 0, 2, (const int64_t[]){2, 3}, x, 6);
        const float *o = run_output(l.m, 6);
        for (int i = 0; i < 6; i++) CHECK_NEAR(o[i], x[i], 0);
    }
    unload(&l);
    uint8_t *d = view_prog(4, 2, &n); /* 6 elements viewed as [4, 2] */
    expect_load_error(d, n, CML_ERR_SHAPE, "chain 0 instruction 0 (aten::view_copy.out)", NULL,
                      NULL);
}

/* ---- propagation: mul.out [2, 3] x [2, 3] -> t; add.out t + [k] -------------- */

static uint8_t *chain_prog(int32_t k, size_t *size) {
    prog p;
    prog_init(&p);
    int32_t x = T(&p, 2, 3), y = tensor(&p, 1, &k), alpha = int_val(&p, 1);
    int32_t t = T(&p, 2, 3), out = T(&p, 2, 3);
    call(&p, "aten::mul", "out", 4, (const int32_t[]){x, x, t, t});
    call(&p, "aten::add", "out", 5, (const int32_t[]){t, y, alpha, out, out});
    return finish(&p, 2, (const int32_t[]){x, y}, out, size);
}

static void test_second_instruction(void) {
    size_t n;
    loaded l;
    uint8_t *d0 = chain_prog(3, &n);
    load(&l, d0, n);
    CHECK_MSG(l.st == CML_OK, "%s", l.msg);
    if (l.st == CML_OK) {
        const float x[6] = {1, 2, 3, 4, 5, 6}, y[3] = {-1, 0, 1};
        set_f32(l.m, 0, 2, (const int64_t[]){2, 3}, x, 6);
        set_f32(l.m, 1, 1, (const int64_t[]){3}, y, 3);
        const float *o = run_output(l.m, 6);
        for (int i = 0; i < 6; i++) CHECK_NEAR(o[i], x[i] * x[i] + y[i % 3], 0);
    }
    unload(&l);
    uint8_t *d = chain_prog(2, &n);
    expect_load_error(d, n, CML_ERR_SHAPE, "chain 0 instruction 1 (aten::add.out)", NULL, NULL);
}

/* ---- a dynamic operand: its planned shape is a bound, checked at run ---------- */

static void test_dynamic_checked_at_run(void) {
    prog p;
    prog_init(&p);
    int32_t x = T(&p, 2, 3), y = tensor_dyn(&p, 1, (const int32_t[]){4}, 1);
    int32_t alpha = int_val(&p, 1), out = T(&p, 2, 3);
    call(&p, "aten::add", "out", 5, (const int32_t[]){x, y, alpha, out, out});
    size_t n;
    loaded l;
    uint8_t *d0 = finish(&p, 2, (const int32_t[]){x, y}, out, &n);
    load(&l, d0, n);
    CHECK_MSG(l.st == CML_OK, "%s", l.msg);
    if (l.st == CML_OK) {
        const float x6[6] = {1, 2, 3, 4, 5, 6}, y3[4] = {1, 2, 3, 4};
        set_f32(l.m, 0, 2, (const int64_t[]){2, 3}, x6, 6);
        set_f32(l.m, 1, 1, (const int64_t[]){3}, y3, 3); /* within the bound: fine */
        const float *o = run_output(l.m, 6);
        for (int i = 0; i < 6; i++) CHECK_NEAR(o[i], x6[i] + y3[i % 3], 0);
        set_f32(l.m, 1, 1, (const int64_t[]){4}, y3, 4); /* the bound itself: fails at run */
        CHECK(cml_method_execute(l.m) == CML_ERR_SHAPE);
        CHECK(strstr(cml_method_errmsg(l.m), "aten::add.out") != NULL);
    }
    unload(&l);
}

int main(void) {
    test_add();
    test_cat();
    test_conv();
    test_view();
    test_second_instruction();
    test_dynamic_checked_at_run();
    TEST_MAIN_END();
}
