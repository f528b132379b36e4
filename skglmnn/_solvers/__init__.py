"""Solvers for penalised GLM objectives, behind one contract.

Every solver is ``solve(problem, theta0, max_iter, tol, verbose) -> SolverResult``
on a :class:`~skglmnn._solvers._problem.Problem` (the whole objective,
penalty included, in standardised internal coordinates).  ``choose_solver``
is the one place that turns ``"auto"`` into a solver; ``check_solution``
re-measures the returned point's optimality without trusting the solver.
"""

import scipy.sparse as sp

from .._domain import interval_within
from ._problem import GLMProblem, MultinomialProblem, Problem, SolverResult, make_problem
from .cd import cd_solve
from .lbfgs import lbfgs_newton_solve, lbfgs_solve
from .newton import newton_solve
from .owlqn import owlqn_solve

SOLVERS = {
    "newton": newton_solve, "lbfgs": lbfgs_solve, "cd": cd_solve, "owlqn": owlqn_solve,
    "lbfgs-newton": lbfgs_newton_solve,
}  # fmt: skip

# "auto" takes Newton while a Hessian (n (m p)^2 / 2 multiply-adds for m linear
# predictors) is cheap: there it is robust to ill-conditioning and exact for
# rank-deficient X.  Beyond, a one-sweep L-BFGS iteration costs n m p against
# Newton's n (m p)^2 / 2 and wins on time even with twice the iterations:
# benchmarks/glm.py measured 21 ms against 47 ms at 100k x 20 and 35 ms against
# 212 ms at 100k x 100 (logistic, tol 1e-6).
NEWTON_MAX_COST = 10**7
# A Newton step needs a dense Hessian of (m p)^2 entries: beyond this it does not fit.
NEWTON_MAX_PARAMS = 2000


def newton_is_cheap(problem):
    """Whether a Newton step (a dense Hessian, n (m p)^2 multiply-adds) is cheap here."""
    n = problem.X.shape[0]
    return problem.n_params <= NEWTON_MAX_PARAMS and n * problem.n_params**2 <= NEWTON_MAX_COST


def newton_fits(problem):
    """Whether the Hessian of ``problem`` fits in memory as a dense matrix."""
    return problem.n_params <= NEWTON_MAX_PARAMS


def choose_solver(problem, requested="auto"):
    """The solver for ``problem``: ``requested`` checked, or ``"auto"`` resolved.

    * an L1 penalty: ``"cd"`` (proximal Newton) for one linear predictor,
      ``"owlqn"`` for the multinomial model; ``"newton"`` and ``"lbfgs"``
      cannot take it;
    * otherwise ``"newton"`` while its Hessian is cheap, or when the link can
      leave the family's domain (only Newton's line search keeps every iterate
      inside it robustly); ``"lbfgs-newton"`` (L-BFGS, finished by Newton when
      it is slow: correlated columns) while the Hessian fits in memory; else
      ``"lbfgs"``.
    * ``"newton-if-it-fits"``: Newton while the Hessian fits, else ``"lbfgs"``
      (what a classifier's ``solver="newton-cholesky"`` asks for).

    Parameters
    ----------
    problem : Problem
    requested : {"auto", "newton", "lbfgs", "lbfgs-newton", "cd", "owlqn", "newton-if-it-fits"}

    Returns
    -------
    solver : str
        A key of ``SOLVERS``.
    """
    if problem.l1_weights is not None:
        if requested in ("newton", "lbfgs"):
            raise ValueError(
                f"solver={requested!r} cannot handle an L1 penalty (l1_ratio > 0); "
                "use solver='cd' or 'auto'."
            )
        if problem.n_outputs > 1 or requested == "owlqn":
            return "owlqn"
        return "cd"
    if requested in SOLVERS and not (requested == "cd" and problem.n_outputs > 1):
        return requested
    if requested == "newton-if-it-fits":
        return "newton" if newton_fits(problem) else "lbfgs"
    if newton_fits(problem) and (newton_is_cheap(problem) or _can_leave_domain(problem)):
        return "newton"
    return "lbfgs-newton" if newton_fits(problem) else "lbfgs"


def _can_leave_domain(problem):
    loss = problem.loss
    family, link = getattr(loss, "family", None), getattr(loss, "link", None)
    if family is None:
        return False
    return not (link.maps_real_line and interval_within(link.mu_interval, family.mu_interval))


def check_solution(problem, theta):
    """The optimality measure at ``theta``, from a fresh evaluation of the gradient.

    Independent of what the solver reports: a solver that stops on a flat
    objective (scipy's ``ftol``, a failed line search) can believe it has
    converged far from the optimum.
    """
    _, grad, _ = problem.value_gradient(theta)
    return problem.optimality(theta, grad)


__all__ = [
    "GLMProblem", "MultinomialProblem", "Problem", "SolverResult", "SOLVERS",
    "cd_solve", "check_solution", "choose_solver", "lbfgs_newton_solve", "lbfgs_solve",
    "make_problem",
    "newton_is_cheap", "newton_solve", "owlqn_solve",
]  # fmt: skip


class PathChoice:
    """``"auto"`` resolved along a warm-started sequence of penalties (a regularisation
    path, a classifier's Cs in cross-validation), where each point starts at the last.

    Each point is solved as ``choose_solver`` says, until one costs L-BFGS more
    than proximal Newton would: more iterations than ``PATH_NEWTON_SWEEPS`` plus
    half a Hessian in sweeps of X (``cd._gram_cost``).  The problem is then
    ill-conditioned (correlated columns, a weak penalty) and the rest of the
    path goes to ``"cd"``, whose Hessian is kept from point to point
    (``cd._Curvature``): a point costs a few sweeps and now and then a Hessian.
    Measured on the 5-fold L2 logistic path over 10 Cs (``benchmarks/cv.py``,
    tol 1e-6): on the real-shaped 100k x 100 table L-BFGS took 10 iterations a
    point and cd was 35% faster (2.5 s against 3.8 s); at 50k x 200, 2.9 s
    against 4.1 s; on iid columns L-BFGS took 2.5 and stayed (1.5 s against
    2.4 s for cd).  Ridge paths (30 points to 1e-4 of alpha_max, real-shaped
    100k x 100, tol 1e-6): Poisson 1.37 -> 1.13 s, gamma 1.39 -> 0.99 s,
    binomial 2.75 -> 0.95 s; gamma on 20 columns 0.38 -> 0.28 s.  One linear
    predictor on dense X only, and ``requested`` ``"auto"`` only: a named
    solver is the caller's.

    Parameters
    ----------
    requested : str
        As for ``choose_solver``.
    """

    PATH_NEWTON_SWEEPS = 3

    def __init__(self, requested="auto"):
        self.requested = requested
        self.newton = False  # the rest of the path goes to "cd"

    def __call__(self, problem):
        """The solver for the next point, ``problem``."""
        if self.newton and problem.l1_weights is None:
            return "cd"
        return choose_solver(problem, self.requested)

    def solved(self, problem, chosen, result):
        """Take the result of the point just solved by ``chosen``."""
        if self.requested != "auto" or chosen not in ("lbfgs", "lbfgs-newton"):
            return
        if problem.n_outputs != 1 or sp.issparse(problem.X) or not newton_fits(problem):
            return
        if getattr(problem, "distributed", False):
            return
        from .cd import _gram_cost

        p = problem.n_features
        self.newton = result.n_iter > self.PATH_NEWTON_SWEEPS + 0.5 * _gram_cost(p, p, False)
