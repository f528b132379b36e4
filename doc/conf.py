"""Sphinx configuration of the skglmnn documentation.

Build with ``sphinx-build -W -b html doc doc/_build/html`` (warnings are errors).
The gallery (``doc/examples/plot_*.py``) runs every example at build time.
"""

import warnings

import skglmnn

project = "skglmnn"
author = "skglmnn developers"
copyright = "2026, skglmnn developers"
release = skglmnn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
templates_path = ["_templates"]
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# no intersphinx: the build must work offline, and "See Also" names stay plain text
html_theme = "pydata_sphinx_theme"
html_title = "skglmnn"
html_theme_options = {"navigation_with_keys": False}
exclude_patterns = ["_build", "examples/README.rst"]
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
}
# examples fit small models that may stop early; their output stays readable
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently using agg")


def _skip_generated_request_methods(app, what, name, obj, skip, options):
    """Leave out the ``set_*_request`` methods scikit-learn generates for metadata
    routing: their docstrings point into scikit-learn's own documentation."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_generated_request_methods)
