"""Scalar variance and deviance functions of the exponential dispersion families.

Conventions: ``y`` is the observed target, ``mu`` its mean, ``power`` the
family's float parameter (the Tweedie power p, the negative binomial alpha).
The unit deviance is

.. math:: d(y, \\mu) = 2 \\int_\\mu^y \\frac{y - t}{V(t)}\\, dt,

so that ``d >= 0``, ``d(y, y) = 0`` and ``d d / d mu = -2 (y - mu) / V(mu)`` for
every family: the last identity is what makes one chain rule serve all of them.
"""

import math

from . import codes as C
from ._jit import loop_kernel, scalar_kernel
from .special import xlogy


@scalar_kernel
def unit_variance(family, power, mu):
    """``V(mu)``: 1, mu(1-mu), mu, mu^2, mu^3, mu^p, mu + alpha mu^2."""
    if family == C.NORMAL:
        return 1.0
    if family == C.BINOMIAL:
        return mu * (1.0 - mu)
    if family == C.POISSON:
        return mu
    if family == C.GAMMA:
        return mu * mu
    if family == C.INVERSE_GAUSSIAN:
        return mu * mu * mu
    if family == C.TWEEDIE:
        return mu**power
    if family == C.NEGATIVE_BINOMIAL:
        return mu + power * mu * mu
    return math.nan


@scalar_kernel
def mean_in_domain(family, power, mu):
    """Whether ``mu`` is a valid mean: finite, in (0, 1) or (0, inf) as the family asks."""
    if not math.isfinite(mu):
        return False
    if family == C.NORMAL or (family == C.TWEEDIE and power == 0.0):
        return True
    if family == C.BINOMIAL:
        return mu > 0.0 and mu < 1.0
    return mu > 0.0


@scalar_kernel
def binomial_half_deviance(y, log_mu, log_mu_c):
    """``y log(y/mu) + (1-y) log((1-y)/(1-mu))`` from the logs of mu and 1 - mu.

    A term whose weight (y or 1 - y) is zero counts zero even where its
    logarithm is -inf: mu = 1 exactly explains y = 1 perfectly.
    """
    out = xlogy(y, y) + xlogy(1.0 - y, 1.0 - y)
    if y != 0.0:
        out -= y * log_mu
    if y != 1.0:
        out -= (1.0 - y) * log_mu_c
    return out


@scalar_kernel
def poisson_half_deviance(y, mu):
    """``y log(y/mu) - y + mu``."""
    if y > 0.0:
        return y * (math.log(y) - math.log(mu)) - y + mu
    return mu


@scalar_kernel
def gamma_half_deviance(y, mu):
    """``log(mu/y) + y/mu - 1``."""
    return math.log(mu / y) + y / mu - 1.0


@scalar_kernel
def unit_deviance(family, power, y, mu):
    """``d(y, mu)``, the unit deviance (twice the log-likelihood ratio).

    ==================  ======================================================
    normal              (y - mu)^2
    binomial            2 [y log(y/mu) + (1-y) log((1-y)/(1-mu))]
    poisson             2 [y log(y/mu) - y + mu]
    gamma               2 [log(mu/y) + y/mu - 1]
    inverse_gaussian    (y - mu)^2 / (y mu^2)
    tweedie(p)          2 [y^(2-p)/((1-p)(2-p)) - y mu^(1-p)/(1-p) + mu^(2-p)/(2-p)]
                        (p = 0, 1, 2: normal, poisson, gamma)
    negative_binomial   2 [y log(y/mu) - (y + 1/a) log((1 + a y)/(1 + a mu))]
    ==================  ======================================================
    """
    if family == C.NORMAL or (family == C.TWEEDIE and power == 0.0):
        r = y - mu
        return r * r
    if family == C.BINOMIAL:
        if not (mu >= 0.0 and mu <= 1.0):
            return math.inf
        return 2.0 * binomial_half_deviance(y, math.log(mu), math.log1p(-mu))
    if family == C.POISSON or (family == C.TWEEDIE and power == 1.0):
        return 2.0 * poisson_half_deviance(y, mu)
    if family == C.GAMMA or (family == C.TWEEDIE and power == 2.0):
        return 2.0 * gamma_half_deviance(y, mu)
    if family == C.INVERSE_GAUSSIAN:
        r = y - mu
        return r * r / (y * mu * mu)
    if family == C.TWEEDIE:
        p = power
        first = 0.0
        if y > 0.0:
            first = y ** (2.0 - p) / ((1.0 - p) * (2.0 - p))
        return 2.0 * (first - y * mu ** (1.0 - p) / (1.0 - p) + mu ** (2.0 - p) / (2.0 - p))
    if family == C.NEGATIVE_BINOMIAL:
        a = power
        first = 0.0
        if y > 0.0:
            first = y * (math.log(y) - math.log(mu))
        return 2.0 * (first - (y + 1.0 / a) * (math.log1p(a * y) - math.log1p(a * mu)))
    return math.nan


@loop_kernel
def unit_variance_array(family, power, mu, out):
    """Fill ``out[i] = V(mu[i])``."""
    for i in range(mu.shape[0]):
        out[i] = unit_variance(family, power, mu[i])


@loop_kernel
def unit_deviance_array(family, power, y, mu, out):
    """Fill ``out[i] = d(y[i], mu[i])``."""
    for i in range(mu.shape[0]):
        out[i] = unit_deviance(family, power, y[i], mu[i])
