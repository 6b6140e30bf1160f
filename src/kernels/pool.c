/* Max / average / adaptive average pooling, NCHW, parallel over planes. */
#include <math.h>
#include <string.h>

#include "kernels/kinternal.h"

/* Number of k in [0, taps) with lo <= start + k * dil < hi (dil >= 1). */
static int64_t taps_in(int64_t start, int64_t taps, int64_t dil, int64_t lo, int64_t hi) {
    /* first k with start + k*dil >= lo */
    int64_t k0 = 0;
    if (start < lo) k0 = (lo - start + dil - 1) / dil;
    /* last k with start + k*dil <= hi - 1 */
    if (start > hi - 1) return 0;
    int64_t k1 = (hi - 1 - start) / dil;
    if (k1 > taps - 1) k1 = taps - 1;
    return k1 >= k0 ? k1 - k0 + 1 : 0;
}

/* Valid output range [lo, hi) of positions o with 0 <= o*s + off < n. */
static void valid_range(int64_t off, int64_t s, int64_t n, int64_t out_n, int64_t *lo, int64_t *hi) {
    int64_t l = 0;
    if (off < 0) l = (-off + s - 1) / s;
    int64_t h;
    if (n - 1 - off < 0)
        h = 0;
    else
        h = (n - 1 - off) / s + 1;
    if (h > out_n) h = out_n;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

typedef struct pool_job {
    const cml_pool2d_params *p;
    const float *x;
    float *y;
    int64_t pad_bottom, pad_right; /* avg: end of the padded extent */
} pool_job;

static void maxpool_planes(void *ctx, size_t begin, size_t end) {
    const pool_job *j = ctx;
    const cml_pool2d_params *p = j->p;
    int64_t H = p->h_in, W = p->w_in, HO = p->h_out, WO = p->w_out;
    int64_t dh = p->dilation_h > 0 ? p->dilation_h : 1, dw = p->dilation_w > 0 ? p->dilation_w : 1;
    for (size_t pl = begin; pl < end; pl++) {
        const float *x = j->x + (int64_t)pl * H * W;
        float *y = j->y + (int64_t)pl * HO * WO;
        for (int64_t oh = 0; oh < HO; oh++) {
            float *row = y + oh * WO;
            for (int64_t ow = 0; ow < WO; ow++) row[ow] = -INFINITY;
            for (int64_t kh = 0; kh < p->k_h; kh++) {
                int64_t ih = oh * p->stride_h - p->pad_top + kh * dh;
                if (ih < 0 || ih >= H) continue;
                const float *in = x + ih * W;
                for (int64_t kw = 0; kw < p->k_w; kw++) {
                    int64_t off = kw * dw - p->pad_left, lo, hi;
                    valid_range(off, p->stride_w, W, WO, &lo, &hi);
                    if (p->stride_w == 1) {
                        for (int64_t ow = lo; ow < hi; ow++) {
                            float v = in[ow + off], m = row[ow];
                            row[ow] = (v > m || isnan(v)) && !isnan(m) ? v : m;
                        }
                    } else {
                        for (int64_t ow = lo; ow < hi; ow++) {
                            float v = in[ow * p->stride_w + off], m = row[ow];
                            row[ow] = (v > m || isnan(v)) && !isnan(m) ? v : m;
                        }
                    }
                }
            }
        }
    }
}

static void avgpool_planes(void *ctx, size_t begin, size_t end) {
    const pool_job *j = ctx;
    const cml_pool2d_params *p = j->p;
    int64_t H = p->h_in, W = p->w_in, HO = p->h_out, WO = p->w_out;
    int64_t dh = p->dilation_h > 0 ? p->dilation_h : 1, dw = p->dilation_w > 0 ? p->dilation_w : 1;
    for (size_t pl = begin; pl < end; pl++) {
        const float *x = j->x + (int64_t)pl * H * W;
        float *y = j->y + (int64_t)pl * HO * WO;
        for (int64_t oh = 0; oh < HO; oh++) {
            float *row = y + oh * WO;
            for (int64_t ow = 0; ow < WO; ow++) row[ow] = 0.0f;
            int64_t hstart = oh * p->stride_h - p->pad_top;
            for (int64_t kh = 0; kh < p->k_h; kh++) {
                int64_t ih = hstart + kh * dh;
                if (ih < 0 || ih >= H) continue;
                const float *in = x + ih * W;
                for (int64_t kw = 0; kw < p->k_w; kw++) {
                    int64_t off = kw * dw - p->pad_left, lo, hi;
                    valid_range(off, p->stride_w, W, WO, &lo, &hi);
                    if (p->stride_w == 1) {
                        for (int64_t ow = lo; ow < hi; ow++) row[ow] += in[ow + off];
                    } else {
                        for (int64_t ow = lo; ow < hi; ow++) row[ow] += in[ow * p->stride_w + off];
                    }
                }
            }
            int64_t nh_valid = taps_in(hstart, p->k_h, dh, 0, H);
            int64_t nh_pad = taps_in(hstart, p->k_h, dh, -p->pad_top, H + j->pad_bottom);
            for (int64_t ow = 0; ow < WO; ow++) {
                float div;
                if (p->divisor_override > 0) {
                    div = (float)p->divisor_override;
                } else {
                    int64_t wstart = ow * p->stride_w - p->pad_left;
                    int64_t cnt;
                    if (p->count_include_pad)
                        cnt = nh_pad * taps_in(wstart, p->k_w, dw, -p->pad_left, W + j->pad_right);
                    else
                        cnt = nh_valid * taps_in(wstart, p->k_w, dw, 0, W);
                    div = (float)cnt;
                }
                row[ow] = div > 0.0f ? row[ow] / div : 0.0f;
            }
        }
    }
}

void cml_k_maxpool2d_f32(cml_threadpool *pool, const cml_pool2d_params *p, const float *x, float *y) {
    if (p->n <= 0 || p->c <= 0 || p->h_out <= 0 || p->w_out <= 0) return;
    pool_job j = {.p = p, .x = x, .y = y};
    size_t planes = (size_t)(p->n * p->c);
    size_t work = (size_t)(p->h_out * p->w_out * p->k_h * p->k_w);
    cml_parallel_for(pool, planes, cml_k_max(1, 32768 / cml_k_max(work, 1)), maxpool_planes, &j);
}

void cml_k_avgpool2d_ex_f32(cml_threadpool *pool, const cml_pool2d_params *p, int64_t pad_bottom,
                            int64_t pad_right, const float *x, float *y) {
    if (p->n <= 0 || p->c <= 0 || p->h_out <= 0 || p->w_out <= 0) return;
    pool_job j = {.p = p, .x = x, .y = y, .pad_bottom = pad_bottom, .pad_right = pad_right};
    size_t planes = (size_t)(p->n * p->c);
    size_t work = (size_t)(p->h_out * p->w_out * p->k_h * p->k_w);
    cml_parallel_for(pool, planes, cml_k_max(1, 32768 / cml_k_max(work, 1)), avgpool_planes, &j);
}

void cml_k_avgpool2d_f32(cml_threadpool *pool, const cml_pool2d_params *p, const float *x, float *y) {
    cml_k_avgpool2d_ex_f32(pool, p, p->pad_top, p->pad_left, x, y);
}

void cml_k_adaptive_avgpool2d_f32(const cml_pool2d_params *p, const float *x, float *y) {
    int64_t H = p->h_in, W = p->w_in, HO = p->h_out, WO = p->w_out;
    if (p->n <= 0 || p->c <= 0 || HO <= 0 || WO <= 0) return;
    for (int64_t pl = 0; pl < p->n * p->c; pl++) {
        const float *xp = x + pl * H * W;
        float *yp = y + pl * HO * WO;
        for (int64_t oh = 0; oh < HO; oh++) {
            int64_t h0 = (oh * H) / HO, h1 = ((oh + 1) * H + HO - 1) / HO;
            for (int64_t ow = 0; ow < WO; ow++) {
                int64_t w0 = (ow * W) / WO, w1 = ((ow + 1) * W + WO - 1) / WO;
                float s = 0.0f;
                for (int64_t ih = h0; ih < h1; ih++)
                    for (int64_t iw = w0; iw < w1; iw++) s += xp[ih * W + iw];
                int64_t cnt = (h1 - h0) * (w1 - w0);
                yp[oh * WO + ow] = cnt > 0 ? s / (float)cnt : 0.0f;
            }
        }
    }
}
