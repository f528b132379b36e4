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
