"""NumPy-aware containers keep their type and metadata, because leaky's
operations are real ufuncs and NumPy hands them to ``__array_ufunc__``:
pandas Series and DataFrame, xarray DataArray and Dataset (lazy when
dask-backed), and numpy.ma.MaskedArray."""

import numpy as np
import pytest

import leaky
from helpers import assert_same_bits, torch_backward, torch_forward

pd = pytest.importorskip("pandas")
xr = pytest.importorskip("xarray")
dask = pytest.importorskip("dask")

X = np.array([-2.0, -0.0, 0.5, np.nan, 3.0, -1e-3])


def _refuse_to_compute(*args, **kwargs):
    raise AssertionError("something was computed eagerly")


# ------------------------------------------------------------------ pandas --

def test_series_keeps_type_index_and_name():
    s = pd.Series(X, index=list("abcdef"), name="activation")
    y = leaky.leaky_relu(s, 0.1)
    assert type(y) is pd.Series and y.name == "activation"
    assert list(y.index) == list("abcdef")
    assert_same_bits(y.to_numpy(), torch_forward(X, 0.1))
    y2, mask = leaky.leaky_relu_with_mask(s, 0.1)
    assert type(y2) is pd.Series and type(mask) is pd.Series
    assert mask.dtype == bool and list(mask.index) == list("abcdef")
    np.testing.assert_array_equal(mask.to_numpy(), X > 0)
    grad = pd.Series(np.ones(6), index=s.index)
    g = leaky.leaky_relu_backward(grad, mask, 0.1)
    assert type(g) is pd.Series and list(g.index) == list("abcdef")
    assert_same_bits(g.to_numpy(), torch_backward(np.ones(6), X, 0.1))


def test_float32_series_keeps_float32():
    s = pd.Series(X.astype(np.float32))
    assert leaky.leaky_relu(s, 0.1).dtype == np.float32


def test_dataframe_keeps_type_index_and_columns():
    df = pd.DataFrame({"a": X, "b": -X}, index=range(10, 16))
    y = leaky.leaky_relu(df, 0.2)
    assert type(y) is pd.DataFrame
    assert list(y.columns) == ["a", "b"] and list(y.index) == list(range(10, 16))
    assert_same_bits(y["b"].to_numpy(), torch_forward(-X, 0.2))
    y2, mask = leaky.leaky_relu_with_mask(df, 0.2)
    assert type(mask) is pd.DataFrame and (mask.dtypes == bool).all()


# ------------------------------------------------------------------ xarray --

def _data_array(data=X):
    return xr.DataArray(data, dims="t", coords={"t": np.arange(6) * 10, "label": ("t", list("abcdef"))},
                        name="h", attrs={"units": "V"})


def test_data_array_keeps_coords_dims_and_name():
    da = _data_array()
    y = leaky.leaky_relu(da, 0.1)
    assert type(y) is xr.DataArray and y.dims == ("t",) and y.name == "h"
    xr.testing.assert_identical(y.coords.to_dataset(), da.coords.to_dataset())
    assert_same_bits(y.values, torch_forward(X, 0.1))
    y2, mask = leaky.leaky_relu_with_mask(da, 0.1)
    assert type(mask) is xr.DataArray and mask.dtype == bool
    assert list(mask["label"].values) == list("abcdef")
    g = leaky.leaky_relu_backward(xr.ones_like(da), mask, 0.1)
    assert type(g) is xr.DataArray
    assert_same_bits(g.values, torch_backward(np.ones(6), X, 0.1))


def test_dataset_keeps_its_variables():
    ds = xr.Dataset({"h": _data_array(), "k": ("t", -X)})
    y = leaky.leaky_relu(ds, 0.1)
    assert type(y) is xr.Dataset and set(y.data_vars) == {"h", "k"}
    assert_same_bits(y["k"].values, torch_forward(-X, 0.1))


def test_dask_backed_data_array_stays_lazy():
    da = _data_array().chunk({"t": 2})
    with dask.config.set(scheduler=_refuse_to_compute):
        y = leaky.leaky_relu(da, 0.1)
        y2, mask = leaky.leaky_relu_with_mask(da, 0.1)
        g = leaky.leaky_relu_backward(xr.ones_like(da), mask, 0.1)
    for lazy in (y, y2, mask, g):
        assert type(lazy) is xr.DataArray
        assert isinstance(lazy.data, dask.array.Array)
        assert lazy.chunks == da.chunks
    assert_same_bits(y.compute(scheduler="sync").values, torch_forward(X, 0.1))
    assert_same_bits(y2.compute(scheduler="sync").values, torch_forward(X, 0.1))
    np.testing.assert_array_equal(mask.compute(scheduler="sync").values, X > 0)
    assert_same_bits(g.compute(scheduler="sync").values, torch_backward(np.ones(6), X, 0.1))


@pytest.mark.parametrize("chunked", [False, True])
def test_apply_ufunc_passes_the_slope_as_a_0d_array(chunked):
    """Regression: xr.apply_ufunc(..., dask="parallelized") was refused."""
    da = _data_array().chunk({"t": 3}) if chunked else _data_array()
    y = xr.apply_ufunc(leaky.leaky_relu, da, 0.1, dask="parallelized")
    assert_same_bits(np.asarray(y.values), torch_forward(X, 0.1))


# --------------------------------------------------------------- numpy.ma --

def test_masked_array_keeps_its_mask():
    m = np.ma.masked_array(X, mask=[False, True, False, False, True, False])
    y = leaky.leaky_relu(m, 0.1)
    assert type(y) is np.ma.MaskedArray
    np.testing.assert_array_equal(y.mask, m.mask)
    assert_same_bits(y.data[~m.mask], torch_forward(X, 0.1)[~m.mask])
    y2, mask = leaky.leaky_relu_with_mask(m, 0.1)
    assert type(y2) is np.ma.MaskedArray and type(mask) is np.ma.MaskedArray
    np.testing.assert_array_equal(mask.mask, m.mask)
    g = leaky.leaky_relu_backward(np.ma.masked_array(np.ones(6), mask=m.mask), mask, 0.1)
    assert type(g) is np.ma.MaskedArray
    np.testing.assert_array_equal(g.mask, m.mask)


# ---------------------------------------------- backward keeps the type too --

def _containers():
    """name -> a container of X's values, as each library builds one."""
    da = _data_array()
    ds = xr.Dataset({"h": da, "k": ("t", -X)})
    return {
        "Series": pd.Series(X, index=list("abcdef")),
        "DataFrame": pd.DataFrame({"a": X, "b": -X}),
        "DataArray": da,
        "Dataset": ds,
        "dask DataArray": da.chunk({"t": 2}),
        "dask Dataset": ds.chunk({"t": 2}),
        "MaskedArray": np.ma.masked_array(X, mask=[0, 1, 0, 0, 1, 0]),
    }


def _ones_like(c):
    if isinstance(c, (xr.DataArray, xr.Dataset)):
        return xr.ones_like(c)
    if isinstance(c, np.ma.MaskedArray):
        return np.ma.masked_array(np.ones(c.shape), mask=c.mask)
    return c.fillna(0) * 0 + 1  # pandas


def _values(c):
    """Every variable's values, in a fixed order."""
    if isinstance(c, xr.Dataset):
        return [c[name].values for name in sorted(c.data_vars)]
    if isinstance(c, pd.DataFrame):
        return [c[name].to_numpy() for name in c.columns]
    return [np.ma.getdata(np.asarray(c.values if hasattr(c, "values") else c))]


def _is_lazy(c):
    if isinstance(c, xr.Dataset):
        return all(isinstance(v.data, dask.array.Array) for v in c.data_vars.values())
    return isinstance(getattr(c, "data", None), dask.array.Array)


@pytest.mark.parametrize("name", list(_containers()))
def test_backward_keeps_what_the_forward_keeps(name):
    """Issue 16: ``leaky_relu_backward(ds_grad, ds_mask)`` raised for a
    Dataset.  Every container keeps its type through the backward, and a
    lazy one stays lazy until asked."""
    c = _containers()[name]
    with dask.config.set(scheduler=_refuse_to_compute):
        _, mask = leaky.leaky_relu_with_mask(c, 0.1)
        grad = _ones_like(c)
        g = leaky.leaky_relu_backward(grad, mask, 0.1)
        assert type(g) is type(c)
        assert _is_lazy(g) == _is_lazy(c)
    for got, x in zip(_values(g), _values(c), strict=True):
        assert_same_bits(got, torch_backward(np.ones_like(x), x, 0.1))


def test_dataset_mask_of_other_sizes_is_refused():
    ds = xr.Dataset({"h": ("t", X), "w": (("t", "u"), np.ones((6, 2)))})
    _, mask = leaky.leaky_relu_with_mask(ds, 0.1)
    with pytest.raises(ValueError, match="same shape"):
        leaky.leaky_relu_backward(ds, mask.isel(u=[0]), 0.1)


def test_dataset_refuses_packed_masks_by_name():
    ds = xr.Dataset({"h": ("t", X)})
    with pytest.raises(TypeError, match="Dataset"):
        leaky.leaky_relu_with_mask(ds, 0.1, packed=True)
    with pytest.raises(TypeError, match="Dataset"):
        leaky.leaky_relu_backward(ds, np.zeros(1, np.uint8), 0.1)
