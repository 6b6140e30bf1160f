/*
 * Input files of `cml run` / `cml bench`: --cast conversions (cast.c), the
 * .npz reader (npz.c) on hand-built zips, good and corrupt, and end to end
 * through the CLI on the mlp fixture (input 'x' float32 [2, 64]): every
 * way of giving the input (.npz by name and by position, NAME=FILE.npz,
 * raw binary with and without --shape/--dtype, float64 and int32 files
 * with --cast) must produce output files byte-identical to the plain .npy
 * run; bad files give a message and exit 1 or 2, never a crash.
 *
 * cast.c and npz.c are compiled into this test directly (the test targets
 * link only npy.c of the CLI).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cast.c"
#include "cli_util.h"
#include "harness.h"
#include "npz.c"

/* ---- cast ---------------------------------------------------------------- */

static double f64_cast1(cml_dtype to_read, cml_dtype to, cml_dtype from, const void *v) {
    uint8_t out[8] = {0};
    CHECK(cli_cast(to, out, from, v, 1) == 0);
    double r = 0;
    cli_cast(CML_DTYPE_FLOAT64, &r, to_read, out, 1);
    return r;
}

static void test_cast_float_to_int(void) {
    static const double in[] = {2.9, -2.9, 3e9, -3e9, NAN, -0.5, 300.7, 1e19, -1e19, 1e20};
    int32_t i32[10];
    CHECK(cli_cast(CML_DTYPE_INT32, i32, CML_DTYPE_FLOAT64, in, 10) == 0);
    CHECK(i32[0] == 2 && i32[1] == -2);                 /* truncation toward zero */
    CHECK(i32[2] == INT32_MAX && i32[3] == INT32_MIN);  /* saturation */
    CHECK(i32[4] == 0 && i32[5] == 0 && i32[6] == 300); /* NaN -> 0 */
    uint8_t u8[10];
    cli_cast(CML_DTYPE_UINT8, u8, CML_DTYPE_FLOAT64, in, 10);
    CHECK(u8[0] == 2 && u8[1] == 0 && u8[2] == 255 && u8[3] == 0 && u8[6] == 255);
    int64_t i64[10];
    cli_cast(CML_DTYPE_INT64, i64, CML_DTYPE_FLOAT64, in, 10);
    CHECK(i64[2] == 3000000000LL && i64[7] == INT64_MAX && i64[8] == INT64_MIN);
    uint64_t u64[10];
    cli_cast(CML_DTYPE_UINT64, u64, CML_DTYPE_FLOAT64, in, 10);
    CHECK(u64[7] == 10000000000000000000ULL && u64[9] == UINT64_MAX && u64[8] == 0);
    int16_t i16[10];
    cli_cast(CML_DTYPE_INT16, i16, CML_DTYPE_FLOAT64, in, 10);
    CHECK(i16[6] == 300 && i16[2] == INT16_MAX && i16[3] == INT16_MIN);
    /* float16 and float32 sources: 0x4500 = 5.0, 0xc2f0 = -3.46875 */
    uint16_t h[2] = {0x4500, 0xc2f0};
    int8_t i8[2];
    cli_cast(CML_DTYPE_INT8, i8, CML_DTYPE_FLOAT16, h, 2);
    CHECK(i8[0] == 5 && i8[1] == -3);
    float f[2] = {-129.9f, 127.9f};
    cli_cast(CML_DTYPE_INT8, i8, CML_DTYPE_FLOAT32, f, 2);
    CHECK(i8[0] == INT8_MIN && i8[1] == 127);
}

static void test_cast_int_to_int_and_bool(void) {
    int32_t a[4] = {300, -1, 255, 65536};
    uint8_t u8[4];
    cli_cast(CML_DTYPE_UINT8, u8, CML_DTYPE_INT32, a, 4);
    CHECK(u8[0] == 44 && u8[1] == 255 && u8[2] == 255 && u8[3] == 0); /* low bits */
    int64_t m1 = -1;
    uint16_t u16;
    cli_cast(CML_DTYPE_UINT16, &u16, CML_DTYPE_INT64, &m1, 1);
    CHECK(u16 == 65535);
    uint64_t big = UINT64_MAX;
    int8_t s8;
    cli_cast(CML_DTYPE_INT8, &s8, CML_DTYPE_UINT64, &big, 1);
    CHECK(s8 == -1);
    int16_t neg = -2;
    int64_t ext;
    cli_cast(CML_DTYPE_INT64, &ext, CML_DTYPE_INT16, &neg, 1); /* sign extension */
    CHECK(ext == -2);
    /* bool: nonzero -> 1 (256 does not wrap to 0), NaN -> 1, -0.0 -> 0 */
    cli_cast(CML_DTYPE_BOOL, u8, CML_DTYPE_INT32, a, 4);
    CHECK(u8[0] == 1 && u8[1] == 1 && u8[3] == 1);
    double d[3] = {0.5, -0.0, NAN};
    cli_cast(CML_DTYPE_BOOL, u8, CML_DTYPE_FLOAT64, d, 3);
    CHECK(u8[0] == 1 && u8[1] == 0 && u8[2] == 1);
    uint8_t b[2] = {2, 0}; /* a bool byte other than 1 still reads as true */
    int32_t i32[2];
    cli_cast(CML_DTYPE_INT32, i32, CML_DTYPE_BOOL, b, 2);
    CHECK(i32[0] == 1 && i32[1] == 0);
}

static void test_cast_to_float(void) {
    double d[4] = {0.1, 1e40, -1e40, 1.5};
    float f[4];
    cli_cast(CML_DTYPE_FLOAT32, f, CML_DTYPE_FLOAT64, d, 4);
    CHECK(f[0] == (float)0.1 && isinf(f[1]) && f[1] > 0 && isinf(f[2]) && f[3] == 1.5f);
    int32_t i = 16777217; /* 2^24 + 1: rounds to even like (float)i */
    cli_cast(CML_DTYPE_FLOAT32, f, CML_DTYPE_INT32, &i, 1);
    CHECK(f[0] == 16777216.0f);
    int64_t i64 = INT64_MIN;
    double r;
    cli_cast(CML_DTYPE_FLOAT64, &r, CML_DTYPE_INT64, &i64, 1);
    CHECK(r == -9223372036854775808.0);
    /* float16: 1 -> 0x3c00, 65504 max, 65520 and up -> inf, NaN stays NaN */
    double h_in[5] = {1.0, 65504.0, 65520.0, -1e6, NAN};
    uint16_t h[5];
    cli_cast(CML_DTYPE_FLOAT16, h, CML_DTYPE_FLOAT64, h_in, 5);
    CHECK(h[0] == 0x3c00 && h[1] == 0x7bff && h[2] == 0x7c00 && h[3] == 0xfc00);
    CHECK((h[4] & 0x7c00) == 0x7c00 && (h[4] & 0x3ff) != 0);
    /* One rounding, not two: 1 + 2^-11 + 2^-40 is just above the midpoint
     * of 1 and 1 + 2^-10, so it rounds up; through float32 first the 2^-40
     * would be lost and the tie would round to even (0x3c00). */
    double above_tie = 1.0 + ldexp(1, -11) + ldexp(1, -40);
    cli_cast(CML_DTYPE_FLOAT16, h, CML_DTYPE_FLOAT64, &above_tie, 1);
    CHECK_MSG(h[0] == 0x3c01, "0x%04x", h[0]);
    double tie = 1.0 + ldexp(1, -11); /* an exact tie rounds to even */
    cli_cast(CML_DTYPE_FLOAT16, h, CML_DTYPE_FLOAT64, &tie, 1);
    CHECK(h[0] == 0x3c00);
    /* bfloat16 from int64 2^25 + 2^17 + 1: above the midpoint, rounds up to
     * 2^25 + 2^18 = 0x4c01 (through float32 it would tie to 0x4c00). */
    int64_t n = (1 << 25) + (1 << 17) + 1;
    cli_cast(CML_DTYPE_BFLOAT16, h, CML_DTYPE_INT64, &n, 1);
    CHECK_MSG(h[0] == 0x4c01, "0x%04x", h[0]);
    int32_t neg = -3;
    cli_cast(CML_DTYPE_BFLOAT16, h, CML_DTYPE_INT32, &neg, 1);
    CHECK(h[0] == 0xc040);
    float big = 3.4e38f; /* rounds past bfloat16's max */
    cli_cast(CML_DTYPE_BFLOAT16, h, CML_DTYPE_FLOAT32, &big, 1);
    CHECK(h[0] == 0x7f80);
    /* 16-bit float sources widen exactly */
    uint16_t src[2] = {0x3c00, 0xc000};
    CHECK(f64_cast1(CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT16, &src[1]) == -2.0);
    CHECK(f64_cast1(CML_DTYPE_FLOAT64, CML_DTYPE_FLOAT64, CML_DTYPE_BFLOAT16, &src[0]) ==
          0.0078125); /* bf16 0x3c00 = 2^-7 */
}

static void test_cast_dtypes(void) {
    cml_dtype dt;
    CHECK(cli_parse_dtype("float64", &dt) == 0 && dt == CML_DTYPE_FLOAT64);
    CHECK(cli_parse_dtype("uint16", &dt) == 0 && dt == CML_DTYPE_UINT16);
    CHECK(cli_parse_dtype("bfloat16", &dt) == 0 && dt == CML_DTYPE_BFLOAT16);
    CHECK(cli_parse_dtype("bool", &dt) == 0 && dt == CML_DTYPE_BOOL);
    CHECK(cli_parse_dtype("float", &dt) != 0 && cli_parse_dtype("complex64", &dt) != 0);
    float c[2] = {1, 2};
    uint8_t out[8] = {0xaa};
    CHECK(cli_cast(CML_DTYPE_COMPLEX64, out, CML_DTYPE_FLOAT32, c, 1) == -1);
    CHECK(cli_cast(CML_DTYPE_FLOAT32, out, CML_DTYPE_COMPLEX64, c, 1) == -1 && out[0] == 0xaa);
}

/* ---- a zip writer for the tests ------------------------------------------ */

typedef struct zmember {
    const char *name;
    const uint8_t *data; /* what is stored (already "compressed" for method 8) */
    size_t len;
    uint16_t method;
    uint32_t crc;        /* of the uncompressed bytes */
    size_t usize;
} zmember;

static uint8_t *put(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
    return p + n;
}

/* Writes the members as np.savez does: local headers with zip64 extras and
 * 0xffffffff sizes (force_zip64), a plain central directory, an end record.
 * Returns the zip's size; *cd_at gets the central directory's offset. */
static size_t build_zip(uint8_t *out, const zmember *m, size_t n, size_t *cd_at) {
    uint8_t *p = out;
    size_t offs[8];
    for (size_t i = 0; i < n; i++) {
        offs[i] = (size_t)(p - out);
        size_t nlen = strlen(m[i].name);
        p = put(p, 0x04034b50, 4), p = put(p, 45, 2), p = put(p, 0, 2);
        p = put(p, m[i].method, 2), p = put(p, 0, 4), p = put(p, m[i].crc, 4);
        p = put(p, 0xffffffffu, 4), p = put(p, 0xffffffffu, 4);
        p = put(p, nlen, 2), p = put(p, 20, 2);
        memcpy(p, m[i].name, nlen), p += nlen;
        p = put(p, 1, 2), p = put(p, 16, 2), p = put(p, m[i].usize, 8), p = put(p, m[i].len, 8);
        memcpy(p, m[i].data, m[i].len), p += m[i].len;
    }
    size_t cd = (size_t)(p - out);
    for (size_t i = 0; i < n; i++) {
        size_t nlen = strlen(m[i].name);
        p = put(p, 0x02014b50, 4), p = put(p, 45, 2), p = put(p, 45, 2), p = put(p, 0, 2);
        p = put(p, m[i].method, 2), p = put(p, 0, 4), p = put(p, m[i].crc, 4);
        p = put(p, m[i].len, 4), p = put(p, m[i].usize, 4);
        p = put(p, nlen, 2), p = put(p, 0, 2), p = put(p, 0, 2), p = put(p, 0, 2);
        p = put(p, 0, 2), p = put(p, 0, 4), p = put(p, offs[i], 4);
        memcpy(p, m[i].name, nlen), p += nlen;
    }
    size_t cd_size = (size_t)(p - out) - cd;
    p = put(p, 0x06054b50, 4), p = put(p, 0, 2), p = put(p, 0, 2);
    p = put(p, n, 2), p = put(p, n, 2), p = put(p, cd_size, 4), p = put(p, cd, 4), p = put(p, 0, 2);
    if (cd_at) *cd_at = cd;
    return (size_t)(p - out);
}

/* The standard check value: CRC-32 of "123456789". */
static void test_crc32(void) {
    CHECK(cli_crc32((const uint8_t *)"123456789", 9) == 0xcbf43926u);
    CHECK(cli_crc32(NULL, 0) == 0);
}

static char tmpdir[] = "/tmp/cml_test_cli_inputs_XXXXXX";

/* The bytes of an .npy file holding dtype [rank sizes] data. */
static size_t npy_bytes(uint8_t *out, size_t cap, cml_dtype dtype, int32_t rank,
                        const int64_t *sizes, const void *data) {
    char path[600];
    snprintf(path, sizeof path, "%s/tmp.npy", tmpdir);
    char err[256];
    if (cml_npy_write(path, dtype, rank, sizes, data, err, sizeof err) != 0) return 0;
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(out, 1, cap, f) : 0;
    if (f) fclose(f);
    remove(path);
    return n;
}

static zmember stored(const char *name, const uint8_t *data, size_t len) {
    return (zmember){name, data, len, 0, cli_crc32(data, len), len};
}

static void test_npz_parse(void) {
    static uint8_t zip[8192], a[512], b[512];
    int64_t sa[2] = {2, 3}, sb[1] = {4};
    float va[6] = {1, 2, 3, 4, 5, 6};
    int64_t vb[4] = {-1, 0, 7, 1LL << 40};
    size_t na = npy_bytes(a, sizeof a, CML_DTYPE_FLOAT32, 2, sa, va);
    size_t nb = npy_bytes(b, sizeof b, CML_DTYPE_INT64, 1, sb, vb);
    zmember m[2] = {stored("x.npy", a, na), stored("arr_0.npy", b, nb)};
    size_t len = build_zip(zip, m, 2, NULL);
    cli_npz z;
    char err[512];
    CHECK_MSG(cli_npz_open(zip, len, &z, err, sizeof err) == 0, "%s", err);
    CHECK(z.count == 2 && strcmp(z.members[0].name, "x") == 0 &&
          strcmp(z.members[1].name, "arr_0") == 0);
    CHECK(cli_npz_find(&z, "arr_0") == 1 && cli_npz_find(&z, "y") == -1);
    cml_npy arr;
    CHECK_MSG(cli_npz_read(zip, len, &z.members[0], &arr, err, sizeof err) == 0, "%s", err);
    CHECK(arr.dtype == CML_DTYPE_FLOAT32 && arr.rank == 2 && arr.sizes[1] == 3 &&
          memcmp(arr.data, va, sizeof va) == 0);
    cml_npy_free(&arr);
    CHECK(cli_npz_read(zip, len, &z.members[1], &arr, err, sizeof err) == 0);
    CHECK(arr.dtype == CML_DTYPE_INT64 && arr.numel == 4 && memcmp(arr.data, vb, sizeof vb) == 0);
    cml_npy_free(&arr);
    cli_npz_close(&z);
}

/* Every truncation and every single-byte corruption of a valid archive:
 * open + read either succeed or fail with a message; never a crash (the
 * ASan build checks the bounds). */
static void test_npz_corrupt_everywhere(void) {
    static uint8_t zip[4096], a[512], bad[4096];
    int64_t s[1] = {5};
    int16_t v[5] = {1, -2, 3, -4, 5};
    size_t na = npy_bytes(a, sizeof a, CML_DTYPE_INT16, 1, s, v);
    zmember m[1] = {stored("k.npy", a, na)};
    size_t len = build_zip(zip, m, 1, NULL);
    int opened_truncated = 0, bad_ok = 0;
    for (size_t cut = 0; cut < len; cut++) {
        cli_npz z;
        char err[512] = "";
        if (cli_npz_open(zip, cut, &z, err, sizeof err) == 0) {
            opened_truncated++;
            cli_npz_close(&z);
        } else {
            CHECK_MSG(err[0] != '\0', "no message at cut %zu", cut);
        }
    }
    CHECK(opened_truncated == 0); /* no prefix has the end record in place */
    for (size_t i = 0; i < len; i++) {
        for (int x = 1; x < 256; x <<= 2) {
            memcpy(bad, zip, len);
            bad[i] ^= (uint8_t)x;
            cli_npz z;
            char err[512] = "";
            if (cli_npz_open(bad, len, &z, err, sizeof err) != 0) continue;
            for (size_t k = 0; k < z.count; k++) {
                cml_npy arr;
                if (cli_npz_read(bad, len, &z.members[k], &arr, err, sizeof err) == 0) {
                    bad_ok++;
                    cml_npy_free(&arr);
                }
            }
            cli_npz_close(&z);
        }
    }
    /* Flips in bytes nobody checks (times, versions, the local copies of
     * the name) are harmless; flips in the data fail the CRC. */
    CHECK(bad_ok > 0 && bad_ok < (int)len * 4);
}

/* Specific corruptions and what the reader says about them. */
static void expect_npz_error(const uint8_t *zip, size_t len, const char *want) {
    cli_npz z;
    char err[512] = "";
    int rc = cli_npz_open(zip, len, &z, err, sizeof err);
    if (rc == 0) {
        cml_npy arr;
        rc = z.count ? cli_npz_read(zip, len, &z.members[0], &arr, err, sizeof err) : 0;
        if (rc == 0 && z.count) cml_npy_free(&arr);
        cli_npz_close(&z);
    }
    CHECK_MSG(rc != 0 && strstr(err, want), "want '%s', got '%s'", want, err);
}

static void test_npz_errors(void) {
    static uint8_t zip[4096], a[512];
    int64_t s[1] = {3};
    uint8_t v[3] = {1, 2, 3};
    size_t na = npy_bytes(a, sizeof a, CML_DTYPE_UINT8, 1, s, v);
    zmember m[2] = {stored("x.npy", a, na), stored("x.npy", a, na)};
    size_t cd, len = build_zip(zip, m, 1, &cd);
    uint8_t *end = zip + len - 22, *ce = zip + cd;
    expect_npz_error(zip, len / 2, "not a zip/.npz file");
    expect_npz_error((const uint8_t *)"PK\5\6", 4, "not a zip/.npz file");
    put(end + 16, len, 4); /* central directory offset past the file */
    expect_npz_error(zip, len, "corrupt zip: the central directory");
    put(end + 16, cd, 4);
    put(ce + 20, 1u << 30, 4); /* member "too large": csize beyond the file */
    put(ce + 24, 1u << 30, 4);
    expect_npz_error(zip, len, "extends past the end of the file");
    put(ce + 20, na, 4), put(ce + 24, na, 4);
    put(ce + 42, cd - 10, 4); /* local header offset at a wrong place */
    expect_npz_error(zip, len, "bad local header offset");
    put(ce + 42, 0, 4);
    put(ce + 16, m[0].crc ^ 1, 4);
    expect_npz_error(zip, len, "CRC-32 mismatch");
    put(ce + 16, m[0].crc, 4);
    put(ce + 10, 12, 2); /* bzip2 */
    expect_npz_error(zip, len, "compression method 12 is not supported");
    put(ce + 10, 0, 2);
    put(ce + 8, 1, 2); /* encrypted */
    expect_npz_error(zip, len, "encrypted");
    put(ce + 8, 0, 2);
    put(ce + 20, na - 1, 4); /* stored, but sizes disagree */
    expect_npz_error(zip, len, "stored member sizes differ");
    put(ce + 20, na, 4);
    put(end + 10, 2, 2), put(end + 8, 2, 2); /* two entries claimed, one there */
    expect_npz_error(zip, len, "corrupt zip");
    put(end + 10, 1, 2), put(end + 8, 1, 2);
    put(end + 4, 1, 2);
    expect_npz_error(zip, len, "multi-disk");
    put(end + 4, 0, 2);
    /* the zip itself is fine again */
    cli_npz z;
    char err[256];
    CHECK(cli_npz_open(zip, len, &z, err, sizeof err) == 0);
    cli_npz_close(&z);
    len = build_zip(zip, m, 2, NULL);
    expect_npz_error(zip, len, "member 'x.npy' appears twice");
    zmember txt = stored("notes.txt", v, 3);
    len = build_zip(zip, &txt, 1, NULL);
    expect_npz_error(zip, len, "member 'notes.txt' is not a .npy array");
    zmember trunc = stored("t.npy", a, na - 1); /* a .npy short of its data */
    len = build_zip(zip, &trunc, 1, NULL);
    expect_npz_error(zip, len, "member 't.npy': truncated data");
}

/* ---- through the CLI ----------------------------------------------------- */

static const char *mlp = CML_FIXTURE_DIR "/mlp/model.pte";

/* Runs `cml ARGS` in tmpdir, capturing stdout and stderr; the exit code. */
static int cli(const char *args) { return cli_run_in(tmpdir, args); }
#define out_text cli_out
#define err_text cli_err

static void write_file(const char *name, const void *data, size_t len) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, len, f) == len);
    if (f) fclose(f);
}

static void write_npy(const char *name, cml_dtype dtype, const void *data) {
    static const int64_t shape[2] = {2, 64};
    char path[600], err[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    CHECK_MSG(cml_npy_write(path, dtype, 2, shape, data, err, sizeof err) == 0, "%s", err);
}

static void write_zip(const char *name, const zmember *m, size_t n) {
    static uint8_t zip[16384];
    write_file(name, zip, build_zip(zip, m, n, NULL));
}

/* The bytes of tmpdir/DIR/output_0.npy (0 when missing). */
static size_t output_of(const char *dir, uint8_t *buf, size_t cap) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s/output_0.npy", tmpdir, dir);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (f) fclose(f);
    return n;
}

/* `cml run mlp ARGS -o DIR` succeeds and writes an output_0.npy equal to
 * the one in REF. */
static void expect_same(const char *args, const char *dir, const char *ref) {
    char cmdline[2048];
    snprintf(cmdline, sizeof cmdline, "run '%s' %s -o %s", mlp, args, dir);
    int rc = cli(cmdline);
    CHECK_MSG(rc == 0, "cml %s: exit %d: %s", cmdline, rc, err_text);
    static uint8_t a[4096], b[4096];
    size_t na = output_of(dir, a, sizeof a), nb = output_of(ref, b, sizeof b);
    CHECK_MSG(na > 128 && na == nb && memcmp(a, b, na) == 0, "cml %s: output differs from %s",
              cmdline, ref);
}

#define EXPECT(args, code, text)                                                        \
    do {                                                                                \
        char cmdline_[2048];                                                            \
        snprintf(cmdline_, sizeof cmdline_, "run '%s' %s", mlp, args);                  \
        int rc_ = cli(cmdline_);                                                        \
        CHECK_MSG(rc_ == (code), "cml %s: exit %d, want %d; stderr: %s", cmdline_, rc_, \
                  code, err_text);                                                      \
        CHECK_MSG(strstr(err_text, text) != NULL, "cml %s: stderr lacks '%s':\n%s",      \
                  cmdline_, text, err_text);                                            \
    } while (0)

static float x32[128];

/* Input files of every kind, all holding the fixture's input x. */
static void write_inputs(void) {
    cml_npy x;
    char err[256];
    CHECK_MSG(cml_npy_read(CML_FIXTURE_DIR "/mlp/input_0.npy", &x, err, sizeof err) == 0, "%s", err);
    CHECK(x.dtype == CML_DTYPE_FLOAT32 && x.numel == 128);
    if (x.data) memcpy(x32, x.data, sizeof x32);
    cml_npy_free(&x);
    write_npy("x.npy", CML_DTYPE_FLOAT32, x32);
    double x64[128];
    for (int i = 0; i < 128; i++) x64[i] = x32[i];
    write_npy("x64.npy", CML_DTYPE_FLOAT64, x64);
    write_file("x.bin", x32, sizeof x32);
    write_file("x.npy.raw", x32, sizeof x32);
    write_file("x64.bin", x64, sizeof x64);
    static uint8_t npy[1024], deflated[1024];
    int64_t shape[2] = {2, 64};
    size_t n = npy_bytes(npy, sizeof npy, CML_DTYPE_FLOAT32, 2, shape, x32);
    zmember named = stored("x.npy", npy, n), positional = stored("arr_0.npy", npy, n);
    write_zip("x.npz", &named, 1);
    write_zip("pos.npz", &positional, 1);
    zmember other = stored("other.npy", npy, n);
    write_zip("other.npz", &other, 1);
    zmember two[2] = {positional, stored("arr_1.npy", npy, n)};
    write_zip("two.npz", two, 2);
    /* A deflate stream of one stored block (BFINAL=1, BTYPE=00, LEN, NLEN). */
    deflated[0] = 1;
    put(deflated + 1, n, 2);
    put(deflated + 3, ~n & 0xffff, 2);
    memcpy(deflated + 5, npy, n);
    zmember d = {"x.npy", deflated, n + 5, 8, cli_crc32(npy, n), n};
    write_zip("deflated.npz", &d, 1);
}

static void test_cli_help(void) {
    static const char *const cmds[] = {"run --help", "bench --help"};
    for (int k = 0; k < 2; k++) {
        CHECK(cli(cmds[k]) == 0);
        CHECK_MSG(strstr(out_text, "--cast") && strstr(out_text, "--raw") &&
                      strstr(out_text, "--shape [NAME=]D0,D1,...") &&
                      strstr(out_text, "--dtype [NAME=]TYPE") && strstr(out_text, "input files:") &&
                      strstr(out_text, "FILE.npz") && strstr(out_text, "saturates"),
                  "%s:\n%s", cmds[k], out_text);
    }
}

static void test_cli_forms(void) {
    char args[1200];
    snprintf(args, sizeof args, "-i '%s/mlp/input_0.npy'", CML_FIXTURE_DIR);
    CHECK(cli(args) == 2); /* just the argument list: no model */
    snprintf(args, sizeof args, "run '%s' -i '%s/mlp/input_0.npy' -o ref", mlp, CML_FIXTURE_DIR);
    CHECK_MSG(cli(args) == 0, "%s", err_text);
    expect_same("-i x.npy", "o_npy", "ref");
    expect_same("-i x.npz", "o_npz", "ref");
    expect_same("-i pos.npz", "o_pos", "ref");
    expect_same("-i x=other.npz", "o_named_npz", "ref");
    expect_same("-i x.bin", "o_raw", "ref");
    expect_same("--raw -i x.npy.raw", "o_raw2", "ref");
    expect_same("-i x.bin --shape 2,64 --dtype float32", "o_raw3", "ref");
    expect_same("-i x=x.bin --shape x=2,64 --dtype x=float32", "o_raw4", "ref");
    expect_same("-i x64.npy --cast", "o_f64", "ref");
    expect_same("-i x64.bin --dtype float64 --cast", "o_f64raw", "ref");
    /* two --call groups: call1/ and call2/ both hold the reference output */
    snprintf(args, sizeof args, "run '%s' -i x.npz --call -i x.bin -o o_calls", mlp);
    CHECK_MSG(cli(args) == 0, "%s", err_text);
    static uint8_t c1[4096], c2[4096], r[4096];
    size_t n1 = output_of("o_calls/call1", c1, sizeof c1);
    size_t n2 = output_of("o_calls/call2", c2, sizeof c2), nr = output_of("ref", r, sizeof r);
    CHECK(n1 > 128 && n1 == nr && n2 == nr && memcmp(c1, r, nr) == 0 && memcmp(c2, r, nr) == 0);
#if defined(CML_CLI_HAVE_ZLIB) /* as the CLI was built (tests/CMakeLists.txt) */
    expect_same("-i deflated.npz", "o_deflate", "ref");
#else
    EXPECT("-i deflated.npz", 1, "use np.savez, not savez_compressed");
#endif
    snprintf(args, sizeof args, "bench '%s' -i x.npz --warmup 0 --iterations 1", mlp);
    CHECK_MSG(cli(args) == 0 && strstr(out_text, "latency"), "%s", err_text);
    snprintf(args, sizeof args, "bench '%s' -i x64.npy --warmup 0 --iterations 1", mlp);
    CHECK(cli(args) == 2 && strstr(err_text, "add --cast"));
}

/* Integer and float16 files with --cast give what the same values given as
 * float32 give. */
static void test_cli_cast_values(void) {
    int32_t xi[128];
    float xf[128];
    uint16_t xh[128];
    for (int i = 0; i < 128; i++) {
        xi[i] = (int32_t)(x32[i] * 10.0f); /* truncated, as --cast would */
        xf[i] = (float)xi[i];
        xh[i] = cml_fp32_to_fp16(x32[i]);
    }
    write_npy("xi.npy", CML_DTYPE_INT32, xi);
    write_npy("xi_f.npy", CML_DTYPE_FLOAT32, xf);
    for (int i = 0; i < 128; i++) xf[i] = cml_fp16_to_fp32(xh[i]);
    write_npy("xh.npy", CML_DTYPE_FLOAT16, xh);
    write_npy("xh_f.npy", CML_DTYPE_FLOAT32, xf);
    expect_same("-i xi_f.npy", "ref_i", "ref_i");
    expect_same("-i xi.npy --cast", "o_i", "ref_i");
    expect_same("-i xh_f.npy", "ref_h", "ref_h");
    expect_same("-i xh.npy --cast", "o_h", "ref_h");
    /* and the values differ from the plain run's, so the comparisons bite */
    static uint8_t a[4096], b[4096];
    size_t na = output_of("ref_i", a, sizeof a), nb = output_of("ref", b, sizeof b);
    CHECK(na == nb && memcmp(a, b, na) != 0);
}

static void test_cli_errors(void) {
    /* Inputs that do not fit the method are usage errors (exit 2, cli.h):
     * dtype without --cast, shape, raw file size. */
    EXPECT("-i x64.npy", 2,
           "input 0 'x' (x64.npy): the file holds float64, the input takes float32; add --cast");
    EXPECT("-i xi.npy", 2, "the file holds int32, the input takes float32; add --cast");
    EXPECT("-i x64.bin --dtype float64", 2, "the file holds float64");
    EXPECT("-i x64.bin", 2, "x64.bin: a raw file of 1024 bytes, but float32 [2, 64] needs 512 "
                            "bytes (set --shape / --dtype)");
    EXPECT("-i x.bin --shape 2,63", 2, "float32 [2, 63] needs 504 bytes");
    EXPECT("-i x.bin --shape 4,32", 2, "input 0 'x' (x.bin): shape mismatch: ");
    CHECK_MSG(strstr(err_text, "expected inputs:\n  input 0 'x': float32 [2, 64]") != NULL, "%s",
              err_text);
    /* a file that cannot be read is a runtime error (exit 1) */
    EXPECT("-i nosuchfile.npy", 1, "nosuchfile.npy");
    EXPECT("-i x.bin --shape 2,64,", 2, "--shape 2,64,: expected [NAME=]D0,D1,...");
    EXPECT("-i x.bin --shape 2,-64", 2, "--shape 2,-64");
    EXPECT("-i x.bin --dtype float", 2, "--dtype float: expected [NAME=]TYPE");
    EXPECT("-i x.bin --shape y=2,64", 2, "--shape y=2,64: no input is named 'y'");
    EXPECT("-i x.bin --dtype", 2, "needs a value");
    EXPECT("-i other.npz", 2, "--input other.npz: member 'other.npy' matches no input (the "
                              "inputs are: x;");
    EXPECT("-i two.npz", 2, "the method takes 1 input, got 2 arrays from 1 --input file");
    EXPECT("-i x.npz -i x=x.bin", 2, "input 'x' is given twice (x.npz and x=x.bin)");
    EXPECT("-i x=two.npz", 2, "--input x=two.npz: the archive has 2 members and none is named "
                              "'x.npy'");
    EXPECT("-i missing.npz", 1, "cannot open missing.npz");
    EXPECT("-i x.npz --call -i two.npz", 2, "call group 2: the method takes 1 input, got 2 arrays");
    CHECK(output_of("o_never", (uint8_t[64]){0}, 64) == 0);
    /* corrupt archives: a message and exit 1 */
    static uint8_t zip[4096], npy[1024];
    int64_t shape[2] = {2, 64};
    size_t n = npy_bytes(npy, sizeof npy, CML_DTYPE_FLOAT32, 2, shape, x32), cd;
    zmember m = stored("x.npy", npy, n);
    size_t len = build_zip(zip, &m, 1, &cd);
    write_file("trunc.npz", zip, len - 30);
    EXPECT("-i trunc.npz", 1, "trunc.npz: not a zip/.npz file (no end-of-central-directory");
    put(zip + len - 22 + 16, len, 4);
    write_file("badoff.npz", zip, len);
    EXPECT("-i badoff.npz", 1, "badoff.npz: corrupt zip: the central directory");
    put(zip + len - 22 + 16, cd, 4);
    put(zip + cd + 20, 0x7fffffff, 4), put(zip + cd + 24, 0x7fffffff, 4);
    write_file("huge.npz", zip, len);
    EXPECT("-i huge.npz", 1, "member 'x.npy': data (2147483647 bytes at offset");
    put(zip + cd + 20, n, 4), put(zip + cd + 24, n, 4);
    zip[cd - 1] ^= 0x40; /* last data byte */
    write_file("crc.npz", zip, len);
    EXPECT("-i crc.npz", 1, "member 'x.npy': CRC-32 mismatch");
    write_file("empty.npz", zip, 0);
    EXPECT("-i empty.npz", 1, "empty.npz: not a zip/.npz file");
}

int main(void) {
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_cast_float_to_int();
    test_cast_int_to_int_and_bool();
    test_cast_to_float();
    test_cast_dtypes();
    test_crc32();
    test_npz_parse();
    test_npz_corrupt_everywhere();
    test_npz_errors();
    write_inputs();
    test_cli_help();
    test_cli_forms();
    test_cli_cast_values();
    test_cli_errors();
    cli_rmtree(tmpdir);
    TEST_MAIN_END();
}
