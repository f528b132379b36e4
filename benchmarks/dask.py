"""Fits on a dask.distributed cluster against the in-memory fit of the same rows and dask-ml.

The data (correlated columns of scales 1e-3 .. 1e4, some far from zero; logistic
or Poisson targets) are generated on the workers from a seed, chunk by chunk,
and persisted there.  One run, in phases that never overlap:

1. a ``LocalCluster`` of worker processes on 127.0.0.1; for each problem the
   skglmnn fit on the dask arrays, then dask-ml's (lbfgs) on the same arrays;
   both objectives evaluated on the cluster; the client's peak memory above its
   start and each worker's peak resident memory;
2. the cluster closed, the same rows computed into this process and fitted in
   memory (scikit-learn-style ``GLMClassifier`` / ``GLMRegressor``).

Usage::

    python benchmarks/dask.py                      # 20M x 50, logistic and Poisson
    python benchmarks/dask.py --rows 2e6           # smaller
    python benchmarks/dask.py --scale 1e6,2e6,5e6,1e7,2e7 --problems logistic --repeat 3
    python benchmarks/dask.py --scale 1e6,2e6,5e6,1e7,2e7 --no-dask-ml --no-memory --rounds 3
    python benchmarks/dask.py --scale 1e6,2e6,5e6,1e7,2e7 --no-dask-ml --no-memory --rounds 3 \
        --problems logistic,logistic-newton,poisson
    python benchmarks/dask.py --scale 1e6,5e6,2e7 --passes    # one pass: dask's floor and ours
"""

import argparse
import gc
import importlib.util
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np

# This file's name is the package's: its folder must not shadow dask on the import path.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
_spec = importlib.util.spec_from_file_location("_measure", HERE / "_measure.py")
_measure = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_measure)
PeakMemory = _measure.PeakMemory

C = 1.0  # scikit-learn's default penalty: 1 / (2 C) ||w||^2 beside the summed loss


def make_data(n, p, problem, chunk_rows, seed=0):
    """Lazy ``(X, y)``: correlated, unevenly scaled columns and targets from a GLM."""
    import dask.array as da

    rng = np.random.default_rng(seed)
    mixing = np.linalg.cholesky(0.6 * np.ones((p, p)) + 0.4 * np.eye(p)).T
    scales = 10.0 ** rng.uniform(-3, 4, p)
    centres = np.where(rng.uniform(size=p) < 0.3, 2000.0 * scales, 0.0)  # years, incomes
    beta = rng.normal(0, 0.5 / np.sqrt(p), p)
    source = da.random.default_rng(seed)
    Z = source.standard_normal((n, p), chunks=(chunk_rows, p)) @ mixing
    X = Z * scales + centres
    logistic = problem.startswith("logistic")
    eta = Z @ beta + (-0.3 if logistic else 0.5)
    if logistic:
        y = (source.uniform(size=n, chunks=chunk_rows) < 1 / (1 + da.exp(-eta))).astype(float)
    else:
        y = source.poisson(da.exp(eta), chunks=chunk_rows).astype(float)
    return X, y


def estimator(problem):
    """The skglmnn model of a problem: ``logistic`` (GLMClassifier's default solver,
    lbfgs, as LogisticRegression's), ``logistic-newton`` (solver="newton-cholesky",
    whose iteration count hardly depends on the rows), ``poisson``."""
    from skglmnn import GLMClassifier, GLMRegressor

    if problem == "logistic-newton":
        return GLMClassifier(C=C, solver="newton-cholesky")
    if problem == "logistic":
        return GLMClassifier(C=C)
    return GLMRegressor(family="poisson", alpha=0.0)


def dask_ml_estimator(problem):
    from dask_ml.linear_model import LogisticRegression, PoissonRegression

    if problem.startswith("logistic"):
        return LogisticRegression(solver="lbfgs", C=C)
    return PoissonRegression(solver="lbfgs", C=C)


def objective(problem, X, y, coef, intercept):
    """scikit-learn's objective per sample: mean loss + ||coef||^2 / (2 C n) (logistic),
    mean half deviance (Poisson, unpenalised) -- evaluated on the cluster."""
    from skglmnn._dask import DaskData, make_dask_problem, summarise
    from skglmnn.families import get_family
    from skglmnn.links import get_link

    data = DaskData(X, y)
    summary = summarise(data)
    if problem.startswith("logistic"):
        family, link, alpha = get_family("binomial"), get_link("logit"), 1.0 / (C * data.n_samples)
    else:
        family, link, alpha = get_family("poisson"), get_link("log"), 0.0
    glm = make_dask_problem(data, summary, family=family, link=link, alpha=alpha)
    theta = glm.from_original(np.ravel(coef), np.ravel(intercept))
    value, _, _ = glm.value_gradient(theta)
    return value


def timed_fit(problem, X, y):
    """``(model, seconds, extra client memory)`` of one fit, warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()
        with PeakMemory() as memory:
            start = time.perf_counter()
            model = estimator(problem).fit(X, y)
            seconds = time.perf_counter() - start
    return model, seconds, memory.extra


def local_cluster(args):
    """The benchmark's cluster: worker processes of one thread, on 127.0.0.1 only."""
    from distributed import LocalCluster

    return LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                        host="127.0.0.1", dashboard_address="127.0.0.1:0",
                        memory_limit=args.memory_limit)  # fmt: skip


def worker_peaks(client):
    """Each worker's peak resident memory (bytes) since it started."""
    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return sorted(peaks.values())


def gb(value):
    return f"{value / 2**30:.2f} GB"


def run_cluster(args, sizes):
    import dask
    from distributed import Client

    results = {}
    cluster = local_cluster(args)
    with Client(cluster) as client:
        for problem in args.problems:  # numba's kernels loaded in the workers, untimed
            estimator(problem).fit(*dask.persist(*make_data(400_000, 5, problem, 200_000)))
        # rounds: every size once per round (alternating order), so that a slow spell of
        # the machine falls on all sizes rather than on one
        for rounds in range(args.rounds):
            for n in sizes if rounds % 2 == 0 else sizes[::-1]:
                for problem in args.problems:
                    _fit_size(args, client, results, problem, n, first=rounds == 0,
                              dask_ml=args.dask_ml and n == max(sizes) and rounds == 0)  # fmt: skip
    cluster.close()
    return results


def _fit_size(args, client, results, problem, n, first, dask_ml):
    """``args.repeat`` fits of ``n`` freshly generated rows, recorded in ``results``."""
    import dask

    X, y = dask.persist(*make_data(n, args.columns, problem, args.chunk_rows))
    dask.compute(X.sum(), y.sum())  # generated before any clock starts
    row = results.setdefault((problem, n), {"times": [], "client": 0})
    fits = [timed_fit(problem, X, y) for _ in range(args.repeat)]
    row["times"] += [fit[1] for fit in fits]
    row["client"] = max([row["client"]] + [fit[2] for fit in fits])
    row["dask"] = float(np.median(row["times"]))
    model = fits[0][0]
    row["solver"] = getattr(model, "solver_", model.solver)
    row["n_iter"] = int(np.max(model.n_iter_))
    if first:
        row["objective"] = objective(problem, X, y, model.coef_, model.intercept_)
    if dask_ml:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            other = dask_ml_estimator(problem).fit(X, y)
            row["dask_ml"] = time.perf_counter() - start
        row["dask_ml_objective"] = objective(problem, X, y, other.coef_, other.intercept_)
    row["workers"] = worker_peaks(client)
    print(f"  {problem} n={n:,}: dask fit {', '.join(f'{t:.2f}' for t in row['times'])} s, "
          f"client +{gb(row['client'])}", flush=True)  # fmt: skip
    del X, y
    client.cancel(list(client.futures)) if client.futures else None


def _median_seconds(func, *args, repeat=7):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run_passes(args, sizes):
    """Per row: dask's own ``X.sum(axis=0)`` against one skglmnn loss-and-gradient pass."""
    import dask
    from distributed import Client

    from skglmnn._dask import DaskData, _glm_block
    from skglmnn._loss import GLMLoss
    from skglmnn.families import get_family
    from skglmnn.links import get_link

    loss = GLMLoss(get_family("binomial"), get_link("logit"))
    p = args.columns
    block = (loss, np.zeros(p), 0.1, np.zeros(p), False)
    print("\n| rows | X.sum(axis=0) | ns per row | loss + gradient pass | ns per row |")
    print("|---:|---:|---:|---:|---:|")
    cluster = local_cluster(args)
    with Client(cluster):
        for n in sizes:
            X, y = make_data(n, p, "logistic", args.chunk_rows)
            rows = DaskData(X, y).persist()
            dask.compute(rows.X.sum())
            rows.map_reduce(_glm_block, *block)
            ours = _median_seconds(rows.map_reduce, _glm_block, *block)
            theirs = _median_seconds(dask.compute, rows.X.sum(axis=0))
            print(f"| {n:,} | {theirs * 1e3:.1f} ms | {theirs / n * 1e9:.1f} "
                  f"| {ours * 1e3:.1f} ms | {ours / n * 1e9:.1f} |", flush=True)
            del X, y, rows
    cluster.close()


def run_memory(args, results, n):
    import dask

    for problem in args.problems:
        X, y = dask.compute(*make_data(400_000, 5, problem, 200_000), scheduler="threads")
        estimator(problem).fit(X, y)  # numba's kernels loaded, untimed
        X, y = make_data(n, args.columns, problem, args.chunk_rows)
        X, y = dask.compute(X, y, scheduler="threads")
        X = np.ascontiguousarray(X)
        model, seconds, extra = timed_fit(problem, X, y)
        row = results[(problem, n)]
        row["memory"], row["memory_extra"] = seconds, extra
        row["memory_solver"] = getattr(model, "solver_", model.solver)
        print(f"  {problem} n={n:,}: in-memory fit {seconds:.2f} s", flush=True)
        del X, y, model


def report(args, results, sizes):
    n = max(sizes)
    print(f"\n## {n:,} x {args.columns}, {args.workers} workers x 1 thread, chunks of "
          f"{args.chunk_rows:,} rows (one run)\n")  # fmt: skip
    print("| problem | skglmnn on dask | in memory | ratio | dask-ml (lbfgs) | dask-ml / skglmnn "
          "| objective: skglmnn | dask-ml | client peak | worker peaks |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for problem in args.problems:
        row = results[(problem, n)]
        memory = row.get("memory", np.nan)
        other = row.get("dask_ml", np.nan)
        print(f"| {problem} ({row['solver']}) | {row['dask']:.2f} s | {memory:.2f} s "
              f"| {row['dask'] / memory:.2f}x | {other:.2f} s | {other / row['dask']:.1f}x "
              f"| {row['objective']:.10f} | {row.get('dask_ml_objective', np.nan):.10f} "
              f"| +{gb(row['client'])} | {', '.join(gb(v) for v in row['workers'])} |")
    if len(sizes) > 1:
        print(f"\n| problem | rows | skglmnn on dask (median of {args.repeat * args.rounds}) "
              "| ns per row | vs smallest | iterations | ns per row and iteration "
              "| vs smallest |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for problem in args.problems:
            base = base_iter = None
            for size in sizes:
                row = results[(problem, size)]
                per = row["dask"] / size * 1e9
                per_iter = per / row["n_iter"]
                base, base_iter = base or per, base_iter or per_iter
                print(f"| {problem} | {size:,} | {row['dask']:.2f} s | {per:.0f} "
                      f"| {per / base:.2f}x | {row['n_iter']} | {per_iter:.1f} "
                      f"| {per_iter / base_iter:.2f}x |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=2e7)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--scale", default="", help="comma-separated row counts: a scale curve")
    parser.add_argument("--problems", default="logistic,poisson")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-rows", type=int, default=500_000)
    parser.add_argument("--memory-limit", default="11GB")
    parser.add_argument("--no-dask-ml", dest="dask_ml", action="store_false")
    parser.add_argument("--no-memory", dest="in_memory", action="store_false",
                        help="skip the in-memory reference fit")
    parser.add_argument("--repeat", type=int, default=1,
                        help="fits per size on the cluster; the median time is reported")
    parser.add_argument("--rounds", type=int, default=1,
                        help="generate and fit every size this many times, sizes interleaved")
    parser.add_argument("--passes", action="store_true",
                        help="only time single passes (dask's X.sum against ours) per size")
    args = parser.parse_args()
    args.problems = args.problems.split(",")
    sizes = sorted(int(float(s)) for s in args.scale.split(",")) if args.scale else \
        [int(args.rows)]  # fmt: skip
    if args.passes:
        run_passes(args, sizes)
        return
    results = run_cluster(args, sizes)
    if args.in_memory:
        run_memory(args, results, max(sizes))
    report(args, results, sizes)


if __name__ == "__main__":
    main()
