"""The torch networks the benchmarks and ``ratios.py`` time, and the test
suite trains: MLP, DCGAN discriminator, a StyleGAN2-shaped discriminator with
R1, StyleGAN's ``bias_act`` reference, and the saved-bytes count.

Needs torch, not asv: ``tests/`` import it from a plain test environment.
"""


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
    StyleGAN's networks look up ``bias_act.bias_act``.  ``compiled``: its
    forward through ``torch.compile`` (inductor)."""

    def __init__(self, bias_act, channels=(32, 64, 64, 128), resolution=32, seed=0,
                 compiled=False):
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
        self.forward = torch.compile(self.logits) if compiled else self.logits

    def __call__(self, images):
        return self.forward(images)

    def logits(self, images):
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
    return _backward(discriminator, loss)


def discriminator_step(discriminator, images):
    """One discriminator step on real images without R1: what a compiled
    graph runs (``torch.compile`` refuses a double backward)."""
    import torch.nn.functional as F

    return _backward(discriminator, F.softplus(-discriminator(images)).mean())


def _backward(discriminator, loss):
    """The loss's backward, and the parameters' gradients dropped again."""
    loss.backward()
    for p in discriminator.parameters:
        p.grad = None
    return loss.detach()
