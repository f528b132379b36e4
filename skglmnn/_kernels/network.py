"""Forward and backward passes through a stack of GLM layers, and whole epochs.

Conventions, stated once:

* All parameters live in one flat float64 vector ``theta``.  Weight layer ``l``
  maps ``n_in`` inputs to ``n_out`` units; its weights ``W_l`` (``n_in x n_out``,
  row-major) start at ``layout[l, W_START]``, its intercepts ``b_l`` at
  ``layout[l, B_START]``.  The last weight layer is the output GLM.
* Hidden unit ``j`` of layer ``l`` computes ``a = f(z)`` with
  ``z = a_prev @ W_l[:, j] + b_l[j]``: a GLM whose mean function (inverse link)
  is the activation ``f``.  ``act[l]`` is a link code (``f = h``, its inverse)
  or ``RELU``.
* The output layer's ``eta = a_last @ W_L + b_L + offset`` enters the family's
  half deviance exactly as in a GLM (``output = [family, link, pair]``), or the
  multinomial loss when ``output[0] == SOFTMAX``.  ``delta = d loss / d eta``
  is then propagated back: ``G_prev = (G @ W_l^T) * f'(z_prev)``.
* Buffers are flat and reshaped per batch (contiguous views), so a batch of
  ``m`` rows uses the first ``m * width`` entries of each.  They are made by the
  caller (``GLMStack.buffers``, NumPy): allocation inside a kernel is compiled
  code too, about a second of a first fit per dtype.
* The compute dtype is ``theta``'s: float64, or float32 for the float32 path.
  Batch buffers, activations, deltas, gradients and the optimiser's state take
  it, and the matrix products run in it (BLAS ``sgemm``); the scalar link and
  family functions always run in float64 (one compiled version, and no loss of
  accuracy where a single value is transformed), and every sum over rows that
  is reported (the loss) is accumulated in float64.
* ``X`` reaches the kernels as a "row source": a C-contiguous 2-D array (or the
  C-contiguous transpose of a Fortran-ordered one, ``transposed=True``), or the
  three arrays of a CSR matrix (``sparse=True``).  Rows are gathered into the
  batch buffer (standardised in float64 on the way), so neither the dtype nor
  Fortran order nor sparsity costs a copy of ``X``.

Matrix products call BLAS through ``np.dot``; the callers keep BLAS on one
thread, since a mini-batch product is too small to split.
"""

import math

import numpy as np

from . import codes as C
from ._jit import loop_kernel, parallel_kernel, prange, prefetch_row, scalar_kernel
from .links import inverse_link_and_derivative
from .multinomial import log_sum_exp_row
from .pointwise import half_deviance_derivatives

N_IN, N_OUT, W_START, B_START = 0, 1, 2, 3
PREFETCH_AHEAD = 8  # rows the gather asks the cache for ahead of the one it copies

ADAM, SGD = 0, 1
# Positions in the optimiser's hyper-parameter vector.
KIND, LEARNING_RATE, BETA_1, BETA_2, EPSILON, MOMENTUM, NESTEROV = range(7)


@scalar_kernel
def activation_and_derivative(code, z):
    """``(f(z), f'(z))`` for the activation with code ``code`` (a link code or RELU)."""
    if code == C.RELU:
        if z > 0.0:
            return z, 1.0
        return 0.0, 0.0
    return inverse_link_and_derivative(code, 0.0, z)


@loop_kernel
def gather_rows(X, transposed, indptr, indices, data, sparse, rows, start, m, p, shift,
                inv_scale, xb_out):  # fmt: skip
    """Copy rows ``rows[start:start + m]`` (``p`` features) of the row source into ``xb_out``.

    With ``shift``/``inv_scale`` of length p, each value is standardised on the
    way, ``(x - shift) * inv_scale``: the first layer's change of variables
    (``_solvers/network.py``), at no cost beyond the copy that is made anyway.
    """
    standardise = shift.shape[0] > 0
    for i in range(m):
        r = rows[start + i]
        if not (sparse or transposed) and start + i + PREFETCH_AHEAD < rows.shape[0]:
            prefetch_row(X, rows[start + i + PREFETCH_AHEAD])  # shuffled rows: each a miss
        if sparse:
            for j in range(p):
                xb_out[i * p + j] = 0.0
            for k in range(indptr[r], indptr[r + 1]):
                xb_out[i * p + indices[k]] = data[k]
        elif transposed:
            for j in range(p):
                xb_out[i * p + j] = X[j, r]
        else:
            for j in range(p):
                xb_out[i * p + j] = X[r, j]
        if standardise:
            for j in range(p):
                xb_out[i * p + j] = (xb_out[i * p + j] - shift[j]) * inv_scale[j]


@loop_kernel
def forward(theta, layout, act, xb, m, acts, dacts, act_start, activate_last, eta_out):
    """Run ``m`` gathered rows through every layer; fill activations and ``eta_out``.

    ``acts``/``dacts`` receive each hidden layer's ``f(z)`` and ``f'(z)`` at
    ``act_start[l]``; ``eta_out`` the last layer's linear predictor
    (``m x n_out``, without offset), or its activations ``f(z)`` if
    ``activate_last`` (``layout`` then ends at a hidden layer).  Callers pass
    ``activate_last`` as a computed bool, never the literal ``False``: numba
    compiles a literal argument as a type of its own, a second copy of this
    function (about 1 s of compilation per dtype).
    """
    n_layers = layout.shape[0]
    inp = xb[: m * layout[0, N_IN]].reshape((m, layout[0, N_IN]))
    for layer in range(n_layers):
        n_in, n_out = layout[layer, N_IN], layout[layer, N_OUT]
        ws, bs, s = layout[layer, W_START], layout[layer, B_START], 0
        W = theta[ws : ws + n_in * n_out].reshape((n_in, n_out))
        last = layer == n_layers - 1
        if last:
            z = eta_out[: m * n_out].reshape((m, n_out))
        else:
            s = act_start[layer]
            z = acts[s : s + m * n_out].reshape((m, n_out))
        np.dot(inp, W, z)
        if last and not activate_last:
            for i in range(m):
                for j in range(n_out):
                    z[i, j] += theta[bs + j]
        elif last:
            code = act[layer]
            for i in range(m):
                for j in range(n_out):
                    z[i, j] = activation_and_derivative(code, np.float64(z[i, j])
                                                        + theta[bs + j])[0]
        else:
            code = act[layer]
            d = dacts[s : s + m * n_out].reshape((m, n_out))
            if code == C.RELU:  # in the compute dtype, a loop the compiler vectorises
                b = theta[bs : bs + n_out]
                for i in range(m):
                    for j in range(n_out):
                        v = z[i, j] + b[j]
                        positive = v > 0
                        z[i, j] = v if positive else 0
                        d[i, j] = 1 if positive else 0
            else:
                for i in range(m):
                    for j in range(n_out):
                        a, da = activation_and_derivative(code, np.float64(z[i, j])
                                                          + theta[bs + j])  # fmt: skip
                        z[i, j] = a
                        d[i, j] = da
        inp = z
    return inp


@loop_kernel
def output_loss_delta(output, opower, y, sw, offset, rows, start, m, n_out, scale, eta, delta):
    """Sum of ``w_i * loss_i`` over the batch; ``delta = scale * w_i * d loss_i / d eta``.

    ``offset`` has shape (n_samples, n_out) or (0, n_out) for none; ``eta`` is
    shifted by the offset in place.
    """
    total = 0.0
    has_offset = offset.shape[0] > 0
    for i in range(m):
        r = rows[start + i]
        w = sw[r]
        if has_offset:
            for k in range(n_out):
                eta[i * n_out + k] += offset[r, k]
        if output[0] == C.SOFTMAX:
            row = eta[i * n_out : (i + 1) * n_out]
            lse = log_sum_exp_row(row)
            c = int(y[r])
            total += w * (lse - np.float64(row[c]))
            for k in range(n_out):
                delta[i * n_out + k] = scale * w * math.exp(row[k] - lse)
            delta[i * n_out + c] -= scale * w
        else:
            loss, d, _ = half_deviance_derivatives(
                output[0], opower[0], output[1], opower[1], output[2], y[r], np.float64(eta[i])
            )
            total += w * loss
            delta[i] = scale * w * d
    return total


@loop_kernel
def backward(theta, layout, act_start, xb, m, acts, dacts, delta, g1, g2, grad_out):
    """Back-propagate ``delta`` (``m x n_out``); write the batch gradient to ``grad_out``.

    ``grad_out`` receives ``A_prev^T G`` for every weight matrix and the column
    sums of ``G`` for every intercept vector: the data term's gradient (the
    penalty's is added by ``optimizer_step``, or by the full-batch solver).
    ``g1``/``g2`` are scratch buffers for the hidden deltas.
    """
    n_layers = layout.shape[0]
    n_last = layout[n_layers - 1, N_OUT]
    G = delta[: m * n_last].reshape((m, n_last))
    for layer in range(n_layers - 1, -1, -1):
        n_in, n_out = layout[layer, N_IN], layout[layer, N_OUT]
        ws, bs, s = layout[layer, W_START], layout[layer, B_START], 0
        if layer == 0:
            inp = xb[: m * n_in].reshape((m, n_in))
        else:
            s = act_start[layer - 1]
            inp = acts[s : s + m * n_in].reshape((m, n_in))
        W = theta[ws : ws + n_in * n_out].reshape((n_in, n_out))
        gW = grad_out[ws : ws + n_in * n_out].reshape((n_in, n_out))
        np.dot(inp.T, G, gW)
        # column sums in a fresh array (LLVM then knows it aliases nothing and
        # vectorises the loop: 2x faster than summing into grad_out directly)
        gb = np.zeros(n_out, G.dtype)
        for i in range(m):
            for j in range(n_out):
                gb[j] += G[i, j]
        grad_out[bs : bs + n_out] = gb
        if layer > 0:
            scratch = g1 if layer % 2 == 1 else g2
            Gp = scratch[: m * n_in].reshape((m, n_in))
            np.dot(G, W.T, Gp)
            d = dacts[s : s + m * n_in].reshape((m, n_in))
            for i in range(m):
                for j in range(n_in):
                    Gp[i, j] *= d[i, j]
            G = Gp


@loop_kernel
def optimizer_step(theta, grad, decay, hyper, state):
    """One Adam or SGD (momentum / Nesterov) update of ``theta`` in place.

    ``grad`` is the data term's gradient; the L2 penalty's, ``decay * theta``
    (``decay``: every parameter's L2 strength in the compute dtype, zeros for
    none), is added on the way through the parameters rather than in a pass
    of its own.  No branch on whether there is a penalty: a condition in
    these loops stopped LLVM vectorising them (measured in the epoch, float32,
    batch 32: 30 us a batch with it, 21 us without).
    ``state[0]``/``state[1]`` hold Adam's first and second moments (SGD: the
    velocity in ``state[0]``); ``state[2, 0]`` counts Adam's steps.
    """
    lr = hyper[LEARNING_RATE]
    # the coefficients in the compute dtype, so that the loops below stay in it
    # (float32 arithmetic vectorises twice as wide)
    c = np.empty(6, theta.dtype)
    if hyper[KIND] == ADAM:
        b1, b2 = hyper[BETA_1], hyper[BETA_2]
        state[2, 0] += 1.0
        t = np.float64(state[2, 0])  # the step count, exact in float32 up to 2^24 steps
        # bias corrections folded into the step size, as in Kingma & Ba (2015), Alg. 1
        c[0], c[1], c[2], c[3] = b1, 1.0 - b1, b2, 1.0 - b2
        c[4] = lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)
        c[5] = hyper[EPSILON]
        for k in range(theta.shape[0]):
            g = grad[k] + decay[k] * theta[k]
            mk = c[0] * state[0, k] + c[1] * g
            vk = c[2] * state[1, k] + c[3] * g * g
            state[0, k] = mk
            state[1, k] = vk
            theta[k] -= c[4] * mk / (np.sqrt(vk) + c[5])
    else:
        c[0], c[1] = hyper[MOMENTUM], lr
        nesterov = hyper[NESTEROV] != 0.0
        for k in range(theta.shape[0]):
            g = grad[k] + decay[k] * theta[k]
            v = c[0] * state[0, k] - c[1] * g
            state[0, k] = v
            if nesterov:
                theta[k] += c[0] * v - c[1] * g
            else:
                theta[k] += v


@parallel_kernel
def train_epoch_chunked(
    X, transposed, indptr, indices, data, sparse,
    y, sw, offset, rows, batch_size, shift, inv_scale,
    theta, layout, act, output, opower, decay, hyper, state, buffers,
):  # fmt: skip
    """``train_epoch`` with each batch's passes split into row chunks on the cores (a
    parallel loop; chunk c has its own buffers, row c of each of ``buffers`` from
    ``GLMStack.buffers(..., n_chunks)``, and writes its gradient to ``buffers[8][c]``),
    their losses and gradients summed in chunk order, so the result depends on the
    number of chunks, never on the threads' timing.

    A kernel of its own, so that only fits that split their batches compile the
    parallel code.  The passes are written out in the parallel loop's body rather
    than called through a kernel per chunk, and the loop sits in the epoch loop
    rather than in a kernel per batch: numba optimises a caller again with all
    its callees linked in, so each such level above the passes cost their whole
    optimisation once more (measured, empty cache: a first fit 22 s -> 15 s).
    """
    n_rows = rows.shape[0]
    xb, acts, dacts, act_start, eta, delta, g1, g2, parts = buffers
    n_chunks = parts.shape[0]
    p = layout[0, N_IN]
    n_out = layout[layout.shape[0] - 1, N_OUT]
    losses = np.zeros(n_chunks)
    grad = np.empty_like(theta)
    total = 0.0
    for start in range(0, n_rows, batch_size):
        m = min(batch_size, n_rows - start)
        for c in prange(n_chunks):  # chunk c: rows start + c m / n_chunks onwards
            lo = c * m // n_chunks
            mc = (c + 1) * m // n_chunks - lo
            gather_rows(X, transposed, indptr, indices, data, sparse, rows, start + lo, mc, p,
                        shift, inv_scale, xb[c])  # fmt: skip
            forward(theta, layout, act, xb[c], mc, acts[c], dacts[c], act_start,
                    layout[0, 0] < 0, eta[c])  # a runtime False: see ``forward``
            losses[c] = output_loss_delta(output, opower, y, sw, offset, rows, start + lo, mc,
                                          n_out, 1.0 / m, eta[c], delta[c])  # fmt: skip
            backward(theta, layout, act_start, xb[c], mc, acts[c], dacts[c], delta[c], g1[c],
                     g2[c], parts[c])  # fmt: skip
        loss = 0.0
        for c in range(n_chunks):
            loss += losses[c]
        if not math.isfinite(loss):
            return math.nan
        total += loss
        for t in range(theta.shape[0]):  # loops, not array expressions: less to compile
            acc = parts[0, t]
            for c in range(1, n_chunks):
                acc += parts[c, t]
            grad[t] = acc
        optimizer_step(theta, grad, decay, hyper, state)
    return total


@loop_kernel
def train_epoch(
    X, transposed, indptr, indices, data, sparse,
    y, sw, offset, rows, batch_size, shift, inv_scale,
    theta, layout, act, output, opower, decay, hyper, state, buffers,
):  # fmt: skip
    """One pass of mini-batch Adam or SGD over ``rows`` (already shuffled), in the work
    ``buffers`` of ``GLMStack.buffers(batch_size, ...)``.

    Each batch minimises ``mean_b(w_i loss_i) + sum(decay W^2) / 2`` (weights
    normalised to mean 1 over the training set, so the batch objective is an
    unbiased estimate of the full one).  Returns the sum of ``w_i loss_i`` over
    the epoch, each term at the parameters of its batch, or ``nan`` as soon as
    a batch's loss is not finite (the caller reports divergence).
    """
    n_rows, p = rows.shape[0], layout[0, N_IN]
    n_out = layout[layout.shape[0] - 1, N_OUT]
    xb, acts, dacts, act_start, eta, delta, g1, g2 = buffers
    grad = np.empty_like(theta)
    total = 0.0
    for start in range(0, n_rows, batch_size):
        m = min(batch_size, n_rows - start)
        gather_rows(X, transposed, indptr, indices, data, sparse, rows, start, m, p, shift,
                    inv_scale, xb)  # fmt: skip
        forward(theta, layout, act, xb, m, acts, dacts, act_start, layout[0, 0] < 0, eta)
        loss = output_loss_delta(
            output, opower, y, sw, offset, rows, start, m, n_out, 1.0 / m, eta, delta
        )
        if not math.isfinite(loss):
            return math.nan
        total += loss
        backward(theta, layout, act_start, xb, m, acts, dacts, delta, g1, g2, grad)
        optimizer_step(theta, grad, decay, hyper, state)
    return total


@loop_kernel
def loss_gradient(
    X, transposed, indptr, indices, data, sparse,
    y, sw, offset, rows, chunk, shift, inv_scale,
    theta, layout, act, output, opower, scale, grad_out, buffers,
):  # fmt: skip
    """``scale * sum_i w_i loss_i`` over ``rows`` and its gradient (no penalty).

    Processes ``chunk`` rows at a time in ``buffers`` (``GLMStack.buffers(chunk,
    ...)``), so the work buffers stay small for any number of samples; the
    full-batch solver (L-BFGS) adds the penalty.
    """
    n_rows, p = rows.shape[0], layout[0, N_IN]
    n_out = layout[layout.shape[0] - 1, N_OUT]
    xb, acts, dacts, act_start, eta, delta, g1, g2 = buffers
    part = np.empty_like(theta)
    grad_out[:] = 0.0
    total = 0.0
    for start in range(0, n_rows, chunk):
        m = min(chunk, n_rows - start)
        gather_rows(X, transposed, indptr, indices, data, sparse, rows, start, m, p, shift,
                    inv_scale, xb)  # fmt: skip
        forward(theta, layout, act, xb, m, acts, dacts, act_start, layout[0, 0] < 0, eta)
        total += output_loss_delta(
            output, opower, y, sw, offset, rows, start, m, n_out, scale, eta, delta
        )
        backward(theta, layout, act_start, xb, m, acts, dacts, delta, g1, g2, part)
        grad_out += part
    return scale * total


@loop_kernel
def propagate(
    X, transposed, indptr, indices, data, sparse, rows, chunk, shift, inv_scale,
    theta, layout, act, n_apply, out, buffers,
):  # fmt: skip
    """Run ``rows`` through the first ``n_apply`` weight layers into ``out``, ``chunk``
    rows at a time in ``buffers`` (``GLMStack.buffers(chunk, ..., n_apply=n_apply)``).

    ``n_apply = n_layers`` gives the output layer's ``eta`` (no offset);
    fewer give the activations of hidden layer ``n_apply - 1``: the learned
    features that feed the output GLM.
    """
    n_rows, p = rows.shape[0], layout[0, N_IN]
    sub = layout[:n_apply].copy()
    xb, acts, dacts, act_start, eta, delta, g1, g2 = buffers
    width = sub[n_apply - 1, N_OUT]
    activate_last = n_apply < layout.shape[0]
    for start in range(0, n_rows, chunk):
        m = min(chunk, n_rows - start)
        gather_rows(X, transposed, indptr, indices, data, sparse, rows, start, m, p, shift,
                    inv_scale, xb)  # fmt: skip
        res = forward(theta, sub, act, xb, m, acts, dacts, act_start, activate_last, eta)
        for i in range(m):
            for j in range(width):
                out[start + i, j] = res[i, j]
