"""The networks' float32 compute path and mini-batches split over the cores."""

import warnings

import numba
import numpy as np
import pytest
from helpers import central_differences
from sklearn.exceptions import ConvergenceWarning

from skglmnn import NeuralGLM, NeuralGLMClassifier
from skglmnn._kernels._jit import compiled
from skglmnn._layers import GLMStack, row_source
from skglmnn._solvers.network import (
    NetworkData,
    OptimizerState,
    batch_chunks,
    decay_vector,
    epoch_kernel,
    value_gradient,
)  # fmt: skip
from skglmnn._testing import make_tabular
from skglmnn.activations import get_activation
from skglmnn.families import get_family
from skglmnn.links import get_link


def benchmark_like(kind, n=6000, seed=0):
    """The benchmark problem, smaller: a smooth non-linear signal of 20 columns."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 20))
    signal = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.3 * np.tanh(X[:, 3:8].sum(axis=1))
    if kind == "normal":
        return X, signal + 0.3 * rng.standard_normal(n)
    return X, rng.poisson(np.exp(0.5 + 0.5 * signal)).astype(np.float64)


def half_mean_deviance(family, y, mu):
    return family.deviance(y, mu.astype(np.float64), np.ones_like(y)) / (2 * y.size)


@pytest.mark.parametrize("family, link", [("normal", "identity"), ("poisson", "log"),
                                          ("gamma", "log"), ("binomial", "logit")])  # fmt: skip
@pytest.mark.parametrize("activation", ["relu", "tanh", "softplus", "logistic"])
def test_float32_backpropagation_matches_finite_differences(family, link, activation):
    """The float32 forward and backward passes (the ones train_epoch runs) against central
    differences of the float64 objective: float32 tolerances."""
    rng = np.random.default_rng(3)
    X, y, _, _ = make_tabular(60, 4, family, link, seed=2)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    act = get_activation(activation)
    stack = GLMStack(4, (5, 3), [act, act], 1, get_family(family), get_link(link))
    theta = rng.normal(scale=0.3, size=stack.n_params)
    stack.intercepts(theta)[-1][...] = get_link(link).link(np.array([np.mean(y)]))[0]
    data = NetworkData(row_source(X), y, np.ones(60), np.empty((0, 1)), np.arange(60))
    mask = stack.weight_mask()
    value32, grad32 = value_gradient(stack, data, theta.astype(np.float32), 0.01, mask)
    assert grad32.dtype == np.float32
    value64, _ = value_gradient(stack, data, theta, 0.01, mask)
    assert value32 == pytest.approx(value64, rel=1e-5)
    fd = central_differences(lambda t: value_gradient(stack, data, t, 0.01, mask)[0], theta)
    scale = np.max(np.abs(fd))
    np.testing.assert_allclose(grad32, fd, rtol=1e-3, atol=1e-4 * scale)


@pytest.mark.parametrize("family", ["normal", "poisson"])
@pytest.mark.parametrize("batch", [32, 256])
def test_float32_training_ends_at_the_float64_loss(family, batch):
    """Same data, start and batch order: the two paths part by rounding only, and end at
    the same training loss within 1% (seen: 0.1-0.3%)."""
    X, y = benchmark_like(family)
    params = dict(hidden=(32, 32), activation="relu", family=family, batch_size=batch,
                  max_iter=8, tol=0.0, n_iter_no_change=8, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        single = NeuralGLM(**params).fit(X.astype(np.float32), y)
        double = NeuralGLM(**params).fit(X, y)
    assert all(W.dtype == np.float32 for W in single.coefs_ + single.intercepts_)
    assert single._optimizer.state.dtype == np.float32
    mu32 = single.predict(X.astype(np.float32))
    assert mu32.dtype == single.transform(X.astype(np.float32)).dtype == np.float32
    fam = get_family(family)
    loss32 = half_mean_deviance(fam, y, mu32)
    loss64 = half_mean_deviance(fam, y, double.predict(X))
    assert loss32 == pytest.approx(loss64, rel=1e-2)
    assert single.loss_curve_[-1] == pytest.approx(double.loss_curve_[-1], rel=1e-2)
    # the output layer's inference is computed in float64 from the float32 fit
    table = single.coef_table(X.astype(np.float32), y)
    assert table["estimate"].dtype == np.float64 and np.all(np.isfinite(table["std_error"]))


def test_lbfgs_and_float64_input_keep_float64():
    X, y = benchmark_like("normal", n=500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lbfgs = NeuralGLM(hidden=(4,), solver="lbfgs", max_iter=20).fit(X.astype(np.float32), y)
        adam = NeuralGLM(hidden=(4,), max_iter=2).fit(X, y)
    assert lbfgs.coefs_[0].dtype == adam.coefs_[0].dtype == np.float64


def test_partial_fit_follows_the_dtype_of_each_call():
    X, y = benchmark_like("poisson", n=800)
    net = NeuralGLMClassifier(hidden=(6,), random_state=0)
    labels = (y > 1).astype(int)
    net.partial_fit(X, labels, classes=[0, 1])
    assert net.coefs_[0].dtype == np.float64
    net.partial_fit(X.astype(np.float32), labels)
    assert net.coefs_[0].dtype == np.float32 and net._optimizer.state.dtype == np.float32
    assert np.isfinite(net.predict_proba(X.astype(np.float32))).all()


def _one_epoch(n_chunks, dtype, batch=256):
    X, y = benchmark_like("poisson", n=3000)
    relu = get_activation("relu")
    stack = GLMStack(20, (64, 64), [relu, relu], 1, get_family("poisson"), get_link("log"))
    theta = stack.initial_theta(np.random.default_rng(0), 0.5).astype(dtype)
    data = NetworkData(row_source(X.astype(dtype)), y, np.ones(3000), np.empty((0, 1)),
                       np.arange(3000))  # fmt: skip
    decay = decay_vector(stack, data, 1e-3, stack.weight_mask())
    optimizer = OptimizerState.new("adam", stack.n_params, 1e-3, dtype=dtype)
    rows = np.random.default_rng(1).permutation(3000)
    kernel, buffers = epoch_kernel(stack, batch, n_chunks, theta.dtype)
    loss = compiled(kernel)(
        *data.source, data.y, data.sample_weight, data.offset, rows, batch, data.shift,
        data.inv_scale, theta, stack.layout, stack.act, stack.output, stack.opower, decay,
        optimizer.hyper, optimizer.state, buffers,
    )  # fmt: skip
    return loss, theta


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-9), (np.float32, 1e-3)])
def test_a_batch_split_over_threads_is_the_sequential_pass_up_to_rounding(dtype, rtol):
    """One epoch of 12 batches, whole or in two and three row chunks on the cores: the
    chunks' gradients are summed in chunk order, so only the order of additions differs."""
    loss, theta = _one_epoch(1, dtype)
    for n_chunks in (2, 3):
        chunked_loss, chunked_theta = _one_epoch(n_chunks, dtype)
        assert chunked_loss == pytest.approx(loss, rel=rtol)
        np.testing.assert_allclose(chunked_theta, theta, rtol=rtol, atol=rtol * 1e-2)
    first, second = _one_epoch(2, dtype), _one_epoch(2, dtype)  # reproducible
    assert first[0] == second[0]
    np.testing.assert_array_equal(first[1], second[1])


def test_the_thread_count_decides_the_chunks():
    relu = get_activation("relu")
    stack = GLMStack(20, (64, 64), [relu, relu], 1, get_family("normal"), get_link("identity"))
    wide = GLMStack(20, (256, 256), [relu, relu], 1, get_family("normal"), get_link("identity"))
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert batch_chunks(stack, 256) == 1
        if threads >= 2:
            numba.set_num_threads(2)
            assert batch_chunks(stack, 256) == 2  # 128 rows a chunk
            assert batch_chunks(stack, 32) == 1  # too little work to split
            assert batch_chunks(wide, 64) == 1  # 32-row chunks of wide layers: not split
            assert batch_chunks(wide, 128) == 2
    finally:
        numba.set_num_threads(threads)



def test_an_openmp_limit_from_threadpoolctl_keeps_the_epochs_on_one_core():
    """``threadpool_limits(1)`` (and OMP_NUM_THREADS, loky's workers) lowers the chunks
    an epoch is split into and the Python threads of predictions: the fit is then the
    one-thread fit to the bit, while without the limit it splits (two cores)."""
    from threadpoolctl import threadpool_limits

    from skglmnn import NeuralGLM
    from skglmnn._threads import _threads_for, cores

    threads = numba.get_num_threads()
    if threads < 2:
        pytest.skip("one core")
    relu = get_activation("relu")
    stack = GLMStack(20, (64, 64), [relu, relu], 1, get_family("poisson"), get_link("log"))
    rng = np.random.default_rng(5)
    X = rng.standard_normal((3000, 20)).astype(np.float32)
    y = rng.poisson(np.exp(0.3 * X[:, 0])).astype(float)

    def fit():
        return NeuralGLM((64, 64), family="poisson", batch_size=256, max_iter=2,
                         random_state=0).fit(X, y)  # fmt: skip

    assert batch_chunks(stack, 256) == 2
    with threadpool_limits(limits=1, user_api="openmp"):
        assert cores() == 1 and batch_chunks(stack, 256) == 1 and _threads_for(10**7) == 1
        limited = fit()
    assert cores() == threads  # the limit ends with its context
    try:
        numba.set_num_threads(1)
        one_thread = fit()
    finally:
        numba.set_num_threads(threads)
    split = fit()
    for a, b, c in zip(limited.coefs_, one_thread.coefs_, split.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-3, atol=1e-5)
    assert any(not np.array_equal(a, c) for a, c in zip(limited.coefs_, split.coefs_, strict=True))


HEAP_PROGRAM = """
import hashlib, sys, warnings
import numpy as np
junk = [np.empty(int(k)) for k in sys.argv[1:]]  # moves the heap under what follows
from skglmnn import NeuralGLM
rng = np.random.default_rng(0)
X = rng.normal(size=(4000, 20)).astype(np.float32)
y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=4000)
warnings.simplefilter("ignore")
digest = hashlib.sha256()
for batch in (32, 256):
    model = NeuralGLM(hidden=(64, 64), max_iter=1, batch_size=batch, random_state=0).fit(X, y)
    for coef in model.coefs_:
        digest.update(coef.tobytes())
print(digest.hexdigest())
"""


def test_a_float32_fit_does_not_depend_on_where_the_heap_puts_its_buffers():
    """Reproducible with ``random_state`` from one process to the next: the same float32
    fits (one core and both) in fresh processes whose earlier allocations differ, so that
    every buffer sits elsewhere, are identical to the bit.  (The first process after an
    install, which compiles the kernels rather than loading them, may differ from later
    ones by rounding: numba's freshly compiled code and its cached code are not always
    the same instructions; measured here 1e-7 in the weights after one float32 epoch.)"""
    import subprocess
    import sys

    def digest(*junk):
        command = [sys.executable, "-c", HEAP_PROGRAM, *junk]
        done = subprocess.run(command, check=True, text=True, capture_output=True, timeout=300)
        return done.stdout.strip()

    digest()  # compiles and caches whatever this test session has not: not compared
    digests = {digest(*junk) for junk in ([], ["3"], ["5", "1000001", "77"])}
    assert len(digests) == 1
