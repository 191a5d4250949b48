"""Recovery: credentials a manifest repository gives back to a file that lost its own, found
by the file's watermark payload or its PDQ fingerprint, and validated against the file. The
lookup (:func:`find_matches`) is the one the Soft Binding Resolution API answers with.

Example:
    >>> find_matches(None, watermarks=[], fingerprint=None)
    []
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aimark.errors import InputError, MissingExtraError
from aimark.report import C2paResult, C2paState, Recovery, WatermarkResult
from aimark.verification.pixels import Pixels

__all__ = ["find_matches", "fingerprint_of", "recover"]

_HARD_BINDING_CODES = {
    "assertion.dataHash.mismatch",
    "assertion.bmffHash.mismatch",
    "assertion.boxesHash.mismatch",
    "assertion.collectionHash.mismatch",
}


def is_hard_binding_failure(failure: dict[str, Any]) -> bool:
    return failure.get("code") in _HARD_BINDING_CODES


def fingerprint_of(pixels: Pixels) -> Any:
    """The PDQ fingerprint of the pixels (asked for in ``colour``), or None: PDQ not
    installed, the pixels undecodable, or the picture too flat for a usable fingerprint."""
    from aimark.repository.fingerprint import available, fingerprint

    if not available():
        return None
    try:
        got = fingerprint(pixels.get())
    except (InputError, MissingExtraError):
        return None
    return got if got.usable else None


def find_matches(
    repository: Any, *, watermarks: Iterable[tuple[str, str]], fingerprint: Any
) -> list[tuple[str, Any]]:
    """``(method, match)`` for every record the repository holds for one asset: exact
    watermark bindings first (``watermarks``: ``(scheme, payload hex)`` pairs), then
    fingerprints within the match distance, nearest first.

    Raises:
        RepositoryError: the repository cannot be read.
    """
    from aimark.repository.fingerprint import MATCH_DISTANCE

    out: list[tuple[str, Any]] = []
    for scheme, payload in watermarks:
        out += [("watermark", m) for m in repository.by_binding(scheme, payload)]
    if fingerprint is not None:
        hits = repository.by_fingerprint(fingerprint.alg, fingerprint.value, MATCH_DISTANCE)
        out += [("fingerprint", m) for m in hits]
    return out


def recover(
    open_repository: Callable[[], Any],
    repository_name: str,
    reader: Any,
    data: bytes,
    mime: str,
    wm: WatermarkResult,
    pixels: Pixels | None,
) -> Recovery | None:
    """Look the file up in the repository by its watermark payload, then by its PDQ
    fingerprint; validate what comes back against this file (``reader``: the verifier's
    :class:`~aimark.manifest.c2pa_io.ManifestReader`). Never raises for the repository's
    faults: they become a note. ``pixels`` is None for audio and video (no fingerprint)."""
    from aimark.repository import RepositoryError
    from aimark.repository.fingerprint import MATCH_DISTANCE, PDQ_ALG, distance

    fp = None
    try:
        repo = open_repository()
        fp = None if pixels is None else fingerprint_of(pixels)
        marks = [(wm.scheme, wm.payload)] if wm.detected and wm.payload and wm.scheme else []
        matches = find_matches(repo, watermarks=marks, fingerprint=fp)
        if not matches:
            return None
        method, match = matches[0]
        dist = match.distance if method == "fingerprint" else None
        record = repo.manifest(match.manifest_id)
    except RepositoryError as exc:
        return Recovery(
            method="none",
            status="unavailable",
            manifest_id="",
            repository=repository_name,
            c2pa=C2paResult(),
            note=f"the repository could not be used: {exc}",
        )
    if record is None:
        return None
    stored = {f.alg: f.value for f in record.fingerprints}
    if method == "watermark" and fp is not None and PDQ_ALG in stored:
        try:
            dist = distance(stored[PDQ_ALG], fp.value)
        except ValueError:
            dist = None
    result, _ = reader.read_manifest_data(
        record.store, data, ignore=is_hard_binding_failure, fmt=mime
    )
    signed_fp = dict(result.soft_bindings).get(PDQ_ALG)
    valid = result.state is not C2paState.INVALID
    if method == "watermark" and dist is None and fp is not None and signed_fp and valid:
        # the manifest itself records its picture's fingerprint (what a remote API does
        # not expose), signed: compare with it
        try:
            dist = distance(signed_fp, fp.value)
        except ValueError:
            dist = None
    status, note = "recovered", None
    if method == "watermark" and dist is not None and dist > MATCH_DISTANCE:
        status = "mismatch"
        note = (
            "the watermark's payload belongs to a stored manifest whose picture is "
            f"{dist} of 256 fingerprint bits away from this one: a copied or forged "
            "watermark, not this picture's credentials"
        )
    elif result.state is C2paState.INVALID:
        status = "invalid"
        note = "the repository gave back a manifest that does not validate: " + (
            ", ".join(f.code for f in result.failures) or str(result.error)
        )
    return Recovery(
        method=method,
        status=status,
        manifest_id=record.manifest_id,
        repository=repository_name,
        c2pa=result,
        distance=dist,
        note=note,
    )
