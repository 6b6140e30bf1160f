/* `cml extract` writes exactly what upstream's extraction writes: for every
 * delegated fixture, the same files with the same bytes. The reference is
 * tests/extract_reference.sha256, made from executorch's own unflatten by
 * tests/make_extract_reference.sh. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture_util.h"
#include "harness.h"

int main(void) {
    char ref_path[1200];
    snprintf(ref_path, sizeof ref_path, "%s/../extract_reference.sha256", CML_FIXTURE_DIR);
    char *ref = fx_read_file(ref_path, NULL);
    CHECK_MSG(ref != NULL, "missing %s", ref_path);
    if (!ref) TEST_MAIN_END();

    char tmp[256];
    snprintf(tmp, sizeof tmp, "/tmp/cml-extract-%d", (int)getpid());
    fixture_case *cases;
    int n = fx_list_cases(&cases), extracted = 0;
    for (int i = 0; i < n; i++) {
        const fixture_case *c = &cases[i];
        if (!c->json || !fx_runnable(c) || !fx_bool(c->json, "delegated")) continue;
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "'%s' extract '%s/model.pte' -o '%s/%s' > /dev/null", CML_CLI_PATH,
                 c->dir, tmp, c->name);
        int rc = system(cmd);
        CHECK_MSG(rc == 0, "%s: cml extract failed", c->name);
        extracted++;
    }
    fx_free_cases(cases, n);

    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && find . -type f | LC_ALL=C sort | sed 's|^\\./||' | xargs -d '\\n' sha256sum",
             tmp);
    FILE *p = popen(cmd, "r");
    static char got[1 << 20];
    size_t used = p ? fread(got, 1, sizeof got - 1, p) : 0;
    got[used] = 0;
    if (p) pclose(p);
    CHECK_MSG(extracted > 0, "no delegated fixtures");
    int same = strcmp(got, ref) == 0;
    CHECK_MSG(same, "cml extract output differs from upstream's extraction");
    if (!same) {
        FILE *f = fopen("/tmp/cml-extract-got.sha256", "w");
        if (f) {
            fputs(got, f);
            fclose(f);
        }
        fprintf(stderr, "diff %s /tmp/cml-extract-got.sha256\n", ref_path);
    }
    printf("%d fixtures extracted, %s\n", extracted, same ? "byte-identical to upstream" : "DIFFERENT");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    free(ref);
    TEST_MAIN_END();
}
