"""Dask input without a cluster: dask's default scheduler, in this process.

Runs after ``test_dask.py`` has closed its cluster (no default client is left).
Without a cluster the blocks run one after the other, each on all of numba's
threads, unless the user configured a scheduler (then it is used).
"""

import numpy as np
import pytest

from skglmnn import GLMClassifier, GLMRegressor
from skglmnn._testing import make_tabular

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")


def _no_client():
    try:
        from distributed import default_client

        default_client()
    except (ImportError, ValueError):
        return True
    return False


@pytest.mark.parametrize("scheduler", [None, "threads"])
def test_fits_without_a_cluster_equal_the_in_memory_fit(scheduler):
    assert _no_client()
    X, y, *_ = make_tabular(3000, 6, "poisson", seed=30)
    memory = GLMRegressor(family="poisson", tol=1e-10).fit(X, y)
    rows = [da.from_array(a, chunks=(800,) + a.shape[1:]) for a in (X, y)]
    with dask.config.set(scheduler=scheduler):
        fitted = GLMRegressor(family="poisson", tol=1e-10).fit(*rows)
        predicted = fitted.predict(rows[0]).compute()
    np.testing.assert_allclose(fitted.coef_, memory.coef_, rtol=1e-8)
    np.testing.assert_allclose(predicted, memory.predict(X), rtol=1e-10)
    Xc, yc, *_ = make_tabular(3000, 4, "binomial", seed=31)
    memory = GLMClassifier(tol=1e-10).fit(Xc, yc)
    with dask.config.set(scheduler=scheduler):
        fitted = GLMClassifier(tol=1e-10).fit(da.from_array(Xc, chunks=(800, 4)),
                                              da.from_array(yc, chunks=800))  # fmt: skip
    np.testing.assert_allclose(fitted.coef_, memory.coef_, rtol=1e-8)
