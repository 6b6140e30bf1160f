/* Robustness: every registered operator is called with random argument
 * kinds and hostile values (huge and negative ints, wrong kinds, odd shapes,
 * empty tensors, NaN scalars). prepare/run must return a status, never
 * crash, read or write out of bounds, or hit undefined behaviour (the suite
 * runs this under ASan + UBSan). Argument layouts are half the time the
 * plausible ones for the op (tensor where a tensor is expected) so that the
 * deeper paths are reached too. */
#include "test_aten_util.h"

/* Iterations per template; raise with -DFUZZ_ITERS=... for a long run, and
 * pick another stream with CML_FUZZ_SEED=n in the environment. */
#ifndef FUZZ_ITERS
#define FUZZ_ITERS 400
#endif

static const int64_t k_ints[] = {0, 1, -1, 2, 3, -2, 7, INT64_MAX, INT64_MIN, (int64_t)1 << 40,
                                 -((int64_t)1 << 40), 1 << 20, 4, 5};
#define NINTS (sizeof k_ints / sizeof k_ints[0])

static int64_t rand_int(void) { return k_ints[tv_rand() % NINTS]; }

static const cml_dtype k_dtypes[] = {CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT16,
                                     CML_DTYPE_INT64,   CML_DTYPE_INT32,   CML_DTYPE_BOOL,
                                     CML_DTYPE_UINT8,   CML_DTYPE_FLOAT64};

static cml_evalue *rand_tensor(tenv *e) {
    int32_t rank = (int32_t)tv_randint(0, 4);
    int64_t sz[4];
    for (int32_t d = 0; d < rank; d++) sz[d] = tv_randint(0, 4);
    cml_dtype dt = k_dtypes[tv_rand() % (sizeof k_dtypes / sizeof k_dtypes[0])];
    uint8_t dyn = (tv_rand() % 2) ? CML_SHAPE_DYNAMIC_BOUND : CML_SHAPE_STATIC;
    int64_t n = 1;
    for (int32_t d = 0; d < rank; d++) n *= sz[d];
    cml_evalue *v = tv_tensor_cap(e, dt, rank, sz, n + (dyn ? tv_randint(0, 64) : 0), dyn);
    tv_fill_rand(v);
    if (rank == 4 && tv_rand() % 4 == 0) { /* channels last */
        T(v)->dim_order[1] = 2;
        T(v)->dim_order[2] = 3;
        T(v)->dim_order[3] = 1;
    }
    return v;
}

static cml_evalue *rand_value_kind(tenv *e, int kind, int depth);

static cml_evalue *rand_value(tenv *e, int depth) { return rand_value_kind(e, -1, depth); }

/* A random value; kind >= 0 picks that value kind (a shape learned from an
 * earlier successful prepare), -1 any kind. */
static cml_evalue *rand_value_kind(tenv *e, int kind, int depth) {
    int pick = (int)(tv_rand() % 9);
    switch (kind) {
    case CML_VALUE_TENSOR: pick = 0; break;
    case CML_VALUE_INT: pick = 2; break;
    case CML_VALUE_DOUBLE: pick = 3; break;
    case CML_VALUE_BOOL: pick = 4; break;
    case CML_VALUE_NULL: pick = 5; break;
    case CML_VALUE_INT_LIST: pick = 6; break;
    case CML_VALUE_TENSOR_LIST:
    case CML_VALUE_OPT_TENSOR_LIST: pick = 7; break;
    case CML_VALUE_STRING: pick = 8; break;
    default: break;
    }
    if (kind == CML_VALUE_INT && tv_rand() % 3) return tv_int(e, tv_randint(-2, 4));
    switch (pick) {
    case 0:
    case 1: return rand_tensor(e);
    case 2: return tv_int(e, rand_int());
    case 3: return tv_double(e, (tv_rand() % 4 == 0) ? NAN : (double)tv_randf() * 1e3);
    case 4: return tv_bool(e, tv_rand() & 1);
    case 5: return tv_null(e);
    case 6: {
        uint32_t n = (uint32_t)tv_randint(0, 5);
        int64_t vals[5];
        for (uint32_t k = 0; k < n; k++) vals[k] = (tv_rand() % 3) ? tv_randint(-2, 4) : rand_int();
        return tv_int_list(e, n, vals);
    }
    case 7: {
        if (depth > 0) return tv_null(e);
        uint32_t n = (uint32_t)tv_randint(0, 3);
        cml_evalue *items[3];
        for (uint32_t k = 0; k < n; k++) items[k] = rand_tensor(e);
        cml_evalue *l = tv_tensor_list(e, n, items);
        if (tv_rand() % 2) l->kind = CML_VALUE_OPT_TENSOR_LIST;
        return l;
    }
    default: return tv_str(e, (tv_rand() % 2) ? "none" : "floor");
    }
}


/* ---- template-seeded mutation ------------------------------------------------------
 * A valid call per op, written as tokens: T:dtype:dims (tensor, dims like 2x3,
 * empty = rank 0), O:dtype:rank (dynamic output, large bound), I:n, D:x, B:0/1,
 * N (null), L:a,b (int list), S:str, TL:k (tensor list of the previous k
 * tensor args), OL:k (list of the previous k outputs), R (the previous arg
 * again, i.e. the return). */
typedef struct templ {
    const char *op;
    const char *spec;
} templ;

static const templ k_templates[] = {
    {"aten::convolution.out", "T:f32:1x4x6x6 T:f32:6x2x3x3 T:f32:6 L:1,1 L:1,1 L:1,1 B:0 L:0,0 I:2 O:f32:4 R"},
    {"aten::convolution.out", "T:f32:1x4x7 T:f32:4x3x3 N L:2 L:1 L:1 B:1 L:1 I:1 O:f32:3 R"},
    {"aten::avg_pool2d.out", "T:f32:1x2x7x7 L:3,3 L:2,2 L:1,1 B:1 B:0 N O:f32:4 R"},
    {"aten::max_pool2d_with_indices.out", "T:f32:1x2x7x7 L:3,3 L:2,2 L:1,1 L:1,1 B:1 O:f32:4 O:i64:4 OL:2"},
    {"aten::_adaptive_avg_pool2d.out", "T:f32:1x2x7x5 L:3,2 O:f32:4 R"},
    {"aten::_native_batch_norm_legit_no_training.out", "T:f32:2x3x4 T:f32:3 T:f32:3 T:f32:3 T:f32:3 D:0.1 D:0.00001 O:f32:3 O:f32:1 O:f32:1 OL:3"},
    {"aten::native_layer_norm.out", "T:f32:2x3x4 L:4 T:f32:4 T:f32:4 D:0.00001 O:f32:3 O:f32:3 O:f32:3 OL:3"},
    {"aten::native_group_norm.out", "T:f32:2x4x3 T:f32:4 T:f32:4 I:2 I:4 I:3 I:2 D:0.00001 O:f32:3 O:f32:2 O:f32:2 OL:3"},
    {"aten::_softmax.out", "T:f32:2x3x4 I:1 B:0 O:f32:3 R"},
    {"aten::_log_softmax.out", "T:f16:2x3x4 I:-1 B:0 O:f16:3 R"},
    {"aten::addmm.out", "T:f32:5 T:f32:3x4 T:f32:4x5 D:0.5 I:2 O:f32:2 R"},
    {"aten::mm.out", "T:f32:3x4 T:f32:4x5 O:f32:2 R"},
    {"aten::bmm.out", "T:f32:2x3x4 T:f32:2x4x5 O:f32:3 R"},
    {"aten::linear.out", "T:f32:2x3x4 T:f32:5x4 T:f32:5 O:f32:3 R"},
    {"aten::mean.out", "T:f32:2x3x4 L:0,2 B:1 N O:f32:3 R"},
    {"aten::sum.IntList_out", "T:f32:2x3x4 L:-1 B:0 N O:f32:2 R"},
    {"aten::amax.out", "T:f32:2x3x4 L:1 B:0 O:f32:2 R"},
    {"aten::amin.out", "T:f32:2x3x4 L: B:0 O:f32: R"},
    {"aten::argmax.out", "T:f32:2x3x4 I:1 B:0 O:i64:2 R"},
    {"aten::argmin.out", "T:f32:2x3x4 N B:1 O:i64:3 R"},
    {"aten::view_copy.out", "T:f32:2x3x4 L:-1,4 O:f32:2 R"},
    {"executorch_prim::et_view.default", "T:f32:2x3x4 L:6,-1 O:f32:2"},
    {"aten::permute_copy.out", "T:f32:2x3x4 L:2,0,1 O:f32:3 R"},
    {"aten::expand_copy.out", "T:f32:3x1 L:2,3,4 B:0 O:f32:3 R"},
    {"aten::repeat.out", "T:i64:3x1 L:2,2,3 O:i64:3 R"},
    {"aten::cat.out", "T:f32:2x3 T:f32:2x1 TL:2 I:1 O:f32:2 R"},
    {"aten::stack.out", "T:f32:2x3 T:f32:2x3 TL:2 I:1 O:f32:3 R"},
    {"aten::slice_copy.Tensor_out", "T:f32:4x5 I:1 I:1 I:4 I:2 O:f32:2 R"},
    {"aten::select_copy.int_out", "T:f32:4x5 I:1 I:-2 O:f32:1 R"},
    {"aten::unbind_copy.int_out", "T:f32:2x3 I:0 O:f32:1 O:f32:1 TL:2 R"},
    {"aten::split_with_sizes_copy.out", "T:f32:5x3 L:2,3 I:0 O:f32:2 O:f32:2 TL:2 R"},
    {"aten::split_copy.Tensor_out", "T:f32:5x3 I:3 I:0 O:f32:2 O:f32:2 TL:2 R"},
    {"aten::squeeze_copy.dims_out", "T:f32:1x3x1 L:0,2 O:f32:1 R"},
    {"aten::squeeze_copy.dim_out", "T:f32:1x3x1 I:-1 O:f32:2 R"},
    {"aten::unsqueeze_copy.out", "T:f32:3x2 I:1 O:f32:3 R"},
    {"aten::transpose_copy.int_out", "T:f32:3x2x4 I:0 I:2 O:f32:3 R"},
    {"aten::t_copy.out", "T:f32:3x2 O:f32:2 R"},
    {"aten::_to_copy.out", "T:f32:3x2 B:0 N O:f16:2 R"},
    {"dim_order_ops::_to_dim_order_copy.out", "T:i64:3x2 B:0 L:0,1 O:f32:2 R"},
    {"dim_order_ops::_clone_dim_order.out", "T:f32:3x2 B:0 N O:f32:2 R"},
    {"aten::clone.out", "T:f32:3x2 N O:f32:2 R"},
    {"aten::constant_pad_nd.out", "T:f32:3x2 L:1,2,0,1 D:0.5 O:f32:2 R"},
    {"aten::full.out", "L:2,3 D:1.5 O:f32:2 R"},
    {"aten::full_like.out", "T:i32:2x3 I:4 N O:i32:2 R"},
    {"aten::arange.start_out", "I:0 I:10 I:3 O:i64:1 R"},
    {"aten::embedding.out", "T:f32:10x4 T:i64:2x3 I:-1 B:0 B:0 O:f32:3 R"},
    {"aten::index.Tensor_out", "T:f32:4x3x5 N T:i64:3 TL:2 O:f32:3 R"},
    {"aten::index_select.out", "T:f32:4x3x5 I:2 T:i64:3 O:f32:3 R"},
    {"aten::index_put.out", "T:f32:4x3x5 N T:i64:3 TL:2 T:f32:5 B:1 O:f32:3 R"},
    {"aten::index_put_", "T:f32:4x3x5 T:b8:4 TL:1 T:f32:5 B:0 R3"},
    {"aten::gather.out", "T:f32:4x3x5 I:1 T:i64:4x3x5 B:0 O:f32:3 R"},
    {"aten::scatter.src_out", "T:f32:4x3x5 I:2 T:i64:2x3x4 T:f32:4x3x5 O:f32:3 R"},
    {"aten::scatter.value_out", "T:i32:4x3x5 I:0 T:i64:2x3x4 D:1.5 O:i32:3 R"},
    {"aten::scatter_add.out", "T:f16:4x3x5 I:-1 T:i64:2x3x4 T:f16:4x3x5 O:f16:3 R"},
    {"aten::masked_scatter.out", "T:f32:2x3 T:b8:3 T:f32:6 O:f32:2 R"},
    {"aten::masked_select.out", "T:f32:2x3 T:b8:3 O:f32:1 R"},
    {"aten::nonzero.out", "T:f32:2x3 O:i64:2 R"},
    {"aten::repeat_interleave.Tensor_out", "T:i64:4 N O:i64:1 R"},
    {"aten::select_scatter.out", "T:f32:4x3 T:f32:3 I:0 I:-1 O:f32:2 R"},
    {"aten::slice_scatter.out", "T:f32:4x5 T:f32:4x2 I:1 I:1 I:4 I:2 O:f32:2 R"},
    {"aten::diagonal_copy.out", "T:f32:3x4x5 I:1 I:0 I:2 O:f32:2 R"},
    {"aten::as_strided_copy.out", "T:f32:4x5 L:3,2 L:5,1 I:2 O:f32:2 R"},
    {"aten::narrow_copy.out", "T:f32:4x5 I:1 I:-3 I:2 O:f32:2 R"},
    {"aten::unfold_copy.out", "T:f32:2x7 I:1 I:3 I:2 O:f32:3 R"},
    {"aten::flip.out", "T:f32:2x3x4 L:0,-1 O:f32:3 R"},
    {"aten::roll.out", "T:f32:2x3x4 L:1,-5 L:0,2 O:f32:3 R"},
    {"aten::tril.out", "T:f32:2x3x4 I:-1 O:f32:3 R"},
    {"aten::topk.values", "T:f32:2x7 I:3 I:-1 B:1 B:1 O:f32:2 O:i64:2 OL:2"},
    {"aten::cumsum.out", "T:i32:2x3 I:1 N O:i64:2 R"},
    {"aten::empty.out", "L:2,3 N O:f32:2 R"},
    {"dim_order_ops::_empty_dim_order.out", "L:2,3 N O:f32:2 R"},
    {"et_copy::_h2d_copy.out", "T:f32:2x3 O:f32:2 R"},
    {"et_copy::_d2h_copy.out", "T:i64:2x3 O:i64:2 R"},
    {"aten::copy_", "T:f32:2x3 T:f32:3 B:0 R3"},
    {"aten::where.self_out", "T:b8:2x3 T:f32:3 T:f32:2x1 O:f32:2 R"},
    {"aten::add.out", "T:f32:2x3 T:f32:3 I:2 O:f32:2 R"},
    {"aten::sub.Scalar_out", "T:i64:2x3 I:4 I:2 O:i64:2 R"},
    {"aten::div.out_mode", "T:i64:2x3 T:i64:3 S:floor O:i64:2 R"},
    {"aten::elu.out", "T:f32:2x3 D:1.0 I:1 I:1 O:f32:2 R"},
    {"aten::clamp.out", "T:i64:2x3 N I:3 O:i64:2 R"},
    {"aten::hardtanh.out", "T:f16:2x3 I:0 I:6 O:f16:2 R"},
    {"aten::gelu.out", "T:f32:2x3 S:tanh O:f32:2 R"},
    {"aten::masked_fill.Scalar_out", "T:f32:2x3 T:b8:3 D:0.5 O:f32:2 R"},
    {"aten::upsample_nearest2d.vec_out", "T:f32:1x2x3x4 L:5,7 N O:f32:4 R"},
    {"aten::upsample_nearest2d.out", "T:u8:1x2x3x4 L:6,8 D:2.0 N O:u8:4 R"},
    {"aten::_local_scalar_dense", "T:i64:1 I:0"},
    {"aten::atan2.out", "T:i32:2x3 T:f16:3 O:f32:2 R"},
    {"aten::fmod.Tensor_out", "T:i64:2x3 T:i32:3 O:i64:2 R"},
    {"aten::remainder.Scalar_out", "T:f16:2x3 D:-1.5 O:f16:2 R"},
    {"aten::bitwise_left_shift.Tensor_out", "T:u8:2x3 T:i64:3 O:i64:2 R"},
    {"aten::bitwise_xor.Scalar_out", "T:b8:2x3 I:6 O:i64:2 R"},
    {"aten::clamp.Tensor_out", "T:f32:2x3 T:i32:3 T:f16:2x1 O:f32:2 R"},
    {"aten::logit.out", "T:f16:2x3 D:0.1 O:f32:2 R"},
    {"aten::fill.Tensor_out", "T:i32:2x3 T:f32: O:i32:2 R"},
    {"aten::sum.IntList_out", "T:b8:2x3x4 L:-1 B:0 N O:i64:2 R"},
    {"executorch_prim::et_copy_index.tensor", "T:f32:1x3 T:f32:3 I:0"},
};

static cml_dtype parse_dtype(const char **p) {
    static const struct { const char *n; cml_dtype d; } map[] = {
        {"f32", CML_DTYPE_FLOAT32}, {"f16", CML_DTYPE_FLOAT16}, {"i64", CML_DTYPE_INT64},
        {"i32", CML_DTYPE_INT32},   {"b8", CML_DTYPE_BOOL},     {"u8", CML_DTYPE_UINT8}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t l = strlen(map[i].n);
        if (strncmp(*p, map[i].n, l) == 0) {
            *p += l;
            return map[i].d;
        }
    }
    return CML_DTYPE_FLOAT32;
}

/* Builds the args of a template; returns the count. */
static uint32_t build_template(tenv *e, const char *spec, cml_evalue **args) {
    uint32_t n = 0;
    const char *p = spec;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        if (p[0] == 'T' && p[1] == ':') {
            p += 2;
            cml_dtype dt = parse_dtype(&p);
            p++; /* ':' */
            int64_t sz[8];
            int32_t r = 0;
            while (*p && *p != ' ') {
                sz[r++] = strtoll(p, (char **)&p, 10);
                if (*p == 'x') p++;
            }
            args[n] = tv_tensor(e, dt, r, sz);
            tv_fill_rand(args[n]);
            if (dt == CML_DTYPE_INT64 || dt == CML_DTYPE_INT32) { /* small non-negative indices */
                for (int64_t i = 0; i < cml_tensor_numel(T(args[n])); i++) {
                    if (dt == CML_DTYPE_INT64) ((int64_t *)T(args[n])->data)[i] = tv_randint(0, 2);
                    else ((int32_t *)T(args[n])->data)[i] = (int32_t)tv_randint(0, 2);
                }
            }
            n++;
        } else if (p[0] == 'O' && p[1] == ':') {
            p += 2;
            cml_dtype dt = parse_dtype(&p);
            p++;
            int32_t r = (int32_t)strtol(p, (char **)&p, 10);
            args[n++] = tv_dyn_out(e, dt, r, 4096);
        } else if (p[0] == 'O' && p[1] == 'L') {
            p += 3;
            uint32_t k = (uint32_t)strtoul(p, (char **)&p, 10);
            args[n] = tv_tensor_list(e, k, args + n - k);
            n++;
        } else if (p[0] == 'T' && p[1] == 'L') {
            p += 3;
            uint32_t k = (uint32_t)strtoul(p, (char **)&p, 10);
            cml_evalue *items[8];
            for (uint32_t j = 0; j < k; j++) items[j] = args[n - k + j];
            n -= k;
            bool opt = false;
            for (uint32_t j = 0; j < k; j++) opt = opt || items[j]->kind == CML_VALUE_NULL;
            cml_evalue *l = tv_tensor_list(e, k, items);
            if (opt) {
                l->kind = CML_VALUE_OPT_TENSOR_LIST;
                for (uint32_t j = 0; j < k; j++)
                    if (items[j]->kind == CML_VALUE_NULL) ((int32_t *)l->u.tensor_list.items)[j] = -1;
            }
            args[n++] = l;
        } else if (p[0] == 'R' && p[1] == '3') { /* copy_: the return is self */
            p += 2;
            args[n] = args[0];
            n++;
        } else if (p[0] == 'R') {
            p++;
            args[n] = args[n - 1];
            n++;
        } else if (p[0] == 'I') {
            p += 2;
            args[n++] = tv_int(e, strtoll(p, (char **)&p, 10));
        } else if (p[0] == 'D') {
            p += 2;
            args[n++] = tv_double(e, strtod(p, (char **)&p));
        } else if (p[0] == 'B') {
            p += 2;
            args[n++] = tv_bool(e, *p == '1');
            p++;
        } else if (p[0] == 'N') {
            p++;
            args[n++] = tv_null(e);
        } else if (p[0] == 'S') {
            p += 2;
            const char *start = p;
            while (*p && *p != ' ') p++;
            static char strs[64][16];
            static int si = 0;
            char *dst = strs[si++ % 64];
            snprintf(dst, 16, "%.*s", (int)(p - start), start);
            args[n++] = tv_str(e, dst);
        } else if (p[0] == 'L') {
            p += 2;
            int64_t vals[16];
            uint32_t k = 0;
            while (*p && *p != ' ') {
                vals[k++] = strtoll(p, (char **)&p, 10);
                if (*p == ',') p++;
            }
            args[n++] = tv_int_list(e, k, vals);
        } else {
            p++;
        }
    }
    return n;
}

/* Replaces the content of one argument with a hostile value of the same kind.
 * late: after prepare, where only what can change at run time may change
 * (scalar and list values, tensor shapes within capacity), never a value's
 * identity or a tensor's dtype. */
static void mutate(tenv *e, cml_evalue **args, uint32_t n, bool late) {
    uint32_t k = (uint32_t)(tv_rand() % n);
    cml_evalue *v = args[k];
    switch (v->kind) {
    case CML_VALUE_INT: v->u.i = (tv_rand() % 2) ? rand_int() : tv_randint(-6, 6); break;
    case CML_VALUE_DOUBLE: v->u.d = (tv_rand() % 3 == 0) ? NAN : (double)rand_int(); break;
    case CML_VALUE_BOOL: v->u.b = !v->u.b; break;
    case CML_VALUE_INT_LIST: {
        uint32_t c = v->u.int_list.count;
        if (c && tv_rand() % 4) {
            cml_evalue *item = &e->v[v->u.int_list.items[tv_rand() % c]];
            item->u.i = (tv_rand() % 2) ? rand_int() : tv_randint(-6, 6);
        } else if (c) {
            v->u.int_list.count = (uint32_t)tv_randint(0, c - 1);
        }
        break;
    }
    case CML_VALUE_TENSOR: {
        cml_tensor *t = v->u.t;
        switch (tv_rand() % (late ? 3 : 4)) {
        case 0: /* shrink a dim (never grows: stays within capacity) */
            if (t->rank) {
                uint32_t d = tv_rand() % (uint32_t)t->rank;
                int64_t nv = tv_randint(0, 1);
                if (nv < t->sizes[d]) t->sizes[d] = nv;
            }
            break;
        case 1: /* drop to rank 1 within capacity */
            if (t->rank > 1) {
                int64_t numel = cml_tensor_numel(t);
                t->rank = 1;
                t->sizes[0] = numel ? tv_randint(0, 1) : 0;
                t->dim_order[0] = 0;
            }
            break;
        case 2: /* poison integer data (indices) */
            if (t->dtype == CML_DTYPE_INT64)
                for (int64_t i = 0; i < cml_tensor_numel(t); i++) ((int64_t *)t->data)[i] = rand_int();
            break;
        default: args[k] = rand_tensor(e); break;
        }
        break;
    }
    default:
        if (!late) args[k] = rand_value(e, 0);
        break;
    }
}

static void template_fuzz(long *templ_ok) {
    for (size_t i = 0; i < sizeof k_templates / sizeof k_templates[0]; i++) {
        const templ *t = &k_templates[i];
        const cml_op *op = cml_op_find(t->op, strlen(t->op));
        CHECK_MSG(op != NULL, "%s", t->op);
        if (!op) continue;
        for (int it = 0; it < FUZZ_ITERS; it++) {
            static tenv e; /* static: large, keep it off the stack */
            tv_init(&e);
            cml_evalue *args[24];
            uint32_t n = build_template(&e, t->spec, args);
            CHECK_MSG(n == op->nargs, "%s: template has %u args, op %u", t->op, n, op->nargs);
            if (n != op->nargs) {
                tv_free(&e);
                break;
            }
            int muts = it == 0 ? 0 : (int)tv_randint(1, 3);
            /* mutations that happen after prepare model run-time changes (SymInts, shapes) */
            bool late = tv_rand() % 2;
            if (!late)
                for (int m = 0; m < muts; m++) mutate(&e, args, n, false);
            cml_kernel_ctx ctx = {&e.err, NULL, e.v, e.n, NULL, 0, false};
            size_t need = 0;
            cml_error_clear(&e.err);
            cml_status st = op->prepare(&ctx, args, n, &need);
            if (it == 0) CHECK_MSG(st == CML_OK, "%s template: %s", t->op, e.err.msg);
            if (st == CML_OK) {
                if (late)
                    for (int m = 0; m < muts; m++) mutate(&e, args, n, true);
                void *scratch = need ? aligned_alloc(64, (need + 63) & ~(size_t)63) : NULL;
                ctx.scratch = scratch;
                ctx.scratch_size = need;
                ctx.nvalues = e.n;
                st = op->run(&ctx, args, n);
                if (it == 0) /* random integer data may divide by zero */
                    CHECK_MSG(st == CML_OK || strstr(e.err.msg, "division by zero"), "%s template run: %s",
                              t->op, e.err.msg);
                if (st == CML_OK) (*templ_ok)++;
                else CHECK_MSG(e.err.msg[0] != '\0', "%s: failed run without a message", t->op);
                free(scratch);
            }
            tv_free(&e);
        }
    }
}

int main(void) {
    const char *seed = getenv("CML_FUZZ_SEED");
    if (seed) tv_rng_state ^= (uint64_t)strtoull(seed, NULL, 10) * 0x9E3779B97F4A7C15ull;
    size_t nops = 0;
    const cml_op *ops = cml_op_table(&nops);
    long calls = 0, prepared = 0, ran_ok = 0;
    for (size_t oi = 0; oi < nops; oi++) {
        const cml_op *op = &ops[oi];
        int learned[16];
        bool have_learned = false;
        for (int it = 0; it < 600; it++) {
            static tenv e; /* static: large, keep it off the stack */
            tv_init(&e);
            cml_evalue *args[16];
            uint32_t n = op->nargs;
            bool plausible = it % 2 == 0;
            bool guided = have_learned && it % 3 != 0;
            for (uint32_t k = 0; k < n; k++) {
                if (guided) {
                    args[k] = rand_value_kind(&e, tv_rand() % 16 ? learned[k] : -1, 0);
                } else if (plausible && k + 1 < n) {
                    /* mostly tensors for early args, small ints/lists after */
                    int r = (int)(tv_rand() % 6);
                    args[k] = k == 0 || r < 2 ? rand_tensor(&e) : rand_value(&e, 0);
                } else {
                    args[k] = rand_value(&e, 0);
                }
            }
            /* The return usually aliases the out arg, as the emitter does. */
            if (n >= 2 && (tv_rand() % 4) != 0) args[n - 1] = args[n - 2];
            cml_error_clear(&e.err);
            cml_kernel_ctx ctx = {&e.err, NULL, e.v, e.n, NULL, 0, false};
            size_t need = 0;
            calls++;
            cml_status st = op->prepare(&ctx, args, n, &need);
            if (st != CML_OK) {
                CHECK_MSG(e.err.msg[0] != '\0', "%s: failed prepare without a message", op->name);
                tv_free(&e);
                continue;
            }
            prepared++;
            for (uint32_t k = 0; k < n; k++) learned[k] = (int)args[k]->kind;
            have_learned = true;
            CHECK_MSG(need < ((size_t)1 << 32), "%s: scratch %zu", op->name, need);
            void *scratch = need ? aligned_alloc(64, (need + 63) & ~(size_t)63) : NULL;
            ctx.scratch = scratch;
            ctx.scratch_size = need;
            st = op->run(&ctx, args, n);
            if (st == CML_OK) ran_ok++;
            else CHECK_MSG(e.err.msg[0] != '\0', "%s: failed run without a message", op->name);
            /* Running twice (state from the first run) must also be safe. */
            (void)op->run(&ctx, args, n);
            free(scratch);
            tv_free(&e);
        }
    }
    long templ_ok = 0;
    template_fuzz(&templ_ok);
    printf("fuzz: %ld random calls, %ld prepared, %ld ran ok; %ld template mutations ran ok\n", calls,
           prepared, ran_ok, templ_ok);
    CHECK(prepared > 0 && ran_ok > 0);
    TEST_MAIN_END();
}
