"""OWL-QN: L-BFGS for an objective with an L1 penalty (Andrew & Gao, 2007).

``F(theta) = f(theta) + sum_j w_j |theta_j|`` with ``f`` smooth.  Within an
orthant (a fixed sign pattern) the penalty is linear, so F is smooth there and
L-BFGS applies; OWL-QN

1. takes the *pseudo-gradient* ``v`` of F (the gradient of f plus
   ``w sign(theta)``, or, at zero, the smallest-magnitude element of the
   subdifferential), whose largest entry is the optimality (KKT) violation;
2. turns ``-v`` into a quasi-Newton direction with the L-BFGS two-loop
   recursion on the curvature pairs of f, and zeroes the entries whose sign
   disagrees with ``-v``;
3. searches along it, projecting each trial point onto the orthant of the
   current point (entries that would change sign become exact zeros), until
   F decreases enough (Armijo on the pseudo-gradient);
4. stores the pair ``(s, y)`` of parameter and gradient-of-f changes.

Each iteration costs one or two evaluations of f and its gradient: one sweep
over X.  It serves the multinomial problem, whose classes are coupled in a way
that slows block-wise coordinate descent down.
"""

import numpy as np

from ._problem import SolverResult

MEMORY = 10
ARMIJO = 1e-4
MAX_HALVINGS = 40
ROUNDING = 8 * np.finfo(float).eps


def pseudo_gradient(theta, grad, weights):
    """The pseudo-gradient of ``f + sum w |theta|`` (see the module docstring)."""
    v = grad + weights * np.sign(theta)
    zero = theta == 0
    right, left = grad[zero] + weights[zero], grad[zero] - weights[zero]
    v[zero] = np.where(right < 0, right, np.where(left > 0, left, 0.0))
    return v


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


def owlqn_solve(problem, theta, max_iter, tol, verbose, weights):
    """Minimise ``problem`` (smooth part) plus ``sum weights |theta|`` by OWL-QN.

    Parameters
    ----------
    problem : GLMProblem or MultinomialProblem
        Gives ``value_gradient(theta)`` of the smooth part.
    theta : ndarray of shape (n_params,)
        Starting point (modified in place).
    max_iter : int
    tol : float
        Stop when the largest pseudo-gradient entry is at most ``tol``.
    verbose : int
    weights : ndarray of shape (n_params,)
        L1 strength per parameter (0 for intercepts).

    Returns
    -------
    result : SolverResult
    """
    value, grad, _ = problem.value_gradient(theta)
    total = value + float(weights @ np.abs(theta))
    pairs = []
    n_iter, converged = 0, False
    while n_iter < max_iter:
        v = pseudo_gradient(theta, grad, weights)
        if np.max(np.abs(v), initial=0.0) <= tol:
            converged = True
            break
        n_iter += 1
        d = _direction(v, pairs)
        d[d * v >= 0] = 0.0  # keep only entries that descend along -v
        if not d.any():
            d = -v
            pairs.clear()
        orthant = np.where(theta != 0, np.sign(theta), -np.sign(v))
        t, accepted = 1.0, False
        for _ in range(MAX_HALVINGS):
            candidate = theta + t * d
            candidate[np.sign(candidate) != orthant] = 0.0
            new_value, new_grad, _ = problem.value_gradient(candidate)
            new_total = new_value + float(weights @ np.abs(candidate))
            slack = ROUNDING * abs(total)
            if new_total <= total + ARMIJO * float(v @ (candidate - theta)) + slack:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break
        s, y = candidate - theta, new_grad - grad
        sy = float(s @ y)
        if sy > 1e-12 * float(np.sqrt((s @ s) * (y @ y))):
            pairs.append((s, y, 1.0 / sy))
            if len(pairs) > MEMORY:
                pairs.pop(0)
        theta, grad, total = candidate, new_grad, new_total
        if verbose:
            print(f"owlqn iter {n_iter:3d}  objective {total:.12g}  "
                  f"non-zero {np.count_nonzero(theta)}  step {t:g}")  # fmt: skip
    return SolverResult(theta, total, n_iter, converged)
