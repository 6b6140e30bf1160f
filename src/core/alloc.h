/* The only place that touches the C heap. Every allocation honours the
 * caller's cml_allocator when one is given. Alignment is 64 bytes so that
 * vector kernels can use aligned loads on planned buffers. */
#ifndef CML_CORE_ALLOC_H
#define CML_CORE_ALLOC_H

#include <stddef.h>

#include "cml.h"

#define CML_ALLOC_ALIGN 64

void *cml_malloc(const cml_allocator *a, size_t size);
/* Zero-filled; n * size is overflow-checked (NULL on overflow). */
void *cml_calloc(const cml_allocator *a, size_t n, size_t size);
void cml_free(const cml_allocator *a, void *ptr);
/* strdup of len bytes plus a NUL terminator. */
char *cml_strndup(const cml_allocator *a, const char *s, size_t len);

#endif
