"""GLMLoss: the loss of a (family, link) pair, its gradient and Hessian in coef.

Conventions, stated once:

* ``eta = X @ coef + intercept + offset`` (the linear predictor),
  ``mu = h(eta)`` (the mean), ``delta = d loss / d eta`` per sample.
* The loss summed over samples is ``sum_i w_i d(y_i, mu_i) / 2``; estimators
  divide it by ``sum_i w_i`` and add the penalty (``_solvers._problem``).
* Gradients have shape (n_features + 1,) with the intercept *last*:
  ``[X^T (w delta), sum(w delta)]``.  The Hessian is Fisher's expected one,
  ``[X 1]^T diag(w h'^2 / V) [X 1]``, which is positive semi-definite for every
  pair and equals the observed Hessian for canonical links.

Composition, not a class per pair: ``GLMLoss`` holds a family and a link and
passes their integer codes to the kernels, plus the code of a fused branch
when the pair has one.  Dense C-ordered ``X`` takes the one-sweep kernel
``dense_loss_gradient``; any other ``X`` (sparse, Fortran-ordered) takes
``X @ coef`` and ``X.T @ g`` in BLAS or scipy.sparse around a pointwise loop.
"""

from functools import partial

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas

from ._kernels import codes as C
from ._kernels._jit import is_compiled, ready, run, thread_count
from ._kernels.multinomial import dense_multinomial_loss_gradient, multinomial_loss_gradient
from ._kernels.pointwise import (
    NARROW_COLUMNS,
    csr_loss_gradient,
    dense_loss_gradient,
    fill_y_terms,
    narrow_loss_gradient,
    pointwise_loss,
    pointwise_loss_gradient_hessian,
)
from ._kernels.scaling import centred_products, parallel_small_gram, small_gram
from ._threads import parallel_row_blocks, scratch, split_rows

# X^T W X runs over blocks of rows of about this many bytes: the scaled copy of a
# block stays small (no copy of X), while each block is big enough for BLAS to
# run at full speed and for Python's per-block overhead to vanish.
_HESSIAN_BLOCK_BYTES = 2**20
_FEW_COLUMNS = 8  # up to this many columns a block is gathered transposed (``_weighted_gram``)
_SMALL_GRAM = 16  # up to this many columns of all of X, one compiled pass (``small_gram``)
# with ``narrow``, up to this many columns (all of X's, or chosen ones) one compiled
# pass on numba's threads (``parallel_small_gram``)
_NARROW_GRAM = 32
# up to this many columns of D, (X - c)^T D in one compiled pass (``centred_rmatmat``)
_PRODUCTS_COLUMNS = 32
ROW_WORK = 8  # a row's pointwise formulas cost about as much as 8 elements of X
# the pairs whose sweeps can read their transcendentals of y from ``GLMLoss.y_terms``
_Y_TERM_PAIRS = (C.POISSON_LOG, C.GAMMA_LOG, C.TWEEDIE_LOG)


class GLMLoss:
    """Loss, gradient and Fisher Hessian of a GLM for one (family, link) pair.

    Parameters
    ----------
    family : Family
    link : Link
    """

    def __init__(self, family, link):
        self.family = family
        self.link = link
        self.pair = family.fused_pair(link)
        # normal family, identity link: Fisher weights 1, so the Hessian is X^T W X always
        self.constant_fisher = self.pair == C.NORMAL_IDENTITY
        self.has_y_terms = self.pair in _Y_TERM_PAIRS

    @property
    def codes(self):
        """``(family, family power, link, link power, pair)`` as the kernels take them."""
        f, k = self.family, self.link
        return f.code, float(f.power), k.code, float(k.power), self.pair

    def y_terms(self, y):
        """What each sample's loss computes from y alone (``log y``; Tweedie's
        ``y^(2-p)`` term), or None for the pairs that have no such shortcut.

        Passed back to ``loss_gradient`` and ``pointwise`` (``y_terms=``), they are
        read instead of computed: the solvers evaluate the loss many times on the
        same y, and a Poisson sample then costs one exponential instead of an
        exponential and a logarithm (3x faster sweeps over a few columns,
        measured here), with the same arithmetic otherwise -- the same digits.
        """
        if not self.has_y_terms:
            return None
        y = np.ascontiguousarray(y, dtype=np.float64)
        out = np.empty(y.size)
        run(ROW_WORK * y.size, fill_y_terms, self.pair, float(self.family.power), y, out)
        return out

    @staticmethod
    def sweeps(X):
        """Whether ``loss_gradient`` takes a one-sweep numba kernel (dense C order, or CSR)."""
        return (isinstance(X, np.ndarray) and X.flags.c_contiguous) or (
            sp.issparse(X) and X.format == "csr"
        )

    def sweeps_columns(self, n_columns):
        """Whether ``loss_gradient(narrow=True)`` sweeps ``n_columns`` columns of dense X
        stored column by column (Fortran order) with ``narrow_loss_gradient``: the
        pairs with ``y_terms``, up to ``NARROW_COLUMNS`` columns.  A copy of a few
        columns that is swept many times (``cd._ColumnCopy``) is then made in that
        order."""
        return self.has_y_terms and n_columns <= NARROW_COLUMNS

    def linear_predictor(self, X, coef, intercept, offset=None):
        """``eta = X @ coef + intercept (+ offset)`` in X's dtype, without copying X."""
        eta = X @ coef.astype(X.dtype, copy=False)
        eta = np.asarray(eta).ravel() + X.dtype.type(intercept)
        if offset is not None:
            eta += offset
        return eta

    def loss(self, y, eta, sample_weight=None):
        """``sum_i w_i d(y_i, h(eta_i)) / 2`` (float64), on all cores."""
        y = np.ascontiguousarray(y, dtype=np.float64)
        eta = np.ascontiguousarray(eta, dtype=np.float64)
        w = np.empty(0) if sample_weight is None else np.asarray(sample_weight, np.float64)
        codes = self.codes

        def part(a, b):
            weights = w[a:b] if w.size else w
            return run(ROW_WORK * (b - a), pointwise_loss, *codes, y[a:b], eta[a:b], weights)

        return float(sum(split_rows(part, y.size, ROW_WORK * y.size)))

    def pointwise(self, y, eta, sample_weight=None, hessian=False, y_terms=None):
        """Per-sample ``w * delta`` (and ``w * fisher``) and the summed loss (``y_terms``:
        from :meth:`y_terms`, a shortcut for the loss).

        Returns
        -------
        loss : float
        grad : ndarray of shape (n_samples,)
        hess : ndarray of shape (n_samples,) or None
        """
        grad = np.empty_like(eta)
        hess = np.empty_like(eta) if hessian else np.empty(0, dtype=eta.dtype)
        loss = run(
            ROW_WORK * y.size, pointwise_loss_gradient_hessian,
            *self.codes, y, eta, _or_empty(sample_weight, y.dtype), grad, hess,
            y_terms,
        )  # fmt: skip
        return loss, grad, (hess if hessian else None)

    def loss_gradient(self, X, y, coef, intercept, sample_weight=None, offset=None, hessian=False,
                      shift=None, y_terms=None, sample_gradient=None, narrow=False):  # fmt: skip
        """Summed loss and its gradient in ``[coef, intercept]``.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
        coef : ndarray of shape (n_features,), float64
        intercept : float
        sample_weight, offset : ndarray of shape (n_samples,) or None
        hessian : bool, default=False
            Also return the per-sample Fisher weights ``w * h'^2 / V``.
        shift : ndarray of shape (n_features,), default=None
            Column centres ``c`` (dense X only): ``eta = (X - c) @ coef + intercept``
            and the gradient is taken on the centred columns.
        y_terms : ndarray of shape (n_samples,), default=None
            :meth:`y_terms` of ``y``: the loss's terms in y alone are read from it.
        sample_gradient : ndarray of shape (n_samples,), default=None
            Filled with the per-sample gradient ``w * delta`` (dense C-ordered X).
        narrow : bool, default=False
            Sweep Fortran-ordered dense X by ``narrow_loss_gradient`` where
            ``sweeps_columns`` says it applies (a path's copies of the columns in
            play, swept a hundred times): faster, but a parallel loop of its own
            to compile, which a first fit need not pay.

        Returns
        -------
        loss : float
            ``sum_i w_i d(y_i, mu_i) / 2``.
        grad : ndarray of shape (n_features + 1,), float64
            Intercept last.
        hess_weights : ndarray of shape (n_samples,) or None
        """
        if sp.issparse(X) and shift is not None:
            raise ValueError("sparse columns are not centred")
        if sp.issparse(X) and X.format == "csr":
            grad = np.empty(X.shape[1] + 1)
            hess = np.empty(X.shape[0] if hessian else 0, dtype=X.dtype)
            ready(X.nnz + ROW_WORK * X.shape[0])  # compiled or not: the chunk count depends on it
            loss = run(
                0, csr_loss_gradient, X.indptr, X.indices, X.data, X.shape[1],
                y, _or_empty(sample_weight, y.dtype), _or_empty(offset, y.dtype),
                np.ascontiguousarray(coef, dtype=np.float64), float(intercept),
                *self.codes, 4 * thread_count(), grad, hess, y_terms,
            )  # fmt: skip
            return loss, grad, (hess if hessian else None)
        dense = isinstance(X, np.ndarray)
        by_columns = (narrow and dense and X.flags.f_contiguous and y_terms is not None
                      and self.sweeps_columns(X.shape[1]))  # fmt: skip
        if sample_gradient is not None and not (by_columns or dense and X.flags.c_contiguous):
            raise ValueError("sample_gradient is filled for dense C-ordered X only, or a "
                             "column-ordered one with narrow=True")  # fmt: skip
        if by_columns or dense and X.flags.c_contiguous:
            grad = np.empty(X.shape[1] + 1)
            hess = np.empty(X.shape[0] if hessian else 0, dtype=X.dtype)
            common = (y, _or_empty(sample_weight, y.dtype), _or_empty(offset, y.dtype),
                      np.ascontiguousarray(coef, dtype=np.float64), float(intercept),
                      _or_empty(shift, np.float64))  # fmt: skip
            outputs = (grad, hess, _or_empty(sample_gradient, np.float64), y_terms)
            work = X.size + ROW_WORK * X.shape[0]
            if by_columns:  # X.T: C-ordered, one row per column (a single column too)
                family_power, pair = self.codes[1], self.codes[4]
                loss = run(work, narrow_loss_gradient, X.T, *common, pair, family_power,
                           *outputs)  # fmt: skip
            else:
                loss = run(work, dense_loss_gradient, X, *common, *self.codes, *outputs)
            return loss, grad, (hess if hessian else None)
        centre = 0.0 if shift is None else float(coef @ shift)
        eta = self.linear_predictor(X, coef, intercept - centre, offset)
        loss, g, hess = self.pointwise(y, eta, sample_weight, hessian, y_terms)
        grad = np.empty(X.shape[1] + 1)
        grad[-1] = g.sum(dtype=np.float64)
        grad[:-1] = np.asarray(X.T @ g).ravel()
        if shift is not None:
            grad[:-1] -= shift * grad[-1]
        return loss, grad, hess

    def hessian(self, X, hess_weights):
        """Fisher information ``[X 1]^T diag(hess_weights) [X 1]``; see ``weighted_gram``."""
        return weighted_gram(X, hess_weights)


def weighted_gram(X, weights, shift=None, columns=None, narrow=False):
    """``[X - c, 1]^T diag(weights) [X - c, 1]`` as a float64 (p + 1, p + 1) matrix, intercept last.

    ``columns`` (dense X only) restricts it to those columns of X: (len + 1) square.

    ``c = shift`` centres dense columns (the solvers' change of variables,
    ``_solvers/_scaling.py``): a calendar-year column then costs no digits to
    cancellation.  Dense X is processed in blocks of rows with a symmetric
    rank-k update (BLAS ``syrk``) on ``sqrt(weights) * (X_block - c)``, so that
    no copy of X is made; the rows are split among numba's number of threads,
    each running single-threaded BLAS (see ``_threads``); up to ``_SMALL_GRAM``
    whole columns each thread runs one compiled pass instead (``small_gram``).
    With ``narrow`` (a path's copies of the columns in play, a working set of
    a large fit), up to ``_NARROW_GRAM`` columns one compiled pass on numba's
    own threads does it (``parallel_small_gram``): between numba sweeps, Python
    threads competed with numba's, still spinning, for the cores (measured on
    100k rows right after a sweep: 9 columns 1.3 ms against 2.9 ms, 25 chosen
    columns of 100 about 5 ms against 12); it is a parallel loop of its own to
    compile, which a first fit need not pay.  Sparse X (never
    centred) uses ``X^T (W X)``, which copies only its non-zeros.
    """
    n, p = X.shape
    if columns is not None:
        p = len(columns)
    H = np.zeros((p + 1, p + 1))
    if sp.issparse(X):
        if shift is not None or columns is not None:
            raise ValueError("sparse columns are not centred or selected")
        weighted = sp.csr_array(X).multiply(weights[:, None])
        H[:p, :p] = (X.T @ weighted).toarray()
        H[:p, p] = np.asarray(weighted.sum(axis=0)).ravel()
    else:
        shift = np.zeros(p) if shift is None else (shift if columns is None else shift[columns])
        if narrow and p <= _NARROW_GRAM and is_compiled():  # never compiles for it
            upper, colsum = np.empty((p, p)), np.empty(p)
            chosen = np.arange(p) if columns is None else np.asarray(columns, dtype=np.int64)
            transposed = not X.flags.c_contiguous and X.flags.f_contiguous  # a path's copy
            run(0, parallel_small_gram, X.T if transposed else X, chosen,
                np.asarray(weights, dtype=np.float64),
                np.ascontiguousarray(np.broadcast_to(shift, (p,)), dtype=np.float64),
                4 * thread_count(), transposed, upper, colsum)  # fmt: skip
            H[:p, p] = colsum
        else:
            upper, H[:p, p] = parallel_row_blocks(
                partial(_weighted_gram, shift=shift, columns=columns), X, weights)  # fmt: skip
        H[:p, :p] = np.triu(upper) + np.triu(upper, 1).T
    H[p, :p] = H[:p, p]
    H[p, p] = weights.sum(dtype=np.float64)
    return H


def _weighted_gram(X, weights, shift, columns=None):
    """``(upper triangle of Xc^T W Xc, Xc^T w)`` in float64 for dense X, block by block.

    Each block of rows is gathered (the chosen columns) into this thread's scratch
    array (``_threads.scratch``), centred and scaled by ``sqrt(w)`` in float64 (a
    float32 year would lose digits); BLAS ``syrk`` then adds its Gram matrix.  Up
    to ``_FEW_COLUMNS`` columns the block is stored transposed, a contiguous row
    per column, so that NumPy's loops run along the samples rather than along
    rows of a few numbers (4x faster for three columns).
    """
    n, p = X.shape[0], (X.shape[1] if columns is None else len(columns))
    upper = np.zeros((p, p))
    colsum = np.zeros(p)
    if columns is None and p <= _SMALL_GRAM and is_compiled():  # never compiles for it
        shift = np.broadcast_to(np.asarray(shift, dtype=np.float64), (p,))
        run(0, small_gram, X, np.arange(p), np.asarray(weights, dtype=np.float64),
            np.ascontiguousarray(shift), upper, colsum)  # fmt: skip
        return upper, colsum
    centred = np.any(shift != 0)
    few = p <= _FEW_COLUMNS
    # blocks of about _HESSIAN_BLOCK_BYTES of what BLAS works on (the chosen columns)
    rows = max(1, min(n, max(256, _HESSIAN_BLOCK_BYTES // (8 * max(p, 1)))))
    space = scratch("gram", rows * (p + 1))
    for start in range(0, n, rows):
        m = min(rows, n - start)
        w = weights[start : start + m]
        root = space[rows * p : rows * p + m]
        np.maximum(w, 0, out=root)
        np.sqrt(root, out=root)
        source = X[start : start + m]
        if few:
            block = space[: p * m].reshape(p, m)
            for k, j in enumerate(range(p) if columns is None else columns):
                # in float64 (a float32 column minus a float64 scalar is float32 in
                # NumPy 1.x)
                np.subtract(source[:, j], shift[k] if centred else 0.0, out=block[k],
                            dtype=np.float64)
            colsum += block @ w
            block *= root
            block = block.T  # (m, p), Fortran-ordered
        else:
            block = space[: m * p].reshape(m, p)
            if columns is None:
                block[...] = source
            else:
                block[...] = np.take(source, columns, axis=1)
            if centred:
                block -= shift
            colsum += w @ block
            block *= root[:, None]
        # a Fortran-ordered block: BLAS reads it in place (trans=1 on a C-ordered
        # one made the wrapper copy it first, 2-3x slower)
        upper += (blas.dsyrk(1.0, block, trans=1) if few
                  else blas.dsyrk(1.0, block.T, trans=0))  # fmt: skip
    return upper, colsum


CENTRED_BLOCK_BYTES = 2**20  # rows of X centred at a time by the two functions below


def centred_matvec(X, coef, shift, intercept=0.0):
    """``(X - c) @ coef + intercept`` in float64 for dense X, without a copy of X.

    Row blocks of about 1 MB are centred into a buffer as they are read, so a
    column far from zero (a calendar year) costs no digits to cancellation; the
    rows are split among threads (``_threads.split_rows``).
    """
    n, p = X.shape
    out = np.empty(n)
    coef = np.asarray(coef, dtype=np.float64)
    shift = 0.0 if shift is None else shift

    def run_rows(a, b):
        rows = max(1, min(b - a, max(64, CENTRED_BLOCK_BYTES // (8 * max(p, 1)))))
        buffer = scratch("centred", rows * p).reshape(rows, p)
        for start in range(a, b, rows):
            stop = min(start + rows, b)
            block = buffer[: stop - start]
            np.subtract(X[start:stop], shift, out=block)
            np.matmul(block, coef, out=out[start:stop])

    split_rows(run_rows, n, n * p)
    out += intercept
    return out


def centred_rmatmat(X, D, shift):
    """``((X - c)^T D, column sums of D)`` in float64 for dense X and D of shape (n, k).

    One read of X for all k columns of D: the gradients of k points of a
    regularisation path from their per-sample derivatives, at the cost of one
    gradient.  Compiled, for C-ordered X and up to ``_PRODUCTS_COLUMNS`` columns of
    D, one compiled pass (``centred_products``, 1.1-2.3x faster here); else BLAS on
    centred row blocks of about 1 MB; either way the rows split among threads.
    """
    n, p = X.shape
    k = D.shape[1]
    if is_compiled() and X.flags.c_contiguous and k <= _PRODUCTS_COLUMNS:
        centre = np.zeros(p) if shift is None else np.asarray(shift, dtype=np.float64)
        D = np.ascontiguousarray(D, dtype=np.float64)

        def rows(a, b):
            out, sums = np.zeros((p, k)), np.zeros(k)
            run(0, centred_products, X[a:b], D[a:b], centre, out, sums)
            return out, sums

        parts = split_rows(rows, n, n * p)
        return sum(part[0] for part in parts), sum(part[1] for part in parts)
    shift = 0.0 if shift is None else shift

    def run_rows(a, b):
        rows = max(1, min(b - a, max(64, CENTRED_BLOCK_BYTES // (8 * max(p, 1)))))
        buffer = scratch("centred", rows * p).reshape(rows, p)
        total = np.zeros((p, k))
        for start in range(a, b, rows):
            stop = min(start + rows, b)
            block = buffer[: stop - start]
            np.subtract(X[start:stop], shift, out=block)
            total += block.T @ D[start:stop]
        return total, D[a:b].sum(axis=0)

    parts = split_rows(run_rows, n, n * p)
    return sum(part[0] for part in parts), sum(part[1] for part in parts)


def _or_empty(array, dtype):
    """The array itself, or a length-0 array that tells a kernel 'not given'."""
    return np.empty(0, dtype=dtype) if array is None else array


class MultinomialLoss:
    """Loss and gradient of multinomial (softmax) regression with K classes.

    ``eta = X @ coef.T + intercept`` has shape (n_samples, K) and
    ``mu = softmax(eta)``; the loss is ``sum_i w_i (logsumexp(eta_i) - eta_{i, y_i})``
    with ``y`` holding class indices 0..K-1.  The gradient has shape (K, p + 1),
    the intercept in the last column.
    """

    @staticmethod
    def sweeps(X):
        """Whether ``loss_gradient`` takes the one-sweep kernel (dense C-ordered X)."""
        return isinstance(X, np.ndarray) and X.flags.c_contiguous

    def linear_predictor(self, X, coef, intercept):
        """``eta = X @ coef.T + intercept``, shape (n_samples, K)."""
        eta = X @ np.asarray(coef, dtype=X.dtype).T
        return np.asarray(eta) + np.asarray(intercept, dtype=X.dtype)

    def probabilities(self, X, coef, intercept):
        """``softmax(eta)``, shape (n_samples, K)."""
        eta = self.linear_predictor(X, coef, intercept)
        eta -= eta.max(axis=1, keepdims=True)
        np.exp(eta, out=eta)
        eta /= eta.sum(axis=1, keepdims=True)
        return eta

    def loss_gradient(self, X, y, coef, intercept, sample_weight=None):
        """Summed loss and its gradient in ``[coef | intercept]``, shape (K, p + 1)."""
        K, p = coef.shape
        grad = np.empty((K, p + 1))
        w = _or_empty(sample_weight, y.dtype)
        if self.sweeps(X):
            loss = run(
                (X.shape[1] + ROW_WORK) * X.shape[0] * K, dense_multinomial_loss_gradient,
                X, y, w, np.ascontiguousarray(np.asarray(coef).T, dtype=X.dtype),
                np.ascontiguousarray(intercept, dtype=np.float64), grad,
            )  # fmt: skip
            return loss, grad
        eta = np.ascontiguousarray(self.linear_predictor(X, coef, intercept))
        g = np.empty_like(eta)
        loss = run(ROW_WORK * eta.size, multinomial_loss_gradient, y, eta, w, g)
        grad[:, :p] = np.asarray(X.T @ g).T
        grad[:, p] = g.sum(axis=0, dtype=np.float64)
        return loss, grad


def multinomial_gram(X, coef, intercept, weights, shift=None):
    """Fisher information of the multinomial loss in ``[coef | intercept]``, classes outer.

    .. math:: H = \\sum_i w_i\\, (\\mathrm{diag}(\\mu_i) - \\mu_i \\mu_i^T) \\otimes z_i z_i^T,
              \\qquad z_i = [x_i - c, 1],

    a (K (p + 1), K (p + 1)) matrix whose block (k, l) is
    ``Z^T diag(w (mu_k [k = l] - mu_k mu_l)) Z``: the softmax Hessian, which
    is also the observed one (canonical link).  Computed over blocks of rows:
    the diagonal blocks by one product per class, the rank-one part by one
    symmetric update on the rows ``sqrt(w_i) mu_i (x) z_i``.  ``intercept``
    is the linear predictor at ``x = c`` (the centred intercept).
    """
    n, p = X.shape
    shift = np.zeros(p) if shift is None else shift
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    func = partial(_multinomial_gram, coef=np.asarray(coef, np.float64),
                   intercept=np.asarray(intercept, np.float64), shift=shift)  # fmt: skip
    if sp.issparse(X):
        (H,) = func(X, w)
    else:
        (H,) = parallel_row_blocks(func, X, w)
    H = np.triu(H) + np.triu(H, 1).T
    return H


def _multinomial_gram(X, weights, coef, intercept, shift):
    n, p = X.shape
    K, q = coef.shape[0], p + 1
    H = np.zeros((K * q, K * q))
    rows = max(64, 2**19 // (K * q))
    for start in range(0, n, rows):
        block = X[start : start + rows]
        block = block.toarray() if sp.issparse(block) else np.asarray(block, dtype=np.float64)
        m = block.shape[0]
        z = np.empty((m, q))
        z[:, :p] = block - shift
        z[:, p] = 1.0
        eta = z[:, :p] @ coef.T + intercept
        eta -= eta.max(axis=1, keepdims=True)
        mu = np.exp(eta)
        mu /= mu.sum(axis=1, keepdims=True)
        w = weights[start : start + rows]
        for k in range(K):
            H[k * q : (k + 1) * q, k * q : (k + 1) * q] += (z * (w * mu[:, k])[:, None]).T @ z
        outer = (np.sqrt(w)[:, None, None] * mu[:, :, None] * z[:, None, :]).reshape(m, K * q)
        H -= blas.dsyrk(1.0, outer, trans=1)
    return (H,)
