/*
 * Recurrent ops (coremltools iOS15 definitions; iOS17 adds fp16, iOS18 adds
 * gru reset_after / input_bias):
 *
 *   lstm: gates [i, f, o, g] (weight_ih [4H, I], weight_hh [4H, H], bias
 *         [4H] = b_ih + b_hh, peephole [3H] = [p_i, p_f, p_o]):
 *           i = ra(Wi x + Ri h + bi + pi*c)   f = ra(Wf x + Rf h + bf + pf*c)
 *           g = ca(Wg x + Rg h + bg)          c = f*c + i*g (clipped to +-clip)
 *           o = ra(Wo x + Ro h + bo + po*c)   h = o * act(c)
 *         directions forward / reverse / bidirectional (*_back weights).
 *   gru:  gates [r, o, z]: r = ra(Wr x + Rr h + br), z = ra(Wz x + Rz h + bz),
 *         o = act(Wo x + Ro (r*h) + bo), h = (1-z)*o + z*h;
 *         reset_after (iOS18): o = act(Wo x + bi_o + r*(Ro h + bo)), with
 *         input_bias = b_i and bias = b_h (PyTorch's GRU).
 *   rnn:  h = act(W x + R h + b).
 * x [s, b, I]; outputs: all steps [s, b, D*H] (output_sequence) or the last
 * [1, b, D*H], then the final h (and c). A reverse layer writes its steps in
 * processing order; in a bidirectional lstm the backward half is aligned
 * with the input time steps (as PyTorch).
 * Activations: sigmoid, tanh, relu, linear, scaled_tanh (= tanh with its
 * default alpha = beta = 1), hard_sigmoid (min(max(0.2x + 0.5, 0), 1)).
 */
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"
#include "mil/ops.h"

typedef enum rnn_kind { K_LSTM, K_GRU, K_RNN } rnn_kind;
typedef enum act_kind { A_SIGMOID, A_TANH, A_RELU, A_LINEAR, A_HARD_SIGMOID } act_kind;

typedef struct rnn_attr {
    rnn_kind kind;
    int ndir;                /* 1 or 2 */
    bool reverse;            /* single direction, reversed */
    bool output_sequence, reset_after;
    act_kind ra, ca, act;    /* recurrent, cell (lstm), output activations */
    float clip;              /* 0 = none */
    int64_t H, I, G;         /* hidden, input, gates */
} rnn_attr;

static cml_status parse_act(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                            const char *def, act_kind *out) {
    const char *s = NULL;
    CML_TRY(cml_mil_const_string(ctx, node, name, def, &s));
    if (strcmp(s, "sigmoid") == 0) *out = A_SIGMOID;
    else if (strcmp(s, "tanh") == 0 || strcmp(s, "scaled_tanh") == 0) *out = A_TANH;
    else if (strcmp(s, "relu") == 0) *out = A_RELU;
    else if (strcmp(s, "linear") == 0) *out = A_LINEAR;
    else if (strcmp(s, "hard_sigmoid") == 0) *out = A_HARD_SIGMOID;
    else return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unknown %s '%s'", name, s);
    return CML_OK;
}

static void apply_act(act_kind a, float *x, size_t n) {
    switch (a) {
    case A_SIGMOID: cml_k_unary_f32(CML_UN_SIGMOID, x, x, n, 0, 0); break;
    case A_TANH: cml_k_unary_f32(CML_UN_TANH, x, x, n, 0, 0); break;
    case A_RELU: cml_k_unary_f32(CML_UN_RELU, x, x, n, 0, 0); break;
    case A_LINEAR: break;
    case A_HARD_SIGMOID:
        cml_k_unary_f32(CML_UN_LINEAR, x, x, n, 0.2f, 0.5f);
        cml_k_unary_f32(CML_UN_CLAMP, x, x, n, 0.0f, 1.0f);
        break;
    }
}

static cml_status check_w(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                          int64_t rows, int64_t cols, bool required) {
    cml_mil_value *w = cml_mil_in(ctx, node, name);
    if (!w) {
        if (required) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "missing '%s'", name);
        return CML_OK;
    }
    if (!cml_milop_is_float(w->dtype) || cml_mil_bound_numel(w) != rows * cols)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'%s' must be a float [%lld, %lld] tensor",
                            name, (long long)rows, (long long)cols);
    return CML_OK;
}

static cml_status rnn_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *whh = NULL;
    CML_TRY(cml_milop_require_float(ctx, node, "x", &x));
    CML_TRY(cml_milop_require_float(ctx, node, "weight_hh", &whh));
    if (x->rank != 3 || whh->rank != 2)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must be [s, b, I] and weights rank 2");
    rnn_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    memset(a, 0, sizeof *a);
    const char *t = node->def->type;
    a->kind = t[0] == 'l' ? K_LSTM : t[0] == 'g' ? K_GRU : K_RNN;
    a->G = a->kind == K_LSTM ? 4 : a->kind == K_GRU ? 3 : 1;
    a->H = whh->bound[1];
    a->I = x->bound[2];
    a->ndir = 1;
    if (a->H < 1 || whh->bound[0] != a->G * a->H)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "weight_hh must be [%lld*H, H]",
                            (long long)a->G);
    const char *dir = NULL;
    CML_TRY(cml_mil_const_string(ctx, node, "direction", "forward", &dir));
    if (strcmp(dir, "reverse") == 0) a->reverse = true;
    else if (strcmp(dir, "bidirectional") == 0 && a->kind == K_LSTM) a->ndir = 2;
    else if (strcmp(dir, "forward") != 0)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "direction '%s'", dir);
    CML_TRY(cml_mil_const_bool(ctx, node, "output_sequence", true, false, &a->output_sequence));
    if (a->kind == K_RNN) {
        CML_TRY(parse_act(ctx, node, "activation", "tanh", &a->act));
    } else {
        CML_TRY(parse_act(ctx, node, "recurrent_activation", "sigmoid", &a->ra));
        CML_TRY(parse_act(ctx, node, "activation", "tanh", &a->act));
    }
    if (a->kind == K_LSTM) {
        double clip;
        CML_TRY(parse_act(ctx, node, "cell_activation", "tanh", &a->ca));
        CML_TRY(cml_mil_const_float(ctx, node, "clip", true, 0, &clip));
        a->clip = (float)clip;
    }
    if (a->kind == K_GRU) CML_TRY(cml_mil_const_bool(ctx, node, "reset_after", true, false, &a->reset_after));
    int64_t GH = a->G * a->H;
    CML_TRY(check_w(ctx, node, "weight_ih", GH, a->I, true));
    CML_TRY(check_w(ctx, node, "bias", GH, 1, false));
    CML_TRY(check_w(ctx, node, "input_bias", GH, 1, false));
    CML_TRY(check_w(ctx, node, "peephole", 3 * a->H, 1, false));
    if (a->ndir == 2) {
        CML_TRY(check_w(ctx, node, "weight_ih_back", GH, a->I, true));
        CML_TRY(check_w(ctx, node, "weight_hh_back", GH, a->H, true));
        CML_TRY(check_w(ctx, node, "bias_back", GH, 1, false));
        CML_TRY(check_w(ctx, node, "peephole_back", 3 * a->H, 1, false));
    }
    int64_t b = x->bound[1], DH = a->ndir * a->H;
    CML_TRY(check_w(ctx, node, "initial_h", b, DH, true));
    if (a->kind == K_LSTM) CML_TRY(check_w(ctx, node, "initial_c", b, DH, true));
    node->attr = a;
    /* scratch: x projections [s*b, GH], h projections [b, GH], h, c, r*h [b, H] */
    node->scratch = sizeof(float) * (size_t)(x->bound[0] * b * GH + b * GH + 3 * b * a->H);
    int64_t os[3] = {a->output_sequence ? x->bound[0] : 1, b, DH}, hs[2] = {b, DH};
    uint32_t nout = a->kind == K_LSTM ? 3 : 2;
    if (node->noutputs < nout)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "expects %u outputs", nout);
    CML_TRY(cml_milop_out_like(ctx, node, 0, x, 3, os, false));
    for (uint32_t i = 1; i < nout; i++) CML_TRY(cml_milop_out_like(ctx, node, i, x, 2, hs, false));
    return CML_OK;
}

static const float *pdata(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name) {
    cml_mil_value *v = cml_mil_in(ctx, node, name);
    return v ? v->data : NULL;
}

/* One direction over all steps. out_col: column offset of this direction
 * in the [*, b, D*H] outputs. */
static void run_dir(cml_mil_ctx *ctx, const rnn_attr *a, int64_t S, int64_t B, const float *x,
                    const float *wih, const float *whh, const float *bias, const float *ibias,
                    const float *peep, bool backward, bool align_time, int64_t col,
                    float *h, float *c, float *xw, float *hw, float *rh, float *out, float *out_h,
                    float *out_c) {
    int64_t H = a->H, GH = a->G * H, DH = a->ndir * H;
    /* input projections for every step, with the input-side bias */
    const float *xbias = a->reset_after ? ibias : bias;
    cml_k_gemm_f32(ctx->pool, (size_t)(S * B), (size_t)GH, (size_t)a->I, x, (size_t)a->I, wih,
                   (size_t)a->I, true, xbias, xw, (size_t)GH, false);
    for (int64_t k = 0; k < S; k++) {
        int64_t t = backward ? S - 1 - k : k;
        const float *xt = xw + t * B * GH;
        /* hidden projection (gru without reset_after: r and z parts first) */
        cml_k_gemm_f32(ctx->pool, (size_t)B, (size_t)GH, (size_t)H, h, (size_t)H, whh, (size_t)H,
                       true, a->reset_after ? bias : NULL, hw, (size_t)GH, false);
        for (int64_t bi = 0; bi < B; bi++) {
            float *g = hw + bi * GH, *hb = h + bi * H;
            const float *xg = xt + bi * GH;
            for (int64_t j = 0; j < GH; j++)
                if (!(a->kind == K_GRU && j >= H && j < 2 * H)) g[j] += xg[j];
            if (a->kind == K_RNN) {
                apply_act(a->act, g, (size_t)H);
                memcpy(hb, g, sizeof(float) * (size_t)H);
            } else if (a->kind == K_LSTM) {
                float *cb = c + bi * H;
                if (peep)
                    for (int64_t j = 0; j < H; j++) {
                        g[j] += peep[j] * cb[j];
                        g[H + j] += peep[H + j] * cb[j];
                    }
                apply_act(a->ra, g, (size_t)(2 * H));          /* i, f */
                apply_act(a->ca, g + 3 * H, (size_t)H);        /* g (cell) */
                for (int64_t j = 0; j < H; j++) {
                    float cv = g[H + j] * cb[j] + g[j] * g[3 * H + j];
                    if (a->clip > 0) cv = cv < -a->clip ? -a->clip : cv > a->clip ? a->clip : cv;
                    cb[j] = cv;
                }
                if (peep)
                    for (int64_t j = 0; j < H; j++) g[2 * H + j] += peep[2 * H + j] * cb[j];
                apply_act(a->ra, g + 2 * H, (size_t)H);        /* o */
                memcpy(rh + bi * H, cb, sizeof(float) * (size_t)H);
                apply_act(a->act, rh + bi * H, (size_t)H);
                for (int64_t j = 0; j < H; j++) hb[j] = g[2 * H + j] * rh[bi * H + j];
            } else {
                apply_act(a->ra, g, (size_t)H);                 /* r */
                apply_act(a->ra, g + 2 * H, (size_t)H);         /* z */
                float *o = g + H;
                if (a->reset_after) {
                    for (int64_t j = 0; j < H; j++) o[j] = xg[H + j] + g[j] * o[j];
                } else {
                    for (int64_t j = 0; j < H; j++) rh[bi * H + j] = g[j] * hb[j];
                    /* o = Wo x + bo (in xg) + Ro (r*h) */
                    cml_k_gemm_f32(NULL, 1, (size_t)H, (size_t)H, rh + bi * H, (size_t)H,
                                   whh + H * H, (size_t)H, true, xg + H, o, (size_t)H, false);
                }
                apply_act(a->act, o, (size_t)H);
                for (int64_t j = 0; j < H; j++) hb[j] = (1 - g[2 * H + j]) * o[j] + g[2 * H + j] * hb[j];
            }
        }
        if (a->output_sequence) {
            int64_t pos = align_time ? t : k;
            for (int64_t bi = 0; bi < B; bi++)
                memcpy(out + (pos * B + bi) * DH + col, h + bi * H, sizeof(float) * (size_t)H);
        }
    }
    for (int64_t bi = 0; bi < B; bi++) {
        if (!a->output_sequence) memcpy(out + bi * DH + col, h + bi * H, sizeof(float) * (size_t)H);
        memcpy(out_h + bi * DH + col, h + bi * H, sizeof(float) * (size_t)H);
        if (out_c) memcpy(out_c + bi * DH + col, c + bi * H, sizeof(float) * (size_t)H);
    }
}

static cml_status rnn_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const rnn_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x");
    int64_t S = x->shape[0], B = x->shape[1], H = a->H, GH = a->G * H, DH = a->ndir * H;
    if (x->shape[2] != a->I) return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x's input size changed");
    cml_mil_value *out = cml_mil_out(ctx, node, 0), *oh = cml_mil_out(ctx, node, 1);
    cml_mil_value *oc = a->kind == K_LSTM ? cml_mil_out(ctx, node, 2) : NULL;
    int64_t os[3] = {a->output_sequence ? S : 1, B, DH}, hs[2] = {B, DH};
    CML_TRY(cml_mil_resize(ctx, out, 3, os));
    CML_TRY(cml_mil_resize(ctx, oh, 2, hs));
    if (oc) CML_TRY(cml_mil_resize(ctx, oc, 2, hs));
    cml_mil_value *h0 = cml_mil_in(ctx, node, "initial_h"), *c0 = cml_mil_in(ctx, node, "initial_c");
    if (cml_mil_numel(h0) != B * DH || (c0 && cml_mil_numel(c0) != B * DH))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "initial states must be [b, %lld]",
                            (long long)DH);
    void *scr = NULL;
    CML_TRY(cml_milop_scratch(ctx, node, &scr));
    if (B == 0) return CML_OK;
    float *xw = scr, *hw = xw + S * B * GH, *h = hw + B * GH, *c = h + B * H, *rh = c + B * H;
    if (S == 0) {
        memcpy(oh->data, h0->data, sizeof(float) * (size_t)(B * DH));
        if (oc) memcpy(oc->data, c0->data, sizeof(float) * (size_t)(B * DH));
        if (!a->output_sequence) memcpy(out->data, h0->data, sizeof(float) * (size_t)(B * DH));
        return CML_OK;
    }
    for (int d = 0; d < a->ndir; d++) {
        const char *sfx = d ? "_back" : "";
        char n_ih[32], n_hh[32], n_b[32], n_p[32];
        snprintf(n_ih, sizeof n_ih, "weight_ih%s", sfx);
        snprintf(n_hh, sizeof n_hh, "weight_hh%s", sfx);
        snprintf(n_b, sizeof n_b, "bias%s", sfx);
        snprintf(n_p, sizeof n_p, "peephole%s", sfx);
        for (int64_t bi = 0; bi < B; bi++) {
            memcpy(h + bi * H, (const float *)h0->data + bi * DH + d * H, sizeof(float) * (size_t)H);
            if (c0) memcpy(c + bi * H, (const float *)c0->data + bi * DH + d * H, sizeof(float) * (size_t)H);
        }
        bool backward = d == 1 || a->reverse;
        run_dir(ctx, a, S, B, x->data, pdata(ctx, node, n_ih), pdata(ctx, node, n_hh),
                pdata(ctx, node, n_b), pdata(ctx, node, "input_bias"), pdata(ctx, node, n_p),
                backward, d == 1, d * H, h, c, xw, hw, rh, out->data, oh->data,
                oc ? oc->data : NULL);
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_lstm = {"lstm", rnn_infer, rnn_run, false};
const cml_mil_op_def cml_mil_op_gru = {"gru", rnn_infer, rnn_run, false};
const cml_mil_op_def cml_mil_op_rnn = {"rnn", rnn_infer, rnn_run, false};
