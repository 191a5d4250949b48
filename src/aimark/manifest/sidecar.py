"""Where a sidecar manifest lies beside its asset, and how to tell a manifest store apart.

A sidecar is a C2PA external manifest store (``application/c2pa``) in a file of its own,
whose hard binding covers the asset's bytes, for files that cannot be rewritten. aimark
writes ``NAME.EXT.c2pa`` (``photo.cr3`` → ``photo.cr3.c2pa``): a camera's ``IMG_1.CR3`` and
``IMG_1.JPG`` each keep their own. It also reads ``NAME.c2pa`` (the extension replaced), the
name c2patool and c2pa-rs write and look for; the appended name wins when both exist.

Example:
    >>> from pathlib import Path
    >>> sidecar_path("photos/photo.cr3").as_posix()
    'photos/photo.cr3.c2pa'
    >>> [p.as_posix() for p in sidecar_candidates("photos/photo.cr3")]
    ['photos/photo.cr3.c2pa', 'photos/photo.c2pa']
    >>> is_manifest_store(b"not a store")
    False
"""

from __future__ import annotations

import os
from pathlib import Path

from aimark.errors import CorruptInputError, ImageTooLargeError

__all__ = [
    "MAX_STORE_BYTES",
    "SIDECAR_MIME",
    "SIDECAR_SUFFIX",
    "asset_of",
    "find_sidecar",
    "is_manifest_store",
    "read_store",
    "sidecar_candidates",
    "sidecar_path",
]

SIDECAR_SUFFIX = ".c2pa"
SIDECAR_MIME = "application/c2pa"
#: the largest sidecar (or fetched remote manifest) aimark reads
MAX_STORE_BYTES = 64 * 1024 * 1024
# a manifest store is one JUMBF superbox whose description box has the c2pa type UUID
_C2PA_UUID = b"c2pa\x00\x11\x00\x10\x80\x00\x00\xaa\x00\x38\x9b\x71"


def sidecar_path(asset: str | os.PathLike[str]) -> Path:
    """The sidecar aimark writes for ``asset``: its name with ``.c2pa`` appended."""
    path = Path(asset)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def sidecar_candidates(asset: str | os.PathLike[str]) -> tuple[Path, ...]:
    """The names a sidecar of ``asset`` may have, in the order they are tried: appended
    (aimark's), then with the extension replaced (c2patool's)."""
    path = Path(asset)
    names = [sidecar_path(path)]
    if path.suffix and path.suffix.lower() != SIDECAR_SUFFIX:
        names.append(path.with_suffix(SIDECAR_SUFFIX))
    return tuple(names)


def find_sidecar(asset: str | os.PathLike[str]) -> Path | None:
    """The sidecar lying beside ``asset`` (a regular file), or None."""
    if Path(asset).suffix.lower() == SIDECAR_SUFFIX:
        return None
    return next((p for p in sidecar_candidates(asset) if p.is_file()), None)


def asset_of(sidecar: str | os.PathLike[str]) -> Path | None:
    """The file a sidecar belongs to: ``NAME`` for ``NAME.c2pa`` if it exists, else the one
    other file beside it with the same stem (None: none, or several to choose from)."""
    path = Path(sidecar)
    if path.suffix.lower() != SIDECAR_SUFFIX:
        return None
    plain = path.with_suffix("")
    if plain.is_file():
        return plain
    try:
        same_stem = [
            p
            for p in path.parent.iterdir()
            if p.stem == plain.name and p.suffix.lower() != SIDECAR_SUFFIX and p.is_file()
        ]
    except OSError:
        return None
    return same_stem[0] if len(same_stem) == 1 else None


def is_manifest_store(data: bytes) -> bool:
    """Whether ``data`` starts as a bare C2PA manifest store (a JUMBF ``c2pa`` superbox)."""
    return data[4:8] == b"jumb" and data[12:16] == b"jumd" and data[16:32] == _C2PA_UUID


def read_store(path: str | os.PathLike[str]) -> bytes:
    """A sidecar's bytes, read-only, up to :data:`MAX_STORE_BYTES`.

    Raises:
        OSError: unreadable. ImageTooLargeError: over the cap. CorruptInputError: empty.
    """
    with open(path, "rb") as f:
        data = f.read(MAX_STORE_BYTES + 1)
    if len(data) > MAX_STORE_BYTES:
        raise ImageTooLargeError(f"the sidecar is over {MAX_STORE_BYTES:,} bytes")
    if not data:
        raise CorruptInputError("the sidecar is empty")
    return data
