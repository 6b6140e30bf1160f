/*
 * cml_pte_parse: the file header, the Program table, segments, constants,
 * mutable data and named data. Plans are decoded in plan.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/checked.h"
#include "pte/fb.h"
#include "pte/pte.h"
#include "pte/reader.h"

#define CORRUPT CML_ERR_CORRUPT

/* Arena granularity: every struct in pte.h needs at most 8. */
#define ARENA_ALIGN 16

static uint32_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static uint64_t rd64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

cml_status cml_pte_need(cml_pte_ctx *ctx, size_t n, size_t size) {
    size_t bytes;
    if (n == 0) return CML_OK;
    if (!cml_mul_size(n, size, &bytes) || !cml_add_size(bytes, ARENA_ALIGN - 1, &bytes) ||
        !cml_add_size(ctx->need, bytes & ~(size_t)(ARENA_ALIGN - 1), &ctx->need))
        return cml_fail(ctx->err, CML_ERR_NOMEM, "decoded program size overflows");
    return CML_OK;
}

cml_status cml_pte_take(cml_pte_ctx *ctx, size_t n, size_t size, void **out) {
    *out = NULL;
    if (n == 0) return CML_OK;
    size_t bytes;
    if (!cml_mul_size(n, size, &bytes) || !cml_add_size(bytes, ARENA_ALIGN - 1, &bytes))
        return cml_fail(ctx->err, CML_ERR_INTERNAL, "pte arena: size overflow");
    bytes &= ~(size_t)(ARENA_ALIGN - 1);
    if (bytes > ctx->arena_size - ctx->arena_used)
        return cml_fail(ctx->err, CML_ERR_INTERNAL,
                        "pte arena exhausted (%zu of %zu bytes used, %zu more wanted)",
                        ctx->arena_used, ctx->arena_size, bytes);
    *out = ctx->arena + ctx->arena_used;
    ctx->arena_used += bytes;
    return CML_OK;
}

/* ---- header ---------------------------------------------------------- */

static cml_status parse_header(const uint8_t *data, size_t size, cml_pte_program *p,
                               cml_error *err) {
    if (size < 8)
        return cml_fail(err, CORRUPT, "header: file is %zu bytes, too short for a .pte (root "
                                      "offset and ET12 identifier need 8)", size);
    if (memcmp(data + 4, "ET12", 4) != 0) {
        char id[20];
        const uint8_t *b = data + 4;
        bool printable = true;
        for (int i = 0; i < 4; i++)
            if (b[i] < 0x20 || b[i] > 0x7e) printable = false;
        if (printable)
            snprintf(id, sizeof id, "'%c%c%c%c'", b[0], b[1], b[2], b[3]);
        else
            snprintf(id, sizeof id, "%02x %02x %02x %02x", b[0], b[1], b[2], b[3]);
        if (b[0] == 'E' && b[1] == 'T')
            return cml_fail(err, CORRUPT,
                            "header: identifier %s is an incompatible ExecuTorch program version "
                            "(cml reads ET12)", id);
        return cml_fail(err, CORRUPT,
                        "header: identifier %s is not ET12 (not an ExecuTorch program)", id);
    }
    uint64_t program_size = size, base = 0, data_size = 0;
    uint32_t hlen = 0;
    if (size >= 12 && memcmp(data + 8, "eh00", 4) == 0) {
        if (size < 16)
            return cml_fail(err, CORRUPT, "extended header: file is %zu bytes, truncated inside "
                                          "the header", size);
        hlen = rd32(data + 12);
        if (hlen < 24)
            return cml_fail(err, CORRUPT, "extended header: header_length %u < 24", hlen);
        if ((uint64_t)8 + hlen > size)
            return cml_fail(err, CORRUPT,
                            "extended header: header_length %u runs past the file end (%zu bytes)",
                            hlen, size);
        program_size = rd64(data + 16);
        base = rd64(data + 24);
        if (hlen >= 32) data_size = rd64(data + 32);
        if (program_size < (uint64_t)8 + hlen)
            return cml_fail(err, CORRUPT,
                            "extended header: program_size %llu is smaller than the header (%u)",
                            (unsigned long long)program_size, 8 + hlen);
        if (program_size > size)
            return cml_fail(err, CORRUPT,
                            "extended header: program_size %llu exceeds the file size %zu",
                            (unsigned long long)program_size, size);
        if (base != 0) {
            if (base < program_size || base > size)
                return cml_fail(err, CORRUPT,
                                "extended header: segment_base_offset %llu outside [program_size "
                                "%llu, file size %zu]",
                                (unsigned long long)base, (unsigned long long)program_size, size);
            if (!cml_range_ok(base, data_size, size))
                return cml_fail(err, CORRUPT,
                                "extended header: segment_base_offset %llu + segment_data_size "
                                "%llu exceeds the file size %zu",
                                (unsigned long long)base, (unsigned long long)data_size, size);
        } else if (data_size != 0) {
            return cml_fail(err, CORRUPT,
                            "extended header: segment_data_size %llu without a segment_base_offset",
                            (unsigned long long)data_size);
        }
    }
    if (program_size > 0x7fffffffu)
        return cml_fail(err, CORRUPT,
                        "header: flatbuffer of %llu bytes exceeds the FlatBuffers 2 GiB limit",
                        (unsigned long long)program_size);
    uint32_t root = rd32(data);
    if (root < 8 || (uint64_t)root > program_size - 4)
        return cml_fail(err, CORRUPT,
                        "header: root table offset 0x%x outside [8, program_size - 4 = 0x%llx]",
                        root, (unsigned long long)(program_size - 4));
    p->has_extended_header = hlen != 0;
    p->header_length = hlen;
    p->program_size = program_size;
    p->segment_base_offset = base;
    p->segment_data_size = data_size;
    return CML_OK;
}

/* ---- size pass --------------------------------------------------------- */

static cml_status size_program(cml_pte_ctx *ctx, const cml_fb_table *root) {
    cml_error *err = ctx->err;
    cml_fb *fb = &ctx->fb;
    cml_fb_vec v;
    CML_TRY(cml_fb_vector(fb, root, 4, "segments", 4, 4, false, &v, err));
    CML_TRY(cml_pte_need(ctx, v.count, sizeof(cml_pte_segment)));
    CML_TRY(cml_fb_vector(fb, root, 7, "named_data", 4, 4, false, &v, err));
    CML_TRY(cml_pte_need(ctx, v.count, sizeof(cml_pte_named_data)));
    CML_TRY(cml_fb_vector(fb, root, 2, "constant_buffer", 4, 4, false, &v, err));
    CML_TRY(cml_pte_need(ctx, v.count, sizeof(cml_pte_bytes)));
    CML_TRY(cml_fb_vector(fb, root, 3, "backend_delegate_data", 4, 4, false, &v, err));
    CML_TRY(cml_pte_need(ctx, v.count, sizeof(cml_pte_bytes)));
    CML_TRY(cml_fb_vector(fb, root, 1, "execution_plan", 4, 4, true, &v, err));
    CML_TRY(cml_pte_need(ctx, v.count, sizeof(cml_pte_plan)));
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(NULL, "ExecutionPlan", i);
        cml_fb_table plan;
        CML_TRY(cml_fb_vec_table(fb, &v, i, "ExecutionPlan", &path, &plan, err));
        CML_TRY(cml_pte_size_plan(ctx, &plan));
    }
    return CML_OK;
}

/* ---- decode pass ------------------------------------------------------- */

static cml_status decode_segments(cml_pte_ctx *ctx, const cml_fb_table *root) {
    cml_pte_program *p = ctx->prog;
    cml_fb_vec v;
    CML_TRY(cml_fb_vector(&ctx->fb, root, 4, "segments", 4, 4, false, &v, ctx->err));
    CML_TRY(cml_pte_take(ctx, v.count, sizeof(cml_pte_segment), (void **)&p->segments));
    p->nsegments = v.count;
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(NULL, "segments", i);
        cml_fb_table t;
        cml_pte_segment *s = &p->segments[i];
        CML_TRY(cml_fb_vec_table(&ctx->fb, &v, i, "DataSegment", &path, &t, ctx->err));
        CML_TRY(cml_fb_u64(&ctx->fb, &t, 0, "offset", 0, &s->offset, ctx->err));
        CML_TRY(cml_fb_u64(&ctx->fb, &t, 1, "size", 0, &s->size, ctx->err));
        uint64_t start;
        bool start_ok = cml_add_u64(p->segment_base_offset, s->offset, &start);
        if (s->size > 0) {
            if (p->segment_base_offset == 0)
                return cml_fb_fail(ctx->err, CORRUPT, &path, "DataSegment", "size",
                                   "%llu bytes of segment data but the file has no extended "
                                   "header / segment_base_offset",
                                   (unsigned long long)s->size);
            if (!start_ok || !cml_range_ok(start, s->size, ctx->file_size))
                return cml_fb_fail(ctx->err, CORRUPT, &path, "DataSegment", "offset",
                                   "segment [base %llu + offset %llu, +%llu bytes) runs past the "
                                   "file end (%zu bytes)",
                                   (unsigned long long)p->segment_base_offset,
                                   (unsigned long long)s->offset, (unsigned long long)s->size,
                                   ctx->file_size);
            s->data = ctx->file + start;
        } else {
            /* Empty segments may sit at an aligned offset past the end. */
            s->data = start_ok && start <= ctx->file_size ? ctx->file + start
                                                          : ctx->file + ctx->file_size;
        }
    }
    return CML_OK;
}

/* Reads a [Buffer] / [BackendDelegateInlineData] vector: field 0 = [u8]. */
static cml_status decode_inline_bufs(cml_pte_ctx *ctx, const cml_fb_table *root, unsigned id,
                                     const char *field, const char *type,
                                     const char *data_field, cml_pte_bytes **out,
                                     uint32_t *count) {
    cml_fb_vec v;
    CML_TRY(cml_fb_vector(&ctx->fb, root, id, field, 4, 4, false, &v, ctx->err));
    CML_TRY(cml_pte_take(ctx, v.count, sizeof(cml_pte_bytes), (void **)out));
    *count = v.count;
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(NULL, field, i);
        cml_fb_table t;
        cml_fb_vec d;
        CML_TRY(cml_fb_vec_table(&ctx->fb, &v, i, type, &path, &t, ctx->err));
        CML_TRY(cml_fb_vector(&ctx->fb, &t, 0, data_field, 1, 1, false, &d, ctx->err));
        (*out)[i].data = d.present ? cml_fb_ptr(&ctx->fb, d.pos) : NULL;
        (*out)[i].size = d.count;
    }
    return CML_OK;
}

static cml_status decode_subsegment(cml_pte_ctx *ctx, const cml_fb_table *t, uint32_t *segment,
                                    cml_fb_vec *offsets) {
    CML_TRY(cml_fb_u32(&ctx->fb, t, 0, "segment_index", 0, segment, ctx->err));
    CML_TRY(cml_fb_vector(&ctx->fb, t, 1, "offsets", 8, 8, false, offsets, ctx->err));
    if (offsets->count > 0 && *segment >= ctx->prog->nsegments)
        return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, "segment_index",
                           "%u out of range (%u segments)", *segment, ctx->prog->nsegments);
    return CML_OK;
}

static cml_status decode_constants(cml_pte_ctx *ctx, const cml_fb_table *root) {
    cml_pte_program *p = ctx->prog;
    CML_TRY(decode_inline_bufs(ctx, root, 2, "constant_buffer", "Buffer", "storage",
                               &ctx->const_bufs, &ctx->nconst_bufs));
    cml_fb_path path = cml_fb_path_make(NULL, "constant_segment", -1);
    cml_fb_table t;
    bool present;
    CML_TRY(cml_fb_table_field(&ctx->fb, root, 5, "constant_segment", false, "SubsegmentOffsets",
                               &path, &t, &present, ctx->err));
    if (present) CML_TRY(decode_subsegment(ctx, &t, &ctx->const_segment, &ctx->const_offsets));
    if (ctx->const_offsets.count > 0) {
        if (ctx->nconst_bufs > 0)
            return cml_fb_fail(ctx->err, CORRUPT, NULL, "Program", "constant_buffer",
                               "%u deprecated inline buffers alongside a constant_segment with "
                               "%u offsets (only one may be used)",
                               ctx->nconst_bufs, ctx->const_offsets.count);
        p->uses_constant_buffer = false;
        p->nconstants = ctx->const_offsets.count;
    } else {
        p->uses_constant_buffer = ctx->nconst_bufs > 0;
        p->nconstants = ctx->nconst_bufs;
    }
    return CML_OK;
}

static cml_status decode_mutable(cml_pte_ctx *ctx, const cml_fb_table *root) {
    cml_fb_vec v;
    CML_TRY(cml_fb_vector(&ctx->fb, root, 6, "mutable_data_segments", 4, 4, false, &v, ctx->err));
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(NULL, "mutable_data_segments", i);
        cml_fb_table t;
        uint32_t seg;
        cml_fb_vec offsets;
        CML_TRY(cml_fb_vec_table(&ctx->fb, &v, i, "SubsegmentOffsets", &path, &t, ctx->err));
        CML_TRY(decode_subsegment(ctx, &t, &seg, &offsets));
        if (i == 0) {
            /* The runtime only ever reads entry 0. */
            ctx->has_mutable = true;
            ctx->mutable_segment = seg;
            ctx->mutable_offsets = offsets;
            ctx->prog->nmutable_offsets = offsets.count;
        }
    }
    return CML_OK;
}

static cml_status decode_named_data(cml_pte_ctx *ctx, const cml_fb_table *root) {
    cml_pte_program *p = ctx->prog;
    cml_fb_vec v;
    CML_TRY(cml_fb_vector(&ctx->fb, root, 7, "named_data", 4, 4, false, &v, ctx->err));
    CML_TRY(cml_pte_take(ctx, v.count, sizeof(cml_pte_named_data), (void **)&p->named_data));
    p->nnamed_data = v.count;
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(NULL, "named_data", i);
        cml_fb_table t;
        cml_pte_named_data *nd = &p->named_data[i];
        CML_TRY(cml_fb_vec_table(&ctx->fb, &v, i, "NamedData", &path, &t, ctx->err));
        CML_TRY(cml_fb_string(&ctx->fb, &t, 0, "key", true, &nd->key, NULL, ctx->err));
        CML_TRY(cml_fb_u32(&ctx->fb, &t, 1, "segment_index", 0, &nd->segment_index, ctx->err));
        if (nd->segment_index >= p->nsegments)
            return cml_fb_fail(ctx->err, CORRUPT, &path, "NamedData", "segment_index",
                               "%u out of range (%u segments)", nd->segment_index, p->nsegments);
        const cml_pte_segment *s = &p->segments[nd->segment_index];
        nd->data = s->data;
        nd->size = (size_t)s->size;
    }
    return CML_OK;
}

static cml_status decode_program(cml_pte_ctx *ctx, const cml_fb_table *root) {
    cml_pte_program *p = ctx->prog;
    CML_TRY(cml_fb_u32(&ctx->fb, root, 0, "version", 0, &p->version, ctx->err));
    CML_TRY(decode_segments(ctx, root));
    CML_TRY(decode_constants(ctx, root));
    CML_TRY(decode_inline_bufs(ctx, root, 3, "backend_delegate_data",
                               "BackendDelegateInlineData", "data", &ctx->inline_data,
                               &ctx->ninline_data));
    CML_TRY(decode_mutable(ctx, root));
    CML_TRY(decode_named_data(ctx, root));

    cml_fb_vec v;
    CML_TRY(cml_fb_vector(&ctx->fb, root, 1, "execution_plan", 4, 4, true, &v, ctx->err));
    CML_TRY(cml_pte_take(ctx, v.count, sizeof(cml_pte_plan), (void **)&p->plans));
    p->nplans = v.count;
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(NULL, "ExecutionPlan", i);
        cml_fb_table plan;
        CML_TRY(cml_fb_vec_table(&ctx->fb, &v, i, "ExecutionPlan", &path, &plan, ctx->err));
        CML_TRY(cml_pte_decode_plan(ctx, &plan, &p->plans[i]));
    }
    return CML_OK;
}

static cml_status open_root(cml_pte_ctx *ctx, cml_fb_table *root) {
    uint32_t pos;
    memcpy(&pos, ctx->file, 4);
    return cml_fb_table_at(&ctx->fb, pos, "Program", NULL, root, ctx->err);
}

cml_status cml_pte_parse(const uint8_t *data, size_t size, const cml_allocator *allocator,
                         cml_pte_program *out, cml_error *err) {
    if (!out) return cml_fail(err, CML_ERR_INVALID_ARG, "cml_pte_parse: out is NULL");
    memset(out, 0, sizeof *out);
    if (!data)
        return cml_fail(err, CML_ERR_INVALID_ARG, "cml_pte_parse: data is NULL");
    if ((uintptr_t)data % 16 != 0)
        return cml_fail(err, CML_ERR_INVALID_ARG,
                        "cml_pte_parse: program data must be 16-byte aligned");

    cml_pte_program prog;
    memset(&prog, 0, sizeof prog);
    CML_TRY(parse_header(data, size, &prog, err));

    cml_pte_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.file = data;
    ctx.file_size = size;
    ctx.prog = &prog;
    ctx.err = err;

    /* Pass 1: verify structure and size the decoded arrays. */
    cml_fb_table root;
    ctx.sizing = true;
    cml_fb_init(&ctx.fb, data, (uint32_t)prog.program_size);
    CML_TRY(open_root(&ctx, &root));
    CML_TRY(size_program(&ctx, &root));

    /* Pass 2: decode everything into one allocation, with full checks. */
    ctx.sizing = false;
    ctx.arena_size = ctx.need;
    ctx.arena = cml_malloc(allocator, ctx.need ? ctx.need : 1);
    if (!ctx.arena)
        return cml_fail(err, CML_ERR_NOMEM, "out of memory decoding the program (%zu bytes)",
                        ctx.need);
    memset(ctx.arena, 0, ctx.need);
    prog.storage = ctx.arena;
    prog.allocator = allocator;
    cml_fb_init(&ctx.fb, data, (uint32_t)prog.program_size);
    cml_status st = open_root(&ctx, &root);
    if (st == CML_OK) st = decode_program(&ctx, &root);
    if (st != CML_OK) {
        cml_free(allocator, ctx.arena);
        return st;
    }
    *out = prog;
    return CML_OK;
}

void cml_pte_free(cml_pte_program *program) {
    if (!program) return;
    cml_free(program->allocator, program->storage);
    memset(program, 0, sizeof *program);
}

const cml_pte_plan *cml_pte_find_plan(const cml_pte_program *program, const char *name) {
    if (!program || !name) return NULL;
    size_t len = strlen(name);
    for (uint32_t i = 0; i < program->nplans; i++) {
        const cml_str *n = &program->plans[i].name;
        if (n->len == len && memcmp(n->ptr, name, len) == 0) return &program->plans[i];
    }
    return NULL;
}

const cml_pte_named_data *cml_pte_find_named_data(const cml_pte_program *program,
                                                  const char *key, size_t key_len) {
    if (!program || (!key && key_len)) return NULL;
    for (uint32_t i = 0; i < program->nnamed_data; i++) {
        const cml_str *k = &program->named_data[i].key;
        if (k->len == key_len && (key_len == 0 || memcmp(k->ptr, key, key_len) == 0))
            return &program->named_data[i];
    }
    return NULL;
}
