"""What naming the image watermark takes without loading it (numpy, the schemes): the ids of
the built-in schemes in priority order and the default threshold and strength. Command-line
parsers and the verbs' defaults read these; :mod:`.registry` holds the schemes themselves and
lists the same ids (tests/test_watermark_registry.py checks that they agree).

Example:
    >>> SCHEMES
    ('io.aimark.image.3', 'io.aimark.image.2', 'io.aimark.image.1')
"""

from __future__ import annotations

__all__ = ["DEFAULT_STRENGTH", "DEFAULT_THRESHOLD", "SCHEMES", "SCHEME_ID"]

# detected by default, newest first
SCHEMES = ("io.aimark.image.3", "io.aimark.image.2", "io.aimark.image.1")
SCHEME_ID = SCHEMES[0]  # embedded by default
DEFAULT_THRESHOLD = 1e-6
DEFAULT_STRENGTH = 1.0
