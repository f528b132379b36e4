"""The demo: a neural network is a stack of GLMs, shown on simulated data.

1. Linear regression four ways: the closed form ``(X^T X)^-1 X^T y``,
   ``GLMRegressor(normal, identity)``, ``NeuralGLM(hidden=(), identity)`` and
   scikit-learn's ``LinearRegression`` -- one answer.
2. Logistic regression three ways: ``GLMClassifier``,
   ``NeuralGLMClassifier(hidden=())`` and scikit-learn's ``LogisticRegression``,
   with the R-style summary of one fit.
3. A non-linear Poisson problem where a hidden layer wins: the network's
   learned features, refitted by a plain GLM, give back its output layer.
4. Every family fitted beside statsmodels (when installed).

Each part prints a table with its largest difference and timings; plots go to
``--out`` (PNG, when matplotlib is installed).
"""

import time

import numpy as np

from .classifier import GLMClassifier
from .families import get_family
from .glm import GLMRegressor
from .neural import NeuralGLM, NeuralGLMClassifier

DEMO_FAMILIES = [
    "normal", "binomial", "poisson", "gamma", "inverse_gaussian", "tweedie(1.5)",
    "negative_binomial(0.5)",
]  # fmt: skip
TRUE_COEF = np.array([0.5, -0.25, 0.125])
TRUE_INTERCEPT = 0.3
TIGHT_NET = dict(solver="lbfgs", alpha=0.0, tol=1e-12, max_iter=10_000)


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


def _timed(fit):
    start = time.perf_counter()
    result = fit()
    return result, time.perf_counter() - start


def _table(out, rows, names):
    """Print coefficients side by side (one column per method) and return the max diff."""
    width = 15
    out(f"  {'':12s}" + "".join(f"{name:>{width}s}" for name, _, _ in rows))
    params = np.array([p for _, p, _ in rows])
    for j, label in enumerate(names):
        out(f"  {label:12s}" + "".join(f"{v:>{width}.8f}" for v in params[:, j]))
    out(f"  {'seconds':12s}" + "".join(f"{t:>{width}.4f}" for _, _, t in rows))
    diff = float(np.max(np.abs(params - params[0])))
    out(f"  largest difference to {rows[0][0]}: {diff:.1e}")
    return diff


def linear_regression(n, rng, out):
    """Part 1: four fits of one linear model; returns (max difference, plot data)."""
    from sklearn.linear_model import LinearRegression

    X = rng.normal(size=(n, 3))
    y = 1.0 + X @ [2.0, -1.0, 0.5] + rng.normal(size=n)

    def ols():
        Xa = np.column_stack([np.ones(n), X])
        return np.linalg.solve(Xa.T @ Xa, Xa.T @ y)

    glm, t_glm = _timed(lambda: GLMRegressor("normal", "identity", tol=1e-12).fit(X, y))
    net, t_net = _timed(lambda: NeuralGLM(hidden=(), activation="identity", **TIGHT_NET).fit(X, y))
    lin, t_lin = _timed(lambda: LinearRegression().fit(X, y))
    closed, t_ols = _timed(ols)
    rows = [
        ("(X'X)^-1X'y", closed, t_ols),
        ("GLMRegressor", np.r_[glm.intercept_, glm.coef_], t_glm),
        ("NeuralGLM()", np.r_[net.intercept_, net.coef_], t_net),
        ("sklearn", np.r_[lin.intercept_, lin.coef_], t_lin),
    ]
    diff = _table(out, rows, ["intercept", "x0", "x1", "x2"])
    return diff, {"glm": glm.predict(X), "net": net.predict(X), "rows": rows}


def logistic_regression(n, rng, out):
    """Part 2: three fits of one logistic model (no penalty); returns (diff, plot data, fit)."""
    from sklearn.linear_model import LogisticRegression

    X = rng.normal(size=(n, 3))
    y = rng.binomial(1, 1 / (1 + np.exp(-(-0.5 + X @ [1.0, -0.5, 0.25]))))
    glm, t_glm = _timed(lambda: GLMClassifier(C=np.inf, tol=1e-10).fit(X, y))
    net, t_net = _timed(lambda: NeuralGLMClassifier(hidden=(), **TIGHT_NET).fit(X, y))
    ref, t_ref = _timed(lambda: LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y))
    rows = [
        ("GLMClassifier", np.r_[glm.intercept_, glm.coef_[0]], t_glm),
        ("NeuralGLMCl.()", np.r_[net.intercept_, net.coef_[0]], t_net),
        ("sklearn", np.r_[ref.intercept_, ref.coef_[0]], t_ref),
    ]
    diff = _table(out, rows, ["intercept", "x0", "x1", "x2"])
    plot = {"glm": glm.predict_proba(X)[:, 1], "net": net.predict_proba(X)[:, 1], "rows": rows}
    return diff, plot, glm


def hidden_layer_wins(n, rng, out, quick):
    """Part 3: a non-linear Poisson mean; a GLM on X against a network of GLM nodes."""
    X = rng.uniform(-2, 2, size=(n, 2))
    mu = np.exp(0.5 + np.sin(2 * X[:, 0]) + 0.5 * X[:, 1])
    y = rng.poisson(mu)
    train, test = slice(0, n // 2), slice(n // 2, n)
    glm, t_glm = _timed(lambda: GLMRegressor("poisson").fit(X[train], y[train]))
    net = NeuralGLM(hidden=(8,), activation="tanh", family="poisson", solver="lbfgs",
                    alpha=1e-3, max_iter=5000, tol=1e-9, random_state=0)  # fmt: skip
    net, t_net = _timed(lambda: net.fit(X[train], y[train]))
    d2_glm, d2_net = glm.score(X[test], y[test]), net.score(X[test], y[test])
    out(f"  held-out D^2 (deviance explained): GLM on X {d2_glm:.3f} ({t_glm:.3f} s), "
        f"NeuralGLM(hidden=(8,), tanh) {d2_net:.3f} ({t_net:.3f} s)")  # fmt: skip
    features = net.transform(X[train])
    refit = GLMRegressor("poisson", alpha=net.alpha, tol=1e-10).fit(features, y[train])
    diff = float(np.max(np.abs(np.r_[refit.intercept_, refit.coef_]
                               - np.r_[net.intercept_, net.coef_])))  # fmt: skip
    out("  the 8 tanh units are learned features; a plain GLMRegressor(poisson) refitted on "
        f"net.transform(X)\n  gives back the output layer: largest coefficient difference "
        f"{diff:.1e}")  # fmt: skip
    grid = np.column_stack([np.linspace(-2, 2, 200), np.zeros(200)])
    plot = {"grid": grid[:, 0], "features": net.transform(grid),
            "truth": np.exp(0.5 + np.sin(2 * grid[:, 0])), "net": net.predict(grid),
            "glm": glm.predict(grid)}  # fmt: skip
    return d2_net > d2_glm, diff, plot


def _statsmodels_family(sm, family):
    """statsmodels' family object for ``family`` with its default link."""
    F, L = sm.families, sm.families.links
    link = {"identity": L.Identity, "logit": L.Logit, "log": L.Log}[family.default_link().name]()
    if family.name == "tweedie":
        return F.Tweedie(var_power=family.power, link=link)
    if family.name == "negative_binomial":
        return F.NegativeBinomial(alpha=family.power, link=link)
    return {"normal": F.Gaussian, "binomial": F.Binomial, "poisson": F.Poisson,
            "gamma": F.Gamma, "inverse_gaussian": F.InverseGaussian}[family.name](link)  # fmt: skip


def families_beside_statsmodels(n, rng, out):
    """Part 4: every family, GLMRegressor against statsmodels; returns the max diff."""
    try:
        import statsmodels.api as sm
    except ImportError:
        out("  statsmodels is not installed: pip install 'skglmnn[demo]' adds this part.")
        return 0.0
    worst = 0.0
    out(f"  {'family':<24s}{'link':<10s}{'max |diff|':>11s}{'ours s':>9s}{'statsmodels s':>15s}")
    for spec in DEMO_FAMILIES:
        family = get_family(spec)
        X, y = simulate(family, n, rng)
        sm_family = _statsmodels_family(sm, family)
        ours, t_ours = _timed(lambda: GLMRegressor(family, tol=1e-10).fit(X, y))  # noqa: B023
        ref, t_ref = _timed(
            lambda: sm.GLM(y, sm.add_constant(X), family=sm_family).fit(tol=1e-12)  # noqa: B023
        )
        diff = float(np.max(np.abs(np.r_[ours.intercept_, ours.coef_] - ref.params)))
        worst = max(worst, diff)
        out(f"  {spec:<24s}{family.default_link().name:<10s}{diff:>11.1e}{t_ours:>9.3f}"
            f"{t_ref:>15.3f}")  # fmt: skip
    return worst


def _warm_up():
    """Load every compiled kernel once, so that the timings below are the fits' own."""
    import warnings

    warnings.simplefilter("ignore")  # restored by the caller's catch_warnings
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), rng.integers(0, 2, 50)
    GLMRegressor().fit(X, y)
    GLMClassifier().fit(X, y)
    NeuralGLM(hidden=(), solver="lbfgs").fit(X, y)
    NeuralGLMClassifier(hidden=(), solver="lbfgs").fit(X, y)
    NeuralGLM(hidden=(2,), family="poisson", solver="lbfgs", max_iter=2).fit(X, y)


def run(n=100_000, seed=0, out=print, plot_dir=None, quick=False):
    """Run the four parts, print their tables, write the plots; return the worst difference.

    Parameters
    ----------
    n : int, default=100_000
        Samples in parts 1, 2 and 4 (part 3 uses ``min(n, 20_000)``).
    seed : int, default=0
        Seed of the simulated data.
    out : callable, default=print
        Where lines go.
    plot_dir : str or None, default=None
        Directory for the PNG plots; None writes none.
    quick : bool, default=False
        Fewer iterations in part 3.

    Returns
    -------
    worst : float
        Largest coefficient difference between methods that should agree in
        parts 1, 2 and 4 (``inf`` if in part 3 the hidden layer did not beat the
        GLM, or its output layer was not reproduced to 1e-3).
    """
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    import warnings

    with warnings.catch_warnings():
        _warm_up()
    out(f"skglmnn demo: a neural network is a stack of GLMs (n = {n:,}, seed {seed})\n")
    out("[1/4] Linear regression: closed form, GLM, network without hidden layer, scikit-learn")
    d1, plot1 = linear_regression(n, rng, out)
    out("\n[2/4] Logistic regression: GLM, network without hidden layer, scikit-learn")
    d2, plot2, fitted = logistic_regression(n, rng, out)
    out("\n  The GLMClassifier's summary (as R's glm() prints it):\n")
    out("  " + str(fitted.summary()).replace("\n", "\n  "))
    out("\n[3/4] A non-linear Poisson problem: the hidden layer engineers features")
    wins, d3, plot3 = hidden_layer_wins(min(n, 20_000), rng, out, quick)
    out(f"  the hidden layer {'wins' if wins else 'does NOT win'} on held-out deviance")
    out("\n[4/4] Every family: GLMRegressor beside statsmodels")
    d4 = families_beside_statsmodels(n, rng, out)
    # part 3's refit stops at the optimiser's tolerance, so it is held to 1e-3
    worst = max(d1, d2, d4) if wins and d3 < 1e-3 else np.inf
    out(f"\nLargest difference between methods that should agree: {worst:.1e}")
    if plot_dir is not None:
        from ._demo_plots import write_plots

        write_plots(plot_dir, plot1, plot2, plot3, out)
    out(f"Done in {time.perf_counter() - started:.1f} s.")
    return worst
