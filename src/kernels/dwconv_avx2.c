/* AVX2+FMA (and F16C) instantiation of dwconv_impl.h and conv3x3_impl.h. */
#include "kernels/dwconv_impl.h"
#include "kernels/conv3x3_impl.h"
