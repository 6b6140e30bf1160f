/*
 * In-place Core ML state updates (issue 9: no whole-state copies per call).
 *
 * cml_mil_state_inplace() runs after inference and folding, before memory
 * planning, on the main block. The KV-cache pattern coremltools emits,
 *
 *   r = read_state(S); u = slice_update(x = r, update, ...); write_state(S, u)
 *
 * copies the whole state three times per call. When r's only reader is that
 * slice_update, u's only reader is that write_state, and no other node
 * touches S in between, the read and the write are folded away, r and u
 * become views of S's buffer (no arena space), and the slice_update becomes
 * cml_mil_op_slice_update_state: it writes only the updated region, straight
 * into S. Its output is not rounded to fp16 afterwards: S holds fp16 values
 * already (inputs and every write are rounded) and the update must be fp16
 * too, so rounding would change nothing.
 *
 * Then every remaining read_state(S) whose readers all run before the next
 * node that touches S (and whose result is not a block output) becomes a
 * view of S as well: nothing else writes S while it is read, and no op
 * writes its inputs. Results are the same bits as before.
 *
 * Returns the number of rewrites. Views keep their data pointer through
 * re-planning (they have no arena space); the folded nodes are skipped by
 * re-inference and the slice_update's own infer re-applies the rest.
 */
#ifndef CML_MIL_STATE_INPLACE_H
#define CML_MIL_STATE_INPLACE_H

#include "mil/mil.h"

extern const cml_mil_op_def cml_mil_op_slice_update_state;

uint32_t cml_mil_state_inplace(cml_mil_graph *g);

#endif
