"""Column moments for the solvers' change of variables (``_solvers/_scaling.py``).

One read of X, no copy: the weighted mean and standard deviation of every
column of dense X, or the weighted root mean square of every column of sparse X.
"""

import numpy as np

from ._jit import loop_kernel, parallel_kernel, prange

BLOCK_ROWS = 4096


@parallel_kernel
def dense_column_moments(X, sample_weight):
    """``(sum w, sum w (x_j - x_0j), sum w (x_j - x_0j)^2, x_0)`` for the columns of dense X.

    The squares are taken about the first row ``x_0`` so that a column far from
    zero (a calendar year) loses no digits to ``E[x^2] - E[x]^2``; the caller
    turns these into a mean and a variance.  A length-0 ``sample_weight`` means
    unit weights.  Row blocks run in parallel, each into its own partial sums.
    """
    n, p = X.shape
    weighted = sample_weight.shape[0] > 0
    n_blocks = (n + BLOCK_ROWS - 1) // BLOCK_ROWS
    sums = np.zeros((n_blocks, 2 * p + 1))
    for b in prange(n_blocks):
        acc = sums[b]
        for i in range(b * BLOCK_ROWS, min(n, (b + 1) * BLOCK_ROWS)):
            w = sample_weight[i] if weighted else 1.0
            acc[2 * p] += w
            for j in range(p):
                d = np.float64(X[i, j]) - np.float64(X[0, j])  # float32 X: differences in float64
                acc[j] += w * d
                acc[p + j] += w * d * d
    total = np.zeros(2 * p + 1)
    for b in range(n_blocks):
        total += sums[b]
    first = np.empty(p)
    for j in range(p):
        first[j] = X[0, j]
    return total[2 * p], total[:p], total[p : 2 * p], first


@loop_kernel
def sparse_column_squares(indptr, indices, data, sample_weight, n_columns, compressed_rows):
    """``sum_i w_i x_ij^2`` for every column j of a CSR (``compressed_rows``) or CSC matrix."""
    weighted = sample_weight.shape[0] > 0
    out = np.zeros(n_columns)
    for a in range(indptr.shape[0] - 1):
        for k in range(indptr[a], indptr[a + 1]):
            x = data[k]
            if compressed_rows:
                w = sample_weight[a] if weighted else 1.0
                out[indices[k]] += w * x * x
            else:
                w = sample_weight[indices[k]] if weighted else 1.0
                out[a] += w * x * x
    return out
