"""The torch backend: leaky as native torch operators.

Files by responsibility:

* ``csrc/leaky_ops.cpp`` -- the operators in C++ (``TORCH_LIBRARY``): CPU
  kernels through the ufuncs' kernel table, autograd nodes that save the
  packed bits, and direct bindings for plain eager calls;
* :mod:`._loader` -- builds the C++ library on first use into a versioned
  cache, or falls back to :mod:`._python_ops` (same schemas) and says why;
* :mod:`._registrations` -- fake kernels, vmap rules, CUDA kernels;
* :mod:`._aten` -- the operators as aten ops: the decomposition;
* :mod:`._functions` -- the two autograd Functions (``torch.func``,
  forward-mode AD, ``torch.compile``);
* :mod:`._routes` -- the route table: for each mode, what runs;
* :mod:`._out` -- ``out=``, in place and the version counter;
* :mod:`._tensor_kernels` -- the kernels on tensors from Python (the Python
  operators, CUDA).

Importing this module loads and registers the operators
``torch.ops.leaky.leaky_relu``, ``leaky_relu_with_mask``,
``leaky_relu_packed``, ``leaky_relu_backward`` and ``leaky_relu_``.
"""

import torch as _torch

from .._protocol import Capabilities

#: The oldest torch whose machinery leaky uses (``torch.library.custom_op``
#: and ``register_vmap``, ``torch.compiler.is_exporting``); pyproject.toml's
#: extras say the same.
OLDEST_TORCH = (2, 6)
if tuple(int(part) for part in _torch.__version__.split(".")[:2]) < OLDEST_TORCH:
    raise ImportError(f"leaky.torch needs torch>={'.'.join(map(str, OLDEST_TORCH))}, "
                      f"found torch {_torch.__version__}")

from . import _loader, _registrations, _routes  # noqa: E402

CAPABILITIES = Capabilities(library="torch")

#: The operator library in use (:class:`._loader.Library`).
LIBRARY = _loader.load()
_registrations.register(cuda_kernels=LIBRARY.kind == "C++")
_routes.bind(LIBRARY)

from ._out import backward, forward, forward_packed, forward_with_mask  # noqa: E402
from ._routes import forward_inplace  # noqa: E402

__all__ = ["CAPABILITIES", "LIBRARY", "OLDEST_TORCH", "backward", "forward", "forward_inplace", "forward_packed",
           "forward_with_mask"]
