/*
 * Image sampling ops: resample (iOS15/16/17), affine (iOS15) and
 * crop_resize (iOS15/16 with `roi`, iOS17 with `boxes` / `box_indices`).
 * x is [B, C, H, W] (fp16 / fp32) for all three.
 *
 * Coordinates -> input pixel (per axis of size S), as coremltools defines
 * coordinates_mode / align_corners:
 *   unnormalized                 p = c
 *   normalized_minus_one_to_one  p = (c + 1) / 2 * (S - 1)   (align_corners)
 *                                p = ((c + 1) * S - 1) / 2    (otherwise)
 *   normalized_zero_to_one       p = c * (S - 1)              (align_corners)
 *                                p = c * S - 0.5              (otherwise)
 * Sampling: "bilinear" interpolates the 4 taps around p; "nearest" takes
 * floor(p + 0.5). Taps outside the image follow padding_mode, applied per
 * tap index: constant -> padding_value; border -> clamped index;
 * reflection -> mirrored without repeating the edge (|1 2 3| ->
 * 2 3 2 1 2 3 2 1 2); symmetric -> mirrored with the edge repeated
 * (3 2 1 1 2 3 3 2 1).
 *
 * affine: output pixel (w, h) is first expressed in the coordinates_mode
 * system of the OUTPUT size (the inverse of the map above), transformed by
 * [a0 a1 a2; b0 b1 b2] (x' = a0 x + a1 y + a2, y' = b0 x + b1 y + b2), and
 * sampled from the input like resample. transform_matrix is [B, 6] or
 * [1, 6]. coremltools only emits bilinear / constant 0 /
 * normalized_minus_one_to_one / align_corners; the other modes are
 * supported with the resample semantics.
 *
 * crop_resize: each box gives (h_start, w_start, h_end, w_end) (from any
 * box_coordinate_mode; CENTER_SIZE -> center -/+ size/2), scaled by
 * (H-1, W-1) when normalized_coordinates, then by spatial_scale. Along each
 * axis, with L = end - start and X = L + 1, the target_size points are
 * start + g(i), g as resize_bilinear's sampling_mode defines it over the
 * interval [0, L] (STRICT_ALIGN: i*L/(N-1); ALIGN: same, L/2 when N = 1;
 * DEFAULT: i*X/N; OFFSET: delta/2 + i*delta, delta = max(1, L)/N; UNALIGN:
 * (i+0.5)*X/N - 0.5), clamped to [0, L]. A point outside [0, H-1] x [0, W-1]
 * yields pad_value (default 0, also for iOS15); inside, bilinear.
 * Output: roi [N,1,4,1,1] -> [N, B, C, h, w] (every box on every image);
 * roi [N,1,5,1,1] (batch index first) -> [N, 1, C, h, w] (B must be 1 at
 * load, where coremltools' declared type and its documented shape agree, or
 * the op is rejected); boxes [N, 4] + box_indices [N] -> [N, C, h, w].
 */
#include <math.h>
#include <string.h>

#include "mil/ops.h"

typedef enum pad_mode { PAD_CONSTANT, PAD_BORDER, PAD_REFLECTION, PAD_SYMMETRIC } pad_mode;
typedef enum coord_mode { COORD_UNNORM, COORD_MINUS_ONE, COORD_ZERO_ONE } coord_mode;

typedef struct sampler {
    bool nearest;
    pad_mode pad;
    float pad_value;
    coord_mode coords;
    bool align;
} sampler;

/* ---- shared sampling ------------------------------------------------------ */

static double to_pixel(const sampler *s, double c, int64_t S) {
    double n = (double)S;
    switch (s->coords) {
    case COORD_MINUS_ONE: return s->align ? (c + 1) * 0.5 * (n - 1) : ((c + 1) * n - 1) * 0.5;
    case COORD_ZERO_ONE: return s->align ? c * (n - 1) : c * n - 0.5;
    default: return c;
    }
}

static double from_pixel(const sampler *s, double p, int64_t S) {
    double n = (double)S;
    switch (s->coords) {
    case COORD_MINUS_ONE:
        if (s->align) return S > 1 ? 2 * p / (n - 1) - 1 : 0;
        return (2 * p + 1) / n - 1;
    case COORD_ZERO_ONE:
        if (s->align) return S > 1 ? p / (n - 1) : 0;
        return (p + 0.5) / n;
    default: return p;
    }
}

/* Maps a tap index into [0, S) per the padding mode; -1 = use pad value. */
static int64_t pad_index(pad_mode m, int64_t i, int64_t S) {
    if (i >= 0 && i < S) return i;
    switch (m) {
    case PAD_BORDER: return i < 0 ? 0 : S - 1;
    case PAD_REFLECTION: {
        if (S == 1) return 0;
        int64_t period = 2 * (S - 1), k = i % period;
        if (k < 0) k += period;
        return k < S ? k : period - k;
    }
    case PAD_SYMMETRIC: {
        int64_t period = 2 * S, k = i % period;
        if (k < 0) k += period;
        return k < S ? k : period - 1 - k;
    }
    default: return -1;
    }
}

static float tap(const sampler *s, const float *p, int64_t H, int64_t W, int64_t y, int64_t x) {
    int64_t yy = pad_index(s->pad, y, H), xx = pad_index(s->pad, x, W);
    if (yy < 0 || xx < 0) return s->pad_value;
    return p[yy * W + xx];
}

/* Value of plane p (H x W) at pixel coordinates (py, px). */
static float sample(const sampler *s, const float *p, int64_t H, int64_t W, double py,
                    double px) {
    if (!isfinite(py) || !isfinite(px) || fabs(py) > 4e18 || fabs(px) > 4e18)
        return s->pad == PAD_CONSTANT ? s->pad_value : NAN;
    if (s->nearest) return tap(s, p, H, W, (int64_t)floor(py + 0.5), (int64_t)floor(px + 0.5));
    double fy0 = floor(py), fx0 = floor(px);
    int64_t y0 = (int64_t)fy0, x0 = (int64_t)fx0;
    double wy = py - fy0, wx = px - fx0;
    double v00 = tap(s, p, H, W, y0, x0), v01 = tap(s, p, H, W, y0, x0 + 1);
    double v10 = tap(s, p, H, W, y0 + 1, x0), v11 = tap(s, p, H, W, y0 + 1, x0 + 1);
    double top = v00 + (v01 - v00) * wx, bot = v10 + (v11 - v10) * wx;
    return (float)(top + (bot - top) * wy);
}

static cml_status parse_sampler(cml_mil_ctx *ctx, const cml_mil_node *node, sampler *s) {
    const char *sm = NULL, *pm = NULL, *cm = NULL;
    double pv = 0;
    memset(s, 0, sizeof *s);
    CML_TRY(cml_mil_const_string(ctx, node, "sampling_mode", "bilinear", &sm));
    CML_TRY(cml_mil_const_string(ctx, node, "padding_mode", "constant", &pm));
    CML_TRY(cml_mil_const_string(ctx, node, "coordinates_mode", "normalized_minus_one_to_one",
                                 &cm));
    CML_TRY(cml_mil_const_float(ctx, node, "padding_value", true, 0, &pv));
    CML_TRY(cml_mil_const_bool(ctx, node, "align_corners", true, true, &s->align));
    s->pad_value = (float)pv;
    if (strcmp(sm, "bilinear") == 0) s->nearest = false;
    else if (strcmp(sm, "nearest") == 0) s->nearest = true;
    else return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unknown sampling_mode '%s'", sm);
    if (strcmp(pm, "constant") == 0) s->pad = PAD_CONSTANT;
    else if (strcmp(pm, "border") == 0) s->pad = PAD_BORDER;
    else if (strcmp(pm, "reflection") == 0) s->pad = PAD_REFLECTION;
    else if (strcmp(pm, "symmetric") == 0) s->pad = PAD_SYMMETRIC;
    else return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unknown padding_mode '%s'", pm);
    if (strcmp(cm, "unnormalized") == 0) s->coords = COORD_UNNORM;
    else if (strcmp(cm, "normalized_minus_one_to_one") == 0) s->coords = COORD_MINUS_ONE;
    else if (strcmp(cm, "normalized_zero_to_one") == 0) s->coords = COORD_ZERO_ONE;
    else return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unknown coordinates_mode '%s'", cm);
    return CML_OK;
}

static cml_status require_image(cml_mil_ctx *ctx, const cml_mil_node *node, cml_mil_value **x) {
    CML_TRY(cml_milop_require_float(ctx, node, "x", x));
    if ((*x)->rank != 4)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x must have rank 4 [B, C, H, W], has %d",
                            (*x)->rank);
    return CML_OK;
}

static bool empty_image(const cml_mil_value *x) {
    return x->shape[2] == 0 || x->shape[3] == 0;
}

/* ---- resample --------------------------------------------------------------- */

static cml_status resample_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *c = NULL;
    CML_TRY(require_image(ctx, node, &x));
    CML_TRY(cml_mil_require(ctx, node, "coordinates", &c));
    if (c->kind != CML_MIL_KIND_TENSOR ||
        !(cml_milop_is_float(c->dtype) || cml_milop_is_int(c->dtype)))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                            "'coordinates' must be a float or integer tensor");
    if (c->rank != 4 || c->bound[3] != 2)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'coordinates' must be [B, H2, W2, 2]");
    if (c->bound[0] != x->bound[0] && c->bound[0] != 1)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                            "'coordinates' batch %lld does not match x's %lld",
                            (long long)c->bound[0], (long long)x->bound[0]);
    sampler *s = cml_mil_alloc(ctx, sizeof *s);
    if (!s) return CML_ERR_NOMEM;
    CML_TRY(parse_sampler(ctx, node, s));
    node->attr = s;
    int64_t shape[4] = {x->bound[0], x->bound[1], c->bound[1], c->bound[2]};
    return cml_milop_out_like(ctx, node, 0, x, 4, shape, c->dynamic);
}

static cml_status resample_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const sampler *s = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *c = cml_mil_in(ctx, node, "coordinates");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    if (c->rank != 4 || c->shape[3] != 2 || (c->shape[0] != B && c->shape[0] != 1))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'coordinates' does not fit x");
    int64_t OH = c->shape[1], OW = c->shape[2];
    int64_t shape[4] = {B, C, OH, OW};
    CML_TRY(cml_mil_resize(ctx, out, 4, shape));
    if (cml_mil_numel(out) == 0) return CML_OK;
    if (empty_image(x))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "cannot sample an empty image");
    const float *xd = x->data;
    float *od = out->data;
    for (int64_t b = 0; b < B; b++) {
        int64_t cb = c->shape[0] == 1 ? 0 : b;
        for (int64_t i = 0; i < OH; i++)
            for (int64_t j = 0; j < OW; j++) {
                int64_t k = ((cb * OH + i) * OW + j) * 2;
                double px = to_pixel(s, cml_milop_get_num(c->data, c->dtype, k), W);
                double py = to_pixel(s, cml_milop_get_num(c->data, c->dtype, k + 1), H);
                for (int64_t ch = 0; ch < C; ch++)
                    od[((b * C + ch) * OH + i) * OW + j] =
                        sample(s, xd + (b * C + ch) * H * W, H, W, py, px);
            }
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_resample = {"resample", resample_infer, resample_run, false};

/* ---- affine ------------------------------------------------------------------ */

typedef struct affine_attr {
    sampler s;
    int64_t oh, ow;
} affine_attr;

static cml_status affine_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *m = NULL;
    CML_TRY(require_image(ctx, node, &x));
    CML_TRY(cml_milop_require_float(ctx, node, "transform_matrix", &m));
    if (m->rank != 2 || m->bound[1] != 6)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'transform_matrix' must be [B, 6] or [1, 6]");
    if (m->bound[0] != 1 && m->bound[0] != x->bound[0])
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                            "'transform_matrix' has %lld rows; x has batch %lld",
                            (long long)m->bound[0], (long long)x->bound[0]);
    affine_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    CML_TRY(parse_sampler(ctx, node, &a->s));
    CML_TRY(cml_mil_const_int(ctx, node, "output_height", false, 0, &a->oh));
    CML_TRY(cml_mil_const_int(ctx, node, "output_width", false, 0, &a->ow));
    if (a->oh < 1 || a->ow < 1 || a->oh > ((int64_t)1 << 24) || a->ow > ((int64_t)1 << 24))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG,
                            "output_height / output_width must be in [1, 2^24]");
    node->attr = a;
    int64_t shape[4] = {x->bound[0], x->bound[1], a->oh, a->ow};
    return cml_milop_out_like(ctx, node, 0, x, 4, shape, false);
}

static cml_status affine_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const affine_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *m = cml_mil_in(ctx, node, "transform_matrix");
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    if (m->rank != 2 || m->shape[1] != 6 || (m->shape[0] != 1 && m->shape[0] != B))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'transform_matrix' does not fit x");
    int64_t shape[4] = {B, C, a->oh, a->ow};
    CML_TRY(cml_mil_resize(ctx, out, 4, shape));
    if (cml_mil_numel(out) == 0) return CML_OK;
    if (empty_image(x))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "cannot sample an empty image");
    const float *xd = x->data, *md = m->data;
    float *od = out->data;
    for (int64_t b = 0; b < B; b++) {
        const float *t = md + (m->shape[0] == 1 ? 0 : b) * 6;
        for (int64_t i = 0; i < a->oh; i++) {
            double yc = from_pixel(&a->s, (double)i, a->oh);
            for (int64_t j = 0; j < a->ow; j++) {
                double xc = from_pixel(&a->s, (double)j, a->ow);
                double xs = (double)t[0] * xc + (double)t[1] * yc + (double)t[2];
                double ys = (double)t[3] * xc + (double)t[4] * yc + (double)t[5];
                double px = to_pixel(&a->s, xs, W), py = to_pixel(&a->s, ys, H);
                for (int64_t ch = 0; ch < C; ch++)
                    od[((b * C + ch) * a->oh + i) * a->ow + j] =
                        sample(&a->s, xd + (b * C + ch) * H * W, H, W, py, px);
            }
        }
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_affine = {"affine", affine_infer, affine_run, false};

/* ---- crop_resize --------------------------------------------------------------- */

typedef enum box_mode { BOX_CORNERS_HF, BOX_CORNERS_WF, BOX_CENTER_HF, BOX_CENTER_WF } box_mode;
typedef enum crop_grid { CG_STRICT, CG_ALIGN, CG_DEFAULT, CG_OFFSET, CG_UNALIGN } crop_grid;

typedef struct crop_attr {
    bool v17;          /* boxes + box_indices */
    bool with_index;   /* roi carries a batch index (5 entries) */
    int64_t th, tw;
    bool normalized;
    float spatial_scale, pad_value;
    box_mode box;
    crop_grid grid;
} crop_attr;

static double crop_point(crop_grid m, int64_t i, double L, int64_t N) {
    double X = L + 1, n = (double)N, g;
    switch (m) {
    case CG_STRICT: g = N > 1 ? (double)i * L / (n - 1) : 0; break;
    case CG_ALIGN: g = N > 1 ? (double)i * L / (n - 1) : L / 2; break;
    case CG_DEFAULT: g = (double)i * X / n; break;
    case CG_OFFSET: {
        double delta = (L > 1 ? L : 1) / n;
        g = 0.5 * delta + (double)i * delta;
        break;
    }
    default: g = ((double)i + 0.5) * X / n - 0.5; break;
    }
    if (g > L) g = L;
    if (g < 0) g = 0;
    return g;
}

static cml_status crop_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *r = NULL;
    CML_TRY(require_image(ctx, node, &x));
    crop_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (!a) return CML_ERR_NOMEM;
    memset(a, 0, sizeof *a);
    a->v17 = cml_mil_in(ctx, node, "boxes") != NULL;
    CML_TRY(cml_mil_require(ctx, node, a->v17 ? "boxes" : "roi", &r));
    if (r->kind != CML_MIL_KIND_TENSOR ||
        !(cml_milop_is_float(r->dtype) || (a->v17 && r->dtype == CML_DTYPE_UINT16)))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "'%s' must be fp16 or fp32%s",
                            a->v17 ? "boxes" : "roi", a->v17 ? " or uint16" : "");
    int64_t N = r->bound[0];
    if (a->v17) {
        if (r->rank != 2 || r->bound[1] != 4)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'boxes' must be [N, 4]");
        cml_mil_value *bi = cml_mil_in(ctx, node, "box_indices");
        if (bi && (bi->kind != CML_MIL_KIND_TENSOR || !cml_milop_is_int(bi->dtype) ||
                   bi->rank != 1 || bi->bound[0] != N))
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                                "'box_indices' must be an integer vector of %lld entries",
                                (long long)N);
        if (!bi && N > x->bound[0])
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                                "%lld boxes but x has batch %lld and no 'box_indices'",
                                (long long)N, (long long)x->bound[0]);
    } else {
        if (r->rank != 5 || (r->bound[2] != 4 && r->bound[2] != 5) || r->bound[1] != 1 ||
            r->bound[3] != 1 || r->bound[4] != 1)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                                "'roi' must be [N, 1, 4, 1, 1] or [N, 1, 5, 1, 1]");
        a->with_index = r->bound[2] == 5;
        if (a->with_index && x->bound[0] != 1)
            return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                                "a 5-entry 'roi' (batch index) with batch %lld > 1 is not supported",
                                (long long)x->bound[0]);
    }
    double ss = 1, pv = 0;
    const char *bm = NULL, *sm = NULL;
    CML_TRY(cml_mil_const_int(ctx, node, "target_height", true, 1, &a->th));
    CML_TRY(cml_mil_const_int(ctx, node, "target_width", true, 1, &a->tw));
    CML_TRY(cml_mil_const_bool(ctx, node, "normalized_coordinates", true, false, &a->normalized));
    CML_TRY(cml_mil_const_float(ctx, node, "spatial_scale", true, 1, &ss));
    CML_TRY(cml_mil_const_float(ctx, node, "pad_value", true, 0, &pv));
    CML_TRY(cml_mil_const_string(ctx, node, "box_coordinate_mode", "CORNERS_HEIGHT_FIRST", &bm));
    CML_TRY(cml_mil_const_string(ctx, node, "sampling_mode", "DEFAULT", &sm));
    if (a->th < 1 || a->tw < 1 || a->th > ((int64_t)1 << 24) || a->tw > ((int64_t)1 << 24))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG,
                            "target_height / target_width must be in [1, 2^24]");
    if (!isfinite(ss))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "spatial_scale must be finite");
    if (a->normalized && r->dtype == CML_DTYPE_UINT16)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG,
                            "normalized_coordinates needs fp16 or fp32 boxes");
    a->spatial_scale = (float)ss;
    a->pad_value = (float)pv;
    /* "CONRNERS_HEIGHT_FIRST" is coremltools' (misspelled) default */
    if (strcmp(bm, "CORNERS_HEIGHT_FIRST") == 0 || strcmp(bm, "CONRNERS_HEIGHT_FIRST") == 0)
        a->box = BOX_CORNERS_HF;
    else if (strcmp(bm, "CORNERS_WIDTH_FIRST") == 0) a->box = BOX_CORNERS_WF;
    else if (strcmp(bm, "CENTER_SIZE_HEIGHT_FIRST") == 0) a->box = BOX_CENTER_HF;
    else if (strcmp(bm, "CENTER_SIZE_WIDTH_FIRST") == 0) a->box = BOX_CENTER_WF;
    else return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unknown box_coordinate_mode '%s'", bm);
    if (strcmp(sm, "STRICT_ALIGN_CORNERS") == 0) a->grid = CG_STRICT;
    else if (strcmp(sm, "ALIGN_CORNERS") == 0) a->grid = CG_ALIGN;
    else if (strcmp(sm, "DEFAULT") == 0) a->grid = CG_DEFAULT;
    else if (strcmp(sm, "OFFSET_CORNERS") == 0) a->grid = CG_OFFSET;
    else if (strcmp(sm, "UNALIGN_CORNERS") == 0) a->grid = CG_UNALIGN;
    else return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unknown sampling_mode '%s'", sm);
    node->attr = a;
    if (a->v17) {
        int64_t shape[4] = {N, x->bound[1], a->th, a->tw};
        return cml_milop_out_like(ctx, node, 0, x, 4, shape, r->dynamic);
    }
    int64_t shape[5] = {N, a->with_index ? 1 : x->bound[0], x->bound[1], a->th, a->tw};
    return cml_milop_out_like(ctx, node, 0, x, 5, shape, r->dynamic);
}

static void crop_one(const crop_attr *a, const float *img, int64_t C, int64_t H, int64_t W,
                     const double *box, float *o) {
    double h0, w0, h1, w1;
    switch (a->box) {
    case BOX_CORNERS_HF: h0 = box[0], w0 = box[1], h1 = box[2], w1 = box[3]; break;
    case BOX_CORNERS_WF: w0 = box[0], h0 = box[1], w1 = box[2], h1 = box[3]; break;
    case BOX_CENTER_HF:
        h0 = box[0] - box[2] / 2, h1 = box[0] + box[2] / 2;
        w0 = box[1] - box[3] / 2, w1 = box[1] + box[3] / 2;
        break;
    default:
        w0 = box[0] - box[2] / 2, w1 = box[0] + box[2] / 2;
        h0 = box[1] - box[3] / 2, h1 = box[1] + box[3] / 2;
        break;
    }
    if (a->normalized) {
        h0 *= (double)(H - 1), h1 *= (double)(H - 1);
        w0 *= (double)(W - 1), w1 *= (double)(W - 1);
    }
    double sc = a->spatial_scale;
    h0 *= sc, h1 *= sc, w0 *= sc, w1 *= sc;
    sampler s = {.nearest = false, .pad = PAD_CONSTANT, .pad_value = a->pad_value};
    for (int64_t i = 0; i < a->th; i++) {
        double py = h0 + crop_point(a->grid, i, h1 - h0, a->th);
        for (int64_t j = 0; j < a->tw; j++) {
            double px = w0 + crop_point(a->grid, j, w1 - w0, a->tw);
            bool inside = py >= 0 && py <= (double)(H - 1) && px >= 0 && px <= (double)(W - 1);
            for (int64_t c = 0; c < C; c++)
                o[(c * a->th + i) * a->tw + j] =
                    inside ? sample(&s, img + c * H * W, H, W, py, px) : a->pad_value;
        }
    }
}

static cml_status crop_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const crop_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x");
    cml_mil_value *r = cml_mil_in(ctx, node, a->v17 ? "boxes" : "roi");
    cml_mil_value *bi = a->v17 ? cml_mil_in(ctx, node, "box_indices") : NULL;
    cml_mil_value *out = cml_mil_out(ctx, node, 0);
    int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3], N = r->shape[0];
    if (bi && bi->shape[0] != N)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'box_indices' does not match 'boxes'");
    if (a->v17) {
        int64_t shape[4] = {N, C, a->th, a->tw};
        CML_TRY(cml_mil_resize(ctx, out, 4, shape));
    } else {
        int64_t shape[5] = {N, a->with_index ? 1 : B, C, a->th, a->tw};
        CML_TRY(cml_mil_resize(ctx, out, 5, shape));
    }
    if (cml_mil_numel(out) == 0) return CML_OK;
    if (empty_image(x))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "cannot crop an empty image");
    const float *xd = x->data;
    float *od = out->data;
    int64_t plane = C * a->th * a->tw, stride = a->v17 ? 4 : r->shape[2];
    for (int64_t n = 0; n < N; n++) {
        double box[5];
        for (int64_t k = 0; k < stride; k++)
            box[k] = cml_milop_get_num(r->data, r->dtype, n * stride + k);
        if (a->v17 || a->with_index) {
            int64_t b = a->v17 ? (bi ? cml_milop_get_int(bi->data, bi->dtype, n) : n)
                               : (int64_t)floor(box[0]);
            if (b < 0 || b >= B)
                return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG,
                                    "box %lld: batch index %lld is outside [0, %lld)",
                                    (long long)n, (long long)b, (long long)B);
            crop_one(a, xd + b * C * H * W, C, H, W, a->with_index ? box + 1 : box,
                     od + n * plane);
        } else {
            for (int64_t b = 0; b < B; b++)
                crop_one(a, xd + b * C * H * W, C, H, W, box, od + (n * B + b) * plane);
        }
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_crop_resize = {"crop_resize", crop_infer, crop_run, false};
