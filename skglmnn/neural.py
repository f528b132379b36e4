"""NeuralGLM and NeuralGLMClassifier: networks whose nodes are GLMs.

A hidden unit computes ``f(a_prev @ w + b)``: a GLM with mean function
(inverse link) ``f`` on the previous layer's outputs.  The output layer is a
GLM of any family and link on the last hidden layer's outputs -- the learned
features, which ``transform`` returns.  With ``hidden=()`` the network is the
GLM itself, and fits the same coefficients as :class:`~skglmnn.GLMRegressor`
and :class:`~skglmnn.GLMClassifier`.
"""

import warnings
from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from ._dask import (
    DaskData,
    DaskNetworkData,
    any_dask,
    check_features,
    deviance_score,
    map_rows,
    prepare_labels,
    summarise,
)
from ._layers import GLMStack, propagate, propagate_rows, row_source
from ._solvers._scaling import ColumnScaling
from ._solvers.network import (
    NetworkData,
    OptimizerState,
    TrainingResult,
    lbfgs_network_solve,
    stochastic_solve,
    to_internal,
    to_original,
)
from ._validation import FLOAT_DTYPES, check_offset, check_sample_weight
from .activations import ACTIVATIONS, ALIASES, get_activation
from .classifier import (
    BINARY_LINKS,
    LabelsFromProbabilitiesMixin,
    class_probabilities,
    class_sample_weights,
)
from .families import BinomialFamily, Family, get_family
from .inference import InferenceMixin, OutputGLM, feature_names
from .links import LINKS, Link, get_link

_SPARSE = ("csr", "csc")


def resolve_output_link(family, link):
    """The output layer's Link from a link name, an activation name or a Link.

    ``"auto"`` is the family's default link; an invertible activation's name
    (``"logistic"``, ``"exp"``, ...) means the link it inverts; a
    non-invertible one (``"relu"``) is a ``ValueError``.

    Parameters
    ----------
    family : Family
        The output family (gives the default link).
    link : str or Link
        ``"auto"``, a link name, an activation name or a Link.

    Returns
    -------
    link : Link

    Examples
    --------
    >>> from skglmnn.families import get_family
    >>> from skglmnn.neural import resolve_output_link
    >>> resolve_output_link(get_family("poisson"), "exp")
    LogLink()
    """
    if isinstance(link, str) and link == "auto":
        return family.default_link()
    if isinstance(link, str) and link not in LINKS and (link in ACTIVATIONS or link in ALIASES):
        return get_activation(link).as_link()
    return get_link(link)


def _activation_name(link):
    """Name of the activation that inverts ``link`` (the output layer's activation)."""
    for name, act in ACTIVATIONS.items():
        if act.link == link.name:
            return name
    return f"inverse of {link.name}"


class _NeuralBase(InferenceMixin, TransformerMixin, BaseEstimator):
    """Shared fitting machinery; subclasses say how targets map to an output layer."""

    _parameter_constraints = {
        "hidden": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [str, list, tuple],
        "alpha": [Interval(Real, 0.0, None, closed="left")],
        "solver": [StrOptions({"adam", "sgd", "lbfgs"})],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0.0, None, closed="neither")],
        "momentum": [Interval(Real, 0.0, 1.0, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0.0, 1.0, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "sample_weight_type": [StrOptions({"frequency", "variance"})],
    }

    # -- persistence ---------------------------------------------------------
    def __getstate__(self):
        # the random state kept for continued training is stored as its plain state (a
        # pickled NumPy 2 bit generator does not load under NumPy 1.26, nor in skops)
        state = dict(super().__getstate__())  # a copy: object's may be __dict__ itself
        random_state = state.get("_random_state")
        if isinstance(random_state, np.random.RandomState):
            state["_random_state"] = {"RandomState": random_state.get_state(legacy=False)}
        return state

    def __setstate__(self, state):
        random_state = state.get("_random_state")
        if isinstance(random_state, dict) and "RandomState" in random_state:
            restored = np.random.RandomState()
            restored.set_state(random_state["RandomState"])
            state = {**state, "_random_state": restored}
        super().__setstate__(state)

    # -- configuration -------------------------------------------------------
    def _hidden_sizes(self):
        hidden = (self.hidden,) if isinstance(self.hidden, Integral) else tuple(self.hidden)
        for h in hidden:
            if isinstance(h, bool) or not isinstance(h, Integral | np.integer) or h < 1:
                raise ValueError(
                    f"hidden must be a sequence of positive integers (units per hidden "
                    f"layer); got {self.hidden!r}."
                )
        return hidden

    def _activations(self, n_hidden):
        names = [self.activation] if isinstance(self.activation, str) else list(self.activation)
        if len(names) == 1:
            names = names * n_hidden
        if len(names) != n_hidden:
            raise ValueError(
                f"activation lists {len(names)} names for {n_hidden} hidden layers; give "
                "one name, or one per hidden layer."
            )
        activations = [get_activation(name) for name in names]
        for act in activations:
            if not act.real_line:
                raise ValueError(
                    f"activation {act.name!r} is not finite for every real input (it inverts "
                    f"the {act.link!r} link, defined for one sign of eta only): it can be an "
                    "output link, not a hidden layer's activation, whose inputs take any sign."
                )
        return activations

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return max(1, min(200, n_samples))
        return min(self.batch_size, n_samples)

    # -- fitting -------------------------------------------------------------
    def _fit(self, X, y, sample_weight, offset, partial, classes=None):
        if any_dask(X, y, sample_weight, offset):
            if partial:
                raise ValueError(
                    "partial_fit takes in-memory batches; fit() on dask input streams the "
                    "blocks of rows through the optimiser itself."
                )
            return self._fit_dask(X, y, sample_weight, offset)
        continuing = (partial or self.warm_start) and hasattr(self, "coefs_")
        if not continuing:
            self._validate_params()
        hidden = self._hidden_sizes()
        activations = self._activations(len(hidden))
        X, y = validate_data(
            self, X, y, accept_sparse=_SPARSE, dtype=FLOAT_DTYPES, reset=not continuing,
            y_numeric=not isinstance(self, ClassifierMixin),
        )  # fmt: skip
        y_coded, family, link, n_outputs, weights = self._encode_targets(
            X, y, sample_weight, continuing, classes
        )
        offset = self._check_offset(offset, X, n_outputs)
        stack = GLMStack(X.shape[1], hidden, activations, n_outputs, family, link)
        n = X.shape[0]
        theta, continuing = self._starting_point(stack, continuing)
        if not continuing:
            self._start_at_null_model(stack, theta, y_coded, weights)
        rows = np.arange(n, dtype=np.int64)
        validation = None
        if self.early_stopping and not partial and self.solver != "lbfgs":
            stratify = y_coded if isinstance(self, ClassifierMixin) else None
            rows, val_rows = train_test_split(
                rows, test_size=self.validation_fraction, stratify=stratify,
                random_state=self._random_state,
            )  # fmt: skip
            rows, val_rows = np.sort(rows), np.sort(val_rows)
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        mean_w = w[rows].mean()
        if not mean_w > 0:
            raise ValueError("sample_weight sums to zero over the training rows.")
        if not continuing:  # kept over partial_fit calls: the optimiser's state lives in it
            train = None  # moments over the training rows, without copying X
            if weights is not None or len(rows) < n:
                train = np.zeros(n)
                train[rows] = w[rows]
            self._input_scaling = ColumnScaling.of(X, train, centre=True)
        data = NetworkData.standardised(row_source(X), y_coded, w / mean_w, offset, rows,
                                        self._input_scaling)  # fmt: skip
        theta = theta.astype(self._compute_dtype(X), copy=False)
        theta = to_internal(stack, theta, data) if continuing else theta
        if self.early_stopping and not partial and self.solver != "lbfgs":
            validation = self._validation_scorer(stack, data, val_rows)
        result = self._solve(stack, data, theta, validation, partial, continuing)
        result.theta = to_original(stack, result.theta, data)
        self._store(stack, result, X, partial, continuing, len(rows))
        if partial:
            self.__dict__.pop("_inference", None)  # statistics describe fit() only
        else:
            self._fit_inference(X, y, sample_weight, None if offset.shape[0] == 0 else offset[:, 0])
        return self

    def _fit_dask(self, X, y, sample_weight, offset):
        """``fit`` on dask input: L-BFGS sums over the blocks on the workers; Adam and SGD
        stream the blocks through this process (``_dask.DaskNetworkData``)."""
        continuing = self.warm_start and hasattr(self, "coefs_")
        if not continuing:
            self._validate_params()
        if self.early_stopping and self.solver != "lbfgs":
            raise ValueError(
                "early_stopping=True is not available on dask input (its validation split "
                "would be rows scattered over every block); set early_stopping=False and "
                "score a held-out dask array with score(), or use solver='lbfgs'."
            )
        hidden = self._hidden_sizes()
        activations = self._activations(len(hidden))
        rows, summary, family, link, n_outputs = self._dask_targets(
            X, y, sample_weight, offset, continuing
        )
        stack = GLMStack(rows.n_features, hidden, activations, n_outputs, family, link)
        theta, continuing = self._starting_point(stack, continuing)
        if not continuing:
            self._set_null_intercept(stack, theta, summary.y_mean,
                                     getattr(summary, "class_counts", None))  # fmt: skip
            self._input_scaling = summary.moments.scaling(centre=True)
        data = DaskNetworkData(rows, summary, self._input_scaling)
        theta = theta.astype(self._compute_dtype(rows.X), copy=False)
        theta = to_internal(stack, theta, data) if continuing else theta
        result = self._solve(stack, data, theta, None, False, continuing)
        result.theta = to_original(stack, result.theta, data)
        self._store(stack, result, rows.X, False, continuing, rows.n_samples)
        self._dask_inference(rows)
        return self

    def _starting_point(self, stack, continuing):
        """``(theta, continuing)``: the fitted parameters when continuing with a network of
        the same shape, else a random start (the random state and the optimiser reset)."""
        if continuing and self._same_shape(stack):
            return stack.pack(self.coefs_, self.intercepts_), True
        self._random_state = check_random_state(self.random_state)
        self._optimizer = None
        return stack.initial_theta(self._random_state, 0.0), False

    def _dask_inference(self, rows):
        """The output GLM's statistics on dask data: its design is the features, computed
        block by block on the workers at each pass (never stored)."""
        if self.coefs_[:-1]:
            features = map_rows(self, "transform", rows.X, columns=self.coefs_[-1].shape[0],
                                checked=True)  # fmt: skip
            names = list(self.get_feature_names_out())
        else:
            features, names = rows.X, feature_names(self, rows.n_features)
        design = rows.with_design(features)
        summary = summarise(design)
        coef = np.asarray(self.coef_, dtype=np.float64)
        intercept = np.asarray(self.intercept_, dtype=np.float64)
        if coef.ndim == 2 and coef.shape[0] == 1:  # a binary classifier's one output
            coef, intercept = coef[0], intercept[0]
        out = OutputGLM(
            features, design.y, design.sample_weight, design.offset, coef,
            intercept if intercept.ndim else float(intercept), True, self.family_, self.link_,
            self.alpha, 0.0, names, getattr(self, "classes_", None),
        )  # fmt: skip
        self._fit_inference(None, None, None, None, rows=SimpleNamespace(data=design,
                            summary=summary), out=out)  # fmt: skip

    def _compute_dtype(self, X):
        """float32 for float32 X trained by adam or sgd, else float64.

        L-BFGS stays in float64: its line search compares objective values that
        differ by far less than float32 resolves near the optimum.
        """
        if X.dtype == np.float32 and self.solver != "lbfgs":
            return np.float32
        return np.float64

    def _output_design(self, X):
        """The output GLM's design for validated X: X itself without hidden layers, else
        the features."""
        if not self.coefs_[:-1]:
            return X, feature_names(self, X.shape[1])
        features = self._features(X)
        return features, list(self.get_feature_names_out())

    def _same_shape(self, stack):
        shapes = [tuple(row[:2]) for row in stack.layout]
        return [W.shape for W in self.coefs_] == shapes

    def _start_at_null_model(self, stack, theta, y_coded, weights):
        """Output intercept at the intercept-only GLM, ``g(weighted mean of y)``."""
        w = None if weights is None else np.asarray(weights, dtype=np.float64)
        counts = mean = None
        if stack.family is None:
            counts = np.bincount(y_coded.astype(np.intp), weights=w, minlength=stack.n_outputs)
        else:
            mean = np.average(y_coded, weights=w) if w is None or w.sum() > 0 else 0.0
        self._set_null_intercept(stack, theta, mean, counts)

    @staticmethod
    def _set_null_intercept(stack, theta, mean, counts):
        """Output intercepts at the intercept-only model: ``g(mean)``, or centred log class
        shares from the weighted class ``counts`` (softmax)."""
        b = stack.intercepts(theta)[-1]
        if stack.family is None:
            with np.errstate(divide="ignore"):
                logp = np.log(counts / counts.sum())
            b[...] = np.where(np.isfinite(logp), logp - logp[np.isfinite(logp)].mean(), 0.0)
        else:
            with np.errstate(all="ignore"):
                start = float(stack.link.link(np.array([mean]))[0])
            b[...] = start if np.isfinite(start) else 0.0
        if not stack.hidden:
            # no hidden layer, no symmetry to break: start where GLMRegressor starts
            stack.coefs(theta)[-1][...] = 0.0

    def _solve(self, stack, data, theta, validation, partial, continuing):
        if self.solver == "lbfgs":
            return lbfgs_network_solve(
                stack, data, theta, self.alpha,
                max_iter=self.max_iter, tol=self.tol, verbose=self.verbose,
            )  # fmt: skip
        if self._optimizer is None:
            self._optimizer = OptimizerState.new(
                self.solver, stack.n_params, self.learning_rate_init, self.momentum,
                self.nesterovs_momentum, dtype=theta.dtype,
            )  # fmt: skip
        self._optimizer = self._optimizer.astype(theta.dtype)  # partial_fit may change it
        previous = getattr(self, "loss_curve_", []) if continuing else []
        return stochastic_solve(
            stack, data, theta, self.alpha, self._optimizer,
            batch_size=self._batch_size(data.n_train),
            max_iter=1 if partial else self.max_iter, tol=self.tol,
            n_iter_no_change=self.n_iter_no_change, rng=self._random_state,
            validation_score=validation, verbose=self.verbose,
            best_loss=getattr(self, "best_loss_", np.inf) if continuing else np.inf,
            epoch_offset=len(previous),
        )  # fmt: skip

    def _store(self, stack, result: TrainingResult, X, partial, continuing, n_train):
        theta = result.theta
        self.coefs_ = [W.copy() for W in stack.coefs(theta)]
        self.intercepts_ = [b.copy() for b in stack.intercepts(theta)]
        self.family_, self.link_ = stack.family, stack.link
        self.activations_ = [a.name for a in stack.activations]
        self.n_layers_ = stack.n_layers + 1
        self.n_outputs_ = stack.n_outputs
        self.out_activation_ = "softmax" if stack.family is None else _activation_name(stack.link)
        previous = list(getattr(self, "loss_curve_", [])) if continuing else []
        self.loss_curve_ = previous + list(result.loss_curve)
        self.loss_ = result.loss
        self.best_loss_ = result.best_loss
        self.validation_scores_ = result.validation_scores
        self.best_validation_score_ = result.best_validation_score
        epochs = result.n_iter
        self.n_iter_ = (getattr(self, "n_iter_", 0) if continuing else 0) + epochs
        seen = epochs * n_train if self.solver != "lbfgs" else n_train
        self.t_ = (getattr(self, "t_", 0) if continuing else 0) + seen
        self._set_output_coef(stack, theta)
        if not partial and not result.converged:
            if result.optimality is not None:  # full batch: the measured gap
                why = ("no step could lower the objective any further in floating point"
                       if result.stagnated else f"max_iter={self.max_iter} was reached")
                message = (
                    f"{type(self).__name__} did not converge: the lbfgs solver stopped after "
                    f"{result.n_iter} iterations with an optimality gap of "
                    f"{result.optimality:.3g} (largest gradient entry, standardised inputs) "
                    f"above tol={self.tol:g}; {why}. Raise max_iter or tol."
                )
            else:
                message = (
                    f"The {self.solver} solver did not converge in max_iter={self.max_iter} "
                    f"epochs; the loss still improves by more than tol={self.tol:g}. Increase "
                    "max_iter or tol."
                )
            warnings.warn(message, ConvergenceWarning, stacklevel=4)

    # -- prediction ----------------------------------------------------------
    def _stack(self):
        check_is_fitted(self)
        return GLMStack(
            self.n_features_in_, self._hidden_from_fit(), self._fitted_activations(),
            self.n_outputs_, self.family_, self.link_,
        )  # fmt: skip

    def _hidden_from_fit(self):
        return tuple(W.shape[1] for W in self.coefs_[:-1])

    def _fitted_activations(self):
        return [get_activation(name) for name in self.activations_]

    def _eta(self, X, offset):
        """Output linear predictor (n_samples, n_outputs), offset included."""
        stack = self._stack()
        X = validate_data(self, X, accept_sparse=_SPARSE, dtype=FLOAT_DTYPES, reset=False)
        theta = stack.pack(self.coefs_, self.intercepts_)
        eta = propagate(stack, theta, row_source(X), X.shape[0], stack.n_layers)
        offset = self._check_offset(offset, X, self.n_outputs_)
        if offset.shape[0]:
            eta += offset
        return eta, X

    def transform(self, X):
        """The learned features: the last hidden layer's outputs.

        These are what the output GLM sees; refitting a GLM of the same family
        and link on them reproduces ``coef_`` and ``intercept_``.  With
        ``hidden=()`` they are X itself.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        features : ndarray of shape (n_samples, n_units_last_hidden)
        """
        check_is_fitted(self)
        if any_dask(X):  # a lazy dask array, computed block by block
            columns = self.coefs_[-1].shape[0] if self.coefs_[:-1] else self.n_features_in_
            return map_rows(self, "transform", X, columns=columns)
        X = validate_data(self, X, accept_sparse=_SPARSE, dtype=FLOAT_DTYPES, reset=False)
        return self._features(X)

    def get_feature_names_out(self, input_features=None):
        """Names of the columns of :meth:`transform`.

        ``hidden_0, hidden_1, ...`` for the units of the last hidden layer (the
        names the output layer's ``coef_table`` uses); without hidden layers the
        input's names, as ``transform`` then returns X.  With these,
        ``set_output(transform="pandas")`` (or ``"polars"``) works.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input names, checked against ``feature_names_in_`` (used only
            without hidden layers).

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self)
        if not self.coefs_[:-1]:
            return _check_feature_names_in(self, input_features)
        return np.asarray([f"hidden_{j}" for j in range(self.coefs_[-1].shape[0])], dtype=object)

    def _features(self, X):
        """``transform`` for validated X."""
        stack = self._stack()
        if not stack.hidden:
            return X.toarray() if sp.issparse(X) else np.asarray(X)
        theta = stack.pack(self.coefs_, self.intercepts_)
        features = propagate(stack, theta, row_source(X), X.shape[0], stack.n_layers - 1)
        return features.astype(X.dtype, copy=False)

    @staticmethod
    def _check_offset(offset, X, n_outputs):
        if offset is None:
            return np.empty((0, n_outputs))
        if n_outputs > 1:
            raise ValueError("offset is supported for single-output (regression, binary) models.")
        return check_offset(offset, X).astype(np.float64).reshape(-1, 1)

    def _validation_scorer(self, stack, data, val_rows):
        def score(theta):
            eta = np.empty((len(val_rows), stack.n_outputs))
            propagate_rows(stack, theta, data.source, val_rows, stack.n_layers, data.shift,
                           data.inv_scale, eta)  # fmt: skip
            if data.offset.shape[0]:
                eta += data.offset[val_rows]
            return self._score_eta(stack, eta, data.y[val_rows], data.sample_weight[val_rows])

        return score

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class NeuralGLM(RegressorMixin, _NeuralBase):
    """A network of GLM layers whose output is a GLM of any family and link.

    Each hidden unit computes ``f(a_prev @ w + b)`` -- a GLM with inverse link
    ``f`` on the previous layer's outputs -- and the output is
    ``mu = h(a_last @ coef_ + intercept_ + offset)`` with ``h`` the inverse of
    ``link``, trained by minimising the family's deviance:

    .. math::

        \\frac{1}{2 \\sum_i w_i} \\sum_i w_i\\, d(y_i, \\mu_i)
        + \\frac{\\alpha}{2} \\sum_{\\text{layers}} \\lVert W \\rVert_F^2 .

    ``alpha`` is thus :class:`~skglmnn.GLMRegressor`'s ``alpha`` (a penalty per
    unit of sample weight); scikit-learn's ``MLPRegressor`` penalises
    ``alpha / (2 n_samples) ||W||^2``, so its ``alpha`` is ours times
    ``n_samples``.  With ``hidden=()`` the network *is* the GLM.

    Parameters
    ----------
    hidden : array-like of int, default=(100,)
        Units per hidden layer; ``()`` leaves only the output GLM.
    activation : str or list of str, default="relu"
        Hidden layers' activation (one name, or one per layer): an inverse link
        (``"identity"``, ``"logistic"``, ``"tanh"``, ``"softplus"``, ``"exp"``,
        ``"normal_cdf"``, ...) or ``"relu"``.
    family : str or Family, default="normal"
        The output distribution, as in :class:`~skglmnn.GLMRegressor`.
    link : str or Link, default="auto"
        The output link: a link name, the name of the invertible activation it
        inverts (``"exp"`` is the log link), or ``"auto"`` for the family's default.
    alpha : float, default=1e-4
        L2 penalty on all weights (not intercepts), scaled as above.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        Mini-batch Adam, mini-batch SGD with momentum, or full-batch L-BFGS-B
        (stopped on the largest gradient entry, ``tol``, and re-checked).  All
        three see standardised inputs: the first layer is reparametrised on
        ``(x - mean) / std`` (computed once per fit from the training rows,
        applied as each batch is read, no copy of X), which changes the
        training path but not the objective -- ``alpha`` still penalises the
        weights in X's units, and ``coefs_`` are in X's units.  Unscaled
        columns (a year, an income in cents) would otherwise saturate the
        hidden units: on real-shaped Poisson tables the raw-X fits score a
        held-out D^2 of 0.20-0.45, as behind a ``StandardScaler``, where
        scikit-learn's ``MLPRegressor(loss="poisson")`` on the same raw columns
        scores below 0 (``benchmarks/unscaled_inputs.py``).  A network without
        hidden layers follows the same path on ``X * d + c`` as on ``X``, like
        the GLM it is.
    batch_size : int or "auto", default="auto"
        Rows per mini-batch; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Step size of Adam and SGD.
    momentum : float, default=0.9
        SGD's momentum.
    nesterovs_momentum : bool, default=True
        Whether SGD uses Nesterov's momentum.
    max_iter : int, default=200
        Epochs (Adam, SGD) or iterations (L-BFGS).
    tol : float, default=1e-4
        Training stops when the loss (or the validation score) has not improved
        by ``tol`` for more than ``n_iter_no_change`` epochs; L-BFGS stops when
        the largest gradient entry is below ``tol``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, score them (D^2) after each
        epoch, and keep the best parameters.  Adam and SGD only.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=10
        Patience, in epochs.
    random_state : int, RandomState instance or None, default=None
        Seeds initial weights, shuffling and the validation split.
    warm_start : bool, default=False
        Continue from the previous fit's parameters (and optimiser state).
    verbose : int, default=0
        Print one line per epoch (epoch, loss, validation score, elapsed time).
    sample_weight_type : {"frequency", "variance"}, default="frequency"
        How the inference reads ``sample_weight``: as frequency weights, or as
        R's prior (variance) weights; see :class:`~skglmnn.GLMRegressor`.

    Attributes
    ----------
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[l]`` of shape (n_in, n_out) for layer l.
    intercepts_ : list of ndarray
        Intercept vectors, ``intercepts_[l]`` of shape (n_out,).
    coef_ : ndarray of shape (n_units_last_hidden,)
        The output GLM's coefficients on the learned features (``coefs_[-1][:, 0]``).
    intercept_ : float
        The output GLM's intercept.
    family_ : Family
        The output family.
    link_ : Link
        The output link.
    out_activation_ : str
        The output activation (the inverse of ``link_``).
    n_iter_ : int
        Epochs (or L-BFGS iterations) run.
    t_ : int
        Training samples seen by the solver.
    loss_ : float
        Final value of the objective.
    loss_curve_ : list of float
        Objective after each epoch (iteration).
    best_loss_ : float
        Lowest objective reached.
    validation_scores_ : list of float or None
        Validation D^2 after each epoch when ``early_stopping``.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.
    n_layers_ : int
        Layers, input and output included.
    n_outputs_ : int
        Output units (1).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Feature names, when ``X`` has string column names.

    See Also
    --------
    GLMRegressor : The output GLM alone (``hidden=()``).
    sklearn.neural_network.MLPRegressor : Squared error only.

    References
    ----------
    .. [1] D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    .. [2] X. Glorot and Y. Bengio, "Understanding the difficulty of training deep
       feedforward neural networks", AISTATS 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from skglmnn import NeuralGLM
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2))
    >>> y = rng.poisson(np.exp(np.sin(2 * X[:, 0]) + 0.3 * X[:, 1]))
    >>> net = NeuralGLM(hidden=(16,), activation="tanh", family="poisson", solver="lbfgs",
    ...                 alpha=1e-2, max_iter=2000, random_state=0).fit(X, y)
    >>> net.link_, net.out_activation_
    (LogLink(), 'exp')
    >>> net.transform(X).shape
    (400, 16)
    """

    _parameter_constraints = {
        **_NeuralBase._parameter_constraints,
        "family": [str, Family],
        "link": [str, Link],
    }

    def __init__(
        self, hidden=(100,), activation="relu", family="normal", link="auto", *, alpha=1e-4,
        solver="adam", batch_size="auto", learning_rate_init=1e-3, momentum=0.9,
        nesterovs_momentum=True, max_iter=200, tol=1e-4, early_stopping=False,
        validation_fraction=0.1, n_iter_no_change=10, random_state=None, warm_start=False,
        verbose=0, sample_weight_type="frequency",
    ):  # fmt: skip
        self.hidden = hidden
        self.activation = activation
        self.family = family
        self.link = link
        self.alpha = alpha
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.sample_weight_type = sample_weight_type

    def fit(self, X, y, sample_weight=None, offset=None):
        """Train the network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (float32 and Fortran-ordered or sparse X are read in place).
        y : array-like of shape (n_samples,)
            Targets inside the family's domain.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights.
        offset : array-like of shape (n_samples,), default=None
            Added to the output linear predictor (e.g. log exposure).

        Returns
        -------
        self : NeuralGLM
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, offset, partial=False)

    @available_if(lambda self: self.solver in ("adam", "sgd"))
    def partial_fit(self, X, y, sample_weight=None, offset=None):
        """One epoch over ``(X, y)``, continuing from the current parameters.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : NeuralGLM
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, offset, partial=True)

    def _encode_targets(self, X, y, sample_weight, continuing, classes):
        family = self.family_ if continuing else get_family(self.family)
        link = self.link_ if continuing else resolve_output_link(family, self.link)
        y = np.asarray(y, dtype=np.float64)
        family.check_y(y)
        return y, family, link, 1, check_sample_weight(sample_weight, X)

    def _dask_targets(self, X, y, sample_weight, offset, continuing):
        """``(rows, summary, family, link, n_outputs)`` for dask input, checked and persisted."""
        family = self.family_ if continuing else get_family(self.family)
        link = self.link_ if continuing else resolve_output_link(family, self.link)
        rows = DaskData(X, y, sample_weight, offset)
        check_features(self, X, reset=not continuing)
        return rows, summarise(rows.persist(), family), family, link, 1

    def _set_output_coef(self, stack, theta):
        self.coef_ = self.coefs_[-1][:, 0].copy()
        self.intercept_ = float(self.intercepts_[-1][0])

    def _output_glm(self, X, y, sample_weight, offset):
        """The output layer as :mod:`skglmnn.inference` sees it: a GLM on the features."""
        design, names = self._output_design(X)
        return OutputGLM(
            design, np.asarray(y, dtype=np.float64), check_sample_weight(sample_weight, design),
            check_offset(offset, design) if offset is not None else None,
            np.asarray(self.coef_, dtype=np.float64), float(self.intercept_), True,
            self.family_, self.link_, self.alpha, 0.0, names,
        )  # fmt: skip

    def _score_eta(self, stack, eta, y, w):
        mu = stack.link.inverse(eta[:, 0])
        null = np.full_like(y, np.average(y, weights=w))
        return 1.0 - stack.family.deviance(y, mu, w) / stack.family.deviance(y, null, w)

    def predict(self, X, offset=None):
        """Predicted means ``mu = h(eta)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        mu : ndarray of shape (n_samples,)
        """
        if any_dask(X, offset):
            check_is_fitted(self)
            return map_rows(self, "predict", X, offset)
        eta, X = self._eta(X, offset)
        # the inverse link in float64 (one compiled version of the link functions)
        return self.link_.inverse(eta[:, 0].astype(np.float64)).astype(X.dtype, copy=False)

    def score(self, X, y, sample_weight=None, offset=None):
        """D^2, the fraction of deviance explained (R^2 for the normal family).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        if any_dask(X, y, sample_weight, offset):  # a lazy 0-d dask array
            check_is_fitted(self)
            return deviance_score(self, X, y, sample_weight, offset)
        eta, X = self._eta(X, offset)
        y = np.asarray(y, dtype=np.float64).ravel()
        if y.shape[0] != eta.shape[0]:
            raise ValueError(f"y has {y.shape[0]} samples, but X has {eta.shape[0]}.")
        self.family_.check_y(y)
        w = check_sample_weight(sample_weight, X)
        return self._score_eta(self._stack(), eta, y, np.ones_like(y) if w is None else w)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            tags.target_tags.positive_only = get_family(self.family).y_interval.low >= 0
        except (TypeError, ValueError):
            pass
        return tags


class NeuralGLMClassifier(
    LabelsFromProbabilitiesMixin, ClassifierMixin, _NeuralBase
):
    """A network of GLM layers with a Bernoulli (any link) or softmax output.

    Binary problems end in one Bernoulli unit, ``P(y = classes_[1]) =
    h(a_last @ coef_ + intercept_ + offset)`` with ``h`` the inverse of
    ``link`` (logit, probit, cloglog, loglog, cauchit); multiclass problems
    end in K softmax units (the multinomial logit).  The objective is the mean
    negative log-likelihood plus ``alpha / 2`` times the squared weights, as
    in :class:`NeuralGLM`; with ``hidden=()`` and ``alpha = 1 / (C n)`` the
    network is :class:`~skglmnn.GLMClassifier` (scikit-learn's
    ``LogisticRegression``) with that ``C``.

    Parameters
    ----------
    hidden : array-like of int, default=(100,)
        Units per hidden layer; ``()`` leaves only the output GLM.
    activation : str or list of str, default="relu"
        Hidden layers' activation, one name or one per layer.
    link : str or Link, default="logit"
        The binary output's link, or the name of the activation it inverts
        (``"logistic"``, ``"normal_cdf"``, ...).  Multiclass problems need ``"logit"``.
    alpha : float, default=1e-4
        L2 penalty on all weights (not intercepts), per unit of sample weight.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        Mini-batch Adam, mini-batch SGD with momentum, or full-batch L-BFGS-B.
        All three see standardised inputs through a reparametrised first
        layer, as in :class:`NeuralGLM` (see its ``solver``): the objective,
        ``alpha`` and ``coefs_`` stay in X's units.
    batch_size : int or "auto", default="auto"
        Rows per mini-batch; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Step size of Adam and SGD.
    momentum : float, default=0.9
        SGD's momentum.
    nesterovs_momentum : bool, default=True
        Whether SGD uses Nesterov's momentum.
    max_iter : int, default=200
        Epochs (Adam, SGD) or iterations (L-BFGS).
    tol : float, default=1e-4
        Tolerance on the improvement of the loss (or validation accuracy).
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` and keep the parameters of
        best validation accuracy.  Adam and SGD only.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=10
        Patience, in epochs.
    random_state : int, RandomState instance or None, default=None
        Seeds initial weights, shuffling and the validation split.
    warm_start : bool, default=False
        Continue from the previous fit's parameters.
    verbose : int, default=0
        Print one line per epoch.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``.
    sample_weight_type : {"frequency", "variance"}, default="frequency"
        How the inference reads ``sample_weight``: as frequency weights, or as
        R's prior (variance) weights; see :class:`~skglmnn.GLMRegressor`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[l]`` of shape (n_in, n_out).
    intercepts_ : list of ndarray
        Intercept vectors.
    coef_ : ndarray of shape (1, n_units_last_hidden) or (n_classes, n_units_last_hidden)
        The output GLM's coefficients on the learned features, shaped as
        ``LogisticRegression.coef_``.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        The output GLM's intercepts.
    family_ : Family or None
        Binomial for binary problems; None for the softmax output.
    link_ : Link or None
        The binary output's link; None for the softmax output.
    out_activation_ : str
        ``"softmax"`` or the inverse of ``link_`` (e.g. ``"logistic"``).
    n_iter_ : int
        Epochs (or L-BFGS iterations) run.
    t_ : int
        Training samples seen by the solver.
    loss_ : float
        Final value of the objective.
    loss_curve_ : list of float
        Objective after each epoch (iteration).
    best_loss_ : float
        Lowest objective reached.
    validation_scores_ : list of float or None
        Validation accuracy after each epoch when ``early_stopping``.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.
    n_layers_ : int
        Layers, input and output included.
    n_outputs_ : int
        Output units (1 for binary problems, K otherwise).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Feature names, when ``X`` has string column names.

    See Also
    --------
    GLMClassifier : The output GLM alone (``hidden=()``).
    sklearn.neural_network.MLPClassifier : Logistic/softmax outputs only.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skglmnn import NeuralGLMClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = NeuralGLMClassifier(hidden=(8,), activation="tanh", solver="lbfgs",
    ...                           max_iter=2000, random_state=0).fit(X, y)
    >>> clf.out_activation_, clf.coef_.shape
    ('softmax', (3, 8))
    >>> bool(clf.score(X, y) > 0.95)
    True
    """

    _parameter_constraints = {
        **_NeuralBase._parameter_constraints,
        "link": [str, Link],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self, hidden=(100,), activation="relu", link="logit", *, alpha=1e-4, solver="adam",
        batch_size="auto", learning_rate_init=1e-3, momentum=0.9, nesterovs_momentum=True,
        max_iter=200, tol=1e-4, early_stopping=False, validation_fraction=0.1,
        n_iter_no_change=10, random_state=None, warm_start=False, verbose=0, class_weight=None,
        sample_weight_type="frequency",
    ):  # fmt: skip
        self.hidden = hidden
        self.activation = activation
        self.link = link
        self.alpha = alpha
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.sample_weight_type = sample_weight_type
        self.class_weight = class_weight

    def fit(self, X, y, sample_weight=None, offset=None):
        """Train the network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels (strings, integers or booleans).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights (multiplied by the class weights).
        offset : array-like of shape (n_samples,), default=None
            Added to the output linear predictor (binary problems only).

        Returns
        -------
        self : NeuralGLMClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, offset, partial=False)

    @available_if(lambda self: self.solver in ("adam", "sgd"))
    def partial_fit(self, X, y, classes=None, sample_weight=None, offset=None):
        """One epoch over ``(X, y)``, continuing from the current parameters.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All labels; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : NeuralGLMClassifier
            The updated estimator.
        """
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, offset, partial=True, classes=classes)

    def _encode_targets(self, X, y, sample_weight, continuing, classes):
        check_classification_targets(y)
        if continuing:
            if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(
                    f"classes={classes!r} differs from the classes of the first call, "
                    f"{self.classes_!r}."
                )
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if unseen.size:
                raise ValueError(f"y holds labels not seen before: {unseen!r}.")
        else:
            self.classes_ = np.unique(y if classes is None else classes)
            if len(self.classes_) < 2:
                raise ValueError(
                    "A classifier needs samples of at least 2 classes in the data, but the "
                    f"data contains only one class: {self.classes_[0]!r}"
                )
        n_classes = len(self.classes_)
        link = self._output_link(n_classes)
        codes = np.searchsorted(self.classes_, y).astype(np.float64)
        weights = class_sample_weights(
            self.class_weight, self.classes_, y, codes, check_sample_weight(sample_weight, X)
        )
        if n_classes == 2:
            return codes, BinomialFamily(), link, 1, weights
        return codes, None, None, n_classes, weights

    def _dask_targets(self, X, y, sample_weight, offset, continuing):
        """``(rows, summary, family, link, n_outputs)`` for dask input: y as class codes, the
        class weights folded into the weights (``_dask.prepare_labels``)."""
        classes = getattr(self, "classes_", None) if continuing else None
        rows, summary, link = prepare_labels(self, X, y, sample_weight, offset,
                                             not continuing, self._output_link)  # fmt: skip
        if classes is not None and not np.array_equal(classes, self.classes_):
            raise ValueError("warm_start: y's classes differ from those of the last fit.")
        if len(self.classes_) == 2:
            return rows, summary, BinomialFamily(), link, 1
        return rows, summary, None, None, len(self.classes_)

    def _output_link(self, n_classes):
        """The output link, checked against the number of classes."""
        link = resolve_output_link(BinomialFamily(), self.link)
        if n_classes > 2 and link.name != "logit":
            raise ValueError(
                f"Only binary classification is supported with link={link.name!r}. The "
                f"target has {n_classes} classes, whose output is a softmax (the "
                "multinomial logit): use link='logit'."
            )
        if link.name not in BINARY_LINKS:
            raise ValueError(
                f"link={link.name!r} does not map every linear predictor to a probability; "
                f"use one of {', '.join(BINARY_LINKS)}."
            )
        return link

    def _set_output_coef(self, stack, theta):
        self.coef_ = self.coefs_[-1].T.copy()
        self.intercept_ = self.intercepts_[-1].copy()

    def _output_glm(self, X, y, sample_weight, offset):
        """The output layer as :mod:`skglmnn.inference` sees it: a GLM on the features."""
        design, names = self._output_design(X)
        codes = np.searchsorted(self.classes_, y).astype(np.float64)
        weights = class_sample_weights(
            self.class_weight, self.classes_, y, codes, check_sample_weight(sample_weight, design)
        )
        binary = self.n_outputs_ == 1
        coef = np.asarray(self.coef_, dtype=np.float64)  # inference in float64 always
        intercept = np.asarray(self.intercept_, dtype=np.float64)
        return OutputGLM(
            design, codes, weights, check_offset(offset, design) if offset is not None else None,
            coef[0] if binary else coef, intercept[0] if binary else intercept, True,
            self.family_, self.link_, self.alpha, 0.0, names,
            self.classes_,
        )  # fmt: skip

    def _score_eta(self, stack, eta, y, w):
        predicted = self._classes_from_eta(stack, eta)
        return float(np.average(predicted == y, weights=w))

    @staticmethod
    def _classes_from_eta(stack, eta):
        if stack.family is None:
            return eta.argmax(axis=1)
        return (stack.link.inverse(eta[:, 0]) > 0.5).astype(np.intp)

    def predict_proba(self, X, offset=None):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default=None
            Binary problems only.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        if any_dask(X, offset):
            check_is_fitted(self)
            return map_rows(self, "predict_proba", X, offset, columns=len(self.classes_))
        eta, X = self._eta(X, offset)
        eta = eta[:, 0] if self.n_outputs_ == 1 else eta
        probabilities = class_probabilities(eta.astype(np.float64), self.link_)  # as predict
        return probabilities.astype(X.dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            tags.classifier_tags.multi_class = (
                resolve_output_link(BinomialFamily(), self.link).name == "logit"
            )
        except (TypeError, ValueError):
            pass
        return tags
