/* The static table of delegate backends. Backends are added here at build
 * time rather than registered by static constructors: nothing can be
 * dropped by the linker, and there is no global mutable state. */
#include <string.h>

#include "exec/backend.h"

extern const cml_backend cml_coreml_backend;

static const cml_backend *const kBackends[] = {
    &cml_coreml_backend,
};

const cml_backend *cml_backend_find(const char *id, size_t len) {
    for (size_t i = 0; i < sizeof kBackends / sizeof kBackends[0]; i++) {
        const cml_backend *b = kBackends[i];
        if (b && strlen(b->id) == len && memcmp(b->id, id, len) == 0) return b;
    }
    return NULL;
}
