/* Thread safety as cml.h documents it: one program shared by several
 * threads, each creating, executing and destroying its own methods (with
 * a 2-thread pool each) at the same time, for a portable .pte, a Core ML
 * delegated .pte (fp32 and fp16) and a standalone .mlpackage; creates that
 * fail concurrently leave a clean message on the program. Every output must
 * match the PyTorch reference. `make test-tsan` runs this under
 * ThreadSanitizer. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "coreml/extract.h"
#include "exec/internal.h"
#include "fixture_util.h"
#include "harness.h"
#include "npy.h"

#define NTHREADS 4
#define ROUNDS 3

typedef struct shared_case {
    const char *name;
    cml_program *prog;
    cml_npy in, want;
    double atol, rtol;
    int failures; /* written by the owning thread only */
} shared_case;

static int run_once(shared_case *c) {
    cml_method_params mp = {sizeof mp, 2, CML_COMPUTE_DEFAULT, 0};
    cml_method *m = NULL;
    if (cml_method_create(c->prog, NULL, &mp, &m) != CML_OK) return 0;
    cml_tensor_view v = {c->in.dtype, c->in.rank, c->in.sizes, c->in.data, c->in.nbytes};
    int ok = cml_method_set_input(m, 0, &v) == CML_OK && cml_method_execute(m) == CML_OK;
    cml_tensor_view o;
    double err = 0;
    ok = ok && cml_method_output(m, 0, &o) == CML_OK &&
         fx_compare(o.dtype, o.data, c->want.dtype, c->want.data, c->want.numel, c->atol, c->rtol,
                    &err) == 0;
    cml_method_destroy(m);
    return ok;
}

typedef struct worker {
    shared_case *cases;
    int ncases, id, bad;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < w->ncases; k++) {
            shared_case *c = &w->cases[(k + w->id) % w->ncases];
            w->bad += !run_once(c);
            /* A failing create on the same program, concurrently. */
            cml_method *m = NULL;
            w->bad += cml_method_create(c->prog, "no_such_method", NULL, &m) != CML_ERR_NOT_FOUND;
        }
    return NULL;
}

static int load_case(shared_case *c, const char *name, const char *model, double atol,
                     double rtol) {
    char path[1400], err[512];
    c->name = name;
    c->atol = atol;
    c->rtol = rtol;
    snprintf(path, sizeof path, "%s/%s/input_0.npy", CML_FIXTURE_DIR, name);
    if (cml_npy_read(path, &c->in, err, sizeof err) != 0) return 0;
    snprintf(path, sizeof path, "%s/%s/expected_0.npy", CML_FIXTURE_DIR, name);
    if (cml_npy_read(path, &c->want, err, sizeof err) != 0) return 0;
    return cml_program_open_file(model, NULL, &c->prog, err, sizeof err) == CML_OK;
}

int main(void) {
    char tmp[] = "/tmp/cml_threads_XXXXXX";
    CHECK(mkdtemp(tmp) != NULL);
    /* The mlp delegate as a standalone package. */
    cml_program *src = NULL;
    char err[512], pkg[1200];
    CHECK(cml_program_open_file(CML_FIXTURE_DIR "/mlp/model.pte", NULL, &src, err, sizeof err) ==
          CML_OK);
    cml_error e = {0};
    CHECK(src && cml_coreml_extract(&src->pte, tmp, NULL, &e) == CML_OK);
    cml_program_close(src);
    snprintf(pkg, sizeof pkg, "find '%s' -name model.mlpackage -type d", tmp);
    FILE *f = popen(pkg, "r");
    CHECK(f && fgets(pkg, sizeof pkg, f));
    if (f) pclose(f);
    pkg[strcspn(pkg, "\n")] = 0;

    shared_case cases[4];
    memset(cases, 0, sizeof cases);
    int n = 0;
    n += load_case(&cases[n], "portable_mlp", CML_FIXTURE_DIR "/portable_mlp/model.pte", 1e-5, 1e-5);
    n += load_case(&cases[n], "mlp", CML_FIXTURE_DIR "/mlp/model.pte", 1e-4, 1e-4);
    n += load_case(&cases[n], "transformer_fp16", CML_FIXTURE_DIR "/transformer_fp16/model.pte",
                   2e-2, 1e-2);
    n += load_case(&cases[n], "mlp", pkg, 1e-4, 1e-4);
    CHECK(n == 4);

    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (worker){cases, n, i, 0};
        CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0);
    }
    int bad = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        bad += w[i].bad;
    }
    CHECK_MSG(bad == 0, "%d concurrent runs went wrong", bad);
    for (int i = 0; i < n; i++) {
        CHECK_MSG(strstr(cml_program_errmsg(cases[i].prog), "no_such_method") != NULL, "%s",
                  cml_program_errmsg(cases[i].prog));
        cml_program_close(cases[i].prog);
        cml_npy_free(&cases[i].in);
        cml_npy_free(&cases[i].want);
    }
    printf("%d threads x %d rounds x %d programs\n", NTHREADS, ROUNDS, n);
    snprintf(pkg, sizeof pkg, "rm -rf '%s'", tmp);
    CHECK(system(pkg) == 0);
    TEST_MAIN_END();
}
