"""Print leaky's performance ratios against its peers, measured in one run.

Each row times two callables, interleaved (A, B, A, B, ...), and keeps the
best time of each, so both share the machine's noise.  Ratios below 1 mean
leaky is faster.  float32 throughout; all cores in use unless noted.

Run: ``python asv_bench/ratios.py`` (``--rst`` prints docs/_measured.rst,
``--rst-memory`` docs/_memory.rst, ``--mlx-lucid`` the MLX and Lucid rows
alone: Lucid runs on Python 3.14 only; ``--bias-act`` the bias_act rows
alone; ``--tiers`` the rows of
:func:`tier_rows` once per kernel variant this CPU runs, side by side,
``--rst-tiers`` the same for docs/_tiers.rst).

Every table starts with the CPU and the kernel variant that ran.  Set
``LEAKY_CPU_VARIANT`` to force a variant; ``--tiers`` does so for each one
in its own process, with torch held to the same ISA level by
``ATEN_CPU_CAPABILITY`` (:data:`ATEN_CAPABILITY`).
"""

import json
import os
import platform
import subprocess
import sys
import timeit

import numpy as np

import leaky
from leaky import _contract

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchmarks.networks import (NETWORKS, StyleGAN2Discriminator, bias_act_of,  # noqa: E402
                                  discriminator_step, leaky_relu_mlp, network, r1_step,
                                  saved_bytes_for_backward, training_step)

SLOPE = 0.01

#: torch's ``ATEN_CPU_CAPABILITY`` at the ISA level of each kernel variant.
ATEN_CAPABILITY = {"baseline": "default", "avx2": "avx2", "avx512": "avx512"}


def cpu_name():
    """The CPU's model name, as the operating system gives it."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith(("model name", "Model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        done = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                              capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout.strip()
    return platform.processor() or platform.machine()


def describe_run():
    """CPU, kernel variant and (when installed) torch's CPU capability."""
    from leaky import _cpu
    line = f"CPU: {cpu_name()}, {os.cpu_count()} cores; leaky kernel variant: " \
           f"{_cpu.active_variant()}"
    try:
        import torch
    except ImportError:
        return line
    return f"{line}; torch {torch.__version__}, CPU capability " \
           f"{torch.backends.cpu.get_cpu_capability()}"


def best_us(func, number, repeat=3):
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number * 1e6


def interleaved(ours, theirs, rounds=5):
    """Best µs of each; the number of calls per timing suits the slower one
    (a peer 40 times slower, torch on its scalar tier, would take minutes)."""
    number = max(1, min(timeit.Timer(f).autorange()[0] for f in (ours, theirs)) // 2)
    a = b = float("inf")
    for _ in range(rounds):
        a = min(a, best_us(ours, number))
        b = min(b, best_us(theirs, number))
    return a, b


def rows():
    """Yield (check, target, leaky µs, peer µs)."""
    rng = np.random.default_rng(0)

    def data(n):
        x = rng.standard_normal(n).astype(np.float32)
        return x, np.empty_like(x)

    for n, target in ((100_000, 1.25), (10_000_000, 1.10)):
        x, y = data(n)
        yield (f"forward out= / np.copyto, n={n:.0e}", target,
               *interleaved(lambda: leaky.leaky_relu(x, SLOPE, out=y), lambda: np.copyto(y, x)))
    x, _ = data(10_000_000)
    yield ("forward / x.copy(), n=1e7", 1.15,
           *interleaved(lambda: leaky.leaky_relu(x, SLOPE), lambda: x.copy()))
    x, _ = data(1_000_000)
    yield ("forward / np.where(x>0, x, s*x), n=1e6", None,
           *interleaved(lambda: leaky.leaky_relu(x, SLOPE), lambda: np.where(x > 0, x, SLOPE * x)))
    yield from small_call_rows(rng)
    yield from packed_rows(data)
    view = rng.standard_normal((2000, 1000)).astype(np.float32)[:, ::2]
    yield ("forward [:, ::2] of 2000x1000 / np.negative", 1.3,
           *interleaved(lambda: leaky.leaky_relu(view, SLOPE), lambda: np.negative(view)))
    x, _ = data(1_000_000)
    yield from mlx_rows(x)
    yield from lucid_rows(x)
    yield from torch_rows(data)


def mlx_rows(x):
    """MLX against mlx.nn.leaky_relu (its CPU backend here); ``x``: 1e6 float32."""
    try:
        import mlx.core as mx
        import mlx.nn
    except ImportError:
        return
    x = mx.array(x)
    ours = lambda v: leaky.leaky_relu(v, SLOPE)  # noqa: E731
    theirs = lambda v: mlx.nn.leaky_relu(v, SLOPE)  # noqa: E731
    pairs = [("forward, eager", ours, theirs),
             ("forward, mx.compile", mx.compile(ours), mx.compile(theirs)),
             ("forward+grad (mx.value_and_grad)",
              mx.value_and_grad(lambda v: ours(v).sum()),
              mx.value_and_grad(lambda v: theirs(v).sum()))]
    for what, a, b in pairs:
        yield (f"MLX {what} / mlx.nn.leaky_relu, n=1e6", 1.05,
               *interleaved(lambda: mx.eval(a(x)), lambda: mx.eval(b(x))))


def lucid_rows(x):
    """Lucid against lucid.nn.functional.leaky_relu, on each device; ``x``:
    1e6 float32."""
    try:
        import lucid
        import lucid.nn.functional as F
        import mlx.core as mx
    except ImportError:
        return
    import leaky.lucid
    targets = {"cpu": (0.2, 0.2), "gpu": (1.05, 1.05)}
    for device, (forward, both) in targets.items():
        plain = lucid.Tensor(x, device=device)
        wanting = lucid.Tensor(x, device=device, requires_grad=True)
        sync = mx.eval if device == "gpu" else (lambda array: None)  # MLX is lazy

        def forward_backward(function):
            function(wanting, SLOPE).backward()
            sync(wanting.grad)
            wanting.grad = None

        yield (f"Lucid {device} forward / Lucid's leaky_relu, n=1e6", forward,
               *interleaved(lambda: sync(leaky.lucid.leaky_relu(plain, SLOPE).data),
                            lambda: sync(F.leaky_relu(plain, SLOPE).data)))
        yield (f"Lucid {device} forward+backward / Lucid's, n=1e6", both,
               *interleaved(lambda: forward_backward(leaky.lucid.leaky_relu),
                            lambda: forward_backward(F.leaky_relu)))


def small_call_rows(rng):
    """n = 10: what a call costs around the loop, against a NumPy ufunc."""
    x = rng.standard_normal(10).astype(np.float32)
    y = np.empty_like(x)
    _, mask = leaky.leaky_relu_with_mask(x, SLOPE)
    yield ("forward n=10 / np.negative", 1.5,
           *interleaved(lambda: leaky.leaky_relu(x), lambda: np.negative(x)))
    yield ("forward out= n=10 / np.multiply(x, s, out=y)", 1.5,
           *interleaved(lambda: leaky.leaky_relu(x, out=y),
                        lambda: np.multiply(x, SLOPE, out=y)))
    yield ("forward+mask n=10 / np.multiply(x, s)", 1.5,
           *interleaved(lambda: leaky.leaky_relu_with_mask(x), lambda: np.multiply(x, SLOPE)))
    yield ("backward n=10 / np.multiply(g, s)", 1.5,
           *interleaved(lambda: leaky.leaky_relu_backward(x, mask),
                        lambda: np.multiply(x, SLOPE)))


def packed_rows(data):
    """Packed masks (one bit per element) at 1e6, out= given."""
    x, y = data(1_000_000)
    grad, grad_in = data(1_000_000)
    _, bits = leaky.leaky_relu_with_mask(x, SLOPE, packed=True)
    _, mask = leaky.leaky_relu_with_mask(x, SLOPE)
    yield ("forward with packed bits out= / forward out=, n=1e6", 1.05,
           *interleaved(lambda: leaky.leaky_relu_with_mask(x, SLOPE, packed=True, out=(y, bits)),
                        lambda: leaky.leaky_relu(x, SLOPE, out=y)))
    yield ("backward from bits out= / from bool mask out=, n=1e6", 1.0,
           *interleaved(lambda: leaky.leaky_relu_backward(grad, bits, SLOPE, out=grad_in),
                        lambda: leaky.leaky_relu_backward(grad, mask, SLOPE, out=grad_in)))


def memory_rows():
    """Yield (check, target, leaky bytes, peer bytes): what torch autograd
    keeps for backward, parameters not counted (float32)."""
    try:
        import torch
    except ImportError:
        return
    import leaky.torch

    x = torch.randn(1 << 20, requires_grad=True)
    per_element = [saved_bytes_for_backward(lambda: layer(x)) / x.numel()
                   for layer in (leaky.torch.LeakyReLU(), torch.nn.LeakyReLU())]
    yield ("bytes saved per element / torch.nn.LeakyReLU", 1 / 32, *per_element)
    _, bool_mask = leaky.leaky_relu_with_mask(x.detach().numpy())
    yield ("bytes saved per element / a bool mask", 1 / 8, per_element[0],
           bool_mask.nbytes / bool_mask.size)
    step = []
    for layer in (leaky.torch.LeakyReLU, torch.nn.LeakyReLU):
        model = leaky_relu_mlp(layer)
        step.append(saved_bytes_for_backward(lambda: model(torch.randn(512, 1024)),
                                             model.parameters()))
    yield ("MLP step (4 x Linear 1024 + LeakyReLU, batch 512) / torch", 0.55, *step)
    yield from bias_act_memory_rows()
    yield from network_memory_rows()


def torch_rows(data):
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return
    for n, target in ((1_000, 0.9), (100_000, 0.9)):
        x, _ = data(n)
        xt = torch.from_numpy(x)
        yield (f"forward / torch F.leaky_relu, n={n:.0e}", target,
               *interleaved(lambda: leaky.leaky_relu(x, SLOPE), lambda: F.leaky_relu(xt, SLOPE)))
    yield from tier_rows()
    x, _ = data(1_000_000)
    xt = torch.from_numpy(x)
    yield ("forward+mask / torch (leaky_relu and x > 0), n=1e6", 0.4,
           *interleaved(lambda: leaky.leaky_relu_with_mask(x, SLOPE),
                        lambda: (F.leaky_relu(xt, SLOPE), xt > 0)))
    grad, _ = data(1_000_000)
    gt = torch.from_numpy(grad)
    _, mask = leaky.leaky_relu_with_mask(x, SLOPE)
    yield ("backward / aten.leaky_relu_backward, n=1e6", 0.9,
           *interleaved(lambda: leaky.leaky_relu_backward(grad, mask, SLOPE),
                        lambda: torch.ops.aten.leaky_relu_backward(gt, xt, SLOPE, False)))
    yield from torch_module_rows()
    yield from bias_act_rows()
    yield from network_rows()
    # TensorFlow last: triton (torch.compile's compiler in CUDA builds of
    # torch) segfaults when it loads after TensorFlow (issue 25)
    yield from tensorflow_rows(data)


def tensorflow_rows(data):
    try:
        import tensorflow as tf
    except ImportError:
        return
    x, _ = data(1_000_000)
    xt = tf.constant(x)
    yield ("forward on a tf.Tensor / tf.nn.leaky_relu, n=1e6", 1.2,
           *interleaved(lambda: leaky.leaky_relu(xt, SLOPE),
                        lambda: tf.nn.leaky_relu(xt, alpha=SLOPE)))


def torch_module_rows():
    """leaky.torch against torch's own leaky_relu (torch's default threads)."""
    import torch
    import torch.nn.functional as F
    import leaky.torch

    # Targets of issue 24: every call goes through torch's dispatcher, whose
    # cost shows at n=10 (no real activation has 10 elements).
    x = torch.randn(10)
    yield ("leaky.torch forward no grad n=10 / F.leaky_relu", 1.3,
           *interleaved(lambda: leaky.torch.leaky_relu(x, SLOPE), lambda: F.leaky_relu(x, SLOPE)))
    for shape, target in (((10,), 1.3), ((256, 512), 1.0), ((1000, 1000), 1.0)):
        ours, theirs = torch.randn(*shape, requires_grad=True), torch.randn(*shape, requires_grad=True)
        grad = torch.randn(*shape)
        name = "x".join(map(str, shape))
        yield (f"leaky.torch forward+backward {name} / F.leaky_relu", target,
               *interleaved(lambda: leaky.torch.leaky_relu(ours, SLOPE).backward(grad),
                            lambda: F.leaky_relu(theirs, SLOPE).backward(grad)))


def tier_rows():
    """The rows that differ between ISA tiers: NumPy arrays and torch
    tensors at 1e6 and 1e7, bfloat16, the torch operator itself, a
    10-element call and ``torch.autograd.grad`` of forward+backward (no
    ``.grad`` accumulation, so the activation's own traffic shows: leaky
    moves 0.81 of torch's bytes)."""
    import torch
    import torch.nn.functional as F
    import leaky.torch

    rng = np.random.default_rng(0)
    for n, target in ((10_000_000, 0.5), (1_000_000, 0.9)):
        x = rng.standard_normal(n).astype(np.float32)
        xt = torch.from_numpy(x)
        yield (f"forward / torch F.leaky_relu, n={n:.0e}", target,
               *interleaved(lambda: leaky.leaky_relu(x, SLOPE), lambda: F.leaky_relu(xt, SLOPE)))
    bfloat16 = _contract.numpy_bfloat16()  # ml_dtypes', or None
    if bfloat16 is not None:
        xb, xtb = x.astype(bfloat16), xt.to(torch.bfloat16)
        yield ("bfloat16 forward / torch F.leaky_relu, n=1e6", 1.0,
               *interleaved(lambda: leaky.leaky_relu(xb, SLOPE), lambda: F.leaky_relu(xtb, SLOPE)))
    yield ("leaky.leaky_relu(tensor), no grad / F.leaky_relu, n=1e6", 1.0,
           *interleaved(lambda: leaky.leaky_relu(xt, SLOPE), lambda: F.leaky_relu(xt, SLOPE)))
    yield ("torch.ops.leaky.leaky_relu / F.leaky_relu, n=1e6", 1.0,
           *interleaved(lambda: torch.ops.leaky.leaky_relu(xt, SLOPE),
                        lambda: F.leaky_relu(xt, SLOPE)))
    small = torch.randn(10)
    yield ("leaky.leaky_relu(tensor), no grad / F.leaky_relu, n=10", 1.5,
           *interleaved(lambda: leaky.leaky_relu(small, SLOPE),
                        lambda: F.leaky_relu(small, SLOPE)))
    ours = xt.reshape(1000, 1000).clone().requires_grad_()
    theirs = xt.reshape(1000, 1000).clone().requires_grad_()
    grad = torch.randn(1000, 1000)
    yield ("torch.autograd.grad of forward+backward / torch's, n=1e6", 0.85,
           *interleaved(lambda: torch.autograd.grad(leaky.torch.leaky_relu(ours, SLOPE), ours, grad),
                        lambda: torch.autograd.grad(F.leaky_relu(theirs, SLOPE), theirs, grad)))


def per_tier():
    """:func:`tier_rows` in one process per kernel variant this CPU runs,
    torch held to the same ISA level: ``{variant: [description, rows]}``."""
    from leaky import _cpu
    results = {}
    for variant in _cpu.supported_variants():
        env = dict(os.environ, LEAKY_CPU_VARIANT=variant,
                   ATEN_CPU_CAPABILITY=ATEN_CAPABILITY.get(variant, "default"))
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "--tier-json"],
                              env=env, capture_output=True, text=True, check=True)
        results[variant] = json.loads(done.stdout.splitlines()[-1])
    return results


def print_tiers(results, rst=False):
    """One column of ratios per kernel variant, the targets beside them."""
    variants = list(results)
    for variant, (description, _) in results.items():
        print(f"{variant}: {description}")
    first_rows = results[variants[0]][1]
    header = ["check", *variants, "target"]
    body = [[check, *(f"{results[v][1][k][4]:.2f}" for v in variants),
             "" if target is None else f"<= {target:.3g}"]
            for k, (check, target, *_) in enumerate(first_rows)]
    widths = [max(len(row[i]) for row in [header] + body) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    line = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    rows = [line(row) for row in body]
    print("\n".join([rule, line(header), rule, *rows, rule] if rst else [line(header), *rows]))


def bias_act_rows():
    """StyleGAN's bias_act (lrelu, clamp 256) against its reference chain,
    on a conv layer's output, and a discriminator step with R1."""
    import torch

    ours, theirs = bias_act_of("leaky.torch"), bias_act_of("reference")
    generator = torch.Generator().manual_seed(0)
    x, b = torch.randn(32, 256, 16, 16, generator=generator), torch.randn(256, generator=generator)
    grad = torch.randn(x.shape, generator=generator)
    yield ("bias_act lrelu clamp=256, (32,256,16,16), no grad / reference", 0.6,
           *interleaved(lambda: ours(x, b, act="lrelu", clamp=256),
                        lambda: theirs(x, b, act="lrelu", clamp=256)))
    leaves = [(x.clone().requires_grad_(), b.clone().requires_grad_()) for _ in range(2)]

    def both(op, leaf):
        return torch.autograd.grad(op(*leaf, act="lrelu", clamp=256), leaf, grad)

    yield ("bias_act forward+backward (y, dx, db), same / reference", 0.5,
           *interleaved(lambda: both(ours, leaves[0]), lambda: both(theirs, leaves[1])))
    images = torch.randn(16, 3, 32, 32, generator=generator)
    d_ours, d_theirs = StyleGAN2Discriminator(ours), StyleGAN2Discriminator(theirs)
    yield ("StyleGAN2-like D step with R1, 16x3x32x32 / reference", 1.0,
           *interleaved(lambda: r1_step(d_ours, images), lambda: r1_step(d_theirs, images),
                        rounds=3))
    compiled = [StyleGAN2Discriminator(op, compiled=True) for op in (ours, theirs)]
    for d in compiled:
        discriminator_step(d, images)  # compile outside the timing
    yield ("StyleGAN2-like D step, compiled / reference compiled", 1.03,
           *interleaved(*(lambda d=d: discriminator_step(d, images) for d in compiled),
                        rounds=3))


def bias_act_memory_rows():
    """Bytes the discriminator's forward with R1's gradient keeps."""
    import torch

    images = torch.randn(16, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    saved = []
    for implementation in ("leaky.torch", "reference"):
        d = StyleGAN2Discriminator(bias_act_of(implementation))

        def forward_with_r1_graph():
            leaf = images.clone().requires_grad_()
            return torch.autograd.grad(d(leaf).sum(), leaf, create_graph=True)

        saved.append(saved_bytes_for_backward(forward_with_r1_graph, d.parameters))
    yield ("StyleGAN2-like D with R1's graph, saved / reference", 0.9, *saved)
    x = torch.randn(32, 256, 16, 16, requires_grad=True)
    b = torch.randn(256, requires_grad=True)
    per_op = [saved_bytes_for_backward(lambda: bias_act_of(i)(x, b, act="lrelu", clamp=256))
              for i in ("leaky.torch", "reference")]
    yield ("bias_act lrelu clamp=256 saved / reference", 0.07, *per_op)


def _network_variants():
    for name in NETWORKS:
        for compiled in (False, True):
            for inplace in (False, True):
                mode = ("compiled" if compiled else "eager") + (", in place" if inplace else "")
                yield name, compiled, inplace, mode


def network_rows():
    """A training step of each network with leaky.torch.LeakyReLU against
    torch.nn.LeakyReLU, eager and compiled, out of place and in place."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return
    variants = [(name, compiled, inplace, False, mode)
                for name, compiled, inplace, mode in _network_variants()]
    variants.append(("DCGAN-D", False, False, True, "eager, channels last"))
    for name, compiled, inplace, channels_last, mode in variants:
        pair = [network(name, impl, inplace, compiled, channels_last)
                for impl in ("leaky.torch", "torch")]
        for model, x in pair:  # compile and warm up outside the timing
            training_step(model, x)
        yield (f"{name} training step ({mode}) / torch.nn.LeakyReLU", 1.03,
               *interleaved(*(lambda m=m, x=x: training_step(m, x) for m, x in pair), rounds=3))


_COMPILED_BYTES = {"MLP": 0.83, "DCGAN-D": 0.96}  # targets: memory of compiled steps


def network_memory_rows():
    """Bytes of distinct storages saved for backward in each network's
    forward, parameters not counted.  A compiled DCGAN keeps what torch's
    does but the first layer's mask (its BatchNorm layers recompute theirs
    from the convolution outputs BatchNorm keeps, and both keep the weights
    inductor lays out channels last): 0.945 of torch's bytes with no mask
    at all, so its target is 0.96 (docs/performance.rst)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return
    for name, compiled, inplace, mode in _network_variants():
        saved = []
        for impl in ("leaky.torch", "torch"):
            model, x = network(name, impl, inplace, compiled)
            training_step(model, x)  # compile outside the count
            saved.append(saved_bytes_for_backward(lambda: model(x), model.parameters()))
        target = 1.05 if inplace else _COMPILED_BYTES[name] if compiled else 0.65
        yield (f"{name} saved for backward ({mode}) / torch.nn.LeakyReLU", target, *saved)


def _measure(source):
    return [(check, target, ours, theirs, ours / theirs)
            for check, target, ours, theirs in source]


def main(rst=False, rst_memory=False):
    print(describe_run())
    if rst_memory:
        print(format_rst(_measure(memory_rows()), "bytes", "{:.4g}", "{:.4f}"))
        return
    memory = None if rst else _measure(memory_rows())  # compiles: before TensorFlow loads
    measured = _measure(rows())
    if rst:
        print(format_rst(measured))
        return
    print_table(measured, "µs", "{:>11.2f}")
    print()
    print_table(memory, "bytes", "{:>11.4g}")


def print_table(measured, unit, number):
    print(f"{'check':<60}{'leaky ' + unit:>11}{'peer ' + unit:>11}{'ratio':>8}{'target':>8}")
    for check, target, ours, theirs, ratio in measured:
        mark = "" if target is None else ("  ok" if ratio <= target else "  MISS")
        tgt = "" if target is None else f"<={target:.3g}"
        print(f"{check:<60}{number.format(ours)}{number.format(theirs)}{ratio:>8.3g}{tgt:>8}{mark}")


def format_rst(measured, unit="µs", number="{:.2f}", ratio_format="{:.2f}"):
    """The same table as reStructuredText, for docs/_measured.rst."""
    header = ("check", f"leaky {unit}", f"peer {unit}", "ratio", "target")
    body = [(check, number.format(ours), number.format(theirs), ratio_format.format(ratio),
             "" if target is None else f"<= {target:.3g}")
            for check, target, ours, theirs, ratio in measured]
    widths = [max(len(r[i]) for r in [header] + body) for i in range(5)]
    rule = "  ".join("=" * w for w in widths)
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([rule, line(header), rule] + [line(r) for r in body] + [rule])


if __name__ == "__main__":
    import sys
    if "--tier-json" in sys.argv:  # one variant's tier rows, for per_tier()
        print(json.dumps([describe_run(), _measure(tier_rows())]))
    elif "--tiers" in sys.argv or "--rst-tiers" in sys.argv:
        print(f"CPU: {cpu_name()}")
        print_tiers(per_tier(), rst="--rst-tiers" in sys.argv)
    elif "--bias-act" in sys.argv:  # those rows alone
        print(describe_run())
        print_table(_measure(bias_act_rows()), "µs", "{:>11.2f}")
        print_table(_measure(bias_act_memory_rows()), "bytes", "{:>11.4g}")
    elif "--mlx-lucid" in sys.argv:  # those rows alone (Lucid runs on Python 3.14)
        x = np.random.default_rng(0).standard_normal(1_000_000).astype(np.float32)
        print_table(_measure([*mlx_rows(x), *lucid_rows(x)]), "µs", "{:>11.2f}")
    else:
        main(rst="--rst" in sys.argv, rst_memory="--rst-memory" in sys.argv)
