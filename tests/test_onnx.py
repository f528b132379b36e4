"""ONNX export: onnxruntime scores every family, link, activation and output type as we do."""

import warnings

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from test_glm import CASES, simulate

from skglmnn import ACTIVATIONS, GLMClassifier, GLMRegressor, NeuralGLM, NeuralGLMClassifier
from skglmnn._testing import make_tabular
from skglmnn.families import get_family
from skglmnn.links import get_link

rt = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

from skglmnn.onnx_export import register_converters  # noqa: E402

register_converters()
# float32 graphs: 1e-5 relative; float64: 1e-9 (the probit's Erf node is float32: 1e-6)
RTOL = {np.float32: 1e-5, np.float64: 1e-9}


def _run(model, X, options=None, offset=None):
    onx = skl2onnx.to_onnx(model, X[:1], options={id(model): options or {}})
    session = rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {session.get_inputs()[0].name: X}
    if offset is not None:
        feeds[session.get_inputs()[1].name] = offset.astype(X.dtype).reshape(len(X), -1)
    return session.run(None, feeds)


def _rtol(dtype, link=None, activation=None):
    probit = (link is not None and link.name == "probit") or activation == "normal_cdf"
    return 1e-6 if probit and dtype == np.float64 else RTOL[dtype]


def _fit(model, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y, **kwargs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("family_spec, link_spec", CASES)
def test_glm_regressor_of_every_family_and_link(family_spec, link_spec, dtype):
    family, link = get_family(family_spec), get_link(link_spec)
    X, y = simulate(family, link)
    model = _fit(GLMRegressor(family_spec, link_spec), X, y)
    Xd = X.astype(dtype)
    (out,) = _run(model, Xd)
    assert out.dtype == dtype and out.shape == (len(X), 1)
    expected = model.predict(Xd.astype(np.float64))
    scale = np.abs(expected).max()  # means that cross 0 (identity link) have no relative error
    np.testing.assert_allclose(out.ravel(), expected, rtol=_rtol(dtype, link),
                               atol=_rtol(dtype, link) * scale)  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", sorted(a for a in ACTIVATIONS if ACTIVATIONS[a].real_line))
def test_networks_of_every_activation(activation, dtype):
    # inputs of unit scale: an exp of an exp of a calendar year would overflow float32
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 4))
    y = X @ [0.5, -0.3, 0.2, 0.0] + 0.3 * rng.normal(size=300)
    net = _fit(NeuralGLM(hidden=(5, 3), activation=activation, max_iter=5,
                         learning_rate_init=1e-4, random_state=0), X, y)  # fmt: skip
    Xd = X.astype(dtype)
    (out,) = _run(net, Xd)
    expected = net.predict(Xd.astype(np.float64))
    rtol = _rtol(dtype, activation=activation)
    # identity output: means that cross 0 have no relative error; measure it on their scale
    np.testing.assert_allclose(out.ravel(), expected, rtol=rtol, atol=rtol * np.abs(expected).max())


@pytest.mark.parametrize("family_spec, link_spec", [("gamma", "log"), ("tweedie(1.5)", "log"),
                                                    ("normal", "identity"), ("poisson", "sqrt"),
                                                    ("inverse_gaussian", "log")])
def test_networks_of_other_families_and_links(family_spec, link_spec):
    family, link = get_family(family_spec), get_link(link_spec)
    X, y = simulate(family, link)
    net = _fit(NeuralGLM(hidden=(4,), activation="tanh", family=family_spec, link=link_spec,
                         solver="lbfgs", max_iter=30, random_state=0), X, y)  # fmt: skip
    (out,) = _run(net, X)
    np.testing.assert_allclose(out.ravel(), net.predict(X), rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("link", ["logit", "probit", "cloglog", "loglog", "cauchit"])
@pytest.mark.parametrize("cls", [GLMClassifier, NeuralGLMClassifier])
def test_binary_classifiers_of_every_link(cls, link, dtype):
    X, y, _, _ = make_tabular(300, 4, "binomial", seed=6)
    params = {"hidden": (3,), "max_iter": 20, "random_state": 0} if (
        cls is NeuralGLMClassifier) else {}  # fmt: skip
    model = _fit(cls(link=link, **params), X, y.astype(int))
    Xd = X.astype(dtype)
    label, proba = _run(model, Xd, {"zipmap": False})
    expected = model.predict_proba(Xd.astype(np.float64))
    np.testing.assert_allclose(proba, expected, rtol=_rtol(dtype, get_link(link)), atol=1e-7)
    decided = np.abs(expected[:, 1] - 0.5) > 1e-4  # away from ties, labels agree exactly
    np.testing.assert_array_equal(label[decided], model.predict(Xd.astype(np.float64))[decided])


@pytest.mark.parametrize("labels", ["integers", "strings"])
@pytest.mark.parametrize("cls", [GLMClassifier, NeuralGLMClassifier])
def test_multinomial_classifiers_and_zipmap(cls, labels):
    X, _, _, _ = make_tabular(300, 4, seed=7)
    codes = np.digitize(X[:, 2], np.quantile(X[:, 2], [1 / 3, 2 / 3]))
    y = codes if labels == "integers" else np.array(["low", "mid", "high"])[codes]
    params = {"hidden": (4,), "max_iter": 20, "random_state": 0} if (
        cls is NeuralGLMClassifier) else {}  # fmt: skip
    model = _fit(cls(**params), X, y)
    X32 = X.astype(np.float32)
    label, proba = _run(model, X32, {"zipmap": False})
    expected = model.predict_proba(X32.astype(np.float64))
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(label, model.predict(X32.astype(np.float64)))
    zipped_label, zipped = _run(model, X32)  # default: a ZipMap, as skl2onnx's classifiers
    assert list(zipped[0]) == list(model.classes_)
    np.testing.assert_allclose([row[model.classes_[1]] for row in zipped], expected[:, 1],
                               rtol=1e-5, atol=1e-7)  # fmt: skip


@pytest.mark.parametrize("make", [lambda: GLMRegressor("poisson"),
                                  lambda: NeuralGLM(hidden=(3,), family="poisson", max_iter=20,
                                                    random_state=0),
                                  lambda: GLMClassifier(link="cloglog")])  # fmt: skip
def test_offset_as_a_second_input(make):
    X, y, _, _ = make_tabular(300, 3, "poisson", seed=8)
    offset = np.log(np.random.default_rng(9).uniform(0.5, 2.0, len(y)))
    model = make()
    classify = isinstance(model, GLMClassifier)
    target = (y > np.median(y)).astype(int) if classify else y
    _fit(model, X, target, offset=offset)
    outputs = _run(model, X, {"offset": True, **({"zipmap": False} if classify else {})},
                   offset=offset)  # fmt: skip
    if classify:
        np.testing.assert_allclose(outputs[1], model.predict_proba(X, offset=offset), rtol=1e-9)
    else:
        np.testing.assert_allclose(outputs[0].ravel(), model.predict(X, offset=offset),
                                   rtol=1e-9)  # fmt: skip


def test_pipelines_with_a_scaler_or_a_column_transformer_in_front():
    X, y, _, _ = make_tabular(300, 4, "poisson", seed=10)
    X32 = X.astype(np.float32)
    pipe = _fit(make_pipeline(StandardScaler(), NeuralGLM(hidden=(4,), family="poisson",
                                                          max_iter=20, random_state=0)), X, y)
    (out,) = _run(pipe, X32)
    np.testing.assert_allclose(out.ravel(), pipe.predict(X32.astype(np.float64)), rtol=1e-5)
    columns = ColumnTransformer([("scaled", StandardScaler(), [0, 1]),
                                 ("raw", "passthrough", [2, 3])])  # fmt: skip
    pipe = _fit(make_pipeline(columns, GLMRegressor("poisson")), X, y)
    (out,) = _run(pipe, X32)
    np.testing.assert_allclose(out.ravel(), pipe.predict(X32.astype(np.float64)), rtol=1e-5)


def test_a_link_from_outside_the_registry_is_a_clear_error():
    X, y = simulate(get_family("poisson"), get_link("log"))
    model = _fit(GLMRegressor("poisson"), X, y)

    class Custom:
        name = "custom"

    model.link_ = Custom()
    with pytest.raises(ValueError, match="No ONNX form for the link"):
        _run(model, X)


def test_the_cross_validated_estimators_export_their_chosen_model():
    from skglmnn import GLMClassifierCV, GLMRegressorCV

    X, y, _, _ = make_tabular(300, 4, "gamma", "log", seed=8)
    regressor = _fit(GLMRegressorCV("gamma", "log", alphas=8, cv=3), X, y)
    (mean,) = _run(regressor, X)
    np.testing.assert_allclose(mean.ravel(), regressor.predict(X), rtol=1e-9)
    X, y, _, _ = make_tabular(300, 4, "binomial", seed=9)
    for refit in (True, False):
        model = GLMClassifierCV(Cs=4, cv=3, l1_ratios=(0.0,), scoring="neg_log_loss",
                                refit=refit, link="probit", use_legacy_attributes=False)
        classifier = _fit(model, X, y.astype(int))
        label, proba = _run(classifier, X, {"zipmap": False})
        np.testing.assert_allclose(proba, classifier.predict_proba(X), rtol=1e-6, atol=1e-9)
