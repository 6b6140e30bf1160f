/*
 * .npz (zip) reading: see npz.h. Zip layout used here (APPNOTE 6.3):
 *   local header  "PK\3\4" 30 bytes + name + extra, then the member data
 *   central dir   "PK\1\2" 46 bytes + name + extra + comment, per member
 *   end record    "PK\5\6" 22 bytes + comment, at the very end
 * All fields little-endian.
 */
#include "npz.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CML_CLI_HAVE_ZLIB
#include <zlib.h>
#endif

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define LOCAL_LEN 30u
#define CENTRAL_LEN 46u
#define END_LEN 22u

static void zerr(char *err, size_t errsz, const char *fmt, ...) {
    if (!err || errsz == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

static uint64_t rd(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

uint32_t cli_crc32(const uint8_t *p, size_t n) {
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

/* The end-of-central-directory record: the last "PK\5\6" whose comment
 * length reaches exactly to the end of the buffer. */
static long find_end(const uint8_t *buf, size_t len) {
    if (len < END_LEN) return -1;
    size_t lo = len - END_LEN > 0xffff ? len - END_LEN - 0xffff : 0;
    for (size_t pos = len - END_LEN + 1; pos-- > lo;) {
        if (rd(buf + pos, 4) == SIG_END && pos + END_LEN + rd(buf + pos + 20, 2) == len)
            return (long)pos;
    }
    return -1;
}

/* Zip64 extended information (extra id 1): the 8-byte values of the
 * fields that are 0xffffffff in the fixed record, in the order usize,
 * csize, local offset. */
static int zip64_extra(const uint8_t *x, size_t xlen, cli_npz_member *m, bool need_u,
                       bool need_c, bool need_off) {
    size_t p = 0;
    while (p + 4 <= xlen) {
        uint64_t id = rd(x + p, 2), n = rd(x + p + 2, 2);
        if (n > xlen - p - 4) return -1;
        if (id == 1) {
            const uint8_t *v = x + p + 4;
            size_t want = 8u * ((size_t)need_u + (size_t)need_c + (size_t)need_off);
            if (n < want) return -1;
            if (need_u) m->usize = rd(v, 8), v += 8;
            if (need_c) m->csize = rd(v, 8), v += 8;
            if (need_off) m->local_off = rd(v, 8);
            return 0;
        }
        p += 4 + (size_t)n;
    }
    return -1;
}

/* Fills m from the central-directory entry at e (bounds checked by the
 * caller for the fixed part and the variable parts). */
static int parse_entry(const uint8_t *e, cli_npz_member *m, char *err, size_t errsz) {
    size_t nlen = rd(e + 28, 2), xlen = rd(e + 30, 2);
    const char *name = (const char *)e + CENTRAL_LEN;
    if (nlen < 5 || memcmp(name + nlen - 4, ".npy", 4) != 0 || memchr(name, 0, nlen) ||
        nlen - 4 >= CLI_NPZ_NAME_MAX) {
        zerr(err, errsz, "member '%.*s' is not a .npy array (an .npz holds only *.npy members)",
             (int)(nlen < 200 ? nlen : 200), name);
        return -1;
    }
    memcpy(m->name, name, nlen - 4);
    m->name[nlen - 4] = '\0';
    if (rd(e + 8, 2) & 1) {
        zerr(err, errsz, "member '%s' is encrypted", m->name);
        return -1;
    }
    m->method = (uint16_t)rd(e + 10, 2);
    m->crc = (uint32_t)rd(e + 16, 4);
    m->csize = rd(e + 20, 4);
    m->usize = rd(e + 24, 4);
    m->local_off = rd(e + 42, 4);
    bool nu = m->usize == 0xffffffffu, nc = m->csize == 0xffffffffu,
         no = m->local_off == 0xffffffffu;
    if ((nu || nc || no) &&
        zip64_extra(e + CENTRAL_LEN + nlen, xlen, m, nu, nc, no) != 0) {
        zerr(err, errsz, "member '%s': bad zip64 extra field", m->name);
        return -1;
    }
    return 0;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp((*(const cli_npz_member *const *)a)->name,
                  (*(const cli_npz_member *const *)b)->name);
}

static int check_unique(const cli_npz *z, char *err, size_t errsz) {
    const cli_npz_member **s = malloc((z->count ? z->count : 1) * sizeof *s);
    if (!s) {
        zerr(err, errsz, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < z->count; i++) s[i] = &z->members[i];
    qsort(s, z->count, sizeof *s, cmp_names);
    int rc = 0;
    for (size_t i = 1; i < z->count && rc == 0; i++) {
        if (strcmp(s[i]->name, s[i - 1]->name) == 0) {
            zerr(err, errsz, "member '%s.npy' appears twice", s[i]->name);
            rc = -1;
        }
    }
    free(s);
    return rc;
}

/* Walks count central-directory entries in buf[cd, cd_end). */
static int read_directory(const uint8_t *buf, size_t cd, size_t cd_end, cli_npz *z, char *err,
                          size_t errsz) {
    size_t p = cd;
    for (size_t i = 0; i < z->count; i++) {
        if (cd_end - p < CENTRAL_LEN || rd(buf + p, 4) != SIG_CENTRAL) {
            zerr(err, errsz, "corrupt zip: central directory entry %zu is truncated or bad", i);
            return -1;
        }
        size_t var = rd(buf + p + 28, 2) + rd(buf + p + 30, 2) + rd(buf + p + 32, 2);
        if (cd_end - p - CENTRAL_LEN < var) {
            zerr(err, errsz, "corrupt zip: central directory entry %zu overruns the directory", i);
            return -1;
        }
        if (parse_entry(buf + p, &z->members[i], err, errsz) != 0) return -1;
        p += CENTRAL_LEN + var;
    }
    return check_unique(z, err, errsz);
}

int cli_npz_open(const uint8_t *buf, size_t len, cli_npz *out, char *err, size_t errsz) {
    memset(out, 0, sizeof *out);
    long end = find_end(buf, len);
    if (end < 0) {
        zerr(err, errsz, "not a zip/.npz file (no end-of-central-directory record)");
        return -1;
    }
    const uint8_t *e = buf + end;
    uint64_t count = rd(e + 10, 2), cd_size = rd(e + 12, 4), cd = rd(e + 16, 4);
    if (rd(e + 4, 2) != 0 || rd(e + 6, 2) != 0 || rd(e + 8, 2) != count) {
        zerr(err, errsz, "multi-disk zip archives are not supported");
        return -1;
    }
    if (count == 0xffff || cd_size == 0xffffffffu || cd == 0xffffffffu) {
        zerr(err, errsz, "zip64 archives (over 65535 members or 4 GiB) are not supported");
        return -1;
    }
    if (cd > (uint64_t)end || cd_size > (uint64_t)end - cd || count * CENTRAL_LEN > cd_size) {
        zerr(err, errsz, "corrupt zip: the central directory (offset %llu, %llu bytes, %llu "
                         "entries) does not fit before the end record at %ld",
             (unsigned long long)cd, (unsigned long long)cd_size, (unsigned long long)count, end);
        return -1;
    }
    cli_npz z = {calloc(count ? count : 1, sizeof *z.members), (size_t)count};
    if (!z.members) {
        zerr(err, errsz, "out of memory");
        return -1;
    }
    if (read_directory(buf, (size_t)cd, (size_t)(cd + cd_size), &z, err, errsz) != 0) {
        cli_npz_close(&z);
        return -1;
    }
    *out = z;
    return 0;
}

long cli_npz_find(const cli_npz *z, const char *name) {
    for (size_t i = 0; i < z->count; i++)
        if (strcmp(z->members[i].name, name) == 0) return (long)i;
    return -1;
}

void cli_npz_close(cli_npz *z) {
    free(z->members);
    memset(z, 0, sizeof *z);
}

/* The member's compressed bytes: after its local header, within buf. */
static const uint8_t *member_data(const uint8_t *buf, size_t len, const cli_npz_member *m,
                                  char *err, size_t errsz) {
    if (m->local_off > len || len - m->local_off < LOCAL_LEN ||
        rd(buf + m->local_off, 4) != SIG_LOCAL) {
        zerr(err, errsz, "bad local header offset %llu", (unsigned long long)m->local_off);
        return NULL;
    }
    const uint8_t *h = buf + m->local_off;
    uint64_t off = m->local_off + LOCAL_LEN + rd(h + 26, 2) + rd(h + 28, 2);
    if (off > len || m->csize > len - off) {
        zerr(err, errsz, "data (%llu bytes at offset %llu) extends past the end of the file "
                         "(%zu bytes)",
             (unsigned long long)m->csize, (unsigned long long)off, len);
        return NULL;
    }
    return buf + off;
}

#ifdef CML_CLI_HAVE_ZLIB
/* Raw deflate of csize bytes into exactly usize bytes. */
static int inflate_all(const uint8_t *src, const cli_npz_member *m, uint8_t *dst, char *err,
                       size_t errsz) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, -MAX_WBITS) != Z_OK) {
        zerr(err, errsz, "zlib init failed");
        return -1;
    }
    int rc = Z_OK;
    uint64_t in_left = m->csize, out_left = m->usize;
    s.next_in = (Bytef *)(uintptr_t)src;
    s.next_out = dst;
    while (rc == Z_OK) { /* uInt counts: feed at most 1 GiB at a time */
        if (s.avail_in == 0 && in_left) {
            s.avail_in = (uInt)(in_left < (1u << 30) ? in_left : (1u << 30));
            in_left -= s.avail_in;
        }
        if (s.avail_out == 0 && out_left) {
            s.avail_out = (uInt)(out_left < (1u << 30) ? out_left : (1u << 30));
            out_left -= s.avail_out;
        }
        rc = inflate(&s, Z_NO_FLUSH);
        if (rc == Z_BUF_ERROR && (s.avail_in || in_left) && (s.avail_out || out_left)) rc = Z_OK;
    }
    bool ok = rc == Z_STREAM_END && s.total_out == m->usize && s.avail_out == 0 && !out_left;
    inflateEnd(&s);
    if (!ok) zerr(err, errsz, "corrupt deflate data (or sizes that do not match it)");
    return ok ? 0 : -1;
}
#endif

/* The uncompressed bytes of m: buf itself for a stored member, else a
 * malloc'd copy (*owned set). */
static const uint8_t *member_bytes(const uint8_t *data, const cli_npz_member *m, uint8_t **owned,
                                   char *err, size_t errsz) {
    *owned = NULL;
    if (m->method == 0) {
        if (m->csize != m->usize) {
            zerr(err, errsz, "stored member sizes differ (%llu vs %llu)",
                 (unsigned long long)m->csize, (unsigned long long)m->usize);
            return NULL;
        }
        return data;
    }
    if (m->method != 8) {
        zerr(err, errsz, "compression method %u is not supported (only stored and deflate)",
             m->method);
        return NULL;
    }
#ifdef CML_CLI_HAVE_ZLIB
    /* Deflate expands at most ~1032:1; a larger claim is corrupt, and is not
     * allowed to drive the allocation. */
    if (m->usize > m->csize * 1032u + 1024u || m->usize > SIZE_MAX) {
        zerr(err, errsz, "uncompressed size %llu is impossible for %llu compressed bytes",
             (unsigned long long)m->usize, (unsigned long long)m->csize);
        return NULL;
    }
    *owned = malloc(m->usize ? (size_t)m->usize : 1);
    if (!*owned) {
        zerr(err, errsz, "out of memory (%llu bytes)", (unsigned long long)m->usize);
        return NULL;
    }
    if (inflate_all(data, m, *owned, err, errsz) == 0) return *owned;
    free(*owned);
    *owned = NULL;
    return NULL;
#else
    zerr(err, errsz, "member is deflate-compressed and this cml was built without zlib; "
                     "use np.savez, not savez_compressed");
    return NULL;
#endif
}

int cli_npz_read(const uint8_t *buf, size_t len, const cli_npz_member *m, cml_npy *out,
                 char *err, size_t errsz) {
    memset(out, 0, sizeof *out);
    char why[256] = "";
    const uint8_t *data = member_data(buf, len, m, why, sizeof why);
    uint8_t *owned = NULL;
    const uint8_t *bytes = data ? member_bytes(data, m, &owned, why, sizeof why) : NULL;
    int rc = bytes ? 0 : -1;
    if (rc == 0 && cli_crc32(bytes, (size_t)m->usize) != m->crc) {
        snprintf(why, sizeof why, "CRC-32 mismatch (corrupt data)");
        rc = -1;
    }
    if (rc == 0) rc = cml_npy_parse(bytes, (size_t)m->usize, out, why, sizeof why);
    free(owned);
    if (rc != 0) zerr(err, errsz, "member '%s.npy': %s", m->name, why);
    return rc;
}
