/* convolution.out against a naive reference: 1-D and 2-D, stride, padding,
 * dilation, groups (depthwise included), transposed with output_padding,
 * bias None (Null and the empty BYTE tensor), fp16, and rejection. */
#include "test_aten_util.h"

typedef struct cgeo {
    int nd;
    int64_t n, cin, cout, groups;
    int64_t in[2], k[2], s[2], p[2], d[2], op[2];
    bool transposed;
} cgeo;

static int64_t out_dim(const cgeo *g, int i) {
    if (g->transposed)
        return (g->in[i] - 1) * g->s[i] - 2 * g->p[i] + g->d[i] * (g->k[i] - 1) + g->op[i] + 1;
    int64_t num = g->in[i] + 2 * g->p[i] - g->d[i] * (g->k[i] - 1) - 1;
    return num < 0 ? 0 : num / g->s[i] + 1;
}

/* Reference in 2-D form (1-D uses H = 1). */
static void ref_conv(const cgeo *g, const cml_tensor *x, const cml_tensor *w, const cml_tensor *b,
                     double *y, int64_t ho, int64_t wo) {
    int64_t H = g->nd == 2 ? g->in[0] : 1, W = g->in[g->nd - 1];
    int64_t KH = g->nd == 2 ? g->k[0] : 1, KW = g->k[g->nd - 1];
    int64_t sh = g->nd == 2 ? g->s[0] : 1, sw = g->s[g->nd - 1];
    int64_t ph = g->nd == 2 ? g->p[0] : 0, pw = g->p[g->nd - 1];
    int64_t dh = g->nd == 2 ? g->d[0] : 1, dw = g->d[g->nd - 1];
    int64_t cin_g = g->cin / g->groups, cout_g = g->cout / g->groups;
    int64_t total = g->n * g->cout * ho * wo;
    for (int64_t i = 0; i < total; i++) y[i] = 0;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t co = 0; co < g->cout; co++)
            for (int64_t oh = 0; oh < ho; oh++)
                for (int64_t ow = 0; ow < wo; ow++)
                    y[((n * g->cout + co) * ho + oh) * wo + ow] = b ? tv_get(b, co) : 0.0;
    if (!g->transposed) {
        for (int64_t n = 0; n < g->n; n++)
            for (int64_t co = 0; co < g->cout; co++) {
                int64_t grp = co / cout_g;
                for (int64_t oh = 0; oh < ho; oh++)
                    for (int64_t ow = 0; ow < wo; ow++) {
                        double s = 0;
                        for (int64_t ci = 0; ci < cin_g; ci++)
                            for (int64_t kh = 0; kh < KH; kh++)
                                for (int64_t kw = 0; kw < KW; kw++) {
                                    int64_t ih = oh * sh - ph + kh * dh, iw = ow * sw - pw + kw * dw;
                                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                    int64_t c = grp * cin_g + ci;
                                    s += tv_get(x, ((n * g->cin + c) * H + ih) * W + iw) *
                                         tv_get(w, ((co * cin_g + ci) * KH + kh) * KW + kw);
                                }
                        y[((n * g->cout + co) * ho + oh) * wo + ow] += s;
                    }
            }
    } else {
        for (int64_t n = 0; n < g->n; n++)
            for (int64_t c = 0; c < g->cin; c++) {
                int64_t grp = c / cin_g;
                for (int64_t ih = 0; ih < H; ih++)
                    for (int64_t iw = 0; iw < W; iw++) {
                        double xv = tv_get(x, ((n * g->cin + c) * H + ih) * W + iw);
                        for (int64_t cog = 0; cog < cout_g; cog++)
                            for (int64_t kh = 0; kh < KH; kh++)
                                for (int64_t kw = 0; kw < KW; kw++) {
                                    int64_t oh = ih * sh - ph + kh * dh, ow = iw * sw - pw + kw * dw;
                                    if (oh < 0 || oh >= ho || ow < 0 || ow >= wo) continue;
                                    int64_t co = grp * cout_g + cog;
                                    y[((n * g->cout + co) * ho + oh) * wo + ow] +=
                                        xv * tv_get(w, ((c * cout_g + cog) * KH + kh) * KW + kw);
                                }
                    }
            }
    }
}

static void run_conv(const cgeo *g, cml_dtype dt, int bias_kind) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    int32_t rank = g->nd + 2;
    int64_t xs[4] = {g->n, g->cin, g->in[0], g->in[1]};
    int64_t cin_g = g->cin / g->groups, cout_g = g->cout / g->groups;
    int64_t ws[4];
    if (g->transposed) {
        ws[0] = g->cin;
        ws[1] = cout_g;
    } else {
        ws[0] = g->cout;
        ws[1] = cin_g;
    }
    ws[2] = g->k[0];
    ws[3] = g->k[1];
    int64_t ho = out_dim(g, 0), wo = g->nd == 2 ? out_dim(g, 1) : 0;
    int64_t os[4] = {g->n, g->cout, ho, wo};
    cml_evalue *x = tv_tensor(&e, dt, rank, xs), *w = tv_tensor(&e, dt, rank, ws);
    cml_evalue *b = bias_kind == 0 ? tv_tensor(&e, dt, 1, S(g->cout)) : bias_kind == 1 ? tv_null(&e)
                                                                                     : tv_none_tensor(&e);
    cml_evalue *o = tv_tensor(&e, dt, rank, os);
    tv_fill_rand(x);
    tv_fill_rand(w);
    if (bias_kind == 0) tv_fill_rand(b);
    cml_evalue *st = tv_int_list(&e, (uint32_t)g->nd, g->s), *pd = tv_int_list(&e, (uint32_t)g->nd, g->p),
               *dl = tv_int_list(&e, (uint32_t)g->nd, g->d), *op = tv_int_list(&e, (uint32_t)g->nd, g->op);
    cml_status s = CALL(&e, "aten::convolution.out", x, w, b, st, pd, dl, tv_bool(&e, g->transposed), op,
                        tv_int(&e, g->groups), o, o);
    CHECK_MSG(s == CML_OK, "%s", e.err.msg);
    int64_t H2 = g->nd == 2 ? ho : 1, W2 = g->nd == 2 ? wo : ho;
    int64_t total = g->n * g->cout * H2 * W2;
    double *ref = malloc(sizeof(double) * (size_t)total);
    ref_conv(g, T(x), T(w), bias_kind == 0 ? T(b) : NULL, ref, H2, W2);
    if (dt == CML_DTYPE_FLOAT16)
        for (int64_t i = 0; i < total; i++) ref[i] = cml_round_fp16((float)ref[i]);
    char what[160];
    snprintf(what, sizeof what, "conv%dd%s n%lld cin%lld cout%lld g%lld in%lldx%lld k%lldx%lld s%lld p%lld d%lld %s",
             g->nd, g->transposed ? "T" : "", (long long)g->n, (long long)g->cin, (long long)g->cout,
             (long long)g->groups, (long long)g->in[0], (long long)g->in[1], (long long)g->k[0],
             (long long)g->k[1], (long long)g->s[0], (long long)g->p[0], (long long)g->d[0],
             cml_dtype_name(dt));
    double tol = dt == CML_DTYPE_FLOAT16 ? 2e-2 : 1e-4;
    CHECK(tv_check_all(what, T(o), ref, total, tol, tol));
    free(ref);
    tv_free(&e);
}

static void test_conv_random(void) {
    for (int it = 0; it < 120; it++) {
        cgeo g;
        memset(&g, 0, sizeof g);
        g.nd = it % 3 == 0 ? 1 : 2;
        g.transposed = (it % 4) == 1;
        g.n = tv_randint(1, 2);
        int kind = it % 5; /* 0 regular, 1 grouped, 2 depthwise, 3 pointwise, 4 regular */
        g.groups = kind == 1 ? tv_randint(2, 3) : 1;
        int64_t cin_g = tv_randint(1, 4), cout_g = tv_randint(1, 4);
        if (kind == 2) {
            g.groups = tv_randint(2, 6);
            cin_g = 1;
            cout_g = tv_randint(1, 2);
        }
        g.cin = cin_g * g.groups;
        g.cout = cout_g * g.groups;
        for (int i = 0; i < g.nd; i++) {
            g.k[i] = kind == 3 ? 1 : tv_randint(1, 4);
            g.s[i] = tv_randint(1, 3);
            g.d[i] = tv_randint(1, 2);
            g.p[i] = tv_randint(0, 2);
            g.in[i] = tv_randint(1, 11);
            if (g.transposed) {
                g.op[i] = tv_randint(0, (g.s[i] > g.d[i] ? g.s[i] : g.d[i]) - 1);
                if (out_dim(&g, i) < 1) g.p[i] = 0;
            } else {
                while (out_dim(&g, i) < 1) g.in[i]++;
            }
        }
        if (g.nd == 1) {
            g.k[1] = g.s[1] = g.d[1] = 1;
            g.in[1] = 0;
        }
        run_conv(&g, it % 7 == 6 ? CML_DTYPE_FLOAT16 : CML_DTYPE_FLOAT32, it % 3);
    }
}

static void test_conv_args(void) {
    static tenv e; /* static: large, keep it off the stack */
    tv_init(&e);
    cml_evalue *x = TS(&e, CML_DTYPE_FLOAT32, 1, 4, 5, 5), *w = TS(&e, CML_DTYPE_FLOAT32, 6, 2, 3, 3),
               *o = TS(&e, CML_DTYPE_FLOAT32, 1, 6, 3, 3);
    cml_evalue *one = IL(&e, 1), *zero = IL(&e, 0), *f = tv_bool(&e, false);
    /* weight's in-channels * groups must equal the input channels */
    CHECK(PREP(&e, "aten::convolution.out", x, w, tv_null(&e), one, zero, one, f, zero, tv_int(&e, 1), o, o) ==
          CML_ERR_SHAPE);
    CHECK(PREP(&e, "aten::convolution.out", x, w, tv_null(&e), one, zero, one, f, zero, tv_int(&e, 2), o, o) ==
          CML_OK);
    /* single-element lists expand to every spatial dim */
    CHECK(CALL(&e, "aten::convolution.out", x, w, tv_null(&e), one, zero, one, f, zero, tv_int(&e, 2), o, o) ==
          CML_OK);
    /* 3-D conv and float64 are rejected */
    cml_evalue *x5 = TS(&e, CML_DTYPE_FLOAT32, 1, 1, 2, 2, 2), *w5 = TS(&e, CML_DTYPE_FLOAT32, 1, 1, 1, 1, 1);
    CHECK(PREP(&e, "aten::convolution.out", x5, w5, tv_null(&e), one, zero, one, f, zero, tv_int(&e, 1), x5, x5) ==
          CML_ERR_UNSUPPORTED);
    cml_evalue *xd = TS(&e, CML_DTYPE_FLOAT64, 1, 4, 5, 5);
    CHECK(PREP(&e, "aten::convolution.out", xd, w, tv_null(&e), one, zero, one, f, zero, tv_int(&e, 2), o, o) ==
          CML_ERR_UNSUPPORTED);
    CHECK(strstr(e.err.msg, "aten::convolution.out: float64 input not supported") != NULL);
    /* bad stride */
    CHECK(PREP(&e, "aten::convolution.out", x, w, tv_null(&e), zero, zero, one, f, zero, tv_int(&e, 2), o, o) ==
          CML_ERR_INVALID_ARG);
    /* kernel larger than the padded input */
    cml_evalue *xs = TS(&e, CML_DTYPE_FLOAT32, 1, 4, 2, 2);
    CHECK(CALL(&e, "aten::convolution.out", xs, w, tv_null(&e), one, zero, one, f, zero, tv_int(&e, 2), o, o) ==
          CML_ERR_SHAPE);
    /* dynamic batch: the output follows the input within its bound */
    cml_evalue *xdyn = tv_tensor_cap(&e, CML_DTYPE_FLOAT32, 4, S(3, 4, 5, 5), 0, CML_SHAPE_DYNAMIC_BOUND);
    cml_evalue *odyn = tv_tensor_cap(&e, CML_DTYPE_FLOAT32, 4, S(3, 6, 3, 3), 0, CML_SHAPE_DYNAMIC_BOUND);
    tv_fill_rand(xdyn);
    T(xdyn)->sizes[0] = 2;
    CHECK(CALL(&e, "aten::convolution.out", xdyn, w, tv_null(&e), one, zero, one, f, zero, tv_int(&e, 2), odyn,
               odyn) == CML_OK);
    CHECK(tv_shape_is(T(odyn), 4, S(2, 6, 3, 3)));
    tv_free(&e);
}

int main(void) {
    test_conv_random();
    /* again on a thread pool */
    CHECK(cml_threadpool_create(4, NULL, &tv_pool) == CML_OK);
    test_conv_random();
    test_conv_args();
    cml_threadpool_destroy(tv_pool);
    tv_pool = NULL;
    TEST_MAIN_END();
}
