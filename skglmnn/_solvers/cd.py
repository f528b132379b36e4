"""Proximal Newton with an inner coordinate-descent loop, for L1 and elastic-net penalties.

The objective is ``F = f + P`` with ``f`` the smooth part of a
:class:`~skglmnn._solvers._problem.GLMProblem` (mean half deviance plus the L2
part of the penalty) and ``P(theta) = sum_j w_j |theta_j|`` with
``w = problem.l1_weights`` (in internal coordinates ``l1 / scale`` on the
coefficients, liblinear's ``l1_intercept`` on the intercept).

Call order, one iteration (as glmnet, Friedman, Hastie & Tibshirani, 2010):

1. gradient and Fisher weights of ``f`` at ``theta``; stop when the optimality
   (KKT) measure ``Problem.optimality`` is at most ``tol``;
2. the Hessian ``H`` of ``f`` (``Problem.hessian``);
3. coordinate descent on the quadratic model plus ``P`` (``cd_quadratic``),
   which sets coordinates exactly to zero;
4. the line search on ``F`` along the step (``_linesearch.backtrack``, with
   the model decrease of Tseng & Yun, 2009); stagnation as in ``newton.py``.

Problems with one linear predictor only: the multinomial L1 solver is OWL-QN
(``owlqn.py``), which ``choose_solver`` picks.
"""

import numpy as np
import scipy.sparse as sp

from .._kernels import cd as K
from .._kernels._jit import compile_kernels, thread_count
from .._loss import weighted_gram
from .._threads import single_threaded_blas
from ._linesearch import Stagnation, backtrack
from ._problem import SolverResult
from .newton import PATIENCE

MAX_SWEEPS = 1000  # inner sweeps per outer iteration
# The inner loop stops at this fraction of the current optimality violation
# (an inexact Newton step: loose far from the optimum, tight near it), and never
# before INNER_TOL * tol.
INNER_TOL = 0.1
# Above this many features the p x p Hessian is not formed for sparse X: the
# inner loop works on a working set of coordinates with their own Gram matrix
# (``_working_set_solver``), or on the residual X dz when that set grows beyond
# WORKING_SET_MAX (a pass over X per sweep, ``cd_quadratic_sparse``).
GRAM_MAX_FEATURES = 1000
WORKING_SET_MAX = 2000
# A zero coordinate joins the working set when its optimality condition fails by
# more than this fraction of the inner tolerance: a low bar lets the set grow in
# few rounds, which saves outer iterations.
ENTER = 0.01
NEAR = 0.8
# Dense X whose full Hessian costs at least DENSE_SET_MIN_COST (n p^2) works on a
# working set when at most DENSE_SET_SHARE of the coordinates are non-zero or near
# their threshold: the Hessian of a columns costs n a^2, each check for entering
# ones 2 n p, and a round's Python overhead a few milliseconds.
DENSE_SET_MIN_COST = 10**8
DENSE_SET_SHARE = 0.3


def _quadratic_solver(problem, hess_weights):
    """``solve(g, theta, l1, tol, z_out)`` for the quadratic model of the smooth part.

    Coordinate descent works on the Hessian matrix, or on a working set of its
    coordinates (``_working_set_solver``): always for sparse X with many
    features, and for dense X with enough features when few coordinates are
    in play (the start of a regularisation path, a strong penalty).
    """
    X = problem.X
    if sp.issparse(X) and problem.n_features > GRAM_MAX_FEATURES:
        return _working_set_solver(problem, hess_weights)
    full = None

    def solve(g, theta, l1, tol, z):
        nonlocal full
        p = problem.n_features
        cached = getattr(problem.loss, "constant_fisher", False)  # the full Hessian is formed once
        if (full is None and not cached and not sp.issparse(X)
                and X.shape[0] * p**2 >= DENSE_SET_MIN_COST):  # fmt: skip
            in_play = (theta[:p] != 0) | (np.abs(g[:p]) > NEAR * l1[:p])
            if np.count_nonzero(in_play) <= DENSE_SET_SHARE * p:
                return _working_set_solver(problem, hess_weights)(g, theta, l1, tol, z)
        if full is None:
            full = problem.hessian(hess_weights)
        return K.cd_quadratic(full, g, theta, l1, MAX_SWEEPS, tol, z)

    return solve


def _working_set_solver(problem, hess_weights):
    """Coordinate descent on the coordinates that matter.

    With an L1 penalty most coordinates stay at zero.  The working set starts
    as the non-zero coordinates and the zero ones whose gradient breaks the
    optimality conditions; coordinate descent runs on the Hessian of those
    coordinates only, then one read-only pass over X (``X^T (h * X dz)``) adds
    every zero coordinate that now breaks them, until none does (the working
    sets of glmnet and of Johnson & Guestrin's Blitz, 2015).  Sparse X: the
    Gram matrix grows with the set (``active_gram``: cheap sweeps, even over
    the columns of frequent words); dense X: it is formed block by block from
    the chosen columns (``weighted_gram(columns=...)``, no copy of X), and the
    check for entering coordinates is left to the next outer iteration, whose
    gradient over all columns costs one sweep instead of two passes here.
    Everything is in the problem's internal coordinates: column j of X stands
    for ``(x_j - c_j) / s_j``.
    """
    h = np.ascontiguousarray(hess_weights, dtype=np.float64) / problem.weight_sum
    l2 = problem.l2_weights
    p, intercept = problem.n_features, problem.fit_intercept
    sparse = sp.issparse(problem.X)
    hessian_of, curvature_along = (_sparse_parts if sparse else _dense_parts)(problem, h)

    def residual_solve(g, theta, l1, tol, z):
        X = getattr(problem, "_csc", None)
        if X is None:  # a copy of the non-zeros, once a fit, in internal units
            X = problem._csc = sp.csc_matrix(problem.X, dtype=np.float64, copy=True)
            X.data *= np.repeat(1.0 / problem.scaling.scale, np.diff(X.indptr))
        return K.cd_quadratic_sparse(X.indptr, X.indices, X.data, h, l2, g, theta, l1,
                                     intercept, MAX_SWEEPS, tol, z)  # fmt: skip

    def solve(g, theta, l1, tol, z):
        # zero coordinates close to breaking their condition join at once: a few
        # extra columns in the Gram matrix cost less than another round
        active = (theta[:p] != 0) | (np.abs(g[:p]) > NEAR * l1[:p] + ENTER * tol)
        columns = np.flatnonzero(active)
        while True:
            if sparse and columns.size > WORKING_SET_MAX:
                return residual_solve(g, theta, l1, tol, z)
            index = np.append(columns, p) if intercept else columns
            H = hessian_of(columns)
            H[np.diag_indices_from(H)] += l2[index]
            z_active = np.empty(index.size)
            K.cd_quadratic(H, g[index], theta[index], l1[index], MAX_SWEEPS, tol, z_active)
            z[:] = theta
            z[index] = z_active
            if curvature_along is None:  # dense: the outer iteration's gradient checks the rest
                return 0
            h_step = curvature_along(columns, z_active - theta[index])
            enter = ~active & (np.abs(g[:p] + h_step) - l1[:p] > ENTER * tol)
            if not enter.any():
                return 0
            active |= enter
            columns = np.append(columns, np.flatnonzero(enter))  # new ones last: gram grows

    return solve


def _sparse_parts(problem, h):
    """``(hessian_of(columns), curvature_along(columns, step))`` for sparse X."""
    inv = 1.0 / problem.scaling.scale
    p, intercept = problem.n_features, problem.fit_intercept
    R = problem.X if problem.X.format == "csr" else sp.csr_matrix(problem.X)
    data = R.data.astype(np.float64, copy=False)
    chunks = max(2, thread_count())
    gram = np.zeros((0, 0))

    def hessian_of(columns):
        nonlocal gram
        position = np.full(p, -1, dtype=np.int64)
        position[columns] = np.arange(columns.size)
        blocks = int(max(1, min(8, 2e7 // (columns.size + 1) ** 2)))
        gram, hx = K.active_gram(R.indptr, R.indices, data, h, position, columns.size, blocks,
                                 gram)  # fmt: skip
        size = columns.size + intercept
        H = np.zeros((size, size))
        H[: columns.size, : columns.size] = gram * np.outer(inv[columns], inv[columns])
        if intercept:
            H[: columns.size, -1] = H[-1, : columns.size] = hx * inv[columns]
            H[-1, -1] = h.sum()
        return H

    def curvature_along(columns, step):
        full_step = np.zeros(p)
        full_step[columns] = step[: columns.size] * inv[columns]
        r = np.empty(R.shape[0])
        K.csr_matvec(R.indptr, R.indices, data, full_step, r)
        d0 = float(step[-1]) if intercept else 0.0
        # (H dz)_j = sum_i x_ij h_i (r_i + d0) for every column: one pass over X
        return K.csr_rmatvec(R.indptr, R.indices, data, h * (r + d0), p, chunks) * inv

    return hessian_of, curvature_along


def _dense_parts(problem, h):
    """``(hessian_of(columns), None)`` for dense X (no entering check, see above)."""
    X, shift = problem.X, problem.scaling.shift
    inv = 1.0 / problem.scaling.scale
    intercept = problem.fit_intercept

    def hessian_of(columns):
        H = weighted_gram(X, h, shift, columns)
        scale = np.append(inv[columns], 1.0)
        H *= np.outer(scale, scale)
        return H if intercept else H[:-1, :-1]

    return hessian_of, None


def cd_solve(problem, theta0, max_iter, tol, verbose=0):
    """Minimise ``problem`` (smooth part plus its L1 penalty) by proximal Newton steps.

    Parameters
    ----------
    problem : GLMProblem
    theta0 : ndarray of shape (n_params,)
    max_iter : int
        Maximum number of outer (Newton) iterations.
    tol : float
        Stop when ``problem.optimality`` (the KKT violation) is at most ``tol``.
    verbose : int, default=0
        Print one line per iteration if positive.

    Returns
    -------
    result : SolverResult
    """
    if problem.n_outputs != 1:
        raise ValueError("The cd solver takes one linear predictor; use owlqn for multinomial.")
    theta = np.array(theta0, dtype=np.float64)
    weights = problem.l1_weights
    compile_kernels()  # the sweeps of coordinate descent are never interpreted
    if weights is None:
        weights = np.zeros(problem.n_params)
    with single_threaded_blas(problem.uses_fused_sweep):
        return _cd_solve(problem, theta, max_iter, tol, verbose, weights)


def _penalty(theta, weights):
    return float(weights @ np.abs(theta))


def _proximal_newton_step(problem, theta, total, grad, quadratic, weights, measure):
    """Coordinate descent on the quadratic model, then the line search.

    Returns ``(theta, total, (grad, hess_weights), t)`` at the accepted point, or
    None when no step decreases F.
    """
    z = np.empty(theta.size)
    quadratic(grad, theta, weights, INNER_TOL * min(measure, measure**2 / INNER_TOL), z)
    step = z - theta
    decrease = float(grad @ step) + _penalty(z, weights) - _penalty(theta, weights)

    def evaluate(candidate):
        value, new_grad, hess = problem.value_gradient(candidate, curvature=True)
        return value + _penalty(candidate, weights), (new_grad, hess)

    return backtrack(evaluate, theta, total, step, decrease)


def _cd_solve(problem, theta, max_iter, tol, verbose, weights):
    value, grad, hess = problem.value_gradient(theta, curvature=True)
    total = value + _penalty(theta, weights)
    measure = problem.optimality(theta, grad)
    n_iter, stagnated, floor = 0, False, Stagnation(measure, PATIENCE)
    while measure > tol and n_iter < max_iter:
        n_iter += 1
        quadratic = _quadratic_solver(problem, hess)
        accepted = _proximal_newton_step(problem, theta, total, grad, quadratic, weights,
                                         max(tol, measure))  # fmt: skip
        if accepted is None:
            stagnated = True
            break
        previous = total
        theta, total, (grad, hess), t = accepted
        measure = problem.optimality(theta, grad)
        at_floor = floor.update(previous, total, measure)
        if verbose:
            print(f"cd iter {n_iter:3d}  objective {total:.12g}  kkt {measure:.3e}  "
                  f"non-zero {np.count_nonzero(theta)}  step {t:g}")  # fmt: skip
        if at_floor:
            stagnated = True
            break
    return SolverResult.finish(problem, theta, total, n_iter, measure, tol, stagnated)
