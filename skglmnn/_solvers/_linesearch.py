"""The one backtracking line search of the solvers (Newton, proximal Newton, OWL-QN).

From the full step ``t = 1`` the step halves until the objective ``F`` is finite
and decreases enough (Armijo):

.. math:: F(\\theta_t) \\le F(\\theta) + c\\, m(\\theta_t, t) + \\epsilon_F,

where ``m`` is the solver's predicted decrease (``t * grad . step`` for
Newton; ``t`` times the model decrease with the penalty for proximal Newton;
``v . (theta_t - theta)`` for OWL-QN's projected steps) and ``epsilon_F`` the
rounding noise of F: near the optimum F changes by less than its own rounding
error, and a step that improves the gradient must not be refused for that.
A non-finite F (means outside the family's domain) counts as "too long".

``None`` means no step size lowered F, or the trial point no longer differs
from theta in floating point: the solver has stagnated and must stop.
"""

import numpy as np

ARMIJO = 1e-4  # sufficient-decrease constant
MAX_HALVINGS = 60  # the step shrinks to 2^-60 before the search gives up
ROUNDING = 8 * np.finfo(float).eps  # objective changes below this (relative) are noise


def backtrack(evaluate, theta, value, step, slope, *, project=None, predicted=None):
    """Backtrack along ``step`` from ``theta``.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(candidate) -> (F, state)``; ``state`` is handed back with the
        accepted point (gradient, curvature, ...).
    theta : ndarray
    value : float
        ``F(theta)``.
    step : ndarray
    slope : float
        Directional derivative (or model decrease) for the full step; negative.
    project : callable, optional
        ``project(candidate) -> candidate`` (OWL-QN keeps each trial in an orthant).
    predicted : callable, optional
        ``predicted(candidate, t) -> float``, the predicted change replacing
        ``t * slope``.

    Returns
    -------
    accepted : tuple or None
        ``(candidate, F, state, t)``, or None when the search stagnated.
    """
    t = 1.0
    noise = ROUNDING * abs(value)
    for _ in range(MAX_HALVINGS):
        candidate = theta + t * step
        if project is not None:
            candidate = project(candidate)
        if np.array_equal(candidate, theta):
            return None
        new_value, state = evaluate(candidate)
        change = t * slope if predicted is None else predicted(candidate, t)
        if np.isfinite(new_value) and new_value <= value + ARMIJO * change + noise:
            return candidate, new_value, state, t
        t *= 0.5
    return None


FLAT = 64 * np.finfo(float).eps  # a relative change of F below this is rounding noise


PROGRESS = 0.9
"""A measure below this fraction of its best value counts as progress (``Stagnation``)."""


class Stagnation:
    """Counts iterations spent at the floor that rounding sets.

    An iteration is "at the floor" when F moved by no more than ``FLAT``
    (relative) while the optimality measure did not fall below ``PROGRESS``
    times its best value; after ``patience`` such iterations in a row no
    further progress is possible in floating point and the solver stops.  Far
    from the optimum F falls at every step, so this never stops a solver that
    is still working; near it, F is flat in floating point while the measure
    may still fall steadily -- Fisher scoring for a non-canonical link gains a
    constant factor (~0.6) per step -- which is progress, not stagnation.
    """

    def __init__(self, measure, patience):
        self.best, self.count, self.patience = measure, 0, patience

    def update(self, previous, value, measure):
        """Record one iteration (F before and after, the new measure); True: stop."""
        at_floor = measure > PROGRESS * self.best and previous - value <= FLAT * abs(previous)
        self.count = self.count + 1 if at_floor else 0
        self.best = min(self.best, measure)
        return self.count >= self.patience
