/*
 * libFuzzer target: weight.bin (MIL blob storage v2). Opens the bytes,
 * walks the records from the first one (as a writer lays them out), looks
 * each one up again with its own dtype and count, and reads both ends of
 * every payload the reader declares in bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coreml/milblob.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size + 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    cml_error err = {0};
    cml_milblob blob;
    if (cml_milblob_open(copy, size, NULL, &blob, &err) == CML_OK) {
        uint64_t off = CML_MILBLOB_HEADER_SIZE;
        for (int i = 0; i < MAX_RECORDS && off < size; i++) {
            cml_milblob_record rec, again;
            if (cml_milblob_record_at(&blob, off, &rec, &err) != CML_OK) break;
            fuzz_touch_ends(rec.payload, (size_t)rec.size);
            if (cml_milblob_lookup(&blob, off, (int32_t)rec.mil_dtype, rec.count, &again, &err) !=
                    CML_OK ||
                again.payload != rec.payload)
                __builtin_trap(); /* the same record must look up the same way */
            uint64_t next = cml_milblob_next_offset(&rec);
            if (next <= off) break;
            off = next;
        }
        /* Arbitrary offsets from the input itself. */
        for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
            uint64_t o;
            memcpy(&o, copy + i, 8);
            cml_milblob_record rec;
            if (cml_milblob_record_at(&blob, o, &rec, &err) == CML_OK)
                fuzz_touch_ends(rec.payload, (size_t)rec.size);
        }
    }
    free(copy);
    return 0;
}
