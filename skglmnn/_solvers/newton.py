"""Newton's method with Fisher's Hessian (IRLS), a Cholesky solve and a line search.

Call order, one iteration:

1. value, gradient and per-sample Fisher weights at ``theta``
   (``GLMProblem.value_gradient``); stop if ``max |gradient| <= tol``;
2. the Hessian ``[X 1]^T W [X 1] / sum(w) + alpha`` (``GLMProblem.hessian``);
3. the step ``-H^-1 g`` by Cholesky on the Jacobi-scaled Hessian; if that
   fails or is numerically singular, by its eigendecomposition, keeping only
   eigenvalues above ``RANK_TOL`` (a minimum-norm step) and noting the rank;
4. a backtracking (Armijo) line search, which also rejects every step whose
   means leave the family's domain (their loss is infinite);
5. after the last iteration, if the Hessian was rank deficient and there is no
   penalty, the solution is moved along the Hessian's null space to the one
   with the smallest ``||coef||``: the objective is flat along it, so this
   changes no prediction.

With Fisher's Hessian this is exactly iteratively reweighted least squares:
the iterates of R's ``glm`` and statsmodels' ``GLM.fit``, plus a line search.
"""

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, eigh

from .._threads import single_threaded_blas
from ._problem import SolverResult

RANK_TOL = 1e-10  # eigenvalue of the unit-diagonal Hessian below which a direction is flat
ARMIJO = 1e-4  # sufficient-decrease constant of the line search
MAX_HALVINGS = 60  # the step shrinks to 2^-60 before the line search gives up
ROUNDING = 8 * np.finfo(float).eps  # objective changes below this (relative) are noise


def newton_solve(problem, theta0, max_iter, tol, verbose=0):
    """Minimise ``problem`` from ``theta0`` by Fisher-scoring Newton steps.

    Parameters
    ----------
    problem : GLMProblem
    theta0 : ndarray of shape (n_params,)
    max_iter : int
        Maximum number of Newton steps.
    tol : float
        Stop when the largest absolute gradient entry is at most ``tol``.
    verbose : int, default=0
        Print one line per iteration if positive.

    Returns
    -------
    result : SolverResult
    """
    with single_threaded_blas(problem.uses_fused_sweep):
        return _newton_solve(problem, theta0, max_iter, tol, verbose)


def _newton_solve(problem, theta0, max_iter, tol, verbose):
    theta = np.array(theta0, dtype=np.float64)
    value, grad, weights = problem.value_gradient(theta, hessian=True)
    converged = np.max(np.abs(grad), initial=0.0) <= tol
    n_iter, rank = 0, None
    while not converged and n_iter < max_iter:
        n_iter += 1
        step, step_rank = _newton_step(problem.hessian(weights), grad)
        rank = step_rank if step_rank is not None else rank
        accepted = _line_search(problem, theta, value, grad, step)
        if accepted is None:
            break
        theta, value, grad, weights, t = accepted
        converged = np.max(np.abs(grad), initial=0.0) <= tol
        if verbose:
            print(
                f"newton iter {n_iter:3d}  objective {value:.12g}  "
                f"max|grad| {np.max(np.abs(grad), initial=0.0):.3e}  step {t:g}"
            )
    if rank is not None and problem.alpha == 0.0:
        theta = _minimum_norm(problem, theta, problem.hessian(weights))
    return SolverResult(theta, value, n_iter, bool(converged), rank)


def _scaled(H):
    """Jacobi scaling ``S H S`` with ``S = diag(H)^-1/2`` (1 for zero columns)."""
    diag = np.diag(H).copy()
    s = np.where(diag > 0, 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0)), 1.0)
    return H * s[:, None] * s[None, :], s


def _newton_step(H, grad):
    """``(-H^-1 grad, None)``, or ``(minimum-norm step, rank)`` if H is singular."""
    Hs, s = _scaled(H)
    try:
        factor = cho_factor(Hs, lower=True, check_finite=False)
        if np.min(np.diag(factor[0])) ** 2 > RANK_TOL:
            return -s * cho_solve(factor, s * grad, check_finite=False), None
    except LinAlgError:
        pass
    values, vectors = eigh(Hs)
    keep = values > RANK_TOL * max(values[-1], 1.0)
    kept = vectors[:, keep]
    return -s * (kept @ ((kept.T @ (s * grad)) / values[keep])), int(keep.sum())


def _line_search(problem, theta, value, grad, step):
    """Backtrack from the full step until F decreases enough and stays finite."""
    slope = float(grad @ step)
    t = 1.0
    for _ in range(MAX_HALVINGS):
        candidate = theta + t * step
        new_value, new_grad, new_weights = problem.value_gradient(candidate, hessian=True)
        if np.isfinite(new_value) and (
            new_value <= value + ARMIJO * t * slope + ROUNDING * abs(value)
        ):
            return candidate, new_value, new_grad, new_weights, t
        t *= 0.5
    return None


def _minimum_norm(problem, theta, H):
    """Move ``theta`` along the null space of ``H`` to the smallest ``||coef||``."""
    Hs, s = _scaled(H)
    values, vectors = eigh(Hs)
    flat = values <= RANK_TOL * max(values[-1], 1.0)
    null = s[:, None] * vectors[:, flat]
    p = problem.n_features
    shift = np.linalg.lstsq(null[:p], theta[:p], rcond=None)[0]
    return theta - null @ shift
