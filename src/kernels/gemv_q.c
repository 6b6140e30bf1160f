/* Quantized GEMV (kernels.h cml_k_qgemv_f32): the driver (row split over the
 * pool), the scalar decoder and the scalar reference rows.
 *
 * The scalar reference sums each output exactly as the scalar gemm kit does
 * at M = 1 (gemm.c: K in blocks of cml_gemm_kit_scalar.kc, each block summed
 * from zero in k order, the first block plus the bias, every later block
 * added to the running result), so it stays bit-identical to decoding the
 * weights and calling cml_k_gemm_f32 at the scalar level. */
#include "core/fp16.h"
#include "kernels/kinternal.h"

/* Rows per parallel chunk are a multiple of this (the SIMD kernels step
 * four or eight rows at a time). */
#define QGEMV_ROW_ALIGN 8
/* Below this many weights one thread does it all. */
#define QGEMV_PARALLEL_MIN ((size_t)1 << 16)

bool cml_k_qgemv_supported(const cml_qgemv_params *p) {
    if (!p || !p->q || !p->scale || (p->bits != 4 && p->bits != 8)) return false;
    if (!cml_k_qgemv_rows()) return false; /* this ISA level has none */
    if (p->block_n == 0 || p->block_k == 0) return false;
    return p->N % p->block_n == 0 && p->K % p->block_k == 0;
}

static inline int32_t q_at(const cml_qgemv_params *p, size_t i) {
    if (p->bits == 8)
        return p->is_signed ? (int32_t)(int8_t)p->q[i] : (int32_t)p->q[i];
    uint32_t b = p->q[i >> 1];
    int32_t v = (int32_t)((i & 1) ? b >> 4 : b & 15u);
    return p->is_signed ? (v ^ 8) - 8 : v;
}

void cml_qgemv_decode_row(const cml_qgemv_params *p, size_t n, size_t k0, size_t count,
                          float *dst) {
    const float *srow = p->scale + (n / p->block_n) * (p->K / p->block_k);
    size_t base = n * p->K;
    for (size_t j = 0; j < count; j++) {
        size_t k = k0 + j;
        float w = srow[k / p->block_k] * (float)q_at(p, base + k);
        dst[j] = p->round_fp16 ? cml_round_fp16(w) : w;
    }
}

void cml_qgemv_rows_scalar(const cml_qgemv_params *p, const float *x, size_t n0, size_t n1,
                           float *y) {
    const size_t kc = (size_t)cml_gemm_kit_scalar.kc;
    float w[CML_GEMM_MAX_KC];
    for (size_t n = n0; n < n1; n++) {
        for (size_t pc = 0; pc < p->K; pc += kc) {
            size_t len = cml_k_min(kc, p->K - pc);
            cml_qgemv_decode_row(p, n, pc, len, w);
            float acc = 0.0f;
            for (size_t k = 0; k < len; k++) acc += x[pc + k] * w[k];
            float v = acc;
            if (pc == 0) {
                if (p->bias) v += p->bias[n];
            } else {
                v += y[n];
            }
            y[n] = v;
        }
    }
}

typedef struct qgemv_job {
    const cml_qgemv_params *p;
    const float *x;
    float *y;
    cml_qgemv_rows_fn rows;
    size_t rows_per_chunk;
} qgemv_job;

static void qgemv_task(void *ctx, size_t begin, size_t end) {
    const qgemv_job *j = ctx;
    size_t n0 = begin * j->rows_per_chunk;
    size_t n1 = cml_k_min(j->p->N, end * j->rows_per_chunk);
    if (n0 < n1) j->rows(j->p, j->x, n0, n1, j->y);
}

void cml_k_qgemv_f32(cml_threadpool *pool, const cml_qgemv_params *p, const float *x, float *y) {
    if (p->N == 0) return;
    if (p->K == 0) {
        for (size_t n = 0; n < p->N; n++) y[n] = p->bias ? p->bias[n] : 0.0f;
        return;
    }
    qgemv_job j = {.p = p, .x = x, .y = y, .rows = cml_k_qgemv_rows()};
    size_t threads = (size_t)cml_threadpool_size(pool);
    if (threads <= 1 || p->N * p->K < QGEMV_PARALLEL_MIN) {
        j.rows(p, x, 0, p->N, y);
        return;
    }
    /* one contiguous band of rows per thread streams best; a few more
     * chunks than threads even out a busy core */
    size_t units = (p->N + QGEMV_ROW_ALIGN - 1) / QGEMV_ROW_ALIGN;
    size_t chunks = cml_k_min(units, threads * 2);
    j.rows_per_chunk = (units + chunks - 1) / chunks * QGEMV_ROW_ALIGN;
    chunks = (p->N + j.rows_per_chunk - 1) / j.rows_per_chunk;
    cml_parallel_for(pool, chunks, 1, qgemv_task, &j);
}
