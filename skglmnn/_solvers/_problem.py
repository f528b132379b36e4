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

    def __init__(self, loss, X, y, sample_weight, offset, alpha, fit_intercept):
        self.loss = loss
        self.X, self.y, self.sample_weight, self.offset = X, y, sample_weight, offset
        self.alpha = float(alpha)
        self.fit_intercept = bool(fit_intercept)
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
        return value, grad, hess

    def hessian(self, hess_weights):
        """The Fisher Hessian of ``F`` from the per-sample weights, shape (n_params, n_params)."""
        H = self.loss.hessian(self.X, hess_weights)
        if not self.fit_intercept:
            H = H[:-1, :-1]
        H /= self.weight_sum
        H[np.diag_indices(self.n_features)] += self.alpha
        return H

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
