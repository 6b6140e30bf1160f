/* The cml CLI's contract that does not need a model to execute: help and
 * version output, usage errors (exit 2) and runtime errors such as a
 * missing or malformed model file (exit 1, message on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli_util.h"
#include "cml.h"
#include "harness.h"

static char tmpdir[] = "/tmp/cml_test_cli_XXXXXX";
/* Runs `cml ARGS` (in tmpdir), capturing stdout and stderr; the exit code. */
static int cli(const char *args) { return cli_run_in(tmpdir, args); }
#define out_text cli_out
#define err_text cli_err

#define EXPECT(args, code, stream, text)                                                 \
    do {                                                                                 \
        int rc_ = cli(args);                                                             \
        CHECK_MSG(rc_ == (code), "cml %s: exit %d, want %d; stderr: %s", args, rc_, code, \
                  err_text);                                                             \
        CHECK_MSG(strstr(stream, text) != NULL, "cml %s: output lacks '%s':\n%s", args,  \
                  text, stream);                                                         \
    } while (0)

static void test_help_and_version(void) {
    EXPECT("--help", 0, out_text, "usage: cml <command>");
    CHECK(strstr(out_text, "run") && strstr(out_text, "inspect") && strstr(out_text, "bench"));
    CHECK(strstr(out_text, "3 `run --compare` found a mismatch") != NULL);
    EXPECT("-h", 0, out_text, "usage: cml");
    char version[64];
    snprintf(version, sizeof version, "cml %d.%d.%d", CML_VERSION_MAJOR, CML_VERSION_MINOR,
             CML_VERSION_PATCH);
    EXPECT("--version", 0, out_text, version);
    EXPECT("run --help", 0, out_text, "usage: cml run MODEL");
    CHECK(strstr(out_text, "--input") && strstr(out_text, "--call") &&
          strstr(out_text, "--output-dir") && strstr(out_text, "--reset-state") &&
          strstr(out_text, "--seed") && strstr(out_text, "--compute-units"));
    CHECK(strstr(out_text, "--compare") && strstr(out_text, "--rtol") &&
          strstr(out_text, "--atol") && strstr(out_text, "--output-names") &&
          strstr(out_text, "--json") && strstr(out_text, "3 an output differs"));
    EXPECT("inspect --help", 0, out_text, "usage: cml inspect MODEL");
    CHECK(strstr(out_text, "--json") != NULL && strstr(out_text, "--dot FILE") != NULL);
    EXPECT("bench --help", 0, out_text, "usage: cml bench MODEL");
    CHECK(strstr(out_text, "--warmup") && strstr(out_text, "--iterations"));
    /* --help wins over everything else on the line, even a missing model. */
    EXPECT("run /nonexistent.pte --help", 0, out_text, "usage: cml run");
}

static void test_usage_errors(void) {
    EXPECT("", 2, err_text, "usage: cml");
    EXPECT("frobnicate", 2, err_text, "unknown command 'frobnicate'");
    EXPECT("run", 2, err_text, "missing MODEL");
    EXPECT("run m.pte --bogus", 2, err_text, "unknown option '--bogus'");
    EXPECT("run m.pte --threads abc", 2, err_text, "--threads");
    EXPECT("run m.pte --threads -1", 2, err_text, "--threads");
    EXPECT("run m.pte --seed 1x", 2, err_text, "--seed");
    EXPECT("run m.pte --compute-units gpu", 2, err_text, "cpu_only");
    EXPECT("run m.pte --method", 2, err_text, "needs a value");
    EXPECT("run m.pte --input", 2, err_text, "needs a value");
    EXPECT("run a.pte b.pte", 2, err_text, "unexpected argument 'b.pte'");
    EXPECT("inspect", 2, err_text, "missing MODEL");
    EXPECT("inspect m.pte --yaml", 2, err_text, "unknown option");
    EXPECT("bench", 2, err_text, "missing MODEL");
    EXPECT("bench m.pte --iterations 0", 2, err_text, "--iterations");
    EXPECT("bench m.pte --warmup=-3", 2, err_text, "--warmup");
    /* Usage errors point at the subcommand's help. */
    EXPECT("run m.pte --bogus", 2, err_text, "cml run --help");
}

static void test_runtime_errors(void) {
    static const char *cmds[] = {"run", "inspect", "bench"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char args[256];
        snprintf(args, sizeof args, "%s /nonexistent/dir/model.pte", cmds[i]);
        EXPECT(args, 1, err_text, "/nonexistent/dir/model.pte");
        CHECK_MSG(strstr(err_text, "cml ") == err_text, "message not prefixed: %s", err_text);
        CHECK(out_text[0] == '\0');
    }
    /* A file that is not a program: a clean error, never a crash. */
    char path[600], args[800];
    snprintf(path, sizeof path, "%s/garbage.pte", tmpdir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        for (int i = 0; i < 4096; i++) fputc((i * 131 + 7) & 0xff, f);
        fclose(f);
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        snprintf(args, sizeof args, "%s '%s'", cmds[i], path);
        EXPECT(args, 1, err_text, "garbage.pte");
    }
    snprintf(path, sizeof path, "%s/empty.pte", tmpdir);
    f = fopen(path, "wb");
    if (f) fclose(f);
    snprintf(args, sizeof args, "run '%s'", path);
    EXPECT(args, 1, err_text, "empty.pte: the file is empty");
    CHECK_MSG(strstr(err_text, "corrupt model file") != NULL, "%s", err_text);
}

/* The wording of the messages for common mistakes; no message names a path
 * twice. */
static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static void test_messages(void) {
    char args[1200], path[600];
    const char *mlp = CML_FIXTURE_DIR "/mlp/model.pte";
    snprintf(args, sizeof args, "run '%s' --input nosuch=x.npy", mlp);
    EXPECT(args, 2, err_text, "--input nosuch=x.npy: no input is named 'nosuch' (the inputs are: x)");
    snprintf(args, sizeof args, "run '%s' --input '%s'", mlp, tmpdir);
    EXPECT(args, 1, err_text, "is a directory, not a .npy file");
    CHECK_MSG(count(err_text, tmpdir) == 1, "%s", err_text);
    snprintf(args, sizeof args, "run '%s/missing.pte'", tmpdir);
    EXPECT(args, 1, err_text, "missing.pte: No such file or directory");
    CHECK_MSG(count(err_text, tmpdir) == 1, "%s", err_text);
    /* A NeuralNetwork .mlmodel (specificationVersion 4, Model field 500). */
    snprintf(path, sizeof path, "%s/nn.mlmodel", tmpdir);
    FILE *f = fopen(path, "wb");
    static const unsigned char nn[] = {0x08, 0x04, 0xa2, 0x1f, 0x00};
    CHECK(f && fwrite(nn, 1, sizeof nn, f) == sizeof nn);
    if (f) fclose(f);
    snprintf(args, sizeof args, "run '%s'", path);
    EXPECT(args, 1, err_text, "nn.mlmodel: a Core ML neuralNetwork model (.mlmodel, Model field 500), "
                              "not an ML Program");
    /* Library messages: INFO only with --verbose, wherever it stands. */
    snprintf(args, sizeof args, "run '%s' --verbose", mlp);
    EXPECT(args, 0, err_text, "cml: CoreMLBackend: compute_units=all requested; running on CPU");
    snprintf(args, sizeof args, "-q run '%s'", mlp);
    EXPECT(args, 0, out_text, "output 0 'aten_softmax_int': float32 [2, 32]");
    CHECK_MSG(strstr(err_text, "CoreMLBackend") == NULL, "%s", err_text);
    snprintf(args, sizeof args, "run '%s'", mlp);
    EXPECT(args, 0, out_text, "output 0");
    CHECK_MSG(err_text[0] == '\0', "default run printed: %s", err_text);
    snprintf(path, sizeof path, "%s/empty.mlpackage", tmpdir);
    CHECK(mkdir(path, 0700) == 0);
    snprintf(args, sizeof args, "run '%s'", path);
    EXPECT(args, 1, err_text, "empty.mlpackage/Manifest.json: No such file or directory");
    CHECK_MSG(count(err_text, tmpdir) == 1, "%s", err_text);
}

int main(void) {
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_help_and_version();
    test_usage_errors();
    test_runtime_errors();
    test_messages();
    cli_rmtree(tmpdir);
    TEST_MAIN_END();
}
