"""PyTorch backend: leaky as native torch operators.

Three layers, from the inside out:

1. **Kernels on plain tensors** (``_compute_forward``, ``_compute_backward``):
   CPU tensors go zero-copy to the Cython kernels through NumPy views
   (bfloat16 through ``ml_dtypes``); CUDA tensors to the CuPy kernels through
   DLPack, on torch's current stream, or to torch's own ops without CuPy.
   An output NumPy cannot write in place (a negative-bit or copy-on-write
   tensor) is computed into a fresh tensor and copied with ``copy_``.
2. **Registered operators** (``torch.ops.leaky.*``, ``torch.library``):
   ``leaky_relu``, ``leaky_relu_with_mask``, ``leaky_relu_backward`` and the
   in-place ``leaky_relu_``, with fake implementations, autograd that saves
   only the mask, and vmap rules.  ``torch.compile``, ``torch.export``,
   ``opcheck`` and functorch's transforms see these.
3. **The eager path** (``forward``, ``forward_with_mask``, ``backward``,
   ``forward_inplace``): ``torch.autograd.Function``\\ s with the same math
   (``jvp`` for forward-mode AD, ``vmap`` rules, double backward), which call
   the kernels directly for plain eager tensors, because a registered
   operator costs about 10 µs a call in eager mode, and call the registered
   operators otherwise (under ``torch.compile``, ``torch.export``, functorch
   transforms and dispatch modes).

The eager autograd path (``_LeakyReLU``, ``_LeakyReLUInplace``) and, under
``torch.compile``, the ``leaky_relu_packed`` operator save the mask packed,
one bit an element: 1/32 of the float32 input torch's own LeakyReLU keeps.
functorch's Functions (transforms, forward-mode AD) keep the bool mask.

In-place writes made outside torch (the kernels write through NumPy) bump
the tensor's version counter with ``torch.autograd.graph.increment_version``,
so autograd notices them as it notices torch's own in-place ops.
"""

import numpy as np
import torch

from . import _contract
from . import ufuncs
from ._cpu import kernels as _kernels

__all__ = ["backward", "forward", "forward_fast", "forward_inplace", "forward_packed",
           "forward_with_mask"]

_NUMPY_DTYPES = {torch.float16: np.float16, torch.float32: np.float32,
                 torch.float64: np.float64, torch.bool: np.bool_, torch.int8: np.int8,
                 torch.uint8: np.uint8, torch.int16: np.int16, torch.int32: np.int32,
                 torch.int64: np.int64}
_FAST_DTYPES = frozenset((torch.float16, torch.float32, torch.float64))
_is_functorch_wrapped = torch._C._functorch.is_functorch_wrapped_tensor
_is_cow = torch._C._is_cow_tensor


# ------------------------------------------------------------- the contract --

def _checked(t, what="x"):
    """Refuse what leaky cannot compute correctly, naming it."""
    if t.is_nested:
        raise TypeError(f"leaky_relu got a nested tensor as {what}: only dense tensors "
                        "are supported")
    if t.layout is not torch.strided:
        raise TypeError(f"leaky_relu got {what} with layout {t.layout}: only dense "
                        "(torch.strided) tensors are supported")
    if t.is_quantized:
        raise TypeError(f"leaky_relu got {what} with quantized dtype {t.dtype}: "
                        "dequantize it first")
    return t


def _result_dtype(t, slope=0.0, what="x"):
    """Floats keep their dtype; bool and integers promote as ``torch.sin``
    does, to torch's default float dtype."""
    default = _contract.dtype_name(torch.get_default_dtype())
    return getattr(torch, _contract.checked_result_name(t.dtype, slope, what, default))


def _records_grad(*tensors):
    """Whether autograd (reverse or forward mode) must see this call."""
    return (torch.is_grad_enabled() and any(t.requires_grad for t in tensors)) \
        or torch.autograd.forward_ad._current_level >= 0


_dispatch_modes_active = torch._C._len_torch_dispatch_stack


def _direct(*tensors):
    """Plain eager tensors: the kernels may run on them directly."""
    if torch.compiler.is_compiling() or _dispatch_modes_active():
        return False
    for t in tensors:
        if type(t) is not torch.Tensor or _is_functorch_wrapped(t):
            return False
    return True


# ---------------------------------------------------------------- kernels --

def _bfloat16():
    try:
        import ml_dtypes
    except ImportError:
        return None
    return np.dtype(ml_dtypes.bfloat16)


def _readable(t):
    """A NumPy view of a CPU tensor's values, or None."""
    t = t.detach()
    if t.is_neg() or t.is_conj():
        t = t.resolve_neg().resolve_conj()
    if t.dtype is torch.bfloat16:
        bf16 = _bfloat16()
        return None if bf16 is None else t.view(torch.int16).numpy().view(bf16)
    return t.numpy() if t.dtype in _NUMPY_DTYPES else None


def _writable(t):
    """A NumPy view the kernels may write into, or None."""
    if t.is_neg() or t.is_conj() or _is_cow(t):
        return None
    return _readable(t)


def _new_output(like, dtype):
    """A new tensor laid out like ``like``.  On the CPU NumPy allocates it
    (``torch.from_numpy`` shares the memory): NumPy's allocator asks the
    kernel for huge pages on large arrays, which saves page faults."""
    if dtype in _NUMPY_DTYPES and like.is_cpu and like.layout is torch.strided:
        prototype = _readable(like)
        if prototype is not None:
            return torch.from_numpy(np.empty_like(prototype, dtype=_NUMPY_DTYPES[dtype]))
    return torch.empty_like(like, dtype=dtype)


def _cupy_backend_for(*tensors):
    """The CuPy backend if these CUDA tensors can use it, else None."""
    if not all(t.is_cuda and t.dtype in _FAST_DTYPES | {torch.bool, torch.uint8}
               for t in tensors):
        return None
    try:
        from . import _cupy_backend
    except ImportError:
        return None
    return _cupy_backend


def _on_torch_stream(func, *tensors, **kwargs):
    """Run ``func`` on CuPy views of ``tensors``, on torch's current stream."""
    import cupy
    stream = torch.cuda.current_stream(tensors[0].device)
    with cupy.cuda.Device(tensors[0].device.index), \
            cupy.cuda.ExternalStream(stream.cuda_stream):
        func(*(cupy.from_dlpack(t.detach()) for t in tensors), **kwargs)


def _via_fresh(compute, outputs):
    """Run ``compute`` on fresh outputs, then ``copy_`` them into ``outputs``."""
    fresh = [_new_output(o, o.dtype) for o in outputs]
    compute(*fresh)
    for o, f in zip(outputs, fresh):
        o.copy_(f)


def _compute_forward(x, slope, y, mask=None):
    """Write Leaky ReLU of ``x`` into ``y`` (and ``x > 0`` into ``mask``)."""
    outputs = (y,) if mask is None else (y, mask)
    if x.is_cpu:
        views = [_writable(o) for o in outputs]
        source = _readable(x)
        if source is not None and all(v is not None for v in views):
            if mask is None:
                ufuncs.leaky_relu(source, slope, out=views[0])
            else:
                ufuncs.leaky_relu_with_mask(source, slope, out=tuple(views))
            return
        if source is not None and all(_readable(o) is not None for o in outputs):
            _via_fresh(lambda *fresh: _compute_forward(x, slope, *fresh), outputs)
            return
    gpu = _cupy_backend_for(x, *outputs)
    if gpu is not None:
        kernel = gpu.compute_forward if mask is None else gpu.compute_forward_with_mask
        _on_torch_stream(kernel, x, *outputs, slope=slope)
        return
    source = x.detach().to(y.dtype)
    result = torch.nn.functional.leaky_relu(source, slope)
    if mask is not None:
        mask.copy_(source > 0)
    y.copy_(result)


def _compute_backward(grad, mask, slope, grad_in):
    """Write ``grad if mask else grad * slope`` into ``grad_in``."""
    if grad.is_cpu:
        source, bits, target = _readable(grad), _readable(mask), _writable(grad_in)
        if source is not None and bits is not None and target is not None:
            ufuncs.leaky_relu_backward(source, bits, slope, out=target)
            return
    gpu = _cupy_backend_for(grad, mask, grad_in)
    if gpu is not None:
        _on_torch_stream(gpu.compute_backward, grad, mask, grad_in, slope=slope)
        return
    source = grad.detach().to(grad_in.dtype)
    # aten's backward keeps grad where its second operand is > 0: the mask.
    grad_in.copy_(torch.ops.aten.leaky_relu_backward(source, mask.to(source.dtype), slope, False))


def _plain_numpy(t):
    """A NumPy view of a dense CPU float tensor the C fast paths may take."""
    if t.dtype in _FAST_DTYPES and t.is_cpu and not t.is_neg():
        return t.detach().numpy()
    return None


def _fresh_forward(x, slope):
    plain = _plain_numpy(x)
    if plain is not None:
        y = _kernels.forward_fast(plain, slope, None)
        if y is not None:
            return torch.from_numpy(y)
    y = _new_output(x, _result_dtype(x))
    _compute_forward(x, slope, y)
    return y


def _fresh_forward_with_mask(x, slope):
    plain = _plain_numpy(x)
    if plain is not None:
        pair = _kernels.forward_mask_fast(plain, slope)
        if pair is not None:
            return torch.from_numpy(pair[0]), torch.from_numpy(pair[1])
    y, mask = _new_output(x, _result_dtype(x)), _new_output(x, torch.bool)
    _compute_forward(x, slope, y, mask)
    return y, mask


def _pack(mask):
    """A bool tensor's bits, 8 to a byte in C order (little bit order):
    NumPy's ``packbits`` for eager CPU tensors, torch ops otherwise (CUDA,
    and under ``torch.compile``, which traces them; the generic array-API
    packing would go through array_api_compat, which makes Dynamo warn)."""
    if mask.is_cpu and _direct(mask):
        bits = np.packbits(mask.detach().numpy(), axis=None, bitorder="little")
        return torch.from_numpy(bits)
    flat = mask.detach().reshape(-1).to(torch.uint8)
    flat = torch.nn.functional.pad(flat, (0, -flat.numel() % 8))
    weights = torch.tensor(_contract.BIT_WEIGHTS, dtype=torch.uint8, device=mask.device)
    return (flat.view(-1, 8) * weights).sum(1, dtype=torch.uint8)


def _unpack(bits, shape):
    """Packed bits as a bool tensor of ``shape`` (the inverse of :func:`_pack`)."""
    size = int(np.prod(shape))
    if bits.is_cpu and _direct(bits):
        mask = np.unpackbits(bits.detach().numpy(), count=size, bitorder="little")
        return torch.from_numpy(mask.view(bool).reshape(shape))
    weights = torch.tensor(_contract.BIT_WEIGHTS, dtype=torch.uint8, device=bits.device)
    every = (bits.detach().reshape(-1, 1) & weights) != 0
    return every.reshape(-1)[:size].reshape(shape)


def _fresh_forward_packed(x, slope):
    """``(y, bits)``: the CPU kernels' fused packed forward for plain
    C-contiguous tensors, the CuPy ballot kernel for CUDA ones; else the
    forward with a bool mask, packed."""
    plain = _plain_numpy(x)
    if plain is not None:
        pair = _kernels.forward_bits_fast(plain, slope, None, None)
        if pair is not None:
            return torch.from_numpy(pair[0]), torch.from_numpy(pair[1])
    _result_dtype(x, _contract.validate_slope(slope))  # as the C fast path checks
    gpu = _cupy_backend_for(x)
    if gpu is not None:
        x = x.contiguous()
        y = torch.empty_like(x, dtype=_result_dtype(x))
        bits = torch.empty(_contract.packed_size(x.numel()), dtype=torch.uint8, device=x.device)
        _on_torch_stream(gpu.compute_forward_packed, x, y, bits, slope=slope)
        return y, bits
    y, mask = _fresh_forward_with_mask(x, slope)
    return y, _pack(mask)


def _inplace_packed(x, slope):
    """Leaky ReLU written into ``x``; returns the bits of ``x > 0``."""
    view = _writable(x) if x.is_cpu else None
    if view is not None:
        pair = _kernels.forward_bits_fast(view, slope, view, None)
        if pair is not None:
            return torch.from_numpy(pair[1])
    bits = _pack(x.detach() > 0)
    _compute_forward(x, slope, x)
    return bits


def _fresh_backward(grad, mask, slope):
    """``grad if mask else grad * slope``; ``mask`` bool, or packed bits."""
    plain = _plain_numpy(grad)
    if mask.dtype is torch.uint8:
        if plain is not None and mask.is_cpu:
            grad_in = _kernels.backward_bits_fast(plain, mask.detach().numpy(), slope, None)
            if grad_in is not None:
                return torch.from_numpy(grad_in)
        gpu = _cupy_backend_for(grad, mask)
        if gpu is not None:
            grad_in = torch.empty(grad.shape, dtype=_result_dtype(grad, what="grad_output"),
                                  device=grad.device)
            _on_torch_stream(gpu.compute_backward_packed, grad.contiguous(), mask, grad_in,
                             slope=slope)
            return grad_in
        mask = _unpack(mask, grad.shape)
    if plain is not None and mask.is_cpu and mask.dtype is torch.bool:
        grad_in = _kernels.backward_fast(plain, mask.numpy(), slope)
        if grad_in is not None:
            return torch.from_numpy(grad_in)
    grad_in = _new_output(grad, _result_dtype(grad, what="grad_output"))
    _compute_backward(grad, mask, slope, grad_in)
    return grad_in


# ---------------------------------------------------- registered operators --

@torch.library.custom_op("leaky::leaky_relu", mutates_args=())
def _op_forward(x: torch.Tensor, negative_slope: float) -> torch.Tensor:
    """``x if x > 0 else negative_slope * x``."""
    return _fresh_forward(x, negative_slope)


@torch.library.custom_op("leaky::leaky_relu_with_mask", mutates_args=())
def _op_forward_with_mask(x: torch.Tensor, negative_slope: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Leaky ReLU and its gradient mask ``x > 0``."""
    return _fresh_forward_with_mask(x, negative_slope)


@torch.library.custom_op("leaky::leaky_relu_packed", mutates_args=())
def _op_forward_packed(x: torch.Tensor, negative_slope: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Leaky ReLU and its gradient mask packed, one bit per element (uint8
    of ``ceil(x.numel() / 8)``, C order, little bit order)."""
    return _fresh_forward_packed(x, negative_slope)


@torch.library.custom_op("leaky::leaky_relu_backward", mutates_args=())
def _op_backward(grad_output: torch.Tensor, mask: torch.Tensor,
                 negative_slope: float) -> torch.Tensor:
    """``grad_output if mask else grad_output * negative_slope``."""
    return _fresh_backward(grad_output, mask, negative_slope)


@torch.library.custom_op("leaky::leaky_relu_", mutates_args=("x",))
def _op_forward_inplace(x: torch.Tensor, negative_slope: float) -> None:
    """Leaky ReLU of ``x``, written into ``x``."""
    _compute_forward(x, negative_slope, x)


@_op_forward.register_fake
def _(x, negative_slope):
    return torch.empty_like(x, dtype=_result_dtype(x))


@_op_forward_with_mask.register_fake
def _(x, negative_slope):
    return torch.empty_like(x, dtype=_result_dtype(x)), torch.empty_like(x, dtype=torch.bool)


@_op_forward_packed.register_fake
def _(x, negative_slope):
    return (torch.empty_like(x, dtype=_result_dtype(x)),
            x.new_empty(((x.numel() + 7) // 8,), dtype=torch.uint8))


@_op_backward.register_fake
def _(grad_output, mask, negative_slope):
    return torch.empty_like(grad_output, dtype=_result_dtype(grad_output, what="grad_output"))


@_op_forward_inplace.register_fake
def _(x, negative_slope):
    return None


def _save_mask(ctx, inputs, mask):
    """Keep the mask, the slope (every op's last input) and the input count."""
    ctx.save_for_backward(mask)
    ctx.slope = inputs[-1]
    ctx.n_inputs = len(inputs)


def _op_forward_setup(ctx, inputs, output):
    _save_mask(ctx, inputs, inputs[0] > 0)  # the op returns no mask: make the 1-byte one


def _op_forward_with_mask_setup(ctx, inputs, output):
    ctx.mark_non_differentiable(output[1])
    _save_mask(ctx, inputs, output[1])


def _op_backward_setup(ctx, inputs, output):
    _save_mask(ctx, inputs, inputs[1])


def _op_grad(ctx, grad, *unused):
    """Every op's gradient is the backward op on the saved mask (linear in grad)."""
    (mask,) = ctx.saved_tensors
    return (_op_backward(grad, mask, ctx.slope),) + (None,) * (ctx.n_inputs - 1)


_op_forward.register_autograd(_op_grad, setup_context=_op_forward_setup)
_op_forward_with_mask.register_autograd(_op_grad, setup_context=_op_forward_with_mask_setup)
_op_forward_packed.register_autograd(_op_grad, setup_context=_op_forward_with_mask_setup)
_op_backward.register_autograd(_op_grad, setup_context=_op_backward_setup)


def _batch_first(t, dim, size):
    """``t`` with its vmap batch dimension first (broadcast if it has none)."""
    return t.movedim(dim, 0) if dim is not None else t.expand(size, *t.shape)


def _vmap_forward(info, in_dims, x, negative_slope):
    return _op_forward(x, negative_slope), in_dims[0]


def _vmap_forward_with_mask(info, in_dims, x, negative_slope):
    return _op_forward_with_mask(x, negative_slope), (in_dims[0], in_dims[0])


def _vmap_forward_packed(info, in_dims, x, negative_slope):
    """Each sample packs its own bits: ``(batch, ceil(sample size / 8))``."""
    x = x.movedim(in_dims[0], 0)
    y, mask = _op_forward_with_mask(x, negative_slope)
    rows = mask.reshape(x.shape[0], -1)
    return (y, torch.stack([_pack(row) for row in rows.unbind(0)])), (0, 0)


def _batched_operands(info, in_dims, grad, mask):
    """``grad`` and a bool ``mask`` with the vmap batch dimension first.
    Packed bits are each sample's own (``leaky_relu_with_mask(...,
    packed=True)`` under vmap packs sample by sample): unpacked per sample;
    unbatched bits serve every sample."""
    grad = _batch_first(grad, in_dims[0], info.batch_size)
    if mask.dtype is torch.uint8:
        sample = tuple(grad.shape[1:])
        if in_dims[1] is None:
            mask = _unpack(mask, sample).expand(info.batch_size, *sample)
        else:
            rows = mask.movedim(in_dims[1], 0).reshape(info.batch_size, -1)
            mask = torch.stack([_unpack(row, sample) for row in rows.unbind(0)])
        return grad, mask
    return grad, _batch_first(mask, in_dims[1], info.batch_size)


def _vmap_backward(info, in_dims, grad_output, mask, negative_slope):
    grad_output, mask = _batched_operands(info, in_dims, grad_output, mask)
    return _op_backward(grad_output, mask, negative_slope), 0


_op_forward.register_vmap(_vmap_forward)
_op_forward_with_mask.register_vmap(_vmap_forward_with_mask)
_op_forward_packed.register_vmap(_vmap_forward_packed)
_op_backward.register_vmap(_vmap_backward)


# ------------------------------------------------------------- eager path --

def _forward_with_mask_values(x, slope):
    if _direct(x):
        return _fresh_forward_with_mask(x, slope)
    return torch.ops.leaky.leaky_relu_with_mask(x, slope)


def _backward_values(grad, mask, slope):
    if _direct(grad, mask):
        return _fresh_backward(grad, mask, slope)
    return torch.ops.leaky.leaky_relu_backward(grad, mask, slope)


class _LeakyReLUTraceable(torch.autograd.Function):
    """Forward returns ``(y, mask)`` and saves only the 1-byte mask; with
    ``setup_context``, ``jvp`` and ``vmap``, so functorch's transforms and
    forward-mode AD can use it."""

    @staticmethod
    def forward(x, slope):
        return _forward_with_mask_values(x, slope)

    @staticmethod
    def setup_context(ctx, inputs, output):
        mask = output[1]
        ctx.set_materialize_grads(False)  # no zeros for the mask's gradient
        ctx.mark_non_differentiable(mask)
        ctx.save_for_backward(mask)
        ctx.save_for_forward(mask)
        ctx.slope = inputs[1]

    @staticmethod
    def backward(ctx, grad_y, grad_mask):
        if grad_y is None:
            return None, None
        (mask,) = ctx.saved_tensors
        return _differentiable_backward(grad_y, mask, ctx.slope), None

    @staticmethod
    def jvp(ctx, x_tangent, slope_tangent):
        if x_tangent is None:
            return None, None
        (mask,) = ctx.saved_tensors
        return _backward_values(x_tangent, mask, ctx.slope), None

    @staticmethod
    def vmap(info, in_dims, x, slope):
        return _LeakyReLUTraceable.apply(x, slope), (in_dims[0], in_dims[0])


class _LeakyReLUGradTraceable(torch.autograd.Function):
    """``grad if mask else grad * slope``: linear in ``grad``, so its own
    gradient is the same function (double backward)."""

    @staticmethod
    def forward(grad, mask, slope):
        return _backward_values(grad, mask, slope)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[1])
        ctx.save_for_forward(inputs[1])
        ctx.slope = inputs[2]

    @staticmethod
    def backward(ctx, grad_grad_in):
        (mask,) = ctx.saved_tensors
        return _differentiable_backward(grad_grad_in, mask, ctx.slope), None, None

    @staticmethod
    def jvp(ctx, grad_tangent, mask_tangent, slope_tangent):
        (mask,) = ctx.saved_tensors
        return _backward_values(grad_tangent, mask, ctx.slope)

    @staticmethod
    def vmap(info, in_dims, grad, mask, slope):
        grad, mask = _batched_operands(info, in_dims, grad, mask)
        return _LeakyReLUGradTraceable.apply(grad, mask, slope), 0


def _differentiable_backward(grad, mask, slope):
    if torch.compiler.is_compiling():
        return torch.ops.leaky.leaky_relu_backward(grad, mask, slope)  # autograd registered
    return _autograd_function(grad, mask)[1].apply(grad, mask, slope)


def _keep_mask(ctx, mask, slope):
    """What an eager forward keeps for backward: the mask and the slope."""
    ctx.set_materialize_grads(False)  # no zeros for the mask's gradient
    ctx.mark_non_differentiable(mask)
    ctx.save_for_backward(mask)
    ctx.slope = slope


class _LeakyReLUWithMask(torch.autograd.Function):
    """:class:`_LeakyReLUTraceable` for plain eager tensors, in the older
    ``forward(ctx, ...)`` style: its ``apply`` costs about 4 µs, against 15 µs
    for a Function with ``setup_context`` (which functorch's transforms
    need)."""

    @staticmethod
    def forward(ctx, x, slope):
        y, mask = _fresh_forward_with_mask(x, slope)
        _keep_mask(ctx, mask, slope)
        return y, mask

    @staticmethod
    def backward(ctx, grad_y, grad_mask):
        if grad_y is None:
            return None, None
        (mask,) = ctx.saved_tensors
        return _gradient(grad_y, mask, ctx.slope), None


class _LeakyReLU(torch.autograd.Function):
    """The eager forward: returns ``y`` and saves the mask packed, one bit
    an element (through ``save_for_backward``, so saved-tensor hooks see
    it).  One output is cheaper for the autograd engine than two."""

    @staticmethod
    def forward(ctx, x, slope):
        y, bits = _fresh_forward_packed(x, slope)
        ctx.save_for_backward(bits)
        ctx.slope = slope
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (bits,) = ctx.saved_tensors
        return _gradient(grad_y, bits, ctx.slope), None


class _LeakyReLUPacked(_LeakyReLUWithMask):
    """``leaky_relu_with_mask(x, packed=True)`` under autograd: ``(y, bits)``,
    the bits saved for backward and not differentiable.  Backward as
    :class:`_LeakyReLUWithMask`'s."""

    @staticmethod
    def forward(ctx, x, slope):
        y, bits = _fresh_forward_packed(x, slope)
        _keep_mask(ctx, bits, slope)
        return y, bits


def _gradient(grad, mask, slope):
    """The input gradient inside a backward pass: a plain computation when
    that pass builds no graph (no ``create_graph``), else differentiable."""
    if not torch.is_grad_enabled() and _direct(grad, mask):
        return _fresh_backward(grad, mask, slope)
    return _differentiable_backward(grad, mask, slope)


class _LeakyReLUGrad(torch.autograd.Function):
    """:class:`_LeakyReLUGradTraceable` for plain eager tensors (older style)."""

    @staticmethod
    def forward(ctx, grad, mask, slope):
        ctx.save_for_backward(mask)
        ctx.slope = slope
        return _fresh_backward(grad, mask, slope)

    @staticmethod
    def backward(ctx, grad_grad_in):
        (mask,) = ctx.saved_tensors
        return _differentiable_backward(grad_grad_in, mask, ctx.slope), None, None


def _autograd_function(*tensors):
    """The Function for these tensors: the cheap eager one, or the one that
    functorch's transforms and forward-mode AD can use."""
    if _direct(*tensors) and torch.autograd.forward_ad._current_level < 0:
        return _LeakyReLUWithMask, _LeakyReLUGrad
    return _LeakyReLUTraceable, _LeakyReLUGradTraceable


class _LeakyReLUInplace(_LeakyReLU):
    """In place under autograd, for plain eager tensors: the packed mask is
    saved, so any finite slope works (torch refuses slopes <= 0 here,
    because it recovers the sign from the output).  Backward as
    :class:`_LeakyReLU`'s."""

    @staticmethod
    def forward(ctx, x, slope):
        bits = _inplace_packed(x, slope)
        ctx.mark_dirty(x)
        ctx.save_for_backward(bits)
        ctx.slope = slope
        return x


# ------------------------------------------------------------ entry points --

def forward_fast(x, slope):
    """The plainest calls, through the kernels' C fast paths, which also
    check the slope (finite, fitting the dtype): a dense CPU float tensor,
    eager, outside forward-mode AD.  With autograd recording, the eager
    Function that saves the packed mask.  None for anything else.  The
    checks are :func:`_direct`'s, inlined: this path is all overhead."""
    if (type(x) is not torch.Tensor or x.dtype not in _FAST_DTYPES
            or torch.compiler.is_compiling() or _dispatch_modes_active()
            or _is_functorch_wrapped(x) or not x.is_cpu or x.layout is not torch.strided
            or x.is_nested or x.is_neg() or torch.autograd.forward_ad._current_level >= 0):
        return None
    if x.requires_grad:
        if torch.is_grad_enabled():
            return _LeakyReLU.apply(x, slope)
        x = x.detach()
    y = _kernels.forward_fast(x.numpy(), slope, None)
    return None if y is None else torch.from_numpy(y)


def _refuse_out_under_autograd(*tensors):
    if _records_grad(*tensors):
        raise RuntimeError(
            "leaky_relu(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad (use the "
            "returned tensor, or inplace=True / out=x)")


def _is_same_tensor_view(a, b):
    return a is b or (a.data_ptr() == b.data_ptr() and a.shape == b.shape
                      and a.stride() == b.stride() and a.dtype == b.dtype
                      and a.device == b.device)


def _write_into(out, x, slope, name):
    """Forward into a given ``out`` (not ``x``) without autograd."""
    _contract.check_out(out, x.shape, _result_dtype(x, slope), name, torch.Tensor)
    _refuse_out_under_autograd(x, out)
    if _direct(x, out):
        _compute_forward(x, slope, out)
        torch.autograd.graph.increment_version(out)
    else:
        out.copy_(torch.ops.leaky.leaky_relu(x, slope))
    return out


def forward(x, slope, out=None):
    if out is None:
        y = forward_fast(x, slope)
        if y is not None:
            return y
    _checked(x)
    _result_dtype(x, slope)
    out = _contract.split_single_out(out)
    if out is not None:
        if isinstance(out, torch.Tensor) and _is_same_tensor_view(out, x):
            return forward_inplace(x, slope)
        return _write_into(out, x, slope, "out")
    if torch.compiler.is_compiling():  # Dynamo: the registered ops, with their autograd
        if _records_grad(x):  # the packed op saves one bit per element
            return torch.ops.leaky.leaky_relu_packed(x, slope)[0]
        return torch.ops.leaky.leaky_relu(x, slope)
    if _records_grad(x):
        function = _autograd_function(x)[0]
        if function is _LeakyReLUWithMask:  # plain eager: save packed bits
            return _LeakyReLU.apply(x, slope)
        return function.apply(x, slope)[0]
    if _direct(x):
        return _fresh_forward(x, slope)
    return torch.ops.leaky.leaky_relu(x, slope)


def forward_inplace(x, slope):
    """Leaky ReLU written into ``x``; returns ``x``."""
    _checked(x)
    if _result_dtype(x, slope) != x.dtype:
        raise TypeError(f"leaky_relu in place needs a floating tensor, got {x.dtype}: "
                        f"the result is {_result_dtype(x, slope)}")
    if not _direct(x) or (_records_grad(x) and torch.autograd.forward_ad._current_level >= 0):
        # Traced (compile, export, transforms) or forward-mode AD: the
        # out-of-place forward and torch's own copy_, which autograd and
        # functionalization both understand.
        return x.copy_(forward(x, slope))
    if _records_grad(x):
        _LeakyReLUInplace.apply(x, slope)
        return x
    _compute_forward(x, slope, x)
    torch.autograd.graph.increment_version(x)
    return x


def forward_with_mask(x, slope, out=None):
    _checked(x)
    dtype = _result_dtype(x, slope)
    y_out, mask_out = _contract.split_out_pair(out)
    if y_out is None and mask_out is None:
        if _records_grad(x) and not torch.compiler.is_compiling():
            return _autograd_function(x)[0].apply(x, slope)
        return _forward_with_mask_values(x, slope)
    _refuse_out_under_autograd(x, *(o for o in (y_out, mask_out) if o is not None))
    y = _new_output(x, dtype) if y_out is None else \
        _contract.check_out(y_out, x.shape, dtype, "out[0]", torch.Tensor)
    mask = _new_output(x, torch.bool) if mask_out is None else \
        _contract.check_out(mask_out, x.shape, torch.bool, "out[1]", torch.Tensor)
    if _direct(x, y, mask):
        _compute_forward(x, slope, y, mask)
        for given in (y_out, mask_out):
            if given is not None:
                torch.autograd.graph.increment_version(given)
    else:
        y_new, mask_new = torch.ops.leaky.leaky_relu_with_mask(x, slope)
        y.copy_(y_new)
        mask.copy_(mask_new)
    return y, mask


def forward_packed(x, slope, out=None):
    """Leaky ReLU and the bits of ``x > 0`` (uint8, C order, same device)."""
    _checked(x)
    dtype = _result_dtype(x, slope)
    y_out, bits_out = _contract.split_out_pair(out)
    if y_out is None and bits_out is None:
        if _records_grad(x):
            if _autograd_function(x)[0] is _LeakyReLUWithMask:  # plain eager tensors
                return _LeakyReLUPacked.apply(x, slope)
            if torch.compiler.is_compiling():  # the registered op, saving the bits
                return torch.ops.leaky.leaky_relu_packed(x, slope)
            y, mask = forward_with_mask(x, slope)  # functorch, forward AD: the bool mask...
            return y, _pack(mask)                   # ...packed outside autograd
        if _direct(x):
            return _fresh_forward_packed(x, slope)
        return torch.ops.leaky.leaky_relu_packed(x, slope)
    _refuse_out_under_autograd(x, *(o for o in (y_out, bits_out) if o is not None))
    if y_out is not None:
        _contract.check_out(y_out, x.shape, dtype, "out[0]", torch.Tensor)
    if bits_out is not None:
        _contract.check_out(bits_out, (_contract.packed_size(x.numel()),), torch.uint8,
                            "out[1]", torch.Tensor)
    y, bits = forward_packed(x, slope)
    for given, result in ((y_out, y), (bits_out, bits)):
        if given is not None:
            given.copy_(result)  # torch's copy_ bumps the version counter
    return (y if y_out is None else y_out), (bits if bits_out is None else bits_out)


def backward(grad, mask, slope, out=None):
    _checked(grad, "grad_output")
    dtype = _result_dtype(grad, slope, "grad_output")
    _contract.check_mask(mask, grad.shape)
    out = _contract.split_single_out(out)
    if out is None:
        if _records_grad(grad):
            return _differentiable_backward(grad, mask, slope)
        return _backward_values(grad, mask, slope)
    _contract.check_out(out, grad.shape, dtype, "out", torch.Tensor)
    _refuse_out_under_autograd(grad, out)
    if mask.dtype is torch.uint8:
        mask = _unpack(mask, grad.shape)
    if _direct(grad, mask, out):
        _compute_backward(grad, mask, slope, out)
        torch.autograd.graph.increment_version(out)
    else:
        out.copy_(torch.ops.leaky.leaky_relu_backward(grad, mask, slope))
    return out
