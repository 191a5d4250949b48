"""Write an XMP packet into the media containers that have a standard place for one without
moving their content: SVG (a ``<metadata>`` element), ISO-BMFF video and audio (a top-level
``uuid`` box, appended after the media data so no sample offset moves) and WAV (a ``_PMX``
chunk, appended). The XMP specification (part 3) names these places.

An existing packet is merged with the label. In MP4/MOV/M4A its box becomes a zero-filled
``free`` box of the same size (rewriting it in place would move the media data) and the merged
packet is appended; in WAV the merged chunk is moved to the end.

Example:
    >>> from aimark.media.formats import MediaFormat
    >>> from aimark.media.media_xmp import write_xmp
    >>> from aimark.metadata.xmp import XmpLabel
    >>> svg = b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>'
    >>> out, note = write_xmp(svg, MediaFormat.SVG, XmpLabel(digital_source_type="urn:x"))
    >>> out.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"><metadata><?xpacket'), note
    (True, None)
"""

from __future__ import annotations

import re
from collections.abc import Callable

from aimark.media.formats import MediaFormat
from aimark.metadata.xmp import XmpError, XmpLabel, build_xmp, merge_xmp

__all__ = ["XMP_FORMATS", "XMP_UUID", "write_xmp"]

XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")  # the XMP box of ISO-BMFF files
_SVG_OPEN = re.compile(rb"<svg[\s>/][^>]*>", re.S)
_XMP_PACKET = re.compile(
    rb"(<\?xpacket begin.*?<\?xpacket end[^>]*\?>|<x:xmpmeta.*?</x:xmpmeta>)", re.S
)


def _svg(data: bytes, label: XmpLabel) -> tuple[bytes, str | None]:
    m = _XMP_PACKET.search(data)
    if m:
        try:
            merged = merge_xmp(m.group(0), label)
        except XmpError:
            return data, "the SVG's XMP could not be merged; it was left as it is"
        return data[: m.start()] + merged + data[m.end() :], None
    root = _SVG_OPEN.search(data)
    if root is None:
        return data, "no <svg> root element found"
    metadata = b"<metadata>" + build_xmp(label) + b"</metadata>"
    if root.group(0).endswith(b"/>"):  # an empty <svg/>: open it
        head = root.group(0)[:-2] + b">"
        return data[: root.start()] + head + metadata + b"</svg>" + data[root.end() :], None
    return data[: root.end()] + metadata + data[root.end() :], None


def _bmff_xmp_box(data: bytes) -> tuple[int, int, int] | None:
    """(start, size, header length) of the top-level XMP ``uuid`` box, or None."""
    pos = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:
            size = len(data) - pos
        kind, ident = data[pos + 4 : pos + 8], data[pos + header : pos + header + 16]
        if kind == b"uuid" and ident == XMP_UUID:
            return pos, size, header
        if size < header:
            return None
        pos += size
    return None


def _bmff(data: bytes, label: XmpLabel) -> tuple[bytes, str | None]:
    """Append the XMP box at the end. An existing one becomes a zero-filled ``free`` box of
    the same size (no offset moves) and its packet, merged with the label, is appended."""
    found = _bmff_xmp_box(data)
    packet = build_xmp(label)
    if found is not None:
        start, size, header = found
        old = data[start + header + 16 : start + size]
        try:
            packet = merge_xmp(old, label)
        except XmpError:
            return data, "the file's XMP box could not be merged; it was left as it is"
        size_field = data[start : start + 4] + (
            data[start + 8 : start + 16] if header == 16 else b""
        )
        blank = size_field[:4] + b"free" + size_field[4:] + bytes(size - header)
        data = data[:start] + blank + data[start + size :]
    box = b"uuid" + XMP_UUID + packet
    return data + (len(box) + 4).to_bytes(4, "big") + box, None


def _wav(data: bytes, label: XmpLabel) -> tuple[bytes, str | None]:
    """Append a ``_PMX`` chunk; an existing one is merged and moved to the end (WAV has no
    byte offsets to keep)."""
    end = min(len(data), int.from_bytes(data[4:8], "little") + 8)
    pos, kept, old = 12, [data[:12]], None
    while pos + 8 <= end:
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        nxt = min(end, pos + 8 + size + (size & 1))
        if data[pos : pos + 4] == b"_PMX" and old is None:
            old = data[pos + 8 : pos + 8 + size]
        else:
            kept.append(data[pos:nxt])
        pos = nxt
    kept.append(data[pos:end])
    try:
        packet = merge_xmp(old, label) if old else build_xmp(label)
    except XmpError:
        return data, "the file's XMP chunk could not be merged; it was left as it is"
    pad = b"\x00" if len(packet) % 2 else b""
    out = b"".join(kept) + b"_PMX" + len(packet).to_bytes(4, "little") + packet + pad
    return out[:4] + (len(out) - 8).to_bytes(4, "little") + out[8:], None


_WRITERS: dict[MediaFormat, Callable[[bytes, XmpLabel], tuple[bytes, str | None]]] = {
    MediaFormat.SVG: _svg,
    MediaFormat.MP4: _bmff,
    MediaFormat.MOV: _bmff,
    MediaFormat.M4A: _bmff,
    MediaFormat.WAV: _wav,
}
XMP_FORMATS = frozenset(_WRITERS)  # the media formats aimark writes XMP into


def write_xmp(data: bytes, fmt: MediaFormat, label: XmpLabel) -> tuple[bytes, str | None]:
    """Return ``data`` with ``label`` written as XMP (merged into an existing packet), and a
    note when it could not be (then ``data`` comes back unchanged). Formats outside
    :data:`XMP_FORMATS` come back unchanged, without a note."""
    writer = _WRITERS.get(fmt)
    if writer is None:
        return data, None
    return writer(data, label)
