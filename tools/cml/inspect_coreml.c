/* The Core ML side of `cml inspect`: a delegate's compile specs in plain
 * words, and the model's function, specification version and metadata
 * (author, description, version, license, user-defined entries). */
#include <stdlib.h>
#include <string.h>

#include "coreml/mlpackage.h"
#include "coreml/payload.h"
#include "inspect.h"

/* The compile specs CoreMLBackend reads, with what applies when one is
 * absent or empty (shared/reference/coreml-delegate.md, section 3). */
static const struct {
    const char *key, *unset;
} coreml_specs[] = {
    {"compute_units", "not set (Core ML default: all)"},
    {"min_deployment_target", "not set (coremltools picked the minimum for the ops used)"},
    {"model_compute_precision", "not set (coremltools default: float16)"},
    {"model_type", "not set (default: model, an .mlpackage compiled on device)"},
};
#define NSPECS (sizeof coreml_specs / sizeof coreml_specs[0])

static const cml_pte_compile_spec *find_spec(const cml_pte_delegate *del, const char *key) {
    for (uint32_t s = 0; s < del->nspecs; s++)
        if (del->specs[s].key.ptr && strcmp(del->specs[s].key.ptr, key) == 0) return &del->specs[s];
    return NULL;
}

/* "6" -> "6 (iOS 15 / macOS 12)": the deployment targets coremltools names. */
static void target_text(const uint8_t *v, uint32_t n, char *buf, size_t size) {
    static const char *const os[] = {"iOS 15 / macOS 12", "iOS 16 / macOS 13",
                                     "iOS 17 / macOS 14", "iOS 18 / macOS 15"};
    int spec = n == 1 ? v[0] - '0' : -1;
    if (spec >= 6 && spec <= 9) snprintf(buf, size, "%d (%s)", spec, os[spec - 6]);
    else snprintf(buf, size, "%.*s", (int)(n < 64 ? n : 64), (const char *)v);
}

/* "settings": every spec CoreMLBackend reads, its value or why it is not
 * set; values that are not printable text are shown as their size. */
static cJSON *settings_json(const cml_pte_delegate *del) {
    cJSON *a = cJSON_CreateArray();
    for (size_t k = 0; k < NSPECS; k++) {
        const cml_pte_compile_spec *s = find_spec(del, coreml_specs[k].key);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", coreml_specs[k].key);
        char text[128];
        if (!s || s->value_len == 0) {
            cJSON_AddStringToObject(o, "text", coreml_specs[k].unset);
        } else if (k == 1) {
            target_text(s->value, s->value_len, text, sizeof text);
            cJSON_AddStringToObject(o, "text", text);
        } else {
            snprintf(text, sizeof text, "%.*s", (int)(s->value_len < 64 ? s->value_len : 64),
                     (const char *)s->value);
            cJSON_AddStringToObject(o, "text", text);
        }
        cJSON_AddBoolToObject(o, "set", s && s->value_len);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static void add_str(cJSON *o, const char *key, const char *s) {
    cJSON_AddStringToObject(o, key, s ? s : "");
}

static cJSON *metadata_json(const Cml__Coreml__Metadata *md) {
    cJSON *o = cJSON_CreateObject();
    add_str(o, "author", md ? md->author : NULL);
    add_str(o, "short_description", md ? md->shortdescription : NULL);
    add_str(o, "version", md ? md->versionstring : NULL);
    add_str(o, "license", md ? md->license : NULL);
    cJSON *u = cJSON_AddObjectToObject(o, "user_defined");
    for (size_t i = 0; md && i < md->n_userdefined; i++) {
        const Cml__Coreml__Metadata__UserDefinedEntry *e = md->userdefined[i];
        if (e && e->key) add_str(u, e->key, e->value);
    }
    return o;
}

/* function, specification version and metadata of an opened package. */
static cJSON *package_json(const cml_mlpackage *pkg, const char *function) {
    cJSON *o = cJSON_CreateObject();
    add_str(o, "function", function);
    cJSON_AddNumberToObject(o, "specification_version", pkg->spec_version);
    const Cml__Coreml__ModelDescription *d = pkg->model ? pkg->model->description : NULL;
    cJSON_AddItemToObject(o, "metadata", metadata_json(d ? d->metadata : NULL));
    return o;
}

void cli_inspect_coreml_delegate(cJSON *o, const cml_pte_program *pte, const cml_pte_plan *plan,
                                 uint32_t d) {
    const cml_pte_delegate *del = &plan->delegates[d];
    if (!del->id.ptr || strcmp(del->id.ptr, CML_COREML_BACKEND_ID) != 0) return;
    cJSON_AddItemToObject(o, "settings", settings_json(del));
    cml_coreml_payload p;
    memset(&p, 0, sizeof p);
    cml_error err = {0};
    cml_status st = cml_coreml_payload_open(pte, del->data, del->size, plan->name.ptr, NULL, &p, &err);
    if (st == CML_OK) {
        cJSON *c = package_json(&p.package, p.function_name);
        add_str(c, "identifier", p.metadata.identifier);
        cJSON_AddItemToObject(o, "coreml", c);
    } else {
        cJSON *c = cJSON_AddObjectToObject(o, "coreml");
        add_str(c, "error", err.msg);
    }
    cml_coreml_payload_close(&p);
}

cJSON *cli_inspect_mlpackage(const char *path) {
    cml_mlpackage pkg;
    memset(&pkg, 0, sizeof pkg);
    cml_error err = {0};
    cJSON *c;
    if (cml_mlpackage_open_dir(path, NULL, &pkg, &err) == CML_OK) {
        c = package_json(&pkg, cml_mlpackage_default_function(&pkg));
    } else {
        c = cJSON_CreateObject();
        add_str(c, "error", err.msg);
    }
    cml_mlpackage_close(&pkg);
    return c;
}

/* ---- text ---- */

static const char *str(const cJSON *o, const char *key) {
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s ? s : "";
}

static void print_field(FILE *f, const char *label, const char *v, bool last) {
    fprintf(f, "%s: %s%s", label, v[0] ? v : "not set", last ? "\n" : ", ");
}

void cli_inspect_print_coreml(FILE *f, const cJSON *c, const char *indent) {
    if (cJSON_GetObjectItemCaseSensitive(c, "error")) {
        fprintf(f, "%sCore ML model: cannot be read: %s\n", indent, str(c, "error"));
        return;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "specification_version");
    fprintf(f, "%sCore ML model: function '%s', specification version %d", indent,
            str(c, "function"), cJSON_IsNumber(v) ? v->valueint : 0);
    if (str(c, "identifier")[0]) fprintf(f, ", identifier %s", str(c, "identifier"));
    fprintf(f, "\n%smetadata: ", indent);
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(c, "metadata");
    print_field(f, "author", str(md, "author"), false);
    print_field(f, "description", str(md, "short_description"), false);
    print_field(f, "version", str(md, "version"), false);
    print_field(f, "license", str(md, "license"), true);
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(md, "user_defined"), *e;
    if (cJSON_GetArraySize(u) == 0) fprintf(f, "%suser-defined metadata: none\n", indent);
    cJSON_ArrayForEach(e, u) fprintf(f, "%suser-defined: %s = %s\n", indent, e->string,
                                     cJSON_GetStringValue(e) ? cJSON_GetStringValue(e) : "");
}
