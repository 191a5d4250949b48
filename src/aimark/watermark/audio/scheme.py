"""The interface of an audio watermark scheme, so that :mod:`.registry` can list schemes
the way the image watermark does: one object with the streaming embedder and detector.

Example:
    >>> from aimark.watermark.audio.registry import get
    >>> get("io.aimark.audio.1").min_seconds
    4.8
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aimark.keys import WatermarkKey
from aimark.watermark.audio._names import DEFAULT_THRESHOLD, MIN_SECONDS, SCHEME_ID
from aimark.watermark.audio.detector import AudioDetector
from aimark.watermark.audio.embedder import AudioEmbedder

__all__ = ["SCHEME", "AudioScheme"]


@dataclass(frozen=True)
class AudioScheme:
    """An audio watermark scheme: its id, the shortest window that carries a whole mark, and
    factories for its streaming embedder and detector."""

    id: str
    min_seconds: float

    def embedder(
        self,
        key: WatermarkKey,
        payload: int,
        sample_rate: int,
        channels: int,
        strength: float = 1.0,
    ) -> AudioEmbedder:
        """A streaming embedder (see :class:`AudioEmbedder`)."""
        return AudioEmbedder(key, payload, sample_rate, channels, strength)

    def detector(
        self,
        keys: WatermarkKey | Sequence[WatermarkKey],
        sample_rate: int,
        channels: int | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> AudioDetector:
        """A streaming detector (see :class:`AudioDetector`)."""
        return AudioDetector(keys, sample_rate, channels, threshold=threshold)


SCHEME = AudioScheme(SCHEME_ID, MIN_SECONDS)
