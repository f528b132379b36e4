"""Scalar inverse links h = g^-1 and their derivatives, for compiled kernels.

Conventions: ``eta`` is the linear predictor, ``mu = h(eta)`` the mean,
``dmu = h'(eta)``.  Every function takes the link's integer code and its float
parameter ``power`` (the exponent of the power link, alpha of the negative
binomial link; ignored by the others).  An inverse link is an activation
function; ``skglmnn.activations`` names each one.

The binomial family needs ``log(mu)``, ``log(1 - mu)``, ``h'/mu`` and
``h'/(1 - mu)`` in the far tails, where ``mu`` or ``1 - mu`` underflows:
``binary_link_terms`` computes them directly for the links made for
probabilities (logit, probit, cloglog, loglog, cauchit).
"""

import math

from . import codes as C
from ._jit import loop_kernel, scalar_kernel
from .special import log1mexp, log1pexp, log_ndtr, log_normal_pdf

INV_PI = 1.0 / math.pi


@scalar_kernel
def cauchy_cdf(eta):
    """``1/2 + atan(eta)/pi``, written as ``atan(-1/eta)/pi`` in the lower tail.

    The identity atan(x) + atan(1/x) = -pi/2 (x < 0) avoids the cancellation
    of ``0.5 - 0.49999...`` for large negative eta.
    """
    if eta < 0.0:
        return math.atan(-1.0 / eta) * INV_PI
    return 0.5 + math.atan(eta) * INV_PI


@scalar_kernel
def inverse_link_and_derivative(link, power, eta):
    """Return ``(mu, dmu) = (h(eta), h'(eta))`` for the link with code ``link``.

    ======================  ==========================  =======================
    link                    mu = h(eta)                 h'(eta)
    ======================  ==========================  =======================
    identity                eta                         1
    log                     exp(eta)                    mu
    logit                   1 / (1 + exp(-eta))         mu (1 - mu)
    probit                  Phi(eta)                    phi(eta)
    cloglog                 1 - exp(-exp(eta))          exp(eta - exp(eta))
    loglog                  exp(-exp(-eta))             exp(-eta - exp(-eta))
    cauchit                 1/2 + atan(eta) / pi        1 / (pi (1 + eta^2))
    inverse                 1 / eta                     -mu^2
    inverse_squared         eta^(-1/2)                  -mu^3 / 2
    sqrt                    eta^2                       2 eta
    power(p)                eta^(1/p)  (p = 0: log)     eta^(1/p - 1) / p
    negative_binomial(a)    1 / (a (exp(-eta) - 1))     mu + a mu^2
    softplus                log(1 + exp(eta))           1 / (1 + exp(-eta))
    atanh                   tanh(eta)                   1 - mu^2
    ======================  ==========================  =======================
    """
    if link == C.IDENTITY:
        return eta, 1.0
    if link == C.LOG:
        mu = math.exp(eta)
        return mu, mu
    if link == C.LOGIT:
        e = math.exp(-abs(eta))
        d = e / ((1.0 + e) * (1.0 + e))
        if eta >= 0.0:
            return 1.0 / (1.0 + e), d
        return e / (1.0 + e), d
    if link == C.PROBIT:
        return 0.5 * math.erfc(-eta / math.sqrt(2.0)), math.exp(log_normal_pdf(eta))
    if link == C.CLOGLOG:
        e = math.exp(eta)
        return -math.expm1(-e), math.exp(eta - e)
    if link == C.LOGLOG:
        e = math.exp(-eta)
        return math.exp(-e), math.exp(-eta - e)
    if link == C.CAUCHIT:
        return cauchy_cdf(eta), INV_PI / (1.0 + eta * eta)
    if link == C.INVERSE:
        mu = 1.0 / eta
        return mu, -mu * mu
    if link == C.INVERSE_SQUARED:
        mu = 1.0 / math.sqrt(eta)
        return mu, -0.5 * mu * mu * mu
    if link == C.SQRT:
        return eta * eta, 2.0 * eta
    if link == C.POWER:
        if power == 0.0:
            mu = math.exp(eta)
            return mu, mu
        inv = 1.0 / power
        mu = eta**inv
        return mu, inv * mu / eta
    if link == C.NEGATIVE_BINOMIAL_LINK:
        mu = 1.0 / (power * math.expm1(-eta))
        return mu, mu + power * mu * mu
    if link == C.SOFTPLUS:
        e = math.exp(-abs(eta))
        dmu = 1.0 / (1.0 + e) if eta >= 0.0 else e / (1.0 + e)
        return log1pexp(eta), dmu
    if link == C.ATANH:
        # 1 - tanh^2 = 4 e / (1 + e)^2 with e = exp(-2|eta|): no cancellation near |mu| = 1
        e = math.exp(-2.0 * abs(eta))
        return math.tanh(eta), 4.0 * e / ((1.0 + e) * (1.0 + e))
    return math.nan, math.nan


@scalar_kernel
def cloglog_terms(eta):
    """``(log mu, log(1 - mu), h'/mu, h'/(1 - mu))`` for mu = 1 - exp(-exp(eta)).

    With e = exp(eta): log(1 - mu) = -e exactly, h'/(1 - mu) = e exactly, and
    h'/mu = e / expm1(e).  Below eta = -30, log(1 - exp(-e)) = eta - e/2 to
    within e^2/24, which avoids log(0) once e underflows.
    """
    e = math.exp(eta)
    if eta < -30.0:
        return eta - 0.5 * e, -e, 1.0 - 0.5 * e, e
    return log1mexp(-e), -e, e / math.expm1(e), e


@scalar_kernel
def binary_link_terms(link, power, eta):
    """``(log mu, log(1 - mu), h'/mu, h'/(1 - mu))`` for a probability mean.

    The binomial half deviance and its derivatives need only these:

    .. math:: \\ell = y\\log y + (1-y)\\log(1-y) - y\\log\\mu - (1-y)\\log(1-\\mu)

    .. math:: \\partial\\ell/\\partial\\eta = (1-y)\\,h'/(1-\\mu) - y\\,h'/\\mu,
              \\qquad \\text{Fisher weight} = (h'/\\mu)\\,(h'/(1-\\mu))

    For links that can leave (0, 1) (identity, log, ...), a mean outside it
    gives nan, which the caller reports as an infinite loss.
    """
    if link == C.LOGIT:
        e = math.exp(-abs(eta))
        lg = math.log1p(e)
        if eta >= 0.0:
            return -lg, -eta - lg, e / (1.0 + e), 1.0 / (1.0 + e)
        return eta - lg, -lg, 1.0 / (1.0 + e), e / (1.0 + e)
    if link == C.PROBIT:
        lm = log_ndtr(eta)
        lmc = log_ndtr(-eta)
        lp = log_normal_pdf(eta)
        return lm, lmc, math.exp(lp - lm), math.exp(lp - lmc)
    if link == C.CLOGLOG:
        return cloglog_terms(eta)
    if link == C.LOGLOG:
        # loglog(eta) = 1 - cloglog(-eta): the roles of mu and 1 - mu swap.
        lmc, lm, r0, r1 = cloglog_terms(-eta)
        return lm, lmc, r1, r0
    if link == C.CAUCHIT:
        mu = cauchy_cdf(eta)
        mu_c = cauchy_cdf(-eta)
        d = INV_PI / (1.0 + eta * eta)
        return math.log(mu), math.log(mu_c), d / mu, d / mu_c
    mu, dmu = inverse_link_and_derivative(link, power, eta)
    if not (mu > 0.0 and mu < 1.0):
        return math.nan, math.nan, math.nan, math.nan
    return math.log(mu), math.log1p(-mu), dmu / mu, dmu / (1.0 - mu)


@loop_kernel
def inverse_link_array(link, power, eta, mu_out, dmu_out):
    """Fill ``mu_out = h(eta)`` and, if it has length n, ``dmu_out = h'(eta)``."""
    want_derivative = dmu_out.shape[0] > 0
    for i in range(eta.shape[0]):
        mu, dmu = inverse_link_and_derivative(link, power, eta[i])
        mu_out[i] = mu
        if want_derivative:
            dmu_out[i] = dmu
