"""Structural checks of media containers before c2pa sees them (hostile inputs).

c2pa-rs parses these containers itself, but some shapes cost it seconds (a WAV of 200,000
empty chunks takes 1.4 s to read and 3.7 s to sign, linearly in the count), and some it signs
while silently dropping the content (an MP3 whose ID3 tag claims more bytes than the file has
comes out as a 3.5 KB file). A walk of the container's own framing, in linear time with fixed
ceilings on depth and counts, refuses those before any work is done, with a message that says
what is wrong; it also finds truncation and sizes past the end, reported as problems.

Example:
    >>> from aimark.media.formats import MediaFormat
    >>> from aimark.media.structure import check_structure
    >>> wav = b"RIFF" + (28).to_bytes(4, "little") + b"WAVE" + b"fmt " + (16).to_bytes(4, "little")
    >>> check_structure(wav + bytes(16), MediaFormat.WAV)
    []
    >>> check_structure(wav + bytes(8), MediaFormat.WAV)[0]
    'the RIFF header claims 36 bytes, the file has 28 (truncated)'
"""

from __future__ import annotations

from aimark.errors import CorruptInputError
from aimark.media.formats import MediaFormat

__all__ = [
    "MAX_BOXES",
    "MAX_CHUNKS",
    "MAX_DEPTH",
    "ZIP_FORMATS",
    "check_structure",
    "unsupported_by_c2pa",
    "zip_methods",
]

MAX_DEPTH = 16  # nesting of ISO-BMFF container boxes
MAX_BOXES = 200_000  # boxes in one ISO-BMFF file
MAX_CHUNKS = 10_000  # top-level chunks of a RIFF file (WAV, AVI)
MAX_FLAC_BLOCKS = 1_000  # FLAC metadata blocks
MAX_SVG_ELEMENTS = 100_000

# ISO-BMFF boxes whose payload is a sequence of boxes (``meta`` after a 4-byte version/flags)
_CONTAINERS = {
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts", b"dinf", b"moof", b"traf",
    b"mvex", b"mfra", b"tref", b"ilst", b"sinf", b"schi",
}  # fmt: skip
_FULL_CONTAINERS = {b"meta"}


def _bmff(data: bytes) -> list[str]:
    problems: list[str] = []
    count = 0
    stack = [(0, len(data), 0)]  # (start, end, depth) of box sequences still to walk
    while stack:
        pos, end, depth = stack.pop()
        while pos < end:
            if end - pos < 8:
                problems.append(f"{end - pos} stray bytes at byte {pos} (truncated box header)")
                break
            size = int.from_bytes(data[pos : pos + 4], "big")
            kind = data[pos + 4 : pos + 8]
            header = 8
            if size == 1:
                if end - pos < 16:
                    problems.append(f"box at byte {pos} is cut inside its 64-bit size")
                    break
                size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
            elif size == 0:  # to the end of the enclosing sequence
                size = end - pos
            name = kind.decode("latin-1")
            if size < header:
                raise CorruptInputError(
                    f"box {name!r} at byte {pos} claims {size} bytes, less than its header"
                )
            if size > end - pos:
                where = "are left" if depth == 0 else "are left in its parent box"
                problems.append(
                    f"box {name!r} at byte {pos} claims {size:,} bytes, {end - pos:,} {where} "
                    "(truncated or malformed)"
                )
                break
            count += 1
            if count > MAX_BOXES:
                raise CorruptInputError(f"more than {MAX_BOXES:,} boxes (a box bomb?)")
            body = pos + header + (4 if kind in _FULL_CONTAINERS else 0)
            if kind in _CONTAINERS or kind in _FULL_CONTAINERS:
                if depth + 1 > MAX_DEPTH:
                    raise CorruptInputError(f"boxes nested more than {MAX_DEPTH} deep")
                stack.append((body, pos + size, depth + 1))
            pos += size
    return problems


def _riff(data: bytes) -> list[str]:
    problems: list[str] = []
    if len(data) < 12:
        raise CorruptInputError("the RIFF header is cut short")
    declared = int.from_bytes(data[4:8], "little")
    end = len(data)
    if declared + 8 > len(data):
        problems.append(
            f"the RIFF header claims {declared + 8:,} bytes, the file has {len(data):,} (truncated)"
        )
    else:
        end = declared + 8
    pos, count = 12, 0
    while pos + 8 <= end:
        kind = data[pos : pos + 4].decode("latin-1")
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        count += 1
        if count > MAX_CHUNKS:
            raise CorruptInputError(f"more than {MAX_CHUNKS:,} RIFF chunks (a chunk bomb?)")
        if size > end - pos - 8:
            problems.append(
                f"chunk {kind!r} at byte {pos} claims {size:,} bytes, {end - pos - 8:,} are left "
                "(truncated or malformed)"
            )
            break
        pos += 8 + size + (size & 1)
    return problems


def _id3_end(data: bytes) -> int:
    """End of a leading ID3v2 tag (0 without one); refuses a tag larger than the file."""
    if not data.startswith(b"ID3"):
        return 0
    if len(data) < 10 or any(b >= 0x80 for b in data[6:10]):
        raise CorruptInputError("the ID3 tag header is malformed")
    size = 0
    for b in data[6:10]:
        size = (size << 7) | b
    end = 10 + size + (10 if data[5] & 0x10 else 0)
    if end > len(data):
        raise CorruptInputError(
            f"the ID3 tag claims {end:,} bytes, the file has {len(data):,}; refused, as c2pa "
            "would sign it and drop the audio"
        )
    return end


def _mp3(data: bytes) -> list[str]:
    end = _id3_end(data)
    if end == len(data):
        return ["the file holds an ID3 tag and no audio"]
    return []


def _flac(data: bytes) -> list[str]:
    pos = _id3_end(data)  # c2pa keeps its manifest in an ID3 tag in front of the stream
    if data[pos : pos + 4] != b"fLaC":
        raise CorruptInputError("no FLAC stream marker after the ID3 tag")
    pos += 4
    for _ in range(MAX_FLAC_BLOCKS):
        if pos + 4 > len(data):
            return ["the FLAC metadata is cut short (truncated)"]
        last, size = data[pos] & 0x80, int.from_bytes(data[pos + 1 : pos + 4], "big")
        if pos + 4 + size > len(data):
            raise CorruptInputError(
                f"a FLAC metadata block at byte {pos} claims {size:,} bytes past the end"
            )
        pos += 4 + size
        if last:
            return []
    raise CorruptInputError(f"more than {MAX_FLAC_BLOCKS:,} FLAC metadata blocks")


MAX_ZIP_ENTRIES = 100_000
ZIP_FORMATS = {
    MediaFormat.DOCX, MediaFormat.XLSX, MediaFormat.PPTX, MediaFormat.EPUB, MediaFormat.ODT,
    MediaFormat.ODS, MediaFormat.ODP, MediaFormat.ZIP,
}  # fmt: skip


def zip_methods(data: bytes) -> set[int]:
    """The compression methods of a ZIP package's entries, from its central directory (0 is
    stored, 8 deflate). Raises CorruptInputError when the directory cannot be found."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if end < 0 or end + 22 > len(data):
        raise CorruptInputError("the ZIP package has no end-of-directory record (truncated?)")
    count = int.from_bytes(data[end + 10 : end + 12], "little")
    pos = int.from_bytes(data[end + 16 : end + 20], "little")
    if count > MAX_ZIP_ENTRIES:
        raise CorruptInputError(f"more than {MAX_ZIP_ENTRIES:,} ZIP entries")
    methods = set()
    for _ in range(count):
        if data[pos : pos + 4] != b"PK\x01\x02" or pos + 46 > len(data):
            raise CorruptInputError("the ZIP package's central directory is malformed")
        methods.add(int.from_bytes(data[pos + 10 : pos + 12], "little"))
        name, extra, comment = (
            int.from_bytes(data[pos + o : pos + o + 2], "little") for o in (28, 30, 32)
        )
        pos += 46 + name + extra + comment
    return methods


def _zip(data: bytes) -> list[str]:
    zip_methods(data)
    return []


def _pdf(data: bytes) -> list[str]:
    if b"%%EOF" not in data[-2048:]:
        return [
            "no %%EOF marker at the end of the PDF (truncated?); a cut PDF can lose its "
            "Content Credentials without looking tampered"
        ]
    return []


def _svg(data: bytes) -> list[str]:
    if data.count(b"<") > MAX_SVG_ELEMENTS:
        raise CorruptInputError(f"more than {MAX_SVG_ELEMENTS:,} SVG elements")
    return []


_CHECKS = {
    MediaFormat.MP4: _bmff,
    MediaFormat.MOV: _bmff,
    MediaFormat.M4A: _bmff,
    MediaFormat.JXL: lambda d: _bmff(d) if d[4:8] == b"JXL " else [],
    MediaFormat.WAV: _riff,
    MediaFormat.AVI: _riff,
    MediaFormat.MP3: _mp3,
    MediaFormat.FLAC: _flac,
    MediaFormat.PDF: _pdf,
    MediaFormat.SVG: _svg,
    **dict.fromkeys(ZIP_FORMATS, _zip),
}


def unsupported_by_c2pa(data: bytes, fmt: MediaFormat) -> str | None:
    """Why c2pa-python cannot handle this file although it handles its format, or None.

    c2pa-rs 0.91 (c2pa-python 0.38) reads ZIP packages only when every entry is stored
    uncompressed; DOCX, XLSX, PPTX, EPUB and OpenDocument files as office programs save them
    deflate their parts."""
    if fmt in ZIP_FORMATS and zip_methods(data) - {0}:
        return (
            f"{fmt.label} whose entries are compressed (deflate): the C2PA library aimark "
            "uses (c2pa-python 0.38) reads ZIP packages only when every entry is stored "
            "uncompressed"
        )
    return None


def check_structure(data: bytes, fmt: MediaFormat) -> list[str]:
    """Walk the container's framing: raise :class:`~aimark.errors.CorruptInputError` for
    shapes refused outright (nesting and count bombs, an ID3 tag larger than the file), and
    return the problems of a file that can still be read (truncation, sizes past the end).
    Verification reports the problems; labelling refuses a file that has any, since c2pa
    would sign it anyway and write a broken file."""
    check = _CHECKS.get(fmt)
    return check(data) if check else []
