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
import scipy.sparse as sp

from .._kernels.cd import cd_quadratic, cd_quadratic_sparse
from .._threads import single_threaded_blas
from ._problem import SolverResult

ARMIJO = 1e-4
MAX_HALVINGS = 60
MAX_SWEEPS = 1000  # inner sweeps per outer iteration
# The inner loop stops at this fraction of the current optimality violation
# (an inexact Newton step: loose far from the optimum, tight near it), and never
# before INNER_TOL * tol.
INNER_TOL = 0.1
ROUNDING = 8 * np.finfo(float).eps  # objective changes below this (relative) are noise
# Above this many features the p x p Hessian is not formed for sparse X: the
# inner loop works on the residual X dz instead, a pass over X per sweep.
GRAM_MAX_FEATURES = 1000


def _quadratic_solver(problem, hess_weights=None, H=None):
    """``solve(g, theta, l1, tol, z_out)`` for the quadratic model of the smooth part.

    With a Hessian matrix ``H`` (or small p) coordinate descent works on H; for
    sparse X with many features it works on the residual (``cd_quadratic_sparse``).
    """
    if H is None and not (sp.issparse(problem.X) and problem.n_features > GRAM_MAX_FEATURES):
        H = problem.hessian(hess_weights)
    if H is not None:
        return lambda g, theta, l1, tol, z: cd_quadratic(H, g, theta, l1, MAX_SWEEPS, tol, z)
    X = getattr(problem, "_csc", None)
    if X is None:
        X = problem._csc = sp.csc_matrix(problem.X)  # a copy of the non-zeros, once a fit
    h = np.ascontiguousarray(hess_weights, dtype=np.float64) / problem.weight_sum
    l2 = problem.l2_diagonal()
    return lambda g, theta, l1, tol, z: cd_quadratic_sparse(
        X.indptr, X.indices, X.data, h, l2, g, theta, l1, problem.fit_intercept, MAX_SWEEPS, tol, z
    )


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
    theta = np.array(theta0, dtype=np.float64)
    weights = np.full(problem.n_params, float(l1))
    if hasattr(problem, "n_classes"):  # multinomial: one block of parameters per class
        blocks = np.arange(problem.n_params).reshape(problem.shape)
        if problem.fit_intercept:
            weights[blocks[:, -1]] = 0.0
        solve = _cd_solve_multinomial
    else:
        if problem.fit_intercept:
            weights[-1] = l1_intercept
        solve = _cd_solve
    with single_threaded_blas(problem.uses_fused_sweep):
        return solve(problem, theta, max_iter, tol, verbose, weights)


def _penalty(theta, weights):
    return float(weights @ np.abs(theta))


def _violation(theta, grad, weights):
    """Largest violation of the optimality conditions of ``f + sum w |theta|``."""
    at_zero = theta == 0
    moved = np.abs(grad + weights * np.sign(theta))
    stuck = np.maximum(np.abs(grad) - weights, 0.0)
    return float(np.max(np.where(at_zero, stuck, moved), initial=0.0))


def _proximal_newton_step(problem, theta, total, grad, quadratic, weights, tol, block):
    """Coordinate descent on the quadratic model of the ``block`` of theta, then a line search.

    Returns ``(theta, total, grad, hess_weights, t)`` at the accepted point, or
    None when no step decreases F.
    """
    z = np.empty(len(block))
    inner_tol = INNER_TOL * max(tol, _violation(theta[block], grad[block], weights[block]))
    quadratic(grad[block], theta[block], weights[block], inner_tol, z)
    step = np.zeros_like(theta)
    step[block] = z - theta[block]
    decrease = float(grad @ step) + _penalty(theta + step, weights) - _penalty(theta, weights)
    t = 1.0
    for _ in range(MAX_HALVINGS):
        candidate = theta + t * step
        value, new_grad, hess = problem.value_gradient(candidate, hessian=True)
        new_total = value + _penalty(candidate, weights)
        slack = ROUNDING * abs(total)
        if np.isfinite(new_total) and new_total <= total + ARMIJO * t * decrease + slack:
            return candidate, new_total, new_grad, hess, t
        t *= 0.5
    return None


def _report(verbose, n_iter, total, violation, theta, t):
    if verbose:
        print(f"cd iter {n_iter:3d}  objective {total:.12g}  kkt {violation:.3e}  "
              f"non-zero {np.count_nonzero(theta)}  step {t:g}")  # fmt: skip


def _cd_solve(problem, theta, max_iter, tol, verbose, weights):
    value, grad, hess = problem.value_gradient(theta, hessian=True)
    total = value + _penalty(theta, weights)
    everything = np.arange(theta.size)
    converged = _violation(theta, grad, weights) <= tol
    n_iter = 0
    while not converged and n_iter < max_iter:
        n_iter += 1
        quadratic = _quadratic_solver(problem, hess)
        accepted = _proximal_newton_step(
            problem, theta, total, grad, quadratic, weights, tol, everything
        )
        if accepted is None:
            break
        theta, total, grad, hess, t = accepted
        violation = _violation(theta, grad, weights)
        converged = violation <= tol
        _report(verbose, n_iter, total, violation, theta, t)
    return SolverResult(theta, total, n_iter, bool(converged))


def _cd_solve_multinomial(problem, theta, max_iter, tol, verbose, weights):
    """Block proximal Newton: one class at a time, with its exact Hessian block (as glmnet)."""
    value, grad, _ = problem.value_gradient(theta)
    total = value + _penalty(theta, weights)
    blocks = np.arange(theta.size).reshape(problem.shape)
    converged = _violation(theta, grad, weights) <= tol
    n_iter = 0
    while not converged and n_iter < max_iter:
        n_iter += 1
        t = 0.0
        for k, block in enumerate(blocks):
            if sp.issparse(problem.X) and problem.n_features > GRAM_MAX_FEATURES:
                quadratic = _quadratic_solver(problem, problem.class_fisher_weights(theta, k))
            else:
                quadratic = _quadratic_solver(problem, H=problem.class_hessian(theta, k))
            accepted = _proximal_newton_step(
                problem, theta, total, grad, quadratic, weights, tol, block
            )
            if accepted is not None:
                theta, total, grad, _, t = accepted
        violation = _violation(theta, grad, weights)
        converged = violation <= tol
        _report(verbose, n_iter, total, violation, theta, t)
        if t == 0.0:
            break
    return SolverResult(theta, total, n_iter, bool(converged))
