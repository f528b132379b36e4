"""The path machinery: strong-rule screening with its KKT check, and Hessians reused along a path.

The problems here are large enough (n p^2 >= 1e8) for dense coordinate descent
to work on working sets, on real-shaped columns (a year, incomes in cents, a
rate of 1e-3, correlated, scales from 1e-3 to 1e4).
"""

import numpy as np
import pytest
from helpers import record_path_choices

import skglmnn._loss as loss_module
import skglmnn._path as path_module
import skglmnn._solvers.cd as cd_module
from skglmnn import GLMRegressor
from skglmnn._kernels import cd as K
from skglmnn._kernels._jit import compile_kernels
from skglmnn._loss import GLMLoss
from skglmnn._path import alpha_grid, alpha_max, fit_path, null_theta
from skglmnn._solvers import GLMProblem
from skglmnn._testing import make_tabular
from skglmnn.families import get_family
from skglmnn.links import get_link

TOL = 1e-8


@pytest.fixture(scope="module")
def poisson_path_problem():
    X, y, _, _ = make_tabular(10_000, 100, "poisson", seed=7, spread=0.5)
    loss = GLMLoss(get_family("poisson"), get_link("log"))
    problem = GLMProblem(loss, X, y, None, None, 0.0, True)
    alphas = alpha_grid(alpha_max(problem, 1.0, null_theta(problem)), 25, 1e-3)
    return X, y, loss, alphas


def _path(X, y, loss, alphas):
    return fit_path(GLMProblem(loss, X, y, None, None, 0.0, True), alphas, 1.0, "auto", 200, TOL)


def _spy_on_hessians(monkeypatch):
    """Record the number of columns of every Hessian the cd solver forms."""
    sizes = []
    original = cd_module.weighted_gram

    def spy(X, weights, shift=None, columns=None, narrow=False):
        sizes.append(X.shape[1] if columns is None else len(columns))
        return original(X, weights, shift, columns, narrow)

    monkeypatch.setattr(cd_module, "weighted_gram", spy)
    return sizes


def test_path_points_equal_independent_fits_with_screening_and_reused_hessians(
    poisson_path_problem, monkeypatch
):  # fmt: skip
    X, y, loss, alphas = poisson_path_problem
    sizes = _spy_on_hessians(monkeypatch)
    path = _path(X, y, loss, alphas)
    assert path.converged.all()
    # Hessians were reused (fewer than the quadratic models solved: each point's predicted
    # start and its iterations) and most covered a working set only
    assert 0 < len(sizes) < path.n_iter.sum() + len(alphas) - 1
    assert np.median(sizes) < X.shape[1]
    for k in (3, 12, len(alphas) - 1):
        fit = GLMRegressor("poisson", alpha=alphas[k], l1_ratio=1.0, tol=TOL, max_iter=200)
        fit.fit(X, y)
        np.testing.assert_allclose(X @ path.coef[k] + path.intercept[k],
                                   X @ fit.coef_ + fit.intercept_, rtol=1e-6, atol=1e-7)
        assert np.array_equal(path.coef[k] != 0, fit.coef_ != 0)


def test_the_kkt_check_repairs_what_screening_leaves_out(poisson_path_problem, monkeypatch):
    """Screening that admits only coordinates already breaking their conditions (the
    harshest a screen can be) still ends at the solution: every outer iteration's
    gradient covers all coordinates, and a coordinate that breaks its condition joins."""
    X, y, loss, alphas = poisson_path_problem
    reference = _path(X, y, loss, alphas)
    monkeypatch.setattr(path_module, "strong_rule_screen", lambda previous, alpha: 1.0)
    screened = _path(X, y, loss, alphas)
    assert screened.converged.all()
    np.testing.assert_allclose(X @ screened.coef.T + screened.intercept,
                               X @ reference.coef.T + reference.intercept, rtol=1e-6, atol=1e-7)


def test_the_strong_rule_bound_is_set_per_point(poisson_path_problem, monkeypatch):
    """Every solve at point k (on X, or on a batch's copy of columns) screens with the
    bound for the step from alpha_{k-1} to alpha_k."""
    X, y, loss, alphas = poisson_path_problem
    seen = []
    original = cd_module._cd_solve

    def record(problem, *args):
        seen.append((problem.l1, problem.screen))
        return original(problem, *args)

    monkeypatch.setattr(cd_module, "_cd_solve", record)
    _path(X, y, loss, alphas[:6])
    points = {l1: screen for l1, screen in seen}
    assert set(points) == set(alphas[1:6])  # the first point is the null model: no solve
    for k in range(1, 6):
        assert points[alphas[k]] == pytest.approx(2.0 - alphas[k - 1] / alphas[k], rel=1e-15)
    assert 0.5 < points[alphas[1]] < 1.0


def test_a_stale_hessian_is_not_reused_when_the_weights_have_moved(monkeypatch):
    """One fit from far away: the weights change by more than half between iterations,
    so every Hessian is new -- Newton's quadratic convergence is kept."""
    X, y, _, _ = make_tabular(2000, 8, "poisson", seed=2)
    sizes = _spy_on_hessians(monkeypatch)
    fit = GLMRegressor("poisson", alpha=1e-4, l1_ratio=1.0, tol=TOL, max_iter=100).fit(X, y)
    assert fit.n_iter_ <= 12
    assert len(sizes) >= fit.n_iter_ - 2  # at most the last, tiny steps reuse


def test_the_kkt_measure_kernel_is_the_pseudo_gradients_largest_entry():
    """``kkt_violation`` (the solvers' stopping measure with an L1 part) equals the largest
    entry of ``pseudo_gradient`` exactly -- zero and non-zero coordinates, unpenalised
    ones, gradients inside and outside their thresholds -- and is nan for a nan
    gradient, compiled and interpreted."""
    from skglmnn._solvers._problem import pseudo_gradient

    compile_kernels()
    rng = np.random.default_rng(5)
    for _ in range(300):
        p = int(rng.integers(1, 40))
        theta = rng.normal(size=p) * (rng.random(p) < 0.5)
        grad = rng.normal(size=p)
        weights = np.abs(rng.normal(size=p)) * (rng.random(p) < 0.8)
        expected = float(np.max(np.abs(pseudo_gradient(theta, grad, weights))))
        assert K.kkt_violation(theta, grad, weights) == expected
        assert K.kkt_violation.py_func(theta, grad, weights) == expected
    grad[0] = np.nan
    assert np.isnan(K.kkt_violation(theta, grad, weights))


def test_relative_change_kernel():
    """``relative_change`` (the kept Hessian's staleness, from 1 / h0) against NumPy: the
    largest relative change of the Fisher weights, rows of weight zero left out, inf
    where such a row gains weight or a weight is not a number; lengths that are not a
    multiple of its four lanes."""
    compile_kernels()
    rng = np.random.default_rng(0)

    def change(h, h0):
        inverse = np.divide(1.0, h0, out=np.zeros(h0.size), where=h0 > 0)
        return K.relative_change(h, inverse, (h0 > 0).astype(np.float64))

    for n in (1000, 1003):
        h0 = rng.uniform(0.1, 2.0, n)
        h = h0 * (1 + rng.uniform(-0.2, 0.3, n))
        h[-1] = 3.0 * h0[-1]  # the largest change in the last row, outside the four lanes
        assert change(h, h0) == pytest.approx(np.max(np.abs(h / h0 - 1)), rel=1e-14)
        h[-1] = h0[-1]
        assert change(h, h0) == pytest.approx(np.max(np.abs(h / h0 - 1)), rel=1e-14)
        h0[5] = h[5] = 0.0  # a row left out (a CV fold's zero weight)
        assert change(h, h0) == pytest.approx(np.max(np.abs(h[h0 > 0] / h0[h0 > 0] - 1)))
        h[5] = 1.0
        assert change(h, h0) == np.inf
        h[5], h[7] = 0.0, np.nan
        assert change(h, h0) == np.inf
        assert change(h.astype(np.float32), h0) == np.inf


def test_loss_module_gram_of_columns_matches_numpy():
    X, _, _, _ = make_tabular(3000, 12, "normal", seed=1)
    w = np.random.default_rng(0).uniform(size=3000)
    shift = X.mean(axis=0)
    columns = np.array([0, 3, 4, 11])
    Z = np.column_stack([X[:, columns] - shift[columns], np.ones(3000)])
    np.testing.assert_allclose(loss_module.weighted_gram(X, w, shift, columns),
                               Z.T @ (w[:, None] * Z), rtol=1e-12)  # fmt: skip


def test_a_restricted_problem_is_the_whole_one_with_the_other_coefficients_at_zero():
    X, y, _, _ = make_tabular(2000, 12, "gamma", "log", seed=4)
    rng = np.random.default_rng(1)
    w, offset = rng.uniform(0.5, 2.0, y.size), rng.normal(scale=0.1, size=y.size)
    loss = GLMLoss(get_family("gamma"), get_link("log"))
    problem = GLMProblem(loss, X, y, w, offset, 0.3, True, l1=0.01)
    columns = np.array([0, 1, 5, 9])  # the year, the income in cents, ...
    sub = problem.restricted(np.take(X, columns, axis=1), problem.scaling.restricted(columns), {})
    theta = np.zeros(problem.n_params)
    index = np.append(columns, 12)
    theta[index] = rng.normal(scale=0.1, size=index.size)
    theta[-1] = problem.initial_theta()[-1]
    value, grad, hess = problem.value_gradient(theta, curvature=True)
    sub_value, sub_grad, sub_hess = sub.value_gradient(theta[index], curvature=True)
    assert sub_value == pytest.approx(value, rel=1e-13)
    np.testing.assert_allclose(sub_grad, grad[index], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(sub_hess, hess, rtol=1e-13)
    np.testing.assert_allclose(sub.l1_weights, problem.l1_weights[index])
    np.testing.assert_allclose(sub.hessian(sub_hess), problem.hessian(hess)[np.ix_(index, index)],
                               rtol=1e-9, atol=1e-12)  # fmt: skip


@pytest.mark.parametrize("family", ["poisson", "gamma", "tweedie(1.5)"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_intercept_shift_equals_a_fresh_evaluation(family, dtype):
    """``GLMProblem.shift_intercept`` (closed form for the log link with Poisson and Gamma)
    moves the intercept to its optimum for the coefficients held -- its gradient there is
    zero and the objective fell -- and the loss, gradient, Fisher weights and per-sample
    gradients it keeps are those of a new evaluation at the moved point; on a copy of
    real-shaped columns stored column by column, with weights (some zero), an offset
    and an L1 penalty.  Tweedie (no such closed form here) is left where it was."""
    spec = get_family(family)
    X, y, _, _ = make_tabular(3000, 12, spec, "log", seed=6)
    X = X.astype(dtype)
    rng = np.random.default_rng(3)
    w = rng.uniform(0.5, 2.0, y.size)
    w[::11] = 0.0
    offset = rng.normal(scale=0.1, size=y.size)
    loss = GLMLoss(spec, get_link("log"))
    problem = GLMProblem(loss, X, y.astype(dtype), w, offset, 0.0, True, l1=0.01)
    columns = np.array([0, 1, 5, 9])
    copy = np.asfortranarray(X[:, columns])
    sub = problem.restricted(copy, problem.scaling.restricted(columns), {})
    sub.keeps_sample_gradient = True
    theta = np.append(rng.normal(scale=0.2, size=4), problem.initial_theta()[-1] + 0.3)
    value = sub.value_gradient(theta, curvature=True)[0]
    shifted = sub.shift_intercept(theta)
    if spec.name == "tweedie":
        assert shifted is theta
        return
    assert shifted[-1] != theta[-1] and np.array_equal(shifted[:-1], theta[:-1])
    kept_value, kept_grad, kept_hess = sub.value_gradient(shifted, curvature=True)
    kept_d = sub.sample_gradient(shifted)
    fresh = problem.restricted(copy, problem.scaling.restricted(columns), {})
    fresh.keeps_sample_gradient = True
    value_f, grad_f, hess_f = fresh.value_gradient(shifted, curvature=True)
    d_f = fresh.sample_gradient(shifted)
    assert kept_value <= value and kept_value == pytest.approx(value_f, rel=1e-12)
    scale = np.abs(grad_f).max() + 1e-3
    np.testing.assert_allclose(kept_grad, grad_f, rtol=0, atol=1e-9 * scale)
    assert abs(kept_grad[-1]) <= 1e-12 * scale  # the intercept at its optimum
    np.testing.assert_allclose(kept_hess, hess_f, rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(kept_d, d_f, rtol=1e-9, atol=1e-12 * np.abs(d_f).max())


@pytest.mark.parametrize("alpha_share", [0.2, 0.002])  # few columns in play; most of them
def test_solving_on_copied_columns_gives_the_solution_on_x(alpha_share, monkeypatch):
    """With weights and an offset, from the null model: the copy (or, with most columns in
    play, the switch to X itself) changes nothing but the time."""
    X, y, _, _ = make_tabular(10_000, 100, "poisson", seed=9, spread=0.5)
    rng = np.random.default_rng(2)
    w, offset = rng.integers(1, 4, y.size).astype(float), np.log(rng.uniform(0.5, 2, y.size))
    loss = GLMLoss(get_family("poisson"), get_link("log"))
    base = GLMProblem(loss, X, y, w, offset, 0.0, True)
    top = alpha_max(base, 1.0, null_theta(base))

    def solve(share):
        monkeypatch.setattr(cd_module, "COPY_SHARE", share)
        problem = base.with_penalty(0.0, alpha_share * top)
        problem._shared = {}
        result = cd_module.cd_solve(problem, null_theta(problem), 200, TOL)
        copy = problem._shared.get("column_copy")
        return result, copy

    copied, copy = solve(0.25)
    plain, none = solve(0.0)
    assert none is None and copied.converged and plain.converged
    if alpha_share > 0.01:
        assert copy is not None and copy.X.nbytes <= 0.25 * X.nbytes
    np.testing.assert_allclose(copied.theta, plain.theta, rtol=1e-6, atol=1e-8)
    assert np.array_equal(copied.theta != 0, plain.theta != 0)


def test_an_elastic_net_path_reuses_hessians_across_its_changing_scales(monkeypatch):
    """The L2 part moves the columns' internal scales from point to point; the kept Hessian
    is stored unscaled, so it still serves -- and the points are still the fits."""
    X, y, _, _ = make_tabular(10_000, 100, "poisson", seed=8, spread=0.5)
    loss = GLMLoss(get_family("poisson"), get_link("log"))
    problem = GLMProblem(loss, X, y, None, None, 0.0, True)
    alphas = alpha_grid(alpha_max(problem, 0.5, null_theta(problem)), 15, 1e-3)
    sizes = _spy_on_hessians(monkeypatch)
    path = fit_path(problem, alphas, 0.5, "auto", 200, TOL)
    assert path.converged.all() and 0 < len(sizes) < path.n_iter.sum() + len(alphas) - 1
    for k in (4, len(alphas) - 1):
        fit = GLMRegressor("poisson", alpha=alphas[k], l1_ratio=0.5, tol=TOL, max_iter=200)
        fit.fit(X, y)
        np.testing.assert_allclose(X @ path.coef[k] + path.intercept[k],
                                   X @ fit.coef_ + fit.intercept_, rtol=1e-6, atol=1e-7)


@pytest.fixture(scope="module")
def weighted_path_problem():
    """A real-shaped Poisson table with weights and an offset, and a 30-point grid."""
    X, y, _, _ = make_tabular(12_000, 100, "poisson", seed=11, spread=0.5)
    rng = np.random.default_rng(3)
    w, offset = rng.integers(1, 4, y.size).astype(float), np.log(rng.uniform(0.5, 2, y.size))
    loss = GLMLoss(get_family("poisson"), get_link("log"))
    problem = GLMProblem(loss, X, y, w, offset, 0.0, True)
    alphas = alpha_grid(alpha_max(problem, 1.0, null_theta(problem)), 30, 1e-3)
    return loss, X, y, w, offset, alphas


def _weighted_path(data, l1_ratio=1.0):
    loss, X, y, w, offset, alphas = data
    problem = GLMProblem(loss, X, y, w, offset, 0.0, True)
    return fit_path(problem, alphas, l1_ratio, "auto", 200, TOL)


def _count_checks(monkeypatch):
    """Record (points solved, points taken) of every batch check."""
    checks = []
    original = path_module._Batches._check

    def spy(self, solved, copy):
        taken = original(self, solved, copy)
        checks.append((len(solved), len(taken)))
        return taken

    monkeypatch.setattr(path_module._Batches, "_check", spy)
    return checks


def _count_reads(monkeypatch):
    """Count the checks' reads of X (``centred_rmatmat``)."""
    reads = []
    original = path_module.centred_rmatmat

    def spy(X, D, shift):
        reads.append(D.shape[1])
        return original(X, D, shift)

    monkeypatch.setattr(path_module, "centred_rmatmat", spy)
    return reads


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_batched_points_equal_the_path_solved_point_by_point(weighted_path_problem, l1_ratio,
                                                              monkeypatch):  # fmt: skip
    """Points solved in batches on a copy of the columns in play, checked together by one
    read of X or proved by the anchors' bounds without one, are the points solved one by
    one on X: same active sets, same fits."""
    checks, reads = _count_checks(monkeypatch), _count_reads(monkeypatch)
    batched = _weighted_path(weighted_path_problem, l1_ratio)
    assert checks and len(checks) < len(batched.alphas) / 2  # batches did the work
    assert sum(taken for _, taken in checks) >= len(batched.alphas) / 2
    assert len(reads) < len(checks)  # some batches were proved without a read
    monkeypatch.setattr(path_module._Batches, "for_path", classmethod(lambda *a: None))
    single = _weighted_path(weighted_path_problem, l1_ratio)
    assert batched.converged.all() and single.converged.all()
    X = weighted_path_problem[1]
    np.testing.assert_array_equal(batched.coef != 0, single.coef != 0)
    np.testing.assert_allclose(X @ batched.coef.T + batched.intercept,
                               X @ single.coef.T + single.intercept, rtol=1e-6, atol=1e-7)
    # the objective agrees to rounding; its data part, along the elastic net's nearly
    # flat valleys (L1 and L2 trading against the deviance), to about tol (measured 3.5e-9)
    problem = GLMProblem(*weighted_path_problem[:5], 0.0, True)
    for k in range(len(batched.alphas)):
        a = batched.alphas[k]
        point = problem.with_penalty(a * (1 - l1_ratio), a * l1_ratio)
        values = [sum(point.objective(point.from_original(path.coef[k][None],
                                                          path.intercept[k : k + 1])))
                  for path in (batched, single)]  # fmt: skip
        assert values[0] == pytest.approx(values[1], rel=1e-13, abs=1e-15)
    np.testing.assert_allclose(batched.mean_half_deviance, single.mean_half_deviance,
                               rtol=3e-8)  # fmt: skip


def test_a_batch_check_repairs_what_the_screen_left_out(weighted_path_problem, monkeypatch):
    """A screen that admits no column before it breaks its condition (no slope, a bar far
    above the threshold): every entering column fails a check, joins the copy, and the
    batch is solved again -- the path is still the one solved point by point."""
    reference = _weighted_path(weighted_path_problem)
    checks = _count_checks(monkeypatch)
    monkeypatch.setattr(path_module._Batches, "SLOPE_SAFETY", 0.0)
    monkeypatch.setattr(path_module._Batches, "ENTRY", 100.0)
    repaired = _weighted_path(weighted_path_problem)
    assert any(taken < solved for solved, taken in checks)  # checks did fail
    assert repaired.converged.all()
    X = weighted_path_problem[1]
    np.testing.assert_array_equal(repaired.coef != 0, reference.coef != 0)
    np.testing.assert_allclose(X @ repaired.coef.T + repaired.intercept,
                               X @ reference.coef.T + reference.intercept, rtol=1e-6, atol=1e-7)


def test_batched_points_equal_independent_fits(weighted_path_problem):
    loss, X, y, w, offset, alphas = weighted_path_problem
    path = _weighted_path(weighted_path_problem)
    for k in (5, 17, len(alphas) - 1):
        fit = GLMRegressor("poisson", alpha=alphas[k], l1_ratio=1.0, tol=TOL, max_iter=200)
        fit.fit(X, y, sample_weight=w, offset=offset)
        np.testing.assert_allclose(X @ path.coef[k] + path.intercept[k],
                                   X @ fit.coef_ + fit.intercept_, rtol=1e-6, atol=1e-7)
        assert np.array_equal(path.coef[k] != 0, fit.coef_ != 0)


def test_predicted_starts_are_near_the_solution_and_change_no_point(weighted_path_problem,
                                                                    monkeypatch):  # fmt: skip
    """Each point starts at the last solution's Newton step for the new penalty, corrected
    by the error that step made at the last point: far nearer the point's solution than
    the last solution is (its optimality measure 10x smaller for most points), and the
    path is the one solved from the last solutions."""
    ratios = []
    original = path_module._Predictor.start

    def spy(self, point, theta, index=None):
        start = original(self, point, theta, index)
        if self.z is not None and self.error is not None:
            warm = point.optimality(theta, point.value_gradient(theta)[1])
            ratios.append(point.optimality(start, point.value_gradient(start)[1]) / warm)
        return start

    monkeypatch.setattr(path_module._Predictor, "start", spy)
    predicted = _weighted_path(weighted_path_problem)
    assert len(ratios) > 10 and np.median(ratios) < 0.1
    assert (predicted.n_iter[1:] >= 1).all()  # the predicted step counts as one
    monkeypatch.setattr(path_module._Predictor, "start", lambda self, point, theta, index=None:
                        setattr(self, "z", None) or theta)  # fmt: skip
    plain = _weighted_path(weighted_path_problem)
    assert predicted.converged.all() and plain.converged.all()
    X = weighted_path_problem[1]
    np.testing.assert_array_equal(predicted.coef != 0, plain.coef != 0)
    np.testing.assert_allclose(X @ predicted.coef.T + predicted.intercept,
                               X @ plain.coef.T + plain.intercept, rtol=1e-6, atol=1e-7)


def _poisson_sample_gradients(X, y, w, offset, path):
    """``w (mu - y)`` at every path point (Poisson, log link), by NumPy: n x points."""
    eta = X @ path.coef.T + path.intercept + offset[:, None]
    return w[:, None] * (np.exp(eta) - y[:, None])


@pytest.mark.parametrize("held_out", [False, True])
def test_anchor_bounds_contain_the_exact_gradients(weighted_path_problem, held_out):
    """The anchors' bound on a point's full gradient, ``|g - approx| <= bound`` per column,
    holds against the gradient NumPy computes from all of X -- at path points (where it is
    tight enough to prove the zero columns' conditions) and at a per-sample gradient
    unrelated to the path (where it is loose, and still holds); with weights, an offset
    and, for a cross-validation fold, rows of weight zero."""
    loss, X, y, w, offset, alphas = weighted_path_problem
    problem = GLMProblem(loss, X, y, w, offset, 0.0, True)
    if held_out:
        problem = path_module.fold_problem(problem, np.arange(0, y.size, 5))
    weights = problem.sample_weight
    path = fit_path(problem, alphas, 1.0, "auto", 200, TOL)
    D = _poisson_sample_gradients(X, y, weights, offset, path)
    exact = (X - problem.scaling.shift).T @ D / problem.weight_sum  # p x points
    unrelated = np.random.default_rng(0).normal(size=y.size) * weights
    truth = (X - problem.scaling.shift).T @ unrelated / problem.weight_sum
    for members, least in ((slice(5, 6), 7), (slice(2, 6), 7)):  # one anchor (its own
        anchors = path_module._Anchors(problem)                   # passes), and four
        anchors.add(np.asfortranarray(D[:, members]), exact[:, members])
        proved = 0
        for k in range(6, 20):
            approx, bound = anchors.bound(D[:, k])
            assert np.all(np.abs(exact[:, k] - approx) <= bound)
            zero = path.coef[k] == 0
            proved += np.all(np.abs(approx[zero]) + bound[zero] <= alphas[k])
        assert proved >= least, proved
        approx, bound = anchors.bound(unrelated)
        assert np.all(np.abs(truth - approx) <= bound)


@pytest.mark.parametrize("dtype, fit_intercept", [(np.float32, True), (np.float64, False)])
def test_batched_points_in_float32_and_without_an_intercept(
    weighted_path_problem, dtype, fit_intercept, monkeypatch
):
    """The batches and their proofs (float32 columns: products and bounds in float64;
    no intercept: columns not centred) give the path solved point by point."""
    loss, X, y, w, offset, alphas = weighted_path_problem
    X, y = X.astype(dtype), y.astype(dtype)

    def solve():
        problem = GLMProblem(loss, X, y, w.astype(dtype), offset.astype(dtype), 0.0,
                             fit_intercept)  # fmt: skip
        grid = alpha_grid(alpha_max(problem, 1.0, null_theta(problem)), 30, 1e-3)
        return fit_path(problem, grid, 1.0, "auto", 200, TOL)

    checks, reads = _count_checks(monkeypatch), _count_reads(monkeypatch)
    batched = solve()
    assert checks and len(reads) < len(checks)
    monkeypatch.setattr(path_module._Batches, "for_path", classmethod(lambda *a: None))
    single = solve()
    assert batched.converged.all() and single.converged.all()
    np.testing.assert_array_equal(batched.coef != 0, single.coef != 0)
    X64 = X.astype(np.float64)
    np.testing.assert_allclose(X64 @ batched.coef.T + batched.intercept,
                               X64 @ single.coef.T + single.intercept, rtol=1e-5, atol=1e-6)


def test_the_secant_update_saves_evaluations_and_changes_no_point(weighted_path_problem,
                                                                  monkeypatch):  # fmt: skip
    """The predictor's Hessian, updated along the last step between solutions, maps that
    step to the gradient's change exactly (the secant condition); a fine path (100 points,
    glmnet's default) needs fewer iterations than with the kept Hessian alone (measured
    173 against 191 here; on 30 points, steps 4x longer, the two are level), at the same
    points."""
    loss, X, y, w, offset, alphas = weighted_path_problem
    fine = (loss, X, y, w, offset, np.geomspace(alphas[0], alphas[-1], 100))
    updates = []
    original = path_module._Predictor._secant_hessian

    def spy(self, point, hess, step, change, known):
        H = original(self, point, hess, step, change, known)
        updates.append(((H @ step)[known], change[known]))
        return H

    monkeypatch.setattr(path_module._Predictor, "_secant_hessian", spy)
    secant = _weighted_path(fine)
    assert len(updates) > 10
    for mapped, change in updates:
        np.testing.assert_allclose(mapped, change, rtol=1e-7, atol=1e-12 * np.abs(change).max())
    monkeypatch.setattr(path_module._Predictor, "_secant_hessian",
                        lambda self, point, hess, step, change, known: original(
                            self, point, hess, 0 * step, change, known))  # fmt: skip
    kept = _weighted_path(fine)
    assert secant.n_iter.sum() < 0.95 * kept.n_iter.sum()
    np.testing.assert_array_equal(secant.coef != 0, kept.coef != 0)
    np.testing.assert_allclose(X @ secant.coef.T + secant.intercept,
                               X @ kept.coef.T + kept.intercept, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("family", ["poisson", "gamma"])
def test_a_ridge_path_moved_to_newton_gives_the_independent_fits(family, monkeypatch):
    """An L2 path on real-shaped columns starts on L-BFGS, moves to proximal Newton with kept
    Hessians once L-BFGS is slow at a point (``PathChoice``), and its points are the
    GLMRegressor fits at the same penalties."""
    X, y, _, _ = make_tabular(12_000, 30, family, seed=5)
    loss = GLMLoss(get_family(family), get_link("log"))
    problem = GLMProblem(loss, X, y, None, None, 0.0, True)
    alphas = alpha_grid(alpha_max(problem, 0.0, null_theta(problem)), 12, 1e-4)
    chosen = record_path_choices(monkeypatch)
    path = fit_path(problem, alphas, 0.0, "auto", 500, TOL)
    assert chosen[0] != "cd" and chosen[-1] == "cd" and path.converged.all()
    for k in (3, 7, len(alphas) - 1):
        fit = GLMRegressor(family, link="log", alpha=alphas[k], l1_ratio=0.0, tol=TOL,
                           max_iter=500).fit(X, y)  # fmt: skip
        np.testing.assert_allclose(X @ path.coef[k] + path.intercept[k],
                                   X @ fit.coef_ + fit.intercept_, rtol=1e-6, atol=1e-7)
