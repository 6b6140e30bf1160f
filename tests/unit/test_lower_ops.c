/*
 * `cml lower` converters on a synthetic portable program (built with the
 * test FlatBuffers writer): f = div(sub(exp(tanh(sigmoid(mm(x, y)))), b), d)
 * with b = sigmoid(..), d = exp(..): mm, sigmoid, tanh, exp, sub, div. The
 * lowered program (fp32, one delegate) and the portable one are run by the
 * library and compared with a naive C reference.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cml.h"
#include "harness.h"
#include "lower/lower.h"
#include "pte_models.h"

enum { VX, VY, VA, VB, VC, VD, VONE, VE, VF, NV };

static uint8_t *build_chain(size_t *size) {
    pb *b = pb_new(32);
    static const int32_t sx[] = {2, 3}, sy[] = {3, 4}, so[] = {2, 4};
    static const uint8_t o2[] = {0, 1};
    static const uint32_t off[] = {0, 32, 80, 112, 144, 176, 0, 208, 240};
    pb_node *ev[NV];
    for (int v = 0; v < NV; v++) {
        if (v == VONE) { ev[v] = et_int(b, 1); continue; }
        const int32_t *s = v == VX ? sx : v == VY ? sy : so;
        ev[v] = et_evalue(b, T_TENSOR, et_tensor(b, ST_FLOAT, 2, s, o2, 0, 1, off[v]));
    }
    static const int32_t a0[] = {VX, VY, VA, VA}, a1[] = {VA, VB, VB}, a2[] = {VB, VC, VC},
                         a3[] = {VC, VD, VD}, a4[] = {VD, VB, VONE, VE, VE}, a5[] = {VE, VD, VF, VF};
    pb_node *ins[6] = {et_call(b, I_KERNEL, 0, 4, a0), et_call(b, I_KERNEL, 1, 3, a1),
                       et_call(b, I_KERNEL, 2, 3, a2), et_call(b, I_KERNEL, 3, 3, a3),
                       et_call(b, I_KERNEL, 4, 5, a4), et_call(b, I_KERNEL, 5, 4, a5)};
    pb_node *ops[6] = {et_operator(b, "aten::mm", "out"), et_operator(b, "aten::sigmoid", "out"),
                       et_operator(b, "aten::tanh", "out"), et_operator(b, "aten::exp", "out"),
                       et_operator(b, "aten::sub", "out"), et_operator(b, "aten::div", "out")};
    pb_node *plan = pb_table(b);
    pb_ref(plan, 0, pb_str(b, "forward"));
    pb_ref(plan, 1, et_meta(b, "[1, {}]", "[1, {}]"));
    pb_ref(plan, 2, pb_tvec(b, NV, ev));
    pb_ref(plan, 3, pb_vec_i32(b, 2, (const int32_t[]){VX, VY}));
    pb_ref(plan, 4, pb_vec_i32(b, 1, (const int32_t[]){VF}));
    pb_ref(plan, 5, pb_tvec_of(b, 1, et_chain(b, pb_tvec(b, 6, ins))));
    pb_ref(plan, 6, pb_tvec(b, 6, ops));
    pb_ref(plan, 7, pb_tvec(b, 0, NULL));
    pb_ref(plan, 8, pb_vec_i64(b, 2, (const int64_t[]){0, 272}));
    pb_node *root = pb_table(b);
    pb_ref(root, 1, pb_tvec_of(b, 1, plan));
    pb_ref(root, 2, pb_tvec(b, 0, NULL));
    pb_ref(root, 3, pb_tvec(b, 0, NULL));
    pb_ref(root, 4, pb_tvec(b, 0, NULL));
    uint8_t *d = pb_finish(b, root, size);
    uint8_t *al = d ? aligned_alloc(64, (*size + 64) / 64 * 64) : NULL;
    if (al) memcpy(al, d, *size);
    free(d);
    pb_free(b);
    return al;
}

static void reference(const float *x, const float *y, float *f) {
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) {
            float a = 0;
            for (int k = 0; k < 3; k++) a += x[i * 3 + k] * y[k * 4 + j];
            float s = 1.0f / (1.0f + expf(-a)), d = expf(tanhf(s));
            f[i * 4 + j] = (d - s) / d;
        }
}

static void run(const uint8_t *pte, size_t size, const float *x, const float *y, float *out) {
    cml_program *p = NULL;
    cml_method *m = NULL;
    char e[512];
    CHECK_MSG(cml_program_open_memory(pte, size, NULL, &p, e, sizeof e) == CML_OK, "%s", e);
    CHECK(p && cml_method_create(p, NULL, NULL, &m) == CML_OK);
    static const int64_t sx[] = {2, 3}, sy[] = {3, 4};
    cml_tensor_view vx = {CML_DTYPE_FLOAT32, 2, sx, (void *)x, 24};
    cml_tensor_view vy = {CML_DTYPE_FLOAT32, 2, sy, (void *)y, 48}, o;
    CHECK(m && cml_method_set_input(m, 0, &vx) == CML_OK && cml_method_set_input(m, 1, &vy) == CML_OK);
    CHECK_MSG(m && cml_method_execute(m) == CML_OK, "%s", m ? cml_method_errmsg(m) : "");
    if (m && cml_method_output(m, 0, &o) == CML_OK && o.nbytes == 32) memcpy(out, o.data, 32);
    cml_method_destroy(m);
    cml_program_close(p);
}

int main(void) {
    size_t n = 0;
    uint8_t *in = build_chain(&n);
    CHECK(in != NULL);
    if (!in) { TEST_MAIN_END(); }
    float x[6], y[12], ref[8], got[8] = {0}, lowered[8] = {0};
    for (int i = 0; i < 6; i++) x[i] = 0.3f * (float)i - 0.7f;
    for (int i = 0; i < 12; i++) y[i] = 0.25f * (float)(i % 5) - 0.4f;
    reference(x, y, ref);
    run(in, n, x, y, got); /* the test model itself is right */
    for (int i = 0; i < 8; i++) CHECK_NEAR(got[i], ref[i], 1e-6);
    cml_lower_options o = {.compute_units = "all", .lower_full_graph = true,
                           .weight_threshold = 2048, .block_size = 32};
    cml_lower_report rep;
    cml_error err = {0};
    uint8_t *out = NULL;
    size_t sz = 0;
    CHECK_MSG(cml_lower_pte(in, n, &o, &out, &sz, &rep, &err) == CML_OK, "%s", err.msg);
    CHECK(rep.ndelegates == 1 && rep.nlowered == 6 && rep.nportable == 0);
    uint8_t *al = out ? aligned_alloc(64, (sz + 64) / 64 * 64) : NULL;
    if (al) {
        memcpy(al, out, sz);
        run(al, sz, x, y, lowered);
        for (int i = 0; i < 8; i++) CHECK_NEAR(lowered[i], ref[i], 1e-6);
    }
    free(al);
    free(out);
    free(in);
    TEST_MAIN_END();
}
