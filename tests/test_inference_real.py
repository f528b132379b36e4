"""Inference on real-shaped, ill-conditioned designs, against a reference that does not
suffer from the conditioning it tests: statsmodels (or an SVD) on the standardised columns,
its covariance mapped back with the exact Jacobian.  Also R's prior weights, clustered
errors and the near-perfect fits that once crashed the statistics."""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from test_glm import sm_family

from skglmnn import GLMClassifier, GLMRegressor, NeuralGLM
from skglmnn._testing import make_tabular, make_targets, standardise
from skglmnn.families import get_family
from skglmnn.links import get_link

RTOL = 1e-6
# statsmodels warns that non-canonical links may leave the domain: the data here do not
pytestmark = pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.DomainWarning")


def _design(kind, seed=0):
    """Designs whose raw Gram matrix is hopeless in floating point."""
    rng = np.random.default_rng(seed)
    if kind == "polynomial":  # x, x^2, ..., x^5 for x = 0..20: cond(raw Gram) ~ 1e25
        x = np.tile(np.arange(21.0), 15)
        return np.column_stack([x**d for d in range(1, 6)])
    if kind == "year_polynomial":  # year, year^2, year^3: cond ~1e6 even standardised
        year = np.tile(np.arange(1990.0, 2021.0), 10)
        return np.column_stack([year, year**2, year**3])
    if kind == "year":  # a calendar year beside the intercept, and a slowly moving trend
        year = rng.integers(1990, 2024, 400).astype(float)
        return np.column_stack([year, year + rng.normal(0, 2, 400), rng.normal(0, 1, 400)])
    if kind == "cents_ages":  # incomes in cents beside ages and a dummy
        age = np.round(rng.uniform(18, 90, 400))
        cents = np.round(np.exp(15 + 0.01 * age + 0.4 * rng.normal(size=400)))
        return np.column_stack([cents, age, (age > 50).astype(float)])
    return make_tabular(500, 8, seed=seed)[0]  # correlated factors, scales 1e-3 .. 1e6


def _jacobian(mean, std, fit_intercept=True):
    """d(coef, intercept)/d(beta, b) for coef = beta / std, intercept = b - mean . coef."""
    p = len(std)
    J = np.zeros((p + fit_intercept,) * 2)
    J[np.arange(p), np.arange(p)] = 1 / std
    if fit_intercept:
        J[p, :p], J[p, p] = -mean / std, 1.0
    return J


def _reference(X, y, family, link, *, weights=None, kind="freq_weights", cov_type="nonrobust",
               groups=None):  # fmt: skip
    """statsmodels on the standardised columns, mapped back: (estimates, covariance, fit)."""
    Z, mean, std = standardise(X)
    kwargs = {} if weights is None else {kind: weights}
    cov_kwds = {"groups": groups} if groups is not None else None
    fit = sm.GLM(y, sm.add_constant(Z, prepend=False, has_constant="add"),
                 family=sm_family(family, link), **kwargs).fit(
        tol=1e-13, maxiter=1000, cov_type=cov_type, cov_kwds=cov_kwds)  # fmt: skip
    J = _jacobian(mean, std)
    return J @ fit.params, J @ fit.cov_params() @ J.T, fit


def _assert_table(table, est, cov, df=None, level=0.95):
    """Estimates, errors, statistics, p-values and intervals against a reference covariance."""
    se = np.sqrt(np.diag(cov))
    dist = stats.norm() if df is None else stats.t(df)
    stat = est / se
    # estimates agree to the solvers' tolerance: 1e-6 of a standard error, which bounds the
    # absolute error of z and p, and the intervals' error relative to their half-width
    np.testing.assert_array_less(np.abs(table["estimate"] - est), 1e-6 * se)
    np.testing.assert_allclose(table["std_error"], se, rtol=RTOL)
    np.testing.assert_allclose(table["t" if df is not None else "z"], stat, rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(table["p_value"], 2 * dist.sf(np.abs(stat)), rtol=RTOL,
                               atol=1e-6)  # fmt: skip
    q = dist.ppf(0.5 + level / 2)
    for bound, sign in (("ci_lower", -1), ("ci_upper", 1)):
        expected = est + sign * q * se
        np.testing.assert_array_less(np.abs(table[bound] - expected),
                                     RTOL * np.abs(expected) + 2e-6 * se)  # fmt: skip


FAMILY_LINKS = [
    ("normal", "identity"), ("normal", "log"), ("poisson", "log"),
    ("binomial", "logit"), ("binomial", "log"), ("gamma", "inverse"), ("gamma", "log"),
    ("inverse_gaussian", "inverse_squared"), ("inverse_gaussian", "log"),
    ("tweedie(1.5)", "power(-0.5)"), ("tweedie(1.5)", "log"),
    ("negative_binomial(0.5)", "negative_binomial(0.5)"), ("negative_binomial(0.5)", "log"),
]  # fmt: skip
DESIGNS = ["polynomial", "year_polynomial", "year", "cents_ages", "factors"]


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("family_spec, link_spec", FAMILY_LINKS)
def test_tables_on_ill_conditioned_designs_match_the_standardised_reference(
    design, family_spec, link_spec
):
    family, link = get_family(family_spec), get_link(link_spec)
    X = _design(design)
    # the log-binomial's MLE can sit on the boundary mu = 1 (then both statsmodels and we
    # stop there, with a warning from us): keep the means well below 1 for this comparison
    log_binomial = (family.name, link.name) == ("binomial", "log")
    y = make_targets(X, family, link, spread=0.25 if log_binomial else 0.4,
                     seed=2 if log_binomial else 1)[0]  # fmt: skip
    model = GLMRegressor(family_spec, link_spec, solver="newton", tol=1e-12, max_iter=500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no rank warning, no convergence warning
        if design == "year_polynomial":
            # F stops moving in floating point at gaps of ~1e-9 there (Fisher scoring for
            # the log links), which the solver says; the estimates are still within 1e-6 SE
            warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    est, cov, fit = _reference(X, y, family, link)
    _assert_table(model.coef_table(), est, cov, fit.df_resid if family.has_dispersion else None)
    d = 1 / np.sqrt(np.diag(cov))  # compare on the correlation scale
    np.testing.assert_allclose(model.covariance_matrix().to_numpy() * np.outer(d, d),
                               cov * np.outer(d, d), rtol=RTOL, atol=RTOL)  # fmt: skip
    np.testing.assert_allclose(model.dispersion_, fit.scale, rtol=1e-8)


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("robust", ["HC0", "HC1"])
def test_sandwich_on_ill_conditioned_designs(design, robust):
    """Poisson/log (canonical: observed and expected Hessians agree).  The reference is the
    sandwich from the SVD ``sqrt(mu) Z = U s V^T`` at statsmodels' estimates:
    ``V s^-1 U^T diag((y - mu)^2 / mu) U s^-1 V^T`` -- nothing squared (statsmodels'
    own HC0 forms the Hessian and is off by 3e-4 on the polynomial in years)."""
    X = _design(design)
    y = make_targets(X, "poisson", spread=0.4, seed=2)[0]
    model = GLMRegressor("poisson", tol=1e-11).fit(X, y)
    est, _, fit = _reference(X, y, get_family("poisson"), get_link("log"))
    Z, mean, std = standardise(X)
    mu = fit.mu
    U, sv, Vt = np.linalg.svd(np.column_stack([Z, np.ones(len(y))]) * np.sqrt(mu)[:, None],
                              full_matrices=False)  # fmt: skip
    middle = (U * ((y - mu) ** 2 / mu)[:, None]).T @ U
    internal = (Vt.T / sv) @ middle @ (Vt.T / sv).T
    J = _jacobian(mean, std)
    cov = J @ internal @ J.T
    if robust == "HC1":
        n, k = X.shape[0], X.shape[1] + 1
        cov = cov * n / (n - k)
    _assert_table(model.coef_table(robust=robust), est, cov)
    if design != "year_polynomial":  # and statsmodels' own HC0 elsewhere
        _, sm_cov, _ = _reference(X, y, get_family("poisson"), get_link("log"), cov_type="HC0")
        np.testing.assert_allclose(model.covariance_matrix(robust="HC0"), sm_cov, rtol=1e-6)


def test_rank_is_decided_scale_free():
    """A column in micro-units is a regressor; an exact duplicate is a null direction."""
    X = _design("cents_ages")
    y = make_targets(X, "gamma", spread=0.4, seed=3)[0]
    base = GLMRegressor("gamma", tol=1e-11).fit(X, y).coef_table()
    scaled = X * np.array([1e6, 1e-6, 1.0])
    table = GLMRegressor("gamma", tol=1e-11).fit(scaled, y).coef_table()
    np.testing.assert_allclose(table["std_error"].to_numpy()[:3] * [1e6, 1e-6, 1.0],
                               base["std_error"].to_numpy()[:3], rtol=1e-7)  # fmt: skip
    np.testing.assert_allclose(table["p_value"], base["p_value"], rtol=1e-6)
    duplicated = np.column_stack([X, X[:, 1]])
    with pytest.warns(UserWarning, match="rank"):
        model = GLMRegressor("gamma", tol=1e-11).fit(duplicated, y)
    se = model.coef_table()["std_error"].to_numpy()
    # the untouched columns keep their errors; the pair shares the direction's variance
    np.testing.assert_allclose(se[[0, 2, 4]], base["std_error"].to_numpy()[[0, 2, 3]], rtol=1e-6)
    np.testing.assert_allclose(se[1], se[3], rtol=1e-8)
    cov = model.covariance_matrix().to_numpy()
    sum_se = np.sqrt(cov[1, 1] + cov[3, 3] + 2 * cov[1, 3])  # the identified sum
    np.testing.assert_allclose(sum_se, base["std_error"].iloc[1], rtol=1e-6)


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_binary_classifier_on_ill_conditioned_designs(design, link):
    family = get_family("binomial")
    X = _design(design)
    y = make_targets(X, family, link, spread=0.6, seed=4)[0].astype(int)
    model = GLMClassifier(C=np.inf, link=link, solver="newton-cholesky", tol=1e-11,
                          max_iter=500).fit(X, y)  # fmt: skip
    est, cov, _ = _reference(X, y, family, get_link(link))
    _assert_table(model.coef_table(), est, cov)


@pytest.mark.parametrize("design", DESIGNS)
def test_multinomial_on_ill_conditioned_designs(design):
    """The contrasts with the first class are MNLogit's (on the standardised columns)."""
    X = _design(design)
    Z, mean, std = standardise(X)
    rng = np.random.default_rng(5)
    logits = Z @ rng.normal(0, 0.4, size=(X.shape[1], 3))
    y = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    model = GLMClassifier(C=np.inf, tol=1e-9, max_iter=1000).fit(X, y)
    ref = sm.MNLogit(y, sm.add_constant(Z, prepend=False, has_constant="add")).fit(
        disp=0, method="newton", tol=1e-10, maxiter=100)  # fmt: skip
    if design == "year_polynomial":  # MNLogit does not converge here; we reach a higher F
        assert not ref.mle_retvals["converged"] and model.loglik_ > ref.llf + 0.1
        return
    p = X.shape[1] + 1
    J = _jacobian(mean, std)
    contrasts = np.zeros((2 * p, 3 * p))  # (theta_k - theta_0) for k = 1, 2
    for k in (1, 2):
        contrasts[(k - 1) * p : k * p, k * p : (k + 1) * p] = np.eye(p)
        contrasts[(k - 1) * p : k * p, :p] = -np.eye(p)
    ours = model.covariance_matrix().to_numpy()
    est = np.kron(np.eye(2), J) @ ref.params.T.ravel()
    cov = np.kron(np.eye(2), J) @ ref.cov_params() @ np.kron(np.eye(2), J).T
    np.testing.assert_allclose(contrasts @ model.coef_table()["estimate"].to_numpy(), est,
                               rtol=1e-7, atol=1e-12 * np.abs(est).max())  # fmt: skip
    np.testing.assert_allclose(np.sqrt(np.diag(contrasts @ ours @ contrasts.T)),
                               np.sqrt(np.diag(cov)), rtol=RTOL)  # fmt: skip


def _svd_covariance(F, fisher_weights, dispersion):
    """dispersion * ([F 1]^T W [F 1])^-1 from the SVD of sqrt(W) [Z 1], Z standardised."""
    Z, mean, std = standardise(F)
    A = np.column_stack([Z, np.ones(len(Z))]) * np.sqrt(fisher_weights)[:, None]
    _, s, Vt = np.linalg.svd(A, full_matrices=False)
    internal = (Vt.T / s**2) @ Vt
    J = _jacobian(mean, std)
    return dispersion * J @ internal @ J.T


@pytest.mark.parametrize("family_spec", ["gamma", "poisson", "normal"])
def test_network_output_layer_on_real_shaped_inputs(family_spec):
    """The output layer's table is the GLM's on the learned features, by an SVD reference
    evaluated at the network's own fit (independent of how well the network trained)."""
    X, y, _, _ = make_tabular(600, 6, family_spec, spread=0.5, seed=6)
    net = NeuralGLM(hidden=(4,), activation="tanh", family=family_spec, alpha=0.0,
                    solver="lbfgs", max_iter=300, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X, y)
    F = net.transform(X)
    eta = F @ net.coefs_[-1].ravel() + net.intercepts_[-1][0]
    link, family = net.link_, net.family_
    mu = link.inverse(eta)
    fisher = link.inverse_derivative(eta) ** 2 / family.unit_variance(mu)
    cov = _svd_covariance(F, fisher, net.dispersion_)
    table = net.coef_table()
    np.testing.assert_allclose(table["std_error"], np.sqrt(np.diag(cov)), rtol=RTOL)
    if family.has_dispersion:
        np.testing.assert_allclose(net.dispersion_, family.pearson_dispersion(y, mu, None, 5),
                                   rtol=1e-10)  # fmt: skip


# -- R's prior weights and frequency weights -----------------------------------------------

WEIGHTED = [("normal", "identity"), ("gamma", "log"), ("inverse_gaussian", "log"),
            ("tweedie(1.5)", "log"), ("poisson", "log"), ("binomial", "logit")]  # fmt: skip


@pytest.mark.parametrize("sample_weight_type", ["frequency", "variance"])
@pytest.mark.parametrize("family_spec, link_spec", WEIGHTED)
def test_weights_match_statsmodels(family_spec, link_spec, sample_weight_type):
    family, link = get_family(family_spec), get_link(link_spec)
    X = _design("factors")[:, :4]
    y = make_targets(X, family, link, spread=0.4, seed=7)[0]
    w = np.random.default_rng(8).integers(1, 5, len(y)).astype(float)
    model = GLMRegressor(family_spec, link_spec, tol=1e-11, solver="newton",
                         sample_weight_type=sample_weight_type).fit(X, y, sample_weight=w)
    kind = {"frequency": "freq_weights", "variance": "var_weights"}[sample_weight_type]
    est, cov, fit = _reference(X, y, family, link, weights=w, kind=kind)
    _assert_table(model.coef_table(), est, cov, fit.df_resid if family.has_dispersion else None)
    assert model.df_resid_ == fit.df_resid
    np.testing.assert_allclose(model.dispersion_, fit.scale, rtol=1e-8)
    np.testing.assert_allclose(model.deviance_, fit.deviance, rtol=1e-8)
    if family.name != "tweedie":  # statsmodels has no Tweedie density
        np.testing.assert_allclose(model.loglik_, fit.llf, rtol=1e-8)
        np.testing.assert_allclose(model.aic_, fit.aic, rtol=1e-8)
        np.testing.assert_allclose(model.bic_, fit.bic_llf, rtol=1e-8)


def test_variance_weights_are_rs_prior_weights():
    """Zero prior weights drop the sample from the degrees of freedom (R's glm); the
    HC0 meat weighs each score by w_i^2 (statsmodels' var_weights)."""
    X = _design("year")
    y = make_targets(X, "gamma", spread=0.4, seed=9)[0]
    w = np.random.default_rng(10).uniform(0.5, 3, len(y))
    w[:20] = 0.0
    model = GLMRegressor("gamma", tol=1e-11, sample_weight_type="variance").fit(X, y, w)
    keep = w > 0
    _, _, fit = _reference(X[keep], y[keep], get_family("gamma"), get_link("log"),
                           weights=w[keep], kind="var_weights")  # fmt: skip
    assert model.df_resid_ == keep.sum() - 4 == fit.df_resid
    np.testing.assert_allclose(model.dispersion_, fit.scale, rtol=1e-8)
    est, cov, _ = _reference(X[keep], y[keep], get_family("gamma"), get_link("log"),
                             weights=w[keep], kind="var_weights", cov_type="HC0")  # fmt: skip
    _assert_table(model.coef_table(robust="HC0"), est, cov)


# -- clustered errors ---------------------------------------------------------------------


@pytest.mark.parametrize("family_spec, link_spec", [("poisson", "log"), ("binomial", "logit"),
                                                    ("normal", "identity")])  # fmt: skip
@pytest.mark.parametrize("design", ["year", "factors"])
def test_cluster_robust_errors_match_statsmodels(family_spec, link_spec, design):
    family, link = get_family(family_spec), get_link(link_spec)
    X = _design(design)
    y = make_targets(X, family, link, spread=0.5, seed=11)[0]
    groups = np.random.default_rng(12).integers(0, 37, len(y))
    model = GLMRegressor(family_spec, link_spec, tol=1e-11).fit(X, y)
    est, cov, _ = _reference(X, y, family, link, cov_type="cluster", groups=groups)
    _assert_table(model.coef_table(X, y, robust="cluster", groups=groups), est, cov)
    text = str(model.summary(X, y, robust="cluster", groups=groups))
    assert "cluster" in text


def test_cluster_errors_for_the_classifier_and_sparse_input():
    import scipy.sparse as sp

    X = _design("factors")[:, :5]
    y = make_targets(X, "binomial", spread=0.6, seed=13)[0].astype(int)
    labels = np.array([f"firm{g}" for g in np.random.default_rng(14).integers(0, 25, len(y))])
    clf = GLMClassifier(C=np.inf, tol=1e-11).fit(X, y)
    est, cov, _ = _reference(X, y, get_family("binomial"), get_link("logit"),
                             cov_type="cluster", groups=np.unique(labels, return_inverse=True)[1])
    _assert_table(clf.coef_table(X, y, robust="cluster", groups=labels), est, cov)
    dummies = (X > np.median(X, axis=0)).astype(float)
    sparse = GLMRegressor("poisson", tol=1e-11).fit(sp.csr_matrix(dummies), y)
    dense = GLMRegressor("poisson", tol=1e-11).fit(dummies, y)
    np.testing.assert_allclose(
        sparse.coef_table(sp.csr_matrix(dummies), y, robust="cluster", groups=labels)["std_error"],
        dense.coef_table(dummies, y, robust="cluster", groups=labels)["std_error"], rtol=1e-6)


def test_cluster_arguments_are_checked():
    X = _design("year")
    y = make_targets(X, "poisson", seed=15)[0]
    model = GLMRegressor("poisson").fit(X, y)
    with pytest.raises(ValueError, match="training data"):
        model.coef_table(robust="cluster", groups=np.zeros(len(y)))
    with pytest.raises(ValueError, match="both robust='cluster' and groups"):
        model.coef_table(X, y, robust="cluster")
    with pytest.raises(ValueError, match="both robust='cluster' and groups"):
        model.coef_table(X, y, groups=np.zeros(len(y)))
    with pytest.raises(ValueError, match="one label per sample"):
        model.coef_table(X, y, robust="cluster", groups=np.zeros(3))


# -- fit statistics never crash ------------------------------------------------------------


@pytest.mark.parametrize("family_spec", ["normal", "poisson", "gamma", "inverse_gaussian",
                                         "tweedie(1.2)", "tweedie(1.5)", "tweedie(1.8)",
                                         "tweedie(1)", "tweedie(2.5)", "negative_binomial(0.5)",
                                         "binomial"])  # fmt: skip
def test_near_perfect_fits_give_statistics(family_spec):
    """y an exact function of X: the dispersion is ~0; Tweedie's series once sized an array
    by 1 / dispersion (MemoryError).  Statistics are finite, or +inf, or NaN where the
    family has no likelihood (Tweedie p = 1, 2 < p < 3)."""
    rng = np.random.default_rng(16)
    X = np.column_stack([rng.uniform(1990, 2020, 300), rng.uniform(0, 1, 300)])
    family = get_family(family_spec)
    eta = 0.02 * (X[:, 0] - 2005) + 0.5 * X[:, 1]
    if family.name == "binomial":
        y = (eta > np.median(eta)).astype(float)  # separable: the limit of a perfect fit
    elif family.name in ("poisson", "negative_binomial"):
        y = np.round(np.exp(eta + 2))  # integers: as near a perfect fit as counts allow
    else:
        y = np.exp(eta) * (1 + 1e-9 * rng.normal(size=300))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation and convergence warnings are expected
        model = GLMRegressor(family_spec, "log" if family.name != "binomial" else "logit",
                             tol=1e-10).fit(X, y)  # fmt: skip
    table = model.coef_table()
    assert np.isfinite(model.deviance_) and model.deviance_ >= 0
    assert not np.isnan(model.dispersion_)
    no_likelihood = family.name == "tweedie" and (family.power == 1 or 2 < family.power < 3)
    assert np.isnan(model.loglik_) == no_likelihood
    if not no_likelihood:
        assert model.loglik_ > -np.inf and np.isfinite(model.aic_) or model.loglik_ == np.inf
    assert table["std_error"].notna().all()


def test_tweedie_near_perfect_fit_loglik_is_the_saddlepoint_limit():
    """As the dispersion goes to 0 the Tweedie density tends to its saddlepoint form."""
    family = get_family("tweedie(1.5)")
    y = np.array([0.5, 2.0, 7.0])
    mu = y * (1 + 1e-4)
    phi = 1e-9
    deviance = family.unit_deviance(y, mu)
    saddle = np.sum(-0.5 * np.log(2 * np.pi * phi * y**1.5) - deviance / (2 * phi))
    # deviance / (2 phi) amplifies the deviance's cancellation (mu ~ y) by 1 / phi: the two
    # ways of computing it agree to ~1e-7 relative
    np.testing.assert_allclose(family.loglik(y, mu, dispersion=phi), saddle, rtol=1e-6)


def test_tweedie_power_one_estimates_the_dispersion_like_statsmodels():
    X = _design("factors")[:, :4]
    y = make_targets(X, "poisson", spread=0.4, seed=17)[0] * 2.5  # over-dispersed counts
    model = GLMRegressor("tweedie(1)", tol=1e-11).fit(X, y)
    est, cov, fit = _reference(X, y, get_family("tweedie(1)"), get_link("log"))
    np.testing.assert_allclose(model.dispersion_, fit.scale, rtol=1e-8)
    assert model.dispersion_ > 1.5
    _assert_table(model.coef_table(), est, cov, fit.df_resid)
    assert np.isnan(model.aic_)


# -- tests between nested fits --------------------------------------------------------------


@pytest.mark.parametrize("family_spec, link_spec", [("poisson", "log"), ("gamma", "log"),
                                                    ("normal", "identity")])  # fmt: skip
def test_lr_and_wald_tests_match_statsmodels(family_spec, link_spec):
    from skglmnn.inference import lr_test, wald_test

    family, link = get_family(family_spec), get_link(link_spec)
    X = _design("year")
    y = make_targets(X, family, link, spread=0.4, seed=18)[0]
    big = GLMRegressor(family_spec, link_spec, tol=1e-11).fit(X, y)
    small = GLMRegressor(family_spec, link_spec, tol=1e-11).fit(X[:, :1], y)
    _, _, fit_big = _reference(X, y, family, link)
    _, _, fit_small = _reference(X[:, :1], y, family, link)
    # GLMResults has no compare_lr_test: the same statistic from its log-likelihoods
    statistic = 2 * (fit_big.llf - fit_small.llf)
    df = fit_small.df_resid - fit_big.df_resid
    p_value = stats.chi2.sf(statistic, df)
    result = lr_test(small, big)
    np.testing.assert_allclose([result.statistic, result.p_value], [statistic, p_value],
                               rtol=1e-6)  # fmt: skip
    assert result.df == df == 2
    # Wald: the two dropped columns are 0; statsmodels on the raw columns (a well-posed
    # statistic: it is invariant to the columns' scaling)
    raw = sm.GLM(y, sm.add_constant(X, prepend=False), family=sm_family(family, link)).fit(
        tol=1e-13)  # fmt: skip
    for use_f in (False, True):
        ours = wald_test(big, ["x1", "x2"], use_f=use_f)
        ref = raw.wald_test(np.eye(4)[1:3], use_f=use_f, scalar=True)
        np.testing.assert_allclose([ours.statistic, ours.p_value],
                                   [float(ref.statistic), float(ref.pvalue)], rtol=1e-5)
    R = np.array([[0.0, 1.0, -1.0, 0.0]])
    assert wald_test(big, R).df == 1
    with pytest.raises(ValueError, match="Unknown parameter"):
        wald_test(big, ["x9"])
    with pytest.raises(ValueError, match="restricted model first"):
        lr_test(big, small)


@pytest.mark.parametrize("case", ["gamma-identity-weights", "poisson-penalised-cluster",
                                  "multinomial", "sparse"])  # fmt: skip
def test_blockwise_factorisation_equals_one_block(case, monkeypatch):
    """The information is reduced block of rows by block of rows (no copy of X): tiny
    blocks give the same tables as one block."""
    import scipy.sparse as sp

    import skglmnn.inference as inference

    X = _design("year")
    groups = np.random.default_rng(19).integers(0, 20, len(X))
    w = None
    if case == "multinomial":
        y = np.digitize(X[:, 2], np.quantile(X[:, 2], [1 / 3, 2 / 3]))
        model, data = GLMClassifier(C=5.0).fit(X, y), (X, y)
    elif case == "sparse":
        Xs = sp.csr_matrix((X > np.median(X, axis=0)).astype(float))
        y = make_targets(Xs.toarray(), "poisson", seed=20)[0]
        model, data = GLMRegressor("poisson").fit(Xs, y), (Xs, y)
    else:
        family, link = case.split("-")[:2] if case.startswith("gamma") else ("poisson", "log")
        y = make_targets(X, family, link if family == "gamma" else "log", spread=0.3, seed=21)[0]
        w = np.random.default_rng(22).uniform(0.5, 2, len(y)) if "weights" in case else None
        model = GLMRegressor(family, link if family == "gamma" else "log",
                             alpha=0.01 if "penalised" in case else 0.0).fit(X, y, w)
        data = (X, y)
    tables = []
    for entries in (2**18, 64):
        monkeypatch.setattr(inference, "BLOCK_ENTRIES", entries)
        tables.append([model.coef_table(*data, sample_weight=w, robust=robust,
                                        groups=groups if robust == "cluster" else None)
                       for robust in (None, "HC0", "cluster")])  # fmt: skip
    for one, many in zip(*tables, strict=True):
        np.testing.assert_allclose(many["std_error"], one["std_error"], rtol=1e-10)
