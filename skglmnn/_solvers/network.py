"""Training a stack of GLM layers: mini-batch Adam / SGD epochs and full-batch L-BFGS.

The objective, for weights normalised to mean 1 over the training rows, is

.. math:: F(\\theta) = \\frac{1}{n}\\sum_i w_i\\, \\ell(y_i, \\eta_i)
          + \\frac{\\alpha}{2}\\sum_{\\text{layers}} \\lVert W \\rVert_F^2,

with ``l`` half the output family's unit deviance (or the multinomial
negative log-likelihood) and the intercepts unpenalised: with no hidden layer
this is exactly ``GLMRegressor``'s objective.

Call order of the stochastic driver (``stochastic_solve``): shuffle the rows
(the estimator's random state) -> ``train_epoch`` (one compiled call per epoch:
every batch's forward pass, backward pass and optimiser step) -> record the
epoch loss, check it is finite -> optionally score the validation rows -> the
no-improvement counter decides whether to stop.  The estimator keeps the
optimiser's state, so ``partial_fit`` and ``warm_start`` continue where the
last call stopped.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from .._kernels import network as K
from .._layers import CHUNK_ROWS
from .._threads import single_threaded_blas


@dataclass
class NetworkData:
    """Training rows as the kernels read them.

    Attributes
    ----------
    source : tuple
        The row source of ``X`` (``_layers.row_source``).
    y : ndarray of shape (n_samples,)
        Targets (class indices for a softmax output), float64.
    sample_weight : ndarray of shape (n_samples,)
        Weights normalised to mean 1 over ``rows``.
    offset : ndarray of shape (n_samples, n_outputs) or (0, n_outputs)
        Added to the output ``eta``; zero rows for none.
    rows : ndarray of int64
        The rows to train on (all rows, or the training part of an early-stopping split).
    """

    source: tuple
    y: np.ndarray
    sample_weight: np.ndarray
    offset: np.ndarray
    rows: np.ndarray


@dataclass
class OptimizerState:
    """Adam's moments (or SGD's velocity) and step count, kept between calls."""

    hyper: np.ndarray
    state: np.ndarray

    @classmethod
    def new(cls, kind, n_params, learning_rate, momentum=0.9, nesterov=True):
        """Fresh state; ``kind`` is ``"adam"`` or ``"sgd"``."""
        hyper = np.zeros(7)
        hyper[K.KIND] = K.ADAM if kind == "adam" else K.SGD
        hyper[K.LEARNING_RATE] = learning_rate
        hyper[K.BETA_1], hyper[K.BETA_2], hyper[K.EPSILON] = 0.9, 0.999, 1e-8
        hyper[K.MOMENTUM], hyper[K.NESTEROV] = momentum, float(nesterov)
        return cls(hyper, np.zeros((3, n_params)))


@dataclass
class TrainingResult:
    """What the network solvers return."""

    theta: np.ndarray
    loss: float
    n_iter: int
    converged: bool
    loss_curve: list = field(default_factory=list)
    best_loss: float = np.inf
    validation_scores: list | None = None
    best_validation_score: float | None = None


class DivergenceError(ValueError):
    """Training produced a non-finite loss."""


def _penalty(theta, mask, alpha):
    w = theta[mask]
    return 0.5 * alpha * float(w @ w)


def value_gradient(stack, data, theta, alpha, mask):
    """``F(theta)`` and its gradient over all training rows."""
    grad = np.empty_like(theta)
    value = K.loss_gradient(
        *data.source, data.y, data.sample_weight, data.offset, data.rows, CHUNK_ROWS,
        theta, stack.layout, stack.act, stack.output, stack.opower, 1.0 / data.rows.shape[0], grad,
    )  # fmt: skip
    if alpha:
        grad[mask] += alpha * theta[mask]
    return value + _penalty(theta, mask, alpha), grad


def run_epoch(stack, data, theta, alpha, optimizer, batch_size, rng, mask):
    """One shuffled pass of mini-batch updates; returns the epoch's mean objective."""
    rows = rng.permutation(data.rows)
    total = K.train_epoch(
        *data.source, data.y, data.sample_weight, data.offset, rows, batch_size,
        theta, stack.layout, stack.act, stack.output, stack.opower, alpha,
        optimizer.hyper, optimizer.state,
    )  # fmt: skip
    return total / rows.shape[0] + _penalty(theta, mask, alpha)


def _check_finite(loss, epoch):
    if not np.isfinite(loss):
        raise DivergenceError(
            f"Training diverged in epoch {epoch}: the loss became {loss}. Lower "
            "learning_rate_init, standardise X, raise alpha, or choose an output link "
            "that keeps the mean inside the family's domain (e.g. log for poisson/gamma)."
        )


def stochastic_solve(
    stack, data, theta, alpha, optimizer, *, batch_size, max_iter, tol, n_iter_no_change,
    rng, validation_score=None, verbose=0, best_loss=np.inf, epoch_offset=0,
):  # fmt: skip
    """Epochs of Adam or SGD until the loss (or validation score) stops improving.

    Parameters
    ----------
    validation_score : callable or None
        ``validation_score(theta) -> float`` (higher is better) for early
        stopping; the best parameters seen are returned.
    best_loss : float
        Best loss of previous calls (warm start).
    epoch_offset : int
        Epochs already run (for progress lines).

    Returns
    -------
    result : TrainingResult
    """
    mask = stack.weight_mask()
    result = TrainingResult(theta, np.inf, 0, False, [], best_loss)
    if validation_score is not None:
        result.validation_scores, result.best_validation_score = [], -np.inf
    best_theta, no_improvement, started = theta.copy(), 0, time.perf_counter()
    with single_threaded_blas():
        for epoch in range(1, max_iter + 1):
            loss = run_epoch(stack, data, theta, alpha, optimizer, batch_size, rng, mask)
            _check_finite(loss, epoch_offset + epoch)
            result.loss_curve.append(loss)
            result.n_iter = epoch
            line = f"Epoch {epoch_offset + epoch}: loss {loss:.6g}"
            if validation_score is not None:
                score = validation_score(theta)
                result.validation_scores.append(score)
                line += f", validation score {score:.6g}"
                improved = score > result.best_validation_score + tol
                if score > result.best_validation_score:
                    result.best_validation_score = score
                    best_theta[...] = theta
            else:
                improved = loss < result.best_loss - tol
            result.best_loss = min(result.best_loss, loss)
            no_improvement = 0 if improved else no_improvement + 1
            if verbose:
                print(f"{line}, {time.perf_counter() - started:.2f} s", flush=True)
            if no_improvement > n_iter_no_change:
                result.converged = True
                break
    if validation_score is not None:
        theta[...] = best_theta
    result.loss = result.loss_curve[-1] if result.loss_curve else np.inf
    return result


class NetworkProblem:
    """The full-batch objective of a network in the solvers' problem contract.

    The first layer is reparametrised on standardised inputs, as the GLM
    problems are (``_scaling.py``): with ``z = (x - c) / s``, the internal
    first-layer weights are ``W_int = s W`` (row j scaled by ``s_j``) and the
    internal intercepts ``b_int = b + c W``, the pre-activation at ``x = c``.
    The objective is unchanged (the penalty stays on ``W`` in X's units); only
    the coordinates L-BFGS moves in change, which makes full-batch training --
    and a network without hidden layers, which is a GLM -- independent of the
    units and origins of the columns.

    Parameters
    ----------
    stack : GLMStack
    data : NetworkData
    alpha : float
    scaling : ColumnScaling
        Of the input columns (``shift`` None for sparse X).
    """

    l1_weights = None
    uses_fused_sweep = False  # the network kernels call BLAS themselves

    def __init__(self, stack, data, alpha, scaling):
        self.stack, self.data, self.alpha, self.scaling = stack, data, float(alpha), scaling
        self.mask = stack.weight_mask()
        self.n_params = stack.n_params
        self.curve = []
        n_in, n_out, ws, bs = stack.layout[0]
        self._weights = slice(ws, ws + n_in * n_out)
        self._intercepts = slice(bs, bs + n_out)
        self._shape = (n_in, n_out)

    def to_original(self, theta):
        """Kernel parameters (first layer in X's units) from internal ones."""
        out = theta.copy()
        W = theta[self._weights].reshape(self._shape) / self.scaling.scale[:, None]
        out[self._weights] = W.ravel()
        if self.scaling.shift is not None:
            out[self._intercepts] -= self.scaling.shift @ W
        return out

    def from_original(self, theta):
        """Internal parameters from kernel parameters."""
        out = theta.copy()
        W = theta[self._weights].reshape(self._shape)
        out[self._weights] = (W * self.scaling.scale[:, None]).ravel()
        if self.scaling.shift is not None:
            out[self._intercepts] += self.scaling.shift @ W
        return out

    def value_gradient(self, theta, curvature=False):
        """F and its gradient in internal coordinates (no curvature state)."""
        value, grad = value_gradient(self.stack, self.data, self.to_original(theta), self.alpha,
                                     self.mask)  # fmt: skip
        gW = grad[self._weights].reshape(self._shape)
        if self.scaling.shift is not None:
            gW = gW - np.outer(self.scaling.shift, grad[self._intercepts])
        grad[self._weights] = (gW / self.scaling.scale[:, None]).ravel()
        return value, grad, None

    def penalty(self, theta):
        """The L2 penalty on the weights, in X's units."""
        return _penalty(self.to_original(theta), self.mask, self.alpha)

    def optimality(self, theta, grad):
        """Largest internal gradient entry."""
        return float(np.max(np.abs(grad), initial=0.0))

    def record(self, value):
        """Called by L-BFGS once per iteration: the loss curve."""
        self.curve.append(float(value))


def lbfgs_network_solve(stack, data, theta, alpha, scaling, *, max_iter, tol, verbose=0):
    """Full-batch L-BFGS (``lbfgs.py``) on a :class:`NetworkProblem`; returns kernel parameters."""
    from .lbfgs import lbfgs_solve

    problem = NetworkProblem(stack, data, alpha, scaling)
    start = problem.from_original(theta)
    value, _, _ = problem.value_gradient(start)
    _check_finite(value, 0)
    result = lbfgs_solve(problem, start, max_iter, tol, verbose)
    _check_finite(result.objective, result.n_iter)
    curve = problem.curve or [result.objective]
    return TrainingResult(problem.to_original(result.theta), result.objective, result.n_iter,
                          result.converged, curve, result.objective)  # fmt: skip
