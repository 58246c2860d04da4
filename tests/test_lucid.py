"""Lucid: tensors through the dispatcher on both devices, Lucid's own
autograd with only the packed bits kept, the drop-in layer and function,
a zoo model swapped, training, and clear errors.

Lucid 2.x needs Python >= 3.14; CI runs this file there (``.ci/python314``).
"""

import math
import warnings

import numpy as np
import pytest

lucid = pytest.importorskip("lucid", reason="Lucid 2.x (lucid-dl<3) needs Python >= 3.14")
warnings.filterwarnings("ignore", message=".*Metal GPU acceleration is not supported")

import lucid.nn  # noqa: E402
import lucid.nn.functional as F  # noqa: E402
import lucid.optim as lucid_optim  # noqa: E402
import mlx.core as mx  # noqa: E402

import leaky  # noqa: E402
import leaky.lucid  # noqa: E402
from helpers import SLOPES, assert_same_bits, special_values  # noqa: E402

DEVICES = ("cpu", "gpu")


def _tensor(values, device="cpu", requires_grad=False):
    return lucid.Tensor(np.asarray(values), requires_grad=requires_grad, device=device)


def _numpy(value):
    data = value.data if isinstance(value, lucid.Tensor) else value
    return np.array(data)


@pytest.mark.parametrize("device", DEVICES)
def test_the_issues_reproduction_gives_tensors_and_lucids_gradients(device):
    """It raised IndexError: tuple index out of range."""
    x = lucid.Tensor([-1.0, 0.0, 2.0], requires_grad=True, device=device)
    y = leaky.leaky_relu(x, 0.1)
    assert isinstance(y, lucid.Tensor) and y.device == device and y.requires_grad
    dtype = _numpy(x).dtype  # float64 on "cpu"; MLX makes float32 of it on "gpu"
    assert_same_bits(_numpy(y), np.array([-0.1, 0.0, 2.0], dtype=dtype))
    y.backward()
    assert_same_bits(_numpy(x.grad), np.array([0.1, 0.1, 1.0], dtype=dtype))  # slope at 0


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("slope", SLOPES)
def test_values_have_the_numpy_kernels_bits(device, dtype, slope):
    x = np.concatenate([special_values(dtype),
                        np.random.default_rng(0).standard_normal(500).astype(dtype)])
    t = _tensor(x, device)  # MLX makes float32 of float64 NumPy data on "gpu"
    got = leaky.leaky_relu(t, slope)
    assert got.device == device
    assert_same_bits(_numpy(got), leaky.leaky_relu(_numpy(t), slope))


@pytest.mark.parametrize("device", DEVICES)
def test_infinities_stay_right_where_lucids_own_gives_nan(device):
    x = _tensor(np.array([np.inf, -np.inf], dtype=np.float32), device)
    np.testing.assert_array_equal(_numpy(leaky.lucid.leaky_relu(x, 0.1)), [np.inf, -np.inf])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("slope", [0.01, 0.2, 0.0, -0.5, 1.5])
def test_gradients_are_lucids_own_bit_for_bit(device, slope):
    rng = np.random.default_rng(1)
    x = np.concatenate([[0.0, -0.0, 1.0, -1.0], rng.standard_normal(300)]).astype(np.float32)
    weights = rng.standard_normal(x.size).astype(np.float32)
    grads = []
    for function in (leaky.lucid.leaky_relu, F.leaky_relu):
        t = _tensor(x, device, requires_grad=True)
        (function(t, slope) * _tensor(weights, device)).sum().backward()
        grads.append(_numpy(t.grad))
    assert_same_bits(grads[0], grads[1])


@pytest.mark.parametrize("device", DEVICES)
def test_only_the_packed_bits_are_kept_for_the_backward(device):
    x = _tensor(np.linspace(-1, 1, 1000, dtype=np.float32), device, requires_grad=True)
    y = leaky.leaky_relu(x, 0.1)
    saved = y._op._saved
    assert _numpy(saved).dtype == np.uint8 and _numpy(saved).shape == (125,)
    no_grad = leaky.leaky_relu(_tensor(np.ones(8, dtype=np.float32), device), 0.1)
    assert not no_grad.requires_grad


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("packed", [False, True])
def test_masks_and_backward_are_tensors_on_the_device(device, packed):
    x = np.array([-1.0, 0.0, 2.0, -0.0, 3.0], dtype=np.float32)
    y, mask = leaky.leaky_relu_with_mask(_tensor(x, device), 0.5, packed=packed)
    assert isinstance(mask, lucid.Tensor) and mask.device == device
    keep = x > 0
    # Lucid has no uint8: the packed bytes come as int8
    want = np.packbits(keep, bitorder="little").view(np.int8) if packed else keep
    np.testing.assert_array_equal(_numpy(mask), want)
    grad = _tensor(np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype=np.float32), device)
    got = leaky.leaky_relu_backward(grad, mask, 0.5)
    assert isinstance(got, lucid.Tensor) and got.device == device
    np.testing.assert_array_equal(_numpy(got), [0.5, 1.0, 3.0, 2.0, 5.0])


def test_with_mask_joins_the_graph_too():
    x = _tensor(np.array([-2.0, 2.0]), requires_grad=True)
    y, _ = leaky.leaky_relu_with_mask(x, 0.25, packed=True)
    y.sum().backward()
    np.testing.assert_array_equal(_numpy(x.grad), [0.25, 1.0])


def test_refusals_are_clear():
    x = _tensor(np.ones(2))
    with pytest.raises(TypeError, match="out= is not supported for Lucid"):
        leaky.leaky_relu(x, out=_tensor(np.ones(2)))
    with pytest.raises(TypeError, match="on cpu but mask is .* on gpu"):
        leaky.leaky_relu_backward(x, _tensor(np.array([True, False]), "gpu"))
    with pytest.raises(TypeError, match="lucid.*numpy|numpy.*lucid"):
        leaky.leaky_relu_backward(x, np.array([True, False]))
    with pytest.raises(TypeError, match="takes a lucid.Tensor, got ndarray"):
        leaky.lucid.leaky_relu(np.ones(2))
    with pytest.raises(ValueError, match="finite"):
        leaky.lucid.leaky_relu(x, math.inf)


def test_layer_is_a_drop_in_for_lucids():
    ours, theirs = leaky.lucid.LeakyReLU(0.2), lucid.nn.LeakyReLU(0.2)
    assert isinstance(ours, lucid.nn.LeakyReLU)
    assert repr(ours) == repr(theirs) == "LeakyReLU(negative_slope=0.2)"
    assert ours.state_dict() == theirs.state_dict()
    assert repr(leaky.lucid.LeakyReLU()) == repr(lucid.nn.LeakyReLU())
    x = _tensor(np.array([-3.0, 0.5]))
    np.testing.assert_array_equal(_numpy(ours(x)), _numpy(theirs(x)))


def _swap_leaky_relus(model):
    """Every lucid.nn.LeakyReLU of ``model`` replaced by leaky's; how many."""
    count = 0
    for module in model.modules():
        for name, child in list(module._modules.items()):
            if type(child) is lucid.nn.LeakyReLU:
                module._modules[name] = leaky.lucid.LeakyReLU(child.negative_slope)
                count += 1
    return count


def _outputs_and_gradients(model, x):
    """(Lucid's autograd fails on ``o * o``: the same tensor twice.)"""
    x = _tensor(x, requires_grad=True)
    out = model(x)
    outs = out if isinstance(out, (list, tuple)) else (out,)
    rng = np.random.default_rng(2)
    total = None
    for o in outs:
        term = (o * _tensor(rng.standard_normal(o.shape).astype(np.float32))).sum()
        total = term if total is None else total + term
    total.backward()
    grads = [None if p.grad is None else _numpy(p.grad) for p in model.parameters()]
    return [_numpy(o) for o in outs], grads, _numpy(x.grad)


def test_a_zoo_yolo_swapped_gives_the_same_bits():
    from lucid.models.vision.yolo.yolo_v3 import yolo_v3_tiny

    lucid.random.seed(0)
    model = yolo_v3_tiny(num_classes=3, image_size=64)
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)
    theirs = _outputs_and_gradients(model, x)
    for parameter in model.parameters():
        parameter.grad = None
    assert _swap_leaky_relus(model) > 0
    ours = _outputs_and_gradients(model, x)
    for got, want in zip(ours[0] + ours[1] + [ours[2]], theirs[0] + theirs[1] + [theirs[2]]):
        if want is None:  # a parameter the loss does not reach
            assert got is None
        else:
            assert_same_bits(got, want)


def _trained_parameters(layer, steps=5):
    lucid.random.seed(0)
    model = lucid.nn.Sequential(lucid.nn.Linear(6, 16), layer(0.1), lucid.nn.Linear(16, 1))
    optimizer = lucid_optim.SGD(model.parameters(), lr=0.05)
    rng = np.random.default_rng(0)
    x = _tensor(rng.standard_normal((32, 6)).astype(np.float32))
    y = _tensor(rng.standard_normal((32, 1)).astype(np.float32))
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
    return [_numpy(p) for p in model.parameters()]


def test_a_small_net_trains_to_the_same_bits():
    for got, want in zip(_trained_parameters(leaky.lucid.LeakyReLU),
                         _trained_parameters(lucid.nn.LeakyReLU)):
        assert_same_bits(got, want)


def test_lucids_own_leaky_relu_test_passes_against_ours(monkeypatch):
    """Lucid's test case (lucid/test/nn/test_functional.py, which compares
    with torch) run with lucid.nn.functional.leaky_relu replaced by ours."""
    pytest.importorskip("torch", reason="Lucid's own test compares with torch")
    from lucid.test.nn import test_functional as lucids

    monkeypatch.setattr(F, "leaky_relu", leaky.lucid.leaky_relu)
    case = lucids.TestActivation.TestLeakyRelu()
    for method in sorted(name for name in dir(case) if name.startswith("test")):
        getattr(case, method)()
