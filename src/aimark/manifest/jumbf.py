"""The labels of the manifests in a C2PA manifest store (JUMBF, ISO 19566-5), read from its
box headers: what a repository files a signed store under, without parsing the signed file
again.

A store is a JUMBF superbox labelled ``c2pa`` whose children are one superbox per manifest,
each labelled with the manifest's label; the last one is the active manifest.

Example:
    >>> def box(kind, body): return len(body + b"1234" + kind).to_bytes(4, "big") + kind + body
    >>> def superbox(label, *children):
    ...     jumd = box(b"jumd", bytes(16) + b"\\x03" + label.encode() + b"\\x00")
    ...     return box(b"jumb", jumd + b"".join(children))
    >>> store = superbox("c2pa", superbox("urn:c2pa:one"), superbox("urn:c2pa:two"))
    >>> manifest_labels(store), active_manifest_label(store)
    (['urn:c2pa:one', 'urn:c2pa:two'], 'urn:c2pa:two')
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["active_manifest_label", "manifest_labels", "signature_bytes"]

_LABEL_PRESENT = 0x02


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, body end) of the boxes in ``data[start:end]``; stops at a box whose
    size does not fit."""
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _label(data: bytes, start: int, end: int) -> str | None:
    """The label of the superbox whose body is ``data[start:end]`` (from its jumd box)."""
    for kind, body, stop in _boxes(data, start, end):
        if kind != b"jumd" or stop - body < 17:
            return None
        if not data[body + 16] & _LABEL_PRESENT:
            return None
        raw = data[body + 17 : stop]
        text = raw.split(b"\x00", 1)[0]
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def manifest_labels(store: bytes) -> list[str]:
    """The labels of the manifests in a manifest store, in order ([] if it is not one)."""
    out: list[str] = []
    for kind, body, end in _boxes(store, 0, len(store)):
        if kind != b"jumb" or _label(store, body, end) != "c2pa":
            continue
        for child, cbody, cend in _boxes(store, body, end):
            if child == b"jumb":
                label = _label(store, cbody, cend)
                if label is not None:
                    out.append(label)
        break
    return out


def active_manifest_label(store: bytes) -> str | None:
    """The active (last) manifest's label, or None if ``store`` holds no manifest."""
    labels = manifest_labels(store)
    return labels[-1] if labels else None


def _children(store: bytes) -> dict[str, tuple[int, int]]:
    """label -> (body start, body end) of each manifest superbox in the store."""
    out: dict[str, tuple[int, int]] = {}
    for kind, body, end in _boxes(store, 0, len(store)):
        if kind == b"jumb" and _label(store, body, end) == "c2pa":
            for child, cbody, cend in _boxes(store, body, end):
                label = _label(store, cbody, cend) if child == b"jumb" else None
                if label is not None:
                    out[label] = (cbody, cend)
            break
    return out


def signature_bytes(store: bytes, label: str | None = None) -> bytes | None:
    """The COSE_Sign1 signature (the ``cbor`` box of ``c2pa.signature``) of the manifest
    ``label`` (default: the active one), or None when the store has no such box."""
    manifests = _children(store)
    label = label or active_manifest_label(store)
    if label not in manifests:
        return None
    start, end = manifests[label]
    for kind, body, stop in _boxes(store, start, end):
        if kind == b"jumb" and _label(store, body, stop) == "c2pa.signature":
            for child, cbody, cend in _boxes(store, body, stop):
                if child == b"cbor":
                    return store[cbody:cend]
    return None
