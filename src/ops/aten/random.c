/*
 * Random tensors and dropout:
 *   rand.out(SymInt[] size, *, Tensor(a!) out)     uniform in [0, 1)
 *   randn.out(SymInt[] size, *, Tensor(a!) out)    standard normal
 *   native_dropout.out(Tensor input, float p, bool? train, *, Tensor(a!) out0,
 *                      Tensor(b!) out1)
 * out of rand/randn: float32/64, float16 or bfloat16 (upstream's set).
 *
 * The generator: each run of one of these ops takes the next stream seed
 * from a process-wide atomic counter (a Weyl sequence, so concurrent methods
 * never share a stream) and draws 64-bit values with splitmix64 from it.
 * Uniform doubles take the top 53 bits; normals use Box-Muller on two
 * uniforms. Upstream seeds a std::mt19937 from std::random_device on every
 * call, so no program can depend on the exact values; cml's sequence is
 * reproducible within a process (the n-th random op run in a process draws
 * the same numbers every time the process runs) and is not cryptographic.
 *
 * native_dropout follows torch: with train true or None and p > 0, each mask
 * element is kept (true) with probability 1 - p and out = input * mask /
 * (1 - p) (all zeros for p = 1); otherwise out is a copy of the input and the
 * mask all true. Upstream's portable kernel does the same but leaves kept
 * values unscaled; cml scales as torch does. The mask must be bool, out the
 * input's dtype; the training path needs a float input, the copy path any.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "ops/aten/aten_num.h"
#include "ops/aten/aten_ops.h"
#include "ops/aten/aten_util.h"

/* ---- the generator ---------------------------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static _Atomic uint64_t g_stream = 0x853c49e6748fea9bull;

static rng rng_next_stream(void) {
    rng r = {atomic_fetch_add(&g_stream, 0x9e3779b97f4a7c15ull)};
    return r;
}

static uint64_t rng_u64(rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_uniform(rng *r) { return (double)(rng_u64(r) >> 11) * 0x1.0p-53; }

static double rng_normal(rng *r) {
    double u1 = 1.0 - rng_uniform(r); /* (0, 1] */
    double u2 = rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---- rand / randn ------------------------------------------------------------- */

static cml_status rnd_read(cml_kernel_ctx *ctx, const char *op, cml_evalue **args, uint32_t nargs,
                           int64_t *sizes, uint32_t *rank, cml_tensor **out) {
    CML_TRY(cml_aten_nargs_is(ctx, op, nargs, 3));
    CML_TRY(cml_arg_int_list(ctx, op, args, 0, sizes, CML_MAX_DIMS, rank));
    if (*rank > CML_MAX_DIMS) return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, op, "%u dims", *rank);
    return cml_arg_tensor(ctx, op, args, 1, out);
}

static cml_status rnd_prepare(cml_kernel_ctx *ctx, const char *op, cml_evalue **args,
                              uint32_t nargs, size_t *scratch_bytes) {
    int64_t sizes[CML_MAX_DIMS];
    uint32_t rank;
    cml_tensor *out;
    CML_TRY(rnd_read(ctx, op, args, nargs, sizes, &rank, &out));
    if (!cml_aten_is_floating(out->dtype)) return cml_aten_bad_dtype(ctx, op, "output", out->dtype);
    CML_TRY(cml_aten_check_contiguous(ctx, op, out, "output"));
    *scratch_bytes = 0;
    return CML_OK;
}

/* The largest value below 1 of each float dtype. */
static double rnd_below_one(cml_dtype dt) {
    switch (dt) {
    case CML_DTYPE_FLOAT32: return 0x1.fffffep-1;
    case CML_DTYPE_FLOAT16: return 0x1.ffcp-1;
    case CML_DTYPE_BFLOAT16: return 0x1.fep-1;
    default: return 0x1.fffffffffffffp-1;
    }
}

static cml_status rnd_run(cml_kernel_ctx *ctx, const char *op, bool normal, cml_evalue **args,
                          uint32_t nargs) {
    int64_t sizes[CML_MAX_DIMS];
    uint32_t rank;
    cml_tensor *out;
    CML_TRY(rnd_read(ctx, op, args, nargs, sizes, &rank, &out));
    CML_TRY(cml_aten_resize(ctx, op, out, (int32_t)rank, sizes));
    rng r = rng_next_stream();
    int64_t n = cml_tensor_numel(out);
    for (int64_t i = 0; i < n; i++) {
        double v = normal ? rng_normal(&r) : rng_uniform(&r);
        if (!normal) v = fmin(v, rnd_below_one(out->dtype)); /* rounding must not reach 1 */
        cml_aten_num_set(out->dtype, out->data, (size_t)i, v);
    }
    return CML_OK;
}

cml_status cml_aten_rand_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                 size_t *scratch_bytes) {
    return rnd_prepare(ctx, "aten::rand.out", args, nargs, scratch_bytes);
}
cml_status cml_aten_rand_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return rnd_run(ctx, "aten::rand.out", false, args, nargs);
}
cml_status cml_aten_randn_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                  size_t *scratch_bytes) {
    return rnd_prepare(ctx, "aten::randn.out", args, nargs, scratch_bytes);
}
cml_status cml_aten_randn_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    return rnd_run(ctx, "aten::randn.out", true, args, nargs);
}

/* ---- native_dropout ------------------------------------------------------------ */

static const char DO[] = "aten::native_dropout.out";

typedef struct do_args {
    cml_tensor *x, *out, *mask;
    double p;
    bool train;
} do_args;

static cml_status do_read(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs, do_args *a) {
    CML_TRY(cml_aten_nargs_is(ctx, DO, nargs, 6));
    CML_TRY(cml_arg_tensor(ctx, DO, args, 0, &a->x));
    CML_TRY(cml_arg_double(ctx, DO, args, 1, &a->p));
    a->train = true;
    if (!cml_arg_is_none(args, 2)) CML_TRY(cml_arg_bool(ctx, DO, args, 2, &a->train));
    CML_TRY(cml_arg_tensor(ctx, DO, args, 3, &a->out));
    CML_TRY(cml_arg_tensor(ctx, DO, args, 4, &a->mask));
    if (!(a->p >= 0 && a->p <= 1))
        return cml_aten_fail(ctx, CML_ERR_INVALID_ARG, DO, "dropout probability %g not in [0, 1]", a->p);
    a->train = a->train && a->p != 0;
    return CML_OK;
}

cml_status cml_aten_native_dropout_out_prepare(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs,
                                           size_t *scratch_bytes) {
    do_args a;
    CML_TRY(do_read(ctx, args, nargs, &a));
    if (a.train ? !cml_aten_is_floating(a.x->dtype) : !cml_aten_is_known_dtype(a.x->dtype))
        return cml_aten_bad_dtype(ctx, DO, "input", a.x->dtype);
    if (a.out->dtype != a.x->dtype)
        return cml_aten_fail(ctx, CML_ERR_UNSUPPORTED, DO, "output dtype %s differs from input %s",
                         cml_dtype_name(a.out->dtype), cml_dtype_name(a.x->dtype));
    if (a.mask->dtype != CML_DTYPE_BOOL) return cml_aten_bad_dtype(ctx, DO, "mask (bool only)", a.mask->dtype);
    CML_TRY(cml_aten_check_contiguous(ctx, DO, a.x, "input"));
    CML_TRY(cml_aten_check_contiguous(ctx, DO, a.out, "output"));
    CML_TRY(cml_aten_check_contiguous(ctx, DO, a.mask, "mask"));
    *scratch_bytes = 0;
    return CML_OK;
}

cml_status cml_aten_native_dropout_out_run(cml_kernel_ctx *ctx, cml_evalue **args, uint32_t nargs) {
    do_args a;
    CML_TRY(do_read(ctx, args, nargs, &a));
    CML_TRY(cml_aten_resize(ctx, DO, a.out, a.x->rank, a.x->sizes));
    CML_TRY(cml_aten_resize(ctx, DO, a.mask, a.x->rank, a.x->sizes));
    int64_t n = cml_tensor_numel(a.x);
    uint8_t *m = a.mask->data;
    if (!a.train) {
        if (n && a.out->data != a.x->data) memmove(a.out->data, a.x->data, cml_tensor_nbytes(a.x));
        if (n) memset(m, 1, (size_t)n);
        return CML_OK;
    }
    rng r = rng_next_stream();
    double scale = a.p < 1 ? 1.0 / (1.0 - a.p) : 0.0;
    for (int64_t i = 0; i < n; i++) {
        m[i] = rng_uniform(&r) >= a.p;
        double v = m[i] ? cml_aten_num_get(a.x->dtype, a.x->data, (size_t)i) * scale : 0.0;
        cml_aten_num_set(a.out->dtype, a.out->data, (size_t)i, v);
    }
    return CML_OK;
}
