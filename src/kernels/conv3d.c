/* 3-D (NCDHW) convolution, transposed convolution and pooling: direct loops
 * parallel over output planes (n, c). Rows along W use precomputed valid
 * ranges, so the inner loops carry no bounds checks. */
#include <math.h>

#include "kernels/kinternal.h"

/* Output range [lo, hi) of o with 0 <= o * s + off < n (s >= 1). */
static void row_range(int64_t off, int64_t s, int64_t n, int64_t out_n, int64_t *lo, int64_t *hi) {
    int64_t l = off < 0 ? (-off + s - 1) / s : 0;
    int64_t h = n - 1 - off < 0 ? 0 : (n - 1 - off) / s + 1;
    if (h > out_n) h = out_n;
    *lo = l < h ? l : h;
    *hi = h;
}

typedef struct conv3_job {
    const cml_conv3d_params *p;
    const float *x, *w, *bias;
    float *y;
    float lo, hi;
    bool transposed;
} conv3_job;

/* Adds wv * x[ci plane] (taps kd, kh, kw) into one output plane. */
static void conv3_tap(const cml_conv3d_params *p, const float *xp, float wv, const int64_t *kk,
                      float *yp) {
    const int64_t *I = p->in, *O = p->out, *s = p->stride;
    int64_t offw = kk[2] * p->dilation[2] - p->pad_before[2], lo, hi;
    row_range(offw, s[2], I[2], O[2], &lo, &hi);
    for (int64_t od = 0; od < O[0]; od++) {
        int64_t id = od * s[0] - p->pad_before[0] + kk[0] * p->dilation[0];
        if (id < 0 || id >= I[0]) continue;
        for (int64_t oh = 0; oh < O[1]; oh++) {
            int64_t ih = oh * s[1] - p->pad_before[1] + kk[1] * p->dilation[1];
            if (ih < 0 || ih >= I[1]) continue;
            const float *xr = xp + (id * I[1] + ih) * I[2];
            float *yr = yp + (od * O[1] + oh) * O[2];
            for (int64_t ow = lo; ow < hi; ow++) yr[ow] += wv * xr[ow * s[2] + offw];
        }
    }
}

/* Scatters wv * x[ci plane] (taps kd, kh, kw) into one output plane:
 * y[i * s - pad + k * dil] += wv * x[i]. */
static void convt3_tap(const cml_conv3d_params *p, const float *xp, float wv, const int64_t *kk,
                       float *yp) {
    const int64_t *I = p->in, *O = p->out, *s = p->stride;
    int64_t offw = kk[2] * p->dilation[2] - p->pad_before[2];
    for (int64_t id = 0; id < I[0]; id++) {
        int64_t od = id * s[0] - p->pad_before[0] + kk[0] * p->dilation[0];
        if (od < 0 || od >= O[0]) continue;
        for (int64_t ih = 0; ih < I[1]; ih++) {
            int64_t oh = ih * s[1] - p->pad_before[1] + kk[1] * p->dilation[1];
            if (oh < 0 || oh >= O[1]) continue;
            const float *xr = xp + (id * I[1] + ih) * I[2];
            float *yr = yp + (od * O[1] + oh) * O[2];
            for (int64_t iw = 0; iw < I[2]; iw++) {
                int64_t ow = iw * s[2] + offw;
                if (ow >= 0 && ow < O[2]) yr[ow] += wv * xr[iw];
            }
        }
    }
}

/* One output plane (n, co) per index: bias, every input channel's taps
 * (gathered for a conv, scattered for a transposed conv), then the clamp. */
static void conv3_planes(void *ctx, size_t begin, size_t end) {
    const conv3_job *j = ctx;
    const cml_conv3d_params *p = j->p;
    int64_t isz = p->in[0] * p->in[1] * p->in[2], osz = p->out[0] * p->out[1] * p->out[2];
    int64_t cig = p->c_in / p->groups, cog = p->c_out / p->groups;
    int64_t ksz = p->k[0] * p->k[1] * p->k[2];
    for (size_t pl = begin; pl < end; pl++) {
        int64_t n = (int64_t)pl / p->c_out, co = (int64_t)pl % p->c_out, g = co / cog;
        float *yp = j->y + (int64_t)pl * osz;
        float b = j->bias ? j->bias[co] : 0.0f;
        for (int64_t i = 0; i < osz; i++) yp[i] = b;
        for (int64_t c = 0; c < cig; c++) {
            int64_t ci = g * cig + c;
            const float *xp = j->x + (n * p->c_in + ci) * isz;
            /* conv weights [c_out, cin/g, k], transposed [c_in, cout/g, k] */
            const float *wp = j->w + (j->transposed ? ci * cog + co % cog : co * cig + c) * ksz;
            for (int64_t t = 0; t < ksz; t++) {
                int64_t kk[3] = {t / (p->k[1] * p->k[2]), t / p->k[2] % p->k[1], t % p->k[2]};
                if (j->transposed) convt3_tap(p, xp, wp[t], kk, yp);
                else conv3_tap(p, xp, wp[t], kk, yp);
            }
        }
        if (j->lo == -INFINITY && j->hi == INFINITY) continue;
        for (int64_t i = 0; i < osz; i++) {
            float v = yp[i];
            yp[i] = v < j->lo ? j->lo : v > j->hi ? j->hi : v;
        }
    }
}

void cml_k_conv3d_f32(cml_threadpool *pool, const cml_conv3d_params *p, const float *x,
                      const float *w, const float *bias, float *y, float act_min, float act_max) {
    if (p->n <= 0 || p->c_out <= 0 || p->groups <= 0) return;
    conv3_job j = {p, x, w, bias, y, act_min, act_max, false};
    cml_parallel_for(pool, (size_t)(p->n * p->c_out), 1, conv3_planes, &j);
}

void cml_k_conv_transpose3d_f32(cml_threadpool *pool, const cml_conv3d_params *p, const float *x,
                                const float *w, const float *bias, float *y) {
    if (p->n <= 0 || p->c_out <= 0 || p->groups <= 0) return;
    conv3_job j = {p, x, w, bias, y, -INFINITY, INFINITY, true};
    cml_parallel_for(pool, (size_t)(p->n * p->c_out), 1, conv3_planes, &j);
}

typedef struct pool3_job {
    const cml_pool3d_params *p;
    cml_pool3d_kind kind;
    const float *x;
    float *y;
} pool3_job;

/* [lo, hi) of window taps inside [a, b) for a window starting at st. */
static void taps(int64_t st, int64_t k, int64_t a, int64_t b, int64_t *lo, int64_t *hi) {
    *lo = st < a ? a - st : 0;
    *hi = st + k > b ? b - st : k;
    if (*hi < *lo) *hi = *lo;
}

static float pool3_cell(const pool3_job *j, const float *xp, const int64_t *o) {
    const cml_pool3d_params *p = j->p;
    int64_t st[3], lo[3], hi[3], cnt = 1;
    for (int d = 0; d < 3; d++) {
        st[d] = o[d] * p->stride[d] - p->pad_before[d];
        taps(st[d], p->k[d], 0, p->in[d], &lo[d], &hi[d]);
        int64_t a, b;
        if (p->count_include_pad) taps(st[d], p->k[d], -p->pad_before[d], p->in[d] + p->pad_after[d], &a, &b);
        else a = lo[d], b = hi[d];
        cnt *= b - a;
    }
    float acc = j->kind == CML_POOL3D_MAX ? -INFINITY : 0.0f;
    for (int64_t a = lo[0]; a < hi[0]; a++)
        for (int64_t b = lo[1]; b < hi[1]; b++) {
            const float *r = xp + ((st[0] + a) * p->in[1] + st[1] + b) * p->in[2];
            for (int64_t c = lo[2]; c < hi[2]; c++) {
                float v = r[st[2] + c];
                if (j->kind == CML_POOL3D_MAX) acc = (v > acc || isnan(v)) && !isnan(acc) ? v : acc;
                else acc += j->kind == CML_POOL3D_L2 ? v * v : v;
            }
        }
    if (j->kind == CML_POOL3D_L2) return sqrtf(acc);
    if (j->kind == CML_POOL3D_AVG) return cnt > 0 ? acc / (float)cnt : 0.0f;
    return acc;
}

static void pool3_planes(void *ctx, size_t begin, size_t end) {
    const pool3_job *j = ctx;
    const cml_pool3d_params *p = j->p;
    int64_t isz = p->in[0] * p->in[1] * p->in[2];
    for (size_t pl = begin; pl < end; pl++) {
        const float *xp = j->x + (int64_t)pl * isz;
        float *yp = j->y + (int64_t)pl * p->out[0] * p->out[1] * p->out[2];
        int64_t o[3];
        for (o[0] = 0; o[0] < p->out[0]; o[0]++)
            for (o[1] = 0; o[1] < p->out[1]; o[1]++)
                for (o[2] = 0; o[2] < p->out[2]; o[2]++) *yp++ = pool3_cell(j, xp, o);
    }
}

void cml_k_pool3d_f32(cml_threadpool *pool, const cml_pool3d_params *p, cml_pool3d_kind kind,
                      const float *x, float *y) {
    if (p->n <= 0 || p->c <= 0) return;
    pool3_job j = {p, kind, x, y};
    cml_parallel_for(pool, (size_t)(p->n * p->c), 1, pool3_planes, &j);
}
