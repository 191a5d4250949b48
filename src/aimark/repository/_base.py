"""What a manifest repository stores and answers, whatever holds it (SQLite, PostgreSQL, a
remote Soft Binding Resolution API).

A record is one signed manifest store (the ``application/c2pa`` bytes), filed under its
manifest id (the active manifest's label), with its *bindings*: exact soft bindings such as a
watermark payload (``alg`` + hex value), and at most one perceptual fingerprint per algorithm
(looked up by Hamming distance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from aimark.errors import AimarkError

__all__ = ["Binding", "ManifestRecord", "Match", "Repository", "RepositoryStats", "chunks"]


class RepositoryError(AimarkError):
    """The repository cannot be opened, read or written."""

    code = "repository-error"


@dataclass(frozen=True)
class Binding:
    """A soft binding: ``alg`` (e.g. ``io.aimark.image.2``) and ``value`` (lower-case hex)."""

    alg: str
    value: str


@dataclass(frozen=True)
class ManifestRecord:
    """One stored manifest store and what finds it again."""

    manifest_id: str
    store: bytes  # the manifest store (JUMBF, application/c2pa)
    mime: str  # the asset's type when it was signed
    content_id: str | None = None
    bindings: tuple[Binding, ...] = ()  # exact bindings (watermark payloads)
    fingerprints: tuple[Binding, ...] = ()  # perceptual hashes, hex
    created: float = 0.0  # seconds since the epoch


@dataclass(frozen=True)
class Match:
    """An answer of a lookup: the manifest id, and how similar (100 for an exact binding; for a
    fingerprint, 100 × (1 - distance / bits))."""

    manifest_id: str
    similarity: float
    alg: str
    distance: int | None = None  # Hamming distance, for fingerprints


@dataclass(frozen=True)
class RepositoryStats:
    """How much a repository holds."""

    manifests: int
    bindings: int
    fingerprints: int
    schema_version: int
    bytes: int | None = None  # on disk, where known
    by_alg: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "manifests": self.manifests,
            "bindings": self.bindings,
            "fingerprints": self.fingerprints,
            "schema_version": self.schema_version,
            "bytes": self.bytes,
            "by_alg": dict(self.by_alg),
        }


class Repository(Protocol):
    """The interface every repository implements."""

    def add(self, record: ManifestRecord) -> None:
        """Store a record (in one transaction: all of it or nothing)."""

    def remove(self, manifest_id: str) -> None:
        """Delete a record and its bindings."""

    def by_binding(self, alg: str, value: str) -> list[Match]:
        """Records holding exactly this binding."""

    def by_fingerprint(self, alg: str, value: str, max_distance: int) -> list[Match]:
        """Records whose fingerprint of ``alg`` is within ``max_distance`` bits, nearest first."""

    def manifest(self, manifest_id: str) -> ManifestRecord | None:
        """The record of a manifest id, or None."""

    def stats(self) -> RepositoryStats:
        """Counts."""

    def close(self) -> None:
        """Release the connection."""


def apply_migrations(execute, version: int, migrations: tuple[str, ...], where: str) -> None:
    """Run the migrations after ``version`` through ``execute(statement)`` (inside the
    caller's transaction); a schema newer than ``migrations`` is refused."""
    if version > len(migrations):
        raise RepositoryError(
            f"{where} has schema version {version}, newer than this aimark knows "
            f"({len(migrations)}): upgrade aimark"
        )
    for script in migrations[version:]:
        for statement in script.split(";"):
            if statement.strip():
                execute(statement)


CHUNK_BITS = 16


def chunks(value: int, bits: int) -> list[int]:
    """``value`` (``bits`` wide) cut into 16-bit chunks, most significant first (the keys of the
    multi-index hash: two fingerprints within distance d share a chunk within d // n_chunks).

    Example:
        >>> chunks(0x0001_0002_0003_0004, 64)
        [1, 2, 3, 4]
    """
    n = bits // CHUNK_BITS
    return [(value >> (CHUNK_BITS * (n - 1 - i))) & 0xFFFF for i in range(n)]


def neighbours(chunk: int, radius: int) -> list[int]:
    """Every 16-bit value within Hamming ``radius`` of ``chunk`` (radius 0, 1 or 2).

    Example:
        >>> len(neighbours(0, 1)), len(neighbours(0, 2))
        (17, 137)
    """
    out = [chunk]
    if radius >= 1:
        flips = [chunk ^ (1 << i) for i in range(CHUNK_BITS)]
        out += flips
    if radius >= 2:
        out += [
            chunk ^ (1 << i) ^ (1 << j) for i in range(CHUNK_BITS) for j in range(i + 1, CHUNK_BITS)
        ]
    if radius > 2:
        raise ValueError("chunk radius above 2 is not supported: lower max_distance")
    return out
