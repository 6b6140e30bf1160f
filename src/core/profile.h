/*
 * The profiling sink every layer writes to (cml_method_profile_enable in
 * include/cml.h). Neutral on purpose: the MIL executor records its ops here
 * without knowing about methods or Core ML containers.
 *
 * The sink is owned by a method; a NULL sink pointer means profiling is
 * off, and layers test it once per chain / block, never per op, on their
 * unprofiled path. Recording never allocates: events past `cap` are only
 * counted in `dropped`.
 */
#ifndef CML_CORE_PROFILE_H
#define CML_CORE_PROFILE_H

#include <stdint.h>
#include <time.h>

#include "cml.h"

typedef struct cml_prof {
    cml_profile_event *events;  /* cap entries */
    uint32_t cap, n;
    uint64_t dropped;
    /* Where execution is now, stamped on the events of nested layers. */
    int32_t chain, instruction, delegate;
    /* The running delegate's debug handles, one per node of its ML Program
     * main block (NULL: none known); set by the backend around a run. */
    const int64_t *op_handles;
    uint32_t nop_handles;
} cml_prof;

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t cml_prof_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The next free event slot, or NULL (and one more dropped) when full. */
static inline cml_profile_event *cml_prof_slot(cml_prof *p) {
    if (p->n < p->cap) return &p->events[p->n++];
    p->dropped++;
    return NULL;
}

#endif
