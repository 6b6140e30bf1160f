#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "core/checked.h"

void *cml_malloc(const cml_allocator *a, size_t size) {
    if (size == 0) size = 1;
    if (a && a->alloc) return a->alloc(a->ctx, size, CML_ALLOC_ALIGN);
    void *p = NULL;
    if (posix_memalign(&p, CML_ALLOC_ALIGN, size) != 0) return NULL;
    return p;
}

void *cml_calloc(const cml_allocator *a, size_t n, size_t size) {
    size_t total;
    if (!cml_mul_size(n, size, &total)) return NULL;
    void *p = cml_malloc(a, total);
    if (p) memset(p, 0, total ? total : 1);
    return p;
}

void cml_free(const cml_allocator *a, void *ptr) {
    if (!ptr) return;
    if (a && a->free) {
        a->free(a->ctx, ptr);
        return;
    }
    free(ptr);
}

char *cml_strndup(const cml_allocator *a, const char *s, size_t len) {
    char *p = cml_malloc(a, len + 1);
    if (!p) return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
