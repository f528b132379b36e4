"""Property tests (hypothesis): what must hold for every real-shaped data set.

Scale and shift equivariance, column permutation, a duplicated column, zero
weights and integer weights -- each against the fit it must equal, for the
regressor (Poisson, gamma) and the classifier (binary, multinomial).  Data come
from ``skglmnn._testing.make_tabular`` with seeds drawn by hypothesis, so every
example is correlated, unevenly scaled and far from zero.
"""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from skglmnn import GLMClassifier, GLMRegressor
from skglmnn._testing import make_tabular

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
MODELS = st.sampled_from(["poisson", "gamma", "binary", "multinomial"])


def _data(model, seed, n=300, p=5):
    family = {"binary": "binomial", "multinomial": "normal"}.get(model, model)
    X, y, _, _ = make_tabular(n, p, family, seed=seed, spread=0.5)
    if model == "multinomial":  # three ordered classes, noisy enough not to separate
        noise = np.random.default_rng(seed).logistic(scale=np.std(y), size=n)
        y = np.digitize(y + noise, np.quantile(y + noise, [0.3, 0.7]))
    return X, y


def _fit(model, X, y, sample_weight=None):
    """Unpenalised fit at a tight tol; returns (coef (m, p), intercept (m,))."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # rank deficiency, where intended
        warnings.simplefilter("error", ConvergenceWarning)  # every fit must meet tol
        if model in ("binary", "multinomial"):
            est = GLMClassifier(C=np.inf, tol=1e-10).fit(X, y, sample_weight=sample_weight)
            return est.coef_, est.intercept_
        link = "log"
        est = GLMRegressor(model, link, tol=1e-10).fit(X, y, sample_weight=sample_weight)
        return est.coef_[None, :], np.array([est.intercept_])


def _close(a, b, std, rtol=1e-6):
    """Coefficients equal in standardised units, relative to their size."""
    scale = np.linalg.norm(b * std) + 1e-12
    np.testing.assert_array_less(np.abs(a - b) * std, rtol * scale)


@SETTINGS
@given(model=MODELS, seed=st.integers(0, 10**6), scales=st.integers(0, 10**6))
def test_scale_and_shift_equivariance(model, seed, scales):
    X, y = _data(model, seed)
    rng = np.random.default_rng(scales)
    d = 10.0 ** rng.uniform(-4, 5, X.shape[1])
    c = rng.uniform(-1e3, 1e3, X.shape[1]) * X.std(axis=0) * d
    coef, _ = _fit(model, X, y)
    coef_t, _ = _fit(model, X * d + c, y)
    _close(coef_t * d, coef, X.std(axis=0))


@SETTINGS
@given(model=MODELS, seed=st.integers(0, 10**6), order=st.permutations(range(5)))
def test_column_permutation(model, seed, order):
    X, y = _data(model, seed)
    coef, intercept = _fit(model, X, y)
    coef_p, intercept_p = _fit(model, X[:, order], y)
    _close(coef_p, coef[:, order], X.std(axis=0)[order])
    np.testing.assert_allclose(intercept_p, intercept, rtol=1e-6, atol=1e-8)


@SETTINGS
@given(model=MODELS, seed=st.integers(0, 10**6), column=st.integers(0, 4))
def test_a_duplicated_column_splits_its_coefficient_evenly(model, seed, column):
    """The minimum-norm solution among the equivalent ones: half the coefficient each."""
    X, y = _data(model, seed)
    coef, _ = _fit(model, X, y)
    coef_d, _ = _fit(model, np.column_stack([X, X[:, column]]), y)
    half = coef[:, column] / 2
    std = X.std(axis=0)
    _close(coef_d[:, [column, -1]], np.column_stack([half, half]), np.r_[std[column]] * 1.0)
    others = [j for j in range(5) if j != column]
    _close(coef_d[:, others], coef[:, others], std[others])


@SETTINGS
@given(model=MODELS, seed=st.integers(0, 10**6), drop=st.integers(0, 10**6))
def test_zero_weights_drop_rows(model, seed, drop):
    X, y = _data(model, seed)
    keep = np.random.default_rng(drop).random(len(y)) > 0.3
    coef, intercept = _fit(model, X[keep], y[keep])
    coef_w, intercept_w = _fit(model, X, y, sample_weight=keep.astype(float))
    _close(coef_w, coef, X.std(axis=0))


@SETTINGS
@given(model=MODELS, seed=st.integers(0, 10**6), repeats=st.integers(0, 10**6))
def test_integer_weights_repeat_rows(model, seed, repeats):
    X, y = _data(model, seed, n=200)
    counts = np.random.default_rng(repeats).integers(1, 4, len(y))
    rows = np.repeat(np.arange(len(y)), counts)
    coef, _ = _fit(model, X[rows], y[rows])
    coef_w, _ = _fit(model, X, y, sample_weight=counts.astype(float))
    _close(coef_w, coef, X.std(axis=0))
