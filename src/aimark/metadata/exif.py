"""EXIF fields: write the generator into ``Software`` and a plain statement into
``UserComment``; read the fields verify reports.

Existing EXIF is kept; only ``Software`` and ``UserComment`` are replaced.

Example:
    >>> from aimark.metadata.exif import ExifLabel, merge_exif, read_exif
    >>> raw = merge_exif(None, ExifLabel(software="m 1", comment="AI-generated"))
    >>> read_exif(raw)["Software"]
    'm 1'
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import piexif

from aimark.errors import CorruptInputError

__all__ = ["ExifError", "ExifLabel", "merge_exif", "read_exif"]

_ASCII_PREFIX = b"ASCII\x00\x00\x00"
_UNICODE_PREFIX = b"UNICODE\x00"


class ExifError(CorruptInputError):
    """Existing EXIF cannot be parsed (the caller keeps it untouched)."""


@dataclass(frozen=True)
class ExifLabel:
    """The EXIF fields aimark writes."""

    software: str | None = None
    comment: str | None = None


def _encode_comment(text: str) -> bytes:
    try:
        return _ASCII_PREFIX + text.encode("ascii")
    except UnicodeEncodeError:
        return _UNICODE_PREFIX + text.encode("utf-16-be")


def decode_user_comment(raw: Any) -> str | None:
    """Decode an EXIF UserComment (8-byte charset prefix, then the text)."""
    if isinstance(raw, str):
        return raw.strip("\x00 ") or None
    if not isinstance(raw, (bytes, bytearray)) or not raw:
        return None
    raw = bytes(raw)
    prefix, body = raw[:8], raw[8:]
    if prefix == _UNICODE_PREFIX:
        # Writers disagree on byte order; pick the one that decodes to fewer NULs.
        be = body.decode("utf-16-be", "replace")
        le = body.decode("utf-16-le", "replace")
        text = be if be.count("\x00") <= le.count("\x00") and "\ufffd" not in be else le
    elif prefix in (_ASCII_PREFIX, b"\x00" * 8, b"JIS\x00\x00\x00\x00\x00"):
        text = body.decode("utf-8", "replace")
    else:
        text = raw.decode("utf-8", "replace")
    return text.strip("\x00 ") or None


# bytes per value of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, SBYTE, UNDEFINED,
# SSHORT, SLONG, SRATIONAL, FLOAT, DOUBLE)
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
# the IFDs piexif reads: pointer tag -> (IFD, the piexif.TAGS table of its known tags)
_SUB_IFDS = {0x8769: "Exif", 0x8825: "GPS", 0xA005: "Interop"}


def _check_counts(tiff: bytes) -> None:
    """Refuse EXIF whose known tags claim more values than the block holds.

    piexif builds a struct format of one character per claimed value before it looks at the
    data, so a count of 0x04000000 in a 100-byte block costs it seconds and gigabytes. This
    walks the IFDs piexif reads (0th, Exif, GPS, Interop, 1st) and checks the counts of the
    tags it decodes first.
    """
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return  # piexif refuses it itself, cheaply
    order = "<" if tiff[:2] == b"II" else ">"
    queue = [(struct.unpack(order + "L", tiff[4:8])[0], "Image", True)]
    seen: set[int] = set()
    while queue and len(seen) < 8:
        ifd, table, zeroth = queue.pop()
        if ifd in seen or ifd + 2 > len(tiff):
            continue
        seen.add(ifd)
        known = piexif.TAGS[table]
        (count,) = struct.unpack(order + "H", tiff[ifd : ifd + 2])
        for k in range(count):
            entry = ifd + 2 + 12 * k
            if entry + 12 > len(tiff):
                break
            tag, kind, n, value = struct.unpack(order + "HHLL", tiff[entry : entry + 12])
            if tag in known and n * _TYPE_SIZES.get(kind, 1) > len(tiff):
                raise ExifError(
                    f"EXIF tag {tag} claims {n:,} values, more than its {len(tiff):,}-byte block"
                )
            if tag in _SUB_IFDS and tag in known:  # the pointer as piexif decodes it
                field = tiff[entry + 8 : entry + 12]
                if kind in (1, 6, 7):
                    value = field[0]
                elif kind in (3, 8):
                    (value,) = struct.unpack(order + "H", field[:2])
                queue.append((value, _SUB_IFDS[tag], False))
        end = ifd + 2 + 12 * count
        if zeroth and end + 4 <= len(tiff):  # the 1st IFD (thumbnail) follows the 0th
            queue.append((struct.unpack(order + "L", tiff[end : end + 4])[0], "Image", False))


def _load(raw: bytes | None) -> dict[str, Any]:
    if not raw:
        return {"0th": {}, "Exif": {}, "GPS": {}, "1st": {}, "Interop": {}, "thumbnail": None}
    data = raw if raw.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + raw
    _check_counts(data[6:])
    try:
        return piexif.load(data)
    except Exception as exc:  # piexif raises bare ValueError/struct.error/KeyError/...
        raise ExifError(f"existing EXIF cannot be parsed: {exc}") from None


def merge_exif(existing: bytes | None, label: ExifLabel) -> bytes:
    """Return EXIF bytes (``Exif\\0\\0`` + TIFF) with ``label`` added to ``existing``.

    Raises:
        ExifError: ``existing`` cannot be parsed; nothing is changed.
    """
    exif = _load(existing)
    if label.software:
        exif["0th"][piexif.ImageIFD.Software] = label.software.encode("utf-8")
    if label.comment:
        exif["Exif"][piexif.ExifIFD.UserComment] = _encode_comment(label.comment)
    try:
        out = piexif.dump(exif)
    except Exception as exc:
        raise ExifError(f"existing EXIF cannot be rewritten: {exc}") from None
    return out


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip("\x00 ") or None
    if isinstance(value, str):
        return value.strip("\x00 ") or None
    return None


def read_exif(raw: bytes | None) -> dict[str, str]:
    """Return the text fields that tell about a file's origin (never raises).

    Keys: ``Software``, ``Make``, ``Model``, ``Artist``, ``ImageDescription``,
    ``UserComment``, ``DateTimeOriginal`` -- only those present.
    """
    try:
        exif = _load(raw)
    except ExifError:
        return {}
    fields: dict[str, str] = {}
    zeroth = exif.get("0th") or {}
    for name, tag in (
        ("Software", piexif.ImageIFD.Software),
        ("Make", piexif.ImageIFD.Make),
        ("Model", piexif.ImageIFD.Model),
        ("Artist", piexif.ImageIFD.Artist),
        ("ImageDescription", piexif.ImageIFD.ImageDescription),
    ):
        value = _text(zeroth.get(tag))
        if value:
            fields[name] = value[:2000]
    sub = exif.get("Exif") or {}
    comment = decode_user_comment(sub.get(piexif.ExifIFD.UserComment))
    if comment:
        fields["UserComment"] = comment[:20000]
    when = _text(sub.get(piexif.ExifIFD.DateTimeOriginal))
    if when:
        fields["DateTimeOriginal"] = when
    return fields
