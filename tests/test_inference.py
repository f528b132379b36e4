"""Inference against statsmodels: deviance, likelihood, standard errors, sandwiches, tables."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from test_glm import CASES, simulate, sm_family

import skglmnn.inference as inference
from skglmnn import GLMClassifier, GLMRegressor, NeuralGLM, NeuralGLMClassifier
from skglmnn.families import get_family
from skglmnn.links import get_link

RTOL = 1e-5


def _fit_both(family_spec, link_spec, weights, cov_type="nonrobust"):
    family, link = get_family(family_spec), get_link(link_spec)
    X, y = simulate(family, link)
    w = None
    if weights:
        w = np.random.default_rng(1).integers(1, 4, len(y)).astype(float)
    ref = sm.GLM(
        y, sm.add_constant(X, prepend=False), family=sm_family(family, link), freq_weights=w
    ).fit(tol=1e-13, maxiter=1000, cov_type=cov_type, use_t=family.has_dispersion)
    model = GLMRegressor(family_spec, link_spec, solver="newton", tol=1e-10)
    return model.fit(X, y, sample_weight=w), ref, X, y, w


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("family_spec, link_spec", CASES)
def test_statistics_and_table_match_statsmodels(family_spec, link_spec, weights):
    model, ref, _, _, _ = _fit_both(family_spec, link_spec, weights)
    table = model.coef_table()
    np.testing.assert_allclose(table["estimate"], ref.params, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(table["std_error"], ref.bse, rtol=RTOL)
    np.testing.assert_allclose(table["p_value"], ref.pvalues, rtol=RTOL, atol=1e-300)
    np.testing.assert_allclose(table[["ci_lower", "ci_upper"]], ref.conf_int(), rtol=RTOL)
    np.testing.assert_allclose(model.deviance_, ref.deviance, rtol=1e-8)
    np.testing.assert_allclose(model.null_deviance_, ref.null_deviance, rtol=1e-8)
    np.testing.assert_allclose(model.dispersion_, ref.scale, rtol=RTOL)
    np.testing.assert_allclose(model.loglik_, ref.llf, rtol=1e-8)
    np.testing.assert_allclose(model.aic_, ref.aic, rtol=1e-8)
    np.testing.assert_allclose(model.bic_, ref.bic_llf, rtol=1e-8)
    assert model.df_resid_ == ref.df_resid
    assert ("t" in table.columns) == get_family(family_spec).has_dispersion
    np.testing.assert_allclose(model.covariance_matrix(), ref.cov_params(), rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("robust", ["HC0", "HC1"])
@pytest.mark.parametrize(
    "family_spec, link_spec",
    [("normal", "identity"), ("poisson", "log"), ("gamma", "log"), ("binomial", "probit"),
     ("inverse_gaussian", "inverse_squared"), ("tweedie(1.5)", "log")],
)  # fmt: skip
def test_sandwich_errors_match_statsmodels(family_spec, link_spec, robust):
    model, ref, X, _, _ = _fit_both(family_spec, link_spec, False, cov_type="HC0")
    table = model.coef_table(robust=robust)
    expected = ref.bse
    if robust == "HC1":
        # statsmodels' GLM gives HC0 for "HC1"; the HC1 of OLS and of R's sandwich
        # package scales HC0 by n / (n - k)
        n, k = X.shape[0], X.shape[1] + 1
        expected = ref.bse * np.sqrt(n / (n - k))
    # statsmodels differentiates canonical links' inverses numerically in its observed
    # Hessian (~1e-5 relative noise for logit); the closed forms are checked below
    np.testing.assert_allclose(table["std_error"], expected, rtol=3e-5)
    assert "z" in table.columns


def test_hc1_is_the_ols_hc1_of_statsmodels():
    X, y = simulate(get_family("normal"), get_link("identity"))
    model = GLMRegressor(tol=1e-10).fit(X, y)
    ref = sm.OLS(y, sm.add_constant(X, prepend=False)).fit(cov_type="HC1")
    np.testing.assert_allclose(model.coef_table(robust="HC1")["std_error"], ref.bse, rtol=1e-8)


def test_sandwich_is_the_closed_form_for_logistic_regression():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :5]
    model = GLMClassifier(C=np.inf, tol=1e-10).fit(X, y)
    Z = np.column_stack([X, np.ones(len(y))])
    mu = model.predict_proba(X)[:, 1]
    bread = np.linalg.inv((Z * (mu * (1 - mu))[:, None]).T @ Z)
    meat = (Z * ((mu - y) ** 2)[:, None]).T @ Z
    hc0 = bread @ meat @ bread
    np.testing.assert_allclose(model.covariance_matrix(robust="HC0"), hc0, rtol=1e-8)
    n, k = Z.shape
    np.testing.assert_allclose(model.covariance_matrix(robust="HC1"), hc0 * n / (n - k), rtol=1e-8)


def test_frequency_weights_give_the_sandwich_of_repeated_rows():
    family, link = get_family("poisson"), get_link("log")
    X, y = simulate(family, link)
    w = np.random.default_rng(2).integers(1, 4, len(y))
    weighted = GLMRegressor("poisson", tol=1e-10).fit(X, y, sample_weight=w)
    repeated = GLMRegressor("poisson", tol=1e-10).fit(np.repeat(X, w, 0), np.repeat(y, w))
    for robust in (None, "HC0", "HC1"):
        np.testing.assert_allclose(
            weighted.coef_table(robust=robust)["std_error"],
            repeated.coef_table(robust=robust)["std_error"], rtol=1e-7,
        )  # fmt: skip


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_binary_classifier_matches_statsmodels(link):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :6]
    model = GLMClassifier(C=np.inf, link=link, tol=1e-10, max_iter=1000).fit(X, y)
    L = sm.families.links
    sm_link = {"logit": L.Logit, "probit": L.Probit, "cloglog": L.CLogLog}[link]()
    ref = sm.GLM(y, sm.add_constant(X, prepend=False), family=sm.families.Binomial(sm_link))
    ref = ref.fit(tol=1e-13)
    table = model.coef_table()
    np.testing.assert_allclose(table["std_error"], ref.bse, rtol=RTOL)
    np.testing.assert_allclose(table["p_value"], ref.pvalues, rtol=RTOL)
    np.testing.assert_allclose(model.aic_, ref.aic, rtol=1e-8)
    np.testing.assert_allclose(model.null_deviance_, ref.null_deviance, rtol=1e-8)


def test_multinomial_contrasts_match_statsmodels_mnlogit():
    """Our classes are centred (softmax's redundant parametrisation); the contrasts with
    the first class are what statsmodels' MNLogit estimates, with the same covariance."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 2))
    y = np.argmax(X @ [[0.5, -0.3, 0.0], [0.2, 0.4, -0.6]] + rng.gumbel(size=(500, 3)), axis=1)
    model = GLMClassifier(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    ref = sm.MNLogit(y, sm.add_constant(X, prepend=False)).fit(disp=0, method="newton",
                                                               tol=1e-12)  # fmt: skip
    table = model.coef_table()
    assert table.index.names == ["class", "parameter"]
    est = table["estimate"].to_numpy().reshape(3, 3)
    contrast = est[1:] - est[0]
    np.testing.assert_allclose(contrast.T, ref.params, rtol=1e-5)
    # covariance of (beta_k - beta_0) from our (singular) covariance
    cov = model.covariance_matrix().to_numpy()
    A = np.zeros((6, 9))
    for k in (1, 2):
        for j in range(3):
            A[(k - 1) * 3 + j, k * 3 + j], A[(k - 1) * 3 + j, j] = 1.0, -1.0
    se = np.sqrt(np.diag(A @ cov @ A.T)).reshape(2, 3).T
    np.testing.assert_allclose(se, ref.bse, rtol=1e-5)
    np.testing.assert_allclose(model.loglik_, ref.llf, rtol=1e-8)
    np.testing.assert_allclose(model.aic_, ref.aic, rtol=1e-8)
    np.testing.assert_allclose(model.null_deviance_, -2 * ref.llnull, rtol=1e-8)


def test_penalised_errors_use_the_penalised_hessian_and_say_so():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :4]
    C = 0.05
    model = GLMClassifier(C=C, tol=1e-10).fit(X, y)
    Z = np.column_stack([X, np.ones(len(y))])
    mu = model.predict_proba(X)[:, 1]
    H = (Z * (mu * (1 - mu))[:, None]).T @ Z + np.diag([1 / C] * 4 + [0.0])
    np.testing.assert_allclose(model.covariance_matrix(), np.linalg.inv(H), rtol=1e-8)
    text = str(model.summary())
    assert "penalised" in text and "conditional on the penalty" in text


def test_l1_zeroed_coefficients_get_no_error():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    y = X[:, 0] - 0.5 * X[:, 1] + rng.normal(size=300)
    model = GLMRegressor(alpha=0.2, l1_ratio=1.0).fit(X, y)
    table = model.coef_table()
    zero = model.coef_ == 0
    assert zero.any() and not zero.all()
    assert table["std_error"].iloc[:6][zero].isna().all()
    assert table["std_error"].iloc[:6][~zero].notna().all()


def test_network_table_is_the_output_glm_and_reduces_to_the_glm():
    family, link = get_family("gamma"), get_link("log")
    X, y = simulate(family, link)
    net = NeuralGLM(hidden=(), family="gamma", alpha=0.0, solver="lbfgs", tol=1e-10,
                    max_iter=1000).fit(X, y)  # fmt: skip
    glm = GLMRegressor("gamma", tol=1e-10).fit(X, y)
    pd.testing.assert_frame_equal(net.coef_table(), glm.coef_table(), rtol=1e-5)
    for name in ("deviance_", "null_deviance_", "dispersion_", "loglik_", "aic_", "df_resid_"):
        np.testing.assert_allclose(getattr(net, name), getattr(glm, name), rtol=1e-6)
    deep = NeuralGLM(hidden=(4,), activation="tanh", family="gamma", solver="lbfgs",
                     tol=1e-10, max_iter=3000, random_state=0).fit(X, y)  # fmt: skip
    refit = GLMRegressor("gamma", alpha=deep.alpha, tol=1e-12).fit(deep.transform(X), y)
    table = deep.coef_table()
    assert list(table.index) == ["hidden_0", "hidden_1", "hidden_2", "hidden_3", "intercept"]
    np.testing.assert_allclose(table["std_error"], refit.coef_table()["std_error"], rtol=1e-4)
    assert "conditional on those features" in str(deep.summary())


def test_network_classifier_tables():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net = NeuralGLMClassifier(hidden=(3,), solver="lbfgs", random_state=0).fit(X, y)
        binary = NeuralGLMClassifier(hidden=(), link="probit", solver="lbfgs").fit(X, y > 0)
    assert net.coef_table().shape == (3 * 4, 6)
    assert list(net.coef_table().index.get_level_values(0).unique()) == [0, 1, 2]
    assert binary.coef_table().shape == (5, 6)


def test_summary_prints_like_r_and_renders_html():
    family, link = get_family("poisson"), get_link("log")
    X, y = simulate(family, link)
    model = GLMRegressor("poisson").fit(X, y)
    text = str(model.summary())
    for part in ("Call: GLMRegressor(family='poisson')", "Family: poisson   Link: log",
                 "Estimate", "Pr(>|z|)", "Signif. codes", "Null deviance", "Residual deviance",
                 "AIC", "Number of iterations"):  # fmt: skip
        assert part in text, part
    assert "***" in text  # the simulated effects are strong
    html = model.summary()._repr_html_()
    assert html.startswith("<div>") and "<table" in html


def test_large_fits_ask_for_the_data(monkeypatch):
    family, link = get_family("poisson"), get_link("log")
    X, y = simulate(family, link)
    small = GLMRegressor("poisson").fit(X, y)
    monkeypatch.setattr(inference, "INFERENCE_MAX_COST", 10)
    large = GLMRegressor("poisson").fit(X, y)
    assert np.isfinite(large.deviance_)  # the statistics are always there
    with pytest.raises(ValueError, match="pass the training data"):
        large.coef_table()
    pd.testing.assert_frame_equal(large.coef_table(X, y), small.coef_table())


def test_bad_arguments():
    X, y = simulate(get_family("normal"), get_link("identity"))
    model = GLMRegressor().fit(X, y)
    with pytest.raises(ValueError, match="robust"):
        model.coef_table(robust="HC3")
    with pytest.raises(ValueError, match="level"):
        model.coef_table(level=1.5)
    with pytest.raises(ValueError, match="y together with X"):
        model.coef_table(X)
    net = NeuralGLM(hidden=(2,), random_state=0).partial_fit(X, y)
    with pytest.raises(AttributeError, match="partial_fit"):
        net.coef_table()


@pytest.mark.parametrize(
    "params",
    [dict(), dict(solver="newton-cholesky", C=0.1), dict(solver="liblinear", C=0.5),
     dict(solver="saga", l1_ratio=1.0, C=0.05), dict(C=np.inf, link="probit")],
)  # fmt: skip
def test_classifier_deviance_from_the_objective_is_the_deviance(params):
    """Binary fits take the deviance from the solver's last objective; check it."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :8]
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GLMClassifier(tol=1e-8, max_iter=1000, **params).fit(X, y, sample_weight=w)
    p = model.predict_proba(X)[np.arange(len(y)), y]
    np.testing.assert_allclose(model.deviance_, -2 * w @ np.log(p), rtol=1e-9)
    np.testing.assert_allclose(model.loglik_, w @ np.log(p), rtol=1e-9)


def test_no_residual_degrees_of_freedom_give_nan_dispersion_without_warnings():
    X = np.array([[0.0], [1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = GLMRegressor(family="gamma").fit(X, [1.0, 2.0])
    assert model.df_resid_ == 0 and np.isnan(model.dispersion_)


@pytest.mark.parametrize(
    "make",
    [lambda: GLMRegressor(family="poisson"), lambda: GLMClassifier(),
     lambda: NeuralGLM(hidden=(3,), family="poisson", solver="lbfgs", random_state=0),
     lambda: NeuralGLMClassifier(hidden=(), solver="lbfgs")],
)  # fmt: skip
def test_pandas_input_keeps_feature_names_and_raises_no_warning(make):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["age", "dose", "bmi"])
    y = rng.poisson(np.exp(0.2 + 0.3 * X["age"]))
    y = y if "Regressor" in type(make()).__name__ or type(make()) is NeuralGLM else y > 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make().fit(X, y)
        table = model.coef_table(X, y)
        model.predict(X)
    if not getattr(model, "coefs_", [None])[:-1]:  # no hidden layer: the columns of X
        assert list(table.index)[:3] == ["age", "dose", "bmi"]
    pd.testing.assert_frame_equal(table, model.coef_table())


@pytest.mark.parametrize("family", ["normal", "poisson", "binomial", "gamma"])
def test_standard_errors_on_real_shaped_columns(family):
    """A year, an income in cents, a rate of scale 1e-3 beside the intercept: the standard
    errors equal statsmodels' on the standardised columns, mapped back with the exact
    Jacobian (a pseudo-inverse whose cutoff ignored the scaling was off by ~100 %)."""
    from skglmnn._testing import make_tabular

    X, y, _, _ = make_tabular(1500, 7, family, seed=3)
    ours = GLMRegressor(family, tol=1e-10).fit(X, y).coef_table()["std_error"].to_numpy()
    mean, std = X.mean(axis=0), X.std(axis=0)
    link = sm.families.links.Log() if family == "gamma" else None
    sm_fam = {"normal": sm.families.Gaussian(), "poisson": sm.families.Poisson(),
              "binomial": sm.families.Binomial(), "gamma": sm.families.Gamma(link)}[family]
    fit = sm.GLM(y, sm.add_constant((X - mean) / std, prepend=False), family=sm_fam).fit(
        tol=1e-13
    )  # fmt: skip
    p = X.shape[1]
    J = np.zeros((p + 1, p + 1))  # (beta, b) -> (coef = beta / std, intercept = b - mean.coef)
    J[:p, :p] = np.diag(1 / std)
    J[p, :p] = -mean / std
    J[p, p] = 1.0
    reference = np.sqrt(np.diag(J @ fit.cov_params() @ J.T))
    np.testing.assert_allclose(ours, reference, rtol=1e-6)
