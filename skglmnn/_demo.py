"""The demo: every family fitted on simulated data beside a reference we did not compute.

For each family (with its default link) data are simulated from a known GLM;
skglmnn's ``GLMRegressor`` and statsmodels' ``GLM`` (and, for the normal
family, the closed-form OLS solution ``(X^T X)^-1 X^T y``) fit them, and the
coefficients are printed side by side with their largest difference and the
fit times.
"""

import time

import numpy as np

from .families import get_family
from .glm import GLMRegressor

DEMO_FAMILIES = [
    "normal", "binomial", "poisson", "gamma", "inverse_gaussian", "tweedie(1.5)",
    "negative_binomial(0.5)",
]  # fmt: skip
TRUE_COEF = np.array([0.5, -0.25, 0.125])
TRUE_INTERCEPT = 0.3


def simulate(family, n, rng):
    """X ~ U(-1, 1)^3 and y drawn from ``family`` with the default link's mean."""
    X = rng.uniform(-1, 1, size=(n, TRUE_COEF.size))
    mu = family.default_link().inverse(TRUE_INTERCEPT + X @ TRUE_COEF)
    name = family.name
    if name == "normal":
        y = mu + rng.normal(size=n)
    elif name == "binomial":
        y = rng.binomial(1, mu).astype(float)
    elif name == "poisson":
        y = rng.poisson(mu).astype(float)
    elif name == "gamma":
        y = rng.gamma(2.0, mu / 2.0)
    elif name == "inverse_gaussian":
        y = rng.wald(mu, 4.0)
    elif name == "tweedie":  # compound Poisson-gamma with power p, dispersion 1
        p = family.power
        counts = rng.poisson(mu ** (2 - p) / (2 - p))
        y = rng.gamma(np.maximum(counts, 1) * (2 - p) / (p - 1), (p - 1) * mu ** (p - 1))
        y[counts == 0] = 0.0
    else:  # negative binomial as a gamma mixture of Poissons
        a = family.power
        y = rng.poisson(rng.gamma(1 / a, a * mu)).astype(float)
    return X, y


def _timed(fit, *args):
    """``(fit(*args), seconds)``."""
    start = time.perf_counter()
    params = fit(*args)
    return params, time.perf_counter() - start


def _ours(family, X, y):
    model = GLMRegressor(family, tol=1e-10).fit(X, y)
    return np.r_[model.intercept_, model.coef_]


def _ols(X, y):
    Xa = np.column_stack([np.ones(len(X)), X])
    return np.linalg.solve(Xa.T @ Xa, Xa.T @ y)


def _statsmodels_fit(family, X, y):
    import statsmodels.api as sm

    F, L = sm.families, sm.families.links
    link = {"identity": L.Identity, "logit": L.Logit, "log": L.Log}[family.default_link().name]()
    sm_family = {
        "normal": lambda: F.Gaussian(link), "binomial": lambda: F.Binomial(link),
        "poisson": lambda: F.Poisson(link), "gamma": lambda: F.Gamma(link),
        "inverse_gaussian": lambda: F.InverseGaussian(link),
        "tweedie": lambda: F.Tweedie(var_power=family.power, link=link),
        "negative_binomial": lambda: F.NegativeBinomial(alpha=family.power, link=link),
    }[family.name]()  # fmt: skip
    return sm.GLM(y, sm.add_constant(X), family=sm_family).fit(tol=1e-12).params


def run(n=20_000, seed=0, out=print):
    """Fit every family, print the comparison table, return the largest difference.

    Parameters
    ----------
    n : int, default=20_000
        Samples per family.
    seed : int, default=0
        Seed of the simulated data.
    out : callable, default=print
        Where lines go.

    Returns
    -------
    max_difference : float
        Largest absolute coefficient difference to any reference.
    """
    try:
        import statsmodels  # noqa: F401

        have_statsmodels = True
    except ImportError:
        have_statsmodels = False
    rng = np.random.default_rng(seed)
    out(f"skglmnn demo: {len(DEMO_FAMILIES)} families, n = {n:,} samples each, "
        f"true coefficients {TRUE_INTERCEPT} | {TRUE_COEF.tolist()}\n")  # fmt: skip
    header = (
        f"{'family':<24}{'link':<10}{'reference':<14}{'max |diff|':>11}{'ours ms':>9}{'ref ms':>8}"
    )
    out(header)
    out("-" * len(header))
    worst, details = 0.0, []
    for spec in DEMO_FAMILIES:
        family = get_family(spec)
        X, y = simulate(family, n, rng)
        ours, t_ours = _timed(_ours, family, X, y)
        references = []
        if family.name == "normal":
            references.append(("OLS (X'X)^-1", *_timed(_ols, X, y)))
        if have_statsmodels:
            references.append(("statsmodels", *_timed(_statsmodels_fit, family, X, y)))
        for name, ref, t_ref in references:
            diff = float(np.max(np.abs(ours - ref)))
            worst = max(worst, diff)
            out(f"{spec:<24}{family.default_link().name:<10}{name:<14}{diff:>11.1e}"
                f"{1e3 * t_ours:>9.1f}{1e3 * t_ref:>8.1f}")  # fmt: skip
        details.append((spec, ours, references))
    out("\nCoefficients (intercept first): skglmnn | reference")
    for spec, ours, references in details:
        ref = references[-1][1] if references else ours
        pairs = "  ".join(f"{a:+.4f}|{b:+.4f}" for a, b in zip(ours, ref, strict=True))
        out(f"  {spec:<24}{pairs}")
    if not have_statsmodels:
        out("\nstatsmodels is not installed, so only the OLS reference ran; "
            "pip install 'skglmnn[demo]' adds the statsmodels comparison.")  # fmt: skip
    out(f"\nLargest difference to a reference: {worst:.1e}")
    return worst
