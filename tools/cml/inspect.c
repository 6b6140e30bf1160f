/* `cml inspect`: what a model contains, as text or JSON. */
#include <string.h>

#include "cli.h"
#include "inspect.h"

static const char inspect_help[] =
    "usage: cml inspect MODEL [--json]\n"
    "\n"
    "Describes MODEL (.pte file or .mlpackage directory): its methods with their\n"
    "inputs and outputs (name, dtype, shape). For a .pte also the file header\n"
    "(extended header length, program size, segment base), segments, named data\n"
    "keys, and per execution plan: value count, instruction counts, planned memory\n"
    "arenas (non_const_buffer_sizes), the operator histogram (KernelCalls per\n"
    "operator) and each delegate (id, calls, compile specs, payload size and\n"
    "location). A method that fails to load is listed with the reason.\n"
    "\n"
    "options:\n"
    "  --json       print everything as one JSON object\n"
    "  -h, --help   show this help\n";

/* Adds the "pte" section: the library's verified parse of the file bytes. */
static int add_pte(const char *path, cJSON *doc, cml_program *program) {
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
    cJSON_AddItemToObject(doc, "methods", cli_inspect_methods(program, &pte));
    cJSON_AddItemToObject(doc, "pte", cli_inspect_pte(&pte, file.size));
    cml_pte_free(&pte);
    cli_unmap_file(&file);
    return CLI_OK;
}

static int inspect(const char *path, bool json) {
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
    if (is_pkg) {
        cJSON_AddItemToObject(doc, "methods", cli_inspect_methods(program, NULL));
        cJSON_AddItemToObject(doc, "coreml", cli_inspect_mlpackage(path));
    }
    else rc = add_pte(path, doc, program);
    if (rc == CLI_OK) {
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
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(inspect_help, stdout);
            return CLI_OK;
        }
        if (strcmp(a, "--json") == 0) json = true;
        else if (a[0] == '-' && a[1] != '\0') return cli_usage_error("inspect", "unknown option '%s'", a);
        else if (model) return cli_usage_error("inspect", "unexpected argument '%s'", a);
        else model = a;
    }
    if (!model) return cli_usage_error("inspect", "missing MODEL");
    return inspect(model, json);
}
