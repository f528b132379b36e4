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
