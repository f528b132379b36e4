"""Activation functions, named by the link they invert.

A network node computes ``mu = f(L^T w + b)``.  When the activation ``f`` is
invertible it is the inverse ``h = g^-1`` of a link ``g``, and the node is a
GLM with link ``g`` on the previous layer's outputs.  This table makes that
literal: an invertible activation *is* a link, stored once, and an output
layer may use exactly these.  Non-invertible activations (``relu``) are
listed too, flagged as such: they may serve hidden layers only.
"""

from dataclasses import dataclass

from .links import get_link


@dataclass(frozen=True)
class Activation:
    """An activation function and, if it has one, the link it inverts.

    Parameters
    ----------
    name : str
        The activation's name, e.g. ``"logistic"``.
    link : str or None
        Registry key of the link whose inverse it is; ``None`` if the activation
        is not invertible.
    real_line : bool, default=True
        Whether it is finite for every real input, as a hidden layer's inputs
        are (``reciprocal`` and ``inverse_sqrt`` are not: they serve output
        layers, whose links keep the linear predictor in their domain).
    """

    name: str
    link: str | None
    real_line: bool = True

    @property
    def invertible(self):
        """Whether the activation is a link's inverse (usable on an output layer)."""
        return self.link is not None

    def as_link(self):
        """The :class:`~skglmnn.links.Link` this activation inverts.

        Returns
        -------
        link : Link

        Raises
        ------
        ValueError
            If the activation is not invertible.
        """
        if self.link is None:
            raise ValueError(
                f"Activation {self.name!r} is not invertible, so it is no GLM link; "
                f"it can serve hidden layers only. Invertible ones: {', '.join(INVERTIBLE)}."
            )
        return get_link(self.link)


ACTIVATIONS = {
    a.name: a
    for a in (
        Activation("identity", "identity"),
        Activation("exp", "log"),
        Activation("logistic", "logit"),
        Activation("normal_cdf", "probit"),
        Activation("gumbel_min_cdf", "cloglog"),
        Activation("gumbel_cdf", "loglog"),
        Activation("cauchy_cdf", "cauchit"),
        Activation("reciprocal", "inverse", real_line=False),
        Activation("inverse_sqrt", "inverse_squared", real_line=False),
        Activation("square", "sqrt"),
        Activation("softplus", "softplus"),
        Activation("tanh", "atanh"),
        Activation("relu", None),
    )
}
"""Registry: activation name -> :class:`Activation`."""

INVERTIBLE = tuple(name for name, a in ACTIVATIONS.items() if a.invertible)
"""Names of the activations that are inverse links."""

ALIASES = {"sigmoid": "logistic", "linear": "identity"}
"""Other common names for the same activations."""


def get_activation(name):
    """Return the :class:`Activation` called ``name`` (or one of its aliases).

    Parameters
    ----------
    name : str
        A key of :data:`ACTIVATIONS` or :data:`ALIASES`.

    Returns
    -------
    activation : Activation

    Examples
    --------
    >>> from skglmnn.activations import get_activation
    >>> get_activation("sigmoid").as_link()
    LogitLink()
    """
    key = ALIASES.get(name, name)
    if key not in ACTIVATIONS:
        valid = ", ".join(sorted([*ACTIVATIONS, *ALIASES]))
        raise ValueError(f"Unknown activation {name!r}; valid names are: {valid}.")
    return ACTIVATIONS[key]
