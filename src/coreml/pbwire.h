/*
 * Protobuf wire-format pre-checks, run before protobuf-c's unpack (which
 * recurses once per nested message and has no depth limit of its own).
 */
#ifndef CML_COREML_PBWIRE_H
#define CML_COREML_PBWIRE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/**
 * Walks a serialized message of type desc: every tag, varint and length must
 * be well formed and in bounds, and message-typed fields (map entries
 * included) may nest at most max_depth levels. Unknown fields are skipped.
 * what names the file in messages ("model.mlmodel").
 * @return CML_OK or CML_ERR_CORRUPT.
 */
cml_status cml_pb_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                        unsigned max_depth, const char *what, cml_error *err);

/** Number of the first top-level length-delimited field whose number is in
 *  [lo, hi], or 0. Bounds-checked: safe on any bytes (a top-level scan,
 *  no nesting). */
uint32_t cml_pb_find_field(const uint8_t *data, size_t len, uint32_t lo, uint32_t hi);

#endif
