"""What aimark says, as a new user reads it (issue 24, item 6): damaged is not tampered, no
"None" in the detailed view, no bytes reprs in errors, a signed manifest without a digital
source type said in words, -o naming a folder explained."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import aimark
from aimark.manifest.store import tree_lines
from aimark.media.image_io import decode_error_text
from aimark.report import C2paResult, C2paState, MediaInfo, MetadataResult, WatermarkResult
from aimark.verification.verdict import verdict
from conftest import encode, natural_image

ENV = {**os.environ, "PYTHONPATH": str(Path(aimark.__file__).parents[1])}


def _aimark(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aimark", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )


def test_truncated_upload_is_damaged_not_tampered(creds, trusted):
    for fmt in ("jpeg", "png"):
        data = bytes(
            aimark.label_image(
                natural_image(320, 240, seed=3), credentials=creds, generator="m", format=fmt
            )
        )
        cut = trusted.verify_bytes(data[: len(data) * 2 // 3]).verdict
        assert cut.status.value == "invalid"
        assert "damaged or truncated" in cut.summary and "tampered" not in cut.summary, fmt
        changed = bytearray(data)
        changed[len(data) * 3 // 4] ^= 0xFF  # one byte of picture data, the file complete
        edited = trusted.verify_bytes(bytes(changed)).verdict
        assert edited.status.value == "invalid"
        assert "tampered" in edited.summary and "truncated" not in edited.summary, fmt


def test_detailed_view_leaves_absent_fields_out():
    store = ({"label": "urn:a", "active": True, "signature": {}, "ingredients": [{}]},)
    text = "\n".join(tree_lines(store))
    assert "None" not in text, text
    assert "manifest urn:a (active)" in text and "no failures" in text
    sample = _aimark("verify", "--detailed", str(Path(__file__).parents[1] / "samples"))
    assert "manifest store:" in sample.stdout and ": None" not in sample.stdout


def test_errors_do_not_show_bytes_reprs(tmp_path):
    png = encode(natural_image(160, 120, seed=4), "png")
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "cut.png").write_bytes(png[: len(png) // 2])
    report = aimark.verify(folder / "cut.png")
    assert "PNG data is truncated (chunk IDAT)" in report.media.problems
    out = tmp_path / "scan.csv"
    proc = _aimark("scan", str(folder), "--csv", str(out), "--workers", "0")
    assert proc.returncode == 0, proc.stderr
    (row,) = csv.DictReader(io.StringIO(out.read_text()))
    assert "PNG data is truncated (chunk IDAT)" in row["error"] and "b'" not in row["error"]
    assert decode_error_text(SyntaxError("broken PNG file (chunk b'IDAT')")) == (
        "broken PNG file (chunk IDAT)"
    )


def test_signed_credentials_without_a_source_type_said_in_words():
    c2pa = C2paResult(state=C2paState.VALID_UNTRUSTED)
    v = verdict(c2pa, MetadataResult(), MediaInfo(), WatermarkResult())
    assert v.summary == (
        "not declared AI-generated; signed Content Credentials do not declare how it was "
        "made (no digital source type)"
    )


def test_output_naming_a_folder_says_what_was_expected(tmp_path, dev):
    src = tmp_path / "in.jpg"
    src.write_bytes(encode(natural_image(160, 120, seed=5), "jpeg"))
    folder = tmp_path / "out"
    folder.mkdir()
    label = _aimark(
        "label", str(src), "-o", str(folder), "--cert", str(dev.cert_chain), "--key",
        str(dev.private_key), "--model", "m",
    )  # fmt: skip
    assert label.returncode == 4, label.stderr
    assert f"-o names the output file; {folder} is a folder" in label.stderr
    assert str(folder / "labelled.jpg") in label.stderr
    scan = _aimark("scan", str(src), "-o", str(folder), "--workers", "0")
    assert scan.returncode == 4, scan.stderr
    assert "names the output file" in scan.stderr and str(folder / "scan.jsonl") in scan.stderr
    assert not os.listdir(folder)
