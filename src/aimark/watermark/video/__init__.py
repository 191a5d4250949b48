"""The keyed video watermark ``io.aimark.video.1``: the image watermark's keyed tile in every
frame's luma, read from the frames' evidence accumulated over time.

:class:`VideoEmbedder` marks luma planes (static pattern, per-frame perceptual mask);
:class:`VideoDetector` accumulates sampled frames and decodes the 64-bit payload per key,
with the time range where it was found. File-level embedding and detection through ffmpeg
are in :mod:`aimark.marking.video`; docs/watermark-video.md has the design and the measured
robustness.

Example:
    >>> import numpy as np
    >>> from aimark.keys import WatermarkKey
    >>> from aimark.watermark.video import VideoDetector, VideoEmbedder
    >>> key = WatermarkKey(b"video example key, not secret!!!")
    >>> emb = VideoEmbedder(key, 0x1234, 320, 256)
    >>> rng = np.random.default_rng(0)
    >>> scene = rng.integers(40, 200, (256, 400)).astype(np.uint8)
    >>> det = VideoDetector([key], 320, 256)
    >>> for i in range(8):  # a pan over the scene
    ...     det.add(emb.mark(scene[:, 8 * i : 8 * i + 320]), i / 8)
    >>> r = det.results()[0]
    >>> r.detected, hex(r.payload)
    (True, '0x1234')
"""

from aimark.watermark.video._names import (
    DEFAULT_STRENGTH,
    DEFAULT_THRESHOLD,
    MIN_SIZE,
    SCHEME_ID,
    SCHEMES,
)
from aimark.watermark.video.detect import VideoDetector
from aimark.watermark.video.embed import VideoEmbedder

__all__ = [
    "DEFAULT_STRENGTH",
    "DEFAULT_THRESHOLD",
    "MIN_SIZE",
    "SCHEMES",
    "SCHEME_ID",
    "VideoDetector",
    "VideoEmbedder",
]
