"""The PostgreSQL repository against a real server (Debian's postgresql, started here on a
loopback port): the same storage contract as SQLite, and a stripped copy recovering its
credentials through it."""

from __future__ import annotations

import io
import sqlite3  # noqa: F401  (the SQLite twin of these tests: test_repository.py)

import numpy as np
import pytest
from PIL import Image

import aimark
import pg_server
from aimark.repository import Binding, ManifestRecord, RepositoryError, open_repository
from aimark.repository.fingerprint import PDQ_ALG

pytestmark = [
    pytest.mark.skipif(pg_server.why_not() is not None, reason=str(pg_server.why_not())),
    pytest.mark.slow,  # starts a PostgreSQL server
]
pytest.importorskip("pdqhash", reason="PDQ fingerprints need pdqhash (aimark[repository])")


@pytest.fixture(scope="module")
def url():
    with pg_server.server() as u:
        yield u


@pytest.fixture
def repo(url):
    r = open_repository(url)
    r._db.execute(
        "TRUNCATE aimark_manifests, aimark_bindings, aimark_fingerprints, aimark_fingerprint_chunks"
    )
    yield r
    r.close()


def test_store_find_remove_and_stats(repo, url):
    repo.add(
        ManifestRecord(
            "urn:c2pa:a",
            b"\x00jumb",
            "image/jpeg",
            bindings=(Binding("io.aimark.image.2", "00000000000000FF"),),
            fingerprints=(Binding(PDQ_ALG, "f" * 64),),
        )
    )
    assert [m.manifest_id for m in repo.by_binding("io.aimark.image.2", "00000000000000ff")] == [
        "urn:c2pa:a"
    ]
    assert repo.manifest("urn:c2pa:a").store == b"\x00jumb"
    (hit,) = repo.by_fingerprint(PDQ_ALG, "f" * 63 + "e", 31)
    assert hit.distance == 1
    st = repo.stats()
    assert (st.manifests, st.bindings, st.fingerprints, st.schema_version) == (1, 1, 1, 2)
    assert st.bytes > 0
    repo.remove("urn:c2pa:a")
    assert repo.by_binding("io.aimark.image.2", "00000000000000ff") == []
    assert repo.by_fingerprint(PDQ_ALG, "f" * 64, 31) == []
    again = open_repository(url)  # migrations run once
    assert again.schema_version == 2
    again.close()


def test_fingerprint_search_agrees_with_brute_force(repo):
    rng = np.random.default_rng(11)
    values = [int.from_bytes(rng.bytes(32), "big") for _ in range(1500)]
    repo.add_many(
        [
            ManifestRecord(
                f"m{i}", b"s", "image/png", fingerprints=(Binding(PDQ_ALG, f"{v:064x}"),)
            )
            for i, v in enumerate(values)
        ]
    )
    for _ in range(40):
        q = values[int(rng.integers(len(values)))]
        for bit in rng.choice(256, int(rng.integers(0, 45)), replace=False):
            q ^= 1 << int(bit)
        found = {m.manifest_id: m.distance for m in repo.by_fingerprint(PDQ_ALG, f"{q:064x}", 31)}
        truth = {
            f"m{i}": (v ^ q).bit_count() for i, v in enumerate(values) if (v ^ q).bit_count() <= 31
        }
        assert found == truth


def test_a_failed_batch_leaves_nothing(repo):
    good = ManifestRecord("ok", b"s", "image/png")
    bad = ManifestRecord("bad", b"s", "image/png", bindings=(Binding("x.y", "not hex"),))
    with pytest.raises(ValueError):
        repo.add_many([good, bad])
    assert repo.stats().manifests == 0


def test_unreachable_server_is_a_clear_error():
    with pytest.raises(RepositoryError, match="cannot open the repository"):
        open_repository("postgresql://nobody:secret@127.0.0.1:1/none")


def test_recovery_through_postgres(creds, dev, url, repo):
    key = aimark.WatermarkKey.generate()
    lab = aimark.Labeler(creds, generator=("img-model", "3"), watermark_key=key, repository=url)
    rng = np.random.default_rng(5)
    small = Image.fromarray((rng.random((12, 16, 3)) * 255).astype(np.uint8))
    picture = small.resize((640, 480), Image.Resampling.BICUBIC)
    signed = bytes(lab.label_image(picture, format="jpeg"))
    im = Image.open(io.BytesIO(signed)).convert("RGB").resize((480, 360))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=70)
    for keys, method in (([key], "watermark"), ([], "fingerprint")):
        v = aimark.Verifier(trust=dev.root_cert, watermark_keys=keys, repository=url)
        report = v.verify_bytes(buf.getvalue())
        assert report.recovery.method == method and report.recovery.status == "recovered"
        assert report.recovery.c2pa.state.value == "trusted"


def test_a_record_replaces_the_one_with_its_id_in_a_batch_and_across_batches(repo):
    """The COPY path: a filed id is replaced whole (bindings and fingerprint chunks with it),
    and within one batch the last record with an id wins."""
    fp = f"{(1 << 255) | 12345:064x}"
    first = ManifestRecord("x", b"old", "image/png", bindings=(Binding("a.b", "01"),),
                           fingerprints=(Binding(PDQ_ALG, fp),))  # fmt: skip
    repo.add(first)
    repo.add_many(
        [
            ManifestRecord("x", b"mid", "image/png", bindings=(Binding("a.b", "02"),)),
            ManifestRecord("y", b"y", "image/png", bindings=(Binding("a.b", "02"),)),
            ManifestRecord("x", b"new", "image/png", bindings=(Binding("a.b", "03"),)),
        ]
    )
    assert repo.manifest("x").store == b"new"
    assert repo.by_binding("a.b", "01") == [] and [
        m.manifest_id for m in repo.by_binding("a.b", "02")
    ] == ["y"]
    assert [m.manifest_id for m in repo.by_binding("a.b", "03")] == ["x"]
    assert repo.by_fingerprint(PDQ_ALG, fp, 0) == []  # the old fingerprint went with it
    assert repo.stats().manifests == 2


def test_a_version_1_database_is_migrated_with_its_fingerprints():
    """A database made by the first schema (chunks without their fingerprints) is migrated on
    open, in a transaction: its rows are found again, a corrupt stored value is dropped from
    the index instead of failing the migration."""
    import psycopg

    from aimark.repository._base import chunks
    from aimark.repository.postgres import MIGRATIONS

    fp = (1 << 200) | 0xBEEF
    with pg_server.server() as fresh:
        with psycopg.connect(fresh, autocommit=True) as db:
            db.execute("CREATE TABLE aimark_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            for statement in MIGRATIONS[0].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO aimark_meta VALUES ('schema_version', '1')")
            for mid, value in (("old", f"{fp:064x}"), ("bad", "zz" + "0" * 62)):
                db.execute(
                    "INSERT INTO aimark_manifests VALUES (%s, 's', 'image/png', NULL, 1)", (mid,)
                )
                db.execute(
                    "INSERT INTO aimark_fingerprints VALUES (%s, %s, %s)", (mid, PDQ_ALG, value)
                )
                for i, c in enumerate(chunks(fp, 256)):
                    db.execute(
                        "INSERT INTO aimark_fingerprint_chunks VALUES (%s, %s, %s, %s)",
                        (PDQ_ALG, i, c, mid),
                    )
        repo = open_repository(fresh)
        assert repo.schema_version == len(MIGRATIONS) == 2
        hits = repo.by_fingerprint(PDQ_ALG, f"{fp ^ 0b111:064x}", 31)
        assert [(m.manifest_id, m.distance) for m in hits] == [("old", 3)]
        assert repo.manifest("bad") is not None  # the record stays; only its index row went
        repo.close()
