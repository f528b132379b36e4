"""The multinomial (softmax) loss: K linear predictors per sample, one class observed.

Conventions: ``eta`` has shape (n_samples, K); ``mu_k = exp(eta_k) / sum_l exp(eta_l)``
(the softmax activation, the inverse of the multinomial logit link); ``y`` holds
class indices 0..K-1 as floats.  The per-sample loss is the negative
log-likelihood ``logsumexp(eta) - eta_y`` (half the multinomial deviance) and its
derivative is ``delta_k = mu_k - [k = y]``: the canonical-link shortcut again.
"""

import math

import numpy as np
from numba import prange

from ._jit import loop_kernel, parallel_kernel, scalar_kernel


@scalar_kernel
def log_sum_exp_row(eta_row):
    """``log(sum(exp(eta_row)))`` shifted by the maximum, so it never overflows."""
    m = eta_row[0]
    for k in range(1, eta_row.shape[0]):
        if eta_row[k] > m:
            m = eta_row[k]
    s = 0.0
    for k in range(eta_row.shape[0]):
        s += math.exp(eta_row[k] - m)
    return m + math.log(s)


@loop_kernel
def multinomial_loss_gradient(y, eta, sample_weight, grad_out):
    """Sum of weighted losses; ``grad_out[i, k] = w_i (mu_ik - [k = y_i])``.

    A length-0 ``sample_weight`` means unit weights.
    """
    n, K = eta.shape
    weighted = sample_weight.shape[0] > 0
    total = 0.0
    for i in range(n):
        lse = log_sum_exp_row(eta[i])
        c = int(y[i])
        w = sample_weight[i] if weighted else 1.0
        total += w * (lse - eta[i, c])
        for k in range(K):
            grad_out[i, k] = w * math.exp(eta[i, k] - lse)
        grad_out[i, c] -= w
    return total


@parallel_kernel
def dense_multinomial_loss_gradient(X, y, sample_weight, coef, intercept, grad_out):
    """Multinomial loss and gradient on C-contiguous dense X in one sweep.

    ``coef`` has shape (K, p) and ``intercept`` (K,); fills ``grad_out`` of shape
    (K, p + 1) with ``[G^T X, G^T 1]`` where ``G[i, k] = w_i (mu_ik - [k = y_i])``,
    and returns the summed loss.  Rows are read once, as in
    ``pointwise.dense_loss_gradient``.
    """
    n, p = X.shape
    K = coef.shape[0]
    weighted = sample_weight.shape[0] > 0
    block_rows = 2048
    n_blocks = (n + block_rows - 1) // block_rows
    partial = np.zeros((n_blocks, K, p + 1))
    losses = np.zeros(n_blocks)
    for b in prange(n_blocks):
        acc = partial[b]
        eta = np.empty(K)
        block_loss = 0.0
        for i in range(b * block_rows, min(n, (b + 1) * block_rows)):
            for k in range(K):
                e = intercept[k]
                for j in range(p):
                    e += X[i, j] * coef[k, j]
                eta[k] = e
            lse = log_sum_exp_row(eta)
            c = int(y[i])
            w = sample_weight[i] if weighted else 1.0
            block_loss += w * (lse - eta[c])
            for k in range(K):
                g = w * math.exp(eta[k] - lse)
                if k == c:
                    g -= w
                for j in range(p):
                    acc[k, j] += g * X[i, j]
                acc[k, p] += g
        losses[b] = block_loss
    for k in range(K):
        for j in range(p + 1):
            s = 0.0
            for b in range(n_blocks):
                s += partial[b, k, j]
            grad_out[k, j] = s
    return losses.sum()
