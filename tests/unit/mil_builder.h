/* Builds small ML Programs (MILSpec protobuf-c structs) in tests, and writes
 * them as .mlpackage directories. Every allocation is tracked and released
 * by mb_free_all(). Repeated fields hold up to MB_CAP entries. */
#ifndef CML_TEST_MIL_BUILDER_H
#define CML_TEST_MIL_BUILDER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coreml.pb-c.h"

#define MB_CAP 64

typedef Cml__Coreml__MILSpec__ValueType mb_vtype;
typedef Cml__Coreml__MILSpec__NamedValueType mb_nvt;
typedef Cml__Coreml__MILSpec__Value mb_value;
typedef Cml__Coreml__MILSpec__Operation mb_op;
typedef Cml__Coreml__MILSpec__Block mb_block;
typedef Cml__Coreml__MILSpec__Function mb_function;
typedef Cml__Coreml__FeatureDescription mb_feature;

static void **mb_ptrs_;
static size_t mb_nptrs_, mb_capptrs_;

static inline void *mb_alloc(size_t size) {
    void *p = calloc(1, size ? size : 1);
    if (mb_nptrs_ == mb_capptrs_) {
        mb_capptrs_ = mb_capptrs_ ? mb_capptrs_ * 2 : 256;
        mb_ptrs_ = realloc(mb_ptrs_, mb_capptrs_ * sizeof *mb_ptrs_);
    }
    mb_ptrs_[mb_nptrs_++] = p;
    return p;
}

static inline void mb_free_all(void) {
    for (size_t i = 0; i < mb_nptrs_; i++) free(mb_ptrs_[i]);
    free(mb_ptrs_);
    mb_ptrs_ = NULL;
    mb_nptrs_ = mb_capptrs_ = 0;
}

#define MB_NEW(T, INIT) ((T *)mb_copy_(&(T)INIT, sizeof(T)))
static inline void *mb_copy_(const void *init, size_t size) {
    void *p = mb_alloc(size);
    memcpy(p, init, size);
    return p;
}

static inline char *mb_str(const char *s) {
    char *p = mb_alloc(strlen(s) + 1);
    memcpy(p, s, strlen(s) + 1);
    return p;
}

#define MB_PUSH(n, arr, item)                                          \
    do {                                                               \
        if (!(arr)) (arr) = mb_alloc(MB_CAP * sizeof *(arr));          \
        (arr)[(n)++] = (item);                                         \
    } while (0)

/* dims[i] < 0 = unknown dimension. */
static inline mb_vtype *mb_tensor_type(int dtype, int rank, const int64_t *dims) {
    Cml__Coreml__MILSpec__TensorType *tt = MB_NEW(
        Cml__Coreml__MILSpec__TensorType, CML__COREML__MILSPEC__TENSOR_TYPE__INIT);
    tt->datatype = (Cml__Coreml__MILSpec__DataType)dtype;
    tt->rank = rank;
    for (int d = 0; d < rank; d++) {
        Cml__Coreml__MILSpec__Dimension *dim = MB_NEW(
            Cml__Coreml__MILSpec__Dimension, CML__COREML__MILSPEC__DIMENSION__INIT);
        if (dims[d] >= 0) {
            dim->dimension_case = CML__COREML__MILSPEC__DIMENSION__DIMENSION_CONSTANT;
            dim->constant = MB_NEW(Cml__Coreml__MILSpec__Dimension__ConstantDimension,
                                   CML__COREML__MILSPEC__DIMENSION__CONSTANT_DIMENSION__INIT);
            dim->constant->size = (uint64_t)dims[d];
        } else {
            dim->dimension_case = CML__COREML__MILSPEC__DIMENSION__DIMENSION_UNKNOWN;
            dim->unknown = MB_NEW(Cml__Coreml__MILSpec__Dimension__UnknownDimension,
                                  CML__COREML__MILSPEC__DIMENSION__UNKNOWN_DIMENSION__INIT);
        }
        MB_PUSH(tt->n_dimensions, tt->dimensions, dim);
    }
    mb_vtype *vt = MB_NEW(mb_vtype, CML__COREML__MILSPEC__VALUE_TYPE__INIT);
    vt->type_case = CML__COREML__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE;
    vt->tensortype = tt;
    return vt;
}

static inline mb_vtype *mb_state_type(mb_vtype *wrapped) {
    mb_vtype *vt = MB_NEW(mb_vtype, CML__COREML__MILSPEC__VALUE_TYPE__INIT);
    vt->type_case = CML__COREML__MILSPEC__VALUE_TYPE__TYPE_STATE_TYPE;
    vt->statetype = MB_NEW(Cml__Coreml__MILSpec__StateType,
                           CML__COREML__MILSPEC__STATE_TYPE__INIT);
    vt->statetype->wrappedtype = wrapped;
    return vt;
}

static inline mb_nvt *mb_nvt_new(const char *name, mb_vtype *t) {
    mb_nvt *n = MB_NEW(mb_nvt, CML__COREML__MILSPEC__NAMED_VALUE_TYPE__INIT);
    n->name = mb_str(name);
    n->type = t;
    return n;
}

static inline Cml__Coreml__MILSpec__TensorValue *mb_tv_(mb_value **out, int dtype, int rank,
                                                           const int64_t *dims) {
    mb_value *v = MB_NEW(mb_value, CML__COREML__MILSPEC__VALUE__INIT);
    v->type = mb_tensor_type(dtype, rank, dims);
    v->value_case = CML__COREML__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE;
    v->immediatevalue = MB_NEW(Cml__Coreml__MILSpec__Value__ImmediateValue,
                               CML__COREML__MILSPEC__VALUE__IMMEDIATE_VALUE__INIT);
    v->immediatevalue->value_case = CML__COREML__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR;
    Cml__Coreml__MILSpec__TensorValue *tv = MB_NEW(
        Cml__Coreml__MILSpec__TensorValue, CML__COREML__MILSPEC__TENSOR_VALUE__INIT);
    v->immediatevalue->tensor = tv;
    *out = v;
    return tv;
}

static inline mb_value *mb_val_floats(int rank, const int64_t *dims, const float *x, size_t n) {
    mb_value *v;
    Cml__Coreml__MILSpec__TensorValue *tv = mb_tv_(&v, 11, rank, dims);
    tv->value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_FLOATS;
    tv->floats = MB_NEW(Cml__Coreml__MILSpec__TensorValue__RepeatedFloats,
                        CML__COREML__MILSPEC__TENSOR_VALUE__REPEATED_FLOATS__INIT);
    tv->floats->n_values = n;
    tv->floats->values = mb_alloc(n * sizeof(float));
    memcpy(tv->floats->values, x, n * sizeof(float));
    return v;
}

/* INT32 / INT16 / UINT16 (MIL dtype 23 / 22 / 32) through `ints`. */
static inline mb_value *mb_val_ints(int dtype, int rank, const int64_t *dims, const int32_t *x, size_t n) {
    mb_value *v;
    Cml__Coreml__MILSpec__TensorValue *tv = mb_tv_(&v, dtype, rank, dims);
    tv->value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_INTS;
    tv->ints = MB_NEW(Cml__Coreml__MILSpec__TensorValue__RepeatedInts,
                      CML__COREML__MILSPEC__TENSOR_VALUE__REPEATED_INTS__INIT);
    tv->ints->n_values = n;
    tv->ints->values = mb_alloc(n * sizeof(int32_t));
    memcpy(tv->ints->values, x, n * sizeof(int32_t));
    return v;
}

/* Raw little-endian payload (FLOAT16 = 10, INT8 = 21, UINT8 = 31, ...). */
static inline mb_value *mb_val_bytes(int dtype, int rank, const int64_t *dims, const void *x, size_t nbytes) {
    mb_value *v;
    Cml__Coreml__MILSpec__TensorValue *tv = mb_tv_(&v, dtype, rank, dims);
    tv->value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_BYTES;
    tv->bytes = MB_NEW(Cml__Coreml__MILSpec__TensorValue__RepeatedBytes,
                       CML__COREML__MILSPEC__TENSOR_VALUE__REPEATED_BYTES__INIT);
    tv->bytes->values.len = nbytes;
    tv->bytes->values.data = mb_alloc(nbytes);
    memcpy(tv->bytes->values.data, x, nbytes);
    return v;
}

static inline mb_value *mb_val_bool(int b) {
    mb_value *v;
    Cml__Coreml__MILSpec__TensorValue *tv = mb_tv_(&v, 1, 0, NULL);
    tv->value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_BOOLS;
    tv->bools = MB_NEW(Cml__Coreml__MILSpec__TensorValue__RepeatedBools,
                       CML__COREML__MILSPEC__TENSOR_VALUE__REPEATED_BOOLS__INIT);
    tv->bools->n_values = 1;
    tv->bools->values = mb_alloc(sizeof(protobuf_c_boolean));
    tv->bools->values[0] = b;
    return v;
}

static inline mb_value *mb_val_str(const char *s) {
    mb_value *v;
    Cml__Coreml__MILSpec__TensorValue *tv = mb_tv_(&v, 2, 0, NULL);
    tv->value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_STRINGS;
    tv->strings = MB_NEW(Cml__Coreml__MILSpec__TensorValue__RepeatedStrings,
                         CML__COREML__MILSPEC__TENSOR_VALUE__REPEATED_STRINGS__INIT);
    tv->strings->n_values = 1;
    tv->strings->values = mb_alloc(sizeof(char *));
    tv->strings->values[0] = mb_str(s);
    return v;
}

static inline mb_block *mb_block_new(void) {
    return MB_NEW(mb_block, CML__COREML__MILSPEC__BLOCK__INIT);
}

static inline void mb_block_in(mb_block *b, const char *name, mb_vtype *t) {
    MB_PUSH(b->n_inputs, b->inputs, mb_nvt_new(name, t));
}

static inline void mb_block_out(mb_block *b, const char *name) { MB_PUSH(b->n_outputs, b->outputs, mb_str(name)); }

static inline void mb_attr(mb_op *op, const char *key, mb_value *v) {
    Cml__Coreml__MILSpec__Operation__AttributesEntry *e =
        MB_NEW(Cml__Coreml__MILSpec__Operation__AttributesEntry,
               CML__COREML__MILSPEC__OPERATION__ATTRIBUTES_ENTRY__INIT);
    e->key = mb_str(key);
    e->value = v;
    MB_PUSH(op->n_attributes, op->attributes, e);
}

static inline mb_op *mb_op_new(mb_block *b, const char *type, const char *name) {
    mb_op *op = MB_NEW(mb_op, CML__COREML__MILSPEC__OPERATION__INIT);
    op->type = mb_str(type);
    if (name) mb_attr(op, "name", mb_val_str(name));
    MB_PUSH(b->n_operations, b->operations, op);
    return op;
}

static inline Cml__Coreml__MILSpec__Argument *mb_arg_(mb_op *op, const char *param) {
    for (size_t i = 0; i < op->n_inputs; i++)
        if (strcmp(op->inputs[i]->key, param) == 0) return op->inputs[i]->value;
    Cml__Coreml__MILSpec__Operation__InputsEntry *e =
        MB_NEW(Cml__Coreml__MILSpec__Operation__InputsEntry,
               CML__COREML__MILSPEC__OPERATION__INPUTS_ENTRY__INIT);
    e->key = mb_str(param);
    e->value = MB_NEW(Cml__Coreml__MILSpec__Argument,
                      CML__COREML__MILSPEC__ARGUMENT__INIT);
    MB_PUSH(op->n_inputs, op->inputs, e);
    return e->value;
}

/* Binds param to a named value (repeat for variadic parameters). */
static inline void mb_in(mb_op *op, const char *param, const char *value_name) {
    Cml__Coreml__MILSpec__Argument__Binding *b =
        MB_NEW(Cml__Coreml__MILSpec__Argument__Binding,
               CML__COREML__MILSPEC__ARGUMENT__BINDING__INIT);
    b->binding_case = CML__COREML__MILSPEC__ARGUMENT__BINDING__BINDING_NAME;
    b->name = mb_str(value_name);
    Cml__Coreml__MILSpec__Argument *a = mb_arg_(op, param);
    MB_PUSH(a->n_arguments, a->arguments, b);
}

/* Binds param to an inline value (iOS18 style). */
static inline void mb_in_val(mb_op *op, const char *param, mb_value *v) {
    Cml__Coreml__MILSpec__Argument__Binding *b =
        MB_NEW(Cml__Coreml__MILSpec__Argument__Binding,
               CML__COREML__MILSPEC__ARGUMENT__BINDING__INIT);
    b->binding_case = CML__COREML__MILSPEC__ARGUMENT__BINDING__BINDING_VALUE;
    b->value = v;
    Cml__Coreml__MILSpec__Argument *a = mb_arg_(op, param);
    MB_PUSH(a->n_arguments, a->arguments, b);
}

static inline void mb_out(mb_op *op, const char *name, mb_vtype *t) {
    MB_PUSH(op->n_outputs, op->outputs, mb_nvt_new(name, t));
}

static inline void mb_op_block(mb_op *op, mb_block *b) { MB_PUSH(op->n_blocks, op->blocks, b); }

static inline mb_op *mb_const(mb_block *b, const char *name, mb_value *v) {
    mb_op *op = mb_op_new(b, "const", name);
    mb_out(op, name, v->type);
    mb_attr(op, "val", v);
    return op;
}

static inline mb_function *mb_function_new(const char *opset, mb_block *body) {
    mb_function *fn = MB_NEW(mb_function, CML__COREML__MILSPEC__FUNCTION__INIT);
    fn->opset = mb_str(opset);
    Cml__Coreml__MILSpec__Function__BlockSpecializationsEntry *e =
        MB_NEW(Cml__Coreml__MILSpec__Function__BlockSpecializationsEntry,
               CML__COREML__MILSPEC__FUNCTION__BLOCK_SPECIALIZATIONS_ENTRY__INIT);
    e->key = mb_str(opset);
    e->value = body;
    MB_PUSH(fn->n_block_specializations, fn->block_specializations, e);
    return fn;
}

static inline void mb_fn_in(mb_function *fn, const char *name, mb_vtype *t) {
    MB_PUSH(fn->n_inputs, fn->inputs, mb_nvt_new(name, t));
}

/* ---- model description features ---- */

/* datatype: CML__COREML__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__* */
static inline mb_feature *mb_feature_array(const char *name, int datatype, int rank, const int64_t *shape) {
    mb_feature *f = MB_NEW(mb_feature, CML__COREML__FEATURE_DESCRIPTION__INIT);
    f->name = mb_str(name);
    f->type = MB_NEW(Cml__Coreml__FeatureType, CML__COREML__FEATURE_TYPE__INIT);
    f->type->type_case = CML__COREML__FEATURE_TYPE__TYPE_MULTI_ARRAY_TYPE;
    Cml__Coreml__ArrayFeatureType *a = MB_NEW(
        Cml__Coreml__ArrayFeatureType, CML__COREML__ARRAY_FEATURE_TYPE__INIT);
    a->datatype = (Cml__Coreml__ArrayFeatureType__ArrayDataType)datatype;
    a->n_shape = (size_t)rank;
    a->shape = mb_alloc((size_t)rank * sizeof(int64_t) + 1);
    if (rank) memcpy(a->shape, shape, (size_t)rank * sizeof(int64_t));
    f->type->multiarraytype = a;
    return f;
}

static inline void mb_feature_enum(mb_feature *f, int nshapes, int rank, const int64_t *shapes) {
    Cml__Coreml__ArrayFeatureType *a = f->type->multiarraytype;
    a->shape_flexibility_case = CML__COREML__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_ENUMERATED_SHAPES;
    a->enumeratedshapes = MB_NEW(Cml__Coreml__ArrayFeatureType__EnumeratedShapes,
                                 CML__COREML__ARRAY_FEATURE_TYPE__ENUMERATED_SHAPES__INIT);
    for (int k = 0; k < nshapes; k++) {
        Cml__Coreml__ArrayFeatureType__Shape *s =
            MB_NEW(Cml__Coreml__ArrayFeatureType__Shape,
                   CML__COREML__ARRAY_FEATURE_TYPE__SHAPE__INIT);
        s->n_shape = (size_t)rank;
        s->shape = mb_alloc((size_t)rank * sizeof(int64_t));
        memcpy(s->shape, shapes + k * rank, (size_t)rank * sizeof(int64_t));
        MB_PUSH(a->enumeratedshapes->n_shapes, a->enumeratedshapes->shapes, s);
    }
}

static inline void mb_feature_range(mb_feature *f, int rank, const int64_t *lo, const int64_t *hi) {
    Cml__Coreml__ArrayFeatureType *a = f->type->multiarraytype;
    a->shape_flexibility_case = CML__COREML__ARRAY_FEATURE_TYPE__SHAPE_FLEXIBILITY_SHAPE_RANGE;
    a->shaperange = MB_NEW(Cml__Coreml__ArrayFeatureType__ShapeRange,
                           CML__COREML__ARRAY_FEATURE_TYPE__SHAPE_RANGE__INIT);
    for (int d = 0; d < rank; d++) {
        Cml__Coreml__SizeRange *r =
            MB_NEW(Cml__Coreml__SizeRange, CML__COREML__SIZE_RANGE__INIT);
        r->lowerbound = (uint64_t)lo[d];
        r->upperbound = hi[d];
        MB_PUSH(a->shaperange->n_sizeranges, a->shaperange->sizeranges, r);
    }
}

/* Writes dir/{Manifest.json, Data/com.apple.CoreML/model.mlmodel} for a
 * single-function ("main") program. Returns 0 on success. */
static inline int mb_write_package(const char *dir, int spec_version, mb_function *fn, mb_feature **inputs,
                            int ninputs, mb_feature **outputs, int noutputs, mb_feature **states,
                            int nstates) {
    Cml__Coreml__Model model = CML__COREML__MODEL__INIT;
    Cml__Coreml__ModelDescription desc = CML__COREML__MODEL_DESCRIPTION__INIT;
    Cml__Coreml__MILSpec__Program prog = CML__COREML__MILSPEC__PROGRAM__INIT;
    Cml__Coreml__MILSpec__Program__FunctionsEntry fe =
        CML__COREML__MILSPEC__PROGRAM__FUNCTIONS_ENTRY__INIT;
    Cml__Coreml__MILSpec__Program__FunctionsEntry *fes[1] = {&fe};
    fe.key = "main";
    fe.value = fn;
    prog.version = 1;
    prog.n_functions = 1;
    prog.functions = fes;
    desc.n_input = (size_t)ninputs;
    desc.input = inputs;
    desc.n_output = (size_t)noutputs;
    desc.output = outputs;
    desc.n_state = (size_t)nstates;
    desc.state = states;
    model.specificationversion = spec_version;
    model.description = &desc;
    model.type_case = CML__COREML__MODEL__TYPE_ML_PROGRAM;
    model.mlprogram = &prog;
    size_t size = cml__coreml__model__get_packed_size(&model);
    uint8_t *bytes = malloc(size ? size : 1);
    cml__coreml__model__pack(&model, bytes);
    char path[1024];
    snprintf(path, sizeof path, "%s", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/Data", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/Data/com.apple.CoreML", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/Data/com.apple.CoreML/weights", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/Data/com.apple.CoreML/model.mlmodel", dir);
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(bytes, 1, size, f) == size ? 0 : -1;
    if (f) fclose(f);
    free(bytes);
    snprintf(path, sizeof path, "%s/Manifest.json", dir);
    f = fopen(path, "wb");
    if (!f) return -1;
    fputs("{\n    \"fileFormatVersion\": \"1.0.0\",\n    \"itemInfoEntries\": {\n"
          "        \"A\": {\"author\": \"com.apple.CoreML\", \"description\": \"CoreML Model "
          "Specification\", \"name\": \"model.mlmodel\", \"path\": \"com.apple.CoreML/model.mlmodel\"},\n"
          "        \"B\": {\"author\": \"com.apple.CoreML\", \"description\": \"CoreML Model "
          "Weights\", \"name\": \"weights\", \"path\": \"com.apple.CoreML/weights\"}\n"
          "    },\n    \"rootModelIdentifier\": \"A\"\n}\n", f);
    fclose(f);
    return rc;
}

/* A while_loop program shared by tests: x float32 [2];
 * i = 0; acc = x; while (i < 5) { i += 1; acc += acc }; outputs acc_final
 * (x * 32) and i_final (5). The cond block runs 6 times, the body 5. */
static inline mb_function *mb_while_loop_program(void) {
    enum { F32 = 11, I32 = 23, BOOLT = 1 };
    static const int64_t d2[] = {2};
    mb_vtype *ti = mb_tensor_type(I32, 0, NULL), *tf = mb_tensor_type(F32, 1, d2);
    mb_block *cb = mb_block_new(), *body = mb_block_new(), *b = mb_block_new();
    mb_block_in(cb, "i_c", ti);
    mb_block_in(cb, "acc_c", tf);
    mb_const(cb, "five", mb_val_ints(I32, 0, NULL, (const int32_t[]){5}, 1));
    mb_op *lt = mb_op_new(cb, "less", "go");
    mb_in(lt, "x", "i_c");
    mb_in(lt, "y", "five");
    mb_out(lt, "go", mb_tensor_type(BOOLT, 0, NULL));
    mb_block_out(cb, "go");
    mb_block_in(body, "i_b", ti);
    mb_block_in(body, "acc_b", tf);
    mb_const(body, "one", mb_val_ints(I32, 0, NULL, (const int32_t[]){1}, 1));
    mb_op *inc = mb_op_new(body, "add", "i_next");
    mb_in(inc, "x", "i_b");
    mb_in(inc, "y", "one");
    mb_out(inc, "i_next", ti);
    mb_op *dbl = mb_op_new(body, "add", "acc_next");
    mb_in(dbl, "x", "acc_b");
    mb_in(dbl, "y", "acc_b");
    mb_out(dbl, "acc_next", tf);
    mb_block_out(body, "i_next");
    mb_block_out(body, "acc_next");
    mb_const(b, "zero", mb_val_ints(I32, 0, NULL, (const int32_t[]){0}, 1));
    mb_op *loop = mb_op_new(b, "while_loop", "loop");
    mb_in(loop, "loop_vars", "zero");
    mb_in(loop, "loop_vars", "x");
    mb_op_block(loop, cb);
    mb_op_block(loop, body);
    mb_out(loop, "i_final", ti);
    mb_out(loop, "acc_final", tf);
    mb_block_out(b, "acc_final");
    mb_block_out(b, "i_final");
    mb_function *fn = mb_function_new("CoreML5", b);
    mb_fn_in(fn, "x", tf);
    return fn;
}

#endif
