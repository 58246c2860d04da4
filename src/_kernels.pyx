# cython: language_level=3
"""Leaky ReLU kernels: forward, forward+mask and backward.

Layout of this file, from the innermost piece out:

1. Element functions (``is_positive``, ``scaled``, ``scale_unless`` and its
   bitwise twin for strided loops): the whole contract for one element,
   written once over the fused ``value_t``.
2. Loops (``forward_loop``, ``forward_mask_loop``, ``backward_loop``): one
   1-D loop per operation, NumPy-ufunc style, with strides counted in
   elements.  The unit-stride branch is a flat loop the compiler vectorizes;
   the other branch serves any stride, including negative and zero ones.
3. Drivers: ``run_flat`` splits one contiguous range across OpenMP threads;
   ``run_strided`` walks any N-D layout with NumPy's ``NpyIter`` (outer
   dimensions in C, the innermost axis handed to the loop).
4. Entry points (``forward``, ``forward_with_mask``, ``backward``).  They
   assume the caller (``leaky/_contract.py``) already validated shapes, dtypes,
   writeability and overlap; nothing in here raises after writing.

Semantics: ``y = x if x > 0 else x * s``, computed as a select between two
values that are both computed, so the loop has no branch.  float32 and
float64 compute in their own precision with ``s`` cast to that dtype;
float16 is loaded into float32, computed there and rounded once, exactly like
PyTorch's CPU kernel.
"""

cimport numpy as cnp
from cython.parallel cimport prange
from numpy cimport (
    NpyIter, npy_bool, npy_intp, npy_uint16, npy_uint32, PyArrayObject,
)

cnp.import_array()

cdef extern from "leaky_simd.h" nogil:
    float leaky_half_to_float(npy_uint16 bits)
    npy_uint16 leaky_float_to_half(float value)
    int leaky_max_threads()
    int leaky_openmp_enabled()
    const char* LEAKY_HALF_CONVERSION
    float leaky_select_float(bint keep, float a, float b)
    double leaky_select_double(bint keep, double a, double b)
    npy_uint16 leaky_select_half(bint keep, npy_uint16 a, npy_uint16 b)
    npy_intp leaky_half_forward_blocks(const npy_uint16* x, npy_uint16* y,
                                       npy_intp n, float slope)
    npy_intp leaky_half_forward_mask_blocks(const npy_uint16* x, npy_uint16* y,
                                            npy_bool* mask, npy_intp n, float slope)
    npy_intp leaky_half_backward_blocks(const npy_uint16* grad, const npy_bool* mask,
                                        npy_uint16* grad_in, npy_intp n, float slope)


ctypedef fused value_t:
    float
    double
    npy_uint16  # IEEE binary16, held as its bit pattern


cdef enum Op:
    FORWARD
    FORWARD_MASK
    BACKWARD


# Below this many elements a call stays on one thread: the cost of waking a
# thread team (a few microseconds) is larger than the work.  Chosen with
# asv_bench/parallel_threshold.py; see docs/performance.rst.
cdef npy_intp parallel_min_elements = 1 << 16
# Each thread gets at least this many elements.
cdef npy_intp MIN_ELEMENTS_PER_THREAD = 1 << 15
# Chunk boundaries fall on multiples of this many elements, so every
# operand's chunks start on a 64-byte cache line (even the 1-byte mask's).
cdef npy_intp CHUNK_ALIGN = 64


# ---------------------------------------------------------------- elements --

cdef inline bint is_positive(value_t x) noexcept nogil:
    """``x > 0``; False for NaN and for both zeros."""
    if value_t is npy_uint16:
        return leaky_half_to_float(x) > 0
    else:
        return x > 0


cdef inline value_t scaled(value_t v, double slope) noexcept nogil:
    """``v * slope`` in the compute precision, rounded once to ``value_t``."""
    if value_t is npy_uint16:
        return leaky_float_to_half(leaky_half_to_float(v) * <float>slope)
    elif value_t is float:
        return v * <float>slope
    else:
        return v * slope


cdef inline value_t scale_unless(bint keep, value_t v, double slope) noexcept nogil:
    """``v if keep else v * slope`` for unit-stride loops.

    Both arms are computed first, so the vectorizer turns the select into a
    blend (see the ``-fopt-info-vec`` report in docs/performance.rst)."""
    cdef value_t product = scaled(v, slope)
    return v if keep else product


cdef inline value_t scale_unless_bitwise(bint keep, value_t v, double slope) noexcept nogil:
    """The same select, done on the bits, for the strided (scalar) loops.

    There GCC would compile the select to a branch that mispredicts on
    random signs (about 4 ns an element); and/andnot/or has no branch."""
    if value_t is npy_uint16:
        return leaky_select_half(keep, v, scaled(v, slope))
    elif value_t is float:
        return leaky_select_float(keep, v, scaled(v, slope))
    else:
        return leaky_select_double(keep, v, scaled(v, slope))


# ------------------------------------------------------------------- loops --

cdef void forward_loop(const value_t* x, npy_intp sx, value_t* y, npy_intp sy,
                       npy_intp n, double slope) noexcept nogil:
    cdef npy_intp i, done = 0
    if sx == 1 and sy == 1:
        if value_t is npy_uint16:  # F16C blocks where the CPU has them
            done = leaky_half_forward_blocks(x, y, n, <float>slope)
        for i in range(done, n):
            y[i] = scale_unless(is_positive(x[i]), x[i], slope)
    else:
        for i in range(n):
            y[i * sy] = scale_unless_bitwise(is_positive(x[i * sx]), x[i * sx], slope)


cdef void forward_mask_loop(const value_t* x, npy_intp sx, value_t* y, npy_intp sy,
                            npy_bool* mask, npy_intp sm,
                            npy_intp n, double slope) noexcept nogil:
    cdef npy_intp i, done = 0
    cdef bint keep
    if sx == 1 and sy == 1 and sm == 1:
        if value_t is npy_uint16:
            done = leaky_half_forward_mask_blocks(x, y, mask, n, <float>slope)
        for i in range(done, n):
            keep = is_positive(x[i])
            mask[i] = keep
            y[i] = scale_unless(keep, x[i], slope)
    else:
        for i in range(n):
            keep = is_positive(x[i * sx])
            mask[i * sm] = keep
            y[i * sy] = scale_unless_bitwise(keep, x[i * sx], slope)


cdef void backward_loop(const value_t* grad, npy_intp sg,
                        const npy_bool* mask, npy_intp sm,
                        value_t* grad_in, npy_intp sgi,
                        npy_intp n, double slope) noexcept nogil:
    cdef npy_intp i, done = 0
    if sg == 1 and sm == 1 and sgi == 1:
        if value_t is npy_uint16:
            done = leaky_half_backward_blocks(grad, mask, grad_in, n, <float>slope)
        for i in range(done, n):
            grad_in[i] = scale_unless(mask[i] != 0, grad[i], slope)
    else:
        for i in range(n):
            grad_in[i * sgi] = scale_unless_bitwise(mask[i * sm] != 0, grad[i * sg], slope)


cdef void run_typed_loop(Op op, value_t* dtype_tag, char** data,
                         const npy_intp* byte_strides, npy_intp n,
                         double slope) noexcept nogil:
    """Run ``op``'s loop for ``value_t``; ``dtype_tag`` only picks the type.

    Operand order: forward (x, y); forward+mask (x, y, mask);
    backward (grad, mask, grad_in).
    """
    cdef npy_intp size = sizeof(value_t)
    if op == FORWARD:
        forward_loop(<const value_t*>data[0], byte_strides[0] // size,
                     <value_t*>data[1], byte_strides[1] // size, n, slope)
    elif op == FORWARD_MASK:
        forward_mask_loop(<const value_t*>data[0], byte_strides[0] // size,
                          <value_t*>data[1], byte_strides[1] // size,
                          <npy_bool*>data[2], byte_strides[2], n, slope)
    else:
        backward_loop(<const value_t*>data[0], byte_strides[0] // size,
                      <const npy_bool*>data[1], byte_strides[1],
                      <value_t*>data[2], byte_strides[2] // size, n, slope)


cdef void run_loop(int typenum, Op op, char** data, const npy_intp* byte_strides,
                   npy_intp n, double slope) noexcept nogil:
    if typenum == cnp.NPY_FLOAT32:
        run_typed_loop(op, <float*>NULL, data, byte_strides, n, slope)
    elif typenum == cnp.NPY_FLOAT64:
        run_typed_loop(op, <double*>NULL, data, byte_strides, n, slope)
    else:
        run_typed_loop(op, <npy_uint16*>NULL, data, byte_strides, n, slope)


# ----------------------------------------------------------------- drivers --

cdef int threads_for(npy_intp n) noexcept nogil:
    if n < parallel_min_elements:
        return 1
    return <int>min(<npy_intp>leaky_max_threads(), n // MIN_ELEMENTS_PER_THREAD)


cdef void run_chunk(int typenum, Op op, int nop, char** data,
                    const npy_intp* byte_strides, npy_intp start, npy_intp stop,
                    double slope) noexcept nogil:
    cdef char* chunk_data[3]
    cdef int k
    for k in range(nop):
        chunk_data[k] = data[k] + start * byte_strides[k]
    run_loop(typenum, op, chunk_data, byte_strides, stop - start, slope)


cdef void run_flat(int typenum, Op op, int nop, char** data,
                   const npy_intp* byte_strides, npy_intp n,
                   double slope) noexcept nogil:
    """All operands share one contiguous layout: one flat range of ``n``."""
    cdef int nthreads = threads_for(n)
    cdef npy_intp chunk, start
    cdef int t
    if nthreads <= 1:
        run_loop(typenum, op, data, byte_strides, n, slope)
        return
    chunk = (n + nthreads - 1) // nthreads
    chunk = (chunk + CHUNK_ALIGN - 1) // CHUNK_ALIGN * CHUNK_ALIGN
    for t in prange(nthreads, num_threads=nthreads, schedule='static'):
        start = t * chunk
        if start < n:
            run_chunk(typenum, op, nop, data, byte_strides, start,
                      min(start + chunk, n), slope)


cdef int run_strided(int typenum, Op op, int nop, PyArrayObject** arrays,
                     npy_uint32* op_flags, double slope) except -1:
    """Any layout: NpyIter coalesces dimensions, picks the memory order of
    the operands and hands the innermost axis to the loop."""
    cdef npy_uint32 flags = (cnp.NPY_ITER_EXTERNAL_LOOP | cnp.NPY_ITER_ZEROSIZE_OK
                             | cnp.NPY_ITER_REFS_OK)
    cdef NpyIter* it = cnp.NpyIter_MultiNew(nop, arrays, flags, cnp.NPY_KEEPORDER,
                                            cnp.NPY_NO_CASTING, op_flags, NULL)
    cdef cnp.NpyIter_IterNextFunc iternext
    cdef char** data
    cdef npy_intp* byte_strides
    cdef npy_intp* inner_size
    try:
        if cnp.NpyIter_GetIterSize(it) == 0:
            return 0
        iternext = cnp.NpyIter_GetIterNext(it, NULL)
        if iternext == NULL:
            return -1
        data = cnp.NpyIter_GetDataPtrArray(it)
        byte_strides = cnp.NpyIter_GetInnerStrideArray(it)
        inner_size = cnp.NpyIter_GetInnerLoopSizePtr(it)
        with nogil:
            while True:
                run_loop(typenum, op, data, byte_strides, inner_size[0], slope)
                if not iternext(it):
                    break
    finally:
        cnp.NpyIter_Deallocate(it)
    return 0


cdef extern from "numpy/arrayobject.h":
    # The C-API macros, taking the raw pointers held in ``run``'s arrays.
    bint is_c_contiguous "PyArray_IS_C_CONTIGUOUS"(PyArrayObject*) nogil
    bint is_f_contiguous "PyArray_IS_F_CONTIGUOUS"(PyArrayObject*) nogil
    void* array_data "PyArray_DATA"(PyArrayObject*) nogil
    npy_intp array_itemsize "PyArray_ITEMSIZE"(PyArrayObject*) nogil
    npy_intp array_size "PyArray_SIZE"(PyArrayObject*) nogil
    int array_typenum "PyArray_TYPE"(PyArrayObject*) nogil
    int array_ndim "PyArray_NDIM"(PyArrayObject*) nogil
    bint is_aligned "PyArray_ISALIGNED"(PyArrayObject*) nogil
    bint is_native_order "PyArray_ISNOTSWAPPED"(PyArrayObject*) nogil
    object new_array_like "PyArray_NewLikeArray"(
        PyArrayObject*, cnp.NPY_ORDER, cnp.PyArray_Descr*, int)


cdef bint share_flat_layout(PyArrayObject** arrays, int nop) noexcept:
    """True when every operand is C-contiguous, or every one F-contiguous."""
    cdef bint all_c = True, all_f = True
    cdef int k
    for k in range(nop):
        all_c = all_c and is_c_contiguous(arrays[k])
        all_f = all_f and is_f_contiguous(arrays[k])
    return all_c or all_f


cdef inline bint is_output(Op op, int k) noexcept:
    """Operand order: (x, y), (x, y, mask), (grad, mask, grad_in)."""
    return k == 2 if op == BACKWARD else k >= 1


cdef int run(Op op, int nop, PyArrayObject** arrays, double slope) except -1:
    """Run ``op``; ``arrays[0]`` holds the value dtype for every op."""
    cdef char* data[3]
    cdef npy_intp itemsizes[3]
    cdef npy_uint32 op_flags[3]
    cdef int k
    cdef int typenum = array_typenum(arrays[0])
    if share_flat_layout(arrays, nop):
        for k in range(nop):
            data[k] = <char*>array_data(arrays[k])
            itemsizes[k] = array_itemsize(arrays[k])
        with nogil:
            run_flat(typenum, op, nop, data, itemsizes, array_size(arrays[0]), slope)
        return 0
    for k in range(nop):
        op_flags[k] = cnp.NPY_ITER_WRITEONLY if is_output(op, k) else cnp.NPY_ITER_READONLY
    return run_strided(typenum, op, nop, arrays, op_flags, slope)


# ------------------------------------------------------------ entry points --

def forward(cnp.ndarray x not None, cnp.ndarray y not None, double slope):
    """Write ``leaky_relu(x)`` into ``y``.  Caller has validated both."""
    cdef PyArrayObject* arrays[2]
    arrays[0] = <PyArrayObject*>x
    arrays[1] = <PyArrayObject*>y
    run(FORWARD, 2, arrays, slope)


def forward_with_mask(cnp.ndarray x not None, cnp.ndarray y not None,
                      cnp.ndarray mask not None, double slope):
    """Write ``leaky_relu(x)`` into ``y`` and ``x > 0`` into ``mask``."""
    cdef PyArrayObject* arrays[3]
    arrays[0] = <PyArrayObject*>x
    arrays[1] = <PyArrayObject*>y
    arrays[2] = <PyArrayObject*>mask
    run(FORWARD_MASK, 3, arrays, slope)


def backward(cnp.ndarray grad not None, cnp.ndarray mask not None,
             cnp.ndarray grad_in not None, double slope):
    """Write ``grad if mask else grad * slope`` into ``grad_in``."""
    cdef PyArrayObject* arrays[3]
    arrays[0] = <PyArrayObject*>grad
    arrays[1] = <PyArrayObject*>mask
    arrays[2] = <PyArrayObject*>grad_in
    run(BACKWARD, 3, arrays, slope)


cdef extern from "<math.h>" nogil:
    bint isfinite(double)
    double fabs(double)

cdef double FLOAT32_MAX = 3.4028234663852886e38


def forward_new(cnp.ndarray x not None, double slope):
    """Small-call fast path for ``leaky_relu(x, slope)`` without ``out=``.

    Takes only what the contract plainly admits: an array of at least one
    dimension, float16/32/64, native byte order, aligned, and a finite slope
    that fits the compute dtype.  For anything else it returns ``None`` and
    the caller takes the general path, where ``leaky._contract`` decides.
    """
    cdef PyArrayObject* arrays[2]
    arrays[0] = <PyArrayObject*>x
    cdef int typenum = array_typenum(arrays[0])
    if (array_ndim(arrays[0]) == 0 or not is_aligned(arrays[0])
            or not is_native_order(arrays[0]) or not isfinite(slope)):
        return None
    if typenum != cnp.NPY_FLOAT64 and (
            fabs(slope) > FLOAT32_MAX
            or (typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT16)):
        return None
    y = new_array_like(arrays[0], cnp.NPY_KEEPORDER, NULL, 0)
    arrays[1] = <PyArrayObject*>y
    run(FORWARD, 2, arrays, slope)
    return y


# ------------------------------------------------------------- build info --

def openmp_enabled():
    """Whether this module was compiled with OpenMP."""
    return bool(leaky_openmp_enabled())


def max_threads():
    """Threads a large call may use (``OMP_NUM_THREADS``, threadpoolctl)."""
    return leaky_max_threads()


def get_parallel_threshold():
    """Smallest element count that is split across threads."""
    return parallel_min_elements


def set_parallel_threshold(npy_intp n):
    """Set the smallest element count that is split across threads.

    For tests and benchmarks; returns the previous value.
    """
    global parallel_min_elements
    if n < 1:
        raise ValueError(f"threshold must be >= 1, got {n}")
    previous = parallel_min_elements
    parallel_min_elements = n
    return previous


def half_conversion():
    """How this build converts float16: ``"hardware"`` or ``"software"``."""
    return LEAKY_HALF_CONVERSION.decode()
