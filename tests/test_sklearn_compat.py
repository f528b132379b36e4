"""scikit-learn's own estimator checks, and the tools users combine us with."""

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skglmnn import (
    GLMClassifier,
    GLMClassifierCV,
    GLMRegressor,
    GLMRegressorCV,
    NeuralGLM,
    NeuralGLMClassifier,
)

ESTIMATORS = [
    GLMClassifier(),
    GLMClassifier(link="probit"),
    GLMClassifier(link="cloglog", solver="liblinear"),
    GLMClassifier(C=np.inf),
    GLMRegressor(),
    GLMRegressor(family="poisson"),
    GLMRegressor(family="gamma", link="log"),
    GLMRegressor(family="tweedie(1.5)", alpha=0.1),
    GLMRegressor(family="inverse_gaussian"),
    GLMRegressor(family="normal", solver="lbfgs"),
    GLMRegressor(family="poisson", alpha=0.01, l1_ratio=0.7),
    GLMClassifier(solver="saga", l1_ratio=1.0, C=0.5),
    GLMRegressorCV(alphas=5, cv=3),
    GLMClassifierCV(Cs=3, cv=3, l1_ratios=(0.0,), scoring="accuracy", use_legacy_attributes=False),
    GLMClassifierCV(Cs=3, cv=3, l1_ratios=(0.5,), solver="saga", scoring="neg_log_loss",
                    use_legacy_attributes=True),  # fmt: skip
    GLMRegressorCV(family="poisson", alphas=4, l1_ratio=[0.5, 1.0], cv=3, selection="1se"),
    NeuralGLM(hidden=(10,), random_state=0),
    NeuralGLM(hidden=(), family="poisson", solver="lbfgs"),
    NeuralGLM(
        hidden=(6, 4), activation="tanh", family="poisson", learning_rate_init=0.01, random_state=0
    ),
    NeuralGLM(
        hidden=(6,), activation="logistic", solver="sgd", learning_rate_init=0.01, random_state=0
    ),
    NeuralGLM(
        hidden=(8,),
        activation="softplus",
        family="tweedie(1.5)",
        learning_rate_init=0.01,
        random_state=0,
    ),
    NeuralGLMClassifier(hidden=(10,), random_state=0),
    NeuralGLMClassifier(hidden=(5,), link="probit", solver="sgd", random_state=0),
    NeuralGLMClassifier(hidden=(), solver="lbfgs"),
]

# Checks expected to fail, with the reason; the aim is none.
EXPECTED_FAILURES = {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_positive_only_tag_follows_the_family():
    assert GLMRegressor(family="poisson").__sklearn_tags__().target_tags.positive_only
    assert GLMRegressor(family="gamma").__sklearn_tags__().target_tags.positive_only
    assert not GLMRegressor().__sklearn_tags__().target_tags.positive_only
    assert not GLMRegressor(family="tweedie(0)").__sklearn_tags__().target_tags.positive_only


def _poisson_data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)) * [1, 10, 0.1, 1]
    y = rng.poisson(np.exp(0.2 + X @ [0.6, 0.04, 4.0, 0.0]))
    return X, y, rng


def test_pipeline_grid_search_and_cross_validation():
    X, y, _ = _poisson_data()
    pipe = make_pipeline(StandardScaler(), GLMRegressor(family="poisson"))
    search = GridSearchCV(pipe, {"glmregressor__alpha": [1e-4, 1e-2, 1.0]}, cv=3).fit(X, y)
    assert search.best_params_["glmregressor__alpha"] in (1e-4, 1e-2)
    scores = cross_val_score(GLMRegressor(family="poisson"), X, y, cv=4)
    assert scores.shape == (4,) and np.all(scores > 0.2)


def test_offset_reaches_fit_predict_and_score_through_metadata_routing():
    X, y, rng = _poisson_data()
    offset = np.log(rng.uniform(1, 5, len(y)))
    y = rng.poisson(np.exp(offset + 0.2 + 0.3 * X[:, 0]))
    with sklearn.config_context(enable_metadata_routing=True):
        model = GLMRegressor(family="poisson")
        model.set_fit_request(offset=True).set_predict_request(offset=True)
        model.set_score_request(offset=True)
        pipe = make_pipeline(StandardScaler(), model).fit(X, y, offset=offset)
        direct = GLMRegressor(family="poisson").fit(StandardScaler().fit_transform(X), y,
                                                    offset=offset)  # fmt: skip
        np.testing.assert_allclose(pipe[-1].coef_, direct.coef_)
        scaled = StandardScaler().fit_transform(X)
        np.testing.assert_allclose(
            pipe.predict(X, offset=offset), direct.predict(scaled, offset=offset)
        )
        search = GridSearchCV(
            make_pipeline(StandardScaler(), clone(model)), {"glmregressor__alpha": [0.0, 1.0]}, cv=3
        ).fit(X, y, offset=offset)
        assert search.best_params_["glmregressor__alpha"] == 0.0
        # and the score does use it: without the offset the fit explains less
        assert search.score(X, y, offset=offset) > search.score(X, y, offset=np.zeros_like(offset))


def test_pickle_and_clone():
    X, y, _ = _poisson_data()
    model = GLMRegressor(family="tweedie(1.5)", link="log", alpha=0.01).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.family_ == model.family_ and restored.link_ == model.link_
    fresh = clone(model)
    assert not hasattr(fresh, "coef_")
    assert fresh.get_params() == model.get_params()


def test_fit_leaves_parameters_as_given():
    X, y, _ = _poisson_data()
    model = GLMRegressor(family="poisson", link="auto", solver="auto")
    model.fit(X, y)
    assert (model.family, model.link, model.solver) == ("poisson", "auto", "auto")
    assert model.solver_ in ("newton", "lbfgs")


def test_family_and_link_instances_are_accepted():
    from skglmnn.families import TweedieFamily
    from skglmnn.links import PowerLink

    X, y, _ = _poisson_data()
    by_object = GLMRegressor(TweedieFamily(1.5), PowerLink(0)).fit(X, y)
    by_name = GLMRegressor("tweedie(1.5)", "log").fit(X, y)
    np.testing.assert_allclose(by_object.coef_, by_name.coef_, rtol=1e-6)
    assert clone(GLMRegressor(TweedieFamily(1.5))).family == TweedieFamily(1.5)


@pytest.mark.parametrize("family", ["poisson", "gamma"])
def test_positive_family_checks_with_pandas(family):
    pd = pytest.importorskip("pandas")
    X, y, _ = _poisson_data()
    frame = pd.DataFrame(X, columns=list("abcd"))
    model = GLMRegressor(family=family).fit(frame, y + 1.0)
    assert model.n_features_in_ == 4
