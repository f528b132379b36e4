"""Exponential dispersion families: the distribution of y given its mean mu.

A family is data plus formulas: the targets it accepts (``y_interval``), the
means it accepts (``mu_interval``), its variance function ``V(mu)`` and unit
deviance ``d(y, mu)``.  It knows its own canonical link and the link that
``link="auto"`` picks, so estimators never ask "which family is this?".
``unit_variance`` and ``unit_deviance`` run the same compiled kernels as the
solvers.
"""

import numpy as np
from scipy import special

from ._domain import NON_NEGATIVE, POSITIVE, REAL_LINE, UNIT_CLOSED, UNIT_OPEN
from ._kernels import codes as C
from ._kernels._jit import run
from ._kernels.families import unit_deviance_array, unit_variance_array
from ._registry import lookup
from .links import (
    IdentityLink,
    InverseLink,
    InverseSquaredLink,
    LogitLink,
    LogLink,
    NegativeBinomialLink,
    PowerLink,
)


class Family:
    """Base class of exponential dispersion families.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"poisson"``.
    code : int
        Integer code of the family in the compiled kernels.
    power : float
        The family's parameter (Tweedie power, negative binomial alpha), or 0.
    y_interval : Interval
        Targets the family accepts.
    mu_interval : Interval
        Means the family accepts.
    has_dispersion : bool
        Whether the scale (dispersion) parameter is free (normal, gamma, ...)
        rather than fixed at 1 (binomial, poisson, negative binomial).
    """

    name = "family"
    code = -1
    power = 0.0
    y_interval = REAL_LINE
    mu_interval = REAL_LINE
    has_dispersion = True
    _fused = {}  # link class -> code of the fused kernel branch for this pair

    def canonical_link(self):
        """The canonical link: the one for which ``h'(eta)`` is proportional to ``V(mu)``.

        Returns
        -------
        link : Link
        """
        return IdentityLink()

    def default_link(self):
        """The link that ``link="auto"`` picks.

        The canonical link where it maps every real eta to a valid mean, ``log``
        where it does not (gamma, inverse Gaussian, Tweedie, negative binomial),
        as scikit-learn's GLMs do.

        Returns
        -------
        link : Link
        """
        link = self.canonical_link()
        return link if link.maps_real_line else LogLink()

    def fused_pair(self, link):
        """Integer code of the fused kernel branch for ``(self, link)``, or ``NO_PAIR``."""
        return self._fused.get(type(link), C.NO_PAIR)

    def unit_variance(self, mu):
        """Variance function ``V(mu)``.

        Parameters
        ----------
        mu : array-like
            Means.

        Returns
        -------
        variance : ndarray of float64
        """
        mu = np.asarray(mu, dtype=np.float64)
        flat = np.ascontiguousarray(mu.ravel())
        out = np.empty_like(flat)
        run(flat.size, unit_variance_array, self.code, float(self.power), flat, out)
        return out.reshape(mu.shape)

    def unit_deviance(self, y, mu):
        """Unit deviance ``d(y, mu) = 2 [log p(y | y) - log p(y | mu)]``, per sample.

        Parameters
        ----------
        y, mu : array-like of the same shape
            Targets and means.

        Returns
        -------
        deviance : ndarray of float64
        """
        y, mu = np.broadcast_arrays(
            np.asarray(y, dtype=np.float64), np.asarray(mu, dtype=np.float64)
        )
        y_flat, mu_flat = np.ascontiguousarray(y.ravel()), np.ascontiguousarray(mu.ravel())
        out = np.empty_like(y_flat)
        run(y_flat.size, unit_deviance_array, self.code, float(self.power), y_flat, mu_flat, out)
        return out.reshape(y.shape)

    def deviance(self, y, mu, sample_weight=None):
        """Total deviance ``sum_i w_i d(y_i, mu_i)``.

        Parameters
        ----------
        y, mu : array-like of shape (n_samples,)
            Targets and means.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights (for the binomial: numbers of trials).

        Returns
        -------
        deviance : float
        """
        d = self.unit_deviance(y, mu)
        return float(np.sum(d) if sample_weight is None else np.dot(sample_weight, d))

    def pearson_dispersion(self, y, mu, sample_weight=None, n_params=0, variance_weights=False):
        """Pearson estimate of the dispersion, ``X^2 / (n - n_params)``.

        ``X^2 = sum_i w_i (y_i - mu_i)^2 / V(mu_i)``; ``n`` is the sum of the
        weights for frequency weights, the number of non-zero weights for
        variance (prior) weights, as in R's ``glm``.

        Parameters
        ----------
        y, mu : array-like of shape (n_samples,)
            Targets and fitted means.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights, or variance weights (see ``variance_weights``).
        n_params : int, default=0
            Number of estimated mean parameters (coefficients and intercept).
        variance_weights : bool, default=False
            Whether ``sample_weight`` are variance weights (the variance of
            ``y_i`` is ``dispersion * V(mu_i) / w_i``).

        Returns
        -------
        dispersion : float
        """
        y = np.asarray(y, dtype=np.float64)
        w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        chi2 = np.dot(w, (y - mu) ** 2 / self.unit_variance(mu))
        n = np.count_nonzero(w) if variance_weights else w.sum()
        return float(chi2 / (n - n_params))

    def loglik(self, y, mu, sample_weight=None, dispersion=1.0, variance_weights=False):
        """Log-likelihood ``sum_i w_i log p(y_i | mu_i, dispersion)``.

        Parameters
        ----------
        y, mu : array-like of shape (n_samples,)
            Targets and means.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights (binomial: numbers of trials, ``y`` a proportion).
        dispersion : float, default=1.0
            Scale parameter (variance ``dispersion * V(mu)``); ignored by
            families without one.
        variance_weights : bool, default=False
            Read ``sample_weight`` as variance (prior) weights: sample ``i`` has
            the dispersion ``dispersion / w_i`` and counts once (samples of
            weight 0 not at all).  Families without a dispersion multiply the
            log-density by ``w_i`` either way, as R's ``glm`` and statsmodels do.

        Returns
        -------
        loglik : float
        """
        y = np.asarray(y, dtype=np.float64)
        mu = np.asarray(mu, dtype=np.float64)
        w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if variance_weights and self.has_dispersion:
            keep = w > 0
            y, mu, w = y[keep], mu[keep], w[keep]
            return float(np.sum(self._loglik_obs(y, mu, np.ones_like(y), dispersion / w)))
        return float(np.sum(self._loglik_obs(y, mu, w, float(dispersion))))

    def _loglik_obs(self, y, mu, w, phi):
        return w * (-0.5 * ((y - mu) ** 2 / phi + np.log(2 * np.pi * phi)))

    def separated(self, y, eta, sample_weight=None):
        """Whether the fitted linear predictor separates the targets completely.

        Only the binomial family can say yes (see there); then the maximum
        likelihood estimate does not exist.

        Parameters
        ----------
        y, eta : ndarray of shape (n_samples,)
        sample_weight : ndarray of shape (n_samples,), default=None

        Returns
        -------
        separated : bool
        """
        return False

    def starting_mu(self, y, sample_weight=None, mean=None):
        """Means inside the family's domain to start iteratively reweighted least squares.

        ``(y + mean(y)) / 2``, as R's ``glm`` does for most families: inside the
        domain whenever the weighted mean of y is.

        Parameters
        ----------
        y : ndarray of shape (n_samples,)
        sample_weight : ndarray of shape (n_samples,), default=None
        mean : float, default=None
            The weighted mean of y over all samples, when ``y`` holds only some
            of them (a block of rows of a dask array); computed from ``y`` if None.

        Returns
        -------
        mu : ndarray of shape (n_samples,)
        """
        if mean is None:
            mean = np.average(y, weights=sample_weight)
        return 0.5 * (y + mean)

    def check_y(self, y):
        """Raise a ``ValueError`` naming the family and its domain if y falls outside.

        Parameters
        ----------
        y : ndarray
            Targets.
        """
        inside = self.y_interval.contains(y)
        if not np.all(inside):
            bad = np.asarray(y)[~inside]
            raise ValueError(
                f"The {self!r} family needs y in {self.y_interval}; {bad.size} of "
                f"{np.size(y)} values fall outside (for example {bad.flat[0]:g})."
            )

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __eq__(self, other):
        return type(self) is type(other) and self.power == other.power

    def __hash__(self):
        return hash((type(self).__name__, self.power))


class NormalFamily(Family):
    """Normal (Gaussian) family: ``V(mu) = 1``, ``d = (y - mu)^2``; y any real."""

    name, code = "normal", C.NORMAL
    _fused = {IdentityLink: C.NORMAL_IDENTITY}


class BinomialFamily(Family):
    """Binomial family: ``V(mu) = mu (1 - mu)``, y in [0, 1].

    ``y`` is a 0/1 outcome or a proportion of successes; for proportions pass
    the numbers of trials as ``sample_weight``.
    """

    name, code = "binomial", C.BINOMIAL
    y_interval = UNIT_CLOSED
    mu_interval = UNIT_OPEN
    has_dispersion = False
    _fused = {LogitLink: C.BINOMIAL_LOGIT}

    def canonical_link(self):
        return LogitLink()

    def separated(self, y, eta, sample_weight=None):
        """Whether some threshold on ``eta`` splits the 0s from the 1s.

        If it does, the data are linearly separable along the fitted direction:
        the likelihood keeps growing as the coefficients grow, so the unpenalised
        estimate is infinite and a solver only stops because the gradient
        became small.
        """
        keep = np.ones(len(y), dtype=bool) if sample_weight is None else sample_weight > 0
        y, eta = y[keep], eta[keep]
        if np.any((y > 0) & (y < 1)) or np.all(y == y[0]):
            return False
        return bool(eta[y == 0].max() < eta[y == 1].min())

    def _loglik_obs(self, y, mu, w, phi):
        successes = w * y
        log_choose = (
            special.gammaln(w + 1)
            - special.gammaln(successes + 1)
            - special.gammaln(w - successes + 1)
        )
        return log_choose + w * (special.xlogy(y, mu) + special.xlog1py(1 - y, -mu))


class PoissonFamily(Family):
    """Poisson family: ``V(mu) = mu``, y a non-negative count (or rate)."""

    name, code = "poisson", C.POISSON
    y_interval = NON_NEGATIVE
    mu_interval = POSITIVE
    has_dispersion = False
    _fused = {LogLink: C.POISSON_LOG}

    def canonical_link(self):
        return LogLink()

    def _loglik_obs(self, y, mu, w, phi):
        return w * (special.xlogy(y, mu) - mu - special.gammaln(y + 1))


class GammaFamily(Family):
    """Gamma family: ``V(mu) = mu^2``, y > 0; shape ``1 / dispersion``."""

    name, code = "gamma", C.GAMMA
    y_interval = POSITIVE
    mu_interval = POSITIVE
    _fused = {LogLink: C.GAMMA_LOG, InverseLink: C.GAMMA_INVERSE}

    def canonical_link(self):
        return InverseLink()

    def _loglik_obs(self, y, mu, w, phi):
        k = 1.0 / phi
        return w * (k * np.log(k * y / mu) - k * y / mu - np.log(y) - special.gammaln(k))


class InverseGaussianFamily(Family):
    """Inverse Gaussian family: ``V(mu) = mu^3``, y > 0."""

    name, code = "inverse_gaussian", C.INVERSE_GAUSSIAN
    y_interval = POSITIVE
    mu_interval = POSITIVE
    _fused = {InverseSquaredLink: C.INVERSE_GAUSSIAN_INVERSE_SQUARED}

    def canonical_link(self):
        return InverseSquaredLink()

    def _loglik_obs(self, y, mu, w, phi):
        return -0.5 * w * (np.log(2 * np.pi * phi * y**3) + (y - mu) ** 2 / (phi * mu**2 * y))


class TweedieFamily(Family):
    """Tweedie family: ``V(mu) = mu^p``.

    ``p = 0`` is the normal, ``1`` the Poisson, ``2`` the gamma, ``3`` the
    inverse Gaussian family; ``1 < p < 2`` is the compound Poisson-gamma
    distribution (y >= 0 with a point mass at 0), used for insurance claims.

    Parameters
    ----------
    power : float, default=0.0
        The power p; 0 or at least 1 (no distribution exists for 0 < p < 1, and
        negative powers are not supported).
    """

    name, code = "tweedie", C.TWEEDIE

    def __init__(self, power=0.0):
        power = float(power)
        if not (power == 0.0 or (power >= 1.0 and np.isfinite(power))):
            raise ValueError(f"The power of the Tweedie family must be 0 or >= 1, got {power:g}.")
        self.power = power
        if power == 0.0:
            self.y_interval, self.mu_interval = REAL_LINE, REAL_LINE
        elif power < 2.0:
            self.y_interval, self.mu_interval = NON_NEGATIVE, POSITIVE
        else:
            self.y_interval, self.mu_interval = POSITIVE, POSITIVE
        # power 1 is quasi-Poisson: the dispersion is estimated, as by R's statmod and
        # statsmodels (use the poisson family for a dispersion fixed at 1)
        self.has_dispersion = True

    @property
    def _fused(self):
        # a property, not instance state: a dict keyed by classes does not serialise (skops)
        return {0.0: {IdentityLink: C.NORMAL_IDENTITY}, 1.0: {LogLink: C.POISSON_LOG},
                2.0: {LogLink: C.GAMMA_LOG, InverseLink: C.GAMMA_INVERSE}}.get(
            self.power, {LogLink: C.TWEEDIE_LOG}
        )  # fmt: skip

    def canonical_link(self):
        special_powers = {
            0.0: IdentityLink,
            1.0: LogLink,
            2.0: InverseLink,
            3.0: InverseSquaredLink,
        }
        if self.power in special_powers:
            return special_powers[self.power]()
        return PowerLink(1.0 - self.power)

    def _loglik_obs(self, y, mu, w, phi):
        as_family = {0.0: NormalFamily, 2.0: GammaFamily, 3.0: InverseGaussianFamily}
        if self.power in as_family:
            return as_family[self.power]()._loglik_obs(y, mu, w, phi)
        if 1.0 < self.power < 2.0:
            return w * _compound_poisson_gamma_logpdf(y, mu, phi, self.power)
        if self.power == 1.0:
            raise ValueError(
                "Tweedie with power 1 is a quasi-Poisson model (dispersion estimated, y any "
                "non-negative number): it has no likelihood; R reports its AIC as NA."
            )
        raise ValueError(
            f"The Tweedie density for power {self.power:g} (other than 2 and 3) has no "
            "closed form or series implemented here; use 1 < power < 2, 2 or 3."
        )

    def __repr__(self):
        return f"TweedieFamily(power={self.power:g})"


class NegativeBinomialFamily(Family):
    """Negative binomial family with known alpha: ``V(mu) = mu + alpha mu^2``.

    Parameters
    ----------
    alpha : float, default=1.0
        Dispersion of the gamma mixing distribution; alpha -> 0 gives Poisson.
    """

    name, code = "negative_binomial", C.NEGATIVE_BINOMIAL
    y_interval = NON_NEGATIVE
    mu_interval = POSITIVE
    has_dispersion = False
    _fused = {LogLink: C.NEGATIVE_BINOMIAL_LOG}

    def __init__(self, alpha=1.0):
        alpha = float(alpha)
        if not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"alpha of the negative binomial family must be > 0, got {alpha:g}.")
        self.power = alpha

    @property
    def alpha(self):
        """The dispersion alpha of the variance ``mu + alpha mu^2``."""
        return self.power

    def canonical_link(self):
        return NegativeBinomialLink(self.power)

    def _loglik_obs(self, y, mu, w, phi):
        a = self.power
        return w * (
            special.gammaln(y + 1 / a)
            - special.gammaln(y + 1)
            - special.gammaln(1 / a)
            + special.xlogy(y, a * mu)
            - (y + 1 / a) * np.log1p(a * mu)
        )

    def __repr__(self):
        return f"NegativeBinomialFamily(alpha={self.power:g})"


def _compound_poisson_gamma_logpdf(y, mu, phi, p):
    """Log density of the Tweedie distribution for ``1 < p < 2`` (Dunn & Smyth, 2005).

    ``log f = log W(y) - log y + (y theta - kappa) / phi`` for y > 0 with
    ``theta = mu^(1-p)/(1-p)``, ``kappa = mu^(2-p)/(2-p)`` and the series
    ``W = sum_j z^j / (j! Gamma(-j a))``, ``a = (2-p)/(1-p)``.  The terms, as a
    function of j, peak at ``j* = y^(2-p) / (phi (2-p))`` with a spread of
    ``sigma = sqrt(j* (p - 1))``; the sum runs over ``j* +- (12 sigma + 10)``
    (the rest is below ``exp(-70)`` of the peak).  When ``sigma`` is large
    (small ``phi``, a near-perfect fit) the terms form a smooth bell, and the
    sum over the integers is evaluated with a stride of ``sigma / 4`` (the
    trapezoidal rule on such a bell is exact to ``exp(-300)``), so that every
    observation costs at most ~120 terms whatever ``phi`` is.  Beyond
    ``j* = 1e8``, where the terms' logarithms would lose digits to
    cancellation, the saddlepoint density ``-log(2 pi phi y^p) / 2 - d(y, mu) /
    (2 phi)`` is used: its relative error is O(phi), below 1e-8 there.  At
    y = 0 the mass is ``exp(-kappa/phi)``.  Observations are processed in
    chunks, so memory stays bounded.
    """
    y, mu, phi = np.broadcast_arrays(np.asarray(y, np.float64), np.asarray(mu, np.float64),
                                     np.asarray(phi, np.float64))  # fmt: skip
    out = np.array(-(mu ** (2 - p)) / (phi * (2 - p)), dtype=np.float64)
    pos = y > 0
    if not np.any(pos):
        return out
    yp, mup, phip = y[pos], mu[pos], phi[pos]
    j_peak = yp ** (2 - p) / (phip * (2 - p))
    log_f = np.empty(len(yp))
    saddle = j_peak > 1e8
    if np.any(saddle):
        ys, ms, ps = yp[saddle], mup[saddle], phip[saddle]
        unit_deviance = 2 * (ys ** (2 - p) / ((1 - p) * (2 - p)) - ys * ms ** (1 - p) / (1 - p)
                             + ms ** (2 - p) / (2 - p))  # fmt: skip
        log_f[saddle] = -0.5 * np.log(2 * np.pi * ps * ys**p) - unit_deviance / (2 * ps)
    series = np.flatnonzero(~saddle)
    for start in range(0, len(series), 4096):
        idx = series[start : start + 4096]
        log_f[idx] = _tweedie_series(yp[idx], mup[idx], phip[idx], j_peak[idx], p)
    out[pos] = log_f
    return out


def _tweedie_series(y, mu, phi, j_peak, p):
    """``log f(y)`` for y > 0 by the bounded series of :func:`_compound_poisson_gamma_logpdf`."""
    a = (2 - p) / (1 - p)
    log_z = -a * np.log(y) + a * np.log(p - 1) - (1 - a) * np.log(phi) - np.log(2 - p)
    sigma = np.sqrt(np.maximum(j_peak, 1.0) * (p - 1))
    stride = np.maximum(1.0, np.floor(sigma / 4))
    half_width = 12 * sigma + 10
    j_low = np.maximum(1.0, np.floor(j_peak - half_width))
    n_terms = np.ceil((j_peak + half_width - j_low) / stride).astype(np.int64) + 1
    steps = np.arange(int(n_terms.max()))
    j = j_low[:, None] + stride[:, None] * steps[None, :]
    log_terms = j * log_z[:, None] - special.gammaln(j + 1) - special.gammaln(-a * j)
    log_terms[steps[None, :] >= n_terms[:, None]] = -np.inf
    log_w = special.logsumexp(log_terms, axis=1) + np.log(stride)
    theta = mu ** (1 - p) / (1 - p)
    kappa = mu ** (2 - p) / (2 - p)
    return log_w - np.log(y) + (y * theta - kappa) / phi


FAMILIES = {
    cls.name: cls
    for cls in (
        NormalFamily, BinomialFamily, PoissonFamily, GammaFamily,
        InverseGaussianFamily, TweedieFamily, NegativeBinomialFamily,
    )
}  # fmt: skip
"""Registry: family name -> class.  ``tweedie`` and ``negative_binomial`` take a parameter."""

_ALIASES = {"gaussian": NormalFamily, "bernoulli": BinomialFamily}


def _tweedie_needs_power(*args):
    if not args:
        raise ValueError("The tweedie family needs its power, e.g. 'tweedie(1.5)'.")
    return TweedieFamily(*args)


def get_family(family):
    """Return a :class:`Family` from a name such as ``"poisson"`` or ``"tweedie(1.5)"``.

    Parameters
    ----------
    family : str or Family
        A key of :data:`FAMILIES` (or ``"gaussian"``, ``"bernoulli"``),
        optionally with its parameter in parentheses, or a ``Family`` instance
        (returned as is).

    Returns
    -------
    family : Family

    Examples
    --------
    >>> from skglmnn.families import get_family
    >>> get_family("tweedie(1.5)")
    TweedieFamily(power=1.5)
    >>> get_family("negative_binomial(0.5)").unit_variance(2.0)
    array(4.)
    """
    registry = {**FAMILIES, **_ALIASES, "tweedie": _tweedie_needs_power}
    return lookup(family, registry, Family, "family")
