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
from scipy.optimize import minimize

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


OUTSIDE_DOMAIN = 1e10


def lbfgs_network_solve(stack, data, theta, alpha, *, max_iter, tol, verbose=0, max_fun=15000):
    """Full-batch L-BFGS-B (scipy) on the packed parameters; ``tol`` is its ``gtol``."""
    mask = stack.weight_mask()
    curve = []
    value, _ = value_gradient(stack, data, theta, alpha, mask)
    _check_finite(value, 0)

    def fun(t):
        f, g = value_gradient(stack, data, t, alpha, mask)
        # A step that leaves the family's domain (e.g. a negative Poisson mean under
        # the identity link) gives f = inf, on which scipy's line search gives up;
        # a large finite value makes it backtrack instead.
        return (f, g) if np.isfinite(f) else (OUTSIDE_DOMAIN * (1.0 + abs(value)), g)

    def record(intermediate_result):
        curve.append(float(intermediate_result.fun))
        if verbose:
            print(f"Iteration {len(curve)}: loss {curve[-1]:.8g}", flush=True)

    opt = minimize(
        fun, theta, jac=True, method="L-BFGS-B", callback=record,
        options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol,
                 "ftol": 64 * np.finfo(float).eps},
    )  # fmt: skip
    _check_finite(opt.fun, len(curve))
    return TrainingResult(
        opt.x, float(opt.fun), int(opt.nit), opt.status == 0, curve, float(opt.fun)
    )
