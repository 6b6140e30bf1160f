/* `cml extract`: a thin wrapper over cml_coreml_extract, which writes every
 * Core ML payload of a .pte the way upstream extract_coreml_models.py does. */
#include <string.h>

#include "cli.h"
#include "coreml/extract.h"
#include "pte/pte.h"

#define EXTRACT_DEFAULT_DIR "extracted_coreml_models" /* as the upstream script */

static const char extract_help[] =
    "usage: cml extract MODEL.pte [-o DIR]\n"
    "\n"
    "Writes every Core ML payload of MODEL.pte as a directory, as executorch's\n"
    "extract_coreml_models.py does: DIR/model_<n>/<root>/model.mlpackage (a\n"
    "multi-method payload is named after its named-data key). Prints what it\n"
    "wrote, or that the model is not delegated to Core ML.\n"
    "\n"
    "options:\n"
    "  -o, --output-dir DIR   where to write (default: " EXTRACT_DEFAULT_DIR ")\n"
    "  -h, --help             show this help\n";

static int extract(const char *path, const char *dir) {
    if (cli_is_dir(path))
        return cli_usage_error("extract", "%s is a directory; extract takes a .pte file", path);
    cli_mapped file;
    int rc = cli_map_file("extract", path, &file);
    if (rc != CLI_OK) return rc;
    cml_pte_program pte;
    memset(&pte, 0, sizeof pte);
    cml_error err = {0};
    cml_status st = cml_pte_parse(file.data, file.size, NULL, &pte, &err);
    if (st == CML_OK) st = cml_coreml_extract(&pte, dir, stdout, &err);
    if (st != CML_OK) rc = cli_error("extract", "%s: %s: %s", path, cml_status_name(st), err.msg);
    cml_pte_free(&pte);
    cli_unmap_file(&file);
    return rc;
}

int cli_extract(int argc, char **argv) {
    const char *model = NULL, *dir = EXTRACT_DEFAULT_DIR;
    for (int i = 1; i < argc;) {
        const char *a = argv[i], *v = NULL;
        int r;
        if (cli_is_help(a)) {
            fputs(extract_help, stdout);
            return CLI_OK;
        }
        if ((r = cli_opt_value("extract", argc, argv, &i, "--output-dir", "-o", &v)) != 0) {
            if (r < 0) return CLI_ERR_USAGE;
            dir = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_usage_error("extract", "unknown option '%s'", a);
        } else if (model) {
            return cli_usage_error("extract", "unexpected argument '%s'", a);
        } else {
            model = a;
            i++;
        }
    }
    if (!model) return cli_usage_error("extract", "missing MODEL.pte");
    if (!*dir) return cli_usage_error("extract", "empty output directory");
    return extract(model, dir);
}
