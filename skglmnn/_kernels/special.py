"""Scalar special functions that compiled kernels need and ``math`` lacks.

Each is written for the tails: the losses of logit, probit and cloglog models
are sums of logarithms of probabilities that underflow long before the linear
predictor reaches |eta| = 700, so the logarithm is computed directly instead of
``log(p)``.
"""

import math

from ._jit import scalar_kernel

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
SQRT_2 = math.sqrt(2.0)


@scalar_kernel
def log1pexp(x):
    """``log(1 + exp(x))`` without overflow.

    Branch points follow Maechler (2012), "Accurately computing
    log(1 - exp(-|a|))": below -37 ``exp(x)`` is already the exact double,
    above 33.3 ``x + exp(-x)`` is, and in between ``log1p(exp(x))`` is exact.
    """
    if x <= -37.0:
        return math.exp(x)
    if x <= 18.0:
        return math.log1p(math.exp(x))
    if x <= 33.3:
        return x + math.exp(-x)
    return x


@scalar_kernel
def log1mexp(x):
    """``log(1 - exp(x))`` for ``x < 0``, exact near 0 and for large ``-x``.

    ``-log(2)`` is the switch point between ``log(-expm1(x))`` (accurate when
    ``exp(x)`` is close to 1) and ``log1p(-exp(x))`` (accurate when it is small).
    """
    if x > -0.6931471805599453:
        return math.log(-math.expm1(x))
    return math.log1p(-math.exp(x))


@scalar_kernel
def xlogy(x, y):
    """``x * log(y)`` with the convention ``0 * log(0) = 0``."""
    if x == 0.0:
        return 0.0
    return x * math.log(y)


@scalar_kernel
def log_ndtr(x):
    """Logarithm of the standard normal CDF, ``log Phi(x)``, for all finite x.

    ``Phi(x) = erfc(-x / sqrt(2)) / 2`` keeps full relative precision down to
    x = -37 (where it is about 1e-300); below that the asymptotic series

    .. math:: \\log\\Phi(x) = \\log\\phi(x) - \\log(-x)
              + \\log(1 - x^{-2} + 3x^{-4} - 15x^{-6} + 105x^{-8} - 945x^{-10})

    is used, whose first omitted term is below 1e-15 for x < -36.
    """
    if x > 0.0:
        return math.log1p(-0.5 * math.erfc(x / SQRT_2))
    if x > -36.0:
        return math.log(0.5 * math.erfc(-x / SQRT_2))
    z = 1.0 / (x * x)
    series = 1.0 - z * (1.0 - 3.0 * z * (1.0 - 5.0 * z * (1.0 - 7.0 * z * (1.0 - 9.0 * z))))
    return -0.5 * x * x - LOG_SQRT_2PI - math.log(-x) + math.log(series)


@scalar_kernel
def log_normal_pdf(x):
    """Logarithm of the standard normal density, ``-x^2/2 - log(sqrt(2 pi))``."""
    return -0.5 * x * x - LOG_SQRT_2PI
