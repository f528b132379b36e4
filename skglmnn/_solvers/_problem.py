"""The penalised GLM objective in the packed parameter vector ``theta``.

``theta = [coef, intercept]`` (the intercept last, and absent when
``fit_intercept=False``).  The objective, as in scikit-learn's GLMs, is

.. math:: F(\\theta) = \\frac{1}{2\\sum_i w_i}\\sum_i w_i\\, d(y_i, \\mu_i)
          + \\frac{\\alpha}{2}\\lVert \\mathrm{coef}\\rVert_2^2,

with the intercept unpenalised.  Dividing by ``sum(w)`` makes ``alpha`` and
``tol`` independent of the number of samples and makes integer weights
exactly equivalent to repeated rows.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class SolverResult:
    """What a solver returns.

    Attributes
    ----------
    theta : ndarray
        Final parameters, ``[coef, intercept]`` (intercept last if fitted).
    objective : float
        ``F(theta)``.
    n_iter : int
        Iterations (Newton steps, L-BFGS iterations).
    converged : bool
        Whether the gradient tolerance was met.
    rank : int or None
        Rank of the Hessian at the solution when the Newton solver found it
        deficient, else None.
    """

    theta: np.ndarray
    objective: float
    n_iter: int
    converged: bool
    rank: int | None = None


class GLMProblem:
    """The objective ``F(theta)`` of one fit: data, loss, penalty and start.

    Parameters
    ----------
    loss : GLMLoss
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    sample_weight, offset : ndarray of shape (n_samples,) or None
    alpha : float
        L2 penalty strength.
    fit_intercept : bool
    """

    def __init__(
        self, loss, X, y, sample_weight, offset, alpha, fit_intercept, intercept_penalty=0.0
    ):
        self.loss = loss
        self.X, self.y, self.sample_weight, self.offset = X, y, sample_weight, offset
        self.alpha = float(alpha)
        self.fit_intercept = bool(fit_intercept)
        # liblinear penalises the intercept as the weight of a constant feature:
        # intercept_penalty / 2 * intercept^2 is added to F (0 for every other solver)
        self.intercept_penalty = float(intercept_penalty) if fit_intercept else 0.0
        self.n_features = X.shape[1]
        self.weight_sum = float(
            X.shape[0] if sample_weight is None else sample_weight.sum(dtype=np.float64)
        )
        if not self.weight_sum > 0:
            raise ValueError("The sample weights sum to zero; at least one must be positive.")

    @property
    def uses_fused_sweep(self):
        """Whether the loss runs the one-sweep numba kernel (dense C-ordered X)."""
        return self.loss.sweeps(self.X)

    @property
    def n_params(self):
        """Length of theta."""
        return self.n_features + self.fit_intercept

    def split(self, theta):
        """``(coef, intercept)`` from ``theta``."""
        if self.fit_intercept:
            return theta[:-1], float(theta[-1])
        return theta, 0.0

    def value_gradient(self, theta, hessian=False):
        """``F(theta)``, its gradient and, if asked, the per-sample Fisher weights.

        Returns
        -------
        value : float
        gradient : ndarray of shape (n_params,)
        hess_weights : ndarray of shape (n_samples,) or None
        """
        coef, intercept = self.split(theta)
        loss, grad, hess = self.loss.loss_gradient(
            self.X, self.y, coef, intercept, self.sample_weight, self.offset, hessian
        )
        grad /= self.weight_sum
        if not self.fit_intercept:
            grad = grad[:-1]
        grad[: self.n_features] += self.alpha * coef
        value = loss / self.weight_sum + 0.5 * self.alpha * float(coef @ coef)
        if self.intercept_penalty:
            grad[-1] += self.intercept_penalty * intercept
            value += 0.5 * self.intercept_penalty * intercept**2
        return value, grad, hess

    def hessian(self, hess_weights):
        """The Fisher Hessian of ``F`` from the per-sample weights, shape (n_params, n_params)."""
        H = self.loss.hessian(self.X, hess_weights)
        if not self.fit_intercept:
            H = H[:-1, :-1]
        H /= self.weight_sum
        H[np.diag_indices(self.n_features)] += self.alpha
        if self.intercept_penalty:
            H[-1, -1] += self.intercept_penalty
        return H

    def l2_diagonal(self):
        """The L2 part of F's Hessian, per parameter: alpha on coef, the intercept penalty."""
        diag = np.full(self.n_params, self.alpha)
        if self.fit_intercept:
            diag[-1] = self.intercept_penalty
        return diag

    def initial_theta(self):
        """A starting point: coef = 0 and the intercept that fits the mean of y.

        ``intercept = g(mean y) - mean(offset)``, exact for a canonical link
        without features.  If that is outside the family's domain (an identity
        link with the Poisson family and no intercept, say), one weighted least
        squares step from ``mu = family.starting_mu(y)`` gives the start, as in
        R's ``glm``.
        """
        family, link = self.loss.family, self.loss.link
        w = self.sample_weight
        theta = np.zeros(self.n_params)
        if self.fit_intercept:
            y_mean = np.average(self.y, weights=w)
            if not link.mu_interval.contains(y_mean):
                raise ValueError(
                    f"The weighted mean of y, {y_mean:g}, is outside the means the {link!r} "
                    f"link can reach, {link.mu_interval}: the maximum likelihood intercept "
                    "is infinite (e.g. all counts zero, or all outcomes in one class)."
                )
            shift = 0.0 if self.offset is None else np.average(self.offset, weights=w)
            with np.errstate(all="ignore"):
                theta[-1] = float(link.link(y_mean)) - shift
        value, _, _ = self.value_gradient(theta) if np.all(np.isfinite(theta)) else (np.inf, 0, 0)
        if np.isfinite(value):
            return theta
        theta = self._least_squares_start()
        value, _, _ = self.value_gradient(theta) if np.all(np.isfinite(theta)) else (np.inf, 0, 0)
        if not np.isfinite(value):
            raise ValueError(
                f"Could not find starting values for the {family!r} family with the {link!r} "
                f"link: the linear predictor leaves the link's valid range {link.eta_interval} "
                "at every point tried. Use another link or fit an intercept."
            )
        return theta

    def _least_squares_start(self):
        family, link = self.loss.family, self.loss.link
        y = np.asarray(self.y, dtype=np.float64)
        with np.errstate(all="ignore"):
            mu = family.starting_mu(y, self.sample_weight)
            eta = link.link(mu)
            dmu = link.inverse_derivative(eta)
            fisher = dmu**2 / family.unit_variance(mu)
        if not np.all(np.isfinite(eta) & np.isfinite(fisher)):
            return np.full(self.n_params, np.nan)
        if self.sample_weight is not None:
            fisher = fisher * self.sample_weight
        target = eta if self.offset is None else eta - self.offset
        H = self.loss.hessian(self.X, fisher.astype(self.X.dtype))
        rhs = np.empty(self.n_features + 1)
        rhs[:-1] = np.asarray(self.X.T @ (fisher * target)).ravel()
        rhs[-1] = np.dot(fisher, target)
        if not self.fit_intercept:
            H, rhs = H[:-1, :-1], rhs[:-1]
        H[np.diag_indices(self.n_features)] += self.alpha * self.weight_sum
        return np.linalg.lstsq(H, rhs, rcond=None)[0]


class MultinomialProblem:
    """The penalised multinomial objective in ``theta``, the (K, p [+ 1]) matrix flattened.

    ``F = sum_i w_i (logsumexp(eta_i) - eta_{i, y_i}) / sum(w) + alpha / 2 ||coef||^2``
    with all K coefficient vectors penalised (which makes them identifiable)
    and the intercepts not.  Same interface as :class:`GLMProblem` for L-BFGS.
    """

    def __init__(self, X, y, sample_weight, alpha, fit_intercept, n_classes):
        from .._loss import MultinomialLoss

        self.loss = MultinomialLoss()
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.alpha = float(alpha)
        self.fit_intercept = bool(fit_intercept)
        self.n_classes, self.n_features = n_classes, X.shape[1]
        self.weight_sum = float(
            X.shape[0] if sample_weight is None else sample_weight.sum(dtype=np.float64)
        )

    @property
    def uses_fused_sweep(self):
        """Whether the loss runs the one-sweep numba kernel."""
        return self.loss.sweeps(self.X)

    @property
    def shape(self):
        """Shape of theta as a matrix: (K, p + fit_intercept)."""
        return self.n_classes, self.n_features + self.fit_intercept

    @property
    def n_params(self):
        """Length of theta."""
        return self.n_classes * (self.n_features + self.fit_intercept)

    def split(self, theta):
        """``(coef, intercept)`` of shapes (K, p) and (K,)."""
        matrix = np.reshape(theta, self.shape)
        if self.fit_intercept:
            return matrix[:, :-1], matrix[:, -1]
        return matrix, np.zeros(self.n_classes)

    def value_gradient(self, theta, hessian=False):
        """``F(theta)`` and its gradient (flattened like theta); no Hessian weights."""
        coef, intercept = self.split(theta)
        loss, grad = self.loss.loss_gradient(self.X, self.y, coef, intercept, self.sample_weight)
        grad /= self.weight_sum
        grad[:, : self.n_features] += self.alpha * coef
        if not self.fit_intercept:
            grad = grad[:, :-1]
        value = loss / self.weight_sum + 0.5 * self.alpha * float(np.sum(coef * coef))
        return value, grad.ravel(), None

    def initial_theta(self):
        """coef = 0; intercepts = centred log class frequencies (the fit without features)."""
        theta = np.zeros(self.shape)
        if self.fit_intercept:
            counts = np.bincount(
                self.y.astype(np.intp), weights=self.sample_weight, minlength=self.n_classes
            )
            log_freq = np.log(np.maximum(counts, 1e-12) / counts.sum())
            theta[:, -1] = log_freq - log_freq.mean()
        return theta.ravel()
