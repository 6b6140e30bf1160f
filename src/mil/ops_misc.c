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

/* ---- non_maximum_suppression(boxes [n, B, 4], scores [n, B, K], iou_threshold,
 *      score_threshold, max_boxes, per_class_suppression = False) ---------------------
 * Boxes are (x_center, y_center, width, height). Each box ranks by its best
 * class score (ties: lower index first); boxes scoring <= score_threshold
 * are dropped; greedily keeps a box unless it overlaps a kept one (of the
 * same best class when per_class_suppression) with IoU > iou_threshold.
 * Outputs: boxes [n, M, 4], scores [n, M, K], indices [n, M] (int32) and
 * counts [n] (int32); unused slots are 0 (indices -1). */

typedef struct nms_attr {
    float iou, score;
    int64_t max_boxes;
    bool per_class;
} nms_attr;

static cml_status nms_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *b = NULL, *s = NULL;
    CML_TRY(cml_milop_require_float(ctx, node, "boxes", &b));
    CML_TRY(cml_milop_require_float(ctx, node, "scores", &s));
    if (b->rank != 3 || s->rank != 3 || b->bound[2] != 4 || s->bound[0] != b->bound[0] ||
        s->bound[1] != b->bound[1])
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "boxes [n, B, 4] and scores [n, B, K] expected");
    if (node->noutputs != 4) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "expects 4 outputs");
    nms_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    double iou, sc;
    CML_TRY(cml_mil_const_float(ctx, node, "iou_threshold", false, 0, &iou));
    CML_TRY(cml_mil_const_float(ctx, node, "score_threshold", false, 0, &sc));
    CML_TRY(cml_mil_const_int(ctx, node, "max_boxes", false, 0, &a->max_boxes));
    CML_TRY(cml_mil_const_bool(ctx, node, "per_class_suppression", true, false, &a->per_class));
    if (a->max_boxes < 0) return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "negative max_boxes");
    a->iou = (float)iou, a->score = (float)sc;
    node->attr = a;
    int64_t n = b->bound[0], B = b->bound[1], M = a->max_boxes, K = s->bound[2];
    node->scratch = (size_t)B * (sizeof(double) + 2 * sizeof(int64_t) + sizeof(int64_t));
    int64_t s0[3] = {n, M, 4}, s1[3] = {n, M, K}, s2[2] = {n, M};
    CML_TRY(cml_milop_out_like(ctx, node, 0, b, 3, s0, false));
    CML_TRY(cml_milop_out_like(ctx, node, 1, s, 3, s1, false));
    CML_TRY(cml_mil_set_output(ctx, node, 2, CML_DTYPE_INT32, false, 2, s2, b->dynamic));
    return cml_mil_set_output(ctx, node, 3, CML_DTYPE_INT32, false, 1, &n, b->dynamic);
}

static float nms_iou(const float *a, const float *b) {
    float ax0 = a[0] - a[2] / 2, ax1 = a[0] + a[2] / 2, ay0 = a[1] - a[3] / 2, ay1 = a[1] + a[3] / 2;
    float bx0 = b[0] - b[2] / 2, bx1 = b[0] + b[2] / 2, by0 = b[1] - b[3] / 2, by1 = b[1] + b[3] / 2;
    float iw = fminf(ax1, bx1) - fmaxf(ax0, bx0), ih = fminf(ay1, by1) - fmaxf(ay0, by0);
    if (iw <= 0 || ih <= 0) return 0;
    float inter = iw * ih, uni = a[2] * a[3] + b[2] * b[3] - inter;
    return uni > 0 ? inter / uni : 0;
}

static cml_status nms_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const nms_attr *a = node->attr;
    cml_mil_value *bx = cml_mil_in(ctx, node, "boxes"), *sc = cml_mil_in(ctx, node, "scores");
    int64_t n = bx->shape[0], B = bx->shape[1], K = sc->shape[2], M = a->max_boxes;
    if (sc->shape[0] != n || sc->shape[1] != B || bx->shape[2] != 4)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "boxes and scores do not match");
    int64_t s0[3] = {n, M, 4}, s1[3] = {n, M, K}, s2[2] = {n, M};
    cml_mil_value *ob = cml_mil_out(ctx, node, 0), *os = cml_mil_out(ctx, node, 1);
    cml_mil_value *oi = cml_mil_out(ctx, node, 2), *oc = cml_mil_out(ctx, node, 3);
    CML_TRY(cml_mil_resize(ctx, ob, 3, s0));
    CML_TRY(cml_mil_resize(ctx, os, 3, s1));
    CML_TRY(cml_mil_resize(ctx, oi, 2, s2));
    CML_TRY(cml_mil_resize(ctx, oc, 1, &n));
    void *scr = NULL;
    CML_TRY(cml_milop_scratch(ctx, node, &scr));
    double *best = scr;
    int64_t *order = (int64_t *)(best + B), *tmp = order + B, *cls = tmp + B;
    const float *bd = bx->data, *sd = sc->data;
    float *obd = ob->data, *osd = os->data;
    int32_t *oid = oi->data, *ocd = oc->data;
    memset(obd, 0, sizeof(float) * (size_t)(n * M * 4));
    memset(osd, 0, sizeof(float) * (size_t)(n * M * K));
    for (int64_t i = 0; i < n * M; i++) oid[i] = -1;
    for (int64_t b = 0; b < n; b++) {
        int64_t cnt = 0;
        for (int64_t i = 0; i < B; i++) {
            const float *row = sd + (b * B + i) * K;
            int64_t c = 0;
            for (int64_t k = 1; k < K; k++)
                if (row[k] > row[c]) c = k;
            best[i] = K ? row[c] : -INFINITY;
            cls[i] = c;
            if (best[i] > a->score) order[cnt++] = i;
        }
        /* stable merge sort of the candidates by best score, descending */
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
        int64_t kept = 0;
        for (int64_t q = 0; q < cnt && kept < M; q++) {
            int64_t i = order[q];
            const float *box = bd + (b * B + i) * 4;
            bool keep = true;
            for (int64_t k = 0; k < kept && keep; k++) {
                int64_t j = oid[b * M + k];
                if (a->per_class && cls[j] != cls[i]) continue;
                if (nms_iou(box, bd + (b * B + j) * 4) > a->iou) keep = false;
            }
            if (!keep) continue;
            oid[b * M + kept] = (int32_t)i;
            memcpy(obd + (b * M + kept) * 4, box, sizeof(float) * 4);
            memcpy(osd + (b * M + kept) * K, sd + (b * B + i) * K, sizeof(float) * (size_t)K);
            kept++;
        }
        ocd[b] = (int32_t)kept;
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_non_maximum_suppression = {"non_maximum_suppression", nms_infer,
                                                           nms_run, false};
