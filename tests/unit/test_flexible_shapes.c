/* Flexible input shapes cost what the bound shapes cost:
 *   - a package written here, x [B, 1024] with B in 1..4096 (default 1):
 *     the planned activation bytes at B = 1, 3 and 4096, the arena after a
 *     batch-1 run against 1.5x the batch-1 working set, outputs against a
 *     naive C reference at B = 1 and 3, no allocation when shapes repeat,
 *     no arena growth when shapes shrink, and the memory the process commits;
 *   - conv + relu with a flexible batch: the relu fused into the conv at load
 *     is still applied after every re-plan;
 *   - the real flexible_batch fixture (.pte, RangeDim 2..4096, two Core ML
 *     delegates around a portable relu): outputs at B = 2 and 3 against the
 *     PyTorch references stored beside it, planned bytes, resident memory;
 *   - cml_method_input_shape on ranges, enumerated shapes and static inputs,
 *     and `cml inspect` / `cml run` without --input. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coreml/mil_backend.h"
#include "exec/internal.h"
#include "fixture_util.h"
#include "harness.h"
#include "mil/graph.h"
#include "npy.h"
#include "unit/mil_builder.h"

#define AT_FLOAT32 CML__COREML__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT32
enum { F32 = 11, DIN = 1024, DH = 512, DOUT = 16, BMAX = 4096 };

static char g_tmp[256];

/* ---- a counting allocator that can be armed to fail ------------------- */

typedef struct counter {
    size_t allocs, armed_allocs;
    int armed;
} counter;

static void *count_alloc(void *ctx, size_t size, size_t align) {
    counter *c = ctx;
    if (c->armed) {
        c->armed_allocs++;
        return NULL;
    }
    c->allocs++;
    void *p = NULL;
    return posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1)
               ? NULL : p;
}

static void count_free(void *ctx, void *ptr) {
    (void)ctx;
    free(ptr);
}

/* ---- helpers ------------------------------------------------------------ */

/* Resident bytes of this process (/proc/self/statm). */
static size_t resident_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &rss) != 2) rss = 0;
        fclose(f);
    }
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

/* Activation bytes the Core ML delegates of m plan for now (arena +
 * scratch), and what they hold allocated. */
static size_t planned_bytes(const cml_method *m, size_t *allocated) {
    size_t planned = 0, cap = 0;
    for (uint32_t i = 0; i < m->ndelegates; i++) {
        const cml_mil_graph *g = cml_coreml_graph(m->delegates[i].handle);
        planned += g->arena_size + g->scratch_size;
        cap += g->arena_cap + g->scratch_cap;
    }
    if (allocated) *allocated = cap;
    return planned;
}

static cml_method *open_method(const char *path, const cml_allocator *a, cml_program **prog) {
    char err[512] = "";
    cml_program_params pp = {.struct_size = sizeof pp, .allocator = a};
    *prog = NULL;
    if (cml_program_open_file(path, &pp, prog, err, sizeof err) != CML_OK) {
        CHECK_MSG(0, "open %s: %s", path, err);
        return NULL;
    }
    cml_method_params mp = {sizeof mp, 2, CML_COMPUTE_DEFAULT, 0};
    cml_method *m = NULL;
    if (cml_method_create(*prog, NULL, &mp, &m) != CML_OK) {
        CHECK_MSG(0, "method %s: %s", path, cml_program_errmsg(*prog));
        cml_program_close(*prog);
        *prog = NULL;
    }
    return m;
}

static int same_dims(const int64_t *a, const int64_t *b, int32_t rank) {
    return memcmp(a, b, sizeof(int64_t) * (size_t)rank) == 0;
}

/* ---- the package: y = linear2(relu(linear1(x))) ------------------------- */

static float weight(int64_t i) { return (float)((i * 37 % 101) - 50) / 400.0f; }

static mb_value *const_floats(int rank, const int64_t *dims, size_t n, int64_t seed) {
    float *w = malloc(n * sizeof *w);
    for (size_t i = 0; i < n; i++) w[i] = weight((int64_t)i + seed);
    mb_value *v = mb_val_floats(rank, dims, w, n);
    free(w);
    return v;
}

static void add_linear(mb_block *b, const char *name, const char *x, int64_t din, int64_t dout,
                       int64_t seed) {
    static const int64_t unk[] = {-1, 0};
    char wname[64], bname[64];
    int64_t wd[] = {dout, din}, bd[] = {dout}, od[] = {unk[0], dout};
    snprintf(wname, sizeof wname, "%s_w", name);
    snprintf(bname, sizeof bname, "%s_b", name);
    mb_const(b, wname, const_floats(2, wd, (size_t)(dout * din), seed));
    mb_const(b, bname, const_floats(1, bd, (size_t)dout, seed + 7));
    mb_op *op = mb_op_new(b, "linear", name);
    mb_in(op, "x", x);
    mb_in(op, "weight", wname);
    mb_in(op, "bias", bname);
    mb_out(op, name, mb_tensor_type(F32, 2, od));
}

static void write_mlp(const char *dir) {
    static const int64_t xd[] = {-1, DIN}, hd[] = {-1, DH};
    mb_block *b = mb_block_new();
    add_linear(b, "h", "x", DIN, DH, 1);
    mb_op *r = mb_op_new(b, "relu", "r");
    mb_in(r, "x", "h");
    mb_out(r, "r", mb_tensor_type(F32, 2, hd));
    add_linear(b, "y", "r", DH, DOUT, 3);
    mb_block_out(b, "y");
    mb_function *fn = mb_function_new("CoreML8", b);
    mb_fn_in(fn, "x", mb_tensor_type(F32, 2, xd));
    static const int64_t def[] = {1, DIN}, lo[] = {1, DIN}, hi[] = {BMAX, DIN};
    mb_feature *in = mb_feature_array("x", AT_FLOAT32, 2, def);
    mb_feature_range(in, 2, lo, hi);
    mb_feature *out = mb_feature_array("y", AT_FLOAT32, 0, NULL);
    CHECK(mb_write_package(dir, 9, fn, &in, 1, &out, 1, NULL, 0) == 0);
}

/* Naive reference of write_mlp's function, in double. */
static void reference(const float *x, int64_t batch, double *y) {
    for (int64_t n = 0; n < batch; n++) {
        double h[DH];
        for (int64_t j = 0; j < DH; j++) {
            double s = weight(j + 1 + 7);
            for (int64_t k = 0; k < DIN; k++) s += (double)weight(j * DIN + k + 1) * x[n * DIN + k];
            h[j] = s > 0 ? s : 0;
        }
        for (int64_t j = 0; j < DOUT; j++) {
            double s = weight(j + 3 + 7);
            for (int64_t k = 0; k < DH; k++) s += (double)weight(j * DH + k + 3) * h[k];
            y[n * DOUT + j] = s;
        }
    }
}

/* Sets x = a batch of deterministic values, runs, and checks y. */
static void run_batch(cml_method *m, int64_t batch) {
    int64_t shape[] = {batch, DIN};
    size_t n = (size_t)(batch * DIN);
    float *x = malloc(n * sizeof *x);
    double *want = malloc((size_t)(batch * DOUT) * sizeof *want);
    for (size_t i = 0; i < n; i++) x[i] = (float)((int64_t)(i * 13 % 29) - 14) / 16.0f;
    reference(x, batch, want);
    cml_tensor_view in = {CML_DTYPE_FLOAT32, 2, shape, x, n * sizeof *x};
    CHECK(cml_method_set_input(m, 0, &in) == CML_OK);
    CHECK_MSG(cml_method_execute(m) == CML_OK, "batch %lld: %s", (long long)batch,
              cml_method_errmsg(m));
    cml_tensor_view out;
    CHECK(cml_method_output(m, 0, &out) == CML_OK);
    CHECK(out.rank == 2 && out.sizes[0] == batch && out.sizes[1] == DOUT);
    double worst = 0;
    for (int64_t i = 0; i < batch * DOUT && out.rank == 2 && out.sizes[0] == batch; i++) {
        double e = fabs(((const float *)out.data)[i] - want[i]) / (1.0 + fabs(want[i]));
        if (e > worst) worst = e;
    }
    CHECK_MSG(worst < 1e-4, "batch %lld: relative error %g", (long long)batch, worst);
    free(x);
    free(want);
}

/* cml_program_params.memory_budget bounds the activation arena of a
 * flexible package when new shapes re-plan it: small batches run, a batch
 * whose plan would pass the budget fails cleanly, and the method still runs
 * small batches afterwards. */
static void test_budget(void) {
    char dir[400], err[512];
    snprintf(dir, sizeof dir, "%s/mlp_budget.mlpackage", g_tmp);
    write_mlp(dir);
    cml_program_params pp = {.struct_size = sizeof pp, .memory_budget = (uint64_t)1 << 20};
    cml_program *p = NULL;
    CHECK(cml_program_open_file(dir, &pp, &p, err, sizeof err) == CML_OK);
    cml_method *m = NULL;
    CHECK_MSG(p && cml_method_create(p, NULL, NULL, &m) == CML_OK, "%s", p ? cml_program_errmsg(p) : err);
    if (!m) {
        cml_program_close(p);
        return;
    }
    run_batch(m, 3);
    int64_t big = BMAX;
    size_t n = (size_t)(big * DIN);
    float *x = calloc(n, sizeof *x);
    int64_t shape[] = {big, DIN};
    cml_tensor_view in = {CML_DTYPE_FLOAT32, 2, shape, x, n * sizeof *x};
    cml_status st = cml_method_set_input(m, 0, &in);
    if (st == CML_OK) st = cml_method_execute(m);
    CHECK(st == CML_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(cml_method_errmsg(m), "exceed the memory budget of 1048576 bytes"), "%s",
              cml_method_errmsg(m));
    free(x);
    run_batch(m, 2);
    cml_method_destroy(m);
    cml_program_close(p);
}

/* The bytes every activation of the batch-`b` run holds, each rounded to
 * the planner's 64-byte alignment: an upper bound of its working set. */
static size_t working_set(int64_t b) {
    size_t sizes[] = {(size_t)(b * DIN), (size_t)(b * DH), (size_t)(b * DH), (size_t)(b * DOUT)};
    size_t total = 0;
    for (size_t i = 0; i < 4; i++) total += (sizes[i] * sizeof(float) + 63) / 64 * 64;
    return total;
}

/* Plans the package's graph for batch b without running (the bound). */
static size_t plan_for(cml_method *m, int64_t b) {
    cml_mil_graph *g = (cml_mil_graph *)cml_coreml_graph(m->delegates[0].handle);
    int64_t shape[] = {b, DIN};
    cml_error err = {0};
    CHECK(cml_mil_set_input_shape(g, g->inputs[0], 2, shape, &err) == CML_OK);
    CHECK_MSG(cml_mil_replan(g, &err) == CML_OK, "%s", err.msg);
    return planned_bytes(m, NULL);
}

static void test_package_batches(void) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/mlp.mlpackage", g_tmp);
    write_mlp(dir);
    counter c = {0};
    cml_allocator a = {&c, count_alloc, count_free};
    size_t rss0 = resident_bytes();
    cml_program *p;
    cml_method *m = open_method(dir, &a, &p);
    if (!m) return;
    cml_io_shape s = {.struct_size = sizeof s};
    static const int64_t lo[] = {1, DIN}, hi[] = {BMAX, DIN};
    CHECK(cml_method_input_shape(m, 0, &s) == CML_OK && s.rank == 2 && same_dims(s.min, lo, 2) &&
          same_dims(s.max, hi, 2) && same_dims(s.default_sizes, lo, 2) && s.nenumerated == 0);
    cml_io_info info;
    CHECK(cml_method_input_info(m, 0, &info) == CML_OK && same_dims(info.sizes, hi, 2));

    size_t cap1 = 0, p1 = planned_bytes(m, &cap1);
    run_batch(m, 1);
    size_t rss1 = resident_bytes();
    /* Batch 1 runs within 1.5x its working set (weights: 2 MiB, mapped or
     * widened once); planning for the bound would commit ~32 MiB. */
    printf("planned at batch 1: %zu bytes (working set %zu); resident +%zu KiB\n", p1,
           working_set(1), (rss1 - rss0) / 1024);
    CHECK(p1 > 0 && p1 <= working_set(1) * 3 / 2);
    CHECK(cap1 <= working_set(1) * 3 / 2 + 64);
    CHECK_MSG(rss1 - rss0 < ((size_t)12 << 20), "load + batch-1 run committed %zu bytes",
              rss1 - rss0);

    /* Shapes repeat: nothing is allocated. */
    c.armed = 1;
    run_batch(m, 1);
    c.armed = 0;
    CHECK_MSG(c.armed_allocs == 0, "%zu allocations at a repeated batch-1 execute", c.armed_allocs);

    run_batch(m, 3); /* new shape: re-plan (may allocate) */
    size_t cap3 = 0, p3 = planned_bytes(m, &cap3);
    printf("planned at batch 3: %zu bytes (working set %zu)\n", p3, working_set(3));
    CHECK(p3 > p1 && p3 <= working_set(3) * 3 / 2 && cap3 >= p3);
    c.armed = 1;
    run_batch(m, 3);
    c.armed = 0;
    CHECK(c.armed_allocs == 0);

    run_batch(m, 1); /* shrinking re-plans, the arena does not move */
    size_t cap_back = 0;
    CHECK(planned_bytes(m, &cap_back) == p1 && cap_back == cap3);

    size_t pmax = plan_for(m, BMAX);
    printf("planned at batch %d: %zu bytes\n", BMAX, pmax);
    CHECK(pmax >= (size_t)BMAX / 2 * p1 && pmax <= working_set(BMAX) * 3 / 2);
    run_batch(m, 2); /* runs again after planning for the bound */
    cml_method_destroy(m);
    cml_program_close(p);
}

/* ---- conv + relu: the fusion survives re-planning ------------------------- */

enum { CC = 2, CO = 3, HW = 5, K = 3, OHW = HW - K + 1 };

/* y = relu(conv(x, w)), x [B, 2, 5, 5] with B in 1..8 (default 1); the
 * loader fuses the relu into the conv, and every re-plan must keep it. */
static void write_conv_relu(const char *dir) {
    static const int64_t xd[] = {-1, CC, HW, HW}, yd[] = {-1, CO, OHW, OHW}, wd[] = {CO, CC, K, K};
    mb_block *b = mb_block_new();
    mb_const(b, "w", const_floats(4, wd, CO * CC * K * K, 5));
    mb_op *c = mb_op_new(b, "conv", "c");
    mb_in(c, "x", "x");
    mb_in(c, "weight", "w");
    mb_in_val(c, "pad_type", mb_val_str("valid"));
    mb_out(c, "c", mb_tensor_type(F32, 4, yd));
    mb_op *r = mb_op_new(b, "relu", "y");
    mb_in(r, "x", "c");
    mb_out(r, "y", mb_tensor_type(F32, 4, yd));
    mb_block_out(b, "y");
    mb_function *fn = mb_function_new("CoreML8", b);
    mb_fn_in(fn, "x", mb_tensor_type(F32, 4, xd));
    static const int64_t def[] = {1, CC, HW, HW}, hi[] = {8, CC, HW, HW};
    mb_feature *in = mb_feature_array("x", AT_FLOAT32, 4, def);
    mb_feature_range(in, 4, def, hi);
    mb_feature *out = mb_feature_array("y", AT_FLOAT32, 0, NULL);
    CHECK(mb_write_package(dir, 9, fn, &in, 1, &out, 1, NULL, 0) == 0);
}

static void check_conv_relu(cml_method *m, int64_t batch) {
    int64_t shape[] = {batch, CC, HW, HW};
    float x[8 * CC * HW * HW];
    for (int64_t i = 0; i < batch * CC * HW * HW; i++) x[i] = (float)((i * 7 % 11) - 5) / 4.0f;
    cml_tensor_view in = {CML_DTYPE_FLOAT32, 4, shape, x, sizeof(float) * (size_t)(batch * CC * HW * HW)};
    CHECK(cml_method_set_input(m, 0, &in) == CML_OK);
    CHECK_MSG(cml_method_execute(m) == CML_OK, "%s", cml_method_errmsg(m));
    cml_tensor_view out;
    CHECK(cml_method_output(m, 0, &out) == CML_OK && out.rank == 4 && out.sizes[0] == batch);
    if (out.rank != 4 || out.sizes[0] != batch) return;
    size_t bad = 0, negatives = 0;
    for (int64_t n = 0; n < batch; n++)
        for (int64_t o = 0; o < CO; o++)
            for (int64_t i = 0; i < OHW * OHW; i++) {
                double s = 0;
                for (int64_t c = 0; c < CC; c++)
                    for (int64_t k = 0; k < K * K; k++)
                        s += (double)weight(((o * CC + c) * K * K + k) + 5) *
                             x[((n * CC + c) * HW + i / OHW + k / K) * HW + i % OHW + k % K];
                negatives += s < 0;
                double got = ((const float *)out.data)[(n * CO + o) * OHW * OHW + i];
                bad += fabs(got - (s > 0 ? s : 0)) > 1e-5;
            }
    CHECK_MSG(bad == 0 && negatives > 0, "batch %lld: %zu wrong (%zu clamped)", (long long)batch,
              bad, negatives);
}

static void test_conv_relu(void) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/conv.mlpackage", g_tmp);
    write_conv_relu(dir);
    cml_program *p;
    cml_method *m = open_method(dir, NULL, &p);
    if (!m) return;
    char line[512] = "";
    CHECK(cml_method_delegate_describe(m, 0, line, sizeof line) == CML_OK);
    CHECK_MSG(strstr(line, "2 ops (1 folded)"), "the relu is not fused: %s", line);
    check_conv_relu(m, 1);
    check_conv_relu(m, 3);
    check_conv_relu(m, 8);
    check_conv_relu(m, 1);
    cml_method_destroy(m);
    cml_program_close(p);
}

/* ---- the flexible_batch fixture ------------------------------------------ */

static int set_npy(cml_method *m, const char *path) {
    cml_npy npy = {0};
    char err[256];
    if (cml_npy_read(path, &npy, err, sizeof err) != 0) {
        CHECK_MSG(0, "%s: %s", path, err);
        return 0;
    }
    cml_tensor_view v = {npy.dtype, npy.rank, npy.sizes, npy.data, npy.nbytes};
    cml_status st = cml_method_set_input(m, 0, &v);
    cml_npy_free(&npy);
    CHECK_MSG(st == CML_OK, "%s: %s", path, cml_method_errmsg(m));
    return st == CML_OK;
}

/* Runs input_0<suffix>.npy and compares with expected_0<suffix>.npy (the
 * PyTorch eager output stored with the fixture; atol = rtol = 1e-4). */
static void run_fixture(cml_method *m, const char *dir, const char *suffix) {
    char path[1400];
    snprintf(path, sizeof path, "%s/input_0%s.npy", dir, suffix);
    if (!set_npy(m, path)) return;
    CHECK_MSG(cml_method_execute(m) == CML_OK, "%s", cml_method_errmsg(m));
    cml_npy want = {0};
    char err[256];
    snprintf(path, sizeof path, "%s/expected_0%s.npy", dir, suffix);
    if (cml_npy_read(path, &want, err, sizeof err) != 0) {
        CHECK_MSG(0, "%s: %s", path, err);
        return;
    }
    cml_tensor_view out;
    CHECK(cml_method_output(m, 0, &out) == CML_OK && out.rank == want.rank &&
          same_dims(out.sizes, want.sizes, want.rank));
    size_t n = out.nbytes / sizeof(float), bad = 0;
    CHECK(n == want.nbytes / sizeof(float));
    for (size_t i = 0; i < n && i < want.nbytes / sizeof(float); i++) {
        double g = ((const float *)out.data)[i], w = ((const float *)want.data)[i];
        bad += fabs(g - w) > 1e-4 + 1e-4 * fabs(w);
    }
    CHECK_MSG(bad == 0, "%s: %zu of %zu values off", suffix, bad, n);
    cml_npy_free(&want);
}

static void test_fixture_batches(void) {
    char dir[1100], path[1200];
    snprintf(dir, sizeof dir, "%s/flexible_batch", CML_FIXTURE_DIR);
    snprintf(path, sizeof path, "%s/model.pte", dir);
    counter c = {0};
    cml_allocator a = {&c, count_alloc, count_free};
    size_t rss0 = resident_bytes();
    cml_program *p;
    cml_method *m = open_method(path, &a, &p);
    if (!m) return;
    cml_io_shape s = {.struct_size = sizeof s};
    static const int64_t lo[] = {2, 3, 32, 32}, hi[] = {4096, 3, 32, 32};
    CHECK(cml_method_input_shape(m, 0, &s) == CML_OK && s.rank == 4 && same_dims(s.min, lo, 4) &&
          same_dims(s.max, hi, 4) && same_dims(s.default_sizes, lo, 4) && s.nenumerated == 0);
    size_t p2 = planned_bytes(m, NULL);
    run_fixture(m, dir, "");
    size_t rss2 = resident_bytes();
    /* The program's own plan is 256 MiB (upper bound); the delegates' would
     * be ~180 MiB more. A batch-2 run commits neither. */
    printf("flexible_batch: planned %zu bytes at batch 2; resident +%zu KiB\n", p2,
           (rss2 - rss0) / 1024);
    CHECK_MSG(rss2 - rss0 < ((size_t)24 << 20), "load + batch-2 run committed %zu bytes",
              rss2 - rss0);
    run_fixture(m, dir, ".alt1");
    size_t p3 = planned_bytes(m, NULL);
    printf("flexible_batch: planned %zu bytes at batch 3\n", p3);
    CHECK(p3 > p2 && p3 <= p2 * 8 / 5);
    c.armed = 1;
    CHECK(cml_method_execute(m) == CML_OK);
    c.armed = 0;
    CHECK_MSG(c.armed_allocs == 0, "%zu allocations at a repeated execute", c.armed_allocs);
    run_fixture(m, dir, ""); /* back to batch 2 */
    cml_method_destroy(m);
    cml_program_close(p);
}

/* ---- cml_method_input_shape ------------------------------------------------ */

static void test_shape_api(void) {
    char path[1200];
    snprintf(path, sizeof path, "%s/enumerated_shapes/model.pte", CML_FIXTURE_DIR);
    cml_program *p;
    cml_method *m = open_method(path, NULL, &p);
    if (!m) return;
    cml_io_shape s = {.struct_size = sizeof s};
    static const int64_t x_shapes[] = {1, 5, 10, 4, 6, 10}, y_shapes[] = {3, 11, 5, 11};
    CHECK(cml_method_input_shape(m, 0, &s) == CML_OK && s.rank == 3 && s.nenumerated == 2 &&
          same_dims(s.enumerated, x_shapes, 6) && same_dims(s.default_sizes, x_shapes, 3) &&
          same_dims(s.max, x_shapes + 3, 3) && same_dims(s.min, x_shapes, 3));
    CHECK(cml_method_input_shape(m, 1, &s) == CML_OK && s.rank == 2 && s.nenumerated == 2 &&
          same_dims(s.enumerated, y_shapes, 4) && same_dims(s.default_sizes, y_shapes, 2));
    CHECK(cml_method_input_shape(m, 2, &s) == CML_ERR_INVALID_ARG);
    cml_io_shape old = {.struct_size = sizeof(uint32_t)};
    CHECK(cml_method_input_shape(m, 0, &old) == CML_ERR_INVALID_ARG);
    CHECK(cml_method_input_shape(NULL, 0, &s) == CML_ERR_INVALID_ARG);
    cml_method_destroy(m);
    cml_program_close(p);

    snprintf(path, sizeof path, "%s/mlp/model.pte", CML_FIXTURE_DIR);
    m = open_method(path, NULL, &p);
    if (!m) return;
    cml_io_info info;
    CHECK(cml_method_input_shape(m, 0, &s) == CML_OK && cml_method_input_info(m, 0, &info) ==
          CML_OK && s.rank == info.rank && same_dims(s.min, info.sizes, s.rank) &&
          same_dims(s.max, info.sizes, s.rank) && same_dims(s.default_sizes, info.sizes, s.rank) &&
          s.nenumerated == 0);
    cml_method_destroy(m);
    cml_program_close(p);
}

/* ---- the CLI --------------------------------------------------------------- */

static int cli_output(const char *args, char *buf, size_t size) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", CML_CLI_PATH, args);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    return pclose(f);
}

static void test_cli(void) {
    char args[1400], out[16384];
    snprintf(args, sizeof args, "inspect '%s/flexible_batch/model.pte'", CML_FIXTURE_DIR);
    CHECK(cli_output(args, out, sizeof out) == 0);
    CHECK_MSG(strstr(out, "float32 [2..4096, 3, 32, 32] (default [2, 3, 32, 32])"), "%s", out);
    snprintf(args, sizeof args, "inspect --json '%s/enumerated_shapes/model.pte'", CML_FIXTURE_DIR);
    CHECK(cli_output(args, out, sizeof out) == 0);
    CHECK_MSG(strstr(out, "\"shape_text\":\t\"{[1, 5, 10] | [4, 6, 10]}\""), "%s", out);
    snprintf(args, sizeof args, "inspect '%s/enumerated_shapes/model.pte'", CML_FIXTURE_DIR);
    CHECK(cli_output(args, out, sizeof out) == 0);
    CHECK_MSG(strstr(out, "{[3, 11] | [5, 11]} (default [3, 11])"), "%s", out);
    /* run without --input: the default batch (2), not the bound */
    snprintf(args, sizeof args, "run '%s/flexible_batch/model.pte'", CML_FIXTURE_DIR);
    CHECK(cli_output(args, out, sizeof out) == 0);
    CHECK_MSG(strstr(out, "output 0 'aten_linear_default': float32 [2, 4]"), "%s", out);
    snprintf(args, sizeof args, "bench '%s/flexible_batch/model.pte' --warmup 0 --iterations 1",
             CML_FIXTURE_DIR);
    CHECK(cli_output(args, out, sizeof out) == 0);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/cml_flexible_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_fixture_batches(); /* first: the resident-memory baseline is cleanest */
    test_package_batches();
    test_conv_relu();
    test_shape_api();
    test_budget();
    test_cli();
    mb_free_all();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", g_tmp);
    TEST_MAIN_END();
}
