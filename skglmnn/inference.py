"""Inference for fitted GLMs: deviance, likelihood, standard errors, tests, summaries.

Every estimator of the package ends in a GLM -- the whole model for
``GLMRegressor`` and ``GLMClassifier``, the output layer for the networks, whose
"X" is then the learned features ``transform(X)``.  The estimators describe that
GLM as an :class:`OutputGLM`; this module computes from it what R's ``glm()`` and
statsmodels report.

Conventions, stated once:

* ``sample_weight`` are frequency weights (``sample_weight_type="frequency"``):
  ``n_obs = sum(w)``; or R's prior weights (``"variance"``): ``n_obs`` is the
  number of non-zero weights, sample i has dispersion ``phi / w_i``, and the
  meat weighs each score by ``w_i^2``.  The residual degrees of freedom are
  ``n_obs - k`` for ``k`` identified mean parameters (coefficients and
  intercept; the rank of the information for an unpenalised fit, as R).
* Fisher's information of the coefficients (intercept last) is
  ``I = [X 1]^T diag(w h'(eta)^2 / V(mu)) [X 1]``; the covariance is
  ``dispersion * (I + P)^+`` with ``P`` the Hessian of the L2 penalty in the
  same units (``n_obs * alpha`` on each coefficient; 0 without a penalty) and
  ``^+`` a pseudo-inverse, so rank-deficient designs and the softmax's
  redundant parametrisation give the covariance of the minimum-norm solution
  (in the standardised coordinates of :func:`information_matrices`, where all
  of this is computed without squaring the design's condition number).
* Sandwich ("robust") covariances: ``HC0 = B M B`` with ``B = (J + P)^+``, ``J``
  the observed information (``I`` itself for canonical links), and
  ``M = sum_i w_i delta_i^2 x_i x_i^T`` (``delta = d loss / d eta``: the score
  per sample); ``HC1 = HC0 * n_obs / (n_obs - k)``; ``cluster``: ``M`` from the
  scores summed within clusters, times ``G/(G-1) (n_obs-1)/(n_obs-k)``.
* Test statistics are ``t`` with ``n_obs - k`` degrees of freedom when the
  dispersion is estimated (Pearson's ``X^2 / (n_obs - k)``; normal, gamma,
  inverse Gaussian, Tweedie including the quasi-Poisson power 1), else ``z``;
  robust covariances use ``z``.
* The log-likelihood is statsmodels' ``llf``: for the normal family with the
  identity link, the one maximised over the dispersion (``RSS / n_obs``); NaN,
  with AIC and BIC, where there is no likelihood (Tweedie power 1,
  quasi-Poisson) or no density is implemented (Tweedie powers in (2, 3) and
  above 3).  ``aic = -2 loglik + 2 k``, ``bic = -2 loglik + k log(n_obs)``.
* The information matrices need a pass over X (``n k^2`` multiply-adds); fits
  store them when that costs at most :data:`INFERENCE_MAX_COST`, so that
  ``coef_table()`` needs no data.  Beyond, pass the training data again.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import stats
from scipy.special import xlogy
from sklearn.utils.validation import validate_data

from ._dask import any_dask
from ._loss import GLMLoss
from ._solvers._scaling import ColumnScaling
from ._threads import parallel_matvec, single_threaded_blas
from ._validation import FLOAT_DTYPES, SPARSE_FORMATS, check_offset, check_sample_weight

INFERENCE_MAX_COST = 2 * 10**7
"""Largest ``n_samples * n_params**2`` for which fits store the information matrices."""


@dataclass
class OutputGLM:
    """A fitted GLM as inference sees it (the model itself, or a network's output layer).

    Attributes
    ----------
    design : ndarray or sparse matrix of shape (n_samples, p)
        X, or the learned features of a network.
    y : ndarray of shape (n_samples,)
        Targets (class indices for a softmax output).
    weights : ndarray of shape (n_samples,) or None
        Frequency weights.
    offset : ndarray of shape (n_samples,) or None
    coef : ndarray of shape (p,) or (K, p)
    intercept : float or ndarray of shape (K,)
    fit_intercept : bool
    family, link : Family, Link or None
        ``None`` for a softmax (multinomial) output.
    l2 : float
        The objective's ``alpha`` on the squared coefficients (``mean deviance / 2``
        scale); 0 without a penalty.
    l1 : float
        The L1 strength; with ``l1 > 0`` only non-zero coefficients get errors.
    names : list of str
        Names of the design's columns.
    classes : array-like or None
        Class labels of a softmax output (for the parameter names).
    deviance : float or None
        The deviance, when the solver's last objective gives it (then binary
        models need no pass over the design for their statistics).
    variance_weights : bool
        Whether ``weights`` are variance (prior) weights rather than frequency weights.
    rank : int or None
        Rank of the (unpenalised) information matrix, when known: the number of
        identified mean parameters of a rank-deficient design (R's ``rank``).
    rows : DaskData or None
        When the design is a dask array: its row blocks, with y, weights and
        offset (:mod:`skglmnn._dask`); statistics are then sums over blocks.
    coords : ColumnScaling or None
        The design's standardisation, when known without a pass over it.
    totals : (float, int) or None
        The sum of the weights and the number of non-zero ones, when known.
    """

    design: object
    y: np.ndarray
    weights: np.ndarray | None
    offset: np.ndarray | None
    coef: np.ndarray
    intercept: object
    fit_intercept: bool
    family: object
    link: object
    l2: float
    l1: float
    names: list
    classes: object = None
    deviance: float | None = None
    variance_weights: bool = False
    rank: int | None = None
    rows: object = None
    coords: object = None
    totals: tuple | None = None

    @property
    def n_obs(self):
        """Number of observations: the sum of frequency weights, or the number of
        samples with a non-zero variance weight."""
        weight_sum, nonzero = self.weight_totals()
        return float(nonzero if self.variance_weights else weight_sum)

    def weight_totals(self):
        """``(sum of weights, number of non-zero weights)``."""
        if self.totals is not None:
            return self.totals
        return float(self.w.sum()), int(np.count_nonzero(self.w))

    def map_rows(self, func, *args, combine=None):
        """``func(out, *args)`` here, or summed (``combine``d) over the row blocks of dask
        data (``rows``, a :class:`~skglmnn._dask.DaskData`), each block an ``OutputGLM``."""
        if self.rows is None:
            return func(self, *args)
        from ._dask import map_outputs, output_template

        return map_outputs(self.rows, output_template(self), func, *args, combine=combine)

    @property
    def multinomial(self):
        """Whether the output is a softmax over K classes."""
        return self.family is None

    @property
    def w(self):
        """Weights, ones when none were given."""
        return np.ones(len(self.y)) if self.weights is None else self.weights

    def eta(self):
        """Linear predictor(s), shape (n,) or (n, K)."""
        coef = np.asarray(self.coef, dtype=np.float64)
        if isinstance(self.design, np.ndarray):
            eta = parallel_matvec(self.design, coef.T) + self.intercept
        else:
            eta = np.asarray(self.design @ coef.T) + self.intercept
        if self.offset is not None:
            eta = eta + self.offset
        return np.asarray(eta, dtype=np.float64)

    def fitted_eta(self):
        """:meth:`eta`, computed once per ``OutputGLM`` (both statistics passes use it)."""
        memo = self.__dict__.get("_eta_memo")
        if memo is None:
            memo = self.__dict__["_eta_memo"] = self.eta()
        return memo

    def n_params(self):
        """Estimated mean parameters ``k``: coefficients (non-zero ones under L1) and
        intercepts; a softmax over K classes identifies K - 1 per column; a
        rank-deficient design only ``rank`` of them."""
        if self.rank is not None and not self.l1:
            return int(self.rank)
        coef = np.atleast_2d(self.coef)
        n_coef = int(np.count_nonzero(coef)) if self.l1 else coef.size
        n_rows = coef.shape[0]
        if self.multinomial and not self.l1:
            n_coef -= coef.shape[1]  # one class is redundant
        n_intercepts = (n_rows - 1 if self.multinomial else 1) if self.fit_intercept else 0
        return n_coef + n_intercepts


def _probabilities(eta):
    z = eta - eta.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_statistics(out):
    """The fitted statistics of the output GLM (module docstring).

    Two passes over the rows at most (one here in memory): the sums that need
    only the fit (weights, ``w y``, the deviance, Pearson's ``X^2``), then those
    that need the dispersion or the weighted mean of y (log-likelihood, null
    deviance).  On dask data each pass is a sum over blocks.

    Parameters
    ----------
    out : OutputGLM

    Returns
    -------
    statistics : dict
        ``deviance_``, ``null_deviance_``, ``dispersion_``, ``loglik_``,
        ``aic_``, ``bic_`` and ``df_resid_``.
    """
    weight_sum, nonzero, wy, non_binary, deviance, chi2, counts = out.map_rows(
        _first_sums, out.deviance is None)
    out.totals = (weight_sum, nonzero)
    n_obs = out.n_obs
    k = out.n_params()
    df_resid = n_obs - k
    if out.multinomial:
        loglik = -0.5 * (out.deviance if out.deviance is not None else deviance)
        # the null model predicts each class's share: sum_k n_k log(n_k / n)
        null_deviance = -2.0 * float(xlogy(counts, counts / counts.sum()).sum())
        deviance, dispersion = -2.0 * loglik, 1.0
    else:
        family = out.family
        loss = GLMLoss(family, out.link)
        binary = family.name == "binomial" and non_binary == 0
        if out.deviance is not None:
            deviance = out.deviance
        ybar = wy / weight_sum
        dispersion = 1.0
        if family.has_dispersion:  # undefined without residual degrees of freedom
            dispersion = float(chi2 / (n_obs - k)) if df_resid > 0 else np.nan
        scale = dispersion
        if family.name == "normal" and out.link.name == "identity":
            scale = deviance / n_obs  # statsmodels' llf: the dispersion maximised out
        null_b = None
        if not binary or out.offset is not None:
            null_b = _null_intercept(out, loss, ybar)
        null_deviance = loglik = 0.0
        if not binary or out.offset is not None:  # else both have closed forms: no pass
            null_deviance, loglik = out.map_rows(_second_sums, binary, ybar, null_b, scale)
        if binary and out.offset is None:  # constant mean ybar: a closed form
            null_deviance = -2.0 * weight_sum * (xlogy(ybar, ybar) + xlogy(1 - ybar, 1 - ybar))
        if binary:
            loglik = -0.5 * deviance  # 0/1 targets: the saturated log-likelihood is 0
    return {
        "deviance_": max(float(deviance), 0.0),  # not below 0 by rounding (perfect fits)
        "null_deviance_": float(null_deviance),
        "dispersion_": float(dispersion),
        "loglik_": float(loglik),
        "aic_": -2.0 * loglik + 2.0 * k,
        "bic_": -2.0 * loglik + k * np.log(n_obs),
        "df_resid_": df_resid,
    }


def _first_sums(out, need_deviance):
    """``(sum w, nonzero w, sum w y, non-0/1 targets, deviance, Pearson X^2, class counts)``
    of the rows of ``out``; what is not needed is 0 (the deviance when ``out.deviance`` is
    known, ``X^2`` without a dispersion) or None."""
    w = out.w
    weight_sum, nonzero = float(w.sum()), int(np.count_nonzero(w))
    if out.multinomial:
        codes = out.y.astype(np.intp)
        deviance = 0.0
        if need_deviance:
            proba = _probabilities(out.eta())
            nll = -np.log(np.maximum(proba[np.arange(len(codes)), codes], np.finfo(float).tiny))
            deviance = 2.0 * float(w @ nll)
        counts = np.bincount(codes, weights=w, minlength=out.coef.shape[0])
        return weight_sum, nonzero, 0.0, 0, deviance, 0.0, counts
    family = out.family
    y = out.y.astype(np.float64)
    wy = float(np.multiply(w, y).sum())
    non_binary = int(np.count_nonzero((y != 0) & (y != 1))) if family.name == "binomial" else 1
    deviance = chi2 = 0.0
    if need_deviance or family.has_dispersion:
        eta = out.fitted_eta()
        if need_deviance:
            # from the loss kernel (half the unit deviance, one exp per sample)
            deviance = 2.0 * GLMLoss(family, out.link).loss(y, eta, out.weights)
        if family.has_dispersion:
            mu = out.link.inverse(eta)
            chi2 = float(np.dot(w, (y - mu) ** 2 / family.unit_variance(mu)))
    return weight_sum, nonzero, wy, non_binary, deviance, chi2, None


def _second_sums(out, binary, ybar, null_b, scale):
    """``(null deviance, log-likelihood)`` of the rows of ``out`` (0 for the log-likelihood of
    binary targets: the caller has its closed form)."""
    y = out.y.astype(np.float64)
    loss = GLMLoss(out.family, out.link)
    null_eta = np.full(len(y), null_b) if out.offset is None else null_b + out.offset
    null_deviance = 2.0 * loss.loss(y, null_eta, out.weights)
    if binary:
        return null_deviance, 0.0
    mu = out.link.inverse(out.fitted_eta())
    try:
        loglik = out.family.loglik(y, mu, out.weights, scale, out.variance_weights)
    except ValueError:  # no density implemented (Tweedie powers above 2 but 3)
        loglik = np.nan
    return null_deviance, loglik


def _null_intercept(out, loss, ybar):
    """Intercept of the intercept-only model (with the offset), as statsmodels' null
    deviance: ``g(weighted mean of y)`` without offset, else a 1-D Newton fit (one pass
    over y and the offset per step)."""
    b = float(out.link.link(np.array([ybar]))[0])
    if out.offset is None:
        return b
    if not np.isfinite(b):
        b = 0.0
    for _ in range(100):  # one-parameter Newton (Fisher scoring) with step halving
        value, grad, hess = out.map_rows(_null_terms, loss, b)
        step = grad / max(hess, 1e-300)
        while step and not out.map_rows(_null_terms, loss, b - step)[0] <= value:
            step *= 0.5
            if abs(step) < 1e-14:
                step = 0.0
        b -= step
        if abs(step) < 1e-12 * max(1.0, abs(b)):
            break
    return b


def _null_terms(out, loss, b):
    eta = np.asarray(b + out.offset, dtype=np.float64)
    value, grad, hess = loss.pointwise(out.y.astype(np.float64), eta, out.weights, hessian=True)
    return value, float(np.sum(grad)), float(np.sum(hess))


@dataclass
class Information:
    """What the covariances need, in internal coordinates ``gamma``, with the Jacobian
    ``A = d estimates / d gamma`` back to the estimates (:func:`information_matrices`).

    Attributes
    ----------
    information, meat, observed : ndarray of shape (r, r)
        Penalised Fisher information, the sandwich's meat, penalised observed information.
    jacobian : ndarray of shape (k, r)
    clusters : tuple (ndarray of shape (r, r), int) or None
        The cluster-robust meat and the number of clusters, when groups were given.
    """

    information: np.ndarray
    meat: np.ndarray
    observed: np.ndarray
    jacobian: np.ndarray
    clusters: tuple | None = None

    @property
    def rank(self):
        """Rank of the penalised information (the identified parameters)."""
        scaled = _jacobi(self.information)[0]
        return int(np.linalg.matrix_rank(scaled, hermitian=True))


BLOCK_ENTRIES = 2**18
"""Entries of a block of root rows (about 2 MB): the design is read in blocks of rows."""


def information_matrices(out, groups=None):
    """The information, meat and observed information of the output GLM, factored so
    that rounding does not depend on how X is scaled, without a copy of X.

    The design is standardised as the solvers do (``_solvers/_scaling.py``:
    ``z = (x - c) / s`` with weighted means and standard deviations, centred for
    dense X with an intercept): a calendar year beside the intercept or a column
    in cents then costs no digits.  The root of the penalised information,
    ``[sqrt(W) Z; sqrt(P)]`` (``W`` Fisher's weights -- for a softmax, the rows
    ``sqrt(w p_k) (e_k - p) (x) z`` -- and ``P`` the penalty Hessian), is reduced
    block of rows by block of rows to its triangular QR factor ``R`` (the
    "tall-skinny" QR: each block is stacked under the running ``R`` and
    factored again), and the SVD of ``R`` gives coordinates ``phi`` in which the
    penalised information is the identity, as statsmodels' pseudo-inverse of the
    weighted design does.  Nothing is squared: a polynomial in calendar years
    (``year, year^2, year^3``; condition number ~1e6 even standardised) keeps its
    digits, and the rank is that of the SVD, decided on the standardised columns
    (a column scaled by 1e6 is a regressor; a duplicate is not).  A second pass
    forms the meat, the observed information and the clusters' summed scores in
    ``phi``'s coordinates.  Only one block of the standardised design exists at
    a time.

    Rows of the estimates follow :func:`parameter_names`: coefficients then
    intercept (per class, class-major, for a softmax output).  Coefficients set
    to zero by an L1 penalty are dropped.

    Parameters
    ----------
    out : OutputGLM
    groups : array-like of shape (n_samples,), default=None
        Cluster labels, for the cluster-robust meat.

    Returns
    -------
    information : Information
    """
    coords = _coordinates(out)
    if groups is not None and out.rows is not None:
        raise ValueError(
            "robust='cluster' on dask data is not available: the cluster sums need the "
            "groups beside the rows in memory; compute the arrays or use robust='HC1'."
        )
    codes = None if groups is None else _group_codes(groups, out.design.shape[0])
    K = out.coef.shape[0] if out.multinomial else 1
    keep = _active(out)

    # pass 1: R of [sqrt(W) Z; sqrt(P)], block by block (QR of the stacked partial Rs)
    R = out.map_rows(_root_factor, coords, keep, combine=_stacked_qr)
    penalty = np.sqrt(_penalty_diagonal(out, coords, K)[keep])
    if np.any(penalty):
        R = np.linalg.qr(np.vstack([R, np.diag(penalty)]), mode="r")
    _, sv, Vt = np.linalg.svd(R)
    n = out.design.shape[0]
    rank = int(np.sum(sv > sv[0] * max(n * K, len(sv)) * np.finfo(float).eps)) if sv.size else 0
    T = Vt[:rank].T / sv[:rank]  # gamma = T phi: the penalised information is I in phi

    # pass 2: meat, observed information and cluster scores in phi's coordinates
    n_groups = None if codes is None else int(codes.max()) + 1
    meat, observed, summed = out.map_rows(_meat_parts, coords, keep, T, codes, n_groups)
    observed += np.eye(rank)
    clusters = None if codes is None else (summed.T @ summed, n_groups)
    jacobian = np.kron(np.eye(K), _jacobian(coords, out.fit_intercept))[np.ix_(keep, keep)] @ T
    return Information(np.eye(rank), meat, observed, jacobian, clusters)


def _row_terms(out):
    """``(eta, proba, fisher, observed_weight, scores, K)`` of the rows of ``out``."""
    eta = out.fitted_eta()
    if out.multinomial:
        proba = _probabilities(eta)
        fisher = observed_weight = None
        K = proba.shape[1]
    else:
        K, proba = 1, None
        loss = GLMLoss(out.family, out.link)
        y = out.y.astype(np.float64)
        _, _, fisher = loss.pointwise(y, eta, None, hessian=True)
        observed_weight = None
        if out.link != out.family.canonical_link():  # else the two informations agree
            observed_weight = out.w * (_observed_weight(loss, y, eta) - fisher)
    return eta, proba, fisher, observed_weight, _scores(out, eta), K


def _row_blocks(n, K, q):
    rows = max(16, BLOCK_ENTRIES // (K * K * q))
    return [slice(start, min(start + rows, n)) for start in range(0, n, rows)]


def _root_factor(out, coords, keep):
    """The triangular factor R of ``sqrt(W) Z`` over the rows of ``out`` (pass 1)."""
    _, proba, fisher, _, _, K = _row_terms(out)
    w, icpt, X = out.w, out.fit_intercept, out.design
    n, p = X.shape
    R = np.zeros((0, int(keep.sum())))
    for block in _row_blocks(n, K, p + int(icpt)):
        Z = _standardised(X[block], coords, icpt)
        root = _root_rows(Z, w[block], fisher, proba, block)[:, keep]
        R = np.linalg.qr(np.vstack([R, root]), mode="r")
    return R


def _stacked_qr(a, b):
    return np.linalg.qr(np.vstack([a, b]), mode="r")


def _meat_parts(out, coords, keep, T, codes, n_groups):
    """``(meat, observed - I, cluster score sums)`` over the rows of ``out`` (pass 2)."""
    _, _, _, observed_weight, scores, K = _row_terms(out)
    w, icpt, X = out.w, out.fit_intercept, out.design
    n, p = X.shape
    q, rank = p + int(icpt), T.shape[1]
    meat_w = w**2 if out.variance_weights else w  # a frequency weight counts w scores
    meat, observed = np.zeros((rank, rank)), np.zeros((rank, rank))
    summed = None if codes is None else np.zeros((n_groups, rank))
    for block in _row_blocks(n, K, q):
        Z = _standardised(X[block], coords, icpt)
        local = (scores[block][:, :, None] * Z[:, None, :]).reshape(len(Z), K * q)
        local = local[:, keep] @ T  # each sample's score in phi's coordinates
        weighted = local * np.sqrt(meat_w[block])[:, None]
        meat += weighted.T @ weighted
        if observed_weight is not None:
            B = Z[:, keep] @ T
            observed += (B * observed_weight[block][:, None]).T @ B
        if codes is not None:
            summed += _group_sum(local * w[block][:, None], codes[block], n_groups)
    return meat, observed, summed


def _root_rows(Z, w, fisher, proba, block):
    """Rows whose Gram matrix is the block's Fisher information: ``sqrt(w f) z``, or for a
    softmax ``sqrt(w p_k) (e_k - p) (x) z`` for k = 1..K (``diag(p) - p p^T = A diag(p)
    A^T`` with ``A = I - p 1^T``)."""
    if proba is None:
        return Z * np.sqrt(w * fisher[block])[:, None]
    p = proba[block]
    n, K = p.shape
    A = np.eye(K)[None, :, :] - p[:, None, :]  # A[i, k, :] = e_k - p_i
    root = (np.sqrt(w[:, None] * p)[:, :, None] * A)[:, :, :, None] * Z[:, None, None, :]
    return root.reshape(n * K, K * Z.shape[1])


def _standardised(X, coords, fit_intercept):
    """``[Z 1]`` (``Z = (X - c) / s``) of a block of rows, as a float64 array."""
    Z = X.toarray() if sp.issparse(X) else np.array(X, dtype=np.float64)
    if coords.shift is not None:
        Z -= coords.shift
    Z /= coords.scale
    return np.column_stack([Z, np.ones(len(Z))]) if fit_intercept else Z


def _penalty_diagonal(out, coords, n_blocks):
    """The L2 penalty's Hessian in the standardised coordinates (0 on intercepts)."""
    per_block = np.append(1.0 / coords.scale**2, np.zeros(int(out.fit_intercept)))
    return out.weight_totals()[0] * out.l2 * np.tile(per_block, n_blocks)


def _coordinates(out):
    """The solvers' change of variables for the output GLM's design."""
    if out.coords is not None:
        return out.coords
    centre = out.fit_intercept and not sp.issparse(out.design)
    return ColumnScaling.of(out.design, out.weights, centre)


def _jacobian(coords, fit_intercept):
    """``d (coef, intercept) / d (beta, b)`` of one block: ``coef = beta / s``,
    ``intercept = b - c . coef``."""
    p = len(coords.scale)
    A = np.zeros((p + int(fit_intercept),) * 2)
    A[np.arange(p), np.arange(p)] = 1.0 / coords.scale
    if fit_intercept:
        A[p, p] = 1.0
        if coords.shift is not None:
            A[p, :p] = -coords.shift / coords.scale
    return A


def _scores(out, eta):
    """Derivatives of each sample's loss with respect to its linear predictor(s):
    shape (n, 1), or (n, K) for a softmax output (``p - onehot(y)``)."""
    if out.multinomial:
        resid = _probabilities(eta)
        resid[np.arange(len(out.y)), out.y.astype(np.intp)] -= 1.0
        return resid
    loss = GLMLoss(out.family, out.link)
    return loss.pointwise(out.y.astype(np.float64), eta, None)[1][:, None]


def _group_codes(groups, n_samples):
    """Cluster labels as codes 0..G-1, checked."""
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.shape[0] != n_samples:
        raise ValueError(
            f"groups must be 1-D with one label per sample ({n_samples}); got shape "
            f"{groups.shape}."
        )
    if groups.dtype.kind == "f" and not np.all(np.isfinite(groups)):
        raise ValueError("groups contain NaN or inf.")
    return np.unique(groups, return_inverse=True)[1].ravel()


def _group_sum(values, codes, n_groups=None):
    """Row sums of ``values`` (dense or sparse) within each group: shape (G, m)."""
    n_groups = int(codes.max()) + 1 if n_groups is None else n_groups
    indicator = sp.csr_array((np.ones(len(codes)), (codes, np.arange(len(codes)))),
                             shape=(n_groups, len(codes)))  # fmt: skip
    total = indicator @ values
    return total.toarray() if sp.issparse(total) else np.asarray(total)


def _observed_weight(loss, y, eta):
    """``d delta / d eta`` per sample (the observed Hessian's weight), by central
    differences of the exact ``delta``: error ~ h^2 ~ 1e-10 relative.  For
    canonical links it equals Fisher's weight."""
    h = 1e-5 * np.maximum(1.0, np.abs(eta))
    up = loss.pointwise(y, eta + h, None)[1]
    down = loss.pointwise(y, eta - h, None)[1]
    return (up - down) / (2 * h)


def _active(out):
    """Boolean mask of parameters that get errors (all, or the non-zero ones under L1)."""
    per_class = np.atleast_2d(out.coef)
    rows = []
    for row in per_class:
        mask = np.ones(len(row), dtype=bool) if out.l1 == 0 else row != 0
        rows.append(np.append(mask, np.ones(int(out.fit_intercept), dtype=bool)))
    return np.concatenate(rows)


def parameter_names(out):
    """Names of the parameters, in the order of the information matrix.

    Parameters
    ----------
    out : OutputGLM

    Returns
    -------
    names : list of str, or of (class, str) tuples for a softmax output
    """
    names = list(out.names) + (["intercept"] if out.fit_intercept else [])
    if not out.multinomial:
        return names
    classes = range(out.coef.shape[0]) if out.classes is None else out.classes
    return [(k, name) for k in classes for name in names]


def estimates(out):
    """All parameters, in the order of :func:`parameter_names`.

    Parameters
    ----------
    out : OutputGLM

    Returns
    -------
    estimates : ndarray of shape (n_parameters,)
    """
    per_class = np.atleast_2d(out.coef)
    intercepts = np.atleast_1d(out.intercept)
    rows = [
        np.append(row, intercepts[i]) if out.fit_intercept else row
        for i, row in enumerate(per_class)
    ]
    return np.concatenate(rows)


def covariance(matrices, dispersion, robust, n_obs, k):
    """Covariance from the stored ``(information, meat, observed information, Jacobian)``.

    The model-based covariance uses Fisher's (expected) information, as R and
    statsmodels' IRLS; the sandwich's bread is the observed information, which
    differs from it for non-canonical links.  Everything is computed in the
    standardised coordinates of :func:`information_matrices` and mapped back
    with the Jacobian: ``A C A^T``.

    Parameters
    ----------
    matrices : Information
        From :func:`information_matrices` (with ``groups`` for ``robust="cluster"``).
    dispersion : float
    robust : {None, "HC0", "HC1", "cluster"}
    n_obs : float
        Number of observations (sum of frequency weights).
    k : int
        Number of estimated mean parameters.

    Returns
    -------
    covariance : ndarray of shape (k, k)
    """
    info, meat, observed, jacobian = (matrices.information, matrices.meat, matrices.observed,
                                      matrices.jacobian)  # fmt: skip
    if robust is None:
        internal = dispersion * _scaled_pinv(info)
    else:
        bread = _scaled_pinv(observed)
        if robust == "cluster":
            meat, n_groups = matrices.clusters
        internal = bread @ meat @ bread
        if robust == "HC1":
            internal *= n_obs / (n_obs - k)
        elif robust == "cluster":  # statsmodels' and Stata's small-sample correction
            internal *= n_groups / (n_groups - 1) * (n_obs - 1) / (n_obs - k)
    cov = jacobian @ internal @ jacobian.T
    return 0.5 * (cov + cov.T)


def _with_rank(out, matrices):
    """Record on ``out`` the rank of an unpenalised fit's information (the identified
    parameters, which R's ``glm`` counts in ``df.residual`` and AIC); return ``matrices``."""
    if not (out.l1 or out.l2):
        out.rank = matrices.rank
    return matrices


def _jacobi(matrix):
    """``(D^-1 M D^-1, D^-1)`` with ``D = sqrt(diag(M))`` (1 where the diagonal is 0)."""
    d = np.sqrt(np.abs(np.diag(matrix)))
    d = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 1.0)
    return matrix * d[:, None] * d[None, :], d


def _scaled_pinv(matrix):
    """Pseudo-inverse of a symmetric information matrix, with the rank decided scale-free.

    ``pinv`` drops directions whose eigenvalue is small against the largest
    one: with a column in cents beside a dummy, a merely badly *scaled*
    direction would be dropped as if X were rank deficient (standard errors off
    by ~100 %).  Inverting ``D^-1 M D^-1`` with ``D = sqrt(diag(M))`` and
    mapping back, ``D^-1 pinv(.) D^-1``, is the same inverse for a full-rank M
    and keeps only truly flat directions (an exact duplicate column) out.
    """
    scaled, d = _jacobi(matrix)
    return np.linalg.pinv(scaled, hermitian=True) * d[:, None] * d[None, :]


@dataclass(frozen=True)
class TestResult:
    """The outcome of :func:`lr_test` or :func:`wald_test`.

    Attributes
    ----------
    statistic : float
        The chi-squared (or F) statistic.
    df : float or tuple of float
        Its degrees of freedom (numerator and denominator for F).
    p_value : float
    distribution : {"chi2", "F"}
    """

    __test__ = False  # not a pytest class

    statistic: float
    df: object
    p_value: float
    distribution: str


def lr_test(small, big):
    """Likelihood-ratio test of a model against a bigger one that nests it.

    ``2 (loglik_big - loglik_small)`` against chi-squared with
    ``df_resid_small - df_resid_big`` degrees of freedom (statsmodels'
    ``compare_lr_test``; R's ``anova(small, big, test="LRT")`` for families
    without a dispersion).  Both models must be fitted to the same samples; that
    ``small`` is nested in ``big`` (its columns a subset, or a restriction) is
    the caller's to ensure.

    Parameters
    ----------
    small, big : fitted estimators of this package
        The restricted and the full model.

    Returns
    -------
    result : TestResult
    """
    for model in (small, big):
        if not hasattr(model, "_inference"):
            raise ValueError("lr_test needs two models fitted with fit().")
    if small._inference["n_obs"] != big._inference["n_obs"]:
        raise ValueError(
            "The two models were fitted to different data (numbers of observations "
            f"{small._inference['n_obs']:g} and {big._inference['n_obs']:g})."
        )
    df = small.df_resid_ - big.df_resid_
    if df <= 0:
        raise ValueError(
            f"small must have fewer parameters than big (residual degrees of freedom "
            f"{small.df_resid_:g} and {big.df_resid_:g}): pass the restricted model first."
        )
    if not (np.isfinite(small.loglik_) and np.isfinite(big.loglik_)):
        raise ValueError("A likelihood-ratio test needs log-likelihoods; this family has none "
                         "(Tweedie powers 1 and above 2 but 3): use wald_test.")  # fmt: skip
    statistic = 2.0 * (big.loglik_ - small.loglik_)
    return TestResult(float(statistic), float(df), float(stats.chi2.sf(statistic, df)), "chi2")


def wald_test(model, restrictions, value=0.0, *, robust=None, use_f=False):
    """Wald test of linear restrictions ``R theta = value`` on a fitted model.

    ``W = (R theta - value)^T (R C R^T)^+ (R theta - value)`` with ``C`` the
    covariance of :meth:`covariance_matrix`, against chi-squared with
    ``rank(R)`` degrees of freedom, or ``W / rank(R)`` against ``F(rank(R),
    df_resid_)`` with ``use_f`` (statsmodels' ``wald_test``).

    Parameters
    ----------
    model : fitted estimator of this package
    restrictions : list of str, or array-like of shape (r, n_parameters)
        Parameter names (as in :meth:`coef_table`'s index) whose coefficients
        are jointly 0, or the matrix ``R`` over the parameters in that order.
    value : float or array-like of shape (r,), default=0.0
    robust : {None, "HC0", "HC1"}, default=None
        The covariance used.
    use_f : bool, default=False

    Returns
    -------
    result : TestResult
    """
    table = model.coef_table(robust=robust)
    names = list(table.index)
    est = table["estimate"].to_numpy()
    if len(restrictions) and all(isinstance(r, str | tuple) for r in restrictions):
        unknown = [r for r in restrictions if r not in names]
        if unknown:
            raise ValueError(f"Unknown parameter names {unknown}; the parameters are {names}.")
        R = np.zeros((len(restrictions), len(names)))
        R[np.arange(len(restrictions)), [names.index(r) for r in restrictions]] = 1.0
    else:
        R = np.atleast_2d(np.asarray(restrictions, dtype=np.float64))
        if R.shape[1] != len(names):
            raise ValueError(f"restrictions must have {len(names)} columns (one per "
                             f"parameter); got shape {R.shape}.")  # fmt: skip
    active = table["std_error"].notna().to_numpy()
    if np.any(R[:, ~active] != 0):
        raise ValueError("restrictions involve coefficients set to zero by the L1 penalty.")
    cov = model.covariance_matrix(robust=robust).to_numpy()
    R = R[:, active]
    diff = R @ est[active] - np.broadcast_to(np.asarray(value, dtype=np.float64), len(R))
    middle = R @ cov @ R.T
    statistic = float(diff @ np.linalg.pinv(middle, hermitian=True) @ diff)
    df = int(np.linalg.matrix_rank(middle, hermitian=True))
    if use_f:
        f = statistic / df
        return TestResult(f, (float(df), float(model.df_resid_)),
                          float(stats.f.sf(f, df, model.df_resid_)), "F")  # fmt: skip
    return TestResult(statistic, float(df), float(stats.chi2.sf(statistic, df)), "chi2")


SIGNIFICANCE = ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, "."), (1.0, " "))


def _attach_rows(out, data, summary):
    """Make ``out`` a GLM on dask data: its row blocks, column moments and weight totals."""
    out.rows, out.totals = data, (summary.weight_sum, summary.nonzero_weights)
    out.coords = summary.moments.scaling(centre=out.fit_intercept)


def feature_names(estimator, n_features):
    """The estimator's ``feature_names_in_``, else ``x0, x1, ...``.

    Parameters
    ----------
    estimator : fitted estimator
    n_features : int

    Returns
    -------
    names : list of str
    """
    names = getattr(estimator, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else [f"x{j}" for j in range(n_features)]


class InferenceMixin:
    """``coef_table``, ``covariance_matrix`` and ``summary`` for estimators ending in a GLM.

    The estimator provides ``_output_glm(X, y, sample_weight, offset)`` (an
    :class:`OutputGLM`, from validated inputs) and calls ``_fit_inference`` at the
    end of ``fit``.
    """

    def _output(self, X, y, sample_weight, offset):
        out = self._output_glm(X, y, sample_weight, offset)
        out.variance_weights = getattr(self, "sample_weight_type", "frequency") == "variance"
        return out

    def _fit_inference(self, X, y, sample_weight, offset, deviance=None, rows=None, out=None):
        # BLAS threads left spinning by X @ coef would slow down the next numba sweep
        with single_threaded_blas():
            if out is None:
                out = self._output(X, y, sample_weight, offset)
            out.variance_weights = getattr(self, "sample_weight_type", "frequency") == "variance"
            out.deviance = deviance
            if rows is not None:  # a problem on dask data: its blocks, moments and weights
                _attach_rows(out, rows.data, rows.summary)
            n_params = len(parameter_names(out))
            matrices = None
            if out.design.shape[0] * n_params**2 <= INFERENCE_MAX_COST:
                matrices = _with_rank(out, information_matrices(out))
            for name, value in fit_statistics(out).items():
                setattr(self, name, value)
        n_intercepts = (out.coef.shape[0] - 1 if out.multinomial else 1) if out.fit_intercept else 0
        self._inference = {
            "matrices": matrices,
            "names": parameter_names(out),
            "estimates": estimates(out),
            "active": _active(out),
            "t_test": out.family is not None and out.family.has_dispersion,
            "penalised": bool(out.l2 or out.l1),
            "n_obs": out.n_obs,
            "null_df": out.n_obs - n_intercepts,
            "k": out.n_params(),
            "multinomial": out.multinomial,
        }

    def _inference_state(self, X, y, sample_weight, offset, robust=None, groups=None):
        if not hasattr(self, "_inference"):
            raise AttributeError(
                "Inference needs a model fitted with fit(); this one has none (not fitted, "
                "or fitted by partial_fit)."
            )
        if robust not in (None, "HC0", "HC1", "cluster"):
            raise ValueError(f"robust must be None, 'HC0', 'HC1' or 'cluster'; got {robust!r}.")
        if (robust == "cluster") != (groups is not None):
            raise ValueError(
                "Cluster-robust errors need both robust='cluster' and groups (one cluster "
                f"label per training sample); got robust={robust!r} and groups "
                f"{'given' if groups is not None else 'None'}."
            )
        if robust == "cluster" and X is None:
            raise ValueError(
                "robust='cluster' needs the training data: coef_table(X, y, sample_weight=..., "
                "offset=..., robust='cluster', groups=...)."
            )
        state = dict(self._inference)
        if X is not None and any_dask(X, y, sample_weight, offset):
            if y is None:
                raise ValueError("Pass y together with X: the training data of the fit.")
            rows, summary = self._dask_rows(X, y, sample_weight, offset)
            with single_threaded_blas():
                out = self._output(rows.X, rows.y, rows.sample_weight, rows.offset)
                _attach_rows(out, rows, summary)
                state["matrices"] = _with_rank(out, information_matrices(out, groups))
                state["dispersion"] = fit_statistics(out)["dispersion_"]
        elif X is not None:
            if y is None:
                raise ValueError("Pass y together with X: the training data of the fit.")
            X = validate_data(self, X, accept_sparse=SPARSE_FORMATS, dtype=FLOAT_DTYPES,
                              reset=False)  # fmt: skip
            y = np.asarray(y).ravel()
            if y.shape[0] != X.shape[0]:
                raise ValueError(f"y has {y.shape[0]} samples, but X has {X.shape[0]}.")
            sample_weight, offset = check_sample_weight(sample_weight, X), check_offset(offset, X)
            with single_threaded_blas():
                out = self._output(X, y, sample_weight, offset)
                state["matrices"] = _with_rank(out, information_matrices(out, groups))
                state["dispersion"] = fit_statistics(out)["dispersion_"]
        elif state["matrices"] is None:
            raise ValueError(
                f"The information matrix was not stored at fit time (n_samples * n_params^2 "
                f"> {INFERENCE_MAX_COST:.0e} multiply-adds); pass the training data: "
                "coef_table(X, y, sample_weight=..., offset=...)."
            )
        state.setdefault("dispersion", self.dispersion_)
        return state

    def _covariance(self, state, robust):
        return covariance(state["matrices"], state["dispersion"], robust, state["n_obs"],
                          state["k"])  # fmt: skip

    def covariance_matrix(self, X=None, y=None, sample_weight=None, offset=None, robust=None,
                          groups=None):  # fmt: skip
        """Covariance of the estimates (coefficients, then the intercept).

        Parameters
        ----------
        X, y, sample_weight, offset : optional
            The training data, needed for ``robust="cluster"`` and for fits too
            large to have stored their information matrix (see
            :data:`INFERENCE_MAX_COST`).
        robust : {None, "HC0", "HC1", "cluster"}, default=None
            ``None``: ``dispersion * (Fisher information + penalty Hessian)^+``;
            ``"HC0"``/``"HC1"``: sandwich estimators, valid when the variance
            function is wrong; ``"cluster"``: the sandwich with the scores
            summed within each cluster of ``groups`` (observations correlated
            within clusters, independent between them), times the small-sample
            factor ``G / (G - 1) * (n - 1) / (n - k)`` of Stata and statsmodels.
        groups : array-like of shape (n_samples,), default=None
            Cluster labels of the training samples, for ``robust="cluster"``.

        Returns
        -------
        covariance : pandas.DataFrame
            Indexed by parameter name on both axes (L1-zeroed coefficients left out).
        """
        import pandas as pd

        state = self._inference_state(X, y, sample_weight, offset, robust, groups)
        cov = self._covariance(state, robust)
        names = [n for n, a in zip(state["names"], state["active"], strict=True) if a]
        index = pd.MultiIndex.from_tuples(names) if state["multinomial"] else names
        return pd.DataFrame(cov, index=index, columns=index)

    def coef_table(self, X=None, y=None, sample_weight=None, offset=None, *, level=0.95,
                   robust=None, groups=None):  # fmt: skip
        """Estimates, standard errors, test statistics, p-values and confidence intervals.

        Parameters
        ----------
        X, y, sample_weight, offset : optional
            The training data, needed for ``robust="cluster"`` and for fits too
            large to have stored their information matrix.
        level : float, default=0.95
            Confidence level of the intervals.
        robust : {None, "HC0", "HC1", "cluster"}, default=None
            Sandwich standard errors instead of Fisher's (see
            :meth:`covariance_matrix`).
        groups : array-like of shape (n_samples,), default=None
            Cluster labels of the training samples, for ``robust="cluster"``.

        Returns
        -------
        table : pandas.DataFrame
            Columns ``estimate``, ``std_error``, ``t`` or ``z``, ``p_value``,
            ``ci_lower``, ``ci_upper``; one row per parameter (class and feature
            for multinomial models).  L1-zeroed coefficients have NaN errors.
        """
        import pandas as pd

        if not 0 < level < 1:
            raise ValueError(f"level must lie in (0, 1); got {level!r}.")
        state = self._inference_state(X, y, sample_weight, offset, robust, groups)
        cov = self._covariance(state, robust)
        est = state["estimates"]
        se = np.full(len(est), np.nan)
        se[state["active"]] = np.sqrt(np.clip(np.diag(cov), 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            statistic = est / se
        use_t = state["t_test"] and robust is None
        dist = stats.t(self.df_resid_) if use_t else stats.norm()
        p_value = 2 * dist.sf(np.abs(statistic))
        q = dist.ppf(0.5 + level / 2)
        names = state["names"]
        index = pd.MultiIndex.from_tuples(names, names=["class", "parameter"]) if (
            state["multinomial"]) else pd.Index(names, name="parameter")  # fmt: skip
        return pd.DataFrame(
            {
                "estimate": est, "std_error": se, "t" if use_t else "z": statistic,
                "p_value": p_value, "ci_lower": est - q * se, "ci_upper": est + q * se,
            },
            index=index,
        )  # fmt: skip

    def summary(self, X=None, y=None, sample_weight=None, offset=None, *, level=0.95,
                robust=None, groups=None):  # fmt: skip
        """An R-style summary: call, coefficients with significance, deviance, AIC.

        Parameters
        ----------
        X, y, sample_weight, offset : optional
            The training data, for fits too large to have stored their
            information matrix.
        level : float, default=0.95
            Confidence level of the intervals in the table.
        robust : {None, "HC0", "HC1", "cluster"}, default=None
            Sandwich standard errors (see :meth:`covariance_matrix`).
        groups : array-like of shape (n_samples,), default=None
            Cluster labels of the training samples, for ``robust="cluster"``.

        Returns
        -------
        summary : GLMSummary
            Prints as text; renders as HTML in a notebook.
        """
        table = self.coef_table(X, y, sample_weight, offset, level=level, robust=robust,
                                groups=groups)  # fmt: skip
        return GLMSummary(self, table, robust)


class GLMSummary:
    """The printed summary of a fitted model (see ``summary()`` of the estimators).

    Parameters
    ----------
    estimator : fitted estimator
    table : pandas.DataFrame
        Its ``coef_table``.
    robust : str or None
        The covariance used.
    """

    def __init__(self, estimator, table, robust=None):
        self.estimator = estimator
        self.table = table
        self.robust = robust

    def _header(self):
        est = self.estimator
        lines = [f"Call: {est!r}"]
        family = getattr(est, "family_", None)
        if family is None:
            lines.append("Model: multinomial logit (softmax output)")
        else:
            lines.append(f"Family: {family.name}   Link: {est.link_.name}")
        if getattr(est, "coefs_", None) is not None and len(est.coefs_) > 1:
            lines.append(
                "Output layer of a network: a GLM on the learned features transform(X); "
                "its errors are conditional on those features (the hidden layers are "
                "treated as fixed)."
            )
        if self.estimator._inference["penalised"]:
            lines.append(
                "Warning: the fit is penalised; standard errors come from the penalised "
                "Hessian and are conditional on the penalty (and on the selected "
                "coefficients under L1). They are not those of maximum likelihood."
            )
        if self.robust:
            lines.append(f"Standard errors: sandwich ({self.robust}).")
        return lines

    def _footer(self):
        est = self.estimator
        family = getattr(est, "family_", None)
        name = family.name if family is not None else "multinomial"
        how = "estimated by Pearson's X^2" if family is not None and family.has_dispersion else (
            "taken to be 1")  # fmt: skip
        lines = [
            f"(Dispersion parameter for the {name} family {how}: {est.dispersion_:.6g})",
            f"    Null deviance: {est.null_deviance_:.6g}  on "
            f"{self.estimator._inference['null_df']:.6g} degrees of freedom",
            f"Residual deviance: {est.deviance_:.6g}  on {est.df_resid_:.6g} degrees of freedom",
            f"Log-likelihood: {est.loglik_:.6g}   AIC: {est.aic_:.6g}   BIC: {est.bic_:.6g}",
        ]
        n_iter = np.ravel(getattr(est, "n_iter_", [None]))[0]
        if n_iter is not None:
            lines.append(f"Number of iterations: {n_iter}")
        return lines

    def _coefficients_text(self):
        t = self.table
        stat = "t" if "t" in t.columns else "z"
        stars = [_stars(p) for p in t["p_value"]]
        names = [" ".join(map(str, n)) if isinstance(n, tuple) else str(n) for n in t.index]
        width = max(12, *(len(n) for n in names))
        head = f"{'':{width}s} {'Estimate':>12s} {'Std. Error':>12s} {stat + ' value':>9s} "
        head += f"{'Pr(>|' + stat + '|)':>10s}"
        rows = [head]
        for name, (_, r), s in zip(names, t.iterrows(), stars, strict=True):
            rows.append(
                f"{name:{width}s} {r['estimate']:12.6g} {r['std_error']:12.6g} "
                f"{r[stat]:9.4g} {_format_p(r['p_value']):>10s} {s}"
            )
        rows.append("---\nSignif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1")
        return rows

    def __str__(self):
        return "\n".join(
            [*self._header(), "", "Coefficients:", *self._coefficients_text(), "",
             *self._footer()]
        )  # fmt: skip

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        import html

        head = "".join(f"<p>{html.escape(line)}</p>" for line in self._header())
        foot = "".join(f"<p>{html.escape(line)}</p>" for line in self._footer())
        return f"<div>{head}{self.table.to_html(float_format='%.6g')}{foot}</div>"


def _stars(p):
    if not np.isfinite(p):
        return ""
    return next(mark for bound, mark in SIGNIFICANCE if p < bound or bound == 1.0).strip()


def _format_p(p):
    if not np.isfinite(p):
        return "NA"
    return "<2e-16" if p < 2e-16 else f"{p:.3g}"
