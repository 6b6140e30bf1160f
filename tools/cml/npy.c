/*
 * .npy files: see npy.h for what is accepted. Layout:
 *   "\x93NUMPY" u8 major u8 minor
 *   v1: u16 header_len | v2, v3: u32 header_len   (little-endian)
 *   header_len bytes: a Python dict literal, e.g.
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *   raw C-order data
 */
#include "npy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c writes and reads host memory as little-endian"
#endif

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* NumPy refuses headers over 10000 bytes by default; allow far more but keep
 * a hostile length field from driving a huge allocation. */
#define NPY_MAX_HEADER (1u << 20)
/* NumPy pads the prefix + header to a multiple of this. */
#define NPY_ALIGN 64

typedef struct npy_type {
    const char *code; /* descr without the byte-order character */
    cml_dtype dtype;
    size_t size;
} npy_type;

static const npy_type npy_types[] = {
    {"f2", CML_DTYPE_FLOAT16, 2}, {"f4", CML_DTYPE_FLOAT32, 4}, {"f8", CML_DTYPE_FLOAT64, 8},
    {"i1", CML_DTYPE_INT8, 1},    {"i2", CML_DTYPE_INT16, 2},   {"i4", CML_DTYPE_INT32, 4},
    {"i8", CML_DTYPE_INT64, 8},   {"u1", CML_DTYPE_UINT8, 1},   {"u2", CML_DTYPE_UINT16, 2},
    {"u4", CML_DTYPE_UINT32, 4},  {"u8", CML_DTYPE_UINT64, 8},  {"b1", CML_DTYPE_BOOL, 1},
};
#define NPY_NTYPES (sizeof npy_types / sizeof npy_types[0])

static void npy_err(char *err, size_t errsz, const char *fmt, ...) {
    if (!err || errsz == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

/* ---- header dict parser ------------------------------------------------- */

typedef struct npy_header {
    bool has_descr, has_fortran, has_shape;
    const npy_type *type;
    bool fortran_order;
    int32_t rank;
    int64_t sizes[CML_MAX_DIMS];
} npy_header;

typedef struct hparser {
    const char *p, *end;
    char *err;
    size_t errsz;
} hparser;

#define HP_FAIL(h, ...) (npy_err((h)->err, (h)->errsz, __VA_ARGS__), -1)

static void hp_skip_ws(hparser *h) {
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

/* Consumes c (after whitespace) if it is next; returns whether it was. */
static bool hp_accept(hparser *h, char c) {
    hp_skip_ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return true;
    }
    return false;
}

/* A quoted string without escapes (NumPy never writes any in a header);
 * copied into out (outsz bytes, NUL-terminated). */
static int hp_string(hparser *h, char *out, size_t outsz, const char *what) {
    hp_skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
        return HP_FAIL(h, "header: expected a quoted string for %s", what);
    char quote = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != quote) {
        if (*h->p == '\\') return HP_FAIL(h, "header: escape sequence in %s", what);
        if (n + 1 >= outsz) return HP_FAIL(h, "header: %s is too long", what);
        out[n++] = *h->p++;
    }
    if (h->p >= h->end) return HP_FAIL(h, "header: unterminated string in %s", what);
    h->p++;
    out[n] = '\0';
    return 0;
}

/* True if the bare word w is next (and not a prefix of a longer name). */
static bool hp_word(hparser *h, const char *w) {
    hp_skip_ws(h);
    size_t n = strlen(w);
    if ((size_t)(h->end - h->p) < n || memcmp(h->p, w, n) != 0) return false;
    const char *after = h->p + n;
    if (after < h->end && (*after == '_' || (*after >= 'a' && *after <= 'z') ||
                           (*after >= 'A' && *after <= 'Z') || (*after >= '0' && *after <= '9')))
        return false;
    h->p = after;
    return true;
}

/* A non-negative decimal dimension; Python 2 era files may append 'L'. */
static int hp_dim(hparser *h, int64_t *out) {
    hp_skip_ws(h);
    if (h->p >= h->end || *h->p < '0' || *h->p > '9')
        return HP_FAIL(h, "header: shape entries must be non-negative integers");
    int64_t v = 0;
    while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
        if (v > (INT64_MAX - (*h->p - '0')) / 10)
            return HP_FAIL(h, "header: shape entry overflows int64");
        v = v * 10 + (*h->p++ - '0');
    }
    if (h->p < h->end && (*h->p == 'L' || *h->p == 'l')) h->p++;
    *out = v;
    return 0;
}

/* '(' [dim (',' dim)* [',']] ')'. "(3)" is the int 3 in Python, not a
 * tuple, so a single entry needs its trailing comma. */
static int hp_shape(hparser *h, npy_header *hd) {
    if (!hp_accept(h, '(')) return HP_FAIL(h, "header: 'shape' is not a tuple");
    int32_t rank = 0;
    bool comma_after_last = false;
    while (!hp_accept(h, ')')) {
        if (rank > 0 && !comma_after_last) return HP_FAIL(h, "header: expected ',' in 'shape'");
        if (rank == CML_MAX_DIMS)
            return HP_FAIL(h, "header: shape has more than %d dimensions", CML_MAX_DIMS);
        if (hp_dim(h, &hd->sizes[rank]) != 0) return -1;
        rank++;
        comma_after_last = hp_accept(h, ',');
        if (h->p >= h->end) return HP_FAIL(h, "header: unterminated 'shape'");
    }
    if (rank == 1 && !comma_after_last) return HP_FAIL(h, "header: 'shape' is not a tuple");
    hd->rank = rank;
    return 0;
}

static int hp_descr(hparser *h, npy_header *hd) {
    hp_skip_ws(h);
    if (h->p < h->end && *h->p == '[')
        return HP_FAIL(h, "structured dtypes (record arrays) are not supported");
    char d[32];
    if (hp_string(h, d, sizeof d, "'descr'") != 0) return -1;
    char order = d[0];
    const char *code = d + 1;
    if (order == '>') return HP_FAIL(h, "big-endian dtype '%s' is not supported", d);
    if (order != '<' && order != '|') {
        /* NumPy always writes a byte-order character; anything else is a
         * descr we do not know ("O", "float32", ...). */
        code = d;
    }
    if (strchr(code, 'O')) return HP_FAIL(h, "object arrays ('%s') are not supported", d);
    for (size_t i = 0; i < NPY_NTYPES; i++) {
        if (code != d && strcmp(code, npy_types[i].code) == 0) {
            hd->type = &npy_types[i];
            return 0;
        }
    }
    return HP_FAIL(h, "unsupported dtype '%s' (supported: float16/32/64, int8/16/32/64, "
                      "uint8/16/32/64, bool)", d);
}

static int hp_value(hparser *h, const char *key, npy_header *hd) {
    if (strcmp(key, "descr") == 0) {
        if (hd->has_descr) return HP_FAIL(h, "header: duplicate key 'descr'");
        hd->has_descr = true;
        return hp_descr(h, hd);
    }
    if (strcmp(key, "fortran_order") == 0) {
        if (hd->has_fortran) return HP_FAIL(h, "header: duplicate key 'fortran_order'");
        hd->has_fortran = true;
        if (hp_word(h, "True")) hd->fortran_order = true;
        else if (hp_word(h, "False")) hd->fortran_order = false;
        else return HP_FAIL(h, "header: 'fortran_order' must be True or False");
        return 0;
    }
    if (strcmp(key, "shape") == 0) {
        if (hd->has_shape) return HP_FAIL(h, "header: duplicate key 'shape'");
        hd->has_shape = true;
        return hp_shape(h, hd);
    }
    /* NumPy itself rejects any other key; so do we. */
    return HP_FAIL(h, "header: unexpected key '%s'", key);
}

static int parse_header(const char *text, size_t len, npy_header *hd, char *err, size_t errsz) {
    hparser h = {text, text + len, err, errsz};
    memset(hd, 0, sizeof *hd);
    if (!hp_accept(&h, '{')) return HP_FAIL(&h, "header: not a dict literal");
    bool first = true;
    while (!hp_accept(&h, '}')) {
        if (!first && !hp_accept(&h, ',')) return HP_FAIL(&h, "header: expected ',' or '}'");
        first = false;
        if (hp_accept(&h, '}')) break; /* trailing comma */
        char key[32];
        if (hp_string(&h, key, sizeof key, "a key") != 0) return -1;
        if (!hp_accept(&h, ':')) return HP_FAIL(&h, "header: expected ':' after '%s'", key);
        if (hp_value(&h, key, hd) != 0) return -1;
        if (h.p >= h.end) return HP_FAIL(&h, "header: unterminated dict");
    }
    hp_skip_ws(&h);
    if (h.p != h.end) return HP_FAIL(&h, "header: unexpected text after the dict");
    if (!hd->has_descr || !hd->has_fortran || !hd->has_shape)
        return HP_FAIL(&h, "header: missing key '%s'",
                       !hd->has_descr ? "descr" : !hd->has_fortran ? "fortran_order" : "shape");
    if (hd->fortran_order) return HP_FAIL(&h, "fortran_order True (column-major) is not supported");
    return 0;
}

/* ---- reading ------------------------------------------------------------ */

static uint32_t rd_le(const uint8_t *p, int n) {
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Validates the fixed prefix (magic, version) in the first 8 bytes and returns
 * the width of the header-length field (2 or 4). */
static int prefix_len_width(const uint8_t *p, char *err, size_t errsz) {
    if (memcmp(p, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
        npy_err(err, errsz, "not a .npy file (bad magic)");
        return -1;
    }
    if (p[6] == 1 && p[7] == 0) return 2;
    if ((p[6] == 2 || p[6] == 3) && p[7] == 0) return 4;
    npy_err(err, errsz, "unsupported .npy format version %u.%u", p[6], p[7]);
    return -1;
}

/* Fills shape fields of out from hd and checks the byte count. */
static int finish_shape(const npy_header *hd, cml_npy *out, char *err, size_t errsz) {
    size_t numel = 1;
    for (int32_t i = 0; i < hd->rank; i++) {
        if ((uint64_t)hd->sizes[i] > SIZE_MAX ||
            __builtin_mul_overflow(numel, (size_t)hd->sizes[i], &numel)) {
            npy_err(err, errsz, "shape is too large (element count overflows)");
            return -1;
        }
    }
    size_t nbytes;
    if (__builtin_mul_overflow(numel, hd->type->size, &nbytes)) {
        npy_err(err, errsz, "shape is too large (byte count overflows)");
        return -1;
    }
    out->dtype = hd->type->dtype;
    out->rank = hd->rank;
    memcpy(out->sizes, hd->sizes, sizeof out->sizes);
    out->numel = numel;
    out->nbytes = nbytes;
    return 0;
}

static int data_size_error(size_t have, size_t want, char *err, size_t errsz) {
    if (have < want)
        npy_err(err, errsz, "truncated data: shape needs %zu bytes, file has %zu", want, have);
    else
        npy_err(err, errsz, "data size mismatch: shape needs %zu bytes, file has %zu", want, have);
    return -1;
}

/* Parses prefix + header from buf (hdr_total bytes available); on success
 * *data_off is where the array data begins. */
static int parse_prefix_and_header(const uint8_t *buf, size_t len, cml_npy *out,
                                   size_t *data_off, char *err, size_t errsz) {
    if (len < 10) {
        npy_err(err, errsz, len >= NPY_MAGIC_LEN && memcmp(buf, NPY_MAGIC, NPY_MAGIC_LEN) == 0
                                ? "truncated header"
                                : "not a .npy file (too short)");
        return -1;
    }
    int w = prefix_len_width(buf, err, errsz);
    if (w < 0) return -1;
    size_t off = 8 + (size_t)w;
    if (len < off) {
        npy_err(err, errsz, "truncated header");
        return -1;
    }
    uint32_t hlen = rd_le(buf + 8, w);
    if (hlen > NPY_MAX_HEADER || hlen > len - off) {
        npy_err(err, errsz, "header length %u exceeds the file (%zu bytes)", hlen, len);
        return -1;
    }
    npy_header hd;
    if (parse_header((const char *)buf + off, hlen, &hd, err, errsz) != 0) return -1;
    if (finish_shape(&hd, out, err, errsz) != 0) return -1;
    *data_off = off + hlen;
    return 0;
}

int cml_npy_parse(const void *buf, size_t len, cml_npy *out, char *err, size_t errsz) {
    cml_npy r;
    memset(&r, 0, sizeof r);
    memset(out, 0, sizeof *out);
    size_t off;
    if (parse_prefix_and_header(buf, len, &r, &off, err, errsz) != 0) return -1;
    if (len - off != r.nbytes) return data_size_error(len - off, r.nbytes, err, errsz);
    r.data = malloc(r.nbytes ? r.nbytes : 1);
    if (!r.data) {
        npy_err(err, errsz, "out of memory (%zu bytes)", r.nbytes);
        return -1;
    }
    memcpy(r.data, (const uint8_t *)buf + off, r.nbytes);
    *out = r;
    return 0;
}

/* Reads the prefix and the header into a malloc'd buffer; *len gets its size. */
static uint8_t *read_header_bytes(FILE *f, size_t *len, char *err, size_t errsz) {
    uint8_t pre[12];
    size_t got = fread(pre, 1, 10, f);
    if (got < 10) {
        npy_err(err, errsz, got >= NPY_MAGIC_LEN && memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) == 0
                                ? "truncated header"
                                : "not a .npy file (too short)");
        return NULL;
    }
    int w = prefix_len_width(pre, err, errsz);
    if (w < 0) return NULL;
    if (w == 4 && fread(pre + 10, 1, 2, f) != 2) {
        npy_err(err, errsz, "truncated header");
        return NULL;
    }
    size_t off = 8 + (size_t)w;
    uint32_t hlen = rd_le(pre + 8, w);
    if (hlen > NPY_MAX_HEADER) {
        npy_err(err, errsz, "header length %u is too large", hlen);
        return NULL;
    }
    uint8_t *buf = malloc(off + hlen);
    if (!buf) {
        npy_err(err, errsz, "out of memory");
        return NULL;
    }
    memcpy(buf, pre, off);
    if (fread(buf + off, 1, hlen, f) != hlen) {
        npy_err(err, errsz, "header length %u exceeds the file", hlen);
        free(buf);
        return NULL;
    }
    *len = off + hlen;
    return buf;
}

static int read_stream(FILE *f, cml_npy *out, char *err, size_t errsz) {
    size_t hlen;
    uint8_t *hbuf = read_header_bytes(f, &hlen, err, errsz);
    if (!hbuf) return -1;
    size_t off;
    int rc = parse_prefix_and_header(hbuf, hlen, out, &off, err, errsz);
    free(hbuf);
    if (rc != 0) return -1;
    /* For a regular file, check the size before allocating what a hostile
     * shape asks for. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        uint64_t have = (uint64_t)st.st_size >= off ? (uint64_t)st.st_size - off : 0;
        if (have != out->nbytes) return data_size_error((size_t)have, out->nbytes, err, errsz);
    }
    out->data = malloc(out->nbytes ? out->nbytes : 1);
    if (!out->data) {
        npy_err(err, errsz, "out of memory (%zu bytes)", out->nbytes);
        return -1;
    }
    size_t got = fread(out->data, 1, out->nbytes, f);
    if (got != out->nbytes) return data_size_error(got, out->nbytes, err, errsz);
    if (fgetc(f) != EOF) {
        npy_err(err, errsz, "data size mismatch: file has bytes past the %zu the shape needs",
                out->nbytes);
        return -1;
    }
    return 0;
}

int cml_npy_read(const char *path, cml_npy *out, char *err, size_t errsz) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        npy_err(err, errsz, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
        fclose(f);
        npy_err(err, errsz, "%s: %s", path,
                S_ISDIR(st.st_mode) ? "is a directory, not a .npy file" : "not a regular file");
        return -1;
    }
    char msg[256] = "";
    int rc = read_stream(f, out, msg, sizeof msg);
    fclose(f);
    if (rc != 0) {
        cml_npy_free(out);
        npy_err(err, errsz, "%s: %s", path, msg);
    }
    return rc;
}

void cml_npy_free(cml_npy *npy) {
    if (!npy) return;
    free(npy->data);
    memset(npy, 0, sizeof *npy);
}

/* ---- writing ------------------------------------------------------------ */

const char *cml_npy_descr(cml_dtype dtype) {
    static const char *const descr[] = {"<f2", "<f4", "<f8", "|i1", "<i2", "<i4",
                                        "<i8", "|u1", "<u2", "<u4", "<u8", "|b1"};
    for (size_t i = 0; i < NPY_NTYPES; i++)
        if (npy_types[i].dtype == dtype) return descr[i];
    return NULL;
}

static size_t type_size(cml_dtype dtype) {
    for (size_t i = 0; i < NPY_NTYPES; i++)
        if (npy_types[i].dtype == dtype) return npy_types[i].size;
    return 0;
}

/* Formats the dict the way NumPy does and pads it with spaces and a final
 * '\n' so that prefix + header is a multiple of 64 bytes. Returns the
 * header length, or 0 if buf is too small. */
static size_t format_header(char *buf, size_t bufsz, const char *descr, int32_t rank,
                            const int64_t *sizes, size_t prefix) {
    size_t n = 0;
    int k = snprintf(buf, bufsz, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    if (k < 0 || (size_t)k >= bufsz) return 0;
    n = (size_t)k;
    for (int32_t i = 0; i < rank; i++) {
        k = snprintf(buf + n, bufsz - n, i ? ", %lld" : "%lld", (long long)sizes[i]);
        if (k < 0 || (size_t)k >= bufsz - n) return 0;
        n += (size_t)k;
    }
    k = snprintf(buf + n, bufsz - n, rank == 1 ? ",), }" : "), }");
    if (k < 0 || (size_t)k >= bufsz - n) return 0;
    n += (size_t)k;
    size_t total = (prefix + n + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    size_t hlen = total - prefix;
    if (hlen > bufsz) return 0;
    memset(buf + n, ' ', hlen - n - 1);
    buf[hlen - 1] = '\n';
    return hlen;
}

int cml_npy_write(const char *path, cml_dtype dtype, int32_t rank, const int64_t *sizes,
                  const void *data, char *err, size_t errsz) {
    const char *descr = cml_npy_descr(dtype);
    if (!descr) {
        npy_err(err, errsz, "%s: dtype %s has no .npy equivalent", path, cml_dtype_name(dtype));
        return -1;
    }
    if (rank < 0 || rank > CML_MAX_DIMS || (rank > 0 && !sizes)) {
        npy_err(err, errsz, "%s: invalid rank %d", path, (int)rank);
        return -1;
    }
    size_t nbytes = type_size(dtype);
    for (int32_t i = 0; i < rank; i++) {
        if (sizes[i] < 0 || (uint64_t)sizes[i] > SIZE_MAX ||
            __builtin_mul_overflow(nbytes, (size_t)sizes[i], &nbytes)) {
            npy_err(err, errsz, "%s: invalid shape (dim %d = %lld)", path, (int)i,
                    (long long)sizes[i]);
            return -1;
        }
    }
    if (nbytes > 0 && !data) {
        npy_err(err, errsz, "%s: no data", path);
        return -1;
    }
    char header[1024]; /* rank 16 * 21 digits fits well within */
    size_t hlen = format_header(header, sizeof header, descr, rank, sizes, 10);
    if (hlen == 0 || hlen > UINT16_MAX) {
        npy_err(err, errsz, "%s: header too long", path);
        return -1;
    }
    uint8_t prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                          (uint8_t)(hlen & 0xff), (uint8_t)(hlen >> 8)};
    FILE *f = fopen(path, "wb");
    if (!f) {
        npy_err(err, errsz, "%s: %s", path, strerror(errno));
        return -1;
    }
    bool ok = fwrite(prefix, 1, sizeof prefix, f) == sizeof prefix &&
              fwrite(header, 1, hlen, f) == hlen &&
              (nbytes == 0 || fwrite(data, 1, nbytes, f) == nbytes);
    if (fclose(f) != 0) ok = false;
    if (!ok) {
        npy_err(err, errsz, "%s: write failed: %s", path, strerror(errno));
        remove(path);
        return -1;
    }
    return 0;
}
