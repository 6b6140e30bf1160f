/*
 * Range decoding of constexpr_* weights (ops_constexpr.c), shared by
 * constant folding and the compressed-weight ops (compressed.c,
 * ops_linear_compressed.c), so that both produce the same bits.
 *
 * After the constexpr node's infer() has run, cml_constexpr_decodable()
 * says whether its output can be produced piecewise as fp32: the forms
 * constexpr_blockwise_shift_scale, constexpr_affine_dequantize and
 * constexpr_lut_to_dense (iOS16 packed and iOS18 per-block / vector LUTs)
 * with a float (fp16 / fp32) output. cml_constexpr_decode_range() then writes
 * elements [start, start + count) of the row-major output into dst, rounded
 * to fp16 when the output is declared fp16 (as the folder does), i.e. exactly
 * the values folding would have stored. No allocation; safe to call at run.
 * Sub-byte data and indices are read packed (mil.h packed_bits), straight
 * from the mapped weight file: only the bytes holding [start, start + count).
 */
#ifndef CML_MIL_CONSTEXPR_DECODE_H
#define CML_MIL_CONSTEXPR_DECODE_H

#include "kernels/kernels.h"
#include "mil/mil.h"

bool cml_constexpr_decodable(cml_mil_ctx *ctx, const cml_mil_node *node);

void cml_constexpr_decode_range(cml_mil_ctx *ctx, const cml_mil_node *node, int64_t start,
                                int64_t count, float *dst);

/* For a decodable constexpr_blockwise_shift_scale whose output is a 2-D
 * [N, K] weight of 4-bit (packed) or 8-bit integers with no offset, fills p
 * (kernels.h cml_qgemv_params, bias NULL) so that cml_k_qgemv_f32 decodes
 * exactly what cml_constexpr_decode_range would, and returns true; false for
 * every other form. */
bool cml_constexpr_qgemv_params(cml_mil_ctx *ctx, const cml_mil_node *node,
                                cml_qgemv_params *p);

#endif
