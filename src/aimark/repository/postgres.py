"""The manifest repository on PostgreSQL, for deployments that outgrow one machine: the same
records, schema and lookups as :mod:`aimark.repository.sqlite`, behind a ``postgresql://``
URL (extra ``aimark[postgres]``: psycopg 3).

Each write is one transaction; the schema version lives in ``aimark_meta`` and the missing
migrations run on open, under an advisory lock so that concurrent openers do not race.

Example (needs a server)::

    from aimark.repository import open_repository
    repo = open_repository("postgresql://aimark@db.internal/manifests")
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from aimark.errors import MissingExtraError
from aimark.repository._base import (
    Binding,
    ManifestRecord,
    Match,
    RepositoryStats,
    apply_migrations,
    chunks,
    neighbours,
)
from aimark.repository.fingerprint import check_fingerprint
from aimark.repository.sqlite import RepositoryError, _hex

__all__ = ["MIGRATIONS", "PostgresRepository"]

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE aimark_manifests (
        manifest_id TEXT PRIMARY KEY,
        store BYTEA NOT NULL,
        mime TEXT NOT NULL,
        content_id TEXT,
        created DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE aimark_bindings (
        alg TEXT NOT NULL,
        value TEXT NOT NULL,
        manifest_id TEXT NOT NULL REFERENCES aimark_manifests(manifest_id) ON DELETE CASCADE,
        PRIMARY KEY (alg, value, manifest_id)
    );
    CREATE INDEX aimark_bindings_by_manifest ON aimark_bindings(manifest_id);
    CREATE TABLE aimark_fingerprints (
        manifest_id TEXT NOT NULL REFERENCES aimark_manifests(manifest_id) ON DELETE CASCADE,
        alg TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (manifest_id, alg)
    );
    CREATE TABLE aimark_fingerprint_chunks (
        alg TEXT NOT NULL,
        pos SMALLINT NOT NULL,
        chunk INTEGER NOT NULL,
        manifest_id TEXT NOT NULL REFERENCES aimark_manifests(manifest_id) ON DELETE CASCADE,
        PRIMARY KEY (alg, pos, chunk, manifest_id)
    );
    CREATE INDEX aimark_chunks_by_manifest ON aimark_fingerprint_chunks(manifest_id);
    CREATE INDEX aimark_manifests_by_content ON aimark_manifests(content_id);
    """,
    # 2: each chunk row carries its whole fingerprint (as bits), in a covering index, so a
    # lookup reads the candidates' distances from the index alone (no join per candidate)
    """
    ALTER TABLE aimark_fingerprint_chunks ADD COLUMN bits BIT VARYING;
    UPDATE aimark_fingerprint_chunks c SET bits = ('x' || f.value)::bit varying
        FROM aimark_fingerprints f
        WHERE f.manifest_id = c.manifest_id AND f.alg = c.alg AND f.value ~ '^[0-9a-f]+$';
    DELETE FROM aimark_fingerprint_chunks WHERE bits IS NULL;
    ALTER TABLE aimark_fingerprint_chunks ALTER COLUMN bits SET NOT NULL;
    ALTER TABLE aimark_fingerprint_chunks DROP CONSTRAINT aimark_fingerprint_chunks_pkey;
    CREATE UNIQUE INDEX aimark_chunks_lookup
        ON aimark_fingerprint_chunks (alg, pos, chunk, manifest_id) INCLUDE (bits);
    """,
)
_LOCK_ID = 0x61696D61726B  # "aimark": the advisory lock held while migrating


def _psycopg():
    try:
        import psycopg
    except ImportError:
        raise MissingExtraError(
            "a postgresql:// repository needs psycopg: pip install 'aimark[postgres]'"
        ) from None
    return psycopg


class PostgresRepository:
    """A manifest repository in a PostgreSQL database (tables prefixed ``aimark_``)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url
        psycopg = _psycopg()
        self._errors = psycopg.Error
        self._lock = threading.Lock()
        try:
            self._db = psycopg.connect(url, autocommit=True, connect_timeout=int(timeout))
            self._migrate()
        except psycopg.Error as exc:
            raise RepositoryError(f"cannot open the repository {_safe(url)}: {exc}") from None

    def _migrate(self) -> None:
        with self._lock, self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS aimark_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            row = self._db.execute(
                "SELECT value FROM aimark_meta WHERE key = 'schema_version'"
            ).fetchone()
            version = int(row[0]) if row else 0
            apply_migrations(self._db.execute, version, MIGRATIONS, "the repository")
            self._db.execute(
                "INSERT INTO aimark_meta VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (str(len(MIGRATIONS)),),
            )

    @property
    def schema_version(self) -> int:
        row = self._db.execute(
            "SELECT value FROM aimark_meta WHERE key = 'schema_version'"
        ).fetchone()
        return int(row[0])

    def _write(self, fn) -> None:
        with self._lock:
            try:
                with self._db.transaction():
                    fn()
            except self._errors as exc:
                raise RepositoryError(f"cannot write to the repository: {exc}") from None

    def add(self, record: ManifestRecord) -> None:
        self.add_many([record])

    def add_many(self, records: list[ManifestRecord]) -> None:
        """File ``records`` in one transaction (a record replaces one with its id).

        The rows go in through ``COPY``: one statement per table, whatever the batch size.
        """
        latest = {r.manifest_id: r for r in records}  # a repeated id: the last one wins
        now = time.time()
        manifests: list[Any] = []
        bindings: set[Any] = set()
        prints: dict[Any, Any] = {}
        parts: set[Any] = set()
        for mid, r in latest.items():
            manifests.append((mid, r.store, r.mime, r.content_id, r.created or now))
            bindings.update((b.alg, _hex(b.value), mid) for b in r.bindings)
            for f in r.fingerprints:
                value = check_fingerprint(f.alg, f.value)
                prints[(mid, f.alg)] = value
                number, width = int(value, 16), len(value) * 4
                bits = f"{number:0{width}b}"
                parts.update((f.alg, i, c, mid, bits) for i, c in enumerate(chunks(number, width)))

        def write() -> None:
            with self._db.cursor() as cur:
                cur.execute(
                    "DELETE FROM aimark_manifests WHERE manifest_id = ANY(%s)", (list(latest),)
                )
                for table, rows in (
                    ("aimark_manifests", manifests),
                    ("aimark_bindings", sorted(bindings)),
                    ("aimark_fingerprints", [(m, a, v) for (m, a), v in prints.items()]),
                    ("aimark_fingerprint_chunks", sorted(parts)),
                ):
                    if rows:
                        with cur.copy(f"COPY {table} FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)

        self._write(write)

    def remove(self, manifest_id: str) -> None:
        self._write(
            lambda: self._db.execute(
                "DELETE FROM aimark_manifests WHERE manifest_id = %s", (manifest_id,)
            )
        )

    def _read(self, sql: str, params: tuple) -> list[tuple]:
        try:
            with self._lock:
                return self._db.execute(sql, params).fetchall()
        except self._errors as exc:
            raise RepositoryError(f"cannot read the repository: {exc}") from None

    def by_binding(self, alg: str, value: str) -> list[Match]:
        rows = self._read(
            "SELECT manifest_id FROM aimark_bindings WHERE alg = %s AND value = %s",
            (alg, _hex(value)),
        )
        return [Match(r[0], 100.0, alg) for r in rows]

    def by_fingerprint(self, alg: str, value: str, max_distance: int) -> list[Match]:
        """Multi-index hashing in one round trip: the chunk probes and the Hamming distance
        (``bit_count`` of the XOR, on the fingerprint the covering index holds beside each
        chunk) run in the server, which sends back only the matches."""
        query = check_fingerprint(alg, value)
        bits = len(query) * 4
        target = int(query, 16)
        parts = chunks(target, bits)
        radius = max_distance // len(parts)
        positions, values = [], []
        for pos, chunk in enumerate(parts):
            near = neighbours(chunk, radius)
            positions += [pos] * len(near)
            values += near
        rows = self._read(
            "WITH q(pos, chunk) AS (SELECT * FROM unnest(%s::smallint[], %s::integer[])) "
            "SELECT DISTINCT c.manifest_id, c.bits::text FROM q "
            "JOIN aimark_fingerprint_chunks c ON c.alg = %s AND c.pos = q.pos "
            "AND c.chunk = q.chunk "
            "WHERE CASE WHEN length(c.bits) = %s THEN bit_count(c.bits # %s::bit varying) "
            "ELSE %s + 1 END <= %s",
            (positions, values, alg, bits, f"{target:0{bits}b}", max_distance, max_distance),
        )
        rows = [(mid, f"{int(b, 2):0{bits // 4}x}") for mid, b in rows]
        found = []
        for manifest_id, stored in rows:
            try:
                d = (int(stored, 16) ^ target).bit_count()
            except (TypeError, ValueError):
                continue
            if d <= max_distance:
                found.append(Match(manifest_id, 100.0 * (1 - d / bits), alg, d))
        return sorted(found, key=lambda m: (m.distance, m.manifest_id))

    def manifest(self, manifest_id: str) -> ManifestRecord | None:
        rows = self._read(
            "SELECT manifest_id, store, mime, content_id, created FROM aimark_manifests "
            "WHERE manifest_id = %s",
            (manifest_id,),
        )
        if not rows:
            return None
        row = rows[0]
        bindings = self._read(
            "SELECT alg, value FROM aimark_bindings WHERE manifest_id = %s", (manifest_id,)
        )
        prints = self._read(
            "SELECT alg, value FROM aimark_fingerprints WHERE manifest_id = %s", (manifest_id,)
        )
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
        n = self._read("SELECT COUNT(*) FROM aimark_manifests", ())[0][0]
        b = self._read("SELECT COUNT(*) FROM aimark_bindings", ())[0][0]
        f = self._read("SELECT COUNT(*) FROM aimark_fingerprints", ())[0][0]
        by_alg = dict(self._read("SELECT alg, COUNT(*) FROM aimark_bindings GROUP BY alg", ()))
        by_alg.update(self._read("SELECT alg, COUNT(*) FROM aimark_fingerprints GROUP BY alg", ()))
        size = self._read(
            "SELECT SUM(pg_total_relation_size(c)) FROM unnest(ARRAY['aimark_manifests', "
            "'aimark_bindings', 'aimark_fingerprints', 'aimark_fingerprint_chunks']::regclass[]) c",
            (),
        )[0][0]
        return RepositoryStats(n, b, f, self.schema_version, int(size or 0), by_alg)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __del__(self) -> None:  # a repository dropped without close() closes its connection
        db = self.__dict__.get("_db")
        if db is not None:
            with contextlib.suppress(Exception):  # interpreter shutdown, a dead connection
                db.close()

    def __enter__(self) -> PostgresRepository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _safe(url: str) -> str:
    """The URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return url
