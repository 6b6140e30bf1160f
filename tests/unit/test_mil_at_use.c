/* Compressed weights decoded at use (mil/compressed.h): a constexpr weight
 * whose only reader is a matmul (as y, and as x), a conv_transpose, a conv
 * or an einsum is moved to just before its reader and decoded there on
 * every run, so only the compressed bytes stay resident. The program below
 * is compiled twice, with compressed weights kept (the default) and with
 * every constexpr folded at load (cml_mil_compressed_enable_for_testing
 * (false)); both must give the same bits, with and without a thread pool.
 * fp16 scales make the matmul y and conv weights fp16-rounded (the dense
 * path then reads them as fp16 kept half, the at-use path as fp32, so the
 * comparison also covers those kernel paths agreeing); the others are fp32.
 * The test checks that the at-use nodes sit right before their readers and
 * get arena space only for their own step, and that the folded path marks
 * none. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fp16.h"
#include "core/threadpool.h"
#include "harness.h"
#include "mil/compressed.h"
#include "mil/graph.h"
#include "unit/mil_builder.h"

enum { F16 = 10, F32 = 11, I32 = 23, I8 = 21, U8 = 27 };

static const int64_t XD[] = {2, 3, 24}, QD[] = {24, 40}, MD[] = {2, 3, 40};
static const int64_t LD[] = {5, 24}, LMD[] = {2, 5, 40};
static const int64_t ID[] = {1, 4, 6, 6}, TD[] = {4, 3, 3, 3}, TOD[] = {1, 3, 8, 8};
static const int64_t CD[] = {5, 3, 3, 3}, COD[] = {1, 5, 6, 6};
static const int64_t ED[] = {3, 2, 24}, EWD[] = {24, 1, 5}, EOD[] = {3, 2, 5};

static mb_value *int8s(int rank, const int64_t *dims, size_t n, int seed) {
    int8_t *q = mb_alloc(n);
    for (size_t i = 0; i < n; i++) q[i] = (int8_t)((int)((i * 37u + (unsigned)seed * 11u) % 255u) - 127);
    return mb_val_bytes(I8, rank, dims, q, n);
}

/* n scales: fp16 (then the constexpr's output is fp16) or fp32. */
static mb_value *scales(int64_t n, bool half) {
    float *f = mb_alloc((size_t)n * sizeof *f);
    for (int64_t i = 0; i < n; i++) f[i] = 0.0123f + 0.0007f * (float)i;
    if (!half) return mb_val_floats(1, &n, f, (size_t)n);
    uint16_t *h = mb_alloc((size_t)n * 2);
    for (int64_t i = 0; i < n; i++) h[i] = cml_fp32_to_fp16(f[i]);
    return mb_val_bytes(F16, 1, &n, h, (size_t)n * 2);
}

/* name = constexpr_affine_dequantize(int8 data of dims, a scale per axis
 * element, zero point 3): an fp16 tensor (seed odd) or fp32 (seed even).
 * MIL ops take one float type, so in this fp32 program an fp16 weight is
 * read only by the ops that accept fp16 weights (matmul y, conv). */
static void dequant(mb_block *b, const char *name, int rank, const int64_t *dims, int axis,
                    int seed) {
    bool half = seed % 2 == 1;
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    mb_op *op = mb_op_new(b, "constexpr_affine_dequantize", name);
    mb_attr(op, "quantized_data", int8s(rank, dims, n, seed));
    int8_t *zp = mb_alloc(1);
    zp[0] = 3;
    mb_attr(op, "zero_point", mb_val_bytes(I8, 0, NULL, zp, 1));
    mb_attr(op, "scale", scales(dims[axis], half));
    int32_t ax = axis;
    mb_attr(op, "axis", mb_val_ints(I32, 0, NULL, &ax, 1));
    mb_out(op, name, mb_tensor_type(half ? F16 : F32, rank, dims));
}

static void bools(mb_op *op, const char *p, int v) { mb_in_val(op, p, mb_val_bool(v)); }

static mb_function *program(void) {
    mb_block *b = mb_block_new();
    dequant(b, "wy", 2, QD, 1, 1);  /* matmul y [24, 40], per column */
    dequant(b, "wx", 2, LD, 0, 2);  /* matmul x [5, 24], per row */
    dequant(b, "wt", 4, TD, 0, 3);  /* conv_transpose weight [Cin 4, Cout 3, 3, 3] */
    dequant(b, "wc", 4, CD, 0, 5);  /* conv weight [5, 3, 3, 3] */
    dequant(b, "we", 3, EWD, 2, 6); /* einsum b [w 24, h 1, r 5] */
    mb_op *m = mb_op_new(b, "matmul", "m");
    mb_in(m, "x", "x");
    mb_in(m, "y", "wy");
    bools(m, "transpose_x", 0);
    bools(m, "transpose_y", 0);
    mb_out(m, "m", mb_tensor_type(F32, 3, MD));
    mb_op *l = mb_op_new(b, "matmul", "lm"); /* wx [5, 24] @ m16 [2, 24, 40] */
    mb_in(l, "x", "wx");
    mb_in(l, "y", "m16");
    bools(l, "transpose_x", 0);
    bools(l, "transpose_y", 0);
    mb_out(l, "lm", mb_tensor_type(F32, 3, LMD));
    mb_op *t = mb_op_new(b, "conv_transpose", "t");
    mb_in(t, "x", "img");
    mb_in(t, "weight", "wt");
    mb_in_val(t, "pad_type", mb_val_str("valid"));
    mb_out(t, "t", mb_tensor_type(F32, 4, TOD));
    mb_op *c = mb_op_new(b, "conv", "c");
    mb_in(c, "x", "t");
    mb_in(c, "weight", "wc");
    mb_in_val(c, "pad_type", mb_val_str("same"));
    mb_out(c, "c", mb_tensor_type(F32, 4, COD));
    mb_op *e = mb_op_new(b, "einsum", "e");
    mb_in(e, "values", "ein");
    mb_in(e, "values", "we");
    mb_in_val(e, "equation", mb_val_str("chw,whr->chr"));
    mb_out(e, "e", mb_tensor_type(F32, 3, EOD));
    mb_block_out(b, "m");
    mb_block_out(b, "lm");
    mb_block_out(b, "c");
    mb_block_out(b, "e");
    mb_function *fn = mb_function_new("CoreML8", b);
    mb_fn_in(fn, "x", mb_tensor_type(F32, 3, XD));
    mb_fn_in(fn, "m16", mb_tensor_type(F32, 3, (const int64_t[]){2, 24, 40}));
    mb_fn_in(fn, "img", mb_tensor_type(F32, 4, ID));
    mb_fn_in(fn, "ein", mb_tensor_type(F32, 3, ED));
    return fn;
}

static cml_mil_value *find(cml_mil_graph *g, const char *name) {
    for (uint32_t i = 0; i < g->nvalues; i++)
        if (strcmp(g->values[i].name, name) == 0) return &g->values[i];
    return NULL;
}

static void fill(cml_mil_value *v, int seed) {
    float *d = v->data;
    int64_t n = 1;
    for (int32_t i = 0; i < v->rank; i++) n *= v->shape[i];
    for (int64_t i = 0; i < n; i++) d[i] = (float)((int)((i * 29 + seed * 7) % 61) - 30) / 17.0f;
}

/* Compiles (compressed weights kept or not) and runs; outputs copied out. */
static int compile_run(bool keep, cml_threadpool *pool, float *out[4], size_t bytes[4],
                       uint32_t *at_use) {
    cml_mil_graph g;
    cml_error err = {0};
    cml_mil_compressed_enable_for_testing(keep);
    cml_status st = cml_mil_compile(program(), NULL, NULL, 0, NULL, &g, &err);
    cml_mil_compressed_enable_for_testing(true);
    CHECK_MSG(st == CML_OK, "compile (keep %d): %s", keep, err.msg);
    if (st != CML_OK) return 0;
    *at_use = 0;
    for (uint32_t i = 0; i < g.main.nnodes; i++) {
        const cml_mil_node *n = &g.main.nodes[i];
        if (n->def != &cml_mil_op_constexpr_at_use) continue;
        ++*at_use;
        /* right before its reader, which reads it; planned for one step */
        CHECK_MSG(i + 1 < g.main.nnodes && !g.main.nodes[i + 1].folded, "%s: not before its reader",
                  n->name);
        const cml_mil_value *w = &g.values[n->outputs[0]];
        CHECK_MSG(w->needs_buffer && !w->is_const && w->last_use == (int32_t)i + 1,
                  "%s: buffer %d const %d last use %d (node %u)", n->name, w->needs_buffer,
                  w->is_const, w->last_use, i);
    }
    fill(&g.values[g.inputs[0]], 1);
    fill(&g.values[g.inputs[1]], 2);
    fill(&g.values[g.inputs[2]], 3);
    fill(&g.values[g.inputs[3]], 4);
    st = cml_mil_run(&g, pool, &err);
    CHECK_MSG(st == CML_OK, "run (keep %d): %s", keep, err.msg);
    static const char *const names[4] = {"m", "lm", "c", "e"};
    for (int i = 0; i < 4 && st == CML_OK; i++) {
        cml_mil_value *v = find(&g, names[i]);
        bytes[i] = v ? (size_t)cml_mil_numel(v) * sizeof(float) : 0;
        out[i] = bytes[i] ? malloc(bytes[i]) : NULL;
        if (out[i]) memcpy(out[i], v->data, bytes[i]);
    }
    cml_mil_graph_free(&g);
    return st == CML_OK;
}

static void check(cml_threadpool *pool) {
    float *a[4] = {0}, *b[4] = {0};
    size_t na[4] = {0}, nb[4] = {0};
    uint32_t ua = 0, ub = 0;
    if (compile_run(true, pool, a, na, &ua) && compile_run(false, pool, b, nb, &ub)) {
        CHECK_MSG(ua == 5, "%u at-use constexprs, expected 5", ua);
        CHECK_MSG(ub == 0, "%u at-use constexprs with compression off", ub);
        static const char *const names[4] = {"matmul y", "matmul x", "conv_transpose + conv",
                                             "einsum"};
        for (int i = 0; i < 4; i++) {
            CHECK_MSG(na[i] && na[i] == nb[i] && a[i] && b[i] && memcmp(a[i], b[i], na[i]) == 0,
                      "%s (pool %s): differs from the folded weights", names[i],
                      pool ? "yes" : "no");
            float mx = 0;
            for (size_t k = 0; a[i] && k < na[i] / sizeof(float); k++)
                mx = fabsf(a[i][k]) > mx ? fabsf(a[i][k]) : mx;
            CHECK_MSG(mx > 0.01f, "%s: all outputs near zero (max %g)", names[i], mx);
        }
    }
    for (int i = 0; i < 4; i++) free(a[i]), free(b[i]);
}

int main(void) {
    check(NULL);
    cml_threadpool *pool = NULL;
    CHECK(cml_threadpool_create(2, NULL, &pool) == CML_OK);
    if (pool) check(pool);
    cml_threadpool_destroy(pool);
    mb_free_all();
    TEST_MAIN_END();
}
