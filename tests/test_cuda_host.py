"""The GPU kernels' element code, run on the host and compared with the CPU kernels.

``nvcc`` compiles CUDA code for the host as well as for the device, and
``__half`` arithmetic works there (``cuda_fp16.h``).  So the element code of
``leaky._cuda_source`` runs here, without a GPU:

* each ``ElementwiseKernel`` body inside a ``__host__ __device__`` function
  template, called by a host loop, one element at a time, as CuPy would;
* each packed raw kernel as written, in an emulated launch: every warp's 32
  lanes run one after another, and ``__ballot_sync`` is a stand-in that first
  collects the 32 lanes' votes (the lane stops there), then reruns every lane
  with the ballot's word.  ``threadIdx``, ``blockIdx`` and ``blockDim`` are
  the emulator's; the grid is the CuPy backend's (``packed_grid``).

Results are compared with ``leaky.leaky_relu`` and friends bit for bit,
except NaN: host code gives a canonical NaN, so NaNs are compared as NaN.
This checks the arithmetic, the types and the packed kernels' index
arithmetic; it does not replace a run on a GPU (``tests/test_gpu.py``).
"""

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

import leaky
from leaky._cuda_source import KERNELS, PACKED_BLOCK, PACKED_SOURCE, packed_grid

NVCC = shutil.which("nvcc") or shutil.which("/usr/local/cuda/bin/nvcc")
pytestmark = pytest.mark.skipif(NVCC is None, reason="nvcc (the CUDA toolkit) is not installed")

# (NumPy dtype, T, C), as the CuPy backend instantiates the kernels.
TYPES = {"float16": ("__half", "float"), "float32": ("float", "float"),
         "float64": ("double", "double")}
DTYPES = tuple(TYPES)
SLOPES = (0.01, 0.0, -0.0, -0.5, 1.0 / 3.0, 1.0, 1.5, 3.0, 1e30)
# Guard bytes after every output buffer: the kernels must not write there.
GUARD = 64
# Emulator error flags (see _EMULATOR).
ERRORS = {1: "__ballot_sync with a mask other than 0xffffffff",
          2: "some lanes of a warp reached a __ballot_sync and others did not",
          4: "more than 8 __ballot_sync calls in one lane"}

_PRELUDE = r"""
#include <cuda_fp16.h>
#include <cstddef>
"""

_EMULATOR = r"""
/* The launch emulator: host stand-ins for the built-in variables, a
   __global__ that is a plain host function, and a warp ballot. */
namespace emu {
struct Index { unsigned int x, y, z; };
static Index thread_idx, block_idx, block_dim;
struct Stop {};                 /* thrown at a ballot whose word is not known yet */
static int lane, calls, known_count, errors;
static unsigned int known[8];
static bool voted[32], vote[32];

static unsigned int ballot(unsigned int mask, bool predicate) {
    if (mask != 0xffffffffu) errors |= 1;
    int k = calls++;
    if (k < known_count) return known[k];
    if (k >= 8) { errors |= 4; return 0; }
    voted[lane] = true;
    vote[lane] = predicate;
    throw Stop();
}

/* Run kernel() as one launch of grid x block threads, warp by warp. */
template <typename F>
static int launch(long long grid, int block, F kernel) {
    errors = 0;
    block_dim = Index{(unsigned)block, 1, 1};
    for (long long b = 0; b < grid; ++b) {
        block_idx = Index{(unsigned)b, 0, 0};
        for (int warp = 0; warp < block / 32; ++warp) {
            known_count = 0;
            for (;;) {      /* until a run of all 32 lanes meets no new ballot */
                int reached = 0;
                for (lane = 0; lane < 32; ++lane) {
                    thread_idx = Index{(unsigned)(warp * 32 + lane), 0, 0};
                    calls = 0;
                    voted[lane] = false;
                    try { kernel(); } catch (Stop&) {}
                    reached += voted[lane];
                }
                if (reached == 0) break;
                if (reached != 32) { errors |= 2; break; }
                unsigned int word = 0;
                for (int l = 0; l < 32; ++l) word |= (unsigned int)vote[l] << l;
                known[known_count++] = word;
            }
        }
    }
    return errors;
}
}  /* namespace emu */

#undef __global__
#define __global__
#define threadIdx emu::thread_idx
#define blockIdx emu::block_idx
#define blockDim emu::block_dim
#define __ballot_sync emu::ballot
"""


def _params(spec, kind):
    """'T x, C slope' -> [('T', 'x'), ('C', 'slope')]"""
    return [tuple(p.split()) for p in spec[kind].split(",")]


def _element_source(name, spec):
    """The body in a host+device function, and a host loop over n elements
    whose arrays come in ``void* const* p`` (inputs, then outputs)."""
    ins, outs = _params(spec, "in_params"), _params(spec, "out_params")
    args = [f"const {t} {v}" for t, v in ins] + [f"{t}& {v}" for t, v in outs]
    arrays = [(t, v, "const ") for t, v in ins if t != "C"] + [(t, v, "") for t, v in outs]
    pointers = "".join(f"    {const}{t}* {v}_ = ({const}{t}*)p[{k}];\n"
                       for k, (t, v, const) in enumerate(arrays))
    call = ", ".join("(C)slope" if t == "C" else f"{v}_[i]" for t, v in ins + outs)
    source = (f"template <typename T, typename C>\n"
              f"__host__ __device__ inline void {name}_element({', '.join(args)}) {{\n"
              f"    {spec['operation']}\n}}\n"
              f"template <typename T, typename C>\n"
              f"static void {name}_loop(void* const* p, long long n, double slope) {{\n"
              f"{pointers}"
              f"    for (long long i = 0; i < n; ++i) {name}_element<T, C>({call});\n}}\n")
    for dtype, (t, c) in TYPES.items():
        source += (f'extern "C" void {name}_{dtype}(void* const* p, long long n, double slope)'
                   f" {{ {name}_loop<{t}, {c}>(p, n, slope); }}\n")
    return source


def _packed_entry_points():
    source = ""
    for dtype, (t, c) in TYPES.items():
        source += (
            f'extern "C" int forward_bits_{dtype}(void* const* p, long long n, double slope,'
            f" long long grid, int block) {{\n"
            f"    return emu::launch(grid, block, [&] {{ leaky_relu_forward_bits<{t}, {c}>("
            f"(const {t}*)p[0], ({t}*)p[1], (unsigned char*)p[2], n, ({c})slope); }});\n}}\n"
            f'extern "C" int backward_bits_{dtype}(void* const* p, long long n, double slope,'
            f" long long grid, int block) {{\n"
            f"    return emu::launch(grid, block, [&] {{ leaky_relu_backward_bits<{t}, {c}>("
            f"(const {t}*)p[0], (const unsigned char*)p[1], ({t}*)p[2], n, ({c})slope); }});\n}}\n")
    return source


def _bias_act_entry_points():
    source = ""
    for dtype, (t, c) in TYPES.items():
        source += (
            f'extern "C" int bias_act_forward_{dtype}(void* const* p, long long n,'
            f" long long channels, long long inner, int act, double alpha, double gain,"
            f" double clamp, long long grid, int block) {{\n"
            f"    return emu::launch(grid, block, [&] {{ bias_act_forward_bits<{t}, {c}>("
            f"(const {t}*)p[0], (const {t}*)p[1], ({t}*)p[2], (unsigned char*)p[3], n,"
            f" channels, inner, act, ({c})alpha, ({c})gain, ({c})clamp); }});\n}}\n"
            f'extern "C" int bias_act_backward_{dtype}(void* const* p, long long n, int act,'
            f" double alpha, double gain, double clamp, long long grid, int block) {{\n"
            f"    return emu::launch(grid, block, [&] {{ bias_act_backward_bits<{t}, {c}>("
            f"(const {t}*)p[0], (const unsigned char*)p[1], ({t}*)p[2], n, act, ({c})alpha,"
            f" ({c})gain, ({c})clamp); }});\n}}\n")
    return source


def host_source(kernels=KERNELS, packed_source=PACKED_SOURCE):
    """The whole .cu file: element kernels, then the packed kernels as written."""
    return (_PRELUDE + "".join(_element_source(name, spec) for name, spec in kernels.items())
            + _EMULATOR + packed_source + _packed_entry_points() + _bias_act_entry_points())


def build(tmp_dir, kernels=KERNELS, packed_source=PACKED_SOURCE):
    """Compile the host library with nvcc and load it."""
    cu = tmp_dir / "leaky_host.cu"
    cu.write_text(host_source(kernels, packed_source))
    so = tmp_dir / "leaky_host.so"
    done = subprocess.run([NVCC, "-std=c++17", "-O1", "-shared", "-Xcompiler", "-fPIC",
                           "-o", str(so), str(cu)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, cu.read_text() + "\n" + done.stderr
    return ctypes.CDLL(str(so))


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return build(tmp_path_factory.mktemp("cuda_host"))


# ------------------------------------------------------------ running it --

def _pointers(*arrays):
    return (ctypes.c_void_p * len(arrays))(*(a.ctypes.data for a in arrays))


def _guarded(shape_or_n, dtype, fill):
    """An output array followed by GUARD bytes, all filled with byte ``fill``."""
    n = int(np.prod(shape_or_n))
    itemsize = np.dtype(dtype).itemsize
    raw = np.full(n * itemsize + GUARD, fill, dtype=np.uint8)
    return raw, raw[:n * itemsize].view(dtype)


def run_element(lib, name, dtype, slope, *inputs):
    """One ElementwiseKernel over 1-d inputs; its outputs, guards checked."""
    n = inputs[0].size
    outs = [(dtype,)] if name != "leaky_relu_forward_mask" else [(dtype,), (np.bool_,)]
    raws, arrays = zip(*(_guarded(n, t[0], 0xA5) for t in outs))
    getattr(lib, f"{name}_{dtype}")(_pointers(*inputs, *arrays), ctypes.c_longlong(n),
                                    ctypes.c_double(slope))
    for raw in raws:
        assert (raw[-GUARD:] == 0xA5).all(), f"{name} wrote past its output"
    return [a.copy() for a in arrays]


def run_packed(lib, kernel, dtype, slope, first, second, fill):
    """One emulated launch of a packed kernel, with the CuPy backend's grid.

    ``forward_bits(x, y, bits)``: ``first`` is x; ``backward_bits(grad, bits,
    grad_in)``: ``first`` is grad and ``second`` the bits.  Outputs start as
    byte ``fill`` and are returned with their guard bytes."""
    n = first.size
    y_raw, y = _guarded(n, dtype, fill)
    if kernel == "forward_bits":
        bits_raw, bits = _guarded((n + 7) // 8, np.uint8, fill)
        arrays = (first, y, bits)
    else:
        bits_raw, arrays = None, (first, second, y)
    errors = getattr(lib, f"{kernel}_{dtype}")(
        _pointers(*arrays), ctypes.c_longlong(n), ctypes.c_double(slope),
        ctypes.c_longlong(packed_grid(n)), ctypes.c_int(PACKED_BLOCK))
    assert errors == 0, [why for flag, why in ERRORS.items() if errors & flag]
    return y_raw, bits_raw


def differences(got, want):
    """Where ``got`` and ``want`` differ: bit for bit, NaN as NaN."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    if got.dtype.kind != "f":
        return np.flatnonzero(got != want)
    uint = np.dtype(f"u{got.dtype.itemsize}")
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    same = (nan_got & nan_want) | (~nan_got & ~nan_want & (got.view(uint) == want.view(uint)))
    return np.flatnonzero(~same)


def assert_same(got, want, what):
    bad = differences(got, want)
    if bad.size:
        first = bad[0]
        got_first, want_first = np.asarray(got).ravel()[first], np.asarray(want).ravel()[first]
        raise AssertionError(f"{what}: {bad.size} elements differ, first at {first}: "
                             f"{got_first!r} != {want_first!r}")


# ------------------------------------------------------------- the data --

def special_values(dtype):
    """NaNs (quiet, signalling, negative, with payloads), infinities, signed
    zeros, subnormals, the smallest normals, the extremes, then random bit
    patterns of every exponent."""
    dtype = np.dtype(dtype)
    if dtype == np.float16:  # every bit pattern
        return np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    uint = np.dtype(f"u{dtype.itemsize}")
    info = np.finfo(dtype)
    values = np.array([0.0, -0.0, np.inf, -np.inf, 1.0, -1.0, 0.5, -3.25, 2.0, -1e-3,
                       info.tiny, -info.tiny, info.smallest_subnormal, -info.smallest_subnormal,
                       info.max, -info.max, info.eps, -info.eps], dtype=dtype)
    exponent = np.array(((1 << (info.bits - 1 - info.nmant)) - 1) << info.nmant, dtype=uint)
    quiet, sign = 1 << (info.nmant - 1), np.array(1 << (info.bits - 1), dtype=uint)
    mantissa = (1 << info.nmant) - 1
    patterns = np.array([exponent | quiet, exponent | quiet | 5, exponent | 1,  # NaNs
                         exponent | mantissa, mantissa, mantissa >> 3, 1],     # subnormals
                        dtype=uint)
    rng = np.random.default_rng(25)
    random = rng.integers(0, np.iinfo(uint).max, size=4096, dtype=uint, endpoint=True)
    return np.concatenate([values, patterns.view(dtype), (patterns | sign).view(dtype),
                           random.view(dtype)])


def _slopes(dtype):
    return SLOPES + ((1e300,) if dtype == "float64" else ())


# ------------------------------------------------------------ the tests --

@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_kernels_match_the_cpu_kernels(lib, dtype):
    x = special_values(dtype)
    grad = np.roll(x, 7)  # every value meets both masks across the slopes
    mask = np.random.default_rng(3).random(x.size) < 0.5
    assert np.isnan(x).any() and np.isinf(x).any() and (x == 0).any()
    for slope in _slopes(dtype):
        (y,) = run_element(lib, "leaky_relu_forward", dtype, slope, x)
        assert_same(y, leaky.leaky_relu(x, slope), f"forward {dtype} slope {slope!r}")
        y, got_mask = run_element(lib, "leaky_relu_forward_mask", dtype, slope, x)
        want_y, want_mask = leaky.leaky_relu_with_mask(x, slope)
        assert_same(y, want_y, f"forward_mask {dtype} slope {slope!r}")
        assert_same(got_mask.view(np.uint8), want_mask.view(np.uint8), f"mask {dtype}")
        for m in (mask, x > 0, np.zeros_like(mask), np.ones_like(mask)):
            (grad_in,) = run_element(lib, "leaky_relu_backward", dtype, slope, grad, m)
            assert_same(grad_in, leaky.leaky_relu_backward(grad, m, slope),
                        f"backward {dtype} slope {slope!r}")


def _check_packed(lib, dtype, n, slope, rng):
    x = rng.choice(special_values(dtype), size=n)
    grad = rng.choice(special_values(dtype), size=n)
    want_y, want_bits = leaky.leaky_relu_with_mask(x, slope, packed=True)
    want_grad = leaky.leaky_relu_backward(grad, want_bits, slope)
    nbytes = (n + 7) // 8
    assert want_bits.size == nbytes
    for fill in (0x00, 0xFF):  # every byte is written: both fills give the same
        y_raw, bits_raw = run_packed(lib, "forward_bits", dtype, slope, x, None, fill)
        assert_same(y_raw[:y_raw.size - GUARD].view(dtype), want_y, f"forward_bits y n={n}")
        assert_same(bits_raw[:nbytes], want_bits, f"forward_bits bits n={n} {dtype}")
        assert (bits_raw[nbytes:] == fill).all(), f"forward_bits wrote past byte {nbytes}, n={n}"
        assert (y_raw[y_raw.size - GUARD:] == fill).all(), f"forward_bits wrote past y, n={n}"
        g_raw, _ = run_packed(lib, "backward_bits", dtype, slope, grad, want_bits, fill)
        assert_same(g_raw[:g_raw.size - GUARD].view(dtype), want_grad, f"backward_bits n={n}")
        assert (g_raw[g_raw.size - GUARD:] == fill).all(), f"backward_bits wrote past, n={n}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_packed_kernels_in_an_emulated_launch_for_every_length_to_300(lib, dtype):
    rng = np.random.default_rng(300)
    for n in range(301):
        _check_packed(lib, dtype, n, SLOPES[n % len(SLOPES)], rng)


@pytest.mark.parametrize("n", [PACKED_BLOCK * 40, PACKED_BLOCK * 40 + 13, 65536 + 37, 100_003])
def test_packed_kernels_in_an_emulated_launch_large(lib, n):
    rng = np.random.default_rng(n)
    for dtype in DTYPES:
        _check_packed(lib, dtype, n, -0.5, rng)


def test_packed_grid_covers_every_element_with_whole_blocks():
    assert packed_grid(0) == 1 and packed_grid(1) == 1 and packed_grid(PACKED_BLOCK) == 1
    assert packed_grid(PACKED_BLOCK + 1) == 2 and PACKED_BLOCK % 32 == 0


def test_the_comparison_can_fail(tmp_path):
    """Broken element code and broken packing both fail the checks above."""
    kernels = {name: dict(spec, operation=spec["operation"].replace("> (C)0", ">= (C)0")
                          .replace("mask ? grad", "!mask ? grad"))
               for name, spec in KERNELS.items()}
    packed = PACKED_SOURCE.replace("byte < (n + 7) / 8", "byte <= (n + 7) / 8")
    assert kernels != KERNELS and packed != PACKED_SOURCE
    broken = build(tmp_path, kernels, packed)
    x = special_values("float32")
    for name, inputs in (("leaky_relu_forward", (x,)), ("leaky_relu_forward_mask", (x,)),
                         ("leaky_relu_backward", (x, x > 0))):
        got = run_element(broken, name, "float32", -0.5, *inputs)
        if name == "leaky_relu_backward":
            want = [leaky.leaky_relu_backward(x, x > 0, -0.5)]
        elif name == "leaky_relu_forward":
            want = [leaky.leaky_relu(x, -0.5)]
        else:
            want = list(leaky.leaky_relu_with_mask(x, -0.5))
        assert all(differences(g, w).size > 0 for g, w in zip(got, want, strict=True)), name
    with pytest.raises(AssertionError, match="wrote past byte"):
        _check_packed(broken, "float32", 3, 0.5, np.random.default_rng(0))


# bias_act: the CUDA kernels against the CPU kernels (src/leaky_bias_act.h),
# values, both bit planes and the backward, for every act, with and without
# a bias running along an inner run of elements or walking the channels.
_BIAS_ACT_CASES = [(code, alpha, gain, clamp) for code in (0, 1, 2)
                   for alpha, gain, clamp in ((0.2, 1.4142135623730951, -1.0),
                                              (-0.3, 0.5, 0.7), (0.0, 1.0, 0.0))]


def _pointer_array(*arrays):
    return (ctypes.c_void_p * len(arrays))(*(None if a is None else a.ctypes.data
                                             for a in arrays))


def _check_bias_act(lib, dtype, n, inner, with_bias, case, rng):
    from leaky._cpu import kernels
    code, alpha, gain, clamp = case
    channels = 5
    x = rng.choice(special_values(dtype), size=n)
    bias = rng.choice(special_values(dtype), size=channels) if with_bias else None
    planes = 2 if clamp >= 0 else 1
    nbytes = (n + 7) // 8
    want_y, want_bits = np.empty_like(x), np.zeros(planes * nbytes, np.uint8)
    kernels.bias_act_forward(x, want_y, bias, want_bits, code, alpha, gain, clamp, inner)
    y_raw, y = _guarded(n, dtype, 0xA5)
    bits_raw, bits = _guarded(planes * nbytes, np.uint8, 0xA5)
    errors = getattr(lib, f"bias_act_forward_{dtype}")(
        _pointer_array(x, bias, y, bits), ctypes.c_longlong(n), ctypes.c_longlong(channels),
        ctypes.c_longlong(inner), ctypes.c_int(code), ctypes.c_double(alpha),
        ctypes.c_double(gain), ctypes.c_double(clamp), ctypes.c_longlong(packed_grid(n)),
        ctypes.c_int(PACKED_BLOCK))
    assert errors == 0, [why for flag, why in ERRORS.items() if errors & flag]
    what = f"bias_act {dtype} n={n} inner={inner} bias={with_bias} case={case}"
    assert_same(y, want_y, f"{what} y")
    assert_same(bits, want_bits, f"{what} bits")
    assert (y_raw[-GUARD:] == 0xA5).all() and (bits_raw[-GUARD:] == 0xA5).all(), what
    grad = rng.choice(special_values(dtype), size=n)
    want_grad = np.empty_like(grad)
    kernels.bias_act_backward(grad, want_bits, want_grad, code, alpha, gain, clamp)
    g_raw, g = _guarded(n, dtype, 0xA5)
    errors = getattr(lib, f"bias_act_backward_{dtype}")(
        _pointer_array(grad, want_bits, g), ctypes.c_longlong(n), ctypes.c_int(code),
        ctypes.c_double(alpha), ctypes.c_double(gain), ctypes.c_double(clamp),
        ctypes.c_longlong(packed_grid(n)), ctypes.c_int(PACKED_BLOCK))
    assert errors == 0
    assert_same(g, want_grad, f"{what} backward")
    assert (g_raw[-GUARD:] == 0xA5).all(), what


@pytest.mark.parametrize("dtype", DTYPES)
def test_bias_act_kernels_in_an_emulated_launch_match_the_cpu_kernels(lib, dtype):
    rng = np.random.default_rng(29)
    for case in _BIAS_ACT_CASES:
        for n, inner, with_bias in ((1, 1, True), (37, 1, True), (300, 7, True),
                                    (300, 7, False), (PACKED_BLOCK * 3 + 5, 64, True)):
            _check_bias_act(lib, dtype, n, inner, with_bias, case, rng)
