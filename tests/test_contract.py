"""Dtypes, scalars, validation errors, and 'nothing half-written'."""

import fractions

import numpy as np
import pytest

import leaky
from helpers import FLOAT_DTYPES, assert_same_bits, torch_forward

FUNCTIONS = {
    "leaky_relu": lambda x, **kw: leaky.leaky_relu(x, **kw),
    "leaky_relu_with_mask": lambda x, **kw: leaky.leaky_relu_with_mask(x, **kw),
    "leaky_relu_backward": lambda x, **kw: leaky.leaky_relu_backward(x, np.zeros(np.shape(x), dtype=bool), **kw),
}


# ------------------------------------------------------------------ dtypes --

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("slope", [0.1, np.float64(0.1), np.float32(0.1), 1, np.int64(-2)])
def test_output_dtype_follows_x_alone(dtype, slope):
    x = np.array([-1.0, 2.0], dtype=dtype)
    y, mask = leaky.leaky_relu_with_mask(x, slope)
    assert y.dtype == dtype
    assert leaky.leaky_relu(x, slope).dtype == dtype
    assert leaky.leaky_relu_backward(x, mask, slope).dtype == dtype
    assert_same_bits(y, torch_forward(x, float(slope)))


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint8, np.int16, np.uint16,
                                   np.int32, np.uint32, np.int64, np.uint64])
def test_bool_and_integers_promote_like_a_float_ufunc(dtype):
    x = np.array([0, 1, 1, 0], dtype=dtype) if dtype is np.bool_ else np.array([-3, 0, 5, 2], dtype=dtype) if np.dtype(dtype).kind == "i" else np.array([0, 1, 7, 2], dtype=dtype)
    y, mask = leaky.leaky_relu_with_mask(x, 0.5)
    assert y.dtype == np.sin(x).dtype
    want = torch_forward(x.astype(np.sin(x).dtype), 0.5)
    assert_same_bits(y, want)
    np.testing.assert_array_equal(mask, x > 0)


def test_array_likes_and_scalars():
    np.testing.assert_array_equal(leaky.leaky_relu([[-1.0, 2.0], [3.0, -4.0]], 0.5),
                                  [[-0.5, 2.0], [3.0, -2.0]])
    y = leaky.leaky_relu(-2.0, 0.5)
    assert type(y) is np.float64 and y == -1.0
    y32 = leaky.leaky_relu(np.float32(-2.0), 0.5)
    assert type(y32) is np.float32
    y0, m0 = leaky.leaky_relu_with_mask(np.array(3.0))
    assert type(y0) is np.float64 and type(m0) is np.bool_ and m0
    g = leaky.leaky_relu_backward(1.0, False, 0.25)
    assert type(g) is np.float64 and g == 0.25


def test_zero_d_with_out_returns_out():
    out = np.empty((), dtype=np.float64)
    assert leaky.leaky_relu(np.array(-4.0), 0.5, out=out) is out
    assert out[()] == -2.0


def test_out_as_one_tuple():
    x = np.array([-1.0, 1.0])
    out = np.empty(2)
    assert leaky.leaky_relu(x, 0.5, out=(out,)) is out


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("bad, pattern", [
    (np.array([1 + 2j, -1j]), "complex"),
    (np.array([object(), 1], dtype=object), "dtype object"),
    (np.array(["a", "b"]), "str|<U1"),
    (None, "type NoneType, which no backend serves"),
    ("text", "type str"),
    (np.array([1, 2], dtype="datetime64[s]"), "datetime64"),
])
def test_unsupported_input_raises_type_error(name, bad, pattern):
    with pytest.raises(TypeError, match=pattern):
        FUNCTIONS[name](bad)


class _TensorOfAnotherLibrary:
    """Indexable, sized, without an array protocol: NumPy reads it as a
    sequence and fails inside (a Lucid tensor gave IndexError so)."""

    def __len__(self):
        return 3

    def __getitem__(self, index):
        raise IndexError("tuple index out of range")


@pytest.mark.parametrize("call", [
    lambda bad: leaky.leaky_relu(bad),
    lambda bad: leaky.leaky_relu_with_mask(bad, packed=True),
    lambda bad: leaky.leaky_relu_backward(bad, np.zeros(3, dtype=bool)),
    lambda bad: leaky.leaky_relu_backward(np.zeros(3), bad),
])
def test_an_object_no_backend_serves_is_named_with_what_is_accepted(call):
    with pytest.raises(TypeError, match=r"_TensorOfAnotherLibrary, which no backend "
                                        r"serves; it takes NumPy arrays.*MLX, Lucid"):
        call(_TensorOfAnotherLibrary())


def test_longdouble_is_refused_by_name():
    if np.dtype(np.longdouble).itemsize == 8:
        pytest.skip("long double is float64 here")
    with pytest.raises(TypeError, match="float16, float32 and float64"):
        leaky.leaky_relu(np.zeros(2, dtype=np.longdouble))


# ------------------------------------------------------------------- slope --

@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("slope", [float("nan"), float("inf"), -np.inf, np.float32("nan")])
def test_non_finite_slope_raises_value_error(name, slope):
    with pytest.raises(ValueError, match="negative_slope must be finite"):
        FUNCTIONS[name](np.ones(2), negative_slope=slope)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("slope", ["0.1", None, 1j, True, np.bool_(False), [0.1],
                                   np.array(True), np.array(1j)])
def test_non_number_slope_raises_type_error(name, slope):
    with pytest.raises(TypeError, match="negative_slope must be a real number"):
        FUNCTIONS[name](np.ones(2), negative_slope=slope)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("slope", [np.ones(1), np.full(2, 0.1), np.ones((1, 1))])
def test_array_slope_with_dimensions_raises_value_error(name, slope):
    with pytest.raises(ValueError, match=r"negative_slope must be one number .* shape"):
        FUNCTIONS[name](np.ones(2), negative_slope=slope)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("slope", [np.array(0.25), np.array(0.25, dtype=np.float32),
                                   np.array(-2, dtype=np.int8)])
def test_zero_d_array_slope_is_one_number(name, slope):
    x = np.array([-4.0, 4.0], dtype=np.float32)
    got = FUNCTIONS[name](x, negative_slope=slope)
    got = got[0] if isinstance(got, tuple) else got
    assert got.dtype == np.float32  # the slope's dtype never decides
    want = torch_forward(x, float(slope)) if name != "leaky_relu_backward" else \
        np.where(False, x, x * np.float32(slope))
    assert_same_bits(got, want)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("slope", [np.array(np.nan), np.array(np.inf, dtype=np.float32)])
def test_zero_d_array_slope_must_be_finite(name, slope):
    with pytest.raises(ValueError, match="negative_slope must be finite"):
        FUNCTIONS[name](np.ones(2), negative_slope=slope)


def test_any_real_number_is_a_slope():
    x = np.array([-4.0])
    assert leaky.leaky_relu(x, fractions.Fraction(1, 4))[0] == -1.0
    assert leaky.leaky_relu(x, np.uint8(2))[0] == -8.0


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_slope_that_overflows_the_compute_precision_is_refused(dtype):
    with pytest.raises(ValueError, match="overflows float32"):
        leaky.leaky_relu(np.ones(2, dtype=dtype), 1e39)
    assert leaky.leaky_relu(np.array([-1.0]), 1e300)[0] == -1e300


# --------------------------------------------------------------------- out --

# out= follows NumPy's ufunc rules (the contract is silent there): the
# messages are NumPy's own.

def test_out_wrong_shape_raises_value_error():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        leaky.leaky_relu(np.ones(2), out=np.empty(3))


@pytest.mark.parametrize("out", [np.empty(2, np.int64), np.empty(2, bool)])
def test_out_that_the_result_cannot_be_cast_into_raises_type_error(out):
    with pytest.raises(TypeError, match="Cannot cast ufunc 'leaky_relu' output from dtype"):
        leaky.leaky_relu(np.ones(2), out=out)


def test_out_of_another_float_dtype_takes_the_result_cast_same_kind():
    # As np.multiply(x, s, out=...): computed in x's dtype, then cast.
    x = np.array([-1.0 / 3.0, 2.0])
    out = np.empty(2, np.float32)
    leaky.leaky_relu(x, 0.1, out=out)
    assert_same_bits(out, torch_forward(x, 0.1).astype(np.float32))
    with pytest.raises(TypeError, match="casting rule 'safe'"):
        leaky.leaky_relu(x, 0.1, out=out, casting="safe")


@pytest.mark.parametrize("out", [[0.0, 0.0], 3.0, "x"])
def test_out_not_an_array_raises_type_error(out):
    with pytest.raises(TypeError, match="must be of ArrayType"):
        leaky.leaky_relu(np.ones(2), out=out)


def test_read_only_out_raises_value_error():
    out = np.empty(2)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        leaky.leaky_relu(np.ones(2), out=out)


def test_with_mask_out_must_be_a_pair():
    x = np.ones(2)
    with pytest.raises(TypeError, match="'out' must be a tuple of arrays"):
        leaky.leaky_relu_with_mask(x, out=np.empty(2))
    with pytest.raises(ValueError, match="one entry per ufunc output"):
        leaky.leaky_relu_with_mask(x, out=(np.empty(2),))
    with pytest.raises(TypeError, match="Cannot cast .* to dtype.*int8"):
        leaky.leaky_relu_with_mask(x, out=(np.empty(2, np.int8), None))


def test_with_mask_partial_out():
    x = np.array([-2.0, 2.0])
    y_out = np.empty(2)
    y, mask = leaky.leaky_relu_with_mask(x, 0.5, out=(y_out, None))
    assert y is y_out and mask.dtype == np.bool_
    m_out = np.empty(2, dtype=bool)
    y, mask = leaky.leaky_relu_with_mask(x, 0.5, out=(None, m_out))
    assert mask is m_out
    np.testing.assert_array_equal(mask, [False, True])


# ---------------------------------------------------------------- backward --

def test_backward_mask_must_be_bool():
    with pytest.raises(TypeError, match="mask must be a bool array"):
        leaky.leaky_relu_backward(np.ones(3), np.ones(3))


def test_backward_shape_mismatch():
    with pytest.raises(ValueError, match=r"same shape, got \(3,\) and \(2,\)"):
        leaky.leaky_relu_backward(np.ones(3), np.ones(2, dtype=bool))


def test_backward_gradient_at_zero_is_the_slope():
    _, mask = leaky.leaky_relu_with_mask(np.array([0.0, -0.0]), 0.2)
    np.testing.assert_array_equal(leaky.leaky_relu_backward(np.ones(2), mask, 0.2), [0.2, 0.2])


# ----------------------------------------------------- nothing half-written --

@pytest.mark.parametrize("call", [
    lambda x, out: leaky.leaky_relu(x, float("nan"), out=out),
    lambda x, out: leaky.leaky_relu(x, "0.1", out=out),
    lambda x, out: leaky.leaky_relu(x.astype(np.float32), 1e39, out=out.astype(np.float32)),
    lambda x, out: leaky.leaky_relu_with_mask(x, out=(out, np.empty(3, dtype=bool))),
    lambda x, out: leaky.leaky_relu_with_mask(x, out=(out, np.broadcast_to(False, 4))),
    lambda x, out: leaky.leaky_relu_with_mask(x, out=(out, np.empty(4, np.int8)), casting="no"),
    lambda x, out: leaky.leaky_relu(x, out=out, where=np.ones(3, bool)),
    lambda x, out: leaky.leaky_relu_backward(x, np.ones(3, dtype=bool), out=out),
    lambda x, out: leaky.leaky_relu_backward(x, np.ones(4), out=out),
])
def test_failed_call_writes_nothing(call):
    x = np.array([-1.0, 2.0, -3.0, 4.0])
    out = np.full(4, 7.0)
    with pytest.raises((TypeError, ValueError)):
        call(x, out)
    np.testing.assert_array_equal(out, 7.0)
    np.testing.assert_array_equal(x, [-1.0, 2.0, -3.0, 4.0])


def _foreign_outs():
    """Arrays of other libraries that a NumPy call cannot write into."""
    outs = []
    for module, make in (("torch", lambda m: m.zeros(3, dtype=m.float64)),
                         ("jax.numpy", lambda m: m.zeros(3))):
        try:
            outs.append(pytest.param(make(__import__(module, fromlist=["_"])), id=module))
        except ImportError:
            pass
    return outs


@pytest.mark.parametrize("out", _foreign_outs())
@pytest.mark.parametrize("call", [
    lambda x, o: leaky.leaky_relu(x, 0.1, out=o),
    lambda x, o: leaky.leaky_relu(x, 0.1, out=(o,)),
    lambda x, o: leaky.leaky_relu_with_mask(x, 0.1, out=(o, None)),
    lambda x, o: leaky.leaky_relu_with_mask(x, 0.1, out=(o, None), packed=True),
    lambda x, o: leaky.leaky_relu_backward(x, x > 0, 0.1, out=o),
], ids=["forward", "forward 1-tuple", "with_mask", "packed", "backward"])
def test_numpy_input_with_another_librarys_out_names_both(call, out):
    """Issue 16: NumPy said only "return arrays must be of ArrayType"."""
    library = "torch" if "torch" in type(out).__module__ else "jax"
    with pytest.raises(TypeError, match=rf"is a {library} array .* but x is a numpy array"):
        call(np.array([-1.0, 0.5, 2.0]), out)
