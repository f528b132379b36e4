"""Cold start: import + a first small fit in a fresh process, against scikit-learn.

Usage::

    python benchmarks/cold_start.py [repeats]      # about 30 s on 2 cores

Each measurement is a new Python process that imports the package, fits a
300 x 5 logistic regression (and, for skglmnn, also a Poisson GLM), and
reports its wall time and peak resident memory (``ru_maxrss``).  The numba
kernels are compiled and cached on disk by a first, unmeasured run, as they are
after any install; the processes then only load them.  Medians of
``repeats`` runs (default 7), alternating the contenders; ratios from the same
run.  Do not run beside the tests or another benchmark: two cores are easily
saturated.
"""

import json
import statistics
import subprocess
import sys

PROGRAMS = {
    "scikit-learn LogisticRegression": """
import numpy as np
from sklearn.linear_model import LogisticRegression
X = np.random.default_rng(0).normal(size=(300, 5)); y = (X[:, 0] > 0).astype(int)
LogisticRegression().fit(X, y)
""",
    "skglmnn GLMClassifier": """
import numpy as np
from skglmnn import GLMClassifier
X = np.random.default_rng(0).normal(size=(300, 5)); y = (X[:, 0] > 0).astype(int)
GLMClassifier().fit(X, y)
""",
    "skglmnn GLMRegressor(poisson)": """
import numpy as np
from skglmnn import GLMRegressor
X = np.random.default_rng(0).normal(size=(300, 5)); y = np.random.default_rng(1).poisson(1.0, 300)
GLMRegressor("poisson").fit(X, y)
""",
}

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
    for body in PROGRAMS.values():  # compile and cache the kernels once, unmeasured
        run(body)
    samples = {name: [] for name in PROGRAMS}
    for _ in range(repeats):
        for name, body in PROGRAMS.items():
            samples[name].append(run(body))
    reference = statistics.median(s for s, _ in samples["scikit-learn LogisticRegression"])
    print(f"{'':34s} {'median s':>9s} {'ratio':>6s} {'peak MB':>8s}")
    for name, values in samples.items():
        seconds = statistics.median(s for s, _ in values)
        peak = statistics.median(m for _, m in values)
        print(f"{name:34s} {seconds:9.3f} {seconds / reference:6.2f} {peak:8.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
