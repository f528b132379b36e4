"""ONNX export of every estimator, through skl2onnx's converter registry.

A fitted model is a chain of affine maps and inverse links: ``h_{l+1} =
f_l(h_l W_l + b_l)`` for the hidden layers of a network, then the output GLM
``mu = g^-1(h W + b + offset)``.  Each inverse link (and activation) is written
with standard ONNX operators: ``Exp``, ``Sigmoid``, ``Erf`` (normal CDF),
``Atan`` (Cauchy CDF), ``Softplus``, ``Tanh``, ``Relu``, ``Pow``,
``Reciprocal``, ... so that any runtime (onnxruntime, ...) scores the model,
including the families scikit-learn's converters cannot express (Poisson,
gamma or Tweedie networks, probit or cloglog classifiers).

Usage::

    from skglmnn.onnx_export import register_converters
    from skl2onnx import to_onnx

    register_converters()                       # once per process
    onx = to_onnx(model, X[:1].astype(np.float32))
    # or a whole Pipeline(StandardScaler(), model); ColumnTransformer in front works too

The graph computes in the input's precision (float32 or float64).  Regressors
output ``variable`` of shape (n, 1) (as skl2onnx's regressors); classifiers
output ``label`` and ``probabilities`` (a ZipMap of them unless
``options={id(model): {"zipmap": False}}``; as for skl2onnx's own classifiers,
ONNX's ZipMap takes float32 only, so float64 graphs need ``zipmap=False``).
onnxruntime has no float64 ``Erf``: in float64 graphs the probit link and the
``normal_cdf`` activation compute that one node in float32 (~1e-7); ``Atan``
and ``Softplus``, also float-only there, are written out in float64.  With the option
``{"offset": True}`` the model takes a second input ``offset`` of shape
(n, 1), or (n, K) for a softmax output, added to the output linear predictor
(e.g. log exposure); it is meant for ``to_onnx`` of the estimator itself.
"""

import numpy as np

from .activations import get_activation
from .classifier import GLMClassifier
from .cv import GLMClassifierCV, GLMRegressorCV
from .glm import GLMRegressor
from .neural import NeuralGLM, NeuralGLMClassifier

_REGISTERED = False


def register_converters():
    """Register the converters of the four estimators with skl2onnx (idempotent).

    Returns
    -------
    None

    Raises
    ------
    ImportError
        If skl2onnx is not installed (``pip install skglmnn[onnx]``).
    """
    global _REGISTERED
    if _REGISTERED:
        return
    from skl2onnx import update_registered_converter

    for cls in (GLMRegressor, GLMRegressorCV, NeuralGLM):
        update_registered_converter(
            cls, f"Skglmnn{cls.__name__}", _regressor_shape, _convert_regressor,
            parser=_parser, options={"offset": [False, True]},
        )  # fmt: skip
    for cls in (GLMClassifier, GLMClassifierCV, NeuralGLMClassifier):
        update_registered_converter(
            cls, f"Skglmnn{cls.__name__}", _classifier_shape, _convert_classifier,
            parser=_parser,
            options={"zipmap": [True, False, "columns"], "nocl": [True, False],
                     "offset": [False, True]},
        )  # fmt: skip
    _REGISTERED = True


# -- parsing and shapes ----------------------------------------------------------------------


def _parser(scope, model, inputs, custom_parsers=None):
    """Declare the operator, the optional offset input, and the outputs."""
    from skl2onnx._parse import _apply_zipmap, _get_sklearn_operator_name
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    classifier = isinstance(model, GLMClassifier | NeuralGLMClassifier)
    defaults = {"offset": False, "zipmap": True} if classifier else {"offset": False}
    options = scope.get_options(model, defaults)
    operator = scope.declare_local_operator(_get_sklearn_operator_name(type(model)), model)
    operator.inputs = list(inputs)
    if options["offset"]:
        width = _n_outputs(model)
        variable = scope.declare_local_input("offset", inputs[0].type.__class__([None, width]))
        operator.inputs.append(variable)
    if not classifier:
        variable = scope.declare_local_variable("variable", inputs[0].type.__class__())
        operator.outputs.append(variable)
        return list(operator.outputs)
    label_type = Int64TensorType() if np.issubdtype(model.classes_.dtype, np.integer) else (
        StringTensorType())  # fmt: skip
    operator.outputs.append(scope.declare_local_variable("label", label_type))
    operator.outputs.append(
        scope.declare_local_variable("probabilities", inputs[0].type.__class__())
    )
    if isinstance(options["zipmap"], bool) and not options["zipmap"]:
        return list(operator.outputs)
    return _apply_zipmap(options["zipmap"], scope, model, inputs[0].type, operator.outputs)


def _n_outputs(model):
    """Width of the output linear predictor: 1, or K for a softmax over K classes."""
    coef = model.coefs_[-1].T if hasattr(model, "coefs_") else np.atleast_2d(model.coef_)
    return coef.shape[0]


def _regressor_shape(operator):
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = operator.inputs[0].type.__class__([n, 1])


def _classifier_shape(operator):
    n = operator.inputs[0].get_first_dimension()
    model = operator.raw_operator
    operator.outputs[0].type = operator.outputs[0].type.__class__([n])
    operator.outputs[1].type = operator.inputs[0].type.__class__([n, len(model.classes_)])


# -- the graph ---------------------------------------------------------------------------------


def _layers(model):
    """``[(W, b, activation name or None)]``: hidden layers, then the output layer."""
    if hasattr(model, "coefs_"):
        acts = list(model.activations_) + [None]
        return [(W, np.ravel(b), a) for W, b, a in zip(model.coefs_, model.intercepts_, acts,
                                                        strict=True)]  # fmt: skip
    coef = np.atleast_2d(model.coef_)
    return [(coef.T, np.ravel(model.intercept_), None)]


def _linear_predictor(operator, container):
    """The output linear predictor (n, m) as an ONNX expression, and the dtype."""
    from skl2onnx.algebra.onnx_ops import OnnxAdd, OnnxCast, OnnxMatMul, OnnxSub
    from skl2onnx.common.data_types import DoubleTensorType

    opv = container.target_opset
    model = operator.raw_operator
    x = operator.inputs[0]
    dtype = np.float64 if isinstance(x.type, DoubleTensorType) else np.float32
    h = x if x.type.__class__.__name__ in ("FloatTensorType", "DoubleTensorType") else (
        OnnxCast(x, to=dtype, op_version=opv))  # fmt: skip
    layers = _layers(model)
    centre = _centre(model)
    if centre is not None:  # (x - c) W + (b + c W): a year beside the intercept keeps its
        W, b, activation = layers[0]  # digits in float32
        layers[0] = (W, b + centre @ W, activation)
        h = OnnxSub(h, np.asarray(centre, dtype=dtype), op_version=opv)
    for W, b, activation in layers:
        h = OnnxAdd(OnnxMatMul(h, np.asarray(W, dtype=dtype), op_version=opv),
                    np.asarray(b, dtype=dtype), op_version=opv)  # fmt: skip
        if activation is not None:
            h = _activation(activation, h, dtype, opv)
    if len(operator.inputs) > 1:  # the offset
        h = OnnxAdd(h, operator.inputs[1], op_version=opv)
    return h, dtype


def _centre(model):
    """The training columns' means the fit centred on (None for sparse X or no intercept)."""
    scaling = getattr(model, "_input_scaling", None)
    centre = scaling.shift if scaling is not None else getattr(model, "_centre", None)
    return None if centre is None else np.asarray(centre, dtype=np.float64)


def _activation(name, h, dtype, opv):
    """A hidden layer's activation applied to ``h``."""
    from skl2onnx.algebra.onnx_ops import OnnxRelu

    act = get_activation(name)
    if act.link is None:  # relu: the one activation that is no inverse link
        return OnnxRelu(h, op_version=opv)
    return _inverse_link(act.as_link(), h, dtype, opv)


def _inverse_link(link, eta, dtype, opv):
    """``g^-1(eta)`` with standard ONNX operators, for every link of the registry."""
    from skl2onnx.algebra import onnx_ops as ops

    def const(value):
        return np.array([value], dtype=dtype)

    name = link.name
    if name == "power" and link.power in (0.0, 1.0):
        name = "log" if link.power == 0.0 else "identity"
    if name == "identity":
        return ops.OnnxIdentity(eta, op_version=opv)
    if name == "log":
        return ops.OnnxExp(eta, op_version=opv)
    if name == "logit":
        return ops.OnnxSigmoid(eta, op_version=opv)
    if name == "probit":  # Phi(eta) = (1 + erf(eta / sqrt 2)) / 2
        z = ops.OnnxMul(eta, const(1 / np.sqrt(2)), op_version=opv)
        if dtype == np.float64:  # onnxruntime has Erf for float only: this node is float32
            z = ops.OnnxCast(z, to=np.float32, op_version=opv)
            erf = ops.OnnxCast(ops.OnnxErf(z, op_version=opv), to=dtype, op_version=opv)
        else:
            erf = ops.OnnxErf(z, op_version=opv)
        return ops.OnnxMul(ops.OnnxAdd(erf, const(1.0), op_version=opv), const(0.5),
                           op_version=opv)  # fmt: skip
    if name == "cloglog":  # 1 - exp(-exp(eta))
        inner = ops.OnnxNeg(ops.OnnxExp(eta, op_version=opv), op_version=opv)
        return ops.OnnxSub(const(1.0), ops.OnnxExp(inner, op_version=opv), op_version=opv)
    if name == "loglog":  # exp(-exp(-eta))
        inner = ops.OnnxExp(ops.OnnxNeg(eta, op_version=opv), op_version=opv)
        return ops.OnnxExp(ops.OnnxNeg(inner, op_version=opv), op_version=opv)
    if name == "cauchit":  # 1/2 + atan(eta) / pi
        atan = ops.OnnxAtan(eta, op_version=opv) if dtype == np.float32 else (
            _atan64(eta, opv))  # fmt: skip
        angle = ops.OnnxMul(atan, const(1 / np.pi), op_version=opv)
        return ops.OnnxAdd(angle, const(0.5), op_version=opv)
    if name == "inverse":
        return ops.OnnxReciprocal(eta, op_version=opv)
    if name == "inverse_squared":
        return ops.OnnxReciprocal(ops.OnnxSqrt(eta, op_version=opv), op_version=opv)
    if name == "sqrt":
        return ops.OnnxMul(eta, eta, op_version=opv)
    if name == "power":
        return ops.OnnxPow(eta, const(1.0 / link.power), op_version=opv)
    if name == "negative_binomial":  # 1 / (alpha (exp(-eta) - 1))
        e = ops.OnnxExp(ops.OnnxNeg(eta, op_version=opv), op_version=opv)
        denominator = ops.OnnxMul(ops.OnnxSub(e, const(1.0), op_version=opv),
                                  const(link.power), op_version=opv)  # fmt: skip
        return ops.OnnxReciprocal(denominator, op_version=opv)
    if name == "softplus":
        if dtype == np.float32:
            return ops.OnnxSoftplus(eta, op_version=opv)
        return _softplus64(eta, opv)
    if name == "atanh":
        return ops.OnnxTanh(eta, op_version=opv)
    raise ValueError(
        f"No ONNX form for the link {link!r}: the converters know the links of "
        "skglmnn.LINKS; a link defined outside the package cannot be exported."
    )


# onnxruntime implements Atan and Softplus for float only; in float64 graphs they are
# written with operators it has in double, to double precision.


def _atan64(x, opv):
    """``atan(x)`` in float64: ``atan(x) = sign(x) (pi/2 - atan(1/|x|))`` folds |x| into
    [0, 1]; two half-angle steps ``atan(t) = 2 atan(t / (1 + sqrt(1 + t^2)))`` bring it
    below tan(pi/16) ~ 0.2, where the odd Taylor series to ``t^23`` errs by < 1e-17."""
    from skl2onnx.algebra import onnx_ops as ops

    one = np.array([1.0])
    a = ops.OnnxAbs(x, op_version=opv)
    big = ops.OnnxGreater(a, one, op_version=opv)
    t = ops.OnnxWhere(big, ops.OnnxReciprocal(a, op_version=opv), a, op_version=opv)
    for _ in range(2):
        root = ops.OnnxSqrt(ops.OnnxAdd(ops.OnnxMul(t, t, op_version=opv), one, op_version=opv),
                            op_version=opv)  # fmt: skip
        t = ops.OnnxDiv(t, ops.OnnxAdd(root, one, op_version=opv), op_version=opv)
    t2 = ops.OnnxMul(t, t, op_version=opv)
    series = np.array([((-1.0) ** 11) / 23.0])
    for k in range(10, -1, -1):  # Horner in t^2: sum_k (-1)^k t^(2k+1) / (2k + 1)
        series = ops.OnnxAdd(ops.OnnxMul(series, t2, op_version=opv),
                             np.array([((-1.0) ** k) / (2 * k + 1)]), op_version=opv)  # fmt: skip
    reduced = ops.OnnxMul(ops.OnnxMul(series, t, op_version=opv), np.array([4.0]),
                          op_version=opv)  # fmt: skip
    folded = ops.OnnxWhere(big, ops.OnnxSub(np.array([np.pi / 2]), reduced, op_version=opv),
                           reduced, op_version=opv)  # fmt: skip
    return ops.OnnxMul(ops.OnnxSign(x, op_version=opv), folded, op_version=opv)


def _softplus64(x, opv):
    """``log(1 + exp(x)) = relu(x) + log1p(exp(-|x|))`` in float64, with ``log1p(y)`` as
    ``y (1 - y/2 + y^2/3)`` below y = 1e-4 (error < y^4/4) so that tiny values keep their
    relative precision."""
    from skl2onnx.algebra import onnx_ops as ops

    y = ops.OnnxExp(ops.OnnxNeg(ops.OnnxAbs(x, op_version=opv), op_version=opv), op_version=opv)
    series = ops.OnnxMul(y, ops.OnnxAdd(
        ops.OnnxMul(y, ops.OnnxSub(ops.OnnxMul(y, np.array([1 / 3]), op_version=opv),
                                   np.array([0.5]), op_version=opv), op_version=opv),
        np.array([1.0]), op_version=opv), op_version=opv)  # fmt: skip
    direct = ops.OnnxLog(ops.OnnxAdd(y, np.array([1.0]), op_version=opv), op_version=opv)
    small = ops.OnnxLess(y, np.array([1e-4]), op_version=opv)
    log1p = ops.OnnxWhere(small, series, direct, op_version=opv)
    return ops.OnnxAdd(ops.OnnxRelu(x, op_version=opv), log1p, op_version=opv)


def _convert_regressor(scope, operator, container):
    from skl2onnx.algebra.onnx_ops import OnnxIdentity

    model = operator.raw_operator
    eta, dtype = _linear_predictor(operator, container)
    mu = _inverse_link(model.link_, eta, dtype, container.target_opset)
    result = OnnxIdentity(mu, op_version=container.target_opset,
                          output_names=operator.outputs[:1])  # fmt: skip
    result.add_to(scope, container)


def _convert_classifier(scope, operator, container):
    from skl2onnx.algebra import onnx_ops as ops

    opv = container.target_opset
    model = operator.raw_operator
    eta, dtype = _linear_predictor(operator, container)
    if len(model.classes_) == 2:
        p = _inverse_link(model.link_, eta, dtype, opv)
        proba = ops.OnnxConcat(ops.OnnxSub(np.array([1.0], dtype=dtype), p, op_version=opv), p,
                               axis=1, op_version=opv)  # fmt: skip
    else:
        proba = ops.OnnxSoftmax(eta, axis=1, op_version=opv)
    probabilities = ops.OnnxIdentity(proba, op_version=opv, output_names=operator.outputs[1:2])
    index = ops.OnnxArgMax(proba, axis=1, keepdims=0, op_version=opv)
    classes = model.classes_
    if np.issubdtype(classes.dtype, np.integer):
        classes = classes.astype(np.int64)
    else:
        classes = np.asarray([str(c) for c in classes])
    label = ops.OnnxArrayFeatureExtractor(classes, index, op_version=opv)
    label = ops.OnnxReshape(label, np.array([-1], dtype=np.int64), op_version=opv,
                            output_names=operator.outputs[:1])  # fmt: skip
    probabilities.add_to(scope, container)
    label.add_to(scope, container)
