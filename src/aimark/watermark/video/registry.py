"""The table of video watermark schemes, in priority order (one today): each id with its
frame-level embedder and detector classes. Adding a scheme is one package and one line in
:data:`BUILT_IN`.

Example:
    >>> from aimark.watermark.video import registry
    >>> registry.ids()
    ('io.aimark.video.1',)
    >>> registry.get("io.aimark.video.1").min_size
    128
"""

from __future__ import annotations

from dataclasses import dataclass

from aimark.watermark.video._names import MIN_SIZE, SCHEME_ID
from aimark.watermark.video.detect import VideoDetector
from aimark.watermark.video.embed import VideoEmbedder

__all__ = ["BUILT_IN", "VideoScheme", "get", "ids"]


@dataclass(frozen=True)
class VideoScheme:
    """One video watermark scheme: its id, smallest frame side, embedder and detector."""

    id: str
    min_size: int
    embedder: type[VideoEmbedder]
    detector: type[VideoDetector]


BUILT_IN: tuple[VideoScheme, ...] = (
    VideoScheme(SCHEME_ID, MIN_SIZE, VideoEmbedder, VideoDetector),
)
_TABLE = {s.id: s for s in BUILT_IN}


def ids() -> tuple[str, ...]:
    """The registered scheme ids, in priority order."""
    return tuple(_TABLE)


def get(scheme_id: str) -> VideoScheme:
    """The scheme ``scheme_id`` (ValueError if there is none)."""
    try:
        return _TABLE[scheme_id]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown video watermark scheme {scheme_id!r} (known: {', '.join(_TABLE)})"
        ) from None
