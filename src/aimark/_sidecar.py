"""Labelling by sidecar: a signed C2PA manifest store written beside a file that is never
modified (:meth:`aimark.Labeler.label_sidecar`).

For files that cannot be rewritten (an Office or EPUB file that must keep its bytes, which
labelling inline repackages with its entries stored; camera RAW; archived originals) or any
file on request. The store's hard
binding is a ``c2pa.hash.data`` over every byte of the file (no exclusions), so the file must
stay exactly as it is; no XMP is written.

Example:
    >>> import tempfile, pathlib, aimark
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> dev = aimark.create_dev_credentials(folder / "dev")
    >>> raw = folder / "photo.cr3"; _ = raw.write_bytes(b"camera raw bytes")
    >>> labeler = aimark.Labeler(dev.credentials(), generator="my-model")
    >>> result = labeler.label_sidecar(raw)
    >>> result.path.name, result.layers, raw.read_bytes()
    ('photo.cr3.c2pa', ('c2pa-sidecar',), b'camera raw bytes')
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aimark.errors import OutputError
from aimark.manifest.definitions import ai_manifest
from aimark.manifest.sidecar import sidecar_path
from aimark.media.formats import MediaFormat, sniff_media
from aimark.media.output import same_file
from aimark.media.sniff import ImageFormat, sniff
from aimark.media.source import SourceLike, read_source

__all__ = ["Signed", "sign_sidecar"]

_OCTET = "application/octet-stream"


@dataclass(frozen=True)
class Signed:
    """A signed sidecar, not yet written: the store, the file's format (None: unknown), the
    content id, where it goes (None: nowhere) and the repository record (None: no repository)."""

    store: bytes
    format: ImageFormat | MediaFormat | None
    content_id: str
    dst: Path | None
    record: Any


def sign_sidecar(
    labeler: Any,
    src: SourceLike,
    sidecar_dst: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
    content_id: str | None = None,
    overwrite: bool = False,
) -> Signed:
    """Sign an AI manifest for ``src`` as a detached store, with ``labeler``'s configuration;
    :meth:`aimark.Labeler.label_sidecar` writes it (and files the record) both or neither."""
    source = read_source(src, labeler.limits)
    data = source.data
    dst = Path(sidecar_dst) if sidecar_dst is not None else None
    if dst is None and source.path is not None:
        dst = sidecar_path(source.path)
    if dst is not None:
        if source.path is not None and same_file(source.path, dst):
            raise OutputError(f"the sidecar {dst} would replace the file it describes")
        if dst.exists() and not overwrite:
            raise OutputError(
                f"{dst} exists; pass overwrite=True to replace it (CLI: remove it first)"
            )
    fmt: ImageFormat | MediaFormat | None = sniff(data) or sniff_media(data)
    mime = fmt.mime if fmt is not None else _OCTET
    parent = data if _has_embedded(labeler, data, fmt) else None
    content_id = content_id or f"urn:uuid:{uuid.uuid4()}"
    definition = ai_manifest(
        generator=labeler.generator,
        content_id=content_id,
        source_type_uri=labeler.source_type.uri,
        title=title or (source.path.name if source.path else "AI-generated content"),
        mime=mime,
        allow_training=labeler.allow_training,
        parent=parent is not None,
    )
    store = labeler._signer.sign_detached(data, definition, parent=parent, parent_mime=mime)
    record = labeler._record(store, mime, content_id, None, None)
    return Signed(store, fmt, content_id, dst, record)


def _has_embedded(labeler: Any, data: bytes, fmt: ImageFormat | MediaFormat | None) -> bool:
    """Whether c2pa reads a manifest embedded in the file (it becomes the parent)."""
    if fmt is None:
        return False
    return labeler._reader().read(data, fmt.mime).manifest is not None
