"""Cold start: import + a first fit in a fresh process, against scikit-learn.

Usage::

    python benchmarks/cold_start.py [repeats]      # about a minute on 2 cores

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
"""

import json
import statistics
import subprocess
import sys

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
print({{"seconds": elapsed, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}})
"""


def run(body):
    """One fresh process: (seconds from first import to fitted, peak MB)."""
    out = subprocess.run([sys.executable, "-c", WRAPPER.format(body=body)], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    result = json.loads(out.strip().splitlines()[-1].replace("'", '"'))
    return result["seconds"], result["peak_mb"]


def main(repeats=7):
    for _, body in PROGRAMS.values():  # compile and cache the kernels once, unmeasured
        run(body)
    samples = {name: [] for name in PROGRAMS}
    for _ in range(repeats):
        for name, (_, body) in PROGRAMS.items():
            samples[name].append(run(body))
    seconds = {name: statistics.median(s for s, _ in values) for name, values in samples.items()}
    print(f"{'':34s} {'median s':>9s} {'ratio':>6s} {'peak MB':>8s}  against")
    for name, values in samples.items():
        reference = PROGRAMS[name][0]
        peak = statistics.median(m for _, m in values)
        print(f"{name:34s} {seconds[name]:9.3f} {seconds[name] / seconds[reference]:6.2f} "
              f"{peak:8.0f}  {reference}")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
