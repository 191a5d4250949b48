"""Small JPEG thumbnails of images held in bytes, for the HTML scan report.

The image is opened through :func:`aimark.media.image_io.open_image`, which sniffs the format
and refuses images over the pixel limit before any pixel is decoded; JPEGs are decoded in
draft mode (the decoder's DCT scaling, 1/2 to 1/8), so a 1-megapixel JPEG costs a few
milliseconds. Only the first frame of an animation or a multi-page TIFF is used. The EXIF
orientation is applied and transparency is flattened onto white.

Example:
    >>> import io
    >>> from PIL import Image
    >>> from aimark.scanner.thumbnail import make_thumbnail
    >>> buf = io.BytesIO(); Image.new("RGB", (1024, 768), "teal").save(buf, "JPEG")
    >>> thumb = make_thumbnail(buf.getvalue(), size=96)
    >>> thumb[:3] == b"\\xff\\xd8\\xff"  # a JPEG
    True
    >>> Image.open(io.BytesIO(thumb)).size
    (96, 72)
    >>> make_thumbnail(b"GIF89a") is None  # cannot be decoded: None, never an exception
    True
"""

from __future__ import annotations

from typing import cast

from PIL import Image

from aimark.media.image_io import encode, open_image
from aimark.media.limits import Limits
from aimark.media.sniff import ImageFormat

__all__ = ["make_thumbnail"]

_ORIENTATION = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_QUALITY = 70


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(_ORIENTATION, 1)
    except Exception:  # a malformed EXIF block only loses the rotation
        return 1
    return value if isinstance(value, int) else 1


def _to_rgb(im: Image.Image) -> Image.Image:
    """RGB for any Pillow mode: alpha flattened onto white, high bit depths stretched."""
    if im.mode == "RGB":
        return im
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        im = im.convert("F")
        lo, hi = cast(tuple[float, float], im.getextrema())
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        im = im.point(lambda v: (v - lo) * scale).convert("L")
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im.convert("RGB")


def make_thumbnail(data: bytes, *, size: int = 128, limits: Limits | None = None) -> bytes | None:
    """A small JPEG of the image in ``data``: RGB, quality 70, longest side at most ``size``.

    Returns ``None`` when ``data`` is not an image aimark can decode (unsupported, corrupt,
    truncated, or over ``limits``: the byte and pixel ceilings are checked before decoding).
    Never raises for bad input; ``size`` must be positive.
    """
    if size <= 0:
        raise ValueError("size must be positive")
    limits = limits or Limits()
    if not data or len(data) > limits.max_bytes:
        return None
    try:
        with open_image(bytes(data), limits) as im:
            orientation = _orientation(im)
            im.draft("RGB", (size, size))  # JPEG only: decode at 1/2 .. 1/8 scale
            im.thumbnail((size, size))  # in place: the full-size pixels are not copied
            small = _to_rgb(im)
            if orientation in _TRANSPOSE:
                small = small.transpose(_TRANSPOSE[orientation])
            return encode(small, ImageFormat.JPEG, quality=_QUALITY)
    except Exception:  # hostile or broken input of any kind: no thumbnail
        return None
