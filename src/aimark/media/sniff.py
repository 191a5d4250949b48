"""Recognise image formats from their first bytes (never from file names).

Example:
    >>> from aimark.media import sniff
    >>> sniff(b"\\x89PNG\\r\\n\\x1a\\n....")
    <ImageFormat.PNG: 'png'>
    >>> sniff(b"hello") is None
    True
"""

from __future__ import annotations

import enum

__all__ = ["ImageFormat", "describe_unknown", "sniff"]


class ImageFormat(str, enum.Enum):
    """An image container aimark can label and verify."""

    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    TIFF = "tiff"
    AVIF = "avif"
    HEIC = "heic"
    GIF = "gif"

    @property
    def mime(self) -> str:
        """The MIME type used for C2PA, e.g. ``image/jpeg``."""
        return _MIME[self]

    @property
    def pillow_name(self) -> str:
        """The format name Pillow uses to save, e.g. ``JPEG``."""
        return _PILLOW[self]

    @property
    def extension(self) -> str:
        """The usual file extension, with the dot."""
        return _EXT[self]

    @property
    def label(self) -> str:
        """What the format is, in a few words (``a JPEG image``), as ``MediaFormat.label``."""
        name = {"webp": "WebP"}.get(self.value, self.value.upper())
        return f"{'an' if name[0] in 'A' else 'a'} {name} image"

    @classmethod
    def parse(cls, name: str) -> ImageFormat:
        """Map a user-given name (``jpg``, ``image/png``, ``.tif``, ``HEIF``) to a format."""
        key = name.strip().lower().lstrip(".")
        key = key.removeprefix("image/")
        aliases = {"jpg": "jpeg", "jpe": "jpeg", "tif": "tiff", "heif": "heic", "hif": "heic"}
        key = aliases.get(key, key)
        try:
            return cls(key)
        except ValueError:
            known = ", ".join(f.value for f in cls)
            raise ValueError(f"unknown image format {name!r} (known: {known})") from None


_MIME = {
    ImageFormat.JPEG: "image/jpeg",
    ImageFormat.PNG: "image/png",
    ImageFormat.WEBP: "image/webp",
    ImageFormat.TIFF: "image/tiff",
    ImageFormat.AVIF: "image/avif",
    ImageFormat.HEIC: "image/heic",
    ImageFormat.GIF: "image/gif",
}
_PILLOW = {
    ImageFormat.JPEG: "JPEG",
    ImageFormat.PNG: "PNG",
    ImageFormat.WEBP: "WEBP",
    ImageFormat.TIFF: "TIFF",
    ImageFormat.AVIF: "AVIF",
    ImageFormat.HEIC: "HEIF",
    ImageFormat.GIF: "GIF",
}
_EXT = {
    ImageFormat.JPEG: ".jpg",
    ImageFormat.PNG: ".png",
    ImageFormat.WEBP: ".webp",
    ImageFormat.TIFF: ".tif",
    ImageFormat.AVIF: ".avif",
    ImageFormat.HEIC: ".heic",
    ImageFormat.GIF: ".gif",
}

_AVIF_BRANDS = {b"avif", b"avis"}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"heif"}
_GENERIC_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2"}


def _sniff_isobmff(head: bytes) -> ImageFormat | None:
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[:4], "big")
    major = head[8:12]
    end = min(len(head), size if size >= 16 else len(head))
    compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
    brands = {major} | compatible
    if brands & _AVIF_BRANDS:
        return ImageFormat.AVIF
    if brands & _HEIC_BRANDS:
        return ImageFormat.HEIC
    if brands & _GENERIC_HEIF_BRANDS:
        return ImageFormat.HEIC
    return None


def sniff(data: bytes) -> ImageFormat | None:
    """Return the image format of ``data`` judged by its magic bytes, or ``None``.

    Only the first 64 bytes are looked at.
    """
    head = bytes(data[:64])
    if head.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return ImageFormat.GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageFormat.WEBP
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return ImageFormat.TIFF
    return _sniff_isobmff(head)


_OTHER_SIGNATURES = [
    (b"%PDF", "a PDF document"),
    (b"BM", "a BMP image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"<svg", "an SVG image"),
    (b"<?xml", "an XML document"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (b"\xff\x0a", "a JPEG XL image"),
    (b"8BPS", "a Photoshop document"),
]


def describe_unknown(data: bytes) -> str:
    """Say in a few words what unsupported bytes look like (for error messages)."""
    head = bytes(data[:64])
    for magic, what in _OTHER_SIGNATURES:
        if head.startswith(magic):
            return what
    if head[4:8] == b"ftyp":
        return f"an ISO media file of brand {head[8:12].decode('latin-1')!r}"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "unrecognised binary data"
    return "text"
