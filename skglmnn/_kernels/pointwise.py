"""Per-sample loss, gradient and Hessian weights with respect to eta.

For a family with variance V and a link with inverse h, the per-sample loss is
half the unit deviance, ``l(y, eta) = d(y, h(eta)) / 2``, and

.. math:: \\delta = \\frac{\\partial l}{\\partial \\eta}
          = \\frac{(\\mu - y)\\, h'(\\eta)}{V(\\mu)},
   \\qquad
   \\text{Fisher weight} = E\\left[\\frac{\\partial^2 l}{\\partial\\eta^2}\\right]
          = \\frac{h'(\\eta)^2}{V(\\mu)}.

That chain rule serves every (family, link) pair.  For a canonical link
``h' = V`` up to a constant, so ``delta`` is proportional to ``mu - y``: the
fused branches below write that shortcut out, with one exponential per sample,
for the pairs used most.  ``pair = NO_PAIR`` forces the general path (the tests
compare the two).  Outside the family's domain of means the loss is ``inf`` and
the derivatives are 0, which line searches read as "step too long".
"""

import math

import numpy as np

from . import codes as C
from ._jit import loop_kernel, parallel_kernel, prange, scalar_kernel
from .families import (
    binomial_half_deviance,
    mean_in_domain,
    unit_deviance,
    unit_variance,
)
from .links import binary_link_terms, inverse_link_and_derivative
from .special import exp_into, xlogy

BLOCK_ROWS = 2048  # rows per parallel block: a block of X (p <= ~100) stays in L2


@scalar_kernel
def fused_half_deviance_derivatives(pair, fpower, y, eta):
    """``(loss, delta, fisher)`` for the fused (family, link) pairs.

    =======================  ===========================  ==================
    pair                     delta                        Fisher weight
    =======================  ===========================  ==================
    normal / identity        eta - y                      1
    binomial / logit         mu - y                       mu (1 - mu)
    poisson / log            mu - y                       mu
    gamma / log              1 - y / mu                   1
    gamma / inverse          y - mu                       mu^2
    inv. gaussian / 1/mu^2   (y - mu) / 2                 mu^3 / 4
    tweedie(p) / log         mu^(2-p) - y mu^(1-p)        mu^(2-p)
    neg. binomial(a) / log   (mu - y) / (1 + a mu)        mu / (1 + a mu)
    =======================  ===========================  ==================
    """
    if pair == C.NORMAL_IDENTITY:
        r = eta - y
        return 0.5 * r * r, r, 1.0
    if pair == C.BINOMIAL_LOGIT:
        # log(1 + exp(eta)) = max(eta, 0) + log1p(exp(-|eta|)), one exp per sample.
        e = math.exp(-abs(eta))
        softplus = math.log1p(e)
        if eta >= 0.0:
            softplus += eta
            mu = 1.0 / (1.0 + e)
        else:
            mu = e / (1.0 + e)
        entropy = 0.0
        if y > 0.0 and y < 1.0:
            entropy = xlogy(y, y) + xlogy(1.0 - y, 1.0 - y)
        return entropy + softplus - y * eta, mu - y, e / ((1.0 + e) * (1.0 + e))
    if pair == C.POISSON_LOG:
        mu = math.exp(eta)
        loss = mu
        if y > 0.0:
            loss += y * (math.log(y) - eta) - y
        return loss, mu - y, mu
    if pair == C.GAMMA_LOG:
        y_over_mu = y * math.exp(-eta)
        return eta - math.log(y) + y_over_mu - 1.0, 1.0 - y_over_mu, 1.0
    if pair == C.GAMMA_INVERSE:
        if not eta > 0.0:
            return math.inf, 0.0, 0.0
        mu = 1.0 / eta
        return y * eta - math.log(y * eta) - 1.0, y - mu, mu * mu
    if pair == C.INVERSE_GAUSSIAN_INVERSE_SQUARED:
        if not eta > 0.0:
            return math.inf, 0.0, 0.0
        mu = 1.0 / math.sqrt(eta)
        r = y - mu
        return 0.5 * r * r / (y * mu * mu), 0.5 * r, 0.25 * mu * mu * mu
    if pair == C.TWEEDIE_LOG:
        p = fpower
        m1 = math.exp((1.0 - p) * eta)  # mu^(1-p)
        m2 = m1 * math.exp(eta)  # mu^(2-p)
        first = 0.0
        if y > 0.0:
            first = y ** (2.0 - p) / ((1.0 - p) * (2.0 - p))
        loss = first - y * m1 / (1.0 - p) + m2 / (2.0 - p)
        return loss, m2 - y * m1, m2
    if pair == C.NEGATIVE_BINOMIAL_LOG:
        a = fpower
        mu = math.exp(eta)
        first = 0.0
        if y > 0.0:
            first = y * (math.log(y) - eta)
        loss = first - (y + 1.0 / a) * (math.log1p(a * y) - math.log1p(a * mu))
        scale = 1.0 / (1.0 + a * mu)
        return loss, (mu - y) * scale, mu * scale
    return math.nan, math.nan, math.nan


@scalar_kernel
def general_half_deviance_derivatives(family, fpower, link, lpower, y, eta):
    """``(loss, delta, fisher)`` through the general chain rule (module docstring)."""
    if family == C.BINOMIAL:
        log_mu, log_mu_c, r1, r0 = binary_link_terms(link, lpower, eta)
        if math.isnan(log_mu) or math.isnan(log_mu_c):
            return math.inf, 0.0, 0.0
        loss = binomial_half_deviance(y, log_mu, log_mu_c)
        return loss, (1.0 - y) * r0 - y * r1, r1 * r0
    mu, dmu = inverse_link_and_derivative(link, lpower, eta)
    if not mean_in_domain(family, fpower, mu):
        return math.inf, 0.0, 0.0
    v = unit_variance(family, fpower, mu)
    loss = 0.5 * unit_deviance(family, fpower, y, mu)
    return loss, (mu - y) * dmu / v, dmu * dmu / v


@scalar_kernel
def half_deviance_derivatives(family, fpower, link, lpower, pair, y, eta):
    """``(loss, delta, fisher)``: the fused branch if ``pair`` names one, else general."""
    if pair != C.NO_PAIR:
        return fused_half_deviance_derivatives(pair, fpower, y, eta)
    return general_half_deviance_derivatives(family, fpower, link, lpower, y, eta)


@scalar_kernel
def stored_exponents(pair, fpower):
    """``(a1, a2)``: a sample of a ``fill_y_terms`` pair needs ``exp(a1 eta)`` and, where
    ``a2`` is not 0, ``exp(a2 eta)`` -- its only transcendentals once y's are stored."""
    if pair == C.POISSON_LOG:
        return 1.0, 0.0
    if pair == C.GAMMA_LOG:
        return -1.0, 0.0
    if pair == C.TWEEDIE_LOG:
        return 1.0 - fpower, 1.0
    return math.nan, 0.0


@scalar_kernel
def stored_derivatives_from(pair, fpower, y, eta, stored, e1, e2):
    """``(loss, delta, fisher)`` of a ``fill_y_terms`` pair from the sample's stored term
    and its exponentials ``e1 = exp(a1 eta)``, ``e2 = exp(a2 eta)`` (``stored_exponents``)."""
    if pair == C.POISSON_LOG:
        # computed for every sample, then selected: a branch on y > 0 costs a
        # misprediction on a third of Poisson counts (a fifth of the sweep, measured)
        term = y * (stored - eta) - y
        return e1 + (term if y > 0.0 else 0.0), e1 - y, e1
    if pair == C.GAMMA_LOG:
        y_over_mu = y * e1
        return eta - stored + y_over_mu - 1.0, 1.0 - y_over_mu, 1.0
    if pair == C.TWEEDIE_LOG:
        p = fpower
        m1 = e1  # mu^(1-p)
        m2 = m1 * e2  # mu^(2-p), as fused_half_deviance_derivatives forms it
        loss = stored - y * m1 / (1.0 - p) + m2 / (2.0 - p)
        return loss, m2 - y * m1, m2
    return math.nan, math.nan, math.nan


@scalar_kernel
def stored_half_deviance_derivatives(pair, fpower, y, eta, stored):
    """``fused_half_deviance_derivatives`` for the pairs of ``fill_y_terms``, with the
    sample's transcendental of y alone read from ``stored`` instead of computed: the
    same arithmetic, one exponential per sample (two for tweedie) and no logarithm or
    power."""
    a1, a2 = stored_exponents(pair, fpower)
    e2 = math.exp(a2 * eta) if a2 != 0.0 else 0.0
    return stored_derivatives_from(pair, fpower, y, eta, stored, math.exp(a1 * eta), e2)


@loop_kernel
def pointwise_loss_gradient_hessian(
    family, fpower, link, lpower, pair, y, eta, sample_weight, grad_out, hess_out, y_terms
):
    """Sum of weighted losses; fill ``grad_out = w * delta``, ``hess_out = w * fisher``.

    A length-0 ``sample_weight`` means unit weights; a length-0 ``grad_out`` or
    ``hess_out`` is not written (loss only, or no Hessian).  ``y_terms`` (None, or
    ``fill_y_terms``'s array; its pairs only) are read instead of computed.
    """
    weighted = sample_weight.shape[0] > 0
    want_grad = grad_out.shape[0] > 0
    want_hess = hess_out.shape[0] > 0
    total = 0.0
    for i in range(y.shape[0]):
        loss, delta, fisher = sample_derivatives(
            family, fpower, link, lpower, pair, y[i], eta[i], y_terms, i
        )
        w = sample_weight[i] if weighted else 1.0
        total += w * loss
        if want_grad:
            grad_out[i] = w * delta
        if want_hess:
            hess_out[i] = w * fisher
    return total


@scalar_kernel
def sample_derivatives(family, fpower, link, lpower, pair, y, eta, y_terms, i):
    """``(loss, delta, fisher)`` of sample ``i``: ``y_terms[i]`` read when ``y_terms`` is
    given (``fill_y_terms``), else ``half_deviance_derivatives``.

    ``y_terms`` is None or an array, never an empty array for "none": numba then
    compiles each case on its own and drops the other branch, so a loop that
    reads stored terms does not carry every family's formulas inlined beside
    its own (which cost a sweep over a few columns half its time, measured).
    """
    if y_terms is None:
        return half_deviance_derivatives(family, fpower, link, lpower, pair, y, eta)
    return stored_half_deviance_derivatives(pair, fpower, y, eta, y_terms[i])


@loop_kernel
def fill_y_terms(pair, fpower, y, out):
    """``out[i]``: what sample i's loss computes from ``y_i`` alone, for
    ``stored_half_deviance_derivatives`` -- ``log y`` (poisson / log, 0 at y = 0;
    gamma / log), ``y^(2-p) / ((1-p)(2-p))`` (tweedie(p) / log, 0 at y = 0)."""
    for i in range(y.shape[0]):
        v = y[i]
        if pair == C.POISSON_LOG:
            out[i] = math.log(v) if v > 0.0 else 0.0
        elif pair == C.GAMMA_LOG:
            out[i] = math.log(v)
        elif pair == C.TWEEDIE_LOG:
            out[i] = v ** (2.0 - fpower) / ((1.0 - fpower) * (2.0 - fpower)) if v > 0.0 else 0.0
        else:
            out[i] = math.nan


@loop_kernel
def pointwise_loss(family, fpower, link, lpower, pair, y, eta, sample_weight):
    """Sum of weighted losses only (for statistics), added up by blocks of ``BLOCK_ROWS``.

    One thread: the caller splits the rows among threads (``_threads.split_rows``);
    a parallel loop would cost seconds more to compile, for a sum taken once a fit.
    """
    n = y.shape[0]
    weighted = sample_weight.shape[0] > 0
    total = 0.0
    for start in range(0, n, BLOCK_ROWS):
        s = 0.0
        for i in range(start, min(n, start + BLOCK_ROWS)):
            loss = half_deviance_derivatives(family, fpower, link, lpower, pair, y[i], eta[i])[0]
            s += (sample_weight[i] if weighted else 1.0) * loss
        total += s
    return total


@loop_kernel
def sum_partials(partial, out):
    """``out[j] = sum_b partial[b, j]``: the per-block gradients of a parallel sweep, added."""
    for j in range(partial.shape[1]):
        s = 0.0
        for b in range(partial.shape[0]):
            s += partial[b, j]
        out[j] = s


@scalar_kernel
def sweep_options(sample_weight, offset, shift, hess_out, delta_out, p):
    """``(weighted, has_offset, want_hess, want_delta, centres)`` of a sweep's arguments:
    length-0 arrays mean "not given"; the centres are ``shift``, or p zeros."""
    c = np.zeros(p)
    if shift.shape[0] > 0:
        c[:] = shift
    return (sample_weight.shape[0] > 0, offset.shape[0] > 0, hess_out.shape[0] > 0,
            delta_out.shape[0] > 0, c)  # fmt: skip


@parallel_kernel
def dense_loss_gradient(
    X, y, sample_weight, offset, coef, intercept, shift,
    family, fpower, link, lpower, pair, grad_out, hess_out, delta_out, y_terms,
):  # fmt: skip
    """Loss and gradient of a GLM on C-contiguous dense ``X`` in one sweep over X.

    ``eta_i = (X_i - shift) . coef + intercept + offset_i``; returns
    ``sum_i w_i l_i`` and fills ``grad_out[:p] = (X - shift)^T (w * delta)``,
    ``grad_out[p] = sum(w * delta)``
    (the intercept) and, if they have length n, ``hess_out = w * fisher`` and
    ``delta_out = w * delta`` (the per-sample gradient); ``y_terms`` (None, or
    ``fill_y_terms``'s array; its pairs only) are read instead of computed.  Each row
    of X is read from memory once: the dot product and the gradient update use
    it while it is in cache, which halves the memory traffic of
    ``X @ coef`` followed by ``X.T @ g``.  Blocks of rows run in parallel, each
    with its own partial gradient, summed at the end.  ``shift`` (length p, or
    0 for none) centres the columns inside the sweep -- the solvers' change of
    variables (``_solvers/_scaling.py``): subtracting ``c . coef`` from the
    intercept and ``c sum(w delta)`` from the gradient afterwards would give
    the same numbers in exact arithmetic, but with a calendar-year column it
    loses three digits to cancellation.
    """
    n, p = X.shape
    weighted, has_offset, want_hess, want_delta, c = sweep_options(
        sample_weight, offset, shift, hess_out, delta_out, p
    )
    n_blocks = (n + BLOCK_ROWS - 1) // BLOCK_ROWS
    partial = np.zeros((n_blocks, p + 1))
    losses = np.zeros(n_blocks)
    for b in prange(n_blocks):
        acc = partial[b]
        block_loss = 0.0
        for i in range(b * BLOCK_ROWS, min(n, (b + 1) * BLOCK_ROWS)):
            eta = intercept
            if has_offset:
                eta += offset[i]
            for j in range(p):
                eta += (X[i, j] - c[j]) * coef[j]
            loss, delta, fisher = sample_derivatives(
                family, fpower, link, lpower, pair, y[i], eta, y_terms, i
            )
            w = sample_weight[i] if weighted else 1.0
            block_loss += w * loss
            g = w * delta
            for j in range(p):
                acc[j] += g * (X[i, j] - c[j])
            acc[p] += g
            if want_hess:
                hess_out[i] = w * fisher
            if want_delta:
                delta_out[i] = g
        losses[b] = block_loss
    sum_partials(partial, grad_out)
    return losses.sum()


NARROW_COLUMNS = 32  # up to this many columns, stored-y pairs sweep with narrow_loss_gradient


@parallel_kernel
def narrow_loss_gradient(
    Xt, y, sample_weight, offset, coef, intercept, shift, pair, fpower,
    grad_out, hess_out, delta_out, y_terms,
):  # fmt: skip
    """``dense_loss_gradient`` for X of a few columns, stored column by column, and the
    pairs of ``fill_y_terms`` (``y_terms`` given).

    ``Xt`` is X transposed, C-contiguous of shape (p, n) -- a column of X is a
    row of ``Xt``; the other arguments, the outputs and the arithmetic are
    ``dense_loss_gradient``'s.  Each block of rows runs in four loops along
    its samples, each of which the compiler vectorises: the linear predictors,
    column by column; their exponentials (``special.exp_into``); the
    per-sample gradients; and the gradient, a dot product per column.

    A regularisation path sweeps its copy of the columns in play a hundred
    times and more (``cd._ColumnCopy``), with a handful of columns: row by
    row, a row's dot product is a few numbers long and its exponential a call
    to ``math.exp`` (``dense_loss_gradient``).  On 100k rows, two threads,
    back to back: 0.17 ms for one column, 0.31 for nine, 1.04 for 25; the
    version before this one, which read C-ordered X row by row with vectorised
    exponentials, 0.49, 0.90 and 1.23 ms (measured).
    """
    p, n = Xt.shape
    weighted, has_offset, want_hess, want_delta, c = sweep_options(
        sample_weight, offset, shift, hess_out, delta_out, p
    )
    a1, a2 = stored_exponents(pair, fpower)
    two = a2 != 0.0
    n_blocks = (n + BLOCK_ROWS - 1) // BLOCK_ROWS
    partial = np.zeros((n_blocks, p + 1))
    losses = np.zeros(n_blocks)
    for b in prange(n_blocks):
        start = b * BLOCK_ROWS
        end = min(n, start + BLOCK_ROWS)
        m = end - start
        # views of the block: indexed by the loop counter alone, the loops vectorise
        # (indexed by start + i, whose sign the compiler cannot know, they did not: 5x)
        yb, tb = y[start:end], y_terms[start:end]
        wb = sample_weight[start:end] if weighted else sample_weight
        eta = np.full(m, intercept)
        e1 = np.empty(m)
        e2 = np.zeros(m)
        scaled = np.empty(m)
        bits = np.empty(m, dtype=np.int64)
        if has_offset:
            ob = offset[start:end]
            for i in range(m):
                eta[i] += ob[i]
        for j in range(p):
            cj, bj, xj = c[j], coef[j], Xt[j, start:end]
            if bj == 0.0:  # a column copied because it may enter, not in the model yet
                continue
            for i in range(m):
                eta[i] += (xj[i] - cj) * bj
        for i in range(m):
            scaled[i] = a1 * eta[i]
        exp_into(scaled, e1, bits)
        if two:
            for i in range(m):
                scaled[i] = a2 * eta[i]
            exp_into(scaled, e2, bits)
        block_loss = 0.0
        total = 0.0
        for i in range(m):
            loss, delta, fisher = stored_derivatives_from(pair, fpower, yb[i], eta[i], tb[i],
                                                          e1[i], e2[i])  # fmt: skip
            w = wb[i] if weighted else 1.0
            block_loss += w * loss
            g = w * delta
            scaled[i] = g
            total += g
            e1[i] = w * fisher
        if want_hess:
            hess_out[start:end] = e1
        if want_delta:
            delta_out[start:end] = scaled
        acc = partial[b]
        for j in range(p):
            cj, xj = c[j], Xt[j, start:end]
            s = 0.0
            for i in range(m):
                s += (xj[i] - cj) * scaled[i]
            acc[j] = s
        acc[p] = total
        losses[b] = block_loss
    sum_partials(partial, grad_out)
    return losses.sum()


@parallel_kernel
def csr_loss_gradient(
    indptr, indices, data, n_features, y, sample_weight, offset, coef, intercept,
    family, fpower, link, lpower, pair, n_chunks, grad_out, hess_out, y_terms,
):  # fmt: skip
    """``dense_loss_gradient`` for a CSR matrix: one pass over its non-zeros.

    Rows are split into ``n_chunks`` contiguous chunks that run in parallel,
    each with its own partial gradient of length ``n_features + 1`` (a few per
    thread, so that even 50k features cost little to sum).
    """
    n = indptr.shape[0] - 1
    p = n_features
    weighted = sample_weight.shape[0] > 0
    has_offset = offset.shape[0] > 0
    want_hess = hess_out.shape[0] > 0
    partial = np.zeros((n_chunks, p + 1))
    losses = np.zeros(n_chunks)
    for c in prange(n_chunks):
        acc = partial[c]
        chunk_loss = 0.0
        for i in range(n * c // n_chunks, n * (c + 1) // n_chunks):
            eta = intercept
            if has_offset:
                eta += offset[i]
            for k in range(indptr[i], indptr[i + 1]):
                eta += data[k] * coef[indices[k]]
            loss, delta, fisher = sample_derivatives(
                family, fpower, link, lpower, pair, y[i], eta, y_terms, i
            )
            w = sample_weight[i] if weighted else 1.0
            chunk_loss += w * loss
            g = w * delta
            for k in range(indptr[i], indptr[i + 1]):
                acc[indices[k]] += g * data[k]
            acc[p] += g
            if want_hess:
                hess_out[i] = w * fisher
        losses[c] = chunk_loss
    sum_partials(partial, grad_out)
    return losses.sum()
