"""File the manifests of images signed elsewhere (or before the repository existed) into a
repository: ``aimark repository import DB FILES...``.

The manifest store is taken from the file as it is (JPEG, PNG and WebP), checked to be one
c2pa reads, and filed under its active manifest's label with the soft bindings its manifest
declares (``c2pa.soft-binding``, e.g. aimark's watermark payload) and the image's PDQ
fingerprint.

Example:
    >>> import tempfile, os
    >>> from aimark.repository import open_repository
    >>> from aimark.repository.importer import import_bytes
    >>> repo = open_repository(os.path.join(tempfile.mkdtemp(), "m.db"))
    >>> import_bytes(repo, b"not an image")
    'skipped: not a JPEG, PNG or WebP image'
"""

from __future__ import annotations

import os

from aimark.errors import InputError, MissingExtraError
from aimark.manifest.c2pa_io import ManifestReader, active_label
from aimark.media import containers, image_io
from aimark.media.limits import Limits
from aimark.media.sniff import ImageFormat, sniff
from aimark.repository._base import Binding, ManifestRecord, Repository
from aimark.repository.fingerprint import available, fingerprint

__all__ = ["import_bytes", "import_file"]

_IMPORTABLE = (ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP)


def import_bytes(repo: Repository, data: bytes, *, limits: Limits | None = None) -> str:
    """File one image's manifest; return what happened, in a few words (never raises for the
    file's content)."""
    fmt = sniff(data)
    if fmt not in _IMPORTABLE:
        return "skipped: not a JPEG, PNG or WebP image"
    try:
        store = containers.manifest_store(data, fmt)
    except InputError as exc:
        return f"skipped: {exc}"
    if not store:
        return "skipped: no C2PA manifest in the file"
    label = active_label(store)
    if not label:
        return "skipped: its manifest store cannot be read"
    result = ManifestReader().read(data, fmt.mime)
    bindings = tuple(Binding(alg, value) for alg, value in result.soft_bindings if _is_hex(value))
    prints: tuple[Binding, ...] = ()
    if available():
        try:
            fp = fingerprint(image_io.decode(data, limits).pixels)
            if fp.usable:
                prints = (Binding(fp.alg, fp.value),)
        except (InputError, MissingExtraError):
            pass
    repo.add(
        ManifestRecord(
            label, store, fmt.mime, result.content_id, bindings=bindings, fingerprints=prints
        )
    )
    what = [f"{len(bindings)} binding(s)"] + (["a PDQ fingerprint"] if prints else [])
    return f"filed {label} with {' and '.join(what)} (its signature: {result.state.value})"


def import_file(repo: Repository, path: str | os.PathLike[str]) -> str:
    """:func:`import_bytes` for a file (read-only)."""
    with open(path, "rb") as f:
        return import_bytes(repo, f.read())


def _is_hex(value: str) -> bool:
    return bool(value) and all(c in "0123456789abcdef" for c in value.lower())
