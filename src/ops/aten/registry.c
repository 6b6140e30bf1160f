/*
 * The operator registry: every portable kernel by its "name.overload" lookup
 * string, in one static table sorted by strcmp order (checked by
 * tests/unit/test_aten_registry.c) and searched by bisection.
 *
 * nargs is the exact KernelCall argument count: every schema argument (the
 * outs included) followed by the return; ops with several outs end in one
 * TensorList of them.
 */
#include <string.h>

#include "exec/op.h"
#include "ops/aten/aten_ops.h"

#define OP(name, nargs, fn) {name, nargs, fn##_prepare, fn##_run}

static const cml_op k_ops[] = {
    OP("aten::_adaptive_avg_pool2d.out",                  4, aten_adaptive_avg_pool2d_out),
    OP("aten::_local_scalar_dense",                       2, aten_local_scalar_dense),
    OP("aten::_log_softmax.out",                          5, aten_log_softmax_out),
    OP("aten::_native_batch_norm_legit_no_training.out", 11, aten_native_batch_norm_legit_no_training_out),
    OP("aten::_softmax.out",                              5, aten_softmax_out),
    OP("aten::_to_copy.out",                              5, aten_to_copy_out),
    OP("aten::abs.out",                                   3, aten_abs_out),
    OP("aten::add.Scalar_out",                            5, aten_add_scalar_out),
    OP("aten::add.out",                                   5, aten_add_out),
    OP("aten::addmm.out",                                 7, aten_addmm_out),
    OP("aten::alias_copy.out",                            3, aten_alias_copy_out),
    OP("aten::amax.out",                                  5, aten_amax_out),
    OP("aten::amin.out",                                  5, aten_amin_out),
    OP("aten::arange.out",                                3, aten_arange_out),
    OP("aten::arange.start_out",                          5, aten_arange_start_out),
    OP("aten::argmax.out",                                5, aten_argmax_out),
    OP("aten::argmin.out",                                5, aten_argmin_out),
    OP("aten::avg_pool2d.out",                            9, aten_avg_pool2d_out),
    OP("aten::bitwise_not.out",                           3, aten_bitwise_not_out),
    OP("aten::bmm.out",                                   4, aten_bmm_out),
    OP("aten::cat.out",                                   4, aten_cat_out),
    OP("aten::ceil.out",                                  3, aten_ceil_out),
    OP("aten::clamp.out",                                 5, aten_clamp_out),
    OP("aten::clone.out",                                 4, aten_clone_out),
    OP("aten::constant_pad_nd.out",                       5, aten_constant_pad_nd_out),
    OP("aten::convolution.out",                          11, aten_convolution_out),
    OP("aten::copy.out",                                  5, aten_copy_out),
    OP("aten::copy_",                                     4, aten_copy_),
    OP("aten::cos.out",                                   3, aten_cos_out),
    OP("aten::detach_copy.out",                           3, aten_detach_copy_out),
    OP("aten::div.Scalar_mode_out",                       5, aten_div_scalar_mode_out),
    OP("aten::div.Scalar_out",                            4, aten_div_scalar_out),
    OP("aten::div.out",                                   4, aten_div_out),
    OP("aten::div.out_mode",                              5, aten_div_out_mode),
    OP("aten::elu.out",                                   6, aten_elu_out),
    OP("aten::embedding.out",                             7, aten_embedding_out),
    OP("aten::eq.Scalar_out",                             4, aten_eq_scalar_out),
    OP("aten::eq.Tensor_out",                             4, aten_eq_tensor_out),
    OP("aten::erf.out",                                   3, aten_erf_out),
    OP("aten::exp.out",                                   3, aten_exp_out),
    OP("aten::expand_copy.out",                           5, aten_expand_copy_out),
    OP("aten::floor.out",                                 3, aten_floor_out),
    OP("aten::floor_divide.out",                          4, aten_floor_divide_out),
    OP("aten::full.out",                                  4, aten_full_out),
    OP("aten::full_like.out",                             5, aten_full_like_out),
    OP("aten::ge.Scalar_out",                             4, aten_ge_scalar_out),
    OP("aten::ge.Tensor_out",                             4, aten_ge_tensor_out),
    OP("aten::gelu.out",                                  4, aten_gelu_out),
    OP("aten::gt.Scalar_out",                             4, aten_gt_scalar_out),
    OP("aten::gt.Tensor_out",                             4, aten_gt_tensor_out),
    OP("aten::hardsigmoid.out",                           3, aten_hardsigmoid_out),
    OP("aten::hardswish.out",                             3, aten_hardswish_out),
    OP("aten::hardtanh.out",                              5, aten_hardtanh_out),
    OP("aten::index.Tensor_out",                          4, aten_index_tensor_out),
    OP("aten::index_select.out",                          5, aten_index_select_out),
    OP("aten::le.Scalar_out",                             4, aten_le_scalar_out),
    OP("aten::le.Tensor_out",                             4, aten_le_tensor_out),
    OP("aten::leaky_relu.out",                            4, aten_leaky_relu_out),
    OP("aten::lift_fresh_copy.out",                       3, aten_lift_fresh_copy_out),
    OP("aten::linear.out",                                5, aten_linear_out),
    OP("aten::log.out",                                   3, aten_log_out),
    OP("aten::logical_and.out",                           4, aten_logical_and_out),
    OP("aten::logical_not.out",                           3, aten_logical_not_out),
    OP("aten::logical_or.out",                            4, aten_logical_or_out),
    OP("aten::logical_xor.out",                           4, aten_logical_xor_out),
    OP("aten::lt.Scalar_out",                             4, aten_lt_scalar_out),
    OP("aten::lt.Tensor_out",                             4, aten_lt_tensor_out),
    OP("aten::masked_fill.Scalar_out",                    5, aten_masked_fill_scalar_out),
    OP("aten::max_pool2d_with_indices.out",               9, aten_max_pool2d_with_indices_out),
    OP("aten::maximum.out",                               4, aten_maximum_out),
    OP("aten::mean.dtype_out",                            4, aten_mean_dtype_out),
    OP("aten::mean.out",                                  6, aten_mean_out),
    OP("aten::minimum.out",                               4, aten_minimum_out),
    OP("aten::mm.out",                                    4, aten_mm_out),
    OP("aten::mul.Scalar_out",                            4, aten_mul_scalar_out),
    OP("aten::mul.out",                                   4, aten_mul_out),
    OP("aten::native_group_norm.out",                    12, aten_native_group_norm_out),
    OP("aten::native_layer_norm.out",                     9, aten_native_layer_norm_out),
    OP("aten::ne.Scalar_out",                             4, aten_ne_scalar_out),
    OP("aten::ne.Tensor_out",                             4, aten_ne_tensor_out),
    OP("aten::neg.out",                                   3, aten_neg_out),
    OP("aten::ones.out",                                  3, aten_ones_out),
    OP("aten::permute_copy.out",                          4, aten_permute_copy_out),
    OP("aten::pow.Scalar_out",                            4, aten_pow_scalar_out),
    OP("aten::pow.Tensor_Scalar_out",                     4, aten_pow_tensor_scalar_out),
    OP("aten::pow.Tensor_Tensor_out",                     4, aten_pow_tensor_tensor_out),
    OP("aten::reciprocal.out",                            3, aten_reciprocal_out),
    OP("aten::relu.out",                                  3, aten_relu_out),
    OP("aten::repeat.out",                                4, aten_repeat_out),
    OP("aten::round.out",                                 3, aten_round_out),
    OP("aten::rsqrt.out",                                 3, aten_rsqrt_out),
    OP("aten::rsub.Scalar_out",                           5, aten_rsub_scalar_out),
    OP("aten::scalar_tensor.out",                         3, aten_scalar_tensor_out),
    OP("aten::select_copy.int_out",                       5, aten_select_copy_int_out),
    OP("aten::sigmoid.out",                               3, aten_sigmoid_out),
    OP("aten::silu.out",                                  3, aten_silu_out),
    OP("aten::sin.out",                                   3, aten_sin_out),
    OP("aten::slice_copy.Tensor_out",                     7, aten_slice_copy_tensor_out),
    OP("aten::split_copy.Tensor_out",                     5, aten_split_copy_tensor_out),
    OP("aten::split_with_sizes_copy.out",                 5, aten_split_with_sizes_copy_out),
    OP("aten::sqrt.out",                                  3, aten_sqrt_out),
    OP("aten::squeeze_copy.dim_out",                      4, aten_squeeze_copy_dim_out),
    OP("aten::squeeze_copy.dims_out",                     4, aten_squeeze_copy_dims_out),
    OP("aten::squeeze_copy.out",                          3, aten_squeeze_copy_out),
    OP("aten::stack.out",                                 4, aten_stack_out),
    OP("aten::sub.Scalar_out",                            5, aten_sub_scalar_out),
    OP("aten::sub.out",                                   5, aten_sub_out),
    OP("aten::sum.IntList_out",                           6, aten_sum_intlist_out),
    OP("aten::sym_numel",                                 2, aten_sym_numel),
    OP("aten::sym_size.int",                              3, aten_sym_size_int),
    OP("aten::sym_stride.int",                            3, aten_sym_stride_int),
    OP("aten::t_copy.out",                                3, aten_t_copy_out),
    OP("aten::tanh.out",                                  3, aten_tanh_out),
    OP("aten::transpose_copy.int_out",                    5, aten_transpose_copy_int_out),
    OP("aten::unbind_copy.int_out",                       4, aten_unbind_copy_int_out),
    OP("aten::unsqueeze_copy.out",                        4, aten_unsqueeze_copy_out),
    OP("aten::upsample_nearest2d.out",                    6, aten_upsample_nearest2d_out),
    OP("aten::upsample_nearest2d.vec_out",                5, aten_upsample_nearest2d_vec_out),
    OP("aten::view_copy.out",                             4, aten_view_copy_out),
    OP("aten::where.self_out",                            5, aten_where_self_out),
    OP("aten::zeros.out",                                 3, aten_zeros_out),
    OP("dim_order_ops::_clone_dim_order.out",             5, dim_order_clone_dim_order_out),
    OP("dim_order_ops::_to_dim_order_copy.out",           5, dim_order_to_dim_order_copy_out),
    OP("executorch_prim::add.Scalar",                     3, prim_add_scalar),
    OP("executorch_prim::ceil.Scalar",                    2, prim_ceil_scalar),
    OP("executorch_prim::eq.Scalar",                      3, prim_eq_scalar),
    OP("executorch_prim::et_view.default",                3, prim_et_view),
    OP("executorch_prim::floordiv.Scalar",                3, prim_floordiv_scalar),
    OP("executorch_prim::ge.Scalar",                      3, prim_ge_scalar),
    OP("executorch_prim::gt.Scalar",                      3, prim_gt_scalar),
    OP("executorch_prim::le.Scalar",                      3, prim_le_scalar),
    OP("executorch_prim::lt.Scalar",                      3, prim_lt_scalar),
    OP("executorch_prim::mod.Scalar",                     3, prim_mod_scalar),
    OP("executorch_prim::mul.Scalar",                     3, prim_mul_scalar),
    OP("executorch_prim::neg.Scalar",                     2, prim_neg_scalar),
    OP("executorch_prim::round.Scalar",                   2, prim_round_scalar),
    OP("executorch_prim::sub.Scalar",                     3, prim_sub_scalar),
    OP("executorch_prim::sym_float.Scalar",               2, prim_sym_float_scalar),
    OP("executorch_prim::sym_int.Scalar",                 2, prim_sym_int_scalar),
    OP("executorch_prim::sym_ite.Scalar",                 4, prim_sym_ite_scalar),
    OP("executorch_prim::sym_max.Scalar",                 3, prim_sym_max_scalar),
    OP("executorch_prim::sym_min.Scalar",                 3, prim_sym_min_scalar),
    OP("executorch_prim::sym_not.Scalar",                 2, prim_sym_not_scalar),
    OP("executorch_prim::truediv.Scalar",                 3, prim_truediv_scalar),
    OP("executorch_prim::trunc.Scalar",                   2, prim_trunc_scalar),
};

#undef OP

const cml_op *cml_op_find(const char *name, size_t len) {
    if (!name) return NULL;
    size_t lo = 0, hi = sizeof k_ops / sizeof k_ops[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *s = k_ops[mid].name;
        size_t slen = strlen(s);
        /* Byte order, a proper prefix first: the same order as strcmp. */
        int c = memcmp(s, name, slen < len ? slen : len);
        if (c == 0) c = slen < len ? -1 : slen > len ? 1 : 0;
        if (c == 0) return &k_ops[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const cml_op *cml_op_table(size_t *count) {
    if (count) *count = sizeof k_ops / sizeof k_ops[0];
    return k_ops;
}
