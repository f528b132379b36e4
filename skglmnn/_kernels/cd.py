"""Coordinate descent on a quadratic model with an L1 penalty (the inner loop of glmnet)."""

import math

from ._jit import loop_kernel


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
    Hd = [0.0] * m
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
    ``fit_intercept``), used through the residual ``r = X dz + dz_0`` as glmnet's
    "naive" updates do: a coordinate costs the non-zeros of its column, a sweep
    one pass over X.  After a sweep over all coordinates, sweeps run over the
    non-zero ones only until they settle, then a full sweep checks (the active
    set strategy of glmnet).  Returns the number of sweeps.
    """
    n = h.shape[0]
    p = indptr.shape[0] - 1
    m = theta.shape[0]
    r = [0.0] * n
    curvature = [0.0] * m
    for j in range(p):
        c = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            c += h[indices[k]] * data[k] * data[k]
        curvature[j] = c + l2[j]
    if fit_intercept:
        c = 0.0
        for i in range(n):
            c += h[i]
        curvature[p] = c + l2[p]
    for j in range(m):
        z_out[j] = theta[j]
    full = True
    sweeps = 0
    while sweeps < max_sweeps:
        sweeps += 1
        largest = 0.0
        for j in range(m):
            if curvature[j] <= 0.0 or (not full and z_out[j] == 0.0):
                continue
            # (H dz)_j from the residual
            hd = l2[j] * (z_out[j] - theta[j])
            if j < p:
                for k in range(indptr[j], indptr[j + 1]):
                    hd += data[k] * h[indices[k]] * r[indices[k]]
            else:
                for i in range(n):
                    hd += h[i] * r[i]
            u = curvature[j] * z_out[j] - (g[j] + hd)
            new = math.copysign(max(abs(u) - l1[j], 0.0), u) / curvature[j]
            delta = new - z_out[j]
            if delta != 0.0:
                z_out[j] = new
                if j < p:
                    for k in range(indptr[j], indptr[j + 1]):
                        r[indices[k]] += delta * data[k]
                else:
                    for i in range(n):
                        r[i] += delta
                largest = max(largest, abs(delta) * curvature[j])
        if largest <= tol:
            if full:
                return sweeps
            full = True  # the active set settled: check every coordinate once more
        else:
            full = False
    return sweeps
