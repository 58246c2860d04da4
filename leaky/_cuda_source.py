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

/* bias_act (src/leaky_bias_act.h's arithmetic, the same steps in C): act 0
   linear, 1 relu, 2 lrelu; bias[(i / inner) % channels] unless bias is null;
   a clamp below 0 is none.  The forward's bits, unless bits is null: plane 0
   (the activation passes the gradient), then plane 1 (inside the clamp),
   each ceil(n / 8) bytes, by warp ballots as above. */
template <typename T, typename C>
__global__ void bias_act_forward_bits(const T* x, const T* bias, T* y, unsigned char* bits,
                                      long long n, long long channels, long long inner,
                                      int act, C alpha, C gain, C clamp) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    bool pos = false, inside = false;
    if (i < n) {
        C v = (C)x[i];
        if (bias != 0) v = v + (C)bias[(i / inner) % channels];
        pos = true;
        if (act == 2) {
            C scaled = v * alpha;
            pos = v > (C)0;
            v = pos ? v : scaled;
        } else if (act == 1) {  /* torch.relu: -0.0 and NaN kept */
            v = (v >= (C)0 || v != v) ? v : (C)0;
            pos = !(v <= (C)0);
        }
        if (gain != (C)1) v = v * gain;
        if (clamp >= (C)0) {
            inside = v >= -clamp && v <= clamp;
            v = v < -clamp ? -clamp : (v > clamp ? clamp : v);
        }
        y[i] = (T)v;
    }
    if (bits == 0) return;  /* the same for every lane */
    long long plane = (n + 7) / 8;
    int lane = threadIdx.x & 31;
    long long byte = (i - lane) / 8 + lane;
    unsigned word = __ballot_sync(0xffffffffu, pos);
    if (lane < 4 && byte < plane) bits[byte] = (unsigned char)(word >> (8 * lane));
    if (clamp >= (C)0) {
        word = __ballot_sync(0xffffffffu, inside);
        if (lane < 4 && byte < plane) bits[plane + byte] = (unsigned char)(word >> (8 * lane));
    }
}

/* The chain's backward on the bits: the clamp's mask, * gain, the activation's. */
template <typename T, typename C>
__global__ void bias_act_backward_bits(const T* grad, const unsigned char* bits, T* grad_in,
                                       long long n, int act, C alpha, C gain, C clamp) {
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= n) return;
    long long plane = (n + 7) / 8;
    bool pos = (bits[i >> 3] >> (i & 7)) & 1;
    bool inside = clamp < (C)0 || ((bits[plane + (i >> 3)] >> (i & 7)) & 1);
    C v = inside ? (C)grad[i] : (C)0;
    if (gain != (C)1) v = v * gain;
    grad_in[i] = (T)(pos ? v : (act == 2 ? v * alpha : (C)0));
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

PACKED_KERNELS = ("leaky_relu_forward_bits", "leaky_relu_backward_bits",
                  "bias_act_forward_bits", "bias_act_backward_bits")
