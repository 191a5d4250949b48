"""aimark scan as an archivist or a pipeline sees it (issue 24): progress with an honest ETA,
progress lines when stderr is not a terminal, an interrupted scan that says how to resume,
stripped copies recovered through --repository, and empty folders that do not pass as
checked (exit 5, verify and scan)."""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

import aimark
from aimark.scanner import run as scan_run
from aimark.scanner.cli import resume_hint
from aimark.scanner.run import ScanRun, progress_text
from conftest import encode, natural_image

ENV = {**os.environ, "PYTHONPATH": str(Path(aimark.__file__).parents[1])}


def _aimark(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aimark", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
        **kw,
    )


def _pngs(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"img{i:03d}.png").write_bytes(encode(natural_image(96, 64, seed=i), "png"))
    return folder


def test_no_eta_while_the_listing_grows():
    listing = progress_text(100, 120, 10.0, listing=True)
    assert "ETA" not in listing and "listing… 120 found" in listing
    known = progress_text(1200, 5000, 30.0, listing=False)
    assert known == "1,200/5,000 files (24 %), 40.0 files/s, ETA 1m35s"


def test_slow_listing_shows_no_eta_until_the_total_is_known(tmp_path, monkeypatch):
    """A folder that is slow to list (a network share): the first files are scanned while
    the total still grows; the ETA appears only once the listing has ended."""
    folder = _pngs(tmp_path / "slow", 16)
    real_walk = scan_run.walk

    def slow_walk(roots, options):
        for i, item in enumerate(real_walk(roots, options)):
            if i < 4:
                time.sleep(0.3)  # the first few trickle in, the rest come at once
            yield item

    monkeypatch.setattr(scan_run, "walk", slow_walk)
    err = io.StringIO()
    run = ScanRun(
        [folder],
        workers=0,
        chunk_size=1,
        progress=err,
        progress_style="lines",
        progress_interval=0.001,
    )
    assert run.run().files == 16
    lines = err.getvalue().splitlines()
    during = [x for x in lines if "listing…" in x]
    after = [x for x in lines if "listing…" not in x]
    assert during and not any("ETA" in x for x in during), lines
    assert any("/16 files" in x and "ETA" in x for x in after), lines
    assert all(x.startswith("scan: ") for x in lines)


def test_progress_lines_when_stderr_is_not_a_terminal(tmp_path):
    folder = _pngs(tmp_path / "pics", 12)
    proc = _aimark(
        "scan", str(folder), "-o", str(tmp_path / "s.jsonl"), "--workers", "0",
        "--progress-interval", "0.01",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.startswith("scan: ")]
    assert lines, proc.stderr  # auto: lines, stderr being a pipe
    assert "\r" not in proc.stderr
    assert any("/12 files (" in x and "files/s" in x for x in lines), lines
    quiet = _aimark(
        "scan", str(folder), "-o", str(tmp_path / "t.jsonl"), "--workers", "0",
        "--progress", "none", "--progress-interval", "0.01",
    )  # fmt: skip
    assert quiet.returncode == 0 and "scan: " not in quiet.stderr


def test_interrupted_scan_prints_the_command_that_resumes_it(tmp_path):
    folder = _pngs(tmp_path / "many", 120)
    out = tmp_path / "scan.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aimark", "scan", str(folder), "-o", str(out), "--workers", "1",
         "--restart"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        start_new_session=True,
    )  # fmt: skip
    t0 = time.monotonic()
    while not (out.exists() and out.read_bytes().count(b"\n") >= 5):
        assert proc.poll() is None and time.monotonic() - t0 < 120, proc.communicate()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "scan interrupted" in err
    (hint,) = [x for x in err.splitlines() if "to resume" in x]
    command = shlex.split(hint.split("run: ", 1)[1])
    assert command[:2] == ["aimark", "scan"] and "--restart" not in command
    done_before = out.read_bytes().count(b"\n")
    assert 5 <= done_before < 120
    again = _aimark(*command[1:])
    assert again.returncode == 0, again.stderr
    assert f"{done_before:,} from the earlier run" in again.stderr
    sources = [json.loads(x)["source"] for x in out.read_text().splitlines()]
    assert len(sources) == len(set(sources)) == 120

    no_output = argparse.Namespace(output=None, paths=[str(folder)])
    assert "give -o FILE.jsonl" in resume_hint(no_output)  # nothing saved: say how to save


def test_scan_recovers_stripped_copies_through_the_repository(tmp_path, creds, dev):
    key = aimark.WatermarkKey.generate()
    key_file = tmp_path / "wm.key"
    key.save(key_file)
    db = tmp_path / "repo.db"
    rng = np.random.default_rng(7)
    small = Image.fromarray((rng.random((12, 16, 3)) * 255).astype(np.uint8))
    picture = small.resize((640, 480), Image.Resampling.BICUBIC)
    lab = aimark.Labeler(creds, generator=("img-model", "3"), watermark_key=key, repository=db)
    labelled = bytes(lab.label_image(picture, format="jpeg"))
    folder = tmp_path / "uploads"
    folder.mkdir()
    im = Image.open(io.BytesIO(labelled)).convert("RGB")
    im.save(folder / "stripped.jpg", "JPEG", quality=85)  # a re-save keeps no manifest
    trust = ("--trust", str(dev.root_cert))
    out = tmp_path / "scan.jsonl"
    proc = _aimark(
        "scan", str(folder), "-o", str(out), "--workers", "1", "--repository", str(db),
        "--watermark-key", str(key_file), *trust,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (row,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert row["recovery"]["status"] == "recovered", row["recovery"]
    assert row["recovery"]["c2pa"]["state"] == "trusted"
    verify = _aimark(
        "verify", str(folder / "stripped.jpg"), "--json", "--repository", str(db),
        "--watermark-key", str(key_file), *trust,
    )  # fmt: skip
    alone = json.loads(verify.stdout)
    assert row["verdict"]["status"] == alone["verdict"]["status"] == "labelled-watermark"
    assert row["recovery"]["manifest_id"] == alone["recovery"]["manifest_id"]
    assert "recovered from the repository" in row["verdict"]["summary"]


def test_empty_folder_is_not_a_pass(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "notes.bin").write_bytes(b"\x00\x01 not media")
    for folder in (empty, tmp_path / "keys"):
        verify = _aimark("verify", str(folder))
        assert verify.returncode == 5, verify.stderr
        assert "nothing to verify" in verify.stderr
        scan = _aimark("scan", str(folder), "--workers", "0")
        assert scan.returncode == 5, scan.stderr
        assert "nothing to scan" in scan.stderr
    assert _aimark("verify", str(empty), "--json").stdout == ""
