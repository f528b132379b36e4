"""Kernels run as plain Python (before a process loads numba) against the compiled kernels.

The rest of the suite runs compiled kernels (``conftest.py`` compiles them at
start-up).  Here fresh processes, which have not loaded numba, run the same
kernels interpreted, on every (family, link) pair, and the parent compares
their outputs with its compiled ones; and a small fit must not load numba at all
(the cold-start promise of ``skglmnn._kernels._jit``).
"""

import itertools
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import FAMILY_SPECS, LINK_SPECS, sample_y, valid_eta

from skglmnn._kernels import _jit
from skglmnn._loss import GLMLoss, MultinomialLoss
from skglmnn.families import get_family
from skglmnn.links import get_link

TESTS = pathlib.Path(__file__).parent


def table(n=40, seed=0):
    """A small real-shaped table: a calendar year, an income, a rate of scale 1e-3, a dummy."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([
        rng.integers(1990, 2021, n), rng.lognormal(10, 1, n),
        rng.normal(size=n) * 1e-3, rng.integers(0, 2, n),
    ]).astype(float)  # fmt: skip
    coef = 0.3 / X.std(axis=0) * np.array([1.0, -1.0, 0.5, 1.0])
    return np.ascontiguousarray(X), coef, rng.uniform(0.5, 2.0, n)


def evaluate_everything():
    """Every kernel the GLM estimators run, on every pair: name -> array."""
    out = {}
    X, coef, w = table()
    shift = X.mean(axis=0)
    X32 = X.astype(np.float32)
    for family_spec, link_spec in itertools.product(FAMILY_SPECS, LINK_SPECS):
        family, link = get_family(family_spec), get_link(link_spec)
        key = f"{family_spec}|{link_spec}"
        eta = valid_eta(link, n=X.shape[0])
        mu = link.inverse(eta)
        y = sample_y(family, np.clip(np.abs(mu), 0.05, 50.0))
        loss = GLMLoss(family, link)
        total, grad, hess = loss.pointwise(y, eta, w, hessian=True)
        out[key + "|pointwise"] = np.r_[total, grad, hess]
        terms = loss.y_terms(y)
        total, grad, hess = loss.pointwise(y, eta, w, hessian=True, y_terms=terms)
        out[key + "|y-terms"] = np.r_[total, grad, hess, [] if terms is None else terms]
        out[key + "|loss"] = np.r_[loss.loss(y, eta, w)]
        out[key + "|inverse"] = np.r_[mu, link.inverse_derivative(eta)]
        inside = family.mu_interval.contains(mu)
        out[key + "|family"] = np.r_[family.unit_variance(mu[inside]),
                                     family.unit_deviance(y[inside], mu[inside])]  # fmt: skip
        intercept = float(np.median(eta))
        for name, data, centre in (("dense", X, shift), ("float32", X32, shift),
                                   ("csr", sp.csr_array(X), None)):  # fmt: skip
            b = intercept if centre is not None else intercept - coef @ shift
            value, g, h = loss.loss_gradient(data, y, coef, b, w, hessian=True, shift=centre)
            out[f"{key}|{name}"] = np.r_[value, g, h]
            if name != "float32":  # the solvers' call: y terms, per-sample gradients (dense)
                deltas = np.empty(X.shape[0]) if name == "dense" else None
                value, g, h = loss.loss_gradient(data, y, coef, b, w, hessian=True, shift=centre,
                                                 y_terms=terms, sample_gradient=deltas)  # fmt: skip
                out[f"{key}|{name}-y-terms"] = np.r_[value, g, h, [] if deltas is None else deltas]
    multinomial = MultinomialLoss()
    labels = np.arange(X.shape[0]) % 3
    y = labels.astype(np.float64)
    coefs = np.outer([1.0, -0.5, 0.2], coef)
    value, g = multinomial.loss_gradient(X, y, coefs, np.array([0.1, 0.0, -0.1]), w)
    out["multinomial"] = np.r_[value, g.ravel()]
    return out


def run_fresh(body, timeout=120):
    """Run ``body`` in a new Python process (tests/ importable); its last line as JSON."""
    script = f"import sys; sys.path.insert(0, {str(TESTS)!r})\n" + body
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_interpreted_kernels_equal_compiled_ones_on_every_pair(tmp_path):
    path = tmp_path / "interpreted.npz"
    report = run_fresh(f"""
import json, sys
import numpy as np
from skglmnn._kernels import _jit
_jit.INTERPRETED_BUDGET = float("inf")
import test_interpreted
np.savez({str(path)!r}, **test_interpreted.evaluate_everything())
print(json.dumps({{"compiled": _jit.is_compiled(), "numba": "numba" in sys.modules}}))
""")
    assert report == {"compiled": False, "numba": False}  # all of it ran interpreted
    _jit.compile_kernels()
    compiled = evaluate_everything()
    with np.load(path) as interpreted:
        assert sorted(interpreted.files) == sorted(compiled)
        for key, expected in compiled.items():
            # same formulas; the compiled loops may reassociate sums (fastmath)
            np.testing.assert_allclose(interpreted[key], expected, rtol=1e-10, atol=1e-13,
                                       err_msg=key)  # fmt: skip


def test_a_small_fit_does_not_load_numba():
    report = run_fresh("""
import json, sys
import numpy as np
from skglmnn import GLMClassifier, GLMRegressor
from test_interpreted import table
X, _, w = table(300)
rng = np.random.default_rng(1)
labels = (X[:, 1] > np.median(X[:, 1])).astype(int)
clf = GLMClassifier().fit(X, labels, sample_weight=w)
clf.predict_proba(X); clf.score(X, labels)
counts = rng.poisson(1.0 + X[:, 3])
reg = GLMRegressor("poisson", alpha=0.0).fit(X, counts)
reg.predict(X); reg.score(X, counts); reg.coef_table()
three = np.arange(300) % 3
GLMClassifier().fit(X, three).predict_proba(X)
print(json.dumps({"numba": "numba" in sys.modules, "coef": clf.coef_.ravel().tolist()}))
""")
    assert report["numba"] is False
    # and the answer is the compiled one
    from skglmnn import GLMClassifier

    X, _, w = table(300)
    labels = (X[:, 1] > np.median(X[:, 1])).astype(int)
    clf = GLMClassifier().fit(X, labels, sample_weight=w)
    np.testing.assert_allclose(report["coef"], clf.coef_.ravel(), rtol=1e-8)


def test_a_large_fit_compiles_before_its_first_sweep():
    report = run_fresh("""
import json, sys
import numpy as np
from skglmnn import GLMRegressor
from skglmnn._kernels import _jit
rng = np.random.default_rng(0)
X = rng.normal(size=(20_000, 20))
GLMRegressor("poisson").fit(X, rng.poisson(1.0, 20_000))
print(json.dumps({"compiled": _jit.is_compiled(), "interpreted": _jit._interpreted}))
""")
    assert report["compiled"] is True
    assert report["interpreted"] <= _jit.INTERPRETED_BUDGET


@pytest.mark.parametrize("family, eta", [("poisson", 800.0), ("gamma", -800.0)])
def test_an_overflow_in_python_math_reruns_the_call_compiled(family, eta):
    """``math.exp(800)`` raises in Python where compiled code returns inf."""
    report = run_fresh(f"""
import json
import numpy as np
from skglmnn._kernels import _jit
from skglmnn._loss import GLMLoss
from skglmnn.families import get_family
from skglmnn.links import get_link
loss = GLMLoss(get_family({family!r}), get_link("log"))
y = np.array([1.0, 3.0]); eta = np.array([{eta}, 0.5])
value, grad, hess = loss.pointwise(y, eta, hessian=True)
print(json.dumps({{"compiled": _jit.is_compiled(),
                   "values": [repr(float(v)) for v in np.r_[value, grad, hess]]}}))
""")
    assert report["compiled"] is True
    _jit.compile_kernels()
    loss = GLMLoss(get_family(family), get_link("log"))
    expected = np.r_[loss.pointwise(np.array([1.0, 3.0]), np.array([eta, 0.5]), hessian=True)]
    np.testing.assert_array_equal([float(v) for v in report["values"]], expected)
