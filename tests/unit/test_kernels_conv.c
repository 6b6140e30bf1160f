/* conv2d / conv_transpose2d / pooling kernel tests against naive double
 * references over randomized shapes, every ISA level, with and without a
 * thread pool. */
#include <string.h>

#include "core/fp16.h"
#include "core/threadpool.h"
#include "harness.h"
#include "kernels/kernels.h"
#include "test_kernels_common.h"

static cml_threadpool *g_pools[2];

static int64_t out_size(int64_t in, int64_t pad_total, int64_t k, int64_t d, int64_t s) {
    int64_t span = d * (k - 1) + 1;
    if (in + pad_total < span) return 0;
    return (in + pad_total - span) / s + 1;
}

/* ---- conv2d -------------------------------------------------------------------- */

static void ref_conv(const cml_conv2d_params *p, const float *x, const float *w, const float *bias,
                     double *y, double *absy) {
    int64_t cin_g = p->c_in / p->groups, cout_g = p->c_out / p->groups;
    for (int64_t b = 0; b < p->n; b++)
        for (int64_t co = 0; co < p->c_out; co++) {
            int64_t g = co / cout_g;
            for (int64_t oh = 0; oh < p->h_out; oh++)
                for (int64_t ow = 0; ow < p->w_out; ow++) {
                    double s = bias ? bias[co] : 0, as = bias ? fabs(bias[co]) : 0;
                    for (int64_t ci = 0; ci < cin_g; ci++)
                        for (int64_t kh = 0; kh < p->k_h; kh++)
                            for (int64_t kw = 0; kw < p->k_w; kw++) {
                                int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
                                int64_t iw = ow * p->stride_w - p->pad_left + kw * p->dilation_w;
                                if (ih < 0 || ih >= p->h_in || iw < 0 || iw >= p->w_in) continue;
                                double xv = x[((b * p->c_in + g * cin_g + ci) * p->h_in + ih) * p->w_in + iw];
                                double wv = w[((co * cin_g + ci) * p->k_h + kh) * p->k_w + kw];
                                s += xv * wv;
                                as += fabs(xv * wv);
                            }
                    size_t idx = (size_t)(((b * p->c_out + co) * p->h_out + oh) * p->w_out + ow);
                    y[idx] = s;
                    absy[idx] = as;
                }
        }
}

static void ref_conv_t(const cml_conv2d_params *p, const float *x, const float *w, const float *bias,
                       double *y, double *absy) {
    int64_t cin_g = p->c_in / p->groups, cout_g = p->c_out / p->groups;
    size_t ny = (size_t)(p->n * p->c_out * p->h_out * p->w_out);
    for (size_t i = 0; i < ny; i++) {
        int64_t co = (int64_t)(i / (size_t)(p->h_out * p->w_out)) % p->c_out;
        y[i] = bias ? bias[co] : 0;
        absy[i] = bias ? fabs(bias[co]) : 0;
    }
    for (int64_t b = 0; b < p->n; b++)
        for (int64_t ci = 0; ci < p->c_in; ci++) {
            int64_t g = ci / cin_g;
            for (int64_t ih = 0; ih < p->h_in; ih++)
                for (int64_t iw = 0; iw < p->w_in; iw++) {
                    double xv = x[((b * p->c_in + ci) * p->h_in + ih) * p->w_in + iw];
                    for (int64_t cog = 0; cog < cout_g; cog++)
                        for (int64_t kh = 0; kh < p->k_h; kh++)
                            for (int64_t kw = 0; kw < p->k_w; kw++) {
                                int64_t oh = ih * p->stride_h - p->pad_top + kh * p->dilation_h;
                                int64_t ow = iw * p->stride_w - p->pad_left + kw * p->dilation_w;
                                if (oh < 0 || oh >= p->h_out || ow < 0 || ow >= p->w_out) continue;
                                double wv = w[((ci * cout_g + cog) * p->k_h + kh) * p->k_w + kw];
                                size_t idx = (size_t)(((b * p->c_out + g * cout_g + cog) * p->h_out + oh) * p->w_out + ow);
                                y[idx] += xv * wv;
                                absy[idx] += fabs(xv * wv);
                            }
                }
        }
}

static int check_conv(const cml_conv2d_params *p, bool transposed) {
    size_t nx = (size_t)(p->n * p->c_in * p->h_in * p->w_in);
    size_t ny = (size_t)(p->n * p->c_out * p->h_out * p->w_out);
    size_t nw = transposed ? (size_t)(p->c_in * (p->c_out / p->groups) * p->k_h * p->k_w)
                           : (size_t)(p->c_out * (p->c_in / p->groups) * p->k_h * p->k_w);
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), *bias = malloc((size_t)p->c_out * sizeof *bias);
    float *y = malloc((ny + 1) * sizeof *y);
    double *ref = malloc(ny * sizeof *ref), *absref = malloc(ny * sizeof *absref);
    tk_fill(x, nx, -1.0f, 1.0f);
    tk_fill(w, nw, -1.0f, 1.0f);
    tk_fill(bias, (size_t)p->c_out, -1.0f, 1.0f);
    bool use_bias = tk_int(0, 2) != 0;
    /* fused activation (conv2d only): none, relu, relu6, hardtanh(-0.5, 0.5) */
    static const float acts[4][2] = {{-INFINITY, INFINITY}, {0.0f, INFINITY}, {0.0f, 6.0f}, {-0.5f, 0.5f}};
    int act = transposed ? 0 : (int)tk_int(0, 3);
    float act_lo = acts[act][0], act_hi = acts[act][1];
    if (transposed)
        ref_conv_t(p, x, w, use_bias ? bias : NULL, ref, absref);
    else
        ref_conv(p, x, w, use_bias ? bias : NULL, ref, absref);
    size_t scratch_size = transposed ? cml_k_conv_transpose2d_scratch_size(p) : cml_k_conv2d_scratch_size(p);
    float *scratch = scratch_size ? malloc(scratch_size) : NULL;
    int failures = 0;
    int64_t K = (p->c_in / p->groups) * p->k_h * p->k_w * (transposed ? 2 : 1);
    double gamma = (double)(K + 4) * 1.2e-7;
    for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
        tk_set_level(lvl);
        for (int pi = 0; pi < 2; pi++) {
            for (size_t i = 0; i < ny; i++) y[i] = NAN;
            y[ny] = 4321.0f;
            if (transposed)
                cml_k_conv_transpose2d_f32(g_pools[pi], p, x, w, use_bias ? bias : NULL, y, scratch);
            else if (act == 0)
                cml_k_conv2d_f32(g_pools[pi], p, x, w, use_bias ? bias : NULL, y, scratch);
            else
                cml_k_conv2d_act_f32(g_pools[pi], p, x, w, use_bias ? bias : NULL, y, scratch, act_lo, act_hi);
            if (y[ny] != 4321.0f) failures++;
            for (size_t i = 0; i < ny; i++) {
                double want = fmin(fmax(ref[i], act_lo), act_hi);
                if (!(fabs(y[i] - want) <= gamma * absref[i] + 1e-6)) {
                    if (failures < 5)
                        fprintf(stderr,
                                "%s lvl %d pool %d: n%lld c%lld->%lld g%lld %lldx%lld -> %lldx%lld k%lldx%lld "
                                "s%lld,%lld p%lld,%lld d%lld,%lld at %zu: %g want %g\n",
                                transposed ? "conv_t" : "conv", lvl, pi, (long long)p->n, (long long)p->c_in,
                                (long long)p->c_out, (long long)p->groups, (long long)p->h_in, (long long)p->w_in,
                                (long long)p->h_out, (long long)p->w_out, (long long)p->k_h, (long long)p->k_w,
                                (long long)p->stride_h, (long long)p->stride_w, (long long)p->pad_top,
                                (long long)p->pad_left, (long long)p->dilation_h, (long long)p->dilation_w, i,
                                y[i], want);
                    failures++;
                    break;
                }
            }
        }
    }
    tk_set_level(-1);
    free(x), free(w), free(bias), free(y), free(ref), free(absref), free(scratch);
    return failures;
}

/* The fp16-weight conv (weights as fp16 bits) against the float conv on the
 * same weights widened: bit-identical at every ISA level, with and without
 * a pool, clamp and fp16 rounding of the output; and the conv with a fused
 * residual add (float and fp16 weights) against that result plus the
 * residual, rounded when round16. 0 when it matches. */
static int check_conv_w16(const cml_conv2d_params *p) {
    size_t nx = (size_t)(p->n * p->c_in * p->h_in * p->w_in);
    size_t ny = (size_t)(p->n * p->c_out * p->h_out * p->w_out);
    size_t nw = (size_t)(p->c_out * (p->c_in / p->groups) * p->k_h * p->k_w);
    float *x = malloc(nx * sizeof *x), *wf = malloc(nw * sizeof *wf);
    float *bias = malloc((size_t)p->c_out * sizeof *bias);
    uint16_t *w16 = malloc(nw * sizeof *w16);
    float *y = malloc((ny + 1) * sizeof *y), *want = malloc(ny * sizeof *want);
    float *res = malloc(ny * sizeof *res), *wres = malloc(ny * sizeof *wres);
    tk_fill(x, nx, -1.0f, 1.0f);
    tk_fill(res, ny, -3.0f, 3.0f);
    tk_fill(wf, nw, -1.0f, 1.0f);
    tk_fill(bias, (size_t)p->c_out, -1.0f, 1.0f);
    for (size_t i = 0; i < nw; i++) w16[i] = cml_fp32_to_fp16(wf[i]), wf[i] = cml_fp16_to_fp32(w16[i]);
    const float *b = tk_int(0, 2) ? bias : NULL;
    bool round16 = tk_int(0, 1) != 0;
    float lo = tk_int(0, 1) ? 0.0f : -INFINITY, hi = tk_int(0, 1) ? 6.0f : INFINITY;
    size_t ss = cml_k_conv2d_w16_scratch_size(p), sf = cml_k_conv2d_scratch_size(p);
    void *scratch = malloc(ss > sf ? ss : sf ? sf : 1);
    int failures = ss < sf;
    for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
        tk_set_level(lvl);
        for (int pi = 0; pi < 2; pi++) {
            cml_k_conv2d_epi_f32(g_pools[pi], p, x, wf, b, want, scratch, lo, hi, round16);
            for (size_t i = 0; i < ny; i++) y[i] = NAN;
            y[ny] = 4321.0f;
            cml_k_conv2d_w16_epi_f32(g_pools[pi], p, x, w16, b, y, scratch, lo, hi, round16);
            int bad = y[ny] != 4321.0f || memcmp(y, want, ny * sizeof *y) != 0;
            /* the residual add fused in, float and fp16 weights */
            for (size_t i = 0; i < ny; i++)
                wres[i] = round16 ? cml_round_fp16(want[i] + res[i]) : want[i] + res[i];
            for (int h = 0; h < 2; h++) {
                for (size_t i = 0; i < ny; i++) y[i] = NAN;
                cml_k_conv2d_res_f32(g_pools[pi], p, x, h ? (const void *)w16 : (const void *)wf,
                                     h != 0, b, res, y, scratch, lo, hi, round16);
                bad += y[ny] != 4321.0f || memcmp(y, wres, ny * sizeof *y) != 0;
            }
            if (bad) {
                if (failures < 3)
                    fprintf(stderr, "conv w16/res lvl %d pool %d: c%lld->%lld g%lld %lldx%lld k%lldx%lld differs\n",
                            lvl, pi, (long long)p->c_in, (long long)p->c_out, (long long)p->groups,
                            (long long)p->h_in, (long long)p->w_in, (long long)p->k_h, (long long)p->k_w);
                failures++;
            }
        }
    }
    tk_set_level(-1);
    free(x), free(wf), free(bias), free(w16), free(y), free(want), free(scratch), free(res), free(wres);
    return failures;
}

static bool random_conv(cml_conv2d_params *p, int kind) {
    memset(p, 0, sizeof *p);
    p->n = tk_int(1, 2);
    int64_t cin_g = tk_int(1, 6), cout_g = tk_int(1, 6);
    p->groups = tk_int(0, 2) == 0 ? tk_int(2, 3) : 1;
    if (kind == 1) { /* depthwise, possibly with a multiplier */
        cin_g = 1;
        p->groups = tk_int(1, 9);
        cout_g = tk_int(0, 2) == 0 ? 2 : 1;
    }
    if (kind == 2) { /* bigger, to cover full gemm tiles */
        cin_g = tk_int(8, 40);
        cout_g = tk_int(10, 40);
        p->groups = 1;
    }
    p->c_in = cin_g * p->groups;
    p->c_out = cout_g * p->groups;
    p->h_in = tk_int(1, kind == 2 ? 20 : 12);
    p->w_in = tk_int(1, kind == 2 ? 40 : 12);
    if (kind == 1 && tk_int(0, 1)) p->w_in = tk_int(16, 70); /* vector depthwise rows */
    if (tk_int(0, 5) == 0) p->h_in = 1; /* 1-D */
    p->k_h = p->h_in == 1 ? 1 : tk_int(1, 4);
    p->k_w = tk_int(1, 5);
    p->stride_h = tk_int(1, 3);
    p->stride_w = tk_int(1, 3);
    p->dilation_h = tk_int(0, 3) == 0 ? 2 : 1;
    p->dilation_w = tk_int(0, 3) == 0 ? 2 : 1;
    p->pad_top = tk_int(0, p->k_h - 1 + (p->dilation_h - 1));
    p->pad_left = tk_int(0, p->k_w - 1);
    int64_t pb = tk_int(0, p->k_h - 1), pr = tk_int(0, p->k_w);
    if (tk_int(0, 7) == 0) { /* padding wider than the kernel */
        p->pad_top = tk_int(0, 6);
        p->pad_left = tk_int(0, 9);
        pb = tk_int(0, 5);
        pr = tk_int(0, 9);
    }
    if (kind == 3) { /* pointwise */
        p->k_h = p->k_w = 1;
        p->stride_h = p->stride_w = 1;
        p->pad_top = p->pad_left = pb = pr = 0;
    }
    p->h_out = out_size(p->h_in, p->pad_top + pb, p->k_h, p->dilation_h, p->stride_h);
    p->w_out = out_size(p->w_in, p->pad_left + pr, p->k_w, p->dilation_w, p->stride_w);
    return p->h_out > 0 && p->w_out > 0;
}

static void test_conv2d(void) {
    tk_seed(31);
    int failed = 0, cases = 0;
    for (int t = 0; t < 260; t++) {
        cml_conv2d_params p;
        if (!random_conv(&p, t % 4)) continue;
        cases++;
        if (check_conv(&p, false)) failed++;
        if (t % 3 == 0 && check_conv_w16(&p)) failed++; /* a third: qemu runs are slow */
    }
    /* MobileNet-like shapes */
    cml_conv2d_params fixed[] = {
        {1, 3, 32, 32, 16, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1},
        {1, 32, 14, 14, 32, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 32},
        {1, 32, 14, 14, 32, 7, 7, 3, 3, 2, 2, 0, 0, 1, 1, 32},
        {1, 48, 7, 7, 96, 7, 7, 1, 1, 1, 1, 0, 0, 1, 1, 1},
        {2, 16, 9, 9, 24, 5, 5, 1, 1, 2, 2, 0, 0, 1, 1, 1},
        {1, 8, 10, 10, 12, 10, 10, 3, 3, 1, 1, 2, 2, 2, 2, 4},
        {1, 16, 56, 56, 16, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 16},
        {1, 16, 56, 56, 16, 28, 28, 3, 3, 2, 2, 0, 0, 1, 1, 16},
        {1, 8, 20, 57, 8, 20, 29, 5, 5, 1, 2, 2, 2, 1, 1, 8},
        {1, 2, 1, 80, 3, 1, 18, 1, 65, 1, 1, 0, 1, 1, 1, 1}, /* wider than the on-the-fly packer */
        {1, 2, 3, 1100, 2, 3, 1100, 3, 3, 1, 1, 1, 1, 1, 1, 2}, /* depthwise rows wider than the row cache */
        {1, 2, 3, 1100, 2, 2, 550, 3, 3, 2, 2, 1, 1, 1, 1, 2},
        {2, 4, 3, 70, 6, 3, 4, 3, 66, 1, 2, 1, 2, 1, 1, 2},
        /* 1-channel long-kernel 1-D convs (audio front ends): gemm over the taps */
        {1, 1, 1, 1024, 64, 1, 129, 1, 512, 1, 4, 0, 0, 1, 1, 1},
        {2, 1, 1, 300, 16, 1, 70, 1, 40, 1, 4, 0, 8, 1, 1, 1},
        {1, 1, 1, 200, 4, 1, 161, 1, 40, 1, 1, 0, 0, 1, 1, 1}, /* few filters: direct */
        /* more rows than one fp16-A block (48), depth over one KC (256) */
        {1, 40, 7, 7, 100, 7, 7, 1, 1, 1, 1, 0, 0, 1, 1, 1},
        {1, 300, 4, 5, 120, 4, 5, 1, 1, 1, 1, 0, 0, 1, 1, 1},
        {1, 30, 9, 9, 64, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1},
        {1, 12, 5, 6, 98, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        cases++;
        if (check_conv(&fixed[i], false)) failed++;
        if (check_conv_w16(&fixed[i])) failed++;
    }
    CHECK_MSG(failed == 0, "%d of %d conv2d cases failed", failed, cases);
}

static void test_conv_transpose2d(void) {
    tk_seed(32);
    int failed = 0, cases = 0;
    for (int t = 0; t < 150; t++) {
        cml_conv2d_params p;
        memset(&p, 0, sizeof p);
        p.n = tk_int(1, 2);
        p.groups = tk_int(0, 2) == 0 ? 2 : 1;
        p.c_in = tk_int(1, 5) * p.groups;
        p.c_out = tk_int(1, 5) * p.groups;
        p.h_in = tk_int(1, 7);
        p.w_in = tk_int(1, 9);
        p.k_h = tk_int(1, 4);
        p.k_w = tk_int(1, 4);
        p.stride_h = tk_int(1, 3);
        p.stride_w = tk_int(1, 3);
        p.dilation_h = tk_int(1, 2);
        p.dilation_w = tk_int(1, 2);
        p.pad_top = tk_int(0, p.k_h - 1);
        p.pad_left = tk_int(0, p.k_w - 1);
        int64_t pb = tk_int(0, p.k_h - 1), pr = tk_int(0, p.k_w - 1);
        int64_t oph = tk_int(0, p.stride_h - 1), opw = tk_int(0, p.stride_w - 1);
        p.h_out = (p.h_in - 1) * p.stride_h - p.pad_top - pb + p.dilation_h * (p.k_h - 1) + 1 + oph;
        p.w_out = (p.w_in - 1) * p.stride_w - p.pad_left - pr + p.dilation_w * (p.k_w - 1) + 1 + opw;
        if (p.h_out <= 0 || p.w_out <= 0) continue;
        cases++;
        if (check_conv(&p, true)) failed++;
    }
    CHECK_MSG(failed == 0, "%d of %d conv_transpose2d cases failed", failed, cases);
}

/* ---- pooling --------------------------------------------------------------------- */

static void test_pooling(void) {
    tk_seed(33);
    int failures = 0, cases = 0;
    for (int t = 0; t < 300; t++) {
        cml_pool2d_params p;
        memset(&p, 0, sizeof p);
        p.n = tk_int(1, 2);
        p.c = tk_int(1, 3);
        p.h_in = tk_int(1, 11);
        p.w_in = tk_int(1, 13);
        p.k_h = tk_int(1, 4);
        p.k_w = tk_int(1, 4);
        p.stride_h = tk_int(1, 3);
        p.stride_w = tk_int(1, 3);
        p.pad_top = tk_int(0, p.k_h / 2);
        p.pad_left = tk_int(0, p.k_w / 2);
        bool dil = t % 3 == 0;
        p.dilation_h = dil ? tk_int(1, 2) : 1;
        p.dilation_w = dil ? tk_int(1, 2) : 1;
        bool ceil_mode = tk_int(0, 1);
        int64_t spans[2] = {p.dilation_h * (p.k_h - 1) + 1, p.dilation_w * (p.k_w - 1) + 1};
        int64_t ins[2] = {p.h_in, p.w_in}, pads[2] = {p.pad_top, p.pad_left}, ss[2] = {p.stride_h, p.stride_w}, outs[2];
        bool ok = true;
        for (int d = 0; d < 2; d++) { /* torch's pooling_output_shape */
            int64_t num = ins[d] + 2 * pads[d] - spans[d];
            if (num < 0) { ok = false; break; }
            int64_t o = (num + (ceil_mode ? ss[d] - 1 : 0)) / ss[d] + 1;
            if (ceil_mode && (o - 1) * ss[d] >= ins[d] + pads[d]) o--;
            outs[d] = o;
        }
        if (!ok) continue;
        p.h_out = outs[0];
        p.w_out = outs[1];
        p.count_include_pad = tk_int(0, 1);
        p.divisor_override = tk_int(0, 4) == 0 ? tk_int(1, 5) : 0;
        cases++;
        size_t nx = (size_t)(p.n * p.c * p.h_in * p.w_in), ny = (size_t)(p.n * p.c * p.h_out * p.w_out);
        float *x = malloc(nx * sizeof *x), *y = malloc((ny + 1) * sizeof *y);
        tk_fill(x, nx, -2.0f, 2.0f);
        if (t % 11 == 0) x[0] = NAN;
        for (int pi = 0; pi < 2; pi++) {
            for (int kind = 0; kind < 2; kind++) {
                y[ny] = 31.0f;
                if (kind == 0)
                    cml_k_maxpool2d_f32(g_pools[pi], &p, x, y);
                else if (!dil)
                    cml_k_avgpool2d_f32(g_pools[pi], &p, x, y);
                else
                    continue;
                if (y[ny] != 31.0f) failures++;
                for (int64_t pl = 0; pl < p.n * p.c; pl++)
                    for (int64_t oh = 0; oh < p.h_out; oh++)
                        for (int64_t ow = 0; ow < p.w_out; ow++) {
                            double want;
                            const float *xp = x + pl * p.h_in * p.w_in;
                            if (kind == 0) {
                                want = -INFINITY;
                                bool nan = false;
                                for (int64_t kh = 0; kh < p.k_h; kh++)
                                    for (int64_t kw = 0; kw < p.k_w; kw++) {
                                        int64_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
                                        int64_t iw = ow * p.stride_w - p.pad_left + kw * p.dilation_w;
                                        if (ih < 0 || ih >= p.h_in || iw < 0 || iw >= p.w_in) continue;
                                        float v = xp[ih * p.w_in + iw];
                                        if (isnan(v)) nan = true;
                                        want = fmax(want, v);
                                    }
                                if (nan) want = NAN;
                            } else { /* torch avg_pool2d */
                                int64_t hs = oh * p.stride_h - p.pad_top, ws = ow * p.stride_w - p.pad_left;
                                int64_t he = hs + p.k_h, we = ws + p.k_w;
                                if (he > p.h_in + p.pad_top) he = p.h_in + p.pad_top;
                                if (we > p.w_in + p.pad_left) we = p.w_in + p.pad_left;
                                int64_t pool_size = (he - hs) * (we - ws);
                                if (hs < 0) hs = 0;
                                if (ws < 0) ws = 0;
                                if (he > p.h_in) he = p.h_in;
                                if (we > p.w_in) we = p.w_in;
                                double s = 0;
                                for (int64_t ih = hs; ih < he; ih++)
                                    for (int64_t iw = ws; iw < we; iw++) s += xp[ih * p.w_in + iw];
                                int64_t div = p.divisor_override ? p.divisor_override
                                              : p.count_include_pad ? pool_size : (he - hs) * (we - ws);
                                want = s / (double)div;
                            }
                            float got = y[(pl * p.h_out + oh) * p.w_out + ow];
                            if (!tk_close(got, (float)want, 2e-6f, 2e-6f)) {
                                if (failures < 10)
                                    fprintf(stderr, "pool kind %d: %g want %g (k%lldx%lld s%lld p%lld)\n", kind, got,
                                            want, (long long)p.k_h, (long long)p.k_w, (long long)p.stride_h,
                                            (long long)p.pad_top);
                                failures++;
                            }
                        }
            }
        }
        free(x);
        free(y);
    }
    CHECK_MSG(failures == 0, "%d pooling mismatches over %d cases", failures, cases);

    /* explicit padded extent (Core ML "same" padding, asymmetric) */
    cml_pool2d_params p = {.n = 1, .c = 1, .h_in = 1, .w_in = 8, .h_out = 1, .w_out = 4, .k_h = 1, .k_w = 3,
                           .stride_h = 1, .stride_w = 2, .pad_top = 0, .pad_left = 0, .dilation_h = 1,
                           .dilation_w = 1, .count_include_pad = true};
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[4];
    cml_k_avgpool2d_ex_f32(NULL, &p, 0, 1, x, y);
    CHECK_NEAR(y[0], 2.0, 1e-6);
    CHECK_NEAR(y[3], 15.0 / 3.0, 1e-6); /* window [6, 9) with one padded element */
    cml_k_avgpool2d_f32(NULL, &p, x, y);
    CHECK_NEAR(y[3], 7.5, 1e-6);
}

static void test_adaptive(void) {
    tk_seed(34);
    int failures = 0;
    for (int t = 0; t < 100; t++) {
        cml_pool2d_params p;
        memset(&p, 0, sizeof p);
        p.n = tk_int(1, 2);
        p.c = tk_int(1, 3);
        p.h_in = tk_int(1, 15);
        p.w_in = tk_int(1, 15);
        p.h_out = tk_int(1, 9);
        p.w_out = tk_int(1, 9);
        size_t nx = (size_t)(p.n * p.c * p.h_in * p.w_in), ny = (size_t)(p.n * p.c * p.h_out * p.w_out);
        float *x = malloc(nx * sizeof *x), *y = malloc(ny * sizeof *y);
        tk_fill(x, nx, -1.0f, 1.0f);
        cml_k_adaptive_avgpool2d_f32(&p, x, y);
        for (int64_t pl = 0; pl < p.n * p.c; pl++)
            for (int64_t oh = 0; oh < p.h_out; oh++)
                for (int64_t ow = 0; ow < p.w_out; ow++) {
                    int64_t h0 = (int64_t)floor((double)oh * p.h_in / p.h_out);
                    int64_t h1 = (int64_t)ceil((double)(oh + 1) * p.h_in / p.h_out);
                    int64_t w0 = (int64_t)floor((double)ow * p.w_in / p.w_out);
                    int64_t w1 = (int64_t)ceil((double)(ow + 1) * p.w_in / p.w_out);
                    double s = 0;
                    for (int64_t ih = h0; ih < h1; ih++)
                        for (int64_t iw = w0; iw < w1; iw++) s += x[(pl * p.h_in + ih) * p.w_in + iw];
                    double want = s / (double)((h1 - h0) * (w1 - w0));
                    if (!tk_close(y[(pl * p.h_out + oh) * p.w_out + ow], (float)want, 2e-6f, 2e-6f)) failures++;
                }
        free(x);
        free(y);
    }
    CHECK_MSG(failures == 0, "%d adaptive pool mismatches", failures);
}

int main(void) {
    g_pools[0] = NULL;
    CHECK(cml_threadpool_create(2, NULL, &g_pools[1]) == CML_OK);
    test_conv2d();
    test_conv_transpose2d();
    for (int lvl = 0; lvl < tk_num_levels(); lvl++) {
        tk_set_level(lvl);
        test_pooling();
        test_adaptive();
    }
    tk_set_level(-1);
    cml_threadpool_destroy(g_pools[1]);
    TEST_MAIN_END();
}
