"""Saving fitted models: pickle, and ``skops.io`` where files cross a trust boundary.

Every estimator pickles.  ``skops.io`` loads only the types it is told to
trust; a fitted skglmnn estimator holds, besides NumPy arrays and Python
built-ins, only classes of this package (the estimator, its family and link
objects, the inference state, the networks' input scaling and optimizer
state).  :func:`trusted_types` lists them, so that

.. code-block:: python

    import skops.io as sio
    from skglmnn.persistence import trusted_types

    sio.dump(model, "model.skops")
    unknown = sio.get_untrusted_types(file="model.skops")
    assert set(unknown) <= set(trusted_types())   # nothing foreign inside
    model = sio.load("model.skops", trusted=unknown)

loads a file only if everything in it that skops would call is skglmnn's.
"""

import importlib
import inspect
import pkgutil

# Modules whose classes a fitted estimator can hold (checked by the tests on every
# estimator, family, link and output type).
_MODULES = (
    "skglmnn.glm", "skglmnn.classifier", "skglmnn.cv", "skglmnn.neural", "skglmnn.families",
    "skglmnn.links", "skglmnn.activations", "skglmnn.inference", "skglmnn._domain",
    "skglmnn._solvers._scaling", "skglmnn._solvers.network",
)  # fmt: skip


def trusted_types():
    """Fully qualified names of the skglmnn classes a fitted estimator may contain.

    Pass the subset a file needs (``skops.io.get_untrusted_types``) to
    ``skops.io.load(..., trusted=...)`` after checking it against this list.

    Returns
    -------
    names : list of str
        Sorted names such as ``"skglmnn.glm.GLMRegressor"`` and
        ``"skglmnn.families.PoissonFamily"``.

    Examples
    --------
    >>> from skglmnn.persistence import trusted_types
    >>> "skglmnn.links.LogLink" in trusted_types()
    True
    """
    names = set()
    for module_name in _MODULES:
        module = importlib.import_module(module_name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module_name:
                names.add(f"{module_name}.{cls.__qualname__}")
    return sorted(names)


def _package_modules():
    """Every module of the package (for the test that ``_MODULES`` misses none in use)."""
    import skglmnn

    return [m.name for m in pkgutil.walk_packages(skglmnn.__path__, "skglmnn.")]
