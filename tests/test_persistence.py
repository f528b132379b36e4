"""Fitted models survive pickle and skops.io, with only skglmnn's own types to trust, and
models saved by an earlier version load and predict the same."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_glm import CASES

from skglmnn import ACTIVATIONS, GLMClassifier, GLMRegressor, NeuralGLM, NeuralGLMClassifier
from skglmnn._testing import make_tabular
from skglmnn.persistence import trusted_types

sio = pytest.importorskip("skops.io")

FIXTURES = Path(__file__).parent / "fixtures"


def _predictions(model, X):
    return model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)


def _round_trips(model, X):
    """skops with only skglmnn's types trusted, and pickle: identical predictions/tables."""
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    assert set(untrusted) <= set(trusted_types()), set(untrusted) - set(trusted_types())
    assert all(name.startswith("skglmnn.") for name in untrusted)
    for loaded in (sio.loads(data, trusted=untrusted), pickle.loads(pickle.dumps(model))):
        assert type(loaded) is type(model)
        np.testing.assert_array_equal(_predictions(loaded, X), _predictions(model, X))
        if hasattr(model, "_inference"):
            assert loaded.coef_table().equals(model.coef_table())
        assert loaded.get_params() == model.get_params()


@pytest.mark.parametrize("family_spec, link_spec", CASES)
def test_glms_of_every_family_and_link_round_trip(family_spec, link_spec):
    from test_glm import simulate

    from skglmnn.families import get_family
    from skglmnn.links import get_link

    X, y = simulate(get_family(family_spec), get_link(link_spec))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GLMRegressor(family_spec, link_spec).fit(X, y)
    _round_trips(model, X)


@pytest.mark.parametrize("link, n_classes", [("logit", 2), ("probit", 2), ("cloglog", 2),
                                             ("cauchit", 2), ("logit", 3)])  # fmt: skip
def test_classifiers_round_trip(link, n_classes):
    X, y, _, _ = make_tabular(300, 4, "binomial", seed=2)
    if n_classes == 3:
        y = np.digitize(X[:, 2], np.quantile(X[:, 2], [1 / 3, 2 / 3]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GLMClassifier(link=link).fit(X, y)
        net = NeuralGLMClassifier(hidden=(3,), link=link, max_iter=5, random_state=0).fit(X, y)
    _round_trips(model, X)
    _round_trips(net, X)


@pytest.mark.parametrize("activation", sorted(a for a in ACTIVATIONS if ACTIVATIONS[a].real_line))
def test_networks_of_every_activation_round_trip(activation):
    X, y, _, _ = make_tabular(200, 4, "normal", seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = NeuralGLM(hidden=(3, 2), activation=activation, max_iter=5, learning_rate_init=1e-4,
                        random_state=0).fit(X, y)  # fmt: skip
    _round_trips(net, X)


def test_unfitted_estimators_round_trip():
    for model in (GLMRegressor("gamma"), GLMClassifier(C=2.0), NeuralGLM(hidden=(3,))):
        data = sio.dumps(model)
        loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
        assert loaded.get_params() == model.get_params()


@pytest.mark.parametrize("version", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_models_saved_by_earlier_versions_load(version):
    """Stored files (tests/fixtures/make_fixtures.py writes them, deliberately) load in this
    version and predict what they predicted when saved."""
    from fixtures.make_fixtures import MODELS, fixture_data

    X, _ = fixture_data()
    expected = np.load(FIXTURES / version / "expected.npz")
    for name in MODELS:
        with warnings.catch_warnings():
            # scikit-learn warns when unpickling an estimator saved under another version
            warnings.filterwarnings("ignore", message=".*Trying to unpickle estimator")
            from_pickle = pickle.loads((FIXTURES / version / f"{name}.pkl").read_bytes())
        path = FIXTURES / version / f"{name}.skops"
        untrusted = sio.get_untrusted_types(file=path)
        assert set(untrusted) <= set(trusted_types())
        from_skops = sio.load(path, trusted=untrusted)
        for model in (from_pickle, from_skops):
            np.testing.assert_allclose(_predictions(model, X), expected[name], rtol=1e-12)


def test_training_continues_identically_after_a_round_trip():
    """The random state kept for partial_fit is saved as plain state (a pickled NumPy 2 bit
    generator does not load under NumPy 1.26): shuffling continues where it stopped."""
    X, y, _, _ = make_tabular(200, 3, "normal", seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = NeuralGLM(hidden=(3,), max_iter=3, random_state=0).fit(X, y)
        data = sio.dumps(net)
        copies = [pickle.loads(pickle.dumps(net)),
                  sio.loads(data, trusted=sio.get_untrusted_types(data=data))]  # fmt: skip
        net.partial_fit(X, y)
        for copy in copies:
            copy.partial_fit(X, y)
            np.testing.assert_array_equal(copy.predict(X), net.predict(X))


@pytest.mark.parametrize("legacy", [True, False])
def test_cross_validated_estimators_round_trip(legacy):
    from skglmnn import GLMClassifierCV, GLMRegressorCV

    X, y, _, _ = make_tabular(200, 4, "poisson", seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # coef_table's post-selection warning
        _round_trips(GLMRegressorCV("poisson", alphas=6, cv=3).fit(X, y), X)
        X, y, _, _ = make_tabular(200, 4, "binomial", seed=3)
        model = GLMClassifierCV(Cs=3, cv=3, l1_ratios=(0.0,), scoring="neg_log_loss",
                                use_legacy_attributes=legacy).fit(X, y)  # fmt: skip
        _round_trips(model, X)
