"""The aimark command line, run as a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

import aimark
from conftest import encode, natural_image, sha256
from test_bad_input import assert_clean_failure, run_cli


@pytest.fixture(scope="module")
def files(tmp_path_factory, dev):
    d = tmp_path_factory.mktemp("cli")
    (d / "plain.jpg").write_bytes(encode(natural_image(seed=5), "jpeg"))
    return d


def label_args(dev, src, dst, *extra):
    return (
        "label",
        str(src),
        "-o",
        str(dst),
        "--cert",
        str(dev.cert_chain),
        "--key",
        str(dev.private_key),
        "--model",
        "cli-model",
        "--model-version",
        "3",
        *extra,
    )


def test_label_then_verify_exit_codes(files, dev):
    src, dst = files / "plain.jpg", files / "labelled.jpg"
    before = sha256(src)
    proc = run_cli(*label_args(dev, src, dst))
    assert proc.returncode == 0, proc.stderr
    assert "labelled (xmp, exif, c2pa)" in proc.stdout
    assert sha256(src) == before

    trusted = run_cli("verify", str(dst), "--trust", str(dev.root_cert))
    assert trusted.returncode == 0
    assert "labelled-trusted" in trusted.stdout and "cli-model 3" in trusted.stdout

    untrusted = run_cli("verify", str(dst))
    assert untrusted.returncode == 1
    assert "labelled-untrusted" in untrusted.stdout
    assert "no --trust anchors" in untrusted.stderr

    plain = run_cli("verify", str(src), "--trust", str(dev.root_cert))
    assert plain.returncode == 2 and "not-labelled" in plain.stdout

    # several files: the highest code wins
    both = run_cli("verify", str(dst), str(src), "--trust", str(dev.root_cert))
    assert both.returncode == 2
    assert both.stdout.count("\n") >= 2


def test_verify_invalid_is_3(files, dev, labeler):
    signed = bytearray(labeler.label_image(files / "plain.jpg").data)
    signed[-200] ^= 0xFF
    bad = files / "tampered.jpg"
    bad.write_bytes(bytes(signed))
    proc = run_cli("verify", str(bad), "--trust", str(dev.root_cert))
    assert proc.returncode == 3
    assert "invalid" in proc.stdout and "dataHash.mismatch" in proc.stdout


def test_verify_json_lines(files, dev):
    proc = run_cli("verify", "--json", str(files), "--trust", str(dev.root_cert))
    reports = [json.loads(line) for line in proc.stdout.splitlines()]
    assert reports and all(r["schema"] == "aimark.report" for r in reports)
    by_name = {os.path.basename(r["source"]): r for r in reports}
    assert by_name["plain.jpg"]["verdict"]["status"] == "not-labelled"


def test_label_refuses_an_output_name_that_names_another_format(files, dev, tmp_path):
    """The destination's suffix must name the format labelling writes (an encoded input keeps
    its own): a JPEG labelled to out.png or out.dat is a clear error, and nothing is written."""
    for name, says in (("out.png", "names a PNG image, but the input is a JPEG image"),
                       ("out.dat", ".dat is not an image format aimark writes")):  # fmt: skip
        refused = run_cli(*label_args(dev, files / "plain.jpg", tmp_path / name))
        assert refused.returncode == 4 and says in refused.stderr, refused.stderr
        assert_clean_failure(refused)
        assert not (tmp_path / name).exists() and list(tmp_path.iterdir()) == []
    matching = run_cli(*label_args(dev, files / "plain.jpg", tmp_path / "out.jpeg"))
    assert matching.returncode == 0 and "note" not in matching.stderr


def test_label_in_place_and_json(files, dev, tmp_path):
    src = tmp_path / "p.png"
    src.write_bytes(encode(natural_image(), "png"))
    refused = run_cli(*label_args(dev, src, src))
    assert refused.returncode == 4
    assert_clean_failure(refused)
    proc = run_cli(
        "label",
        str(src),
        "--in-place",
        "--json",
        "--cert",
        str(dev.cert_chain),
        "--key",
        str(dev.private_key),
        "--model",
        "m",
        "--no-training",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["layers"] == ["xmp", "exif", "c2pa"] and out["content_id"].startswith("urn:uuid:")
    assert run_cli("verify", str(src), "--trust", str(dev.root_cert)).returncode == 0


def test_label_needs_credentials_and_output(files, monkeypatch):
    monkeypatch.delenv("AIMARK_CERT", raising=False)
    monkeypatch.delenv("AIMARK_KEY", raising=False)
    proc = run_cli("label", str(files / "plain.jpg"), "-o", "x.jpg", "--model", "m")
    assert proc.returncode == 64
    assert "credentials dev" in proc.stderr
    assert_clean_failure(proc)
    proc = run_cli("label", str(files / "plain.jpg"), "--model", "m")
    assert proc.returncode == 64


def test_label_bad_source_type_and_wrong_key(files, dev, tmp_path):
    proc = run_cli(*label_args(dev, files / "plain.jpg", tmp_path / "o.jpg", "--source-type", "x"))
    assert proc.returncode == 64 and "unknown IPTC digital source type" in proc.stderr
    other = run_cli("credentials", "dev", str(tmp_path / "other"))
    assert other.returncode == 0
    proc = run_cli(
        "label",
        str(files / "plain.jpg"),
        "-o",
        str(tmp_path / "o.jpg"),
        "--cert",
        str(dev.cert_chain),
        "--key",
        str(tmp_path / "other" / "dev-signer.key"),
        "--model",
        "m",
    )
    assert proc.returncode == 4 and "does not match" in proc.stderr
    assert_clean_failure(proc)


def test_credentials_dev(tmp_path):
    target = tmp_path / "creds"
    proc = run_cli("credentials", "dev", str(target))
    assert proc.returncode == 0
    assert "DEVELOPMENT ONLY" in proc.stdout and "--trust" in proc.stdout
    key = target / "dev-signer.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    again = run_cli("credentials", "dev", str(target))
    assert again.returncode == 4 and "refusing to overwrite" in again.stderr
    assert run_cli("credentials", "dev", str(target), "--force", "--alg", "ed25519").returncode == 0


def test_credentials_dev_folder_is_private_under_any_umask(tmp_path):
    """The folder that holds the signing key is created 0700 even under umask 000."""
    target = tmp_path / "open" / "creds"
    proc = subprocess.run(
        ["sh", "-c", 'umask 000 && exec "$0" -m aimark credentials dev "$1"', sys.executable,
         str(target)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert stat.S_IMODE((target / "dev-signer.key").stat().st_mode) == 0o600


_KILLED_WRITER = """
import os, signal, sys
from aimark.media.output import PendingWrite
PendingWrite(sys.argv[1], b"half of an output")  # complete temporary, never renamed
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_writers_temporary_is_removed_by_the_next_label(files, dev, tmp_path):
    """kill -9 between writing and renaming leaves a hidden .NAME.PID.XXXXXXXX.tmp; the next
    write to that destination removes it once its process is gone (and it is a minute old),
    and leaves a live writer's temporary alone."""
    dst = tmp_path / "out.jpg"
    killed = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(dst)], timeout=60)
    assert killed.returncode == -signal.SIGKILL
    (stale,) = tmp_path.glob(".out.jpg.*.tmp")
    assert not dst.exists()
    old = time.time() - 120
    os.utime(stale, (old, old))
    live = tmp_path / f".out.jpg.{os.getpid()}.abcd1234.tmp"  # this test process: alive
    live.write_bytes(b"being written")
    os.utime(live, (old, old))
    proc = run_cli(*label_args(dev, files / "plain.jpg", dst))
    assert proc.returncode == 0, proc.stderr
    assert not stale.exists() and live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([dst.name, live.name])


def test_usage_errors_are_64():
    assert run_cli().returncode == 64
    assert run_cli("bogus").returncode == 64
    assert run_cli("verify").returncode == 64
    assert run_cli("credentials").returncode == 64
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("aimark ")


def test_keys_generate_and_watermark_round_trip(dev, tmp_path):
    from PIL import Image

    from conftest import pink_image

    key = tmp_path / "wm.key"
    proc = run_cli("keys", "generate", str(key))
    assert proc.returncode == 0 and "mode 0600" in proc.stdout
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = run_cli("keys", "generate", str(key))
    assert again.returncode == 4 and "refusing to overwrite" in again.stderr
    # detection below uses a fixed key: strength varies a little from key to key
    key = tmp_path / "fixed.key"
    aimark.WatermarkKey(b"aimark cli test key, 32 bytes!!!").save(key)
    src = tmp_path / "in.jpg"
    Image.fromarray(pink_image(360, 480, seed=9)).save(src, quality=92)
    out = tmp_path / "out.jpg"
    proc = run_cli(*label_args(dev, src, out, "--watermark-key", str(key)))
    assert proc.returncode == 0, proc.stderr
    assert "labelled (watermark, xmp, exif, c2pa)" in proc.stdout
    stripped = tmp_path / "stripped.jpg"
    Image.open(out).save(stripped, quality=80)
    found = run_cli("verify", str(stripped), "--watermark-key", str(key))
    assert found.returncode == 1
    assert "labelled-watermark" in found.stdout and "content id urn:aimark:" in found.stdout
    plain = run_cli("verify", str(src), "--watermark-key", str(key))
    assert plain.returncode == 2 and "watermark: not-detected" in plain.stdout
    bad = run_cli("verify", str(src), "--watermark-key", str(tmp_path / "missing.key"))
    assert bad.returncode == 4
    assert_clean_failure(bad)
    assert "watermark: found (io.aimark.image.3, key" in found.stdout
    only_v1 = run_cli(
        "verify",
        str(stripped),
        "--watermark-key",
        str(key),
        "--watermark-scheme",
        "io.aimark.image.1",
    )
    assert only_v1.returncode == 2 and "watermark: not-detected" in only_v1.stdout
    only_v2 = run_cli(
        "verify",
        str(stripped),
        "--watermark-key",
        str(key),
        "--watermark-scheme",
        "io.aimark.image.2",
    )
    assert only_v2.returncode == 2 and "watermark: not-detected" in only_v2.stdout
    only_v3 = run_cli(
        "verify",
        str(stripped),
        "--watermark-key",
        str(key),
        "--watermark-scheme",
        "io.aimark.image.3",
    )
    assert only_v3.returncode == 1
    unknown = run_cli("verify", str(stripped), "--watermark-scheme", "nope")
    assert unknown.returncode == 64


def test_label_notes_a_watermark_that_would_not_survive(dev, tmp_path):
    """A black image can only hold half a mark (nothing below 0): labelling says so, with the
    margin, and still labels; --json carries the check."""
    from PIL import Image

    key = tmp_path / "fixed.key"
    aimark.WatermarkKey(b"aimark cli test key, 32 bytes!!!").save(key)
    src = tmp_path / "black.png"
    Image.new("RGB", (256, 256)).save(src)
    out = tmp_path / "black.labelled.png"
    proc = run_cli(*label_args(dev, src, out, "--watermark-key", str(key)))
    assert proc.returncode == 0, proc.stderr
    assert "note: the invisible watermark was embedded but would not survive a JPEG 75" in (
        proc.stderr
    )
    assert "too dark" in proc.stderr and "--watermark-strength" in proc.stderr
    again = run_cli(
        *label_args(dev, src, tmp_path / "again.png", "--watermark-key", str(key), "--json")
    )
    check = json.loads(again.stdout)["watermark"]["check"]
    assert check["survived"] is False and check["margin_db"] < 0 and check["jpeg_quality"] == 75
    weak = run_cli(*label_args(dev, src, tmp_path / "x.png", "--watermark-strength", "0"))
    assert weak.returncode == 64 and "--watermark-strength must be positive" in weak.stderr
