"""A stack of GLM layers: its shape, its packed parameters, its passes over X.

A hidden unit computes ``f(a_prev @ w + b)`` -- a GLM with mean function
(inverse link) ``f`` on the previous layer's outputs -- and the output layer is
a GLM of any family and link on the last hidden layer's outputs (or a softmax
over K units for multiclass problems).  ``GLMStack`` holds the shape and the
activations; the parameters live in one flat float64 vector ``theta`` (see
``_kernels/network.py`` for its layout) so that the optimisers and scipy's
L-BFGS see a single vector, and ``coefs``/``intercepts`` give scikit-learn's
per-layer view of it without copying.
"""

import numpy as np
import scipy.sparse as sp

from ._kernels import codes as C
from ._kernels import network as K
from ._kernels._jit import compiled
from ._threads import split_rows

# Rows per chunk in full passes (L-BFGS, prediction): the work buffers stay at a
# few MB whatever n_samples is, while each chunk is big enough for BLAS.
CHUNK_ROWS = 1024


class GLMStack:
    """The architecture of a network of GLM layers.

    Parameters
    ----------
    n_features : int
        Width of the input.
    hidden : tuple of int
        Widths of the hidden layers (may be empty: the network is then a GLM).
    activations : list of Activation
        One per hidden layer.
    n_outputs : int
        1 for a GLM output unit, K for a softmax over K classes.
    family, link : Family, Link or None
        The output GLM (``None`` for a softmax output).
    """

    def __init__(self, n_features, hidden, activations, n_outputs, family, link):
        self.n_features = n_features
        self.hidden = tuple(int(h) for h in hidden)
        self.activations = list(activations)
        self.n_outputs = n_outputs
        self.family, self.link = family, link
        widths = (n_features, *self.hidden, n_outputs)
        rows, start = [], 0
        for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
            rows.append((n_in, n_out, start, start + n_in * n_out))
            start += n_in * n_out + n_out
        self.layout = np.array(rows, dtype=np.int64).reshape(-1, 4)
        self.n_params = start
        codes = [C.RELU if a.link is None else a.as_link().code for a in self.activations]
        self.act = np.array(codes or [0], dtype=np.int64)
        if family is None:
            self.output = np.array([C.SOFTMAX, 0, C.NO_PAIR], dtype=np.int64)
            self.opower = np.zeros(2)
        else:
            self.output = np.array([family.code, link.code, family.fused_pair(link)], np.int64)
            self.opower = np.array([float(family.power), float(link.power)])

    @property
    def n_layers(self):
        """Number of weight layers (hidden layers + the output layer)."""
        return self.layout.shape[0]

    def coefs(self, theta):
        """Per-layer weight matrices, views of ``theta`` of shape (n_in, n_out)."""
        return [
            theta[ws : ws + n_in * n_out].reshape(n_in, n_out) for n_in, n_out, ws, _ in self.layout
        ]

    def intercepts(self, theta):
        """Per-layer intercept vectors, views of ``theta`` of shape (n_out,)."""
        return [theta[bs : bs + n_out] for _, n_out, _, bs in self.layout]

    def pack(self, coefs, intercepts):
        """The flat ``theta`` holding ``coefs`` and ``intercepts``, in their dtype."""
        theta = np.empty(self.n_params, dtype=np.result_type(*coefs, *intercepts))
        for W, b, dst_W, dst_b in zip(
            coefs, intercepts, self.coefs(theta), self.intercepts(theta), strict=True
        ):
            dst_W[...] = W
            dst_b[...] = b
        return theta

    def buffers(self, rows, dtype, n_chunks=0, n_apply=None):
        """Work buffers of the network kernels for ``rows`` rows at a time.

        ``(xb, acts, dacts, act_start, eta, delta, g1, g2)``: the gathered
        inputs, every hidden layer's activations and their derivatives (layer
        ``l`` from ``act_start[l]``), the output's ``eta`` and ``delta``, and
        two scratch gradients of the widest layer, all flat, of ``dtype`` (the
        compute dtype).  With ``n_chunks``, each but ``act_start`` has a
        leading chunk axis, and a ninth, ``(n_chunks, n_params)``, receives the
        chunks' gradients (``train_epoch_chunked``).  ``n_apply`` sizes them for
        the first ``n_apply`` weight layers only (``propagate``).
        """
        layout = self.layout[: self.n_layers if n_apply is None else n_apply]
        widths = layout[:, K.N_OUT]
        act_start = np.zeros(max(len(layout) - 1, 1), dtype=np.int64)
        act_start[: len(layout) - 1] = np.cumsum(rows * widths[:-1]) - rows * widths[:-1]
        sizes = [
            rows * layout[0, K.N_IN],
            max(rows * int(widths[:-1].sum()), 1),
            max(rows * int(widths[:-1].sum()), 1),
            rows * widths[-1],
            rows * widths[-1],
            rows * max(int(widths.max()), int(layout[0, K.N_IN])),
            rows * max(int(widths.max()), int(layout[0, K.N_IN])),
        ]
        shape = (lambda size: (n_chunks, size)) if n_chunks else (lambda size: size)
        made = [np.empty(shape(size), dtype) for size in sizes]
        made.insert(3, act_start)
        if n_chunks:
            made.append(np.empty((n_chunks, self.n_params), dtype))
        return tuple(made)

    def weight_mask(self):
        """Boolean mask of the entries of ``theta`` that are weights (penalised)."""
        mask = np.zeros(self.n_params, dtype=bool)
        for n_in, n_out, ws, _ in self.layout:
            mask[ws : ws + n_in * n_out] = True
        return mask

    def initial_theta(self, rng, output_intercept):
        """Random weights scaled to each layer's activation; output intercept given.

        Glorot's uniform bound ``sqrt(6 / (fan_in + fan_out))``, divided by
        ``sqrt(3)`` for the logistic activation (as scikit-learn's MLP does).
        He's ``sqrt(6 / fan_in)`` for relu layers trained slower on the
        benchmark problem (final loss after three epochs of Adam 2.5x higher at
        batch 256), so relu uses Glorot's too.
        The output layer's intercept starts at ``output_intercept`` (the null
        model's ``g(mean y)``), so the first predictions are sensible for any
        family and link.
        """
        theta = np.zeros(self.n_params)
        for layer, (W, b) in enumerate(zip(self.coefs(theta), self.intercepts(theta), strict=True)):
            n_in, n_out = W.shape
            bound = np.sqrt(6.0 / (n_in + n_out))
            if layer < len(self.activations) and self.activations[layer].name == "logistic":
                bound *= np.sqrt(1.0 / 3.0)
            W[...] = rng.uniform(-bound, bound, size=W.shape)
            if layer < len(self.activations):
                b[...] = rng.uniform(-bound, bound, size=b.shape)
            else:
                b[...] = output_intercept
        return theta


def row_source(X):
    """The arguments by which the kernels read rows of ``X``, without copying it.

    Returns ``(X2d, transposed, indptr, indices, data, sparse)``: a
    C-contiguous 2-D array (``X`` itself, or ``X.T`` for a Fortran-ordered
    ``X``), or the arrays of a CSR matrix with a placeholder 2-D array of the
    same dtype.
    """
    if sp.issparse(X):
        X = X.tocsr()
        empty = np.empty((0, 0), dtype=X.dtype)
        return empty, False, X.indptr, X.indices.astype(X.indptr.dtype, copy=False), X.data, True
    no_index = np.empty(0, dtype=np.int32)  # scipy's usual index type: one compiled variant
    no_data = np.empty(0, dtype=X.dtype)
    if not X.flags.c_contiguous and X.flags.f_contiguous:
        return X.T, True, no_index, no_index, no_data, False
    return np.ascontiguousarray(X), False, no_index, no_index, no_data, False


def propagate(stack, theta, source, n_samples, n_apply):
    """Outputs of the first ``n_apply`` weight layers for all rows of the source.

    ``n_apply = stack.n_layers`` gives the output ``eta`` (n_samples, n_outputs)
    without offset; ``n_apply = stack.n_layers - 1`` gives the last hidden
    layer's activations, the learned features.
    """
    width = stack.layout[n_apply - 1, K.N_OUT]
    out = np.empty((n_samples, width), dtype=theta.dtype)  # the compute dtype
    raw = np.empty(0)  # the parameters are in X's units: no standardisation
    propagate_rows(stack, theta, source, np.arange(n_samples, dtype=np.int64), n_apply, raw,
                   raw, out)  # fmt: skip
    return out


def propagate_rows(stack, theta, source, rows, n_apply, shift, inv_scale, out):
    """``propagate`` for the rows ``rows`` of the source into ``out`` (one row of ``out``
    per entry of ``rows``), reading ``(x - shift) * inv_scale`` (length 0: raw ``x``).

    The rows are split among Python threads (``_threads.split_rows``; the
    kernel releases the GIL), each with work buffers of its own: predictions,
    ``transform``, the fit's closing statistics and early-stopping scores use
    both cores.  Every row is computed the same way on any number of threads.
    """
    kernel = compiled(K.propagate)

    def run(a, b):
        kernel(*source, rows[a:b], CHUNK_ROWS, shift, inv_scale, theta, stack.layout,
               stack.act, n_apply, out[a:b],
               stack.buffers(CHUNK_ROWS, theta.dtype, n_apply=n_apply))  # fmt: skip

    split_rows(run, rows.shape[0], rows.shape[0] * stack.n_params)
