/* Compressed-weight constexpr ops (iOS16 attribute forms and iOS18 input
 * forms) and the quantize/dequantize activation ops, each against a naive
 * dequantize reference written here, plus malformed parameters that must be
 * rejected at load with CML_ERR_CORRUPT naming the op. */
#include "core/fp16.h"
#include "coreml/value.h"
#include "mil/constexpr_decode.h"
#include "test_mil_ops_util.h"

#define I8 CML_DTYPE_INT8
#define U8 CML_DTYPE_UINT8

static cml_mil_vid v_i8(tg *t, const char *n, int32_t r, const int64_t *s, const int8_t *d) {
    return tg_value(t, n, I8, false, r, s, d, true);
}
static cml_mil_vid v_u8(tg *t, const char *n, int32_t r, const int64_t *s, const uint8_t *d) {
    return tg_value(t, n, U8, false, r, s, d, true);
}
static cml_mil_vid v_f(tg *t, const char *n, int32_t r, const int64_t *s, const float *d, bool fp16) {
    return tg_value(t, n, CML_DTYPE_FLOAT32, fp16, r, s, d, true);
}

/* infer + run; returns the status (error message printed on failure when
 * `expect_ok`). */
static cml_status go(tg *t, bool expect_ok) {
    cml_status st = tg_infer(t);
    if (st == CML_OK) st = tg_run(t);
    if (st != CML_OK && expect_ok) fprintf(stderr, "  %s: %s\n", t->node.type, t->err.msg);
    return st;
}

/* Expects a load-time CML_ERR_CORRUPT that names the op. */
static void expect_corrupt(tg *t, const char *what) {
    cml_status st = tg_infer(t);
    CHECK_MSG(st == CML_ERR_CORRUPT, "%s: status %d (%s)", what, (int)st, t->err.msg);
    CHECK_MSG(strstr(t->err.msg, t->node.type) != NULL, "%s: message '%s' names no op", what,
              t->err.msg);
}

static int cmp_floats(const float *got, const float *want, int64_t n, bool fp16) {
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        float g = fp16 ? cml_round_fp16(got[i]) : got[i];
        if (g != want[i]) {
            if (bad < 5) fprintf(stderr, "  [%lld] got %.9g want %.9g\n", (long long)i, g, want[i]);
            bad++;
        }
    }
    return bad;
}

/* ------------------------------------------------------ affine dequantize */

static void test_affine(void) {
    /* per-channel along axis 0 and 1, int8 and uint8, fp32 and fp16 scales */
    for (int form = 0; form < 4; form++) {
        int64_t s[3] = {3, 4, 5};
        int32_t axis = form % 2 ? 1 : 0;
        bool u = form >= 2, fp16 = form == 3;
        int64_t n = 60, len = s[axis];
        int8_t qi[60];
        uint8_t qu[60];
        for (int i = 0; i < n; i++) qi[i] = (int8_t)tg_randi(-128, 127), qu[i] = (uint8_t)tg_randi(0, 255);
        float sc[5];
        int8_t zi[5];
        uint8_t zu[5];
        for (int c = 0; c < 5; c++) {
            sc[c] = fp16 ? cml_round_fp16(0.01f * (float)(c + 1)) : 0.013f * (float)(c + 1);
            zi[c] = (int8_t)tg_randi(-10, 10);
            zu[c] = (uint8_t)tg_randi(100, 150);
        }
        tg t;
        tg_init(&t, "constexpr_affine_dequantize", 16);
        tg_param(&t, "quantized_data", u ? v_u8(&t, "q", 3, s, qu) : v_i8(&t, "q", 3, s, qi));
        tg_param(&t, "zero_point", u ? v_u8(&t, "zp", 1, &len, zu) : v_i8(&t, "zp", 1, &len, zi));
        tg_param(&t, "scale", v_f(&t, "s", 1, &len, sc, fp16));
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", axis == 1 ? -2 : 0));
        tg_out(&t, 1);
        CHECK(go(&t, true) == CML_OK);
        CHECK(tg_o(&t, 0)->fp16 == fp16 && tg_shape_is(tg_o(&t, 0), 3, s));
        float want[60];
        for (int64_t i = 0; i < n; i++) {
            int64_t idx[3];
            tg_unravel(i, 3, s, idx);
            int64_t c = idx[axis];
            float q = u ? qu[i] : qi[i], z = u ? zu[c] : zi[c];
            want[i] = sc[c] * (q - z);
            if (fp16) want[i] = cml_round_fp16(want[i]);
        }
        CHECK_MSG(cmp_floats(tg_of(&t, 0), want, n, fp16) == 0, "affine form %d", form);
        tg_free(&t);
    }
    /* per-tensor (scalar scale and zero point) */
    {
        int64_t s[2] = {2, 3};
        uint8_t q[6] = {0, 1, 127, 128, 200, 255};
        tg t;
        tg_init(&t, "constexpr_affine_dequantize", 16);
        tg_param(&t, "quantized_data", v_u8(&t, "q", 2, s, q));
        uint8_t zp = 128;
        tg_param(&t, "zero_point", v_u8(&t, "zp", 0, NULL, &zp));
        tg_param(&t, "scale", tg_scalar_f(&t, "s", 0.5f));
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", 0));
        tg_out(&t, 1);
        CHECK(go(&t, true) == CML_OK);
        float want[6] = {-64, -63.5f, -0.5f, 0, 36, 63.5f};
        CHECK(cmp_floats(tg_of(&t, 0), want, 6, false) == 0);
        tg_free(&t);
    }
    /* malformed: scale length matches no axis */
    {
        int64_t s[2] = {2, 3}, three = 3;
        int8_t q[6] = {0};
        float sc[3] = {1, 1, 1};
        int8_t z = 0;
        tg t;
        tg_init(&t, "constexpr_affine_dequantize", 16);
        tg_param(&t, "quantized_data", v_i8(&t, "q", 2, s, q));
        tg_param(&t, "zero_point", v_i8(&t, "zp", 0, NULL, &z));
        tg_param(&t, "scale", v_f(&t, "s", 1, &three, sc, false));
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", 0));
        tg_out(&t, 1);
        expect_corrupt(&t, "affine scale length");
        tg_free(&t);
    }
}

/* -------------------------------------------------- blockwise shift scale */

/* Naive reference: scale/offset repeated over blocks. */
static float bss_ref(const int64_t *ds, const int64_t *ss, int64_t i, const float *data,
                     const float *scale, const float *offset, bool fp16) {
    int64_t idx[2], b = 0;
    tg_unravel(i, 2, ds, idx);
    for (int d = 0; d < 2; d++) b = b * ss[d] + idx[d] / (ds[d] / ss[d]);
    float x = data[i];
    if (offset) x = fp16 ? cml_round_fp16(x - offset[b]) : x - offset[b];
    float y = scale[b] * x;
    return fp16 ? cml_round_fp16(y) : y;
}

static void test_blockwise(void) {
    /* int4 per-group (group 4 along the last axis), uint4 with offsets,
     * int8 per-channel, fp16 and fp32 scales */
    struct { int64_t ss[2]; bool u, offset, fp16; } forms[] = {
        {{4, 2}, false, false, false}, {{4, 2}, true, true, true}, {{4, 1}, false, true, false},
        {{1, 8}, false, false, true},  {{2, 4}, true, true, false}, {{1, 1}, false, true, true},
    };
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        int64_t ds[2] = {4, 8}, n = 32, ns = forms[f].ss[0] * forms[f].ss[1];
        int8_t di[32], oi[32];
        uint8_t du[32], ou[32];
        float dref[32], sc[32], off[32];
        for (int i = 0; i < n; i++) {
            di[i] = (int8_t)tg_randi(-8, 7);
            du[i] = (uint8_t)tg_randi(0, 15);
            dref[i] = forms[f].u ? du[i] : di[i];
        }
        for (int i = 0; i < ns; i++) {
            sc[i] = cml_round_fp16(0.001f + 0.37f * (float)(i + 1) / 7.0f);
            oi[i] = (int8_t)tg_randi(-8, 7);
            ou[i] = (uint8_t)tg_randi(0, 15);
            off[i] = forms[f].u ? ou[i] : oi[i];
        }
        tg t;
        tg_init(&t, "constexpr_blockwise_shift_scale", 18);
        tg_param(&t, "data", forms[f].u ? v_u8(&t, "d", 2, ds, du) : v_i8(&t, "d", 2, ds, di));
        tg_param(&t, "scale", v_f(&t, "s", 2, forms[f].ss, sc, forms[f].fp16));
        if (forms[f].offset)
            tg_param(&t, "offset", forms[f].u ? v_u8(&t, "o", 2, forms[f].ss, ou)
                                              : v_i8(&t, "o", 2, forms[f].ss, oi));
        tg_out(&t, 1);
        CHECK(go(&t, true) == CML_OK);
        float want[32];
        for (int64_t i = 0; i < n; i++)
            want[i] = bss_ref(ds, forms[f].ss, i, dref, sc, forms[f].offset ? off : NULL,
                              forms[f].fp16);
        CHECK(tg_o(&t, 0)->fp16 == forms[f].fp16);
        CHECK_MSG(cmp_floats(tg_of(&t, 0), want, n, forms[f].fp16) == 0, "blockwise form %zu", f);
        tg_free(&t);
    }
    /* fp16 offsets: (data - offset) is rounded to fp16 before the scale */
    {
        int64_t ds[2] = {1, 2}, ss[2] = {1, 1};
        int8_t d[2] = {3, -5};
        float sc = 3.0f, off = cml_round_fp16(0.3333f);
        tg t;
        tg_init(&t, "constexpr_blockwise_shift_scale", 18);
        tg_param(&t, "data", v_i8(&t, "d", 2, ds, d));
        tg_param(&t, "scale", v_f(&t, "s", 2, ss, &sc, true));
        tg_param(&t, "offset", v_f(&t, "o", 2, ss, &off, true));
        tg_out(&t, 1);
        CHECK(go(&t, true) == CML_OK);
        float want[2] = {cml_round_fp16(3.0f * cml_round_fp16(3.0f - off)),
                         cml_round_fp16(3.0f * cml_round_fp16(-5.0f - off))};
        CHECK(cmp_floats(tg_of(&t, 0), want, 2, true) == 0);
        tg_free(&t);
    }
    /* malformed: scale that does not tile, offset shape != scale shape, rank */
    for (int bad = 0; bad < 3; bad++) {
        int64_t ds[2] = {4, 8}, ss[2] = {4, 3}, ok_ss[2] = {4, 2}, os[2] = {2, 2}, r1 = 8;
        int8_t d[32] = {0}, o[8] = {0};
        float sc[12] = {1};
        tg t;
        tg_init(&t, "constexpr_blockwise_shift_scale", 18);
        tg_param(&t, "data", v_i8(&t, "d", 2, ds, d));
        if (bad == 0) tg_param(&t, "scale", v_f(&t, "s", 2, ss, sc, false));
        if (bad == 1) {
            tg_param(&t, "scale", v_f(&t, "s", 2, ok_ss, sc, false));
            tg_param(&t, "offset", v_i8(&t, "o", 2, os, o));
        }
        if (bad == 2) tg_param(&t, "scale", v_f(&t, "s", 1, &r1, sc, false));
        tg_out(&t, 1);
        expect_corrupt(&t, bad == 0 ? "scale does not tile" : bad == 1 ? "offset shape" : "rank");
        if (bad == 0) CHECK(strstr(t.err.msg, "tile") != NULL);
        tg_free(&t);
    }
}

/* ------------------------------------------------------------ lut_to_dense */

static void test_lut_ios16(void) {
    static const unsigned kBits[] = {1, 2, 4, 6, 8, 3};
    for (size_t b = 0; b < sizeof kBits / sizeof kBits[0]; b++) {
        unsigned bits = kBits[b];
        int64_t entries = (int64_t)1 << bits, shape[3] = {3, 5, 7}, n = 105;
        uint8_t idx[105], packed[105];
        for (int i = 0; i < n; i++) idx[i] = (uint8_t)tg_randi(0, (int)entries - 1);
        cml_subbyte_pack(idx, (uint64_t)n, bits, packed);
        int64_t nbytes = (int64_t)cml_subbyte_nbytes((uint64_t)n, bits);
        float lut[256];
        for (int i = 0; i < entries; i++) lut[i] = tg_randf();
        int32_t shp[3] = {3, 5, 7};
        tg t;
        tg_init(&t, "constexpr_lut_to_dense", 16);
        tg_param(&t, "indices", v_u8(&t, "i", 1, &nbytes, packed));
        tg_param(&t, "lut", v_f(&t, "lut", 1, &entries, lut, false));
        tg_param(&t, "shape", tg_value(&t, "shape", CML_DTYPE_UINT32, false, 1, (int64_t[]){3}, shp, true));
        tg_out(&t, 1);
        CHECK(go(&t, true) == CML_OK);
        CHECK(tg_shape_is(tg_o(&t, 0), 3, shape));
        float want[105];
        for (int i = 0; i < n; i++) want[i] = lut[idx[i]];
        CHECK_MSG(cmp_floats(tg_of(&t, 0), want, n, false) == 0, "lut iOS16 %u bits", bits);
        tg_free(&t);
    }
    /* int8 LUT keeps its dtype */
    {
        int8_t lut[4] = {-7, 3, 100, -128};
        uint8_t idx[5] = {3, 2, 1, 0, 2}, packed[2];
        cml_subbyte_pack(idx, 5, 2, packed);
        int64_t four = 4, two = 2;
        int32_t shp = 5;
        tg t;
        tg_init(&t, "constexpr_lut_to_dense", 16);
        tg_param(&t, "indices", v_u8(&t, "i", 1, &two, packed));
        tg_param(&t, "lut", v_i8(&t, "lut", 1, &four, lut));
        tg_param(&t, "shape", tg_value(&t, "shape", CML_DTYPE_UINT32, false, 1, (int64_t[]){1}, &shp, true));
        tg_out(&t, 1);
        CHECK(go(&t, true) == CML_OK);
        const int8_t *o = tg_o(&t, 0)->data;
        CHECK(tg_o(&t, 0)->dtype == I8 && o[0] == -128 && o[1] == 100 && o[2] == 3 && o[3] == -7 &&
              o[4] == 100);
        tg_free(&t);
    }
    /* malformed: wrong packed size; LUT not a power of two */
    for (int bad = 0; bad < 2; bad++) {
        int64_t nb = bad == 0 ? 3 : 2, entries = bad == 0 ? 4 : 5;
        uint8_t packed[3] = {0};
        float lut[5] = {0};
        int32_t shp = 5;
        tg t;
        tg_init(&t, "constexpr_lut_to_dense", 16);
        tg_param(&t, "indices", v_u8(&t, "i", 1, &nb, packed));
        tg_param(&t, "lut", v_f(&t, "lut", 1, &entries, lut, false));
        tg_param(&t, "shape", tg_value(&t, "shape", CML_DTYPE_UINT32, false, 1, (int64_t[]){1}, &shp, true));
        tg_out(&t, 1);
        expect_corrupt(&t, bad == 0 ? "packed size" : "lut size");
        tg_free(&t);
    }
}

/* Naive iOS18 LUT reference over a rank-2 index space. */
static void lut18_ref(const int64_t *is, const uint8_t *idx, const int64_t *ls, const float *lut,
                      int vaxis, float *out) {
    int64_t P = ls[2], V = ls[3], os[2] = {is[0], is[1]};
    if (V > 1) os[vaxis] *= V;
    for (int64_t r = 0; r < is[0]; r++)
        for (int64_t c = 0; c < is[1]; c++) {
            int64_t g0 = r / (is[0] / ls[0]), g1 = c / (is[1] / ls[1]);
            const float *tab = lut + ((g0 * ls[1] + g1) * P + idx[r * is[1] + c]) * V;
            for (int64_t v = 0; v < V; v++) {
                int64_t orow = vaxis == 0 && V > 1 ? r * V + v : r;
                int64_t ocol = vaxis == 1 && V > 1 ? c * V + v : c;
                out[orow * os[1] + ocol] = tab[v];
            }
        }
}

static void test_lut_ios18(void) {
    struct { int64_t ls[4]; int vaxis; bool fp16; } forms[] = {
        {{2, 1, 8, 1}, -1, true},  /* uint3, one LUT per 2 rows (block_size [2, -1]) */
        {{4, 1, 16, 1}, -1, false}, /* uint4 per row */
        {{1, 1, 2, 1}, -1, false},  /* uint1 per tensor */
        {{2, 3, 4, 1}, -1, false},  /* uint2, 2-D grid of LUTs */
        {{1, 1, 4, 2}, 0, false},   /* vector LUT along axis 0 */
        {{2, 1, 4, 3}, 1, true},    /* vector LUT along axis 1, per block */
        {{1, 1, 64, 1}, -1, false}, /* uint6 */
    };
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        int64_t is[2] = {4, 6}, n = 24;
        const int64_t *ls = forms[f].ls;
        uint8_t idx[24];
        for (int i = 0; i < n; i++) idx[i] = (uint8_t)tg_randi(0, (int)ls[2] - 1);
        int64_t nl = ls[0] * ls[1] * ls[2] * ls[3];
        float lut[2 * 3 * 4 * 16 * 2];
        for (int64_t i = 0; i < nl; i++)
            lut[i] = forms[f].fp16 ? cml_round_fp16(tg_randf()) : tg_randf();
        tg t;
        tg_init(&t, "constexpr_lut_to_dense", 18);
        tg_param(&t, "indices", v_u8(&t, "i", 2, is, idx));
        tg_param(&t, "lut", v_f(&t, "lut", 4, ls, lut, forms[f].fp16));
        if (forms[f].vaxis >= 0) tg_param(&t, "vector_axis", tg_scalar_i(&t, "va", forms[f].vaxis));
        tg_out(&t, 1);
        CHECK(go(&t, true) == CML_OK);
        float want[24 * 3];
        lut18_ref(is, idx, ls, lut, forms[f].vaxis, want);
        int64_t os[2] = {4, 6};
        if (ls[3] > 1) os[forms[f].vaxis] *= ls[3];
        CHECK_MSG(tg_shape_is(tg_o(&t, 0), 2, os), "lut iOS18 form %zu shape", f);
        CHECK_MSG(cmp_floats(tg_of(&t, 0), want, n * ls[3], forms[f].fp16) == 0, "lut iOS18 form %zu", f);
        tg_free(&t);
    }
    /* malformed: index out of range, blocks that do not tile, bad rank,
     * vector LUT without vector_axis */
    for (int bad = 0; bad < 4; bad++) {
        int64_t is[2] = {4, 6}, ls[4] = {1, 1, 4, 1};
        if (bad == 1) ls[0] = 3;
        if (bad == 3) ls[3] = 2;
        uint8_t idx[24] = {0};
        if (bad == 0) idx[7] = 4;
        float lut[24] = {0};
        tg t;
        tg_init(&t, "constexpr_lut_to_dense", 18);
        tg_param(&t, "indices", v_u8(&t, "i", 2, is, idx));
        tg_param(&t, "lut", v_f(&t, "lut", bad == 2 ? 3 : 4, bad == 2 ? ls + 1 : ls, lut, false));
        tg_out(&t, 1);
        expect_corrupt(&t, "lut iOS18 malformed");
        if (bad == 0) CHECK(strstr(t.err.msg, "out of range") != NULL);
        tg_free(&t);
    }
}

/* --------------------------------------------------------- sparse_to_dense */

static void test_sparse(void) {
    for (int form = 0; form < 2; form++) { /* 0: iOS16 packed mask + shape, 1: iOS18 uint1 */
        int64_t s[2] = {3, 7}, n = 21;
        uint8_t mask[21], packed[3];
        float nz[21], want[21];
        int64_t k = 0;
        for (int i = 0; i < n; i++) {
            mask[i] = (uint8_t)(tg_randi(0, 2) == 0);
            want[i] = 0;
            if (mask[i]) want[i] = nz[k++] = tg_randf();
        }
        cml_subbyte_pack(mask, 21, 1, packed);
        tg t;
        tg_init(&t, "constexpr_sparse_to_dense", form ? 18 : 16);
        tg_param(&t, "nonzero_data", v_f(&t, "nz", 1, &k, nz, false));
        if (form == 0) {
            int64_t three = 3, two = 2;
            int32_t shp[2] = {3, 7};
            tg_param(&t, "mask", v_u8(&t, "m", 1, &three, packed));
            tg_param(&t, "shape", tg_value(&t, "shape", CML_DTYPE_UINT32, false, 1, &two, shp, true));
        } else {
            tg_param(&t, "mask", v_u8(&t, "m", 2, s, mask));
        }
        tg_out(&t, 1);
        CHECK(go(&t, true) == CML_OK);
        CHECK(tg_shape_is(tg_o(&t, 0), 2, s));
        CHECK_MSG(cmp_floats(tg_of(&t, 0), want, n, false) == 0, "sparse form %d", form);
        tg_free(&t);
    }
    /* malformed: popcount != nonzero count (both forms), bad mask values */
    for (int bad = 0; bad < 3; bad++) {
        int64_t s[2] = {2, 4}, one = 1, two = 2, nnz = 2;
        uint8_t mask[8] = {1, 0, 1, 1, 0, 0, 0, 0}, packed[1] = {0x0d};
        if (bad == 2) mask[1] = 2;
        float nz[3] = {1, 2, 3};
        int32_t shp[2] = {2, 4};
        tg t;
        tg_init(&t, "constexpr_sparse_to_dense", bad == 0 ? 16 : 18);
        tg_param(&t, "nonzero_data", v_f(&t, "nz", 1, bad == 2 ? (int64_t[]){3} : &nnz, nz, false));
        if (bad == 0) {
            tg_param(&t, "mask", v_u8(&t, "m", 1, &one, packed));
            tg_param(&t, "shape", tg_value(&t, "shape", CML_DTYPE_UINT32, false, 1, &two, shp, true));
        } else {
            tg_param(&t, "mask", v_u8(&t, "m", 2, s, mask));
        }
        tg_out(&t, 1);
        expect_corrupt(&t, "sparse malformed");
        tg_free(&t);
    }
}

/* ---------------------------------------------- lut_to_sparse (two outputs) */

static void test_lut_to_sparse(void) {
    struct { int64_t ls[4]; int vaxis; } forms[] = {
        {{2, 1, 4, 1}, -1}, {{1, 1, 8, 2}, 0}, {{2, 2, 4, 3}, 1},
    };
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        int64_t is[2] = {4, 6}, n = 24;
        const int64_t *ls = forms[f].ls;
        uint8_t mask[24], dense_idx[24], nzi[24];
        int64_t k = 0;
        for (int i = 0; i < n; i++) {
            mask[i] = (uint8_t)(tg_randi(0, 1));
            dense_idx[i] = 0;
            if (mask[i]) dense_idx[i] = nzi[k++] = (uint8_t)tg_randi(0, (int)ls[2] - 1);
        }
        float lut[2 * 2 * 8 * 3];
        int64_t nl = ls[0] * ls[1] * ls[2] * ls[3];
        for (int64_t i = 0; i < nl; i++) lut[i] = tg_randf();
        tg t;
        tg_init(&t, "constexpr_lut_to_sparse", 18);
        tg_param(&t, "indices_mask", v_u8(&t, "m", 2, is, mask));
        tg_param(&t, "indices_nonzero_data", v_u8(&t, "nz", 1, &k, nzi));
        tg_param(&t, "lut", v_f(&t, "lut", 4, ls, lut, false));
        if (forms[f].vaxis >= 0) tg_param(&t, "vector_axis", tg_scalar_i(&t, "va", forms[f].vaxis));
        tg_out(&t, 2);
        CHECK(go(&t, true) == CML_OK);
        /* reference: dense LUT expansion, expanded mask, non-zeros in
         * row-major order of the expanded shape */
        float dense[24 * 3], want[24 * 3];
        lut18_ref(is, dense_idx, ls, lut, forms[f].vaxis, dense);
        int64_t os[2] = {4, 6}, V = ls[3];
        if (V > 1) os[forms[f].vaxis] *= V;
        uint8_t emask[24 * 3];
        for (int64_t r = 0; r < os[0]; r++)
            for (int64_t c = 0; c < os[1]; c++) {
                int64_t ir = forms[f].vaxis == 0 && V > 1 ? r / V : r;
                int64_t ic = forms[f].vaxis == 1 && V > 1 ? c / V : c;
                emask[r * os[1] + c] = mask[ir * is[1] + ic];
            }
        int64_t m = 0;
        for (int64_t i = 0; i < n * V; i++)
            if (emask[i]) want[m++] = dense[i];
        CHECK(tg_shape_is(tg_o(&t, 0), 2, os) && tg_o(&t, 0)->dtype == U8);
        CHECK(memcmp(tg_o(&t, 0)->data, emask, (size_t)(n * V)) == 0);
        CHECK(tg_o(&t, 1)->rank == 1 && tg_o(&t, 1)->shape[0] == m);
        CHECK_MSG(cmp_floats(tg_of(&t, 1), want, m, false) == 0, "lut_to_sparse form %zu", f);
        tg_free(&t);
    }
    /* malformed: popcount mismatch */
    {
        int64_t is[2] = {2, 2}, ls[4] = {1, 1, 2, 1}, three = 3;
        uint8_t mask[4] = {1, 0, 0, 1}, nzi[3] = {0, 1, 1};
        float lut[2] = {1, 2};
        tg t;
        tg_init(&t, "constexpr_lut_to_sparse", 18);
        tg_param(&t, "indices_mask", v_u8(&t, "m", 2, is, mask));
        tg_param(&t, "indices_nonzero_data", v_u8(&t, "nz", 1, &three, nzi));
        tg_param(&t, "lut", v_f(&t, "lut", 4, ls, lut, false));
        tg_out(&t, 2);
        expect_corrupt(&t, "lut_to_sparse popcount");
        tg_free(&t);
    }
}

/* -------------------------------------- sparse_blockwise_shift_scale */

static void test_sparse_bss(void) {
    int64_t ds[2] = {4, 8}, ss[2] = {2, 2}, n = 32;
    uint8_t mask[32];
    int8_t nz[32], off[4] = {1, -2, 0, 3};
    float dense[32], sc[4] = {0.5f, 0.25f, 2.0f, 0.125f}, offf[4] = {1, -2, 0, 3}, want[32];
    int64_t k = 0;
    for (int i = 0; i < n; i++) {
        mask[i] = (uint8_t)tg_randi(0, 1);
        dense[i] = 0;
        if (mask[i]) dense[i] = nz[k++] = (int8_t)tg_randi(-8, 7);
    }
    tg t;
    tg_init(&t, "constexpr_sparse_blockwise_shift_scale", 18);
    tg_param(&t, "data_mask", v_u8(&t, "m", 2, ds, mask));
    tg_param(&t, "nonzero_data", v_i8(&t, "nz", 1, &k, nz));
    tg_param(&t, "scale", v_f(&t, "s", 2, ss, sc, false));
    tg_param(&t, "offset", v_i8(&t, "o", 2, ss, off));
    tg_out(&t, 2);
    CHECK(go(&t, true) == CML_OK);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (mask[i]) want[m++] = bss_ref(ds, ss, i, dense, sc, offf, false);
    CHECK(memcmp(tg_o(&t, 0)->data, mask, 32) == 0 && tg_o(&t, 1)->shape[0] == k);
    CHECK(cmp_floats(tg_of(&t, 1), want, m, false) == 0);
    tg_free(&t);
}

/* -------------------------------------------------------------------- cast */

static void test_cast(void) {
    int64_t n = 4;
    float src[4] = {cml_round_fp16(0.1f), 1, -2.5f, 65504};
    tg t;
    tg_init(&t, "constexpr_cast", 16);
    tg_param(&t, "source_val", v_f(&t, "x", 1, &n, src, true));
    tg_param(&t, "output_dtype", tg_str(&t, "dt", "fp32"));
    tg_out(&t, 1);
    CHECK(go(&t, true) == CML_OK);
    CHECK(!tg_o(&t, 0)->fp16 && cmp_floats(tg_of(&t, 0), src, 4, false) == 0);
    tg_free(&t);
}

/* ------------------------------------------------ quantize / dequantize */

static void test_quantize(void) {
    /* round half to even, clipping, per-tensor zero point */
    float x[8] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 300.0f, -300.0f, 3.49f};
    int64_t n = 8;
    {
        tg t;
        tg_init(&t, "quantize", 17);
        tg_param(&t, "input", tg_f32(&t, "x", 1, &n, x, false));
        tg_param(&t, "scale", tg_scalar_f(&t, "s", 1.0f));
        tg_param(&t, "output_dtype", tg_str(&t, "dt", "int8"));
        tg_out(&t, 1);
        CHECK(go(&t, true) == CML_OK);
        const int8_t *o = tg_o(&t, 0)->data;
        int8_t want[8] = {0, 2, 2, 0, -2, 127, -128, 3};
        CHECK(tg_o(&t, 0)->dtype == I8 && memcmp(o, want, 8) == 0);
        tg_free(&t);
    }
    {
        tg t;
        tg_init(&t, "quantize", 17);
        tg_param(&t, "input", tg_f32(&t, "x", 1, &n, x, false));
        tg_param(&t, "scale", tg_scalar_f(&t, "s", 0.5f));
        uint8_t zp = 128;
        tg_param(&t, "zero_point", v_u8(&t, "zp", 0, NULL, &zp));
        tg_param(&t, "output_dtype", tg_str(&t, "dt", "uint8"));
        tg_out(&t, 1);
        CHECK(go(&t, true) == CML_OK);
        const uint8_t *o = tg_o(&t, 0)->data;
        uint8_t want[8] = {129, 131, 133, 127, 125, 255, 0, 135};
        CHECK(tg_o(&t, 0)->dtype == U8 && memcmp(o, want, 8) == 0);
        tg_free(&t);
    }
    /* per-axis quantize -> dequantize round trip against a reference */
    {
        int64_t s[2] = {3, 4}, three = 3;
        float xv[12], sc[3] = {0.1f, 0.02f, 0.5f};
        int8_t zp[3] = {-3, 0, 5};
        for (int i = 0; i < 12; i++) xv[i] = tg_randf() * 3;
        tg t;
        tg_init(&t, "quantize", 17);
        tg_param(&t, "input", tg_f32(&t, "x", 2, s, xv, false));
        tg_param(&t, "scale", v_f(&t, "s", 1, &three, sc, false));
        tg_param(&t, "zero_point", v_i8(&t, "zp", 1, &three, zp));
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", 0));
        tg_param(&t, "output_dtype", tg_str(&t, "dt", "int8"));
        tg_out(&t, 1);
        CHECK(go(&t, true) == CML_OK);
        int8_t q[12];
        memcpy(q, tg_o(&t, 0)->data, 12);
        int bad = 0;
        for (int i = 0; i < 12; i++) {
            float r = nearbyintf(xv[i] / sc[i / 4]) + zp[i / 4];
            r = r < -128 ? -128 : r > 127 ? 127 : r;
            bad += q[i] != (int8_t)r;
        }
        CHECK_MSG(bad == 0, "per-axis quantize: %d mismatches", bad);
        tg_free(&t);
        tg_init(&t, "dequantize", 17);
        tg_param(&t, "input", v_i8(&t, "q", 2, s, q));
        tg_param(&t, "scale", v_f(&t, "s", 1, &three, sc, false));
        tg_param(&t, "zero_point", v_i8(&t, "zp", 1, &three, zp));
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", 0));
        tg_out(&t, 1);
        CHECK(go(&t, true) == CML_OK);
        float want[12];
        for (int i = 0; i < 12; i++) want[i] = ((float)q[i] - zp[i / 4]) * sc[i / 4];
        CHECK(cmp_floats(tg_of(&t, 0), want, 12, false) == 0);
        tg_free(&t);
    }
}


/* ------------------------------------------------- packed sub-byte params */

/* Re-stores const value vid (INT8 / UINT8, one element per byte) as compile.c
 * keeps int4 / uintN constants: LSB-first packed into exactly
 * cml_subbyte_nbytes bytes (so a sanitizer catches any over-read). */
static void pack_value(tg *t, cml_mil_vid vid, unsigned bits) {
    cml_mil_value *v = &t->g.values[vid];
    int64_t n = 1;
    for (int32_t d = 0; d < v->rank; d++) n *= v->shape[d];
    size_t nb = cml_subbyte_nbytes((uint64_t)n, bits);
    uint8_t *p = tg_keep(t, malloc(nb ? nb : 1));
    cml_subbyte_pack(v->data, (uint64_t)n, bits, p);
    v->data = p;
    v->capacity = nb;
    v->packed_bits = (uint8_t)bits;
    v->packed_signed = v->dtype == I8;
}

typedef struct pk_case {
    const char *op;
    unsigned bits;
    bool sgn;   /* int4 */
    int form;   /* op-specific layout */
} pk_case;

static int pk_rand(unsigned bits, bool sgn) {
    return sgn ? tg_randi(-(1 << (bits - 1)), (1 << (bits - 1)) - 1) : tg_randi(0, (1 << bits) - 1);
}

/* Builds case c; packed: the sub-byte parameters packed. The random data
 * is drawn from `seed` so both builds see the same values. */
static void pk_build(tg *t, const pk_case *c, bool packed, unsigned seed) {
    tg_rng_state = seed;
    int64_t s2[2] = {3, 7}, n = 21; /* odd counts: 3-/6-bit elements straddle bytes */
    uint8_t q[64], mask[64];
    float f[512];
    for (int i = 0; i < 512; i++) f[i] = cml_round_fp16(tg_randf());
    for (int i = 0; i < 64; i++) q[i] = (uint8_t)pk_rand(c->bits, c->sgn);
    if (c->form == 9) /* extremes: all-ones / sign bits in every position */
        for (int i = 0; i < 64; i++) q[i] = (uint8_t)(i % 2 ? (c->sgn ? -1 : (1 << c->bits) - 1)
                                                          : (c->sgn ? -(1 << (c->bits - 1)) : 0));
    cml_dtype qd = c->sgn ? I8 : U8;
    tg_init(t, c->op, 18);
    if (strcmp(c->op, "constexpr_blockwise_shift_scale") == 0) {
        /* form 0: [3, 7] per-row scale (blocks of 7); 1: [5, 6] blocks of 2,
         * with offset; 2: rank 3 (generic path) with offset */
        int64_t ds[3] = {3, 7, 1}, ss[3] = {3, 1, 1};
        int32_t r = 2;
        if (c->form == 1) ds[0] = 5, ds[1] = 6, ss[0] = 5, ss[1] = 3;
        if (c->form == 2) ds[0] = 2, ds[1] = 3, ds[2] = 5, ss[0] = 2, ss[1] = 1, ss[2] = 5, r = 3;
        cml_mil_vid d = tg_value(t, "d", qd, false, r, ds, q, true);
        if (packed) pack_value(t, d, c->bits);
        tg_param(t, "data", d);
        tg_param(t, "scale", v_f(t, "s", r, ss, f, c->form != 1));
        if (c->form != 0) {
            cml_mil_vid o = tg_value(t, "o", qd, false, r, ss, q + 33, true);
            if (packed) pack_value(t, o, c->bits);
            tg_param(t, "offset", o);
        }
        tg_out(t, 1);
    } else if (strcmp(c->op, "constexpr_affine_dequantize") == 0) {
        /* form 0: axis 0 (runs of 7), 1: axis 1 (per element) */
        int64_t len = s2[c->form % 2];
        cml_mil_vid d = tg_value(t, "q", qd, false, 2, s2, q, true);
        cml_mil_vid z = tg_value(t, "zp", qd, false, 1, &len, q + 40, true);
        if (packed) pack_value(t, d, c->bits), pack_value(t, z, c->bits);
        tg_param(t, "quantized_data", d);
        tg_param(t, "zero_point", z);
        tg_param(t, "scale", v_f(t, "s", 1, &len, f, true));
        tg_param(t, "axis", tg_scalar_i(t, "axis", c->form % 2));
        tg_out(t, 1);
    } else if (strcmp(c->op, "constexpr_lut_to_dense") == 0) {
        /* form 0: one scalar LUT per row (fast path); 1: vector LUT along
         * axis 1 (generic path); 9: per-tensor LUT, extreme indices */
        int64_t ls[4] = {3, 1, (int64_t)1 << c->bits, 1};
        if (c->form == 1) ls[0] = 1, ls[3] = 2;
        if (c->form == 9) ls[0] = 1;
        cml_mil_vid i = tg_value(t, "i", U8, false, 2, s2, q, true);
        if (packed) pack_value(t, i, c->bits);
        tg_param(t, "indices", i);
        tg_param(t, "lut", v_f(t, "lut", 4, ls, f, false));
        if (c->form == 1) tg_param(t, "vector_axis", tg_scalar_i(t, "va", 1));
        tg_out(t, 1);
    } else if (strcmp(c->op, "constexpr_lut_to_sparse") == 0) {
        int64_t ls[4] = {1, 1, (int64_t)1 << c->bits, 1}, k = 0;
        for (int j = 0; j < n; j++) k += mask[j] = (uint8_t)tg_randi(0, 1);
        cml_mil_vid i = tg_value(t, "nz", U8, false, 1, &k, q, true);
        if (packed) pack_value(t, i, c->bits);
        tg_param(t, "indices_mask", v_u8(t, "m", 2, s2, mask));
        tg_param(t, "indices_nonzero_data", i);
        tg_param(t, "lut", v_f(t, "lut", 4, ls, f, false));
        tg_out(t, 2);
    } else { /* constexpr_sparse_blockwise_shift_scale */
        int64_t ss[2] = {3, 1}, k = 0;
        for (int j = 0; j < n; j++) k += mask[j] = (uint8_t)tg_randi(0, 1);
        cml_mil_vid d = tg_value(t, "nz", qd, false, 1, &k, q, true);
        cml_mil_vid o = tg_value(t, "o", qd, false, 2, ss, q + 30, true);
        if (packed) pack_value(t, d, c->bits), pack_value(t, o, c->bits);
        tg_param(t, "data_mask", v_u8(t, "m", 2, s2, mask));
        tg_param(t, "nonzero_data", d);
        tg_param(t, "scale", v_f(t, "s", 2, ss, f, true));
        tg_param(t, "offset", o);
        tg_out(t, 2);
    }
}

/* Packed parameters give the same bits as unpacked ones: folding (run) and
 * the range decoder (every [start, start + count) window, odd starts and
 * ends included) that the compressed linear uses. */
static void test_packed(void) {
    static const unsigned kBits[] = {1, 2, 3, 4, 6};
    pk_case cases[96];
    int nc = 0;
    for (size_t b = 0; b < sizeof kBits / sizeof kBits[0]; b++) {
        unsigned bits = kBits[b];
        for (int form = 0; form < 3; form++)
            cases[nc++] = (pk_case){"constexpr_blockwise_shift_scale", bits, false, form};
        for (int form = 0; form < 2; form++)
            cases[nc++] = (pk_case){"constexpr_affine_dequantize", bits, false, form};
        for (int form = 0; form < 2; form++)
            cases[nc++] = (pk_case){"constexpr_lut_to_dense", bits, false, form};
        cases[nc++] = (pk_case){"constexpr_lut_to_dense", bits, false, 9};
        cases[nc++] = (pk_case){"constexpr_lut_to_sparse", bits, false, 0};
        cases[nc++] = (pk_case){"constexpr_sparse_blockwise_shift_scale", bits, false, 0};
    }
    for (int form = 0; form < 3; form++) /* int4: sign extension */
        cases[nc++] = (pk_case){"constexpr_blockwise_shift_scale", 4, true, form};
    cases[nc++] = (pk_case){"constexpr_blockwise_shift_scale", 4, true, 9};
    cases[nc++] = (pk_case){"constexpr_blockwise_shift_scale", 3, false, 9};
    cases[nc++] = (pk_case){"constexpr_blockwise_shift_scale", 6, false, 9};
    for (int form = 0; form < 2; form++)
        cases[nc++] = (pk_case){"constexpr_affine_dequantize", 4, true, form};
    cases[nc++] = (pk_case){"constexpr_sparse_blockwise_shift_scale", 4, true, 0};
    for (int i = 0; i < nc; i++) {
        const pk_case *c = &cases[i];
        unsigned seed = 1000u + (unsigned)i;
        tg ref, pk;
        pk_build(&ref, c, false, seed);
        pk_build(&pk, c, true, seed);
        cml_status s1 = go(&ref, true), s2 = go(&pk, true);
        CHECK_MSG(s1 == CML_OK && s2 == CML_OK, "packed %s %u-bit form %d", c->op, c->bits, c->form);
        if (s1 != CML_OK || s2 != CML_OK) {
            tg_free(&ref);
            tg_free(&pk);
            continue;
        }
        for (uint32_t o = 0; o < ref.node.noutputs; o++) {
            const cml_mil_value *a = tg_o(&ref, o), *b = tg_o(&pk, o);
            size_t nb = (size_t)cml_mil_numel(a) * cml_dtype_size(a->dtype);
            CHECK_MSG(cml_mil_numel(a) == cml_mil_numel(b) && memcmp(a->data, b->data, nb) == 0,
                      "packed %s %s%u form %d output %u differs", c->op, c->sgn ? "int" : "uint",
                      c->bits, c->form, o);
        }
        if (cml_constexpr_decodable(&pk.ctx, &pk.node)) {
            int64_t n = cml_mil_numel(tg_o(&pk, 0));
            float x[128], y[128];
            int bad = 0;
            for (int64_t st = 0; st < n; st++)
                for (int64_t cnt = 1; st + cnt <= n; cnt += 1 + cnt / 3) {
                    cml_constexpr_decode_range(&ref.ctx, &ref.node, st, cnt, x);
                    cml_constexpr_decode_range(&pk.ctx, &pk.node, st, cnt, y);
                    bad += memcmp(x, y, (size_t)cnt * sizeof(float)) != 0;
                }
            CHECK_MSG(bad == 0, "packed %s %u-bit form %d: %d range windows differ", c->op, c->bits,
                      c->form, bad);
        }
        tg_free(&ref);
        tg_free(&pk);
    }
    /* malformed packed indices: a uint2 index out of a 3-entry LUT range */
    {
        int64_t is[2] = {3, 7}, ls[4] = {1, 1, 3, 1};
        uint8_t idx[21] = {0};
        idx[20] = 3; /* the last element, in the last byte */
        float lut[3] = {1, 2, 3};
        tg t;
        tg_init(&t, "constexpr_lut_to_dense", 18);
        cml_mil_vid i = v_u8(&t, "i", 2, is, idx);
        pack_value(&t, i, 2);
        tg_param(&t, "indices", i);
        tg_param(&t, "lut", v_f(&t, "lut", 4, ls, lut, false));
        tg_out(&t, 1);
        expect_corrupt(&t, "packed index out of range");
        CHECK(strstr(t.err.msg, "element 20 is 3") != NULL);
        tg_free(&t);
    }
}

int main(void) {
    test_affine();
    test_blockwise();
    test_lut_ios16();
    test_lut_ios18();
    test_sparse();
    test_lut_to_sparse();
    test_sparse_bss();
    test_cast();
    test_quantize();
    test_packed();
    TEST_MAIN_END();
}
