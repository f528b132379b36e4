"""The plots draw what the estimators computed: coef_table, paths and CV curves."""

import numpy as np
import pytest

from skglmnn import GLMClassifier, GLMRegressor, GLMRegressorCV
from skglmnn._testing import make_tabular
from skglmnn.plotting import CoefficientDisplay, CVCurveDisplay, PathDisplay

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def _drawn(display):
    """(estimates, lower, upper, tick labels) read back from the artists."""
    points, _, (bars,) = display.errorbar_
    x, _ = points.get_data()
    segments = bars.get_segments()
    labels = [t.get_text() for t in display.ax_.get_yticklabels()]
    return np.asarray(x), np.array([s[0][0] for s in segments]), np.array(
        [s[1][0] for s in segments]), labels  # fmt: skip


@pytest.mark.parametrize("robust", [None, "HC1"])
def test_forest_plot_shows_the_table(robust):
    import pandas as pd

    X, y, _, _ = make_tabular(400, 4, "poisson", seed=1)
    X = pd.DataFrame(X, columns=["year", "income", "age", "urban"])
    model = GLMRegressor("poisson").fit(X, y)
    display = CoefficientDisplay.from_estimator(model, level=0.9, robust=robust)
    table = model.coef_table(level=0.9, robust=robust).drop(index="intercept")
    est, lower, upper, labels = _drawn(display)
    np.testing.assert_allclose(est, table["estimate"])
    np.testing.assert_allclose(lower, table["ci_lower"])
    np.testing.assert_allclose(upper, table["ci_upper"])
    assert labels == list(table.index)  # the first row on top
    assert "90%" in display.ax_.get_xlabel()
    matplotlib.pyplot.close("all")


def test_forest_plot_of_a_multinomial_model_with_intercepts_and_sorting():
    X, _, _, _ = make_tabular(300, 3, seed=2)
    y = np.digitize(X[:, 2], np.quantile(X[:, 2], [1 / 3, 2 / 3]))
    model = GLMClassifier(C=10.0).fit(X, y)
    display = CoefficientDisplay.from_estimator(model, include_intercept=True, sort=True)
    est, _, _, labels = _drawn(display)
    assert len(est) == 12 and np.all(np.diff(est) >= 0)
    assert "2 intercept" in labels
    matplotlib.pyplot.close("all")


def test_path_and_cv_curve_show_the_fitted_paths_and_both_choices():
    X, y, _, _ = make_tabular(300, 5, "poisson", seed=3)
    cv = GLMRegressorCV("poisson", alphas=15, l1_ratio=[0.5, 1.0], cv=3).fit(X, y)
    k = list(cv.l1_ratios_).index(cv.l1_ratio_)
    path = PathDisplay.from_estimator(cv)
    assert len(path.lines_) == 5
    for j, line in enumerate(path.lines_):
        np.testing.assert_array_equal(line.get_xdata(), cv.alphas_[k])
        np.testing.assert_array_equal(line.get_ydata(), cv.coef_path_[k][:, j])
    curve = CVCurveDisplay.from_estimator(cv)
    points, _, (bars,) = curve.errorbar_
    np.testing.assert_array_equal(points.get_ydata(), cv.cv_mean_[k])
    spans = np.array([s[1][1] - s[0][1] for s in bars.get_segments()])
    np.testing.assert_allclose(spans, 2 * cv.cv_se_[k])
    marked = [line.get_xdata()[0] for line in curve.choice_lines_]
    assert marked == [cv.alpha_min_, cv.alpha_1se_]
    assert curve.ax_.xaxis_inverted() and curve.ax_.get_xscale() == "log"
    other = 1.5 - cv.l1_ratio_  # the other ratio: its path, no choice marked
    shown = PathDisplay.from_estimator(cv, l1_ratio=other)
    np.testing.assert_array_equal(shown.lines_[0].get_ydata(),
                                  cv.coef_path_[1 - k][:, 0])  # fmt: skip
    assert shown.choice_lines_ == []
    with pytest.raises(ValueError, match="not one of the fitted"):
        PathDisplay.from_estimator(cv, l1_ratio=0.3)


def test_a_single_ratio_path_uses_the_feature_names():
    pd = pytest.importorskip("pandas")
    X, y, _, _ = make_tabular(200, 3, "normal", seed=1)
    frame = pd.DataFrame(X, columns=["year", "income", "age"])
    cv = GLMRegressorCV(alphas=10, cv=3).fit(frame, y)
    display = PathDisplay.from_estimator(cv)
    assert [line.get_label() for line in display.lines_] == ["year", "income", "age"]
    np.testing.assert_array_equal(display.lines_[2].get_ydata(), cv.coef_path_[:, 2])
