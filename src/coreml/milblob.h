/*
 * weight.bin: MIL blob storage v2 (shared/reference/coreml-model-format.md
 * section 6). Little-endian throughout.
 *
 *   0     file header, 64 bytes: u32 count, u32 version (= 2), 56 zero bytes
 *   64    record, 64 bytes: u32 sentinel 0xDEADBEEF, u32 blob dtype code,
 *         u64 sizeInBytes, u64 payload offset (absolute), u64 padding bits
 *         (sub-byte types), 32 reserved bytes
 *   ...   payload; next record at round_up(payload end, 64); and so on
 *
 * BlobFileValue.offset names the RECORD, not the payload. The reader never
 * copies: payloads point into the caller's bytes (an mmap, or a file inside
 * an inmemoryfs image at any alignment: payload pointers may be unaligned
 * for their element type; use memcpy or unaligned loads).
 */
#ifndef CML_COREML_MILBLOB_H
#define CML_COREML_MILBLOB_H

#include <stddef.h>
#include <stdint.h>

#include "cml.h"
#include "core/status.h"
#include "coreml/types.h"

#define CML_MILBLOB_VERSION 2u
#define CML_MILBLOB_HEADER_SIZE 64u
#define CML_MILBLOB_RECORD_SIZE 64u
#define CML_MILBLOB_ALIGN 64u
#define CML_MILBLOB_SENTINEL 0xDEADBEEFu
/* Pass as expected_count to skip the element-count check. */
#define CML_MILBLOB_ANY_COUNT UINT64_MAX

typedef struct cml_milblob {
    const uint8_t *data;
    size_t size;
    uint32_t count;             /* header blob count */
    const char *name;           /* for messages, e.g. "weight.bin"; not owned */
} cml_milblob;

typedef struct cml_milblob_record {
    uint64_t record_offset;
    uint32_t blob_dtype;        /* weight.bin code */
    cml_mil_dtype mil_dtype;    /* its MIL equivalent */
    uint64_t size;              /* sizeInBytes */
    uint64_t payload_offset;
    uint32_t padding_bits;
    uint64_t count;             /* elements: size*8/bits minus padding */
    const uint8_t *payload;     /* data + payload_offset; in bounds */
} cml_milblob_record;

/**
 * Checks the file header (size >= 64, version 2). name (may be NULL:
 * "weight.bin") prefixes messages and must outlive the reader.
 * @return CML_OK, CML_ERR_CORRUPT, CML_ERR_UNSUPPORTED (version 1).
 */
cml_status cml_milblob_open(const uint8_t *data, size_t size, const char *name,
                            cml_milblob *out, cml_error *err);

/**
 * Reads and verifies the record at offset: in bounds and past the header,
 * sentinel, known dtype code, padding rules (0 for byte types; < 8 and, for
 * widths 1/2/4, a multiple of the width for sub-byte types), size a whole
 * number of elements, payload inside the file and not overlapping the header
 * or its own record.
 * Messages read "weight.bin record at offset 576: bad sentinel 0x00000000".
 */
cml_status cml_milblob_record_at(const cml_milblob *blob, uint64_t offset,
                                 cml_milblob_record *out, cml_error *err);

/**
 * cml_milblob_record_at plus the referencing value's checks: the record's
 * dtype must be the blob code of mil_dtype, and (unless expected_count is
 * CML_MILBLOB_ANY_COUNT) its element count must equal expected_count.
 */
cml_status cml_milblob_lookup(const cml_milblob *blob, uint64_t offset, int32_t mil_dtype,
                              uint64_t expected_count, cml_milblob_record *out,
                              cml_error *err);

/** Offset where the record after rec would start (round_up(end, 64)); may be
 *  >= the file size. */
uint64_t cml_milblob_next_offset(const cml_milblob_record *rec);

#endif
