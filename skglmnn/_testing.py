"""Data shaped like real tables, for the tests and the benchmarks.

Columns drawn iid N(0, 1) hide what goes wrong on a survey or an insurance
table: correlated columns, scales from 1e-3 to 1e6, columns far from zero (a
calendar year, an income in cents), dummies and counts.  ``make_tabular``
builds such a design from a few correlated latent factors, and draws ``y``
from any family and link with a linear predictor of moderate spread.  The
true coefficients are returned on the original scale.

Also here: ``standardise`` and ``to_original``, with which a test fits a
reference (statsmodels, NumPy) on the standardised columns and maps its
estimates back exactly -- a reference that does not suffer from the scaling
it is used to test.
"""

import numpy as np

from .families import BinomialFamily, get_family
from .links import get_link


def _column(kind, factor, rng, n):
    """One raw column of the given kind from a standard-normal latent ``factor``."""
    if kind == "year":
        return np.round(2005.0 + 8.0 * factor)
    if kind == "income_cents":
        return np.round(np.exp(15.2 + 0.5 * factor))  # ~ 4e6 cents, right-skewed
    if kind == "age":
        return np.clip(np.round(45.0 + 12.0 * factor), 18, 95)
    if kind == "dummy":
        return (factor + 0.5 * rng.normal(size=n) > 0.6).astype(float)
    if kind == "count":
        return rng.poisson(np.exp(0.7 + 0.4 * factor)).astype(float)
    if kind == "rate":
        return 3e-3 + 1e-3 * factor  # a small quantity, scale 1e-3
    scale = 10.0 ** rng.uniform(-3, 4)
    shift = scale * rng.choice([0.0, rng.uniform(5, 1000)])
    return shift + scale * factor


KINDS = ("year", "income_cents", "age", "dummy", "count", "rate")


def make_tabular(n_samples=500, n_features=6, family="normal", link="auto", *,
                 n_factors=None, correlation=0.8, spread=1.0, seed=0):  # fmt: skip
    """A real-shaped design and targets from a GLM on it.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of X.  The first six columns are a calendar year, an income in
        cents, an age, a dummy, a count and a rate of scale 1e-3; further
        columns have random scales 10^U(-3, 4), half of them far from zero.
    family, link : str
        The model of ``y`` (``link="auto"``: the family's default).
    n_factors : int, default=None
        Number of latent factors (default ``max(2, n_features // 4)``).
    correlation : float, default=0.8
        Share of each column's latent variance that comes from the common factors.
    spread : float, default=1.0
        Standard deviation of the linear predictor (before its centre).
    seed : int, default=0

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    coef : ndarray of shape (n_features,)
        The true coefficients on X's scale.
    intercept : float
    """
    rng = np.random.default_rng(seed)
    k = n_factors or max(2, n_features // 4)
    factors = rng.normal(size=(n_samples, k))
    loadings = rng.normal(size=(k, n_features))
    loadings /= np.linalg.norm(loadings, axis=0)
    latent = np.sqrt(correlation) * factors @ loadings
    latent += np.sqrt(1 - correlation) * rng.normal(size=(n_samples, n_features))
    kinds = [KINDS[j] if j < len(KINDS) else "other" for j in range(n_features)]
    X = np.column_stack([_column(kind, latent[:, j], rng, n_samples)
                         for j, kind in enumerate(kinds)])  # fmt: skip
    y, coef, intercept = make_targets(X, family, link, spread=spread, rng=rng)
    return X, y, coef, intercept


def make_targets(X, family="normal", link="auto", *, spread=1.0, seed=0, rng=None):
    """Targets drawn from a GLM on a given design, with random coefficients.

    The coefficients are drawn for the standardised columns and scaled so that
    the linear predictor has standard deviation ``spread``; its centre is the
    first of a few typical means (0.3, 2, 5, 20, 100, 0.1) at which every
    sample's mean stays inside the family's and the link's domains.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    family, link : str
        The model of ``y`` (``link="auto"``: the family's default).
    spread : float, default=1.0
        Standard deviation of the linear predictor.
    seed : int, default=0
    rng : numpy.random.Generator, default=None
        Used instead of ``seed`` when given.

    Returns
    -------
    y : ndarray of shape (n_samples,)
    coef : ndarray of shape (n_features,)
        The true coefficients on X's scale.
    intercept : float
    """
    rng = np.random.default_rng(seed) if rng is None else rng
    family = get_family(family)
    link = family.default_link() if link == "auto" else get_link(link)
    mean, std = X.mean(axis=0), X.std(axis=0)
    std[std == 0] = 1.0
    beta = rng.normal(size=X.shape[1])
    z_eta = ((X - mean) / std) @ beta
    beta *= spread / max(z_eta.std(), 1e-12)
    coef = beta / std
    for centre in _centres(family, link):
        intercept = centre - mean @ coef
        eta = X @ coef + intercept
        with np.errstate(all="ignore"):
            mu = link.inverse(eta)
        if np.all(np.isfinite(mu)) and family.mu_interval.contains(mu).all():
            return _draw(family, mu, rng), coef, float(intercept)
    raise ValueError(f"no centre keeps the means of {family!r} / {link!r} in range; lower spread")


def _centres(family, link):
    """Linear predictors at which the mean is comfortably inside both domains."""
    for mu in (0.3, 2.0, 5.0, 20.0, 100.0, 0.1):
        if family.mu_interval.contains(mu) and link.mu_interval.contains(mu):
            eta = float(link.link(np.array([mu]))[0])
            if np.isfinite(eta):
                yield eta


def _draw(family, mu, rng):
    if isinstance(family, BinomialFamily):
        return rng.binomial(1, np.clip(mu, 1e-3, 1 - 1e-3)).astype(float)
    name = family.name
    if name == "poisson" or (name == "tweedie" and family.power == 1):
        return rng.poisson(mu).astype(float)
    if name == "negative_binomial":
        a = family.power
        return rng.poisson(rng.gamma(1 / a, a * mu)).astype(float)
    if name == "tweedie" and 1 < family.power < 2:
        p, phi = family.power, 1.0
        lam = mu ** (2 - p) / (phi * (2 - p))
        shape = (2 - p) / (p - 1)
        scale = phi * (p - 1) * mu ** (p - 1)
        counts = rng.poisson(lam)
        return np.array([rng.gamma(shape * c, s) if c else 0.0
                         for c, s in zip(counts, scale, strict=True)])  # fmt: skip
    if name in ("gamma",) or (name == "tweedie" and family.power >= 2):
        return rng.gamma(4.0, mu / 4.0)
    if name == "inverse_gaussian":
        return rng.wald(mu, 4.0)
    return mu + np.std(mu) * 0.5 * rng.normal(size=mu.shape) + 0.5 * rng.normal(size=mu.shape)


def standardise(X, sample_weight=None):
    """``(Z, mean, std)`` with ``Z = (X - mean) / std`` (weighted moments; std 1 if constant)."""
    mean = np.average(X, axis=0, weights=sample_weight)
    std = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=sample_weight))
    std[std == 0] = 1.0
    return (X - mean) / std, mean, std


def to_original(beta, intercept, mean, std):
    """Coefficients of the standardised design mapped back: ``(beta / std, b - mean . coef)``."""
    coef = np.asarray(beta) / std
    return coef, intercept - np.asarray(mean) @ coef
