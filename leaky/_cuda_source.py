"""The CUDA element code of the GPU kernels, written once.

Each entry is one CuPy ``ElementwiseKernel`` (``_backends/cupy.py``) and is also
compiled by ``nvcc`` in ``tests/test_gpu_source.py``, so a syntax or type
error fails CI on a machine without a GPU.  ``tests/test_cuda_host.py`` runs
the same code as host code (the packed kernels in an emulated launch, warp
ballot included) against the CPU kernels.

Type placeholders: ``T`` is the array dtype; ``C`` is the compute dtype
(float32 for float16 and float32, float64 for float64), which is also the
slope's dtype.  Semantics are PyTorch's CUDA kernels': select, computed in
``C`` and rounded once to ``T``.
"""

KERNELS = {
    "leaky_relu_forward": {
        "in_params": "T x, C slope",
        "out_params": "T y",
        "operation": "C xc = (C)x; y = xc > (C)0 ? x : (T)(xc * slope);",
    },
    "leaky_relu_forward_mask": {
        "in_params": "T x, C slope",
        "out_params": "T y, bool mask",
        "operation": ("C xc = (C)x; bool keep = xc > (C)0; mask = keep; "
                      "y = keep ? x : (T)(xc * slope);"),
    },
    "leaky_relu_backward": {
        "in_params": "T grad, bool mask, C slope",
        "out_params": "T grad_in",
        "operation": "grad_in = mask ? grad : (T)((C)grad * slope);",
    },
}

# Packed masks (one bit an element, little bit order, C order) need whole
# warps, so they are raw kernels: templates over (T, C) as above, one thread
# an element of a C-contiguous array, blocks a multiple of 32 threads.  The
# forward packs with a warp ballot: 32 consecutive elements' ``x > 0`` in one
# 32-bit word, which four lanes store as four bytes.
PACKED_BLOCK = 256


def packed_grid(n):
    """Blocks of ``PACKED_BLOCK`` threads a packed kernel launches for ``n``
    elements: enough for one thread an element, and at least one."""
    return max(1, (n + PACKED_BLOCK - 1) // PACKED_BLOCK)


PACKED_SOURCE = r"""
#include <cuda_fp16.h>

template <typename T, typename C>
__global__ void leaky_relu_forward_bits(const T* x, T* y, unsigned char* bits,
                                        long long n, C slope) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    bool keep = false;
    if (i < n) {
        C xc = (C)x[i];
        keep = xc > (C)0;
        y[i] = keep ? x[i] : (T)(xc * slope);
    }
    unsigned ballot = __ballot_sync(0xffffffffu, keep);  /* every lane takes part */
    int lane = threadIdx.x & 31;
    long long byte = (i - lane) / 8 + lane;
    if (lane < 4 && byte < (n + 7) / 8)
        bits[byte] = (unsigned char)(ballot >> (8 * lane));
}

template <typename T, typename C>
__global__ void leaky_relu_backward_bits(const T* grad, const unsigned char* bits,
                                         T* grad_in, long long n, C slope) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= n) return;
    bool keep = (bits[i >> 3] >> (i & 7)) & 1;
    grad_in[i] = keep ? grad[i] : (T)((C)grad[i] * slope);
}
"""

PACKED_KERNELS = ("leaky_relu_forward_bits", "leaky_relu_backward_bits")
