/* Quantized GEMV rows for this ISA level: gemv_q_impl.h over simd.h. */
#include "kernels/gemv_q_impl.h"
