# cython: language_level=3
"""Leaky ReLU kernels, registered as three NumPy ufuncs.

Layout of this file, from the innermost piece out:

1. Element functions (``is_positive``, ``scaled``, ``scale_unless`` and its
   bitwise twin for strided loops): the whole contract for one element,
   written once over the fused ``value_t``.
2. Loops (``forward_loop``, ``forward_mask_loop``, ``backward_loop``): one
   1-D loop per operation, with strides counted in elements.  The
   unit-stride branch is a flat loop the compiler vectorizes; the other
   branch serves any stride, including negative and zero ones.
3. ``run_flat`` splits one contiguous range across OpenMP threads.
4. ``ufunc_loop``: the inner loop NumPy calls, with NumPy's signature.
   NumPy's ufunc machinery does everything around it: broadcasting,
   overlap, casting, ``where=``, ``out=``, layout, scalar results and
   ``__array_ufunc__``.  ``make_ufuncs`` registers the loops.
5. Fast paths (``forward_fast``, ``forward_mask_fast``, ``backward_fast``):
   the plainest calls on contiguous arrays, with exactly the ufunc's result,
   without the ufunc's half-microsecond of set-up.

Semantics: ``y = x if x > 0 else x * s``, computed as a select between two
values that are both computed, so the loop has no branch.  float32 and
float64 compute in their own precision with ``s`` cast to that dtype;
float16 and bfloat16 are loaded into float32, computed there and rounded
once, exactly like PyTorch's CPU kernel.
"""

cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_New
from cpython.ref cimport Py_INCREF
from libc.stdint cimport int64_t
from cython.parallel cimport prange
from numpy cimport npy_bool, npy_intp, npy_uint8, npy_uint16, npy_uint32, npy_uint64, PyArrayObject

import threading as _threading

cnp.import_array()
cnp.import_ufunc()

cdef extern from "leaky_isa.h" nogil:
    const int LEAKY_ISA

cdef extern from "leaky_convert.h" nogil:
    float leaky_half_to_float(npy_uint16 bits)
    npy_uint16 leaky_float_to_half(float value)
    float leaky_bfloat16_to_float(npy_uint16 bits)
    npy_uint16 leaky_float_to_bfloat16(float value)
    const char* LEAKY_HALF_CONVERSION

cdef extern from "leaky_select.h" nogil:
    float leaky_select_float(bint keep, float a, float b)
    double leaky_select_double(bint keep, double a, double b)
    npy_uint16 leaky_select_half(bint keep, npy_uint16 a, npy_uint16 b)
    npy_intp leaky_half_forward_blocks(const npy_uint16* x, npy_uint16* y,
                                       npy_intp n, float slope)
    npy_intp leaky_half_forward_mask_blocks(const npy_uint16* x, npy_uint16* y,
                                            npy_bool* mask, npy_intp n, float slope)
    npy_intp leaky_half_backward_blocks(const npy_uint16* grad, const npy_bool* mask,
                                        npy_uint16* grad_in, npy_intp n, float slope)
    # NEON only; elsewhere they return 0
    npy_intp leaky_bfloat16_forward_blocks(const npy_uint16* x, npy_uint16* y,
                                           npy_intp n, float slope)
    npy_intp leaky_bfloat16_forward_mask_blocks(const npy_uint16* x, npy_uint16* y,
                                                npy_bool* mask, npy_intp n, float slope)
    npy_intp leaky_bfloat16_backward_blocks(const npy_uint16* grad, const npy_bool* mask,
                                            npy_uint16* grad_in, npy_intp n, float slope)

cdef extern from "leaky_threads.h" nogil:
    int leaky_max_threads()
    int leaky_openmp_enabled()
    npy_intp leaky_load_relaxed(const npy_intp*)
    void leaky_store_relaxed(npy_intp*, npy_intp)

cdef extern from "leaky_pack.h" nogil:
    const npy_uint16 LEAKY_HALF_INF
    const npy_uint16 LEAKY_BFLOAT16_INF
    const npy_uint32 LEAKY_FLOAT_INF
    const npy_uint64 LEAKY_DOUBLE_INF
    void leaky_pack_u16(const npy_uint16* x, npy_uint8* bits, npy_intp nbytes, npy_uint16 inf)
    void leaky_pack_u32(const npy_uint32* x, npy_uint8* bits, npy_intp nbytes)
    void leaky_pack_u64(const npy_uint64* x, npy_uint8* bits, npy_intp nbytes)
    npy_uint8 leaky_pack_tail_u16(const npy_uint16* x, npy_intp n, npy_uint16 inf)
    npy_uint8 leaky_pack_tail_u32(const npy_uint32* x, npy_intp n, npy_uint32 inf)
    npy_uint8 leaky_pack_tail_u64(const npy_uint64* x, npy_intp n, npy_uint64 inf)
    void leaky_spread_byte(npy_uint8 byte, npy_bool* out)
    npy_intp leaky_float_forward_bits(const float* x, float* y, npy_uint8* bits,
                                      npy_intp n, float slope)
    npy_intp leaky_double_forward_bits(const double* x, double* y, npy_uint8* bits,
                                       npy_intp n, double slope)
    npy_intp leaky_half_forward_bits(const npy_uint16* x, npy_uint16* y, npy_uint8* bits,
                                     npy_intp n, float slope)
    npy_intp leaky_float_backward_bits(const float* grad, const npy_uint8* bits,
                                       float* grad_in, npy_intp n, float slope)
    npy_intp leaky_double_backward_bits(const double* grad, const npy_uint8* bits,
                                        double* grad_in, npy_intp n, double slope)
    npy_intp leaky_half_backward_bits(const npy_uint16* grad, const npy_uint8* bits,
                                      npy_uint16* grad_in, npy_intp n, float slope)
    npy_intp leaky_bfloat16_forward_bits(const npy_uint16* x, npy_uint16* y, npy_uint8* bits,
                                         npy_intp n, float slope)
    npy_intp leaky_bfloat16_backward_bits(const npy_uint16* grad, const npy_uint8* bits,
                                          npy_uint16* grad_in, npy_intp n, float slope)

cdef extern from "leaky_ufunc.h":
    ctypedef int (*leaky_type_resolver)(void* ufunc, int casting, PyArrayObject** operands,
                                        void* type_tup, void** out_dtypes) except -1
    leaky_type_resolver leaky_swap_type_resolver(object ufunc, leaky_type_resolver resolver)
    ctypedef struct leaky_fp_flags:
        pass
    void leaky_save_fp_flags(leaky_fp_flags* flags) nogil
    void leaky_restore_fp_flags(const leaky_fp_flags* flags) nogil


cdef struct bfloat16_t:
    npy_uint16 bits  # the top 16 bits of a float32


ctypedef fused value_t:
    float
    double
    npy_uint16  # IEEE binary16, held as its bit pattern
    bfloat16_t


# The operations and value kinds are the kernel table's (leaky_kernel_table.h),
# so the torch operators that call the kernels through it use the same numbers.
cdef extern from "leaky_kernel_table.h" nogil:
    ctypedef enum Op "enum leaky_op":
        FORWARD "LEAKY_OP_FORWARD"
        FORWARD_MASK "LEAKY_OP_FORWARD_MASK"
        BACKWARD "LEAKY_OP_BACKWARD"
        FORWARD_BITS "LEAKY_OP_FORWARD_BITS"  # packed, 8 a byte (flat ranges only)
        BACKWARD_BITS "LEAKY_OP_BACKWARD_BITS"

    ctypedef enum Kind "enum leaky_kind":  # in the order of the ufuncs' loops
        HALF "LEAKY_KIND_HALF"
        SINGLE "LEAKY_KIND_SINGLE"
        DOUBLE "LEAKY_KIND_DOUBLE"
        BFLOAT16 "LEAKY_KIND_BFLOAT16"

    ctypedef struct leaky_bias_act:
        int act
        double alpha
        double gain
        double clamp
        const void* bias
        int64_t channels
        int64_t inner

    ctypedef struct leaky_kernel_table:
        int version
        void (*run)(int kind, int op, char** data, int64_t n, double slope) noexcept nogil
        double float32_slope_limit
        void (*bias_act)(int kind, int forward, const void* input, void* output,
                         npy_uint8* bits, int64_t n, const leaky_bias_act* params) noexcept nogil
    int LEAKY_KERNEL_TABLE_VERSION
    const char* LEAKY_KERNEL_TABLE_NAME
    int LEAKY_ACT_LRELU


# StyleGAN's fused bias + activation + gain + clamp (leaky_bias_act.h): a
# forward and a backward per value type, over elements [start, start + n).
cdef extern from "leaky_bias_act.h" nogil:
    void leaky_float_bias_act_forward(const float* x, float* y, npy_uint8* bits, int64_t total,
                                      int64_t start, int64_t n, const leaky_bias_act* p)
    void leaky_double_bias_act_forward(const double* x, double* y, npy_uint8* bits,
                                       int64_t total, int64_t start, int64_t n,
                                       const leaky_bias_act* p)
    void leaky_half_bias_act_forward(const npy_uint16* x, npy_uint16* y, npy_uint8* bits,
                                     int64_t total, int64_t start, int64_t n,
                                     const leaky_bias_act* p)
    void leaky_bfloat16_bias_act_forward(const npy_uint16* x, npy_uint16* y, npy_uint8* bits,
                                         int64_t total, int64_t start, int64_t n,
                                         const leaky_bias_act* p)
    void leaky_float_bias_act_backward(const float* g, const npy_uint8* bits, float* out,
                                       int64_t total, int64_t start, int64_t n,
                                       const leaky_bias_act* p)
    void leaky_double_bias_act_backward(const double* g, const npy_uint8* bits, double* out,
                                        int64_t total, int64_t start, int64_t n,
                                        const leaky_bias_act* p)
    void leaky_half_bias_act_backward(const npy_uint16* g, const npy_uint8* bits,
                                      npy_uint16* out, int64_t total, int64_t start, int64_t n,
                                      const leaky_bias_act* p)
    void leaky_bfloat16_bias_act_backward(const npy_uint16* g, const npy_uint8* bits,
                                          npy_uint16* out, int64_t total, int64_t start,
                                          int64_t n, const leaky_bias_act* p)


# Below this many elements a call stays on one thread: the cost of waking a
# thread team (a few microseconds) is larger than the work.  Chosen with
# asv_bench/parallel_threshold.py; see docs/performance.rst.  Every thread
# reads it (leaky_load_relaxed): set_parallel_threshold may change it while
# other threads run kernels.
cdef npy_intp parallel_min_elements = 1 << 16
# Each thread gets at least this many elements.
cdef npy_intp MIN_ELEMENTS_PER_THREAD = 1 << 15
# Chunk boundaries fall on multiples of this many elements, so every
# operand's chunks start on a 64-byte cache line (even the 1-byte mask's).
cdef npy_intp CHUNK_ALIGN = 64
# The packed forward works through its range in blocks of this many
# elements (a multiple of 8): each block's bits, then its values, while the
# block is still in L1.
cdef npy_intp BITS_BLOCK = 1024


# ---------------------------------------------------------------- elements --

cdef inline bint is_positive(value_t x) noexcept nogil:
    """``x > 0``; False for NaN and for both zeros."""
    if value_t is npy_uint16:
        return leaky_half_to_float(x) > 0
    elif value_t is bfloat16_t:
        return leaky_bfloat16_to_float(x.bits) > 0
    else:
        return x > 0


cdef inline value_t scaled(value_t v, double slope) noexcept nogil:
    """``v * slope`` in the compute precision, rounded once to ``value_t``."""
    cdef bfloat16_t product
    if value_t is npy_uint16:
        return leaky_float_to_half(leaky_half_to_float(v) * <float>slope)
    elif value_t is bfloat16_t:
        product.bits = leaky_float_to_bfloat16(leaky_bfloat16_to_float(v.bits) * <float>slope)
        return product
    elif value_t is float:
        return v * <float>slope
    else:
        return v * slope


cdef inline value_t scale_unless(bint keep, value_t v, double slope) noexcept nogil:
    """``v if keep else v * slope`` for unit-stride loops.

    Both arms are computed first, so the vectorizer turns the select into a
    blend (see the ``-fopt-info-vec`` report in docs/performance.rst)."""
    cdef value_t product = scaled(v, slope)
    if value_t is bfloat16_t:  # select the bits: a struct select would not vectorize
        product.bits = v.bits if keep else product.bits
        return product
    else:
        return v if keep else product


cdef inline value_t scale_unless_bitwise(bint keep, value_t v, double slope) noexcept nogil:
    """The same select, done on the bits, for the strided (scalar) loops.

    There GCC would compile the select to a branch that mispredicts on
    random signs (about 4 ns an element); and/andnot/or has no branch."""
    cdef value_t product = scaled(v, slope)
    if value_t is npy_uint16:
        return leaky_select_half(keep, v, product)
    elif value_t is bfloat16_t:
        product.bits = leaky_select_half(keep, v.bits, product.bits)
        return product
    elif value_t is float:
        return leaky_select_float(keep, v, product)
    else:
        return leaky_select_double(keep, v, product)


# ------------------------------------------------------------------- loops --

cdef inline npy_intp before_line(const void* out, npy_intp itemsize, npy_intp n) noexcept nogil:
    """How many of ``n`` elements lie before the first 64-byte line boundary
    at or after ``out``: the unit-stride loops do those one by one, so that
    their vector stores start on a line (NumPy's outputs often start 16 or
    32 bytes into one, and a store across two lines costs two)."""
    return min(n, <npy_intp>((<size_t>0 - <size_t>out) % 64) // itemsize)


cdef void forward_loop(const value_t* x, npy_intp sx, value_t* y, npy_intp sy,
                       npy_intp n, double slope) noexcept nogil:
    cdef npy_intp i, done = 0
    if sx == 1 and sy == 1:
        done = before_line(y, sizeof(value_t), n)
        for i in range(done):
            y[i] = scale_unless_bitwise(is_positive(x[i]), x[i], slope)
        x += done
        y += done
        n -= done
        done = 0
        if value_t is npy_uint16:  # F16C or NEON blocks where the CPU has them
            done = leaky_half_forward_blocks(x, y, n, <float>slope)
        elif value_t is bfloat16_t:  # AVX2 or NEON blocks
            done = leaky_bfloat16_forward_blocks(<const npy_uint16*>x, <npy_uint16*>y, n,
                                                 <float>slope)
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
        done = before_line(y, sizeof(value_t), n)
        for i in range(done):
            keep = is_positive(x[i])
            mask[i] = keep
            y[i] = scale_unless_bitwise(keep, x[i], slope)
        x += done
        y += done
        mask += done
        n -= done
        done = 0
        if value_t is npy_uint16:
            done = leaky_half_forward_mask_blocks(x, y, mask, n, <float>slope)
        elif value_t is bfloat16_t:
            done = leaky_bfloat16_forward_mask_blocks(<const npy_uint16*>x, <npy_uint16*>y,
                                                      mask, n, <float>slope)
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
        done = before_line(grad_in, sizeof(value_t), n)
        for i in range(done):
            grad_in[i] = scale_unless_bitwise(mask[i] != 0, grad[i], slope)
        grad += done
        mask += done
        grad_in += done
        n -= done
        done = 0
        if value_t is npy_uint16:
            done = leaky_half_backward_blocks(grad, mask, grad_in, n, <float>slope)
        elif value_t is bfloat16_t:
            done = leaky_bfloat16_backward_blocks(<const npy_uint16*>grad, mask,
                                                  <npy_uint16*>grad_in, n, <float>slope)
        for i in range(done, n):
            grad_in[i] = scale_unless(mask[i] != 0, grad[i], slope)
    else:
        for i in range(n):
            grad_in[i * sgi] = scale_unless_bitwise(mask[i * sm] != 0, grad[i * sg], slope)


cdef inline void pack_positive(const value_t* x, npy_uint8* bits,
                               npy_intp n) noexcept nogil:
    """Bits of ``x > 0`` for ``n`` unit-stride elements, ``ceil(n / 8)``
    bytes; the last byte's unused bits are 0.  Read off the bit patterns
    (``leaky_pack.h``), so float16 and bfloat16 need no conversion."""
    cdef npy_intp full = n // 8, rest = n % 8
    cdef npy_uint16 inf
    if value_t is float:
        leaky_pack_u32(<const npy_uint32*>x, bits, full)
        if rest:
            bits[full] = leaky_pack_tail_u32(<const npy_uint32*>x + 8 * full, rest,
                                                 LEAKY_FLOAT_INF)
    elif value_t is double:
        leaky_pack_u64(<const npy_uint64*>x, bits, full)
        if rest:
            bits[full] = leaky_pack_tail_u64(<const npy_uint64*>x + 8 * full, rest,
                                                 LEAKY_DOUBLE_INF)
    else:
        inf = LEAKY_HALF_INF if value_t is npy_uint16 else LEAKY_BFLOAT16_INF
        leaky_pack_u16(<const npy_uint16*>x, bits, full, inf)
        if rest:
            bits[full] = leaky_pack_tail_u16(<const npy_uint16*>x + 8 * full, rest, inf)


cdef void forward_bits_loop(const value_t* x, value_t* y, npy_uint8* bits,
                            npy_intp n, double slope) noexcept nogil:
    """Forward and packed mask over ``n`` unit-stride elements that start on
    a whole byte, in one pass over memory.  Where this build has SIMD code
    for the type (``leaky_pack.h``) one compare gives both the select and
    the bits; otherwise block by block: the bits, then the values, while the
    block is in L1.  Bits first, so that ``y`` may be ``x`` itself."""
    cdef npy_intp start = 0, stop
    if value_t is float:
        start = leaky_float_forward_bits(x, y, bits, n, <float>slope)
    elif value_t is double:
        start = leaky_double_forward_bits(x, y, bits, n, slope)
    elif value_t is npy_uint16:
        start = leaky_half_forward_bits(x, y, bits, n, <float>slope)
    else:
        start = leaky_bfloat16_forward_bits(<const npy_uint16*>x, <npy_uint16*>y, bits, n,
                                            <float>slope)
    while start < n:
        stop = min(start + BITS_BLOCK, n)
        pack_positive(x + start, bits + start // 8, stop - start)
        forward_loop(x + start, 1, y + start, 1, stop - start, slope)
        start = stop


cdef void backward_bits_loop(const value_t* grad, const npy_uint8* bits,
                             value_t* grad_in, npy_intp n, double slope) noexcept nogil:
    """``grad if bit else grad * slope`` over ``n`` unit-stride elements that
    start on a whole byte, straight from the bits (no byte mask between):
    the SIMD code of ``leaky_pack.h`` where this build has it for the type,
    else through a small scratch in L1."""
    cdef npy_intp i
    if value_t is float:
        if leaky_float_backward_bits(grad, bits, grad_in, n, <float>slope):
            return
    elif value_t is double:
        if leaky_double_backward_bits(grad, bits, grad_in, n, slope):
            return
    elif value_t is npy_uint16:
        if leaky_half_backward_bits(grad, bits, grad_in, n, <float>slope):
            return
    else:
        if leaky_bfloat16_backward_bits(<const npy_uint16*>grad, bits, <npy_uint16*>grad_in,
                                        n, <float>slope):
            return
    # Elsewhere: 256 elements at a time, their bits spread into a 256-byte
    # scratch in L1 (never a byte mask the size of the array), then the
    # bool-mask loop, which vectorizes for every type.
    cdef npy_bool scratch[256]
    cdef npy_intp start = 0, count, j
    while start < n:
        count = min(<npy_intp>256, n - start)
        for j in range((count + 7) // 8):
            leaky_spread_byte(bits[start // 8 + j], scratch + 8 * j)
        backward_loop(grad + start, 1, scratch, 1, grad_in + start, 1, count, slope)
        start += count


cdef void run_typed_loop(Op op, value_t* dtype_tag, char** data,
                         const npy_intp* byte_strides, npy_intp n,
                         double slope) noexcept nogil:
    """Run ``op``'s loop for ``value_t``; ``dtype_tag`` only picks the type.

    Operand order: forward (x, y); forward+mask (x, y, mask);
    backward (grad, mask, grad_in); the packed ones like their bool twins,
    with the bits in the mask's place (and unit strides only).
    """
    cdef npy_intp size = sizeof(value_t)
    if op == FORWARD:
        forward_loop(<const value_t*>data[0], byte_strides[0] // size,
                     <value_t*>data[1], byte_strides[1] // size, n, slope)
    elif op == FORWARD_MASK:
        forward_mask_loop(<const value_t*>data[0], byte_strides[0] // size,
                          <value_t*>data[1], byte_strides[1] // size,
                          <npy_bool*>data[2], byte_strides[2], n, slope)
    elif op == BACKWARD:
        backward_loop(<const value_t*>data[0], byte_strides[0] // size,
                      <const npy_bool*>data[1], byte_strides[1],
                      <value_t*>data[2], byte_strides[2] // size, n, slope)
    elif op == FORWARD_BITS:
        forward_bits_loop(<const value_t*>data[0], <value_t*>data[1],
                          <npy_uint8*>data[2], n, slope)
    else:
        backward_bits_loop(<const value_t*>data[0], <const npy_uint8*>data[1],
                           <value_t*>data[2], n, slope)


cdef void run_loop(Kind kind, Op op, char** data, const npy_intp* byte_strides,
                   npy_intp n, double slope) noexcept nogil:
    if kind == SINGLE:
        run_typed_loop(op, <float*>NULL, data, byte_strides, n, slope)
    elif kind == DOUBLE:
        run_typed_loop(op, <double*>NULL, data, byte_strides, n, slope)
    elif kind == HALF:
        run_typed_loop(op, <npy_uint16*>NULL, data, byte_strides, n, slope)
    else:
        run_typed_loop(op, <bfloat16_t*>NULL, data, byte_strides, n, slope)


# ----------------------------------------------------------------- threads --

cdef int threads_for(npy_intp n) noexcept nogil:
    if n < leaky_load_relaxed(&parallel_min_elements):
        return 1
    return <int>min(<npy_intp>leaky_max_threads(), n // MIN_ELEMENTS_PER_THREAD)


cdef int bits_operand(Op op) noexcept nogil:
    """Which operand holds packed bits (8 elements a byte), or -1."""
    if op == FORWARD_BITS:
        return 2
    if op == BACKWARD_BITS:
        return 1
    return -1


cdef void run_chunk(Kind kind, Op op, int nop, char** data,
                    const npy_intp* byte_strides, npy_intp start, npy_intp stop,
                    double slope) noexcept nogil:
    """Elements ``start:stop``; ``start`` is a multiple of ``CHUNK_ALIGN``,
    so packed bits start on a whole byte."""
    cdef char* chunk_data[3]
    cdef int k
    for k in range(nop):
        if k == bits_operand(op):
            chunk_data[k] = data[k] + start // 8
        else:
            chunk_data[k] = data[k] + start * byte_strides[k]
    run_loop(kind, op, chunk_data, byte_strides, stop - start, slope)


cdef bint is_output(Op op, int k) noexcept nogil:
    """Whether operand ``k`` of ``op`` is written."""
    if op == FORWARD:
        return k == 1
    if op == FORWARD_MASK or op == FORWARD_BITS:
        return k >= 1
    return k == 2  # BACKWARD, BACKWARD_BITS


cdef npy_intp operand_bytes(Op op, int k, const npy_intp* byte_strides,
                            npy_intp n) noexcept nogil:
    """How many bytes operand ``k`` spans in a flat range of ``n`` elements."""
    if k == bits_operand(op):
        return (n + 7) // 8
    return n * byte_strides[k]


cdef bint chunks_independent(Op op, int nop, char** data,
                             const npy_intp* byte_strides, npy_intp n) noexcept nogil:
    """Whether chunks of the range can run in any order, on any thread.

    NumPy hands an inner loop operands that may overlap, trusting it to
    walk its range in order (an input one element ahead of its output is
    not copied).  Threads keep that promise only if every output is apart
    from every other operand, or is that operand exactly (in place)."""
    cdef int a, b
    cdef char* start_a
    cdef char* start_b
    cdef npy_intp bytes_a, bytes_b
    for a in range(nop):
        if not is_output(op, a):
            continue
        start_a = data[a]
        bytes_a = operand_bytes(op, a, byte_strides, n)
        for b in range(nop):
            if b == a:
                continue
            start_b = data[b]
            bytes_b = operand_bytes(op, b, byte_strides, n)
            if start_a == start_b and bytes_a == bytes_b:
                continue  # the same range: element i reads, then writes, i
            if start_a < start_b + bytes_b and start_b < start_a + bytes_a:
                return False
    return True


cdef void run_flat(Kind kind, Op op, int nop, char** data,
                   const npy_intp* byte_strides, npy_intp n,
                   double slope) noexcept nogil:
    """Every operand is one contiguous range of ``n`` elements.

    Split across threads only where that gives what one thread walking the
    range in order gives (``chunks_independent``)."""
    cdef int nthreads = threads_for(n)
    cdef npy_intp chunk, start
    cdef int t
    if nthreads > 1 and not chunks_independent(op, nop, data, byte_strides, n):
        nthreads = 1
    if nthreads <= 1:
        run_loop(kind, op, data, byte_strides, n, slope)
        return
    chunk = (n + nthreads - 1) // nthreads
    chunk = (chunk + CHUNK_ALIGN - 1) // CHUNK_ALIGN * CHUNK_ALIGN
    for t in prange(nthreads, num_threads=nthreads, schedule='static'):
        start = t * chunk
        if start < n:
            run_chunk(kind, op, nop, data, byte_strides, start,
                      min(start + chunk, n), slope)


# ------------------------------------------------------------------ ufuncs --

cdef struct LoopSpec:
    Op op
    Kind kind
    int nop            # operands besides the slope: 2 or 3
    int slope_at       # the slope's position among the ufunc's arguments
    npy_intp itemsize[3]


cdef void run_1d(const LoopSpec* spec, char** data, const npy_intp* byte_strides,
                 npy_intp n, double slope) noexcept nogil:
    """One 1-D range: contiguous ranges go to ``run_flat`` (threads)."""
    cdef int k
    for k in range(spec.nop):
        if byte_strides[k] != spec.itemsize[k]:
            run_loop(spec.kind, spec.op, data, byte_strides, n, slope)
            return
    run_flat(spec.kind, spec.op, spec.nop, data, byte_strides, n, slope)


cdef void ufunc_loop(char** args, npy_intp* dimensions, npy_intp* steps,
                     void* loop_data) noexcept nogil:
    """The inner loop of all three ufuncs; ``loop_data`` says which.

    NumPy passes the slope as an operand: with stride 0 (the usual case,
    one slope for every element) the whole range runs as one loop; a
    broadcast array of slopes runs element by element.
    """
    cdef const LoopSpec* spec = <const LoopSpec*>loop_data
    cdef char* data[3]
    cdef npy_intp byte_strides[3]
    cdef npy_intp n = dimensions[0], i
    cdef int k, j = 0
    cdef leaky_fp_flags flags
    for k in range(spec.nop + 1):  # the kernel's operands: all but the slope
        if k != spec.slope_at:
            data[j] = args[k]
            byte_strides[j] = steps[k]
            j += 1
    cdef const char* slope = args[spec.slope_at]
    cdef npy_intp slope_step = steps[spec.slope_at]
    leaky_save_fp_flags(&flags)
    if slope_step == 0:
        run_1d(spec, data, byte_strides, n, (<const double*>slope)[0])
    else:
        for i in range(n):
            run_loop(spec.kind, spec.op, data, byte_strides, 1,
                     (<const double*>(slope + i * slope_step))[0])
            for k in range(spec.nop):
                data[k] += byte_strides[k]
    leaky_restore_fp_flags(&flags)


# One entry per (operation, value kind); NumPy keeps pointers to these.
cdef LoopSpec loop_specs[3][4]
# The loops' type signatures, in each ufunc's argument order.
cdef char forward_types[12]
cdef char forward_mask_types[16]
cdef char backward_types[16]
cdef cnp.PyUFuncGenericFunction loop_functions[3][3]
cdef void* loop_data[3][3]
cdef leaky_type_resolver numpy_type_resolver = NULL
cdef object check_operand_dtypes = None


cdef void fill_spec(Op op, Kind kind, int value_size, char value_type,
                    char* types) noexcept:
    """Fill ``loop_specs[op][kind]`` and, unless ``types`` is NULL, the
    loop's type signature (in the ufunc's argument order)."""
    cdef LoopSpec* spec = &loop_specs[<int>op][<int>kind]
    spec.op, spec.kind = op, kind
    spec.nop = 2 if op == FORWARD else 3
    spec.slope_at = 2 if op == BACKWARD else 1
    spec.itemsize[0] = value_size
    if op == FORWARD:
        spec.itemsize[1] = value_size
    elif op == FORWARD_MASK:
        spec.itemsize[1], spec.itemsize[2] = value_size, 1
    else:
        spec.itemsize[1], spec.itemsize[2] = 1, value_size
    if types == NULL:
        return
    if op == FORWARD:
        types[0], types[1], types[2] = value_type, cnp.NPY_DOUBLE, value_type
    elif op == FORWARD_MASK:
        types[0], types[1], types[2], types[3] = (
            value_type, cnp.NPY_DOUBLE, value_type, cnp.NPY_BOOL)
    else:
        types[0], types[1], types[2], types[3] = (
            value_type, cnp.NPY_BOOL, cnp.NPY_DOUBLE, value_type)


cdef int checked_type_resolver(void* ufunc, int casting, PyArrayObject** operands,
                               void* type_tup, void** out_dtypes) except -1:
    """Refuse dtypes outside the contract, then let NumPy resolve.

    NumPy calls this only when no loop matches the operands' dtypes exactly
    (integers, Python scalars, float8, ``dtype=``, ...).
    ``check_operand_dtypes`` raises a TypeError naming the dtype for what
    the contract refuses, and returns the type tuple to resolve with."""
    given = None if type_tup == NULL else <object>type_tup
    signature = check_operand_dtypes(<object>ufunc, [
        (<object>operands[k]).dtype for k in range((<object>ufunc).nin)], given)
    if signature is not given:  # dtype= named the values' dtype
        type_tup = <void*>signature
    return numpy_type_resolver(ufunc, casting, operands, type_tup, out_dtypes)


def make_ufuncs(check_dtypes, bfloat16_type_number, docs):
    """Build the three ufuncs from this module's loops, once.

    The loops' tables and the type resolver are module state that NumPy
    reads on every call, so they are filled once, under a lock: a later or
    concurrent call returns the ufuncs the first call built (its arguments
    are then ignored).

    Parameters
    ----------
    check_dtypes : callable
        ``check_dtypes(ufunc, input_dtypes, type_tup)`` raises TypeError for
        dtypes outside the contract and returns the type tuple to resolve
        with (``leaky._contract.check_ufunc_dtypes``).
    bfloat16_type_number : int or None
        NumPy's type number of ``ml_dtypes.bfloat16``, to register its loops.
    docs : dict
        Docstrings by ufunc name.

    Returns
    -------
    dict
        ``{name: numpy.ufunc}``
    """
    with _UFUNCS_LOCK:
        if not _UFUNCS:
            _UFUNCS.update(_build_ufuncs(check_dtypes, bfloat16_type_number, docs))
        return dict(_UFUNCS)


_UFUNCS_LOCK = _threading.Lock()
_UFUNCS = {}


def _build_ufuncs(check_dtypes, bfloat16_type_number, docs):
    global check_operand_dtypes, numpy_type_resolver, bfloat16_typenum
    check_operand_dtypes = check_dtypes
    if bfloat16_type_number is not None:
        bfloat16_typenum = bfloat16_type_number
    cdef char* all_types[3]
    all_types[0], all_types[1], all_types[2] = forward_types, forward_mask_types, backward_types
    cdef int op, k, nargs, nin, nout
    cdef char value_types[3]
    cdef int value_sizes[3]
    value_types[0], value_types[1], value_types[2] = cnp.NPY_FLOAT16, cnp.NPY_FLOAT32, cnp.NPY_FLOAT64
    value_sizes[0], value_sizes[1], value_sizes[2] = 2, 4, 8
    cdef int bf16_types[4]
    names = ("leaky_relu", "leaky_relu_with_mask", "leaky_relu_backward")
    ufuncs = {}
    for op in range(3):
        nin = 3 if op == BACKWARD else 2
        nout = 2 if op == FORWARD_MASK else 1
        nargs = nin + nout
        for k in range(3):
            fill_spec(<Op>op, <Kind>k, value_sizes[k], value_types[k],
                      all_types[op] + k * nargs)
            loop_data[op][k] = &loop_specs[op][k]
            loop_functions[op][k] = <cnp.PyUFuncGenericFunction>ufunc_loop
        fill_spec(<Op>op, BFLOAT16, 2, 0, NULL)
        name = names[op]
        # NumPy keeps the name and doc pointers: keep the bytes alive.
        name_bytes, doc_bytes = _KEEP_ALIVE.setdefault(
            name, (name.encode(), docs[name].encode()))
        ufunc = cnp.PyUFunc_FromFuncAndData(
            loop_functions[op], loop_data[op], all_types[op], 3, nin, nout,
            cnp.PyUFunc_None, name_bytes, doc_bytes, 0)
        # NumPy's default resolver, the same for all three ufuncs.
        numpy_type_resolver = leaky_swap_type_resolver(ufunc, checked_type_resolver)
        if bfloat16_type_number is not None:
            for k in range(nargs):
                bf16_types[k] = all_types[op][2 * nargs + k]  # the float64 loop...
                if bf16_types[k] == cnp.NPY_DOUBLE and k != loop_specs[op][0].slope_at:
                    bf16_types[k] = bfloat16_type_number      # ...with bfloat16 values
            cnp.PyUFunc_RegisterLoopForType(
                ufunc, bfloat16_type_number, <cnp.PyUFuncGenericFunction>ufunc_loop,
                bf16_types, &loop_specs[op][<int>BFLOAT16])
        ufuncs[name] = ufunc
    return ufuncs


_KEEP_ALIVE = {}


# --------------------------------------------------------------- fast paths --
# A ufunc call costs about half a microsecond before its loop runs (NumPy's
# argument parsing, type resolution, iterator set-up).  For the plainest
# calls on small arrays that is most of the time, so these entry points run
# the same loops directly.  Each takes only cases whose result is plainly the
# ufunc's, bit for bit and in layout, and returns None for anything else:
# the caller then calls the ufunc, which decides and raises.

cdef extern from "numpy/arrayobject.h":
    # The C-API macros, on the raw pointers the fast paths hold.
    bint is_c_contiguous "PyArray_IS_C_CONTIGUOUS"(PyArrayObject*) nogil
    bint is_f_contiguous "PyArray_IS_F_CONTIGUOUS"(PyArrayObject*) nogil
    void* array_data "PyArray_DATA"(PyArrayObject*) nogil
    npy_intp array_size "PyArray_SIZE"(PyArrayObject*) nogil
    npy_intp array_nbytes "PyArray_NBYTES"(PyArrayObject*) nogil
    int array_typenum "PyArray_TYPE"(PyArrayObject*) nogil
    int array_ndim "PyArray_NDIM"(PyArrayObject*) nogil
    bint is_aligned "PyArray_ISALIGNED"(PyArrayObject*) nogil
    bint is_native_order "PyArray_ISNOTSWAPPED"(PyArrayObject*) nogil
    bint is_writeable "PyArray_ISWRITEABLE"(PyArrayObject*) nogil
    bint same_shape "PyArray_SAMESHAPE"(PyArrayObject*, PyArrayObject*) nogil
    object new_array_like "PyArray_NewLikeArray"(
        PyArrayObject*, cnp.NPY_ORDER, cnp.PyArray_Descr*, int)

cdef extern from "<math.h>" nogil:
    bint isfinite(double)
    double fabs(double)

# The largest slope a float32 computation holds: the contract's, read once.
from leaky._contract import SLOPE_LIMITS as _SLOPE_LIMITS
cdef double FLOAT32_MAX = _SLOPE_LIMITS["float32"]
# NumPy's type number of ml_dtypes.bfloat16, once its loops are registered.
cdef int bfloat16_typenum = -1


cdef int plain_kind(PyArrayObject* a, double slope) noexcept:
    """The value kind of a plain operand, or -1.

    Plain: at least one dimension, C- or F-contiguous, aligned, native byte
    order, float16/32/64 (or bfloat16, once its loops are registered), and
    a finite slope that fits the compute dtype."""
    cdef int typenum = array_typenum(a)
    if (array_ndim(a) == 0 or not is_aligned(a) or not is_native_order(a)
            or not isfinite(slope) or not (is_c_contiguous(a) or is_f_contiguous(a))):
        return -1
    if typenum == cnp.NPY_FLOAT64:
        return DOUBLE
    if fabs(slope) > FLOAT32_MAX:
        return -1
    if typenum == cnp.NPY_FLOAT32:
        return SINGLE
    if typenum == cnp.NPY_FLOAT16:
        return HALF
    if typenum == bfloat16_typenum:
        return BFLOAT16
    return -1


cdef bint laid_out_alike(PyArrayObject* a, PyArrayObject* b) noexcept:
    """Same shape and the same contiguous order: one flat range each."""
    return same_shape(a, b) and (
        (is_c_contiguous(a) and is_c_contiguous(b))
        or (is_f_contiguous(a) and is_f_contiguous(b)))


cdef bint apart_or_same(PyArrayObject* a, PyArrayObject* b) noexcept:
    """Two flat ranges that are disjoint, or the very same (in place)."""
    cdef char* pa = <char*>array_data(a)
    cdef char* pb = <char*>array_data(b)
    return pa == pb or pa + array_nbytes(a) <= pb or pb + array_nbytes(b) <= pa


cdef run_fast(Kind kind, Op op, int nop, PyArrayObject** arrays, double slope):
    cdef char* data[3]
    cdef npy_intp byte_strides[3]
    cdef int k
    for k in range(nop):
        data[k] = <char*>array_data(arrays[k])
        byte_strides[k] = (<cnp.ndarray>arrays[k]).itemsize
    with nogil:
        run_flat(kind, op, nop, data, byte_strides, array_size(arrays[0]), slope)


def forward_fast(cnp.ndarray x not None, double slope, out):
    """``leaky_relu(x, slope, out=out)`` for a plain ``x``, and ``out``
    None or a plain ndarray of x's dtype and layout that is ``x`` itself or
    apart from it; else None."""
    cdef PyArrayObject* arrays[2]
    arrays[0] = <PyArrayObject*>x
    cdef int kind = plain_kind(arrays[0], slope)
    if kind < 0:
        return None
    if out is None:
        out = new_array_like(arrays[0], cnp.NPY_KEEPORDER, NULL, 0)
    elif type(out) is not cnp.ndarray:
        return None
    arrays[1] = <PyArrayObject*>out
    if not (array_typenum(arrays[1]) == array_typenum(arrays[0])
            and is_writeable(arrays[1]) and is_aligned(arrays[1])
            and is_native_order(arrays[1]) and laid_out_alike(arrays[0], arrays[1])
            and apart_or_same(arrays[0], arrays[1])):
        return None
    run_fast(<Kind>kind, FORWARD, 2, arrays, slope)
    return out


def forward_mask_fast(cnp.ndarray x not None, double slope):
    """``leaky_relu_with_mask(x, slope)`` for a plain ``x``; else None."""
    cdef PyArrayObject* arrays[3]
    arrays[0] = <PyArrayObject*>x
    cdef int kind = plain_kind(arrays[0], slope)
    if kind < 0:
        return None
    y = new_array_like(arrays[0], cnp.NPY_KEEPORDER, NULL, 0)
    cdef cnp.dtype bool_dtype = cnp.PyArray_DescrFromType(cnp.NPY_BOOL)
    Py_INCREF(bool_dtype)  # PyArray_NewLikeArray steals a reference
    mask = new_array_like(arrays[0], cnp.NPY_KEEPORDER, <cnp.PyArray_Descr*>bool_dtype, 0)
    arrays[1], arrays[2] = <PyArrayObject*>y, <PyArrayObject*>mask
    run_fast(<Kind>kind, FORWARD_MASK, 3, arrays, slope)
    return y, mask


def backward_fast(cnp.ndarray grad not None, mask, double slope):
    """``leaky_relu_backward(grad, mask, slope)`` for a plain ``grad`` and
    a bool ndarray ``mask`` laid out alike; else None."""
    cdef PyArrayObject* arrays[3]
    arrays[0] = <PyArrayObject*>grad
    cdef int kind = plain_kind(arrays[0], slope)
    if kind < 0 or type(mask) is not cnp.ndarray:
        return None
    arrays[1] = <PyArrayObject*>mask
    if array_typenum(arrays[1]) != cnp.NPY_BOOL or not laid_out_alike(arrays[0], arrays[1]):
        return None
    grad_in = new_array_like(arrays[0], cnp.NPY_KEEPORDER, NULL, 0)
    arrays[2] = <PyArrayObject*>grad_in
    run_fast(<Kind>kind, BACKWARD, 3, arrays, slope)
    return grad_in


cdef npy_intp packed_size(npy_intp n) noexcept nogil:
    return (n + 7) // 8


cdef bint plain_bits(object bits, npy_intp nbytes) noexcept:
    """A 1-D contiguous uint8 ndarray of ``nbytes`` bytes (writeable or not)."""
    if type(bits) is not cnp.ndarray:
        return False
    cdef PyArrayObject* b = <PyArrayObject*>bits
    return (array_typenum(b) == cnp.NPY_UINT8 and array_ndim(b) == 1
            and array_size(b) == nbytes and is_c_contiguous(b))


cdef bint apart(PyArrayObject* a, PyArrayObject* b) noexcept:
    cdef char* pa = <char*>array_data(a)
    cdef char* pb = <char*>array_data(b)
    return pa + array_nbytes(a) <= pb or pb + array_nbytes(b) <= pa


cdef bint plain_output_like(object out, PyArrayObject* like) noexcept:
    """``out`` is a plain writeable ndarray of ``like``'s dtype and layout."""
    if type(out) is not cnp.ndarray:
        return False
    cdef PyArrayObject* o = <PyArrayObject*>out
    return (array_typenum(o) == array_typenum(like) and is_writeable(o) and is_aligned(o)
            and is_native_order(o) and laid_out_alike(like, o))


def forward_bits_fast(cnp.ndarray x not None, double slope, y_out, bits_out):
    """``leaky_relu_with_mask(x, slope, packed=True, out=(y_out, bits_out))``
    for a plain C-contiguous ``x``; ``y_out`` None or a plain array laid out
    like ``x`` (``x`` itself, or apart from it), ``bits_out`` None or a
    contiguous uint8 array of ``ceil(x.size / 8)`` bytes apart from both.
    Else None."""
    cdef PyArrayObject* arrays[3]
    arrays[0] = <PyArrayObject*>x
    cdef int kind = plain_kind(arrays[0], slope)
    if kind < 0 or not is_c_contiguous(arrays[0]):
        return None
    cdef npy_intp nbytes = packed_size(array_size(arrays[0]))
    if y_out is None:
        y_out = new_array_like(arrays[0], cnp.NPY_KEEPORDER, NULL, 0)
    elif not (plain_output_like(y_out, arrays[0])
              and apart_or_same(arrays[0], <PyArrayObject*>y_out)):
        return None
    if bits_out is None:
        bits_out = cnp.PyArray_EMPTY(1, &nbytes, cnp.NPY_UINT8, 0)
    elif not (plain_bits(bits_out, nbytes) and is_writeable(<PyArrayObject*>bits_out)
              and apart(<PyArrayObject*>bits_out, arrays[0])
              and apart(<PyArrayObject*>bits_out, <PyArrayObject*>y_out)):
        return None
    arrays[1], arrays[2] = <PyArrayObject*>y_out, <PyArrayObject*>bits_out
    run_fast(<Kind>kind, FORWARD_BITS, 3, arrays, slope)
    return y_out, bits_out


def backward_bits_fast(cnp.ndarray grad not None, bits, double slope, out):
    """``leaky_relu_backward(grad, bits, slope, out=out)`` for a plain
    C-contiguous ``grad``, contiguous uint8 ``bits`` of ``ceil(grad.size / 8)``
    bytes, and ``out`` None or a plain array laid out like ``grad`` (``grad``
    itself, or apart from it) and apart from ``bits``.  Else None."""
    cdef PyArrayObject* arrays[3]
    arrays[0] = <PyArrayObject*>grad
    cdef int kind = plain_kind(arrays[0], slope)
    if kind < 0 or not is_c_contiguous(arrays[0]) \
            or not plain_bits(bits, packed_size(array_size(arrays[0]))):
        return None
    if out is None:
        out = new_array_like(arrays[0], cnp.NPY_KEEPORDER, NULL, 0)
    elif not (plain_output_like(out, arrays[0])
              and apart_or_same(arrays[0], <PyArrayObject*>out)
              and apart(<PyArrayObject*>out, <PyArrayObject*>bits)):
        return None
    arrays[1], arrays[2] = <PyArrayObject*>bits, <PyArrayObject*>out
    run_fast(<Kind>kind, BACKWARD_BITS, 3, arrays, slope)
    return out


# --------------------------------------------------------------- bias_act --

cdef int flat_kind(cnp.ndarray a) except -2:
    """The value kind of a C-contiguous, aligned, native array (else -1)."""
    cdef PyArrayObject* p = <PyArrayObject*>a
    cdef int typenum = array_typenum(p)
    if not (is_c_contiguous(p) and is_aligned(p) and is_native_order(p)):
        return -1
    if typenum == cnp.NPY_FLOAT64:
        return DOUBLE
    if typenum == cnp.NPY_FLOAT32:
        return SINGLE
    if typenum == cnp.NPY_FLOAT16:
        return HALF
    if typenum == bfloat16_typenum:
        return BFLOAT16
    return -1


cdef leaky_bias_act bias_act_params(int act, double alpha, double gain, double clamp,
                                    bias, npy_intp inner):
    cdef leaky_bias_act p
    p.act, p.alpha, p.gain, p.clamp = act, alpha, gain, clamp
    p.bias, p.channels, p.inner = NULL, 0, inner
    if bias is not None:
        p.bias = array_data(<PyArrayObject*>bias)
        p.channels = (<cnp.ndarray>bias).size
    return p


def bias_act_forward(cnp.ndarray x not None, cnp.ndarray y not None, bias, bits, int act,
                     double alpha, double gain, double clamp, npy_intp inner):
    """StyleGAN's bias + activation + gain + clamp of ``x`` into ``y`` (one
    pass, ``leaky_bias_act.h``), with its bits into ``bits`` unless None.

    The caller checks: ``x``, ``y`` and ``bias`` C-contiguous arrays of one
    value dtype (``y`` is ``x`` or apart from it), ``bias`` None or of
    ``x.shape[dim]`` elements each covering ``inner`` consecutive elements,
    ``bits`` None or uint8 of ``2 * ceil(x.size / 8)`` bytes (one plane
    without a clamp), and the parameters."""
    cdef int kind = flat_kind(x)
    cdef leaky_bias_act p = bias_act_params(act, alpha, gain, clamp, bias, inner)
    cdef npy_uint8* bit_data = NULL
    if kind < 0 or flat_kind(y) != kind or (bias is not None and flat_kind(bias) != kind):
        raise TypeError("bias_act_forward takes C-contiguous arrays of one float dtype")
    if bits is not None:
        bit_data = <npy_uint8*>array_data(<PyArrayObject*>bits)
    cdef const void* source = array_data(<PyArrayObject*>x)
    cdef void* target = array_data(<PyArrayObject*>y)
    cdef int64_t n = x.size
    with nogil:
        bias_act_from_table(kind, 1, source, target, bit_data, n, &p)
    return y


def bias_act_backward(cnp.ndarray grad not None, cnp.ndarray bits not None,
                      cnp.ndarray out not None, int act, double alpha, double gain,
                      double clamp):
    """bias_act's input gradient from the incoming one and the bits
    :func:`bias_act_forward` wrote (the same checks by the caller)."""
    cdef int kind = flat_kind(grad)
    cdef leaky_bias_act p = bias_act_params(act, alpha, gain, clamp, None, 1)
    if kind < 0 or flat_kind(out) != kind:
        raise TypeError("bias_act_backward takes C-contiguous arrays of one float dtype")
    cdef const void* source = array_data(<PyArrayObject*>grad)
    cdef void* target = array_data(<PyArrayObject*>out)
    cdef npy_uint8* bit_data = <npy_uint8*>array_data(<PyArrayObject*>bits)
    cdef int64_t n = grad.size
    with nogil:
        bias_act_from_table(kind, 0, source, target, bit_data, n, &p)
    return out


# ------------------------------------------------------ the kernel table --

cdef npy_intp value_size(Kind kind) noexcept nogil:
    if kind == DOUBLE:
        return 8
    if kind == SINGLE:
        return 4
    return 2  # HALF, BFLOAT16


cdef void run_from_table(int kind, int op, char** data, int64_t n,
                         double slope) noexcept nogil:
    """The table's ``run``: one flat range, threads as ``run_flat`` splits it."""
    cdef npy_intp size = value_size(<Kind>kind)
    cdef npy_intp byte_strides[3]
    cdef int nop = 2 if op == FORWARD else 3
    byte_strides[0] = size
    byte_strides[1] = 1 if op == BACKWARD or op == BACKWARD_BITS else size
    byte_strides[2] = 1 if op == FORWARD_MASK or op == FORWARD_BITS else size
    run_flat(<Kind>kind, <Op>op, nop, data, byte_strides, <npy_intp>n, slope)


cdef void bias_act_range(int kind, int forward, const char* input, char* output,
                         npy_uint8* bits, int64_t total, int64_t start, int64_t n,
                         const leaky_bias_act* p) noexcept nogil:
    """Elements ``[start, start + n)`` of bias_act's forward (``input`` x,
    ``output`` y) or backward (``input`` grad, ``output`` grad_in)."""
    cdef npy_intp offset = start * value_size(<Kind>kind)
    input += offset
    output += offset
    if kind == SINGLE:
        if forward:
            leaky_float_bias_act_forward(<const float*>input, <float*>output, bits, total,
                                         start, n, p)
        else:
            leaky_float_bias_act_backward(<const float*>input, bits, <float*>output, total,
                                          start, n, p)
    elif kind == DOUBLE:
        if forward:
            leaky_double_bias_act_forward(<const double*>input, <double*>output, bits, total,
                                          start, n, p)
        else:
            leaky_double_bias_act_backward(<const double*>input, bits, <double*>output, total,
                                           start, n, p)
    elif kind == HALF:
        if forward:
            leaky_half_bias_act_forward(<const npy_uint16*>input, <npy_uint16*>output, bits,
                                        total, start, n, p)
        else:
            leaky_half_bias_act_backward(<const npy_uint16*>input, bits, <npy_uint16*>output,
                                         total, start, n, p)
    else:
        if forward:
            leaky_bfloat16_bias_act_forward(<const npy_uint16*>input, <npy_uint16*>output,
                                            bits, total, start, n, p)
        else:
            leaky_bfloat16_bias_act_backward(<const npy_uint16*>input, bits,
                                             <npy_uint16*>output, total, start, n, p)


cdef void bias_act_from_table(int kind, int forward, const void* input, void* output,
                              npy_uint8* bits, int64_t n,
                              const leaky_bias_act* p) noexcept nogil:
    """The table's ``bias_act``: one flat range, split across threads as
    ``run_flat`` splits one (chunks on 64-element boundaries, so each
    thread's bits start on a whole byte).  ``output`` may be ``input``.
    Plain leaky ReLU (lrelu, gain 1, no clamp, no bias) is the leaky_relu
    kernels' own operation, run by them."""
    cdef int nthreads = threads_for(n), t
    cdef npy_intp chunk, start
    cdef char* data[3]
    if p.act == LEAKY_ACT_LRELU and p.gain == 1 and p.clamp < 0 and p.bias == NULL:
        data[0] = <char*>input
        if not forward:
            data[1], data[2] = <char*>bits, <char*>output
            run_from_table(kind, BACKWARD_BITS, data, n, p.alpha)
        else:
            data[1], data[2] = <char*>output, <char*>bits
            run_from_table(kind, FORWARD if bits == NULL else FORWARD_BITS, data, n, p.alpha)
        return
    if nthreads <= 1:
        bias_act_range(kind, forward, <const char*>input, <char*>output, bits, n, 0, n, p)
        return
    chunk = (n + nthreads - 1) // nthreads
    chunk = (chunk + CHUNK_ALIGN - 1) // CHUNK_ALIGN * CHUNK_ALIGN
    for t in prange(nthreads, num_threads=nthreads, schedule='static'):
        start = t * chunk
        if start < n:
            bias_act_range(kind, forward, <const char*>input, <char*>output, bits, n, start,
                           min(start + chunk, n) - start, p)


cdef leaky_kernel_table kernel_table
kernel_table.version = LEAKY_KERNEL_TABLE_VERSION
kernel_table.run = run_from_table
kernel_table.float32_slope_limit = FLOAT32_MAX
kernel_table.bias_act = bias_act_from_table


def kernel_table_capsule():
    """The kernels as a C table (``src/leaky_kernel_table.h``) in a
    PyCapsule, for compiled callers (leaky's torch operators)."""
    return PyCapsule_New(&kernel_table, LEAKY_KERNEL_TABLE_NAME, NULL)


# ------------------------------------------------------------- build info --

def openmp_enabled():
    """Whether this module was compiled with OpenMP."""
    return bool(leaky_openmp_enabled())


def max_threads():
    """Threads a large call may use (``OMP_NUM_THREADS``, threadpoolctl)."""
    return leaky_max_threads()


def get_parallel_threshold():
    """Smallest element count that is split across threads."""
    return leaky_load_relaxed(&parallel_min_elements)


def set_parallel_threshold(npy_intp n):
    """Set the smallest element count that is split across threads.

    For tests and benchmarks; returns the previous value.  Setters take a
    lock, so each returns the value it replaced; calls running meanwhile
    use the old or the new threshold (the results are the same bits).
    """
    if n < 1:
        raise ValueError(f"threshold must be >= 1, got {n}")
    with _THRESHOLD_LOCK:
        previous = leaky_load_relaxed(&parallel_min_elements)
        leaky_store_relaxed(&parallel_min_elements, n)
    return previous


_THRESHOLD_LOCK = _threading.Lock()


def packing():
    """How this build packs mask bits: ``"avx512"``, ``"avx2"``, ``"sse2"``,
    ``"neon"`` or ``"portable"`` (``src/leaky_pack.h``)."""
    return {512: "avx512", 256: "avx2", 128: "sse2", 1: "neon"}.get(LEAKY_ISA, "portable")


def half_conversion():
    """How this build converts float16: ``"hardware"`` or ``"software"``."""
    return LEAKY_HALF_CONVERSION.decode()
