/*
 * MILSpec Function -> cml_mil_graph.
 *
 * Two passes over the function body:
 *   1. build: every value gets a slot (names resolved in scope, nested
 *      blocks included), const ops are decoded, parameters are bound by name
 *      (inline Binding values and, for iOS16/17 constexpr ops, non-"name"
 *      attributes become const values), and every op type is looked up;
 *      all unsupported op types are reported together.
 *   2. infer: op by op (nested blocks first), infer() types the outputs,
 *      then ops whose inputs are all constant are folded.
 * Then plan.c places the remaining values in one arena.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/checked.h"
#include "coreml/value.h"
#include "kernels/kernels.h"
#include "mil/compressed.h"
#include "mil/fuse.h"
#include "mil/graph.h"
#include "mil/ops.h"
#include "mil/state_inplace.h"
#include "platform/file.h"

typedef Cml__Coreml__MILSpec__Operation pb_op;
typedef Cml__Coreml__MILSpec__Block pb_block;
typedef Cml__Coreml__MILSpec__NamedValueType pb_nvt;
typedef Cml__Coreml__MILSpec__ValueType pb_vtype;

extern const cml_mil_op_def cml_mil_op_const;
extern const cml_mil_op_def cml_mil_op_while_loop;

#define MAX_UNSUPPORTED_TYPES 32
#define LOC_SIZE 160

typedef struct compiler {
    cml_mil_graph *g;
    cml_mlpackage *pkg;
    cml_error *err;
    const cml_mil_input_bound *bounds;
    uint32_t nbounds;
    uint32_t *buckets;       /* name hash -> most recent vid */
    uint32_t nbuckets;       /* power of two */
    uint32_t *next;          /* per vid: next vid in the bucket */
    uint8_t *hidden;         /* per vid: defined in a closed nested block */
    const pb_vtype **decl;   /* per vid: declared type (block inputs, op outputs) */
    const char *unsupported_types[MAX_UNSUPPORTED_TYPES];
    uint32_t nunsupported_types;
    uint32_t nunsupported_ops;
    char unsupported[CML_ERRMSG_SIZE];
    uint8_t *slab;           /* constant copies (const_space) */
    size_t slab_used, slab_cap;
} compiler;

int cml_mil_opset_number(const char *opset) {
    static const struct { const char *name; int number; } kOpsets[] = {
        {"CoreML5", 15}, {"CoreML6", 16}, {"CoreML7", 17}, {"CoreML8", 18}, {"CoreML9", 26},
    };
    for (size_t i = 0; opset && i < sizeof kOpsets / sizeof kOpsets[0]; i++)
        if (strcmp(kOpsets[i].name, opset) == 0) return kOpsets[i].number;
    return 0;
}

/* Graph-owned n * size bytes, zeroed unless the caller overwrites them all
 * (zero == false). */
static void *own_block(compiler *c, size_t n, size_t size, bool zero) {
    n = n ? n : 1;
    size = size ? size : 1;
    void *p = zero ? cml_calloc(c->g->allocator, n, size)
                   : (n > SIZE_MAX / size ? NULL : cml_malloc(c->g->allocator, n * size));
    if (!p || cml_mil_graph_own(c->g, p) != CML_OK) {
        cml_fail(c->err, CML_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return p;
}

static void *own_alloc(compiler *c, size_t n, size_t size) {
    return own_block(c, n, size, true);
}

/* Uninitialized, 64-byte aligned space for a constant's copy. Copies come
 * from graph-owned slabs of 256 KiB doubling to 8 MiB; slabs (and bigger
 * constants, which get their own block) from 4 MiB up are advised for huge
 * pages, so copying a large network's weights costs a handful of page
 * faults instead of one per 4 KiB, while a small model stays small.
 * Slabs start 64 bytes into their owned block, so cml_mil_compressed_release
 * (which frees dead constants that are whole owned blocks) leaves constants
 * inside a slab alone. */
#define SLAB_MIN ((size_t)256 << 10)
#define SLAB_MAX ((size_t)8 << 20)
static void *const_space(compiler *c, size_t size) {
    size = size ? size : 1;
    if (size > SIZE_MAX - 63) return own_block(c, 1, SIZE_MAX, false);
    size = (size + 63) & ~(size_t)63;
    if (size > SLAB_MAX / 4) {
        void *p = own_block(c, 1, size, false);
        if (p) cml_platform_advise_huge(p, size);
        return p;
    }
    if (!c->slab || c->slab_cap - c->slab_used < size) {
        size_t cap = !c->slab ? SLAB_MIN : c->slab_cap < SLAB_MAX ? c->slab_cap * 2 : SLAB_MAX;
        while (cap < size) cap *= 2;
        uint8_t *slab = own_block(c, 1, cap + 64, false);
        if (!slab) return NULL;
        cml_platform_advise_huge(slab, cap + 64);
        c->slab = slab + 64; /* so that no constant's address is an owned block's */
        c->slab_used = 0;
        c->slab_cap = cap;
    }
    void *p = c->slab + c->slab_used;
    c->slab_used += size;
    return p;
}

static const char *own_str(compiler *c, const char *s) {
    if (!s) s = "";
    char *p = cml_strndup(c->g->allocator, s, strlen(s));
    if (!p || cml_mil_graph_own(c->g, p) != CML_OK) {
        cml_fail(c->err, CML_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return p;
}

/* ----------------------------------------------------------- value slots */

static uint32_t hash_name(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static cml_mil_vid lookup(const compiler *c, const char *name) {
    for (uint32_t v = c->buckets[hash_name(name) & (c->nbuckets - 1)]; v != CML_MIL_NONE;
         v = c->next[v])
        if (!c->hidden[v] && strcmp(c->g->values[v].name, name) == 0) return v;
    return CML_MIL_NONE;
}

/* A new value slot; names must be unique among visible values (MIL is
 * SSA). Anonymous values (inline constants) are never looked up. */
static cml_status new_value(compiler *c, const char *name, bool named, cml_mil_vid *out) {
    cml_mil_graph *g = c->g;
    if (g->nvalues >= g->values_cap)
        return cml_fail(c->err, CML_ERR_INTERNAL, "value table overflow");
    if (named && (!name || !*name))
        return cml_fail(c->err, CML_ERR_CORRUPT, "a value has an empty name");
    if (named && lookup(c, name) != CML_MIL_NONE)
        return cml_fail(c->err, CML_ERR_CORRUPT, "value '%s' is defined twice", name);
    cml_mil_vid vid = g->nvalues;
    cml_mil_value *v = &g->values[vid];
    memset(v, 0, sizeof *v);
    v->name = own_str(c, name);
    if (!v->name) return CML_ERR_NOMEM;
    v->def_node = -1;
    v->last_use = -1;
    g->nvalues++;
    c->hidden[vid] = !named;
    uint32_t h = hash_name(v->name) & (c->nbuckets - 1);
    c->next[vid] = c->buckets[h];
    c->buckets[h] = vid;
    *out = vid;
    return CML_OK;
}

/* Values the function can define, counted ahead so the table never moves. */
static size_t count_block(const pb_block *b, unsigned depth) {
    if (!b || depth > 64) return 0;
    size_t n = b->n_inputs;
    for (size_t i = 0; i < b->n_operations; i++) {
        const pb_op *op = b->operations[i];
        if (!op) continue;
        n += op->n_outputs + op->n_attributes;
        for (size_t j = 0; j < op->n_inputs; j++)
            if (op->inputs[j] && op->inputs[j]->value) n += op->inputs[j]->value->n_arguments;
        for (size_t j = 0; j < op->n_blocks; j++) n += count_block(op->blocks[j], depth + 1);
    }
    return n;
}

/* ------------------------------------------------------------- types */

/* Storage dtype for a MIL dtype (see mil.h). */
static bool storage_dtype(cml_mil_dtype t, cml_dtype *out, bool *fp16) {
    *fp16 = false;
    switch (t) {
    case CML_MIL_FLOAT16: *fp16 = true; *out = CML_DTYPE_FLOAT32; return true;
    case CML_MIL_FLOAT32:
    case CML_MIL_FLOAT64:
    case CML_MIL_BFLOAT16: *out = CML_DTYPE_FLOAT32; return true;
    case CML_MIL_INT32: *out = CML_DTYPE_INT32; return true;
    case CML_MIL_INT64:
    case CML_MIL_UINT64: *out = CML_DTYPE_INT64; return true;
    case CML_MIL_INT16: *out = CML_DTYPE_INT16; return true;
    case CML_MIL_UINT16: *out = CML_DTYPE_UINT16; return true;
    case CML_MIL_INT8:
    case CML_MIL_INT4: *out = CML_DTYPE_INT8; return true;
    case CML_MIL_UINT8:
    case CML_MIL_UINT4:
    case CML_MIL_UINT2:
    case CML_MIL_UINT1:
    case CML_MIL_UINT3:
    case CML_MIL_UINT6: *out = CML_DTYPE_UINT8; return true;
    case CML_MIL_UINT32: *out = CML_DTYPE_UINT32; return true;
    case CML_MIL_BOOL: *out = CML_DTYPE_BOOL; return true;
    default: return false;
    }
}

/* Sets v to a tensor of shape `shape` (rank dims, all known). */
static cml_status set_tensor(compiler *c, cml_mil_value *v, cml_mil_dtype t, int32_t rank,
                             const int64_t *shape, bool dynamic) {
    cml_dtype dt;
    bool fp16;
    if (!storage_dtype(t, &dt, &fp16))
        return cml_fail(c->err, CML_ERR_UNSUPPORTED, "value '%s': dtype %s is not supported",
                        v->name, cml_mil_dtype_name(t));
    size_t bytes = cml_dtype_size(dt);
    for (int32_t d = 0; d < rank; d++)
        if (shape[d] < 0 || !cml_mul_size(bytes, (size_t)shape[d], &bytes) ||
            bytes > ((size_t)1 << 46))
            return cml_fail(c->err, CML_ERR_CORRUPT, "value '%s': bad or too large shape",
                            v->name);
    v->kind = CML_MIL_KIND_TENSOR;
    v->dtype = dt;
    v->fp16 = fp16;
    v->rank = rank;
    for (int32_t d = 0; d < CML_MAX_DIMS; d++) v->shape[d] = v->bound[d] = d < rank ? shape[d] : 0;
    v->dynamic = dynamic;
    v->capacity = bytes;
    return CML_OK;
}

/* Types a value from a declared TensorType; unknown dimensions take the
 * matching entry of `bound` (rank must agree) or fail. */
static cml_status type_from_decl(compiler *c, cml_mil_value *v, const pb_vtype *vt,
                                 const cml_mil_input_bound *bound) {
    if (!vt || vt->type_case != CML__COREML__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE ||
        !vt->tensortype)
        return cml_fail(c->err, CML_ERR_UNSUPPORTED, "value '%s': only tensor types are supported",
                        v->name);
    cml_mil_dtype t;
    int32_t rank;
    int64_t shape[CML_MAX_DIMS];
    CML_TRY(cml_mlvalue_tensor_type(vt->tensortype, &t, &rank, shape, c->err));
    if (rank < 0)
        return cml_fail(c->err, CML_ERR_UNSUPPORTED, "value '%s' has an unknown rank", v->name);
    bool dynamic = false;
    for (int32_t d = 0; d < rank; d++) {
        if (shape[d] >= 0) continue;
        if (!bound || bound->rank != rank || bound->bound[d] < 0) {
            return cml_fail(c->err, CML_ERR_UNSUPPORTED,
                            "value '%s': dimension %d is unknown and has no upper bound", v->name,
                            d);
        }
        shape[d] = bound->bound[d];
        dynamic = true;
    }
    return set_tensor(c, v, t, rank, shape, dynamic);
}

/* ---------------------------------------------------------- const values */

static void store_int(void *data, cml_dtype dt, uint64_t i, int64_t x) {
    switch (dt) {
    case CML_DTYPE_INT64: ((int64_t *)data)[i] = x; break;
    case CML_DTYPE_INT32: ((int32_t *)data)[i] = (int32_t)x; break;
    case CML_DTYPE_UINT32: ((uint32_t *)data)[i] = (uint32_t)x; break;
    case CML_DTYPE_INT16: ((int16_t *)data)[i] = (int16_t)x; break;
    case CML_DTYPE_UINT16: ((uint16_t *)data)[i] = (uint16_t)x; break;
    case CML_DTYPE_INT8: ((int8_t *)data)[i] = (int8_t)x; break;
    case CML_DTYPE_BOOL: ((uint8_t *)data)[i] = x != 0; break;
    default: ((uint8_t *)data)[i] = (uint8_t)x; break;
    }
}

/* An fp16 tensor kept as its fp16 bits (mil.h `half`): in place in the
 * mapped file when aligned, else a copy. widen_for_consumers() widens it
 * unless every reader takes fp16. */
static cml_status keep_half(compiler *c, const cml_mlvalue *mv, cml_mil_value *v) {
    v->half = true;
    v->capacity = (size_t)mv->numel * sizeof(uint16_t);
    if (mv->from_blob && ((uintptr_t)mv->data % sizeof(uint16_t)) == 0) {
        v->data = (void *)mv->data; /* the package outlives the graph */
        return CML_OK;
    }
    void *data = own_block(c, 1, v->capacity, false); /* its own block: freed if widened */
    if (!data) return CML_ERR_NOMEM;
    memcpy(data, mv->data, v->capacity);
    v->data = data;
    return CML_OK;
}

/* Decodes a MILSpec.Value into const value v (what: for messages). */
static cml_status const_from_pb(compiler *c, const cml_pb_value *pv, cml_mil_value *v,
                                const char *what) {
    v->is_const = true;
    if (pv && pv->value_case == CML__COREML__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE &&
        pv->immediatevalue &&
        pv->immediatevalue->value_case !=
            CML__COREML__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR) {
        v->kind = CML_MIL_KIND_LIST; /* lists/tuples: only ops that need them read the proto */
        return CML_OK;
    }
    cml_mlvalue mv;
    cml_status st = pv ? cml_mlvalue_decode(pv, c->pkg, &mv, c->err)
                       : cml_fail(c->err, CML_ERR_CORRUPT, "value is missing");
    if (st != CML_OK) {
        cml_error_prefix(c->err, "%s: ", what);
        return st;
    }
    if (mv.dtype == CML_MIL_STRING) {
        const char *s = mv.numel >= 1 ? cml_mlvalue_get_str(&mv, 0) : NULL;
        v->kind = mv.numel == 1 ? CML_MIL_KIND_STRING : CML_MIL_KIND_LIST;
        v->str = own_str(c, s ? s : "");
        return v->str ? CML_OK : CML_ERR_NOMEM;
    }
    if (mv.dtype == CML_MIL_FLOAT8E4M3FN || mv.dtype == CML_MIL_FLOAT8E5M2)
        return cml_fail(c->err, CML_ERR_UNSUPPORTED, "%s: dtype %s is not supported", what,
                        cml_mil_dtype_name(mv.dtype));
    st = set_tensor(c, v, mv.dtype, mv.rank, mv.shape, false);
    if (st != CML_OK) {
        cml_error_prefix(c->err, "%s: ", what);
        return st;
    }
    v->is_const = true;
    c->g->const_file_bytes += mv.nbytes;
    uint64_t n = mv.numel;
    size_t esize = cml_dtype_size(v->dtype);
    bool same_layout =
        (mv.storage == CML_MLVALUE_RAW || mv.storage == CML_MLVALUE_F32 ||
         mv.storage == CML_MLVALUE_I64) &&
        mv.dtype != CML_MIL_FLOAT16 && mv.dtype != CML_MIL_BFLOAT16 &&
        mv.dtype != CML_MIL_FLOAT64 && mv.nbytes == n * esize;
    if (same_layout && mv.from_blob && n && ((uintptr_t)mv.data % 64) == 0) {
        v->data = (void *)mv.data; /* used in place: the package outlives the graph */
        return CML_OK;
    }
    if (mv.storage == CML_MLVALUE_PACKED && n) {
        /* Kept packed (int4, uint1..uint6): in place in the mapped file, or a
         * copy of the immediate bytes. unpack_for_consumers() unpacks it
         * later unless only constexpr ops read it. */
        size_t pbytes = cml_subbyte_nbytes(n, mv.bits);
        if (mv.bits < 1 || mv.bits > 7 || pbytes == SIZE_MAX || mv.nbytes < pbytes || !mv.data)
            return cml_fail(c->err, CML_ERR_CORRUPT, "%s: %zu bytes hold fewer than %llu %u-bit "
                            "elements", what, mv.nbytes, (unsigned long long)n, mv.bits);
        v->packed_bits = (uint8_t)mv.bits;
        v->packed_signed = mv.dtype == CML_MIL_INT4;
        v->capacity = pbytes;
        if (mv.from_blob) {
            v->data = (void *)mv.data; /* the package outlives the graph */
            return CML_OK;
        }
        void *packed = const_space(c, pbytes);
        if (!packed) return CML_ERR_NOMEM;
        memcpy(packed, mv.data, pbytes);
        v->data = packed;
        return CML_OK;
    }
    if (mv.dtype == CML_MIL_FLOAT16 && mv.storage == CML_MLVALUE_RAW && n &&
        mv.nbytes == n * sizeof(uint16_t))
        return keep_half(c, &mv, v);
    void *data = n ? const_space(c, v->capacity) : own_alloc(c, 1, v->capacity);
    if (!data) return CML_ERR_NOMEM;
    v->data = data;
    if (n == 0) return CML_OK;
    if (same_layout) {
        memcpy(data, mv.data, n * esize);
    } else if (v->dtype == CML_DTYPE_FLOAT32) {
        float *f = data;
        for (uint64_t i = 0; i < n; i++) f[i] = (float)cml_mlvalue_get_f64(&mv, i);
    } else {
        for (uint64_t i = 0; i < n; i++) store_int(data, v->dtype, i, cml_mlvalue_get_i64(&mv, i));
    }
    /* fp64 / bf16 narrowed to fp32 here; fp16 values are exact already. */
    return CML_OK;
}

/* Packed sub-byte constants (mil.h packed_bits) stay packed only where
 * every reader is one of these constexpr parameters (ops_constexpr.c reads
 * them packed); any other reader, or a block output, gets them unpacked to
 * one byte per element (INT8 sign-extended for int4, UINT8 otherwise). */
static bool packed_reader(const cml_mil_node *node, const char *param, const cml_mil_value *v) {
    (void)v;
    static const char *const kReaders[][2] = {
        {"constexpr_blockwise_shift_scale", "data"},
        {"constexpr_blockwise_shift_scale", "offset"},
        {"constexpr_affine_dequantize", "quantized_data"},
        {"constexpr_affine_dequantize", "zero_point"},
        {"constexpr_lut_to_dense", "indices"},
        {"constexpr_lut_to_sparse", "indices_nonzero_data"},
        {"constexpr_sparse_blockwise_shift_scale", "nonzero_data"},
        {"constexpr_sparse_blockwise_shift_scale", "offset"},
    };
    /* iOS16 lut_to_dense reads its `indices` as bytes of packed indices */
    if (strcmp(node->type, "constexpr_lut_to_dense") == 0 && cml_mil_param_find(node, "shape"))
        return false;
    for (size_t i = 0; i < sizeof kReaders / sizeof kReaders[0]; i++)
        if (strcmp(node->type, kReaders[i][0]) == 0 && strcmp(param, kReaders[i][1]) == 0)
            return true;
    return false;
}

/* fp16 constants (mil.h half) stay fp16 only where every reader is one of
 * these parameters: gather's table (rows widened as they are copied) and,
 * where the gemm takes fp16 weights, the gemm operands (read through
 * cml_k_gemm_f32_f16b, or conv's through cml_k_conv2d_w16_epi_f32; 2-D and
 * 1-D convs only). */
static bool half_reader(const cml_mil_node *node, const char *param, const cml_mil_value *v) {
    if (strcmp(node->type, "gather") == 0 && strcmp(param, "x") == 0) return true;
    if (!cml_k_gemm_takes_f16()) return false; /* widened at load (NEON for now) */
    return (strcmp(node->type, "linear") == 0 && strcmp(param, "weight") == 0) ||
           (strcmp(node->type, "matmul") == 0 && strcmp(param, "y") == 0) ||
           (strcmp(node->type, "conv") == 0 && strcmp(param, "weight") == 0 &&
            (v->rank == 3 || v->rank == 4));
}

typedef bool (*reader_fn)(const cml_mil_node *node, const char *param, const cml_mil_value *v);

/* Sets mark[v] for every value v with packed_bits (half == false) or half
 * set (half == true) that a parameter other than an `ok` one reads, or that
 * is a block output; seen[v] (when not NULL) for those an `ok` one reads. */
static void mark_readers(const cml_mil_graph *g, const cml_mil_block *blk, bool half, reader_fn ok,
                         uint8_t *mark, uint8_t *seen) {
    for (uint32_t i = 0; i < blk->nnodes; i++) {
        const cml_mil_node *node = &blk->nodes[i];
        for (uint32_t p = 0; p < node->nparams; p++)
            for (uint32_t k = 0; k < node->params[p].count; k++) {
                cml_mil_vid v = node->params[p].vids[k];
                if (v >= g->nvalues || !(half ? g->values[v].half : g->values[v].packed_bits != 0))
                    continue;
                if (!ok(node, node->params[p].name, &g->values[v])) mark[v] = 1;
                else if (seen) seen[v] = 1;
            }
        for (uint32_t b = 0; b < node->nblocks; b++)
            mark_readers(g, &node->blocks[b], half, ok, mark, seen);
    }
    for (uint32_t i = 0; i < blk->noutputs; i++)
        if (blk->outputs[i] < g->nvalues) mark[blk->outputs[i]] = 1;
}

/* Replaces graph-owned buffer old (if it is one) by fresh, which is not
 * yet owned: old is freed and fresh takes its owned[] slot; otherwise fresh
 * is appended (old then points into the mapped file). */
static cml_status own_instead(compiler *c, void *old, void *fresh) {
    cml_mil_graph *g = c->g;
    for (uint32_t i = 0; i < g->nowned; i++)
        if (g->owned[i] == old) {
            cml_free(g->allocator, old);
            g->owned[i] = fresh;
            return CML_OK;
        }
    if (cml_mil_graph_own(g, fresh) == CML_OK) return CML_OK;
    cml_free(g->allocator, fresh);
    return cml_fail(c->err, CML_ERR_NOMEM, "out of memory");
}

/* Widens the fp16 constants some reader needs as float, and those no
 * fp16-taking reader reads (F16C bulk conversion; exact). */
static cml_status widen_for_consumers(compiler *c) {
    cml_mil_graph *g = c->g;
    uint8_t *widen = cml_calloc(g->allocator, g->nvalues ? g->nvalues : 1, 2);
    if (!widen) return cml_fail(c->err, CML_ERR_NOMEM, "out of memory");
    uint8_t *seen = widen + g->nvalues;
    mark_readers(g, &g->main, true, half_reader, widen, seen);
    cml_status st = CML_OK;
    for (uint32_t i = 0; i < g->nvalues && st == CML_OK; i++) {
        cml_mil_value *v = &g->values[i];
        if (!v->half || (!widen[i] && seen[i])) continue;
        size_t n = v->capacity / sizeof(uint16_t);
        float *data = cml_malloc(g->allocator, n * sizeof(float));
        if (!data) {
            st = cml_fail(c->err, CML_ERR_NOMEM, "out of memory");
            break;
        }
        cml_platform_advise_huge(data, n * sizeof(float));
        cml_k_convert(CML_DTYPE_FLOAT16, v->data, CML_DTYPE_FLOAT32, data, n);
        st = own_instead(c, v->data, data);
        if (st != CML_OK) break;
        v->data = data;
        v->capacity = n * sizeof(float);
        v->half = false;
    }
    cml_free(g->allocator, widen);
    return st;
}

static cml_status unpack_for_consumers(compiler *c) {
    cml_mil_graph *g = c->g;
    uint8_t *unpack = cml_calloc(g->allocator, g->nvalues ? g->nvalues : 1, 1);
    if (!unpack) return cml_fail(c->err, CML_ERR_NOMEM, "out of memory");
    mark_readers(g, &g->main, false, packed_reader, unpack, NULL);
    cml_status st = CML_OK;
    for (uint32_t i = 0; i < g->nvalues && st == CML_OK; i++) {
        cml_mil_value *v = &g->values[i];
        if (!v->packed_bits || !unpack[i]) continue;
        uint64_t n = (uint64_t)cml_mil_numel(v);
        void *data = own_alloc(c, 1, (size_t)n);
        if (!data) {
            st = CML_ERR_NOMEM;
            break;
        }
        if (v->packed_signed) cml_subbyte_unpack_i4(v->data, n, data);
        else cml_subbyte_unpack_u8(v->data, n, v->packed_bits, data);
        v->data = data;
        v->capacity = (size_t)n;
        v->packed_bits = 0;
        v->packed_signed = false;
    }
    cml_free(g->allocator, unpack);
    return st;
}

/* -------------------------------------------------------------- build */

static cml_status build_block(compiler *c, const pb_block *pb, cml_mil_block *blk,
                              const char *loc, unsigned depth);

static const cml_pb_value *op_attr(const pb_op *op, const char *key) {
    for (size_t i = 0; i < op->n_attributes; i++)
        if (op->attributes[i] && op->attributes[i]->key && strcmp(op->attributes[i]->key, key) == 0)
            return op->attributes[i]->value;
    return NULL;
}

static const char *op_name(const pb_op *op) {
    const cml_pb_value *v = op_attr(op, "name");
    if (!v || v->value_case != CML__COREML__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE ||
        !v->immediatevalue ||
        v->immediatevalue->value_case !=
            CML__COREML__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR ||
        !v->immediatevalue->tensor ||
        v->immediatevalue->tensor->value_case !=
            CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_STRINGS ||
        !v->immediatevalue->tensor->strings || v->immediatevalue->tensor->strings->n_values < 1)
        return "";
    return v->immediatevalue->tensor->strings->values[0];
}

static void note_unsupported(compiler *c, const cml_mil_node *node, const char *loc, uint32_t i) {
    c->nunsupported_ops++;
    for (uint32_t k = 0; k < c->nunsupported_types; k++)
        if (strcmp(c->unsupported_types[k], node->type) == 0) return;
    if (c->nunsupported_types < MAX_UNSUPPORTED_TYPES)
        c->unsupported_types[c->nunsupported_types] = node->type;
    size_t used = strlen(c->unsupported);
    snprintf(c->unsupported + used, sizeof c->unsupported - used,
             "%sop '%s' (type %s) at %s op #%u is not supported", c->nunsupported_types ? "; " : "",
             node->name, node->type, loc, i);
    c->nunsupported_types++;
}

static cml_status bind_params(compiler *c, const pb_op *op, cml_mil_node *node) {
    size_t nextra = 0;
    bool is_const = node->def == &cml_mil_op_const;
    for (size_t i = 0; !is_const && i < op->n_attributes; i++)
        if (op->attributes[i] && op->attributes[i]->key && strcmp(op->attributes[i]->key, "name"))
            nextra++;
    node->params = own_alloc(c, op->n_inputs + nextra, sizeof *node->params);
    if (!node->params) return CML_ERR_NOMEM;
    for (size_t i = 0; i < op->n_inputs; i++) {
        const Cml__Coreml__MILSpec__Operation__InputsEntry *e = op->inputs[i];
        if (!e || !e->key || !e->value)
            return cml_fail(c->err, CML_ERR_CORRUPT, "parameter %zu is empty", i);
        cml_mil_param *p = &node->params[node->nparams++];
        p->name = own_str(c, e->key);
        p->count = (uint32_t)e->value->n_arguments;
        p->vids = own_alloc(c, p->count, sizeof *p->vids);
        if (!p->name || !p->vids) return CML_ERR_NOMEM;
        for (uint32_t k = 0; k < p->count; k++) {
            const Cml__Coreml__MILSpec__Argument__Binding *b = e->value->arguments[k];
            if (b && b->binding_case == CML__COREML__MILSPEC__ARGUMENT__BINDING__BINDING_NAME) {
                p->vids[k] = b->name ? lookup(c, b->name) : CML_MIL_NONE;
                if (p->vids[k] == CML_MIL_NONE)
                    return cml_fail(c->err, CML_ERR_CORRUPT,
                                    "parameter '%s' refers to undefined value '%s'", p->name,
                                    b->name ? b->name : "");
            } else if (b && b->binding_case ==
                                CML__COREML__MILSPEC__ARGUMENT__BINDING__BINDING_VALUE) {
                char what[160];
                snprintf(what, sizeof what, "parameter '%s'", p->name);
                CML_TRY(new_value(c, what, false, &p->vids[k]));
                CML_TRY(const_from_pb(c, b->value, &c->g->values[p->vids[k]], what));
            } else {
                return cml_fail(c->err, CML_ERR_CORRUPT, "parameter '%s' has an empty binding",
                                p->name);
            }
        }
    }
    /* iOS16/17 constexpr ops carry their parameters as attributes. */
    for (size_t i = 0; !is_const && i < op->n_attributes; i++) {
        const Cml__Coreml__MILSpec__Operation__AttributesEntry *e = op->attributes[i];
        if (!e || !e->key || !strcmp(e->key, "name") || cml_mil_param_find(node, e->key)) continue;
        cml_mil_param *p = &node->params[node->nparams++];
        p->name = own_str(c, e->key);
        p->count = 1;
        p->vids = own_alloc(c, 1, sizeof *p->vids);
        if (!p->name || !p->vids) return CML_ERR_NOMEM;
        char what[160];
        snprintf(what, sizeof what, "attribute '%s'", p->name);
        CML_TRY(new_value(c, what, false, &p->vids[0]));
        CML_TRY(const_from_pb(c, e->value, &c->g->values[p->vids[0]], what));
    }
    return CML_OK;
}

static cml_status build_op(compiler *c, const pb_op *op, cml_mil_node *node, const char *loc,
                           uint32_t index, unsigned depth) {
    if (!op) return cml_fail(c->err, CML_ERR_CORRUPT, "%s op #%u is empty", loc, index);
    node->type = own_str(c, op->type);
    node->name = own_str(c, op_name(op));
    if (!node->type || !node->name) return CML_ERR_NOMEM;
    if (!*node->type) return cml_fail(c->err, CML_ERR_CORRUPT, "%s op #%u has no type", loc, index);
    node->def = cml_mil_op_find(node->type);
    if (!node->def) note_unsupported(c, node, loc, index);
    cml_status st = bind_params(c, op, node);
    if (st != CML_OK) {
        cml_error_prefix(c->err, "%s op #%u '%s' (%s): ", loc, index, node->name, node->type);
        return st;
    }
    node->nblocks = (uint32_t)op->n_blocks;
    node->blocks = own_alloc(c, op->n_blocks, sizeof *node->blocks);
    if (!node->blocks) return CML_ERR_NOMEM;
    for (uint32_t b = 0; b < node->nblocks; b++) {
        char sub[LOC_SIZE];
        snprintf(sub, sizeof sub, "%s op #%u (%s) block %u", loc, index, node->type, b);
        CML_TRY(build_block(c, op->blocks[b], &node->blocks[b], sub, depth + 1));
    }
    node->noutputs = (uint32_t)op->n_outputs;
    node->outputs = own_alloc(c, op->n_outputs, sizeof *node->outputs);
    if (!node->outputs) return CML_ERR_NOMEM;
    for (uint32_t i = 0; i < node->noutputs; i++) {
        const pb_nvt *o = op->outputs[i];
        st = new_value(c, o ? o->name : NULL, true, &node->outputs[i]);
        if (st != CML_OK) {
            cml_error_prefix(c->err, "%s op #%u '%s' (%s) output %u: ", loc, index, node->name,
                             node->type, i);
            return st;
        }
        c->decl[node->outputs[i]] = o->type;
    }
    if (node->def == &cml_mil_op_const) {
        if (node->noutputs != 1 || node->nparams != 0)
            return cml_fail(c->err, CML_ERR_CORRUPT,
                            "%s op #%u '%s' (const): expected no inputs and 1 output", loc, index,
                            node->name);
        char what[LOC_SIZE + 64];
        snprintf(what, sizeof what, "%s op #%u '%s' (const) 'val'", loc, index, node->name);
        CML_TRY(const_from_pb(c, op_attr(op, "val"), &c->g->values[node->outputs[0]], what));
        node->folded = true;
    }
    return CML_OK;
}

static cml_status build_block(compiler *c, const pb_block *pb, cml_mil_block *blk,
                              const char *loc, unsigned depth) {
    if (!pb) return cml_fail(c->err, CML_ERR_CORRUPT, "%s is empty", loc);
    if (depth > 32) return cml_fail(c->err, CML_ERR_UNSUPPORTED, "%s: blocks nested too deeply", loc);
    cml_mil_graph *g = c->g;
    uint32_t scope = g->nvalues;
    blk->ninputs = (uint32_t)pb->n_inputs;
    blk->inputs = own_alloc(c, pb->n_inputs, sizeof *blk->inputs);
    blk->nnodes = (uint32_t)pb->n_operations;
    blk->nodes = own_alloc(c, pb->n_operations, sizeof *blk->nodes);
    blk->noutputs = (uint32_t)pb->n_outputs;
    blk->outputs = own_alloc(c, pb->n_outputs, sizeof *blk->outputs);
    if (!blk->inputs || !blk->nodes || !blk->outputs) return CML_ERR_NOMEM;
    for (uint32_t i = 0; i < blk->ninputs; i++) {
        const pb_nvt *in = pb->inputs[i];
        cml_status st = new_value(c, in ? in->name : NULL, true, &blk->inputs[i]);
        if (st != CML_OK) {
            cml_error_prefix(c->err, "%s input %u: ", loc, i);
            return st;
        }
        c->decl[blk->inputs[i]] = in->type;
    }
    for (uint32_t i = 0; i < blk->nnodes; i++)
        CML_TRY(build_op(c, pb->operations[i], &blk->nodes[i], loc, i, depth));
    for (uint32_t i = 0; i < blk->noutputs; i++) {
        const char *name = pb->outputs[i] ? pb->outputs[i] : "";
        blk->outputs[i] = lookup(c, name);
        if (blk->outputs[i] == CML_MIL_NONE)
            return cml_fail(c->err, CML_ERR_CORRUPT, "%s: output '%s' is not defined", loc, name);
    }
    if (depth > 0) /* values of a nested block are not visible after it */
        for (uint32_t v = scope; v < g->nvalues; v++) c->hidden[v] = 1;
    return CML_OK;
}

/* -------------------------------------------------------------- infer */

static bool foldable(const cml_mil_graph *g, const cml_mil_node *node) {
    if (node->def->no_fold || node->nblocks) return false;
    for (uint32_t i = 0; i < node->nparams; i++)
        for (uint32_t k = 0; k < node->params[i].count; k++) {
            const cml_mil_value *v = &g->values[node->params[i].vids[k]];
            if (v->kind == CML_MIL_KIND_STATE || (v->kind == CML_MIL_KIND_TENSOR && !v->is_const))
                return false;
        }
    for (uint32_t i = 0; i < node->noutputs; i++)
        if (g->values[node->outputs[i]].kind != CML_MIL_KIND_TENSOR) return false;
    return true;
}

static cml_status fold(compiler *c, cml_mil_node *node) {
    cml_mil_graph *g = c->g;
    for (uint32_t i = 0; i < node->noutputs; i++) {
        cml_mil_value *v = &g->values[node->outputs[i]];
        v->data = own_alloc(c, 1, v->capacity);
        if (!v->data) return CML_ERR_NOMEM;
    }
    void *scratch = NULL;
    if (node->scratch) {
        scratch = cml_malloc(g->allocator, node->scratch);
        if (!scratch)
            return cml_fail(c->err, CML_ERR_NOMEM, "out of memory (%zu bytes of scratch)",
                            node->scratch);
    }
    cml_mil_ctx ctx = {.g = g, .err = c->err, .scratch = scratch, .scratch_size = node->scratch,
                       .compiling = true};
    cml_status st = node->def->run(&ctx, node);
    cml_free(g->allocator, scratch);
    if (st != CML_OK) return st;
    for (uint32_t i = 0; i < node->noutputs; i++) {
        cml_mil_value *v = &g->values[node->outputs[i]];
        cml_mil_round_value(v);
        v->is_const = true;
        v->dynamic = false;
    }
    node->folded = true;
    return CML_OK;
}

static cml_status infer_block(compiler *c, cml_mil_block *blk, const char *loc);

static cml_status type_block_inputs(compiler *c, cml_mil_node *node, cml_mil_block *blk) {
    const cml_mil_param *vars =
        node->def == &cml_mil_op_while_loop ? cml_mil_param_find(node, "loop_vars") : NULL;
    for (uint32_t i = 0; i < blk->ninputs; i++) {
        cml_mil_value *v = &c->g->values[blk->inputs[i]];
        if (vars && i < vars->count) {
            const cml_mil_value *src = &c->g->values[vars->vids[i]];
            if (src->kind != CML_MIL_KIND_TENSOR)
                return cml_fail(c->err, CML_ERR_UNSUPPORTED, "loop variable %u is not a tensor", i);
            v->kind = src->kind;
            v->dtype = src->dtype;
            v->fp16 = src->fp16;
            v->rank = src->rank;
            memcpy(v->shape, src->bound, sizeof v->shape);
            memcpy(v->bound, src->bound, sizeof v->bound);
            v->dynamic = src->dynamic;
            v->capacity = src->capacity;
        } else {
            CML_TRY(type_from_decl(c, v, c->decl[blk->inputs[i]], NULL));
        }
        v->needs_buffer = true;
    }
    return CML_OK;
}

static cml_status infer_node(compiler *c, cml_mil_node *node, const char *loc, uint32_t index) {
    cml_mil_graph *g = c->g;
    for (uint32_t b = 0; b < node->nblocks; b++) {
        char sub[LOC_SIZE];
        snprintf(sub, sizeof sub, "%s op #%u (%s) block %u", loc, index, node->type, b);
        CML_TRY(type_block_inputs(c, node, &node->blocks[b]));
        CML_TRY(infer_block(c, &node->blocks[b], sub));
    }
    for (uint32_t i = 0; i < node->nparams; i++)
        for (uint32_t k = 0; k < node->params[i].count; k++) {
            const cml_mil_value *v = &g->values[node->params[i].vids[k]];
            if (v->kind == CML_MIL_KIND_TENSOR && !v->is_const && v->capacity == 0 && v->rank == 0)
                return cml_fail(c->err, CML_ERR_CORRUPT,
                                "parameter '%s' uses value '%s' before it has a type",
                                node->params[i].name, v->name);
        }
    cml_mil_ctx ctx = {.g = g, .err = c->err, .compiling = true};
    CML_TRY(node->def->infer(&ctx, node));
    for (uint32_t i = 0; i < node->noutputs; i++) {
        const cml_mil_value *v = &g->values[node->outputs[i]];
        if (v->kind == CML_MIL_KIND_TENSOR && v->capacity == 0 && v->rank == 0)
            return cml_fail(c->err, CML_ERR_INTERNAL, "op '%s' (%s) did not type output %u",
                            node->name, node->type, i);
    }
    if (foldable(g, node)) return fold(c, node);
    if (cml_mil_compressed_deferred(node)) return CML_OK; /* decoded by its consumer at run */
    for (uint32_t i = 0; i < node->noutputs; i++) g->values[node->outputs[i]].needs_buffer = true;
    return CML_OK;
}

static cml_status infer_block(compiler *c, cml_mil_block *blk, const char *loc) {
    for (uint32_t i = 0; i < blk->nnodes; i++) {
        cml_mil_node *node = &blk->nodes[i];
        if (node->folded) continue; /* const */
        cml_status st = infer_node(c, node, loc, i);
        if (st != CML_OK) {
            cml_error_prefix(c->err, "%s op #%u: ", loc, i);
            return st;
        }
    }
    return CML_OK;
}

/* ------------------------------------------------------------ function */

static cml_status add_inputs(compiler *c, const Cml__Coreml__MILSpec__Function *fn) {
    cml_mil_graph *g = c->g;
    g->ninputs = (uint32_t)fn->n_inputs;
    g->inputs = own_alloc(c, fn->n_inputs, sizeof *g->inputs);
    if (!g->inputs) return CML_ERR_NOMEM;
    for (uint32_t i = 0; i < g->ninputs; i++) {
        const pb_nvt *in = fn->inputs[i];
        CML_TRY(new_value(c, in ? in->name : NULL, true, &g->inputs[i]));
        cml_mil_value *v = &g->values[g->inputs[i]];
        const pb_vtype *vt = in->type;
        bool state = vt && vt->type_case == CML__COREML__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE;
        if (state) vt = vt->statetype ? vt->statetype->wrappedtype : NULL;
        const cml_mil_input_bound *bound = NULL;
        for (uint32_t k = 0; k < c->nbounds; k++)
            if (c->bounds[k].name && strcmp(c->bounds[k].name, v->name) == 0) bound = &c->bounds[k];
        cml_status st = type_from_decl(c, v, vt, bound);
        if (st != CML_OK) {
            cml_error_prefix(c->err, "function input %u: ", i);
            return st;
        }
        if (state) {
            if (v->dynamic)
                return cml_fail(c->err, CML_ERR_UNSUPPORTED, "state '%s' has a dynamic shape",
                                v->name);
            v->kind = CML_MIL_KIND_STATE;
            v->data = own_alloc(c, 1, v->capacity);
            if (!v->data) return CML_ERR_NOMEM;
        } else {
            v->needs_buffer = true;
        }
    }
    return CML_OK;
}

void cml_mil_graph_free(cml_mil_graph *g) {
    if (!g) return;
    const cml_allocator *a = g->allocator;
    for (uint32_t i = 0; i < g->nowned; i++) cml_free(a, g->owned[i]);
    cml_free(a, g->owned);
    cml_free(a, g->values);
    cml_free(a, g->arena);
    cml_free(a, g->scratch);
    memset(g, 0, sizeof *g);
    g->allocator = a;
}

cml_mil_vid cml_mil_find_input(const cml_mil_graph *g, const char *name) {
    for (uint32_t i = 0; i < g->ninputs; i++)
        if (strcmp(g->values[g->inputs[i]].name, name) == 0) return g->inputs[i];
    return CML_MIL_NONE;
}

void cml_mil_reset_states(cml_mil_graph *g) {
    for (uint32_t i = 0; i < g->ninputs; i++) {
        cml_mil_value *v = &g->values[g->inputs[i]];
        if (v->kind == CML_MIL_KIND_STATE && v->data) memset(v->data, 0, v->capacity);
    }
}

/* The upper bounds every op was validated at, kept for callers (the values'
 * own bounds follow the shapes bound later, replan.c). */
static cml_status record_limits(compiler *c) {
    cml_mil_graph *g = c->g;
    g->input_limit = own_alloc(c, g->ninputs, sizeof *g->input_limit);
    g->output_limit = own_alloc(c, g->main.noutputs, sizeof *g->output_limit);
    if (!g->input_limit || !g->output_limit) return CML_ERR_NOMEM;
    for (uint32_t i = 0; i < g->ninputs; i++)
        memcpy(g->input_limit[i], g->values[g->inputs[i]].bound, sizeof g->input_limit[i]);
    for (uint32_t i = 0; i < g->main.noutputs; i++)
        memcpy(g->output_limit[i], g->values[g->main.outputs[i]].bound, sizeof g->output_limit[i]);
    g->owned_base = g->nowned; /* later re-inferences free their attrs from here */
    return CML_OK;
}

/* Inputs with a default shape below their bounds: shapes are propagated
 * again from the defaults so that load plans memory for them. */
static cml_status apply_defaults(compiler *c) {
    cml_mil_graph *g = c->g;
    bool changed = false;
    for (uint32_t k = 0; k < c->nbounds; k++) {
        const cml_mil_input_bound *b = &c->bounds[k];
        cml_mil_vid vid = b->has_default && b->name ? cml_mil_find_input(g, b->name) : CML_MIL_NONE;
        if (vid == CML_MIL_NONE || g->values[vid].kind != CML_MIL_KIND_TENSOR ||
            !g->values[vid].dynamic || b->rank != g->values[vid].rank ||
            !memcmp(b->def, g->values[vid].bound, sizeof(int64_t) * (size_t)b->rank))
            continue;
        cml_status st = cml_mil_set_input_shape(g, vid, b->rank, b->def, c->err);
        if (st != CML_OK) {
            cml_error_prefix(c->err, "default shape: ");
            return st;
        }
        changed = true;
    }
    if (!changed || cml_mil_reinfer(g, c->err) == CML_OK) return CML_OK;
    /* A default some op rejects: plan for the bounds, which did infer. */
    if (c->err) memset(c->err, 0, sizeof *c->err);
    for (uint32_t i = 0; i < g->ninputs; i++) {
        cml_mil_value *v = &g->values[g->inputs[i]];
        if (v->kind == CML_MIL_KIND_TENSOR && v->dynamic)
            CML_TRY(cml_mil_set_input_shape(g, g->inputs[i], v->rank, g->input_limit[i], c->err));
    }
    return cml_mil_reinfer(g, c->err);
}

static cml_status compile(compiler *c, const Cml__Coreml__MILSpec__Function *fn) {
    cml_mil_graph *g = c->g;
    const pb_block *body = NULL;
    for (size_t i = 0; i < fn->n_block_specializations; i++) {
        const Cml__Coreml__MILSpec__Function__BlockSpecializationsEntry *e =
            fn->block_specializations[i];
        if (e && e->key && fn->opset && strcmp(e->key, fn->opset) == 0) body = e->value;
    }
    if (!body)
        return cml_fail(c->err, CML_ERR_CORRUPT, "function has no block for its opset '%s'",
                        fn->opset ? fn->opset : "");
    g->opset = cml_mil_opset_number(fn->opset);
    if (!g->opset)
        return cml_fail(c->err, CML_ERR_UNSUPPORTED, "unknown opset '%s'", fn->opset);
    size_t total = fn->n_inputs + count_block(body, 0) + 1;
    if (total > UINT32_MAX / 4) return cml_fail(c->err, CML_ERR_UNSUPPORTED, "program too large");
    g->values_cap = (uint32_t)total;
    g->values = cml_calloc(g->allocator, total, sizeof *g->values);
    c->nbuckets = 16;
    while (c->nbuckets < 2 * total) c->nbuckets *= 2;
    c->buckets = cml_malloc(g->allocator, c->nbuckets * sizeof *c->buckets);
    c->next = cml_calloc(g->allocator, total, sizeof *c->next);
    c->hidden = cml_calloc(g->allocator, total, 1);
    c->decl = cml_calloc(g->allocator, total, sizeof *c->decl);
    if (!g->values || !c->buckets || !c->next || !c->hidden || !c->decl)
        return cml_fail(c->err, CML_ERR_NOMEM, "out of memory for %zu values", total);
    memset(c->buckets, 0xff, c->nbuckets * sizeof *c->buckets);

    CML_TRY(add_inputs(c, fn));
    CML_TRY(build_block(c, body, &g->main, "main block", 0));
    if (c->nunsupported_ops) {
        if (c->nunsupported_types > 1 || c->nunsupported_ops > 1) {
            size_t used = strlen(c->unsupported);
            snprintf(c->unsupported + used, sizeof c->unsupported - used,
                     " (%u unsupported ops of %u types)", c->nunsupported_ops,
                     c->nunsupported_types);
        }
        return cml_fail(c->err, CML_ERR_UNSUPPORTED, "%s", c->unsupported);
    }
    CML_TRY(unpack_for_consumers(c));
    CML_TRY(widen_for_consumers(c));
    CML_TRY(cml_mil_compressed_mark(g, c->err)); /* compressed.h: before folding */
    CML_TRY(infer_block(c, &g->main, "main block"));
    cml_mil_compressed_release(g);
    CML_TRY(cml_mil_prepack_linear(g, c->err));
    cml_mil_fuse_activations(g);
    cml_mil_fuse_residual(g);
    cml_mil_state_inplace(g); /* state_inplace.h: KV-cache updates without copies */
    for (uint32_t i = 0; i < g->main.noutputs; i++) {
        const cml_mil_value *v = &g->values[g->main.outputs[i]];
        if (v->kind != CML_MIL_KIND_TENSOR)
            return cml_fail(c->err, CML_ERR_UNSUPPORTED, "output '%s' is not a tensor", v->name);
    }
    CML_TRY(record_limits(c));
    CML_TRY(apply_defaults(c));
    return cml_mil_plan(g, c->err);
}

cml_status cml_mil_compile(const Cml__Coreml__MILSpec__Function *function,
                           cml_mlpackage *pkg, const cml_mil_input_bound *bounds,
                           uint32_t nbounds, const cml_allocator *allocator, cml_mil_graph *g,
                           cml_error *err) {
    memset(g, 0, sizeof *g);
    g->allocator = allocator;
    if (!function) return cml_fail(err, CML_ERR_INVALID_ARG, "no function");
    compiler c = {.g = g, .pkg = pkg, .err = err, .bounds = bounds, .nbounds = nbounds};
    cml_status st = compile(&c, function);
    cml_free(allocator, c.buckets);
    cml_free(allocator, c.next);
    cml_free(allocator, c.hidden);
    cml_free(allocator, c.decl);
    if (st != CML_OK) cml_mil_graph_free(g);
    return st;
}
