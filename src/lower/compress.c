/* Weight compression for `cml lower` (--quantize, --palettize): a linear /
 * conv weight (output channels on axis 0) written as the constexpr op
 * coremltools writes for it, or as a plain const (cml_cv_const_floats) when
 * it is not to be compressed (see convert_ctx.h cml_cv_const_weight). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fp16.h"
#include "coreml/value.h"
#include "lower/convert_ctx.h"

/* The symmetric scale of the n values of blk: max|v| / div, rounded to fp16
 * when computing in fp16; 1 for an all-zero block (or one below fp16's
 * range: every q is then 0). false for a non-finite value or scale. */
static bool block_scale(const float *blk, int64_t n, float div, bool fp16, float *scale) {
    float mx = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(blk[i])) return false;
        mx = fabsf(blk[i]) > mx ? fabsf(blk[i]) : mx;
    }
    float s = mx / div;
    if (fp16) s = cml_round_fp16(s);
    if (!isfinite(s)) return false;
    *scale = s == 0 ? 1 : s;
    return true;
}

/* Symmetric int8, one scale per row (axis 0): max|w| / 127, q =
 * round-half-even(w / scale) in [-127, 127]. false (nothing usable) when a
 * row is not finite. */
static bool quantize_rows(const float *w, int64_t rows, int64_t per, bool fp16, int8_t *q,
                          float *scale) {
    for (int64_t r = 0; r < rows; r++) {
        const float *row = w + r * per;
        if (!block_scale(row, per, 127.0f, fp16, &scale[r])) return false;
        for (int64_t i = 0; i < per; i++) {
            float v = nearbyintf(row[i] / scale[r]);
            q[r * per + i] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
        }
    }
    return true;
}

/* Symmetric int4 as torchao's choose_qparams_affine (qmin -8, qmax 7): one
 * scale per block of `bs` consecutive elements of a row, max|w| / 7.5, q =
 * clamp(round-half-even(w / scale), -8, 7), packed two per byte, the first
 * in the low nibble (q4 zeroed by the caller). false when a block is not
 * finite. */
static bool quantize_int4(const float *w, int64_t n, int64_t bs, bool fp16, uint8_t *q4,
                          float *scale) {
    for (int64_t b = 0; b < n / bs; b++) {
        const float *blk = w + b * bs;
        if (!block_scale(blk, bs, 7.5f, fp16, &scale[b])) return false;
        for (int64_t i = 0; i < bs; i++) {
            float v = nearbyintf(blk[i] / scale[b]);
            int q = (int)(v > 7 ? 7 : v < -8 ? -8 : v);
            int64_t k = b * bs + i;
            q4[k / 2] |= (uint8_t)((q & 15) << (k % 2 ? 4 : 0));
        }
    }
    return true;
}

/* int8 per output channel (constexpr_affine_dequantize); false: kept dense. */
static cml_status emit_int8(cml_cv_ctx *c, const char *name, const cml_milw_type *t,
                            const float *data, int64_t n, bool *done) {
    int64_t rows = t->dims[0];
    int8_t *q = malloc((size_t)n), *zp = calloc((size_t)rows, 1);
    float *scale = malloc((size_t)rows * sizeof *scale);
    uint16_t *h = malloc((size_t)rows * sizeof *h);
    cml_status st = CML_OK;
    if (!q || !zp || !scale || !h) {
        st = cml_fail(c->err, CML_ERR_NOMEM, "lower: out of memory for weight %s", name);
    } else if ((*done = quantize_rows(data, rows, n / rows, c->opts->fp16, q, scale))) {
        for (int64_t r = 0; r < rows; r++) h[r] = cml_fp32_to_fp16(scale[r]);
        cml_milw_affine_dequantize(&c->w, name, t, q, zp, c->opts->fp16 ? (void *)h : scale, 0);
    }
    free(q), free(zp), free(scale), free(h);
    return st;
}

/* int4 per block (constexpr_blockwise_shift_scale); false: kept dense. */
static cml_status emit_int4(cml_cv_ctx *c, const char *name, const cml_milw_type *t,
                            const float *data, int64_t n, bool *done) {
    int64_t rows = t->dims[0], per = n / rows, bs = per;
    if (t->rank == 2 && c->opts->block_size && per % c->opts->block_size == 0)
        bs = c->opts->block_size;
    cml_milw_type st = {t->dtype, t->rank, {0}};
    for (int32_t i = 0; i < t->rank; i++) st.dims[i] = 1;
    st.dims[0] = rows;
    if (t->rank == 2) st.dims[1] = per / bs;
    int64_t nblk = n / bs;
    uint8_t *q4 = calloc((size_t)(n + 1) / 2, 1);
    float *scale = malloc((size_t)nblk * sizeof *scale);
    uint16_t *h = malloc((size_t)nblk * sizeof *h);
    cml_status status = CML_OK;
    if (!q4 || !scale || !h) {
        status = cml_fail(c->err, CML_ERR_NOMEM, "lower: out of memory for weight %s", name);
    } else if ((*done = quantize_int4(data, n, bs, c->opts->fp16, q4, scale))) {
        for (int64_t b = 0; b < nblk; b++) h[b] = cml_fp32_to_fp16(scale[b]);
        cml_milw_blockwise_shift_scale(&c->w, name, t, q4, &st, c->opts->fp16 ? (void *)h : scale);
    }
    free(q4), free(scale), free(h);
    return status;
}

/* ---- palettization ------------------------------------------------------ */

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

#define KMEANS_ITERS 64

/* 1-D k-means (Lloyd) of the n sorted values x into k ascending centroids c:
 * initialized at the quantile midpoints, each value assigned to its nearest
 * centroid (a run of the sorted values per cluster), until no centroid moves
 * or KMEANS_ITERS rounds. An empty cluster keeps its centroid. */
static void kmeans_1d(const float *x, int64_t n, int k, float *c) {
    for (int j = 0; j < k; j++) c[j] = x[(int64_t)((2 * j + 1) * (double)n / (2.0 * k))];
    for (int it = 0; it < KMEANS_ITERS; it++) {
        bool moved = false;
        int64_t i = 0;
        for (int j = 0; j < k; j++) {
            double sum = 0;
            int64_t cnt = 0;
            float hi = j + 1 < k ? c[j] + (c[j + 1] - c[j]) / 2 : INFINITY;
            for (; i < n && (x[i] < hi || j + 1 == k); i++) sum += x[i], cnt++;
            float m = cnt ? (float)(sum / (double)cnt) : c[j];
            moved |= m != c[j];
            c[j] = m;
        }
        for (int j = 1; j < k; j++) /* keep them ascending */
            if (c[j] < c[j - 1]) c[j] = c[j - 1];
        if (!moved) break;
    }
}

/* Index of the entry of the ascending table lut (k entries) nearest to v. */
static uint8_t nearest(const float *lut, int k, float v) {
    int lo = 0, hi = k - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (v > lut[mid] + (lut[mid + 1] - lut[mid]) / 2) lo = mid + 1;
        else hi = mid;
    }
    return (uint8_t)lo;
}

/* One table of 2^bits entries per group of g rows (k-means of the group's
 * values, entries rounded to fp16 when computing in fp16), each weight
 * replaced by the index of its nearest entry. false when a value is not
 * finite. */
static bool palettize_groups(cml_cv_ctx *c, const char *name, const float *w, int64_t rows,
                             int64_t per, int64_t g, int bits, uint8_t *idx, float *lut) {
    int k = 1 << bits;
    int64_t len = g * per, ngroups = rows / g;
    float *sorted = malloc((size_t)len * sizeof *sorted);
    if (!sorted) return false;
    bool ok = true;
    for (int64_t q = 0; q < ngroups && ok; q++) {
        const float *src = w + q * len;
        for (int64_t i = 0; i < len; i++) ok &= isfinite(src[i]) != 0;
        if (!ok) break;
        memcpy(sorted, src, (size_t)len * sizeof *sorted);
        qsort(sorted, (size_t)len, sizeof *sorted, cmp_float);
        float *t = lut + q * k;
        kmeans_1d(sorted, len, k, t);
        for (int j = 0; j < k; j++) t[j] = c->opts->fp16 ? cml_round_fp16(t[j]) : t[j];
        for (int64_t i = 0; i < len; i++) idx[q * len + i] = nearest(t, k, src[i]);
        if (c->opts->progress) c->opts->progress(c->opts->progress_ctx, name, (uint32_t)(q + 1),
                                                 (uint32_t)ngroups);
    }
    free(sorted);
    return ok;
}

static int uint_dtype(int bits) {
    switch (bits) {
    case 1: return CML_MILW_UINT1;
    case 2: return CML_MILW_UINT2;
    case 3: return CML_MILW_UINT3;
    case 4: return CML_MILW_UINT4;
    case 6: return CML_MILW_UINT6;
    default: return CML_MILW_UINT8;
    }
}

/* constexpr_lut_to_dense (iOS18): a table per group_size output channels
 * (0, or a size that does not divide them: one table). */
static cml_status emit_lut(cml_cv_ctx *c, const char *name, const cml_milw_type *t,
                           const float *data, int64_t n, bool *done) {
    int bits = c->opts->palettize_bits, k = 1 << bits;
    int64_t rows = t->dims[0], g = c->opts->group_size;
    if (g <= 0 || rows % g) g = rows;
    int64_t ngroups = rows / g;
    uint8_t *idx = malloc((size_t)n), *packed = calloc(cml_subbyte_nbytes((uint64_t)n, 8), 1);
    float *lut = malloc((size_t)(ngroups * k) * sizeof *lut);
    uint16_t *h = malloc((size_t)(ngroups * k) * sizeof *h);
    cml_status st = CML_OK;
    if (!idx || !packed || !lut || !h) {
        st = cml_fail(c->err, CML_ERR_NOMEM, "lower: out of memory for weight %s", name);
    } else if ((*done = palettize_groups(c, name, data, rows, n / rows, g, bits, idx, lut))) {
        cml_milw_type it = *t, lt = {t->dtype, t->rank + 2, {0}};
        it.dtype = uint_dtype(bits);
        for (int32_t i = 0; i < t->rank; i++) lt.dims[i] = 1;
        lt.dims[0] = ngroups, lt.dims[t->rank] = k, lt.dims[t->rank + 1] = 1;
        for (int64_t i = 0; i < ngroups * k; i++) h[i] = cml_fp32_to_fp16(lut[i]);
        if (bits == 8) memcpy(packed, idx, (size_t)n);
        else cml_subbyte_pack(idx, (uint64_t)n, (unsigned)bits, packed);
        cml_milw_lut_to_dense(&c->w, name, t, &it, packed, &lt, c->opts->fp16 ? (void *)h : lut);
    }
    free(idx), free(packed), free(lut), free(h);
    return st;
}

cml_status cml_cv_const_weight(cml_cv_ctx *c, const char *name, int32_t rank, const int64_t *dims,
                               const float *data) {
    int64_t n = 1;
    for (int32_t i = 0; i < rank; i++) n *= dims[i];
    bool compress = c->opts->quantize_bits || c->opts->palettize_bits;
    if (!compress || rank < 2 || n < 1 || n < (int64_t)c->opts->weight_threshold)
        return cml_cv_const_floats(c, name, rank, dims, data);
    cml_milw_type t = {c->opts->fp16 ? CML_MILW_FP16 : CML_MILW_FP32, rank, {0}};
    for (int32_t i = 0; i < rank; i++) t.dims[i] = dims[i];
    bool done = false;
    if (c->opts->palettize_bits) CML_TRY(emit_lut(c, name, &t, data, n, &done));
    else if (c->opts->quantize_bits == 4) CML_TRY(emit_int4(c, name, &t, data, n, &done));
    else CML_TRY(emit_int8(c, name, &t, data, n, &done));
    return done ? CML_OK : cml_cv_const_floats(c, name, rank, dims, data); /* kept dense */
}
