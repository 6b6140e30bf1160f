/*
 * Compressed weights kept compressed at run (issue 5).
 *
 * cml_mil_compressed_mark() runs after the graph is built and before
 * inference/folding. A constexpr_blockwise_shift_scale,
 * constexpr_affine_dequantize or constexpr_lut_to_dense node whose only use
 * is the `weight` of a linear is "deferred": its def becomes
 * cml_mil_op_constexpr_deferred (infer = the constexpr's own infer, which
 * validates the compressed data; the node is then marked folded so it never
 * runs, and its output gets neither data nor arena space), and the linear
 * becomes cml_mil_op_linear_compressed, which decodes the weight tile by
 * tile into scratch (constexpr_decode.h) and runs the same gemm.
 * When the constexpr's output turns out not to be decodable (an integer
 * LUT, say), both nodes go back to their ordinary defs during inference and
 * the weight is folded as before.
 *
 * Such a constexpr whose only use is a conv, conv_transpose, matmul or
 * einsum (any parameter, same block) becomes cml_mil_op_constexpr_at_use
 * instead: it is moved to just before its consumer and runs there each
 * call, decoding the whole tensor (over the thread pool) into an fp32 arena
 * buffer that lives for that one step, so the consumer runs unchanged on the
 * values folding would have stored and only the compressed bytes stay
 * resident. A form that is not decodable goes back to its def and is folded.
 *
 * cml_mil_compressed_release() runs after folding: the data of constant
 * values that no executed op, deferred constexpr or block output reads any
 * more (e.g. the unpacked indices of a folded lut_to_dense, intermediate
 * folded results) is freed when the graph owns it; data that points into the
 * mapped model file is simply dropped.
 *
 * cml_mil_weight_stats() summarizes constant bytes for `cml inspect`.
 */
#ifndef CML_MIL_COMPRESSED_H
#define CML_MIL_COMPRESSED_H

#include <stdio.h>

#include "kernels/kernels.h"
#include "mil/mil.h"

extern const cml_mil_op_def cml_mil_op_constexpr_deferred;
extern const cml_mil_op_def cml_mil_op_linear_compressed;
extern const cml_mil_op_def cml_mil_op_constexpr_at_use;

/* Set on a linear_compressed node (node->attr) by the marking pass; the
 * rest is filled by its infer(). */
typedef struct cml_mil_compressed_attr {
    const cml_mil_node *src;   /* the deferred constexpr node */
    int64_t tile;              /* weight rows decoded per gemm */
    bool gemv;                 /* one-row x: cml_k_qgemv_f32 straight from qgemv */
    cml_qgemv_params qgemv;    /* the weight as the quantized GEMV reads it */
} cml_mil_compressed_attr;

cml_status cml_mil_compressed_mark(cml_mil_graph *g, cml_error *err);

/* Tests only (not thread-safe): false makes every later compile fold all
 * constexpr weights (the dense reference path); true (the default) keeps
 * them compressed as above. */
void cml_mil_compressed_enable_for_testing(bool on);
bool cml_mil_compressed_deferred(const cml_mil_node *node);
void cml_mil_compressed_release(cml_mil_graph *g);

typedef struct cml_mil_weight_stats {
    size_t file_bytes;        /* constant tensor bytes as stored in the model */
    size_t resident_bytes;    /* constant bytes the executed ops read */
    uint32_t compressed_ops;  /* ops decoding a compressed weight at run */
    uint32_t materialized;    /* constexpr ops folded to a dense tensor at load */
    const cml_mil_node *first_materialized;
} cml_mil_weight_stats;

void cml_mil_weight_stats_get(const cml_mil_graph *g, cml_mil_weight_stats *out);

/* Appends "; weights: X bytes in the file, Y bytes resident after load (Z ops
 * read compressed weights, W materialized: 'op', ...)" to a describe line. */
void cml_mil_describe_weights(const cml_mil_graph *g, FILE *out);

#endif
