/* AVX-512 instantiation of dwconv_impl.h. */
#include "kernels/dwconv_impl.h"
