"""Running a solver for an estimator: choose, solve, check, and say what went wrong.

The estimators (``GLMRegressor``, ``GLMClassifier``) build a problem
(``_solvers._problem``) and hand it here; everything after that is the same
for all of them, so it lives once: the solver choice (``choose_solver``), the
solve, an independent check of the returned point's optimality, and the
warnings that keep an inexact answer from passing silently.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._separation import separated
from ._solvers import SOLVERS, check_solution, choose_solver
from .families import BinomialFamily


def fit_problem(estimator, problem, requested, theta0, max_iter, tol, verbose, chosen=None):
    """Minimise ``problem`` and warn about every way the answer may be inexact.

    Parameters
    ----------
    estimator : BaseEstimator
        Named in the warnings.
    problem : Problem
    requested : str
        The estimator's solver request (see ``choose_solver``).
    theta0 : ndarray
        Starting point, internal coordinates.
    max_iter : int
    tol : float
    verbose : int
    chosen : str, optional
        The solver name the user gave, when it differs from what runs (the
        classifier's scikit-learn names): the warning then starts as
        scikit-learn's, ``"<chosen> failed to converge after N iteration(s)"``.

    Returns
    -------
    result : SolverResult
    solver : str
        The solver that ran.
    """
    solver = choose_solver(problem, requested)
    result = SOLVERS[solver](problem, theta0, max_iter, tol, verbose)
    name = type(estimator).__name__
    if not np.all(np.isfinite(result.theta)):
        raise ValueError(
            f"{name}: the {solver} solver diverged (non-finite coefficients); try "
            "solver='newton' or a penalty."
        )
    gap = check_solution(problem, result.theta)
    result.optimality, result.converged = gap, bool(gap <= tol)
    if gap > tol and max_iter > 0:
        if result.stagnated:
            why = ("no step could lower the objective any further in floating point, so "
                   "tol is finer than the data allow here (raise tol) or the problem is "
                   "degenerate")  # fmt: skip
        else:
            why = f"max_iter={max_iter} was reached"
        head = f"{name} did not converge: the {solver} solver stopped after {result.n_iter} " \
            "iterations"
        if chosen is not None:  # scikit-learn's words, with the solver name the user gave
            head = f"{chosen} failed to converge after {result.n_iter} iteration(s) " \
                f"({name} ran its {solver} solver)"
        warnings.warn(
            f"{head} with an optimality gap of {gap:.3g} (largest gradient entry on "
            f"standardised columns) above tol={tol:g}; {why}. Raise max_iter, use "
            "solver='newton', or scale X.",
            ConvergenceWarning,
            stacklevel=3,
        )
    unpenalised = not np.any(problem.l2_weights) and problem.l1_weights is None
    if result.rank is not None and unpenalised:
        columns = "columns and the intercept" if problem.fit_intercept else "columns"
        flat = problem.flat_directions().shape[1]  # counted in the rank, not identifiable
        warnings.warn(
            f"X is rank deficient: its {columns} span only {result.rank - flat} of "
            f"{problem.n_params - flat} dimensions, so the "
            "maximum likelihood estimate is not unique; the one with the smallest ||coef|| "
            "is returned.",
            UserWarning,
            stacklevel=3,
        )
    if unpenalised and _separated(problem, result.theta):
        warnings.warn(
            f"{name}: the data are linearly separable, completely or quasi-completely -- "
            "some direction of the coefficients raises the likelihood for ever (e.g. a class "
            "absent at one level of a dummy) -- so the maximum likelihood estimate does not "
            "exist and the coefficients returned depend on the tolerance. Add a penalty "
            "(alpha > 0, finite C) to get a finite, unique answer.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return result, solver


# Unpenalised classification fits up to this many entries in the separation
# check's linear programme always run it (tens of milliseconds); larger ones only
# when a fitted probability is this close to 0 or 1, a symptom of separation.
ALWAYS_CHECK = 2 * 10**5
SUSPICIOUS = 1e-4


def _separated(problem, theta):
    """Whether an unpenalised classification problem has no maximum likelihood estimate."""
    family = getattr(problem.loss, "family", None)
    if getattr(problem, "distributed", False):
        return _separated_blocks(problem, theta, family)
    y, w = problem.y, problem.sample_weight
    if problem.n_outputs > 1:
        K = problem.n_outputs
        coef, intercept = problem.to_original(theta)
        eta = problem.loss.linear_predictor(problem.X, coef, intercept)
        eta -= eta.max(axis=1, keepdims=True)
        smallest = float(np.min(np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)))
    elif isinstance(family, BinomialFamily) and np.all((y == 0) | (y == 1)):
        K = 2
        eta = problem.linear_predictor(theta)
        if family.separated(y, eta, w):  # complete separation: O(n), no programme
            return True
        mu = problem.loss.link.inverse(eta)
        smallest = float(np.min(np.minimum(mu, 1 - mu)))
    else:
        return False
    n, p = problem.X.shape
    entries = n * (p + 1) * (1 if K == 2 else K * (K - 1))
    if entries > ALWAYS_CHECK and smallest > SUSPICIOUS:
        return False
    return bool(separated(problem.X, y, K, w, problem.fit_intercept))


def _separated_blocks(problem, theta, family):
    """The complete-separation test on dask data, block by block.  Quasi-complete
    separation needs a linear programme over all rows in memory: not run on dask data
    (the user guide says so)."""
    if problem.n_outputs > 1 or not isinstance(family, BinomialFamily):
        return False
    from ._dask import separation

    return separation(problem, theta)
