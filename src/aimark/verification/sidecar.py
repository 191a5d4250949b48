"""The C2PA layer from a sidecar: a manifest store held apart from the file (``NAME.c2pa``
beside it, or fetched from a remote reference), validated with its hard binding over the
file's bytes. Only when the file has no embedded manifest of its own.

Example:
    >>> from aimark.manifest.c2pa_io import ManifestReader
    >>> result = read_detached(ManifestReader(), b"garbage", b"file bytes", sidecar="x.c2pa")
    >>> result.state.value, result.sidecar
    ('invalid', 'x.c2pa')
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from aimark.errors import InputError
from aimark.manifest.sidecar import asset_of, find_sidecar, is_manifest_store, read_store
from aimark.media.formats import sniff_media
from aimark.media.sniff import sniff
from aimark.report import C2paResult, C2paState, MediaInfo, Report

__all__ = ["read_detached", "store_report", "with_c2pa", "with_sidecar"]

# c2pa gets the asset as opaque bytes: a sidecar's hard binding is a data hash of all of them
_OCTET = "application/octet-stream"


def read_detached(
    reader: Any,
    store: bytes,
    data: bytes,
    *,
    sidecar: str | None = None,
    remote_url: str | None = None,
) -> C2paResult:
    """Validate a detached manifest ``store`` for the file ``data`` (never raises for bad
    content); the result names where the store came from."""
    if not is_manifest_store(store):
        result = C2paResult(
            state=C2paState.INVALID,
            error="not a C2PA manifest store (application/c2pa): truncated or not one",
        )
    else:
        result, _ = reader.read_manifest_data(store, data, fmt=_OCTET)
    return dataclasses.replace(result, sidecar=sidecar, remote_url=remote_url)


def with_sidecar(
    verifier: Any, report: Report, path: str | os.PathLike[str], data: bytes
) -> Report:
    """``report`` with its C2PA layer read from the sidecar beside ``path``, when the file has
    no manifest of its own (absent or remote) and a sidecar exists; else ``report``."""
    if report.c2pa.state not in (C2paState.ABSENT, C2paState.REMOTE):
        return report
    side = find_sidecar(path)
    if side is None:
        return report
    try:
        store = read_store(side)
    except (OSError, InputError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        result = C2paResult(
            state=C2paState.INVALID, sidecar=side.name, error=f"cannot read the sidecar: {why}"
        )
    else:
        result = read_detached(verifier._reader, store, data, sidecar=side.name)
    return with_c2pa(verifier, report, result, data)


def with_c2pa(verifier: Any, report: Report, result: C2paResult, data: bytes) -> Report:
    """The report rebuilt around a detached manifest's result (a file aimark could not read
    on its own gets a plain media record: its format where known)."""
    media = report.media
    if report.error is not None:
        fmt = sniff(data) or sniff_media(data)
        media = MediaInfo(
            format=fmt.value if fmt else None,
            kind=getattr(fmt, "kind", "image") if fmt else None,
            mime=fmt.mime if fmt else _OCTET,
            bytes=len(data),
        )
    rebuilt: Report = verifier._report(
        report.source, media, result, report.metadata, report.watermark, report.recovery
    )
    return dataclasses.replace(rebuilt, file=report.file)


def store_report(verifier: Any, report: Report, path: str | os.PathLike[str] | None) -> Report:
    """The report on a manifest store verified on its own (``aimark verify x.c2pa``): it says
    what the file is and which file it belongs to, as its hard binding can only be checked
    against that file's bytes."""
    asset = asset_of(path) if path is not None else None
    whose = (
        f"the sidecar of {asset.name}: verify {asset.name}"
        if asset is not None
        else "a sidecar: verify the file it belongs to, with it beside the file"
    )
    return Report.from_error(
        report.source,
        report.error["code"] if report.error else "unsupported-format",
        f"a C2PA manifest store (application/c2pa), {whose}",
        size=report.media.bytes,
        media=MediaInfo(format="c2pa", mime="application/c2pa"),
        file=report.file,
        trust_anchors=report.trust_anchors,
    )
