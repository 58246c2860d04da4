"""The torch backend: leaky as native torch operators.

Files by responsibility:

* ``csrc/leaky_ops.cpp`` -- the operators (``TORCH_LIBRARY``): CPU kernels
  through the ufuncs' kernel table, and one autograd rule;
* :mod:`._registrations` -- fake kernels, vmap rules, decompositions, and
  the CUDA kernels of :mod:`._cuda`;
* :mod:`._modes` -- what runs a call: the operators, unless a graph is
  being traced (then :mod:`._functions` over :mod:`._aten`);
* :mod:`._out` -- ``out=``, in place and the version counter.

Importing this module builds the operators on first use
(:mod:`leaky._torch_build`) and registers them: ``torch.ops.leaky.*``.
"""

import torch as _torch

from .._protocol import Capabilities

#: The oldest torch whose machinery leaky uses (``torch.library.register_fake``
#: and ``register_vmap``, ``torch.compiler.is_exporting``); pyproject.toml's
#: extras say the same.
OLDEST_TORCH = (2, 6)
if tuple(int(part) for part in _torch.__version__.split(".")[:2]) < OLDEST_TORCH:
    raise ImportError(f"leaky.torch needs torch>={'.'.join(map(str, OLDEST_TORCH))}, "
                      f"found torch {_torch.__version__}")

from ... import _torch_build  # noqa: E402
from . import _modes, _registrations  # noqa: E402

CAPABILITIES = Capabilities(library="torch", bias_act=True)

#: The operator library in use (:class:`leaky._torch_build.Library`).
LIBRARY = _torch_build.load()
if LIBRARY.kind == "C++":
    _registrations.register()
_modes.use_operators(LIBRARY.module)

from ._modes import bias_act, forward_inplace  # noqa: E402
from ._out import backward, forward, forward_packed, forward_with_mask  # noqa: E402

__all__ = ["CAPABILITIES", "LIBRARY", "OLDEST_TORCH", "backward", "bias_act", "forward",
           "forward_inplace", "forward_packed", "forward_with_mask"]
