/*
 * `cml run --etdump FILE`: writes the profile events as an ExecuTorch ETDump,
 * the size-prefixed FlatBuffer (file identifier "ED00") that ExecuTorch's
 * devtools Inspector reads (`Inspector(etdump_path=..., etrecord=...)`).
 *
 * What the file holds, in cml's own words (facts from ExecuTorch's
 * devtools/etdump schema and its runtime's event tracer):
 *   root table ETDump:   field 0 version (uint32, 0), field 1 run_data
 *                        (vector of RunData tables, one per execute).
 *   table RunData:       field 0 name (string; the runtime says "Execute"),
 *                        field 1 bundled input index (int32, -1 = none),
 *                        field 2 allocators (absent here), field 3 events
 *                        (vector of Event tables).
 *   table Event:         a union spelled as three table fields, exactly one
 *                        set: 0 profile event, 1 allocation event, 2 debug
 *                        event. cml writes profile events only.
 *   table ProfileEvent:  0 name (string), 1 chain index (int32),
 *                        2 instruction id (int32, -1 unset), 3 integer
 *                        delegate debug id (int32, -1 unset), 4 string
 *                        delegate debug id, 5 delegate metadata bytes
 *                        (absent here), 6 start time, 7 end time (uint64,
 *                        nanoseconds here: the Inspector's default unit).
 * Event names follow the runtime: "OPERATOR_CALL" plus "native_call_<op>"
 * for a kernel call, "DELEGATE_CALL", "MOVE_CALL", "JF_CALL", "FREE_CALL",
 * and "Method::execute" (chain -1, instruction 0) for the whole execute. A
 * Core ML op is a delegate event without a name, carrying the chain and
 * instruction of its DelegateCall and the string id "<output>:<op type>",
 * the debug symbol the Core ML AOT step keys the delegate's debug-handle
 * map with, so an ETRecord resolves it to graph nodes.
 *
 * The writer lays the buffer out top-down: a table is written with empty
 * offset slots, then its children after it, and each slot is patched with
 * the forward distance (FlatBuffers offsets are unsigned and point to higher
 * addresses). Each table's vtable is written just before it. Scalars are
 * aligned to their size relative to the start of the file (the size prefix),
 * as FlatBuffers verifiers check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "profile.h"

typedef struct fb {
    uint8_t *buf;
    size_t len, cap;
    bool oom;
} fb;

static void put_le(fb *b, size_t pos, uint64_t v, size_t n) {
    if (b->oom) return;
    for (size_t i = 0; i < n; i++) b->buf[pos + i] = (uint8_t)(v >> (8 * i));
}

/* Appends n zero bytes at a multiple of align (padding with zeros) and
 * returns their position; on allocation failure sets oom. */
static size_t fb_take(fb *b, size_t n, size_t align) {
    size_t pos = (b->len + align - 1) & ~(align - 1);
    if (b->oom) return 0;
    if (pos + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < pos + n) cap *= 2;
        uint8_t *nb = realloc(b->buf, cap);
        if (!nb) {
            b->oom = true;
            return 0;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memset(b->buf + b->len, 0, pos + n - b->len);
    b->len = pos + n;
    return pos;
}

/* Makes the offset slot at `slot` point at `target` (written after it). */
static void fb_patch(fb *b, size_t slot, size_t target) {
    put_le(b, slot, (uint64_t)(target - slot), 4);
}

static size_t fb_string(fb *b, const char *s) {
    size_t n = strlen(s);
    size_t pos = fb_take(b, 4 + n + 1, 4);
    put_le(b, pos, n, 4);
    if (!b->oom) memcpy(b->buf + pos + 4, s, n);
    return pos;
}

/* A vector of `count` offsets; element i's slot is at pos + 4 + 4 * i. */
static size_t fb_vector(fb *b, size_t count) {
    size_t pos = fb_take(b, 4 + 4 * count, 4);
    put_le(b, pos, count, 4);
    return pos;
}

/* A table field: size 0 = absent, 4 or 8 = a scalar `value`; ref = a 4-byte
 * offset slot, whose position the table writer stores in `slot`. */
typedef struct fb_field {
    uint8_t size;
    bool ref;
    uint64_t value;
    size_t slot;
} fb_field;

/* Writes the vtable and then the table for fields f[0..n) (field ids =
 * indices): 8-byte scalars first, at 8-aligned file offsets, then 4-byte
 * ones. Returns the table's position. */
static size_t fb_table(fb *b, fb_field *f, size_t n) {
    size_t size = 4;
    bool wide = false;
    for (size_t i = 0; i < n; i++) {
        size += f[i].size;
        wide = wide || f[i].size == 8;
    }
    size_t vt = fb_take(b, 4 + 2 * n, 2);
    /* With 8-byte fields the table starts 4 bytes before an 8-aligned offset. */
    size_t pad = wide && ((b->len + 3) & ~(size_t)3) % 8 == 0 ? 4 : 0;
    fb_take(b, pad, 1);
    size_t t = fb_take(b, size, 4);
    if (b->oom) return 0;
    put_le(b, vt, 4 + 2 * n, 2);
    put_le(b, vt + 2, size, 2);
    put_le(b, t, t - vt, 4);
    size_t at = 4;
    for (int pass = 8; pass >= 4; pass -= 4)
        for (size_t i = 0; i < n; i++) {
            if (f[i].size != pass) continue;
            put_le(b, vt + 4 + 2 * i, at, 2);
            if (f[i].ref) f[i].slot = t + at;
            else put_le(b, t + at, f[i].value, f[i].size);
            at += f[i].size;
        }
    return t;
}

#define FB_I32(v) ((fb_field){4, false, (uint64_t)(uint32_t)(int32_t)(v), 0})
#define FB_U64(v) ((fb_field){8, false, (uint64_t)(v), 0})
#define FB_REF ((fb_field){4, true, 0, 0})
#define FB_NONE ((fb_field){0, false, 0, 0})

/* One ProfileEvent wrapped in its Event table, written into slot. */
static void write_event(fb *b, size_t slot, const char *name, const char *debug_str,
                        const cml_profile_event *e, int32_t chain, int32_t instruction) {
    fb_field ev[3] = {FB_REF, FB_NONE, FB_NONE};
    fb_patch(b, slot, fb_table(b, ev, 3));
    fb_field pe[8] = {
        name ? FB_REF : FB_NONE, FB_I32(chain), FB_I32(instruction), FB_I32(-1),
        debug_str ? FB_REF : FB_NONE, FB_NONE, FB_U64(e->start_ns), FB_U64(e->end_ns),
    };
    fb_patch(b, ev[0].slot, fb_table(b, pe, 8));
    if (name) fb_patch(b, pe[0].slot, fb_string(b, name));
    if (debug_str) fb_patch(b, pe[4].slot, fb_string(b, debug_str));
}

static bool is_kernel(const cml_profile_event *e) {
    return e->kind == CML_PROFILE_INSTRUCTION && strcmp(e->name, "move") != 0 &&
           strcmp(e->name, "jump_false") != 0 && strcmp(e->name, "free") != 0;
}

/* ETDump events one cml event becomes (a kernel call gives two). */
static size_t etdump_count(const cli_prof_run *r) {
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) n += is_kernel(&r->events[i]) ? 2 : 1;
    return n;
}

static const char *instr_event_name(const cml_profile_event *e) {
    if (e->kind == CML_PROFILE_DELEGATE) return "DELEGATE_CALL";
    if (strcmp(e->name, "move") == 0) return "MOVE_CALL";
    if (strcmp(e->name, "jump_false") == 0) return "JF_CALL";
    if (strcmp(e->name, "free") == 0) return "FREE_CALL";
    return "OPERATOR_CALL";
}

/* Writes the events of one cml event starting at vector slot *slot. */
static void write_one(fb *b, const cml_profile_event *e, size_t *slot) {
    char text[1024];
    if (e->kind == CML_PROFILE_EXECUTE) {
        write_event(b, *slot, "Method::execute", NULL, e, -1, 0);
    } else if (e->kind == CML_PROFILE_MIL_OP) {
        snprintf(text, sizeof text, "%s:%s", e->output ? e->output : "", e->name);
        write_event(b, *slot, NULL, text, e, e->chain, e->instruction);
    } else {
        if (is_kernel(e)) { /* the kernel's own scope ends first */
            const char *op = strstr(e->name, "::");
            snprintf(text, sizeof text, "native_call_%s", op ? op + 2 : e->name);
            write_event(b, *slot, text, NULL, e, e->chain, e->instruction);
            *slot += 4;
        }
        write_event(b, *slot, instr_event_name(e), NULL, e, e->chain, e->instruction);
    }
    *slot += 4;
}

static void write_run(fb *b, size_t slot, const cli_prof_run *r) {
    fb_field rd[4] = {FB_REF, FB_I32(-1), FB_NONE, FB_REF};
    fb_patch(b, slot, fb_table(b, rd, 4));
    fb_patch(b, rd[0].slot, fb_string(b, "Execute"));
    size_t vec = fb_vector(b, etdump_count(r));
    fb_patch(b, rd[3].slot, vec);
    size_t s = vec + 4;
    for (size_t i = 0; i < r->n && !b->oom; i++) write_one(b, &r->events[i], &s);
}

int cli_etdump_build(const cli_profile *p, uint8_t **out, size_t *size) {
    fb b = {0};
    fb_take(&b, 12, 8); /* size prefix, root offset, file identifier */
    if (!b.oom) memcpy(b.buf + 8, "ED00", 4);
    fb_field root[2] = {FB_I32(0), FB_REF};
    fb_patch(&b, 4, fb_table(&b, root, 2));
    size_t vec = fb_vector(&b, p->nruns);
    fb_patch(&b, root[1].slot, vec);
    for (size_t k = 0; k < p->nruns && !b.oom; k++) write_run(&b, vec + 4 + 4 * k, &p->runs[k]);
    fb_take(&b, 0, 8); /* whole buffer a multiple of 8 */
    if (b.oom) {
        free(b.buf);
        return CLI_ERR_RUNTIME;
    }
    put_le(&b, 0, b.len - 4, 4);
    *out = b.buf;
    *size = b.len;
    return CLI_OK;
}

int cli_profile_write_etdump(const char *cmd, const cli_profile *p, const char *path) {
    uint8_t *data = NULL;
    size_t size = 0;
    if (cli_etdump_build(p, &data, &size) != CLI_OK) return cli_error(cmd, "out of memory");
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(data);
        return cli_error(cmd, "%s: cannot create the ETDump file", path);
    }
    size_t wrote = fwrite(data, 1, size, f);
    free(data);
    if (fclose(f) != 0 || wrote != size)
        return cli_error(cmd, "%s: cannot write the ETDump file", path);
    return CLI_OK;
}
