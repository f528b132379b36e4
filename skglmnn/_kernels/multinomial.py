"""The multinomial (softmax) loss: K linear predictors per sample, one class observed.

Conventions: ``eta`` has shape (n_samples, K); ``mu_k = exp(eta_k) / sum_l exp(eta_l)``
(the softmax activation, the inverse of the multinomial logit link); ``y`` holds
class indices 0..K-1 as floats.  The per-sample loss is the negative
log-likelihood ``logsumexp(eta) - eta_y`` (half the multinomial deviance) and its
derivative is ``delta_k = mu_k - [k = y]``: the canonical-link shortcut again.
"""

import math

import numpy as np

from ._jit import loop_kernel, parallel_kernel, prange, scalar_kernel


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
def dense_multinomial_loss_gradient(X, y, sample_weight, coef_t, intercept, grad_out):
    """Multinomial loss and gradient on C-contiguous dense X in one sweep.

    ``coef_t`` is the (p, K) transposed coefficient matrix (C-contiguous) and
    ``intercept`` (K,); fills ``grad_out`` of shape (K, p + 1) with
    ``[G^T X, G^T 1]`` where ``G[i, k] = w_i (mu_ik - [k = y_i])``, and returns
    the summed loss.  Each block of rows is read from memory once and used twice
    while in cache, by two small matrix products (``np.dot`` calls BLAS, which
    the solvers keep single-threaded while numba's threads run): with K classes
    the K p multiply-adds per row, not the memory traffic, are the cost.
    """
    n, p = X.shape
    K = coef_t.shape[1]
    weighted = sample_weight.shape[0] > 0
    block_rows = max(64, (2**17) // max(p, K))  # a block of X stays in L2
    n_blocks = (n + block_rows - 1) // block_rows
    partial = np.zeros((n_blocks, K, p + 1))
    losses = np.zeros(n_blocks)
    for b in prange(n_blocks):
        start = b * block_rows
        stop = min(n, start + block_rows)
        Xb = X[start:stop]
        eta = np.dot(Xb, coef_t)
        G = np.empty_like(eta)
        block_loss = 0.0
        for r in range(stop - start):
            i = start + r
            m = -math.inf
            for k in range(K):
                eta[r, k] += intercept[k]
                m = max(m, eta[r, k])
            total = 0.0  # one exponential per class: softmax and log-sum-exp share them
            for k in range(K):
                e = math.exp(eta[r, k] - m)
                G[r, k] = e
                total += e
            c = int(y[i])
            w = sample_weight[i] if weighted else 1.0
            block_loss += w * (m + math.log(total) - eta[r, c])
            scale = w / total
            for k in range(K):
                G[r, k] *= scale
            G[r, c] -= w
        gx = np.dot(G.T.copy(), Xb)
        acc = partial[b]
        for k in range(K):
            s = 0.0
            for r in range(stop - start):
                s += G[r, k]
            acc[k, p] = s
            for j in range(p):
                acc[k, j] = gx[k, j]
        losses[b] = block_loss
    for k in range(K):
        for j in range(p + 1):
            s = 0.0
            for b in range(n_blocks):
                s += partial[b, k, j]
            grad_out[k, j] = s
    return losses.sum()
