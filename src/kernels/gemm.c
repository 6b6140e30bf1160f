/* gemm driver (blocking, threading) and the scalar kit. */
#include <string.h>

#include "core/checked.h"
#include "core/fp16.h"
#include "kernels/dwconv.h"
#include "kernels/gemm_common.h"
#include "kernels/kinternal.h"

/* ---- scalar kit ------------------------------------------------------------ */

#define S_MR 4
#define S_NR 8

static CML_ALWAYS_INLINE void ukr_scalar_body(const int MR, size_t kc, const float *A,
                                              size_t lda, const float *Bp, float *C,
                                              size_t ldc, size_t nr, const cml_gemm_epi *e) {
    float acc[S_MR][S_NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < S_NR; j++) acc[i][j] = 0.0f;
    for (size_t k = 0; k < kc; k++) {
        const float *b = Bp + k * S_NR;
        for (int i = 0; i < MR; i++) {
            float a = A[(size_t)i * lda + k];
            for (int j = 0; j < S_NR; j++) acc[i][j] += a * b[j];
        }
    }
    for (int i = 0; i < MR; i++) {
        float *c = C + (size_t)i * ldc;
        for (size_t j = 0; j < nr; j++) {
            float v = acc[i][j];
            if (e->bias) v += e->bias[j];
            if (e->rbias) v += e->rbias[i];
            if (e->load_c) v += c[j];
            if (e->clamp) v = v > e->hi ? e->hi : v, v = v < e->lo ? e->lo : v;
            if (e->round16) v = cml_round_fp16(v);
            if (e->res) {
                v += e->res[(size_t)i * ldc + j];
                if (e->round16) v = cml_round_fp16(v);
            }
            c[j] = v;
        }
    }
}

#define S_UKR(mr)                                                                          \
    static void ukr_scalar_##mr(size_t kc, const float *A, size_t lda, const float *Bp,    \
                                float *C, size_t ldc, size_t nr, const cml_gemm_epi *e) {   \
        ukr_scalar_body(mr, kc, A, lda, Bp, C, ldc, nr, e);                                \
    }
S_UKR(1)
S_UKR(2)
S_UKR(3)
S_UKR(4)

static void pack_n_scalar(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    cml_gemm_pack_n_impl(0, S_NR, kc, nr, B, ldb, Bp);
}
static void pack_t_scalar(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    cml_gemm_pack_t_impl(0, S_NR, kc, nr, B, ldb, Bp);
}
static void pack_n_scalar_h(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    cml_gemm_pack_n_impl(1, S_NR, kc, nr, B, ldb, Bp);
}
static void pack_t_scalar_h(size_t kc, size_t nr, const void *B, size_t ldb, float *Bp) {
    cml_gemm_pack_t_impl(1, S_NR, kc, nr, B, ldb, Bp);
}

const cml_gemm_kit cml_gemm_kit_scalar = {
    .mr = S_MR,
    .nr = S_NR,
    .kc = 256,
    .ukr = {NULL, ukr_scalar_1, ukr_scalar_2, ukr_scalar_3, ukr_scalar_4},
    .pack_n = {pack_n_scalar, pack_n_scalar_h},
    .pack_t = {pack_t_scalar, pack_t_scalar_h},
    .small_n = {NULL, NULL},
    .small_t = {NULL, NULL},
    .small_t_max_m = 0,
    .small_col_align = 8,
    .round16 = 1,
};

bool cml_k_gemm_takes_f16(void) {
    const cml_gemm_kit *kit = cml_k_gemm_kit();
    return kit->pack_n[1] && kit->pack_t[1] && (kit->small_n[1] || !kit->small_n[0]) &&
           (kit->small_t[1] || !kit->small_t[0]);
}

/* ---- driver ------------------------------------------------------------------ */

#define GEMM_PACK_FLOATS (256 * 32) /* kc * nr of every kit fits */
#define GEMM_MC_TARGET 384          /* rows of A swept per packed B panel */
#define GEMM_PARALLEL_MIN_FLOPS (1u << 19)

typedef struct gemm_job {
    const cml_gemm_kit *kit;
    size_t M, N, K;
    const float *A;
    const uint16_t *A16; /* A as fp16 bits instead of A (widened tile by tile) */
    size_t lda;
    const void *B; /* float, or fp16 bits when b_f16 */
    size_t ldb;
    bool trans_b;
    int b_f16;
    cml_gemm_bpack_fn bpack; /* when set, packs op(B) panels instead of B */
    void *bpack_ctx;
    const void *packed; /* prepacked op(B) (kernels.h), nr = packed_nr; B unused */
    size_t packed_nr;
    const float *rbias; /* per-row bias */
    bool clamp;
    float lo, hi;
    bool round16;     /* results rounded to fp16 after the clamp */
    const float *res; /* residual added last (leading dimension ldc) */
    const float *bias;
    float *C;
    size_t ldc;
    bool accumulate;
    /* parallel split */
    size_t cols_per_chunk, rows_per_chunk, col_chunks;
} gemm_job;

/* B advanced by off elements of its type. */
static const void *b_at(const gemm_job *g, size_t off) {
    return (const char *)g->B + off * (g->b_f16 ? sizeof(uint16_t) : sizeof(float));
}

/* Start of rows [pc, ...) of the prepacked panel holding column jr (same nr). */
static const char *packed_at(const gemm_job *g, size_t pc, size_t jr) {
    size_t NR = g->packed_nr, off = (jr / NR) * g->K * NR + pc * NR;
    return (const char *)g->packed + off * (g->b_f16 ? sizeof(uint16_t) : sizeof(float));
}

/* Prefetches part t of `parts` of [p, p + bytes): the next panel streams in
 * from memory while the current one is multiplied. */
static void prefetch_part(const char *p, size_t bytes, size_t t, size_t parts) {
    size_t lines = (bytes + 63) / 64, per = (lines + parts - 1) / parts;
#if defined(__GNUC__)
    for (size_t l = t * per; l < lines && l < (t + 1) * per; l++) __builtin_prefetch(p + l * 64);
#else
    (void)p, (void)lines, (void)per, (void)t;
#endif
}

/* Rows [pc, pc+kc) x columns [jr, jr+nr) of a prepacked op(B) as a KC x NR
 * panel: read in place (float, same nr), widened into Bp (fp16, same nr),
 * or gathered into Bp (a pack made for another nr). */
static const float *packed_panel(const gemm_job *g, size_t pc, size_t kc, size_t jr, size_t nr,
                                 float *Bp) {
    const size_t NR = (size_t)g->kit->nr, PNR = g->packed_nr, K = g->K;
    if (PNR == NR) {
        size_t off = (jr / NR) * K * NR + pc * NR;
        if (!g->b_f16 && ((uintptr_t)g->packed % 64) == 0) return (const float *)g->packed + off;
        if (!g->b_f16) {
            memcpy(Bp, (const float *)g->packed + off, kc * NR * sizeof(float));
            return Bp;
        }
        cml_k_vec_kit()->f16_to_f32((const uint16_t *)g->packed + off, Bp, kc * NR);
        return Bp;
    }
    for (size_t k = 0; k < kc; k++)
        for (size_t j = 0; j < NR; j++) {
            size_t col = jr + j, off = (col / PNR) * K * PNR + (pc + k) * PNR + col % PNR;
            Bp[k * NR + j] = j >= nr ? 0.0f
                             : g->b_f16 ? cml_fp16_to_fp32(((const uint16_t *)g->packed)[off])
                                        : ((const float *)g->packed)[off];
        }
    return Bp;
}

/* fp16 A is widened one MC x KC block at a time into a stack buffer of
 * GEMM_A16_FLOATS (48 rows of KC 256: a multiple of every kit's MR), so
 * each weight is widened once per block of columns rather than once per
 * register tile. */
#define GEMM_A16_FLOATS (48 * 256)

/* Rows [m0, m1) x columns [pc, pc+kc) of an fp16 A widened into Ap
 * (leading dimension kc). */
static void widen_a(const gemm_job *g, size_t m0, size_t m1, size_t pc, size_t kc, float *Ap) {
    const cml_vec_kit *vk = cml_k_vec_kit();
    for (size_t i = m0; i < m1; i++)
        vk->f16_to_f32(g->A16 + i * g->lda + pc, Ap + (i - m0) * kc, kc);
}

/* Rows [i0, i0+rows) x columns [j0, j0+cols) of C finished in the driver
 * (for kits whose ukr does not apply round16 / res, after the small-M
 * kernels and K == 0): rounded to fp16 as cml_k_conv_epi does at this
 * level, then the residual added and the sum rounded again. */
static void finish_rows(const gemm_job *g, size_t i0, size_t j0, size_t rows, size_t cols) {
    static const cml_conv_epi round_only = {.round16 = true};
    if (!g->round16 && !g->res) return;
    for (size_t i = i0; i < i0 + rows; i++) {
        float *c = g->C + i * g->ldc + j0;
        if (g->round16) cml_k_conv_epi(&round_only, c, cols);
        if (!g->res) continue;
        const float *r = g->res + i * g->ldc + j0;
        for (size_t j = 0; j < cols; j++) c[j] += r[j];
        if (g->round16) cml_k_conv_epi(&round_only, c, cols);
    }
}

static void gemm_block(const gemm_job *g, size_t m0, size_t m1, size_t n0, size_t n1) {
    const cml_gemm_kit *kit = g->kit;
    const size_t MR = (size_t)kit->mr, NR = (size_t)kit->nr, KC = (size_t)kit->kc;
    const size_t MC = cml_k_max(MR, ((g->A16 ? GEMM_A16_FLOATS / KC : GEMM_MC_TARGET) / MR) * MR);
    float Bp[GEMM_PACK_FLOATS] CML_ALIGNED(64);
    float Ap[GEMM_A16_FLOATS] CML_ALIGNED(64); /* fp16 A only */
    const size_t K = g->K;
    for (size_t pc = 0; pc < K; pc += KC) {
        size_t kc = cml_k_min(KC, K - pc);
        bool first = pc == 0;
        for (size_t mc = m0; mc < m1; mc += MC) {
            size_t mend = cml_k_min(m1, mc + MC);
            if (g->A16) widen_a(g, mc, mend, pc, kc, Ap);
            for (size_t jr = n0; jr < n1; jr += NR) {
                size_t nr = cml_k_min(NR, n1 - jr);
                const float *panel = Bp;
                if (g->packed)
                    panel = packed_panel(g, pc, kc, jr, nr, Bp);
                else if (g->bpack)
                    g->bpack(g->bpack_ctx, pc, kc, jr, nr, Bp, NR);
                else if (g->trans_b)
                    kit->pack_t[g->b_f16](kc, nr, b_at(g, jr * g->ldb + pc), g->ldb, Bp);
                else
                    kit->pack_n[g->b_f16](kc, nr, b_at(g, pc * g->ldb + jr), g->ldb, Bp);
                cml_gemm_epi e = {
                    .bias = first && g->bias ? g->bias + jr : NULL,
                    .load_c = first ? (int)g->accumulate : 1,
                    .clamp = pc + kc == K && g->clamp,
                    .lo = g->lo,
                    .hi = g->hi,
                    .round16 = pc + kc == K && g->round16 && kit->round16,
                };
                bool last = pc + kc == K, finish_after = last && !kit->round16;
                const char *next = g->packed && jr + NR < n1 ? packed_at(g, pc, jr + NR) : NULL;
                size_t next_bytes = kc * NR * (g->b_f16 ? sizeof(uint16_t) : sizeof(float));
                size_t tiles = (mend - mc + MR - 1) / MR, t = 0;
                for (size_t ir = mc; ir < mend; ir += MR, t++) {
                    size_t rows = mend - ir;
                    /* 8 rows left with MR 6 run as 4 + 4, not 6 + 2 */
                    size_t mr = rows > MR && rows < 2 * MR ? (rows + 1) / 2 : cml_k_min(MR, rows);
                    e.rbias = first && g->rbias ? g->rbias + ir : NULL;
                    e.res = last && g->res && !finish_after ? g->res + ir * g->ldc + jr : NULL;
                    if (next) prefetch_part(next, next_bytes, t, tiles);
                    const float *a = g->A16 ? Ap + (ir - mc) * kc : g->A + ir * g->lda + pc;
                    kit->ukr[mr](kc, a, g->A16 ? kc : g->lda, panel, g->C + ir * g->ldc + jr,
                                 g->ldc, nr, &e);
                    if (finish_after) finish_rows(g, ir, jr, mr, nr);
                    if (mr < MR) ir -= MR - mr;
                }
            }
        }
    }
}

static void gemm_task(void *ctx, size_t begin, size_t end) {
    const gemm_job *g = ctx;
    for (size_t t = begin; t < end; t++) {
        size_t cc = t % g->col_chunks, rc = t / g->col_chunks;
        size_t n0 = cc * g->cols_per_chunk, m0 = rc * g->rows_per_chunk;
        size_t n1 = cml_k_min(g->N, n0 + g->cols_per_chunk);
        size_t m1 = cml_k_min(g->M, m0 + g->rows_per_chunk);
        if (n0 < n1 && m0 < m1) gemm_block(g, m0, m1, n0, n1);
    }
}

static void gemm_small_task(void *ctx, size_t begin, size_t end) {
    const gemm_job *g = ctx;
    size_t n0 = begin * g->cols_per_chunk;
    size_t n1 = cml_k_min(g->N, end * g->cols_per_chunk);
    if (n0 >= n1) return;
    const float *bias = g->bias ? g->bias + n0 : NULL;
    if (g->trans_b)
        g->kit->small_t[g->b_f16](g->M, n1 - n0, g->K, g->A, g->lda, b_at(g, n0 * g->ldb),
                                  g->ldb, bias, g->C + n0, g->ldc, g->accumulate);
    else
        g->kit->small_n[g->b_f16](g->M, n1 - n0, g->K, g->A, g->lda, b_at(g, n0), g->ldb, bias,
                                  g->C + n0, g->ldc, g->accumulate);
    finish_rows(g, 0, n0, g->M, n1 - n0);
}

static size_t div_up(size_t a, size_t b) { return (a + b - 1) / b; }

static void gemm_run(cml_threadpool *pool, gemm_job *gp) {
    gemm_job g = *gp;
    const cml_gemm_kit *kit = g.kit;
    size_t M = g.M, N = g.N, K = g.K;
    bool trans_b = g.trans_b;
    size_t threads = (size_t)cml_threadpool_size(pool);
    double flops = 2.0 * (double)M * (double)N * (double)K;
    if (flops < (double)GEMM_PARALLEL_MIN_FLOPS) threads = 1;

    bool small = !g.bpack && !g.packed && !g.A16 && !g.rbias && !g.clamp &&
                 (trans_b ? (kit->small_t[g.b_f16] && M <= kit->small_t_max_m)
                          : (kit->small_n[g.b_f16] && M <= 4));
    if (small) {
        size_t align = kit->small_col_align;
        size_t units = div_up(N, align);
        size_t chunks = threads > 1 ? cml_k_min(units, threads * 4) : 1;
        g.cols_per_chunk = div_up(units, chunks) * align;
        chunks = div_up(N, g.cols_per_chunk);
        cml_parallel_for(threads > 1 ? pool : NULL, chunks, 1, gemm_small_task, &g);
        return;
    }

    const size_t MR = (size_t)kit->mr, NR = (size_t)kit->nr;
    if (threads <= 1) {
        gemm_block(&g, 0, M, 0, N);
        return;
    }
    size_t panels = div_up(N, NR), tiles = div_up(M, MR);
    size_t target = threads * 4;
    size_t col_chunks = cml_k_min(panels, target);
    size_t row_chunks = cml_k_min(tiles, div_up(target, col_chunks));
    g.cols_per_chunk = div_up(panels, col_chunks) * NR;
    g.rows_per_chunk = div_up(tiles, row_chunks) * MR;
    g.col_chunks = div_up(N, g.cols_per_chunk);
    row_chunks = div_up(M, g.rows_per_chunk);
    cml_parallel_for(pool, g.col_chunks * row_chunks, 1, gemm_task, &g);
}

/* K == 0 with a row bias / clamp: C = clamp(rbias[i]). */
static void gemm_rows_k0(const gemm_job *g) {
    for (size_t i = 0; i < g->M; i++) {
        float v = g->rbias ? g->rbias[i] : 0.0f;
        if (g->clamp) v = v > g->hi ? g->hi : v, v = v < g->lo ? g->lo : v;
        for (size_t j = 0; j < g->N; j++) g->C[i * g->ldc + j] = v;
        finish_rows(g, i, 0, 1, g->N);
    }
}

static void gemm_k0(size_t M, size_t N, const float *bias, float *C, size_t ldc, bool accumulate) {
    for (size_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        for (size_t j = 0; j < N; j++) {
            float v = bias ? bias[j] : 0.0f;
            c[j] = accumulate ? c[j] + v : v;
        }
    }
}

void cml_k_gemm_f32(cml_threadpool *pool, size_t M, size_t N, size_t K, const float *A,
                    size_t lda, const float *B, size_t ldb, bool trans_b, const float *bias,
                    float *C, size_t ldc, bool accumulate) {
    if (M == 0 || N == 0) return;
    if (K == 0) {
        gemm_k0(M, N, bias, C, ldc, accumulate);
        return;
    }
    gemm_job g = {
        .kit = cml_k_gemm_kit(), .M = M, .N = N, .K = K, .A = A, .lda = lda, .B = B, .ldb = ldb,
        .trans_b = trans_b, .bias = bias, .C = C, .ldc = ldc, .accumulate = accumulate,
    };
    gemm_run(pool, &g);
}

void cml_k_gemm_f32_f16b(cml_threadpool *pool, size_t M, size_t N, size_t K, const float *A,
                         size_t lda, const uint16_t *B, size_t ldb, bool trans_b,
                         const float *bias, float *C, size_t ldc, bool accumulate) {
    if (M == 0 || N == 0) return;
    if (K == 0) {
        gemm_k0(M, N, bias, C, ldc, accumulate);
        return;
    }
    gemm_job g = {
        .kit = cml_k_gemm_kit(), .M = M, .N = N, .K = K, .A = A, .lda = lda, .B = B, .ldb = ldb,
        .trans_b = trans_b, .b_f16 = 1, .bias = bias, .C = C, .ldc = ldc,
        .accumulate = accumulate,
    };
    gemm_run(pool, &g);
}

void cml_k_gemm_f32_bpack(cml_threadpool *pool, size_t M, size_t N, size_t K, const float *A,
                          size_t lda, cml_gemm_bpack_fn bpack, void *bpack_ctx, const float *rbias,
                          float *C, size_t ldc, bool clamp, float lo, float hi,
                          bool round16, const float *res) {
    if (M == 0 || N == 0) return;
    gemm_job g = {
        .kit = cml_k_gemm_kit(), .M = M, .N = N, .K = K, .A = A, .lda = lda, .bpack = bpack,
        .bpack_ctx = bpack_ctx, .rbias = rbias, .clamp = clamp, .lo = lo, .hi = hi,
        .round16 = round16, .res = res, .C = C,
        .ldc = ldc,
    };
    if (K == 0) {
        gemm_rows_k0(&g);
        return;
    }
    gemm_run(pool, &g);
}

void cml_k_gemm_f32_rbias(cml_threadpool *pool, size_t M, size_t N, size_t K, const float *A,
                          size_t lda, const float *B, size_t ldb, const float *rbias, float *C,
                          size_t ldc, bool clamp, float lo, float hi, bool round16,
                          const float *res) {
    if (M == 0 || N == 0) return;
    gemm_job g = {
        .kit = cml_k_gemm_kit(), .M = M, .N = N, .K = K, .A = A, .lda = lda, .B = B, .ldb = ldb,
        .rbias = rbias, .clamp = clamp, .lo = lo, .hi = hi,
        .round16 = round16, .res = res, .C = C, .ldc = ldc,
    };
    if (K == 0) {
        gemm_rows_k0(&g);
        return;
    }
    gemm_run(pool, &g);
}

/* ---- prepacked B ------------------------------------------------------------- */

size_t cml_k_gemm_packed_nr(void) { return (size_t)cml_k_gemm_kit()->nr; }

size_t cml_k_gemm_packed_size(size_t N, size_t K, size_t nr, size_t esize) {
    size_t panels = div_up(N, nr), total;
    if (!cml_mul_size(panels, nr, &total) || !cml_mul_size(total, K, &total) ||
        !cml_mul_size(total, esize, &total))
        return SIZE_MAX;
    return total;
}

/* One panel of cml_k_gemm_pack_b for element type T (float or uint16_t):
 * columns [col0, col0 + nr) of op(B), zero past N. */
#define PACK_PANEL(T)                                                                          \
    static void pack_panel_##T(size_t N, size_t K, const T *B, size_t ldb, bool trans_b,      \
                               size_t nr, size_t col0, T *dst) {                               \
        for (size_t j = 0; j < nr; j++) {                                                      \
            size_t col = col0 + j;                                                             \
            for (size_t k = 0; k < K; k++)                                                     \
                dst[k * nr + j] = col >= N ? (T)0 : trans_b ? B[col * ldb + k] : B[k * ldb + col]; \
        }                                                                                      \
    }
typedef uint16_t u16;
PACK_PANEL(float)
PACK_PANEL(u16)

void cml_k_gemm_pack_b(size_t N, size_t K, const void *B, size_t ldb, bool trans_b, bool b_f16,
                       size_t nr, void *dst) {
    const cml_gemm_kit *kit = cml_k_gemm_kit();
    for (size_t p = 0; p * nr < N; p++) {
        if (!b_f16 && nr == (size_t)kit->nr && ((uintptr_t)dst % 64) == 0) {
            /* the kit's own (vectorized) packing, KC rows at a time (aligned stores) */
            size_t col = p * nr, cols = cml_k_min(nr, N - col), KC = (size_t)kit->kc;
            float *panel = (float *)dst + p * K * nr;
            for (size_t k = 0; k < K; k += KC) {
                size_t kc = cml_k_min(KC, K - k);
                const float *src = (const float *)B + (trans_b ? col * ldb + k : k * ldb + col);
                (trans_b ? kit->pack_t[0] : kit->pack_n[0])(kc, cols, src, ldb, panel + k * nr);
            }
        } else if (b_f16)
            pack_panel_u16(N, K, B, ldb, trans_b, nr, p * nr, (u16 *)dst + p * K * nr);
        else
            pack_panel_float(N, K, B, ldb, trans_b, nr, p * nr, (float *)dst + p * K * nr);
    }
}

void cml_k_gemm_pack_b_inplace(size_t N, size_t K, void *B, bool b_f16, size_t nr, void *tmp) {
    size_t es = b_f16 ? sizeof(uint16_t) : sizeof(float), panel = nr * K * es;
    for (size_t p = 0; p * nr < N; p++) {
        char *blk = (char *)B + p * panel;
        memcpy(tmp, blk, panel);
        cml_k_gemm_pack_b(nr, K, tmp, K, true, b_f16, nr, blk);
    }
}

void cml_k_gemm_f32_packed(cml_threadpool *pool, size_t M, size_t N, size_t K, const float *A,
                           size_t lda, const void *packed, size_t nr, bool packed_f16,
                           const float *bias, float *C, size_t ldc, bool accumulate) {
    if (M == 0 || N == 0) return;
    if (K == 0) {
        gemm_k0(M, N, bias, C, ldc, accumulate);
        return;
    }
    gemm_job g = {
        .kit = cml_k_gemm_kit(), .M = M, .N = N, .K = K, .A = A, .lda = lda, .packed = packed,
        .packed_nr = nr, .b_f16 = packed_f16, .bias = bias, .C = C, .ldc = ldc,
        .accumulate = accumulate,
    };
    gemm_run(pool, &g);
}

/* ---- fp16 A (kinternal.h) ------------------------------------------------------ */

void cml_k_gemm_f16a_bpack(cml_threadpool *pool, size_t M, size_t N, size_t K, const uint16_t *A,
                           size_t lda, cml_gemm_bpack_fn bpack, void *bpack_ctx, const float *rbias,
                           float *C, size_t ldc, bool clamp, float lo, float hi,
                           bool round16, const float *res) {
    if (M == 0 || N == 0) return;
    gemm_job g = {
        .kit = cml_k_gemm_kit(), .M = M, .N = N, .K = K, .A16 = A, .lda = lda, .bpack = bpack,
        .bpack_ctx = bpack_ctx, .rbias = rbias, .clamp = clamp, .lo = lo, .hi = hi,
        .round16 = round16, .res = res, .C = C,
        .ldc = ldc,
    };
    if (K == 0) {
        gemm_rows_k0(&g);
        return;
    }
    gemm_run(pool, &g);
}

void cml_k_gemm_f16a_rbias(cml_threadpool *pool, size_t M, size_t N, size_t K, const uint16_t *A,
                           size_t lda, const float *B, size_t ldb, const float *rbias, float *C,
                           size_t ldc, bool clamp, float lo, float hi, bool round16,
                          const float *res) {
    if (M == 0 || N == 0) return;
    gemm_job g = {
        .kit = cml_k_gemm_kit(), .M = M, .N = N, .K = K, .A16 = A, .lda = lda, .B = B, .ldb = ldb,
        .rbias = rbias, .clamp = clamp, .lo = lo, .hi = hi,
        .round16 = round16, .res = res, .C = C, .ldc = ldc,
    };
    if (K == 0) {
        gemm_rows_k0(&g);
        return;
    }
    gemm_run(pool, &g);
}
