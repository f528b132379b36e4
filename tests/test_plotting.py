"""The forest plot draws what coef_table says."""

import numpy as np
import pytest

from skglmnn import GLMClassifier, GLMRegressor
from skglmnn._testing import make_tabular
from skglmnn.plotting import CoefficientDisplay

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
