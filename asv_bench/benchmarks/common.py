"""Shared pieces of the benchmark suite: data, layouts and peers.

Every implementation is a ``Peer``: a name and, per operation, a callable
built in ``setup`` (so the timed function does only the work).  A peer that
is not installed, or that has no such operation, raises
``SkipNotImplemented`` (scipy's ``benchmarks/common.py`` pattern).
"""

import numpy as np

try:
    from asv_runner.benchmarks.mark import SkipNotImplemented
except ImportError:  # older asv
    from asv.benchmark import SkipNotImplemented  # noqa: F401

SLOPE = 0.01
DTYPES = ("float16", "float32", "float64")
LAYOUTS = ("contiguous", "strided", "F-order")
OPERATIONS = ("forward", "forward_out", "forward_mask", "backward")
IMPLEMENTATIONS = ("leaky", "np.maximum", "np.where", "np.copyto", "torch", "jax.jit")


_INPUTS = {}  # one benchmark process runs every parameter: make each input once


def _values(n, dtype, seed):
    """``n`` values, half of them negative (uniform on [-1, 1): cheap to make)."""
    rng = np.random.default_rng(seed)
    return (2 * rng.random(n, dtype=np.float32) - 1).astype(dtype)


def make_input(n, dtype, layout, seed=0):
    """``n`` elements of ``dtype`` in the given memory layout."""
    key = (n, dtype, layout, seed)
    if key not in _INPUTS:
        if layout == "contiguous":
            x = _values(n, dtype, seed)
        elif layout == "strided":
            x = _values(2 * n, dtype, seed)[::2]
        elif layout == "F-order":
            rows = 2 if n >= 2 else 1
            x = np.asfortranarray(_values(n, dtype, seed).reshape(rows, n // rows))
        else:
            raise ValueError(layout)
        if len(_INPUTS) >= 4:  # an input and its gradient, and the previous pair
            _INPUTS.clear()
        _INPUTS[key] = x
    return _INPUTS[key]


def _leaky(x, grad, mask):
    import leaky
    y = np.empty_like(x)
    return {
        "forward": lambda: leaky.leaky_relu(x, SLOPE),
        "forward_out": lambda: leaky.leaky_relu(x, SLOPE, out=y),
        "forward_mask": lambda: leaky.leaky_relu_with_mask(x, SLOPE),
        "backward": lambda: leaky.leaky_relu_backward(grad, mask, SLOPE),
    }


def _np_maximum(x, grad, mask):
    y = np.empty_like(x)
    return {
        "forward": lambda: np.maximum(x, SLOPE * x),
        "forward_out": lambda: np.maximum(x, SLOPE * x, out=y),
        "forward_mask": lambda: (np.maximum(x, SLOPE * x), x > 0),
        "backward": lambda: np.where(mask, grad, SLOPE * grad),
    }


def _np_where(x, grad, mask):
    return {
        "forward": lambda: np.where(x > 0, x, SLOPE * x),
        "forward_mask": lambda: (np.where(x > 0, x, SLOPE * x), x > 0),
        "backward": lambda: np.where(mask, grad, SLOPE * grad),
    }


def _np_copyto(x, grad, mask):
    """The physical limit: one read and one write per element."""
    y = np.empty_like(x)
    return {"forward": lambda: x.copy(order="K"), "forward_out": lambda: np.copyto(y, x)}


def _torch(x, grad, mask):
    try:
        import torch
    except ImportError:
        raise SkipNotImplemented("torch is not installed")
    F = torch.nn.functional
    xt, gt = torch.from_numpy(x), torch.from_numpy(grad)  # the same memory and strides
    yt = torch.empty_like(xt)
    return {
        "forward": lambda: F.leaky_relu(xt, SLOPE),
        "forward_out": lambda: torch._C._nn.leaky_relu(xt, SLOPE, out=yt),
        "forward_mask": lambda: (F.leaky_relu(xt, SLOPE), xt > 0),
        "backward": lambda: torch.ops.aten.leaky_relu_backward(gt, xt, SLOPE, False),
    }


def _jax(x, grad, mask):
    try:
        import jax
    except ImportError:
        raise SkipNotImplemented("jax is not installed")
    jax.config.update("jax_enable_x64", True)
    f = jax.jit(lambda a: jax.nn.leaky_relu(a, SLOPE))
    xj = jax.device_put(x)
    f(xj).block_until_ready()  # compile outside the timing
    return {"forward": lambda: f(xj).block_until_ready()}


PEERS = {"leaky": _leaky, "np.maximum": _np_maximum, "np.where": _np_where,
         "np.copyto": _np_copyto, "torch": _torch, "jax.jit": _jax}


def operations(impl, x):
    """name -> callable for ``impl`` on input ``x``."""
    grad = np.ascontiguousarray(make_input(x.size, x.dtype, "contiguous", seed=1).reshape(x.shape))
    mask = np.ascontiguousarray(x) > 0
    return PEERS[impl](x, grad, mask)


def pick(ops, operation):
    try:
        return ops[operation]
    except KeyError:
        raise SkipNotImplemented(f"no {operation}") from None


def saved_bytes_for_backward(run, parameters=()):
    """Bytes autograd keeps for backward while ``run()`` builds a graph,
    read off ``torch.autograd.graph.saved_tensors_hooks``: each storage
    once, and not the storages of ``parameters`` (a Linear saves a
    transposed view of its weight).  ``run`` returns the output, kept alive
    until the count is done."""
    import torch

    storages = {}
    params = {p.untyped_storage().data_ptr() for p in parameters}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            storages[storage.data_ptr()] = storage.nbytes()
        return t

    # Called where a compiled graph saves its tensors: not to be traced.
    pack = torch.compiler.disable(pack)
    with torch.autograd.graph.saved_tensors_hooks(pack, torch.compiler.disable(lambda t: t)):
        out = run()
    del out
    return sum(storages.values())


def leaky_relu_mlp(layer, width=1024, depth=4, seed=0):
    """``depth`` blocks of Linear(width, width) and ``layer()``, float32."""
    import torch

    torch.manual_seed(seed)
    blocks = []
    for _ in range(depth):
        blocks += [torch.nn.Linear(width, width), layer()]
    return torch.nn.Sequential(*blocks)


def dcgan_discriminator(layer, seed=0):
    """pytorch/examples' DCGAN discriminator (ndf 64, 3 channels, 64x64
    images), with ``layer()`` for each of its four LeakyReLU(0.2)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    ndf = 64
    return nn.Sequential(
        nn.Conv2d(3, ndf, 4, 2, 1, bias=False), layer(),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), layer(),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), layer(),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), layer(),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())


#: The networks measured end to end: name -> (build(layer), input shape, slope).
NETWORKS = {
    "MLP": (leaky_relu_mlp, (512, 1024), 0.01),
    "DCGAN-D": (dcgan_discriminator, (32, 3, 64, 64), 0.2),
}


def network(name, implementation, inplace, compiled, channels_last=False):
    """``(model, input)``: the network with leaky's or torch's LeakyReLU,
    eager or compiled (inductor), its model and input channels-last if
    asked (a convolutional network's faster layout on CPUs)."""
    import torch

    build, shape, slope = NETWORKS[name]
    if implementation == "leaky.torch":
        import leaky.torch
        cls = leaky.torch.LeakyReLU
    else:
        cls = torch.nn.LeakyReLU
    model = build(lambda: cls(slope, inplace=inplace))
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    if channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
    if compiled:
        model = torch.compile(model, backend="inductor")
    return model, x


def training_step(model, x):
    """Forward, backward, and the parameters' gradients dropped again."""
    model(x).sum().backward()
    for p in model.parameters():
        p.grad = None


def bias_act_reference(x, b=None, dim=1, act="linear", alpha=None, gain=None, clamp=None,
                       impl="ref"):
    """StyleGAN's reference path of ``bias_act`` in torch's own ops: x + b,
    the activation, ``* gain`` when gain != 1, the clamp when clamp >= 0."""
    import math

    import torch.nn.functional as F

    alpha = float(alpha if alpha is not None else (0.2 if act == "lrelu" else 0.0))
    gain = float(gain if gain is not None else (1.0 if act == "linear" else math.sqrt(2)))
    clamp = float(clamp if clamp is not None else -1)
    if b is not None:
        x = x + b.reshape([-1 if i == dim else 1 for i in range(x.ndim)])
    if act == "lrelu":
        x = F.leaky_relu(x, alpha)
    elif act == "relu":
        x = F.relu(x)
    if gain != 1:
        x = x * gain
    if clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


def bias_act_of(implementation):
    """``leaky.torch.bias_act``, or the reference for ``"reference"``."""
    if implementation == "reference":
        return bias_act_reference
    import leaky.torch
    return leaky.torch.bias_act


class StyleGAN2Discriminator:
    """A discriminator in StyleGAN2's shape, of our own writing: residual
    blocks of 3x3 convolutions at half resolution each, weights scaled at
    run time (equalized learning rate), every conv's bias added by
    ``bias_act(..., act='lrelu', clamp=256)`` as StyleGAN's ``Conv2dLayer``
    does, then a dense head.  ``bias_act`` is looked up on each call, as
    StyleGAN's networks look up ``bias_act.bias_act``."""

    def __init__(self, bias_act, channels=(32, 64, 64, 128), resolution=32, seed=0):
        import torch

        generator = torch.Generator().manual_seed(seed)
        self.bias_act = bias_act
        self.layers = []
        previous = 3
        for c in channels:
            self.layers.append((torch.randn(c, previous, 3, 3, generator=generator),
                                torch.zeros(c)))
            previous = c
        final = resolution // 2 ** (len(channels) - 1)
        self.head = (torch.randn(1, previous * final * final, generator=generator), torch.zeros(1))
        self.parameters = [t for layer in self.layers + [self.head] for t in layer]
        for p in self.parameters:
            p.requires_grad_()

    def __call__(self, images):
        import math

        import torch.nn.functional as F

        x = images
        for k, (weight, bias) in enumerate(self.layers):
            stride = 1 if k == 0 else 2
            x = F.conv2d(x, weight * (1 / math.sqrt(weight[0].numel())), stride=stride,
                         padding=1)
            x = self.bias_act(x, bias, act="lrelu", clamp=256)
        weight, bias = self.head
        x = x.flatten(1) @ (weight * (1 / math.sqrt(weight.shape[1]))).t()
        return self.bias_act(x, bias, act="linear")


def r1_step(discriminator, images, gamma=10.0):
    """One discriminator step on real images with StyleGAN's R1 penalty:
    the gradient of the logits with respect to the images, kept in the
    graph (``create_graph=True``), squared, summed, and differentiated again."""
    import torch
    import torch.nn.functional as F

    images = images.detach().requires_grad_()
    logits = discriminator(images)
    (grads,) = torch.autograd.grad(logits.sum(), images, create_graph=True)
    penalty = grads.square().sum([1, 2, 3])
    loss = (F.softplus(-logits).squeeze(1) + penalty * (gamma / 2)).mean()
    loss.backward()
    for p in discriminator.parameters:
        p.grad = None
    return loss.detach()
