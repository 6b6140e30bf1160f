/* Shape and data-movement ops: reshape (0 / -1 rules per opset), transpose,
 * expand_dims, squeeze, flatten2d, shape, reverse, pixel ops, concat
 * (+interleave), split, stack, slice_by_index (masks, negatives, strides),
 * slice_by_size, slice_update, tile, pad, band_part. */
#include "test_mil_ops_util.h"

static float *iota(int64_t n) {
    float *p = malloc(sizeof(float) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) p[i] = (float)i;
    return p;
}

/* one-input op with a few int-vector / scalar params; returns status */
static cml_status run1(tg *t, const char *op, int opset, int32_t r, const int64_t *shape,
                       const float *x) {
    tg_init(t, op, opset);
    tg_param(t, "x", tg_f32(t, "x", r, shape, x, false));
    return CML_OK;
}

static cml_status go(tg *t, uint32_t nout) {
    tg_out(t, nout);
    cml_status st = tg_infer(t);
    if (st == CML_OK) st = tg_run(t);
    return st;
}

static void test_reshape(void) {
    int64_t xs[3] = {2, 3, 4};
    float *x = iota(24);
    struct {
        int opset;
        int k;
        int32_t spec[4];
        int32_t orank;
        int64_t want[4];
        bool ok;
    } cases[] = {
        {15, 2, {-1, 4}, 2, {6, 4}, true},
        {15, 3, {0, -1, 2}, 3, {2, 6, 2}, true},
        {15, 3, {0, 0, 0}, 3, {2, 3, 4}, true},
        {15, 4, {1, 0, -1, 0}, 0, {0}, false},  /* iOS15: 0 needs K == rank */
        {17, 4, {1, 0, -1, 0}, 4, {1, 2, 3, 4}, true}, /* iOS17: right-aligned 0s */
        {17, 2, {-1, -1}, 0, {0}, false},
        {15, 2, {5, 5}, 0, {0}, false},
        {15, 1, {24}, 1, {24}, true},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tg t;
        run1(&t, "reshape", cases[k].opset, 3, xs, x);
        tg_param(&t, "shape", tg_i32s(&t, "shape", cases[k].k, cases[k].spec));
        tg_out(&t, 1);
        cml_status st = tg_infer(&t);
        if (!cases[k].ok) {
            CHECK_MSG(st == CML_ERR_SHAPE, "reshape case %zu should fail", k);
            tg_free(&t);
            continue;
        }
        if (st == CML_OK) st = tg_run(&t);
        CHECK_MSG(st == CML_OK, "reshape %zu: %s", k, t.err.msg);
        CHECK(tg_shape_is(tg_o(&t, 0), cases[k].orank, cases[k].want));
        CHECK(st == CML_OK && memcmp(tg_of(&t, 0), x, sizeof(float) * 24) == 0);
        tg_free(&t);
    }
    /* runtime shape (non-const int32 tensor) and a dynamic x */
    tg t;
    run1(&t, "reshape", 17, 3, xs, x);
    int32_t spec[2] = {4, -1};
    int64_t two = 2;
    cml_mil_vid sv = tg_value(&t, "shape", CML_DTYPE_INT32, false, 1, &two, spec, false);
    tg_param(&t, "shape", sv);
    CHECK(go(&t, 1) == CML_OK);
    int64_t want[2] = {4, 6};
    CHECK(tg_shape_is(tg_o(&t, 0), 2, want));
    tg_free(&t);
    free(x);
}

/* A producer node in the main block of t's graph (for reshape's runtime-shape
 * bounds): one output, params given as (name, vid) pairs. */
typedef struct extra_node {
    cml_mil_param params[4];
    cml_mil_vid pv[4][4];
    cml_mil_vid out;
} extra_node;

static void add_node(tg *t, cml_mil_node *n, extra_node *e, const char *type, int np,
                     const char *const *names, const cml_mil_vid *vids, const int *counts) {
    memset(n, 0, sizeof *n);
    n->type = type;
    n->name = type;
    n->def = cml_mil_op_find(type);
    n->params = e->params;
    n->nparams = (uint32_t)np;
    for (int i = 0, k = 0; i < np; i++) {
        e->params[i].name = names[i];
        e->params[i].vids = e->pv[i];
        e->params[i].count = (uint32_t)counts[i];
        for (int j = 0; j < counts[i]; j++) e->pv[i][j] = vids[k++];
    }
    e->out = t->g.nvalues++;
    t->g.values[e->out].name = type;
    n->outputs = &e->out;
    n->noutputs = 1;
}

static cml_status infer_alloc(tg *t, cml_mil_node *n) {
    CML_TRY(n->def->infer(&t->ctx, n));
    cml_mil_value *v = tg_v(t, n->outputs[0]);
    v->data = tg_keep(t, calloc(1, v->capacity ? v->capacity : 1));
    return CML_OK;
}

static void test_reshape_runtime_bounds(void) {
    /* x [B <= 4 (dynamic), 6, 2]; reshape(x, concat(gather(shape(x), [0]), [12])) */
    tg t;
    tg_init(&t, "reshape", 17);
    int64_t xs[3] = {4, 6, 2};
    float *x = iota(48);
    cml_mil_vid vx = tg_f32(&t, "x", 3, xs, x, false);
    tg_v(&t, vx)->dynamic = true;
    cml_mil_vid vidx = tg_i32s(&t, "idx", 1, (int32_t[]){0}), vax = tg_scalar_i(&t, "axis", 0);
    cml_mil_vid v12 = tg_i32s(&t, "twelve", 1, (int32_t[]){12});
    static cml_mil_node nodes[3];
    static extra_node ex[3];
    add_node(&t, &nodes[0], &ex[0], "shape", 1, (const char *[]){"x"}, &vx, (int[]){1});
    add_node(&t, &nodes[1], &ex[1], "gather", 3, (const char *[]){"x", "indices", "axis"},
             (cml_mil_vid[]){ex[0].out, vidx, vax}, (int[]){1, 1, 1});
    add_node(&t, &nodes[2], &ex[2], "concat", 2, (const char *[]){"values", "axis"},
             (cml_mil_vid[]){ex[1].out, v12, vax}, (int[]){2, 1});
    t.g.main.nodes = nodes;
    t.g.main.nnodes = 3;
    for (int i = 0; i < 3; i++) CHECK_MSG(infer_alloc(&t, &nodes[i]) == CML_OK, "%s", t.err.msg);
    tg_param(&t, "x", vx);
    tg_param(&t, "shape", ex[2].out);
    tg_out(&t, 1);
    CHECK_MSG(tg_infer(&t) == CML_OK, "%s", t.err.msg);
    int64_t bound[2] = {4, 12};
    CHECK(tg_o(&t, 0)->rank == 2 && memcmp(tg_o(&t, 0)->bound, bound, sizeof bound) == 0);
    CHECK(tg_o(&t, 0)->dynamic);
    /* run with B = 3 */
    int64_t s3[3] = {3, 6, 2}, want[2] = {3, 12};
    tg_reshape(&t, vx, 3, s3);
    for (int i = 0; i < 3; i++) CHECK(nodes[i].def->run(&t.ctx, &nodes[i]) == CML_OK);
    CHECK(tg_run(&t) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 2, want));
    CHECK(tg_of(&t, 0)[35] == 35);
    tg_free(&t);
    free(x);
}

static void test_transpose_reverse(void) {
    for (int trial = 0; trial < 12; trial++) {
        int32_t r = tg_randi(1, 5);
        int64_t shape[5], n = 1;
        for (int32_t i = 0; i < r; i++) n *= (shape[i] = tg_randi(1, 4));
        int32_t perm[5];
        for (int32_t i = 0; i < r; i++) perm[i] = i;
        for (int32_t i = r - 1; i > 0; i--) {
            int32_t j = tg_randi(0, i), tmp = perm[i];
            perm[i] = perm[j], perm[j] = tmp;
        }
        int32_t perm_in[5];
        for (int32_t i = 0; i < r; i++) perm_in[i] = tg_randi(0, 1) ? perm[i] - r : perm[i]; /* negatives */
        float *x = iota(n);
        tg t;
        run1(&t, "transpose", 15, r, shape, x);
        tg_param(&t, "perm", tg_i32s(&t, "perm", r, perm_in));
        CHECK(go(&t, 1) == CML_OK);
        int64_t os[5];
        for (int32_t i = 0; i < r; i++) os[i] = shape[perm[i]];
        CHECK(tg_shape_is(tg_o(&t, 0), r, os));
        int bad = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t oi[5], xi[5], off = 0;
            tg_unravel(i, r, os, oi);
            for (int32_t d = 0; d < r; d++) xi[perm[d]] = oi[d];
            for (int32_t d = 0; d < r; d++) off = off * shape[d] + xi[d];
            if (tg_of(&t, 0)[i] != x[off]) bad++;
        }
        CHECK(bad == 0);
        tg_free(&t);
        /* reverse a random subset of axes */
        bool flip[5] = {false};
        int32_t axes[5], na = 0;
        for (int32_t i = 0; i < r; i++)
            if (tg_randi(0, 1)) flip[i] = true, axes[na++] = i - (tg_randi(0, 1) ? r : 0);
        run1(&t, "reverse", 15, r, shape, x);
        if (na || trial % 2) tg_param(&t, "axes", tg_i32s(&t, "axes", na, axes));
        else for (int32_t i = 0; i < r; i++) flip[i] = true;
        CHECK(go(&t, 1) == CML_OK);
        bad = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t xi[5], off = 0;
            tg_unravel(i, r, shape, xi);
            for (int32_t d = 0; d < r; d++) off = off * shape[d] + (flip[d] ? shape[d] - 1 - xi[d] : xi[d]);
            if (tg_of(&t, 0)[i] != x[off]) bad++;
        }
        CHECK(bad == 0);
        tg_free(&t);
        free(x);
    }
}

static void test_views(void) {
    int64_t xs[4] = {2, 1, 3, 1};
    float *x = iota(6);
    tg t;
    /* squeeze: listed non-1 axes are ignored (PyTorch semantics) */
    run1(&t, "squeeze", 15, 4, xs, x);
    tg_param(&t, "axes", tg_i32s(&t, "axes", 2, (int32_t[]){1, 2}));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 3, (int64_t[]){2, 3, 1}));
    tg_free(&t);
    run1(&t, "squeeze", 15, 4, xs, x);
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 2, (int64_t[]){2, 3}));
    tg_free(&t);
    int64_t one = 1;
    float v = 7;
    run1(&t, "squeeze", 15, 1, &one, &v); /* to a rank-0 scalar */
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->rank == 0 && tg_of(&t, 0)[0] == 7);
    tg_free(&t);
    /* expand_dims: negative axes against the output rank */
    run1(&t, "expand_dims", 15, 4, xs, x);
    tg_param(&t, "axes", tg_i32s(&t, "axes", 2, (int32_t[]){-1, 0}));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 6, (int64_t[]){1, 2, 1, 3, 1, 1}));
    tg_free(&t);
    run1(&t, "expand_dims", 15, 4, xs, x);
    tg_param(&t, "axes", tg_i32s(&t, "axes", 1, (int32_t[]){6}));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_INVALID_ARG);
    tg_free(&t);
    /* flatten2d */
    int32_t axes[3] = {1, -1, 0};
    int64_t want[3][2] = {{2, 3}, {6, 1}, {1, 6}};
    for (int k = 0; k < 3; k++) {
        run1(&t, "flatten2d", 15, 4, xs, x);
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", axes[k]));
        CHECK(go(&t, 1) == CML_OK);
        CHECK(tg_shape_is(tg_o(&t, 0), 2, want[k]));
        CHECK(memcmp(tg_of(&t, 0), x, 24) == 0);
        tg_free(&t);
    }
    /* shape */
    run1(&t, "shape", 15, 4, xs, x);
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_o(&t, 0)->dtype == CML_DTYPE_INT32 && tg_o(&t, 0)->shape[0] == 4);
    for (int i = 0; i < 4; i++) CHECK(((int32_t *)tg_o(&t, 0)->data)[i] == xs[i]);
    tg_free(&t);
    free(x);
}

static void test_pixel(void) {
    int64_t N = 2, C = 2, r = 2, H = 3, W = 2;
    int64_t xs[4] = {N, C * r * r, H, W}, n = N * C * r * r * H * W;
    float *x = iota(n);
    const char *ops[2] = {"pixel_shuffle", "depth_to_space"};
    for (int k = 0; k < 2; k++) {
        tg t;
        run1(&t, ops[k], 16, 4, xs, x);
        tg_param(&t, k ? "block_size" : "upscale_factor", tg_scalar_i(&t, "r", (int32_t)r));
        CHECK(go(&t, 1) == CML_OK);
        int bad = 0;
        for (int64_t nn = 0; nn < N; nn++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t h = 0; h < H * r; h++)
                    for (int64_t w = 0; w < W * r; w++) {
                        int64_t i = h % r, j = w % r;
                        int64_t ic = k ? (i * r + j) * C + c : c * r * r + i * r + j;
                        float want = x[((nn * C * r * r + ic) * H + h / r) * W + w / r];
                        if (tg_of(&t, 0)[((nn * C + c) * H * r + h) * W * r + w] != want) bad++;
                    }
        CHECK_MSG(bad == 0, "%s", ops[k]);
        /* inverse op brings it back */
        int64_t ys[4] = {N, C, H * r, W * r};
        float *y = malloc(sizeof(float) * (size_t)n);
        memcpy(y, tg_of(&t, 0), sizeof(float) * (size_t)n);
        tg_free(&t);
        run1(&t, k ? "space_to_depth" : "pixel_unshuffle", 16, 4, ys, y);
        tg_param(&t, k ? "block_size" : "downscale_factor", tg_scalar_i(&t, "r", (int32_t)r));
        CHECK(go(&t, 1) == CML_OK);
        CHECK(tg_shape_is(tg_o(&t, 0), 4, xs));
        CHECK(memcmp(tg_of(&t, 0), x, sizeof(float) * (size_t)n) == 0);
        tg_free(&t);
        free(y);
    }
    free(x);
}

static void test_concat_split_stack(void) {
    for (int trial = 0; trial < 16; trial++) {
        int32_t r = tg_randi(1, 4), axis = tg_randi(-r, r - 1), ax = axis < 0 ? axis + r : axis;
        bool inter = trial % 4 == 3;
        int nv = tg_randi(1, 4);
        int64_t base[4];
        for (int32_t i = 0; i < r; i++) base[i] = tg_randi(1, 3);
        int64_t shapes[4][4], total = 0;
        float *vals[4];
        tg t;
        tg_init(&t, "concat", 15);
        for (int v = 0; v < nv; v++) {
            memcpy(shapes[v], base, sizeof base);
            if (!inter) shapes[v][ax] = tg_randi(0, 3);
            total += shapes[v][ax];
            int64_t n = 1;
            for (int32_t i = 0; i < r; i++) n *= shapes[v][i];
            vals[v] = tg_rand_buf(n);
            tg_param(&t, "values", tg_f32(&t, "v", r, shapes[v], vals[v], false));
        }
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", axis));
        tg_param(&t, "interleave", tg_scalar_b(&t, "il", inter));
        cml_status st = go(&t, 1);
        CHECK_MSG(st == CML_OK, "concat: %s", t.err.msg);
        int64_t os[4];
        memcpy(os, base, sizeof os);
        os[ax] = total;
        CHECK(tg_shape_is(tg_o(&t, 0), r, os));
        int64_t on = 1, bad = 0;
        for (int32_t i = 0; i < r; i++) on *= os[i];
        for (int64_t i = 0; st == CML_OK && i < on; i++) {
            int64_t idx[4], a, v = 0;
            tg_unravel(i, r, os, idx);
            a = idx[ax];
            if (inter) {
                v = a % nv;
                a /= nv;
            } else {
                while (a >= shapes[v][ax]) a -= shapes[v][ax], v++;
            }
            idx[ax] = a;
            int64_t off = 0;
            for (int32_t d = 0; d < r; d++) off = off * shapes[v][d] + idx[d];
            if (tg_of(&t, 0)[i] != vals[v][off]) bad++;
        }
        CHECK(bad == 0);
        /* split it back (split_sizes, or num_splits when interleaving equal parts) */
        float *cat = malloc(sizeof(float) * (size_t)(on ? on : 1));
        memcpy(cat, tg_of(&t, 0), sizeof(float) * (size_t)on);
        tg_free(&t);
        if (!inter) {
            tg_init(&t, "split", 15);
            tg_param(&t, "x", tg_f32(&t, "x", r, os, cat, false));
            int32_t sizes[4];
            for (int v = 0; v < nv; v++) sizes[v] = (int32_t)shapes[v][ax];
            tg_param(&t, "split_sizes", tg_i32s(&t, "ss", nv, sizes));
            tg_param(&t, "axis", tg_scalar_i(&t, "axis", axis));
            st = go(&t, (uint32_t)nv);
            CHECK_MSG(st == CML_OK, "split: %s", t.err.msg);
            for (int v = 0; st == CML_OK && v < nv; v++) {
                int64_t n = 1;
                for (int32_t i = 0; i < r; i++) n *= shapes[v][i];
                CHECK(tg_shape_is(tg_o(&t, (uint32_t)v), r, shapes[v]));
                CHECK(memcmp(tg_of(&t, (uint32_t)v), vals[v], sizeof(float) * (size_t)n) == 0);
            }
            tg_free(&t);
        }
        free(cat);
        /* stack equal-shaped values */
        int32_t saxis = tg_randi(-(r + 1), r), sax = saxis < 0 ? saxis + r + 1 : saxis;
        tg_init(&t, "stack", 15);
        int64_t n0 = 1;
        for (int32_t i = 0; i < r; i++) n0 *= base[i];
        float *sv[4];
        for (int v = 0; v < nv; v++) {
            sv[v] = tg_rand_buf(n0);
            tg_param(&t, "values", tg_f32(&t, "v", r, base, sv[v], false));
        }
        tg_param(&t, "axis", tg_scalar_i(&t, "axis", saxis));
        CHECK(go(&t, 1) == CML_OK);
        int64_t ss[5];
        for (int32_t i = 0, k = 0; i <= r; i++) ss[i] = i == sax ? nv : base[k++];
        CHECK(tg_shape_is(tg_o(&t, 0), r + 1, ss));
        bad = 0;
        for (int64_t i = 0; i < n0 * nv; i++) {
            int64_t idx[5], off = 0, v;
            tg_unravel(i, r + 1, ss, idx);
            v = idx[sax];
            for (int32_t d = 0, k = 0; d <= r; d++)
                if (d != sax) off = off * base[k++] + idx[d];
            if (tg_of(&t, 0)[i] != sv[v][off]) bad++;
        }
        CHECK(bad == 0);
        tg_free(&t);
        for (int v = 0; v < nv; v++) free(vals[v]), free(sv[v]);
    }
    /* num_splits must divide the dim */
    int64_t xs[2] = {2, 5};
    float *x = iota(10);
    tg t;
    run1(&t, "split", 15, 2, xs, x);
    tg_param(&t, "num_splits", tg_scalar_i(&t, "n", 2));
    tg_param(&t, "axis", tg_scalar_i(&t, "axis", 1));
    tg_out(&t, 2);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    tg_free(&t);
    run1(&t, "split", 15, 2, xs, x);
    tg_param(&t, "num_splits", tg_scalar_i(&t, "n", 2));
    tg_param(&t, "axis", tg_scalar_i(&t, "axis", 0));
    CHECK(go(&t, 2) == CML_OK);
    CHECK(tg_of(&t, 1)[0] == 5);
    tg_free(&t);
    free(x);
}

/* Python slice(b, e, s).indices(D) length and start */
static void py_slice(int64_t D, int64_t b, int64_t e, int64_t s, bool bm, bool em, int64_t *start,
                     int64_t *len) {
    if (s > 0) {
        b = bm ? 0 : b < 0 ? (b + D < 0 ? 0 : b + D) : (b > D ? D : b);
        e = em ? D : e < 0 ? (e + D < 0 ? 0 : e + D) : (e > D ? D : e);
        *len = e > b ? (e - b + s - 1) / s : 0;
    } else {
        b = bm ? D - 1 : b < 0 ? (b + D < -1 ? -1 : b + D) : (b > D - 1 ? D - 1 : b);
        e = em ? -1 : e < 0 ? (e + D < -1 ? -1 : e + D) : (e > D - 1 ? D - 1 : e);
        *len = b > e ? (b - e - s - 1) / (-s) : 0;
    }
    *start = b;
}

static void test_slice_by_index(void) {
    for (int trial = 0; trial < 60; trial++) {
        int32_t r = tg_randi(1, 4);
        int64_t shape[4], n = 1;
        for (int32_t i = 0; i < r; i++) n *= (shape[i] = tg_randi(1, 6));
        int32_t b[4], e[4], s[4];
        uint8_t bm[4], em[4], sq[4];
        int64_t start[4], len[4], os[4];
        int32_t orank = 0;
        for (int32_t i = 0; i < r; i++) {
            b[i] = tg_randi(-8, 8), e[i] = tg_randi(-8, 8);
            s[i] = tg_randi(0, 3) ? tg_randi(1, 3) : -tg_randi(1, 3);
            bm[i] = tg_randi(0, 3) == 0, em[i] = tg_randi(0, 3) == 0;
            sq[i] = tg_randi(0, 5) == 0;
            if (sq[i]) b[i] = tg_randi((int)-shape[i], (int)shape[i] - 1);
            if (sq[i]) start[i] = b[i] < 0 ? b[i] + shape[i] : b[i], len[i] = 1;
            else py_slice(shape[i], b[i], e[i], s[i], bm[i], em[i], &start[i], &len[i]);
            if (!sq[i]) os[orank++] = len[i];
        }
        float *x = iota(n);
        bool runtime = trial % 3 == 0;
        int64_t rr = r;
        tg t;
        run1(&t, "slice_by_index", 15, r, shape, x);
        tg_param(&t, "begin", tg_value(&t, "b", CML_DTYPE_INT32, false, 1, &rr, b, !runtime));
        tg_param(&t, "end", tg_value(&t, "e", CML_DTYPE_INT32, false, 1, &rr, e, !runtime));
        tg_param(&t, "stride", tg_i32s(&t, "s", r, s));
        tg_param(&t, "begin_mask", tg_bools(&t, "bm", r, bm));
        tg_param(&t, "end_mask", tg_bools(&t, "em", r, em));
        tg_param(&t, "squeeze_mask", tg_bools(&t, "sq", r, sq));
        cml_status st = go(&t, 1);
        CHECK_MSG(st == CML_OK, "slice_by_index: %s", t.err.msg);
        CHECK(st != CML_OK || tg_shape_is(tg_o(&t, 0), orank, os));
        int64_t on = 1, bad = 0;
        for (int32_t i = 0; i < r; i++) on *= len[i];
        for (int64_t i = 0; st == CML_OK && i < on; i++) {
            int64_t idx[4], off = 0;
            tg_unravel(i, r, len, idx);
            for (int32_t d = 0; d < r; d++) off = off * shape[d] + start[d] + idx[d] * (sq[d] ? 1 : s[d]);
            if (tg_of(&t, 0)[i] != x[off]) bad++;
        }
        CHECK(bad == 0);
        tg_free(&t);
        free(x);
    }
    /* squeeze_mask with an out-of-range begin is a clean error */
    int64_t xs[1] = {3};
    float x[3] = {1, 2, 3};
    tg t;
    run1(&t, "slice_by_index", 15, 1, xs, x);
    tg_param(&t, "begin", tg_i32s(&t, "b", 1, (int32_t[]){3}));
    tg_param(&t, "end", tg_i32s(&t, "e", 1, (int32_t[]){4}));
    tg_param(&t, "squeeze_mask", tg_bools(&t, "sq", 1, (uint8_t[]){1}));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    tg_free(&t);
}

static void test_slice_by_size_update(void) {
    int64_t xs[3] = {3, 4, 5}, n = 60;
    float *x = iota(n);
    tg t;
    run1(&t, "slice_by_size", 15, 3, xs, x);
    tg_param(&t, "begin", tg_i32s(&t, "b", 3, (int32_t[]){1, 0, 2}));
    tg_param(&t, "size", tg_i32s(&t, "s", 3, (int32_t[]){2, -1, 3}));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 3, (int64_t[]){2, 4, 3}));
    CHECK(tg_of(&t, 0)[0] == 22 && tg_of(&t, 0)[23] == 59);
    tg_free(&t);
    run1(&t, "slice_by_size", 15, 3, xs, x);
    tg_param(&t, "begin", tg_i32s(&t, "b", 3, (int32_t[]){2, 0, 0}));
    tg_param(&t, "size", tg_i32s(&t, "s", 3, (int32_t[]){2, 1, 1}));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_ERR_SHAPE);
    tg_free(&t);
    /* slice_update: x[1:3, ::2, 4] = update (squeezed last dim) */
    int64_t us[2] = {2, 2};
    float upd[4] = {-1, -2, -3, -4};
    tg_init(&t, "slice_update", 18);
    tg_param(&t, "x", tg_f32(&t, "x", 3, xs, x, false));
    tg_param(&t, "update", tg_f32(&t, "u", 2, us, upd, false));
    tg_param(&t, "begin", tg_i32s(&t, "b", 3, (int32_t[]){1, 0, 4}));
    tg_param(&t, "end", tg_i32s(&t, "e", 3, (int32_t[]){3, 4, 5}));
    tg_param(&t, "stride", tg_i32s(&t, "s", 3, (int32_t[]){1, 2, 1}));
    tg_param(&t, "squeeze_mask", tg_bools(&t, "sq", 3, (uint8_t[]){0, 0, 1}));
    cml_status st = go(&t, 1);
    CHECK_MSG(st == CML_OK, "slice_update: %s", t.err.msg);
    int bad = 0;
    for (int64_t i = 0; st == CML_OK && i < n; i++) {
        int64_t a = i / 20, b = (i / 5) % 4, c = i % 5;
        float want = x[i];
        if (a >= 1 && a < 3 && b % 2 == 0 && c == 4) want = upd[(a - 1) * 2 + b / 2];
        if (tg_of(&t, 0)[i] != want) bad++;
    }
    CHECK(bad == 0);
    tg_free(&t);
    free(x);
}

static void test_tile_pad_band(void) {
    int64_t xs[2] = {2, 3};
    float x[6] = {1, 2, 3, 4, 5, 6};
    tg t;
    run1(&t, "tile", 15, 2, xs, x);
    tg_param(&t, "reps", tg_i32s(&t, "reps", 2, (int32_t[]){2, 3}));
    CHECK(go(&t, 1) == CML_OK);
    CHECK(tg_shape_is(tg_o(&t, 0), 2, (int64_t[]){4, 9}));
    int bad = 0;
    for (int64_t i = 0; i < 36; i++)
        if (tg_of(&t, 0)[i] != x[((i / 9) % 2) * 3 + (i % 9) % 3]) bad++;
    CHECK(bad == 0);
    tg_free(&t);
    /* pad: constant / reflect / replicate on the last dim (+ first dim constant) */
    struct {
        const char *mode;
        int np;
        int32_t pad[4];
        int64_t os[2];
        float row0[7];
    } pc[] = {
        {"constant", 2, {2, 2}, {2, 7}, {9, 9, 1, 2, 3, 9, 9}},
        {"reflect", 2, {2, 2}, {2, 7}, {3, 2, 1, 2, 3, 2, 1}},
        {"replicate", 2, {2, 2}, {2, 7}, {1, 1, 1, 2, 3, 3, 3}},
        {"constant", 4, {1, 0, 0, 1}, {3, 4}, {9, 9, 9, 9}},
    };
    for (int k = 0; k < 4; k++) {
        run1(&t, "pad", 15, 2, xs, x);
        tg_param(&t, "pad", tg_i32s(&t, "pad", pc[k].np, pc[k].pad));
        tg_param(&t, "mode", tg_str(&t, "mode", pc[k].mode));
        tg_param(&t, "constant_val", tg_scalar_f(&t, "cv", 9));
        cml_status st = go(&t, 1);
        CHECK_MSG(st == CML_OK, "pad %s: %s", pc[k].mode, t.err.msg);
        CHECK(tg_shape_is(tg_o(&t, 0), 2, pc[k].os));
        for (int i = 0; st == CML_OK && i < pc[k].os[1]; i++)
            CHECK_MSG(tg_of(&t, 0)[i] == pc[k].row0[i], "pad %s [%d] = %g", pc[k].mode, i, tg_of(&t, 0)[i]);
        if (k == 3) CHECK(tg_of(&t, 0)[4] == 1 && tg_of(&t, 0)[7] == 9);
        tg_free(&t);
    }
    /* reflect needs pad < dim */
    run1(&t, "pad", 15, 2, xs, x);
    tg_param(&t, "pad", tg_i32s(&t, "pad", 2, (int32_t[]){3, 0}));
    tg_param(&t, "mode", tg_str(&t, "mode", "reflect"));
    tg_out(&t, 1);
    CHECK(tg_infer(&t) == CML_OK);
    CHECK(tg_run(&t) == CML_ERR_SHAPE);
    tg_free(&t);
    /* band_part: causal (lower = -1, upper = 0) and a band */
    int64_t bs[3] = {2, 4, 5};
    float *y = iota(40);
    int32_t lu[3][2] = {{-1, 0}, {1, 2}, {0, -1}};
    for (int k = 0; k < 3; k++) {
        run1(&t, "band_part", 15, 3, bs, y);
        tg_param(&t, "lower", tg_scalar_i(&t, "l", lu[k][0]));
        tg_param(&t, "upper", tg_scalar_i(&t, "u", lu[k][1]));
        CHECK(go(&t, 1) == CML_OK);
        bad = 0;
        for (int64_t i = 0; i < 40; i++) {
            int64_t r = (i / 5) % 4, c = i % 5;
            bool keep = (lu[k][0] < 0 || r - c <= lu[k][0]) && (lu[k][1] < 0 || c - r <= lu[k][1]);
            if (tg_of(&t, 0)[i] != (keep ? y[i] : 0)) bad++;
        }
        CHECK(bad == 0);
        tg_free(&t);
    }
    /* band_part on bool (fill(True) causal mask) */
    uint8_t ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    int64_t s33[2] = {3, 3};
    tg_init(&t, "band_part", 18);
    tg_param(&t, "x", tg_value(&t, "x", CML_DTYPE_BOOL, false, 2, s33, ones, false));
    tg_param(&t, "lower", tg_scalar_i(&t, "l", -1));
    tg_param(&t, "upper", tg_scalar_i(&t, "u", 0));
    CHECK(go(&t, 1) == CML_OK);
    uint8_t want[9] = {1, 0, 0, 1, 1, 0, 1, 1, 1};
    CHECK(memcmp(tg_o(&t, 0)->data, want, 9) == 0);
    tg_free(&t);
    free(y);
}

int main(void) {
    test_reshape();
    test_reshape_runtime_bounds();
    test_transpose_reverse();
    test_views();
    test_pixel();
    test_concat_split_stack();
    test_slice_by_index();
    test_slice_by_size_update();
    test_tile_pad_band();
    TEST_MAIN_END();
}
