/*
 * cml._cml: the CPython extension behind the `cml` package.
 *
 * Two types wrap the C API of include/cml.h:
 *   Program  a cml_program (a .pte file or bytes, or an .mlpackage)
 *   Method   a cml_method created from it, with execute / reset_state
 * The Python modules cml.runtime (executorch.runtime's names) and cml.models
 * (coremltools' MLModel) are thin layers over them.
 *
 * Contract of Method.execute(inputs, cast=False):
 *   - inputs is a sequence with one value per method input: numpy arrays,
 *     torch tensors (converted by cml._interop without a copy), or anything
 *     numpy.asarray takes (then converted to the input's dtype).
 *   - An ndarray or tensor must have the input's dtype, unless cast is true
 *     (coremltools' predict: converted to the declared dtype). A C-contiguous,
 *     aligned, native-order, writeable array of the right dtype is bound
 *     with cml_method_bind_input: no copy. The method keeps a reference to
 *     every bound array until the next execute, so the pointers it holds
 *     stay valid.
 *   - The GIL is released while cml_method_execute runs; a per-method lock
 *     keeps two Python threads from using one method at once.
 *   - Outputs are new numpy arrays that own their memory (copied from the
 *     method's output views), Python scalars for scalar outputs, or torch
 *     tensors sharing the arrays' memory when an input was a torch tensor.
 *   - Failures raise exceptions, never crash: cml.InputError (a ValueError
 *     and a cml.Error) for a wrong input count, dtype or shape, naming the
 *     input and what it expects; cml.Error with the runtime's message for
 *     everything else.
 * Exported symbol: PyInit__cml only (python/CMakeLists.txt hides the rest).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#include <stdint.h>
#include <string.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include "cml.h"

static PyObject *g_error;       /* cml.Error */
static PyObject *g_input_error; /* cml.InputError(cml.Error, ValueError) */
static PyObject *g_interop;     /* cml._interop, imported on first need */

/* ---- errors ------------------------------------------------------------ */

/* Raises `type` with `msg` and a `status` attribute naming the cml_status. */
static void raise_status(PyObject *type, cml_status st, PyObject *msg) {
    if (!msg) return;
    PyObject *exc = PyObject_CallOneArg(type, msg);
    Py_DECREF(msg);
    if (!exc) return;
    PyObject *name = PyUnicode_FromString(cml_status_name(st));
    if (name && PyObject_SetAttrString(exc, "status", name) == 0)
        PyErr_SetObject(type, exc);
    Py_XDECREF(name);
    Py_DECREF(exc);
}

static void raise_error(cml_status st, const char *message) {
    raise_status(g_error, st, PyUnicode_FromString(message && *message ? message
                                                                       : cml_status_name(st)));
}

/* ---- dtypes ------------------------------------------------------------ */

/* The numpy type number of a cml dtype; -1 when numpy has none. */
static int npy_type_of(cml_dtype t) {
    switch (t) {
    case CML_DTYPE_UINT8: return NPY_UINT8;
    case CML_DTYPE_INT8: return NPY_INT8;
    case CML_DTYPE_INT16: return NPY_INT16;
    case CML_DTYPE_INT32: return NPY_INT32;
    case CML_DTYPE_INT64: return NPY_INT64;
    case CML_DTYPE_FLOAT16: return NPY_FLOAT16;
    case CML_DTYPE_FLOAT32: return NPY_FLOAT32;
    case CML_DTYPE_FLOAT64: return NPY_FLOAT64;
    case CML_DTYPE_COMPLEX64: return NPY_COMPLEX64;
    case CML_DTYPE_COMPLEX128: return NPY_COMPLEX128;
    case CML_DTYPE_BOOL: return NPY_BOOL;
    case CML_DTYPE_UINT16: return NPY_UINT16;
    case CML_DTYPE_UINT32: return NPY_UINT32;
    case CML_DTYPE_UINT64: return NPY_UINT64;
    default: return -1;
    }
}

/* The cml dtype of a numpy type number; -1 when cml has none. */
static int cml_type_of(int npy) {
    static const cml_dtype all[] = {
        CML_DTYPE_UINT8, CML_DTYPE_INT8, CML_DTYPE_INT16, CML_DTYPE_INT32, CML_DTYPE_INT64,
        CML_DTYPE_FLOAT16, CML_DTYPE_FLOAT32, CML_DTYPE_FLOAT64, CML_DTYPE_COMPLEX64,
        CML_DTYPE_COMPLEX128, CML_DTYPE_BOOL, CML_DTYPE_UINT16, CML_DTYPE_UINT32,
        CML_DTYPE_UINT64};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (PyArray_EquivTypenums(npy_type_of(all[i]), npy)) return (int)all[i];
    return -1;
}

/* ---- Program ----------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    cml_program *program;
    PyObject *data; /* the bytes a program opened from memory reads */
} ProgramObject;

static PyTypeObject ProgramType;

static void Program_dealloc(ProgramObject *self) {
    cml_program_close(self->program);
    Py_XDECREF(self->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Program(path=None, data=None): exactly one of a file system path (a .pte
 * file or an .mlpackage directory) or a bytes object holding a .pte. */
static int Program_init(ProgramObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"path", "data", NULL};
    PyObject *path = NULL, *data = NULL;
    if (self->program) {
        PyErr_SetString(PyExc_RuntimeError, "Program is already initialized");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O&S", kwlist, PyUnicode_FSConverter, &path,
                                     &data))
        return -1;
    if ((path == NULL) == (data == NULL)) {
        Py_XDECREF(path);
        PyErr_SetString(PyExc_TypeError, "Program takes a path or data, exactly one");
        return -1;
    }
    char err[1024] = "";
    cml_status st;
    cml_program *p = NULL;
    if (path) {
        const char *cpath = PyBytes_AS_STRING(path);
        Py_BEGIN_ALLOW_THREADS
        st = cml_program_open_file(cpath, NULL, &p, err, sizeof err);
        Py_END_ALLOW_THREADS
        Py_DECREF(path);
    } else {
        Py_INCREF(data);
        self->data = data;
        const char *bytes = PyBytes_AS_STRING(data);
        size_t n = (size_t)PyBytes_GET_SIZE(data);
        Py_BEGIN_ALLOW_THREADS
        st = cml_program_open_memory(bytes, n, NULL, &p, err, sizeof err);
        Py_END_ALLOW_THREADS
    }
    if (st != CML_OK) {
        raise_error(st, err);
        return -1;
    }
    self->program = p;
    return 0;
}

static PyObject *Program_method_names(ProgramObject *self, PyObject *noargs) {
    (void)noargs;
    size_t n = cml_program_method_count(self->program);
    PyObject *out = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; out && i < n; i++) {
        const char *name = cml_program_method_name(self->program, i);
        PyObject *s = PyUnicode_FromString(name ? name : "");
        if (!s) Py_CLEAR(out);
        else PyList_SET_ITEM(out, (Py_ssize_t)i, s);
    }
    return out;
}

/* ---- Method: types ----------------------------------------------------- */

typedef struct io_desc {
    const char *name;   /* owned by the method */
    cml_dtype dtype;
    int npy;            /* numpy type number, -1 when numpy has none */
    int rank;
    int is_tensor;
    int copy_only;      /* bind refused once (non-default dim order): copy */
    cml_io_shape shape; /* inputs: min / max / default / enumerated */
} io_desc;

typedef struct {
    PyObject_HEAD
    cml_method *method;
    ProgramObject *owner;
    size_t ninputs, noutputs;
    io_desc *in, *out;
    PyObject **held;    /* ninputs: the arrays bound at the last execute */
    PyObject **pending; /* ninputs: the arrays of the execute in progress */
    PyThread_type_lock lock;
} MethodObject;

static PyTypeObject MethodType;

static void Method_dealloc(MethodObject *self) {
    cml_method_destroy(self->method);
    for (size_t i = 0; self->held && i < self->ninputs; i++) Py_XDECREF(self->held[i]);
    PyMem_Free(self->held);
    PyMem_Free(self->pending);
    PyMem_Free(self->in);
    PyMem_Free(self->out);
    if (self->lock) PyThread_free_lock(self->lock);
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Fills the I/O descriptions of a freshly created method. */
static int describe_io(MethodObject *self) {
    cml_method *m = self->method;
    self->ninputs = cml_method_input_count(m);
    self->noutputs = cml_method_output_count(m);
    self->in = PyMem_Calloc(self->ninputs + 1, sizeof *self->in);
    self->out = PyMem_Calloc(self->noutputs + 1, sizeof *self->out);
    self->held = PyMem_Calloc(self->ninputs + 1, sizeof *self->held);
    self->pending = PyMem_Calloc(self->ninputs + 1, sizeof *self->pending);
    if (!self->in || !self->out || !self->held || !self->pending) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t k = 0; k < self->ninputs + self->noutputs; k++) {
        int is_in = k < self->ninputs;
        size_t i = is_in ? k : k - self->ninputs;
        io_desc *d = is_in ? &self->in[i] : &self->out[i];
        cml_io_info info;
        cml_status st = is_in ? cml_method_input_info(m, i, &info)
                              : cml_method_output_info(m, i, &info);
        if (st == CML_OK && is_in) {
            d->shape.struct_size = sizeof d->shape;
            st = cml_method_input_shape(m, i, &d->shape);
        }
        if (st != CML_OK) {
            raise_error(st, cml_method_errmsg(m));
            return -1;
        }
        *d = (io_desc){info.name ? info.name : "", info.dtype, npy_type_of(info.dtype),
                       info.rank, info.is_tensor, 0, d->shape};
    }
    return 0;
}

/* Program.load_method(name=None, threads=0, compute_units=0) -> Method */
static PyObject *Program_load_method(ProgramObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"name", "threads", "compute_units", NULL};
    const char *name = NULL;
    int threads = 0, units = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|zii", kwlist, &name, &threads, &units))
        return NULL;
    if (units < CML_COMPUTE_DEFAULT || units > CML_COMPUTE_CPU_AND_NE) {
        PyErr_Format(PyExc_ValueError, "compute_units %d is not a cml compute unit", units);
        return NULL;
    }
    cml_method_params params = {sizeof params, threads, (cml_compute_units)units, 0};
    cml_method *m = NULL;
    cml_status st;
    Py_BEGIN_ALLOW_THREADS
    st = cml_method_create(self->program, name, &params, &m);
    Py_END_ALLOW_THREADS
    if (st != CML_OK) {
        raise_error(st, cml_program_errmsg(self->program));
        return NULL;
    }
    MethodObject *mo = PyObject_New(MethodObject, &MethodType);
    if (!mo) {
        cml_method_destroy(m);
        return NULL;
    }
    mo->method = m;
    mo->owner = self;
    Py_INCREF(self);
    mo->in = mo->out = NULL;
    mo->held = mo->pending = NULL;
    mo->ninputs = mo->noutputs = 0;
    mo->lock = PyThread_allocate_lock();
    if (!mo->lock || describe_io(mo) != 0) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        Py_DECREF(mo);
        return NULL;
    }
    return (PyObject *)mo;
}

/* ---- Method: descriptions ---------------------------------------------- */

static PyObject *shape_tuple(int rank, const int64_t *sizes) {
    PyObject *t = PyTuple_New(rank);
    for (int d = 0; t && d < rank; d++) {
        PyObject *v = PyLong_FromLongLong(sizes ? sizes[d] : 0);
        if (!v) Py_CLEAR(t);
        else PyTuple_SET_ITEM(t, d, v);
    }
    return t;
}

static PyObject *enumerated_list(const cml_io_shape *s) {
    PyObject *l = PyList_New((Py_ssize_t)s->nenumerated);
    for (size_t k = 0; l && k < s->nenumerated; k++) {
        PyObject *t = shape_tuple(s->rank, s->enumerated + k * (size_t)s->rank);
        if (!t) Py_CLEAR(l);
        else PyList_SET_ITEM(l, (Py_ssize_t)k, t);
    }
    return l;
}

/* One input or output as a dict: name, dtype (cml number), dtype_name,
 * is_tensor, sizes (upper bounds), and for inputs min, max, default,
 * enumerated. */
static PyObject *io_dict(const MethodObject *self, const io_desc *d, int is_in) {
    cml_io_info info;
    size_t i = (size_t)(d - (is_in ? self->in : self->out));
    cml_status st = is_in ? cml_method_input_info(self->method, i, &info)
                          : cml_method_output_info(self->method, i, &info);
    if (st != CML_OK) {
        raise_error(st, cml_method_errmsg(self->method));
        return NULL;
    }
    if (!is_in)
        return Py_BuildValue("{s:s,s:i,s:s,s:O,s:N}", "name", d->name, "dtype", (int)d->dtype,
                             "dtype_name", cml_dtype_name(d->dtype), "is_tensor",
                             d->is_tensor ? Py_True : Py_False, "sizes",
                             shape_tuple(info.rank, info.sizes));
    const cml_io_shape *s = &d->shape;
    return Py_BuildValue("{s:s,s:i,s:s,s:O,s:N,s:N,s:N,s:N,s:N}", "name", d->name, "dtype",
                         (int)d->dtype, "dtype_name", cml_dtype_name(d->dtype), "is_tensor",
                         d->is_tensor ? Py_True : Py_False, "sizes",
                         shape_tuple(info.rank, info.sizes), "min", shape_tuple(s->rank, s->min),
                         "max", shape_tuple(s->rank, s->max), "default",
                         shape_tuple(s->rank, s->default_sizes), "enumerated", enumerated_list(s));
}

static PyObject *io_list(MethodObject *self, int is_in) {
    size_t n = is_in ? self->ninputs : self->noutputs;
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; l && i < n; i++) {
        PyObject *d = io_dict(self, is_in ? &self->in[i] : &self->out[i], is_in);
        if (!d) Py_CLEAR(l);
        else PyList_SET_ITEM(l, (Py_ssize_t)i, d);
    }
    return l;
}

static PyObject *Method_inputs(MethodObject *self, PyObject *noargs) {
    (void)noargs;
    return io_list(self, 1);
}

static PyObject *Method_outputs(MethodObject *self, PyObject *noargs) {
    (void)noargs;
    return io_list(self, 0);
}

/* ---- Method: inputs ---------------------------------------------------- */

/* "[1, 3, 224, 224]" into buf. */
static void shape_text(int rank, const int64_t *sizes, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < rank && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? ", " : "",
                                 (long long)sizes[d]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

/* The shapes input d accepts, in words: "[1, 16]", "[2..8, 16]" or
 * "one of the enumerated shapes {[1, 5] | [4, 6]}". */
static void accepted_text(const io_desc *d, char *buf, size_t size) {
    const cml_io_shape *s = &d->shape;
    size_t used = 0;
    if (s->nenumerated) {
        used = (size_t)snprintf(buf, size, "one of the enumerated shapes {");
        for (size_t k = 0; k < s->nenumerated && used < size; k++) {
            if (k) used += (size_t)snprintf(buf + used, size - used, " | ");
            if (used < size) shape_text(s->rank, s->enumerated + k * (size_t)s->rank, buf + used,
                                        size - used);
            used = strlen(buf);
        }
        if (used < size) snprintf(buf + used, size - used, "}");
        return;
    }
    used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < s->rank && used < size; i++) {
        if (s->min[i] == s->max[i])
            used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? ", " : "",
                                     (long long)s->max[i]);
        else
            used += (size_t)snprintf(buf + used, size - used, "%s%lld..%lld", i ? ", " : "",
                                     (long long)s->min[i], (long long)s->max[i]);
    }
    if (used < size) snprintf(buf + used, size - used, "]");
}

static int shape_matches(const io_desc *d, int rank, const int64_t *sizes) {
    const cml_io_shape *s = &d->shape;
    if (rank != s->rank) return 0;
    if (s->nenumerated) {
        for (size_t k = 0; k < s->nenumerated; k++)
            if (memcmp(s->enumerated + k * (size_t)rank, sizes, (size_t)rank * sizeof *sizes) == 0)
                return 1;
        return 0;
    }
    for (int i = 0; i < rank; i++)
        if (sizes[i] < s->min[i] || sizes[i] > s->max[i]) return 0;
    return 1;
}

/* InputError for input d whose shape is not accepted. */
static void raise_shape(const io_desc *d, int rank, const int64_t *sizes) {
    char want[512], got[256];
    accepted_text(d, want, sizeof want);
    shape_text(rank, sizes, got, sizeof got);
    raise_status(g_input_error, CML_ERR_SHAPE,
                 PyUnicode_FromFormat("input '%s': shape %s does not fit: expected %s", d->name,
                                      got, want));
}

static void raise_dtype(const io_desc *d, const char *got) {
    raise_status(g_input_error, CML_ERR_INVALID_ARG,
                 PyUnicode_FromFormat("input '%s': expected dtype %s, got %s", d->name,
                                      cml_dtype_name(d->dtype), got));
}

/* A torch tensor (or other foreign array) as a numpy array, by
 * cml._interop.to_numpy: returns (array, cml dtype or -1). */
static PyObject *foreign_to_numpy(PyObject *obj, int *dtype_override) {
    if (!g_interop && !(g_interop = PyImport_ImportModule("cml._interop"))) return NULL;
    PyObject *r = PyObject_CallMethod(g_interop, "to_numpy", "O", obj);
    if (!r) return NULL;
    PyObject *arr = NULL;
    if (PyTuple_Check(r) && PyTuple_GET_SIZE(r) == 2 && PyArray_Check(PyTuple_GET_ITEM(r, 0))) {
        arr = PyTuple_GET_ITEM(r, 0);
        Py_INCREF(arr);
        *dtype_override = (int)PyLong_AsLong(PyTuple_GET_ITEM(r, 1));
    } else {
        PyErr_SetString(PyExc_TypeError, "cml._interop.to_numpy returned no (array, dtype)");
    }
    Py_DECREF(r);
    return arr;
}

static int is_foreign_tensor(PyObject *obj) {
    PyObject *mod = PyObject_GetAttrString((PyObject *)Py_TYPE(obj), "__module__");
    int torch = mod && PyUnicode_Check(mod) &&
                PyUnicode_CompareWithASCIIString(mod, "torch") == 0;
    Py_XDECREF(mod);
    PyErr_Clear();
    return torch || PyObject_HasAttrString(obj, "__dlpack__");
}

/* An array of the input's dtype, C-contiguous, aligned and native-endian
 * (the same object when it already is). *dtype is set to the cml dtype of
 * the data; *torch to 1 when obj was a torch tensor. New reference. */
static PyArrayObject *input_array(const io_desc *d, PyObject *obj, int cast, int *dtype,
                                  int *torch) {
    int override = -1, typed = 1;
    PyObject *arr;
    if (PyArray_Check(obj)) {
        arr = obj;
        Py_INCREF(arr);
    } else if (is_foreign_tensor(obj)) {
        if (!(arr = foreign_to_numpy(obj, &override))) return NULL;
        *torch = 1;
    } else {
        typed = 0; /* lists, Python scalars: converted to the input's dtype */
        arr = PyArray_FromAny(obj, NULL, 0, 0, 0, NULL);
        if (!arr) return NULL;
    }
    PyArrayObject *a = (PyArrayObject *)arr;
    *dtype = override >= 0 ? override : cml_type_of(PyArray_TYPE(a));
    if (*dtype == (int)d->dtype && PyArray_IS_C_CONTIGUOUS(a) && PyArray_ISALIGNED(a) &&
        PyArray_ISNOTSWAPPED(a))
        return a;
    if (override >= 0 || d->npy < 0 || (typed && !cast && *dtype != (int)d->dtype)) {
        /* A scalar input converts its value itself (cml_method_set_input). */
        if (!d->is_tensor && *dtype >= 0 && override < 0) return a;
        PyObject *got = PyObject_Str((PyObject *)PyArray_DESCR(a));
        if (got) raise_dtype(d, override >= 0 ? cml_dtype_name((cml_dtype)override)
                                              : PyUnicode_AsUTF8(got));
        Py_XDECREF(got);
        Py_DECREF(a);
        return NULL;
    }
    PyObject *c = PyArray_FromAny(arr, PyArray_DescrFromType(d->npy), 0, 0,
                                  NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST, NULL);
    Py_DECREF(arr);
    *dtype = (int)d->dtype;
    return (PyArrayObject *)c;
}

/* Binds (or copies) input i from array a, whose data has cml dtype `dtype`.
 * Returns 1 when bound (the method reads a's memory), 0 when copied, -1 on
 * error. */
static int feed_input(MethodObject *self, size_t i, PyArrayObject *a, int dtype) {
    io_desc *d = &self->in[i];
    int rank = PyArray_NDIM(a);
    if (rank > CML_MAX_DIMS) {
        raise_status(g_input_error, CML_ERR_SHAPE,
                     PyUnicode_FromFormat("input '%s': rank %d is above %d", d->name, rank,
                                          CML_MAX_DIMS));
        return -1;
    }
    int64_t sizes[CML_MAX_DIMS];
    for (int k = 0; k < rank; k++) sizes[k] = PyArray_DIM(a, k);
    if (d->is_tensor && !shape_matches(d, rank, sizes)) {
        raise_shape(d, rank, sizes);
        return -1;
    }
    cml_tensor_view v = {(cml_dtype)dtype, rank, sizes, PyArray_DATA(a), (size_t)PyArray_NBYTES(a)};
    cml_status st = CML_ERR_UNSUPPORTED;
    int bind = d->is_tensor && !d->copy_only && PyArray_ISWRITEABLE(a);
    if (bind) st = cml_method_bind_input(self->method, i, &v);
    if (st == CML_OK && bind) return 1;
    if (st == CML_ERR_UNSUPPORTED) {
        if (bind) d->copy_only = 1; /* a non-default dim order: copy from now on */
        st = cml_method_set_input(self->method, i, &v);
    }
    if (st == CML_OK) return 0;
    PyObject *type = st == CML_ERR_SHAPE || st == CML_ERR_INVALID_ARG ? g_input_error : g_error;
    raise_status(type, st, PyUnicode_FromFormat("input '%s': %s", d->name,
                                                cml_method_errmsg(self->method)));
    return -1;
}

/* ---- Method: outputs --------------------------------------------------- */

/* bfloat16 data widened to float32 (exact). */
static void widen_bf16(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)src[i] << 16;
        memcpy(&dst[i], &bits, sizeof bits);
    }
}

static PyObject *scalar_output(const cml_tensor_view *v) {
    switch (v->dtype) {
    case CML_DTYPE_FLOAT64: return PyFloat_FromDouble(*(const double *)v->data);
    case CML_DTYPE_BOOL: return PyBool_FromLong(*(const uint8_t *)v->data);
    default: return PyLong_FromLongLong(*(const int64_t *)v->data);
    }
}

/* Output j as a new array that owns a copy of the data. */
static PyObject *output_object(MethodObject *self, size_t j) {
    cml_tensor_view v;
    cml_status st = cml_method_output(self->method, j, &v);
    if (st != CML_OK) {
        raise_error(st, cml_method_errmsg(self->method));
        return NULL;
    }
    if (!self->out[j].is_tensor) return scalar_output(&v);
    int bf16 = v.dtype == CML_DTYPE_BFLOAT16, npy = bf16 ? NPY_FLOAT32 : npy_type_of(v.dtype);
    if (npy < 0 || v.rank > CML_MAX_DIMS) {
        PyErr_Format(g_error, "output '%s': %s has no numpy dtype", self->out[j].name,
                     cml_dtype_name(v.dtype));
        return NULL;
    }
    npy_intp dims[CML_MAX_DIMS];
    for (int k = 0; k < v.rank; k++) dims[k] = (npy_intp)v.sizes[k];
    PyObject *arr = PyArray_SimpleNew(v.rank, dims, npy);
    if (!arr) return NULL;
    if (bf16)
        widen_bf16(v.data, PyArray_DATA((PyArrayObject *)arr), v.nbytes / 2);
    else if (v.nbytes)
        memcpy(PyArray_DATA((PyArrayObject *)arr), v.data, v.nbytes);
    return arr;
}

static PyObject *collect_outputs(MethodObject *self, int torch) {
    PyObject *outs = PyList_New((Py_ssize_t)self->noutputs);
    for (size_t j = 0; outs && j < self->noutputs; j++) {
        PyObject *o = output_object(self, j);
        if (!o) Py_CLEAR(outs);
        else PyList_SET_ITEM(outs, (Py_ssize_t)j, o);
    }
    if (!outs || !torch) return outs;
    PyObject *dtypes = PyList_New((Py_ssize_t)self->noutputs);
    for (size_t j = 0; dtypes && j < self->noutputs; j++)
        PyList_SET_ITEM(dtypes, (Py_ssize_t)j, PyUnicode_FromString(cml_dtype_name(self->out[j].dtype)));
    PyObject *r = dtypes ? PyObject_CallMethod(g_interop, "to_torch", "OO", outs, dtypes) : NULL;
    Py_XDECREF(dtypes);
    Py_DECREF(outs);
    return r;
}

/* ---- Method: execute --------------------------------------------------- */

static void lock_method(MethodObject *self) {
    if (PyThread_acquire_lock(self->lock, NOWAIT_LOCK)) return;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(self->lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS
}

/* Prepares and binds (or copies) every input; a bound array goes into
 * self->pending. *torch is set when an input was a torch tensor. */
static int feed_inputs(MethodObject *self, PyObject *seq, int cast, int *torch) {
    for (size_t i = 0; i < self->ninputs; i++) {
        int dtype = -1;
        PyArrayObject *a =
            input_array(&self->in[i], PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)i), cast, &dtype,
                        torch);
        if (!a) return -1;
        int bound = feed_input(self, i, a, dtype);
        if (bound == 1) {
            self->pending[i] = (PyObject *)a; /* kept while the method points at it */
            continue;
        }
        Py_DECREF(a);
        if (bound < 0) return -1;
        Py_CLEAR(self->held[i]); /* copied: the binding has ended */
    }
    return 0;
}

static PyObject *run_locked(MethodObject *self, PyObject *seq, int cast) {
    int torch = 0;
    if (feed_inputs(self, seq, cast, &torch) != 0) return NULL;
    cml_status st;
    Py_BEGIN_ALLOW_THREADS
    st = cml_method_execute(self->method);
    Py_END_ALLOW_THREADS
    if (st != CML_OK) {
        PyObject *type = st == CML_ERR_SHAPE ? g_input_error : g_error;
        raise_status(type, st, PyUnicode_FromString(cml_method_errmsg(self->method)));
        return NULL;
    }
    return collect_outputs(self, torch);
}

/* Method.execute(inputs, cast=False) -> list */
static PyObject *Method_execute(MethodObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"inputs", "cast", NULL};
    PyObject *inputs;
    int cast = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|p", kwlist, &inputs, &cast)) return NULL;
    PyObject *seq = PySequence_Fast(inputs, "execute takes a sequence of inputs");
    if (!seq) return NULL;
    if ((size_t)PySequence_Fast_GET_SIZE(seq) != self->ninputs) {
        raise_status(g_input_error, CML_ERR_INVALID_ARG,
                     PyUnicode_FromFormat("expected %zu inputs, got %zd", self->ninputs,
                                          PySequence_Fast_GET_SIZE(seq)));
        Py_DECREF(seq);
        return NULL;
    }
    lock_method(self);
    PyObject *outs = run_locked(self, seq, cast);
    /* The arrays of this call stay alive while the method may point at them. */
    for (size_t i = 0; i < self->ninputs; i++) {
        if (!self->pending[i]) continue; /* not fed this time: keep the old */
        Py_XDECREF(self->held[i]);
        self->held[i] = self->pending[i];
        self->pending[i] = NULL;
    }
    PyThread_release_lock(self->lock);
    Py_DECREF(seq);
    return outs;
}

static PyObject *Method_reset_state(MethodObject *self, PyObject *noargs) {
    (void)noargs;
    lock_method(self);
    cml_status st = cml_method_reset_state(self->method);
    PyThread_release_lock(self->lock);
    if (st != CML_OK) {
        raise_error(st, cml_method_errmsg(self->method));
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *Method_delegates(MethodObject *self, PyObject *noargs) {
    (void)noargs;
    size_t n = cml_method_delegate_count(self->method);
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; l && i < n; i++) {
        char buf[512] = "";
        cml_method_delegate_describe(self->method, i, buf, sizeof buf);
        PyObject *s = PyUnicode_FromString(buf);
        if (!s) Py_CLEAR(l);
        else PyList_SET_ITEM(l, (Py_ssize_t)i, s);
    }
    return l;
}

/* ---- module ------------------------------------------------------------ */

static PyMethodDef Program_methods[] = {
    {"method_names", (PyCFunction)Program_method_names, METH_NOARGS,
     "method_names() -> list of the program's method names"},
    {"load_method", (PyCFunction)(void (*)(void))Program_load_method,
     METH_VARARGS | METH_KEYWORDS,
     "load_method(name=None, threads=0, compute_units=0) -> Method"},
    {NULL, NULL, 0, NULL}};

static PyMethodDef Method_methods[] = {
    {"execute", (PyCFunction)(void (*)(void))Method_execute, METH_VARARGS | METH_KEYWORDS,
     "execute(inputs, cast=False) -> list of outputs"},
    {"reset_state", (PyCFunction)Method_reset_state, METH_NOARGS,
     "reset_state(): Core ML states and mutable buffers back to their initial values"},
    {"inputs", (PyCFunction)Method_inputs, METH_NOARGS, "inputs() -> list of dicts"},
    {"outputs", (PyCFunction)Method_outputs, METH_NOARGS, "outputs() -> list of dicts"},
    {"delegates", (PyCFunction)Method_delegates, METH_NOARGS,
     "delegates() -> one description per delegate instance"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ProgramType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "cml._cml.Program",
    .tp_basicsize = sizeof(ProgramObject),
    .tp_dealloc = (destructor)Program_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Program(path=None, data=None): an opened .pte program or .mlpackage",
    .tp_methods = Program_methods,
    .tp_init = (initproc)Program_init,
    .tp_new = PyType_GenericNew,
};

static PyTypeObject MethodType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "cml._cml.Method",
    .tp_basicsize = sizeof(MethodObject),
    .tp_dealloc = (destructor)Method_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A loaded method (Program.load_method)",
    .tp_methods = Method_methods,
};

static PyObject *mod_version(PyObject *mod, PyObject *noargs) {
    (void)mod;
    (void)noargs;
    return PyUnicode_FromString(cml_version());
}

static PyMethodDef module_methods[] = {
    {"version", mod_version, METH_NOARGS, "version() -> the C library's version and ISA level"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "cml._cml",
                                        "The C extension behind the cml package.", -1,
                                        module_methods, NULL, NULL, NULL, NULL};

static int add_exceptions(PyObject *m) {
    g_error = PyErr_NewExceptionWithDoc(
        "cml.Error", "A failure reported by the cml runtime (status in .status).", NULL, NULL);
    if (!g_error) return -1;
    PyObject *bases = PyTuple_Pack(2, g_error, PyExc_ValueError);
    if (!bases) return -1;
    g_input_error = PyErr_NewExceptionWithDoc(
        "cml.InputError", "A wrong input: count, dtype or shape (a ValueError).", bases, NULL);
    Py_DECREF(bases);
    if (!g_input_error) return -1;
    Py_INCREF(g_error);
    Py_INCREF(g_input_error);
    if (PyModule_AddObject(m, "Error", g_error) < 0 ||
        PyModule_AddObject(m, "InputError", g_input_error) < 0)
        return -1;
    return 0;
}

PyMODINIT_FUNC PyInit__cml(void);

PyMODINIT_FUNC PyInit__cml(void) {
    import_array();
    if (PyType_Ready(&ProgramType) < 0 || PyType_Ready(&MethodType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m) return NULL;
    Py_INCREF(&ProgramType);
    Py_INCREF(&MethodType);
    if (PyModule_AddObject(m, "Program", (PyObject *)&ProgramType) < 0 ||
        PyModule_AddObject(m, "Method", (PyObject *)&MethodType) < 0 || add_exceptions(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
