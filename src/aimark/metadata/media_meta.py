"""Unsigned metadata of media containers: the XMP packet (MP4, MOV, PDF, SVG, WAV, JPEG XL and
others embed one as plain bytes) and ID3 text frames (MP3, and the ID3 chunk some WAVs carry).

Example:
    >>> from aimark.metadata.media_meta import find_xmp_packet, read_id3
    >>> find_xmp_packet(b"junk<x:xmpmeta xmlns:x='adobe:ns:meta/'></x:xmpmeta>junk")
    b"<x:xmpmeta xmlns:x='adobe:ns:meta/'></x:xmpmeta>"
    >>> frame = b"TSSE\\x00\\x00\\x00\\x06\\x00\\x00\\x03Suno\\x00"
    >>> read_id3(b"ID3\\x04\\x00\\x00\\x00\\x00\\x00\\x10" + frame)
    {'TSSE': 'Suno'}
"""

from __future__ import annotations

import re

from aimark.metadata.markers import Marker

__all__ = ["MAX_XMP", "find_xmp_packet", "id3_markers", "read_id3", "riff_id3"]

MAX_XMP = 4 * 1024 * 1024  # the largest XMP packet read
_MAX_FRAMES = 512
_OPEN = b"<x:xmpmeta"
_CLOSE = b"</x:xmpmeta>"


def find_xmp_packet(data: bytes) -> bytes | None:
    """The first complete ``x:xmpmeta`` element in ``data`` (up to :data:`MAX_XMP` bytes), or
    None. Compressed packets (e.g. a PDF metadata stream with FlateDecode) are not found."""
    start = data.find(_OPEN)
    while start >= 0:
        end = data.find(_CLOSE, start, start + MAX_XMP)
        if end >= 0:
            return bytes(data[start : end + len(_CLOSE)])
        start = data.find(_OPEN, start + len(_OPEN))
    return None


def _syncsafe(b: bytes) -> int:
    n = 0
    for x in b:
        n = (n << 7) | (x & 0x7F)
    return n


def _text(enc: int, raw: bytes) -> str:
    codec = {0: "latin-1", 1: "utf-16", 2: "utf-16-be", 3: "utf-8"}.get(enc, "latin-1")
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.replace("\x00", " / ").strip(" /")[:2000]


def read_id3(data: bytes) -> dict[str, str]:
    """Text frames (``T***``, ``TXXX:description``, ``COMM``) of the ID3v2.3/2.4 tag at the
    start of ``data``; empty without one. Malformed frames end the walk, never raise."""
    if len(data) < 10 or not data.startswith(b"ID3") or data[3] not in (3, 4):
        return {}
    end = min(len(data), 10 + _syncsafe(data[6:10]))
    pos, out = 10, {}
    if data[5] & 0x40 and pos + 4 <= end:  # extended header
        ext = data[pos : pos + 4]
        pos += _syncsafe(ext) if data[3] == 4 else 4 + int.from_bytes(ext, "big")
    for _ in range(_MAX_FRAMES):
        if pos + 10 > end or data[pos] == 0:
            break
        fid = data[pos : pos + 4].decode("latin-1")
        raw_size = data[pos + 4 : pos + 8]
        size = _syncsafe(raw_size) if data[3] == 4 else int.from_bytes(raw_size, "big")
        body = data[pos + 10 : pos + 10 + size]
        pos += 10 + size
        if size <= 1 or len(body) < size or not fid.isalnum():
            break
        if fid == "TXXX" or fid == "COMM":
            skip = 4 if fid == "COMM" else 1  # encoding (+ language for COMM)
            parts = _text(body[0], body[skip:]).split(" / ", 1)
            name = f"{fid}:{parts[0]}" if len(parts) == 2 and parts[0] else fid
            out[name] = parts[-1]
        elif fid.startswith("T"):
            out[fid] = _text(body[0], body[1:])
    return out


# names of generative audio systems as they appear in encoder / comment fields
_AUDIO_GENERATORS = re.compile(
    r"\b(suno|udio|elevenlabs|eleven labs|stable audio|musicgen|audiocraft|riffusion|mubert|"
    r"aiva|soundraw|boomy|beatoven|bark|tortoise-tts|openai tts)\b",
    re.I,
)


def id3_markers(frames: dict[str, str], where: str = "ID3") -> list[Marker]:
    """Markers for ID3 fields that name a generative audio system (unsigned: easily forged)."""
    found = []
    for name, value in frames.items():
        m = _AUDIO_GENERATORS.search(value)
        if m:
            found.append(Marker(m.group(1), f"{where} {name}", value[:120]))
    return found


def riff_id3(data: bytes, max_chunks: int = 10_000) -> dict[str, str]:
    """ID3 text frames of the ``id3 `` chunk of a RIFF file (WAV), empty without one."""
    pos, end = 12, min(len(data), int.from_bytes(data[4:8], "little") + 8)
    for _ in range(max_chunks):
        if pos + 8 > end:
            break
        kind, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if kind in (b"id3 ", b"ID3 "):
            return read_id3(data[pos + 8 : pos + 8 + size])
        pos += 8 + size + (size & 1)
    return {}
