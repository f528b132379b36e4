"""The solver layer on data shaped like real tables.

Correlated columns, scales from 1e-3 to 1e6, a calendar year and an income in
cents beside the intercept, a dummy and a count (``skglmnn._testing``).  The
references are statsmodels fits on the *standardised* columns, mapped back
exactly, so that they do not suffer from the scaling under test.  Every fit
must either meet the reference or say that it did not (a ConvergenceWarning).
"""

import time
import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.exceptions import ConvergenceWarning
from test_glm import sm_family

from skglmnn import GLMClassifier, GLMRegressor, NeuralGLM, NeuralGLMClassifier
from skglmnn._separation import separated
from skglmnn._solvers import choose_solver, make_problem
from skglmnn._testing import make_tabular, standardise, to_original
from skglmnn.families import get_family
from skglmnn.links import get_link

# (family, link, spread of eta): each family with its canonical link and with log
FAMILY_LINKS = [
    ("normal", "identity", 1.0), ("normal", "log", 0.3),
    ("binomial", "logit", 1.0), ("binomial", "probit", 0.7), ("binomial", "cloglog", 0.7),
    ("poisson", "log", 1.0), ("poisson", "identity", 0.2),
    ("gamma", "inverse", 0.1), ("gamma", "log", 1.0),
    ("inverse_gaussian", "inverse_squared", 0.05), ("inverse_gaussian", "log", 0.5),
    ("tweedie(1.5)", "log", 1.0), ("negative_binomial(0.5)", "log", 1.0),
]  # fmt: skip
REGRESSOR_SOLVERS = ["auto", "newton", "lbfgs", "cd"]


def standardised_reference(X, y, family, link, sample_weight=None):
    """statsmodels' maximum likelihood estimate, fitted on standardised columns and mapped back."""
    Z, mean, std = standardise(X)
    fit = sm.GLM(y, sm.add_constant(Z), family=sm_family(get_family(family), get_link(link)),
                 var_weights=sample_weight).fit(tol=1e-14, maxiter=500)  # fmt: skip
    coef, intercept = to_original(fit.params[1:], fit.params[0], mean, std)
    return coef, intercept, std


def standardised_error(coef, reference, std):
    """Largest coefficient error in standardised units, relative to the coefficients' size."""
    return np.max(np.abs(coef - reference) * std) / np.linalg.norm(reference * std)


def fit_recording(estimator, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(*args, **kwargs)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    return estimator, convergence


@pytest.mark.parametrize("solver", REGRESSOR_SOLVERS)
@pytest.mark.parametrize("family, link, spread", FAMILY_LINKS)
def test_unpenalised_fits_meet_the_standardised_reference_or_warn(family, link, spread, solver):
    X, y, _, _ = make_tabular(600, 7, family, link, spread=spread, seed=1)
    reference, _, std = standardised_reference(X, y, family, link)
    model, warned = fit_recording(
        GLMRegressor(family, link, solver=solver, tol=1e-10, max_iter=1000), X, y
    )
    error = standardised_error(model.coef_, reference, std)
    assert error <= 1e-7 or warned, f"{error:.2e} off without a warning"
    if solver in ("auto", "newton"):  # Newton meets it, on every pair
        assert error <= 1e-7 and not warned


@pytest.mark.parametrize("family, link, spread", FAMILY_LINKS)
def test_weighted_fits_meet_the_standardised_reference(family, link, spread):
    X, y, _, _ = make_tabular(400, 6, family, link, spread=spread, seed=2)
    w = np.random.default_rng(2).uniform(0.2, 3.0, size=len(y))
    reference, _, std = standardised_reference(X, y, family, link, sample_weight=w)
    model = GLMRegressor(family, link, tol=1e-10).fit(X, y, sample_weight=w)
    assert standardised_error(model.coef_, reference, std) <= 1e-7


def _transform(X, seed):
    """``X * d + c``: column scales 1e-4..1e5, shifts up to 1e3 of a column's spread."""
    rng = np.random.default_rng(seed)
    d = 10.0 ** rng.uniform(-4, 5, X.shape[1])
    c = rng.uniform(-1e3, 1e3, X.shape[1]) * X.std(axis=0) * d
    return X * d + c, d, c


def assert_equivariant(coef, intercept, coef_t, intercept_t, X, d, c, rtol=1e-6):
    """The fit of ``X d + c`` is the fit of X, transformed: same eta, coef_t = coef / d."""
    std = X.std(axis=0)
    size = np.linalg.norm(coef * std)
    np.testing.assert_array_less(np.abs(coef_t * d - coef) * std, rtol * size + 1e-300)
    eta, eta_t = X @ coef + intercept, (X * d + c) @ coef_t + intercept_t
    np.testing.assert_allclose(eta_t, eta, rtol=0, atol=rtol * max(np.std(eta), 1.0))


@pytest.mark.parametrize("solver", REGRESSOR_SOLVERS)
@pytest.mark.parametrize("family, link", [("normal", "identity"), ("poisson", "log"),
                                          ("gamma", "log"), ("binomial", "logit")])
def test_regressor_is_equivariant_at_the_default_tol(family, link, solver):
    X, y, _, _ = make_tabular(500, 6, family, link, seed=3)
    Xt, d, c = _transform(X, 3)
    a = GLMRegressor(family, link, solver=solver).fit(X, y)
    b = GLMRegressor(family, link, solver=solver).fit(Xt, y)
    assert_equivariant(a.coef_, a.intercept_, b.coef_, b.intercept_, X, d, c)


def _classes(X, n_classes, seed):
    rng = np.random.default_rng(seed)
    Z, _, _ = standardise(X)
    logits = Z @ rng.normal(scale=0.8, size=(X.shape[1], n_classes))
    u = rng.gumbel(size=logits.shape)
    return np.argmax(logits + u, axis=1)


CLASSIFIER_SOLVERS = ["lbfgs", "newton-cholesky", "newton-cg", "sag", "saga"]


@pytest.mark.parametrize("solver", CLASSIFIER_SOLVERS)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_classifier_is_equivariant_for_every_solver_name(n_classes, solver):
    """liblinear is left out: it penalises the intercept, and a penalised fit is not
    equivariant (the penalty is on coef in X's units)."""
    X, _, _, _ = make_tabular(500, 6, seed=4)
    y = _classes(X, n_classes, 4)
    Xt, d, c = _transform(X, 4)
    a = GLMClassifier(C=np.inf, solver=solver).fit(X, y)
    b = GLMClassifier(C=np.inf, solver=solver).fit(Xt, y)
    for k in range(a.coef_.shape[0]):
        assert_equivariant(a.coef_[k], a.intercept_[k], b.coef_[k], b.intercept_[k], X, d, c)


@pytest.mark.parametrize("solver", ["lbfgs", "adam", "sgd"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_networks_without_hidden_layers_are_equivariant(n_classes, solver):
    """The first layer reads standardised inputs, so every solver follows the same path
    on X and on X * d + c (Adam and SGD too, batch by batch)."""
    X, y, _, _ = make_tabular(400, 5, "poisson", seed=5)
    Xt, d, c = _transform(X, 5)
    kw = dict(hidden=(), alpha=0.0, solver=solver, max_iter=1000 if solver == "lbfgs" else 30,
              random_state=0, learning_rate_init=0.01)  # fmt: skip
    if n_classes == 2:
        a, b = NeuralGLM(family="poisson", **kw), NeuralGLM(family="poisson", **kw)
    else:
        y = _classes(X, n_classes, 5)
        a, b = NeuralGLMClassifier(**kw), NeuralGLMClassifier(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 30 epochs: not converged
        a.fit(X, y)
        b.fit(Xt, y)
    for k in range(a.coefs_[0].shape[1]):
        assert_equivariant(a.coefs_[0][:, k], a.intercepts_[0][k], b.coefs_[0][:, k],
                           b.intercepts_[0][k], X, d, c, rtol=1e-5)  # fmt: skip


def test_network_without_hidden_layers_is_the_glm_on_real_shaped_data():
    X, y, _, _ = make_tabular(600, 7, "poisson", seed=6)
    glm = GLMRegressor("poisson", tol=1e-10).fit(X, y)
    net = NeuralGLM(hidden=(), family="poisson", alpha=0.0, solver="lbfgs", tol=1e-10,
                    max_iter=2000).fit(X, y)  # fmt: skip
    std = X.std(axis=0)
    assert standardised_error(net.coefs_[0][:, 0], glm.coef_, std) <= 1e-7


def _multinomial_reference(X, y):
    Z, mean, std = standardise(X)
    fit = sm.MNLogit(y, sm.add_constant(Z)).fit(method="newton", maxiter=100, disp=0, tol=1e-14)
    P = np.column_stack([np.zeros(Z.shape[1] + 1), fit.params])  # class 0 is the reference
    P -= P.mean(axis=1, keepdims=True)  # our representative: centred over classes
    return (P[1:] / std[:, None]).T, std


@pytest.mark.parametrize("solver", CLASSIFIER_SOLVERS)
def test_unpenalised_multinomial_on_an_unscaled_survey(solver):
    """944 rows, 5 unscaled columns, 7 classes: Newton in a few steps, every name to 1e-8."""
    X, _, _, _ = make_tabular(944, 5, seed=8)
    y = _classes(X, 7, 8)
    assert not separated(X, y, 7)  # the maximum likelihood estimate exists
    reference, std = _multinomial_reference(X, y)
    model, warned = fit_recording(GLMClassifier(C=np.inf, tol=1e-10, solver=solver), X, y)
    assert not warned
    error = np.max(np.abs(model.coef_ - reference) * std) / np.linalg.norm(reference * std)
    assert error <= 1e-8
    assert model.n_iter_[0] <= 15


@pytest.mark.parametrize("n_classes", [2, 7])
def test_quasi_separated_classes_are_announced(n_classes):
    """A class absent at one level of a dummy: no maximum likelihood estimate, a warning."""
    X, _, _, _ = make_tabular(944, 5, seed=7)
    y = _classes(X, 7, 7)
    if n_classes == 2:
        y = (y == 5).astype(int)
    assert np.sum((y == 5 % n_classes) & (X[:, 3] == 1)) == 0 or n_classes == 2
    with pytest.warns(ConvergenceWarning, match="separable"):
        GLMClassifier(C=np.inf, tol=1e-8).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GLMClassifier(C=1.0).fit(X, y)  # a penalty makes the estimate exist


def test_separation_check_against_constructed_cases():
    rng = np.random.default_rng(15)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    assert not separated(X, y, 2)
    assert separated(X, (X[:, 0] > 0).astype(int), 2)  # complete
    dummy = (X[:, 1] > 0).astype(float)
    quasi = np.where(dummy == 1, 1, y)  # every sample with the dummy set is class 1
    assert separated(np.column_stack([X, dummy]), quasi, 2)
    three = np.digitize(X[:, 0] + 0.5 * rng.normal(size=300), [-0.5, 0.5])
    assert not separated(X, three, 3)
    assert separated(X, np.digitize(X[:, 0], [-0.5, 0.5]), 3)


def test_multinomial_newton_hessian_matches_finite_differences():
    X, _, _, _ = make_tabular(200, 4, seed=8)
    y = _classes(X, 3, 8).astype(float)
    w = np.random.default_rng(8).uniform(0.5, 2, 200)
    problem = make_problem(X, y, w, None, n_classes=3, alpha=0.01)
    theta = np.random.default_rng(9).normal(scale=0.3, size=problem.n_params)
    _, grad, state = problem.value_gradient(theta, curvature=True)
    H = problem.hessian(state)
    eps = 1e-6
    numeric = np.empty_like(H)
    for j in range(problem.n_params):
        e = np.zeros(problem.n_params)
        e[j] = eps
        numeric[:, j] = (problem.value_gradient(theta + e)[1]
                         - problem.value_gradient(theta - e)[1]) / (2 * eps)  # fmt: skip
    np.testing.assert_allclose(H, numeric, rtol=1e-5, atol=1e-8)


def test_large_multinomial_starts_with_lbfgs_and_meets_the_reference():
    X, _, _, _ = make_tabular(20000, 6, seed=10)
    y = _classes(X, 5, 10)
    problem = make_problem(X, y.astype(float), None, None, n_classes=5)
    assert choose_solver(problem) == "lbfgs-newton"  # L-BFGS first, Newton if it is slow
    reference, std = _multinomial_reference(X, y)
    model, warned = fit_recording(GLMClassifier(C=np.inf, tol=1e-9), X, y)
    error = np.max(np.abs(model.coef_ - reference) * std) / np.linalg.norm(reference * std)
    assert error <= 1e-6 or warned


@pytest.mark.parametrize("solver", ["newton", "lbfgs", "cd"])
def test_a_tolerance_below_rounding_stops_at_once_and_says_so(solver):
    """tol=1e-12 on a 20-row problem with a year column returns at once; a tol no
    float64 gradient can meet (1e-300) stops at the rounding floor, with a warning."""
    X, y, _, _ = make_tabular(20, 4, "gamma", "log", seed=11)
    y = y * 1e4  # large values: the gradient's rounding floor sits far from 0
    for tol in (1e-12, 1e-300):
        started = time.perf_counter()
        model, warned = fit_recording(
            GLMRegressor("gamma", "log", solver=solver, tol=tol, max_iter=10_000), X, y
        )
        assert model.n_iter_ < 200
        assert time.perf_counter() - started < 5.0  # not a benchmark: a bound on a hang
        if tol == 1e-300:
            assert warned and "GLMRegressor" in str(warned[0].message)
            assert "no step could lower the objective" in str(warned[0].message)


@pytest.mark.parametrize("estimator", [GLMRegressor("poisson", solver="lbfgs", max_iter=2),
                                       GLMClassifier(max_iter=1),
                                       GLMClassifier(C=np.inf, solver="newton-cholesky",
                                                     max_iter=1),
                                       NeuralGLM(hidden=(), family="poisson", solver="lbfgs",
                                                 max_iter=2)])  # fmt: skip
def test_an_unfinished_fit_names_estimator_and_gap(estimator):
    X, y, _, _ = make_tabular(300, 5, "poisson", seed=12)
    if isinstance(estimator, GLMClassifier):
        y = _classes(X, 3, 12)
    # (the networks' adam/sgd stop on the loss curve, not a gradient: not here)
    with pytest.warns(ConvergenceWarning, match=type(estimator).__name__ + r".*optimality gap"):
        estimator.fit(X, y)


def test_the_final_check_does_not_trust_the_solver(monkeypatch):
    """A solver that claims convergence too early is caught by the independent check."""
    import skglmnn._solvers as solvers

    real = solvers.SOLVERS["newton"]

    def claims_too_much(problem, theta0, max_iter, tol, verbose=0):
        result = real(problem, theta0, 1, tol, verbose)
        result.converged, result.optimality = True, 0.0
        return result

    monkeypatch.setitem(solvers.SOLVERS, "newton", claims_too_much)
    X, y, _, _ = make_tabular(300, 5, "poisson", seed=13)
    with pytest.warns(ConvergenceWarning, match="GLMRegressor did not converge"):
        GLMRegressor("poisson", solver="newton", tol=1e-10).fit(X, y)


def test_a_centred_constant_column_is_a_flat_direction():
    X, y, _, _ = make_tabular(300, 4, "poisson", seed=14)
    X = np.column_stack([X, np.full(300, 2024.0)])
    with pytest.warns(UserWarning, match="rank deficient"):
        model = GLMRegressor("poisson", tol=1e-10).fit(X, y)
    reference, _, std = standardised_reference(X[:, :4], y, "poisson", "log")
    assert model.coef_[4] == pytest.approx(0.0, abs=1e-12)
    assert standardised_error(model.coef_[:4], reference, std) <= 1e-7


def test_newton_does_not_take_a_cubic_in_years_for_rank_deficient():
    """year, year^2, year^3 (condition ~8e5 even standardised) is full rank: Newton once
    cut a direction there (an eigenvalue cutoff of 1e-10 on the squared scale), warned of
    rank deficiency and returned a fit with a larger residual sum of squares."""
    import warnings

    from skglmnn import GLMRegressor
    from skglmnn._testing import make_targets, standardise

    year = np.tile(np.arange(1990.0, 2021.0), 10)
    X = np.column_stack([year, year**2, year**3])
    y = make_targets(X, "normal", spread=0.4, seed=1)[0]
    Z, _, _ = standardise(X)
    D = np.column_stack([Z, np.ones(len(y))])
    rss = np.sum((y - D @ np.linalg.lstsq(D, y, rcond=None)[0]) ** 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = GLMRegressor(solver="newton", tol=1e-10).fit(X, y)
    np.testing.assert_allclose(np.sum((y - model.predict(X)) ** 2), rss, rtol=1e-10)


def test_newton_takes_steps_whose_decrease_is_below_the_rounding_of_f():
    """Tweedie's canonical link on a cubic in years: at a gap of ~1e-7 a Newton step lowers
    F by less than F's rounding; the line search saw no decrease and stopped there (with a
    warning). The step is now judged by the gradient it reaches."""
    import warnings

    from skglmnn import GLMRegressor
    from skglmnn._testing import make_targets

    year = np.tile(np.arange(1990.0, 2021.0), 10)
    X = np.column_stack([year, year**2, year**3])
    y = make_targets(X, "tweedie(1.5)", "power(-0.5)", spread=0.4, seed=1)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = GLMRegressor("tweedie(1.5)", "power(-0.5)", solver="newton", tol=1e-11,
                             max_iter=100).fit(X, y)  # fmt: skip
    assert model.n_iter_ < 20


@pytest.mark.parametrize("family, l1_ratio, alpha", [
    ("poisson", 1.0, 1.0), ("poisson", 1.0, 0.01), ("binomial", 0.5, 0.05), ("normal", 1.0, 10.0),
])  # fmt: skip
def test_dense_working_sets_reach_the_full_hessian_solution(monkeypatch, family, l1_ratio, alpha):
    """Coordinate descent on a working set of columns gives the full-Hessian answer."""
    from skglmnn._solvers import cd

    X, y, _, _ = make_tabular(3000, 60, family, seed=2)
    fits = {}
    for name, cost in (("working set", 0), ("full", 10**30)):
        monkeypatch.setattr(cd, "DENSE_SET_MIN_COST", cost)
        fits[name] = GLMRegressor(family, alpha=alpha, l1_ratio=l1_ratio, tol=1e-10,
                                  max_iter=500).fit(X, y)  # fmt: skip
    a, b = fits["working set"], fits["full"]
    assert 0 < np.count_nonzero(a.coef_) < 40  # the set is a real subset here
    np.testing.assert_array_equal(a.coef_ == 0, b.coef_ == 0)
    np.testing.assert_allclose(X @ a.coef_ + a.intercept_, X @ b.coef_ + b.intercept_,
                               rtol=1e-8, atol=1e-8)  # fmt: skip
