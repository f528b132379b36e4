"""Cold start: import + a first fit in a fresh process, against scikit-learn.

Usage::

    python benchmarks/cold_start.py [repeats]      # about a minute on 2 cores
    python benchmarks/cold_start.py --compile [repeats] [--against CHECKOUT]

Each measurement is a new Python process that imports the package, fits a
model, and reports its wall time and peak resident memory (``ru_maxrss``):
a 300 x 5 logistic regression (and, for skglmnn, also a Poisson GLM), which
skglmnn runs with its kernels interpreted (numba is not even imported, see
``skglmnn/_kernels/_jit.py``), and a 20 000 x 20 Poisson regression, large
enough for skglmnn to load numba and its compiled kernels.  The kernels are
compiled and cached on disk by a first, unmeasured run, as they are after any
install; the processes then only load them.  Medians of ``repeats`` runs
(default 7), alternating the contenders; each ratio is against the scikit-learn
row named in its last column, from the same run.  Do not run beside the tests
or another benchmark: two cores are easily saturated.

``--compile`` measures what the first fit after an install costs, compilation
included: every process starts from an empty numba cache (``NUMBA_CACHE_DIR``
set to a new directory; the package's own cache is not read) and fits a
Poisson GLM on 20 000 x 20, then networks ((64, 64) relu, Poisson output, 2
epochs on 20 000 x 20) at batch 32 (one core) and batch 256 (split over the
cores): in float64 alone, and float64 then float32 in the same process (what a
second compute dtype adds).  ``--against CHECKOUT`` runs the same programs on
another checkout of the package (put first on ``PYTHONPATH``), alternating with
this one, so that both are measured in the same run on this noisy machine.
Each cell: the process's wall seconds, its fits' seconds (one per dtype) and
its CPU seconds (compilation runs on one core, so they are close to the wall
time unless the machine is shared).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

SMALL = """
import numpy as np
X = np.random.default_rng(0).normal(size=(300, 5)); y = (X[:, 0] > 0).astype(int)
counts = np.random.default_rng(1).poisson(1.0, 300)
"""
LARGE = """
import numpy as np
rng = np.random.default_rng(0)
X = rng.normal(size=(20_000, 20)); counts = rng.poisson(np.exp(0.1 * X[:, 0]))
"""
LOGISTIC = "scikit-learn LogisticRegression"
POISSON = "scikit-learn PoissonRegressor 20k"
PROGRAMS = {  # name: (reference row, program)
    LOGISTIC: (LOGISTIC, SMALL + """
from sklearn.linear_model import LogisticRegression
LogisticRegression().fit(X, y)
"""),
    "skglmnn GLMClassifier": (LOGISTIC, SMALL + """
from skglmnn import GLMClassifier
GLMClassifier().fit(X, y)
"""),
    "skglmnn GLMRegressor(poisson)": (LOGISTIC, SMALL + """
from skglmnn import GLMRegressor
GLMRegressor("poisson").fit(X, counts)
"""),
    POISSON: (POISSON, LARGE + """
from sklearn.linear_model import PoissonRegressor
PoissonRegressor(alpha=0.0).fit(X, counts)
"""),
    "skglmnn GLMRegressor(poisson) 20k": (POISSON, LARGE + """
from skglmnn import GLMRegressor
GLMRegressor("poisson").fit(X, counts)
"""),
}  # fmt: skip

WRAPPER = """
import resource, time
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print({{"seconds": elapsed, "peak_mb": usage.ru_maxrss / 1024,
        "cpu": usage.ru_utime + usage.ru_stime}})
"""


NETWORK = LARGE + """
import warnings
from skglmnn import NeuralGLM
warnings.simplefilter("ignore")  # 2 epochs: not converged
seconds = []
for dtype in {dtypes}:
    begun = time.perf_counter()
    NeuralGLM(hidden=(64, 64), family="poisson", max_iter=2, batch_size={batch},
              random_state=0).fit(X.astype(dtype), counts)
    seconds.append(time.perf_counter() - begun)
print({{"fits": seconds}})
"""
COMPILE = {  # name: program, each from an empty numba cache
    "GLMRegressor(poisson) 20k": LARGE + """
from skglmnn import GLMRegressor
GLMRegressor("poisson").fit(X, counts)
""",
    "NeuralGLM batch 32, float64": NETWORK.format(dtypes=("float64",), batch=32),
    "NeuralGLM batch 32, float64 + float32": NETWORK.format(
        dtypes=("float64", "float32"), batch=32),
    "NeuralGLM batch 256, float64": NETWORK.format(dtypes=("float64",), batch=256),
    "NeuralGLM batch 256, float64 + float32": NETWORK.format(
        dtypes=("float64", "float32"), batch=256),
}  # fmt: skip


def run(body, env=None):
    """One fresh process: (seconds from first import to fitted, peak MB, its printed dicts)."""
    out = subprocess.run([sys.executable, "-c", WRAPPER.format(body=body)], check=True,
                         capture_output=True, text=True, env=env).stdout  # fmt: skip
    printed = {}
    for line in out.strip().splitlines():
        if line.startswith("{"):
            printed.update(json.loads(line.replace("'", '"')))
    return printed["seconds"], printed["peak_mb"], printed


def compile_times(repeats, against):
    """Medians of first fits from an empty numba cache, this checkout (and ``against``)."""
    checkouts = {"this checkout": None}
    if against:
        checkouts[f"against {against}"] = os.path.abspath(against)
    samples = {(checkout, name): [] for checkout in checkouts for name in COMPILE}
    for _ in range(repeats):
        for name, body in COMPILE.items():
            for checkout, path in checkouts.items():
                env = dict(os.environ)
                if path is not None:
                    env["PYTHONPATH"] = os.pathsep.join(filter(None, [path, env.get("PYTHONPATH")]))
                with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
                    env["NUMBA_CACHE_DIR"] = cache
                    seconds, _, printed = run(body, env)
                samples[checkout, name].append((seconds, printed.get("fits", []), printed["cpu"]))
    print(f"first fit from an empty numba cache, medians of {repeats}: seconds of the process "
          "(its fits, one per dtype) [CPU seconds of the process]")  # fmt: skip
    print(f"{'':40s} " + " ".join(f"{checkout[:30]:>30s}" for checkout in checkouts))
    for name in COMPILE:
        cells = []
        for checkout in checkouts:
            values = samples[checkout, name]
            total = statistics.median(s for s, _, _ in values)
            cpu = statistics.median(c for _, _, c in values)
            fits = [statistics.median(f[k] for _, f, _ in values)
                    for k in range(len(values[0][1]))]  # fmt: skip
            detail = "" if not fits else " (" + " + ".join(f"{f:.1f}" for f in fits) + ")"
            cells.append(f"{total:.1f}{detail} [{cpu:.1f}]")
        print(f"{name:40s} " + " ".join(f"{cell:>30s}" for cell in cells))


def main(repeats=7):
    for _, body in PROGRAMS.values():  # compile and cache the kernels once, unmeasured
        run(body)
    samples = {name: [] for name in PROGRAMS}
    for _ in range(repeats):
        for name, (_, body) in PROGRAMS.items():
            samples[name].append(run(body)[:2])
    seconds = {name: statistics.median(s for s, _ in values) for name, values in samples.items()}
    print(f"{'':34s} {'median s':>9s} {'ratio':>6s} {'peak MB':>8s}  against")
    for name, values in samples.items():
        reference = PROGRAMS[name][0]
        peak = statistics.median(m for _, m in values)
        print(f"{name:34s} {seconds[name]:9.3f} {seconds[name] / seconds[reference]:6.2f} "
              f"{peak:8.0f}  {reference}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repeats", nargs="?", type=int, default=None)
    parser.add_argument("--compile", action="store_true", help="first fits from an empty cache")
    parser.add_argument("--against", help="another checkout of the package, same programs")
    args = parser.parse_args()
    if args.compile:
        compile_times(args.repeats or 3, args.against)
    else:
        main(args.repeats or 7)
