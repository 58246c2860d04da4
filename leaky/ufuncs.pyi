# Type stubs: leaky's three NumPy ufuncs (leaky/ufuncs.py).
import numpy as np

leaky_relu: np.ufunc
leaky_relu_with_mask: np.ufunc
leaky_relu_backward: np.ufunc

__all__ = ["leaky_relu", "leaky_relu_backward", "leaky_relu_with_mask"]
