/* convolution_backward.out and max_pool2d_with_indices_backward.grad_input,
 * and _cdist_forward.out / _pdist_forward.out.
 *
 * The convolution gradients are checked against their definition through a
 * naive forward convolution: L(x, w) = sum(grad_output * conv(x, w)) is
 * bilinear, so dL/dx_i = sum(grad_output * conv(e_i, w)) exactly (and the
 * same for w), over random groups, strides, padding, dilation, output masks
 * and float dtypes. Max-pool backward uses the forward op's indices and a
 * naive scatter; grad_input starts as garbage to check it is zeroed. The
 * distances use the p-norm definition (p = 0, 1, 2, 3.5, inf), broadcast
 * batches, NaN. Then rejection of what upstream does not support. */
#include "test_aten_num_util.h"

typedef struct conv_geo {
    int64_t N, C, H, W, OC, KH, KW, st[2], pad[2], dil[2], g, OH, OW;
} conv_geo;

/* Naive conv: y[n, oc, oh, ow] = sum x * w (no bias). */
static void naive_conv(const conv_geo *c, const double *x, const double *w, double *y) {
    int64_t cpg = c->C / c->g, opg = c->OC / c->g;
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t oc = 0; oc < c->OC; oc++)
            for (int64_t oh = 0; oh < c->OH; oh++)
                for (int64_t ow = 0; ow < c->OW; ow++) {
                    double s = 0;
                    for (int64_t ic = 0; ic < cpg; ic++)
                        for (int64_t kh = 0; kh < c->KH; kh++)
                            for (int64_t kw = 0; kw < c->KW; kw++) {
                                int64_t ih = oh * c->st[0] - c->pad[0] + kh * c->dil[0];
                                int64_t iw = ow * c->st[1] - c->pad[1] + kw * c->dil[1];
                                if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W) continue;
                                int64_t ci = (oc / opg) * cpg + ic;
                                s += x[((n * c->C + ci) * c->H + ih) * c->W + iw] *
                                     w[((oc * cpg + ic) * c->KH + kh) * c->KW + kw];
                            }
                    y[((n * c->OC + oc) * c->OH + oh) * c->OW + ow] = s;
                }
}

static double dot(const double *a, const double *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void rand_geo(conv_geo *c) {
    c->g = tv_randint(1, 2);
    c->N = tv_randint(1, 2);
    c->C = c->g * tv_randint(1, 2);
    c->OC = c->g * tv_randint(1, 2);
    c->H = tv_randint(3, 6);
    c->W = tv_randint(3, 6);
    c->KH = tv_randint(1, 3);
    c->KW = tv_randint(1, 3);
    for (int d = 0; d < 2; d++) {
        c->st[d] = tv_randint(1, 2);
        c->pad[d] = tv_randint(0, 1);
        c->dil[d] = tv_randint(1, 2);
    }
    int64_t nh = c->H + 2 * c->pad[0] - c->dil[0] * (c->KH - 1) - 1;
    int64_t nw = c->W + 2 * c->pad[1] - c->dil[1] * (c->KW - 1) - 1;
    c->OH = nh < 0 ? 0 : nh / c->st[0] + 1;
    c->OW = nw < 0 ? 0 : nw / c->st[1] + 1;
}

static void run_conv_backward(int it) {
    static tenv e;
    tv_init(&e);
    conv_geo c;
    do rand_geo(&c); while (c.OH <= 0 || c.OW <= 0);
    cml_dtype dt = TN_FLOATS[it % 4];
    bool mask[3] = {it % 2 == 0 || it % 7 == 0, (it / 2) % 2 == 0 || it % 5 == 0, it % 3 != 1};
    int64_t nx = c.N * c.C * c.H * c.W, nw = c.OC * (c.C / c.g) * c.KH * c.KW, ny = c.N * c.OC * c.OH * c.OW;
    static double x[2048], w[512], go[4096], y[4096], unit[2048], gx[2048], gw[512], gb[8];
    for (int64_t i = 0; i < nx; i++) x[i] = tn_round(dt, tv_randf());
    for (int64_t i = 0; i < nw; i++) w[i] = tn_round(dt, tv_randf());
    for (int64_t i = 0; i < ny; i++) go[i] = tn_round(dt, tv_randf());
    for (int64_t i = 0; i < nx; i++) {
        memset(unit, 0, sizeof(double) * (size_t)nx);
        unit[i] = 1;
        naive_conv(&c, unit, w, y);
        gx[i] = dot(go, y, ny);
    }
    for (int64_t j = 0; j < nw; j++) {
        memset(unit, 0, sizeof(double) * (size_t)nw);
        unit[j] = 1;
        naive_conv(&c, x, unit, y);
        gw[j] = dot(go, y, ny);
    }
    for (int64_t oc = 0; oc < c.OC; oc++) {
        gb[oc] = 0;
        for (int64_t n = 0; n < c.N; n++)
            for (int64_t k = 0; k < c.OH * c.OW; k++) gb[oc] += go[(n * c.OC + oc) * c.OH * c.OW + k];
    }
    cml_evalue *xv = tn_tensor(&e, dt, 4, S(c.N, c.C, c.H, c.W), x);
    cml_evalue *wv = tn_tensor(&e, dt, 4, S(c.OC, c.C / c.g, c.KH, c.KW), w);
    cml_evalue *gov = tn_tensor(&e, dt, 4, S(c.N, c.OC, c.OH, c.OW), go);
    cml_evalue *o0 = tn_out(&e, dt, 4, nx), *o1 = tn_out(&e, dt, 4, nw), *o2 = tn_out(&e, dt, 1, c.OC);
    cml_evalue *ml = tv_new(&e, CML_VALUE_BOOL_LIST);
    static uint8_t mask_items[3];
    for (int k = 0; k < 3; k++) mask_items[k] = mask[k];
    ml->u.bool_list.items = mask_items;
    ml->u.bool_list.count = 3;
    cml_evalue *bs = it % 2 ? IL(&e, c.OC) : tv_null(&e);
    cml_status st = CALL(&e, "aten::convolution_backward.out", gov, xv, wv, bs, IL(&e, c.st[0], c.st[1]),
                         IL(&e, c.pad[0], c.pad[1]), IL(&e, c.dil[0], c.dil[1]), tv_bool(&e, false), IL(&e, 0, 0),
                         tv_int(&e, c.g), ml, o0, o1, o2, tv_tensor_list(&e, 3, ARGS(o0, o1, o2)));
    CHECK_MSG(st == CML_OK, "%s", e.err.msg);
    double tol = dt == CML_DTYPE_FLOAT16 ? 0.05 : dt == CML_DTYPE_BFLOAT16 ? 0.3 : 1e-5;
    if (mask[0]) CHECK_MSG(tn_check("grad_input", T(o0), gx, nx, tol), "it %d", it);
    if (mask[1]) CHECK_MSG(tn_check("grad_weight", T(o1), gw, nw, tol), "it %d", it);
    if (mask[2]) CHECK_MSG(tn_check("grad_bias", T(o2), gb, c.OC, tol), "it %d", it);
    if (!mask[0]) CHECK(tn_get(T(o0), 0) == 0); /* untouched (zero-filled by the test env) */
    tv_free(&e);
}

static void test_conv_backward_reject(void) {
    static tenv e;
    tv_init(&e);
    const char *cb = "aten::convolution_backward.out";
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 5, 5), *w = TS(&e, CML_DTYPE_FLOAT32, 3, 2, 3, 3);
    cml_evalue *go = TS(&e, CML_DTYPE_FLOAT32, 1, 3, 3, 3), *o0 = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 5, 5);
    cml_evalue *o1 = TS(&e, CML_DTYPE_FLOAT32, 3, 2, 3, 3), *o2 = TS(&e, CML_DTYPE_FLOAT32, 3);
    cml_evalue *l = tv_tensor_list(&e, 3, ARGS(o0, o1, o2));
    cml_evalue *ml = tv_new(&e, CML_VALUE_BOOL_LIST);
    static const uint8_t all[3] = {1, 1, 1};
    ml->u.bool_list.items = all;
    ml->u.bool_list.count = 3;
    CHECK(PREP(&e, cb, go, x, w, tv_null(&e), IL(&e, 1), IL(&e, 0), IL(&e, 1), tv_bool(&e, false), IL(&e, 0),
               tv_int(&e, 1), ml, o0, o1, o2, l) == CML_OK);
    /* transposed: unsupported as upstream */
    CHECK(PREP(&e, cb, go, x, w, tv_null(&e), IL(&e, 1), IL(&e, 0), IL(&e, 1), tv_bool(&e, true), IL(&e, 0),
               tv_int(&e, 1), ml, o0, o1, o2, l) == CML_ERR_UNSUPPORTED);
    CHECK(tn_msg_names(&e, cb));
    /* 1-D convolution: unsupported as upstream */
    cml_evalue *x3 = TS(&e, CML_DTYPE_FLOAT32, 1, 2, 5), *w3 = TS(&e, CML_DTYPE_FLOAT32, 3, 2, 3);
    CHECK(PREP(&e, cb, go, x3, w3, tv_null(&e), IL(&e, 1), IL(&e, 0), IL(&e, 1), tv_bool(&e, false), IL(&e, 0),
               tv_int(&e, 1), ml, o0, o1, o2, l) == CML_ERR_INVALID_ARG);
    /* wrong grad_output shape, bad groups, bad stride, dtype */
    cml_evalue *go2 = TS(&e, CML_DTYPE_FLOAT32, 1, 3, 4, 3);
    CHECK(PREP(&e, cb, go2, x, w, tv_null(&e), IL(&e, 1), IL(&e, 0), IL(&e, 1), tv_bool(&e, false), IL(&e, 0),
               tv_int(&e, 1), ml, o0, o1, o2, l) == CML_ERR_SHAPE);
    CHECK(PREP(&e, cb, go, x, w, tv_null(&e), IL(&e, 1), IL(&e, 0), IL(&e, 1), tv_bool(&e, false), IL(&e, 0),
               tv_int(&e, 2), ml, o0, o1, o2, l) == CML_ERR_SHAPE);
    CHECK(PREP(&e, cb, go, x, w, tv_null(&e), IL(&e, 0), IL(&e, 0), IL(&e, 1), tv_bool(&e, false), IL(&e, 0),
               tv_int(&e, 1), ml, o0, o1, o2, l) == CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, cb, go, x, w, IL(&e, 4), IL(&e, 1), IL(&e, 0), IL(&e, 1), tv_bool(&e, false), IL(&e, 0),
               tv_int(&e, 1), ml, o0, o1, o2, l) == CML_ERR_SHAPE);
    cml_evalue *xi = TS(&e, CML_DTYPE_INT32, 1, 2, 5, 5);
    CHECK(PREP(&e, cb, go, xi, w, tv_null(&e), IL(&e, 1), IL(&e, 0), IL(&e, 1), tv_bool(&e, false), IL(&e, 0),
               tv_int(&e, 1), ml, o0, o1, o2, l) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

static void run_pool_backward(int it) {
    static tenv e;
    tv_init(&e);
    cml_dtype dt = TN_FLOATS[it % 4];
    int64_t N = tv_randint(1, 2), C = tv_randint(1, 3), H = tv_randint(3, 7), W = tv_randint(3, 7);
    int64_t k = tv_randint(2, 3), s = tv_randint(1, 2), p = tv_randint(0, k / 2);
    bool ceil_mode = it % 2, rank3 = it % 3 == 0;
    if (rank3) N = 1;
    double x[512];
    for (int64_t i = 0; i < N * C * H * W; i++) x[i] = tn_round(dt, tv_randf());
    int32_t r = rank3 ? 3 : 4;
    int64_t *xs = rank3 ? S(C, H, W) : S(N, C, H, W);
    cml_evalue *xv = tn_tensor(&e, dt, r, xs, x);
    /* indices from the forward op (on float32: it takes float32/float16) */
    cml_evalue *xf = tn_tensor(&e, CML_DTYPE_FLOAT32, r, xs, x);
    cml_evalue *o = tn_out(&e, CML_DTYPE_FLOAT32, r, 512), *ix = tn_out(&e, CML_DTYPE_INT64, r, 512);
    CHECK(CALL(&e, "aten::max_pool2d_with_indices.out", xf, IL(&e, k, k), IL(&e, s, s), IL(&e, p, p), IL(&e, 1, 1),
               tv_bool(&e, ceil_mode), o, ix, tv_tensor_list(&e, 2, ARGS(o, ix))) == CML_OK);
    int64_t no = cml_tensor_numel(T(o)), plane_o = T(o)->sizes[r - 2] * T(o)->sizes[r - 1];
    double go[512], ref[512] = {0};
    for (int64_t i = 0; i < no; i++) {
        go[i] = tn_round(dt, tv_randf());
        ref[(i / plane_o) * H * W + ((int64_t *)T(ix)->data)[i]] += go[i];
    }
    cml_evalue *gov = tn_tensor(&e, dt, r, T(o)->sizes, go);
    cml_evalue *gi = tn_out(&e, dt, r, 512);
    memset(T(gi)->data, 0x7f, T(gi)->capacity); /* garbage: must be zeroed */
    cml_status st = CALL(&e, "aten::max_pool2d_with_indices_backward.grad_input", gov, xv, IL(&e, k, k),
                         it % 4 == 1 && s == k ? tv_int_list(&e, 0, NULL) : IL(&e, s, s), IL(&e, p, p), IL(&e, 1, 1),
                         tv_bool(&e, ceil_mode), ix, gi, gi);
    CHECK_MSG(st == CML_OK, "%s", e.err.msg);
    CHECK(tv_shape_is(T(gi), r, T(xv)->sizes));
    CHECK_MSG(tn_check("pool backward", T(gi), ref, N * C * H * W, tn_tol(dt) * 4), "it %d", it);
    tv_free(&e);
}

static void test_pool_backward_reject(void) {
    static tenv e;
    tv_init(&e);
    const char *mb = "aten::max_pool2d_with_indices_backward.grad_input";
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 1, 1, 4, 4), *go = TS(&e, CML_DTYPE_FLOAT32, 1, 1, 2, 2);
    cml_evalue *ix = TS(&e, CML_DTYPE_INT64, 1, 1, 2, 2), *gi = TS(&e, CML_DTYPE_FLOAT32, 1, 1, 4, 4);
    CHECK(PREP(&e, mb, go, x, IL(&e, 2), IL(&e, 2), IL(&e, 0), IL(&e, 1), tv_bool(&e, false), ix, gi, gi) == CML_OK);
    cml_evalue *go3 = TS(&e, CML_DTYPE_FLOAT32, 1, 1, 3, 3);
    CHECK(PREP(&e, mb, go3, x, IL(&e, 2), IL(&e, 2), IL(&e, 0), IL(&e, 1), tv_bool(&e, false), ix, gi, gi) == CML_ERR_SHAPE);
    CHECK(tn_msg_names(&e, mb));
    cml_evalue *i32 = TS(&e, CML_DTYPE_INT32, 1, 1, 2, 2);
    CHECK(PREP(&e, mb, go, x, IL(&e, 2), IL(&e, 2), IL(&e, 0), IL(&e, 1), tv_bool(&e, false), i32, gi, gi) == CML_ERR_UNSUPPORTED);
    CHECK(PREP(&e, mb, go, x, IL(&e, 2), IL(&e, 2), IL(&e, 2), IL(&e, 1), tv_bool(&e, false), ix, gi, gi) == CML_ERR_INVALID_ARG);
    /* an index outside the plane fails at run; -1 is skipped */
    int64_t *id = T(ix)->data;
    id[0] = -1;
    id[1] = 3;
    id[2] = 16;
    id[3] = 0;
    CHECK(CALL(&e, mb, go, x, IL(&e, 2), IL(&e, 2), IL(&e, 0), IL(&e, 1), tv_bool(&e, false), ix, gi, gi) == CML_ERR_INVALID_ARG);
    id[2] = 5;
    CHECK(CALL(&e, mb, go, x, IL(&e, 2), IL(&e, 2), IL(&e, 0), IL(&e, 1), tv_bool(&e, false), ix, gi, gi) == CML_OK);
    tv_free(&e);
}

static double pnorm(const double *a, const double *b, int64_t m, double p) {
    double acc = 0;
    for (int64_t k = 0; k < m; k++) {
        double d = fabs(a[k] - b[k]);
        if (isnan(d)) return NAN;
        if (p == 0) acc += d != 0;
        else if (isinf(p)) acc = fmax(acc, d);
        else acc += pow(d, p);
    }
    return (p == 0 || isinf(p)) ? acc : pow(acc, 1 / p);
}

static void test_dist(void) {
    const double ps[] = {0, 1, 2, 3.5, INFINITY};
    for (int it = 0; it < 40; it++) {
        static tenv e;
        tv_init(&e);
        cml_dtype dt = TN_FLOATS[it % 4];
        double p = ps[it % 5];
        int64_t B1 = it % 3 == 0 ? 1 : 2, B2 = it % 3 == 1 ? 1 : 2, P = tv_randint(1, 4), R = tv_randint(1, 4), M = tv_randint(0, 3);
        double x1[64], x2[64], ref[64];
        for (int64_t i = 0; i < B1 * P * M; i++) x1[i] = tn_round(dt, (double)tv_randint(-4, 4) / 2);
        for (int64_t i = 0; i < B2 * R * M; i++) x2[i] = tn_round(dt, (double)tv_randint(-4, 4) / 2);
        if (it % 8 == 7 && M > 0) x1[0] = NAN;
        for (int64_t b = 0; b < 2; b++)
            for (int64_t i = 0; i < P; i++)
                for (int64_t j = 0; j < R; j++)
                    ref[(b * P + i) * R + j] = pnorm(&x1[((B1 > 1 ? b : 0) * P + i) * M], &x2[((B2 > 1 ? b : 0) * R + j) * M], M, p);
        cml_evalue *a = tn_tensor(&e, dt, 3, S(B1, P, M), x1), *b = tn_tensor(&e, dt, 3, S(B2, R, M), x2);
        cml_evalue *o = tn_out(&e, dt, 3, 64);
        CHECK_MSG(CALL(&e, "aten::_cdist_forward.out", a, b, tv_double(&e, p), it % 2 ? tv_int(&e, 0) : tv_null(&e), o, o) ==
                      CML_OK, "%s", e.err.msg);
        CHECK(tv_shape_is(T(o), 3, S(2, P, R)));
        CHECK_MSG(tn_check("cdist", T(o), ref, 2 * P * R, tn_tol(dt) * 4), "it %d p %g", it, p);
        /* pdist over x1's first batch */
        cml_evalue *pin = tn_tensor(&e, dt, 2, S(P, M), x1), *po = tn_out(&e, dt, 1, 16);
        CHECK(CALL(&e, "aten::_pdist_forward.out", pin, tv_double(&e, p), po, po) == CML_OK);
        double pref[16];
        int64_t k = 0;
        for (int64_t i = 0; i < P; i++)
            for (int64_t j = i + 1; j < P; j++) pref[k++] = pnorm(&x1[i * M], &x1[j * M], M, p);
        CHECK(tv_shape_is(T(po), 1, S(k)));
        CHECK_MSG(tn_check("pdist", T(po), pref, k, tn_tol(dt) * 4), "it %d", it);
        tv_free(&e);
    }
    static tenv e;
    tv_init(&e);
    cml_evalue *a = TS(&e, CML_DTYPE_FLOAT32, 3, 2), *b = TS(&e, CML_DTYPE_FLOAT32, 4, 3), *o = tn_out(&e, CML_DTYPE_FLOAT32, 2, 64);
    CHECK(PREP(&e, "aten::_cdist_forward.out", a, b, tv_double(&e, 2), tv_null(&e), o, o) == CML_ERR_SHAPE);
    CHECK(tn_msg_names(&e, "aten::_cdist_forward.out"));
    cml_evalue *b2 = TS(&e, CML_DTYPE_FLOAT32, 4, 2);
    CHECK(PREP(&e, "aten::_cdist_forward.out", a, b2, tv_double(&e, -1), tv_null(&e), o, o) == CML_ERR_INVALID_ARG);
    CHECK(PREP(&e, "aten::_cdist_forward.out", a, b2, tv_double(&e, 2), tv_int(&e, 3), o, o) == CML_ERR_INVALID_ARG);
    cml_evalue *bh = TS(&e, CML_DTYPE_FLOAT16, 4, 2);
    CHECK(PREP(&e, "aten::_cdist_forward.out", a, bh, tv_double(&e, 2), tv_null(&e), o, o) == CML_ERR_UNSUPPORTED);
    cml_evalue *x3 = TS(&e, CML_DTYPE_FLOAT32, 1, 3, 2);
    CHECK(PREP(&e, "aten::_pdist_forward.out", x3, tv_double(&e, 2), o, o) == CML_ERR_INVALID_ARG);
    CHECK(tn_msg_names(&e, "aten::_pdist_forward.out"));
    cml_evalue *xi = TS(&e, CML_DTYPE_INT32, 3, 2), *oi = tn_out(&e, CML_DTYPE_INT32, 1, 8);
    CHECK(PREP(&e, "aten::_pdist_forward.out", xi, tv_double(&e, 2), oi, oi) == CML_ERR_UNSUPPORTED);
    tv_free(&e);
}

int main(void) {
    for (int it = 0; it < 40; it++) run_conv_backward(it);
    test_conv_backward_reject();
    for (int it = 0; it < 40; it++) run_pool_backward(it);
    test_pool_backward_reject();
    test_dist();
    TEST_MAIN_END();
}
