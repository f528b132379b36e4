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
from .._kernels._jit import compile_kernels, run, thread_count
from .._kernels.scaling import gather_columns
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
# Zero coordinates whose gradient is within NEAR of their threshold join the set
# at once -- except on a regularisation path, where the sequential strong rule
# (Tibshirani et al., 2012) says which: moving from alpha_k to alpha_{k+1}, a
# coordinate with |g_j| < 2 alpha_{k+1} - alpha_k at the last solution is
# expected to stay zero; ``fit_path`` sets ``problem.screen`` to that bound as a
# fraction of the new threshold.  Neither rule is trusted: every outer
# iteration's gradient covers all coordinates, so a coordinate they left out that
# breaks its optimality condition keeps the solver going and joins the set.
# Dense X whose full Hessian costs at least DENSE_SET_MIN_COST (n p^2) works on a
# working set when at most DENSE_SET_SHARE of the coordinates are non-zero or near
# their threshold: the Hessian of a columns costs n a^2, each check for entering
# ones 2 n p, and a round's Python overhead a few milliseconds.
DENSE_SET_MIN_COST = 10**8
DENSE_SET_SHARE = 0.3
# Reusing the last Hessian.  With Fisher weights h now and h0 where the Hessian
# H0 was formed, |h_i / h0_i - 1| <= delta for every row bounds its error,
# -delta H0 <= H - H0 <= delta H0, so a step on H0 still cuts the optimality
# violation by about delta per iteration, where a Newton step squares it.  Along
# a regularisation path consecutive points differ little, while forming the
# Hessian of dense X costs up to ten sweeps (a sweep reads n p numbers; the Gram
# matrix of a columns is n a^2 / 2 multiply-adds at BLAS speed, measured at
# GRAM_COST sweep-elements each, plus a pass to gather the columns of a working
# set).  The old Hessian is kept when the extra iterations it is expected to
# cost are cheaper than a new one (``_Curvature.reusable``).
GRAM_COST = 0.18
# Dense X with few coordinates in play (a regularisation path's first half, a
# strong penalty): each evaluation of the loss reads all of X (row-major, so
# reading some columns costs as much as reading all), while the solution only
# involves those columns.  The solver then works on a copy of them, at most
# COPY_SHARE of X (glmnet's active set, Friedman et al., 2010): Newton steps on
# that small problem cost a small fraction of a sweep, and one sweep of X at its
# solution checks every other coordinate.  The copy also takes the columns whose
# gradient is within GATHER_MARGIN of their threshold, which will enter soon, and
# is kept for the next points of a path.
COPY_SHARE = 0.25
GATHER_MARGIN = 0.5


def _near(problem):
    """The fraction of its threshold above which a zero coordinate joins the working set:
    the path's strong-rule bound, or NEAR; never above 1, which would keep out coordinates
    that break their conditions."""
    return min(problem.screen or NEAR, 1.0)


def _gram_cost(n_columns, n_features, gathered):
    """Forming the Gram matrix of ``n_columns`` (+ intercept) columns, in sweeps of X."""
    cost = GRAM_COST * (n_columns + 1) ** 2 / (2.0 * (n_features + 1))
    return cost + (1.0 if gathered else 0.0)


class _Curvature:
    """The data part of the last dense Hessian formed, kept for reuse along a solve or path.

    Held in ``problem._shared`` (so every ``with_penalty`` copy sees it) and
    stored unscaled -- ``(X - c)^T W (X - c)`` on the centred raw columns --
    so that it stays valid when the penalty changes the columns' scales (an
    L2 or elastic-net path): only the centres ``c`` must be the same.
    """

    def __init__(self):
        self.shift = self.columns = self.H = None
        self.inverse = self.positive = None  # of the Fisher weights h0 at H

    def reusable(self, problem, columns, h, measure, tol, weigh=True):
        """The stored Hessian on ``columns`` (+ intercept), raw, or None if a new one pays
        (``weigh=False``: whenever it covers them, however stale).

        ``columns`` is None for all of them.
        """
        if self.H is None or measure <= tol or not _same(self.shift, problem.scaling.shift):
            return None
        p = problem.n_features
        wanted = np.arange(p) if columns is None else columns
        place = np.full(p, -1)
        place[self.columns] = np.arange(self.columns.size)
        if np.any(place[wanted] < 0):
            return None
        index = np.append(place[wanted], self.columns.size)  # the intercept's row is last
        if not weigh:
            return self.H[np.ix_(index, index)]
        delta = float(K.relative_change(h, self.inverse, self.positive))
        if not delta < 0.5:
            return None
        # iterations to tol: about log(measure / tol) / log(1 / delta) on the old Hessian;
        # Newton's squaring needs one while measure^2 <= tol, else two
        stale = np.ceil(np.log(measure / tol) / np.log(1.0 / max(delta, 1e-16)))
        fresh = 1.0 if measure * measure <= tol else 2.0
        if stale > fresh + _gram_cost(wanted.size, p, columns is not None):
            return None
        return self.H[np.ix_(index, index)]

    def store(self, problem, columns, h, H):
        """Keep the raw ``H`` (intercept last) formed at weights ``h``."""
        self.shift = problem.scaling.shift
        self.columns = np.arange(problem.n_features) if columns is None else columns.copy()
        h = np.asarray(h, dtype=np.float64)
        positive = h > 0
        self.inverse = np.divide(1.0, h, out=np.zeros(h.size), where=positive)
        self.positive, self.H = positive.astype(np.float64), H


def _same(a, b):
    if a is None or b is None:
        return a is b
    return a is b or np.array_equal(a, b)


def _dense_hessian(problem, h, columns, measure, tol, weigh=True):
    """The Hessian's data part on ``columns`` (None: all) with intercept, internal units;
    the last one formed is reused when that pays (``_Curvature``; ``weigh=False``: always)."""
    curvature = problem._shared.setdefault("curvature", _Curvature())
    H = curvature.reusable(problem, columns, h, measure, tol, weigh)
    if H is None:
        # a copy of the columns in play, or a working set: kernels for a few columns
        narrow = getattr(problem, "narrow_sweeps", False) or columns is not None
        H = weighted_gram(problem.X, h, problem.scaling.shift, columns, narrow)
        curvature.store(problem, columns, h, H)
    scale = 1.0 / problem.scaling.scale
    if columns is not None:
        scale = scale[columns]
    scale = np.append(scale, 1.0)
    return H * np.outer(scale, scale) / problem.weight_sum


def _quadratic_solver(problem, hess_weights, measure, tol):
    """``solve(g, theta, l1, tol, z_out)`` for the quadratic model of the smooth part.

    Coordinate descent works on the Hessian matrix, or on a working set of its
    coordinates (``_working_set_solver``): always for sparse X with many
    features, and for dense X with enough features when few coordinates are
    in play (the start of a regularisation path, a strong penalty).  For dense
    X the last Hessian is reused while that is expected to pay (``_Curvature``).
    """
    X = problem.X
    distributed = getattr(problem, "distributed", False)  # the state is the Hessian's data part
    if sp.issparse(X) and problem.n_features > GRAM_MAX_FEATURES:
        return _working_set_solver(problem, hess_weights, measure, tol)
    if sp.issparse(X) or getattr(problem.loss, "constant_fisher", False) or distributed:
        full = None  # sparse X^T W X, or normal/identity: formed once per problem

        def solve_full(g, theta, l1, inner_tol, z):
            nonlocal full
            if full is None:
                full = problem.hessian(hess_weights)
            return K.cd_quadratic(full, g, theta, l1, MAX_SWEEPS, inner_tol, z)

        return solve_full

    def solve(g, theta, l1, inner_tol, z):
        p = problem.n_features
        if X.shape[0] * p**2 >= DENSE_SET_MIN_COST:
            in_play = (theta[:p] != 0) | (np.abs(g[:p]) > _near(problem) * l1[:p])
            if np.count_nonzero(in_play) <= DENSE_SET_SHARE * p:
                return _working_set_solver(problem, hess_weights, measure, tol)(
                    g, theta, l1, inner_tol, z)  # fmt: skip
        H = _dense_hessian(problem, hess_weights, None, measure, tol)
        if not problem.fit_intercept:
            H = H[:-1, :-1]
        H.flat[:: H.shape[0] + 1] += problem.l2_weights
        return K.cd_quadratic(H, g, theta, l1, MAX_SWEEPS, inner_tol, z)

    return solve


def _working_set_solver(problem, hess_weights, measure, tol):
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
    if sparse:
        hessian_of, curvature_along = _sparse_parts(problem, h)
    else:
        hessian_of, curvature_along = _dense_parts(problem, hess_weights, measure, tol), None

    def residual_solve(g, theta, l1, tol, z):
        X = getattr(problem, "_csc", None)
        if X is None:  # a copy of the non-zeros, once a fit, in internal units
            X = problem._csc = sp.csc_matrix(problem.X, dtype=np.float64, copy=True)
            X.data *= np.repeat(1.0 / problem.scaling.scale, np.diff(X.indptr))
        return K.cd_quadratic_sparse(X.indptr, X.indices, X.data, h, l2, g, theta, l1,
                                     intercept, MAX_SWEEPS, tol, z)  # fmt: skip

    near = _near(problem)

    def solve(g, theta, l1, tol, z):
        # zero coordinates close to breaking their condition join at once: a few
        # extra columns in the Gram matrix cost less than another round
        active = (theta[:p] != 0) | (np.abs(g[:p]) > near * l1[:p] + ENTER * tol)
        columns = np.flatnonzero(active)
        while True:
            if sparse and columns.size > WORKING_SET_MAX:
                return residual_solve(g, theta, l1, tol, z)
            index = np.append(columns, p) if intercept else columns
            H = hessian_of(columns)
            H.flat[:: H.shape[0] + 1] += l2[index]
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


def _dense_parts(problem, hess_weights, measure, tol):
    """``hessian_of(columns)`` for dense X (no entering check, see above)."""

    def hessian_of(columns):
        H = _dense_hessian(problem, hess_weights, columns, measure, tol)
        return H if problem.fit_intercept else H[:-1, :-1]

    return hessian_of


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
        if _copies_columns(problem):
            return _reduced_cd_solve(problem, theta, max_iter, tol, verbose, weights)
        return _cd_solve(problem, theta, max_iter, tol, verbose, weights)


def _copies_columns(problem):
    """Whether the solver may work on a copy of the columns in play (``COPY_SHARE``)."""
    X, p = problem.X, problem.n_features
    if sp.issparse(X) or getattr(problem.loss, "constant_fisher", False):
        return False
    if getattr(problem, "distributed", False):  # dask blocks: the columns stay on the workers
        return False
    return hasattr(problem, "restricted") and X.shape[0] * p**2 >= DENSE_SET_MIN_COST


class _ColumnCopy:
    """Columns of X copied for ``_reduced_cd_solve``, kept in ``problem._shared``.

    The copy is stored column by column (Fortran order) where the loss sweeps
    such columns with its vectorised kernel (``GLMLoss.sweeps_columns``: the
    pairs with stored y-terms, up to 32 columns; 2-3x faster sweeps than the
    same columns row by row), else C-ordered (the fused sweeps read it).  It
    lives at the start of one buffer per problem, ``COPY_SHARE`` of X's
    columns long, which every later copy reuses: a path's copies grow as
    columns enter, and fresh memory for each cost its page faults again (23 ms
    for 25 columns of 100k rows, measured here).  The buffer's untouched pages
    are never faulted in.  Writing a new copy overwrites the last one, which
    nothing uses any more.
    """

    def __init__(self, problem, columns):
        self.columns = columns
        self.mask = np.zeros(problem.n_features, dtype=bool)
        self.mask[columns] = True
        X = problem.X
        n, size = X.shape[0], X.shape[0] * columns.size
        buffer = problem._shared.get("copy_buffer")
        if buffer is None or buffer.size < size or buffer.dtype != X.dtype:
            buffer = problem._shared["copy_buffer"] = None  # the old one goes first
            capacity = max(size, n * int(COPY_SHARE * problem.n_features))
            buffer = problem._shared["copy_buffer"] = np.empty(capacity, X.dtype)
        if problem.loss.sweeps_columns(columns.size) and X.flags.c_contiguous:
            transposed = buffer[:size].reshape(columns.size, n)
            run(size, gather_columns, X, columns.astype(np.int64), transposed)
            self.X = transposed.T
        else:
            self.X = buffer[:size].reshape(n, columns.size)
            np.take(X, columns, axis=1, out=self.X, mode="clip")
        self.parent_scaling = self.scaling = self.shared = None

    def problem(self, problem):
        """``problem`` on these columns, sharing the kept Hessian with the earlier ones."""
        if self.parent_scaling is not problem.scaling:  # the kept Hessian stays valid
            self.parent_scaling = problem.scaling
            self.scaling = problem.scaling.restricted(self.columns)
            self.shared = {} if self.shared is None else self.shared
        return problem.restricted(self.X, self.scaling, self.shared)


def _column_copy(problem, wanted, soon):
    """A copy holding the ``wanted`` columns (and those ``soon`` in play), or None if too big."""
    p = problem.n_features
    limit = COPY_SHARE * p
    if not 0 < np.count_nonzero(wanted) <= limit:
        return None
    copy = problem._shared.get("column_copy")
    if copy is not None and not np.any(wanted & ~copy.mask):
        return copy
    columns = np.flatnonzero(wanted | soon)
    if columns.size > limit:
        columns = np.flatnonzero(wanted)
    copy = problem._shared["column_copy"] = None  # the old one goes before the new one comes
    copy = problem._shared["column_copy"] = _ColumnCopy(problem, columns)
    return copy


def _reduced_cd_solve(problem, theta, max_iter, tol, verbose, weights):
    """Proximal Newton on a copy of the columns in play, checked by sweeps of all of X.

    Each round solves the problem restricted to the copied columns (``_cd_solve``
    on ``GLMProblem.restricted``), then evaluates the whole problem once at that
    solution: done if every coordinate meets its condition, else the ones that
    break it are copied in and the round repeats.  When too many coordinates are
    in play for a copy, the rest of the solve runs on X itself.
    """
    p = problem.n_features
    value, grad, hess = problem.value_gradient(theta, curvature=True)
    total = value + _penalty(theta, weights)
    measure = problem.optimality(theta, grad)
    near = _near(problem)
    n_iter, stagnated = 0, False
    while measure > tol and n_iter < max_iter:
        l1 = weights[:p]
        wanted = (theta[:p] != 0) | (np.abs(grad[:p]) > near * l1 + ENTER * tol)
        copy = _column_copy(problem, wanted, np.abs(grad[:p]) > GATHER_MARGIN * l1)
        if copy is None:
            rest = _cd_solve(problem, theta, max_iter - n_iter, tol, verbose, weights)
            rest.n_iter += n_iter
            return rest
        index = np.append(copy.columns, p) if problem.fit_intercept else copy.columns
        restricted = copy.problem(problem)
        restricted.remember(theta[index], value, grad[index], hess)  # no sweep to start
        result = _cd_solve(restricted, theta[index], max_iter - n_iter, tol, verbose,
                           weights[index])  # fmt: skip
        n_iter += result.n_iter
        theta = np.zeros_like(theta)  # every non-zero coordinate was among the copied ones
        theta[index] = result.theta
        value, grad, hess = problem.value_gradient(theta, curvature=True)
        total = value + _penalty(theta, weights)
        measure = problem.optimality(theta, grad)
        if verbose:
            print(f"cd check  objective {total:.12g}  kkt {measure:.3e}  "
                  f"copied columns {copy.columns.size}")  # fmt: skip
        outside = ~copy.mask & (np.abs(grad[:p]) - weights[:p] > tol)
        if not result.converged or not outside.any():
            stagnated = result.stagnated  # stopped short on the copy: nothing to add
            break
    return SolverResult.finish(problem, theta, total, n_iter, measure, tol, stagnated)


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
        quadratic = _quadratic_solver(problem, hess, measure, tol)
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
