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
from .._kernels._jit import compiled, thread_count
from .._layers import CHUNK_ROWS
from .._threads import single_threaded_blas

# A mini-batch is split over the cores only into chunks of at least this much work
# (rows x parameters, about the multiply-adds of a forward pass): measured on a
# (64, 64) relu network (5.6k parameters) on 2 cores, float32, splitting paid
# 1.55x at 256 rows a batch (2.4M against 1.55M samples/s), 0-5% at 128 and 64
# rows, and lost at 32.  And chunks keep at least MIN_CHUNK_ROWS rows: OpenBLAS
# called from two threads at once took 9.8 ms for a (16 x 256) @ (256 x 256)
# product that takes 62 us alone (and 69 us for (32 x 256) on both threads), so
# small chunks of wide layers are left alone.
MIN_CHUNK_WORK = 400_000
MIN_CHUNK_ROWS = 64


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
    shift, inv_scale : ndarray of shape (n_features,) or (0,)
        The first layer's change of variables: the kernels read
        ``(x - shift) * inv_scale`` (see :func:`to_internal`); length 0 for raw inputs.
    """

    source: tuple
    y: np.ndarray
    sample_weight: np.ndarray
    offset: np.ndarray
    rows: np.ndarray
    shift: np.ndarray = field(default_factory=lambda: np.empty(0))
    inv_scale: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def n_train(self):
        """Number of training rows."""
        return self.rows.shape[0]

    @classmethod
    def standardised(cls, source, y, sample_weight, offset, rows, scaling):
        """Data whose first layer reads standardised inputs (``scaling``: a ColumnScaling)."""
        shift = np.zeros_like(scaling.scale) if scaling.shift is None else scaling.shift
        return cls(source, y, sample_weight, offset, rows, np.ascontiguousarray(shift, float),
                   1.0 / scaling.scale)  # fmt: skip


def to_internal(stack, theta, data):
    """Parameters for standardised inputs from parameters in X's units.

    With ``z = (x - c) / s`` the first layer's weights become ``W_int = s W``
    (row j times ``s_j``) and its intercepts ``b_int = b + c W``, the
    pre-activation at ``x = c``; every other layer is unchanged.  The network
    computes the same function, so the objective is the same -- the penalty
    stays on ``W`` in X's units (``decay``) -- but Adam, SGD and L-BFGS move in
    coordinates that do not depend on the units and origins of the columns: a
    calendar year or an income in cents no longer saturates the first layer,
    and a network without hidden layers trains like the GLM it is.
    """
    if not data.inv_scale.shape[0]:
        return theta.copy()
    out = theta.copy()
    W, b = stack.coefs(out)[0], stack.intercepts(out)[0]
    b += data.shift @ W
    W /= data.inv_scale[:, None]
    return out


def to_original(stack, theta, data):
    """Inverse of :func:`to_internal`."""
    if not data.inv_scale.shape[0]:
        return theta.copy()
    out = theta.copy()
    W, b = stack.coefs(out)[0], stack.intercepts(out)[0]
    W *= data.inv_scale[:, None]
    b -= data.shift @ W
    return out


@dataclass
class OptimizerState:
    """Adam's moments (or SGD's velocity) and step count, kept between calls."""

    hyper: np.ndarray
    state: np.ndarray

    @classmethod
    def new(cls, kind, n_params, learning_rate, momentum=0.9, nesterov=True, dtype=np.float64):
        """Fresh state; ``kind`` is ``"adam"`` or ``"sgd"``; ``dtype`` the compute dtype."""
        hyper = np.zeros(7)
        hyper[K.KIND] = K.ADAM if kind == "adam" else K.SGD
        hyper[K.LEARNING_RATE] = learning_rate
        hyper[K.BETA_1], hyper[K.BETA_2], hyper[K.EPSILON] = 0.9, 0.999, 1e-8
        hyper[K.MOMENTUM], hyper[K.NESTEROV] = momentum, float(nesterov)
        return cls(hyper, np.zeros((3, n_params), dtype=dtype))

    def astype(self, dtype):
        """The state in the compute dtype ``dtype`` (itself if already)."""
        if self.state.dtype == dtype:
            return self
        return OptimizerState(self.hyper, self.state.astype(dtype))


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
    optimality: float | None = None  # full-batch solvers: largest gradient entry at theta
    stagnated: bool = False


class DivergenceError(ValueError):
    """Training produced a non-finite loss."""


def decay_vector(stack, data, alpha, mask):
    """The L2 strength of every parameter: ``alpha`` on weights, 0 on intercepts.

    For standardised inputs the first layer's row j gets ``alpha / s_j^2``,
    which is ``alpha ||W||^2 / 2`` on the weights in X's units.
    """
    decay = alpha * mask.astype(np.float64)
    if alpha and data.inv_scale.shape[0]:
        n_in, n_out, ws, _ = stack.layout[0]
        decay[ws : ws + n_in * n_out] *= np.repeat(data.inv_scale**2, n_out)
    return decay


def _penalty(theta, decay):
    return 0.5 * float(decay @ (theta * theta))


def value_gradient(stack, data, theta, alpha, mask):
    """``F(theta)`` and its gradient over all training rows."""
    if hasattr(data, "value_gradient"):  # dask data: summed over blocks on the workers
        value, grad = data.value_gradient(stack, theta)
    else:
        grad = np.empty_like(theta)
        value = compiled(K.loss_gradient)(
            *data.source, data.y, data.sample_weight, data.offset, data.rows, CHUNK_ROWS,
            data.shift, data.inv_scale, theta, stack.layout, stack.act, stack.output,
            stack.opower, 1.0 / data.rows.shape[0], grad, stack.buffers(CHUNK_ROWS, theta.dtype),
        )  # fmt: skip
    decay = decay_vector(stack, data, alpha, mask)
    grad += decay * theta
    return value + _penalty(theta, decay), grad


def batch_chunks(stack, batch_size):
    """Row chunks each mini-batch is split into, one per core (``train_epoch``).

    One per thread numba may use (``numba.set_num_threads``, ``NUMBA_NUM_THREADS``),
    as long as every chunk keeps ``MIN_CHUNK_ROWS`` rows and ``MIN_CHUNK_WORK``.
    """
    work = batch_size * stack.n_params
    most = min(batch_size // MIN_CHUNK_ROWS, work // MIN_CHUNK_WORK)
    return int(max(1, min(thread_count(), most)))


def epoch_kernel(stack, batch_size, chunks, dtype):
    """``(kernel, buffers)``: the epoch kernel for batches split into ``chunks`` row
    chunks (``train_epoch`` for one) and its work buffers, of the compute dtype."""
    if chunks == 1:
        return K.train_epoch, stack.buffers(batch_size, dtype)
    return K.train_epoch_chunked, stack.buffers(-(-batch_size // chunks), dtype, chunks)


def run_epoch(stack, data, theta, alpha, optimizer, batch_size, rng, mask):
    """One shuffled pass of mini-batch updates; returns the epoch's mean objective."""
    decay = decay_vector(stack, data, alpha, mask)
    chunks = batch_chunks(stack, batch_size)
    kernel, buffers = epoch_kernel(stack, batch_size, chunks, theta.dtype)
    extra = (buffers,)
    step_decay = decay.astype(theta.dtype)  # the optimiser adds decay * theta (zeros: none)
    if hasattr(data, "run_epoch"):  # dask data: the blocks streamed through this process
        total = data.run_epoch(stack, theta, optimizer, batch_size, rng, step_decay, kernel,
                               extra)  # fmt: skip
        return total / data.n_train + _penalty(theta, decay)
    rows = rng.permutation(data.rows)
    total = compiled(kernel)(
        *data.source, data.y, data.sample_weight, data.offset, rows, batch_size,
        data.shift, data.inv_scale, theta, stack.layout, stack.act, stack.output, stack.opower,
        step_decay, optimizer.hyper, optimizer.state, *extra,
    )  # fmt: skip
    return total / rows.shape[0] + _penalty(theta, decay)


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

    ``theta`` is in the internal coordinates of ``data`` (standardised inputs,
    :func:`to_internal`), where the gradient is scale-free; L-BFGS and its
    finishing quasi-Newton iterations (``lbfgs.py``) run on it as on a GLM.

    Parameters
    ----------
    stack : GLMStack
    data : NetworkData
    alpha : float
    """

    l1_weights = None
    uses_fused_sweep = False  # the network kernels call BLAS themselves

    def __init__(self, stack, data, alpha):
        self.stack, self.data, self.alpha = stack, data, float(alpha)
        self.mask = stack.weight_mask()
        self.decay = decay_vector(stack, data, self.alpha, self.mask)
        self.n_params = stack.n_params
        self.curve = []

    def value_gradient(self, theta, curvature=False):
        """F and its gradient (no curvature state)."""
        value, grad = value_gradient(self.stack, self.data, theta, self.alpha, self.mask)
        return value, grad, None

    def penalty(self, theta):
        """The L2 penalty on the weights, in X's units."""
        return _penalty(theta, self.decay)

    def optimality(self, theta, grad):
        """Largest internal gradient entry."""
        return float(np.max(np.abs(grad), initial=0.0))

    def record(self, value):
        """Called by L-BFGS once per iteration: the loss curve."""
        self.curve.append(float(value))


def lbfgs_network_solve(stack, data, theta, alpha, *, max_iter, tol, verbose=0):
    """Full-batch L-BFGS (``lbfgs.py``) on a :class:`NetworkProblem` (internal ``theta``)."""
    from .lbfgs import lbfgs_solve

    problem = NetworkProblem(stack, data, alpha)
    value, _, _ = problem.value_gradient(theta)
    _check_finite(value, 0)
    result = lbfgs_solve(problem, theta, max_iter, tol, verbose)
    _check_finite(result.objective, result.n_iter)
    curve = problem.curve or [result.objective]
    # the returned point's optimality, measured again (not the solver's own flag)
    gap = problem.optimality(result.theta, problem.value_gradient(result.theta)[1])
    return TrainingResult(result.theta, result.objective, result.n_iter, bool(gap <= tol), curve,
                          result.objective, optimality=gap,
                          stagnated=result.stagnated)  # fmt: skip
