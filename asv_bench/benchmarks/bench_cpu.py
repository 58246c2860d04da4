"""CPU benchmarks: leaky against NumPy, the copy baseline, torch and JAX.

asv runs every parameter combination in a fresh process, so instead of one
full product of size x dtype x layout x implementation (864 processes),
each class varies the parameters that matter for its question.  Every class
has one ``time_`` method per operation; a peer without that operation, or
not installed, raises ``SkipNotImplemented``.  ``np.copyto`` is the physical
limit (one read, one write per element).
"""

import numpy as np

from .common import (DTYPES, IMPLEMENTATIONS, LAYOUTS, SLOPE, SkipNotImplemented, make_input,
                     operations, pick)
from .networks import (NETWORKS, StyleGAN2Discriminator, bias_act_of, discriminator_step,
                       leaky_relu_mlp, network, r1_step, saved_bytes_for_backward, training_step)


class _Operations:
    """time_forward, time_forward_out, time_forward_mask, time_backward."""

    timeout = 120

    def _setup(self, size, dtype, layout, impl):
        self.x = make_input(size, dtype, layout)
        self.ops = operations(impl, self.x)

    def time_forward(self, *params):
        pick(self.ops, "forward")()

    def time_forward_out(self, *params):
        pick(self.ops, "forward_out")()

    def time_forward_mask(self, *params):
        pick(self.ops, "forward_mask")()

    def time_backward(self, *params):
        pick(self.ops, "backward")()


class Sizes(_Operations):
    """float32, contiguous: every implementation from 10 to 1e7 elements."""

    params = ([10, 1_000, 100_000, 1_000_000, 10_000_000], list(IMPLEMENTATIONS))
    param_names = ["size", "implementation"]

    def setup(self, size, impl):
        self._setup(size, "float32", "contiguous", impl)


class Dtypes(_Operations):
    """float16, float32, float64 at 1e6 elements, contiguous."""

    params = (list(DTYPES), ["leaky", "np.where", "np.copyto", "torch"])
    param_names = ["dtype", "implementation"]

    def setup(self, dtype, impl):
        self._setup(1_000_000, dtype, "contiguous", impl)


class Layouts(_Operations):
    """Contiguous, strided (every other element) and F-ordered, float32, 1e6."""

    params = (list(LAYOUTS), ["leaky", "np.maximum", "np.copyto", "torch"])
    param_names = ["layout", "implementation"]

    def setup(self, layout, impl):
        self._setup(1_000_000, "float32", layout, impl)


class Memory:
    """Peak memory of one allocating call on 1e7 float32 (setup's own memory
    is ``peakmem_reference``)."""

    params = (["leaky", "np.maximum", "np.where", "torch"],)
    param_names = ["implementation"]

    def setup(self, impl):
        self.x = make_input(10_000_000, "float32", "contiguous")
        self.ops = operations(impl, self.x)

    def peakmem_reference(self, impl):
        pass

    def peakmem_forward(self, impl):
        pick(self.ops, "forward")()

    def peakmem_forward_mask(self, impl):
        pick(self.ops, "forward_mask")()


class Huge:
    """1e8 float32 elements: beyond every cache; slow, so in a class of its own."""

    params = (["leaky", "np.copyto", "torch"],)
    param_names = ["implementation"]
    timeout = 300

    def setup(self, impl):
        self.x = make_input(100_000_000, "float32", "contiguous")
        self.ops = operations(impl, self.x)

    def time_forward(self, impl):
        pick(self.ops, "forward")()

    def time_forward_out(self, impl):
        pick(self.ops, "forward_out")()


class UfuncKeywords:
    """NumPy's ufunc keywords, against np.multiply with the same keywords
    (float32).  Small sizes show what a call costs around the loop."""

    params = ([10, 100_000], ["where", "casting", "order", "dtype", "raw ufunc"],
              ["leaky", "np.multiply"])
    param_names = ["size", "keyword", "implementation"]

    def setup(self, size, keyword, impl):
        import leaky
        from leaky import ufuncs

        x = make_input(size, "float32", "contiguous")
        y = np.empty_like(x)
        keywords = {
            "where": dict(out=y, where=x > 0),
            "casting": dict(out=y, casting="same_kind"),
            "order": dict(order="F"),
            "dtype": dict(dtype=np.float64),
        }.get(keyword, {})
        if impl == "np.multiply":
            self.call = lambda: np.multiply(x, SLOPE, **keywords)
        elif keyword == "raw ufunc":
            self.call = lambda: ufuncs.leaky_relu(x, SLOPE)
        else:
            self.call = lambda: leaky.leaky_relu(x, SLOPE, **keywords)

    def time_forward(self, size, keyword, impl):
        self.call()


class PandasSeries:
    """A float32 pandas Series through __array_ufunc__, against the same
    Series' own arithmetic and the ufunc on its NumPy values."""

    params = ([1_000, 1_000_000], ["leaky", "Series.where", "leaky on .to_numpy()"])
    param_names = ["size", "implementation"]

    def setup(self, size, impl):
        try:
            import pandas as pd
        except ImportError:
            raise SkipNotImplemented("pandas is not installed")
        import leaky

        s = pd.Series(make_input(size, "float32", "contiguous"))
        self.call = {
            "leaky": lambda: leaky.leaky_relu(s, SLOPE),
            "Series.where": lambda: s.where(s > 0, s * SLOPE),
            "leaky on .to_numpy()": lambda: leaky.leaky_relu(s.to_numpy(), SLOPE),
        }[impl]

    def time_forward(self, size, impl):
        self.call()


class BFloat16:
    """ml_dtypes.bfloat16 at 1e6: leaky's loops against torch on a bfloat16
    tensor and against NumPy's float32 round trip."""

    params = (["leaky", "torch", "np.where via float32"],)
    param_names = ["implementation"]

    def setup(self, impl):
        try:
            import ml_dtypes
        except ImportError:
            raise SkipNotImplemented("ml_dtypes is not installed")
        import leaky

        x32 = make_input(1_000_000, "float32", "contiguous")
        x = x32.astype(ml_dtypes.bfloat16)
        grad = x[::-1].copy()
        mask = x32 > 0
        if impl == "leaky":
            self.ops = {"forward": lambda: leaky.leaky_relu(x, SLOPE),
                        "forward_mask": lambda: leaky.leaky_relu_with_mask(x, SLOPE),
                        "backward": lambda: leaky.leaky_relu_backward(grad, mask, SLOPE)}
        elif impl == "torch":
            try:
                import torch
            except ImportError:
                raise SkipNotImplemented("torch is not installed")
            xt = torch.from_numpy(x32).to(torch.bfloat16)
            gt = torch.from_numpy(grad.astype(np.float32)).to(torch.bfloat16)
            self.ops = {"forward": lambda: torch.nn.functional.leaky_relu(xt, SLOPE),
                        "forward_mask": lambda: (torch.nn.functional.leaky_relu(xt, SLOPE), xt > 0),
                        "backward": lambda: torch.ops.aten.leaky_relu_backward(gt, xt, SLOPE, False)}
        else:
            def forward():
                v = x.astype(np.float32)
                return np.where(v > 0, v, v * np.float32(SLOPE)).astype(x.dtype)
            self.ops = {"forward": forward}

    def time_forward(self, impl):
        pick(self.ops, "forward")()

    def time_forward_mask(self, impl):
        pick(self.ops, "forward_mask")()

    def time_backward(self, impl):
        pick(self.ops, "backward")()


class TorchModule:
    """leaky.torch (and leaky's operator itself, ``torch.ops.leaky``)
    against torch's own leaky_relu, float32: forward without grad, and
    forward + backward with requires_grad, by ``.backward()`` and by
    ``torch.autograd.grad`` (torch's default threads).  Per ISA tier:
    ``LEAKY_CPU_VARIANT=avx2 ATEN_CPU_CAPABILITY=avx2 asv run ...``."""

    params = ([10, 256 * 512, 1_000_000], ["leaky.torch", "torch.ops.leaky", "F.leaky_relu"])
    param_names = ["size", "implementation"]

    def setup(self, size, impl):
        try:
            import torch
        except ImportError:
            raise SkipNotImplemented("torch is not installed")
        if impl == "leaky.torch":
            import leaky.torch
            self.func = leaky.torch.leaky_relu
        elif impl == "torch.ops.leaky":
            import leaky.torch  # noqa: F401  (registers the operators)
            self.func = torch.ops.leaky.leaky_relu
        else:
            self.func = torch.nn.functional.leaky_relu
        self.x = torch.from_numpy(make_input(size, "float32", "contiguous").copy())
        self.x_grad = self.x.clone().requires_grad_()
        self.grad = torch.ones_like(self.x)

    def time_forward(self, size, impl):
        self.func(self.x, SLOPE)

    def time_forward_backward(self, size, impl):
        self.func(self.x_grad, SLOPE).backward(self.grad)

    def time_forward_autograd_grad(self, size, impl):
        import torch
        torch.autograd.grad(self.func(self.x_grad, SLOPE), self.x_grad, self.grad)

    def time_tensor_through_leaky_relu(self, size, impl):
        if impl == "torch.ops.leaky":
            raise SkipNotImplemented("the operator is time_forward's")
        import leaky
        (leaky.leaky_relu if impl == "leaky.torch" else self.func)(self.x, SLOPE)


class TensorFlow:
    """A float32 tf.Tensor: leaky's TensorFlow backend against
    tf.nn.leaky_relu, eagerly and under tf.function(jit_compile=True)."""

    params = ([1_000, 1_000_000], ["leaky", "tf.nn.leaky_relu"], ["eager", "xla"])
    param_names = ["size", "implementation", "mode"]

    def setup(self, size, impl, mode):
        try:
            import tensorflow as tf
        except ImportError:
            raise SkipNotImplemented("tensorflow is not installed")
        import leaky

        if impl == "leaky":
            func = lambda t: leaky.leaky_relu(t, SLOPE)  # noqa: E731
        else:
            func = lambda t: tf.nn.leaky_relu(t, alpha=SLOPE)  # noqa: E731
        if mode == "xla":
            func = tf.function(func, jit_compile=True)
        self.x = tf.constant(make_input(size, "float32", "contiguous"))
        self.func = func
        self.func(self.x)  # trace and compile outside the timing

    def time_forward(self, size, impl, mode):
        self.func(self.x).numpy()  # wait for the result


class MLX:
    """A float32 mx.array: leaky's MLX backend against mlx.nn.leaky_relu,
    eagerly, under mx.compile, and forward+grad (mx.value_and_grad)."""

    params = ([1_000, 1_000_000], ["leaky", "mlx.nn.leaky_relu"], ["eager", "compile", "grad"])
    param_names = ["size", "implementation", "mode"]

    def setup(self, size, impl, mode):
        try:
            import mlx.core as mx
            import mlx.nn
        except ImportError:
            raise SkipNotImplemented("mlx is not installed")
        import leaky

        leaky_relu = leaky.leaky_relu if impl == "leaky" else mlx.nn.leaky_relu
        func = lambda v: leaky_relu(v, SLOPE)  # noqa: E731
        if mode == "compile":
            func = mx.compile(func)
        elif mode == "grad":
            func = mx.value_and_grad(lambda v, f=func: f(v).sum())
        self.x = mx.array(make_input(size, "float32", "contiguous"))
        self.func, self.eval = func, mx.eval
        self.eval(self.func(self.x))  # compile outside the timing

    def time_forward(self, size, impl, mode):
        self.eval(self.func(self.x))  # MLX is lazy: wait for the result


class Lucid:
    """A float32 lucid.Tensor on each device: leaky.lucid.leaky_relu against
    Lucid's own, forward and forward+backward (Lucid 2.x: Python >= 3.14)."""

    params = ([1_000_000], ["leaky", "lucid"], ["cpu", "gpu"])
    param_names = ["size", "implementation", "device"]

    def setup(self, size, impl, device):
        try:
            import lucid
            import lucid.nn.functional as F
            import mlx.core as mx
        except ImportError:
            raise SkipNotImplemented("lucid (Python >= 3.14) is not installed")
        import leaky.lucid

        self.func = leaky.lucid.leaky_relu if impl == "leaky" else F.leaky_relu
        x = make_input(size, "float32", "contiguous")
        self.plain = lucid.Tensor(x, device=device)
        self.wanting = lucid.Tensor(x, device=device, requires_grad=True)
        self.sync = mx.eval if device == "gpu" else (lambda array: None)

    def time_forward(self, size, impl, device):
        self.sync(self.func(self.plain, SLOPE).data)

    def time_forward_backward(self, size, impl, device):
        self.func(self.wanting, SLOPE).backward()
        self.sync(self.wanting.grad)
        self.wanting.grad = None


class PackedMask:
    """Packed masks (one bit per element) against the bool mask, float32,
    1e6 elements, ``out=`` given: the fused forward with bits against the
    forward alone, and the backward from bits against the backward from
    the bool mask."""

    params = (["packed", "bool mask", "forward alone"],)
    param_names = ["mask"]

    def setup(self, mask):
        import leaky
        self.leaky = leaky
        self.x = make_input(1_000_000, "float32", "contiguous")
        self.grad = make_input(1_000_000, "float32", "contiguous", seed=1)
        self.y, self.grad_in = np.empty_like(self.x), np.empty_like(self.x)
        _, self.bits = leaky.leaky_relu_with_mask(self.x, SLOPE, packed=True)
        _, self.bool_mask = leaky.leaky_relu_with_mask(self.x, SLOPE)
        self.mask = self.bits if mask == "packed" else self.bool_mask

    def time_forward(self, mask):
        if mask == "forward alone":
            self.leaky.leaky_relu(self.x, SLOPE, out=self.y)
        else:
            self.leaky.leaky_relu_with_mask(self.x, SLOPE, packed=mask == "packed",
                                            out=(self.y, self.mask))

    def time_backward(self, mask):
        if mask == "forward alone":
            raise SkipNotImplemented("no mask")
        self.leaky.leaky_relu_backward(self.grad, self.mask, SLOPE, out=self.grad_in)


class SavedForBackward:
    """Bytes kept for backward (torch autograd, float32): per element of one
    LeakyReLU, and for a training step of a 4-block MLP (Linear(1024, 1024)
    + LeakyReLU, batch 512), parameters not counted."""

    params = (["leaky.torch.LeakyReLU", "torch.nn.LeakyReLU"],)
    param_names = ["layer"]

    def setup(self, layer):
        try:
            import torch
        except ImportError:
            raise SkipNotImplemented("torch is not installed")
        if layer == "leaky.torch.LeakyReLU":
            import leaky.torch
            self.layer = lambda: leaky.torch.LeakyReLU(0.01)
        else:
            self.layer = lambda: torch.nn.LeakyReLU(0.01)
        self.torch = torch

    def track_bytes_per_element(self, layer):
        x = self.torch.randn(1 << 20, requires_grad=True)
        module = self.layer()
        return saved_bytes_for_backward(lambda: module(x)) / x.numel()

    def track_mlp_step_bytes(self, layer):
        model = leaky_relu_mlp(self.layer)
        x = self.torch.randn(512, 1024)
        return saved_bytes_for_backward(lambda: model(x), model.parameters())

    track_bytes_per_element.unit = "bytes"
    track_mlp_step_bytes.unit = "bytes"


class NetworkStep:
    """A training step (forward, backward) of an MLP (4 x Linear 1024,
    batch 512) and of pytorch/examples' DCGAN discriminator (batch 32,
    64x64), with leaky.torch.LeakyReLU or torch.nn.LeakyReLU, eager or
    compiled (inductor), out of place or in place."""

    params = (list(NETWORKS), ["leaky.torch", "torch"],
              ["eager", "eager, in place", "compiled", "compiled, in place"])
    param_names = ["network", "implementation", "mode"]
    timeout = 600

    def setup(self, name, impl, mode):
        try:
            import torch  # noqa: F401
        except ImportError:
            raise SkipNotImplemented("torch is not installed")
        self.model, self.x = network(name, impl, "in place" in mode, mode.startswith("compiled"))
        training_step(self.model, self.x)  # compile and warm up outside the timing

    def time_training_step(self, name, impl, mode):
        training_step(self.model, self.x)

    def track_saved_bytes(self, name, impl, mode):
        return saved_bytes_for_backward(lambda: self.model(self.x), self.model.parameters())

    track_saved_bytes.unit = "bytes"


class BiasAct:
    """StyleGAN's bias_act (lrelu, clamp 256) on a conv layer's output,
    (32, 256, 16, 16) float32, against its reference chain of torch ops:
    forward, forward + backward (y, dx, db), and a StyleGAN2-like
    discriminator step with R1 (``create_graph=True``); the bytes kept."""

    params = (["leaky.torch", "reference"],)
    param_names = ["implementation"]

    def setup(self, impl):
        try:
            import torch
        except ImportError:
            raise SkipNotImplemented("torch is not installed")
        self.op = bias_act_of(impl)
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(32, 256, 16, 16, generator=generator)
        self.b = torch.randn(256, generator=generator)
        self.leaves = (self.x.clone().requires_grad_(), self.b.clone().requires_grad_())
        self.grad = torch.randn(self.x.shape, generator=generator)
        self.discriminator = StyleGAN2Discriminator(self.op)
        self.images = torch.randn(16, 3, 32, 32, generator=generator)

    def time_forward(self, impl):
        self.op(self.x, self.b, act="lrelu", clamp=256)

    def time_forward_backward(self, impl):
        import torch
        torch.autograd.grad(self.op(*self.leaves, act="lrelu", clamp=256), self.leaves, self.grad)

    def time_discriminator_r1_step(self, impl):
        r1_step(self.discriminator, self.images)

    def track_saved_bytes(self, impl):
        return saved_bytes_for_backward(lambda: self.op(*self.leaves, act="lrelu", clamp=256))

    track_saved_bytes.unit = "bytes"


class CompiledBiasAct:
    """The StyleGAN2-like discriminator's step without R1 (what a compiled
    graph runs), its forward through ``torch.compile``: leaky's bias_act
    against the reference chain, both fused by inductor."""

    params = (["leaky.torch", "reference"],)
    param_names = ["implementation"]
    timeout = 300  # compiling takes a while

    def setup(self, impl):
        try:
            import torch
        except ImportError:
            raise SkipNotImplemented("torch is not installed")
        self.discriminator = StyleGAN2Discriminator(bias_act_of(impl), compiled=True)
        self.images = torch.randn(16, 3, 32, 32, generator=torch.Generator().manual_seed(0))
        discriminator_step(self.discriminator, self.images)  # compile outside the timing

    def time_discriminator_step(self, impl):
        discriminator_step(self.discriminator, self.images)
