"""The public verbs of the image watermark: embed with the current scheme, detect every scheme
asked for (the current one, then the earlier one where it finds nothing), and check that a
fresh mark survives a common re-encode.

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
    (True, True, 'io.aimark.image.2')
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from aimark.keys import WatermarkKey
from aimark.watermark.image import _detect as v1
from aimark.watermark.image._arrays import as_image_array, luma8
from aimark.watermark.image._detect import DEFAULT_THRESHOLD, Detection
from aimark.watermark.image._detect2 import _ANALYSIS_MIN as ANALYSIS_MIN2
from aimark.watermark.image._detect2 import Analysis2, analyse2, detect_and_probe2, detect_key2
from aimark.watermark.image._embed import _check_key, _check_payload
from aimark.watermark.image._embed import embed as embed1
from aimark.watermark.image._embed2 import MIN_SIZE2, embed2, period2_for
from aimark.watermark.image._layout2 import SCHEME_ID
from aimark.watermark.image._pattern import SCHEME_ID as SCHEME_ID_V1
from aimark.watermark.image._pattern import layout_for
from aimark.watermark.image._sync import template_score

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

MIN_SIZE = MIN_SIZE2
SCHEMES = (SCHEME_ID, SCHEME_ID_V1)  # detected by default, newest first


def period_for(height: int, width: int) -> float:
    """The tile period, in pixels, of the ``io.aimark.image.2`` mark on an image of this size
    (a quarter of the short side). Public design knowledge, as everything but the key.

    Example:
        >>> period_for(1024, 1536)
        256.0
    """
    return period2_for(height, width)


def _check_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise ValueError(f"unknown watermark scheme {scheme!r} (known: {', '.join(SCHEMES)})")
    return scheme


def embed(
    image: np.ndarray,
    key: WatermarkKey,
    payload: int | bytes,
    *,
    strength: float = 1.0,
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
        scheme: ``"io.aimark.image.2"`` (default) or ``"io.aimark.image.1"``.

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
    key = _check_key(key)
    value = _check_payload(payload)
    if not strength > 0:
        raise ValueError("strength must be positive")
    if _check_scheme(scheme) == SCHEME_ID_V1:
        return embed1(image, key, value, strength=strength)
    return embed2(as_image_array(image), key, value, strength=strength)


def detect(
    image: np.ndarray,
    key: WatermarkKey,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    schemes: Sequence[str] = SCHEMES,
) -> Detection:
    """Look for ``key``'s watermark in ``image`` (an array as for :func:`embed`).

    Every scheme in ``schemes`` is tried in order until one finds its mark; the result names
    the scheme (``Detection.scheme``). ``io.aimark.image.2`` detects only with a payload whose
    CRC holds, and its p-value is calibrated (uniform for unmarked images). Images under
    :data:`MIN_SIZE` px on the short side give ``status="too-small"``. Never modifies
    ``image``.

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
        _check_key(k)
    if not 0 < threshold < 1:
        raise ValueError("threshold must be in (0, 1)")
    order = [_check_scheme(s) for s in schemes]
    if not order:
        raise ValueError("schemes must name at least one scheme")
    out: list[Detection] = []
    for image in images:
        arr = as_image_array(image)
        if min(arr.shape[:2]) < MIN_SIZE:
            out.extend(_too_small(threshold, order[0]) for _ in keys)
            continue
        an2: Analysis2 | None = None
        an1 = None
        for k in keys:
            result: Detection | None = None
            for scheme in order:
                if scheme == SCHEME_ID:
                    an2 = an2 or analyse2(arr)
                    r = _detection2(an2, k, threshold)
                else:
                    if an1 is None:
                        y = v1._analysis_luma(arr)
                        an1 = (y, v1._wiener_residual(y), None)
                    if _v1_template_score(an1, k) < V1_PRESCREEN:
                        r = Detection(False, 1.0, None, 0.0, 0.0, threshold, "not-detected", scheme)
                    else:
                        if an1[2] is None:
                            an1 = (an1[0], an1[1], v1._whiten(an1[0]))
                        r = v1._detect_key(an1[0], an1[2], k, threshold)
                if result is None or r.detected:
                    result = r
                if r.detected:
                    break
            assert result is not None
            out.append(result)
    return out


# io.aimark.image.1 pre-screen: the best whitened spectral power at the key's template peaks.
# Measured by benchmarks/bench_v1_prescreen.py on the benchmark corpus (37 photos; 148
# unmarked image/key pairs; 2,087 v1-marked and attacked images, 1,704 of which the full v1
# search finds): unmarked images score 47 in the median and 50 at the 90th percentile; found
# marks score 66 at the 5th percentile, and 5 of the 1,704 score under 50. Below the bar the
# full v1 search (about 40 ms at 1080p) is skipped; 14 % of unmarked images pass it.
V1_PRESCREEN = 50.0


def _v1_template_score(an1: tuple, key: WatermarkKey) -> float:
    y, residual, _ = an1
    periods = (v1._MIN_PERIOD, min(v1._MAX_PERIOD, min(y.shape) / 1.5))
    return template_score(residual, layout_for(key).harmonics, periods=periods)


def _too_small(threshold: float, scheme: str) -> Detection:
    return Detection(False, 1.0, None, 0.0, 0.0, threshold, "too-small", scheme)


def _detection2(an: Analysis2, key: WatermarkKey, threshold: float) -> Detection:
    p, payload, confidence, z = detect_key2(an, key)
    detected = payload is not None and p <= threshold
    if detected:
        status = "detected"
    elif p <= threshold:
        status = "unreadable"  # the key's sync is there, the payload did not decode
    else:
        status = "not-detected"
    if not detected:
        payload, confidence = None, 0.0
    return Detection(detected, p, payload, confidence, z, threshold, status, SCHEME_ID)


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
    marked: np.ndarray, key: WatermarkKey, payload: int | bytes, *, quality: int = 75
) -> SurvivalCheck:
    """Re-encode a marked array as JPEG (in memory) and detect its mark again.

    Example:
        >>> import numpy as np
        >>> from aimark import WatermarkKey
        >>> key = WatermarkKey.generate()
        >>> flat = np.zeros((256, 256, 3), np.uint8)         # black: the mark can only add
        >>> check = check_survival(embed(flat, key, 1), key, 1)
        >>> check.quality, isinstance(check.margin_db, float)
        (75, True)
    """
    from PIL import Image

    value = _check_payload(payload)
    arr = as_image_array(marked)
    h, w = arr.shape[:2]
    buf = io.BytesIO()
    # the mark lives in the luminance, which is all a JPEG's luma channel keeps of it: encode
    # that alone (1 byte per pixel), and decode it already reduced by the DCT (sublinear
    # memory and time) to about the size the detector analyses anyway
    Image.fromarray(luma8(arr), "L").save(buf, "JPEG", quality=quality)
    im = Image.open(io.BytesIO(buf.getvalue()))
    scale = _draft_scale(min(h, w))
    if scale > 1:
        im.draft("L", (w // scale, h // scale))
    decoded = np.asarray(im)
    an = analyse2(decoded)
    (p, found, _, _), snr = detect_and_probe2(an, key, value)
    margin = 20 * math.log10(max(snr, 1e-6) / _DECODE_SNR)
    return SurvivalCheck(found == value, margin, quality, p)


def _draft_scale(short_side: int) -> int:
    """The JPEG decoder's reduction (1, 2, 4 or 8) that keeps at least the detector's own
    analysis size."""
    f = max(1, short_side // ANALYSIS_MIN2)
    return max(k for k in (1, 2, 4, 8) if k <= f)


# amplitude SNR per coded bit at which about 97 % of payloads decode (AWGN, measured)
_DECODE_SNR = 1.0
