"""The embedded manifest repository: one SQLite file, safe for several processes.

WAL journal (readers never block the writer), a busy timeout for concurrent writers, every
record written in one transaction (a writer killed mid-write leaves the previous state), and
a versioned schema: ``meta.schema_version`` says which of :data:`MIGRATIONS` have run, and
opening a file applies the missing ones in order.

Fingerprints are found by multi-index hashing: each fingerprint is also stored as 16-bit
chunks, each indexed; two fingerprints within Hamming distance d share at least one chunk
within d // chunks of each other, so a lookup probes the index with every value that close to
each of the query's chunks, then checks the full distance of the few candidates.

Example:
    >>> import tempfile, os
    >>> from aimark.repository import Binding, ManifestRecord, SQLiteRepository
    >>> repo = SQLiteRepository(os.path.join(tempfile.mkdtemp(), "manifests.db"))
    >>> repo.add(ManifestRecord("urn:c2pa:1", b"store", "image/jpeg",
    ...          bindings=(Binding("io.aimark.image.2", "00ff00ff00ff00ff"),)))
    >>> [m.manifest_id for m in repo.by_binding("io.aimark.image.2", "00FF00FF00FF00FF")]
    ['urn:c2pa:1']
    >>> repo.stats().manifests
    1
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from aimark.repository._base import (
    Binding,
    ManifestRecord,
    Match,
    RepositoryError,
    RepositoryStats,
    apply_migrations,
    chunks,
    neighbours,
)
from aimark.repository.fingerprint import check_fingerprint

__all__ = ["MIGRATIONS", "RepositoryError", "SQLiteRepository"]


# schema migrations, in order; never edit one that has shipped: add the next
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE manifests (
        manifest_id TEXT PRIMARY KEY,
        store BLOB NOT NULL,
        mime TEXT NOT NULL,
        content_id TEXT,
        created REAL NOT NULL
    );
    CREATE TABLE bindings (
        alg TEXT NOT NULL,
        value TEXT NOT NULL,
        manifest_id TEXT NOT NULL REFERENCES manifests(manifest_id) ON DELETE CASCADE,
        PRIMARY KEY (alg, value, manifest_id)
    ) WITHOUT ROWID;
    CREATE TABLE fingerprints (
        manifest_id TEXT NOT NULL REFERENCES manifests(manifest_id) ON DELETE CASCADE,
        alg TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (manifest_id, alg)
    ) WITHOUT ROWID;
    CREATE TABLE fingerprint_chunks (
        alg TEXT NOT NULL,
        pos INTEGER NOT NULL,
        chunk INTEGER NOT NULL,
        manifest_id TEXT NOT NULL,
        PRIMARY KEY (alg, pos, chunk, manifest_id)
    ) WITHOUT ROWID;
    CREATE INDEX manifests_by_content ON manifests(content_id);
    CREATE INDEX bindings_by_manifest ON bindings(manifest_id);
    """,
)


_TABLES = ("fingerprints", "bindings", "manifests")


def _hex(value: str) -> str:
    v = value.strip().lower()
    if not v or any(c not in "0123456789abcdef" for c in v):
        raise ValueError(f"a binding value must be hex, not {value!r}")
    return v


class SQLiteRepository:
    """A manifest repository in one SQLite file (created, and migrated, on open)."""

    def __init__(
        self, path: str | os.PathLike[str], *, timeout: float = 10.0, create: bool = True
    ) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        if not create and not self.path.is_file():
            raise RepositoryError(f"no repository at {self.path}")
        try:
            self._db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.Error as exc:
            raise RepositoryError(f"cannot open the repository {self.path}: {exc}") from None

    # ------------------------------------------------------------------ schema

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                row = self._db.execute(
                    "SELECT value FROM meta WHERE key = 'schema_version'"
                ).fetchone()
                version = int(row[0]) if row else 0
                apply_migrations(self._db.execute, version, MIGRATIONS, str(self.path))
                self._db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                    (str(len(MIGRATIONS)),),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ writes

    def add(self, record: ManifestRecord) -> None:
        """Store ``record`` in one transaction (replacing a record of the same manifest id)."""
        self.add_many([record])

    def add_many(self, records: list[ManifestRecord]) -> None:
        """Store several records in one transaction (bulk imports): all of them or none."""
        rows = [self._rows(r) for r in records]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for manifest, bindings, prints, parts in rows:
                        self._drop_chunks(manifest[0])
                        self._db.execute(
                            "INSERT OR REPLACE INTO manifests VALUES (?, ?, ?, ?, ?)", manifest
                        )
                        self._db.executemany(
                            "INSERT OR IGNORE INTO bindings VALUES (?, ?, ?)", bindings
                        )
                        self._db.executemany(
                            "INSERT OR REPLACE INTO fingerprints VALUES (?, ?, ?)", prints
                        )
                        self._db.executemany(
                            "INSERT OR IGNORE INTO fingerprint_chunks VALUES (?, ?, ?, ?)", parts
                        )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise RepositoryError(f"cannot write to {self.path}: {exc}") from None

    def _drop_chunks(self, manifest_id: str) -> None:
        """Delete a manifest's chunk rows by their key (computed from its stored values)."""
        for alg, value in self._db.execute(
            "SELECT alg, value FROM fingerprints WHERE manifest_id = ?", (manifest_id,)
        ).fetchall():
            try:
                parts = chunks(int(value, 16), len(value) * 4)
            except (TypeError, ValueError):
                continue
            self._db.executemany(
                "DELETE FROM fingerprint_chunks WHERE alg = ? AND pos = ? AND chunk = ? "
                "AND manifest_id = ?",
                [(alg, i, c, manifest_id) for i, c in enumerate(parts)],
            )

    @staticmethod
    def _rows(record: ManifestRecord) -> tuple[tuple, list, list, list]:
        mid = record.manifest_id
        manifest = (
            mid,
            record.store,
            record.mime,
            record.content_id,
            record.created or time.time(),
        )
        bindings = [(b.alg, _hex(b.value), mid) for b in record.bindings]
        prints: list[Any] = []
        parts: list[Any] = []
        for f in record.fingerprints:
            value = check_fingerprint(f.alg, f.value)
            prints.append((mid, f.alg, value))
            chunk_values = chunks(int(value, 16), len(value) * 4)
            parts.extend((f.alg, i, c, mid) for i, c in enumerate(chunk_values))
        return manifest, bindings, prints, parts

    def remove(self, manifest_id: str) -> None:
        """Delete a record and its bindings (one transaction)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for table in ("fingerprint_chunks", "fingerprints", "bindings", "manifests"):
                        self._db.execute(
                            f"DELETE FROM {table} WHERE manifest_id = ?", (manifest_id,)
                        )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise RepositoryError(f"cannot write to {self.path}: {exc}") from None

    # ------------------------------------------------------------------ reads

    def by_binding(self, alg: str, value: str) -> list[Match]:
        try:
            rows = self._db.execute(
                "SELECT manifest_id FROM bindings WHERE alg = ? AND value = ?",
                (alg, _hex(value)),
            ).fetchall()
        except sqlite3.Error as exc:
            raise RepositoryError(f"cannot read {self.path}: {exc}") from None
        return [Match(r[0], 100.0, alg) for r in rows]

    def by_fingerprint(self, alg: str, value: str, max_distance: int) -> list[Match]:
        query = check_fingerprint(alg, value)
        bits = len(query) * 4
        target = int(query, 16)
        parts = chunks(target, bits)
        radius = max_distance // len(parts)
        found = []
        try:
            ids: set[str] = set()
            for pos, chunk in enumerate(parts):  # an index range scan per chunk position
                near = neighbours(chunk, radius)
                rows = self._db.execute(
                    "SELECT manifest_id FROM fingerprint_chunks WHERE alg = ? AND pos = ? "
                    f"AND chunk IN ({','.join('?' * len(near))})",
                    (alg, pos, *near),
                ).fetchall()
                ids.update(r[0] for r in rows)
            candidates = sorted(ids)
            for start in range(0, len(candidates), 900):  # then the values, in a few fetches
                part = candidates[start : start + 900]
                values = self._db.execute(
                    "SELECT manifest_id, value FROM fingerprints WHERE manifest_id "
                    f"IN ({','.join('?' * len(part))}) AND alg = ?",
                    (*part, alg),
                ).fetchall()
                for manifest_id, stored in values:
                    try:
                        d = (int(stored, 16) ^ target).bit_count()
                    except (TypeError, ValueError):  # a corrupt row finds nothing
                        continue
                    if d <= max_distance:
                        found.append(Match(manifest_id, 100.0 * (1 - d / bits), alg, d))
        except sqlite3.Error as exc:
            raise RepositoryError(f"cannot read {self.path}: {exc}") from None
        return sorted(found, key=lambda m: (m.distance, m.manifest_id))

    def manifest(self, manifest_id: str) -> ManifestRecord | None:
        try:
            row = self._db.execute(
                "SELECT manifest_id, store, mime, content_id, created FROM manifests "
                "WHERE manifest_id = ?",
                (manifest_id,),
            ).fetchone()
            if row is None:
                return None
            bindings = self._db.execute(
                "SELECT alg, value FROM bindings WHERE manifest_id = ?", (manifest_id,)
            ).fetchall()
            prints = self._db.execute(
                "SELECT alg, value FROM fingerprints WHERE manifest_id = ?", (manifest_id,)
            ).fetchall()
        except sqlite3.Error as exc:
            raise RepositoryError(f"cannot read {self.path}: {exc}") from None
        return ManifestRecord(
            manifest_id=row[0],
            store=bytes(row[1]),
            mime=row[2],
            content_id=row[3],
            bindings=tuple(Binding(a, v) for a, v in bindings),
            fingerprints=tuple(Binding(a, v) for a, v in prints),
            created=row[4],
        )

    def stats(self) -> RepositoryStats:
        try:
            n = self._db.execute("SELECT COUNT(*) FROM manifests").fetchone()[0]
            b = self._db.execute("SELECT COUNT(*) FROM bindings").fetchone()[0]
            f = self._db.execute("SELECT COUNT(*) FROM fingerprints").fetchone()[0]
            by_alg = dict(
                self._db.execute("SELECT alg, COUNT(*) FROM bindings GROUP BY alg").fetchall()
            )
            by_alg.update(
                self._db.execute("SELECT alg, COUNT(*) FROM fingerprints GROUP BY alg").fetchall()
            )
        except sqlite3.Error as exc:
            raise RepositoryError(f"cannot read {self.path}: {exc}") from None
        size = sum(
            p.stat().st_size
            for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))
            if p.exists()
        )
        return RepositoryStats(n, b, f, self.schema_version, size, by_alg)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __del__(self) -> None:  # a repository dropped without close() closes its connection
        db = self.__dict__.get("_db")
        if db is not None:
            with contextlib.suppress(Exception):  # interpreter shutdown, a dead connection
                db.close()

    def __enter__(self) -> SQLiteRepository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
