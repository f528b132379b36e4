"""NeuralGLM and NeuralGLMClassifier: the thesis (a network of GLMs reduces to the GLM),
backpropagation against finite differences, the learned features, and behaviour."""

import itertools
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import FAMILY_SPECS, LINK_SPECS, central_differences, sample_y, valid_eta
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import mean_poisson_deviance
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skglmnn import GLMClassifier, GLMRegressor, NeuralGLM, NeuralGLMClassifier
from skglmnn._layers import GLMStack, row_source
from skglmnn._solvers.network import DivergenceError, NetworkData, value_gradient
from skglmnn.activations import ACTIVATIONS, get_activation
from skglmnn.families import get_family
from skglmnn.links import get_link

TIGHT = dict(solver="lbfgs", tol=1e-10, max_iter=5000)


def regression_data(family, n=400, p=3, seed=0):
    """X and y from a GLM of ``family`` with its default link."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    family = get_family(family)
    eta = 0.3 + X @ np.linspace(0.3, -0.2, p)
    mu = family.default_link().inverse(eta)
    return X, sample_y(family, mu, seed)


# -- the thesis: hidden=() is the GLM -----------------------------------------------------


@pytest.mark.parametrize("family", FAMILY_SPECS)
def test_no_hidden_layer_is_the_glm_for_every_family(family):
    X, y = regression_data(family)
    alpha = 1e-3
    net = NeuralGLM(hidden=(), family=family, alpha=alpha, **TIGHT).fit(X, y)
    glm = GLMRegressor(family=family, alpha=alpha, tol=1e-10, solver="newton").fit(X, y)
    np.testing.assert_allclose(net.coef_, glm.coef_, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(net.intercept_, glm.intercept_, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(net.predict(X), glm.predict(X), rtol=1e-5)
    assert net.link_ == glm.link_


@pytest.mark.parametrize("link", ["log", "identity", "sqrt"])
def test_no_hidden_layer_is_the_glm_for_other_links(link):
    X, y = regression_data("poisson")
    net = NeuralGLM(hidden=(), family="poisson", link=link, alpha=1e-2, **TIGHT).fit(X, y + 1)
    glm = GLMRegressor(family="poisson", link=link, alpha=1e-2, tol=1e-10).fit(X, y + 1)
    np.testing.assert_allclose(net.coef_, glm.coef_, rtol=1e-5, atol=1e-8)


def test_no_hidden_layer_normal_identity_is_least_squares():
    X, y = regression_data("normal")
    net = NeuralGLM(hidden=(), activation="identity", alpha=0.0, **TIGHT).fit(X, y)
    ols = LinearRegression().fit(X, y)
    np.testing.assert_allclose(net.coef_, ols.coef_, rtol=1e-6)
    np.testing.assert_allclose(net.intercept_, ols.intercept_, rtol=1e-6)
    # and the closed form (X^T X)^-1 X^T y with a column of ones
    Z = np.column_stack([X, np.ones(len(y))])
    beta = np.linalg.solve(Z.T @ Z, Z.T @ y)
    np.testing.assert_allclose(np.append(net.coef_, net.intercept_), beta, rtol=1e-6)


@pytest.mark.parametrize("dataset", ["breast_cancer", "iris"])
@pytest.mark.parametrize("C", [0.1, 1.0])
def test_no_hidden_layer_classifier_is_logistic_regression(dataset, C):
    from sklearn.datasets import load_iris

    X, y = (load_breast_cancer if dataset == "breast_cancer" else load_iris)(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    net = NeuralGLMClassifier(hidden=(), alpha=1.0 / (C * len(y)), **TIGHT).fit(X, y)
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=10000).fit(X, y)
    ours = GLMClassifier(C=C, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(net.coef_, ref.coef_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(net.intercept_, ref.intercept_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(net.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(net.coef_, ours.coef_, rtol=1e-4, atol=1e-5)
    assert net.coef_.shape == ref.coef_.shape and net.intercept_.shape == ref.intercept_.shape


@pytest.mark.parametrize("link", ["probit", "cloglog", "cauchit"])
def test_no_hidden_layer_classifier_matches_glmclassifier_links(link):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    net = NeuralGLMClassifier(hidden=(), link=link, alpha=1.0 / len(y), **TIGHT).fit(X, y)
    glm = GLMClassifier(link=link, C=1.0, tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(net.predict_proba(X), glm.predict_proba(X), atol=1e-6)


# -- backpropagation against finite differences -------------------------------------------


def tiny_network(family_spec, link_spec, activation, dtype, seed=0):
    """A 2-hidden-layer stack whose output eta sits inside the link's range."""
    family, link = get_family(family_spec), get_link(link_spec)
    eta = valid_eta(link, n=200, seed=seed)
    mu = link.inverse(eta)
    keep = family.mu_interval.contains(mu) & (np.abs(mu) < 50)
    if keep.sum() < 5:
        pytest.skip(f"{link!r} gives no means in the domain of {family!r}")
    centre = np.median(eta[keep])
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(23, 3)).astype(dtype)
    act = get_activation(activation)
    stack = GLMStack(3, (4, 3), [act, act], 1, family, link)
    theta = rng.normal(scale=0.1, size=stack.n_params)
    for b in stack.intercepts(theta)[:-1]:
        b[...] = 0.5  # inside every activation's domain (reciprocal, inverse_sqrt, ...)
    stack.coefs(theta)[-1][...] *= 0.1
    stack.intercepts(theta)[-1][...] = centre
    y = sample_y(family, np.full(23, link.inverse(np.array([centre]))[0]), seed)
    w = rng.uniform(0.5, 2.0, 23)
    data = NetworkData(row_source(X), y, w / w.mean(), np.empty((0, 1)), np.arange(23))
    return stack, theta, data


PAIRS = list(itertools.product(FAMILY_SPECS, LINK_SPECS))


@pytest.mark.parametrize("family_spec, link_spec", PAIRS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_backpropagation_matches_finite_differences(family_spec, link_spec, dtype):
    """Every activation, for this (family, link) output, float64 and float32 X."""
    for activation in ACTIVATIONS:
        stack, theta, data = tiny_network(family_spec, link_spec, activation, dtype)
        mask = stack.weight_mask()
        value, grad = value_gradient(stack, data, theta, 0.01, mask)
        assert np.isfinite(value), activation

        def objective(t, stack=stack, data=data, mask=mask):
            return value_gradient(stack, data, t, 0.01, mask)[0]

        fd = central_differences(objective, theta)
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7, err_msg=activation)


@pytest.mark.parametrize("family_spec", ["normal", "binomial", "poisson"])
def test_canonical_output_delta_is_mu_minus_y(family_spec):
    """d loss / d output intercept = mean(w (mu - y)) for canonical pairs."""
    family = get_family(family_spec)
    stack, theta, data = tiny_network(family_spec, family.canonical_link().name, "tanh",
                                      np.float64)  # fmt: skip
    _, grad = value_gradient(stack, data, theta, 0.0, stack.weight_mask())
    from skglmnn._layers import propagate

    eta = propagate(stack, theta, data.source, 23, stack.n_layers)[:, 0]
    mu = family.canonical_link().inverse(eta)
    expected = np.mean(data.sample_weight * (mu - data.y))
    np.testing.assert_allclose(grad[-1], expected, rtol=1e-10)


def test_softmax_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    y = rng.integers(0, 4, 30).astype(float)
    stack = GLMStack(3, (5,), [get_activation("softplus")], 4, None, None)
    theta = rng.normal(scale=0.5, size=stack.n_params)
    data = NetworkData(row_source(X), y, np.ones(30), np.empty((0, 4)), np.arange(30))
    mask = stack.weight_mask()
    _, grad = value_gradient(stack, data, theta, 0.1, mask)
    fd = central_differences(lambda t: value_gradient(stack, data, t, 0.1, mask)[0], theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_sparse_fortran_and_float32_inputs_give_the_dense_answer():
    X, y = regression_data("poisson", n=200, p=5)
    kw = dict(hidden=(6,), activation="tanh", family="poisson", random_state=0, **TIGHT)
    kw["max_iter"] = 50
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = NeuralGLM(**kw).fit(X, y)
        for other in (sp.csr_matrix(X), sp.csc_matrix(X), np.asfortranarray(X)):
            fitted = NeuralGLM(**kw).fit(other, y)
            # the column moments of the input standardisation are summed in another
            # order for sparse X: 1e-16 differences, grown over 50 non-convex iterations
            np.testing.assert_allclose(fitted.predict(other), dense.predict(X), rtol=1e-7)
        X32 = X.astype(np.float32)
        single = NeuralGLM(**kw).fit(X32, y)
        widened = NeuralGLM(**kw).fit(X32.astype(np.float64), y)
    # float32 X is read as is and widened row by row: the same fit as widening X first
    assert single.predict(X32).dtype == np.float32
    np.testing.assert_allclose(single.coefs_[0], widened.coefs_[0], rtol=1e-12)


# -- the hidden layers are a feature engineer feeding a GLM -------------------------------


@pytest.mark.parametrize("family", ["normal", "poisson", "gamma"])
def test_refitting_the_output_glm_on_the_features_reproduces_it(family):
    X, y = regression_data(family, n=300)
    X = np.column_stack([X, np.sin(2 * X[:, 0])])
    alpha = 1e-3
    net = NeuralGLM(hidden=(5,), activation="tanh", family=family, alpha=alpha,
                    random_state=0, **TIGHT).fit(X, y)  # fmt: skip
    features = net.transform(X)
    assert features.shape == (300, 5)
    glm = GLMRegressor(family=family, alpha=alpha, tol=1e-10).fit(features, y)
    np.testing.assert_allclose(glm.coef_, net.coef_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(glm.intercept_, net.intercept_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(glm.predict(features), net.predict(X), rtol=1e-5, atol=1e-5)


def test_classifier_features_feed_a_logistic_regression():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-2
    net = NeuralGLMClassifier(hidden=(4,), activation="logistic", alpha=alpha,
                              random_state=0, **TIGHT).fit(X, y)  # fmt: skip
    features = net.transform(X)
    glm = GLMClassifier(C=1.0 / (alpha * len(y)), tol=1e-10).fit(features, y)
    np.testing.assert_allclose(glm.coef_, net.coef_, rtol=1e-4, atol=1e-5)


# -- against scikit-learn's MLP on real data ------------------------------------------------


def _split(X, y, stratify=False):
    return train_test_split(X, y, test_size=0.25, random_state=0,
                            stratify=y if stratify else None)  # fmt: skip


@pytest.mark.parametrize(
    "solver, alpha, max_iter",
    [("lbfgs", 3000.0, 2000), ("adam", 1e-4, 200)],  # alpha on scikit-learn's scale
)
def test_diabetes_at_least_as_good_as_mlpregressor(solver, alpha, max_iter):
    """Same architecture, solver and objective (our alpha = theirs / n_samples)."""
    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = _split(X, y)
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    ours, theirs = [], []
    for seed in range(2):
        kw = dict(solver=solver, max_iter=max_iter, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            net = NeuralGLM(hidden=(16,), alpha=alpha / len(ytr), **kw).fit(Xtr, ytr)
            mlp = MLPRegressor(hidden_layer_sizes=(16,), alpha=alpha, **kw).fit(Xtr, ytr)
        ours.append(net.score(Xte, yte))
        theirs.append(mlp.score(Xte, yte))
    # lbfgs: both reach the same optimum (R^2 0.38); adam: our output starts at the
    # null model g(mean y), theirs at 0, which 200 epochs do not make up for
    assert np.mean(ours) >= np.mean(theirs) - 0.005, (ours, theirs)


@pytest.mark.parametrize("loader, hidden", [(load_digits, (64,)), (load_breast_cancer, (16,))])
def test_classification_at_least_as_good_as_mlpclassifier(loader, hidden):
    X, y = loader(return_X_y=True)
    Xtr, Xte, ytr, yte = _split(X, y, stratify=True)
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    kw = dict(solver="adam", max_iter=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net = NeuralGLMClassifier(hidden=hidden, alpha=1e-4 / len(ytr), **kw).fit(Xtr, ytr)
        mlp = MLPClassifier(hidden_layer_sizes=hidden, alpha=1e-4, **kw).fit(Xtr, ytr)
    assert net.score(Xte, yte) >= mlp.score(Xte, yte) - 0.01


def test_poisson_network_beats_squared_error_mlp_on_deviance():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 4))
    mu = np.exp(0.5 + np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] * X[:, 2])
    y = rng.poisson(mu)
    Xtr, Xte, ytr, yte = _split(X, y)
    kw = dict(solver="adam", max_iter=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net = NeuralGLM(hidden=(32,), family="poisson", alpha=1e-6, **kw).fit(Xtr, ytr)
        mlp = MLPRegressor(hidden_layer_sizes=(32,), **kw).fit(Xtr, ytr)
    ours = mean_poisson_deviance(yte, net.predict(Xte))
    theirs = mean_poisson_deviance(yte, np.clip(mlp.predict(Xte), 1e-3, None))
    assert ours < theirs, (ours, theirs)
    assert np.all(net.predict(Xte) > 0)  # the log link keeps every mean positive


# -- training behaviour -----------------------------------------------------------------------


def test_random_state_makes_fits_reproducible_and_seeds_differ():
    X, y = regression_data("normal", n=300)
    a = NeuralGLM(hidden=(8,), max_iter=5, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        p1 = a.fit(X, y).predict(X)
        p2 = NeuralGLM(hidden=(8,), max_iter=5, random_state=3).fit(X, y).predict(X)
        p3 = NeuralGLM(hidden=(8,), max_iter=5, random_state=4).fit(X, y).predict(X)
    np.testing.assert_array_equal(p1, p2)
    assert not np.allclose(p1, p3)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_training_lowers_the_loss_and_records_it(solver):
    X, y = regression_data("poisson", n=500)
    net = NeuralGLM(hidden=(8,), family="poisson", solver=solver, max_iter=300,
                    learning_rate_init=0.01, random_state=0).fit(X, y)  # fmt: skip
    assert net.loss_curve_[-1] < net.loss_curve_[0]
    assert net.best_loss_ == min(net.loss_curve_)
    assert net.n_iter_ == len(net.loss_curve_) < 300  # stopped by tol, not max_iter
    assert net.t_ == net.n_iter_ * 500
    assert net.validation_scores_ is None


def test_early_stopping_keeps_the_best_validation_score():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=600)
    net = NeuralGLM(hidden=(16,), early_stopping=True, max_iter=300, learning_rate_init=0.01,
                    random_state=0).fit(X, y)  # fmt: skip
    assert len(net.validation_scores_) == net.n_iter_
    assert net.best_validation_score_ == max(net.validation_scores_)
    assert net.best_validation_score_ > 0.3


def test_partial_fit_runs_one_epoch_and_continues():
    X, y = regression_data("poisson", n=300)
    net = NeuralGLM(hidden=(8,), family="poisson", random_state=0)
    for _ in range(3):
        net.partial_fit(X, y)
    assert net.n_iter_ == 3 and len(net.loss_curve_) == 3
    assert net.loss_curve_[2] < net.loss_curve_[0]
    assert not hasattr(NeuralGLM(solver="lbfgs"), "partial_fit")


def test_classifier_partial_fit_needs_classes_first():
    X, y = load_breast_cancer(return_X_y=True)
    clf = NeuralGLMClassifier(hidden=(4,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1])
    clf.partial_fit(X[100:], y[100:])
    assert clf.n_iter_ == 2
    with pytest.raises(ValueError, match="not seen"):
        clf.partial_fit(X[:5], np.array([0, 1, 2, 0, 1]))


def test_warm_start_continues_from_the_previous_parameters():
    X, y = regression_data("normal", n=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net = NeuralGLM(hidden=(8,), max_iter=3, warm_start=True, random_state=0).fit(X, y)
        first = [W.copy() for W in net.coefs_]
        net.fit(X, y)
    assert net.n_iter_ == 6 and len(net.loss_curve_) == 6
    assert not np.allclose(first[0], net.coefs_[0])


def test_verbose_prints_one_line_per_epoch(capsys):
    X, y = regression_data("normal", n=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        NeuralGLM(hidden=(4,), max_iter=5, early_stopping=True, verbose=1, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5
    assert lines[0].startswith("Epoch 1: loss ")
    assert "validation score" in lines[0] and lines[0].endswith(" s")


def test_per_layer_activations_and_attributes():
    X, y = regression_data("gamma", n=200)
    net = NeuralGLM(hidden=(5, 3), activation=["tanh", "softplus"], family="gamma",
                    solver="lbfgs", max_iter=50, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(X, y)
    assert [W.shape for W in net.coefs_] == [(3, 5), (5, 3), (3, 1)]
    assert [b.shape for b in net.intercepts_] == [(5,), (3,), (1,)]
    assert net.coef_.shape == (3,) and isinstance(net.intercept_, float)
    assert net.n_layers_ == 4 and net.out_activation_ == "exp"
    assert net.activations_ == ["tanh", "softplus"]
    assert net.link_.name == "log" and net.family_.name == "gamma"


def test_link_given_as_an_activation_name():
    X, y = regression_data("poisson", n=200)
    net = NeuralGLM(hidden=(), family="poisson", link="exp", **TIGHT).fit(X, y)
    assert net.link_.name == "log"
    clf = NeuralGLMClassifier(hidden=(), link="normal_cdf", **TIGHT)
    clf.fit(X, (y > 1).astype(int))
    assert clf.link_.name == "probit" and clf.out_activation_ == "normal_cdf"


def test_sample_weight_equals_repeated_rows_without_hidden_layer():
    X, y = regression_data("poisson", n=100)
    w = np.random.default_rng(0).integers(0, 3, 100)
    weighted = NeuralGLM(hidden=(), family="poisson", **TIGHT).fit(X, y, sample_weight=w)
    repeated = NeuralGLM(hidden=(), family="poisson", **TIGHT).fit(
        np.repeat(X, w, axis=0), np.repeat(y, w)
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6)


def test_offset_is_exposure_on_the_output():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 2))
    exposure = rng.uniform(1, 10, 500)
    y = rng.poisson(exposure * np.exp(0.2 + 0.4 * X[:, 0]))
    net = NeuralGLM(hidden=(), family="poisson", alpha=0.0, **TIGHT)
    net.fit(X, y, offset=np.log(exposure))
    glm = GLMRegressor(family="poisson", tol=1e-10).fit(X, y, offset=np.log(exposure))
    np.testing.assert_allclose(net.coef_, glm.coef_, rtol=1e-6)
    np.testing.assert_allclose(
        net.predict(X, offset=np.log(exposure)), glm.predict(X, offset=np.log(exposure)),
        rtol=1e-6,
    )  # fmt: skip


def test_class_weight_balanced_equals_the_weights_it_implies():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    w = len(y) / (2 * np.bincount(y))
    a = NeuralGLMClassifier(hidden=(), class_weight="balanced", alpha=1e-2, **TIGHT).fit(X, y)
    b = NeuralGLMClassifier(hidden=(), alpha=1e-2, **TIGHT).fit(X, y, sample_weight=w[y])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-6)


def test_string_labels_and_multiclass_probabilities():
    X, y = load_digits(return_X_y=True)
    labels = np.array(list("abcdefghij"))[y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = NeuralGLMClassifier(hidden=(16,), max_iter=20, random_state=0).fit(X / 16, labels)
    proba = clf.predict_proba(X / 16)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(X / 16)) <= set("abcdefghij")
    assert clf.coef_.shape == (10, 16) and clf.n_outputs_ == 10


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(hidden=(4, 0)), "positive integers"),
        (dict(hidden=(-2,)), "positive integers"),
        (dict(activation="swish"), "Unknown activation 'swish'"),
        (dict(activation=["tanh", "relu"], hidden=(3,)), "2 names for 1 hidden layers"),
        (dict(link="relu"), "not invertible"),
        (dict(link="nonsense"), "nonsense"),
        (dict(family="poisson"), "Poisson"),  # y < 0 below
    ],
)
def test_bad_parameters_are_clear_errors(params, message):
    X, y = regression_data("normal", n=50)
    with pytest.raises(ValueError, match=message):
        NeuralGLM(**params).fit(X, y - 10)


def test_classifier_errors():
    X, y = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match="Only binary classification"):
        NeuralGLMClassifier(link="probit").fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        NeuralGLMClassifier().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="relu"):
        NeuralGLMClassifier(link="relu").fit(X, y % 2)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_rejected(bad):
    X, y = regression_data("normal", n=50)
    X[3, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        NeuralGLM().fit(X, y)


def test_divergence_stops_with_an_informative_error():
    X, y = regression_data("poisson", n=200)
    # (inputs are standardised inside, so unscaled X alone no longer diverges: SGD
    # with a far too large step does)
    net = NeuralGLM(hidden=(8,), family="poisson", solver="sgd", learning_rate_init=10.0,
                    random_state=0)  # fmt: skip
    with pytest.raises(DivergenceError, match="diverged"):
        net.fit(X, y)
    assert isinstance(DivergenceError("x"), ValueError)


# -- scikit-learn tools ---------------------------------------------------------------------


def test_pipeline_grid_search_over_hidden_and_alpha_and_cross_validation():
    X, y = regression_data("poisson", n=300)
    pipe = make_pipeline(StandardScaler(), NeuralGLM(family="poisson", solver="lbfgs",
                                                     max_iter=100, random_state=0))  # fmt: skip
    grid = {"neuralglm__hidden": [(), (4,)], "neuralglm__alpha": [1e-4, 1e-1]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
        scores = cross_val_score(NeuralGLMClassifier(hidden=(4,), solver="lbfgs",
                                                     random_state=0), X, y > 1, cv=3)  # fmt: skip
    assert search.best_score_ > 0.1
    assert scores.shape == (3,) and np.all(scores > 0.5)


def test_pickle_round_trip_predicts_the_same():
    X, y = load_breast_cancer(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = NeuralGLMClassifier(hidden=(4,), max_iter=5, random_state=0).fit(X / 100, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X / 100), clf.predict_proba(X / 100))
    again.partial_fit(X / 100, y)  # the optimiser state travels too


@pytest.mark.parametrize("activation", ["inverse_sqrt", "reciprocal"])
def test_hidden_activations_must_be_defined_on_the_real_line(activation):
    """These once trained into NaN at epoch 1 ('the loss became nan', blaming the output)."""
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match="not finite for every real input"):
        NeuralGLM(hidden=(3,), activation=activation).fit(X, X[:, 0])
