"""What naming the audio watermark takes without loading it (numpy, scipy): the scheme ids,
the default threshold and the shortest window that carries a whole mark.

Example:
    >>> SCHEME_ID, SCHEMES, DEFAULT_THRESHOLD
    ('io.aimark.audio.1', ('io.aimark.audio.1',), 1e-06)
"""

from __future__ import annotations

__all__ = ["DEFAULT_THRESHOLD", "MIN_SECONDS", "SCHEMES", "SCHEME_ID"]

SCHEME_ID = "io.aimark.audio.1"
SCHEMES = (SCHEME_ID,)
DEFAULT_THRESHOLD = 1e-6
# one period (72 tiles of 64 ms = 4.608 s) at a 2 % slower speed, plus a frame: any window
# this long holds a whole (cyclically shifted) copy of the mark
MIN_SECONDS = 4.8
