"""The solvers' change of variables: standardised columns, without a copy of X.

A column measured in cents, or a calendar year beside the intercept, makes the
objective's Hessian badly conditioned in the raw coefficients: gradient methods
crawl, an absolute gradient tolerance means different things for different
columns, and a badly *scaled* direction looks like a null one.  The solvers
therefore work in the coefficients of the standardised design

.. math:: z_{ij} = (x_{ij} - c_j) / s_j,\\qquad
          \\eta = Z\\beta + b = X\\,\\mathrm{coef} + \\mathrm{intercept},

so ``coef = beta / s`` and ``intercept = b - c . coef``.  ``c`` is the weighted
column mean for dense X with a free intercept (centring needs the intercept to
absorb it) and 0 otherwise (sparse X stays sparse); ``s`` is the weighted
standard deviation of the centred columns, or the root mean square of the
uncentred ones.  The map is affine and exact: the kernels keep reading X, the
problem passes them ``coef``, the intercept at ``x = c`` and ``c`` itself; the
dense kernels centre each value as they read it (no copy) and the problem
scales the gradient (``grad_beta = (X - c)^T delta / s``).  Unpenalised
fits are then equivariant: fitting ``X * d + e`` visits the same ``beta`` as
fitting ``X``.

Constant columns get ``s = 1``; centred, they are zero and leave a flat
direction, which the Newton solver resolves by the minimum-norm solution.
"""

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from .._kernels._jit import run
from .._kernels.scaling import dense_column_moments, sparse_column_squares
from .._threads import parallel_row_blocks

# A column whose spread is below this fraction of its magnitude is constant up to
# rounding: standardising it would blow rounding noise up into a regressor.
CONSTANT = 1e-12


def dense_moments(X, w, x0=None):
    """``(sum w, sum w (x - x0), sum w (x - x0)^2, x0)`` of the columns of dense ``X``
    (at least one row) about ``x0`` (default: its first row), the rows split among threads.

    ``w`` of length 0 means unit weights.
    """
    x0 = np.asarray(X[0] if x0 is None else x0, dtype=np.float64)
    weight_sum, first, second = parallel_row_blocks(
        lambda rows, weights: run(rows.size, dense_column_moments, rows, weights, x0), X, w
    )
    return float(weight_sum), first, second, x0


@dataclass(frozen=True)
class ColumnScaling:
    """``coef = beta / scale``, ``intercept = b - shift . coef`` (see the module docstring).

    Attributes
    ----------
    scale : ndarray of shape (n_features,)
        Positive column scales ``s``.
    shift : ndarray of shape (n_features,) or None
        Column centres ``c``; None when the columns are not centred.
    spread : ndarray of shape (n_features,) or None
        The squared scales before a ridge was added (variances, or mean
        squares), so that :meth:`with_ridge` needs no pass over X; None for
        the identity.
    spread_bound : ndarray of shape (n_features,) or None
        For dense X, an upper bound on the weighted mean square of each
        column about ``shift`` (about 0 without one), rounding in the moments
        included: the variance (or mean square) plus ``4 (n + 4) eps`` times
        the moments it was formed from -- also for a column taken as
        constant, whose ``spread`` is 0.  The bounds of a regularisation path
        (``_path._Anchors``) need the columns' norms; this spares them a pass
        over X.  None where not known, or where the bound would exceed the
        value by more than 1e-6 of it (the moments are taken about X's first
        row, and one far from the rest costs digits).
    """

    scale: np.ndarray
    shift: np.ndarray | None
    spread: np.ndarray | None = None
    spread_bound: np.ndarray | None = None

    @classmethod
    def identity(cls, n_features):
        """No change of variables."""
        return cls(np.ones(n_features), None)

    @classmethod
    def of(cls, X, sample_weight, centre, ridge=0.0):
        """Standardise the columns of ``X`` (weighted moments); centre them if ``centre``.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_samples, n_features)
        sample_weight : ndarray of shape (n_samples,) or None
        centre : bool
            Centre the columns (needs a free, unpenalised intercept).  The
            centring is a change of coordinates, so sparse X stays sparse; the
            GLM problems centre dense X only (their Hessian is formed from
            centred blocks of X), the networks' first layer both.
        ridge : float, default=0.0
            The L2 strength ``alpha`` on the coefficients: the scales become
            ``sqrt(variance + alpha)``, so that the internal Hessian's diagonal,
            about ``variance / s^2 + alpha / s^2``, stays near 1 also for a
            column whose variance is far below alpha (a rate of scale 1e-3).

        Returns
        -------
        scaling : ColumnScaling
        """
        w = np.empty(0) if sample_weight is None else np.asarray(sample_weight, np.float64)
        if sp.issparse(X):
            X = X if X.format in ("csr", "csc") else X.tocsr()
            weight_sum = float(X.shape[0] if w.size == 0 else w.sum())
            squares = run(X.nnz, sparse_column_squares, X.indptr, X.indices, X.data, w,
                          X.shape[1], X.format == "csr")  # fmt: skip
            mean_square = squares / weight_sum
            if not centre:
                return cls._from_spread(mean_square, None, ridge)
            mean = np.asarray(X.T @ (w if w.size else np.ones(X.shape[0]))).ravel() / weight_sum
            return cls._centred(mean, np.maximum(mean_square - mean**2, 0.0), ridge)
        if X.shape[0] == 0:
            return cls.identity(X.shape[1])
        weight_sum, first_moment, second_moment, x0 = dense_moments(X, w)
        mean_offset = first_moment / weight_sum  # mean - x0
        mean = x0 + mean_offset
        variance = np.maximum(second_moment / weight_sum - mean_offset**2, 0.0)
        # what the sums of n terms, the mean and the subtraction can have lost, at most
        # (each well under (n + 4) eps times the moments involved; four times that)
        rounding = 4 * (X.shape[0] + 4) * np.finfo(np.float64).eps
        raw = second_moment / weight_sum  # mean square about x0
        if centre:
            scaling = cls._centred(mean, variance, ridge)
            square, slack = variance, rounding * (raw + mean_offset**2)
        else:
            scaling = cls._from_spread(variance + mean**2, None, ridge)
            square, slack = variance + mean**2, rounding * (raw + mean_offset**2 + mean**2 + x0**2)
        if np.all(slack <= 1e-6 * square):  # else a first row far out: the bound is loose
            scaling = replace(scaling, spread_bound=square + slack)
        return scaling

    @classmethod
    def _centred(cls, mean, variance, ridge):
        constant = np.sqrt(variance) <= CONSTANT * np.abs(mean)
        return cls._from_spread(np.where(constant, 0.0, variance), mean, ridge)

    @classmethod
    def _from_spread(cls, spread, shift, ridge):
        scale = np.sqrt(spread + ridge)
        return cls(np.where(scale > 0, scale, 1.0), shift, spread)

    def with_ridge(self, ridge):
        """The same standardisation for another L2 strength (see :meth:`of`), without X."""
        if self.spread is None:
            return self
        return replace(self._from_spread(self.spread, self.shift, ridge),
                       spread_bound=self.spread_bound)  # fmt: skip

    def restricted(self, columns):
        """The standardisation of the columns ``columns`` only."""
        pick = lambda a: None if a is None else a[columns]  # noqa: E731
        return ColumnScaling(self.scale[columns], pick(self.shift), pick(self.spread),
                             pick(self.spread_bound))  # fmt: skip

    def to_original(self, beta, b):
        """``(coef, intercept)`` from internal ``(beta, b)``; rows of 2-D ``beta`` are classes."""
        coef = beta / self.scale
        intercept = b if self.shift is None else b - coef @ self.shift
        return coef, intercept

    def to_internal(self, coef, intercept):
        """``(beta, b)`` from original ``(coef, intercept)``."""
        beta = coef * self.scale
        b = intercept if self.shift is None else intercept + coef @ self.shift
        return beta, b

    def gradient_to_internal(self, grad):
        """Gradient in ``(beta, b)`` from the gradient in ``(coef, b)`` on the centred columns.

        ``grad`` has shape (m, n_features + 1), intercept last; modified in place.
        """
        grad[:, :-1] /= self.scale
        return grad
