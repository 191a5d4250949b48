"""Fuzzing ``Verifier.verify_bytes``, the upload path: hostile bytes in, always a Report out.

The inputs are structure-aware mutations of real files made at test time (every image format
aimark reads, in several modes and codecs; files labelled by aimark itself, with C2PA, XMP, EXIF
and a watermark; C2PA-signed and plain texts) and of the shared fixtures when they are present.
A mutation plan (a few operations, drawn by hypothesis) is applied to one seed:

- bytes: bit flips, byte and integer overwrites (1/2/4 bytes, either byte order), truncation,
  deleted, inserted and repeated ranges (biased towards the headers);
- structure: the file is walked leniently by this module's own parsers (PNG chunks, JPEG
  segments, RIFF chunks, ISO-BMFF and JUMBF boxes, TIFF IFD entries, GIF blocks), then a unit
  is duplicated, dropped, swapped, cut, spliced in from another seed, or its length field set
  to an interesting value (0, off by one, 2**31, 2**32 - 1, ...); image dimension fields are set
  to huge values (decompression bombs);
- metadata injection in the container's own syntax: XMP packets (AI labels, TC260 JSON, DTDs,
  UTF-16), text chunks (A1111 parameters, ComfyUI JSON, deep nesting, NaN), EXIF blocks and
  C2PA manifest stores taken from labelled files (intact, truncated or damaged);
- text: Unicode insertions (BOMs, variation selectors, combining marks, controls),
  normalisation, CRLF, and edits *inside* the C2PA text wrapper at the byte level (its length
  field, version, store), duplicated, truncated, moved, repeated (up to 60,000 times) and
  synthesised wrappers.

Every input goes through two verifiers: one with the defaults, and one with trust anchors, two
watermark keys and the public-watermark detectors (so pixels are decoded and the detectors run;
its pixel limit is lower so that a 100-megapixel decode does not eat the deadline). For each:
a ``Report`` comes back, ``to_dict()`` is strict JSON (no NaN), an error has a non-empty code,
the input bytes are unchanged, no warning escapes, the call ends within the deadline, and its
own peak resident memory (Linux: the peak is reset before each call) stays under
``_MAX_RSS_GROWTH``. The verifications run in a spawned worker process (``Sandbox``) whose
address space is capped a few GB above its size: a segfault or abort in native code, a hang
(no answer in ``_HANG_S``) or a runaway allocation then fails the example, which hypothesis
shrinks like any other, instead of ending the test run or calling the machine's out-of-memory
killer. The regression tests at the end run in-process.

Two tiers:

- quick (default suite): ``_QUICK_EXAMPLES`` examples per corpus, derandomised, so CI always
  runs the same inputs;
- slow (``-m slow``): random, bounded by wall-clock time: batches of ``_BATCH`` examples, each
  with its own seed, until the corpus's share of ``AIMARK_FUZZ_SECONDS`` (default 160 s in
  all) is spent. Hypothesis has no time budget, so the test checks the clock between batches;
  a batch takes a few seconds, which is the overrun at most. ``AIMARK_FUZZ_SEED`` replays a
  run (the seed is printed); a failure prints the shrunk plan and a reproduction blob.

For long runs by hand: ``AIMARK_FUZZ_SAVE=dir`` keeps every failing input and every call
slower than ``_SLOW_CALL_S`` there; ``AIMARK_FUZZ_LAST=path`` writes each input there before
it is verified (what is left after a native crash is the culprit). Example::

    AIMARK_FUZZ_SECONDS=3600 AIMARK_FUZZ_SAVE=/tmp/fuzz python -m pytest -x -m slow \\
        -p no:cacheprovider tests/test_fuzz_verify.py

Findings are kept below as ``test_regression_*`` with the minimal bytes built in code.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import multiprocessing
import os
import random
import re
import signal
import struct
import sys
import tempfile
import time
import traceback
import unicodedata
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import piexif
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from PIL import Image

import aimark

try:
    import resource
except ImportError:  # not on Windows: no address-space cap there
    resource = None  # type: ignore[assignment]
from aimark.media.image_io import heif_available
from conftest import SHARED, encode, natural_image

# ------------------------------------------------------------------------------ settings

_QUICK_EXAMPLES = {"images": 100, "labelled": 80, "text": 80, "shared": 60}
_BATCH = 60
_SLOW_SECONDS = float(os.environ.get("AIMARK_FUZZ_SECONDS", "160"))
_SLOW_SHARE = {"images": 0.3, "labelled": 0.3, "text": 0.2, "shared": 0.2}
_DEADLINE_MS = 10_000  # per example (two verifications); a 2-core CI machine under load
_HANG_S = 120  # a verification still running after this is a hang (the worker is killed)
_WORKER_START_S = 120
_MAX_RSS_GROWTH = 1_500 * 1024 * 1024  # peak resident memory one verify_bytes call may add
_AS_HEADROOM = 6 * 1024**3  # address space allowed above the size at the start of a fuzz run
_KEYED_LIMITS = aimark.Limits(max_pixels=4_000_000)
_LAST_INPUT = os.environ.get("AIMARK_FUZZ_LAST")  # a path: every input is written there first
_SAVE_DIR = os.environ.get("AIMARK_FUZZ_SAVE")  # a folder: failing and slow inputs are kept there
_SLOW_CALL_S = 3.0  # a call this slow is kept in _SAVE_DIR

# Even without an example database hypothesis keeps caches (source constants, Unicode tables)
# in ./.hypothesis; keep them out of the checkout
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "aimark-hypothesis"))

_COMMON = {
    "database": None,  # no example database: nothing is written into the checkout
    "deadline": _DEADLINE_MS,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
    "print_blob": True,
}


# ------------------------------------------------------------------------------ seeds


def _png_16bit(w: int, h: int) -> bytes:
    arr = (np.arange(w * h, dtype=np.uint32).reshape(h, w) * 97 % 65536).astype(np.uint16)
    return encode(Image.fromarray(arr), "png")


def _icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _animated(fmt: str, size: tuple[int, int] = (24, 16)) -> bytes:
    frames = [natural_image(*size, seed=s) for s in range(3)]
    if fmt == "gif":
        frames = [f.convert("P", palette=Image.Palette.ADAPTIVE) for f in frames]
    buf = io.BytesIO()
    name = aimark.ImageFormat.parse(fmt).pillow_name
    extra = {"transparency": 0} if fmt == "gif" else {}
    frames[0].save(buf, name, save_all=True, append_images=frames[1:], duration=40, **extra)
    return buf.getvalue()


@functools.lru_cache(maxsize=1)
def _image_seeds() -> dict[str, bytes]:
    """Unlabelled files of every format, in several modes and codecs. The RGB ones are big
    enough (>= 128 px) for the watermark detector to run on them; the rest are small."""
    big = natural_image(192, 160, seed=1)
    small = natural_image(24, 16, seed=2)
    exif = piexif.dump({"0th": {piexif.ImageIFD.Software: b"seed camera"}, "Exif": {}})
    seeds = {
        "png-rgb": encode(big, "png"),
        "png-l": encode(small.convert("L"), "png"),
        "png-rgba": encode(small.convert("RGBA"), "png"),
        "png-la": encode(small.convert("LA"), "png"),
        "png-1": encode(small.convert("1"), "png"),
        "png-p-trns": encode(small.convert("P"), "png", transparency=3),
        "png-i16": _png_16bit(130, 128),
        "png-exif-icc": encode(small, "png", exif=exif, icc_profile=_icc()),
        "png-thin": encode(natural_image(1200, 128, seed=3).convert("L"), "png"),
        "png-tall": encode(natural_image(128, 1200, seed=4), "png", compress_level=1),
        "png-1x1": encode(Image.new("RGB", (1, 1)), "png"),
        "apng": _animated("png"),
        "jpeg-rgb": encode(big, "jpeg", quality=80),
        "jpeg-progressive": encode(small, "jpeg", progressive=True),
        "jpeg-cmyk": encode(small.convert("CMYK"), "jpeg"),
        "jpeg-l-exif": encode(small.convert("L"), "jpeg", exif=exif, icc_profile=_icc()),
        "jpeg-restart": encode(small, "jpeg", restart_marker_blocks=1),
        "webp-lossy": encode(big, "webp", quality=60),
        "webp-lossless-rgba": encode(small.convert("RGBA"), "webp", lossless=True),
        "webp-exif": encode(small, "webp", exif=exif),
        "webp-animated": _animated("webp"),
        "tiff-raw": encode(big, "tiff"),
        "tiff-lzw": encode(small, "tiff", compression="tiff_lzw"),
        "tiff-deflate": encode(small, "tiff", compression="tiff_adobe_deflate"),
        "tiff-packbits": encode(small.convert("L"), "tiff", compression="packbits"),
        "tiff-jpeg": encode(small, "tiff", compression="jpeg"),
        "tiff-g4": encode(small.convert("1"), "tiff", compression="group4"),
        "tiff-i16": encode(Image.open(io.BytesIO(_png_16bit(24, 16))), "tiff"),
        "tiff-bigtiff": encode(small, "tiff", big_tiff=True),
        "tiff-multipage": _animated("tiff"),
        "gif": encode(big, "gif"),
        "gif-animated": _animated("gif"),
    }
    for fmt in ("avif", "heic"):
        if fmt == "heic" and not heif_available():
            continue
        seeds[f"{fmt}-rgb"] = encode(big, fmt, quality=50)
        seeds[f"{fmt}-rgba-small"] = encode(small.convert("RGBA"), fmt, quality=50)
    return seeds


def _labelled_seeds(creds: aimark.Credentials, key: aimark.WatermarkKey) -> dict[str, bytes]:
    """Files labelled by aimark: C2PA + XMP + EXIF, watermarked where the format allows."""
    image = natural_image(192, 160, seed=5)
    marked = aimark.Labeler(creds, generator=("fuzz-model", "1.0"), watermark_key=key)
    plain = aimark.Labeler(creds, generator=("fuzz-model", "1.0"))
    seeds = {}
    for fmt in ("png", "jpeg", "webp", "tiff", "avif", "heic"):
        if fmt == "heic" and not heif_available():
            continue
        seeds[f"labelled-{fmt}"] = marked.label_image(image, format=fmt).data
    seeds["labelled-gif"] = plain.label_image(image, format="gif").data
    seeds["labelled-small-png"] = plain.label_image(natural_image(24, 16), format="png").data
    thumb = aimark.Labeler(creds, generator="fuzz-model", thumbnail=True, allow_training=False)
    seeds["labelled-thumbnail-jpeg"] = thumb.label_image(image, format="jpeg").data
    # an existing manifest becomes the parent ingredient: two manifests in one store
    seeds["relabelled-jpeg"] = plain.label_image(seeds["labelled-jpeg"]).data
    seeds["relabelled-png"] = plain.label_image(seeds["labelled-small-png"]).data
    return seeds


_PROSE = (
    "The lighthouse keeper had kept the same routine for thirty years. Every evening he "
    "climbed the steps, wiped the salt from the lens, and lit the lamp.\n"
)
_PLAIN_TEXTS = {
    "text-plain": _PROSE,
    "text-one-char": "x",
    "text-unicode": "Café, naïve — 東京 — ✨🤖, עברית, العربية, ❤️ with VS16.\n",
    "text-bom": "\ufeffstarts with a byte-order mark\r\nand CRLF\r\n",
    "text-nfd": unicodedata.normalize("NFD", "Crème brûlée à la française.\n"),
    "text-selectors": "\ufeff\ufe00\ufe0f\U000e0100\U000e01ef not a wrapper \ufeff\ufe01",
}


def _text_seeds(creds: aimark.Credentials) -> dict[str, str]:
    labeler = aimark.Labeler(creds, generator=("fuzz-llm", "2"))
    seeds = dict(_PLAIN_TEXTS)
    for name in ("text-plain", "text-one-char", "text-unicode", "text-bom"):
        seeds["signed-" + name.removeprefix("text-")] = labeler.label_text(_PLAIN_TEXTS[name])
    return seeds


def _shared_seeds() -> dict[str, bytes]:
    return {
        f"{folder}/{p.name}": p.read_bytes()
        for folder in ("c2pa", "photos")
        if (SHARED / folder).is_dir()
        for p in sorted((SHARED / folder).iterdir())
        if p.is_file()
    }


# ------------------------------------------------------------------------------ lenient walkers
# Written for this test, independent of aimark's own parsers, and never raising: they find the
# units (chunks, segments, boxes, entries) that the structural mutations work on.


@dataclass(frozen=True)
class Unit:
    """A structural unit: bytes [start, end) with a length field at ``len_off``."""

    start: int
    end: int
    len_off: int
    len_size: int
    big: bool


def _u(data: bytes, off: int, size: int, big: bool) -> int:
    return int.from_bytes(data[off : off + size], "big" if big else "little")


def _png_units(data: bytes) -> list[Unit]:
    units, pos, n = [], 8, len(data)
    while pos + 8 <= n and len(units) < 4096:
        end = pos + 12 + _u(data, pos, 4, True)
        units.append(Unit(pos, min(end, n), pos, 4, True))
        if data[pos + 4 : pos + 8] == b"IEND":
            break
        pos = end
    return units


def _jpeg_units(data: bytes) -> list[Unit]:
    units, pos, n = [], 2, len(data)
    while pos + 4 <= n and len(units) < 4096:
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker == 0xD9:
            break
        end = pos + 2 + _u(data, pos + 2, 2, True)
        if marker == 0xDA:  # the scan data runs to the next marker that is not RSTn / stuffing
            scan = end
            while True:
                scan = data.find(b"\xff", scan)
                if scan < 0 or scan + 1 >= n:
                    scan = n
                    break
                if data[scan + 1] == 0 or 0xD0 <= data[scan + 1] <= 0xD7:
                    scan += 2
                    continue
                break
            end = max(end, scan)
        units.append(Unit(pos, min(end, n), pos + 2, 2, True))
        pos = end
    return units


def _riff_units(data: bytes) -> list[Unit]:
    units, pos, n = [Unit(0, min(12, len(data)), 4, 4, False)], 12, len(data)
    while pos + 8 <= n and len(units) < 4096:
        size = _u(data, pos + 4, 4, False)
        end = pos + 8 + size + (size & 1)
        units.append(Unit(pos, min(end, n), pos + 4, 4, False))
        pos = end
    return units


_BOX_CONTAINERS = {
    b"meta": 4,
    b"iprp": 0,
    b"ipco": 0,
    b"dinf": 0,
    b"moov": 0,
    b"trak": 0,
    b"mdia": 0,
    b"minf": 0,
    b"stbl": 0,
    b"jumb": 0,
    b"grpl": 0,
    b"iref": 4,
}


def _boxes(data: bytes, start: int, end: int, depth: int, out: list[Unit]) -> None:
    pos = start
    while pos + 8 <= end and len(out) < 4096:
        size = _u(data, pos, 4, True)
        kind = data[pos + 4 : pos + 8]
        header, len_off, len_size = 8, pos, 4
        if size == 1 and pos + 16 <= end:
            size, header, len_off, len_size = _u(data, pos + 8, 8, True), 16, pos + 8, 8
        elif size == 0:
            size = end - pos
        if size < header:
            break
        box_end = min(pos + size, end)
        out.append(Unit(pos, box_end, len_off, len_size, True))
        if kind in _BOX_CONTAINERS and depth < 8:
            _boxes(data, pos + header + _BOX_CONTAINERS[kind], box_end, depth + 1, out)
        pos += size


def _jumbf_units(data: bytes) -> list[Unit]:
    """JUMBF superboxes (C2PA manifest stores) wherever they are, and the boxes inside."""
    out: list[Unit] = []
    i = data.find(b"jumb", 4)
    while i >= 0 and len(out) < 2048:
        _boxes(data, i - 4, min(len(data), i - 4 + max(_u(data, i - 4, 4, True), 8)), 0, out)
        i = data.find(b"jumb", i + 4)
    return out


def _tiff_units(data: bytes) -> list[Unit]:
    """The header and IFD entries (classic: 12 bytes, 4-byte counts; BigTIFF: 20 and 8)."""
    if len(data) < 16:
        return []
    big = data[:2] == b"MM"
    wide = data[2:4] in (b"\x00+", b"+\x00")  # BigTIFF
    off, cnt, entry_size = (8, 8, 20) if wide else (4, 2, 12)
    units, seen = [Unit(0, off + off, off, off, big)], set()
    queue = [_u(data, off, off, big)]
    while queue and len(seen) < 16:
        ifd = queue.pop()
        if ifd in seen or ifd + cnt > len(data):
            continue
        seen.add(ifd)
        count = _u(data, ifd, cnt, big)
        for k in range(min(count, 512)):
            e = ifd + cnt + entry_size * k
            if e + entry_size > len(data):
                break
            units.append(Unit(e, e + entry_size, e + 4, off, big))
            if _u(data, e, 2, big) in (330, 34665, 34853):  # SubIFDs, EXIF, GPS
                queue.append(_u(data, e + 4 + off, off, big))
        nxt = ifd + cnt + entry_size * count
        if nxt + off <= len(data):
            queue.append(_u(data, nxt, off, big))
    return units


def _tiff_value_field(data: bytes) -> int:
    """Offset of the value field in a TIFF entry (after tag, type and count)."""
    return 12 if data[2:4] in (b"\x00+", b"+\x00") else 8


def _gif_units(data: bytes) -> list[Unit]:
    n = len(data)
    if n < 13:
        return []
    flags = data[10]
    pos = 13 + (3 * (2 ** ((flags & 7) + 1)) if flags & 0x80 else 0)
    units = [Unit(0, min(pos, n), 10, 1, False)]

    def sub_blocks(p: int) -> int:
        while p < n and data[p]:
            p += 1 + data[p]
        return min(p + 1, n)

    while pos < n and len(units) < 4096:
        intro = data[pos]
        if intro == 0x21 and pos + 2 < n:
            end = sub_blocks(pos + 2)
            units.append(Unit(pos, end, pos + 2, 1, False))
        elif intro == 0x2C and pos + 10 <= n:
            f = data[pos + 9]
            p = pos + 10 + (3 * (2 ** ((f & 7) + 1)) if f & 0x80 else 0)
            end = sub_blocks(p + 1)
            units.append(Unit(pos, end, min(p + 1, n - 1), 1, False))
        else:
            break
        pos = end
    return units


def _kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data[:4] == b"RIFF":
        return "riff"
    if data[4:8] == b"ftyp":
        return "bmff"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if data[:3] == b"GIF":
        return "gif"
    return None


def units(data: bytes) -> list[Unit]:
    """The units of ``data`` in file order (duplicates removed)."""
    kind = _kind(data)
    found: list[Unit] = []
    if kind == "png":
        found = _png_units(data)
    elif kind == "jpeg":
        found = _jpeg_units(data)
    elif kind == "riff":
        found = _riff_units(data)
    elif kind == "bmff":
        _boxes(data, 0, len(data), 0, found)
    elif kind == "tiff":
        found = _tiff_units(data)
    elif kind == "gif":
        found = _gif_units(data)
    found += _jumbf_units(data)
    return sorted(set(found), key=lambda u: (u.start, -u.end))


def dimension_fields(data: bytes) -> list[tuple[int, int, bool]]:
    """(offset, width in bytes, big-endian) of the fields holding image dimensions."""
    kind, out = _kind(data), []
    if kind == "png":
        out = [(16, 4, True), (20, 4, True)]
    elif kind == "gif":
        out = [(6, 2, False), (8, 2, False)]
        out += [(u.start + 5, 2, False) for u in _gif_units(data) if data[u.start] == 0x2C]
        out += [(u.start + 7, 2, False) for u in _gif_units(data) if data[u.start] == 0x2C]
    elif kind == "jpeg":
        for u in _jpeg_units(data):
            if data[u.start + 1] in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB):
                out += [(u.start + 5, 2, True), (u.start + 7, 2, True)]
    elif kind == "riff":
        for u in _riff_units(data)[1:]:
            fourcc = data[u.start : u.start + 4]
            if fourcc == b"VP8X":
                out += [(u.start + 12, 3, False), (u.start + 15, 3, False)]
            elif fourcc == b"VP8L":
                out += [(u.start + 9, 4, False)]
            elif fourcc == b"VP8 ":
                out += [(u.start + 14, 2, False), (u.start + 16, 2, False)]
            elif fourcc == b"ANMF":
                out += [(u.start + 14, 3, False), (u.start + 17, 3, False)]
    elif kind == "bmff":
        for u in units(data):
            if data[u.start + 4 : u.start + 8] == b"ispe":
                out += [(u.start + 12, 4, True), (u.start + 16, 4, True)]
    elif kind == "tiff":
        for u in _tiff_units(data)[1:]:
            big = u.big
            if _u(data, u.start, 2, big) in (256, 257):
                size = 2 if _u(data, u.start + 2, 2, big) == 3 else 4
                out.append((u.start + _tiff_value_field(data), size, big))
    return [f for f in out if f[0] + f[1] <= len(data)]


# ------------------------------------------------------------------------------ C2PA text wrapper
# Re-implemented here from the specification (C2PA 2.3 A.8), not imported from aimark.

_MAGIC = b"C2PATXT\0"
_RUN = re.compile("\ufeff([\ufe00-\ufe0f\U000e0100-\U000e01ef]+)")


def _selectors(raw: bytes) -> str:
    return "".join(chr(0xFE00 + b) if b < 16 else chr(0xE0100 + b - 16) for b in raw)


def _unselect(run: str) -> bytes:
    return bytes(ord(c) - 0xFE00 if ord(c) < 0xFF00 else ord(c) - 0xE0100 + 16 for c in run)


def wrapper_text(store: bytes, *, version: int = 1, length: int | None = None) -> str:
    """A C2PA text wrapper for ``store`` (``length`` overrides the declared length)."""
    n = len(store) if length is None else length
    return "\ufeff" + _selectors(_MAGIC + bytes([version]) + n.to_bytes(4, "big") + store)


def wrappers(text: str) -> list[tuple[int, int, bytes]]:
    """(start, end, decoded bytes) of every variation-selector run after a U+FEFF."""
    return [(m.start(), m.end(), _unselect(m.group(1))) for m in _RUN.finditer(text)]


# ------------------------------------------------------------------------------ mutation plans

_INTERESTING = (
    0,
    1,
    2,
    7,
    8,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x10000,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
)
_BIG_DIMS = (0, 1, 127, 128, 129, 4095, 0x3FFF, 0xFFFF, 0x10000, 10_001, 0x7FFFFFFF, 0xFFFFFFFF)

_ANY = st.integers(0, 2**32 - 1)  # positions and indices are taken modulo the size at hand
# biased towards the headers, past the magic bytes (a change there only makes it unsupported;
# positions from 2**32 are taken modulo the size, so they still get there now and then)
_POS = st.one_of(st.integers(8, 4095), st.integers(8, 2**32 - 1))
_LEN = st.one_of(
    st.tuples(st.just("+"), st.integers(-16, 16)),
    st.tuples(st.just("="), st.sampled_from(_INTERESTING)),
)


def _json_text() -> st.SearchStrategy[str]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    )
    values = st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=12,
    )
    return st.one_of(
        values.map(json.dumps),
        st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", '{"Label": NaN}']),
        st.sampled_from(['{"Label": "1", "ContentProducer": "x"}', '{"Label": 1}', "[1, 2]"]),
        st.tuples(
            st.sampled_from(["[", '{"a":', "[{}, "]),
            st.sampled_from([2, 100, 1000, 5000]) | st.integers(1, 5000),
        ).map(lambda t: t[0] * t[1]),
        st.text(max_size=40),
    )


_AI_URIS = (
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia",
    "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
)


_XMP_HEADS = (
    "",
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<!DOCTYPE x [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
    '<?xml version="1.0" encoding="UTF-16"?>',
)


@dataclass(frozen=True)
class XmpPacket:
    """An XMP packet, built when the plan is applied (a failing example prints these few
    fields, not the megabyte a large packet can be)."""

    dst: str
    bag: int  # > 1: the digital source type is an rdf:Bag of this many distinct values
    nest: int  # rdf:Description elements nested inside the digital source type, one per level
    tool: str
    tc260: str
    head: str
    codec: str
    cut: int | None

    def build(self) -> bytes:
        esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;")  # noqa: E731
        value = esc(self.dst)
        if self.bag > 1:
            value = (
                "<rdf:Bag>"
                + f"<rdf:li>{value}</rdf:li>"
                + "".join(f"<rdf:li>v{i}</rdf:li>" for i in range(1, self.bag))
                + "</rdf:Bag>"
            )
        tag = "Iptc4xmpExt:DigitalSourceType"
        nested = f"<{tag}><rdf:Description>" * self.nest + f"<{tag}>{value}</{tag}>"
        nested += f"</rdf:Description></{tag}>" * self.nest
        body = (
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" '
            'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
            'xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
            'xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/">'
            f"{nested}"
            f"<Iptc4xmpExt:AISystemUsed>{esc(self.tool)}</Iptc4xmpExt:AISystemUsed>"
            f"<xmp:CreatorTool>{esc(self.tool)}</xmp:CreatorTool>"
            f"<TC260:AIGC>{esc(self.tc260)}</TC260:AIGC>"
            "</rdf:Description></rdf:RDF></x:xmpmeta>"
        )
        packet = (self.head + body).encode(self.codec, "replace")
        return packet if self.cut is None else packet[: self.cut % (len(packet) + 1)]


_MANY = st.sampled_from([1, 1, 3, 1000, 30_000]) | st.integers(1, 30_000)
_XMP_PACKET = st.builds(
    XmpPacket,
    dst=st.sampled_from(_AI_URIS) | st.text(max_size=30),
    bag=_MANY,
    nest=st.sampled_from([0, 0, 1, 100, 15_000]) | st.integers(0, 15_000),
    tool=st.text(max_size=30),
    tc260=_json_text(),
    head=st.sampled_from(_XMP_HEADS),
    codec=st.sampled_from(["utf-8", "utf-8", "utf-16", "utf-16-be", "latin-1"]),
    cut=st.one_of(st.none(), _ANY),
)


_TEXT_KEYS = (
    "parameters",
    "prompt",
    "workflow",
    "invokeai_metadata",
    "sd-metadata",
    "Dream",
    "Software",
    "Comment",
    "Description",
    "XML:com.adobe.xmp",
)
_A1111 = "a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1"


@st.composite
def _exif_blob(draw: Callable[..., Any]) -> bytes:
    text = draw(st.sampled_from(["NovelAI", _A1111, "cam"]) | st.text(max_size=30))
    prefix = draw(st.sampled_from([b"ASCII\0\0\0", b"UNICODE\0", b"\0" * 8, b"JIS\0\0\0\0\0", b""]))
    codec = "utf-16-le" if prefix == b"UNICODE\0" and draw(st.booleans()) else "utf-8"
    blob = piexif.dump(
        {
            "0th": {piexif.ImageIFD.Software: text.encode("utf-8", "replace")},
            "Exif": {piexif.ExifIFD.UserComment: prefix + text.encode(codec, "replace")},
        }
    )
    return blob.removeprefix(b"Exif\x00\x00")


# (kind, payload): kind says which metadata slot the payload goes into; ("store", i) payloads
# are C2PA manifest stores from the donors, resolved when the plan is applied
_META = st.one_of(
    st.tuples(st.just("xmp"), _XMP_PACKET),
    st.tuples(
        st.just("text"),
        st.tuples(
            st.sampled_from(_TEXT_KEYS),
            st.one_of(_json_text(), st.just(_A1111), st.sampled_from(["NovelAI Diffusion"])),
            st.sampled_from(["tEXt", "zTXt", "iTXt", "iTXt-z"]),
        ),
    ),
    st.tuples(st.just("exif"), _exif_blob() | st.binary(max_size=64)),
    st.tuples(
        st.just("c2pa"),
        st.tuples(st.just("store"), _ANY, st.one_of(st.none(), _ANY), st.one_of(st.none(), _ANY)),
    ),
)

_BYTE_OPS = st.one_of(
    st.tuples(st.just("flip"), _POS, st.integers(0, 7)),
    st.tuples(
        st.just("byte"), _POS, st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]) | st.integers(0, 255)
    ),
    st.tuples(st.just("truncate"), _ANY),
    st.tuples(st.just("delete"), _POS, st.integers(1, 64) | st.integers(1, 8192)),
    st.tuples(st.just("insert"), _POS, st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("repeat"), _POS, st.integers(1, 256), st.integers(2, 64)),
    st.tuples(
        st.just("int"),
        _POS,
        st.sampled_from([1, 2, 4]),
        st.booleans(),
        st.sampled_from(_INTERESTING) | _ANY,
    ),
)
_UNIT_OPS = st.one_of(
    st.tuples(st.just("unit-len"), _ANY, _LEN),
    st.tuples(st.just("unit-dup"), _ANY, st.integers(1, 3)),
    st.tuples(st.just("unit-drop"), _ANY),
    st.tuples(st.just("unit-swap"), _ANY, _ANY),
    st.tuples(st.just("unit-cut"), _ANY, _ANY),
    st.tuples(st.just("splice"), _ANY, _ANY, _ANY),
    st.tuples(st.just("dims"), _ANY, st.sampled_from(_BIG_DIMS)),
)
_META_OPS = st.tuples(st.just("meta"), _ANY, _META)
IMAGE_OPS = st.lists(st.one_of(_BYTE_OPS, _UNIT_OPS, _META_OPS), min_size=1, max_size=4)

_ODD_CHARS = (
    "\ufeff",
    "\ufe00",
    "\ufe0f",
    "\U000e0100",
    "\U000e01ef",
    "\u200d",
    "\u0301",
    "\r",
    "\n",
    "\r\n",
    "\x1b",
    "\x0b",
    "\x00",
    "\x7f",
    "\u2028",
    "\ufffd",
    "\U0001f916",
    "e\u0301",
    "\u00e9",
    "\ufeff" + _selectors(_MAGIC),
)
_ODD_TEXT = st.lists(
    st.sampled_from(_ODD_CHARS) | st.characters(codec="utf-8"), min_size=1, max_size=8
).map("".join)
TEXT_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("u-insert"), _ANY, _ODD_TEXT),
        st.tuples(st.just("u-delete"), _ANY, st.integers(1, 16)),
        st.tuples(st.just("u-normalize"), st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"])),
        st.tuples(st.just("u-crlf"), st.booleans()),
        st.tuples(st.just("w-byte"), _ANY, st.integers(0, 24) | _ANY, st.integers(0, 255)),
        st.tuples(st.just("w-len"), _ANY, _LEN),
        st.tuples(st.just("w-version"), _ANY, st.integers(0, 255)),
        st.tuples(st.just("w-cut"), _ANY, _ANY),
        st.tuples(st.just("w-dup"), _ANY, _ANY),
        st.tuples(st.just("w-move"), _ANY, _ANY),
        st.tuples(
            st.just("w-repeat"),
            _ANY,
            st.sampled_from([2, 100, 10_000, 60_000]) | st.integers(2, 60_000),
            st.sampled_from(["", "x", "\n", "é"]),
        ),
        st.tuples(st.just("w-store"), _ANY, _ANY),
        st.tuples(
            st.just("w-synth"),
            _ANY,
            st.integers(0, 2),
            st.one_of(st.none(), st.sampled_from(_INTERESTING)),
            st.binary(max_size=48),
        ),
    ),
    min_size=1,
    max_size=4,
)


@dataclass
class Donors:
    """What splices and injections take from: files and C2PA manifest stores."""

    files: list[bytes]
    stores: list[bytes]


def _set_len(data: bytearray, u: Unit, how: tuple[str, int]) -> None:
    mask = (1 << (8 * u.len_size)) - 1
    old = _u(bytes(data), u.len_off, u.len_size, u.big)
    value = (old + how[1] if how[0] == "+" else how[1]) & mask
    data[u.len_off : u.len_off + u.len_size] = value.to_bytes(
        u.len_size, "big" if u.big else "little"
    )


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def _meta_unit(kind: str, fmt: str | None, meta: tuple[str, Any], donors: Donors) -> bytes:
    """A metadata unit in the syntax of ``fmt`` (or raw bytes where there is none)."""
    slot, payload = meta
    if isinstance(payload, XmpPacket):
        payload = payload.build()
    if slot == "c2pa":
        _, i, cut, flip = payload
        store = donors.stores[i % len(donors.stores)] if donors.stores else b""
        if cut is not None:
            store = store[: cut % (len(store) + 1)]
        if flip is not None and store:
            b = bytearray(store)
            b[flip % len(b)] ^= 1 << (flip % 8)
            store = bytes(b)
        payload = store
    text_key, text_value, text_chunk = ("Comment", "", "tEXt")
    if slot == "text":
        text_key, text_value, text_chunk = payload
        payload = text_value.encode("utf-8", "replace")
    if fmt == "png":
        if slot == "xmp":
            return _png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + payload)
        if slot == "exif":
            return _png_chunk(b"eXIf", payload)
        if slot == "c2pa":
            return _png_chunk(b"caBX", payload)
        key = text_key.encode("latin-1")
        if text_chunk == "tEXt":
            return _png_chunk(b"tEXt", key + b"\0" + text_value.encode("latin-1", "replace"))
        if text_chunk == "zTXt":
            return _png_chunk(b"zTXt", key + b"\0\0" + zlib.compress(payload))
        if text_chunk == "iTXt-z":
            return _png_chunk(b"iTXt", key + b"\0\1\0\0\0" + zlib.compress(payload))
        return _png_chunk(b"iTXt", key + b"\0\0\0\0\0" + payload)
    if fmt == "jpeg":
        if slot == "c2pa":  # APP11 JUMBF: "JP", instance, sequence number, then the store
            body = b"JP\x00\x01\x00\x00\x00\x01" + payload
            marker = b"\xff\xeb"
        elif slot == "xmp":
            body, marker = b"http://ns.adobe.com/xap/1.0/\0" + payload, b"\xff\xe1"
        elif slot == "exif":
            body, marker = b"Exif\0\0" + payload, b"\xff\xe1"
        else:
            body, marker = payload, b"\xff\xfe"
        body = body[:65533]
        return marker + struct.pack(">H", len(body) + 2) + body
    if fmt == "riff":
        fourcc = {"xmp": b"XMP ", "exif": b"EXIF", "c2pa": b"C2PA"}.get(slot, b"XMP ")
        return fourcc + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) & 1)
    if fmt == "gif":
        if slot == "xmp":
            trailer = bytes([1, *range(255, -1, -1)]) + b"\0"
            return b"\x21\xff\x0bXMP DataXMP" + payload + trailer
        app = b"C2PA_GIF" + b"\x01\x00\x00" if slot == "c2pa" else b"AIMARKFZ1.0"
        subs = b"".join(bytes([len(c)]) + c for c in _chunks(payload, 255))
        return b"\x21\xff\x0b" + app[:11] + subs + b"\0"
    if fmt == "bmff":
        if slot == "c2pa":
            uuid = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
            body = uuid + b"\0\0\0\0" + b"manifest\0" + b"\0" * 8 + payload
            return struct.pack(">I", 8 + len(body)) + b"uuid" + body
        if slot == "xmp":
            body = bytes.fromhex("be7acfcb97a942e89c71999491e3afac") + payload
            return struct.pack(">I", 8 + len(body)) + b"uuid" + body
        return struct.pack(">I", 8 + len(payload)) + b"free" + payload
    return payload


def _chunks(data: bytes, n: int) -> list[bytes]:
    return [data[i : i + n] for i in range(0, len(data), n)] or [b""]


def fix_checksums(blob: bytes) -> bytes:
    """``blob`` with its PNG chunk CRCs and RIFF size recomputed, so that a mutation gets past
    the checks decoders make first (Pillow refuses a critical PNG chunk with a bad CRC)."""
    data = bytearray(blob)
    if _kind(blob) == "png":
        for u in _png_units(blob):
            if u.end - u.start >= 12 and u.start + 12 + _u(blob, u.start, 4, True) == u.end:
                body = data[u.start + 4 : u.end - 4]
                data[u.end - 4 : u.end] = struct.pack(">I", zlib.crc32(body))
    _fix_riff_size(data)
    return bytes(data)


def _fix_riff_size(data: bytearray) -> None:
    if data[:4] == b"RIFF" and len(data) >= 8:
        data[4:8] = struct.pack("<I", (len(data) - 8) & 0xFFFFFFFF)


def apply_image_ops(seed: bytes, ops: list[tuple], donors: Donors) -> bytes:
    """Apply a mutation plan to ``seed``; deterministic, never raises."""
    data = bytearray(seed)
    for op in ops:
        name, args = op[0], op[1:]
        n = len(data)
        if name == "flip" and n:
            data[args[0] % n] ^= 1 << args[1]
        elif name == "byte" and n:
            data[args[0] % n] = args[1]
        elif name == "truncate":
            del data[args[0] % (n + 1) :]
        elif name == "delete" and n:
            p = args[0] % n
            del data[p : p + args[1]]
        elif name == "insert":
            p = args[0] % (n + 1)
            data[p:p] = args[1]
        elif name == "repeat" and n:
            p = args[0] % n
            data[p:p] = bytes(data[p : p + args[1]]) * (args[2] - 1)
        elif name == "int" and n:
            p, width, big, value = args[0] % n, args[1], args[2], args[3]
            value &= (1 << (8 * width)) - 1
            data[p : p + width] = value.to_bytes(width, "big" if big else "little")
        elif name == "dims":
            fields = dimension_fields(bytes(data))
            if fields:
                p, width, big = fields[args[0] % len(fields)]
                value = args[1] & ((1 << (8 * width)) - 1)
                data[p : p + width] = value.to_bytes(width, "big" if big else "little")
        else:
            found = units(bytes(data))
            fmt = _kind(bytes(data))
            if not found:
                if name == "meta":
                    data += _meta_unit(args[1][0], fmt, args[1], donors)
                continue
            u = found[args[0] % len(found)]
            if name == "unit-len":
                _set_len(data, u, args[1])
            elif name == "unit-dup":
                data[u.end : u.end] = bytes(data[u.start : u.end]) * args[1]
            elif name == "unit-drop":
                del data[u.start : u.end]
            elif name == "unit-swap":
                v = found[args[1] % len(found)]
                a, b = sorted((u, v), key=lambda x: x.start)
                if a.end <= b.start:
                    data[a.start : b.end] = (
                        data[b.start : b.end] + data[a.end : b.start] + data[a.start : a.end]
                    )
            elif name == "unit-cut":
                del data[u.start + args[1] % max(1, u.end - u.start) :]
            elif name == "splice" and donors.files:
                donor = donors.files[args[1] % len(donors.files)]
                theirs = units(donor)
                if theirs:
                    w = theirs[args[2] % len(theirs)]
                    data[u.start : u.start] = donor[w.start : w.end]
            elif name == "meta":
                data[u.end : u.end] = _meta_unit(args[1][0], fmt, args[1], donors)
                _fix_riff_size(data)
    return bytes(data)


def apply_text_ops(seed: str, ops: list[tuple], donors: Donors) -> str:
    """Apply a text mutation plan to ``seed``; deterministic, never raises."""
    text = seed
    for op in ops:
        name, args = op[0], op[1:]
        found = wrappers(text)
        if name == "u-insert":
            p = args[0] % (len(text) + 1)
            text = text[:p] + args[1] + text[p:]
        elif name == "u-delete" and text:
            p = args[0] % len(text)
            text = text[:p] + text[p + args[1] :]
        elif name == "u-normalize":
            text = unicodedata.normalize(args[0], text)
        elif name == "u-crlf":
            text = text.replace("\n", "\r\n") if args[0] else text.replace("\r\n", "\n")
        elif name == "w-synth":
            p, version, length, store = args
            stores = [*donors.stores, store]
            body = stores[len(store) % len(stores)] if version == 1 else store
            p %= len(text) + 1
            text = text[:p] + wrapper_text(body, version=version, length=length) + text[p:]
        elif found:
            start, end, raw = found[args[0] % len(found)]
            new = bytearray(raw)
            if name == "w-byte" and new:
                new[args[1] % len(new)] = args[2]
            elif name == "w-len" and len(new) >= 13:
                _set_len(new, Unit(0, len(new), 9, 4, True), args[1])
            elif name == "w-version" and len(new) >= 9:
                new[8] = args[1]
            elif name == "w-cut":
                del new[args[1] % (len(new) + 1) :]
            elif name == "w-store" and donors.stores:
                store = donors.stores[args[1] % len(donors.stores)]
                new = bytearray(new[:9] + len(store).to_bytes(4, "big") + store)
            run = "\ufeff" + _selectors(bytes(new)) if new else ""
            if name == "w-dup":
                p = args[1] % (len(text) + 1)
                text = text[:p] + text[start:end] + text[p:]
            elif name == "w-repeat":  # many wrappers (headers only, <= 4 MB): cost is linear
                piece = "\ufeff" + _selectors(raw[:13]) + args[2]
                count = min(args[1], 4_000_000 // len(piece.encode()))
                text = text[:start] + piece * count + text[start:]
            elif name == "w-move":
                rest = text[:start] + text[end:]
                p = args[1] % (len(rest) + 1)
                text = rest[:p] + text[start:end] + rest[p:]
            else:
                text = text[:start] + run + text[end:]
    return text


def _stores(labelled: dict[str, bytes], texts: dict[str, str]) -> list[bytes]:
    """C2PA manifest stores, whole: PNG caBX chunks and the stores of text wrappers."""
    stores = []
    for data in labelled.values():
        for u in _png_units(data) if data.startswith(b"\x89PNG") else []:
            if data[u.start + 4 : u.start + 8] == b"caBX":
                stores.append(data[u.start + 8 : u.end - 4])
    for text in texts.values():
        for _, _, raw in wrappers(text):
            if raw.startswith(_MAGIC):
                stores.append(raw[13 : 13 + int.from_bytes(raw[9:13], "big")])
    return stores


# ------------------------------------------------------------------------------ the properties


def _rss() -> tuple[int, int] | None:
    """(current, peak) resident memory in bytes, from /proc (Linux); None elsewhere."""
    try:
        with open("/proc/self/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def _reset_peak_rss() -> int | None:
    """Reset the process's peak resident memory to the current one (Linux: clear_refs 5), so
    that the peak after a call is that call's own, on every replay; the current RSS, or None
    where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    now = _rss()
    return now[0] if now else None


def check_report(verifier: aimark.Verifier, data: bytes, name: str = "<fuzz>") -> aimark.Report:
    """Verify ``data`` and check every property of the upload path; return the report."""
    if _LAST_INPUT:  # left behind if the process dies (out of memory, a native crash)
        with open(_LAST_INPUT, "wb") as f:
            f.write(data)
    digest = hashlib.sha256(data).digest()
    rss_before = _reset_peak_rss()
    started = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = verifier.verify_bytes(data, name=name)
    took = time.monotonic() - started
    rss_after = _rss()
    if _SAVE_DIR and took > _SLOW_CALL_S:  # for a hypothesis DeadlineExceeded, which comes later
        _save(data, f"slow-{took:.0f}s")
    leaked = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught]
    try:
        assert not leaked, f"warnings escaped verify_bytes: {leaked}"
        assert isinstance(report, aimark.Report)
        assert hashlib.sha256(data).digest() == digest, "the input bytes were changed"
        if rss_before is not None and rss_after is not None:
            grown = rss_after[1] - rss_before
            assert grown < _MAX_RSS_GROWTH, f"verify_bytes used {grown:,} bytes more memory"
        d = report.to_dict()
        json.dumps(d, allow_nan=False)  # strict JSON: a client must be able to parse it
        json.loads(report.to_json())
        assert report.source == name
        if report.verdict.status is aimark.Status.ERROR:
            assert report.error is not None
            assert isinstance(report.error.get("code"), str) and report.error["code"]
            assert isinstance(report.error.get("message"), str) and report.error["message"]
        else:
            assert report.media.format, report.to_dict()
    except BaseException:
        if _SAVE_DIR:
            _save(data, "failed")
        raise
    return report


def _save(data: bytes, why: str) -> None:
    os.makedirs(_SAVE_DIR, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()[:16]
    with open(os.path.join(_SAVE_DIR, f"{why}-{digest}.bin"), "wb") as f:
        f.write(data)


# ------------------------------------------------------------------------------ corpora


@dataclass
class Corpus:
    name: str
    seeds: dict[str, Any]  # bytes, or str for texts
    donors: Donors
    sandbox: Sandbox

    def case(self, data: st.DataObject) -> bytes:
        """Draw a seed and a mutation plan; return the mutated bytes."""
        name = data.draw(st.sampled_from(sorted(self.seeds)), label="seed")
        seed = self.seeds[name]
        if isinstance(seed, str):
            text = apply_text_ops(seed, data.draw(TEXT_OPS, label="text ops"), self.donors)
            raw = text.encode("utf-8", "surrogatepass")
            byte_ops = data.draw(st.lists(_BYTE_OPS, max_size=1), label="byte ops")
            return apply_image_ops(raw, byte_ops, self.donors)
        blob = apply_image_ops(seed, data.draw(IMAGE_OPS, label="ops"), self.donors)
        return fix_checksums(blob) if data.draw(st.booleans(), label="fix checksums") else blob


@functools.lru_cache(maxsize=1)
def _key() -> aimark.WatermarkKey:
    return aimark.WatermarkKey.generate()


@pytest.fixture(scope="module")
def built(dev, creds) -> Iterator[dict[str, Any]]:
    labelled = _labelled_seeds(creds, _key())
    texts = _text_seeds(creds)
    donors = Donors(files=list(labelled.values()), stores=_stores(labelled, texts))
    keyed = VerifierSpec(
        trust=str(dev.root_cert),
        keys=(_key().to_text(), aimark.WatermarkKey.generate().to_text()),
        public=True,
        max_pixels=_KEYED_LIMITS.max_pixels,
    )
    sandbox = Sandbox((VerifierSpec(), keyed))
    try:
        yield {"labelled": labelled, "texts": texts, "donors": donors, "sandbox": sandbox}
    finally:
        sandbox.close()


@pytest.fixture(scope="module", params=["images", "labelled", "text", "shared"])
def corpus(request, built) -> Corpus:
    kind = request.param
    if kind == "images":
        seeds: dict[str, Any] = _image_seeds()
    elif kind == "labelled":
        seeds = built["labelled"]
    elif kind == "text":
        seeds = built["texts"]
    else:
        if not (SHARED / "c2pa").is_dir():
            pytest.skip(f"shared fixtures not present at {SHARED}")
        seeds = _shared_seeds()
    return Corpus(kind, seeds, built["donors"], built["sandbox"])


@dataclass(frozen=True)
class VerifierSpec:
    """How to build a Verifier in the worker process (Verifiers themselves do not pickle)."""

    trust: str | None = None  # a PEM file
    keys: tuple[str, ...] = ()  # WatermarkKey.to_text()
    public: bool = False
    max_pixels: int | None = None

    def build(self) -> aimark.Verifier:
        limits = aimark.Limits(max_pixels=self.max_pixels) if self.max_pixels else None
        return aimark.Verifier(
            trust=self.trust,
            watermark_keys=[aimark.WatermarkKey.from_text(k) for k in self.keys],
            public_watermarks=self.public,
            limits=limits,
        )


def _cap_address_space() -> None:
    """Cap this process's address space a few GB above its current size, so that a runaway
    allocation fails (MemoryError, a failing example) instead of bringing the machine's
    out-of-memory killer down on the run and its neighbours. Linux only."""
    if resource is None:
        return
    try:
        with open("/proc/self/statm") as f:
            current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
    except (OSError, ValueError, AttributeError):
        return
    cap = current + _AS_HEADROOM
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _worker_main(conn: Any, specs: tuple[VerifierSpec, ...]) -> None:
    """The worker process: verify what the parent sends, answer None or the failure's
    traceback."""
    _cap_address_space()
    verifiers = [spec.build() for spec in specs]
    conn.send("ready")
    while True:
        try:
            index, data = conn.recv()
        except EOFError:
            return
        try:
            check_report(verifiers[index], data)
        except BaseException:
            conn.send(traceback.format_exc())
        else:
            conn.send(None)


class Sandbox:
    """Runs ``check_report`` in a worker process (spawned, so nothing of pytest's state is
    shared). A native crash (segfault, abort), a hang or a runaway allocation then ends the
    worker, not the test run, and becomes an ordinary failing example, shrunk like any other,
    with its input; the worker is started again for the next example."""

    def __init__(self, specs: tuple[VerifierSpec, ...]) -> None:
        self.specs = specs
        self._ctx = multiprocessing.get_context("spawn")
        self._proc: Any = None
        self._conn: Any = None
        self._start()

    def _start(self) -> None:
        self._conn, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(
            target=_worker_main, args=(child, self.specs), name="aimark-fuzz", daemon=True
        )
        self._proc.start()
        child.close()
        try:
            ready = self._conn.poll(_WORKER_START_S) and self._conn.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.close()
            raise RuntimeError("the fuzz worker process did not start")

    def close(self) -> None:
        if self._proc is not None:
            self._conn.close()
            self._proc.join(5)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join()
        self._proc = self._conn = None

    def check(self, index: int, data: bytes) -> None:
        """``check_report(verifier index, data)`` in the worker; AssertionError if it fails."""
        if self._proc is None or not self._proc.is_alive():
            self.close()
            self._start()
        self._conn.send((index, data))
        if not self._conn.poll(_HANG_S):
            self._proc.kill()
            self.close()
            self._start()
            raise AssertionError(f"verify_bytes hangs: no answer after {_HANG_S} s")
        try:
            failure = self._conn.recv()
        except (EOFError, OSError):
            self._proc.join(10)
            code = self._proc.exitcode
            self.close()
            self._start()
            why = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"exit {code}"
            raise AssertionError(
                f"the process died in verify_bytes ({why}): a native crash, an abort, or the "
                "out-of-memory killer"
            ) from None
        if failure is not None:
            raise AssertionError(f"in the worker process:\n{failure}")


def _fuzz(corpus: Corpus, **options: Any) -> Callable[[], None]:
    """A hypothesis test over ``corpus`` with ``options`` (settings), ready to call."""

    @settings(**{**_COMMON, **options})
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        blob = corpus.case(data)
        note(f"{len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()[:16]}")
        for index in range(len(corpus.sandbox.specs)):
            corpus.sandbox.check(index, blob)

    return run


def test_fuzz_verify_bytes_quick(corpus: Corpus) -> None:
    """The quick tier: a fixed set of mutated inputs per corpus (derandomised)."""
    _fuzz(corpus, max_examples=_QUICK_EXAMPLES[corpus.name], derandomize=True)()


@pytest.mark.slow
def test_fuzz_verify_bytes_slow(corpus: Corpus, capsys: pytest.CaptureFixture[str]) -> None:
    """The bounded-time tier: random batches until this corpus's share of the budget is spent."""
    base = int(os.environ.get("AIMARK_FUZZ_SEED", random.SystemRandom().randrange(2**32)))
    budget = _SLOW_SECONDS * _SLOW_SHARE[corpus.name]
    end = time.monotonic() + budget
    batches = 0
    with capsys.disabled():
        print(f"\n[fuzz {corpus.name}] AIMARK_FUZZ_SEED={base}, {budget:.0f} s", file=sys.stderr)
    while time.monotonic() < end:
        batch_seed = base + batches
        try:
            hypothesis_seed(batch_seed)(_fuzz(corpus, max_examples=_BATCH))()
        except BaseException:
            with capsys.disabled():
                print(f"[fuzz {corpus.name}] failing batch seed {batch_seed}", file=sys.stderr)
            raise
        batches += 1
    with capsys.disabled():
        print(
            f"[fuzz {corpus.name}] {batches} batches, {batches * _BATCH} examples",
            file=sys.stderr,
        )


# ------------------------------------------------------------------------------ walker sanity


def test_walkers_find_units_in_every_seed(built) -> None:
    """The structural mutations have something to work on in every image seed."""
    seeds = {**_image_seeds(), **built["labelled"]}
    for name, data in seeds.items():
        assert units(data), name
        assert dimension_fields(data), name
    for name, text in built["texts"].items():
        if name.startswith("signed-"):
            ((_, _, raw),) = wrappers(text)
            assert raw.startswith(_MAGIC), name
    assert len(built["donors"].stores) >= 2


# ------------------------------------------------------------------------------ regressions
# Each test below is a finding of the fuzzer, reduced by hand to the bytes that show it.


@functools.lru_cache(maxsize=1)
def _verifiers() -> tuple[aimark.Verifier, aimark.Verifier]:
    keyed = aimark.Verifier(watermark_keys=[_key()], public_watermarks=True, limits=_KEYED_LIMITS)
    return aimark.Verifier(), keyed


def _check_all(data: bytes) -> list[aimark.Report]:
    return [check_report(v, data) for v in _verifiers()]


def test_regression_tiff_ifd_offset_past_the_end_warns():
    # Pillow reads a TIFF's first IFD while opening it and warned "Corrupt EXIF data.
    # Expecting to read 2 bytes but only got 0" (a UserWarning) when the IFD offset points
    # past the end; the warning escaped verify_bytes (an exception under -W error). Found by
    # 'unit-cut' on tiff-deflate.
    data = b"II*\x00" + struct.pack("<I", 1028) + b"\x78\x9c\r\xce\xd9r"
    for report in _check_all(data):
        assert report.error["code"] == "corrupt-input"


def test_regression_long_thin_image_watermark_search_memory():
    # With a watermark key, a 16,383 × 160 JPEG (a 'dims' mutation of a 192 × 160 one, 5.9 kB)
    # made the lattice search allocate tens of GB (the machine's OOM killer ended the run):
    # its grid is finer the longer the analysis image's long side, and grows as the cube of
    # it. The analysis now crops the long side to 1,024 px. Checked here on 4,000 × 160, which
    # took 784 MB and 5.5 s before (bounded at 200 MB, so a regression fails, not the machine).
    import tracemalloc

    from aimark.watermark.image import detect_batch

    arr = np.random.default_rng(0).integers(0, 256, (160, 4000, 3), dtype=np.uint8)
    tracemalloc.start()
    try:
        (found,) = detect_batch([arr], [_key()])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 1024**2, f"{peak:,} bytes"
    assert not found.detected
    data = encode(Image.fromarray(arr[:, :1400]).resize((16383, 160)), "jpeg", quality=30)
    for report in _check_all(data):
        assert report.media.width == 16383


def test_regression_exif_huge_value_count():
    # One bit flipped in earth_apollo17.jpg's EXIF (byte 50: BitsPerSample's count 3 became
    # 0x04000003) made piexif build a 67-million-character struct format: 3 s and 2.2 GB per
    # verify (up to 2**32 - 1 values can be claimed). Counts are now checked against the size
    # of the EXIF block before piexif sees it.
    exif = bytearray(piexif.dump({"0th": {piexif.ImageIFD.BitsPerSample: (8, 8, 8)}}))
    tiff = 6  # after "Exif\0\0"
    assert exif[tiff + 10 : tiff + 12] == b"\x01\x02"  # big-endian: first entry, tag 258
    exif[tiff + 14 : tiff + 18] = struct.pack(">I", 0x04000003)
    data = encode(natural_image(16, 16), "jpeg", exif=bytes(exif))
    started = time.monotonic()
    for report in _check_all(data):
        assert report.verdict.status is aimark.Status.NOT_LABELLED
        assert report.metadata.exif == {}
    assert time.monotonic() - started < 2.0


def _xmp_with(prop: str) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        f'xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/">{prop}</rdf:Description>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()


def _png_with_chunk(ctype: bytes, body: bytes) -> bytes:
    png = encode(natural_image(16, 16), "png")
    at = png.index(b"IDAT") - 4
    return png[:at] + _png_chunk(ctype, body) + png[at:]


@pytest.mark.parametrize("value", ["NaN", "Infinity", '{"Label": -Infinity}', "[1e999]"])
def test_regression_tc260_json_nan_makes_report_invalid_json(value):
    # An XMP TC260:AIGC property of "NaN" (injected into an APNG seed) was parsed by Python's
    # json into float('nan') and put in the report: Report.to_json() then wrote NaN, which is
    # not JSON (strict parsers and json.dumps(allow_nan=False) refuse it). Non-finite numbers
    # now make the property "not JSON"; its raw text is kept.
    data = _png_with_chunk(
        b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + _xmp_with(f"<TC260:AIGC>{value}</TC260:AIGC>")
    )
    for report in _check_all(data):
        assert report.metadata.tc260_aigc == {"raw": value}
        assert any("TC260" in p for p in report.metadata.problems)


@pytest.mark.parametrize("where", ["tc260", "comfyui-prompt"])
def test_regression_deeply_nested_json_recursion_error(where):
    # JSON nested 5,000 deep in a TC260:AIGC XMP property or a PNG 'prompt' text chunk
    # (ComfyUI's) made json.loads raise RecursionError, which escaped verify_bytes. Too-deep
    # JSON is now "not JSON" (TC260 values also stop at 16 levels, so that the report can
    # always be serialised).
    deep = "[" * 5000
    if where == "tc260":
        packet = _xmp_with(f"<TC260:AIGC>{deep}</TC260:AIGC>")
        data = _png_with_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + packet)
    else:
        data = _png_with_chunk(b"tEXt", b"prompt\0" + deep.encode())
    for report in _check_all(data):
        assert report.verdict.status is aimark.Status.NOT_LABELLED
    nested = _png_with_chunk(
        b"iTXt",
        b"XML:com.adobe.xmp\0\0\0\0\0"
        + _xmp_with(f"<TC260:AIGC>{'[' * 17 + ']' * 17}</TC260:AIGC>"),
    )
    (report, _) = _check_all(nested)
    assert report.metadata.tc260_aigc == {"raw": "[" * 17 + "]" * 17}


def test_regression_many_text_wrappers_quadratic_time():
    # A 1 MB text holding 20,000 copies of a 13-byte wrapper header (from 'w-repeat' on
    # signed-bom) took 9 s to verify, 10 MB about 15 minutes: find_wrappers re-encoded the
    # whole text before each wrapper to get its byte offset. Offsets are now counted on from
    # the previous wrapper (and strip_wrappers joins the pieces once).
    from aimark.manifest.text import find_wrappers, strip_wrappers

    piece = wrapper_text(b"", length=0) + "é"
    text = "début " + piece * 20_000
    data = text.encode()
    started = time.monotonic()
    for report in _check_all(data):
        assert report.c2pa.text_wrapper == "duplicated"
    assert time.monotonic() - started < 3.0
    found = find_wrappers(text)
    assert len(found) == 20_000
    for w in (found[0], found[1], found[-1]):
        assert w.byte_start == len(text[: w.start].encode())
    assert strip_wrappers(text) == "début " + "é" * 20_000


def _dst_packet(bag: int, nest: int) -> bytes:
    """XMP whose digital source type is an rdf:Bag of ``bag`` values (the first one AI),
    nested ``nest`` levels deep in rdf:Description elements."""
    tag = "Iptc4xmpExt:DigitalSourceType"
    items = f"<rdf:li>{_AI_URIS[0]}</rdf:li>" + "".join(
        f"<rdf:li>v{i}</rdf:li>" for i in range(1, bag)
    )
    value = f"<{tag}><rdf:Bag>{items}</rdf:Bag></{tag}>"
    nested = f"<{tag}><rdf:Description>" * nest + value + f"</rdf:Description></{tag}>" * nest
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        f'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">{nested}'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


@pytest.mark.parametrize(("bag", "nest"), [(2725, 15_000), (40_000, 0)], ids=["nested", "bag"])
def test_regression_xmp_digital_source_types_quadratic_time(bag, nest):
    # An XMP packet (in an animated WebP) whose digital source type held an rdf:Bag of 2,725
    # values, nested in 15,000 levels of rdf:Description, made verify_bytes run for minutes:
    # each nested description's value was searched with iter() through everything below it,
    # and values were de-duplicated with a list. Even flat, a Bag of 40,000 values took 20 s
    # (also in a 105 kB PNG): DigitalSourceType.from_uri scanned the enum and built an error
    # message for every unknown value. Now: linear (direct rdf:li items only, a dict).
    packet = _dst_packet(bag, nest)
    data = encode(natural_image(24, 16), "webp", xmp=packet)
    started = time.monotonic()
    for report in _check_all(data):
        types = report.metadata.digital_source_types
        assert (types[0], len(types)) == (_AI_URIS[0], bag)
        assert report.verdict.status is aimark.Status.LABELLED_UNSIGNED
    assert time.monotonic() - started < 5.0
