"""Fits on dask collections equal the in-memory fits of the same rows.

A module-scoped ``LocalCluster`` (two worker processes with one thread each,
listening on 127.0.0.1 only) runs the fits; it is closed at the end of the
module.  The in-memory fit of the same data is the reference: the distributed
fit runs the same solver on the same sums, added in another order, so the two
agree far below the solver tolerance -- 1e-8 relative is asserted for
coefficients, deviance and standard errors.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skglmnn import GLMClassifier, GLMRegressor, NeuralGLM, NeuralGLMClassifier
from skglmnn._testing import make_tabular

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

RTOL = 1e-8
TOL = 1e-10  # the solvers' tolerance: both fits run to it
CHUNK = 700


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", worker_dashboard_address=None, timeout="60s",
    )  # fmt: skip
    with distributed.Client(cluster, timeout="60s") as c:
        yield c
    cluster.close(timeout=30)


def _rows(*arrays, chunk=CHUNK):
    return [None if a is None else da.from_array(a, chunks=(chunk,) + a.shape[1:])
            for a in arrays]  # fmt: skip


def _close(a, b, rtol=RTOL, what=""):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert np.array_equal(np.isnan(a), np.isnan(b)), what  # L1 zeros have no errors
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    scale = max(np.max(np.abs(b), initial=0.0), 1e-300)
    assert np.max(np.abs(a - b), initial=0.0) <= rtol * scale, f"{what}: {a} vs {b}"


def _same_fit(distributed_fit, memory_fit, rtol=RTOL, tables=True):
    _close(distributed_fit.coef_, memory_fit.coef_, rtol, "coef_")
    _close(distributed_fit.intercept_, memory_fit.intercept_, rtol, "intercept_")
    for name in ("deviance_", "null_deviance_", "dispersion_", "loglik_", "aic_"):
        if np.isfinite(getattr(memory_fit, name)):
            _close(getattr(distributed_fit, name), getattr(memory_fit, name), rtol, name)
    # the last iterations are decided by rounding, which the order of the sums changes
    assert abs(int(np.max(distributed_fit.n_iter_)) - int(np.max(memory_fit.n_iter_))) <= 2
    assert distributed_fit.df_resid_ == pytest.approx(memory_fit.df_resid_, rel=1e-12)
    if tables:
        a, b = distributed_fit.coef_table(), memory_fit.coef_table()
        assert list(a.index) == list(b.index)
        _close(a["std_error"], b["std_error"], rtol, "std_error")


REGRESSION_CASES = [
    ("normal", "identity"), ("poisson", "log"), ("gamma", "log"), ("gamma", "inverse"),
    ("inverse_gaussian", "log"), ("tweedie(1.5)", "log"), ("negative_binomial(0.5)", "log"),
    ("binomial", "probit"), ("poisson", "sqrt"),
]  # fmt: skip


@pytest.mark.parametrize("family, link", REGRESSION_CASES)
def test_regressor_equals_the_in_memory_fit(client, family, link):
    X, y, *_ = make_tabular(2000, 7, family, link, seed=3)
    rng = np.random.default_rng(0)
    w = rng.uniform(0.2, 3.0, len(y))
    offset = rng.normal(0, 0.05, len(y)) if family != "binomial" else None
    args = dict(family=family, link=link, tol=TOL)
    memory = GLMRegressor(**args).fit(X, y, sample_weight=w, offset=offset)
    Xd, yd, wd, od = _rows(X, y, w, offset)
    fitted = GLMRegressor(**args).fit(Xd, yd, sample_weight=wd, offset=od)
    assert fitted.solver_ == memory.solver_
    _same_fit(fitted, memory)


@pytest.mark.parametrize("alpha, l1_ratio", [(0.01, 0.0), (0.003, 1.0), (0.01, 0.5)])
def test_regressor_penalised_equals_the_in_memory_fit(client, alpha, l1_ratio):
    X, y, *_ = make_tabular(2000, 9, "poisson", seed=4)
    offset = np.random.default_rng(1).normal(0, 0.1, len(y))
    args = dict(family="poisson", alpha=alpha, l1_ratio=l1_ratio, tol=TOL)
    memory = GLMRegressor(**args).fit(X, y, offset=offset)
    Xd, yd, od = _rows(X, y, offset)
    fitted = GLMRegressor(**args).fit(Xd, yd, offset=od)
    if l1_ratio:
        assert np.array_equal(fitted.coef_ == 0, memory.coef_ == 0)
        assert np.count_nonzero(memory.coef_ == 0) > 0  # the penalty zeroes some
    _same_fit(fitted, memory)


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_regressor_solvers_on_dask(client, solver):
    X, y, *_ = make_tabular(1500, 6, "gamma", seed=5)
    memory = GLMRegressor(family="gamma", solver=solver, tol=TOL).fit(X, y)
    fitted = GLMRegressor(family="gamma", solver=solver, tol=TOL).fit(*_rows(X, y))
    _same_fit(fitted, memory)


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_binary_classifier_equals_the_in_memory_fit(client, link):
    X, y, *_ = make_tabular(2000, 6, "binomial", seed=6)
    labels = np.where(y > 0, "yes", "no")
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    memory = GLMClassifier(link=link, C=10.0, tol=TOL).fit(X, labels, sample_weight=w)
    fitted = GLMClassifier(link=link, C=10.0, tol=TOL).fit(*_rows(X, labels, w)[:2],
                                                           sample_weight=_rows(w)[0])  # fmt: skip
    assert list(fitted.classes_) == ["no", "yes"]
    _same_fit(fitted, memory)


@pytest.mark.parametrize("kwargs", [{}, {"C": 0.05}, {"class_weight": "balanced"},
                                    {"C": np.inf}])  # fmt: skip
def test_multinomial_classifier_equals_the_in_memory_fit(client, kwargs):
    X, *_ = make_tabular(2400, 5, seed=7)
    rng = np.random.default_rng(3)
    score = (X - X.mean(0)) / X.std(0) @ rng.normal(size=5)
    y = np.digitize(score + rng.logistic(size=len(score)), [-1.0, 0.5, 2.0])
    memory = GLMClassifier(tol=TOL, **kwargs).fit(X, y)
    fitted = GLMClassifier(tol=TOL, **kwargs).fit(*_rows(X, y))
    assert list(fitted.classes_) == [0, 1, 2, 3]
    _same_fit(fitted, memory)


def test_multinomial_l1_classifier_equals_the_in_memory_fit(client):
    """OWL-QN on the blocks; at tol=1e-8 (at 1e-10 both fits stagnate at the rounding floor,
    where the order of the sums decides where)."""
    X, *_ = make_tabular(2400, 5, seed=7)
    rng = np.random.default_rng(3)
    y = np.digitize((X - X.mean(0)) / X.std(0) @ rng.normal(size=5) + rng.logistic(size=2400),
                    [-1.0, 0.5, 2.0])  # fmt: skip
    args = dict(l1_ratio=1.0, C=0.05, solver="saga", tol=1e-8, max_iter=1000)
    memory = GLMClassifier(**args).fit(X, y)
    fitted = GLMClassifier(**args).fit(*_rows(X, y))
    assert np.array_equal(fitted.coef_ == 0, memory.coef_ == 0)
    assert np.count_nonzero(memory.coef_ == 0) > 0
    _same_fit(fitted, memory)


def test_binary_l1_classifier_equals_the_in_memory_fit(client):
    X, y, *_ = make_tabular(2000, 8, "binomial", seed=8)
    args = dict(l1_ratio=1.0, C=0.05, solver="saga", tol=TOL)
    memory = GLMClassifier(**args).fit(X, y)
    fitted = GLMClassifier(**args).fit(*_rows(X, y))
    assert np.array_equal(fitted.coef_ == 0, memory.coef_ == 0)
    _same_fit(fitted, memory)


def test_dataframes_weights_as_series_and_feature_names(client):
    pd = pytest.importorskip("pandas")
    X, y, *_ = make_tabular(1500, 6, "poisson", seed=9)
    frame = pd.DataFrame(X, columns=["year", "cents", "age", "dummy", "count", "rate"])
    w = np.random.default_rng(4).integers(1, 4, len(y)).astype(float)
    memory = GLMRegressor(family="poisson", tol=TOL).fit(frame, y, sample_weight=w)
    Xd = dd.from_pandas(frame, npartitions=3)
    yd = dd.from_pandas(pd.Series(y), npartitions=3)
    wd = dd.from_pandas(pd.Series(w), npartitions=3)
    fitted = GLMRegressor(family="poisson", tol=TOL).fit(Xd, yd, sample_weight=wd)
    assert list(fitted.feature_names_in_) == list(frame.columns)
    _same_fit(fitted, memory)
    assert list(fitted.coef_table().index) == list(frame.columns) + ["intercept"]
    predicted = fitted.predict(Xd)
    assert isinstance(predicted, da.Array)
    _close(predicted.compute(), memory.predict(frame), 1e-10)


def test_predictions_are_lazy_and_equal(client):
    X, y, *_ = make_tabular(1200, 5, "binomial", seed=10)
    offset = np.random.default_rng(5).normal(0, 0.2, len(y))
    memory = GLMClassifier(tol=TOL).fit(X, y, offset=offset)
    Xd, yd, od = _rows(X, y, offset)
    fitted = GLMClassifier(tol=TOL).fit(Xd, yd, offset=od)
    for method in ("predict_proba", "decision_function", "predict_log_proba", "predict"):
        lazy = getattr(fitted, method)(Xd, offset=od)
        assert isinstance(lazy, da.Array), method
        expected = getattr(memory, method)(X, offset=offset)
        assert lazy.shape == expected.shape
        assert lazy.dtype == expected.dtype == lazy.compute().dtype, method
        if method == "predict":
            assert np.array_equal(lazy.compute(), expected)
        else:
            _close(lazy.compute(), expected, 1e-9, method)
    score = fitted.score(Xd, yd, offset=od)
    assert isinstance(score, da.Array)
    assert float(score) == pytest.approx(memory.score(X, y, offset=offset), abs=1e-12)

    regressor = GLMRegressor(family="poisson", tol=TOL)
    Xr, yr, *_ = make_tabular(1200, 5, "poisson", seed=11)
    memory_r = regressor.fit(Xr, yr).score(Xr, yr)
    lazy_r = GLMRegressor(family="poisson", tol=TOL).fit(*_rows(Xr, yr)).score(*_rows(Xr, yr))
    assert isinstance(lazy_r, da.Array)
    assert float(lazy_r) == pytest.approx(memory_r, rel=1e-10)


def test_fitted_model_is_an_ordinary_estimator(client):
    X, y, *_ = make_tabular(1000, 4, "gamma", seed=12)
    fitted = GLMRegressor(family="gamma", tol=TOL).fit(*_rows(X, y))
    assert isinstance(fitted.coef_, np.ndarray)
    copy = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(copy.predict(X), fitted.predict(X))
    assert isinstance(copy.predict(X), np.ndarray)


def test_float32_stays_float32_and_sparse_chunks_are_refused(client):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X, y, *_ = make_tabular(1200, 4, "poisson", seed=18)
    X32 = X.astype(np.float32)
    memory = GLMRegressor(family="poisson", tol=1e-6).fit(X32, y)
    Xd, yd = _rows(X32, y)
    fitted = GLMRegressor(family="poisson", tol=1e-6).fit(Xd, yd)
    assert fitted.coef_.dtype == memory.coef_.dtype == np.float32
    _close(fitted.coef_, memory.coef_, 1e-6, "coef_")
    predicted = fitted.predict(Xd)
    assert predicted.dtype == predicted.compute().dtype == memory.predict(X32).dtype
    with pytest.raises(ValueError, match="csr_matrix chunks; dask input must have dense"):
        GLMRegressor(family="poisson").fit(_rows(X)[0].map_blocks(scipy_sparse.csr_matrix), yd)


def test_bad_input_is_reported_before_the_solve(client):
    X, y, *_ = make_tabular(1000, 4, "poisson", seed=13)
    Xbad = X.copy()
    Xbad[777, 2] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinity: 1 value"):
        GLMRegressor(family="poisson").fit(*_rows(Xbad, y))
    ybad = y.copy()
    ybad[5] = -1.0
    with pytest.raises(ValueError, match=r"PoissonFamily.*1 of 1000 values fall outside"):
        GLMRegressor(family="poisson").fit(*_rows(X, ybad))
    with pytest.raises(ValueError, match="sample_weight must be finite and non-negative"):
        GLMRegressor(family="poisson").fit(*_rows(X, y), sample_weight=-np.ones(1000))
    with pytest.raises(ValueError, match=r"y must have shape \(1000,\)"):
        GLMRegressor(family="poisson").fit(_rows(X)[0], y[:-1])
    with pytest.raises(ValueError, match="2-D array"):
        GLMRegressor().fit(_rows(X[:, 0])[0], y)
    with pytest.raises(ValueError, match="only one class"):
        GLMClassifier().fit(*_rows(X, np.zeros(1000)))


def test_separated_data_warn_on_dask(client):
    rng = np.random.default_rng(14)
    X = rng.normal(size=(600, 2))
    y = (X[:, 0] > 0).astype(float)
    with pytest.warns(ConvergenceWarning, match="linearly separable"):
        GLMClassifier(C=np.inf).fit(*_rows(X, y, chunk=200))


def test_coef_table_from_dask_training_data(client):
    """Fits too large to store their information pass the training rows again: dask ones too."""
    X, y, *_ = make_tabular(1500, 5, "binomial", seed=15)
    labels = np.where(y > 0, "b", "a")
    w = np.random.default_rng(6).uniform(0.5, 2.0, len(y))
    args = dict(tol=TOL, class_weight={"a": 1.0, "b": 2.0})
    memory = GLMClassifier(**args).fit(X, labels, sample_weight=w)
    fitted = GLMClassifier(**args).fit(*_rows(X, labels), sample_weight=_rows(w)[0])
    for robust in (None, "HC1"):
        expected = memory.coef_table(X, labels, sample_weight=w, robust=robust)
        table = fitted.coef_table(*_rows(X, labels), sample_weight=_rows(w)[0], robust=robust)
        _close(table["std_error"], expected["std_error"], RTOL, f"std_error {robust}")
    with pytest.raises(ValueError, match="robust='cluster' on dask data"):
        fitted.coef_table(*_rows(X, labels), robust="cluster", groups=np.arange(1500) % 7)


def test_grid_search_runs_on_the_cluster_through_joblib(client):
    joblib = pytest.importorskip("joblib")
    from sklearn.model_selection import GridSearchCV

    X, y, *_ = make_tabular(800, 5, "poisson", seed=16)
    grid = {"alpha": [1e-3, 1e-2, 1e-1], "link": ["log", "sqrt"]}
    serial = GridSearchCV(GLMRegressor(family="poisson"), grid, cv=3).fit(X, y)
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        search = GridSearchCV(GLMRegressor(family="poisson"), grid, cv=3, n_jobs=-1).fit(X, y)
    assert stream.data  # the workers ran the fits (joblib sends them in batches)
    assert search.best_params_ == serial.best_params_
    np.testing.assert_allclose(search.cv_results_["mean_test_score"],
                               serial.cv_results_["mean_test_score"], rtol=1e-10)  # fmt: skip


def test_a_worker_lost_during_a_fit_changes_nothing(client, monkeypatch):
    """Killing a worker (SIGKILL) mid-fit: dask recomputes its chunks elsewhere, the fit
    finishes with the coefficients of an undisturbed one."""
    import os
    import signal

    import skglmnn._dask as skdask

    X, y, *_ = make_tabular(3000, 6, "poisson", seed=17)
    memory = GLMRegressor(family="poisson", tol=TOL).fit(X, y)
    pids = client.run(os.getpid)
    original, killed = skdask.DaskData.map_reduce, []

    def map_reduce(self, func, *args, **kwargs):
        if func is skdask._glm_block and len(killed) == 0 and kwargs.get("combine") is None:
            holder = sorted(client.who_has(self.X).values())[0][0]  # holds some chunk of X
            os.kill(pids[holder], signal.SIGKILL)
            killed.append(holder)
        return original(self, func, *args, **kwargs)

    monkeypatch.setattr(skdask.DaskData, "map_reduce", map_reduce)
    fitted = GLMRegressor(family="poisson", tol=TOL).fit(*_rows(X, y, chunk=500))
    assert killed
    _same_fit(fitted, memory)
    client.wait_for_workers(2, timeout=60)


def _local_and_task_sums(X, y, w, offset, chunk):
    """A curvature pass over ``_rows(...)`` by the workers' own sums and by the task tree."""
    from skglmnn._dask import DaskData, _add, _glm_block

    data = DaskData(*_rows(X, y, w, offset, chunk=chunk)).persist()
    args = _glm_args(X)
    local = data.map_reduce(_glm_block, *args)
    return data, local, data._task_reduce(_glm_block, args, _add)


def test_workers_own_sums_are_the_task_tree(client):
    """Each worker adds up the chunks it holds (``Client.run``, no task graph) and the client
    completes the task path's tree of additions: the same sums, wherever the chunks are, up
    to rounding (BLAS and vectorised loops round by the arrays' addresses)."""
    X, y, w, offset = make_tabular(4000, 7, "poisson", seed=31)[:2] + (
        np.random.default_rng(2).uniform(0.5, 2.0, 4000), np.linspace(-0.5, 0.5, 4000))
    for chunk in (4000, 700, 230):  # 1, 6 and 18 chunks: one group, one, three of 8
        data, local, tasks = _local_and_task_sums(X, y, w, offset, chunk)
        assert data._plan[1] is not None, "the workers' own sums did not run"
        for a, b in zip(local, tasks, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-14 * np.abs(b).max())
    # and the in-memory sum up to the order of the additions
    from skglmnn._loss import weighted_gram

    loss, coef, intercept, shift, _ = _glm_args(X)
    value, grad, hess = loss.loss_gradient(X, y, coef, intercept, w, offset, True, shift)
    gram = weighted_gram(X, hess, shift)
    np.testing.assert_allclose(local[0], value, rtol=1e-12)
    np.testing.assert_allclose(local[1], grad, rtol=1e-10, atol=1e-12 * np.abs(grad).max())
    np.testing.assert_allclose(local[2], gram, rtol=1e-10, atol=1e-12 * np.abs(gram).max())


def test_workers_own_sums_fall_back_to_tasks(client, monkeypatch):
    """A chunk no longer where the plan expects it, or results beyond the client's budget:
    the pass runs as tasks, with the same result."""
    import skglmnn._dask as skdask

    X, y, *_ = make_tabular(3000, 5, "poisson", seed=32)
    w, offset = np.ones(3000), np.zeros(3000)
    data, local, tasks = _local_and_task_sums(X, y, w, offset, 500)
    plan = data._plan[1]
    worker, mine = next(iter(plan.assignments.items()))  # a chunk the plan misplaces
    plan.assignments[worker] = [(mine[0][0], mine[0][1], "no-such-key")] + mine[1:]
    again = data.map_reduce(skdask._glm_block, *_glm_args(X))
    assert data._plan[1] is None  # dropped: tasks from now on
    for a, b in zip(again, local, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-14 * np.abs(b).max())

    monkeypatch.setattr(skdask, "CLIENT_BUDGET", 100)  # bytes: no pass fits
    data, local, tasks = _local_and_task_sums(X, y, w, offset, 500)
    assert skdask._glm_block in data._plan[1].too_big  # the plan stays for the others
    for a, b in zip(local, tasks, strict=True):
        np.testing.assert_array_equal(a, b)  # both ran as tasks


def test_workers_of_two_threads_split_their_chunks(monkeypatch):
    """A worker with two threads runs its chunks on both (an in-process cluster, nothing
    listening): the fit is the in-memory one, and every pass ran on the workers' own sums."""
    import skglmnn._dask as skdask

    X, y, *_ = make_tabular(3000, 5, "poisson", seed=33)
    w = np.random.default_rng(4).uniform(0.5, 2.0, 3000)
    memory = GLMRegressor(family="poisson", tol=TOL).fit(X, y, sample_weight=w)
    original, outcomes = skdask._LocalSums.run, []

    def run(self, *args):
        result = original(self, *args)
        outcomes.append(result is not None and result is not skdask._TOO_BIG)
        return result

    monkeypatch.setattr(skdask._LocalSums, "run", run)
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                       dashboard_address=None)  # fmt: skip
    try:
        with distributed.Client(cluster, timeout="60s"):
            Xd, yd, wd = _rows(X, y, w, chunk=300)
            fitted = GLMRegressor(family="poisson", tol=TOL).fit(Xd, yd, sample_weight=wd)
    finally:
        cluster.close(timeout=30)
    assert outcomes and all(outcomes)
    _same_fit(fitted, memory)


def _glm_args(X):
    from skglmnn._loss import GLMLoss
    from skglmnn.families import get_family
    from skglmnn.links import get_link

    loss = GLMLoss(get_family("poisson"), get_link("log"))
    return (loss, 0.05 / X.std(axis=0), 0.2, X.mean(axis=0), True)


def test_a_worker_out_of_memory_is_a_clear_error():
    """A chunk larger than a worker's memory limit: the nanny kills the worker, and the fit
    stops with an error that says why and what to do (not a hang)."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address="127.0.0.1:0", memory_limit="300MB", timeout="60s",
        )  # fmt: skip
        try:
            with distributed.Client(cluster, timeout="60s"):
                source = da.random.default_rng(0)
                X = source.standard_normal((600_000, 100), chunks=(600_000, 100))  # 480 MB
                y = source.poisson(1.0, size=600_000, chunks=600_000).astype(float)
                with pytest.raises(RuntimeError, match="worker died .* ran out of memory"):
                    GLMRegressor(family="poisson").fit(X, y)
        finally:
            cluster.close(timeout=30)


def _network_data(n=1500, seed=20):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, 3))
    eta = 0.5 + np.tanh(Z @ [0.8, -0.5, 0.3]) - 0.5 * np.tanh(Z @ [0.2, 0.6, -0.4])
    y = rng.poisson(np.exp(eta))
    return Z * [1e-3, 1.0, 1e3] + [0.0, 2000.0, 0.0], y.astype(float)  # scales, a year


def test_network_without_hidden_layers_is_the_glm_on_dask(client):
    X, y, *_ = make_tabular(1500, 5, "gamma", seed=21)
    rng = np.random.default_rng(7)
    w, offset = rng.uniform(0.5, 2.0, len(y)), rng.normal(0, 0.1, len(y))
    args = dict(family="gamma", hidden=(), solver="lbfgs", alpha=1e-3, tol=1e-9, max_iter=500)
    memory = NeuralGLM(**args).fit(X, y, sample_weight=w, offset=offset)
    Xd, yd, wd, od = _rows(X, y, w, offset)
    fitted = NeuralGLM(**args).fit(Xd, yd, sample_weight=wd, offset=od)
    _close(fitted.coef_, memory.coef_, RTOL, "coef_")
    for name in ("deviance_", "null_deviance_", "dispersion_", "aic_"):
        _close(getattr(fitted, name), getattr(memory, name), RTOL, name)
    _close(fitted.coef_table()["std_error"], memory.coef_table()["std_error"], RTOL, "std_error")
    glm = GLMRegressor(family="gamma", alpha=1e-3, tol=1e-9).fit(Xd, yd, sample_weight=wd,
                                                                offset=od)  # fmt: skip
    _close(fitted.coef_, glm.coef_, 1e-6, "the network is the GLM")


def test_network_objective_on_blocks_is_the_in_memory_one(client):
    """The full-batch objective and gradient of a network, summed over blocks on the
    workers, equal the in-memory sweep's (for softmax and Poisson outputs, weights)."""
    from skglmnn._dask import DaskData, DaskNetworkData, summarise
    from skglmnn._layers import GLMStack, row_source
    from skglmnn._solvers._scaling import ColumnScaling
    from skglmnn._solvers.network import NetworkData, value_gradient
    from skglmnn.families import get_family
    from skglmnn.links import get_link

    X, y = _network_data()
    n, rng = len(y), np.random.default_rng(8)
    w = rng.uniform(0.5, 2.0, n)
    activations = NeuralGLM(activation="tanh")._activations(2)
    for family, outputs, target in ((get_family("poisson"), 1, y),
                                    (None, 3, np.digitize(y, [1.0, 3.0]).astype(float))):
        link = get_link("log") if family is not None else None
        stack = GLMStack(3, (4, 3), activations, outputs, family, link)
        theta = stack.initial_theta(rng, 0.0)
        scaling = ColumnScaling.of(X, w, centre=True)
        memory = NetworkData.standardised(row_source(X), target, w / w.mean(),
                                          np.empty((0, outputs)), np.arange(n), scaling)
        rows = DaskData(*_rows(X, target, w)).persist()
        summary = summarise(rows)
        blocks = DaskNetworkData(rows, summary, summary.moments.scaling(centre=True))
        _close(blocks.shift, memory.shift, 1e-12, "shift")
        _close(blocks.inv_scale, memory.inv_scale, 1e-12, "scale")
        v0, g0 = value_gradient(stack, memory, theta, 0.01, stack.weight_mask())
        v1, g1 = value_gradient(stack, blocks, theta, 0.01, stack.weight_mask())
        assert v1 == pytest.approx(v0, rel=1e-12)
        _close(g1, g0, 1e-11, "gradient")


@pytest.mark.parametrize("classifier", [False, True])
def test_network_lbfgs_on_dask_matches_the_in_memory_fit(client, classifier):
    """Ten L-BFGS iterations visit the same points to 1e-6: the objective is the same up to
    the order of its sums (test above), and a network's non-convex objective lets L-BFGS
    amplify that rounding (about 1e-7 after 30 iterations) -- so long fits of a network are
    not compared; a network without hidden layers is the GLM, compared to 1e-8 above."""
    X, y = _network_data()
    args = dict(hidden=(3,), activation="tanh", solver="lbfgs", max_iter=10, alpha=1e-2,
                random_state=0)  # fmt: skip
    if classifier:
        y = np.digitize(y, [1.0, 3.0])  # three classes
        make = lambda: NeuralGLMClassifier(**args)  # noqa: E731
    else:
        make = lambda: NeuralGLM(family="poisson", **args)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        memory = make().fit(X, y)
        fitted = make().fit(*_rows(X, y))
    for a, b in zip(fitted.coefs_ + fitted.intercepts_, memory.coefs_ + memory.intercepts_,
                    strict=True):  # fmt: skip
        _close(a, b, 1e-6, "coefs_")
    _close(fitted.coef_table()["std_error"], memory.coef_table()["std_error"], 1e-5, "std_error")
    Xd = _rows(X)[0]
    lazy = fitted.transform(Xd)
    assert isinstance(lazy, da.Array) and lazy.shape == (len(X), 3)
    _close(lazy.compute(), fitted.transform(X), 1e-12, "transform")
    method = "predict_proba" if classifier else "predict"
    _close(getattr(fitted, method)(Xd).compute(), getattr(fitted, method)(X), 1e-12, method)


def test_network_adam_streams_the_blocks(client):
    X, y = _network_data(2000, seed=22)
    args = dict(family="poisson", hidden=(4,), activation="tanh", solver="adam", max_iter=15,
                batch_size=50, learning_rate_init=0.01, random_state=3)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        memory = NeuralGLM(**args).fit(X, y)
        first = NeuralGLM(**args).fit(*_rows(X, y, chunk=400))
        second = NeuralGLM(**args).fit(*_rows(X, y, chunk=400))
    # reproducible up to rounding: a transfer places a chunk at another address, where BLAS
    # and vectorised loops round differently (2e-16 relative in a sum)
    for a, b in zip(first.coefs_, second.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    # the mini-batches differ (rows shuffled within blocks), the training does not
    assert first.loss_curve_[-1] < 0.8 * first.loss_curve_[0]
    assert first.loss_curve_[-1] == pytest.approx(memory.loss_curve_[-1], rel=0.05)
    assert first.score(*_rows(X, y)).compute() == pytest.approx(memory.score(X, y), abs=0.03)


def test_network_options_that_need_rows_in_memory_say_so(client):
    X, y = _network_data(300)
    with pytest.raises(ValueError, match="early_stopping=True is not available on dask"):
        NeuralGLM(family="poisson", early_stopping=True).fit(*_rows(X, y, chunk=100))
    with pytest.raises(ValueError, match="partial_fit takes in-memory batches"):
        NeuralGLM(family="poisson").partial_fit(*_rows(X, y, chunk=100))


def test_every_family_and_link_on_blocks_equals_the_in_memory_fit():
    """Every registered family and every registered link, in pairs that fit cleanly in
    memory, give the same fit from row blocks -- run on dask's synchronous scheduler: the
    sums are the same whatever runs them, and the cluster's serialisation is covered by the
    tests above.  At tol=1e-10
    a few ill-conditioned pairs (identity links with the inverse Gaussian and Tweedie 2.5,
    an intercept of 50 beside coefficients of 1e-7) stop at their rounding floor, where the
    order of the sums decides the last digits: 1e-7 for all, 1e-6 where a fit stagnated."""
    import itertools

    import dask
    from helpers import FAMILY_SPECS, LINK_SPECS

    compared, families, links = 0, set(), set()
    for family, link in itertools.product(FAMILY_SPECS, LINK_SPECS):
        if family in families and link in links:
            continue  # every family and every link at least once
        try:
            X, y, *_ = make_tabular(400, 3, family, link, seed=23)
        except ValueError:  # no mean inside both domains
            continue
        w = np.random.default_rng(9).uniform(0.5, 2.0, len(y))
        args = dict(family=family, link=link, tol=1e-10, max_iter=200)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                memory = GLMRegressor(**args).fit(X, y, sample_weight=w)
            except (ValueError, ArithmeticError, Warning):
                continue  # the pair does not fit these data cleanly in memory either
        synchronous = dask.config.set(scheduler="synchronous")
        with synchronous, warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            # distributed (2025.1) warns that the cluster is bypassed: here on purpose
            warnings.filterwarnings("ignore", message="Running on a single-machine scheduler")
            fitted = GLMRegressor(**args).fit(*_rows(X, y, w, chunk=150)[:2],
                                              sample_weight=_rows(w, chunk=150)[0])
        for warning in seen:  # only the rounding floor, never another problem
            assert "in floating point" in str(warning.message), (family, link, warning.message)
        rtol = 1e-6 if seen else 1e-7
        _close(fitted.coef_, memory.coef_, rtol, f"{family} {link} coef_")
        _close(fitted.intercept_, memory.intercept_, rtol, f"{family} {link} intercept_")
        _close(fitted.deviance_, memory.deviance_, rtol, f"{family} {link} deviance_")
        compared += 1
        families.add(family)
        links.add(link)
    assert families == set(FAMILY_SPECS)
    # the negative binomial link fits none of these tables cleanly in memory (nor here)
    assert links >= set(LINK_SPECS) - {"negative_binomial(0.7)"}
