"""Coordinate descent on a quadratic model with an L1 penalty (the inner loop of glmnet)."""

import math

import numpy as np

from ._jit import loop_kernel, parallel_kernel, prange


@loop_kernel
def cd_quadratic(H, g, theta, l1, max_sweeps, tol, z_out):
    """Minimise ``g.(z - theta) + (z - theta)^T H (z - theta) / 2 + sum_j l1_j |z_j|``.

    Cyclic coordinate descent from ``z = theta``: coordinate j moves to

    .. math:: z_j = S(H_{jj} z_j - r_j,\\ l1_j) / H_{jj},\\qquad
              r_j = g_j + (H (z - \\theta))_j,

    with ``S(u, a) = sign(u) max(|u| - a, 0)`` the soft threshold, which is
    where exact zeros come from.  ``H (z - theta)`` is kept up to date column by
    column.  Stops after a sweep in which no coordinate moved its gradient by
    more than ``tol`` (``|dz_j| H_jj``) or after ``max_sweeps``; fills ``z_out``
    and returns the number of sweeps.
    """
    m = theta.shape[0]
    Hd = np.zeros(m)
    for j in range(m):
        z_out[j] = theta[j]
    for sweep in range(max_sweeps):
        largest = 0.0
        for j in range(m):
            hjj = H[j, j]
            if hjj <= 0.0:
                continue
            u = hjj * z_out[j] - (g[j] + Hd[j])
            new = math.copysign(max(abs(u) - l1[j], 0.0), u) / hjj
            delta = new - z_out[j]
            if delta != 0.0:
                z_out[j] = new
                for k in range(m):
                    Hd[k] += delta * H[k, j]
                largest = max(largest, abs(delta) * hjj)
        if largest <= tol:
            return sweep + 1
    return max_sweeps


@loop_kernel
def cd_quadratic_sparse(
    indptr, indices, data, h, l2, g, theta, l1, fit_intercept, max_sweeps, tol, z_out
):  # fmt: skip
    """The same minimisation as ``cd_quadratic`` without forming H, for sparse X (CSC).

    Here ``H = [X 1]^T diag(h) [X 1] + diag(l2)`` (intercept last, present when
    ``fit_intercept``), used through the residual ``r = X dz`` as glmnet's
    "naive" updates do: a coordinate costs the non-zeros of its column, a sweep
    one pass over X.  The intercept's change ``d0`` is kept apart from r, with
    ``sum_i h_i r_i`` and each column's ``sum_i h_i x_ij`` at hand, so that it
    costs O(1) instead of a pass over the samples.  After a sweep over all
    coordinates, sweeps run over the non-zero ones only until they settle, then
    a full sweep checks (glmnet's active sets).  Returns the number of sweeps.
    """
    n = h.shape[0]
    p = indptr.shape[0] - 1
    m = theta.shape[0]
    r = np.zeros(n)
    curvature = np.zeros(m)
    hx = np.zeros(p)  # sum_i h_i x_ij
    for j in range(p):
        c = 0.0
        s = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            hk = h[indices[k]] * data[k]
            c += hk * data[k]
            s += hk
        curvature[j] = c + l2[j]
        hx[j] = s
    h_sum = 0.0
    for i in range(n):
        h_sum += h[i]
    if fit_intercept:
        curvature[p] = h_sum + l2[p]
    for j in range(m):
        z_out[j] = theta[j]
    d0 = 0.0  # change of the intercept
    hr = 0.0  # sum_i h_i r_i
    full = True  # start on the non-zero coordinates when there are any
    for j in range(m):
        if theta[j] != 0.0:
            full = False
            break
    sweeps = 0
    while sweeps < max_sweeps:
        sweeps += 1
        largest = 0.0
        for j in range(m):
            if curvature[j] <= 0.0 or (not full and z_out[j] == 0.0):
                continue
            hd = l2[j] * (z_out[j] - theta[j])  # (H dz)_j
            if j < p:
                acc = 0.0
                for k in range(indptr[j], indptr[j + 1]):
                    acc += data[k] * h[indices[k]] * r[indices[k]]
                hd += acc + d0 * hx[j]
            else:
                hd += hr + d0 * h_sum
            u = curvature[j] * z_out[j] - (g[j] + hd)
            new = math.copysign(max(abs(u) - l1[j], 0.0), u) / curvature[j]
            delta = new - z_out[j]
            if delta != 0.0:
                z_out[j] = new
                if j < p:
                    for k in range(indptr[j], indptr[j + 1]):
                        r[indices[k]] += delta * data[k]
                    hr += delta * hx[j]
                else:
                    d0 += delta
                largest = max(largest, abs(delta) * curvature[j])
        if largest <= tol:
            if full:
                return sweeps
            full = True  # the active set settled: check every coordinate once more
        else:
            full = False
    return sweeps


@parallel_kernel
def active_gram(indptr, indices, data, h, position, n_active, n_chunks, G_old):
    """``X_A^T diag(h) X_A`` for the active columns A of a CSR matrix X.

    ``position[j]`` is column j's place in A, or -1.  Rows are split into
    ``n_chunks`` ranges on all cores, each summing ``h_i x_iA x_iA^T`` over its
    rows' active non-zeros into its own matrix: the cost is that of reading X
    plus the squared number of active non-zeros per row.  The leading block for
    the first ``len(G_old)`` columns is copied from ``G_old`` (same h, columns
    that entered earlier): then only the rows of the new columns are summed.
    Also returns ``sum_i h_i x_ia`` for every active column a (the intercept's
    row of the Gram matrix).
    """
    n_old = G_old.shape[0]
    n = indptr.shape[0] - 1
    partial = np.zeros((n_chunks, n_active, n_active))
    partial_hx = np.zeros((n_chunks, n_active))
    for c in prange(n_chunks):
        cols = np.empty(n_active, dtype=np.int64)
        vals = np.empty(n_active)
        fresh = np.empty(n_active, dtype=np.int64)  # places in cols of the new columns
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            m = 0
            n_fresh = 0
            for k in range(indptr[i], indptr[i + 1]):
                a = position[indices[k]]
                if a >= 0:
                    cols[m] = a
                    vals[m] = data[k]
                    if a >= n_old:
                        fresh[n_fresh] = m
                        n_fresh += 1
                    m += 1
            hi = h[i]
            for u in range(m):
                partial_hx[c, cols[u]] += hi * vals[u]
            if n_old == 0:
                for u in range(m):  # one triangle, mirrored below
                    hu = hi * vals[u]
                    for v in range(u, m):
                        a, b = cols[u], cols[v]
                        if a > b:
                            a, b = b, a
                        partial[c, a, b] += hu * vals[v]
            else:
                for f in range(n_fresh):  # rows of the new columns only
                    u = fresh[f]
                    hu = hi * vals[u]
                    for v in range(m):
                        partial[c, cols[u], cols[v]] += hu * vals[v]
    G = np.zeros((n_active, n_active))
    hx = np.zeros(n_active)
    for c in range(n_chunks):
        G += partial[c]
        hx += partial_hx[c]
    if n_old == 0:
        for a in range(n_active):
            for b in range(a + 1, n_active):
                G[b, a] = G[a, b]
    else:
        G[:n_old, :n_old] = G_old
        for a in range(n_old, n_active):
            for b in range(n_old):
                G[b, a] = G[a, b]
    return G, hx


@parallel_kernel
def csr_matvec(indptr, indices, data, v, out):
    """``out = X v`` for CSR X, rows split over all cores."""
    n = indptr.shape[0] - 1
    for i in prange(n):
        acc = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            acc += data[k] * v[indices[k]]
        out[i] = acc


@parallel_kernel
def csr_rmatvec(indptr, indices, data, u, n_features, n_chunks):
    """``X^T u`` for CSR X: row ranges on all cores, each into its own vector, then summed."""
    n = indptr.shape[0] - 1
    partial = np.zeros((n_chunks, n_features))
    for c in prange(n_chunks):
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            ui = u[i]
            if ui != 0.0:
                for k in range(indptr[i], indptr[i + 1]):
                    partial[c, indices[k]] += data[k] * ui
    out = np.zeros(n_features)
    for c in range(n_chunks):
        out += partial[c]
    return out


@loop_kernel
def relative_change(h, inverse, positive):
    """``max_i |h_i / h0_i - 1|`` over the rows with ``h0_i > 0``, given ``inverse``
    (``1 / h0``, 0 where ``h0`` is 0) and ``positive`` (1.0 where ``h0 > 0``, else 0).

    inf where ``h0_i = 0`` but ``h_i`` is not, or where a ratio is not a number.
    Written so that the compiler vectorises it -- products, four running maxima,
    sums in place of branches -- which it did not for divisions and an early
    exit: 100k rows 0.085 ms against 0.13 (a call per Newton step of a path's
    points, and per predicted start).
    """
    n = h.shape[0]
    body = n - n % 4
    lanes = np.zeros(4)
    for s in range(0, body, 4):
        for k in range(4):
            lanes[k] = max(lanes[k], abs(h[s + k] * inverse[s + k] - positive[s + k]))
    for i in range(body, n):
        lanes[0] = max(lanes[0], abs(h[i] * inverse[i] - positive[i]))
    total = 0.0  # not a number if any ratio is not
    stray = 0.0  # the weights of rows where h0 is 0
    for i in range(n):
        total += abs(h[i] * inverse[i] - positive[i])
        stray += abs(h[i]) * (1.0 - positive[i])
    if not (total == total and stray == 0.0):
        return np.inf
    return max(max(lanes[0], lanes[1]), max(lanes[2], lanes[3]))


@loop_kernel
def anchor_bound(A, d, inverse_weight, solve, r):
    """``(a, |r|^2_w, |d|^2_w)`` for the ``n``-vector ``d`` against the k rows of ``A``:
    ``a = solve (A (d / w))`` (``solve`` the pseudo-inverse of ``A W^-1 A^T``), the
    residual ``r = d - A^T a`` (``r`` is the work space) and the weighted squared
    norms ``sum_i r_i^2 / w_i``, ``sum_i d_i^2 / w_i``; ``inverse_weight`` is ``1 / w``
    (0 where w is; length 0: unit weights).

    What a path's per-sample gradient needs against the anchors'
    (``_path._Anchors.bound``), two passes over the samples, no temporaries.
    """
    k, n = A.shape
    weighted = inverse_weight.shape[0] > 0
    if k == 1:  # one anchor (a path's first, the null model): two fused passes, no r
        row = A[0]
        ad, dd = 0.0, 0.0
        for i in range(n):
            di = d[i] * inverse_weight[i] if weighted else d[i]
            ad += row[i] * di
            dd += d[i] * di
        a = np.zeros(1)
        a[0] = solve[0, 0] * ad
        a0 = a[0]
        s = 0.0
        for i in range(n):
            ri = d[i] - a0 * row[i]
            s += ri * ri * inverse_weight[i] if weighted else ri * ri
        return a, s, dd
    products = np.zeros(k + 1)
    for j in range(k + 1):
        products[j] = weighted_dot(A[j] if j < k else d, d, inverse_weight)
    a = np.zeros(k)
    for u in range(k):
        for v in range(k):
            a[u] += solve[u, v] * products[v]
    for i in range(n):
        r[i] = d[i]
    for j in range(k):
        row, aj = A[j], a[j]
        for i in range(n):
            r[i] -= aj * row[i]
    return a, weighted_dot(r, r, inverse_weight), products[k]


@loop_kernel
def weighted_dot(u, v, inverse_weight):
    """``sum_i u_i v_i / w_i`` given ``1 / w`` (length 0: unit weights)."""
    s = 0.0
    if inverse_weight.shape[0] > 0:
        for i in range(u.shape[0]):
            s += u[i] * v[i] * inverse_weight[i]
    else:
        for i in range(u.shape[0]):
            s += u[i] * v[i]
    return s


@loop_kernel
def shifted_intercept_outputs(d, v, hess, a, c, b, d_out, hess_out):
    """``d_out = a d + c v`` and ``hess_out = b hess``: the per-sample gradients and Fisher
    weights after a move of the intercept that scales every mean by a constant
    (``GLMProblem.shift_intercept``), in one pass."""
    for i in range(d.shape[0]):
        d_out[i] = a * d[i] + c * v[i]
        hess_out[i] = b * hess[i]


@loop_kernel
def kkt_violation(theta, grad, weights):
    """``max_j |v_j|`` for the minimal-norm subgradient ``v`` of ``f + sum_j w_j |theta_j|``
    (``_problem.pseudo_gradient``) given ``grad f``; nan if any entry is nan.

    The solvers' stopping measure, taken several times per Newton step on
    vectors of a few to a few hundred entries: NumPy's six ufunc calls cost
    about 20 us there, most of it overhead.
    """
    largest = 0.0
    for j in range(theta.shape[0]):
        g, w, t = grad[j], weights[j], theta[j]
        if t > 0.0:
            v = g + w
        elif t < 0.0:
            v = g - w
        elif g > w:
            v = g - w
        elif g < -w:
            v = g + w
        elif g == g:
            v = 0.0
        else:
            return np.nan
        if not v == v:
            return np.nan
        largest = max(largest, abs(v))
    return largest
