"""Helpers shared by the tests: registries as parametrisation lists, so that a
new link or family is tested the moment it is registered."""

import numpy as np
from scipy import special

from skglmnn.families import BinomialFamily

# Every registry key, with a parameter where the entry takes one.
LINK_SPECS = [
    "identity", "log", "logit", "probit", "cloglog", "loglog", "cauchit",
    "inverse", "inverse_squared", "sqrt", "power(0.5)", "power(-1.5)", "power(0)",
    "negative_binomial(0.7)", "softplus", "atanh",
]  # fmt: skip
FAMILY_SPECS = [
    "normal", "binomial", "poisson", "gamma", "inverse_gaussian", "tweedie(0)",
    "tweedie(1)", "tweedie(1.5)", "tweedie(2)", "tweedie(3)", "tweedie(2.5)",
    "negative_binomial(0.5)",
]  # fmt: skip


def valid_eta(link, n=50, seed=0):
    """Linear predictors inside the link's valid range, away from its poles."""
    rng = np.random.default_rng(seed)
    iv = link.eta_interval
    if np.isinf(iv.low) and np.isinf(iv.high):
        return rng.uniform(-3, 3, n)
    if iv.low == 0.0:
        return rng.uniform(0.2, 3, n)
    return rng.uniform(-3, -0.2, n)


def sample_y(family, mu, seed=0):
    """Targets inside the family's domain, scattered around mu."""
    rng = np.random.default_rng(seed)
    if isinstance(family, BinomialFamily):
        return rng.binomial(1, np.clip(mu, 0.01, 0.99)).astype(float)
    if family.y_interval.low == 0.0 and family.y_interval.low_inclusive:
        y = rng.poisson(mu).astype(float)
        return y
    if family.y_interval.low == 0.0:
        return mu * rng.gamma(4.0, 0.25, size=np.shape(mu))
    return mu + rng.normal(size=np.shape(mu))


# Independent formulas for h = g^-1, written with NumPy/SciPy.
REFERENCE_INVERSE = {
    "identity": lambda eta, p: eta,
    "log": lambda eta, p: np.exp(eta),
    "logit": lambda eta, p: special.expit(eta),
    "probit": lambda eta, p: special.ndtr(eta),
    "cloglog": lambda eta, p: -np.expm1(-np.exp(eta)),
    "loglog": lambda eta, p: np.exp(-np.exp(-eta)),
    "cauchit": lambda eta, p: 0.5 + np.arctan(eta) / np.pi,
    "inverse": lambda eta, p: 1 / eta,
    "inverse_squared": lambda eta, p: eta**-0.5,
    "sqrt": lambda eta, p: eta**2,
    "power": lambda eta, p: np.exp(eta) if p == 0 else eta ** (1 / p),
    "negative_binomial": lambda eta, p: np.exp(eta) / (p * (1 - np.exp(eta))),
    "softplus": lambda eta, p: np.logaddexp(0, eta),
    "atanh": lambda eta, p: np.tanh(eta),
}

# Their derivatives h'(eta), also written out independently.
REFERENCE_DERIVATIVE = {
    "identity": lambda eta, p: np.ones_like(eta),
    "log": lambda eta, p: np.exp(eta),
    "logit": lambda eta, p: special.expit(eta) * special.expit(-eta),
    "probit": lambda eta, p: np.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi),
    "cloglog": lambda eta, p: np.exp(eta - np.exp(eta)),
    "loglog": lambda eta, p: np.exp(-eta - np.exp(-eta)),
    "cauchit": lambda eta, p: 1 / (np.pi * (1 + eta**2)),
    "inverse": lambda eta, p: -1 / eta**2,
    "inverse_squared": lambda eta, p: -0.5 * eta**-1.5,
    "sqrt": lambda eta, p: 2 * eta,
    "power": lambda eta, p: np.exp(eta) if p == 0 else eta ** (1 / p - 1) / p,
    "negative_binomial": lambda eta, p: np.exp(eta) / (p * (1 - np.exp(eta)) ** 2),
    "softplus": lambda eta, p: special.expit(eta),
    "atanh": lambda eta, p: 1 / np.cosh(eta) ** 2,
}


def central_differences(f, theta, h=1e-6):
    """``(f(theta + h e_k) - f(theta - h e_k)) / 2h`` for every unit vector ``e_k``."""
    return np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])


def record_path_choices(monkeypatch):
    """The solvers ``PathChoice`` picks from now on, in order (a list that fills as it
    picks)."""
    import skglmnn._solvers as solvers_module

    chosen = []
    original = solvers_module.PathChoice.__call__

    def spy(self, problem):
        chosen.append(original(self, problem))
        return chosen[-1]

    monkeypatch.setattr(solvers_module.PathChoice, "__call__", spy)
    return chosen
