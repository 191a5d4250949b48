"""The names of the video watermark, loadable without numpy: the scheme ids, the default
threshold, the smallest frame that carries a mark.

Example:
    >>> SCHEME_ID, SCHEMES, DEFAULT_THRESHOLD
    ('io.aimark.video.1', ('io.aimark.video.1',), 1e-06)
"""

from __future__ import annotations

__all__ = ["DEFAULT_STRENGTH", "DEFAULT_THRESHOLD", "MIN_SIZE", "SCHEMES", "SCHEME_ID"]

SCHEMES = ("io.aimark.video.1",)  # detected by default, newest first
SCHEME_ID = SCHEMES[0]  # embedded by default
DEFAULT_THRESHOLD = 1e-6
DEFAULT_STRENGTH = 1.0
MIN_SIZE = 128  # shortest frame side, in pixels, that carries (and is searched for) the mark
