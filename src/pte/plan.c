/*
 * ExecutionPlan decoding and verification: values (EValues and tensors),
 * operators, delegates, chains and instructions, plus the semantic checks
 * that tie them together (index ranges, value kinds, tensor shapes, planned
 * memory, constant and mutable data).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/checked.h"
#include "pte/fb.h"
#include "pte/pte.h"
#include "pte/reader.h"

#define CORRUPT CML_ERR_CORRUPT

static const char *const kValueTypes[] = {
    "NONE",   "Null",    "Int",        "Bool",      "Double",     "Tensor",
    "String", "IntList", "DoubleList", "BoolList", "TensorList", "OptionalTensorList",
};
#define VALUE_TYPE_MAX 11

static const char *const kInstrTypes[] = {
    "NONE", "KernelCall", "DelegateCall", "MoveCall", "JumpFalseCall", "FreeCall",
};
#define INSTR_TYPE_MAX 5

/* ---- ScalarType ------------------------------------------------------ */

/* Schema name of a ScalarType value, or NULL if the value is not in the
 * schema (8-10 complex, 18-21 bits types, anything else). The complex
 * values are commented out of the schema but are cml dtypes, accepted like
 * upstream's runtime accepts them (check_scalar_type). */
static const char *scalar_type_name(int v) {
    switch (v) {
    case 0: return "BYTE";
    case 1: return "CHAR";
    case 2: return "SHORT";
    case 3: return "INT";
    case 4: return "LONG";
    case 5: return "HALF";
    case 6: return "FLOAT";
    case 7: return "DOUBLE";
    case 11: return "BOOL";
    case 12: return "QINT8";
    case 13: return "QUINT8";
    case 14: return "QINT32";
    case 15: return "BFLOAT16";
    case 16: return "QUINT4X2";
    case 17: return "QUINT2X4";
    case 22: return "BITS16";
    case 23: return "FLOAT8E5M2";
    case 24: return "FLOAT8E4M3FN";
    case 25: return "FLOAT8E5M2FNUZ";
    case 26: return "FLOAT8E4M3FNUZ";
    case 27: return "UINT16";
    case 28: return "UINT32";
    case 29: return "UINT64";
    default: return NULL;
    }
}

static cml_status check_scalar_type(cml_pte_ctx *ctx, const cml_fb_table *t, int8_t v) {
    if (v >= 0 && cml_dtype_size((cml_dtype)v) != 0) return CML_OK;
    const char *name = scalar_type_name(v);
    if (name)
        return cml_fb_fail(ctx->err, CML_ERR_UNSUPPORTED, t->path, t->type, "scalar_type",
                           "ScalarType %s (%d) is not supported by cml", name, v);
    return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, "scalar_type",
                       "invalid ScalarType %d", v);
}

/* ---- helpers ------------------------------------------------------------ */

static cml_status check_value_index(cml_pte_ctx *ctx, const cml_pte_plan *plan, int64_t idx,
                                    const cml_fb_table *t, const char *field, const char *what) {
    if (idx < 0 || idx >= (int64_t)plan->nvalues)
        return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, field,
                           "%s = %lld out of range (%u values)", what, (long long)idx,
                           plan->nvalues);
    return CML_OK;
}

/* Verifies an [i32] vector of value indices (required); returns a pointer
 * into the file. */
static cml_status index_vector(cml_pte_ctx *ctx, const cml_pte_plan *plan, const cml_fb_table *t,
                               unsigned id, const char *field, const int32_t **items,
                               uint32_t *count) {
    cml_fb_vec v;
    CML_TRY(cml_fb_vector(&ctx->fb, t, id, field, 4, 4, true, &v, ctx->err));
    for (uint32_t i = 0; i < v.count; i++) {
        int32_t idx = cml_fb_vec_i32(&ctx->fb, &v, i);
        if (idx < 0 || (uint32_t)idx >= plan->nvalues) {
            char what[32];
            snprintf(what, sizeof what, "[%u]", i);
            return check_value_index(ctx, plan, idx, t, field, what);
        }
    }
    *items = (const int32_t *)cml_fb_ptr(&ctx->fb, v.pos);
    *count = v.count;
    return CML_OK;
}

/* ---- size pass -------------------------------------------------------- */

cml_status cml_pte_size_plan(cml_pte_ctx *ctx, const cml_fb_table *plan) {
    cml_fb *fb = &ctx->fb;
    cml_error *err = ctx->err;
    cml_fb_vec v;
    CML_TRY(cml_fb_vector(fb, plan, 2, "values", 4, 4, true, &v, err));
    CML_TRY(cml_pte_need(ctx, v.count, sizeof(cml_pte_value)));
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(plan->path, "values", i);
        cml_fb_table ev;
        uint8_t type;
        CML_TRY(cml_fb_vec_table(fb, &v, i, "EValue", &path, &ev, err));
        CML_TRY(cml_fb_u8(fb, &ev, 0, "val_type", 0, &type, err));
        if (type == CML_VALUE_TENSOR) CML_TRY(cml_pte_need(ctx, 1, sizeof(cml_pte_tensor)));
    }
    CML_TRY(cml_fb_vector(fb, plan, 5, "chains", 4, 4, true, &v, err));
    CML_TRY(cml_pte_need(ctx, v.count, sizeof(cml_pte_chain)));
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(plan->path, "chains", i);
        cml_fb_table chain;
        cml_fb_vec instrs;
        CML_TRY(cml_fb_vec_table(fb, &v, i, "Chain", &path, &chain, err));
        CML_TRY(cml_fb_vector(fb, &chain, 2, "instructions", 4, 4, true, &instrs, err));
        CML_TRY(cml_pte_need(ctx, instrs.count, sizeof(cml_pte_instruction)));
    }
    CML_TRY(cml_fb_vector(fb, plan, 6, "operators", 4, 4, false, &v, err));
    CML_TRY(cml_pte_need(ctx, v.count, sizeof(cml_pte_operator)));
    CML_TRY(cml_fb_vector(fb, plan, 7, "delegates", 4, 4, false, &v, err));
    CML_TRY(cml_pte_need(ctx, v.count, sizeof(cml_pte_delegate)));
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(plan->path, "delegates", i);
        cml_fb_table d;
        cml_fb_vec specs;
        CML_TRY(cml_fb_vec_table(fb, &v, i, "BackendDelegate", &path, &d, err));
        CML_TRY(cml_fb_vector(fb, &d, 2, "compile_specs", 4, 4, false, &specs, err));
        CML_TRY(cml_pte_need(ctx, specs.count, sizeof(cml_pte_compile_spec)));
    }
    return CML_OK;
}

/* ---- tensors ------------------------------------------------------------ */

static cml_status decode_planned(cml_pte_ctx *ctx, const cml_pte_plan *plan,
                                 const cml_fb_table *a, cml_pte_tensor *o) {
    cml_fb *fb = &ctx->fb;
    uint32_t id, lo, hi;
    CML_TRY(cml_fb_u32(fb, a, 0, "memory_id", 0, &id, ctx->err));
    CML_TRY(cml_fb_u32(fb, a, 1, "memory_offset_low", 0, &lo, ctx->err));
    CML_TRY(cml_fb_u32(fb, a, 2, "memory_offset_high", 0, &hi, ctx->err));
    if (id == 0 || id >= plan->nbuffer_sizes)
        return cml_fb_fail(ctx->err, CORRUPT, a->path, a->type, "memory_id",
                           "%u out of range [1, %u] (non_const_buffer_sizes has %u entries)", id,
                           plan->nbuffer_sizes ? plan->nbuffer_sizes - 1 : 0, plan->nbuffer_sizes);
    uint64_t off = (uint64_t)lo | ((uint64_t)hi << 32);
    uint64_t arena = (uint64_t)plan->buffer_sizes[id]; /* verified >= 0 */
    if (!cml_range_ok(off, o->nbytes, arena))
        return cml_fb_fail(ctx->err, CORRUPT, a->path, a->type, "memory_offset_low",
                           "tensor [%llu, +%zu bytes) lies outside arena %u (%llu bytes)",
                           (unsigned long long)off, o->nbytes, id, (unsigned long long)arena);
    size_t elsize = cml_dtype_size(o->dtype); /* kernels access whole elements */
    if (elsize > 1 && off % elsize != 0)
        return cml_fb_fail(ctx->err, CORRUPT, a->path, a->type, "memory_offset_low",
                           "offset %llu is not %zu-byte aligned for its element type",
                           (unsigned long long)off, elsize);
    o->planned = true;
    o->memory_id = id;
    o->memory_offset = off;
    return CML_OK;
}

static cml_status check_data_alignment(cml_pte_ctx *ctx, const cml_fb_table *t,
                                       const uint8_t *data, size_t elsize) {
    if (data && elsize > 1 && ((uintptr_t)data - (uintptr_t)ctx->file) % elsize != 0)
        return cml_fb_fail(ctx->err, CML_ERR_UNSUPPORTED, t->path, t->type, "data_buffer_idx",
                           "constant data at file offset %zu is not %zu-byte aligned",
                           (size_t)(data - ctx->file), elsize);
    return CML_OK;
}

/* Constant tensor: data_buffer_idx > 0 without allocation_info. */
static cml_status resolve_constant(cml_pte_ctx *ctx, const cml_fb_table *t, uint32_t idx,
                                   cml_pte_tensor *o) {
    const cml_pte_program *p = ctx->prog;
    const uint8_t *data;
    if (ctx->const_offsets.count > 0) {
        if (idx >= ctx->const_offsets.count)
            return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, "data_buffer_idx",
                               "%u out of range (constant_segment has %u offsets)", idx,
                               ctx->const_offsets.count);
        const cml_pte_segment *s = &p->segments[ctx->const_segment];
        uint64_t off = cml_fb_vec_u64(&ctx->fb, &ctx->const_offsets, idx);
        if (!cml_range_ok(off, o->nbytes, s->size))
            return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, "data_buffer_idx",
                               "constant %u [offset %llu, +%zu bytes) exceeds constant segment "
                               "%u (%llu bytes)",
                               idx, (unsigned long long)off, o->nbytes, ctx->const_segment,
                               (unsigned long long)s->size);
        data = s->data + off;
    } else if (ctx->nconst_bufs > 0) {
        if (idx >= ctx->nconst_bufs)
            return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, "data_buffer_idx",
                               "%u out of range (constant_buffer has %u entries)", idx,
                               ctx->nconst_bufs);
        const cml_pte_bytes *b = &ctx->const_bufs[idx];
        if (b->size < o->nbytes)
            return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, "data_buffer_idx",
                               "constant_buffer[%u] holds %zu bytes, tensor needs %zu", idx,
                               b->size, o->nbytes);
        data = b->data;
    } else {
        return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, "data_buffer_idx",
                           "%u but the program has no constant data", idx);
    }
    CML_TRY(check_data_alignment(ctx, t, data, cml_dtype_size(o->dtype)));
    o->constant_data = data;
    return CML_OK;
}

/* Planned tensor with initial state: data_buffer_idx > 0 with allocation_info. */
static cml_status resolve_mutable(cml_pte_ctx *ctx, const cml_fb_table *t, uint32_t idx,
                                  cml_pte_tensor *o) {
    if (!ctx->has_mutable || idx >= ctx->mutable_offsets.count)
        return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, "data_buffer_idx",
                           "%u out of range (mutable_data_segments[0] has %u offsets)", idx,
                           ctx->has_mutable ? ctx->mutable_offsets.count : 0);
    const cml_pte_segment *s = &ctx->prog->segments[ctx->mutable_segment];
    uint64_t off = cml_fb_vec_u64(&ctx->fb, &ctx->mutable_offsets, idx);
    if (!cml_range_ok(off, o->nbytes, s->size))
        return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, "data_buffer_idx",
                           "initial data %u [offset %llu, +%zu bytes) exceeds mutable segment %u "
                           "(%llu bytes)",
                           idx, (unsigned long long)off, o->nbytes, ctx->mutable_segment,
                           (unsigned long long)s->size);
    o->initial_data = s->data + off;
    return CML_OK;
}

static cml_status decode_extra_info(cml_pte_ctx *ctx, const cml_fb_table *x, cml_pte_tensor *o,
                                    bool *fqn_present) {
    cml_fb *fb = &ctx->fb;
    uint64_t seg_idx;
    int8_t location, device_type, device_index;
    CML_TRY(cml_fb_u64(fb, x, 0, "mutable_data_segments_idx", 0, &seg_idx, ctx->err));
    CML_TRY(cml_fb_string(fb, x, 1, "fully_qualified_name", false, &o->fqn, fqn_present,
                          ctx->err));
    CML_TRY(cml_fb_i8(fb, x, 2, "location", 0, &location, ctx->err));
    /* device_type / device_index (post-1.1) are read for verification only. */
    CML_TRY(cml_fb_i8(fb, x, 3, "device_type", 0, &device_type, ctx->err));
    CML_TRY(cml_fb_i8(fb, x, 4, "device_index", 0, &device_index, ctx->err));
    if (location != 0 && location != 1)
        return cml_fb_fail(ctx->err, CORRUPT, x->path, x->type, "location",
                           "invalid TensorDataLocation %d", location);
    o->external = location == 1;
    return CML_OK;
}

static cml_status decode_tensor(cml_pte_ctx *ctx, const cml_pte_plan *plan,
                                const cml_fb_table *t, cml_pte_tensor *o) {
    cml_fb *fb = &ctx->fb;
    cml_error *err = ctx->err;
    int8_t st, layout, dyn;
    int32_t storage_offset;
    bool requires_grad;
    CML_TRY(cml_fb_i8(fb, t, 0, "scalar_type", 0, &st, err));
    CML_TRY(check_scalar_type(ctx, t, st));
    o->dtype = (cml_dtype)st;
    CML_TRY(cml_fb_i32(fb, t, 1, "storage_offset", 0, &storage_offset, err));
    if (storage_offset != 0)
        return cml_fb_fail(err, CORRUPT, t->path, t->type, "storage_offset", "%d (must be 0)",
                           storage_offset);

    cml_fb_vec sizes, order;
    CML_TRY(cml_fb_vector(fb, t, 2, "sizes", 4, 4, true, &sizes, err));
    CML_TRY(cml_fb_vector(fb, t, 3, "dim_order", 1, 1, true, &order, err));
    if (sizes.count > CML_MAX_DIMS)
        return cml_fb_fail(err, CORRUPT, t->path, t->type, "sizes", "%u dims (max %d)",
                           sizes.count, CML_MAX_DIMS);
    if (order.count != sizes.count)
        return cml_fb_fail(err, CORRUPT, t->path, t->type, "dim_order",
                           "%u entries but sizes has %u", order.count, sizes.count);
    o->rank = (int32_t)sizes.count;
    bool has_zero = false;
    for (uint32_t i = 0; i < sizes.count; i++) {
        int32_t s = cml_fb_vec_i32(fb, &sizes, i);
        if (s < 0)
            return cml_fb_fail(err, CORRUPT, t->path, t->type, "sizes", "sizes[%u] = %d < 0", i,
                               s);
        o->sizes[i] = s;
        if (s == 0) has_zero = true;
    }
    /* numel x element size, overflow-checked (a zero dim makes it 0). */
    uint64_t numel = has_zero ? 0 : 1, nbytes = 0;
    bool overflow = false;
    for (uint32_t i = 0; i < sizes.count && !has_zero; i++)
        if (!cml_mul_u64(numel, (uint64_t)o->sizes[i], &numel)) overflow = true;
    if (overflow || !cml_mul_u64(numel, cml_dtype_size(o->dtype), &nbytes) || nbytes > SIZE_MAX ||
        nbytes > (uint64_t)INT64_MAX)
        return cml_fb_fail(err, CORRUPT, t->path, t->type, "sizes",
                           "numel x element size overflows");
    o->nbytes = (size_t)nbytes;
    uint32_t seen = 0;
    for (uint32_t i = 0; i < order.count; i++) {
        uint8_t d = cml_fb_vec_u8(fb, &order, i);
        if (d >= order.count || (seen & (1u << d)))
            return cml_fb_fail(err, CORRUPT, t->path, t->type, "dim_order",
                               "not a permutation (entry %u = %u, rank %u)", i, d, order.count);
        seen |= 1u << d;
        o->dim_order[i] = d;
    }

    CML_TRY(cml_fb_bool(fb, t, 4, "requires_grad", false, &requires_grad, err));
    CML_TRY(cml_fb_u32(fb, t, 5, "data_buffer_idx", 0, &o->data_buffer_idx, err));
    CML_TRY(cml_fb_i8(fb, t, 7, "layout", 0, &layout, err));
    CML_TRY(cml_fb_i8(fb, t, 8, "shape_dynamism", 0, &dyn, err));
    if (dyn < 0 || dyn > 2)
        return cml_fb_fail(err, CORRUPT, t->path, t->type, "shape_dynamism",
                           "invalid TensorShapeDynamism %d", dyn);
    o->dynamism = (uint8_t)dyn;

    cml_fb_path xpath = cml_fb_path_make(t->path, "extra_tensor_info", -1);
    cml_fb_table x;
    bool present, fqn_present = false;
    CML_TRY(cml_fb_table_field(fb, t, 9, "extra_tensor_info", false, "ExtraTensorInfo", &xpath, &x,
                               &present, err));
    if (present) CML_TRY(decode_extra_info(ctx, &x, o, &fqn_present));

    cml_fb_path apath = cml_fb_path_make(t->path, "allocation_info", -1);
    cml_fb_table a;
    CML_TRY(cml_fb_table_field(fb, t, 6, "allocation_info", false, "AllocationDetails", &apath, &a,
                               &present, err));
    if (present) CML_TRY(decode_planned(ctx, plan, &a, o));

    if (o->external) {
        if (!fqn_present || o->fqn.len == 0)
            return cml_fb_fail(err, CORRUPT, &xpath, "ExtraTensorInfo", "fully_qualified_name",
                               "external tensor without a name");
    } else if (o->data_buffer_idx > 0) {
        if (o->planned)
            CML_TRY(resolve_mutable(ctx, t, o->data_buffer_idx, o));
        else
            CML_TRY(resolve_constant(ctx, t, o->data_buffer_idx, o));
    }
    return CML_OK;
}

/* ---- values ------------------------------------------------------------- */

static cml_status decode_value(cml_pte_ctx *ctx, const cml_pte_plan *plan,
                               const cml_fb_table *ev, cml_pte_value *v) {
    cml_fb *fb = &ctx->fb;
    cml_error *err = ctx->err;
    uint8_t type;
    cml_fb_table t;
    bool present;
    /* A Null payload is an empty table; tolerate writers that omit it. */
    CML_TRY(cml_fb_union(fb, ev, 0, "val", VALUE_TYPE_MAX, kValueTypes, true, ev->path, &type, &t,
                         &present, err));
    if (type == CML_VALUE_NONE)
        return cml_fb_fail(err, CORRUPT, ev->path, ev->type, "val_type",
                           "NONE is not a valid value");
    if (!present && type != CML_VALUE_NULL)
        return cml_fb_fail(err, CORRUPT, ev->path, ev->type, "val",
                           "union of type %s has no value", kValueTypes[type]);
    v->kind = (cml_value_kind)type;
    cml_fb_vec items;
    switch (v->kind) {
    case CML_VALUE_NONE:
    case CML_VALUE_NULL: break;
    case CML_VALUE_INT: CML_TRY(cml_fb_i64(fb, &t, 0, "int_val", 0, &v->u.i, err)); break;
    case CML_VALUE_BOOL: CML_TRY(cml_fb_bool(fb, &t, 0, "bool_val", false, &v->u.b, err)); break;
    case CML_VALUE_DOUBLE:
        CML_TRY(cml_fb_f64(fb, &t, 0, "double_val", 0.0, &v->u.d, err));
        break;
    case CML_VALUE_STRING:
        CML_TRY(cml_fb_string(fb, &t, 0, "string_val", false, &v->u.s, NULL, err));
        break;
    case CML_VALUE_TENSOR: {
        void *mem;
        CML_TRY(cml_pte_take(ctx, 1, sizeof(cml_pte_tensor), &mem));
        v->u.tensor = mem;
        CML_TRY(decode_tensor(ctx, plan, &t, v->u.tensor));
        break;
    }
    case CML_VALUE_INT_LIST:
        CML_TRY(cml_fb_vector(fb, &t, 0, "items", 8, 8, false, &items, err));
        v->u.int_list.items = items.present ? (const int64_t *)cml_fb_ptr(fb, items.pos) : NULL;
        v->u.int_list.count = items.count;
        break;
    case CML_VALUE_DOUBLE_LIST:
        CML_TRY(cml_fb_vector(fb, &t, 0, "items", 8, 8, false, &items, err));
        v->u.double_list.items = items.present ? (const double *)cml_fb_ptr(fb, items.pos) : NULL;
        v->u.double_list.count = items.count;
        break;
    case CML_VALUE_BOOL_LIST:
        CML_TRY(cml_fb_vector(fb, &t, 0, "items", 1, 1, false, &items, err));
        v->u.bool_list.items = items.present ? cml_fb_ptr(fb, items.pos) : NULL;
        v->u.bool_list.count = items.count;
        break;
    case CML_VALUE_TENSOR_LIST:
    case CML_VALUE_OPT_TENSOR_LIST:
        CML_TRY(cml_fb_vector(fb, &t, 0, "items", 4, 4, false, &items, err));
        v->u.tensor_list.items =
            items.present ? (const int32_t *)cml_fb_ptr(fb, items.pos) : NULL;
        v->u.tensor_list.count = items.count;
        break;
    }
    return CML_OK;
}

/* List items refer to other values: check ranges and kinds once all values
 * are decoded. */
static cml_status check_lists(cml_pte_ctx *ctx, const cml_fb_path *plan_path,
                              const cml_pte_plan *plan) {
    for (uint32_t i = 0; i < plan->nvalues; i++) {
        const cml_pte_value *v = &plan->values[i];
        cml_fb_path path = cml_fb_path_make(plan_path, "values", i);
        uint32_t n = 0;
        if (v->kind == CML_VALUE_INT_LIST)
            n = v->u.int_list.count;
        else if (v->kind == CML_VALUE_TENSOR_LIST || v->kind == CML_VALUE_OPT_TENSOR_LIST)
            n = v->u.tensor_list.count;
        for (uint32_t j = 0; j < n; j++) {
            int64_t item;
            if (v->kind == CML_VALUE_INT_LIST) {
                memcpy(&item, &v->u.int_list.items[j], sizeof item);
            } else {
                int32_t x;
                memcpy(&x, &v->u.tensor_list.items[j], sizeof x);
                item = x;
            }
            if (v->kind == CML_VALUE_OPT_TENSOR_LIST && item == -1) continue;
            if (item < 0 || item >= (int64_t)plan->nvalues)
                return cml_fb_fail(ctx->err, CORRUPT, &path, kValueTypes[v->kind], "items",
                                   "items[%u] = %lld out of range (%u values)", j,
                                   (long long)item, plan->nvalues);
            cml_value_kind k = plan->values[item].kind;
            bool ok;
            if (v->kind == CML_VALUE_INT_LIST)
                ok = k == CML_VALUE_INT;
            else if (v->kind == CML_VALUE_TENSOR_LIST)
                ok = k == CML_VALUE_TENSOR;
            else
                ok = k == CML_VALUE_TENSOR || k == CML_VALUE_NULL;
            if (!ok)
                return cml_fb_fail(ctx->err, CORRUPT, &path, kValueTypes[v->kind], "items",
                                   "items[%u] = value %lld is %s, expected %s", j,
                                   (long long)item, kValueTypes[k],
                                   v->kind == CML_VALUE_INT_LIST      ? "Int"
                                   : v->kind == CML_VALUE_TENSOR_LIST ? "Tensor"
                                                                      : "Tensor or Null");
        }
    }
    return CML_OK;
}

/* ---- operators and delegates ------------------------------------------ */

#define CML_PTE_MAX_OP_NAME 200

/* Operator names and overloads: bounded, printable ASCII without spaces;
 * a name is also non-empty (an empty one could never resolve). */
static cml_status check_op_string(cml_pte_ctx *ctx, const cml_fb_table *t, const char *field,
                                  cml_str s, bool required) {
    if (required && s.len == 0)
        return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, field, "empty operator name");
    if (s.len > CML_PTE_MAX_OP_NAME)
        return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, field,
                           "%u bytes (max %d)", s.len, CML_PTE_MAX_OP_NAME);
    for (uint32_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        if (ch <= 0x20 || ch >= 0x7f)
            return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, field,
                               "byte %u is 0x%02x, not a printable character", i, ch);
    }
    return CML_OK;
}

static cml_status decode_operators(cml_pte_ctx *ctx, const cml_fb_table *plan_t,
                                   cml_pte_plan *plan) {
    cml_fb_vec v;
    CML_TRY(cml_fb_vector(&ctx->fb, plan_t, 6, "operators", 4, 4, false, &v, ctx->err));
    CML_TRY(cml_pte_take(ctx, v.count, sizeof(cml_pte_operator), (void **)&plan->operators));
    plan->noperators = v.count;
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(plan_t->path, "operators", i);
        cml_fb_table t;
        cml_pte_operator *op = &plan->operators[i];
        CML_TRY(cml_fb_vec_table(&ctx->fb, &v, i, "Operator", &path, &t, ctx->err));
        CML_TRY(cml_fb_string(&ctx->fb, &t, 0, "name", true, &op->name, NULL, ctx->err));
        CML_TRY(cml_fb_string(&ctx->fb, &t, 1, "overload", false, &op->overload, NULL, ctx->err));
        CML_TRY(check_op_string(ctx, &t, "name", op->name, true));
        CML_TRY(check_op_string(ctx, &t, "overload", op->overload, false));
    }
    return CML_OK;
}

static cml_status decode_delegate(cml_pte_ctx *ctx, const cml_fb_table *t, cml_pte_delegate *d) {
    cml_fb *fb = &ctx->fb;
    cml_error *err = ctx->err;
    const cml_pte_program *p = ctx->prog;
    CML_TRY(cml_fb_string(fb, t, 0, "id", true, &d->id, NULL, err));

    cml_fb_path ppath = cml_fb_path_make(t->path, "processed", -1);
    cml_fb_table r;
    bool present;
    int8_t location;
    CML_TRY(cml_fb_table_field(fb, t, 1, "processed", true, "BackendDelegateDataReference", &ppath,
                               &r, &present, err));
    CML_TRY(cml_fb_i8(fb, &r, 0, "location", 0, &location, err));
    CML_TRY(cml_fb_u32(fb, &r, 1, "index", 0, &d->index, err));
    if (location == CML_DATA_INLINE) {
        if (d->index >= ctx->ninline_data)
            return cml_fb_fail(err, CORRUPT, &ppath, r.type, "index",
                               "INLINE index %u out of range (%u backend_delegate_data entries)",
                               d->index, ctx->ninline_data);
        d->data = ctx->inline_data[d->index].data;
        d->size = ctx->inline_data[d->index].size;
    } else if (location == CML_DATA_SEGMENT) {
        if (d->index >= p->nsegments)
            return cml_fb_fail(err, CORRUPT, &ppath, r.type, "index",
                               "SEGMENT index %u out of range (%u segments)", d->index,
                               p->nsegments);
        d->data = p->segments[d->index].data;
        d->size = (size_t)p->segments[d->index].size;
    } else {
        return cml_fb_fail(err, CORRUPT, &ppath, r.type, "location", "invalid DataLocation %d",
                           location);
    }
    d->location = (uint8_t)location;

    cml_fb_vec v;
    CML_TRY(cml_fb_vector(fb, t, 2, "compile_specs", 4, 4, false, &v, err));
    CML_TRY(cml_pte_take(ctx, v.count, sizeof(cml_pte_compile_spec), (void **)&d->specs));
    d->nspecs = v.count;
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(t->path, "compile_specs", i);
        cml_fb_table s;
        cml_fb_vec value;
        CML_TRY(cml_fb_vec_table(fb, &v, i, "CompileSpec", &path, &s, err));
        CML_TRY(cml_fb_string(fb, &s, 0, "key", true, &d->specs[i].key, NULL, err));
        CML_TRY(cml_fb_vector(fb, &s, 1, "value", 1, 1, false, &value, err));
        d->specs[i].value = value.present ? cml_fb_ptr(fb, value.pos) : NULL;
        d->specs[i].value_len = value.count;
    }
    return CML_OK;
}

static cml_status decode_delegates(cml_pte_ctx *ctx, const cml_fb_table *plan_t,
                                   cml_pte_plan *plan) {
    cml_fb_vec v;
    CML_TRY(cml_fb_vector(&ctx->fb, plan_t, 7, "delegates", 4, 4, false, &v, ctx->err));
    CML_TRY(cml_pte_take(ctx, v.count, sizeof(cml_pte_delegate), (void **)&plan->delegates));
    plan->ndelegates = v.count;
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(plan_t->path, "delegates", i);
        cml_fb_table t;
        CML_TRY(cml_fb_vec_table(&ctx->fb, &v, i, "BackendDelegate", &path, &t, ctx->err));
        CML_TRY(decode_delegate(ctx, &t, &plan->delegates[i]));
    }
    return CML_OK;
}

/* ---- chains and instructions ------------------------------------------ */

static cml_status decode_instruction(cml_pte_ctx *ctx, const cml_pte_plan *plan,
                                     const cml_fb_table *it, uint32_t ninstr,
                                     cml_pte_instruction *in) {
    cml_fb *fb = &ctx->fb;
    cml_error *err = ctx->err;
    uint8_t type;
    cml_fb_table t;
    bool present;
    CML_TRY(cml_fb_union(fb, it, 0, "instr_args", INSTR_TYPE_MAX, kInstrTypes, false, it->path,
                         &type, &t, &present, err));
    if (type == 0)
        return cml_fb_fail(err, CORRUPT, it->path, it->type, "instr_args_type",
                           "NONE is not a valid instruction");
    in->kind = (cml_instr_kind)type;
    switch (in->kind) {
    case CML_INSTR_KERNEL_CALL:
    case CML_INSTR_DELEGATE_CALL: {
        bool kernel = in->kind == CML_INSTR_KERNEL_CALL;
        const char *field = kernel ? "op_index" : "delegate_index";
        uint32_t limit = kernel ? plan->noperators : plan->ndelegates;
        CML_TRY(cml_fb_i32(fb, &t, 0, field, 0, &in->a, err));
        if (in->a < 0 || (uint32_t)in->a >= limit)
            return cml_fb_fail(err, CORRUPT, t.path, t.type, field, "%d out of range (%u %s)",
                               in->a, limit, kernel ? "operators" : "delegates");
        CML_TRY(index_vector(ctx, plan, &t, 1, "args", &in->args, &in->nargs));
        break;
    }
    case CML_INSTR_MOVE_CALL:
        CML_TRY(cml_fb_i32(fb, &t, 0, "move_from", 0, &in->a, err));
        CML_TRY(cml_fb_i32(fb, &t, 1, "move_to", 0, &in->b, err));
        CML_TRY(check_value_index(ctx, plan, in->a, &t, "move_from", "value"));
        CML_TRY(check_value_index(ctx, plan, in->b, &t, "move_to", "value"));
        break;
    case CML_INSTR_JUMP_FALSE_CALL: {
        CML_TRY(cml_fb_i32(fb, &t, 0, "cond_value_index", 0, &in->a, err));
        CML_TRY(cml_fb_i32(fb, &t, 1, "destination_instruction", 0, &in->b, err));
        CML_TRY(check_value_index(ctx, plan, in->a, &t, "cond_value_index", "value"));
        cml_value_kind k = plan->values[in->a].kind;
        if (k != CML_VALUE_BOOL && k != CML_VALUE_TENSOR)
            return cml_fb_fail(err, CORRUPT, t.path, t.type, "cond_value_index",
                               "value %d is %s, expected Bool or Tensor", in->a, kValueTypes[k]);
        if (in->b < 0 || (uint32_t)in->b >= ninstr)
            return cml_fb_fail(err, CORRUPT, t.path, t.type, "destination_instruction",
                               "%d out of range (%u instructions)", in->b, ninstr);
        break;
    }
    case CML_INSTR_FREE_CALL:
        CML_TRY(cml_fb_i32(fb, &t, 0, "value_index", 0, &in->a, err));
        CML_TRY(check_value_index(ctx, plan, in->a, &t, "value_index", "value"));
        if (plan->values[in->a].kind != CML_VALUE_TENSOR)
            return cml_fb_fail(err, CORRUPT, t.path, t.type, "value_index",
                               "value %d is %s, expected Tensor", in->a,
                               kValueTypes[plan->values[in->a].kind]);
        break;
    }
    return CML_OK;
}

/* Chain.stacktrace: [FrameList] of [Frame]; verified, not kept. */
static cml_status verify_stacktrace(cml_pte_ctx *ctx, const cml_fb_table *chain) {
    cml_fb *fb = &ctx->fb;
    cml_fb_vec lists;
    CML_TRY(cml_fb_vector(fb, chain, 3, "stacktrace", 4, 4, false, &lists, ctx->err));
    for (uint32_t i = 0; i < lists.count; i++) {
        cml_fb_path lpath = cml_fb_path_make(chain->path, "stacktrace", i);
        cml_fb_table fl;
        cml_fb_vec frames;
        CML_TRY(cml_fb_vec_table(fb, &lists, i, "FrameList", &lpath, &fl, ctx->err));
        CML_TRY(cml_fb_vector(fb, &fl, 0, "items", 4, 4, false, &frames, ctx->err));
        for (uint32_t j = 0; j < frames.count; j++) {
            cml_fb_path fpath = cml_fb_path_make(&lpath, "items", j);
            cml_fb_table f;
            cml_str s;
            int32_t line;
            CML_TRY(cml_fb_vec_table(fb, &frames, j, "Frame", &fpath, &f, ctx->err));
            CML_TRY(cml_fb_string(fb, &f, 0, "filename", false, &s, NULL, ctx->err));
            CML_TRY(cml_fb_i32(fb, &f, 1, "lineno", 0, &line, ctx->err));
            CML_TRY(cml_fb_string(fb, &f, 2, "name", false, &s, NULL, ctx->err));
            CML_TRY(cml_fb_string(fb, &f, 3, "context", false, &s, NULL, ctx->err));
        }
    }
    return CML_OK;
}

static cml_status decode_chain(cml_pte_ctx *ctx, const cml_pte_plan *plan, const cml_fb_table *t,
                               cml_pte_chain *c) {
    cml_fb *fb = &ctx->fb;
    cml_fb_vec v;
    /* Chain.inputs / outputs are emitted empty and unused; verified only. */
    CML_TRY(cml_fb_vector(fb, t, 0, "inputs", 4, 4, false, &v, ctx->err));
    CML_TRY(cml_fb_vector(fb, t, 1, "outputs", 4, 4, false, &v, ctx->err));
    CML_TRY(cml_fb_vector(fb, t, 2, "instructions", 4, 4, true, &v, ctx->err));
    CML_TRY(cml_pte_take(ctx, v.count, sizeof(cml_pte_instruction), (void **)&c->instructions));
    c->ninstructions = v.count;
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(t->path, "instructions", i);
        cml_fb_table it;
        CML_TRY(cml_fb_vec_table(fb, &v, i, "Instruction", &path, &it, ctx->err));
        CML_TRY(decode_instruction(ctx, plan, &it, v.count, &c->instructions[i]));
    }
    return verify_stacktrace(ctx, t);
}

/* ---- plan ---------------------------------------------------------------- */

static cml_status decode_buffer_sizes(cml_pte_ctx *ctx, const cml_fb_table *t,
                                      cml_pte_plan *plan) {
    cml_fb *fb = &ctx->fb;
    cml_fb_vec v;
    CML_TRY(cml_fb_vector(fb, t, 8, "non_const_buffer_sizes", 8, 8, false, &v, ctx->err));
    for (uint32_t i = 0; i < v.count; i++) {
        int64_t s = cml_fb_vec_i64(fb, &v, i);
        if (s < 0)
            return cml_fb_fail(ctx->err, CORRUPT, t->path, t->type, "non_const_buffer_sizes",
                               "[%u] = %lld < 0", i, (long long)s);
    }
    plan->buffer_sizes = v.present ? (const int64_t *)cml_fb_ptr(fb, v.pos) : NULL;
    plan->nbuffer_sizes = v.count;

    /* non_const_buffer_device (post-1.1): verified, not kept (CPU only). */
    CML_TRY(cml_fb_vector(fb, t, 9, "non_const_buffer_device", 4, 4, false, &v, ctx->err));
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(t->path, "non_const_buffer_device", i);
        cml_fb_table d;
        int32_t idx;
        int8_t dt, di;
        CML_TRY(cml_fb_vec_table(fb, &v, i, "NonConstBufferDevice", &path, &d, ctx->err));
        CML_TRY(cml_fb_i32(fb, &d, 0, "buffer_idx", 0, &idx, ctx->err));
        CML_TRY(cml_fb_i8(fb, &d, 1, "device_type", 0, &dt, ctx->err));
        CML_TRY(cml_fb_i8(fb, &d, 2, "device_index", 0, &di, ctx->err));
    }
    return CML_OK;
}

cml_status cml_pte_decode_plan(cml_pte_ctx *ctx, const cml_fb_table *t, cml_pte_plan *plan) {
    cml_fb *fb = &ctx->fb;
    cml_error *err = ctx->err;
    CML_TRY(cml_fb_string(fb, t, 0, "name", true, &plan->name, NULL, err));

    cml_fb_path mpath = cml_fb_path_make(t->path, "container_meta_type", -1);
    cml_fb_table meta;
    bool present;
    CML_TRY(cml_fb_table_field(fb, t, 1, "container_meta_type", false, "ContainerMetadata", &mpath,
                               &meta, &present, err));
    plan->input_spec = (cml_str){"", 0};
    plan->output_spec = (cml_str){"", 0};
    if (present) {
        CML_TRY(cml_fb_string(fb, &meta, 0, "encoded_inp_str", false, &plan->input_spec, NULL,
                              err));
        CML_TRY(cml_fb_string(fb, &meta, 1, "encoded_out_str", false, &plan->output_spec, NULL,
                              err));
    }

    CML_TRY(decode_buffer_sizes(ctx, t, plan));
    CML_TRY(decode_operators(ctx, t, plan));
    CML_TRY(decode_delegates(ctx, t, plan));

    cml_fb_vec v;
    CML_TRY(cml_fb_vector(fb, t, 2, "values", 4, 4, true, &v, err));
    CML_TRY(cml_pte_take(ctx, v.count, sizeof(cml_pte_value), (void **)&plan->values));
    plan->nvalues = v.count;
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(t->path, "values", i);
        cml_fb_table ev;
        CML_TRY(cml_fb_vec_table(fb, &v, i, "EValue", &path, &ev, err));
        CML_TRY(decode_value(ctx, plan, &ev, &plan->values[i]));
    }
    CML_TRY(check_lists(ctx, t->path, plan));

    CML_TRY(index_vector(ctx, plan, t, 3, "inputs", &plan->inputs, &plan->ninputs));
    CML_TRY(index_vector(ctx, plan, t, 4, "outputs", &plan->outputs, &plan->noutputs));

    CML_TRY(cml_fb_vector(fb, t, 5, "chains", 4, 4, true, &v, err));
    if (v.count == 0)
        return cml_fb_fail(err, CORRUPT, t->path, t->type, "chains", "no chains (need >= 1)");
    CML_TRY(cml_pte_take(ctx, v.count, sizeof(cml_pte_chain), (void **)&plan->chains));
    plan->nchains = v.count;
    for (uint32_t i = 0; i < v.count; i++) {
        cml_fb_path path = cml_fb_path_make(t->path, "chains", i);
        cml_fb_table c;
        CML_TRY(cml_fb_vec_table(fb, &v, i, "Chain", &path, &c, err));
        CML_TRY(decode_chain(ctx, plan, &c, &plan->chains[i]));
    }
    return CML_OK;
}
