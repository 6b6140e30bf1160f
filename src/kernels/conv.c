/* conv2d (im2col + gemm, pointwise as a plain gemm, direct depthwise) and
 * conv_transpose2d (gemm + col2im). NCHW. */
#include <math.h>
#include <string.h>

#include "kernels/dwconv.h"
#include "kernels/kinternal.h"

static int64_t dil_or_1(int64_t d) { return d > 0 ? d : 1; }

/* Output positions o in [0, out_n) with 0 <= o*s + off < n, as [lo, hi). */
static void valid_range(int64_t off, int64_t s, int64_t n, int64_t out_n, int64_t *lo, int64_t *hi) {
    int64_t l = 0;
    if (off < 0) l = (-off + s - 1) / s;
    int64_t h = n - 1 - off < 0 ? 0 : (n - 1 - off) / s + 1;
    if (h > out_n) h = out_n;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* One input channel per group runs direct (depthwise, multipliers), except
 * an ungrouped 1-channel conv with a long kernel and many filters (the 1-D
 * front end of audio models: 1 -> 1024 channels, 512 taps), which is a gemm
 * over the kernel taps. */
static bool conv_is_direct(const cml_conv2d_params *p) {
    if (p->groups <= 0 || p->c_in / p->groups != 1) return false;
    return p->groups > 1 || p->k_h * p->k_w <= 32 || p->c_out < 8;
}

static bool conv_is_pointwise(const cml_conv2d_params *p) {
    return p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0 &&
           p->pad_left == 0 && p->h_out == p->h_in && p->w_out == p->w_in;
}

#define CONV_MAX_KW 64

/* im2col is materialized only when the kernel is wider than the on-the-fly
 * packer supports; otherwise the gemm packs its B panels straight from x. */
static bool conv_needs_im2col(const cml_conv2d_params *p) { return p->k_w > CONV_MAX_KW; }

size_t cml_k_conv2d_scratch_size(const cml_conv2d_params *p) {
    if (p->groups <= 0 || conv_is_direct(p) || conv_is_pointwise(p) || !conv_needs_im2col(p)) return 0;
    int64_t k = p->c_in / p->groups * p->k_h * p->k_w;
    return (size_t)(k * p->h_out * p->w_out) * sizeof(float);
}

/* ---- im2col ------------------------------------------------------------------ */

typedef struct im2col_job {
    const cml_conv2d_params *p;
    const float *x; /* group input [cin_g, H, W] */
    float *col;     /* [cin_g * kh * kw, HO * WO] */
} im2col_job;

static void im2col_rows(void *ctx, size_t begin, size_t end) {
    const im2col_job *j = ctx;
    const cml_conv2d_params *p = j->p;
    int64_t H = p->h_in, W = p->w_in, HO = p->h_out, WO = p->w_out;
    int64_t dh = dil_or_1(p->dilation_h), dw = dil_or_1(p->dilation_w);
    int64_t kk = p->k_h * p->k_w;
    for (size_t r = begin; r < end; r++) {
        int64_t ci = (int64_t)r / kk, kh = ((int64_t)r % kk) / p->k_w, kw = (int64_t)r % p->k_w;
        const float *xc = j->x + ci * H * W;
        float *dst = j->col + (int64_t)r * HO * WO;
        int64_t off = kw * dw - p->pad_left, lo, hi;
        valid_range(off, p->stride_w, W, WO, &lo, &hi);
        for (int64_t oh = 0; oh < HO; oh++, dst += WO) {
            int64_t ih = oh * p->stride_h - p->pad_top + kh * dh;
            if (ih < 0 || ih >= H) {
                memset(dst, 0, (size_t)WO * sizeof(float));
                continue;
            }
            const float *src = xc + ih * W;
            for (int64_t ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
            if (p->stride_w == 1) {
                if (hi > lo) memcpy(dst + lo, src + lo + off, (size_t)(hi - lo) * sizeof(float));
            } else {
                for (int64_t ow = lo; ow < hi; ow++) dst[ow] = src[ow * p->stride_w + off];
            }
            for (int64_t ow = hi; ow < WO; ow++) dst[ow] = 0.0f;
        }
    }
}

/* ---- direct (one input channel per group: depthwise and multipliers) ---------- */

typedef struct direct_job {
    cml_dw3_job dj;        /* operands and epilogue */
    cml_dw3_planes_fn dw3; /* NULL: the generic plane, then the epilogue */
} direct_job;

void cml_k_dw_plane_scalar(const cml_conv2d_params *p, const float *x, const float *w, float bias,
                           float *y) {
    int64_t H = p->h_in, W = p->w_in, HO = p->h_out, WO = p->w_out;
    int64_t KH = p->k_h, KW = p->k_w;
    int64_t dh = dil_or_1(p->dilation_h), dw = dil_or_1(p->dilation_w);
    int64_t sw = p->stride_w;
    int64_t lo_kw[64], hi_kw[64];
    bool cache = KW <= 64;
    if (cache)
        for (int64_t kw = 0; kw < KW; kw++)
            valid_range(kw * dw - p->pad_left, sw, W, WO, &lo_kw[kw], &hi_kw[kw]);
    for (int64_t oh = 0; oh < HO; oh++) {
        float *row = y + oh * WO;
        for (int64_t ow = 0; ow < WO; ow++) row[ow] = bias;
        for (int64_t kh = 0; kh < KH; kh++) {
            int64_t ih = oh * p->stride_h - p->pad_top + kh * dh;
            if (ih < 0 || ih >= H) continue;
            const float *in = x + ih * W;
            for (int64_t kw = 0; kw < KW; kw++) {
                float wv = w[kh * KW + kw];
                int64_t off = kw * dw - p->pad_left, lo, hi;
                if (cache) {
                    lo = lo_kw[kw];
                    hi = hi_kw[kw];
                } else {
                    valid_range(off, sw, W, WO, &lo, &hi);
                }
                if (sw == 1) {
                    for (int64_t ow = lo; ow < hi; ow++) row[ow] += wv * in[ow + off];
                } else {
                    for (int64_t ow = lo; ow < hi; ow++) row[ow] += wv * in[ow * sw + off];
                }
            }
        }
    }
}

static void direct_planes(const direct_job *j, size_t begin, size_t end) {
    if (j->dw3 && j->dw3(&j->dj, begin, end)) return;
    const cml_conv2d_params *p = j->dj.p;
    const cml_vec_kit *kit = cml_k_vec_kit();
    int64_t mult = p->c_out / p->groups;
    for (size_t pl = begin; pl < end; pl++) {
        int64_t b = (int64_t)pl / p->c_out, co = (int64_t)pl % p->c_out;
        int64_t ci = co / mult;
        float *yp = j->dj.y + (b * p->c_out + co) * p->h_out * p->w_out;
        const float *xp = j->dj.x + (b * p->c_in + ci) * p->h_in * p->w_in;
        kit->dw_plane(p, xp, j->dj.w + co * p->k_h * p->k_w, j->dj.bias ? j->dj.bias[co] : 0.0f, yp);
        cml_k_conv_epi(&j->dj.epi, yp, (size_t)(p->h_out * p->w_out));
    }
}

/* Planes are handed out in groups of 16, so that the depthwise kernel gets
 * whole blocks of vector-width planes. */
#define DIRECT_GROUP 16

static void direct_groups(void *ctx, size_t begin, size_t end) {
    const direct_job *j = ctx;
    size_t planes = (size_t)(j->dj.p->n * j->dj.p->c_out);
    direct_planes(j, begin * DIRECT_GROUP, cml_k_min(end * DIRECT_GROUP, planes));
}

/* ---- implicit im2col: gemm B panels packed from the input ------------------------ */

typedef struct conv_pack_ctx {
    const cml_conv2d_params *p;
    const float *x; /* group input [cin_g, H, W] */
    int64_t lo[CONV_MAX_KW], hi[CONV_MAX_KW]; /* valid output columns per kw */
} conv_pack_ctx;

/* Row k of op(B) is (ci, kh, kw); column j is output position (oh, ow). */
static void conv_bpack(void *ctx, size_t k0, size_t kc, size_t j0, size_t nr, float *Bp, size_t NR) {
    const conv_pack_ctx *c = ctx;
    const cml_conv2d_params *p = c->p;
    const int64_t H = p->h_in, W = p->w_in, WO = p->w_out, KW = p->k_w, kk = p->k_h * p->k_w;
    const int64_t sh = p->stride_h, sw = p->stride_w;
    const int64_t dh = dil_or_1(p->dilation_h), dw = dil_or_1(p->dilation_w);
    int64_t ci = (int64_t)k0 / kk, rem = (int64_t)k0 % kk;
    int64_t kh = rem / KW, kw = rem % KW;
    const int64_t oh0 = (int64_t)j0 / WO, ow0 = (int64_t)j0 % WO;
    for (size_t k = 0; k < kc; k++) {
        float *dst = Bp + k * NR;
        const float *xc = c->x + ci * H * W;
        const int64_t off = kw * dw - p->pad_left, lo = c->lo[kw], hi = c->hi[kw];
        int64_t oh = oh0, ow = ow0;
        size_t j = 0;
        while (j < nr) {
            int64_t seg = (int64_t)(nr - j) < WO - ow ? (int64_t)(nr - j) : WO - ow;
            int64_t ih = oh * sh - p->pad_top + kh * dh;
            float *d = dst + j; /* d[t - ow] for output column t in [ow, ow + seg) */
            if (ih < 0 || ih >= H) {
                for (int64_t t = 0; t < seg; t++) d[t] = 0.0f;
            } else {
                const float *src = xc + ih * W;
                /* zeros on [ow, a), input on [a, b), zeros on [b, ow + seg) */
                int64_t a = ow > lo ? ow : lo;
                if (a > ow + seg) a = ow + seg;
                int64_t b = ow + seg < hi ? ow + seg : hi;
                if (b < a) b = a;
                for (int64_t t = ow; t < a; t++) d[t - ow] = 0.0f;
                if (sw == 1)
                    for (int64_t t = a; t < b; t++) d[t - ow] = src[t + off];
                else
                    for (int64_t t = a; t < b; t++) d[t - ow] = src[t * sw + off];
                for (int64_t t = b; t < ow + seg; t++) d[t - ow] = 0.0f;
            }
            j += (size_t)seg;
            ow = 0;
            oh++;
        }
        for (size_t t = nr; t < NR; t++) dst[t] = 0.0f;
        if (++kw == KW) {
            kw = 0;
            if (++kh == p->k_h) {
                kh = 0;
                ci++;
            }
        }
    }
}

/* ---- conv2d --------------------------------------------------------------------- */

/* The weight of a gemm conv: floats, or fp16 bits (w16 set). */
typedef struct conv_wt {
    const float *w;
    const uint16_t *w16;
} conv_wt;

/* One group's gemm with op(B) packed on the fly from xg (implicit im2col). */
static void conv_gemm_bpack(cml_threadpool *pool, const cml_conv2d_params *p, const float *xg,
                            conv_wt wg, size_t M, size_t N, size_t K, const float *rbias,
                            float *yg, const cml_conv_epi *e, const float *res) {
    conv_pack_ctx pc;
    pc.p = p;
    pc.x = xg;
    for (int64_t kw = 0; kw < p->k_w; kw++)
        valid_range(kw * dil_or_1(p->dilation_w) - p->pad_left, p->stride_w, p->w_in, p->w_out,
                    &pc.lo[kw], &pc.hi[kw]);
    if (wg.w16)
        cml_k_gemm_f16a_bpack(pool, M, N, K, wg.w16, K, conv_bpack, &pc, rbias, yg, N, e->clamp,
                              e->lo, e->hi, e->round16, res);
    else
        cml_k_gemm_f32_bpack(pool, M, N, K, wg.w, K, conv_bpack, &pc, rbias, yg, N, e->clamp, e->lo,
                             e->hi, e->round16, res);
}

/* Every group of every image as one gemm (pointwise: x itself; else im2col
 * packed on the fly, or materialized in scratch for very wide kernels),
 * with the epilogue e (clamp, fp16 rounding) applied as tiles are stored. */
static void conv2d_gemm(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                        conv_wt w, const float *bias, float *y, void *scratch,
                        const cml_conv_epi *e, const float *res) {
    int64_t HWo = p->h_out * p->w_out, HWi = p->h_in * p->w_in;
    int64_t cin_g = p->c_in / p->groups, cout_g = p->c_out / p->groups;
    int64_t K = cin_g * p->k_h * p->k_w;
    size_t M = (size_t)cout_g, N = (size_t)HWo;
    bool pointwise = conv_is_pointwise(p);
    float *col = scratch;
    for (int64_t b = 0; b < p->n; b++) {
        for (int64_t g = 0; g < p->groups; g++) {
            const float *xg = x + (b * p->c_in + g * cin_g) * HWi;
            conv_wt wg = {.w = w.w ? w.w + g * cout_g * K : NULL,
                          .w16 = w.w16 ? w.w16 + g * cout_g * K : NULL};
            float *yg = y + (b * p->c_out + g * cout_g) * HWo;
            const float *rg = res ? res + (b * p->c_out + g * cout_g) * HWo : NULL;
            const float *rbias = bias ? bias + g * cout_g : NULL;
            if (!pointwise && !conv_needs_im2col(p)) {
                conv_gemm_bpack(pool, p, xg, wg, M, N, (size_t)K, rbias, yg, e, rg);
                continue;
            }
            const float *B = xg;
            if (!pointwise) {
                im2col_job j = {.p = p, .x = xg, .col = col};
                size_t grain = cml_k_max(1, 16384 / (size_t)cml_k_max((size_t)HWo, 1));
                cml_parallel_for(pool, (size_t)K, grain, im2col_rows, &j);
                B = col;
            }
            if (wg.w16)
                cml_k_gemm_f16a_rbias(pool, M, N, (size_t)K, wg.w16, (size_t)K, B, N, rbias, yg, N,
                                      e->clamp, e->lo, e->hi, e->round16, rg);
            else
                cml_k_gemm_f32_rbias(pool, M, N, (size_t)K, wg.w, (size_t)K, B, N, rbias, yg, N,
                                     e->clamp, e->lo, e->hi, e->round16, rg);
        }
    }
}

/* ---- 3x3 with few input channels (first layers) ---------------------------------- */

typedef struct c3_job {
    cml_dw3_job dj;
    cml_c3_tasks_fn fn;
} c3_job;

static void c3_tasks(void *ctx, size_t begin, size_t end) {
    const c3_job *j = ctx;
    (void)j->fn(&j->dj, begin, end); /* the geometry was accepted before */
}

/* The direct kernel when it applies (false: use the gemm). */
static bool conv_c3(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                    const float *w, const float *bias, float *y, bool clamp, float lo, float hi,
                    bool round16) {
    cml_c3_tasks_fn fn = cml_k_c3_fits(p) ? cml_k_c3_tasks() : NULL;
    int64_t rows = fn ? cml_k_c3_band_rows(p) : 0;
    if (rows < 1) return false;
    c3_job j = {.dj = {.p = p, .x = x, .w = w, .bias = bias, .y = y,
                       .epi = {.clamp = clamp, .round16 = round16, .lo = lo, .hi = hi}},
                .fn = fn};
    if (!fn(&j.dj, 0, 0)) return false; /* geometry check, no work */
    size_t tasks = (size_t)(p->n * ((p->h_out + rows - 1) / rows));
    cml_parallel_for(pool, tasks, 1, c3_tasks, &j);
    return true;
}

/* ---- residual add after the direct paths ------------------------------------------- */

typedef struct res_job {
    float *y;
    const float *res;
    bool round16;
} res_job;

static void res_chunks(void *ctx, size_t begin, size_t end) {
    static const cml_conv_epi round_only = {.round16 = true};
    const res_job *j = ctx;
    for (size_t i = begin; i < end; i++) j->y[i] += j->res[i];
    if (j->round16) cml_k_conv_epi(&round_only, j->y + begin, end - begin);
}

/* ---- fp16 weights -------------------------------------------------------------------
 * The gemm paths read fp16 A directly (cml_k_gemm_f16a_*, bit-identical to
 * the float calls). The paths that read float weights -- direct, the 3x3
 * first-layer kernel, and a gemm of at most CML_GEMM_SMALL_M_MAX rows per
 * group, which the float call may run on its small-M kernel -- get the
 * whole weight widened into scratch, after the im2col columns. */

static bool conv_w16_widens(const cml_conv2d_params *p) {
    return conv_is_direct(p) || cml_k_c3_fits(p) || p->c_out / p->groups <= CML_GEMM_SMALL_M_MAX;
}

static size_t conv_w16_offset(const cml_conv2d_params *p) {
    return (cml_k_conv2d_scratch_size(p) + 63) / 64 * 64;
}

size_t cml_k_conv2d_w16_scratch_size(const cml_conv2d_params *p) {
    if (p->groups <= 0 || !conv_w16_widens(p)) return cml_k_conv2d_scratch_size(p);
    int64_t n = p->c_out * (p->c_in / p->groups) * p->k_h * p->k_w;
    return conv_w16_offset(p) + (size_t)(n > 0 ? n : 0) * sizeof(float);
}

/* ---- conv2d entry ------------------------------------------------------------------ */

/* The direct paths (depthwise, 3x3 first layers) when they apply; false:
 * use the gemm. */
static bool conv2d_direct(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                          const float *w, const float *bias, float *y, const cml_conv_epi *e) {
    if (!conv_is_direct(p))
        return conv_c3(pool, p, x, w, bias, y, e->clamp, e->lo, e->hi, e->round16);
    direct_job j = {.dj = {.p = p, .x = x, .w = w, .bias = bias, .y = y, .epi = *e},
                    .dw3 = cml_k_dw3_fits(p) ? cml_k_dw3_planes() : NULL};
    size_t groups = ((size_t)(p->n * p->c_out) + DIRECT_GROUP - 1) / DIRECT_GROUP;
    size_t work = (size_t)(p->h_out * p->w_out * p->k_h * p->k_w) * DIRECT_GROUP; /* taps */
    cml_parallel_for(pool, groups, cml_k_max(1, 65536 / cml_k_max(work, 1)), direct_groups, &j);
    return true;
}

/* Every conv2d entry: fp16 weights widened into scratch where a path needs
 * floats, the direct paths (then the residual in a pass), else the gemm
 * with the whole epilogue fused. */
static void conv2d_run(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                       conv_wt w, const float *bias, float *y, void *scratch,
                       const cml_conv_epi *e, const float *res) {
    if (p->n <= 0 || p->c_out <= 0 || p->h_out <= 0 || p->w_out <= 0 || p->groups <= 0) return;
    if (w.w16 && conv_w16_widens(p)) {
        float *wf = (float *)((char *)scratch + conv_w16_offset(p));
        size_t n = (size_t)(p->c_out * (p->c_in / p->groups) * p->k_h * p->k_w);
        cml_k_vec_kit()->f16_to_f32(w.w16, wf, n);
        w = (conv_wt){.w = wf};
    }
    if (w.w && conv2d_direct(pool, p, x, w.w, bias, y, e)) {
        if (!res) return;
        res_job j = {.y = y, .res = res, .round16 = e->round16};
        cml_parallel_for(pool, (size_t)(p->n * p->c_out * p->h_out * p->w_out), 16384, res_chunks, &j);
        return;
    }
    conv2d_gemm(pool, p, x, w, bias, y, scratch, e, res);
}

static cml_conv_epi conv_epi_of(float act_min, float act_max, bool round16) {
    cml_conv_epi e = {.clamp = act_min > -INFINITY || act_max < INFINITY, .round16 = round16,
                      .lo = act_min, .hi = act_max};
    return e;
}

void cml_k_conv2d_epi_f32(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                          const float *w, const float *bias, float *y, void *scratch, float act_min,
                          float act_max, bool round16) {
    cml_conv_epi e = conv_epi_of(act_min, act_max, round16);
    conv2d_run(pool, p, x, (conv_wt){.w = w}, bias, y, scratch, &e, NULL);
}

void cml_k_conv2d_w16_epi_f32(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                              const uint16_t *w, const float *bias, float *y, void *scratch,
                              float act_min, float act_max, bool round16) {
    cml_conv_epi e = conv_epi_of(act_min, act_max, round16);
    conv2d_run(pool, p, x, (conv_wt){.w16 = w}, bias, y, scratch, &e, NULL);
}

void cml_k_conv2d_res_f32(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                          const void *w, bool w16, const float *bias, const float *residual,
                          float *y, void *scratch, float act_min, float act_max, bool round16) {
    cml_conv_epi e = conv_epi_of(act_min, act_max, round16);
    conv_wt wt = {.w = w16 ? NULL : w, .w16 = w16 ? w : NULL};
    conv2d_run(pool, p, x, wt, bias, y, scratch, &e, residual);
}

void cml_k_conv2d_act_f32(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                          const float *w, const float *bias, float *y, void *scratch, float act_min,
                          float act_max) {
    cml_k_conv2d_epi_f32(pool, p, x, w, bias, y, scratch, act_min, act_max, false);
}

void cml_k_conv2d_f32(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                      const float *w, const float *bias, float *y, void *scratch) {
    cml_k_conv2d_act_f32(pool, p, x, w, bias, y, scratch, -INFINITY, INFINITY);
}

/* ---- conv_transpose2d -------------------------------------------------------------- */

size_t cml_k_conv_transpose2d_scratch_size(const cml_conv2d_params *p) {
    if (p->groups <= 0) return 0;
    int64_t cin_g = p->c_in / p->groups, cout_g = p->c_out / p->groups;
    int64_t rows = cout_g * p->k_h * p->k_w;
    return (size_t)(rows * cin_g + rows * p->h_in * p->w_in) * sizeof(float);
}

typedef struct col2im_job {
    const cml_conv2d_params *p;
    const float *col; /* [cout_g * kh * kw, H_in * W_in] */
    const float *bias;
    float *y;         /* group output [cout_g, HO, WO] */
} col2im_job;

static void col2im_channels(void *ctx, size_t begin, size_t end) {
    const col2im_job *j = ctx;
    const cml_conv2d_params *p = j->p;
    int64_t H = p->h_in, W = p->w_in, HO = p->h_out, WO = p->w_out;
    int64_t dh = dil_or_1(p->dilation_h), dw = dil_or_1(p->dilation_w);
    int64_t kk = p->k_h * p->k_w;
    for (size_t co = begin; co < end; co++) {
        float *y = j->y + (int64_t)co * HO * WO;
        float bv = j->bias ? j->bias[co] : 0.0f;
        for (int64_t i = 0; i < HO * WO; i++) y[i] = bv;
        for (int64_t kh = 0; kh < p->k_h; kh++) {
            for (int64_t kw = 0; kw < p->k_w; kw++) {
                const float *c = j->col + ((int64_t)co * kk + kh * p->k_w + kw) * H * W;
                int64_t offw = kw * dw - p->pad_left;
                /* ow = iw * sw + offw must be in [0, WO) */
                int64_t iw_lo = 0, iw_hi = W;
                if (offw < 0) iw_lo = (-offw + p->stride_w - 1) / p->stride_w;
                if (WO - 1 - offw < 0)
                    iw_hi = 0;
                else if ((WO - 1 - offw) / p->stride_w + 1 < iw_hi)
                    iw_hi = (WO - 1 - offw) / p->stride_w + 1;
                for (int64_t ih = 0; ih < H; ih++) {
                    int64_t oh = ih * p->stride_h - p->pad_top + kh * dh;
                    if (oh < 0 || oh >= HO) continue;
                    float *yr = y + oh * WO;
                    const float *cr = c + ih * W;
                    for (int64_t iw = iw_lo; iw < iw_hi; iw++) yr[iw * p->stride_w + offw] += cr[iw];
                }
            }
        }
    }
}

void cml_k_conv_transpose2d_f32(cml_threadpool *pool, const cml_conv2d_params *p, const float *x,
                                const float *w, const float *bias, float *y, void *scratch) {
    if (p->n <= 0 || p->c_out <= 0 || p->h_out <= 0 || p->w_out <= 0 || p->groups <= 0) return;
    int64_t cin_g = p->c_in / p->groups, cout_g = p->c_out / p->groups;
    int64_t kk = p->k_h * p->k_w, rows = cout_g * kk;
    int64_t HWi = p->h_in * p->w_in, HWo = p->h_out * p->w_out;
    float *wt = scratch;           /* [rows, cin_g] */
    float *col = wt + rows * cin_g; /* [rows, HWi] */
    for (int64_t g = 0; g < p->groups; g++) {
        /* weight [c_in, cout_g, kh, kw]: group g rows ci in [g*cin_g, ...) -> Wt[r][ci] */
        const float *wg = w + g * cin_g * rows;
        for (int64_t ci = 0; ci < cin_g; ci++)
            for (int64_t r = 0; r < rows; r++) wt[r * cin_g + ci] = wg[ci * rows + r];
        for (int64_t b = 0; b < p->n; b++) {
            const float *xg = x + (b * p->c_in + g * cin_g) * HWi;
            float *yg = y + (b * p->c_out + g * cout_g) * HWo;
            if (HWi > 0 && cin_g > 0)
                cml_k_gemm_f32(pool, (size_t)rows, (size_t)HWi, (size_t)cin_g, wt, (size_t)cin_g,
                               xg, (size_t)HWi, false, NULL, col, (size_t)HWi, false);
            else
                memset(col, 0, (size_t)(rows * HWi) * sizeof(float));
            col2im_job j = {.p = p, .col = col, .bias = bias ? bias + g * cout_g : NULL, .y = yg};
            cml_parallel_for(pool, (size_t)cout_g, 1, col2im_channels, &j);
        }
    }
}
