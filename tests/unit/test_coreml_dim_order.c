/* Core ML delegate I/O of any dim order: the CoreMLBackend reads inputs and
 * writes outputs through the ExecuTorch tensor's strides, as the upstream
 * delegate builds its arrays from strides. The real transformer_fp32 and
 * transformer_fp16 delegates run once with contiguous tensors and once with
 * a permuted input and output (and an fp16 output tensor); the logical
 * results must be identical. */
#include <stdlib.h>
#include <string.h>

#include "core/fp16.h"
#include "coreml/mil_backend.h"
#include "fixture_util.h"
#include "harness.h"
#include "pte/pte.h"

#define MAXN (1 << 16)

typedef struct et_arg {
    cml_evalue v;
    cml_tensor t;
} et_arg;

/* A [1, 16, 64] tensor at data whose memory follows dim order `order`. */
static void make_arg(et_arg *a, cml_dtype dt, const uint8_t order[3], void *data) {
    memset(a, 0, sizeof *a);
    a->t.dtype = dt;
    a->t.rank = 3;
    a->t.sizes[0] = 1;
    a->t.sizes[1] = 16;
    a->t.sizes[2] = 64;
    memcpy(a->t.dim_order, order, 3);
    a->t.data = data;
    a->t.capacity = (size_t)16 * 64 * cml_dtype_size(dt);
    a->v.kind = CML_VALUE_TENSOR;
    a->v.u.t = &a->t;
}

/* Logical element (i, j) of a [1, 16, 64] tensor, through its strides. */
static float get(const cml_tensor *t, int i, int j) {
    int64_t s[CML_MAX_DIMS];
    cml_tensor_strides(t, s);
    int64_t off = i * s[1] + j * s[2];
    if (t->dtype == CML_DTYPE_FLOAT16) return cml_fp16_to_fp32(((const uint16_t *)t->data)[off]);
    return ((const float *)t->data)[off];
}

static cml_status run(void *h, et_arg *in, et_arg *out) {
    cml_error err = {0};
    cml_kernel_ctx k = {&err, NULL, NULL, 0, NULL, 0, false};
    cml_evalue *args[2] = {&in->v, &out->v};
    cml_status st = cml_coreml_backend.execute(h, &k, args, 2);
    if (st != CML_OK) fprintf(stderr, "execute: %s\n", err.msg);
    return st;
}

static void check_case(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/model.pte", CML_FIXTURE_DIR, name);
    size_t n = 0;
    char *file = fx_read_file(path, &n);
    CHECK_MSG(file != NULL, "%s", path);
    if (!file) return;
    uint8_t *data = aligned_alloc(64, (n + 63) / 64 * 64);
    memcpy(data, file, n);
    free(file);
    cml_pte_program prog;
    cml_error err = {0};
    CHECK_MSG(cml_pte_parse(data, n, NULL, &prog, &err) == CML_OK, "%s", err.msg);
    const cml_pte_delegate *d = &prog.plans[0].delegates[0];
    cml_backend_init_ctx ictx = {.err = &err, .program = &prog, .method_name = "forward"};
    void *h = NULL;
    cml_status st = cml_coreml_backend.init(&ictx, d->data, d->size, d->specs, d->nspecs, &h);
    CHECK_MSG(st == CML_OK, "%s: %s", name, err.msg);
    if (st == CML_OK) {
        static float x[MAXN], xt[MAXN], y0[MAXN], y1[MAXN];
        static uint16_t y2[MAXN];
        for (int i = 0; i < 16 * 64; i++) x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
        for (int i = 0; i < 16; i++) /* xt: x stored as [1, 64, 16] */
            for (int j = 0; j < 64; j++) xt[j * 16 + i] = x[i * 64 + j];
        static const uint8_t id[3] = {0, 1, 2}, perm[3] = {0, 2, 1};
        et_arg in, out;
        make_arg(&in, CML_DTYPE_FLOAT32, id, x);
        make_arg(&out, CML_DTYPE_FLOAT32, id, y0);
        CHECK(run(h, &in, &out) == CML_OK);
        et_arg in2, out2, out3;
        make_arg(&in2, CML_DTYPE_FLOAT32, perm, xt);
        make_arg(&out2, CML_DTYPE_FLOAT32, perm, y1);
        CHECK(run(h, &in2, &out2) == CML_OK);
        make_arg(&out3, CML_DTYPE_FLOAT16, perm, y2);
        CHECK(run(h, &in2, &out3) == CML_OK);
        int bad = 0, bad16 = 0;
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 64; j++) {
                float ref = get(&out.t, i, j);
                bad += get(&out2.t, i, j) != ref;
                bad16 += get(&out3.t, i, j) != cml_fp16_to_fp32(cml_fp32_to_fp16(ref));
            }
        CHECK_MSG(bad == 0, "%s: %d permuted outputs differ", name, bad);
        CHECK_MSG(bad16 == 0, "%s: %d fp16 permuted outputs differ", name, bad16);
        /* The permuted buffer really is laid out [1, 64, 16]. */
        CHECK(y1[1] == y0[64] && y1[16] == y0[1]);
        cml_coreml_backend.destroy(h);
    }
    cml_pte_free(&prog);
    free(data);
}

int main(void) {
    check_case("transformer_fp32");
    check_case("transformer_fp16");
    TEST_MAIN_END();
}
