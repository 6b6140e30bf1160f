/* Ops with run-time (non-const) size arguments on whole compiled programs:
 * range_1d, tile, pad and iOS17 resize whose sizes come from shape(x) of a
 * flexible input (bounded at load through the shape/gather/concat chain),
 * checked against naive references at several run-time sizes; and the
 * load errors when no bound is knowable (sizes fed by a function input). */
#include <string.h>

#include "harness.h"
#include "mil/graph.h"
#include "unit/mil_builder.h"

enum { F32 = 11, I32 = 23 };

static void iconst(mb_block *b, const char *name, int32_t v) {
    mb_const(b, name, mb_val_ints(I32, 0, NULL, &v, 1));
}

static mb_op *op2(mb_block *b, const char *type, const char *out, const char *p1, const char *v1,
                  const char *p2, const char *v2) {
    mb_op *op = mb_op_new(b, type, out);
    if (p1) mb_in(op, p1, v1);
    if (p2) mb_in(op, p2, v2);
    return op;
}

/* n = gather(shape(x), 1): a rank-0 int32, <= 8 when x is [1, <=8, 3]. */
static void size_chain(mb_block *b) {
    iconst(b, "one", 1);
    iconst(b, "zero", 0);
    iconst(b, "three", 3);
    mb_out(op2(b, "shape", "sx", "x", "x", NULL, NULL), "sx", mb_tensor_type(I32, 1, (int64_t[]){3}));
    mb_op *g = op2(b, "gather", "n0", "x", "sx", "indices", "one");
    mb_in(g, "axis", "zero");
    mb_out(g, "n0", mb_tensor_type(I32, 0, NULL));
    mb_out(op2(b, "identity", "n", "x", "n0", NULL, NULL), "n", mb_tensor_type(I32, 0, NULL));
}

static mb_op *concat_of(mb_block *b, const char *out, int k, const char *const *vals) {
    mb_op *op = mb_op_new(b, "concat", out);
    for (int i = 0; i < k; i++) mb_in(op, "values", vals[i]);
    mb_in(op, "axis", "zero");
    mb_out(op, out, mb_tensor_type(I32, 1, (int64_t[]){k}));
    return op;
}

/* outputs: r = range_1d(0, n, 1); t = tile(y2, [n]); p = pad(x, (0,0, 0,n, 1,0), 5);
 * z = resize(img, (n, 3), NEAREST_NEIGHBOR). Bit k of `unbounded` feeds op k
 * the function input "m" (no bound) instead of n. */
static mb_function *program(int unbounded) {
    mb_block *b = mb_block_new();
    size_chain(b);
    const char *sz[4];
    for (int k = 0; k < 4; k++) sz[k] = unbounded >> k & 1 ? "m" : "n";
    mb_op *op = op2(b, "range_1d", "r", "end", sz[0], "start", "zero");
    mb_in(op, "step", "one");
    mb_out(op, "r", mb_tensor_type(I32, 1, (int64_t[]){-1}));
    mb_const(b, "y2", mb_val_floats(1, (int64_t[]){2}, (float[]){7, 8}, 2));
    concat_of(b, "reps", 1, (const char *[]){sz[1]});
    mb_out(op2(b, "tile", "t", "x", "y2", "reps", "reps"), "t", mb_tensor_type(F32, 1, (int64_t[]){-1}));
    concat_of(b, "pads", 6, (const char *[]){"zero", "zero", "zero", sz[2], "one", "zero"});
    mb_const(b, "five", mb_val_floats(0, NULL, (float[]){5}, 1));
    op = op2(b, "pad", "p", "x", "x", "pad", "pads");
    mb_in(op, "constant_val", "five");
    mb_out(op, "p", mb_tensor_type(F32, 3, (int64_t[]){1, -1, 4}));
    concat_of(b, "rsz", 2, (const char *[]){sz[3], "three"});
    mb_const(b, "rd", mb_val_bytes(33, 0, NULL, (uint32_t[]){2}, 4)); /* uint32 */
    mb_const(b, "nn", mb_val_str("NEAREST_NEIGHBOR"));
    op = op2(b, "resize", "z", "x", "img", "shape", "rsz");
    mb_in(op, "resized_dims", "rd");
    mb_in(op, "interpolation_mode", "nn");
    mb_out(op, "z", mb_tensor_type(F32, 4, (int64_t[]){1, 1, -1, 3}));
    const char *outs[4] = {"r", "t", "p", "z"};
    for (int i = 0; i < 4; i++) mb_block_out(b, outs[i]);
    mb_function *fn = mb_function_new("CoreML7", b);
    mb_fn_in(fn, "x", mb_tensor_type(F32, 3, (int64_t[]){1, -1, 3}));
    mb_fn_in(fn, "img", mb_tensor_type(F32, 4, (int64_t[]){1, 1, 2, 2}));
    mb_fn_in(fn, "m", mb_tensor_type(I32, 0, NULL));
    return fn;
}

static const cml_mil_value *out_at(const cml_mil_graph *g, uint32_t i) {
    return &g->values[g->main.outputs[i]];
}

static void check_step(cml_mil_graph *g, int n) {
    cml_error err = {0};
    cml_mil_value *x = &g->values[cml_mil_find_input(g, "x")];
    cml_mil_value *img = &g->values[cml_mil_find_input(g, "img")];
    x->shape[1] = n;
    /* keep copies: the planner may reuse input buffers after their last use */
    float xd[24], id[4];
    for (int i = 0; i < 3 * n; i++) xd[i] = (float)(i + 1);
    for (int i = 0; i < 4; i++) id[i] = (float)(10 * (i + 1));
    memcpy(x->data, xd, sizeof(float) * (size_t)(3 * n));
    memcpy(img->data, id, sizeof id);
    cml_status st = cml_mil_run(g, NULL, &err);
    CHECK_MSG(st == CML_OK, "n = %d: %s", n, err.msg);
    if (st != CML_OK) return;
    const cml_mil_value *r = out_at(g, 0), *t = out_at(g, 1), *p = out_at(g, 2), *z = out_at(g, 3);
    CHECK(r->rank == 1 && r->shape[0] == n);
    for (int i = 0; i < n; i++) CHECK(((const int32_t *)r->data)[i] == i);
    CHECK(t->rank == 1 && t->shape[0] == 2 * n);
    for (int i = 0; i < 2 * n; i++) CHECK(((const float *)t->data)[i] == (i % 2 ? 8.0f : 7.0f));
    /* pad: [1, n, 3] -> [1, 2n, 4]: one leading column and n trailing rows of 5 */
    CHECK(p->rank == 3 && p->shape[1] == 2 * n && p->shape[2] == 4);
    for (int i = 0; i < 2 * n; i++)
        for (int j = 0; j < 4; j++) {
            float want = i < n && j > 0 ? xd[i * 3 + j - 1] : 5.0f;
            CHECK_MSG(((const float *)p->data)[i * 4 + j] == want, "n %d p[%d][%d] = %g, want %g", n, i, j, ((const float *)p->data)[i * 4 + j], want);
        }
    /* nearest resize [2, 2] -> [n, 3] (DEFAULT sampling: src = floor(i * in / out)) */
    CHECK(z->rank == 4 && z->shape[2] == n && z->shape[3] == 3);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 3; j++) {
            int si = (int)((double)i * 2 / n), sj = (int)((double)j * 2 / 3);
            CHECK(((const float *)z->data)[i * 3 + j] == id[si * 2 + sj]);
        }
}

static void test_bounded(void) {
    cml_mil_input_bound bound = {.name = "x", .rank = 3, .bound = {1, 8, 3}};
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = cml_mil_compile(program(0), NULL, &bound, 1, NULL, &g, &err);
    CHECK_MSG(st == CML_OK, "compile: %s", err.msg);
    if (st == CML_OK) {
        /* bounds planned at load: range 8, tile 16, pad [1, 16, 4], resize [1, 1, 8, 3] */
        CHECK(out_at(&g, 0)->bound[0] == 8 && out_at(&g, 1)->bound[0] == 16);
        CHECK(out_at(&g, 2)->bound[1] == 16 && out_at(&g, 3)->bound[2] == 8);
        int ns[4] = {8, 3, 1, 5};
        for (int k = 0; k < 4; k++) check_step(&g, ns[k]);
        cml_mil_graph_free(&g);
    }
    mb_free_all();
}

static void test_unbounded(void) {
    /* each op fed by an unbounded input fails at load naming the op */
    static const char *const names[4][2] = {
        {"'r'", "range_1d"}, {"'t'", "tile"}, {"'p'", "pad"}, {"'z'", "resize"}};
    for (int k = 0; k < 4; k++) {
        cml_mil_input_bound bound = {.name = "x", .rank = 3, .bound = {1, 8, 3}};
        cml_mil_graph g;
        cml_error err = {0};
        cml_status st = cml_mil_compile(program(1 << k), NULL, &bound, 1, NULL, &g, &err);
        CHECK(st == CML_ERR_UNSUPPORTED);
        CHECK_MSG(strstr(err.msg, names[k][0]) && strstr(err.msg, names[k][1]) &&
                      strstr(err.msg, "bound"),
                  "%s", err.msg);
        if (st == CML_OK) cml_mil_graph_free(&g);
        mb_free_all();
    }
}

/* coremltools' torchvision.nms lowering before iOS17:
 *   _, _, idx, cnt = non_maximum_suppression(...); k = squeeze(cnt)
 *   keep = cast(gather(cast(squeeze(idx), fp32), range_1d(k, 0, 1)), int32)
 * range_1d's length is bounded at load by max_boxes. */
static mb_function *nms_program(void) {
    mb_block *b = mb_block_new();
    iconst(b, "zero", 0);
    iconst(b, "one", 1);
    iconst(b, "maxb", 5);
    mb_const(b, "iou", mb_val_floats(0, NULL, (float[]){0.5f}, 1));
    mb_const(b, "sth", mb_val_floats(0, NULL, (float[]){-1e30f}, 1));
    mb_const(b, "ax0", mb_val_ints(I32, 1, (int64_t[]){1}, (int32_t[]){0}, 1));
    mb_const(b, "fp32", mb_val_str("fp32"));
    mb_const(b, "int32", mb_val_str("int32"));
    mb_op *op = op2(b, "non_maximum_suppression", "nms", "boxes", "boxes", "scores", "scores");
    mb_in(op, "iou_threshold", "iou");
    mb_in(op, "score_threshold", "sth");
    mb_in(op, "max_boxes", "maxb");
    mb_out(op, "ob", mb_tensor_type(F32, 3, (int64_t[]){1, 5, 4}));
    mb_out(op, "os", mb_tensor_type(F32, 3, (int64_t[]){1, 5, 1}));
    mb_out(op, "idx", mb_tensor_type(I32, 2, (int64_t[]){1, 5}));
    mb_out(op, "cnt", mb_tensor_type(I32, 1, (int64_t[]){1}));
    op = op2(b, "squeeze", "k", "x", "cnt", "axes", "ax0");
    mb_out(op, "k", mb_tensor_type(I32, 0, NULL));
    op = op2(b, "squeeze", "idx1", "x", "idx", "axes", "ax0");
    mb_out(op, "idx1", mb_tensor_type(I32, 1, (int64_t[]){5}));
    mb_out(op2(b, "cast", "idxf", "x", "idx1", "dtype", "fp32"), "idxf", mb_tensor_type(F32, 1, (int64_t[]){5}));
    op = op2(b, "range_1d", "r", "end", "k", "start", "zero");
    mb_in(op, "step", "one");
    mb_out(op, "r", mb_tensor_type(I32, 1, (int64_t[]){-1}));
    op = op2(b, "gather", "gf", "x", "idxf", "indices", "r");
    mb_in(op, "axis", "zero");
    mb_out(op, "gf", mb_tensor_type(F32, 1, (int64_t[]){-1}));
    mb_out(op2(b, "cast", "keep", "x", "gf", "dtype", "int32"), "keep", mb_tensor_type(I32, 1, (int64_t[]){-1}));
    mb_block_out(b, "keep");
    mb_function *fn = mb_function_new("CoreML6", b);
    mb_fn_in(fn, "boxes", mb_tensor_type(F32, 3, (int64_t[]){1, 5, 4}));
    mb_fn_in(fn, "scores", mb_tensor_type(F32, 3, (int64_t[]){1, 5, 1}));
    return fn;
}

static void test_nms_count_bound(void) {
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = cml_mil_compile(nms_program(), NULL, NULL, 0, NULL, &g, &err);
    CHECK_MSG(st == CML_OK, "nms program: %s", err.msg);
    if (st == CML_OK) {
        /* boxes 0 and 1 overlap (IoU 0.9), 2 and 4 overlap, 3 is alone;
         * ranking 4, 0, 3, 1, 2 -> keep 4, 0, 3 */
        static const float boxes[20] = {0, 0, 2, 2, 0.05f, 0, 2, 2, 5, 5, 1, 1, 9, 9, 1, 1, 5.05f, 5, 1, 1};
        static const float scores[5] = {0.8f, 0.7f, 0.3f, 0.5f, 0.9f};
        memcpy(g.values[cml_mil_find_input(&g, "boxes")].data, boxes, sizeof boxes);
        memcpy(g.values[cml_mil_find_input(&g, "scores")].data, scores, sizeof scores);
        st = cml_mil_run(&g, NULL, &err);
        CHECK_MSG(st == CML_OK, "nms run: %s", err.msg);
        const cml_mil_value *keep = out_at(&g, 0);
        CHECK(keep->bound[0] == 5);
        CHECK(st == CML_OK && keep->rank == 1 && keep->shape[0] == 3);
        const int32_t want[3] = {4, 0, 3};
        CHECK(st == CML_OK && memcmp(keep->data, want, sizeof want) == 0);
        cml_mil_graph_free(&g);
    }
    mb_free_all();
}

int main(void) {
    test_nms_count_bound();
    test_bounded();
    test_unbounded();
    TEST_MAIN_END();
}
