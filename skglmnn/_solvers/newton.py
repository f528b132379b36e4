"""Newton's method with Fisher's Hessian (IRLS), a Cholesky solve and a line search.

Works on any :class:`~skglmnn._solvers._problem.Problem` without an L1
penalty: one linear predictor or the multinomial model (whose Hessian is the
softmax's, block by block).  Call order, one iteration:

1. value, gradient and curvature state at ``theta``
   (``Problem.value_gradient``); stop when ``Problem.optimality <= tol``;
2. the Hessian in internal coordinates (``Problem.hessian``), plus
   ``Q Q^T`` times its mean diagonal along the problem's flat directions
   (``Problem.flat_directions``): that makes it definite without changing the
   step in any other direction, since the gradient has no component along them;
3. the step ``-H^-1 g`` by Cholesky on the Jacobi-scaled Hessian; if that
   fails or is numerically singular, by its eigendecomposition, keeping only
   eigenvalues above ``RANK_TOL`` (a minimum-norm step) and noting the rank;
4. the line search (``_linesearch.backtrack``), which also rejects every step
   whose means leave the family's domain (their loss is infinite);
5. stagnation: if the line search finds no lower F, or for ``PATIENCE``
   iterations F moved by no more than its rounding error while the
   optimality measure did not halve (Newton converges quadratically, so that
   only happens at the floor set by rounding), stop;
6. after the last iteration, if the Hessian was rank deficient and there is no
   penalty, the solution is moved along the Hessian's null space to the one
   with the smallest ``||coef||`` (in X's units): the objective is flat along
   it, so this changes no prediction.

With Fisher's Hessian this is exactly iteratively reweighted least squares:
the iterates of R's ``glm`` and statsmodels' ``GLM.fit``, plus a line search.
Since the problem works on standardised columns (``_scaling.py``), the rank
decision and the stopping rule do not depend on the units of X.
"""

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, eigh

from .._threads import single_threaded_blas
from ._linesearch import Stagnation, backtrack
from ._problem import SolverResult

# Eigenvalue of the unit-diagonal Hessian below which a direction is flat: a standardised
# design with condition number above ~1e6 (the Hessian squares it).  1e-10 took a cubic in
# calendar years (condition ~8e5 standardised) for rank deficient and returned a worse fit;
# much below 1e-12, Newton follows the near-flat directions of separated data into noise.
RANK_TOL = 1e-12
FLAT_F = 1e-12  # relative change of F within which a step is judged by its gradient alone
PATIENCE = 4  # iterations at the rounding floor (``_linesearch.Stagnation``) before giving up
NOISE = np.sqrt(np.finfo(float).eps)  # null-vector entries below this (relative) are rounding


def newton_solve(problem, theta0, max_iter, tol, verbose=0):
    """Minimise ``problem`` from ``theta0`` by Fisher-scoring Newton steps.

    Parameters
    ----------
    problem : Problem
        Without an L1 penalty.
    theta0 : ndarray of shape (n_params,)
    max_iter : int
        Maximum number of Newton steps.
    tol : float
        Stop when ``problem.optimality`` is at most ``tol``.
    verbose : int, default=0
        Print one line per iteration if positive.

    Returns
    -------
    result : SolverResult
    """
    if problem.l1_weights is not None:
        raise ValueError("The newton solver cannot handle an L1 penalty.")
    with single_threaded_blas(problem.uses_fused_sweep):
        return _newton_solve(problem, theta0, max_iter, tol, verbose)


def _newton_solve(problem, theta0, max_iter, tol, verbose):
    theta = np.array(theta0, dtype=np.float64)
    value, grad, state = problem.value_gradient(theta, curvature=True)
    measure = problem.optimality(theta, grad)
    flat = problem.flat_directions()
    n_iter, rank, stagnated, floor = 0, None, False, Stagnation(measure, PATIENCE)

    def evaluate(candidate):
        new_value, new_grad, new_state = problem.value_gradient(candidate, curvature=True)
        return new_value, (new_grad, new_state)

    while measure > tol and n_iter < max_iter:
        n_iter += 1
        H = problem.hessian(state)
        step, step_rank = newton_step(H, grad, flat)
        rank = step_rank if step_rank is not None else rank
        accepted = backtrack(evaluate, theta, value, step, float(grad @ step))
        if accepted is None:
            accepted = _step_below_rounding(problem, evaluate, theta, value, step, measure)
        if accepted is None:
            stagnated = True
            break
        previous = value
        theta, value, (grad, state), t = accepted
        measure = problem.optimality(theta, grad)
        if verbose:
            print(f"newton iter {n_iter:3d}  objective {value:.12g}  "
                  f"optimality {measure:.3e}  step {t:g}")  # fmt: skip
        if floor.update(previous, value, measure):
            stagnated = True
            break
    if rank is not None and not np.any(problem.l2_weights):
        theta = _minimum_norm(problem, theta, problem.hessian(state), flat)
    return SolverResult.finish(problem, theta, value, n_iter, measure, tol, stagnated, rank)


def _step_below_rounding(problem, evaluate, theta, value, step, measure):
    """The full step when F cannot tell it apart from theta but the gradient can.

    Near the optimum a Newton step lowers F by about ``g H^-1 g / 2``, which can
    fall below the rounding of F itself (a sum of n terms) while the gradient,
    computed from the data, still halves: the line search then sees no decrease
    and would stop early.  Accept the full step if F stays within ``FLAT_F`` of
    its value and the optimality measure at least halves.
    """
    candidate = theta + step
    new_value, state = evaluate(candidate)
    if not (np.isfinite(new_value) and abs(new_value - value) <= FLAT_F * abs(value)):
        return None
    if problem.optimality(candidate, state[0]) > 0.5 * measure:
        return None
    return candidate, new_value, state, 1.0


def _scaled(H):
    """Jacobi scaling ``S H S`` with ``S = diag(H)^-1/2`` (1 for zero columns)."""
    diag = np.diag(H).copy()
    s = np.where(diag > 0, 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0)), 1.0)
    return H * s[:, None] * s[None, :], s


def newton_step(H, grad, flat=None):
    """``(-H^-1 grad, None)``, or ``(minimum-norm step, rank)`` if H is singular.

    ``flat`` (n_params, r): orthonormal directions along which the objective is
    constant; they are made definite before factorising and not counted as
    rank deficiency.
    """
    if flat is not None and flat.shape[1]:
        H = H + np.mean(np.diag(H)) * (flat @ flat.T)
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


def _minimum_norm(problem, theta, H, flat):
    """Move ``theta`` along the null space of ``H`` to the smallest ``||coef||`` in X's units."""
    if flat.shape[1]:
        H = H + np.mean(np.diag(H)) * (flat @ flat.T)
    Hs, s = _scaled(H)
    values, vectors = eigh(Hs)
    null = vectors[:, values <= RANK_TOL * max(values[-1], 1.0)]
    if not null.shape[1]:
        return theta
    # entries at rounding level are noise, and in X's units (a column in cents beside
    # one in years) noise of 1e-16 can outweigh a true entry divided by 1e6
    null = s[:, None] * np.where(np.abs(null) > NOISE * np.abs(null).max(axis=0), null, 0.0)
    m, q = problem.shape
    p = problem.n_features
    # the coef part of each null direction, in X's units (beta / scale)
    coef_part = (null.reshape(m, q, -1)[:, :p, :] / problem.scaling.scale[None, :, None])
    coef_part = coef_part.reshape(m * p, -1)
    coef, _ = problem.to_original(theta)
    shift = np.linalg.lstsq(coef_part, coef.ravel(), rcond=None)[0]
    return theta - null @ shift
