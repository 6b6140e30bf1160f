/* Test-only builder of synthetic ML Program models (protobuf-c structs,
 * packed to model.mlmodel bytes): y = linear(x, w, b) with w a 4x4 fp16 blob
 * const and b an immediate fp16 const, optionally as a two-function
 * (multifunction) program. */
#ifndef CML_TEST_COREML_MODEL_H
#define CML_TEST_COREML_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coreml.pb-c.h"
#include "coreml/types.h"
#include "core/fp16.h"

/* ------------------------------------------------------ model builder */

typedef Cml__Coreml__MILSpec__Value pb_value;

typedef struct tensor_t {
    Cml__Coreml__MILSpec__Dimension__ConstantDimension cd[4];
    Cml__Coreml__MILSpec__Dimension dim[4];
    Cml__Coreml__MILSpec__Dimension *dimp[4];
    Cml__Coreml__MILSpec__TensorType tt;
    Cml__Coreml__MILSpec__ValueType vt;
} tensor_t;

static inline Cml__Coreml__MILSpec__ValueType *mk_type(tensor_t *t, int dtype, int rank,
                                                          const int64_t *shape) {
    memset(t, 0, sizeof *t);
    cml__coreml__milspec__tensor_type__init(&t->tt);
    cml__coreml__milspec__value_type__init(&t->vt);
    for (int k = 0; k < rank; k++) {
        cml__coreml__milspec__dimension__constant_dimension__init(&t->cd[k]);
        cml__coreml__milspec__dimension__init(&t->dim[k]);
        t->cd[k].size = (uint64_t)shape[k];
        t->dim[k].dimension_case = CML__COREML__MILSPEC__DIMENSION__DIMENSION_CONSTANT;
        t->dim[k].constant = &t->cd[k];
        t->dimp[k] = &t->dim[k];
    }
    t->tt.datatype = (Cml__Coreml__MILSpec__DataType)dtype;
    t->tt.rank = rank;
    t->tt.n_dimensions = (size_t)rank;
    t->tt.dimensions = t->dimp;
    t->vt.type_case = CML__COREML__MILSPEC__VALUE_TYPE__TYPE_TENSOR_TYPE;
    t->vt.tensortype = &t->tt;
    return &t->vt;
}

/* One function: y = linear(x, w, b); w [4,4] fp16 in the blob, b [4] fp16
 * immediate, plus a string const for the op name. */
typedef struct fn_t {
    tensor_t tx, tw, tb, ty, tname;
    Cml__Coreml__MILSpec__NamedValueType in_x, out_w, out_b, out_y;
    Cml__Coreml__MILSpec__NamedValueType *in_xp[1], *out_wp[1], *out_bp[1], *out_yp[1];
    Cml__Coreml__MILSpec__Value__BlobFileValue blob;
    Cml__Coreml__MILSpec__Value val_w, val_b, name_w, name_b, name_l;
    Cml__Coreml__MILSpec__Value__ImmediateValue iv_b, iv_nw, iv_nb, iv_nl;
    Cml__Coreml__MILSpec__TensorValue tv_b, tv_nw, tv_nb, tv_nl;
    Cml__Coreml__MILSpec__TensorValue__RepeatedBytes rb_b;
    Cml__Coreml__MILSpec__TensorValue__RepeatedStrings rs_w, rs_b, rs_l;
    char *s_w[1], *s_b[1], *s_l[1];
    uint16_t bias[4];
    Cml__Coreml__MILSpec__Operation__AttributesEntry a_w[2], a_b[2], a_l[1];
    Cml__Coreml__MILSpec__Operation__AttributesEntry *a_wp[2], *a_bp[2], *a_lp[1];
    Cml__Coreml__MILSpec__Argument__Binding bind[3];
    Cml__Coreml__MILSpec__Argument__Binding *bindp[3][1];
    Cml__Coreml__MILSpec__Argument arg[3];
    Cml__Coreml__MILSpec__Operation__InputsEntry in[3];
    Cml__Coreml__MILSpec__Operation__InputsEntry *inp[3];
    Cml__Coreml__MILSpec__Operation op_w, op_b, op_l;
    Cml__Coreml__MILSpec__Operation *ops[3];
    char *outputs[1];
    Cml__Coreml__MILSpec__Block block;
    Cml__Coreml__MILSpec__Function__BlockSpecializationsEntry bs;
    Cml__Coreml__MILSpec__Function__BlockSpecializationsEntry *bsp[1];
    Cml__Coreml__MILSpec__Function fn;
} fn_t;

static inline void mk_string_value(pb_value *v, Cml__Coreml__MILSpec__Value__ImmediateValue *iv,
                            Cml__Coreml__MILSpec__TensorValue *tv,
                            Cml__Coreml__MILSpec__TensorValue__RepeatedStrings *rs,
                            char **slot, const char *s, tensor_t *t) {
    cml__coreml__milspec__value__init(v);
    cml__coreml__milspec__value__immediate_value__init(iv);
    cml__coreml__milspec__tensor_value__init(tv);
    cml__coreml__milspec__tensor_value__repeated_strings__init(rs);
    slot[0] = (char *)s;
    rs->n_values = 1;
    rs->values = slot;
    tv->value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_STRINGS;
    tv->strings = rs;
    iv->value_case = CML__COREML__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR;
    iv->tensor = tv;
    v->type = mk_type(t, CML_MIL_STRING, 0, NULL);
    v->value_case = CML__COREML__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE;
    v->immediatevalue = iv;
}

static inline void mk_attr(Cml__Coreml__MILSpec__Operation__AttributesEntry *e, const char *k,
                    pb_value *v) {
    cml__coreml__milspec__operation__attributes_entry__init(e);
    e->key = (char *)k;
    e->value = v;
}

static inline void mk_const(Cml__Coreml__MILSpec__Operation *op,
                     Cml__Coreml__MILSpec__NamedValueType *out,
                     Cml__Coreml__MILSpec__NamedValueType **outp, const char *name,
                     Cml__Coreml__MILSpec__ValueType *type,
                     Cml__Coreml__MILSpec__Operation__AttributesEntry **attrs, size_t n) {
    cml__coreml__milspec__operation__init(op);
    cml__coreml__milspec__named_value_type__init(out);
    out->name = (char *)name;
    out->type = type;
    outp[0] = out;
    op->type = "const";
    op->n_outputs = 1;
    op->outputs = outp;
    op->n_attributes = n;
    op->attributes = attrs;
}

static inline void build_fn(fn_t *f, const char *opset, uint64_t blob_offset) {
    memset(f, 0, sizeof *f);
    /* w: blob const */
    cml__coreml__milspec__value__blob_file_value__init(&f->blob);
    f->blob.filename = "@model_path/weights/weight.bin";
    f->blob.offset = blob_offset;
    cml__coreml__milspec__value__init(&f->val_w);
    f->val_w.type = mk_type(&f->tw, CML_MIL_FLOAT16, 2, (int64_t[]){4, 4});
    f->val_w.value_case = CML__COREML__MILSPEC__VALUE__VALUE_BLOB_FILE_VALUE;
    f->val_w.blobfilevalue = &f->blob;
    mk_string_value(&f->name_w, &f->iv_nw, &f->tv_nw, &f->rs_w, f->s_w, "w", &f->tname);
    mk_attr(&f->a_w[0], "name", &f->name_w);
    mk_attr(&f->a_w[1], "val", &f->val_w);
    f->a_wp[0] = &f->a_w[0];
    f->a_wp[1] = &f->a_w[1];
    mk_const(&f->op_w, &f->out_w, f->out_wp, "w", &f->tw.vt, f->a_wp, 2);
    /* b: immediate fp16 bytes */
    for (int i = 0; i < 4; i++) f->bias[i] = cml_fp32_to_fp16((float)i * 0.5f);
    cml__coreml__milspec__value__init(&f->val_b);
    cml__coreml__milspec__value__immediate_value__init(&f->iv_b);
    cml__coreml__milspec__tensor_value__init(&f->tv_b);
    cml__coreml__milspec__tensor_value__repeated_bytes__init(&f->rb_b);
    f->rb_b.values.data = (uint8_t *)f->bias;
    f->rb_b.values.len = sizeof f->bias;
    f->tv_b.value_case = CML__COREML__MILSPEC__TENSOR_VALUE__VALUE_BYTES;
    f->tv_b.bytes = &f->rb_b;
    f->iv_b.value_case = CML__COREML__MILSPEC__VALUE__IMMEDIATE_VALUE__VALUE_TENSOR;
    f->iv_b.tensor = &f->tv_b;
    f->val_b.type = mk_type(&f->tb, CML_MIL_FLOAT16, 1, (int64_t[]){4});
    f->val_b.value_case = CML__COREML__MILSPEC__VALUE__VALUE_IMMEDIATE_VALUE;
    f->val_b.immediatevalue = &f->iv_b;
    tensor_t tn2;
    mk_string_value(&f->name_b, &f->iv_nb, &f->tv_nb, &f->rs_b, f->s_b, "b", &tn2);
    f->name_b.type = f->name_w.type; /* share the scalar string type */
    mk_attr(&f->a_b[0], "name", &f->name_b);
    mk_attr(&f->a_b[1], "val", &f->val_b);
    f->a_bp[0] = &f->a_b[0];
    f->a_bp[1] = &f->a_b[1];
    mk_const(&f->op_b, &f->out_b, f->out_bp, "b", &f->tb.vt, f->a_bp, 2);
    /* y = linear(x, w, b) */
    static const char *const params[3] = {"x", "weight", "bias"};
    static const char *const names[3] = {"x", "w", "b"};
    for (int i = 0; i < 3; i++) {
        cml__coreml__milspec__argument__binding__init(&f->bind[i]);
        f->bind[i].binding_case = CML__COREML__MILSPEC__ARGUMENT__BINDING__BINDING_NAME;
        f->bind[i].name = (char *)names[i];
        f->bindp[i][0] = &f->bind[i];
        cml__coreml__milspec__argument__init(&f->arg[i]);
        f->arg[i].n_arguments = 1;
        f->arg[i].arguments = f->bindp[i];
        cml__coreml__milspec__operation__inputs_entry__init(&f->in[i]);
        f->in[i].key = (char *)params[i];
        f->in[i].value = &f->arg[i];
        f->inp[i] = &f->in[i];
    }
    tensor_t tn3;
    mk_string_value(&f->name_l, &f->iv_nl, &f->tv_nl, &f->rs_l, f->s_l, "linear_0", &tn3);
    f->name_l.type = f->name_w.type;
    mk_attr(&f->a_l[0], "name", &f->name_l);
    f->a_lp[0] = &f->a_l[0];
    cml__coreml__milspec__operation__init(&f->op_l);
    cml__coreml__milspec__named_value_type__init(&f->out_y);
    f->out_y.name = "y";
    f->out_y.type = mk_type(&f->ty, CML_MIL_FLOAT32, 2, (int64_t[]){1, 4});
    f->out_yp[0] = &f->out_y;
    f->op_l.type = "linear";
    f->op_l.n_inputs = 3;
    f->op_l.inputs = f->inp;
    f->op_l.n_outputs = 1;
    f->op_l.outputs = f->out_yp;
    f->op_l.n_attributes = 1;
    f->op_l.attributes = f->a_lp;
    f->ops[0] = &f->op_w;
    f->ops[1] = &f->op_b;
    f->ops[2] = &f->op_l;
    cml__coreml__milspec__block__init(&f->block);
    f->outputs[0] = "y";
    f->block.n_outputs = 1;
    f->block.outputs = f->outputs;
    f->block.n_operations = 3;
    f->block.operations = f->ops;
    cml__coreml__milspec__function__block_specializations_entry__init(&f->bs);
    f->bs.key = (char *)opset;
    f->bs.value = &f->block;
    f->bsp[0] = &f->bs;
    cml__coreml__milspec__named_value_type__init(&f->in_x);
    f->in_x.name = "x";
    f->in_x.type = mk_type(&f->tx, CML_MIL_FLOAT32, 2, (int64_t[]){1, 4});
    f->in_xp[0] = &f->in_x;
    cml__coreml__milspec__function__init(&f->fn);
    f->fn.n_inputs = 1;
    f->fn.inputs = f->in_xp;
    f->fn.opset = (char *)opset;
    f->fn.n_block_specializations = 1;
    f->fn.block_specializations = f->bsp;
}

typedef struct model_opts {
    int spec;
    bool multifunction;   /* functions "main" and "second" described */
    uint64_t blob_offset;
    const char *opset_key; /* block key; NULL = opset */
} model_opts;

typedef struct feat_t {
    Cml__Coreml__ArrayFeatureType arr;
    Cml__Coreml__FeatureType ft;
    Cml__Coreml__FeatureDescription fd;
    Cml__Coreml__FeatureDescription *fdp[1];
} feat_t;

static inline void mk_feat(feat_t *f, const char *name) {
    cml__coreml__array_feature_type__init(&f->arr);
    cml__coreml__feature_type__init(&f->ft);
    cml__coreml__feature_description__init(&f->fd);
    f->arr.datatype = CML__COREML__ARRAY_FEATURE_TYPE__ARRAY_DATA_TYPE__FLOAT32;
    f->ft.type_case = CML__COREML__FEATURE_TYPE__TYPE_MULTI_ARRAY_TYPE;
    f->ft.multiarraytype = &f->arr;
    f->fd.name = (char *)name;
    f->fd.type = &f->ft;
    f->fdp[0] = &f->fd;
}

/* Packs a model; returns malloc'ed bytes. */
static uint8_t *build_model(const model_opts *o, size_t *size) {
    static fn_t f1, f2;
    build_fn(&f1, "CoreML6", o->blob_offset);
    build_fn(&f2, "CoreML8", o->blob_offset);
    if (o->opset_key) f1.bs.key = (char *)o->opset_key;
    Cml__Coreml__MILSpec__Program__FunctionsEntry fe[2], *fep[2] = {&fe[0], &fe[1]};
    cml__coreml__milspec__program__functions_entry__init(&fe[0]);
    cml__coreml__milspec__program__functions_entry__init(&fe[1]);
    fe[0].key = "main";
    fe[0].value = &f1.fn;
    fe[1].key = "second";
    fe[1].value = &f2.fn;
    Cml__Coreml__MILSpec__Program prog;
    cml__coreml__milspec__program__init(&prog);
    prog.version = 1;
    prog.n_functions = o->multifunction ? 2 : 1;
    prog.functions = fep;
    feat_t fx, fy;
    mk_feat(&fx, "x");
    mk_feat(&fy, "y");
    Cml__Coreml__FunctionDescription fds[2], *fdsp[2] = {&fds[0], &fds[1]};
    Cml__Coreml__ModelDescription desc;
    cml__coreml__model_description__init(&desc);
    if (o->multifunction) {
        for (int i = 0; i < 2; i++) {
            cml__coreml__function_description__init(&fds[i]);
            fds[i].name = i ? "second" : "main";
            fds[i].n_input = 1;
            fds[i].input = fx.fdp;
            fds[i].n_output = 1;
            fds[i].output = fy.fdp;
        }
        desc.n_functions = 2;
        desc.functions = fdsp;
        desc.defaultfunctionname = "main";
    } else {
        desc.n_input = 1;
        desc.input = fx.fdp;
        desc.n_output = 1;
        desc.output = fy.fdp;
    }
    Cml__Coreml__Model m;
    cml__coreml__model__init(&m);
    m.specificationversion = o->spec;
    m.description = &desc;
    m.type_case = CML__COREML__MODEL__TYPE_ML_PROGRAM;
    m.mlprogram = &prog;
    *size = cml__coreml__model__get_packed_size(&m);
    uint8_t *buf = malloc(*size);
    cml__coreml__model__pack(&m, buf);
    return buf;
}

#endif
