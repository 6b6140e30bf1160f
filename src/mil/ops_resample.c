/*
 * Resampling of the last two dims: upsample_nearest_neighbor,
 * upsample_bilinear, resize_bilinear, resize_nearest_neighbor, and iOS17
 * resize (LINEAR / NEAREST_NEIGHBOR over the last 1 or 2 dims; its `shape`
 * may be computed at run time when its element bounds are known at load,
 * giving a dynamic output).
 *
 * Source coordinates per output index i (Xin -> Xout), as coremltools
 * documents them:
 *   STRICT_ALIGN_CORNERS  i * (Xin-1)/(Xout-1)           (0 when Xout == 1)
 *   ALIGN_CORNERS         same, but (Xin-1)/2 when Xout == 1
 *   DEFAULT               i * (Xin - Xin/Xout)/(Xout-1) = i * Xin/Xout
 *   OFFSET_CORNERS        0.5*delta + i*delta, delta = max(1, Xin-1)/Xout
 *   UNALIGN_CORNERS       (i + 0.5) * Xin/Xout - 0.5     (half-pixel centers)
 * all clamped to [0, Xin-1]. Bilinear interpolates between floor and
 * floor + 1. Nearest takes floor(coordinate), or floor(coordinate + 0.5)
 * for the half-pixel modes; upsample_nearest_neighbor uses floor(i / scale).
 */
#include <math.h>
#include <string.h>

#include "mil/ops.h"

typedef enum grid_mode {
    GRID_STRICT_ALIGN, GRID_ALIGN, GRID_DEFAULT, GRID_OFFSET, GRID_UNALIGN,
    GRID_SCALE, /* nearest: floor(i / scale) */
} grid_mode;

typedef struct rs_attr {
    bool nearest;
    grid_mode mode;
    float scale_h, scale_w;      /* upsample_* */
    int64_t out_h, out_w;        /* resize_*: fixed target; 0 = from scale / shape */
    int32_t resized_dims;        /* resize: 1 or 2 */
    bool from_shape;             /* resize: sizes from the shape input at run time */
} rs_attr;

static double grid_point(grid_mode m, int64_t i, int64_t in, int64_t out, float scale) {
    double g, xin = (double)in, xout = (double)out;
    switch (m) {
    case GRID_STRICT_ALIGN: g = out > 1 ? (double)i * (xin - 1) / (xout - 1) : 0; break;
    case GRID_ALIGN: g = out > 1 ? (double)i * (xin - 1) / (xout - 1) : (xin - 1) / 2; break;
    case GRID_DEFAULT: g = (double)i * xin / xout; break;
    case GRID_OFFSET: {
        double delta = (xin - 1 > 1 ? xin - 1 : 1) / xout;
        g = 0.5 * delta + (double)i * delta;
        break;
    }
    case GRID_UNALIGN: g = ((double)i + 0.5) * xin / xout - 0.5; break;
    case GRID_SCALE: g = floor((double)i / (double)scale); break;
    default: g = 0;
    }
    if (g < 0) g = 0;
    if (g > xin - 1) g = xin - 1;
    return g;
}

static int64_t nearest_index(grid_mode m, int64_t i, int64_t in, int64_t out, float scale) {
    double g = grid_point(m, i, in, out, scale);
    int64_t k = (int64_t)floor((m == GRID_UNALIGN || m == GRID_OFFSET) ? g + 0.5 : g);
    return k < 0 ? 0 : k >= in ? in - 1 : k;
}

static cml_status parse_sampling(cml_mil_ctx *ctx, const cml_mil_node *node, grid_mode *m) {
    const char *s = NULL;
    CML_TRY(cml_mil_const_string(ctx, node, "sampling_mode", "DEFAULT", &s));
    if (strcmp(s, "DEFAULT") == 0) *m = GRID_DEFAULT;
    else if (strcmp(s, "STRICT_ALIGN_CORNERS") == 0) *m = GRID_STRICT_ALIGN;
    else if (strcmp(s, "ALIGN_CORNERS") == 0) *m = GRID_ALIGN;
    else if (strcmp(s, "OFFSET_CORNERS") == 0) *m = GRID_OFFSET;
    else if (strcmp(s, "UNALIGN_CORNERS") == 0) *m = GRID_UNALIGN;
    else return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "unknown sampling_mode '%s'", s);
    return CML_OK;
}

/* Output spatial size for the current input; false when invalid. */
static cml_status rs_out_size(cml_mil_ctx *ctx, const cml_mil_node *node, const rs_attr *a,
                              const cml_mil_value *x, const int64_t *xs, int64_t *oh, int64_t *ow) {
    int64_t H = a->resized_dims == 1 ? 1 : xs[x->rank - 2], W = xs[x->rank - 1];
    if (a->from_shape) {
        cml_mil_value *s = cml_mil_in(ctx, node, "shape");
        int64_t v[CML_MAX_DIMS];
        uint32_t n = 0;
        CML_TRY(cml_milop_read_ints(ctx, node, "shape", s, v, CML_MAX_DIMS, &n));
        if ((int32_t)n < a->resized_dims || (int32_t)n > x->rank)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                                "'shape' has %u entries (resized_dims %d, x rank %d)", n,
                                a->resized_dims, x->rank);
        *ow = v[n - 1] ? v[n - 1] : W;
        *oh = a->resized_dims == 2 ? (v[n - 2] ? v[n - 2] : H) : 1;
    } else if (a->out_h > 0) {
        *oh = a->out_h, *ow = a->out_w;
    } else {
        *oh = (int64_t)floor((double)H * (double)a->scale_h);
        *ow = (int64_t)floor((double)W * (double)a->scale_w);
    }
    if (*oh < 0 || *ow < 0) return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "negative output size");
    return CML_OK;
}

static void rs_shape(const rs_attr *a, const cml_mil_value *x, const int64_t *xs, int64_t oh,
                     int64_t ow, int64_t *shape) {
    memcpy(shape, xs, sizeof(int64_t) * (size_t)x->rank);
    shape[x->rank - 1] = ow;
    if (a->resized_dims == 2) shape[x->rank - 2] = oh;
}

/* Upper bound of the output size for a run-time resize `shape` (iOS17
 * resize): from the compile-time element bounds of shape (0 = keep x's
 * dim, so the bound is the larger of the two); fails when unknown. */
static cml_status rs_bound_size(cml_mil_ctx *ctx, const cml_mil_node *node, const rs_attr *a,
                                const cml_mil_value *x, const cml_mil_value *s, int64_t *oh,
                                int64_t *ow) {
    int64_t b[CML_MAX_DIMS];
    uint32_t n = 0;
    if (s->rank != 1 || !cml_milop_is_int(s->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "'shape' must be an integer vector");
    if (!cml_milop_int_bounds(ctx, s, b, CML_MAX_DIMS, &n))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                            "run-time 'shape' has no upper bound known at load");
    if ((int32_t)n < a->resized_dims || (int32_t)n > x->rank)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE,
                            "'shape' has %u entries (resized_dims %d, x rank %d)", n,
                            a->resized_dims, x->rank);
    int64_t hb = a->resized_dims == 2 ? b[n - 2] : 1, wb = b[n - 1];
    if (hb < 0 || wb < 0 || hb > ((int64_t)1 << 31) || wb > ((int64_t)1 << 31))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED,
                            "run-time 'shape' has no upper bound known at load");
    int64_t H = a->resized_dims == 2 ? x->bound[x->rank - 2] : 1, W = x->bound[x->rank - 1];
    *oh = a->resized_dims == 2 ? (hb > H ? hb : H) : 1;
    *ow = wb > W ? wb : W;
    return CML_OK;
}

static cml_status rs_finish(cml_mil_ctx *ctx, cml_mil_node *node, rs_attr *a, cml_mil_value *x) {
    if (x->rank < a->resized_dims)
        return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "x has rank %d", x->rank);
    if (!a->nearest && !cml_milop_is_float(x->dtype))
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "x must be fp16 or fp32");
    node->attr = a;
    int64_t oh = 0, ow = 0, shape[CML_MAX_DIMS];
    cml_mil_value *s = a->from_shape ? cml_mil_in(ctx, node, "shape") : NULL;
    if (s && !cml_milop_known(s)) {
        CML_TRY(rs_bound_size(ctx, node, a, x, s, &oh, &ow));
        rs_shape(a, x, x->bound, oh, ow, shape);
        return cml_milop_out_like(ctx, node, 0, x, x->rank, shape, true);
    }
    CML_TRY(rs_out_size(ctx, node, a, x, x->bound, &oh, &ow));
    rs_shape(a, x, x->bound, oh, ow, shape);
    return cml_milop_out_like(ctx, node, 0, x, x->rank, shape, x->dynamic);
}

static rs_attr *rs_new(cml_mil_ctx *ctx) {
    rs_attr *a = cml_mil_alloc(ctx, sizeof *a);
    if (a) {
        memset(a, 0, sizeof *a);
        a->resized_dims = 2;
        a->scale_h = a->scale_w = 1;
    }
    return a;
}

static cml_status up_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    rs_attr *a = rs_new(ctx);
    if (!a) return CML_ERR_NOMEM;
    double sh, sw;
    CML_TRY(cml_mil_const_float(ctx, node, "scale_factor_height", true, 1, &sh));
    CML_TRY(cml_mil_const_float(ctx, node, "scale_factor_width", true, 1, &sw));
    if (!(sh > 0) || !(sw > 0))
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "scale factors must be > 0");
    a->scale_h = (float)sh, a->scale_w = (float)sw;
    if (strcmp(node->def->type, "upsample_nearest_neighbor") == 0) {
        a->nearest = true;
        a->mode = GRID_SCALE;
    } else {
        bool ac, hp;
        CML_TRY(cml_mil_const_bool(ctx, node, "align_corners", true, true, &ac));
        CML_TRY(cml_mil_const_bool(ctx, node, "half_pixel_centers", true, !ac, &hp));
        a->mode = ac ? GRID_STRICT_ALIGN : hp ? GRID_UNALIGN : GRID_DEFAULT;
    }
    return rs_finish(ctx, node, a, x);
}

static cml_status resize_fixed_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    rs_attr *a = rs_new(ctx);
    if (!a) return CML_ERR_NOMEM;
    bool nn = strcmp(node->def->type, "resize_nearest_neighbor") == 0;
    CML_TRY(cml_mil_const_int(ctx, node, "target_size_height", !nn, 1, &a->out_h));
    CML_TRY(cml_mil_const_int(ctx, node, "target_size_width", !nn, 1, &a->out_w));
    if (a->out_h < 1 || a->out_w < 1)
        return cml_mil_fail(ctx, node, CML_ERR_INVALID_ARG, "target sizes must be >= 1");
    a->nearest = nn;
    if (nn) a->mode = GRID_DEFAULT;
    else CML_TRY(parse_sampling(ctx, node, &a->mode));
    return rs_finish(ctx, node, a, x);
}

static cml_status resize_infer(cml_mil_ctx *ctx, cml_mil_node *node) {
    cml_mil_value *x = NULL, *s = NULL;
    CML_TRY(cml_mil_require(ctx, node, "x", &x));
    CML_TRY(cml_mil_require(ctx, node, "shape", &s));
    rs_attr *a = rs_new(ctx);
    if (!a) return CML_ERR_NOMEM;
    int64_t rd;
    const char *im = NULL;
    CML_TRY(cml_mil_const_int(ctx, node, "resized_dims", false, 0, &rd));
    CML_TRY(cml_mil_const_string(ctx, node, "interpolation_mode", "LINEAR", &im));
    CML_TRY(parse_sampling(ctx, node, &a->mode));
    if (rd < 1 || rd > 2)
        return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "resized_dims %lld (1 or 2 supported)",
                            (long long)rd);
    if (strcmp(im, "LINEAR") == 0) a->nearest = false;
    else if (strcmp(im, "NEAREST_NEIGHBOR") == 0) a->nearest = true;
    else return cml_mil_fail(ctx, node, CML_ERR_UNSUPPORTED, "interpolation_mode '%s'", im);
    a->resized_dims = (int32_t)rd;
    a->from_shape = true;
    return rs_finish(ctx, node, a, x);
}

static cml_status rs_run(cml_mil_ctx *ctx, const cml_mil_node *node) {
    const rs_attr *a = node->attr;
    cml_mil_value *x = cml_mil_in(ctx, node, "x"), *out = cml_mil_out(ctx, node, 0);
    int64_t oh = 0, ow = 0, shape[CML_MAX_DIMS];
    CML_TRY(rs_out_size(ctx, node, a, x, x->shape, &oh, &ow));
    rs_shape(a, x, x->shape, oh, ow, shape);
    CML_TRY(cml_mil_resize(ctx, out, x->rank, shape));
    int64_t H = a->resized_dims == 1 ? 1 : x->shape[x->rank - 2], W = x->shape[x->rank - 1];
    int64_t outer = cml_mil_numel(x) / (H * W > 0 ? H * W : 1);
    if (H * W == 0 || oh * ow == 0 || outer == 0) {
        if (cml_mil_numel(out) > 0)
            return cml_mil_fail(ctx, node, CML_ERR_SHAPE, "cannot resample an empty input");
        return CML_OK;
    }
    if (a->nearest) {
        size_t es = cml_dtype_size(x->dtype);
        const uint8_t *xd = x->data;
        uint8_t *od = out->data;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < oh; i++) {
                int64_t si = a->resized_dims == 1 ? 0 : nearest_index(a->mode, i, H, oh, a->scale_h);
                for (int64_t j = 0; j < ow; j++) {
                    int64_t sj = nearest_index(a->mode, j, W, ow, a->scale_w);
                    memcpy(od + (size_t)((o * oh + i) * ow + j) * es,
                           xd + (size_t)((o * H + si) * W + sj) * es, es);
                }
            }
        return CML_OK;
    }
    const float *xd = x->data;
    float *od = out->data;
    for (int64_t o = 0; o < outer; o++) {
        const float *p = xd + o * H * W;
        for (int64_t i = 0; i < oh; i++) {
            double gy = a->resized_dims == 1 ? 0 : grid_point(a->mode, i, H, oh, a->scale_h);
            int64_t y0 = (int64_t)floor(gy), y1 = y0 + 1 < H ? y0 + 1 : H - 1;
            float fy = (float)(gy - (double)y0);
            for (int64_t j = 0; j < ow; j++) {
                double gx = grid_point(a->mode, j, W, ow, a->scale_w);
                int64_t x0 = (int64_t)floor(gx), x1 = x0 + 1 < W ? x0 + 1 : W - 1;
                float fx = (float)(gx - (double)x0);
                float top = p[y0 * W + x0] + (p[y0 * W + x1] - p[y0 * W + x0]) * fx;
                float bot = p[y1 * W + x0] + (p[y1 * W + x1] - p[y1 * W + x0]) * fx;
                od[(o * oh + i) * ow + j] = top + (bot - top) * fy;
            }
        }
    }
    return CML_OK;
}

const cml_mil_op_def cml_mil_op_upsample_nearest_neighbor = {"upsample_nearest_neighbor", up_infer,
                                                             rs_run, false};
const cml_mil_op_def cml_mil_op_upsample_bilinear = {"upsample_bilinear", up_infer, rs_run, false};
const cml_mil_op_def cml_mil_op_resize_bilinear = {"resize_bilinear", resize_fixed_infer, rs_run,
                                                   false};
const cml_mil_op_def cml_mil_op_resize_nearest_neighbor = {"resize_nearest_neighbor",
                                                           resize_fixed_infer, rs_run, false};
const cml_mil_op_def cml_mil_op_resize = {"resize", resize_infer, rs_run, false};
