"""Generalized linear model estimators with a scikit-learn API."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._dask import (
    DaskData,
    DaskGLMProblem,
    any_dask,
    check_features,
    deviance_score,
    is_dask,
    map_rows,
    summarise,
)
from ._fit import fit_problem
from ._loss import GLMLoss
from ._solvers import GLMProblem
from ._validation import check_fit_inputs, check_predict_inputs, check_sample_weight
from .families import Family, get_family
from .inference import InferenceMixin, OutputGLM, feature_names
from .links import Link, get_link


def resolve_family_link(family, link):
    """``(Family, Link)`` objects from the estimator parameters (``link="auto"`` resolved)."""
    family = get_family(family)
    link = family.default_link() if isinstance(link, str) and link == "auto" else get_link(link)
    return family, link


class GLMRegressor(InferenceMixin, RegressorMixin, BaseEstimator):
    """Generalized linear model for any exponential family and link.

    The mean of ``y`` is ``mu = h(X @ coef_ + intercept_ + offset)``, where
    ``h`` is the inverse of the link ``g``; the coefficients minimise the mean
    deviance plus an L2 penalty,

    .. math::

        \\frac{1}{2 \\sum_i w_i} \\sum_i w_i\\, d(y_i, \\mu_i)
        + \\alpha \\left( r \\lVert \\mathrm{coef} \\rVert_1
        + \\frac{1 - r}{2} \\lVert \\mathrm{coef} \\rVert_2^2 \\right),

    with ``r = l1_ratio``: the objective of scikit-learn's ``PoissonRegressor``
    and friends for ``r = 0``, of ``Lasso`` / ``ElasticNet`` for the normal
    family (the intercept is not penalised).  With ``alpha=0`` this is maximum likelihood:
    the estimates of R's ``glm()`` and statsmodels' ``GLM``.

    Parameters
    ----------
    family : str or Family, default="normal"
        The distribution of y: ``"normal"``, ``"binomial"``, ``"poisson"``,
        ``"gamma"``, ``"inverse_gaussian"``, ``"tweedie(p)"`` (p = 0 or p >= 1),
        ``"negative_binomial(alpha)"``, or a :class:`~skglmnn.families.Family`.
    link : str or Link, default="auto"
        ``"identity"``, ``"log"``, ``"logit"``, ``"probit"``, ``"cloglog"``,
        ``"loglog"``, ``"cauchit"``, ``"inverse"``, ``"inverse_squared"``,
        ``"sqrt"``, ``"power(p)"``, ``"negative_binomial(alpha)"`` or a
        :class:`~skglmnn.links.Link`.  ``"auto"`` takes the family's canonical
        link where it maps every real eta to a valid mean (normal: identity,
        binomial: logit, poisson: log) and ``log`` otherwise.
    alpha : float, default=0.0
        Strength of the penalty on ``coef_`` (not on the intercept).
    l1_ratio : float, default=0.0
        Elastic-net mixing in [0, 1]: 0 is L2 (ridge), 1 is L1 (lasso), which sets
        coefficients exactly to zero.
    fit_intercept : bool, default=True
        Whether to fit an intercept.
    solver : {"auto", "newton", "lbfgs", "cd"}, default="auto"
        Every solver works on standardised columns (centred too for dense X
        with an intercept) as a change of variables inside the kernels -- X is
        never copied -- so a calendar year beside the intercept or an income in
        cents does not slow it down or stop it early, and unpenalised fits of
        ``X * d + c`` give the transformed coefficients of fitting ``X``.
        ``"newton"``: Newton steps with Fisher's Hessian (IRLS), a Cholesky
        solve and a line search that keeps the mean inside the family's domain;
        returns the minimum-norm solution for rank-deficient X.
        ``"lbfgs"``: scipy's L-BFGS-B, one sweep over X per iteration, finished
        by quasi-Newton steps whose line search tolerates rounding when scipy
        stops on a flat objective before ``tol`` is met.
        ``"cd"``: proximal Newton with coordinate descent (as glmnet), the
        solver for ``l1_ratio > 0``, which ``"auto"`` then picks.
        ``"auto"``: otherwise newton while a Hessian is cheap
        (``n_samples * n_features**2 <= 1e7``) or for links that can leave the
        family's domain (e.g. identity with poisson); else L-BFGS while it is
        cheaper than Newton would be, finished by Newton when it is slow
        (correlated columns): ``solver_ == "lbfgs-newton"``.
    max_iter : int, default=100
        Maximum number of solver iterations.
    tol : float, default=1e-4
        Stop when the largest entry of the objective's gradient with respect
        to the coefficients of the standardised columns (under L1: the largest
        violation of the optimality conditions) is at most ``tol``: a rule that
        does not depend on the units of X.  After every fit this measure is
        computed again at the returned coefficients; if it exceeds ``tol`` a
        ``ConvergenceWarning`` gives its value.  A solver that can no longer
        lower the objective in floating point stops at once (and warns if that
        is above ``tol``) rather than running to ``max_iter``.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_`` when refitting.
    verbose : int, default=0
        Print the solver's progress if positive.
    sample_weight_type : {"frequency", "variance"}, default="frequency"
        How the inference (``coef_table``, ``dispersion_``, ``df_resid_``,
        ``loglik_``) reads ``sample_weight``; the fit is the same either way.
        ``"frequency"``: weight k counts as k copies of the row (statsmodels'
        ``freq_weights``), ``n = sum(w)``.  ``"variance"``: prior weights, as
        R's ``glm(weights=)`` and statsmodels' ``var_weights``: sample i has the
        dispersion ``phi / w_i`` and counts once, so ``n`` is the number of
        non-zero weights, ``df_resid_ = n - k``, the dispersion is
        ``X^2 / (n - k)``, and the HC sandwich's meat has ``w_i^2``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients, in X's float dtype.
    intercept_ : float
        Intercept (0 if ``fit_intercept=False``).
    family_ : Family
        The family object used.
    link_ : Link
        The link object used.
    solver_ : str
        The solver used (``"auto"`` resolved: ``"newton"``, ``"lbfgs"``,
        ``"lbfgs-newton"`` or ``"cd"``).
    n_iter_ : int
        Number of solver iterations.
    objective_ : float
        Final value of the penalised objective.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Feature names, when ``X`` has string column names (pandas).

    See Also
    --------
    sklearn.linear_model.PoissonRegressor : Poisson/log GLM in scikit-learn.
    sklearn.linear_model.TweedieRegressor : Tweedie GLMs in scikit-learn.
    statsmodels.genmod.generalized_linear_model.GLM : GLMs with inference.

    References
    ----------
    .. [1] J. A. Nelder and R. W. M. Wedderburn, "Generalized Linear Models",
       Journal of the Royal Statistical Society A 135(3), 370-384, 1972.
    .. [2] P. McCullagh and J. A. Nelder, "Generalized Linear Models", 2nd ed.,
       Chapman & Hall, 1989.

    Examples
    --------
    >>> import numpy as np
    >>> from skglmnn import GLMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 2))
    >>> y = rng.poisson(np.exp(0.5 + X @ [0.3, -0.2]))
    >>> model = GLMRegressor(family="poisson").fit(X, y)
    >>> model.coef_.round(1)
    array([ 0.3, -0.2])
    >>> model.link_
    LogLink()
    """

    _parameter_constraints = {
        "family": [str, Family],
        "link": [str, Link],
        "alpha": [Interval(Real, 0.0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0.0, 1.0, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "newton", "lbfgs", "cd"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "sample_weight_type": [StrOptions({"frequency", "variance"})],
    }

    def __init__(
        self,
        family="normal",
        link="auto",
        *,
        alpha=0.0,
        l1_ratio=0.0,
        fit_intercept=True,
        solver="auto",
        max_iter=100,
        tol=1e-4,
        warm_start=False,
        verbose=0,
        sample_weight_type="frequency",
    ):
        # fit never changes these: it resolves them into family_, link_, solver_.
        self.family = family
        self.link = link
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose
        self.sample_weight_type = sample_weight_type

    def fit(self, X, y, sample_weight=None, offset=None):
        """Fit the model by penalised maximum likelihood.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 stays float32, CSR/CSC sparse is used as is.
        y : array-like of shape (n_samples,)
            Targets, inside the family's domain (e.g. y >= 0 for poisson).
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights: weight k is the same as k copies of the row.
            For the binomial family with proportions y, the numbers of trials.
        offset : array-like of shape (n_samples,), default=None
            Added to the linear predictor with coefficient 1 (e.g. log exposure
            with a log link).

        Returns
        -------
        self : GLMRegressor
            The fitted estimator.
        """
        self._validate_params()
        family, link = resolve_family_link(self.family, self.link)
        l1 = self.alpha * self.l1_ratio
        if any_dask(X, y, sample_weight, offset):  # the rows stay on the workers
            data = DaskData(X, y, sample_weight, offset)
            check_features(self, X, reset=True)
            summary = summarise(data.persist(), family)
            problem = DaskGLMProblem(GLMLoss(family, link), data, summary, self.alpha - l1,
                                     self.fit_intercept, l1=l1)  # fmt: skip
            return self._solve(problem, self._initial_theta(problem))
        X, y, sample_weight, offset = check_fit_inputs(self, X, y, sample_weight, offset, family)
        problem = GLMProblem(GLMLoss(family, link), X, y, sample_weight, offset, self.alpha - l1,
                             self.fit_intercept, l1=l1)  # fmt: skip
        return self._solve(problem, self._initial_theta(problem))

    def _solve(self, problem, theta0):
        """Fit ``problem`` (validated inputs) from ``theta0``; set every fitted attribute."""
        X, y, sample_weight, offset = problem.X, problem.y, problem.sample_weight, problem.offset
        family, link = problem.loss.family, problem.loss.link
        result, solver = fit_problem(self, problem, self.solver, theta0, self.max_iter, self.tol,
                                     self.verbose)  # fmt: skip
        coef, intercept = problem.to_original(result.theta)
        self.coef_ = coef[0].astype(X.dtype)
        self.intercept_ = float(intercept[0])
        self.family_, self.link_, self.solver_ = family, link, solver
        self._centre = problem.scaling.shift  # column means (dense X, intercept): for export
        self.n_iter_ = result.n_iter
        self.objective_ = result.objective
        # the deviance from the solver's last evaluation saves a pass over X
        self._fit_inference(X, y, sample_weight, offset,
                            deviance=2.0 * problem.weight_sum * result.loss,
                            rows=problem if getattr(problem, "distributed", False) else None)
        return self

    def _output_glm(self, X, y, sample_weight, offset):
        """The fitted GLM as :mod:`skglmnn.inference` sees it (validated inputs)."""
        return OutputGLM(
            X, y if is_dask(y) else np.asarray(y, dtype=np.float64), sample_weight, offset,
            self.coef_,
            self.intercept_, self.fit_intercept, self.family_, self.link_,
            self.alpha * (1 - self.l1_ratio), self.alpha * self.l1_ratio,
            feature_names(self, X.shape[1]),
        )  # fmt: skip

    def _dask_rows(self, X, y, sample_weight, offset):
        """The training rows as dask data, checked (``coef_table(X, y)`` on dask input)."""
        check_features(self, X, reset=False)
        data = DaskData(X, y, sample_weight, offset).persist()
        return data, summarise(data, self.family_)

    def _initial_theta(self, problem):
        if self.warm_start and hasattr(self, "coef_") and self.coef_.shape == (problem.n_features,):
            return problem.from_original(self.coef_, self.intercept_)
        return problem.initial_theta()

    def linear_predictor(self, X, offset=None):
        """The linear predictor ``eta = X @ coef_ + intercept_ (+ offset)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        eta : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        if any_dask(X, offset):  # a lazy dask array, computed block by block
            return map_rows(self, "linear_predictor", X, offset)
        X, offset = check_predict_inputs(self, X, offset)
        return GLMLoss(self.family_, self.link_).linear_predictor(
            X, self.coef_, self.intercept_, offset
        )

    def predict(self, X, offset=None):
        """Predicted means ``mu = h(eta)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default=None
            As in ``fit``.

        Returns
        -------
        mu : ndarray of shape (n_samples,)
        """
        if any_dask(X, offset):
            check_is_fitted(self)
            return map_rows(self, "predict", X, offset)
        eta = self.linear_predictor(X, offset)
        return self.link_.inverse(eta)

    def score(self, X, y, sample_weight=None, offset=None):
        """D^2, the fraction of deviance explained: ``1 - D(y, mu) / D(y, mean(y))``.

        With the normal family this is R^2.  The null model predicts the
        weighted mean of y for every sample, as scikit-learn's GLMs do.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        if any_dask(X, y, sample_weight, offset):  # a lazy 0-d dask array
            check_is_fitted(self)
            return deviance_score(self, X, y, sample_weight, offset)
        mu = self.predict(X, offset)
        y = np.asarray(y, dtype=np.float64).ravel()
        if y.shape != mu.shape:
            raise ValueError(f"y has shape {y.shape}, but X has {mu.shape[0]} samples.")
        self.family_.check_y(y)
        w = check_sample_weight(sample_weight, np.asarray(mu)[:, None])
        null = np.full_like(y, np.average(y, weights=w))
        deviance = self.family_.deviance(y, mu, w)
        null_deviance = self.family_.deviance(y, null, w)
        return 1.0 - deviance / null_deviance

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        try:
            family = get_family(self.family)
        except (TypeError, ValueError):
            return tags
        tags.target_tags.positive_only = family.y_interval.low >= 0
        return tags
