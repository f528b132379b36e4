"""Formulas: the same model as statsmodels' smf.glm on the same formula and data."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from skglmnn import GLMClassifier, GLMRegressor, NeuralGLM
from skglmnn.formula import FormulaTransformer, fit_formula

pytest.importorskip("formulaic")


def _data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.uniform(18, 80, n).round(),
        "income": rng.lognormal(10.5, 0.4, n),
        "hours": rng.normal(40, 8, n),
        "region": rng.choice(["north", "south", "east", "west"], n),
    })  # fmt: skip
    eta = (-1.0 + 0.01 * (frame.age - 45) + 0.3 * np.log(frame.income / 36000)
           + frame.region.map({"north": 0.0, "south": 0.2, "east": -0.3, "west": 0.1})
           + 0.0005 * (frame.age - 45) * (frame.hours - 40))  # fmt: skip
    frame["claims"] = rng.poisson(np.exp(eta))
    frame["cost"] = rng.gamma(3.0, np.exp(eta + 6) / 3.0)
    frame["lapsed"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int)
    return frame


FORMULA = "age + C(region) + np.log(income) + age:hours"


@pytest.mark.parametrize("response, family, sm_family", [
    ("claims", "poisson", sm.families.Poisson()),
    ("cost", "gamma", sm.families.Gamma(sm.families.links.Log())),
])  # fmt: skip
def test_fit_formula_matches_statsmodels_glm(response, family, sm_family):
    data = _data()
    formula = f"{response} ~ {FORMULA}"
    ours = fit_formula(formula, data, GLMRegressor(family, tol=1e-10))
    ref = smf.glm(formula, data, family=sm_family).fit(tol=1e-13)
    table = ours[-1].coef_table()
    names = [n if n != "intercept" else "Intercept" for n in table.index]
    assert sorted(names) == sorted(ref.params.index)
    np.testing.assert_allclose(table["estimate"], ref.params[names], rtol=1e-6)
    np.testing.assert_allclose(table["std_error"], ref.bse[names], rtol=1e-6)
    np.testing.assert_allclose(ours.predict(data), ref.predict(data), rtol=1e-6)


def test_formula_without_intercept_and_with_offset_and_weights():
    data = _data(seed=1)
    offset = np.log(np.random.default_rng(2).uniform(0.5, 2.0, len(data)))
    weights = np.random.default_rng(3).integers(1, 4, len(data)).astype(float)
    formula = "claims ~ 0 + C(region) + age"
    ours = fit_formula(formula, data, GLMRegressor("poisson", tol=1e-10), offset=offset,
                       sample_weight=weights)  # fmt: skip
    assert not ours[-1].fit_intercept
    ref = smf.glm(formula, data, family=sm.families.Poisson(), offset=offset,
                  freq_weights=weights).fit(tol=1e-13)  # fmt: skip
    table = ours[-1].coef_table()
    np.testing.assert_allclose(table["estimate"], ref.params[list(table.index)], rtol=1e-6)
    np.testing.assert_allclose(table["std_error"], ref.bse[list(table.index)], rtol=1e-6)


def test_classifier_and_network_behind_a_formula():
    data = _data(seed=4)
    clf = fit_formula(f"lapsed ~ {FORMULA}", data, GLMClassifier(C=np.inf, tol=1e-10))
    ref = smf.glm(f"lapsed ~ {FORMULA}", data, family=sm.families.Binomial()).fit(tol=1e-13)
    np.testing.assert_allclose(clf.predict_proba(data)[:, 1], ref.predict(data), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        network = NeuralGLM(hidden=(), family="poisson", alpha=0.0, solver="lbfgs", tol=1e-9,
                            max_iter=2000)
        net = fit_formula(f"claims ~ {FORMULA}", data, network)
    glm = smf.glm(f"claims ~ {FORMULA}", data, family=sm.families.Poisson()).fit(tol=1e-13)
    np.testing.assert_allclose(net.predict(data), glm.predict(data), rtol=1e-5)


def test_polars_data_and_new_levels():
    pl = pytest.importorskip("polars")
    data = _data(seed=5)
    frame = pl.DataFrame({c: data[c].to_numpy() for c in data.columns})
    from_polars = fit_formula(f"claims ~ {FORMULA}", frame, GLMRegressor("poisson"))
    from_pandas = fit_formula(f"claims ~ {FORMULA}", data, GLMRegressor("poisson"))
    np.testing.assert_allclose(from_polars.predict(frame), from_pandas.predict(data))
    assert list(from_polars[-1].coef_table().index) == list(from_pandas[-1].coef_table().index)
    new = data.head(3).assign(region=["north", "mars", "south"])
    with pytest.raises(ValueError, match="mars"):
        from_pandas.predict(new)
    lenient = FormulaTransformer(FORMULA, unseen="reference").fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoded = lenient.transform(new)
    assert encoded.filter(like="C(region)").iloc[1].eq(0).all()  # the reference level


def test_missing_values_and_bad_formulas_are_clear_errors():
    data = _data(seed=6)
    data.loc[3, "income"] = np.nan
    with pytest.raises(Exception, match="(?i)missing|nan|null"):
        FormulaTransformer(FORMULA).fit(data)
    fitted = FormulaTransformer(FORMULA).fit(_data())
    with pytest.raises(ValueError, match="Missing values"):
        fitted.transform(data)
    with pytest.raises(ValueError, match="response"):
        fit_formula(FORMULA, _data(), GLMRegressor())
    with pytest.raises(ValueError, match="unseen"):
        FormulaTransformer(FORMULA, unseen="ignore").fit(_data())
    with pytest.raises(TypeError, match="DataFrame"):
        FormulaTransformer("x").fit(np.zeros((3, 2)))


def test_formula_pipeline_clones_and_cross_validates():
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    data = _data(seed=7)
    pipe = make_pipeline(FormulaTransformer(FORMULA), GLMRegressor("poisson"))
    scores = cross_val_score(pipe, data, data["claims"], cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    fitted = clone(pipe).fit(data, data["claims"])
    assert list(fitted[-1].coef_table().index)[:2] == ["age", "C(region)[T.north]"]
