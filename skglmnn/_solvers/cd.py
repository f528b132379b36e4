"""Proximal Newton with an inner coordinate-descent loop, for L1 and elastic-net penalties.

The objective is ``F = f + P`` with ``f`` the smooth part of a
:class:`~skglmnn._solvers._problem.GLMProblem` (mean half deviance plus the L2
part of the penalty) and ``P(theta) = l1 * ||coef||_1`` (plus
``l1_intercept * |intercept|`` for liblinear's penalised intercept).

Call order, one iteration (as glmnet, Friedman, Hastie & Tibshirani, 2010):

1. gradient and Fisher weights of ``f`` at ``theta``; stop when the optimality
   (KKT) conditions hold to ``tol``: ``|grad_j + l1 sign(theta_j)| <= tol`` for
   non-zero coordinates and ``|grad_j| <= l1 + tol`` for zero ones;
2. the Hessian ``H`` of ``f`` (``GLMProblem.hessian``);
3. coordinate descent on the quadratic model plus ``P`` (``cd_quadratic``),
   which sets coordinates exactly to zero;
4. a backtracking line search on ``F`` along the step (Tseng & Yun, 2009).
"""

import numpy as np

from .._kernels.cd import cd_quadratic
from .._threads import single_threaded_blas
from ._problem import SolverResult

ARMIJO = 1e-4
MAX_HALVINGS = 60
MAX_SWEEPS = 1000  # inner sweeps per outer iteration
INNER_TOL = 0.1  # inner loop stops at this fraction of tol (in gradient units)


def cd_solve(problem, theta0, max_iter, tol, verbose=0, *, l1, l1_intercept=0.0):
    """Minimise ``problem`` plus an L1 penalty by proximal Newton steps.

    Parameters
    ----------
    problem : GLMProblem
    theta0 : ndarray of shape (n_params,)
    max_iter : int
        Maximum number of outer (Newton) iterations.
    tol : float
        Tolerance on the optimality conditions (gradient units).
    verbose : int, default=0
        Print one line per iteration if positive.
    l1 : float
        L1 strength on the coefficients.
    l1_intercept : float, default=0.0
        L1 strength on the intercept (liblinear only).

    Returns
    -------
    result : SolverResult
    """
    weights = np.full(problem.n_params, float(l1))
    if problem.fit_intercept:
        weights[-1] = l1_intercept
    with single_threaded_blas(problem.uses_fused_sweep):
        return _cd_solve(
            problem, np.array(theta0, dtype=np.float64), max_iter, tol, verbose, weights
        )


def _penalty(theta, weights):
    return float(weights @ np.abs(theta))


def _violation(theta, grad, weights):
    """Largest violation of the optimality conditions of ``f + sum w |theta|``."""
    at_zero = theta == 0
    moved = np.abs(grad + weights * np.sign(theta))
    stuck = np.maximum(np.abs(grad) - weights, 0.0)
    return float(np.max(np.where(at_zero, stuck, moved), initial=0.0))


def _cd_solve(problem, theta, max_iter, tol, verbose, weights):
    value, grad, hess = problem.value_gradient(theta, hessian=True)
    total = value + _penalty(theta, weights)
    converged = _violation(theta, grad, weights) <= tol
    n_iter = 0
    while not converged and n_iter < max_iter:
        n_iter += 1
        H = problem.hessian(hess)
        z = np.empty_like(theta)
        cd_quadratic(H, grad, theta, weights, MAX_SWEEPS, INNER_TOL * tol, z)
        step = z - theta
        decrease = float(grad @ step) + _penalty(z, weights) - _penalty(theta, weights)
        t, accepted = 1.0, False
        for _ in range(MAX_HALVINGS):
            candidate = theta + t * step
            new_value, new_grad, new_hess = problem.value_gradient(candidate, hessian=True)
            new_total = new_value + _penalty(candidate, weights)
            if np.isfinite(new_total) and new_total <= total + ARMIJO * t * decrease + 1e-15 * abs(
                total
            ):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break
        theta, value, grad, hess, total = candidate, new_value, new_grad, new_hess, new_total
        violation = _violation(theta, grad, weights)
        converged = violation <= tol
        if verbose:
            print(f"cd iter {n_iter:3d}  objective {total:.12g}  kkt {violation:.3e}  "
                  f"non-zero {np.count_nonzero(theta)}  step {t:g}")  # fmt: skip
    return SolverResult(theta, total, n_iter, bool(converged))
