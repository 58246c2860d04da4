"""CPU benchmarks: leaky against NumPy, the copy baseline, torch and JAX.

asv runs every parameter combination in a fresh process, so instead of one
full product of size x dtype x layout x implementation (864 processes),
each class varies the parameters that matter for its question.  Every class
has one ``time_`` method per operation; a peer without that operation, or
not installed, raises ``SkipNotImplemented``.  ``np.copyto`` is the physical
limit (one read, one write per element).
"""

from .common import DTYPES, IMPLEMENTATIONS, LAYOUTS, make_input, operations, pick


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
