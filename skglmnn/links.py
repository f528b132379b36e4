"""Link functions: g maps the mean mu to the linear predictor eta.

Conventions, stated once: ``eta = g(mu)`` and ``mu = h(eta)`` with
``h = g^-1``.  The inverse link ``h`` is what a neural network calls the
activation of a node (``skglmnn.activations`` gives each one its activation
name).  ``link`` is written with NumPy/SciPy; ``inverse`` and
``inverse_derivative`` run the compiled scalar kernels of
``skglmnn._kernels.links``, the very formulas the solvers use.
"""

from abc import ABC, abstractmethod

import numpy as np
from scipy import special

from ._domain import NEGATIVE, POSITIVE, REAL_LINE, UNIT_OPEN, Interval
from ._kernels import codes as C
from ._kernels._jit import run
from ._kernels.links import inverse_link_array
from ._registry import lookup


class Link(ABC):
    """Base class of link functions: ``eta = g(mu)``, ``mu = h(eta) = g^-1(eta)``.

    A subclass sets the class attributes below and writes ``link``; the inverse
    and its derivative come from the compiled kernels through ``code``.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"logit"``.
    code : int
        Integer code of the link in the compiled kernels.
    power : float
        The link's parameter (power link exponent, negative binomial alpha), or 0.
    mu_interval : Interval
        Means the link accepts.
    eta_interval : Interval
        Linear predictors that ``inverse`` maps into ``mu_interval``.
    activation : str
        The name of ``h`` as an activation function.
    """

    name = "link"
    code = -1
    power = 0.0
    mu_interval = REAL_LINE
    eta_interval = REAL_LINE
    activation = ""

    @abstractmethod
    def link(self, mu):
        """The link function ``eta = g(mu)``.

        Parameters
        ----------
        mu : array-like
            Means inside ``mu_interval``.

        Returns
        -------
        eta : ndarray
            Linear predictor, same shape as ``mu``.
        """

    def inverse(self, eta):
        """The inverse link (activation) ``mu = h(eta)``.

        Parameters
        ----------
        eta : array-like
            Linear predictor.

        Returns
        -------
        mu : ndarray
            Means, same shape and float dtype as ``eta``.
        """
        mu, _ = self._evaluate(eta, derivative=False)
        return mu

    def inverse_derivative(self, eta):
        """The derivative ``h'(eta) = d mu / d eta``.

        Parameters
        ----------
        eta : array-like
            Linear predictor.

        Returns
        -------
        dmu : ndarray
            Same shape and float dtype as ``eta``.
        """
        _, dmu = self._evaluate(eta, derivative=True)
        return dmu

    def _evaluate(self, eta, derivative):
        eta = np.asarray(eta)
        if eta.dtype not in (np.float32, np.float64):
            eta = eta.astype(np.float64)
        flat = np.ascontiguousarray(eta).ravel()
        mu = np.empty_like(flat)
        dmu = np.empty_like(flat) if derivative else np.empty(0, dtype=flat.dtype)
        run(flat.size, inverse_link_array, self.code, float(self.power), flat, mu, dmu)
        return mu.reshape(eta.shape), (dmu.reshape(eta.shape) if derivative else None)

    @property
    def maps_real_line(self):
        """Whether every real eta gives a valid mean (no constraint on coef)."""
        return self.eta_interval == REAL_LINE

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __eq__(self, other):
        return type(self) is type(other) and self.power == other.power

    def __hash__(self):
        return hash((type(self).__name__, self.power))


class IdentityLink(Link):
    """Identity link, ``g(mu) = mu``; its inverse is the identity activation."""

    name, code, activation = "identity", C.IDENTITY, "identity"

    def link(self, mu):
        return np.asarray(mu, dtype=float) * 1.0


class LogLink(Link):
    """Log link, ``g(mu) = log(mu)``; its inverse is the exponential activation."""

    name, code, activation = "log", C.LOG, "exp"
    mu_interval = POSITIVE

    def link(self, mu):
        return np.log(mu)


class LogitLink(Link):
    """Logit link, ``g(mu) = log(mu / (1 - mu))``; inverse: the logistic sigmoid."""

    name, code, activation = "logit", C.LOGIT, "logistic"
    mu_interval = UNIT_OPEN

    def link(self, mu):
        return special.logit(mu)


class ProbitLink(Link):
    """Probit link, ``g(mu) = Phi^-1(mu)``; inverse: the standard normal CDF."""

    name, code, activation = "probit", C.PROBIT, "normal_cdf"
    mu_interval = UNIT_OPEN

    def link(self, mu):
        return special.ndtri(mu)


class CLogLogLink(Link):
    """Complementary log-log link, ``g(mu) = log(-log(1 - mu))``.

    Its inverse ``1 - exp(-exp(eta))`` is the CDF of the Gumbel distribution
    of minima.
    """

    name, code, activation = "cloglog", C.CLOGLOG, "gumbel_min_cdf"
    mu_interval = UNIT_OPEN

    def link(self, mu):
        return np.log(-np.log1p(-np.asarray(mu, dtype=float)))


class LogLogLink(Link):
    """Log-log link, ``g(mu) = -log(-log(mu))``; inverse: the Gumbel CDF."""

    name, code, activation = "loglog", C.LOGLOG, "gumbel_cdf"
    mu_interval = UNIT_OPEN

    def link(self, mu):
        return -np.log(-np.log(mu))


class CauchitLink(Link):
    """Cauchit link, ``g(mu) = tan(pi (mu - 1/2))``; inverse: the Cauchy CDF."""

    name, code, activation = "cauchit", C.CAUCHIT, "cauchy_cdf"
    mu_interval = UNIT_OPEN

    def link(self, mu):
        return np.tan(np.pi * (np.asarray(mu, dtype=float) - 0.5))


class InverseLink(Link):
    """Inverse link, ``g(mu) = 1 / mu`` (canonical for the gamma family)."""

    name, code, activation = "inverse", C.INVERSE, "reciprocal"
    mu_interval = POSITIVE
    eta_interval = POSITIVE

    def link(self, mu):
        return 1.0 / np.asarray(mu, dtype=float)


class InverseSquaredLink(Link):
    """Inverse squared link, ``g(mu) = 1 / mu^2`` (canonical for inverse Gaussian)."""

    name, code, activation = "inverse_squared", C.INVERSE_SQUARED, "inverse_sqrt"
    mu_interval = POSITIVE
    eta_interval = POSITIVE

    def link(self, mu):
        return 1.0 / np.square(np.asarray(mu, dtype=float))


class SqrtLink(Link):
    """Square-root link, ``g(mu) = sqrt(mu)``; inverse: ``eta^2`` on ``eta > 0``."""

    name, code, activation = "sqrt", C.SQRT, "square"
    mu_interval = POSITIVE
    eta_interval = POSITIVE

    def link(self, mu):
        return np.sqrt(mu)


class PowerLink(Link):
    """Power link, ``g(mu) = mu^p`` (``p = 0`` means ``log``).

    Parameters
    ----------
    power : float, default=1.0
        The exponent p.  ``power(1)`` is the identity, ``power(-1)`` the inverse,
        ``power(0.5)`` the square root (as statsmodels' ``Power``).
    """

    name, code, activation = "power", C.POWER, ""
    mu_interval = POSITIVE
    eta_interval = POSITIVE

    def __init__(self, power=1.0):
        if not np.isfinite(power):
            raise ValueError(f"The power of a power link must be finite, got {power}.")
        self.power = float(power)
        if self.power == 0.0:
            self.eta_interval = REAL_LINE

    def link(self, mu):
        mu = np.asarray(mu, dtype=float)
        return np.log(mu) if self.power == 0.0 else mu**self.power

    def __repr__(self):
        return f"PowerLink(power={self.power:g})"


class NegativeBinomialLink(Link):
    """Canonical link of the negative binomial, ``g(mu) = log(mu / (mu + 1/alpha))``.

    Parameters
    ----------
    alpha : float, default=1.0
        The family's dispersion parameter (variance ``mu + alpha mu^2``).
    """

    name, code, activation = "negative_binomial", C.NEGATIVE_BINOMIAL_LINK, ""
    mu_interval = POSITIVE
    eta_interval = NEGATIVE

    def __init__(self, alpha=1.0):
        if not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"alpha of the negative binomial link must be > 0, got {alpha}.")
        self.power = float(alpha)

    @property
    def alpha(self):
        """The negative binomial alpha this link belongs to."""
        return self.power

    def link(self, mu):
        return -np.log1p(1.0 / (self.power * np.asarray(mu, dtype=float)))

    def __repr__(self):
        return f"NegativeBinomialLink(alpha={self.power:g})"


class SoftplusLink(Link):
    """Softplus link, ``g(mu) = log(exp(mu) - 1)``; its inverse is the softplus activation.

    A smooth alternative to the log link for positive means: ``h(eta)`` grows
    linearly, not exponentially, for large eta.
    """

    name, code, activation = "softplus", C.SOFTPLUS, "softplus"
    mu_interval = POSITIVE

    def link(self, mu):
        mu = np.asarray(mu, dtype=float)
        return mu + np.log(-np.expm1(-mu))  # log(expm1(mu)) without overflow


class AtanhLink(Link):
    """Inverse hyperbolic tangent link, ``g(mu) = atanh(mu)`` for means in (-1, 1).

    Its inverse is the tanh activation of hidden layers.
    """

    name, code, activation = "atanh", C.ATANH, "tanh"
    mu_interval = Interval(-1.0, 1.0)

    def link(self, mu):
        return np.arctanh(mu)


LINKS = {
    cls.name: cls
    for cls in (
        IdentityLink, LogLink, LogitLink, ProbitLink, CLogLogLink, LogLogLink,
        CauchitLink, InverseLink, InverseSquaredLink, SqrtLink, PowerLink,
        NegativeBinomialLink, SoftplusLink, AtanhLink,
    )
}  # fmt: skip
"""Registry: link name -> class.  ``power`` and ``negative_binomial`` take a parameter."""


def get_link(link):
    """Return a :class:`Link` from a name such as ``"logit"`` or ``"power(0.5)"``.

    Parameters
    ----------
    link : str or Link
        A registry key of :data:`LINKS`, optionally with a parameter in
        parentheses, or a ``Link`` instance (returned as is).

    Returns
    -------
    link : Link

    Examples
    --------
    >>> from skglmnn.links import get_link
    >>> get_link("power(0.5)")
    PowerLink(power=0.5)
    """
    return lookup(link, LINKS, Link, "link")
