"""What unscaled columns do to network training: held-out scores, raw X against scaled X.

Usage::

    python benchmarks/unscaled_inputs.py        # about 30 s on 2 cores

Real-shaped Poisson tables (``skglmnn._testing.make_tabular``: a calendar
year, an income in cents, an age, a dummy, a count, a rate of scale 1e-3 and
further correlated columns of scales 1e-3..1e4), 5,000 rows, a quarter held
out.  One hidden layer of 16 tanh units.  For each model: fitted on raw X,
and in a pipeline behind ``StandardScaler``; scored by held-out Poisson D^2.
skglmnn's networks reparametrise their first layer on standardised inputs, so
the two should score alike; scikit-learn's ``MLPRegressor(loss="poisson")``
shows what raw inputs do to a network that reads them as they are.
"""

import sys
import time
import warnings

import numpy as np
from sklearn.metrics import d2_tweedie_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skglmnn import NeuralGLM
from skglmnn._testing import make_tabular

SEEDS = range(3)


def models():
    common = dict(hidden=(16,), activation="tanh", family="poisson", max_iter=200)
    yield "NeuralGLM adam", lambda seed: NeuralGLM(solver="adam", random_state=seed,
                                                         **common)  # fmt: skip
    yield "NeuralGLM lbfgs", lambda seed: NeuralGLM(solver="lbfgs", random_state=seed,
                                                          **common)  # fmt: skip
    yield "MLPRegressor adam, loss=poisson", lambda seed: MLPRegressor(
        hidden_layer_sizes=(16,), activation="tanh", loss="poisson", random_state=seed,
        max_iter=200,
    )


def score(model, X, y):
    """Held-out Poisson D^2 (the fraction of deviance explained)."""
    return d2_tweedie_score(y, np.maximum(model.predict(X), 1e-12), power=1)


def main():
    print("# Held-out scores on real-shaped Poisson tables (3 seeds), raw X vs StandardScaler")
    print("| model | input | scores | median s |\n|---|---|---|---:|")
    for name, make in models():
        for scaled in (False, True):
            scores, times = [], []
            for seed in SEEDS:
                X, y, _, _ = make_tabular(5000, 8, "poisson", seed=seed)
                Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=seed)
                model = make(seed)
                if scaled:
                    model = make_pipeline(StandardScaler(), model)
                started = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(Xtr, ytr)
                times.append(time.perf_counter() - started)
                scores.append(score(model, Xte, yte))
            label = "StandardScaler" if scaled else "raw"
            print(f"| {name} | {label} | {' '.join(f'{s:.3f}' for s in scores)} | "
                  f"{np.median(times):.2f} |")  # fmt: skip
            sys.stdout.flush()


if __name__ == "__main__":
    main()
