"""Look-up of families and links by name, e.g. ``"logit"`` or ``"tweedie(1.5)"``."""

import re

_SPEC = re.compile(r"^\s*([a-z_]+)\s*(?:\(\s*([^()]*?)\s*\))?\s*$")


def lookup(spec, registry, base, kind):
    """Return an instance for ``spec``: an instance of ``base`` or a registry key.

    Parameters
    ----------
    spec : str or instance of ``base``
        ``"name"`` or ``"name(parameter)"``; an instance is returned as is.
    registry : dict
        Lower-case name -> class (or factory) taking the parameter, if any.
    base : type
        The class every valid instance derives from.
    kind : str
        ``"family"`` or ``"link"``, for error messages.
    """
    if isinstance(spec, base):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"{kind} must be a string or a {base.__name__} instance, got {spec!r}.")
    match = _SPEC.match(spec.lower())
    valid = ", ".join(sorted(registry))
    if match is None or match.group(1) not in registry:
        raise ValueError(f"Unknown {kind} {spec!r}; valid {kind} names are: {valid}.")
    name, parameter = match.groups()
    factory = registry[name]
    if parameter is None:
        return factory()
    try:
        value = float(parameter)
    except ValueError:
        raise ValueError(
            f"The parameter of {kind} {spec!r} must be a number, got {parameter!r}."
        ) from None
    try:
        return factory(value)
    except TypeError:
        raise ValueError(f"The {kind} {name!r} takes no parameter, got {spec!r}.") from None
