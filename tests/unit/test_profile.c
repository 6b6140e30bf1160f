/* Profiling (cml_method_profile_*): events cover every instruction and every
 * ML Program op with the right names, nest (ops inside their delegate call,
 * nested-block ops inside their control-flow op), have nonnegative
 * durations and consistent totals; profiling changes no output bit;
 * repeated executes replace the events; a small capacity drops the surplus;
 * the CLI's --profile table, --trace (Chrome JSON) and --etdump files. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cml.h"
#include "core/profile.h"
#include "coreml/mil_backend.h"
#include "exec/internal.h"
#include "harness.h"
#include "mil/graph.h"
#include "npy.h"
#include "unit/mil_builder.h"

#define FX(name) CML_FIXTURE_DIR "/" name

typedef struct loaded {
    cml_program *p;
    cml_method *m;
    cml_npy x;      /* input 0, set before every execute (a planned input
                       buffer may be reused for intermediates) */
} loaded;

static int load(const char *fixture, loaded *out) {
    char path[512], err[512] = "";
    snprintf(path, sizeof path, "%s/model.pte", fixture);
    memset(out, 0, sizeof *out);
    if (cml_program_open_file(path, NULL, &out->p, err, sizeof err) != CML_OK) {
        CHECK_MSG(0, "%s: %s", path, err);
        return -1;
    }
    cml_method_params mp = {sizeof mp, 1, CML_COMPUTE_DEFAULT, 0};
    if (cml_method_create(out->p, NULL, &mp, &out->m) != CML_OK) {
        CHECK_MSG(0, "%s: %s", path, cml_program_errmsg(out->p));
        cml_program_close(out->p);
        return -1;
    }
    snprintf(path, sizeof path, "%s/input_0.npy", fixture);
    CHECK(cml_npy_read(path, &out->x, err, sizeof err) == 0);
    return 0;
}

static void unload(loaded *l) {
    cml_method_destroy(l->m);
    cml_program_close(l->p);
    cml_npy_free(&l->x);
}

/* Sets the input, executes and returns a malloc'd copy of output 0. */
static void *run_copy(loaded *l, size_t *nbytes) {
    cml_method *m = l->m;
    cml_tensor_view in = {l->x.dtype, l->x.rank, l->x.sizes, l->x.data, l->x.nbytes};
    CHECK(cml_method_set_input(m, 0, &in) == CML_OK);
    CHECK_MSG(cml_method_execute(m) == CML_OK, "%s", cml_method_errmsg(m));
    cml_tensor_view v;
    if (cml_method_output(m, 0, &v) != CML_OK) return NULL;
    void *copy = malloc(v.nbytes);
    memcpy(copy, v.data, v.nbytes);
    *nbytes = v.nbytes;
    return copy;
}

static uint64_t dur(const cml_profile_event *e) { return e->end_ns - e->start_ns; }

/* The events of one instruction's ML Program ops, checked against its
 * graph: one per live op of the main block, in order, named by op type and
 * first output, inside [call->start, call->end]. Returns how many events it
 * consumed (they precede the call's event). */
static size_t check_mil_ops(const cml_method *m, const cml_profile_event *ev, size_t first,
                            const cml_profile_event *call) {
    const cml_mil_graph *g = cml_coreml_graph(m->delegates[call->delegate].handle);
    size_t k = first;
    for (uint32_t i = 0; i < g->main.nnodes; i++) {
        const cml_mil_node *node = &g->main.nodes[i];
        if (node->folded) continue;
        const cml_profile_event *e = &ev[k++];
        CHECK(e->kind == CML_PROFILE_MIL_OP);
        CHECK_MSG(strcmp(e->name, node->type) == 0, "%s vs %s", e->name, node->type);
        CHECK(strcmp(e->output, g->values[node->outputs[0]].name) == 0);
        CHECK(e->chain == call->chain && e->instruction == call->instruction);
        CHECK(e->delegate == call->delegate && e->depth == 1);
        CHECK(e->start_ns >= call->start_ns && e->end_ns <= call->end_ns);
        CHECK(e->end_ns >= e->start_ns);
        if (k > first + 1) CHECK(e->start_ns >= ev[k - 2].end_ns); /* in order, no overlap */
    }
    return k - first;
}

/* Every instruction once, in order; MIL ops before their delegate call;
 * the execute event last, covering all. */
static void check_events(const cml_method *m, const cml_profile_event *ev, size_t n) {
    size_t k = 0;
    uint64_t top = 0;
    for (uint32_t c = 0; c < m->nchains; c++)
        for (uint32_t i = 0; i < m->chains[c].ninstrs; i++) {
            const cml_exec_instr *in = &m->chains[c].instrs[i];
            size_t call = k;
            if (in->kind == CML_INSTR_DELEGATE_CALL) { /* its ops come first */
                while (call < n && ev[call].kind == CML_PROFILE_MIL_OP) call++;
                if (call >= n) break;
                CHECK(check_mil_ops(m, ev, k, &ev[call]) == call - k);
            }
            if (call >= n) break;
            const cml_profile_event *e = &ev[call];
            CHECK(e->chain == (int32_t)c && e->instruction == (int32_t)i && e->depth == 0);
            if (in->kind == CML_INSTR_DELEGATE_CALL) {
                CHECK(e->kind == CML_PROFILE_DELEGATE && e->delegate == (int32_t)in->delegate);
                CHECK(strcmp(e->name, "CoreMLBackend") == 0);
            } else {
                CHECK(e->kind == CML_PROFILE_INSTRUCTION && e->delegate == -1);
                if (in->kind == CML_INSTR_KERNEL_CALL) CHECK(strcmp(e->name, in->op->name) == 0);
            }
            CHECK(e->end_ns >= e->start_ns);
            top += dur(e);
            k = call + 1;
        }
    CHECK_MSG(k + 1 == n, "%zu events checked of %zu", k + 1, n);
    const cml_profile_event *x = &ev[n - 1];
    CHECK(x->kind == CML_PROFILE_EXECUTE && strcmp(x->name, "execute") == 0 && x->depth == -1);
    CHECK(top <= dur(x));
    for (size_t i = 0; i + 1 < n; i++) CHECK(ev[i].start_ns >= x->start_ns && ev[i].end_ns <= x->end_ns);
}

static void test_fixture(const char *fixture, size_t want_events) {
    loaded l;
    if (load(fixture, &l) != 0) return;
    size_t n0 = 0, n1 = 0, n2 = 0;
    void *plain = run_copy(&l, &n0);
    CHECK(cml_method_profile_events(l.m, NULL, NULL) == 0);
    CHECK(cml_method_profile_enable(l.m, 0) == CML_OK);
    void *profiled = run_copy(&l, &n1);
    CHECK_MSG(plain && profiled && n0 == n1 && memcmp(plain, profiled, n0) == 0, "%s", fixture);
    const cml_profile_event *ev = NULL;
    uint64_t dropped = 1;
    size_t n = cml_method_profile_events(l.m, &ev, &dropped);
    CHECK_MSG(n == want_events, "%s: %zu events, want %zu", fixture, n, want_events);
    CHECK(dropped == 0);
    check_events(l.m, ev, n);
    /* A second execute replaces the events (same count, later times). */
    uint64_t end1 = ev[n - 1].end_ns;
    free(profiled);
    profiled = run_copy(&l, &n1);
    CHECK(cml_method_profile_events(l.m, &ev, NULL) == n && ev[0].start_ns >= end1);
    check_events(l.m, ev, n);
    /* Off again: nothing recorded, same output. */
    cml_method_profile_disable(l.m);
    CHECK(cml_method_profile_events(l.m, &ev, &dropped) == 0 && ev == NULL && dropped == 0);
    void *again = run_copy(&l, &n2);
    CHECK(again && n2 == n0 && memcmp(plain, again, n0) == 0);
    free(plain);
    free(profiled);
    free(again);
    unload(&l);
}

/* Capacity 2: two events, then the execute event; the rest dropped. */
static void test_small_capacity(void) {
    loaded l;
    if (load(FX("partial_delegation"), &l) != 0) return;
    CHECK(cml_method_profile_enable(l.m, 2) == CML_OK);
    size_t nb;
    free(run_copy(&l, &nb));
    const cml_profile_event *ev;
    uint64_t dropped = 0;
    size_t n = cml_method_profile_events(l.m, &ev, &dropped);
    CHECK(n == 3 && dropped == 6 - 2); /* 3 instructions + 3 ops, execute kept */
    CHECK(n == 3 && ev[2].kind == CML_PROFILE_EXECUTE);
    CHECK(cml_method_profile_enable(l.m, (size_t)1 << 30) == CML_ERR_INVALID_ARG);
    CHECK(strstr(cml_method_errmsg(l.m), "capacity") != NULL);
    CHECK(cml_method_profile_enable(NULL, 0) == CML_ERR_INVALID_ARG);
    cml_method_profile_disable(NULL);
    CHECK(cml_method_profile_events(NULL, NULL, NULL) == 0);
    unload(&l); /* destroy frees the still-enabled storage (ASan checks) */
}

/* debug_info.json gives each op of the mlp delegate its ExecuTorch debug
 * handle (values from the fixture's payload: cml extract). */
static void test_debug_handles(void) {
    loaded l;
    if (load(FX("mlp"), &l) != 0) return;
    CHECK(cml_method_profile_enable(l.m, 0) == CML_OK);
    size_t nb;
    free(run_copy(&l, &nb));
    const cml_profile_event *ev;
    size_t n = cml_method_profile_events(l.m, &ev, NULL);
    static const struct { const char *output; int64_t handle; } want[] = {
        {"aten_linear_default", 1}, {"aten_relu_default", 2},
        {"aten_linear_default_1", 3}, {"aten_softmax_int", 4}};
    size_t found = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t w = 0; w < 4; w++)
            if (ev[i].kind == CML_PROFILE_MIL_OP && strcmp(ev[i].output, want[w].output) == 0) {
                CHECK_MSG(ev[i].debug_handle == want[w].handle, "%s: %lld", want[w].output,
                          (long long)ev[i].debug_handle);
                found++;
            }
    CHECK(found == 4);
    unload(&l);
}

/* Failing allocations leave profiling off and the method working; with
 * profiling on, execute still allocates nothing. */
static int fail_allocs;
static void *test_alloc(void *ctx, size_t size, size_t align) {
    (void)ctx;
    if (fail_allocs) return NULL;
    void *p = NULL;
    return posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1)
               ? NULL : p;
}
static void test_free(void *ctx, void *p) { (void)ctx; free(p); }

static void test_nomem(void) {
    cml_allocator a = {NULL, test_alloc, test_free};
    cml_program_params pp = {.struct_size = sizeof pp, .allocator = &a};
    cml_program *p = NULL;
    cml_method *m = NULL;
    char err[256];
    if (cml_program_open_file(FX("mlp/model.pte"), &pp, &p, err, sizeof err) != CML_OK) {
        CHECK_MSG(0, "%s", err);
        return;
    }
    CHECK(cml_method_create(p, NULL, NULL, &m) == CML_OK);
    fail_allocs = 1;
    CHECK(cml_method_profile_enable(m, 0) == CML_ERR_NOMEM);
    CHECK(cml_method_profile_enable(m, 5) == CML_ERR_NOMEM);
    fail_allocs = 0;
    CHECK(cml_method_profile_events(m, NULL, NULL) == 0);
    /* Enabled, execute allocates nothing: every allocation fails now. */
    CHECK(cml_method_profile_enable(m, 0) == CML_OK);
    static const int64_t sizes[] = {2, 64};
    static float x[2 * 64];
    cml_tensor_view v = {CML_DTYPE_FLOAT32, 2, sizes, x, sizeof x};
    CHECK(cml_method_set_input(m, 0, &v) == CML_OK);
    fail_allocs = 1;
    for (int r = 0; r < 2; r++) CHECK_MSG(cml_method_execute(m) == CML_OK, "%s", cml_method_errmsg(m));
    fail_allocs = 0;
    CHECK(cml_method_profile_events(m, NULL, NULL) == 1 + 4 + 1);
    cml_method_destroy(m);
    cml_program_close(p);
}

/* ---- nested blocks: a while_loop run with a sink (MIL layer alone) ---- */

static void test_nested_blocks(void) {
    cml_mil_graph g;
    cml_error err = {0};
    cml_status st = cml_mil_compile(mb_while_loop_program(), NULL, NULL, 0, NULL, &g, &err);
    CHECK_MSG(st == CML_OK, "%s", err.msg);
    if (st != CML_OK) return;
    cml_mil_value *x = &g.values[cml_mil_find_input(&g, "x")];
    ((float *)x->data)[0] = 1.5f, ((float *)x->data)[1] = -2.0f;
    cml_profile_event ev[64];
    cml_prof sink = {.events = ev, .cap = 64, .chain = 3, .instruction = 7, .delegate = 1};
    g.prof = &sink;
    CHECK_MSG(cml_mil_run(&g, NULL, &err) == CML_OK, "%s", err.msg);
    /* less runs 6 times, each add 5 times (depth 2), while_loop once (depth 1), last. */
    size_t less = 0, add = 0;
    CHECK_MSG(sink.n == 17 && sink.dropped == 0, "%u events", sink.n);
    const cml_profile_event *loop = &ev[sink.n - 1];
    CHECK(strcmp(loop->name, "while_loop") == 0 && loop->depth == 1);
    CHECK(strcmp(loop->output, "i_final") == 0);
    for (uint32_t i = 0; i + 1 < sink.n; i++) {
        less += strcmp(ev[i].name, "less") == 0;
        add += strcmp(ev[i].name, "add") == 0;
        CHECK(ev[i].depth == 2 && ev[i].chain == 3 && ev[i].instruction == 7 && ev[i].delegate == 1);
        CHECK(ev[i].start_ns >= loop->start_ns && ev[i].end_ns <= loop->end_ns);
        CHECK(ev[i].debug_handle == -1 && ev[i].end_ns >= ev[i].start_ns);
    }
    CHECK(less == 6 && add == 10);
    const float *acc = g.values[g.main.outputs[0]].data;
    CHECK(acc[0] == 48.0f && acc[1] == -64.0f);
    /* A full sink counts the rest. */
    sink.n = 0;
    sink.cap = 4;
    CHECK(cml_mil_run(&g, NULL, &err) == CML_OK);
    CHECK(sink.n == 4 && sink.dropped == 13);
    cml_mil_graph_free(&g);
    mb_free_all();
}

/* ---- CLI ---- */

static char tmpdir[] = "/tmp/cml_test_profile_XXXXXX";

static char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    if (size) *size = got;
    return buf;
}

static int cli(const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s/out' 2>'%s/err' </dev/null", CML_CLI_PATH, args,
             tmpdir, tmpdir);
    int rc = system(cmd);
    return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void check_trace(const char *path, int want_events) {
    char *text = slurp(path, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    CHECK_MSG(j != NULL, "%s is not JSON", path);
    const cJSON *evs = cJSON_GetObjectItemCaseSensitive(j, "traceEvents");
    CHECK(cJSON_IsArray(evs) && cJSON_GetArraySize(evs) == want_events);
    int mil = 0, execute = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, evs) {
        const cJSON *ph = cJSON_GetObjectItem(e, "ph"), *d = cJSON_GetObjectItem(e, "dur");
        const cJSON *cat = cJSON_GetObjectItem(e, "cat"), *ts = cJSON_GetObjectItem(e, "ts");
        CHECK(cJSON_IsString(ph) && strcmp(ph->valuestring, "X") == 0);
        CHECK(cJSON_IsNumber(d) && d->valuedouble >= 0 && cJSON_IsNumber(ts) && ts->valuedouble >= 0);
        mil += cJSON_IsString(cat) && strcmp(cat->valuestring, "mil op") == 0;
        execute += cJSON_IsString(cat) && strcmp(cat->valuestring, "execute") == 0;
    }
    CHECK(mil == 3 * 2 && execute == 2);
    cJSON_Delete(j);
    free(text);
}

static void test_cli(void) {
    if (!mkdtemp(tmpdir)) {
        CHECK_MSG(0, "mkdtemp");
        return;
    }
    char args[2048], path[600];
    const char *model = FX("partial_delegation");
    snprintf(args, sizeof args,
             "run '%s/model.pte' --input '%s/input_0.npy' --call --profile --trace '%s/t.json' "
             "--etdump '%s/e.etdp'", model, model, tmpdir, tmpdir);
    CHECK(cli(args) == 0);
    snprintf(path, sizeof path, "%s/out", tmpdir);
    char *out = slurp(path, NULL);
    CHECK(out && strstr(out, "profile: 2 executes"));
    CHECK(out && strstr(out, "linear aten_linear_default [delegate 0]"));
    CHECK(out && strstr(out, "aten::sigmoid.out"));
    CHECK(out && strstr(out, "CoreMLBackend [delegate 1]"));
    CHECK(out && strstr(out, "total: "));
    /* Rows are sorted by total time. */
    double prev = 1e300;
    int rows = 0;
    for (char *line = out ? strstr(out, "\n  ") : NULL; line; line = strstr(line + 1, "\n  ")) {
        char kind[16];
        unsigned long long count;
        double total;
        if (sscanf(line, " %15s %llu %lf", kind, &count, &total) == 3 ||
            sscanf(line, " mil op %llu %lf", &count, &total) == 2) {
            CHECK(total <= prev && count == 2);
            prev = total;
            rows++;
        }
    }
    CHECK_MSG(rows == 6, "%d rows:\n%s", rows, out ? out : "");
    free(out);
    snprintf(path, sizeof path, "%s/t.json", tmpdir);
    check_trace(path, 2 * (3 + 3 + 1));
    size_t size = 0;
    snprintf(path, sizeof path, "%s/e.etdp", tmpdir);
    unsigned char *ed = (unsigned char *)slurp(path, &size);
    CHECK(ed && size > 12 && size % 8 == 0 && memcmp(ed + 8, "ED00", 4) == 0);
    CHECK(ed && (size_t)(ed[0] | ed[1] << 8 | ed[2] << 16 | (size_t)ed[3] << 24) == size - 4);
    free(ed);
    snprintf(args, sizeof args, "run '%s/model.pte' --trace", model);
    CHECK(cli(args) == 2);
    snprintf(args, sizeof args, "run '%s/model.pte' --trace /nonexistent-dir/t.json", model);
    CHECK(cli(args) == 1);
    snprintf(args, sizeof args, "rm -rf '%s'", tmpdir);
    CHECK(system(args) == 0);
}

int main(void) {
    test_fixture(FX("mlp"), 1 + 4 + 1);
    test_fixture(FX("partial_delegation"), 3 + 3 + 1);
    test_fixture(FX("portable_mlp"), 6 + 1);
    test_small_capacity();
    test_debug_handles();
    test_nomem();
    test_nested_blocks();
    test_cli();
    TEST_MAIN_END();
}
