"""Resource limits applied before any decoding (hostile inputs, decompression bombs).

Example:
    >>> from aimark.media import Limits
    >>> Limits(max_pixels=50_000_000).max_pixels
    50000000
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    """Ceilings checked before work is done on an input.

    Attributes:
        max_bytes: largest input accepted, in bytes (default 256 MiB).
        max_pixels: largest image accepted, width × height of the largest frame
            (default 100 million, i.e. 10,000 × 10,000). Larger images are refused as
            possible decompression bombs before their pixels are decoded.
    """

    max_bytes: int = 256 * 1024 * 1024
    max_pixels: int = 100_000_000

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or self.max_pixels <= 0:
            raise ValueError("limits must be positive")
