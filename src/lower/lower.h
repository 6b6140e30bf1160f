/*
 * `cml lower`: turns a portable ExecuTorch program into the Core
 * ML-delegated program that to_edge_transform_and_lower(CoreMLPartitioner)
 * would write.
 *
 * Pipeline (one file each):
 *   partition.c     which kernel calls of each plan go to Core ML, grouped
 *                   into subgraphs (contiguous runs of convertible calls)
 *   convert.c       one subgraph -> MIL ops, through the op table
 *                   lower_ops.inc (one line per aten op: check + convert)
 *   mil_write.c     MIL ops / consts -> model.mlmodel protobuf + weight.bin
 *   payload_write.c the .mlpackage, metadata.json and the debug-handle
 *                   mapping -> one inmemoryfs image (the processed blob)
 *   pte_write.c     the new program: values renumbered, delegate calls in
 *                   place of the lowered calls, constants and memory plan
 *                   redone, segments laid out as serialize_pte_binary does
 *   lower.c         the entry point cml_lower_pte
 */
#ifndef CML_LOWER_LOWER_H
#define CML_LOWER_LOWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "lower/lbuf.h"
#include "pte/pte.h"

/* Options, as the CLI spells them. */
typedef struct cml_lower_options {
    bool fp16;                  /* --compute-precision (default fp16, as upstream) */
    int min_target;             /* --min-deployment-target: 0 none, 15..18 = iOS15..18 */
    const char *compute_units;  /* all | cpu_only | cpu_and_gpu | cpu_and_ne */
    const char *skip_ops;       /* "aten::x,aten::y" or NULL */
    bool lower_full_graph;
    bool relower;               /* accept (and keep) existing delegates */
    /* --quantize: every linear / conv weight of at least weight_threshold
     * elements (the CLI's default 2048, coremltools' weight_threshold) is
     * quantized, symmetric (zero point 0). 8: int8, one scale per output
     * channel (constexpr_affine_dequantize, iOS16 or later). 4: int4
     * (constexpr_blockwise_shift_scale, iOS18), one scale per block_size
     * input elements of a linear weight's row (0: per output channel; a conv
     * weight, or a row block_size does not divide, is per output channel).
     * 0: none. */
    int quantize_bits;
    uint32_t weight_threshold;
    uint32_t block_size;
    /* --palettize: such weights become constexpr_lut_to_dense (iOS18) with
     * 2^palettize_bits entries (1, 2, 3, 4, 6 or 8 bits; 0: none) per group
     * of group_size output channels (0, or one that does not divide them:
     * one table), from a 1-D k-means of the group's values. Not with
     * quantize_bits. progress (may be NULL) is called after each group. */
    int palettize_bits;
    uint32_t group_size;
    void (*progress)(void *ctx, const char *weight, uint32_t done, uint32_t total);
    void *progress_ctx;
} cml_lower_options;

/* What happened, for the CLI's report. */
#define CML_LOWER_MAX_REPORT 64
#define CML_LOWER_MAX_IO 64          /* inputs or outputs of one subgraph */
typedef struct cml_lower_report {
    uint32_t ndelegates;        /* subgraphs written */
    uint32_t nlowered;          /* kernel calls replaced */
    uint32_t nportable;         /* kernel calls kept */
    uint32_t nunsupported;      /* distinct ops kept because not convertible */
    char unsupported[CML_LOWER_MAX_REPORT][160];  /* "aten::foo.out: reason" (first ones) */
} cml_lower_report;

/**
 * Lowers the .pte image in (size bytes, 16-byte aligned) and returns the new
 * file in *out (malloc'd, caller frees; *out_size bytes).
 * @return CML_OK; CML_ERR_CORRUPT for a malformed input; CML_ERR_UNSUPPORTED
 *         for an already delegated input without relower, for program
 *         features the lowering does not handle yet, and for
 *         lower_full_graph with ops left (message names them);
 *         CML_ERR_INVALID_ARG for bad options; CML_ERR_NOMEM.
 */
cml_status cml_lower_pte(const uint8_t *in, size_t size, const cml_lower_options *opts,
                         uint8_t **out, size_t *out_size, cml_lower_report *report,
                         cml_error *err);

/* ---- partition.c ------------------------------------------------------ */

/* One subgraph: instructions [first, last] of chain 0, all kernel calls
 * that convert. */
typedef struct cml_lower_group {
    uint32_t first, last;
} cml_lower_group;

/* Marks every instruction of plan chain 0 that the op table converts
 * (kernel calls whose op is in the table, not skipped, and whose check
 * passes), then groups contiguous runs. groups has room for ninstr
 * entries. Unsupported ops are added to the report. */
cml_status cml_lower_partition(const cml_pte_plan *plan, const cml_lower_options *opts,
                               cml_lower_group *groups, uint32_t *ngroups,
                               cml_lower_report *report, cml_error *err);

/* ---- convert.c -------------------------------------------------------- */

/* The delegate a group became: its blob and I/O (value indices in the
 * input plan, in DelegateCall order). */
typedef struct cml_lower_delegate {
    cml_lbuf blob;              /* inmemoryfs image */
    int32_t *inputs;
    uint32_t ninputs;
    int32_t *outputs;
    uint32_t noutputs;
} cml_lower_delegate;

void cml_lower_delegate_free(cml_lower_delegate *d);

/* Converts group g of plan (program input) into an ML Program and packs
 * it (payload_write.c). */
cml_status cml_lower_convert(const cml_pte_plan *plan, const cml_lower_group *g,
                             const cml_lower_options *opts, cml_lower_delegate *out,
                             cml_error *err);

/* Whether op name.overload is in the op table and its check accepts
 * instruction ins of plan; *why gets a reason when it does not. */
bool cml_lower_op_supported(const cml_pte_plan *plan, const cml_pte_instruction *ins,
                            const char **why);

/* view[i]: value i is a memory-planned view: a planned tensor that is not a
 * plan input and that no instruction writes (the last argument of a kernel
 * call, the items of a returned list, delegate and move targets); it
 * shares the storage of the tensor it views. view holds nvalues. */
void cml_lower_find_views(const cml_pte_plan *plan, bool *view);

/* The tensor view v (view[v]) shows when instruction `before` of chain 0
 * reads it: the last tensor written, by an instruction before it, on the
 * same storage (same arena, offset and size) that is not itself a view; a
 * plan input on that storage; or -1. */
int32_t cml_lower_view_source(const cml_pte_plan *plan, const bool *view, int32_t v,
                              uint32_t before);

/* ---- pte_write.c ------------------------------------------------------ */

/* One plan's lowering result: groups and their delegates. */
typedef struct cml_lower_plan_result {
    cml_lower_group *groups;
    cml_lower_delegate *delegates;
    uint32_t ngroups;
} cml_lower_plan_result;

/* Writes the new program: prog with each plan's groups replaced by
 * delegate calls (results[p] for plan p). */
cml_status cml_lower_write_pte(const cml_pte_program *prog, const cml_lower_plan_result *results,
                               const cml_lower_options *opts, cml_lbuf *out, cml_error *err);

#endif
