"""GLMClassifier against scikit-learn's LogisticRegression and statsmodels."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import statsmodels.api as sm
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, scale

from skglmnn import GLMClassifier


def dataset(name):
    loader = {"breast_cancer": load_breast_cancer, "iris": load_iris, "wine": load_wine,
              "digits": load_digits}[name]  # fmt: skip
    X, y = loader(return_X_y=True)
    return scale(X), y


def assert_same_model(ours, ref, X, coef_rtol=1e-3):
    assert ours.coef_.shape == ref.coef_.shape
    assert ours.intercept_.shape == ref.intercept_.shape
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    scale_ = np.abs(ref.coef_).max()
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=coef_rtol, atol=coef_rtol * scale_)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=coef_rtol,
                               atol=coef_rtol * max(1.0, scale_))  # fmt: skip


L2_CASES = [
    ("breast_cancer", {"C": 0.1}), ("breast_cancer", {"C": 1.0}), ("breast_cancer", {"C": 10.0}),
    ("iris", {"C": 1.0}), ("iris", {"C": 0.05}), ("wine", {"C": 1.0}), ("digits", {"C": 0.1}),
    ("breast_cancer", {"C": 1.0, "fit_intercept": False}), ("iris", {"fit_intercept": False}),
    ("breast_cancer", {"class_weight": "balanced"}),
    ("iris", {"class_weight": {0: 3.0, 1: 1.0, 2: 0.5}}),
]  # fmt: skip


@pytest.mark.parametrize("name, params", L2_CASES)
def test_l2_matches_logistic_regression(name, params):
    X, y = dataset(name)
    ref = LogisticRegression(tol=1e-10, max_iter=10_000, **params).fit(X, y)
    ours = GLMClassifier(tol=1e-10, max_iter=10_000, **params).fit(X, y)
    assert_same_model(ours, ref, X)
    assert ours.n_iter_.dtype == np.int32 and ours.n_iter_.shape == (1,)


@pytest.mark.parametrize("name", ["breast_cancer", "iris"])
def test_sample_weight_matches(name):
    X, y = dataset(name)
    w = np.random.default_rng(0).uniform(0.2, 3, len(y))
    ref = LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y, sample_weight=w)
    ours = GLMClassifier(tol=1e-10, max_iter=10_000).fit(X, y, sample_weight=w)
    assert_same_model(ours, ref, X)
    balanced = GLMClassifier(class_weight="balanced", tol=1e-10).fit(X, y, sample_weight=w)
    ref = LogisticRegression(class_weight="balanced", tol=1e-10, max_iter=10_000)
    assert_same_model(balanced, ref.fit(X, y, sample_weight=w), X)


def test_no_penalty_matches_on_probabilities():
    X, y = dataset("breast_cancer")
    X = X[:, :5]
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(X, y)
    ours = GLMClassifier(C=np.inf, tol=1e-10, max_iter=10_000).fit(X, y)
    assert_same_model(ours, ref, X)


@pytest.mark.parametrize(
    "solver", ["lbfgs", "newton-cg", "newton-cholesky", "sag", "saga", "liblinear"]
)
def test_every_solver_name_reaches_the_same_optimum(solver):
    X, y = dataset("breast_cancer")
    ref = LogisticRegression(solver=solver, tol=1e-10, max_iter=100_000).fit(X, y)
    ours = GLMClassifier(solver=solver, tol=1e-10, max_iter=10_000).fit(X, y)
    assert_same_model(ours, ref, X, coef_rtol=2e-3)


def test_liblinear_penalised_intercept_with_scaling():
    X, y = dataset("breast_cancer")
    for scaling in (0.1, 1.0, 10.0):
        ref = LogisticRegression(solver="liblinear", intercept_scaling=scaling, tol=1e-10,
                                 max_iter=100_000).fit(X, y)  # fmt: skip
        ours = GLMClassifier(solver="liblinear", intercept_scaling=scaling, tol=1e-10).fit(X, y)
        assert_same_model(ours, ref, X, coef_rtol=2e-3)
    # a small intercept_scaling penalises the intercept hard: it shrinks towards 0
    plain = GLMClassifier(tol=1e-10).fit(X, y)
    shrunk = GLMClassifier(solver="liblinear", intercept_scaling=0.1, tol=1e-10).fit(X, y)
    assert abs(shrunk.intercept_[0]) < 0.5 * abs(plain.intercept_[0])


def test_sparse_input_matches():
    rng = np.random.default_rng(0)
    X = sp.random(400, 50, density=0.1, format="csr", random_state=0)
    y = (X @ rng.normal(size=50) + rng.normal(scale=0.3, size=400) > 0).astype(int)
    ref = LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y)
    ours = GLMClassifier(tol=1e-10).fit(X, y)
    assert_same_model(ours, ref, X)


def test_labels_of_any_type():
    X, y = dataset("iris")
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    ours = GLMClassifier().fit(X, names)
    assert set(ours.predict(X)) <= set(names)
    binary = GLMClassifier().fit(X, y == 0)
    assert binary.classes_.dtype == bool and binary.predict(X).dtype == bool
    assert binary.decision_function(X).shape == (150,)
    assert ours.decision_function(X).shape == (150, 3)
    np.testing.assert_allclose(np.exp(ours.predict_log_proba(X)), ours.predict_proba(X))


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog", "loglog", "cauchit"])
def test_binary_links_match_statsmodels(link):
    X, y = dataset("breast_cancer")
    X = X[:, :4]
    L = sm.families.links
    sm_link = {"logit": L.Logit, "probit": L.Probit, "cloglog": L.CLogLog, "loglog": L.LogLog,
               "cauchit": L.Cauchy}[link]()  # fmt: skip
    # statsmodels' IRLS does not converge for loglog here; its Newton method does
    model = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial(sm_link))
    ref = model.fit(method="newton", tol=1e-12, maxiter=1000)
    assert ref.mle_retvals["converged"]
    ours = GLMClassifier(C=np.inf, link=link, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(ours.intercept_[0], ref.params[0], rtol=1e-6)
    np.testing.assert_allclose(ours.coef_[0], ref.params[1:], rtol=1e-6)
    # statsmodels computes 1 - exp(-exp(eta)) with cancellation below 1e-10
    np.testing.assert_allclose(ours.predict_proba(X)[:, 1], ref.fittedvalues, rtol=1e-6, atol=1e-10)


def test_offset_in_fit_decision_and_proba():
    X, y = dataset("breast_cancer")
    X = X[:, :3]
    offset = np.random.default_rng(1).normal(size=len(y))
    ref = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial(), offset=offset).fit(tol=1e-13)
    ours = GLMClassifier(C=np.inf, tol=1e-10).fit(X, y, offset=offset)
    np.testing.assert_allclose(ours.coef_[0], ref.params[1:], rtol=1e-6)
    np.testing.assert_allclose(
        ours.predict_proba(X, offset=offset)[:, 1], ref.fittedvalues, rtol=1e-6
    )
    np.testing.assert_allclose(ours.decision_function(X, offset=offset),
                               ours.decision_function(X) + offset)  # fmt: skip


@pytest.mark.parametrize("link", ["cloglog", "loglog", "probit"])
def test_decision_function_sign_decides_the_class(link):
    X, y = dataset("breast_cancer")
    clf = GLMClassifier(link=link).fit(X, y)
    decision = clf.decision_function(X)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(decision > 0).astype(int)])
    np.testing.assert_allclose(
        clf.predict_proba(X)[:, 1], clf.link_.inverse(clf.linear_predictor(X))
    )


def test_non_logit_link_with_three_classes_is_an_error():
    X, y = dataset("iris")
    with pytest.raises(ValueError, match="Only binary classification.*multinomial"):
        GLMClassifier(link="probit").fit(X, y)
    with pytest.raises(ValueError, match="does not map to probabilities"):
        GLMClassifier(link="log").fit(X, y < 1)


def test_one_class_and_unseen_class_weight_labels_give_scikit_learns_errors():
    X, y = dataset("iris")
    with pytest.raises(ValueError, match="only one class: np.int64\\(0\\)|only one class: 0"):
        GLMClassifier().fit(X[:10], y[:10])
    with pytest.raises(ValueError) as ours:
        GLMClassifier(class_weight={0: 1, 7: 2}).fit(X, y)
    with pytest.raises(ValueError) as ref:
        LogisticRegression(class_weight={0: 1, 7: 2}).fit(X, y)
    assert str(ours.value) == str(ref.value)


def test_deprecated_penalty_warns_like_scikit_learn():
    X, y = dataset("breast_cancer")
    for penalty in ("l2", None):
        with pytest.warns(FutureWarning, match="'penalty' was deprecated in version 1.8"):
            GLMClassifier(penalty=penalty).fit(X, y)
    with pytest.raises(ValueError, match="Solver lbfgs supports only 'l2' or None penalties"):
        GLMClassifier(l1_ratio=1.0).fit(X, y)
    with pytest.raises(ValueError, match="supports only dual=False"):
        GLMClassifier(dual=True).fit(X, y)
    with pytest.warns(FutureWarning, match="n_jobs"):
        GLMClassifier(n_jobs=2).fit(X, y)


def test_separable_data_warn_and_stay_finite():
    X = np.linspace(-1, 1, 40)[:, None]
    y = X[:, 0] > 0
    with pytest.warns(ConvergenceWarning, match="linearly separable"):
        clf = GLMClassifier(C=np.inf, max_iter=50).fit(X, y)
    assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.predict_proba(X)))
    assert clf.score(X, y) == 1.0


def test_warm_start_sparsify_densify():
    X, y = dataset("iris")
    clf = GLMClassifier(warm_start=True, tol=1e-8, max_iter=1000).fit(X, y)
    first = clf.n_iter_[0]
    clf.fit(X, y)
    assert clf.n_iter_[0] < first
    proba = clf.predict_proba(X)
    clf.sparsify()
    assert sp.issparse(clf.coef_)
    np.testing.assert_allclose(clf.predict_proba(X), proba)
    clf.densify()
    assert isinstance(clf.coef_, np.ndarray)


def test_works_with_scikit_learn_tools():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), GLMClassifier())
    grid = {"glmclassifier__C": [0.01, 1.0], "glmclassifier__l1_ratio": [0.0, 0.5, 1.0],
            "glmclassifier__solver": ["saga"]}  # fmt: skip
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert search.best_score_ > 0.95
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.95
    calibrated = CalibratedClassifierCV(pipe, cv=3).fit(X, y)
    assert calibrated.predict_proba(X).shape == (len(y), 2)
    Xi, yi = dataset("iris")
    ovr = OneVsRestClassifier(GLMClassifier(link="probit")).fit(Xi, yi)
    assert ovr.score(Xi, yi) > 0.9


def test_float32_is_kept():
    X, y = dataset("breast_cancer")
    clf = GLMClassifier().fit(X.astype(np.float32), y)
    assert clf.coef_.dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = GLMClassifier().fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-3, atol=1e-3)


# saga converges slowly: cases where it reaches 1e-10 in under a second, and a
# 400-row slice of digits where it reaches 1e-7 in a few seconds.
L1_CASES = [
    ("breast_cancer", {"C": 0.1, "l1_ratio": 1.0}), ("breast_cancer", {"C": 0.2, "l1_ratio": 1.0}),
    ("breast_cancer", {"C": 0.5, "l1_ratio": 0.5}), ("wine", {"C": 0.5, "l1_ratio": 1.0}),
    ("iris", {"C": 1.0, "l1_ratio": 1.0}), ("iris", {"C": 0.3, "l1_ratio": 0.3}),
    ("digits400", {"C": 0.1, "l1_ratio": 1.0}),
    ("breast_cancer", {"C": 0.3, "l1_ratio": 1.0, "class_weight": "balanced"}),
]  # fmt: skip


@pytest.mark.parametrize("name, params", L1_CASES)
def test_l1_and_elastic_net_match_saga(name, params):
    X, y = dataset(name.rstrip("0123456789"))
    if name == "digits400":
        X, y = X[:400], y[:400]
    tol = 1e-7 if name == "digits400" else 1e-10
    ref = LogisticRegression(solver="saga", tol=tol, max_iter=100_000, **params).fit(X, y)
    ours = GLMClassifier(solver="saga", tol=1e-10, max_iter=1000, **params).fit(X, y)
    assert_same_model(ours, ref, X)
    assert np.count_nonzero(ours.coef_ == 0) > 0


def test_l1_liblinear_with_penalised_intercept():
    X, y = dataset("breast_cancer")
    ref = LogisticRegression(solver="liblinear", l1_ratio=1.0, C=0.5, tol=1e-12,
                             max_iter=100_000).fit(X, y)  # fmt: skip
    ours = GLMClassifier(solver="liblinear", l1_ratio=1.0, C=0.5, tol=1e-10).fit(X, y)
    assert_same_model(ours, ref, X, coef_rtol=2e-3)


def test_l1_sparse_input():
    rng = np.random.default_rng(2)
    X = sp.random(500, 80, density=0.1, format="csr", random_state=2)
    y = (X @ rng.normal(size=80) + rng.normal(scale=0.3, size=500) > 0).astype(int)
    ref = LogisticRegression(solver="saga", l1_ratio=1.0, tol=1e-12, max_iter=100_000).fit(X, y)
    ours = GLMClassifier(solver="saga", l1_ratio=1.0, tol=1e-10).fit(X, y)
    assert_same_model(ours, ref, X)


@pytest.mark.parametrize("working_set_max", [2000, 3])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_l1_working_sets_for_many_sparse_features(monkeypatch, n_classes, working_set_max):
    """The inner loops used beyond GRAM_MAX_FEATURES -- coordinate descent on a working
    set's Gram matrix, or on the residual once the set outgrows WORKING_SET_MAX --
    give saga's answer."""
    import skglmnn._solvers.cd as cd

    monkeypatch.setattr(cd, "GRAM_MAX_FEATURES", 10)
    monkeypatch.setattr(cd, "WORKING_SET_MAX", working_set_max)
    rng = np.random.default_rng(4)
    X = sp.random(600, 60, density=0.1, format="csr", random_state=4)
    scores = X @ rng.normal(size=(60, n_classes)) + rng.normal(scale=0.3, size=(600, n_classes))
    y = np.argmax(scores, axis=1)
    params = {"C": 2.0, "l1_ratio": 0.8}
    ref = LogisticRegression(solver="saga", tol=1e-10, max_iter=100_000, **params).fit(X, y)
    ours = GLMClassifier(solver="saga", tol=1e-10, **params).fit(X, y)
    assert_same_model(ours, ref, X)


def test_active_gram_is_the_weighted_gram_of_the_working_set():
    from skglmnn._kernels.cd import active_gram

    rng = np.random.default_rng(5)
    X = sp.random(500, 40, density=0.3, random_state=1, format="csr")
    h = rng.random(500)
    columns = np.array([3, 7, 1, 20, 33, 5])
    position = np.full(40, -1, dtype=np.int64)
    position[columns] = np.arange(6)
    dense = X[:, columns].toarray()
    expected = dense.T @ (h[:, None] * dense)
    for chunks in (1, 3):
        full, hx = active_gram(
            X.indptr, X.indices, X.data, h, position, 6, chunks, np.zeros((0, 0))
        )
        np.testing.assert_allclose(full, expected, rtol=1e-12)
        np.testing.assert_allclose(hx, h @ dense, rtol=1e-12)
        grown, _ = active_gram(  # the first four columns' block given, two new columns
            X.indptr, X.indices, X.data, h, position, 6, chunks, expected[:4, :4].copy()
        )
        np.testing.assert_allclose(grown, expected, rtol=1e-12)
    from skglmnn._kernels.cd import csr_matvec, csr_rmatvec

    v, u = rng.normal(size=40), rng.normal(size=500)
    out = np.empty(500)
    csr_matvec(X.indptr, X.indices, X.data, v, out)
    np.testing.assert_allclose(out, X @ v, rtol=1e-12)
    np.testing.assert_allclose(csr_rmatvec(X.indptr, X.indices, X.data, u, 40, 3), X.T @ u,
                               rtol=1e-12)  # fmt: skip


def test_owlqn_pseudo_gradient_is_the_minimal_subgradient():
    from skglmnn._solvers.owlqn import pseudo_gradient

    theta = np.array([0.5, -0.2, 0.0, 0.0, 0.0])
    grad = np.array([0.1, 0.1, 0.3, -0.05, -0.7])
    weights = np.array([0.2, 0.2, 0.2, 0.2, 0.0])
    expected = [0.1 + 0.2, 0.1 - 0.2, 0.3 - 0.2, 0.0, -0.7]  # the last is unpenalised
    np.testing.assert_allclose(pseudo_gradient(theta, grad, weights), expected)


def test_multinomial_l1_reaches_the_kkt_conditions():
    """OWL-QN's answer satisfies the optimality conditions of the L1 problem to tol."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 8))
    y = np.argmax(X @ rng.normal(size=(8, 4)) + rng.gumbel(size=(3000, 4)), axis=1)
    C = 0.01
    clf = GLMClassifier(C=C, l1_ratio=1.0, solver="saga", tol=1e-8).fit(X, y)
    assert np.any(clf.coef_ == 0) and clf.n_iter_[0] < 200
    # gradient of the mean log-loss in the coefficients
    proba = clf.predict_proba(X)
    onehot = np.eye(4)[y]
    grad = (proba - onehot).T @ X / len(y)
    l1 = 1.0 / (C * len(y))
    nonzero = clf.coef_ != 0
    np.testing.assert_allclose(grad[nonzero], -l1 * np.sign(clf.coef_[nonzero]), atol=1e-7)
    assert np.all(np.abs(grad[~nonzero]) <= l1 + 1e-7)


@pytest.mark.parametrize(
    "y",
    [np.array([3, 1, 3, 7, 1]), np.array([True, False, True]), np.array(["b", "a", "b"]),
     np.array([2.5, 1.0, 2.5]), np.array([-5, 10**12, -5]), np.array([4, 4, 2], dtype=np.uint8)],
)  # fmt: skip
def test_encode_labels_is_unique_with_inverse(y):
    from skglmnn.classifier import encode_labels

    classes, codes = encode_labels(y)
    expected_classes, expected_codes = np.unique(y, return_inverse=True)
    np.testing.assert_array_equal(classes, expected_classes)
    np.testing.assert_array_equal(codes, expected_codes)
    assert classes.dtype == expected_classes.dtype


@pytest.mark.parametrize("params", [
    {"penalty": None, "C": 0.5}, {"penalty": None, "l1_ratio": 0.5},
    {"C": np.inf, "l1_ratio": 0.5}, {"penalty": "l2", "l1_ratio": 0.5},
    {"penalty": "l1", "solver": "saga", "l1_ratio": 0.0}, {"l1_ratio": 0.5, "solver": "saga"},
])  # fmt: skip
def test_ignored_parameter_warnings_are_scikit_learns(params):
    """The UserWarnings scikit-learn gives for ignored parameters, with its wording."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] + rng.normal(size=80) > 0).astype(int)

    def user_warnings(estimator):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            estimator.fit(X, y)
        return sorted(str(w.message) for w in caught if w.category is UserWarning)

    assert user_warnings(GLMClassifier(**params)) == user_warnings(LogisticRegression(**params))


@pytest.mark.parametrize("solver", ["lbfgs", "liblinear", "newton-cg", "newton-cholesky",
                                    "sag", "saga"])  # fmt: skip
def test_dtypes_and_max_iter_zero_as_scikit_learn(solver):
    """coef_/intercept_ dtypes for float32 X per solver name (liblinear: float64), and
    n_iter_, coef_ and intercept_ at max_iter=0 (sag/saga report one epoch)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=80) > 0).astype(int)
    ours, theirs = GLMClassifier(solver=solver).fit(X, y), LogisticRegression(solver=solver)
    theirs.fit(X, y)
    assert ours.coef_.dtype == theirs.coef_.dtype
    assert ours.intercept_.dtype == theirs.intercept_.dtype
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = GLMClassifier(solver=solver, max_iter=0).fit(X, y)
        theirs = LogisticRegression(solver=solver, max_iter=0).fit(X, y)
    np.testing.assert_array_equal(ours.n_iter_, theirs.n_iter_)
    # zeros, except for lbfgs: scipy's L-BFGS-B takes its first line-search step even then
    assert np.any(ours.coef_ != 0) == (solver == "lbfgs")
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("solver", ["lbfgs", "saga", "newton-cg"])
def test_convergence_warning_names_the_solver_the_user_chose(solver):
    X, y = load_breast_cancer(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match=f"^{solver} failed to converge after 2 "):
        GLMClassifier(solver=solver, max_iter=2, tol=1e-12).fit(X, y)
