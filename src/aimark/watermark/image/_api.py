"""The public verbs of the image watermark: embed with the current scheme, detect every scheme
asked for (the current one, then the earlier one where it finds nothing), and check that a
fresh mark survives a common re-encode. The schemes come from one table,
:mod:`aimark.watermark.image.registry`; nothing here knows a particular scheme.

Example:
    >>> import numpy as np
    >>> from aimark import WatermarkKey
    >>> from aimark.watermark.image import embed, detect
    >>> key = WatermarkKey.generate()
    >>> y, x = np.mgrid[0:384, 0:384]
    >>> gray = 128 + 60 * np.sin(x / 40) * np.cos(y / 55)
    >>> gray = gray + np.random.default_rng(0).normal(0, 6, (384, 384))
    >>> image = np.repeat(gray[..., None], 3, axis=2).clip(0, 255).astype(np.uint8)
    >>> marked = embed(image, key, 0x1234)
    >>> r = detect(marked, key)
    >>> r.detected, r.payload == 0x1234, r.scheme
    (True, True, 'io.aimark.image.3')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image import registry
from aimark.watermark.image._common.arrays import as_image_array, luma, luma8
from aimark.watermark.image._common.mask import box_mean
from aimark.watermark.image._common.scheme import (
    DEFAULT_STRENGTH,
    DEFAULT_THRESHOLD,
    Detection,
    ImageScheme,
    check_key,
    check_payload,
)
from aimark.watermark.image._names import SCHEME_ID, SCHEMES  # registry.ids(), built in

__all__ = [
    "MIN_SIZE",
    "SCHEMES",
    "SCHEME_ID",
    "SurvivalCheck",
    "check_survival",
    "detect",
    "detect_batch",
    "embed",
    "period_for",
]

MIN_SIZE = registry.get(SCHEME_ID).min_size


def period_for(height: int, width: int) -> float:
    """The tile period, in pixels, of the default (``io.aimark.image.3``) mark on an image of
    this size (a quarter of the short side). Public design knowledge, as everything but the key.

    Example:
        >>> period_for(1024, 1536)
        256.0
    """
    return registry.get(SCHEME_ID).period_for(height, width)


def embed(
    image: np.ndarray,
    key: WatermarkKey,
    payload: int | bytes,
    *,
    strength: float = DEFAULT_STRENGTH,
    scheme: str = SCHEME_ID,
) -> np.ndarray:
    """Return a watermarked copy of ``image`` carrying the 64-bit ``payload``.

    Args:
        image: ndarray of shape (H, W), (H, W, 3) or (H, W, 4); uint8, uint16 or float
            (float in [0, 1]). An alpha channel is left untouched. Never modified.
        key: the :class:`~aimark.WatermarkKey`.
        payload: an int in [0, 2**64) or 8 bytes.
        strength: amplitude multiplier (default 1.0: about 40 dB PSNR on photos, less on
            flat images, where the mark is kept as strong as stays invisible).
        scheme: ``"io.aimark.image.3"`` (default), ``"io.aimark.image.2"`` or
            ``"io.aimark.image.1"`` (any registered id).

    Returns:
        An array of the same shape and dtype.

    Raises:
        ValueError: the image is smaller than :data:`MIN_SIZE` on its short side, or the
            payload, array or scheme is invalid.

    Example:
        >>> import numpy as np
        >>> from aimark import WatermarkKey
        >>> a = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
        >>> embed(a, WatermarkKey.generate(), 7).shape
        (256, 256, 3)
    """
    key = check_key(key)
    value = check_payload(payload)
    if not strength > 0:
        raise ValueError("strength must be positive")
    return registry.get(scheme).embed(as_image_array(image), key, value, strength)


def detect(
    image: np.ndarray,
    key: WatermarkKey,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    schemes: Sequence[str] = SCHEMES,
) -> Detection:
    """Look for ``key``'s watermark in ``image`` (an array as for :func:`embed`).

    Every scheme in ``schemes`` is tried in order until one finds its mark; the result names
    the scheme (``Detection.scheme``). ``io.aimark.image.3`` and ``.2`` detect only with a
    payload whose CRC holds, and their p-value is calibrated (uniform for unmarked images).
    Images under :data:`MIN_SIZE` px on the short side give ``status="too-small"``. Never
    modifies ``image``.

    Example:
        >>> import numpy as np
        >>> from aimark import WatermarkKey
        >>> detect(np.full((300, 300), 128, np.uint8), WatermarkKey.generate()).detected
        False
    """
    return detect_batch([image], key, threshold=threshold, schemes=schemes)[0]


def detect_batch(
    images: Iterable[np.ndarray] | Sequence[np.ndarray],
    key: WatermarkKey | Sequence[WatermarkKey],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    schemes: Sequence[str] = SCHEMES,
) -> list[Detection]:
    """Detect in many images: one result per image and key (image-major). The key-independent
    analysis of each image (reduction, whitening, lattice) is done once and shared by all keys.

    Example:
        >>> import numpy as np
        >>> from aimark import WatermarkKey
        >>> keys = [WatermarkKey.generate(), WatermarkKey.generate()]
        >>> len(detect_batch([np.zeros((200, 200), np.uint8)], keys))
        2
    """
    keys = [key] if isinstance(key, WatermarkKey) else list(key)
    for k in keys:
        check_key(k)
    if not 0 < threshold < 1:
        raise ValueError("threshold must be in (0, 1)")
    order = [registry.get(s) for s in schemes]
    if not order:
        raise ValueError("schemes must name at least one scheme")
    out: list[Detection] = []
    for image in images:
        arr = as_image_array(image)
        analyses: dict[str, object] = {}  # per scheme, shared by all keys
        out.extend(_detect_one(arr, analyses, k, order, threshold) for k in keys)
    return out


def _detect_one(
    arr: np.ndarray,
    analyses: dict[str, object],
    key: WatermarkKey,
    order: list[ImageScheme],
    threshold: float,
) -> Detection:
    """Try the schemes in order until one detects; else the first scheme's answer."""
    result: Detection | None = None
    for scheme in order:
        if min(arr.shape[:2]) < scheme.min_size:
            r = Detection.nothing(scheme.id, threshold, "too-small")
        else:
            shared = scheme.analysis_id or scheme.id
            if shared not in analyses:
                analyses[shared] = scheme.analyse(arr)
            an = analyses[shared]
            if scheme.prescreen(an, key):
                r = scheme.detect_key(an, key, threshold)
            else:
                r = Detection.nothing(scheme.id, threshold)
        if result is None or r.detected:
            result = r
        if r.detected:
            break
    assert result is not None
    if result.status == "not-detected" and _too_flat(arr, analyses):
        # nothing found, and nothing could have been: say so rather than "not detected"
        result = result.inconclusive("too-flat")
    return result


# a picture "too flat" to tell: almost all of it (FLAT_SHARE) has a local standard deviation
# under FLAT_STD grey levels, sampled at the detectors' analysis size. A mark adds about 1-3
# levels of detail everywhere (even on flat pictures, see the embedder's floor), so such a
# picture carries none: it could not have kept one, or never had one, and the answer says so.
# Checked only when nothing was found (about 1.5 ms for a 1080p picture).
FLAT_STD = 0.5
FLAT_SHARE = 0.97


def _too_flat(arr: np.ndarray, cache: dict[str, object]) -> bool:
    if "flat" not in cache:
        f = max(1, min(arr.shape[:2]) // 256)
        y = luma(arr[::f, ::f])  # every f-th pixel: detail survives sampling, a pass does not
        mean = box_mean(y, 2)
        std = np.sqrt(np.maximum(box_mean(y * y, 2) - mean * mean, 0.0))
        cache["flat"] = float(np.mean(std < FLAT_STD)) >= FLAT_SHARE
    return bool(cache["flat"])


@dataclass(frozen=True)
class SurvivalCheck:
    """Whether a freshly embedded mark survives a re-encode (JPEG at ``quality``).

    Attributes:
        survived: the mark was detected after the re-encode, with the right payload.
        margin_db: how far the re-encoded mark is above (positive) or below (negative) the
            strength at which its payload stops decoding, in dB (estimated from the payload
            chips read at the detected alignment).
        quality: the JPEG quality of the round trip.
        p_value: the detection p-value after the round trip.
    """

    survived: bool
    margin_db: float
    quality: int
    p_value: float

    def to_dict(self) -> dict[str, object]:
        return {
            "survived": self.survived,
            "margin_db": round(self.margin_db, 2),
            "jpeg_quality": self.quality,
            "p_value": self.p_value,
        }


def check_survival(
    marked: np.ndarray,
    key: WatermarkKey,
    payload: int | bytes,
    *,
    quality: int = 75,
    scheme: str = SCHEME_ID,
) -> SurvivalCheck:
    """Re-encode a marked array as JPEG (in memory) and detect its mark (made with
    ``scheme``, by default :data:`SCHEME_ID`) again.

    Example:
        >>> import numpy as np
        >>> from aimark import WatermarkKey
        >>> key = WatermarkKey.generate()
        >>> flat = np.zeros((256, 256, 3), np.uint8)         # black: the mark can only add
        >>> check = check_survival(embed(flat, key, 1), key, 1)
        >>> check.quality, isinstance(check.margin_db, float)
        (75, True)
    """
    from aimark.media.luma import luma_jpeg_roundtrip

    value = check_payload(payload)
    probing = registry.get(scheme)
    # the mark lives in the luminance, which is all a JPEG's luma channel keeps of it: encode
    # that alone (1 byte per pixel), and decode it already reduced by the DCT (sublinear
    # memory and time) to about the size the detector analyses anyway
    decoded = luma_jpeg_roundtrip(
        luma8(as_image_array(marked)), quality, probing.analysis_min or 1 << 30
    )
    probe = probing.probe(probing.analyse(decoded), key, value)
    return SurvivalCheck(probe.payload == value, probe.margin_db, quality, probe.p_value)
