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

from ._kernels._jit import run
from ._kernels.cd import anchor_bound, cd_quadratic
from ._loss import centred_rmatmat
from ._solvers import SOLVERS, PathChoice, cd
from ._solvers._problem import pseudo_gradient
from ._solvers._scaling import dense_moments
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
        Newton steps per point, a predicted start (``_Predictor``) counting as one.
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
    """Internal theta of the null model: coef = 0 and the best intercept (Newton in 1-D).

    Solved on the problem without its columns (``GLMProblem.restricted`` to none
    of them), whose evaluations read y, the weights and the offset but not X:
    three or four sweeps of all of X saved (10 ms on 100k x 100).
    """
    whole = np.zeros(problem.n_params)
    if not problem.fit_intercept:
        return whole
    if not (hasattr(problem, "restricted") and problem.n_outputs == 1):
        whole[-1] = problem.initial_theta()[-1]
        return _null_newton(problem, whole, tol, max_iter)
    none = np.arange(0)
    alone = problem.restricted(np.empty((problem.X.shape[0], 0), dtype=problem.X.dtype),
                               problem.scaling.restricted(none), {})  # fmt: skip
    whole[-1] = _null_newton(alone, alone.initial_theta(), tol, max_iter)[-1]
    return whole


def _null_newton(problem, theta, tol, max_iter):
    """Newton's method on the intercept (the last coordinate) from ``theta``."""
    theta = theta.copy()
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
    batches = _Batches.for_path(problem, alphas, l1_ratio, solver, max_iter, tol)
    predictor = _Predictor(tol)
    choice = PathChoice(solver)
    done, previous, k = n, problem, 0
    while k < n:
        taken = (batches.run(k, previous, theta, predictor)
                 if batches is not None and k > 0 else None)  # fmt: skip
        if taken:  # points k .. k + len(taken) - 1, solved on a copy of the columns in play
            for j, (point, theta, result) in enumerate(taken, start=k):
                coef, intercept = point.to_original(theta)
                coefs[j], intercepts[j] = coef[0], intercept[0]
                losses[j], n_iter[j], converged[j] = result.loss, result.n_iter, True
            previous = point
        else:
            alpha = alphas[k]
            point = previous.with_penalty(alpha * (1.0 - l1_ratio), alpha * l1_ratio)
            point.screen = strong_rule_screen(alphas[k - 1], alpha) if k > 0 else None
            if point.alpha != previous.alpha:  # other internal coordinates
                theta = point.from_original(coef, intercept)
                predictor.forget()
            # else theta as it is: the last evaluation there is reused (Problem.with_penalty)
            chosen = choice(point)
            start = (predictor.start(point, theta) if chosen == "cd" and k > 0
                     else predictor.unpredicted(theta))  # fmt: skip
            result = SOLVERS[chosen](point, start, max_iter, tol, 0)
            choice.solved(point, chosen, result)
            result.n_iter += predictor.stepped  # the predicted start is a Newton step too
            predictor.solved(result.theta)
            theta, previous = result.theta, point
            coef, intercept = point.to_original(theta)
            coefs[k], intercepts[k] = coef[0], intercept[0]
            losses[k], n_iter[k], converged[k] = result.loss, result.n_iter, result.converged
            if batches is not None:
                batches.observe(point, theta)
            taken = [None]
        if stop_early and null_half_deviance and null_half_deviance > 0:
            explained = 1.0 - losses[k : k + len(taken)] / null_half_deviance
            over = np.flatnonzero((explained >= DEVIANCE_EXPLAINED_MAX)
                                  & (np.arange(k, k + len(taken)) + 1 >= MIN_POINTS))  # fmt: skip
            if over.size:
                done = k + int(over[0]) + 1
                break
        k += len(taken)
    return Path(np.asarray(alphas, dtype=float), coefs, intercepts, losses, n_iter,
                converged).truncate(done)  # fmt: skip


class _Predictor:
    """Where the solve of the next path point starts: the last solution's Newton step at
    the new penalty, corrected by the error that step made at the last point.

    The cd solver's first iteration from the last solution ``theta_k`` would
    solve the quadratic model there with the new penalty and evaluate the
    result ``z`` -- the path's tangent, off by O(step^2) in the penalty; a
    second iteration is then the rule.  That error changes slowly along the
    path, so the one the same step made at the last point, ``theta_k - z_k``,
    is added to ``z`` (where ``z`` is non-zero and keeps its sign): the start is
    then O(step^3) from the solution.  Measured on 100k x 100 Poisson lasso
    paths (100 points to 1e-3 of alpha_max): in the second half the optimality
    measure at the start is 3-6e-7 against 1e-6 to 1e-5 at ``z``, within a
    tolerance of 1e-6, so those solves end after the one evaluation that checks
    the start; where alpha is large it is about 7x below ``z``'s (the measure is
    absolute, the steps in alpha large).  The problem's kept Hessian
    (``cd._Curvature``) serves the step, so predicting costs no pass over X;
    where the point is solved on a copy of the columns in play, the Hessian is
    first made to map the last step between solutions to the change
    of the gradient along it (a BFGS update, ``_secant_hessian``), which the
    kept one, formed some points back, does not: on the real-shaped table's
    path the steps ``z`` within tolerance went from 13 to 43 of 99 and the
    evaluations from 172 to 151.  The error itself drifts along the path, so
    three quarters of its last change are added to it (``EXTRAPOLATE``; all of
    it overshoots).  The error is recorded against the solution refined by one
    Newton step on the kept model (``_refined``), not against a start that was
    accepted as it was, which would feed predictions back into the next one.
    Where the solve is on a copy of the columns in play, the intercept of the
    start is then moved to its own optimum (``GLMProblem.shift_intercept``,
    the log link's closed form).  Path iterations, real-shaped table / iid
    columns: 147 / 174 with the correction alone, 141 / 164 with half the
    change extrapolated, 129 / 136 with the intercept moved, 116 / 132 with
    the refined errors.
    Lasso paths and the cd solver only: where the L2 part changes the columns'
    internal scales from point to point the correction is forgotten and the
    start is ``z`` alone.
    """

    EXTRAPOLATE = 0.75  # the share of the error's last change added to it

    def __init__(self, tol):
        self.tol = tol
        self.error = None  # theta_k - z_k of the last point, internal coordinates
        self.previous_error = None  # the same at the point before
        self.z = None  # the step of the point being solved
        self.last = None  # (index, theta, gradient) where the last start was taken
        self._hessian = None  # (raw kept Hessian, scaling, weight sum, internal Hessian)

    @property
    def stepped(self):
        """1 if the last start was a predicted step, else 0 (for iteration counts)."""
        return int(self.z is not None)

    def unpredicted(self, theta):
        """``theta`` itself as the start (no prediction made)."""
        self.z = None
        return theta

    def forget(self):
        """The internal coordinates changed: the last errors and step no longer apply."""
        self.error = self.previous_error = self.last = None

    def start(self, point, theta, index=None):
        """The start for ``point`` from the last solution ``theta`` (of the problem whose
        coordinates ``index`` of the whole theta these are; None: all)."""
        self.z = None
        value, grad, hess = point.value_gradient(theta, curvature=True)  # kept: no sweep
        measure = point.optimality(theta, grad)
        if not measure > self.tol or hess is None:
            return theta
        weights = point.l1_weights if point.l1_weights is not None else np.zeros(theta.size)
        z = np.empty(theta.size)
        # the kept Hessian whenever it is still valid: reuse's cost rule (``cd._Curvature``)
        # weighs the iterations a stale one costs, which the correction below mostly saves
        near = np.nextafter(self.tol, np.inf)
        last, self.last = self.last, (index, theta.copy(), grad.copy())
        secant = self._secant(last, index, theta, grad)
        if secant is not None:
            # a copy of the columns in play: the kept Hessian, made to agree with the
            # gradients along the path's last step
            H = self._secant_hessian(point, hess, *secant)
            run(0, cd_quadratic, H, grad, theta, weights, cd.MAX_SWEEPS,
                cd.INNER_TOL * self.tol, z)  # fmt: skip
        else:
            solve = cd._quadratic_solver(point, hess, near, self.tol)
            solve(grad, theta, weights, cd.INNER_TOL * self.tol, z)
        self.z, self.index = z, index
        if self.error is None:
            return z
        error = self.error if index is None else self.error[index]
        if self.previous_error is not None:  # half the error's last change, extrapolated
            previous = self.previous_error if index is None else self.previous_error[index]
            error = error + self.EXTRAPOLATE * (error - previous)
        start = z + error
        start[(z == 0) | (np.sign(start) != np.sign(z))] = 0.0
        return start

    def _refined(self, point, theta):
        """``theta`` moved by one proximal Newton step on the kept Hessian, its support kept.

        A solve that ends at its start (the start was within tolerance) returns
        the start itself, whose error is the predicted one: recorded as it is,
        the next error would be extrapolated from predictions, and the starts
        alternate between good and off.  One step from ``theta`` on the
        quadratic model -- the last evaluation and the kept Hessian, no sweep --
        brings it far nearer the exact solution.  Measured on the 100-point
        Poisson lasso paths of ``benchmarks/cv.py``: iterations 129 -> 116 on the
        real-shaped table, 136 -> 132 on iid columns (with ``EXTRAPOLATE`` 0.75,
        which without the step gave 133 and 145).
        """
        _, grad, hess = point.value_gradient(theta, curvature=True)  # kept: no sweep
        if hess is None or point.l1_weights is None:
            return theta
        H = self._kept_hessian(point, hess)
        z = np.empty(theta.size)
        run(0, cd_quadratic, H, grad, theta, point.l1_weights, cd.MAX_SWEEPS,
            0.01 * cd.INNER_TOL * self.tol, z)  # fmt: skip
        z[theta == 0] = 0.0
        return z if np.all(np.isfinite(z)) else theta

    def _kept_hessian(self, point, hess):
        """A copy of the kept Hessian of ``point``'s smooth part, however stale, in its
        internal units with the L2 part (one is formed where none is kept).

        Scaled once per kept Hessian and scaling, not at every use (a point's
        refinement and the next point's step use the same one)."""
        curvature = point._shared.get("curvature")
        cached = self._hessian
        if not (cached is not None and curvature is not None and cached[0] is curvature.H
                and cached[1] is point.scaling and cached[2] == point.weight_sum):
            near = np.nextafter(self.tol, np.inf)
            H = cd._dense_hessian(point, hess, None, near, self.tol, weigh=False)
            curvature = point._shared["curvature"]
            # valid while the kept one covers the same columns in the same order
            if np.array_equal(curvature.columns, np.arange(point.n_features)):
                self._hessian = (curvature.H, point.scaling, point.weight_sum, H)
            else:
                self._hessian = None
        else:
            H = cached[3]
        H = H.copy() if point.fit_intercept else H[:-1, :-1].copy()
        H.flat[:: H.shape[0] + 1] += point.l2_weights
        return H

    @staticmethod
    def _secant(last, index, theta, grad):
        """``(step, change, known)`` from the last start's ``(index, theta, gradient)`` to
        this one's, on this copy's coordinates ``index`` (``known``: the change of the
        gradient is known there, the coordinate was in the last copy too); None where
        there is none (no copies)."""
        if index is None or last is None or last[0] is None:
            return None
        before, theta_before, grad_before = last
        where = np.minimum(np.searchsorted(before, index), before.size - 1)
        known = before[where] == index  # both sorted, the intercept's index last
        previous = np.zeros_like(theta)
        previous[known] = theta_before[where[known]]
        change = np.zeros_like(grad)
        change[known] = grad[known] - grad_before[where[known]]
        # a coordinate new to the copy was zero at both solutions: the step has none
        return theta - previous, change, known

    def _secant_hessian(self, point, hess, step, change, known):
        """The Hessian of ``point``'s smooth part (the kept one where still valid) after
        the BFGS update that makes it map the last ``step`` between solutions to the
        ``change`` of the gradient along it: the path moves on in that direction, where
        a stale Hessian's error mattered most.  Where the change is not ``known`` (a
        column new to the copy) the Hessian's own prediction stands in.  Left as it is
        if the curvature along the step is not positive."""
        # the kept Hessian however stale (no pass over the samples to weigh it): the
        # update below corrects it along the path, and the solve checks the start
        H = self._kept_hessian(point, hess)
        Hs = H @ step
        change = np.where(known, change, Hs)
        along, secant = float(step @ Hs), float(change @ step)
        if along > 0 and secant > 0:
            H += np.outer(change, change) / secant - np.outer(Hs, Hs) / along
        return H

    def solved(self, theta, full=None, point=None):
        """Record the solution ``theta`` of the point just solved (``full``: the same as a
        whole theta, when ``start`` was given an ``index``; ``point``: its problem, whose
        last evaluation is at ``theta``, to refine it by -- see ``_refined``)."""
        self.previous_error = self.error
        if self.z is None:
            self.error = None
            return
        if point is not None:
            theta = self._refined(point, theta)
        error = theta - self.z
        if self.index is not None:
            whole = np.zeros_like(full)
            whole[self.index] = error
            error = whole
        self.error = error


class _Batches:
    """Consecutive lasso / elastic-net path points solved on a copy of the columns in play,
    then checked together by one read of X.

    On dense X with few coordinates in play, the cd solver already works on a
    copy of those columns (``cd.COPY_SHARE``); what remains of a point's cost
    is the read of all of X that checks the other coordinates' optimality --
    most of a path's time when each of a hundred points needs one.  Here a
    batch of points is solved on the copy one after another, each leaving its
    per-sample derivatives ``w_i d loss_i / d eta_i`` (a column of an n x k
    matrix ``D``), and ``(X - c)^T D`` -- one read of X for the whole batch,
    ``_loss.centred_rmatmat`` -- gives every point's full gradient: each
    point's optimality is measured on the whole problem, as a fit's is.  The
    points are taken up to the first that fails; the columns that broke their
    conditions there join the copy and the batch is solved again from the
    last point taken.  Where too many columns are in play for a copy, the path
    goes on point by point on X (``fit_path``).

    Which columns the copy needs: those in play, and the zero ones whose
    gradient may reach its threshold within the batch.  The sequential strong
    rule (Tibshirani et al., 2012) bounds a zero column's gradient, in units
    of alpha, by its last value plus the step in alpha (a slope of one); over
    several points that bound soon admits every column.  Here each column's
    slope is measured instead, over the points already taken, and the bound
    uses twice that (the strong rule's slope of one until a slope has been
    seen): a column it leaves out wrongly is found by the check, at the cost
    of solving the rest of the batch again.
    """

    # points per check: at most MAX_POINTS, and D at most MEMORY_SHARE of X's memory
    MAX_POINTS = 32
    MEMORY_SHARE = 0.25
    ROUNDS = 3  # tries at a batch, each with the columns the last check found breaking
    SLOPE_SAFETY = 2.0  # the slope assumed for a column: this times the one measured
    ENTRY = 0.9  # a column joins when its bound reaches this fraction of the threshold

    def __init__(self, problem, alphas, l1_ratio, max_iter, tol):
        self.problem, self.alphas, self.l1_ratio = problem, alphas, l1_ratio
        self.max_iter, self.tol = max_iter, tol
        n, p = problem.X.shape
        self.most = int(max(1, min(self.MAX_POINTS, self.MEMORY_SHARE * p)))
        self.size = self.most  # the next batch's number of points
        # |gradient in coef| / l1_ratio (alpha's units) at the last point taken, at alpha `at`
        self.score, self.at = None, None
        self.slope = np.ones(p)  # the assumed d score / d(-alpha) of each column
        self.forced = np.zeros(p, dtype=bool)  # columns a check found breaking their conditions
        self.last = None  # the last restricted problem solved
        self.anchors = _Anchors(problem)  # bounds that spare reads of X

    @classmethod
    def for_path(cls, problem, alphas, l1_ratio, solver, max_iter, tol):
        """The batches of a path, or None where they do not apply (only the cd solver's
        column copies are batched: dense X, large enough, not the normal family)."""
        if not l1_ratio > 0 or len(alphas) < 3 or problem.n_outputs != 1:
            return None
        if solver not in ("auto", "cd") or not cd._copies_columns(problem):
            return None
        return cls(problem, alphas, l1_ratio, max_iter, tol)

    def _update(self, raw, alpha):
        """Take the raw gradient ``raw`` (X's units, per unit weight) at ``alpha``."""
        score = np.abs(raw) / self.l1_ratio
        if self.score is not None and self.at > alpha:
            measured = (score - self.score) / (self.at - alpha)
            self.slope = self.SLOPE_SAFETY * np.maximum(measured, 0.0)
        self.score, self.at = score, alpha

    def observe(self, point, theta):
        """Take the gradient at a point solved on all of X (its last evaluation, kept);
        the null model's is the anchors' first (``_Anchors``)."""
        _, grad, _ = point.value_gradient(theta)
        p = self.problem.n_features
        raw = grad[:p] * point.scaling.scale
        self._update(raw, point.l1 / self.l1_ratio)
        self.size = max(1, self.size // 2)
        if self.anchors.count == 0 and not np.any(theta[:p]):
            # the intercept alone: its per-sample gradient needs no read of X, and
            # the first batch's points, near it, may need none either
            self.anchors.add(point.sample_gradient(theta)[:, None], raw[:, None])

    def _columns(self, k, coef):
        """``(size, wanted, soon)``: the points to solve and the columns they need."""
        p, alphas = self.problem.n_features, self.alphas
        size = min(self.size, self.most, len(alphas) - k)
        nonzero = (coef != 0) | self.forced
        while size >= 1:
            end = alphas[k + size - 1]
            reach = self.score + self.slope * (self.at - end)  # the bound at the batch's end
            wanted = nonzero | (reach > self.ENTRY * end)
            if np.count_nonzero(wanted) <= cd.COPY_SHARE * p:
                return size, wanted, reach > cd.GATHER_MARGIN * end
            size //= 2
        return 0, None, None

    def run(self, k, previous, theta, predictor):
        """Solve and check the points from ``k`` on, starting from ``theta`` at ``previous``
        (the point before ``k``; each solve starts where ``predictor`` says): a list of
        ``(point, theta, result)`` for those taken (possibly none: then ``fit_path``
        solves point ``k`` on all of X)."""
        if self.score is None:
            return None
        for _ in range(self.ROUNDS):
            coef, _ = previous.to_original(theta)
            size, wanted, soon = self._columns(k, coef[0])
            if size == 0:
                return None
            if not wanted.any():  # nothing in play yet: the column nearest its threshold
                wanted[np.argmax(self.score)] = True
            copy = cd._column_copy(previous, wanted, soon)
            if copy is None:
                return None
            error = predictor.error
            taken = self._check(self._solve(k, size, copy, previous, theta, predictor), copy)
            # the error at the last point taken (as before the batch if none was)
            predictor.error = taken[-1][3] if taken else error
            if taken or not self.forced.any():
                return [item[:3] for item in taken]
        return None

    def _solve(self, k, size, copy, previous, theta, predictor):
        """Points ``k`` to ``k + size - 1`` on ``copy``, each from the last (stops at one
        that does not converge), each with its per-sample derivatives."""
        l1_ratio, p = self.l1_ratio, self.problem.n_features
        index = np.append(copy.columns, p) if previous.fit_intercept else copy.columns
        solved = []
        for m in range(size):
            alpha = self.alphas[k + m]
            point = previous.with_penalty(alpha * (1.0 - l1_ratio), alpha * l1_ratio)
            point.screen = strong_rule_screen(self.alphas[k + m - 1], alpha)
            if point.alpha != previous.alpha:  # other internal coordinates
                theta = point.from_original(*previous.to_original(theta))
                predictor.forget()
            restricted = copy.problem(point)
            last = self.last
            if last is not None and last.X is restricted.X and last.alpha == restricted.alpha:
                # the same smooth part: its last evaluation holds
                restricted._memo, restricted._sample_gradient = last._memo, last._sample_gradient
            restricted.keeps_sample_gradient = True  # for D: no sweep of its own
            self.last = restricted
            start = predictor.start(restricted, theta[index], index)
            _, grad, _ = restricted.value_gradient(start, curvature=True)  # the solve's first
            if restricted.optimality(start, grad) > self.tol:
                start = restricted.shift_intercept(start)
            result = cd._cd_solve(restricted, start, self.max_iter, self.tol, 0,
                                  restricted.l1_weights)  # fmt: skip
            result.n_iter += predictor.stepped
            theta = np.zeros_like(theta)
            theta[index] = result.theta
            predictor.solved(result.theta, theta, restricted)
            # the last evaluation's own array (each evaluation fills a new one): no copy
            d = restricted.sample_gradient(result.theta)
            solved.append((point, theta, result, predictor.error, d))
            previous = point
            if not result.converged:
                break
        return solved

    def _check(self, solved, copy):
        """The points of ``solved`` up to the first whose optimality on all of X fails.

        Leading points whose conditions the anchors' bounds prove (``_Anchors``) are
        taken without reading X; the rest are checked by one read of X, which also
        gives the anchors their next members.
        """
        problem, p = self.problem, self.problem.n_features
        taken, raw_last = [], None
        for point, theta, result, error, d in solved:
            approx = self._certified(point, result, copy, d)
            if approx is None:
                break
            taken.append((point, theta, result, error))
            raw_last = approx
        m = len(taken)
        if m < len(solved):  # the rest: one read of X
            columns = np.column_stack([item[4] for item in solved[m:]])
            raw, sums = centred_rmatmat(problem.X, columns, problem.scaling.shift)
            raw /= problem.weight_sum
            self.anchors.add(columns, raw)
            for i, (point, theta, result, error, _) in enumerate(solved[m:]):
                grad = raw[:, i] / point.scaling.scale
                if point.fit_intercept:
                    grad = np.append(grad, sums[i] / problem.weight_sum)
                grad += point.l2_weights * theta
                if point.optimality(theta, grad) > self.tol:
                    violated = pseudo_gradient(theta, grad, point.l1_weights)[:p] != 0
                    self.forced = violated & ~copy.mask
                    self.size = max(1, m + i)
                    break
                taken.append((point, theta, result, error))
                raw_last = raw[:, i]
        if len(taken) == len(solved):
            self.forced[:] = False
            self.size = min(self.most, 2 * len(solved))
        if taken:
            self._update(raw_last, taken[-1][0].l1 / self.l1_ratio)
        return taken

    def _certified(self, point, result, copy, d):
        """The raw gradient's estimate at a point solved on ``copy`` whose per-sample
        gradient is ``d``, if the anchors' bounds prove every column outside the copy
        meets its condition (the copy's own were met by its solve); else None."""
        if not result.converged:
            return None
        approx, bound = self.anchors.bound(d)
        if approx is None:
            return None
        p, out = self.problem.n_features, ~copy.mask
        largest = (np.abs(approx[out]) + bound[out]) / point.scaling.scale[out]
        excess = largest - point.l1_weights[:p][out]
        return approx if float(np.max(excess, initial=0.0)) <= self.tol else None


class _Anchors:
    """Per-sample gradients whose full gradients an exact read of X found, kept to bound
    the full gradients of others without reading X.

    A point's full gradient in X's units is ``g = (X - c)^T d / W`` (``d`` its
    per-sample gradient, ``W`` the weight sum).  Given anchors ``D_a`` (n x A)
    with ``G_a = (X - c)^T D_a / W`` known, any coefficients ``a`` split
    ``d = D_a a + r``, and exactly ``g = G_a a + (X - c)^T r / W``.  By
    Cauchy-Schwarz, with the sample weights ``w`` (``r`` is zero where ``w``
    is, as every per-sample gradient is),

        |(x_j - c_j)^T r| <= sqrt(sum_i w_i (x_ij - c_j)^2) sqrt(sum_i r_i^2 / w_i),

    whose first factor is found once, by a pass over X about ``c``.  ``a`` is the
    weighted least-squares fit of ``d`` on the anchors: along a path the
    per-sample gradients move smoothly, so a few anchors leave a residual
    orders of magnitude below ``d`` and the bound is tight.  Measured on the
    100-point Poisson lasso path of the real-shaped 100k x 100 table, with one
    anchor ten points back the bound proved every zero column's condition for
    the first 80 points, where the copy's columns are a handful.  The bound
    holds whatever ``a`` is (``r`` is computed from it), so only rounding
    needs a margin: ``ROUNDING`` times ``n`` units in the last place of the
    norms involved, far above what the sums in ``G_a`` and ``r`` can lose.
    """

    SIZE = 4  # anchors kept
    ROUNDING = 4.0  # units in the last place per row, in the bound's margin

    def __init__(self, problem):
        n, p = problem.X.shape
        w = problem.sample_weight
        self.problem = problem
        self.inverse_weight = (np.empty(0) if w is None else
                               np.divide(1.0, w, out=np.zeros(n), where=np.asarray(w) > 0))
        self.column_norm = None  # found with the first anchors
        self.margin = self.ROUNDING * max(n, 1) * np.finfo(np.float64).eps
        self.D = np.empty((self.SIZE, n))  # the anchors' per-sample gradients, one per row
        self.G = np.zeros((p, self.SIZE))
        self.norms = np.zeros(self.SIZE)  # weighted norms of the anchors
        self.count = 0
        self.solve = None  # the pseudo-inverse of the anchors' weighted Gram matrix
        self.work = np.empty(n)

    def _column_norms(self):
        """``sqrt(sum_i w_i (x_ij - c_j)^2) / W`` per column, with a margin of 1e-6: from the
        bound on the columns' mean squares the standardisation found
        (``ColumnScaling.spread_bound``), else from one pass over X taken about ``c``
        itself (no digits lost to cancellation)."""
        problem = self.problem
        p, shift = problem.n_features, problem.scaling.shift
        bound = problem.scaling.spread_bound
        if bound is not None:
            W = problem.weight_sum
            return np.sqrt(np.maximum(bound, 0.0) * W) / W * (1.0 + 1e-6)
        w = problem.sample_weight
        w = np.empty(0) if w is None else np.asarray(w, dtype=np.float64)
        centre = np.zeros(p) if shift is None else shift
        _, _, squares, _ = dense_moments(problem.X, w, centre)
        return np.sqrt(np.maximum(squares, 0.0)) / problem.weight_sum * (1.0 + 1e-6)

    def add(self, columns, raw):
        """Take per-sample gradients ``columns`` (n x k) with their exact raw gradients
        ``raw`` (p x k): up to ``SIZE`` of them, evenly spread, the last always."""
        if self.column_norm is None:
            self.column_norm = self._column_norms()
        k = columns.shape[1]
        picks = np.unique(np.linspace(0, k - 1, min(k, self.SIZE)).round().astype(int))
        keep = min(self.count, self.SIZE - picks.size)  # the newest of the old ones
        if keep:
            self.D[:keep] = self.D[self.count - keep : self.count]
            self.G[:, :keep] = self.G[:, self.count - keep : self.count]
        self.D[keep : keep + picks.size] = columns[:, picks].T
        self.G[:, keep : keep + picks.size] = raw[:, picks]
        self.count = keep + picks.size
        A = self.D[: self.count]
        gram = A @ (A * self.inverse_weight if self.inverse_weight.size else A).T
        self.solve = np.linalg.pinv(gram, rcond=1e-12, hermitian=True)
        self.norms[: self.count] = np.sqrt(np.maximum(np.diag(gram), 0.0))

    def bound(self, d):
        """``(approx, bound)``: the raw gradient at per-sample gradient ``d`` is within
        ``bound`` of ``approx`` in every column (None, None without anchors).

        Two passes over the samples in one compiled call (``anchor_bound``)."""
        if self.count == 0:
            return None, None
        A, k = self.D[: self.count], self.count
        d = np.ascontiguousarray(d, dtype=np.float64)
        a, squares, d_squares = run(0, anchor_bound, A, d, self.inverse_weight, self.solve,
                                    self.work)  # fmt: skip
        residual = np.sqrt(squares)
        scale = np.sqrt(d_squares) + float(np.abs(a) @ self.norms[:k])
        if not (np.isfinite(residual) and np.isfinite(scale)):
            return None, None
        approx = self.G[:, :k] @ a
        return approx, self.column_norm * (residual + self.margin * scale)


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
