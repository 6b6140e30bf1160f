/*
 * Less common data-movement ops: crop, sliding_windows, reverse_sequence,
 * space_to_batch, batch_to_space (TensorFlow semantics on NCHW: the block
 * offset is the major part of the output batch index,
 * b' = (i_h * block_w + i_w) * N + b).
 */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "mil/ops.h"

static size_t esz(const cml_mil_value *v) { return cml_dtype_size(v->dtype); }

/* A const integer tensor of exactly n elements, any rank ([2, 2] paddings). */
static cml_status read_pair(cml_mil_ctx *ctx, const cml_mil_node *node, const char *name,
                            int64_t n, int64_t *out) {
    cml_mil_value *v = cml_mil_in(ctx, node, name);
    if (!v || v->kind != CML_MIL_KIND_TENSOR || !cml_milop_is_int(v->dtype) ||
        !cml_milop_known(v) || cml_mil_numel(v) != n)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "'%s' must be %lld const integers",
                            name, (long long)n);
    for (int64_t i = 0; i < n; i++) {
        out[i] = cml_milop_get_int(v->data, v->dtype, i);
        if (out[i] < 0) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "negative '%s'", name);
    }
    return CML_OK;
}

/* ---- crop(x, crop_height [top, bottom], crop_width [left, right]) ----------------- */

static bool crop_shape(const int64_t *c, int32_t r, const int64_t *in, int64_t *out) {
    memcpy(out, in, sizeof(int64_t) * (size_t)r);
    out[r - 2] = in[r - 2] - c[0] - c[1];
    out[r - 1] = in[r - 1] - c[2] - c[3];
    return out[r - 2] >= 0 && out[r - 1] >= 0;
}

static cml_status crop_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    if (x->rank < 2 || esz(x) == 0)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must have rank >= 2");
    int64_t *c = cml_mil_alloc(ctx, sizeof(int64_t) * 4);
    if (!c) return CML_ERR_NOMEM;
    CML_TRY(read_pair(ctx, node, "crop_height", 2, c));
    CML_TRY(read_pair(ctx, node, "crop_width", 2, c + 2));
    node->attr = c;
    int64_t shape[CML_MAX_DIMS];
    if (!crop_shape(c, x->rank, x->bound, shape))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "crop is larger than x");
    return cml_milop_out_like(ctx, node, 0, x, x->rank, shape, false);
}

static cml_status crop_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const int64_t *c = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int64_t shape[CML_MAX_DIMS], src[CML_MAX_DIMS], dst[CML_MAX_DIMS];
    int32_t r = x->rank;
    if (!crop_shape(c, r, x->shape, shape))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "crop is larger than x");
    CML_TRY(cml_mil_resize(ctx, out, r, shape));
    if (cml_milop_prod(shape, 0, r) == 0) return CML_OK;
    cml_milop_strides(r, x->shape, src);
    cml_milop_strides(r, shape, dst);
    int64_t off = c[0] * src[r - 2] + c[2] * src[r - 1];
    cml_k_copy_strided(esz(x), r, shape, (const uint8_t *)x->data + off * (int64_t)esz(x), src,
                       out->data, dst);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_crop = {"crop", crop_infer, crop_run, false};

/* ---- sliding_windows(x, axis, size, stride = 1) -----------------------------------
 * out[..., i, j, ...] = x[..., i * stride + j, ...]; the window dim follows axis. */

typedef struct sw_attr {
    int32_t axis;
    int64_t size, stride;
} sw_attr;

static bool sw_shape(const sw_attr *a, int32_t r, const int64_t *in, int64_t *out) {
    if (in[a->axis] < a->size) return false;
    for (int32_t i = 0, k = 0; i < r; i++) {
        if (i == a->axis) {
            out[k++] = (in[i] - a->size) / a->stride + 1;
            out[k++] = a->size;
        } else {
            out[k++] = in[i];
        }
    }
    return true;
}

static cml_status sw_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    sw_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    int64_t axis;
    CML_TRY(cml_mil_const_int(ctx, node, "axis", false, 0, &axis));
    CML_TRY(cml_mil_const_int(ctx, node, "size", false, 0, &a->size));
    CML_TRY(cml_mil_const_int(ctx, node, "stride", true, 1, &a->stride));
    if (esz(x) == 0 || x->rank + 1 > CML_MAX_DIMS || !cml_milop_axis(axis, x->rank, &a->axis) ||
        a->size < 1 || a->stride < 1)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "bad axis, size or stride");
    node->attr = a;
    int64_t shape[CML_MAX_DIMS];
    if (!sw_shape(a, x->rank, x->bound, shape))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "window larger than the axis");
    return cml_milop_out_like(ctx, node, 0, x, x->rank + 1, shape, false);
}

static cml_status sw_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const sw_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int32_t r = x->rank;
    int64_t shape[CML_MAX_DIMS], xs[CML_MAX_DIMS], src[CML_MAX_DIMS], dst[CML_MAX_DIMS];
    if (!sw_shape(a, r, x->shape, shape))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "window larger than the axis");
    CML_TRY(cml_mil_resize(ctx, out, r + 1, shape));
    if (cml_milop_prod(shape, 0, r + 1) == 0) return CML_OK;
    cml_milop_strides(r, x->shape, xs);
    for (int32_t i = 0, k = 0; i < r; i++) {
        if (i == a->axis) {
            src[k++] = xs[i] * a->stride;
            src[k++] = xs[i];
        } else {
            src[k++] = xs[i];
        }
    }
    cml_milop_strides(r + 1, shape, dst);
    cml_k_copy_strided(esz(x), r + 1, shape, x->data, src, out->data, dst);
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_sliding_windows = {"sliding_windows", sw_infer, sw_run, false};

/* ---- reverse_sequence(x, lengths, seq_axis = 0, batch_axis = 0) --------------------
 * For each b along batch_axis, the first lengths[b] elements along seq_axis
 * are reversed; the rest are copied. */

typedef struct rs_attr {
    int32_t seq, batch;
} rs_attr;

static cml_status revseq_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *l = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(cml_mil_require(ctx, node, "lengths", &l));
    rs_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    int64_t sa, ba;
    CML_TRY(cml_mil_const_int(ctx, node, "seq_axis", true, 0, &sa));
    CML_TRY(cml_mil_const_int(ctx, node, "batch_axis", true, 0, &ba));
    if (esz(x) == 0 || !cml_milop_is_int(l->dtype) || !cml_milop_axis(sa, x->rank, &a->seq) ||
        !cml_milop_axis(ba, x->rank, &a->batch))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "bad lengths or axes");
    node->attr = a;
    return cml_milop_out_like(ctx, node, 0, x, x->rank, x->bound, false);
}

static cml_status revseq_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const rs_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *l = cml_mil_in(ctx, node, "lengths");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    int32_t r = x->rank;
    int64_t B = x->shape[a->batch], S = x->shape[a->seq];
    if (cml_mil_numel(l) != B)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "lengths must have %lld entries", (long long)B);
    for (int64_t b = 0; b < B; b++) {
        int64_t len = cml_milop_get_int(l->data, l->dtype, b);
        if (len < 0 || len > S)
            return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "length %lld out of [0, %lld]",
                                (long long)len, (long long)S);
    }
    CML_TRY(cml_mil_resize(ctx, out, r, x->shape));
    int64_t n = cml_mil_numel(x), st[CML_MAX_DIMS], idx[CML_MAX_DIMS] = {0};
    cml_milop_strides(r, x->shape, st);
    size_t es = esz(x);
    for (int64_t i = 0; i < n; i++) {
        int64_t len = cml_milop_get_int(l->data, l->dtype, idx[a->batch]);
        int64_t s = idx[a->seq], off = i;
        if (s < len) off += (len - 1 - 2 * s) * st[a->seq];
        memcpy((uint8_t *)out->data + (size_t)i * es, (const uint8_t *)x->data + (size_t)off * es, es);
        for (int32_t d = r - 1; d >= 0; d--) {
            if (++idx[d] < x->shape[d]) break;
            idx[d] = 0;
        }
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_reverse_sequence = {"reverse_sequence", revseq_infer, revseq_run,
                                                    false};

/* ---- space_to_batch(x, block_shape [2], paddings [2, 2]) / batch_to_space(crops) ---- */

typedef struct s2b_attr {
    bool to_batch;
    int64_t bh, bw, p[4]; /* top, bottom, left, right (paddings or crops) */
} s2b_attr;

static bool s2b_shape(const s2b_attr *a, const int64_t *in, int64_t *out) {
    int64_t bb = a->bh * a->bw;
    out[1] = in[1];
    if (a->to_batch) {
        int64_t H = in[2] + a->p[0] + a->p[1], W = in[3] + a->p[2] + a->p[3];
        if (H % a->bh || W % a->bw) return false;
        out[0] = in[0] * bb, out[2] = H / a->bh, out[3] = W / a->bw;
    } else {
        if (in[0] % bb) return false;
        out[0] = in[0] / bb;
        out[2] = in[2] * a->bh - a->p[0] - a->p[1];
        out[3] = in[3] * a->bw - a->p[2] - a->p[3];
        if (out[2] < 0 || out[3] < 0) return false;
    }
    return true;
}

static cml_status s2b_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    if (x->rank != 4 || esz(x) == 0)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must be [N, C, H, W]");
    s2b_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    a->to_batch = strcmp(node->def->type, "space_to_batch") == 0;
    int64_t b[2] = {1, 1};
    CML_TRY(read_pair(ctx, node, "block_shape", 2, b));
    CML_TRY(read_pair(ctx, node, a->to_batch ? "paddings" : "crops", 4, a->p));
    if (b[0] < 1 || b[1] < 1)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "block_shape must be >= 1");
    a->bh = b[0], a->bw = b[1];
    node->attr = a;
    int64_t shape[4];
    if (!s2b_shape(a, x->bound, shape))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "dims do not divide by block_shape");
    return cml_milop_out_like(ctx, node, 0, x, 4, shape, false);
}

static cml_status s2b_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const s2b_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int64_t o[4];
    if (!s2b_shape(a, x->shape, o))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "dims do not divide by block_shape");
    CML_TRY(cml_mil_resize(ctx, out, 4, o));
    /* walk the space-side tensor: padded/uncropped coordinates (h, w) of batch b */
    const int64_t N = a->to_batch ? x->shape[0] : o[0], C = o[1];
    const int64_t Hs = a->to_batch ? x->shape[2] : o[2], Ws = a->to_batch ? x->shape[3] : o[3];
    const int64_t Hb = a->to_batch ? o[2] : x->shape[2], Wb = a->to_batch ? o[3] : x->shape[3];
    size_t es = esz(x);
    const uint8_t *src = x->data;
    uint8_t *dst = out->data;
    for (int64_t b = 0; b < N; b++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t hh = 0; hh < Hb * a->bh; hh++)
                for (int64_t ww = 0; ww < Wb * a->bw; ww++) {
                    int64_t ih = hh / a->bh, iw = ww / a->bw, oh = hh % a->bh, ow = ww % a->bw;
                    int64_t batch = (oh * a->bw + ow) * N + b;
                    size_t boff = (size_t)(((batch * C + c) * Hb + ih) * Wb + iw) * es;
                    int64_t h = hh - a->p[0], w = ww - a->p[2];
                    bool inside = h >= 0 && h < Hs && w >= 0 && w < Ws;
                    size_t soff = inside ? (size_t)(((b * C + c) * Hs + h) * Ws + w) * es : 0;
                    if (a->to_batch) {
                        if (inside) memcpy(dst + boff, src + soff, es);
                        else memset(dst + boff, 0, es);
                    } else if (inside) {
                        memcpy(dst + soff, src + boff, es);
                    }
                }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_space_to_batch = {"space_to_batch", s2b_infer, s2b_run, false};
const cml_mil_op_def cml_mil_op_batch_to_space = {"batch_to_space", s2b_infer, s2b_run, false};

/* ---- non_maximum_suppression ---------------------------------------------------------
 * iOS15: (boxes [n, B, 4], scores [n, B, K], iou_threshold, score_threshold,
 *         max_boxes, per_class_suppression = False)
 *         -> boxes [n, M, 4], scores [n, M, K], indices [n, M], counts [n]
 * iOS17: (boxes [n, 4, B], scores [n, K, B], iou_threshold, max_boxes,
 *         per_class_suppression = False)  -- no score threshold, boxes last
 *         -> boxes [n, 4, M], scores [n, K, M], indices [n, M]
 * The form follows the parameters (score_threshold present or not) and the
 * output count. Boxes are (x_center, y_center, width, height). Each box ranks
 * by its best class score (ties: lower index first); iOS15 drops boxes
 * scoring <= score_threshold; greedily keeps a box unless it overlaps a kept
 * one (of the same best class when per_class_suppression) with IoU >
 * iou_threshold. Unused slots are 0 (indices -1). */

typedef struct nms_attr {
    float iou, score;
    int64_t max_boxes;
    bool per_class;
    bool ios17;    /* boxes-last layout, no threshold, 3 outputs */
} nms_attr;

/* Element strides of one batch of boxes / scores: coordinate or class c of
 * box i is at c * cs + i * bs (iOS15: cs 1, bs 4 or K; iOS17: cs N, bs 1). */
typedef struct nms_layout {
    int64_t box_cs, box_bs, sc_cs, sc_bs;
} nms_layout;

static nms_layout nms_layout_of(bool ios17, int64_t nboxes, int64_t K) {
    nms_layout l;
    if (ios17) l = (nms_layout){nboxes, 1, nboxes, 1};
    else l = (nms_layout){1, 4, 1, K};
    return l;
}

static cml_status nms_shapes(cml_mil_ctx *ctx, const cml_mil_node *node, const nms_attr *a,
                             const cml_mil_value *b, const cml_mil_value *s, const int64_t *bs,
                             const int64_t *ss, int64_t *n, int64_t *B, int64_t *K) {
    int64_t bc = a->ios17 ? bs[1] : bs[2], bb = a->ios17 ? bs[2] : bs[1];
    int64_t sk = a->ios17 ? ss[1] : ss[2], sb = a->ios17 ? ss[2] : ss[1];
    if (b->rank != 3 || s->rank != 3 || bc != 4 || ss[0] != bs[0] || sb != bb)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "%s expected",
                            a->ios17 ? "boxes [n, 4, B] and scores [n, K, B]"
                                     : "boxes [n, B, 4] and scores [n, B, K]");
    *n = bs[0], *B = bb, *K = sk;
    return CML_OK;
}

static cml_status nms_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *b = NULL, *s = NULL;
    CML_TRY(cml_milop_require_float(ctx, node, "boxes", &b));
    CML_TRY(cml_milop_require_float(ctx, node, "scores", &s));
    nms_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    memset(a, 0, sizeof *a);
    a->ios17 = cml_mil_in(ctx, node, "score_threshold") == NULL;
    if (node->noutputs != (a->ios17 ? 3u : 4u))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "expects %d outputs (%s form), got %u",
                            a->ios17 ? 3 : 4, a->ios17 ? "iOS17, no score_threshold" : "iOS15",
                            node->noutputs);
    int64_t n = 0, B = 0, K = 0;
    CML_TRY(nms_shapes(ctx, node, a, b, s, b->bound, s->bound, &n, &B, &K));
    double iou, sc = 0;
    CML_TRY(cml_mil_const_float(ctx, node, "iou_threshold", false, 0, &iou));
    if (!a->ios17) CML_TRY(cml_mil_const_float(ctx, node, "score_threshold", false, 0, &sc));
    CML_TRY(cml_mil_const_int(ctx, node, "max_boxes", false, 0, &a->max_boxes));
    CML_TRY(cml_mil_const_bool(ctx, node, "per_class_suppression", true, false, &a->per_class));
    if (a->max_boxes < 0 || a->max_boxes > ((int64_t)1 << 31))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "max_boxes %lld out of range",
                            (long long)a->max_boxes);
    a->iou = (float)iou, a->score = (float)sc;
    node->attr = a;
    int64_t M = a->max_boxes;
    node->scratch = (size_t)B * (sizeof(double) + 3 * sizeof(int64_t));
    int64_t s0[3] = {n, M, 4}, s1[3] = {n, M, K}, s2[2] = {n, M};
    if (a->ios17) s0[1] = 4, s0[2] = M, s1[1] = K, s1[2] = M;
    bool dyn = b->dynamic || s->dynamic;
    CML_TRY(cml_milop_out_like(ctx, node, 0, b, 3, s0, dyn));
    CML_TRY(cml_milop_out_like(ctx, node, 1, s, 3, s1, dyn));
    CML_TRY(cml_mil_set_output(ctx, node, 2, CML_DTYPE_INT32, false, 2, s2, dyn));
    if (a->ios17) return CML_OK;
    return cml_mil_set_output(ctx, node, 3, CML_DTYPE_INT32, false, 1, &n, dyn);
}

static float nms_iou(const float *a, const float *b) {
    float ax0 = a[0] - a[2] / 2, ax1 = a[0] + a[2] / 2, ay0 = a[1] - a[3] / 2, ay1 = a[1] + a[3] / 2;
    float bx0 = b[0] - b[2] / 2, bx1 = b[0] + b[2] / 2, by0 = b[1] - b[3] / 2, by1 = b[1] + b[3] / 2;
    float iw = fminf(ax1, bx1) - fmaxf(ax0, bx0), ih = fminf(ay1, by1) - fmaxf(ay0, by0);
    if (iw <= 0 || ih <= 0) return 0;
    float inter = iw * ih, uni = a[2] * a[3] + b[2] * b[3] - inter;
    return uni > 0 ? inter / uni : 0;
}

static void nms_box(const float *bd, const nms_layout *l, int64_t i, float *box) {
    for (int c = 0; c < 4; c++) box[c] = bd[c * l->box_cs + i * l->box_bs];
}

/* Stable merge sort of order[0..cnt) by best[], descending (tmp: cnt). */
static void nms_sort(const double *best, int64_t *order, int64_t *tmp, int64_t cnt) {
    for (int64_t w = 1; w < cnt; w *= 2) {
        for (int64_t lo = 0; lo < cnt; lo += 2 * w) {
            int64_t mid = lo + w < cnt ? lo + w : cnt, hi = lo + 2 * w < cnt ? lo + 2 * w : cnt;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = best[order[j]] > best[order[i]] ? order[j++] : order[i++];
            while (i < mid) tmp[k++] = order[i++];
            while (j < hi) tmp[k++] = order[j++];
        }
        memcpy(order, tmp, sizeof(int64_t) * (size_t)cnt);
    }
}

typedef struct nms_batch {
    const float *bd, *sd;     /* this batch's boxes / scores */
    nms_layout in;
    int64_t B, K;
    double *best;
    int64_t *order, *tmp, *cls, *kept_ids;
} nms_batch;

/* Ranks and suppresses one batch; returns the number kept (ids in kept_ids). */
static int64_t nms_select(const nms_attr *a, const nms_batch *w) {
    int64_t cnt = 0;
    for (int64_t i = 0; i < w->B; i++) {
        int64_t c = 0;
        for (int64_t k = 1; k < w->K; k++)
            if (w->sd[k * w->in.sc_cs + i * w->in.sc_bs] > w->sd[c * w->in.sc_cs + i * w->in.sc_bs]) c = k;
        w->best[i] = w->K ? w->sd[c * w->in.sc_cs + i * w->in.sc_bs] : -INFINITY;
        w->cls[i] = c;
        if (a->ios17 || w->best[i] > a->score) w->order[cnt++] = i;
    }
    nms_sort(w->best, w->order, w->tmp, cnt);
    int64_t kept = 0;
    for (int64_t q = 0; q < cnt && kept < a->max_boxes; q++) {
        int64_t i = w->order[q];
        float box[4], other[4];
        nms_box(w->bd, &w->in, i, box);
        bool keep = true;
        for (int64_t k = 0; k < kept && keep; k++) {
            int64_t j = w->kept_ids[k];
            if (a->per_class && w->cls[j] != w->cls[i]) continue;
            nms_box(w->bd, &w->in, j, other);
            if (nms_iou(box, other) > a->iou) keep = false;
        }
        if (keep) w->kept_ids[kept++] = i;
    }
    return kept;
}

static cml_status nms_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const nms_attr *a = node->attr;
    cml_mil_value *bx = cml_mil_in(ctx, node, "boxes"), *sc = cml_mil_in(ctx, node, "scores");
    int64_t n = 0, B = 0, K = 0, M = a->max_boxes;
    CML_TRY(nms_shapes(ctx, node, a, bx, sc, bx->shape, sc->shape, &n, &B, &K));
    int64_t s0[3] = {n, M, 4}, s1[3] = {n, M, K}, s2[2] = {n, M};
    if (a->ios17) s0[1] = 4, s0[2] = M, s1[1] = K, s1[2] = M;
    cml_mil_value *ob = cml_mil_out(ctx, node, 0), *os = cml_mil_out(ctx, node, 1);
    cml_mil_value *oi = cml_mil_out(ctx, node, 2), *oc = a->ios17 ? NULL : cml_mil_out(ctx, node, 3);
    CML_TRY(cml_mil_resize(ctx, ob, 3, s0));
    CML_TRY(cml_mil_resize(ctx, os, 3, s1));
    CML_TRY(cml_mil_resize(ctx, oi, 2, s2));
    if (oc) CML_TRY(cml_mil_resize(ctx, oc, 1, &n));
    void *scr = NULL;
    CML_TRY(cml_milop_scratch(ctx, node, &scr));
    nms_batch w = {.in = nms_layout_of(a->ios17, B, K), .B = B, .K = K, .best = scr};
    w.order = (int64_t *)(w.best + B), w.tmp = w.order + B, w.cls = w.tmp + B;
    w.kept_ids = w.tmp; /* the sort is done before ids are kept */
    nms_layout out = nms_layout_of(a->ios17, M, K);
    float *obd = ob->data, *osd = os->data;
    int32_t *oid = oi->data;
    memset(obd, 0, sizeof(float) * (size_t)(n * M * 4));
    memset(osd, 0, sizeof(float) * (size_t)(n * M * K));
    for (int64_t i = 0; i < n * M; i++) oid[i] = -1;
    for (int64_t b = 0; b < n; b++) {
        w.bd = (const float *)bx->data + b * B * 4, w.sd = (const float *)sc->data + b * B * K;
        int64_t kept = nms_select(a, &w);
        float *ob_b = obd + b * M * 4, *os_b = osd + b * M * K;
        for (int64_t q = 0; q < kept; q++) {
            int64_t i = w.kept_ids[q];
            oid[b * M + q] = (int32_t)i;
            for (int c = 0; c < 4; c++) ob_b[c * out.box_cs + q * out.box_bs] = w.bd[c * w.in.box_cs + i * w.in.box_bs];
            for (int64_t k = 0; k < K; k++) os_b[k * out.sc_cs + q * out.sc_bs] = w.sd[k * w.in.sc_cs + i * w.in.sc_bs];
        }
        if (oc) ((int32_t *)oc->data)[b] = (int32_t)kept;
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_non_maximum_suppression = {"non_maximum_suppression", nms_infer,
                                                           nms_run, false};
