"""Does the maximum likelihood estimate of a classification model exist?

For logistic (any binary link) and multinomial models it does not when the
classes are (quasi-)separated: some direction ``d`` of the coefficients never
lowers any sample's linear-predictor margin and raises at least one,

.. math:: z_i^T (d_{y_i} - d_l) \\ge 0 \\quad \\text{for all } i,\\ l \\ne y_i,
          \\qquad \\sum_{i, l \\ne y_i} z_i^T (d_{y_i} - d_l) > 0,

with ``z_i = [x_i, 1]``.  Along ``d`` the likelihood rises for ever, so an
unpenalised solver stops only because the gradient became small, at
coefficients that depend on the tolerance; a class absent from one level of a
dummy is enough (quasi-complete separation).  Whether such a ``d`` exists is
a linear programme, solved by scipy's HiGHS on the standardised columns:
maximise the sum of margins over the box ``|d| <= 1``; the optimum is 0
exactly when the data are not separated.
"""

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

# The linear programme has n (K - 1) rows and K (p + 1) columns; beyond this
# many constraint entries it is not attempted (the check is a safety net for
# the unpenalised fits of inference, which are rarely that large).
MAX_ENTRIES = 2 * 10**6
# A margin sum below this (per sample, on standardised columns) is solver noise.
NOISE = 1e-7


def separated(X, codes, n_classes, sample_weight=None, fit_intercept=True):
    """Whether the classes are (quasi-)separable by the model's linear predictors.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    codes : ndarray of shape (n_samples,)
        Class indices 0..K-1.
    n_classes : int
    sample_weight : ndarray of shape (n_samples,), default=None
        Rows of zero weight are left out.
    fit_intercept : bool, default=True

    Returns
    -------
    separated : bool or None
        None when the problem is too large to check (``MAX_ENTRIES``).
    """
    keep = slice(None) if sample_weight is None else np.asarray(sample_weight) > 0
    codes = np.asarray(codes)[keep].astype(np.intp)
    X = X[keep]
    n, p = X.shape
    K = int(n_classes)
    pairs = 1 if K == 2 else K - 1
    q = p + int(fit_intercept)
    if n * pairs * q * (1 if K == 2 else K) > MAX_ENTRIES:
        return None
    Z = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    spread = Z.std(axis=0)
    Z = (Z - Z.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    if fit_intercept:
        Z = np.column_stack([Z, np.ones(n)])
    if K == 2:  # one direction d: the margin of sample i is s_i z_i . d
        margins = Z * np.where(codes == 1, 1.0, -1.0)[:, None]
    else:  # d is (K, q); row (i, l) is the margin of class y_i over class l != y_i
        rows = np.repeat(np.arange(n), K)
        others = np.tile(np.arange(K), n)
        mask = others != codes[rows]
        rows, others = rows[mask], others[mask]
        margins = np.zeros((rows.size, K * q))
        for k in range(K):
            own, other = codes[rows] == k, others == k
            margins[own, k * q : (k + 1) * q] += Z[rows[own]]
            margins[other, k * q : (k + 1) * q] -= Z[rows[other]]
    result = linprog(-margins.sum(axis=0), A_ub=-margins, b_ub=np.zeros(margins.shape[0]),
                     bounds=(-1.0, 1.0), method="highs")  # fmt: skip
    if result.status != 0:
        return None
    return bool(-result.fun > NOISE * n)
