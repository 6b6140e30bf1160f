/*
 * `cml inspect --dot`: the program as a Graphviz digraph.
 *
 * A .pte: one cluster per method ("cluster_p<k>"). Nodes: the method's
 * inputs and outputs ("io_p<k>_in<i>", "io_p<k>_out<i>", ellipses) and one
 * node per instruction ("i_p<k>_<n>", n counting through the chains in
 * order: kernel calls, delegate calls, moves, jumps (with a dotted edge to
 * their destination), frees). Edges are values (label "v<index>: dtype
 * [shape]"): from the instruction that last wrote the value (or the method
 * input) to each instruction that reads it and to the method outputs. What
 * an instruction writes: a delegate call its arguments after the delegate's
 * inputs; a move its destination; a kernel call its last argument and every
 * tensor that nothing wrote before (ExecuTorch's out-variant convention).
 * Each delegate is a cluster ("cluster_p<k>_d<d>") holding its call nodes
 * and, for Core ML, the MIL graph of the function it runs: function inputs
 * and block outputs ("mv_..._in<i>", "mv_..._out<i>"), one node per
 * non-const operation ("op_..._<n>", label: op type and first output name),
 * edges labelled with the value names (const values are not drawn).
 * A standalone .mlpackage: one cluster per function ("cluster_f<k>") with
 * its MIL graph.
 *
 * Every node is declared on its own line before any edge that names it.
 * Names from the file are escaped and cut to 60 characters.
 */
#ifndef CML_TOOLS_DOT_H
#define CML_TOOLS_DOT_H

#include <stdio.h>

#include "pte/pte.h"

void cli_dot_pte(FILE *f, const cml_pte_program *pte);
/* Returns CLI_OK, or CLI_ERR_RUNTIME after printing why the package does
 * not open. */
int cli_dot_mlpackage(FILE *f, const char *path);

#endif
