/*
 * libFuzzer target: the .pte reader (cml_pte_parse). Every byte is a
 * candidate .pte image; the reader must verify it or reject it with a
 * status, never read out of bounds, leak or hit undefined behaviour.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "pte/pte.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Regions point into the one image buffer: reading both ends of each is
 * enough for ASan to catch one that runs off it. */
static void touch(const void *b, size_t n) { fuzz_touch_ends(b, n); }

static void touch_str(cml_str s) { touch(s.ptr, (size_t)s.len + 1); }

/* Touches what a loader reads after a successful parse, so bad pointers or
 * sizes in the decoded program surface here. */
static void walk_plan(const cml_pte_program *p, const cml_pte_plan *plan) {
    touch_str(plan->name);
    (void)cml_pte_find_plan(p, plan->name.ptr);
    touch(plan->inputs, plan->ninputs * sizeof *plan->inputs);
    touch(plan->outputs, plan->noutputs * sizeof *plan->outputs);
    touch(plan->buffer_sizes, plan->nbuffer_sizes * sizeof *plan->buffer_sizes);
    for (uint32_t i = 0; i < plan->noperators; i++) {
        touch_str(plan->operators[i].name);
        touch_str(plan->operators[i].overload);
    }
    for (uint32_t i = 0; i < plan->ndelegates; i++) {
        const cml_pte_delegate *d = &plan->delegates[i];
        touch_str(d->id);
        touch(d->data, d->size);
        for (uint32_t k = 0; k < d->nspecs; k++) {
            touch_str(d->specs[k].key);
            touch(d->specs[k].value, d->specs[k].value_len);
        }
    }
}

static void walk(const cml_pte_program *p) {
    for (uint32_t i = 0; i < p->nplans; i++) walk_plan(p, &p->plans[i]);
    for (uint32_t i = 0; i < p->nsegments; i++) touch(p->segments[i].data, p->segments[i].size);
    for (uint32_t i = 0; i < p->nnamed_data; i++) {
        const cml_pte_named_data *nd = &p->named_data[i];
        touch_str(nd->key);
        touch(nd->data, nd->size);
        (void)cml_pte_find_named_data(p, nd->key.ptr, nd->key.len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* The reader requires a 16-byte aligned image, as a mapping gives. */
    uint8_t *copy = aligned_alloc(16, (size + 16) & ~(size_t)15);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    cml_pte_program prog;
    cml_error err = {0};
    if (cml_pte_parse(copy, size, NULL, &prog, &err) == CML_OK) walk(&prog);
    cml_pte_free(&prog);
    free(copy);
    return 0;
}
