/* In-place state updates (state_inplace.h). */
#include <string.h>

#include "mil/ops.h"
#include "mil/state_inplace.h"

/* Bindings of vid among node's parameters and its nested blocks (their
 * parameters and outputs). */
static uint32_t node_reads(const cml_mil_node *node, cml_mil_vid vid);

static uint32_t block_reads(const cml_mil_block *blk, cml_mil_vid vid) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < blk->noutputs; i++) n += blk->outputs[i] == vid;
    for (uint32_t i = 0; i < blk->nnodes; i++)
        if (!blk->nodes[i].folded) n += node_reads(&blk->nodes[i], vid);
    return n;
}

static uint32_t node_reads(const cml_mil_node *node, cml_mil_vid vid) {
    uint32_t n = 0;
    for (uint32_t p = 0; p < node->nparams; p++)
        for (uint32_t k = 0; k < node->params[p].count; k++) n += node->params[p].vids[k] == vid;
    for (uint32_t b = 0; b < node->nblocks; b++) n += block_reads(&node->blocks[b], vid);
    return n;
}

static cml_mil_vid param_vid(const cml_mil_node *node, const char *name) {
    const cml_mil_param *p = cml_mil_param_find(node, name);
    return p && p->count == 1 ? p->vids[0] : CML_MIL_NONE;
}

static bool is_op(const cml_mil_node *node, const cml_mil_op_def *def) {
    return !node->folded && node->def == def;
}

/* The live node after i (of any kind) that reads vid, or nnodes. */
static uint32_t next_reader(const cml_mil_block *blk, uint32_t i, cml_mil_vid vid) {
    for (uint32_t j = i + 1; j < blk->nnodes; j++)
        if (!blk->nodes[j].folded && node_reads(&blk->nodes[j], vid)) return j;
    return blk->nnodes;
}

/* read_state(S) at i whose only reader is a slice_update's x at j, whose
 * result's only reader is write_state(S) at k, with no other node touching S
 * in between: the slice_update writes S directly. */
static bool fuse_update(cml_mil_graph *g, cml_mil_block *blk, uint32_t i) {
    cml_mil_node *rd = &blk->nodes[i];
    cml_mil_vid s = param_vid(rd, "input"), r = rd->noutputs == 1 ? rd->outputs[0] : CML_MIL_NONE;
    if (s == CML_MIL_NONE || r == CML_MIL_NONE || block_reads(blk, r) != 1) return false;
    uint32_t j = next_reader(blk, i, r);
    if (j >= blk->nnodes) return false;
    cml_mil_node *su = &blk->nodes[j];
    if (!is_op(su, &cml_mil_op_slice_update) || param_vid(su, "x") != r || su->noutputs != 1)
        return false;
    cml_mil_vid u = su->outputs[0], upd = param_vid(su, "update");
    if (block_reads(blk, u) != 1 || upd == CML_MIL_NONE) return false;
    uint32_t k = next_reader(blk, j, u);
    if (k >= blk->nnodes) return false;
    cml_mil_node *wr = &blk->nodes[k];
    if (!is_op(wr, &cml_mil_op_write_state) || param_vid(wr, "input") != s ||
        param_vid(wr, "data") != u || wr->noutputs != 0)
        return false;
    if (next_reader(blk, i, s) != k) return false; /* S untouched between the read and the write */
    cml_mil_value *sv = &g->values[s], *rv = &g->values[r], *uv = &g->values[u];
    const cml_mil_value *updv = &g->values[upd];
    if (rv->dtype != sv->dtype || uv->dtype != sv->dtype || updv->dtype != sv->dtype ||
        (sv->fp16 && !updv->fp16) || rv->capacity > sv->capacity || uv->capacity > sv->capacity)
        return false;
    rd->folded = true;
    wr->folded = true;
    rv->needs_buffer = uv->needs_buffer = false;
    rv->data = uv->data = sv->data;
    uv->fp16 = false; /* as cml_mil_op_slice_update_state's infer declares it */
    su->def = &cml_mil_op_slice_update_state;
    return true;
}

/* Whether a live node may read or write S: S among its bindings, or an
 * in-place slice_update on S (it reads S through an alias). */
static bool touches(const cml_mil_graph *g, const cml_mil_node *node, cml_mil_vid s) {
    if (node->folded) return false;
    if (node_reads(node, s)) return true;
    cml_mil_vid x = node->def == &cml_mil_op_slice_update_state ? param_vid(node, "x") : CML_MIL_NONE;
    return x != CML_MIL_NONE && g->values[x].data == g->values[s].data;
}

/* read_state(S) at i whose readers all run before the next write of S: its
 * result is S's buffer itself. */
static bool alias_read(cml_mil_graph *g, cml_mil_block *blk, uint32_t i) {
    cml_mil_node *rd = &blk->nodes[i];
    cml_mil_vid s = param_vid(rd, "input"), r = rd->noutputs == 1 ? rd->outputs[0] : CML_MIL_NONE;
    if (s == CML_MIL_NONE || r == CML_MIL_NONE) return false;
    for (uint32_t k = 0; k < blk->noutputs; k++)
        if (blk->outputs[k] == r) return false;
    uint32_t last = i;
    for (uint32_t j = i + 1; j < blk->nnodes; j++)
        if (!blk->nodes[j].folded && node_reads(&blk->nodes[j], r)) last = j;
    /* any live node touching S in (i, last] may write it (write_state, an
     * in-place slice_update, a nested block) */
    for (uint32_t j = i + 1; j <= last; j++)
        if (touches(g, &blk->nodes[j], s)) return false;
    cml_mil_value *sv = &g->values[s], *rv = &g->values[r];
    if (rv->dtype != sv->dtype || rv->capacity > sv->capacity) return false;
    rd->folded = true;
    rv->needs_buffer = false;
    rv->data = sv->data;
    return true;
}

uint32_t cml_mil_state_inplace(cml_mil_graph *g) {
    cml_mil_block *blk = &g->main;
    uint32_t n = 0;
    for (uint32_t i = 0; i < blk->nnodes; i++)
        if (is_op(&blk->nodes[i], &cml_mil_op_read_state)) n += fuse_update(g, blk, i);
    for (uint32_t i = 0; i < blk->nnodes; i++)
        if (is_op(&blk->nodes[i], &cml_mil_op_read_state)) n += alias_read(g, blk, i);
    return n;
}
