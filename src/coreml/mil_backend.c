/*
 * CoreMLBackend: runs the ML Program of a Core ML delegate payload on the
 * CPU, following the upstream runtime contract
 * (shared/reference/coreml-delegate.md section 8):
 *   - init: payload (CMJR -> named data, else the inmemoryfs image) ->
 *     metadata.json + model.mlpackage -> the method's function, compiled
 *     once; compute_units from the compile spec or the runtime override;
 *   - execute: args = metadata inputs then outputs; inputs converted to the
 *     ML Program's dtypes (int64 -> int32, fp32 -> fp16, ...), rank-0 shown
 *     as [1], flexible shapes checked (ranges, enumerated shapes); outputs
 *     converted back and resized to the computed shape (rank-0 kept);
 *   - states start zeroed and persist across executions.
 * Nothing is allocated after init.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/tensor.h"
#include "core/profile.h"
#include "coreml/debug_info.h"
#include "coreml/mil_backend.h"
#include "coreml/payload.h"
#include "kernels/kernels.h"
#include "mil/compressed.h"
#include "mil/graph.h"

typedef Cml__Coreml__ArrayFeatureType pb_array_type;

typedef struct io_binding {
    const char *name;
    cml_mil_vid vid;
    cml_dtype desc_dtype;             /* description dtype (what callers see) */
    const pb_array_type *array;       /* the description's array type, or NULL */
    bool state;                       /* names a state (take_over_mutable_buffer=False
                                         with coremltools turning the buffer into a state) */
    const int64_t *limit;             /* declared upper bounds (graph input_limit / output_limit) */
    int64_t def[CML_MAX_DIMS];        /* inputs: default shape (choose_default) */
} io_binding;

typedef struct coreml_handle {
    const cml_allocator *allocator;
    bool owns_payload;
    cml_coreml_payload payload;
    const char *function;
    cml_mil_graph g;
    io_binding *in, *out;
    uint32_t nin, nout, nstates;
    cml_compute_units units;
    cml_threadpool *pool;
    uint64_t budget;               /* bytes the arena may take; 0: none */
    int64_t *op_handles;           /* profiling: debug handle per main-block node
                                      (debug_info.h), made by profile_prepare */
} coreml_handle;

static const struct {
    const char *name;
    cml_compute_units units;
} kUnits[] = {
    {"all", CML_COMPUTE_ALL},
    {"cpu_only", CML_COMPUTE_CPU_ONLY},
    {"cpu_and_gpu", CML_COMPUTE_CPU_AND_GPU},
    {"cpu_and_ne", CML_COMPUTE_CPU_AND_NE},
};

const char *cml_coreml_units_name(cml_compute_units units) {
    if (units == CML_COMPUTE_DEFAULT) units = CML_COMPUTE_ALL;
    for (size_t i = 0; i < sizeof kUnits / sizeof kUnits[0]; i++)
        if (kUnits[i].units == units) return kUnits[i].name;
    return "unknown";
}

/* An info message through the program's log channel, never stderr. */
static void note_units(const cml_logger *log, cml_compute_units units) {
    if (units == CML_COMPUTE_CPU_ONLY) return;
    cml_log(log, CML_LOG_INFO,
            "CoreMLBackend: compute_units=%s requested; running on CPU (no GPU/Neural Engine "
            "backend here)", cml_coreml_units_name(units));
}

/* ------------------------------------------------------------- shapes */

static cml_dtype array_dtype(int datatype, cml_dtype fallback) {
    switch (datatype) {
    case CML__COREML__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT32: return CML_DTYPE_FLOAT32;
    case CML__COREML__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT16: return CML_DTYPE_FLOAT16;
    case CML__COREML__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__DOUBLE: return CML_DTYPE_FLOAT64;
    case CML__COREML__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__INT32: return CML_DTYPE_INT32;
    case CML__COREML__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__INT8: return CML_DTYPE_INT8;
    default: return fallback;
    }
}

static const pb_array_type *feature_array(const cml_pb_feature *f) {
    const Cml__Coreml__FeatureType *t = f ? f->type : NULL;
    if (!t) return NULL;
    if (t->type_case == CML__COREML__FEATURE_TYPE__TYPE_MULTI_ARRAY_TYPE)
        return t->multiarraytype;
    return NULL;
}

/* Whether `shape` (rank dims) is accepted by a flexible array type. */
static bool flexible_accepts(const pb_array_type *a, const int64_t *shape, size_t rank) {
    if (a->shape_flexibility_case ==
        CML__COREML__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_SHAPE_RANGE) {
        const Cml__Coreml__ArrayFeatureType__ShapeRange *r = a->shaperange;
        if (r->n_sizeranges != rank) return false;
        for (size_t d = 0; d < rank; d++)
            if (shape[d] < (int64_t)r->sizeranges[d]->lowerbound ||
                shape[d] > r->sizeranges[d]->upperbound)
                return false;
        return true;
    }
    const Cml__Coreml__ArrayFeatureType__EnumeratedShapes *e = a->enumeratedshapes;
    for (size_t k = 0; k < e->n_shapes; k++)
        if (e->shapes[k]->n_shape == rank &&
            !memcmp(e->shapes[k]->shape, shape, rank * sizeof *shape))
            return true;
    return false;
}

/* The shape memory is planned for at load, and what tools feed when given
 * no input: the description's own (default) shape when the flexibility
 * accepts it, else the range's lower bounds (at least 1) or the first
 * enumerated shape. */
static void choose_default(const pb_array_type *a, cml_mil_input_bound *b) {
    size_t rank = (size_t)b->rank;
    b->has_default = true;
    if (a->n_shape == rank && flexible_accepts(a, a->shape, rank)) {
        memcpy(b->def, a->shape, rank * sizeof *b->def);
        return;
    }
    if (a->shape_flexibility_case ==
        CML__COREML__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_ENUMERATED_SHAPES) {
        memcpy(b->def, a->enumeratedshapes->shapes[0]->shape, rank * sizeof *b->def);
        return;
    }
    for (size_t d = 0; d < rank; d++) {
        int64_t lo = (int64_t)a->shaperange->sizeranges[d]->lowerbound;
        b->def[d] = lo < 1 ? (b->bound[d] < 1 ? b->bound[d] : 1) : lo;
    }
}

/* Upper bounds of a flexible description input (range upper bounds, or the
 * elementwise max of the enumerated shapes) and its default shape
 * (choose_default). rank -1 when not flexible. */
static cml_status flexible_bound(const cml_pb_feature *f, cml_mil_input_bound *b, cml_error *err) {
    const pb_array_type *a = feature_array(f);
    b->name = f->name;
    b->rank = -1;
    if (!a) return CML_OK;
    if (a->shape_flexibility_case ==
            CML__COREML__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_SHAPE_RANGE &&
        a->shaperange) {
        const Cml__Coreml__ArrayFeatureType__ShapeRange *r = a->shaperange;
        if (r->n_sizeranges > CML_MAX_DIMS)
            return cml_fail(err, CML_ERR_CORRUPT, "input '%s': shape range of rank %zu", f->name,
                            r->n_sizeranges);
        b->rank = (int32_t)r->n_sizeranges;
        for (size_t d = 0; d < r->n_sizeranges; d++) {
            const Cml__Coreml__SizeRange *s = r->sizeranges[d];
            if (!s || s->upperbound < 0)
                return cml_fail(err, CML_ERR_UNSUPPORTED,
                                "input '%s': dimension %zu has no upper bound", f->name, d);
            if ((int64_t)s->lowerbound > s->upperbound)
                return cml_fail(err, CML_ERR_CORRUPT, "input '%s': dimension %zu range %llu..%lld",
                                f->name, d, (unsigned long long)s->lowerbound,
                                (long long)s->upperbound);
            b->bound[d] = s->upperbound;
        }
    } else if (a->shape_flexibility_case ==
                   CML__COREML__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_ENUMERATED_SHAPES &&
               a->enumeratedshapes && a->enumeratedshapes->n_shapes) {
        const Cml__Coreml__ArrayFeatureType__EnumeratedShapes *e = a->enumeratedshapes;
        for (size_t k = 0; k < e->n_shapes; k++) {
            const Cml__Coreml__ArrayFeatureType__Shape *s = e->shapes[k];
            if (!s || s->n_shape > CML_MAX_DIMS || (k && (int32_t)s->n_shape != b->rank))
                return cml_fail(err, CML_ERR_CORRUPT,
                                "input '%s': enumerated shapes of different ranks", f->name);
            b->rank = (int32_t)s->n_shape;
            for (size_t d = 0; d < s->n_shape; d++) {
                if (s->shape[d] < 0)
                    return cml_fail(err, CML_ERR_CORRUPT, "input '%s': negative enumerated dim",
                                    f->name);
                if (k == 0 || s->shape[d] > b->bound[d]) b->bound[d] = s->shape[d];
            }
        }
    }
    if (b->rank >= 0) choose_default(a, b);
    return CML_OK;
}

static void format_shape(char *buf, size_t size, const int64_t *dims, size_t rank) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (size_t d = 0; d < rank && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? ", " : "", (long long)dims[d]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

/* Checks a runtime input shape against the description's flexibility. */
static cml_status check_shape(const io_binding *b, const cml_mil_value *v, int32_t rank,
                              const int64_t *shape, cml_error *err) {
    char got[200];
    format_shape(got, sizeof got, shape, (size_t)rank);
    const pb_array_type *a = b->array;
    if (a && a->shape_flexibility_case ==
                 CML__COREML__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_ENUMERATED_SHAPES &&
        a->enumeratedshapes && a->enumeratedshapes->n_shapes) {
        const Cml__Coreml__ArrayFeatureType__EnumeratedShapes *e = a->enumeratedshapes;
        bool listed = false;
        for (size_t k = 0; k < e->n_shapes && !listed; k++) {
            const Cml__Coreml__ArrayFeatureType__Shape *s = e->shapes[k];
            if ((int32_t)s->n_shape != rank) continue;
            listed = true;
            for (int32_t d = 0; d < rank && listed; d++) listed = s->shape[d] == shape[d];
        }
        if (listed) goto general;
        char list[CML_ERRMSG_SIZE] = "";
        size_t used = 0;
        for (size_t k = 0; k < e->n_shapes && used < sizeof list; k++) {
            char one[200];
            format_shape(one, sizeof one, e->shapes[k]->shape, e->shapes[k]->n_shape);
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", one);
        }
        return cml_fail(err, CML_ERR_SHAPE, "input '%s' shape %s is not one of the enumerated shapes %s",
                        b->name, got, list);
    }
general:
    if (rank != v->rank)
        return cml_fail(err, CML_ERR_SHAPE, "input '%s': got rank %d %s, the model takes rank %d",
                        b->name, rank, got, v->rank);
    if (a && a->shape_flexibility_case ==
                 CML__COREML__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_SHAPE_RANGE &&
        a->shaperange && (int32_t)a->shaperange->n_sizeranges == rank) {
        for (int32_t d = 0; d < rank; d++) {
            const Cml__Coreml__SizeRange *s = a->shaperange->sizeranges[d];
            if (shape[d] < (int64_t)s->lowerbound || shape[d] > s->upperbound)
                return cml_fail(err, CML_ERR_SHAPE,
                                "input '%s' shape %s: dimension %d must be in [%llu, %lld]",
                                b->name, got, d, (unsigned long long)s->lowerbound,
                                (long long)s->upperbound);
        }
    }
    for (int32_t d = 0; d < rank; d++) {
        bool ok = v->dynamic ? shape[d] <= b->limit[d] : shape[d] == b->limit[d];
        if (!ok) {
            char want[200];
            format_shape(want, sizeof want, b->limit, (size_t)v->rank);
            return cml_fail(err, CML_ERR_SHAPE, "input '%s' shape %s does not match %s%s", b->name,
                            got, v->dynamic ? "the upper bound " : "the model's shape ", want);
        }
    }
    return CML_OK;
}

/* ------------------------------------------------------------- setup */

/* The declared upper bounds of a function input or main output (the
 * value's own bound follows the shapes bound at run, replan.c). */
static const int64_t *limit_of(const cml_mil_graph *g, cml_mil_vid vid) {
    for (uint32_t i = 0; i < g->ninputs; i++)
        if (g->inputs[i] == vid) return g->input_limit[i];
    for (uint32_t i = 0; i < g->main.noutputs; i++)
        if (g->main.outputs[i] == vid) return g->output_limit[i];
    return g->values[vid].bound;
}

static cml_status binding_default(io_binding *b, const cml_pb_feature *f,
                                  const cml_mil_value *v, cml_error *err) {
    memcpy(b->def, b->limit, sizeof b->def);
    cml_mil_input_bound fb;
    if (!f || b->state) return CML_OK;
    CML_TRY(flexible_bound(f, &fb, err));
    if (fb.rank == v->rank && fb.has_default)
        memcpy(b->def, fb.def, sizeof(int64_t) * (size_t)fb.rank);
    return CML_OK;
}

static cml_status bind_io(coreml_handle *h, const cml_mlmodel_io *iface,
                          const char *const *in_names, uint32_t nin,
                          const char *const *out_names, uint32_t nout, cml_error *err) {
    cml_mil_graph *g = &h->g;
    h->nin = nin;
    h->nout = nout;
    h->in = cml_calloc(h->allocator, nin ? nin : 1, sizeof *h->in);
    h->out = cml_calloc(h->allocator, nout ? nout : 1, sizeof *h->out);
    if (!h->in || !h->out) return cml_fail(err, CML_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < nin; i++) {
        io_binding *b = &h->in[i];
        b->name = in_names[i];
        b->vid = cml_mil_find_input(g, b->name);
        if (b->vid == CML_MIL_NONE)
            return cml_fail(err, CML_ERR_CORRUPT, "input '%s' is not an input of function '%s'",
                            b->name, h->function);
        b->state = g->values[b->vid].kind == CML_MIL_KIND_STATE;
        b->limit = limit_of(g, b->vid);
        const cml_mil_value *v = &g->values[b->vid];
        const cml_pb_feature *f = cml_mlmodel_find_feature(iface->inputs, iface->ninputs, b->name);
        b->array = feature_array(f);
        cml_dtype fallback = v->fp16 ? CML_DTYPE_FLOAT16 : v->dtype;
        b->desc_dtype = b->array ? array_dtype(b->array->datatype, fallback) : fallback;
        CML_TRY(binding_default(b, f, v, err));
    }
    for (uint32_t i = 0; i < nout; i++) {
        io_binding *b = &h->out[i];
        b->name = out_names[i];
        b->vid = CML_MIL_NONE;
        for (uint32_t k = 0; k < g->main.noutputs; k++)
            if (strcmp(g->values[g->main.outputs[k]].name, b->name) == 0) b->vid = g->main.outputs[k];
        if (b->vid == CML_MIL_NONE) { /* a state handed back as a buffer output */
            b->vid = cml_mil_find_input(g, b->name);
            b->state = b->vid != CML_MIL_NONE && g->values[b->vid].kind == CML_MIL_KIND_STATE;
            if (!b->state) b->vid = CML_MIL_NONE;
        }
        if (b->vid == CML_MIL_NONE)
            return cml_fail(err, CML_ERR_CORRUPT, "output '%s' is not an output of function '%s'",
                            b->name, h->function);
        b->limit = limit_of(g, b->vid);
        const cml_mil_value *v = &g->values[b->vid];
        const cml_pb_feature *f = cml_mlmodel_find_feature(iface->outputs, iface->noutputs, b->name);
        b->array = feature_array(f);
        cml_dtype fallback = v->fp16 ? CML_DTYPE_FLOAT16 : v->dtype;
        b->desc_dtype = b->array ? array_dtype(b->array->datatype, fallback) : fallback;
    }
    for (uint32_t i = 0; i < g->ninputs; i++)
        if (g->values[g->inputs[i]].kind == CML_MIL_KIND_STATE) h->nstates++;
    return CML_OK;
}

/* The program's memory budget bounds the activation arena: now (planned at
 * the default shapes) and whenever new input shapes re-plan it. */
static cml_status apply_budget(coreml_handle *h, cml_error *err) {
    h->g.memory_budget = h->budget;
    if (!h->budget) return CML_OK;
    uint64_t used = (uint64_t)h->g.arena_size + h->g.scratch_size;
    if (used <= h->budget) return CML_OK;
    return cml_fail(err, CML_ERR_UNSUPPORTED, "activation arena and scratch of %llu bytes at the "
                    "default input shapes exceed the memory budget of %llu bytes "
                    "(cml_program_params.memory_budget)", (unsigned long long)used,
                    (unsigned long long)h->budget);
}

static cml_status setup(coreml_handle *h, cml_mlpackage *pkg, const cml_pb_function *fn,
                        const cml_mlmodel_io *iface, const char *const *in_names, uint32_t nin,
                        const char *const *out_names, uint32_t nout, cml_error *err) {
    cml_mil_input_bound *bounds =
        cml_calloc(h->allocator, iface->ninputs ? iface->ninputs : 1, sizeof *bounds);
    if (!bounds) return cml_fail(err, CML_ERR_NOMEM, "out of memory");
    cml_status st = CML_OK;
    for (size_t i = 0; i < iface->ninputs && st == CML_OK; i++)
        st = flexible_bound(iface->inputs[i], &bounds[i], err);
    if (st == CML_OK)
        st = cml_mil_compile(fn, pkg, bounds, (uint32_t)iface->ninputs, h->allocator, &h->g, err);
    cml_free(h->allocator, bounds);
    if (st == CML_OK) st = apply_budget(h, err);
    if (st != CML_OK) {
        cml_error_prefix(err, "function '%s': ", h->function);
        return st;
    }
    return bind_io(h, iface, in_names, nin, out_names, nout, err);
}

static void handle_destroy(void *handle) {
    coreml_handle *h = handle;
    if (!h) return;
    const cml_allocator *a = h->allocator;
    cml_mil_graph_free(&h->g);
    cml_free(a, h->op_handles);
    cml_free(a, h->in);
    cml_free(a, h->out);
    if (h->owns_payload) cml_coreml_payload_close(&h->payload);
    cml_free(a, h);
}

static cml_status resolve_units(const cml_backend_init_ctx *ctx, const cml_pte_compile_spec *specs,
                                uint32_t nspecs, cml_compute_units *out) {
    cml_compute_units units = CML_COMPUTE_ALL;
    for (uint32_t i = 0; i < nspecs; i++) {
        const cml_pte_compile_spec *s = &specs[i];
        if (s->key.len != 13 || memcmp(s->key.ptr, "compute_units", 13) != 0) continue;
        bool found = false;
        for (size_t k = 0; k < sizeof kUnits / sizeof kUnits[0] && !found; k++)
            if (strlen(kUnits[k].name) == s->value_len &&
                memcmp(kUnits[k].name, s->value, s->value_len) == 0) {
                units = kUnits[k].units;
                found = true;
            }
        if (!found)
            return cml_fail(ctx->err, CML_ERR_CORRUPT,
                            "compile spec compute_units '%.*s' is not one of all, cpu_only, "
                            "cpu_and_gpu, cpu_and_ne",
                            (int)(s->value_len > 64 ? 64 : s->value_len), (const char *)s->value);
    }
    if (ctx->compute_units != CML_COMPUTE_DEFAULT) {
        if (!strcmp(cml_coreml_units_name(ctx->compute_units), "unknown"))
            return cml_fail(ctx->err, CML_ERR_INVALID_ARG, "compute units override %d is invalid",
                            (int)ctx->compute_units);
        units = ctx->compute_units;
    }
    *out = units;
    return CML_OK;
}

static cml_status backend_init(const cml_backend_init_ctx *ctx, const uint8_t *processed,
                               size_t size, const cml_pte_compile_spec *specs, uint32_t nspecs,
                               void **handle) {
    cml_compute_units units = CML_COMPUTE_ALL;
    CML_TRY(resolve_units(ctx, specs, nspecs, &units));
    coreml_handle *h = cml_calloc(ctx->allocator, 1, sizeof *h);
    if (!h) return cml_fail(ctx->err, CML_ERR_NOMEM, "out of memory");
    h->allocator = ctx->allocator;
    h->units = units;
    h->pool = ctx->pool;
    h->budget = ctx->memory_budget;
    cml_status st = cml_coreml_payload_open(ctx->program, processed, size, ctx->method_name,
                                            ctx->allocator, &h->payload, ctx->err);
    if (st != CML_OK) {
        cml_free(ctx->allocator, h);
        return st;
    }
    h->owns_payload = true;
    cml_coreml_payload *p = &h->payload;
    h->function = p->function_name;
    st = setup(h, &p->package, p->function, &p->interface, p->io->input_names, p->io->ninputs,
               p->io->output_names, p->io->noutputs, ctx->err);
    if (st != CML_OK) {
        handle_destroy(h);
        return st;
    }
    h->g.max_loop_iterations = ctx->max_steps;
    note_units(ctx->log, units);
    *handle = h;
    return CML_OK;
}

void cml_coreml_set_max_steps(void *handle, uint32_t max_steps) {
    ((coreml_handle *)handle)->g.max_loop_iterations = max_steps;
}

cml_status cml_coreml_open_function(cml_mlpackage *pkg, const char *function,
                                    const cml_allocator *allocator, cml_compute_units units,
                                    cml_threadpool *pool, const cml_logger *log, uint64_t budget,
                                    void **handle, cml_error *err) {
    if (!function) function = cml_mlpackage_default_function(pkg);
    const cml_pb_function *fn = cml_mlprogram_function(pkg->program, function);
    if (!fn) return cml_fail(err, CML_ERR_NOT_FOUND, "the program has no function '%s'", function);
    cml_mlmodel_io iface;
    CML_TRY(cml_mlpackage_interface(pkg, function, &iface, err));
    coreml_handle *h = cml_calloc(allocator, 1, sizeof *h);
    const char **names = cml_calloc(allocator, iface.ninputs + iface.noutputs + 1, sizeof *names);
    if (!h || !names) {
        cml_free(allocator, h);
        cml_free(allocator, names);
        return cml_fail(err, CML_ERR_NOMEM, "out of memory");
    }
    h->allocator = allocator;
    h->units = units == CML_COMPUTE_DEFAULT ? CML_COMPUTE_ALL : units;
    h->pool = pool;
    h->budget = budget;
    h->function = iface.function ? iface.function : function;
    for (size_t i = 0; i < iface.ninputs; i++) names[i] = iface.inputs[i]->name;
    for (size_t i = 0; i < iface.noutputs; i++) names[iface.ninputs + i] = iface.outputs[i]->name;
    cml_status st = setup(h, pkg, fn, &iface, names, (uint32_t)iface.ninputs,
                          names + iface.ninputs, (uint32_t)iface.noutputs, err);
    cml_free(allocator, names); /* bindings keep the feature names themselves */
    if (st != CML_OK) {
        handle_destroy(h);
        return st;
    }
    note_units(log, h->units);
    *handle = h;
    return CML_OK;
}

/* ------------------------------------------------------------- execute */

static bool arg_dtype_ok(cml_dtype t) {
    switch (t) {
    case CML_DTYPE_BOOL: case CML_DTYPE_UINT8: case CML_DTYPE_INT8: case CML_DTYPE_INT16:
    case CML_DTYPE_INT32: case CML_DTYPE_INT64: case CML_DTYPE_FLOAT16: case CML_DTYPE_FLOAT32:
    case CML_DTYPE_FLOAT64: return true;
    default: return false;
    }
}

static cml_status arg_tensor(cml_evalue *arg, bool output, uint32_t i, const char *name,
                             cml_error *err, cml_tensor **out) {
    if (!arg || arg->kind != CML_VALUE_TENSOR || !arg->u.t)
        return cml_fail(err, CML_ERR_INVALID_ARG, "%s %u ('%s') is not a tensor",
                        output ? "output" : "input", i, name);
    cml_tensor *t = arg->u.t;
    if (!arg_dtype_ok(t->dtype))
        return cml_fail(err, CML_ERR_UNSUPPORTED, "%s %u ('%s'): dtype %s is not supported",
                        output ? "output" : "input", i, name, cml_dtype_name(t->dtype));
    *out = t;
    return CML_OK;
}

/* Converts n logical elements between a contiguous MIL buffer and an
 * ExecuTorch tensor laid out by its dim order (strides), in either direction,
 * as the upstream delegate builds its arrays from strides. Rows of the
 * innermost logical dim convert in one call where both sides are unit-stride;
 * other layouts convert element by element. No allocation. */
static bool convert_strided(const cml_tensor *t, void *mil, cml_dtype mil_dtype, bool to_mil) {
    if (cml_tensor_is_contiguous(t) || t->rank < 2) {
        size_t n = (size_t)cml_tensor_numel(t);
        return to_mil ? cml_k_convert(t->dtype, t->data, mil_dtype, mil, n)
                      : cml_k_convert(mil_dtype, mil, t->dtype, t->data, n);
    }
    int64_t strides[CML_MAX_DIMS], idx[CML_MAX_DIMS] = {0};
    cml_tensor_strides(t, strides);
    size_t tes = cml_dtype_size(t->dtype), mes = cml_dtype_size(mil_dtype);
    int32_t last = t->rank - 1;
    int64_t inner = t->sizes[last], rows = inner ? cml_tensor_numel(t) / inner : 0;
    uint8_t *tb = t->data, *mb = mil;
    for (int64_t r = 0; r < rows; r++) {
        int64_t off = 0;
        for (int32_t d = 0; d < last; d++) off += idx[d] * strides[d];
        for (int64_t k = 0; k < inner; k++) {
            uint8_t *te = tb + (size_t)(off + k * strides[last]) * tes;
            uint8_t *me = mb + (size_t)(r * inner + k) * mes;
            bool ok = to_mil ? cml_k_convert(t->dtype, te, mil_dtype, me, 1)
                             : cml_k_convert(mil_dtype, me, t->dtype, te, 1);
            if (!ok) return false;
        }
        for (int32_t d = last - 1; d >= 0 && ++idx[d] == t->sizes[d]; d--) idx[d] = 0;
    }
    return true;
}

/* The shape tensor t has as the ML Program input v sees it. */
static const int64_t *program_shape(const cml_mil_value *v, const cml_tensor *t, int32_t *rank) {
    static const int64_t kOne = 1;
    *rank = t->rank;
    if (t->rank == 0 && v->rank == 1) { /* rank-0 tensors are presented as [1] */
        *rank = 1;
        return &kOne;
    }
    if (v->rank == 0 && t->rank == 1 && t->sizes[0] == 1) *rank = 0; /* and [1] feeds a scalar */
    return t->sizes;
}

/* Flexible inputs: when the bound shapes differ from those memory was
 * planned for, shapes are propagated again and the arena re-planned
 * (replan.c) before any input is copied in. The only allocation of an
 * execute, and only when shapes changed. */
static cml_status ensure_plan(coreml_handle *h, cml_evalue **args, cml_error *err) {
    cml_mil_graph *g = &h->g;
    bool changed = !g->planned;
    for (uint32_t i = 0; i < h->nin; i++) {
        const io_binding *b = &h->in[i];
        const cml_mil_value *v = &g->values[b->vid];
        if (b->state || !v->dynamic) continue;
        cml_tensor *t = NULL;
        CML_TRY(arg_tensor(args[i], false, i, b->name, err, &t));
        int32_t rank;
        const int64_t *shape = program_shape(v, t, &rank);
        CML_TRY(check_shape(b, v, rank, shape, err));
        changed = changed || memcmp(shape, v->bound, sizeof *shape * (size_t)rank) != 0;
    }
    if (!changed) return CML_OK;
    for (uint32_t i = 0; i < h->nin; i++) {
        const io_binding *b = &h->in[i];
        const cml_mil_value *v = &g->values[b->vid];
        if (b->state || !v->dynamic) continue;
        int32_t rank;
        const int64_t *shape = program_shape(v, args[i]->u.t, &rank);
        CML_TRY(cml_mil_set_input_shape(g, b->vid, rank, shape, err));
    }
    return cml_mil_replan(g, err);
}

static cml_status set_input(coreml_handle *h, const io_binding *b, uint32_t i, const cml_tensor *t,
                            cml_error *err) {
    cml_mil_value *v = &h->g.values[b->vid];
    int32_t rank;
    const int64_t *shape = program_shape(v, t, &rank);
    if (b->state) { /* the buffer's current contents become the state */
        int64_t n = 1;
        for (int32_t d = 0; d < rank; d++) n *= shape[d];
        if (n != cml_mil_numel(v))
            return cml_fail(err, CML_ERR_SHAPE, "input %u ('%s'): %lld elements for a state of %lld",
                            i, b->name, (long long)n, (long long)cml_mil_numel(v));
    } else {
        CML_TRY(check_shape(b, v, rank, shape, err));
        cml_mil_ctx ctx = {.g = &h->g, .err = err};
        CML_TRY(cml_mil_resize(&ctx, v, rank, shape));
    }
    size_t n = (size_t)cml_mil_numel(v);
    if (n && !convert_strided(t, v->data, v->dtype, true))
        return cml_fail(err, CML_ERR_UNSUPPORTED, "input %u ('%s'): cannot convert %s to %s", i,
                        b->name, cml_dtype_name(t->dtype), cml_dtype_name(v->dtype));
    cml_mil_round_value(v);
    return CML_OK;
}

static cml_status get_output(coreml_handle *h, const io_binding *b, uint32_t i, cml_tensor *t,
                             cml_error *err) {
    const cml_mil_value *v = &h->g.values[b->vid];
    size_t n = (size_t)cml_mil_numel(v);
    if (!(t->rank == 0 && n == 1)) {
        cml_status st = cml_tensor_resize(t, v->rank, v->shape, err);
        if (st != CML_OK) {
            cml_error_prefix(err, "output %u ('%s'): ", i, b->name);
            return st;
        }
    }
    if (n && !convert_strided(t, v->data, v->dtype, false))
        return cml_fail(err, CML_ERR_UNSUPPORTED, "output %u ('%s'): cannot convert %s to %s", i,
                        b->name, cml_dtype_name(v->dtype), cml_dtype_name(t->dtype));
    return CML_OK;
}

static cml_status backend_execute(void *handle, cml_kernel_ctx *kctx, cml_evalue **args,
                                  uint32_t nargs) {
    coreml_handle *h = handle;
    cml_error *err = kctx->err;
    if (nargs != h->nin + h->nout)
        return cml_fail(err, CML_ERR_INVALID_ARG,
                        "%u delegate args, but the model has %u inputs and %u outputs", nargs,
                        h->nin, h->nout);
    CML_TRY(ensure_plan(h, args, err));
    for (uint32_t i = 0; i < h->nin; i++) {
        cml_tensor *t = NULL;
        CML_TRY(arg_tensor(args[i], false, i, h->in[i].name, err, &t));
        CML_TRY(set_input(h, &h->in[i], i, t, err));
    }
    for (uint32_t i = 0; i < h->nout; i++) {
        cml_tensor *t = NULL;
        CML_TRY(arg_tensor(args[h->nin + i], true, i, h->out[i].name, err, &t));
    }
    cml_prof *prof = kctx->prof;
    h->g.prof = prof;
    if (prof) {
        prof->op_handles = h->op_handles;
        prof->nop_handles = h->op_handles ? h->g.main.nnodes : 0;
    }
    CML_TRY(cml_mil_run(&h->g, kctx->pool ? kctx->pool : h->pool, err));
    for (uint32_t i = 0; i < h->nout; i++)
        CML_TRY(get_output(h, &h->out[i], i, args[h->nin + i]->u.t, err));
    return CML_OK;
}

static cml_status backend_reset_state(void *handle) {
    coreml_handle *h = handle;
    if (h) cml_mil_reset_states(&h->g);
    return CML_OK;
}

static void backend_describe(void *handle, FILE *out) {
    const coreml_handle *h = handle;
    if (!h || !out) return;
    uint32_t nodes = 0, folded = 0;
    for (uint32_t i = 0; i < h->g.main.nnodes; i++) {
        const cml_mil_node *n = &h->g.main.nodes[i];
        if (strcmp(n->type, "const") == 0) continue;
        nodes++;
        folded += n->folded;
    }
    fprintf(out,
            "CoreMLBackend: ML Program function '%s' (opset %d), %u ops (%u folded), %u inputs, "
            "%u outputs, %u states, %zu-byte arena; compute_units=%s",
            h->function ? h->function : "", h->g.opset, nodes, folded, h->nin, h->nout,
            h->nstates, h->g.arena_size, cml_coreml_units_name(h->units));
    if (h->units != CML_COMPUTE_CPU_ONLY)
        fprintf(out, " requested; running on CPU (no GPU/Neural Engine backend here)");
    else
        fprintf(out, "; running on CPU");
    cml_mil_describe_weights(&h->g, out); /* mil/compressed.h */
}

/* backend input_shape: min / max / default and enumerated shapes. */
static cml_status backend_input_shape(const void *handle, uint32_t index,
                                      cml_backend_input_shape *out, int64_t *enumerated,
                                      size_t cap) {
    const coreml_handle *h = handle;
    if (!h || index >= h->nin) return CML_ERR_INVALID_ARG;
    const io_binding *b = &h->in[index];
    const cml_mil_value *v = &h->g.values[b->vid];
    size_t rank = (size_t)v->rank;
    out->rank = v->rank;
    out->nenumerated = 0;
    memcpy(out->max, b->limit, sizeof out->max);
    memcpy(out->min, b->limit, sizeof out->min);
    memcpy(out->def, b->def, sizeof out->def);
    const pb_array_type *a = b->array;
    if (!a || b->state) return CML_OK;
    if (a->shape_flexibility_case ==
            CML__COREML__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_SHAPE_RANGE &&
        a->shaperange && a->shaperange->n_sizeranges == rank) {
        for (size_t d = 0; d < rank; d++) {
            uint64_t lo = a->shaperange->sizeranges[d]->lowerbound;
            out->min[d] = lo < (uint64_t)out->max[d] ? (int64_t)lo : out->max[d];
        }
    } else if (a->shape_flexibility_case ==
                   CML__COREML__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_ENUMERATED_SHAPES &&
               a->enumeratedshapes) {
        const Cml__Coreml__ArrayFeatureType__EnumeratedShapes *e = a->enumeratedshapes;
        for (size_t k = 0; k < e->n_shapes; k++) {
            if (e->shapes[k]->n_shape != rank) continue; /* rank-0 shown as [1]: not listed */
            for (size_t d = 0; d < rank; d++)
                if (e->shapes[k]->shape[d] < out->min[d]) out->min[d] = e->shapes[k]->shape[d];
            if (out->nenumerated < cap)
                memcpy(enumerated + out->nenumerated * rank, e->shapes[k]->shape,
                       rank * sizeof *enumerated);
            out->nenumerated++;
        }
    }
    return CML_OK;
}

static bool backend_available(void) { return true; }

/* Ops that run in a block and the blocks nested in them, each once. */
static uint32_t count_ops(const cml_mil_block *b) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->nnodes; i++) {
        const cml_mil_node *node = &b->nodes[i];
        if (node->folded) continue;
        n++;
        for (uint32_t k = 0; k < node->nblocks; k++) n += count_ops(&node->blocks[k]);
    }
    return n;
}

/* profile_prepare: the op count, and each op's debug handle from the
 * payload's debug_info.json (standalone packages have none). */
static cml_status backend_profile_prepare(void *handle, uint32_t *nops) {
    coreml_handle *h = handle;
    *nops = count_ops(&h->g.main);
    if (h->op_handles) return CML_OK;
    cml_error err = {0};
    return cml_coreml_debug_handles(h->owns_payload ? &h->payload.fs : NULL, &h->g, h->allocator,
                                    &h->op_handles, &err);
}

static const char *backend_arg_name(const void *handle, uint32_t index) {
    const coreml_handle *h = handle;
    if (index < h->nin) return h->in[index].name;
    if (index - h->nin < h->nout) return h->out[index - h->nin].name;
    return NULL;
}

const cml_backend cml_coreml_backend = {
    .id = CML_COREML_BACKEND_ID,
    .is_available = backend_available,
    .init = backend_init,
    .execute = backend_execute,
    .reset_state = backend_reset_state,
    .describe = backend_describe,
    .destroy = handle_destroy,
    .input_count = cml_coreml_input_count,
    .input_shape = backend_input_shape,
    .arg_name = backend_arg_name,
    .profile_prepare = backend_profile_prepare,
};

/* ---------------------------------------------------- standalone access */

uint32_t cml_coreml_input_count(const void *handle) {
    return handle ? ((const coreml_handle *)handle)->nin : 0;
}

uint32_t cml_coreml_output_count(const void *handle) {
    return handle ? ((const coreml_handle *)handle)->nout : 0;
}

cml_status cml_coreml_io(const void *handle, bool output, uint32_t index, cml_coreml_io_desc *out) {
    const coreml_handle *h = handle;
    if (!h || index >= (output ? h->nout : h->nin)) return CML_ERR_INVALID_ARG;
    const io_binding *b = output ? &h->out[index] : &h->in[index];
    const cml_mil_value *v = &h->g.values[b->vid];
    out->name = b->name;
    out->dtype = b->desc_dtype;
    out->rank = v->rank;
    out->bound = b->limit;
    out->planned = v->bound;
    out->dynamic = v->dynamic;
    return CML_OK;
}

cml_status cml_coreml_prepare(void *handle, cml_evalue **args, uint32_t nargs, cml_error *err) {
    coreml_handle *h = handle;
    if (!h || nargs < h->nin) return cml_fail(err, CML_ERR_INVALID_ARG, "too few delegate args");
    return ensure_plan(h, args, err);
}

const cml_mil_graph *cml_coreml_graph(const void *handle) {
    return handle ? &((const coreml_handle *)handle)->g : NULL;
}
