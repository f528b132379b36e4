"""L-BFGS-B from scipy on the internal parameters, fed by the fused loss+gradient kernel.

Each function evaluation is one sweep over X (``GLMLoss.loss_gradient``), so
an iteration costs about one pass over the data, against ``p`` passes for a
Newton step.  ``tol`` is scipy's ``gtol`` on the internal (standardised)
gradient, which is the problem's optimality measure.

scipy also stops when F's relative decrease falls below ``ftol``: F resolves
the coefficients only to about the square root of machine precision, so with a
tight ``tol`` (or on a flat valley) scipy can stop, reporting success, before
the gradient is small.  Such a stop is checked against the optimality
measure, and the solve continues with ``owlqn.py``'s quasi-Newton iteration
(here without L1), whose line search accepts steps that change F by less than
its rounding error; it stops at the floor that rounding sets (stagnation).
"""

import numpy as np
from scipy.optimize import minimize

from .._threads import single_threaded_blas
from ._problem import SolverResult
from .owlqn import owlqn_solve

OUTSIDE_DOMAIN = 1e10


def lbfgs_solve(problem, theta0, max_iter, tol, verbose=0):
    """Minimise ``problem`` from ``theta0`` with scipy's L-BFGS-B.

    Parameters
    ----------
    problem : Problem
        Without an L1 penalty.
    theta0 : ndarray of shape (n_params,)
    max_iter : int
        Maximum number of L-BFGS iterations (over all restarts).
    tol : float
        Stop when ``problem.optimality`` (largest internal gradient entry) is at most ``tol``.
    verbose : int, default=0
        Print one line per iteration if positive.

    Returns
    -------
    result : SolverResult
    """
    if problem.l1_weights is not None:
        raise ValueError("The lbfgs solver cannot handle an L1 penalty.")

    start_value = None

    def value_gradient(theta):
        nonlocal start_value
        value, grad, _ = problem.value_gradient(theta)
        if start_value is None:
            start_value = value
        # A step that leaves the family's domain (a negative Poisson mean under the
        # identity link) gives F = inf, on which scipy's line search gives up; a
        # large finite value makes it backtrack instead.
        return (value, grad) if np.isfinite(value) else (OUTSIDE_DOMAIN * (1 + abs(start_value)),
                                                         grad)  # fmt: skip

    record = getattr(problem, "record", None)

    def report(intermediate_result):
        if record is not None:
            record(intermediate_result.fun)
        if verbose:
            print(f"lbfgs iter  objective {intermediate_result.fun:.12g}")

    theta = np.array(theta0, dtype=np.float64)
    # The sweeps run on numba's threads; BLAS threads left spinning by scipy's
    # small vector operations in between would take their cores (measured: 2.6x
    # slower fits at 100k x 100).  With dense C-ordered X no large BLAS call is made.
    with single_threaded_blas(problem.uses_fused_sweep):
        result = _minimize(value_gradient, theta, max_iter, tol, report)
    theta, n_iter = result.x, int(result.nit)
    measure = problem.optimality(theta, result.jac)
    if measure > tol and n_iter < max_iter:
        finish = owlqn_solve(problem, theta, max_iter - n_iter, tol, verbose)
        finish.n_iter += n_iter
        return finish
    return SolverResult.finish(problem, theta, float(result.fun), n_iter, measure, tol)


def _minimize(value_gradient, theta0, max_iter, tol, callback):
    return minimize(
        value_gradient,
        theta0,
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={
            "maxiter": max(max_iter, 1),
            "maxls": 50,
            "gtol": tol,
            # stop on a relative decrease of F below 64 machine epsilons: noise
            "ftol": 64 * np.finfo(float).eps,
        },
    )


# A Newton iteration costs about 2 + n_params / 10 sweeps over X (the Hessian's
# syrk runs at ~10x the speed of a sweep per multiply-add: 584 ms against 61 ms at
# 1M x 100), and from near the optimum Newton needs about 3 of them.
NEWTON_FINISH_STEPS = 3


def lbfgs_newton_solve(problem, theta0, max_iter, tol, verbose=0):
    """L-BFGS while it is cheaper than Newton would be, then Newton steps to the end.

    On well-conditioned data L-BFGS converges in a few iterations of one sweep
    each and Newton's Hessian would be wasted; on correlated columns it can
    take hundreds, while Newton converges quadratically.  So L-BFGS gets a
    budget of as many iterations as ``NEWTON_FINISH_STEPS`` Newton iterations
    cost, and if it has not converged by then, Newton finishes from its point.
    The worst case is about twice the better of the two.

    Parameters and returns as :func:`lbfgs_solve`.
    """
    from .newton import newton_solve

    budget = int(NEWTON_FINISH_STEPS * (2 + problem.n_params / 10))
    first = lbfgs_solve(problem, theta0, min(max_iter, max(budget, 10)), tol, verbose)
    if first.converged or first.n_iter >= max_iter:
        return first
    second = newton_solve(problem, first.theta, max_iter - first.n_iter, tol, verbose)
    second.n_iter += first.n_iter
    return second
