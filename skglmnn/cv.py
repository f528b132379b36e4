"""Choosing the penalty by cross-validation along a regularisation path.

:class:`GLMRegressorCV` fits glmnet-style paths (``skglmnn._path``) for any
family and link: the path on all the data fixes the grid (and may stop early
when the deviance explained saturates), each fold refits that grid from its
own null model with warm starts, and the chosen point is refitted on all the
data from its path solution.
"""

import inspect
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    accuracy_score,
    check_scoring,
    get_scorer,
    get_scorer_names,
    make_scorer,
)
from sklearn.model_selection import check_cv
from sklearn.utils import metadata_routing
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import _check_method_params

from ._loss import GLMLoss
from ._path import alpha_grid, alpha_max, fit_path, fold_problem, null_theta, warn_unconverged
from ._solvers import SOLVERS, GLMProblem, PathChoice
from ._threads import single_threaded_blas
from ._validation import check_fit_inputs
from .classifier import GLMClassifier, _check_solver
from .families import BinomialFamily
from .glm import GLMRegressor, resolve_family_link
from .inference import OutputGLM, feature_names


class GLMRegressorCV(GLMRegressor):
    """GLM with its penalty chosen by cross-validation along a regularisation path.

    For every ``l1_ratio`` the penalty ``alpha`` runs down a geometric grid from
    ``alpha_max`` (the smallest penalty that sets every coefficient to zero) as
    in R's ``cv.glmnet``; each fold fits the whole grid with warm starts, the
    test deviance of every point is averaged over folds, and ``selection``
    picks the point, which is then fitted on all the data.  Any family and
    link of :class:`GLMRegressor`, with weights and an offset.  The fitted
    model is a :class:`GLMRegressor` at ``alpha_``, ``l1_ratio_``: ``predict``,
    ``score``, ``coef_table`` and the fit statistics work as there -- but its
    standard errors ignore that the penalty (and, under L1, the set of
    non-zero coefficients) was chosen on the same data, so they are optimistic.

    Parameters
    ----------
    family, link : str, Family or Link
        As in :class:`GLMRegressor`.
    alphas : int or array-like, default=100
        The number of penalties on the grid, or the penalties themselves (used
        in decreasing order, as given: no early stop).
    alpha_min_ratio : float, default=None
        The smallest penalty of a generated grid as a fraction of
        ``alpha_max``; None means glmnet's rule, 1e-4 when ``n_samples >
        n_features`` and 1e-2 otherwise.
    l1_ratio : float or array-like of floats in [0, 1], default=1.0
        Elastic-net mixing (1 is the lasso, glmnet's default; 0 a ridge, whose
        ``alpha_max`` is taken as for 1e-3, as glmnet does).  A sequence is a
        grid: ``alpha_`` and ``l1_ratio_`` are then chosen jointly.
    fit_intercept : bool, default=True
    cv : int, cross-validation generator or iterable, default=None
        As scikit-learn's ``cv``: None is 5-fold ``KFold``.
    scoring : str or callable, default=None
        None: the mean deviance of the family on the test fold (weighted by
        ``sample_weight``), lower is better.  Otherwise a scikit-learn scorer,
        higher is better.
    selection : {"min", "1se"}, default="min"
        ``"min"``: the point with the best mean CV score.  ``"1se"``: glmnet's
        one-standard-error rule, the largest penalty (same ``l1_ratio``) whose
        mean score is within one standard error of the best -- a sparser model
        that the CV cannot tell apart from the best.  The default is
        ``"min"``, the choice of scikit-learn's ``LassoCV``/``ElasticNetCV``
        and glum, so that the same data give the same ``alpha_``; ``"1se"`` is
        what ``cv.glmnet`` predicts with by default.
    solver : {"auto", "newton", "lbfgs", "cd"}, default="auto"
        As in :class:`GLMRegressor`, for every point of every path.
    max_iter : int, default=100
        Iterations per point of a path.
    tol : float, default=1e-4
    n_jobs : int, default=None
        Folds (times l1 ratios) fitted in parallel by joblib.
    verbose : int, default=0
    sample_weight_type : {"frequency", "variance"}, default="frequency"
        As in :class:`GLMRegressor`, for the inference of the final fit.

    Attributes
    ----------
    alpha_ : float
        The chosen penalty.
    l1_ratio_ : float
        The chosen elastic-net mixing.
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The grid (decreasing), cut where the full-data path stopped early.
    coef_path_ : ndarray of shape (n_alphas, n_features) or (n_l1_ratio, n_alphas, n_features)
        Full-data solutions along the grid.
    intercept_path_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
    deviance_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
        Mean deviance on each test fold (for the normal family: the mean
        squared error, scikit-learn's ``mse_path_``).
    train_deviance_path_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        Mean deviance of the full-data path on the training data.
    score_path_ : ndarray, same shape as ``deviance_path_``
        What the selection reads: the test deviance (``scoring=None``) or the
        scorer's value on each test fold.
    cv_mean_, cv_se_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        Mean over folds of ``score_path_`` and its standard error
        (standard deviation over folds / sqrt(n_folds), as glmnet's ``cvsd``).
    alpha_min_, alpha_1se_ : float
        The penalties the two selection rules pick (at ``l1_ratio_``).
    n_iter_ : int
        Solver iterations of the full-data path from the null model to the
        chosen point, plus those of the final fit there (usually none).
    coef_, intercept_, solver_, family_, link_, ... :
        Those of the final :class:`GLMRegressor` fit at ``alpha_``.

    See Also
    --------
    GLMRegressor : one fit at a given penalty.
    sklearn.linear_model.ElasticNetCV : the normal family's path in scikit-learn.

    References
    ----------
    .. [1] J. Friedman, T. Hastie and R. Tibshirani, "Regularization Paths for
       Generalized Linear Models via Coordinate Descent", Journal of
       Statistical Software 33(1), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from skglmnn.cv import GLMRegressorCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 6))
    >>> y = rng.poisson(np.exp(0.3 + X[:, 0] - 0.5 * X[:, 1]))
    >>> model = GLMRegressorCV(family="poisson", alphas=30).fit(X, y)
    >>> bool(model.coef_[0] > 0.5 and model.coef_[1] < -0.2)
    True
    >>> model.alphas_.shape == (model.deviance_path_.shape[0],)
    True
    """

    _parameter_constraints = {
        "family": GLMRegressor._parameter_constraints["family"],
        "link": GLMRegressor._parameter_constraints["link"],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "alpha_min_ratio": [Interval(Real, 0.0, 1.0, closed="neither"), None],
        "l1_ratio": [Interval(Real, 0.0, 1.0, closed="both"), "array-like"],
        "fit_intercept": ["boolean"],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "selection": [StrOptions({"min", "1se"})],
        "solver": [StrOptions({"auto", "newton", "lbfgs", "cd"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "sample_weight_type": [StrOptions({"frequency", "variance"})],
    }

    def __init__(
        self,
        family="normal",
        link="auto",
        *,
        alphas=100,
        alpha_min_ratio=None,
        l1_ratio=1.0,
        fit_intercept=True,
        cv=None,
        scoring=None,
        selection="min",
        solver="auto",
        max_iter=100,
        tol=1e-4,
        n_jobs=None,
        verbose=0,
        sample_weight_type="frequency",
    ):
        self.family = family
        self.link = link
        self.alphas = alphas
        self.alpha_min_ratio = alpha_min_ratio
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.selection = selection
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.sample_weight_type = sample_weight_type

    def fit(self, X, y, sample_weight=None, offset=None, groups=None):
        """Fit the paths, cross-validate them, and fit the chosen point on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights (as in :class:`GLMRegressor`), also in the test
            deviances.
        offset : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group splitter (``GroupKFold``).

        Returns
        -------
        self : GLMRegressorCV
        """
        self._validate_params()
        family, link = resolve_family_link(self.family, self.link)
        X, y, sample_weight, offset = check_fit_inputs(self, X, y, sample_weight, offset, family)
        if offset is not None and self.scoring is not None:
            raise ValueError(
                "A scorer cannot see the offset, so scoring must be None (the test deviance, "
                "which uses it) when fitting with an offset."
            )
        ratios, grid_given = self._ratios(), not isinstance(self.alphas, Integral)
        if grid_given:
            alphas = np.sort(np.asarray(self.alphas, dtype=float).ravel())[::-1]
            if alphas.size == 0 or not np.all(np.isfinite(alphas)) or alphas[-1] < 0:
                raise ValueError("alphas must be non-negative and finite, with at least one.")
        problem = GLMProblem(GLMLoss(family, link), X, y, sample_weight, offset, 0.0,
                             self.fit_intercept)  # fmt: skip
        start = null_theta(problem)
        null_loss = problem.value_gradient(start)[0]
        grids, paths = [], []
        for r in ratios:  # the full-data paths fix the grids (and where they stop)
            grid = alphas if grid_given else alpha_grid(
                alpha_max(problem, r, start), self.alphas, self._min_ratio(X))
            paths.append(fit_path(problem, grid, r, self.solver, self.max_iter, self.tol,
                                  start, stop_early=not grid_given,
                                  null_half_deviance=null_loss))  # fmt: skip
            grids.append(grid)
        n_alphas = max(path.alphas.size for path in paths)  # one length for every ratio
        paths = [fit_path(problem, grid[:n_alphas], r, self.solver, self.max_iter, self.tol,
                          start) if path.alphas.size < n_alphas else path
                 for grid, path, r in zip(grids, paths, ratios, strict=True)]  # fmt: skip
        splits = list(check_cv(self.cv).split(X, y, groups))
        scorer = None if self.scoring is None else check_scoring(self, self.scoring)
        jobs = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_fold_path)(problem, test, path.alphas, r, self.solver, self.max_iter,
                                self.tol, scorer, self)
            for path, r in zip(paths, ratios, strict=True) for _, test in splits
        )  # fmt: skip
        warn_unconverged(type(self).__name__, paths + [fold for fold, _, _ in jobs], self.tol)
        k = len(splits)
        deviance = np.array([d for _, d, _ in jobs]).reshape(len(ratios), k, n_alphas)
        score = np.array([s for _, _, s in jobs]).reshape(len(ratios), k, n_alphas)
        self._store(paths, deviance.transpose(0, 2, 1), score.transpose(0, 2, 1), ratios,
                    2.0 * np.array([path.mean_half_deviance for path in paths]))  # fmt: skip
        best, index = self._select(ratios)
        self.l1_ratio_, self.alpha_ = float(ratios[best]), float(paths[best].alphas[index])
        path = paths[best]
        chosen = problem.with_penalty(self.alpha_ * (1 - self.l1_ratio_),
                                      self.alpha_ * self.l1_ratio_)  # fmt: skip
        theta0 = chosen.from_original(path.coef[index][None, :], path.intercept[index:index + 1])
        self._solve(chosen, theta0)
        self.n_iter_ += int(path.n_iter[: index + 1].sum())  # the path's way to this point
        return self

    def _ratios(self):
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=float)).ravel()
        if ratios.size == 0 or np.any((ratios < 0) | (ratios > 1)) or np.any(np.isnan(ratios)):
            raise ValueError(f"l1_ratio must lie in [0, 1]; got {self.l1_ratio!r}.")
        return ratios

    def _min_ratio(self, X):
        if self.alpha_min_ratio is not None:
            return self.alpha_min_ratio
        return 1e-4 if X.shape[0] > X.shape[1] else 1e-2

    def _store(self, paths, deviance, score, ratios, train_deviance):
        squeeze = np.ndim(self.l1_ratio) == 0
        shape = (lambda a: a[0]) if squeeze else (lambda a: a)  # noqa: E731
        k = deviance.shape[-1]
        self.alphas_ = shape(np.array([path.alphas for path in paths]))
        self.coef_path_ = shape(np.array([path.coef for path in paths]))
        self.intercept_path_ = shape(np.array([path.intercept for path in paths]))
        self.deviance_path_ = shape(deviance)
        self.train_deviance_path_ = shape(train_deviance)
        self.score_path_ = shape(score)
        self.cv_mean_ = shape(score.mean(axis=-1))
        self.cv_se_ = shape(score.std(axis=-1, ddof=1) / np.sqrt(k) if k > 1
                            else np.zeros(score.shape[:-1]))  # fmt: skip
        self.l1_ratios_ = ratios
        self._all_mean = score.mean(axis=-1)
        self._all_se = np.atleast_2d(self.cv_se_) if squeeze else self.cv_se_

    def _select(self, ratios):
        """``(ratio index, alpha index)`` of the chosen point; sets alpha_min_, alpha_1se_."""
        sign = 1.0 if self.scoring is None else -1.0  # minimise deviance, maximise a score
        loss = sign * self._all_mean
        best, index = np.unravel_index(np.nanargmin(loss), loss.shape)  # first: largest alpha
        bound = loss[best, index] + self._all_se[best, index]
        within = np.flatnonzero(loss[best] <= bound)
        one_se = int(within[0])  # the grid decreases: the first is the largest penalty
        alphas = np.atleast_2d(self.alphas_)[best]
        self.alpha_min_, self.alpha_1se_ = float(alphas[index]), float(alphas[one_se])
        return int(best), int(index if self.selection == "min" else one_se)

    def _output_glm(self, X, y, sample_weight, offset):
        return OutputGLM(
            X, np.asarray(y, dtype=np.float64), sample_weight, offset, self.coef_,
            self.intercept_, self.fit_intercept, self.family_, self.link_,
            self.alpha_ * (1 - self.l1_ratio_), self.alpha_ * self.l1_ratio_,
            feature_names(self, X.shape[1]),
        )  # fmt: skip

    def coef_table(self, *args, **kwargs):
        """As :meth:`GLMRegressor.coef_table`, warning that the errors are post-selection."""
        warnings.warn(
            "The penalty of this model was chosen by cross-validation on the same data: "
            "its standard errors and p-values ignore that choice (and, under L1, the "
            "selection of the non-zero coefficients), so they are optimistic.",
            UserWarning,
            stacklevel=2,
        )
        return super().coef_table(*args, **kwargs)

    coef_table.__doc__ = GLMRegressor.coef_table.__doc__


def _fold_path(problem, test, alphas, l1_ratio, solver, max_iter, tol, scorer, estimator):
    """One fold's path on the grid; its mean test deviance (and score) at every point."""
    # BLAS threads left spinning by the test predictions would slow the next fit's numba
    # sweeps twofold (see _threads): the whole fold runs with single-threaded BLAS
    with single_threaded_blas():
        return _fold_path_body(problem, test, alphas, l1_ratio, solver, max_iter, tol, scorer,
                               estimator)  # fmt: skip


def _fold_path_body(problem, test, alphas, l1_ratio, solver, max_iter, tol, scorer, estimator):
    fold = fold_problem(problem, test)
    path = fit_path(fold, alphas, l1_ratio, solver, max_iter, tol)
    y, w = problem.y[test], None if problem.sample_weight is None else problem.sample_weight[test]
    loss = problem.loss
    X_test = None if scorer is None else problem.X[test]  # a scorer needs the rows themselves
    deviance, score = np.empty(alphas.size), np.empty(alphas.size)
    for k in range(alphas.size):
        # eta of every row, then the test rows' (no copy of X)
        eta = loss.linear_predictor(problem.X, path.coef[k], path.intercept[k], problem.offset)
        mu = loss.link.inverse(eta[test])
        deviance[k] = loss.family.deviance(y, mu, w) / (y.size if w is None else w.sum())
        if scorer is None:
            score[k] = deviance[k]
        else:
            model = _fixed_glm(estimator, problem, path.coef[k], path.intercept[k])
            score[k] = scorer(model, X_test, y, **({} if w is None else {"sample_weight": w}))
    return path, deviance, score


def _fixed_glm(estimator, problem, coef, intercept):
    """A fitted :class:`GLMRegressor` with the given coefficients, for a scorer."""
    model = GLMRegressor(estimator.family, estimator.link, fit_intercept=problem.fit_intercept)
    model.coef_, model.intercept_ = coef.astype(problem.X.dtype), float(intercept)
    model.family_, model.link_ = problem.loss.family, problem.loss.link
    model.n_features_in_ = problem.n_features
    return model


class GLMClassifierCV(GLMClassifier):
    """Logistic regression with ``C`` chosen by cross-validation: ``LogisticRegressionCV``'s API.

    A drop-in for :class:`sklearn.linear_model.LogisticRegressionCV`
    (scikit-learn 1.9): the same parameters with the same defaults, validation
    and deprecation warnings, the same fitted attributes in both
    ``use_legacy_attributes`` layouts, the same folds, grid (``Cs`` as an int
    is ``np.logspace(-4, 4, Cs)``), scores and choice -- plus the binary
    ``link`` and ``offset`` of :class:`~skglmnn.GLMClassifier`.  Each fold
    walks the ``Cs`` in the order given, every fit warm-started from the last;
    a fold is the full problem with the held-out rows given weight zero, so no
    fold copies X (the scorer reads the test rows).  ``refit=True`` fits the
    chosen point on all the data from the mean of the folds' coefficients
    there; ``refit=False`` averages the folds' coefficients at their own best
    points, as scikit-learn does.

    Parameters
    ----------
    Cs : int or array-like, default=10
        Inverse penalty strengths, or their number on ``np.logspace(-4, 4, Cs)``.
    l1_ratios : array-like of floats in [0, 1], default=None
        Elastic-net mixing values, a grid searched with ``Cs``; None (the
        current default, with scikit-learn's ``FutureWarning`` when not set)
        means L2.
    fit_intercept, dual, tol, max_iter, class_weight, verbose, intercept_scaling, random_state
        As in :class:`~skglmnn.GLMClassifier`.
    cv : int, cross-validation generator or iterable, default=None
        None is 5-fold stratified.
    penalty : {"l1", "l2", "elasticnet"}, default="deprecated"
        Deprecated as in scikit-learn: use ``l1_ratios``.
    scoring : str or callable, default=None
        A scikit-learn scorer; None (the current default, with scikit-learn's
        ``FutureWarning`` when not set) is accuracy.
    solver : str, default="lbfgs"
        Any of ``LogisticRegression``'s names; every one reaches the same
        optimum (see :class:`~skglmnn.GLMClassifier`).
    n_jobs : int, default=None
        Folds (times l1 ratios) fitted in parallel by joblib.
    refit : bool, default=True
    use_legacy_attributes : bool, default=True
        scikit-learn 1.9's transition: True keeps the per-class dicts of
        ``coefs_paths_`` and ``scores_`` and array-valued ``C_``; False gives
        the simplified arrays and floats (a ``FutureWarning`` when not set).
    link : str or Link, default="logit"
        Binary problems: any link of :class:`~skglmnn.GLMClassifier`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    Cs_ : ndarray of shape (n_cs,)
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
        ``[None]`` when ``l1_ratios`` is None.
    coefs_paths_ : dict or ndarray
        Legacy: class -> (n_folds, n_cs[, n_l1_ratios], n_dof).  New:
        (n_folds, n_l1_ratios, n_cs, n_classes', n_dof) with n_classes' = 1 for
        binary problems.
    scores_ : dict or ndarray
        Legacy: class -> (n_folds, n_cs[, n_l1_ratios]), the same for every
        class.  New: (n_folds, n_l1_ratios, n_cs).
    C_, l1_ratio_ : ndarray or float
        The chosen values (legacy: repeated per class, shape (1,) for binary).
    n_iter_ : ndarray
        Legacy: (1, n_folds, n_cs[, n_l1_ratios]).  New: (n_folds, n_l1_ratios, n_cs).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    See Also
    --------
    GLMClassifier : one fit at a given ``C``.
    GLMRegressorCV : regularisation paths for every family.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skglmnn.cv import GLMClassifierCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = GLMClassifierCV(Cs=5, l1_ratios=(0.0,), scoring="neg_log_loss",
    ...                       use_legacy_attributes=False).fit(X, y)
    >>> clf.scores_.shape, clf.C_ in clf.Cs_
    ((5, 1, 5), True)
    """

    _parameter_constraints = {
        **{key: value for key, value in GLMClassifier._parameter_constraints.items()
           if key not in ("C", "l1_ratio", "warm_start", "sample_weight_type")},  # fmt: skip
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like", None, Hidden(StrOptions({"warn"}))],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None,
                    Hidden(StrOptions({"warn"}))],  # fmt: skip
        "refit": ["boolean"],
        "penalty": [StrOptions({"l1", "l2", "elasticnet"}), Hidden(StrOptions({"deprecated"}))],
        "use_legacy_attributes": ["boolean", Hidden(StrOptions({"warn"}))],
    }

    def __init__(
        self,
        *,
        Cs=10,
        l1_ratios="warn",
        fit_intercept=True,
        cv=None,
        dual=False,
        penalty="deprecated",
        scoring="warn",
        solver="lbfgs",
        tol=1e-4,
        max_iter=100,
        class_weight=None,
        n_jobs=None,
        verbose=0,
        refit=True,
        intercept_scaling=1.0,
        random_state=None,
        use_legacy_attributes="warn",
        link="logit",
    ):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.dual = dual
        self.penalty = penalty
        self.scoring = scoring
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.refit = refit
        self.intercept_scaling = intercept_scaling
        self.random_state = random_state
        self.use_legacy_attributes = use_legacy_attributes
        self.link = link

    warm_start = False  # GLMClassifier's option; paths warm-start themselves

    def _resolve_cv_options(self):
        """``(l1_ratios or None, penalty, scoring, legacy)``, warning in scikit-learn's words
        (the transition warnings of 1.9, which users filter on by message)."""
        l1_ratios = self.l1_ratios
        if isinstance(l1_ratios, str) and l1_ratios == "warn":
            l1_ratios = None
            warnings.warn(
                "The default value for l1_ratios will change from None to (0.0,) in version "
                "1.10. From version 1.10 onwards, only array-like with values in [0, 1] will "
                "be allowed, None will be forbidden. To avoid this warning, explicitly set a "
                "value, e.g. l1_ratios=(0,).", FutureWarning, stacklevel=3)  # fmt: skip
        if self.penalty == "deprecated":
            if self.l1_ratios is None:
                warnings.warn(
                    "'l1_ratios=None' was deprecated in version 1.8 and will trigger an error "
                    "in 1.10. Use an array-like with valuesin [0, 1] instead.",
                    FutureWarning, stacklevel=3)  # fmt: skip
            if l1_ratios is None or np.all(np.asarray(l1_ratios) == 0):
                penalty = "l2"
            elif np.all(np.asarray(l1_ratios) == 1):
                penalty = "l1"
            else:
                penalty = "elasticnet"
        else:
            penalty = self.penalty
            warnings.warn(
                "'penalty' was deprecated in version 1.8 and will be removed in 1.10. To avoid "
                "this warning, leave 'penalty' set to its default value and use 'l1_ratios' "
                "and 'Cs' instead. Use l1_ratios=(0,) instead of penalty='l2', l1_ratios=(1,) "
                "instead of penalty='l1', l1_ratios set to floats between 0 and 1 instead of "
                "penalty='elasticnet', and Cs=(np.inf,) instead of penalty=None.",
                FutureWarning, stacklevel=3)  # fmt: skip
        scoring = self.scoring
        if isinstance(scoring, str) and scoring == "warn":
            warnings.warn(
                "The default value of the parameter 'scoring' will change from None, i.e. "
                "accuracy, to 'neg_log_loss' in version 1.11. To silence this warning, "
                "explicitly set the scoring parameter: scoring='neg_log_loss' for the new, "
                "scoring='accuracy' or scoring=None for the old default.",
                FutureWarning, stacklevel=3)  # fmt: skip
            scoring = None
        legacy = self.use_legacy_attributes
        if isinstance(legacy, str) and legacy == "warn":
            name = type(self).__name__
            warnings.warn(
                f"The fitted attributes of {name} will be simplified in scikit-learn 1.10 to "
                "remove redundancy. Set`use_legacy_attributes=False` to enable the new "
                "behavior now, or set it to `True` to silence this warning during the "
                "transition period while keeping the deprecated behavior for the time being. "
                "The default value of use_legacy_attributes will change from True to False "
                f"in scikit-learn 1.10. See the docstring of {name} for more details.",
                FutureWarning, stacklevel=3)  # fmt: skip
            legacy = True
        if penalty == "elasticnet":
            values = [] if l1_ratios is None else list(l1_ratios)
            if not values or any(not isinstance(r, Real) or not 0 <= r <= 1 for r in values):
                raise ValueError(
                    "l1_ratios must be an array-like of numbers between 0 and 1; got "
                    f"(l1_ratios={l1_ratios!r})")  # fmt: skip
        elif l1_ratios is not None and self.penalty != "deprecated":
            warnings.warn(f"l1_ratios parameter is only used when penalty is 'elasticnet'. "
                          f"Got (penalty={penalty})", UserWarning, stacklevel=3)  # fmt: skip
        return l1_ratios, penalty, scoring, legacy

    def get_metadata_routing(self):
        """Where ``fit`` and ``score`` route metadata: the splitter and the scorer.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(splitter=self.cv, method_mapping=MethodMapping().add(caller="fit",
                                                                      callee="split"))
            .add(scorer=self._get_scorer(), method_mapping=MethodMapping()
                 .add(caller="score", callee="score").add(caller="fit", callee="score"))
        )  # fmt: skip

    def fit(self, X, y, sample_weight=None, offset=None, **params):
        """Cross-validate the grid of ``Cs`` (and ``l1_ratios``) and fit the chosen point.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the fits (times the class weights) and of the scores.
        offset : array-like of shape (n_samples,), default=None
            Binary problems only; not seen by a scorer (use the default accuracy).
        **params
            Passed to the splitter's ``split`` (e.g. ``groups``).

        Returns
        -------
        self : GLMClassifierCV
        """
        _raise_for_params(params, self, "fit")
        self._validate_params()
        l1_ratios, penalty, scoring, legacy = self._resolve_cv_options()
        _check_solver(self.solver, penalty, self.dual)
        data = self._prepare(X, y, sample_weight, offset)
        X, y, _, weights, offset, _, sample_weight = data
        if offset is not None and scoring is not None:
            raise ValueError("A scorer cannot see the offset: use scoring=None with an offset.")
        Cs = np.logspace(-4, 4, self.Cs) if isinstance(self.Cs, Integral) else np.asarray(
            self.Cs, dtype=float).ravel()  # fmt: skip
        if penalty == "elasticnet":
            ratios = [float(r) for r in l1_ratios]
        else:
            n_ratios = 1 if l1_ratios is None else len(l1_ratios)
            ratios = [1.0 if penalty == "l1" else 0.0] * n_ratios
        if _routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
            split_params, score_params = routed.splitter.split, routed.scorer.score
        else:
            split_params = {}
            score_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y, **split_params))
        n_classes, n_dof = len(self.classes_), X.shape[1] + int(self.fit_intercept)
        jobs = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_classifier_fold_path)(self, data, test, Cs, ratio, scoring,
                                           _check_method_params(X, score_params, test))
            for _, test in folds for ratio in ratios
        )  # fmt: skip
        n_folds, n_cs, n_l1 = len(folds), Cs.size, len(ratios)
        m = 1 if n_classes == 2 else n_classes
        # scikit-learn's internal layout: (m, folds, Cs, l1, dof), scores (folds, Cs, l1)
        paths = np.array([job[0] for job in jobs]).reshape(n_folds, n_l1, n_cs, m, n_dof)
        paths = np.moveaxis(paths, (0, 1, 3), (1, 3, 0))
        scores = np.array([job[1] for job in jobs]).reshape(n_folds, n_l1, n_cs).swapaxes(1, 2)
        n_iter = np.array([job[2] for job in jobs]).reshape(n_folds, n_l1, n_cs).swapaxes(1, 2)
        missed = sum(int(np.sum(~job[3])) for job in jobs)
        if missed:
            warnings.warn(
                f"{type(self).__name__}: {missed} of {n_folds * n_l1 * n_cs} fold fits did not "
                f"reach tol={self.tol:g} within max_iter={self.max_iter}; raise max_iter or tol.",
                ConvergenceWarning, stacklevel=2)  # fmt: skip
        self.Cs_ = Cs
        if self.refit:
            total = scores.sum(axis=0)
            best = np.unravel_index(np.argmax(total), total.shape)
            C, ratio = float(Cs[best[0]]), ratios[best[1]]
            start = paths[:, :, best[0], best[1], :].mean(axis=1)  # (m, dof)
            problem = self._problem(data, ratio, C)
            coef, intercept = (start[:, :-1], start[:, -1]) if self.fit_intercept else (
                start, np.zeros(m))  # fmt: skip
            self._solve(data, problem, problem.from_original(coef, intercept), ratio, C)
            chosen_C = C
            chosen_ratio = None if l1_ratios is None else float(l1_ratios[best[1]])
        else:
            flat = scores.reshape(n_folds, -1)
            best = np.unravel_index(np.argmax(flat, axis=1), (n_cs, n_l1))
            w = np.mean([paths[:, k, best[0][k], best[1][k], :] for k in range(n_folds)], axis=0)
            chosen_C = float(np.mean(Cs[best[0]]))
            chosen_ratio = (float(np.mean(np.asarray(ratios)[best[1]]))
                            if penalty == "elasticnet" else 0.0)  # fmt: skip
            self._set_averaged(data, w, chosen_ratio, chosen_C)
        self.coef_ = np.asarray(self.coef_, dtype=np.float64)
        self.intercept_ = np.asarray(self.intercept_, dtype=np.float64)
        self._store_cv(paths, scores, n_iter, chosen_C, chosen_ratio, l1_ratios, legacy, penalty)
        return self

    def _set_averaged(self, data, w, l1_ratio, C):
        """refit=False: the averaged fold coefficients, with the statistics at them."""
        X, y, _, _, offset, link, sample_weight = data
        coef, intercept = (w[:, :-1], w[:, -1]) if self.fit_intercept else (
            w, np.zeros(w.shape[0]))  # fmt: skip
        self.coef_, self.intercept_ = coef, np.array(intercept)
        self.link_ = link
        self.family_ = BinomialFamily() if len(self.classes_) == 2 else None
        self._penalty = (l1_ratio, C)
        self._centre = None
        self._fit_inference(X, y, sample_weight, offset)

    def _store_cv(self, paths, scores, n_iter, C, l1_ratio, l1_ratios, legacy, penalty):
        labels = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        m = paths.shape[0]
        self.l1_ratios_ = np.asarray([None] if l1_ratios is None else l1_ratios)
        if legacy:
            drop = l1_ratios is None
            self.coefs_paths_ = {c: (paths[k][:, :, 0] if drop else paths[k])
                                 for k, c in enumerate(labels)}  # fmt: skip
            self.scores_ = {c: (scores[:, :, 0] if drop else scores).copy() for c in labels}
            self.n_iter_ = (n_iter[:, :, 0] if drop else n_iter)[None]
            self.C_ = np.repeat(C, m)
            self.l1_ratio_ = np.repeat(l1_ratio, m)
            if l1_ratio is None:
                self.l1_ratio_ = np.repeat(None, m)
        else:
            self.coefs_paths_ = np.moveaxis(paths, (0, 1, 3), (3, 0, 1))
            self.scores_ = scores.swapaxes(1, 2)
            self.n_iter_ = n_iter.swapaxes(1, 2)
            self.C_ = float(C)
            if l1_ratios is None:
                self.l1_ratio_ = 1.0 if self.penalty == "l1" else 0.0
            else:
                self.l1_ratio_ = float(l1_ratio if l1_ratio is not None else 0.0)

    def _get_scorer(self):
        scoring = None if (isinstance(self.scoring, str) and self.scoring == "warn") else (
            self.scoring)  # fmt: skip
        return get_scorer(scoring or "accuracy")

    __metadata_request__score = {"sample_weight": metadata_routing.UNUSED}

    def score(self, X, y, *, sample_weight=None, **score_params):
        """The ``scoring`` of the test data (accuracy by default), as scikit-learn's.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        **score_params
            Routed to the scorer (metadata routing on).

        Returns
        -------
        score : float
        """
        _raise_for_params(score_params, self, "score")
        if sample_weight is not None:
            score_params["sample_weight"] = sample_weight
        if _routing_enabled():
            kwargs = process_routing(self, "score", **score_params).scorer.score
        else:
            kwargs = {key: value for key, value in score_params.items()
                      if key == "sample_weight" and value is not None}  # fmt: skip
        return self._get_scorer()(self, X, y, **kwargs)


def _classifier_fold_path(estimator, data, test, Cs, l1_ratio, scoring, score_params):
    """One fold's fits along ``Cs``: (coefs (n_cs, m, dof), scores (n_cs,), n_iter (n_cs,))."""
    with single_threaded_blas():  # as in _fold_path: measured 3.3 s -> 1.6 s at 100k x 100
        return _classifier_fold_body(estimator, data, test, Cs, l1_ratio, scoring, score_params)


def _classifier_fold_body(estimator, data, test, Cs, l1_ratio, scoring, score_params):
    X, y, codes, weights, offset, link, sample_weight = data
    fold_weights = (np.ones(X.shape[0], dtype=X.dtype) if weights is None
                    else weights.astype(X.dtype, copy=True))  # fmt: skip
    fold_weights[test] = 0.0
    choice = PathChoice("newton-if-it-fits" if estimator.solver.startswith("newton") else "auto")
    X_test, y_test = X[test], y[test]
    sw_test = None if sample_weight is None else np.asarray(sample_weight)[test]
    scorer = None if scoring is None else _labelled_scorer(get_scorer(scoring),
                                                           estimator.classes_)  # fmt: skip
    coefs, scores, n_iter, converged = [], [], [], []
    previous, base = None, None
    # liblinear's intercept penalty follows C: its problems are built anew, others
    # change the penalty only (no pass over X)
    rebuild = estimator.solver == "liblinear" and estimator.fit_intercept
    for C in Cs:
        if base is None or rebuild:
            problem = base = estimator._problem(data, l1_ratio, C, weights=fold_weights)
        else:
            alpha = 0.0 if np.isinf(C) else 1.0 / (C * base.weight_sum)
            problem = base.with_penalty(alpha * (1 - l1_ratio), alpha * l1_ratio)
        theta = _first_theta(problem) if previous is None else problem.from_original(*previous)
        chosen = choice(problem)
        result = SOLVERS[chosen](problem, theta, estimator.max_iter, estimator.tol, 0)
        choice.solved(problem, chosen, result)
        previous = problem.to_original(result.theta)
        c, b = previous
        if c.shape[0] > 1:  # softmax: centred over classes, as GLMClassifier reports it
            b = b - b.mean()
            if problem.alpha + problem.l1 == 0:
                c = c - c.mean(axis=0)
        w = np.column_stack([c, b]) if estimator.fit_intercept else c
        coefs.append(w)
        # scikit-learn's sag and saga count at least one epoch (as GLMClassifier does)
        n_iter.append(max(result.n_iter, 1) if estimator.solver in ("sag", "saga")
                      else result.n_iter)  # fmt: skip
        converged.append(result.converged)
        model = _fixed_classifier(estimator, c, b, link)
        with config_context(assume_finite=True):  # X was checked in fit, once
            if scorer is None:  # accuracy, with the offset where there is one
                test_offset = None if offset is None else offset[test]
                scores.append(accuracy_score(y_test, model.predict(X_test, offset=test_offset),
                                             sample_weight=sw_test))  # fmt: skip
            else:
                scores.append(scorer(model, X_test, y_test, **score_params))
    return np.array(coefs), np.array(scores, dtype=float), np.array(n_iter), np.array(converged)


def _first_theta(problem):
    """The problem's start, or zeros when a fold's training rows hold one class only
    (then, as in scikit-learn, the fits run and the test scores tell)."""
    try:
        return problem.initial_theta()
    except ValueError:
        return np.zeros(problem.n_params)


def _fixed_classifier(estimator, coef, intercept, link):
    """A fitted :class:`GLMClassifier` with the given coefficients, for scoring a fold."""
    model = GLMClassifier(link=estimator.link, fit_intercept=estimator.fit_intercept)
    model.classes_ = estimator.classes_
    model.coef_, model.intercept_ = np.atleast_2d(coef), np.atleast_1d(intercept)
    model.link_ = link
    model.family_ = BinomialFamily() if len(estimator.classes_) == 2 else None
    model.n_features_in_ = estimator.n_features_in_
    if hasattr(estimator, "feature_names_in_"):
        model.feature_names_in_ = estimator.feature_names_in_
    return model


def _labelled_scorer(scorer, classes):
    """A scorer told every class (a test fold may lack one), as scikit-learn's CV does."""
    func = getattr(scorer, "_score_func", None)
    if func is None or "labels" not in inspect.signature(func).parameters:
        return scorer
    extra = {}
    if len(classes) <= 2 and "pos_label" in inspect.signature(func).parameters:
        extra["pos_label"] = classes[-1]
    return make_scorer(func, greater_is_better=scorer._sign == 1,
                       response_method=scorer._response_method, labels=classes, **extra,
                       **getattr(scorer, "_kwargs", {}))  # fmt: skip
