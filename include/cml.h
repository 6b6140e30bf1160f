/*
 * cml: run ExecuTorch programs (.pte) with Core ML delegates, and standalone
 * Core ML ML Programs (.mlpackage), on any CPU.
 *
 * Contract, in one paragraph:
 *   - Every function that can fail returns a cml_status; results come back
 *     through out-parameters, which are untouched on failure.
 *   - A failing call on a handle stores a human-readable message on that
 *     handle (cml_program_errmsg / cml_method_errmsg). Calls that fail before
 *     a handle exists write the message into the caller's buffer if given.
 *   - Model files are untrusted: every byte is verified at open/create time,
 *     and bad input yields CML_ERR_CORRUPT or CML_ERR_UNSUPPORTED with a
 *     message naming the file section and the reason. The library never
 *     aborts or exits on input.
 *   - cml_method_execute performs no heap allocation, except the first
 *     execute after the shapes of flexible inputs changed (memory is then
 *     planned for the new shapes; see cml_io_shape).
 *   - A cml_program may be shared by many threads: cml_method_create,
 *     execute and destroy run concurrently on methods of one program (tested
 *     under ThreadSanitizer). A method is used by one thread at a time.
 *     cml_program_errmsg reports the last failed create; read it when no
 *     other create on that program is failing at the same moment.
 */
#ifndef CML_H
#define CML_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CML_VERSION_MAJOR 0
#define CML_VERSION_MINOR 1
#define CML_VERSION_PATCH 0

/**
 * The library's version and the kernel ISA level it runs at on this
 * machine, e.g. "0.1.0 (avx2)". A static string; thread-safe. Compare with
 * CML_VERSION_* to detect a header/library mismatch.
 */
const char *cml_version(void);

/* Maximum tensor rank, as in ExecuTorch. */
#define CML_MAX_DIMS 16

/* Status codes. Names are available through cml_status_name(). */
#define CML_STATUS_MAP(X)                                                    \
    X(CML_OK, "ok")                                                          \
    X(CML_ERR_INVALID_ARG, "invalid argument")                               \
    X(CML_ERR_NOMEM, "out of memory")                                        \
    X(CML_ERR_IO, "i/o error")                                               \
    X(CML_ERR_CORRUPT, "corrupt model file")                                 \
    X(CML_ERR_UNSUPPORTED, "unsupported")                                    \
    X(CML_ERR_NOT_FOUND, "not found")                                        \
    X(CML_ERR_STATE, "invalid state")                                        \
    X(CML_ERR_SHAPE, "shape mismatch")                                       \
    X(CML_ERR_INTERNAL, "internal error")

typedef enum cml_status {
#define CML_X_ENUM(name, text) name,
    CML_STATUS_MAP(CML_X_ENUM)
#undef CML_X_ENUM
} cml_status;

/** Returns a static, lower-case description of a status code. */
const char *cml_status_name(cml_status status);

/*
 * Element types. The numbering is ExecuTorch's ScalarType, so values read
 * from a .pte map one to one.
 */
typedef enum cml_dtype {
    CML_DTYPE_UINT8 = 0,
    CML_DTYPE_INT8 = 1,
    CML_DTYPE_INT16 = 2,
    CML_DTYPE_INT32 = 3,
    CML_DTYPE_INT64 = 4,
    CML_DTYPE_FLOAT16 = 5,
    CML_DTYPE_FLOAT32 = 6,
    CML_DTYPE_FLOAT64 = 7,
    CML_DTYPE_COMPLEX32 = 8,  /* two float16: real, imaginary */
    CML_DTYPE_COMPLEX64 = 9,  /* two float32 */
    CML_DTYPE_COMPLEX128 = 10, /* two float64 */
    CML_DTYPE_BOOL = 11,
    CML_DTYPE_BFLOAT16 = 15,
    CML_DTYPE_UINT16 = 27,
    CML_DTYPE_UINT32 = 28,
    CML_DTYPE_UINT64 = 29,
} cml_dtype;

/** Bytes per element, or 0 for a value that is not a cml_dtype. */
size_t cml_dtype_size(cml_dtype dtype);
/** Short name ("float32", "int64", ...), or "invalid". */
const char *cml_dtype_name(cml_dtype dtype);

/*
 * Optional allocator for everything a handle allocates. alloc returns NULL on
 * failure; align is a power of two <= 64. free accepts NULL. Must outlive
 * every handle created with it.
 */
typedef struct cml_allocator {
    void *ctx;
    void *(*alloc)(void *ctx, size_t size, size_t align);
    void (*free)(void *ctx, void *ptr);
} cml_allocator;

/*
 * A dense, contiguous (row-major) tensor described by the caller or returned
 * by the library. sizes points at rank entries.
 */
typedef struct cml_tensor_view {
    cml_dtype dtype;
    int32_t rank;
    const int64_t *sizes;
    void *data;
    size_t nbytes;
} cml_tensor_view;

/* Compute units, as in Core ML's MLComputeUnits / the compile spec. */
typedef enum cml_compute_units {
    CML_COMPUTE_DEFAULT = 0, /* whatever the model's compile spec says */
    CML_COMPUTE_ALL,
    CML_COMPUTE_CPU_ONLY,
    CML_COMPUTE_CPU_AND_GPU,
    CML_COMPUTE_CPU_AND_NE,
} cml_compute_units;

typedef struct cml_program cml_program;
typedef struct cml_method cml_method;

/* Log messages the library hands to the caller (it never writes to stderr
 * itself). */
typedef enum cml_log_level {
    CML_LOG_DEFAULT = 0, /* as a threshold: CML_LOG_WARNING */
    CML_LOG_DEBUG = 1,
    CML_LOG_INFO = 2,    /* e.g. "compute_units=all requested; running on CPU" */
    CML_LOG_WARNING = 3,
    CML_LOG_ERROR = 4,
} cml_log_level;

/* Called synchronously from the thread that made the library call; message
 * is one line without a newline, valid during the call only. */
typedef void (*cml_log_fn)(void *user, cml_log_level level, const char *message);

/* cml_program_params.flags */
#define CML_PROGRAM_READ_FILE 1u /* read a .pte file into memory instead of
                                  * mapping it (for files that may change or be
                                  * truncated while open: a mapped file that
                                  * shrinks underneath raises SIGBUS on access) */

/*
 * Program options. Fields past struct_size are taken as their defaults, so
 * callers built against an older header keep working.
 *
 * memory_budget bounds the bytes that the program's methods may claim for
 * planned memory (a .pte's arenas and unplanned tensors, a Core ML delegate's
 * activation arena), checked at method creation before anything is
 * allocated. A claim over the budget fails with CML_ERR_UNSUPPORTED and a
 * message naming the arena or tensor and its size. 0 = the default:
 * max(512 MiB, 64 x the program file's size) for a .pte, the machine's
 * physical memory for an .mlpackage; never more than physical memory.
 * A Core ML delegate's activation arena counts against it at load and
 * whenever new input shapes re-plan it (execute then fails cleanly). Raise it for programs whose planned activations dwarf
 * their weights (large batch ranges).
 */
typedef struct cml_program_params {
    uint32_t struct_size;             /* = sizeof(cml_program_params) */
    const cml_allocator *allocator;   /* NULL: the C heap */
    uint64_t memory_budget;           /* bytes; 0 = default (see above) */
    uint32_t flags;                   /* CML_PROGRAM_* */
    cml_log_fn log;                   /* NULL: messages are dropped */
    void *log_user;                   /* passed to log */
    cml_log_level log_level;          /* least level delivered (DEFAULT: WARNING) */
} cml_program_params;

/**
 * Opens a program. path may name a .pte file or an .mlpackage directory.
 * The file is memory-mapped; constant weights are used in place.
 * @param params NULL for defaults.
 * @param out receives the handle; on failure *out is set to NULL.
 * @param errbuf optional buffer (errbuf_size bytes) that receives the
 *        failure message, since no handle exists to carry it.
 */
cml_status cml_program_open_file(const char *path,
                                 const cml_program_params *params,
                                 cml_program **out, char *errbuf,
                                 size_t errbuf_size);

/**
 * Opens a .pte program held in memory. The bytes are not copied: they must
 * stay valid and unchanged until cml_program_close.
 */
cml_status cml_program_open_memory(const void *data, size_t size,
                                   const cml_program_params *params,
                                   cml_program **out, char *errbuf,
                                   size_t errbuf_size);

/** Closes a program. NULL is allowed. Methods must be destroyed first. */
void cml_program_close(cml_program *program);

/** Last error message recorded on the program ("" if none). */
const char *cml_program_errmsg(const cml_program *program);

/** Number of methods (ExecuTorch execution plans, or ML Program functions). */
size_t cml_program_method_count(const cml_program *program);

/** Name of method index (< cml_program_method_count), or NULL. */
const char *cml_program_method_name(const cml_program *program, size_t index);

typedef struct cml_method_params {
    uint32_t struct_size;              /* = sizeof(cml_method_params) */
    int32_t num_threads;               /* <= 0: one per online CPU */
    cml_compute_units compute_units;   /* overrides the compile spec */
    /* Bounds the work one execute may do on a looping program: instructions
     * run per chain (.pte JumpFalseCall loops) and iterations per ML Program
     * while_loop run. Past it, execute fails with CML_ERR_STATE ("more than
     * N steps" / "iterations"). 0: the defaults, 10,000,000 steps and
     * 100,000,000 iterations. (Added after num_threads/compute_units: a
     * caller compiled against the older struct passes a smaller struct_size
     * and gets the defaults.) */
    uint32_t max_steps;
} cml_method_params;

/**
 * Loads a method: verifies and resolves every instruction, initializes
 * delegates, plans memory (for the default shapes of flexible inputs).
 * After success, execute needs no allocation while shapes stay the same.
 * @param name NULL for "forward" (or the only/default method).
 */
cml_status cml_method_create(cml_program *program, const char *name,
                             const cml_method_params *params,
                             cml_method **out);

/** Destroys a method. NULL is allowed. */
void cml_method_destroy(cml_method *method);

/** Last error message recorded on the method ("" if none). */
const char *cml_method_errmsg(const cml_method *method);

/* Description of one method input or output. */
typedef struct cml_io_info {
    const char *name;      /* unique among the method's inputs (outputs);
                              see cml_method_input_index */
    cml_dtype dtype;
    int32_t rank;
    const int64_t *sizes;  /* upper bounds for dynamic dimensions; ranges,
                              enumerated and default shapes of inputs:
                              cml_method_input_shape */
    int is_tensor;         /* 0 for scalar inputs (Int/Double/Bool EValues) */
} cml_io_info;

size_t cml_method_input_count(const cml_method *method);
size_t cml_method_output_count(const cml_method *method);
cml_status cml_method_input_info(const cml_method *method, size_t index,
                                 cml_io_info *info);
cml_status cml_method_output_info(const cml_method *method, size_t index,
                                  cml_io_info *info);

/*
 * Index of the input / output called `name` (cml_io_info.name). Standalone
 * .mlpackage methods use the model description's feature names. A .pte
 * stores no I/O names, so a method input or output that is a Core ML
 * delegate's input or output takes that feature's name (as coremltools
 * reports it), and every other one is "input_<i>" / "output_<i>" (also when
 * a feature name would repeat). Returns CML_ERR_NOT_FOUND for an unknown
 * name, CML_ERR_INVALID_ARG for NULL arguments.
 */
cml_status cml_method_input_index(const cml_method *method, const char *name, size_t *index);
cml_status cml_method_output_index(const cml_method *method, const char *name, size_t *index);

/*
 * The shapes an input accepts, for flexible inputs: Core ML shape ranges
 * (min[d] <= size <= max[d] per dimension) and enumerated shapes (exactly one
 * of the listed shapes), and ExecuTorch dynamic dimensions (0 .. upper
 * bound, or the range of the Core ML delegate input the method input feeds).
 * A static input has min == max == default_sizes.
 *
 * default_sizes is the shape a caller without one should use (`cml run` and
 * `cml bench` without --input): the Core ML feature's default shape, else
 * (a .pte input that feeds no Core ML delegate input directly) the sizes
 * ExecuTorch planned. Memory for Core ML programs is planned for the shapes
 * actually bound: at load for default_sizes, again whenever an execute sees
 * other input shapes (that execute may allocate; repeating shapes do not).
 *
 * Compatibility: set struct_size = sizeof(cml_io_shape) before the call. The
 * library writes only fields that lie within struct_size, so fields added to
 * the end in later versions keep older callers working. The pointers stay
 * valid until the method is destroyed. Scalar inputs report rank 0.
 */
typedef struct cml_io_shape {
    uint32_t struct_size;
    int32_t rank;
    const int64_t *min;            /* rank entries */
    const int64_t *max;            /* rank entries; equals cml_io_info.sizes */
    const int64_t *default_sizes;  /* rank entries */
    size_t nenumerated;            /* > 0: only these shapes are accepted */
    const int64_t *enumerated;     /* nenumerated * rank: shape k at [k * rank] */
} cml_io_shape;

/** Describes the shapes input `index` accepts (see cml_io_shape). */
cml_status cml_method_input_shape(const cml_method *method, size_t index, cml_io_shape *shape);

/**
 * Copies an input into the method. The dtype must match the input's
 * (standalone .mlpackage programs convert float32->float16 and
 * int64->int32 as Core ML's predict does). The shape must equal the declared
 * one, or lie within the bounds of a dynamic input (cml_method_input_shape
 * says which shapes; the Core ML ranges / enumerations are checked at
 * execute). A standalone .mlpackage method keeps its inputs in buffers sized
 * for the shapes seen so far: a bigger shape grows the buffer here.
 */
cml_status cml_method_set_input(cml_method *method, size_t index,
                                const cml_tensor_view *value);

/**
 * Zero-copy input: execute reads input `index` straight from value->data
 * (no copy) from now on, until the input is bound again or set with
 * cml_method_set_input (which copies and ends the binding). The dtype must
 * be the input's (no conversion), the shape as cml_method_set_input
 * accepts, the data aligned to the element size and row-major; an input
 * with a non-default dim order is CML_ERR_UNSUPPORTED. The caller keeps the
 * buffer valid and unchanged while execute runs; a program that mutates
 * its input in place (ExecuTorch input mutation) writes into it.
 */
cml_status cml_method_bind_input(cml_method *method, size_t index,
                                 const cml_tensor_view *value);

/**
 * Zero-copy output: execute writes output `index` straight into `data`
 * (nbytes at least the output's upper-bound size: cml_io_info.sizes), and
 * cml_method_output returns views of it, until it is bound again or
 * unbound with data == NULL. The buffer must be aligned to the element
 * size; outputs with a non-default dim order, outputs that are also inputs
 * or constants, and a value listed twice among the outputs cannot be bound
 * (CML_ERR_UNSUPPORTED). Execute still allocates nothing; the method also
 * keeps using its own memory for everything else.
 */
cml_status cml_method_bind_output(cml_method *method, size_t index, void *data, size_t nbytes);

/**
 * Runs the method once. Every input must have been set at least once.
 * Allocates nothing when the input shapes are those of the previous execute
 * (or, for the first, the default shapes memory was planned for at load).
 */
cml_status cml_method_execute(cml_method *method);

/**
 * Returns a view of an output after a successful execute. The view's data
 * and sizes stay valid until the next execute or destroy. Data is always
 * row-major: an output whose program tensor has a non-default dim order is
 * copied into a row-major buffer (reserved at method creation) on each call;
 * likewise cml_method_set_input lays row-major data out in such an input's
 * dim order.
 */
cml_status cml_method_output(const cml_method *method, size_t index,
                             cml_tensor_view *view);

/** Number of delegate instances (e.g. Core ML partitions) the method loaded. */
size_t cml_method_delegate_count(const cml_method *method);

/**
 * Writes a one-line description of delegate `index` into buf (NUL-terminated,
 * truncated to size), starting with the backend id, then details such as the
 * compute units requested and the device actually used.
 */
cml_status cml_method_delegate_describe(const cml_method *method, size_t index, char *buf,
                                        size_t size);

/** Zero-fills all state owned by the method (Core ML states, mutable buffers). */
cml_status cml_method_reset_state(cml_method *method);

/*
 * Profiling. Off by default; while off, execute records nothing and pays
 * one branch per chain and per ML Program block. cml_method_profile_enable
 * allocates the event storage once; afterwards every execute records its
 * events into it (replacing the previous execute's) without allocating.
 *
 * Events are written when they end, so nested ones come first: the ML
 * Program ops of a delegate call precede the call's own event, and the one
 * CML_PROFILE_EXECUTE event, covering the whole execute, is last. Times are
 * CLOCK_MONOTONIC nanoseconds (any origin; only differences mean anything).
 */
typedef enum cml_profile_kind {
    CML_PROFILE_INSTRUCTION = 0, /* a non-delegate instruction: a kernel call
                                    (name = operator, "aten::add.out") or
                                    "move" / "jump_false" / "free" */
    CML_PROFILE_DELEGATE = 1,    /* a DelegateCall, whole (name = backend id) */
    CML_PROFILE_MIL_OP = 2,      /* one op of a Core ML ML Program (name = MIL
                                    op type, "linear"; output = its first
                                    output's name) */
    CML_PROFILE_EXECUTE = 3,     /* one cml_method_execute (name = "execute") */
} cml_profile_kind;

typedef struct cml_profile_event {
    cml_profile_kind kind;
    const char *name;        /* see cml_profile_kind; never NULL */
    const char *output;      /* MIL ops: the op's first output ("" if none);
                                else NULL */
    int32_t chain;           /* chain and instruction index of the instruction,
                                or of the DelegateCall a MIL op runs in; -1 for
                                EXECUTE */
    int32_t instruction;
    int32_t delegate;        /* DELEGATE, MIL_OP: index of the delegate
                                instance (cml_method_delegate_describe); -1 */
    int32_t depth;           /* nesting: 0 instruction, 1 op of a delegate's
                                main block, 2+ ops of nested (cond / loop)
                                blocks; -1 for EXECUTE */
    int64_t debug_handle;    /* MIL ops: the first ExecuTorch debug handle
                                the payload's debug_info.json gives the op
                                ("<output>:<op type>"), else -1 */
    uint64_t start_ns, end_ns;
} cml_profile_event;

/**
 * Turns profiling on (or resizes its storage when already on). capacity is
 * the number of events one execute may record; 0 = enough for every
 * instruction, every op of every delegate call and the execute event once
 * (loops and control flow can run more: the surplus is counted as dropped,
 * never written). Allocates; CML_ERR_NOMEM leaves profiling off.
 */
cml_status cml_method_profile_enable(cml_method *method, size_t capacity);

/** Turns profiling off and frees its storage. NULL is allowed. */
void cml_method_profile_disable(cml_method *method);

/**
 * The events of the last execute (after a failed one: those recorded
 * before the failure, without the EXECUTE event). *events stays valid until
 * the next execute, enable, disable or destroy; *dropped (may be NULL)
 * receives how many events did not fit. Returns the number of events, 0
 * when profiling is off.
 */
size_t cml_method_profile_events(const cml_method *method, const cml_profile_event **events,
                                 uint64_t *dropped);

#ifdef __cplusplus
}
#endif

#endif /* CML_H */
