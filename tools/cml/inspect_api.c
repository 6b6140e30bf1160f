/* The methods of a program and their inputs/outputs, via the public API. */
#include <string.h>

#include "cli.h"
#include "inspect.h"

cJSON *cli_shape_json(int32_t rank, const int64_t *sizes) {
    cJSON *a = cJSON_CreateArray();
    for (int32_t i = 0; i < rank; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)sizes[i]));
    return a;
}

cJSON *cli_io_json(size_t index, const cml_io_info *info) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", (double)index);
    cJSON_AddStringToObject(o, "name", info->name ? info->name : "");
    cJSON_AddStringToObject(o, "dtype", cml_dtype_name(info->dtype));
    cJSON_AddItemToObject(o, "shape", cli_shape_json(info->rank, info->sizes));
    if (!info->is_tensor) cJSON_AddStringToObject(o, "kind", "scalar");
    return o;
}

/* What a flexible input accepts: "shape_text" ("[1..4096, 1024]" or
 * "{[1, 5, 10] | [4, 6, 10]}"), "min_shape", "enumerated_shapes" and the
 * "default_shape" run / bench feed; "shape" stays the upper bounds. */
static void add_input_shape(cJSON *o, const cml_method *method, size_t index) {
    cml_io_shape s = {.struct_size = sizeof s};
    if (cml_method_input_shape(method, index, &s) != CML_OK || !cli_io_shape_flexible(&s)) return;
    char text[1024];
    cJSON_AddBoolToObject(o, "dynamic", 1);
    cJSON_AddStringToObject(o, "shape_text", cli_io_shape_str(&s, text, sizeof text));
    cJSON_AddItemToObject(o, "min_shape", cli_shape_json(s.rank, s.min));
    cJSON_AddItemToObject(o, "default_shape", cli_shape_json(s.rank, s.default_sizes));
    if (!s.nenumerated) return;
    cJSON *e = cJSON_AddArrayToObject(o, "enumerated_shapes");
    for (size_t k = 0; k < s.nenumerated; k++)
        cJSON_AddItemToArray(e, cli_shape_json(s.rank, s.enumerated + k * (size_t)s.rank));
}

static const char *kind_name(cml_value_kind k) {
    static const char *const names[] = {"none", "null", "int", "bool", "double", "tensor",
                                        "string", "int_list", "double_list", "bool_list",
                                        "tensor_list", "optional_tensor_list"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

cJSON *cli_inspect_plan_io(const cml_pte_plan *plan, const int32_t *indices, uint32_t n) {
    cJSON *arr = cJSON_CreateArray();
    for (uint32_t i = 0; i < n; i++) {
        const cml_pte_value *v = &plan->values[indices[i]];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", i);
        cJSON_AddStringToObject(o, "name", "");
        if (v->kind == CML_VALUE_TENSOR) {
            const cml_pte_tensor *t = v->u.tensor;
            cJSON_AddStringToObject(o, "dtype", cml_dtype_name(t->dtype));
            cJSON_AddItemToObject(o, "shape", cli_shape_json(t->rank, t->sizes));
            if (t->dynamism) cJSON_AddBoolToObject(o, "dynamic", 1);
        } else {
            cJSON_AddStringToObject(o, "kind", kind_name(v->kind));
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static void add_api_io(cJSON *m, const cml_method *method) {
    cJSON *in = cJSON_AddArrayToObject(m, "inputs");
    cJSON *out = cJSON_AddArrayToObject(m, "outputs");
    cml_io_info info;
    for (size_t i = 0; i < cml_method_input_count(method); i++)
        if (cml_method_input_info(method, i, &info) == CML_OK) {
            cJSON *o = cli_io_json(i, &info);
            add_input_shape(o, method, i);
            cJSON_AddItemToArray(in, o);
        }
    for (size_t i = 0; i < cml_method_output_count(method); i++)
        if (cml_method_output_info(method, i, &info) == CML_OK)
            cJSON_AddItemToArray(out, cli_io_json(i, &info));
    /* How each delegate actually runs here (e.g. the CPU fallback for a
     * model compiled for the GPU or Neural Engine). */
    if (cml_method_delegate_count(method)) {
        cJSON *dl = cJSON_AddArrayToObject(m, "delegates_loaded");
        for (size_t i = 0; i < cml_method_delegate_count(method); i++) {
            char line[512];
            if (cml_method_delegate_describe(method, i, line, sizeof line) == CML_OK)
                cJSON_AddItemToArray(dl, cJSON_CreateString(line));
        }
    }
}

cJSON *cli_inspect_methods(cml_program *program, const cml_pte_program *pte) {
    cJSON *arr = cJSON_CreateArray();
    /* One thread: inspect only needs the signature, not a worker pool. */
    cml_method_params params = {sizeof params, 1, CML_COMPUTE_DEFAULT, 0};
    for (size_t i = 0; i < cml_program_method_count(program); i++) {
        const char *name = cml_program_method_name(program, i);
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "name", name ? name : "");
        cml_method *method = NULL;
        cml_status st = cml_method_create(program, name, &params, &method);
        if (st == CML_OK) {
            add_api_io(m, method);
            cml_method_destroy(method);
        } else {
            /* Still describe what the file declares: inspect is most useful
             * exactly when a model does not load. */
            cJSON_AddStringToObject(m, "load_error", cml_program_errmsg(program));
            const cml_pte_plan *plan = pte && name ? cml_pte_find_plan(pte, name) : NULL;
            if (plan) {
                cJSON_AddItemToObject(m, "inputs", cli_inspect_plan_io(plan, plan->inputs, plan->ninputs));
                cJSON_AddItemToObject(m, "outputs",
                                      cli_inspect_plan_io(plan, plan->outputs, plan->noutputs));
            }
        }
        cJSON_AddItemToArray(arr, m);
    }
    return arr;
}
