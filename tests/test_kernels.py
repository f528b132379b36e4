"""Compiled kernels against NumPy/SciPy formulas and finite differences, for every
(family, link) pair of the registries."""

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import FAMILY_SPECS, LINK_SPECS, REFERENCE_DERIVATIVE, sample_y, valid_eta
from scipy import special

from skglmnn._kernels import codes as C
from skglmnn._kernels.pointwise import pointwise_loss_gradient_hessian
from skglmnn._loss import GLMLoss
from skglmnn._threads import _threads_for
from skglmnn.families import get_family
from skglmnn.links import get_link


def reference_unit_deviance(family, y, mu):
    """Unit deviances written out with NumPy/SciPy, independent of the kernels."""
    name, p = family.name, family.power
    if name == "tweedie":
        name = {0.0: "normal", 1.0: "poisson", 2.0: "gamma"}.get(p, "tweedie")
    if name == "normal":
        return (y - mu) ** 2
    if name == "binomial":
        return 2 * (special.xlogy(y, y / mu) + special.xlogy(1 - y, (1 - y) / (1 - mu)))
    if name == "poisson":
        return 2 * (special.xlogy(y, y / mu) - y + mu)
    if name == "gamma":
        return 2 * (np.log(mu / y) + y / mu - 1)
    if name == "inverse_gaussian":
        return (y - mu) ** 2 / (y * mu**2)
    if name == "tweedie":
        return 2 * (np.maximum(y, 0) ** (2 - p) / ((1 - p) * (2 - p))
                    - y * mu ** (1 - p) / (1 - p) + mu ** (2 - p) / (2 - p))  # fmt: skip
    a = p  # negative binomial
    return 2 * (special.xlogy(y, y / mu) - (y + 1 / a) * np.log((1 + a * y) / (1 + a * mu)))


def reference_variance(family, mu):
    p = family.power
    return {
        "normal": np.ones_like(mu), "binomial": mu * (1 - mu), "poisson": mu,
        "gamma": mu**2, "inverse_gaussian": mu**3, "tweedie": mu**p,
        "negative_binomial": mu + p * mu**2,
    }[family.name]  # fmt: skip


def pair_data(family, link, n=60):
    """eta inside the link's range whose means lie in the family's domain, and y."""
    eta = valid_eta(link, n=n)
    mu = link.inverse(eta)
    keep = family.mu_interval.contains(mu)
    if link.name == "negative_binomial":
        keep &= mu < 50
    eta, mu = eta[keep], mu[keep]
    if eta.size < 5:
        pytest.skip(f"{link!r} gives no means in the domain of {family!r}")
    return eta, mu, sample_y(family, mu)


def run_pointwise(loss, y, eta, w=None, pair=None):
    grad, hess = np.empty_like(eta), np.empty_like(eta)
    f, fp, k, kp, fused = loss.codes
    w = np.empty(0, eta.dtype) if w is None else w
    total = pointwise_loss_gradient_hessian(f, fp, k, kp, fused if pair is None else pair,
                                            y, eta, w, grad, hess, None)  # fmt: skip
    return total, grad, hess


PAIRS = list(itertools.product(FAMILY_SPECS, LINK_SPECS))


@pytest.mark.parametrize("family_spec, link_spec", PAIRS)
def test_general_path_against_references(family_spec, link_spec):
    family, link = get_family(family_spec), get_link(link_spec)
    eta, mu, y = pair_data(family, link)
    loss = GLMLoss(family, link)
    # one sample at a time gives per-sample losses
    per_sample = np.array([run_pointwise(loss, y[i : i + 1], eta[i : i + 1], pair=C.NO_PAIR)[0]
                           for i in range(y.size)])  # fmt: skip
    np.testing.assert_allclose(per_sample, 0.5 * reference_unit_deviance(family, y, mu),
                               rtol=1e-9, atol=1e-12)  # fmt: skip
    _, delta, fisher = run_pointwise(loss, y, eta, pair=C.NO_PAIR)
    # delta against central finite differences of the loss in eta
    h = 1e-6 * np.maximum(1, np.abs(eta))
    up = np.array([run_pointwise(loss, y[i : i + 1], eta[i : i + 1] + h[i], pair=C.NO_PAIR)[0]
                   for i in range(y.size)])  # fmt: skip
    down = np.array([run_pointwise(loss, y[i : i + 1], eta[i : i + 1] - h[i], pair=C.NO_PAIR)[0]
                     for i in range(y.size)])  # fmt: skip
    np.testing.assert_allclose(delta, (up - down) / (2 * h), rtol=1e-5, atol=1e-7)
    # Fisher weight = h'(eta)^2 / V(mu)
    dmu = REFERENCE_DERIVATIVE[link.name](eta, link.power)
    np.testing.assert_allclose(fisher, dmu**2 / reference_variance(family, mu), rtol=1e-6)


FUSED = [(f, k) for f, k in PAIRS if get_family(f).fused_pair(get_link(k)) != C.NO_PAIR]


def test_fused_pairs_are_the_expected_ones():
    names = {(get_family(f).name, get_link(k).name) for f, k in FUSED}
    assert {("normal", "identity"), ("binomial", "logit"), ("poisson", "log"), ("gamma", "log"),
            ("gamma", "inverse"), ("inverse_gaussian", "inverse_squared"), ("tweedie", "log"),
            ("negative_binomial", "log")} <= names  # fmt: skip


@pytest.mark.parametrize("family_spec, link_spec", FUSED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_path_equals_general_path(family_spec, link_spec, dtype):
    family, link = get_family(family_spec), get_link(link_spec)
    eta, mu, y = pair_data(family, link)
    eta, y = eta.astype(dtype), y.astype(dtype)
    w = np.linspace(0.5, 2, y.size).astype(dtype)
    loss = GLMLoss(family, link)
    fused = run_pointwise(loss, y, eta, w)
    general = run_pointwise(loss, y, eta, w, pair=C.NO_PAIR)
    rtol = 1e-5 if dtype == np.float32 else 1e-11
    for a, b in zip(fused, general, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("family_spec", FAMILY_SPECS)
def test_canonical_link_gives_delta_proportional_to_mu_minus_y(family_spec):
    """The shortcut that MLP codes hard-wire, as a theorem: delta = c (mu - y)."""
    family = get_family(family_spec)
    link = family.canonical_link()
    eta, mu, y = pair_data(family, link)
    _, delta, _ = run_pointwise(GLMLoss(family, link), y, eta, pair=C.NO_PAIR)
    moved = ~np.isclose(mu, y)
    ratio = delta[moved] / (mu - y)[moved]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    if family.name in ("normal", "binomial", "poisson", "negative_binomial"):
        np.testing.assert_allclose(ratio, 1.0, rtol=1e-9)


@pytest.mark.parametrize("link_spec", ["logit", "probit", "cloglog", "loglog", "cauchit"])
@pytest.mark.parametrize("eta", [-700.0, -100.0, -37.0, 37.0, 100.0, 700.0])
def test_binomial_tails_stay_finite_and_exact(link_spec, eta):
    """Huge linear predictors: the loss is the log of a tiny probability, not inf."""
    link = get_link(link_spec)
    loss = GLMLoss(get_family("binomial"), link)
    for y in (0.0, 1.0):
        total, delta, fisher = run_pointwise(loss, np.array([y]), np.array([eta]))
        assert np.isfinite(total) and np.isfinite(delta[0]) and np.isfinite(fisher[0])
        assert total >= 0
    # where the probability is representable, the loss equals -log of it
    mu = link.inverse(np.array([eta]))[0]
    if 1e-300 < mu < 1 - 1e-12:
        total, _, _ = run_pointwise(loss, np.array([1.0]), np.array([eta]))
        np.testing.assert_allclose(total, -np.log(mu), rtol=1e-10)


def test_probit_tail_loss_matches_mills_asymptotics():
    loss = GLMLoss(get_family("binomial"), get_link("probit"))
    eta = -300.0
    total, delta, _ = run_pointwise(loss, np.array([1.0]), np.array([eta]))
    # -log Phi(x) = x^2/2 + log(-x) + log(sqrt(2 pi)) + 1/x^2 + O(x^-4)
    expected = eta**2 / 2 + np.log(-eta) + 0.5 * np.log(2 * np.pi) + 1 / eta**2
    np.testing.assert_allclose(total, expected, rtol=1e-14)
    # d/deta (-log Phi) = -phi/Phi ~ eta (Mills ratio)
    np.testing.assert_allclose(delta[0], eta + 1 / eta, rtol=1e-8)


def test_out_of_domain_mean_gives_infinite_loss():
    loss = GLMLoss(get_family("poisson"), get_link("identity"))
    total, delta, _ = run_pointwise(loss, np.array([1.0, 2.0]), np.array([1.0, -0.5]))
    assert total == np.inf and delta[1] == 0.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("spec", [("binomial", "logit"), ("poisson", "log"), ("gamma", "inverse"),
                                  ("tweedie(1.5)", "log"), ("binomial", "probit")])  # fmt: skip
def test_dense_sweep_equals_blas_path(dtype, spec):
    """The one-sweep kernel gives the loss and gradient of X @ coef, then X.T @ g."""
    rng = np.random.default_rng(3)
    family, link = get_family(spec[0]), get_link(spec[1])
    n, p = 5000, 7  # more than one parallel block
    X = rng.normal(size=(n, p)).astype(dtype)
    coef = rng.normal(scale=0.1, size=p)
    intercept = 0.5 if link.name != "inverse" else 2.0
    offset = rng.normal(scale=0.05, size=n).astype(dtype)
    mu = link.inverse(X.astype(float) @ coef + intercept + offset)
    y = sample_y(family, mu).astype(dtype)
    w = rng.uniform(0, 2, n).astype(dtype)
    loss = GLMLoss(family, link)
    fused = loss.loss_gradient(X, y, coef, intercept, w, offset, hessian=True)
    blas = loss.loss_gradient(np.asfortranarray(X), y, coef, intercept, w, offset, hessian=True)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(fused[0], blas[0], rtol=rtol)
    np.testing.assert_allclose(fused[1], blas[1], rtol=rtol, atol=rtol * np.abs(blas[1]).max())
    np.testing.assert_allclose(fused[2], blas[2], rtol=rtol)
    # the gradient is the derivative of the loss: check one direction numerically (float64)
    if dtype == np.float64:
        direction = rng.normal(size=p)
        eps = 1e-6
        f = [loss.loss_gradient(X, y, coef + s * eps * direction, intercept, w, offset)[0]
             for s in (1, -1)]  # fmt: skip
        np.testing.assert_allclose((f[0] - f[1]) / (2 * eps), fused[1][:p] @ direction, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_csr_sweep_equals_the_generic_sparse_path(dtype):
    rng = np.random.default_rng(5)
    X = sp.random(3000, 40, density=0.1, format="csr", random_state=5, dtype=dtype)
    coef = rng.normal(scale=0.3, size=40)
    y = rng.poisson(np.exp(0.2 + X @ coef)).astype(dtype)
    w = rng.uniform(0, 2, 3000).astype(dtype)
    offset = rng.normal(scale=0.1, size=3000).astype(dtype)
    loss = GLMLoss(get_family("poisson"), get_link("log"))
    fused = loss.loss_gradient(X, y, coef, 0.2, w, offset, hessian=True)
    generic = loss.loss_gradient(X.tocsc(), y, coef, 0.2, w, offset, hessian=True)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(fused, generic, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.max(np.abs(b)))


def test_hessian_is_the_weighted_gram_matrix():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10_000, 5))
    w = rng.uniform(0, 1, 10_000)
    loss = GLMLoss(get_family("poisson"), get_link("log"))
    Xa = np.column_stack([X, np.ones(len(X))])
    expected = Xa.T @ (w[:, None] * Xa)
    atol = 1e-12 * np.abs(expected).max()
    for matrix in (
        X,
        np.asfortranarray(X),
        sp.csr_matrix(X),
        sp.csc_matrix(X),
        X.astype(np.float32),
    ):
        rtol = 1e-5 if matrix.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(loss.hessian(matrix, w.astype(matrix.dtype)), expected,
                                   rtol=rtol, atol=atol if rtol < 1e-6 else 1e-3)  # fmt: skip


def _real_shaped_columns(n, rng):
    """A calendar year, an income, a rate of scale 1e-3, a dummy and a count."""
    return np.column_stack([
        rng.integers(1990, 2024, n).astype(float),
        rng.lognormal(10.5, 0.6, n),
        rng.gamma(2.0, 5e-4, n),
        (rng.uniform(size=n) < 0.3).astype(float),
        rng.poisson(3.0, n).astype(float),
    ])  # fmt: skip


@pytest.mark.parametrize("threads", [1, 2])
def test_column_moments_on_row_blocks_of_threads_equal_numpy(threads):
    """Means and variances of real-shaped columns, the rows split among ``threads`` Python
    threads (``_threads.split_rows``), against NumPy's two-pass formulas: C and Fortran
    order, float32, with and without weights."""
    import numba

    from skglmnn._kernels._jit import compile_kernels
    from skglmnn._solvers._scaling import ColumnScaling

    compile_kernels()
    if threads > numba.config.NUMBA_NUM_THREADS:
        pytest.skip("one core")
    rng = np.random.default_rng(11)
    X = _real_shaped_columns(200_000, rng)  # 1M elements: two threads' worth
    w = rng.uniform(0.2, 3.0, X.shape[0])
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        assert _threads_for(X.size) == threads  # the rows really are split
        for data, rtol in ((X, 1e-12), (np.asfortranarray(X), 1e-12),
                           (X.astype(np.float32), 1e-9)):  # fmt: skip
            reference = data.astype(np.float64)
            for weights in (None, w):
                u = np.ones(len(X)) if weights is None else weights
                mean = (u @ reference) / u.sum()
                variance = (u @ (reference - mean) ** 2) / u.sum()
                scaling = ColumnScaling.of(data, weights, centre=True)
                np.testing.assert_allclose(scaling.shift, mean, rtol=rtol)
                np.testing.assert_allclose(scaling.scale**2, variance, rtol=rtol * 100)
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_spread_bound_holds_the_columns_mean_squares(dtype):
    """``ColumnScaling.spread_bound`` is at least each column's weighted mean square about
    its centre (about 0 uncentred) computed exactly (in fractions), and within 1e-6 of
    it -- on real-shaped columns and a constant year, with weights, some zero; where a
    column's first row (the moments' reference) is 1e6 from the rest, no bound is
    given."""
    from fractions import Fraction

    from skglmnn._solvers._scaling import ColumnScaling

    rng = np.random.default_rng(31)
    n = 3001
    X = np.column_stack([_real_shaped_columns(n, rng), np.full(n, 2017.0)]).astype(dtype)
    w = rng.uniform(0.0, 2.0, n)
    w[::13] = 0.0
    weight_sum = sum(Fraction(float(wi)) for wi in w)
    for centre in (True, False):
        scaling = ColumnScaling.of(X, w, centre=centre)
        assert scaling.spread_bound is not None
        for j in range(X.shape[1]):
            c = Fraction(float(scaling.shift[j])) if centre else Fraction(0)
            exact = sum(Fraction(float(wi)) * (Fraction(float(x)) - c) ** 2
                        for wi, x in zip(w, X[:, j], strict=True)) / weight_sum  # fmt: skip
            bound = scaling.spread_bound[j]
            assert Fraction(float(bound)) >= exact
            assert bound <= float(exact) * (1 + 1e-6)
        far = np.column_stack([X, np.r_[1e6, rng.normal(size=n - 1)].astype(dtype)])
        assert ColumnScaling.of(far, w, centre=centre).spread_bound is None


@pytest.mark.parametrize("threads", [1, 2])
def test_loss_sum_on_row_ranges_of_threads_equals_the_unit_deviances(threads):
    """``GLMLoss.loss`` over 600k rows (one or two threads) is half the summed weighted
    unit deviance written with SciPy, and does not depend on the thread count beyond
    rounding."""
    import numba

    from skglmnn._kernels._jit import compile_kernels

    compile_kernels()
    if threads > numba.config.NUMBA_NUM_THREADS:
        pytest.skip("one core")
    rng = np.random.default_rng(12)
    n = 600_000
    family, link = get_family("poisson"), get_link("log")
    eta = rng.normal(0.3, 0.8, n)
    y = rng.poisson(np.exp(eta)).astype(float)
    w = rng.uniform(0.2, 3.0, n)
    expected = 0.5 * np.sum(w * reference_unit_deviance(family, y, np.exp(eta)))
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        assert _threads_for(8 * n) == threads  # the rows really are split
        total = GLMLoss(family, link).loss(y, eta, w)
    finally:
        numba.set_num_threads(before)
    assert total == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("threads", [1, 2])
def test_matvec_of_a_float32_design_is_the_float64_product(threads):
    """``parallel_matvec`` (the output layer's ``eta`` in a network's statistics) on a
    float32 design with float64 coefficients, one or two threads, casting in blocks of
    ``CAST_ROWS`` rows (a last block shorter): the product of the design widened to
    float64, for a coefficient vector and a matrix."""
    import numba

    from skglmnn._kernels._jit import compile_kernels
    from skglmnn._threads import CAST_ROWS, parallel_matvec

    compile_kernels()
    if threads > numba.config.NUMBA_NUM_THREADS:
        pytest.skip("one core")
    rng = np.random.default_rng(13)
    X = _real_shaped_columns(5 * CAST_ROWS * 20 + 37, rng)
    X = np.column_stack([X] * 12).astype(np.float32)  # 60 columns of five scales
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        assert _threads_for(X.size) == threads
        for coef in (rng.standard_normal(X.shape[1]), rng.standard_normal((X.shape[1], 3))):
            expected = X.astype(np.float64) @ coef
            got = parallel_matvec(X, coef)
            assert got.dtype == np.float64
            scale = np.abs(expected).max()
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9 * scale)
    finally:
        numba.set_num_threads(before)


Y_TERM_SPECS = [("poisson", "log"), ("gamma", "log"), ("tweedie(1.5)", "log"),
                  ("tweedie(1.2)", "log")]  # fmt: skip


@pytest.mark.parametrize("spec", Y_TERM_SPECS)
def test_the_loss_from_y_terms_is_the_loss(spec):
    """The loss with its transcendentals of y alone read from ``y_terms`` (what the solvers
    evaluate) is the unit-deviance sum written with SciPy and, being the same arithmetic,
    the pair's own loss to the last digits; the derivatives are the same; for the
    pointwise, dense and sparse sweeps (interpreted ones: ``test_interpreted.py``)."""
    family, link = get_family(spec[0]), get_link(spec[1])
    eta, mu, y = pair_data(family, link, n=400)
    w = np.linspace(0.5, 2.0, y.size)
    loss = GLMLoss(family, link)
    terms = loss.y_terms(y)
    expected = 0.5 * np.sum(w * reference_unit_deviance(family, y, mu))
    full = loss.pointwise(y, eta, w, hessian=True)
    short = loss.pointwise(y, eta, w, hessian=True, y_terms=terms)
    assert short[0] == pytest.approx(expected, rel=1e-12)
    assert short[0] == pytest.approx(full[0], rel=1e-15)
    np.testing.assert_array_equal(short[1], full[1])
    np.testing.assert_array_equal(short[2], full[2])
    rng = np.random.default_rng(16)
    X = rng.normal(size=(y.size, 3))
    coef = np.zeros(3)
    for matrix in (X, sp.csr_array(X)):
        with_terms = loss.loss_gradient(matrix, y, coef, 0.0, w, eta, hessian=True,
                                        y_terms=terms)  # fmt: skip
        plain = loss.loss_gradient(matrix, y, coef, 0.0, w, eta, hessian=True)
        assert with_terms[0] == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(with_terms[1], plain[1], rtol=1e-13)


def test_pairs_without_y_terms():
    for spec in [("binomial", "logit"), ("normal", "identity"), ("gamma", "inverse"),
                 ("poisson", "sqrt"), ("negative_binomial(0.7)", "log")]:  # fmt: skip
        assert GLMLoss(get_family(spec[0]), get_link(spec[1])).y_terms(np.ones(5)) is None


@pytest.mark.parametrize("compiled", [True, False])
def test_the_vectorised_exponential_is_exp(compiled):
    """``exp_into`` is ``math.exp`` within one unit in the last place wherever the result
    is a normal double (up to the overflow at 709.78), inf above it, 0 where the exact value
    is subnormal, nan for nan -- compiled, and as the Python it is written in (but nan,
    where Python's ``math.floor`` raises and ``run`` compiles instead)."""
    from skglmnn._kernels import special as S
    from skglmnn._kernels._jit import compile_kernels
    from skglmnn._kernels._jit import compiled as compiled_kernel

    rng = np.random.default_rng(21)
    x = np.concatenate([rng.uniform(-720, 720, 20000), rng.normal(scale=3.0, size=20000),
                        np.linspace(-1e-3, 1e-3, 101), [0.0, -0.0, 1e-300, 709.78, 709.7827,
                        -708.39, -708.4, -745.2, -800.0, 710.0, 1e4, np.inf, -np.inf,
                        np.nan]])  # fmt: skip
    if compiled:
        compile_kernels()
        kernel = compiled_kernel(S.exp_into)
    else:  # Python's math.floor raises on nan, where run() compiles instead
        x = x[~np.isnan(x)]
        kernel = getattr(S.exp_into, "py_func", S.exp_into)
    out, bits = np.empty_like(x), np.empty(x.size, dtype=np.int64)
    kernel(x, out, bits)
    # the C library's exp (NumPy's own differs from it by an ulp, and across versions)
    finite = np.nan_to_num(x)
    expected = np.array([math.exp(v) if v <= S.EXP_OVERFLOW else np.inf for v in finite])
    normal = (finite <= S.EXP_OVERFLOW) & (expected >= np.finfo(np.float64).tiny) & (x == x)
    np.testing.assert_array_max_ulp(out[normal], expected[normal], maxulp=1)
    assert np.all(out[x > S.EXP_OVERFLOW] == np.inf)
    assert np.all(out[x < S.EXP_TINY] == 0.0)
    assert np.isnan(out[np.isnan(x)]).all()


@pytest.mark.parametrize("spec", Y_TERM_SPECS)
@pytest.mark.parametrize("width", [1, 6, 20, 32])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_narrow_sweep_equals_numpy(spec, width, dtype, monkeypatch):
    """The sweep of a few columns stored column by column (``narrow_loss_gradient``:
    every loop along the samples, vectorised exponentials) gives the loss, gradient,
    Fisher weights and per-sample gradients written with NumPy/SciPy, on real-shaped
    columns with centres, weights (some zero), an offset, over rows that are not a
    whole number of blocks."""
    import skglmnn._loss as loss_module
    from skglmnn._kernels._jit import compile_kernels, compiled

    compile_kernels()
    calls = []

    def spy(*args):
        calls.append(args[0].shape)
        return compiled(narrow_kernel)(*args)

    narrow_kernel = loss_module.narrow_loss_gradient
    monkeypatch.setattr(loss_module, "narrow_loss_gradient", spy)
    family, link = get_family(spec[0]), get_link(spec[1])
    rng = np.random.default_rng(22)
    n = 5003
    X = np.column_stack([_real_shaped_columns(n, rng)] * 8)[:, :width].astype(dtype)
    X = np.asfortranarray(X)  # as a path's copy of its columns in play
    shift = X.astype(np.float64).mean(axis=0)
    Z = X.astype(np.float64) - shift
    coef = 0.3 / (Z.std(axis=0) * np.sqrt(width))
    coef[1::3] = 0.0  # columns copied before they enter the model: skipped in eta
    offset = rng.normal(scale=0.2, size=n)
    eta = Z @ coef + 0.4 + offset
    mu = np.exp(eta)
    y = sample_y(family, mu)
    w = rng.uniform(0.0, 2.0, n)
    w[::9] = 0.0
    loss = GLMLoss(family, link)
    deltas = np.empty(n)
    value, grad, hess = loss.loss_gradient(X, y.astype(dtype), coef, 0.4, w, offset,
                                           hessian=True, shift=shift,
                                           y_terms=loss.y_terms(y.astype(dtype)),
                                           sample_gradient=deltas, narrow=True)  # fmt: skip
    y = y.astype(dtype).astype(np.float64)
    p = {"poisson": 1.0, "gamma": 2.0}.get(family.name, family.power)  # variance mu^p
    expected_loss = 0.5 * np.sum(w * reference_unit_deviance(family, y, mu))
    # d/d eta of half the unit deviance with a log link: (mu - y) mu^(1 - p)
    expected_delta = w * (mu - y) * mu ** (1.0 - p)
    expected_fisher = w * mu ** (2.0 - p)
    assert value == pytest.approx(expected_loss, rel=1e-11)
    terms = w * (mu + np.abs(y)) * mu ** (1.0 - p)  # what the difference rounds against
    assert np.all(np.abs(deltas - expected_delta) <= 1e-11 * terms)
    np.testing.assert_allclose(hess, expected_fisher.astype(dtype), rtol=1e-5 if dtype ==
                               np.float32 else 1e-11)  # fmt: skip
    expected_grad = np.append(Z.T @ expected_delta, expected_delta.sum())
    bound = np.append(np.abs(Z).T @ np.abs(expected_delta), np.abs(expected_delta).sum())
    assert np.all(np.abs(grad - expected_grad) <= 1e-11 * bound)
    assert calls == [(width, n)]  # the kernel ran, on X transposed


def test_gathered_columns_are_the_columns():
    """``gather_columns`` (a path's copy, stored column by column) copies the chosen
    columns exactly, in their order, for float64 and float32 X."""
    from skglmnn._kernels._jit import run
    from skglmnn._kernels.scaling import gather_columns

    rng = np.random.default_rng(23)
    for dtype in (np.float64, np.float32):
        X = rng.normal(size=(301, 12)).astype(dtype)
        columns = np.array([7, 0, 11, 3], dtype=np.int64)
        out = np.empty((4, 301), dtype=dtype)
        run(0, gather_columns, X, columns, out)
        assert np.array_equal(out.T, X[:, columns])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_sweep_fills_the_per_sample_gradient(dtype):
    """``sample_gradient=`` of the one-sweep kernel is ``w * d loss / d eta`` per sample,
    as the pointwise kernel gives it at the same eta."""
    rng = np.random.default_rng(14)
    X = _real_shaped_columns(6000, rng).astype(dtype)
    shift = X.astype(np.float64).mean(axis=0)
    coef = np.array([0.01, 2e-5, 30.0, 0.2, 0.05])
    y = rng.poisson(1.5, 6000).astype(dtype)
    w = rng.uniform(0.5, 2.0, 6000).astype(dtype)
    offset = rng.normal(scale=0.1, size=6000).astype(dtype)
    loss = GLMLoss(get_family("poisson"), get_link("log"))
    out = np.empty(6000)
    loss.loss_gradient(X, y, coef, -0.2, w, offset, shift=shift, y_terms=loss.y_terms(y),
                       sample_gradient=out)  # fmt: skip
    eta = (X.astype(np.float64) - shift) @ coef - 0.2 + offset
    expected = loss.pointwise(y.astype(float), eta, w.astype(float))[1]
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol)
    with pytest.raises(ValueError, match="dense C-ordered"):
        loss.loss_gradient(np.asfortranarray(X), y, coef, 0.0, sample_gradient=out)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_centred_products_keep_the_digits_of_columns_far_from_zero(dtype):
    """``centred_matvec`` and ``centred_rmatmat`` (row blocks on threads, or one compiled
    pass) equal the products of the centred columns formed in float64 -- also for a
    calendar year and an income, where centring after the product would lose digits."""
    from skglmnn._kernels._jit import compile_kernels
    from skglmnn._loss import CENTRED_BLOCK_BYTES, centred_matvec, centred_rmatmat

    compile_kernels()
    rng = np.random.default_rng(15)
    n = 3 * CENTRED_BLOCK_BYTES // 40 + 11  # several blocks, a short last one
    X = _real_shaped_columns(n, rng).astype(dtype)
    shift = X.astype(np.float64).mean(axis=0)
    Z = X.astype(np.float64) - shift
    coef = rng.normal(size=5)
    np.testing.assert_allclose(centred_matvec(X, coef, shift, 0.7), Z @ coef + 0.7,
                               rtol=1e-12, atol=1e-12 * np.abs(Z @ coef).max())  # fmt: skip
    for k in (1, 3, 40):  # up to 32 columns one compiled pass (rows four at a time), else BLAS
        D = np.asfortranarray(rng.normal(size=(n, k)))
        product, sums = centred_rmatmat(X, D, shift)
        expected = Z.T @ D
        bound = np.abs(Z).T @ np.abs(D)  # what rounding is relative to
        assert np.all(np.abs(product - expected) <= 1e-13 * bound)
        np.testing.assert_allclose(sums, D.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("width", [1, 5, 15, 40])
def test_the_gram_matrix_of_a_few_columns_equals_numpy(width, dtype):
    """``weighted_gram`` of whole columns and of the same columns chosen (up to 16 whole
    columns one compiled pass per thread, ``small_gram``; with ``narrow`` up to 32 one
    pass on numba's threads, ``parallel_small_gram``, by columns for Fortran-ordered X,
    ``columns_gram``; else row blocks through BLAS)
    equal the centred float64 product, also where the columns are chosen among
    others, on a year, an income, a rate of 1e-3, a dummy and a count, over rows
    that are not a whole number of blocks."""
    from skglmnn._kernels._jit import compile_kernels
    from skglmnn._loss import weighted_gram

    compile_kernels()
    rng = np.random.default_rng(17)
    X = np.column_stack([_real_shaped_columns(3001, rng)] * 8)[:, :width].astype(dtype)
    w = rng.uniform(0.0, 2.0, 3001)
    w[::7] = 0.0  # held-out rows of a fold
    shift = X.astype(np.float64).mean(axis=0)
    Z = np.column_stack([X.astype(np.float64) - shift, np.ones(3001)])
    expected = Z.T @ (w[:, None] * Z)
    scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    wider = np.ascontiguousarray(np.column_stack([X[:, ::-1], X]))  # X's columns among others
    for narrow in (False, True):
        for layout in (np.ascontiguousarray, np.asfortranarray):  # F: a path's copies
            others = layout(wider)
            for got in (weighted_gram(layout(X), w, shift, narrow=narrow),
                        weighted_gram(layout(X), w, shift, np.arange(width), narrow=narrow),
                        weighted_gram(others, w, np.r_[shift[::-1], shift],
                                      width + np.arange(width), narrow=narrow)):  # fmt: skip
                assert np.all(np.abs(got - expected) <= 1e-12 * scale)
