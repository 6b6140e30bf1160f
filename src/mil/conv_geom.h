/* Convolution geometry shared by conv, conv_transpose and conv_quantized:
 * the spatial parameters as MIL states them, and their translation into the
 * kernel layer's 2-D parameters (1-D convs run as H = 1). */
#ifndef CML_MIL_CONV_GEOM_H
#define CML_MIL_CONV_GEOM_H

#include "kernels/kernels.h"
#include "mil/ops.h"

typedef struct cml_milop_conv_geom {
    int32_t sdims;                /* 1, 2 or 3 (3-D: conv / conv_transpose only) */
    cml_milop_pad_type pad_type;
    int64_t strides[3], dilations[3], pad[6];
    int64_t groups;
} cml_milop_conv_geom;

/* Reads pad_type, strides, dilations, pad and groups (with MIL's defaults)
 * for an op with `sdims` spatial dims, and validates their ranges. */
cml_status cml_milop_conv_geom_read(cml_mil_ctx *ctx, const cml_mil_node *node, int32_t sdims,
                                    cml_milop_conv_geom *g);

/* Fills p (as 2-D) from the x and weight shapes; false when the window does
 * not fit (empty output). */
bool cml_milop_conv_params(const cml_milop_conv_geom *g, const int64_t *xs, const int64_t *ws,
                           cml_conv2d_params *p);

/* [N, C_out, (H_out,) W_out] of a conv with parameters p. */
void cml_milop_conv_out_shape(const cml_milop_conv_geom *g, const cml_conv2d_params *p,
                              int64_t *shape);

/* Infer tail shared by the convs: sizes the node's scratch and declares
 * output 0 for x convolved with a weight of shape ws (fp16 bits when w16). */
cml_status cml_milop_conv_declare(cml_mil_ctx *ctx, cml_mil_node *node,
                                  const cml_milop_conv_geom *g, const cml_mil_value *x,
                                  const int64_t *ws, bool w16);

/* Run body shared by the convs: checks x against the weight shape ws,
 * resizes output 0 and runs the kernel with the clamp [act_min, act_max]
 * (-inf/inf for none). w holds floats, or fp16 bits when w16 (as declared).
 * res (NULL: none) is a residual of the output's shape added in the
 * epilogue (fuse.h cml_mil_fuse_residual). */
cml_status cml_milop_conv_execute(cml_mil_ctx *ctx, const cml_mil_node *node,
                                  const cml_milop_conv_geom *g, const cml_mil_value *x,
                                  const int64_t *ws, const void *w, bool w16,
                                  const cml_mil_value *bias, const cml_mil_value *res,
                                  float act_min, float act_max);

#endif
