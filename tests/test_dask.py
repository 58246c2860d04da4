"""Dask: results stay lazy, chunks are kept, and a real distributed cluster
computes them."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

import leaky  # noqa: E402


def _refuse_to_compute(*args, **kwargs):
    raise AssertionError("something was computed eagerly")


@pytest.fixture
def x_np():
    return np.random.default_rng(3).standard_normal((60, 40)).astype(np.float32)


def test_lazy_and_chunks_kept(x_np):
    x = da.from_array(x_np, chunks=(25, 15))
    with dask.config.set(scheduler=_refuse_to_compute):
        y = leaky.leaky_relu(x, 0.1)
        y2, mask = leaky.leaky_relu_with_mask(x, 0.1)
        grad_in = leaky.leaky_relu_backward(x, mask, 0.1)
    for lazy in (y, y2, mask, grad_in):
        assert isinstance(lazy, da.Array)
        assert lazy.chunks == x.chunks
    assert mask.dtype == np.bool_ and y.dtype == np.float32
    y_v, y2_v, mask_v, g_v = dask.compute(y, y2, mask, grad_in, scheduler="sync")
    np.testing.assert_array_equal(y_v, leaky.leaky_relu(x_np, 0.1))
    np.testing.assert_array_equal(y2_v, y_v)
    np.testing.assert_array_equal(mask_v, x_np > 0)
    np.testing.assert_array_equal(g_v, leaky.leaky_relu_backward(x_np, x_np > 0, 0.1))


def test_forward_with_mask_runs_the_kernel_once_per_chunk(x_np):
    x = da.from_array(x_np, chunks=(30, 20))
    y, mask = leaky.leaky_relu_with_mask(x, 0.1)
    graph = {**dict(y.__dask_graph__()), **dict(mask.__dask_graph__())}
    kernel_tasks = [k for k in graph if str(k).startswith("('leaky_relu_with_mask-")]
    assert len(kernel_tasks) == x.npartitions


def test_backward_with_different_chunks(x_np):
    grad = da.from_array(x_np, chunks=(20, 40))
    mask = da.from_array(x_np > 0, chunks=(30, 10))
    got = leaky.leaky_relu_backward(grad, mask, 0.25).compute()
    np.testing.assert_array_equal(got, leaky.leaky_relu_backward(x_np, x_np > 0, 0.25))


def test_out_is_refused(x_np):
    x = da.from_array(x_np)
    with pytest.raises(TypeError, match="out= is not supported for Dask"):
        leaky.leaky_relu(x, out=x)


def test_distributed_cluster_computes_chunked_result(x_np):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        x = da.from_array(x_np, chunks=(15, 20))
        y, mask = leaky.leaky_relu_with_mask(x, -0.2)
        grad_in = leaky.leaky_relu_backward(da.ones_like(x), mask, -0.2)
        y_v, mask_v, g_v = client.compute([y, mask, grad_in], sync=True)
    np.testing.assert_array_equal(y_v, leaky.leaky_relu(x_np, -0.2))
    np.testing.assert_array_equal(mask_v, x_np > 0)
    np.testing.assert_array_equal(g_v, np.where(x_np > 0, 1.0, np.float32(-0.2)).astype(np.float32))
