"""Speed of GLM fits: skglmnn beside scikit-learn, glum and statsmodels, in one run.

Usage::

    python benchmarks/glm.py            # all cases (about 15 minutes on 2 cores)
    python benchmarks/glm.py --quick    # the 100k cases only (iid and real-shaped)
    python benchmarks/glm.py --cases logit-1000000x100 poisson-100000x20

Every peer fits the same data with the same L2 penalty, written in
scikit-learn's GLM convention (``alpha`` times ``||coef||^2 / 2`` beside the mean
half deviance); ``LogisticRegression`` gets ``C = 1 / (alpha n)``.  Each fit's
objective is re-evaluated here with one formula, so the "objective" column
compares like with like; "gap" is its relative excess over the best objective
of the case.  statsmodels fits without penalty (its IRLS has none), which
costs it a gap of order alpha.  Times are medians of ``--repeat`` runs after a
warm-up run; "ratio" is the peer's time over skglmnn's; "+MB" is the peak
resident memory a fit adds over its input.  Do not run anything else on the
machine meanwhile: two cores are easily saturated.
"""

import argparse
import subprocess
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _measure import measure  # noqa: E402

ALPHA = 1e-4
TOL = 1e-6


def make_data(family, n, p, sparse=False, seed=0, real=False):
    """Standard normal (or sparse uniform) features and y from a GLM with small effects.

    ``real=True``: a real-shaped table instead (``skglmnn._testing.make_tabular``:
    correlated columns, scales 1e-3..1e6, a calendar year and an income in cents
    beside the intercept, a dummy and a count).
    """
    if real:
        from skglmnn._testing import make_tabular

        X, y, _, _ = make_tabular(n, p, family, seed=seed)
        return X, y
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, p, density=0.001, format="csr", random_state=seed, dtype=np.float64)
        coef = rng.normal(scale=1.0, size=p)
    else:
        X = rng.standard_normal(size=(n, p))
        coef = rng.normal(scale=1 / np.sqrt(p), size=p)
    eta = np.asarray(X @ coef).ravel() - 0.5
    if family == "binomial":
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(np.float64)
    else:
        y = rng.poisson(np.exp(np.clip(eta, -10, 5))).astype(np.float64)
    return X, y


def objective(family, X, y, coef, intercept):
    """The penalised mean half deviance, one formula for every peer."""
    eta = np.asarray(X @ coef).ravel() + intercept
    if family == "binomial":
        loss = np.logaddexp(0, eta) - y * eta
    else:
        from scipy.special import xlogy

        loss = np.exp(eta) - y * eta + xlogy(y, y) - y
    return float(loss.mean() + 0.5 * ALPHA * coef @ coef)


def peers(family, n, p, sparse):
    """name -> function(X, y) returning (coef, intercept)."""
    from sklearn.linear_model import LogisticRegression, PoissonRegressor

    from skglmnn import GLMRegressor

    def ours(solver):
        def fit(X, y):
            m = GLMRegressor(family, alpha=ALPHA, tol=TOL, solver=solver, max_iter=1000).fit(X, y)
            return m.coef_, m.intercept_

        return fit

    def sklearn(solver):
        def fit(X, y):
            if family == "binomial":
                m = LogisticRegression(C=1 / (ALPHA * n), solver=solver, tol=TOL, max_iter=1000)
            else:
                m = PoissonRegressor(alpha=ALPHA, solver=solver, tol=TOL, max_iter=1000)
            m.fit(X, y)
            return np.ravel(m.coef_), float(np.ravel(m.intercept_)[0])

        return fit

    def glum(X, y):
        from glum import GeneralizedLinearRegressor

        m = GeneralizedLinearRegressor(
            family=family, alpha=ALPHA, l1_ratio=0.0, gradient_tol=TOL, max_iter=1000
        ).fit(X, y)
        return m.coef_, m.intercept_

    def statsmodels(X, y):
        import statsmodels.api as sm

        fam = sm.families.Binomial() if family == "binomial" else sm.families.Poisson()
        Xa = sm.add_constant(X) if not sparse else None
        params = sm.GLM(y, Xa, family=fam).fit(tol=1e-8).params
        return params[1:], params[0]

    found = {
        "skglmnn": ours("auto"),
        "skglmnn newton": ours("newton"),
        "skglmnn lbfgs": ours("lbfgs"),
        "sklearn lbfgs": sklearn("lbfgs"),
        "sklearn newton-cholesky": sklearn("newton-cholesky"),
    }
    try:
        import glum as _  # noqa: F401

        found["glum"] = glum
    except ImportError:
        pass
    # statsmodels' IRLS copies X several times: +7 GB and 46 s on logit 1M x 100,
    # and out of the machine's 24 GB on poisson 1M x 100; left out from 1e8 cells.
    if not sparse and n * p < 10**8:
        found["statsmodels (no penalty)"] = statsmodels
    return found


CASES = {
    f"{fam}-{n}x{p}": (fam if fam == "poisson" else "binomial", n, p, False, False)
    for fam in ("logit", "poisson")
    for n in (100_000, 1_000_000)
    for p in (20, 100)
}
CASES["logit-sparse-100000x10000"] = ("binomial", 100_000, 10_000, True, False)
# real-shaped tables (correlated, unevenly scaled, far from zero): see make_data
for fam in ("logit", "poisson"):
    for n, p in ((100_000, 20), (300_000, 50), (1_000_000, 100)):
        CASES[f"{fam}-real-{n}x{p}"] = (fam if fam == "poisson" else "binomial", n, p, False, True)
QUICK = [name for name in CASES if "-100000x" in name]


def run_case(name, repeat, skip):
    family, n, p, sparse, real = CASES[name]
    X, y = make_data(family, n, p, sparse, real=real)
    size = (X.data.nbytes if sparse else X.nbytes) / 2**20
    kind = " sparse CSR 0.1%" if sparse else " real-shaped" if real else " iid N(0, 1)"
    print(f"\n## {name}: {family}, n={n:,}, p={p}{kind} "
          f"(X is {size:.0f} MB), alpha={ALPHA:g}, tol={TOL:g}")  # fmt: skip
    rows = []
    for peer, fit in peers(family, n, p, sparse).items():
        if any(s in peer for s in skip):
            continue
        # peers that take minutes (statsmodels; scikit-learn on unscaled columns, where
        # its solvers run to max_iter) are timed once, without a warm-up run
        slow = "statsmodels" in peer or (n * p >= 10**8 and "newton-cholesky" in peer) or (
            real and "sklearn" in peer
        )
        reps = 1 if slow else repeat
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seconds, (coef, intercept), extra = measure(lambda fit=fit: fit(X, y), reps,
                                                        warmup=not slow)  # fmt: skip
        rows.append((peer, seconds, objective(family, X, y, np.asarray(coef), intercept), extra))
    ours = next(r[1] for r in rows if r[0] == "skglmnn")
    best = min(r[2] for r in rows)
    head = ("fit", "median s", "ratio", "objective", "gap", "+MB")
    print("| {:<26} | {:>9} | {:>6} | {:>16} | {:>8} | {:>6} |".format(*head))
    print(f"|{'-' * 28}|{'-' * 11}:|{'-' * 7}:|{'-' * 17}:|{'-' * 9}:|{'-' * 7}:|")
    for peer, seconds, obj, extra in rows:
        print(f"| {peer:<26} | {seconds:>9.3f} | {seconds / ours:>6.2f} | {obj:>16.12f} | "
              f"{(obj - best) / abs(best):>8.1e} | {extra / 2**20:>6.0f} |")  # fmt: skip
    sys.stdout.flush()
    return rows


def floors(n=1_000_000, p=100):
    """What one pass over X and one X^T W X cost here: the floors of any solver."""
    from skglmnn._loss import GLMLoss
    from skglmnn.families import get_family
    from skglmnn.links import get_link

    X, y = make_data("binomial", n, p)
    w = np.random.default_rng(0).uniform(size=n)
    coef = np.zeros(p)
    loss = GLMLoss(get_family("binomial"), get_link("logit"))
    Xf = np.asfortranarray(X)
    items = {
        "X @ v (one pass over X)": lambda: X @ coef,
        "logistic loss+gradient, numpy+BLAS (2 passes)": lambda: loss.loss_gradient(
            Xf, y, coef, 0.0
        ),
        "logistic loss+gradient, fused sweep (1 pass)": lambda: loss.loss_gradient(X, y, coef, 0.0),
        "X^T W X, blocked syrk": lambda: loss.hessian(X, w),
    }
    print(f"\n## Floors on {n:,} x {p} float64")
    print("| operation | median ms |\n|---|---:|")
    for label, f in items.items():
        seconds, _, _ = measure(f, 5)
        print(f"| {label} | {1e3 * seconds:.0f} |")


COLD_OURS = """
import numpy as np
from skglmnn import GLMRegressor
rng = np.random.default_rng(0); X = rng.normal(size=(1000, 5)); y = (X[:, 0] > 0) * 1.0
GLMRegressor("binomial").fit(X, y)
"""
COLD_SKLEARN = """
import numpy as np
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(0); X = rng.normal(size=(1000, 5)); y = (X[:, 0] > 0) * 1.0
LogisticRegression().fit(X, y)
"""


def cold_start(repeat=5):
    """Fresh-process import plus a first small fit (numba kernels from the disk cache)."""
    subprocess.run([sys.executable, "-c", COLD_OURS], check=True)  # fills the cache
    medians = {}
    for name, code in (("skglmnn", COLD_OURS), ("sklearn LogisticRegression", COLD_SKLEARN)):
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - start)
        medians[name] = sorted(times)[repeat // 2]
    print("\n## Cold start: new process, import, first fit of 1000 x 5")
    print("| process | median s | ratio |\n|---|---:|---:|")
    for name, t in medians.items():
        print(f"| {name} | {t:.2f} | {t / medians['skglmnn']:.2f} |")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="only the 100k-row cases")
    parser.add_argument("--cases", nargs="*", choices=sorted(CASES), help="cases to run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per fit (median)")
    parser.add_argument(
        "--skip", nargs="*", default=[], help="skip peers whose name contains these"
    )
    parser.add_argument("--no-floors", action="store_true")
    args = parser.parse_args()
    import numba
    import sklearn
    from threadpoolctl import threadpool_info

    blas = threadpool_info()[0]
    print("# skglmnn GLM benchmark")
    print(f"numba {numba.__version__} ({numba.get_num_threads()} threads), "
          f"scikit-learn {sklearn.__version__}, BLAS {blas['internal_api']} "
          f"{blas['num_threads']} threads")  # fmt: skip
    names = args.cases or (QUICK if args.quick else list(CASES))
    for name in names:
        run_case(name, args.repeat, args.skip)
    if not args.no_floors:
        floors()
        cold_start()


if __name__ == "__main__":
    main()
