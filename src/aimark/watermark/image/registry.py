"""The table of image watermark schemes the public verbs read, in priority order: ``detect``
tries them in this order by default, ``embed`` uses the first. A scheme is one package under
``_schemes/`` exposing ``SCHEME`` (an :class:`ImageScheme`); adding one is that package and
one line in :data:`BUILT_IN`.

Example:
    >>> from aimark.watermark.image import registry
    >>> registry.ids()
    ('io.aimark.image.3', 'io.aimark.image.2', 'io.aimark.image.1')
    >>> registry.get("io.aimark.image.1").min_size
    128
"""

from __future__ import annotations

from aimark.watermark.image._common.scheme import Detection, ImageScheme, Probe
from aimark.watermark.image._schemes import v1, v2, v3

__all__ = ["BUILT_IN", "Detection", "ImageScheme", "Probe", "get", "ids", "register", "unregister"]

BUILT_IN: tuple[ImageScheme, ...] = (
    v3.SCHEME,  # io.aimark.image.3: embedded by default
    v2.SCHEME,  # io.aimark.image.2 (aimark 0.2): still detected
    v1.SCHEME,  # io.aimark.image.1 (aimark 0.1): still detected
)

_TABLE: dict[str, ImageScheme] = {s.id: s for s in BUILT_IN}


def ids() -> tuple[str, ...]:
    """The registered scheme ids, in priority order."""
    return tuple(_TABLE)


def get(scheme_id: str) -> ImageScheme:
    """The registered scheme ``scheme_id`` (ValueError if there is none)."""
    try:
        return _TABLE[scheme_id]
    except (KeyError, TypeError):
        known = ", ".join(_TABLE)
        raise ValueError(f"unknown watermark scheme {scheme_id!r} (known: {known})") from None


def register(scheme: ImageScheme, *, first: bool = False) -> None:
    """Add ``scheme`` to the table, last (or ``first``: highest priority). Its id must be
    new. Public ``SCHEMES``, ``SCHEME_ID`` and the defaults of the verbs stay the built-in
    ones: a registered scheme is used where its id is asked for.
    """
    if not isinstance(scheme, ImageScheme):
        raise TypeError(f"expected an ImageScheme, not {type(scheme).__name__}")
    if scheme.id in _TABLE:
        raise ValueError(f"the watermark scheme {scheme.id!r} is already registered")
    rest = list(_TABLE.values())
    _TABLE.clear()
    for s in [scheme, *rest] if first else [*rest, scheme]:
        _TABLE[s.id] = s


def unregister(scheme_id: str) -> ImageScheme:
    """Remove and return a registered scheme that is not built in."""
    scheme = get(scheme_id)
    if scheme in BUILT_IN:
        raise ValueError(f"{scheme_id!r} is a built-in scheme")
    del _TABLE[scheme_id]
    return scheme
