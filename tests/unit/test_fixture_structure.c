/* Issue 2's structure check: every fixture case has its files, each
 * model.pte is an ExecuTorch program (ET12), and a CoreMLBackend delegate is
 * present exactly where case.json says "delegated": true. */
#include <string.h>

#include "fixture_util.h"
#include "harness.h"
#include "pte/pte.h"

static int count_coreml_delegates(const cml_pte_program *p) {
    int n = 0;
    for (uint32_t i = 0; i < p->nplans; i++)
        for (uint32_t d = 0; d < p->plans[i].ndelegates; d++) {
            const cml_str *id = &p->plans[i].delegates[d].id;
            if (id->len == 13 && memcmp(id->ptr, "CoreMLBackend", 13) == 0) n++;
        }
    return n;
}

static void check_case(const fixture_case *c) {
    CHECK_MSG(c->json != NULL, "%s: case.json does not parse", c->name);
    if (!c->json) return;
    static const char *keys[] = {"name", "description", "recipe", "delegated", "compute_precision",
                                 "quantization", "method", "tolerance", "expect_error"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        CHECK_MSG(cJSON_HasObjectItem(c->json, keys[k]), "%s: case.json lacks '%s'", c->name, keys[k]);
    char path[1400];
    snprintf(path, sizeof path, "%s/model.pte", c->dir);
    if (!fx_runnable(c)) {
        CHECK_MSG(fx_str(c->json, "error") != NULL, "%s: upstream-fails case without 'error'", c->name);
        return;
    }
    size_t size = 0;
    char *bytes = fx_read_file(path, &size);
    CHECK_MSG(bytes != NULL, "%s: model.pte missing", c->name);
    if (!bytes) return;
    CHECK_MSG(size >= 8 && memcmp(bytes + 4, "ET12", 4) == 0, "%s: no ET12 identifier", c->name);

    /* The parser wants 16-byte alignment; malloc gives at least that. */
    cml_pte_program prog;
    memset(&prog, 0, sizeof prog);
    cml_error err = {0};
    cml_status st = cml_pte_parse((const uint8_t *)bytes, size, NULL, &prog, &err);
    CHECK_MSG(st == CML_OK, "%s: %s", c->name, err.msg);
    if (st == CML_OK) {
        int delegated = fx_bool(c->json, "delegated");
        int n = count_coreml_delegates(&prog);
        CHECK_MSG(delegated ? n > 0 : n == 0, "%s: delegated=%d but %d CoreMLBackend delegates",
                  c->name, delegated, n);
    }
    cml_pte_free(&prog);
    free(bytes);

    /* At least one input/expected pair in some naming variant. */
    snprintf(path, sizeof path, "%s/expected_0.npy", c->dir);
    char alt[1400];
    snprintf(alt, sizeof alt, "%s/expected_0.call1.npy", c->dir);
    int has_expected = fx_exists(path) || fx_exists(alt) || fx_str(c->json, "expect_error");
    const cJSON *methods = cJSON_GetObjectItemCaseSensitive(c->json, "methods");
    if (!has_expected && cJSON_IsArray(methods) && cJSON_GetArraySize(methods) > 0) {
        const cJSON *m0 = cJSON_GetArrayItem(methods, 0);
        if (cJSON_IsString(m0)) {
            snprintf(alt, sizeof alt, "%s/expected_0.%s.npy", c->dir, m0->valuestring);
            has_expected = fx_exists(alt);
        }
    }
    CHECK_MSG(has_expected, "%s: no expected outputs", c->name);
}

int main(void) {
    fixture_case *cases;
    int n = fx_list_cases(&cases);
    CHECK_MSG(n >= 18, "only %d fixture cases found under %s", n, CML_FIXTURE_DIR);
    for (int i = 0; i < n; i++) check_case(&cases[i]);
    fx_free_cases(cases, n);
    TEST_MAIN_END();
}
