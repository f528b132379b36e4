"""GLMClassifier: scikit-learn's LogisticRegression contract, plus links, offset and speed.

Lives beside ``glm.py`` rather than in it to keep each module a readable size;
``skglmnn.GLMClassifier`` is the public name.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._dask import (
    accuracy,
    any_dask,
    is_dask,
    make_dask_problem,
    map_rows,
    prepare_labels,
)
from ._fit import fit_problem
from ._loss import MultinomialLoss
from ._solvers import make_problem
from ._validation import FLOAT_DTYPES, SPARSE_FORMATS, check_offset, check_sample_weight
from .families import BinomialFamily
from .inference import InferenceMixin, OutputGLM, feature_names
from .links import Link, get_link

BINARY_LINKS = ("logit", "probit", "cloglog", "loglog", "cauchit")
SKLEARN_SOLVERS = ("lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga")


def encode_labels(y):
    """``(classes, codes)``: the sorted distinct labels and each sample's index among them.

    Integer and boolean labels spanning a small range are counted in O(n)
    (``np.bincount``) instead of sorted: on a million samples that saves ~20 ms
    against ``np.unique`` plus ``np.searchsorted``.
    """
    y = np.asarray(y)
    if y.dtype.kind in "iub" and y.size:
        low, high = int(y.min()), int(y.max())
        if high - low <= max(1024, y.size) and -(2**62) < low <= high < 2**62:
            shifted = y.astype(np.intp) - low
            present = np.bincount(shifted, minlength=high - low + 1) > 0
            lookup = np.cumsum(present) - 1
            classes = (np.flatnonzero(present) + low).astype(y.dtype)
            return classes, lookup[shifted]
    classes = np.unique(y)
    return classes, np.searchsorted(classes, y)


def class_sample_weights(class_weight, classes, y, codes, sample_weight):
    """Per-sample weights: ``class_weight`` (dict or "balanced") times ``sample_weight``.

    Parameters
    ----------
    class_weight : dict, "balanced" or None
    classes : ndarray of shape (n_classes,)
    y : ndarray of shape (n_samples,)
        Labels.
    codes : ndarray of shape (n_samples,)
        Each label's index in ``classes``.
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    weights : ndarray of shape (n_samples,) or None
        None when neither weight is given.
    """
    if class_weight is None:
        return sample_weight
    per_class = compute_class_weight(class_weight, classes=classes, y=y,
                                     sample_weight=sample_weight)  # fmt: skip
    weights = per_class[np.asarray(codes, dtype=np.intp)]
    return weights if sample_weight is None else weights * sample_weight


def _scipy_first_step(problem, theta, tol):
    """Where scikit-learn's ``solver="lbfgs"`` stands at ``max_iter=0``.

    scipy's L-BFGS-B, asked for 0 iterations, still takes its first step: a line
    search along the negative gradient from the start.  scikit-learn runs it on
    the coefficients in X's units; the same call is made here on the same
    objective (mean loss + L2), expressed in those units through the problem's
    change of variables (``beta = coef * s``, ``b = intercept + shift . coef``).
    """
    from scipy.optimize import minimize

    m, q = problem.shape
    p, icpt = problem.n_features, problem.fit_intercept
    scale, shift = problem.scaling.scale, problem.scaling.shift

    def internal(x):
        x = x.reshape(m, q)
        return problem.from_original(x[:, :p], x[:, p] if icpt else np.zeros(m))

    def value_gradient(x):
        value, grad, _ = problem.value_gradient(internal(x))
        grad = grad.reshape(m, q).copy()
        if icpt and shift is not None:
            grad[:, :p] += grad[:, [p]] * (shift / scale)  # d b / d coef, in beta's units
        grad[:, :p] *= scale
        return value, grad.ravel()

    coef, intercept = problem.to_original(theta)
    start = np.column_stack([coef, intercept]) if icpt else coef
    result = minimize(value_gradient, start.ravel(), jac=True, method="L-BFGS-B",
                      options={"maxiter": 0, "maxls": 50, "gtol": tol,
                               "ftol": 64 * np.finfo(float).eps})  # fmt: skip
    return internal(result.x)


def class_probabilities(eta, link):
    """Class probabilities from linear predictors.

    Parameters
    ----------
    eta : ndarray of shape (n_samples,) or (n_samples, n_classes)
        One linear predictor per sample (binary model) or one per class.
    link : Link
        The binary model's link (unused for K classes: softmax).

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        ``[1 - h(eta), h(eta)]``, or the softmax of ``eta``.
    """
    if eta.ndim == 1:
        mu = link.inverse(eta)
        return np.column_stack([1 - mu, mu])
    eta = eta - eta.max(axis=1, keepdims=True)
    proba = np.exp(eta)
    return proba / proba.sum(axis=1, keepdims=True)


class LabelsFromProbabilitiesMixin:
    """``predict`` and ``predict_log_proba`` of a classifier from its ``predict_proba``."""

    def predict_log_proba(self, X, offset=None):
        """Logarithms of ``predict_proba``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        if any_dask(X, offset):
            check_is_fitted(self)
            return map_rows(self, "predict_log_proba", X, offset, len(self.classes_))
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X, offset))

    def predict(self, X, offset=None):
        """Most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        if any_dask(X, offset):
            return map_rows(self, "predict", X, offset, dtype=self.classes_.dtype)
        return self.classes_[np.argmax(self.predict_proba(X, offset), axis=1)]

    def score(self, X, y, sample_weight=None, offset=None):
        """Mean accuracy of ``predict(X)`` against ``y`` (weighted by ``sample_weight``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
            A lazy 0-d dask array when the input is a dask collection.
        """
        from sklearn.metrics import accuracy_score

        if any_dask(X, y, sample_weight, offset):
            check_is_fitted(self)
            return accuracy(self, X, y, sample_weight, offset)
        return accuracy_score(y, self.predict(X, offset), sample_weight=sample_weight)


def _check_solver(solver, penalty, dual):
    """The solver/penalty/dual combinations scikit-learn rejects, with its messages."""
    if solver not in ("liblinear", "saga") and penalty not in ("l2", None):
        raise ValueError(
            f"Solver {solver} supports only 'l2' or None penalties, got {penalty} penalty."
        )
    if solver != "liblinear" and dual:
        raise ValueError(f"Solver {solver} supports only dual=False, got dual={dual}")
    if penalty == "elasticnet" and solver != "saga":
        raise ValueError(f"Only 'saga' solver supports elasticnet penalty, got solver={solver}.")
    if solver == "liblinear" and penalty is None:
        raise ValueError(
            "C=np.inf as well as penalty=None is not supported for the liblinear solver"
        )


class GLMClassifier(LabelsFromProbabilitiesMixin, InferenceMixin, ClassifierMixin, BaseEstimator):
    """Logistic regression, and binary GLMs with other links: a drop-in ``LogisticRegression``.

    Same parameters, defaults, validation errors and fitted attributes as
    scikit-learn's :class:`~sklearn.linear_model.LogisticRegression` (1.9), and
    the same answers to solver tolerance: it minimises

    .. math::

        C \\sum_i w_i\\, \\ell(y_i, \\eta_i)
        + \\mathrm{l1\\_ratio}\\, \\lVert W \\rVert_1
        + \\frac{1 - \\mathrm{l1\\_ratio}}{2} \\lVert W \\rVert_2^2

    with ``ell`` the negative log-likelihood of a Bernoulli (binary) or
    multinomial (3+ classes, softmax) model, ``w`` the sample weights times the
    class weights.  Every ``solver`` name is accepted and reaches this optimum;
    the name only affects speed, except ``"liblinear"``, which penalises the
    intercept as liblinear does (``intercept_scaling``).  Internally the
    objective is divided by ``C sum(w)``: the GLM convention of
    :class:`~skglmnn.GLMRegressor` with ``alpha = 1 / (C sum(w))``.

    Beyond ``LogisticRegression``: ``link`` (``"logit"``, ``"probit"``,
    ``"cloglog"``, ``"loglog"``, ``"cauchit"``) for binary problems, and
    ``offset`` in ``fit``, ``decision_function`` and ``predict_proba``.

    Parameters
    ----------
    penalty : {"l1", "l2", "elasticnet", None}, default="deprecated"
        Deprecated in scikit-learn 1.8, as there: use ``l1_ratio`` and ``C``.
    C : float, default=1.0
        Inverse regularisation strength; ``np.inf`` for no penalty.
    l1_ratio : float, default=0.0
        Elastic-net mixing: 0 is L2, 1 is L1.
    dual : bool, default=False
        Accepted for compatibility (liblinear with L2 only); the primal problem
        is solved, with the same optimum.
    tol : float, default=1e-4
        Stop when the largest gradient entry of the scaled objective, with
        respect to the coefficients of the standardised columns, is at most
        tol (under L1: the largest violation of the optimality conditions).
        The solvers work on standardised columns as a change of variables (X is
        never copied), so unscaled columns -- a year, an income in cents -- cost
        neither speed nor accuracy.  Re-measured after the fit: a
        ``ConvergenceWarning`` gives the gap if it exceeds tol.
    fit_intercept : bool, default=True
        Whether to fit an intercept.
    intercept_scaling : float, default=1
        With ``solver="liblinear"``: the intercept is the weight of a constant
        feature of this value, penalised like the others.
    class_weight : dict or "balanced", default=None
        Weights of the classes, multiplied into ``sample_weight``.
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility; the solvers here are deterministic.
    solver : {"lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga"}, \
            default="lbfgs"
        Name of scikit-learn's solver; see above.  ``"newton-cholesky"`` and
        ``"newton-cg"`` run Newton steps (the softmax Hessian for 3+ classes)
        while the Hessian fits in memory; the other names let the size of the
        problem choose between Newton and L-BFGS (OWL-QN or proximal Newton
        under L1).  Unpenalised fits (``C=np.inf``) of (quasi-)separable
        classes, which have no maximum likelihood estimate, are detected (a
        linear programme) and announced by a ``ConvergenceWarning``.
    max_iter : int, default=100
        Maximum number of iterations.  ``max_iter=0`` gives what scikit-learn
        gives: the starting point (zeros, or the previous solution with
        ``warm_start``), except for ``"lbfgs"``, where scipy's L-BFGS-B takes its
        first line-search step even then (reproduced here on the same objective
        in X's units); ``n_iter_`` is 0 (1 for ``"sag"``/``"saga"``).
    verbose : int, default=0
        Print the solver's progress if positive.
    warm_start : bool, default=False
        Start from the previous solution when refitting.
    n_jobs : int, default=None
        Deprecated in scikit-learn 1.8 and without effect, as there.
    link : str or Link, default="logit"
        Link of the Bernoulli model for binary problems.
    sample_weight_type : {"frequency", "variance"}, default="frequency"
        How the inference reads ``sample_weight``: as frequency weights, or as
        R's prior (variance) weights; see :class:`~skglmnn.GLMRegressor`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients (one row for binary problems, for ``classes_[1]``).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts.
    n_iter_ : ndarray of shape (1,), int32
        Solver iterations.
    link_ : Link
        The link used (softmax for multiclass problems is the multinomial logit).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Feature names, when ``X`` has string column names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The estimator this one replaces.
    GLMRegressor : Any family and link; ``GLMRegressor(family="binomial")`` fits
        the same binary model on 0/1 targets.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from skglmnn import GLMClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = GLMClassifier(C=0.5).fit(scale(X), y)
    >>> round(clf.score(scale(X), y), 3)
    0.988
    >>> GLMClassifier(link="probit").fit(scale(X), y).link_
    ProbitLink()
    """

    _parameter_constraints = {
        "penalty": [
            StrOptions({"l1", "l2", "elasticnet"}), None, Hidden(StrOptions({"deprecated"}))
        ],
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "dual": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "solver": [StrOptions(set(SKLEARN_SOLVERS))],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "n_jobs": [None, Integral],
        "link": [str, Link],
        "sample_weight_type": [StrOptions({"frequency", "variance"})],
    }  # fmt: skip

    def __init__(
        self,
        penalty="deprecated",
        *,
        C=1.0,
        l1_ratio=0.0,
        dual=False,
        tol=1e-4,
        fit_intercept=True,
        intercept_scaling=1,
        class_weight=None,
        random_state=None,
        solver="lbfgs",
        max_iter=100,
        verbose=0,
        warm_start=False,
        n_jobs=None,
        link="logit",
        sample_weight_type="frequency",
    ):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.dual = dual
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.max_iter = max_iter
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.sample_weight_type = sample_weight_type
        self.link = link

    def _resolve_penalty(self):
        """``(l1_ratio, C)`` after scikit-learn's deprecation rules, with its warnings."""
        l1_ratio, C = self.l1_ratio, self.C
        if self.penalty == "deprecated":
            if l1_ratio is None:
                warnings.warn(
                    "'l1_ratio=None' was deprecated in version 1.8 and will trigger an "
                    "error in 1.10. Use 0<=l1_ratio<=1 instead.",
                    FutureWarning,
                    stacklevel=3,
                )
                l1_ratio = 0.0
            penalty = "l2" if l1_ratio == 0 else "l1" if l1_ratio == 1 else "elasticnet"
            if C == np.inf:
                penalty = None
        else:
            penalty = self.penalty
            warnings.warn(
                "'penalty' was deprecated in version 1.8 and will be removed in 1.10. To "
                "avoid this warning, leave 'penalty' set to its default value and use "
                "'l1_ratio' or 'C' instead. Use l1_ratio=0 instead of penalty='l2', "
                "l1_ratio=1 instead of penalty='l1', l1_ratio set to a float between 0 "
                "and 1 instead of penalty='elasticnet', and C=np.inf instead of penalty=None.",
                FutureWarning,
                stacklevel=3,
            )
            if penalty == "elasticnet" and l1_ratio is None:
                raise ValueError("l1_ratio must be specified when penalty is elasticnet.")
            l1_ratio = {"l1": 1.0, "l2": 0.0, None: 0.0}.get(penalty, l1_ratio)
            if penalty is None:
                C = np.inf
        _check_solver(self.solver, penalty, self.dual)
        # scikit-learn's warnings for parameters that are ignored, in its words
        if penalty != "elasticnet" and self.l1_ratio is not None and 0 < self.l1_ratio < 1:
            warnings.warn(
                f"l1_ratio parameter is only used when penalty is 'elasticnet'. Got "
                f"(penalty={penalty})",
                UserWarning,
                stacklevel=3,
            )
        if (self.penalty == "l2" and self.l1_ratio != 0) or (
            self.penalty == "l1" and self.l1_ratio != 1
        ):
            warnings.warn(
                f"Inconsistent values: penalty={self.penalty} with l1_ratio={self.l1_ratio}. "
                "penalty is deprecated. Please use l1_ratio only.",
                UserWarning,
                stacklevel=3,
            )
        if self.penalty is None and self.C != 1.0:
            warnings.warn("Setting penalty=None will ignore the C and l1_ratio parameters",
                          UserWarning, stacklevel=3)  # fmt: skip
        if self.n_jobs is not None:
            warnings.warn(
                "'n_jobs' has no effect since 1.8 and will be removed in 1.10. You provided "
                f"'n_jobs={self.n_jobs}', please leave it unspecified.",
                FutureWarning,
                stacklevel=3,
            )
        return float(l1_ratio), float(C)

    def fit(self, X, y, sample_weight=None, offset=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels (strings, integers or booleans).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights (multiplied by the class weights).
        offset : array-like of shape (n_samples,), default=None
            Added to the linear predictor (binary problems only).

        Returns
        -------
        self : GLMClassifier
            The fitted estimator.
        """
        self._validate_params()
        l1_ratio, C = self._resolve_penalty()
        if any_dask(X, y, sample_weight, offset):  # the rows stay on the workers
            rows, summary, link = self._prepare_dask(X, y, sample_weight, offset)
            l2, l1 = self._strengths(l1_ratio, C, summary.weight_sum)
            problem = make_dask_problem(
                rows, summary, family=BinomialFamily(), link=link,
                n_classes=len(self.classes_), alpha=l2, l1=l1, fit_intercept=self.fit_intercept,
                intercept_penalty=(self._intercept_penalty(l2), self._intercept_penalty(l1)),
            )  # fmt: skip
            data = (rows.X, rows.y, rows.y, rows.sample_weight, rows.offset, link, None)
            return self._solve(data, problem, self._initial_theta(problem), l1_ratio, C)
        data = self._prepare(X, y, sample_weight, offset)
        problem = self._problem(data, l1_ratio, C)
        return self._solve(data, problem, self._initial_theta(problem), l1_ratio, C)

    def _strengths(self, l1_ratio, C, weight_sum):
        """``(l2, l1)``: the objective's penalty strengths for ``C`` on ``weight_sum``."""
        alpha = 0.0 if np.isinf(C) else 1.0 / (C * weight_sum)
        return alpha * (1 - l1_ratio), alpha * l1_ratio

    def _check_link(self, n_classes):
        """The link object, checked against the number of classes."""
        if n_classes < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the data "
                f"contains only one class: {self.classes_[0]!r}"
            )
        link = get_link(self.link)
        if n_classes > 2 and link.name != "logit":
            raise ValueError(
                "Only binary classification is supported with "
                f"link={link.name!r}. The type of the target is multiclass ({n_classes} "
                "classes), whose model is the multinomial logit (softmax): use link='logit'."
            )
        if link.name not in BINARY_LINKS:
            raise ValueError(
                f"link={link.name!r} does not map to probabilities for every linear predictor; "
                f"use one of {', '.join(BINARY_LINKS)}."
            )
        return link

    def _dask_rows(self, X, y, sample_weight, offset):
        """The training rows as dask data, checked (``coef_table(X, y)`` on dask input)."""
        rows, summary, _ = self._prepare_dask(X, y, sample_weight, offset, reset=False)
        return rows, summary

    def _prepare_dask(self, X, y, sample_weight, offset, reset=True):
        """``(rows, summary, link)`` for dask input (``_dask.prepare_labels``)."""
        return prepare_labels(self, X, y, sample_weight, offset, reset, self._check_link)

    def _prepare(self, X, y, sample_weight, offset):
        """``(X, y, codes, weights, offset, link, sample_weight)`` validated; sets classes_."""
        X, y = validate_data(
            self, X, y, accept_sparse=SPARSE_FORMATS, dtype=FLOAT_DTYPES, y_numeric=False
        )
        check_classification_targets(y)
        self.classes_, codes = encode_labels(y)
        n_classes = len(self.classes_)
        link = self._check_link(n_classes)
        weights = self._combined_weights(X, y, sample_weight)
        if weights is not None:
            weighted_classes = np.unique(y[weights > 0])
            if len(weighted_classes) < 2:
                raise ValueError(
                    "The sample weights leave only one class with positive weight "
                    f"({weighted_classes[0]!r}); a classifier needs at least 2 classes."
                )
        offset = check_offset(offset, X)
        if offset is not None and n_classes > 2:
            raise ValueError("offset is supported for binary problems only.")
        return X, y, codes.astype(X.dtype), weights, offset, link, sample_weight

    def _problem(self, data, l1_ratio, C, weights=None):
        """The penalised problem at ``(l1_ratio, C)`` (``weights``: instead of the data's)."""
        X, _, codes, data_weights, offset, link, _ = data
        weights = data_weights if weights is None else weights
        weight_sum = X.shape[0] if weights is None else float(weights.sum(dtype=np.float64))
        l2, l1 = self._strengths(l1_ratio, C, weight_sum)
        return make_problem(
            X, codes, weights, offset, family=BinomialFamily(), link=link,
            n_classes=len(self.classes_), alpha=l2, l1=l1, fit_intercept=self.fit_intercept,
            intercept_penalty=(self._intercept_penalty(l2), self._intercept_penalty(l1)),
        )  # fmt: skip

    def _solve(self, data, problem, theta0, l1_ratio, C):
        """Fit ``problem`` from ``theta0`` and set every fitted attribute."""
        X, y, _, _, offset, link, sample_weight = data
        n_classes = len(self.classes_)
        alpha = problem.alpha + problem.l1
        # every name reaches the same optimum; the Newton names ask for Newton steps
        requested = "newton-if-it-fits" if self.solver.startswith("newton") else "auto"
        result, solver = fit_problem(self, problem, requested, theta0, self.max_iter, self.tol,
                                     self.verbose, chosen=self.solver)  # fmt: skip
        coef, intercept = problem.to_original(result.theta)
        self._centre = problem.scaling.shift  # column means (dense X, intercept): for export
        if n_classes == 2:
            coef, intercept = coef[0], intercept[0]
        else:
            # softmax is unchanged by adding one vector to every class: report the
            # representative scikit-learn reports, centred over classes (the
            # penalised coefficients are identified by the penalty already)
            intercept = intercept - intercept.mean()
            if alpha == 0:
                coef = coef - coef.mean(axis=0)
        # scikit-learn's dtypes: liblinear returns float64 whatever X's dtype
        dtype = np.float64 if self.solver == "liblinear" else X.dtype
        self.coef_ = np.atleast_2d(np.asarray(coef, dtype=dtype))
        self.intercept_ = np.atleast_1d(np.asarray(intercept, dtype=dtype)).copy()
        # scikit-learn's sag and saga count at least one epoch, also at max_iter=0
        n_iter = max(result.n_iter, 1) if self.solver in ("sag", "saga") else result.n_iter
        self.n_iter_ = np.array([n_iter], dtype=np.int32)
        self.link_ = link
        self.family_ = BinomialFamily() if n_classes == 2 else None
        self._penalty = (l1_ratio, C)
        # the deviance from the solver's last objective saves a pass over X
        deviance = 2.0 * problem.weight_sum * result.loss
        if getattr(problem, "distributed", False):  # y: class codes, weights: combined
            self._fit_inference(X, y, problem.sample_weight, offset, deviance=deviance,
                                rows=problem)  # fmt: skip
            return self
        self._fit_inference(X, y, sample_weight, offset, deviance=deviance)
        return self

    def _output_glm(self, X, y, sample_weight, offset):
        """The fitted GLM as :mod:`skglmnn.inference` sees it (liblinear's intercept
        penalty, if any, is not part of it: the intercept is treated as free)."""
        if is_dask(X):  # the fit's rows on the workers: class codes and combined weights
            codes, weights = y, sample_weight
            weight_sum = X.shape[0] if weights is None else float(weights.sum())
        else:
            weights = self._combined_weights(X, y, sample_weight)
            if np.array_equal(self.classes_, np.arange(len(self.classes_))):
                codes = np.asarray(y, dtype=np.float64)  # labels 0..K-1 are their own codes
            else:
                codes = np.searchsorted(self.classes_, y).astype(np.float64)
            weight_sum = X.shape[0] if weights is None else float(weights.sum())
            offset = check_offset(offset, X)
        l2, l1 = self._strengths(*self._penalty, weight_sum)
        binary = len(self.classes_) == 2
        return OutputGLM(
            X, codes, weights, offset, self.coef_[0] if binary else self.coef_,
            self.intercept_[0] if binary else self.intercept_, self.fit_intercept,
            self.family_, self.link_ if binary else None, l2, l1,
            feature_names(self, X.shape[1]), self.classes_,
        )  # fmt: skip

    def _combined_weights(self, X, y, sample_weight):
        sample_weight = check_sample_weight(sample_weight, X)
        weights = class_sample_weights(
            self.class_weight, self.classes_, y, np.searchsorted(self.classes_, y), sample_weight
        )
        return None if weights is None else weights.astype(X.dtype, copy=False)

    def _intercept_penalty(self, strength):
        """liblinear's penalty on the intercept: a constant feature of value intercept_scaling."""
        if self.solver != "liblinear" or not self.fit_intercept:
            return 0.0
        return strength / self.intercept_scaling**2

    def _initial_theta(self, problem):
        if self.warm_start and hasattr(self, "coef_"):
            previous = self.coef_.toarray() if sp.issparse(self.coef_) else self.coef_
            if self.fit_intercept:
                previous = np.column_stack([previous, self.intercept_])
            if previous.size == problem.n_params:
                previous = np.asarray(previous, dtype=np.float64).reshape(problem.shape)
                if self.fit_intercept:
                    return problem.from_original(previous[:, :-1], previous[:, -1])
                return problem.from_original(previous, np.zeros(problem.shape[0]))
        if self.max_iter == 0:  # scikit-learn's starting point: all zeros
            theta = np.zeros(problem.n_params)
            return _scipy_first_step(problem, theta, self.tol) if self.solver == "lbfgs" else theta
        return problem.initial_theta()

    def linear_predictor(self, X, offset=None):
        """Linear predictors eta: shape (n_samples,) for binary problems, else (n_samples, K).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        eta : ndarray
        """
        check_is_fitted(self)
        if any_dask(X, offset):
            columns = None if len(self.classes_) == 2 else len(self.classes_)
            return map_rows(self, "linear_predictor", X, offset, columns)
        X = validate_data(self, X, accept_sparse=SPARSE_FORMATS, dtype=FLOAT_DTYPES, reset=False)
        offset = check_offset(offset, X)
        coef = self.coef_.toarray() if sp.issparse(self.coef_) else self.coef_
        eta = MultinomialLoss().linear_predictor(X, coef, self.intercept_)
        if eta.shape[1] == 1:
            eta = eta[:, 0]
            if offset is not None:
                eta = eta + offset
        return eta

    def decision_function(self, X, offset=None):
        """Confidence scores: positive where ``classes_[1]`` is the more probable class.

        For binary problems ``eta - g(1/2)``, which is the linear predictor itself
        for the symmetric links (logit, probit, cauchit) and shifted by
        ``g(1/2)`` for cloglog and loglog, so that the sign decides the class as
        scikit-learn expects; for 3+ classes the (n_samples, K) linear predictors.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        if any_dask(X, offset):
            check_is_fitted(self)
            columns = None if len(self.classes_) == 2 else len(self.classes_)
            return map_rows(self, "decision_function", X, offset, columns)
        eta = self.linear_predictor(X, offset)
        if eta.ndim == 1:
            eta = eta - eta.dtype.type(self.link_.link(0.5))
        return eta

    def predict_proba(self, X, offset=None):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        if any_dask(X, offset):
            check_is_fitted(self)
            return map_rows(self, "predict_proba", X, offset, len(self.classes_))
        return class_probabilities(self.linear_predictor(X, offset), self.link_)

    def sparsify(self):
        """Store ``coef_`` as a scipy.sparse CSR matrix (predictions unchanged).

        Returns
        -------
        self : GLMClassifier
        """
        check_is_fitted(self)
        self.coef_ = sp.csr_matrix(self.coef_)
        return self

    def densify(self):
        """Store ``coef_`` as a dense array again.

        Returns
        -------
        self : GLMClassifier
        """
        check_is_fitted(self)
        if sp.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        try:
            tags.classifier_tags.multi_class = get_link(self.link).name == "logit"
        except (TypeError, ValueError):
            pass
        return tags
