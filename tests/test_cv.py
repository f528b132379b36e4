"""GLMRegressorCV against scikit-learn's ElasticNetCV, glum's path CV and independent fits."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import ElasticNetCV, LassoCV
from sklearn.model_selection import GroupKFold, KFold

from skglmnn import GLMRegressor, GLMRegressorCV
from skglmnn._testing import make_tabular

TIGHT = {"tol": 1e-10, "max_iter": 1000}
FOLDS = KFold(5, shuffle=True, random_state=0)


def eta(X, coef, intercept):
    return X @ coef + intercept


def test_normal_paths_equal_elastic_net_cv_on_real_shaped_columns():
    X, y, _, _ = make_tabular(300, 6, "normal", seed=1)  # a year, incomes in cents, a rate, ...
    grid = LassoCV(alphas=30, cv=FOLDS).fit(X, y).alphas_
    ref = ElasticNetCV(l1_ratio=[0.3, 1.0], alphas=grid, cv=FOLDS, tol=1e-12,
                       max_iter=100_000).fit(X, y)  # fmt: skip
    ours = GLMRegressorCV(alphas=grid, l1_ratio=[0.3, 1.0], cv=FOLDS, **TIGHT).fit(X, y)
    assert ours.deviance_path_.shape == ref.mse_path_.shape == (2, 30, 5)
    np.testing.assert_allclose(ours.deviance_path_, ref.mse_path_, rtol=1e-8)
    assert ours.alpha_ == ref.alpha_ and ours.l1_ratio_ == ref.l1_ratio_
    np.testing.assert_allclose(eta(X, ours.coef_, ours.intercept_),
                               eta(X, ref.coef_, ref.intercept_), rtol=1e-8)  # fmt: skip


def test_a_generated_grid_is_lasso_cvs_and_stops_when_the_fit_saturates():
    X, y, _, _ = make_tabular(300, 6, "normal", seed=1)
    ref = LassoCV(alphas=30, cv=FOLDS).fit(X, y)  # eps=1e-3
    ours = GLMRegressorCV(alphas=30, alpha_min_ratio=1e-3, cv=FOLDS).fit(X, y)
    n = ours.alphas_.size
    np.testing.assert_allclose(ours.alphas_, ref.alphas_[:n], rtol=1e-12)
    assert np.all(ours.coef_path_[0] == 0) and np.any(ours.coef_path_[1] != 0)  # alpha_max
    # glmnet's rule: stop at the first point explaining 99.9% of the deviance
    signal = X @ [0.0, 1e-6, 0.0, 0.0, 0.0, 0.0]  # the income alone, exactly
    exact = GLMRegressorCV(alphas=100, cv=FOLDS).fit(X, signal + 3)
    explained = 1 - exact.train_deviance_path_ / np.var(signal)
    assert exact.alphas_.size < 100 and explained[-1] >= 0.999 and explained[-2] < 0.999


def test_a_slow_start_is_not_taken_for_saturation():
    """An income in euros enters first and alone; the factors that matter come later."""
    rng = np.random.default_rng(0)
    n = 1500
    X = np.column_stack([rng.lognormal(10.5, 0.5, n), rng.uniform(18, 85, n),
                         rng.integers(0, 2, n), rng.normal(size=n)])  # fmt: skip
    y = rng.gamma(2.0, np.exp(7.5 + 0.01 * (X[:, 1] - 50) + 0.3 * X[:, 2]) / 2.0)
    cv = GLMRegressorCV("gamma", link="log", alphas=60, cv=3).fit(X, y)
    assert cv.alphas_.size == 60
    explained = 1 - cv.train_deviance_path_ / cv.train_deviance_path_[0]
    # glmnet's relative-gain rule would have stopped here ...
    fires = np.flatnonzero(np.diff(explained) < 1e-5 * explained[1:])
    assert fires.size and (cv.coef_path_[fires[0] + 1] != 0).sum() == 1
    # ... long before the age and the dummy enter and explain most of the deviance
    assert explained[-1] > 10 * explained[fires[0] + 1]
    assert np.all(cv.coef_[1:3] > 0)


@pytest.mark.parametrize("family, link, l1_ratio", [
    ("poisson", "log", 1.0), ("gamma", "log", 0.5), ("binomial", "logit", 0.0),
    ("tweedie(1.5)", "log", 1.0),
])  # fmt: skip
def test_path_points_equal_independent_fits(family, link, l1_ratio):
    X, y, _, _ = make_tabular(400, 6, family, link, seed=3)
    cv = GLMRegressorCV(family, link, alphas=12, l1_ratio=l1_ratio, cv=3, **TIGHT).fit(X, y)
    for k in (1, 5, cv.alphas_.size - 1):
        fit = GLMRegressor(family, link, alpha=cv.alphas_[k], l1_ratio=l1_ratio, **TIGHT).fit(X, y)
        np.testing.assert_allclose(eta(X, cv.coef_path_[k], cv.intercept_path_[k]),
                                   eta(X, fit.coef_, fit.intercept_), rtol=1e-6, atol=1e-7)
    chosen = GLMRegressor(family, link, alpha=cv.alpha_, l1_ratio=l1_ratio, **TIGHT).fit(X, y)
    np.testing.assert_allclose(cv.coef_, chosen.coef_, rtol=1e-6, atol=1e-9)


def test_fold_deviances_equal_fits_on_the_training_rows_with_weights_and_offset():
    X, y, _, _ = make_tabular(300, 5, "poisson", seed=4)
    rng = np.random.default_rng(0)
    exposure = rng.uniform(0.5, 2.0, y.size)
    w = rng.integers(1, 4, y.size).astype(float)
    cv = GLMRegressorCV("poisson", alphas=8, cv=FOLDS, **TIGHT).fit(
        X, y, sample_weight=w, offset=np.log(exposure))
    for fold, (train, test) in enumerate(FOLDS.split(X)):
        for k in (0, 3, cv.alphas_.size - 1):
            fit = GLMRegressor("poisson", alpha=cv.alphas_[k], l1_ratio=1.0, **TIGHT).fit(
                X[train], y[train], sample_weight=w[train], offset=np.log(exposure[train]))
            mu = fit.predict(X[test], offset=np.log(exposure[test]))
            mean_deviance = fit.family_.deviance(y[test], mu, w[test]) / w[test].sum()
            np.testing.assert_allclose(cv.deviance_path_[k, fold], mean_deviance, rtol=1e-7)


def test_the_one_standard_error_rule():
    X, y, _, _ = make_tabular(300, 8, "poisson", seed=5)
    cv = GLMRegressorCV("poisson", alphas=25, cv=FOLDS, selection="1se").fit(X, y)
    mean = cv.deviance_path_.mean(axis=1)
    se = cv.deviance_path_.std(axis=1, ddof=1) / np.sqrt(5)
    np.testing.assert_allclose(cv.cv_mean_, mean)
    np.testing.assert_allclose(cv.cv_se_, se)
    best = np.argmin(mean)
    largest_within = cv.alphas_[np.flatnonzero(mean <= mean[best] + se[best])].max()
    assert cv.alpha_min_ == cv.alphas_[best]
    assert cv.alpha_1se_ == largest_within == cv.alpha_ and cv.alpha_1se_ >= cv.alpha_min_
    # the 1-SE model is the sparser one
    minimum = GLMRegressorCV("poisson", alphas=25, cv=FOLDS).fit(X, y)
    assert minimum.alpha_ == cv.alpha_min_
    assert np.sum(cv.coef_ != 0) <= np.sum(minimum.coef_ != 0)


def test_a_scorer_selects_by_its_mean_and_groups_reach_the_splitter():
    X, y, _, _ = make_tabular(240, 5, "normal", seed=6)
    groups = np.arange(y.size) % 6
    cv = GLMRegressorCV(alphas=10, cv=GroupKFold(3), scoring="neg_mean_absolute_error").fit(
        X, y, groups=groups)
    for fold, (train, test) in enumerate(GroupKFold(3).split(X, y, groups)):
        assert len(np.unique(groups[test])) == 2
        k = 4
        pred = eta(X[test], *_fold_point(X, y, train, cv.alphas_[k]))
        np.testing.assert_allclose(cv.score_path_[k, fold], -np.mean(np.abs(y[test] - pred)),
                                   rtol=1e-5)  # fmt: skip
    assert cv.alpha_ == cv.alphas_[np.argmax(cv.score_path_.mean(axis=1))]


def _fold_point(X, y, train, alpha):
    fit = GLMRegressor(alpha=alpha, l1_ratio=1.0, **TIGHT).fit(X[train], y[train])
    return fit.coef_, fit.intercept_


def test_glum_path_cv_gives_the_same_deviances_and_choice():
    glum = pytest.importorskip("glum")
    for family in ("poisson", "gamma", "binomial"):
        X, y, _, _ = make_tabular(400, 6, family, seed=2)
        ours = GLMRegressorCV(family, alphas=15, alpha_min_ratio=1e-3, cv=FOLDS, **TIGHT).fit(X, y)
        ref = glum.GeneralizedLinearRegressorCV(
            family=family, l1_ratio=1.0, alphas=ours.alphas_, cv=FOLDS, gradient_tol=1e-10,
            max_iter=1000,
        ).fit(X, y)
        np.testing.assert_allclose(ours.deviance_path_.T, ref.deviance_path_[:, 0, :],
                                   rtol=1e-6, err_msg=family)  # fmt: skip
        assert ours.alpha_ == ref.alpha_


def test_the_fitted_model_is_a_glm_with_a_post_selection_warning():
    X, y, _, _ = make_tabular(300, 5, "gamma", seed=7)
    cv = GLMRegressorCV("gamma", alphas=10, l1_ratio=0.5, cv=3).fit(X, y)
    assert isinstance(cv, GLMRegressor) and cv.solver_ == "cd"
    np.testing.assert_allclose(cv.predict(X), np.exp(eta(X, cv.coef_, cv.intercept_)), rtol=1e-12)
    with pytest.warns(UserWarning, match="chosen by cross-validation"):
        table = cv.coef_table()
    assert list(table.index)[:2] == ["intercept", "x0"] or len(table) == 6


@pytest.mark.parametrize("params, message", [
    ({"alphas": [-1.0, 0.1]}, "non-negative"),
    ({"alphas": []}, "at least one"),
    ({"l1_ratio": [0.5, 1.5]}, r"\[0, 1\]"),
])  # fmt: skip
def test_bad_grids_are_refused(params, message):
    X, y, _, _ = make_tabular(60, 3, "normal", seed=0)
    with pytest.raises(ValueError, match=message):
        GLMRegressorCV(**params).fit(X, y)


def test_a_scorer_with_an_offset_is_refused():
    X, y, _, _ = make_tabular(60, 3, "poisson", seed=0)
    with pytest.raises(ValueError, match="offset"):
        GLMRegressorCV("poisson", scoring="r2").fit(X, y, offset=np.zeros(60))


def test_unconverged_path_points_warn_once():
    X, y, _, _ = make_tabular(200, 6, "poisson", seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GLMRegressorCV("poisson", alphas=5, cv=3, max_iter=1, tol=1e-12).fit(X, y)
    messages = [str(w.message) for w in caught if "path fits did not reach" in str(w.message)]
    assert len(messages) == 1
