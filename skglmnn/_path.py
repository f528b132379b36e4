"""Regularisation paths: one problem solved at a decreasing sequence of penalties.

A path starts where every coefficient is zero -- the null model, the
intercept alone -- at ``alpha_max``, the smallest penalty with that solution,
and walks down a geometric grid, each solve warm-started from the previous
point (glmnet's pathwise strategy, Friedman, Hastie & Tibshirani, 2010).  The
penalty changes through ``Problem.with_penalty``: no pass over X between
points.  Cross-validation folds are the same problem with the held-out rows
given weight zero (``fold_problem``), so no fold copies X either.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._solvers import SOLVERS, choose_solver
from ._threads import single_threaded_blas

# glmnet's path rules: with an L1 ratio below this, alpha_max is taken as for
# this ratio (a pure ridge has no finite alpha_max); and the path stops early
# once the fraction of deviance explained exceeds DEVIANCE_EXPLAINED_MAX, but
# never before MIN_POINTS points.  glmnet also stops when that fraction gains
# less than 1e-5 (relative) from one point to the next; on columns in their own
# units (the penalty here acts on X's units, as in scikit-learn, where glmnet
# standardises) that rule fires while one large-scale column saturates and the
# others have yet to enter -- a path cut at its start, and the null model
# chosen, without a warning -- so it is not used.
SMALLEST_RATIO_FOR_ALPHA_MAX = 1e-3
MIN_POINTS = 5
DEVIANCE_EXPLAINED_MAX = 0.999


@dataclass
class Path:
    """The solutions along a path, in X's units.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
    coef : ndarray of shape (n_alphas, n_features)
    intercept : ndarray of shape (n_alphas,)
    mean_half_deviance : ndarray of shape (n_alphas,)
        The data part of the objective (training deviance / (2 sum w)).
    n_iter : ndarray of shape (n_alphas,)
    converged : ndarray of bool, shape (n_alphas,)
    """

    alphas: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    mean_half_deviance: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray

    def truncate(self, n):
        """The first ``n`` points."""
        return Path(*(getattr(self, f)[:n] for f in self.__dataclass_fields__))


def null_theta(problem, tol=1e-12, max_iter=100):
    """Internal theta of the null model: coef = 0 and the best intercept (Newton in 1-D)."""
    theta = np.zeros(problem.n_params)
    if not problem.fit_intercept:
        return theta
    theta[-1] = problem.initial_theta()[-1]
    value, grad, weights = problem.value_gradient(theta, curvature=True)
    if not np.isfinite(value):
        raise ValueError(
            "The model with the intercept alone has an infinite deviance at its starting "
            "point; a regularisation path cannot start there (try another link)."
        )
    for _ in range(max_iter):
        g = grad[-1]
        curvature = float(np.sum(weights)) / problem.weight_sum
        if abs(g) <= tol or not curvature > 0:
            break
        step, trial_value = -g / curvature, np.inf
        while abs(step) > 1e-16 * (1.0 + abs(theta[-1])):
            trial = theta.copy()
            trial[-1] += step
            trial_value = problem.value_gradient(trial)[0]
            if trial_value <= value:
                break
            step /= 2
        if not trial_value <= value:
            break
        theta = trial
        value, grad, weights = problem.value_gradient(theta, curvature=True)
    return theta


def alpha_max(problem, l1_ratio, theta_null):
    """The smallest ``alpha`` whose solution has every coefficient zero.

    At the null model the gradient of the mean half deviance in ``coef`` (X's
    units) is ``g``; zero is optimal while ``|g_j| <= alpha * l1_ratio`` for
    every j.  For ``l1_ratio`` below 1e-3 the value for 1e-3 is used (glmnet's
    choice: a ridge never sets coefficients to zero).
    """
    unpenalised = problem.with_penalty(0.0, 0.0)
    _, grad, _ = unpenalised.value_gradient(theta_null)
    q = problem.shape[1]
    g = grad.reshape(problem.n_outputs, q)[:, : problem.n_features] * problem.scaling.scale
    largest = float(np.max(np.abs(g), initial=0.0))
    return largest / max(float(l1_ratio), SMALLEST_RATIO_FOR_ALPHA_MAX)


def alpha_grid(largest, n_alphas, min_ratio):
    """``n_alphas`` values from ``largest`` down to ``largest * min_ratio``, geometric."""
    if not largest > 0:  # y constant, or every column zero: any penalty gives the null model
        largest = 1.0
    return np.geomspace(largest, largest * min_ratio, n_alphas)


def strong_rule_screen(previous_alpha, alpha):
    """The sequential strong rule's bound as a fraction of the new L1 threshold.

    Moving from ``previous_alpha`` to ``alpha``, a coefficient that is zero and
    whose gradient is below ``2 alpha - previous_alpha`` (times the L1 ratio) is
    expected to stay zero (Tibshirani et al., 2012): it stays out of the first
    working set.  The solver checks every coordinate's optimality condition
    after each step, so a coordinate the rule left out wrongly joins later.
    """
    return 2.0 - previous_alpha / alpha


def fit_path(problem, alphas, l1_ratio, solver, max_iter, tol, theta_start=None,
             stop_early=False, null_half_deviance=None):  # fmt: skip
    """Solve ``problem`` at every ``alphas`` (decreasing), warm-starting each from the last.

    Parameters
    ----------
    problem : GLMProblem
    alphas : ndarray of shape (n_alphas,)
    l1_ratio : float
    solver : str
        As the estimators' ``solver`` (``"auto"`` resolved per point).
    max_iter, tol : int, float
    theta_start : ndarray, default=None
        Internal theta to start the first point from (default: the null model).
    stop_early : bool, default=False
        Stop once the fraction of deviance explained exceeds 0.999 (glmnet's
        rule); needs ``null_half_deviance``.
    null_half_deviance : float, default=None

    Returns
    -------
    path : Path
    """
    with single_threaded_blas():  # no BLAS threads left spinning against the numba sweeps
        return _fit_path(problem, alphas, l1_ratio, solver, max_iter, tol, theta_start,
                         stop_early, null_half_deviance)  # fmt: skip


def _fit_path(problem, alphas, l1_ratio, solver, max_iter, tol, theta_start, stop_early,
              null_half_deviance):  # fmt: skip
    n = len(alphas)
    p = problem.n_features
    coefs, intercepts = np.zeros((n, p)), np.zeros(n)
    losses, n_iter = np.zeros(n), np.zeros(n, dtype=int)
    converged = np.zeros(n, dtype=bool)
    theta = null_theta(problem) if theta_start is None else theta_start
    coef, intercept = problem.to_original(theta)
    done, previous = n, problem
    for k, alpha in enumerate(alphas):
        point = previous.with_penalty(alpha * (1.0 - l1_ratio), alpha * l1_ratio)
        point.screen = strong_rule_screen(alphas[k - 1], alpha) if k > 0 else None
        if point.alpha != previous.alpha:  # other internal coordinates
            theta = point.from_original(coef, intercept)
        # else theta as it is: the last evaluation there is reused (Problem.with_penalty)
        result = SOLVERS[choose_solver(point, solver)](point, theta, max_iter, tol, 0)
        theta, previous = result.theta, point
        coef, intercept = point.to_original(theta)
        coefs[k], intercepts[k] = coef[0], intercept[0]
        losses[k], n_iter[k], converged[k] = result.loss, result.n_iter, result.converged
        if stop_early and null_half_deviance and null_half_deviance > 0:
            explained = 1.0 - result.loss / null_half_deviance
            if explained >= DEVIANCE_EXPLAINED_MAX and k + 1 >= MIN_POINTS:
                done = k + 1
                break
    return Path(np.asarray(alphas, dtype=float), coefs, intercepts, losses, n_iter,
                converged).truncate(done)  # fmt: skip


def warn_unconverged(name, paths, tol):
    """One ``ConvergenceWarning`` for all path points that missed ``tol``."""
    missed = sum(int(np.sum(~path.converged)) for path in paths)
    total = sum(path.converged.size for path in paths)
    if missed:
        warnings.warn(
            f"{name}: {missed} of {total} path fits did not reach tol={tol:g} within "
            "max_iter; raise max_iter or tol.",
            ConvergenceWarning,
            stacklevel=3,
        )


def fold_problem(problem, test):
    """The problem on the rows outside ``test``: those get weight zero (no copy of X)."""
    n, dtype = problem.X.shape[0], problem.y.dtype
    weights = (np.ones(n, dtype=dtype) if problem.sample_weight is None
               else problem.sample_weight.astype(dtype, copy=True))  # fmt: skip
    weights[test] = 0.0
    return type(problem)(problem.loss, problem.X, problem.y, weights, problem.offset,
                         problem.alpha, problem.fit_intercept, l1=problem.l1)  # fmt: skip
