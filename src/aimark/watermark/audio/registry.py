"""The table of audio watermark schemes, in priority order: the first embeds, detection
tries them in order. Adding a scheme is one module and one line in :data:`BUILT_IN`.

Example:
    >>> from aimark.watermark.audio import registry
    >>> registry.ids()
    ('io.aimark.audio.1',)
    >>> registry.get("io.aimark.audio.1").min_seconds
    4.8
"""

from __future__ import annotations

from aimark.watermark.audio.scheme import SCHEME, AudioScheme

__all__ = ["BUILT_IN", "AudioScheme", "get", "ids"]

BUILT_IN: tuple[AudioScheme, ...] = (SCHEME,)  # io.aimark.audio.1: embedded by default

_TABLE: dict[str, AudioScheme] = {s.id: s for s in BUILT_IN}


def ids() -> tuple[str, ...]:
    """The registered scheme ids, in priority order."""
    return tuple(_TABLE)


def get(scheme_id: str) -> AudioScheme:
    """The registered scheme ``scheme_id`` (ValueError if there is none)."""
    try:
        return _TABLE[scheme_id]
    except (KeyError, TypeError):
        known = ", ".join(_TABLE)
        raise ValueError(f"unknown watermark scheme {scheme_id!r} (known: {known})") from None
