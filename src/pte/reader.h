/*
 * Internal state of cml_pte_parse, shared by program.c (header, Program
 * table, segments, constants) and plan.c (ExecutionPlan and below).
 *
 * Parsing runs two passes over the same bytes:
 *   1. size pass: verifies the tables it opens and adds up the bytes of every
 *      decoded array (cml_pte_need), so that
 *   2. the decode pass can carve all arrays out of one allocation
 *      (cml_pte_take) while running the full verification.
 */
#ifndef CML_PTE_READER_H
#define CML_PTE_READER_H

#include "pte/fb.h"
#include "pte/pte.h"

/* A resolved inline byte buffer (Buffer.storage, BackendDelegateInlineData.data). */
typedef struct cml_pte_bytes {
    const uint8_t *data;
    size_t size;
} cml_pte_bytes;

typedef struct cml_pte_ctx {
    cml_fb fb;
    const uint8_t *file;
    size_t file_size;
    cml_pte_program *prog;
    cml_error *err;

    /* size pass: bytes needed; decode pass: the arena. */
    bool sizing;
    size_t need;
    uint8_t *arena;
    size_t arena_size;
    size_t arena_used;

    /* Program-level data the plans refer to (decode pass only). */
    cml_pte_bytes *const_bufs;        /* deprecated constant_buffer */
    uint32_t nconst_bufs;
    cml_pte_bytes *inline_data;       /* backend_delegate_data */
    uint32_t ninline_data;
    cml_fb_vec const_offsets;         /* constant_segment.offsets (u64) */
    uint32_t const_segment;           /* constant_segment.segment_index, verified */
    bool has_mutable;                 /* mutable_data_segments[0] exists */
    cml_fb_vec mutable_offsets;       /* mutable_data_segments[0].offsets (u64) */
    uint32_t mutable_segment;         /* its segment_index, verified when offsets exist */
} cml_pte_ctx;

/* Size pass: reserve n elements of size bytes. */
cml_status cml_pte_need(cml_pte_ctx *ctx, size_t n, size_t size);
/* Decode pass: n zeroed elements of size bytes from the arena (NULL for n == 0). */
cml_status cml_pte_take(cml_pte_ctx *ctx, size_t n, size_t size, void **out);

/* plan.c */
cml_status cml_pte_size_plan(cml_pte_ctx *ctx, const cml_fb_table *plan);
cml_status cml_pte_decode_plan(cml_pte_ctx *ctx, const cml_fb_table *plan, cml_pte_plan *out);

#endif
