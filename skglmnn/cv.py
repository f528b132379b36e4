"""Choosing the penalty by cross-validation along a regularisation path.

:class:`GLMRegressorCV` fits glmnet-style paths (``skglmnn._path``) for any
family and link: the path on all the data fixes the grid (and may stop early
when the deviance explained saturates), each fold refits that grid from its
own null model with warm starts, and the chosen point is refitted on all the
data from its path solution.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions

from ._loss import GLMLoss
from ._path import alpha_grid, alpha_max, fit_path, fold_problem, null_theta, warn_unconverged
from ._solvers import GLMProblem
from ._validation import check_fit_inputs
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
