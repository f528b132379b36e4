"""Intervals that describe where y, mu and eta may live."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A real interval with open or closed ends, used as data, not as code.

    Families state the targets and means they accept, links the means and
    linear predictors they map, as ``Interval`` objects; one generic check then
    serves every family and link.

    Parameters
    ----------
    low, high : float
        The ends; ``-np.inf`` and ``np.inf`` for unbounded sides.
    low_inclusive, high_inclusive : bool
        Whether each end belongs to the interval.
    """

    low: float
    high: float
    low_inclusive: bool = False
    high_inclusive: bool = False

    def contains(self, values):
        """Boolean array: which of ``values`` lie in the interval (NaN never does)."""
        values = np.asarray(values)
        above = values >= self.low if self.low_inclusive else values > self.low
        below = values <= self.high if self.high_inclusive else values < self.high
        return above & below

    def __str__(self):
        left = "[" if self.low_inclusive else "("
        right = "]" if self.high_inclusive else ")"
        return f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"


def _fmt(x):
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


REAL_LINE = Interval(-np.inf, np.inf)
POSITIVE = Interval(0.0, np.inf)
NON_NEGATIVE = Interval(0.0, np.inf, low_inclusive=True)
NEGATIVE = Interval(-np.inf, 0.0)
UNIT_OPEN = Interval(0.0, 1.0)
UNIT_CLOSED = Interval(0.0, 1.0, low_inclusive=True, high_inclusive=True)


def interval_within(inner, outer):
    """Whether every point of ``inner`` lies in ``outer``."""
    low_ok = inner.low > outer.low or (
        inner.low == outer.low and (outer.low_inclusive or not inner.low_inclusive)
    )
    high_ok = inner.high < outer.high or (
        inner.high == outer.high and (outer.high_inclusive or not inner.high_inclusive)
    )
    return low_ok and high_ok
