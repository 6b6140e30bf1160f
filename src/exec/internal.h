/* Internal layout of the public handles (include/cml.h). */
#ifndef CML_EXEC_INTERNAL_H
#define CML_EXEC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "cml.h"
#include "core/log.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/threadpool.h"
#include "exec/backend.h"
#include "exec/evalue.h"
#include "exec/op.h"
#include "platform/file.h"
#include "pte/pte.h"

typedef enum cml_program_kind {
    CML_PROGRAM_PTE,
    CML_PROGRAM_MLPACKAGE,
} cml_program_kind;

struct cml_program {
    cml_program_kind kind;
    const cml_allocator *allocator;
    cml_allocator allocator_copy;   /* params->allocator copied here */
    cml_error err;
    cml_mapped_file file;           /* .pte mapping (kind PTE, from a file) */
    void *owned_copy;               /* aligned copy for unaligned open_memory */
    cml_pte_program pte;
    char *path;                     /* .mlpackage directory (kind MLPACKAGE) */
    void *mlpackage;                /* opaque Core ML package (kind MLPACKAGE) */
    atomic_uint live_methods;
    pthread_mutex_t lock;           /* err writes; standalone package setup */
    uint64_t memory_budget;         /* resolved: never 0 (see cml_program_params) */
    uint32_t flags;                 /* CML_PROGRAM_* */
    cml_logger log;                 /* the caller's log callback */
};

/* Whether params (of struct_size bytes) include `field`. */
#define CML_PARAMS_HAVE(params, type, field) \
    ((params) && (params)->struct_size >= offsetof(type, field) + sizeof((params)->field))

/* One resolved instruction: everything the execute loop needs, with value
 * indices already turned into pointers. */
typedef struct cml_exec_instr {
    cml_instr_kind kind;
    const cml_op *op;               /* KERNEL_CALL */
    uint32_t delegate;              /* DELEGATE_CALL: index into method->delegates */
    cml_evalue **args;
    uint32_t nargs;
    int32_t a, b;                   /* MOVE / JUMP_FALSE / FREE operands */
} cml_exec_instr;

typedef struct cml_exec_chain {
    cml_exec_instr *instrs;
    uint32_t ninstrs;
} cml_exec_chain;

/* Backing store of cml_method_input_shape (method_io.c). */
typedef struct cml_input_shape_store {
    int64_t min[CML_MAX_DIMS], max[CML_MAX_DIMS], def[CML_MAX_DIMS];
    int32_t rank;
    size_t nenumerated;
    int64_t *enumerated;            /* owned */
} cml_input_shape_store;

typedef struct cml_delegate_instance {
    const cml_backend *backend;
    void *handle;
} cml_delegate_instance;

typedef struct cml_binding {
    void *data;                     /* the tensor's own buffer while bound */
    size_t capacity;
} cml_binding;

/* Instructions per chain and execute when cml_method_params.max_steps is 0. */
#define CML_DEFAULT_MAX_STEPS 10000000u

struct cml_method {
    cml_program *program;
    uint32_t max_steps;             /* per chain per execute (cml_method_params) */
    const cml_pte_plan *plan;
    const cml_allocator *allocator;
    cml_error err;
    cml_threadpool *pool;

    cml_evalue *values;
    uint32_t nvalues;
    cml_tensor *tensors;            /* storage for every tensor value */
    uint8_t **arenas;               /* planned memory, one per non_const buffer */
    uint32_t narenas;
    void **owned_buffers;           /* unplanned tensor buffers, freed at destroy */
    uint32_t nowned_buffers;

    cml_exec_chain *chains;
    uint32_t nchains;
    cml_delegate_instance *delegates;
    uint32_t ndelegates;

    void *scratch;
    size_t scratch_size;

    uint8_t *input_set;             /* per input: set at least once */
    bool executed;

    /* I/O descriptions handed out by cml_method_*_info. */
    int64_t (*input_bounds)[CML_MAX_DIMS];
    int64_t (*output_bounds)[CML_MAX_DIMS];
    void **output_stage;            /* per output: row-major copy of a non-default
                                     * dim order tensor (else NULL) */
    cml_input_shape_store *input_shapes;

    /* Method I/O as value indices: the plan's for a .pte; synthesized for a
     * standalone .mlpackage, which also has names and converts input
     * dtypes the way MLModel.predict does. */
    const int32_t *inputs;
    uint32_t ninputs;
    const int32_t *outputs;
    uint32_t noutputs;
    const char *const *input_names;
    const char *const *output_names;
    void *io_names;                 /* .pte: the block both point into (method_names.c) */
    /* Zero-copy bindings (method_bind.c), per input / output: the method's
     * own buffer, restored when the binding ends; data NULL = not bound. */
    struct cml_binding *in_bind, *out_bind;
    bool convert_inputs;
    void *mlpackage_state;          /* owned by the Core ML layer */
    void (*mlpackage_free)(cml_method *m);
    /* Standalone .mlpackage: I/O tensors are method-owned and sized for the
     * shapes in use, so set_input grows an input's buffer for a bigger
     * shape, and before_execute (run first by execute) re-plans for new
     * input shapes and grows the outputs; it allocates only then. */
    bool growable_inputs;
    cml_status (*before_execute)(cml_method *m);
    struct cml_prof *prof;          /* profiling (profile.c); NULL: off */
};



/* Profiling (profile.c): the event name of an instruction; forgets the
 * events of the last execute. */
const char *cml_profile_instr_name(const cml_method *m, const cml_exec_instr *in);
void cml_profile_reset(cml_method *m);
/* Load-time shape check of a .pte method (method_check.c): runs every
 * kernel call whose arguments the plan fixes in check-only mode, failing
 * with the chain, instruction, op and reason where execute would. Leaves
 * values, tensors and mutable buffers as they were. */
cml_status cml_method_check_shapes(cml_method *m);

/* Implemented by the Core ML layer: fills a method for a standalone
 * .mlpackage program (values for its inputs/outputs, one delegate instance
 * of the ML Program executor and one chain with a single DelegateCall). */
cml_status cml_mlpackage_method_setup(cml_method *m, const char *function,
                                      const cml_method_params *params);
#endif
