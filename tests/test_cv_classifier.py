"""GLMClassifierCV against LogisticRegressionCV and independent GLMClassifier fits."""

import warnings

import numpy as np
import pytest
import sklearn
from helpers import record_path_choices
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import get_scorer
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from skglmnn import GLMClassifier, GLMClassifierCV
from skglmnn._testing import make_tabular

FOLDS = StratifiedKFold(5, shuffle=True, random_state=0)
TIGHT_SK = {"tol": 1e-10, "max_iter": 10_000}
TIGHT = {"tol": 1e-10, "max_iter": 1000}


def binary(n=600, seed=0, scaled=True):
    X, y, _, _ = make_tabular(n, 6, "binomial", seed=seed)
    return (StandardScaler().fit_transform(X) if scaled else X), y


def three_classes(n=600, seed=0):
    X, _, _, _ = make_tabular(n, 6, "normal", seed=seed)
    X = StandardScaler().fit_transform(X)
    eta = X @ np.random.default_rng(seed).normal(size=(6, 3))
    return X, np.argmax(eta + np.random.default_rng(1).gumbel(size=eta.shape), axis=1)


def both(legacy, **params):
    ref = LogisticRegressionCV(Cs=8, cv=FOLDS, use_legacy_attributes=legacy, **TIGHT_SK, **params)
    ours = GLMClassifierCV(Cs=8, cv=FOLDS, use_legacy_attributes=legacy, **TIGHT, **params)
    return ref, ours


@pytest.mark.parametrize("legacy", [True, False])
@pytest.mark.parametrize("data", [binary, three_classes])
@pytest.mark.parametrize("params", [
    {"l1_ratios": (0.0,), "scoring": "neg_log_loss"},
    {"l1_ratios": (0.0,), "scoring": None, "refit": False},
    {"l1_ratios": (0.0,), "scoring": "roc_auc_ovr", "class_weight": "balanced"},
])  # fmt: skip
def test_l2_grids_give_scikit_learns_scores_choice_and_attributes(legacy, data, params):
    X, y = data()
    ref, ours = both(legacy, **params)
    ref.fit(X, y)
    ours.fit(X, y)
    np.testing.assert_array_equal(ours.Cs_, ref.Cs_)
    np.testing.assert_array_equal(ours.C_, ref.C_)
    np.testing.assert_array_equal(ours.l1_ratio_, ref.l1_ratio_)
    np.testing.assert_array_equal(ours.l1_ratios_, ref.l1_ratios_)
    if legacy:
        assert ours.scores_.keys() == ref.scores_.keys() == ours.coefs_paths_.keys()
        for key in ref.scores_:
            np.testing.assert_allclose(ours.scores_[key], ref.scores_[key], rtol=1e-6)
            assert ours.coefs_paths_[key].shape == ref.coefs_paths_[key].shape
            np.testing.assert_allclose(ours.coefs_paths_[key], ref.coefs_paths_[key], atol=1e-4)
    else:
        np.testing.assert_allclose(ours.scores_, ref.scores_, rtol=1e-6)
        assert ours.coefs_paths_.shape == ref.coefs_paths_.shape
        np.testing.assert_allclose(ours.coefs_paths_, ref.coefs_paths_, atol=1e-4)
    assert ours.n_iter_.shape == ref.n_iter_.shape
    assert ours.coef_.shape == ref.coef_.shape and ours.coef_.dtype == ref.coef_.dtype
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), rel=1e-6)


@pytest.mark.parametrize("data", [binary])  # the softmax: see the note below
def test_elastic_net_paths_are_the_independent_fits_at_each_point(data):
    """Each fold's point is GLMClassifier's fit on the training rows (scikit-learn's saga
    stops short of these optima at small C, so it is not the reference here)."""
    X, y = data(300)
    cv = GLMClassifierCV(Cs=4, l1_ratios=(0.5, 1.0), cv=FOLDS, scoring="neg_log_loss",
                         solver="saga", use_legacy_attributes=False, **TIGHT).fit(X, y)  # fmt: skip
    train, test = next(FOLDS.split(X, y))
    for j, ratio in enumerate((0.5, 1.0)):
        # (not for the softmax yet: with an L1 penalty and C >= 20, OWL-QN stops at
        # optimality gaps of 1e-6 after 1000 iterations, and warns -- a known weakness)
        for k in (0, 2, 3):
            fit = GLMClassifier(C=cv.Cs_[k], l1_ratio=ratio, solver="saga", **TIGHT).fit(
                X[train], y[train])
            w = cv.coefs_paths_[0, j, k]
            # (the softmax's coefficients are nearly flat in one direction at C=1e4:
            # its probabilities are what is determined)
            eta = X[test] @ w[:, :-1].T + w[:, -1]
            if eta.shape[1] == 1:
                eta = np.column_stack([-eta / 2, eta / 2])
            proba = np.exp(eta - eta.max(axis=1, keepdims=True))
            proba /= proba.sum(axis=1, keepdims=True)
            np.testing.assert_allclose(proba, fit.predict_proba(X[test]), atol=1e-6)
            rows = (np.arange(test.size), y[test].astype(int))
            log_loss = -np.mean(np.log(fit.predict_proba(X[test])[rows]))
            assert cv.scores_[0, j, k] == pytest.approx(-log_loss, rel=1e-6)
    best = np.unravel_index(np.argmax(cv.scores_.sum(axis=0)), cv.scores_.shape[1:])
    assert (cv.l1_ratio_, cv.C_) == ((0.5, 1.0)[best[0]], cv.Cs_[best[1]])


def test_unscaled_real_columns_reach_the_optimum_of_each_fold():
    """Raw real-shaped columns (a year, incomes in cents): the CV's fold fits are the
    optima GLMClassifier finds on the training rows."""
    X, y = binary(400, seed=3, scaled=False)
    cv = GLMClassifierCV(Cs=5, l1_ratios=(0.0,), cv=FOLDS, scoring="neg_log_loss",
                         use_legacy_attributes=False, **TIGHT).fit(X, y)  # fmt: skip
    for fold, (train, _) in enumerate(FOLDS.split(X, y)):
        for k in range(5):
            fit = GLMClassifier(C=cv.Cs_[k], **TIGHT).fit(X[train], y[train])
            eta = X @ cv.coefs_paths_[fold, 0, k, 0, :-1] + cv.coefs_paths_[fold, 0, k, 0, -1]
            np.testing.assert_allclose(eta, fit.decision_function(X), rtol=1e-6, atol=1e-6)


def test_an_ill_conditioned_l2_path_moves_to_newton_and_keeps_its_answers(monkeypatch):
    """Where L-BFGS needs many iterations at a point (correlated real-shaped columns, a
    weak penalty), the rest of the path goes to proximal Newton with kept Hessians
    (``PathChoice``): the fold fits, scores and choice are those of L-BFGS throughout and
    of scikit-learn."""
    import skglmnn._solvers as solvers_module

    X, y, _, _ = make_tabular(12_000, 30, "binomial", seed=5)  # a Newton step is not cheap
    X = StandardScaler().fit_transform(X)
    params = {"Cs": 6, "l1_ratios": (0.0,), "cv": FOLDS, "scoring": "neg_log_loss",
              "use_legacy_attributes": False,
              "tol": 1e-10, "max_iter": 1000}  # fmt: skip
    chosen = record_path_choices(monkeypatch)
    switched = GLMClassifierCV(**params).fit(X, y)
    assert "cd" in chosen and chosen[0] != "cd"
    monkeypatch.setattr(solvers_module.PathChoice, "PATH_NEWTON_SWEEPS", np.inf)
    chosen.clear()
    plain = GLMClassifierCV(**params).fit(X, y)
    assert "cd" not in chosen
    np.testing.assert_allclose(switched.coefs_paths_, plain.coefs_paths_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(switched.scores_, plain.scores_, rtol=1e-9, atol=1e-10)
    reference = LogisticRegressionCV(**{**params, **TIGHT_SK}).fit(X, y)
    assert switched.C_ == reference.C_
    np.testing.assert_allclose(switched.scores_, reference.scores_, rtol=1e-6, atol=1e-8)


def test_sample_weights_groups_and_an_offset():
    X, y = binary(400, seed=1)
    w = np.random.default_rng(0).integers(1, 4, y.size).astype(float)
    groups = np.arange(y.size) % 8
    fitted = {}
    with sklearn.config_context(enable_metadata_routing=True):  # groups reach the splitter
        for cls, tight in ((GLMClassifierCV, TIGHT), (LogisticRegressionCV, TIGHT_SK)):
            scorer = get_scorer("neg_log_loss").set_score_request(sample_weight=True)
            model = cls(Cs=4, l1_ratios=(0.0,), cv=GroupKFold(4), scoring=scorer,
                        use_legacy_attributes=False, **tight)  # fmt: skip
            fitted[cls] = model.set_fit_request(sample_weight=True).fit(
                X, y, sample_weight=w, groups=groups)
    ours, ref = fitted[GLMClassifierCV], fitted[LogisticRegressionCV]
    np.testing.assert_allclose(ours.scores_, ref.scores_, rtol=1e-6)
    assert ours.C_ == ref.C_
    with pytest.raises(ValueError, match="enable_metadata_routing=True"):  # as scikit-learn
        GLMClassifierCV(l1_ratios=(0.0,), scoring="neg_log_loss",
                        use_legacy_attributes=False).fit(X, y, groups=groups)  # fmt: skip
    offset = 0.3 * X[:, 0]
    probit = GLMClassifierCV(Cs=3, l1_ratios=(0.0,), cv=FOLDS, scoring=None, link="probit",
                             use_legacy_attributes=False).fit(X, y, offset=offset)  # fmt: skip
    assert probit.link_.name == "probit"
    with pytest.raises(ValueError, match="offset"):
        GLMClassifierCV(scoring="neg_log_loss", l1_ratios=(0.0,),
                        use_legacy_attributes=False).fit(X, y, offset=offset)  # fmt: skip


def test_the_transition_warnings_are_scikit_learns():
    X, y = binary(200)
    caught = {}
    for cls in (LogisticRegressionCV, GLMClassifierCV):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            cls(Cs=2).fit(X, y)
        caught[cls] = sorted(w.category.__name__ for w in record
                             if issubclass(w.category, (FutureWarning, UserWarning)))  # fmt: skip
    assert caught[GLMClassifierCV] == caught[LogisticRegressionCV]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GLMClassifierCV(Cs=2, l1_ratios=(0.0,), scoring="accuracy",
                        use_legacy_attributes=False).fit(X, y)  # fmt: skip
    with pytest.raises(ValueError, match="l1_ratios must be"):
        GLMClassifierCV(l1_ratios=(0.5, 2.0), use_legacy_attributes=False,
                        scoring="accuracy").fit(X, y)  # fmt: skip


def test_sample_weight_reaches_the_scorer_only_when_requested():
    """What scikit-learn's routing test checks, with the message naming our class."""
    X, y = binary(600, seed=6)
    w = np.where(np.arange(y.size) < y.size // 2, 2.0, 1.0)
    models = {}
    with sklearn.config_context(enable_metadata_routing=True):
        for requested in (False, True):
            scorer = get_scorer("accuracy").set_score_request(sample_weight=requested)
            models[requested] = GLMClassifierCV(
                Cs=4, l1_ratios=(0.0,), scoring=scorer, tol=1e-8, use_legacy_attributes=False
            ).set_fit_request(sample_weight=True).fit(X, y, sample_weight=w)
        assert not np.allclose(models[False].scores_, models[True].scores_)
        with pytest.raises(TypeError, match=r"GLMClassifierCV.score got unexpected argument"):
            models[False].score(X, y, sample_weight=w)
        plain, weighted = models[False].score(X, y), models[True].score(X, y, sample_weight=w)
    expected = np.average(models[True].predict(X) == y, weights=w)
    assert weighted == pytest.approx(expected) and plain != pytest.approx(weighted)
