"""Manifest repositories: keep every signed manifest store with its soft bindings (watermark
payloads, perceptual fingerprints), so that a file whose credentials were stripped can get them
back (C2PA durable Content Credentials).

``open_repository(target)`` takes a file path (SQLite, the default), with the extra
``aimark[postgres]`` a ``postgresql://`` URL, and an ``https://`` URL of a C2PA Soft Binding
Resolution API (read-only: for verification).

Example:
    >>> import tempfile, os
    >>> from aimark.repository import open_repository
    >>> repo = open_repository(os.path.join(tempfile.mkdtemp(), "m.db"))
    >>> repo.stats().manifests
    0
"""

from __future__ import annotations

import os

from aimark.repository._base import Binding, ManifestRecord, Match, Repository, RepositoryStats
from aimark.repository.sqlite import RepositoryError, SQLiteRepository

__all__ = [
    "Binding",
    "ManifestRecord",
    "Match",
    "Repository",
    "RepositoryError",
    "RepositoryStats",
    "SQLiteRepository",
    "open_repository",
]


def open_repository(
    target: str | os.PathLike[str] | Repository, *, create: bool = True
) -> Repository:
    """A repository from a path (SQLite; ``create=False`` refuses a missing file instead of
    creating it), a ``postgresql://`` URL or an ``https://`` resolution API; an open
    repository is returned as it is."""
    if not isinstance(target, (str, os.PathLike)):
        return target
    text = os.fspath(target)
    if text.startswith(("postgresql://", "postgres://")):
        from aimark.repository.postgres import PostgresRepository

        return PostgresRepository(text)
    if text.startswith(("https://", "http://")):
        from aimark.repository.remote import RemoteRepository

        return RemoteRepository(text)
    if "://" in text:
        raise RepositoryError(
            f"unsupported repository URL {text!r} (a path, postgresql:// or an https:// "
            "resolution API)"
        )
    return SQLiteRepository(text, create=create)
