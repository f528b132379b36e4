"""Input checks that run before any compiled code sees the data.

Everything a kernel would silently turn into nan (NaN or inf in X, y, weights
or offset; y outside the family's domain; mismatched lengths) is reported here
with a message that names the problem.
"""

import numpy as np
from sklearn.utils.validation import _check_sample_weight, check_array, validate_data

FLOAT_DTYPES = (np.float64, np.float32)
SPARSE_FORMATS = ("csr", "csc")


def check_fit_inputs(estimator, X, y, sample_weight, offset, family):
    """Validate ``X, y, sample_weight, offset`` for ``fit``; sets ``n_features_in_``.

    Returns arrays in X's float dtype (float32 stays float32); ``sample_weight``
    and ``offset`` stay ``None`` when not given.
    """
    X, y = validate_data(
        estimator, X, y, accept_sparse=SPARSE_FORMATS, dtype=FLOAT_DTYPES, y_numeric=True
    )
    y = np.ascontiguousarray(y, dtype=X.dtype)
    family.check_y(y)
    return X, y, check_sample_weight(sample_weight, X), check_offset(offset, X)


def check_predict_inputs(estimator, X, offset):
    """Validate ``X`` (same features as in ``fit``) and ``offset`` for prediction."""
    X = validate_data(estimator, X, accept_sparse=SPARSE_FORMATS, dtype=FLOAT_DTYPES, reset=False)
    return X, check_offset(offset, X)


def check_sample_weight(sample_weight, X):
    """Non-negative, finite weights of shape (n_samples,) in X's dtype, or None."""
    if sample_weight is None:
        return None
    return np.ascontiguousarray(
        _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    )


def check_offset(offset, X):
    """A finite offset of shape (n_samples,) in X's dtype, or None."""
    if offset is None:
        return None
    offset = check_array(offset, ensure_2d=False, dtype=X.dtype, input_name="offset")
    if offset.ndim != 1 or offset.shape[0] != X.shape[0]:
        raise ValueError(
            f"offset must have shape ({X.shape[0]},), one value per sample; got shape "
            f"{offset.shape}."
        )
    return np.ascontiguousarray(offset)
