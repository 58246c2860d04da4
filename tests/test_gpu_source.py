"""The GPU kernels' CUDA code compiles with nvcc, no GPU needed.

Each CuPy ElementwiseKernel body from ``leaky._cuda_source`` is wrapped in a
``__global__`` function template and instantiated for every dtype the GPU
path serves (float16 as ``__half`` computed in float, float32, float64), then
compiled for a current architecture.  A syntax or type error in the kernel
code fails here, on any machine with nvcc.
"""

import re
import shutil
import subprocess

import pytest

from leaky._cuda_source import KERNELS

NVCC = shutil.which("nvcc") or (shutil.which("/usr/local/cuda/bin/nvcc"))
pytestmark = pytest.mark.skipif(NVCC is None, reason="nvcc is not installed")

# (T, C): array type and compute type, as the CuPy backend instantiates them.
INSTANTIATIONS = [("__half", "float"), ("float", "float"), ("double", "double")]


def _params(spec, kind):
    """'T x, C slope' -> [('T', 'x'), ('C', 'slope')]"""
    return [tuple(p.split()) for p in spec[kind].split(",")]


def _kernel_source(name, spec):
    ins, outs = _params(spec, "in_params"), _params(spec, "out_params")
    args = []
    for ctype, var in ins:
        args.append(f"const {ctype}* {var}_" if ctype != "C" else f"C {var}")
    args += [f"{ctype}* {var}_" for ctype, var in outs]
    loads = "".join(f"    const {ctype} {var} = {var}_[i];\n" for ctype, var in ins if ctype != "C")
    decls = "".join(f"    {ctype} {var};\n" for ctype, var in outs)
    stores = "".join(f"    {var}_[i] = {var};\n" for _, var in outs)
    return (f"template <typename T, typename C>\n"
            f"__global__ void {name}({', '.join(args)}, long long n) {{\n"
            f"    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;\n"
            f"    if (i >= n) return;\n{loads}{decls}"
            f"    {spec['operation']}\n{stores}}}\n")


def _instantiations(name, spec):
    lines = []
    for t, c in INSTANTIATIONS:
        ins, outs = _params(spec, "in_params"), _params(spec, "out_params")
        sub = {"T": t, "C": c, "bool": "bool"}
        types = [f"const {sub[ct]}*" if ct != "C" else c for ct, _ in ins]
        types += [f"{sub[ct]}*" for ct, _ in outs]
        lines.append(f"template __global__ void {name}<{t}, {c}>({', '.join(types)}, long long);")
    return "\n".join(lines) + "\n"


def test_every_kernel_compiles_with_nvcc(tmp_path):
    source = "#include <cuda_fp16.h>\n\n" + "".join(
        _kernel_source(name, spec) + _instantiations(name, spec)
        for name, spec in KERNELS.items())
    cu = tmp_path / "leaky_kernels.cu"
    cu.write_text(source)
    done = subprocess.run([NVCC, "-arch=sm_90", "-c", str(cu), "-o", str(tmp_path / "k.o"),
                           "-Werror", "all-warnings"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, source + "\n" + done.stderr
    symbols = subprocess.run(["nm", "-C", str(tmp_path / "k.o")], capture_output=True,
                             text=True).stdout
    for name in KERNELS:
        assert len(re.findall(rf"\b{name}<", symbols)) >= len(INSTANTIATIONS), name


def test_a_broken_kernel_does_fail_to_compile(tmp_path):
    """The check above can fail: a type error in the element code is caught."""
    spec = dict(KERNELS["leaky_relu_forward"], operation="y = x > 0 ? x : undefined_name;")
    cu = tmp_path / "broken.cu"
    cu.write_text("#include <cuda_fp16.h>\n" + _kernel_source("broken", spec)
                  + _instantiations("broken", spec))
    done = subprocess.run([NVCC, "-arch=sm_90", "-c", str(cu), "-o", str(tmp_path / "b.o")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0


def test_packed_kernels_compile_with_nvcc(tmp_path):
    """The packed-mask raw kernels (warp ballot), for every (T, C)."""
    from leaky._cuda_source import PACKED_KERNELS, PACKED_SOURCE
    lines = []
    for t, c in INSTANTIATIONS:
        lines.append(f"template __global__ void leaky_relu_forward_bits<{t}, {c}>"
                     f"(const {t}*, {t}*, unsigned char*, long long, {c});")
        lines.append(f"template __global__ void leaky_relu_backward_bits<{t}, {c}>"
                     f"(const {t}*, const unsigned char*, {t}*, long long, {c});")
        lines.append(f"template __global__ void bias_act_forward_bits<{t}, {c}>"
                     f"(const {t}*, const {t}*, {t}*, unsigned char*, long long, long long,"
                     f" long long, int, {c}, {c}, {c});")
        lines.append(f"template __global__ void bias_act_backward_bits<{t}, {c}>"
                     f"(const {t}*, const unsigned char*, {t}*, long long, int, {c}, {c}, {c});")
    cu = tmp_path / "leaky_packed.cu"
    cu.write_text(PACKED_SOURCE + "\n".join(lines) + "\n")
    done = subprocess.run([NVCC, "-arch=sm_90", "-c", str(cu), "-o", str(tmp_path / "p.o"),
                           "-Werror", "all-warnings"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    symbols = subprocess.run(["nm", "-C", str(tmp_path / "p.o")], capture_output=True,
                             text=True).stdout
    for name in PACKED_KERNELS:
        assert len(re.findall(rf"\b{name}<", symbols)) >= len(INSTANTIATIONS), name


def test_packed_kernels_take_three_arrays_then_n_then_the_slope():
    """The CuPy backend's ``_launch_packed`` passes ``(*arrays, n, slope)``: the
    order the kernels must declare (a mismatch only shows on a GPU)."""
    from leaky._cuda_source import PACKED_KERNELS, PACKED_SOURCE
    for name in (k for k in PACKED_KERNELS if k.startswith("leaky_relu")):
        params = re.search(rf"void {name}\(([^)]*)\)", PACKED_SOURCE).group(1)
        kinds = [p.split()[-1] for p in params.split(",")]
        assert len(kinds) == 5 and kinds[3:] == ["n", "slope"], (name, kinds)
        assert all("*" in p for p in params.split(",")[:3]), params


def test_bias_act_kernels_take_the_cupy_backends_arguments_in_order():
    """``compute_bias_act`` passes ``(x, b, y, bits, n, channels, inner, act,
    alpha, gain, clamp)`` and the backward ``(grad, bits, grad_in, n, act,
    alpha, gain, clamp)``: the order the kernels must declare."""
    from leaky._cuda_source import PACKED_SOURCE
    want = {"bias_act_forward_bits": ["x", "bias", "y", "bits", "n", "channels", "inner", "act",
                                      "alpha", "gain", "clamp"],
            "bias_act_backward_bits": ["grad", "bits", "grad_in", "n", "act", "alpha", "gain",
                                       "clamp"]}
    for name, names in want.items():
        params = re.search(rf"void {name}\(([^)]*)\)", PACKED_SOURCE).group(1)
        assert [p.split()[-1].lstrip("*") for p in params.split(",")] == names, name
