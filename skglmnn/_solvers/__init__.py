"""Solvers for penalised GLM objectives.

Every solver takes a :class:`~skglmnn._solvers._problem.GLMProblem` (the
objective: value, gradient, Fisher Hessian, starting point) and returns a
:class:`~skglmnn._solvers._problem.SolverResult`.
"""

from ._problem import GLMProblem, MultinomialProblem, SolverResult
from .cd import cd_solve
from .lbfgs import lbfgs_solve
from .newton import newton_solve

SOLVERS = {"newton": newton_solve, "lbfgs": lbfgs_solve, "cd": cd_solve}

__all__ = [
    "GLMProblem", "MultinomialProblem", "SolverResult", "SOLVERS",
    "cd_solve", "lbfgs_solve", "newton_solve",
]  # fmt: skip
