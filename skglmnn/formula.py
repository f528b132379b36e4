"""Model formulas, as R and statsmodels write them, in front of any estimator.

``FormulaTransformer("x1 + C(region) + np.log(income) + x1:x3")`` is a
scikit-learn transformer built on formulaic: ``fit`` learns the encoding from
the data (the levels of each categorical, the first level as reference, the
state of stateful transforms such as ``center``), ``transform`` returns the
design as a pandas DataFrame whose columns are the terms' names, so that the
estimator after it in a ``Pipeline`` reports them in ``coef_table()`` and
``summary()``.  :func:`fit_formula` does the whole ``y ~ ...`` in one call.

.. code-block:: python

    from skglmnn import GLMRegressor
    from skglmnn.formula import fit_formula

    model = fit_formula("claims ~ age + C(region) + np.log(income)", data,
                        GLMRegressor("poisson"), offset=np.log(data["years"]))
    model[-1].coef_table()      # rows "age", "C(region)[T.north]", ..., "intercept"

The formula's intercept is the estimator's (``fit_intercept``); ``- 1`` or
``0 +`` turns both off and codes every level of a leading categorical.
Missing values raise an error (formulaic would drop their rows silently), as
do levels unseen at fit time unless ``unseen="reference"``.
"""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

INTERCEPT = "Intercept"


def _as_pandas(data):
    """A pandas DataFrame of ``data`` (pandas, polars or anything with columns)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    columns = getattr(data, "columns", None)
    if columns is None:
        raise TypeError(
            f"A formula names columns: pass a DataFrame (pandas or polars), got "
            f"{type(data).__name__}."
        )
    return pd.DataFrame({str(c): np.asarray(data[c].to_numpy()) for c in columns})


def _split(formula):
    """``(lhs or None, rhs)`` of ``"y ~ rhs"`` or ``"rhs"``."""
    if formula.count("~") > 1:
        raise ValueError(f"A formula has at most one '~'; got {formula!r}.")
    if "~" not in formula:
        return None, formula.strip()
    lhs, rhs = (part.strip() for part in formula.split("~"))
    return (lhs or None), rhs


class FormulaTransformer(TransformerMixin, BaseEstimator):
    """The right-hand side of a model formula as a scikit-learn transformer.

    Parameters
    ----------
    formula : str
        formulaic/patsy syntax, e.g. ``"x1 + C(g) + np.log(x2) + x1:x3"``; a
        ``"y ~ "`` in front is ignored here (see :func:`fit_formula`).
    unseen : {"error", "reference"}, default="error"
        A categorical level absent from the training data: raise a
        ``ValueError`` naming it, or code it as the reference level (all its
        dummies 0).

    Attributes
    ----------
    model_spec_ : formulaic.ModelSpec
        The encoding learned by ``fit``.
    intercept_in_formula_ : bool
        Whether the formula has an intercept (not a column of the output).
    feature_names_in_ : ndarray of str
        Columns of the data seen in ``fit``.
    n_features_in_ : int

    Examples
    --------
    >>> import pandas as pd
    >>> from skglmnn.formula import FormulaTransformer
    >>> data = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "g": ["a", "b", "a", "c"]})
    >>> FormulaTransformer("x + C(g)").fit(data).get_feature_names_out().tolist()
    ['x', 'C(g)[T.b]', 'C(g)[T.c]']
    """

    _parameter_constraints = {"formula": [str], "unseen": [str]}

    def __init__(self, formula, *, unseen="error"):
        self.formula = formula
        self.unseen = unseen

    def fit(self, X, y=None):
        """Learn the encoding (levels, references, stateful transforms) from ``X``.

        Parameters
        ----------
        X : DataFrame (pandas or polars)
        y : ignored

        Returns
        -------
        self : FormulaTransformer
        """
        from formulaic import model_matrix

        if self.unseen not in ("error", "reference"):
            raise ValueError(f"unseen must be 'error' or 'reference'; got {self.unseen!r}.")
        data = _as_pandas(X)
        matrix = model_matrix(_split(self.formula)[1], data, na_action="raise")
        self.model_spec_ = matrix.model_spec
        self.feature_names_in_ = np.asarray(data.columns, dtype=object)
        self.n_features_in_ = len(data.columns)
        self.intercept_in_formula_ = INTERCEPT in matrix.columns
        return self

    def transform(self, X):
        """The design matrix, without the intercept column, named by term.

        Parameters
        ----------
        X : DataFrame (pandas or polars)

        Returns
        -------
        design : pandas.DataFrame of float
        """
        from formulaic.errors import DataMismatchWarning

        check_is_fitted(self, "model_spec_")
        data = _as_pandas(X)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # "ignore" keeps every row (formulaic's "raise" trips over unseen levels); NaN
            # left in the design is reported below
            matrix = self.model_spec_.get_model_matrix(data, na_action="ignore")
        library_internal = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
        for warning in caught:
            if issubclass(warning.category, DataMismatchWarning):
                if self.unseen == "error":
                    raise ValueError(
                        f"Levels not seen in fit: {warning.message} Pass unseen='reference' "
                        "to code them as the reference level."
                    )
            elif not issubclass(warning.category, library_internal):
                warnings.warn(warning.message, warning.category, stacklevel=2)
        design = matrix.drop(columns=[INTERCEPT], errors="ignore").astype(np.float64)
        missing = design.columns[design.isna().any().to_numpy()]
        if len(missing):
            raise ValueError(f"Missing values (NaN) in the terms {list(missing)}.")
        return design

    def get_feature_names_out(self, input_features=None):
        """The terms' names: the columns of :meth:`transform`.

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "model_spec_")
        names = [str(n) for n in self.model_spec_.column_names if n != INTERCEPT]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # DataFrames only: a formula names columns
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


def fit_formula(formula, data, estimator, **fit_params):
    """Fit ``estimator`` to ``y ~ terms`` evaluated on ``data``.

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + C(g) + ..."``; the left side may be an expression
        (``"np.log(y) ~ ..."``).
    data : DataFrame (pandas or polars)
    estimator : estimator of this package (or any scikit-learn estimator)
        Cloned; its ``fit_intercept`` is set to the formula's intercept.
    **fit_params
        Passed to the estimator's ``fit`` (``sample_weight``, ``offset``).

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        ``[("formula", FormulaTransformer), ("model", fitted estimator)]``;
        ``pipeline.predict(new_data)`` encodes new data the same way.
    """
    from formulaic import Formula
    from sklearn.pipeline import Pipeline

    lhs, rhs = _split(formula)
    if lhs is None:
        raise ValueError(f"fit_formula needs a response: 'y ~ ...'; got {formula!r}.")
    frame = _as_pandas(data)
    y = Formula(lhs).get_model_matrix(frame, na_action="raise")
    y = y.drop(columns=[INTERCEPT], errors="ignore")
    if y.shape[1] != 1:
        raise ValueError(f"The response {lhs!r} must be one column; it gives {y.shape[1]}.")
    transformer = FormulaTransformer(rhs).fit(frame)
    model = clone(estimator)
    if "fit_intercept" in model.get_params():
        model.set_params(fit_intercept=transformer.intercept_in_formula_)
    pipeline = Pipeline([("formula", transformer), ("model", model)])
    model.fit(transformer.transform(frame), y.iloc[:, 0].to_numpy(), **fit_params)
    return pipeline
