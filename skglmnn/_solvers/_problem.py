"""The one problem contract: a penalised GLM objective in internal coordinates.

Every solver minimises

.. math:: F(\\theta) = \\frac{1}{2\\sum_i w_i}\\sum_i w_i\\, d(y_i, \\mu_i)
          + \\frac{\\alpha}{2}\\lVert \\mathrm{coef}\\rVert_2^2
          + \\lambda_1 \\lVert \\mathrm{coef}\\rVert_1

(the intercept unpenalised, except for liblinear's ``intercept_penalty``)
through a :class:`Problem`, which owns the whole objective and reports, in the
solvers' internal coordinates ``theta``:

* ``value_gradient(theta, curvature)``: the smooth part (loss + L2) and its
  gradient, plus an opaque curvature state for ``hessian``;
* ``hessian(state)``: the Fisher Hessian of the smooth part;
* ``l1_weights``: the L1 strength of each entry of theta (None: no L1), and
  ``l2_weights`` the L2 strength (``F`` holds ``l2_weights . theta^2 / 2``);
* ``optimality(theta, grad)``: the largest violation of the optimality
  conditions (the gradient, or the minimal subgradient under L1) -- the one
  convergence measure every solver and the final check use;
* ``flat_directions()``: directions along which F is constant by construction
  (the softmax's "add one vector to every class").

``theta`` is the (m, p [+ 1]) matrix of the internal coefficients of the
standardised columns and the intercepts (last column), flattened; m = 1 for a
GLM with one linear predictor, m = K for the multinomial model.  Because the
columns are standardised (``_scaling.py``), the gradient is scale-free, and so
are the tolerance and the convergence rule.  ``to_original`` maps theta back
to ``(coef, intercept)``.

Dividing the loss by ``sum(w)`` makes ``alpha`` and ``tol`` independent of the
number of samples and makes integer weights exactly equivalent to repeated rows.
"""

import copy
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._kernels import codes as C
from .._kernels._jit import run
from .._kernels.cd import kkt_violation, shifted_intercept_outputs
from .._loss import (
    GLMLoss,
    MultinomialLoss,
    centred_matvec,
    multinomial_gram,
    weighted_gram,
)
from ._scaling import ColumnScaling


@dataclass
class SolverResult:
    """What every solver returns.

    Attributes
    ----------
    theta : ndarray
        Final parameters, internal coordinates (``Problem.to_original`` maps them back).
    loss : float
        Mean half deviance (the data part of F).
    penalty : float
        The penalty part of F (L2 and L1).
    n_iter : int
        Iterations (Newton steps, L-BFGS / OWL-QN iterations).
    converged : bool
        Whether the optimality measure met ``tol``.
    optimality : float
        The optimality measure at ``theta`` (``Problem.optimality``).
    stagnated : bool
        The solver stopped because no step could lower F in floating point.
    rank : int or None
        Rank of the Hessian when the Newton solver found it deficient (beyond
        the problem's flat directions), else None.
    """

    theta: np.ndarray
    loss: float
    penalty: float
    n_iter: int
    converged: bool
    optimality: float
    stagnated: bool = False
    rank: int | None = None

    @property
    def objective(self):
        """``F = loss + penalty``."""
        return self.loss + self.penalty

    @classmethod
    def finish(cls, problem, theta, total, n_iter, measure, tol, stagnated=False, rank=None):
        """The result at ``theta`` whose objective is ``total``, split into loss and penalty."""
        penalty = problem.penalty(theta)
        return cls(theta, total - penalty, penalty, n_iter, bool(measure <= tol), measure,
                   stagnated, rank)  # fmt: skip


def pseudo_gradient(theta, grad, weights):
    """The minimal-norm subgradient of ``f + sum_j weights_j |theta_j|`` given ``grad f``.

    ``grad + weights sign(theta)`` where theta is non-zero; at zero the
    subdifferential is ``[grad - w, grad + w]`` and its element nearest 0 is taken.
    """
    # at zero: the gradient soft-thresholded by the weight (the same numbers as
    # grad + w where that is below 0 and grad - w where that is above)
    shrunk = np.sign(grad) * np.maximum(np.abs(grad) - weights, 0.0)
    return np.where(theta == 0, shrunk, grad + weights * np.sign(theta))


class Problem:
    """Shared machinery of :class:`GLMProblem` and :class:`MultinomialProblem`.

    Subclasses provide ``_loss_gradient(coef, intercept, curvature)`` (the loss
    summed over samples and its (m, p + 1) gradient in ``(coef, intercept)``
    on the raw columns, intercept taken at ``x = shift``) and
    ``_raw_hessian(state)`` (the Fisher information of the summed loss in the
    centred raw columns, (m (p + 1))^2, classes outer).
    """

    n_outputs = 1
    # On a regularisation path: the sequential strong rule's bound for zero
    # coordinates, as a fraction of their L1 threshold (``_path.strong_rule_screen``).
    screen = None

    def _setup(self, X, sample_weight, alpha, l1, fit_intercept, intercept_penalty, precondition):
        self.X, self.sample_weight = X, sample_weight
        self._shared = {}  # what every with_penalty copy may reuse
        self.alpha, self.l1 = float(alpha), float(l1)
        self.fit_intercept = bool(fit_intercept)
        # liblinear penalises the intercept as the weight of a constant feature:
        # intercept_penalty / 2 * intercept^2 (plus l1_intercept |intercept|) join F
        self.intercept_penalty = float(intercept_penalty[0]) if fit_intercept else 0.0
        self.l1_intercept = float(intercept_penalty[1]) if fit_intercept else 0.0
        self.n_features = X.shape[1]
        self.weight_sum = self._total_weight(sample_weight)
        if not self.weight_sum > 0:
            raise ValueError("The sample weights sum to zero; at least one must be positive.")
        # centring needs an intercept that is free to absorb the shift
        centre = (self.fit_intercept and not sp.issparse(X)
                  and self.intercept_penalty == 0 and self.l1_intercept == 0)  # fmt: skip
        self.scaling = (self._column_scaling(X, sample_weight, centre)
                        if precondition else ColumnScaling.identity(self.n_features))  # fmt: skip
        self._set_weights()

    def _total_weight(self, sample_weight):
        if sample_weight is None:
            return float(self.X.shape[0])
        return float(sample_weight.sum(dtype=np.float64))

    def _column_scaling(self, X, sample_weight, centre):
        return ColumnScaling.of(X, sample_weight, centre, ridge=self.alpha)

    def _set_weights(self):
        q = self.n_features + self.fit_intercept
        l2 = np.zeros((self.n_outputs, q))
        l2[:, : self.n_features] = self.alpha / self.scaling.scale**2
        weights = np.zeros((self.n_outputs, q))
        weights[:, : self.n_features] = self.l1 / self.scaling.scale
        if self.fit_intercept:
            l2[:, -1], weights[:, -1] = self.intercept_penalty, self.l1_intercept
        self.l2_weights = l2.ravel()
        self.l1_weights = weights.ravel() if weights.any() else None

    def with_penalty(self, alpha, l1):
        """The same problem with L2 strength ``alpha`` and L1 strength ``l1`` on coef.

        No pass over X: the column moments are kept (``ColumnScaling.with_ridge``),
        X and the other inputs shared.  With the same L2 strength (a lasso path)
        the last evaluation is shared too: the next point starts without a sweep.
        For regularisation paths.
        """
        other = copy.copy(self)
        other.alpha, other.l1 = float(alpha), float(l1)
        if other.alpha != self.alpha:  # else the smooth part, its coordinates and memo stay
            other.scaling = self.scaling.with_ridge(other.alpha)
            other._memo = None
        other._set_weights()
        return other

    # -- parameters ---------------------------------------------------------
    @property
    def shape(self):
        """Shape of theta as a matrix: (m, p + fit_intercept)."""
        return self.n_outputs, self.n_features + self.fit_intercept

    @property
    def n_params(self):
        """Length of theta."""
        return self.n_outputs * (self.n_features + self.fit_intercept)

    def _internal(self, theta):
        matrix = np.reshape(theta, self.shape)
        if self.fit_intercept:
            return matrix[:, :-1], matrix[:, -1]
        return matrix, np.zeros(self.n_outputs)

    def to_original(self, theta):
        """``(coef, intercept)`` of shapes (m, p) and (m,) in X's units."""
        beta, b = self._internal(theta)
        return self.scaling.to_original(beta, b)

    def from_original(self, coef, intercept):
        """Internal theta from ``coef`` (m, p) and ``intercept`` (m,) in X's units."""
        coef = np.reshape(np.asarray(coef, dtype=np.float64), (self.n_outputs, self.n_features))
        intercept = np.reshape(np.asarray(intercept, dtype=np.float64), (self.n_outputs,))
        beta, b = self.scaling.to_internal(coef, intercept)
        return (np.column_stack([beta, b]) if self.fit_intercept else beta).ravel()

    def _kernel_parameters(self, theta):
        """``(coef, intercept at x = shift)``: what the kernels multiply X by."""
        beta, b = self._internal(theta)
        return beta / self.scaling.scale, b

    # -- objective ----------------------------------------------------------
    def value_gradient(self, theta, curvature=False):
        """The smooth part of F (loss + L2), its gradient, and a curvature state.

        Returns
        -------
        value : float
        gradient : ndarray of shape (n_params,)
        state : object or None
            What ``hessian`` needs (per-sample Fisher weights, or theta); None
            unless ``curvature``.
        """
        key = np.asarray(theta, dtype=np.float64).tobytes()
        memo = getattr(self, "_memo", None)
        if memo is not None and memo[0] == key and (memo[3] is not None or not curvature):
            # the same point again (the start, the returned point): one sweep saved
            return memo[1], memo[2].copy(), memo[3]
        value, grad, state = self._evaluate(theta, curvature)
        self._memo = (key, value, grad.copy(), state)
        return value, grad, state

    def remember(self, theta, value, grad, state):
        """Take an evaluation at ``theta`` made elsewhere as this problem's last one.

        For a restricted problem (``GLMProblem.restricted``) at a point where
        the whole problem was just evaluated: its value, its gradient's entries
        for the kept coordinates and its curvature state are this one's.
        """
        self._memo = (np.asarray(theta, dtype=np.float64).tobytes(), value,
                      np.array(grad, dtype=np.float64), state)  # fmt: skip

    def _evaluate(self, theta, curvature):
        coef, b = self._kernel_parameters(theta)
        loss, grad, state = self._loss_gradient(coef, b, curvature)
        grad = self.scaling.gradient_to_internal(grad) / self.weight_sum
        if not self.fit_intercept:
            grad = grad[:, :-1]
        grad = grad.ravel() + self.l2_weights * theta
        value = loss / self.weight_sum + 0.5 * float(self.l2_weights @ (theta * theta))
        return value, grad, state

    def penalty(self, theta):
        """The penalty part of F at ``theta`` (L2 and L1)."""
        value = 0.5 * float(self.l2_weights @ (theta * theta))
        if self.l1_weights is not None:
            value += float(self.l1_weights @ np.abs(theta))
        return value

    def objective(self, theta):
        """``(loss, penalty)`` at ``theta``: F is their sum."""
        value, _, _ = self.value_gradient(theta)
        penalty = self.penalty(theta)
        l2 = 0.5 * float(self.l2_weights @ (theta * theta))
        return value - l2, penalty

    def optimality(self, theta, grad):
        """Largest violation of the optimality conditions, in internal (scale-free) units."""
        if self.l1_weights is not None:
            theta = np.asarray(theta, dtype=np.float64)
            return float(run(theta.size, kkt_violation, theta, np.asarray(grad, np.float64),
                             self.l1_weights))  # fmt: skip
        return float(np.max(np.abs(grad), initial=0.0))

    def hessian(self, state):
        """The Fisher Hessian of the smooth part of F, (n_params, n_params).

        Where it does not depend on theta (normal family, identity link) it is
        formed once and shared by every ``with_penalty`` copy of the problem.
        """
        if getattr(self.loss, "constant_fisher", False):
            if "raw_hessian" not in self._shared:
                self._shared["raw_hessian"] = self._raw_hessian(state)
            H = self._shared["raw_hessian"].copy()
        else:
            H = self._raw_hessian(state)
        q = self.n_features + 1
        scale = np.tile(np.append(1.0 / self.scaling.scale, 1.0), self.n_outputs)
        H *= scale[:, None] * scale[None, :] / self.weight_sum
        if not self.fit_intercept:
            keep = np.ones(self.n_outputs * q, dtype=bool)
            keep[q - 1 :: q] = False
            H = H[np.ix_(keep, keep)]
        H.flat[:: H.shape[0] + 1] += self.l2_weights
        return H

    def flat_directions(self):
        """Orthonormal columns along which F is constant for every data set: (n_params, r)."""
        return np.zeros((self.n_params, 0))


def _key(coef, intercept):
    return np.asarray(coef, np.float64).tobytes() + np.asarray(intercept, np.float64).tobytes()


class GLMProblem(Problem):
    """The objective of a GLM with one linear predictor (any family and link).

    Parameters
    ----------
    loss : GLMLoss
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    sample_weight, offset : ndarray of shape (n_samples,) or None
    alpha : float
        L2 strength on coef.
    fit_intercept : bool
    l1 : float, default=0.0
        L1 strength on coef.
    intercept_penalty : (float, float), default=(0.0, 0.0)
        liblinear's L2 and L1 strengths on the intercept.
    precondition : bool, default=True
        Work on standardised columns (``_scaling.py``); False only to test that
        the change of variables changes nothing.
    """

    def __init__(self, loss, X, y, sample_weight, offset, alpha, fit_intercept, *, l1=0.0,
                 intercept_penalty=(0.0, 0.0), precondition=True):  # fmt: skip
        self.loss = loss
        self.y, self.offset = y, offset
        self._y_terms = [None]  # loss.y_terms(y), found once and shared by every copy
        # keep the per-sample gradient of the last evaluation (dense C-ordered X only)
        self.keeps_sample_gradient = False
        self._sample_gradient = None  # (kernel parameters, per-sample gradient) kept
        # sweeps and Hessians by the kernels for a few columns (``GLMLoss.loss_gradient``'s
        # ``narrow``): set on the copies a path sweeps a hundred times (``restricted``)
        self.narrow_sweeps = False
        self._setup(X, sample_weight, alpha, l1, fit_intercept, intercept_penalty, precondition)

    @property
    def uses_fused_sweep(self):
        """Whether the loss runs a one-sweep numba kernel (dense C-ordered X, or CSR)."""
        return self.loss.sweeps(self.X)

    def restricted(self, X_columns, scaling, shared):
        """The problem on some columns of X only, the others' coefficients held at zero.

        ``X_columns`` holds those columns (a copy), ``scaling`` their part of
        this problem's standardisation (``ColumnScaling.restricted``): the
        internal coordinates of the kept columns and the intercept are this
        problem's, so theta restricted to them maps across unchanged.
        ``shared`` replaces ``_shared`` (what copies of the restricted problem
        may share).
        """
        other = copy.copy(self)
        other.X, other.n_features, other.scaling = X_columns, X_columns.shape[1], scaling
        other._shared, other._memo = shared, None
        other.narrow_sweeps = True
        other._set_weights()
        return other

    def _loss_gradient(self, coef, intercept, curvature):
        deltas = np.empty(self.X.shape[0]) if self.keeps_sample_gradient else None
        loss, grad, hess = self.loss.loss_gradient(
            self.X, self.y, coef[0], float(intercept[0]), self.sample_weight, self.offset,
            curvature, shift=self.scaling.shift, y_terms=self._terms(), sample_gradient=deltas,
            narrow=self.narrow_sweeps,
        )  # fmt: skip
        if deltas is not None:
            self._sample_gradient = (_key(coef, intercept), deltas)
        return loss, grad[None, :], hess

    def _terms(self):
        """``loss.y_terms(y)``: what the loss computes from y alone, made once (or None)."""
        if self._y_terms[0] is None and self.loss.has_y_terms:
            self._y_terms[0] = self.loss.y_terms(self.y)
        return self._y_terms[0]

    def _raw_hessian(self, hess_weights):
        return weighted_gram(self.X, hess_weights, self.scaling.shift,
                             narrow=self.narrow_sweeps)  # fmt: skip

    def shift_intercept(self, theta):
        """``theta`` with its intercept moved to its optimum for the other coordinates held,
        the evaluation there taken as this problem's last (no sweep); or ``theta`` itself.

        With the log link and the Poisson or Gamma family, moving the intercept
        by ``delta`` scales every mean by ``exp(delta)``: the optimal ``delta``,
        and the loss, gradient, Fisher weights and per-sample gradients after
        the move, follow in closed form from the evaluation at ``theta`` and
        column sums that stay fixed (``X_c^T (w y)`` for Poisson, ``X_c^T w``
        for Gamma).  For the points of a regularisation path, whose predicted
        starts miss mostly in the intercept where columns enter (the quadratic
        model underestimates the mean of ``exp``).  Needs a free intercept
        and the per-sample gradient kept (``keeps_sample_gradient``).
        """
        pair = self.loss.pair
        if not (self.fit_intercept and self.intercept_penalty == 0 and self.l1_intercept == 0
                and pair in (C.POISSON_LOG, C.GAMMA_LOG) and self.keeps_sample_gradient):
            return theta  # fmt: skip
        value, grad, hess = self.value_gradient(theta, curvature=True)
        d = self.sample_gradient(theta)  # kept from that evaluation
        W = self.weight_sum
        fixed = self._shared.get("intercept_shift")
        if fixed is None:
            w = (np.ones(self.X.shape[0]) if self.sample_weight is None
                 else np.asarray(self.sample_weight, dtype=np.float64))  # fmt: skip
            v = w * np.asarray(self.y, dtype=np.float64) if pair == C.POISSON_LOG else w
            sums = np.asarray(self.X.T @ v, dtype=np.float64)
            if self.scaling.shift is not None:
                sums = sums - self.scaling.shift * v.sum()
            fixed = self._shared["intercept_shift"] = (v, sums / self.scaling.scale, v.sum())
        v, v_grad, v_sum = fixed
        sum_d = float(d.sum())
        with np.errstate(all="ignore"):
            if pair == C.POISSON_LOG:  # sum_i w mu_i exp(delta) = sum_i w y_i
                sum_mu = sum_d + v_sum  # sum_i w mu_i, from d = w (mu - y) in float64
                delta = np.log(v_sum / sum_mu)
                a, c = np.exp(delta), np.expm1(delta)  # d' = a d + c w y
                change = c * sum_mu - delta * v_sum
                h_factor = a  # Fisher weights w mu
            else:  # Gamma: sum_i w y_i / mu_i exp(-delta) = sum_i w
                ratio = W - sum_d  # sum_i w y_i / mu_i
                delta = np.log(ratio / v_sum)
                a, c = np.exp(-delta), -np.expm1(-delta)  # d' = a d + c w
                change = delta * v_sum + np.expm1(-delta) * ratio
                h_factor = 1.0  # Fisher weights w
        new_value = value + change / W
        if not (np.isfinite(new_value) and delta != 0
                and new_value <= value + 8 * np.finfo(float).eps * abs(value)):
            return theta  # fmt: skip
        p = self.n_features
        shifted = np.array(theta, dtype=np.float64)
        shifted[-1] += delta
        data = grad - self.l2_weights * theta  # the loss's part of the gradient
        new_grad = np.empty_like(data)
        new_grad[:p] = a * data[:p] + c * v_grad / W
        new_grad[p] = (a * sum_d + c * v_sum) / W
        new_grad += self.l2_weights * shifted
        new_d, new_hess = np.empty_like(d), np.empty_like(hess)
        run(0, shifted_intercept_outputs, d, v, hess, a, c, h_factor, new_d, new_hess)
        self.remember(shifted, new_value, new_grad, new_hess)
        self._sample_gradient = (_key(*self._kernel_parameters(shifted)), new_d)
        return shifted

    def sample_gradient(self, theta):
        """Per-sample ``w_i d loss_i / d eta_i`` at ``theta`` (dense X): the gradient of the
        summed loss in coef is ``(X - c)^T`` of it (``_loss.centred_rmatmat``)."""
        coef, intercept = self._kernel_parameters(theta)
        kept = self._sample_gradient
        if kept is not None and kept[0] == _key(coef, intercept):  # from the last evaluation
            return kept[1]
        if np.any(coef[0]):
            eta = centred_matvec(self.X, coef[0], self.scaling.shift, float(intercept[0]))
        else:  # the intercept alone (a path's null model): no read of X
            eta = np.full(self.X.shape[0], float(intercept[0]))
        if self.offset is not None:
            eta += self.offset
        y = np.asarray(self.y, dtype=np.float64)
        w = None if self.sample_weight is None else np.asarray(self.sample_weight, np.float64)
        return self.loss.pointwise(y, eta, w, y_terms=self._terms())[1]

    def linear_predictor(self, theta):
        """``eta`` at ``theta`` (offset included)."""
        coef, intercept = self.to_original(theta)
        return self.loss.linear_predictor(self.X, coef[0], intercept[0], self.offset)

    def initial_theta(self):
        """A starting point: coef = 0 and the intercept that fits the mean of y.

        ``intercept = g(mean y) - mean(offset)``, exact for a canonical link
        without features.  If that is outside the family's domain (an identity
        link with the Poisson family and no intercept, say), one weighted least
        squares step from ``mu = family.starting_mu(y)`` gives the start, as in
        R's ``glm``.
        """
        family, link = self.loss.family, self.loss.link
        theta = np.zeros(self.n_params)
        if self.fit_intercept:
            y_mean, shift = self._means()
            if not link.mu_interval.contains(y_mean):
                raise ValueError(
                    f"The weighted mean of y, {y_mean:g}, is outside the means the {link!r} "
                    f"link can reach, {link.mu_interval}: the maximum likelihood intercept "
                    "is infinite (e.g. all counts zero, or all outcomes in one class)."
                )
            with np.errstate(all="ignore"):
                theta[-1] = float(link.link(y_mean)) - shift
        if self._finite_value(theta):
            return theta
        theta = self._least_squares_start()
        if not self._finite_value(theta):
            raise ValueError(
                f"Could not find starting values for the {family!r} family with the {link!r} "
                f"link: the linear predictor leaves the link's valid range {link.eta_interval} "
                "at every point tried. Use another link or fit an intercept."
            )
        return theta

    def _finite_value(self, theta):
        return np.all(np.isfinite(theta)) and np.isfinite(self.value_gradient(theta)[0])

    def _means(self):
        """Weighted means of y and of the offset (0 without one)."""
        w = self.sample_weight
        y_mean = np.average(self.y, weights=w)
        return y_mean, (0.0 if self.offset is None else np.average(self.offset, weights=w))

    def _least_squares_start(self):
        """One weighted least-squares step from ``mu = starting_mu(y)``, in internal coordinates."""
        rhs, state = self._start_system()
        if rhs is None:
            return np.full(self.n_params, np.nan)
        rhs = self.scaling.gradient_to_internal(rhs[None, :].copy()) / self.weight_sum
        if not self.fit_intercept:
            rhs = rhs[:, :-1]
        H = self.hessian(state)
        return np.linalg.lstsq(H, rhs.ravel(), rcond=None)[0]

    def _start_system(self):
        """``(rhs, state)`` of the least-squares start: ``[X - c, 1]^T W target`` (raw) and the
        curvature state of its weights; ``(None, None)`` if the start leaves the domain."""
        bad, rhs, fisher = self.start_terms(self.X, self.y, self.sample_weight, self.offset,
                                            self.loss.family, self.loss.link,
                                            self.scaling.shift)  # fmt: skip
        return (None, None) if bad else (rhs, fisher.astype(self.X.dtype))

    @staticmethod
    def start_terms(X, y, sample_weight, offset, family, link, shift, y_mean=None):
        """``(bad, rhs, fisher)`` of the least-squares start on rows ``X`` (R's ``glm`` start).

        ``mu = starting_mu(y)`` (about the weighted mean ``y_mean`` of all rows,
        computed here if None), ``eta = g(mu)``, Fisher weights ``w h'(eta)^2 /
        V(mu)`` and ``rhs = [X - c, 1]^T (fisher * (eta - offset))``; ``bad`` when
        some eta or weight is not finite.
        """
        y = np.asarray(y, dtype=np.float64)
        with np.errstate(all="ignore"):
            mu = family.starting_mu(y, sample_weight, mean=y_mean)
            eta = link.link(mu)
            dmu = link.inverse_derivative(eta)
            fisher = dmu**2 / family.unit_variance(mu)
        if not np.all(np.isfinite(eta) & np.isfinite(fisher)):
            return True, None, None
        if sample_weight is not None:
            fisher = fisher * sample_weight
        target = eta if offset is None else eta - offset
        rhs = np.empty(X.shape[1] + 1)
        rhs[:-1] = np.asarray(X.T @ (fisher * target)).ravel()
        rhs[-1] = np.dot(fisher, target)
        if shift is not None:
            rhs[:-1] -= shift * rhs[-1]
        return False, rhs, fisher


class MultinomialProblem(Problem):
    """The multinomial (softmax) objective: K linear predictors, all K coefficient rows penalised.

    ``F = sum_i w_i (logsumexp(eta_i) - eta_{i, y_i}) / sum(w) + alpha / 2 ||coef||^2
    + l1 ||coef||_1``; the intercepts are free.  Same contract as
    :class:`GLMProblem`; theta is the (K, p [+ 1]) matrix flattened.
    """

    def __init__(self, X, y, sample_weight, alpha, fit_intercept, n_classes, *, l1=0.0,
                 precondition=True):  # fmt: skip
        self.loss = MultinomialLoss()
        self.y, self.offset = y, None
        self.n_outputs = int(n_classes)
        self.n_classes = self.n_outputs
        self._setup(X, sample_weight, alpha, l1, fit_intercept, (0.0, 0.0), precondition)

    @property
    def uses_fused_sweep(self):
        """Whether the loss runs the one-sweep numba kernel."""
        return self.loss.sweeps(self.X)

    def _loss_gradient(self, coef, intercept, curvature):
        shift = self.scaling.shift
        raw_intercept = intercept if shift is None else intercept - coef @ shift
        loss, grad = self.loss.loss_gradient(self.X, self.y, coef, raw_intercept,
                                             self.sample_weight)  # fmt: skip
        if shift is not None:  # the kernel's gradient is on the raw columns: centre it
            grad[:, :-1] -= np.outer(grad[:, -1], shift)
        return loss, grad, ((coef, intercept) if curvature else None)

    def _raw_hessian(self, state):
        coef, intercept = state
        return multinomial_gram(self.X, coef, intercept, self.sample_weight, self.scaling.shift)

    def _class_counts(self):
        return np.bincount(self.y.astype(np.intp), weights=self.sample_weight,
                           minlength=self.n_classes)  # fmt: skip

    def flat_directions(self):
        """"Add one vector to every class": flat in the coefficients without L2 or L1,
        and in the intercepts always (they are never penalised)."""
        q = self.shape[1]
        free = []
        if self.alpha == 0 and self.l1 == 0:
            free = list(range(self.n_features))
        if self.fit_intercept:
            free.append(q - 1)
        Q = np.zeros((self.n_params, len(free)))
        for column, j in enumerate(free):
            Q[j::q, column] = 1.0 / np.sqrt(self.n_outputs)
        return Q

    def initial_theta(self):
        """coef = 0; intercepts = centred log class frequencies (the fit without features)."""
        theta = np.zeros(self.shape)
        if self.fit_intercept:
            counts = self._class_counts()
            log_freq = np.log(np.maximum(counts, 1e-12) / counts.sum())
            theta[:, -1] = log_freq - log_freq.mean()
        return theta.ravel()


def make_problem(X, y, sample_weight, offset, *, family=None, link=None, n_classes=None,
                 alpha=0.0, l1=0.0, fit_intercept=True, intercept_penalty=(0.0, 0.0)):  # fmt: skip
    """The problem for a GLM (``family``, ``link``) or a K-class multinomial model."""
    if n_classes is not None and n_classes > 2:
        return MultinomialProblem(X, y, sample_weight, alpha, fit_intercept, n_classes, l1=l1)
    return GLMProblem(GLMLoss(family, link), X, y, sample_weight, offset, alpha, fit_intercept,
                      l1=l1, intercept_penalty=intercept_penalty)  # fmt: skip
