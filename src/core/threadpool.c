/* A fixed pool of persistent workers with a blocking parallel-for.
 *
 * One job runs at a time. The job's chunks are claimed through a single
 * 64-bit atomic word holding (job generation << 32 | next chunk), so a worker
 * that wakes late can never claim a chunk of a newer job with a stale view of
 * the old one: the claim fails when the generation moved on, and the job's
 * fields are read only after a successful claim (the job cannot complete, and
 * so cannot be replaced, while one of its chunks is claimed and unfinished).
 *
 * Workers spin briefly for the next job before sleeping on a condition
 * variable; the caller spins briefly for completion before sleeping. A
 * parallel_for issued from inside a running chunk, or while another thread
 * owns the pool, runs inline. Nothing is allocated per call. */
#include "core/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "core/alloc.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CML_CPU_RELAX() _mm_pause()
#else
#define CML_CPU_RELAX() ((void)0)
#endif

#define CML_POOL_MAX_THREADS 256
#define CML_POOL_SPIN_WORKER 2000
#define CML_POOL_SPIN_CALLER 4000

struct cml_threadpool {
    const cml_allocator *allocator;
    int num_threads; /* including the caller */
    int num_workers; /* started worker threads */
    pthread_t *threads;

    pthread_mutex_t mu;
    pthread_cond_t cv_work;
    pthread_cond_t cv_done;
    pthread_mutex_t submit_mu; /* one job at a time */

    atomic_uint wake_gen;      /* bumped (under mu) for every job and for stop */
    atomic_bool stop;
    atomic_uint_least64_t claim; /* gen << 32 | next chunk */
    atomic_size_t done;          /* chunks finished in the current job */

    /* The current job; written by the submitter before publishing claim. */
    cml_parallel_fn fn;
    void *ctx;
    size_t n, chunk;
    atomic_size_t nchunks; /* read by late workers of an older job: atomic */
    uint32_t gen;
};

static _Thread_local int tls_in_pool = 0;

/* Claims and runs chunks of job `gen` until none are left. */
static void run_chunks(cml_threadpool *p, uint32_t gen) {
    for (;;) {
        uint64_t cur = atomic_load_explicit(&p->claim, memory_order_acquire);
        for (;;) {
            if ((uint32_t)(cur >> 32) != gen) return;
            size_t idx = (size_t)(cur & 0xffffffffu);
            if (idx >= atomic_load_explicit(&p->nchunks, memory_order_relaxed)) return;
            if (atomic_compare_exchange_weak_explicit(&p->claim, &cur, cur + 1,
                                                      memory_order_acq_rel,
                                                      memory_order_acquire))
                break;
        }
        /* Claimed: the job stays in place until this chunk is counted done. */
        size_t idx = (size_t)(cur & 0xffffffffu);
        size_t nchunks = atomic_load_explicit(&p->nchunks, memory_order_relaxed);
        size_t begin = idx * p->chunk;
        size_t end = begin + p->chunk;
        if (end > p->n) end = p->n;
        int was_in_pool = tls_in_pool;
        tls_in_pool = 1;
        p->fn(p->ctx, begin, end);
        tls_in_pool = was_in_pool;
        size_t finished = atomic_fetch_add_explicit(&p->done, 1, memory_order_acq_rel) + 1;
        if (finished == nchunks) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_broadcast(&p->cv_done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static void *worker_main(void *arg) {
    cml_threadpool *p = arg;
    unsigned seen = atomic_load_explicit(&p->wake_gen, memory_order_acquire);
    for (;;) {
        unsigned g = seen;
        for (int spin = 0; spin < CML_POOL_SPIN_WORKER; spin++) {
            g = atomic_load_explicit(&p->wake_gen, memory_order_acquire);
            if (g != seen) break;
            CML_CPU_RELAX();
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load_explicit(&p->wake_gen, memory_order_acquire)) == seen &&
                   !atomic_load_explicit(&p->stop, memory_order_acquire))
                pthread_cond_wait(&p->cv_work, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        seen = g;
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) return NULL;
        uint64_t cur = atomic_load_explicit(&p->claim, memory_order_acquire);
        run_chunks(p, (uint32_t)(cur >> 32));
    }
}

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) return 1;
    if (n > CML_POOL_MAX_THREADS) return CML_POOL_MAX_THREADS;
    return (int)n;
}

cml_status cml_threadpool_create(int num_threads, const cml_allocator *allocator,
                                 cml_threadpool **out) {
    if (!out) return CML_ERR_INVALID_ARG;
    *out = NULL;
    if (num_threads <= 0) num_threads = online_cpus();
    if (num_threads > CML_POOL_MAX_THREADS) num_threads = CML_POOL_MAX_THREADS;
    cml_threadpool *p = cml_calloc(allocator, 1, sizeof *p);
    if (!p) return CML_ERR_NOMEM;
    p->allocator = allocator;
    p->num_threads = num_threads;
    atomic_init(&p->wake_gen, 0u);
    atomic_init(&p->stop, false);
    atomic_init(&p->claim, 0u);
    atomic_init(&p->done, 0u);
    atomic_init(&p->nchunks, 0u);
    if (pthread_mutex_init(&p->mu, NULL) != 0) goto fail_mu;
    if (pthread_mutex_init(&p->submit_mu, NULL) != 0) goto fail_submit;
    if (pthread_cond_init(&p->cv_work, NULL) != 0) goto fail_cv_work;
    if (pthread_cond_init(&p->cv_done, NULL) != 0) goto fail_cv_done;
    if (num_threads > 1) {
        p->threads = cml_calloc(allocator, (size_t)(num_threads - 1), sizeof *p->threads);
        if (!p->threads) {
            cml_threadpool_destroy(p);
            return CML_ERR_NOMEM;
        }
        for (int i = 0; i < num_threads - 1; i++) {
            if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
                /* Run with the workers that did start. */
                break;
            }
            p->num_workers++;
        }
        p->num_threads = p->num_workers + 1;
    }
    *out = p;
    return CML_OK;

fail_cv_done:
    pthread_cond_destroy(&p->cv_work);
fail_cv_work:
    pthread_mutex_destroy(&p->submit_mu);
fail_submit:
    pthread_mutex_destroy(&p->mu);
fail_mu:
    cml_free(allocator, p);
    return CML_ERR_INTERNAL;
}

void cml_threadpool_destroy(cml_threadpool *pool) {
    if (!pool) return;
    if (pool->num_workers > 0) {
        pthread_mutex_lock(&pool->mu);
        atomic_store_explicit(&pool->stop, true, memory_order_release);
        atomic_fetch_add_explicit(&pool->wake_gen, 1u, memory_order_acq_rel);
        pthread_cond_broadcast(&pool->cv_work);
        pthread_mutex_unlock(&pool->mu);
        for (int i = 0; i < pool->num_workers; i++) pthread_join(pool->threads[i], NULL);
    }
    const cml_allocator *a = pool->allocator;
    cml_free(a, pool->threads);
    pthread_cond_destroy(&pool->cv_done);
    pthread_cond_destroy(&pool->cv_work);
    pthread_mutex_destroy(&pool->submit_mu);
    pthread_mutex_destroy(&pool->mu);
    cml_free(a, pool);
}

int cml_threadpool_size(const cml_threadpool *pool) { return pool ? pool->num_threads : 1; }

void cml_parallel_for(cml_threadpool *pool, size_t n, size_t grain, cml_parallel_fn fn,
                      void *ctx) {
    if (n == 0 || !fn) return;
    if (grain == 0) grain = 1;
    if (!pool || pool->num_workers == 0 || n <= grain || tls_in_pool) {
        fn(ctx, 0, n);
        return;
    }
    if (pthread_mutex_trylock(&pool->submit_mu) != 0) { /* pool busy on another thread */
        fn(ctx, 0, n);
        return;
    }
    /* At most 4 chunks per thread, each at least `grain` items. */
    size_t max_chunks = (size_t)pool->num_threads * 4;
    size_t chunk = (n + max_chunks - 1) / max_chunks;
    if (chunk < grain) chunk = grain;
    size_t nchunks = (n + chunk - 1) / chunk;
    if (nchunks <= 1 || nchunks > 0xffffffffu) { /* nothing to share (or cannot happen) */
        pthread_mutex_unlock(&pool->submit_mu);
        fn(ctx, 0, n);
        return;
    }

    uint32_t gen = pool->gen + 1;
    pool->gen = gen;
    pool->fn = fn;
    pool->ctx = ctx;
    pool->n = n;
    pool->chunk = chunk;
    atomic_store_explicit(&pool->nchunks, nchunks, memory_order_relaxed);
    atomic_store_explicit(&pool->done, 0u, memory_order_relaxed);
    atomic_store_explicit(&pool->claim, (uint64_t)gen << 32, memory_order_release);

    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add_explicit(&pool->wake_gen, 1u, memory_order_acq_rel);
    pthread_cond_broadcast(&pool->cv_work);
    pthread_mutex_unlock(&pool->mu);

    run_chunks(pool, gen);

    for (int spin = 0; spin < CML_POOL_SPIN_CALLER; spin++) {
        if (atomic_load_explicit(&pool->done, memory_order_acquire) == nchunks) break;
        CML_CPU_RELAX();
    }
    if (atomic_load_explicit(&pool->done, memory_order_acquire) != nchunks) {
        pthread_mutex_lock(&pool->mu);
        while (atomic_load_explicit(&pool->done, memory_order_acquire) != nchunks)
            pthread_cond_wait(&pool->cv_done, &pool->mu);
        pthread_mutex_unlock(&pool->mu);
    }
    pthread_mutex_unlock(&pool->submit_mu);
}
