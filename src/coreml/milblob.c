/* weight.bin (MIL blob storage v2) reader; see milblob.h. */
#include "coreml/milblob.h"

#include <string.h>

#include "core/checked.h"

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

cml_status cml_milblob_open(const uint8_t *data, size_t size, const char *name, cml_milblob *out,
                            cml_error *err) {
    if (!name) name = "weight.bin";
    if (!data || size < CML_MILBLOB_HEADER_SIZE)
        return cml_fail(err, CML_ERR_CORRUPT, "%s: %zu bytes, shorter than the %u-byte header",
                        name, size, CML_MILBLOB_HEADER_SIZE);
    uint32_t count = rd32(data), version = rd32(data + 4);
    if (version != CML_MILBLOB_VERSION)
        return cml_fail(err, version == 1 ? CML_ERR_UNSUPPORTED : CML_ERR_CORRUPT,
                        "%s: storage version %u (only version 2 is supported)", name, version);
    /* Each blob takes at least one 64-byte record. */
    if ((uint64_t)count > (size - CML_MILBLOB_HEADER_SIZE) / CML_MILBLOB_RECORD_SIZE)
        return cml_fail(err, CML_ERR_CORRUPT, "%s: header claims %u blobs, more than %zu bytes "
                        "can hold", name, count, size);
    out->data = data;
    out->size = size;
    out->count = count;
    out->name = name;
    return CML_OK;
}

cml_status cml_milblob_record_at(const cml_milblob *blob, uint64_t offset,
                                 cml_milblob_record *out, cml_error *err) {
    const char *name = blob->name ? blob->name : "weight.bin";
    unsigned long long off = (unsigned long long)offset;
    if (offset < CML_MILBLOB_HEADER_SIZE || !cml_range_ok(offset, CML_MILBLOB_RECORD_SIZE, blob->size))
        return cml_fail(err, CML_ERR_CORRUPT, "%s record at offset %llu: outside the file's "
                        "records (file is %zu bytes, header %u)", name, off, blob->size,
                        CML_MILBLOB_HEADER_SIZE);
    const uint8_t *r = blob->data + offset;
    uint32_t sentinel = rd32(r);
    if (sentinel != CML_MILBLOB_SENTINEL)
        return cml_fail(err, CML_ERR_CORRUPT, "%s record at offset %llu: bad sentinel 0x%08x",
                        name, off, sentinel);
    cml_milblob_record rec = {0};
    rec.record_offset = offset;
    rec.blob_dtype = rd32(r + 4);
    rec.size = rd64(r + 8);
    rec.payload_offset = rd64(r + 16);
    uint64_t padding = rd64(r + 24);
    rec.mil_dtype = cml_blob_dtype_to_mil(rec.blob_dtype);
    if (rec.mil_dtype == CML_MIL_UNUSED)
        return cml_fail(err, CML_ERR_UNSUPPORTED, "%s record at offset %llu: unknown dtype code "
                        "%u", name, off, rec.blob_dtype);
    unsigned bits = cml_mil_dtype_bits(rec.mil_dtype);
    if (bits >= 8) {
        if (padding != 0)
            return cml_fail(err, CML_ERR_CORRUPT, "%s record at offset %llu: padding of %llu bits "
                            "for %s (byte-sized type)", name, off, (unsigned long long)padding,
                            cml_blob_dtype_name(rec.blob_dtype));
        if (rec.size % (bits / 8) != 0)
            return cml_fail(err, CML_ERR_CORRUPT, "%s record at offset %llu: size %llu is not a "
                            "multiple of %u (%s)", name, off, (unsigned long long)rec.size,
                            bits / 8, cml_blob_dtype_name(rec.blob_dtype));
        rec.count = rec.size / (bits / 8);
    } else {
        if (padding >= 8 || ((bits == 1 || bits == 2 || bits == 4) && padding % bits != 0))
            return cml_fail(err, CML_ERR_CORRUPT, "%s record at offset %llu: invalid padding of "
                            "%llu bits for %s", name, off, (unsigned long long)padding,
                            cml_blob_dtype_name(rec.blob_dtype));
        if (rec.size == 0 && padding != 0)
            return cml_fail(err, CML_ERR_CORRUPT, "%s record at offset %llu: padding without "
                            "data", name, off);
        uint64_t total_bits;
        if (!cml_mul_u64(rec.size, 8, &total_bits) || (total_bits - padding) % bits != 0)
            return cml_fail(err, CML_ERR_CORRUPT, "%s record at offset %llu: %llu bytes minus %llu "
                            "padding bits is not a whole number of %u-bit elements", name, off,
                            (unsigned long long)rec.size, (unsigned long long)padding, bits);
        rec.count = (total_bits - padding) / bits;
    }
    rec.padding_bits = (uint32_t)padding;
    if (!cml_range_ok(rec.payload_offset, rec.size, blob->size) ||
        rec.payload_offset < CML_MILBLOB_HEADER_SIZE)
        return cml_fail(err, CML_ERR_CORRUPT, "%s record at offset %llu: payload [offset %llu, "
                        "size %llu] outside the file (%zu bytes)", name, off,
                        (unsigned long long)rec.payload_offset, (unsigned long long)rec.size,
                        blob->size);
    if (rec.size > 0 && rec.payload_offset < offset + CML_MILBLOB_RECORD_SIZE &&
        offset < rec.payload_offset + rec.size)
        return cml_fail(err, CML_ERR_CORRUPT, "%s record at offset %llu: payload at %llu overlaps "
                        "the record", name, off, (unsigned long long)rec.payload_offset);
    rec.payload = blob->data + rec.payload_offset;
    *out = rec;
    return CML_OK;
}

cml_status cml_milblob_lookup(const cml_milblob *blob, uint64_t offset, int32_t mil_dtype,
                              uint64_t expected_count, cml_milblob_record *out, cml_error *err) {
    const char *name = blob->name ? blob->name : "weight.bin";
    uint32_t want = cml_mil_dtype_to_blob(mil_dtype);
    if (want == 0)
        return cml_fail(err, CML_ERR_CORRUPT, "%s record at offset %llu: a %s value cannot be "
                        "stored in a blob file", name, (unsigned long long)offset,
                        cml_mil_dtype_name(mil_dtype));
    cml_milblob_record rec;
    CML_TRY(cml_milblob_record_at(blob, offset, &rec, err));
    if (rec.blob_dtype != want)
        return cml_fail(err, CML_ERR_CORRUPT, "%s record at offset %llu: dtype %s (code %u) does "
                        "not match the value's %s (expects code %u)", name,
                        (unsigned long long)offset, cml_blob_dtype_name(rec.blob_dtype),
                        rec.blob_dtype, cml_mil_dtype_name(mil_dtype), want);
    if (expected_count != CML_MILBLOB_ANY_COUNT && rec.count != expected_count)
        return cml_fail(err, CML_ERR_CORRUPT, "%s record at offset %llu: holds %llu elements, the "
                        "value's shape needs %llu", name, (unsigned long long)offset,
                        (unsigned long long)rec.count, (unsigned long long)expected_count);
    *out = rec;
    return CML_OK;
}

uint64_t cml_milblob_next_offset(const cml_milblob_record *rec) {
    uint64_t end = rec->payload_offset + rec->size; /* in bounds of a size_t file */
    return (end + (CML_MILBLOB_ALIGN - 1)) & ~(uint64_t)(CML_MILBLOB_ALIGN - 1);
}
