"""Speed of classifiers: GLMClassifier beside scikit-learn's LogisticRegression and glum.

Usage::

    python benchmarks/classifier.py            # all cases (about 25 minutes on 2 cores)
    python benchmarks/classifier.py --quick    # the 100k-row dense cases
    python benchmarks/classifier.py --cases binary-l1-1000000x100 sparse-l2

Binary and 10-class problems on standard-normal features, on real-shaped
tables (correlated, unevenly scaled columns far from zero), and a text-like
sparse problem (100k x 50k CSR, 0.1% non-zeros).  Every fit minimises
``mean log-loss + (l1_ratio ||W||_1 + (1 - l1_ratio) / 2 ||W||^2) / (C n)``
with ``C = 1 / (alpha n)``: ``alpha = 1e-4`` for L2 and ``1e-3`` for L1; each
fit's objective is re-evaluated here with one formula.  ``tol=1e-6`` for every
solver except saga (``tol=1e-4``, scikit-learn's default: tighter costs it
minutes), whose objective gap is printed like the others.  Medians of
``--repeat`` runs; "+MB" is the peak resident memory a fit adds.
"""

import argparse
import sys
import warnings

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _measure import measure  # noqa: E402

TOL = 1e-6


def make_data(n, p, n_classes, sparse=False, seed=0, real=False):
    """Standard-normal (or text-like sparse) features, or with ``real=True`` a
    real-shaped table (``skglmnn._testing.make_tabular``: correlated columns,
    scales 1e-3..1e6, a year and an income in cents), and labels from a
    multinomial logit model with Gumbel noise."""
    rng = np.random.default_rng(seed)
    if real:
        from skglmnn._testing import make_tabular, standardise

        X, _, _, _ = make_tabular(n, p, seed=seed)
        Z, _, _ = standardise(X)
        W = rng.normal(scale=1 / np.sqrt(p), size=(p, n_classes))
        return X, np.argmax(Z @ W + rng.gumbel(size=(n, n_classes)), axis=1)
    if sparse:  # text-like: word frequencies fall off as 1 / rank
        nnz = int(0.001 * n * p)
        popularity = 1.0 / (np.arange(p) + 10.0)
        cols = rng.choice(p, size=nnz, p=popularity / popularity.sum())
        rows = rng.integers(0, n, size=nnz)
        X = sp.csr_matrix((np.ones(nnz), (rows, cols)), shape=(n, p))
        X.sum_duplicates()
        W = rng.normal(scale=1.0, size=(p, n_classes))
    else:
        X = rng.standard_normal(size=(n, p))
        W = rng.normal(scale=1 / np.sqrt(p), size=(p, n_classes))
    scores = np.asarray(X @ W) + rng.gumbel(size=(n, n_classes))
    return X, np.argmax(scores, axis=1)


def objective(X, y, coef, intercept, C, l1_ratio):
    """Mean log-loss plus the penalty over C n, for binary or multinomial fits."""
    n = X.shape[0]
    coef = np.atleast_2d(coef)
    eta = np.asarray(X @ coef.T) + intercept
    if coef.shape[0] == 1:
        eta = eta[:, 0]
        loss = np.logaddexp(0, eta) - y * eta
    else:
        m = eta.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(eta - m).sum(axis=1))
        loss = lse - eta[np.arange(n), y]
    penalty = l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * np.sum(coef * coef)
    return float(loss.mean() + penalty / (C * n))


def peers(n, p, n_classes, l1_ratio, sparse):
    from sklearn.linear_model import LogisticRegression

    from skglmnn import GLMClassifier

    alpha = 1e-3 if l1_ratio else 1e-4
    C = 1 / (alpha * n)
    found = {"skglmnn": lambda: GLMClassifier(C=C, l1_ratio=l1_ratio, tol=TOL, max_iter=1000,
                                              solver="saga" if l1_ratio else "lbfgs")}  # fmt: skip
    solvers = ["saga", "liblinear"] if l1_ratio else ["lbfgs", "newton-cholesky", "saga"]
    if l1_ratio == 0 and n_classes == 2:
        solvers.append("liblinear")
    for solver in solvers:
        if solver == "liblinear" and n_classes > 2:
            continue
        if solver == "newton-cholesky" and (sparse or n * (n_classes * p) ** 2 > 2e11):
            continue  # a dense (K p)^2 Hessian: out of reach
        tol = 1e-4 if solver == "saga" else TOL
        found[f"sklearn {solver}"] = lambda solver=solver, tol=tol: LogisticRegression(
            C=C, l1_ratio=l1_ratio, solver=solver, tol=tol, max_iter=1000
        )
    if n_classes == 2 and p <= 10_000:  # glum's IRLS forms a dense p x p Hessian
        try:
            from glum import GeneralizedLinearRegressor

            found["glum"] = lambda: GeneralizedLinearRegressor(
                family="binomial", alpha=alpha, l1_ratio=l1_ratio, gradient_tol=TOL, max_iter=1000
            )
        except ImportError:
            pass
    return found, C


CASES = {}
for kind, K in (("binary", 2), ("10class", 10)):
    for penalty, r in (("l2", 0.0), ("l1", 1.0)):
        for n in (100_000, 1_000_000):
            for p in (20, 100):
                CASES[f"{kind}-{penalty}-{n}x{p}"] = (n, p, K, r, False, False)
CASES["sparse-l2"] = (100_000, 50_000, 2, 0.0, True, False)
CASES["sparse-l1"] = (100_000, 50_000, 2, 1.0, True, False)
# real-shaped tables: correlated, unevenly scaled columns far from zero (make_data)
for kind, K in (("binary", 2), ("10class", 10)):
    for penalty, r in (("l2", 0.0), ("l1", 1.0)):
        for n, p in ((100_000, 20), (300_000, 50)):
            CASES[f"{kind}-{penalty}-real-{n}x{p}"] = (n, p, K, r, False, True)
QUICK = [name for name in CASES if "-100000x" in name]


def run_case(name, repeat):
    n, p, K, l1_ratio, sparse, real = CASES[name]
    X, y = make_data(n, p, K, sparse, real=real)
    found, C = peers(n, p, K, l1_ratio, sparse)
    kind = " sparse CSR 0.1%" if sparse else " real-shaped" if real else " iid N(0, 1)"
    print(f"\n## {name}: {K} classes, n={n:,}, p={p:,}{kind}, "
          f"l1_ratio={l1_ratio}, C={C:.3g}")  # fmt: skip
    head = ("fit", "median s", "ratio", "objective", "gap", "non-zero", "+MB")
    print("| {:<24} | {:>9} | {:>6} | {:>14} | {:>8} | {:>8} | {:>6} |".format(*head))
    print("|" + "|".join("-" * w + ":" for w in (25, 10, 7, 15, 9, 9, 7)) + "|")
    rows = []
    for peer, make in found.items():
        # scikit-learn on unscaled columns runs to max_iter: minutes; timed once
        big = (n * p >= 10**8 or real) and peer != "skglmnn"
        target = y if K > 2 or "glum" not in peer else y.astype(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seconds, model, extra = measure(
                lambda make=make, target=target: make().fit(X, target),
                1 if big else repeat, warmup=not big,
            )  # fmt: skip
        intercept = np.ravel(model.intercept_)
        obj = objective(X, y, model.coef_, intercept, C, l1_ratio)
        rows.append((peer, seconds, obj, np.count_nonzero(model.coef_), extra))
    ours = rows[0][1]
    best = min(r[2] for r in rows)
    for peer, seconds, obj, nnz, extra in rows:
        print(f"| {peer:<24} | {seconds:>9.3f} | {seconds / ours:>6.2f} | {obj:>14.10f} | "
              f"{(obj - best) / abs(best):>8.1e} | {nnz:>8} | {extra / 2**20:>6.0f} |")  # fmt: skip
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="only the 100k-row dense cases")
    parser.add_argument("--cases", nargs="*", choices=sorted(CASES), help="cases to run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per fit (median)")
    args = parser.parse_args()
    import sklearn

    print(f"# skglmnn classifier benchmark (scikit-learn {sklearn.__version__})")
    for name in args.cases or (QUICK if args.quick else list(CASES)):
        run_case(name, args.repeat)


if __name__ == "__main__":
    main()
