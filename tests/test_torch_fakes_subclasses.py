"""leaky's torch activation on tensors without storage and through torch's
dispatch seams, each beside torch's own op run the same way: FakeTensorMode
and meta tensors give torch's shapes and dtypes and never reach a kernel of
ours (issue 24's modes included, in a fresh process where reading a fake's
data pointer is an error); a ``__torch_dispatch__`` subclass gives torch's
values; a TorchDispatchMode and a TorchFunctionMode see leaky's operators."""

import subprocess
import sys
import textwrap
import warnings

import pytest

torch = pytest.importorskip("torch")

import leaky  # noqa: E402
import leaky.torch  # noqa: E402
from leaky._backends import torch as torch_backend  # noqa: E402

from helpers import (MODULE_SLOPE, SLOPE, assert_same_signed,  # noqa: E402
                     needs_cpp_operators, ours_fn, ours_module, theirs_fn, theirs_module,
                     torch_float_dtypes, torch_x)

needs_operators = needs_cpp_operators()
ALL_DTYPES = torch_float_dtypes()


# ----------------------------------------------------------- fake and meta --

@needs_operators
def test_fake_tensors_and_meta_give_shapes_and_dtypes():
    from torch._subclasses.fake_tensor import FakeTensorMode
    with FakeTensorMode():
        x = torch.empty(3, 5, dtype=torch.bfloat16)
        y, bits = torch.ops.leaky.leaky_relu_packed(x, SLOPE)
        assert (y.shape, y.dtype, bits.shape, bits.dtype) == \
            ((3, 5), torch.bfloat16, (2,), torch.uint8)
        assert ours_fn(x).shape == (3, 5)
    meta = torch.empty(4, 6, device="meta", dtype=torch.int16)
    y = torch.ops.leaky.leaky_relu(meta, SLOPE)
    assert y.device.type == "meta" and y.dtype == torch.float32 == torch.sin(meta).dtype


# ------------------------------------------------ tensors without storage --

def _train_step(act, x):
    leaf = x.clone().requires_grad_()
    y = act(leaf)
    return y, torch.autograd.grad((y * 3).sum(), leaf)[0]


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("inplace", [False, True])
def test_fake_and_meta_tensors_give_torchs_shapes_and_never_reach_a_kernel(inplace, dtype):
    from torch._subclasses.fake_tensor import FakeTensorMode
    for make in (lambda: torch.empty(3, 5, dtype=dtype, device="meta"),):
        got, want = (_train_step(act(inplace), make()) for act in (ours_module, theirs_module))
        assert [(t.shape, t.dtype, t.device) for t in got] == \
            [(t.shape, t.dtype, t.device) for t in want]
    with FakeTensorMode():
        got, want = (_train_step(act(inplace), torch.empty(3, 5, dtype=dtype))
                     for act in (ours_module, theirs_module))
        assert [(t.shape, t.dtype) for t in got] == [(t.shape, t.dtype) for t in want]


def test_out_under_fake_tensors_reads_no_data_pointer():
    from torch._subclasses.fake_tensor import FakeTensorMode
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with FakeTensorMode():
            x, out = torch.empty(4, 3), torch.empty(4, 3)
            assert leaky.leaky_relu(x, MODULE_SLOPE, out=out) is out
            assert leaky.leaky_relu(x, MODULE_SLOPE, out=x) is x


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("inplace", [False, True])
def test_a_torch_dispatch_subclass_gives_torchs_values(inplace, dtype):
    from torch.testing._internal.two_tensor import TwoTensor
    a = torch.linspace(-2, 2, 7, dtype=dtype)
    got, want = (_train_step(act(inplace), TwoTensor(a.clone(), -a))
                 for act in (ours_module, theirs_module))
    for g, w in zip(got, want):
        assert_same_signed((g.a, g.b), (w.a, w.b))


MODES_UNDER_FAKE = textwrap.dedent("""
    import sys, warnings
    warnings.filterwarnings("error", message=".*data pointer.*")
    import torch, leaky.torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.testing._internal.two_tensor import TwoTensor
    sys.path.insert(0, "tests")
    import helpers

    def run(mode, act, how):
        if how == "fake":
            with FakeTensorMode():
                mode(act, torch.empty(2, 5, dtype=torch.float64))
        else:
            x = helpers.seeded_x(torch.float64)
            mode(act, TwoTensor(x, x.clone()))

    failures = []
    for name, mode in helpers.transform_modes().items():
        for inplace in (False, True):
            for how in ("fake", "subclass"):
                try:
                    run(mode, helpers.ours_module(inplace), how)
                except Exception as exc:
                    try:  # torch's own op must fail the same way, else it is ours
                        run(mode, helpers.theirs_module(inplace), how)
                        failures.append(f"{name} {how} inplace={inplace}: {exc!r}"[:300])
                    except Exception:
                        pass
    print(failures)
""")


@needs_operators
def test_the_mode_suite_under_fake_tensors_and_a_subclass_never_reads_a_data_pointer():
    """Fresh process: torch's "data pointer of FakeTensor" warning is an
    error there, so no leaky kernel may be handed a tensor without storage."""
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", MODES_UNDER_FAKE], cwd=root,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-3000:]


# ------------------------------------------------- dispatch and function modes --

@needs_operators
def test_dispatch_mode_sees_leakys_operators():
    from torch.utils._python_dispatch import TorchDispatchMode

    class Record(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.seen = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.seen.append(str(func))
            return func(*args, **(kwargs or {}))

    x = torch_x(torch.float64, 12).requires_grad_()
    with Record() as record:
        y = ours_fn(x)
        y.sum().backward()
    # leaky_relu under autograd is bias_act's plain case: its bits, its backward
    assert "leaky.bias_act_packed.default" in record.seen, record.seen
    assert "leaky.bias_act_backward.default" in record.seen
    assert_same_signed(y.detach(), theirs_fn(torch_x(torch.float64, 12)))


@needs_operators
def test_a_torch_function_mode_is_handed_the_operator():
    from torch.overrides import TorchFunctionMode
    seen = []

    class Record(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    with Record():
        leaky.torch.leaky_relu(torch.ones(3), MODULE_SLOPE)
    assert torch.ops.leaky.leaky_relu.default in seen, seen
