"""The public functions: the kernels' fast paths, then validate, route and
call the backend.

Each fast path is tried here, once, for a plain NumPy call (an ndarray, a
float slope, no ufunc keywords); the kernels return None for anything that
is not plain, and the call goes the general way.  A backend never tries
them again.
"""

import numpy as np

from . import _backends
from . import _bias_act
from . import _contract
from . import _packing
from ._cpu import kernels as _kernels
from ._contract import DEFAULT_SLOPE

__all__ = ["bias_act", "leaky_relu", "leaky_relu_with_mask", "leaky_relu_backward"]


_NO_KEYWORDS = {}


def _ufunc_keywords(where, casting, order, dtype, subok):
    """The NumPy ufunc keywords a call sets to other than NumPy's defaults.

    Returns an empty dict (shared: never modify it) in the common case."""
    if (where is True and dtype is None and subok is True
            and casting == "same_kind" and order == "K"):
        return _NO_KEYWORDS
    keywords = {}
    if where is not True:
        keywords["where"] = where
    if casting != "same_kind":
        keywords["casting"] = casting
    if order != "K":
        keywords["order"] = order
    if dtype is not None:
        keywords["dtype"] = dtype
    if subok is not True:
        keywords["subok"] = subok
    return keywords


def _refuse_ufunc_keywords(keywords, array):
    """NumPy's ufunc keywords mean nothing to other array libraries."""
    if keywords:
        names = ", ".join(f"{key}=" for key in keywords)
        library = _contract.library_name(array)
        raise TypeError(
            f"{names} only apply to NumPy arrays and objects that implement "
            f"__array_ufunc__, not to {library} arrays ({type(array).__name__})")


def _backend(x, keywords, slope, out=None, backend=None):
    """The backend for ``x``, after refusing what its capabilities lack:
    NumPy's ufunc keywords, ``out=``, a traced slope."""
    backend = _backends.backend_for(x) if backend is None else backend
    if not keywords and out is None and type(slope) is float:
        return backend  # the common call needs no capability
    capabilities = backend.CAPABILITIES
    if keywords and not capabilities.ufunc_keywords:
        _refuse_ufunc_keywords(keywords, x)
    if out is not None and not capabilities.out:
        _backends.refuse(capabilities, "out")
    if type(slope) is not float and not capabilities.traced_slope:
        _backends.refuse(capabilities, "traced_slope", _contract.describe_array(x))
    return backend


def _packing_backend(x, keywords, slope, out=None, backend=None):
    """:func:`_backend` for a call with packed bits, which it must support."""
    backend = _backend(x, keywords, slope, out, backend)
    if not backend.CAPABILITIES.packed:
        _backends.refuse(backend.CAPABILITIES, "packed")
    return backend


def leaky_relu(x, /, negative_slope=DEFAULT_SLOPE, *, out=None, where=True,
               casting="same_kind", order="K", dtype=None, subok=True):
    r"""Leaky ReLU, elementwise: ``x if x > 0 else negative_slope * x``.

    .. math::

        \operatorname{leaky\_relu}(x) =
        \begin{cases} x & x > 0 \\ s\,x & \text{otherwise} \end{cases}

    This is a select, not ``max(x, s * x)``: it is right for every finite
    slope, including negative slopes and slopes above one, and it propagates
    NaN.  Results are bit-identical to PyTorch's
    ``torch.nn.functional.leaky_relu`` on the CPU.

    Parameters
    ----------
    x : array_like
        Input.  float16, float32 and float64 keep their dtype; bool and
        integer inputs promote like a NumPy float ufunc (``np.sin(x).dtype``).
    negative_slope : float, optional
        Slope for ``x <= 0``; any finite real number.  Default 0.01.  It is
        cast to the precision ``x`` is computed in and never upcasts ``x``.
    out : ndarray or tuple of one ndarray, optional
        Where to write the result, with NumPy's rules: writeable, of the
        result's shape, and the result is cast into it under ``casting``.
        ``out=x`` computes in place; any other overlap with ``x``, even an
        ``out`` that overlaps itself, is handled as if ``x`` had been read
        first.
    where, casting, order, dtype, subok : optional
        NumPy's ufunc keywords, with NumPy's meaning (:doc:`/ufuncs`).  They
        apply to NumPy arrays and to objects that implement
        ``__array_ufunc__``; other array libraries refuse them
        (``TypeError``).

    Returns
    -------
    y : ndarray or scalar
        The result, laid out like ``x`` (``order='K'``); ``out`` itself if
        given; a NumPy scalar if ``x`` is a scalar or 0-d.

    Raises
    ------
    TypeError
        If ``x`` has a dtype outside the contract (complex, object, string,
        float8, longdouble, ...; the message names it); if
        ``negative_slope`` is not a real number; if the result cannot be
        cast into ``out`` under ``casting``; if ufunc keywords are given for
        an array library other than NumPy.
    ValueError
        If ``negative_slope`` is NaN, infinite or an array with dimensions,
        or ``out`` has the wrong shape or is read-only.

    See Also
    --------
    leaky_relu_with_mask : The same, also returning the gradient mask.
    leaky_relu_backward : The gradient, from that mask.

    Notes
    -----
    float32 and float64 are computed in their own precision.  float16 is
    computed in float32 and rounded once, as PyTorch does.  Signed zeros
    follow from the select: ``-0.0`` maps to ``-0.0 * s``.

    Examples
    --------
    >>> import numpy as np
    >>> import leaky
    >>> leaky.leaky_relu(np.array([-2.0, -0.5, 0.0, 3.0]))
    array([-0.02 , -0.005,  0.   ,  3.   ])
    >>> leaky.leaky_relu(np.array([-2.0, 3.0], dtype=np.float32), 0.2).dtype
    dtype('float32')
    >>> leaky.leaky_relu(-4, negative_slope=-0.5)  # slopes < 0 are fine
    np.float64(2.0)
    """
    keywords = _ufunc_keywords(where, casting, order, dtype, subok)
    if type(x) is np.ndarray and type(negative_slope) is float and not keywords:
        y = _kernels.forward_fast(x, negative_slope, out)  # None: not a plain case
        if y is not None:
            return y
    slope = _contract.validate_slope(negative_slope, allow_traced=True)
    backend = _backend(x, keywords, slope, out)
    if keywords:
        return backend.forward(x, slope, out, **keywords)
    return backend.forward(x, slope, out)  # no empty ** (0.05 µs of a 10-element call)


def leaky_relu_with_mask(x, /, negative_slope=DEFAULT_SLOPE, *, out=None, packed=False,
                         where=True, casting="same_kind", order="K", dtype=None, subok=True):
    """Leaky ReLU and its gradient mask ``x > 0``, in one pass.

    The mask is all the backward pass needs: one byte per element instead of
    the saved input, or one bit with ``packed=True`` (32 times less than a
    saved float32 input).

    Parameters
    ----------
    x : array_like
        Input, as for :func:`leaky_relu`.
    negative_slope : float, optional
        Slope for ``x <= 0``; any finite real number.  Default 0.01.
    out : tuple of (ndarray or None, ndarray or None), optional
        ``(y_out, mask_out)``.  Either may be ``None`` to allocate it.
        ``mask_out`` must be a bool array of ``x``'s shape; with
        ``packed=True``, a uint8 array of shape ``(ceil(x.size / 8),)``.
    packed : bool, optional
        Return the mask packed, one bit per element: a uint8 array of shape
        ``(ceil(x.size / 8),)`` of the same array library and device, where
        bit ``i % 8`` of byte ``i // 8`` is ``x > 0`` for element ``i`` in C
        (row-major) order, whatever the layout of ``x``.  It equals
        ``np.packbits((x > 0).ravel(), bitorder="little")``; the unused bits
        of the last byte are 0.  :func:`leaky_relu_backward` takes it.
        Default False.  Dask arrays refuse it (``TypeError``).
    where, casting, order, dtype, subok : optional
        NumPy's ufunc keywords, with NumPy's meaning (:doc:`/ufuncs`).  They
        apply to NumPy arrays and to objects that implement
        ``__array_ufunc__``; other array libraries refuse them
        (``TypeError``), and so does ``packed=True``.

    Returns
    -------
    y : ndarray or scalar
        ``leaky_relu(x, negative_slope)``.
    mask : ndarray of bool or bool scalar, or ndarray of uint8
        ``x > 0``: False for NaN and for both zeros.  Packed bits with
        ``packed=True``.

    Raises
    ------
    TypeError, ValueError
        As :func:`leaky_relu`; also if ``out`` is not a 2-tuple, or its
        second array is not what the mask needs.

    See Also
    --------
    leaky_relu_backward : Turns the mask into the input gradient.

    Examples
    --------
    >>> import numpy as np
    >>> import leaky
    >>> y, mask = leaky.leaky_relu_with_mask(np.array([-1.0, 0.0, 2.0]))
    >>> y
    array([-0.01,  0.  ,  2.  ])
    >>> mask
    array([False, False,  True])
    >>> y, bits = leaky.leaky_relu_with_mask(np.array([-1.0, 0.0, 2.0]), packed=True)
    >>> bits  # element 2 is positive: bit 2 of byte 0
    array([4], dtype=uint8)
    """
    keywords = _ufunc_keywords(where, casting, order, dtype, subok)
    if packed is not False:
        return _forward_packed(x, negative_slope, out, packed, keywords)
    if type(x) is np.ndarray and type(negative_slope) is float and out is None \
            and not keywords:
        pair = _kernels.forward_mask_fast(x, negative_slope)  # None: not a plain case
        if pair is not None:
            return pair
    slope = _contract.validate_slope(negative_slope, allow_traced=True)
    return _backend(x, keywords, slope, out).forward_with_mask(x, slope, out, **keywords)


def _forward_packed(x, negative_slope, out, packed, keywords):
    if packed is not True and not isinstance(packed, np.bool_):
        raise TypeError(f"packed must be True or False, got {type(packed).__name__}: {packed!r}")
    if not packed:
        return leaky_relu_with_mask(x, negative_slope, out=out, **keywords)
    if keywords:
        raise TypeError(f"packed=True does not take NumPy's ufunc keywords "
                        f"({', '.join(f'{key}=' for key in keywords)})")
    if type(x) is np.ndarray and type(negative_slope) is float:
        pair = None
        if out is None:
            pair = _kernels.forward_bits_fast(x, negative_slope, None, None)
        elif type(out) is tuple and len(out) == 2:
            pair = _kernels.forward_bits_fast(x, negative_slope, out[0], out[1])
        if pair is not None:  # None: not a plain case
            return pair
    slope = _contract.validate_slope(negative_slope, allow_traced=True)
    return _packing_backend(x, keywords, slope, out).forward_packed(x, slope, out)


def leaky_relu_backward(grad_output, mask, /, negative_slope=DEFAULT_SLOPE, *, out=None,
                        where=True, casting="same_kind", order="K", dtype=None,
                        subok=True):
    """Gradient of Leaky ReLU: ``grad_output if mask else grad_output * s``.

    With ``mask = x > 0`` from :func:`leaky_relu_with_mask`, this is the
    gradient with respect to ``x``.  At ``x == 0`` the derivative is taken to
    be ``negative_slope``, as in PyTorch and TensorFlow.  Bit-identical to
    ``torch.ops.aten.leaky_relu_backward(grad, x, s, False)``.

    Parameters
    ----------
    grad_output : array_like
        Gradient of the loss with respect to the forward output.
    mask : array_like of bool, or of uint8
        ``x > 0``, of ``grad_output``'s shape; or packed bits from
        ``leaky_relu_with_mask(..., packed=True)``, told apart by dtype: a
        uint8 mask must have exactly ``ceil(grad_output.size / 8)``
        elements.  Both give the same bits.
    negative_slope : float, optional
        The slope used in the forward pass.  Default 0.01.
    out : ndarray, optional
        Where to write the result, as for :func:`leaky_relu`;
        ``out=grad_output`` works in place.
    where, casting, order, dtype, subok : optional
        NumPy's ufunc keywords, with NumPy's meaning (:doc:`/ufuncs`).  They
        apply to NumPy arrays and to objects that implement
        ``__array_ufunc__``; other array libraries refuse them
        (``TypeError``).

    Returns
    -------
    grad_input : ndarray or scalar
        Of ``grad_output``'s dtype (float16 is computed in float32).

    Raises
    ------
    TypeError
        If ``mask`` is neither bool nor uint8, or as for :func:`leaky_relu`.
    ValueError
        If a bool ``mask`` and ``grad_output`` differ in shape, if packed
        bits are not ``ceil(grad_output.size / 8)`` bytes, or as for
        :func:`leaky_relu`.

    Examples
    --------
    >>> import numpy as np
    >>> import leaky
    >>> x = np.array([-1.0, 0.0, 2.0])
    >>> _, mask = leaky.leaky_relu_with_mask(x, 0.1)
    >>> leaky.leaky_relu_backward(np.ones(3), mask, 0.1)
    array([0.1, 0.1, 1. ])
    >>> _, bits = leaky.leaky_relu_with_mask(x, 0.1, packed=True)
    >>> leaky.leaky_relu_backward(np.ones(3), bits, 0.1)
    array([0.1, 0.1, 1. ])
    """
    keywords = _ufunc_keywords(where, casting, order, dtype, subok)
    if type(grad_output) is np.ndarray and type(negative_slope) is float and not keywords:
        grad_in = None
        if out is None:
            grad_in = _kernels.backward_fast(grad_output, mask, negative_slope)
        if grad_in is None and type(mask) is np.ndarray:  # packed bits?
            grad_in = _kernels.backward_bits_fast(grad_output, mask, negative_slope, out)
        if grad_in is not None:  # None: not a plain case
            return grad_in
    slope = _contract.validate_slope(negative_slope, allow_traced=True)
    backend = _backends.backend_for_pair(grad_output, mask)
    choose = _packing_backend if _packing.is_packed(mask) else _backend
    backend = choose(grad_output, keywords, slope, out, backend)
    return backend.backward(grad_output, mask, slope, out, **keywords)


def bias_act(x, b=None, dim=1, act="linear", alpha=None, gain=None, clamp=None):
    r"""StyleGAN's fused bias + activation + gain + clamp, in one pass:
    ``clamp(gain * act(x + b), -clamp, clamp)``.

    StyleGAN2-ADA's and StyleGAN3's ``torch_utils.ops.bias_act.bias_act``
    (its reference path's bits; float16 and bfloat16 computed in float32
    and rounded once, as its CUDA kernel does).  Torch tensors go to
    :func:`leaky.torch.bias_act`, the drop-in (:doc:`/bias_act`).

    Parameters
    ----------
    x : array_like
        Input: a NumPy array (or anything NumPy reads), a torch tensor, or
        an array of an array-API library (JAX, array-api-strict).  bool and
        integers promote as ``sin`` does.
    b : array, optional
        Bias: one value per index of ``x`` along ``dim`` (shape
        ``(x.shape[dim],)``), of ``x``'s dtype and library.  Default: none.
    dim : int, optional
        The dimension ``b`` runs along.  Default 1 (channels of NCHW).
    act : {'linear', 'relu', 'lrelu'}, optional
        The activation.  Default ``'linear'``.
    alpha : float, optional
        ``lrelu``'s negative slope.  Default 0.2 for ``lrelu`` (ignored by
        the others).
    gain : float, optional
        Multiplies the activation when it is not 1.  Default ``sqrt(2)``
        for ``relu`` and ``lrelu``, 1 for ``linear``.
    clamp : float, optional
        Clamps the result to ``[-clamp, clamp]``; None or a negative value:
        no clamp.  Default None.

    Returns
    -------
    array
        Of ``x``'s library and dtype (the promoted one for bool and
        integers), ``x``'s shape.

    Raises
    ------
    ValueError
        For an unknown ``act`` (the message lists the three), a NaN or
        infinite ``alpha``, ``gain`` or ``clamp``, a ``dim`` out of range,
        or a ``b`` of the wrong shape.
    TypeError
        For a ``b`` of another dtype or library, or an array library that
        has no bias_act (the message names it).

    Examples
    --------
    >>> import numpy as np
    >>> import leaky
    >>> x = np.array([[-2.0, 3.0], [1.0, -4.0]], dtype=np.float32)
    >>> leaky.bias_act(x, np.array([1.0, 0.0], np.float32), dim=0, act="lrelu",
    ...                gain=1.0, clamp=2.5)
    array([[-0.2,  2.5],
           [ 1. , -0.8]], dtype=float32)
    """
    spec = _bias_act.resolve(act, alpha, gain, clamp)
    backend = _backends.backend_for(x)
    if not backend.CAPABILITIES.bias_act:
        _backends.refuse(backend.CAPABILITIES, "bias_act")
    if b is not None and _backends.backend_for(b) is not backend:
        raise TypeError(f"b is {_contract.describe_array(b)} but x is "
                        f"{_contract.describe_array(x)}: both must come from the same array "
                        "library")
    return backend.bias_act(x, b, _bias_act.check_dim(np.ndim(x), dim), spec)
