/* 3x3 convs with few input channels (a CNN's first layer: RGB in), per
 * ISA; included after dwconv_impl.h, whose padded / polyphase band buffers
 * it reuses (one per input channel). Contract in dwconv.h.
 *
 * The im2col gemm would pack 9 * c_in rows per column panel and run a short
 * k loop; here every output is computed straight from the band buffers, in
 * the gemm's order so that results stay bit-identical: a sum from zero over
 * k = (ci, kh, kw) in order, one FMA each (zeros read for padding), then
 * + bias, then the clamp. Two grid vectors x C3_CB output channels are
 * accumulated together. */

#define C3_CB 6 /* output channels per register block */

/* Grid vectors q, q + VW for output channels co0 .. co0 + CB - 1 into
 * grid[c * gstride + q ...]. */
static CML_ALWAYS_INLINE void c3_block(const int CB, const float *const *bufs, int64_t cin,
                                       const int64_t *off, const float *w, int64_t q,
                                       float *grid, int64_t gstride) {
    vf a0[C3_CB], a1[C3_CB];
#pragma GCC unroll 6
    for (int c = 0; c < CB; c++) a0[c] = v_zero(), a1[c] = v_zero();
    for (int64_t ci = 0; ci < cin; ci++) {
        const float *b = bufs[ci] + q;
        const float *wc = w + ci * 9; /* weight [co][ci][3][3]: co stride cin * 9 */
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++) {
            vf x0 = v_load(b + off[t]), x1 = v_load(b + off[t] + VW);
#pragma GCC unroll 6
            for (int c = 0; c < CB; c++) {
                vf wv = v_set1(wc[c * cin * 9 + t]);
                a0[c] = v_fmadd(wv, x0, a0[c]);
                a1[c] = v_fmadd(wv, x1, a1[c]);
            }
        }
    }
#pragma GCC unroll 6
    for (int c = 0; c < CB; c++) {
        v_store(grid + c * gstride + q, a0[c]);
        v_store(grid + c * gstride + q + VW, a1[c]);
    }
}

/* Output rows [oh0, oh0 + n) of channel co from its grid: + bias, epilogue. */
static void c3_out(const dw3_geom *g, const float *grid, const float *bias, int64_t oh0,
                   int64_t n, float *y, const cml_conv_epi *e) {
    const vf lo = v_set1(e->lo), hi = v_set1(e->hi);
    const int64_t end = (oh0 + n) * g->WO; /* the band's end: the next band is another task's */
    const vf bv = v_set1(bias ? *bias : 0.0f);
    for (int64_t oh = 0; oh < n; oh++) {
        const float *src = grid + oh * g->Wq;
        int64_t d = (oh0 + oh) * g->WO;
        for (int64_t ow = 0; ow < g->WO; ow += VW) {
            vf v = v_load(src + ow);
            if (bias) v = v_add(v, bv);
            v = dw3_epi(v, e, lo, hi);
            if (d + ow + VW <= end)
                v_store(y + d + ow, v);
            else
                dw3_store_part(y + d + ow, v, g->WO - ow);
        }
    }
}

/* All output channels of rows [oh0, oh0 + n) of image b. */
static void c3_band(const dw3_geom *g, const cml_dw3_job *j, int64_t b, int64_t oh0, int64_t n,
                    float *buf, int64_t per_ci, float *grid) {
    const cml_conv2d_params *p = j->p;
    const int64_t cin = p->c_in, nq = (n * g->Wq + 2 * VW - 1) / (2 * VW) * (2 * VW);
    const float *bufs[4];
    for (int64_t ci = 0; ci < cin; ci++) {
        bufs[ci] = buf + ci * per_ci;
        dw3_fill(g, j->x + (b * cin + ci) * g->H * g->W, oh0, n, buf + ci * per_ci);
    }
    for (int64_t co = 0; co < p->c_out; co += C3_CB) {
        int64_t cb = p->c_out - co < C3_CB ? p->c_out - co : C3_CB;
        const float *w = j->w + co * cin * 9;
        for (int64_t q = 0; q < nq; q += 2 * VW) {
            switch (cb) {
            case 6: c3_block(6, bufs, cin, g->off, w, q, grid, nq); break;
            case 5: c3_block(5, bufs, cin, g->off, w, q, grid, nq); break;
            case 4: c3_block(4, bufs, cin, g->off, w, q, grid, nq); break;
            case 3: c3_block(3, bufs, cin, g->off, w, q, grid, nq); break;
            case 2: c3_block(2, bufs, cin, g->off, w, q, grid, nq); break;
            default: c3_block(1, bufs, cin, g->off, w, q, grid, nq); break;
            }
        }
        for (int64_t c = 0; c < cb; c++)
            c3_out(g, grid + c * nq, j->bias ? j->bias + co + c : NULL, oh0, n,
                   j->y + (b * p->c_out + co + c) * g->HO * g->WO, &j->epi);
    }
}

/* Floats per input channel for bands of n rows, with the grid's read slack. */
static int64_t c3_per_ci(const dw3_geom *g, int64_t n) {
    return dw3_band_floats(g, n) + 2 * VW;
}

bool VSUF(cml_k_c3_tasks)(const cml_dw3_job *j, size_t t0, size_t t1) {
    const cml_conv2d_params *p = j->p;
    dw3_geom g;
    if (!cml_k_c3_fits(p) || !dw3_setup(p, &g)) return false;
    int64_t rows = cml_k_c3_band_rows(p);
    int64_t per_ci = c3_per_ci(&g, rows), nq = (rows * g.Wq + 2 * VW - 1) / (2 * VW) * (2 * VW);
    if (rows < 1 || p->c_in * per_ci > CML_DW3_BUF || C3_CB * nq > CML_DW3_BUF) return false;
    int64_t bands = (g.HO + rows - 1) / rows;
    if (t0 >= t1) return true; /* a geometry check */
    float buf[CML_DW3_BUF] CML_ALIGNED(64);
    float grid[CML_DW3_BUF + VW] CML_ALIGNED(64); /* + the last row's whole-vector reads */
    memset(buf, 0, (size_t)(p->c_in * per_ci) * sizeof(float));
    for (size_t t = t0; t < t1; t++) {
        int64_t b = (int64_t)t / bands, oh0 = ((int64_t)t % bands) * rows;
        int64_t n = g.HO - oh0 < rows ? g.HO - oh0 : rows;
        if (g.s == 2) dw3_offsets_s2(&g, n);
        c3_band(&g, j, b, oh0, n, buf, per_ci, grid);
    }
    return true;
}
