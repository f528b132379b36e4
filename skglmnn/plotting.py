"""Plots of fitted models, as scikit-learn ``Display`` objects (matplotlib optional)."""

import numpy as np


class CoefficientDisplay:
    """A forest plot: each coefficient with its confidence interval.

    Build it with :meth:`from_estimator` (any estimator of this package, from
    its ``coef_table``), or from a table directly; :meth:`plot` draws it.

    Parameters
    ----------
    table : pandas.DataFrame
        A ``coef_table()``: columns ``estimate``, ``ci_lower``, ``ci_upper``.
    level : float, default=0.95
        The intervals' confidence level (for the axis label).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    errorbar_ : matplotlib ErrorbarContainer

    Examples
    --------
    >>> import numpy as np
    >>> from skglmnn import GLMRegressor
    >>> from skglmnn.plotting import CoefficientDisplay
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = rng.poisson(np.exp(0.3 * X[:, 0]))
    >>> display = CoefficientDisplay.from_estimator(GLMRegressor("poisson").fit(X, y))
    >>> [t.get_text() for t in display.ax_.get_yticklabels()]
    ['x0', 'x1', 'x2']
    """

    def __init__(self, table, *, level=0.95):
        self.table = table
        self.level = level

    @classmethod
    def from_estimator(cls, estimator, X=None, y=None, *, level=0.95, robust=None, groups=None,
                       include_intercept=False, ax=None, **plot_kwargs):  # fmt: skip
        """Compute the table of a fitted estimator and plot it.

        Parameters
        ----------
        estimator : fitted estimator of this package
        X, y : optional
            The training data, when ``coef_table`` needs them.
        level : float, default=0.95
        robust : {None, "HC0", "HC1", "cluster"}, default=None
        groups : array-like, default=None
            Cluster labels for ``robust="cluster"``.
        include_intercept : bool, default=False
            Also show intercepts (often on another scale than the slopes).
        ax : matplotlib Axes, default=None
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : CoefficientDisplay
        """
        table = estimator.coef_table(X, y, level=level, robust=robust, groups=groups)
        if not include_intercept:
            names = table.index.get_level_values(-1)
            table = table[names != "intercept"]
        return cls(table, level=level).plot(ax=ax, **plot_kwargs)

    def plot(self, ax=None, *, sort=False, errorbar_kw=None):
        """Draw the estimates (points) and intervals (bars), a line at 0.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            A new figure's axes if None.
        sort : bool, default=False
            Order the rows by estimate.
        errorbar_kw : dict, default=None
            Passed to ``Axes.errorbar``.

        Returns
        -------
        self : CoefficientDisplay
        """
        import matplotlib.pyplot as plt

        table = self.table.dropna(subset=["ci_lower", "ci_upper"])
        if sort:
            table = table.sort_values("estimate")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.35 * len(table) + 1.2))
        positions = np.arange(len(table))[::-1]  # the first row on top
        est = table["estimate"].to_numpy()
        spread = np.vstack([est - table["ci_lower"].to_numpy(), table["ci_upper"].to_numpy() - est])
        kwargs = {"fmt": "o", "capsize": 3, **(errorbar_kw or {})}
        self.errorbar_ = ax.errorbar(est, positions, xerr=spread, **kwargs)
        ax.axvline(0.0, color="0.6", lw=0.8, zorder=0)
        labels = [" ".join(map(str, n)) if isinstance(n, tuple) else str(n) for n in table.index]
        ax.set_yticks(positions, labels)
        ax.set_xlabel(f"estimate with {100 * self.level:g}% confidence interval")
        self.ax_, self.figure_ = ax, ax.figure
        return self


def _path_arrays(estimator, l1_ratio):
    """``(alphas, coef path, cv mean, cv se, index of the ratio)`` at one l1 ratio of a CV fit."""
    ratios = np.atleast_1d(estimator.l1_ratios_)
    target = estimator.l1_ratio_ if l1_ratio is None else l1_ratio
    matches = np.flatnonzero(np.isclose(ratios, target))
    if matches.size == 0:
        raise ValueError(f"l1_ratio={l1_ratio!r} is not one of the fitted {ratios.tolist()}.")
    k = int(matches[0])

    def pick(values):
        values = np.asarray(values)
        return values if ratios.size == 1 and np.ndim(estimator.l1_ratio) == 0 else values[k]

    return (pick(estimator.alphas_), pick(estimator.coef_path_), pick(estimator.cv_mean_),
            pick(estimator.cv_se_), float(ratios[k]))  # fmt: skip


def _mark_choices(ax, estimator, l1_ratio):
    lines = []
    if l1_ratio is None or np.isclose(l1_ratio, estimator.l1_ratio_):
        lines.append(ax.axvline(estimator.alpha_min_, color="0.3", ls="--", lw=1,
                                label=f"min: {estimator.alpha_min_:.3g}"))  # fmt: skip
        lines.append(ax.axvline(estimator.alpha_1se_, color="0.3", ls=":", lw=1,
                                label=f"1se: {estimator.alpha_1se_:.3g}"))  # fmt: skip
    return lines


class PathDisplay:
    """The coefficient path of a :class:`~skglmnn.GLMRegressorCV`: coef_j against alpha.

    Both choices of the cross-validation are marked (``alpha_min_``, dashed;
    ``alpha_1se_``, dotted).  Build it with :meth:`from_estimator`.

    Parameters
    ----------
    alphas : ndarray of shape (n_alphas,)
    coef_path : ndarray of shape (n_alphas, n_features)
    feature_names : list of str

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D
        One per coefficient.

    Examples
    --------
    >>> import numpy as np
    >>> from skglmnn import GLMRegressorCV
    >>> from skglmnn.plotting import PathDisplay
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = rng.poisson(np.exp(0.5 * X[:, 0]))
    >>> cv = GLMRegressorCV("poisson", alphas=20, cv=3).fit(X, y)
    >>> len(PathDisplay.from_estimator(cv).lines_)
    3
    """

    def __init__(self, alphas, coef_path, feature_names):
        self.alphas = alphas
        self.coef_path = coef_path
        self.feature_names = feature_names

    @classmethod
    def from_estimator(cls, estimator, *, l1_ratio=None, ax=None, **plot_kwargs):
        """The path of a fitted :class:`~skglmnn.GLMRegressorCV`, plotted.

        Parameters
        ----------
        estimator : fitted GLMRegressorCV
        l1_ratio : float, default=None
            Which path, when a grid of ratios was fitted (default ``l1_ratio_``).
        ax : matplotlib Axes, default=None
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : PathDisplay
        """
        alphas, coef, _, _, _ = _path_arrays(estimator, l1_ratio)
        names = [str(n) for n in getattr(estimator, "feature_names_in_",
                                          [f"x{j}" for j in range(coef.shape[1])])]  # fmt: skip
        display = cls(alphas, coef, names).plot(ax=ax, **plot_kwargs)
        display.choice_lines_ = _mark_choices(display.ax_, estimator, l1_ratio)
        return display

    def plot(self, ax=None, *, legend=True):
        """Draw each coefficient against alpha (log scale, decreasing to the right).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        legend : bool, default=True
            Name the coefficients (up to 12).

        Returns
        -------
        self : PathDisplay
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        self.lines_ = [ax.plot(self.alphas, self.coef_path[:, j], label=name)[0]
                       for j, name in enumerate(self.feature_names)]  # fmt: skip
        ax.set_xscale("log")
        ax.invert_xaxis()  # the path runs from the null model to the least penalty
        ax.axhline(0.0, color="0.6", lw=0.8, zorder=0)
        ax.set_xlabel("alpha")
        ax.set_ylabel("coefficient")
        if legend and len(self.lines_) <= 12:
            ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class CVCurveDisplay:
    """The cross-validation curve of a :class:`~skglmnn.GLMRegressorCV` with its error bars.

    The mean test score over folds against alpha, with one standard error
    either side, and both choices marked (as ``plot(cv.glmnet)``).

    Parameters
    ----------
    alphas, mean, se : ndarray of shape (n_alphas,)
    ylabel : str

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    errorbar_ : matplotlib ErrorbarContainer
    choice_lines_ : list of matplotlib Line2D
        The vertical lines at ``alpha_min_`` and ``alpha_1se_`` (from
        :meth:`from_estimator`).

    Examples
    --------
    >>> import numpy as np
    >>> from skglmnn import GLMRegressorCV
    >>> from skglmnn.plotting import CVCurveDisplay
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = rng.poisson(np.exp(0.5 * X[:, 0]))
    >>> cv = GLMRegressorCV("poisson", alphas=20, cv=3).fit(X, y)
    >>> display = CVCurveDisplay.from_estimator(cv)
    >>> len(display.choice_lines_)
    2
    """

    def __init__(self, alphas, mean, se, *, ylabel="mean test deviance"):
        self.alphas = alphas
        self.mean = mean
        self.se = se
        self.ylabel = ylabel

    @classmethod
    def from_estimator(cls, estimator, *, l1_ratio=None, ax=None, **plot_kwargs):
        """The CV curve of a fitted :class:`~skglmnn.GLMRegressorCV`, plotted.

        Parameters
        ----------
        estimator : fitted GLMRegressorCV
        l1_ratio : float, default=None
            Which curve, when a grid of ratios was fitted (default ``l1_ratio_``).
        ax : matplotlib Axes, default=None
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : CVCurveDisplay
        """
        alphas, _, mean, se, _ = _path_arrays(estimator, l1_ratio)
        label = ("mean test deviance" if estimator.scoring is None
                 else f"mean test score ({estimator.scoring})")  # fmt: skip
        display = cls(alphas, mean, se, ylabel=label).plot(ax=ax, **plot_kwargs)
        display.choice_lines_ = _mark_choices(display.ax_, estimator, l1_ratio)
        display.ax_.legend(fontsize="small")
        return display

    def plot(self, ax=None, *, errorbar_kw=None):
        """Draw the mean score with one standard error either side, against alpha.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        errorbar_kw : dict, default=None
            Passed to ``Axes.errorbar``.

        Returns
        -------
        self : CVCurveDisplay
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        kwargs = {"fmt": "o", "ms": 3, "capsize": 2, "color": "tab:red", "ecolor": "0.6",
                  **(errorbar_kw or {})}  # fmt: skip
        self.errorbar_ = ax.errorbar(self.alphas, self.mean, yerr=self.se, **kwargs)
        ax.set_xscale("log")
        ax.invert_xaxis()
        ax.set_xlabel("alpha")
        ax.set_ylabel(self.ylabel)
        self.choice_lines_ = []
        self.ax_, self.figure_ = ax, ax.figure
        return self
