"""GLMRegressor against references we did not compute: statsmodels, scikit-learn,
closed forms."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
import statsmodels.api as sm
from helpers import sample_y
from sklearn import linear_model
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import d2_tweedie_score, r2_score

from skglmnn import GLMRegressor
from skglmnn.families import get_family
from skglmnn.links import get_link

L = sm.families.links
SM_LINKS = {
    "identity": L.Identity, "log": L.Log, "logit": L.Logit, "probit": L.Probit,
    "cloglog": L.CLogLog, "loglog": L.LogLog, "cauchit": L.Cauchy, "inverse": L.InversePower,
    "inverse_squared": L.InverseSquared, "sqrt": L.Sqrt,
}  # fmt: skip


def sm_family(family, link):
    if link.name == "power":
        sm_link = L.Power(link.power)
    elif link.name == "negative_binomial":
        sm_link = L.NegativeBinomial(link.power)
    else:
        sm_link = SM_LINKS[link.name]()
    F = sm.families
    if family.name == "tweedie":
        return F.Tweedie(var_power=family.power, link=sm_link)
    if family.name == "negative_binomial":
        return F.NegativeBinomial(alpha=family.power, link=sm_link)
    cls = {"normal": F.Gaussian, "binomial": F.Binomial, "poisson": F.Poisson,
           "gamma": F.Gamma, "inverse_gaussian": F.InverseGaussian}[family.name]  # fmt: skip
    return cls(link=sm_link)


def simulate(family, link, n=400, p=3, seed=0):
    """Data from the model itself, with eta inside the link's valid range."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, p))
    beta = np.array([0.3, -0.2, 0.1])[:p]
    iv = link.eta_interval
    if iv.low == 0.0:
        center = 1.5
    elif iv.high == 0.0:
        center = -1.5
    elif family.name == "binomial" and link.name in ("identity", "log"):
        center = 0.4 if link.name == "identity" else -1.2
        beta = beta / 4
    elif family.mu_interval.low == 0.0 and link.name == "identity":
        center = 2.0
    else:
        center = 0.5
    mu = link.inverse(center + X @ beta)
    return X, sample_y(family, mu, seed=seed)


CASES = [
    ("normal", "identity"), ("normal", "log"),
    ("binomial", "logit"), ("binomial", "probit"), ("binomial", "cloglog"),
    ("binomial", "loglog"), ("binomial", "cauchit"), ("binomial", "identity"),
    ("poisson", "log"), ("poisson", "identity"), ("poisson", "sqrt"),
    ("gamma", "inverse"), ("gamma", "log"), ("gamma", "identity"),
    ("inverse_gaussian", "inverse_squared"), ("inverse_gaussian", "log"),
    ("tweedie(1.5)", "log"), ("tweedie(1.5)", "power(-0.5)"),
    ("negative_binomial(0.5)", "log"), ("negative_binomial(0.5)", "negative_binomial(0.5)"),
]  # fmt: skip


@pytest.mark.parametrize("family_spec, link_spec", CASES)
def test_unpenalised_fit_matches_statsmodels(family_spec, link_spec):
    family, link = get_family(family_spec), get_link(link_spec)
    X, y = simulate(family, link)
    reference = sm.GLM(y, sm.add_constant(X), family=sm_family(family, link)).fit(
        tol=1e-13, maxiter=1000
    )
    model = GLMRegressor(family_spec, link_spec, solver="newton", tol=1e-10).fit(X, y)
    np.testing.assert_allclose(model.intercept_, reference.params[0], rtol=1e-6)
    np.testing.assert_allclose(model.coef_, reference.params[1:], rtol=1e-6)
    np.testing.assert_allclose(model.predict(X), reference.fittedvalues, rtol=1e-6)
    if (
        link.maps_real_line
        and family.mu_interval.contains(link.inverse(np.array([-50.0, 50.0]))).all()
    ):
        fast = GLMRegressor(family_spec, link_spec, solver="lbfgs", tol=1e-10).fit(X, y)
        np.testing.assert_allclose(fast.coef_, reference.params[1:], rtol=1e-5, atol=1e-7)


def test_normal_identity_equals_the_normal_equations():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + 3 + rng.normal(size=300)
    Xa = np.column_stack([np.ones(300), X])
    beta = np.linalg.solve(Xa.T @ Xa, Xa.T @ y)
    for solver in ("newton", "lbfgs"):
        model = GLMRegressor(solver=solver, tol=1e-12).fit(X, y)
        np.testing.assert_allclose(model.intercept_, beta[0], rtol=1e-9)
        np.testing.assert_allclose(model.coef_, beta[1:], rtol=1e-8)
    np.testing.assert_allclose(model.score(X, y), r2_score(y, Xa @ beta), rtol=1e-10)


def _penalised_data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    mu = np.exp(0.3 + X @ [0.2, -0.1, 0.3, 0.0, 0.1])
    return X, rng, mu


@pytest.mark.parametrize("alpha", [0.01, 0.3])
@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_penalised_fits_match_scikit_learn(alpha, solver):
    X, rng, mu = _penalised_data()
    w = rng.uniform(0.5, 2, len(X))
    y_normal = np.log(mu) + rng.normal(size=len(X))
    ridge = linear_model.Ridge(alpha=alpha * w.sum(), tol=1e-12).fit(X, y_normal, sample_weight=w)
    ours = GLMRegressor(alpha=alpha, solver=solver, tol=1e-10).fit(X, y_normal, sample_weight=w)
    # L-BFGS stops on a relative decrease of 64 eps in F: ~1e-7 in the coefficients
    rtol = 1e-6 if solver == "newton" else 1e-5
    np.testing.assert_allclose(ours.coef_, ridge.coef_, rtol=rtol)
    np.testing.assert_allclose(ours.intercept_, ridge.intercept_, rtol=rtol)
    y_gamma = rng.gamma(2.0, mu / 2.0)
    y_tweedie = sample_y(get_family("tweedie(1.5)"), mu, seed=2)
    for family, reference, y in [
        ("poisson", linear_model.PoissonRegressor, rng.poisson(mu)),
        ("gamma", linear_model.GammaRegressor, y_gamma),
        ("tweedie(1.5)", lambda **kw: linear_model.TweedieRegressor(power=1.5, link="log", **kw),
         y_tweedie),
    ]:  # fmt: skip
        ref = reference(alpha=alpha, tol=1e-12, solver="newton-cholesky", max_iter=1000)
        ref.fit(X, y, sample_weight=w)
        ours = GLMRegressor(family, alpha=alpha, solver=solver, tol=1e-10).fit(
            X, y, sample_weight=w
        )
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=rtol, atol=1e-9, err_msg=family)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=rtol, err_msg=family)
        np.testing.assert_allclose(ours.score(X, y, w), ref.score(X, y, w), rtol=1e-8)


def test_score_is_d2_of_scikit_learn():
    X, rng, mu = _penalised_data()
    y = rng.poisson(mu)
    model = GLMRegressor("poisson").fit(X, y)
    np.testing.assert_allclose(model.score(X, y), d2_tweedie_score(y, model.predict(X), power=1))


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_equals_dense(solver, fmt):
    rng = np.random.default_rng(0)
    X = sp.random(500, 30, density=0.1, format=fmt, random_state=0)
    y = rng.poisson(np.exp(0.2 + X @ rng.normal(scale=0.5, size=30)))
    dense = GLMRegressor("poisson", alpha=1e-3, solver=solver, tol=1e-10).fit(X.toarray(), y)
    sparse = GLMRegressor("poisson", alpha=1e-3, solver=solver, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(sparse.predict(X), dense.predict(X.toarray()), rtol=1e-6)


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_float32_stays_float32(solver):
    X, rng, mu = _penalised_data()
    y = rng.poisson(mu)
    m64 = GLMRegressor("poisson", solver=solver).fit(X, y)
    m32 = GLMRegressor("poisson", solver=solver).fit(X.astype(np.float32), y.astype(np.float32))
    assert m32.coef_.dtype == np.float32
    assert m32.predict(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(m32.coef_, m64.coef_, rtol=1e-3, atol=1e-4)


def test_zero_weights_drop_rows_and_integer_weights_repeat_them():
    X, rng, mu = _penalised_data()
    y = rng.poisson(mu)
    w = rng.integers(0, 3, len(X)).astype(float)
    weighted = GLMRegressor("poisson", alpha=0.01, tol=1e-10).fit(X, y, sample_weight=w)
    repeated = GLMRegressor("poisson", alpha=0.01, tol=1e-10).fit(
        np.repeat(X, w.astype(int), axis=0), np.repeat(y, w.astype(int))
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-8)


def test_offset_is_log_exposure_as_in_statsmodels():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 2))
    exposure = rng.uniform(0.5, 10, 400)
    y = rng.poisson(exposure * np.exp(-1 + X @ [0.4, -0.3]))
    offset = np.log(exposure)
    ref = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson(), offset=offset).fit(tol=1e-13)
    for solver in ("newton", "lbfgs"):
        model = GLMRegressor("poisson", solver=solver, tol=1e-10).fit(X, y, offset=offset)
        np.testing.assert_allclose(model.coef_, ref.params[1:], rtol=1e-6)
        np.testing.assert_allclose(model.intercept_, ref.params[0], rtol=1e-6)
    np.testing.assert_allclose(model.predict(X, offset=offset), ref.fittedvalues, rtol=1e-6)
    np.testing.assert_allclose(model.predict(X), ref.fittedvalues / exposure, rtol=1e-6)
    assert model.score(X, y, offset=offset) > model.score(X, y)


def test_collinear_columns_give_the_minimum_norm_solution():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 3))
    X = np.column_stack([X, X[:, 0], 2 * X[:, 1] - X[:, 2]])  # rank 3 of 5
    y = X[:, :3] @ [1.0, -1.0, 0.5] + 2 + rng.normal(size=200)
    with pytest.warns(UserWarning, match="rank deficient.*4 of 6.*smallest"):
        model = GLMRegressor(tol=1e-10).fit(X, y)
    reference = linear_model.LinearRegression().fit(X, y)  # lstsq: minimum-norm coef
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-7)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-7)
    # poisson: duplicated columns share their coefficient equally
    counts = rng.poisson(np.exp(0.3 * X[:, 0]))
    with pytest.warns(UserWarning, match="rank deficient"):
        dup = GLMRegressor("poisson", tol=1e-10).fit(X[:, [0, 3, 1]], counts)
    single = GLMRegressor("poisson", tol=1e-10).fit(X[:, [0, 1]], counts)
    np.testing.assert_allclose(dup.coef_[:2], single.coef_[0] / 2, rtol=1e-7)
    np.testing.assert_allclose(dup.coef_[2], single.coef_[1], rtol=1e-7)


def test_constant_column_and_zero_column():
    rng = np.random.default_rng(6)
    X = np.column_stack([rng.normal(size=100), np.ones(100), np.zeros(100)])
    y = 1 + X[:, 0] + rng.normal(size=100)
    with pytest.warns(UserWarning, match="rank deficient"):
        model = GLMRegressor(tol=1e-10).fit(X, y)
    assert np.all(np.isfinite(model.coef_))
    assert model.coef_[2] == pytest.approx(0, abs=1e-12)
    ref = linear_model.LinearRegression().fit(X, y)
    np.testing.assert_allclose(model.predict(X), ref.predict(X), rtol=1e-9)


def test_line_search_keeps_identity_poisson_in_its_domain():
    rng = np.random.default_rng(7)
    X = rng.uniform(0, 1, size=(300, 2))
    y = rng.poisson(0.05 + 3 * X[:, 0])  # true means close to zero
    model = GLMRegressor("poisson", "identity", tol=1e-10).fit(X, y)
    assert model.solver_ == "newton"
    assert np.all(model.predict(X) > 0)
    ref = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson(L.Identity())).fit(tol=1e-13)
    np.testing.assert_allclose(model.coef_, ref.params[1:], rtol=1e-6)


def test_no_valid_start_is_a_clear_error():
    X = np.zeros((20, 1))
    y = np.linspace(1, 2, 20)
    with pytest.raises(
        ValueError, match="Could not find starting values.*GammaFamily.*InverseLink"
    ):
        GLMRegressor("gamma", "inverse", fit_intercept=False).fit(X, y)


def test_huge_linear_predictors_do_not_break_the_fit():
    """Separated binomial data push eta towards infinity; the fit warns, stays finite."""
    X = np.linspace(-1, 1, 40)[:, None]
    y = (X[:, 0] > 0).astype(float)
    with pytest.warns(ConvergenceWarning, match="linearly separable"):
        model = GLMRegressor("binomial", "probit", max_iter=200).fit(X, y)
    assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.predict(X)))
    assert model.score(X, y) > 0.99


def test_warm_start_reuses_the_solution():
    X, rng, mu = _penalised_data()
    y = rng.poisson(mu)
    model = GLMRegressor("poisson", warm_start=True, tol=1e-8).fit(X, y)
    first = model.n_iter_
    model.fit(X, y)
    assert model.n_iter_ < first


def test_pandas_input_sets_feature_names():
    pd = pytest.importorskip("pandas")
    X, rng, mu = _penalised_data()
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])
    model = GLMRegressor("poisson").fit(frame, pd.Series(rng.poisson(mu)))
    assert list(model.feature_names_in_) == list(frame.columns)
    np.testing.assert_allclose(model.predict(frame), model.predict(X))


def test_fit_does_not_copy_x():
    """Peak extra memory of a fit is a small fraction of X (no n x p copy)."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(200_000, 50))
    y = rng.poisson(np.exp(0.1 * X[:, 0]))
    for solver in ("newton", "lbfgs"):
        GLMRegressor("poisson", solver=solver).fit(X[:1000], y[:1000])  # compile first
        tracemalloc.start()
        GLMRegressor("poisson", solver=solver).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 0.25 * X.nbytes, (solver, peak / X.nbytes)


@pytest.mark.parametrize(
    "kwargs, X, y, match",
    [
        ({}, [[np.nan], [1.0]], [1.0, 2.0], "NaN"),
        ({}, [[np.inf], [1.0]], [1.0, 2.0], "infinity"),
        ({}, [[0.0], [1.0]], [1.0, np.nan], "NaN"),
        ({}, [[0.0], [1.0], [2.0]], [1.0, 2.0], "inconsistent numbers of samples"),
        ({"family": "poisson"}, [[0.0], [1.0]], [1.0, -2.0], r"needs y in \[0, inf\); 1 of 2"),
        ({"family": "gamma"}, [[0.0], [1.0]], [1.0, 0.0], r"needs y in \(0, inf\)"),
        ({"family": "poison"}, [[0.0], [1.0]], [1.0, 2.0], "Unknown family 'poison'.*poisson"),
        ({"link": "logitt"}, [[0.0], [1.0]], [1.0, 2.0], "Unknown link 'logitt'.*probit"),
        ({"family": "tweedie(0.5)"}, [[0.0], [1.0]], [1.0, 2.0], "must be 0 or >= 1"),
        ({"alpha": -1.0}, [[0.0], [1.0]], [1.0, 2.0], "alpha"),
        ({"solver": "sag"}, [[0.0], [1.0]], [1.0, 2.0], "solver"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, X, y, match):
    with pytest.raises(ValueError, match=match):
        GLMRegressor(**kwargs).fit(np.array(X), np.array(y))


def test_bad_weights_and_offset_are_clear_errors():
    X, y = np.arange(6.0).reshape(3, 2), np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="offset must have shape \\(3,\\)"):
        GLMRegressor().fit(X, y, offset=np.zeros(4))
    with pytest.raises(ValueError, match="offset.*NaN"):
        GLMRegressor().fit(X, y, offset=[0.0, np.nan, 0.0])
    with pytest.raises(ValueError, match="Negative values in data passed to .*sample_weight"):
        GLMRegressor().fit(X, y, sample_weight=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="at least one non-zero"):
        GLMRegressor().fit(X, y, sample_weight=[0.0, 0.0, 0.0])
    model = GLMRegressor().fit(X, y)
    with pytest.raises(ValueError, match="offset must have shape"):
        model.predict(X, offset=np.zeros(2))
    with pytest.raises(ValueError, match="features"):
        model.predict(np.zeros((2, 3)))


def _fista(grad_f, f, theta0, l1_weights, step, n_iter=20000):
    """Accelerated proximal gradient: an independent reference for L1 problems."""
    theta, z, t = theta0.copy(), theta0.copy(), 1.0
    for _ in range(n_iter):
        u = z - step * grad_f(z)
        new = np.sign(u) * np.maximum(np.abs(u) - step * l1_weights, 0)
        t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
        z = new + (t - 1) / t_new * (new - theta)
        theta, t = new, t_new
    return theta


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("sparse", [False, True])
def test_lasso_and_elastic_net_match_scikit_learn(l1_ratio, sparse):
    rng = np.random.default_rng(9)
    X = rng.normal(size=(300, 20))
    y = X[:, :4] @ [2.0, -1.0, 0.5, 0.25] + 1 + rng.normal(size=300)
    Xf = sp.csr_matrix(X) if sparse else X
    for alpha in (0.01, 0.1, 0.5):
        ref = linear_model.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=100_000)
        ref.fit(X, y)
        ours = GLMRegressor(alpha=alpha, l1_ratio=l1_ratio, tol=1e-10).fit(Xf, y)
        assert ours.solver_ == "cd"
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)
        np.testing.assert_array_equal(ours.coef_ == 0, ref.coef_ == 0)
    assert np.sum(ours.coef_ == 0) >= 10  # exact zeros


def test_l1_poisson_matches_proximal_gradient():
    rng = np.random.default_rng(10)
    X = rng.normal(size=(200, 6))
    y = rng.poisson(np.exp(0.5 + X @ [0.5, -0.3, 0, 0, 0.1, 0])).astype(float)
    alpha, l1_ratio = 0.2, 0.8
    Xa = np.column_stack([X, np.ones(200)])
    l2 = alpha * (1 - l1_ratio) * np.r_[np.ones(6), 0]

    def f(theta):
        eta = Xa @ theta
        return np.mean(np.exp(eta) - y * eta) + 0.5 * theta @ (l2 * theta)

    def grad_f(theta):
        return Xa.T @ (np.exp(Xa @ theta) - y) / 200 + l2 * theta

    ref = _fista(grad_f, f, np.zeros(7), alpha * l1_ratio * np.r_[np.ones(6), 0], step=0.05)
    for Xf in (X, sp.csc_matrix(X)):
        ours = GLMRegressor("poisson", alpha=alpha, l1_ratio=l1_ratio, tol=1e-10).fit(Xf, y)
        np.testing.assert_allclose(ours.coef_, ref[:6], atol=1e-7)
        np.testing.assert_allclose(ours.intercept_, ref[6], atol=1e-7)
    assert np.sum(ours.coef_ == 0) >= 2


def test_l1_needs_the_cd_solver():
    X, y = np.random.default_rng(0).normal(size=(20, 2)), np.arange(20.0)
    with pytest.raises(ValueError, match="cannot handle an L1 penalty"):
        GLMRegressor(alpha=0.1, l1_ratio=0.5, solver="lbfgs").fit(X, y)


@pytest.mark.parametrize("working_set_max", [2000, 3])
def test_lasso_working_sets_for_many_sparse_features(monkeypatch, working_set_max):
    import skglmnn._solvers.cd as cd

    monkeypatch.setattr(cd, "GRAM_MAX_FEATURES", 10)
    monkeypatch.setattr(cd, "WORKING_SET_MAX", working_set_max)
    rng = np.random.default_rng(11)
    X = sp.random(400, 50, density=0.2, format="csc", random_state=11)
    y = X @ rng.normal(size=50) + 0.5 + rng.normal(scale=0.1, size=400)
    ref = linear_model.Lasso(alpha=0.005, tol=1e-12, max_iter=100_000).fit(X, y)
    ours = GLMRegressor(alpha=0.005, l1_ratio=1.0, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)


def test_binomial_proportions_with_trials_as_weights():
    """y a proportion, sample_weight the number of trials: the binomial model of counts."""
    rng = np.random.default_rng(12)
    X = rng.normal(size=(150, 2))
    trials = rng.integers(1, 20, 150).astype(float)
    successes = rng.binomial(trials.astype(int), 1 / (1 + np.exp(-(0.3 + X @ [0.8, -0.5]))))
    y = successes / trials
    counts = np.column_stack([successes, trials - successes])
    ref = sm.GLM(counts, sm.add_constant(X), family=sm.families.Binomial()).fit(tol=1e-13)
    ours = GLMRegressor("binomial", tol=1e-10).fit(X, y, sample_weight=trials)
    np.testing.assert_allclose(ours.intercept_, ref.params[0], rtol=1e-7)
    np.testing.assert_allclose(ours.coef_, ref.params[1:], rtol=1e-7)
    # and it equals expanding every trial into a 0/1 row
    rows = np.repeat(np.arange(150), trials.astype(int))
    pairs = zip(successes, trials.astype(int), strict=True)
    outcome = np.concatenate([np.r_[np.ones(s), np.zeros(t - s)] for s, t in pairs])
    expanded = GLMRegressor("binomial", tol=1e-10).fit(X[rows], outcome)
    np.testing.assert_allclose(expanded.coef_, ours.coef_, rtol=1e-7)
    np.testing.assert_allclose(
        get_family("binomial").loglik(y, ours.predict(X), trials), ref.llf, rtol=1e-10
    )
