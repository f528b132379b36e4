"""skglmnn: a neural network is a stack of generalized linear models.

A node computes ``h(L^T w + b)``: a GLM with link ``h^-1`` on the previous
layer's outputs.  This package makes GLMs of every common family and link
available with scikit-learn's API, fast, with the same building blocks
(families, links, compiled kernels) that its networks are made of.
"""

from . import activations, families, links
from .activations import ACTIVATIONS, get_activation
from .classifier import GLMClassifier
from .cv import GLMClassifierCV, GLMRegressorCV
from .families import FAMILIES, Family, get_family
from .glm import GLMRegressor
from .links import LINKS, Link, get_link
from .neural import NeuralGLM, NeuralGLMClassifier

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "FAMILIES",
    "LINKS",
    "Family",
    "GLMClassifier",
    "GLMClassifierCV",
    "GLMRegressor",
    "GLMRegressorCV",
    "Link",
    "NeuralGLM",
    "NeuralGLMClassifier",
    "activations",
    "families",
    "get_activation",
    "get_family",
    "get_link",
    "links",
    "__version__",
]
