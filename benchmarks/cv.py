"""Regularisation paths and cross-validation: skglmnn beside glum and scikit-learn, in one run.

Usage::

    python benchmarks/cv.py                     # every case at 100k x 100 (several minutes)
    python benchmarks/cv.py --n 20000 --p 50    # smaller
    python benchmarks/cv.py --cases path glum

Cases (L1 penalty, ``tol=1e-6`` for every solver):

* ``path``: a 100-point lasso path of a Poisson GLM on all the data against
  one fit at the path's smallest alpha (the issue's budget: the path <= 3x the
  fit), on iid columns and on a real-shaped table; the path's and the fit's
  runs alternate, so that both see the same spells of this noisy machine.
* ``glum``: ``GLMRegressorCV`` against glum's ``GeneralizedLinearRegressorCV``,
  Poisson, the same grid (``--cv-alphas`` points from skglmnn's alpha_max down
  to 1e-3 of it) and the same five folds; "same choice" says whether both pick
  the same alpha.
* ``elasticnet``: the normal family against scikit-learn's ``ElasticNetCV``,
  same grid and folds.
* ``logistic``: ``GLMClassifierCV`` against ``LogisticRegressionCV`` (``--cs``
  values of C, five stratified folds, ``neg_log_loss``): L2 against lbfgs and
  newton-cholesky, L1 against saga; the real-shaped table is standardised
  first, as scikit-learn's solvers need.  ``logistic-l2`` and ``logistic-l1``
  run one penalty only.

Medians of ``--repeat`` runs after a warm-up; "ratio" is the peer's time over
skglmnn's; "+MB" the peak resident memory a fit adds over its input.  Do not
run anything else on the machine meanwhile: two cores are easily saturated.
"""

import argparse
import sys
import warnings

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _measure import measure, measure_alternating  # noqa: E402

TOL = 1e-6


def make_data(family, n, p, real, seed=0):
    """iid N(0, 1) columns with small effects, or a real-shaped table."""
    if real:
        from skglmnn._testing import make_tabular

        X, y, _, _ = make_tabular(n, p, family, seed=seed)
        return X, y
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(size=(n, p))
    coef = np.where(np.arange(p) < 10, rng.normal(scale=0.3, size=p), 0.0)
    eta = X @ coef - 0.5
    if family == "normal":
        return X, eta + rng.normal(size=n)
    if family == "binomial":
        return X, (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(np.float64)
    return X, rng.poisson(np.exp(eta)).astype(np.float64)


def _alpha_range(model, X, y):
    from skglmnn._loss import GLMLoss
    from skglmnn._path import alpha_max, null_theta
    from skglmnn._solvers import GLMProblem
    from skglmnn.glm import resolve_family_link

    family, link = resolve_family_link(model.family, model.link)
    problem = GLMProblem(GLMLoss(family, link), X, y.astype(X.dtype), None, None, 0.0, True)
    top = alpha_max(problem, 1.0, null_theta(problem))
    return top, top * model.alpha_min_ratio


def case_path(n, p, repeat, n_alphas):
    from skglmnn import GLMRegressor
    from skglmnn._loss import GLMLoss
    from skglmnn._path import fit_path
    from skglmnn._solvers import GLMProblem
    from skglmnn.families import get_family
    from skglmnn.links import get_link

    rows = []
    for real in (False, True):
        X, y = make_data("poisson", n, p, real)
        grid = np.geomspace(*_alpha_range(_Spec("poisson"), X, y), n_alphas)
        loss = GLMLoss(get_family("poisson"), get_link("log"))

        def path(X=X, y=y, grid=grid, loss=loss):
            problem = GLMProblem(loss, X, y, None, None, 0.0, True)
            return fit_path(problem, grid, 1.0, "auto", 100, TOL)

        def one(X=X, y=y, grid=grid):
            return GLMRegressor("poisson", alpha=grid[-1], l1_ratio=1.0, tol=TOL).fit(X, y)

        # interleaved, so that the ratio is taken under the same conditions
        (t_path, result, mb_path), (t_one, fit, mb_one) = measure_alternating([path, one], repeat)
        label = f"{'real' if real else 'iid'} {n}x{p}"
        rows.append((label, t_path, t_one, t_path / t_one, int(result.n_iter.sum()),
                     fit.n_iter_, mb_path / 1e6, mb_one / 1e6))  # fmt: skip
    print(f"\nPoisson lasso path ({n_alphas} alphas down to 1e-3 alpha_max) vs one fit at "
          "the smallest alpha")
    print("| data | path s | one fit s | path/fit | path iters | fit iters | path +MB | fit +MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.3f} | {r[2]:.3f} | {r[3]:.2f} | {r[4]} | {r[5]} | "
              f"{r[6]:.0f} | {r[7]:.0f} |")  # fmt: skip


class _Spec:
    def __init__(self, family):
        self.family, self.link, self.alpha_min_ratio = family, "auto", 1e-3


def case_cv(n, p, repeat, n_alphas, peer):
    from sklearn.model_selection import KFold

    from skglmnn import GLMRegressorCV

    family = "poisson" if peer == "glum" else "normal"
    folds = KFold(5, shuffle=True, random_state=0)
    rows = []
    for real in (False, True):
        X, y = make_data(family, n, p, real)
        grid = np.geomspace(*_alpha_range(_Spec(family), X, y), n_alphas)

        def ours(X=X, y=y, grid=grid):
            return GLMRegressorCV(family, alphas=grid, cv=folds, tol=TOL).fit(X, y)

        if peer == "glum":
            from glum import GeneralizedLinearRegressorCV

            def theirs(X=X, y=y, grid=grid):
                return GeneralizedLinearRegressorCV(family=family, l1_ratio=1.0, alphas=grid,
                                                    cv=folds, gradient_tol=TOL).fit(X, y)
        else:
            from sklearn.linear_model import ElasticNetCV

            def theirs(X=X, y=y, grid=grid):
                return ElasticNetCV(l1_ratio=1.0, alphas=grid, cv=folds, tol=TOL).fit(X, y)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ours, a, mb_ours = measure(ours, repeat)
            t_theirs, b, mb_theirs = measure(theirs, repeat)
        label = f"{'real' if real else 'iid'} {n}x{p}"
        rows.append((label, t_ours, t_theirs, t_theirs / t_ours, a.alpha_ == b.alpha_,
                     mb_ours / 1e6, mb_theirs / 1e6))  # fmt: skip
    name = "glum GeneralizedLinearRegressorCV" if peer == "glum" else "sklearn ElasticNetCV"
    print(f"\n{family} lasso CV, {n_alphas} alphas, 5 folds: skglmnn GLMRegressorCV vs {name}")
    print("| data | skglmnn s | peer s | ratio | same choice | skglmnn +MB | peer +MB |")
    print("|---|---:|---:|---:|---|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.2f} | {r[2]:.2f} | {r[3]:.2f} | {r[4]} | {r[5]:.0f} | "
              f"{r[6]:.0f} |")  # fmt: skip


def case_logistic(n, p, repeat, n_cs, penalties=("L2", "L1")):
    """GLMClassifierCV against LogisticRegressionCV: L2 (each solver named) and L1 (saga)."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    from skglmnn import GLMClassifierCV

    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    print(f"\nlogistic CV, {n_cs} Cs, 5 folds, neg_log_loss: GLMClassifierCV vs "
          "LogisticRegressionCV (rows print as they finish)")
    print("| data | penalty | sklearn solver | skglmnn s | sklearn s | skglmnn/sklearn | same C_ |"
          " skglmnn +MB | sklearn +MB |")
    print("|---|---|---|---:|---:|---:|---|---:|---:|", flush=True)
    for real in (False, True):
        X, y = make_data("binomial", n, p, real)
        if real:  # scikit-learn's solvers need scaled columns to finish at all
            X = StandardScaler().fit_transform(X)
        label = f"{'real (scaled)' if real else 'iid'} {n}x{p}"
        for ratios, solvers in (((0.0,), ("lbfgs", "newton-cholesky")), ((1.0,), ("saga",))):
            if ("L2" if ratios == (0.0,) else "L1") not in penalties:
                continue
            common = {"Cs": n_cs, "cv": folds, "l1_ratios": ratios, "scoring": "neg_log_loss",
                      "use_legacy_attributes": False, "tol": TOL}  # fmt: skip

            def ours(X=X, y=y, common=common, solver=solvers[0]):
                return GLMClassifierCV(solver=solver, **common).fit(X, y)

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t_ours, a, mb_ours = measure(ours, repeat)
                for solver in solvers:
                    def theirs(X=X, y=y, common=common, solver=solver):
                        return LogisticRegressionCV(solver=solver, max_iter=1000,
                                                    **common).fit(X, y)  # fmt: skip

                    t_theirs, b, mb_theirs = measure(theirs, repeat, warmup=False)
                    print(f"| {label} | {'L2' if ratios == (0.0,) else 'L1'} | {solver} | "
                          f"{t_ours:.2f} | {t_theirs:.2f} | {t_ours / t_theirs:.2f} | "
                          f"{a.C_ == b.C_} | {mb_ours / 1e6:.0f} | {mb_theirs / 1e6:.0f} |",
                          flush=True)  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--p", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--path-alphas", type=int, default=100)
    parser.add_argument("--cv-alphas", type=int, default=30)
    parser.add_argument("--cs", type=int, default=10)
    parser.add_argument("--cases", nargs="*", default=["path", "glum", "elasticnet", "logistic"])
    args = parser.parse_args()
    if "path" in args.cases:
        case_path(args.n, args.p, args.repeat, args.path_alphas)
    for peer in ("glum", "elasticnet"):
        if peer in args.cases:
            case_cv(args.n, args.p, args.repeat, args.cv_alphas, peer)
    penalties = [c.split("-")[1].upper() for c in args.cases if c.startswith("logistic-")]
    if "logistic" in args.cases or penalties:
        case_logistic(args.n, args.p, args.repeat, args.cs, penalties or ("L2", "L1"))


if __name__ == "__main__":
    main()
