"""The C2PA layer of a verification: c2pa-python's reading of the file, with aimark's one
correction: a file c2pa cannot parse that holds no manifest store is damaged, not a carrier
of invalid credentials.

Example:
    >>> from aimark.manifest.c2pa_io import ManifestReader
    >>> from aimark.trust import TrustAnchors
    >>> reader = ManifestReader(TrustAnchors.none())
    >>> result, problem = read_c2pa(reader, b"\\xff\\xd8", "image/jpeg")
    >>> result.state.value, problem is not None
    ('absent', True)
"""

from __future__ import annotations

from typing import Any

from aimark.media import containers
from aimark.report import C2paResult, C2paState

__all__ = ["read_c2pa"]


def read_c2pa(reader: Any, data: bytes, mime: str) -> tuple[C2paResult, str | None]:
    """``reader``'s result for the file, and the problem to report when c2pa failed on a file
    without a manifest store (the result is then ``absent``)."""
    result = reader.read(data, mime)
    if (
        result.state is C2paState.INVALID
        and result.manifest is None
        and not containers.may_carry_c2pa(data)
    ):
        return C2paResult(state=C2paState.ABSENT), str(result.error or "")
    return result, None
