/*
 * `cml inspect`: the Core ML metadata and compile specs in words, empty
 * segments, and --dot graphs.
 *
 * Metadata: the values the fixtures carry (coremltools writes its version
 * and the torch version as user-defined entries; case.json records the
 * versions that made the file), and an extracted .mlpackage whose
 * model.mlmodel gets an author, description, version, license and a
 * user-defined entry appended (a second ModelDescription field, which
 * protobuf merges into the first).
 *
 * --dot: the structure of the graph (balanced braces outside strings, every
 * edge endpoint declared before the edge, a cluster per delegate, one node
 * per instruction as `inspect --json` counts them, one node per non-const
 * MIL operation as case.json's mil_ops counts them); `dot -Tsvg` renders it
 * when Graphviz is installed (skipped otherwise).
 */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "fixture_util.h"
#include "harness.h"

static char tmpdir[] = "/tmp/cml_test_cli_inspect_XXXXXX";
#define FX CML_FIXTURE_DIR

static int cli(const char *fmt, ...) CML_PRINTF(1, 2);
static int cli(const char *fmt, ...) {
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return cli_run_in(tmpdir, args);
}

static const cJSON *get(const cJSON *o, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

#define HAS(text) CHECK_MSG(strstr(cli_out, text) != NULL, "lacks '%s':\n%s", text, cli_out)

/* ---- metadata and plain words --------------------------------------------- */

static void test_pte_text(void) {
    CHECK(cli("inspect %s/mlp/model.pte", FX) == 0);
    HAS("segments (2):\n  0: empty\n  1: offset 0, size 56457\n");
    HAS("       compute_units: all\n");
    HAS("       min_deployment_target: not set (coremltools picked the minimum for the ops used)\n");
    HAS("       model_compute_precision: float32\n       model_type: model\n");
    HAS("       Core ML model: function 'main', specification version 6, identifier executorch_");
    HAS("       metadata: author: not set, description: not set, version: not set, license: not set\n");
    HAS("       user-defined: com.github.apple.coremltools.version = 9.0\n");
    HAS("       user-defined: com.github.apple.coremltools.source = torch==2.13.0");
    CHECK(!strstr(cli_out, "compute_units = ")); /* no longer listed raw as well */
    CHECK(cli("inspect %s/compute_unit_cpu_only/model.pte", FX) == 0);
    HAS("       compute_units: cpu_only\n");
    /* min_deployment_target "9" (case.json's compile spec); a multifunction
     * model without user-defined metadata */
    CHECK(cli("inspect %s/multi_method/model.pte", FX) == 0);
    HAS("       min_deployment_target: 9 (iOS 18 / macOS 15)\n");
    HAS("       Core ML model: function 'prefill', specification version 9");
    HAS("       user-defined metadata: none\n");
}

/* The user-defined versions equal what case.json says made the file. */
static void test_pte_json(void) {
    CHECK(cli("inspect %s/mlp/model.pte --json", FX) == 0);
    cJSON *j = cJSON_Parse(cli_out);
    char *text = fx_read_file(FX "/mlp/case.json", NULL);
    cJSON *cj = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK(j && cj);
    const cJSON *plan = cJSON_GetArrayItem(get(get(j, "pte"), "plans"), 0);
    const cJSON *del = cJSON_GetArrayItem(get(plan, "delegates"), 0);
    const cJSON *c = get(del, "coreml"), *ud = get(get(c, "metadata"), "user_defined");
    const cJSON *gen = get(cj, "generated_with");
    const char *ct = cJSON_GetStringValue(get(ud, "com.github.apple.coremltools.version"));
    const char *src = cJSON_GetStringValue(get(ud, "com.github.apple.coremltools.source"));
    const char *want_ct = cJSON_GetStringValue(get(gen, "coremltools"));
    const char *want_torch = cJSON_GetStringValue(get(gen, "torch"));
    CHECK_MSG(ct && want_ct && strcmp(ct, want_ct) == 0, "%s vs %s", ct, want_ct);
    char torch[64];
    snprintf(torch, sizeof torch, "torch==%s", want_torch ? want_torch : "?");
    CHECK_MSG(src && strncmp(src, torch, strlen(torch)) == 0, "%s vs %s", src, torch);
    const cJSON *coreml_models = get(get(cj, "pte"), "coreml_models");
    const char *id = cJSON_GetStringValue(
        get(get(cJSON_GetArrayItem(coreml_models, 0), "metadata"), "identifier"));
    CHECK(id && cJSON_GetStringValue(get(c, "identifier")) &&
          strcmp(cJSON_GetStringValue(get(c, "identifier")), id) == 0);
    CHECK(strcmp(cJSON_GetStringValue(get(get(c, "metadata"), "author")), "") == 0);
    const cJSON *s = cJSON_GetArrayItem(get(del, "settings"), 1);
    CHECK(strcmp(cJSON_GetStringValue(get(s, "key")), "min_deployment_target") == 0 &&
          cJSON_IsFalse(get(s, "set")));
    cJSON_Delete(j);
    cJSON_Delete(cj);
}

/* Appends a length-delimited field to buf; returns the new length. */
static size_t put_field(uint8_t *buf, size_t n, unsigned field, const void *data, size_t len) {
    unsigned tag = field << 3 | 2;
    for (; tag >= 0x80; tag >>= 7) buf[n++] = (uint8_t)(tag | 0x80);
    buf[n++] = (uint8_t)tag;
    for (size_t l = len; ; l >>= 7) {
        buf[n++] = (uint8_t)((l & 0x7f) | (l >= 0x80 ? 0x80 : 0));
        if (l < 0x80) break;
    }
    memcpy(buf + n, data, len);
    return n + len;
}

/* Model.description (2) { metadata (100) { author (3), shortDescription
 * (1), versionString (2), license (4), userDefined (100) {"team": "cml"} } } */
static size_t metadata_bytes(uint8_t *out) {
    uint8_t md[256], entry[64], desc[320];
    size_t e = put_field(entry, 0, 1, "team", 4);
    e = put_field(entry, e, 2, "cml", 3);
    size_t m = put_field(md, 0, 3, "Jane Doe", 8);
    m = put_field(md, m, 1, "A \"tiny\" MLP", 12);
    m = put_field(md, m, 2, "1.2", 3);
    m = put_field(md, m, 4, "MIT", 3);
    m = put_field(md, m, 100, entry, e);
    size_t d = put_field(desc, 0, 100, md, m);
    return put_field(out, 0, 2, desc, d);
}

static void test_mlpackage(void) {
    CHECK(cli("extract %s/mlp/model.pte -o ex", FX) == 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/ex/model_1/lowered_module/model.mlpackage/Data/com.apple.CoreML/"
                                "model.mlmodel", tmpdir);
    FILE *f = fopen(path, "ab");
    uint8_t bytes[512];
    size_t n = metadata_bytes(bytes);
    CHECK(f && fwrite(bytes, 1, n, f) == n);
    if (f) fclose(f);
    const char *pkg = "ex/model_1/lowered_module/model.mlpackage";
    CHECK(cli("inspect %s", pkg) == 0);
    HAS("Core ML model: function 'main', specification version 6\n");
    HAS("metadata: author: Jane Doe, description: A \"tiny\" MLP, version: 1.2, license: MIT\n");
    HAS("user-defined: team = cml\n");
    HAS("user-defined: com.github.apple.coremltools.version = 9.0\n"); /* merged, not replaced */
    CHECK(cli("inspect %s --json", pkg) == 0);
    cJSON *j = cJSON_Parse(cli_out);
    const cJSON *md = get(get(j, "coreml"), "metadata");
    CHECK(j && strcmp(cJSON_GetStringValue(get(md, "license")), "MIT") == 0 &&
          strcmp(cJSON_GetStringValue(get(get(md, "user_defined"), "team")), "cml") == 0);
    cJSON_Delete(j);
    /* the package still runs */
    CHECK(cli("run %s -i %s/mlp/input_0.npy --compare %s/mlp --rtol 1e-4 --atol 1e-4", pkg, FX,
              FX) == 0);
}

/* ---- --dot ----------------------------------------------------------------- */

typedef struct dot_stats {
    int instructions, ops, delegate_clusters, edges;
    char names[4096][64]; /* declared node ids */
    int nnames;
} dot_stats;

static bool declared(const dot_stats *s, const char *id) {
    for (int k = 0; k < s->nnames; k++)
        if (strcmp(s->names[k], id) == 0) return true;
    return false;
}

/* The identifier at p into id; returns its length. */
static size_t ident(const char *p, char *id, size_t size) {
    size_t n = 0;
    while ((p[n] == '_' || (p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
            (p[n] >= '0' && p[n] <= '9')) && n + 1 < size) {
        id[n] = p[n];
        n++;
    }
    id[n] = '\0';
    return n;
}

/* Brace depth change of line outside quoted strings; *arrow: "->" outside. */
static int braces(const char *line, bool *arrow) {
    int d = 0;
    bool in_str = false;
    *arrow = false;
    for (const char *p = line; *p && *p != '\n'; p++) {
        if (in_str) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') in_str = false;
        } else if (*p == '"') {
            in_str = true;
        } else {
            d += (*p == '{') - (*p == '}');
            if (p[0] == '-' && p[1] == '>') *arrow = true;
        }
    }
    return d;
}

/* One statement line: a node declaration or an edge. */
static bool dot_line(const char *line, dot_stats *s) {
    while (*line == ' ') line++;
    char a[64], b[64];
    size_t n = ident(line, a, sizeof a);
    if (!n) return true;
    bool arrow;
    braces(line, &arrow);
    if (arrow) {
        const char *p = strstr(line, " -> ");
        if (!p || !ident(p + 4, b, sizeof b)) return false;
        s->edges++;
        CHECK_MSG(declared(s, a) && declared(s, b), "edge before its nodes: %.80s", line);
        return true;
    }
    if (strncmp(line + n, " [", 2) != 0) return true; /* rankdir=, label=, ... */
    CHECK_MSG(!declared(s, a), "node %s declared twice", a);
    if (s->nnames < 4096) snprintf(s->names[s->nnames++], sizeof s->names[0], "%s", a);
    s->instructions += strncmp(a, "i_", 2) == 0;
    s->ops += strncmp(a, "op_", 3) == 0;
    return true;
}

static bool check_dot(const char *text, dot_stats *s) {
    memset(s, 0, sizeof *s);
    int depth = 0;
    bool arrow, ok = strncmp(text, "digraph cml {\n", 14) == 0;
    for (const char *line = text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
        if (strncmp(line, " subgraph cluster_p", 19) == 0 && strstr(line, "_d")) s->delegate_clusters++;
        ok &= dot_line(line, s);
        depth += braces(line, &arrow);
        ok &= depth >= 0;
    }
    return ok && depth == 0;
}

/* Instructions and delegates, as `inspect --json` counts them. */
static void plan_counts(const char *model, int *instructions, int *delegates) {
    *instructions = *delegates = 0;
    CHECK(cli("inspect %s --json", model) == 0);
    cJSON *j = cJSON_Parse(cli_out);
    const cJSON *plan;
    cJSON_ArrayForEach(plan, get(get(j, "pte"), "plans")) {
        const cJSON *in = get(plan, "instructions"), *v;
        cJSON_ArrayForEach(v, in) *instructions += v->valueint;
        *delegates += cJSON_GetArraySize(get(plan, "delegates"));
    }
    cJSON_Delete(j);
}

/* Non-const MIL operations over the case's Core ML models (case.json). */
static int case_ops(const char *name) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s/case.json", FX, name);
    char *text = fx_read_file(path, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    int n = 0;
    const cJSON *m, *op;
    cJSON_ArrayForEach(m, get(get(j, "pte"), "coreml_models"))
        cJSON_ArrayForEach(op, get(m, "mil_ops")) if (strcmp(op->string, "const") != 0) n += op->valueint;
    cJSON_Delete(j);
    return n;
}

static bool have_dot(void) {
    return system("command -v dot >/dev/null 2>&1") == 0;
}

static void render(const char *file) {
    if (!have_dot()) return;
    char cmd[1400], path[1200];
    snprintf(cmd, sizeof cmd, "cd '%s' && dot -Tsvg '%s' -o '%s.svg'", tmpdir, file, file);
    CHECK_MSG(system(cmd) == 0, "dot -Tsvg %s failed", file);
    snprintf(path, sizeof path, "%s/%s.svg", tmpdir, file);
    char *svg = fx_read_file(path, NULL);
    CHECK(svg && strstr(svg, "<svg"));
    free(svg);
}

static void check_case_graph(const char *name) {
    char model[1200], file[300], path[1200];
    snprintf(model, sizeof model, "%s/%s/model.pte", FX, name);
    snprintf(file, sizeof file, "%s.dot", name);
    int rc = cli("inspect %s --dot %s", model, file);
    CHECK_MSG(rc == 0 && strstr(cli_out, "wrote "), "%s: exit %d: %s", name, rc, cli_err);
    snprintf(path, sizeof path, "%s/%s", tmpdir, file);
    char *text = fx_read_file(path, NULL);
    static dot_stats s;
    CHECK_MSG(text && check_dot(text, &s), "%s: malformed graph", name);
    int instructions, delegates;
    plan_counts(model, &instructions, &delegates);
    CHECK_MSG(s.instructions == instructions && instructions > 0, "%s: %d instruction nodes, %d "
              "instructions", name, s.instructions, instructions);
    CHECK_MSG(s.delegate_clusters == delegates, "%s: %d clusters, %d delegates", name,
              s.delegate_clusters, delegates);
    CHECK_MSG(s.ops == case_ops(name), "%s: %d op nodes, case.json: %d", name, s.ops, case_ops(name));
    CHECK_MSG(s.edges > 0, "%s: no edges", name);
    free(text);
    render(file);
}

static void test_dot_cases(void) {
    static const char *const cases[] = {"mlp", "partial_delegation", "portable_mlp",
                                        "portable_elementwise", "multi_method",
                                        "llm_kv_index_put_portable_part", "llm_kv_coreml_states",
                                        "llm_kv_portable", "mobilenet_v2_fp32"};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) check_case_graph(cases[k]);
    if (!have_dot()) printf("SKIP: dot -Tsvg (Graphviz is not installed)\n");
}

/* The dataflow of partial_delegation: delegate 0 -> sigmoid -> delegate 1,
 * each delegate's MIL graph in its cluster. */
static void test_dot_edges(void) {
    CHECK(cli("inspect %s/partial_delegation/model.pte --dot -", FX) == 0);
    HAS("subgraph cluster_p0 {\n  label=\"method forward (3 instructions)\";\n");
    HAS("  io_p0_in0 -> i_p0_0 [label=\"v0: float32 [2, 32]\"];\n");
    HAS("  i_p0_0 -> i_p0_1 [label=\"v1: float32 [2, 64]\"];\n");
    HAS("  i_p0_1 -> i_p0_2 [label=\"v2: float32 [2, 64]\"];\n");
    HAS("  i_p0_2 -> io_p0_out0 [label=\"v3: float32 [2, 16]\"];\n");
    HAS("  i_p0_1 [shape=box, label=\"#1 aten::sigmoid.out\"];\n");
    HAS(" subgraph cluster_p0_d0 {\n  label=\"delegate 0: CoreMLBackend, function main\";");
    HAS("    op_p0_d0_0 [shape=box, style=rounded, label=\"linear\\naten_linear_default\"];\n");
    HAS("    mv_p0_d0_in0 -> op_p0_d0_0 [label=\"x\"];\n");
    HAS("    op_p0_d0_0 -> op_p0_d0_1 [label=\"aten_linear_default\"];\n");
    HAS("    op_p0_d0_1 -> mv_p0_d0_out0;\n");
    /* the delegate call sits in its delegate's cluster, after the MIL graph */
    const char *d1 = strstr(cli_out, "subgraph cluster_p0_d1"), *call = strstr(cli_out, "  i_p0_2 [");
    CHECK(d1 && call && call > d1 && !memchr(d1, '}', (size_t)(call - d1)));
}

static void test_dot_mlpackage(void) {
    const char *pkg = "ex/model_1/lowered_module/model.mlpackage"; /* from test_mlpackage */
    CHECK(cli("inspect %s --dot pkg.dot", pkg) == 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/pkg.dot", tmpdir);
    char *text = fx_read_file(path, NULL);
    static dot_stats s;
    CHECK(text && check_dot(text, &s) && s.ops == case_ops("mlp") && s.instructions == 0);
    CHECK(text && strstr(text, "subgraph cluster_f0 {\n  label=\"function main\";\n"));
    CHECK(text && strstr(text, "    op_f0_3 [shape=box, style=rounded, label=\"softmax\\n"));
    free(text);
    render("pkg.dot");
    /* usage and write errors */
    CHECK(cli("inspect %s --dot", pkg) == 2 && strstr(cli_err, "needs a value"));
    CHECK(cli("inspect %s --dot x.dot --json", pkg) == 2 && strstr(cli_err, "exclude"));
    CHECK(cli("inspect %s --dot /nonexistent/dir/x.dot", pkg) == 1 &&
          strstr(cli_err, "cannot write /nonexistent/dir/x.dot"));
}

int main(void) {
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_pte_text();
    test_pte_json();
    test_mlpackage();
    test_dot_cases();
    test_dot_edges();
    test_dot_mlpackage();
    cli_rmtree(tmpdir);
    TEST_MAIN_END();
}
