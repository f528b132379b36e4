"""Column moments for the solvers' change of variables (``_solvers/_scaling.py``).

One read of X, no copy: the weighted mean and standard deviation of every
column of dense X, or the weighted root mean square of every column of sparse X.
"""

import numpy as np

from ._jit import loop_kernel, parallel_kernel, prange


@loop_kernel
def dense_column_moments(X, sample_weight, x0):
    """``(sum w, sum w (x_j - x0_j), sum w (x_j - x0_j)^2)`` over the rows of dense X.

    The squares are taken about a row ``x0`` of X (float64) so that a column far
    from zero (a calendar year) loses no digits to ``E[x^2] - E[x]^2``; the
    caller turns these into a mean and a variance.  A length-0
    ``sample_weight`` means unit weights.  One thread: the caller splits the
    rows among threads (``_threads.parallel_row_blocks``), which costs a tenth
    of the compile time of a parallel loop (measured 0.25 s against 2.4 s).
    """
    n, p = X.shape
    weighted = sample_weight.shape[0] > 0
    total = 0.0
    first = np.zeros(p)
    second = np.zeros(p)
    for i in range(n):
        w = sample_weight[i] if weighted else 1.0
        total += w
        for j in range(p):
            d = np.float64(X[i, j]) - x0[j]  # float32 X: differences in float64
            first[j] += w * d
            second[j] += w * d * d
    return total, first, second


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


@loop_kernel
def small_gram(X, columns, weights, shift, upper, colsum):
    """Add ``sum_i w_i z_i z_i^T`` (upper triangle) and ``sum_i w_i z_i`` for the rows of
    dense X on a few of its ``columns``, ``z_i = x_i[columns] - shift`` in float64.

    Where X has a handful of columns (a regularisation path's copy of the columns
    in play) BLAS's rank-k update works on panels a few numbers wide and NumPy's
    loops on rows as short, several passes a block; here blocks of rows are
    transposed into two small buffers and every entry is a dot product along the
    rows, which the compiler vectorises (100k x 3: 0.4 ms on two threads against
    1.4 ms).  One thread: the caller splits the rows (``_threads.parallel_row_blocks``,
    or ``parallel_small_gram``).
    """
    n, p = X.shape[0], columns.shape[0]
    block = 256
    z = np.empty((p, block))
    wz = np.empty((p, block))
    for start in range(0, n, block):
        end = min(n, start + block)
        m = end - start
        # views indexed by the loop counters alone: the loops vectorise (indexed by
        # start + r, whose sign the compiler cannot know, they did not)
        rows, w = X[start:end], weights[start:end]
        for j in range(p):
            c = shift[j]
            column = columns[j]
            zj, wzj = z[j], wz[j]
            for r in range(m):
                value = np.float64(rows[r, column]) - c
                zj[r] = value
                wzj[r] = w[r] * value
        for u in range(p):
            wzu = wz[u]
            total = 0.0
            for r in range(m):
                total += wzu[r]
            colsum[u] += total
            for v in range(u, p):
                zv = z[v]
                total = 0.0
                for r in range(m):
                    total += wzu[r] * zv[r]
                upper[u, v] += total


@loop_kernel
def columns_gram(Xt, columns, a, b, weights, shift, upper, colsum):
    """``small_gram`` on rows ``a`` to ``b`` of X stored column by column: ``Xt`` is X
    transposed (C-ordered, a column of X per row), as a path's copies of the columns
    in play are (``cd._ColumnCopy``).

    Every loop runs along a column's contiguous samples, which the compiler
    vectorises; gathering a block row by row, as ``small_gram`` must, was most
    of its time (100k x 9: 0.76 of 1.0 ms on one thread, measured).
    """
    p = columns.shape[0]
    block = 1024
    wz = np.empty((p, block))
    for start in range(a, b, block):
        end = min(b, start + block)
        m = end - start
        w = weights[start:end]
        for u in range(p):
            xu, wzu, c = Xt[columns[u], start:end], wz[u], shift[u]
            total = 0.0
            for r in range(m):
                value = w[r] * (np.float64(xu[r]) - c)
                wzu[r] = value
                total += value
            colsum[u] += total
        for u in range(p):
            wzu = wz[u]
            for v in range(u, p):
                xv, c = Xt[columns[v], start:end], shift[v]
                total = 0.0
                for r in range(m):
                    total += wzu[r] * (np.float64(xv[r]) - c)
                upper[u, v] += total


@parallel_kernel
def parallel_small_gram(X, columns, weights, shift, n_chunks, transposed, upper, colsum):
    """``small_gram`` over ``n_chunks`` row ranges on numba's threads, summed into
    ``upper`` and ``colsum`` (which it sets, not adds to); with ``transposed``, ``X``
    holds X transposed and ``columns_gram`` does each range.

    For the Hessians of a path's copies and of a large fit's working sets, formed
    between numba sweeps: run on Python threads (``_threads``) they competed with
    numba's, still spinning after the sweep, for the two cores (100k x 9: 2.9 ms
    right after a sweep against 1.6 ms alone, measured).  A parallel loop costs
    seconds to compile, so only those callers use it (``_loss.weighted_gram``'s
    ``narrow``), both layouts through this one.
    """
    n = X.shape[1] if transposed else X.shape[0]
    p = columns.shape[0]
    uppers = np.zeros((n_chunks, p, p))
    colsums = np.zeros((n_chunks, p))
    for c in prange(n_chunks):
        a, b = n * c // n_chunks, n * (c + 1) // n_chunks
        if transposed:
            columns_gram(X, columns, a, b, weights, shift, uppers[c], colsums[c])
        else:
            small_gram(X[a:b], columns, weights[a:b], shift, uppers[c], colsums[c])
    for u in range(p):
        colsum[u] = colsums[:, u].sum()
        for v in range(p):
            upper[u, v] = uppers[:, u, v].sum()


@loop_kernel
def gather_columns(X, columns, out):
    """``out[j] = X[:, columns[j]]``: chosen columns of C-ordered X copied into the rows of
    ``out`` (shape (len(columns), n)), X read once, row by row.

    The copy of a path's columns in play, stored column by column for
    ``narrow_loss_gradient`` (``cd._ColumnCopy``); NumPy's ``take`` into a
    Fortran-ordered array took 4x as long (100k x 25 of 100 columns: 5.5 ms
    against 21 ms, measured).
    """
    for i in range(X.shape[0]):
        row = X[i]
        for j in range(columns.shape[0]):
            out[j, i] = row[columns[j]]


ROWS_AT_ONCE = 4  # rows of X each pass of ``centred_products`` adds to the sums


@loop_kernel
def centred_products(X, D, shift, out, sums):
    """Add ``(X - shift)^T D`` to ``out`` (p x k) and the column sums of ``D`` to ``sums``,
    for C-ordered X (n, p) and D (n, k), in float64: one read of X.

    The check of a regularisation path's batch of k points (``_loss.centred_rmatmat``,
    which splits the rows among Python threads: a parallel loop would cost seconds
    more to compile).  Rows are taken four at a time, centred into a small buffer,
    and each row of the k x p sums gets the four rows' contributions at once, along
    X's columns (which the compiler vectorises): the sums are read and written a
    quarter as often as row by row.  100k x 100, two threads: 3.2 / 5.7 / 16.7 ms
    for k = 1 / 8 / 32 against 6.6 / 13.0 / 18.9 ms for BLAS on centred row blocks
    (measured in the same run).
    """
    n, p = X.shape
    k = D.shape[1]
    acc = np.zeros((k, p))
    z = np.zeros((ROWS_AT_ONCE, p))
    dd = np.zeros((ROWS_AT_ONCE, k))
    for start in range(0, n, ROWS_AT_ONCE):
        m = min(ROWS_AT_ONCE, n - start)
        for r in range(ROWS_AT_ONCE):
            zr, dr = z[r], dd[r]
            if r < m:
                row, di = X[start + r], D[start + r]
                for j in range(p):
                    zr[j] = np.float64(row[j]) - shift[j]
                for t in range(k):
                    dr[t] = di[t]
            else:  # past the last row: contributes nothing
                for t in range(k):
                    dr[t] = 0.0
        z0, z1, z2, z3 = z[0], z[1], z[2], z[3]
        for t in range(k):
            d0, d1, d2, d3 = dd[0, t], dd[1, t], dd[2, t], dd[3, t]
            sums[t] += d0 + d1 + d2 + d3
            at = acc[t]
            for j in range(p):
                at[j] += d0 * z0[j] + d1 * z1[j] + d2 * z2[j] + d3 * z3[j]
    for t in range(k):
        for j in range(p):
            out[j, t] += acc[t, j]
