#include "coreml/pbwire.h"

static bool read_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out) {
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len) return false;
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false; /* more than 10 bytes */
}

static cml_status check(const ProtobufCMessageDescriptor *desc, const uint8_t *p, size_t len,
                        unsigned depth, unsigned max_depth, const char *what, size_t base,
                        cml_error *err) {
    if (depth > max_depth)
        return cml_fail(err, CML_ERR_CORRUPT, "%s: messages nested deeper than %u levels (at byte "
                        "%zu)", what, max_depth, base);
    size_t pos = 0;
    while (pos < len) {
        size_t at = pos;
        uint64_t tag, v;
        if (!read_varint(p, len, &pos, &tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
            return cml_fail(err, CML_ERR_CORRUPT, "%s: bad field tag at byte %zu", what, base + at);
        uint32_t number = (uint32_t)(tag >> 3);
        switch (tag & 7) {
        case 0:
            if (!read_varint(p, len, &pos, &v))
                return cml_fail(err, CML_ERR_CORRUPT, "%s: truncated varint (field %u) at byte "
                                "%zu", what, number, base + at);
            break;
        case 1:
        case 5: {
            size_t n = (tag & 7) == 1 ? 8 : 4;
            if (len - pos < n)
                return cml_fail(err, CML_ERR_CORRUPT, "%s: truncated fixed field %u at byte %zu",
                                what, number, base + at);
            pos += n;
            break;
        }
        case 2: {
            if (!read_varint(p, len, &pos, &v) || v > len - pos)
                return cml_fail(err, CML_ERR_CORRUPT, "%s: field %u at byte %zu: length runs past "
                                "the end of its message", what, number, base + at);
            const ProtobufCFieldDescriptor *f =
                desc ? protobuf_c_message_descriptor_get_field(desc, number) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE)
                CML_TRY(check(f->descriptor, p + pos, (size_t)v, depth + 1, max_depth, what,
                              base + pos, err));
            pos += (size_t)v;
            break;
        }
        default:
            return cml_fail(err, CML_ERR_CORRUPT, "%s: unsupported wire type %u (field %u) at byte "
                            "%zu", what, (unsigned)(tag & 7), number, base + at);
        }
    }
    return CML_OK;
}

cml_status cml_pb_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                        unsigned max_depth, const char *what, cml_error *err) {
    return check(desc, data, len, 1, max_depth, what, 0, err);
}

uint32_t cml_pb_find_field(const uint8_t *data, size_t len, uint32_t lo, uint32_t hi) {
    size_t pos = 0;
    while (pos < len) {
        uint64_t tag, v;
        if (!read_varint(data, len, &pos, &tag)) return 0;
        uint32_t number = (uint32_t)(tag >> 3);
        switch (tag & 7) {
        case 0:
            if (!read_varint(data, len, &pos, &v)) return 0;
            break;
        case 1: pos += 8; break;
        case 5: pos += 4; break;
        case 2:
            if (!read_varint(data, len, &pos, &v) || v > len - pos) return 0;
            if (number >= lo && number <= hi) return number;
            pos += (size_t)v;
            break;
        default: return 0;
        }
    }
    return 0;
}
