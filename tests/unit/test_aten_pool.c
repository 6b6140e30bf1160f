/* avg_pool2d, max_pool2d_with_indices and _adaptive_avg_pool2d against
 * PyTorch-semantics references: ceil_mode, padding, count_include_pad,
 * divisor_override, dilation, unbatched input, fp16 and rejection. */
#include "test_aten_util.h"

static int64_t pool_out(int64_t in, int64_t k, int64_t p, int64_t s, int64_t d, bool ceil_mode) {
    int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
    int64_t o = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
    if (ceil_mode && (o - 1) * s >= in + p) o--;
    return o;
}

static void test_avg(void) {
    for (int it = 0; it < 80; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int64_t n = tv_randint(1, 2), c = tv_randint(1, 3), H = tv_randint(1, 9), W = tv_randint(1, 9);
        int64_t kh = tv_randint(1, 4), kw = tv_randint(1, 4);
        if (kh > H + 1) kh = H;
        if (kw > W + 1) kw = W;
        int64_t sh = tv_randint(1, 3), sw = tv_randint(1, 3);
        int64_t ph = tv_randint(0, kh / 2), pw = tv_randint(0, kw / 2);
        bool ceil_mode = it % 2, cip = (it / 2) % 2;
        int64_t div = (it % 7 == 0) ? 3 : 0;
        /* stride given as [] a third of the time (defaults to the kernel size) */
        bool default_stride = it % 3 == 0;
        if (default_stride) {
            sh = kh;
            sw = kw;
        }
        int64_t ho = pool_out(H, kh, ph, sh, 1, ceil_mode), wo = pool_out(W, kw, pw, sw, 1, ceil_mode);
        if (ho < 1 || wo < 1) {
            tv_free(&e);
            continue;
        }
        bool unbatched = it % 5 == 0;
        cml_dtype dt = it % 6 == 5 ? CML_DTYPE_FLOAT16 : CML_DTYPE_FLOAT32;
        cml_evalue *x = unbatched ? tv_tensor(&e, dt, 3, S(c, H, W)) : tv_tensor(&e, dt, 4, S(n, c, H, W));
        if (unbatched) n = 1;
        cml_evalue *o = unbatched ? tv_tensor(&e, dt, 3, S(c, ho, wo)) : tv_tensor(&e, dt, 4, S(n, c, ho, wo));
        tv_fill_rand(x);
        cml_evalue *stride = default_stride ? tv_int_list(&e, 0, NULL) : IL(&e, sh, sw);
        cml_status st = CALL(&e, "aten::avg_pool2d.out", x, IL(&e, kh, kw), stride, IL(&e, ph, pw),
                             tv_bool(&e, ceil_mode), tv_bool(&e, cip), div ? tv_int(&e, div) : tv_null(&e), o, o);
        CHECK_MSG(st == CML_OK, "%s", e.err.msg);
        int64_t total = n * c * ho * wo;
        double *ref = malloc(sizeof(double) * (size_t)total);
        for (int64_t pl = 0; pl < n * c; pl++)
            for (int64_t oh = 0; oh < ho; oh++)
                for (int64_t ow = 0; ow < wo; ow++) {
                    int64_t hs = oh * sh - ph, ws = ow * sw - pw;
                    int64_t he = hs + kh < H + ph ? hs + kh : H + ph, we = ws + kw < W + pw ? ws + kw : W + pw;
                    int64_t pool_size = (he - hs) * (we - ws);
                    if (hs < 0) hs = 0;
                    if (ws < 0) ws = 0;
                    if (he > H) he = H;
                    if (we > W) we = W;
                    double s = 0;
                    for (int64_t ih = hs; ih < he; ih++)
                        for (int64_t iw = ws; iw < we; iw++) s += tv_get(T(x), (pl * H + ih) * W + iw);
                    double dv = div ? (double)div : cip ? (double)pool_size : (double)((he - hs) * (we - ws));
                    double r = s / dv;
                    ref[(pl * ho + oh) * wo + ow] = dt == CML_DTYPE_FLOAT16 ? cml_round_fp16((float)r) : r;
                }
        char what[128];
        snprintf(what, sizeof what, "avg H%lld W%lld k%lldx%lld s%lldx%lld p%lldx%lld ceil%d cip%d div%lld",
                 (long long)H, (long long)W, (long long)kh, (long long)kw, (long long)sh, (long long)sw,
                 (long long)ph, (long long)pw, ceil_mode, cip, (long long)div);
        double tol = dt == CML_DTYPE_FLOAT16 ? 2e-3 : 1e-5;
        CHECK(tv_check_all(what, T(o), ref, total, tol, tol));
        free(ref);
        tv_free(&e);
    }
}

static void test_max(void) {
    for (int it = 0; it < 80; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int64_t n = tv_randint(1, 2), c = tv_randint(1, 3), H = tv_randint(1, 10), W = tv_randint(1, 10);
        int64_t kh = tv_randint(1, 3), kw = tv_randint(1, 3), dh = tv_randint(1, 2), dw = tv_randint(1, 2);
        int64_t sh = tv_randint(1, 3), sw = tv_randint(1, 3);
        int64_t ph = tv_randint(0, kh / 2), pw = tv_randint(0, kw / 2);
        bool ceil_mode = it % 2;
        int64_t ho = pool_out(H, kh, ph, sh, dh, ceil_mode), wo = pool_out(W, kw, pw, sw, dw, ceil_mode);
        if (ho < 1 || wo < 1) {
            tv_free(&e);
            continue;
        }
        cml_dtype dt = it % 6 == 5 ? CML_DTYPE_FLOAT16 : CML_DTYPE_FLOAT32;
        cml_evalue *x = tv_tensor(&e, dt, 4, S(n, c, H, W));
        cml_evalue *o = tv_tensor(&e, dt, 4, S(n, c, ho, wo));
        cml_evalue *ix = tv_tensor(&e, CML_DTYPE_INT64, 4, S(n, c, ho, wo));
        tv_fill_rand(x);
        /* duplicate values to exercise first-occurrence indices */
        if (dt == CML_DTYPE_FLOAT32)
            for (int64_t i = 0; i < n * c * H * W; i++) F(x)[i] = (float)(int)(F(x)[i] * 3);
        cml_evalue *tl = tv_tensor_list(&e, 2, ARGS(o, ix));
        cml_status st = CALL(&e, "aten::max_pool2d_with_indices.out", x, IL(&e, kh, kw), IL(&e, sh, sw),
                             IL(&e, ph, pw), IL(&e, dh, dw), tv_bool(&e, ceil_mode), o, ix, tl);
        CHECK_MSG(st == CML_OK, "%s", e.err.msg);
        int64_t total = n * c * ho * wo;
        double *ref = malloc(sizeof(double) * (size_t)total);
        double *refi = malloc(sizeof(double) * (size_t)total);
        for (int64_t pl = 0; pl < n * c; pl++)
            for (int64_t oh = 0; oh < ho; oh++)
                for (int64_t ow = 0; ow < wo; ow++) {
                    double best = -INFINITY;
                    int64_t bi = -1;
                    for (int64_t a = 0; a < kh; a++)
                        for (int64_t b = 0; b < kw; b++) {
                            int64_t ih = oh * sh - ph + a * dh, iw = ow * sw - pw + b * dw;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                            double v = tv_get(T(x), (pl * H + ih) * W + iw);
                            if (bi < 0 || v > best) {
                                best = v;
                                bi = ih * W + iw;
                            }
                        }
                    if (bi < 0) { /* window entirely in padding: torch's start index */
                        int64_t ih = oh * sh - ph, iw = ow * sw - pw;
                        while (ih < 0) ih += dh;
                        while (iw < 0) iw += dw;
                        bi = ih * W + iw;
                    }
                    ref[(pl * ho + oh) * wo + ow] = best;
                    refi[(pl * ho + oh) * wo + ow] = (double)bi;
                }
        CHECK(tv_check_all("maxpool values", T(o), ref, total, 0, 0));
        CHECK(tv_check_all("maxpool indices", T(ix), refi, total, 0, 0));
        free(ref);
        free(refi);
        tv_free(&e);
    }
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 1, 1, 4, 4), *o = TS(&e, CML_DTYPE_FLOAT32, 1, 1, 2, 2);
    cml_evalue *ix32 = TS(&e, CML_DTYPE_INT32, 1, 1, 2, 2);
    cml_evalue *tl = tv_tensor_list(&e, 2, ARGS(o, ix32));
    CHECK(PREP(&e, "aten::max_pool2d_with_indices.out", x, IL(&e, 2, 2), IL(&e, 2, 2), IL(&e, 0, 0), IL(&e, 1, 1),
               tv_bool(&e, false), o, ix32, tl) == CML_ERR_UNSUPPORTED);
    /* padding larger than half the kernel */
    cml_evalue *ix = TS(&e, CML_DTYPE_INT64, 1, 1, 2, 2);
    CHECK(PREP(&e, "aten::max_pool2d_with_indices.out", x, IL(&e, 2, 2), IL(&e, 2, 2), IL(&e, 2, 2), IL(&e, 1, 1),
               tv_bool(&e, false), o, ix, tl) == CML_ERR_INVALID_ARG);
    tv_free(&e);
}

static void test_adaptive(void) {
    for (int it = 0; it < 40; it++) {
        static tenv e; /* static: large, keep it off the stack */
        tv_init(&e);
        int64_t n = tv_randint(1, 2), c = tv_randint(1, 3), H = tv_randint(1, 12), W = tv_randint(1, 12);
        int64_t oh_ = tv_randint(1, 7), ow_ = tv_randint(1, 7);
        cml_evalue *x = tv_tensor(&e, CML_DTYPE_FLOAT32, 4, S(n, c, H, W));
        cml_evalue *o = tv_tensor(&e, CML_DTYPE_FLOAT32, 4, S(n, c, oh_, ow_));
        tv_fill_rand(x);
        CHECK(CALL(&e, "aten::_adaptive_avg_pool2d.out", x, IL(&e, oh_, ow_), o, o) == CML_OK);
        int64_t total = n * c * oh_ * ow_;
        double *ref = malloc(sizeof(double) * (size_t)total);
        for (int64_t pl = 0; pl < n * c; pl++)
            for (int64_t a = 0; a < oh_; a++)
                for (int64_t b = 0; b < ow_; b++) {
                    int64_t hs = a * H / oh_, he = ((a + 1) * H + oh_ - 1) / oh_;
                    int64_t ws = b * W / ow_, we = ((b + 1) * W + ow_ - 1) / ow_;
                    double s = 0;
                    for (int64_t i = hs; i < he; i++)
                        for (int64_t j = ws; j < we; j++) s += tv_get(T(x), (pl * H + i) * W + j);
                    ref[(pl * oh_ + a) * ow_ + b] = s / (double)((he - hs) * (we - ws));
                }
        CHECK(tv_check_all("adaptive avg", T(o), ref, total, 1e-5, 1e-5));
        free(ref);
        tv_free(&e);
    }
}

int main(void) {
    test_avg();
    /* again on a thread pool */
    CHECK(cml_threadpool_create(4, NULL, &tv_pool) == CML_OK);
    test_avg();
    test_max();
    test_adaptive();
    cml_threadpool_destroy(tv_pool);
    tv_pool = NULL;
    TEST_MAIN_END();
}
