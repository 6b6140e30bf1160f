/* A fixed pool of worker threads with a blocking parallel-for. Created once
 * per method; parallel_for does not allocate. A NULL pool (or one thread)
 * runs the range inline on the caller. */
#ifndef CML_CORE_THREADPOOL_H
#define CML_CORE_THREADPOOL_H

#include <stddef.h>

#include "cml.h"

typedef struct cml_threadpool cml_threadpool;

/* fn processes items [begin, end). ctx is passed through. */
typedef void (*cml_parallel_fn)(void *ctx, size_t begin, size_t end);

/* num_threads <= 0 means one per online CPU. The caller counts as a thread. */
cml_status cml_threadpool_create(int num_threads, const cml_allocator *allocator,
                                 cml_threadpool **out);
void cml_threadpool_destroy(cml_threadpool *pool);
int cml_threadpool_size(const cml_threadpool *pool);

/* Splits [0, n) into chunks of at least grain items and runs them on the
 * pool; returns when all are done. */
void cml_parallel_for(cml_threadpool *pool, size_t n, size_t grain, cml_parallel_fn fn,
                      void *ctx);

#endif
