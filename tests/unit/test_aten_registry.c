/* The operator registry: sorted, unique, every entry findable by its exact
 * name and only by it; nargs and functions present. */
#include <string.h>

#include "exec/op.h"
#include "harness.h"
#include "portable_ops_1_5.h"

int main(void) {
    size_t n = 0;
    const cml_op *ops = cml_op_table(&n);
    CHECK(ops != NULL);
    CHECK(n >= 100);
    for (size_t i = 0; i < n; i++) {
        CHECK_MSG(ops[i].name && ops[i].prepare && ops[i].run && ops[i].nargs >= 2, "%s",
                  ops[i].name ? ops[i].name : "(null)");
        if (i) CHECK_MSG(strcmp(ops[i - 1].name, ops[i].name) < 0, "%s !< %s", ops[i - 1].name, ops[i].name);
        CHECK_MSG(cml_op_find(ops[i].name, strlen(ops[i].name)) == &ops[i], "%s", ops[i].name);
        /* A proper prefix or an extension must not match. */
        size_t len = strlen(ops[i].name);
        const cml_op *p = cml_op_find(ops[i].name, len - 1);
        CHECK_MSG(p == NULL || strlen(p->name) == len - 1, "prefix of %s", ops[i].name);
        char longer[256];
        snprintf(longer, sizeof longer, "%sx", ops[i].name);
        CHECK(cml_op_find(longer, strlen(longer)) == NULL);
    }
    /* The key need not be NUL-terminated. */
    const char *buf = "aten::add.outXYZ";
    const cml_op *add = cml_op_find(buf, 13);
    CHECK(add && strcmp(add->name, "aten::add.out") == 0 && add->nargs == 5);
    CHECK(cml_op_find("aten::nonexistent.out", 21) == NULL);
    CHECK(cml_op_find("", 0) == NULL);
    CHECK(cml_op_find(NULL, 0) == NULL);
    /* The ops every plain fixture needs. */
    const char *must[] = {
        "aten::add.out", "aten::sub.out", "aten::mul.out", "aten::div.out", "aten::addmm.out",
        "aten::mm.out", "aten::bmm.out", "aten::linear.out", "aten::convolution.out",
        "aten::relu.out", "aten::hardtanh.out", "aten::sigmoid.out", "aten::tanh.out",
        "aten::gelu.out", "aten::_softmax.out", "aten::_log_softmax.out", "aten::avg_pool2d.out",
        "aten::max_pool2d_with_indices.out", "aten::mean.out", "aten::sum.IntList_out",
        "aten::_native_batch_norm_legit_no_training.out", "aten::native_layer_norm.out",
        "aten::view_copy.out", "aten::permute_copy.out", "aten::expand_copy.out", "aten::cat.out",
        "aten::slice_copy.Tensor_out", "aten::squeeze_copy.dims_out", "aten::unsqueeze_copy.out",
        "aten::clone.out", "aten::embedding.out", "aten::_to_copy.out",
        "dim_order_ops::_to_dim_order_copy.out", "dim_order_ops::_clone_dim_order.out",
        "aten::t_copy.out", "aten::transpose_copy.int_out", "aten::select_copy.int_out",
        "executorch_prim::et_view.default", "executorch_prim::add.Scalar", "aten::sym_size.int",
        "aten::sym_numel",
    };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        CHECK_MSG(cml_op_find(must[i], strlen(must[i])) != NULL, "%s missing", must[i]);
    /* Parity with ExecuTorch 1.5.1's portable library: all 209 operators. */
    size_t nportable = sizeof k_portable_ops_1_5 / sizeof k_portable_ops_1_5[0], found = 0;
    CHECK(nportable == 209);
    for (size_t i = 0; i < nportable; i++) {
        const char *name = k_portable_ops_1_5[i];
        bool ok = cml_op_find(name, strlen(name)) != NULL;
        CHECK_MSG(ok, "portable op %s is not registered", name);
        found += ok;
    }
    printf("%zu of %zu portable operators registered (%zu ops in all)\n", found, nportable, n);
    /* Exact arg counts of multi-output ops (outs + a TensorList). */
    const cml_op *mp = cml_op_find("aten::max_pool2d_with_indices.out", 33);
    CHECK(mp && mp->nargs == 9);
    const cml_op *bn = cml_op_find("aten::_native_batch_norm_legit_no_training.out", 46);
    CHECK(bn && bn->nargs == 11);
    TEST_MAIN_END();
}
