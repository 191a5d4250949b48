"""The keyed, robust audio watermark ``io.aimark.audio.1``.

``embed(samples, sample_rate, key, payload)`` hides a 64-bit payload (with a CRC) in the
log-energy ratios of neighbouring bands between 312 and 3812 Hz, repeated every 4.6 s;
``detect(samples, sample_rate, key)`` finds it in any window of :data:`MIN_SECONDS` or more,
after lossy codecs, resampling, downmixing, volume changes and small speed changes. The
streaming :class:`AudioEmbedder` and :class:`AudioDetector` work block by block with bounded
memory (files of any length); :mod:`aimark.marking.audio` runs them on files through ffmpeg.
See docs/watermark-audio.md for the design and the measured robustness.
"""

import typing as _typing

from aimark import _lazy_names
from aimark.watermark.audio._names import DEFAULT_THRESHOLD, MIN_SECONDS, SCHEME_ID, SCHEMES

if _typing.TYPE_CHECKING:
    from aimark.watermark.audio.detector import AudioDetector, detect
    from aimark.watermark.audio.embedder import AudioEmbedder, embed

# numpy and scipy load on first use (PEP 562): naming the scheme loads neither
_LAZY = {
    "AudioDetector": "aimark.watermark.audio.detector",
    "AudioEmbedder": "aimark.watermark.audio.embedder",
    "detect": "aimark.watermark.audio.detector",
    "embed": "aimark.watermark.audio.embedder",
}

__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_SECONDS",
    "SCHEMES",
    "SCHEME_ID",
    "AudioDetector",
    "AudioEmbedder",
    "detect",
    "embed",
]

__getattr__, __dir__ = _lazy_names(__name__, globals(), _LAZY, __all__)
