/*
 * A verified, decoded ExecuTorch program (.pte).
 *
 * File layout (little-endian; see shared/reference/pte-format.md):
 *   0   u32 root table offset        4  "ET12"
 *   8   "eh00" extended header (optional): u32 header_length (24 or 32),
 *       u64 program_size, u64 segment_base_offset, [u64 segment_data_size]
 *   ... FlatBuffers body (Program table) up to program_size
 *   segment_base_offset + DataSegment.offset: segment bytes
 *
 * cml_pte_parse verifies the whole flatbuffer (offsets, vtables, strings,
 * vectors, alignment, enum values, index ranges, size overflow) and the
 * semantic rules (value kinds, tensor shapes, planned tensors inside their
 * arenas, constants inside their segment) before returning. Afterwards every
 * pointer below is in bounds and every index in range, so the executor does
 * not re-check.
 *
 * Bulk data (strings, constants, delegate blobs, named data) points into the
 * caller's buffer, which must outlive the cml_pte_program. Everything else is
 * in one allocation owned by the program (freed by cml_pte_free).
 */
#ifndef CML_PTE_PTE_H
#define CML_PTE_PTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cml.h"
#include "core/status.h"

/* A string inside the flatbuffer: NUL-terminated, len excludes the NUL. */
typedef struct cml_str {
    const char *ptr;
    uint32_t len;
} cml_str;

/* EValue kinds, numbered as the schema's KernelTypes union. */
typedef enum cml_value_kind {
    CML_VALUE_NONE = 0, /* never present after verification */
    CML_VALUE_NULL = 1,
    CML_VALUE_INT = 2,
    CML_VALUE_BOOL = 3,
    CML_VALUE_DOUBLE = 4,
    CML_VALUE_TENSOR = 5,
    CML_VALUE_STRING = 6,
    CML_VALUE_INT_LIST = 7,
    CML_VALUE_DOUBLE_LIST = 8,
    CML_VALUE_BOOL_LIST = 9,
    CML_VALUE_TENSOR_LIST = 10,
    CML_VALUE_OPT_TENSOR_LIST = 11,
} cml_value_kind;

typedef struct cml_pte_tensor {
    cml_dtype dtype;
    int32_t rank;
    int64_t sizes[CML_MAX_DIMS];     /* upper bound when dynamism != 0 */
    uint8_t dim_order[CML_MAX_DIMS];
    uint8_t dynamism;                /* enum cml_dynamism */
    uint32_t data_buffer_idx;
    bool planned;                    /* has allocation_info */
    uint32_t memory_id;              /* 1-based arena id when planned */
    uint64_t memory_offset;
    size_t nbytes;                   /* numel * element size at the bound */
    /* Constant data (data_buffer_idx > 0, not planned), verified to hold
     * nbytes; NULL otherwise. */
    const uint8_t *constant_data;
    /* Initial state of a planned mutable buffer (data_buffer_idx > 0 and
     * planned), nbytes long; NULL otherwise. */
    const uint8_t *initial_data;
    bool external;                   /* extra_tensor_info.location == EXTERNAL */
    cml_str fqn;                     /* extra_tensor_info.fully_qualified_name */
} cml_pte_tensor;

typedef struct cml_pte_value {
    cml_value_kind kind;
    union {
        int64_t i;
        bool b;
        double d;
        cml_str s;
        cml_pte_tensor *tensor;
        /* INT_LIST: value indices of Int values (boxed, per the schema). */
        struct { const int64_t *items; uint32_t count; } int_list;
        struct { const double *items; uint32_t count; } double_list;
        struct { const uint8_t *items; uint32_t count; } bool_list;
        /* TENSOR_LIST / OPT_TENSOR_LIST: value indices; -1 = None (optional only). */
        struct { const int32_t *items; uint32_t count; } tensor_list;
    } u;
} cml_pte_value;

typedef enum cml_instr_kind {
    CML_INSTR_KERNEL_CALL = 1,
    CML_INSTR_DELEGATE_CALL = 2,
    CML_INSTR_MOVE_CALL = 3,
    CML_INSTR_JUMP_FALSE_CALL = 4,
    CML_INSTR_FREE_CALL = 5,
} cml_instr_kind;

typedef struct cml_pte_instruction {
    cml_instr_kind kind;
    /* KERNEL_CALL: a = op_index; DELEGATE_CALL: a = delegate_index;
     * MOVE_CALL: a = move_from, b = move_to;
     * JUMP_FALSE_CALL: a = cond_value_index, b = destination_instruction;
     * FREE_CALL: a = value_index. All verified in range. */
    int32_t a, b;
    const int32_t *args; /* KERNEL_CALL / DELEGATE_CALL value indices */
    uint32_t nargs;
} cml_pte_instruction;

typedef struct cml_pte_chain {
    cml_pte_instruction *instructions;
    uint32_t ninstructions;
} cml_pte_chain;

typedef struct cml_pte_operator {
    cml_str name;      /* "aten::add" */
    cml_str overload;  /* "out", may be empty */
} cml_pte_operator;

typedef struct cml_pte_compile_spec {
    cml_str key;
    const uint8_t *value;
    uint32_t value_len;
} cml_pte_compile_spec;

enum cml_data_location { CML_DATA_INLINE = 0, CML_DATA_SEGMENT = 1 };

typedef struct cml_pte_delegate {
    cml_str id;                 /* backend id, e.g. "CoreMLBackend" */
    uint8_t location;           /* enum cml_data_location */
    uint32_t index;             /* into backend_delegate_data or segments */
    const uint8_t *data;        /* resolved processed bytes */
    size_t size;
    cml_pte_compile_spec *specs;
    uint32_t nspecs;
} cml_pte_delegate;

typedef struct cml_pte_plan {
    cml_str name;
    cml_str input_spec;   /* container_meta_type.encoded_inp_str (opaque) */
    cml_str output_spec;
    cml_pte_value *values;
    uint32_t nvalues;
    const int32_t *inputs;
    uint32_t ninputs;
    const int32_t *outputs;
    uint32_t noutputs;
    cml_pte_chain *chains;
    uint32_t nchains;
    cml_pte_operator *operators;
    uint32_t noperators;
    cml_pte_delegate *delegates;
    uint32_t ndelegates;
    /* non_const_buffer_sizes as stored: entry 0 reserved; arena i (0-based)
     * has size buffer_sizes[i + 1]. */
    const int64_t *buffer_sizes;
    uint32_t nbuffer_sizes;
} cml_pte_plan;

typedef struct cml_pte_segment {
    uint64_t offset;      /* relative to segment_base_offset */
    uint64_t size;
    const uint8_t *data;  /* verified in bounds */
} cml_pte_segment;

typedef struct cml_pte_named_data {
    cml_str key;
    uint32_t segment_index;
    const uint8_t *data;
    size_t size;
} cml_pte_named_data;

typedef struct cml_pte_program {
    /* header */
    bool has_extended_header;
    uint32_t header_length;        /* 0 without extended header */
    uint64_t program_size;
    uint64_t segment_base_offset;
    uint64_t segment_data_size;
    uint32_t version;

    cml_pte_plan *plans;
    uint32_t nplans;
    cml_pte_segment *segments;
    uint32_t nsegments;
    cml_pte_named_data *named_data;
    uint32_t nnamed_data;
    /* Constants: true when the deprecated inline constant_buffer is used. */
    bool uses_constant_buffer;
    uint32_t nconstants;           /* number of constant slots (incl. reserved 0) */
    uint32_t nmutable_offsets;     /* offsets in mutable_data_segments[0] */

    void *storage;                 /* single allocation backing the arrays */
    const cml_allocator *allocator;
} cml_pte_program;

/**
 * Verifies and decodes a .pte image of size bytes at data (which must be
 * 16-byte aligned and outlive the program).
 * @return CML_OK, or CML_ERR_CORRUPT / CML_ERR_UNSUPPORTED with err->msg
 *         naming the table path and field ("ExecutionPlan[0].values[12]
 *         Tensor.sizes: 17 dims (max 16)"); CML_ERR_UNSUPPORTED for
 *         schema-valid ScalarTypes cml has no dtype for (QINT8, FLOAT8...)
 *         and for constants not aligned to their element size;
 *         CML_ERR_INVALID_ARG for a NULL or unaligned data pointer.
 *         *out is zeroed on failure (cml_pte_free on it is a no-op).
 */
cml_status cml_pte_parse(const uint8_t *data, size_t size, const cml_allocator *allocator,
                         cml_pte_program *out, cml_error *err);

/** Frees what cml_pte_parse allocated. Safe on a zeroed struct. */
void cml_pte_free(cml_pte_program *program);

/** Finds a plan by name, or NULL. */
const cml_pte_plan *cml_pte_find_plan(const cml_pte_program *program, const char *name);

/** Finds named data by exact key, or NULL. */
const cml_pte_named_data *cml_pte_find_named_data(const cml_pte_program *program,
                                                  const char *key, size_t key_len);

#endif
