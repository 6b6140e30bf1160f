/* .npy reader/writer: round trips for every supported dtype at rank 0..4,
 * hand-built v1/v2/v3 headers, and the rejects (each with its message). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "npy.h"

static char tmpdir[] = "/tmp/cml_test_npy_XXXXXX";

static const cml_dtype all_dtypes[] = {
    CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT16, CML_DTYPE_FLOAT64, CML_DTYPE_INT8,
    CML_DTYPE_INT16,   CML_DTYPE_INT32,   CML_DTYPE_INT64,   CML_DTYPE_UINT8,
    CML_DTYPE_BOOL,    CML_DTYPE_UINT16,  CML_DTYPE_UINT32,  CML_DTYPE_UINT64,
};

static void tmp_path(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static int write_bytes(const char *path, const void *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(buf, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : -1;
}

static uint8_t *read_bytes(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

/* Builds "\x93NUMPY" major.0 + length + header + data into buf. */
static size_t build_npy(uint8_t *buf, int major, const char *header, const void *data,
                        size_t nbytes) {
    size_t hl = strlen(header), off;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (uint8_t)major;
    buf[7] = 0;
    if (major == 1) {
        buf[8] = (uint8_t)hl;
        buf[9] = (uint8_t)(hl >> 8);
        off = 10;
    } else {
        for (int i = 0; i < 4; i++) buf[8 + i] = (uint8_t)(hl >> (8 * i));
        off = 12;
    }
    memcpy(buf + off, header, hl);
    if (nbytes) memcpy(buf + off + hl, data, nbytes);
    return off + hl + nbytes;
}

static void test_round_trip(void) {
    static const int64_t shape[4] = {2, 3, 1, 5};
    for (size_t d = 0; d < sizeof all_dtypes / sizeof all_dtypes[0]; d++) {
        cml_dtype dt = all_dtypes[d];
        size_t es = cml_dtype_size(dt);
        for (int32_t rank = 0; rank <= 4; rank++) {
            size_t numel = 1;
            for (int32_t i = 0; i < rank; i++) numel *= (size_t)shape[i];
            uint8_t *data = malloc(numel * es);
            for (size_t i = 0; i < numel * es; i++)
                data[i] = dt == CML_DTYPE_BOOL ? (uint8_t)(i & 1) : (uint8_t)(i * 37 + d);
            char path[256], err[256] = "";
            tmp_path(path, sizeof path, "rt.npy");
            CHECK_MSG(cml_npy_write(path, dt, rank, shape, data, err, sizeof err) == 0, "%s", err);

            size_t len = 0;
            uint8_t *file = read_bytes(path, &len);
            CHECK(file && len > 10 && memcmp(file, "\x93NUMPY\x01\x00", 8) == 0);
            /* NumPy aligns the data start to 64 bytes and ends the header with '\n'. */
            size_t hl = file ? (size_t)file[8] | (size_t)file[9] << 8 : 0;
            CHECK((10 + hl) % 64 == 0);
            CHECK(file && file[10 + hl - 1] == '\n');
            free(file);

            cml_npy a;
            CHECK_MSG(cml_npy_read(path, &a, err, sizeof err) == 0, "%s", err);
            CHECK(a.dtype == dt);
            CHECK(a.rank == rank);
            CHECK(a.numel == numel && a.nbytes == numel * es);
            CHECK(memcmp(a.sizes, shape, sizeof(int64_t) * (size_t)rank) == 0);
            CHECK(a.data && memcmp(a.data, data, numel * es) == 0);
            cml_npy_free(&a);
            CHECK(a.data == NULL);
            free(data);
        }
    }
}

static void test_empty_and_rank1_header(void) {
    char path[256], err[256] = "";
    tmp_path(path, sizeof path, "empty.npy");
    int64_t shape[2] = {0, 7};
    CHECK(cml_npy_write(path, CML_DTYPE_FLOAT32, 2, shape, NULL, err, sizeof err) == 0);
    cml_npy a;
    CHECK_MSG(cml_npy_read(path, &a, err, sizeof err) == 0, "%s", err);
    CHECK(a.numel == 0 && a.nbytes == 0 && a.data != NULL);
    cml_npy_free(&a);

    /* A rank-1 shape needs its trailing comma, as NumPy writes it. */
    int64_t n = 3;
    float v[3] = {1, 2, 3};
    tmp_path(path, sizeof path, "r1.npy");
    CHECK(cml_npy_write(path, CML_DTYPE_FLOAT32, 1, &n, v, err, sizeof err) == 0);
    size_t len;
    uint8_t *file = read_bytes(path, &len);
    CHECK(file && strstr((const char *)file + 10, "'shape': (3,), }") != NULL);
    free(file);
}

static void test_versions(void) {
    float data[6] = {0, 1, 2, 3, 4, 5};
    static const char *hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
    uint8_t buf[512];
    char err[256] = "", path[256];
    for (int major = 1; major <= 3; major++) {
        size_t len = build_npy(buf, major, hdr, data, sizeof data);
        cml_npy a;
        CHECK_MSG(cml_npy_parse(buf, len, &a, err, sizeof err) == 0, "v%d: %s", major, err);
        CHECK(a.rank == 2 && a.sizes[0] == 2 && a.sizes[1] == 3);
        CHECK(a.data && memcmp(a.data, data, sizeof data) == 0);
        cml_npy_free(&a);
        tmp_path(path, sizeof path, "ver.npy");
        CHECK(write_bytes(path, buf, len) == 0);
        CHECK_MSG(cml_npy_read(path, &a, err, sizeof err) == 0, "v%d file: %s", major, err);
        CHECK(a.dtype == CML_DTYPE_FLOAT32 && a.nbytes == sizeof data);
        cml_npy_free(&a);
    }
    /* Other spellings NumPy (or Python) may produce. */
    static const char *ok_headers[] = {
        "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,3)}",
        "{'shape':(2 , 3 ,),'fortran_order':False,'descr':'<f4'}   \n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }",
    };
    for (size_t i = 0; i < sizeof ok_headers / sizeof ok_headers[0]; i++) {
        size_t len = build_npy(buf, 1, ok_headers[i], data, sizeof data);
        cml_npy a;
        CHECK_MSG(cml_npy_parse(buf, len, &a, err, sizeof err) == 0, "%s: %s", ok_headers[i], err);
        CHECK(a.rank == 2 && a.numel == 6);
        cml_npy_free(&a);
    }
    /* Rank 0 and one-byte types with '|'. */
    uint8_t b = 1;
    size_t len = build_npy(buf, 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (), }", &b, 1);
    cml_npy a;
    CHECK_MSG(cml_npy_parse(buf, len, &a, err, sizeof err) == 0, "%s", err);
    CHECK(a.dtype == CML_DTYPE_BOOL && a.rank == 0 && a.numel == 1);
    cml_npy_free(&a);
}

/* Parses header + nbytes of data; expects a failure whose message has want. */
static void expect_reject(int major, const char *header, size_t nbytes, const char *want) {
    static uint8_t buf[4096];
    static const uint8_t zeros[256];
    size_t len = build_npy(buf, major, header, zeros, nbytes);
    cml_npy a;
    char err[256] = "";
    int rc = cml_npy_parse(buf, len, &a, err, sizeof err);
    CHECK_MSG(rc != 0, "accepted: %s", header);
    CHECK_MSG(strstr(err, want) != NULL, "message '%s' lacks '%s'", err, want);
    CHECK(a.data == NULL);
}

static void test_rejects(void) {
    expect_reject(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "big-endian");
    expect_reject(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8, "fortran_order");
    expect_reject(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16, "object");
    expect_reject(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8,
                  "structured");
    expect_reject(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, "unsupported dtype");
    expect_reject(1, "{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", 24, "unsupported dtype");
    expect_reject(1, "{'descr': 'float32', 'fortran_order': False, 'shape': (2,), }", 8, "unsupported dtype");
    /* shape vs data size */
    expect_reject(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20, "truncated");
    expect_reject(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 28, "mismatch");
    expect_reject(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 0, "truncated");
    expect_reject(1, "{'descr': '<f8', 'fortran_order': False, "
                     "'shape': (4294967296, 4294967296, 4294967296), }", 0, "overflow");
    expect_reject(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }",
                  0, "overflow");
    expect_reject(1, "{'descr': '<f4', 'fortran_order': False, "
                     "'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1), }", 4, "more than 16");
    /* malformed dicts */
    expect_reject(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8, "non-negative");
    expect_reject(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", 8, "not a tuple");
    expect_reject(1, "{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", 8, "not a tuple");
    expect_reject(1, "{'descr': '<f4', 'fortran_order': False, }", 4, "missing key 'shape'");
    expect_reject(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4,
                  "duplicate");
    expect_reject(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", 4,
                  "unexpected key");
    expect_reject(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (), }", 4, "True or False");
    expect_reject(1, "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (), }", 4, "True or False");
    expect_reject(1, "{'descr': '<f4' 'fortran_order': False, 'shape': (), }", 4, "expected");
    expect_reject(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", 24, "expected ','");
    expect_reject(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,", 8, "unterminated");
    expect_reject(1, "{'descr': '<f4", 0, "unterminated");
    expect_reject(1, "['descr']", 0, "not a dict");
    expect_reject(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), } x", 4, "after the dict");
    expect_reject(1, "{'de\\u0073cr': '<f4', 'fortran_order': False, 'shape': (), }", 4, "escape");
}

static void test_prefix_rejects(void) {
    static const char *hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
    uint8_t buf[256];
    float one = 1;
    char err[256];
    cml_npy a;
    size_t len = build_npy(buf, 1, hdr, &one, 4);

    uint8_t bad[256];
    memcpy(bad, buf, len);
    bad[1] = 'X';
    CHECK(cml_npy_parse(bad, len, &a, err, sizeof err) != 0 && strstr(err, "magic"));
    memcpy(bad, buf, len);
    bad[6] = 4;
    CHECK(cml_npy_parse(bad, len, &a, err, sizeof err) != 0 && strstr(err, "version 4.0"));

    /* Header length fields that point past the end of the file. */
    memcpy(bad, buf, len);
    bad[8] = 0xff;
    bad[9] = 0xff;
    CHECK(cml_npy_parse(bad, len, &a, err, sizeof err) != 0 && strstr(err, "header length"));
    len = build_npy(buf, 2, hdr, &one, 4);
    memcpy(bad, buf, len);
    memset(bad + 8, 0xff, 4);
    CHECK(cml_npy_parse(bad, len, &a, err, sizeof err) != 0 && strstr(err, "header length"));
    char path[256];
    tmp_path(path, sizeof path, "hlen.npy");
    CHECK(write_bytes(path, bad, len) == 0);
    CHECK(cml_npy_read(path, &a, err, sizeof err) != 0 && strstr(err, "header length"));

    /* Every truncation of a valid file fails cleanly, in memory and on disk. */
    len = build_npy(buf, 1, hdr, &one, 4);
    for (size_t cut = 0; cut < len; cut++) {
        err[0] = '\0';
        CHECK_MSG(cml_npy_parse(buf, cut, &a, err, sizeof err) != 0, "cut %zu accepted", cut);
        CHECK(err[0] != '\0');
        CHECK(write_bytes(path, buf, cut) == 0);
        CHECK_MSG(cml_npy_read(path, &a, err, sizeof err) != 0, "file cut %zu accepted", cut);
        CHECK(strstr(err, path) != NULL);
    }
    CHECK(cml_npy_read("/nonexistent/x.npy", &a, err, sizeof err) != 0 &&
          strstr(err, "No such file"));
}

static void test_write_rejects(void) {
    char path[256], err[256] = "";
    tmp_path(path, sizeof path, "w.npy");
    int64_t n = 2, neg = -1;
    uint16_t v[2] = {0, 0};
    CHECK(cml_npy_write(path, CML_DTYPE_BFLOAT16, 1, &n, v, err, sizeof err) != 0 &&
          strstr(err, "bfloat16"));
    CHECK(cml_npy_write(path, CML_DTYPE_INT16, 1, &neg, v, err, sizeof err) != 0);
    CHECK(cml_npy_write(path, CML_DTYPE_INT16, 17, &n, v, err, sizeof err) != 0);
    CHECK(cml_npy_write("/nonexistent/dir/w.npy", CML_DTYPE_INT16, 1, &n, v, err, sizeof err) != 0);
    CHECK(cml_npy_descr(CML_DTYPE_FLOAT16) && strcmp(cml_npy_descr(CML_DTYPE_FLOAT16), "<f2") == 0);
    CHECK(cml_npy_descr(CML_DTYPE_BFLOAT16) == NULL);
}

int main(void) {
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_empty_and_rank1_header();
    test_versions();
    test_rejects();
    test_prefix_rejects();
    test_write_rejects();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    TEST_MAIN_END();
}
