/* `cml inspect`: what a model contains, as text or JSON. */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "dot.h"
#include "inspect.h"

static const char inspect_help[] =
    "usage: cml inspect MODEL [--json | --dot FILE]\n"
    "\n"
    "Describes MODEL (.pte file or .mlpackage directory): its methods with their\n"
    "inputs and outputs (name, dtype, shape). For a .pte also the file header\n"
    "(extended header length, program size, segment base), segments, named data\n"
    "keys, and per execution plan: value count, instruction counts, planned memory\n"
    "arenas (non_const_buffer_sizes), the operator histogram (KernelCalls per\n"
    "operator) and each delegate (id, calls, compile specs, payload size and\n"
    "location; for Core ML the compile specs in words, unset ones with the default\n"
    "that applies, and the model's function, specification version and metadata:\n"
    "author, description, version, license, user-defined entries). An .mlpackage\n"
    "shows the same metadata. A method that fails to load is listed with the reason.\n"
    "\n"
    "options:\n"
    "  --json       print everything as one JSON object\n"
    "  --dot FILE   write the program as a Graphviz graph to FILE (- for stdout)\n"
    "               instead: one node per instruction (kernel call, delegate call,\n"
    "               move, jump, free), values as edges, each delegate a cluster\n"
    "               holding its call(s) and its Core ML MIL graph (operations,\n"
    "               named values, function inputs and outputs; const values are\n"
    "               left out). For an .mlpackage, the MIL graph of every function.\n"
    "               Render with: dot -Tsvg FILE -o graph.svg\n"
    "  -h, --help   show this help\n";

/* The Graphviz graph of path into dot ("-": stdout). */
static int write_dot(const char *path, const cml_pte_program *pte, const char *dot) {
    bool to_stdout = strcmp(dot, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(dot, "w");
    if (!f) return cli_error("inspect", "cannot write %s: %s", dot, strerror(errno));
    int rc = CLI_OK;
    if (pte) cli_dot_pte(f, pte);
    else rc = cli_dot_mlpackage(f, path);
    if (ferror(f)) rc = cli_error("inspect", "writing %s failed", dot);
    if (!to_stdout && fclose(f) != 0 && rc == CLI_OK) rc = cli_error("inspect", "writing %s failed", dot);
    if (rc == CLI_OK && !to_stdout) printf("wrote %s\n", dot);
    return rc;
}

/* Adds the "pte" section: the library's verified parse of the file bytes
 * (or, with dot, writes the graph instead). */
static int add_pte(const char *path, cJSON *doc, cml_program *program, const char *dot) {
    cli_mapped file;
    int rc = cli_map_file("inspect", path, &file);
    if (rc != CLI_OK) return rc;
    cml_pte_program pte;
    memset(&pte, 0, sizeof pte);
    cml_error err = {0};
    cml_status st = cml_pte_parse(file.data, file.size, NULL, &pte, &err);
    if (st != CML_OK) {
        cli_unmap_file(&file);
        return cli_error("inspect", "%s: %s: %s", path, cml_status_name(st), err.msg);
    }
    if (dot) {
        rc = write_dot(path, &pte, dot);
    } else {
        cJSON_AddItemToObject(doc, "methods", cli_inspect_methods(program, &pte));
        cJSON_AddItemToObject(doc, "pte", cli_inspect_pte(&pte, file.size));
    }
    cml_pte_free(&pte);
    cli_unmap_file(&file);
    return rc;
}

static int inspect(const char *path, bool json, const char *dot) {
    char err[1024] = "";
    cml_program *program = NULL;
    cml_status st = cml_program_open_file(path, cli_program_params(), &program, err, sizeof err);
    if (st != CML_OK) {
        if (strstr(err, path)) return cli_error("inspect", "%s: %s", cml_status_name(st), err);
        return cli_error("inspect", "%s: %s: %s", path, cml_status_name(st), err);
    }
    bool is_pkg = cli_is_dir(path);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "model", path);
    cJSON_AddStringToObject(doc, "format", is_pkg ? "mlpackage" : "pte");
    int rc = CLI_OK;
    if (is_pkg && dot) {
        rc = write_dot(path, NULL, dot);
    } else if (is_pkg) {
        cJSON_AddItemToObject(doc, "methods", cli_inspect_methods(program, NULL));
        cJSON_AddItemToObject(doc, "coreml", cli_inspect_mlpackage(path));
    } else {
        rc = add_pte(path, doc, program, dot);
    }
    if (rc == CLI_OK && !dot) {
        if (json) {
            char *s = cJSON_Print(doc);
            if (s) puts(s);
            else rc = cli_error("inspect", "out of memory");
            cJSON_free(s);
        } else {
            cli_inspect_print_text(stdout, doc);
        }
    }
    cJSON_Delete(doc);
    cml_program_close(program);
    return rc;
}

int cli_inspect(int argc, char **argv) {
    const char *model = NULL;
    const char *dot = NULL;
    bool json = false;
    for (int i = 1; i < argc;) {
        const char *a = argv[i];
        int r;
        if (cli_is_help(a)) {
            fputs(inspect_help, stdout);
            return CLI_OK;
        }
        if ((r = cli_opt_value("inspect", argc, argv, &i, "--dot", NULL, &dot)) != 0) {
            if (r < 0) return CLI_ERR_USAGE;
            continue;
        }
        i++;
        if (strcmp(a, "--json") == 0) json = true;
        else if (a[0] == '-' && a[1] != '\0') return cli_usage_error("inspect", "unknown option '%s'", a);
        else if (model) return cli_usage_error("inspect", "unexpected argument '%s'", a);
        else model = a;
    }
    if (!model) return cli_usage_error("inspect", "missing MODEL");
    if (json && dot) return cli_usage_error("inspect", "--json and --dot exclude each other");
    return inspect(model, json, dot);
}
