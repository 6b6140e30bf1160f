/* cml_method_execute never allocates for shapes it has seen: every fixture
 * is loaded with a counting allocator, then the allocator is armed to fail
 * and the method is executed twice — both runs must succeed with zero
 * allocations. A method with flexible inputs plans memory for their default
 * shapes at load; when the fixture's inputs have other shapes, the first
 * execute re-plans (allowed to allocate, unarmed) and only the repeats are
 * checked. */
#include <stdlib.h>
#include <string.h>

#include "exec/internal.h"
#include "fixture_util.h"
#include "harness.h"
#include "npy.h"

typedef struct counting_allocator {
    size_t allocs;
    int armed; /* 1: every allocation fails and is counted */
    size_t armed_allocs;
} counting_allocator;

static void *count_alloc(void *ctx, size_t size, size_t align) {
    counting_allocator *c = ctx;
    if (c->armed) {
        c->armed_allocs++;
        return NULL;
    }
    c->allocs++;
    void *p = NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1) != 0)
        return NULL;
    return p;
}

static void count_free(void *ctx, void *ptr) {
    (void)ctx;
    free(ptr);
}

/* Binds input_<i><suffix>.npy for every input; returns 0 when a file is
 * missing (the case uses another naming scheme). */
static int bind_inputs(cml_method *m, const char *dir, const char *suffix) {
    for (size_t i = 0; i < cml_method_input_count(m); i++) {
        char path[1400], err[256];
        snprintf(path, sizeof path, "%s/input_%zu%s.npy", dir, i, suffix);
        cml_npy npy = {0};
        if (cml_npy_read(path, &npy, err, sizeof err) != 0) return 0;
        cml_tensor_view v = {npy.dtype, npy.rank, npy.sizes, npy.data, npy.nbytes};
        cml_status st = cml_method_set_input(m, i, &v);
        cml_npy_free(&npy);
        if (st != CML_OK) return 0;
    }
    return 1;
}

/* Whether every input is bound at its default shape (load planned for it). */
static int at_defaults(const cml_method *m) {
    for (size_t i = 0; i < cml_method_input_count(m); i++) {
        cml_io_shape s = {.struct_size = sizeof s};
        if (cml_method_input_shape(m, i, &s) != CML_OK) return 0;
        if (s.rank == 0) continue;
        const cml_evalue *v = &m->values[m->inputs[i]];
        if (v->kind != CML_VALUE_TENSOR || v->u.t->rank != s.rank ||
            memcmp(v->u.t->sizes, s.default_sizes, sizeof(int64_t) * (size_t)s.rank) != 0)
            return 0;
    }
    return 1;
}

static void check_case(const fixture_case *c) {
    counting_allocator counter = {0};
    cml_allocator a = {&counter, count_alloc, count_free};
    cml_program_params pp = {.struct_size = sizeof pp, .allocator = &a};
    char path[1400], err[512];
    snprintf(path, sizeof path, "%s/model.pte", c->dir);
    cml_program *prog = NULL;
    if (cml_program_open_file(path, &pp, &prog, err, sizeof err) != CML_OK) {
        CHECK_MSG(0, "%s: %s", c->name, err);
        return;
    }
    const char *method = fx_str(c->json, "method");
    const cJSON *methods = cJSON_GetObjectItemCaseSensitive(c->json, "methods");
    char suffix[300] = "";
    if (cJSON_IsArray(methods) && cJSON_GetArraySize(methods) > 0) {
        method = cJSON_GetArrayItem(methods, 0)->valuestring;
        snprintf(suffix, sizeof suffix, ".%s", method);
    } else {
        char probe[1400];
        snprintf(probe, sizeof probe, "%s/input_0.call1.npy", c->dir);
        if (fx_exists(probe)) snprintf(suffix, sizeof suffix, ".call1");
    }
    cml_method_params mp = {sizeof mp, 2, CML_COMPUTE_DEFAULT, 0};
    cml_method *m = NULL;
    if (cml_method_create(prog, method, &mp, &m) != CML_OK) {
        CHECK_MSG(0, "%s: %s", c->name, cml_program_errmsg(prog));
        cml_program_close(prog);
        return;
    }
    if (bind_inputs(m, c->dir, suffix)) {
        if (!at_defaults(m)) CHECK_MSG(cml_method_execute(m) == CML_OK, "%s: %s", c->name,
                                       cml_method_errmsg(m));
        size_t before = counter.allocs;
        counter.armed = 1;
        cml_status s1 = cml_method_execute(m);
        /* Inputs live in planned memory that later ops may reuse once they
         * are dead (ExecuTorch's memory plan): bind them again, as a caller
         * must before each execute. */
        int rebound = bind_inputs(m, c->dir, suffix);
        cml_status s2 = cml_method_execute(m);
        counter.armed = 0;
        CHECK_MSG(rebound, "%s: binding inputs again failed", c->name);
        CHECK_MSG(s1 == CML_OK && s2 == CML_OK, "%s: execute failed: %s", c->name,
                  cml_method_errmsg(m));
        CHECK_MSG(counter.armed_allocs == 0 && counter.allocs == before,
                  "%s: execute allocated %zu times", c->name, counter.armed_allocs);
        printf("%s: %zu allocations at load, 0 at execute\n", c->name, before);
    } else {
        CHECK_MSG(0, "%s: could not bind inputs", c->name);
    }
    cml_method_destroy(m);
    cml_program_close(prog);
}

int main(void) {
    fixture_case *cases;
    int n = fx_list_cases(&cases), checked = 0;
    for (int i = 0; i < n; i++) {
        const fixture_case *c = &cases[i];
        if (!c->json || !fx_runnable(c) || fx_str(c->json, "expect_error")) continue;
        check_case(c);
        checked++;
    }
    CHECK(checked > 0);
    fx_free_cases(cases, n);
    TEST_MAIN_END();
}
