/* cml_method_params.max_steps bounds the work of one execute on a program
 * that loops (issue 12: no input exhausts the host; fuzz_program found a
 * .pte whose JumpFalseCall loops forever, a valid program that would spin
 * for hours under the fixed 10,000,000-step bound).
 *   - .pte: forward(x) = x + 1 followed by JumpFalseCall(false -> 0), a loop
 *     without end. With max_steps = N, execute fails with CML_ERR_STATE and
 *     "more than N steps". With the loop exited (the condition true) the add
 *     runs once: 2 steps, so max_steps 2 passes and 1 fails.
 *   - ML Program: the shared while_loop program (body run 5 times) fails
 *     with max_steps 4 ("more than 4 iterations") and gives x * 32 with 5
 *     and with the default.
 *   - A struct_size from before max_steps existed is accepted (defaults). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "pte_models.h"
#include "unit/mil_builder.h"

enum { AT_FLOAT32 = 65568 };

/* The AddModel with a second instruction JumpFalseCall(ev[4] = Bool cond,
 * destination 0). */
static uint8_t *build_loop(bool cond, size_t *size, pb **out_b) {
    add_model m;
    build_add_model(&m, 32);
    pb *b = m.b;
    pb_node *ev[5];
    for (int i = 0; i < 4; i++) ev[i] = m.ev[i];
    pb_node *bt = pb_table(b);
    pb_u8(bt, 0, cond ? 1 : 0);
    ev[4] = et_evalue(b, T_BOOL, bt);
    pb_ref(m.plan, 2, pb_tvec(b, 5, ev));
    pb_node *j = pb_table(b);
    pb_i32(j, 0, 4);
    pb_i32(j, 1, 0);
    pb_node *instrs[2] = {m.instr, et_instr(b, I_JUMP_FALSE, j)};
    pb_ref(m.plan, 5, pb_tvec_of(b, 1, et_chain(b, pb_tvec(b, 2, instrs))));
    *out_b = b;
    return finish_add_model(&m, size);
}

static cml_method *create(cml_program *p, uint32_t struct_size, uint32_t max_steps) {
    cml_method_params mp = {sizeof mp, 1, CML_COMPUTE_DEFAULT, max_steps};
    mp.struct_size = struct_size;
    cml_method *m = NULL;
    cml_status st = cml_method_create(p, NULL, &mp, &m);
    CHECK_MSG(st == CML_OK, "create: %s", cml_program_errmsg(p));
    return st == CML_OK ? m : NULL;
}

/* Runs x = [1, 2, 3]; returns the status and output 0 in y (when set). */
static cml_status run_add(cml_method *m, float y[3]) {
    float x[3] = {1, 2, 3};
    int64_t shape[1] = {3};
    cml_tensor_view in = {CML_DTYPE_FLOAT32, 1, shape, x, sizeof x};
    CHECK(cml_method_set_input(m, 0, &in) == CML_OK);
    cml_status st = cml_method_execute(m);
    cml_tensor_view out;
    if (st == CML_OK && cml_method_output(m, 0, &out) == CML_OK && out.nbytes == 3 * sizeof(float))
        memcpy(y, out.data, 3 * sizeof(float));
    return st;
}

static void test_pte_loop(void) {
    pb *b = NULL;
    size_t n = 0;
    uint8_t *d = build_loop(false, &n, &b);
    cml_program *p = NULL;
    char err[256] = "";
    cml_program_params pp = {.struct_size = sizeof pp};
    CHECK_MSG(d && cml_program_open_memory(d, n, &pp, &p, err, sizeof err) == CML_OK, "%s", err);
    static const uint32_t limits[] = {1, 2, 7, 1000};
    for (size_t i = 0; p && i < sizeof limits / sizeof limits[0]; i++) {
        cml_method *m = create(p, sizeof(cml_method_params), limits[i]);
        if (!m) continue;
        float y[3] = {0};
        cml_status st = run_add(m, y);
        char want[96];
        snprintf(want, sizeof want, "more than %u steps", limits[i]);
        CHECK_MSG(st == CML_ERR_STATE && strstr(cml_method_errmsg(m), want),
                  "max_steps %u: status %d, '%s'", limits[i], st, cml_method_errmsg(m));
        cml_method_destroy(m);
    }
    cml_program_close(p);
    free(d);
    pb_free(b);

    /* the same loop, exited: runs the add once, with any bound >= 2 */
    d = build_loop(true, &n, &b);
    p = NULL;
    CHECK_MSG(d && cml_program_open_memory(d, n, &pp, &p, err, sizeof err) == CML_OK, "%s", err);
    cml_method *m = p ? create(p, sizeof(cml_method_params), 2) : NULL;
    float y[3] = {0};
    CHECK_MSG(m && run_add(m, y) == CML_OK, "%s", m ? cml_method_errmsg(m) : "no method");
    CHECK(y[0] == 2 && y[1] == 3 && y[2] == 4);
    cml_method_destroy(m);
    m = p ? create(p, sizeof(cml_method_params), 1) : NULL; /* 2 steps needed */
    CHECK(m && run_add(m, y) == CML_ERR_STATE);
    cml_method_destroy(m);
    /* the older layout (no max_steps): accepted, default bound */
    m = p ? create(p, (uint32_t)offsetof(cml_method_params, max_steps), 1) : NULL;
    y[0] = 0;
    CHECK_MSG(m && run_add(m, y) == CML_OK && y[0] == 2, "older struct_size");
    cml_method_destroy(m);
    cml_program_close(p);
    free(d);
    pb_free(b);
}

static void test_while_loop(void) {
    char dir[] = "/tmp/cml_step_limit_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK_MSG(0, "mkdtemp");
        return;
    }
    char pkg[128];
    snprintf(pkg, sizeof pkg, "%s/loop.mlpackage", dir);
    static const int64_t d2[] = {2};
    mb_feature *in = mb_feature_array("x", AT_FLOAT32, 1, d2);
    mb_feature *outs[2] = {mb_feature_array("acc_final", AT_FLOAT32, 0, NULL),
                           mb_feature_array("i_final", 131104 /* INT32 */, 0, NULL)};
    CHECK(mb_write_package(pkg, 9, mb_while_loop_program(), &in, 1, outs, 2, NULL, 0) == 0);
    cml_program *p = NULL;
    char err[256] = "";
    cml_program_params pp = {.struct_size = sizeof pp};
    CHECK_MSG(cml_program_open_file(pkg, &pp, &p, err, sizeof err) == CML_OK, "%s", err);
    static const uint32_t limits[] = {4, 5, 0};
    for (size_t i = 0; p && i < 3; i++) {
        cml_method *m = create(p, sizeof(cml_method_params), limits[i]);
        if (!m) continue;
        float x[2] = {1.5f, -2};
        int64_t shape[1] = {2};
        cml_tensor_view v = {CML_DTYPE_FLOAT32, 1, shape, x, sizeof x};
        CHECK(cml_method_set_input(m, 0, &v) == CML_OK);
        cml_status st = cml_method_execute(m);
        if (limits[i] == 4) {
            CHECK_MSG(st == CML_ERR_STATE && strstr(cml_method_errmsg(m), "more than 4 iterations"),
                      "while_loop, max_steps 4: %d '%s'", st, cml_method_errmsg(m));
        } else {
            cml_tensor_view out;
            CHECK_MSG(st == CML_OK, "while_loop, max_steps %u: %s", limits[i], cml_method_errmsg(m));
            CHECK(st == CML_OK && cml_method_output(m, 0, &out) == CML_OK &&
                  ((const float *)out.data)[0] == 48.0f && ((const float *)out.data)[1] == -64.0f);
        }
        cml_method_destroy(m);
    }
    cml_program_close(p);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

int main(void) {
    test_pte_loop();
    test_while_loop();
    mb_free_all();
    TEST_MAIN_END();
}
