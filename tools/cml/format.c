/* Human-readable shapes and tensor values for the CLI's output. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "core/fp16.h"

size_t cli_numel(int32_t rank, const int64_t *sizes) {
    size_t n = 1;
    for (int32_t i = 0; i < rank; i++) n *= (size_t)sizes[i];
    return n;
}

const char *cli_shape_str(int32_t rank, const int64_t *sizes, char *buf, size_t size) {
    size_t n = 0;
    buf[0] = '\0';
    int k = snprintf(buf, size, "[");
    for (int32_t i = 0; k >= 0 && (size_t)k < size - n && i < rank; i++) {
        n += (size_t)k;
        k = snprintf(buf + n, size - n, i ? ", %" PRId64 : "%" PRId64, sizes[i]);
    }
    if (k >= 0 && (size_t)k < size - n) {
        n += (size_t)k;
        snprintf(buf + n, size - n, "]");
    }
    return buf;
}

const char *cli_io_shape_str(const cml_io_shape *s, char *buf, size_t size) {
    size_t n = 0;
    buf[0] = '\0';
#define CLI_PUT(...)                                                                    \
    do {                                                                                \
        int k_ = snprintf(buf + n, size - n, __VA_ARGS__);                              \
        if (k_ < 0 || (size_t)k_ >= size - n) return buf;                               \
        n += (size_t)k_;                                                                \
    } while (0)
    if (s->nenumerated) {
        CLI_PUT("{");
        for (size_t k = 0; k < s->nenumerated; k++) {
            char one[256];
            CLI_PUT("%s%s", k ? " | " : "",
                    cli_shape_str(s->rank, s->enumerated + k * (size_t)s->rank, one, sizeof one));
        }
        CLI_PUT("}");
        return buf;
    }
    CLI_PUT("[");
    for (int32_t d = 0; d < s->rank; d++) {
        if (s->min[d] == s->max[d])
            CLI_PUT(d ? ", %" PRId64 : "%" PRId64, s->max[d]);
        else
            CLI_PUT(d ? ", %" PRId64 "..%" PRId64 : "%" PRId64 "..%" PRId64, s->min[d], s->max[d]);
    }
    CLI_PUT("]");
#undef CLI_PUT
    return buf;
}

bool cli_io_shape_flexible(const cml_io_shape *s) {
    if (s->nenumerated) return true;
    for (int32_t d = 0; d < s->rank; d++)
        if (s->min[d] != s->max[d]) return true;
    return false;
}

/* Prints element i of a tensor; floats in %g so that integers stay short. */
static void print_value(FILE *f, cml_dtype dt, const void *data, size_t i) {
    const uint8_t *p = (const uint8_t *)data + i * cml_dtype_size(dt);
    union { float f; double d; int8_t i8; int16_t i16; int32_t i32; int64_t i64;
            uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64; } v;
    memcpy(&v, p, cml_dtype_size(dt));
    switch (dt) {
    case CML_DTYPE_FLOAT32: fprintf(f, "%.6g", (double)v.f); break;
    case CML_DTYPE_FLOAT64: fprintf(f, "%.6g", v.d); break;
    case CML_DTYPE_FLOAT16: fprintf(f, "%.5g", (double)cml_fp16_to_fp32(v.u16)); break;
    case CML_DTYPE_BFLOAT16: fprintf(f, "%.4g", (double)cml_bf16_to_fp32(v.u16)); break;
    case CML_DTYPE_INT8: fprintf(f, "%d", v.i8); break;
    case CML_DTYPE_INT16: fprintf(f, "%d", v.i16); break;
    case CML_DTYPE_INT32: fprintf(f, "%" PRId32, v.i32); break;
    case CML_DTYPE_INT64: fprintf(f, "%" PRId64, v.i64); break;
    case CML_DTYPE_UINT8: fprintf(f, "%u", v.u8); break;
    case CML_DTYPE_UINT16: fprintf(f, "%u", v.u16); break;
    case CML_DTYPE_UINT32: fprintf(f, "%" PRIu32, v.u32); break;
    case CML_DTYPE_UINT64: fprintf(f, "%" PRIu64, v.u64); break;
    case CML_DTYPE_BOOL: fputs(v.u8 ? "true" : "false", f); break;
    default: fputs("?", f); break;
    }
}

void cli_print_values(FILE *f, const cml_tensor_view *view, size_t max) {
    size_t es = cml_dtype_size(view->dtype);
    size_t n = cli_numel(view->rank, view->sizes);
    /* Never read past what the view says it holds. */
    if (es == 0 || !view->data) n = 0;
    else if (n > view->nbytes / es) n = view->nbytes / es;
    fputc('[', f);
    for (size_t i = 0; i < n && i < max; i++) {
        if (i) fputs(", ", f);
        print_value(f, view->dtype, view->data, i);
    }
    if (n > max) fputs(", ...", f);
    fputc(']', f);
}
