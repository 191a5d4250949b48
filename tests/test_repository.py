"""The manifest repository: SQLite storage (transactions, migrations, concurrent and killed
writers), multi-index fingerprint search checked against brute force, labelling that files
every manifest atomically with its output, and verification that gives stripped copies their
credentials back (by watermark and by fingerprint) and calls a copied watermark what it is."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import aimark
from aimark.repository import Binding, ManifestRecord, RepositoryError, SQLiteRepository
from aimark.repository.fingerprint import MATCH_DISTANCE, PDQ_ALG, distance, fingerprint
from aimark.watermark.image import SCHEME_ID, embed
from conftest import REPO

pytest.importorskip("pdqhash", reason="PDQ fingerprints need pdqhash (aimark[repository])")


def _photo(seed: int, size=(640, 480)) -> Image.Image:
    """A picture of its own: a smooth random colour field (independent per seed) with grain.
    (conftest's natural_image varies only its phase with the seed: to PDQ its images are all
    the same picture, 8-14 bits apart.)"""
    rng = np.random.default_rng(seed)
    small = Image.fromarray((rng.random((12, 16, 3)) * 255).astype(np.uint8))
    base = np.asarray(small.resize(size, Image.Resampling.BICUBIC)).astype(np.float32)
    base += rng.normal(0, 6, base.shape)
    return Image.fromarray(base.clip(0, 255).astype(np.uint8))


def _strip_and_reencode(data: bytes, scale: float = 0.75, quality: int = 70) -> bytes:
    im = Image.open(io.BytesIO(data)).convert("RGB")
    im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)  # a re-save keeps no metadata and no manifest
    return buf.getvalue()


@pytest.fixture
def repo_path(tmp_path):
    return tmp_path / "manifests.db"


# -- storage ------------------------------------------------------------------------------------


def test_store_find_remove_and_stats(repo_path):
    repo = SQLiteRepository(repo_path)
    record = ManifestRecord(
        "urn:c2pa:a",
        b"\x00jumb store",
        "image/jpeg",
        content_id="urn:aimark:00ff",
        bindings=(Binding("io.aimark.image.2", "00000000000000FF"),),
        fingerprints=(Binding(PDQ_ALG, "f" * 64),),
    )
    repo.add(record)
    repo.add(ManifestRecord("urn:c2pa:b", b"other", "video/mp4"))
    assert [m.manifest_id for m in repo.by_binding("io.aimark.image.2", "ff".rjust(16, "0"))] == [
        "urn:c2pa:a"
    ]
    assert repo.by_binding("io.aimark.image.2", "0" * 16) == []
    assert repo.by_binding("io.aimark.image.1", "00000000000000ff") == []  # alg matters
    got = repo.manifest("urn:c2pa:a")
    assert got.store == record.store and got.content_id == record.content_id
    assert got.bindings == (Binding("io.aimark.image.2", "00000000000000ff"),)
    st = repo.stats()
    assert (st.manifests, st.bindings, st.fingerprints, st.schema_version) == (2, 1, 1, 1)
    repo.remove("urn:c2pa:a")
    assert repo.manifest("urn:c2pa:a") is None and repo.by_fingerprint(PDQ_ALG, "f" * 64, 31) == []
    with pytest.raises(ValueError, match="hex"):
        repo.by_binding("io.aimark.image.2", "not hex")
    repo.close()
    again = SQLiteRepository(repo_path)  # reopening runs no migration twice
    assert again.stats().manifests == 1 and again.schema_version == 1


def test_a_newer_schema_is_refused_and_a_non_database_is_an_error(repo_path, tmp_path):
    SQLiteRepository(repo_path).close()
    db = sqlite3.connect(repo_path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(RepositoryError, match="newer than this aimark knows"):
        SQLiteRepository(repo_path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not an SQLite file" * 100)
    with pytest.raises(RepositoryError, match="cannot open"):
        SQLiteRepository(junk)


def test_fingerprint_search_agrees_with_brute_force(repo_path):
    rng = np.random.default_rng(7)
    repo = SQLiteRepository(repo_path)
    values = [int.from_bytes(rng.bytes(32), "big") for _ in range(2000)]
    for i, v in enumerate(values):
        repo.add(
            ManifestRecord(
                f"m{i}", b"s", "image/png", fingerprints=(Binding(PDQ_ALG, f"{v:064x}"),)
            )
        )
    for trial in range(60):
        base = values[int(rng.integers(len(values)))]
        flips = int(rng.integers(0, 45))
        q = base
        for bit in rng.choice(256, flips, replace=False):
            q ^= 1 << int(bit)
        found = {m.manifest_id: m.distance for m in repo.by_fingerprint(PDQ_ALG, f"{q:064x}", 31)}
        truth = {
            f"m{i}": (v ^ q).bit_count() for i, v in enumerate(values) if (v ^ q).bit_count() <= 31
        }
        assert found == truth, trial  # finds what is there, and nothing that is not
    repo.close()


def test_a_killed_writer_leaves_whole_records_only(repo_path):
    SQLiteRepository(repo_path).close()
    writer = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO / "src")!r})
        from aimark.repository import Binding, ManifestRecord, SQLiteRepository
        repo = SQLiteRepository({str(repo_path)!r})
        i = 0
        while True:
            bindings = tuple(Binding("io.aimark.image.2", f"{{i * 10 + k:016x}}") for k in range(5))
            repo.add(ManifestRecord(f"m{{i}}", b"x" * 4000, "image/jpeg", bindings=bindings))
            i += 1
            if i == 50:
                print("ready", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    db = sqlite3.connect(repo_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    counts = db.execute(
        "SELECT m.manifest_id, COUNT(b.value) FROM manifests m LEFT JOIN bindings b "
        "USING (manifest_id) GROUP BY m.manifest_id"
    ).fetchall()
    assert len(counts) >= 50 and {n for _, n in counts} == {5}  # no half-written record
    orphans = db.execute(
        "SELECT COUNT(*) FROM bindings WHERE manifest_id NOT IN (SELECT manifest_id FROM manifests)"
    ).fetchone()[0]
    assert orphans == 0
    db.close()


def test_two_processes_write_at_once(repo_path):
    SQLiteRepository(repo_path).close()
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO / "src")!r})
        from aimark.repository import ManifestRecord, SQLiteRepository
        repo = SQLiteRepository({str(repo_path)!r})
        for i in range(200):
            repo.add(ManifestRecord(f"{{sys.argv[1]}}-{{i}}", b"s", "image/png"))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, tag]) for tag in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert SQLiteRepository(repo_path).stats().manifests == 400


# -- labelling files every manifest, atomically with its output -----------------------------


@pytest.fixture(scope="module")
def key() -> aimark.WatermarkKey:
    return aimark.WatermarkKey.generate()


def test_label_files_the_manifest_with_its_bindings(creds, key, repo_path, tmp_path):
    lab = aimark.Labeler(
        creds, generator=("img-model", "3"), watermark_key=key, repository=repo_path
    )
    result = lab.label_image(_photo(1), tmp_path / "out.jpg", format="jpeg")
    assert "repository" in result.layers
    repo = SQLiteRepository(repo_path)
    (match,) = repo.by_binding(SCHEME_ID, f"{result.watermark_payload:016x}")
    record = repo.manifest(match.manifest_id)
    assert record.content_id == result.content_id and record.mime == "image/jpeg"
    assert record.store[4:8] == b"jumb"  # the manifest store itself (JUMBF)
    own = fingerprint(np.asarray(Image.open(tmp_path / "out.jpg").convert("RGB")))
    assert distance(record.fingerprints[0].value, own.value) <= 2
    report = aimark.verify(tmp_path / "out.jpg")  # the file itself still carries its manifest
    assert report.c2pa.manifest == match.manifest_id


def test_output_and_record_are_written_both_or_neither(creds, repo_path, tmp_path):
    lab = aimark.Labeler(creds, generator="m", repository=repo_path)
    with pytest.raises(aimark.OutputError):
        lab.label_image(_photo(2), tmp_path / "missing-folder" / "out.png", format="png")
    assert SQLiteRepository(repo_path).stats().manifests == 0  # no record without its output
    db = sqlite3.connect(repo_path)
    db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON manifests BEGIN SELECT RAISE(FAIL, 'no'); END"
    )
    db.commit()
    db.close()
    with pytest.raises(RepositoryError):
        lab.label_image(_photo(3), tmp_path / "out.png", format="png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifests.db", *_wal(tmp_path)]


def _wal(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("manifests.db-"))


# -- verification gives stripped copies their credentials back -----------------------------


@pytest.fixture(scope="module")
def labelled(creds, key, tmp_path_factory):
    folder = tmp_path_factory.mktemp("repo")
    db = folder / "m.db"
    lab = aimark.Labeler(creds, generator=("img-model", "3"), watermark_key=key, repository=db)
    out = {i: bytes(lab.label_image(_photo(10 + i), format="jpeg")) for i in range(3)}
    plain = aimark.Labeler(creds, generator=("img-model", "3"), repository=db)  # no watermark
    out[9] = bytes(plain.label_image(_photo(19), format="jpeg"))
    return db, out


def test_stripped_copy_recovers_its_credentials_by_watermark(labelled, dev, key):
    db, out = labelled
    stripped = _strip_and_reencode(out[0])
    assert aimark.verify(stripped).c2pa.state.value == "absent"
    v = aimark.Verifier(trust=dev.root_cert, watermark_keys=[key], repository=db)
    report = v.verify_bytes(stripped)
    r = report.recovery
    assert r.method == "watermark" and r.status == "recovered"
    assert r.c2pa.state.value == "trusted" and r.c2pa.software_agents[0] == "img-model 3"
    assert "does not match this file" in r.hard_binding and r.distance <= MATCH_DISTANCE
    assert report.verdict.status.value == "labelled-watermark"
    assert "credentials recovered from the repository by watermark" in report.verdict.summary
    assert "aimark dev signer (trusted)" in report.verdict.summary
    assert report.to_dict()["recovery"]["c2pa"]["state"] == "trusted"


def test_fingerprint_alone_recovers_after_reencode_and_resize(labelled, dev):
    db, out = labelled
    stripped = _strip_and_reencode(out[9], scale=0.5, quality=60)
    report = aimark.Verifier(trust=dev.root_cert, repository=db).verify_bytes(stripped)
    assert report.recovery.method == "fingerprint" and report.recovery.status == "recovered"
    assert report.verdict.status.value == "labelled-recovered"
    assert "by fingerprint" in report.verdict.summary
    untrusting = aimark.Verifier(repository=db).verify_bytes(
        stripped
    )  # trust is ours, not the repo's
    assert untrusting.recovery.c2pa.state.value == "valid-untrusted"
    assert "not in your trust anchors" in untrusting.verdict.summary


def test_unrelated_pictures_recover_nothing(labelled, dev):
    db, _ = labelled
    for seed in (40, 41, 42):
        buf = io.BytesIO()
        _photo(seed).save(buf, "JPEG")
        report = aimark.Verifier(trust=dev.root_cert, repository=db).verify_bytes(buf.getvalue())
        assert report.recovery is None and report.verdict.status.value == "not-labelled"


def test_a_copied_watermark_is_a_mismatch_not_a_recovery(labelled, dev, key):
    """A different picture carrying the same payload (what a copy attack aims at) points at a
    stored manifest whose fingerprint is far away: reported, never recovered."""
    db, out = labelled
    repo = SQLiteRepository(db)
    (match,) = [
        m
        for m in repo.by_binding(
            SCHEME_ID,
            aimark.Verifier(watermark_keys=[key]).verify_bytes(out[1]).watermark.payload,
        )
    ]
    payload = int(repo.manifest(match.manifest_id).bindings[0].value, 16)
    other = np.asarray(_photo(55))
    forged = embed(other, key, payload)
    buf = io.BytesIO()
    Image.fromarray(forged).save(buf, "JPEG", quality=92)
    report = aimark.Verifier(trust=dev.root_cert, watermark_keys=[key], repository=db).verify_bytes(
        buf.getvalue()
    )
    assert report.watermark.detected
    assert report.recovery.status == "mismatch" and report.recovery.distance > MATCH_DISTANCE
    assert "belong to another picture" in report.verdict.summary
    assert "credentials recovered" not in report.verdict.summary


def test_empty_wrong_and_corrupt_repositories(labelled, dev, key, tmp_path):
    db, out = labelled
    stripped = _strip_and_reencode(out[2])
    empty = tmp_path / "empty.db"
    SQLiteRepository(empty).close()
    assert aimark.Verifier(repository=empty).verify_bytes(stripped).recovery is None
    missing = tmp_path / "missing.db"
    report = aimark.Verifier(watermark_keys=[key], repository=missing).verify_bytes(stripped)
    assert report.recovery.status == "unavailable" and "no repository" in report.recovery.note
    assert not missing.exists()  # verifying never creates a repository
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 64)
    report = aimark.Verifier(watermark_keys=[key], repository=junk).verify_bytes(stripped)
    assert report.recovery.status == "unavailable" and "could not be used" in report.recovery.note
    assert report.verdict.status.value == "labelled-watermark"  # the rest of the answer stands
    broken = tmp_path / "broken.db"
    with sqlite3.connect(db) as src, sqlite3.connect(broken) as copy:
        src.backup(copy)  # (the file alone may not hold what the WAL does)
    con = sqlite3.connect(broken)
    con.execute("UPDATE manifests SET store = X'00010203'")
    con.execute("UPDATE fingerprints SET value = 'zz'")
    con.commit()
    con.close()
    report = aimark.Verifier(
        trust=dev.root_cert, watermark_keys=[key], repository=broken
    ).verify_bytes(stripped)
    assert report.recovery.status == "invalid" and "does not validate" in report.recovery.note
    assert "credentials recovered" not in report.verdict.summary


def test_cli_labels_into_and_recovers_from_a_repository(dev, tmp_path, capsys):
    from aimark.cli import main

    db = tmp_path / "m.db"
    assert main(["repository", "init", str(db)]) == 0
    src = tmp_path / "in.jpg"
    _photo(70).save(src, quality=92)
    args = ["--cert", str(dev.cert_chain), "--key", str(dev.private_key), "--model", "m"]
    assert (
        main(["label", str(src), "-o", str(tmp_path / "out.jpg"), *args, "--repository", str(db)])
        == 0
    )
    assert "repository" in capsys.readouterr().out
    assert main(["repository", "stats", str(db), "--json"]) == 0
    assert '"manifests": 1' in capsys.readouterr().out
    stripped = tmp_path / "stripped.jpg"
    stripped.write_bytes(_strip_and_reencode((tmp_path / "out.jpg").read_bytes()))
    code = main(["verify", str(stripped), "--trust", str(dev.root_cert), "--repository", str(db)])
    out = capsys.readouterr().out
    assert code == 1 and "labelled-recovered" in out and "recovered: fingerprint" in out


def test_import_files_manifests_signed_elsewhere(creds, dev, key, tmp_path, capsys):
    """Images labelled without a repository (here, and Adobe's test image) are filed by
    ``aimark repository import``; a stripped copy then recovers its credentials."""
    from aimark.cli import main

    lab = aimark.Labeler(creds, generator=("img-model", "3"), watermark_key=key)
    for i, fmt in enumerate(("jpeg", "png", "webp")):
        (tmp_path / f"signed.{fmt}").write_bytes(bytes(lab.label_image(_photo(80 + i), format=fmt)))
    (tmp_path / "plain.jpg").write_bytes(
        _strip_and_reencode((tmp_path / "signed.jpeg").read_bytes())
    )
    sample = REPO / "samples" / "c2pa-adobe-test-C.jpg"
    (tmp_path / "adobe.jpg").write_bytes(sample.read_bytes())
    db = tmp_path / "m.db"
    assert main(["repository", "import", str(db), str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert out.out.count(": filed ") == 4 and "plain.jpg: skipped: no C2PA manifest" in out.out
    assert "4 manifest(s) filed" in out.err
    repo = SQLiteRepository(db)
    assert repo.stats().manifests == 4 and repo.stats().bindings == 3  # aimark's payloads
    report = aimark.Verifier(trust=dev.root_cert, watermark_keys=[key], repository=db).verify_bytes(
        _strip_and_reencode((tmp_path / "signed.png").read_bytes())
    )
    assert report.recovery.status == "recovered" and report.recovery.c2pa.state.value == "trusted"


def test_import_files_the_manifests_of_video_audio_and_documents(creds, tmp_path):
    """Media labelled with a repository and media imported afterwards are filed with the same
    manifest store, byte for byte; unsigned media and a damaged store are skipped, saying why."""
    from aimark.repository.importer import import_bytes, jumbf_stores
    from test_media import SVG, make_avi, make_flac, make_wav, make_zip

    made = {"wav": make_wav(), "flac": make_flac(), "avi": make_avi(), "svg": SVG}
    filed_at_label = SQLiteRepository(tmp_path / "at-label.db")
    lab = aimark.Labeler(creds, generator="media-model", repository=filed_at_label)
    signed = {k: bytes(lab.label_media(v)) for k, v in made.items()}
    imported = SQLiteRepository(tmp_path / "imported.db")
    for kind, data in signed.items():
        assert import_bytes(imported, data).startswith("filed urn:"), kind
    assert imported.stats().manifests == len(signed)
    for kind, data in signed.items():
        (label,) = [
            r.manifest_id
            for r in map(filed_at_label.manifest, _ids(filed_at_label))
            if r.store in jumbf_stores(data)
        ]
        assert imported.manifest(label).store == filed_at_label.manifest(label).store, kind
    assert import_bytes(imported, make_wav()) == "skipped: no C2PA manifest in a WAV audio file"
    package = bytes(lab.label_media(make_zip("epub")))
    assert import_bytes(imported, package) == (
        "skipped: c2pa cannot read the manifest store of an EPUB book on its own, so a "
        "recovered copy could not be validated"
    )
    broken = bytearray(signed["wav"])
    at = broken.find(b"jumdc2pa")
    broken[at + 40 : at + 48] = b"XXXXXXXX"  # the store's own bytes, no longer c2pa's
    assert import_bytes(imported, bytes(broken)).startswith("skipped:")
    assert import_bytes(imported, b"plain words") == (
        "skipped: not an image or media file that carries C2PA manifests"
    )
    assert imported.stats().manifests == len(signed)


def _ids(repo: SQLiteRepository) -> list[str]:
    with sqlite3.connect(repo.path) as db:
        return [r[0] for r in db.execute("SELECT manifest_id FROM manifests")]


def test_import_files_media_signed_by_other_tools(tmp_path):
    """c2pa-rs's signed MP4 and Adobe Express's signed PDF are filed under their active
    manifest; their unsigned MP3 is skipped."""
    from aimark.repository.importer import import_file
    from test_media import MEDIA

    if not MEDIA.is_dir():
        pytest.skip(f"{MEDIA} (the c2pa-rs media fixtures) is absent")
    repo = SQLiteRepository(tmp_path / "m.db")
    for name in ("video1.mp4", "express-signed.pdf"):
        said = import_file(repo, MEDIA / name)
        assert said.startswith("filed urn:uuid:"), (name, said)
    assert import_file(repo, MEDIA / "sample1.mp3").startswith("skipped: no C2PA manifest")
    assert repo.stats().manifests == 2


def test_import_keeps_the_signed_fingerprint_out_of_the_exact_bindings(creds, key, tmp_path):
    from aimark.repository.importer import import_bytes

    first = SQLiteRepository(tmp_path / "first.db")
    lab = aimark.Labeler(creds, generator="m", watermark_key=key, repository=first)
    signed = bytes(lab.label_image(_photo(91), format="jpeg"))
    again = SQLiteRepository(tmp_path / "again.db")
    assert import_bytes(again, signed).startswith("filed urn:")
    (mid,) = _ids(again)
    assert [b.alg for b in again.manifest(mid).bindings] == [SCHEME_ID]
    assert [f.alg for f in again.manifest(mid).fingerprints] == [PDQ_ALG]
    assert again.manifest(mid).fingerprints == first.manifest(mid).fingerprints


def _peak_rss_mib(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    """``python -m aimark *args`` in a fresh process, and that process's peak RSS (VmHWM:
    reset at exec, unlike ru_maxrss, which a child inherits from a large pytest process)."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['aimark', *{list(args)!r}]\n"
        "try:\n    runpy.run_module('aimark', run_name='__main__')\n"
        "finally:\n"
        "    hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')]\n"
        "    print('PEAK', hwm[0].split()[1], file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    peak = int(done.stderr.rsplit("PEAK ", 1)[1].split()[0]) / 1024
    return done, peak


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_import_reads_within_the_byte_limit(tmp_path):
    """A 300 MB file (sparse: it costs no disk) is over the default byte limit of 256 MiB:
    ``repository import`` skips it without reading it, as ``verify`` refuses it;
    ``--max-bytes`` sets the limit."""
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(300 * 1024 * 1024)
    db = str(tmp_path / "m.db")
    done, peak = _peak_rss_mib("repository", "import", db, str(big))
    assert done.returncode == 0, done.stderr
    assert "skipped: 314,572,800 bytes is over the limit of 268,435,456 bytes" in done.stdout
    assert peak < 250, f"peak RSS {peak:.0f} MiB: the file was read"
    small = tmp_path / "small.bin"
    small.write_bytes(b"x" * 5000)
    done, _ = _peak_rss_mib("repository", "import", db, "--max-bytes", "4096", str(small))
    assert "skipped: 5,000 bytes is over the limit of 4,096 bytes" in done.stdout
    verify = subprocess.run(
        [sys.executable, "-m", "aimark", "verify", "--json", str(big)], capture_output=True
    )
    assert json.loads(verify.stdout)["error"]["code"] == "too-large"
