"""pandas and polars in and out: feature names through every estimator, set_output."""

import warnings

import numpy as np
import pandas as pd
import pytest

from skglmnn import GLMClassifier, GLMRegressor, NeuralGLM, NeuralGLMClassifier

pl = pytest.importorskip("polars")

NAMES = ["age", "income", "region_north"]


def _frame(kind, seed=0):
    rng = np.random.default_rng(seed)
    data = {"age": rng.uniform(20, 70, 300), "income": rng.lognormal(10, 0.5, 300),
            "region_north": rng.integers(0, 2, 300).astype(float)}  # fmt: skip
    eta = 0.02 * (data["age"] - 45) + 0.3 * data["region_north"]
    return (pd.DataFrame(data) if kind == "pandas" else pl.DataFrame(data)), eta


ESTIMATORS = [
    lambda: GLMRegressor("poisson"),
    lambda: GLMClassifier(),
    lambda: NeuralGLM(hidden=(), family="poisson", solver="lbfgs", max_iter=200),
    lambda: NeuralGLMClassifier(hidden=(), solver="lbfgs", max_iter=200),
]


@pytest.mark.parametrize("kind", ["pandas", "polars"])
@pytest.mark.parametrize("make", ESTIMATORS)
def test_frames_keep_column_names_through_fit_predict_and_tables(make, kind):
    X, eta = _frame(kind)
    rng = np.random.default_rng(1)
    estimator = make()
    classify = isinstance(estimator, GLMClassifier | NeuralGLMClassifier)
    y = (rng.uniform(size=300) < 1 / (1 + np.exp(-eta))).astype(int) if classify else (
        rng.poisson(np.exp(eta)).astype(float))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "X has feature names" warning
        estimator.fit(X, y)
        prediction = estimator.predict(X)
    assert list(estimator.feature_names_in_) == NAMES
    table = estimator.coef_table()
    assert list(table.index)[:3] == NAMES
    # the same table from the data passed again, as polars or pandas
    np.testing.assert_allclose(estimator.coef_table(X, y)["std_error"], table["std_error"])
    ndarray = make().fit(X.to_numpy(), y)
    np.testing.assert_allclose(prediction, ndarray.predict(X.to_numpy()))


@pytest.mark.parametrize("output", ["pandas", "polars"])
@pytest.mark.parametrize("hidden", [(), (4,)])
@pytest.mark.parametrize("cls", [NeuralGLM, NeuralGLMClassifier])
def test_network_transform_follows_set_output(cls, hidden, output):
    X, eta = _frame("pandas")
    y = (eta > 0).astype(int)
    net = cls(hidden=hidden, solver="lbfgs", max_iter=30, random_state=0).set_output(
        transform=output)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        features = net.fit(X, y).transform(X)
    expected = NAMES if not hidden else [f"hidden_{j}" for j in range(hidden[0])]
    assert list(net.get_feature_names_out()) == expected
    assert list(features.columns) == expected
    assert isinstance(features, pd.DataFrame if output == "pandas" else pl.DataFrame)
    net.set_output(transform="default")
    np.testing.assert_allclose(np.asarray(features), net.transform(X))
    if hidden:  # the output layer's table is indexed by the same names
        assert list(net.coef_table().index)[:-1] == expected


def test_feature_names_out_checks_input_names():
    X, eta = _frame("pandas")
    net = NeuralGLM(hidden=(), solver="lbfgs", max_iter=50).fit(X, eta)
    with pytest.raises(ValueError, match="input_features"):
        net.get_feature_names_out(["a", "b", "c"])
