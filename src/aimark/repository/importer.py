"""File the manifests of images signed elsewhere (or before the repository existed) into a
repository: ``aimark repository import DB FILES...``.

The manifest store is taken from the file as it is, checked to be the one c2pa reads as the
file's active manifest, and filed under that manifest's label with the soft bindings it
declares (``c2pa.soft-binding``, e.g. aimark's watermark payload) and, for images, the PDQ
fingerprint. JPEG, PNG and WebP stores are reassembled from their segments or chunks; in the
other containers c2pa signs (MP4, MOV, M4A, WAV, AVI, MP3, FLAC, PDF, JPEG XL, SVG, ...) the
store is one JUMBF superbox, found by its ``c2pa`` description box (base64 in SVG). The
stores of Office, EPUB, OpenDocument and ZIP packages are not filed: c2pa refuses to read them
apart from their package ("type is unsupported"), so a recovered one could not be validated.
A sidecar (``NAME.c2pa``, a bare ``application/c2pa`` store) is filed as it is.

Example:
    >>> import tempfile, os
    >>> from aimark.repository import open_repository
    >>> from aimark.repository.importer import import_bytes
    >>> repo = open_repository(os.path.join(tempfile.mkdtemp(), "m.db"))
    >>> import_bytes(repo, b"not an image")
    'skipped: not an image or media file that carries C2PA manifests'
"""

from __future__ import annotations

import base64
import io
import os
import re
import zipfile
from typing import Any

from aimark.errors import InputError, MissingExtraError
from aimark.manifest.c2pa_io import ManifestReader, active_label
from aimark.manifest.sidecar import SIDECAR_MIME, is_manifest_store
from aimark.media import containers, image_io
from aimark.media.formats import MediaFormat, sniff_media
from aimark.media.limits import Limits
from aimark.media.sniff import ImageFormat, sniff
from aimark.media.source import read_source
from aimark.report import C2paState
from aimark.repository._base import Binding, ManifestRecord, Repository
from aimark.repository.fingerprint import (
    MATCH_DISTANCE,
    PDQ_ALG,
    available,
    check_fingerprint,
    distance,
    fingerprint,
)

__all__ = ["import_bytes", "import_file"]

_IMPORTABLE = (ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP)
# a JUMBF description box of type c2pa (the manifest store's UUID) labelled "c2pa"
_C2PA_JUMD = b"jumdc2pa\x00\x11\x00\x10\x80\x00\x00\xaa\x00\x38\x9b\x71\x03c2pa\x00"
_ZIP_ENTRY = "META-INF/content_credential.c2pa"
_MAX_STORE = 64 * 1024 * 1024
_SVG_MANIFEST = re.compile(rb"<c2pa:manifest[^>]*>\s*([A-Za-z0-9+/=\s]+?)\s*</c2pa:manifest>")


def jumbf_stores(data: bytes) -> list[bytes]:
    """Every C2PA manifest store (a JUMBF superbox whose description box is ``c2pa``) lying
    whole in ``data``, in file order; SVG's base64 ``<c2pa:manifest>`` and a package's
    ``META-INF/content_credential.c2pa`` entry are read first.

    Example:
        >>> jumbf_stores(b"no boxes here")
        []
    """
    blobs = [data]
    for m in _SVG_MANIFEST.finditer(data[:_MAX_STORE]):
        try:
            blobs.append(base64.b64decode(b"".join(m.group(1).split()), validate=True))
        except ValueError:
            continue
    if data.startswith(b"PK\x03\x04"):
        blobs.extend(_zip_entry(data, _ZIP_ENTRY))
    found = []
    for blob in blobs:
        at = blob.find(_C2PA_JUMD)
        while at >= 12:
            start = at - 12  # superbox size, "jumb", description box size, then "jumd"
            size = int.from_bytes(blob[start : start + 4], "big")
            if blob[start + 4 : start + 8] == b"jumb" and 40 <= size <= len(blob) - start:
                found.append(blob[start : start + size])
            at = blob.find(_C2PA_JUMD, at + 1)
    return found


def _zip_entry(data: bytes, name: str) -> list[bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = z.getinfo(name)
            if info.file_size > _MAX_STORE:
                return []
            return [z.read(info)]
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return []


def import_bytes(repo: Repository, data: bytes, *, limits: Limits | None = None) -> str:
    """File one image's manifest; return what happened, in a few words (never raises for the
    file's content). Inputs over ``limits`` (default :class:`~aimark.Limits`) are skipped,
    as ``verify`` refuses them."""
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        return f"skipped: {len(data):,} bytes is over the limit of {limits.max_bytes:,} bytes"
    if is_manifest_store(data):
        return _import_store(repo, data)
    fmt: ImageFormat | MediaFormat | None = sniff(data)
    if fmt not in _IMPORTABLE:
        return _import_media(repo, data)
    assert isinstance(fmt, ImageFormat)
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
    bindings = _bindings(result.soft_bindings)
    prints: tuple[Binding, ...] = ()
    if available():
        try:
            fp = fingerprint(image_io.decode(data, limits).pixels)
            if fp.usable:
                prints = (Binding(fp.alg, _declared_or_own(result, fp.value)),)
        except (InputError, MissingExtraError):
            pass
    repo.add(
        ManifestRecord(
            label, store, fmt.mime, result.content_id, bindings=bindings, fingerprints=prints
        )
    )
    what = [f"{len(bindings)} binding(s)"] + (["a PDQ fingerprint"] if prints else [])
    return f"filed {label} with {' and '.join(what)} (its signature: {result.state.value})"


def _declared_or_own(result: Any, own: str) -> str:
    """The fingerprint to file: the one a valid manifest declares (aimark's labeller records
    the PDQ of the pixels it signed, before lossy coding) when the file's own pixels agree with
    it (within the match distance), so that a file labelled into one repository and imported
    into another is filed alike; else the file's own."""
    declared = dict(result.soft_bindings).get(PDQ_ALG)
    if not declared or result.state is C2paState.INVALID:
        return own
    try:
        if distance(declared, own) <= MATCH_DISTANCE:
            return check_fingerprint(PDQ_ALG, declared)
    except ValueError:
        pass
    return own


def _import_media(repo: Repository, data: bytes) -> str:
    fmt = sniff_media(data)
    if fmt is None:
        return "skipped: not an image or media file that carries C2PA manifests"
    result = ManifestReader().read(data, fmt.mime)
    if not result.manifest:
        return f"skipped: no C2PA manifest in {fmt.label}"
    found = jumbf_stores(data)
    store = next((s for s in found if active_label(s) == result.manifest), None)
    if store is None and found:  # e.g. a ZIP package's store
        return (
            f"skipped: c2pa cannot read the manifest store of {fmt.label} on its own, so a "
            "recovered copy could not be validated"
        )
    if store is None:
        return (
            f"skipped: c2pa reads a manifest in {fmt.label}, but its store does not lie whole "
            "in the file (split or compressed), so it cannot be filed as it is"
        )
    bindings = _bindings(result.soft_bindings)
    repo.add(ManifestRecord(result.manifest, store, fmt.mime, result.content_id, bindings=bindings))
    return (
        f"filed {result.manifest} with {len(bindings)} binding(s) "
        f"(its signature: {result.state.value})"
    )


def _import_store(repo: Repository, store: bytes) -> str:
    """File a bare manifest store (a sidecar, ``application/c2pa``) as it is, under its active
    manifest's label and the soft bindings it declares. Its signature and hard binding are
    checked when a recovered copy is validated against a file."""
    label = active_label(store)
    if not label:
        return "skipped: a manifest store that c2pa cannot read"
    result = ManifestReader().read(store, SIDECAR_MIME)
    bindings = _bindings(result.soft_bindings)
    repo.add(ManifestRecord(label, store, SIDECAR_MIME, result.content_id, bindings=bindings))
    return f"filed {label} (a sidecar manifest store) with {len(bindings)} binding(s)"


def import_file(
    repo: Repository, path: str | os.PathLike[str], *, limits: Limits | None = None
) -> str:
    """:func:`import_bytes` for a file (read-only, and only up to ``limits.max_bytes``: a
    larger file is skipped without being read).

    Raises:
        OSError: the file cannot be read.
    """
    try:
        source = read_source(path, limits)
    except InputError as exc:  # over the limit, empty, not a regular file
        return f"skipped: {exc}"
    return import_bytes(repo, source.data, limits=limits)


def _bindings(soft: tuple[tuple[str, str], ...]) -> tuple[Binding, ...]:
    """The exact-match bindings a manifest declares (its recorded PDQ fingerprint is not one:
    fingerprints are matched by distance, from the file's own pixels)."""
    return tuple(Binding(a, v) for a, v in soft if a != PDQ_ALG and _is_hex(v))


def _is_hex(value: str) -> bool:
    return bool(value) and all(c in "0123456789abcdef" for c in value.lower())
