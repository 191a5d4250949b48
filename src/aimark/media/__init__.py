"""Media handling: sniffing formats from bytes, size limits, reading sources, container edits.

Only this package opens files and decodes images.
"""

from aimark.media.limits import Limits
from aimark.media.sniff import ImageFormat, sniff

__all__ = ["ImageFormat", "Limits", "sniff"]
