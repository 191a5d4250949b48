"""Byte-level container edits: put XMP / EXIF into an encoded image without re-encoding it.

JPEG (APP1 segments), PNG (iTXt ``XML:com.adobe.xmp`` and ``eXIf`` chunks), WebP (RIFF ``XMP ``
and ``EXIF`` chunks in the extended format) and GIF (the ``XMP DataXMP`` application extension)
are edited in place of their metadata only, so pixels stay bit-identical. Each walker also
checks the container's structure, so truncated files are caught before they are signed.

Example:
    >>> from aimark.media.containers import read_metadata
    >>> read_metadata(b"\\xff\\xd8\\xff\\xd9", "jpeg")
    Traceback (most recent call last):
    ...
    aimark.errors.CorruptInputError: JPEG has no image data (no SOS marker)
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from aimark.errors import CorruptInputError
from aimark.media.sniff import ImageFormat

__all__ = ["Embedded", "check_structure", "read_metadata", "write_metadata"]

_XMP_JPEG_ID = b"http://ns.adobe.com/xap/1.0/\x00"
_EXIF_ID = b"Exif\x00\x00"
_MAX_APP_PAYLOAD = 65533  # segment length field counts itself (2 bytes)


@dataclass(frozen=True)
class Embedded:
    """The raw XMP packet and EXIF block (``Exif\\0\\0`` + TIFF) found in a container, and
    whether it holds an embedded C2PA manifest store."""

    xmp: bytes | None = None
    exif: bytes | None = None
    c2pa: bool = False


def _tag(code: bytes) -> str:
    """A chunk's four-letter code as people read it: ``b'IDAT'`` → ``IDAT``."""
    return code.decode("latin-1").encode("ascii", "backslashreplace").decode()


def may_carry_c2pa(data: bytes) -> bool:
    """Cheap test for containers without a dedicated walker: could ``data`` hold a JUMBF
    ``c2pa`` manifest store? False means certainly not."""
    return b"jumb" in data and b"c2pa" in data


# --------------------------------------------------------------------------- JPEG


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, int, int]], int]:
    """Return [(marker, start, end)] of the header segments and the offset of SOS."""
    if not data.startswith(b"\xff\xd8"):
        raise CorruptInputError("not a JPEG (no SOI marker)")
    pos = 2
    segments: list[tuple[int, int, int]] = []
    n = len(data)
    while True:
        while pos < n and data[pos] == 0xFF and pos + 1 < n and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 4 > n:
            raise CorruptInputError("JPEG has no image data (no SOS marker)")
        if data[pos] != 0xFF:
            raise CorruptInputError(f"JPEG marker expected at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xDA:  # SOS
            return segments, pos
        if marker == 0xD9:
            raise CorruptInputError("JPEG has no image data (no SOS marker)")
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > n:
            raise CorruptInputError("JPEG is truncated inside a header segment")
        segments.append((marker, pos, end))
        pos = end


def _jpeg_check_tail(data: bytes, sos: int) -> None:
    if data.rfind(b"\xff\xd9", sos) < 0:
        raise CorruptInputError("JPEG is truncated (no end-of-image marker)")


def _jpeg_read(data: bytes) -> Embedded:
    segments, sos = _jpeg_segments(data)
    _jpeg_check_tail(data, sos)
    xmp = exif = None
    c2pa = False
    for marker, start, end in segments:
        body = data[start + 4 : end]
        if marker == 0xE1 and body.startswith(_XMP_JPEG_ID) and xmp is None:
            xmp = body[len(_XMP_JPEG_ID) :]
        elif marker == 0xE1 and body.startswith(_EXIF_ID) and exif is None:
            exif = body
        elif marker == 0xEB and body.startswith(b"JP"):  # APP11 JUMBF
            c2pa = True
    return Embedded(xmp=xmp, exif=exif, c2pa=c2pa)


def _app1(payload: bytes) -> bytes:
    if len(payload) > _MAX_APP_PAYLOAD:
        raise ValueError(f"metadata block of {len(payload):,} bytes does not fit a JPEG segment")
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def _jpeg_write(data: bytes, xmp: bytes | None, exif: bytes | None) -> bytes:
    segments, sos = _jpeg_segments(data)
    _jpeg_check_tail(data, sos)
    keep: list[bytes] = []
    insert_at = 0  # index in `keep` after JFIF/ EXIF position
    for marker, start, end in segments:
        body = data[start + 4 : end]
        if marker == 0xE1 and xmp is not None and body.startswith(_XMP_JPEG_ID):
            continue
        if marker == 0xE1 and exif is not None and body.startswith(_EXIF_ID):
            continue
        keep.append(data[start:end])
        if marker == 0xE0 and len(keep) == 1:
            insert_at = 1  # JFIF APP0 stays first
    new = []
    if exif is not None:
        new.append(_app1(exif))
    if xmp is not None:
        new.append(_app1(_XMP_JPEG_ID + xmp))
    keep[insert_at:insert_at] = new
    return b"\xff\xd8" + b"".join(keep) + data[sos:]


# --------------------------------------------------------------------------- PNG

_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_XMP_KEYWORD = b"XML:com.adobe.xmp"


def _png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """Return [(type, start, end)] for every chunk; checks lengths and the IEND chunk."""
    if not data.startswith(_PNG_SIG):
        raise CorruptInputError("not a PNG (bad signature)")
    pos, chunks, n = 8, [], len(data)
    while True:
        if pos + 8 > n:
            raise CorruptInputError("PNG is truncated (no IEND chunk)")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > n:
            raise CorruptInputError(f"PNG data is truncated (chunk {_tag(ctype)})")
        chunks.append((ctype, pos, end))
        if ctype == b"IEND":
            return chunks
        pos = end


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def _png_xmp_body(body: bytes) -> bytes | None:
    if not body.startswith(_XMP_KEYWORD + b"\x00"):
        return None
    rest = body[len(_XMP_KEYWORD) + 1 :]
    if len(rest) < 2:
        return None
    compressed, _method = rest[0], rest[1]
    rest = rest[2:]
    # language tag and translated keyword, both NUL-terminated
    for _ in range(2):
        nul = rest.find(b"\x00")
        if nul < 0:
            return None
        rest = rest[nul + 1 :]
    if compressed:
        try:
            d = zlib.decompressobj()
            rest = d.decompress(rest, 16 * 1024 * 1024)
        except zlib.error:
            return None
    return rest


def _png_read(data: bytes) -> Embedded:
    xmp = exif = None
    c2pa = False
    for ctype, start, end in _png_chunks(data):
        if ctype == b"iTXt" and xmp is None:
            xmp = _png_xmp_body(data[start + 8 : end - 4])
        elif ctype == b"eXIf" and exif is None:
            exif = _EXIF_ID + data[start + 8 : end - 4]
        elif ctype == b"caBX":
            c2pa = True
    return Embedded(xmp=xmp, exif=exif, c2pa=c2pa)


def _png_write(
    data: bytes, xmp: bytes | None, exif: bytes | None, text: dict[str, str] | None = None
) -> bytes:
    out: list[bytes] = [_PNG_SIG]
    inserted = False
    keywords = {k.encode("latin-1") + b"\x00" for k in text or {}}
    for ctype, start, end in _png_chunks(data):
        body = data[start + 8 : end - 4]
        if xmp is not None and ctype == b"iTXt" and body.startswith(_XMP_KEYWORD + b"\x00"):
            continue
        if exif is not None and ctype == b"eXIf":
            continue
        if ctype in (b"tEXt", b"iTXt") and any(body.startswith(k) for k in keywords):
            continue  # a text chunk of ours, replaced
        if not inserted and ctype in (b"IDAT", b"IEND"):
            if exif is not None:
                out.append(_png_chunk(b"eXIf", exif.removeprefix(_EXIF_ID)))
            if xmp is not None:
                out.append(_png_chunk(b"iTXt", _XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + xmp))
            for key, value in (text or {}).items():
                keyword = key.encode("latin-1")
                try:  # tEXt is Latin-1 only; otherwise iTXt (UTF-8, uncompressed)
                    out.append(_png_chunk(b"tEXt", keyword + b"\x00" + value.encode("latin-1")))
                except UnicodeEncodeError:
                    itxt = keyword + b"\x00\x00\x00\x00\x00" + value.encode("utf-8")
                    out.append(_png_chunk(b"iTXt", itxt))
            inserted = True
        out.append(data[start:end])
    return b"".join(out)


# --------------------------------------------------------------------------- WebP


def _riff_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """Return [(fourcc, start, end_including_pad)] of the chunks of a WebP file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise CorruptInputError("not a WebP (bad RIFF header)")
    (riff_size,) = struct.unpack("<I", data[4:8])
    if riff_size + 8 > len(data):
        raise CorruptInputError("WebP is truncated (RIFF size larger than the file)")
    n = riff_size + 8
    pos, chunks = 12, []
    while pos < n:
        if pos + 8 > n:
            raise CorruptInputError("WebP is truncated inside a chunk header")
        fourcc = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        end = pos + 8 + size + (size & 1)
        if pos + 8 + size > n:
            raise CorruptInputError(f"WebP data is truncated (chunk {_tag(fourcc)})")
        chunks.append((fourcc, pos, min(end, n)))
        pos = end
    if not any(c[0] in (b"VP8 ", b"VP8L", b"ANMF") for c in chunks):
        raise CorruptInputError("WebP has no image data")
    return chunks


def _riff_chunk(fourcc: bytes, body: bytes) -> bytes:
    pad = b"\x00" if len(body) & 1 else b""
    return fourcc + struct.pack("<I", len(body)) + body + pad


def _webp_read(data: bytes) -> Embedded:
    xmp = exif = None
    c2pa = False
    for fourcc, start, _end in _riff_chunks(data):
        (size,) = struct.unpack("<I", data[start + 4 : start + 8])
        body = data[start + 8 : start + 8 + size]
        if fourcc == b"XMP " and xmp is None:
            xmp = body
        elif fourcc == b"EXIF" and exif is None:
            exif = body if body.startswith(_EXIF_ID) else _EXIF_ID + body
        elif fourcc == b"C2PA":
            c2pa = True
    return Embedded(xmp=xmp, exif=exif, c2pa=c2pa)


def _webp_write(
    data: bytes, xmp: bytes | None, exif: bytes | None, size: tuple[int, int], alpha: bool
) -> bytes:
    chunks = _riff_chunks(data)
    body_chunks: list[bytes] = []
    flags = 0
    vp8x = None
    for fourcc, start, end in chunks:
        raw = data[start:end]
        if fourcc == b"VP8X":
            vp8x = raw
            continue
        if (fourcc == b"XMP " and xmp is not None) or (fourcc == b"EXIF" and exif is not None):
            continue
        body_chunks.append(raw)
    if vp8x is not None:
        flags = vp8x[8]
        canvas = vp8x[12:18]
    else:
        w, h = size
        canvas = (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
        if alpha:
            flags |= 0x10
    tail = []
    if exif is not None:
        tail.append(_riff_chunk(b"EXIF", exif.removeprefix(_EXIF_ID)))
        flags |= 0x08
    if xmp is not None:
        tail.append(_riff_chunk(b"XMP ", xmp))
        flags |= 0x04
    header = _riff_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + canvas)
    payload = b"WEBP" + header + b"".join(body_chunks) + b"".join(tail)
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


# --------------------------------------------------------------------------- GIF

_GIF_XMP_APP = b"XMP DataXMP"
_GIF_MAGIC_TRAILER = bytes([0x01, *range(0xFF, -1, -1)]) + b"\x00"


def _gif_blocks(data: bytes) -> tuple[int, list[tuple[str, int, int]]]:
    """Return (end of header, [(kind, start, end)]) for the blocks of a GIF; checks the trailer."""
    if len(data) < 13 or data[:6] not in (b"GIF87a", b"GIF89a"):
        raise CorruptInputError("not a GIF (bad header)")
    flags = data[10]
    pos = 13 + (3 * (2 ** ((flags & 7) + 1)) if flags & 0x80 else 0)
    header_end = pos
    blocks: list[tuple[str, int, int]] = []
    n = len(data)

    def skip_sub_blocks(p: int) -> int:
        while True:
            if p >= n:
                raise CorruptInputError("GIF is truncated inside a data block")
            size = data[p]
            p += 1 + size
            if size == 0:
                return p

    while True:
        if pos >= n:
            raise CorruptInputError("GIF is truncated (no trailer)")
        intro = data[pos]
        if intro == 0x3B:
            return header_end, blocks
        if intro == 0x21:
            if pos + 2 > n:
                raise CorruptInputError("GIF is truncated inside an extension")
            label = data[pos + 1]
            kind = "ext"
            if label == 0xFF and data[pos + 2 : pos + 3 + 11] == bytes([11]) + _GIF_XMP_APP:
                kind = "xmp"
                # XMP app data is raw bytes followed by the 258-byte magic trailer.
                end = data.find(_GIF_MAGIC_TRAILER, pos + 14)
                if end < 0:
                    raise CorruptInputError("GIF XMP extension is truncated")
                end += len(_GIF_MAGIC_TRAILER)
            else:
                end = skip_sub_blocks(pos + 2)
            blocks.append((kind, pos, end))
            pos = end
        elif intro == 0x2C:
            if pos + 10 > n:
                raise CorruptInputError("GIF is truncated inside an image descriptor")
            iflags = data[pos + 9]
            p = pos + 10 + (3 * (2 ** ((iflags & 7) + 1)) if iflags & 0x80 else 0)
            end = skip_sub_blocks(p + 1)  # +1 for the LZW minimum code size
            blocks.append(("image", pos, end))
            pos = end
        else:
            raise CorruptInputError(f"GIF has an unknown block 0x{intro:02x} at byte {pos}")


def _gif_read(data: bytes) -> Embedded:
    _, blocks = _gif_blocks(data)
    xmp = None
    c2pa = False
    for kind, start, end in blocks:
        if kind == "xmp" and xmp is None:
            xmp = data[start + 14 : end - len(_GIF_MAGIC_TRAILER)]
        elif kind == "ext" and data[start + 1 : start + 11] == b"\xff\x0bC2PA_GIF":
            c2pa = True
    return Embedded(xmp=xmp, c2pa=c2pa)


def _gif_write(data: bytes, xmp: bytes | None) -> bytes:
    header_end, blocks = _gif_blocks(data)
    if xmp is None:
        return data
    ext = b"\x21\xff\x0b" + _GIF_XMP_APP + xmp + _GIF_MAGIC_TRAILER
    body = b"".join(data[s:e] for kind, s, e in blocks if kind != "xmp")
    header = bytearray(data[:header_end])
    header[:6] = b"GIF89a"  # extensions need 89a
    return bytes(header) + ext + body + b"\x3b"


# --------------------------------------------------------------------------- dispatch


def manifest_store(data: bytes, fmt: ImageFormat | str) -> bytes | None:
    """The embedded C2PA manifest store (JUMBF bytes) of a JPEG, PNG or WebP, or None.

    JPEG carries it in APP11 segments (``JP``, box instance, sequence number, then the JUMBF
    bytes; every segment after the first repeats the 8-byte superbox header, which is dropped
    when they are joined); PNG in a ``caBX`` chunk; WebP in a ``C2PA`` chunk.
    """
    fmt = ImageFormat(fmt) if not isinstance(fmt, ImageFormat) else fmt
    if fmt is ImageFormat.JPEG:
        segments, _ = _jpeg_segments(data)
        parts: dict[int, list[tuple[int, bytes]]] = {}
        for marker, start, end in segments:
            body = data[start + 4 : end]
            if marker == 0xEB and body.startswith(b"JP") and len(body) >= 16:
                instance = int.from_bytes(body[2:4], "big")
                seq = int.from_bytes(body[4:8], "big")
                parts.setdefault(instance, []).append((seq, body[8:]))
        for pieces in parts.values():
            pieces.sort()
            first = pieces[0][1]
            if first[4:8] != b"jumb":
                continue
            store = first + b"".join(p[8:] for _, p in pieces[1:])
            if b"c2pa" in store[:64]:
                return store
        return None
    if fmt is ImageFormat.PNG:
        for ctype, start, end in _png_chunks(data):
            if ctype == b"caBX":
                return data[start + 8 : end - 4]
        return None
    if fmt is ImageFormat.WEBP:
        for fourcc, start, _ in _riff_chunks(data):
            if fourcc == b"C2PA":
                size = int.from_bytes(data[start + 4 : start + 8], "little")
                return data[start + 8 : start + 8 + size]
        return None
    return None


def read_metadata(data: bytes, fmt: ImageFormat | str) -> Embedded:
    """Return the raw XMP/EXIF of a JPEG, PNG, WebP or GIF and whether it carries a C2PA
    manifest store; for other formats only the (conservative) C2PA flag.

    Raises:
        CorruptInputError: the container's structure is broken (e.g. truncated).
    """
    fmt = ImageFormat(fmt)
    if fmt is ImageFormat.JPEG:
        return _jpeg_read(data)
    if fmt is ImageFormat.PNG:
        return _png_read(data)
    if fmt is ImageFormat.WEBP:
        return _webp_read(data)
    if fmt is ImageFormat.GIF:
        return _gif_read(data)
    return Embedded(c2pa=may_carry_c2pa(data))


def check_structure(data: bytes, fmt: ImageFormat | str) -> None:
    """Raise :class:`CorruptInputError` if the container is visibly broken or truncated."""
    read_metadata(data, fmt)


def can_write_in_place(fmt: ImageFormat) -> bool:
    """True if metadata can be inserted into ``fmt`` without re-encoding pixels."""
    return fmt in (ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP, ImageFormat.GIF)


def write_metadata(
    data: bytes,
    fmt: ImageFormat,
    *,
    xmp: bytes | None,
    exif: bytes | None,
    size: tuple[int, int] = (1, 1),
    alpha: bool = False,
    png_text: dict[str, str] | None = None,
) -> bytes:
    """Return ``data`` with its XMP and/or EXIF replaced (``None`` leaves that block alone).

    GIF has no EXIF: ``exif`` is ignored for it. ``size`` and ``alpha`` are needed only to
    turn a simple WebP into the extended format. ``png_text``: PNG text chunks (keyword:
    value) written in place of those with the same keyword; other formats ignore it.
    """
    if fmt is ImageFormat.JPEG:
        return _jpeg_write(data, xmp, exif)
    if fmt is ImageFormat.PNG:
        return _png_write(data, xmp, exif, png_text)
    if fmt is ImageFormat.WEBP:
        return _webp_write(data, xmp, exif, size, alpha)
    if fmt is ImageFormat.GIF:
        return _gif_write(data, xmp)
    raise ValueError(f"cannot insert metadata into {fmt.value} without re-encoding")
