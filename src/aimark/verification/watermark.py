"""The watermark layer of a verification: your keys' invisible watermark, and the public
watermarks of other generators when asked, read from one decode of the pixels.

Example:
    >>> from aimark import WatermarkKey
    >>> read_watermark(None, (), public=False).checked     # nothing asked: nothing decoded
    False
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aimark.errors import InputError, MissingExtraError
from aimark.keys import WatermarkKey, content_id_for
from aimark.report import WatermarkResult
from aimark.verification.pixels import Pixels
from aimark.watermark.image import DEFAULT_THRESHOLD, SCHEMES

if TYPE_CHECKING:
    from aimark.watermark.public import PublicDetection

__all__ = ["best_of", "read_watermark"]


def read_watermark(
    pixels: Pixels | None,
    keys: Sequence[WatermarkKey],
    *,
    public: bool,
    threshold: float = DEFAULT_THRESHOLD,
    schemes: Sequence[str] = SCHEMES,
) -> WatermarkResult:
    """Look for the watermark of every key in ``keys`` and, with ``public``, for the public
    watermarks, in ``pixels`` (which the caller asked for ``luma``, and ``full`` with
    ``public``). The best detection (a hit first, then the lowest p-value) is reported."""
    if pixels is None or (not keys and not public):
        return WatermarkResult()
    ids = tuple(k.key_id for k in keys)
    try:
        array = pixels.get()
    except (InputError, MissingExtraError) as exc:
        return WatermarkResult(checked=False, keys=ids, status=f"undecodable: {exc}")
    # the detectors (numpy, the schemes) load here, when there are pixels to look at
    found_public: tuple[PublicDetection, ...] = ()
    if public and array.ndim == 3 and array.dtype.name == "uint8":
        from aimark.watermark.public import detect_public

        found_public = tuple(detect_public(array))
    if not keys:
        return WatermarkResult(checked=True, status="no keys given", public=found_public)
    from aimark.watermark.image import detect_batch

    found = detect_batch([array], list(keys), threshold=threshold, schemes=schemes)
    result, best = best_of(found, ids)
    region = best.region if result.detected else None
    return dataclasses.replace(result, region=region, public=found_public)


def best_of(found: Sequence[Any], ids: Sequence[str]) -> tuple[WatermarkResult, Any]:
    """The layer's answer from one detection per key (``found[i]`` with key ``ids[i]``, an
    image :class:`~aimark.watermark.image.Detection` or a
    :class:`~aimark.watermark.timed.TimedDetection`), and the detection it comes from: the
    best one, a hit first, then the lowest p-value. Where in the picture or the clip it was
    found is the caller's to add from that detection."""
    best_i = min(range(len(found)), key=lambda i: (not found[i].detected, found[i].p_value))
    best = found[best_i]
    hit = bool(best.detected)
    payload = best.payload if hit else None
    result = WatermarkResult(
        checked=True,
        keys=tuple(ids),
        detected=hit,
        key_id=ids[best_i] if hit else None,
        scheme=best.scheme,
        payload=None if payload is None else f"{payload:016x}",
        content_id=None if payload is None else content_id_for(payload),
        p_value=best.p_value,
        confidence=best.confidence if hit else None,
        threshold=best.threshold,
        score=best.score,
        status=best.status,
        reason=best.reason,
    )
    return result, best
