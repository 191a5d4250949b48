"""Open images through Pillow behind size guards; encode images to bytes.

Only this module talks to Pillow's decoders and encoders.

Example:
    >>> import io
    >>> from PIL import Image
    >>> from aimark.media.image_io import probe
    >>> buf = io.BytesIO(); Image.new("RGB", (4, 3)).save(buf, "PNG")
    >>> probe(buf.getvalue()).size
    (4, 3)
"""

from __future__ import annotations

import io
import re
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PIL import Image, JpegImagePlugin, UnidentifiedImageError

from aimark.errors import (
    CorruptInputError,
    ImageTooLargeError,
    MissingExtraError,
    UnsupportedFormatError,
)
from aimark.media.limits import Limits
from aimark.media.sniff import ImageFormat, describe_unknown, sniff

__all__ = ["ImageInfo", "encode", "heif_available", "open_image", "probe"]

_heif_registered: bool | None = None


def heif_available() -> bool:
    """True if HEIC can be read and written (the optional ``pillow-heif`` is installed)."""
    global _heif_registered
    if _heif_registered is None:
        try:
            from pillow_heif import register_heif_opener
        except ImportError:
            _heif_registered = False
        else:
            register_heif_opener()
            _heif_registered = True
    return _heif_registered


def _require_format_support(fmt: ImageFormat) -> None:
    if fmt is ImageFormat.HEIC and not heif_available():
        raise MissingExtraError(
            "HEIC support needs the optional pillow-heif: pip install 'aimark[heif]'"
        )


@dataclass(frozen=True)
class ImageInfo:
    """What the header of an image says: format, size, mode, frame count and raw metadata."""

    format: ImageFormat
    size: tuple[int, int]
    mode: str
    frames: int
    info: dict[str, Any]
    exif: bytes | None


def sniff_image(data: bytes) -> ImageFormat:
    """Return the format of ``data`` or raise :class:`UnsupportedFormatError`."""
    fmt = sniff(data)
    if fmt is None:
        raise UnsupportedFormatError(
            f"not a supported image (looks like {describe_unknown(data)}); supported: "
            + ", ".join(f.value.upper() for f in ImageFormat)
        )
    return fmt


#: What Pillow's parsers and decoders raise on malformed data (its AVIF decoder, for one,
#: raises RuntimeError on corrupt colour planes). Inside aimark these become CorruptInputError.
DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    RuntimeError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
    struct.error,
)


def decode_error_text(exc: BaseException) -> str:
    """What a decoder's error says, as people read it: Pillow's ``broken PNG file (chunk
    b'IDAT')`` becomes ``broken PNG file (chunk IDAT)``; an empty message names the error."""
    text = re.sub(r"\bb'([^'\\]{1,8})'", r"\1", str(exc)).strip()
    return text or type(exc).__name__


_pillow_limit_lock = threading.Lock()


def _let_pillow_open(max_pixels: int) -> None:
    """Make sure Pillow's own bomb check never refuses what ``max_pixels`` allows.

    Pillow warns above ``Image.MAX_IMAGE_PIXELS`` (89.5 M by default) and refuses above twice
    that, when it reads a header. aimark ignores the warning (its own limit is checked right
    after, before any pixel is decoded); for a limit above Pillow's refusal, Pillow's setting
    (process-wide) is raised to match, never lowered."""
    with _pillow_limit_lock:
        current = Image.MAX_IMAGE_PIXELS
        if current is not None and 2 * current < max_pixels:
            Image.MAX_IMAGE_PIXELS = -(-max_pixels // 2)


def _over_limit(pixels: str, limits: Limits) -> ImageTooLargeError:
    return ImageTooLargeError(
        f"{pixels} pixels is over the limit of {limits.max_pixels:,} (possible decompression "
        "bomb); raise it with Limits(max_pixels=...) or --max-pixels if the image is wanted"
    )


@contextmanager
def open_image(data: bytes, limits: Limits | None = None) -> Iterator[Image.Image]:
    """Open ``data`` with Pillow, refusing images over ``limits.max_pixels`` before decoding.

    Pixels are not decoded until the caller asks for them. The limit is aimark's alone:
    Pillow's own decompression-bomb threshold never refuses an image ``limits`` allows.

    Raises:
        UnsupportedFormatError, CorruptInputError, ImageTooLargeError, MissingExtraError.
    """
    limits = limits or Limits()
    fmt = sniff_image(data)
    _require_format_support(fmt)
    _let_pillow_open(limits.max_pixels)
    try:
        with warnings.catch_warnings():
            # Pillow parses some metadata while opening (TIFF tags) and warns about what it
            # skips ("Corrupt EXIF data"); as below, that must not reach the caller's stderr.
            # Its bomb warning is aimark's limit's job, checked below.
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=None)
    except Image.DecompressionBombError:  # over twice Pillow's limit, so over ours too
        raise _over_limit(f"more than {2 * (Image.MAX_IMAGE_PIXELS or 0):,}", limits) from None
    except UnidentifiedImageError:
        raise CorruptInputError(f"{fmt.value.upper()} data that cannot be parsed") from None
    except DECODE_ERRORS as exc:
        raise CorruptInputError(
            f"malformed {fmt.value.upper()}: {decode_error_text(exc)}"
        ) from None
    try:
        width, height = im.size
        if width <= 0 or height <= 0:
            raise CorruptInputError(f"{fmt.value.upper()} with an empty size {im.size}")
        if width * height > limits.max_pixels:
            raise _over_limit(f"{width}×{height} = {width * height:,}", limits)
        with warnings.catch_warnings():
            # Pillow warns about what it tolerates (corrupt EXIF, ...); the report says what
            # matters, and a library must not print on its callers' stderr
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # GIF frames
            yield im
    finally:
        im.close()


def _read_exif(im: Image.Image) -> bytes | None:
    raw = im.info.get("exif")
    if isinstance(raw, (bytes, bytearray)) and raw:
        return bytes(raw)
    return None


def probe(data: bytes, limits: Limits | None = None) -> ImageInfo:
    """Read an image's header and metadata without decoding its pixels."""
    with open_image(data, limits) as im:
        fmt = sniff_image(data)
        try:
            frames = int(getattr(im, "n_frames", 1))
            info: dict[Any, Any] = dict(im.info)
            if fmt is ImageFormat.TIFF:
                info["tiff_tags"] = {int(k): v for k, v in im.tag_v2.items()}  # type: ignore[attr-defined]
            exif = _read_exif(im)
        except DECODE_ERRORS as exc:
            raise CorruptInputError(
                f"malformed {fmt.value.upper()}: {decode_error_text(exc)}"
            ) from None
        return ImageInfo(
            format=fmt, size=im.size, mode=im.mode, frames=frames, info=info, exif=exif
        )


def _check_total_pixels(im: Image.Image, limits: Limits) -> int:
    """Return the frame count; refuse when all frames together exceed the pixel limit."""
    frames = int(getattr(im, "n_frames", 1))
    total = frames * im.size[0] * im.size[1]
    if total > limits.max_pixels:
        raise ImageTooLargeError(
            f"{frames} pages/frames of {im.size[0]}×{im.size[1]} = {total:,} pixels to decode, "
            f"over the limit of {limits.max_pixels:,}"
        )
    return frames


def decode_check(data: bytes, limits: Limits | None = None) -> None:
    """Decode every pixel once; raise :class:`CorruptInputError` if the data is truncated."""
    limits = limits or Limits()
    with open_image(data, limits) as im:
        frames = _check_total_pixels(im, limits)
        try:
            for i in range(frames):
                im.seek(i)
                im.load()
        except DECODE_ERRORS as exc:
            raise CorruptInputError(
                f"image data cannot be decoded: {decode_error_text(exc)}"
            ) from None


# Formats whose Pillow encoder writes XMP / EXIF itself (PNG ignores ``xmp=``: see containers).
_ENCODER_XMP = {ImageFormat.JPEG, ImageFormat.WEBP, ImageFormat.AVIF, ImageFormat.HEIC}
_ENCODER_EXIF = _ENCODER_XMP | {ImageFormat.PNG}


def encode(
    image: Image.Image,
    fmt: ImageFormat,
    *,
    xmp: bytes | None = None,
    exif: bytes | None = None,
    quality: int | None = None,
    params: dict[str, Any] | None = None,
) -> bytes:
    """Encode a PIL image to ``fmt`` with XMP/EXIF written by the encoder where supported.

    JPEG, WebP, AVIF and HEIC are lossy (``quality`` defaults to 95, lossless WebP is not
    chosen); PNG, TIFF and GIF are lossless for the modes they support.
    """
    _require_format_support(fmt)
    extra = dict(params or {})
    params = {}
    im = image
    if fmt is ImageFormat.JPEG:
        if im.mode not in ("L", "RGB", "CMYK"):
            im = im.convert("RGB")
        params["quality"] = quality or 95
    elif fmt in (ImageFormat.WEBP, ImageFormat.AVIF, ImageFormat.HEIC):
        params["quality"] = quality or 95
        if im.mode not in ("RGB", "RGBA", "L"):
            im = im.convert("RGBA" if "A" in im.mode else "RGB")
    if xmp is not None and fmt in _ENCODER_XMP:
        params["xmp"] = xmp
    if exif is not None and fmt in _ENCODER_EXIF:
        params["exif"] = exif
    if "qtables" in extra:
        params.pop("quality", None)
    params.update(extra)
    buf = io.BytesIO()
    try:
        im.save(buf, fmt.pillow_name, **params)
    except (OSError, ValueError, KeyError) as exc:
        raise UnsupportedFormatError(
            f"cannot encode a {im.mode} image as {fmt.value}: {exc}"
        ) from None
    return buf.getvalue()


_TIFF_XMP = 700
_TIFF_SOFTWARE = 305


def rewrite_tiff_metadata(
    data: bytes, *, xmp: bytes | None, software: str | None, limits: Limits | None = None
) -> bytes:
    """Re-save a TIFF losslessly (same compression, every page) with XMP (tag 700) and
    ``Software`` (tag 305) set; other tags Pillow knows are kept.

    Pixels are decoded and re-encoded, so this costs a full decode; the output decodes to the
    same pixels unless the TIFF used JPEG compression.
    """
    limits = limits or Limits()
    with open_image(data, limits) as im:
        count = _check_total_pixels(im, limits)
        try:
            frames = []
            for i in range(count):
                im.seek(i)
                im.load()
                frames.append(im.copy())
            compression = im.info.get("compression", "raw")
            tags = dict(im.tag_v2)  # type: ignore[attr-defined]
        except DECODE_ERRORS as exc:
            raise CorruptInputError(f"TIFF cannot be decoded: {decode_error_text(exc)}") from None
    from PIL import TiffImagePlugin  # TIFF output only

    ifd = TiffImagePlugin.ImageFileDirectory_v2()
    for tag in (270, 271, 272, 306, 315, 33432):  # description, make, model, date, artist, (c)
        if tag in tags:
            ifd[tag] = tags[tag]
    if software:
        ifd[_TIFF_SOFTWARE] = software
    if xmp is not None:
        ifd[_TIFF_XMP] = xmp
        ifd.tagtype[_TIFF_XMP] = 1  # BYTE
    params: dict[str, Any] = {
        "tiffinfo": ifd,
        "compression": None if compression == "raw" else compression,
    }
    icc = frames[0].info.get("icc_profile")
    if icc:
        params["icc_profile"] = icc
    dpi = frames[0].info.get("dpi")
    if dpi:
        params["dpi"] = dpi
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=len(frames) > 1, append_images=frames[1:], **params)
    return buf.getvalue()


@dataclass(frozen=True)
class Decoded:
    """Pixels of the first frame as an array, with what is needed to re-encode alike."""

    pixels: Any  # numpy.ndarray (H, W) or (H, W, C), uint8 or uint16
    mode: str
    format: ImageFormat
    params: dict[str, Any]  # encoder parameters that keep the look (icc profile, JPEG tables)


_ARRAY_MODES = {"L", "RGB", "RGBA", "I;16"}


def decode(data: bytes, limits: Limits | None = None) -> Decoded:
    """Decode the first frame into a numpy array (modes L, RGB, RGBA, I;16; others are
    converted to RGB or RGBA).

    Raises:
        CorruptInputError, ImageTooLargeError, UnsupportedFormatError, MissingExtraError.
    """
    limits = limits or Limits()
    fmt = sniff_image(data)
    with open_image(data, limits) as im:
        try:
            im.load()
            params: dict[str, Any] = {}
            if im.info.get("icc_profile"):
                params["icc_profile"] = im.info["icc_profile"]
            if fmt is ImageFormat.JPEG:
                # the source's quantisation tables and chroma subsampling: same quality
                tables = getattr(im, "quantization", None)
                if tables:
                    params["qtables"] = [list(t) for _, t in sorted(tables.items())]
                sampling = JpegImagePlugin.get_sampling(im)
                if sampling >= 0:
                    params["subsampling"] = sampling
            if fmt is ImageFormat.TIFF and im.info.get("compression") not in (None, "raw"):
                params["compression"] = im.info["compression"]
            work = im
            if im.mode not in _ARRAY_MODES:
                work = im.convert(
                    "RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB"
                )
            import numpy as np  # here: probing and reading metadata never need it

            pixels = np.array(work)
            mode = work.mode
        except DECODE_ERRORS as exc:
            raise CorruptInputError(
                f"image data cannot be decoded: {decode_error_text(exc)}"
            ) from None
    return Decoded(pixels=pixels, mode=mode, format=fmt, params=params)


def decode_luma(data: bytes, limits: Limits | None = None, *, min_side: int = 512) -> Any:
    """The first frame's luma (uint8 (H, W)), decoded no larger than a watermark detector
    needs: JPEG in libjpeg's draft mode (DCT scaling by 1/2, 1/4 or 1/8, the Y channel alone
    for colour JPEGs) and other formats reduced by an integer factor, keeping the short side
    at least ``min_side``. 16-bit images keep their precision (a (H, W) or (H, W, C) uint16
    array at full size).

    Raises:
        CorruptInputError, ImageTooLargeError, UnsupportedFormatError, MissingExtraError.
    """
    return _decode_reduced(data, limits, min_side, "L")


def decode_reduced(data: bytes, limits: Limits | None = None, *, min_side: int = 512) -> Any:
    """The first frame as colour (uint8 (H, W, 3)), reduced as :func:`decode_luma` reduces:
    for readers that need colour but not every pixel (a fingerprint, and a watermark detector
    at the same time). 16-bit images come back in full, as :func:`decode` gives them.

    Raises:
        CorruptInputError, ImageTooLargeError, UnsupportedFormatError, MissingExtraError.
    """
    return _decode_reduced(data, limits, min_side, "RGB")


def _decode_reduced(data: bytes, limits: Limits | None, min_side: int, mode: str) -> Any:
    limits = limits or Limits()
    with open_image(data, limits) as im:
        try:
            if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
                pass  # keep the precision: decode in full below
            elif im.format == "JPEG" and im.mode in ("L", "RGB", "CMYK", "YCbCr"):
                # libjpeg scales the DCT by 1/2, 1/4 or 1/8 (rounding the size up) and, for
                # luma, outputs the Y channel alone: no chroma upsampling, no colour conversion
                w, h = im.size
                scale = 1
                while scale < 8 and -(-min(w, h) // (scale * 2)) >= min_side:
                    scale *= 2
                luma = mode == "L" and im.mode in ("L", "RGB")
                if scale > 1 or luma:
                    # Pillow takes the largest scale that the size asked for divides into
                    # (w // size): asked for w / scale rounded up, it would fall a step short
                    im.draft("L" if luma else "RGB", (w // scale, h // scale))
            im.load()
            if im.mode not in ("L", "RGB", "RGBA", "P", "LA", "CMYK", "YCbCr", "1", "PA"):
                return decode(data, limits).pixels
            work = im if im.mode == mode else im.convert(mode)
            factor = min(work.size) // min_side
            if factor >= 2:
                work = work.reduce(factor)
            import numpy as np

            return np.asarray(work)
        except DECODE_ERRORS as exc:
            raise CorruptInputError(
                f"image data cannot be decoded: {decode_error_text(exc)}"
            ) from None


def from_array(pixels: Any, mode: str) -> Image.Image:
    """A PIL image from an array produced by :func:`decode` (``mode`` is checked)."""
    image = Image.fromarray(pixels)  # Pillow infers L / RGB / RGBA / I;16 from the array
    if image.mode != mode:
        image = image.convert(mode)
    return image


@dataclass(frozen=True)
class Resized:
    """An image as a platform publishes it: oriented, converted and scaled."""

    image: Image.Image
    original_size: tuple[int, int]  # after orientation, before scaling
    frames: int


def oriented_and_scaled(
    data: bytes, limits: Limits | None, *, max_side: int | None, fmt: ImageFormat
) -> Resized:
    """Decode the first frame with its EXIF orientation applied, convert it to a mode ``fmt``
    encodes (L, RGB or RGBA), and scale it down (Lanczos) so that its long side is at most
    ``max_side`` (None: keep the size).

    Raises:
        CorruptInputError, ImageTooLargeError, UnsupportedFormatError.
    """
    from PIL import ImageOps

    limits = limits or Limits()
    with open_image(data, limits) as im:
        try:
            im.load()
            frames = int(getattr(im, "n_frames", 1))
            work = ImageOps.exif_transpose(im)
            mode = "RGBA" if "A" in work.getbands() or "transparency" in work.info else "RGB"
            if fmt is ImageFormat.JPEG:
                mode = "RGB"
            if work.mode == "L":
                mode = "L"
            work = work.convert(mode) if work.mode != mode else work.copy()
        except DECODE_ERRORS as exc:
            raise CorruptInputError(
                f"image data cannot be decoded: {decode_error_text(exc)}"
            ) from None
    w, h = work.size
    if w * h > limits.max_pixels:
        raise _over_limit(f"{w}×{h}", limits)
    if max_side and max(w, h) > max_side:
        scale = max_side / max(w, h)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        work = work.resize(size, Image.Resampling.LANCZOS)
    return Resized(work, (w, h), frames)
