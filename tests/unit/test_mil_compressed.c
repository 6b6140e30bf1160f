/* Compressed-weight linear (issue 5, mil/compressed.h): for each supported
 * compression form, linear_compressed (the weight decoded tile by tile from
 * the constexpr's compressed data at run) must equal, bit for bit, the
 * reference path: the constexpr op materialized as folding does it (run,
 * then fp16 rounding of the output), then the ordinary linear op.
 *
 * Bit-exactness holds because the decoded tile rows are the folded values
 * (same range decoder, same rounding) and each output element is one K-long
 * dot product computed by the same cml_k_gemm_f32; the gemm's accumulation
 * order over K does not depend on how many columns (N) a call covers. Sizes
 * are chosen so that the weight spans several tiles, with a partial last
 * tile, and runs are made with and without a thread pool.
 *
 * Also checked: the compressed op's output value never needs the weight's
 * data (it is NULL during the run), and a non-float constexpr output is
 * reported as not decodable. Each form also runs with a one-row x, where
 * blockwise int4 / int8 weights without offset take the quantized GEMV
 * (kernels.h cml_k_qgemv_f32), which must give the same bits too. */
#include "core/fp16.h"
#include "coreml/value.h"
#include "kernels/kinternal.h"
#include "mil/compressed.h"
#include "mil/constexpr_decode.h"
#include "mil/graph.h"
#include "test_mil_ops_util.h"

typedef struct form {
    const char *what;
    int64_t n, k;
} form;

/* A second node (linear) in t's graph. */
typedef struct lnode {
    cml_mil_node node;
    cml_mil_param params[3];
    cml_mil_vid vids[3];
    cml_mil_vid out;
} lnode;

static void lnode_init(tg *t, lnode *l, cml_mil_vid x, cml_mil_vid w, cml_mil_vid b) {
    memset(l, 0, sizeof *l);
    const char *names[3] = {"x", "weight", "bias"};
    cml_mil_vid v[3] = {x, w, b};
    for (int i = 0; i < 3; i++) {
        l->vids[i] = v[i];
        l->params[i].name = names[i];
        l->params[i].vids = &l->vids[i];
        l->params[i].count = 1;
    }
    l->node.type = "linear";
    l->node.name = "lin";
    l->node.def = cml_mil_op_find("linear");
    l->node.params = l->params;
    l->node.nparams = b == CML_MIL_NONE ? 2 : 3;
    l->out = t->g.nvalues++;
    t->g.values[l->out].name = "y";
    l->node.outputs = &l->out;
    l->node.noutputs = 1;
}

/* infer + run the node in t's graph; output data and scratch from tg_keep. */
static cml_status lnode_go(tg *t, lnode *l, cml_threadpool *pool) {
    cml_mil_ctx ctx = {.g = &t->g, .err = &t->err, .compiling = true};
    cml_status st = l->node.def->infer(&ctx, &l->node);
    if (st != CML_OK) return st;
    cml_mil_value *o = &t->g.values[l->out];
    if (!o->data) o->data = tg_keep(t, calloc(1, o->capacity));
    ctx.scratch = tg_keep(t, calloc(1, l->node.scratch ? l->node.scratch : 1));
    ctx.scratch_size = l->node.scratch;
    ctx.compiling = false;
    ctx.pool = pool;
    st = l->node.def->run(&ctx, &l->node);
    if (st == CML_OK) cml_mil_round_value(o);
    return st;
}

/* Runs linear (weight wc, materialized) and linear_compressed (weight: the
 * deferred constexpr's output) on x with `rows` rows of K; every output
 * must match bit for bit. Returns the compressed op's attr.gemv. */
static bool compare_linear(tg *t, const form *f, cml_mil_vid x, cml_mil_vid wc, cml_mil_vid b,
                           int64_t rows, cml_threadpool *pool) {
    cml_mil_value *wv = tg_o(t, 0);
    lnode ref, cmp;
    lnode_init(t, &ref, x, wc, b);
    cml_status st = lnode_go(t, &ref, pool);
    CHECK_MSG(st == CML_OK, "%s: reference linear: %s", f->what, t->err.msg);
    /* compressed: the constexpr deferred, its output without data */
    lnode_init(t, &cmp, x, t->outs[0], b);
    cml_mil_compressed_attr *attr = tg_keep(t, calloc(1, sizeof *attr));
    attr->src = &t->node;
    cmp.node.def = &cml_mil_op_linear_compressed;
    cmp.node.attr = attr;
    t->node.def = &cml_mil_op_constexpr_deferred;
    void *saved = wv->data;
    wv->data = NULL;
    wv->is_const = false;
    st = lnode_go(t, &cmp, pool);
    wv->data = saved;
    CHECK_MSG(st == CML_OK, "%s: compressed linear: %s", f->what, t->err.msg);
    CHECK_MSG(cmp.node.def == &cml_mil_op_linear_compressed, "%s: fell back to linear", f->what);
    if (st != CML_OK) return false;
    CHECK_MSG(attr->tile >= 1 && attr->tile <= f->n, "%s: tile %lld", f->what,
              (long long)attr->tile);
    const float *yr = t->g.values[ref.out].data, *yc = t->g.values[cmp.out].data;
    int64_t bad = 0;
    for (int64_t i = 0; i < rows * f->n; i++)
        if (memcmp(&yr[i], &yc[i], sizeof(float)) != 0) {
            if (bad < 3)
                fprintf(stderr, "  %s: y[%lld] = %.9g, reference %.9g\n", f->what, (long long)i,
                        yc[i], yr[i]);
            bad++;
        }
    CHECK_MSG(bad == 0, "%s (%lld rows of x, tile %lld of %lld rows, gemv %d, pool %s): %lld "
              "elements differ", f->what, (long long)rows, (long long)attr->tile,
              (long long)f->n, attr->gemv, pool ? "yes" : "no", (long long)bad);
    return attr->gemv;
}

/* Whether the compressed linear should take the quantized GEMV for a one-row
 * x: blockwise_shift_scale, no offset, int4 packed or 8-bit data. */
static bool expect_gemv(tg *t) {
    if (!cml_k_qgemv_rows()) return false; /* this ISA level has no GEMV (NEON) */
    if (strcmp(t->node.type, "constexpr_blockwise_shift_scale") != 0 ||
        cml_mil_in(&t->ctx, &t->node, "offset"))
        return false;
    const cml_mil_value *d = cml_mil_in(&t->ctx, &t->node, "data");
    return d->packed_bits == 4 || (d->packed_bits == 0 && (d->dtype == CML_DTYPE_INT8 ||
                                                           d->dtype == CML_DTYPE_UINT8));
}

/* t holds one constexpr node (params bound, 1 output declared). Checks the
 * compressed linear against materialize-then-linear for x [2, 3, K] and for
 * a one-row x [1, 1, K] (the decode-step GEMV). */
static void check_form(tg *t, const form *f, bool fp16_x, cml_threadpool *pool) {
    int64_t n = f->n, k = f->k;
    /* reference: fold the constexpr (run + fp16 rounding, as compile.c does) */
    cml_status st = tg_infer(t);
    if (st == CML_OK) st = tg_run(t);
    CHECK_MSG(st == CML_OK, "%s: constexpr: %s", f->what, t->err.msg);
    if (st != CML_OK) return;
    cml_mil_value *wv = tg_o(t, 0);
    cml_mil_round_value(wv);
    CHECK_MSG(wv->rank == 2 && wv->shape[0] == n && wv->shape[1] == k, "%s: weight shape",
              f->what);
    CHECK_MSG(cml_constexpr_decodable(&t->ctx, &t->node), "%s: not decodable", f->what);
    /* the decoder alone, on an odd range, equals the folded values */
    {
        int64_t start = k + 3, count = n * k - start - 1;
        float *d = tg_keep(t, calloc((size_t)count, sizeof(float)));
        cml_constexpr_decode_range(&t->ctx, &t->node, start, count, d);
        CHECK_MSG(memcmp(d, (const float *)wv->data + start, (size_t)count * sizeof(float)) == 0,
                  "%s: decode_range differs from folding", f->what);
    }
    bool want_gemv = expect_gemv(t);
    int64_t xs[3] = {2, 3, k}, x1s[3] = {1, 1, k};
    float *xd = tg_rand_buf(2 * 3 * k), *bd = tg_rand_buf(n);
    tg_keep(t, xd);
    tg_keep(t, bd);
    if (fp16_x)
        for (int64_t i = 0; i < 2 * 3 * k; i++) xd[i] = cml_round_fp16(xd[i]);
    cml_mil_vid x = tg_value(t, "x", CML_DTYPE_FLOAT32, fp16_x, 3, xs, xd, false);
    cml_mil_vid x1 = tg_value(t, "x1", CML_DTYPE_FLOAT32, fp16_x, 3, x1s, xd + k, false);
    int64_t nn = n;
    cml_mil_vid b = tg_value(t, "b", CML_DTYPE_FLOAT32, wv->fp16, 1, &nn, bd, true);
    cml_mil_vid wc = tg_value(t, "wc", CML_DTYPE_FLOAT32, wv->fp16, 2, wv->shape, wv->data, true);
    compare_linear(t, f, x, wc, b, 6, pool);
    bool gemv = compare_linear(t, f, x1, wc, b, 1, pool);
    CHECK_MSG(gemv == want_gemv, "%s: gemv %d, expected %d", f->what, gemv, want_gemv);
}

static cml_mil_vid f32v(tg *t, const char *name, int32_t r, const int64_t *s, bool fp16) {
    int64_t cnt = 1;
    for (int32_t i = 0; i < r; i++) cnt *= s[i];
    float *d = tg_keep(t, tg_rand_buf(cnt));
    for (int64_t i = 0; i < cnt; i++) d[i] = fp16 ? cml_round_fp16(d[i] * 0.05f) : d[i] * 0.05f;
    return tg_value(t, name, CML_DTYPE_FLOAT32, fp16, r, s, d, true);
}

static cml_mil_vid bytesv(tg *t, const char *name, cml_dtype dt, int32_t r, const int64_t *s,
                          int lo, int hi) {
    int64_t cnt = 1;
    for (int32_t i = 0; i < r; i++) cnt *= s[i];
    uint8_t *d = tg_keep(t, calloc((size_t)cnt, 1));
    for (int64_t i = 0; i < cnt; i++) {
        int x = tg_randi(lo, hi);
        d[i] = dt == CML_DTYPE_INT8 ? (uint8_t)(int8_t)x : (uint8_t)x;
    }
    return tg_value(t, name, dt, false, r, s, d, true);
}

/* constexpr_blockwise_shift_scale: int4 per-group-32 (torchao), with and
 * without offset, fp16 and fp32 scales; uint4 with uint8 offset. */
static void test_bss(cml_threadpool *pool) {
    for (int v = 0; v < 4; v++) {
        form f = {"bss", v < 2 ? 200 : 37, v < 2 ? 512 : 64};
        const char *names[4] = {"bss int4 g32 fp16 scale", "bss int4 g32 int8 offset fp32 scale",
                                "bss uint4 g16 uint8 offset fp16", "bss int8 per-row fp16"};
        f.what = names[v];
        tg t;
        tg_init(&t, "constexpr_blockwise_shift_scale", 18);
        int64_t ds[2] = {f.n, f.k};
        int64_t g = v == 2 ? 16 : v == 3 ? f.k : 32, ss[2] = {f.n, f.k / g};
        bool fp16 = v != 1;
        cml_dtype dt = v == 2 ? CML_DTYPE_UINT8 : CML_DTYPE_INT8;
        int lo = v == 2 ? 0 : v == 3 ? -128 : -8, hi = v == 2 ? 15 : v == 3 ? 127 : 7;
        tg_param(&t, "data", bytesv(&t, "d", dt, 2, ds, lo, hi));
        tg_param(&t, "scale", f32v(&t, "s", 2, ss, fp16));
        if (v == 1) tg_param(&t, "offset", bytesv(&t, "o", CML_DTYPE_INT8, 2, ss, -3, 3));
        if (v == 2) tg_param(&t, "offset", bytesv(&t, "o", CML_DTYPE_UINT8, 2, ss, 6, 9));
        tg_out(&t, 1);
        check_form(&t, &f, fp16, pool);
        tg_free(&t);
    }
}

/* constexpr_affine_dequantize (iOS16): int8 / uint8 per output channel. */
static void test_affine(cml_threadpool *pool) {
    for (int v = 0; v < 2; v++) {
        form f = {v ? "affine uint8 per-axis fp32" : "affine int8 per-axis fp16", 130, 300};
        tg t;
        tg_init(&t, "constexpr_affine_dequantize", 16);
        int64_t ds[2] = {f.n, f.k}, ns = f.n;
        cml_dtype dt = v ? CML_DTYPE_UINT8 : CML_DTYPE_INT8;
        tg_param(&t, "quantized_data", bytesv(&t, "q", dt, 2, ds, v ? 0 : -128, v ? 255 : 127));
        tg_param(&t, "zero_point", bytesv(&t, "zp", dt, 1, &ns, v ? 120 : -4, v ? 135 : 4));
        tg_param(&t, "scale", f32v(&t, "s", 1, &ns, v == 0));
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", 0));
        tg_out(&t, 1);
        check_form(&t, &f, v == 0, pool);
        tg_free(&t);
    }
}

/* constexpr_lut_to_dense: iOS16 packed uint3 / uint4 indices with a 1-D LUT;
 * iOS18 per-block scalar LUTs and a vector LUT along K. */
static void test_lut(cml_threadpool *pool) {
    for (unsigned bits = 3; bits <= 4; bits++) {
        form f = {bits == 3 ? "lut iOS16 uint3" : "lut iOS16 uint4", 96, 400};
        int64_t n = f.n * f.k, entries = (int64_t)1 << bits;
        uint8_t *idx = calloc((size_t)n, 1), *packed = calloc((size_t)n, 1);
        for (int64_t i = 0; i < n; i++) idx[i] = (uint8_t)tg_randi(0, (int)entries - 1);
        cml_subbyte_pack(idx, (uint64_t)n, bits, packed);
        int64_t nbytes = (int64_t)cml_subbyte_nbytes((uint64_t)n, bits);
        int32_t shp[2] = {(int32_t)f.n, (int32_t)f.k};
        tg t;
        tg_init(&t, "constexpr_lut_to_dense", 16);
        tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_UINT8, false, 1, &nbytes, packed, true));
        tg_param(&t, "lut", f32v(&t, "lut", 1, &entries, bits == 4));
        tg_param(&t, "shape",
                 tg_value(&t, "shape", CML_DTYPE_UINT32, false, 1, (int64_t[]){2}, shp, true));
        tg_out(&t, 1);
        check_form(&t, &f, bits == 4, pool);
        tg_free(&t);
        free(idx);
        free(packed);
    }
    for (int v = 0; v < 3; v++) {
        /* v0: per 8-row block scalar LUT (uint4); v1: vector LUT (size 2) along
         * K, per 16 rows; v2: vector LUT (size 4) along N */
        const char *names[3] = {"lut iOS18 uint4 per 8 rows", "lut iOS18 vector 2 along K",
                                "lut iOS18 vector 4 along N"};
        form f = {names[v], 64, 160};
        int64_t is[2] = {f.n, f.k};
        int64_t ls[4] = {f.n / 8, 1, 16, 1};
        int vaxis = -1;
        if (v == 1) {
            is[1] = f.k / 2;
            ls[0] = f.n / 16, ls[2] = 8, ls[3] = 2;
            vaxis = 1;
        } else if (v == 2) {
            is[0] = f.n / 4;
            ls[0] = 2, ls[1] = 2, ls[2] = 4, ls[3] = 4;
            vaxis = 0;
        }
        tg t;
        tg_init(&t, "constexpr_lut_to_dense", 18);
        tg_param(&t, "indices", bytesv(&t, "i", CML_DTYPE_UINT8, 2, is, 0, (int)ls[2] - 1));
        tg_param(&t, "lut", f32v(&t, "lut", 4, ls, v != 1));
        if (vaxis >= 0) tg_param(&t, "vector_axis", tg_scalar_i(&t, "va", vaxis));
        tg_out(&t, 1);
        check_form(&t, &f, v != 1, pool);
        tg_free(&t);
    }
    /* an int8 LUT's output is not a float weight: not decodable */
    {
        int8_t lut[4] = {-7, 3, 100, -128};
        uint8_t packed[2] = {0x1b, 0x02};
        int64_t four = 4, two = 2;
        int32_t shp = 5;
        tg t;
        tg_init(&t, "constexpr_lut_to_dense", 16);
        tg_param(&t, "indices", tg_value(&t, "i", CML_DTYPE_UINT8, false, 1, &two, packed, true));
        tg_param(&t, "lut", tg_value(&t, "lut", CML_DTYPE_INT8, false, 1, &four, lut, true));
        tg_param(&t, "shape",
                 tg_value(&t, "shape", CML_DTYPE_UINT32, false, 1, (int64_t[]){1}, &shp, true));
        tg_out(&t, 1);
        CHECK(tg_infer(&t) == CML_OK);
        CHECK(!cml_constexpr_decodable(&t.ctx, &t.node));
        tg_free(&t);
    }
}


/* Re-stores const value vid (one element per byte) packed, as compile.c keeps
 * int4 / uintN constants: LSB-first, exactly cml_subbyte_nbytes bytes. */
static void pack_value(tg *t, cml_mil_vid vid, unsigned bits) {
    cml_mil_value *v = &t->g.values[vid];
    int64_t n = cml_mil_numel(v);
    size_t nb = cml_subbyte_nbytes((uint64_t)n, bits);
    uint8_t *p = tg_keep(t, malloc(nb ? nb : 1));
    cml_subbyte_pack(v->data, (uint64_t)n, bits, p);
    v->data = p;
    v->capacity = nb;
    v->packed_bits = (uint8_t)bits;
    v->packed_signed = v->dtype == CML_DTYPE_INT8;
}

/* Packed sub-byte data read by the compressed linear's row decoder: odd K so
 * that rows (and tiles) start in the middle of a byte; the folded weights
 * equal those from unpacked data, and the compressed linear equals
 * materialize-then-linear (check_form). */
static void test_packed(cml_threadpool *pool) {
    static const struct { const char *what; const char *op; unsigned bits; bool sgn; int64_t n, k, g; bool no_offset; } kForms[] = {
        {"packed bss int4 g32 (torchao, the GEMV fast path)", "constexpr_blockwise_shift_scale", 4, true, 70, 96, 32, true},
        {"packed bss int4 g9 int4 offset", "constexpr_blockwise_shift_scale", 4, true, 37, 63, 9, false},
        {"packed bss uint4 g15", "constexpr_blockwise_shift_scale", 4, false, 300, 45, 15, false},
        {"packed bss uint3 g7 uint3 offset", "constexpr_blockwise_shift_scale", 3, false, 21, 49, 7, false},
        {"packed affine int4 per-row", "constexpr_affine_dequantize", 4, true, 30, 41, 0, false},
        {"packed lut uint1 per 2 rows", "constexpr_lut_to_dense", 1, false, 40, 37, 2, false},
        {"packed lut uint2 per row", "constexpr_lut_to_dense", 2, false, 33, 35, 1, false},
        {"packed lut uint3 per row", "constexpr_lut_to_dense", 3, false, 700, 61, 1, false},
        {"packed lut uint4 per tensor", "constexpr_lut_to_dense", 4, false, 50, 67, 50, false},
        {"packed lut uint6 per tensor", "constexpr_lut_to_dense", 6, false, 20, 33, 20, false},
    };
    for (size_t i = 0; i < sizeof kForms / sizeof kForms[0]; i++) {
        float *folded[2] = {NULL, NULL};
        int64_t nk = kForms[i].n * kForms[i].k;
        for (int packed = 0; packed < 2; packed++) {
            form f = {kForms[i].what, kForms[i].n, kForms[i].k};
            unsigned bits = kForms[i].bits;
            int lo = kForms[i].sgn ? -(1 << (bits - 1)) : 0;
            int hi = kForms[i].sgn ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
            cml_dtype dt = kForms[i].sgn ? CML_DTYPE_INT8 : CML_DTYPE_UINT8;
            int64_t ds[2] = {f.n, f.k};
            tg_rng_state = 777u + (unsigned)i;
            tg t;
            tg_init(&t, kForms[i].op, 18);
            if (strcmp(kForms[i].op, "constexpr_lut_to_dense") == 0) {
                int64_t ls[4] = {f.n / kForms[i].g, 1, (int64_t)1 << bits, 1};
                cml_mil_vid ind = bytesv(&t, "i", CML_DTYPE_UINT8, 2, ds, lo, hi);
                if (packed) pack_value(&t, ind, bits);
                tg_param(&t, "indices", ind);
                tg_param(&t, "lut", f32v(&t, "lut", 4, ls, true));
            } else if (strcmp(kForms[i].op, "constexpr_affine_dequantize") == 0) {
                int64_t ns = f.n;
                cml_mil_vid q = bytesv(&t, "q", dt, 2, ds, lo, hi);
                cml_mil_vid zp = bytesv(&t, "zp", dt, 1, &ns, lo, hi);
                if (packed) pack_value(&t, q, bits), pack_value(&t, zp, bits);
                tg_param(&t, "quantized_data", q);
                tg_param(&t, "zero_point", zp);
                tg_param(&t, "scale", f32v(&t, "s", 1, &ns, true));
                tg_param(&t, "axis", tg_scalar_i(&t, "axis", 0));
            } else {
                int64_t ss[2] = {f.n, f.k / kForms[i].g};
                cml_mil_vid d = bytesv(&t, "d", dt, 2, ds, lo, hi);
                if (packed) pack_value(&t, d, bits);
                tg_param(&t, "data", d);
                tg_param(&t, "scale", f32v(&t, "s", 2, ss, true));
                if (!kForms[i].no_offset && (bits != 4 || kForms[i].sgn)) {
                    cml_mil_vid o = bytesv(&t, "o", dt, 2, ss, lo, hi);
                    if (packed) pack_value(&t, o, bits);
                    tg_param(&t, "offset", o);
                }
            }
            tg_out(&t, 1);
            check_form(&t, &f, true, pool);
            if (tg_o(&t, 0)->data && cml_mil_numel(tg_o(&t, 0)) == nk) {
                folded[packed] = malloc((size_t)nk * sizeof(float));
                if (folded[packed])
                    memcpy(folded[packed], tg_o(&t, 0)->data, (size_t)nk * sizeof(float));
            }
            tg_free(&t);
        }
        CHECK_MSG(folded[0] && folded[1] &&
                      memcmp(folded[0], folded[1], (size_t)nk * sizeof(float)) == 0,
                  "%s: folded weights differ from the unpacked data's", kForms[i].what);
        free(folded[0]);
        free(folded[1]);
    }
}

int main(void) {
    cml_threadpool *pool = NULL;
    CHECK(cml_threadpool_create(3, NULL, &pool) == CML_OK);
    for (int p = 0; p < 2; p++) {
        cml_threadpool *use = p ? pool : NULL;
        test_bss(use);
        test_affine(use);
        test_lut(use);
        test_packed(use);
    }
    cml_threadpool_destroy(pool);
    TEST_MAIN_END();
}
