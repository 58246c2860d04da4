"""The CUDA element code of the GPU kernels, written once.

Each entry is one CuPy ``ElementwiseKernel`` (``_cupy_backend``) and is also
compiled by ``nvcc`` in ``tests/test_gpu_source.py``, so a syntax or type
error fails CI on a machine without a GPU.

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
