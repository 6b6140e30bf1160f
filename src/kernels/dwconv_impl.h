/* Depthwise 3x3 planes with a fused epilogue, written once over simd.h and
 * compiled per ISA by dwconv_avx2.c and dwconv_avx512.c (contract in
 * dwconv.h).
 *
 * A band of output rows is computed from a zero-padded copy of the input
 * rows it reads (a stack buffer that stays in L1). Stride 1 keeps the padded
 * rows as they are; stride 2 splits them into four polyphase planes (even /
 * odd rows x even / odd columns), which turns every tap into a stride-1 read.
 * Either way output (oh, ow) of the band is "grid" position q = oh * Wq + ow
 * and tap t reads buffer element q + off[t], so up to four output vectors
 * (from one row or from several short rows) are computed together with four
 * independent accumulators. Each output is bias + the nine taps in row-major
 * order, one FMA per tap, as the scalar reference sums them (with zeros read
 * for padding, which leave the sum unchanged). */
#include <string.h>

#include "kernels/dwconv.h"
#include "kernels/simd.h"

#define DW3_BUF CML_DW3_BUF /* floats: the padded input band (24 KiB) */
#define DW3_GRID 4096       /* floats: the one-sum order's output grid (16 KiB) */

typedef struct dw3_geom {
    int64_t H, W, HO, WO, pt, pl, s;
    int64_t Wq;   /* buffer row length (per polyphase plane for stride 2) */
    int64_t rows; /* output rows per band */
    int64_t off[9];
} dw3_geom;

static CML_ALWAYS_INLINE vf dw3_round16(vf v) {
#if defined(__AVX512F__)
    return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#else
    return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#endif
}

/* clamp as CML_UN_CLAMP (NaN passes), then fp16 rounding */
static CML_ALWAYS_INLINE vf dw3_epi(vf v, const cml_conv_epi *e, vf lo, vf hi) {
    if (e->clamp) {
        vf r = v_sel(v_gt(v, hi), hi, v);
        v = v_sel(v_lt(v, lo), lo, r);
    }
    if (e->round16) v = dw3_round16(v);
    return v;
}

/* dst[0, n) = src[0, n); writes whole vectors, so up to VW - 1 floats after
 * dst[n - 1] are overwritten too (the buffer is filled in increasing
 * address order, each plane row before the next, and has slack after every
 * plane). Masked stores are avoided: they are slow on some CPUs (AMD). */
static CML_ALWAYS_INLINE void dw3_copy(float *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + VW <= n; i += VW) v_store(dst + i, v_load(src + i));
    if (i < n) v_store(dst + i, v_load_n(src + i, (size_t)(n - i)));
}

/* dst[0, n) = 0 in whole vectors: like dw3_copy, up to VW - 1 floats after
 * dst[n - 1] are overwritten too. (A scalar loop would become a memset
 * call, which costs more than these few stores.) */
static CML_ALWAYS_INLINE void dw3_zero(float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i += VW) v_store(dst + i, v_zero());
}

/* Stores the first cnt lanes of v (once per plane; masked). */
static CML_ALWAYS_INLINE void dw3_store_part(float *dst, vf v, int64_t cnt) {
    v_store_n(dst, v, (size_t)cnt);
}

/* Buffer row for padded row r: padded columns [0, Wq) of stride 1. */
static void dw3_fill_row_s1(const dw3_geom *g, const float *x, int64_t r, float *dst) {
    int64_t ih = r - g->pt;
    if (ih < 0 || ih >= g->H) {
        dw3_zero(dst, g->Wq);
        return;
    }
    int64_t a = g->pl < g->Wq ? g->pl : g->Wq;        /* input starts at column a */
    int64_t n = g->W < g->Wq - a ? g->W : g->Wq - a;  /* input columns used */
    dw3_zero(dst, a);
    dw3_copy(dst + a, x + ih * g->W, n);
    dw3_zero(dst + a + n, g->Wq - a - n);
}

/* dst[k] = src[2k] for k < n, reading no element past src[2n - 2]; whole
 * vectors are stored (up to VW - 1 floats past dst[n - 1]). */
static CML_ALWAYS_INLINE void dw3_evens(float *dst, const float *src, int64_t n) {
    int64_t k = 0;
    for (; k + VW < n; k += VW) v_store(dst + k, v_load_even(src + 2 * k)); /* reads 2VW floats */
    if (k < n) v_store(dst + k, v_load_even_range(src + 2 * k, 0, n - k));
}

/* Even and odd padded columns of padded row r (stride 2) into e[0, Wq) and
 * o[0, Wq): padded column c = iw + pl goes to (c odd ? o : e)[c / 2]. */
static void dw3_fill_row_s2(const dw3_geom *g, const float *x, int64_t r, float *e, float *o) {
    int64_t ih = r - g->pt;
    int64_t Wp = 2 * g->Wq; /* padded columns held */
    int64_t ncol = g->W < Wp - g->pl ? g->W : Wp - g->pl;
    if (ih < 0 || ih >= g->H || ncol <= 0) {
        dw3_zero(e, g->Wq);
        dw3_zero(o, g->Wq);
        return;
    }
    const float *src = x + ih * g->W;
    int64_t e0 = g->pl & 1;                  /* first input column on an even padded column */
    int64_t ne = ncol > e0 ? (ncol - e0 + 1) / 2 : 0;
    int64_t no = ncol > 1 - e0 ? (ncol - (1 - e0) + 1) / 2 : 0;
    int64_t se = (g->pl + e0) >> 1, so = (g->pl + 1 - e0) >> 1; /* first slot written */
    dw3_zero(e, se);
    dw3_evens(e + se, src + e0, ne);
    dw3_zero(e + se + ne, g->Wq - se - ne);
    dw3_zero(o, so);
    dw3_evens(o + so, src + 1 - e0, no);
    dw3_zero(o + so + no, g->Wq - so - no);
}

/* Stride 2: floats per polyphase plane of a band of n output rows (n + 1
 * rows, then a gap that takes the vector stores running past a row). */
static CML_ALWAYS_INLINE int64_t dw3_plane_s2(const dw3_geom *g, int64_t n) {
    return (n + 1) * g->Wq + VW;
}

/* Fills the buffer for output rows [oh0, oh0 + nrows). */
static void dw3_fill(const dw3_geom *g, const float *x, int64_t oh0, int64_t nrows, float *buf) {
    if (g->s == 1) {
        for (int64_t i = 0; i < nrows + 2; i++) dw3_fill_row_s1(g, x, oh0 + i, buf + i * g->Wq);
        return;
    }
    int64_t ps = dw3_plane_s2(g, nrows);
    for (int64_t i = 0; i < 2 * nrows + 1; i++) {
        float *row = buf + (i & 1) * 2 * ps + (i >> 1) * g->Wq;
        dw3_fill_row_s2(g, x, 2 * oh0 + i, row, row + ps);
    }
    /* odd-row planes hold nrows rows; their last row is read by junk lanes only */
    dw3_zero(buf + 2 * ps + nrows * g->Wq, g->Wq);
    dw3_zero(buf + 3 * ps + nrows * g->Wq, g->Wq);
}

/* The one-sum order: the band's whole grid (output rows of Wq columns, the
 * last Wq - WO of each junk) in blocks of four vectors, bias + taps 0..8 in
 * order, one accumulator per vector. */
static void dw3_grid(const float *buf, const int64_t *off, const vf *wv, vf bv, int64_t nq,
                     float *grid) {
    for (int64_t q = 0; q < nq; q += 4 * VW) {
        vf a0 = bv, a1 = bv, a2 = bv, a3 = bv;
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++) {
            const float *b = buf + q + off[t];
            a0 = v_fmadd(wv[t], v_load(b), a0);
            a1 = v_fmadd(wv[t], v_load(b + VW), a1);
            a2 = v_fmadd(wv[t], v_load(b + 2 * VW), a2);
            a3 = v_fmadd(wv[t], v_load(b + 3 * VW), a3);
        }
        v_store(grid + q, a0);
        v_store(grid + q + VW, a1);
        v_store(grid + q + 2 * VW, a2);
        v_store(grid + q + 3 * VW, a3);
    }
}

/* Output rows [oh0, oh0 + nrows) from the grid, through the epilogue. A
 * partial vector is stored whole (its extra lanes land on the next output
 * rows, written later) unless that would pass the plane's end. */
static void dw3_grid_out(const dw3_geom *g, const float *grid, int64_t oh0, int64_t nrows,
                         float *y, const cml_conv_epi *e) {
    const vf lo = v_set1(e->lo), hi = v_set1(e->hi);
    const int64_t end = g->HO * g->WO;
    for (int64_t oh = 0; oh < nrows; oh++) {
        const float *src = grid + oh * g->Wq;
        int64_t d = (oh0 + oh) * g->WO;
        for (int64_t ow = 0; ow < g->WO; ow += VW) {
            vf r = dw3_epi(v_load(src + ow), e, lo, hi);
            if (d + ow + VW <= end)
                v_store(y + d + ow, r);
            else
                dw3_store_part(y + d + ow, r, g->WO - ow);
        }
    }
}

/* The row-split order (the order the earlier wide-plane kernel used, kept
 * so that results stay bit-identical): taps of kernel rows 0 and 2 go to one
 * sum, row 1 to another, and the output is their sum. Which sum starts from
 * the bias depends on the first valid kernel row: x0 / y0 are the two
 * starting values. NV vectors of one output row starting at grid q0. */
static CML_ALWAYS_INLINE void dw3_vectors_split(const int NV, const float *buf,
                                                const int64_t *off, const vf *wv, vf x0, vf y0,
                                                int64_t q0, float *dst, int64_t cnt_last,
                                                const cml_conv_epi *e, vf lo, vf hi) {
    vf ax[4], ay[4];
#pragma GCC unroll 4
    for (int i = 0; i < NV; i++) ax[i] = x0, ay[i] = y0;
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++)
#pragma GCC unroll 4
        for (int i = 0; i < NV; i++) {
            vf v = v_load(buf + q0 + i * VW + off[t]);
            if (t / 3 == 1)
                ay[i] = v_fmadd(wv[t], v, ay[i]);
            else
                ax[i] = v_fmadd(wv[t], v, ax[i]);
        }
#pragma GCC unroll 4
    for (int i = 0; i < NV; i++) {
        vf r = dw3_epi(v_add(ax[i], ay[i]), e, lo, hi);
        if (i < NV - 1 || cnt_last > 0)
            v_store(dst + i * VW, r);
        else
            dw3_store_part(dst + i * VW, r, -cnt_last);
    }
}

/* dw3_band in the row-split order. */
static void dw3_band_split(const dw3_geom *g, const float *buf, const vf *wv, vf bv, int64_t oh0,
                           int64_t nrows, float *y, const cml_conv_epi *e) {
    const vf lo = v_set1(e->lo), hi = v_set1(e->hi), z = v_zero();
    for (int64_t oh = 0; oh < nrows; oh++) {
        int64_t ih = (oh0 + oh) * g->s - g->pt; /* input row of kernel row 0 */
        bool swap = (ih < 0 || ih >= g->H) && ih + 1 >= 0 && ih + 1 < g->H;
        vf x0 = swap ? z : bv, y0 = swap ? bv : z;
        float *row = y + (oh0 + oh) * g->WO;
        int64_t ow = 0;
        for (; ow + 4 * VW < g->WO; ow += 4 * VW) /* at least one vector left after */
            dw3_vectors_split(4, buf, g->off, wv, x0, y0, oh * g->Wq + ow, row + ow, VW, e, lo, hi);
        int64_t left = g->WO - ow, nv = (left + VW - 1) / VW, last = left - (nv - 1) * VW;
        int64_t q0 = oh * g->Wq + ow;
        /* a whole-vector store must stay inside the plane */
        if ((oh0 + oh) * g->WO + g->WO - last + VW > g->HO * g->WO) last = -last;
        if (nv == 4)
            dw3_vectors_split(4, buf, g->off, wv, x0, y0, q0, row + ow, last, e, lo, hi);
        else if (nv == 3)
            dw3_vectors_split(3, buf, g->off, wv, x0, y0, q0, row + ow, last, e, lo, hi);
        else if (nv == 2)
            dw3_vectors_split(2, buf, g->off, wv, x0, y0, q0, row + ow, last, e, lo, hi);
        else if (nv == 1)
            dw3_vectors_split(1, buf, g->off, wv, x0, y0, q0, row + ow, last, e, lo, hi);
    }
}

/* Buffer floats for a band of n output rows, including the slack the last
 * vector reads past the grid (up to VW - 1 floats). */
static int64_t dw3_band_floats(const dw3_geom *g, int64_t n) {
    return (g->s == 1 ? (n + 2) * g->Wq : 4 * dw3_plane_s2(g, n)) + VW;
}

/* Grid floats for a band of n output rows, whole blocks of four vectors
 * (the blocks past the last row read the buffer's slack and zeros). */
static int64_t dw3_grid_floats(const dw3_geom *g, int64_t n) {
    return (n * g->Wq + 4 * VW - 1) / (4 * VW) * (4 * VW);
}

static bool dw3_setup(const cml_conv2d_params *p, dw3_geom *g) {
    g->H = p->h_in, g->W = p->w_in, g->HO = p->h_out, g->WO = p->w_out;
    g->pt = p->pad_top, g->pl = p->pad_left, g->s = p->stride_w;
    g->Wq = g->s == 1 ? g->WO + 2 : g->WO + 1;
    int64_t n = g->HO;
    while (n > 1 && (dw3_band_floats(g, n) > DW3_BUF || dw3_grid_floats(g, n) > DW3_GRID))
        n = (n + 1) / 2;
    if (dw3_band_floats(g, n) > DW3_BUF || dw3_grid_floats(g, n) > DW3_GRID) return false;
    g->rows = n;
    for (int64_t kh = 0; kh < 3; kh++)
        for (int64_t kw = 0; kw < 3; kw++)
            g->off[kh * 3 + kw] = g->s == 1 ? kh * g->Wq + kw
                                            : 0; /* stride 2: per band, below */
    return true;
}

/* Stride-2 tap offsets for a band of n rows (plane size depends on n). */
static void dw3_offsets_s2(dw3_geom *g, int64_t n) {
    int64_t ps = dw3_plane_s2(g, n);
    for (int64_t kh = 0; kh < 3; kh++)
        for (int64_t kw = 0; kw < 3; kw++)
            g->off[kh * 3 + kw] = ((kh & 1) * 2 + (kw & 1)) * ps + (kh >> 1) * g->Wq + (kw >> 1);
}

/* Which summation order the earlier kernels used for this plane (results
 * stay bit-identical): 1 = one sum (small planes, the flattened kernel),
 * 2 = row-split (wide planes, the padded-row kernel), 0 = neither (the
 * caller's generic plane). */
static int dw3_order(const cml_conv2d_params *p) {
    const int64_t H = p->h_in, W = p->w_in, HO = p->h_out, WO = p->w_out;
    const int64_t s = p->stride_w, pt = p->pad_top, pl = p->pad_left;
    if (WO <= 64) { /* the flattened kernel's limits (4096-float buffers) */
        int64_t pb = (HO - 1) * s + 3 - H - pt, pr = (WO - 1) * s + 3 - W - pl;
        pb = pb < 0 ? 0 : pb;
        pr = pr < 0 ? 0 : pr;
        int64_t Hq = (pt + H + pb + s - 1) / s, Wq = (pl + W + pr + s - 1) / s, ps = Hq * Wq;
        int64_t nq_r = (HO * Wq + 4 * VW - 1) / (4 * VW) * (4 * VW);
        int64_t max_off = s == 1 ? 2 * Wq + 2 : 3 * ps;
        int64_t xlen = nq_r + max_off > ps * s * s ? nq_r + max_off : ps * s * s;
        if (xlen <= 4096 && nq_r <= 4096) return 1;
    }
    /* the padded-row kernel's limits (rows of 1024 floats) */
    int64_t right = ((WO + VW - 1) / VW + 1) * VW * s + 2 - pl;
    if (right < W) right = W;
    return pl <= 1024 && pl + right <= 1024 ? 2 : 0;
}

/* One band of every plane in [pl0, pl1). */
static void dw3_band_planes(const dw3_geom *g, int order, int64_t oh0, int64_t n, float *buf,
                            float *grid, const cml_dw3_job *j, size_t pl0, size_t pl1) {
    const cml_conv2d_params *p = j->p;
    const int64_t mult = p->c_out / p->groups;
    for (size_t pl = pl0; pl < pl1; pl++) {
        int64_t b = (int64_t)pl / p->c_out, co = (int64_t)pl % p->c_out;
        const float *x = j->x + (b * p->c_in + co / mult) * g->H * g->W;
        const float *w = j->w + co * 9;
        float *y = j->y + (int64_t)pl * g->HO * g->WO;
        vf wv[9];
        for (int t = 0; t < 9; t++) wv[t] = v_set1(w[t]);
        const vf bv = v_set1(j->bias ? j->bias[co] : 0.0f);
        dw3_fill(g, x, oh0, n, buf);
        if (order == 1) {
            dw3_grid(buf, g->off, wv, bv, dw3_grid_floats(g, n), grid);
            dw3_grid_out(g, grid, oh0, n, y, &j->epi);
        } else {
            dw3_band_split(g, buf, wv, bv, oh0, n, y, &j->epi);
        }
    }
}

/* ---- small planes: VW planes at once, channels in the vector lanes ----------
 * Small planes (a few vectors per row) spend most of their time filling
 * buffers and storing partial vectors. Instead VW planes are interleaved
 * into one zero-padded image whose pixels are vectors of VW channels
 * (xi[(r * Wp + c) * VW + lane]), every output pixel of the VW planes is
 * then one vector (bias + taps 0..8 in order, one FMA each: the one-sum
 * order exactly), and the outputs are scattered back to their planes. */

typedef struct dw3_small {
    int64_t H, W, HO, WO, pt, pl, s, Hp, Wp;
} dw3_small;

static bool dw3_small_setup(const cml_conv2d_params *p, dw3_small *d) {
    d->H = p->h_in, d->W = p->w_in, d->HO = p->h_out, d->WO = p->w_out;
    d->pt = p->pad_top, d->pl = p->pad_left, d->s = p->stride_w;
    d->Hp = (d->HO - 1) * d->s + 3, d->Wp = (d->WO - 1) * d->s + 3;
    return d->WO <= 16 && d->Hp * d->Wp * VW <= DW3_BUF;
}

#if !defined(__AVX512F__)
/* 8x8 transpose: r[i] lane j <- r[j] lane i. */
static CML_ALWAYS_INLINE void dw3_tr8(__m256 *r) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20), r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20), r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31), r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31), r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}
#endif

/* Pixels [c0, c0 + n) (n <= VW) of padded row r from input row ih. */
static CML_ALWAYS_INLINE void dw3_small_cols(const dw3_small *d, const float *const *src,
                                             int64_t ih, int64_t iw0, int64_t n, float *dst) {
#if !defined(__AVX512F__)
    __m256 v[8];
    for (int l = 0; l < 8; l++) v[l] = v_load_n(src[l] + ih * d->W + iw0, (size_t)n);
    dw3_tr8(v);
    for (int64_t i = 0; i < n; i++) v_store(dst + i * VW, v[i]);
#else
    for (int64_t i = 0; i < n; i++)
        for (int l = 0; l < VW; l++) dst[i * VW + l] = src[l][ih * d->W + iw0 + i];
#endif
}

/* Interleaves planes src[0..VW) into xi (padded pixels zero). */
static void dw3_small_gather(const dw3_small *d, const float *const *src, float *xi) {
    for (int64_t r = 0; r < d->Hp; r++) {
        int64_t ih = r - d->pt;
        float *row = xi + r * d->Wp * VW;
        int64_t c0 = d->pl < d->Wp ? d->pl : d->Wp;      /* first input pixel */
        int64_t n = d->W < d->Wp - c0 ? d->W : d->Wp - c0; /* input pixels */
        if (ih < 0 || ih >= d->H) c0 = 0, n = 0;
        for (int64_t c = 0; c < c0; c++) v_store(row + c * VW, v_zero());
        for (int64_t i = 0; i < n; i += VW)
            dw3_small_cols(d, src, ih, i, n - i < VW ? n - i : VW, row + (c0 + i) * VW);
        for (int64_t c = c0 + n; c < d->Wp; c++) v_store(row + c * VW, v_zero());
    }
}

/* De-interleaves npx output pixels (out holds VW pixels more) into planes
 * y[l * npx ...]. */
static void dw3_small_scatter(const float *out, int64_t npx, float *y) {
#if !defined(__AVX512F__)
    for (int64_t i = 0; i < npx; i += 8) {
        __m256 v[8];
        for (int k = 0; k < 8; k++) v[k] = v_load(out + (i + k) * VW);
        dw3_tr8(v);
        int64_t n = npx - i < 8 ? npx - i : 8;
        if (n == 8) {
            for (int l = 0; l < 8; l++) v_store(y + l * npx + i, v[l]);
        } else { /* the planes' tails: exactly n pixels each */
            for (int l = 0; l < 8; l++) v_store_n(y + l * npx + i, v[l], (size_t)n);
        }
    }
#else
    for (int l = 0; l < VW; l++)
        for (int64_t i = 0; i < npx; i++) y[l * npx + i] = out[i * VW + l];
#endif
}

/* NP (1..4) output pixels: input windows at b[i] (top-left tap), results
 * to out[i * VW]. */
static CML_ALWAYS_INLINE void dw3_small_px(const int NP, const dw3_small *d, const float *const *b,
                                           const vf *wv, vf bv, float *out,
                                           const cml_conv_epi *e, vf lo, vf hi) {
    vf acc[4];
#pragma GCC unroll 4
    for (int i = 0; i < NP; i++) acc[i] = bv;
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++) {
        int64_t o = ((t / 3) * d->Wp + t % 3) * VW;
#pragma GCC unroll 4
        for (int i = 0; i < NP; i++) acc[i] = v_fmadd(wv[t], v_load(b[i] + o), acc[i]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < NP; i++) v_store(out + i * VW, dw3_epi(acc[i], e, lo, hi));
}

/* Every output pixel, four at a time in row-major order. */
static void dw3_small_all(const dw3_small *d, const float *xi, const vf *wv, vf bv, float *out,
                          const cml_conv_epi *e) {
    const vf lo = v_set1(e->lo), hi = v_set1(e->hi);
    const float *b[4];
    int np = 0;
    float *o = out;
    for (int64_t oh = 0; oh < d->HO; oh++) {
        const float *row = xi + oh * d->s * d->Wp * VW;
        for (int64_t ow = 0; ow < d->WO; ow++) {
            b[np++] = row + ow * d->s * VW;
            if (np == 4) {
                dw3_small_px(4, d, b, wv, bv, o, e, lo, hi);
                o += 4 * VW;
                np = 0;
            }
        }
    }
    for (int i = 0; i < np; i++) dw3_small_px(1, d, b + i, wv, bv, o + i * VW, e, lo, hi);
}

/* Planes [pl, pl + VW) of the job; xi and out hold Hp * Wp and HO * WO pixels. */
static void dw3_small_block(const dw3_small *d, const cml_dw3_job *j, size_t pl, float *xi,
                            float *out) {
    const cml_conv2d_params *p = j->p;
    const int64_t mult = p->c_out / p->groups, npx = d->HO * d->WO;
    const float *src[VW];
    float wt[9][VW] CML_ALIGNED(64), bt[VW] CML_ALIGNED(64);
    for (int l = 0; l < VW; l++) {
        int64_t q = (int64_t)pl + l, b = q / p->c_out, co = q % p->c_out;
        src[l] = j->x + (b * p->c_in + co / mult) * d->H * d->W;
        for (int t = 0; t < 9; t++) wt[t][l] = j->w[co * 9 + t];
        bt[l] = j->bias ? j->bias[co] : 0.0f;
    }
    vf wv[9];
    for (int t = 0; t < 9; t++) wv[t] = v_load(wt[t]);
    dw3_small_gather(d, src, xi);
    dw3_small_all(d, xi, wv, v_load(bt), out, &j->epi);
    dw3_small_scatter(out, npx, j->y + (int64_t)pl * npx);
}

/* The small-plane path over whole blocks of VW planes from pl0; returns the
 * first plane it did not do. */
static CML_NOINLINE size_t dw3_small_planes(const cml_dw3_job *j, size_t pl0, size_t pl1) {
    dw3_small d;
    if (pl1 - pl0 < VW || !dw3_small_setup(j->p, &d)) return pl0;
    float xi[DW3_BUF] CML_ALIGNED(64);
    float out[(16 * 16 + VW) * VW] CML_ALIGNED(64);
    if (d.HO * d.WO > 16 * 16) return pl0;
    size_t pl = pl0;
    for (; pl + VW <= pl1; pl += VW) dw3_small_block(&d, j, pl, xi, out);
    return pl;
}

/* The banded paths over planes [pl0, pl1) (its own frame: the small-plane
 * path's buffers are not live at the same time). */
static CML_NOINLINE void dw3_banded(const cml_dw3_job *j, dw3_geom *g, int order, size_t pl0,
                                    size_t pl1) {
    /* the grid's last block may read past the band: the buffer holds that
     * much more, zeroed once (as are the stride-2 gaps) */
    float buf[DW3_BUF + DW3_GRID / 4] CML_ALIGNED(64);
    float grid[DW3_GRID + VW] CML_ALIGNED(64); /* + the last row's whole-vector reads */
    memset(buf, 0, (size_t)(dw3_band_floats(g, g->rows) + 4 * VW) * sizeof(float));
    for (int64_t oh0 = 0; oh0 < g->HO; oh0 += g->rows) {
        int64_t n = g->HO - oh0 < g->rows ? g->HO - oh0 : g->rows;
        if (g->s == 2) dw3_offsets_s2(g, n);
        dw3_band_planes(g, order, oh0, n, buf, grid, j, pl0, pl1);
    }
}

bool VSUF(cml_k_dw3_planes)(const cml_dw3_job *j, size_t pl0, size_t pl1) {
    const cml_conv2d_params *p = j->p;
    dw3_geom g;
    if (!cml_k_dw3_fits(p)) return false;
    int order = dw3_order(p);
    if (order == 0 || !dw3_setup(p, &g)) return false;
    if (order == 1) pl0 = dw3_small_planes(j, pl0, pl1);
    if (pl0 < pl1) dw3_banded(j, &g, order, pl0, pl1);
    return true;
}

void VSUF(cml_k_conv_epi)(const cml_conv_epi *e, float *y, size_t n) {
    if (!e->clamp && !e->round16) return;
    const vf lo = v_set1(e->lo), hi = v_set1(e->hi);
    size_t i = 0;
    for (; i + VW <= n; i += VW) v_store(y + i, dw3_epi(v_load(y + i), e, lo, hi));
    if (i < n) v_store_n(y + i, dw3_epi(v_load_n(y + i, n - i), e, lo, hi), n - i);
}
