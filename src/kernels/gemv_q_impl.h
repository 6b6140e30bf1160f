/* Quantized GEMV rows (kinternal.h cml_qgemv_rows_*), written once over
 * simd.h; included by gemv_q_avx2.c, gemv_q_avx512.c and gemv_q_neon.c,
 * each defining VSUF(cml_qgemv_rows).
 *
 * Order: like the gemm kit's small_t at M = 1 at the same level -- VW lane
 * accumulators, lane l summing k = l, l + VW, ... with one FMA per step
 * (x * w), a zero-filled tail, v_hsum (the gemm's horizontal sum), then
 * the bias -- so the result is bit-identical to decoding the weights and
 * calling cml_k_gemm_f32.
 *
 * Fast path (block_k a multiple of VW, so every step lies in one scale
 * block): QG_ROWS rows at a time, x loaded once per step; each VW weights
 * are decoded in registers (v_load_q4 / v_load_q8), times the block's
 * scale, rounded through fp16 when round_fp16. Other layouts decode a chunk
 * of the row with the scalar decoder and run the same accumulation. */
#ifndef CML_KERNELS_GEMV_Q_IMPL_H
#define CML_KERNELS_GEMV_Q_IMPL_H

#include "kernels/simd.h"

#define QG_CHUNK 256                 /* generic path: weights decoded per step */
#define QG_ROWS (VW == 16 ? 4 : 8)   /* rows per fast step: independent FMA chains */

static CML_ALWAYS_INLINE vf qg_load(const bool q4, const bool sgn, const uint8_t *row, size_t k) {
    return q4 ? v_load_q4(row + (k >> 1), sgn) : v_load_q8(row + k, sgn);
}

static CML_ALWAYS_INLINE void qg_fast_rows(const int R, const bool q4, const bool sgn,
                                           const bool r16, const cml_qgemv_params *p,
                                           const float *x, size_t n, float *y) {
    const size_t K = p->K, bk = p->block_k, nb = K / bk;
    const float *srow[QG_ROWS];
    const uint8_t *qrow[QG_ROWS];
    vf acc[QG_ROWS];
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
        size_t row = n + (size_t)r;
        srow[r] = p->scale + (row / p->block_n) * nb;
        qrow[r] = p->q + (q4 ? row * K / 2 : row * K); /* K % VW == 0: whole bytes */
        acc[r] = v_zero();
    }
    for (size_t b = 0; b < nb; b++) {
        vf s[QG_ROWS];
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) s[r] = v_set1(srow[r][b]);
        for (size_t k = b * bk; k < (b + 1) * bk; k += VW) {
            vf xv = v_load(x + k);
            _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
                vf w = v_mul(s[r], qg_load(q4, sgn, qrow[r], k));
                if (r16) w = v_round_f16(w);
                acc[r] = v_fmadd(xv, w, acc[r]);
            }
        }
    }
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
        float v = v_hsum(acc[r]);
        if (p->bias) v += p->bias[n + (size_t)r];
        y[n + (size_t)r] = v;
    }
}

/* One instantiation per (rows, 4-bit, signed, fp16 rounding); TAG names
 * the row count (1, or N for QG_ROWS). */
#define QG_FAST(TAG, R, Q4, SG, RD)                                                           \
    static void qg_fast_##TAG##_##Q4##SG##RD(const cml_qgemv_params *p, const float *x,       \
                                             size_t n, float *y) {                            \
        qg_fast_rows(R, Q4, SG, RD, p, x, n, y);                                              \
    }
#define QG_FAST_R(TAG, R)                                                                     \
    QG_FAST(TAG, R, 0, 0, 0) QG_FAST(TAG, R, 0, 0, 1) QG_FAST(TAG, R, 0, 1, 0)                \
    QG_FAST(TAG, R, 0, 1, 1) QG_FAST(TAG, R, 1, 0, 0) QG_FAST(TAG, R, 1, 0, 1)                \
    QG_FAST(TAG, R, 1, 1, 0) QG_FAST(TAG, R, 1, 1, 1)
QG_FAST_R(1, 1)
QG_FAST_R(N, QG_ROWS)

typedef void (*qg_fast_fn)(const cml_qgemv_params *, const float *, size_t, float *);

static void qg_generic_row(const cml_qgemv_params *p, const float *x, size_t n, float *y) {
    float w[QG_CHUNK] CML_ALIGNED(64);
    vf acc = v_zero();
    for (size_t k0 = 0; k0 < p->K; k0 += QG_CHUNK) {
        size_t len = cml_k_min(QG_CHUNK, p->K - k0);
        cml_qgemv_decode_row(p, n, k0, len, w);
        size_t k = 0;
        for (; k + VW <= len; k += VW) acc = v_fmadd(v_load(x + k0 + k), v_load(w + k), acc);
        if (k < len) /* only at the end of the row: QG_CHUNK is a multiple of VW */
            acc = v_fmadd(v_load_n(x + k0 + k, len - k), v_load_n(w + k, len - k), acc);
    }
    float v = v_hsum(acc);
    if (p->bias) v += p->bias[n];
    y[n] = v;
}

void VSUF(cml_qgemv_rows)(const cml_qgemv_params *p, const float *x, size_t n0, size_t n1,
                          float *y) {
    static const qg_fast_fn one[8] = {qg_fast_1_000, qg_fast_1_001, qg_fast_1_010,
                                      qg_fast_1_011, qg_fast_1_100, qg_fast_1_101,
                                      qg_fast_1_110, qg_fast_1_111};
    static const qg_fast_fn many[8] = {qg_fast_N_000, qg_fast_N_001, qg_fast_N_010,
                                       qg_fast_N_011, qg_fast_N_100, qg_fast_N_101,
                                       qg_fast_N_110, qg_fast_N_111};
    size_t n = n0;
    if (p->block_k % VW != 0) {
        for (; n < n1; n++) qg_generic_row(p, x, n, y);
        return;
    }
    unsigned v = (p->bits == 4) << 2 | (unsigned)p->is_signed << 1 | (unsigned)p->round_fp16;
    for (; n + QG_ROWS <= n1; n += QG_ROWS) many[v](p, x, n, y);
    for (; n < n1; n++) one[v](p, x, n, y);
}

#endif
