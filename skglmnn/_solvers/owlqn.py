"""OWL-QN: L-BFGS for an objective with an L1 penalty (Andrew & Gao, 2007).

``F(theta) = f(theta) + sum_j w_j |theta_j|`` with ``f`` the smooth part of a
:class:`~skglmnn._solvers._problem.Problem` and ``w = problem.l1_weights``.
Within an orthant (a fixed sign pattern) the penalty is linear, so F is smooth
there and L-BFGS applies; OWL-QN

1. takes the *pseudo-gradient* ``v`` of F (``_problem.pseudo_gradient``),
   whose largest entry is the problem's optimality measure;
2. turns ``-v`` into a quasi-Newton direction with the L-BFGS two-loop
   recursion on the curvature pairs of f, and zeroes the entries whose sign
   disagrees with ``-v``;
3. searches along it (``_linesearch.backtrack``), projecting each trial point
   onto the orthant of the current point (entries that would change sign
   become exact zeros), until F decreases enough (Armijo on the pseudo-gradient);
4. stores the pair ``(s, y)`` of parameter and gradient-of-f changes.

Each iteration costs one or two evaluations of f and its gradient: one sweep
over X.  It is the L1 solver of the multinomial problem, whose classes are
coupled in a way that slows coordinate descent down (block-wise proximal
Newton, one class at a time as glmnet, needed about 40 outer iterations, 11.5 s
at 100k x 20 with 10 classes; OWL-QN reaches the same optimum in 35
quasi-Newton steps, 0.38 s).  Without L1 it is plain L-BFGS.
"""

import numpy as np

from .._threads import single_threaded_blas
from ._linesearch import Stagnation, backtrack
from ._problem import SolverResult, pseudo_gradient

MEMORY = 10
PATIENCE = 30  # iterations at the rounding floor (``_linesearch.Stagnation``): quasi-Newton
# steps need more of them than Newton's to show that no progress is left


def _direction(v, pairs):
    """``-H v`` by the L-BFGS two-loop recursion over the stored ``(s, y, 1 / y.s)``."""
    q = -v.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * (s @ q)
        q -= a * y
        alphas.append(a)
    if pairs:
        s, y, _ = pairs[-1]
        q *= (s @ y) / (y @ y)
    for (s, y, rho), a in zip(pairs, reversed(alphas), strict=True):
        q += (a - rho * (y @ q)) * s
    return q


def owlqn_solve(problem, theta0, max_iter, tol, verbose=0):
    """Minimise ``problem`` (smooth part plus its L1 penalty) by OWL-QN.

    Parameters
    ----------
    problem : Problem
    theta0 : ndarray of shape (n_params,)
    max_iter : int
    tol : float
        Stop when ``problem.optimality`` is at most ``tol``.
    verbose : int, default=0

    Returns
    -------
    result : SolverResult
    """
    with single_threaded_blas(problem.uses_fused_sweep):
        return _owlqn_solve(problem, np.array(theta0, dtype=np.float64), max_iter, tol, verbose)


def _owlqn_solve(problem, theta, max_iter, tol, verbose):
    weights = problem.l1_weights
    if weights is None:
        weights = np.zeros(problem.n_params)
    value, grad, _ = problem.value_gradient(theta)
    total = value + float(weights @ np.abs(theta))
    pairs = []
    v = pseudo_gradient(theta, grad, weights)
    measure = float(np.max(np.abs(v), initial=0.0))
    n_iter, stagnated, floor = 0, False, Stagnation(measure, PATIENCE)

    def evaluate(candidate):
        new_value, new_grad, _ = problem.value_gradient(candidate)
        return new_value + float(weights @ np.abs(candidate)), new_grad

    while measure > tol and n_iter < max_iter:
        n_iter += 1
        d = _direction(v, pairs)
        d[d * v >= 0] = 0.0  # keep only entries that descend along -v
        if not d.any():
            d = -v
            pairs.clear()
        orthant = np.where(theta != 0, np.sign(theta), -np.sign(v))

        def project(candidate, orthant=orthant):
            candidate[np.sign(candidate) != orthant] = 0.0
            return candidate

        def predicted(candidate, t, v=v, theta=theta):
            return float(v @ (candidate - theta))

        accepted = backtrack(evaluate, theta, total, d, float(v @ d), project=project,
                             predicted=predicted)
        if accepted is None:
            stagnated = True
            break
        candidate, new_total, new_grad, t = accepted
        s, y = candidate - theta, new_grad - grad
        sy = float(s @ y)
        if sy > 1e-12 * float(np.sqrt((s @ s) * (y @ y))):
            pairs.append((s, y, 1.0 / sy))
            if len(pairs) > MEMORY:
                pairs.pop(0)
        previous = total
        theta, grad, total = candidate, new_grad, new_total
        v = pseudo_gradient(theta, grad, weights)
        measure = float(np.max(np.abs(v), initial=0.0))
        at_floor = floor.update(previous, total, measure)
        if verbose:
            print(f"owlqn iter {n_iter:3d}  objective {total:.12g}  optimality {measure:.3e}  "
                  f"non-zero {np.count_nonzero(theta)}  step {t:g}")  # fmt: skip
        if at_floor:
            stagnated = True
            break
    return SolverResult.finish(problem, theta, total, n_iter, measure, tol, stagnated)
