/*
 * `cml run`'s reports: --compare (numpy.allclose semantics, exit 3 on a
 * mismatch), --rtol / --atol, --output-names, --json; `cml bench`'s
 * progress line (only on a terminal).
 *
 * compare.c and names.c are compiled into this test directly; the CLI runs
 * on real fixtures and the numbers it prints are checked against max errors
 * this test computes itself from the .npy files the run wrote.
 */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_util.h"
#include "compare.c"
#include "harness.h"
#include "names.c"
#include "npy.h"

static char tmpdir[] = "/tmp/cml_test_cli_report_XXXXXX";
#define MLP CML_FIXTURE_DIR "/mlp"
#define ELEM CML_FIXTURE_DIR "/portable_elementwise"

static int cli(const char *fmt, ...) CML_PRINTF(1, 2);
static int cli(const char *fmt, ...) {
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return cli_run_in(tmpdir, args);
}

/* ---- compare.c ---------------------------------------------------------- */

static void test_compare_floats(void) {
    cli_cmp_result r;
    float a[4] = {1.0f, 2.0f, 0.0f, 1.5f};
    double b[4] = {1.0 + 1e-6, 2.5, 1e-9, 1.0};
    /* 1e-6 <= 1e-8 + 1e-5 * 1.000001; 0.5 > ...; 1e-9 <= atol; 0.5 fails */
    cli_compare_arrays(CML_DTYPE_FLOAT32, a, CML_DTYPE_FLOAT64, b, 3, 1e-5, 1e-8, &r);
    CHECK(r.numel == 3 && r.mismatches == 1 && r.nan_mismatches == 0 && r.worst == 1);
    CHECK_NEAR(r.max_abs, 0.5, 1e-12);
    /* relative error: 0.5 / 2.5 = 0.2, but 1e-9 against 1e-9 is 1 (it passes on atol) */
    CHECK_NEAR(r.max_rel, 1.0, 1e-9);
    /* the boundary passes: |1.5 - 1| == 0.5 == atol + 0 * |1| */
    cli_compare_arrays(CML_DTYPE_FLOAT32, a + 3, CML_DTYPE_FLOAT64, b + 3, 1, 0.0, 0.5, &r);
    CHECK(r.mismatches == 0 && r.max_abs == 0.5 && r.max_rel == 0.5);
    cli_compare_arrays(CML_DTYPE_FLOAT32, a + 3, CML_DTYPE_FLOAT64, b + 3, 1, 0.0, 0.4999, &r);
    CHECK(r.mismatches == 1);
    /* rtol scales with the expected value (second array), not the output */
    double x = 110, y = 100;
    cli_compare_arrays(CML_DTYPE_FLOAT64, &x, CML_DTYPE_FLOAT64, &y, 1, 0.1, 0, &r);
    CHECK(r.mismatches == 0);
    cli_compare_arrays(CML_DTYPE_FLOAT64, &y, CML_DTYPE_FLOAT64, &x, 1, 0.0909, 0, &r);
    CHECK(r.mismatches == 1);
}

static void test_compare_nan_inf(void) {
    cli_cmp_result r;
    double a[6] = {NAN, NAN, 1.0, INFINITY, -INFINITY, 1e308};
    double b[6] = {NAN, 1.0, NAN, INFINITY, INFINITY, INFINITY};
    cli_compare_arrays(CML_DTYPE_FLOAT64, a, CML_DTYPE_FLOAT64, b, 4, 1e-5, 1e-8, &r);
    CHECK(r.mismatches == 2 && r.nan_mismatches == 2 && r.max_abs == 0); /* NaN==NaN, inf==inf */
    cli_compare_arrays(CML_DTYPE_FLOAT64, a + 4, CML_DTYPE_FLOAT64, b + 4, 2, 1e-5, 1e-8, &r);
    CHECK(r.mismatches == 2 && r.nan_mismatches == 0 && isinf(r.max_abs));
    /* a finite value is never close to an infinity, whatever rtol */
    cli_compare_arrays(CML_DTYPE_FLOAT64, a + 5, CML_DTYPE_FLOAT64, b + 5, 1, 10.0, 1e300, &r);
    CHECK(r.mismatches == 1);
}

static void test_compare_dtypes(void) {
    cli_cmp_result r;
    uint8_t bools[3] = {1, 0, 7}; /* a nonzero bool byte reads as 1 */
    int64_t ints[3] = {1, 0, 2};
    cli_compare_arrays(CML_DTYPE_BOOL, bools, CML_DTYPE_INT64, ints, 3, 0, 0, &r);
    CHECK(r.mismatches == 1 && r.max_abs == 1 && r.worst == 2 && r.max_rel == 0.5);
    uint16_t h[2] = {0x3c00, 0xc000}; /* fp16 1, -2 */
    float f[2] = {1.0005f, -2.0f};
    cli_compare_arrays(CML_DTYPE_FLOAT16, h, CML_DTYPE_FLOAT32, f, 2, 0, 1e-3, &r);
    CHECK(r.mismatches == 0 && fabs(r.max_abs - (1.0005f - 1.0)) < 1e-9);
    uint16_t bf[1] = {0x3f80}; /* bf16 1 */
    int8_t i8[1] = {-1};
    cli_compare_arrays(CML_DTYPE_BFLOAT16, bf, CML_DTYPE_INT8, i8, 1, 0, 1.9, &r);
    CHECK(r.mismatches == 1 && r.max_abs == 2);
    uint64_t u64 = 1ull << 40;
    int32_t i32 = -(1 << 20);
    uint16_t u16 = 65535;
    uint32_t u32 = 4000000000u;
    CHECK(cli_value_as_double(CML_DTYPE_UINT64, &u64, 0) == 1099511627776.0);
    CHECK(cli_value_as_double(CML_DTYPE_INT32, &i32, 0) == -1048576.0);
    CHECK(cli_value_as_double(CML_DTYPE_UINT16, &u16, 0) == 65535.0);
    CHECK(cli_value_as_double(CML_DTYPE_UINT32, &u32, 0) == 4e9);
    CHECK(!cli_compare_dtype_ok(CML_DTYPE_COMPLEX64) && cli_compare_dtype_ok(CML_DTYPE_BOOL));
}

static void test_safe_names(void) {
    char buf[200];
    CHECK(strcmp(cli_safe_file_name("aten_softmax_int", 0, buf, sizeof buf), "aten_softmax_int") == 0);
    CHECK(strcmp(cli_safe_file_name("a/b c:d", 0, buf, sizeof buf), "a_b_c_d") == 0);
    CHECK(strcmp(cli_safe_file_name("../etc/x", 0, buf, sizeof buf), "_._etc_x") == 0);
    CHECK(strcmp(cli_safe_file_name("..", 0, buf, sizeof buf), "_.") == 0);
    CHECK(strcmp(cli_safe_file_name("", 3, buf, sizeof buf), "output_3") == 0);
    CHECK(strcmp(cli_safe_file_name("///", 4, buf, sizeof buf), "output_4") == 0);
    CHECK(strcmp(cli_safe_file_name(NULL, 5, buf, sizeof buf), "output_5") == 0);
    char long_name[400];
    memset(long_name, 'q', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    CHECK(strlen(cli_safe_file_name(long_name, 0, buf, sizeof buf)) == 120);
    char small[8];
    CHECK(strcmp(cli_safe_file_name("abcdefghij", 0, small, sizeof small), "abcdefg") == 0);
}

/* ---- --compare through the CLI -------------------------------------------- */

static bool read_npy(const char *path, cml_npy *a) {
    char err[512];
    bool ok = cml_npy_read(path, a, err, sizeof err) == 0;
    CHECK_MSG(ok, "%s", err);
    return ok;
}

/* The max |a - b| and max |a - b| / |b| (b != 0) over non-NaN pairs: a
 * plain reference for what the CLI prints. */
static void max_errors(const cml_npy *a, const cml_npy *b, double *abs_err, double *rel_err) {
    *abs_err = *rel_err = 0;
    for (size_t i = 0; i < a->numel && i < b->numel; i++) {
        double x = cli_value_as_double(a->dtype, a->data, i);
        double y = cli_value_as_double(b->dtype, b->data, i);
        if (isnan(x) || isnan(y)) continue;
        double e = fabs(x - y);
        if (e > *abs_err) *abs_err = e;
        if (y != 0 && e / fabs(y) > *rel_err) *rel_err = e / fabs(y);
    }
}

/* Checks that cli_out reports the errors of tmpdir/OUT against EXPECTED. */
static void expect_reported(const char *out, const char *expected) {
    char path[1200], want[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, out);
    cml_npy a = {0}, b = {0};
    if (read_npy(path, &a) && read_npy(expected, &b)) {
        double ea, er;
        max_errors(&a, &b, &ea, &er);
        snprintf(want, sizeof want, "max abs error %.6g, max rel error %.6g;", ea, er);
        CHECK_MSG(strstr(cli_out, want) != NULL, "want '%s' in:\n%s", want, cli_out);
    }
    cml_npy_free(&a);
    cml_npy_free(&b);
}

static void write_array(const char *rel, const cml_npy *a) {
    char path[1200], err[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    CHECK_MSG(cml_npy_write(path, a->dtype, a->rank, a->sizes, a->data, err, sizeof err) == 0, "%s",
              err);
}

static void test_compare_pass(void) {
    int rc = cli("run %s/model.pte -i %s/input_0.npy -o pass --compare %s --rtol 1e-4 --atol 1e-4",
                 MLP, MLP, MLP);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, cli_err);
    CHECK(strstr(cli_out, "compare output 0 'aten_softmax_int' with " MLP "/expected_0.npy: ") != NULL);
    CHECK(strstr(cli_out, "0 of 64 elements outside atol 0.0001 + rtol 0.0001 * |expected|: PASS"));
    CHECK(strstr(cli_out, "compare: PASS (1 of 1 output within atol 0.0001 + rtol 0.0001"));
    expect_reported("pass/output_0.npy", MLP "/expected_0.npy");
    /* numpy's default tolerances are named when none are given */
    rc = cli("run %s/model.pte -i %s/input_0.npy --compare %s/expected_0.npy", MLP, MLP, MLP);
    CHECK_MSG(strstr(cli_out, "atol 1e-08 + rtol 1e-05 * |expected|"), "%s", cli_out);
    CHECK(rc == 0 || rc == 3);
    /* every dtype: float32, int32 and int64 outputs */
    rc = cli("run %s/model.pte -i %s/input_0.npy -i %s/input_1.npy -i %s/input_2.npy "
             "-i %s/input_3.npy -i %s/input_4.npy -o elem --compare %s", ELEM, ELEM, ELEM, ELEM,
             ELEM, ELEM, ELEM);
    CHECK_MSG(rc == 0, "exit %d: %s%s", rc, cli_out, cli_err);
    CHECK(strstr(cli_out, "compare: PASS (6 of 6 outputs"));
    CHECK(strstr(cli_out, "compare output 4 'output_4' with " ELEM "/expected_4.npy: max abs error 0,"));
    expect_reported("elem/output_0.npy", ELEM "/expected_0.npy");
}

/* An expected array that differs: 2 elements (one NaN), then an int one. */
static void test_compare_fail(void) {
    cml_npy e = {0};
    if (!read_npy(MLP "/expected_0.npy", &e)) return;
    ((float *)e.data)[7] += 0.01f;
    ((float *)e.data)[20] = NAN;
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/bad", tmpdir);
    CHECK(mkdir(dir, 0700) == 0);
    write_array("bad/expected_0.npy", &e);
    int rc = cli("run %s/model.pte -i %s/input_0.npy -o failed --compare bad --rtol 1e-4 "
                 "--atol 1e-4", MLP, MLP);
    CHECK_MSG(rc == 3, "exit %d: %s", rc, cli_err);
    CHECK_MSG(strstr(cli_out, "2 of 64 elements outside atol 0.0001 + rtol 0.0001 * |expected| "
                              "(1 NaN on one side only): FAIL"), "%s", cli_out);
    CHECK(strstr(cli_out, "compare: FAIL (0 of 1 output within"));
    snprintf(dir, sizeof dir, "%s/bad/expected_0.npy", tmpdir);
    expect_reported("failed/output_0.npy", dir);
    /* the same file by name */
    CHECK(cli("run %s/model.pte -i %s/input_0.npy --compare bad/expected_0.npy --atol 1", MLP,
              MLP) == 3);
    /* a shape that differs fails */
    e.sizes[1] = 31;
    e.numel = 62;
    write_array("short.npy", &e);
    CHECK(cli("run %s/model.pte -i %s/input_0.npy --compare short.npy", MLP, MLP) == 3);
    CHECK_MSG(strstr(cli_out, "short.npy: shape [2, 32], expected [2, 31]: FAIL"), "%s", cli_out);
    cml_npy_free(&e);
    /* an int32 output one off */
    if (!read_npy(ELEM "/expected_3.npy", &e)) return;
    ((int32_t *)e.data)[5] += 1;
    write_array("int3.npy", &e);
    cml_npy_free(&e);
    rc = cli("run %s/model.pte -i %s/input_0.npy -i %s/input_1.npy -i %s/input_2.npy "
             "-i %s/input_3.npy -i %s/input_4.npy --compare %s/expected_0.npy,%s/expected_1.npy,"
             "%s/expected_2.npy,int3.npy,%s/expected_4.npy,%s/expected_5.npy", ELEM, ELEM, ELEM,
             ELEM, ELEM, ELEM, ELEM, ELEM, ELEM, ELEM, ELEM);
    CHECK_MSG(rc == 3, "exit %d: %s", rc, cli_err);
    CHECK_MSG(strstr(cli_out, "compare output 3 'output_3' with int3.npy: max abs error 1, max rel "
                              "error "), "%s", cli_out);
    CHECK(strstr(cli_out, "1 of 12 elements outside") && strstr(cli_out, "5 of 6 outputs"));
}

static void test_compare_errors(void) {
    /* file counts that do not fit the outputs, bad tolerances: usage (2) */
    CHECK(cli("run %s/model.pte --compare a.npy,b.npy", MLP) == 2);
    CHECK_MSG(strstr(cli_err, "--compare lists 2 files, the method has 1 output"), "%s", cli_err);
    CHECK(cli("run %s/model.pte --compare x.npy --rtol abc", MLP) == 2 && strstr(cli_err, "--rtol"));
    CHECK(cli("run %s/model.pte --compare x.npy --atol -1", MLP) == 2 && strstr(cli_err, "--atol"));
    CHECK(cli("run %s/model.pte --compare", MLP) == 2 && strstr(cli_err, "needs a value"));
    /* a directory with more expected arrays than outputs */
    char path[1200];
    snprintf(path, sizeof path, "%s/extra", tmpdir);
    CHECK(mkdir(path, 0700) == 0);
    cml_npy e = {0};
    if (read_npy(MLP "/expected_0.npy", &e)) {
        write_array("extra/expected_0.npy", &e);
        write_array("extra/expected_1.npy", &e);
    }
    cml_npy_free(&e);
    CHECK(cli("run %s/model.pte --compare extra", MLP) == 2);
    CHECK_MSG(strstr(cli_err, "extra/expected_1.npy exists, but the method has 1 output"), "%s",
              cli_err);
    /* missing files: runtime errors (1), before anything runs */
    CHECK(cli("run %s/model.pte --compare nosuch.npy", MLP) == 1);
    CHECK(strstr(cli_err, "cannot open nosuch.npy") && !strstr(cli_out, "output 0"));
    CHECK(cli("run %s/model.pte --compare %s", MLP, CML_FIXTURE_DIR) == 1);
    CHECK_MSG(strstr(cli_err, "no expected_0.npy for output 0"), "%s", cli_err);
    /* a runtime error wins over a mismatch */
    CHECK(cli("run %s/model.pte -i nosuch.npy --compare %s", MLP, MLP) == 1);
}

/* Call groups take expected_<i>.call<k>.npy, methods expected_<i>.<method>.npy. */
static void test_compare_suffixes(void) {
    const char *st = CML_FIXTURE_DIR "/stateful_states";
    int rc = cli("run %s/model.pte -i %s/input_0.call1.npy --call -i %s/input_0.call2.npy "
                 "--compare %s --atol 0.005 --rtol 1e-4", st, st, st, st);
    CHECK_MSG(rc == 0, "exit %d: %s%s", rc, cli_out, cli_err);
    CHECK(strstr(cli_out, "(call 1) with ") && strstr(cli_out, "/expected_0.call1.npy: "));
    CHECK(strstr(cli_out, "(call 2) with ") && strstr(cli_out, "/expected_0.call2.npy: "));
    CHECK(strstr(cli_out, "compare: PASS (2 of 2 outputs"));
    const char *mm = CML_FIXTURE_DIR "/multi_method";
    rc = cli("run %s/model.pte --method prefill -i %s/input_0.prefill.npy --compare %s "
             "--atol 1e-4 --rtol 1e-4", mm, mm, mm);
    CHECK_MSG(rc == 0 && strstr(cli_out, "/expected_0.prefill.npy: "), "%d: %s", rc, cli_out);
}

/* ---- --output-names and --json --------------------------------------------- */

static bool exists(const char *rel) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    return access(path, F_OK) == 0;
}

static void test_output_names(void) {
    int rc = cli("run %s/model.pte -o named --output-names", MLP);
    CHECK_MSG(rc == 0, "%s", cli_err);
    CHECK(exists("named/aten_softmax_int.npy") && !exists("named/output_0.npy"));
    CHECK(strstr(cli_out, "saved named/aten_softmax_int.npy"));
    rc = cli("run %s/model.pte -o plain", MLP);
    CHECK(rc == 0 && exists("plain/output_0.npy"));
}

static const cJSON *get(const cJSON *o, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static void check_json_call(const cJSON *call) {
    CHECK(cJSON_IsNumber(get(call, "execute_ms")) && get(call, "execute_ms")->valuedouble >= 0);
    const cJSON *in = cJSON_GetArrayItem(get(call, "inputs"), 0);
    CHECK(in && strcmp(cJSON_GetStringValue(in), MLP "/input_0.npy") == 0);
    const cJSON *out = cJSON_GetArrayItem(get(call, "outputs"), 0);
    CHECK(strcmp(cJSON_GetStringValue(get(out, "name")), "aten_softmax_int") == 0);
    CHECK(strcmp(cJSON_GetStringValue(get(out, "dtype")), "float32") == 0);
    CHECK(cJSON_GetArraySize(get(out, "shape")) == 2 &&
          cJSON_GetArrayItem(get(out, "shape"), 1)->valueint == 32);
    CHECK(strcmp(cJSON_GetStringValue(get(out, "file")), "js/aten_softmax_int.npy") == 0);
    const cJSON *cmp = get(out, "compare");
    CHECK(cJSON_IsTrue(get(cmp, "pass")) && get(cmp, "elements")->valueint == 64);
    cml_npy a = {0}, b = {0};
    char path[1200];
    snprintf(path, sizeof path, "%s/js/aten_softmax_int.npy", tmpdir);
    if (read_npy(path, &a) && read_npy(MLP "/expected_0.npy", &b)) {
        double ea, er;
        max_errors(&a, &b, &ea, &er);
        CHECK_NEAR(get(cmp, "max_abs_error")->valuedouble, ea, ea * 1e-12);
        CHECK_NEAR(get(cmp, "max_rel_error")->valuedouble, er, er * 1e-12);
    }
    cml_npy_free(&a);
    cml_npy_free(&b);
}

static void test_json(void) {
    int rc = cli("run %s/model.pte -i %s/input_0.npy -o js --output-names --json --compare %s "
                 "--rtol 1e-4 --atol 1e-4", MLP, MLP, MLP);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, cli_err);
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(cli_out, &end, 1); /* nothing but the JSON on stdout */
    CHECK_MSG(j != NULL, "not JSON:\n%s", cli_out);
    if (!j) return;
    CHECK(strcmp(cJSON_GetStringValue(get(j, "model")), MLP "/model.pte") == 0);
    CHECK(strcmp(cJSON_GetStringValue(get(j, "method")), "forward") == 0);
    CHECK(cJSON_IsNumber(get(j, "open_ms")) && cJSON_IsNumber(get(j, "method_create_ms")));
    const cJSON *in = cJSON_GetArrayItem(get(j, "inputs"), 0);
    CHECK(strcmp(cJSON_GetStringValue(get(in, "name")), "x") == 0 &&
          cJSON_GetArrayItem(get(in, "shape"), 1)->valueint == 64);
    CHECK(cJSON_GetArraySize(get(j, "calls")) == 1);
    check_json_call(cJSON_GetArrayItem(get(j, "calls"), 0));
    const cJSON *cmp = get(j, "compare");
    CHECK(cJSON_IsTrue(get(cmp, "pass")) && get(cmp, "rtol")->valuedouble == 1e-4);
    cJSON_Delete(j);
    /* a mismatch: exit 3, still valid JSON, "pass": false */
    rc = cli("run %s/model.pte --json --compare %s", MLP, MLP);
    j = cJSON_Parse(cli_out);
    CHECK_MSG(rc == 3 && j && cJSON_IsFalse(get(get(j, "compare"), "pass")), "%d %s", rc, cli_out);
    CHECK(j && strcmp(cJSON_GetStringValue(get(cJSON_GetArrayItem(get(j, "calls"), 0), "inputs")),
                      "random") == 0);
    cJSON_Delete(j);
}

/* ---- bench's progress line -------------------------------------------------- */

static void test_bench_progress(void) {
    /* stderr redirected to a file: not a terminal, nothing extra */
    int rc = cli("bench %s/model.pte --warmup 2 --iterations 5", MLP);
    CHECK_MSG(rc == 0 && cli_err[0] == '\0', "exit %d, stderr: '%s'", rc, cli_err);
    CHECK(strstr(cli_out, "latency:") && !strstr(cli_out, "cml bench:"));
    rc = cli("bench %s/model.pte --warmup 1 --iterations 2 --json", MLP);
    cJSON *j = cJSON_Parse(cli_out);
    CHECK(rc == 0 && cli_err[0] == '\0' && j != NULL);
    cJSON_Delete(j);
    /* stderr on a pseudo-terminal: the progress line, erased at the end */
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 || !ptsname(master)) {
        printf("SKIP: no pseudo-terminal\n");
        if (master >= 0) close(master);
        return;
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' bench %s/model.pte --warmup 1 --iterations 3 >/dev/null 2>'%s'",
             CML_CLI_PATH, MLP, ptsname(master));
    rc = system(cmd);
    CHECK(rc == 0);
    fcntl(master, F_SETFL, O_NONBLOCK);
    char tty[4096];
    ssize_t n = read(master, tty, sizeof tty - 1);
    tty[n > 0 ? n : 0] = '\0';
    close(master);
    CHECK_MSG(strstr(tty, "\rcml bench: warmup 1/1") && strstr(tty, "\rcml bench: run 3/3"), "'%s'",
              tty);
    CHECK(n > 0 && tty[n - 1] == '\r'); /* erased: blanks, then back to column 0 */
}

int main(void) {
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_compare_floats();
    test_compare_nan_inf();
    test_compare_dtypes();
    test_safe_names();
    test_compare_pass();
    test_compare_fail();
    test_compare_errors();
    test_compare_suffixes();
    test_output_names();
    test_json();
    test_bench_progress();
    cli_rmtree(tmpdir);
    TEST_MAIN_END();
}
