"""Media containers beyond the pixel formats: video, audio, documents, vector and JPEG XL images,
recognised from their bytes (never from file names), each with the MIME type c2pa takes.

The pixel formats (JPEG, PNG, WebP, TIFF, AVIF, HEIC, GIF) stay :class:`~aimark.media.sniff.
ImageFormat`: aimark decodes their pixels (watermark, limits). The formats here are signed and
verified as containers only; aimark never decodes their content.

Example:
    >>> from aimark.media.formats import MediaFormat, sniff_media
    >>> sniff_media(b"RIFF\\x24\\x00\\x00\\x00WAVEfmt ")
    <MediaFormat.WAV: 'wav'>
    >>> MediaFormat.WAV.mime, MediaFormat.WAV.kind
    ('audio/wav', 'audio')
    >>> sniff_media(b"%PDF-1.7\\n").mime
    'application/pdf'
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

__all__ = ["MediaFormat", "looks_like_config", "media_kind", "scan_kind", "sniff_media"]


@dataclass(frozen=True)
class _Spec:
    mime: str
    kind: str  # video | audio | document | image | archive
    extension: str
    label: str  # a few words for people


class MediaFormat(str, enum.Enum):
    """A container c2pa-python signs and reads that aimark does not decode."""

    MP4 = "mp4"
    MOV = "mov"
    M4A = "m4a"
    AVI = "avi"
    WAV = "wav"
    MP3 = "mp3"
    FLAC = "flac"
    PDF = "pdf"
    SVG = "svg"
    JXL = "jxl"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    EPUB = "epub"
    ODT = "odt"
    ODS = "ods"
    ODP = "odp"
    ZIP = "zip"

    @property
    def mime(self) -> str:
        """The MIME type c2pa is given, e.g. ``video/mp4``."""
        return _SPECS[self].mime

    @property
    def kind(self) -> str:
        """``video``, ``audio``, ``document``, ``image`` or ``archive``."""
        return _SPECS[self].kind

    @property
    def extension(self) -> str:
        """The usual file extension, with the dot."""
        return _SPECS[self].extension

    @property
    def label(self) -> str:
        """What the format is, in a few words (``an MP4 video``)."""
        return _SPECS[self].label


_SPECS = {
    MediaFormat.MP4: _Spec("video/mp4", "video", ".mp4", "an MP4 video"),
    MediaFormat.MOV: _Spec("video/quicktime", "video", ".mov", "a QuickTime video"),
    MediaFormat.M4A: _Spec("audio/mp4", "audio", ".m4a", "an MPEG-4 audio file"),
    MediaFormat.AVI: _Spec("video/x-msvideo", "video", ".avi", "an AVI video"),
    MediaFormat.WAV: _Spec("audio/wav", "audio", ".wav", "a WAV audio file"),
    MediaFormat.MP3: _Spec("audio/mpeg", "audio", ".mp3", "an MP3 audio file"),
    # c2pa refuses audio/x-flac
    MediaFormat.FLAC: _Spec("audio/flac", "audio", ".flac", "a FLAC audio file"),
    MediaFormat.PDF: _Spec("application/pdf", "document", ".pdf", "a PDF document"),
    MediaFormat.SVG: _Spec("image/svg+xml", "image", ".svg", "an SVG image"),
    MediaFormat.JXL: _Spec("image/jxl", "image", ".jxl", "a JPEG XL image"),
    MediaFormat.DOCX: _Spec(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "document",
        ".docx",
        "a Word document",
    ),
    MediaFormat.XLSX: _Spec(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "document",
        ".xlsx",
        "an Excel workbook",
    ),
    MediaFormat.PPTX: _Spec(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "document",
        ".pptx",
        "a PowerPoint presentation",
    ),
    MediaFormat.EPUB: _Spec("application/epub+zip", "document", ".epub", "an EPUB book"),
    MediaFormat.ODT: _Spec(
        "application/vnd.oasis.opendocument.text", "document", ".odt", "an OpenDocument text"
    ),
    MediaFormat.ODS: _Spec(
        "application/vnd.oasis.opendocument.spreadsheet",
        "document",
        ".ods",
        "an OpenDocument spreadsheet",
    ),
    MediaFormat.ODP: _Spec(
        "application/vnd.oasis.opendocument.presentation",
        "document",
        ".odp",
        "an OpenDocument presentation",
    ),
    # c2pa takes application/x-zip (not application/zip)
    MediaFormat.ZIP: _Spec("application/x-zip", "archive", ".zip", "a ZIP archive"),
}

# ISO base media file format brands (ftyp major and compatible) of the pixel formats, which
# sniff.ImageFormat claims first, and of QuickTime and audio-only MPEG-4
_QUICKTIME_BRANDS = {b"qt  "}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_VIDEO_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso8", b"mp41", b"mp42", b"avc1",
    b"M4V ", b"M4VH", b"M4VP", b"dash", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"f4v ", b"mmp4",
    b"MSNV", b"NDAS", b"XAVC", b"crx ", b"cmfc", b"hvc1",
}  # fmt: skip
_ODF = {
    b"application/vnd.oasis.opendocument.text": MediaFormat.ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": MediaFormat.ODS,
    b"application/vnd.oasis.opendocument.presentation": MediaFormat.ODP,
    b"application/epub+zip": MediaFormat.EPUB,
}
_OOXML = ((b"word/", MediaFormat.DOCX), (b"xl/", MediaFormat.XLSX), (b"ppt/", MediaFormat.PPTX))
_SVG_ROOT = re.compile(rb"<svg[\s>/]")
_XML_DECL = re.compile(
    rb"^\s*(<\?xml[^>]*\?>\s*)?((<!--.*?-->|<!DOCTYPE[^\[>]*(\[.*?\])?\s*>|<\?[^>]*\?>)\s*)*", re.S
)


def _bmff(head: bytes) -> MediaFormat | None:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[:4], "big")
    end = min(len(head), size if size >= 16 else len(head))
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    if head[8:12] in _QUICKTIME_BRANDS:
        return MediaFormat.MOV
    if head[8:12] in _AUDIO_BRANDS:
        return MediaFormat.M4A
    if brands & (_VIDEO_BRANDS | _AUDIO_BRANDS | _QUICKTIME_BRANDS):
        return MediaFormat.MP4
    return None


def _zip(data: bytes) -> MediaFormat:
    """ODF and EPUB name their type in a first, stored ``mimetype`` entry; OOXML packages hold
    ``[Content_Types].xml`` and a part folder named after the application."""
    name_len = int.from_bytes(data[26:28], "little")
    extra_len = int.from_bytes(data[28:30], "little")
    name = data[30 : 30 + name_len]
    if name == b"mimetype":
        start = 30 + name_len + extra_len
        body = data[start : start + 80]
        for mime, fmt in _ODF.items():
            if body.startswith(mime):
                return fmt
    window = data[:65536] + data[-65536:]  # local headers near the start, directory at the end
    if b"[Content_Types].xml" in window:
        for folder, fmt in _OOXML:
            if folder in window:
                return fmt
    return MediaFormat.ZIP


def _mp3(head: bytes) -> bool:
    if head.startswith(b"ID3") and len(head) >= 10 and head[3] in (2, 3, 4):
        return True  # (a malformed tag size is for the structure check to refuse)
    # a bare MPEG audio frame header: sync, layer III, a valid bitrate and sampling rate
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer == 1 and bitrate not in (0, 15) and rate != 3


def _id3_end(head: bytes) -> int:
    """Where the ID3v2 tag at the start ends (0 if there is none)."""
    if not head.startswith(b"ID3") or len(head) < 10:
        return 0
    size = 0
    for b in head[6:10]:
        size = (size << 7) | (b & 0x7F)  # syncsafe
    return 10 + size + (10 if head[5] & 0x10 else 0)


def sniff_media(data: bytes) -> MediaFormat | None:
    """Return the container of ``data`` judged by its leading bytes (and, for ZIP packages,
    its directory), or ``None``. The pixel formats are left to :func:`aimark.media.sniff`.
    """
    head = bytes(data[:4096])
    fmt = _bmff(head)
    if fmt is not None:
        return fmt
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WAVE": MediaFormat.WAV, b"AVI ": MediaFormat.AVI}.get(head[8:12])
    if head.startswith(b"fLaC"):
        return MediaFormat.FLAC
    if head.startswith(b"%PDF-"):
        return MediaFormat.PDF
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n"):
        return MediaFormat.JXL
    if head.startswith(b"PK\x03\x04"):
        return _zip(bytes(data))
    if _mp3(head):
        # an ID3 tag may also lead a FLAC stream (c2pa stores its manifest in one)
        end = _id3_end(head)
        return MediaFormat.FLAC if end and data[end : end + 4] == b"fLaC" else MediaFormat.MP3
    text = head.lstrip(b"\xef\xbb\xbf")
    prolog = _XML_DECL.match(text)
    rest = text[prolog.end() :] if prolog else text
    if _SVG_ROOT.match(rest):  # the root element, after the XML prolog
        return MediaFormat.SVG
    return None


# text files that are not content: keys, certificates and configuration (skipped by folder
# walks; a file named on the command line is still verified)
_CONFIG_SUFFIXES = {
    ".pem", ".key", ".crt", ".cer", ".csr", ".pub", ".der", ".p12", ".pfx", ".jks", ".keystore",
    ".json", ".jsonl", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".env", ".lock",
    ".properties", ".plist",
}  # fmt: skip
_CONFIG_STARTS = (
    b"-----BEGIN ",
    b"ssh-rsa ",
    b"ssh-ed25519 ",
    b"ecdsa-sha2-",
    b"aimark-watermark-key",
)


def looks_like_config(head: bytes, name: str = "") -> bool:
    """Whether a text file is a key, certificate or configuration file rather than content:
    by its first bytes (PEM, SSH keys, aimark watermark keys) or its file name's extension.

    Example:
        >>> looks_like_config(b"-----BEGIN CERTIFICATE-----\\n"), looks_like_config(b"x", "a.yaml")
        (True, True)
        >>> looks_like_config(b"Once upon a time", "story.txt")
        False
    """
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(_CONFIG_STARTS):
        return True
    dot = name.rfind(".")
    return dot > name.replace("\\", "/").rfind("/") and name[dot:].lower() in _CONFIG_SUFFIXES


def scan_kind(fmt: MediaFormat) -> str:
    """The kind a scan filters on (``--kind``): archives count as documents."""
    return "document" if fmt.kind == "archive" else fmt.kind


def media_kind(head: bytes, name: str = "") -> str | None:
    """What a file is, from its first bytes (and, for text, its name): ``image``, ``video``,
    ``audio``, ``document`` or ``text``; None when it is not media (an unknown binary, an empty
    file, or a key, certificate or configuration file).

    Example:
        >>> media_kind(b"RIFF\\x24\\x00\\x00\\x00WAVEfmt "), media_kind(b"a story", "a.txt")
        ('audio', 'text')
        >>> media_kind(b"-----BEGIN PRIVATE KEY-----") is None
        True
    """
    from aimark.media.sniff import sniff
    from aimark.media.text_io import is_text_prefix

    if sniff(head) is not None:
        return "image"
    fmt = sniff_media(head)
    if fmt is not None:
        return scan_kind(fmt)
    if is_text_prefix(head) and not looks_like_config(head, name):
        return "text"
    return None
