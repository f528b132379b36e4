"""Sphinx configuration of the skglmnn documentation."""

import skglmnn

project = "skglmnn"
author = "skglmnn developers"
release = skglmnn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
]
autosummary_generate = True
numpydoc_show_class_members = False
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
}
html_theme = "pydata_sphinx_theme"
exclude_patterns = ["_build"]
